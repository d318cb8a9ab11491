/*
 * The monitor's parts that run without KVM or VFIO (vmm/, docs/monitor.md):
 * the multiboot ELF loader on the built-in test guest and on crafted bad
 * images, the multiboot information, CF8/CFC and ECAM decoding of the
 * virtual host bridge, `hqio run` argument errors, and clear errors when
 * /dev/kvm is absent or is not KVM. Running guests is checked by
 * tests/check_vmm_run.py (when this machine's KVM can) and in the test bed
 * (testbed/tests/monitor_edu.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "bars.h"
#include "commands.h"
#include "loader.h"
#include "pcihost.h"
#include "vfio.h"
#include "vmm.h"

/* ---- crafted images ---------------------------------------------------- */
#define IMG_LEN	   4096
#define PH_OFF	   52
#define PAYLOAD	   0x100 /* file offset of the segment */
#define LOAD_ADDR  0x100000u
#define SEG_FILESZ 0x200u
#define SEG_MEMSZ  0x1000u

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A minimal valid multiboot ELF: one PT_LOAD of SEG_FILESZ bytes at 1 MiB
 * (memsz SEG_MEMSZ), the multiboot header at its start, entry after it. */
static void make_image(uint8_t *img)
{
	memset(img, 0, IMG_LEN);
	memcpy(img,
	       "\x7f"
	       "ELF",
	       4);
	img[4] = 1;	    /* ELFCLASS32 */
	img[5] = 1;	    /* little-endian */
	img[6] = 1;	    /* EV_CURRENT */
	put16(img + 16, 2); /* ET_EXEC */
	put16(img + 18, 3); /* EM_386 */
	put32(img + 20, 1);
	put32(img + 24, LOAD_ADDR + 12); /* entry */
	put32(img + 28, PH_OFF);
	put16(img + 40, 52);
	put16(img + 42, 32);
	put16(img + 44, 1);
	uint8_t *ph = img + PH_OFF;
	put32(ph + 0, 1); /* PT_LOAD */
	put32(ph + 4, PAYLOAD);
	put32(ph + 8, LOAD_ADDR);
	put32(ph + 12, LOAD_ADDR);
	put32(ph + 16, SEG_FILESZ);
	put32(ph + 20, SEG_MEMSZ);
	uint8_t *mb = img + PAYLOAD;
	put32(mb, HQIO_MB_HEADER_MAGIC);
	put32(mb + 4, 0x3);
	put32(mb + 8, (uint32_t) - (HQIO_MB_HEADER_MAGIC + 0x3));
	for (unsigned i = 12; i < SEG_FILESZ; i++)
		mb[i] = (uint8_t)(0x90 + i); /* recognizable bytes */
}

static int load(uint8_t *img, size_t len, uint64_t ram_len, struct hqio_error *err)
{
	struct hqio_mb_image mb;
	memset(err, 0, sizeof(*err));
	return hqio_mb_load(img, len, NULL, ram_len, &mb, err);
}

static void expect_reject(uint8_t *img, size_t len, uint64_t ram_len, const char *words)
{
	struct hqio_error err;
	int rc = load(img, len, ram_len, &err);
	assert_true(rc < 0);
	if (!strstr(err.msg, words))
		fail_msg("error '%s' does not say '%s'", err.msg, words);
}

static void test_loader_crafted_image_loads(void **state)
{
	(void)state;
	uint8_t img[IMG_LEN];
	make_image(img);
	uint64_t ram_len = 2u << 20;
	uint8_t *ram = malloc(ram_len);
	assert_non_null(ram);
	memset(ram, 0xAA, ram_len);
	struct hqio_mb_image mb;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_mb_load(img, sizeof(img), ram, ram_len, &mb, &err), 0);
	assert_int_equal(mb.entry, LOAD_ADDR + 12);
	assert_int_equal(mb.load_lo, LOAD_ADDR);
	assert_int_equal(mb.load_hi, LOAD_ADDR + SEG_MEMSZ);
	assert_int_equal(mb.n_segments, 1);
	assert_memory_equal(ram + LOAD_ADDR, img + PAYLOAD, SEG_FILESZ);
	/* memsz beyond filesz is zero-filled (the guest's .bss) */
	for (unsigned i = SEG_FILESZ; i < SEG_MEMSZ; i++)
		assert_int_equal(ram[LOAD_ADDR + i], 0);
	assert_int_equal(ram[LOAD_ADDR + SEG_MEMSZ], 0xAA); /* nothing beyond */
	assert_int_equal(ram[LOAD_ADDR - 1], 0xAA);
	free(ram);
}

static void test_loader_builtin_guest(void **state)
{
	(void)state;
	size_t len;
	const uint8_t *g = hqio_vmm_builtin_guest(&len);
	if (!g)
		skip(); /* built without a 32-bit capable compiler */
	uint64_t ram_len = HQIO_VMM_MEM_DEFAULT;
	uint8_t *ram = calloc(1, ram_len);
	assert_non_null(ram);
	struct hqio_mb_image mb;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_mb_load(g, len, ram, ram_len, &mb, &err), 0);
	assert_int_equal(mb.load_lo, LOAD_ADDR);
	assert_true(mb.entry > mb.load_lo && mb.entry < mb.load_hi);
	assert_true(mb.load_hi < (1u << 28));				/* edu's DMA reach */
	assert_int_equal(get32(ram + LOAD_ADDR), HQIO_MB_HEADER_MAGIC); /* .multiboot first */
	free(ram);
}

static void test_loader_rejects_malformed(void **state)
{
	(void)state;
	uint8_t img[IMG_LEN];
	make_image(img);
	expect_reject(img, 10, 2u << 20, "not an ELF");
	make_image(img);
	img[1] = 'X';
	expect_reject(img, sizeof(img), 2u << 20, "not an ELF");
	make_image(img);
	img[4] = 2; /* ELFCLASS64: QEMU refuses it too */
	expect_reject(img, sizeof(img), 2u << 20, "32-bit");
	make_image(img);
	put16(img + 18, 62); /* EM_X86_64 */
	expect_reject(img, sizeof(img), 2u << 20, "i386 executable");
	make_image(img);
	put32(img + PAYLOAD, 0);
	expect_reject(img, sizeof(img), 2u << 20, "no multiboot v1 header");
	make_image(img);
	put32(img + PAYLOAD + 8, 0x12345678);
	expect_reject(img, sizeof(img), 2u << 20, "checksum");
	make_image(img);
	put32(img + PAYLOAD + 4, 0x10003); /* a.out kludge */
	put32(img + PAYLOAD + 8, (uint32_t) - (HQIO_MB_HEADER_MAGIC + 0x10003));
	expect_reject(img, sizeof(img), 2u << 20, "a.out kludge");
	make_image(img);
	put32(img + PAYLOAD + 4, 0x8); /* an unknown required flag */
	put32(img + PAYLOAD + 8, (uint32_t) - (HQIO_MB_HEADER_MAGIC + 0x8));
	expect_reject(img, sizeof(img), 2u << 20, "require features");
	make_image(img);
	put32(img + 28, IMG_LEN - 8); /* program headers past the end */
	expect_reject(img, sizeof(img), 2u << 20, "program headers");
	make_image(img);
	put32(img + PH_OFF + 16, SEG_MEMSZ + 1); /* filesz > memsz */
	expect_reject(img, sizeof(img), 2u << 20, "larger than its memory size");
	make_image(img);
	put32(img + PH_OFF + 4, IMG_LEN - 16); /* file bytes past the end */
	expect_reject(img, sizeof(img), 2u << 20, "beyond the file");
	make_image(img);
	put32(img + PH_OFF + 12, 0x7000); /* below 1 MiB */
	expect_reject(img, sizeof(img), 2u << 20, "outside guest RAM");
	make_image(img);
	expect_reject(img, sizeof(img), LOAD_ADDR + 0x800, "--mem"); /* RAM too small */
	make_image(img);
	put32(img + 24, 0x300000); /* entry outside */
	expect_reject(img, sizeof(img), 4u << 20, "entry point");
	make_image(img);
	put32(img + PH_OFF, 4); /* PT_NOTE only */
	expect_reject(img, sizeof(img), 2u << 20, "no loadable segment");
	/* the intact image loads (the mutations above were what failed) */
	struct hqio_error err;
	make_image(img);
	assert_int_equal(load(img, sizeof(img), 2u << 20, &err), 0);
}

static void test_multiboot_info(void **state)
{
	(void)state;
	uint64_t ram_len = 8u << 20;
	uint8_t *ram = calloc(1, ram_len);
	assert_non_null(ram);
	uint32_t ebx = 0;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_mb_info(ram, ram_len, "ecam=0xb0000000 n=5", &ebx, &err), 0);
	assert_int_equal(ebx, HQIO_MB_INFO_GPA);
	const uint8_t *mbi = ram + ebx;
	assert_int_equal(get32(mbi) & 0x5, 0x5);	   /* mem and cmdline valid */
	assert_int_equal(get32(mbi + 8), (8u - 1) * 1024); /* KiB above 1 MiB */
	assert_string_equal((const char *)ram + get32(mbi + 16), "ecam=0xb0000000 n=5");
	char *big = malloc(HQIO_MB_CMDLINE_MAX + 10);
	memset(big, 'x', HQIO_MB_CMDLINE_MAX + 9);
	big[HQIO_MB_CMDLINE_MAX + 9] = 0;
	assert_int_equal(hqio_mb_info(ram, ram_len, big, &ebx, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "command line"));
	free(big);
	free(ram);
}

/* ---- host bridge --------------------------------------------------------- */
static void test_cf8_decode(void **state)
{
	(void)state;
	uint16_t bdf, off;
	const uint32_t a = 0x80000000u | 0u << 16 | 1u << 11 | 0u << 8 | 0x10; /* 00:01.0 BAR0 */
	assert_true(hqio_pcihost_cf8_decode(a, 0xCFC, 4, &bdf, &off));
	assert_int_equal(bdf, 0x08);
	assert_int_equal(off, 0x10);
	assert_true(hqio_pcihost_cf8_decode(a, 0xCFE, 2, &bdf, &off));
	assert_int_equal(off, 0x12);
	assert_true(hqio_pcihost_cf8_decode(a, 0xCFF, 1, &bdf, &off));
	assert_int_equal(off, 0x13);
	assert_true(hqio_pcihost_cf8_decode(0x80ab3a00u | 0x3c, 0xCFC, 4, &bdf, &off));
	assert_int_equal(bdf, 0xab3a); /* bus 0xab, device 7, function 2 */
	assert_int_equal(off, 0x3c);
	assert_false(
		hqio_pcihost_cf8_decode(a & ~0x80000000u, 0xCFC, 4, &bdf, &off)); /* disabled */
	assert_false(hqio_pcihost_cf8_decode(a, 0xCFD, 2, &bdf, &off));		  /* misaligned */
	assert_false(hqio_pcihost_cf8_decode(a, 0xCFE, 4, &bdf, &off)); /* crosses the dword */
	assert_false(hqio_pcihost_cf8_decode(a, 0xCFC, 3, &bdf, &off));
	assert_false(hqio_pcihost_cf8_decode(a, 0xCF8, 4, &bdf, &off)); /* not the data port */
}

struct fake_dev {
	unsigned calls;
	uint16_t bdf, off;
	unsigned size;
	bool write;
	uint32_t last_write;
};

static bool fake_cfg(void *arg, uint16_t bdf, uint16_t off, unsigned size, bool write,
		     uint32_t *val)
{
	struct fake_dev *f = arg;
	if (bdf != 0x08)
		return false;
	f->calls++;
	f->bdf = bdf;
	f->off = off;
	f->size = size;
	f->write = write;
	if (write)
		f->last_write = *val;
	else
		*val = size == 4 ? 0x11e81234u : size == 2 ? 0x1234 : 0x34;
	return true;
}

static void test_pcihost_cf8_cfc(void **state)
{
	(void)state;
	struct hqio_pcihost h;
	struct fake_dev f = { 0 };
	hqio_pcihost_init(&h, HQIO_PCIHOST_ECAM_BASE, fake_cfg, &f);
	uint32_t v = 0x80000000u; /* bridge 00:00.0 register 0 */
	assert_true(hqio_pcihost_pio(&h, 0xCF8, 4, true, &v));
	assert_true(hqio_pcihost_pio(&h, 0xCFC, 4, false, &v));
	assert_int_equal(v, 0x00081b36); /* vendor 1b36 device 0008 */
	v = 0x80000008u;
	hqio_pcihost_pio(&h, 0xCF8, 4, true, &v);
	hqio_pcihost_pio(&h, 0xCFC, 4, false, &v);
	assert_int_equal(v >> 8, 0x060000); /* host bridge class */
	/* writes to the bridge are ignored */
	v = 0x80000000u;
	hqio_pcihost_pio(&h, 0xCF8, 4, true, &v);
	v = 0;
	hqio_pcihost_pio(&h, 0xCFC, 4, true, &v);
	hqio_pcihost_pio(&h, 0xCFC, 2, false, &v);
	assert_int_equal(v, 0x1b36);
	/* the assigned function: 00:01.0, a 16-bit write at 0x04 */
	v = 0x80000800u | 0x04;
	hqio_pcihost_pio(&h, 0xCF8, 4, true, &v);
	v = 0x0006;
	assert_true(hqio_pcihost_pio(&h, 0xCFC, 2, true, &v));
	assert_int_equal(f.calls, 1);
	assert_true(f.write);
	assert_int_equal(f.off, 0x04);
	assert_int_equal(f.size, 2);
	assert_int_equal(f.last_write, 6);
	/* no function at 00:02.0: all-ones, and counted */
	v = 0x80001000u;
	hqio_pcihost_pio(&h, 0xCF8, 4, true, &v);
	hqio_pcihost_pio(&h, 0xCFC, 4, false, &v);
	assert_int_equal(v, 0xffffffffu);
	hqio_pcihost_pio(&h, 0xCFE, 2, false, &v);
	assert_int_equal(v, 0xffff);
	assert_int_equal(h.stats.absent, 2);
	/* the address latch reads back without its reserved bits */
	v = 0xffffffffu;
	hqio_pcihost_pio(&h, 0xCF8, 4, true, &v);
	hqio_pcihost_pio(&h, 0xCF8, 4, false, &v);
	assert_int_equal(v, 0x80fffffcu);
	/* 0xCF9 (reset control) and byte accesses to 0xCF8 are not ours */
	v = 0;
	assert_false(hqio_pcihost_pio(&h, 0xCF9, 1, true, &v));
	assert_false(hqio_pcihost_pio(&h, 0xCF8, 1, false, &v));
	assert_false(hqio_pcihost_pio(&h, 0x80, 1, true, &v));
	/* disabled latch: data port reads all-ones, nothing reaches a function */
	unsigned before = f.calls;
	v = 0x00000800u;
	hqio_pcihost_pio(&h, 0xCF8, 4, true, &v);
	assert_true(hqio_pcihost_pio(&h, 0xCFC, 4, false, &v));
	assert_int_equal(v, 0xffffffffu);
	assert_int_equal(f.calls, before);
	assert_int_equal(h.stats.malformed, 1);
}

static void test_pcihost_ecam(void **state)
{
	(void)state;
	struct hqio_pcihost h;
	struct fake_dev f = { 0 };
	hqio_pcihost_init(&h, HQIO_PCIHOST_ECAM_BASE, fake_cfg, &f);
	uint32_t v = 0;
	const uint64_t base = HQIO_PCIHOST_ECAM_BASE;
	assert_true(hqio_pcihost_ecam(&h, base, 4, false, &v));
	assert_int_equal(v, 0x00081b36);
	assert_true(hqio_pcihost_ecam(&h, base + (1u << 15) + 0x104, 4, false, &v)); /* 00:01.0 */
	assert_int_equal(f.off, 0x104); /* extended space reaches the function */
	assert_int_equal(f.bdf, 0x08);
	assert_int_equal(v, 0x11e81234u);
	v = 0xabcd;
	assert_true(hqio_pcihost_ecam(&h, base + (1u << 15) + 0x3c, 2, true, &v));
	assert_true(f.write);
	assert_int_equal(f.last_write, 0xabcd);
	assert_true(hqio_pcihost_ecam(&h, base + (3u << 15), 4, false, &v)); /* absent */
	assert_int_equal(v, 0xffffffffu);
	assert_true(hqio_pcihost_ecam(&h, base + 0x2, 4, false, &v)); /* misaligned */
	assert_int_equal(h.stats.malformed, 1);
	assert_false(hqio_pcihost_ecam(&h, base - 4, 4, false, &v));
	assert_false(hqio_pcihost_ecam(&h, base + HQIO_PCIHOST_ECAM_BYTES, 4, false, &v));
	assert_int_equal(h.stats.ecam_accesses, 4);
}

/* ---- the monitor's errors ------------------------------------------------ */
static void run_expect(struct hqio_vmm_config *c, int code, const char *words)
{
	struct hqio_vmm_stats st;
	struct hqio_error err = { 0 };
	int rc = hqio_vmm_run(c, &st, &err);
	assert_int_equal(rc, code);
	if (!strstr(err.msg, words))
		fail_msg("error '%s' does not say '%s'", err.msg, words);
}

static void test_vmm_argument_errors(void **state)
{
	(void)state;
	uint8_t img[IMG_LEN];
	make_image(img);
	struct hqio_vmm_config c = { .guest = img,
				     .guest_len = sizeof(img),
				     .mem_bytes = HQIO_VMM_MEM_DEFAULT };
	c.mem_bytes = 1u << 20;
	run_expect(&c, -EINVAL, "256 MiB");
	c.mem_bytes = 512u << 20;
	run_expect(&c, -EINVAL, "2^28");
	c.mem_bytes = (64u << 20) + 100;
	run_expect(&c, -EINVAL, "multiple of 4 KiB");
	c.mem_bytes = HQIO_VMM_MEM_DEFAULT;
	c.n_assign = HQIO_VMM_MAX_ASSIGN + 1;
	run_expect(&c, -EINVAL, "at most 4 assigned");
	c.n_assign = 2; /* both 0000:00:00.0 */
	run_expect(&c, -EINVAL, "assigned twice");
	c.n_assign = 0;
	c.host_intx = true; /* the guest would be left without its MSI */
	run_expect(&c, -EINVAL, "--irq intx");
	c.host_intx = false;
	c.guest_len = 20;
	run_expect(&c, -ENOEXEC, "not an ELF");
	c.guest_len = sizeof(img);
	char big[HQIO_MB_CMDLINE_MAX + 8];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	c.cmdline = big;
	run_expect(&c, -EINVAL, "command line too long");
	c.cmdline = NULL;
	c.guest = NULL;
	run_expect(&c, -EINVAL, "no guest");
}

static void test_vmm_no_kvm(void **state)
{
	(void)state;
	uint8_t img[IMG_LEN];
	make_image(img);
	struct hqio_vmm_config c = { .guest = img,
				     .guest_len = sizeof(img),
				     .mem_bytes = HQIO_VMM_MEM_DEFAULT,
				     .kvm_dev = "/nonexistent/kvm" };
	run_expect(&c, -ENOENT, "no KVM");
	c.kvm_dev = "/dev/null"; /* opens, but is not KVM */
	run_expect(&c, -EOPNOTSUPP, "KVM API version");
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_vmm_probe_kvm("/nonexistent/kvm", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot open /nonexistent/kvm"));
	assert_int_equal(hqio_vmm_probe_kvm("/dev/null", &err), -EOPNOTSUPP);
}

/* ---- BAR pages: mapped or trapped --------------------------------------- */
static unsigned pieces(uint64_t size, const struct hqio_vmm_trap *t, unsigned n,
		       struct hqio_vmm_piece *out, unsigned max)
{
	unsigned np = hqio_vmm_bar_pieces(size, 4096, t, n, out, max);
	/* Invariants: in order, page aligned, inside the BAR, no trapped byte. */
	for (unsigned i = 0; i < np; i++) {
		assert_true(out[i].len > 0);
		assert_int_equal(out[i].off % 4096, 0);
		assert_int_equal(out[i].len % 4096, 0);
		assert_true(out[i].off + out[i].len <= size);
		if (i)
			assert_true(out[i].off >= out[i - 1].off + out[i - 1].len);
		for (unsigned k = 0; k < n; k++)
			if (t[k].len && t[k].off < size)
				assert_true(t[k].off + t[k].len <= out[i].off ||
					    t[k].off >= out[i].off + out[i].len);
	}
	return np;
}

static void test_bar_pieces(void **state)
{
	(void)state;
	struct hqio_vmm_piece p[8];
	/* No trap: the whole BAR. */
	assert_int_equal(pieces(128 << 10, NULL, 0, p, 8), 1);
	assert_int_equal(p[0].len, 128 << 10);
	/* e1000e-like: 16 KiB BAR3, MSI-X table at 0 (5 x 16 bytes), PBA at
	 * 0x2000: pages 0 and 2 trapped, 1 and 3 mapped. */
	struct hqio_vmm_trap x[] = { { 0x2000, 8 }, { 0, 5 * 16 } };
	assert_int_equal(pieces(16 << 10, x, 2, p, 8), 2);
	assert_int_equal(p[0].off, 0x1000);
	assert_int_equal(p[0].len, 0x1000);
	assert_int_equal(p[1].off, 0x3000);
	assert_int_equal(p[1].len, 0x1000);
	/* Table and PBA in one page, in the middle of a 1 MiB BAR. */
	struct hqio_vmm_trap y[] = { { 0x80000, 64 * 16 }, { 0x80800, 8 } };
	assert_int_equal(pieces(1 << 20, y, 2, p, 8), 2);
	assert_int_equal(p[0].len, 0x80000);
	assert_int_equal(p[1].off, 0x81000);
	/* An unaligned trap straddling two pages, overlapping traps, a trap
	 * reaching past the end, an empty one and one outside the BAR. */
	struct hqio_vmm_trap z[] = { { 0x1ff0, 0x20 }, { 0x2000, 0x1800 }, { 0x7000, 0x9000 },
				     { 0x5000, 0 }, { 0x10000, 4 } };
	assert_int_equal(pieces(0x8000, z, 5, p, 8), 2);
	assert_int_equal(p[0].off, 0);
	assert_int_equal(p[0].len, 0x1000);
	assert_int_equal(p[1].off, 0x4000);
	assert_int_equal(p[1].len, 0x3000);
	/* A trap at offset 0 covering everything: nothing to map. */
	struct hqio_vmm_trap all[] = { { 0, ~0ull } };
	assert_int_equal(pieces(0x8000, all, 1, p, 8), 0);
	/* More gaps than room: what does not fit stays trapped. */
	struct hqio_vmm_trap many[] = { { 0x1000, 1 }, { 0x3000, 1 }, { 0x5000, 1 } };
	assert_int_equal(pieces(0x8000, many, 3, p, 2), 2);
	assert_int_equal(p[1].off, 0x2000);
	/* Bad arguments. */
	assert_int_equal(hqio_vmm_bar_pieces(0x8000, 3000, many, 3, p, 8), 0);
	assert_int_equal(hqio_vmm_bar_pieces(0, 4096, many, 3, p, 8), 0);
}

/* ---- hqio run ------------------------------------------------------------- */
static int run_cli(const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[8] = { "run" };
	int argc = 1;
	const char *a[] = { a1, a2, a3, a4 };
	for (int i = 0; i < 4 && a[i]; i++)
		argv[argc++] = (char *)a[i];
	argv[argc] = NULL;
	FILE *devnull = freopen("/dev/null", "w", stderr);
	(void)devnull;
	return cmd_run(argc, argv);
}

static void test_cli_usage_errors(void **state)
{
	(void)state;
	assert_int_equal(run_cli(NULL, NULL, NULL, NULL), HQIO_EXIT_USAGE); /* no --guest */
	assert_int_equal(run_cli("--guest", "x", "--irq", "msix"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--mem", "lots"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--mem", "-64M"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--timeout", "0"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--assign", "nope"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--assign", "0000:01:00.0", "--assign", "0000:02:00.0"),
			 HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "stray", NULL), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--bogus", NULL, NULL, NULL), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "/nonexistent/guest.elf", NULL, NULL), HQIO_EXIT_FAIL);
	assert_int_equal(run_cli("--guest", "/dev/null", NULL, NULL), HQIO_EXIT_FAIL);
	assert_int_equal(run_cli("--guest", "x", "--reset-method", "nope"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--fault-inject", "nope"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--reset-method", NULL), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "builtin", "--host-intx", NULL), HQIO_EXIT_FAIL);
	assert_int_equal(run_cli("--guest", "x", "--storm-max", "0"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--storm-max", "-5"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--dvh-mirror", "6:0:16"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--dvh-mirror", "0:0x800"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--dvh-mirror", "0:0x800:0"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--dvh-mirror", "0:0x800:5000"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--dvh-mirror", "0:-1:16"), HQIO_EXIT_USAGE);
	assert_int_equal(run_cli("--guest", "x", "--dvh-mirror", "0:0x800:16x"), HQIO_EXIT_USAGE);
}

/* The VFIO accessors the monitor uses refuse what they do not hold. */
static void test_vfio_accessors_refuse(void **state)
{
	(void)state;
	struct hqio_bdf b = { .bus = 1 };
	struct hqio_error err = { 0 };
	int fds[1] = { 0 };
	assert_int_equal(hqio_vfio_group_fd(NULL, b), -ENODEV);
	assert_int_equal(hqio_vfio_device_fd(NULL, b), -ENODEV);
	assert_int_equal(hqio_vfio_set_irq_eventfds(NULL, b, HQIO_IRQ_MSI, fds, 1, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "not added"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loader_crafted_image_loads),
		cmocka_unit_test(test_loader_builtin_guest),
		cmocka_unit_test(test_loader_rejects_malformed),
		cmocka_unit_test(test_multiboot_info),
		cmocka_unit_test(test_cf8_decode),
		cmocka_unit_test(test_pcihost_cf8_cfc),
		cmocka_unit_test(test_pcihost_ecam),
		cmocka_unit_test(test_vmm_argument_errors),
		cmocka_unit_test(test_bar_pieces),
		cmocka_unit_test(test_vmm_no_kvm),
		cmocka_unit_test(test_cli_usage_errors),
		cmocka_unit_test(test_vfio_accessors_refuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
