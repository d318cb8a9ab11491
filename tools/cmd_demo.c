/*
 * hqio demo: a guided tour of what has landed, each step on this machine.
 * Step 1 inspects the live PCI devices; step 2 shows a malformed
 * capability list being caught, on a copy of a real device's image.
 */
#include "commands.h"
#include "names.h"
#include "sysfs.h"

#include "devices/devices.h"
#include "reclaim.h"
#include "sim.h"

#include "hqio/irq.h"
#include "hqio/memtype.h"
#include "hqio/reset.h"
#include "hqio/vpci.h"

#include "hqio/cfgbuild.h"
#include "hqio/inspect.h"
#include "demo_steps.h"

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
						 used ? "," : "",
						 hqio_reset_name(a->resets[k].kind));
	printf("  %s  %-36.36s  irq:%s%s%s  reset:%-10s  %s\n",
	       hqio_bdf_format(n->bdf, b, sizeof(b)), dn, a->intx ? " INTx" : "",
	       a->msi ? " MSI" : "", a->msix ? " MSI-X" : "", used ? resets : "none",
	       hqio_verdict_str(a->verdict));
	for (unsigned i = 0; i < a->n_reasons; i++)
		if (a->reasons[i].level >= HQIO_LEVEL_DEGRADED)
			printf("      %-8s %s\n", hqio_level_str(a->reasons[i].level),
			       a->reasons[i].text);
}

static int demo_inspect(struct hqio_system *sys, const struct hqio_names *names)
{
	struct hqio_error err = { 0 };
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
	unsigned counts[HQIO_LEVEL_UNSAFE + 1] = { 0 };
	for (size_t i = 0; i < sys->n; i++) {
		hqio_assess(sys, &sys->nodes[i], a);
		summary_line(names, &sys->nodes[i], a);
		counts[a->verdict]++;
	}
	free(a);
	printf("\n  %zu devices: %u ready, %u degraded, %u unsafe. `hqio inspect -v BDF` explains "
	       "one.\n",
	       sys->n, counts[HQIO_LEVEL_OK] + counts[HQIO_LEVEL_NOTE], counts[HQIO_LEVEL_DEGRADED],
	       counts[HQIO_LEVEL_UNSAFE]);
	return 0;
}

static void demo_malformed(const struct hqio_system *sys)
{
	step(2, "malformed configuration space is caught, never trusted");
	const struct hqio_pci_node *src = NULL;
	for (size_t i = 0; i < sys->n && !src; i++)
		if (sys->nodes[i].info && sys->nodes[i].decode_rc == 0 &&
		    sys->nodes[i].info->std.n >= 2)
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
	struct hqio_error err = { 0 };
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

/* Reference machine: the device kinds hqio must judge, built in memory. */
struct ref_dev {
	uint8_t bus, dev;
	int group;
	const char *what;
	void (*build)(struct hqio_cfgb *b);
};

static void ref_host_bridge(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x8086, 0x29c0, 0x060000, 0);
}

static void ref_root_port(struct hqio_cfgb *b, uint8_t sec)
{
	hqio_cfgb_init(b, 0x8086, 0x29c8, 0x060400, HQIO_PCI_HEADER_TYPE_BRIDGE);
	hqio_cfgb_w8(b, HQIO_PCI_SECONDARY_BUS, sec);
	hqio_cfgb_w8(b, HQIO_PCI_SUBORDINATE_BUS, (uint8_t)(sec + 1));
	hqio_cfgb_cap(b, 0x40, HQIO_PCI_CAP_ID_EXP);
	hqio_cfgb_w16(b, 0x40 + HQIO_PCI_EXP_FLAGS, 0x0042); /* v2 root port */
	hqio_cfgb_ext(b, 0x100, HQIO_PCI_EXT_CAP_ID_ACS, 1);
	hqio_cfgb_w16(b, 0x100 + HQIO_PCI_ACS_CAP, 0x001f);
	hqio_cfgb_w16(b, 0x100 + HQIO_PCI_ACS_CTRL, HQIO_PCI_ACS_ISOLATION);
}

static void ref_rp1(struct hqio_cfgb *b)
{
	ref_root_port(b, 1);
}

static void ref_rp2(struct hqio_cfgb *b)
{
	ref_root_port(b, 2);
}

static void ref_nvme(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x1b36, 0x0010, 0x010802, 0);
	hqio_cfgb_cap(b, 0x40, HQIO_PCI_CAP_ID_PM);
	hqio_cfgb_w16(b, 0x40 + HQIO_PCI_PM_CTRL, HQIO_PCI_PM_CTRL_NO_SOFT_RESET);
	hqio_cfgb_cap(b, 0x60, HQIO_PCI_CAP_ID_MSIX);
	hqio_cfgb_w16(b, 0x60 + HQIO_PCI_MSIX_FLAGS, 64); /* 65 vectors */
	hqio_cfgb_cap(b, 0x80, HQIO_PCI_CAP_ID_EXP);
	hqio_cfgb_w16(b, 0x80 + HQIO_PCI_EXP_FLAGS, 0x0002);
	hqio_cfgb_w32(b, 0x80 + HQIO_PCI_EXP_DEVCAP, HQIO_PCI_EXP_DEVCAP_FLR);
	hqio_cfgb_ext(b, 0x100, HQIO_PCI_EXT_CAP_ID_ATS, 1);
	hqio_cfgb_w16(b, 0x100 + HQIO_PCI_ATS_CTRL, HQIO_PCI_ATS_CTRL_ENABLE);
}

static void ref_pcie_to_pci(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x1b36, 0x000e, 0x060400, HQIO_PCI_HEADER_TYPE_BRIDGE);
	hqio_cfgb_w8(b, HQIO_PCI_SECONDARY_BUS, 3);
	hqio_cfgb_w8(b, HQIO_PCI_SUBORDINATE_BUS, 3);
	hqio_cfgb_cap(b, 0x40, HQIO_PCI_CAP_ID_EXP);
	hqio_cfgb_w16(b, 0x40 + HQIO_PCI_EXP_FLAGS, 0x0072); /* PCIe-to-PCI bridge */
}

static void ref_legacy_nic(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x10ec, 0x8139, 0x020000, 0);
	hqio_cfgb_w32(b, HQIO_PCI_BASE_ADDRESS_0, 0xc001);
	hqio_cfgb_w8(b, HQIO_PCI_INTERRUPT_PIN, 1);
}

static void ref_igpu(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x8086, 0x0412, 0x030000, 0);
	hqio_cfgb_cap(b, 0x90, HQIO_PCI_CAP_ID_MSI);
	hqio_cfgb_cap(b, 0xd0, HQIO_PCI_CAP_ID_PM);
	hqio_cfgb_cap(b, 0xa4, HQIO_PCI_CAP_ID_AF);
	hqio_cfgb_w8(b, 0xa4 + HQIO_PCI_AF_CAP, HQIO_PCI_AF_CAP_TP | HQIO_PCI_AF_CAP_FLR);
	hqio_cfgb_cap(b, 0x40, HQIO_PCI_CAP_ID_EXP);
	hqio_cfgb_w16(b, 0x40 + HQIO_PCI_EXP_FLAGS, 0x0092); /* RC integrated endpoint */
	hqio_cfgb_w16(b, 0x40 + HQIO_PCI_EXP_DEVCTL, HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN);
}

static void demo_reference(const struct hqio_names *names)
{
	static const struct ref_dev devs[] = {
		{ 0, 0x00, 0, "host bridge", ref_host_bridge },
		{ 0, 0x02, 1, "integrated GPU, AF FLR, No Snoop on", ref_igpu },
		{ 0, 0x1c, 2, "root port with ACS", ref_rp1 },
		{ 1, 0x00, 3, "NVMe, FLR, MSI-X, ATS on", ref_nvme },
		{ 0, 0x1d, 4, "root port with ACS", ref_rp2 },
		{ 2, 0x00, 5, "PCIe-to-PCI bridge", ref_pcie_to_pci },
		{ 3, 0x01, 5, "conventional NIC, INTx only", ref_legacy_nic },
	};
	struct hqio_system sys = { 0 };
	struct hqio_pci_node *node = calloc(1, sizeof(*node));
	struct hqio_assessment *a = malloc(sizeof(*a));
	struct hqio_cfgb *b = malloc(sizeof(*b));

	step(3, "the same judgement on a reference machine built in memory");
	printf("Device kinds this machine lacks: FLR and AF FLR, ATS, No Snoop, a legacy\n"
	       "device whose IOMMU group it shares with its PCIe-to-PCI bridge.\n\n");
	for (size_t i = 0; node && a && b && i < sizeof(devs) / sizeof(devs[0]); i++) {
		memset(node, 0, sizeof(*node));
		devs[i].build(b);
		memcpy(node->cfg, b->cfg, sizeof(node->cfg));
		node->cfg_len = HQIO_PCI_CFG_EXP_SIZE;
		node->bdf = (struct hqio_bdf){ .bus = devs[i].bus, .dev = devs[i].dev };
		node->iommu_known = true;
		node->iommu_group = devs[i].group;
		if (!hqio_system_add(&sys, node))
			break;
	}
	if (node && a && b && hqio_system_decode(&sys, NULL) == 0) {
		for (size_t i = 0; i < sys.n; i++) {
			hqio_assess(&sys, &sys.nodes[i], a);
			summary_line(names, &sys.nodes[i], a);
			for (unsigned k = 0; k < a->n_reasons; k++)
				if (a->reasons[k].level == HQIO_LEVEL_NOTE)
					printf("      %-8s %s\n", "note", a->reasons[k].text);
		}
	}
	hqio_system_free(&sys);
	free(node);
	free(a);
	free(b);
}

static uint32_t demo_cfg16(struct sim_platform *p, struct sim_fn *f, uint16_t off)
{
	uint32_t v;
	sim_cfg_read(p, sim_fn_bdf(f), off, 2, &v);
	return v;
}

static void demo_sim_reset(struct sim_platform *p, struct sim_reference *ref)
{
	struct sim_fn *nv = ref->nvme, *rp = ref->rp[0];
	struct hqio_bdf b = sim_fn_bdf(nv);
	char bs[HQIO_BDF_STR_MAX];
	uint64_t t0;

	printf("\n  FLR of the NVMe-like controller %s, CRS Software Visibility on at its root "
	       "port:\n",
	       hqio_bdf_format(b, bs, sizeof(bs)));
	sim_cfg_write(p, sim_fn_bdf(rp), rp->exp + HQIO_PCI_EXP_RTCTL, 2,
		      HQIO_PCI_EXP_RTCTL_CRSSVE);
	uint32_t dc = demo_cfg16(p, nv, nv->exp + HQIO_PCI_EXP_DEVCTL);
	sim_cfg_write(p, b, nv->exp + HQIO_PCI_EXP_DEVCTL, 2, dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	t0 = p->eng.now_ns;
	static const unsigned at_ms[] = { 0, 50, 99, 100 };
	for (size_t i = 0; i < sizeof(at_ms) / sizeof(at_ms[0]); i++) {
		sim_run_until(&p->eng, t0 + at_ms[i] * SIM_NS_PER_MS);
		uint32_t vid = demo_cfg16(p, nv, 0);
		printf("    t+%3u ms  Vendor ID reads 0x%04x%s\n", at_ms[i], vid,
		       vid == 0x0001 ? "  (Configuration Request Retry Status: not ready)" : "");
	}

	printf("  Secondary bus reset below the 8 GT/s root port (held 1 ms):\n");
	uint32_t bc = demo_cfg16(p, rp, HQIO_PCI_BRIDGE_CONTROL);
	sim_cfg_write(p, sim_fn_bdf(rp), HQIO_PCI_BRIDGE_CONTROL, 2,
		      bc | HQIO_PCI_BRIDGE_CTL_BUS_RESET);
	sim_run_for(&p->eng, SIM_T_RST_MIN_NS);
	sim_cfg_write(p, sim_fn_bdf(rp), HQIO_PCI_BRIDGE_CONTROL, 2, bc);
	t0 = p->eng.now_ns;
	uint64_t link = 0, ready = 0;
	for (uint64_t t = 0; t <= 200 * SIM_NS_PER_MS && !ready; t += SIM_NS_PER_MS) {
		sim_run_until(&p->eng, t0 + t);
		if (!link &&
		    (demo_cfg16(p, rp, rp->exp + HQIO_PCI_EXP_LNKSTA) & HQIO_PCI_EXP_LNKSTA_DLLLA))
			link = t;
		if (demo_cfg16(p, nv, 0) == SIM_NVME_VENDOR)
			ready = t;
	}
	printf("    Data Link Layer Link Active after %llu ms, device ready after %llu ms "
	       "(100 ms after link up, PCIe 5.0 §6.6.1)\n",
	       (unsigned long long)(link / SIM_NS_PER_MS),
	       (unsigned long long)(ready / SIM_NS_PER_MS));
}

static const char *rcs(int rc)
{
	return rc == 0 ? "ok" : rc == -EPERM ? "EPERM" : rc == -EFAULT ? "EFAULT" : "error";
}

static void demo_sim_dma(struct sim_platform *p, struct sim_reference *ref)
{
	struct sim_fn *nv = ref->nvme;
	struct hqio_bdf b = sim_fn_bdf(nv);
	uint8_t buf[64];
	memset(buf, 0xa5, sizeof(buf));

	printf("\n  DMA through the IOMMU (domain keyed by requester ID 0x%04x):\n",
	       sim_requester_id(nv));
	int d = sim_iommu_domain_new(p);
	uint64_t page = sim_mem_alloc(p, 1, d);
	sim_iommu_attach(p, sim_requester_id(nv), d);
	sim_cfg_write(p, b, HQIO_PCI_COMMAND, 2, 0);
	printf("    Bus Master off, DMA to IOVA 0x10000           -> %s (blocked before it leaves "
	       "the device)\n",
	       rcs(sim_dma_write(nv, 0x10000, buf, sizeof(buf))));
	sim_cfg_write(p, b, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	int rc = sim_dma_write(nv, 0x10000, buf, sizeof(buf));
	const struct sim_fault_rec *fr = &p->faults[(p->n_faults - 1) % SIM_FAULT_LOG];
	printf("    Bus Master on, IOVA 0x10000 not mapped        -> %s, IOMMU fault: rid 0x%04x "
	       "iova 0x%llx (%s)\n",
	       rcs(rc), fr->rid, (unsigned long long)fr->iova, fr->why);
	sim_iommu_map(p, d, 0x10000, page, SIM_PAGE_SIZE, HQIO_DMA_READ | HQIO_DMA_WRITE);
	rc = sim_dma_write(nv, 0x10000, buf, sizeof(buf));
	printf("    mapped to host page 0x%06llx                 -> %s, lands in memory owned by "
	       "domain %d\n",
	       (unsigned long long)page, rcs(rc), sim_mem_owner(p, page));
	/* ATS: the device caches the translation and keeps using it. */
	uint16_t actl = (uint16_t)demo_cfg16(p, nv, nv->ats + HQIO_PCI_ATS_CTRL);
	sim_cfg_write(p, b, nv->ats + HQIO_PCI_ATS_CTRL, 2, actl | HQIO_PCI_ATS_CTRL_ENABLE);
	sim_dma_write(nv, 0x10000, buf, sizeof(buf));
	sim_iommu_unmap(p, d, 0x10000, SIM_PAGE_SIZE);
	sim_mem_set_owner(p, page, SIM_PAGE_SIZE, -1); /* the page goes back to the host */
	uint64_t fw = nv->dma.foreign_writes;
	rc = sim_dma_write(nv, 0x10000, buf, sizeof(buf));
	printf("    ATS on; unmapped, page reclaimed, no ATS inval -> %s: the stale translation "
	       "wrote\n"
	       "                                                    into reclaimed memory (%llu "
	       "foreign write)\n",
	       rcs(rc), (unsigned long long)(nv->dma.foreign_writes - fw));
	sim_ats_invalidate(nv, 0, 0);
	printf("    after ATS invalidation                        -> %s (IOMMU fault)\n",
	       rcs(sim_dma_write(nv, 0x10000, buf, sizeof(buf))));
}

static void demo_sim(const struct hqio_names *names)
{
	step(4, "the simulated PCIe platform (hqio sim topo)");
	printf("Everything hqio does runs first on a platform model that follows the PCI/PCIe\n"
	       "specifications in virtual time; `hqio sim topo` prints it as `hqio inspect`\n"
	       "prints a real machine.\n\n");
	struct sim_platform *p = sim_platform_new(1, 16ULL << 20);
	struct sim_reference ref;
	struct hqio_system sys = { 0 };
	struct hqio_assessment *a = malloc(sizeof(*a));
	if (!p || !a || sim_build_reference_ex(p, &ref) != 0 || sim_snapshot(p, &sys) != 0) {
		printf("  cannot build the simulated machine\n");
		goto out;
	}
	for (size_t i = 0; i < sys.n; i++) {
		hqio_assess(&sys, &sys.nodes[i], a);
		summary_line(names, &sys.nodes[i], a);
	}
	demo_sim_reset(p, &ref);
	demo_sim_dma(p, &ref);
	printf("\n  virtual time now %.3f s, %llu events, trace hash %016llx (same seed, same "
	       "run)\n",
	       (double)p->eng.now_ns / 1e9, (unsigned long long)p->eng.executed,
	       (unsigned long long)p->eng.trace_hash);
out:
	hqio_system_free(&sys);
	free(a);
	sim_platform_free(p);
}

static int demo_owner_same_group(void *arg, struct hqio_bdf bdf)
{
	(void)arg;
	(void)bdf;
	return 1; /* in the demo every function goes to one owner */
}

static void demo_reset(void)
{
	step(5, "known device state: reset plan, verified reset, safe reclaim");
	printf("Every assignment and reclaim quiesces the device, resets it with the\n"
	       "specification's delays, proves the reset with canaries, and falls back to the\n"
	       "next method (or quarantines the device) when a reset does nothing.\n\n");
	struct sim_platform *p = sim_platform_new(1, 16ULL << 20);
	struct sim_reference ref;
	struct hqio_system sys = { 0 };
	struct hqio_host_ops ops;
	struct sim_fn *broken_pm = NULL, *broken_flr = NULL;
	if (!p || sim_build_reference_ex(p, &ref) != 0)
		goto out;
	/* Faulty variants next to the catalogue: a NIC whose D3hot->D0 resets
	 * nothing, an NVMe whose FLR never completes. */
	struct sim_fn *rp_a = sim_add_root_port(p, 0x1d, 0, 2),
		      *rp_b = sim_add_root_port(p, 0x1d, 1, 2);
	if (rp_a)
		broken_pm = sim_dev_nic(p, rp_a, 0, 0, SIM_FAULT_PM_NO_RESET);
	if (rp_b) {
		struct sim_nvme_opts nv = { .faults = SIM_FAULT_FLR_NEVER_COMPLETES };
		broken_flr = sim_dev_nvme_ex(p, rp_b, 0, 0, &nv);
	}
	sim_enumerate(p);
	sim_host_ops(p, &ops);
	if (!broken_pm || !broken_flr || sim_snapshot(p, &sys) != 0)
		goto out;
	const struct {
		const char *what;
		struct sim_fn *f;
	} devs[] = {
		{ "NVMe-like", ref.nvme },
		{ "NIC-like, function 0", ref.nic[0] },
		{ "conventional NIC behind the PCI bridge", ref.legacy23 },
		{ "GPU-like", ref.gpu },
		{ "edu-like on the root bus", ref.edu },
		{ "NIC whose D3hot->D0 resets nothing", broken_pm },
		{ "NVMe whose FLR never completes", broken_flr },
	};
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		struct hqio_reset_plan plan;
		struct hqio_reset_result res;
		struct hqio_error err = { 0 };
		struct hqio_plan_input in = {
			.sys = &sys,
			.node = hqio_system_find(&sys, sim_fn_bdf(devs[i].f)),
			.owner = 1,
			.owner_of = demo_owner_same_group,
			.force = true,
		};
		char b[HQIO_BDF_STR_MAX];
		if (!in.node || hqio_reset_plan(&in, &plan, &err) < 0)
			continue;
		printf("  %s %s\n    plan:", hqio_bdf_format(plan.bdf, b, sizeof(b)), devs[i].what);
		for (unsigned k = 0; k < plan.n_methods; k++)
			printf(" %s", hqio_reset_method_name(plan.methods[k]));
		printf("%s; quiesce by %s\n", plan.n_methods ? "" : " none",
		       hqio_idle_kind_name(plan.idle));
		uint64_t t0 = p->eng.now_ns;
		int rc = hqio_reset_execute(&ops, &plan, NULL, NULL, &res, &err);
		printf("    result: %s (%.0f ms of virtual time)\n",
		       rc == 0 && !res.quarantined ? hqio_reset_method_name(res.used) : res.msg,
		       (double)(p->eng.now_ns - t0) / 1e6);
		for (unsigned k = 0; k < res.n_attempts; k++)
			if (res.attempts[k].rc)
				printf("      %s failed: %s\n",
				       hqio_reset_method_name(res.attempts[k].method),
				       res.attempts[k].note);
	}
	printf("\n  Reclaim with DMA in flight (hqio sim reclaim --runs 2000):\n");
	for (int naive = 0; naive < 2; naive++) {
		struct sim_reclaim_opts o = { .runs = 2000, .seed = 1, .naive = naive };
		struct sim_reclaim_stats *st = calloc(1, sizeof(*st));
		char msg[200] = "";
		if (st && sim_reclaim_run(&o, st, msg, sizeof(msg)) == 0)
			printf("    %-38s %5llu reassignments, %4llu with DMA in flight, %4llu "
			       "stray "
			       "writes\n",
			       naive ? "naive (free memory first, no idle check)" : "hqio order",
			       (unsigned long long)st->runs, (unsigned long long)st->in_flight,
			       (unsigned long long)st->stray_writes);
		free(st);
	}
out:
	hqio_system_free(&sys);
	sim_platform_free(p);
}

struct demo_guest {
	uint64_t msi[256];
	uint64_t wrong;
};

static void demo_inject(void *arg, uint64_t addr, uint32_t data)
{
	struct demo_guest *g = arg;
	if ((addr & 0xfff00000u) == 0xfee00000u)
		g->msi[data & 0xff]++;
	else
		g->wrong++;
}

static void demo_intx(void *arg, bool level)
{
	(void)arg;
	(void)level;
}

static void demo_vpci(void)
{
	step(6, "the guest's view: virtual configuration space and interrupt remapping");
	printf("The guest sees its device exactly as on bare metal at the standard interfaces;\n"
	       "BARs, MSI/MSI-X, Command, PM and FLR are emulated, device registers pass\n"
	       "through, and the guest's interrupt programming never reaches hardware.\n\n");
	struct sim_platform *p = sim_platform_new(3, 16ULL << 20);
	struct sim_reference ref;
	struct hqio_host_ops ops, gops;
	struct hqio_irq *irq = calloc(1, sizeof(*irq));
	struct hqio_vpci *v = calloc(1, sizeof(*v));
	struct hqio_pci_info *info = malloc(sizeof(*info));
	struct demo_guest g = { 0 };
	uint8_t *img = calloc(1, HQIO_PCI_CFG_EXP_SIZE);
	if (!p || !irq || !v || !info || !img || sim_build_reference_ex(p, &ref) != 0)
		goto out;
	sim_host_ops(p, &ops);
	struct sim_fn *nv = ref.nvme;
	struct hqio_bdf hb = sim_fn_bdf(nv), gb = { .bus = 0, .dev = 5, .fn = 0 };
	for (uint16_t off = 0; off < HQIO_PCI_CFG_EXP_SIZE; off += 4)
		ops.cfg_read(ops.ctx, hb, off, 4, (uint32_t *)(img + off));
	hqio_pci_decode(img, HQIO_PCI_CFG_EXP_SIZE, NULL, info, NULL);
	/* The host assigned BAR0 before handing the device over. */
	ops.cfg_write(ops.ctx, hb, HQIO_PCI_BASE_ADDRESS_0, 4, 0xfe800004);
	ops.cfg_write(ops.ctx, hb, HQIO_PCI_BASE_ADDRESS_0 + 4, 4, 0);
	struct hqio_irq_config ic = {
		.ops = &ops,
		.bdf = hb,
		.guest = { .arg = &g, .inject_msi = demo_inject, .set_intx = demo_intx },
		.intx_disable_supported = true,
		.host_page_size = 4096,
	};
	hqio_irq_config_from_info(&ic, info);
	struct hqio_error err = { 0 };
	if (hqio_irq_init(irq, &ic, &err)) {
		printf("  irq: %s\n", err.msg);
		goto out;
	}
	struct hqio_vpci_config vc = {
		.ops = &ops,
		.host_bdf = hb,
		.guest_bdf = gb,
		.irq = irq,
		.allow_bus_master = true,
	};
	if (hqio_vpci_init(v, &vc, &err)) {
		printf("  vpci: %s\n", err.msg);
		goto out;
	}
	hqio_vpci_guest_ops(v, &gops);
	char hs[HQIO_BDF_STR_MAX], gs[HQIO_BDF_STR_MAX];
	printf("  NVMe-like %s is the guest's %s\n", hqio_bdf_format(hb, hs, sizeof(hs)),
	       hqio_bdf_format(gb, gs, sizeof(gs)));
	/* The guest sizes and programs BAR0. */
	uint32_t lo;
	gops.cfg_write(gops.ctx, gb, 0x10, 4, 0xffffffff);
	gops.cfg_read(gops.ctx, gb, 0x10, 4, &lo);
	gops.cfg_write(gops.ctx, gb, 0x10, 4, 0xc0000004);
	uint32_t glo, hlo;
	gops.cfg_read(gops.ctx, gb, 0x10, 4, &glo);
	ops.cfg_read(ops.ctx, hb, 0x10, 4, &hlo);
	printf("  guest sizes BAR0: reads 0x%08x (16 KiB); programs 0xc0000004 -> guest reads "
	       "0x%08x, host BAR0 stays 0x%08x\n",
	       lo, glo, hlo);
	/* The guest enables memory + Bus Master and MSI-X, programs entry 0 for
	 * its vector 0x45 and entry 1 with an address inside host memory. */
	gops.cfg_write(gops.ctx, gb, HQIO_PCI_COMMAND, 2,
		       HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	uint16_t mx = info->msix.offset;
	gops.cfg_write(gops.ctx, gb, mx + HQIO_PCI_MSIX_FLAGS, 2, HQIO_PCI_MSIX_FLAGS_ENABLE);
	uint64_t t = info->msix.table_offset;
	gops.bar_write(gops.ctx, gb, 0, t + 0, 4, 0xfee00000);
	gops.bar_write(gops.ctx, gb, 0, t + 8, 4, 0x45);
	gops.bar_write(gops.ctx, gb, 0, t + 12, 4, 0);
	gops.bar_write(gops.ctx, gb, 0, t + 16, 4, 0x00001000); /* hostile: host memory */
	gops.bar_write(gops.ctx, gb, 0, t + 24, 4, 0x99);
	gops.bar_write(gops.ctx, gb, 0, t + 28, 4, 0);
	uint64_t phys0, phys1;
	sim_bar_read(p, hb, info->msix.table_bir, t + 0, 4, &phys0);
	sim_bar_read(p, hb, info->msix.table_bir, t + 16, 4, &phys1);
	printf("  guest MSI-X entry 1 -> 0x00001000 (host memory): the device's table holds "
	       "0x%08llx "
	       "/ 0x%08llx (host vectors)\n",
	       (unsigned long long)phys0, (unsigned long long)phys1);
	/* Guest RAM at IOVA = guest-physical 0x100000, then a DMA through the
	 * device's doorbell, completed by MSI-X vector 0. */
	uint64_t ram = sim_mem_alloc(p, 1, -1);
	ops.dma_map(ops.ctx, hb, 0x100000, ram, SIM_PAGE_SIZE, HQIO_DMA_READ | HQIO_DMA_WRITE);
	gops.bar_write(gops.ctx, gb, 0, SIM_NVME_DMA_ADDR_LO, 4, 0x100000);
	gops.bar_write(gops.ctx, gb, 0, SIM_NVME_DMA_LEN, 4, 64);
	gops.bar_write(gops.ctx, gb, 0, SIM_NVME_DMA_PATTERN, 4, 0x30);
	gops.bar_write(gops.ctx, gb, 0, SIM_NVME_DMA_DOORBELL, 4, 1);
	sim_run_for(&p->eng, SIM_NS_PER_MS);
	uint8_t first = 0;
	sim_mem_read(p, ram, &first, 1);
	printf("  guest DMA through the IOMMU: guest RAM byte 0 = 0x%02x; completion interrupt: "
	       "guest vector 0x45 x%llu, misdirected %llu\n",
	       first, (unsigned long long)g.msi[0x45], (unsigned long long)g.wrong);
	printf("  vpci: %llu reads, %llu writes, %llu bytes passed through, %llu guest bits "
	       "filtered; irq: %llu host -> %llu guest\n",
	       (unsigned long long)v->stats.reads, (unsigned long long)v->stats.writes,
	       (unsigned long long)v->stats.passed_through, (unsigned long long)v->stats.filtered,
	       (unsigned long long)irq->stats.host_irqs, (unsigned long long)irq->stats.delivered);
	hqio_vpci_fini(v);
	hqio_irq_fini(irq);
out:
	free(img);
	free(info);
	free(v);
	free(irq);
	sim_platform_free(p);
}

static void demo_memtype(void)
{
	step(7, "memory types: the guest's caching intent must reach the host page tables");
	printf("A device doing No-Snoop DMA reads memory, not the CPU cache: a descriptor the\n"
	       "guest maps UC or WC must not end up write-back in the host's mapping. What each\n"
	       "design gives a guest whose MTRR says WB (host MTRR WB, Linux host PAT):\n\n");
	printf("  %-6s %-42s %-8s %s\n", "guest", "design", "CPU type",
	       "device sees the guest's data?");
	static const enum hqio_memtype intents[] = { HQIO_MT_UC, HQIO_MT_WC };
	for (size_t i = 0; i < 2; i++) {
		enum hqio_memtype gp = intents[i];
		struct hqio_shadow_input si;
		struct hqio_shadow_result sr;
		hqio_shadow_input_init(&si);
		si.guest_pat = gp;
		si.host_pat = HQIO_PAT_LINUX;
		if (hqio_shadow_propagate(&si, &sr) == 0)
			printf("  %-6s %-42s %-8s %s (host PAT entry %u)\n", hqio_memtype_name(gp),
			       "shadow paging, propagated (2009)",
			       hqio_memtype_name(sr.host_effective), sr.exact ? "yes" : "no",
			       sr.pat_index);
		printf("  %-6s %-42s %-8s %s\n", "", "host maps it WB (no propagation)", "WB",
		       gp == HQIO_MT_WB ? "yes" : "no: stale");
		for (int nc = 0; nc < 2; nc++) {
			struct hqio_ept_input ei;
			struct hqio_vm_memtype_result er;
			hqio_ept_input_init(&ei);
			ei.guest_pat = gp;
			ei.noncoherent_dma = nc;
			if (hqio_ept_kvm61(&ei, &er) == 0)
				printf("  %-6s %-42s %-8s %s\n", "",
				       nc ? "EPT, KVM 6.1, non-coherent DMA registered"
					  : "EPT, KVM 6.1, no non-coherent DMA",
				       hqio_memtype_name(er.device_type),
				       er.matches_guest_intent ? "yes"
							       : "no, unless the IOMMU snoops");
		}
		struct hqio_npt_input ni;
		struct hqio_vm_memtype_result nr;
		hqio_npt_input_init(&ni);
		ni.guest_pat = gp;
		if (hqio_npt_kvm61(&ni, &nr) == 0)
			printf("  %-6s %-42s %-8s %s\n", "", "NPT, KVM 6.1",
			       hqio_memtype_name(nr.device_type),
			       nr.matches_guest_intent ? "yes" : "no");
	}
	printf("\n  (tests/test_memtype_coherency.c runs the same cases through a write-back "
	       "cache\n"
	       "  model and a No-Snoop DMA read; `hqio memtype --help` for the JSON-lines batch "
	       "mode.)\n");
}

int cmd_demo(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: hqio demo\n\nA guided tour of hqio's capabilities on this "
		       "machine.\n");
		return HQIO_EXIT_OK;
	}
	if (argc > 1) {
		fprintf(stderr, "hqio demo: unexpected argument '%s'\n", argv[1]);
		return HQIO_EXIT_USAGE;
	}
	struct hqio_system sys = { 0 };
	struct hqio_names names;
	hqio_names_load(&names);
	printf("hqio demo: high-quality direct I/O, one capability per step.\n");
	int rc = demo_inspect(&sys, &names);
	if (rc == 0)
		demo_malformed(&sys);
	demo_reference(&names);
	demo_sim(&names);
	demo_reset();
	demo_vpci();
	demo_memtype();
	int n = 8;
	demo_step_dvh_scan(n++);
	demo_step_dvh_runtime(n++);
	demo_step_audio(n++);
	demo_step_vfio(n++);
	demo_step_monitor(n++);
	printf("\nEverything above on real kernel interfaces: `make testbed` (docs/testbed.md).\n");
	hqio_system_free(&sys);
	hqio_names_free(&names);
	return rc == 0 ? HQIO_EXIT_OK : HQIO_EXIT_FAIL;
}
