/*
 * hqio demo step: the static driver-virtualization-hole scanner on a small
 * NIC driver written here, run live through lib/dvh (include/hqio/dvh_scan.h).
 * Shows a use (function number into the MAC address, a register write, a
 * parent-bridge config write) next to a mention (the same number in a log
 * message) that is not reported.
 */
#include "hqio/dvh_scan.h"

#include <stdio.h>
#include <string.h>

#include "demo_steps.h"

static const char demo_src[] =
	"static void nic_init_port(struct nic *n, u8 *mac)\n"
	"{\n"
	"\tint fn = PCI_FUNC(n->pdev->devfn);\n"
	"\n"
	"\tdev_info(&n->pdev->dev, \"port %d\\n\", fn);   /* a mention */\n"
	"\tmac[5] ^= fn;                                  /* a use: MAC */\n"
	"\twritel(fn << 4, n->mmio + NIC_PORT_SEL);       /* a use: register */\n"
	"}\n"
	"\n"
	"static void nic_no_aspm(struct pci_dev *pdev)\n"
	"{\n"
	"\tpcie_capability_clear_word(pdev->bus->self, PCI_EXP_LNKCTL, 3);\n"
	"}\n";

void demo_step_dvh_scan(int n)
{
	struct hqio_dvh_result r = { 0 };

	printf("\n== Step %d: %s ==\n", n, "find driver virtualization holes in driver sources");
	printf("A driver written for this demo (13 lines):\n");
	const char *p = demo_src;
	for (int line = 1; *p; line++) {
		const char *e = strchr(p, '\n');
		int len = e ? (int)(e - p) : (int)strlen(p);
		printf("  %2d  %.*s\n", line, len, p);
		p += len + (e != NULL);
	}
	if (hqio_dvh_scan_buffer(demo_src, sizeof(demo_src) - 1, NULL, &r)) {
		printf("scan failed: out of memory\n");
		hqio_dvh_result_free(&r);
		return;
	}
	printf("Findings (the log line 5 is a mention, not a hole):\n");
	for (size_t k = 0; k < r.n; k++)
		printf("  demo.c:%u: %s: %s in %s()%s\n", r.v[k].line,
		       hqio_dvh_rule_name(r.v[k].rule), r.v[k].expr, r.v[k].func,
		       r.v[k].more_uses ? " (+ more uses in the function)" : "");
	if (r.n)
		printf("  why (first): %s\n", r.v[0].why);
	hqio_dvh_result_free(&r);
	printf("Try: hqio dvh-scan "
	       "$(scripts/fetch-linux-source.sh)/drivers/net/ethernet/intel/e1000e\n");
}
