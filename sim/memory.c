/*
 * Host memory of the simulated platform: one flat byte array with an owner
 * per 4 KiB page (-1: the host itself, >= 0: an IOMMU domain, i.e. a
 * guest), a bump allocator that never reuses pages, and bounds-checked CPU
 * accesses. Reclaiming memory is modelled by changing a page's owner, which
 * is what lets dma.c notice a device write landing in someone else's page.
 */
#include "sim.h"

#include <errno.h>
#include <string.h>

/* Owner values accepted: -1 (host) and non-negative domain numbers that
 * fit the owner array's element type. -2 is sim_mem_owner's "outside". */
static bool owner_valid(int owner)
{
	return owner >= -1 && owner <= INT16_MAX;
}

/* [addr, addr + len) lies inside host memory (overflow-safe; len > 0). */
static bool in_mem(const struct sim_platform *p, uint64_t addr, uint64_t len)
{
	return addr < p->mem_size && len <= p->mem_size - addr;
}

uint64_t sim_mem_alloc(struct sim_platform *p, uint64_t npages, int owner)
{
	if (!npages || !owner_valid(owner) || p->mem_next > p->mem_size)
		return UINT64_MAX;
	if (npages > (p->mem_size - p->mem_next) / SIM_PAGE_SIZE)
		return UINT64_MAX; /* out of memory */
	uint64_t hpa = p->mem_next;
	p->mem_next += npages * SIM_PAGE_SIZE;
	for (uint64_t i = 0; i < npages; i++)
		p->owner[hpa / SIM_PAGE_SIZE + i] = (int16_t)owner;
	return hpa;
}

/* Every page overlapping [hpa, hpa + len), clipped to host memory. */
void sim_mem_set_owner(struct sim_platform *p, uint64_t hpa, uint64_t len, int owner)
{
	if (!len || !owner_valid(owner) || hpa >= p->mem_size)
		return;
	uint64_t last = len - 1 > p->mem_size - 1 - hpa ? p->mem_size - 1 : hpa + len - 1;
	for (uint64_t pg = hpa / SIM_PAGE_SIZE; pg <= last / SIM_PAGE_SIZE; pg++)
		p->owner[pg] = (int16_t)owner;
}

int sim_mem_owner(const struct sim_platform *p, uint64_t hpa)
{
	if (hpa >= p->mem_size)
		return -2;
	return p->owner[hpa / SIM_PAGE_SIZE];
}

int sim_mem_read(struct sim_platform *p, uint64_t hpa, void *buf, uint64_t len)
{
	if (!len)
		return 0;
	if (!buf || !in_mem(p, hpa, len))
		return -EFAULT;
	memcpy(buf, p->mem + hpa, len);
	return 0;
}

int sim_mem_write(struct sim_platform *p, uint64_t hpa, const void *buf, uint64_t len)
{
	if (!len)
		return 0;
	if (!buf || !in_mem(p, hpa, len))
		return -EFAULT;
	memcpy(p->mem + hpa, buf, len);
	return 0;
}
