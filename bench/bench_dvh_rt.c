/*
 * Benchmark: guest BAR accesses on the simulated GPU through lib/vpci,
 * in ns per access (median of 7 runs): a register outside any back door
 * (passes to the device model), a read through the BAR0 configuration
 * mirror redirected to the virtual configuration space (lib/dvh quirk),
 * the same read with the quirk disabled (reaches the model's mirror), and
 * a virtual host bridge read. Simulated-platform costs, not hardware ones:
 * they show what the redirect adds in software.
 */
#include "sim.h"
#include "devices/devices.h"
#include "hqio/dvh.h"
#include "hqio/vpci.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 7
#define OPS  200000

static volatile uint64_t sink;

static double bar_reads(struct hqio_vpci *v, uint64_t off)
{
	double t[RUNS];
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now_s();
		for (unsigned i = 0; i < OPS; i++) {
			uint64_t x = 0;
			hqio_vpci_bar_read(v, 0, off, 4, &x);
			sink += x;
		}
		t[r] = (bench_now_s() - t0) * 1e9 / OPS;
	}
	return bench_median(t, RUNS);
}

static int setup(struct sim_platform **pp, struct hqio_vpci *v, bool dvh_off)
{
	struct sim_reference ref;
	struct sim_platform *p = sim_platform_new(1, 1 << 20);
	if (!p || sim_build_reference_ex(p, &ref))
		return -1;
	static struct hqio_host_ops ops;
	if (bench_vpci_init(p, ref.gpu, &ops, v, dvh_off))
		return -1;
	hqio_vpci_write(v, HQIO_PCI_BASE_ADDRESS_0, 4, 0x12000000u);
	hqio_vpci_write(v, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY);
	*pp = p;
	return 0;
}

int main(void)
{
	struct sim_platform *p1, *p2;
	struct hqio_vpci *on = calloc(1, sizeof(*on)), *off = calloc(1, sizeof(*off));
	if (!on || !off || setup(&p1, on, false) || setup(&p2, off, true)) {
		fprintf(stderr, "bench_dvh_rt: setup failed\n");
		return 1;
	}
	printf("bench_dvh_rt (ns per 4-byte guest BAR read, simulated GPU, median of %d x %d)\n",
	       RUNS, OPS);
	printf("  register outside back doors   %8.1f\n", bar_reads(on, SIM_GPU_BOOT_0));
	printf("  mirror, redirected (quirk on) %8.1f\n",
	       bar_reads(on, SIM_GPU_CFG_MIRROR + HQIO_PCI_BASE_ADDRESS_0));
	printf("  mirror, open (quirk off)      %8.1f\n",
	       bar_reads(off, SIM_GPU_CFG_MIRROR + HQIO_PCI_BASE_ADDRESS_0));
	printf("  redirected accesses counted   %8llu\n",
	       (unsigned long long)on->stats.dvh_redirected);

	struct hqio_host_ops ops;
	sim_host_ops(p1, &ops);
	struct hqio_dvh_hostbridge hb;
	struct hqio_bdf h = { 0 };
	const struct hqio_dvh_quirk *q = on->quirk;
	if (hqio_dvh_hostbridge_init(&hb, &ops, h, &q, 1, NULL)) {
		fprintf(stderr, "bench_dvh_rt: host bridge init failed\n");
		return 1;
	}
	double t[RUNS];
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now_s();
		for (unsigned i = 0; i < OPS; i++) {
			uint32_t x = 0;
			hqio_dvh_hostbridge_read(&hb, SIM_GPU_HB_TOLUD, 2, &x);
			sink += x;
		}
		t[r] = (bench_now_s() - t0) * 1e9 / OPS;
	}
	printf("  virtual host bridge read      %8.1f\n", bench_median(t, RUNS));
	hqio_vpci_fini(on);
	hqio_vpci_fini(off);
	free(on);
	free(off);
	sim_platform_free(p1);
	sim_platform_free(p2);
	return 0;
}
