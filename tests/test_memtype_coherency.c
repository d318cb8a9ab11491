/*
 * The No-Snoop coherency experiment (docs/memtype.md): a guest driver
 * writes a 32-byte descriptor into a page it mapped UC (or WC) and rings a
 * doorbell; a device fetches the descriptor with No-Snoop DMA (PCIe 5.0
 * §2.2.6.5; the device sets No Snoop because Device Control "Enable No
 * Snoop", §7.5.3.4, is set, its default). The CPU access goes through the
 * cache model (sim/cache.h) with the host effective memory type each
 * monitor design gives the page (lib/memtype):
 *   shadow          the 2009 design: the host PTE gets the PAT bits
 *                   hqio_shadow_propagate chose; the CPU walks them
 *                   through the host PAT and host MTRR;
 *   no propagation  the negative control: the host maps the page WB (PTE
 *                   PAT/PCD/PWT clear, host PAT entry 0);
 *   EPT             KVM 6.1's VMX policy (hqio_ept_kvm61), with and without
 *                   non-coherent DMA registered, the type from
 *                   hqio_ept_effective;
 *   NPT             KVM 6.1's SVM policy (hqio_npt_kvm61), the type from
 *                   hqio_npt_effective with the host PAT entry of the
 *                   nested PTE and the host MTRR.
 * The device's fetch is compared with the new descriptor (coherent) and the
 * page's previous contents (stale).
 *
 * "Non-coherent DMA not registered" has two readings, both run: the IOMMU
 * enforces snooping (Intel VT-d Snoop Control: ECAP.SC with the SNP bit in
 * the second-level entries makes the remapping hardware treat every request
 * as snooped), which is what lets KVM map WB, so the device is coherent; or
 * the device's No-Snoop requests do reach memory unsnooped while KVM was
 * not told (what "non-coherent DMA" exists to prevent), so it reads stale
 * data.
 *
 * Also the cache model's own rules (cache.h), one test per memory type.
 *
 * Negative control of the experiment itself: with sim_cache_store's WB
 * case writing through to memory (the cache not modelled), the
 * no-propagation and EPT-without-non-coherent-DMA cases read the new
 * descriptor and test_uc_* fail on "expected stale". Verified by breaking
 * cache.c during development.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "sim.h"
#include "cache.h"
#include "hqio/memtype.h"
#include "hqio/pci_regs.h"

#define MEM_BYTES (1024 * 1024)
#define PG	  SIM_PAGE_SIZE
#define DESC_LEN  32	     /* less than a line: a WC burst does not fill the WC buffer */
#define GPA_DESC  0x40000ull /* guest-physical = IOVA of the descriptor page */

/* ------------------------------------------------------------------ */
/* A descriptor-fetching device (the test's own model)                  */
/* ------------------------------------------------------------------ */

/* BAR0 registers (model choice). */
#define FETCH_DESC_LO  0x00
#define FETCH_DESC_HI  0x04
#define FETCH_DOORBELL 0x08 /* write: fetch DESC_LEN bytes at DESC now */

struct fetcher {
	struct sim_cache *cache;
	bool snoop_forced; /* the IOMMU makes every request snooped (VT-d SC/SNP) */
	uint64_t desc;
	uint8_t got[DESC_LEN];
	int rc;
	bool used_no_snoop;
	unsigned fetches;
};

static void fetcher_mmio_write(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			       uint64_t val)
{
	struct fetcher *d = f->priv;
	(void)bar;
	(void)size;
	if (off == FETCH_DESC_LO) {
		d->desc = (d->desc & ~0xffffffffull) | (uint32_t)val;
	} else if (off == FETCH_DESC_HI) {
		d->desc = (d->desc & 0xffffffffull) | (uint64_t)(uint32_t)val << 32;
	} else if (off == FETCH_DOORBELL) {
		/* The device sets No Snoop on its reads when allowed to. */
		uint16_t devctl =
			(uint16_t)sim_fn_cfg_get(f, (uint16_t)(f->exp + HQIO_PCI_EXP_DEVCTL), 2);
		d->used_no_snoop = devctl & HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN;
		bool snooped = !d->used_no_snoop || d->snoop_forced;
		d->rc = sim_cache_dma_read(d->cache, f, d->desc, d->got, DESC_LEN, snooped);
		d->fetches++;
	}
}

static const struct sim_fn_ops fetcher_ops = { .kind = "fetcher",
					       .mmio_write = fetcher_mmio_write };

/* ------------------------------------------------------------------ */
/* The machine                                                          */
/* ------------------------------------------------------------------ */

struct rig {
	struct sim_platform *p;
	struct sim_cache cache;
	struct fetcher dev;
	struct sim_fn *f;
	int dom;
	uint64_t hpa_desc;
};

static void cfg_w16(struct sim_fn *f, uint16_t off, uint16_t v)
{
	assert_int_equal(sim_cfg_write(f->plat, sim_fn_bdf(f), off, 2, v), 0);
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->p = sim_platform_new(7, MEM_BYTES);
	assert_non_null(r->p);
	sim_cache_init(&r->cache, r->p);
	r->dev.cache = &r->cache;
	struct sim_fn *rp = sim_add_root_port(r->p, 1, 0, 3);
	assert_non_null(rp);
	r->f = sim_fn_new(r->p, rp, 0, 0, HQIO_PCI_CFG_EXP_SIZE, "fetcher", &fetcher_ops, &r->dev);
	assert_non_null(r->f);
	sim_fn_header(r->f, 0x1af4, 0x10ff, 0x088000, 0, 1);
	sim_fn_bar(r->f, 0, PG, 0);
	sim_add_exp(r->f, 0x40, HQIO_PCI_EXP_TYPE_ENDPOINT, true, 3, 4);
	sim_fn_finalize(r->f);
	sim_enumerate(r->p);
	r->dom = sim_iommu_domain_new(r->p);
	assert_true(r->dom >= 0);
	sim_iommu_attach(r->p, sim_requester_id(r->f), r->dom);
	cfg_w16(r->f, HQIO_PCI_COMMAND, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	/* Enable No Snoop is set at power-on (PCIe 5.0 §7.5.3.4). */
	assert_true(sim_fn_cfg_get(r->f, (uint16_t)(r->f->exp + HQIO_PCI_EXP_DEVCTL), 2) &
		    HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN);
	r->hpa_desc = sim_mem_alloc(r->p, 1, r->dom);
	assert_true(r->hpa_desc != UINT64_MAX);
	assert_int_equal(sim_iommu_map(r->p, r->dom, GPA_DESC, r->hpa_desc, PG,
				       HQIO_DMA_READ | HQIO_DMA_WRITE),
			 0);
}

static void rig_fini(struct rig *r)
{
	sim_platform_free(r->p);
}

/* ------------------------------------------------------------------ */
/* What each monitor design gives the page                              */
/* ------------------------------------------------------------------ */

enum mode {
	M_SHADOW,
	M_NO_PROPAGATION,
	M_EPT,	  /* KVM 6.1 VMX, no non-coherent DMA registered */
	M_EPT_NC, /* KVM 6.1 VMX, non-coherent DMA registered */
	M_NPT,	  /* KVM 6.1 SVM, no non-coherent DMA registered */
	M_NPT_NC,
};

static const char *const mode_name[] = { "shadow", "no-propagation", "ept", "ept+nc",
					 "npt",	   "npt+nc" };

#define GUEST_MTRR HQIO_MT_WB	  /* guest RAM */
#define HOST_MTRR  HQIO_MT_WB	  /* host RAM */
#define GUEST_PAT  HQIO_PAT_LINUX /* a Linux guest */
#define HOST_PAT   HQIO_PAT_LINUX /* a Linux host */

struct outcome_pred {
	enum hqio_memtype cpu_type; /* effective type of the guest's stores */
	bool lib_coherent;	    /* what lib/memtype says (EPT/NPT only) */
	bool has_lib_coherent;
};

static enum sim_mt to_sim(enum hqio_memtype t)
{
	switch (t) {
	case HQIO_MT_UC:
		return SIM_MT_UC;
	case HQIO_MT_WC:
		return SIM_MT_WC;
	case HQIO_MT_WT:
		return SIM_MT_WT;
	case HQIO_MT_WP:
		return SIM_MT_WP;
	case HQIO_MT_WB:
		return SIM_MT_WB;
	case HQIO_MT_UC_MINUS:
		return SIM_MT_UC_MINUS;
	}
	fail_msg("bad memory type %d", (int)t);
	return SIM_MT_UC;
}

/* The host side of a guest mapping of type guest_pat (an entry of the
 * guest PAT). */
static struct outcome_pred host_side(enum mode m, enum hqio_memtype guest_pat)
{
	struct outcome_pred o = { 0 };
	enum hqio_memtype pat_type;
	uint64_t pte;

	switch (m) {
	case M_SHADOW: {
		struct hqio_shadow_input in;
		struct hqio_shadow_result res;
		hqio_shadow_input_init(&in);
		in.guest_mtrr = GUEST_MTRR;
		in.guest_pat = guest_pat;
		in.host_mtrr = HOST_MTRR;
		in.host_pat = HOST_PAT;
		in.page_size = HQIO_PAGE_4K;
		assert_int_equal(hqio_shadow_propagate(&in, &res), 0);
		/* The CPU walks the shadow PTE: its PAT bits, the host PAT,
		 * the host MTRR. */
		pte = res.pte_bits;
		pat_type = HQIO_PAT_ENTRY(HOST_PAT, hqio_pat_index_from_pte(pte, HQIO_PAGE_4K));
		assert_int_equal(hqio_memtype_effective(HOST_MTRR, pat_type, &o.cpu_type), 0);
		assert_int_equal(o.cpu_type, res.host_effective);
		break;
	}
	case M_NO_PROPAGATION:
		pte = 0; /* PAT/PCD/PWT clear: host PAT entry 0 */
		pat_type = HQIO_PAT_ENTRY(HOST_PAT, hqio_pat_index_from_pte(pte, HQIO_PAGE_4K));
		assert_int_equal(hqio_memtype_effective(HOST_MTRR, pat_type, &o.cpu_type), 0);
		break;
	case M_EPT:
	case M_EPT_NC: {
		struct hqio_ept_input in;
		struct hqio_vm_memtype_result res;
		hqio_ept_input_init(&in);
		in.guest_mtrr = GUEST_MTRR;
		in.guest_pat = guest_pat;
		in.noncoherent_dma = m == M_EPT_NC;
		assert_int_equal(hqio_ept_kvm61(&in, &res), 0);
		assert_int_equal(hqio_ept_effective(res.ept_type, res.ipat, guest_pat, &o.cpu_type),
				 0);
		assert_int_equal(o.cpu_type, res.device_type);
		o.lib_coherent = res.coherent;
		o.has_lib_coherent = true;
		break;
	}
	case M_NPT:
	case M_NPT_NC: {
		struct hqio_npt_input in;
		struct hqio_vm_memtype_result res;
		hqio_npt_input_init(&in);
		in.guest_mtrr = GUEST_MTRR;
		in.guest_pat = guest_pat;
		in.host_mtrr = HOST_MTRR;
		in.host_pat = HOST_PAT;
		in.nested_pat_index = 0;
		in.noncoherent_dma = m == M_NPT_NC;
		assert_int_equal(hqio_npt_kvm61(&in, &res), 0);
		assert_int_equal(hqio_npt_effective(guest_pat, HQIO_PAT_ENTRY(HOST_PAT, 0),
						    HOST_MTRR, &o.cpu_type),
				 0);
		assert_int_equal(o.cpu_type, res.device_type);
		o.lib_coherent = res.coherent;
		o.has_lib_coherent = true;
		break;
	}
	}
	return o;
}

/* ------------------------------------------------------------------ */
/* The experiment                                                       */
/* ------------------------------------------------------------------ */

enum result { COHERENT, STALE, TORN };
static const char *const result_name[] = { "coherent", "stale", "torn" };

struct run_opts {
	bool fence;	   /* the driver's wmb() before the doorbell */
	bool clflush;	   /* the driver flushes the descriptor's line */
	bool snoop_forced; /* IOMMU Snoop Control */
	bool no_snoop_off; /* Device Control Enable No Snoop cleared */
};

/* The driver writes the descriptor with the CPU type the mode gives, then
 * rings the doorbell; the device fetches it. */
static enum result run(enum mode m, uint64_t guest_pte, const struct run_opts *o,
		       enum hqio_memtype *cpu_type_out, struct outcome_pred *pred_out)
{
	struct rig r;
	rig_init(&r);
	r.dev.snoop_forced = o->snoop_forced;
	if (o->no_snoop_off) {
		uint16_t off = (uint16_t)(r.f->exp + HQIO_PCI_EXP_DEVCTL);
		cfg_w16(r.f, off,
			(uint16_t)(sim_fn_cfg_get(r.f, off, 2) & ~HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN));
	}

	/* The guest's mapping: its PTE bits through the guest PAT. */
	enum hqio_memtype guest_pat =
		HQIO_PAT_ENTRY(GUEST_PAT, hqio_pat_index_from_pte(guest_pte, HQIO_PAGE_4K));
	struct outcome_pred pred = host_side(m, guest_pat);
	enum sim_mt mt = to_sim(pred.cpu_type);

	uint8_t old[DESC_LEN], desc[DESC_LEN], tmp[DESC_LEN];
	for (unsigned i = 0; i < DESC_LEN; i++) {
		old[i] = 0xee;
		desc[i] = (uint8_t)(0x5a ^ i);
	}
	/* The page's previous contents, in memory. */
	assert_int_equal(sim_mem_write(r.p, r.hpa_desc, old, DESC_LEN), 0);
	/* The driver reads the descriptor slot (e.g. its ownership bit), then
	 * writes the new descriptor. */
	assert_int_equal(sim_cache_load(&r.cache, r.hpa_desc, tmp, DESC_LEN, mt), 0);
	assert_memory_equal(tmp, old, DESC_LEN);
	assert_int_equal(sim_cache_store(&r.cache, r.hpa_desc, desc, DESC_LEN, mt), 0);
	if (o->clflush)
		sim_cache_clflush(&r.cache, r.hpa_desc, DESC_LEN);
	if (o->fence)
		sim_cache_fence(&r.cache);
	/* The driver's own view is always the new descriptor (same type). */
	if (mt != SIM_MT_WC && mt != SIM_MT_UC && mt != SIM_MT_UC_MINUS) {
		assert_int_equal(sim_cache_load(&r.cache, r.hpa_desc, tmp, DESC_LEN, mt), 0);
		assert_memory_equal(tmp, desc, DESC_LEN);
	}

	/* Doorbell: the device fetches from the guest-physical address. */
	struct hqio_bdf bdf = sim_fn_bdf(r.f);
	assert_int_equal(sim_bar_write(r.p, bdf, 0, FETCH_DESC_LO, 4, (uint32_t)GPA_DESC), 0);
	assert_int_equal(sim_bar_write(r.p, bdf, 0, FETCH_DESC_HI, 4, GPA_DESC >> 32), 0);
	assert_int_equal(sim_bar_write(r.p, bdf, 0, FETCH_DOORBELL, 4, 1), 0);
	assert_int_equal(r.dev.fetches, 1);
	assert_int_equal(r.dev.rc, 0);
	assert_true(r.dev.used_no_snoop == !o->no_snoop_off);

	enum result res = !memcmp(r.dev.got, desc, DESC_LEN)  ? COHERENT
			  : !memcmp(r.dev.got, old, DESC_LEN) ? STALE
							      : TORN;
	if (cpu_type_out)
		*cpu_type_out = pred.cpu_type;
	if (pred_out)
		*pred_out = pred;
	rig_fini(&r);
	return res;
}

/* Guest PTE bits selecting a type in the Linux guest PAT (WB, WC, UC-, UC,
 * WB, WP, UC-, WT). */
#define PTE_UC (HQIO_PTE_PCD | HQIO_PTE_PWT) /* index 3: UC */
#define PTE_WC HQIO_PTE_PWT		     /* index 1: WC */

static void expect(enum mode m, uint64_t pte, const struct run_opts *o, enum hqio_memtype type,
		   enum result want)
{
	enum hqio_memtype got_type;
	enum result got = run(m, pte, o, &got_type, NULL);
	if (got != want || got_type != type)
		fail_msg("%s: CPU type %s (want %s), device read %s (want %s)", mode_name[m],
			 hqio_memtype_name(got_type), hqio_memtype_name(type), result_name[got],
			 result_name[want]);
}

static const struct run_opts NS = { 0 };		   /* No-Snoop fetch */
static const struct run_opts NS_FENCE = { .fence = true }; /* ... after a fence */

/* The descriptor page mapped UC by the guest. */
static void test_uc_shadow_coherent(void **state)
{
	(void)state;
	expect(M_SHADOW, PTE_UC, &NS, HQIO_MT_UC, COHERENT);
}

static void test_uc_no_propagation_stale(void **state)
{
	(void)state;
	/* The negative control: the store stays in a dirty WB line. */
	expect(M_NO_PROPAGATION, PTE_UC, &NS, HQIO_MT_WB, STALE);
	/* The same with a snooped fetch is coherent: the staleness comes from
	 * No-Snoop, not from the cache model losing data. */
	const struct run_opts snooped = { .no_snoop_off = true };
	expect(M_NO_PROPAGATION, PTE_UC, &snooped, HQIO_MT_WB, COHERENT);
	/* And a driver that flushes the line itself (clflush) is coherent. */
	const struct run_opts flushed = { .clflush = true };
	expect(M_NO_PROPAGATION, PTE_UC, &flushed, HQIO_MT_WB, COHERENT);
}

static void test_uc_ept(void **state)
{
	(void)state;
	/* No non-coherent DMA registered: EPT WB + IPAT, the guest's UC is
	 * ignored. With No-Snoop reaching memory: stale. */
	expect(M_EPT, PTE_UC, &NS, HQIO_MT_WB, STALE);
	/* ... coherent when the IOMMU forces snooping (why KVM may map WB). */
	const struct run_opts forced = { .snoop_forced = true };
	expect(M_EPT, PTE_UC, &forced, HQIO_MT_WB, COHERENT);
	/* Non-coherent DMA registered: EPT = guest MTRR (WB), IPAT clear, the
	 * guest PAT's UC applies: coherent. */
	expect(M_EPT_NC, PTE_UC, &NS, HQIO_MT_UC, COHERENT);
}

static void test_uc_npt(void **state)
{
	(void)state;
	/* KVM SVM: nested PAT entry 0 (WB), the guest PAT applies, with or
	 * without non-coherent DMA. */
	expect(M_NPT, PTE_UC, &NS, HQIO_MT_UC, COHERENT);
	expect(M_NPT_NC, PTE_UC, &NS, HQIO_MT_UC, COHERENT);
}

/* The descriptor page mapped WC by the guest: coherent only after the
 * driver's fence; stale without it even with exact propagation. */
static void test_wc_modes(void **state)
{
	(void)state;
	expect(M_SHADOW, PTE_WC, &NS_FENCE, HQIO_MT_WC, COHERENT);
	expect(M_SHADOW, PTE_WC, &NS, HQIO_MT_WC, STALE); /* the driver forgot wmb() */
	expect(M_NO_PROPAGATION, PTE_WC, &NS_FENCE, HQIO_MT_WB, STALE);
	expect(M_EPT, PTE_WC, &NS_FENCE, HQIO_MT_WB, STALE);
	expect(M_EPT_NC, PTE_WC, &NS_FENCE, HQIO_MT_WC, COHERENT);
	expect(M_NPT, PTE_WC, &NS_FENCE, HQIO_MT_WC, COHERENT);
	expect(M_NPT_NC, PTE_WC, &NS_FENCE, HQIO_MT_WC, COHERENT);
}

/* Every guest PAT index, every mode: the simulated fetch is coherent
 * exactly when the CPU type is not WB (the fence drains WC); shadow mode
 * reproduces the guest's effective type exactly; and for EPT/NPT the
 * library's `coherent` verdict matches the simulation, with "no
 * non-coherent DMA" read as "the IOMMU forces snooping". */
static void test_all_indexes_all_modes(void **state)
{
	(void)state;
	for (unsigned idx = 0; idx < 8; idx++) {
		uint64_t pte = hqio_pat_pte_bits(idx, HQIO_PAGE_4K);
		enum hqio_memtype guest_pat = HQIO_PAT_ENTRY(GUEST_PAT, idx), intended;
		assert_int_equal(hqio_memtype_effective(GUEST_MTRR, guest_pat, &intended), 0);
		for (int m = M_SHADOW; m <= M_NPT_NC; m++) {
			bool nc_absent = m == M_EPT || m == M_NPT;
			struct run_opts o = { .fence = true, .snoop_forced = nc_absent };
			enum hqio_memtype type;
			struct outcome_pred pred;
			enum result res = run((enum mode)m, pte, &o, &type, &pred);
			assert_int_not_equal(res, TORN);
			bool want_coherent = nc_absent || type != HQIO_MT_WB;
			if ((res == COHERENT) != want_coherent)
				fail_msg("index %u %s: type %s, %s", idx, mode_name[m],
					 hqio_memtype_name(type), result_name[res]);
			if (m == M_SHADOW)
				assert_int_equal(type, intended);
			if (pred.has_lib_coherent && intended != HQIO_MT_WB &&
			    pred.lib_coherent != (res == COHERENT))
				fail_msg("index %u %s: lib says coherent=%d, simulation %s", idx,
					 mode_name[m], pred.lib_coherent, result_name[res]);
		}
	}
}

/* The results table of docs/memtype.md: per guest mapping (UC, WC with the
 * driver's fence) and mode, the CPU type and what a No-Snoop fetch reads. */
static void test_print_results(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint64_t pte;
	} maps[] = { { "UC", PTE_UC }, { "WC", PTE_WC } };
	for (unsigned i = 0; i < 2; i++) {
		for (int m = M_SHADOW; m <= M_NPT_NC; m++) {
			enum hqio_memtype type;
			enum result res = run((enum mode)m, maps[i].pte, &NS_FENCE, &type, NULL);
			print_message("guest %s  %-15s CPU type %-3s  No-Snoop fetch: %s\n",
				      maps[i].name, mode_name[m], hqio_memtype_name(type),
				      result_name[res]);
		}
	}
}

/* ------------------------------------------------------------------ */
/* The cache model's rules                                              */
/* ------------------------------------------------------------------ */

struct cm {
	struct sim_platform *p;
	struct sim_cache c;
};

static void cm_init(struct cm *m)
{
	m->p = sim_platform_new(1, 64 * PG);
	assert_non_null(m->p);
	sim_cache_init(&m->c, m->p);
	uint8_t z[PG];
	memset(z, 0x11, sizeof(z));
	for (uint64_t a = 0; a < 64 * PG; a += PG)
		assert_int_equal(sim_mem_write(m->p, a, z, PG), 0);
}

static uint8_t mem_byte(struct cm *m, uint64_t a)
{
	uint8_t b = 0;
	assert_int_equal(sim_mem_read(m->p, a, &b, 1), 0);
	return b;
}

static void test_cache_wb(void **state)
{
	(void)state;
	struct cm m;
	cm_init(&m);
	uint8_t v = 0x22, r = 0;
	assert_int_equal(sim_cache_store(&m.c, 0x1000, &v, 1, SIM_MT_WB), 0);
	assert_true(sim_cache_dirty(&m.c, 0x1000));
	assert_int_equal(mem_byte(&m, 0x1000), 0x11); /* not yet in memory */
	assert_int_equal(sim_cache_load(&m.c, 0x1000, &r, 1, SIM_MT_WB), 0);
	assert_int_equal(r, 0x22);
	/* Evict by filling the set with SIM_CACHE_WAYS other lines. */
	uint64_t stride = (uint64_t)SIM_CACHE_SETS * SIM_CACHE_LINE;
	for (unsigned w = 1; w <= SIM_CACHE_WAYS; w++)
		assert_int_equal(sim_cache_load(&m.c, 0x1000 + w * stride, &r, 1, SIM_MT_WB), 0);
	assert_false(sim_cache_present(&m.c, 0x1000));
	assert_int_equal(mem_byte(&m, 0x1000), 0x22);
	assert_int_equal(m.c.st.writebacks, 1);
	/* clflush writes back and invalidates. */
	assert_int_equal(sim_cache_store(&m.c, 0x2000, &v, 1, SIM_MT_WB), 0);
	sim_cache_clflush(&m.c, 0x2000, 1);
	assert_false(sim_cache_present(&m.c, 0x2000));
	assert_int_equal(mem_byte(&m, 0x2000), 0x22);
	/* WBINVD. */
	assert_int_equal(sim_cache_store(&m.c, 0x3000, &v, 1, SIM_MT_WB), 0);
	sim_cache_flush_all(&m.c);
	assert_int_equal(mem_byte(&m, 0x3000), 0x22);
	assert_false(sim_cache_present(&m.c, 0x3000));
	sim_platform_free(m.p);
}

static void test_cache_wt_wp_uc(void **state)
{
	(void)state;
	struct cm m;
	cm_init(&m);
	uint8_t v = 0x33, r = 0;
	/* WT: store miss does not allocate, goes to memory. */
	assert_int_equal(sim_cache_store(&m.c, 0x1000, &v, 1, SIM_MT_WT), 0);
	assert_false(sim_cache_present(&m.c, 0x1000));
	assert_int_equal(mem_byte(&m, 0x1000), 0x33);
	/* WT: a read fills; a store hit updates line and memory, line clean. */
	assert_int_equal(sim_cache_load(&m.c, 0x1000, &r, 1, SIM_MT_WT), 0);
	assert_true(sim_cache_present(&m.c, 0x1000));
	v = 0x44;
	assert_int_equal(sim_cache_store(&m.c, 0x1000, &v, 1, SIM_MT_WT), 0);
	assert_false(sim_cache_dirty(&m.c, 0x1000));
	assert_int_equal(mem_byte(&m, 0x1000), 0x44);
	assert_int_equal(sim_cache_load(&m.c, 0x1000, &r, 1, SIM_MT_WT), 0);
	assert_int_equal(r, 0x44);
	/* WP: a store goes to memory and invalidates the line. */
	v = 0x55;
	assert_int_equal(sim_cache_store(&m.c, 0x1000, &v, 1, SIM_MT_WP), 0);
	assert_false(sim_cache_present(&m.c, 0x1000));
	assert_int_equal(mem_byte(&m, 0x1000), 0x55);
	/* UC and UC-: no allocation either way. */
	v = 0x66;
	assert_int_equal(sim_cache_load(&m.c, 0x2000, &r, 1, SIM_MT_UC), 0);
	assert_int_equal(sim_cache_store(&m.c, 0x2000, &v, 1, SIM_MT_UC_MINUS), 0);
	assert_false(sim_cache_present(&m.c, 0x2000));
	assert_int_equal(mem_byte(&m, 0x2000), 0x66);
	/* Argument checks. */
	assert_int_equal(sim_cache_store(&m.c, 64 * PG - 1, &v, 2, SIM_MT_WB), -EFAULT);
	assert_int_equal(sim_cache_store(&m.c, UINT64_MAX, &v, 1, SIM_MT_WB), -EFAULT);
	assert_int_equal(sim_cache_store(&m.c, 0, &v, 1, (enum sim_mt)2), -EINVAL);
	assert_int_equal(sim_cache_load(&m.c, 0, NULL, 1, SIM_MT_WB), -EINVAL);
	assert_int_equal(sim_cache_load(&m.c, 0, NULL, 0, SIM_MT_WB), 0);
	/* A store spanning lines. */
	uint8_t big[200], back[200];
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	assert_int_equal(sim_cache_store(&m.c, 0x3030, big, sizeof(big), SIM_MT_WB), 0);
	assert_int_equal(sim_cache_load(&m.c, 0x3030, back, sizeof(back), SIM_MT_WB), 0);
	assert_memory_equal(big, back, sizeof(big));
	sim_platform_free(m.p);
}

static void test_cache_wc(void **state)
{
	(void)state;
	struct cm m;
	cm_init(&m);
	uint8_t v[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(sim_cache_store(&m.c, 0x1004, v, 8, SIM_MT_WC), 0);
	assert_int_equal(mem_byte(&m, 0x1004), 0x11); /* held in the WC buffer */
	assert_false(sim_cache_present(&m.c, 0x1004));
	/* A store to another line drains the buffer (only the bytes written). */
	assert_int_equal(sim_cache_store(&m.c, 0x2000, v, 1, SIM_MT_WC), 0);
	assert_int_equal(mem_byte(&m, 0x1004), 1);
	assert_int_equal(mem_byte(&m, 0x100b), 8);
	assert_int_equal(mem_byte(&m, 0x1003), 0x11);
	assert_int_equal(mem_byte(&m, 0x100c), 0x11);
	/* A UC access drains it. */
	uint8_t r;
	assert_int_equal(sim_cache_load(&m.c, 0x5000, &r, 1, SIM_MT_UC), 0);
	assert_int_equal(mem_byte(&m, 0x2000), 1);
	/* A full line is written at once. */
	uint8_t line[SIM_CACHE_LINE];
	memset(line, 0x77, sizeof(line));
	assert_int_equal(sim_cache_store(&m.c, 0x3000, line, sizeof(line), SIM_MT_WC), 0);
	assert_int_equal(mem_byte(&m, 0x303f), 0x77);
	/* A fence drains it. */
	assert_int_equal(sim_cache_store(&m.c, 0x4000, v, 2, SIM_MT_WC), 0);
	assert_int_equal(mem_byte(&m, 0x4001), 0x11);
	sim_cache_fence(&m.c);
	assert_int_equal(mem_byte(&m, 0x4001), 2);
	sim_platform_free(m.p);
}

/* Snooped device writes update a cached line; No-Snoop ones leave it stale. */
static void test_cache_dma_write_snoop(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	uint8_t v = 0xaa, got = 0;
	assert_int_equal(sim_cache_load(&r.cache, r.hpa_desc, &got, 1, SIM_MT_WB), 0);
	assert_int_equal(sim_cache_dma_write(&r.cache, r.f, GPA_DESC, &v, 1, false), 0);
	assert_int_equal(sim_cache_load(&r.cache, r.hpa_desc, &got, 1, SIM_MT_WB), 0);
	assert_int_equal(got, 0); /* stale line */
	v = 0xbb;
	assert_int_equal(sim_cache_dma_write(&r.cache, r.f, GPA_DESC, &v, 1, true), 0);
	assert_int_equal(sim_cache_load(&r.cache, r.hpa_desc, &got, 1, SIM_MT_WB), 0);
	assert_int_equal(got, 0xbb);
	/* A snooped read of a dirty line writes it back. */
	v = 0xcc;
	assert_int_equal(sim_cache_store(&r.cache, r.hpa_desc + 1, &v, 1, SIM_MT_WB), 0);
	uint8_t two[2];
	assert_int_equal(sim_cache_dma_read(&r.cache, r.f, GPA_DESC, two, 2, true), 0);
	assert_int_equal(two[0], 0xbb);
	assert_int_equal(two[1], 0xcc);
	assert_false(sim_cache_dirty(&r.cache, r.hpa_desc));
	/* DMA to an unmapped IOVA faults through sim_dma_read. */
	assert_int_equal(sim_cache_dma_read(&r.cache, r.f, GPA_DESC + PG, two, 2, true), -EFAULT);
	rig_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uc_shadow_coherent),
		cmocka_unit_test(test_uc_no_propagation_stale),
		cmocka_unit_test(test_uc_ept),
		cmocka_unit_test(test_uc_npt),
		cmocka_unit_test(test_wc_modes),
		cmocka_unit_test(test_all_indexes_all_modes),
		cmocka_unit_test(test_print_results),
		cmocka_unit_test(test_cache_wb),
		cmocka_unit_test(test_cache_wt_wp_uc),
		cmocka_unit_test(test_cache_wc),
		cmocka_unit_test(test_cache_dma_write_snoop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
