/*
 * hqio's REAL_TIME policy ("rt"), on top of the credit core (credit.c,
 * version cfg.rt_credit). Rules (docs/sched.md):
 *
 *   1. An interrupt for a real-time vCPU (hqio_sched_irq) marks it pending.
 *      While pending and with budget left in its period it is in rt mode:
 *      priority PRI_RT, above BOOST, queued at the head of its pCPU's run
 *      queue and preempting whatever runs there (also inside credit-4.2's
 *      rate limit).
 *   2. Time run in rt mode is charged to the period's budget. When the
 *      budget is spent, rt mode ends and the vCPU competes under credit.
 *   3. Budgets are replenished in full at period boundaries (multiples of
 *      the period from time 0); unused budget is not carried over. A vCPU
 *      still pending at a replenishment re-enters rt mode.
 *   4. Blocking (hqio_sched_sleep) ends the pending state: the interrupt
 *      has been handled.
 *   5. Credit accounting is unchanged: rt-mode run time is debited from
 *      the vCPU's credit (sampled or burnt), so it runs earlier, not
 *      longer, than under credit alone.
 */
#include <errno.h>

#include "sched_priv.h"

static void refill(struct sched_vcpu *v, uint64_t now)
{
	if (now < v->rt_period_end_ns)
		return;
	v->rt_period_end_ns +=
		((now - v->rt_period_end_ns) / v->rt_period_ns + 1) * v->rt_period_ns;
	v->rt_left_ns = v->rt_budget_ns;
}

int rt_eff_pri(const struct sched_vcpu *v)
{
	return v->rt_mode ? PRI_RT : v->pri;
}

void rt_account(struct hqio_sched *s, struct sched_vcpu *v, uint64_t now)
{
	uint64_t used;

	(void)s;
	if (!v->rt_mode || !v->running)
		return;
	used = now > v->rt_stamp_ns ? now - v->rt_stamp_ns : 0;
	v->rt_left_ns = used >= v->rt_left_ns ? 0 : v->rt_left_ns - used;
	v->rt_stamp_ns = now;
	if (v->rt_left_ns == 0)
		v->rt_mode = false;
}

/* Enter rt mode if pending with budget; requeue at PRI_RT and preempt. */
static void enter(struct hqio_sched *s, struct sched_vcpu *v, uint64_t now)
{
	if (v->rt_mode || !v->rt_pending || v->rt_left_ns == 0)
		return;
	v->rt_mode = true;
	if (v->running) {
		/* Keeps running; reschedule so until_ns bounds the budget. */
		v->rt_stamp_ns = now;
		sched_set_resched(s, v->pcpu);
	} else if (!sl_empty(&v->runq_elem)) {
		credit_runq_del(s, v);
		credit_runq_insert(s, v->pcpu, v);
		credit_runq_tickle(s, v->pcpu, v);
	}
}

void rt_replenish_pcpu(struct hqio_sched *s, unsigned cpu, uint64_t now)
{
	struct sl_head *it;

	(void)cpu;
	for (it = s->rt_vcpus.next; it != &s->rt_vcpus; it = it->next) {
		struct sched_vcpu *v = sl_entry(it, struct sched_vcpu, rt_elem);

		if (now < v->rt_period_end_ns)
			continue;
		rt_account(s, v, now);
		refill(v, now);
		enter(s, v, now);
	}
}

/* Earliest replenishment that would put a vCPU of this pCPU back in rt
 * mode (pending, runnable, out of budget). */
uint64_t rt_next_event(const struct hqio_sched *s, unsigned cpu, uint64_t now)
{
	uint64_t t = UINT64_MAX;
	const struct sl_head *it;

	(void)now;
	for (it = s->rt_vcpus.next; it != &s->rt_vcpus; it = it->next) {
		const struct sched_vcpu *v = sl_entry(it, struct sched_vcpu, rt_elem);

		if (v->pcpu == cpu && v->rt_pending && !v->rt_mode && sched_runnable(v) &&
		    v->rt_period_end_ns < t)
			t = v->rt_period_end_ns;
	}
	return t;
}

static int rt_init(struct hqio_sched *s)
{
	s->rt = true;
	return credit_init(s);
}

static int rt_add_vcpu(struct hqio_sched *s, int id)
{
	struct sched_vcpu *v = s->vcpu[id];
	int rc = credit_add_vcpu(s, id);

	if (rc || !v->realtime)
		return rc;
	v->rt_period_end_ns = v->rt_period_ns;
	v->rt_left_ns = v->rt_budget_ns;
	sl_add_before(&v->rt_elem, &s->rt_vcpus);
	return 0;
}

static void rt_irq(struct hqio_sched *s, int id, uint64_t now)
{
	struct sched_vcpu *v = s->vcpu[id];

	if (!v->realtime)
		return;
	rt_account(s, v, now);
	refill(v, now);
	v->rt_pending = true;
	enter(s, v, now);
}

const struct hqio_sched_ops rt_ops = {
	.name = "rt",
	.source = "hqio REAL_TIME policy (docs/sched.md) over Xen credit1 (cfg.rt_credit)",
	.init = rt_init,
	.fini = credit_fini,
	.add_vcpu = rt_add_vcpu,
	.remove_vcpu = credit_remove_vcpu,
	.wake = credit_wake,
	.sleep = credit_sleep,
	.tick = credit_tick,
	.do_schedule = credit_schedule,
	.irq_hint = rt_irq,
	.get_state = credit_get_state,
};
