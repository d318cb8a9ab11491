/*
 * Conventional PCI NIC (RTL8169 / RTL8139 identities) for the secondary
 * side of the PCIe-to-PCI bridge, with and without PCI 2.3 INTx Disable;
 * see devices.h. Only the MAC address and the interrupt registers are
 * modelled.
 */
#include "devices/devices.h"

#include <stdlib.h>

#define LEG_TAG 0x4c454731u /* "LEG1": event tag in the engine trace */

struct legacy {
	bool pci23; /* INTx Disable and Interrupt Status implemented */
	uint8_t mac[6];
	uint16_t imr, isr;
	sim_event_id storm;
};

/* Pre-2.3 functions have no Interrupt Status bit (PCI LB 3.0 §6.2.3 added
 * it with INTx Disable); irq.c sets it for every function, so take it
 * back whenever the level may have changed it. */
static void leg_fix_status(struct sim_fn *f)
{
	struct legacy *l = f->priv;
	if (l->pci23)
		return;
	uint16_t st = (uint16_t)sim_fn_cfg_get(f, HQIO_PCI_STATUS, 2);
	if (st & HQIO_PCI_STATUS_INTERRUPT)
		sim_fn_cfg_set(f, HQIO_PCI_STATUS, 2, st & ~HQIO_PCI_STATUS_INTERRUPT);
}

static void leg_irq(struct sim_fn *f)
{
	struct legacy *l = f->priv;
	sim_dev_irq_update(f, 0, (l->isr & l->imr) != 0, false);
	leg_fix_status(f);
}

static void leg_storm(void *arg, uint64_t now)
{
	struct sim_fn *f = arg;
	struct legacy *l = f->priv;
	(void)now;
	l->isr |= SIM_LEG_ISR_ROK;
	leg_irq(f);
	l->storm = sim_schedule(&f->plat->eng, SIM_DEV_STORM_NS, leg_storm, f, LEG_TAG);
}

static void leg_storm_arm(struct sim_fn *f)
{
	struct legacy *l = f->priv;
	if ((f->faults & SIM_FAULT_IRQ_STORM) && l->imr && !l->storm)
		l->storm = sim_schedule(&f->plat->eng, SIM_DEV_STORM_NS, leg_storm, f, LEG_TAG);
}

static uint32_t leg_rd(struct sim_fn *f, unsigned bar, uint64_t off)
{
	struct legacy *l = f->priv;
	(void)bar; /* BAR0 (I/O) and BAR1 (memory) decode the same registers */
	switch (off) {
	case SIM_LEG_IDR0:
		return (uint32_t)l->mac[0] | (uint32_t)l->mac[1] << 8 | (uint32_t)l->mac[2] << 16 |
		       (uint32_t)l->mac[3] << 24;
	case SIM_LEG_IDR0 + 4:
		return (uint32_t)l->mac[4] | (uint32_t)l->mac[5] << 8;
	case SIM_LEG_IMR: /* IMR in bytes 0-1, ISR in bytes 2-3 */
		return (uint32_t)l->imr | (uint32_t)l->isr << 16;
	default:
		return 0;
	}
}

static void leg_wr(struct sim_fn *f, unsigned bar, uint64_t off, uint32_t val, uint32_t mask)
{
	struct legacy *l = f->priv;
	(void)bar;
	switch (off) {
	case SIM_LEG_IDR0:
	case SIM_LEG_IDR0 + 4:
		for (unsigned b = 0; b < 4; b++) {
			unsigned i = (unsigned)(off - SIM_LEG_IDR0) + b;
			if (i < 6 && (mask >> (8 * b)) & 0xff)
				l->mac[i] = (uint8_t)(val >> (8 * b));
		}
		return;
	case SIM_LEG_IMR:
		l->imr = (uint16_t)sim_dev_merge(l->imr, val, mask & 0xffff);
		l->isr &= (uint16_t) ~((val & mask) >> 16); /* RTL8139 ISR: write 1 to clear */
		leg_irq(f);
		leg_storm_arm(f);
		return;
	case SIM_LEG_SWINT:
		l->isr |= (uint16_t)(val & mask);
		leg_irq(f);
		return;
	default:
		return;
	}
}

static uint64_t leg_mmio_read(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size)
{
	return sim_dev_read_split(f, bar, off, size, leg_rd);
}

static void leg_mmio_write(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			   uint64_t val)
{
	sim_dev_write_split(f, bar, off, size, val, leg_wr);
}

static void leg_cfg_written(struct sim_fn *f, uint16_t off, unsigned size, uint32_t old_val,
			    uint32_t new_val)
{
	(void)off;
	(void)size;
	(void)old_val;
	(void)new_val;
	leg_fix_status(f);
}

static void leg_reset(struct sim_fn *f)
{
	struct legacy *l = f->priv;
	if (l->storm)
		sim_cancel(&f->plat->eng, l->storm);
	l->storm = 0;
	l->imr = l->isr = 0;
	/* MAC 52:54:00:ab:cd:0x: from the EEPROM on hardware, a model choice. */
	const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, l->pci23 ? 0x23 : 0x22 };
	for (unsigned i = 0; i < 6; i++)
		l->mac[i] = mac[i];
}

static void leg_destroy(struct sim_fn *f)
{
	free(f->priv);
	f->priv = NULL;
}

static const struct sim_fn_ops leg_ops = {
	.kind = "pci-legacy",
	.reset = leg_reset,
	.mmio_read = leg_mmio_read,
	.mmio_write = leg_mmio_write,
	.cfg_written = leg_cfg_written,
	.destroy = leg_destroy,
};

static struct sim_fn *leg_new(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
			      uint8_t fn, bool pci23, unsigned faults)
{
	struct legacy *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->pci23 = pci23;
	struct sim_fn *f = sim_fn_new(p, parent, dev, fn, HQIO_PCI_CFG_SIZE,
				      pci23 ? "pci-legacy23" : "pci-legacy22", &leg_ops, l);
	if (!f) {
		free(l);
		return NULL;
	}
	f->faults = faults;
	sim_fn_header(f, SIM_LEG_VENDOR, pci23 ? SIM_LEG_DEVICE_23 : SIM_LEG_DEVICE_22, 0x020000,
		      HQIO_PCI_HEADER_TYPE_NORMAL, 1);
	hqio_cfgb_w8(&f->b, HQIO_PCI_REVISION_ID, 0x10); /* model choice */
	if (!pci23) {
		/* A PCI 2.2 part: Command bit 10 (Interrupt Disable, added by PCI
		 * 2.3; PCI LB 3.0 §6.2.2) is reserved and reads 0. Drop it from
		 * the write mask sim_fn_header set, so writes cannot set it. */
		f->wmask[HQIO_PCI_COMMAND + 1] &= (uint8_t) ~(HQIO_PCI_COMMAND_INTX_DISABLE >> 8);
	}
	sim_fn_bar(f, 0, SIM_LEG_BAR_SIZE, HQIO_PCI_BASE_ADDRESS_SPACE_IO);
	sim_fn_bar(f, 1, SIM_LEG_BAR_SIZE, HQIO_PCI_BASE_ADDRESS_MEM_TYPE_32);
	sim_fn_finalize(f);
	return f;
}

struct sim_fn *sim_dev_legacy(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
			      uint8_t fn, unsigned faults)
{
	return leg_new(p, parent, dev, fn, true, faults);
}

struct sim_fn *sim_dev_legacy_nointxdis(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
					uint8_t fn, unsigned faults)
{
	return leg_new(p, parent, dev, fn, false, faults);
}
