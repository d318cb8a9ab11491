/*
 * libFuzzer target: any bytes as a configuration image of any length,
 * through the walkers, the decoder, the VF matcher and the assessment.
 */
#include "hqio/inspect.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hqio_system sys = { 0 };
	struct hqio_pci_node *node = calloc(1, sizeof(*node));
	struct hqio_assessment *a = malloc(sizeof(*a));
	struct hqio_error err;

	if (!node || !a)
		goto out;
	/* The first byte picks a length class so short images are common. */
	size_t len = size > HQIO_PCI_CFG_EXP_SIZE ? HQIO_PCI_CFG_EXP_SIZE : size;
	memcpy(node->cfg, data, len);
	node->cfg_len = len;
	node->bdf.bus = 1;
	if (!hqio_system_add(&sys, node))
		goto out;
	/* A second function: a copy as a bridge on bus 0, so topology code runs. */
	node->bdf.bus = 0;
	node->cfg[HQIO_PCI_HEADER_TYPE] = HQIO_PCI_HEADER_TYPE_BRIDGE;
	if (len > HQIO_PCI_SECONDARY_BUS)
		node->cfg[HQIO_PCI_SECONDARY_BUS] = 1;
	if (!hqio_system_add(&sys, node))
		goto out;
	hqio_system_decode(&sys, &err);
	for (size_t i = 0; i < sys.n; i++)
		hqio_assess(&sys, &sys.nodes[i], a);
	if (sys.nodes[0].info) {
		unsigned idx;
		uint16_t v, d;
		hqio_pci_vf_of(sys.nodes[0].info, sys.nodes[0].bdf, sys.nodes[1].bdf, &idx, &v, &d);
	}
out:
	hqio_system_free(&sys);
	free(node);
	free(a);
	return 0;
}
