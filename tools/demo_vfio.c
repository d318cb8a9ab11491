/*
 * hqio demo step: the Linux VFIO backend (host/vfio.c), computed live on
 * this machine: can a VFIO container be opened, and what stands between
 * each PCI function and assignment (IOMMU group, driver, viability). On a
 * machine without an IOMMU the answers are the errors a user would see;
 * the real device checks run in the QEMU test bed.
 */
#include "sysfs.h"
#include "vfio.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "demo_steps.h"

#define DEMO_MAX_FNS 6

void demo_step_vfio(int n)
{
	printf("\n== Step %d: %s ==\n", n, "real devices through Linux VFIO");
	printf("hqio's lib/ code (reset, reclaim, interrupts) runs on real PCI functions\n"
	       "through host/vfio.c, which implements the same host_ops table as the "
	       "simulator.\n\n");

	struct hqio_vfio *v = NULL;
	struct hqio_error err = { 0 };
	int rc = hqio_vfio_open(NULL, &v, &err);
	printf("VFIO container on this machine: %s\n", rc ? err.msg : "opened (TYPE1v2 IOMMU)");
	hqio_vfio_close(v);

	/* Each distinct verdict once, with how many functions get it. */
	struct {
		char msg[HQIO_ERROR_MSG_MAX], first[HQIO_BDF_STR_MAX];
		unsigned count;
	} verdict[DEMO_MAX_FNS];
	unsigned nv = 0, total = 0, other = 0;
	DIR *d = opendir(HQIO_SYSFS_PCI_DEVICES);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		struct hqio_bdf bdf;
		if (hqio_bdf_parse(de->d_name, &bdf) != 0)
			continue;
		total++;
		int g = -1;
		struct hqio_error e = { 0 };
		if (hqio_vfio_check_assignable(NULL, bdf, &g, &e) == 0)
			snprintf(e.msg, sizeof(e.msg), "ready: on vfio-pci, IOMMU group %d viable",
				 g);
		unsigned i = 0;
		while (i < nv && strcmp(verdict[i].msg, e.msg) != 0)
			i++;
		if (i == nv && nv == DEMO_MAX_FNS) {
			other++;
			continue;
		}
		if (i == nv) {
			snprintf(verdict[nv].msg, sizeof(verdict[nv].msg), "%s", e.msg);
			snprintf(verdict[nv].first, sizeof(verdict[nv].first), "%s", de->d_name);
			verdict[nv++].count = 0;
		}
		verdict[i].count++;
	}
	if (d)
		closedir(d);
	printf("Assignability of the %u PCI functions here:\n", total);
	for (unsigned i = 0; i < nv; i++)
		printf("  %u function(s), e.g. %s: %s\n", verdict[i].count, verdict[i].first,
		       verdict[i].msg);
	if (other)
		printf("  %u more with other verdicts\n", other);

	printf("\nThe QEMU test bed (VT-d IOMMU, edu, e1000e, nvme) checks the same code on\n"
	       "devices: BAR access, MSI and INTx, DMA through the IOMMU and a blocked one,\n"
	       "verified resets (nvme FLR; e1000e PM must be caught not resetting), and the\n"
	       "reclaim race in the naive order (leaks) and in hqio's (must not).\n");
	printf("Try: hqio vfio info <BDF>   |   bash testbed/run.sh --tests vfio_edu,vfio_reset\n");
}
