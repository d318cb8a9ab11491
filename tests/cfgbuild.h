/*
 * Test helper: build PCI configuration images in code, byte by byte,
 * so each test states the device it describes.
 */
#ifndef HQIO_TEST_CFGBUILD_H
#define HQIO_TEST_CFGBUILD_H

#include <stdint.h>
#include <stddef.h>

struct cfgb {
	uint8_t cfg[4096];
	uint16_t last_std;  /* offset of the last standard capability (0 = none) */
	uint16_t last_ext;  /* offset of the last extended capability (0 = none) */
};

void cfgb_w8(struct cfgb *b, size_t off, uint8_t v);
void cfgb_w16(struct cfgb *b, size_t off, uint16_t v);
void cfgb_w32(struct cfgb *b, size_t off, uint32_t v);

/* Header with IDs, class (base<<16|sub<<8|prog) and header type (incl. MFD bit). */
void cfgb_init(struct cfgb *b, uint16_t vendor, uint16_t device, uint32_t class_code,
	       uint8_t header_type);
/* Append a standard capability at off with the given ID; links it after
 * the previous one (or from 0x34) and sets Status.CapList. */
void cfgb_cap(struct cfgb *b, uint16_t off, uint8_t id);
/* Append an extended capability header at off (>= 0x100). */
void cfgb_ext(struct cfgb *b, uint16_t off, uint16_t id, uint8_t version);

#endif
