/*
 * Tests for hqio_lspci_parse(): the text of `lspci -x/-xxx/-xxxx` dumps,
 * alone or mixed with -v text, with the odd line endings, buffers and
 * broken inputs a file from elsewhere can have.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hqio/pci.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

/* A growable text buffer (never NUL-terminated as far as the parser is
 * concerned: tests pass .len). */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int need;

	va_start(ap, fmt);
	need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	assert_true(need >= 0);
	if (b->len + (size_t)need + 1 > b->cap) {
		size_t ncap = (b->len + (size_t)need + 1) * 2;

		b->p = realloc(b->p, ncap);
		assert_non_null(b->p);
		b->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)need;
}

/* The byte the synthetic dumps hold at offset i. */
static uint8_t pattern(size_t i, unsigned seed)
{
	return (uint8_t)(i * 7 + (i >> 8) + seed * 13 + 1);
}

/* Append data lines the way lspci prints them: "%02x:" then 16 bytes. */
static void sb_dump(struct sbuf *b, size_t len, unsigned seed, const char *eol)
{
	size_t off, i;

	for (off = 0; off < len; off += 16) {
		sb_printf(b, "%02zx:", off);
		for (i = 0; i < 16 && off + i < len; i++)
			sb_printf(b, " %02x", pattern(off + i, seed));
		sb_printf(b, "%s", eol);
	}
}

static void assert_pattern(const struct hqio_dump_dev *d, size_t len, unsigned seed)
{
	size_t i;

	assert_int_equal(d->len, len);
	for (i = 0; i < len; i++) {
		if (d->cfg[i] != pattern(i, seed))
			fail_msg("byte 0x%zx: got 0x%02x, want 0x%02x", i, d->cfg[i],
				 pattern(i, seed));
	}
	for (; i < sizeof(d->cfg); i++) {
		if (d->cfg[i] != 0)
			fail_msg("byte 0x%zx past len is 0x%02x, want 0", i, d->cfg[i]);
	}
}

static void assert_bdf(const struct hqio_dump_dev *d, uint32_t domain, uint8_t bus, uint8_t dev,
		       uint8_t fn)
{
	assert_int_equal(d->bdf.domain, domain);
	assert_int_equal(d->bdf.bus, bus);
	assert_int_equal(d->bdf.dev, dev);
	assert_int_equal(d->bdf.fn, fn);
}

/* Parse a C string (without its NUL). */
static int parse_str(const char *s, struct hqio_dump_dev **devs, size_t *n, struct hqio_error *err)
{
	return hqio_lspci_parse(s, strlen(s), devs, n, err);
}

/* Parse a C string that must fail with -EINVAL naming the given line. */
static void assert_fails_at(const char *s, unsigned line)
{
	struct hqio_dump_dev *devs = (void *)1;
	struct hqio_error err = { 0 };
	char want[32];
	size_t n = 99;

	assert_int_equal(parse_str(s, &devs, &n, &err), -EINVAL);
	assert_null(devs);
	assert_int_equal(n, 0);
	assert_int_equal(err.code, -EINVAL);
	snprintf(want, sizeof(want), "line %u:", line);
	if (strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", err.msg, want);
}

/* ------------------------------------------------------------------ */
/* Dump sizes                                                           */
/* ------------------------------------------------------------------ */

static void test_single_device_x_64_bytes(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	sb_printf(&b, "00:1f.3 Audio device: Intel Corporation Device 7a50 (rev 11)\n");
	sb_dump(&b, 64, 0, "\n");
	assert_int_equal(hqio_lspci_parse(b.p, b.len, &devs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_bdf(&devs[0], 0, 0, 0x1f, 3);
	assert_string_equal(devs[0].title, "Audio device: Intel Corporation Device 7a50 (rev 11)");
	assert_pattern(&devs[0], 64, 0);
	free(devs);
	free(b.p);
}

static void test_single_device_xxx_256_bytes(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	sb_printf(&b, "03:00.0 Ethernet controller: Intel Corporation I210\n");
	sb_dump(&b, 256, 1, "\n");
	assert_int_equal(hqio_lspci_parse(b.p, b.len, &devs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_bdf(&devs[0], 0, 3, 0, 0);
	assert_pattern(&devs[0], 256, 1);
	free(devs);
	free(b.p);
}

static void test_single_device_xxxx_4096_bytes_three_digit_offsets(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	sb_printf(&b, "01:00.0 Non-Volatile memory controller: Samsung Electronics Co Ltd\n");
	sb_dump(&b, 4096, 2, "\n");
	/* the generator really printed 3-digit offsets */
	assert_non_null(strstr(b.p, "\n100: "));
	assert_non_null(strstr(b.p, "\nff0: "));
	assert_int_equal(hqio_lspci_parse(b.p, b.len, &devs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_pattern(&devs[0], 4096, 2);
	assert_int_equal(devs[0].cfg[0xfff], pattern(0xfff, 2));
	free(devs);
	free(b.p);
}

static void test_len_is_highest_offset_filled_plus_one(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00:00.0 Host bridge\n"
				   "00: 86 80\n"
				   "40: 01 02 03\n",
				   &devs, &n, &err),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(devs[0].len, 0x43);
	assert_int_equal(devs[0].cfg[0], 0x86);
	assert_int_equal(devs[0].cfg[1], 0x80);
	assert_int_equal(devs[0].cfg[2], 0);
	assert_int_equal(devs[0].cfg[0x3f], 0);
	assert_int_equal(devs[0].cfg[0x40], 1);
	assert_int_equal(devs[0].cfg[0x41], 2);
	assert_int_equal(devs[0].cfg[0x42], 3);
	free(devs);
}

static void test_data_lines_out_of_order_fill_their_offsets(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00:00.0 x\n"
				   "ff0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 aa\n"
				   "00: 11 22\n",
				   &devs, &n, &err),
			 0);
	assert_int_equal(devs[0].len, 0x1000);
	assert_int_equal(devs[0].cfg[0xfff], 0xaa);
	assert_int_equal(devs[0].cfg[0], 0x11);
	assert_int_equal(devs[0].cfg[1], 0x22);
	free(devs);
}

static void test_repeated_offset_keeps_later_bytes(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00:00.0 x\n00: 01 02 03\n00: 0a 0b\n", &devs, &n, &err), 0);
	assert_int_equal(devs[0].len, 3);
	assert_int_equal(devs[0].cfg[0], 0x0a);
	assert_int_equal(devs[0].cfg[1], 0x0b);
	assert_int_equal(devs[0].cfg[2], 0x03);
	free(devs);
}

static void test_uppercase_hex_accepted(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("0A:1F.7 x\nF0: AB Cd eF\n", &devs, &n, &err), 0);
	assert_bdf(&devs[0], 0, 0x0a, 0x1f, 7);
	assert_int_equal(devs[0].len, 0xf3);
	assert_int_equal(devs[0].cfg[0xf0], 0xab);
	assert_int_equal(devs[0].cfg[0xf1], 0xcd);
	assert_int_equal(devs[0].cfg[0xf2], 0xef);
	free(devs);
}

/* ------------------------------------------------------------------ */
/* Several devices, addresses, titles                                   */
/* ------------------------------------------------------------------ */

static void test_several_devices_in_order(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	sb_printf(&b, "00:00.0 Host bridge: Intel Corporation Device 0d57\n");
	sb_dump(&b, 64, 10, "\n");
	sb_printf(&b, "\n00:01.0 PCI bridge: Intel Corporation Device 0d58\n");
	sb_dump(&b, 256, 11, "\n");
	sb_printf(&b, "\n02:00.1 Ethernet controller: Intel Corporation Device 1563\n");
	sb_dump(&b, 4096, 12, "\n");
	sb_printf(&b, "\n");
	assert_int_equal(hqio_lspci_parse(b.p, b.len, &devs, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_bdf(&devs[0], 0, 0, 0, 0);
	assert_bdf(&devs[1], 0, 0, 1, 0);
	assert_bdf(&devs[2], 0, 2, 0, 1);
	assert_string_equal(devs[1].title, "PCI bridge: Intel Corporation Device 0d58");
	assert_pattern(&devs[0], 64, 10);
	assert_pattern(&devs[1], 256, 11);
	assert_pattern(&devs[2], 4096, 12);
	free(devs);
	free(b.p);
}

static void test_many_devices_grow_the_array(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	unsigned i;
	size_t n;

	(void)state;
	for (i = 0; i < 200; i++) {
		sb_printf(&b, "%02x:%02x.%x Dev %u\n", i >> 3, i & 31, i & 7, i);
		sb_printf(&b, "00: %02x %02x\n\n", i & 0xff, ~i & 0xff);
	}
	assert_int_equal(hqio_lspci_parse(b.p, b.len, &devs, &n, &err), 0);
	assert_int_equal(n, 200);
	for (i = 0; i < 200; i++) {
		char title[16];

		assert_bdf(&devs[i], 0, (uint8_t)(i >> 3), (uint8_t)(i & 31), (uint8_t)(i & 7));
		assert_int_equal(devs[i].len, 2);
		assert_int_equal(devs[i].cfg[0], i & 0xff);
		assert_int_equal(devs[i].cfg[1], ~i & 0xff);
		snprintf(title, sizeof(title), "Dev %u", i);
		assert_string_equal(devs[i].title, title);
	}
	free(devs);
	free(b.p);
}

static void test_device_line_without_blank_separator_starts_new_device(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00:00.0 a\n00: 01\n00:01.0 b\n00: 02 03\n", &devs, &n, &err),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(devs[0].len, 1);
	assert_int_equal(devs[0].cfg[0], 1);
	assert_int_equal(devs[1].len, 2);
	assert_int_equal(devs[1].cfg[0], 2);
	assert_int_equal(devs[1].cfg[1], 3);
	free(devs);
}

static void test_domain_prefix(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("0000:00:1f.3 Audio device: x\n00: 86 80\n\n"
				   "0001:c0:00.7 Bridge\n00: 01\n\n"
				   "10000:e1:1f.2 VMD domain\n00: 02\n",
				   &devs, &n, &err),
			 0);
	assert_int_equal(n, 3);
	assert_bdf(&devs[0], 0, 0, 0x1f, 3);
	assert_string_equal(devs[0].title, "Audio device: x");
	assert_bdf(&devs[1], 1, 0xc0, 0, 7);
	assert_string_equal(devs[1].title, "Bridge");
	assert_bdf(&devs[2], 0x10000, 0xe1, 0x1f, 2);
	assert_int_equal(devs[2].cfg[0], 2);
	free(devs);
}

static void test_mixed_domain_and_plain_addresses(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(
		parse_str("00:02.0 a\n00: 01\n\nffff:01:00.0 b\n00: 02\n", &devs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_bdf(&devs[0], 0, 0, 2, 0);
	assert_bdf(&devs[1], 0xffff, 1, 0, 0);
	free(devs);
}

static void test_duplicate_address_gives_two_entries(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00:03.0 first\n00: 11 11\n\n"
				   "00:03.0 second\n00: 22\n10: 33\n",
				   &devs, &n, &err),
			 0);
	assert_int_equal(n, 2);
	assert_bdf(&devs[0], 0, 0, 3, 0);
	assert_bdf(&devs[1], 0, 0, 3, 0);
	assert_string_equal(devs[0].title, "first");
	assert_int_equal(devs[0].len, 2);
	assert_int_equal(devs[0].cfg[0], 0x11);
	assert_int_equal(devs[0].cfg[1], 0x11);
	assert_string_equal(devs[1].title, "second");
	assert_int_equal(devs[1].len, 0x11);
	assert_int_equal(devs[1].cfg[0], 0x22);
	assert_int_equal(devs[1].cfg[1], 0);
	assert_int_equal(devs[1].cfg[0x10], 0x33);
	free(devs);
}

static void test_device_line_without_data_has_len_zero(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00:00.0 Host bridge\n\n00:01.0 x\n00: 5a\n", &devs, &n, &err),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(devs[0].len, 0);
	assert_int_equal(devs[0].cfg[0], 0);
	assert_int_equal(devs[1].len, 1);
	free(devs);
}

static void test_device_line_without_title(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00:1c.4\n00: 01\n", &devs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_bdf(&devs[0], 0, 0, 0x1c, 4);
	assert_string_equal(devs[0].title, "");
	assert_int_equal(devs[0].len, 1);
	free(devs);
}

static void test_long_title_is_truncated(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n, i;

	(void)state;
	sb_printf(&b, "00:00.0 ");
	for (i = 0; i < 5000; i++)
		sb_printf(&b, "%c", (char)('a' + i % 26));
	sb_printf(&b, "\n00: 42\n");
	assert_int_equal(hqio_lspci_parse(b.p, b.len, &devs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(devs[0].title), sizeof(devs[0].title) - 1);
	for (i = 0; i < sizeof(devs[0].title) - 1; i++)
		assert_int_equal(devs[0].title[i], 'a' + i % 26);
	assert_int_equal(devs[0].cfg[0], 0x42);
	free(devs);
	free(b.p);
}

static void test_very_long_verbose_line_is_skipped(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n, i;

	(void)state;
	sb_printf(&b, "00:00.0 x\n\tCapabilities: [40] ");
	for (i = 0; i < 100000; i++)
		sb_printf(&b, "%x", (unsigned)(i & 15));
	sb_printf(&b, "\n00: 42\n");
	assert_int_equal(hqio_lspci_parse(b.p, b.len, &devs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(devs[0].len, 1);
	assert_int_equal(devs[0].cfg[0], 0x42);
	free(devs);
	free(b.p);
}

/* ------------------------------------------------------------------ */
/* -v text, line endings, buffers                                       */
/* ------------------------------------------------------------------ */

/* Real `lspci -vvv -x` output from a QEMU guest (one device, verbatim). */
static const char vvv_dump[] =
	"00:01.0 Unassigned class [ffff]: Red Hat, Inc. Virtio 1.0 memory balloon (rev 01)\n"
	"\tSubsystem: Red Hat, Inc. Virtio 1.0 memory balloon\n"
	"\tControl: I/O- Mem+ BusMaster+ SpecCycle- MemWINV- VGASnoop- ParErr- Stepping- SERR- "
	"FastB2B- DisINTx+\n"
	"\tStatus: Cap+ 66MHz- UDF- FastB2B- ParErr- DEVSEL=fast >TAbort- <TAbort- <MAbort- "
	">SERR- <PERR- INTx-\n"
	"\tLatency: 0\n"
	"\tRegion 0: Memory at 4000000000 (64-bit, non-prefetchable) [size=512K]\n"
	"\tCapabilities: [40] Vendor Specific Information: VirtIO: CommonCfg\n"
	"\t\tBAR=0 offset=00000000 size=00000038\n"
	"\tCapabilities: [98] MSI-X: Enable+ Count=5 Masked-\n"
	"\t\tVector table: BAR=0 offset=00008000\n"
	"\t\tPBA: BAR=0 offset=00048000\n"
	"\tKernel driver in use: virtio-pci\n"
	"00: f4 1a 45 10 06 04 10 00 01 00 ff ff 00 00 00 00\n"
	"10: 04 00 00 00 40 00 00 00 00 00 00 00 00 00 00 00\n"
	"20: 00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 45 10\n"
	"30: 00 00 00 00 40 00 00 00 00 00 00 00 00 00 00 00\n"
	"\n";

static void test_verbose_text_is_skipped(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str(vvv_dump, &devs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_bdf(&devs[0], 0, 0, 1, 0);
	assert_string_equal(devs[0].title, "Unassigned class [ffff]: Red Hat, Inc. Virtio 1.0 "
					   "memory balloon (rev 01)");
	assert_int_equal(devs[0].len, 64);
	assert_int_equal(devs[0].cfg[0x00], 0xf4);
	assert_int_equal(devs[0].cfg[0x01], 0x1a);
	assert_int_equal(devs[0].cfg[0x02], 0x45);
	assert_int_equal(devs[0].cfg[0x03], 0x10);
	assert_int_equal(devs[0].cfg[0x0a], 0xff);
	assert_int_equal(devs[0].cfg[0x10], 0x04);
	assert_int_equal(devs[0].cfg[0x14], 0x40);
	assert_int_equal(devs[0].cfg[0x2c], 0xf4);
	assert_int_equal(devs[0].cfg[0x2f], 0x10);
	assert_int_equal(devs[0].cfg[0x34], 0x40);
	assert_int_equal(devs[0].cfg[0x3f], 0x00);
	free(devs);
}

static void test_unindented_non_hex_text_is_skipped(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("lspci: Unable to load libkmod resources: error -2\n"
				   "00:00.0 x\n"
				   "Control: I/O- Mem+\n"
				   "00: 01 02\n"
				   "Capabilities: <access denied>\n"
				   "10: 03\n",
				   &devs, &n, &err),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(devs[0].len, 0x11);
	assert_int_equal(devs[0].cfg[0], 1);
	assert_int_equal(devs[0].cfg[1], 2);
	assert_int_equal(devs[0].cfg[0x10], 3);
	free(devs);
}

static void test_crlf_line_endings(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	sb_printf(&b, "00:1f.3 Audio device\r\n");
	sb_dump(&b, 256, 3, "\r\n");
	sb_printf(&b, "\r\n0000:00:02.0 VGA compatible controller\r\n");
	sb_dump(&b, 64, 4, "\r\n");
	assert_int_equal(hqio_lspci_parse(b.p, b.len, &devs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(devs[0].title, "Audio device");
	assert_string_equal(devs[1].title, "VGA compatible controller");
	assert_pattern(&devs[0], 256, 3);
	assert_pattern(&devs[1], 64, 4);
	free(devs);
	free(b.p);
}

static void test_missing_final_newline(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(
		parse_str("00:00.0 x\n00: 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10\n"
			  "10: aa bb",
			  &devs, &n, &err),
		0);
	assert_int_equal(n, 1);
	assert_int_equal(devs[0].len, 0x12);
	assert_int_equal(devs[0].cfg[0x0f], 0x10);
	assert_int_equal(devs[0].cfg[0x10], 0xaa);
	assert_int_equal(devs[0].cfg[0x11], 0xbb);
	free(devs);
}

static void test_device_line_last_without_newline(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00:00.0 x\n00: 01\n\n00:07.1 last one", &devs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_bdf(&devs[1], 0, 0, 7, 1);
	assert_string_equal(devs[1].title, "last one");
	assert_int_equal(devs[1].len, 0);
	free(devs);
}

static void test_buffer_not_nul_terminated(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	char *exact;
	size_t n;

	(void)state;
	sb_printf(&b, "00:1f.3 Audio device\n");
	sb_dump(&b, 4096, 5, "\n");
	/* ends in the middle of a line right after a hex digit */
	sb_printf(&b, "\n00:1f.4 SMBus\n00: 12 3");
	exact = malloc(b.len);
	assert_non_null(exact);
	memcpy(exact, b.p, b.len); /* no NUL: ASan catches any over-read */
	assert_int_equal(hqio_lspci_parse(exact, b.len, &devs, &n, &err), -EINVAL);
	assert_null(devs);
	/* the same without the cut-off byte parses */
	assert_int_equal(hqio_lspci_parse(exact, b.len - 2, &devs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_pattern(&devs[0], 4096, 5);
	assert_int_equal(devs[1].len, 1);
	assert_int_equal(devs[1].cfg[0], 0x12);
	free(devs);
	free(exact);
	free(b.p);
}

static void test_len_limits_parsing_of_a_longer_string(void **state)
{
	static const char s[] = "00:00.0 x\n00: 01 02\n00:01.0 y\n00: 03\n";
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	/* stop right after "00: 01" */
	assert_int_equal(hqio_lspci_parse(s, 16, &devs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(devs[0].len, 1);
	assert_int_equal(devs[0].cfg[0], 1);
	assert_int_equal(devs[0].cfg[1], 0);
	free(devs);
}

static void test_trailing_whitespace_on_data_line_accepted(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00:00.0 x\n00: 01 02  \t\r\n", &devs, &n, &err), 0);
	assert_int_equal(devs[0].len, 2);
	assert_int_equal(devs[0].cfg[1], 2);
	free(devs);
}

static void test_whitespace_only_line_ends_device(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 01\n \t\n10: 02\n", 4);
}

static void test_sixteen_bytes_at_ff0_reach_the_end(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(
		parse_str("00:00.0 x\nff0: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f\n",
			  &devs, &n, &err),
		0);
	assert_int_equal(devs[0].len, 4096);
	assert_int_equal(devs[0].cfg[0xff0], 0);
	assert_int_equal(devs[0].cfg[0xfff], 0x0f);
	free(devs);
}

/* ------------------------------------------------------------------ */
/* Empty input                                                          */
/* ------------------------------------------------------------------ */

static void test_empty_input_gives_no_devices(void **state)
{
	struct hqio_dump_dev *devs = (void *)1;
	struct hqio_error err;
	size_t n = 99;

	(void)state;
	assert_int_equal(hqio_lspci_parse("", 0, &devs, &n, &err), 0);
	assert_null(devs);
	assert_int_equal(n, 0);
	assert_int_equal(err.code, 0);
}

static void test_null_text_with_zero_len_gives_no_devices(void **state)
{
	struct hqio_dump_dev *devs = (void *)1;
	size_t n = 99;

	(void)state;
	assert_int_equal(hqio_lspci_parse(NULL, 0, &devs, &n, NULL), 0);
	assert_null(devs);
	assert_int_equal(n, 0);
}

static void test_text_without_device_lines_gives_no_devices(void **state)
{
	struct hqio_dump_dev *devs = (void *)1;
	struct hqio_error err;
	size_t n = 99;

	(void)state;
	assert_int_equal(parse_str("\n\r\n\tCapabilities: [40] Power Management version 3\n"
				   "hello world\n",
				   &devs, &n, &err),
			 0);
	assert_null(devs);
	assert_int_equal(n, 0);
}

static void test_invalid_arguments(void **state)
{
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	assert_int_equal(hqio_lspci_parse(NULL, 5, &devs, &n, &err), -EINVAL);
	assert_null(devs);
	assert_int_equal(n, 0);
	assert_int_equal(hqio_lspci_parse("00:00.0 x\n", 10, NULL, &n, &err), -EINVAL);
	assert_int_equal(hqio_lspci_parse("00:00.0 x\n", 10, &devs, NULL, &err), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

static void test_data_before_device_line_fails(void **state)
{
	(void)state;
	assert_fails_at("\tControl: I/O-\n00: 86 80 57 0d\n00:00.0 x\n", 2);
}

static void test_data_after_blank_line_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 01\n\n10: 02\n", 4);
}

static void test_data_past_offset_fff_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 01\nff8: 00 01 02 03 04 05 06 07 08 09\n", 3);
}

static void test_four_digit_offset_beyond_fff_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n1000: 01\n", 2);
}

static void test_huge_offset_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\nffffffffffffffffffffffff0: 01\n", 2);
}

static void test_invalid_device_number_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 01\n\n00:20.0 Device 32\n00: 01\n", 4);
}

static void test_invalid_function_number_fails(void **state)
{
	(void)state;
	assert_fails_at("00:1f.8 Function 8\n", 1);
}

static void test_invalid_bus_number_fails(void **state)
{
	(void)state;
	assert_fails_at("0000:100:00.0 Bus 256\n", 1);
}

static void test_invalid_domain_number_fails(void **state)
{
	(void)state;
	assert_fails_at("100000000:00:00.0 Domain 2^32\n", 1);
}

static void test_non_hex_byte_on_data_line_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 86 80 zz 0d\n", 2);
}

static void test_single_digit_byte_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 86 8 57\n", 2);
}

static void test_three_digit_byte_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 86 800 57\n", 2);
}

static void test_double_space_between_bytes_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 86  80\n", 2);
}

static void test_seventeen_bytes_fail(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10\n", 2);
}

static void test_data_line_without_bytes_fails(void **state)
{
	(void)state;
	assert_fails_at("00:00.0 x\n00: 01\n10:\n", 3);
}

static void test_error_after_many_devices_frees_everything(void **state)
{
	struct sbuf b = { 0 };
	struct hqio_dump_dev *devs = (void *)1;
	struct hqio_error err;
	unsigned i;
	size_t n = 99;

	(void)state;
	for (i = 0; i < 50; i++)
		sb_printf(&b, "00:%02x.0 d\n00: 01\n\n", i & 31);
	sb_printf(&b, "00:00.0 d\n00: xx\n");
	assert_int_equal(hqio_lspci_parse(b.p, b.len, &devs, &n, &err), -EINVAL);
	assert_null(devs); /* and LeakSanitizer sees nothing left */
	assert_int_equal(n, 0);
	assert_non_null(strstr(err.msg, "line 152:"));
	free(b.p);
}

static void test_error_with_null_err(void **state)
{
	struct hqio_dump_dev *devs;
	size_t n;

	(void)state;
	assert_int_equal(parse_str("00: 01\n", &devs, &n, NULL), -EINVAL);
	assert_null(devs);
	assert_int_equal(n, 0);
}

/* ------------------------------------------------------------------ */
/* Garbage                                                              */
/* ------------------------------------------------------------------ */

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void check_garbage(const char *buf, size_t len)
{
	struct hqio_dump_dev *devs = (void *)1;
	struct hqio_error err;
	size_t n = 99, i;
	int rc;

	rc = hqio_lspci_parse(buf, len, &devs, &n, &err);
	if (rc == 0) {
		assert_true(n == 0 ? devs == NULL : devs != NULL);
		for (i = 0; i < n; i++) {
			assert_true(devs[i].len <= sizeof(devs[i].cfg));
			assert_true(memchr(devs[i].title, '\0', sizeof(devs[i].title)) != NULL);
			assert_true(devs[i].bdf.dev <= 31 && devs[i].bdf.fn <= 7);
		}
		free(devs);
	} else {
		assert_int_equal(rc, -EINVAL);
		assert_null(devs);
		assert_int_equal(n, 0);
		assert_true(strlen(err.msg) > 0);
	}
}

static void test_binary_garbage_never_crashes(void **state)
{
	uint32_t seed = 0x12345678;
	unsigned round;

	(void)state;
	for (round = 0; round < 300; round++) {
		size_t len = xorshift(&seed) % 2048, i;
		char *buf = malloc(len ? len : 1);

		assert_non_null(buf);
		for (i = 0; i < len; i++)
			buf[i] = (char)xorshift(&seed);
		check_garbage(buf, len);
		free(buf);
	}
}

static void test_dump_alphabet_garbage_never_crashes(void **state)
{
	static const char alphabet[] = "0123456789abcdefF:. \t\r\n\n\n00:0";
	uint32_t seed = 0xdeadbeef;
	unsigned round, accepted = 0;

	(void)state;
	for (round = 0; round < 2000; round++) {
		size_t len = xorshift(&seed) % 512, i;
		char *buf = malloc(len ? len : 1);
		struct hqio_dump_dev *devs;
		size_t n;

		assert_non_null(buf);
		for (i = 0; i < len; i++)
			buf[i] = alphabet[xorshift(&seed) % (sizeof(alphabet) - 1)];
		check_garbage(buf, len);
		if (hqio_lspci_parse(buf, len, &devs, &n, NULL) == 0) {
			accepted++;
			free(devs);
		}
		free(buf);
	}
	assert_true(accepted > 0);
}

static void test_nul_bytes_inside_text(void **state)
{
	static const char s[] = "00:00.0 ti\0tle\n00: 01\n\0\n00: 02\n";
	struct hqio_dump_dev *devs;
	struct hqio_error err;
	size_t n;

	(void)state;
	/* a line holding only a NUL is neither blank nor data: skipped */
	assert_int_equal(hqio_lspci_parse(s, sizeof(s) - 1, &devs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(devs[0].title, "ti");
	assert_int_equal(devs[0].len, 1);
	assert_int_equal(devs[0].cfg[0], 2);
	free(devs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_device_x_64_bytes),
		cmocka_unit_test(test_single_device_xxx_256_bytes),
		cmocka_unit_test(test_single_device_xxxx_4096_bytes_three_digit_offsets),
		cmocka_unit_test(test_len_is_highest_offset_filled_plus_one),
		cmocka_unit_test(test_data_lines_out_of_order_fill_their_offsets),
		cmocka_unit_test(test_repeated_offset_keeps_later_bytes),
		cmocka_unit_test(test_uppercase_hex_accepted),
		cmocka_unit_test(test_several_devices_in_order),
		cmocka_unit_test(test_many_devices_grow_the_array),
		cmocka_unit_test(test_device_line_without_blank_separator_starts_new_device),
		cmocka_unit_test(test_domain_prefix),
		cmocka_unit_test(test_mixed_domain_and_plain_addresses),
		cmocka_unit_test(test_duplicate_address_gives_two_entries),
		cmocka_unit_test(test_device_line_without_data_has_len_zero),
		cmocka_unit_test(test_device_line_without_title),
		cmocka_unit_test(test_long_title_is_truncated),
		cmocka_unit_test(test_very_long_verbose_line_is_skipped),
		cmocka_unit_test(test_verbose_text_is_skipped),
		cmocka_unit_test(test_unindented_non_hex_text_is_skipped),
		cmocka_unit_test(test_crlf_line_endings),
		cmocka_unit_test(test_missing_final_newline),
		cmocka_unit_test(test_device_line_last_without_newline),
		cmocka_unit_test(test_buffer_not_nul_terminated),
		cmocka_unit_test(test_len_limits_parsing_of_a_longer_string),
		cmocka_unit_test(test_trailing_whitespace_on_data_line_accepted),
		cmocka_unit_test(test_whitespace_only_line_ends_device),
		cmocka_unit_test(test_sixteen_bytes_at_ff0_reach_the_end),
		cmocka_unit_test(test_empty_input_gives_no_devices),
		cmocka_unit_test(test_null_text_with_zero_len_gives_no_devices),
		cmocka_unit_test(test_text_without_device_lines_gives_no_devices),
		cmocka_unit_test(test_invalid_arguments),
		cmocka_unit_test(test_data_before_device_line_fails),
		cmocka_unit_test(test_data_after_blank_line_fails),
		cmocka_unit_test(test_data_past_offset_fff_fails),
		cmocka_unit_test(test_four_digit_offset_beyond_fff_fails),
		cmocka_unit_test(test_huge_offset_fails),
		cmocka_unit_test(test_invalid_device_number_fails),
		cmocka_unit_test(test_invalid_function_number_fails),
		cmocka_unit_test(test_invalid_bus_number_fails),
		cmocka_unit_test(test_invalid_domain_number_fails),
		cmocka_unit_test(test_non_hex_byte_on_data_line_fails),
		cmocka_unit_test(test_single_digit_byte_fails),
		cmocka_unit_test(test_three_digit_byte_fails),
		cmocka_unit_test(test_double_space_between_bytes_fails),
		cmocka_unit_test(test_seventeen_bytes_fail),
		cmocka_unit_test(test_data_line_without_bytes_fails),
		cmocka_unit_test(test_error_after_many_devices_frees_everything),
		cmocka_unit_test(test_error_with_null_err),
		cmocka_unit_test(test_binary_garbage_never_crashes),
		cmocka_unit_test(test_dump_alphabet_garbage_never_crashes),
		cmocka_unit_test(test_nul_bytes_inside_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
