/*
 * The simulated machine as `hqio inspect` sees a real one: each reachable
 * function's configuration space read through the platform (as software
 * reads it), BAR sizes, topology, and IOMMU groups formed the way Linux
 * forms them: functions that share a requester ID (conventional devices
 * aliased to their PCIe-to-PCI bridge, with the bridge) share a group, and
 * so do the functions of a multi-function device without ACS.
 */
#include "sim.h"

#include "hqio/inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static uint32_t group_key(const struct sim_fn *f)
{
	struct hqio_bdf b = sim_fn_bdf(f);
	uint8_t ht = f->b.cfg[HQIO_PCI_HEADER_TYPE];
	if (f->exp && sim_is_bridge(f)) {
		uint16_t flags = (uint16_t)sim_fn_cfg_get(f, f->exp + HQIO_PCI_EXP_FLAGS, 2);
		if (((flags & HQIO_PCI_EXP_FLAGS_TYPE) >> 4) == HQIO_PCI_EXP_TYPE_PCI_BRIDGE)
			return (uint32_t)f->b.cfg[HQIO_PCI_SECONDARY_BUS] << 8;
	}
	if ((ht & HQIO_PCI_HEADER_TYPE_MFD) && !f->acs)
		return hqio_bdf_rid(b) & ~7u;
	return sim_requester_id(f);
}

int sim_snapshot(struct sim_platform *p, struct hqio_system *sys)
{
	struct hqio_pci_node *n = calloc(1, sizeof(*n));
	uint32_t keys[SIM_MAX_FNS];
	size_t n_keys = 0;
	if (!n)
		return -ENOMEM;
	sys->sysfs = false;
	for (size_t i = 0; i < p->n_fns; i++) {
		struct sim_fn *f = p->fns[i];
		struct hqio_bdf bdf = sim_fn_bdf(f);
		if (sim_route(p, bdf) != f)
			continue; /* not reachable now (e.g. a disabled VF) */
		memset(n, 0, sizeof(*n));
		n->bdf = bdf;
		for (uint16_t off = 0; off < f->cfg_size; off += 4) {
			uint32_t v;
			sim_cfg_read(p, bdf, off, 4, &v);
			memcpy(n->cfg + off, &v, 4);
		}
		n->cfg_len = f->cfg_size;
		n->cfg_size = f->cfg_size;
		n->have_sizes = true;
		for (int b = 0; b < 6; b++)
			n->sizes.bar[b] = f->bar_size[b];
		n->sizes.rom = f->bar_size[6];
		n->sysfs = true; /* a complete view, like a live system's */
		n->parent_known = true;
		n->on_root_bus = f->parent == NULL;
		if (f->parent)
			n->parent = sim_fn_bdf(f->parent);
		n->iommu_known = true;
		uint32_t key = group_key(f);
		size_t g = 0;
		while (g < n_keys && keys[g] != key)
			g++;
		if (g == n_keys)
			keys[n_keys++] = key;
		n->iommu_group = (int)g;
		if (!hqio_system_add(sys, n)) {
			free(n);
			return -ENOMEM;
		}
	}
	free(n);
	return hqio_system_decode(sys, NULL);
}
