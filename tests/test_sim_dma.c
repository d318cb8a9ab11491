/*
 * Tests of the simulator's host memory, IOMMU and DMA (sim/memory.c,
 * sim/iommu.c, sim/dma.c), through the sim API only: Bus Master gating,
 * IOMMU translation and its fault log, permissions, the ATS translation
 * cache and its invalidation, the PCIe-to-PCI bridge requester-ID alias,
 * foreign-owner writes, Transactions Pending, the IOMMU-disabled identity
 * path, map/unmap argument checking and a randomized hash-map stress test
 * against a reference array.
 *
 * Negative control: with the ATS-cache lookup removed from dma.c
 * (translate_page always asking the IOMMU), test_ats_stale_translation
 * fails: the write after the unmap returns -EFAULT instead of 0 and
 * ats_hits stays 0. Verified by breaking the code during development.
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
#include "hqio/pci_regs.h"

#define MEM_BYTES (1024 * 1024) /* 256 pages of host memory */
#define PG	  SIM_PAGE_SIZE

static const struct sim_fn_ops test_ops = { .kind = "test" };

struct rig {
	struct sim_platform *p;
	struct sim_fn *rp, *ep;
	uint16_t rid;
	int dom;
};

/* A PCIe endpoint at dev 0 below parent: PCIe capability with FLR, AF
 * with TP at 0x80, ATS at 0x100 when ats. */
static struct sim_fn *add_endpoint(struct sim_platform *p, struct sim_fn *parent, bool ats)
{
	struct sim_fn *f =
		sim_fn_new(p, parent, 0, 0, HQIO_PCI_CFG_EXP_SIZE, "ep", &test_ops, NULL);
	assert_non_null(f);
	sim_fn_header(f, 0x1af4, 0x1234, 0x020000, 0, 1);
	sim_add_exp(f, 0x40, HQIO_PCI_EXP_TYPE_ENDPOINT, true, 3, 4);
	sim_add_af(f, 0x80, true, true);
	if (ats)
		sim_add_ext_ats(f, 0x100);
	sim_fn_finalize(f);
	return f;
}

/* A conventional PCI function (no capabilities) at dev on parent's bus. */
static struct sim_fn *add_conventional(struct sim_platform *p, struct sim_fn *parent, uint8_t dev)
{
	struct sim_fn *f = sim_fn_new(p, parent, dev, 0, HQIO_PCI_CFG_SIZE, "pci", &test_ops, NULL);
	assert_non_null(f);
	sim_fn_header(f, 0x8086, 0x100e, 0x020000, 0, 1);
	sim_fn_finalize(f);
	return f;
}

static void cfg_w16(struct sim_fn *f, uint16_t off, uint16_t v)
{
	assert_int_equal(sim_cfg_write(f->plat, sim_fn_bdf(f), off, 2, v), 0);
}

static uint32_t cfg_r(struct sim_fn *f, uint16_t off, unsigned size)
{
	uint32_t v = 0;
	assert_int_equal(sim_cfg_read(f->plat, sim_fn_bdf(f), off, size, &v), 0);
	return v;
}

static void set_bme(struct sim_fn *f, bool on)
{
	cfg_w16(f, HQIO_PCI_COMMAND,
		on ? HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER : HQIO_PCI_COMMAND_MEMORY);
	assert_true(sim_fn_bus_master(f) == on);
}

static void enable_ats(struct sim_fn *f, bool on)
{
	cfg_w16(f, (uint16_t)(f->ats + HQIO_PCI_ATS_CTRL), on ? HQIO_PCI_ATS_CTRL_ENABLE : 0);
}

/* Root port 00:01.0 with an endpoint 01:00.0 attached to a fresh domain,
 * Bus Master on. */
static void rig_init(struct rig *r, bool ats)
{
	memset(r, 0, sizeof(*r));
	r->p = sim_platform_new(42, MEM_BYTES);
	assert_non_null(r->p);
	r->rp = sim_add_root_port(r->p, 1, 0, 3);
	assert_non_null(r->rp);
	r->ep = add_endpoint(r->p, r->rp, ats);
	sim_enumerate(r->p);
	r->rid = sim_requester_id(r->ep);
	assert_int_equal(r->rid, 0x0100);
	r->dom = sim_iommu_domain_new(r->p);
	assert_true(r->dom >= 0);
	sim_iommu_attach(r->p, r->rid, r->dom);
	set_bme(r->ep, true);
	if (ats)
		enable_ats(r->ep, true);
}

static void rig_fini(struct rig *r)
{
	sim_platform_free(r->p);
}

static uint64_t alloc_pages(struct sim_platform *p, uint64_t n, int owner)
{
	uint64_t hpa = sim_mem_alloc(p, n, owner);
	assert_true(hpa != UINT64_MAX);
	return hpa;
}

static void fill(struct sim_platform *p, uint64_t hpa, uint8_t v, uint64_t len)
{
	uint8_t buf[PG];
	memset(buf, v, sizeof(buf));
	for (uint64_t o = 0; o < len; o += PG)
		assert_int_equal(sim_mem_write(p, hpa + o, buf, PG), 0);
}

static bool all_bytes(struct sim_platform *p, uint64_t hpa, uint8_t v, uint64_t len)
{
	uint8_t b;
	for (uint64_t o = 0; o < len; o++) {
		assert_int_equal(sim_mem_read(p, hpa + o, &b, 1), 0);
		if (b != v)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Host memory                                                          */
/* ------------------------------------------------------------------ */

static void test_mem_alloc_owner_bounds(void **state)
{
	(void)state;
	struct sim_platform *p = sim_platform_new(1, 4 * PG);
	assert_non_null(p);
	uint64_t a = sim_mem_alloc(p, 1, -1), b = sim_mem_alloc(p, 2, 3);
	assert_int_equal(a, 0);
	assert_int_equal(b, PG);
	assert_int_equal(sim_mem_owner(p, a), -1);
	assert_int_equal(sim_mem_owner(p, b), 3);
	assert_int_equal(sim_mem_owner(p, b + 2 * PG - 1), 3);
	assert_int_equal(sim_mem_owner(p, 3 * PG), -1);	   /* not allocated yet */
	assert_true(sim_mem_alloc(p, 2, 0) == UINT64_MAX); /* only one page left */
	assert_int_equal(sim_mem_alloc(p, 1, 0), 3 * PG);
	assert_true(sim_mem_alloc(p, 1, 0) == UINT64_MAX);
	assert_int_equal(sim_mem_owner(p, 4 * PG), -2);

	sim_mem_set_owner(p, PG + 10, PG, 5); /* touches pages 1 and 2 */
	assert_int_equal(sim_mem_owner(p, PG), 5);
	assert_int_equal(sim_mem_owner(p, 2 * PG), 5);
	assert_int_equal(sim_mem_owner(p, 3 * PG), 0);

	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];
	assert_int_equal(sim_mem_write(p, 4 * PG - 8, buf, 8), 0);
	assert_int_equal(sim_mem_read(p, 4 * PG - 8, out, 8), 0);
	assert_memory_equal(buf, out, 8);
	assert_int_equal(sim_mem_write(p, 4 * PG - 7, buf, 8), -EFAULT);
	assert_int_equal(sim_mem_read(p, UINT64_MAX - 3, out, 8), -EFAULT);
	sim_platform_free(p);
}

/* ------------------------------------------------------------------ */
/* Bus Master                                                           */
/* ------------------------------------------------------------------ */

static void test_bme_off_blocks_dma(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	uint64_t hpa = alloc_pages(r.p, 1, r.dom);
	fill(r.p, hpa, 0x00, PG);
	assert_int_equal(
		sim_iommu_map(r.p, r.dom, 0x10000, hpa, PG, HQIO_DMA_READ | HQIO_DMA_WRITE), 0);
	set_bme(r.ep, false);

	uint8_t buf[64];
	memset(buf, 0xab, sizeof(buf));
	assert_int_equal(sim_dma_write(r.ep, 0x10000, buf, sizeof(buf)), -EPERM);
	assert_true(all_bytes(r.p, hpa, 0x00, PG));
	assert_int_equal(sim_dma_read(r.ep, 0x10000, buf, sizeof(buf)), -EPERM);
	assert_int_equal(buf[0], 0xab);
	assert_int_equal(r.ep->dma.blocked_bme, 2);
	assert_int_equal(r.ep->dma.issued, 0);
	assert_int_equal(r.p->n_faults, 0);

	set_bme(r.ep, true); /* the same DMA goes through once allowed */
	assert_int_equal(sim_dma_write(r.ep, 0x10000, buf, sizeof(buf)), 0);
	assert_true(all_bytes(r.p, hpa, 0xab, sizeof(buf)));
	assert_int_equal(r.ep->dma.issued, 1);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* IOMMU translation                                                    */
/* ------------------------------------------------------------------ */

static void test_unmapped_dma_faults_and_is_logged(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	uint64_t hpa = alloc_pages(r.p, 1, r.dom);
	fill(r.p, hpa, 0x11, PG);
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x10000, hpa, PG, HQIO_DMA_WRITE), 0);
	sim_run_for(&r.p->eng, 5000);

	uint8_t buf[16] = { 0 };
	assert_int_equal(sim_dma_write(r.ep, 0x20010, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(r.p->n_faults, 1);
	assert_int_equal(r.p->faults[0].rid, r.rid);
	assert_int_equal(r.p->faults[0].iova, 0x20010);
	assert_true(r.p->faults[0].write);
	assert_int_equal(r.p->faults[0].when_ns, 5000);
	assert_string_equal(r.p->faults[0].why, "not mapped");
	assert_int_equal(r.ep->dma.faults, 1);
	assert_true(all_bytes(r.p, hpa, 0x11, PG));

	assert_int_equal(sim_dma_read(r.ep, 0x30000, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(r.p->n_faults, 2);
	assert_int_equal(r.p->faults[1].iova, 0x30000);
	assert_false(r.p->faults[1].write);

	sim_iommu_attach(r.p, r.rid, -1); /* detached: even the mapped page faults */
	assert_int_equal(sim_dma_write(r.ep, 0x10000, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(r.p->n_faults, 3);
	assert_string_equal(r.p->faults[2].why, "no domain");
	assert_int_equal(r.ep->dma.faults, 3);
	rig_fini(&r);
}

static void test_fault_log_is_a_ring(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	uint8_t b = 0;
	for (uint64_t i = 0; i < SIM_FAULT_LOG + 3; i++)
		assert_int_equal(sim_dma_write(r.ep, i * PG, &b, 1), -EFAULT);
	assert_int_equal(r.p->n_faults, SIM_FAULT_LOG + 3);
	assert_int_equal(r.p->faults[0].iova, SIM_FAULT_LOG * PG);
	assert_int_equal(r.p->faults[2].iova, (SIM_FAULT_LOG + 2) * PG);
	assert_int_equal(r.p->faults[3].iova, 3 * PG);
	rig_fini(&r);
}

static void test_read_only_mapping_blocks_writes(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	uint64_t hpa = alloc_pages(r.p, 1, r.dom);
	fill(r.p, hpa, 0x5a, PG);
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x40000, hpa, PG, HQIO_DMA_READ), 0);

	uint8_t buf[32];
	assert_int_equal(sim_dma_read(r.ep, 0x40000, buf, sizeof(buf)), 0);
	assert_int_equal(buf[0], 0x5a);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(sim_dma_write(r.ep, 0x40000, buf, sizeof(buf)), -EFAULT);
	assert_true(all_bytes(r.p, hpa, 0x5a, PG));
	assert_int_equal(r.p->n_faults, 1);
	assert_string_equal(r.p->faults[0].why, "read-only");
	assert_true(r.p->faults[0].write);
	rig_fini(&r);
}

static void test_mapped_dma_lands_at_host_address(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	uint64_t a = alloc_pages(r.p, 1, r.dom), b = alloc_pages(r.p, 1, r.dom);
	fill(r.p, a, 0, PG);
	fill(r.p, b, 0, PG);
	/* Two consecutive IOVA pages backed by host pages in reverse order. */
	unsigned rw = HQIO_DMA_READ | HQIO_DMA_WRITE;
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x10000, b, PG, rw), 0);
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x11000, a, PG, rw), 0);

	uint8_t buf[200], out[200];
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i + 1);
	uint64_t iova = 0x11000 - 100; /* 100 bytes in the first page, 100 in the second */
	assert_int_equal(sim_dma_write(r.ep, iova, buf, sizeof(buf)), 0);
	assert_int_equal(sim_mem_read(r.p, b + PG - 100, out, 100), 0);
	assert_memory_equal(out, buf, 100);
	assert_int_equal(sim_mem_read(r.p, a, out, 100), 0);
	assert_memory_equal(out, buf + 100, 100);
	assert_true(all_bytes(r.p, a + 100, 0, PG - 100));

	memset(out, 0, sizeof(out));
	assert_int_equal(sim_dma_read(r.ep, iova, out, sizeof(out)), 0);
	assert_memory_equal(out, buf, sizeof(buf));
	assert_int_equal(r.ep->dma.issued, 2);
	assert_int_equal(r.ep->dma.faults, 0);
	assert_int_equal(r.ep->dma.foreign_writes, 0);
	assert_int_equal(r.p->n_faults, 0);
	rig_fini(&r);
}

static void test_fault_stops_transfer_at_that_page(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	uint64_t hpa = alloc_pages(r.p, 2, r.dom);
	fill(r.p, hpa, 0, 2 * PG);
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x10000, hpa, PG, HQIO_DMA_WRITE), 0);
	/* 0x11000 is not mapped: the first page is written, the rest is not. */
	uint8_t buf[2 * PG];
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(sim_dma_write(r.ep, 0x10000, buf, sizeof(buf)), -EFAULT);
	assert_true(all_bytes(r.p, hpa, 0x77, PG));
	assert_true(all_bytes(r.p, hpa + PG, 0, PG));
	assert_int_equal(r.p->faults[0].iova, 0x11000);
	rig_fini(&r);
}

static void test_iommu_disabled_is_identity(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	r.p->iommu_enabled = false;
	sim_iommu_attach(r.p, r.rid, -1); /* no domain needed */
	uint64_t hpa = alloc_pages(r.p, 1, -1);
	fill(r.p, hpa, 0, PG);

	uint8_t buf[4] = { 9, 8, 7, 6 };
	assert_int_equal(sim_dma_write(r.ep, hpa + 8, buf, sizeof(buf)), 0);
	assert_true(all_bytes(r.p, hpa + 8, 9, 1));
	assert_true(all_bytes(r.p, hpa + 11, 6, 1));
	uint64_t out;
	assert_int_equal(sim_iommu_translate(r.p, r.rid, 0x123456, true, &out), 0);
	assert_int_equal(out, 0x123456);
	assert_int_equal(r.ep->dma.foreign_writes, 0); /* host page: not foreign */

	/* Beyond host memory: Unsupported Request, not an IOMMU fault. */
	assert_int_equal(sim_dma_write(r.ep, MEM_BYTES, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(r.ep->dma.faults, 1);
	assert_int_equal(r.p->n_faults, 0);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* ATS                                                                  */
/* ------------------------------------------------------------------ */

static void test_ats_stale_translation(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, true);
	uint64_t hpa = alloc_pages(r.p, 1, r.dom);
	fill(r.p, hpa, 0, PG);
	assert_int_equal(
		sim_iommu_map(r.p, r.dom, 0x10000, hpa, PG, HQIO_DMA_READ | HQIO_DMA_WRITE), 0);
	uint8_t one = 1, two = 2, three = 3;
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &one, 1), 0); /* fills the cache */
	assert_int_equal(r.ep->dma.ats_hits, 0);
	assert_int_equal(sim_iommu_unmap(r.p, r.dom, 0x10000, PG), 0);

	/* The device still holds the translation: its write reaches memory. */
	assert_int_equal(sim_dma_write(r.ep, 0x10004, &two, 1), 0);
	assert_true(all_bytes(r.p, hpa + 4, 2, 1));
	assert_int_equal(r.ep->dma.ats_hits, 1);
	assert_int_equal(r.p->n_faults, 0);

	sim_ats_invalidate(r.ep, 0x10000, PG);
	assert_int_equal(sim_dma_write(r.ep, 0x10008, &three, 1), -EFAULT);
	assert_true(all_bytes(r.p, hpa + 8, 0, 1));
	assert_int_equal(r.p->n_faults, 1);
	assert_int_equal(r.p->faults[0].iova, 0x10008);
	assert_int_equal(r.ep->dma.ats_hits, 1);
	rig_fini(&r);
}

static void test_ats_invalidate_only_overlapping(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, true);
	uint64_t hpa = alloc_pages(r.p, 3, r.dom);
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x10000, hpa, 3 * PG, HQIO_DMA_WRITE), 0);
	uint8_t b = 1;
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(sim_dma_write(r.ep, 0x10000 + i * PG, &b, 1), 0);
	assert_int_equal(sim_iommu_unmap(r.p, r.dom, 0x10000, 3 * PG), 0);

	sim_ats_invalidate(r.ep, 0x11ffe, 2); /* the last two bytes of the middle page */
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), 0);
	assert_int_equal(sim_dma_write(r.ep, 0x11000, &b, 1), -EFAULT);
	assert_int_equal(sim_dma_write(r.ep, 0x12000, &b, 1), 0);
	assert_int_equal(r.ep->dma.ats_hits, 2);

	sim_ats_invalidate(r.ep, 0, 0); /* everything */
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), -EFAULT);
	assert_int_equal(sim_dma_write(r.ep, 0x12000, &b, 1), -EFAULT);
	rig_fini(&r);
}

static void test_ats_disabled_uses_no_cache(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, true);
	uint64_t hpa = alloc_pages(r.p, 1, r.dom);
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x10000, hpa, PG, HQIO_DMA_WRITE), 0);
	uint8_t b = 1;
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), 0);
	assert_int_equal(sim_iommu_unmap(r.p, r.dom, 0x10000, PG), 0);
	enable_ats(r.ep, false); /* the function may no longer cache translations */
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), -EFAULT);
	enable_ats(r.ep, true); /* nothing stale comes back */
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), -EFAULT);
	assert_int_equal(r.ep->dma.ats_hits, 0);
	rig_fini(&r);
}

static void test_ats_cached_read_does_not_grant_write(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, true);
	uint64_t hpa = alloc_pages(r.p, 1, r.dom);
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x10000, hpa, PG, HQIO_DMA_READ), 0);
	uint8_t b = 0;
	assert_int_equal(sim_dma_read(r.ep, 0x10000, &b, 1), 0);
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), -EFAULT);
	assert_string_equal(r.p->faults[0].why, "read-only");
	assert_int_equal(sim_dma_read(r.ep, 0x10000, &b, 1), 0); /* still cached for reads */
	assert_int_equal(r.ep->dma.ats_hits, 1);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Requester ID alias of a PCIe-to-PCI bridge                           */
/* ------------------------------------------------------------------ */

static void test_bridge_alias_shares_requester_id(void **state)
{
	(void)state;
	struct sim_platform *p = sim_platform_new(7, MEM_BYTES);
	assert_non_null(p);
	struct sim_fn *rp = sim_add_root_port(p, 1, 0, 3);
	struct sim_fn *br = sim_add_pcie_to_pci_bridge(p, rp);
	assert_non_null(br);
	struct sim_fn *a = add_conventional(p, br, 1), *b = add_conventional(p, br, 2);
	sim_enumerate(p);

	uint8_t sec = br->b.cfg[HQIO_PCI_SECONDARY_BUS];
	uint16_t alias = (uint16_t)(sec << 8); /* PCIe-to-PCI Bridge r1.0 §2.3 */
	assert_int_equal(sim_requester_id(a), alias);
	assert_int_equal(sim_requester_id(b), alias);
	assert_int_not_equal(hqio_bdf_rid(sim_fn_bdf(a)), alias);
	assert_int_not_equal(hqio_bdf_rid(sim_fn_bdf(b)), alias);

	int dom = sim_iommu_domain_new(p);
	sim_iommu_attach(p, alias, dom); /* only the alias is attached */
	uint64_t hpa = alloc_pages(p, 2, dom);
	fill(p, hpa, 0, 2 * PG);
	assert_int_equal(sim_iommu_map(p, dom, 0x80000, hpa, 2 * PG, HQIO_DMA_WRITE), 0);
	set_bme(a, true);
	set_bme(b, true);
	uint8_t va = 0xa, vb = 0xb;
	assert_int_equal(sim_dma_write(a, 0x80000, &va, 1), 0);
	assert_int_equal(sim_dma_write(b, 0x81000, &vb, 1), 0);
	assert_true(all_bytes(p, hpa, 0xa, 1));
	assert_true(all_bytes(p, hpa + PG, 0xb, 1));
	assert_int_equal(p->n_faults, 0);

	sim_iommu_attach(p, alias, -1); /* detaching the alias cuts both off */
	assert_int_equal(sim_dma_write(a, 0x80000, &va, 1), -EFAULT);
	assert_int_equal(sim_dma_write(b, 0x81000, &vb, 1), -EFAULT);
	assert_int_equal(p->faults[0].rid, alias);
	assert_int_equal(p->faults[1].rid, alias);
	sim_platform_free(p);
}

/* ------------------------------------------------------------------ */
/* Foreign writes                                                       */
/* ------------------------------------------------------------------ */

static void test_write_into_other_domains_page_is_foreign(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	int other = sim_iommu_domain_new(r.p);
	assert_true(other >= 0 && other != r.dom);
	uint64_t hpa = alloc_pages(r.p, 1, r.dom);
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x10000, hpa, PG, HQIO_DMA_WRITE), 0);
	uint8_t b = 0x42;
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), 0);
	assert_int_equal(r.ep->dma.foreign_writes, 0); /* its own page */

	/* The page is reclaimed and given to another guest, still mapped. */
	sim_mem_set_owner(r.p, hpa, PG, other);
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), 0);
	assert_int_equal(r.ep->dma.foreign_writes, 1);

	/* A host-owned page mapped into the domain is foreign to it too. */
	sim_mem_set_owner(r.p, hpa, PG, -1);
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), 0);
	assert_int_equal(r.ep->dma.foreign_writes, 2);
	/* Reads are never counted. */
	assert_int_equal(sim_dma_read(r.ep, 0x10000, &b, 1), -EFAULT); /* write-only map */
	assert_int_equal(r.ep->dma.foreign_writes, 2);
	rig_fini(&r);
}

static void test_iommu_disabled_foreign_is_other_domains(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	r.p->iommu_enabled = false;
	int other = sim_iommu_domain_new(r.p);
	uint64_t host = alloc_pages(r.p, 1, -1), mine = alloc_pages(r.p, 1, r.dom);
	uint64_t theirs = alloc_pages(r.p, 1, other);
	uint8_t b = 1;
	assert_int_equal(sim_dma_write(r.ep, host, &b, 1), 0);
	assert_int_equal(sim_dma_write(r.ep, mine, &b, 1), 0);
	assert_int_equal(r.ep->dma.foreign_writes, 0);
	assert_int_equal(sim_dma_write(r.ep, theirs, &b, 1), 0);
	assert_int_equal(r.ep->dma.foreign_writes, 1);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Transactions Pending                                                 */
/* ------------------------------------------------------------------ */

static bool tp_exp(struct sim_fn *f)
{
	return cfg_r(f, (uint16_t)(f->exp + HQIO_PCI_EXP_DEVSTA), 2) & HQIO_PCI_EXP_DEVSTA_TRPND;
}

static bool tp_af(struct sim_fn *f)
{
	return cfg_r(f, (uint16_t)(f->af + HQIO_PCI_AF_STATUS), 1) & HQIO_PCI_AF_STATUS_TP;
}

static void test_transactions_pending_follows_outstanding(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	assert_true(r.ep->exp && r.ep->af);
	assert_false(tp_exp(r.ep));
	assert_false(tp_af(r.ep));
	sim_dma_begin(r.ep);
	sim_dma_begin(r.ep);
	assert_int_equal(r.ep->dma.outstanding, 2);
	assert_true(tp_exp(r.ep));
	assert_true(tp_af(r.ep));
	sim_dma_end(r.ep);
	assert_true(tp_exp(r.ep));
	assert_true(tp_af(r.ep));
	sim_dma_end(r.ep);
	assert_false(tp_exp(r.ep));
	assert_false(tp_af(r.ep));
	sim_dma_end(r.ep); /* unmatched: ignored */
	assert_int_equal(r.ep->dma.outstanding, 0);
	assert_false(tp_exp(r.ep));
	rig_fini(&r);
}

static void test_transactions_pending_read_only_to_software(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, false);
	uint16_t devsta = (uint16_t)(r.ep->exp + HQIO_PCI_EXP_DEVSTA);
	cfg_w16(r.ep, devsta, HQIO_PCI_EXP_DEVSTA_TRPND); /* cannot set it */
	assert_false(tp_exp(r.ep));
	sim_dma_begin(r.ep);
	cfg_w16(r.ep, devsta, 0xffff); /* nor clear it (not RW1C) */
	assert_true(tp_exp(r.ep));
	assert_int_equal(sim_cfg_write(r.p, sim_fn_bdf(r.ep),
				       (uint16_t)(r.ep->af + HQIO_PCI_AF_STATUS), 1, 0xff),
			 0);
	assert_true(tp_af(r.ep));
	rig_fini(&r);
}

static void test_reset_clears_pending_and_cache_keeps_counters(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, true);
	uint64_t hpa = alloc_pages(r.p, 1, r.dom);
	assert_int_equal(sim_iommu_map(r.p, r.dom, 0x10000, hpa, PG, HQIO_DMA_WRITE), 0);
	uint8_t b = 1;
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), 0);
	assert_int_equal(sim_dma_write(r.ep, 0x20000, &b, 1), -EFAULT);
	sim_dma_begin(r.ep);
	assert_int_equal(sim_iommu_unmap(r.p, r.dom, 0x10000, PG), 0);

	sim_fn_reset(r.ep);
	assert_int_equal(r.ep->dma.outstanding, 0);
	assert_false(sim_fn_cfg_get(r.ep, (uint16_t)(r.ep->exp + HQIO_PCI_EXP_DEVSTA), 2) &
		     HQIO_PCI_EXP_DEVSTA_TRPND);
	assert_int_equal(r.ep->dma.issued, 2);
	assert_int_equal(r.ep->dma.faults, 1);
	/* The reset dropped the cached translation. */
	set_bme(r.ep, true);
	enable_ats(r.ep, true);
	assert_int_equal(sim_dma_write(r.ep, 0x10000, &b, 1), -EFAULT);
	assert_int_equal(r.ep->dma.ats_hits, 0);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Domains, map and unmap                                                */
/* ------------------------------------------------------------------ */

static void test_domain_lifecycle(void **state)
{
	(void)state;
	struct sim_platform *p = sim_platform_new(3, MEM_BYTES);
	assert_non_null(p);
	int d[SIM_MAX_DOMAINS];
	for (int i = 0; i < SIM_MAX_DOMAINS; i++) {
		d[i] = sim_iommu_domain_new(p);
		assert_int_equal(d[i], i);
	}
	assert_int_equal(sim_iommu_domain_new(p), -ENOSPC);

	sim_iommu_attach(p, 0x0100, d[5]);
	sim_iommu_attach(p, 0x0200, d[5]);
	sim_iommu_attach(p, 0x0300, d[6]);
	assert_int_equal(sim_iommu_map(p, d[5], 0, 0, 4 * PG, HQIO_DMA_READ), 0);
	sim_iommu_domain_free(p, d[5]);
	assert_int_equal(p->rid_domain[0x0100], -1);
	assert_int_equal(p->rid_domain[0x0200], -1);
	assert_int_equal(p->rid_domain[0x0300], d[6]);
	uint64_t hpa;
	assert_int_equal(sim_iommu_translate(p, 0x0100, 0, false, &hpa), -EFAULT);
	assert_string_equal(p->faults[0].why, "no domain");
	sim_iommu_domain_free(p, d[5]); /* again: harmless */
	sim_iommu_domain_free(p, -1);
	sim_iommu_domain_free(p, SIM_MAX_DOMAINS);

	sim_iommu_attach(p, 0x0400, d[5]); /* a freed domain cannot be attached */
	assert_int_equal(p->rid_domain[0x0400], -1);
	assert_int_equal(sim_iommu_domain_new(p), 5); /* the slot is reused, empty */
	assert_int_equal(sim_iommu_translate(p, 0x0300, 0, false, &hpa), -EFAULT);
	sim_iommu_attach(p, 0x0100, 5);
	assert_int_equal(sim_iommu_translate(p, 0x0100, 0, false, &hpa), -EFAULT);
	assert_string_equal(p->faults[2].why, "not mapped");
	sim_platform_free(p); /* frees every domain */
}

static void test_map_unmap_argument_errors(void **state)
{
	(void)state;
	struct sim_platform *p = sim_platform_new(4, MEM_BYTES);
	assert_non_null(p);
	int d = sim_iommu_domain_new(p);
	unsigned rw = HQIO_DMA_READ | HQIO_DMA_WRITE;

	assert_int_equal(sim_iommu_map(p, d, 0x1001, 0, PG, rw), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d, 0x1000, 0x10, PG, rw), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d, 0x1000, 0, PG + 1, rw), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d, 0x1000, 0, 0, rw), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d, 0x1000, 0, PG, 0), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d, 0x1000, 0, PG, 0x4), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d, 0x1000, MEM_BYTES, PG, rw), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d, 0x1000, MEM_BYTES - PG, 2 * PG, rw), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d, UINT64_MAX - PG + 1, 0, 2 * PG, rw), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d + 1, 0x1000, 0, PG, rw), -EINVAL); /* unused */
	assert_int_equal(sim_iommu_map(p, -1, 0x1000, 0, PG, rw), -EINVAL);
	assert_int_equal(sim_iommu_map(p, SIM_MAX_DOMAINS, 0x1000, 0, PG, rw), -EINVAL);
	assert_int_equal(sim_iommu_map(p, d, 0, MEM_BYTES - PG, PG, rw), 0); /* last page: fine */

	/* Overlap: -EEXIST, and nothing of the range is mapped. */
	assert_int_equal(sim_iommu_map(p, d, 0x11000, 0, PG, rw), 0);
	assert_int_equal(sim_iommu_map(p, d, 0x10000, PG, 3 * PG, rw), -EEXIST);
	sim_iommu_attach(p, 0x0100, d);
	uint64_t hpa;
	assert_int_equal(sim_iommu_translate(p, 0x0100, 0x10000, false, &hpa), -EFAULT);
	assert_int_equal(sim_iommu_translate(p, 0x0100, 0x12000, false, &hpa), -EFAULT);
	assert_int_equal(sim_iommu_translate(p, 0x0100, 0x11abc, true, &hpa), 0);
	assert_int_equal(hpa, 0xabc);

	assert_int_equal(sim_iommu_unmap(p, d, 0x11001, PG), -EINVAL);
	assert_int_equal(sim_iommu_unmap(p, d, 0x11000, 10), -EINVAL);
	assert_int_equal(sim_iommu_unmap(p, d, 0x11000, 0), -EINVAL);
	assert_int_equal(sim_iommu_unmap(p, d + 1, 0x11000, PG), -EINVAL);
	/* Unmapping a range with unmapped pages in it is fine. */
	assert_int_equal(sim_iommu_unmap(p, d, 0x10000, 3 * PG), 0);
	assert_int_equal(sim_iommu_translate(p, 0x0100, 0x11000, false, &hpa), -EFAULT);
	assert_int_equal(sim_iommu_unmap(p, d, 0x10000, 3 * PG), 0);
	/* A huge range (larger than the table) removes what is inside only. */
	assert_int_equal(sim_iommu_unmap(p, d, 0x1000, 1ULL << 40), 0);
	assert_int_equal(sim_iommu_translate(p, 0x0100, 0, false, &hpa), 0);
	assert_int_equal(hpa, MEM_BYTES - PG);
	assert_int_equal(sim_iommu_unmap(p, d, 0, 1ULL << 40), 0);
	assert_int_equal(p->domains[d].n, 0);
	sim_platform_free(p);
}

/* Thousands of random single- and multi-page map/unmap operations against
 * a reference array; translations of every key checked periodically. */
#define STRESS_KEYS 3000
#define STRESS_OPS  40000

static uint64_t stress_iova(unsigned k)
{
	/* Dense runs (clusters in the table) mixed with far-apart pages. */
	return (k < STRESS_KEYS / 2 ? 0x100000ULL + (uint64_t)k * PG
				    : ((uint64_t)k << 30) + 0x7000ULL);
}

struct ref {
	bool mapped;
	uint64_t hpa;
	unsigned prot;
};

static void stress_check(struct sim_platform *p, int d, const struct ref *ref)
{
	size_t n = 0;
	for (unsigned k = 0; k < STRESS_KEYS; k++) {
		uint64_t hpa = 0;
		bool w = ref[k].prot == HQIO_DMA_WRITE;
		int rc = sim_iommu_translate(p, 0x0100, stress_iova(k) + 0x123, w, &hpa);
		if (ref[k].mapped) {
			n++;
			assert_int_equal(rc, 0);
			assert_int_equal(hpa, ref[k].hpa + 0x123);
			rc = sim_iommu_translate(p, 0x0100, stress_iova(k), !w, &hpa);
			assert_int_equal(
				rc, ref[k].prot == (HQIO_DMA_READ | HQIO_DMA_WRITE) ? 0 : -EFAULT);
		} else {
			assert_int_equal(rc, -EFAULT);
		}
	}
	const struct sim_domain *dom = &p->domains[d];
	assert_int_equal(dom->n, n);
	assert_true(dom->cap && (dom->cap & (dom->cap - 1)) == 0);
	assert_true(dom->n * 10 <= dom->cap * 7);
	size_t used = 0;
	for (size_t i = 0; i < dom->cap; i++)
		used += dom->prot[i] != 0;
	assert_int_equal(used, n);
}

static void test_hash_map_stress(void **state)
{
	(void)state;
	struct sim_platform *p = sim_platform_new(0x5eed, MEM_BYTES);
	assert_non_null(p);
	int d = sim_iommu_domain_new(p);
	sim_iommu_attach(p, 0x0100, d);
	struct ref *ref = calloc(STRESS_KEYS, sizeof(*ref));
	assert_non_null(ref);
	static const unsigned prots[] = { HQIO_DMA_READ, HQIO_DMA_WRITE,
					  HQIO_DMA_READ | HQIO_DMA_WRITE };
	size_t peak = 0;

	for (unsigned op = 0; op < STRESS_OPS; op++) {
		unsigned k = (unsigned)sim_rand_below(&p->eng, STRESS_KEYS);
		/* Runs of up to 8 keys inside the dense half. */
		unsigned run = 1;
		if (k < STRESS_KEYS / 2 && sim_rand_below(&p->eng, 4) == 0)
			run = 1 + (unsigned)sim_rand_below(&p->eng, 8);
		if (k + run > STRESS_KEYS / 2 && k < STRESS_KEYS / 2)
			run = STRESS_KEYS / 2 - k;
		bool any_mapped = false;
		for (unsigned i = 0; i < run; i++)
			any_mapped |= ref[k + i].mapped;
		/* Bias towards mapping while the table is small, so it grows. */
		bool do_map = sim_rand_below(&p->eng, 100) < (op < STRESS_OPS / 2 ? 65 : 35);
		if (do_map) {
			uint64_t hpa = sim_rand_below(&p->eng, MEM_BYTES / PG - run) * PG;
			unsigned prot = prots[sim_rand_below(&p->eng, 3)];
			int rc = sim_iommu_map(p, d, stress_iova(k), hpa, run * PG, prot);
			if (any_mapped) {
				assert_int_equal(rc, -EEXIST);
			} else {
				assert_int_equal(rc, 0);
				for (unsigned i = 0; i < run; i++)
					ref[k + i] = (struct ref){ true, hpa + i * PG, prot };
			}
		} else {
			assert_int_equal(sim_iommu_unmap(p, d, stress_iova(k), run * PG), 0);
			for (unsigned i = 0; i < run; i++)
				ref[k + i].mapped = false;
		}
		if (p->domains[d].n > peak)
			peak = p->domains[d].n;
		if (op % 2000 == 1999)
			stress_check(p, d, ref);
	}
	stress_check(p, d, ref);
	assert_true(peak > STRESS_KEYS / 2); /* the table really grew */
	/* Unmap everything key by key: the table empties. */
	for (unsigned k = 0; k < STRESS_KEYS; k++) {
		assert_int_equal(sim_iommu_unmap(p, d, stress_iova(k), PG), 0);
		ref[k].mapped = false;
	}
	stress_check(p, d, ref);
	assert_int_equal(p->domains[d].n, 0);
	free(ref);
	sim_platform_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mem_alloc_owner_bounds),
		cmocka_unit_test(test_bme_off_blocks_dma),
		cmocka_unit_test(test_unmapped_dma_faults_and_is_logged),
		cmocka_unit_test(test_fault_log_is_a_ring),
		cmocka_unit_test(test_read_only_mapping_blocks_writes),
		cmocka_unit_test(test_mapped_dma_lands_at_host_address),
		cmocka_unit_test(test_fault_stops_transfer_at_that_page),
		cmocka_unit_test(test_iommu_disabled_is_identity),
		cmocka_unit_test(test_ats_stale_translation),
		cmocka_unit_test(test_ats_invalidate_only_overlapping),
		cmocka_unit_test(test_ats_disabled_uses_no_cache),
		cmocka_unit_test(test_ats_cached_read_does_not_grant_write),
		cmocka_unit_test(test_bridge_alias_shares_requester_id),
		cmocka_unit_test(test_write_into_other_domains_page_is_foreign),
		cmocka_unit_test(test_iommu_disabled_foreign_is_other_domains),
		cmocka_unit_test(test_transactions_pending_follows_outstanding),
		cmocka_unit_test(test_transactions_pending_read_only_to_software),
		cmocka_unit_test(test_reset_clears_pending_and_cache_keeps_counters),
		cmocka_unit_test(test_domain_lifecycle),
		cmocka_unit_test(test_map_unmap_argument_errors),
		cmocka_unit_test(test_hash_map_stress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
