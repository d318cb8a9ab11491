/*
 * Reader for lspci hex dumps: the text printed by `lspci -x`, `-xxx` and
 * `-xxxx` (the same format `lspci -F FILE` reads back), possibly mixed with
 * `-v`/`-vv`/`-vvv` text. Pure code: libc only, bounded by len, no globals.
 *
 * Grammar, one line at a time (a line ends at '\n'; one '\r' before it is
 * dropped; the last line needs no newline):
 *
 *   device line  "[DOMAIN:]BB:DD.F[ TITLE]"  all numbers hex. The address is
 *                recognised by its shape (hex digits, ':' and '.'), then
 *                checked: domain <= 0xffffffff, bus <= 0xff, device <= 31,
 *                function <= 7; a violation is -EINVAL naming the line.
 *   data line    "OFF: hh hh ..."  OFF is a hex offset (lspci prints 2 or 3
 *                digits), ':' then a space or the end of the line.
 *   blank line   (empty or only spaces/tabs) ends the current device.
 *   anything else (indented -v text, "lspci: ..." warnings) is skipped.
 *   Device and data lines start in column 0; NUL bytes are ordinary
 *   characters that match neither.
 *
 * Choices made where lspci leaves room:
 *   - Data bytes must be 1 to 16 tokens of exactly two hex digits, each
 *     preceded by exactly one space; trailing spaces/tabs are allowed.
 *     Anything else on a data line (a non-hex token, "0", "123", two spaces,
 *     more than 16 bytes, no bytes at all) is -EINVAL rather than lspci's
 *     silent stop at the first bad token: a half-read configuration image
 *     would otherwise be decoded as if it were complete.
 *   - A data line with no current device (before the first device line or
 *     after a blank line) is -EINVAL.
 *   - offset + bytes > 4096 is -EINVAL.
 *   - Two device lines with the same address give two entries, in input
 *     order; data lines always belong to the device line above them. A
 *     byte given twice keeps the later value.
 *   - Bytes that no data line fills read as 0; len is the highest offset
 *     filled + 1 (0 for a device line without data).
 *   - No devices at all is success with *n = 0 and *devs = NULL.
 *   - The title is the text after the space (or tab) that follows the
 *     address, cut to fit title[] and always NUL-terminated.
 */
#include "hqio/pci.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define DATA_MAX_BYTES 16

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Read a run of hex digits starting at *pos (bounded by end). Returns the
 * number of digits; the value saturates at UINT64_MAX >> 4 so that huge
 * numbers still compare as "too big" without overflowing.
 */
static size_t hex_run(const char *s, size_t end, size_t *pos, uint64_t *val)
{
	size_t start = *pos;
	uint64_t v = 0;
	int d;

	while (*pos < end && (d = hqio_hexval((unsigned char)s[*pos])) >= 0) {
		if (v <= (UINT64_MAX >> 8))
			v = v << 4 | (uint64_t)d;
		(*pos)++;
	}
	*val = v;
	return *pos - start;
}

/* The address token of a device line, before validation. */
struct addr_token {
	bool has_domain;
	uint64_t domain, bus, dev, fn;
	size_t end; /* index just after the token */
};

/*
 * Does the line look like a device line: "[hex:]hex:hex.hex" followed by a
 * space, a tab or the end of the line?
 */
static bool device_shape(const char *s, size_t len, struct addr_token *t)
{
	uint64_t a, b;
	size_t pos = 0;

	memset(t, 0, sizeof(*t));
	if (!hex_run(s, len, &pos, &a) || pos >= len || s[pos] != ':')
		return false;
	pos++;
	if (!hex_run(s, len, &pos, &b) || pos >= len)
		return false;
	if (s[pos] == ':') {
		/* domain:bus:dev.fn */
		t->has_domain = true;
		t->domain = a;
		t->bus = b;
		pos++;
		if (!hex_run(s, len, &pos, &t->dev) || pos >= len)
			return false;
	} else {
		t->bus = a;
		t->dev = b;
	}
	if (s[pos] != '.')
		return false;
	pos++;
	if (!hex_run(s, len, &pos, &t->fn))
		return false;
	if (pos < len && !is_blank((unsigned char)s[pos]))
		return false;
	t->end = pos;
	return true;
}

/* Does the line look like a data line: "hex:" then a space or the end? */
static bool data_shape(const char *s, size_t len, uint64_t *off, size_t *after)
{
	size_t pos = 0;

	if (!hex_run(s, len, &pos, off) || pos >= len || s[pos] != ':')
		return false;
	pos++;
	if (pos < len && s[pos] != ' ')
		return false;
	*after = pos;
	return true;
}

struct parser {
	struct hqio_dump_dev *devs;
	size_t n, cap;
	struct hqio_dump_dev *cur; /* device receiving data lines, or NULL */
	size_t lineno;
	struct hqio_error *err;
};

static int new_device(struct parser *p, const char *s, size_t len, const struct addr_token *t)
{
	struct hqio_dump_dev *d;
	size_t tlen = 0;

	if (t->has_domain && t->domain > UINT32_MAX)
		return hqio_error_set(p->err, -EINVAL,
				      "line %zu: PCI domain out of range (max ffffffff)",
				      p->lineno);
	if (t->bus > 0xff)
		return hqio_error_set(p->err, -EINVAL, "line %zu: bus number out of range (max ff)",
				      p->lineno);
	if (t->dev > 31)
		return hqio_error_set(p->err, -EINVAL,
				      "line %zu: device number out of range (max 1f)", p->lineno);
	if (t->fn > 7)
		return hqio_error_set(p->err, -EINVAL,
				      "line %zu: function number out of range (max 7)", p->lineno);

	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 8;
		struct hqio_dump_dev *nd;

		if (ncap < p->cap || ncap > SIZE_MAX / sizeof(*nd))
			return hqio_error_set(p->err, -ENOMEM, "line %zu: too many devices",
					      p->lineno);
		nd = realloc(p->devs, ncap * sizeof(*nd));
		if (!nd)
			return hqio_error_set(p->err, -ENOMEM, "line %zu: out of memory",
					      p->lineno);
		p->devs = nd;
		p->cap = ncap;
	}

	d = &p->devs[p->n++];
	memset(d, 0, sizeof(*d));
	d->bdf.domain = (uint32_t)t->domain;
	d->bdf.bus = (uint8_t)t->bus;
	d->bdf.dev = (uint8_t)t->dev;
	d->bdf.fn = (uint8_t)t->fn;

	/* Title: everything after the one separating space or tab. */
	if (t->end < len) {
		size_t start = t->end + 1;

		tlen = len - start;
		if (tlen > sizeof(d->title) - 1)
			tlen = sizeof(d->title) - 1;
		memcpy(d->title, s + start, tlen);
	}
	d->title[tlen] = '\0';
	p->cur = d;
	return 0;
}

static int data_line(struct parser *p, const char *s, size_t len, uint64_t off, size_t pos)
{
	uint8_t bytes[DATA_MAX_BYTES];
	size_t count = 0;
	size_t i;

	if (!p->cur)
		return hqio_error_set(
			p->err, -EINVAL,
			p->n ? "line %zu: hex data outside a device block (after a blank line)"
			     : "line %zu: hex data before any device line",
			p->lineno);
	if (off >= HQIO_PCI_CFG_EXP_SIZE)
		return hqio_error_set(p->err, -EINVAL,
				      "line %zu: offset beyond configuration space (max fff)",
				      p->lineno);

	/* Bytes: " hh" repeated; then nothing but spaces/tabs. */
	while (pos < len) {
		int hi, lo;

		if (s[pos] != ' ')
			break;
		/* A space followed only by blanks is trailing whitespace. */
		if (pos + 1 >= len || is_blank((unsigned char)s[pos + 1]))
			break;
		if (count == DATA_MAX_BYTES)
			return hqio_error_set(p->err, -EINVAL,
					      "line %zu: more than %d bytes on a data line",
					      p->lineno, DATA_MAX_BYTES);
		if (pos + 2 >= len)
			return hqio_error_set(p->err, -EINVAL,
					      "line %zu: byte %zu is not two hex digits", p->lineno,
					      count + 1);
		hi = hqio_hexval((unsigned char)s[pos + 1]);
		lo = hqio_hexval((unsigned char)s[pos + 2]);
		if (hi < 0 || lo < 0 || (pos + 3 < len && !is_blank((unsigned char)s[pos + 3])))
			return hqio_error_set(p->err, -EINVAL,
					      "line %zu: byte %zu is not two hex digits", p->lineno,
					      count + 1);
		bytes[count++] = (uint8_t)(hi << 4 | lo);
		pos += 3;
	}
	for (; pos < len; pos++) {
		if (!is_blank((unsigned char)s[pos]))
			return hqio_error_set(p->err, -EINVAL,
					      "line %zu: unexpected text after byte %zu", p->lineno,
					      count);
	}
	if (!count)
		return hqio_error_set(p->err, -EINVAL, "line %zu: data line without bytes",
				      p->lineno);
	if (off + count > HQIO_PCI_CFG_EXP_SIZE)
		return hqio_error_set(p->err, -EINVAL,
				      "line %zu: %zu bytes at 0x%llx run past offset fff",
				      p->lineno, count, (unsigned long long)off);

	for (i = 0; i < count; i++)
		p->cur->cfg[off + i] = bytes[i];
	if (off + count > p->cur->len)
		p->cur->len = (size_t)off + count;
	return 0;
}

static int parse_line(struct parser *p, const char *s, size_t len)
{
	struct addr_token t;
	uint64_t off;
	size_t pos, i;

	for (i = 0; i < len && is_blank((unsigned char)s[i]); i++)
		;
	if (i == len) {
		p->cur = NULL;
		return 0;
	}
	if (device_shape(s, len, &t))
		return new_device(p, s, len, &t);
	if (data_shape(s, len, &off, &pos))
		return data_line(p, s, len, off, pos);
	return 0; /* -v text or anything else lspci would ignore */
}

int hqio_lspci_parse(const char *text, size_t len, struct hqio_dump_dev **devs, size_t *n,
		     struct hqio_error *err)
{
	struct parser p = { .err = err };
	size_t pos = 0;
	int rc = 0;

	hqio_error_clear(err);
	if (devs)
		*devs = NULL;
	if (n)
		*n = 0;
	if (!devs || !n || (!text && len))
		return hqio_error_set(err, -EINVAL, "hqio_lspci_parse: invalid arguments");

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t llen = end - pos;

		if (llen && text[pos + llen - 1] == '\r')
			llen--;
		p.lineno++;
		rc = parse_line(&p, text + pos, llen);
		if (rc < 0) {
			free(p.devs);
			return rc;
		}
		pos = nl ? end + 1 : len;
	}

	if (!p.n) {
		free(p.devs);
		return 0;
	}
	*devs = p.devs;
	*n = p.n;
	return 0;
}
