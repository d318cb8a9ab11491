/*
 * Simulated platform: topology, bus numbering, configuration routing and
 * write semantics, readiness after resets (CRS), FLR, PM D-states and
 * secondary bus reset.
 *
 * Configuration writes follow per-bit masks: read-write bits take the new
 * value, write-1-to-clear bits clear where a 1 is written, everything else
 * is read-only (PCI LB 3.0 §6.1). Registers with side effects (Command,
 * PMCSR, Device Control's Initiate FLR, AF Control, Bridge Control) act
 * after the masked write.
 */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Raw register access                                                   */
/* ------------------------------------------------------------------ */

uint32_t sim_fn_cfg_get(const struct sim_fn *f, uint16_t off, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && i < 4 && off + i < HQIO_PCI_CFG_EXP_SIZE; i++)
		v |= (uint32_t)f->b.cfg[off + i] << (8 * i);
	return v;
}

void sim_fn_cfg_set(struct sim_fn *f, uint16_t off, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size && i < 4 && off + i < HQIO_PCI_CFG_EXP_SIZE; i++)
		f->b.cfg[off + i] = (uint8_t)(val >> (8 * i));
}

static void set_mask(uint8_t *m, uint16_t off, unsigned size, uint32_t mask)
{
	for (unsigned i = 0; i < size && i < 4 && off + i < HQIO_PCI_CFG_EXP_SIZE; i++)
		m[off + i] |= (uint8_t)(mask >> (8 * i));
}

void sim_fn_rw(struct sim_fn *f, uint16_t off, unsigned size, uint32_t mask)
{
	set_mask(f->wmask, off, size, mask);
}

void sim_fn_w1c(struct sim_fn *f, uint16_t off, unsigned size, uint32_t mask)
{
	set_mask(f->w1c, off, size, mask);
}

bool sim_is_bridge(const struct sim_fn *f)
{
	return (f->b.cfg[HQIO_PCI_HEADER_TYPE] & HQIO_PCI_HEADER_TYPE_MASK) ==
	       HQIO_PCI_HEADER_TYPE_BRIDGE;
}

static uint8_t exp_type(const struct sim_fn *f)
{
	return f->exp ? (uint8_t)((sim_fn_cfg_get(f, f->exp + HQIO_PCI_EXP_FLAGS, 2) &
				   HQIO_PCI_EXP_FLAGS_TYPE) >>
				  4)
		      : 0xff;
}

bool sim_fn_ready(const struct sim_fn *f)
{
	return !f->never_ready && !f->in_reset && f->plat->eng.now_ns >= f->ready_at_ns;
}

bool sim_fn_bus_master(const struct sim_fn *f)
{
	return sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2) & HQIO_PCI_COMMAND_MASTER;
}

bool sim_fn_can_master(const struct sim_fn *f)
{
	return sim_fn_bus_master(f) && !f->in_reset && sim_fn_pm_state(f) != 3;
}

bool sim_fn_mem_enabled(const struct sim_fn *f)
{
	return sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2) & HQIO_PCI_COMMAND_MEMORY;
}

uint8_t sim_fn_pm_state(const struct sim_fn *f)
{
	return f->pm ? (uint8_t)(sim_fn_cfg_get(f, f->pm + HQIO_PCI_PM_CTRL, 2) &
				 HQIO_PCI_PM_CTRL_STATE_MASK)
		     : 0;
}

/* ------------------------------------------------------------------ */
/* Building                                                              */
/* ------------------------------------------------------------------ */

static const struct sim_fn_ops host_bridge_ops = { .kind = "host-bridge" };

struct sim_platform *sim_platform_new(uint64_t seed, uint64_t mem_bytes)
{
	struct sim_platform *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	sim_engine_init(&p->eng, seed);
	mem_bytes = (mem_bytes + SIM_PAGE_SIZE - 1) & ~(SIM_PAGE_SIZE - 1);
	p->mem = calloc(1, mem_bytes ? mem_bytes : SIM_PAGE_SIZE);
	p->owner = calloc(mem_bytes / SIM_PAGE_SIZE + 1, sizeof(*p->owner));
	if (!p->mem || !p->owner) {
		sim_platform_free(p);
		return NULL;
	}
	p->mem_size = mem_bytes;
	for (uint64_t i = 0; i < mem_bytes / SIM_PAGE_SIZE; i++)
		p->owner[i] = -1;
	for (size_t i = 0; i < 65536; i++)
		p->rid_domain[i] = -1;
	p->iommu_enabled = true;
	for (unsigned i = 0; i < SIM_IOAPIC_PINS; i++)
		p->ioapic[i].masked = true; /* IOAPIC redirection entries reset masked */

	/* Host bridge 00:00.0 (a Q35-like MCH): chipset registers at 0x40-0x9f
	 * that firmware and some drivers program (PCIEXBAR, PAM, SMRAM, TOLUD). */
	struct sim_fn *hb =
		sim_fn_new(p, NULL, 0, 0, HQIO_PCI_CFG_SIZE, "host-bridge", &host_bridge_ops, NULL);
	if (!hb) {
		sim_platform_free(p);
		return NULL;
	}
	sim_fn_header(hb, 0x8086, 0x29c0, 0x060000, 0, 0);
	sim_fn_cfg_set(hb, 0x60, 4, 0xb0000001); /* PCIEXBAR: ECAM at 0xb0000000, enabled */
	sim_fn_cfg_set(hb, 0x9c, 2, 0x8000);	 /* TOLUD-like: 2 GiB of low memory */
	sim_fn_rw(hb, 0x40, 4, 0xffffffff);
	sim_fn_rw(hb, 0x48, 4, 0xffffffff);
	sim_fn_rw(hb, 0x60, 4, 0xfc000001);
	sim_fn_rw(hb, 0x64, 4, 0xffffffff);
	sim_fn_rw(hb, 0x90, 4, 0xffffffff);
	sim_fn_rw(hb, 0x94, 4, 0xffffffff);
	sim_fn_rw(hb, 0x9c, 2, 0xfff0);
	sim_fn_finalize(hb);
	p->host_bridge = hb;
	return p;
}

void sim_platform_free(struct sim_platform *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_fns; i++) {
		struct sim_fn *f = p->fns[i];
		if (f->ops && f->ops->destroy)
			f->ops->destroy(f);
		sim_irq_free(f);
		free(f);
	}
	for (int d = 0; d < SIM_MAX_DOMAINS; d++)
		sim_iommu_domain_free(p, d);
	sim_engine_free(&p->eng);
	free(p->mem);
	free(p->owner);
	free(p);
}

struct sim_fn *sim_fn_new(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			  size_t cfg_size, const char *name, const struct sim_fn_ops *ops,
			  void *priv)
{
	if (p->n_fns >= SIM_MAX_FNS || dev > 31 || fn > 7 ||
	    (parent && parent->n_children >= SIM_MAX_CHILDREN))
		return NULL;
	struct sim_fn *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->plat = p;
	f->parent = parent;
	f->dev = dev;
	f->fn = fn;
	f->cfg_size = cfg_size > HQIO_PCI_CFG_SIZE ? HQIO_PCI_CFG_EXP_SIZE : HQIO_PCI_CFG_SIZE;
	f->ops = ops;
	f->priv = priv;
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "fn");
	p->fns[p->n_fns++] = f;
	if (parent)
		parent->children[parent->n_children++] = f;
	return f;
}

void sim_fn_header(struct sim_fn *f, uint16_t vendor, uint16_t device, uint32_t class_code,
		   uint8_t header_type, uint8_t int_pin)
{
	hqio_cfgb_init(&f->b, vendor, device, class_code, header_type);
	hqio_cfgb_w8(&f->b, HQIO_PCI_INTERRUPT_PIN, int_pin);
	/* Command: I/O, Memory, Bus Master, Parity, SERR, INTx Disable (PCI LB 3.0 §6.2.2). */
	sim_fn_rw(f, HQIO_PCI_COMMAND, 2,
		  HQIO_PCI_COMMAND_IO | HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER |
			  HQIO_PCI_COMMAND_PARITY | HQIO_PCI_COMMAND_SERR |
			  HQIO_PCI_COMMAND_INTX_DISABLE);
	/* Status error bits are RW1C (§6.2.3). */
	sim_fn_w1c(f, HQIO_PCI_STATUS, 2, 0xf900);
	sim_fn_rw(f, HQIO_PCI_CACHE_LINE_SIZE, 1, 0xff);
	sim_fn_rw(f, HQIO_PCI_LATENCY_TIMER, 1, 0xff);
	sim_fn_rw(f, HQIO_PCI_INTERRUPT_LINE, 1, 0xff);
	if ((header_type & HQIO_PCI_HEADER_TYPE_MASK) == HQIO_PCI_HEADER_TYPE_BRIDGE) {
		/* P2P 1.2 §3.2.5: bus numbers, windows, bridge control. */
		sim_fn_rw(f, HQIO_PCI_PRIMARY_BUS, 4, 0xffffffff);
		sim_fn_rw(f, HQIO_PCI_IO_BASE, 2, 0xf0f0);
		sim_fn_w1c(f, HQIO_PCI_SEC_STATUS, 2, 0xf900);
		sim_fn_rw(f, HQIO_PCI_MEMORY_BASE, 4, 0xfff0fff0);
		sim_fn_rw(f, HQIO_PCI_PREF_MEMORY_BASE, 4, 0xfff0fff0);
		sim_fn_rw(f, HQIO_PCI_PREF_BASE_UPPER32, 4, 0xffffffff);
		sim_fn_rw(f, HQIO_PCI_PREF_LIMIT_UPPER32, 4, 0xffffffff);
		sim_fn_rw(f, HQIO_PCI_IO_BASE_UPPER16, 4, 0xffffffff);
		sim_fn_rw(f, HQIO_PCI_BRIDGE_CONTROL, 2, 0x007f);
		hqio_cfgb_w8(&f->b, HQIO_PCI_PREF_MEMORY_BASE, HQIO_PCI_PREF_RANGE_TYPE_64);
		hqio_cfgb_w8(&f->b, HQIO_PCI_PREF_MEMORY_LIMIT, HQIO_PCI_PREF_RANGE_TYPE_64);
	}
}

void sim_fn_bar(struct sim_fn *f, unsigned i, uint64_t size, uint32_t flags)
{
	bool bridge = sim_is_bridge(f);
	unsigned nbars = bridge ? HQIO_PCI_NUM_BARS_TYPE1 : HQIO_PCI_NUM_BARS_TYPE0;
	if (size == 0 || (size & (size - 1)))
		return;
	if (i == 6) { /* expansion ROM: address bits and the enable bit */
		uint16_t reg = bridge ? HQIO_PCI_ROM_ADDRESS1 : HQIO_PCI_ROM_ADDRESS;
		if (size < 2048)
			size = 2048;
		f->bar_size[6] = size;
		sim_fn_rw(f, reg, 4, (uint32_t)(~(size - 1) & 0xfffff800u) | 1u);
		return;
	}
	if (i >= nbars)
		return;
	uint16_t reg = (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * i);
	f->bar_size[i] = size;
	if (flags & HQIO_PCI_BASE_ADDRESS_SPACE_IO) {
		if (size < 4)
			size = 4;
		sim_fn_cfg_set(f, reg, 4, HQIO_PCI_BASE_ADDRESS_SPACE_IO);
		sim_fn_rw(f, reg, 4, (uint32_t)(~(size - 1)) & 0xfffffffcu);
		return;
	}
	if (size < 16)
		size = 16;
	f->bar_size[i] = size;
	sim_fn_cfg_set(f, reg, 4, flags & 0xf);
	sim_fn_rw(f, reg, 4, (uint32_t)(~(size - 1)) & 0xfffffff0u);
	if ((flags & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) == HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64 &&
	    i + 1 < nbars) {
		sim_fn_rw(f, (uint16_t)(reg + 4), 4, (uint32_t)(~(size - 1) >> 32));
		f->bar_size[i + 1] = 0;
	}
}

uint16_t sim_add_pm(struct sim_fn *f, uint16_t off, bool no_soft_reset)
{
	hqio_cfgb_cap(&f->b, off, HQIO_PCI_CAP_ID_PM);
	/* PCI PM 1.2 §3.2.3: version 3, PME from D0/D3hot/D3cold. */
	sim_fn_cfg_set(f, off + HQIO_PCI_PM_PMC, 2, 0xc803);
	sim_fn_cfg_set(f, off + HQIO_PCI_PM_CTRL, 2,
		       no_soft_reset ? HQIO_PCI_PM_CTRL_NO_SOFT_RESET : 0);
	sim_fn_rw(f, off + HQIO_PCI_PM_CTRL, 2,
		  HQIO_PCI_PM_CTRL_STATE_MASK | HQIO_PCI_PM_CTRL_PME_ENABLE);
	sim_fn_w1c(f, off + HQIO_PCI_PM_CTRL, 2, HQIO_PCI_PM_CTRL_PME_STATUS);
	return off;
}

uint16_t sim_add_msi(struct sim_fn *f, uint16_t off, unsigned vectors_log2, bool addr64,
		     bool per_vector_mask)
{
	if (vectors_log2 > 5)
		vectors_log2 = 5;
	hqio_cfgb_cap(&f->b, off, HQIO_PCI_CAP_ID_MSI);
	uint16_t flags = (uint16_t)(vectors_log2 << 1);
	if (addr64)
		flags |= HQIO_PCI_MSI_FLAGS_64BIT;
	if (per_vector_mask)
		flags |= HQIO_PCI_MSI_FLAGS_MASKBIT;
	sim_fn_cfg_set(f, off + HQIO_PCI_MSI_FLAGS, 2, flags);
	/* PCI LB 3.0 §6.8.1: Enable and Multiple Message Enable are RW. */
	sim_fn_rw(f, off + HQIO_PCI_MSI_FLAGS, 2,
		  HQIO_PCI_MSI_FLAGS_ENABLE | HQIO_PCI_MSI_FLAGS_QSIZE);
	sim_fn_rw(f, off + HQIO_PCI_MSI_ADDRESS_LO, 4, 0xfffffffc);
	uint16_t data = addr64 ? HQIO_PCI_MSI_DATA_64 : HQIO_PCI_MSI_DATA_32;
	if (addr64)
		sim_fn_rw(f, off + HQIO_PCI_MSI_ADDRESS_HI, 4, 0xffffffff);
	sim_fn_rw(f, off + data, 2, 0xffff);
	if (per_vector_mask) {
		uint32_t vmask = vectors_log2 >= 5 ? 0xffffffffu : (1u << (1u << vectors_log2)) - 1;
		sim_fn_rw(f, off + (addr64 ? HQIO_PCI_MSI_MASK_64 : HQIO_PCI_MSI_MASK_32), 4,
			  vmask);
	}
	return off;
}

uint16_t sim_add_msix(struct sim_fn *f, uint16_t off, unsigned entries, unsigned bir,
		      uint32_t table_off, uint32_t pba_off)
{
	if (entries == 0 || entries > SIM_MSIX_MAX_VECTORS)
		entries = 1;
	hqio_cfgb_cap(&f->b, off, HQIO_PCI_CAP_ID_MSIX);
	sim_fn_cfg_set(f, off + HQIO_PCI_MSIX_FLAGS, 2, (uint16_t)(entries - 1));
	sim_fn_cfg_set(f, off + HQIO_PCI_MSIX_TABLE, 4, (table_off & ~7u) | (bir & 7));
	sim_fn_cfg_set(f, off + HQIO_PCI_MSIX_PBA, 4, (pba_off & ~7u) | (bir & 7));
	sim_fn_rw(f, off + HQIO_PCI_MSIX_FLAGS, 2,
		  HQIO_PCI_MSIX_FLAGS_ENABLE | HQIO_PCI_MSIX_FLAGS_MASKALL);
	return off;
}

uint16_t sim_add_exp(struct sim_fn *f, uint16_t off, uint8_t port_type, bool flr,
		     uint8_t link_speed, uint8_t link_width)
{
	hqio_cfgb_cap(&f->b, off, HQIO_PCI_CAP_ID_EXP);
	sim_fn_cfg_set(f, off + HQIO_PCI_EXP_FLAGS, 2, (uint16_t)(2 | (port_type & 0xf) << 4));
	bool endpoint = port_type == HQIO_PCI_EXP_TYPE_ENDPOINT ||
			port_type == HQIO_PCI_EXP_TYPE_LEG_END ||
			port_type == HQIO_PCI_EXP_TYPE_RC_END;
	uint32_t devcap = 1; /* 256-byte max payload supported */
	if (flr && endpoint)
		devcap |= HQIO_PCI_EXP_DEVCAP_FLR;
	sim_fn_cfg_set(f, off + HQIO_PCI_EXP_DEVCAP, 4, devcap);
	/* DevCtl defaults: Relaxed Ordering, No Snoop, MRRS 512 B (PCIe 5.0 §7.5.3.4). */
	sim_fn_cfg_set(f, off + HQIO_PCI_EXP_DEVCTL, 2, 0x2810);
	sim_fn_rw(f, off + HQIO_PCI_EXP_DEVCTL, 2,
		  0x7fff | (flr && endpoint ? HQIO_PCI_EXP_DEVCTL_BCR_FLR : 0));
	sim_fn_w1c(f, off + HQIO_PCI_EXP_DEVSTA, 2, 0x000f);
	bool down = port_type == HQIO_PCI_EXP_TYPE_ROOT_PORT ||
		    port_type == HQIO_PCI_EXP_TYPE_DOWNSTREAM;
	if (port_type != HQIO_PCI_EXP_TYPE_RC_END && port_type != HQIO_PCI_EXP_TYPE_RC_EC) {
		uint32_t lnkcap = (uint32_t)(link_speed & 0xf) | (uint32_t)(link_width & 0x3f) << 4;
		if (down) /* required above 5 GT/s, offered by all our downstream ports */
			lnkcap |= HQIO_PCI_EXP_LNKCAP_DLLLARC;
		sim_fn_cfg_set(f, off + HQIO_PCI_EXP_LNKCAP, 4, lnkcap);
		sim_fn_rw(f, off + HQIO_PCI_EXP_LNKCTL, 2, 0x0ffb);
		uint16_t lnksta = (uint16_t)((link_speed & 0xf) | (link_width & 0x3f) << 4);
		if (down)
			lnksta |= HQIO_PCI_EXP_LNKSTA_DLLLA;
		sim_fn_cfg_set(f, off + HQIO_PCI_EXP_LNKSTA, 2, lnksta);
	}
	if (port_type == HQIO_PCI_EXP_TYPE_ROOT_PORT) {
		sim_fn_rw(f, off + HQIO_PCI_EXP_RTCTL, 2, 0x001f);
		sim_fn_cfg_set(f, off + HQIO_PCI_EXP_RTCAP, 2, HQIO_PCI_EXP_RTCAP_CRSVIS);
	}
	return off;
}

uint16_t sim_add_af(struct sim_fn *f, uint16_t off, bool tp, bool flr)
{
	hqio_cfgb_cap(&f->b, off, HQIO_PCI_CAP_ID_AF);
	hqio_cfgb_w8(&f->b, off + HQIO_PCI_AF_LENGTH, HQIO_PCI_AF_SIZEOF);
	hqio_cfgb_w8(&f->b, off + HQIO_PCI_AF_CAP,
		     (uint8_t)((tp ? HQIO_PCI_AF_CAP_TP : 0) | (flr ? HQIO_PCI_AF_CAP_FLR : 0)));
	if (flr)
		sim_fn_rw(f, off + HQIO_PCI_AF_CTRL, 1, HQIO_PCI_AF_CTRL_FLR);
	return off;
}

uint16_t sim_add_ext_acs(struct sim_fn *f, uint16_t off)
{
	hqio_cfgb_ext(&f->b, off, HQIO_PCI_EXT_CAP_ID_ACS, 1);
	sim_fn_cfg_set(f, off + HQIO_PCI_ACS_CAP, 2, 0x001f); /* SV TB RR CR UF */
	sim_fn_rw(f, off + HQIO_PCI_ACS_CTRL, 2, 0x001f);
	return off;
}

uint16_t sim_add_ext_ats(struct sim_fn *f, uint16_t off)
{
	hqio_cfgb_ext(&f->b, off, HQIO_PCI_EXT_CAP_ID_ATS, 1);
	sim_fn_cfg_set(f, off + HQIO_PCI_ATS_CAP, 2, 0x0020); /* page aligned requests */
	sim_fn_rw(f, off + HQIO_PCI_ATS_CTRL, 2, HQIO_PCI_ATS_CTRL_ENABLE | 0x001f);
	return off;
}

uint16_t sim_add_ext_sriov(struct sim_fn *f, uint16_t off, uint16_t total_vfs, uint16_t vf_offset,
			   uint16_t vf_stride, uint16_t vf_device)
{
	hqio_cfgb_ext(&f->b, off, HQIO_PCI_EXT_CAP_ID_SRIOV, 1);
	sim_fn_rw(f, off + HQIO_PCI_SRIOV_CTRL, 2, 0x001f);
	sim_fn_cfg_set(f, off + HQIO_PCI_SRIOV_INITIAL_VF, 2, total_vfs);
	sim_fn_cfg_set(f, off + HQIO_PCI_SRIOV_TOTAL_VF, 2, total_vfs);
	sim_fn_rw(f, off + HQIO_PCI_SRIOV_NUM_VF, 2, 0xffff);
	sim_fn_cfg_set(f, off + HQIO_PCI_SRIOV_VF_OFFSET, 2, vf_offset);
	sim_fn_cfg_set(f, off + HQIO_PCI_SRIOV_VF_STRIDE, 2, vf_stride);
	sim_fn_cfg_set(f, off + HQIO_PCI_SRIOV_VF_DID, 2, vf_device);
	sim_fn_cfg_set(f, off + HQIO_PCI_SRIOV_SUP_PGSIZE, 4, 0x553);
	sim_fn_cfg_set(f, off + HQIO_PCI_SRIOV_SYS_PGSIZE, 4, 0x1);
	sim_fn_rw(f, off + HQIO_PCI_SRIOV_SYS_PGSIZE, 4, 0x553);
	return off;
}

void sim_fn_finalize(struct sim_fn *f)
{
	struct hqio_pci_info *info = malloc(sizeof(*info));
	if (info) {
		if (hqio_pci_decode(f->b.cfg, f->cfg_size, NULL, info, NULL) >= 0) {
			f->pm = info->pm.offset;
			f->msi = info->msi.offset;
			f->msix = info->msix.offset;
			f->exp = info->exp.offset;
			f->af = info->af.offset;
			f->acs = info->acs.offset;
			f->sriov = info->sriov.offset;
			f->ats = info->ats.offset;
		}
		free(info);
	}
	memcpy(f->init, f->b.cfg, sizeof(f->init));
	uint8_t t = exp_type(f);
	if (t == HQIO_PCI_EXP_TYPE_PCI_BRIDGE || (sim_is_bridge(f) && !f->exp))
		f->conventional_secondary = true;
	sim_irq_reset(f);
	sim_dma_reset(f);
	if (f->ops && f->ops->reset)
		f->ops->reset(f);
}

/* ------------------------------------------------------------------ */
/* Topology                                                              */
/* ------------------------------------------------------------------ */

static const struct sim_fn_ops bridge_ops = { .kind = "bridge" };

static struct sim_fn *new_bridge(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
				 uint8_t fn, const char *name, uint16_t vendor, uint16_t device,
				 uint8_t port_type, uint8_t speed)
{
	struct sim_fn *f =
		sim_fn_new(p, parent, dev, fn, HQIO_PCI_CFG_EXP_SIZE, name, &bridge_ops, NULL);
	if (!f)
		return NULL;
	sim_fn_header(f, vendor, device, 0x060400, HQIO_PCI_HEADER_TYPE_BRIDGE, 0);
	sim_add_exp(f, 0x40, port_type, false, speed, 1);
	sim_add_msi(f, 0x80, 0, true, false);
	sim_add_pm(f, 0x90, false);
	if (port_type != HQIO_PCI_EXP_TYPE_PCI_BRIDGE && port_type != HQIO_PCI_EXP_TYPE_UPSTREAM)
		sim_add_ext_acs(f, 0x100);
	sim_fn_finalize(f);
	return f;
}

struct sim_fn *sim_add_root_port(struct sim_platform *p, uint8_t dev, uint8_t fn,
				 uint8_t link_speed)
{
	/* IDs as QEMU's emulated parts: pcie-root-port 1b36:000c, x3130 switch
	 * ports 104c:8232/8233 (TI XIO3130), pcie-pci-bridge 1b36:000e. */
	return new_bridge(p, NULL, dev, fn, "root-port", 0x1b36, 0x000c,
			  HQIO_PCI_EXP_TYPE_ROOT_PORT, link_speed);
}

struct sim_fn *sim_add_switch(struct sim_platform *p, struct sim_fn *parent, unsigned n_down,
			      struct sim_fn **down)
{
	struct sim_fn *up = new_bridge(p, parent, 0, 0, "switch-up", 0x104c, 0x8232,
				       HQIO_PCI_EXP_TYPE_UPSTREAM, 3);
	if (!up)
		return NULL;
	for (unsigned i = 0; i < n_down && i < 32; i++) {
		struct sim_fn *d = new_bridge(p, up, (uint8_t)i, 0, "switch-down", 0x104c, 0x8233,
					      HQIO_PCI_EXP_TYPE_DOWNSTREAM, 3);
		if (down)
			down[i] = d;
	}
	return up;
}

struct sim_fn *sim_add_pcie_to_pci_bridge(struct sim_platform *p, struct sim_fn *parent)
{
	return new_bridge(p, parent, 0, 0, "pcie-pci-bridge", 0x1b36, 0x000e,
			  HQIO_PCI_EXP_TYPE_PCI_BRIDGE, 1);
}

static uint8_t number_below(struct sim_fn *br, uint8_t *next)
{
	uint8_t sec = (*next)++;
	sim_fn_cfg_set(br, HQIO_PCI_PRIMARY_BUS, 1,
		       br->parent ? br->parent->b.cfg[HQIO_PCI_SECONDARY_BUS] : 0);
	sim_fn_cfg_set(br, HQIO_PCI_SECONDARY_BUS, 1, sec);
	sim_fn_cfg_set(br, HQIO_PCI_SUBORDINATE_BUS, 1, 0xff);
	uint8_t sub = sec;
	for (unsigned i = 0; i < br->n_children; i++)
		if (sim_is_bridge(br->children[i]))
			sub = number_below(br->children[i], next);
	sim_fn_cfg_set(br, HQIO_PCI_SUBORDINATE_BUS, 1, sub);
	return sub;
}

void sim_enumerate(struct sim_platform *p)
{
	uint8_t next = 1;
	for (size_t i = 0; i < p->n_fns; i++) {
		struct sim_fn *f = p->fns[i];
		if (!f->parent && sim_is_bridge(f))
			number_below(f, &next);
	}
}

struct hqio_bdf sim_fn_bdf(const struct sim_fn *f)
{
	struct hqio_bdf b = { .bus = f->parent ? f->parent->b.cfg[HQIO_PCI_SECONDARY_BUS] : 0,
			      .dev = f->dev,
			      .fn = f->fn };
	return b;
}

static bool forwards_only_dev0(const struct sim_fn *br)
{
	/* Below a root or downstream port sits one link: only device 0
	 * (PCIe 5.0 §7.3.1, without ARI). */
	uint8_t t = exp_type(br);
	return t == HQIO_PCI_EXP_TYPE_ROOT_PORT || t == HQIO_PCI_EXP_TYPE_DOWNSTREAM;
}

static struct sim_fn *route_below(struct sim_fn *const *fns, size_t n, struct hqio_bdf bdf,
				  bool on_this_bus)
{
	for (size_t i = 0; i < n; i++) {
		struct sim_fn *f = fns[i];
		if (on_this_bus) {
			if (f->dev == bdf.dev && f->fn == bdf.fn)
				return f->in_reset ? NULL : f;
			continue;
		}
		if (!sim_is_bridge(f) || f->in_reset)
			continue;
		uint8_t sec = f->b.cfg[HQIO_PCI_SECONDARY_BUS],
			sub = f->b.cfg[HQIO_PCI_SUBORDINATE_BUS];
		if (sec == 0 || bdf.bus < sec || bdf.bus > sub)
			continue;
		if (f->sbr_asserted)
			return NULL;
		if (bdf.bus == sec && forwards_only_dev0(f) && bdf.dev != 0)
			return NULL;
		return route_below(f->children, f->n_children, bdf, bdf.bus == sec);
	}
	return NULL;
}

struct sim_fn *sim_route(struct sim_platform *p, struct hqio_bdf bdf)
{
	if (bdf.domain != 0)
		return NULL;
	struct sim_fn *root[SIM_MAX_FNS];
	size_t n = 0;
	for (size_t i = 0; i < p->n_fns; i++)
		if (!p->fns[i]->parent)
			root[n++] = p->fns[i];
	return route_below(root, n, bdf, bdf.bus == 0);
}

struct sim_fn *sim_find(struct sim_platform *p, struct hqio_bdf bdf)
{
	for (size_t i = 0; i < p->n_fns; i++) {
		struct hqio_bdf b = sim_fn_bdf(p->fns[i]);
		if (hqio_bdf_cmp(b, bdf) == 0)
			return p->fns[i];
	}
	return NULL;
}

uint16_t sim_requester_id(const struct sim_fn *f)
{
	uint16_t rid = hqio_bdf_rid(sim_fn_bdf(f));
	/* Conventional requests are taken over by the topmost PCIe-to-PCI
	 * bridge, which uses its secondary bus number with device 0, function 0. */
	for (const struct sim_fn *a = f->parent; a; a = a->parent)
		if (exp_type(a) == HQIO_PCI_EXP_TYPE_PCI_BRIDGE)
			rid = (uint16_t)(a->b.cfg[HQIO_PCI_SECONDARY_BUS] << 8);
	return rid;
}

/* ------------------------------------------------------------------ */
/* Resets                                                                */
/* ------------------------------------------------------------------ */

void sim_fn_reset(struct sim_fn *f)
{
	memcpy(f->b.cfg, f->init, sizeof(f->b.cfg));
	f->never_ready = false; /* a conventional reset recovers a hung FLR */
	f->sbr_asserted = false;
	f->resets++;
	sim_irq_reset(f);
	sim_dma_reset(f);
	if (f->ops && f->ops->reset)
		f->ops->reset(f);
}

static bool imm_ready(const struct sim_fn *f)
{
	return sim_fn_cfg_get(f, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_IMM_READY;
}

static void flr(struct sim_fn *f)
{
	sim_fn_reset(f);
	if (f->faults & SIM_FAULT_FLR_NEVER_COMPLETES)
		f->never_ready = true;
	else if (!imm_ready(f))
		f->ready_at_ns = f->plat->eng.now_ns + SIM_T_FLR_READY_NS;
}

static void set_in_reset_below(struct sim_fn *br, bool on)
{
	for (unsigned i = 0; i < br->n_children; i++) {
		struct sim_fn *c = br->children[i];
		c->in_reset = on;
		/* a function held in reset stops driving its INTx pin */
		sim_irq_cfg_written(c, HQIO_PCI_COMMAND, 2);
		if (sim_is_bridge(c))
			set_in_reset_below(c, on);
	}
}

static void reset_below(struct sim_fn *br, uint64_t ready_at)
{
	for (unsigned i = 0; i < br->n_children; i++) {
		struct sim_fn *c = br->children[i];
		if (sim_is_bridge(c))
			reset_below(c, ready_at); /* its bus numbers go too, after */
		sim_fn_reset(c);
		c->in_reset = false;
		c->ready_at_ns = ready_at;
	}
}

static void link_up(void *arg, uint64_t now)
{
	struct sim_fn *br = arg;
	(void)now;
	if (br->exp && !br->sbr_asserted) {
		uint16_t sta = (uint16_t)sim_fn_cfg_get(br, br->exp + HQIO_PCI_EXP_LNKSTA, 2);
		sim_fn_cfg_set(br, br->exp + HQIO_PCI_EXP_LNKSTA, 2,
			       sta | HQIO_PCI_EXP_LNKSTA_DLLLA);
	}
}

static void bridge_control_written(struct sim_fn *br, uint16_t old, uint16_t now_val)
{
	struct sim_platform *p = br->plat;
	bool was = old & HQIO_PCI_BRIDGE_CTL_BUS_RESET,
	     is = now_val & HQIO_PCI_BRIDGE_CTL_BUS_RESET;
	if (!was && is) {
		br->sbr_asserted = true;
		br->sbr_asserted_at_ns = p->eng.now_ns;
		set_in_reset_below(br, true);
		if (br->exp) { /* the link goes down while reset is asserted */
			uint16_t sta =
				(uint16_t)sim_fn_cfg_get(br, br->exp + HQIO_PCI_EXP_LNKSTA, 2);
			sim_fn_cfg_set(br, br->exp + HQIO_PCI_EXP_LNKSTA, 2,
				       sta & ~HQIO_PCI_EXP_LNKSTA_DLLLA);
		}
		return;
	}
	if (!(was && !is))
		return;
	br->sbr_asserted = false;
	uint64_t now = p->eng.now_ns;
	if (now - br->sbr_asserted_at_ns < SIM_T_RST_MIN_NS) {
		/* Shorter than Trst: the devices below were never reset. */
		p->trst_violations++;
		set_in_reset_below(br, false);
		link_up(br, now);
		return;
	}
	uint64_t ready_at;
	uint8_t speed = br->exp ? (uint8_t)(sim_fn_cfg_get(br, br->exp + HQIO_PCI_EXP_LNKCAP, 4) &
					    HQIO_PCI_EXP_LNKCAP_SLS)
				: 0;
	if (br->conventional_secondary) {
		ready_at = now + SIM_T_RHFA_NS; /* conventional PCI: Trhfa */
		link_up(br, now);
	} else if (speed <= 2) {
		ready_at = now + SIM_T_RESET_READY_NS; /* <= 5 GT/s: 100 ms after reset */
		link_up(br, now);
	} else {
		/* > 5 GT/s: 100 ms after Data Link Layer Link Active (PCIe 5.0 §6.6.1). */
		sim_schedule(&p->eng, SIM_T_LINK_TRAIN_NS, link_up, br, 0x5b5);
		ready_at = now + SIM_T_LINK_TRAIN_NS + SIM_T_RESET_READY_NS;
	}
	reset_below(br, ready_at);
}

static void pm_written(struct sim_fn *f, uint16_t old, uint16_t now_val)
{
	uint8_t from = old & HQIO_PCI_PM_CTRL_STATE_MASK,
		to = now_val & HQIO_PCI_PM_CTRL_STATE_MASK;
	uint16_t pmc = (uint16_t)sim_fn_cfg_get(f, f->pm + HQIO_PCI_PM_PMC, 2);
	/* PCI PM 1.2 §3.2.4: writes of unsupported states are ignored. */
	if ((to == 1 && !(pmc & HQIO_PCI_PM_PMC_D1)) || (to == 2 && !(pmc & HQIO_PCI_PM_PMC_D2))) {
		sim_fn_cfg_set(f, f->pm + HQIO_PCI_PM_CTRL, 2,
			       (now_val & ~HQIO_PCI_PM_CTRL_STATE_MASK) | from);
		return;
	}
	if (from == 3 && to == 0) {
		bool nsr = now_val & HQIO_PCI_PM_CTRL_NO_SOFT_RESET;
		if (!nsr && !(f->faults & SIM_FAULT_PM_NO_RESET))
			sim_fn_reset(f); /* back in D0 with power-on state: D0uninitialized */
		f->ready_at_ns = f->plat->eng.now_ns + SIM_T_D3HOT_D0_NS;
	}
}

/* Apply masked write semantics to one aligned access; return old value. */
static uint32_t masked_write(struct sim_fn *f, uint16_t off, unsigned size, uint32_t val)
{
	uint32_t old = sim_fn_cfg_get(f, off, size);
	for (unsigned i = 0; i < size; i++) {
		uint16_t o = (uint16_t)(off + i);
		uint8_t nb = (uint8_t)(val >> (8 * i)), ob = f->b.cfg[o];
		uint8_t v = (uint8_t)((ob & ~f->wmask[o]) | (nb & f->wmask[o]));
		v &= (uint8_t) ~(nb & f->w1c[o]);
		f->b.cfg[o] = v;
	}
	return old;
}

static bool overlaps(uint16_t off, unsigned size, uint16_t reg, unsigned reg_size)
{
	return off < reg + reg_size && reg < off + size;
}

static void cfg_write_fn(struct sim_fn *f, uint16_t off, unsigned size, uint32_t val)
{
	uint16_t old_pm = f->pm ? (uint16_t)sim_fn_cfg_get(f, f->pm + HQIO_PCI_PM_CTRL, 2) : 0;
	uint16_t old_bc = (uint16_t)sim_fn_cfg_get(f, HQIO_PCI_BRIDGE_CONTROL, 2);
	uint32_t old = masked_write(f, off, size, val);

	if (f->exp && overlaps(off, size, f->exp + HQIO_PCI_EXP_DEVCTL, 2)) {
		uint16_t dc = (uint16_t)sim_fn_cfg_get(f, f->exp + HQIO_PCI_EXP_DEVCTL, 2);
		if (dc & HQIO_PCI_EXP_DEVCTL_BCR_FLR) {
			/* Initiate FLR always reads 0 (PCIe 5.0 §7.5.3.4). */
			sim_fn_cfg_set(f, f->exp + HQIO_PCI_EXP_DEVCTL, 2,
				       dc & ~HQIO_PCI_EXP_DEVCTL_BCR_FLR);
			flr(f);
			return;
		}
	}
	if (f->af && overlaps(off, size, f->af + HQIO_PCI_AF_CTRL, 1) &&
	    (f->b.cfg[f->af + HQIO_PCI_AF_CTRL] & HQIO_PCI_AF_CTRL_FLR)) {
		f->b.cfg[f->af + HQIO_PCI_AF_CTRL] &= (uint8_t)~HQIO_PCI_AF_CTRL_FLR;
		flr(f);
		return;
	}
	if (f->pm && overlaps(off, size, f->pm + HQIO_PCI_PM_CTRL, 2))
		pm_written(f, old_pm, (uint16_t)sim_fn_cfg_get(f, f->pm + HQIO_PCI_PM_CTRL, 2));
	if (sim_is_bridge(f) && overlaps(off, size, HQIO_PCI_BRIDGE_CONTROL, 2))
		bridge_control_written(f, old_bc,
				       (uint16_t)sim_fn_cfg_get(f, HQIO_PCI_BRIDGE_CONTROL, 2));
	sim_irq_cfg_written(f, off, size);
	if (f->ops && f->ops->cfg_written)
		f->ops->cfg_written(f, off, size, old, sim_fn_cfg_get(f, off, size));
}

/* ------------------------------------------------------------------ */
/* Routed accesses                                                        */
/* ------------------------------------------------------------------ */

static int check_access(uint16_t off, unsigned size)
{
	if ((size != 1 && size != 2 && size != 4) || off % size ||
	    off + size > HQIO_PCI_CFG_EXP_SIZE)
		return -EINVAL;
	return 0;
}

static struct sim_fn *root_port_of(struct sim_fn *f)
{
	while (f->parent)
		f = f->parent;
	return exp_type(f) == HQIO_PCI_EXP_TYPE_ROOT_PORT ? f : NULL;
}

int sim_cfg_read(struct sim_platform *p, struct hqio_bdf bdf, uint16_t off, unsigned size,
		 uint32_t *val)
{
	uint32_t ones = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	int rc = check_access(off, size);
	if (rc)
		return rc;
	struct sim_fn *f = sim_route(p, bdf);
	if (!f || off >= f->cfg_size) {
		*val = ones; /* Unsupported Request: all-ones to software */
		return 0;
	}
	if (!sim_fn_ready(f)) {
		struct sim_fn *rp = root_port_of(f);
		bool crs_sv = rp && rp->exp &&
			      (sim_fn_cfg_get(rp, rp->exp + HQIO_PCI_EXP_RTCTL, 2) &
			       HQIO_PCI_EXP_RTCTL_CRSSVE);
		/* PCIe 5.0 §2.3.1: with CRS Software Visibility a Vendor ID read
		 * returns 0x0001; otherwise the root complex retries and finally
		 * reports all-ones. */
		if (crs_sv && off == 0 && size >= 2)
			*val = size == 4 ? 0xffff0001u : 0x0001;
		else
			*val = ones;
		return 0;
	}
	*val = sim_fn_cfg_get(f, off, size);
	return 0;
}

int sim_cfg_write(struct sim_platform *p, struct hqio_bdf bdf, uint16_t off, unsigned size,
		  uint32_t val)
{
	int rc = check_access(off, size);
	if (rc)
		return rc;
	struct sim_fn *f = sim_route(p, bdf);
	if (!f || off >= f->cfg_size)
		return 0; /* dropped, as on hardware */
	if (!sim_fn_ready(f)) {
		p->writes_while_not_ready++;
		return 0;
	}
	cfg_write_fn(f, off, size, val);
	return 0;
}

static int bar_target(struct sim_platform *p, struct hqio_bdf bdf, unsigned bar, uint64_t off,
		      unsigned size, struct sim_fn **out)
{
	*out = NULL;
	if (bar > 5 || (size != 1 && size != 2 && size != 4 && size != 8))
		return -EINVAL;
	struct sim_fn *f = sim_route(p, bdf);
	if (!f)
		return 0;
	if (!f->bar_size[bar] || off > f->bar_size[bar] || f->bar_size[bar] - off < size)
		return -ERANGE;
	uint32_t reg = sim_fn_cfg_get(f, (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * bar), 4);
	uint16_t cmd = (uint16_t)sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2);
	bool io = reg & HQIO_PCI_BASE_ADDRESS_SPACE_IO;
	bool decode = cmd & (io ? HQIO_PCI_COMMAND_IO : HQIO_PCI_COMMAND_MEMORY);
	/* No decode before the function is ready, outside D0, or with the
	 * space disabled (PCI PM 1.2 §5.3.1.4: D3hot answers configuration only). */
	if (!sim_fn_ready(f) || !decode || sim_fn_pm_state(f) != 0)
		return 0;
	*out = f;
	return 0;
}

int sim_bar_read(struct sim_platform *p, struct hqio_bdf bdf, unsigned bar, uint64_t off,
		 unsigned size, uint64_t *val)
{
	struct sim_fn *f;
	int rc = bar_target(p, bdf, bar, off, size, &f);
	*val = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	if (rc || !f)
		return rc;
	if (sim_irq_bar_access(f, bar, off, size, val, false))
		return 0;
	*val = f->ops && f->ops->mmio_read ? f->ops->mmio_read(f, bar, off, size) : 0;
	return 0;
}

int sim_bar_write(struct sim_platform *p, struct hqio_bdf bdf, unsigned bar, uint64_t off,
		  unsigned size, uint64_t val)
{
	struct sim_fn *f;
	int rc = bar_target(p, bdf, bar, off, size, &f);
	if (rc || !f)
		return rc;
	if (sim_irq_bar_access(f, bar, off, size, &val, true))
		return 0;
	if (f->ops && f->ops->mmio_write)
		f->ops->mmio_write(f, bar, off, size, val);
	return 0;
}
