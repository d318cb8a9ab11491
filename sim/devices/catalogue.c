/*
 * The reference machine (see devices.h for its layout) and the small
 * helpers the device models share: splitting BAR accesses into 32-bit
 * registers and choosing between message and INTx interrupts.
 */
#include "devices/devices.h"

#include <errno.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                               */
/* ------------------------------------------------------------------ */

uint64_t sim_dev_read_split(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			    sim_dev_rd32_fn rd)
{
	uint64_t v = 0;
	if (size == 0 || size > 8)
		return 0;
	/* Each 32-bit register the access touches is read once. */
	uint64_t first = off & ~3ULL, end = off + size;
	for (uint64_t dw = first; dw < end; dw += 4) {
		uint32_t r = rd(f, bar, dw);
		for (unsigned b = 0; b < 4; b++) {
			uint64_t a = dw + b;
			if (a < off || a >= end)
				continue;
			v |= (uint64_t)((r >> (8 * b)) & 0xff) << (8 * (a - off));
		}
	}
	return v;
}

void sim_dev_write_split(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size, uint64_t val,
			 sim_dev_wr32_fn wr)
{
	if (size == 0 || size > 8)
		return;
	uint64_t first = off & ~3ULL, end = off + size;
	for (uint64_t dw = first; dw < end; dw += 4) {
		uint32_t v = 0, mask = 0;
		for (unsigned b = 0; b < 4; b++) {
			uint64_t a = dw + b;
			if (a < off || a >= end)
				continue;
			v |= (uint32_t)((val >> (8 * (a - off))) & 0xff) << (8 * b);
			mask |= 0xffu << (8 * b);
		}
		wr(f, bar, dw, v, mask);
	}
}

bool sim_dev_msg_irq(const struct sim_fn *f)
{
	if (f->msix &&
	    (sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_FLAGS, 2) & HQIO_PCI_MSIX_FLAGS_ENABLE))
		return true;
	return f->msi &&
	       (sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_FLAGS, 2) & HQIO_PCI_MSI_FLAGS_ENABLE);
}

void sim_dev_irq_update(struct sim_fn *f, unsigned vector, bool level, bool edge)
{
	/* PCI LB 3.0 §6.8.1.3 / §6.8.2.3: with MSI or MSI-X enabled the
	 * function does not use INTx. */
	if (sim_dev_msg_irq(f)) {
		if (f->irq.intx_level)
			sim_intx_set(f, false);
		if (edge)
			sim_irq_raise(f, vector);
		return;
	}
	if (level != f->irq.intx_level)
		sim_intx_set(f, level);
}

/* ------------------------------------------------------------------ */
/* The reference machine                                                 */
/* ------------------------------------------------------------------ */

int sim_build_reference_ex(struct sim_platform *p, struct sim_reference *ref)
{
	struct sim_reference r = { 0 };

	/* PCIe 5.0 §7.5.3.6 Supported Link Speeds: 1 = 2.5, 2 = 5, 3 = 8 GT/s.
	 * Above 5 GT/s readiness counts from Data Link Layer Link Active
	 * (§6.6.1), so 00:1c.0/00:1c.3 and 00:1c.1/00:1c.2 time differently. */
	r.rp[0] = sim_add_root_port(p, 0x1c, 0, 3);
	if (!r.rp[0])
		return -ENOMEM;
	struct sim_nvme_opts nv = { .total_vfs = 4, .vf_offset = 1, .vf_stride = 1, .ats = true };
	r.nvme = sim_dev_nvme_ex(p, r.rp[0], 0, 0, &nv);
	if (!r.nvme)
		return -ENOMEM;

	r.rp[1] = sim_add_root_port(p, 0x1c, 1, 2);
	if (!r.rp[1])
		return -ENOMEM;
	r.sw_up = sim_add_switch(p, r.rp[1], 2, r.sw_down);
	if (!r.sw_up || !r.sw_down[0] || !r.sw_down[1])
		return -ENOMEM;
	r.nic[0] = sim_dev_nic_dual(p, r.sw_down[0], 0, 0, &r.nic[1]);
	if (!r.nic[0] || !r.nic[1])
		return -ENOMEM;
	r.hda = sim_dev_hda(p, r.sw_down[1], 0, 0, 0);
	if (!r.hda)
		return -ENOMEM;

	r.rp[2] = sim_add_root_port(p, 0x1c, 2, 1);
	if (!r.rp[2])
		return -ENOMEM;
	r.pci_bridge = sim_add_pcie_to_pci_bridge(p, r.rp[2]);
	if (!r.pci_bridge)
		return -ENOMEM;
	r.legacy23 = sim_dev_legacy(p, r.pci_bridge, 0, 0, 0);
	r.legacy22 = sim_dev_legacy_nointxdis(p, r.pci_bridge, 4, 0, 0);
	if (!r.legacy23 || !r.legacy22)
		return -ENOMEM;

	r.rp[3] = sim_add_root_port(p, 0x1c, 3, 3);
	if (!r.rp[3])
		return -ENOMEM;
	r.gpu = sim_dev_gpu(p, r.rp[3], 0, 0, 0);
	if (!r.gpu)
		return -ENOMEM;

	r.edu = sim_dev_edu(p, NULL, 0x10, 0, 0);
	if (!r.edu)
		return -ENOMEM;

	sim_enumerate(p);
	if (ref)
		*ref = r;
	return 0;
}

int sim_build_reference(struct sim_platform *p)
{
	return sim_build_reference_ex(p, NULL);
}
