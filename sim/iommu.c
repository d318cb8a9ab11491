/*
 * IOMMU of the simulated platform: domains (one page table each), the
 * requester-ID context table (p->rid_domain), page-granular map/unmap,
 * translation with permission checks, and a ring of recorded faults.
 *
 * A domain's page table is an open-addressed hash map from IOVA page number
 * to host page number and permissions (struct sim_domain): linear probing,
 * power-of-two capacity, grown by rehashing when it would pass 70% load,
 * and backward-shift deletion (no tombstones), so lookups stay O(1) on
 * average however many map/unmap cycles ran. A slot is empty when its prot
 * is 0; every stored mapping has at least one of HQIO_DMA_READ/WRITE.
 *
 * Choices:
 *   - map is all-or-nothing: if any page of the range is already mapped it
 *     returns -EEXIST and maps nothing;
 *   - unmap of pages that are not mapped is not an error: the call removes
 *     whatever is mapped in the range and returns 0 (idempotent teardown,
 *     like VFIO type1 unmapping an empty range);
 *   - a bad domain number, misalignment, len 0, an empty or unknown prot,
 *     an IOVA range that wraps, or an HPA range outside host memory are
 *     -EINVAL; -ENOMEM when growing the table fails.
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>

#define PAGE_SHIFT 12 /* SIM_PAGE_SIZE, 4 KiB */
#define PAGE_MASK  (SIM_PAGE_SIZE - 1)
#define MIN_CAP	   16
#define PROT_ALL   (HQIO_DMA_READ | HQIO_DMA_WRITE)

static struct sim_domain *domain_get(struct sim_platform *p, int domain)
{
	if (domain < 0 || domain >= SIM_MAX_DOMAINS || !p->domains[domain].used)
		return NULL;
	return &p->domains[domain];
}

/* ------------------------------------------------------------------ */
/* The hash map                                                          */
/* ------------------------------------------------------------------ */

static size_t slot_of(uint64_t key, size_t cap)
{
	/* Fibonacci hashing (Knuth, TAOCP vol. 3 §6.4): multiply by 2^64/phi
	 * and keep high bits, so consecutive pages spread over the table. */
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h ^ (h >> 29) ^ (h >> 47)) & (cap - 1);
}

/* Slot holding key, or the empty slot where the probe for it ends. */
static size_t find_slot(const struct sim_domain *d, uint64_t key)
{
	size_t i = slot_of(key, d->cap);
	while (d->prot[i] && d->iova_page[i] != key)
		i = (i + 1) & (d->cap - 1);
	return i;
}

static bool lookup(const struct sim_domain *d, uint64_t key, uint64_t *hpa_page, unsigned *prot)
{
	if (!d->cap)
		return false;
	size_t i = find_slot(d, key);
	if (!d->prot[i])
		return false;
	*hpa_page = d->hpa_page[i];
	*prot = d->prot[i];
	return true;
}

static int rehash(struct sim_domain *d, size_t cap)
{
	uint64_t *iv = calloc(cap, sizeof(*iv)), *hv = calloc(cap, sizeof(*hv));
	uint8_t *pv = calloc(cap, sizeof(*pv));
	if (!iv || !hv || !pv) {
		free(iv);
		free(hv);
		free(pv);
		return -ENOMEM;
	}
	struct sim_domain nd = {
		.used = true, .iova_page = iv, .hpa_page = hv, .prot = pv, .cap = cap, .n = 0
	};
	for (size_t i = 0; i < d->cap; i++) {
		if (!d->prot[i])
			continue;
		size_t j = find_slot(&nd, d->iova_page[i]);
		nd.iova_page[j] = d->iova_page[i];
		nd.hpa_page[j] = d->hpa_page[i];
		nd.prot[j] = d->prot[i];
		nd.n++;
	}
	free(d->iova_page);
	free(d->hpa_page);
	free(d->prot);
	*d = nd;
	return 0;
}

/* Room for extra more entries without passing 70% load. */
static int reserve(struct sim_domain *d, uint64_t extra)
{
	size_t cap = d->cap ? d->cap : MIN_CAP;
	while ((d->n + extra) * 10 > (uint64_t)cap * 7) {
		if (cap > SIZE_MAX / 2 / sizeof(uint64_t))
			return -ENOMEM;
		cap *= 2;
	}
	return cap == d->cap ? 0 : rehash(d, cap);
}

static void insert(struct sim_domain *d, uint64_t key, uint64_t hpa_page, unsigned prot)
{
	size_t i = find_slot(d, key);
	if (!d->prot[i])
		d->n++;
	d->iova_page[i] = key;
	d->hpa_page[i] = hpa_page;
	d->prot[i] = (uint8_t)prot;
}

/* Backward-shift deletion for linear probing (Knuth, TAOCP vol. 3 §6.4,
 * Algorithm R): after emptying slot i, move up every later entry of the
 * same cluster whose home slot is not cyclically in (i, j]. */
static bool erase(struct sim_domain *d, uint64_t key)
{
	if (!d->cap)
		return false;
	size_t mask = d->cap - 1, i = find_slot(d, key);
	if (!d->prot[i])
		return false;
	d->prot[i] = 0;
	d->n--;
	for (size_t j = (i + 1) & mask; d->prot[j]; j = (j + 1) & mask) {
		size_t home = slot_of(d->iova_page[j], d->cap);
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		d->iova_page[i] = d->iova_page[j];
		d->hpa_page[i] = d->hpa_page[j];
		d->prot[i] = d->prot[j];
		d->prot[j] = 0;
		i = j;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Domains and context                                                   */
/* ------------------------------------------------------------------ */

int sim_iommu_domain_new(struct sim_platform *p)
{
	for (int i = 0; i < SIM_MAX_DOMAINS; i++) {
		struct sim_domain *d = &p->domains[i];
		if (d->used)
			continue;
		*d = (struct sim_domain){ .used = true };
		return i;
	}
	return -ENOSPC;
}

void sim_iommu_domain_free(struct sim_platform *p, int domain)
{
	struct sim_domain *d = domain_get(p, domain);
	if (!d)
		return; /* out of range or unused: nothing to do */
	free(d->iova_page);
	free(d->hpa_page);
	free(d->prot);
	*d = (struct sim_domain){ 0 };
	for (size_t rid = 0; rid < 65536; rid++)
		if (p->rid_domain[rid] == domain)
			p->rid_domain[rid] = -1;
}

/* A domain that does not exist (other than -1) leaves the context as it is. */
void sim_iommu_attach(struct sim_platform *p, uint16_t rid, int domain)
{
	if (domain != -1 && !domain_get(p, domain))
		return;
	p->rid_domain[rid] = (int16_t)domain;
}

/* ------------------------------------------------------------------ */
/* Mapping                                                               */
/* ------------------------------------------------------------------ */

int sim_iommu_map(struct sim_platform *p, int domain, uint64_t iova, uint64_t hpa, uint64_t len,
		  unsigned prot)
{
	struct sim_domain *d = domain_get(p, domain);
	if (!d || !len || (iova | hpa | len) & PAGE_MASK || !(prot & PROT_ALL) ||
	    (prot & ~PROT_ALL))
		return -EINVAL;
	if (len - 1 > UINT64_MAX - iova || hpa >= p->mem_size || len > p->mem_size - hpa)
		return -EINVAL;
	uint64_t first = iova >> PAGE_SHIFT, npages = len >> PAGE_SHIFT;
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t h;
		unsigned pr;
		if (lookup(d, first + i, &h, &pr))
			return -EEXIST;
	}
	int rc = reserve(d, npages);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < npages; i++)
		insert(d, first + i, (hpa >> PAGE_SHIFT) + i, prot);
	return 0;
}

int sim_iommu_unmap(struct sim_platform *p, int domain, uint64_t iova, uint64_t len)
{
	struct sim_domain *d = domain_get(p, domain);
	if (!d || !len || (iova | len) & PAGE_MASK || len - 1 > UINT64_MAX - iova)
		return -EINVAL;
	uint64_t first = iova >> PAGE_SHIFT, npages = len >> PAGE_SHIFT;
	if (npages > d->n) {
		/* A range larger than the table: walk the table instead. */
		for (size_t i = 0; i < d->cap;) {
			if (d->prot[i] && d->iova_page[i] - first < npages) {
				erase(d, d->iova_page[i]); /* may shift another entry into i */
				continue;
			}
			i++;
		}
		return 0;
	}
	for (uint64_t i = 0; i < npages && d->n; i++)
		erase(d, first + i);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Translation                                                           */
/* ------------------------------------------------------------------ */

static int fault(struct sim_platform *p, uint16_t rid, uint64_t iova, bool write, const char *why)
{
	struct sim_fault_rec *r = &p->faults[p->n_faults % SIM_FAULT_LOG];
	*r = (struct sim_fault_rec){
		.rid = rid, .iova = iova, .write = write, .when_ns = p->eng.now_ns, .why = why
	};
	p->n_faults++;
	return -EFAULT;
}

int sim_iommu_translate(struct sim_platform *p, uint16_t rid, uint64_t iova, bool write,
			uint64_t *hpa)
{
	if (!p->iommu_enabled) {
		*hpa = iova;
		return 0;
	}
	struct sim_domain *d = domain_get(p, p->rid_domain[rid]);
	if (!d)
		return fault(p, rid, iova, write, "no domain");
	uint64_t hpa_page;
	unsigned prot;
	if (!lookup(d, iova >> PAGE_SHIFT, &hpa_page, &prot))
		return fault(p, rid, iova, write, "not mapped");
	if (write && !(prot & HQIO_DMA_WRITE))
		return fault(p, rid, iova, write, "read-only");
	if (!write && !(prot & HQIO_DMA_READ))
		return fault(p, rid, iova, write, "write-only");
	*hpa = hpa_page << PAGE_SHIFT | (iova & PAGE_MASK);
	return 0;
}
