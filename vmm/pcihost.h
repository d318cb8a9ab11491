/*
 * The monitor's virtual PCI host bridge: configuration mechanism #1
 * (ports 0xCF8/0xCFC, PCI Local Bus Spec 3.0, 3.2.2.3.2) and an ECAM window
 * (PCIe Base Spec 6.0, 7.2.2) for bus 0. Device 00:00.0 is the bridge
 * itself; every other address goes to a callback (the assigned functions,
 * through lib/vpci) or reads all-ones. Pure decoding, no I/O: the monitor
 * feeds it its port and MMIO exits.
 */
#ifndef HQIO_VMM_PCIHOST_H
#define HQIO_VMM_PCIHOST_H

#include <stdbool.h>
#include <stdint.h>

#define HQIO_PCIHOST_CF8 0xCF8
#define HQIO_PCIHOST_CFC 0xCFC
/* ECAM base as QEMU's q35 (hw/pci-host/q35.h, PCIEXBAR default); bus 0
 * only: 32 devices x 8 functions x 4 KiB. */
#define HQIO_PCIHOST_ECAM_BASE	0xB0000000ull
#define HQIO_PCIHOST_ECAM_BYTES (1u << 20)

/* A configuration access to a function other than the bridge: off < 4096,
 * size 1/2/4, naturally aligned. Return false when no function is there. */
typedef bool (*hqio_pcihost_cfg_fn)(void *arg, uint16_t bdf, uint16_t off, unsigned size,
				    bool write, uint32_t *val);

struct hqio_pcihost_stats {
	uint64_t cf8_writes, cf8_reads; /* address register */
	uint64_t cfc_accesses;		/* data port accesses that were config accesses */
	uint64_t ecam_accesses;
	uint64_t bridge_accesses; /* to 00:00.0 */
	uint64_t absent;	  /* to no function (all-ones) */
	uint64_t malformed;	  /* misaligned/disabled, ignored */
};

struct hqio_pcihost {
	uint32_t cf8; /* the address latch */
	uint64_t ecam_base;
	uint8_t bridge[256]; /* the bridge's header (read-only) */
	hqio_pcihost_cfg_fn cfg;
	void *arg;
	struct hqio_pcihost_stats stats;
};

void hqio_pcihost_init(struct hqio_pcihost *h, uint64_t ecam_base, hqio_pcihost_cfg_fn cfg,
		       void *arg);

/* Decode a data-port access under latch cf8: true (and bdf/off) when it is
 * a configuration access (enable bit set, the access within one dword). */
bool hqio_pcihost_cf8_decode(uint32_t cf8, uint16_t port, unsigned size, uint16_t *bdf,
			     uint16_t *off);

/* A port access; false when the port is not the bridge's (0xCF8 as a
 * 32-bit access, 0xCFC-0xCFF). */
bool hqio_pcihost_pio(struct hqio_pcihost *h, uint16_t port, unsigned size, bool write,
		      uint32_t *val);

/* An MMIO access; false when gpa is outside the ECAM window. */
bool hqio_pcihost_ecam(struct hqio_pcihost *h, uint64_t gpa, unsigned size, bool write,
		       uint32_t *val);

#endif
