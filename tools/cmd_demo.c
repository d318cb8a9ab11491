/*
 * hqio demo: a guided tour of what has landed, each step on this machine.
 * Step 1 inspects the live PCI devices; step 2 shows a malformed
 * capability list being caught, on a copy of a real device's image.
 */
#include "commands.h"
#include "names.h"
#include "sysfs.h"

#include "hqio/inspect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void step(int n, const char *title)
{
	printf("\n== Step %d: %s ==\n", n, title);
}

static void summary_line(const struct hqio_names *names, const struct hqio_pci_node *n,
			 const struct hqio_assessment *a)
{
	char b[HQIO_BDF_STR_MAX], dn[64] = "", resets[64] = "";
	size_t used = 0;
	if (n->info && !hqio_names_device(names, a->vendor_id, a->device_id, dn, sizeof(dn)))
		snprintf(dn, sizeof(dn), "%04x:%04x", a->vendor_id, a->device_id);
	for (int k = 0; k < HQIO_RESET_COUNT; k++)
		if (a->resets[k].usable == HQIO_YES)
			used += (size_t)snprintf(resets + used, sizeof(resets) - used, "%s%s",
						 used ? "," : "", hqio_reset_name(a->resets[k].kind));
	printf("  %s  %-36.36s  irq:%s%s%s  reset:%-10s  %s\n", hqio_bdf_format(n->bdf, b, sizeof(b)),
	       dn, a->intx ? " INTx" : "", a->msi ? " MSI" : "", a->msix ? " MSI-X" : "",
	       used ? resets : "none", hqio_verdict_str(a->verdict));
	for (unsigned i = 0; i < a->n_reasons; i++)
		if (a->reasons[i].level >= HQIO_LEVEL_DEGRADED)
			printf("      %-8s %s\n", hqio_level_str(a->reasons[i].level),
			       a->reasons[i].text);
}

static int demo_inspect(struct hqio_system *sys, const struct hqio_names *names)
{
	struct hqio_error err = {0};
	step(1, "inspect this machine's PCI devices (hqio inspect --sysfs)");
	printf("hqio reads each device's configuration space from Linux sysfs, walks its\n"
	       "capability lists, and judges whether it could be assigned to a guest with\n"
	       "known state (reset), dedicated interrupts (MSI) and DMA isolation (IOMMU).\n\n");
	if (hqio_sysfs_read(NULL, NULL, 0, sys, &err) < 0 || hqio_system_decode(sys, &err) < 0) {
		printf("  cannot read sysfs here: %s\n", err.msg);
		return -1;
	}
	if (sys->n == 0) {
		printf("  this machine shows no PCI devices\n");
		return 0;
	}
	struct hqio_assessment *a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	unsigned counts[HQIO_LEVEL_UNSAFE + 1] = {0};
	for (size_t i = 0; i < sys->n; i++) {
		hqio_assess(sys, &sys->nodes[i], a);
		summary_line(names, &sys->nodes[i], a);
		counts[a->verdict]++;
	}
	free(a);
	printf("\n  %zu devices: %u ready, %u degraded, %u unsafe. `hqio inspect -v BDF` explains one.\n",
	       sys->n, counts[HQIO_LEVEL_OK] + counts[HQIO_LEVEL_NOTE], counts[HQIO_LEVEL_DEGRADED],
	       counts[HQIO_LEVEL_UNSAFE]);
	return 0;
}

static void demo_malformed(const struct hqio_system *sys)
{
	step(2, "malformed configuration space is caught, never trusted");
	const struct hqio_pci_node *src = NULL;
	for (size_t i = 0; i < sys->n && !src; i++)
		if (sys->nodes[i].info && sys->nodes[i].decode_rc == 0 && sys->nodes[i].info->std.n >= 2)
			src = &sys->nodes[i];
	if (!src) {
		printf("  no device here has two or more capabilities to corrupt; skipped\n");
		return;
	}
	struct hqio_pci_info *info = malloc(sizeof(*info));
	uint8_t *cfg = malloc(HQIO_PCI_CFG_EXP_SIZE);
	if (!info || !cfg) {
		free(info);
		free(cfg);
		return;
	}
	char b[HQIO_BDF_STR_MAX];
	const struct hqio_pci_cap_list *l = &src->info->std;
	memcpy(cfg, src->cfg, HQIO_PCI_CFG_EXP_SIZE);
	/* Point the last capability back at the first: a loop. */
	uint16_t last = l->caps[l->n - 1].offset, first = l->caps[0].offset;
	cfg[last + 1] = (uint8_t)first;
	struct hqio_error err = {0};
	int rc = hqio_pci_decode(cfg, src->cfg_len, NULL, info, &err);
	printf("  copy of %s with its last capability [%02x] pointing back to [%02x]:\n",
	       hqio_bdf_format(src->bdf, b, sizeof(b)), last, first);
	printf("    decode -> %s (%d); %u capabilities kept before the defect\n",
	       rc ? err.msg : "accepted (BUG)", rc, info->std.n);
	memset(cfg, 0xff, HQIO_PCI_CFG_EXP_SIZE);
	rc = hqio_pci_decode(cfg, HQIO_PCI_CFG_EXP_SIZE, NULL, info, &err);
	printf("  an absent device (every byte 0xff):\n    decode -> %s (%d)\n",
	       rc ? err.msg : "accepted (BUG)", rc);
	free(info);
	free(cfg);
}

int cmd_demo(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: hqio demo\n\nA guided tour of hqio's capabilities on this machine.\n");
		return HQIO_EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "hqio demo: unexpected argument '%s'\n", argv[1]);
		return HQIO_EXIT_USAGE;
	}
	struct hqio_system sys = {0};
	struct hqio_names names;
	hqio_names_load(&names);
	printf("hqio demo: high-quality direct I/O, one capability per step.\n");
	int rc = demo_inspect(&sys, &names);
	if (rc == 0)
		demo_malformed(&sys);
	printf("\nMore steps (reset, interrupts, DMA, memory types, holes, audio) arrive as they land.\n");
	hqio_system_free(&sys);
	hqio_names_free(&names);
	return rc == 0 ? HQIO_EXIT_OK : HQIO_EXIT_FAIL;
}
