/*
 * Helpers the benchmarks share: a monotonic clock (seconds or nanoseconds),
 * the process CPU-time clock, the median of a set of runs, and (for the
 * lib/vpci benchmarks, bench/bench_vpci.c and bench/bench_dvh_rt.c) one
 * simulated function behind lib/vpci. A benchmark that does not link the
 * simulator defines BENCH_UTIL_NO_SIM before including this file and gets
 * the clocks and the median only.
 */
#ifndef HQIO_BENCH_UTIL_H
#define HQIO_BENCH_UTIL_H

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#ifndef BENCH_UTIL_NO_SIM
#include "sim.h"
#include "hqio/vpci.h"
#endif

static inline double bench_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The same clock in nanoseconds (kept apart from bench_now_s() * 1e9: a
 * double of seconds since boot rounds away part of a nanosecond). */
static inline double bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* CPU time of the whole process, in seconds: less sensitive than the wall
 * clock to other work on a loaded machine. */
static inline double bench_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts t[0..n) and returns its median (the upper one for even n). */
static inline double bench_median(double *t, size_t n)
{
	qsort(t, n, sizeof(t[0]), bench_cmp_double);
	return t[n / 2];
}

#ifndef BENCH_UTIL_NO_SIM
/*
 * Host firmware for f (BAR0 at 0xc0000000, memory decode on), then v over
 * f, host and guest at f's BDF, with the simulator's host ops in *ops (which
 * must outlive v). 0, or -1 when lib/vpci refuses.
 */
static inline int bench_vpci_init(struct sim_platform *p, struct sim_fn *f,
				  struct hqio_host_ops *ops, struct hqio_vpci *v, bool dvh_off)
{
	sim_host_ops(p, ops);
	struct hqio_bdf b = sim_fn_bdf(f);
	sim_cfg_write(p, b, HQIO_PCI_BASE_ADDRESS_0, 4, 0xc0000000u);
	sim_cfg_write(p, b, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY);
	struct hqio_vpci_config c = {
		.ops = ops, .host_bdf = b, .guest_bdf = b, .dvh_off = dvh_off
	};
	return hqio_vpci_init(v, &c, NULL) ? -1 : 0;
}
#endif /* BENCH_UTIL_NO_SIM */

#endif
