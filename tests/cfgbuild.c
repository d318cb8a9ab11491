#include "cfgbuild.h"

#include <string.h>

void cfgb_w8(struct cfgb *b, size_t off, uint8_t v)
{
	b->cfg[off] = v;
}

void cfgb_w16(struct cfgb *b, size_t off, uint16_t v)
{
	b->cfg[off] = (uint8_t)v;
	b->cfg[off + 1] = (uint8_t)(v >> 8);
}

void cfgb_w32(struct cfgb *b, size_t off, uint32_t v)
{
	cfgb_w16(b, off, (uint16_t)v);
	cfgb_w16(b, off + 2, (uint16_t)(v >> 16));
}

void cfgb_init(struct cfgb *b, uint16_t vendor, uint16_t device, uint32_t class_code,
	       uint8_t header_type)
{
	memset(b, 0, sizeof(*b));
	cfgb_w16(b, 0x00, vendor);
	cfgb_w16(b, 0x02, device);
	cfgb_w8(b, 0x09, (uint8_t)class_code);
	cfgb_w8(b, 0x0a, (uint8_t)(class_code >> 8));
	cfgb_w8(b, 0x0b, (uint8_t)(class_code >> 16));
	cfgb_w8(b, 0x0e, header_type);
}

void cfgb_cap(struct cfgb *b, uint16_t off, uint8_t id)
{
	b->cfg[off] = id;
	b->cfg[off + 1] = 0;
	if (b->last_std)
		b->cfg[b->last_std + 1] = (uint8_t)off;
	else
		b->cfg[0x34] = (uint8_t)off;
	b->cfg[0x06] |= 0x10;
	b->last_std = off;
}

void cfgb_ext(struct cfgb *b, uint16_t off, uint16_t id, uint8_t version)
{
	uint32_t h = id | ((uint32_t)(version & 0xf) << 16);
	cfgb_w32(b, off, h);
	if (b->last_ext) {
		uint32_t p = (uint32_t)b->cfg[b->last_ext] | (uint32_t)b->cfg[b->last_ext + 1] << 8 |
			     (uint32_t)b->cfg[b->last_ext + 2] << 16 |
			     (uint32_t)b->cfg[b->last_ext + 3] << 24;
		p = (p & 0x000fffffu) | ((uint32_t)off << 20);
		cfgb_w32(b, b->last_ext, p);
	}
	b->last_ext = off;
}
