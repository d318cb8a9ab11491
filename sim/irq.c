/*
 * Interrupts of the simulated platform: MSI (capability registers, per-
 * vector masking with the read-only Pending register), MSI-X (table and
 * PBA inside a BAR, function mask, per-entry mask), INTx (a level per
 * function, Status.Interrupt Status, INTx Disable, bridge swizzling onto
 * a wired-OR shared line) and the IOAPIC the INTx lines reach
 * (level-triggered pins with Remote IRR and EOI, edge-triggered pins).
 *
 * State-based design: the hooks the platform calls after configuration
 * writes and BAR writes do not see old values, so every decision is made
 * from the current state. Holding and releasing are idempotent:
 *   - an event that cannot be sent now leaves a pending bit (MSI: Pending
 *     register / msi_pending, MSI-X: PBA) and counts in held; a vector
 *     holds one pending bit, so events on a held vector coalesce;
 *   - whenever a register that gates sending changes, every pending bit
 *     whose message may now be sent is cleared and its message sent once.
 *
 * Bus Master gating: MSI and MSI-X messages are memory writes, and with
 * Command.Bus Master Enable clear a function must not issue them (PCIe 5.0
 * §7.5.1.1.3). Such an event is not lost: it is held like a masked one
 * (pending bit set, held++), and sent once Bus Master is set again and the
 * vector is unmasked. INTx is a pin (or an Assert_INTx message, which Bus
 * Master does not control) and is not gated.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static uint16_t command(const struct sim_fn *f)
{
	return (uint16_t)sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2);
}

static void deliver_msg(struct sim_fn *f, uint64_t addr, uint32_t data)
{
	struct sim_platform *p = f->plat;
	struct sim_msi_msg m = {
		.addr = addr,
		.data = data,
		.source = sim_fn_bdf(f),
		.when_ns = p->eng.now_ns,
	};
	p->msi_log[p->n_msi % SIM_MSI_LOG] = m;
	p->n_msi++;
	f->irq.delivered++;
	if (p->msi_sink)
		p->msi_sink(p->msi_arg, &m);
}

/* ------------------------------------------------------------------ */
/* MSI (PCI LB 3.0 §6.8.1)                                              */
/* ------------------------------------------------------------------ */

static uint16_t msi_flags(const struct sim_fn *f)
{
	return (uint16_t)sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_FLAGS, 2);
}

static bool msi_enabled(const struct sim_fn *f)
{
	return f->msi && (msi_flags(f) & HQIO_PCI_MSI_FLAGS_ENABLE);
}

/* Vectors allocated: 2^Multiple Message Enable (bits 6:4), never more than
 * Multiple Message Capable (bits 3:1) allows; encodings above 101b
 * (32 vectors) are reserved (§6.8.1.3). */
static unsigned msi_vectors(const struct sim_fn *f)
{
	uint16_t fl = msi_flags(f);
	unsigned mme = (fl & HQIO_PCI_MSI_FLAGS_QSIZE) >> 4;
	unsigned mmc = (fl & HQIO_PCI_MSI_FLAGS_QMASK) >> 1;
	if (mme > mmc)
		mme = mmc;
	if (mme > 5)
		mme = 5;
	return 1u << mme;
}

static bool msi_64(const struct sim_fn *f)
{
	return msi_flags(f) & HQIO_PCI_MSI_FLAGS_64BIT;
}

static bool msi_maskable(const struct sim_fn *f)
{
	return msi_flags(f) & HQIO_PCI_MSI_FLAGS_MASKBIT;
}

static uint16_t msi_mask_reg(const struct sim_fn *f)
{
	return (uint16_t)(f->msi + (msi_64(f) ? HQIO_PCI_MSI_MASK_64 : HQIO_PCI_MSI_MASK_32));
}

static uint16_t msi_pending_reg(const struct sim_fn *f)
{
	return (uint16_t)(f->msi + (msi_64(f) ? HQIO_PCI_MSI_PENDING_64 : HQIO_PCI_MSI_PENDING_32));
}

static bool msi_vector_masked(const struct sim_fn *f, unsigned v)
{
	return msi_maskable(f) && ((sim_fn_cfg_get(f, msi_mask_reg(f), 4) >> v) & 1);
}

/* Keep the read-only Pending register (present only with per-vector
 * masking, §6.8.1.8) equal to the internal pending bits. */
static void msi_set_pending(struct sim_fn *f, uint32_t bits)
{
	f->irq.msi_pending = bits;
	if (f->msi && msi_maskable(f))
		sim_fn_cfg_set(f, msi_pending_reg(f), 4, bits);
}

static void msi_send(struct sim_fn *f, unsigned v)
{
	uint64_t addr = sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_ADDRESS_LO, 4);
	uint16_t data_reg = HQIO_PCI_MSI_DATA_32;
	if (msi_64(f)) {
		addr |= (uint64_t)sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_ADDRESS_HI, 4) << 32;
		data_reg = HQIO_PCI_MSI_DATA_64;
	}
	/* §6.8.1.6: the function modifies the low log2(vectors allocated) bits
	 * of Message Data to select the vector; the DWORD written carries the
	 * 16-bit Message Data in its low half, the upper half zero. */
	uint32_t data = sim_fn_cfg_get(f, (uint16_t)(f->msi + data_reg), 2);
	uint32_t low = msi_vectors(f) - 1;
	data = (data & ~low) | (v & low);
	deliver_msg(f, addr, data);
}

static bool msi_can_send(const struct sim_fn *f, unsigned v)
{
	return msi_enabled(f) && v < msi_vectors(f) && !msi_vector_masked(f, v) &&
	       sim_fn_can_master(f);
}

/* Send every held MSI vector that may be sent now, each once. */
static void msi_flush(struct sim_fn *f)
{
	for (unsigned v = 0; v < SIM_MSI_MAX_VECTORS; v++) {
		/* Re-read each time: a sink may change the state under us. */
		if (!f->msi || !((f->irq.msi_pending >> v) & 1) || !msi_can_send(f, v))
			continue;
		msi_set_pending(f, f->irq.msi_pending & ~(1u << v));
		msi_send(f, v);
	}
}

static void msi_raise(struct sim_fn *f, unsigned v)
{
	if (v >= msi_vectors(f)) {
		/* Only the allocated vectors exist (§6.8.1.3, §6.8.1.6). */
		f->irq.dropped++;
		return;
	}
	if (msi_can_send(f, v)) {
		msi_send(f, v);
		return;
	}
	/* Masked, or Bus Master off: one pending bit per vector. */
	msi_set_pending(f, f->irq.msi_pending | (1u << v));
	f->irq.held++;
}

/* ------------------------------------------------------------------ */
/* MSI-X (PCI LB 3.0 §6.8.2)                                            */
/* ------------------------------------------------------------------ */

/* Table entry layout (§6.8.2.6-§6.8.2.9): Message Address, Message Upper
 * Address, Message Data, Vector Control; bit 0 of Vector Control is the
 * mask bit, the other bits are reserved (read 0). */
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA	   8
#define MSIX_ENTRY_VCTRL   12
#define MSIX_VCTRL_MASK	   0x1u

/* Writable bits of byte r of an entry: address and data are read-write,
 * Vector Control has only its mask bit. */
static uint8_t entry_wmask(unsigned r)
{
	if (r < MSIX_ENTRY_VCTRL)
		return 0xff;
	return r == MSIX_ENTRY_VCTRL ? (uint8_t)MSIX_VCTRL_MASK : 0x00;
}

static uint16_t msix_ctrl(const struct sim_fn *f)
{
	return (uint16_t)sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_FLAGS, 2);
}

static bool msix_enabled(const struct sim_fn *f)
{
	return f->msix && f->irq.msix_table && (msix_ctrl(f) & HQIO_PCI_MSIX_FLAGS_ENABLE);
}

static uint32_t entry_get(const struct sim_fn *f, unsigned i, unsigned reg)
{
	const uint8_t *e = f->irq.msix_table + (size_t)i * HQIO_PCI_MSIX_ENTRY_SIZE + reg;
	return (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
}

static bool pba_get(const struct sim_fn *f, unsigned i)
{
	return (f->irq.msix_pba[i / 64] >> (i % 64)) & 1;
}

static void pba_set(struct sim_fn *f, unsigned i, bool on)
{
	if (on)
		f->irq.msix_pba[i / 64] |= 1ULL << (i % 64);
	else
		f->irq.msix_pba[i / 64] &= ~(1ULL << (i % 64));
}

static bool msix_can_send(const struct sim_fn *f, unsigned i)
{
	return msix_enabled(f) && i < f->irq.msix_size &&
	       !(msix_ctrl(f) & HQIO_PCI_MSIX_FLAGS_MASKALL) &&
	       !(entry_get(f, i, MSIX_ENTRY_VCTRL) & MSIX_VCTRL_MASK) && sim_fn_can_master(f);
}

static void msix_send(struct sim_fn *f, unsigned i)
{
	uint64_t addr = entry_get(f, i, MSIX_ENTRY_ADDR_LO) |
			(uint64_t)entry_get(f, i, MSIX_ENTRY_ADDR_HI) << 32;
	deliver_msg(f, addr, entry_get(f, i, MSIX_ENTRY_DATA));
}

/* Send entry i if it is pending and may be sent now (§6.8.2.9: clearing a
 * mask with the pending bit set sends the message and clears the bit). */
static void msix_flush_entry(struct sim_fn *f, unsigned i)
{
	if (!f->irq.msix_pba || i >= f->irq.msix_size || !pba_get(f, i) || !msix_can_send(f, i))
		return;
	pba_set(f, i, false);
	msix_send(f, i);
}

static void msix_flush(struct sim_fn *f)
{
	for (unsigned w = 0; f->irq.msix_pba && w * 64u < f->irq.msix_size; w++) {
		if (!f->irq.msix_pba[w])
			continue;
		for (unsigned b = 0; b < 64; b++)
			msix_flush_entry(f, w * 64 + b);
	}
}

static void msix_raise(struct sim_fn *f, unsigned i)
{
	if (i >= f->irq.msix_size) {
		f->irq.dropped++;
		return;
	}
	if (msix_can_send(f, i)) {
		msix_send(f, i);
		return;
	}
	pba_set(f, i, true); /* one pending bit: events coalesce */
	f->irq.held++;
}

/* ------------------------------------------------------------------ */
/* IOAPIC                                                               */
/* ------------------------------------------------------------------ */

static void ioapic_deliver(struct sim_platform *p, unsigned pin)
{
	struct sim_ioapic_pin *ip = &p->ioapic[pin];
	if (ip->level_triggered)
		ip->remote_irr = true; /* until the EOI */
	ip->delivered++;
	if (p->ioapic_sink)
		p->ioapic_sink(p->ioapic_arg, pin, ip->vector);
}

/* A level pin delivers while the line is asserted, the entry unmasked and
 * no delivery awaits its EOI (Remote IRR clear). */
static void ioapic_level_check(struct sim_platform *p, unsigned pin)
{
	struct sim_ioapic_pin *ip = &p->ioapic[pin];
	if (ip->level_triggered && !ip->masked && ip->asserted > 0 && !ip->remote_irr)
		ioapic_deliver(p, pin);
}

/* The wired-OR line went from no driver to one driver. */
static void ioapic_line_rose(struct sim_platform *p, unsigned pin)
{
	struct sim_ioapic_pin *ip = &p->ioapic[pin];
	if (ip->level_triggered)
		ioapic_level_check(p, pin);
	else if (!ip->masked)
		ioapic_deliver(p, pin);
	/* A masked edge pin ignores the edge (82093AA IOAPIC datasheet,
	 * redirection table Interrupt Mask bit: masked edge interrupts are
	 * neither delivered nor held). */
}

/* ------------------------------------------------------------------ */
/* INTx (PCI LB 3.0 §2.2.6, §6.2.2, §6.2.3)                             */
/* ------------------------------------------------------------------ */

static uint8_t intx_pin_reg(const struct sim_fn *f)
{
	return f->b.cfg[HQIO_PCI_INTERRUPT_PIN];
}

/* Whether the function drives its pin now: a request, a pin, INTx not
 * disabled (§6.2.2), not held in reset, and neither MSI nor MSI-X enabled
 * (§6.8.1.3 / §6.8.2.3: with MSI(-X) enabled the function is prohibited
 * from using its INTx pin). */
static bool intx_should_drive(const struct sim_fn *f)
{
	return f->irq.intx_level && intx_pin_reg(f) != 0 &&
	       !(command(f) & HQIO_PCI_COMMAND_INTX_DISABLE) && !f->in_reset && !msi_enabled(f) &&
	       !msix_enabled(f);
}

/* Bring the pin in line with the state; counts and delivers on a change. */
static void intx_update(struct sim_fn *f)
{
	bool want = intx_should_drive(f);
	if (want == f->irq.intx_asserted)
		return;
	struct sim_platform *p = f->plat;
	unsigned pin = sim_intx_pin(f);
	f->irq.intx_asserted = want;
	if (want) {
		f->irq.delivered++;
		if (p->ioapic[pin].asserted++ == 0)
			ioapic_line_rose(p, pin);
	} else if (p->ioapic[pin].asserted > 0) {
		p->ioapic[pin].asserted--;
	}
}

/* Reconcile every function's pin: catches state changes the platform does
 * not report to this file (a bridge putting its bus in reset and taking it
 * out again without resetting the functions, a Trst violation). */
static void intx_update_all(struct sim_platform *p)
{
	for (size_t i = 0; i < p->n_fns; i++)
		intx_update(p->fns[i]);
}

void sim_intx_set(struct sim_fn *f, bool level)
{
	bool rose = level && !f->irq.intx_level;
	f->irq.intx_level = level;
	/* Status.Interrupt Status mirrors the request, whatever INTx Disable
	 * says (§6.2.3). */
	uint16_t st = (uint16_t)sim_fn_cfg_get(f, HQIO_PCI_STATUS, 2);
	st = level ? (uint16_t)(st | HQIO_PCI_STATUS_INTERRUPT)
		   : (uint16_t)(st & ~HQIO_PCI_STATUS_INTERRUPT);
	sim_fn_cfg_set(f, HQIO_PCI_STATUS, 2, st);
	intx_update(f);
	if (rose && !f->irq.intx_asserted) {
		if (intx_pin_reg(f) == 0)
			f->irq.dropped++; /* no pin to signal on */
		else
			f->irq.held++; /* masked by INTx Disable, MSI(-X) or reset */
	}
}

/* PCI-to-PCI Bridge Architecture r1.2 §9.1, table 9-1: a device's INTx
 * pin on a secondary bus reaches the bridge's primary-side pin
 * ((pin - 1 + device number) mod 4) + 1, and so on up to the root bus.
 * PCIe switches and root ports map virtual wires the same way (PCIe 5.0
 * §2.2.8.1). At the root bus the platform routes its pins, rotated by the
 * device number in the same way, to GSIs 16..19 of the IOAPIC (the
 * classic 16 + PIRQ A..D layout above the 16 ISA GSIs). A function
 * without a pin (0) is treated as INTA. */
unsigned sim_intx_pin(const struct sim_fn *f)
{
	uint8_t pin = intx_pin_reg(f);
	unsigned idx = (pin >= 1 && pin <= 4) ? pin - 1u : 0u; /* 1..4 = INTA..INTD (§6.2.4) */
	for (const struct sim_fn *c = f; c; c = c->parent)
		idx = (idx + c->dev) % 4; /* at each bridge, then at the root bus */
	unsigned gsi = 16 + idx;
	return gsi < SIM_IOAPIC_PINS ? gsi : SIM_IOAPIC_PINS - 1;
}

void sim_ioapic_eoi(struct sim_platform *p, unsigned pin)
{
	if (pin >= SIM_IOAPIC_PINS)
		return;
	intx_update_all(p);
	if (!p->ioapic[pin].level_triggered)
		return;
	p->ioapic[pin].remote_irr = false;
	/* Still asserted: the level interrupt is delivered again. */
	ioapic_level_check(p, pin);
}

void sim_ioapic_program(struct sim_platform *p, unsigned pin, uint8_t vector, bool level,
			bool masked)
{
	if (pin >= SIM_IOAPIC_PINS)
		return;
	intx_update_all(p);
	struct sim_ioapic_pin *ip = &p->ioapic[pin];
	ip->vector = vector;
	ip->level_triggered = level;
	ip->masked = masked;
	if (!level)
		ip->remote_irr = false; /* Remote IRR is defined for level pins only */
	/* Unmasking a level pin whose line is asserted delivers. */
	ioapic_level_check(p, pin);
}

/* ------------------------------------------------------------------ */
/* Device events                                                        */
/* ------------------------------------------------------------------ */

void sim_irq_raise(struct sim_fn *f, unsigned vector)
{
	/* At most one mode: MSI-X, else MSI, else INTx (PCI LB 3.0 §6.8). */
	if (msix_enabled(f)) {
		msix_raise(f, vector);
	} else if (msi_enabled(f)) {
		msi_raise(f, vector);
	} else if (intx_pin_reg(f) != 0) {
		sim_intx_set(f, true);
	} else {
		f->irq.dropped++;
	}
}

/* ------------------------------------------------------------------ */
/* Hooks the platform calls                                              */
/* ------------------------------------------------------------------ */

void sim_irq_cfg_written(struct sim_fn *f, uint16_t off, unsigned size)
{
	bool cmd = ranges_overlap(off, size, HQIO_PCI_COMMAND, 2);
	/* The MSI registers up to Pending Bits: 24 bytes at most (§6.8.1). */
	bool msi = f->msi && ranges_overlap(off, size, f->msi, 24);
	bool msix = f->msix && ranges_overlap(off, size, f->msix + HQIO_PCI_MSIX_FLAGS, 2);
	if (!cmd && !msi && !msix)
		return;
	/* INTx Disable, Bus Master, the enables, the masks: recompute the pin,
	 * then send whatever became sendable. */
	intx_update(f);
	msix_flush(f);
	msi_flush(f);
}

bool sim_irq_bar_access(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size, uint64_t *val,
			bool write)
{
	if (!f->msix || !f->irq.msix_table || !f->irq.msix_pba || size == 0 || size > 8)
		return false;
	uint32_t treg = sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_TABLE, 4);
	uint32_t preg = sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_PBA, 4);
	unsigned n = f->irq.msix_size;
	uint64_t toff = treg & HQIO_PCI_MSIX_OFFSET_MASK,
		 tlen = (uint64_t)n * HQIO_PCI_MSIX_ENTRY_SIZE;
	uint64_t poff = preg & HQIO_PCI_MSIX_OFFSET_MASK,
		 plen = ((n + 63u) / 64u) * 8u; /* QWORDs */
	bool in_t = (treg & HQIO_PCI_MSIX_BIR_MASK) == bar && ranges_overlap(off, size, toff, tlen);
	bool in_p = (preg & HQIO_PCI_MSIX_BIR_MASK) == bar && ranges_overlap(off, size, poff, plen);
	if (!in_t && !in_p)
		return false;

	/* Byte by byte, little-endian; bytes outside both structures read 0
	 * and ignore writes. The table wins where the two overlap. */
	uint64_t v = write ? *val : 0;
	uint32_t first = UINT32_MAX, last = 0; /* entries written */
	for (unsigned k = 0; k < size; k++) {
		uint64_t o = off + k;
		uint8_t byte = (uint8_t)(v >> (8 * k));
		if (in_t && o >= toff && o < toff + tlen) {
			uint64_t t = o - toff;
			uint8_t m = entry_wmask(t % HQIO_PCI_MSIX_ENTRY_SIZE);
			if (write) {
				uint8_t *e = &f->irq.msix_table[t];
				*e = (uint8_t)((*e & ~m) | (byte & m));
				uint32_t idx = (uint32_t)(t / HQIO_PCI_MSIX_ENTRY_SIZE);
				first = idx < first ? idx : first;
				last = idx > last ? idx : last;
			} else {
				v |= (uint64_t)f->irq.msix_table[t] << (8 * k);
			}
		} else if (in_p && o >= poff && o < poff + plen) {
			if (!write) { /* the PBA is read-only (§6.8.2.10) */
				uint64_t t = o - poff;
				uint8_t b = (uint8_t)(f->irq.msix_pba[t / 8] >> (8 * (t % 8)));
				v |= (uint64_t)b << (8 * k);
			}
		}
	}
	if (write) {
		/* A mask bit cleared with the pending bit set sends the message. */
		for (uint32_t i = first; i <= last && first != UINT32_MAX; i++)
			msix_flush_entry(f, i);
	} else {
		*val = v;
	}
	return true;
}

void sim_irq_reset(struct sim_fn *f)
{
	struct sim_platform *p = f->plat;
	if (f->irq.intx_asserted) {
		unsigned pin = sim_intx_pin(f);
		if (p->ioapic[pin].asserted > 0)
			p->ioapic[pin].asserted--;
	}
	f->irq.intx_level = false;
	f->irq.intx_asserted = false;
	f->irq.msi_pending = 0; /* the platform restored the Pending register */

	unsigned n = 0;
	if (f->msix)
		n = (msix_ctrl(f) & HQIO_PCI_MSIX_FLAGS_QSIZE) + 1u; /* Table Size is N-1 */
	if (n != f->irq.msix_size || !f->irq.msix_table || !f->irq.msix_pba) {
		sim_irq_free(f);
		if (n) {
			f->irq.msix_table = calloc(n, HQIO_PCI_MSIX_ENTRY_SIZE);
			f->irq.msix_pba = calloc((n + 63u) / 64u, sizeof(uint64_t));
			if (!f->irq.msix_table || !f->irq.msix_pba)
				sim_irq_free(f); /* no table: MSI-X stays unusable */
			else
				f->irq.msix_size = (uint16_t)n;
		}
	}
	if (f->irq.msix_table) {
		memset(f->irq.msix_table, 0, (size_t)n * HQIO_PCI_MSIX_ENTRY_SIZE);
		memset(f->irq.msix_pba, 0, ((n + 63u) / 64u) * sizeof(uint64_t));
		/* Every entry masked at reset (§6.8.2.9). */
		for (unsigned i = 0; i < n; i++)
			f->irq.msix_table[(size_t)i * HQIO_PCI_MSIX_ENTRY_SIZE + MSIX_ENTRY_VCTRL] =
				MSIX_VCTRL_MASK;
	}
}

void sim_irq_free(struct sim_fn *f)
{
	free(f->irq.msix_table);
	free(f->irq.msix_pba);
	f->irq.msix_table = NULL;
	f->irq.msix_pba = NULL;
	f->irq.msix_size = 0;
}
