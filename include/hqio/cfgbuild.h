/*
 * Build PCI configuration images in code, register by register, so that
 * tests, the demo and device models state the device they describe.
 * Writes are little-endian like configuration space; bytes that would
 * fall outside the 4 KiB image are dropped.
 */
#ifndef HQIO_CFGBUILD_H
#define HQIO_CFGBUILD_H

#include <stdint.h>
#include <stddef.h>

struct hqio_cfgb {
	uint8_t cfg[4096];
	uint16_t last_std; /* offset of the last standard capability (0 = none) */
	uint16_t last_ext; /* offset of the last extended capability (0 = none) */
};

void hqio_cfgb_w8(struct hqio_cfgb *b, size_t off, uint8_t v);
void hqio_cfgb_w16(struct hqio_cfgb *b, size_t off, uint16_t v);
void hqio_cfgb_w32(struct hqio_cfgb *b, size_t off, uint32_t v);

/* Header with IDs, class (base<<16|sub<<8|prog) and header type (incl. MFD bit). */
void hqio_cfgb_init(struct hqio_cfgb *b, uint16_t vendor, uint16_t device, uint32_t class_code,
		    uint8_t header_type);
/* Append a standard capability at off with the given ID; links it after
 * the previous one (or from 0x34) and sets Status.CapList. */
void hqio_cfgb_cap(struct hqio_cfgb *b, uint16_t off, uint8_t id);
/* Append an extended capability header at off (>= 0x100). */
void hqio_cfgb_ext(struct hqio_cfgb *b, uint16_t off, uint16_t id, uint8_t version);

#endif
