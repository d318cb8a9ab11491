/*
 * A set of PCI functions as one reader saw them (a live sysfs or an lspci
 * dump): storage, decoding, and the topology a dump implies.
 *
 * Topology of a dump comes only from the images: a function's parent is
 * the type 1 bridge whose Secondary Bus Number equals its bus (P2P 1.2
 * §3.2.5.4); root ports and root-complex integrated endpoints sit on a
 * root bus by definition (PCIe 5.0 §1.3.2).
 */
#include "hqio/inspect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct hqio_pci_node *hqio_system_add(struct hqio_system *sys, const struct hqio_pci_node *node)
{
	if (sys->n == sys->cap) {
		size_t cap = sys->cap ? sys->cap * 2 : 16;
		struct hqio_pci_node *p = realloc(sys->nodes, cap * sizeof(*p));
		if (!p)
			return NULL;
		sys->nodes = p;
		sys->cap = cap;
	}
	struct hqio_pci_node *n = &sys->nodes[sys->n++];
	*n = *node;
	n->info = NULL;
	return n;
}

void hqio_system_free(struct hqio_system *sys)
{
	for (size_t i = 0; i < sys->n; i++)
		free(sys->nodes[i].info);
	free(sys->nodes);
	memset(sys, 0, sizeof(*sys));
}

static int node_cmp(const void *a, const void *b)
{
	const struct hqio_pci_node *x = a, *y = b;
	return hqio_bdf_cmp(x->bdf, y->bdf);
}

struct hqio_pci_node *hqio_system_find(struct hqio_system *sys, struct hqio_bdf bdf)
{
	for (size_t i = 0; i < sys->n; i++)
		if (hqio_bdf_cmp(sys->nodes[i].bdf, bdf) == 0)
			return &sys->nodes[i];
	return NULL;
}

static bool decoded_ok(const struct hqio_pci_node *n)
{
	return n->info && hqio_pci_decode_usable(n->decode_rc);
}

static void derive_dump_topology(struct hqio_system *sys, struct hqio_pci_node *n)
{
	const struct hqio_pci_info *in = n->info;
	const struct hqio_pci_node *best = NULL;

	if (decoded_ok(n) && in->exp.present &&
	    (in->exp.port_type == HQIO_PCI_EXP_TYPE_ROOT_PORT ||
	     in->exp.port_type == HQIO_PCI_EXP_TYPE_RC_END ||
	     in->exp.port_type == HQIO_PCI_EXP_TYPE_RC_EC)) {
		n->on_root_bus = true;
		n->parent_known = true;
		return;
	}
	for (size_t i = 0; i < sys->n; i++) {
		const struct hqio_pci_node *b = &sys->nodes[i];
		if (b == n || !decoded_ok(b) || b->bdf.domain != n->bdf.domain ||
		    b->info->header_type != HQIO_PCI_HEADER_TYPE_BRIDGE)
			continue;
		uint8_t sec = b->info->secondary_bus, sub = b->info->subordinate_bus;
		if (sec == 0 || sec > n->bdf.bus || n->bdf.bus > sub)
			continue;
		if (!best || sec > best->info->secondary_bus)
			best = b;
	}
	if (best) {
		/* Only a bridge whose secondary bus is ours is our parent; a
		 * covering bridge further up means the dump lacks the one between. */
		if (best->info->secondary_bus == n->bdf.bus) {
			n->parent = best->bdf;
			n->parent_known = true;
		}
		return;
	}
	/* No bridge leads to this bus: it is a root bus if a host bridge sits on it. */
	for (size_t i = 0; i < sys->n; i++) {
		const struct hqio_pci_node *h = &sys->nodes[i];
		if (decoded_ok(h) && h->bdf.domain == n->bdf.domain && h->bdf.bus == n->bdf.bus &&
		    (h->info->class_code >> 8) == HQIO_PCI_CLASS_BRIDGE_HOST) {
			n->on_root_bus = true;
			n->parent_known = true;
			return;
		}
	}
}

int hqio_system_decode(struct hqio_system *sys, struct hqio_error *err)
{
	qsort(sys->nodes, sys->n, sizeof(sys->nodes[0]), node_cmp);
	for (size_t i = 0; i < sys->n; i++) {
		struct hqio_pci_node *n = &sys->nodes[i];
		struct hqio_error e = { 0 };
		free(n->info);
		n->info = malloc(sizeof(*n->info));
		if (!n->info)
			return hqio_error_set(err, -ENOMEM, "out of memory decoding %zu devices",
					      sys->n);
		n->decode_rc = hqio_pci_decode(n->cfg, n->cfg_len, n->have_sizes ? &n->sizes : NULL,
					       n->info, &e);
		memcpy(n->decode_msg, e.msg, sizeof(n->decode_msg));
		if (n->cfg_size && n->cfg_len < n->cfg_size)
			sys->cfg_limited = true;
	}
	for (size_t i = 0; i < sys->n; i++)
		if (!sys->nodes[i].sysfs)
			derive_dump_topology(sys, &sys->nodes[i]);
	return 0;
}
