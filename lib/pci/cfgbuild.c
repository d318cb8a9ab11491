/* Configuration image builder (see hqio/cfgbuild.h). */
#include "hqio/cfgbuild.h"
#include "hqio/pci.h"

#include <string.h>

void hqio_cfgb_w8(struct hqio_cfgb *b, size_t off, uint8_t v)
{
	if (off < sizeof(b->cfg))
		b->cfg[off] = v;
}

void hqio_cfgb_w16(struct hqio_cfgb *b, size_t off, uint16_t v)
{
	hqio_cfgb_w8(b, off, (uint8_t)v);
	hqio_cfgb_w8(b, off + 1, (uint8_t)(v >> 8));
}

void hqio_cfgb_w32(struct hqio_cfgb *b, size_t off, uint32_t v)
{
	hqio_cfgb_w16(b, off, (uint16_t)v);
	hqio_cfgb_w16(b, off + 2, (uint16_t)(v >> 16));
}

void hqio_cfgb_init(struct hqio_cfgb *b, uint16_t vendor, uint16_t device, uint32_t class_code,
		    uint8_t header_type)
{
	memset(b, 0, sizeof(*b));
	hqio_cfgb_w16(b, 0x00, vendor);
	hqio_cfgb_w16(b, 0x02, device);
	hqio_cfgb_w8(b, 0x09, (uint8_t)class_code);
	hqio_cfgb_w8(b, 0x0a, (uint8_t)(class_code >> 8));
	hqio_cfgb_w8(b, 0x0b, (uint8_t)(class_code >> 16));
	hqio_cfgb_w8(b, 0x0e, header_type);
}

void hqio_cfgb_cap(struct hqio_cfgb *b, uint16_t off, uint8_t id)
{
	hqio_cfgb_w8(b, off, id);
	hqio_cfgb_w8(b, off + 1, 0);
	hqio_cfgb_w8(b, b->last_std ? b->last_std + 1u : 0x34u, (uint8_t)off);
	b->cfg[0x06] |= 0x10;
	b->last_std = off;
}

void hqio_cfgb_ext(struct hqio_cfgb *b, uint16_t off, uint16_t id, uint8_t version)
{
	uint32_t h = id | ((uint32_t)(version & 0xf) << 16);
	hqio_cfgb_w32(b, off, h);
	if (b->last_ext) {
		uint32_t p;
		hqio_cfg_r32(b->cfg, sizeof(b->cfg), b->last_ext, &p);
		p = (p & 0x000fffffu) | ((uint32_t)off << 20);
		hqio_cfgb_w32(b, b->last_ext, p);
	}
	b->last_ext = off;
}
