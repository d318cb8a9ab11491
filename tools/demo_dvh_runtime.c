/*
 * hqio demo step: closing driver virtualization holes at run time
 * (lib/dvh + lib/vpci) on the simulated reference machine, computed live:
 * the GPU driver's configuration mirror with and without the quirk, the
 * virtual host bridge, and the dual-port NIC's MAC addresses.
 */
#include "devices/devices.h"
#include "guest.h"
#include "hqio/dvh.h"
#include "hqio/vpci.h"
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo_steps.h"

#define DEMO_GUEST_BAR0 0x12000000u

struct demo_fn {
	struct hqio_vpci v;
	struct hqio_host_ops gops;
	struct sim_guest g;
};

static unsigned n_log;
static char first_log[256];

static void demo_log(void *arg, const char *msg)
{
	(void)arg;
	if (!n_log++)
		snprintf(first_log, sizeof(first_log), "%s", msg);
}

/* Host firmware: memory BARs get host addresses, decode on. */
static void firmware(struct sim_platform *p, struct sim_fn *f, uint64_t mem)
{
	uint32_t cmd = HQIO_PCI_COMMAND_MEMORY;
	for (unsigned i = 0; i < 6; i++) {
		uint32_t reg = sim_fn_cfg_get(f, (uint16_t)(0x10 + 4 * i), 4);
		if (!f->bar_size[i] || (reg & HQIO_PCI_BASE_ADDRESS_SPACE_IO))
			continue;
		mem = (mem + f->bar_size[i] - 1) & ~(f->bar_size[i] - 1);
		sim_cfg_write(p, sim_fn_bdf(f), (uint16_t)(0x10 + 4 * i), 4, (uint32_t)mem);
		mem += f->bar_size[i];
		if ((reg & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
		    HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64)
			i++;
	}
	sim_cfg_write(p, sim_fn_bdf(f), HQIO_PCI_COMMAND, 2,
		      sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2) | cmd);
}

static int attach(struct demo_fn *d, struct sim_platform *p, const struct hqio_host_ops *ops,
		  struct sim_fn *f, uint8_t gfn, enum hqio_vpci_mf_policy mf, bool dvh_off)
{
	struct hqio_bdf gbdf = { .bus = 0, .dev = 5, .fn = gfn };
	struct hqio_vpci_config c = {
		.ops = ops,
		.host_bdf = sim_fn_bdf(f),
		.guest_bdf = gbdf,
		.mf = mf,
		.dvh_off = dvh_off,
		.dvh_log = demo_log,
	};
	if (hqio_vpci_init(&d->v, &c, NULL))
		return -1;
	hqio_vpci_guest_ops(&d->v, &d->gops);
	sim_guest_init(&d->g, p, &d->gops, gbdf);
	return 0;
}

/* The GPU driver through the mirror; returns 0 and fills *gv. */
static int gpu_run(bool dvh_off, struct sim_guest_gpu_view *gv, uint32_t *host_bar0,
		   uint64_t *redirected, struct hqio_dvh_range *trap, int *n_trap, uint32_t *hb_reg,
		   uint32_t *status, uint64_t *dropped)
{
	struct sim_reference ref;
	struct sim_platform *p = sim_platform_new(1, 8ULL << 20);
	struct demo_fn *d = calloc(1, sizeof(*d));
	int rc = -1;
	if (!p || !d || sim_build_reference_ex(p, &ref))
		goto out;
	struct hqio_host_ops ops;
	sim_host_ops(p, &ops);
	firmware(p, ref.gpu, 0xc0000000ULL);
	if (attach(d, p, &ops, ref.gpu, 0, HQIO_VPCI_MF_WHOLE, dvh_off))
		goto out;
	sim_guest_bar_program(&d->g, 0, DEMO_GUEST_BAR0);
	sim_guest_enable(&d->g, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	rc = sim_guest_gpu_mirror_view(&d->g, gv);
	*host_bar0 = sim_fn_cfg_get(ref.gpu, HQIO_PCI_BASE_ADDRESS_0, 4);
	*redirected = d->v.stats.dvh_redirected;
	if (trap)
		*n_trap = hqio_vpci_trapped_ranges(&d->v, 4096, trap, 4);
	if (!rc && hb_reg) {
		/* The guest's 00:00.0 is the virtual host bridge. */
		struct hqio_dvh_hostbridge hb;
		struct hqio_host_ops ops2;
		const struct hqio_dvh_quirk *q = d->v.quirk;
		struct hqio_bdf host_hb = { 0 };
		rc = hqio_dvh_hostbridge_init(&hb, &ops, host_hb, &q, q ? 1 : 0, NULL);
		if (!rc) {
			hqio_dvh_hostbridge_ops(&hb, &d->gops, &ops2);
			d->g.ops = &ops2;
			rc = sim_guest_gpu_stolen(&d->g, hb_reg, status);
			sim_guest_cfg_write_at(&d->g, host_hb, SIM_GPU_HB_TOLUD, 2, 0x1000);
			*dropped = hb.writes_dropped;
			d->g.ops = &d->gops;
		}
	}
	hqio_vpci_fini(&d->v);
out:
	free(d);
	sim_platform_free(p);
	return rc;
}

static void mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Two guests, one port each, both at function 0 (MF_SINGLE). */
static int nic_run(enum sim_guest_port_from how, uint8_t m0[6], uint8_t m1[6])
{
	struct sim_reference ref;
	struct sim_platform *p = sim_platform_new(1, 8ULL << 20);
	struct demo_fn *d = calloc(2, sizeof(*d));
	int rc = -1;
	if (!p || !d || sim_build_reference_ex(p, &ref))
		goto out;
	struct hqio_host_ops ops;
	sim_host_ops(p, &ops);
	for (unsigned i = 0; i < 2; i++) {
		firmware(p, ref.nic[i], 0xc0000000ULL + 0x10000000ULL * i);
		if (attach(&d[i], p, &ops, ref.nic[i], 0, HQIO_VPCI_MF_SINGLE, false))
			goto fini;
		sim_guest_bar_program(&d[i].g, 0, 0x20000000);
		sim_guest_enable(&d[i].g, HQIO_PCI_COMMAND_MEMORY);
	}
	rc = sim_guest_nic_mac(&d[0].g, how, m0);
	if (!rc)
		rc = sim_guest_nic_mac(&d[1].g, how, m1);
fini:
	for (unsigned i = 0; i < 2; i++)
		hqio_vpci_fini(&d[i].v);
out:
	free(d);
	sim_platform_free(p);
	return rc;
}

void demo_step_dvh_runtime(int n)
{
	printf("\n== Step %d: %s ==\n", n, "closing driver virtualization holes at run time");
	struct sim_guest_gpu_view on, off;
	uint32_t hbar_on, hbar_off, hb_reg = 0, status = 0;
	uint64_t red_on, red_off, dropped = 0;
	struct hqio_dvh_range trap[4];
	int n_trap = 0;
	n_log = 0;
	if (gpu_run(false, &on, &hbar_on, &red_on, trap, &n_trap, &hb_reg, &status, &dropped) ||
	    gpu_run(true, &off, &hbar_off, &red_off, NULL, NULL, NULL, NULL, NULL)) {
		printf("simulation failed\n");
		return;
	}
	const struct hqio_dvh_quirk *q =
		hqio_dvh_match(NULL, SIM_GPU_VENDOR, SIM_GPU_DEVICE, 0x030000);
	printf("GPU %04x:%04x matches quirk \"%s\"\n", SIM_GPU_VENDOR, SIM_GPU_DEVICE,
	       q ? q->name : "-");
	for (int i = 0; i < n_trap; i++)
		printf("  trapped (not mapped into the guest): BAR%u %#llx-%#llx\n", trap[i].bar,
		       (unsigned long long)trap[i].off,
		       (unsigned long long)(trap[i].off + trap[i].len - 1));
	printf("The guest programs BAR0 = %#x and turns on Bus Master; its driver\n"
	       "then reads BAR0 and Command through the BAR0+0x88000 mirror:\n",
	       DEMO_GUEST_BAR0);
	printf("  quirk on : BAR0 %#010x  Command %#06x  (virtual; %llu accesses redirected)\n",
	       on.bar0, on.command, (unsigned long long)red_on);
	printf("  quirk off: BAR0 %#010x  Command %#06x  (host: BAR0 is %#010x) <- the hole\n",
	       off.bar0, off.command, hbar_off);
	printf("  logged once: %s\n", n_log ? first_log : "(nothing)");
	printf("Virtual host bridge at the guest's 00:00.0: register 0x9c = %#06x (the host's),\n"
	       "  GPU stolen-memory check %s; guest writes dropped: %llu\n",
	       hb_reg, status == 1 ? "passes (1)" : "FAILS", (unsigned long long)dropped);
	uint8_t a[6], b[6], c[6], d[6];
	char s[4][24];
	if (nic_run(SIM_GUEST_PORT_STATUS, a, b) || nic_run(SIM_GUEST_PORT_DEVFN, c, d)) {
		printf("simulation failed\n");
		return;
	}
	mac_str(a, s[0], 24);
	mac_str(b, s[1], 24);
	mac_str(c, s[2], 24);
	mac_str(d, s[3], 24);
	printf("Dual-port NIC, one port each to vm1 and vm2, both at function 0 (MF_SINGLE):\n");
	printf("  port from STATUS LAN ID (e1000e): %s / %s  %s\n", s[0], s[1],
	       memcmp(a, b, 6) ? "distinct" : "COLLIDE");
	printf("  port from devfn (tg3-style):      %s / %s  %s\n", s[2], s[3],
	       memcmp(c, d, 6) ? "distinct" : "COLLIDE");
	struct hqio_dvh_assigned fns[2] = {
		{ "vm1", 0x14e4, 0x165f, 0x020000, { 0, 3, 0, 0 }, 0 },
		{ "vm2", 0x14e4, 0x165f, 0x020000, { 0, 3, 0, 1 }, 0 },
	};
	size_t n_col = 0;
	hqio_dvh_check_assignment(NULL, fns, 2, NULL, 0, &n_col);
	printf("  hqio_dvh_check_assignment, same layout on a BCM5720 (tg3): %zu collision%s\n",
	       n_col, n_col == 1 ? "" : "s");
	printf("Try: hqio dvh quirks; hqio dvh check --sim-nic single --how devfn\n");
}
