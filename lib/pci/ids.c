/*
 * Name lookups in the text of a pciutils pci.ids file (loaded by the
 * caller): vendor, device and class names. Pure code, bounded by len, a
 * linear scan per lookup.
 *
 * The file format, as documented at the top of pci.ids:
 *   vvvv  Vendor name                  (vendor section, column 0)
 *   <TAB>dddd  Device name             (belongs to the vendor above)
 *   <TAB><TAB>ssss ssss  Subsystem     (skipped here)
 *   C cc  Class name                   (class section)
 *   <TAB>ss  Subclass name
 *   <TAB><TAB>pp  Programming interface name
 *   # comment; blank lines are ignored.
 * An ID is followed by at least one space or tab (the file uses two) and a
 * non-empty name; other lines are ignored. The first match wins. A line
 * ends at '\n', a '\r' before it, a NUL byte or the end of the buffer.
 *
 * Class lookups return the subclass name for base+sub (what lspci prints
 * on its device line, e.g. 0x020000 -> "Ethernet controller"); the
 * programming interface is not consulted. When the subclass is unknown
 * the base class name is returned. A class_code above 0xffffff is not a
 * class code and gives NULL.
 */
#include "hqio/pci.h"

#include <stdint.h>
#include <string.h>

#include "text.h"

struct ids_line {
	const char *s;
	size_t len;
};

/* Advance *pos over the next line of text; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, struct ids_line *l)
{
	const char *nl;
	size_t end, i;

	if (*pos >= len)
		return false;
	nl = memchr(text + *pos, '\n', len - *pos);
	end = nl ? (size_t)(nl - text) : len;
	l->s = text + *pos;
	l->len = end - *pos;
	/* A NUL byte ends the line's content. */
	for (i = 0; i < l->len; i++) {
		if (l->s[i] == '\0') {
			l->len = i;
			break;
		}
	}
	if (l->len && l->s[l->len - 1] == '\r')
		l->len--;
	*pos = nl ? end + 1 : len;
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Comment or blank line: neither starts nor ends a vendor/class block. */
static bool is_filler(const struct ids_line *l)
{
	size_t i;

	for (i = 0; i < l->len && is_blank(l->s[i]); i++)
		;
	return i == l->len || l->s[i] == '#';
}

/* Number of leading tabs. */
static size_t tabs(const struct ids_line *l)
{
	size_t i;

	for (i = 0; i < l->len && l->s[i] == '\t'; i++)
		;
	return i;
}

/*
 * Parse "<ID><blanks><name>" at l->s[at]: exactly ndigits hex digits, at
 * least one blank, a non-empty name (trailing blanks trimmed).
 */
static bool parse_entry(const struct ids_line *l, size_t at, unsigned ndigits, uint32_t *id,
			const char **name, size_t *nlen)
{
	uint32_t v = 0;
	size_t pos = at, end;
	unsigned i;

	for (i = 0; i < ndigits; i++, pos++) {
		int d;

		if (pos >= l->len || (d = hqio_hexval((unsigned char)l->s[pos])) < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	if (pos >= l->len || !is_blank(l->s[pos]))
		return false;
	while (pos < l->len && is_blank(l->s[pos]))
		pos++;
	end = l->len;
	while (end > pos && is_blank(l->s[end - 1]))
		end--;
	if (end == pos)
		return false;
	*id = v;
	*name = l->s + pos;
	*nlen = end - pos;
	return true;
}

/* A vendor line: column 0, four hex digits. */
static bool vendor_line(const struct ids_line *l, uint32_t *id, const char **name, size_t *nlen)
{
	return parse_entry(l, 0, 4, id, name, nlen);
}

/* A class line: "C " then two hex digits. */
static bool class_line(const struct ids_line *l, uint32_t *id, const char **name, size_t *nlen)
{
	if (l->len < 2 || l->s[0] != 'C' || l->s[1] != ' ')
		return false;
	return parse_entry(l, 2, 2, id, name, nlen);
}

static const char *copy_name(const char *name, size_t nlen, char *buf, size_t buflen)
{
	if (nlen > buflen - 1)
		nlen = buflen - 1;
	memcpy(buf, name, nlen);
	buf[nlen] = '\0';
	return buf;
}

const char *hqio_ids_vendor(const char *ids, size_t len, uint16_t vendor, char *buf, size_t buflen)
{
	struct ids_line l;
	size_t pos = 0;

	if (!ids || !buf || !buflen)
		return NULL;
	while (next_line(ids, len, &pos, &l)) {
		const char *name;
		size_t nlen;
		uint32_t id;

		if (vendor_line(&l, &id, &name, &nlen) && id == vendor)
			return copy_name(name, nlen, buf, buflen);
	}
	return NULL;
}

const char *hqio_ids_device(const char *ids, size_t len, uint16_t vendor, uint16_t device,
			    char *buf, size_t buflen)
{
	bool in_vendor = false;
	struct ids_line l;
	size_t pos = 0;

	if (!ids || !buf || !buflen)
		return NULL;
	while (next_line(ids, len, &pos, &l)) {
		const char *name;
		size_t nlen;
		uint32_t id;

		if (is_filler(&l))
			continue;
		switch (tabs(&l)) {
		case 0:
			/* Any top-level line ends the previous block. */
			in_vendor = vendor_line(&l, &id, &name, &nlen) && id == vendor;
			break;
		case 1:
			if (in_vendor && parse_entry(&l, 1, 4, &id, &name, &nlen) && id == device)
				return copy_name(name, nlen, buf, buflen);
			break;
		default:
			break; /* subsystems */
		}
	}
	return NULL;
}

const char *hqio_ids_class(const char *ids, size_t len, uint32_t class_code, char *buf,
			   size_t buflen)
{
	uint32_t base = (class_code >> 16) & 0xff;
	uint32_t sub = (class_code >> 8) & 0xff;
	const char *base_name = NULL;
	size_t base_len = 0;
	bool in_class = false;
	struct ids_line l;
	size_t pos = 0;

	if (!ids || !buf || !buflen || class_code > 0xffffff)
		return NULL;
	while (next_line(ids, len, &pos, &l)) {
		const char *name;
		size_t nlen;
		uint32_t id;

		if (is_filler(&l))
			continue;
		switch (tabs(&l)) {
		case 0:
			if (in_class)
				goto done; /* the matching class block is over */
			in_class = class_line(&l, &id, &name, &nlen) && id == base;
			if (in_class) {
				base_name = name;
				base_len = nlen;
			}
			break;
		case 1:
			if (in_class && parse_entry(&l, 1, 2, &id, &name, &nlen) && id == sub)
				return copy_name(name, nlen, buf, buflen);
			break;
		default:
			break; /* programming interfaces */
		}
	}
done:
	if (base_name)
		return copy_name(base_name, base_len, buf, buflen);
	return NULL;
}
