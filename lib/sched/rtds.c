/*
 * Xen's RTDS scheduler (xen/common/sched_rt.c as of Xen 4.10, where
 * 463b958317 "towards work conserving RTDS" added extratime; the file is
 * xen/common/sched/rt.c since 4.13): global EDF over all pCPUs, each vCPU
 * a deferrable server with a budget per period.
 *
 *   - rt_update_deadline: when now passes the deadline, the deadline moves
 *     on by whole periods, the budget is refilled in full (unused budget
 *     is not carried) and the priority level returns to 0.
 *   - burn_budget: run time is charged in nanoseconds; at zero a vCPU with
 *     extratime gets a fresh budget one priority level lower
 *     (priority_level++), one without is depleted until replenishment.
 *   - compare_vcpu_priority: lower priority level first, then earlier
 *     deadline; equal vCPUs keep queue order (deadline_queue_insert puts
 *     a vCPU after those of equal priority).
 *   - rt_schedule: the current vCPU keeps the pCPU only if strictly higher
 *     priority than the best queued one; a pick runs for its budget left.
 *   - runq_tickle: an idle pCPU (the vCPU's own first), else the pCPU
 *     running the lowest-priority vCPU if the woken one beats it.
 *
 * The global run queue is the set of queued vCPUs, searched by priority
 * (O(n) per decision); replenishments are handled at the first hook call
 * at or after the earliest deadline, and every pick's until_ns is bounded
 * by that deadline so the caller comes back in time.
 */
#include <errno.h>

#include "sched_priv.h"

/* <0: a has higher priority than b; 0 equal; >0 lower. */
static int cmp(const struct sched_vcpu *a, const struct sched_vcpu *b)
{
	if (a->prio_level != b->prio_level)
		return a->prio_level < b->prio_level ? -1 : 1;
	if (a->cur_deadline_ns != b->cur_deadline_ns)
		return a->cur_deadline_ns < b->cur_deadline_ns ? -1 : 1;
	return 0;
}

/* Queue order: priority, then insertion order. */
static bool before(const struct sched_vcpu *a, const struct sched_vcpu *b)
{
	int c = cmp(a, b);
	return c ? c < 0 : a->q_seq < b->q_seq;
}

static void update_deadline(struct sched_vcpu *v, uint64_t now)
{
	v->cur_deadline_ns +=
		((now - v->cur_deadline_ns) / v->rtds_period_ns + 1) * v->rtds_period_ns;
	v->cur_budget_ns = (int64_t)v->rtds_budget_ns;
	v->prio_level = 0;
	v->depleted = false;
	v->last_start_ns = now;
}

static void enqueue(struct hqio_sched *s, struct sched_vcpu *v)
{
	v->queued = true;
	v->q_seq = ++s->rtds_seq;
}

static void recompute_next_repl(struct hqio_sched *s)
{
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < s->n_vcpus; i++) {
		const struct sched_vcpu *v = s->vcpu[i];
		if (v->present && sched_runnable(v) && v->cur_deadline_ns < t)
			t = v->cur_deadline_ns;
	}
	s->rtds_next_repl_ns = t;
}

static void tickle(struct hqio_sched *s, struct sched_vcpu *v)
{
	unsigned n = s->cfg.n_pcpus;
	const struct sched_vcpu *lowest = NULL;
	unsigned lowest_cpu = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned c = (v->pcpu + i) % n;
		struct sched_pcpu *pc = &s->pcpu[c];
		const struct sched_vcpu *cur;

		if (pc->need_resched)
			continue; /* already tickled */
		if (pc->curr < 0) {
			sched_set_resched(s, c);
			return;
		}
		cur = s->vcpu[pc->curr];
		if (!lowest || cmp(cur, lowest) > 0) {
			lowest = cur;
			lowest_cpu = c;
		}
	}
	if (lowest && cmp(lowest, v) > 0)
		sched_set_resched(s, lowest_cpu);
}

static void burn(struct sched_vcpu *v, uint64_t now)
{
	if (now <= v->last_start_ns)
		return;
	v->cur_budget_ns -= (int64_t)(now - v->last_start_ns);
	v->last_start_ns = now;
	if (v->cur_budget_ns <= 0) {
		if (v->extratime) {
			v->prio_level++;
			v->cur_budget_ns = (int64_t)v->rtds_budget_ns;
		} else {
			v->cur_budget_ns = 0;
			v->depleted = true;
		}
	}
}

/* repl_timer_handler: replenish every vCPU whose deadline has passed. */
static void replenish(struct hqio_sched *s, uint64_t now)
{
	if (now < s->rtds_next_repl_ns)
		return;
	for (unsigned i = 0; i < s->n_vcpus; i++) {
		struct sched_vcpu *v = s->vcpu[i];

		if (!v->present || !sched_runnable(v) || now < v->cur_deadline_ns)
			continue;
		if (v->running) {
			burn(v, now);
			update_deadline(v, now);
			sched_set_resched(s, v->pcpu);
		} else {
			update_deadline(v, now);
			if (v->queued)
				enqueue(s, v); /* re-sorted: new deadline */
			tickle(s, v);
		}
	}
	recompute_next_repl(s);
}

static int rtds_init(struct hqio_sched *s)
{
	s->rtds_next_repl_ns = UINT64_MAX;
	return 0;
}

static void rtds_fini(struct hqio_sched *s)
{
	(void)s;
}

static int rtds_add_vcpu(struct hqio_sched *s, int id)
{
	struct sched_vcpu *v = s->vcpu[id];

	/* rt_alloc_vdata: deadline 0, so the first update aligns deadlines
	 * to multiples of the period. */
	v->cur_deadline_ns = 0;
	v->cur_budget_ns = (int64_t)v->rtds_budget_ns;
	(void)s;
	return 0;
}

static void rtds_remove_vcpu(struct hqio_sched *s, int id)
{
	s->vcpu[id]->queued = false;
	recompute_next_repl(s);
}

static void rtds_wake(struct hqio_sched *s, int id, uint64_t now)
{
	struct sched_vcpu *v = s->vcpu[id];

	replenish(s, now);
	if (v->running || v->queued)
		return;
	if (now >= v->cur_deadline_ns)
		update_deadline(v, now);
	if (v->cur_deadline_ns < s->rtds_next_repl_ns)
		s->rtds_next_repl_ns = v->cur_deadline_ns;
	enqueue(s, v);
	if (!v->depleted)
		tickle(s, v);
}

static void rtds_sleep(struct hqio_sched *s, int id, uint64_t now)
{
	struct sched_vcpu *v = s->vcpu[id];

	replenish(s, now);
	if (v->running)
		sched_set_resched(s, v->pcpu);
	else
		v->queued = false;
}

static void rtds_tick(struct hqio_sched *s, unsigned cpu, uint64_t now)
{
	(void)cpu;
	replenish(s, now);
}

static struct hqio_sched_pick rtds_schedule(struct hqio_sched *s, unsigned cpu, uint64_t now)
{
	struct sched_pcpu *pc = &s->pcpu[cpu];
	struct sched_vcpu *scurr = sched_v(s, pc->curr), *snext = NULL;
	struct hqio_sched_pick pick = { .vcpu = -1, .until_ns = UINT64_MAX, .migrated = false };

	if (scurr)
		burn(scurr, now);
	replenish(s, now);
	for (unsigned i = 0; i < s->n_vcpus; i++) {
		struct sched_vcpu *v = s->vcpu[i];
		if (v->queued && !v->running && !v->depleted && sched_runnable(v) &&
		    (!snext || before(v, snext)))
			snext = v;
	}
	if (scurr && sched_runnable(scurr) && scurr->cur_budget_ns > 0 && !scurr->depleted &&
	    (!snext || cmp(scurr, snext) < 0))
		snext = scurr;
	if (scurr && snext != scurr && sched_runnable(scurr))
		enqueue(s, scurr); /* RTDS_delayed_runq_add */
	else if (scurr && snext != scurr)
		scurr->queued = false;
	if (snext) {
		snext->queued = false;
		snext->last_start_ns = now;
		if (snext->pcpu != cpu)
			pick.migrated = true;
		snext->pcpu = cpu;
		pick.vcpu = snext->id;
		pick.until_ns = (uint64_t)snext->cur_budget_ns > UINT64_MAX - now
					? UINT64_MAX
					: now + (uint64_t)snext->cur_budget_ns;
	}
	if (s->rtds_next_repl_ns < pick.until_ns)
		pick.until_ns = s->rtds_next_repl_ns;
	return pick;
}

static void rtds_irq(struct hqio_sched *s, int v, uint64_t now)
{
	(void)v;
	replenish(s, now); /* RTDS has no interrupt hint */
}

static void rtds_get_state(const struct hqio_sched *s, int id, struct hqio_vcpu_state *st)
{
	const struct sched_vcpu *v = s->vcpu[id];

	st->prio = v->depleted ? HQIO_PRIO_IDLE : v->prio_level ? HQIO_PRIO_OVER : HQIO_PRIO_RT;
	st->rt_budget_left_ns = (uint64_t)v->cur_budget_ns;
	st->deadline_ns = v->cur_deadline_ns;
}

const struct hqio_sched_ops rtds_ops = {
	.name = "rtds",
	.source = "Xen 4.10 xen/common/sched_rt.c (extratime: 463b958317)",
	.init = rtds_init,
	.fini = rtds_fini,
	.add_vcpu = rtds_add_vcpu,
	.remove_vcpu = rtds_remove_vcpu,
	.wake = rtds_wake,
	.sleep = rtds_sleep,
	.tick = rtds_tick,
	.do_schedule = rtds_schedule,
	.irq_hint = rtds_irq,
	.get_state = rtds_get_state,
};
