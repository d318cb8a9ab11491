/*
 * lib/sched generic layer: policy table, argument checks, the per-pCPU
 * "current" bookkeeping and run-time statistics; every decision is the
 * policy's (credit.c, rt.c, rtds.c), reached through its ops table as in
 * Xen's common/schedule.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_priv.h"

/* Defaults. Xen 3.4 sched_credit.c: CSCHED_MSECS_PER_TICK 10,
 * CSCHED_TICKS_PER_TSLICE 3; Xen 4.2 sched-if.h SCHED_DEFAULT_RATELIMIT_US
 * 1000; Xen 4.10 sched_rt.c RTDS_DEFAULT_PERIOD 10000 us,
 * RTDS_DEFAULT_BUDGET 4000 us. The rt defaults are hqio's (docs/sched.md). */
#define DEFAULT_TICK_NS	       (10 * NS_PER_MS)
#define TICKS_PER_TSLICE       3
#define DEFAULT_RATELIMIT_NS   (1000 * NS_PER_US)
#define DEFAULT_RTDS_PERIOD_NS (10 * NS_PER_MS)
#define DEFAULT_RTDS_BUDGET_NS (4 * NS_PER_MS)
#define DEFAULT_RT_PERIOD_NS   (10 * NS_PER_MS)
#define DEFAULT_RT_BUDGET_NS   (2 * NS_PER_MS)
/* Xen's domctl carries weight and cap as uint16_t. */
#define MAX_WEIGHT 65535u
#define MAX_CAP	   65535u
/* Bounds of hqio's choosing, to keep arithmetic far from overflow. */
#define MIN_TIME_NS NS_PER_US
#define MAX_TIME_NS (3600ULL * 1000 * NS_PER_MS)

static const char *const policy_names[HQIO_SCHED_N_POLICIES] = {
	[HQIO_SCHED_CREDIT_2009] = "credit-2009",
	[HQIO_SCHED_CREDIT_42] = "credit-4.2",
	[HQIO_SCHED_RT] = "rt",
	[HQIO_SCHED_RTDS] = "rtds",
};

const struct hqio_sched_ops *hqio_sched_ops_of(enum hqio_sched_policy p)
{
	switch (p) {
	case HQIO_SCHED_CREDIT_2009:
		return &credit2009_ops;
	case HQIO_SCHED_CREDIT_42:
		return &credit42_ops;
	case HQIO_SCHED_RT:
		return &rt_ops;
	case HQIO_SCHED_RTDS:
		return &rtds_ops;
	default:
		return NULL;
	}
}

int hqio_sched_policy_from_name(const char *name, enum hqio_sched_policy *out)
{
	if (!name || !out)
		return -EINVAL;
	for (unsigned i = 0; i < HQIO_SCHED_N_POLICIES; i++)
		if (strcmp(name, policy_names[i]) == 0) {
			*out = (enum hqio_sched_policy)i;
			return 0;
		}
	return -EINVAL;
}

const char *hqio_sched_policy_name(enum hqio_sched_policy p)
{
	return (unsigned)p < HQIO_SCHED_N_POLICIES ? policy_names[p] : NULL;
}

static int cfg_error(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "sched: %s", msg);
	return -EINVAL;
}

static bool time_ok(uint64_t t)
{
	return t >= MIN_TIME_NS && t <= MAX_TIME_NS;
}

static int fill_config(struct hqio_sched_config *c, char *err, size_t errlen)
{
	if ((unsigned)c->policy >= HQIO_SCHED_N_POLICIES)
		return cfg_error(err, errlen, "unknown policy");
	if (c->n_pcpus < 1 || c->n_pcpus > HQIO_SCHED_MAX_PCPUS)
		return cfg_error(err, errlen, "n_pcpus must be 1..256");
	if (!c->tick_ns)
		c->tick_ns = DEFAULT_TICK_NS;
	if (!c->tslice_ns)
		c->tslice_ns = TICKS_PER_TSLICE * c->tick_ns;
	if (!time_ok(c->tick_ns) || !time_ok(c->tslice_ns))
		return cfg_error(err, errlen, "tick_ns and tslice_ns must be 1 us..1 h");
	if (c->tslice_ns < c->tick_ns)
		return cfg_error(err, errlen, "tslice_ns must be at least one tick");
	if (!c->ratelimit_ns)
		c->ratelimit_ns = DEFAULT_RATELIMIT_NS;
	if (c->ratelimit_ns > MAX_TIME_NS)
		return cfg_error(err, errlen, "ratelimit_ns too large");
	/* Xen 4.2 csched_init: a rate limit above the slice becomes the slice. */
	if (c->ratelimit_ns > c->tslice_ns)
		c->ratelimit_ns = c->tslice_ns;
	if (c->rt_credit != HQIO_SCHED_CREDIT_2009 && c->rt_credit != HQIO_SCHED_CREDIT_42)
		return cfg_error(err, errlen, "rt_credit must be credit-2009 or credit-4.2");
	if (!c->rt_period_ns)
		c->rt_period_ns = DEFAULT_RT_PERIOD_NS;
	if (!c->rt_budget_ns)
		c->rt_budget_ns = DEFAULT_RT_BUDGET_NS < c->rt_period_ns ? DEFAULT_RT_BUDGET_NS
									 : c->rt_period_ns;
	if (!time_ok(c->rt_period_ns) || !time_ok(c->rt_budget_ns) ||
	    c->rt_budget_ns > c->rt_period_ns)
		return cfg_error(err, errlen, "rt budget must be 1 us..period, period 1 us..1 h");
	if (!c->rtds_period_ns)
		c->rtds_period_ns = DEFAULT_RTDS_PERIOD_NS;
	if (!c->rtds_budget_ns)
		c->rtds_budget_ns = DEFAULT_RTDS_BUDGET_NS < c->rtds_period_ns
					    ? DEFAULT_RTDS_BUDGET_NS
					    : c->rtds_period_ns;
	if (!time_ok(c->rtds_period_ns) || !time_ok(c->rtds_budget_ns) ||
	    c->rtds_budget_ns > c->rtds_period_ns)
		return cfg_error(err, errlen, "rtds budget must be 1 us..period, period 1 us..1 h");
	return 0;
}

int hqio_sched_create(const struct hqio_sched_config *cfg, struct hqio_sched **out, char *err,
		      size_t errlen)
{
	struct hqio_sched *s;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return cfg_error(err, errlen, "no output pointer");
	*out = NULL;
	if (!cfg)
		return cfg_error(err, errlen, "no configuration");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	rc = fill_config(&s->cfg, err, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	s->ops = hqio_sched_ops_of(s->cfg.policy);
	s->pcpu = calloc(s->cfg.n_pcpus, sizeof(*s->pcpu));
	if (!s->pcpu) {
		free(s);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < s->cfg.n_pcpus; i++) {
		sl_init(&s->pcpu[i].runq);
		s->pcpu[i].curr = -1;
	}
	sl_init(&s->rt_vcpus);
	rc = s->ops->init(s);
	if (rc) {
		free(s->pcpu);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void hqio_sched_destroy(struct hqio_sched *s)
{
	if (!s)
		return;
	s->ops->fini(s);
	for (unsigned i = 0; i < s->n_vcpus; i++)
		free(s->vcpu[i]);
	for (unsigned i = 0; i < s->n_dom; i++)
		free(s->dom[i]);
	free(s->vcpu);
	free(s->dom);
	free(s->pcpu);
	free(s);
}

const struct hqio_sched_config *hqio_sched_config_of(const struct hqio_sched *s)
{
	return s ? &s->cfg : NULL;
}

static struct sched_dom *find_dom(struct hqio_sched *s, unsigned id)
{
	for (unsigned i = 0; i < s->n_dom; i++)
		if (s->dom[i]->id == id)
			return s->dom[i];
	return NULL;
}

static int grow(void **arr, unsigned *cap, unsigned need, size_t elem)
{
	void *n;
	unsigned c;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	while (c < need)
		c *= 2;
	n = realloc(*arr, (size_t)c * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = c;
	return 0;
}

static bool params_ok(const struct hqio_sched *s, const struct hqio_vcpu_params *p)
{
	uint64_t rp = p->rt_period_ns ? p->rt_period_ns : s->cfg.rt_period_ns;
	uint64_t rb = p->rt_budget_ns ? p->rt_budget_ns : s->cfg.rt_budget_ns;
	uint64_t dp = p->rtds_period_ns ? p->rtds_period_ns : s->cfg.rtds_period_ns;
	uint64_t db = p->rtds_budget_ns ? p->rtds_budget_ns : s->cfg.rtds_budget_ns;

	if (p->pcpu >= s->cfg.n_pcpus || p->weight > MAX_WEIGHT || p->cap > MAX_CAP)
		return false;
	if (!time_ok(rp) || !time_ok(rb) || rb > rp)
		return false;
	if (!time_ok(dp) || !time_ok(db) || db > dp)
		return false;
	return true;
}

int hqio_sched_add_vcpu(struct hqio_sched *s, const struct hqio_vcpu_params *p)
{
	struct sched_dom *d;
	struct sched_vcpu *v;
	bool new_dom = false;
	int rc;

	if (!s || !p || !params_ok(s, p))
		return -EINVAL;
	if (s->n_vcpus >= (unsigned)INT32_MAX)
		return -ENOMEM;
	d = find_dom(s, p->domain);
	if (d) {
		/* A domain has one weight and one cap (Xen: per domain). */
		if ((p->weight && p->weight != d->weight) || p->cap != d->cap)
			return -EINVAL;
	}
	if (grow((void **)&s->vcpu, &s->cap_vcpus, s->n_vcpus + 1, sizeof(*s->vcpu)))
		return -ENOMEM;
	if (!d) {
		if (grow((void **)&s->dom, &s->cap_dom, s->n_dom + 1, sizeof(*s->dom)))
			return -ENOMEM;
		d = calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		d->id = p->domain;
		d->weight = p->weight;
		d->cap = p->cap;
		sl_init(&d->active_vcpu);
		sl_init(&d->active_sdom_elem);
		new_dom = true;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		if (new_dom)
			free(d);
		return -ENOMEM;
	}
	v->id = (int)s->n_vcpus;
	v->dom = d;
	v->pcpu = p->pcpu;
	v->present = true;
	sl_init(&v->runq_elem);
	sl_init(&v->active_elem);
	sl_init(&v->rt_elem);
	v->realtime = p->realtime;
	v->rt_period_ns = p->rt_period_ns ? p->rt_period_ns : s->cfg.rt_period_ns;
	v->rt_budget_ns = p->rt_budget_ns ? p->rt_budget_ns : s->cfg.rt_budget_ns;
	v->rtds_period_ns = p->rtds_period_ns ? p->rtds_period_ns : s->cfg.rtds_period_ns;
	v->rtds_budget_ns = p->rtds_budget_ns ? p->rtds_budget_ns : s->cfg.rtds_budget_ns;
	v->extratime = !p->rtds_no_extratime;
	if (new_dom)
		s->dom[s->n_dom++] = d;
	s->vcpu[s->n_vcpus++] = v;
	rc = s->ops->add_vcpu(s, v->id);
	if (rc) {
		s->n_vcpus--;
		free(v);
		return rc;
	}
	d->n_vcpus++;
	return v->id;
}

static struct sched_vcpu *lookup(const struct hqio_sched *s, int v)
{
	if (!s || v < 0 || (unsigned)v >= s->n_vcpus || !s->vcpu[v]->present)
		return NULL;
	return s->vcpu[v];
}

/* Charge the current vCPU of a pCPU for the time since the last stamp. */
static void account_run(struct hqio_sched *s, unsigned cpu, uint64_t now)
{
	struct sched_pcpu *pc = &s->pcpu[cpu];

	if (pc->curr >= 0 && now > pc->stamp_ns)
		s->vcpu[pc->curr]->run_ns += now - pc->stamp_ns;
	if (now > pc->stamp_ns)
		pc->stamp_ns = now;
}

int hqio_sched_remove_vcpu(struct hqio_sched *s, int id, uint64_t now)
{
	struct sched_vcpu *v = lookup(s, id);

	if (!v)
		return -EINVAL;
	if (v->running) {
		struct sched_pcpu *pc = &s->pcpu[v->pcpu];
		account_run(s, v->pcpu, now);
		pc->curr = -1;
		pc->curr_since_ns = now;
		sched_set_resched(s, v->pcpu);
		v->running = false;
	}
	s->ops->remove_vcpu(s, id);
	v->present = false;
	v->awake = false;
	v->dom->n_vcpus--;
	return 0;
}

void hqio_sched_wake(struct hqio_sched *s, int id, uint64_t now)
{
	struct sched_vcpu *v = lookup(s, id);

	if (!v)
		return;
	v->awake = true;
	s->ops->wake(s, id, now);
}

void hqio_sched_sleep(struct hqio_sched *s, int id, uint64_t now)
{
	struct sched_vcpu *v = lookup(s, id);

	if (!v)
		return;
	v->awake = false;
	s->ops->sleep(s, id, now);
}

void hqio_sched_tick(struct hqio_sched *s, unsigned pcpu, uint64_t now)
{
	if (!s || pcpu >= s->cfg.n_pcpus)
		return;
	s->ops->tick(s, pcpu, now);
}

void hqio_sched_irq(struct hqio_sched *s, int id, uint64_t now)
{
	if (!lookup(s, id))
		return;
	s->ops->irq_hint(s, id, now);
}

struct hqio_sched_pick hqio_sched_schedule(struct hqio_sched *s, unsigned cpu, uint64_t now)
{
	struct hqio_sched_pick pick = { .vcpu = -1, .until_ns = UINT64_MAX, .migrated = false };
	struct sched_pcpu *pc;

	if (!s || cpu >= s->cfg.n_pcpus)
		return pick;
	pc = &s->pcpu[cpu];
	account_run(s, cpu, now);
	pick = s->ops->do_schedule(s, cpu, now);
	if (pick.vcpu != pc->curr) {
		if (pc->curr >= 0)
			s->vcpu[pc->curr]->running = false;
		if (pick.vcpu >= 0) {
			struct sched_vcpu *n = s->vcpu[pick.vcpu];
			n->running = true;
			n->pcpu = cpu;
			n->n_scheduled++;
		}
		pc->curr = pick.vcpu;
		pc->curr_since_ns = now;
	}
	sched_clear_resched(s, cpu);
	return pick;
}

bool hqio_sched_need_resched(const struct hqio_sched *s, unsigned pcpu)
{
	return s && pcpu < s->cfg.n_pcpus && s->pcpu[pcpu].need_resched;
}

int hqio_sched_next_resched(const struct hqio_sched *s, unsigned from)
{
	if (!s)
		return -1;
	if (s->cfg.n_pcpus <= 64) { /* one word (bits past n_pcpus are never set) */
		uint64_t m = from < 64 ? s->resched_mask[0] & (~0ULL << from) : 0;
		return m ? __builtin_ctzll(m) : -1;
	}
	for (unsigned w = from / 64; from < s->cfg.n_pcpus && w < (s->cfg.n_pcpus + 63) / 64; w++) {
		uint64_t m = s->resched_mask[w];
		if (w == from / 64)
			m &= ~0ULL << (from % 64);
		if (m) {
			unsigned cpu = w * 64 + (unsigned)__builtin_ctzll(m);
			return cpu < s->cfg.n_pcpus ? (int)cpu : -1;
		}
	}
	return -1;
}

int hqio_sched_current(const struct hqio_sched *s, unsigned pcpu)
{
	if (!s || pcpu >= s->cfg.n_pcpus)
		return -1;
	return s->pcpu[pcpu].curr;
}

int hqio_sched_vcpu_state(const struct hqio_sched *s, int id, struct hqio_vcpu_state *st)
{
	const struct sched_vcpu *v = lookup(s, id);

	if (!v || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->domain = v->dom->id;
	st->pcpu = v->pcpu;
	st->runnable = sched_runnable(v);
	st->running = v->running;
	st->run_ns = v->run_ns; /* accounted up to the last schedule call */
	st->n_scheduled = v->n_scheduled;
	s->ops->get_state(s, id, st);
	return 0;
}

unsigned hqio_sched_n_vcpus(const struct hqio_sched *s)
{
	return s ? s->n_vcpus : 0;
}
