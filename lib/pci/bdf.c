/*
 * PCI addresses: parsing and formatting of domain:bus:device.function and
 * the 16-bit Routing ID (PCIe 5.0 §2.2.4.2).
 */
#include "hqio/pci.h"

#include <errno.h>
#include <stdio.h>

#include "text.h"

/* Parse up to maxdigits hex digits (at least one); advance *p. */
static int parse_hex(const char **p, unsigned maxdigits, uint32_t *out)
{
	uint32_t v = 0;
	unsigned n = 0;
	int d;

	while (n < maxdigits && (d = hqio_hexval((unsigned char)**p)) >= 0) {
		v = v << 4 | (uint32_t)d;
		(*p)++;
		n++;
	}
	if (n == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int hqio_bdf_parse(const char *s, struct hqio_bdf *out)
{
	uint32_t a, b, dev, fn, dom = 0, bus;
	const char *p = s;

	if (!s || !out)
		return -EINVAL;
	if (parse_hex(&p, 8, &a) || *p++ != ':')
		return -EINVAL;
	if (parse_hex(&p, 2, &b))
		return -EINVAL;
	if (*p == ':') { /* domain:bus:dev.fn */
		p++;
		dom = a;
		bus = b;
		if (parse_hex(&p, 2, &dev))
			return -EINVAL;
	} else { /* bus:dev.fn */
		if (a > 0xff)
			return -EINVAL;
		bus = a;
		dev = b;
	}
	if (*p++ != '.' || parse_hex(&p, 1, &fn) || *p != '\0')
		return -EINVAL;
	if (dev > 31 || fn > 7)
		return -EINVAL;
	out->domain = dom;
	out->bus = (uint8_t)bus;
	out->dev = (uint8_t)dev;
	out->fn = (uint8_t)fn;
	return 0;
}

const char *hqio_bdf_format(struct hqio_bdf bdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", (unsigned)bdf.domain, bdf.bus, bdf.dev, bdf.fn);
	return buf;
}

int hqio_bdf_cmp(struct hqio_bdf a, struct hqio_bdf b)
{
	if (a.domain != b.domain)
		return a.domain < b.domain ? -1 : 1;
	int ra = hqio_bdf_rid(a), rb = hqio_bdf_rid(b);
	return ra < rb ? -1 : ra > rb;
}

uint16_t hqio_bdf_rid(struct hqio_bdf bdf)
{
	return (uint16_t)(bdf.bus << 8 | (bdf.dev & 0x1f) << 3 | (bdf.fn & 7));
}

struct hqio_bdf hqio_bdf_from_rid(uint32_t domain, uint16_t rid)
{
	struct hqio_bdf b = {
		.domain = domain,
		.bus = (uint8_t)(rid >> 8),
		.dev = (uint8_t)((rid >> 3) & 0x1f),
		.fn = (uint8_t)(rid & 7),
	};
	return b;
}
