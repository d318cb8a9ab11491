/*
 * DMA issued by a simulated function: Bus Master gating, translation per
 * 4 KiB page (the function's ATS translation cache first when ATS is
 * enabled, else the IOMMU), faults, writes landing in memory owned by
 * another domain, in-flight requests mirrored in the Transactions Pending
 * bits, and ATS invalidation.
 *
 * Choices:
 *   - issued counts calls that passed the Bus Master gate (requests that
 *     reached the link); blocked_bme counts the ones that did not, so the
 *     device's attempts are issued + blocked_bme;
 *   - a transfer is split at 4 KiB page boundaries and stops at the first
 *     page that faults: earlier pages have been written (or read into buf),
 *     the rest of buf is untouched; faults counts calls, not pages;
 *   - foreign_writes counts pages, one per page written into a foreign
 *     owner's memory (the write still lands, as it would on hardware);
 *   - a translated address outside host memory (possible only with the
 *     IOMMU disabled) is an Unsupported Request: the transfer stops there
 *     and counts as a fault, with no entry in the IOMMU fault log;
 *   - the ATS translation cache is direct-mapped: SIM_ATS_ENTRIES entries
 *     indexed by IOVA page number modulo SIM_ATS_ENTRIES. An entry holds
 *     the permissions the IOMMU has granted so far (one bit per access type
 *     that was translated); a request whose permission is not cached asks
 *     the IOMMU again, as a new Translation Request would. A hit is used
 *     without asking the IOMMU, so it survives unmapping until
 *     sim_ats_invalidate. When software clears ATS Enable the cache is
 *     dropped (the function is no longer "enabled to cache translations",
 *     PCIe 5.0 §10.5.1.3);
 *   - a NULL buffer with len > 0 is the caller's bug: -EINVAL, nothing
 *     counted;
 *   - sim_dma_reset clears the cache, the outstanding count and the
 *     Transactions Pending bits, and keeps the counters (issued,
 *     blocked_bme, faults, foreign_writes, ats_hits) so tests can still see
 *     what happened before a reset.
 */
#include "sim.h"

#include <errno.h>
#include <string.h>

#define PAGE_SHIFT 12 /* SIM_PAGE_SIZE, 4 KiB */
#define PAGE_MASK  (SIM_PAGE_SIZE - 1)

/* ------------------------------------------------------------------ */
/* ATS translation cache                                                 */
/* ------------------------------------------------------------------ */

static bool ats_enabled(const struct sim_fn *f)
{
	/* ATS Control, Enable bit 15 (PCIe 5.0 §10.5.1.3). */
	return f->ats &&
	       (sim_fn_cfg_get(f, f->ats + HQIO_PCI_ATS_CTRL, 2) & HQIO_PCI_ATS_CTRL_ENABLE);
}

static void ats_clear(struct sim_fn *f)
{
	for (unsigned i = 0; i < SIM_ATS_ENTRIES; i++)
		f->dma.ats[i].valid = false;
}

static struct sim_ats_entry *ats_slot(struct sim_fn *f, uint64_t iova_page)
{
	return &f->dma.ats[iova_page % SIM_ATS_ENTRIES];
}

/* The host page for iova_page, by the cache or the IOMMU; 0 or -EFAULT. */
static int translate_page(struct sim_fn *f, uint16_t rid, uint64_t iova, bool write,
			  uint64_t *hpa_page)
{
	struct sim_platform *p = f->plat;
	uint64_t iova_page = iova >> PAGE_SHIFT;
	unsigned need = write ? HQIO_DMA_WRITE : HQIO_DMA_READ;
	bool ats = ats_enabled(f);
	struct sim_ats_entry *e = ats_slot(f, iova_page);

	if (!ats) {
		ats_clear(f);
	} else if (e->valid && e->iova_page == iova_page && (e->prot & need)) {
		f->dma.ats_hits++; /* a translated request: the IOMMU is not asked */
		*hpa_page = e->hpa_page;
		return 0;
	}
	uint64_t hpa;
	int rc = sim_iommu_translate(p, rid, iova, write, &hpa);
	if (rc)
		return rc;
	*hpa_page = hpa >> PAGE_SHIFT;
	if (ats) {
		bool same = e->valid && e->iova_page == iova_page && e->hpa_page == *hpa_page;
		*e = (struct sim_ats_entry){ .valid = true,
					     .iova_page = iova_page,
					     .hpa_page = *hpa_page,
					     .prot = (same ? e->prot : 0) | need };
	}
	return 0;
}

void sim_ats_invalidate(struct sim_fn *f, uint64_t iova, uint64_t len)
{
	if (!len) {
		ats_clear(f);
		return;
	}
	uint64_t first = iova >> PAGE_SHIFT;
	uint64_t last = (len - 1 > UINT64_MAX - iova ? UINT64_MAX : iova + len - 1) >> PAGE_SHIFT;
	for (unsigned i = 0; i < SIM_ATS_ENTRIES; i++) {
		struct sim_ats_entry *e = &f->dma.ats[i];
		if (e->valid && e->iova_page >= first && e->iova_page <= last)
			e->valid = false;
	}
}

/* ------------------------------------------------------------------ */
/* Transfers                                                             */
/* ------------------------------------------------------------------ */

/* A write of the page at hpa by rid lands in someone else's memory. */
static bool foreign(const struct sim_platform *p, uint16_t rid, uint64_t hpa)
{
	int owner = sim_mem_owner(p, hpa), dom = p->rid_domain[rid];
	if (p->iommu_enabled)
		return owner != dom;
	return owner >= 0 && owner != dom;
}

static int dma(struct sim_fn *f, uint64_t iova, void *rbuf, const void *wbuf, uint64_t len,
	       bool write)
{
	struct sim_platform *p = f->plat;

	if (len && !(write ? wbuf : rbuf))
		return -EINVAL; /* the caller's bug, not the device's: nothing counted */
	if (!sim_fn_can_master(f)) {
		/* PCI LB 3.0 §6.2.2: with Bus Master Enable clear the function
		 * must not issue memory requests; nor while held in reset or in
		 * D3hot (PCI PM 1.2 §5.3.1.4). */
		f->dma.blocked_bme++;
		return -EPERM;
	}
	f->dma.issued++;
	if (!len)
		return 0;
	if (len - 1 > UINT64_MAX - iova) { /* wraps past the top of the address space */
		f->dma.faults++;
		return -EFAULT;
	}
	uint16_t rid = sim_requester_id(f);
	uint64_t done = 0;
	while (done < len) {
		uint64_t cur = iova + done, off = cur & PAGE_MASK;
		uint64_t chunk = SIM_PAGE_SIZE - off;
		if (chunk > len - done)
			chunk = len - done;
		uint64_t hpa_page;
		if (translate_page(f, rid, cur, write, &hpa_page)) {
			f->dma.faults++;
			return -EFAULT;
		}
		uint64_t hpa = hpa_page << PAGE_SHIFT | off;
		int rc;
		if (write) {
			if (hpa < p->mem_size && foreign(p, rid, hpa))
				f->dma.foreign_writes++;
			rc = sim_mem_write(p, hpa, (const uint8_t *)wbuf + done, chunk);
			if (!rc && p->dma_observer)
				p->dma_observer(p->dma_observer_arg, f, hpa,
						(const uint8_t *)wbuf + done, chunk);
		} else {
			rc = sim_mem_read(p, hpa, (uint8_t *)rbuf + done, chunk);
		}
		if (rc) { /* outside host memory: Unsupported Request */
			f->dma.faults++;
			return -EFAULT;
		}
		done += chunk;
	}
	return 0;
}

int sim_dma_write(struct sim_fn *f, uint64_t iova, const void *buf, uint64_t len)
{
	return dma(f, iova, NULL, buf, len, true);
}

int sim_dma_read(struct sim_fn *f, uint64_t iova, void *buf, uint64_t len)
{
	return dma(f, iova, buf, NULL, len, false);
}

/* ------------------------------------------------------------------ */
/* Transactions Pending                                                  */
/* ------------------------------------------------------------------ */

static void tp_sync(struct sim_fn *f)
{
	bool pending = f->dma.outstanding > 0;
	if (f->exp) {
		/* Device Status bit 5, Transactions Pending (PCIe 5.0 §7.5.3.5). */
		uint16_t off = (uint16_t)(f->exp + HQIO_PCI_EXP_DEVSTA);
		uint32_t v = sim_fn_cfg_get(f, off, 2);
		v = pending ? v | HQIO_PCI_EXP_DEVSTA_TRPND
			    : v & ~(uint32_t)HQIO_PCI_EXP_DEVSTA_TRPND;
		sim_fn_cfg_set(f, off, 2, v);
	}
	if (f->af && (sim_fn_cfg_get(f, f->af + HQIO_PCI_AF_CAP, 1) & HQIO_PCI_AF_CAP_TP)) {
		/* AF Status bit 0, TP; implemented only when AF Capabilities
		 * bit 0 (TP Capable) is set (PCI Advanced Features ECN, 2006). */
		uint16_t off = (uint16_t)(f->af + HQIO_PCI_AF_STATUS);
		uint32_t v = sim_fn_cfg_get(f, off, 1);
		v = pending ? v | HQIO_PCI_AF_STATUS_TP : v & ~(uint32_t)HQIO_PCI_AF_STATUS_TP;
		sim_fn_cfg_set(f, off, 1, v);
	}
}

void sim_dma_begin(struct sim_fn *f)
{
	if (f->dma.outstanding < UINT32_MAX)
		f->dma.outstanding++;
	tp_sync(f);
}

/* An end without a matching begin (e.g. for a request begun before a
 * reset cleared the count) is ignored. */
void sim_dma_end(struct sim_fn *f)
{
	if (f->dma.outstanding)
		f->dma.outstanding--;
	tp_sync(f);
}

void sim_dma_reset(struct sim_fn *f)
{
	ats_clear(f);
	f->dma.outstanding = 0;
	tp_sync(f);
}
