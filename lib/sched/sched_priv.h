/*
 * lib/sched private data: the instance, per-pCPU, per-domain and per-vCPU
 * structs shared by the generic layer (sched.c) and the policies
 * (credit.c, rt.c, rtds.c). Lists are intrusive and circular, as in Xen.
 */
#ifndef HQIO_SCHED_PRIV_H
#define HQIO_SCHED_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hqio/sched.h"

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL

struct sl_head {
	struct sl_head *next, *prev;
};

static inline void sl_init(struct sl_head *h)
{
	h->next = h->prev = h;
}
static inline bool sl_empty(const struct sl_head *h)
{
	return h->next == h;
}
/* Insert n before pos (at the tail of a list whose head is pos). */
static inline void sl_add_before(struct sl_head *n, struct sl_head *pos)
{
	n->prev = pos->prev;
	n->next = pos;
	pos->prev->next = n;
	pos->prev = n;
}
/* Insert n after pos (at the head of a list whose head is pos). */
static inline void sl_add_after(struct sl_head *n, struct sl_head *pos)
{
	sl_add_before(n, pos->next);
}
static inline void sl_del_init(struct sl_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	sl_init(n);
}
#define sl_entry(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Internal priorities, Xen credit1's values (sched_credit.c; BOOST from
 * 59f9d8ef44, Xen 3.0.4): larger runs first. hqio's real-time level sits above
 * BOOST. */
enum {
	PRI_RT = 1,
	PRI_BOOST = 0,
	PRI_UNDER = -1,
	PRI_OVER = -2,
	PRI_IDLE = -64,
};

/* A domain: weight and cap are shared by its vCPUs (credit). */
struct sched_dom {
	unsigned id;
	unsigned weight;
	unsigned cap;
	unsigned n_vcpus;
	unsigned active_vcpu_count;
	struct sl_head active_vcpu;	 /* its vCPUs on the active list */
	struct sl_head active_sdom_elem; /* on the instance's active_sdom */
};

/* A vCPU. */
struct sched_vcpu {
	int id;
	struct sched_dom *dom;
	unsigned pcpu;
	bool present; /* not removed */
	bool awake;   /* caller's wake/sleep state */
	bool parked;  /* credit: paused by its domain's cap */
	bool running;
	/* rt: running/queued at PRI_RT (pending and budget left); next to pri
	 * because run-queue walks read both (one cache line per vCPU) */
	bool rt_mode;

	/* credit */
	int pri; /* credit priority (PRI_BOOST..PRI_OVER) */
	int64_t credit;
	struct sl_head runq_elem;
	struct sl_head active_elem;
	uint64_t start_ns;   /* credit-4.2: start of the not yet burnt run */
	int64_t burn_rem_ns; /* credit-4.2: run time not yet burnt when switched out */

	/* rt (hqio REAL_TIME) */
	bool realtime;
	bool rt_pending; /* an interrupt arrived and the vCPU has not blocked since */
	uint64_t rt_budget_ns, rt_period_ns;
	uint64_t rt_left_ns, rt_period_end_ns;
	uint64_t rt_stamp_ns;	/* budget accounted up to here while running */
	struct sl_head rt_elem; /* on the instance's list of real-time vCPUs */

	/* rtds */
	uint64_t rtds_period_ns, rtds_budget_ns;
	int64_t cur_budget_ns;
	uint64_t cur_deadline_ns;
	unsigned prio_level;
	bool extratime;
	bool depleted;
	uint64_t last_start_ns;
	uint64_t q_seq; /* rtds: run-queue insertion order (FIFO among equals) */
	bool queued;	/* rtds: on the run queue (or the depleted queue) */

	/* statistics */
	uint64_t run_ns;
	uint64_t n_scheduled;
};

struct sched_pcpu {
	struct sl_head runq;
	int curr; /* vCPU id, -1 idle */
	bool need_resched;
	bool idler; /* credit: in Xen's idlers mask */
	uint64_t tick;
	uint64_t curr_since_ns; /* when curr started running (runstate entry) */
	uint64_t stamp_ns;	/* curr's run_ns accounted up to here */
	unsigned runq_sort_last;
	unsigned last_tickle;
};

struct hqio_sched {
	struct hqio_sched_config cfg;
	const struct hqio_sched_ops *ops;
	struct sched_pcpu *pcpu;
	struct sched_vcpu **vcpu;
	unsigned n_vcpus, cap_vcpus;
	struct sched_dom **dom;
	unsigned n_dom, cap_dom;

	/* credit (also under rt) */
	bool v42; /* credit-4.2 rules */
	struct sl_head active_sdom;
	uint64_t weight; /* sum over active domains (4.2: active vCPUs) */
	int64_t credit;	 /* credits handed out per accounting period */
	int64_t credit_balance;
	unsigned runq_sort;
	uint64_t next_acct_ns;
	int64_t credits_per_tick; /* credit-2009 sampled debit */
	int64_t credits_per_tslice;
	uint64_t tslice_ns;
	unsigned n_idlers;

	/* pCPU sets, one bit each: need_resched set; credit: non-empty run
	 * queue, run queue head of priority UNDER or better, idler (Xen's
	 * idlers mask). They only let load balancing skip peers that
	 * csched_runq_steal would refuse. */
	uint64_t resched_mask[(HQIO_SCHED_MAX_PCPUS + 63) / 64];
	uint64_t runq_mask[(HQIO_SCHED_MAX_PCPUS + 63) / 64];
	uint64_t under_mask[(HQIO_SCHED_MAX_PCPUS + 63) / 64]; /* head UNDER or better */
	uint64_t idle_mask[(HQIO_SCHED_MAX_PCPUS + 63) / 64];

	/* rt */
	bool rt;
	struct sl_head rt_vcpus;

	/* rtds */
	uint64_t rtds_seq;
	uint64_t rtds_next_repl_ns;
};

static inline struct sched_vcpu *sched_v(const struct hqio_sched *s, int id)
{
	return id >= 0 ? s->vcpu[id] : NULL;
}

/* Raise / clear a pCPU's need_resched (Xen: SCHEDULE_SOFTIRQ). */
static inline void sched_set_resched(struct hqio_sched *s, unsigned cpu)
{
	s->pcpu[cpu].need_resched = true;
	s->resched_mask[cpu / 64] |= 1ULL << (cpu % 64);
}

static inline void sched_clear_resched(struct hqio_sched *s, unsigned cpu)
{
	s->pcpu[cpu].need_resched = false;
	s->resched_mask[cpu / 64] &= ~(1ULL << (cpu % 64));
}

#define MASK_WORDS ((HQIO_SCHED_MAX_PCPUS + 63) / 64)

static inline void mask_set(uint64_t *m, unsigned b)
{
	m[b / 64] |= 1ULL << (b % 64);
}

static inline void mask_clear(uint64_t *m, unsigned b)
{
	m[b / 64] &= ~(1ULL << (b % 64));
}

/* The first set bit in [lo, hi), or -1. */
static inline int mask_first(const uint64_t *m, unsigned lo, unsigned hi)
{
	for (unsigned w = lo / 64; lo < hi && w * 64 < hi; w++) {
		uint64_t x = m[w];
		if (w == lo / 64)
			x &= ~0ULL << (lo % 64);
		if (x) {
			unsigned b = w * 64 + (unsigned)__builtin_ctzll(x);
			return b < hi ? (int)b : -1;
		}
	}
	return -1;
}

static inline bool sched_runnable(const struct sched_vcpu *v)
{
	return v->present && v->awake && !v->parked;
}

/* Credit core, shared by the credit policies and rt (credit.c). */
int credit_init(struct hqio_sched *s);
void credit_fini(struct hqio_sched *s);
int credit_add_vcpu(struct hqio_sched *s, int v);
void credit_remove_vcpu(struct hqio_sched *s, int v);
void credit_wake(struct hqio_sched *s, int v, uint64_t now);
void credit_sleep(struct hqio_sched *s, int v, uint64_t now);
void credit_tick(struct hqio_sched *s, unsigned cpu, uint64_t now);
struct hqio_sched_pick credit_schedule(struct hqio_sched *s, unsigned cpu, uint64_t now);
void credit_irq_hint(struct hqio_sched *s, int v, uint64_t now);
void credit_get_state(const struct hqio_sched *s, int v, struct hqio_vcpu_state *st);
/* rt hooks used by the credit core (rt.c) */
int rt_eff_pri(const struct sched_vcpu *v);
void rt_account(struct hqio_sched *s, struct sched_vcpu *v, uint64_t now);
void rt_replenish_pcpu(struct hqio_sched *s, unsigned cpu, uint64_t now);
uint64_t rt_next_event(const struct hqio_sched *s, unsigned cpu, uint64_t now);
/* credit helpers used by rt.c */
void credit_runq_insert(struct hqio_sched *s, unsigned cpu, struct sched_vcpu *v);
void credit_runq_tickle(struct hqio_sched *s, unsigned cpu, struct sched_vcpu *v);
void credit_runq_del(struct hqio_sched *s, struct sched_vcpu *v);

extern const struct hqio_sched_ops credit2009_ops, credit42_ops, rt_ops, rtds_ops;

#endif
