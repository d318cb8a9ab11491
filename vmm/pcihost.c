/*
 * Virtual PCI host bridge (see pcihost.h): CF8/CFC and ECAM decoding and
 * the bridge's own header at 00:00.0.
 */
#include "pcihost.h"

#include <string.h>

/* QEMU's PCIe host bridge IDs (QEMU docs/specs/pci-ids.rst: 1b36:0008),
 * class 06/00/00 host bridge (PCI Code and ID Assignment Spec 1.11, 1.7). */
#define BRIDGE_VENDOR 0x1b36
#define BRIDGE_DEVICE 0x0008
#define BRIDGE_CLASS  0x060000

void hqio_pcihost_init(struct hqio_pcihost *h, uint64_t ecam_base, hqio_pcihost_cfg_fn cfg,
		       void *arg)
{
	memset(h, 0, sizeof(*h));
	h->ecam_base = ecam_base;
	h->cfg = cfg;
	h->arg = arg;
	uint8_t *b = h->bridge;
	b[0x00] = BRIDGE_VENDOR & 0xff;
	b[0x01] = BRIDGE_VENDOR >> 8;
	b[0x02] = BRIDGE_DEVICE & 0xff;
	b[0x03] = BRIDGE_DEVICE >> 8;
	b[0x06] = 0x00; /* Status: no capabilities */
	b[0x09] = BRIDGE_CLASS & 0xff;
	b[0x0a] = (BRIDGE_CLASS >> 8) & 0xff;
	b[0x0b] = BRIDGE_CLASS >> 16;
	b[0x0e] = 0x00; /* header type 0, single function */
}

bool hqio_pcihost_cf8_decode(uint32_t cf8, uint16_t port, unsigned size, uint16_t *bdf,
			     uint16_t *off)
{
	if (!(cf8 & 0x80000000u) || port < HQIO_PCIHOST_CFC || port > HQIO_PCIHOST_CFC + 3)
		return false;
	unsigned byte = port - HQIO_PCIHOST_CFC;
	if ((size != 1 && size != 2 && size != 4) || byte % size || byte + size > 4)
		return false;
	*bdf = (uint16_t)((cf8 >> 8) & 0xffff); /* bus 23:16, device 15:11, function 10:8 */
	*off = (uint16_t)((cf8 & 0xfc) + byte); /* register 7:2 (bits 1:0 reserved) */
	return true;
}

static void access(struct hqio_pcihost *h, uint16_t bdf, uint16_t off, unsigned size, bool write,
		   uint32_t *val)
{
	if (bdf == 0) {
		h->stats.bridge_accesses++;
		if (!write) {
			uint32_t v = 0;
			for (unsigned i = 0; i < size; i++)
				v |= (uint32_t)(off + i < 256 ? h->bridge[off + i] : 0) << (8 * i);
			*val = v;
		}
		return; /* the bridge is read-only */
	}
	if (h->cfg && h->cfg(h->arg, bdf, off, size, write, val))
		return;
	h->stats.absent++;
	if (!write)
		*val = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

bool hqio_pcihost_pio(struct hqio_pcihost *h, uint16_t port, unsigned size, bool write,
		      uint32_t *val)
{
	if (port == HQIO_PCIHOST_CF8 && size == 4) {
		if (write) {
			h->stats.cf8_writes++;
			h->cf8 = *val & 0x80fffffcu; /* reserved bits 30:24 and 1:0 read 0 */
		} else {
			h->stats.cf8_reads++;
			*val = h->cf8;
		}
		return true;
	}
	if (port < HQIO_PCIHOST_CFC || port > HQIO_PCIHOST_CFC + 3)
		return false;
	uint16_t bdf, off;
	if (!hqio_pcihost_cf8_decode(h->cf8, port, size, &bdf, &off)) {
		h->stats.malformed++;
		if (!write)
			*val = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
		return true;
	}
	h->stats.cfc_accesses++;
	access(h, bdf, off, size, write, val);
	return true;
}

bool hqio_pcihost_ecam(struct hqio_pcihost *h, uint64_t gpa, unsigned size, bool write,
		       uint32_t *val)
{
	if (gpa < h->ecam_base || gpa - h->ecam_base >= HQIO_PCIHOST_ECAM_BYTES)
		return false;
	uint64_t rel = gpa - h->ecam_base;
	uint16_t bdf = (uint16_t)(rel >> 12); /* bus 27:20 (0 here), dev 19:15, fn 14:12 */
	uint16_t off = (uint16_t)(rel & 0xfff);
	if ((size != 1 && size != 2 && size != 4) || off % size) {
		h->stats.malformed++;
		if (!write)
			*val = 0xffffffffu;
		return true;
	}
	h->stats.ecam_accesses++;
	access(h, bdf, off, size, write, val);
	return true;
}
