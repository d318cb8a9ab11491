/*
 * The simulated hypervisor (hyp.h): timers, context switches and run-time
 * accounting around lib/sched, with vCPU workloads as callbacks.
 *
 * Re-entrancy: workload callbacks may call hyp_wake()/hyp_irq(). Every
 * entry point ends in settle(), which reschedules each pCPU whose
 * need_resched flag is set; nested entries leave that to the outermost
 * one. settle() visits the pCPUs whose flag is set in ascending order
 * (hqio_sched_next_resched), in passes until none is left: the same run
 * as asking every pCPU in turn (hyp_set_scan_all, which a test compares).
 * Burst completions and interrupt handlers of a running vCPU run from
 * their own engine events (at the same instant), never from inside
 * another callback.
 */
#include "hyp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HYP_TAG_TICK  0x48595001u /* "HYP": event tags in the engine trace */
#define HYP_TAG_SLICE 0x48595002u
#define HYP_TAG_DONE  0x48595003u
#define HYP_TAG_IRQ   0x48595004u

/* Fields read at every reschedule first, the workload after the
 * statistics. */
struct hyp_vcpu {
	int sid;  /* the scheduler's vCPU id */
	int pcpu; /* holding this pCPU now, -1 none */
	bool blocked;
	bool irq_pending;
	bool record_latency;
	uint64_t burst_left; /* ns, or HYP_BURST_FOREVER */
	uint64_t irq_since;  /* oldest pending interrupt */
	struct hyp_vcpu_stats st;
	struct hyp_work w;
};

struct hyp_ltimer {
	sim_event_id ev; /* pending event, 0 none */
	uint64_t at;	 /* when it fires */
	uint64_t want;	 /* when the timer is really due, UINT64_MAX none */
};

struct hyp_pcpu {
	unsigned id;
	struct hyp *h;
	int cur;	/* our vCPU index running, -1 idle */
	int last;	/* the last vCPU it ran (context switch counting) */
	uint64_t since; /* start of the current stint (run or idle) */
	sim_event_id ev_tick, ev_irq;
	struct hyp_ltimer slice, done;
	struct hyp_pcpu_stats st;
};

struct hyp {
	struct sim_engine *eng;
	struct hqio_sched *s;
	uint64_t tick_ns;
	unsigned n_pcpus;
	struct hyp_pcpu *pcpus;
	struct hyp_vcpu *vcpus;
	unsigned n_vcpus, cap_vcpus;
	int *by_sid; /* scheduler id -> our index */
	unsigned cap_sid;
	uint64_t t_start, t_sync;
	bool started;
	int depth; /* > 0 while inside an entry point */
	bool scan_all;
};

static void settle(struct hyp *h);
static void reschedule(struct hyp *h, struct hyp_pcpu *c);

/* ------------------------------------------------------------------ */
/* Accounting                                                           */
/* ------------------------------------------------------------------ */

static void account(struct hyp *h, struct hyp_pcpu *c, uint64_t now)
{
	uint64_t d = now - c->since;
	c->since = now;
	if (c->cur < 0) {
		c->st.idle_ns += d;
		return;
	}
	struct hyp_vcpu *v = &h->vcpus[c->cur];
	v->st.run_ns += d;
	c->st.run_ns += d;
	if (v->burst_left != HYP_BURST_FOREVER)
		v->burst_left -= d < v->burst_left ? d : v->burst_left;
}

static int vcpu_of_sid(const struct hyp *h, int sid)
{
	if (sid < 0 || (unsigned)sid >= h->cap_sid)
		return -1;
	return h->by_sid[sid];
}

/* ------------------------------------------------------------------ */
/* Timers                                                               */
/* ------------------------------------------------------------------ */

static void on_done(void *arg, uint64_t now);
static void on_irq_deliver(void *arg, uint64_t now);

/*
 * Lazy timers: a pending event that fires no later than the wanted time
 * is kept (when it fires early it re-arms itself for the wanted time);
 * only a wanted time earlier than the pending event costs a cancel. Slice
 * ends and burst ends move at almost every reschedule, and cancelled
 * events would otherwise fill the engine's heap.
 */
static void ltimer_set(struct hyp *h, struct hyp_ltimer *t, uint64_t want, sim_event_fn fn,
		       void *arg, uint32_t tag)
{
	t->want = want;
	if (t->ev && t->at <= want)
		return;
	if (t->ev)
		sim_cancel(h->eng, t->ev);
	t->ev = 0;
	if (want == UINT64_MAX)
		return;
	t->at = want;
	t->ev = sim_schedule_at(h->eng, want, fn, arg, tag);
}

/* In the timer's event: true when the wanted time has come. */
static bool ltimer_due(struct hyp *h, struct hyp_ltimer *t, uint64_t now, sim_event_fn fn,
		       void *arg, uint32_t tag)
{
	t->ev = 0;
	if (t->want == UINT64_MAX)
		return false;
	if (now < t->want) {
		t->at = t->want;
		t->ev = sim_schedule_at(h->eng, t->want, fn, arg, tag);
		return false;
	}
	t->want = UINT64_MAX;
	return true;
}

static void arm_done(struct hyp *h, struct hyp_pcpu *c)
{
	uint64_t want = UINT64_MAX;
	if (c->cur >= 0) {
		struct hyp_vcpu *v = &h->vcpus[c->cur];
		if (v->burst_left != HYP_BURST_FOREVER)
			want = h->eng->now_ns + v->burst_left;
	}
	ltimer_set(h, &c->done, want, on_done, c, HYP_TAG_DONE);
}

static void on_slice(void *arg, uint64_t now)
{
	struct hyp_pcpu *c = arg;
	struct hyp *h = c->h;
	if (!ltimer_due(h, &c->slice, now, on_slice, c, HYP_TAG_SLICE))
		return;
	h->depth++;
	/* The slice (or the policy's deadline) ended: decide again. */
	reschedule(h, c);
	h->depth--;
	settle(h);
}

static void arm_slice(struct hyp *h, struct hyp_pcpu *c, uint64_t until, uint64_t now)
{
	if (until <= now || !until)
		until = UINT64_MAX;
	ltimer_set(h, &c->slice, until, on_slice, c, HYP_TAG_SLICE);
}

/* ------------------------------------------------------------------ */
/* Scheduling                                                           */
/* ------------------------------------------------------------------ */

/* The vCPU just got the pCPU (or was already on it and an interrupt is
 * pending): run the guest's interrupt handler first. */
static void deliver_irq(struct hyp *h, struct hyp_pcpu *c, uint64_t now)
{
	struct hyp_vcpu *v = &h->vcpus[c->cur];
	if (!v->irq_pending)
		return;
	uint64_t lat = now - v->irq_since;
	v->irq_pending = false;
	v->st.irqs_handled++;
	if (lat > v->st.lat_max_ns)
		v->st.lat_max_ns = lat;
	if (v->record_latency) {
		if (v->st.n_lat == v->st.cap_lat) {
			size_t cap = v->st.cap_lat ? v->st.cap_lat * 2 : 1024;
			uint64_t *n = realloc(v->st.lat_ns, cap * sizeof(*n));
			if (n) {
				v->st.lat_ns = n;
				v->st.cap_lat = cap;
			}
		}
		if (v->st.n_lat < v->st.cap_lat)
			v->st.lat_ns[v->st.n_lat++] = lat;
	}
	if (v->w.irq) {
		uint64_t add = v->w.irq(v->w.arg, h, c->cur, v->irq_since, now);
		if (v->burst_left != HYP_BURST_FOREVER) {
			if (add == HYP_BURST_FOREVER || v->burst_left + add < v->burst_left)
				v->burst_left = HYP_BURST_FOREVER;
			else
				v->burst_left += add;
		}
	}
}

static void reschedule(struct hyp *h, struct hyp_pcpu *c)
{
	uint64_t now = h->eng->now_ns;
	account(h, c, now);
	struct hqio_sched_pick pk = hqio_sched_schedule(h->s, c->id, now);
	c->st.schedules++;
	int next = pk.vcpu < 0 ? -1 : vcpu_of_sid(h, pk.vcpu);
	if (next >= 0 && (h->vcpus[next].blocked ||
			  (h->vcpus[next].pcpu >= 0 && h->vcpus[next].pcpu != (int)c->id)))
		next = -1; /* the policy picked a vCPU that cannot run here: idle */
	if (next != c->cur) {
		if (c->cur >= 0)
			h->vcpus[c->cur].pcpu = -1;
		c->cur = next;
		if (next >= 0) {
			h->vcpus[next].pcpu = (int)c->id;
			if (next != c->last) {
				c->st.switches++;
				h->vcpus[next].st.switches_in++;
			}
			c->last = next;
		}
	}
	if (c->ev_irq) {
		sim_cancel(h->eng, c->ev_irq);
		c->ev_irq = 0;
	}
	if (c->cur >= 0 && h->vcpus[c->cur].irq_pending) {
		h->depth++;
		deliver_irq(h, c, now);
		h->depth--;
	}
	arm_done(h, c);
	arm_slice(h, c, pk.until_ns, now);
}

/* The next pCPU >= from to reschedule, -1 none. */
static int next_resched(const struct hyp *h, unsigned from)
{
	if (!h->scan_all)
		return hqio_sched_next_resched(h->s, from);
	for (unsigned i = from; i < h->n_pcpus; i++)
		if (hqio_sched_need_resched(h->s, i))
			return (int)i;
	return -1;
}

static void settle(struct hyp *h)
{
	if (h->depth > 0 || !h->started)
		return;
	h->depth++;
	/* Passes in ascending pCPU order until no pCPU asks; a policy that
	 * keeps asking is cut off after a bounded number of passes (its
	 * pCPUs' ticks ask again). */
	for (unsigned pass = 0; pass < 4 + 2 * h->n_pcpus; pass++) {
		int i = next_resched(h, 0);
		if (i < 0)
			break;
		for (; i >= 0; i = next_resched(h, (unsigned)i + 1))
			reschedule(h, &h->pcpus[i]);
	}
	h->depth--;
}

static void on_done(void *arg, uint64_t now)
{
	struct hyp_pcpu *c = arg;
	struct hyp *h = c->h;
	if (!ltimer_due(h, &c->done, now, on_done, c, HYP_TAG_DONE) || c->cur < 0)
		return;
	account(h, c, now);
	int vi = c->cur;
	struct hyp_vcpu *v = &h->vcpus[vi];
	if (v->burst_left) { /* stale: the burst grew meanwhile */
		arm_done(h, c);
		return;
	}
	v->st.bursts_done++;
	h->depth++;
	uint64_t next = v->w.burst_done ? v->w.burst_done(v->w.arg, h, vi, now) : 0;
	if (next == 0 && v->burst_left == 0) {
		v->blocked = true;
		hqio_sched_sleep(h->s, v->sid, now);
		reschedule(h, c);
	} else {
		if (next)
			v->burst_left = next;
		arm_done(h, c);
	}
	h->depth--;
	settle(h);
}

static void on_tick(void *arg, uint64_t now)
{
	struct hyp_pcpu *c = arg;
	struct hyp *h = c->h;
	c->ev_tick = sim_schedule(h->eng, h->tick_ns, on_tick, c, HYP_TAG_TICK);
	account(h, c, now);
	c->st.ticks++;
	hqio_sched_tick(h->s, c->id, now);
	settle(h);
}

static void on_irq_deliver(void *arg, uint64_t now)
{
	struct hyp_pcpu *c = arg;
	struct hyp *h = c->h;
	c->ev_irq = 0;
	if (c->cur < 0)
		return;
	account(h, c, now);
	h->depth++;
	deliver_irq(h, c, now);
	arm_done(h, c);
	h->depth--;
	settle(h);
}

/* ------------------------------------------------------------------ */
/* API                                                                  */
/* ------------------------------------------------------------------ */

int hyp_create(struct sim_engine *eng, const struct hqio_sched_config *cfg, struct hyp **out,
	       char *err, size_t errlen)
{
	*out = NULL;
	struct hyp *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	int rc = hqio_sched_create(cfg, &h->s, err, errlen);
	if (rc) {
		free(h);
		return rc;
	}
	const struct hqio_sched_config *c = hqio_sched_config_of(h->s);
	h->eng = eng;
	h->n_pcpus = c->n_pcpus;
	h->tick_ns = c->tick_ns ? c->tick_ns : 10 * SIM_NS_PER_MS;
	h->pcpus = calloc(h->n_pcpus, sizeof(*h->pcpus));
	if (!h->pcpus) {
		hyp_destroy(h);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < h->n_pcpus; i++) {
		h->pcpus[i].id = i;
		h->pcpus[i].h = h;
		h->pcpus[i].cur = -1;
		h->pcpus[i].last = -1;
		h->pcpus[i].slice.want = h->pcpus[i].done.want = UINT64_MAX;
	}
	*out = h;
	return 0;
}

void hyp_destroy(struct hyp *h)
{
	if (!h)
		return;
	for (unsigned i = 0; h->pcpus && i < h->n_pcpus; i++) {
		struct hyp_pcpu *c = &h->pcpus[i];
		sim_cancel(h->eng, c->ev_tick);
		sim_cancel(h->eng, c->slice.ev);
		sim_cancel(h->eng, c->done.ev);
		sim_cancel(h->eng, c->ev_irq);
	}
	for (unsigned i = 0; i < h->n_vcpus; i++)
		free(h->vcpus[i].st.lat_ns);
	hqio_sched_destroy(h->s);
	free(h->pcpus);
	free(h->vcpus);
	free(h->by_sid);
	free(h);
}

int hyp_add_vcpu(struct hyp *h, const struct hqio_vcpu_params *p, const struct hyp_work *w,
		 bool record_latency)
{
	if (h->n_vcpus == h->cap_vcpus) {
		unsigned cap = h->cap_vcpus ? h->cap_vcpus * 2 : 8;
		struct hyp_vcpu *n = realloc(h->vcpus, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		h->vcpus = n;
		h->cap_vcpus = cap;
	}
	int sid = hqio_sched_add_vcpu(h->s, p);
	if (sid < 0)
		return sid;
	if ((unsigned)sid >= h->cap_sid) {
		unsigned cap = h->cap_sid ? h->cap_sid : 8;
		while (cap <= (unsigned)sid)
			cap *= 2;
		int *n = realloc(h->by_sid, cap * sizeof(*n));
		if (!n) {
			hqio_sched_remove_vcpu(h->s, sid, h->eng->now_ns);
			return -ENOMEM;
		}
		for (unsigned i = h->cap_sid; i < cap; i++)
			n[i] = -1;
		h->by_sid = n;
		h->cap_sid = cap;
	}
	int vi = (int)h->n_vcpus++;
	struct hyp_vcpu *v = &h->vcpus[vi];
	memset(v, 0, sizeof(*v));
	v->sid = sid;
	if (w)
		v->w = *w;
	v->blocked = true;
	v->pcpu = -1;
	v->record_latency = record_latency;
	h->by_sid[sid] = vi;
	return vi;
}

void hyp_start(struct hyp *h)
{
	if (h->started)
		return;
	h->started = true;
	h->t_start = h->t_sync = h->eng->now_ns;
	for (unsigned i = 0; i < h->n_pcpus; i++) {
		struct hyp_pcpu *c = &h->pcpus[i];
		c->since = h->eng->now_ns;
		/* Xen arms each pCPU's tick timer when the CPU comes up, so the
		 * ticks of different pCPUs are not aligned: a random phase. */
		uint64_t phase = 1 + sim_rand_below(h->eng, h->tick_ns);
		c->ev_tick = sim_schedule(h->eng, phase, on_tick, c, HYP_TAG_TICK);
	}
	settle(h);
}

void hyp_wake(struct hyp *h, int vcpu, uint64_t burst_ns)
{
	if (vcpu < 0 || (unsigned)vcpu >= h->n_vcpus)
		return;
	struct hyp_vcpu *v = &h->vcpus[vcpu];
	if (!v->blocked) {
		if (v->burst_left != HYP_BURST_FOREVER) {
			if (burst_ns == HYP_BURST_FOREVER ||
			    v->burst_left + burst_ns < v->burst_left)
				v->burst_left = HYP_BURST_FOREVER;
			else
				v->burst_left += burst_ns;
		}
		if (v->pcpu >= 0) {
			struct hyp_pcpu *c = &h->pcpus[v->pcpu];
			account(h, c, h->eng->now_ns);
			arm_done(h, c);
		}
		return;
	}
	v->blocked = false;
	v->burst_left = burst_ns;
	v->st.wakes++;
	hqio_sched_wake(h->s, v->sid, h->eng->now_ns);
	settle(h);
}

void hyp_irq(struct hyp *h, int vcpu)
{
	if (vcpu < 0 || (unsigned)vcpu >= h->n_vcpus)
		return;
	struct hyp_vcpu *v = &h->vcpus[vcpu];
	uint64_t now = h->eng->now_ns;
	v->st.irqs++;
	if (!v->irq_pending) {
		v->irq_pending = true;
		v->irq_since = now;
	}
	hqio_sched_irq(h->s, v->sid, now);
	if (v->pcpu >= 0) {
		/* Running: the handler runs at once, from its own event. */
		struct hyp_pcpu *c = &h->pcpus[v->pcpu];
		if (!c->ev_irq)
			c->ev_irq = sim_schedule(h->eng, 0, on_irq_deliver, c, HYP_TAG_IRQ);
		settle(h);
		return;
	}
	if (v->blocked) {
		v->blocked = false;
		v->burst_left = 0;
		v->st.wakes++;
		hqio_sched_wake(h->s, v->sid, now);
	}
	settle(h);
}

void hyp_set_scan_all(struct hyp *h, bool on)
{
	h->scan_all = on;
}

void hyp_sync(struct hyp *h)
{
	uint64_t now = h->eng->now_ns;
	for (unsigned i = 0; i < h->n_pcpus; i++)
		account(h, &h->pcpus[i], now);
	h->t_sync = now;
}

struct hqio_sched *hyp_sched(struct hyp *h)
{
	return h->s;
}

struct sim_engine *hyp_engine(struct hyp *h)
{
	return h->eng;
}

unsigned hyp_n_pcpus(const struct hyp *h)
{
	return h->n_pcpus;
}

unsigned hyp_n_vcpus(const struct hyp *h)
{
	return h->n_vcpus;
}

const struct hyp_vcpu_stats *hyp_vcpu_stats(const struct hyp *h, int vcpu)
{
	if (vcpu < 0 || (unsigned)vcpu >= h->n_vcpus)
		return NULL;
	return &h->vcpus[vcpu].st;
}

const struct hyp_pcpu_stats *hyp_pcpu_stats(const struct hyp *h, unsigned pcpu)
{
	return pcpu < h->n_pcpus ? &h->pcpus[pcpu].st : NULL;
}

int hyp_running(const struct hyp *h, unsigned pcpu)
{
	return pcpu < h->n_pcpus ? h->pcpus[pcpu].cur : -1;
}

bool hyp_blocked(const struct hyp *h, int vcpu)
{
	return vcpu >= 0 && (unsigned)vcpu < h->n_vcpus && h->vcpus[vcpu].blocked;
}

uint64_t hyp_elapsed_ns(const struct hyp *h)
{
	return h->t_sync - h->t_start;
}
