/*
 * Xen's credit scheduler (credit1), in two versions:
 *
 *   credit-2009: xen/common/sched_credit.c as released in Xen 3.4.0 (tag
 *     3.4.0-branched, fcaf4a2871, April 2009; the same rules as 3.3):
 *     a 10 ms tick debits a fixed 100 credits from the vCPU it finds
 *     running (sampled accounting), every 30 ms the master pCPU hands out
 *     credits by domain weight, and a vCPU above one slice's worth of
 *     credit (300) leaves the active list with its credit reset to 0.
 *   credit-4.2: the same file at RELEASE-4.2.0: exact burn of the time run
 *     (78c9b2a64b "Accurate accounting", Xen 4.0), halving instead of the
 *     reset (c92d5f4e0f "Tweak reset condition", Xen 4.1), weight counted
 *     per active vCPU (3a37d430ce, Xen 4.1), one idler tickled per wake
 *     (e4434634c4, Xen 4.1) and the context-switch rate limit
 *     (64908a0466 "Use delay to control scheduling frequency", Xen 4.2,
 *     default 1000 us: SCHED_DEFAULT_RATELIMIT_US in sched-if.h).
 *
 * The rt policy (rt.c) runs on this core: a vCPU in real-time mode has
 * priority PRI_RT above BOOST and is accounted by credit like any other.
 *
 * Topology is flat (each pCPU its own core and socket). On such a machine
 * Xen's csched_cpu_pick() always keeps a vCPU on its current pCPU, so the
 * tick-time migration check of csched_vcpu_acct() never fires and is not
 * modelled; idle pCPUs take work with csched_load_balance() as in Xen.
 */
#include <errno.h>
#include <stdlib.h>

#include "sched_priv.h"

/* sched_credit.c 3.4: CSCHED_DEFAULT_WEIGHT. */
#define CSCHED_DEFAULT_WEIGHT 256
/* sched_credit.c 3.4: CSCHED_CREDITS_PER_TICK, the sampled debit per tick
 * (87410b08dc, Xen 3.0.4). */
#define CSCHED_CREDITS_PER_TICK 100
/* sched_credit.c 4.0+ (78c9b2a64b): CSCHED_CREDITS_PER_MSEC. */
#define CSCHED_CREDITS_PER_MSEC 10

static inline int eff_pri(const struct sched_vcpu *v)
{
	return v->rt_mode ? PRI_RT : v->pri;
}

static bool on_runq(const struct sched_vcpu *v)
{
	return !sl_empty(&v->runq_elem);
}

static struct sched_vcpu *runq_elem(struct sl_head *e)
{
	return sl_entry(e, struct sched_vcpu, runq_elem);
}

/* Refresh a pCPU's bits in runq_mask and under_mask from its queue head. */
static void runq_masks(struct hqio_sched *s, unsigned cpu)
{
	struct sl_head *rq = &s->pcpu[cpu].runq;

	if (sl_empty(rq)) {
		mask_clear(s->runq_mask, cpu);
		mask_clear(s->under_mask, cpu);
		return;
	}
	mask_set(s->runq_mask, cpu);
	if (eff_pri(runq_elem(rq->next)) >= PRI_UNDER)
		mask_set(s->under_mask, cpu);
	else
		mask_clear(s->under_mask, cpu);
}

/*
 * __runq_insert (46ecd27056, Xen 3.0.3 onward): after every vCPU of equal or higher
 * priority, i.e. before the first one of strictly lower priority.
 */
void credit_runq_insert(struct hqio_sched *s, unsigned cpu, struct sched_vcpu *v)
{
	struct sl_head *rq = &s->pcpu[cpu].runq, *it;

	v->pcpu = cpu;
	for (it = rq->next; it != rq; it = it->next)
		if (eff_pri(v) > eff_pri(runq_elem(it)))
			break;
	sl_add_before(&v->runq_elem, it);
	/* The masks follow the queue head (every change of a queued vCPU's
	 * priority goes through del/insert or refreshes them): behind the
	 * head, nothing they say changes. */
	if (rq->next == &v->runq_elem)
		runq_masks(s, cpu);
}

/* Remove a vCPU from the run queue it is on (that of v->pcpu). */
void credit_runq_del(struct hqio_sched *s, struct sched_vcpu *v)
{
	bool head = s->pcpu[v->pcpu].runq.next == &v->runq_elem;

	sl_del_init(&v->runq_elem);
	if (head)
		runq_masks(s, v->pcpu);
}

static void set_idler(struct hqio_sched *s, unsigned cpu, bool idle)
{
	struct sched_pcpu *pc = &s->pcpu[cpu];

	if (pc->idler == idle)
		return;
	pc->idler = idle;
	if (idle) {
		mask_set(s->idle_mask, cpu);
		s->n_idlers++;
	} else {
		mask_clear(s->idle_mask, cpu);
		s->n_idlers--;
	}
}

static void set_resched(struct hqio_sched *s, unsigned cpu)
{
	sched_set_resched(s, cpu);
}

/*
 * __runq_tickle: preempt the pCPU's current vCPU if the new one has a
 * strictly higher priority; if the pCPU is busy, wake idlers so they can
 * steal the work (Xen 3.4: all idlers; Xen 4.1+ e4434634c4: one, cycling).
 */
void credit_runq_tickle(struct hqio_sched *s, unsigned cpu, struct sched_vcpu *v)
{
	struct sched_pcpu *pc = &s->pcpu[cpu];
	const struct sched_vcpu *cur = sched_v(s, pc->curr);
	int cur_pri = cur ? eff_pri(cur) : PRI_IDLE;
	unsigned n = s->cfg.n_pcpus;

	if (eff_pri(v) > cur_pri)
		set_resched(s, cpu);
	if (cur_pri > PRI_IDLE && s->n_idlers) {
		if (s->v42) {
			int c = mask_first(s->idle_mask, pc->last_tickle + 1, n);
			if (c < 0)
				c = mask_first(s->idle_mask, 0, pc->last_tickle + 1);
			pc->last_tickle = (unsigned)c;
			set_resched(s, (unsigned)c);
		} else {
			for (int c = mask_first(s->idle_mask, 0, n); c >= 0;
			     c = mask_first(s->idle_mask, (unsigned)c + 1, n))
				set_resched(s, (unsigned)c);
		}
	}
}

/* Domain weight as counted in the total: per domain (3.4), per active
 * vCPU (4.1+, 3a37d430ce "credit1: Make weight per-vcpu"). */
static void acct_start(struct hqio_sched *s, struct sched_vcpu *v)
{
	struct sched_dom *d = v->dom;

	if (!sl_empty(&v->active_elem))
		return;
	d->active_vcpu_count++;
	sl_add_after(&v->active_elem, &d->active_vcpu);
	if (s->v42)
		s->weight += d->weight;
	if (sl_empty(&d->active_sdom_elem)) {
		sl_add_after(&d->active_sdom_elem, &s->active_sdom);
		if (!s->v42)
			s->weight += d->weight;
	}
}

static void acct_stop(struct hqio_sched *s, struct sched_vcpu *v)
{
	struct sched_dom *d = v->dom;

	d->active_vcpu_count--;
	sl_del_init(&v->active_elem);
	if (s->v42)
		s->weight -= d->weight;
	if (sl_empty(&d->active_vcpu)) {
		sl_del_init(&d->active_sdom_elem);
		if (!s->v42)
			s->weight -= d->weight;
	}
}

/*
 * burn_credits (Xen 4.0, 78c9b2a64b): debit the time run since start_ns at
 * CSCHED_CREDITS_PER_MSEC, rounded to the nearest credit, and keep the
 * remainder for next time.
 */
static void burn_credits(struct sched_vcpu *v, uint64_t now)
{
	uint64_t credits;

	if (now <= v->start_ns)
		return;
	credits = ((now - v->start_ns) * CSCHED_CREDITS_PER_MSEC + NS_PER_MS / 2) / NS_PER_MS;
	v->credit -= (int64_t)credits;
	v->start_ns += credits * NS_PER_MS / CSCHED_CREDITS_PER_MSEC;
}

/* Caps park an over-spent vCPU (vcpu_pause_nosync) until its credit is
 * positive again (c1c2224094, Xen 3.0.4). */
static void park(struct hqio_sched *s, struct sched_vcpu *v)
{
	v->parked = true; /* vcpu_pause_nosync: not runnable any more */
	if (v->running)
		set_resched(s, v->pcpu);
	else if (on_runq(v))
		credit_runq_del(s, v);
}

static void unpark(struct hqio_sched *s, struct sched_vcpu *v, uint64_t now)
{
	/* vcpu_unpause() wakes the vCPU while PARKED is still set, so it is
	 * not boosted; the flag is cleared after (sched_credit.c 3.4). */
	if (v->awake && v->present && !v->running && !on_runq(v)) {
		credit_runq_insert(s, v->pcpu, v);
		credit_runq_tickle(s, v->pcpu, v);
	}
	v->parked = false;
	(void)now;
}

/*
 * csched_acct: hand out one accounting period's credits among the active
 * domains by weight, bounded by what their active vCPUs can use
 * (credit_peak) and by their cap; recompute priorities; vCPUs with more
 * than one slice's worth leave the active list (3.4: credit reset to 0,
 * c1c2224094; 4.1+: halved, c92d5f4e0f). Weight arithmetic per domain in
 * 3.4, per active vCPU in 4.1+ (3a37d430ce).
 */
static void csched_acct(struct hqio_sched *s, uint64_t now)
{
	int64_t weight_total = (int64_t)s->weight, credit_total = s->credit;
	int64_t weight_left, credit_balance = 0, credit_fair, credit_peak, credit_cap = 0;
	int64_t per_tslice = s->credits_per_tslice;
	bool credit_xtra = false;
	struct sl_head *di, *dn, *vi, *vn;

	if (s->credit_balance < 0)
		credit_total -= s->credit_balance;
	if (weight_total == 0) {
		s->credit_balance = 0;
		return;
	}
	weight_left = weight_total;
	for (di = s->active_sdom.next; di != &s->active_sdom; di = dn) {
		struct sched_dom *d = sl_entry(di, struct sched_dom, active_sdom_elem);
		int64_t dw = (int64_t)d->weight * (s->v42 ? d->active_vcpu_count : 1);

		dn = di->next;
		weight_left -= dw;
		credit_peak = (int64_t)d->active_vcpu_count * per_tslice;
		if (s->credit_balance < 0)
			credit_peak +=
				(-s->credit_balance * dw + (weight_total - 1)) / weight_total;
		if (d->cap != 0) {
			credit_cap = ((int64_t)d->cap * per_tslice + 99) / 100;
			if (credit_cap < credit_peak)
				credit_peak = credit_cap;
			credit_cap =
				(credit_cap + (d->active_vcpu_count - 1)) / d->active_vcpu_count;
		}
		credit_fair = (credit_total * dw + (weight_total - 1)) / weight_total;
		if (credit_fair < credit_peak) {
			credit_xtra = true;
		} else {
			if (weight_left != 0)
				credit_total += ((credit_fair - credit_peak) * weight_total +
						 (weight_left - 1)) /
						weight_left;
			if (credit_xtra) {
				sl_del_init(&d->active_sdom_elem);
				sl_add_after(&d->active_sdom_elem, &s->active_sdom);
			}
			credit_fair = credit_peak;
		}
		credit_fair = (credit_fair + (d->active_vcpu_count - 1)) / d->active_vcpu_count;

		for (vi = d->active_vcpu.next; vi != &d->active_vcpu; vi = vn) {
			struct sched_vcpu *v = sl_entry(vi, struct sched_vcpu, active_elem);

			vn = vi->next;
			v->credit += credit_fair;
			if (v->credit < 0) {
				v->pri = PRI_OVER;
				if (d->cap != 0 && v->credit < -credit_cap && !v->parked)
					park(s, v);
				if (v->credit < -per_tslice)
					v->credit = -per_tslice;
			} else {
				v->pri = PRI_UNDER;
				if (v->parked)
					unpark(s, v, now);
				if (v->credit > per_tslice) {
					acct_stop(s, v);
					v->credit = s->v42 ? v->credit / 2 : 0;
				}
			}
			credit_balance += v->credit;
		}
	}
	s->credit_balance = credit_balance;
	s->runq_sort++;
	/* Priorities of queued vCPUs changed in place. */
	for (unsigned c = 0; c < s->cfg.n_pcpus; c++)
		runq_masks(s, c);
}

/*
 * csched_runq_sort (46ecd27056): once per accounting period, move UNDER (and higher)
 * vCPUs ahead of OVER ones, keeping their order.
 */
static void runq_sort(struct hqio_sched *s, unsigned cpu)
{
	struct sched_pcpu *pc = &s->pcpu[cpu];
	struct sl_head *rq = &pc->runq, *e, *next, *last_under = rq;

	if (pc->runq_sort_last == s->runq_sort)
		return;
	pc->runq_sort_last = s->runq_sort;
	for (e = rq->next; e != rq; e = next) {
		next = e->next;
		if (eff_pri(runq_elem(e)) >= PRI_UNDER) {
			if (e->prev != last_under) {
				sl_del_init(e);
				sl_add_after(e, last_under);
			}
			last_under = e;
		}
	}
	runq_masks(s, cpu);
}

/* csched_tick: account the running vCPU, accounting duty on the master
 * (pCPU 0) every accounting period, then the run-queue sort. */
void credit_tick(struct hqio_sched *s, unsigned cpu, uint64_t now)
{
	struct sched_pcpu *pc = &s->pcpu[cpu];
	struct sched_vcpu *v = sched_v(s, pc->curr);

	pc->tick++;
	if (v) {
		/* csched_vcpu_acct: a vCPU found running at a tick is using
		 * real CPU time: it loses BOOST (59f9d8ef44, Xen 3.0.4). */
		if (v->pri == PRI_BOOST)
			v->pri = PRI_UNDER;
		if (s->v42)
			burn_credits(v, now);
		else
			v->credit -= s->credits_per_tick;
		if (sl_empty(&v->active_elem))
			acct_start(s, v);
	}
	if (s->rt)
		rt_replenish_pcpu(s, cpu, now);
	/* csched_priv.master_ticker: every accounting period (3 ticks in
	 * 3.4, tslice_ms in 4.2), boundaries at multiples of the period. */
	if (cpu == 0 && now >= s->next_acct_ns) {
		csched_acct(s, now);
		while (s->next_acct_ns <= now)
			s->next_acct_ns += s->tslice_ns;
	}
	runq_sort(s, cpu);
}

/* csched_runq_steal (46ecd27056, the first credit scheduler, Xen 3.0.3):
 * the first queued vCPU of strictly higher priority
 * than ours on a busy peer. Queued vCPUs are not running, and with
 * vcpu_migration_delay 0 (the default) none is cache-hot. */
static struct sched_vcpu *runq_steal(struct hqio_sched *s, unsigned peer, unsigned cpu, int pri)
{
	struct sched_pcpu *pp = &s->pcpu[peer];
	struct sched_vcpu *sp;
	struct sl_head *it;

	if (pp->curr < 0)
		return NULL;
	it = pp->runq.next;
	if (it == &pp->runq || eff_pri(runq_elem(it)) <= pri)
		return NULL;
	sp = runq_elem(it);
	credit_runq_del(s, sp);
	sp->pcpu = cpu;
	return sp;
}

/* csched_load_balance: peek at busy pCPUs starting with our neighbour. */
static struct sched_vcpu *load_balance(struct hqio_sched *s, unsigned cpu, struct sched_vcpu *snext,
				       bool *stolen)
{
	unsigned n = s->cfg.n_pcpus;
	int pri = snext ? eff_pri(snext) : PRI_IDLE;
	uint64_t workers[MASK_WORDS];

	/* Busy pCPUs whose queue head beats us (OVER or idle: any other has
	 * nothing to give), from our neighbour on, cycling. */
	for (unsigned w = 0; w < MASK_WORDS; w++)
		workers[w] =
			(pri == PRI_IDLE ? s->runq_mask[w] : s->under_mask[w]) & ~s->idle_mask[w];
	mask_clear(workers, cpu);
	for (int pass = 0; pass < 2; pass++) {
		unsigned lo = pass ? 0 : cpu + 1, hi = pass ? cpu : n;
		for (int peer = mask_first(workers, lo, hi); peer >= 0;
		     peer = mask_first(workers, (unsigned)peer + 1, hi)) {
			struct sched_vcpu *sp = runq_steal(s, (unsigned)peer, cpu, pri);
			if (sp) {
				*stolen = true;
				return sp;
			}
		}
	}
	if (snext)
		credit_runq_del(s, snext);
	return snext;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* csched_schedule. */
struct hqio_sched_pick credit_schedule(struct hqio_sched *s, unsigned cpu, uint64_t now)
{
	struct sched_pcpu *pc = &s->pcpu[cpu];
	struct sched_vcpu *scurr = sched_v(s, pc->curr), *snext;
	struct hqio_sched_pick pick = { .vcpu = -1, .until_ns = UINT64_MAX, .migrated = false };
	uint64_t tslice = s->tslice_ns;
	struct sl_head *rq = &pc->runq;

	if (s->rt)
		rt_replenish_pcpu(s, cpu, now);
	if (scurr) {
		if (s->v42) {
			/* Xen 4.0+: burn, then keep the unburnt remainder
			 * (start_time -= now ... start_time += now). */
			burn_credits(scurr, now);
			scurr->burn_rem_ns = (int64_t)(now - scurr->start_ns);
		}
		if (s->rt)
			rt_account(s, scurr, now);
	}
	/*
	 * Rate limit (Xen 4.2, 64908a0466): a runnable vCPU that has run for
	 * less than ratelimit since it was switched in keeps the pCPU, for
	 * one more ratelimit. hqio's rt: a real-time vCPU (PRI_RT) waiting
	 * at the head of the queue is not held back by it.
	 */
	if (s->v42 && s->cfg.ratelimit_ns && scurr && sched_runnable(scurr) &&
	    now - pc->curr_since_ns < s->cfg.ratelimit_ns &&
	    !(!sl_empty(rq) && eff_pri(runq_elem(rq->next)) == PRI_RT && !scurr->rt_mode)) {
		snext = scurr;
		tslice = s->cfg.ratelimit_ns;
		goto out;
	}
	if (scurr && sched_runnable(scurr))
		credit_runq_insert(s, cpu, scurr);
	snext = sl_empty(rq) ? NULL : runq_elem(rq->next);
	if (snext && eff_pri(snext) > PRI_OVER)
		credit_runq_del(s, snext);
	else
		snext = load_balance(s, cpu, snext, &pick.migrated);
	set_idler(s, cpu, !snext);
out:
	if (snext) {
		pick.vcpu = snext->id;
		pick.until_ns = add_sat(now, tslice);
		if (s->v42)
			snext->start_ns = (uint64_t)((int64_t)now - snext->burn_rem_ns);
		if (snext->rt_mode)
			snext->rt_stamp_ns = now;
	}
	if (s->rt) {
		uint64_t t = rt_next_event(s, cpu, now);
		if (snext && snext->rt_mode && add_sat(now, snext->rt_left_ns) < t)
			t = add_sat(now, snext->rt_left_ns);
		if (t < pick.until_ns)
			pick.until_ns = t;
	}
	return pick;
}

void credit_wake(struct hqio_sched *s, int id, uint64_t now)
{
	struct sched_vcpu *v = s->vcpu[id];

	(void)now;
	if (v->running || on_runq(v) || !sched_runnable(v))
		return;
	/* Boost on wake only from UNDER and never for a parked vCPU (Xen
	 * 59f9d8ef44, Xen 3.0.4; the parked exception came with caps, c1c2224094). */
	if (v->pri == PRI_UNDER && !v->parked)
		v->pri = PRI_BOOST;
	credit_runq_insert(s, v->pcpu, v);
	credit_runq_tickle(s, v->pcpu, v);
}

void credit_sleep(struct hqio_sched *s, int id, uint64_t now)
{
	struct sched_vcpu *v = s->vcpu[id];

	if (s->rt && v->realtime) {
		if (v->running)
			rt_account(s, v, now);
		v->rt_pending = false;
		v->rt_mode = false;
	}
	if (v->running)
		set_resched(s, v->pcpu);
	else if (on_runq(v))
		credit_runq_del(s, v);
}

int credit_init(struct hqio_sched *s)
{
	const struct hqio_sched_config *c = &s->cfg;

	sl_init(&s->active_sdom);
	s->v42 = c->policy == HQIO_SCHED_CREDIT_42 ||
		 (c->policy == HQIO_SCHED_RT && c->rt_credit == HQIO_SCHED_CREDIT_42);
	s->tslice_ns = c->tslice_ns;
	/* 3.4: credits per tick fixed, a slice (and accounting period) worth
	 * CSCHED_CREDITS_PER_TICK * ticks; 4.2: CREDITS_PER_MSEC * tslice_ms. */
	s->credits_per_tick = CSCHED_CREDITS_PER_TICK;
	if (s->v42)
		s->credits_per_tslice =
			(int64_t)(CSCHED_CREDITS_PER_MSEC * c->tslice_ns / NS_PER_MS);
	else
		s->credits_per_tslice =
			(int64_t)(CSCHED_CREDITS_PER_TICK * (c->tslice_ns / c->tick_ns));
	if (s->credits_per_tslice < 1)
		s->credits_per_tslice = 1;
	/* csched_pcpu_init: each pCPU adds one accounting period's credits. */
	s->credit = s->credits_per_tslice * c->n_pcpus;
	s->next_acct_ns = s->tslice_ns;
	for (unsigned i = 0; i < c->n_pcpus; i++)
		set_idler(s, i, true); /* csched_pcpu_init sets the idler bit */
	return 0;
}

void credit_fini(struct hqio_sched *s)
{
	(void)s;
}

int credit_add_vcpu(struct hqio_sched *s, int id)
{
	struct sched_vcpu *v = s->vcpu[id];

	if (v->dom->weight == 0)
		v->dom->weight = CSCHED_DEFAULT_WEIGHT;
	v->credit = 0;
	v->pri = PRI_UNDER; /* csched_vcpu_init */
	return 0;
}

void credit_remove_vcpu(struct hqio_sched *s, int id)
{
	struct sched_vcpu *v = s->vcpu[id];

	if (on_runq(v))
		credit_runq_del(s, v);
	if (!sl_empty(&v->active_elem))
		acct_stop(s, v);
	if (!sl_empty(&v->rt_elem))
		sl_del_init(&v->rt_elem);
}

void credit_irq_hint(struct hqio_sched *s, int v, uint64_t now)
{
	(void)s;
	(void)v;
	(void)now;
}

void credit_get_state(const struct hqio_sched *s, int id, struct hqio_vcpu_state *st)
{
	const struct sched_vcpu *v = s->vcpu[id];
	int p = eff_pri(v);

	st->prio = p == PRI_RT	    ? HQIO_PRIO_RT
		   : p == PRI_BOOST ? HQIO_PRIO_BOOST
		   : p == PRI_UNDER ? HQIO_PRIO_UNDER
		   : p == PRI_OVER  ? HQIO_PRIO_OVER
				    : HQIO_PRIO_IDLE;
	st->credit = v->credit;
	st->active = !sl_empty(&v->active_elem);
	if (v->realtime) {
		st->rt_budget_left_ns = v->rt_left_ns;
		st->deadline_ns = v->rt_period_end_ns;
	}
}

/* Both versions run the same hooks: the policy in the configuration selects
 * the rules where they differ. */
#define CREDIT_HOOKS                                                                               \
	.init = credit_init, .fini = credit_fini, .add_vcpu = credit_add_vcpu,                     \
	.remove_vcpu = credit_remove_vcpu, .wake = credit_wake, .sleep = credit_sleep,             \
	.tick = credit_tick, .do_schedule = credit_schedule, .irq_hint = credit_irq_hint,          \
	.get_state = credit_get_state

const struct hqio_sched_ops credit2009_ops = {
	.name = "credit-2009",
	.source = "Xen 3.4.0 xen/common/sched_credit.c (fcaf4a2871); same rules as 3.3",
	CREDIT_HOOKS,
};

const struct hqio_sched_ops credit42_ops = {
	.name = "credit-4.2",
	.source = "Xen RELEASE-4.2.0 xen/common/sched_credit.c: burn 78c9b2a64b (4.0), halving "
		  "c92d5f4e0f (4.1), ratelimit 64908a0466 (4.2)",
	CREDIT_HOOKS,
};
