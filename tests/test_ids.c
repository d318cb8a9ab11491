/*
 * Tests for the pci.ids name lookups (hqio_ids_vendor/device/class) on a
 * small database written here, on truncated buffers, and on the system's
 * /usr/share/misc/pci.ids when it is installed.
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

/* A miniature pci.ids: same layout and separators as the real file. */
static const char ids[] = "#\n"
			  "#\tList of PCI ID's (test copy)\n"
			  "#\n"
			  "\n"
			  "# Syntax:\n"
			  "# vendor  vendor_name\n"
			  "#\tdevice  device_name\t\t\t\t<-- single tab\n"
			  "#\t\tsubvendor subdevice  subsystem_name\t<-- two tabs\n"
			  "\n"
			  "0002  Vendor Two (clashes with class 02)\n"
			  "\t0000  Two-zero device\n"
			  "0200  Dell (wrong ID)\n"
			  "\t0200  Vendor 0200 device 0200\n"
			  "# A comment between vendors\n"
			  "10ec  Realtek Semiconductor Co., Ltd.\n"
			  "\t8139  RTL-8100/8101L/8139 PCI Fast Ethernet Adapter\n"
			  "\t\t1025 8920  ALN-325\n"
			  "\t\t10ec 8139  RT8139\n"
			  "\t8168  RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller\n"
			  "8086  Intel Corporation\n"
			  "# A comment inside a vendor block\n"
			  "\t10fb  82599ES 10-Gigabit SFI/SFP+ Network Connection\n"
			  "\t\t8086 000c  Ethernet Server Adapter X520-2\n"
			  "\t1533  I210 Gigabit Network Connection\n"
			  "\t\t8086 1533  I210 Gigabit Network Connection\n"
			  "\t\t1533 0002  Subsystem line whose first ID looks like a device\n"
			  "\n"
			  "\t7a50  Device after a blank line   \n"
			  "ffff  Illegal Vendor ID\n"
			  "\n"
			  "\n"
			  "# List of known device classes, subclasses and programming interfaces\n"
			  "\n"
			  "# Syntax:\n"
			  "# C class\tclass_name\n"
			  "#\tsubclass\tsubclass_name  \t\t<-- single tab\n"
			  "#\t\tprog-if  prog-if_name  \t<-- two tabs\n"
			  "\n"
			  "C 00  Unclassified device\n"
			  "\t00  Non-VGA unclassified device\n"
			  "\t01  VGA compatible unclassified device\n"
			  "C 02  Network controller\n"
			  "\t00  Ethernet controller\n"
			  "\t80  Network controller\n"
			  "C 0c  Serial bus controller\n"
			  "\t03  USB controller\n"
			  "\t\t00  UHCI\n"
			  "\t\t30  XHCI\n"
			  "\t05  SMBus\n"
			  "C 86  Class 86 (clashes with vendor 8086's first digits)\n"
			  "C ff  Unassigned class\n";

#define BUFSZ 128

/* ------------------------------------------------------------------ */
/* Vendors                                                              */
/* ------------------------------------------------------------------ */

static void test_vendor_known(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_ptr_equal(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x8086, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "Intel Corporation");
	assert_non_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x10ec, buf, sizeof(buf)));
	assert_string_equal(buf, "Realtek Semiconductor Co., Ltd.");
	assert_non_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0xffff, buf, sizeof(buf)));
	assert_string_equal(buf, "Illegal Vendor ID");
}

static void test_vendor_unknown_is_null(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x1234, buf, sizeof(buf)));
	/* 0x8139 only appears as a device ID */
	assert_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x8139, buf, sizeof(buf)));
	/* 0x8920 only appears as a subsystem ID */
	assert_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x8920, buf, sizeof(buf)));
}

static void test_vendor_id_that_is_also_a_class_code(void **state)
{
	char buf[BUFSZ];

	(void)state;
	/* vendor 0002 vs "C 02", vendor 0200 vs class 0x0200xx */
	assert_non_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x0002, buf, sizeof(buf)));
	assert_string_equal(buf, "Vendor Two (clashes with class 02)");
	assert_non_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x0200, buf, sizeof(buf)));
	assert_string_equal(buf, "Dell (wrong ID)");
	/* class lines are never vendors: 0x000c, 0x00c0, 0x0c00 are not "C 0c" */
	assert_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x000c, buf, sizeof(buf)));
	assert_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x0c00, buf, sizeof(buf)));
	assert_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x0086, buf, sizeof(buf)));
}

static void test_vendor_name_truncated_to_buffer(void **state)
{
	char buf[6];

	(void)state;
	memset(buf, 'X', sizeof(buf));
	assert_ptr_equal(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x8086, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "Intel");
}

static void test_vendor_buffer_of_one_byte_gives_empty_string(void **state)
{
	char buf[1] = { 'X' };

	(void)state;
	assert_ptr_equal(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x8086, buf, sizeof(buf)), buf);
	assert_int_equal(buf[0], '\0');
}

static void test_invalid_arguments_give_null(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_null(hqio_ids_vendor(NULL, 10, 0x8086, buf, sizeof(buf)));
	assert_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x8086, NULL, sizeof(buf)));
	assert_null(hqio_ids_vendor(ids, sizeof(ids) - 1, 0x8086, buf, 0));
	assert_null(hqio_ids_device(NULL, 10, 0x8086, 0x1533, buf, sizeof(buf)));
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x8086, 0x1533, buf, 0));
	assert_null(hqio_ids_class(NULL, 10, 0x020000, buf, sizeof(buf)));
	assert_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x020000, NULL, sizeof(buf)));
}

static void test_empty_database_gives_null(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_null(hqio_ids_vendor(ids, 0, 0x8086, buf, sizeof(buf)));
	assert_null(hqio_ids_device(ids, 0, 0x8086, 0x1533, buf, sizeof(buf)));
	assert_null(hqio_ids_class(ids, 0, 0x020000, buf, sizeof(buf)));
}

/* ------------------------------------------------------------------ */
/* Devices                                                              */
/* ------------------------------------------------------------------ */

static void test_device_known(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_ptr_equal(hqio_ids_device(ids, sizeof(ids) - 1, 0x8086, 0x1533, buf, sizeof(buf)),
			 buf);
	assert_string_equal(buf, "I210 Gigabit Network Connection");
	assert_non_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x10ec, 0x8168, buf, sizeof(buf)));
	assert_string_equal(buf, "RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller");
}

static void test_device_after_comment_in_vendor_block(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_non_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x8086, 0x10fb, buf, sizeof(buf)));
	assert_string_equal(buf, "82599ES 10-Gigabit SFI/SFP+ Network Connection");
}

static void test_device_after_blank_line_trailing_spaces_trimmed(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_non_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x8086, 0x7a50, buf, sizeof(buf)));
	assert_string_equal(buf, "Device after a blank line");
}

static void test_device_belongs_to_its_vendor(void **state)
{
	char buf[BUFSZ];

	(void)state;
	/* 8139 is listed under 10ec, not 8086 */
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x8086, 0x8139, buf, sizeof(buf)));
	/* 10fb is listed under 8086, not 10ec (the vendor just above it) */
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x10ec, 0x10fb, buf, sizeof(buf)));
	/* 0000 under 0002 exists; under 0200 it does not */
	assert_non_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x0002, 0x0000, buf, sizeof(buf)));
	assert_string_equal(buf, "Two-zero device");
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x0200, 0x0000, buf, sizeof(buf)));
}

static void test_device_unknown_is_null(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x8086, 0xbeef, buf, sizeof(buf)));
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x1234, 0x1533, buf, sizeof(buf)));
}

static void test_subsystem_lines_are_not_devices(void **state)
{
	char buf[BUFSZ];

	(void)state;
	/* "\t\t8086 000c" under 10fb: 000c is not a device of 8086 */
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x8086, 0x000c, buf, sizeof(buf)));
	/* "\t\t1025 8920" under 8139 */
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x10ec, 0x1025, buf, sizeof(buf)));
	/* "\t\t1533 0002": a subsystem line must not shadow device 1533 */
	assert_non_null(hqio_ids_device(ids, sizeof(ids) - 1, 0x8086, 0x1533, buf, sizeof(buf)));
	assert_string_equal(buf, "I210 Gigabit Network Connection");
}

static void test_class_lines_are_not_devices(void **state)
{
	char buf[BUFSZ];

	(void)state;
	/* vendor ffff is last before the class section: the "\t00" subclass
	 * lines that follow are not its devices (and have two digits). */
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0xffff, 0x0000, buf, sizeof(buf)));
	assert_null(hqio_ids_device(ids, sizeof(ids) - 1, 0xffff, 0x0080, buf, sizeof(buf)));
}

/* ------------------------------------------------------------------ */
/* Classes                                                              */
/* ------------------------------------------------------------------ */

static void test_class_subclass_name(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_ptr_equal(hqio_ids_class(ids, sizeof(ids) - 1, 0x020000, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "Ethernet controller");
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x028000, buf, sizeof(buf)));
	assert_string_equal(buf, "Network controller");
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x000100, buf, sizeof(buf)));
	assert_string_equal(buf, "VGA compatible unclassified device");
}

static void test_class_prog_if_is_ignored(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x0c0330, buf, sizeof(buf)));
	assert_string_equal(buf, "USB controller");
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x0c0377, buf, sizeof(buf)));
	assert_string_equal(buf, "USB controller");
	/* 0c 05 comes after prog-if lines of 0c 03 */
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x0c0500, buf, sizeof(buf)));
	assert_string_equal(buf, "SMBus");
}

static void test_class_unknown_subclass_gives_base_name(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x027700, buf, sizeof(buf)));
	assert_string_equal(buf, "Network controller");
	/* "\t\t30  XHCI" is a prog-if of 0c03, not subclass 30 */
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x0c3000, buf, sizeof(buf)));
	assert_string_equal(buf, "Serial bus controller");
	/* a class without subclasses */
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0xff0000, buf, sizeof(buf)));
	assert_string_equal(buf, "Unassigned class");
}

static void test_class_unknown_is_null(void **state)
{
	char buf[BUFSZ];

	(void)state;
	assert_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x130000, buf, sizeof(buf)));
	assert_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x1000000, buf, sizeof(buf)));
}

static void test_class_not_confused_with_vendor(void **state)
{
	char buf[BUFSZ];

	(void)state;
	/* base 0x80 has no "C 80" line; vendor 8086 must not be taken for it */
	assert_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x808600, buf, sizeof(buf)));
	/* base 0x86 exists; its sub 0x00 must not come from vendor 8086's lines */
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x860000, buf, sizeof(buf)));
	assert_string_equal(buf, "Class 86 (clashes with vendor 8086's first digits)");
	/* base 0x02 sub 0x00: not "Vendor Two" nor its device "0000" */
	assert_non_null(hqio_ids_class(ids, sizeof(ids) - 1, 0x020000, buf, sizeof(buf)));
	assert_string_equal(buf, "Ethernet controller");
}

/* ------------------------------------------------------------------ */
/* Buffers                                                              */
/* ------------------------------------------------------------------ */

/* Copy the first len bytes of s into an exactly sized heap buffer. */
static char *exact_copy(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static void test_buffer_ending_mid_name(void **state)
{
	static const char text[] = "10ec  Realtek\n8086  Intel Corporation\n";
	size_t len = strlen("10ec  Realtek\n8086  Intel Corp");
	char *p = exact_copy(text, len);
	char buf[BUFSZ];

	(void)state;
	assert_non_null(hqio_ids_vendor(p, len, 0x8086, buf, sizeof(buf)));
	assert_string_equal(buf, "Intel Corp");
	free(p);
}

static void test_buffer_ending_mid_id(void **state)
{
	static const char text[] = "10ec  Realtek\n8086  Intel Corporation\n";
	size_t len = strlen("10ec  Realtek\n808");
	char *p = exact_copy(text, len);
	char buf[BUFSZ];

	(void)state;
	assert_null(hqio_ids_vendor(p, len, 0x8086, buf, sizeof(buf)));
	assert_null(hqio_ids_vendor(p, len, 0x0808, buf, sizeof(buf)));
	assert_non_null(hqio_ids_vendor(p, len, 0x10ec, buf, sizeof(buf)));
	assert_string_equal(buf, "Realtek");
	free(p);
}

static void test_buffer_ending_after_id_and_separator(void **state)
{
	static const char text[] = "8086  Intel\n\t1533  I210\nC 02  Network controller\n\t00  E";
	char buf[BUFSZ];
	char *p;
	size_t len;

	(void)state;
	/* "8086  " then the end: an entry without a name is no entry */
	p = exact_copy(text, 6);
	assert_null(hqio_ids_vendor(p, 6, 0x8086, buf, sizeof(buf)));
	free(p);
	/* "\t1533" then the end */
	len = strlen("8086  Intel\n\t1533");
	p = exact_copy(text, len);
	assert_null(hqio_ids_device(p, len, 0x8086, 0x1533, buf, sizeof(buf)));
	free(p);
	/* "\t00  E" cut to "\t00 ": the base class name is what is left */
	len = sizeof(text) - 1 - 2;
	p = exact_copy(text, len);
	assert_non_null(hqio_ids_class(p, len, 0x020000, buf, sizeof(buf)));
	assert_string_equal(buf, "Network controller");
	free(p);
	/* the whole text, no NUL, no final newline */
	len = sizeof(text) - 1;
	p = exact_copy(text, len);
	assert_non_null(hqio_ids_class(p, len, 0x020000, buf, sizeof(buf)));
	assert_string_equal(buf, "E");
	free(p);
}

static void test_whole_database_without_nul(void **state)
{
	char *p = exact_copy(ids, sizeof(ids) - 1);
	char buf[BUFSZ];

	(void)state;
	/* the last line of the text, with nothing after it */
	assert_non_null(hqio_ids_class(p, sizeof(ids) - 1, 0xff0000, buf, sizeof(buf)));
	assert_string_equal(buf, "Unassigned class");
	assert_null(hqio_ids_class(p, sizeof(ids) - 1, 0xfe0000, buf, sizeof(buf)));
	assert_null(hqio_ids_vendor(p, sizeof(ids) - 1, 0x4242, buf, sizeof(buf)));
	free(p);
}

static void test_crlf_database(void **state)
{
	static const char text[] = "8086  Intel Corporation\r\n\t1533  I210\r\nC 02  Network\r\n"
				   "\t00  Ethernet controller\r\n";
	char buf[BUFSZ];

	(void)state;
	assert_non_null(hqio_ids_vendor(text, sizeof(text) - 1, 0x8086, buf, sizeof(buf)));
	assert_string_equal(buf, "Intel Corporation");
	assert_non_null(hqio_ids_device(text, sizeof(text) - 1, 0x8086, 0x1533, buf, sizeof(buf)));
	assert_string_equal(buf, "I210");
	assert_non_null(hqio_ids_class(text, sizeof(text) - 1, 0x020000, buf, sizeof(buf)));
	assert_string_equal(buf, "Ethernet controller");
}

static void test_uppercase_hex_ids(void **state)
{
	static const char text[] = "10EC  Realtek\n\t8A1F  Upper device\n";
	char buf[BUFSZ];

	(void)state;
	assert_non_null(hqio_ids_vendor(text, sizeof(text) - 1, 0x10ec, buf, sizeof(buf)));
	assert_string_equal(buf, "Realtek");
	assert_non_null(hqio_ids_device(text, sizeof(text) - 1, 0x10ec, 0x8a1f, buf, sizeof(buf)));
	assert_string_equal(buf, "Upper device");
}

static void test_vendor_starting_with_uppercase_c_is_not_a_class(void **state)
{
	static const char text[] = "CAFE  Uppercase vendor\n\tFE00  Its device\n"
				   "C fe  Real class fe\n";
	char buf[BUFSZ];

	(void)state;
	assert_non_null(hqio_ids_vendor(text, sizeof(text) - 1, 0xcafe, buf, sizeof(buf)));
	assert_string_equal(buf, "Uppercase vendor");
	/* "CAFE" is not "C " + "AF"/"FE"; only the real class line counts */
	assert_null(hqio_ids_class(text, sizeof(text) - 1, 0xaf0000, buf, sizeof(buf)));
	assert_non_null(hqio_ids_class(text, sizeof(text) - 1, 0xfe0000, buf, sizeof(buf)));
	assert_string_equal(buf, "Real class fe");
	assert_non_null(hqio_ids_device(text, sizeof(text) - 1, 0xcafe, 0xfe00, buf, sizeof(buf)));
	assert_string_equal(buf, "Its device");
}

static void test_malformed_lines_are_ignored(void **state)
{
	static const char text[] = "80861  Five digits\n"
				   "8086Intel no separator\n"
				   "808g  Not hex\n"
				   "  8086  Indented with spaces\n"
				   "8086  Intel Corporation\n";
	char buf[BUFSZ];

	(void)state;
	assert_non_null(hqio_ids_vendor(text, sizeof(text) - 1, 0x8086, buf, sizeof(buf)));
	assert_string_equal(buf, "Intel Corporation");
}

static void test_binary_garbage_never_crashes(void **state)
{
	uint32_t seed = 0xc0ffee;
	unsigned round;

	(void)state;
	for (round = 0; round < 300; round++) {
		size_t len, i;
		char buf[8];
		char *p;

		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		len = seed % 1024;
		p = malloc(len ? len : 1);
		assert_non_null(p);
		for (i = 0; i < len; i++) {
			static const char alphabet[] = "0123456789abcdefC \t\n#\r";

			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			p[i] = (round & 1) ? (char)seed : alphabet[seed % (sizeof(alphabet) - 1)];
		}
		if (hqio_ids_vendor(p, len, (uint16_t)round, buf, sizeof(buf)))
			assert_true(strlen(buf) < sizeof(buf));
		if (hqio_ids_device(p, len, 0x0000, (uint16_t)round, buf, sizeof(buf)))
			assert_true(strlen(buf) < sizeof(buf));
		if (hqio_ids_class(p, len, round * 0x10101u, buf, sizeof(buf)))
			assert_true(strlen(buf) < sizeof(buf));
		free(p);
	}
}

/* ------------------------------------------------------------------ */
/* The system database                                                  */
/* ------------------------------------------------------------------ */

#define SYSTEM_IDS "/usr/share/misc/pci.ids"

static char *load_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	size_t cap = 0, got;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			p = realloc(p, cap);
			assert_non_null(p);
		}
		got = fread(p + *len, 1, cap - *len, f);
		if (!got)
			break;
		*len += got;
	}
	fclose(f);
	return p;
}

static void test_system_pci_ids(void **state)
{
	char buf[BUFSZ];
	size_t len;
	char *p;

	(void)state;
	p = load_file(SYSTEM_IDS, &len);
	if (!p) {
		skip();
		return;
	}
	assert_true(len > 0);
	assert_non_null(hqio_ids_vendor(p, len, 0x8086, buf, sizeof(buf)));
	assert_string_equal(buf, "Intel Corporation");
	assert_non_null(hqio_ids_class(p, len, 0x020000, buf, sizeof(buf)));
	assert_string_equal(buf, "Ethernet controller");
	assert_non_null(hqio_ids_class(p, len, 0x060400, buf, sizeof(buf)));
	assert_string_equal(buf, "PCI bridge");
	/* a device of a vendor in the middle of the file */
	assert_non_null(hqio_ids_device(p, len, 0x1af4, 0x1041, buf, sizeof(buf)));
	assert_string_equal(buf, "Virtio 1.0 network device");
	assert_null(hqio_ids_vendor(p, len, 0x0000, buf, sizeof(buf)));
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vendor_known),
		cmocka_unit_test(test_vendor_unknown_is_null),
		cmocka_unit_test(test_vendor_id_that_is_also_a_class_code),
		cmocka_unit_test(test_vendor_name_truncated_to_buffer),
		cmocka_unit_test(test_vendor_buffer_of_one_byte_gives_empty_string),
		cmocka_unit_test(test_invalid_arguments_give_null),
		cmocka_unit_test(test_empty_database_gives_null),
		cmocka_unit_test(test_device_known),
		cmocka_unit_test(test_device_after_comment_in_vendor_block),
		cmocka_unit_test(test_device_after_blank_line_trailing_spaces_trimmed),
		cmocka_unit_test(test_device_belongs_to_its_vendor),
		cmocka_unit_test(test_device_unknown_is_null),
		cmocka_unit_test(test_subsystem_lines_are_not_devices),
		cmocka_unit_test(test_class_lines_are_not_devices),
		cmocka_unit_test(test_class_subclass_name),
		cmocka_unit_test(test_class_prog_if_is_ignored),
		cmocka_unit_test(test_class_unknown_subclass_gives_base_name),
		cmocka_unit_test(test_class_unknown_is_null),
		cmocka_unit_test(test_class_not_confused_with_vendor),
		cmocka_unit_test(test_buffer_ending_mid_name),
		cmocka_unit_test(test_buffer_ending_mid_id),
		cmocka_unit_test(test_buffer_ending_after_id_and_separator),
		cmocka_unit_test(test_whole_database_without_nul),
		cmocka_unit_test(test_crlf_database),
		cmocka_unit_test(test_uppercase_hex_ids),
		cmocka_unit_test(test_vendor_starting_with_uppercase_c_is_not_a_class),
		cmocka_unit_test(test_malformed_lines_are_ignored),
		cmocka_unit_test(test_binary_garbage_never_crashes),
		cmocka_unit_test(test_system_pci_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
