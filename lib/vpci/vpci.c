/*
 * lib/vpci (hqio/vpci.h): the guest's view of an assigned function's
 * configuration space. At init the physical function is decoded through
 * struct hqio_host_ops, its BARs are sized (host values restored) and a
 * table of rows (struct hqio_vpci_field) is built; one generic engine
 * applies the rows to every guest access:
 *   read   per byte: bits in `virt` come from vcfg, the others from the
 *          hardware (one ops->cfg_read for the access, only when needed);
 *   write  guest_wr & virt bits update vcfg (w1c bits clear on 1);
 *          guest_wr & ~virt bits go to the hardware with a read-modify-
 *          write that writes 0 into every w1c bit the guest did not mean
 *          to clear; then the row's kind handler runs.
 * Bytes outside any row pass through; bytes of hidden capabilities read 0
 * and ignore writes. The row table and the policies are documented in
 * docs/vpci.md. Guest BAR accesses to a device's back doors (the lib/dvh
 * quirk matched at init) are redirected here too (docs/dvh-runtime.md).
 *
 * Pure code: every device access, wait and reset goes through cfg.ops
 * (lib/reset for guest FLR, lib/irq for interrupts). The only heap block
 * is v->info, allocated as the first member of a private struct that also
 * holds the byte-to-row map, the post-reset virtual image and the state
 * saved across a guest D3hot.
 */
#include "hqio/vpci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS 1000000ULL
/* PCI PM 1.2 §5.6.1, table 5-6: D0<->D3hot transition recovery, 10 ms. */
#define T_D3HOT_NS (10 * NS_PER_MS)
/* PCI LB 3.0 §6.2.3: the error bits of Status, all RW1C. */
#define STATUS_ERR_W1C                                                                             \
	(HQIO_PCI_STATUS_PARITY | HQIO_PCI_STATUS_SIG_TARGET_ABORT |                               \
	 HQIO_PCI_STATUS_REC_TARGET_ABORT | HQIO_PCI_STATUS_REC_MASTER_ABORT |                     \
	 HQIO_PCI_STATUS_SIG_SYSTEM_ERROR | HQIO_PCI_STATUS_DETECTED_PARITY)
/* PCIe 5.0 §7.5.3.5: the four error-detected bits of Device Status, RW1C. */
#define DEVSTA_ERR_W1C                                                                             \
	(HQIO_PCI_EXP_DEVSTA_CED | HQIO_PCI_EXP_DEVSTA_NFED | HQIO_PCI_EXP_DEVSTA_FED |            \
	 HQIO_PCI_EXP_DEVSTA_URD)
/* PCIe 5.0 §7.5.3.4: Device Control error reporting enables. */
#define DEVCTL_ERR_EN                                                                              \
	(HQIO_PCI_EXP_DEVCTL_CERE | HQIO_PCI_EXP_DEVCTL_NFERE | HQIO_PCI_EXP_DEVCTL_FERE |         \
	 HQIO_PCI_EXP_DEVCTL_URRE)
/* Command bits the guest sees virtually (docs/vpci.md: Command row). */
#define CMD_VIRT                                                                                   \
	(HQIO_PCI_COMMAND_IO | HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER |                 \
	 HQIO_PCI_COMMAND_PARITY | HQIO_PCI_COMMAND_SERR | HQIO_PCI_COMMAND_INTX_DISABLE)
#define ROM_ADDR_BITS  0xfffff800u /* PCI LB 3.0 §6.2.5.2: bits 31:11 */
#define MSI_ADDR_LO_WR 0xfffffffcu /* PCI LB 3.0 §6.8.1.4: bits 1:0 reserved */

/* The state behind v->info (v->info points at .info, the first member). */
struct vpci_priv {
	struct hqio_pci_info info;
	uint16_t field_of[HQIO_PCI_CFG_EXP_SIZE]; /* row index + 1; 0: none */
	uint8_t vinit[HQIO_PCI_CFG_EXP_SIZE];	  /* virtual image after reset */
	uint16_t pm, msi, msix, exp, af;	  /* visible capabilities (0: none) */
	bool exp_v2, msi64, msi_pvm;
	uint16_t msi_data, msi_mask, msi_pend; /* absolute offsets */
	uint16_t msix_size;
	uint32_t devctl_init; /* hardware Device Control at init */
	bool bar64[6], bar_io[6];
	/* What the monitor was last told (bar_changed). */
	uint64_t rep_addr[7];
	bool rep_on[7];
	/* Host-owned configuration saved when the guest enters D3hot. */
	bool saved;
	uint32_t s_hdr[16];
	uint32_t s_devctl, s_lnkctl, s_devctl2, s_lnkctl2;
	uint32_t s_msi_flags, s_msi_lo, s_msi_hi, s_msi_data, s_msi_mask;
	uint32_t s_msix_flags;
	uint32_t *s_msix_table; /* msix_size * 4 dwords */
};

static struct vpci_priv *priv(const struct hqio_vpci *v)
{
	return (struct vpci_priv *)v->info;
}

/* ------------------------------------------------------------------ */
/* Little helpers                                                       */
/* ------------------------------------------------------------------ */

static uint32_t ones(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static uint32_t vget(const struct hqio_vpci *v, uint16_t off, unsigned size)
{
	uint32_t x = 0;
	for (unsigned i = 0; i < size; i++)
		x |= (uint32_t)v->vcfg[off + i] << (8 * i);
	return x;
}

static void vset(struct hqio_vpci *v, uint16_t off, unsigned size, uint32_t x)
{
	for (unsigned i = 0; i < size; i++)
		v->vcfg[off + i] = (uint8_t)(x >> (8 * i));
}

static uint32_t hw_rd(const struct hqio_vpci *v, uint16_t off, unsigned size)
{
	uint32_t x = 0;
	if (v->cfg.ops->cfg_read(v->cfg.ops->ctx, v->cfg.host_bdf, off, size, &x))
		return ones(size);
	return x;
}

static void hw_wr(const struct hqio_vpci *v, uint16_t off, unsigned size, uint32_t x)
{
	v->cfg.ops->cfg_write(v->cfg.ops->ctx, v->cfg.host_bdf, off, size, x);
}

static void hw_wr_if_diff(const struct hqio_vpci *v, uint16_t off, unsigned size, uint32_t x)
{
	if (hw_rd(v, off, size) != (x & ones(size)))
		hw_wr(v, off, size, x);
}

static void hw_sleep(const struct hqio_vpci *v, uint64_t ns)
{
	if (v->cfg.ops->sleep_ns)
		v->cfg.ops->sleep_ns(v->cfg.ops->ctx, ns);
}

static bool valid_access(uint16_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off % size == 0 &&
	       (unsigned)off + size <= HQIO_PCI_CFG_EXP_SIZE;
}

/* Add a row; rows never overlap. vcfg keeps what is already there. */
static int add_row(struct hqio_vpci *v, uint16_t off, uint8_t size, uint32_t virt,
		   uint32_t guest_wr, uint32_t w1c, enum hqio_vpci_kind kind)
{
	struct vpci_priv *p = priv(v);
	if (v->n_fields >= HQIO_VPCI_MAX_FIELDS || !valid_access(off, size))
		return -ENOSPC;
	for (unsigned i = 0; i < size; i++)
		if (p->field_of[off + i])
			return -EEXIST;
	v->fields[v->n_fields] = (struct hqio_vpci_field){ .off = off,
							   .size = size,
							   .virt = virt & ones(size),
							   .guest_wr = guest_wr & ones(size),
							   .w1c = w1c & ones(size),
							   .kind = kind };
	v->n_fields++;
	for (unsigned i = 0; i < size; i++)
		p->field_of[off + i] = (uint16_t)v->n_fields;
	return 0;
}

const struct hqio_vpci_field *hqio_vpci_field_at(const struct hqio_vpci *v, uint16_t off)
{
	if (!v || !v->info || off >= HQIO_PCI_CFG_EXP_SIZE)
		return NULL;
	uint16_t k = priv(v)->field_of[off];
	return k ? &v->fields[k - 1] : NULL;
}

/* ------------------------------------------------------------------ */
/* BAR bookkeeping                                                      */
/* ------------------------------------------------------------------ */

static bool guest_d0(const struct hqio_vpci *v)
{
	const struct vpci_priv *p = priv(v);
	return !p->pm || (vget(v, p->pm + HQIO_PCI_PM_CTRL, 2) & HQIO_PCI_PM_CTRL_STATE_MASK) == 0;
}

/* The guest's address and decode state of BAR i (6: ROM). */
static void guest_bar(const struct hqio_vpci *v, unsigned i, uint64_t *addr, bool *on)
{
	const struct vpci_priv *p = priv(v);
	uint16_t cmd = (uint16_t)vget(v, HQIO_PCI_COMMAND, 2);
	if (i == 6) {
		uint32_t r = vget(v, HQIO_PCI_ROM_ADDRESS, 4);
		*addr = r & ROM_ADDR_BITS;
		*on = (cmd & HQIO_PCI_COMMAND_MEMORY) && (r & HQIO_PCI_ROM_ADDRESS_ENABLE);
	} else {
		uint16_t reg = (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * i);
		uint32_t lo = vget(v, reg, 4);
		if (p->bar_io[i]) {
			*addr = lo & (uint32_t)HQIO_PCI_BASE_ADDRESS_IO_MASK;
			*on = cmd & HQIO_PCI_COMMAND_IO;
		} else {
			*addr = lo & (uint32_t)HQIO_PCI_BASE_ADDRESS_MEM_MASK;
			if (p->bar64[i])
				*addr |= (uint64_t)vget(v, (uint16_t)(reg + 4), 4) << 32;
			*on = cmd & HQIO_PCI_COMMAND_MEMORY;
		}
	}
	*on = *on && guest_d0(v);
}

/* Tell the monitor about every BAR whose decode toggled or that moved
 * while decoding (moves with decode off, e.g. sizing, are not reported). */
static void report_bars(struct hqio_vpci *v)
{
	struct vpci_priv *p = priv(v);
	for (unsigned i = 0; i < 7; i++) {
		if (!v->bar_size[i])
			continue;
		uint64_t a;
		bool on;
		guest_bar(v, i, &a, &on);
		if (on == p->rep_on[i] && (!on || a == p->rep_addr[i]))
			continue;
		p->rep_on[i] = on;
		p->rep_addr[i] = a;
		if (v->cfg.bar_changed)
			v->cfg.bar_changed(v->cfg.bar_arg, i, a, on);
	}
}

/* ------------------------------------------------------------------ */
/* Host-owned configuration across a guest D3hot (no No_Soft_Reset)    */
/* ------------------------------------------------------------------ */

static void host_save(struct hqio_vpci *v)
{
	struct vpci_priv *p = priv(v);
	const struct hqio_pci_info *in = v->info;
	for (unsigned i = 1; i < 16; i++)
		p->s_hdr[i] = hw_rd(v, (uint16_t)(4 * i), 4);
	if (in->exp.present) {
		uint16_t e = in->exp.offset;
		p->s_devctl = hw_rd(v, e + HQIO_PCI_EXP_DEVCTL, 2) & ~HQIO_PCI_EXP_DEVCTL_BCR_FLR;
		p->s_lnkctl = hw_rd(v, e + HQIO_PCI_EXP_LNKCTL, 2);
		if (p->exp_v2) {
			p->s_devctl2 = hw_rd(v, e + HQIO_PCI_EXP_DEVCTL2, 2);
			p->s_lnkctl2 = hw_rd(v, e + HQIO_PCI_EXP_LNKCTL2, 2);
		}
	}
	if (in->msi.present) {
		uint16_t m = in->msi.offset;
		p->s_msi_flags = hw_rd(v, m + HQIO_PCI_MSI_FLAGS, 2);
		bool a64 = p->s_msi_flags & HQIO_PCI_MSI_FLAGS_64BIT;
		p->s_msi_lo = hw_rd(v, m + HQIO_PCI_MSI_ADDRESS_LO, 4);
		if (a64)
			p->s_msi_hi = hw_rd(v, m + HQIO_PCI_MSI_ADDRESS_HI, 4);
		p->s_msi_data =
			hw_rd(v, m + (a64 ? HQIO_PCI_MSI_DATA_64 : HQIO_PCI_MSI_DATA_32), 2);
		if (p->s_msi_flags & HQIO_PCI_MSI_FLAGS_MASKBIT)
			p->s_msi_mask = hw_rd(
				v, m + (a64 ? HQIO_PCI_MSI_MASK_64 : HQIO_PCI_MSI_MASK_32), 4);
	}
	if (in->msix.present) {
		p->s_msix_flags = hw_rd(v, in->msix.offset + HQIO_PCI_MSIX_FLAGS, 2);
		if (p->s_msix_table && v->cfg.ops->bar_read)
			for (unsigned k = 0; k < 4u * p->msix_size; k++) {
				uint64_t x = 0;
				v->cfg.ops->bar_read(v->cfg.ops->ctx, v->cfg.host_bdf,
						     in->msix.table_bir,
						     in->msix.table_offset + 4ull * k, 4, &x);
				p->s_msix_table[k] = (uint32_t)x;
			}
	}
	p->saved = true;
}

/* Put the saved host-owned state back where it differs; returns whether
 * anything had to be written (the transition did reset the function). */
static bool host_restore(struct hqio_vpci *v)
{
	struct vpci_priv *p = priv(v);
	const struct hqio_pci_info *in = v->info;
	bool lost = false;
	if (!p->saved)
		return false;
	uint32_t cmd = p->s_hdr[1] & 0xffff;
	for (unsigned i = 4; i <= 9; i++)
		lost |= hw_rd(v, (uint16_t)(4 * i), 4) != p->s_hdr[i];
	lost |= hw_rd(v, HQIO_PCI_ROM_ADDRESS, 4) != p->s_hdr[12];
	lost |= hw_rd(v, HQIO_PCI_COMMAND, 2) != cmd;
	if (in->msi.present)
		lost |= hw_rd(v, in->msi.offset + HQIO_PCI_MSI_FLAGS, 2) != p->s_msi_flags;
	if (in->msix.present)
		lost |= hw_rd(v, in->msix.offset + HQIO_PCI_MSIX_FLAGS, 2) != p->s_msix_flags;
	if (!lost)
		return false;
	/* Decode and Bus Master off while the BARs are rewritten. */
	hw_wr(v, HQIO_PCI_COMMAND, 2,
	      cmd & ~(uint32_t)(HQIO_PCI_COMMAND_MASTER | HQIO_PCI_COMMAND_MEMORY |
				HQIO_PCI_COMMAND_IO));
	for (unsigned i = 4; i <= 9; i++)
		hw_wr_if_diff(v, (uint16_t)(4 * i), 4, p->s_hdr[i]);
	hw_wr_if_diff(v, HQIO_PCI_ROM_ADDRESS, 4, p->s_hdr[12]);
	hw_wr_if_diff(v, HQIO_PCI_CACHE_LINE_SIZE, 1, p->s_hdr[3] & 0xff);
	hw_wr_if_diff(v, HQIO_PCI_LATENCY_TIMER, 1, (p->s_hdr[3] >> 8) & 0xff);
	hw_wr_if_diff(v, HQIO_PCI_INTERRUPT_LINE, 1, p->s_hdr[15] & 0xff);
	if (in->exp.present) {
		uint16_t e = in->exp.offset;
		hw_wr_if_diff(v, e + HQIO_PCI_EXP_DEVCTL, 2, p->s_devctl);
		hw_wr_if_diff(v, e + HQIO_PCI_EXP_LNKCTL, 2, p->s_lnkctl);
		if (p->exp_v2) {
			hw_wr_if_diff(v, e + HQIO_PCI_EXP_DEVCTL2, 2, p->s_devctl2);
			hw_wr_if_diff(v, e + HQIO_PCI_EXP_LNKCTL2, 2, p->s_lnkctl2);
		}
	}
	if (in->msi.present) {
		uint16_t m = in->msi.offset;
		bool a64 = p->s_msi_flags & HQIO_PCI_MSI_FLAGS_64BIT;
		hw_wr_if_diff(v, m + HQIO_PCI_MSI_ADDRESS_LO, 4, p->s_msi_lo);
		if (a64)
			hw_wr_if_diff(v, m + HQIO_PCI_MSI_ADDRESS_HI, 4, p->s_msi_hi);
		hw_wr_if_diff(v, m + (a64 ? HQIO_PCI_MSI_DATA_64 : HQIO_PCI_MSI_DATA_32), 2,
			      p->s_msi_data);
		if (p->s_msi_flags & HQIO_PCI_MSI_FLAGS_MASKBIT)
			hw_wr_if_diff(v, m + (a64 ? HQIO_PCI_MSI_MASK_64 : HQIO_PCI_MSI_MASK_32), 4,
				      p->s_msi_mask);
		hw_wr_if_diff(v, m + HQIO_PCI_MSI_FLAGS, 2, p->s_msi_flags);
	}
	if (in->msix.present) {
		uint16_t x = in->msix.offset + HQIO_PCI_MSIX_FLAGS;
		if (p->s_msix_table && v->cfg.ops->bar_write) {
			/* The table sits in a BAR: memory decode on, every vector
			 * masked by the Function Mask while it is rewritten
			 * (PCI LB 3.0 §6.8.2.3). */
			hw_wr(v, HQIO_PCI_COMMAND, 2,
			      (cmd & ~(uint32_t)HQIO_PCI_COMMAND_MASTER) | HQIO_PCI_COMMAND_MEMORY);
			hw_wr(v, x, 2,
			      p->s_msix_flags | HQIO_PCI_MSIX_FLAGS_MASKALL |
				      HQIO_PCI_MSIX_FLAGS_ENABLE);
			for (unsigned k = 0; k < 4u * p->msix_size; k++)
				v->cfg.ops->bar_write(
					v->cfg.ops->ctx, v->cfg.host_bdf, in->msix.table_bir,
					in->msix.table_offset + 4ull * k, 4, p->s_msix_table[k]);
		}
		hw_wr(v, x, 2, p->s_msix_flags);
	}
	hw_wr(v, HQIO_PCI_COMMAND, 2, cmd);
	return true;
}

/* ------------------------------------------------------------------ */
/* Kind handlers                                                        */
/* ------------------------------------------------------------------ */

static void irq_reinit(struct hqio_vpci *v)
{
	/* The reset released the host interrupt routing (quiesce) and put
	 * the guest's view back to "no interrupts enabled": lib/irq starts
	 * over from its configuration (docs/vpci.md: guest FLR). */
	struct hqio_irq *irq = v->cfg.irq;
	if (!irq)
		return;
	struct hqio_irq_config c = irq->cfg;
	hqio_irq_fini(irq);
	hqio_irq_init(irq, &c, NULL);
}

/* Guest FLR (PCIe DevCtl Initiate FLR, AF FLR): the real reset through
 * lib/reset, the guest's view back to its post-reset state. */
static void guest_flr(struct hqio_vpci *v)
{
	struct vpci_priv *p = priv(v);
	if (!v->cfg.plan)
		return; /* not advertised (DevCap/AF FLR read 0): ignored */
	v->in_flr = true;
	memcpy(v->vcfg, p->vinit, sizeof(v->vcfg));
	for (unsigned i = 0; i < HQIO_DVH_MAX_BD; i++) {
		/* The device's window registers reset too; counts stay. */
		v->dvh[i].index = v->dvh[i].latch = 0;
		v->dvh[i].selected = false;
	}
	report_bars(v); /* the monitor unmaps: decode is off now */
	struct hqio_reset_result res;
	int rc = hqio_reset_execute(v->cfg.ops, v->cfg.plan, NULL, NULL, &res, NULL);
	if (rc)
		return; /* quarantined: guest BAR access stays blocked */
	if (p->exp) {
		/* The pass-through Device Control bits back to the values the
		 * device was handed over with (restore put the guest's back). */
		uint16_t e = p->exp + HQIO_PCI_EXP_DEVCTL;
		const struct hqio_vpci_field *f = hqio_vpci_field_at(v, e);
		uint32_t pass = f ? f->guest_wr & ~f->virt : 0;
		uint32_t hw = hw_rd(v, e, 2);
		hw_wr_if_diff(v, e, 2, (hw & ~pass) | (p->devctl_init & pass));
	}
	irq_reinit(v);
	v->stats.guest_flrs++;
	v->in_flr = false;
}

static void on_command(struct hqio_vpci *v, uint32_t old, uint32_t now)
{
	uint32_t ch = old ^ now;
	if ((ch & HQIO_PCI_COMMAND_INTX_DISABLE) && v->cfg.irq)
		hqio_irq_guest_intx(v->cfg.irq, now & HQIO_PCI_COMMAND_INTX_DISABLE);
	uint32_t hw = hw_rd(v, HQIO_PCI_COMMAND, 2), want = hw;
	/* Decode: the host's value, turned on when the guest needs it, never
	 * turned off by the guest (the host may need it: MSI-X table). */
	want |= now & (HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO);
	if (v->cfg.allow_bus_master)
		want = (want & ~(uint32_t)HQIO_PCI_COMMAND_MASTER) |
		       (now & HQIO_PCI_COMMAND_MASTER);
	if (want != hw && hw != 0xffff)
		hw_wr(v, HQIO_PCI_COMMAND, 2, want);
	report_bars(v);
}

static void on_msi(struct hqio_vpci *v, uint16_t row_off, uint32_t old, uint32_t now)
{
	struct vpci_priv *p = priv(v);
	if (!v->cfg.irq || old == now)
		return;
	uint16_t m = p->msi;
	uint32_t flags = vget(v, m + HQIO_PCI_MSI_FLAGS, 2);
	bool en = flags & HQIO_PCI_MSI_FLAGS_ENABLE;
	bool was = row_off == m + HQIO_PCI_MSI_FLAGS ? old & HQIO_PCI_MSI_FLAGS_ENABLE : en;
	if (!en && !was)
		return;
	unsigned cap = (flags & HQIO_PCI_MSI_FLAGS_QMASK) >> 1,
		 qs = (flags & HQIO_PCI_MSI_FLAGS_QSIZE) >> 4;
	unsigned count = 1u << (qs < cap ? qs : cap);
	uint64_t addr = vget(v, m + HQIO_PCI_MSI_ADDRESS_LO, 4);
	if (p->msi64)
		addr |= (uint64_t)vget(v, m + HQIO_PCI_MSI_ADDRESS_HI, 4) << 32;
	uint32_t data = vget(v, p->msi_data, 2);
	uint32_t mask = p->msi_pvm ? vget(v, p->msi_mask, 4) : 0;
	hqio_irq_guest_msi(v->cfg.irq, en, count, addr, data, mask);
}

static void on_msix(struct hqio_vpci *v, uint32_t old, uint32_t now)
{
	if (v->cfg.irq && old != now)
		hqio_irq_guest_msix(v->cfg.irq, now & HQIO_PCI_MSIX_FLAGS_ENABLE,
				    now & HQIO_PCI_MSIX_FLAGS_MASKALL);
}

static void on_pm(struct hqio_vpci *v, uint16_t off, uint32_t old, uint32_t now)
{
	const struct hqio_pci_info *in = v->info;
	unsigned from = old & HQIO_PCI_PM_CTRL_STATE_MASK, to = now & HQIO_PCI_PM_CTRL_STATE_MASK;
	if (from == to)
		return;
	/* PCI PM 1.2 §3.2.4: unsupported states are ignored; §5.4.1: from
	 * D3hot only D0 is reachable by software. */
	if ((to == 1 && !in->pm.d1) || (to == 2 && !in->pm.d2) || (from == 3 && to != 0)) {
		vset(v, off, 2, (now & ~(uint32_t)HQIO_PCI_PM_CTRL_STATE_MASK) | from);
		return;
	}
	uint16_t hwoff = in->pm.offset + HQIO_PCI_PM_CTRL;
	/* PME_Status (RW1C) is written 0: only the state changes. */
	uint32_t keep = ~(uint32_t)(HQIO_PCI_PM_CTRL_STATE_MASK | HQIO_PCI_PM_CTRL_PME_STATUS);
	if (to == 3) {
		/* The real transition: the device is powered down as the guest
		 * asked; what the host owns is saved while it still decodes. */
		host_save(v);
		hw_wr(v, hwoff, 2, (hw_rd(v, hwoff, 2) & keep) | 3);
		hw_sleep(v, T_D3HOT_NS);
	} else if (from == 3) {
		hw_wr(v, hwoff, 2, hw_rd(v, hwoff, 2) & keep);
		hw_sleep(v, T_D3HOT_NS);
		/* Without No_Soft_Reset the function is D0uninitialized now
		 * (PCI PM 1.2 §5.4.1): the host's BARs and interrupt set-up go
		 * back; the guest's virtual state stays as it left it. */
		if (host_restore(v))
			v->stats.guest_pm_resets++;
		priv(v)->saved = false;
	}
	/* D1/D2 are virtual only (the hardware stays in D0). */
	report_bars(v);
}

static void on_write(struct hqio_vpci *v, const struct hqio_vpci_field *f, uint32_t old,
		     uint32_t now)
{
	switch (f->kind) {
	case HQIO_VF_PLAIN:
		break;
	case HQIO_VF_BAR:
	case HQIO_VF_ROM:
		report_bars(v);
		break;
	case HQIO_VF_COMMAND:
		on_command(v, old, now);
		break;
	case HQIO_VF_MSI:
		on_msi(v, f->off, old, now);
		break;
	case HQIO_VF_MSIX:
		on_msix(v, old, now);
		break;
	case HQIO_VF_PM_CTRL:
		on_pm(v, f->off, old, now);
		break;
	case HQIO_VF_DEVCTL:
		if (now & HQIO_PCI_EXP_DEVCTL_BCR_FLR) {
			/* Initiate FLR always reads 0 (PCIe 5.0 §7.5.3.4). */
			vset(v, f->off, 2, now & ~(uint32_t)HQIO_PCI_EXP_DEVCTL_BCR_FLR);
			guest_flr(v);
		}
		break;
	case HQIO_VF_AF_CTRL:
		if (now & HQIO_PCI_AF_CTRL_FLR) {
			vset(v, f->off, 1, now & ~(uint32_t)HQIO_PCI_AF_CTRL_FLR);
			guest_flr(v);
		}
		break;
	}
}

/* ------------------------------------------------------------------ */
/* The generic engine                                                   */
/* ------------------------------------------------------------------ */

/* Bits that change under the guest's feet: refreshed before a read. */
static void refresh(struct hqio_vpci *v, uint16_t off, unsigned size)
{
	struct vpci_priv *p = priv(v);
	struct hqio_irq *irq = v->cfg.irq;
	if (off < HQIO_PCI_STATUS + 2 && off + size > HQIO_PCI_STATUS) {
		uint8_t s = v->vcfg[HQIO_PCI_STATUS] & (uint8_t)~HQIO_PCI_STATUS_INTERRUPT;
		if (irq && irq->status)
			s |= HQIO_PCI_STATUS_INTERRUPT;
		v->vcfg[HQIO_PCI_STATUS] = s;
	}
	if (p->msi_pend && irq && off < p->msi_pend + 4 && off + size > p->msi_pend) {
		unsigned n = 1u << ((vget(v, p->msi + HQIO_PCI_MSI_FLAGS, 2) &
				     HQIO_PCI_MSI_FLAGS_QMASK) >>
				    1);
		uint32_t pend = 0;
		for (unsigned i = 0; i < n && i < 32 && i < HQIO_IRQ_MAX_VECTORS; i++)
			if (irq->vec[i].pending)
				pend |= 1u << i;
		vset(v, p->msi_pend, 4, pend);
	}
}

int hqio_vpci_read(struct hqio_vpci *v, uint16_t off, unsigned size, uint32_t *val)
{
	if (!v || !v->info || !val || !valid_access(off, size))
		return -EINVAL;
	struct vpci_priv *p = priv(v);
	v->stats.reads++;
	refresh(v, off, size);
	bool need_hw = false;
	for (unsigned i = 0; i < size && !need_hw; i++) {
		uint16_t k = p->field_of[off + i];
		if (k)
			need_hw =
				((v->fields[k - 1].virt >> (8 * (off + i - v->fields[k - 1].off))) &
				 0xff) != 0xff;
		else
			need_hw = !v->hidden[off + i];
	}
	uint32_t hw = 0;
	int rc = 0;
	if (need_hw && v->cfg.ops->cfg_read(v->cfg.ops->ctx, v->cfg.host_bdf, off, size, &hw)) {
		hw = ones(size);
		rc = -EIO;
	}
	uint32_t out = 0;
	for (unsigned i = 0; i < size; i++) {
		uint16_t b = (uint16_t)(off + i);
		uint8_t hb = (uint8_t)(hw >> (8 * i)), x;
		uint16_t k = p->field_of[b];
		if (k) {
			const struct hqio_vpci_field *f = &v->fields[k - 1];
			uint8_t vm = (uint8_t)(f->virt >> (8 * (b - f->off)));
			x = (uint8_t)((v->vcfg[b] & vm) | (hb & ~vm));
			if (vm != 0xff)
				v->stats.passed_through++;
		} else if (v->hidden[b]) {
			x = 0;
		} else {
			x = hb;
			v->stats.passed_through++;
		}
		out |= (uint32_t)x << (8 * i);
	}
	*val = out;
	return rc;
}

/* Write the bytes of [off, off+size) selected by bytes (bit i: byte i) to
 * the hardware, in naturally aligned pieces as large as possible. */
static void hw_write_bytes(struct hqio_vpci *v, uint16_t off, unsigned size, uint32_t val,
			   unsigned bytes)
{
	unsigned all = (1u << size) - 1;
	if (bytes == all) {
		hw_wr(v, off, size, val);
		return;
	}
	for (unsigned i = 0; i < size; i += 2) {
		unsigned pair = (bytes >> i) & 3;
		if (pair == 3 && size >= 2) {
			hw_wr(v, (uint16_t)(off + i), 2, (val >> (8 * i)) & 0xffff);
			continue;
		}
		for (unsigned j = i; j < i + 2 && j < size; j++)
			if (bytes & (1u << j))
				hw_wr(v, (uint16_t)(off + j), 1, (val >> (8 * j)) & 0xff);
	}
}

int hqio_vpci_write(struct hqio_vpci *v, uint16_t off, unsigned size, uint32_t val)
{
	if (!v || !v->info || !valid_access(off, size))
		return -EINVAL;
	struct vpci_priv *p = priv(v);
	v->stats.writes++;
	val &= ones(size);

	/* The rows touched, with their virtual values before the write. */
	const struct hqio_vpci_field *rows[4];
	uint32_t before[4];
	unsigned nrows = 0;
	bool rmw = false;
	unsigned hw_bytes = 0;
	for (unsigned i = 0; i < size; i++) {
		uint16_t b = (uint16_t)(off + i);
		uint16_t k = p->field_of[b];
		if (!k) {
			if (v->hidden[b])
				v->stats.filtered++;
			else
				hw_bytes |= 1u << i;
			continue;
		}
		const struct hqio_vpci_field *f = &v->fields[k - 1];
		if (nrows == 0 || rows[nrows - 1] != f) {
			rows[nrows] = f;
			before[nrows++] = vget(v, f->off, f->size);
		}
		unsigned sh = 8 * (b - f->off);
		uint8_t wm = (uint8_t)(f->guest_wr >> sh), vm = (uint8_t)(f->virt >> sh);
		if (wm & ~vm) {
			hw_bytes |= 1u << i;
			rmw = true;
		}
		if ((uint8_t)(wm & ~vm) != 0xff)
			v->stats.filtered++;
	}

	/* Hardware: pass-through bytes as written; row bytes read-modify-
	 * written, never writing 1 into a w1c bit the guest did not set. */
	if (hw_bytes) {
		uint32_t hw = 0, out = 0;
		if (rmw && v->cfg.ops->cfg_read(v->cfg.ops->ctx, v->cfg.host_bdf, off, size, &hw))
			hw = 0;
		for (unsigned i = 0; i < size; i++) {
			if (!(hw_bytes & (1u << i)))
				continue;
			uint16_t b = (uint16_t)(off + i);
			uint8_t nb = (uint8_t)(val >> (8 * i)), ob = (uint8_t)(hw >> (8 * i)), x;
			uint16_t k = p->field_of[b];
			if (k) {
				const struct hqio_vpci_field *f = &v->fields[k - 1];
				unsigned sh = 8 * (b - f->off);
				uint8_t hm = (uint8_t)((f->guest_wr & ~f->virt) >> sh),
					cm = (uint8_t)(f->w1c >> sh);
				x = (uint8_t)((ob & ~hm & ~cm) | (nb & hm));
			} else {
				x = nb;
			}
			out |= (uint32_t)x << (8 * i);
			v->stats.passed_through++;
		}
		hw_write_bytes(v, off, size, out, hw_bytes);
	}

	/* Virtual bits. */
	for (unsigned i = 0; i < size; i++) {
		uint16_t b = (uint16_t)(off + i);
		uint16_t k = p->field_of[b];
		if (!k)
			continue;
		const struct hqio_vpci_field *f = &v->fields[k - 1];
		unsigned sh = 8 * (b - f->off);
		uint8_t wv = (uint8_t)((f->guest_wr & f->virt) >> sh), cm = (uint8_t)(f->w1c >> sh);
		uint8_t nb = (uint8_t)(val >> (8 * i)), ov = v->vcfg[b];
		uint8_t x = (uint8_t)((ov & ~(wv & ~cm)) | (nb & wv & ~cm));
		x &= (uint8_t) ~(nb & wv & cm);
		v->vcfg[b] = x;
	}

	/* Row handlers, in address order. */
	for (unsigned r = 0; r < nrows; r++)
		on_write(v, rows[r], before[r], vget(v, rows[r]->off, rows[r]->size));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Guest BAR access                                                     */
/* ------------------------------------------------------------------ */

static int bar_check(const struct hqio_vpci *v, unsigned bar, unsigned size)
{
	if (!v || !v->info || bar > 5 || !v->bar_size[bar] ||
	    (size != 1 && size != 2 && size != 4 && size != 8))
		return -EINVAL;
	return 0;
}

/*
 * Back doors (the lib/dvh quirk matched at init): BAR windows and
 * index/data registers through which a device reaches its own
 * configuration space or MSI-X table. Accesses through them reach the
 * virtual configuration space (the same rows apply) or lib/irq's virtual
 * MSI-X table, never the hardware; each one is counted, and the first one
 * of the quirk is logged.
 */
static uint64_t all_ones(unsigned size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void dvh_hit(struct hqio_vpci *v, unsigned i)
{
	v->dvh[i].hits++;
	v->stats.dvh_redirected++;
	if (v->dvh_logged || !v->cfg.dvh_log)
		return;
	v->dvh_logged = true;
	const struct hqio_dvh_backdoor *d = &v->quirk->bd[i];
	char msg[256];
	snprintf(msg, sizeof(msg),
		 "dvh: %04x:%04x (%s): the guest driver used the %s back door in BAR%u at %#x "
		 "to reach its %s; redirected to the virtual one (logged once)",
		 v->info->vendor_id, v->info->device_id, v->quirk->name ? v->quirk->name : "?",
		 hqio_dvh_bd_kind_name(d->kind), d->bar,
		 d->kind == HQIO_DVH_BD_MIRROR ? d->off : d->data_reg,
		 hqio_dvh_space_name(d->space));
	v->cfg.dvh_log(v->cfg.dvh_arg, msg);
}

/* An access of size bytes at toff of the back door's target space. */
static void dvh_target(struct hqio_vpci *v, const struct hqio_dvh_backdoor *d, uint64_t toff,
		       unsigned size, uint64_t *val, bool write)
{
	unsigned unit = size == 8 ? 4 : size;
	if (toff + size > d->len || toff % unit) {
		if (!write) /* straddling the window or misaligned: dropped */
			*val = all_ones(size);
		return;
	}
	if (d->space == HQIO_DVH_SPACE_MSIX) {
		const struct hqio_pci_msix *x = &v->info->msix;
		uint64_t tlen = (uint64_t)x->table_size * HQIO_PCI_MSIX_ENTRY_SIZE;
		if (v->cfg.irq && x->present && toff + size <= tlen &&
		    hqio_irq_bar_access(v->cfg.irq, x->table_bir, x->table_offset + toff, size, val,
					write))
			return;
		if (!write) /* no virtual table behind it: as a hidden table, 0 */
			*val = 0;
		return;
	}
	uint64_t out = 0;
	for (unsigned k = 0; k < size / unit; k++) {
		uint16_t co = (uint16_t)(toff + 4 * k);
		if (write) {
			hqio_vpci_write(v, co, unit, (uint32_t)(*val >> (32 * k)));
		} else {
			uint32_t x = 0;
			hqio_vpci_read(v, co, unit, &x);
			out |= (uint64_t)x << (32 * k);
		}
	}
	if (!write)
		*val = out;
}

static bool overlaps(uint64_t off, unsigned size, uint32_t reg)
{
	return off < (uint64_t)reg + 4 && reg < off + size;
}

/* Merge a guest write of size bytes at off into the 32-bit register reg. */
static uint32_t merge_reg(uint32_t old, uint32_t reg, uint64_t off, unsigned size, uint64_t val)
{
	unsigned shift = (unsigned)(off - reg) * 8;
	uint32_t mask = (uint32_t)(all_ones(size) << shift);
	return (old & ~mask) | ((uint32_t)(val << shift) & mask);
}

/* One back door; returns true when the access was emulated. Index
 * register writes are recorded and still reach the hardware (indexes
 * outside the target keep working), so they return false. */
static bool dvh_one(struct hqio_vpci *v, unsigned i, unsigned bar, uint64_t off, unsigned size,
		    uint64_t *val, bool write)
{
	const struct hqio_dvh_backdoor *d = &v->quirk->bd[i];
	struct hqio_vpci_dvh *st = &v->dvh[i];
	if (bar != d->bar)
		return false;
	if (d->kind == HQIO_DVH_BD_MIRROR) {
		if (off + size <= d->off || off >= (uint64_t)d->off + d->len)
			return false;
		dvh_hit(v, i);
		if (off < d->off) { /* straddles the window's start */
			if (!write)
				*val = all_ones(size);
			return true;
		}
		dvh_target(v, d, off - d->off, size, val, write);
		return true;
	}
	bool in_idx = overlaps(off, size, d->index_reg), in_dat = overlaps(off, size, d->data_reg);
	if (!in_idx && !in_dat)
		return false;
	bool inside = (in_idx && off >= d->index_reg && off + size <= d->index_reg + 4ULL) ||
		      (in_dat && off >= d->data_reg && off + size <= d->data_reg + 4ULL);
	if (!inside || (in_idx && in_dat)) {
		/* Straddles a register of the pair: refused. */
		dvh_hit(v, i);
		if (!write)
			*val = all_ones(size);
		return true;
	}
	if (d->kind == HQIO_DVH_BD_INDEX) {
		if (in_idx) {
			if (write) {
				st->index = merge_reg(st->index, d->index_reg, off, size, *val);
				st->selected = st->index - d->off < d->len;
			}
			return false; /* the hardware holds the same index */
		}
		if (!st->selected)
			return false;
		dvh_hit(v, i);
		dvh_target(v, d, st->index - d->off + (off - d->data_reg), size, val, write);
		return true;
	}
	/* INDEX_LATCH: dword accesses only (the driver's, and QEMU's model). */
	if (size != 4 || off % 4) {
		if (!st->selected)
			return false;
		dvh_hit(v, i);
		if (!write)
			*val = all_ones(size);
		return true;
	}
	uint32_t strobe = 0x80000000u; /* bit 31: write strobe / completion */
	if (in_idx) {
		if (!write) {
			if (!st->selected)
				return false;
			dvh_hit(v, i);
			*val = st->index ^ strobe;
			return true;
		}
		st->selected = ((uint32_t)*val & d->sel_mask) == d->off;
		if (!st->selected)
			return false;
		st->index = (uint32_t)*val;
		if (!(st->index & strobe))
			return false; /* a read request: harmless for the hardware */
		dvh_hit(v, i);
		uint64_t data = st->latch;
		dvh_target(v, d, st->index & (d->len - 1), 4, &data, true);
		return true;
	}
	if (write) {
		st->latch = (uint32_t)*val;
		return false; /* the data register is also the device's for other spaces */
	}
	if (!st->selected)
		return false;
	dvh_hit(v, i);
	dvh_target(v, d, st->index & (d->len - 1), 4, val, false);
	return true;
}

/* Returns true when the access hit a back door (and was emulated). */
static bool back_door(struct hqio_vpci *v, unsigned bar, uint64_t off, unsigned size, uint64_t *val,
		      bool write)
{
	if (!v->quirk)
		return false;
	bool done = false;
	for (unsigned i = 0; i < v->quirk->n_bd && i < HQIO_DVH_MAX_BD && !done; i++)
		done = dvh_one(v, i, bar, off, size, val, write);
	return done;
}

int hqio_vpci_trapped_ranges(const struct hqio_vpci *v, uint64_t page_size,
			     struct hqio_dvh_range *out, size_t max)
{
	if (!v || !v->info)
		return -EINVAL;
	if (!v->quirk)
		return (page_size && !(page_size & (page_size - 1))) ? 0 : -EINVAL;
	return hqio_dvh_trapped_ranges(v->quirk, v->bar_size, page_size, out, max);
}

static bool bar_decodes(const struct hqio_vpci *v, unsigned bar)
{
	uint64_t a;
	bool on;
	guest_bar(v, bar, &a, &on);
	return on;
}

/* Without lib/irq the MSI-X capability is hidden, but its table and PBA
 * still sit in a BAR: the guest must not reach them there either (they
 * hold the host's vectors). Reads return 0, writes are dropped. */
static bool msix_structures_hidden(struct hqio_vpci *v, unsigned bar, uint64_t off, unsigned size)
{
	const struct hqio_pci_msix *x = &v->info->msix;
	if (v->cfg.irq || !x->present)
		return false;
	uint64_t tlen = (uint64_t)x->table_size * HQIO_PCI_MSIX_ENTRY_SIZE;
	uint64_t plen = ((uint64_t)x->table_size + 63) / 64 * 8;
	bool in_t =
		x->table_bir == bar && off < x->table_offset + tlen && x->table_offset < off + size;
	bool in_p = x->pba_bir == bar && off < x->pba_offset + plen && x->pba_offset < off + size;
	if (in_t || in_p)
		v->stats.filtered++;
	return in_t || in_p;
}

int hqio_vpci_bar_read(struct hqio_vpci *v, unsigned bar, uint64_t off, unsigned size,
		       uint64_t *val)
{
	int rc = bar_check(v, bar, size);
	if (rc || !val)
		return rc ? rc : -EINVAL;
	uint64_t all = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	if (v->in_flr) {
		v->stats.bar_blocked++;
		*val = all;
		return 0;
	}
	if (!bar_decodes(v, bar)) {
		*val = all; /* no decode: the read master-aborts */
		return 0;
	}
	if (back_door(v, bar, off, size, val, false))
		return 0;
	if (v->cfg.irq && hqio_irq_bar_access(v->cfg.irq, bar, off, size, val, false))
		return 0;
	if (msix_structures_hidden(v, bar, off, size)) {
		*val = 0;
		return 0;
	}
	if (!v->cfg.ops->bar_read)
		return -EOPNOTSUPP;
	return v->cfg.ops->bar_read(v->cfg.ops->ctx, v->cfg.host_bdf, bar, off, size, val);
}

int hqio_vpci_bar_write(struct hqio_vpci *v, unsigned bar, uint64_t off, unsigned size,
			uint64_t val)
{
	int rc = bar_check(v, bar, size);
	if (rc)
		return rc;
	if (v->in_flr) {
		v->stats.bar_blocked++;
		return 0;
	}
	if (!bar_decodes(v, bar))
		return 0;
	if (back_door(v, bar, off, size, &val, true))
		return 0;
	if (v->cfg.irq && hqio_irq_bar_access(v->cfg.irq, bar, off, size, &val, true))
		return 0;
	if (msix_structures_hidden(v, bar, off, size))
		return 0;
	if (!v->cfg.ops->bar_write)
		return -EOPNOTSUPP;
	return v->cfg.ops->bar_write(v->cfg.ops->ctx, v->cfg.host_bdf, bar, off, size, val);
}

/* ------------------------------------------------------------------ */
/* Initialisation: decode, size, rows, capability hiding                */
/* ------------------------------------------------------------------ */

/* Which capabilities the guest sees (docs/vpci.md: capability policy). */
static bool std_visible(const struct hqio_vpci *v, uint16_t id)
{
	switch (id) {
	case HQIO_PCI_CAP_ID_PM:
	case HQIO_PCI_CAP_ID_EXP:
	case HQIO_PCI_CAP_ID_AF:
	case HQIO_PCI_CAP_ID_VNDR:
		return true;
	case HQIO_PCI_CAP_ID_MSI:
	case HQIO_PCI_CAP_ID_MSIX:
		return v->cfg.irq != NULL;
	default:
		return false;
	}
}

static bool ext_visible(uint16_t id)
{
	return id == HQIO_PCI_EXT_CAP_ID_DSN || id == HQIO_PCI_EXT_CAP_ID_ARI ||
	       id == HQIO_PCI_EXT_CAP_ID_VNDR;
}

/* Hide caps[i] up to the next capability in address order (or end). */
static void hide_extent(struct hqio_vpci *v, const struct hqio_pci_cap *caps, unsigned n,
			unsigned i, unsigned end)
{
	unsigned start = caps[i].offset, stop = end;
	for (unsigned j = 0; j < n; j++)
		if (caps[j].offset > start && caps[j].offset < stop)
			stop = caps[j].offset;
	memset(&v->hidden[start], 1, stop - start);
}

static int size_bars(struct hqio_vpci *v, const uint8_t *img)
{
	struct vpci_priv *p = priv(v);
	uint32_t cmd = hw_rd(v, HQIO_PCI_COMMAND, 2);
	/* PCI LB 3.0 §6.2.5.1: decode off while a BAR holds all-ones. */
	hw_wr(v, HQIO_PCI_COMMAND, 2,
	      cmd & ~(uint32_t)(HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO));
	for (unsigned i = 0; i < 6; i++) {
		uint16_t reg = (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * i);
		uint32_t orig;
		memcpy(&orig, img + reg, 4);
		v->host_bar[i] = orig;
		hw_wr(v, reg, 4, 0xffffffffu);
		uint32_t m = hw_rd(v, reg, 4);
		hw_wr(v, reg, 4, orig);
		if (m == 0 || m == 0xffffffffu)
			continue;
		if (orig & HQIO_PCI_BASE_ADDRESS_SPACE_IO) {
			p->bar_io[i] = true;
			uint64_t mask = (m & (uint32_t)HQIO_PCI_BASE_ADDRESS_IO_MASK) |
					0xffffffff00000000ULL;
			v->bar_size[i] = ~mask + 1;
			continue;
		}
		uint64_t mask =
			0xffffffff00000000ULL | (m & (uint32_t)HQIO_PCI_BASE_ADDRESS_MEM_MASK);
		if ((orig & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
			    HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64 &&
		    i < 5) {
			uint16_t hreg = (uint16_t)(reg + 4);
			uint32_t horig;
			memcpy(&horig, img + hreg, 4);
			v->host_bar[i + 1] = horig;
			hw_wr(v, hreg, 4, 0xffffffffu);
			uint32_t hm = hw_rd(v, hreg, 4);
			hw_wr(v, hreg, 4, horig);
			mask = (uint64_t)hm << 32 | (m & (uint32_t)HQIO_PCI_BASE_ADDRESS_MEM_MASK);
			p->bar64[i] = true;
			v->bar_size[i] = ~mask + 1;
			i++;
			continue;
		}
		v->bar_size[i] = (uint32_t)(~mask + 1);
	}
	uint32_t rom;
	memcpy(&rom, img + HQIO_PCI_ROM_ADDRESS, 4);
	v->host_bar[6] = rom;
	hw_wr(v, HQIO_PCI_ROM_ADDRESS, 4, ROM_ADDR_BITS);
	uint32_t rm = hw_rd(v, HQIO_PCI_ROM_ADDRESS, 4) & ROM_ADDR_BITS;
	hw_wr(v, HQIO_PCI_ROM_ADDRESS, 4, rom);
	v->bar_size[6] = rm ? (uint32_t)(~rm + 1) : 0;
	hw_wr(v, HQIO_PCI_COMMAND, 2, cmd);
	return 0;
}

static int header_rows(struct hqio_vpci *v, const uint8_t *img)
{
	struct vpci_priv *p = priv(v);
	const struct hqio_pci_info *in = v->info;
	int rc = 0;
	/* IDs: the physical ones, or the PF's for a VF (PCIe 5.0 §9.3.4.1.1-2). */
	if (v->cfg.vf_vendor || v->cfg.vf_device)
		vset(v, HQIO_PCI_VENDOR_ID, 4, (uint32_t)v->cfg.vf_device << 16 | v->cfg.vf_vendor);
	rc |= add_row(v, HQIO_PCI_VENDOR_ID, 4, ~0u, 0, 0, HQIO_VF_PLAIN);
	vset(v, HQIO_PCI_COMMAND, 2, 0);
	rc |= add_row(v, HQIO_PCI_COMMAND, 2, CMD_VIRT, CMD_VIRT, 0, HQIO_VF_COMMAND);
	vset(v, HQIO_PCI_STATUS, 2, 0);
	rc |= add_row(v, HQIO_PCI_STATUS, 2, HQIO_PCI_STATUS_INTERRUPT | HQIO_PCI_STATUS_CAP_LIST,
		      STATUS_ERR_W1C, STATUS_ERR_W1C, HQIO_VF_PLAIN);
	rc |= add_row(v, HQIO_PCI_REVISION_ID, 4, 0, 0, 0, HQIO_VF_PLAIN);
	vset(v, HQIO_PCI_CACHE_LINE_SIZE, 2, 0);
	rc |= add_row(v, HQIO_PCI_CACHE_LINE_SIZE, 1, 0xff, 0xff, 0, HQIO_VF_PLAIN);
	rc |= add_row(v, HQIO_PCI_LATENCY_TIMER, 1, 0xff, 0xff, 0, HQIO_VF_PLAIN);
	v->vcfg[HQIO_PCI_HEADER_TYPE] =
		(uint8_t)(img[HQIO_PCI_HEADER_TYPE] & HQIO_PCI_HEADER_TYPE_MASK);
	if (v->cfg.mf == HQIO_VPCI_MF_WHOLE)
		v->vcfg[HQIO_PCI_HEADER_TYPE] |=
			img[HQIO_PCI_HEADER_TYPE] & HQIO_PCI_HEADER_TYPE_MFD;
	rc |= add_row(v, HQIO_PCI_HEADER_TYPE, 1, 0xff, 0, 0, HQIO_VF_PLAIN);
	v->vcfg[HQIO_PCI_BIST] = 0; /* not BIST capable (PCI LB 3.0 §6.2.4) */
	rc |= add_row(v, HQIO_PCI_BIST, 1, 0xff, 0, 0, HQIO_VF_PLAIN);
	for (unsigned i = 0; i < 6; i++) {
		uint16_t reg = (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * i);
		uint32_t flags = 0, wr = 0;
		if (v->bar_size[i]) {
			if (p->bar_io[i]) {
				flags = v->host_bar[i] & ~(uint32_t)HQIO_PCI_BASE_ADDRESS_IO_MASK;
				wr = (uint32_t) ~(v->bar_size[i] - 1) &
				     (uint32_t)HQIO_PCI_BASE_ADDRESS_IO_MASK;
			} else {
				flags = v->host_bar[i] & ~(uint32_t)HQIO_PCI_BASE_ADDRESS_MEM_MASK;
				wr = (uint32_t) ~(v->bar_size[i] - 1) &
				     (uint32_t)HQIO_PCI_BASE_ADDRESS_MEM_MASK;
			}
		}
		vset(v, reg, 4, flags);
		rc |= add_row(v, reg, 4, ~0u, wr, 0, HQIO_VF_BAR);
		if (v->bar_size[i] && p->bar64[i]) {
			vset(v, (uint16_t)(reg + 4), 4, 0);
			rc |= add_row(v, (uint16_t)(reg + 4), 4, ~0u,
				      (uint32_t)(~(v->bar_size[i] - 1) >> 32), 0, HQIO_VF_BAR);
			i++;
		}
	}
	rc |= add_row(v, HQIO_PCI_CARDBUS_CIS, 4, 0, 0, 0, HQIO_VF_PLAIN);
	rc |= add_row(v, HQIO_PCI_SUBSYSTEM_VENDOR_ID, 4, 0, 0, 0, HQIO_VF_PLAIN);
	vset(v, HQIO_PCI_ROM_ADDRESS, 4, 0);
	rc |= add_row(v, HQIO_PCI_ROM_ADDRESS, 4, ~0u,
		      v->bar_size[6] ? ((uint32_t) ~(v->bar_size[6] - 1) & ROM_ADDR_BITS) |
					       HQIO_PCI_ROM_ADDRESS_ENABLE
				     : 0,
		      0, HQIO_VF_ROM);
	vset(v, HQIO_PCI_CAPABILITY_LIST, 4, 0); /* pointer set by link_std */
	rc |= add_row(v, HQIO_PCI_CAPABILITY_LIST, 4, ~0u, 0, 0, HQIO_VF_PLAIN);
	vset(v, 0x38, 4, 0); /* reserved (PCI LB 3.0 §6.1) */
	rc |= add_row(v, 0x38, 4, ~0u, 0, 0, HQIO_VF_PLAIN);
	v->vcfg[HQIO_PCI_INTERRUPT_LINE] = 0;
	rc |= add_row(v, HQIO_PCI_INTERRUPT_LINE, 1, 0xff, 0xff, 0, HQIO_VF_PLAIN);
	v->vcfg[HQIO_PCI_INTERRUPT_PIN] = in->int_pin; /* physical: docs/vpci.md */
	rc |= add_row(v, HQIO_PCI_INTERRUPT_PIN, 1, 0xff, 0, 0, HQIO_VF_PLAIN);
	rc |= add_row(v, HQIO_PCI_MIN_GNT, 2, 0, 0, 0, HQIO_VF_PLAIN);
	return rc ? -ENOSPC : 0;
}

static int pm_rows(struct hqio_vpci *v, uint16_t c)
{
	/* PMCSR (PCI PM 1.2 §3.2.4): PowerState and PME_En virtual,
	 * PME_Status RW1C in hardware, No_Soft_Reset/Data read-only. */
	uint32_t pmcsr = vget(v, c + HQIO_PCI_PM_CTRL, 2);
	vset(v, c + HQIO_PCI_PM_CTRL, 2,
	     pmcsr & ~(uint32_t)(HQIO_PCI_PM_CTRL_STATE_MASK | HQIO_PCI_PM_CTRL_PME_ENABLE));
	int rc = add_row(v, c + HQIO_PCI_PM_PMC, 2, 0, 0, 0, HQIO_VF_PLAIN);
	rc |= add_row(v, c + HQIO_PCI_PM_CTRL, 2,
		      HQIO_PCI_PM_CTRL_STATE_MASK | HQIO_PCI_PM_CTRL_PME_ENABLE,
		      HQIO_PCI_PM_CTRL_STATE_MASK | HQIO_PCI_PM_CTRL_PME_ENABLE |
			      HQIO_PCI_PM_CTRL_PME_STATUS,
		      HQIO_PCI_PM_CTRL_PME_STATUS, HQIO_VF_PM_CTRL);
	rc |= add_row(v, c + HQIO_PCI_PM_CTRL + 2, 2, 0, 0, 0, HQIO_VF_PLAIN);
	priv(v)->pm = c;
	return rc;
}

static int msi_rows(struct hqio_vpci *v, uint16_t c)
{
	struct vpci_priv *p = priv(v);
	uint32_t flags = vget(v, c + HQIO_PCI_MSI_FLAGS, 2);
	unsigned capable = 1u << ((flags & HQIO_PCI_MSI_FLAGS_QMASK) >> 1);
	p->msi = c;
	p->msi64 = flags & HQIO_PCI_MSI_FLAGS_64BIT;
	p->msi_pvm = flags & HQIO_PCI_MSI_FLAGS_MASKBIT;
	/* Fully virtual (PCI LB 3.0 §6.8.1): capability bits as the device
	 * has them, everything the guest programs in vcfg only. */
	vset(v, c + HQIO_PCI_MSI_FLAGS, 2,
	     flags & (HQIO_PCI_MSI_FLAGS_QMASK | HQIO_PCI_MSI_FLAGS_64BIT |
		      HQIO_PCI_MSI_FLAGS_MASKBIT));
	int rc = add_row(v, c + HQIO_PCI_MSI_FLAGS, 2, ~0u,
			 HQIO_PCI_MSI_FLAGS_ENABLE | HQIO_PCI_MSI_FLAGS_QSIZE, 0, HQIO_VF_MSI);
	vset(v, c + HQIO_PCI_MSI_ADDRESS_LO, 4, 0);
	rc |= add_row(v, c + HQIO_PCI_MSI_ADDRESS_LO, 4, ~0u, MSI_ADDR_LO_WR, 0, HQIO_VF_MSI);
	uint16_t d = c + HQIO_PCI_MSI_DATA_32;
	if (p->msi64) {
		vset(v, c + HQIO_PCI_MSI_ADDRESS_HI, 4, 0);
		rc |= add_row(v, c + HQIO_PCI_MSI_ADDRESS_HI, 4, ~0u, ~0u, 0, HQIO_VF_MSI);
		d = c + HQIO_PCI_MSI_DATA_64;
	}
	p->msi_data = d;
	vset(v, d, 2, 0);
	rc |= add_row(v, d, 2, ~0u, 0xffff, 0, HQIO_VF_MSI);
	if (p->msi_pvm) {
		/* Extended Message Data (reserved here) reads 0. */
		vset(v, (uint16_t)(d + 2), 2, 0);
		rc |= add_row(v, (uint16_t)(d + 2), 2, ~0u, 0, 0, HQIO_VF_PLAIN);
		p->msi_mask = (uint16_t)(d + 4);
		p->msi_pend = (uint16_t)(d + 8);
		vset(v, p->msi_mask, 4, 0);
		vset(v, p->msi_pend, 4, 0);
		uint32_t vm = capable >= 32 ? ~0u : (1u << capable) - 1;
		rc |= add_row(v, p->msi_mask, 4, ~0u, vm, 0, HQIO_VF_MSI);
		rc |= add_row(v, p->msi_pend, 4, ~0u, 0, 0, HQIO_VF_PLAIN);
	}
	return rc;
}

static int msix_rows(struct hqio_vpci *v, uint16_t c)
{
	struct vpci_priv *p = priv(v);
	uint32_t flags = vget(v, c + HQIO_PCI_MSIX_FLAGS, 2);
	p->msix = c;
	p->msix_size = (uint16_t)((flags & HQIO_PCI_MSIX_FLAGS_QSIZE) + 1);
	vset(v, c + HQIO_PCI_MSIX_FLAGS, 2, flags & HQIO_PCI_MSIX_FLAGS_QSIZE);
	int rc = add_row(v, c + HQIO_PCI_MSIX_FLAGS, 2, ~0u,
			 HQIO_PCI_MSIX_FLAGS_ENABLE | HQIO_PCI_MSIX_FLAGS_MASKALL, 0, HQIO_VF_MSIX);
	/* Table and PBA location: the device's (same BAR numbers in the
	 * guest's view), read-only. */
	rc |= add_row(v, c + HQIO_PCI_MSIX_TABLE, 4, ~0u, 0, 0, HQIO_VF_PLAIN);
	rc |= add_row(v, c + HQIO_PCI_MSIX_PBA, 4, ~0u, 0, 0, HQIO_VF_PLAIN);
	return rc;
}

static int exp_rows(struct hqio_vpci *v, uint16_t c)
{
	struct vpci_priv *p = priv(v);
	const struct hqio_vpci_policy *pol = &v->cfg.policy;
	uint32_t flags = vget(v, c + HQIO_PCI_EXP_FLAGS, 2);
	p->exp = c;
	p->exp_v2 = (flags & HQIO_PCI_EXP_FLAGS_VERS) >= 2;
	int rc = add_row(v, c + HQIO_PCI_EXP_FLAGS, 2, 0, 0, 0, HQIO_VF_PLAIN);
	/* Device Capabilities: FLR advertised only when a guest FLR can be
	 * carried out (a plan exists) and the device has it. */
	uint32_t devcap = vget(v, c + HQIO_PCI_EXP_DEVCAP, 4);
	if (!v->cfg.plan)
		devcap &= ~(uint32_t)HQIO_PCI_EXP_DEVCAP_FLR;
	vset(v, c + HQIO_PCI_EXP_DEVCAP, 4, devcap);
	rc |= add_row(v, c + HQIO_PCI_EXP_DEVCAP, 4, HQIO_PCI_EXP_DEVCAP_FLR, 0, 0, HQIO_VF_PLAIN);
	/* Device Control (PCIe 5.0 §7.5.3.4), docs/vpci.md: FLR virtual;
	 * MPS and Phantom Functions read-only (hardware); MRRS and No Snoop
	 * per policy; error enables, Relaxed Ordering, Extended Tag and Aux
	 * Power PM pass through. */
	uint32_t dvirt = HQIO_PCI_EXP_DEVCTL_BCR_FLR;
	uint32_t dwr = HQIO_PCI_EXP_DEVCTL_BCR_FLR | DEVCTL_ERR_EN | HQIO_PCI_EXP_DEVCTL_RELAX_EN |
		       HQIO_PCI_EXP_DEVCTL_EXT_TAG | HQIO_PCI_EXP_DEVCTL_AUX_PME |
		       HQIO_PCI_EXP_DEVCTL_READRQ | HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN;
	if (!pol->pass_mrrs)
		dvirt |= HQIO_PCI_EXP_DEVCTL_READRQ;
	if (!pol->pass_no_snoop)
		dvirt |= HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN;
	uint32_t devctl = vget(v, c + HQIO_PCI_EXP_DEVCTL, 2);
	p->devctl_init = devctl;
	vset(v, c + HQIO_PCI_EXP_DEVCTL, 2, devctl & ~(uint32_t)HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	rc |= add_row(v, c + HQIO_PCI_EXP_DEVCTL, 2, dvirt, dwr, 0, HQIO_VF_DEVCTL);
	rc |= add_row(v, c + HQIO_PCI_EXP_DEVSTA, 2, 0, DEVSTA_ERR_W1C, DEVSTA_ERR_W1C,
		      HQIO_VF_PLAIN);
	/* Link Control and Status: the fabric's, read-only (ASPM, Common
	 * Clock, Retrain, Link Disable belong to the host and the port). */
	rc |= add_row(v, c + HQIO_PCI_EXP_LNKCTL, 2, 0, 0, 0, HQIO_VF_PLAIN);
	rc |= add_row(v, c + HQIO_PCI_EXP_LNKSTA, 2, 0, 0, 0xc000, HQIO_VF_PLAIN);
	if (p->exp_v2) {
		rc |= add_row(v, c + HQIO_PCI_EXP_SLTCTL, 2, 0, 0, 0x01ff, HQIO_VF_PLAIN);
		rc |= add_row(v, c + HQIO_PCI_EXP_SLTSTA, 2, 0, 0, 0x011f, HQIO_VF_PLAIN);
		rc |= add_row(v, c + HQIO_PCI_EXP_RTCTL, 2, 0, 0, 0, HQIO_VF_PLAIN);
		rc |= add_row(v, c + HQIO_PCI_EXP_DEVCTL2, 2, 0, 0, 0, HQIO_VF_PLAIN);
		rc |= add_row(v, c + HQIO_PCI_EXP_LNKCTL2, 2, 0, 0, 0, HQIO_VF_PLAIN);
	}
	return rc;
}

static int af_rows(struct hqio_vpci *v, uint16_t c)
{
	struct vpci_priv *p = priv(v);
	p->af = c;
	uint8_t cap = v->vcfg[c + HQIO_PCI_AF_CAP];
	if (!v->cfg.plan)
		cap &= (uint8_t)~HQIO_PCI_AF_CAP_FLR;
	v->vcfg[c + HQIO_PCI_AF_CAP] = cap;
	int rc = add_row(v, c + HQIO_PCI_AF_CAP, 1, HQIO_PCI_AF_CAP_FLR, 0, 0, HQIO_VF_PLAIN);
	v->vcfg[c + HQIO_PCI_AF_CTRL] = 0;
	rc |= add_row(v, c + HQIO_PCI_AF_CTRL, 1, 0xff, HQIO_PCI_AF_CTRL_FLR, 0, HQIO_VF_AF_CTRL);
	rc |= add_row(v, c + HQIO_PCI_AF_STATUS, 1, 0, 0, 0, HQIO_VF_PLAIN);
	return rc;
}

/* The guest's standard list: visible capabilities linked in their
 * original order, hidden ones unlinked and read as 0. */
static int link_std(struct hqio_vpci *v)
{
	const struct hqio_pci_info *in = v->info;
	const struct hqio_pci_cap *caps = in->std.caps;
	unsigned n = in->std.n;
	uint16_t prev = 0;
	int rc = 0;
	bool any = false;
	for (unsigned i = 0; i < n; i++) {
		uint16_t c = caps[i].offset;
		if (!std_visible(v, caps[i].id)) {
			hide_extent(v, caps, n, i, HQIO_PCI_CFG_SIZE);
			continue;
		}
		if (prev)
			v->vcfg[prev + HQIO_PCI_CAP_LIST_NEXT] = (uint8_t)c;
		else
			v->vcfg[HQIO_PCI_CAPABILITY_LIST] = (uint8_t)c;
		v->vcfg[c + HQIO_PCI_CAP_LIST_NEXT] = 0;
		rc |= add_row(v, c, 2, ~0u, 0, 0, HQIO_VF_PLAIN);
		prev = c;
		any = true;
	}
	/* Rows of the capabilities that need them (the decoder's choice of
	 * instance, when it is the visible one). */
	for (unsigned i = 0; i < n; i++) {
		uint16_t c = caps[i].offset;
		if (!std_visible(v, caps[i].id))
			continue;
		switch (caps[i].id) {
		case HQIO_PCI_CAP_ID_PM:
			if (c == in->pm.offset)
				rc |= pm_rows(v, c);
			break;
		case HQIO_PCI_CAP_ID_MSI:
			if (c == in->msi.offset)
				rc |= msi_rows(v, c);
			break;
		case HQIO_PCI_CAP_ID_MSIX:
			if (c == in->msix.offset)
				rc |= msix_rows(v, c);
			break;
		case HQIO_PCI_CAP_ID_EXP:
			if (c == in->exp.offset)
				rc |= exp_rows(v, c);
			break;
		case HQIO_PCI_CAP_ID_AF:
			if (c == in->af.offset)
				rc |= af_rows(v, c);
			break;
		default:
			break;
		}
	}
	if (any)
		v->vcfg[HQIO_PCI_STATUS] |= HQIO_PCI_STATUS_CAP_LIST;
	return rc;
}

static uint32_t ext_hdr(uint16_t id, uint8_t ver, uint16_t next)
{
	return (uint32_t)id | (uint32_t)(ver & 0xf) << 16 | (uint32_t)next << 20;
}

static int link_ext(struct hqio_vpci *v)
{
	const struct hqio_pci_info *in = v->info;
	const struct hqio_pci_cap *caps = in->ext.caps;
	unsigned n = in->ext.n;
	int rc = 0;
	if (in->cfg_len < HQIO_PCI_CFG_EXP_SIZE || in->ext.absent || in->ext.unreadable)
		return 0;
	uint16_t prev = 0;
	bool head_visible = false;
	for (unsigned i = 0; i < n; i++) {
		uint16_t c = caps[i].offset;
		if (!ext_visible(caps[i].id)) {
			hide_extent(v, caps, n, i, HQIO_PCI_CFG_EXP_SIZE);
			continue;
		}
		if (prev)
			vset(v, prev, 4, (vget(v, prev, 4) & 0x000fffffu) | (uint32_t)c << 20);
		else if (c != HQIO_PCI_CFG_SIZE)
			/* PCIe 5.0 §7.6.3: the list starts at 100h. A hidden
			 * head becomes a header with ID 0 pointing on. */
			vset(v, HQIO_PCI_CFG_SIZE, 4, ext_hdr(0, 0, c));
		else
			head_visible = true;
		vset(v, c, 4, ext_hdr(caps[i].id, caps[i].version, 0));
		rc |= add_row(v, c, 4, ~0u, 0, 0, HQIO_VF_PLAIN);
		if (caps[i].id == HQIO_PCI_EXT_CAP_ID_ARI) {
			/* Next Function Number: 0 for a single-function view. */
			uint32_t ari = vget(v, c + HQIO_PCI_ARI_CAP, 2);
			if (v->cfg.mf == HQIO_VPCI_MF_SINGLE)
				ari &= 0x00ffu;
			vset(v, c + HQIO_PCI_ARI_CAP, 2, ari);
			rc |= add_row(v, c + HQIO_PCI_ARI_CAP, 2, 0xff00, 0, 0, HQIO_VF_PLAIN);
			rc |= add_row(v, c + HQIO_PCI_ARI_CAP + 2, 2, 0, 0, 0, HQIO_VF_PLAIN);
		}
		prev = c;
	}
	if (!head_visible) {
		if (!prev)
			vset(v, HQIO_PCI_CFG_SIZE, 4, 0); /* empty list */
		rc |= add_row(v, HQIO_PCI_CFG_SIZE, 4, ~0u, 0, 0, HQIO_VF_PLAIN);
	}
	return rc;
}

static int read_image(const struct hqio_vpci *v, uint8_t *img, size_t *len)
{
	const struct hqio_host_ops *o = v->cfg.ops;
	*len = HQIO_PCI_CFG_SIZE;
	for (unsigned off = 0; off < HQIO_PCI_CFG_EXP_SIZE; off += 4) {
		uint32_t x = 0xffffffffu;
		int rc = o->cfg_read(o->ctx, v->cfg.host_bdf, (uint16_t)off, 4, &x);
		if (off >= HQIO_PCI_CFG_SIZE && (rc || (off == HQIO_PCI_CFG_SIZE && x == ~0u)))
			return 0; /* no extended space */
		if (rc)
			return rc;
		memcpy(img + off, &x, 4);
		if (off >= HQIO_PCI_CFG_SIZE)
			*len = off + 4;
	}
	return 0;
}

int hqio_vpci_init(struct hqio_vpci *v, const struct hqio_vpci_config *cfg, struct hqio_error *err)
{
	if (!v || !cfg || !cfg->ops || !cfg->ops->cfg_read || !cfg->ops->cfg_write)
		return hqio_error_set(err, -EINVAL, "vpci: missing configuration or ops");
	memset(v, 0, sizeof(*v));
	v->cfg = *cfg;
	struct vpci_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return hqio_error_set(err, -ENOMEM, "vpci: out of memory");
	v->info = &p->info;
	uint8_t *img = calloc(1, HQIO_PCI_CFG_EXP_SIZE);
	if (!img) {
		hqio_vpci_fini(v);
		return hqio_error_set(err, -ENOMEM, "vpci: out of memory");
	}
	size_t len = 0;
	int rc = read_image(v, img, &len);
	if (rc) {
		free(img);
		hqio_vpci_fini(v);
		return hqio_error_set(err, rc, "vpci: configuration space not readable");
	}
	uint32_t dw1;
	memcpy(&dw1, img + 4, 4);
	rc = hqio_pci_decode(img, len, NULL, &p->info, NULL);
	if (!hqio_pci_decode_usable(rc) || dw1 == 0xffffffffu) {
		free(img);
		hqio_vpci_fini(v);
		return hqio_error_set(err, -ENODEV, "vpci: no usable function (%d)", rc);
	}
	if (p->info.header_type != HQIO_PCI_HEADER_TYPE_NORMAL) {
		free(img);
		hqio_vpci_fini(v);
		return hqio_error_set(err, -EOPNOTSUPP, "vpci: only type 0 functions are assigned");
	}
	memcpy(v->vcfg, img, len);
	size_bars(v, img);
	rc = header_rows(v, img);
	if (!rc)
		rc = link_std(v);
	if (!rc)
		rc = link_ext(v);
	free(img);
	if (rc) {
		hqio_vpci_fini(v);
		return hqio_error_set(err, -ENOSPC, "vpci: row table overflow");
	}
	if (p->msix && p->msix_size && p->info.msix.present) {
		p->s_msix_table = calloc(p->msix_size, 4 * sizeof(uint32_t));
		if (!p->s_msix_table) {
			hqio_vpci_fini(v);
			return hqio_error_set(err, -ENOMEM, "vpci: out of memory");
		}
	}
	if (!cfg->dvh_off)
		v->quirk = hqio_dvh_match(cfg->dvh_table, p->info.vendor_id, p->info.device_id,
					  p->info.class_code);
	memcpy(p->vinit, v->vcfg, sizeof(p->vinit));
	return 0;
}

void hqio_vpci_fini(struct hqio_vpci *v)
{
	if (!v || !v->info)
		return;
	struct vpci_priv *p = priv(v);
	free(p->s_msix_table);
	free(p);
	v->info = NULL;
}

/* ------------------------------------------------------------------ */
/* Host-ops view for a guest driver                                     */
/* ------------------------------------------------------------------ */

static bool is_guest(const struct hqio_vpci *v, struct hqio_bdf bdf)
{
	return hqio_bdf_cmp(bdf, v->cfg.guest_bdf) == 0;
}

static int g_cfg_read(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t *val)
{
	struct hqio_vpci *v = ctx;
	if (!is_guest(v, bdf)) {
		if (!valid_access(off, size))
			return -EINVAL;
		*val = ones(size); /* nothing else on the guest's bus */
		return 0;
	}
	return hqio_vpci_read(v, off, size, val);
}

static int g_cfg_write(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t val)
{
	struct hqio_vpci *v = ctx;
	if (!is_guest(v, bdf))
		return valid_access(off, size) ? 0 : -EINVAL;
	return hqio_vpci_write(v, off, size, val);
}

static int g_bar_read(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		      uint64_t *val)
{
	struct hqio_vpci *v = ctx;
	return is_guest(v, bdf) ? hqio_vpci_bar_read(v, bar, off, size, val) : -ENODEV;
}

static int g_bar_write(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		       uint64_t val)
{
	struct hqio_vpci *v = ctx;
	return is_guest(v, bdf) ? hqio_vpci_bar_write(v, bar, off, size, val) : -ENODEV;
}

static const struct hqio_host_ops *inner(void *ctx)
{
	return ((struct hqio_vpci *)ctx)->cfg.ops;
}

static uint64_t g_now(void *ctx)
{
	return inner(ctx)->now_ns(inner(ctx)->ctx);
}

static int g_sleep(void *ctx, uint64_t ns)
{
	return inner(ctx)->sleep_ns(inner(ctx)->ctx, ns);
}

static int g_wait_until(void *ctx, bool (*cond)(void *arg), void *arg, uint64_t poll_ns,
			uint64_t timeout_ns)
{
	return inner(ctx)->wait_until(inner(ctx)->ctx, cond, arg, poll_ns, timeout_ns);
}

/* Device-addressed operations: the guest's BDF becomes the host's. */
static int host_bdf_of(void *ctx, struct hqio_bdf *bdf)
{
	struct hqio_vpci *v = ctx;
	if (!is_guest(v, *bdf))
		return -ENODEV;
	*bdf = v->cfg.host_bdf;
	return 0;
}

static int g_irq_set(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned count,
		     hqio_irq_fn fn, void *arg)
{
	int rc = host_bdf_of(ctx, &bdf);
	return rc ? rc : inner(ctx)->irq_set(inner(ctx)->ctx, bdf, type, count, fn, arg);
}

static int g_irq_mask(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector,
		      bool masked)
{
	int rc = host_bdf_of(ctx, &bdf);
	return rc ? rc : inner(ctx)->irq_mask(inner(ctx)->ctx, bdf, type, vector, masked);
}

static int g_dma_map(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t host_addr,
		     uint64_t len, unsigned prot)
{
	int rc = host_bdf_of(ctx, &bdf);
	return rc ? rc : inner(ctx)->dma_map(inner(ctx)->ctx, bdf, iova, host_addr, len, prot);
}

static int g_dma_unmap(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len)
{
	int rc = host_bdf_of(ctx, &bdf);
	return rc ? rc : inner(ctx)->dma_unmap(inner(ctx)->ctx, bdf, iova, len);
}

static int g_ats_invalidate(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len)
{
	int rc = host_bdf_of(ctx, &bdf);
	return rc ? rc : inner(ctx)->ats_invalidate(inner(ctx)->ctx, bdf, iova, len);
}

static int g_platform_reset(void *ctx, struct hqio_bdf bdf, enum hqio_platform_reset kind)
{
	(void)ctx;
	(void)bdf;
	(void)kind;
	/* A guest resets its function through configuration space (FLR):
	 * no platform primitive reaches the host's hardware from here. */
	return -EOPNOTSUPP;
}

void hqio_vpci_guest_ops(struct hqio_vpci *v, struct hqio_host_ops *out)
{
	const struct hqio_host_ops *o = v->cfg.ops;
	*out = (struct hqio_host_ops){
		.ctx = v,
		.cfg_read = g_cfg_read,
		.cfg_write = g_cfg_write,
		.bar_read = g_bar_read,
		.bar_write = g_bar_write,
		.now_ns = o->now_ns ? g_now : NULL,
		.sleep_ns = o->sleep_ns ? g_sleep : NULL,
		.wait_until = o->wait_until ? g_wait_until : NULL,
		.irq_set = o->irq_set ? g_irq_set : NULL,
		.irq_mask = o->irq_mask ? g_irq_mask : NULL,
		.dma_map = o->dma_map ? g_dma_map : NULL,
		.dma_unmap = o->dma_unmap ? g_dma_unmap : NULL,
		.ats_invalidate = o->ats_invalidate ? g_ats_invalidate : NULL,
		.platform_reset = g_platform_reset,
	};
}
