/*
 * lib/irq: interrupt virtualization of one assigned device (hqio/irq.h).
 * Pure code: every device access, every host vector operation and the
 * clock go through struct hqio_host_ops; the guest is reached through
 * struct hqio_irq_guest. No timers: the monitor calls hqio_irq_tick().
 *
 * Choices (docs for the monitor and lib/vpci):
 *   - Host vectors: MSI-X with ALL msix_size vectors when the device has
 *     MSI-X (the guest may unmask any table entry at any time; allocating
 *     them up front means the host never reprograms the device's table
 *     while the guest runs), else MSI with every vector the device is
 *     capable of (msi_vectors), else INTx (device without MSI/MSI-X
 *     only). With host MSI/MSI-X the device's INTx Disable is set (as
 *     Linux does when it enables MSI) so it never drives a shared line.
 *   - Host vector -> guest vector: identity for guest MSI-X (the host
 *     table and the guest table have the same entries); for guest MSI,
 *     host vector i goes to guest vector i & (count - 1): the function
 *     selects its vector in the low log2(count) bits of Message Data
 *     (PCI LB 3.0 §6.8.1.6), so with one vector allocated everything
 *     arrives on vector 0.
 *   - Guest MSI per-vector masking is honoured only when the device is
 *     PVM-capable (cfg.msi_pvm): the guest sees the device's capability
 *     layout, which has a Mask register only then (§6.8.1.8).
 *   - Masked guest vector: one pending bit (events coalesce, counted in
 *     coalesced), one injection when unmasked (MSI-X §6.8.2.9). The MSI-X
 *     table starts with every entry masked (§6.8.2.9), so host vectors the
 *     guest has not enabled become pending and are injected when enabled.
 *     Events with no guest interrupt mode at all (no MSI/MSI-X enabled and
 *     no Interrupt Pin) are dropped and counted as spurious, as a function
 *     with no interrupt mode cannot signal.
 *   - MSI and MSI-X share vec[] (lib/vpci reads the pending bits there):
 *     a guest that enables MSI sees its MSI vectors in the first entries
 *     of the virtual MSI-X table. MSI writes are ignored while MSI-X is
 *     enabled (enabling both is undefined, §6.8.1.3/§6.8.2.3).
 *   - Guest INTx on an MSI-capable device: a virtual level line. The guest
 *     driver acknowledges the device (device register) BEFORE its EOI;
 *     an MSI arriving while the line is high is latched and re-asserts the
 *     line at the EOI (de-assert then assert: a fresh edge), so an event
 *     between the acknowledgement and the EOI is not lost.
 *   - INTx-only devices: with INTx Disable (PCI LB 3.0 §6.2.2) the handler
 *     sets it on the device and unmasks the host line at once (other
 *     functions on the line keep working: the VFIO model); the guest's
 *     EOI clears it. Without it the host line stays masked at the
 *     interrupt controller until the EOI, which needs an exclusive line
 *     (cfg.intx_line_exclusive, checked at init).
 *   - Storm guard: at most storm_max host interrupts per storm_window_ns
 *     window (a window starts at the first interrupt after the previous
 *     one ended). Defaults: 1000 per 10 ms, i.e. 100,000 per second on
 *     average (the sample size Linux's spurious-interrupt detector uses,
 *     kernel/irq/spurious.c; at 2-5 us per assigned-device interrupt, a
 *     bound of 20-50% of one CPU), and a 10 ms window so a throttled
 *     device is held back for at most 10 ms. The interrupt that fills the
 *     window is still delivered; then the host vectors are masked (MSI-X,
 *     PVM MSI: the device keeps the events pending and sends them at the
 *     unmask), MSI without PVM is disabled (the device's INTx Disable is
 *     set, so it cannot fall back on INTx) and re-enabled with one
 *     catch-up injection per vector, INTx stays masked after the EOI. The
 *     window is re-checked at host events, guest EOIs and hqio_irq_tick().
 *     storm_throttled counts each hold, plus every host interrupt that
 *     still arrives during one.
 *   - A guest that never EOIs keeps its line asserted and its host INTx
 *     masked; nothing else depends on it.
 */
#include "hqio/irq.h"

#include <errno.h>
#include <string.h>

#include "hqio/pci.h"
#include "hqio/pci_regs.h"

#define DEFAULT_PAGE_SIZE	4096u	    /* x86 base page (Intel SDM vol. 3 §4.1) */
#define DEFAULT_STORM_WINDOW_NS 10000000ULL /* 10 ms: see above */
#define DEFAULT_STORM_MAX	1000u	    /* per window: 100,000/s */
#define MSI_MAX_VECTORS		32u	    /* PCI LB 3.0 §6.8.1.3: MMC up to 101b */
#define MSIX_ENTRY_DATA		8u	    /* PCI LB 3.0 §6.8.2.6-8: entry layout */
#define MSIX_ENTRY_VCTRL	12u	    /* §6.8.2.9 Vector Control */
#define MSIX_VCTRL_MASK		0x1u	    /* §6.8.2.9: bit 0 Mask, others reserved */
#define PBA_BITS_PER_QWORD	64u	    /* §6.8.2.10: PBA in QWORDs */

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static const struct hqio_host_ops *ops_of(const struct hqio_irq *irq)
{
	return irq->cfg.ops;
}

static enum hqio_irq_guest_mode idle_mode(const struct hqio_irq *irq)
{
	return irq->cfg.pin ? HQIO_GUEST_IRQ_INTX : HQIO_GUEST_IRQ_NONE;
}

static unsigned msix_entries(const struct hqio_irq *irq)
{
	unsigned n = irq->cfg.msix_size;
	return n > HQIO_IRQ_MAX_VECTORS ? HQIO_IRQ_MAX_VECTORS : n;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Set or clear the device's Command.INTx Disable (PCI LB 3.0 §6.2.2). */
static int host_intx_disable(struct hqio_irq *irq, bool on)
{
	const struct hqio_host_ops *ops = ops_of(irq);
	uint32_t cmd = 0;
	int rc = ops->cfg_read(ops->ctx, irq->cfg.bdf, HQIO_PCI_COMMAND, 2, &cmd);
	if (rc)
		return rc;
	uint32_t n = on ? cmd | HQIO_PCI_COMMAND_INTX_DISABLE
			: cmd & ~(uint32_t)HQIO_PCI_COMMAND_INTX_DISABLE;
	if (n == cmd)
		return 0;
	return ops->cfg_write(ops->ctx, irq->cfg.bdf, HQIO_PCI_COMMAND, 2, n);
}

/* INTx-only device: let the device interrupt the host again. */
static void host_intx_unmask(struct hqio_irq *irq)
{
	const struct hqio_host_ops *ops = ops_of(irq);
	if (irq->cfg.intx_disable_supported)
		host_intx_disable(irq, false);
	else
		ops->irq_mask(ops->ctx, irq->cfg.bdf, HQIO_IRQ_INTX, 0, false);
}

/* ------------------------------------------------------------------ */
/* Guest MSI / MSI-X delivery                                           */
/* ------------------------------------------------------------------ */

static bool vec_masked(const struct hqio_irq *irq, unsigned g)
{
	if (irq->mode == HQIO_GUEST_IRQ_MSIX && irq->msix_function_mask)
		return true;
	return irq->vec[g].masked;
}

static void inject(struct hqio_irq *irq, unsigned g)
{
	irq->stats.delivered++;
	irq->cfg.guest.inject_msi(irq->cfg.guest.arg, irq->vec[g].addr, irq->vec[g].data);
}

static void deliver_vector(struct hqio_irq *irq, unsigned g)
{
	struct hqio_irq_vector *v = &irq->vec[g];
	if (vec_masked(irq, g)) {
		if (v->pending)
			irq->stats.coalesced++;
		v->pending = true;
		return;
	}
	inject(irq, g);
}

static void flush_vector(struct hqio_irq *irq, unsigned g)
{
	if (irq->mode != HQIO_GUEST_IRQ_MSI && irq->mode != HQIO_GUEST_IRQ_MSIX)
		return;
	if (g >= irq->guest_count || !irq->vec[g].pending || vec_masked(irq, g))
		return;
	irq->vec[g].pending = false;
	inject(irq, g);
}

/* Inject every pending vector that is now unmasked, once. */
static void flush_all(struct hqio_irq *irq)
{
	for (unsigned g = 0; g < irq->guest_count; g++)
		flush_vector(irq, g);
}

/* ------------------------------------------------------------------ */
/* Virtual INTx line                                                    */
/* ------------------------------------------------------------------ */

static void line_set(struct hqio_irq *irq, bool level)
{
	irq->line = level;
	if (level)
		irq->stats.delivered++;
	irq->cfg.guest.set_intx(irq->cfg.guest.arg, level);
}

/* A device event for the guest's INTx. */
static void line_event(struct hqio_irq *irq)
{
	if (irq->intx_disable) {
		/* §6.2.3: Interrupt Status is set whatever INTx Disable says. */
		if (irq->status)
			irq->stats.coalesced++;
		irq->status = true;
		return;
	}
	irq->status = true;
	if (irq->line) {
		irq->line_latched = true;
		irq->stats.latched++;
		irq->stats.coalesced++;
		return;
	}
	line_set(irq, true);
}

/* The guest leaves INTx for MSI/MSI-X: the function stops driving its pin
 * (§6.8.1.3, §6.8.2.3). */
static void leave_intx(struct hqio_irq *irq)
{
	if (irq->line)
		line_set(irq, false);
	irq->line_latched = false;
	irq->status = false;
}

/* ------------------------------------------------------------------ */
/* Storm guard                                                          */
/* ------------------------------------------------------------------ */

static bool window_over(const struct hqio_irq *irq, uint64_t now)
{
	return now - irq->window_start_ns >= irq->cfg.storm_window_ns;
}

static void storm_account(struct hqio_irq *irq, uint64_t now)
{
	if (window_over(irq, now)) {
		irq->window_start_ns = now;
		irq->window_count = 0;
	}
	irq->window_count++;
}

static bool storm_full(const struct hqio_irq *irq, uint64_t now)
{
	return !window_over(irq, now) && irq->window_count >= irq->cfg.storm_max;
}

static bool msi_maskable(const struct hqio_irq *irq)
{
	return irq->host_type == HQIO_IRQ_MSIX ||
	       (irq->host_type == HQIO_IRQ_MSI && irq->cfg.msi_pvm);
}

/* Hold the device's messages back until the window ends. */
static void storm_hold(struct hqio_irq *irq)
{
	const struct hqio_host_ops *ops = ops_of(irq);
	irq->throttled = true;
	irq->stats.storm_throttled++;
	if (msi_maskable(irq)) {
		for (unsigned i = 0; i < irq->host_count; i++)
			ops->irq_mask(ops->ctx, irq->cfg.bdf, irq->host_type, i, true);
	} else if (irq->host_type == HQIO_IRQ_MSI &&
		   (irq->cfg.intx_disable_supported || !irq->cfg.pin)) {
		/* No mask bits: MSI off (INTx Disable is set, so no fallback on
		 * a shared line). Without INTx Disable the device would assert
		 * its pin instead: the guard then only counts. */
		ops->irq_set(ops->ctx, irq->cfg.bdf, HQIO_IRQ_MSI, 0, NULL, NULL);
	}
	/* INTx: the line is masked until the guest's EOI, which does not
	 * unmask while throttled. */
}

static void msg_event(struct hqio_irq *irq, unsigned hv);

static void storm_release(struct hqio_irq *irq)
{
	const struct hqio_host_ops *ops = ops_of(irq);
	if (msi_maskable(irq)) {
		/* Unmasking sends the held messages: the handler may run (and
		 * throttle again) inside this loop. */
		for (unsigned i = 0; i < irq->host_count && !irq->throttled; i++)
			ops->irq_mask(ops->ctx, irq->cfg.bdf, irq->host_type, i, false);
	} else if (irq->host_type == HQIO_IRQ_MSI &&
		   (irq->cfg.intx_disable_supported || !irq->cfg.pin)) {
		if (ops->irq_set(ops->ctx, irq->cfg.bdf, HQIO_IRQ_MSI, irq->host_count,
				 hqio_irq_host_event, irq) == 0) {
			/* Events while MSI was off are unknown: one catch-up
			 * interrupt per vector, so the guest looks at the device. */
			for (unsigned i = 0; i < irq->host_count && !irq->throttled; i++)
				msg_event(irq, i);
		}
	} else if (irq->host_type == HQIO_IRQ_INTX && !irq->line && !irq->status) {
		host_intx_unmask(irq);
	}
}

static void storm_check_release(struct hqio_irq *irq, uint64_t now)
{
	if (!irq->throttled || !window_over(irq, now))
		return;
	irq->throttled = false;
	irq->window_start_ns = now;
	irq->window_count = 0;
	storm_release(irq);
}

void hqio_irq_tick(struct hqio_irq *irq)
{
	if (!irq->throttled)
		return;
	storm_check_release(irq, ops_of(irq)->now_ns(ops_of(irq)->ctx));
}

/* ------------------------------------------------------------------ */
/* Host events                                                          */
/* ------------------------------------------------------------------ */

/* A host MSI/MSI-X on host vector hv. */
static void msg_event(struct hqio_irq *irq, unsigned hv)
{
	switch (irq->mode) {
	case HQIO_GUEST_IRQ_MSIX:
		if (hv < irq->guest_count)
			deliver_vector(irq, hv);
		else
			irq->stats.spurious++;
		return;
	case HQIO_GUEST_IRQ_MSI:
		deliver_vector(irq, hv & (irq->guest_count - 1));
		return;
	case HQIO_GUEST_IRQ_INTX:
		line_event(irq);
		return;
	case HQIO_GUEST_IRQ_NONE:
		irq->stats.spurious++;
		return;
	}
}

/* A host INTx of an INTx-only device. */
static void intx_event(struct hqio_irq *irq)
{
	const struct hqio_host_ops *ops = ops_of(irq);
	if (irq->cfg.intx_disable_supported) {
		/* The VFIO model: silence the device, free the shared line. */
		host_intx_disable(irq, true);
		ops->irq_mask(ops->ctx, irq->cfg.bdf, HQIO_IRQ_INTX, 0, false);
	}
	/* Else the backend keeps the (exclusive) line masked until the EOI. */
	line_event(irq);
}

void hqio_irq_host_event(void *arg, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector)
{
	struct hqio_irq *irq = arg;
	(void)bdf;
	irq->stats.host_irqs++;
	if (irq->host_count == 0 || type != irq->host_type || vector >= irq->host_count) {
		irq->stats.spurious++;
		return;
	}
	const struct hqio_host_ops *ops = ops_of(irq);
	uint64_t now = ops->now_ns(ops->ctx);
	storm_check_release(irq, now);
	if (irq->throttled)
		irq->stats.storm_throttled++; /* arrived although held */
	storm_account(irq, now);
	if (type == HQIO_IRQ_INTX)
		intx_event(irq);
	else
		msg_event(irq, vector);
	/* INTx is held at the EOI instead. */
	if (type != HQIO_IRQ_INTX && !irq->throttled && storm_full(irq, now))
		storm_hold(irq);
}

/* ------------------------------------------------------------------ */
/* Guest configuration                                                  */
/* ------------------------------------------------------------------ */

int hqio_irq_guest_msi(struct hqio_irq *irq, bool enable, unsigned count, uint64_t addr,
		       uint32_t data, uint32_t mask)
{
	if (!irq->cfg.msi || (irq->cfg.host_intx_only && irq->cfg.pin))
		return -EOPNOTSUPP; /* the host uses INTx: no guest MSI */
	if (irq->mode == HQIO_GUEST_IRQ_MSIX)
		return 0;
	/* Vectors allocated: a power of two up to what the device is capable
	 * of (§6.8.1.3). */
	unsigned cap = irq->cfg.msi_vectors ? irq->cfg.msi_vectors : 1;
	if (cap > MSI_MAX_VECTORS)
		cap = MSI_MAX_VECTORS;
	if (count > cap)
		count = cap;
	unsigned n = 1;
	while (n * 2 <= count)
		n *= 2;
	for (unsigned g = 0; g < n; g++) {
		struct hqio_irq_vector *v = &irq->vec[g];
		v->addr = addr;
		v->data = (data & ~(n - 1)) | g; /* §6.8.1.6 */
		v->masked = irq->cfg.msi_pvm && ((mask >> g) & 1);
	}
	if (enable) {
		if (irq->mode != HQIO_GUEST_IRQ_MSI)
			leave_intx(irq);
		irq->mode = HQIO_GUEST_IRQ_MSI;
		irq->guest_count = n;
		flush_all(irq);
	} else if (irq->mode == HQIO_GUEST_IRQ_MSI) {
		irq->mode = idle_mode(irq);
		irq->guest_count = 0;
	}
	return 0;
}

int hqio_irq_guest_msix(struct hqio_irq *irq, bool enable, bool function_mask)
{
	if (!irq->cfg.msix || (irq->cfg.host_intx_only && irq->cfg.pin))
		return -EOPNOTSUPP;
	irq->msix_function_mask = function_mask;
	if (enable) {
		if (irq->mode != HQIO_GUEST_IRQ_MSIX)
			leave_intx(irq);
		irq->mode = HQIO_GUEST_IRQ_MSIX;
		irq->guest_count = msix_entries(irq);
		flush_all(irq);
	} else if (irq->mode == HQIO_GUEST_IRQ_MSIX) {
		irq->mode = idle_mode(irq);
		irq->guest_count = 0;
	}
	return 0;
}

int hqio_irq_guest_intx(struct hqio_irq *irq, bool intx_disable)
{
	irq->intx_disable = intx_disable;
	if (irq->mode != HQIO_GUEST_IRQ_INTX)
		return 0;
	if (intx_disable && irq->line) {
		/* §6.2.2: the pin is de-asserted; the request stays in status. */
		line_set(irq, false);
		irq->line_latched = false;
	} else if (!intx_disable && irq->status && !irq->line) {
		line_set(irq, true);
	}
	return 0;
}

void hqio_irq_guest_eoi(struct hqio_irq *irq)
{
	const struct hqio_host_ops *ops = ops_of(irq);
	uint64_t now = ops->now_ns(ops->ctx);
	if (!irq->line) {
		irq->stats.spurious++;
		storm_check_release(irq, now);
		return;
	}
	line_set(irq, false);
	if (irq->host_type == HQIO_IRQ_INTX) {
		/* The guest acknowledged the device: a request still standing
		 * interrupts the host again when unmasked. */
		irq->status = false;
		irq->line_latched = false;
		storm_check_release(irq, now);
		if (!irq->throttled && storm_full(irq, now)) {
			irq->throttled = true;
			irq->stats.storm_throttled++;
		}
		if (!irq->throttled)
			host_intx_unmask(irq);
		return;
	}
	storm_check_release(irq, now);
	if (irq->line_latched) {
		irq->line_latched = false;
		irq->status = true;
		line_set(irq, true);
	} else {
		irq->status = false;
	}
}

/* ------------------------------------------------------------------ */
/* MSI-X table and PBA (PCI LB 3.0 §6.8.2.6-§6.8.2.10)                  */
/* ------------------------------------------------------------------ */

static uint8_t entry_byte(const struct hqio_irq_vector *v, unsigned r)
{
	if (r < MSIX_ENTRY_DATA)
		return (uint8_t)(v->addr >> (8 * r));
	if (r < MSIX_ENTRY_VCTRL)
		return (uint8_t)(v->data >> (8 * (r - MSIX_ENTRY_DATA)));
	if (r == MSIX_ENTRY_VCTRL)
		return v->masked ? MSIX_VCTRL_MASK : 0; /* reserved bits read 0 */
	return 0;
}

static void entry_set_byte(struct hqio_irq_vector *v, unsigned r, uint8_t b)
{
	if (r < MSIX_ENTRY_DATA) {
		unsigned s = 8 * r;
		v->addr = (v->addr & ~(0xffULL << s)) | (uint64_t)b << s;
	} else if (r < MSIX_ENTRY_VCTRL) {
		unsigned s = 8 * (r - MSIX_ENTRY_DATA);
		v->data = (v->data & ~(0xffu << s)) | (uint32_t)b << s;
	} else if (r == MSIX_ENTRY_VCTRL) {
		v->masked = b & MSIX_VCTRL_MASK;
	}
}

/* Whether [off, off+size) touches a host page holding [start, start+len). */
static bool in_trapped_pages(uint64_t off, unsigned size, uint64_t start, uint64_t len,
			     uint64_t page)
{
	uint64_t lo = start / page * page;
	uint64_t hi = (start + len + page - 1) / page * page;
	return ranges_overlap(off, size, lo, hi - lo);
}

bool hqio_irq_bar_access(struct hqio_irq *irq, unsigned bar, uint64_t off, unsigned size,
			 uint64_t *val, bool write)
{
	const struct hqio_irq_config *c = &irq->cfg;
	unsigned n = msix_entries(irq);
	if (!c->msix || n == 0 || size == 0 || size > 8 || !val)
		return false;
	uint64_t page = c->host_page_size;
	uint64_t toff = c->msix_table_off, tlen = (uint64_t)n * HQIO_PCI_MSIX_ENTRY_SIZE;
	uint64_t poff = c->msix_pba_off;
	uint64_t plen = (n + PBA_BITS_PER_QWORD - 1) / PBA_BITS_PER_QWORD * 8;
	bool tbar = bar == c->msix_table_bir, pbar = bar == c->msix_pba_bir;
	if (!(tbar && in_trapped_pages(off, size, toff, tlen, page)) &&
	    !(pbar && in_trapped_pages(off, size, poff, plen, page)))
		return false;
	irq->stats.trapped_accesses++;
	bool in_t = tbar && ranges_overlap(off, size, toff, tlen);
	bool in_p = pbar && ranges_overlap(off, size, poff, plen);
	if (!in_t && !in_p) {
		/* A register that only shares the page: to the device. */
		const struct hqio_host_ops *ops = ops_of(irq);
		irq->stats.trapped_other++;
		if (write) {
			ops->bar_write(ops->ctx, c->bdf, bar, off, size, *val);
		} else if (ops->bar_read(ops->ctx, c->bdf, bar, off, size, val) != 0) {
			*val = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1; /* master abort */
		}
		return true;
	}
	/* Byte by byte, little-endian; the table wins where both overlap;
	 * bytes in neither read 0 and ignore writes. */
	uint64_t v = write ? *val : 0;
	unsigned first = n, last = 0;
	for (unsigned k = 0; k < size; k++) {
		uint64_t o = off + k;
		uint8_t byte = (uint8_t)(v >> (8 * k));
		if (in_t && o >= toff && o < toff + tlen) {
			uint64_t t = o - toff;
			unsigned e = (unsigned)(t / HQIO_PCI_MSIX_ENTRY_SIZE);
			unsigned r = (unsigned)(t % HQIO_PCI_MSIX_ENTRY_SIZE);
			if (write) {
				entry_set_byte(&irq->vec[e], r, byte);
				first = e < first ? e : first;
				last = e > last ? e : last;
			} else {
				v |= (uint64_t)entry_byte(&irq->vec[e], r) << (8 * k);
			}
		} else if (in_p && o >= poff && o < poff + plen && !write) {
			/* The PBA is read-only (§6.8.2.10). */
			unsigned base = (unsigned)(o - poff) * 8;
			uint8_t bits = 0;
			for (unsigned b = 0; b < 8 && base + b < n; b++)
				bits |= (uint8_t)(irq->vec[base + b].pending << b);
			v |= (uint64_t)bits << (8 * k);
		}
	}
	if (write) {
		/* §6.8.2.9: clearing a mask with the pending bit set sends. */
		for (unsigned e = first; e <= last && first < n; e++)
			if (irq->mode == HQIO_GUEST_IRQ_MSIX)
				flush_vector(irq, e);
	} else {
		*val = v;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Setup                                                                */
/* ------------------------------------------------------------------ */

int hqio_irq_init(struct hqio_irq *irq, const struct hqio_irq_config *cfg, struct hqio_error *err)
{
	if (!irq || !cfg || !cfg->ops)
		return hqio_error_set(err, -EINVAL, "irq: no configuration or host operations");
	const struct hqio_host_ops *ops = cfg->ops;
	if (!ops->irq_set || !ops->irq_mask || !ops->now_ns || !ops->cfg_read || !ops->cfg_write ||
	    !ops->bar_read || !ops->bar_write)
		return hqio_error_set(err, -EINVAL,
				      "irq: host operations lack interrupt, clock, config or BAR "
				      "access");
	if (!cfg->guest.inject_msi || !cfg->guest.set_intx)
		return hqio_error_set(err, -EINVAL, "irq: the guest cannot receive interrupts");
	char name[32];
	hqio_bdf_format(cfg->bdf, name, sizeof(name));
	if (cfg->msix && (cfg->msix_size == 0 || cfg->msix_size > HQIO_IRQ_MAX_VECTORS))
		return hqio_error_set(err, -EINVAL, "irq: %s: MSI-X table size %u out of range",
				      name, cfg->msix_size);
	if (cfg->pin && !cfg->msi && !cfg->msix && !cfg->intx_disable_supported &&
	    !cfg->intx_line_exclusive)
		return hqio_error_set(err, -EBUSY,
				      "irq: %s needs an exclusive host interrupt line: it has "
				      "INTx only and no INTx Disable (PCI 2.2), so its line stays "
				      "masked at the interrupt controller until the guest's EOI, "
				      "which would stall every function sharing it",
				      name);

	memset(irq, 0, sizeof(*irq));
	irq->cfg = *cfg;
	if (irq->cfg.host_page_size == 0)
		irq->cfg.host_page_size = DEFAULT_PAGE_SIZE;
	if (irq->cfg.storm_window_ns == 0)
		irq->cfg.storm_window_ns = DEFAULT_STORM_WINDOW_NS;
	if (irq->cfg.storm_max == 0)
		irq->cfg.storm_max = DEFAULT_STORM_MAX;
	/* MSI-X entries are masked after reset (§6.8.2.9). */
	for (unsigned i = 0; i < HQIO_IRQ_MAX_VECTORS; i++)
		irq->vec[i].masked = true;
	irq->mode = idle_mode(irq);

	unsigned count = 0;
	enum hqio_irq_type type = HQIO_IRQ_INTX;
	if (cfg->host_intx_only && cfg->pin) {
		type = HQIO_IRQ_INTX;
		count = 1;
	} else if (cfg->msix) {
		type = HQIO_IRQ_MSIX;
		count = msix_entries(irq);
	} else if (cfg->msi) {
		type = HQIO_IRQ_MSI;
		count = cfg->msi_vectors ? cfg->msi_vectors : 1;
		if (count > MSI_MAX_VECTORS)
			count = MSI_MAX_VECTORS;
	} else if (cfg->pin) {
		type = HQIO_IRQ_INTX;
		count = 1;
	}
	irq->window_start_ns = ops->now_ns(ops->ctx);
	if (count == 0)
		return 0; /* no interrupts at all */
	int rc = 0;
	if (cfg->intx_disable_supported)
		rc = host_intx_disable(irq, type != HQIO_IRQ_INTX);
	if (rc)
		return hqio_error_set(err, rc, "irq: %s: cannot write Command.INTx Disable", name);
	rc = ops->irq_set(ops->ctx, cfg->bdf, type, count, hqio_irq_host_event, irq);
	if (rc)
		return hqio_error_set(err, rc, "irq: %s: cannot get %u host %s vector(s)", name,
				      count,
				      type == HQIO_IRQ_MSIX  ? "MSI-X"
				      : type == HQIO_IRQ_MSI ? "MSI"
							     : "INTx");
	irq->host_type = type;
	irq->host_count = count;
	return 0;
}

void hqio_irq_fini(struct hqio_irq *irq)
{
	const struct hqio_host_ops *ops = ops_of(irq);
	if (!ops)
		return;
	if (irq->host_count) {
		ops->irq_set(ops->ctx, irq->cfg.bdf, irq->host_type, 0, NULL, NULL);
		if (irq->host_type == HQIO_IRQ_INTX && irq->cfg.intx_disable_supported)
			host_intx_disable(irq, true); /* quiet on its shared line */
	}
	if (irq->line)
		line_set(irq, false);
	irq->host_count = 0;
	irq->throttled = false;
}

void hqio_irq_config_from_info(struct hqio_irq_config *c, const struct hqio_pci_info *info)
{
	c->msi = info->msi.present ? info->msi.offset : 0;
	c->msi_vectors = info->msi.present ? info->msi.vectors_capable : 0;
	c->msi_64bit = info->msi.addr64;
	c->msi_pvm = info->msi.per_vector_mask;
	c->msix = info->msix.present ? info->msix.offset : 0;
	c->msix_size = info->msix.present ? info->msix.table_size : 0;
	c->msix_table_bir = info->msix.table_bir;
	c->msix_table_off = info->msix.table_offset;
	c->msix_pba_bir = info->msix.pba_bir;
	c->msix_pba_off = info->msix.pba_offset;
	c->pin = info->int_pin;
}
