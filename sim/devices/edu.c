/*
 * edu-like device (QEMU's educational PCI device, docs/specs/edu.rst) with
 * the faulty DMA and interrupt variants; see devices.h for the registers
 * and the exact fault semantics.
 *
 * Queued transfers live in a small table that, in the faulty variants,
 * the reset hook leaves alone: each entry remembers the reset generation
 * it was started in, so a transfer from before a reset still moves data
 * when its timer fires but no longer touches registers or interrupts.
 */
#include "devices/devices.h"

#include <stdlib.h>
#include <string.h>

#define EDU_TAG		    0x45445531u /* "EDU1": event tags in the engine trace */
#define EDU_STORM_TAG	    0x45445553u /* "EDUS" */
#define EDU_STORM_IRQ_VALUE 0x80000000u /* model: the storm's interrupt status bit */

struct edu;

struct edu_xfer {
	struct sim_fn *f;
	bool used;
	bool held;    /* SIM_FAULT_DMA_WAITS_BME: timer fired with Bus Master off */
	uint64_t seq; /* start order */
	uint32_t gen; /* reset generation at start */
	uint64_t src, dst, count;
	uint32_t cmd;
	sim_event_id ev;
	uint8_t data[SIM_EDU_BUF_SIZE]; /* edu -> RAM: the payload, taken at start */
};

struct edu {
	uint32_t liveness_inv, fact, status, irq_status;
	uint64_t dma_src, dma_dst, dma_count;
	uint32_t dma_cmd;
	uint32_t gen;
	uint64_t seq;
	bool bme; /* Bus Master Enable as last seen */
	sim_event_id storm;
	struct edu_xfer q[SIM_EDU_DMA_QUEUE];
	uint8_t buf[SIM_EDU_BUF_SIZE];
};

static bool survives(const struct sim_fn *f)
{
	return f->faults & (SIM_FAULT_DMA_SURVIVES | SIM_FAULT_DMA_WAITS_BME);
}

/* ---- interrupts ---------------------------------------------------------- */

static void edu_irq(struct sim_fn *f, bool edge)
{
	struct edu *e = f->priv;
	sim_dev_irq_update(f, 0, e->irq_status != 0, edge);
}

static void edu_raise(struct sim_fn *f, uint32_t val)
{
	struct edu *e = f->priv;
	e->irq_status |= val;
	edu_irq(f, e->irq_status != 0); /* edu.rst: every raise signals (MSI) */
}

static void edu_storm_tick(void *arg, uint64_t now)
{
	struct sim_fn *f = arg;
	struct edu *e = f->priv;
	(void)now;
	if (f->in_reset) { /* being reset: the storm ends */
		e->storm = 0;
		return;
	}
	e->storm = sim_schedule(&f->plat->eng, SIM_DEV_STORM_NS, edu_storm_tick, f, EDU_STORM_TAG);
	edu_raise(f, EDU_STORM_IRQ_VALUE);
}

static void edu_storm_arm(struct sim_fn *f)
{
	struct edu *e = f->priv;
	if ((f->faults & SIM_FAULT_IRQ_STORM) && !e->storm)
		e->storm = sim_schedule(&f->plat->eng, SIM_DEV_STORM_NS, edu_storm_tick, f,
					EDU_STORM_TAG);
}

/* ---- DMA ------------------------------------------------------------------- */

static bool in_buf(uint64_t addr, uint64_t count)
{
	return addr >= SIM_EDU_BUF && addr - SIM_EDU_BUF <= SIM_EDU_BUF_SIZE &&
	       count <= SIM_EDU_BUF_SIZE - (addr - SIM_EDU_BUF);
}

static void xfer_issue(struct edu_xfer *x)
{
	struct sim_fn *f = x->f;
	struct edu *e = f->priv;
	bool current = x->gen == e->gen;
	if (x->cmd & SIM_EDU_DMA_CMD_TO_RAM) {
		sim_dma_write(f, x->dst, x->data, x->count);
	} else {
		uint8_t tmp[SIM_EDU_BUF_SIZE];
		if (sim_dma_read(f, x->src, tmp, x->count) == 0)
			memcpy(e->buf + (x->dst - SIM_EDU_BUF), tmp, x->count);
	}
	x->used = false;
	x->held = false;
	x->ev = 0;
	if (!current)
		return; /* from before a reset: data only */
	e->dma_cmd &= ~SIM_EDU_DMA_CMD_START;
	if (x->cmd & SIM_EDU_DMA_CMD_IRQ)
		edu_raise(f, SIM_EDU_DMA_IRQ_VALUE);
}

static void edu_reset(struct sim_fn *f);

static void xfer_timer(void *arg, uint64_t now)
{
	struct edu_xfer *x = arg;
	struct sim_fn *f = x->f;
	(void)now;
	x->ev = 0;
	/* Held in reset by a bus reset still asserted: the platform resets
	 * the function's state only when the reset ends (and dma.c does not
	 * look at in_reset), so act on it here. */
	if (f->in_reset && !survives(f)) {
		edu_reset(f); /* the reset cancels the transfer */
		return;
	}
	if ((f->faults & SIM_FAULT_DMA_WAITS_BME) && (!sim_fn_bus_master(f) || f->in_reset)) {
		x->held = true; /* issued when Bus Master is set again */
		return;
	}
	if (f->in_reset) { /* SURVIVES: the link is down, nothing goes out */
		x->used = false;
		return;
	}
	/* Bus Master off here: the platform drops it (-EPERM). */
	xfer_issue(x);
}

static void xfer_cancel(struct sim_fn *f, struct edu_xfer *x)
{
	if (x->ev)
		sim_cancel(&f->plat->eng, x->ev);
	x->ev = 0;
	x->used = false;
	x->held = false;
}

static void edu_dma_start(struct sim_fn *f)
{
	struct edu *e = f->priv;
	uint64_t count = e->dma_count;
	bool to_ram = e->dma_cmd & SIM_EDU_DMA_CMD_TO_RAM;
	uint64_t dev_addr = to_ram ? e->dma_src : e->dma_dst;
	struct edu_xfer *x = NULL;
	for (unsigned i = 0; i < SIM_EDU_DMA_QUEUE && !x; i++)
		if (!e->q[i].used)
			x = &e->q[i];
	if (count == 0 || !in_buf(dev_addr, count) || !x) {
		e->dma_cmd &= ~SIM_EDU_DMA_CMD_START; /* nothing queued */
		return;
	}
	x->f = f;
	x->used = true;
	x->held = false;
	x->seq = e->seq++;
	x->gen = e->gen;
	x->src = e->dma_src;
	x->dst = e->dma_dst;
	x->count = count;
	x->cmd = e->dma_cmd;
	if (to_ram)
		memcpy(x->data, e->buf + (dev_addr - SIM_EDU_BUF), count);
	/* No sim_dma_begin: nothing is in flight on the link yet, and edu has
	 * no Transactions Pending bit to show it anyway. */
	x->ev = sim_schedule(&f->plat->eng, SIM_EDU_DMA_NS, xfer_timer, x, EDU_TAG);
	if (!x->ev) {
		x->used = false;
		e->dma_cmd &= ~SIM_EDU_DMA_CMD_START;
	}
}

/* Held transfers go out in the order they were started. */
static void issue_held(struct sim_fn *f)
{
	struct edu *e = f->priv;
	for (;;) {
		struct edu_xfer *first = NULL;
		for (unsigned i = 0; i < SIM_EDU_DMA_QUEUE; i++)
			if (e->q[i].used && e->q[i].held && (!first || e->q[i].seq < first->seq))
				first = &e->q[i];
		if (!first || !sim_fn_bus_master(f) || f->in_reset)
			return;
		xfer_issue(first);
	}
}

/* ---- registers ------------------------------------------------------------- */

static uint32_t edu_rd(struct sim_fn *f, unsigned bar, uint64_t off)
{
	struct edu *e = f->priv;
	if (bar != 0)
		return 0;
	if (off >= SIM_EDU_BUF && off < SIM_EDU_BUF + SIM_EDU_BUF_SIZE) {
		const uint8_t *b = e->buf + (off - SIM_EDU_BUF);
		return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		       (uint32_t)b[3] << 24;
	}
	switch (off) {
	case SIM_EDU_ID:
		return SIM_EDU_ID_VALUE;
	case SIM_EDU_LIVENESS:
		return e->liveness_inv;
	case SIM_EDU_FACTORIAL:
		return e->fact;
	case SIM_EDU_STATUS:
		return e->status;
	case SIM_EDU_IRQ_STATUS:
		return e->irq_status;
	case SIM_EDU_DMA_SRC:
		return (uint32_t)e->dma_src;
	case SIM_EDU_DMA_SRC + 4:
		return (uint32_t)(e->dma_src >> 32);
	case SIM_EDU_DMA_DST:
		return (uint32_t)e->dma_dst;
	case SIM_EDU_DMA_DST + 4:
		return (uint32_t)(e->dma_dst >> 32);
	case SIM_EDU_DMA_COUNT:
		return (uint32_t)e->dma_count;
	case SIM_EDU_DMA_COUNT + 4:
		return (uint32_t)(e->dma_count >> 32);
	case SIM_EDU_DMA_CMD:
		return e->dma_cmd;
	default:
		return 0;
	}
}

static void set_half(uint64_t *r, bool hi, uint32_t val, uint32_t mask)
{
	unsigned sh = hi ? 32 : 0;
	uint32_t old = (uint32_t)(*r >> sh);
	*r = (*r & ~(0xffffffffULL << sh)) | (uint64_t)sim_dev_merge(old, val, mask) << sh;
}

static void edu_wr(struct sim_fn *f, unsigned bar, uint64_t off, uint32_t val, uint32_t mask)
{
	struct edu *e = f->priv;
	if (bar != 0)
		return;
	if (off >= SIM_EDU_BUF && off < SIM_EDU_BUF + SIM_EDU_BUF_SIZE) {
		for (unsigned b = 0; b < 4; b++)
			if ((mask >> (8 * b)) & 0xff)
				e->buf[off - SIM_EDU_BUF + b] = (uint8_t)(val >> (8 * b));
		return;
	}
	/* edu ignores writes to the DMA registers while a transfer runs. */
	if (off >= SIM_EDU_DMA_SRC && off < SIM_EDU_DMA_CMD + 8 &&
	    (e->dma_cmd & SIM_EDU_DMA_CMD_START))
		return;
	switch (off) {
	case SIM_EDU_LIVENESS:
		e->liveness_inv = ~sim_dev_merge(~e->liveness_inv, val, mask);
		return;
	case SIM_EDU_FACTORIAL: {
		uint32_t n = sim_dev_merge(e->fact, val, mask), r = 1;
		for (uint32_t i = 2; i <= n; i++)
			r *= i; /* mod 2^32, computed at once (no "computing" phase) */
		e->fact = r;
		if (e->status & SIM_EDU_STATUS_IRQFACT)
			edu_raise(f, SIM_EDU_FACT_IRQ_VALUE);
		return;
	}
	case SIM_EDU_STATUS: /* bit 7 read-write, bit 0 read-only */
		e->status = sim_dev_merge(e->status, val, mask & SIM_EDU_STATUS_IRQFACT);
		return;
	case SIM_EDU_IRQ_RAISE:
		edu_raise(f, val & mask);
		edu_storm_arm(f);
		return;
	case SIM_EDU_IRQ_ACK:
		e->irq_status &= ~(val & mask);
		edu_irq(f, false);
		return;
	case SIM_EDU_DMA_SRC:
	case SIM_EDU_DMA_SRC + 4:
		set_half(&e->dma_src, off != SIM_EDU_DMA_SRC, val, mask);
		return;
	case SIM_EDU_DMA_DST:
	case SIM_EDU_DMA_DST + 4:
		set_half(&e->dma_dst, off != SIM_EDU_DMA_DST, val, mask);
		return;
	case SIM_EDU_DMA_COUNT:
	case SIM_EDU_DMA_COUNT + 4:
		set_half(&e->dma_count, off != SIM_EDU_DMA_COUNT, val, mask);
		return;
	case SIM_EDU_DMA_CMD:
		e->dma_cmd = sim_dev_merge(e->dma_cmd, val, mask) &
			     (SIM_EDU_DMA_CMD_START | SIM_EDU_DMA_CMD_TO_RAM | SIM_EDU_DMA_CMD_IRQ);
		if (e->dma_cmd & SIM_EDU_DMA_CMD_START)
			edu_dma_start(f);
		return;
	default:
		return;
	}
}

static uint64_t edu_mmio_read(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size)
{
	return sim_dev_read_split(f, bar, off, size, edu_rd);
}

static void edu_mmio_write(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			   uint64_t val)
{
	sim_dev_write_split(f, bar, off, size, val, edu_wr);
}

static void edu_cfg_written(struct sim_fn *f, uint16_t off, unsigned size, uint32_t old_val,
			    uint32_t new_val)
{
	struct edu *e = f->priv;
	(void)off;
	(void)size;
	(void)old_val;
	(void)new_val;
	bool bme = sim_fn_bus_master(f);
	if (e->bme && !bme && !survives(f)) {
		/* A well-behaved device stops DMA when Bus Master is cleared. */
		for (unsigned i = 0; i < SIM_EDU_DMA_QUEUE; i++)
			if (e->q[i].used)
				xfer_cancel(f, &e->q[i]);
		e->dma_cmd &= ~SIM_EDU_DMA_CMD_START;
	}
	e->bme = bme;
	if (bme && (f->faults & SIM_FAULT_DMA_WAITS_BME))
		issue_held(f);
	if (sim_dev_msg_irq(f))
		edu_storm_arm(f); /* MSI Enable: the interrupt is enabled */
	edu_irq(f, false);
}

static void edu_reset(struct sim_fn *f)
{
	struct edu *e = f->priv;
	if (!survives(f)) {
		for (unsigned i = 0; i < SIM_EDU_DMA_QUEUE; i++)
			if (e->q[i].used)
				xfer_cancel(f, &e->q[i]);
	}
	/* SIM_FAULT_DMA_SURVIVES / _WAITS_BME: queued transfers stay, and
	 * become "from before the reset". */
	e->gen++;
	if (e->storm)
		sim_cancel(&f->plat->eng, e->storm);
	e->storm = 0;
	e->liveness_inv = e->fact = e->status = e->irq_status = 0;
	e->dma_src = e->dma_dst = e->dma_count = 0;
	e->dma_cmd = 0;
	e->bme = sim_fn_bus_master(f);
	memset(e->buf, 0, sizeof(e->buf));
}

static void edu_destroy(struct sim_fn *f)
{
	free(f->priv);
	f->priv = NULL;
}

static const struct sim_fn_ops edu_ops = {
	.kind = "edu",
	.reset = edu_reset,
	.mmio_read = edu_mmio_read,
	.mmio_write = edu_mmio_write,
	.cfg_written = edu_cfg_written,
	.destroy = edu_destroy,
};

struct sim_fn *sim_dev_edu(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			   unsigned faults)
{
	struct edu *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	struct sim_fn *f = sim_fn_new(p, parent, dev, fn, HQIO_PCI_CFG_SIZE, "edu", &edu_ops, e);
	if (!f) {
		free(e);
		return NULL;
	}
	f->faults = faults;
	sim_fn_header(f, SIM_EDU_VENDOR, SIM_EDU_DEVICE, 0x00ff00, HQIO_PCI_HEADER_TYPE_NORMAL, 1);
	hqio_cfgb_w8(&f->b, HQIO_PCI_REVISION_ID, 0x10);
	hqio_cfgb_w16(&f->b, HQIO_PCI_SUBSYSTEM_VENDOR_ID, 0x1af4); /* QEMU's default */
	hqio_cfgb_w16(&f->b, HQIO_PCI_SUBSYSTEM_ID, 0x1100);
	sim_fn_bar(f, 0, SIM_EDU_BAR0_SIZE, HQIO_PCI_BASE_ADDRESS_MEM_TYPE_32);
	/* edu: MSI with one 64-bit vector, first capability (0x40). */
	sim_add_msi(f, 0x40, 0, true, false);
	/* The model's additions: PM and AF (FLR without TP). */
	sim_add_pm(f, 0x50, false);
	sim_add_af(f, 0x58, false, true);
	sim_fn_finalize(f);
	return f;
}
