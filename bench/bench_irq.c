/*
 * Benchmark: cost of translating one host MSI-X interrupt into the guest's
 * message (hqio_irq_host_event: storm-guard accounting, remap-table
 * lookup, mask check, injection callback), in ns per operation, median of
 * 7 runs. Two figures:
 *   lib  lib/irq alone, with a minimal host backend (a counter clock);
 *   sim  the whole simulated path: device event (sim_irq_raise) -> the
 *        platform's MSI -> sim host_ops dispatch -> lib/irq -> guest.
 * Instructions per operation (valgrind) are measured by the Makefile
 * target, which divides by the operation count printed here.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include "devices/devices.h"
#include "hqio/irq.h"
#include "sim.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS	   7
#define OPS_LIB	   2000000ULL
#define OPS_SIM	   500000ULL
#define NVEC	   8
#define FAKE_TICK  20000ULL /* ns per operation on the fake clock: below the storm bound */
#define GUEST_ADDR 0xfee01000ULL

struct fake {
	uint64_t now;
};

static uint64_t f_now(void *ctx)
{
	struct fake *f = ctx;
	f->now += FAKE_TICK;
	return f->now;
}

static int f_cfg_read(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t *val)
{
	(void)ctx, (void)bdf, (void)off, (void)size;
	*val = 0;
	return 0;
}

static int f_cfg_write(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t val)
{
	(void)ctx, (void)bdf, (void)off, (void)size, (void)val;
	return 0;
}

static int f_bar_read(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		      uint64_t *val)
{
	(void)ctx, (void)bdf, (void)bar, (void)off, (void)size;
	*val = 0;
	return 0;
}

static int f_bar_write(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		       uint64_t val)
{
	(void)ctx, (void)bdf, (void)bar, (void)off, (void)size, (void)val;
	return 0;
}

static int f_irq_set(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned count,
		     hqio_irq_fn fn, void *arg)
{
	(void)ctx, (void)bdf, (void)type, (void)count, (void)fn, (void)arg;
	return 0;
}

static int f_irq_mask(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector,
		      bool masked)
{
	(void)ctx, (void)bdf, (void)type, (void)vector, (void)masked;
	return 0;
}

struct guest {
	uint64_t msgs;
	uint64_t sum;
};

static void g_inject(void *arg, uint64_t addr, uint32_t data)
{
	struct guest *g = arg;
	g->msgs++;
	g->sum += addr + data;
}

static void g_intx(void *arg, bool level)
{
	(void)arg, (void)level;
}

/* Guest MSI-X: program NVEC entries (unmasked) through the trapped table. */
static void guest_program(struct hqio_irq *irq)
{
	for (unsigned i = 0; i < NVEC; i++) {
		uint64_t e = irq->cfg.msix_table_off + (uint64_t)i * 16;
		uint64_t v = GUEST_ADDR;
		hqio_irq_bar_access(irq, irq->cfg.msix_table_bir, e, 8, &v, true);
		v = 0x40 + i; /* data, Vector Control 0 */
		hqio_irq_bar_access(irq, irq->cfg.msix_table_bir, e + 8, 8, &v, true);
	}
	hqio_irq_guest_msix(irq, true, false);
}

static double run_lib(uint64_t ops, struct hqio_irq *irq, struct guest *g)
{
	struct hqio_bdf bdf = irq->cfg.bdf;
	double t0 = bench_now_s();
	for (uint64_t i = 0; i < ops; i++)
		hqio_irq_host_event(irq, bdf, HQIO_IRQ_MSIX, (unsigned)(i % NVEC));
	double t = bench_now_s() - t0;
	if (g->msgs < ops)
		fprintf(stderr, "lib: only %llu of %llu delivered\n", (unsigned long long)g->msgs,
			(unsigned long long)ops);
	return t;
}

/* `--op irq_translate --count N` (scripts/bench.sh, callgrind): one run of N. */
static uint64_t lib_ops = OPS_LIB;
static int lib_runs = RUNS;

static int bench_lib(double *ns)
{
	struct fake fk = { 0 };
	struct hqio_host_ops ops = {
		.ctx = &fk,
		.cfg_read = f_cfg_read,
		.cfg_write = f_cfg_write,
		.bar_read = f_bar_read,
		.bar_write = f_bar_write,
		.now_ns = f_now,
		.irq_set = f_irq_set,
		.irq_mask = f_irq_mask,
	};
	struct guest g = { 0 };
	struct hqio_irq *irq = calloc(1, sizeof(*irq));
	if (!irq)
		return -1;
	struct hqio_irq_config c = {
		.ops = &ops,
		.guest = { &g, g_inject, g_intx },
		.msix = 0x50,
		.msix_size = 65,
		.msix_table_off = 0x2000,
		.msix_pba_off = 0x3000,
		.pin = 1,
		.intx_disable_supported = true,
	};
	struct hqio_error err;
	if (hqio_irq_init(irq, &c, &err)) {
		fprintf(stderr, "init: %s\n", err.msg);
		free(irq);
		return -1;
	}
	guest_program(irq);
	double t[RUNS];
	for (int r = 0; r < lib_runs; r++) {
		g.msgs = 0;
		t[r] = run_lib(lib_ops, irq, &g);
	}
	*ns = bench_median(t, (size_t)lib_runs) * 1e9 / (double)lib_ops;
	printf("irq lib: %.1f ns/op (median of %d runs of %llu host MSI-X -> guest; "
	       "throttled %llu, sum %llu)\n",
	       *ns, lib_runs, (unsigned long long)lib_ops,
	       (unsigned long long)irq->stats.storm_throttled, (unsigned long long)g.sum);
	hqio_irq_fini(irq);
	free(irq);
	return 0;
}

static int bench_sim(double *ns)
{
	struct sim_platform *p = sim_platform_new(1, 16 << 20);
	struct sim_reference ref;
	if (!p || sim_build_reference_ex(p, &ref))
		return -1;
	struct hqio_host_ops ops;
	sim_host_ops(p, &ops);
	struct sim_fn *f = ref.nvme;
	struct hqio_bdf bdf = sim_fn_bdf(f);
	uint32_t cmd = sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2);
	sim_cfg_write(p, bdf, HQIO_PCI_COMMAND, 2,
		      cmd | HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	struct guest g = { 0 };
	struct hqio_irq *irq = calloc(1, sizeof(*irq));
	if (!irq)
		return -1;
	uint32_t t = sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_TABLE, 4);
	uint32_t pb = sim_fn_cfg_get(f, f->msix + HQIO_PCI_MSIX_PBA, 4);
	struct hqio_irq_config c = {
		.ops = &ops,
		.bdf = bdf,
		.guest = { &g, g_inject, g_intx },
		.msix = f->msix,
		.msix_size = SIM_NVME_MSIX_ENTRIES,
		.msix_table_bir = t & HQIO_PCI_MSIX_BIR_MASK,
		.msix_table_off = t & HQIO_PCI_MSIX_OFFSET_MASK,
		.msix_pba_bir = pb & HQIO_PCI_MSIX_BIR_MASK,
		.msix_pba_off = pb & HQIO_PCI_MSIX_OFFSET_MASK,
		.pin = 1,
		.intx_disable_supported = true,
		.storm_max = ~0u, /* the virtual clock stands still here */
	};
	struct hqio_error err;
	if (hqio_irq_init(irq, &c, &err)) {
		fprintf(stderr, "init: %s\n", err.msg);
		return -1;
	}
	guest_program(irq);
	double tm[RUNS];
	for (int r = 0; r < RUNS; r++) {
		g.msgs = 0;
		double t0 = bench_now_s();
		for (uint64_t i = 0; i < OPS_SIM; i++)
			sim_irq_raise(f, (unsigned)(i % NVEC));
		tm[r] = bench_now_s() - t0;
		if (g.msgs != OPS_SIM)
			fprintf(stderr, "sim: %llu of %llu delivered\n", (unsigned long long)g.msgs,
				(unsigned long long)OPS_SIM);
	}
	*ns = bench_median(tm, RUNS) * 1e9 / (double)OPS_SIM;
	printf("irq sim: %.1f ns/op (median of %d runs of %llu device event -> platform MSI -> "
	       "host_ops -> lib/irq -> guest)\n",
	       *ns, RUNS, (unsigned long long)OPS_SIM);
	hqio_irq_fini(irq);
	free(irq);
	sim_platform_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	double lib_ns = 0, sim_ns = 0;
	if (argc == 5 && !strcmp(argv[1], "--op") && !strcmp(argv[2], "irq_translate") &&
	    !strcmp(argv[3], "--count")) {
		lib_ops = strtoull(argv[4], NULL, 10);
		lib_runs = 1;
		return bench_lib(&lib_ns) ? 1 : 0;
	}
	if (bench_lib(&lib_ns) || bench_sim(&sim_ns))
		return 1;
	printf("operations: lib %llu x %d runs, sim %llu x %d runs\n", (unsigned long long)OPS_LIB,
	       RUNS, (unsigned long long)OPS_SIM, RUNS);
	return 0;
}
