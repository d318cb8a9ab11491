/* Scriptable guest driver (see guest.h). */
#include "guest.h"

#include "devices/devices.h"

#include <errno.h>
#include <string.h>

static void guest_msi(void *arg, const struct sim_msi_msg *m)
{
	struct sim_guest *g = arg;
	if ((m->addr & 0xfff00000u) != SIM_GUEST_MSI_ADDR)
		return;
	g->irq_count[m->data & 0xff]++;
	g->last_irq_ns = m->when_ns;
}

static void guest_ioapic(void *arg, unsigned pin, uint8_t vector)
{
	struct sim_guest *g = arg;
	(void)pin;
	g->irq_count[vector]++;
	g->last_irq_ns = g->p->eng.now_ns;
}

void sim_guest_init(struct sim_guest *g, struct sim_platform *p, const struct hqio_host_ops *ops,
		    struct hqio_bdf bdf)
{
	memset(g, 0, sizeof(*g));
	g->p = p;
	g->ops = ops;
	g->bdf = bdf;
	p->msi_sink = guest_msi;
	p->msi_arg = g;
	p->ioapic_sink = guest_ioapic;
	p->ioapic_arg = g;
}

int sim_guest_cfg_read(struct sim_guest *g, uint16_t off, unsigned size, uint32_t *val)
{
	return g->ops->cfg_read(g->ops->ctx, g->bdf, off, size, val);
}

int sim_guest_cfg_write(struct sim_guest *g, uint16_t off, unsigned size, uint32_t val)
{
	return g->ops->cfg_write(g->ops->ctx, g->bdf, off, size, val);
}

int sim_guest_bar_size(struct sim_guest *g, unsigned bar, uint64_t *size)
{
	uint16_t reg = (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * bar);
	uint32_t orig, lo, hi_orig = 0, hi = 0xffffffffu;
	int rc;
	if (bar > 5)
		return -EINVAL;
	if ((rc = sim_guest_cfg_read(g, reg, 4, &orig)))
		return rc;
	bool is64 =
		!(orig & HQIO_PCI_BASE_ADDRESS_SPACE_IO) &&
		(orig & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) == HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64;
	sim_guest_cfg_write(g, reg, 4, 0xffffffffu);
	sim_guest_cfg_read(g, reg, 4, &lo);
	sim_guest_cfg_write(g, reg, 4, orig);
	if (is64 && bar < 5) {
		sim_guest_cfg_read(g, (uint16_t)(reg + 4), 4, &hi_orig);
		sim_guest_cfg_write(g, (uint16_t)(reg + 4), 4, 0xffffffffu);
		sim_guest_cfg_read(g, (uint16_t)(reg + 4), 4, &hi);
		sim_guest_cfg_write(g, (uint16_t)(reg + 4), 4, hi_orig);
	}
	uint64_t mask;
	if (orig & HQIO_PCI_BASE_ADDRESS_SPACE_IO)
		mask = (lo & 0xfffffffcu) | 0xffffffff00000000ULL; /* I/O: upper bits as ones */
	else
		mask = (uint64_t)(is64 ? hi : 0xffffffffu) << 32 | (lo & 0xfffffff0u);
	*size = lo == 0 ? 0 : ~mask + 1; /* PCI LB 3.0 §6.2.5.1 */
	return 0;
}

int sim_guest_bar_program(struct sim_guest *g, unsigned bar, uint64_t addr)
{
	uint16_t reg = (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * bar);
	uint32_t orig;
	if (bar > 5)
		return -EINVAL;
	int rc = sim_guest_cfg_read(g, reg, 4, &orig);
	if (rc)
		return rc;
	rc = sim_guest_cfg_write(g, reg, 4, (uint32_t)addr);
	if (!rc && !(orig & HQIO_PCI_BASE_ADDRESS_SPACE_IO) &&
	    (orig & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) == HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64)
		rc = sim_guest_cfg_write(g, (uint16_t)(reg + 4), 4, (uint32_t)(addr >> 32));
	return rc;
}

int sim_guest_enable(struct sim_guest *g, uint16_t bits)
{
	uint32_t cmd;
	int rc = sim_guest_cfg_read(g, HQIO_PCI_COMMAND, 2, &cmd);
	return rc ? rc : sim_guest_cfg_write(g, HQIO_PCI_COMMAND, 2, cmd | bits);
}

int sim_guest_disable(struct sim_guest *g, uint16_t bits)
{
	uint32_t cmd;
	int rc = sim_guest_cfg_read(g, HQIO_PCI_COMMAND, 2, &cmd);
	return rc ? rc : sim_guest_cfg_write(g, HQIO_PCI_COMMAND, 2, cmd & ~(uint32_t)bits);
}

static int find_cap(struct sim_guest *g, uint8_t id, uint16_t *at)
{
	uint32_t v;
	uint32_t ptr;
	sim_guest_cfg_read(g, HQIO_PCI_STATUS, 2, &v);
	if (!(v & HQIO_PCI_STATUS_CAP_LIST))
		return -ENOENT;
	sim_guest_cfg_read(g, HQIO_PCI_CAPABILITY_LIST, 1, &ptr);
	for (int guard = 0; guard < 48 && (ptr & 0xfc) >= 0x40; guard++) {
		uint32_t cid, next;
		ptr &= 0xfc;
		sim_guest_cfg_read(g, (uint16_t)ptr, 1, &cid);
		if (cid == id) {
			*at = (uint16_t)ptr;
			return 0;
		}
		sim_guest_cfg_read(g, (uint16_t)(ptr + 1), 1, &next);
		ptr = next;
	}
	return -ENOENT;
}

int sim_guest_enable_msi(struct sim_guest *g, uint8_t vector, unsigned count)
{
	uint16_t at;
	uint32_t flags;
	int rc = find_cap(g, HQIO_PCI_CAP_ID_MSI, &at);
	if (rc)
		return rc;
	sim_guest_cfg_read(g, at + HQIO_PCI_MSI_FLAGS, 2, &flags);
	unsigned log2 = 0;
	while ((1u << log2) < count)
		log2++;
	if (log2 > ((flags & HQIO_PCI_MSI_FLAGS_QMASK) >> 1))
		return -EINVAL;
	bool a64 = flags & HQIO_PCI_MSI_FLAGS_64BIT;
	sim_guest_cfg_write(g, at + HQIO_PCI_MSI_ADDRESS_LO, 4, SIM_GUEST_MSI_ADDR);
	if (a64)
		sim_guest_cfg_write(g, at + HQIO_PCI_MSI_ADDRESS_HI, 4, 0);
	sim_guest_cfg_write(g, at + (a64 ? HQIO_PCI_MSI_DATA_64 : HQIO_PCI_MSI_DATA_32), 2, vector);
	flags = (flags & ~HQIO_PCI_MSI_FLAGS_QSIZE) | log2 << 4 | HQIO_PCI_MSI_FLAGS_ENABLE;
	return sim_guest_cfg_write(g, at + HQIO_PCI_MSI_FLAGS, 2, flags);
}

int sim_guest_enable_intx(struct sim_guest *g, uint8_t vector)
{
	struct sim_fn *f = sim_find(g->p, g->bdf);
	if (!f || !sim_fn_cfg_get(f, HQIO_PCI_INTERRUPT_PIN, 1))
		return -ENODEV;
	g->intx_pin = sim_intx_pin(f);
	sim_ioapic_program(g->p, g->intx_pin, vector, true, false);
	return sim_guest_disable(g, HQIO_PCI_COMMAND_INTX_DISABLE);
}

int sim_guest_eoi(struct sim_guest *g)
{
	sim_ioapic_eoi(g->p, g->intx_pin);
	return 0;
}

int sim_guest_mmio_read(struct sim_guest *g, unsigned bar, uint64_t off, unsigned size,
			uint64_t *val)
{
	return g->ops->bar_read(g->ops->ctx, g->bdf, bar, off, size, val);
}

int sim_guest_mmio_write(struct sim_guest *g, unsigned bar, uint64_t off, unsigned size,
			 uint64_t val)
{
	return g->ops->bar_write(g->ops->ctx, g->bdf, bar, off, size, val);
}

uint64_t sim_guest_irqs(const struct sim_guest *g)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < SIM_GUEST_VECTORS; i++)
		n += g->irq_count[i];
	return n;
}

/* ------------------------------------------------------------------ */
/* Device drivers with virtualization holes                             */
/* ------------------------------------------------------------------ */

int sim_guest_cfg_read_at(struct sim_guest *g, struct hqio_bdf bdf, uint16_t off, unsigned size,
			  uint32_t *val)
{
	return g->ops->cfg_read(g->ops->ctx, bdf, off, size, val);
}

int sim_guest_cfg_write_at(struct sim_guest *g, struct hqio_bdf bdf, uint16_t off, unsigned size,
			   uint32_t val)
{
	return g->ops->cfg_write(g->ops->ctx, bdf, off, size, val);
}

int sim_guest_gpu_mirror_view(struct sim_guest *g, struct sim_guest_gpu_view *out)
{
	uint64_t id = 0, cmd = 0, bar0 = 0;
	int rc = sim_guest_mmio_read(g, 0, SIM_GPU_CFG_MIRROR + HQIO_PCI_VENDOR_ID, 4, &id);
	if (!rc)
		rc = sim_guest_mmio_read(g, 0, SIM_GPU_CFG_MIRROR + HQIO_PCI_COMMAND, 2, &cmd);
	if (!rc)
		rc = sim_guest_mmio_read(g, 0, SIM_GPU_CFG_MIRROR + HQIO_PCI_BASE_ADDRESS_0, 4,
					 &bar0);
	if (rc)
		return rc;
	out->vendor = (uint16_t)id;
	out->device = (uint16_t)(id >> 16);
	out->command = (uint16_t)cmd;
	out->bar0 = (uint32_t)bar0;
	return 0;
}

int sim_guest_gpu_stolen(struct sim_guest *g, uint32_t *hb_reg, uint32_t *status)
{
	struct hqio_bdf hb = { .domain = g->bdf.domain, .bus = 0, .dev = 0, .fn = 0 };
	uint32_t tolud = 0;
	uint64_t st = 0;
	int rc = sim_guest_cfg_read_at(g, hb, SIM_GPU_HB_TOLUD, 2, &tolud);
	if (rc)
		return rc;
	rc = sim_guest_mmio_write(g, 0, SIM_GPU_STOLEN_BASE, 4,
				  sim_gpu_stolen_base((uint16_t)tolud));
	if (!rc)
		rc = sim_guest_mmio_read(g, 0, SIM_GPU_STOLEN_STATUS, 4, &st);
	if (rc)
		return rc;
	*hb_reg = tolud;
	*status = (uint32_t)st;
	return 0;
}

int sim_guest_nic_mac(struct sim_guest *g, enum sim_guest_port_from how, uint8_t mac[6])
{
	unsigned port;
	if (how == SIM_GUEST_PORT_STATUS) {
		uint64_t status = 0;
		int rc = sim_guest_mmio_read(g, 0, SIM_NIC_STATUS, 4, &status);
		if (rc)
			return rc;
		port = (unsigned)((status & SIM_NIC_STATUS_FUNC_MASK) >> SIM_NIC_STATUS_FUNC_SHIFT);
	} else if (how == SIM_GUEST_PORT_DEVFN) {
		port = g->bdf.fn;
	} else {
		return -EINVAL;
	}
	uint64_t m = SIM_GUEST_NIC_NVM_MAC + port;
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)(m >> (8 * (5 - i)));
	/* RAL0 holds bytes 0-3, RAH0 bytes 4-5 and Address Valid (bit 31). */
	uint32_t ral = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
		       (uint32_t)mac[3] << 24;
	uint32_t rah = 0x80000000u | (uint32_t)mac[4] | (uint32_t)mac[5] << 8;
	int rc = sim_guest_mmio_write(g, 0, SIM_NIC_RAL0, 4, ral);
	return rc ? rc : sim_guest_mmio_write(g, 0, SIM_NIC_RAH0, 4, rah);
}
