/*
 * Tests of lib/memtype: memory types for an assigned device's memory.
 *
 * The expected values are typed in here by hand from the manuals, in a
 * different form from the library (which uses precedence rules), so that a
 * wrong rule in lib/memtype/effective.c shows up as a mismatch:
 *   - SDM_11_7: Intel SDM vol. 3 §11.5.2.2 table 11-7;
 *   - shadow propagation: every (guest MTRR, guest PAT, host MTRR) for the
 *     power-on, Linux and Xen host PATs, checked against an oracle built on
 *     SDM_11_7 only;
 *   - EPT: SDM vol. 3 §28.3.7 and KVM 6.1 vmx_get_mt_mask, case by case;
 *   - NPT: AMD APM vol. 2 §15.25.8 and KVM 6.1's SVM behaviour;
 *   - MTRR lookup (SDM §11.11.4.1), PAT index (§11.12.3), CR0.CD/NW (§11.5.3).
 *
 * Negative control (run on copies of lib/memtype when this test was
 * written, linked against this file):
 *   - effective.c with WP-MTRR x UC--PAT giving UC instead of WC (the reading
 *     before the SDM's note 3): test_effective_table fails on exactly that
 *     cell ("MTRR WP x PAT UC-: got UC, SDM table 11-7 says WC"), and
 *     test_shadow_exhaustive and test_ept (case 12) fail too;
 *   - shadow.c without the preference for an entry of the guest's own type:
 *     test_shadow_exhaustive still passes (any working entry is correct)
 *     but test_shadow_examples fails (PA2, UC-, chosen instead of PA3, UC).
 * The tables here must never be generated from the library.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hqio/memtype.h"

/* Intel SDM vol. 3 §11.5.2.2, table 11-7, "Effective Page-Level Memory Types
 * for Pentium III and More Recent Processor Families" (CR0.CD = NW = 0).
 * Rows: MTRR type UC, WC, WT, WP, WB. Columns: PAT entry UC, UC-, WC, WT, WB,
 * WP (the table's own order). Cells marked (3) in the SDM (once "undefined"):
 * WC/WT, WC/WP, WT/WP, WP/UC-, WP/WT. */
static const char *const SDM_11_7[5][6] = {
	/*         UC    UC-   WC    WT    WB    WP */
	/* UC */ { "UC", "UC", "WC", "UC", "UC", "UC" },
	/* WC */ { "UC", "WC", "WC", "UC", "WC", "UC" },
	/* WT */ { "UC", "UC", "WC", "WT", "WT", "WP" },
	/* WP */ { "UC", "WC", "WC", "WT", "WP", "WP" },
	/* WB */ { "UC", "UC", "WC", "WT", "WB", "WP" },
};
static const char *const ROW_NAMES[5] = { "UC", "WC", "WT", "WP", "WB" };
static const char *const COL_NAMES[6] = { "UC", "UC-", "WC", "WT", "WB", "WP" };

static enum hqio_memtype T(const char *name)
{
	enum hqio_memtype t;
	assert_int_equal(hqio_memtype_parse(name, &t), 0);
	return t;
}

static int row_of(enum hqio_memtype mtrr)
{
	for (int r = 0; r < 5; r++)
		if (T(ROW_NAMES[r]) == mtrr)
			return r;
	fail_msg("not an MTRR type");
	return -1;
}

static int col_of(enum hqio_memtype pat)
{
	for (int c = 0; c < 6; c++)
		if (T(COL_NAMES[c]) == pat)
			return c;
	fail_msg("not a PAT type");
	return -1;
}

/* The oracle: SDM_11_7 looked up by type. */
static enum hqio_memtype sdm(enum hqio_memtype mtrr, enum hqio_memtype pat)
{
	return T(SDM_11_7[row_of(mtrr)][col_of(pat)]);
}

static void test_names(void **state)
{
	(void)state;
	/* Encodings: SDM tables 11-8 and 11-10. */
	assert_int_equal(T("UC"), 0);
	assert_int_equal(T("WC"), 1);
	assert_int_equal(T("WT"), 4);
	assert_int_equal(T("WP"), 5);
	assert_int_equal(T("WB"), 6);
	assert_int_equal(T("UC-"), 7);
	assert_int_equal(T("uc_minus"), 7);
	assert_int_equal(T("wb"), 6);
	enum hqio_memtype t;
	assert_int_equal(hqio_memtype_parse("UC-X", &t), -EINVAL);
	assert_int_equal(hqio_memtype_parse("", &t), -EINVAL);
	assert_int_equal(hqio_memtype_parse("WBX", &t), -EINVAL);
	for (unsigned i = 0; i < HQIO_MT_COUNT; i++) {
		enum hqio_memtype x = hqio_memtype_by_index(i);
		assert_int_equal(T(hqio_memtype_name(x)), x);
	}
	assert_string_equal(hqio_memtype_name((enum hqio_memtype)2), "?");
	for (unsigned e = 0; e < 256; e++) {
		assert_int_equal(hqio_memtype_valid_mtrr(e),
				 e == 0 || e == 1 || (e >= 4 && e <= 6));
		assert_int_equal(hqio_memtype_valid_pat(e), e == 0 || e == 1 || (e >= 4 && e <= 7));
	}
}

static void test_effective_table(void **state)
{
	(void)state;
	for (int r = 0; r < 5; r++) {
		for (int c = 0; c < 6; c++) {
			enum hqio_memtype got;
			assert_int_equal(
				hqio_memtype_effective(T(ROW_NAMES[r]), T(COL_NAMES[c]), &got), 0);
			if (strcmp(hqio_memtype_name(got), SDM_11_7[r][c]) != 0)
				fail_msg("MTRR %s x PAT %s: got %s, SDM table 11-7 says %s",
					 ROW_NAMES[r], COL_NAMES[c], hqio_memtype_name(got),
					 SDM_11_7[r][c]);
		}
	}
	/* UC- is not an MTRR type; reserved encodings are refused. */
	enum hqio_memtype got;
	assert_int_equal(hqio_memtype_effective(HQIO_MT_UC_MINUS, HQIO_MT_WB, &got), -EINVAL);
	assert_int_equal(hqio_memtype_effective(HQIO_MT_WB, (enum hqio_memtype)2, &got), -EINVAL);
	assert_int_equal(hqio_memtype_effective((enum hqio_memtype)3, HQIO_MT_WB, &got), -EINVAL);
}

static void test_cr0(void **state)
{
	(void)state;
	struct hqio_cr0_result r;
	/* SDM table 11-5: CD=0 NW=0 normal; CD=0 NW=1 #GP; CD=1: no fills. */
	assert_int_equal(hqio_memtype_cr0(HQIO_MT_WB, false, false, &r), 0);
	assert_int_equal(r.type, HQIO_MT_WB);
	assert_true(r.coherent);
	assert_int_equal(hqio_memtype_cr0(HQIO_MT_WB, false, true, &r), -EINVAL);
	for (unsigned i = 0; i < HQIO_MT_COUNT; i++) {
		assert_int_equal(hqio_memtype_cr0(hqio_memtype_by_index(i), true, false, &r), 0);
		assert_int_equal(r.type, HQIO_MT_UC);
		assert_true(r.coherent);
		assert_int_equal(hqio_memtype_cr0(hqio_memtype_by_index(i), true, true, &r), 0);
		assert_int_equal(r.type, HQIO_MT_UC);
		assert_false(r.coherent);
	}
}

/* ------------------------------------------------------------------- PAT */

static void test_pat(void **state)
{
	(void)state;
	/* SDM table 11-12: PA0..PA7 = WB WT UC- UC WB WT UC- UC. */
	const char *po[8] = { "WB", "WT", "UC-", "UC", "WB", "WT", "UC-", "UC" };
	/* Linux pat_bp_init: WB WC UC- UC WB WP UC- WT. */
	const char *lx[8] = { "WB", "WC", "UC-", "UC", "WB", "WP", "UC-", "WT" };
	/* Xen XEN_MSR_PAT 0x050100070406: WB WT UC- UC WC WP UC UC. */
	const char *xn[8] = { "WB", "WT", "UC-", "UC", "WC", "WP", "UC", "UC" };
	enum hqio_memtype a[8], b[8], c[8];
	for (int i = 0; i < 8; i++) {
		a[i] = T(po[i]);
		b[i] = T(lx[i]);
		c[i] = T(xn[i]);
	}
	uint64_t v;
	assert_int_equal(hqio_pat_from_types(a, &v), 0);
	assert_true(v == HQIO_PAT_POWER_ON);
	assert_true(v == 0x0007040600070406ull);
	assert_int_equal(hqio_pat_from_types(b, &v), 0);
	assert_true(v == HQIO_PAT_LINUX);
	assert_int_equal(hqio_pat_from_types(c, &v), 0);
	assert_true(v == HQIO_PAT_XEN);
	assert_true(v == 0x050100070406ull);
	for (int i = 0; i < 8; i++)
		assert_int_equal(HQIO_PAT_ENTRY(HQIO_PAT_LINUX, i), b[i]);

	assert_int_equal(hqio_pat_check(HQIO_PAT_POWER_ON), 0);
	assert_int_equal(hqio_pat_check(0x0007040600070402ull), -EINVAL); /* 2 reserved */
	assert_int_equal(hqio_pat_check(0x0007040600070403ull), -EINVAL); /* 3 reserved */
	assert_int_equal(hqio_pat_check(0x0007040600070408ull), -EINVAL); /* bit 3 reserved */
	assert_int_equal(hqio_pat_check(0x8007040600070406ull), -EINVAL); /* bit 63 reserved */
	a[5] = (enum hqio_memtype)3;
	assert_int_equal(hqio_pat_from_types(a, &v), -EINVAL);

	/* SDM §11.12.3 table 11-11: index = PAT<<2 | PCD<<1 | PWT; PWT bit 3,
	 * PCD bit 4, PAT bit 7 (4 KiB PTE) or bit 12 (2 MiB / 1 GiB). */
	assert_int_equal(hqio_pat_index(false, false, false), 0);
	assert_int_equal(hqio_pat_index(false, false, true), 1);
	assert_int_equal(hqio_pat_index(false, true, false), 2);
	assert_int_equal(hqio_pat_index(true, false, false), 4);
	assert_int_equal(hqio_pat_index(true, true, true), 7);
	assert_int_equal(hqio_pat_index_from_pte(0x80, HQIO_PAGE_4K), 4);
	assert_int_equal(hqio_pat_index_from_pte(0x80, HQIO_PAGE_2M), 0); /* bit 7 is PS there */
	assert_int_equal(hqio_pat_index_from_pte(0x1000, HQIO_PAGE_2M), 4);
	assert_int_equal(hqio_pat_index_from_pte(0x1000, HQIO_PAGE_1G), 4);
	assert_int_equal(hqio_pat_index_from_pte(0x1000, HQIO_PAGE_4K), 0); /* address bit */
	assert_int_equal(hqio_pat_index_from_pte(0x18, HQIO_PAGE_4K), 3);
	assert_int_equal(hqio_pat_index_from_pte(0x10, HQIO_PAGE_2M), 2);
	assert_int_equal(hqio_pat_index_from_pte(0xFFFFFFFFFFFFFFFFull, HQIO_PAGE_2M), 7);
	assert_true(hqio_pat_pte_bits(5, HQIO_PAGE_4K) == (0x80 | 0x08));
	assert_true(hqio_pat_pte_bits(5, HQIO_PAGE_2M) == (0x1000 | 0x08));
	assert_true(hqio_pat_pte_bits(6, HQIO_PAGE_1G) == (0x1000 | 0x10));
	assert_true(hqio_pat_pte_bits(3, HQIO_PAGE_4K) == 0x18);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(
			hqio_pat_index_from_pte(hqio_pat_pte_bits(i, HQIO_PAGE_4K), HQIO_PAGE_4K),
			i);
		assert_int_equal(
			hqio_pat_index_from_pte(hqio_pat_pte_bits(i, HQIO_PAGE_2M), HQIO_PAGE_2M),
			i);
	}
}

/* ------------------------------------------------------------------ shadow */

static unsigned index_from_bits(uint64_t bits, bool large)
{
	/* The test's own decoding (SDM table 11-11). */
	unsigned pat = large ? (unsigned)(bits >> 12) & 1u : (unsigned)(bits >> 7) & 1u;
	return pat << 2 | ((unsigned)(bits >> 4) & 1u) << 1 | ((unsigned)(bits >> 3) & 1u);
}

static void test_shadow_exhaustive(void **state)
{
	(void)state;
	const uint64_t pats[3] = { HQIO_PAT_POWER_ON, HQIO_PAT_LINUX, HQIO_PAT_XEN };
	unsigned exact_count[3] = { 0, 0, 0 };
	for (int p = 0; p < 3; p++) {
		for (int gm = 0; gm < 5; gm++) {
			for (int gp = 0; gp < 6; gp++) {
				for (int hm = 0; hm < 5; hm++) {
					struct hqio_shadow_input in;
					struct hqio_shadow_result r;
					hqio_shadow_input_init(&in);
					in.guest_mtrr = T(ROW_NAMES[gm]);
					in.guest_pat = T(COL_NAMES[gp]);
					in.host_mtrr = T(ROW_NAMES[hm]);
					in.host_pat = pats[p];
					in.page_size =
						(gm + gp + hm) % 2 ? HQIO_PAGE_2M : HQIO_PAGE_4K;
					assert_int_equal(hqio_shadow_propagate(&in, &r), 0);

					enum hqio_memtype want = T(SDM_11_7[gm][gp]);
					bool possible = false;
					for (int i = 0; i < 8; i++)
						if (sdm(in.host_mtrr, HQIO_PAT_ENTRY(pats[p], i)) ==
						    want)
							possible = true;
					assert_int_equal(r.guest_effective, want);
					assert_int_equal(r.exact, possible);
					assert_true(r.pat_index < 8);
					enum hqio_memtype entry =
						HQIO_PAT_ENTRY(pats[p], r.pat_index);
					assert_int_equal(r.host_pat_type, entry);
					assert_int_equal(r.host_effective,
							 sdm(in.host_mtrr, entry));
					if (possible)
						assert_int_equal(r.host_effective, want);
					else
						assert_int_equal(entry, HQIO_MT_UC);
					bool large = in.page_size != HQIO_PAGE_4K;
					assert_int_equal(index_from_bits(r.pte_bits, large),
							 r.pat_index);
					assert_int_equal(index_from_bits(r.pte_bits_4k, false),
							 r.pat_index);
					assert_int_equal(index_from_bits(r.pte_bits_large, true),
							 r.pat_index);
					assert_non_null(r.reason);
					exact_count[p] += r.exact;
				}
			}
		}
	}
	/* With a host PAT holding all six types (Linux, Xen), every guest type
	 * is reproducible over a WB host MTRR (the common case for RAM). */
	for (int p = 1; p < 3; p++) {
		for (int gm = 0; gm < 5; gm++) {
			for (int gp = 0; gp < 6; gp++) {
				struct hqio_shadow_input in;
				struct hqio_shadow_result r;
				hqio_shadow_input_init(&in);
				in.guest_mtrr = T(ROW_NAMES[gm]);
				in.guest_pat = T(COL_NAMES[gp]);
				in.host_pat = pats[p];
				assert_int_equal(hqio_shadow_propagate(&in, &r), 0);
				assert_true(r.exact);
			}
		}
	}
	printf("shadow exact: power-on %u/150, Linux %u/150, Xen %u/150\n", exact_count[0],
	       exact_count[1], exact_count[2]);
	assert_true(exact_count[1] > exact_count[0]);
}

static void test_shadow_examples(void **state)
{
	(void)state;
	struct hqio_shadow_input in;
	struct hqio_shadow_result r;

	/* Guest maps a descriptor page UC over its WB MTRR; host MTRR WB,
	 * power-on PAT: PA3 (UC) is preferred over PA2 (UC-, also UC here). */
	hqio_shadow_input_init(&in);
	in.guest_pat = HQIO_MT_UC;
	assert_int_equal(hqio_shadow_propagate(&in, &r), 0);
	assert_true(r.exact);
	assert_int_equal(r.guest_effective, HQIO_MT_UC);
	assert_int_equal(r.pat_index, 3);
	assert_true(r.pte_bits == 0x18); /* PCD | PWT */

	/* Guest WC over host WB with the power-on PAT: no WC entry -> UC. */
	in.guest_pat = HQIO_MT_WC;
	assert_int_equal(hqio_shadow_propagate(&in, &r), 0);
	assert_false(r.exact);
	assert_int_equal(r.guest_effective, HQIO_MT_WC);
	assert_int_equal(r.host_pat_type, HQIO_MT_UC);
	assert_int_equal(r.pat_index, 3);
	assert_int_equal(r.host_effective, HQIO_MT_UC);

	/* The same with Linux's PAT: PA1 (WC). */
	in.host_pat = HQIO_PAT_LINUX;
	assert_int_equal(hqio_shadow_propagate(&in, &r), 0);
	assert_true(r.exact);
	assert_int_equal(r.pat_index, 1);
	assert_true(r.pte_bits == 0x08);

	/* Xen's PAT: PA4 (WC) needs the PAT bit: bit 7 (4K), bit 12 (2M). */
	in.host_pat = HQIO_PAT_XEN;
	in.page_size = HQIO_PAGE_2M;
	assert_int_equal(hqio_shadow_propagate(&in, &r), 0);
	assert_true(r.exact);
	assert_int_equal(r.pat_index, 4);
	assert_true(r.pte_bits == 0x1000);
	assert_true(r.pte_bits_4k == 0x80);
	assert_true(r.pte_bits_large == 0x1000);

	/* Guest WB RAM, host MTRR WC (e.g. a framebuffer aperture): the guest
	 * wants WB, nothing over WC gives WB -> UC, inexact. */
	hqio_shadow_input_init(&in);
	in.host_mtrr = HQIO_MT_WC;
	assert_int_equal(hqio_shadow_propagate(&in, &r), 0);
	assert_false(r.exact);
	assert_int_equal(r.host_effective, HQIO_MT_UC);

	/* Guest wants WC (UC- over a guest WC MTRR); host MTRR WC: PA2 (UC-)
	 * over WC gives WC; no entry is WC itself in the power-on PAT, so the
	 * lowest index that works: PA0 (WB over WC = WC). */
	in.guest_mtrr = HQIO_MT_WC;
	in.guest_pat = HQIO_MT_UC_MINUS;
	assert_int_equal(hqio_shadow_propagate(&in, &r), 0);
	assert_true(r.exact);
	assert_int_equal(r.guest_effective, HQIO_MT_WC);
	assert_int_equal(r.pat_index, 0);

	/* Guest CR0.CD: intended UC. */
	hqio_shadow_input_init(&in);
	in.guest_cd = true;
	assert_int_equal(hqio_shadow_propagate(&in, &r), 0);
	assert_int_equal(r.guest_effective, HQIO_MT_UC);
	assert_true(r.exact);

	/* Invalid inputs. */
	hqio_shadow_input_init(&in);
	in.guest_mtrr = HQIO_MT_UC_MINUS;
	assert_int_equal(hqio_shadow_propagate(&in, &r), -EINVAL);
	hqio_shadow_input_init(&in);
	in.host_pat = 0x0202020202020202ull;
	assert_int_equal(hqio_shadow_propagate(&in, &r), -EINVAL);
	hqio_shadow_input_init(&in);
	in.page_size = (enum hqio_page_size)9;
	assert_int_equal(hqio_shadow_propagate(&in, &r), -EINVAL);
}

/* -------------------------------------------------------------------- MTRR */

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static void lookup(const struct hqio_mtrr_state *s, uint64_t addr, uint64_t len,
		   enum hqio_memtype type, bool uniform, uint64_t run_len)
{
	struct hqio_mtrr_lookup r;
	assert_int_equal(hqio_mtrr_lookup(s, addr, len, &r), 0);
	if (r.type != type || r.uniform != uniform || r.run_len != run_len)
		fail_msg("lookup %#llx+%#llx: got %s uniform=%d run=%#llx, want %s %d %#llx",
			 (unsigned long long)addr, (unsigned long long)len,
			 hqio_memtype_name(r.type), r.uniform, (unsigned long long)r.run_len,
			 hqio_memtype_name(type), uniform, (unsigned long long)run_len);
}

/* A typical BIOS layout: default UC; fixed ranges WB below 640K, UC for the
 * legacy VGA hole, WP for the option ROMs; RAM 0-2G WB; a WC aperture. */
static void typical(struct hqio_mtrr_state *s)
{
	hqio_mtrr_init(s, 8, 39);
	assert_int_equal(hqio_mtrr_set_default(s, HQIO_MT_UC, true, true), 0);
	assert_int_equal(hqio_mtrr_set_fixed(s, 0, 0xA0000, HQIO_MT_WB), 0);
	assert_int_equal(hqio_mtrr_set_fixed(s, 0xA0000, 0x20000, HQIO_MT_UC), 0);
	assert_int_equal(hqio_mtrr_set_fixed(s, 0xC0000, 0x40000, HQIO_MT_WP), 0);
	assert_int_equal(hqio_mtrr_set_var(s, 0, 0, 2 * GIB, HQIO_MT_WB), 0);
	assert_int_equal(hqio_mtrr_set_var(s, 1, 0xC0000000ull, 256 * MIB, HQIO_MT_WC), 0);
}

static void test_mtrr_registers(void **state)
{
	(void)state;
	struct hqio_mtrr_state s;
	typical(&s);
	assert_int_equal(HQIO_MTRRCAP_VCNT(s.cap), 8);
	assert_true(s.cap & HQIO_MTRRCAP_FIX);
	assert_true(s.def_type == (0x00 | 1u << 10 | 1u << 11));
	/* MTRRfix64K_00000: 8 x WB. 16K_A0000: UC. 4K_C0000..: WP. */
	assert_true(s.fixed[0] == 0x0606060606060606ull);
	assert_true(s.fixed[1] == 0x0606060606060606ull); /* 0x80000-0x9FFFF */
	assert_true(s.fixed[2] == 0);
	for (int i = 3; i < 11; i++)
		assert_true(s.fixed[i] == 0x0505050505050505ull);
	/* PHYSBASE0 = 0 | WB, PHYSMASK0 = ~(2G-1) within 39 bits | V. */
	assert_true(s.var[0].base == 6);
	assert_true(s.var[0].mask == (0x7F80000000ull | 0x800));
	assert_true(s.var[1].base == (0xC0000000ull | 1));
	assert_true(s.var[1].mask == (0x7FF0000000ull | 0x800));
	/* Misaligned or odd sizes are refused. */
	assert_int_equal(hqio_mtrr_set_var(&s, 2, 0x1000, 0x2000, HQIO_MT_WB), -EINVAL);
	assert_int_equal(hqio_mtrr_set_var(&s, 2, 0, 0x3000, HQIO_MT_WB), -EINVAL);
	assert_int_equal(hqio_mtrr_set_var(&s, 2, 0, 0x1000, HQIO_MT_UC_MINUS), -EINVAL);
	assert_int_equal(hqio_mtrr_set_fixed(&s, 0x1000, 0x1000, HQIO_MT_UC), -EINVAL);
	assert_int_equal(hqio_mtrr_set_fixed(&s, 0xF0000, 0x20000, HQIO_MT_UC), -EINVAL);
	assert_int_equal(hqio_mtrr_set_default(&s, HQIO_MT_UC_MINUS, true, true), -EINVAL);
}

static void test_mtrr_fixed(void **state)
{
	(void)state;
	struct hqio_mtrr_state s;
	struct hqio_mtrr_lookup r;
	typical(&s);
	/* FE on: fixed ranges below 1 MiB. */
	lookup(&s, 0, 0x1000, HQIO_MT_WB, true, 0x1000);
	lookup(&s, 0xA0000, 0x1000, HQIO_MT_UC, true, 0x1000);
	lookup(&s, 0xB8000, 0x8000, HQIO_MT_UC, true, 0x8000);
	lookup(&s, 0xC8000, 0x1000, HQIO_MT_WP, true, 0x1000);
	assert_int_equal(hqio_mtrr_lookup(&s, 0xC8000, 1, &r), 0);
	assert_int_equal(r.source, HQIO_MTRR_SRC_FIXED);
	/* Straddling 640K: WB then UC -> not uniform, run of 0x1000. */
	lookup(&s, 0x9F000, 0x2000, HQIO_MT_WB, false, 0x1000);
	/* Straddling 1 MiB: WP (fixed) then WB (variable range 0). */
	lookup(&s, 0xFF000, 0x2000, HQIO_MT_WP, false, 0x1000);
	/* 0-640K is WB through 64K and 16K ranges: uniform. */
	lookup(&s, 0, 0xA0000, HQIO_MT_WB, true, 0xA0000);

	/* Individual 4K ranges: one byte each. */
	assert_int_equal(hqio_mtrr_set_fixed(&s, 0xC3000, 0x1000, HQIO_MT_UC), 0);
	assert_true(s.fixed[3] == 0x0505050500050505ull);
	lookup(&s, 0xC3000, 0x1000, HQIO_MT_UC, true, 0x1000);
	lookup(&s, 0xC0000, 0x8000, HQIO_MT_WP, false, 0x3000);

	/* FE off: the variable ranges (WB 0-2G) cover the first MiB. */
	assert_int_equal(hqio_mtrr_set_default(&s, HQIO_MT_UC, true, false), 0);
	lookup(&s, 0xA0000, 0x1000, HQIO_MT_WB, true, 0x1000);
	lookup(&s, 0xC3000, 0x1000, HQIO_MT_WB, true, 0x1000);
	lookup(&s, 0, 4 * MIB, HQIO_MT_WB, true, 4 * MIB);
	assert_int_equal(hqio_mtrr_lookup(&s, 0xA0000, 1, &r), 0);
	assert_int_equal(r.source, HQIO_MTRR_SRC_VARIABLE);
}

static void test_mtrr_disabled(void **state)
{
	(void)state;
	struct hqio_mtrr_state s;
	struct hqio_mtrr_lookup r;
	typical(&s);
	/* E = 0: everything UC, whatever FE and the ranges say. */
	assert_int_equal(hqio_mtrr_set_default(&s, HQIO_MT_WB, false, true), 0);
	lookup(&s, 0, 0x1000, HQIO_MT_UC, true, 0x1000);
	lookup(&s, 0x10000000, 8 * GIB, HQIO_MT_UC, true, 8 * GIB);
	assert_int_equal(hqio_mtrr_lookup(&s, 0, 1, &r), 0);
	assert_int_equal(r.source, HQIO_MTRR_SRC_DISABLED);
	/* Reset state (init): E = 0 too. */
	hqio_mtrr_init(&s, 8, 36);
	lookup(&s, 0x100000, 0x1000, HQIO_MT_UC, true, 0x1000);
}

static void test_mtrr_variable(void **state)
{
	(void)state;
	struct hqio_mtrr_state s;
	struct hqio_mtrr_lookup r;
	typical(&s);
	/* Default type beyond the ranges. */
	lookup(&s, 2 * GIB, 0x1000, HQIO_MT_UC, true, 0x1000);
	assert_int_equal(hqio_mtrr_lookup(&s, 2 * GIB, 1, &r), 0);
	assert_int_equal(r.source, HQIO_MTRR_SRC_DEFAULT);
	lookup(&s, 0xC0000000ull, 256 * MIB, HQIO_MT_WC, true, 256 * MIB);
	/* Straddling the end of RAM: WB then UC (default). */
	lookup(&s, 2 * GIB - 0x1000, 0x2000, HQIO_MT_WB, false, 0x1000);
	/* Straddling the start of the aperture: UC then WC. */
	lookup(&s, 0xC0000000ull - 0x1000, 0x2000, HQIO_MT_UC, false, 0x1000);
	/* Uniform across 1 MiB..2 GiB. */
	lookup(&s, MIB, 2 * GIB - MIB, HQIO_MT_WB, true, 2 * GIB - MIB);
	/* len 0 is one byte; past MAXPHYADDR is refused. */
	lookup(&s, MIB, 0, HQIO_MT_WB, true, 1);
	assert_int_equal(hqio_mtrr_lookup(&s, (1ull << 39) - 0x1000, 0x2000, &r), -EINVAL);

	/* Overlaps (SDM §11.11.4.1). UC wins: a UC hole inside RAM. */
	assert_int_equal(hqio_mtrr_set_var(&s, 2, GIB, 64 * MIB, HQIO_MT_UC), 0);
	lookup(&s, GIB, 0x1000, HQIO_MT_UC, true, 0x1000);
	assert_int_equal(hqio_mtrr_lookup(&s, GIB, 0x1000, &r), 0);
	assert_false(r.undefined_overlap);
	lookup(&s, GIB - 0x1000, 0x2000, HQIO_MT_WB, false, 0x1000);
	lookup(&s, GIB + 64 * MIB - 0x1000, 0x2000, HQIO_MT_UC, false, 0x1000);
	/* WT over WB gives WT. */
	assert_int_equal(hqio_mtrr_set_var(&s, 3, 1536 * MIB, 16 * MIB, HQIO_MT_WT), 0);
	lookup(&s, 1536 * MIB, 16 * MIB, HQIO_MT_WT, true, 16 * MIB);
	assert_int_equal(hqio_mtrr_lookup(&s, 1536 * MIB, 1, &r), 0);
	assert_false(r.undefined_overlap);
	/* Same type twice: not an overlap question. */
	assert_int_equal(hqio_mtrr_set_var(&s, 4, 0, 16 * MIB, HQIO_MT_WB), 0);
	lookup(&s, 8 * MIB, 0x1000, HQIO_MT_WB, true, 0x1000);

	/* Undefined: WP over WB. Default policy UC (Linux); KVM's WB; Xen's
	 * last matching pair (pair 5, WP). */
	assert_int_equal(hqio_mtrr_set_var(&s, 5, 1600 * MIB, 32 * MIB, HQIO_MT_WP), 0);
	lookup(&s, 1600 * MIB, 0x1000, HQIO_MT_UC, true, 0x1000);
	assert_int_equal(hqio_mtrr_lookup(&s, 1600 * MIB, 0x1000, &r), 0);
	assert_true(r.undefined_overlap);
	s.undef = HQIO_MTRR_UNDEF_WB;
	lookup(&s, 1600 * MIB, 0x1000, HQIO_MT_WB, true, 0x1000);
	s.undef = HQIO_MTRR_UNDEF_LAST;
	lookup(&s, 1600 * MIB, 0x1000, HQIO_MT_WP, true, 0x1000);
	/* Undefined but with a UC range as well: UC under every policy. */
	assert_int_equal(hqio_mtrr_set_var(&s, 6, 1600 * MIB, 4 * MIB, HQIO_MT_UC), 0);
	lookup(&s, 1600 * MIB, 0x1000, HQIO_MT_UC, true, 0x1000);
	s.undef = HQIO_MTRR_UNDEF_UC;

	/* Only the first VCNT pairs count; invalid pairs are ignored. */
	assert_int_equal(hqio_mtrr_clear_var(&s, 2), 0);
	lookup(&s, GIB, 0x1000, HQIO_MT_WB, true, 0x1000);
	s.cap = (s.cap & ~0xFFull) | 1; /* VCNT = 1: only RAM WB */
	lookup(&s, 0xC0000000ull, 0x1000, HQIO_MT_UC, true, 0x1000);

	/* Reserved types and bits, non-contiguous masks. */
	typical(&s);
	s.var[0].base = (s.var[0].base & ~0xFFull) | 2;
	assert_int_equal(hqio_mtrr_lookup(&s, MIB, 1, &r), -EINVAL);
	typical(&s);
	s.var[1].mask |= 1ull << 45; /* above MAXPHYADDR 39 */
	assert_int_equal(hqio_mtrr_lookup(&s, MIB, 1, &r), -EINVAL);
	typical(&s);
	s.var[1].mask &= ~(1ull << 30); /* hole in the mask */
	assert_int_equal(hqio_mtrr_lookup(&s, MIB, 1, &r), -EINVAL);
	typical(&s);
	s.def_type = (s.def_type & ~0xFFull) | 7; /* UC- is not an MTRR type */
	assert_int_equal(hqio_mtrr_lookup(&s, 4 * GIB, 1, &r), -EINVAL);
	lookup(&s, MIB, 1, HQIO_MT_WB, true, 1); /* the default is not used there */
}

/* Eight variable ranges (the bench layout): lookups of every 1 MiB page. */
static void test_mtrr_eight(void **state)
{
	(void)state;
	struct hqio_mtrr_state s;
	hqio_mtrr_init(&s, 8, 46);
	assert_int_equal(hqio_mtrr_set_default(&s, HQIO_MT_UC, true, true), 0);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(hqio_mtrr_set_var(&s, i, (uint64_t)i * GIB, GIB,
						   i % 2 ? HQIO_MT_WB : HQIO_MT_WT),
				 0);
	lookup(&s, 0x40000000ull, GIB, HQIO_MT_WB, true, GIB);
	/* The fixed ranges are all 0 (UC) here: the first MiB is UC. */
	lookup(&s, 0, 8 * GIB, HQIO_MT_UC, false, MIB);
	lookup(&s, MIB, GIB - MIB, HQIO_MT_WT, true, GIB - MIB);
	lookup(&s, MIB, GIB, HQIO_MT_WT, false, GIB - MIB);
	lookup(&s, 7 * GIB, 2 * GIB, HQIO_MT_WB, false, GIB);
}

/* --------------------------------------------------------------------- EPT */

struct ept_case {
	const char *gm, *gp; /* guest MTRR, guest PAT */
	bool mmio, ncd, cd, quirk;
	const char *ept;
	bool ipat;
	const char *dev; /* effective type: SDM §28.3.7 + table 11-7 */
	bool match;
};

static void test_ept(void **state)
{
	(void)state;
	/* By hand, from vmx_get_mt_mask (Linux 6.1) and SDM §28.3.7. */
	static const struct ept_case cases[] = {
		/* MMIO: EPT UC, IPAT clear: guest PAT WC gives WC, else UC. */
		{ "WB", "WC", true, false, false, true, "UC", false, "WC", true },
		{ "WB", "WB", true, false, false, true, "UC", false, "UC", false },
		{ "UC", "WB", true, true, false, true, "UC", false, "UC", true },
		{ "WB", "UC-", true, false, false, true, "UC", false, "UC", true },
		/* No non-coherent DMA: WB + IPAT, guest types ignored. */
		{ "WB", "UC", false, false, false, true, "WB", true, "WB", false },
		{ "WB", "WB", false, false, false, true, "WB", true, "WB", true },
		{ "WC", "UC-", false, false, false, true, "WB", true, "WB", false },
		{ "WB", "WB", false, false, true, true, "WB", true, "WB", false },
		/* Non-coherent DMA: EPT = guest MTRR, guest PAT applies. */
		{ "WB", "UC", false, true, false, true, "WB", false, "UC", true },
		{ "WB", "WC", false, true, false, true, "WB", false, "WC", true },
		{ "UC", "WB", false, true, false, true, "UC", false, "UC", true },
		{ "WC", "UC-", false, true, false, true, "WC", false, "WC", true },
		{ "WP", "UC-", false, true, false, true, "WP", false, "WC", true },
		{ "WT", "WB", false, true, false, true, "WT", false, "WT", true },
		/* Non-coherent DMA and guest CR0.CD: quirk on -> WB|IPAT (the
		 * guest wanted UC), quirk off -> UC|IPAT. */
		{ "WB", "WB", false, true, true, true, "WB", true, "WB", false },
		{ "WB", "WB", false, true, true, false, "UC", true, "UC", true },
		{ "WB", "WC", false, true, true, false, "UC", true, "UC", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ept_case *c = &cases[i];
		struct hqio_ept_input in;
		struct hqio_vm_memtype_result r;
		hqio_ept_input_init(&in);
		in.guest_mtrr = T(c->gm);
		in.guest_pat = T(c->gp);
		in.is_mmio = c->mmio;
		in.noncoherent_dma = c->ncd;
		in.guest_cd = c->cd;
		in.quirk_cd_nw_cleared = c->quirk;
		assert_int_equal(hqio_ept_kvm61(&in, &r), 0);
		if (r.ept_type != T(c->ept) || r.ipat != c->ipat || r.device_type != T(c->dev) ||
		    r.matches_guest_intent != c->match)
			fail_msg("EPT case %zu: got EPT %s ipat=%d dev %s match=%d", i,
				 hqio_memtype_name(r.ept_type), r.ipat,
				 hqio_memtype_name(r.device_type), r.matches_guest_intent);
		/* Without non-coherent DMA every DMA is snooped: coherent. */
		if (!c->ncd)
			assert_true(r.coherent);
		assert_non_null(r.reason);
	}
	/* The architecture alone: IPAT set ignores the guest PAT. */
	enum hqio_memtype t;
	for (int r = 0; r < 5; r++) {
		for (int c = 0; c < 6; c++) {
			assert_int_equal(
				hqio_ept_effective(T(ROW_NAMES[r]), true, T(COL_NAMES[c]), &t), 0);
			assert_int_equal(t, T(ROW_NAMES[r]));
			assert_int_equal(
				hqio_ept_effective(T(ROW_NAMES[r]), false, T(COL_NAMES[c]), &t), 0);
			assert_string_equal(hqio_memtype_name(t), SDM_11_7[r][c]);
		}
	}
	assert_int_equal(hqio_ept_effective(HQIO_MT_UC_MINUS, false, HQIO_MT_WB, &t), -EINVAL);
	/* The descriptor page of the coherency scenario: guest UC on RAM with
	 * non-coherent DMA registered matches; without it the CPU writes WB
	 * (coherent only because the DMA is then snooped). */
	struct hqio_ept_input in;
	struct hqio_vm_memtype_result r;
	hqio_ept_input_init(&in);
	in.guest_pat = HQIO_MT_UC;
	in.noncoherent_dma = true;
	assert_int_equal(hqio_ept_kvm61(&in, &r), 0);
	assert_true(r.matches_guest_intent && r.coherent);
	in.noncoherent_dma = false;
	assert_int_equal(hqio_ept_kvm61(&in, &r), 0);
	assert_false(r.matches_guest_intent);
	assert_true(r.coherent);
}

/* --------------------------------------------------------------------- NPT */

struct npt_case {
	const char *gm, *gp, *hm; /* guest MTRR, guest PAT, host MTRR */
	bool cd, quirk;
	const char *dev;
	bool match;
};

static void test_npt(void **state)
{
	(void)state;
	/* Guest PAT x nested PAT, AMD APM vol. 2 §15.25.8 ("Combining Guest and
	 * Host PAT Types"), as modelled (CD reported as UC, WC+ as WC).
	 * Rows guest UC, UC-, WC, WT, WB, WP; columns nested in the same order. */
	static const char *const APM_GH[6][6] = {
		/*          UC    UC-   WC    WT    WB    WP */
		/* UC  */ { "UC", "UC", "UC", "UC", "UC", "UC" },
		/* UC- */ { "UC", "UC-", "WC", "UC", "UC", "UC" },
		/* WC  */ { "UC", "WC", "WC", "UC", "WC", "UC" },
		/* WT  */ { "UC", "UC", "UC", "WT", "WT", "UC" },
		/* WB  */ { "UC", "UC", "WC", "WT", "WB", "WP" },
		/* WP  */ { "UC", "UC", "UC", "UC", "WP", "WP" },
	};
	for (int g = 0; g < 6; g++) {
		for (int h = 0; h < 6; h++) {
			enum hqio_memtype t;
			assert_int_equal(hqio_npt_combine_pat(T(COL_NAMES[g]), T(COL_NAMES[h]), &t),
					 0);
			if (t != T(APM_GH[g][h]))
				fail_msg("guest %s x nested %s: got %s, want %s", COL_NAMES[g],
					 COL_NAMES[h], hqio_memtype_name(t), APM_GH[g][h]);
			/* then with every host MTRR, as table 11-7 */
			for (int m = 0; m < 5; m++) {
				enum hqio_memtype e;
				assert_int_equal(hqio_npt_effective(T(COL_NAMES[g]),
								    T(COL_NAMES[h]),
								    T(ROW_NAMES[m]), &e),
						 0);
				assert_int_equal(e, sdm(T(ROW_NAMES[m]), t));
			}
		}
	}
	/* KVM 6.1 SVM: nested index 0 (WB in the Linux PAT). */
	static const struct npt_case cases[] = {
		/* Guest PAT applies over WB RAM. */
		{ "WB", "UC", "WB", false, true, "UC", true },
		{ "WB", "WC", "WB", false, true, "WC", true },
		{ "WB", "WB", "WB", false, true, "WB", true },
		/* Guest MTRR UC is ignored: the guest wanted UC, gets WB. */
		{ "UC", "WB", "WB", false, true, "WB", false },
		/* Guest UC- over its WC MTRR means WC; nested WB turns UC- to CD
		 * (UC) before the host MTRR is seen. */
		{ "WC", "UC-", "WB", false, true, "UC", false },
		/* A BAR: host MTRR UC; guest WC still gives WC. */
		{ "WB", "WC", "UC", false, true, "WC", true },
		{ "WB", "WB", "UC", false, true, "UC", false },
		/* Guest CR0.CD: cleared by the quirk (WB), else UC. */
		{ "WB", "WB", "WB", true, true, "WB", false },
		{ "WB", "WB", "WB", true, false, "UC", true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct npt_case *c = &cases[i];
		struct hqio_npt_input in;
		struct hqio_vm_memtype_result r;
		for (int ncd = 0; ncd < 2; ncd++) {
			hqio_npt_input_init(&in);
			in.guest_mtrr = T(c->gm);
			in.guest_pat = T(c->gp);
			in.host_mtrr = T(c->hm);
			in.guest_cd = c->cd;
			in.quirk_cd_nw_cleared = c->quirk;
			in.noncoherent_dma = ncd; /* changes nothing but `coherent` */
			assert_int_equal(hqio_npt_kvm61(&in, &r), 0);
			if (r.device_type != T(c->dev) || r.matches_guest_intent != c->match)
				fail_msg("NPT case %zu: got %s match=%d", i,
					 hqio_memtype_name(r.device_type), r.matches_guest_intent);
			assert_int_equal(r.ept_type, HQIO_MT_WB);
			assert_false(r.ipat);
			if (!ncd)
				assert_true(r.coherent);
		}
	}
	struct hqio_npt_input in;
	struct hqio_vm_memtype_result r;
	hqio_npt_input_init(&in);
	in.nested_pat_index = 8;
	assert_int_equal(hqio_npt_kvm61(&in, &r), -EINVAL);
	hqio_npt_input_init(&in);
	in.host_mtrr = HQIO_MT_UC_MINUS;
	assert_int_equal(hqio_npt_kvm61(&in, &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_effective_table),
		cmocka_unit_test(test_cr0),
		cmocka_unit_test(test_pat),
		cmocka_unit_test(test_shadow_exhaustive),
		cmocka_unit_test(test_shadow_examples),
		cmocka_unit_test(test_mtrr_registers),
		cmocka_unit_test(test_mtrr_fixed),
		cmocka_unit_test(test_mtrr_disabled),
		cmocka_unit_test(test_mtrr_variable),
		cmocka_unit_test(test_mtrr_eight),
		cmocka_unit_test(test_ept),
		cmocka_unit_test(test_npt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
