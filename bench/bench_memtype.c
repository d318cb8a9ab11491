/*
 * Benchmark: lib/memtype lookups per second.
 *   mtrr_lookup: hqio_mtrr_lookup of one 4 KiB page against a state with 8
 *                valid variable ranges (RAM, holes, an aperture, overlaps)
 *                and fixed ranges enabled, at addresses cycling over 16 GiB;
 *   shadow:      hqio_shadow_propagate over every (guest MTRR, guest PAT,
 *                host MTRR) combination in turn, Linux host PAT.
 * Prints the median of 15 runs of N operations each, as operations/second.
 * `--op mtrr_lookup|shadow --count N` runs N operations untimed (for
 * callgrind instruction counts in scripts/bench.sh).
 */
#include "hqio/memtype.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GIB  (1ull << 30)
#define MIB  (1ull << 20)
#define RUNS 15

static void build_state(struct hqio_mtrr_state *s)
{
	hqio_mtrr_init(s, 8, 46);
	hqio_mtrr_set_default(s, HQIO_MT_UC, true, true);
	hqio_mtrr_set_fixed(s, 0, 0xA0000, HQIO_MT_WB);
	hqio_mtrr_set_fixed(s, 0xC0000, 0x40000, HQIO_MT_WP);
	hqio_mtrr_set_var(s, 0, 0, 8 * GIB, HQIO_MT_WB);
	hqio_mtrr_set_var(s, 1, 8 * GIB, 4 * GIB, HQIO_MT_WB);
	hqio_mtrr_set_var(s, 2, 2 * GIB, 2 * GIB, HQIO_MT_UC); /* PCI hole */
	hqio_mtrr_set_var(s, 3, 0xC0000000ull, 256 * MIB, HQIO_MT_WC);
	hqio_mtrr_set_var(s, 4, 12 * GIB, 1 * GIB, HQIO_MT_WT);
	hqio_mtrr_set_var(s, 5, 12 * GIB, 512 * MIB, HQIO_MT_WB); /* WT+WB */
	hqio_mtrr_set_var(s, 6, 14 * GIB, 64 * MIB, HQIO_MT_WP);
	hqio_mtrr_set_var(s, 7, 15 * GIB, 2 * MIB, HQIO_MT_UC);
}

static volatile unsigned sink;

static void run_mtrr(const struct hqio_mtrr_state *s, long n)
{
	struct hqio_mtrr_lookup r;
	uint64_t addr = 0;
	for (long i = 0; i < n; i++) {
		hqio_mtrr_lookup(s, addr, 4096, &r);
		sink += r.type + r.uniform;
		addr = (addr + 0x3FF000ull + 0x1000ull * (uint64_t)(i & 7)) & (16 * GIB - 1);
	}
}

static void run_shadow(long n)
{
	struct hqio_shadow_input in;
	struct hqio_shadow_result r;
	static const enum hqio_memtype mt[5] = { HQIO_MT_UC, HQIO_MT_WC, HQIO_MT_WT, HQIO_MT_WP,
						 HQIO_MT_WB };
	hqio_shadow_input_init(&in);
	in.host_pat = HQIO_PAT_LINUX;
	unsigned k = 0;
	for (long i = 0; i < n; i++) {
		in.guest_mtrr = mt[k % 5];
		in.guest_pat = hqio_memtype_by_index((k / 5) % 6);
		in.host_mtrr = mt[(k / 30) % 5];
		k = k + 1 == 150 ? 0 : k + 1;
		hqio_shadow_propagate(&in, &r);
		sink += r.pat_index;
	}
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_ops_per_s(const struct hqio_mtrr_state *s, int shadow, long n)
{
	double runs[RUNS];
	for (int i = 0; i < RUNS; i++) {
		double t0 = now_ns();
		if (shadow)
			run_shadow(n);
		else
			run_mtrr(s, n);
		runs[i] = (double)n / ((now_ns() - t0) / 1e9);
	}
	qsort(runs, RUNS, sizeof(runs[0]), cmp);
	return runs[RUNS / 2];
}

int main(int argc, char **argv)
{
	struct hqio_mtrr_state s;
	build_state(&s);
	if (argc == 5 && !strcmp(argv[1], "--op") && !strcmp(argv[3], "--count")) {
		long n = strtol(argv[4], NULL, 10);
		if (!strcmp(argv[2], "mtrr_lookup"))
			run_mtrr(&s, n);
		else if (!strcmp(argv[2], "shadow"))
			run_shadow(n);
		else {
			fprintf(stderr, "bench_memtype: unknown op %s\n", argv[2]);
			return 2;
		}
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: bench_memtype [--op mtrr_lookup|shadow --count N]\n");
		return 2;
	}
	struct hqio_mtrr_lookup check;
	if (hqio_mtrr_lookup(&s, 12 * GIB, 4096, &check) || check.type != HQIO_MT_WT) {
		fprintf(stderr, "bench_memtype: bad MTRR layout\n");
		return 1;
	}
	printf("bench_memtype: 8 variable ranges, fixed ranges on; median of %d runs\n", RUNS);
	printf("mtrr_lookup_per_s_median %.0f\n", median_ops_per_s(&s, 0, 200000));
	printf("shadow_per_s_median %.0f\n", median_ops_per_s(&s, 1, 200000));
	return 0;
}
