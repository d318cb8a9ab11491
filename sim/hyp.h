/*
 * A simulated hypervisor: physical CPUs, domains and their virtual CPUs,
 * driven by lib/sched (include/hqio/sched.h) in the virtual time of the
 * simulator's event engine.
 *
 * The hypervisor owns the mechanism, the scheduler the policy:
 *   - every pCPU has a tick timer (cfg tick_ns, first tick at a phase drawn
 *     from the engine's seeded randomness) that calls hqio_sched_tick();
 *   - a slice timer at the until_ns of the last pick;
 *   - after every call that may change the decision (tick, wake, sleep,
 *     interrupt) it asks hqio_sched_need_resched() and then runs
 *     hqio_sched_schedule(); a change of the running vCPU is a context
 *     switch (counted when a pCPU starts a vCPU other than the last one it
 *     ran, idle periods in between not counting as a vCPU);
 *   - it accounts the time each vCPU really ran and the idle time of each
 *     pCPU, so that for every pCPU run + idle = elapsed time.
 *
 * vCPU workloads are callbacks (struct hyp_work): a vCPU runs CPU bursts;
 * when a burst is done the workload says what comes next (another burst,
 * an endless busy loop, or blocking). An interrupt for a vCPU calls the
 * scheduler's interrupt hint, wakes the vCPU if it is blocked, and the
 * guest's handler (the workload's irq callback) runs when the vCPU next
 * holds a pCPU: the time from the interrupt to that moment is the
 * interrupt-to-run latency, recorded per vCPU.
 */
#ifndef HQIO_SIM_HYP_H
#define HQIO_SIM_HYP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "hqio/sched.h"

/* A burst that never ends (busy loop). */
#define HYP_BURST_FOREVER UINT64_MAX

struct hyp;

struct hyp_work {
	/* The vCPU finished its current burst at now: the next burst in ns,
	 * HYP_BURST_FOREVER, or 0 to block until hyp_wake()/hyp_irq(). */
	uint64_t (*burst_done)(void *arg, struct hyp *h, int vcpu, uint64_t now);
	/* The guest handles an interrupt raised at raised_ns; the vCPU holds
	 * a pCPU at now. Returns CPU time added to the current burst. May be
	 * NULL (interrupts then only wake). */
	uint64_t (*irq)(void *arg, struct hyp *h, int vcpu, uint64_t raised_ns, uint64_t now);
	void *arg;
};

struct hyp_vcpu_stats {
	uint64_t run_ns; /* time it held a pCPU */
	uint64_t bursts_done;
	uint64_t wakes;
	uint64_t irqs;	       /* interrupts raised for it */
	uint64_t irqs_handled; /* handler runs (several pending irqs coalesce into one) */
	uint64_t switches_in;  /* context switches into this vCPU */
	uint64_t lat_max_ns;
	/* Interrupt-to-run latencies, if recording was asked for. */
	uint64_t *lat_ns;
	size_t n_lat, cap_lat;
};

struct hyp_pcpu_stats {
	uint64_t idle_ns;
	uint64_t run_ns;
	uint64_t switches;
	uint64_t schedules; /* hqio_sched_schedule calls */
	uint64_t ticks;
};

/* Create on an engine the caller owns (it may share it with a platform).
 * cfg as for hqio_sched_create. Returns 0, -EINVAL (message in err) or
 * -ENOMEM. */
int hyp_create(struct sim_engine *eng, const struct hqio_sched_config *cfg, struct hyp **out,
	       char *err, size_t errlen);
void hyp_destroy(struct hyp *h);

/* Add a vCPU with its scheduling parameters and workload; it starts blocked.
 * record_latency keeps every interrupt-to-run latency (for percentiles).
 * Returns the vCPU id (>= 0) or a negative errno. */
int hyp_add_vcpu(struct hyp *h, const struct hqio_vcpu_params *p, const struct hyp_work *w,
		 bool record_latency);
/* Make a blocked vCPU runnable with a burst of burst_ns (HYP_BURST_FOREVER:
 * busy loop). A vCPU that is already runnable keeps its burst and adds
 * burst_ns to it. */
void hyp_wake(struct hyp *h, int vcpu, uint64_t burst_ns);
/* An interrupt of the vCPU's assigned device, now. */
void hyp_irq(struct hyp *h, int vcpu);
/* Start the tick timers (call once, after adding vCPUs). */
void hyp_start(struct hyp *h);
/* Ask every pCPU for need_resched in turn instead of
 * hqio_sched_next_resched(); for a test that the two agree. */
void hyp_set_scan_all(struct hyp *h, bool on);
/* Bring the run-time accounting up to the engine's current time (call
 * before reading statistics). */
void hyp_sync(struct hyp *h);

struct hqio_sched *hyp_sched(struct hyp *h);
struct sim_engine *hyp_engine(struct hyp *h);
unsigned hyp_n_pcpus(const struct hyp *h);
unsigned hyp_n_vcpus(const struct hyp *h);
const struct hyp_vcpu_stats *hyp_vcpu_stats(const struct hyp *h, int vcpu);
const struct hyp_pcpu_stats *hyp_pcpu_stats(const struct hyp *h, unsigned pcpu);
/* The vCPU running on a pCPU, -1 idle. */
int hyp_running(const struct hyp *h, unsigned pcpu);
/* Whether the vCPU is blocked (waiting for a wake or an interrupt). */
bool hyp_blocked(const struct hyp *h, int vcpu);
/* The time accounted since hyp_start (the engine's time at the last sync). */
uint64_t hyp_elapsed_ns(const struct hyp *h);

#endif
