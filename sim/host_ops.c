/*
 * struct hqio_host_ops for the simulated platform. It behaves like the
 * Linux VFIO backend will: configuration and BAR accesses go to the
 * function, interrupts are programmed with host MSI addresses and
 * dispatched to the registered handler (INTx through the IOAPIC, masked
 * after each delivery until unmasked, as VFIO does), and DMA mappings go
 * into the IOMMU domain of the function's requester ID.
 */
#include "sim.h"

#include <errno.h>
#include <string.h>

#define HOST_MSI_ADDR	      0xfee00000ULL /* x86 interrupt address range (Intel SDM vol. 3 §11.11.1) */
#define HOST_INTX_VECTOR_BASE 0x30	    /* IOAPIC vectors given to INTx pins: 0x30 + pin */

static struct sim_fn *fn_of(struct sim_platform *p, struct hqio_bdf bdf)
{
	return sim_route(p, bdf);
}

static int h_cfg_read(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t *val)
{
	return sim_cfg_read(ctx, bdf, off, size, val);
}

static int h_cfg_write(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t val)
{
	return sim_cfg_write(ctx, bdf, off, size, val);
}

static int h_bar_read(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		      uint64_t *val)
{
	return sim_bar_read(ctx, bdf, bar, off, size, val);
}

static int h_bar_write(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		       uint64_t val)
{
	return sim_bar_write(ctx, bdf, bar, off, size, val);
}

static uint64_t h_now(void *ctx)
{
	return ((struct sim_platform *)ctx)->eng.now_ns;
}

static int h_sleep(void *ctx, uint64_t ns)
{
	sim_run_for(&((struct sim_platform *)ctx)->eng, ns);
	return 0;
}

static int h_wait_until(void *ctx, bool (*cond)(void *arg), void *arg, uint64_t poll_ns,
			uint64_t timeout_ns)
{
	struct sim_platform *p = ctx;
	uint64_t deadline = p->eng.now_ns + timeout_ns;
	if (poll_ns == 0)
		poll_ns = 1;
	while (!cond(arg)) {
		if (p->eng.now_ns >= deadline)
			return -ETIMEDOUT;
		uint64_t step =
			deadline - p->eng.now_ns < poll_ns ? deadline - p->eng.now_ns : poll_ns;
		sim_run_for(&p->eng, step);
	}
	return 0;
}

/* ---- interrupts ---------------------------------------------------- */

static void release_vectors(struct sim_platform *p, struct hqio_bdf bdf, enum hqio_irq_type type)
{
	for (unsigned i = 0; i < SIM_HOST_VECTORS; i++) {
		struct sim_host_vector *v = &p->host_vectors[i];
		if (v->used && v->type == type && hqio_bdf_cmp(v->bdf, bdf) == 0)
			memset(v, 0, sizeof(*v));
	}
}

/* count consecutive free host vectors starting at a multiple of align. */
static int alloc_vectors(struct sim_platform *p, unsigned count, unsigned align)
{
	for (unsigned base = align; base + count <= SIM_HOST_VECTORS; base += align) {
		unsigned k = 0;
		while (k < count && !p->host_vectors[base + k].used)
			k++;
		if (k == count)
			return (int)base;
	}
	return -ENOSPC;
}

static void claim(struct sim_platform *p, unsigned hv, struct hqio_bdf bdf, enum hqio_irq_type type,
		  unsigned vector, hqio_irq_fn fn, void *arg)
{
	p->host_vectors[hv] = (struct sim_host_vector){
		.used = true, .bdf = bdf, .type = type, .vector = vector, .fn = fn, .arg = arg
	};
}

static void host_msi_sink(void *arg, const struct sim_msi_msg *m)
{
	struct sim_platform *p = arg;
	if ((m->addr & 0xfff00000ULL) != HOST_MSI_ADDR)
		return;
	unsigned hv = m->data % SIM_HOST_VECTORS;
	struct sim_host_vector *v = &p->host_vectors[hv];
	if (v->used && v->fn)
		v->fn(v->arg, v->bdf, v->type, v->vector);
}

static void host_ioapic_sink(void *arg, unsigned pin, uint8_t vector)
{
	struct sim_platform *p = arg;
	(void)vector;
	/* VFIO masks a level interrupt in the handler and EOIs; the owner
	 * unmasks it once the device was serviced. Every device routed to
	 * the pin that asserts INTx gets its handler called. */
	sim_ioapic_program(p, pin, (uint8_t)(HOST_INTX_VECTOR_BASE + pin), true, true);
	sim_ioapic_eoi(p, pin);
	for (unsigned i = 0; i < SIM_HOST_VECTORS; i++) {
		struct sim_host_vector *v = &p->host_vectors[i];
		if (!v->used || v->type != HQIO_IRQ_INTX || v->vector != pin)
			continue;
		struct sim_fn *f = sim_find(p, v->bdf);
		if (f && f->irq.intx_asserted && v->fn)
			v->fn(v->arg, v->bdf, HQIO_IRQ_INTX, 0);
	}
}

static int set_msi(struct sim_platform *p, struct sim_fn *f, struct hqio_bdf bdf, unsigned count,
		   hqio_irq_fn fn, void *arg)
{
	if (!f->msi)
		return -EOPNOTSUPP;
	uint16_t flags = (uint16_t)sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_FLAGS, 2);
	unsigned cap = 1u << ((flags & HQIO_PCI_MSI_FLAGS_QMASK) >> 1);
	unsigned log2 = 0;
	while ((1u << log2) < count)
		log2++;
	if ((1u << log2) > cap)
		return -EINVAL;
	int base = alloc_vectors(p, 1u << log2, 1u << log2);
	if (base < 0)
		return base;
	for (unsigned i = 0; i < count; i++)
		claim(p, (unsigned)base + i, bdf, HQIO_IRQ_MSI, i, fn, arg);
	bool a64 = flags & HQIO_PCI_MSI_FLAGS_64BIT;
	sim_cfg_write(p, bdf, f->msi + HQIO_PCI_MSI_ADDRESS_LO, 4, (uint32_t)HOST_MSI_ADDR);
	if (a64)
		sim_cfg_write(p, bdf, f->msi + HQIO_PCI_MSI_ADDRESS_HI, 4, 0);
	sim_cfg_write(p, bdf, f->msi + (a64 ? HQIO_PCI_MSI_DATA_64 : HQIO_PCI_MSI_DATA_32), 2,
		      (uint32_t)base);
	flags = (uint16_t)((flags & ~HQIO_PCI_MSI_FLAGS_QSIZE) | log2 << 4 |
			   HQIO_PCI_MSI_FLAGS_ENABLE);
	sim_cfg_write(p, bdf, f->msi + HQIO_PCI_MSI_FLAGS, 2, flags);
	return 0;
}

static int msix_table(struct sim_fn *f, unsigned *bir, uint32_t *off, unsigned *size)
{
	if (!f->msix)
		return -EOPNOTSUPP;
	uint32_t t = sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_TABLE, 4);
	*bir = t & HQIO_PCI_MSIX_BIR_MASK;
	*off = t & HQIO_PCI_MSIX_OFFSET_MASK;
	*size = (sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_FLAGS, 2) & HQIO_PCI_MSIX_FLAGS_QSIZE) +
		1;
	return 0;
}

static int set_msix(struct sim_platform *p, struct sim_fn *f, struct hqio_bdf bdf, unsigned count,
		    hqio_irq_fn fn, void *arg)
{
	unsigned bir, size;
	uint32_t toff;
	int rc = msix_table(f, &bir, &toff, &size);
	if (rc)
		return rc;
	if (count > size)
		return -EINVAL;
	int base = alloc_vectors(p, count, 1);
	if (base < 0)
		return base;
	/* The table lives in a BAR: memory decode must be on (VFIO does the same). */
	uint32_t cmd = sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2);
	sim_cfg_write(p, bdf, HQIO_PCI_COMMAND, 2, cmd | HQIO_PCI_COMMAND_MEMORY);
	uint16_t ctl = (uint16_t)sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_FLAGS, 2);
	sim_cfg_write(p, bdf, f->msix + HQIO_PCI_MSIX_FLAGS, 2,
		      ctl | HQIO_PCI_MSIX_FLAGS_MASKALL | HQIO_PCI_MSIX_FLAGS_ENABLE);
	for (unsigned i = 0; i < count; i++) {
		uint64_t e = toff + (uint64_t)i * HQIO_PCI_MSIX_ENTRY_SIZE;
		claim(p, (unsigned)base + i, bdf, HQIO_IRQ_MSIX, i, fn, arg);
		sim_bar_write(p, bdf, bir, e + 0, 4, (uint32_t)HOST_MSI_ADDR);
		sim_bar_write(p, bdf, bir, e + 4, 4, 0);
		sim_bar_write(p, bdf, bir, e + 8, 4, (uint32_t)base + i);
		sim_bar_write(p, bdf, bir, e + 12, 4, 0); /* unmask */
	}
	sim_cfg_write(p, bdf, f->msix + HQIO_PCI_MSIX_FLAGS, 2,
		      (ctl & ~HQIO_PCI_MSIX_FLAGS_MASKALL) | HQIO_PCI_MSIX_FLAGS_ENABLE);
	return 0;
}

static int h_irq_set(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned count,
		     hqio_irq_fn fn, void *arg)
{
	struct sim_platform *p = ctx;
	struct sim_fn *f = fn_of(p, bdf);
	if (!f)
		return -ENODEV;
	release_vectors(p, bdf, type);
	if (count == 0) {
		if (type == HQIO_IRQ_MSI && f->msi) {
			uint32_t c = sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_FLAGS, 2);
			sim_cfg_write(p, bdf, f->msi + HQIO_PCI_MSI_FLAGS, 2,
				      c & ~HQIO_PCI_MSI_FLAGS_ENABLE);
		} else if (type == HQIO_IRQ_MSIX && f->msix) {
			uint32_t c = sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_FLAGS, 2);
			sim_cfg_write(p, bdf, f->msix + HQIO_PCI_MSIX_FLAGS, 2,
				      c & ~HQIO_PCI_MSIX_FLAGS_ENABLE);
		}
		return 0;
	}
	switch (type) {
	case HQIO_IRQ_MSI:
		return set_msi(p, f, bdf, count, fn, arg);
	case HQIO_IRQ_MSIX:
		return set_msix(p, f, bdf, count, fn, arg);
	case HQIO_IRQ_INTX: {
		if (count != 1 || !sim_fn_cfg_get(f, HQIO_PCI_INTERRUPT_PIN, 1))
			return -EINVAL;
		unsigned pin = sim_intx_pin(f);
		int hv = alloc_vectors(p, 1, 1);
		if (hv < 0)
			return hv;
		claim(p, (unsigned)hv, bdf, HQIO_IRQ_INTX, pin, fn, arg);
		sim_ioapic_program(p, pin, (uint8_t)(HOST_INTX_VECTOR_BASE + pin), true, false);
		return 0;
	}
	}
	return -EINVAL;
}

static int h_irq_mask(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector,
		      bool masked)
{
	struct sim_platform *p = ctx;
	struct sim_fn *f = fn_of(p, bdf);
	if (!f)
		return -ENODEV;
	switch (type) {
	case HQIO_IRQ_INTX:
		sim_ioapic_program(p, sim_intx_pin(f),
				   (uint8_t)(HOST_INTX_VECTOR_BASE + sim_intx_pin(f)), true,
				   masked);
		return 0;
	case HQIO_IRQ_MSI: {
		if (!f->msi)
			return -EOPNOTSUPP;
		uint16_t flags = (uint16_t)sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_FLAGS, 2);
		if (!(flags & HQIO_PCI_MSI_FLAGS_MASKBIT) || vector >= 32)
			return -EOPNOTSUPP;
		uint16_t reg = (uint16_t)(f->msi + ((flags & HQIO_PCI_MSI_FLAGS_64BIT)
							    ? HQIO_PCI_MSI_MASK_64
							    : HQIO_PCI_MSI_MASK_32));
		uint32_t m = sim_fn_cfg_get(f, reg, 4);
		m = masked ? m | (1u << vector) : m & ~(1u << vector);
		return sim_cfg_write(p, bdf, reg, 4, m);
	}
	case HQIO_IRQ_MSIX: {
		unsigned bir, size;
		uint32_t toff;
		int rc = msix_table(f, &bir, &toff, &size);
		if (rc)
			return rc;
		if (vector >= size)
			return -EINVAL;
		return sim_bar_write(p, bdf, bir, toff + (uint64_t)vector * 16 + 12, 4,
				     masked ? 1 : 0);
	}
	}
	return -EINVAL;
}

/* ---- DMA ------------------------------------------------------------- */

static int h_dma_map(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t host_addr,
		     uint64_t len, unsigned prot)
{
	struct sim_platform *p = ctx;
	struct sim_fn *f = sim_find(p, bdf);
	if (!f)
		return -ENODEV;
	uint16_t rid = sim_requester_id(f);
	int d = p->rid_domain[rid];
	if (d < 0) {
		d = sim_iommu_domain_new(p);
		if (d < 0)
			return d;
		sim_iommu_attach(p, rid, d);
	}
	return sim_iommu_map(p, d, iova, host_addr, len, prot);
}

static int h_dma_unmap(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len)
{
	struct sim_platform *p = ctx;
	struct sim_fn *f = sim_find(p, bdf);
	if (!f)
		return -ENODEV;
	int d = p->rid_domain[sim_requester_id(f)];
	return d < 0 ? -ENOENT : sim_iommu_unmap(p, d, iova, len);
}

static int h_ats_invalidate(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len)
{
	struct sim_fn *f = sim_find(ctx, bdf);
	if (!f)
		return -ENODEV;
	sim_ats_invalidate(f, iova, len);
	return 0;
}

static int h_platform_reset(void *ctx, struct hqio_bdf bdf, enum hqio_platform_reset kind)
{
	(void)ctx;
	(void)bdf;
	(void)kind;
	/* The simulator offers no shortcut: resets go through configuration
	 * writes (FLR, PM, Bridge Control), exactly as lib/reset drives them. */
	return -EOPNOTSUPP;
}

void sim_host_ops(struct sim_platform *p, struct hqio_host_ops *ops)
{
	*ops = (struct hqio_host_ops){
		.ctx = p,
		.cfg_read = h_cfg_read,
		.cfg_write = h_cfg_write,
		.bar_read = h_bar_read,
		.bar_write = h_bar_write,
		.now_ns = h_now,
		.sleep_ns = h_sleep,
		.wait_until = h_wait_until,
		.irq_set = h_irq_set,
		.irq_mask = h_irq_mask,
		.dma_map = h_dma_map,
		.dma_unmap = h_dma_unmap,
		.ats_invalidate = h_ats_invalidate,
		.platform_reset = h_platform_reset,
	};
	if (!p->msi_sink) {
		p->msi_sink = host_msi_sink;
		p->msi_arg = p;
	}
	if (!p->ioapic_sink) {
		p->ioapic_sink = host_ioapic_sink;
		p->ioapic_arg = p;
	}
}
