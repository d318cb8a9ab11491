/*
 * lib/sched: vCPU schedulers of a hypervisor, as pure logic.
 *
 * One interface for every policy, shaped like Xen's `struct scheduler`:
 * a table of operations (add/remove vCPU, wake, sleep, tick, do_schedule,
 * interrupt hint) over per-pCPU run queues. Time is always passed in
 * (nanoseconds of the caller's clock); nothing here reads a clock, sleeps
 * or keeps global state. The caller (the simulator, a test) owns time:
 *
 *   - it calls hqio_sched_tick() on every pCPU every cfg.tick_ns (credit's
 *     per-pCPU tick timer; accounting happens inside, on pCPU 0, every
 *     accounting period);
 *   - it calls hqio_sched_wake()/hqio_sched_sleep() when a vCPU becomes
 *     runnable or blocks, hqio_sched_irq() when an interrupt of a vCPU's
 *     assigned device arrives (before the wake it causes);
 *   - whenever hqio_sched_need_resched(s, cpu) is true after such a call,
 *     and at the latest at the `until_ns` of the last pick, it calls
 *     hqio_sched_schedule(s, cpu, now), which accounts the time the current
 *     vCPU ran and returns the vCPU to run next.
 *
 * Policies (by name, hqio_sched_policy_from_name):
 *   "credit-2009"  Xen credit1 as in Xen 3.3/3.4: 10 ms tick, 30 ms slice
 *                  and accounting period, sampled debit of 100 credits per
 *                  tick, reset to 0 on leaving the active list;
 *   "credit-4.2"   Xen credit1 as in Xen 4.2: exact burn of run time (4.0),
 *                  halving on leaving the active list (4.1), 1 ms
 *                  context-switch rate limit (4.2);
 *   "rt"           hqio's REAL_TIME policy: a real-time vCPU runs as soon as
 *                  its device's interrupt arrives, within a budget per
 *                  period; otherwise it competes under credit (cfg.rt_credit);
 *   "rtds"         Xen's RTDS: global EDF over deferrable servers.
 */
#ifndef HQIO_SCHED_H
#define HQIO_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HQIO_SCHED_MAX_PCPUS 256

enum hqio_sched_policy {
	HQIO_SCHED_CREDIT_2009 = 0,
	HQIO_SCHED_CREDIT_42,
	HQIO_SCHED_RT,
	HQIO_SCHED_RTDS,
	HQIO_SCHED_N_POLICIES,
};

/* Credit priorities (Xen credit1: BOOST > UNDER > OVER > IDLE). */
enum hqio_sched_prio {
	HQIO_PRIO_RT = 0, /* rt policy: real-time vCPU inside its budget */
	HQIO_PRIO_BOOST,
	HQIO_PRIO_UNDER,
	HQIO_PRIO_OVER,
	HQIO_PRIO_IDLE,
};

struct hqio_sched_config {
	enum hqio_sched_policy policy;
	unsigned n_pcpus;	/* 1..HQIO_SCHED_MAX_PCPUS */
	uint64_t tick_ns;	/* credit tick; 0 = 10 ms (Xen) */
	uint64_t tslice_ns;	/* credit slice and accounting period; 0 = 3 ticks */
	uint64_t ratelimit_ns;	/* credit-4.2 only; 0 = 1 ms (Xen 4.2 default) */
	enum hqio_sched_policy rt_credit; /* rt: the credit version underneath */
	uint64_t rt_budget_ns;	/* rt: default budget per period (0 = policy default) */
	uint64_t rt_period_ns;	/* rt: default period (0 = policy default) */
	uint64_t rtds_period_ns; /* rtds: default period, 0 = 10 ms (Xen) */
	uint64_t rtds_budget_ns; /* rtds: default budget, 0 = 4 ms (Xen) */
};

struct hqio_vcpu_params {
	unsigned domain;	 /* vCPUs of one domain share its weight and cap */
	unsigned weight;	 /* credit; 0 = 256 (Xen default) */
	unsigned cap;		 /* credit: percent of one pCPU, 0 = uncapped */
	unsigned pcpu;		 /* initial pCPU (run queue) */
	bool realtime;		 /* rt: run on its device's interrupt */
	uint64_t rt_budget_ns;	 /* 0 = config default */
	uint64_t rt_period_ns;	 /* 0 = config default */
	uint64_t rtds_period_ns; /* 0 = config default */
	uint64_t rtds_budget_ns; /* 0 = config default */
	bool rtds_no_extratime;	 /* rtds: extratime is on unless this is set */
};

/* What hqio_sched_schedule() decided for a pCPU. */
struct hqio_sched_pick {
	int vcpu;	  /* vCPU id to run, -1 = idle */
	uint64_t until_ns; /* call hqio_sched_schedule again at the latest then */
	bool migrated;	  /* the vCPU was taken from another pCPU's queue */
};

/* Per-vCPU view for tests, tools and statistics. */
struct hqio_vcpu_state {
	unsigned domain;
	unsigned pcpu;		/* run queue it is on / was last on */
	bool runnable;
	bool running;
	enum hqio_sched_prio prio;
	int64_t credit;		/* credit policies (and rt's credit part) */
	bool active;		/* credit: on the active list */
	uint64_t rt_budget_left_ns; /* rt / rtds: budget left in this period */
	uint64_t deadline_ns;	/* rtds: current deadline; rt: period end */
	uint64_t run_ns;	/* total time run, as accounted */
	uint64_t n_scheduled;	/* times picked after another vCPU or idle */
};

struct hqio_sched;

/*
 * The operations table of one policy (Xen's struct scheduler). The generic
 * hqio_sched_* functions below validate arguments and dispatch here; every
 * hook gets the instance and the current time.
 */
struct hqio_sched_ops {
	const char *name;
	const char *source; /* which Xen release / hqio document it follows */
	int (*init)(struct hqio_sched *s);
	void (*fini)(struct hqio_sched *s);
	int (*add_vcpu)(struct hqio_sched *s, int v);
	void (*remove_vcpu)(struct hqio_sched *s, int v);
	void (*wake)(struct hqio_sched *s, int v, uint64_t now);
	void (*sleep)(struct hqio_sched *s, int v, uint64_t now);
	void (*tick)(struct hqio_sched *s, unsigned pcpu, uint64_t now);
	struct hqio_sched_pick (*do_schedule)(struct hqio_sched *s, unsigned pcpu, uint64_t now);
	void (*irq_hint)(struct hqio_sched *s, int v, uint64_t now);
	void (*get_state)(const struct hqio_sched *s, int v, struct hqio_vcpu_state *st);
};

const struct hqio_sched_ops *hqio_sched_ops_of(enum hqio_sched_policy p);
/* "credit-2009", "credit-4.2", "rt", "rtds"; returns -EINVAL for others. */
int hqio_sched_policy_from_name(const char *name, enum hqio_sched_policy *out);
const char *hqio_sched_policy_name(enum hqio_sched_policy p);

/* Create: 0 or -EINVAL (bad config: message in err if non-NULL) / -ENOMEM. */
int hqio_sched_create(const struct hqio_sched_config *cfg, struct hqio_sched **out, char *err,
		      size_t errlen);
void hqio_sched_destroy(struct hqio_sched *s);
/* The configuration with defaults filled in. */
const struct hqio_sched_config *hqio_sched_config_of(const struct hqio_sched *s);

/* Add a vCPU (initially blocked): returns its id >= 0, or -EINVAL/-ENOMEM. */
int hqio_sched_add_vcpu(struct hqio_sched *s, const struct hqio_vcpu_params *p);
int hqio_sched_remove_vcpu(struct hqio_sched *s, int v, uint64_t now);

void hqio_sched_wake(struct hqio_sched *s, int v, uint64_t now);
void hqio_sched_sleep(struct hqio_sched *s, int v, uint64_t now);
void hqio_sched_tick(struct hqio_sched *s, unsigned pcpu, uint64_t now);
void hqio_sched_irq(struct hqio_sched *s, int v, uint64_t now);
struct hqio_sched_pick hqio_sched_schedule(struct hqio_sched *s, unsigned pcpu, uint64_t now);

bool hqio_sched_need_resched(const struct hqio_sched *s, unsigned pcpu);
/* The first pCPU >= from whose need_resched is set, or -1: lets a caller
 * with many pCPUs visit only those (added by lib/sched, not in Xen). */
int hqio_sched_next_resched(const struct hqio_sched *s, unsigned from);
/* The vCPU running on a pCPU (-1 idle). */
int hqio_sched_current(const struct hqio_sched *s, unsigned pcpu);
int hqio_sched_vcpu_state(const struct hqio_sched *s, int v, struct hqio_vcpu_state *st);
/* vCPU ids handed out so far (removed vCPUs keep their ids). */
unsigned hqio_sched_n_vcpus(const struct hqio_sched *s);

#endif
