/*
 * 82574L-like NIC (e1000e class) and its dual-port variant; see devices.h
 * for the register map. Only the registers a pass-through study needs
 * are modelled: identity and link STATUS, the interrupt cause/mask
 * registers, a receive address, a software reset, the I/O window and a
 * DMA test doorbell. No packets.
 */
#include "devices/devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct nic {
	uint8_t lan_id; /* STATUS bits 3:2 */
	uint32_t ctrl, icr, ims, ral0, rah0;
	uint32_t dma_lo, dma_hi, dma_pattern, dma_result;
	uint32_t ioaddr;
};

/* Power-on CTRL: bit 0 Full Duplex set (model choice; the field is the
 * 82574L's CTRL.FD). The MAC address comes from the NVM on hardware. */
#define NIC_CTRL_INIT 0x00000001u

static void nic_irq(struct sim_fn *f, bool edge)
{
	struct nic *n = f->priv;
	/* Every cause on vector 0 (MSI-X without IVAR, or the one MSI vector). */
	sim_dev_irq_update(f, 0, (n->icr & n->ims) != 0, edge);
}

static void nic_state_reset(struct sim_fn *f)
{
	struct nic *n = f->priv;
	uint8_t lan = n->lan_id;
	memset(n, 0, sizeof(*n));
	n->lan_id = lan;
	n->ctrl = NIC_CTRL_INIT;
	/* MAC 52:54:00:12:34:5<lan>, little-endian; RAH bit 31 Address Valid. */
	n->ral0 = 0x12005452u;
	n->rah0 = 0x80000000u | (uint32_t)(0x50u + lan) << 8 | 0x34u;
}

static void nic_reset(struct sim_fn *f)
{
	nic_state_reset(f);
	/* The platform already dropped the INTx request (sim_irq_reset). */
}

static void nic_dma_go(struct sim_fn *f, uint32_t len)
{
	struct nic *n = f->priv;
	uint8_t buf[SIM_NIC_DMA_MAX];
	if (len == 0 || len > SIM_NIC_DMA_MAX) {
		n->dma_result = SIM_NIC_DMA_DONE | EINVAL;
	} else {
		for (uint32_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(n->dma_pattern + i);
		uint64_t addr = (uint64_t)n->dma_hi << 32 | n->dma_lo;
		int rc = sim_dma_write(f, addr, buf, len);
		n->dma_result = SIM_NIC_DMA_DONE | (uint32_t)(rc < 0 ? -rc : 0);
	}
	bool rose = !(n->icr & SIM_NIC_ICR_TXDW) && (n->ims & SIM_NIC_ICR_TXDW);
	n->icr |= SIM_NIC_ICR_TXDW;
	nic_irq(f, rose);
}

static uint32_t nic_rd0(struct sim_fn *f, uint64_t off)
{
	struct nic *n = f->priv;
	switch (off) {
	case SIM_NIC_CTRL:
		return n->ctrl;
	case SIM_NIC_STATUS:
		return SIM_NIC_STATUS_FD | SIM_NIC_STATUS_LU |
		       ((uint32_t)n->lan_id << SIM_NIC_STATUS_FUNC_SHIFT) |
		       SIM_NIC_STATUS_SPEED_1000;
	case SIM_NIC_ICR: {
		/* Read to clear (82574L datasheet, ICR). */
		uint32_t v = n->icr;
		if (n->icr & n->ims)
			v |= SIM_NIC_ICR_ASSERTED;
		n->icr = 0;
		nic_irq(f, false);
		return v;
	}
	case SIM_NIC_IMS:
		return n->ims;
	case SIM_NIC_RAL0:
		return n->ral0;
	case SIM_NIC_RAH0:
		return n->rah0;
	case SIM_NIC_DMA_ADDR_LO:
		return n->dma_lo;
	case SIM_NIC_DMA_ADDR_HI:
		return n->dma_hi;
	case SIM_NIC_DMA_PATTERN:
		return n->dma_pattern;
	case SIM_NIC_DMA_RESULT:
		return n->dma_result;
	default:
		return 0;
	}
}

static void nic_wr0(struct sim_fn *f, uint64_t off, uint32_t val, uint32_t mask)
{
	struct nic *n = f->priv;
	val &= mask;
	switch (off) {
	case SIM_NIC_CTRL:
		if (val & SIM_NIC_CTRL_RST) {
			/* Software reset: internal state to power-on, RST self-clears. */
			nic_state_reset(f);
			nic_irq(f, false);
			return;
		}
		n->ctrl = sim_dev_merge(n->ctrl, val, mask);
		return;
	case SIM_NIC_ICR:
		n->icr &= ~val;
		nic_irq(f, false);
		return;
	case SIM_NIC_ICS: {
		bool rose = (val & ~n->icr & n->ims) != 0;
		n->icr |= val & ~SIM_NIC_ICR_ASSERTED;
		nic_irq(f, rose);
		return;
	}
	case SIM_NIC_IMS: {
		bool rose = (n->icr & val & ~n->ims) != 0;
		n->ims |= val;
		nic_irq(f, rose);
		return;
	}
	case SIM_NIC_IMC:
		n->ims &= ~val;
		nic_irq(f, false);
		return;
	case SIM_NIC_RAL0:
		n->ral0 = sim_dev_merge(n->ral0, val, mask);
		return;
	case SIM_NIC_RAH0:
		n->rah0 = sim_dev_merge(n->rah0, val, mask);
		return;
	case SIM_NIC_DMA_ADDR_LO:
		n->dma_lo = sim_dev_merge(n->dma_lo, val, mask);
		return;
	case SIM_NIC_DMA_ADDR_HI:
		n->dma_hi = sim_dev_merge(n->dma_hi, val, mask);
		return;
	case SIM_NIC_DMA_PATTERN:
		n->dma_pattern = sim_dev_merge(n->dma_pattern, val, mask);
		return;
	case SIM_NIC_DMA_GO:
		nic_dma_go(f, val);
		return;
	default:
		return;
	}
}

static uint32_t nic_rd(struct sim_fn *f, unsigned bar, uint64_t off)
{
	struct nic *n = f->priv;
	if (bar == 0)
		return nic_rd0(f, off);
	if (bar == 2) {
		if (off == SIM_NIC_IOADDR)
			return n->ioaddr;
		if (off == SIM_NIC_IODATA && n->ioaddr < SIM_NIC_BAR0_SIZE)
			return nic_rd0(f, n->ioaddr & ~3u);
	}
	return 0; /* BAR3 outside the MSI-X table and PBA */
}

static void nic_wr(struct sim_fn *f, unsigned bar, uint64_t off, uint32_t val, uint32_t mask)
{
	struct nic *n = f->priv;
	if (bar == 0) {
		nic_wr0(f, off, val, mask);
	} else if (bar == 2) {
		if (off == SIM_NIC_IOADDR)
			n->ioaddr = sim_dev_merge(n->ioaddr, val, mask) & (SIM_NIC_BAR0_SIZE - 1);
		else if (off == SIM_NIC_IODATA)
			nic_wr0(f, n->ioaddr & ~3u, val, mask);
	}
}

static uint64_t nic_mmio_read(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size)
{
	return sim_dev_read_split(f, bar, off, size, nic_rd);
}

static void nic_mmio_write(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			   uint64_t val)
{
	sim_dev_write_split(f, bar, off, size, val, nic_wr);
}

static void nic_cfg_written(struct sim_fn *f, uint16_t off, unsigned size, uint32_t old_val,
			    uint32_t new_val)
{
	(void)off;
	(void)size;
	(void)old_val;
	(void)new_val;
	/* The interrupt mode may have changed: re-derive the INTx level. */
	nic_irq(f, false);
}

static void nic_destroy(struct sim_fn *f)
{
	free(f->priv);
	f->priv = NULL;
}

static const struct sim_fn_ops nic_ops = {
	.kind = "nic",
	.reset = nic_reset,
	.mmio_read = nic_mmio_read,
	.mmio_write = nic_mmio_write,
	.cfg_written = nic_cfg_written,
	.destroy = nic_destroy,
};

static struct sim_fn *nic_new(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
			      uint8_t fn, uint16_t device, bool multi, uint8_t lan_id,
			      unsigned faults)
{
	struct nic *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->lan_id = lan_id;
	struct sim_fn *f = sim_fn_new(p, parent, dev, fn, HQIO_PCI_CFG_EXP_SIZE,
				      multi ? "nic-dual" : "nic", &nic_ops, n);
	if (!f) {
		free(n);
		return NULL;
	}
	f->faults = faults;
	sim_fn_header(
		f, SIM_NIC_VENDOR, device, 0x020000,
		(uint8_t)(HQIO_PCI_HEADER_TYPE_NORMAL | (multi ? HQIO_PCI_HEADER_TYPE_MFD : 0)), 1);
	/* Subsystem IDs come from the NVM on hardware; model choice. */
	hqio_cfgb_w16(&f->b, HQIO_PCI_SUBSYSTEM_VENDOR_ID, 0x8086);
	hqio_cfgb_w16(&f->b, HQIO_PCI_SUBSYSTEM_ID, 0x0000);
	sim_fn_bar(f, 0, SIM_NIC_BAR0_SIZE, HQIO_PCI_BASE_ADDRESS_MEM_TYPE_32);
	sim_fn_bar(f, 2, SIM_NIC_BAR2_SIZE, HQIO_PCI_BASE_ADDRESS_SPACE_IO);
	sim_fn_bar(f, 3, SIM_NIC_BAR3_SIZE, HQIO_PCI_BASE_ADDRESS_MEM_TYPE_32);
	/* 82574L configuration space: PM 0xc8, MSI 0xd0, PCIe 0xe0, MSI-X 0xa0,
	 * linked in that order. */
	sim_add_pm(f, 0xc8, false);
	sim_add_msi(f, 0xd0, 0, true, false);
	sim_add_exp(f, 0xe0, HQIO_PCI_EXP_TYPE_ENDPOINT, false, 1, 1);
	sim_add_msix(f, 0xa0, SIM_NIC_MSIX_ENTRIES, 3, SIM_NIC_MSIX_TABLE, SIM_NIC_MSIX_PBA);
	sim_fn_finalize(f);
	return f;
}

struct sim_fn *sim_dev_nic(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			   unsigned faults)
{
	return nic_new(p, parent, dev, fn, SIM_NIC_DEVICE, false, 0, faults);
}

struct sim_fn *sim_dev_nic_dual(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
				unsigned faults, struct sim_fn **fn1)
{
	struct sim_fn *f0 = nic_new(p, parent, dev, 0, SIM_NIC_DEVICE_DUAL, true, 0, faults);
	struct sim_fn *f1 =
		f0 ? nic_new(p, parent, dev, 1, SIM_NIC_DEVICE_DUAL, true, 1, faults) : NULL;
	if (fn1)
		*fn1 = f1;
	return f1 ? f0 : NULL;
}
