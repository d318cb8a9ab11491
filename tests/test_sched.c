/*
 * lib/sched tests: one behaviour per test, each built so that it fails if
 * the rule it names were wrong. Scenarios are either explicit call
 * sequences (exact credit arithmetic) or a tiny deterministic driver that
 * plays the caller's role (ticks every tick_ns on every pCPU, schedules
 * on need_resched or at until_ns) over simulated seconds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hqio/sched.h"

#define MS   1000000ULL
#define US   1000ULL
#define SEC  (1000 * MS)
#define MAXP 64
#define MAXW 1024

/* ---- driver ---------------------------------------------------------- */

struct wl {
	int id;
	uint64_t burst_ns; /* 0 = busy loop */
	uint64_t sleep_ns; /* blocked this long after each burst */
	uint64_t first_wake_ns;
	bool irq; /* its wake comes from its device's interrupt */
	/* state */
	bool started, blocked;
	uint64_t used, wake_at, woke_at;
	bool waiting; /* woken, not yet run */
	uint64_t max_lat, n_lat;
};

struct drv {
	struct hqio_sched *s;
	unsigned np;
	uint64_t now, tick, next_tick, until[MAXP];
	struct wl w[MAXW];
	unsigned nw;
	uint64_t switches;
};

static struct hqio_sched *mk(enum hqio_sched_policy p, unsigned np, uint64_t tick_ns)
{
	struct hqio_sched_config c = { .policy = p, .n_pcpus = np, .tick_ns = tick_ns };
	struct hqio_sched *s = NULL;
	char err[128];
	assert_int_equal(hqio_sched_create(&c, &s, err, sizeof(err)), 0);
	return s;
}

static void drv_init(struct drv *d, struct hqio_sched *s)
{
	memset(d, 0, sizeof(*d));
	d->s = s;
	d->np = hqio_sched_config_of(s)->n_pcpus;
	d->tick = hqio_sched_config_of(s)->tick_ns;
	d->next_tick = d->tick;
}

static int vadd(struct hqio_sched *s, unsigned dom, unsigned weight, unsigned pcpu)
{
	struct hqio_vcpu_params p = { .domain = dom, .weight = weight, .pcpu = pcpu };
	int v = hqio_sched_add_vcpu(s, &p);
	assert_true(v >= 0);
	return v;
}

static struct wl *drv_add(struct drv *d, int v, uint64_t burst, uint64_t sleep, uint64_t first)
{
	struct wl *w = &d->w[d->nw++];
	memset(w, 0, sizeof(*w));
	w->id = v;
	w->burst_ns = burst;
	w->sleep_ns = sleep;
	w->first_wake_ns = first;
	w->blocked = true;
	w->wake_at = first;
	return w;
}

static struct wl *wl_of(struct drv *d, int v)
{
	for (unsigned i = 0; i < d->nw; i++)
		if (d->w[i].id == v)
			return &d->w[i];
	return NULL;
}

static void drv_run(struct drv *d, uint64_t end)
{
	while (d->now < end) {
		uint64_t t = end;
		if (d->next_tick < t)
			t = d->next_tick;
		for (unsigned p = 0; p < d->np; p++) {
			int c = hqio_sched_current(d->s, p);
			struct wl *w = c >= 0 ? wl_of(d, c) : NULL;
			if (d->until[p] < t)
				t = d->until[p];
			if (w && w->burst_ns && d->now + (w->burst_ns - w->used) < t)
				t = d->now + (w->burst_ns - w->used);
		}
		for (unsigned i = 0; i < d->nw; i++)
			if (d->w[i].blocked && d->w[i].wake_at < t)
				t = d->w[i].wake_at;
		if (t < d->now)
			t = d->now;
		for (unsigned p = 0; p < d->np; p++) {
			int c = hqio_sched_current(d->s, p);
			struct wl *w = c >= 0 ? wl_of(d, c) : NULL;
			if (w)
				w->used += t - d->now;
		}
		d->now = t;
		for (unsigned p = 0; p < d->np; p++) {
			int c = hqio_sched_current(d->s, p);
			struct wl *w = c >= 0 ? wl_of(d, c) : NULL;
			if (w && w->burst_ns && w->used >= w->burst_ns) {
				hqio_sched_sleep(d->s, c, d->now);
				w->blocked = true;
				w->used = 0;
				w->wake_at = d->now + w->sleep_ns;
			}
		}
		for (unsigned i = 0; i < d->nw; i++) {
			struct wl *w = &d->w[i];
			if (w->blocked && w->wake_at <= d->now) {
				if (w->irq)
					hqio_sched_irq(d->s, w->id, d->now);
				hqio_sched_wake(d->s, w->id, d->now);
				w->blocked = false;
				w->waiting = true;
				w->woke_at = d->now;
			}
		}
		if (d->now >= d->next_tick) {
			for (unsigned p = 0; p < d->np; p++)
				hqio_sched_tick(d->s, p, d->now);
			d->next_tick += d->tick;
		}
		for (unsigned p = 0; p < d->np; p++) {
			if (hqio_sched_need_resched(d->s, p) || d->now >= d->until[p]) {
				int before = hqio_sched_current(d->s, p);
				struct hqio_sched_pick k = hqio_sched_schedule(d->s, p, d->now);
				d->until[p] = k.until_ns;
				if (k.vcpu != before)
					d->switches++;
				if (k.vcpu >= 0) {
					struct wl *w = wl_of(d, k.vcpu);
					if (w && w->waiting) {
						uint64_t lat = d->now - w->woke_at;
						w->waiting = false;
						w->n_lat++;
						if (lat > w->max_lat)
							w->max_lat = lat;
					}
				}
			}
		}
	}
	/* account the tail */
	for (unsigned p = 0; p < d->np; p++)
		if (hqio_sched_current(d->s, p) >= 0) {
			struct hqio_sched_pick k = hqio_sched_schedule(d->s, p, d->now);
			d->until[p] = k.until_ns;
		}
}

/* d drives s from time 0 to end with busy vCPUs a and b (b < 0: a alone). */
static void drv_busy(struct drv *d, struct hqio_sched *s, uint64_t end, int a, int b)
{
	drv_init(d, s);
	drv_add(d, a, 0, 0, 0);
	if (b >= 0)
		drv_add(d, b, 0, 0, 0);
	drv_run(d, end);
}

static struct hqio_vcpu_state st(struct hqio_sched *s, int v)
{
	struct hqio_vcpu_state x;
	assert_int_equal(hqio_sched_vcpu_state(s, v, &x), 0);
	return x;
}

static double share(struct hqio_sched *s, int v, uint64_t over)
{
	return (double)st(s, v).run_ns / (double)over;
}

/* ---- credit: end to end ---------------------------------------------- */

static void test_credit2009_two_busy_vcpus_share_a_pcpu_equally(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 1, 0);
	int a = vadd(s, 1, 0, 0), b = vadd(s, 2, 0, 0);
	struct drv d;
	drv_busy(&d, s, 3 * SEC, a, b);
	assert_true(share(s, a, 3 * SEC) > 0.45 && share(s, a, 3 * SEC) < 0.55);
	assert_int_equal(st(s, a).run_ns + st(s, b).run_ns, 3 * SEC);
	hqio_sched_destroy(s);
}

/* Weights 1:16 under contention give the light domain ~1/17 of the pCPU. */
static void weights_1_16(enum hqio_sched_policy p)
{
	struct hqio_sched *s = mk(p, 1, 0);
	int light = vadd(s, 1, 16, 0), heavy = vadd(s, 0, 256, 0);
	struct drv d;
	drv_busy(&d, s, 20 * SEC, light, heavy);
	double sh = share(s, light, 20 * SEC);
	print_message("%s: light share %.4f (1/17 = %.4f)\n", hqio_sched_policy_name(p), sh,
		      1.0 / 17);
	assert_true(sh > 1.0 / 17 - 0.01 && sh < 1.0 / 17 + 0.01);
	hqio_sched_destroy(s);
}

static void test_weights_1_16_give_one_seventeenth_2009(void **state)
{
	(void)state;
	weights_1_16(HQIO_SCHED_CREDIT_2009);
}

static void test_weights_1_16_give_one_seventeenth_42(void **state)
{
	(void)state;
	weights_1_16(HQIO_SCHED_CREDIT_42);
}

/* ---- BOOST ----------------------------------------------------------- */

/* Two busy vCPUs: by 60 ms the second has run a whole slice and is OVER. */
static void test_over_after_spending_credits(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 1, 0);
	int a = vadd(s, 1, 0, 0), b = vadd(s, 2, 0, 0);
	struct drv d;
	drv_busy(&d, s, 60 * MS + 1, a, b);
	/* a ran 0-30 ms (3 ticks, -300, +300 at 30 ms: 0); b ran 30-60 ms
	 * (-300), then accounting at 60 ms gave each 150. */
	assert_int_equal(st(s, a).credit, 150);
	assert_int_equal(st(s, a).prio, HQIO_PRIO_UNDER);
	assert_int_equal(st(s, b).credit, -150);
	assert_int_equal(st(s, b).prio, HQIO_PRIO_OVER);
	hqio_sched_destroy(s);
}

static void test_boost_on_wake_only_when_under(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 1, 0);
	int a = vadd(s, 1, 0, 0), b = vadd(s, 2, 0, 0);
	struct drv d;
	drv_busy(&d, s, 60 * MS + 1, a, b); /* b is OVER, a UNDER (previous test) */
	uint64_t now = d.now;
	hqio_sched_sleep(s, a, now);
	hqio_sched_sleep(s, b, now);
	hqio_sched_schedule(s, 0, now);
	assert_int_equal(hqio_sched_current(s, 0), -1);
	hqio_sched_wake(s, b, now + 1);
	assert_int_equal(st(s, b).prio, HQIO_PRIO_OVER);
	hqio_sched_wake(s, a, now + 2);
	assert_int_equal(st(s, a).prio, HQIO_PRIO_BOOST);
	/* BOOST runs first although b woke first. */
	assert_int_equal(hqio_sched_schedule(s, 0, now + 3).vcpu, a);
	hqio_sched_destroy(s);
}

static void test_boost_cleared_when_running_at_a_tick(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 1, 0);
	int a = vadd(s, 1, 0, 0);
	hqio_sched_wake(s, a, 1 * MS);
	assert_int_equal(st(s, a).prio, HQIO_PRIO_BOOST);
	assert_int_equal(hqio_sched_schedule(s, 0, 1 * MS).vcpu, a);
	hqio_sched_tick(s, 0, 10 * MS);
	assert_int_equal(st(s, a).prio, HQIO_PRIO_UNDER);
	hqio_sched_destroy(s);
}

/* ---- accounting: sampled vs exact ------------------------------------- */

/* A vCPU that runs 2 ms of every 10 ms between ticks. */
static void between_ticks(enum hqio_sched_policy p, int64_t want_credit)
{
	struct hqio_sched *s = mk(p, 1, 0);
	int a = vadd(s, 1, 0, 0);
	for (uint64_t t = 0; t < 100 * MS; t += 10 * MS) {
		hqio_sched_wake(s, a, t + 1 * MS);
		assert_int_equal(hqio_sched_schedule(s, 0, t + 1 * MS).vcpu, a);
		hqio_sched_sleep(s, a, t + 3 * MS);
		assert_int_equal(hqio_sched_schedule(s, 0, t + 3 * MS).vcpu, -1);
		hqio_sched_tick(s, 0, t + 10 * MS);
	}
	assert_int_equal(st(s, a).run_ns, 20 * MS);
	assert_int_equal(st(s, a).credit, want_credit);
	hqio_sched_destroy(s);
}

static void test_credit2009_debits_only_at_ticks(void **state)
{
	(void)state;
	between_ticks(HQIO_SCHED_CREDIT_2009, 0);
}

static void test_credit42_burns_the_time_run(void **state)
{
	(void)state;
	between_ticks(HQIO_SCHED_CREDIT_42, -200); /* 20 ms at 10 credits/ms */
}

static void test_credit2009_debits_a_whole_tick_for_a_short_run(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 1, 0);
	int a = vadd(s, 1, 0, 0);
	hqio_sched_wake(s, a, 9900 * US);
	hqio_sched_schedule(s, 0, 9900 * US);
	hqio_sched_tick(s, 0, 10 * MS);
	hqio_sched_sleep(s, a, 10100 * US);
	hqio_sched_schedule(s, 0, 10100 * US);
	assert_int_equal(st(s, a).run_ns, 200 * US);
	assert_int_equal(st(s, a).credit, -100);
	assert_true(st(s, a).active);
	hqio_sched_destroy(s);
}

/* ---- leaving the active list ------------------------------------------ */

static void leave_active(enum hqio_sched_policy p, int64_t after_30, int64_t after_60)
{
	struct hqio_sched *s = mk(p, 1, 0);
	int a = vadd(s, 1, 0, 0);
	hqio_sched_wake(s, a, 0);
	hqio_sched_schedule(s, 0, 0);
	hqio_sched_tick(s, 0, 10 * MS);
	hqio_sched_sleep(s, a, 10500 * US);
	hqio_sched_schedule(s, 0, 10500 * US);
	for (uint64_t t = 20 * MS; t <= 30 * MS; t += 10 * MS)
		hqio_sched_tick(s, 0, t);
	assert_int_equal(st(s, a).credit, after_30);
	assert_true(st(s, a).active);
	for (uint64_t t = 40 * MS; t <= 60 * MS; t += 10 * MS)
		hqio_sched_tick(s, 0, t);
	assert_int_equal(st(s, a).credit, after_60);
	assert_false(st(s, a).active);
	hqio_sched_destroy(s);
}

static void test_credit2009_resets_credit_to_zero_on_leaving_active(void **state)
{
	(void)state;
	leave_active(HQIO_SCHED_CREDIT_2009, 200, 0); /* -100 +300, 500 -> 0 */
}

static void test_credit42_halves_credit_on_leaving_active(void **state)
{
	(void)state;
	leave_active(HQIO_SCHED_CREDIT_42, 195, 247); /* -105 +300, 495 / 2 */
}

/* ---- preemption and rate limit ---------------------------------------- */

static void test_wake_preempts_only_lower_priority(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 1, 0);
	int a = vadd(s, 1, 0, 0), b = vadd(s, 2, 0, 0), c = vadd(s, 3, 0, 0);
	struct drv d;
	drv_busy(&d, s, 60 * MS + 1, a, b); /* a UNDER, b OVER */
	uint64_t now = d.now;
	hqio_sched_sleep(s, a, now);
	assert_int_equal(hqio_sched_schedule(s, 0, now).vcpu, b);
	/* woken UNDER -> BOOST > OVER: preempts */
	hqio_sched_wake(s, c, now + 1);
	assert_true(hqio_sched_need_resched(s, 0));
	assert_int_equal(hqio_sched_schedule(s, 0, now + 1).vcpu, c);
	/* c now runs BOOST: a woken BOOST is not strictly higher */
	hqio_sched_wake(s, a, now + 2);
	assert_false(hqio_sched_need_resched(s, 0));
	hqio_sched_destroy(s);
}

static void test_run_queue_keeps_fifo_among_equal_priority(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 1, 0);
	int v[4];
	for (int i = 0; i < 4; i++)
		v[i] = vadd(s, (unsigned)i, 0, 0);
	for (int i = 0; i < 4; i++)
		hqio_sched_wake(s, v[i], 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(hqio_sched_schedule(s, 0, (uint64_t)i).vcpu, v[i]);
		hqio_sched_sleep(s, v[i], (uint64_t)i + 1);
	}
	hqio_sched_destroy(s);
}

static void test_credit42_ratelimit_holds_preemption_for_1ms(void **state)
{
	(void)state;
	/* a was switched in at 2 ms; b wakes 0.5 ms later. */
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_42, 1, 0);
	int a = vadd(s, 1, 0, 0), b = vadd(s, 2, 0, 0), c = vadd(s, 3, 0, 0);
	hqio_sched_wake(s, c, 0);
	assert_int_equal(hqio_sched_schedule(s, 0, 0).vcpu, c);
	hqio_sched_wake(s, a, 1);
	hqio_sched_sleep(s, c, 2 * MS);
	assert_int_equal(hqio_sched_schedule(s, 0, 2 * MS).vcpu, a);
	hqio_sched_tick(s, 0, 2 * MS + 100 * US); /* a: BOOST -> UNDER */
	hqio_sched_wake(s, b, 2 * MS + 500 * US); /* BOOST > UNDER */
	assert_true(hqio_sched_need_resched(s, 0));
	struct hqio_sched_pick k = hqio_sched_schedule(s, 0, 2 * MS + 500 * US);
	assert_int_equal(k.vcpu, a);
	assert_int_equal(k.until_ns, 3 * MS + 500 * US); /* one more ratelimit */
	assert_int_equal(hqio_sched_schedule(s, 0, k.until_ns).vcpu, b);
	hqio_sched_destroy(s);
}

static void test_credit2009_has_no_ratelimit(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 1, 0);
	int a = vadd(s, 1, 0, 0), b = vadd(s, 2, 0, 0), c = vadd(s, 3, 0, 0);
	hqio_sched_wake(s, c, 0);
	hqio_sched_schedule(s, 0, 0);
	hqio_sched_wake(s, a, 1);
	hqio_sched_sleep(s, c, 2 * MS);
	assert_int_equal(hqio_sched_schedule(s, 0, 2 * MS).vcpu, a);
	hqio_sched_tick(s, 0, 2 * MS + 100 * US);
	hqio_sched_wake(s, b, 2 * MS + 500 * US);
	assert_int_equal(hqio_sched_schedule(s, 0, 2 * MS + 500 * US).vcpu, b);
	hqio_sched_destroy(s);
}

static void test_credit42_ratelimit_does_not_hold_a_blocking_vcpu(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_42, 1, 0);
	int a = vadd(s, 1, 0, 0), b = vadd(s, 2, 0, 0);
	hqio_sched_wake(s, a, 0);
	hqio_sched_schedule(s, 0, 0);
	hqio_sched_wake(s, b, 100 * US);
	hqio_sched_sleep(s, a, 200 * US);
	assert_int_equal(hqio_sched_schedule(s, 0, 200 * US).vcpu, b);
	hqio_sched_destroy(s);
}

/* ---- cap -------------------------------------------------------------- */

static void test_cap_limits_a_busy_domain(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 1, 0);
	struct hqio_vcpu_params p = { .domain = 1, .cap = 25 };
	int a = hqio_sched_add_vcpu(s, &p);
	assert_true(a >= 0);
	struct drv d;
	drv_busy(&d, s, 10 * SEC, a, -1);
	double sh = share(s, a, 10 * SEC);
	print_message("cap 25%%: share %.3f\n", sh);
	assert_true(sh < 0.35);
	assert_true(sh > 0.15);
	hqio_sched_destroy(s);
}

/* ---- work stealing ---------------------------------------------------- */

static void test_idle_pcpu_steals_queued_work(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_2009, 2, 0);
	struct drv d;
	drv_init(&d, s);
	int v[3];
	for (int i = 0; i < 3; i++) {
		v[i] = vadd(s, (unsigned)i + 1, 0, 0); /* all on pCPU 0 */
		drv_add(&d, v[i], 0, 0, 0);
	}
	drv_run(&d, 3 * SEC);
	uint64_t total = 0;
	for (int i = 0; i < 3; i++) {
		double sh = share(s, v[i], 3 * SEC);
		print_message("stealing: vcpu %d share %.3f\n", v[i], sh);
		assert_true(sh > 0.55 && sh < 0.78);
		total += st(s, v[i]).run_ns;
	}
	assert_int_equal(total, 2 * 3 * SEC); /* no pCPU ever idle */
	hqio_sched_destroy(s);
}

static void test_64_pcpus_512_domains_mixed_load(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_42, 64, 0);
	struct drv *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	drv_init(d, s);
	for (unsigned i = 0; i < 512; i++) {
		int v = vadd(s, i, 128 + (i % 4) * 128, i % 64);
		if (i % 2)
			drv_add(d, v, 0, 0, 0); /* busy */
		else
			drv_add(d, v, 300 * US + (i % 7) * 100 * US, 2 * MS + (i % 5) * MS,
				(i % 13) * US);
	}
	drv_run(d, 1 * SEC);
	uint64_t total = 0, min_busy = UINT64_MAX;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t r = st(s, (int)i).run_ns;
		total += r;
		if (i % 2 && r < min_busy)
			min_busy = r;
	}
	/* 256 busy vCPUs keep all 64 pCPUs busy; every busy vCPU progresses. */
	print_message("64x512: total %.3f pCPU-s, least busy vCPU %.3f s\n", (double)total / SEC,
		      (double)min_busy / SEC);
	assert_true(total > 63 * SEC && total <= 64 * SEC);
	assert_true(min_busy > 50 * MS);
	free(d);
	hqio_sched_destroy(s);
}

/* ---- rt --------------------------------------------------------------- */

static struct hqio_sched *mk_rt(enum hqio_sched_policy credit)
{
	struct hqio_sched_config c = { .policy = HQIO_SCHED_RT, .n_pcpus = 1, .rt_credit = credit };
	struct hqio_sched *s = NULL;
	assert_int_equal(hqio_sched_create(&c, &s, NULL, 0), 0);
	return s;
}

static int rt_vcpu(struct hqio_sched *s, unsigned dom)
{
	struct hqio_vcpu_params p = { .domain = dom, .realtime = true };
	int v = hqio_sched_add_vcpu(s, &p);
	assert_true(v >= 0);
	return v;
}

static void test_rt_irq_preempts_running_vcpu(void **state)
{
	(void)state;
	/* credit-4.2 underneath: the irq must also bypass the rate limit. */
	struct hqio_sched *s = mk_rt(HQIO_SCHED_CREDIT_42);
	int dom0 = vadd(s, 0, 256, 0), g = rt_vcpu(s, 1);
	hqio_sched_wake(s, dom0, 0);
	assert_int_equal(hqio_sched_schedule(s, 0, 0).vcpu, dom0);
	hqio_sched_irq(s, g, 300 * US);
	hqio_sched_wake(s, g, 300 * US);
	assert_true(hqio_sched_need_resched(s, 0));
	struct hqio_sched_pick k = hqio_sched_schedule(s, 0, 300 * US);
	assert_int_equal(k.vcpu, g);
	assert_int_equal(st(s, g).prio, HQIO_PRIO_RT);
	assert_int_equal(k.until_ns, 2300 * US); /* budget 2 ms */
	hqio_sched_destroy(s);
}

static void test_rt_without_irq_is_plain_credit(void **state)
{
	(void)state;
	struct hqio_sched *s = mk_rt(HQIO_SCHED_CREDIT_42);
	int dom0 = vadd(s, 0, 256, 0), g = rt_vcpu(s, 1);
	hqio_sched_wake(s, dom0, 0);
	hqio_sched_schedule(s, 0, 0);
	hqio_sched_tick(s, 0, 100 * US); /* dom0 BOOST -> UNDER */
	hqio_sched_wake(s, g, 300 * US); /* BOOST, held by the rate limit */
	assert_int_equal(st(s, g).prio, HQIO_PRIO_BOOST);
	assert_int_equal(hqio_sched_schedule(s, 0, 300 * US).vcpu, dom0);
	hqio_sched_destroy(s);
}

static void test_rt_budget_exhaustion_and_replenishment(void **state)
{
	(void)state;
	struct hqio_sched *s = mk_rt(HQIO_SCHED_CREDIT_2009);
	int dom0 = vadd(s, 0, 256, 0), g = rt_vcpu(s, 1);
	hqio_sched_wake(s, dom0, 0);
	hqio_sched_schedule(s, 0, 0);
	hqio_sched_irq(s, g, 5 * MS);
	hqio_sched_wake(s, g, 5 * MS);
	struct hqio_sched_pick k = hqio_sched_schedule(s, 0, 5 * MS);
	assert_int_equal(k.vcpu, g);
	assert_int_equal(k.until_ns, 7 * MS);
	/* budget spent at 7 ms: g is a credit vCPU again (BOOST from wake,
	 * so it may keep running, but no longer at PRI_RT) */
	k = hqio_sched_schedule(s, 0, 7 * MS);
	assert_int_equal(st(s, g).rt_budget_left_ns, 0);
	assert_int_not_equal(st(s, g).prio, HQIO_PRIO_RT);
	hqio_sched_tick(s, 0, 10 * MS); /* g loses BOOST, replenished */
	assert_int_equal(st(s, g).rt_budget_left_ns, 2 * MS);
	assert_int_equal(st(s, g).deadline_ns, 20 * MS);
	/* still pending (it never blocked): back in rt mode */
	assert_int_equal(st(s, g).prio, HQIO_PRIO_RT);
	k = hqio_sched_schedule(s, 0, 10 * MS);
	assert_int_equal(k.vcpu, g);
	assert_int_equal(k.until_ns, 12 * MS);
	/* once it blocks, the next period does not make it real-time */
	hqio_sched_sleep(s, g, 11 * MS);
	assert_int_equal(hqio_sched_schedule(s, 0, 11 * MS).vcpu, dom0);
	hqio_sched_wake(s, g, 21 * MS);
	assert_int_not_equal(st(s, g).prio, HQIO_PRIO_RT);
	hqio_sched_destroy(s);
}

static void test_rt_budget_bounds_a_flood_of_interrupts(void **state)
{
	(void)state;
	/* g busy and interrupted every 1 ms: it still gets no more than its
	 * credit share plus budget; dom0 keeps the rest. */
	struct hqio_sched *s = mk_rt(HQIO_SCHED_CREDIT_2009);
	struct drv d;
	drv_init(&d, s);
	int dom0 = vadd(s, 0, 256, 0), g = rt_vcpu(s, 1);
	drv_add(&d, dom0, 0, 0, 0);
	struct wl *w = drv_add(&d, g, 900 * US, 100 * US, 0);
	w->irq = true;
	drv_run(&d, 5 * SEC);
	double sg = share(s, g, 5 * SEC);
	print_message("rt flood: guest %.3f dom0 %.3f\n", sg, share(s, dom0, 5 * SEC));
	assert_true(sg < 0.5 + 0.2 + 0.02);
	hqio_sched_destroy(s);
}

static void test_rt_time_is_debited_from_credit(void **state)
{
	(void)state;
	/* credit-4.2 underneath: the 2 ms run in rt mode burns 20 credits. */
	struct hqio_sched *s = mk_rt(HQIO_SCHED_CREDIT_42);
	int dom0 = vadd(s, 0, 256, 0), g = rt_vcpu(s, 1);
	hqio_sched_wake(s, dom0, 0);
	hqio_sched_schedule(s, 0, 0);
	hqio_sched_irq(s, g, 1 * MS);
	hqio_sched_wake(s, g, 1 * MS);
	struct hqio_sched_pick k = hqio_sched_schedule(s, 0, 1 * MS);
	assert_int_equal(k.vcpu, g);
	hqio_sched_schedule(s, 0, k.until_ns); /* budget spent at 3 ms */
	assert_int_equal(st(s, g).credit, -20);
	hqio_sched_destroy(s);

	/* credit-2009 underneath: found running in rt mode at a tick, it is
	 * debited the tick's 100 credits like any vCPU. */
	s = mk_rt(HQIO_SCHED_CREDIT_2009);
	dom0 = vadd(s, 0, 256, 0);
	g = rt_vcpu(s, 1);
	hqio_sched_wake(s, dom0, 0);
	hqio_sched_schedule(s, 0, 0);
	hqio_sched_irq(s, g, 9 * MS);
	hqio_sched_wake(s, g, 9 * MS);
	assert_int_equal(hqio_sched_schedule(s, 0, 9 * MS).vcpu, g);
	hqio_sched_tick(s, 0, 10 * MS);
	assert_int_equal(st(s, g).credit, -100);
	hqio_sched_destroy(s);
}

static void test_rt_irq_lifts_a_queued_vcpu_to_the_head(void **state)
{
	(void)state;
	/* g is runnable but queued behind dom0 as OVER; its interrupt moves it
	 * to the head at PRI_RT and preempts dom0. */
	struct hqio_sched *s = mk_rt(HQIO_SCHED_CREDIT_2009);
	int dom0 = vadd(s, 0, 256, 0), g = rt_vcpu(s, 1);
	struct drv d;
	drv_busy(&d, s, 60 * MS + 1, dom0, g); /* dom0 UNDER and running, g OVER and queued */
	assert_int_equal(hqio_sched_current(s, 0), dom0);
	assert_int_equal(st(s, g).prio, HQIO_PRIO_OVER);
	hqio_sched_irq(s, g, d.now);
	assert_int_equal(st(s, g).prio, HQIO_PRIO_RT);
	assert_true(hqio_sched_need_resched(s, 0));
	assert_int_equal(hqio_sched_schedule(s, 0, d.now).vcpu, g);
	hqio_sched_destroy(s);
}

static void test_rt_guest_latency_bounded_while_credit_is_not(void **state)
{
	(void)state;
	/* Guest: 0.5 ms of work per 5 ms, woken by its interrupt; dom0 busy
	 * at 16 times its weight. */
	uint64_t lat[2];
	for (int rt = 0; rt < 2; rt++) {
		struct hqio_sched *s =
			rt ? mk_rt(HQIO_SCHED_CREDIT_2009) : mk(HQIO_SCHED_CREDIT_2009, 1, 0);
		struct drv d;
		drv_init(&d, s);
		int dom0 = vadd(s, 0, 256, 0);
		struct hqio_vcpu_params p = { .domain = 1, .weight = 16, .realtime = rt };
		int g = hqio_sched_add_vcpu(s, &p);
		drv_add(&d, dom0, 0, 0, 0);
		struct wl *w = drv_add(&d, g, 500 * US, 4500 * US, 0);
		w->irq = true;
		drv_run(&d, 5 * SEC);
		lat[rt] = w->max_lat;
		hqio_sched_destroy(s);
	}
	print_message("max wake-to-run: credit %.3f ms, rt %.3f ms\n", (double)lat[0] / MS,
		      (double)lat[1] / MS);
	assert_int_equal(lat[1], 0);
	assert_true(lat[0] >= 10 * MS);
}

/* ---- rtds ------------------------------------------------------------- */

static int rtds_vcpu(struct hqio_sched *s, unsigned dom, uint64_t period, uint64_t budget,
		     bool extratime)
{
	struct hqio_vcpu_params p = { .domain = dom,
				      .rtds_period_ns = period,
				      .rtds_budget_ns = budget,
				      .rtds_no_extratime = !extratime };
	int v = hqio_sched_add_vcpu(s, &p);
	assert_true(v >= 0);
	return v;
}

static void test_rtds_earliest_deadline_first(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_RTDS, 1, 0);
	int a = rtds_vcpu(s, 1, 10 * MS, 1 * MS, false);
	int b = rtds_vcpu(s, 2, 5 * MS, 1 * MS, false);
	int c = rtds_vcpu(s, 3, 20 * MS, 1 * MS, false);
	int e = rtds_vcpu(s, 4, 5 * MS, 1 * MS, false); /* ties with b */
	hqio_sched_wake(s, a, 0);
	hqio_sched_wake(s, b, 0);
	hqio_sched_wake(s, c, 0);
	hqio_sched_wake(s, e, 0);
	int want[4] = { b, e, a, c };
	uint64_t t = 0;
	for (int i = 0; i < 4; i++) {
		struct hqio_sched_pick k = hqio_sched_schedule(s, 0, t);
		assert_int_equal(k.vcpu, want[i]);
		assert_int_equal(k.until_ns, t + 1 * MS); /* its budget */
		t = k.until_ns;
	}
	assert_int_equal(hqio_sched_schedule(s, 0, t).vcpu, -1); /* all depleted */
	hqio_sched_destroy(s);
}

static void test_rtds_deadline_preempts_on_wake(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_RTDS, 1, 0);
	int a = rtds_vcpu(s, 1, 20 * MS, 8 * MS, false);
	int b = rtds_vcpu(s, 2, 5 * MS, 1 * MS, false);
	hqio_sched_wake(s, a, 0);
	assert_int_equal(hqio_sched_schedule(s, 0, 0).vcpu, a);
	hqio_sched_wake(s, b, 1 * MS);
	assert_true(hqio_sched_need_resched(s, 0));
	assert_int_equal(hqio_sched_schedule(s, 0, 1 * MS).vcpu, b);
	hqio_sched_destroy(s);
}

static void rtds_share(bool extratime, double lo, double hi)
{
	struct hqio_sched *s = mk(HQIO_SCHED_RTDS, 1, 0);
	int a = rtds_vcpu(s, 1, 0, 0, extratime); /* defaults: 4 ms / 10 ms */
	struct drv d;
	drv_busy(&d, s, 1 * SEC, a, -1);
	double sh = share(s, a, 1 * SEC);
	print_message("rtds extratime %d: share %.3f\n", extratime, sh);
	assert_true(sh >= lo && sh <= hi);
	hqio_sched_destroy(s);
}

static void test_rtds_without_extratime_runs_its_budget_only(void **state)
{
	(void)state;
	rtds_share(false, 0.399, 0.401);
}

static void test_rtds_extratime_uses_idle_time(void **state)
{
	(void)state;
	rtds_share(true, 0.999, 1.0);
}

static void test_rtds_budgeted_work_before_extratime(void **state)
{
	(void)state;
	/* a: 2/10 ms with extratime, b: 6/10 ms without: b gets its 60 %
	 * although a has the earlier deadline as an extra-time vCPU. */
	struct hqio_sched *s = mk(HQIO_SCHED_RTDS, 1, 0);
	int a = rtds_vcpu(s, 1, 10 * MS, 2 * MS, true);
	int b = rtds_vcpu(s, 2, 20 * MS, 12 * MS, false);
	struct drv d;
	drv_busy(&d, s, 1 * SEC, a, b);
	double sa = share(s, a, 1 * SEC), sb = share(s, b, 1 * SEC);
	print_message("rtds: a %.3f b %.3f\n", sa, sb);
	assert_true(sb > 0.599 && sb < 0.601);
	assert_true(sa > 0.399 && sa < 0.401);
	hqio_sched_destroy(s);
}

static void test_rtds_global_edf_uses_every_pcpu(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_RTDS, 2, 0);
	struct drv d;
	drv_init(&d, s);
	int v[3];
	for (int i = 0; i < 3; i++) {
		v[i] = rtds_vcpu(s, (unsigned)i, 10 * MS, 5 * MS, true);
		drv_add(&d, v[i], 0, 0, 0);
	}
	drv_run(&d, 1 * SEC);
	uint64_t total = 0;
	for (int i = 0; i < 3; i++)
		total += st(s, v[i]).run_ns;
	assert_int_equal(total, 2 * SEC);
	hqio_sched_destroy(s);
}

/* ---- random call sequences ----------------------------------------------- */

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Random valid and invalid calls on every policy (run under ASan/UBSan in
 * the sanitizer build). After each round of scheduling every pCPU that asks
 * for it: only present vCPUs run, each on at most one pCPU; a running vCPU is the current
 * one of its pCPU; no pCPU idles while a runnable vCPU waits in its own
 * queue (credit, rt) or anywhere with budget left (rtds, global EDF).
 */
static void random_calls(enum hqio_sched_policy pol, uint64_t seed)
{
	enum { NP = 4, NV = 12 };
	struct hqio_sched_config c = { .policy = pol, .n_pcpus = NP, .tick_ns = 1 * MS };
	struct hqio_sched *s = NULL;
	uint64_t x = seed, now = 0, next_tick = 1 * MS;
	assert_int_equal(hqio_sched_create(&c, &s, NULL, 0), 0);
	for (int i = 0; i < NV; i++) {
		struct hqio_vcpu_params p = { .domain = (unsigned)i / 2,
					      .weight = 0,
					      .cap = (i / 2) % 3 == 1 ? 30 : 0,
					      .pcpu = (unsigned)i % NP,
					      .realtime = i % 3 == 0,
					      .rtds_no_extratime = i % 4 == 1 };
		assert_true(hqio_sched_add_vcpu(s, &p) >= 0);
	}
	for (int step = 0; step < 20000; step++) {
		int v = (int)(rnd(&x) % (NV + 2)) - 1; /* includes -1 and NV */
		now += rnd(&x) % (700 * US);
		while (next_tick <= now) {
			for (unsigned p = 0; p < NP; p++)
				hqio_sched_tick(s, p, next_tick);
			next_tick += 1 * MS;
		}
		switch (rnd(&x) % 8) {
		case 0:
		case 1:
			hqio_sched_wake(s, v, now);
			break;
		case 2:
			hqio_sched_sleep(s, v, now);
			break;
		case 3:
			hqio_sched_irq(s, v, now);
			hqio_sched_wake(s, v, now);
			break;
		case 4:
			hqio_sched_tick(s, (unsigned)(rnd(&x) % (NP + 1)), now);
			break;
		case 5:
			if (rnd(&x) % 50 == 0)
				hqio_sched_remove_vcpu(s, v, now);
			break;
		default:
			hqio_sched_schedule(s, (unsigned)(rnd(&x) % (NP + 1)), now);
			break;
		}
		for (int p; (p = hqio_sched_next_resched(s, 0)) >= 0;)
			hqio_sched_schedule(s, (unsigned)p, now);
		int running_on[NV];
		bool idle = false;
		for (int i = 0; i < NV; i++)
			running_on[i] = -1;
		for (unsigned p = 0; p < NP; p++) {
			int cur = hqio_sched_current(s, p);
			if (cur < 0) {
				idle = true;
				continue;
			}
			struct hqio_vcpu_state q;
			assert_int_equal(hqio_sched_vcpu_state(s, cur, &q), 0); /* not removed */
			assert_int_equal(running_on[cur], -1);
			running_on[cur] = (int)p;
		}
		for (int i = 0; i < NV; i++) {
			struct hqio_vcpu_state q;
			if (hqio_sched_vcpu_state(s, i, &q))
				continue; /* removed */
			assert_int_equal(q.running, running_on[i] >= 0);
			if (!q.runnable || q.running)
				continue;
			if (pol == HQIO_SCHED_RTDS)
				assert_false(idle && q.prio != HQIO_PRIO_IDLE);
			else
				assert_true(hqio_sched_current(s, q.pcpu) >= 0);
		}
	}
	hqio_sched_destroy(s);
}

static void test_random_calls_keep_invariants(void **state)
{
	(void)state;
	for (int p = 0; p < HQIO_SCHED_N_POLICIES; p++)
		for (uint64_t seed = 1; seed <= 3; seed++)
			random_calls((enum hqio_sched_policy)p, seed * 0x9e3779b97f4a7c15ULL);
}

/* ---- arguments -------------------------------------------------------- */

static void test_bad_arguments_are_rejected(void **state)
{
	(void)state;
	struct hqio_sched *s = NULL;
	char err[128];
	struct hqio_sched_config c = { .policy = HQIO_SCHED_CREDIT_2009, .n_pcpus = 0 };
	enum hqio_sched_policy pol;

	assert_int_equal(hqio_sched_create(&c, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "n_pcpus"));
	assert_null(s);
	c.n_pcpus = HQIO_SCHED_MAX_PCPUS + 1;
	assert_int_equal(hqio_sched_create(&c, &s, err, sizeof(err)), -EINVAL);
	c.n_pcpus = 1;
	c.policy = HQIO_SCHED_N_POLICIES;
	assert_int_equal(hqio_sched_create(&c, &s, err, sizeof(err)), -EINVAL);
	c.policy = HQIO_SCHED_RT;
	c.rt_credit = HQIO_SCHED_RTDS;
	assert_int_equal(hqio_sched_create(&c, &s, err, sizeof(err)), -EINVAL);
	c.rt_credit = HQIO_SCHED_CREDIT_2009;
	c.rt_budget_ns = 20 * MS;
	assert_int_equal(hqio_sched_create(&c, &s, err, sizeof(err)), -EINVAL);
	c.rt_budget_ns = 0;
	c.tick_ns = 10 * MS;
	c.tslice_ns = 1 * MS;
	assert_int_equal(hqio_sched_create(&c, &s, err, sizeof(err)), -EINVAL);
	c.tslice_ns = 0;
	assert_int_equal(hqio_sched_create(NULL, &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(hqio_sched_create(&c, NULL, NULL, 0), -EINVAL);
	assert_int_equal(hqio_sched_policy_from_name("credit", &pol), -EINVAL);
	assert_int_equal(hqio_sched_policy_from_name(NULL, &pol), -EINVAL);
	assert_int_equal(hqio_sched_policy_from_name("credit-4.2", &pol), 0);
	assert_int_equal(pol, HQIO_SCHED_CREDIT_42);
	assert_null(hqio_sched_policy_name(HQIO_SCHED_N_POLICIES));
	assert_null(hqio_sched_ops_of(HQIO_SCHED_N_POLICIES));

	assert_int_equal(hqio_sched_create(&c, &s, err, sizeof(err)), 0);
	struct hqio_vcpu_params p = { .domain = 1, .pcpu = 1 };
	assert_int_equal(hqio_sched_add_vcpu(s, &p), -EINVAL);
	p.pcpu = 0;
	p.weight = 70000;
	assert_int_equal(hqio_sched_add_vcpu(s, &p), -EINVAL);
	p.weight = 0;
	p.rtds_budget_ns = 11 * MS;
	assert_int_equal(hqio_sched_add_vcpu(s, &p), -EINVAL);
	p.rtds_budget_ns = 0;
	assert_int_equal(hqio_sched_add_vcpu(NULL, &p), -EINVAL);
	assert_int_equal(hqio_sched_add_vcpu(s, NULL), -EINVAL);
	int v = hqio_sched_add_vcpu(s, &p);
	assert_int_equal(v, 0);
	p.weight = 512; /* same domain, other weight */
	assert_int_equal(hqio_sched_add_vcpu(s, &p), -EINVAL);

	struct hqio_vcpu_state x;
	assert_int_equal(hqio_sched_vcpu_state(s, -1, &x), -EINVAL);
	assert_int_equal(hqio_sched_vcpu_state(s, 7, &x), -EINVAL);
	assert_int_equal(hqio_sched_vcpu_state(s, v, NULL), -EINVAL);
	assert_int_equal(hqio_sched_vcpu_state(NULL, v, &x), -EINVAL);
	assert_int_equal(hqio_sched_remove_vcpu(s, 7, 0), -EINVAL);
	hqio_sched_wake(s, -3, 0);
	hqio_sched_wake(s, 99, 0);
	hqio_sched_sleep(s, 99, 0);
	hqio_sched_irq(s, 99, 0);
	hqio_sched_tick(s, 5, 0);
	hqio_sched_wake(NULL, 0, 0);
	hqio_sched_tick(NULL, 0, 0);
	assert_int_equal(hqio_sched_schedule(s, 9, 0).vcpu, -1);
	assert_int_equal(hqio_sched_schedule(NULL, 0, 0).vcpu, -1);
	assert_false(hqio_sched_need_resched(s, 9));
	assert_int_equal(hqio_sched_current(s, 9), -1);
	assert_int_equal(hqio_sched_current(NULL, 0), -1);
	assert_int_equal(hqio_sched_n_vcpus(NULL), 0);
	assert_null(hqio_sched_config_of(NULL));

	/* a removed vCPU is gone, even while running */
	hqio_sched_wake(s, v, 0);
	assert_int_equal(hqio_sched_schedule(s, 0, 0).vcpu, v);
	assert_int_equal(hqio_sched_remove_vcpu(s, v, 1 * MS), 0);
	assert_int_equal(hqio_sched_current(s, 0), -1);
	assert_int_equal(hqio_sched_vcpu_state(s, v, &x), -EINVAL);
	assert_int_equal(hqio_sched_remove_vcpu(s, v, 1 * MS), -EINVAL);
	hqio_sched_wake(s, v, 2 * MS);
	hqio_sched_tick(s, 0, 10 * MS);
	assert_int_equal(hqio_sched_schedule(s, 0, 10 * MS).vcpu, -1);
	hqio_sched_destroy(s);
	hqio_sched_destroy(NULL);
}

static void test_defaults_follow_xen(void **state)
{
	(void)state;
	struct hqio_sched *s = mk(HQIO_SCHED_CREDIT_42, 1, 0);
	const struct hqio_sched_config *c = hqio_sched_config_of(s);
	assert_int_equal(c->tick_ns, 10 * MS);
	assert_int_equal(c->tslice_ns, 30 * MS);
	assert_int_equal(c->ratelimit_ns, 1 * MS);
	assert_int_equal(c->rtds_period_ns, 10 * MS);
	assert_int_equal(c->rtds_budget_ns, 4 * MS);
	assert_int_equal(c->rt_period_ns, 10 * MS);
	assert_int_equal(c->rt_budget_ns, 2 * MS);
	hqio_sched_destroy(s);
	s = mk(HQIO_SCHED_CREDIT_2009, 1, 1 * MS);
	assert_int_equal(hqio_sched_config_of(s)->tslice_ns, 3 * MS); /* 3 ticks */
	hqio_sched_destroy(s);
	for (int p = 0; p < HQIO_SCHED_N_POLICIES; p++) {
		enum hqio_sched_policy q;
		const char *n = hqio_sched_policy_name((enum hqio_sched_policy)p);
		assert_int_equal(hqio_sched_policy_from_name(n, &q), 0);
		assert_int_equal(q, p);
		assert_string_equal(hqio_sched_ops_of(q)->name, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credit2009_two_busy_vcpus_share_a_pcpu_equally),
		cmocka_unit_test(test_weights_1_16_give_one_seventeenth_2009),
		cmocka_unit_test(test_weights_1_16_give_one_seventeenth_42),
		cmocka_unit_test(test_over_after_spending_credits),
		cmocka_unit_test(test_boost_on_wake_only_when_under),
		cmocka_unit_test(test_boost_cleared_when_running_at_a_tick),
		cmocka_unit_test(test_credit2009_debits_only_at_ticks),
		cmocka_unit_test(test_credit42_burns_the_time_run),
		cmocka_unit_test(test_credit2009_debits_a_whole_tick_for_a_short_run),
		cmocka_unit_test(test_credit2009_resets_credit_to_zero_on_leaving_active),
		cmocka_unit_test(test_credit42_halves_credit_on_leaving_active),
		cmocka_unit_test(test_wake_preempts_only_lower_priority),
		cmocka_unit_test(test_run_queue_keeps_fifo_among_equal_priority),
		cmocka_unit_test(test_credit42_ratelimit_holds_preemption_for_1ms),
		cmocka_unit_test(test_credit2009_has_no_ratelimit),
		cmocka_unit_test(test_credit42_ratelimit_does_not_hold_a_blocking_vcpu),
		cmocka_unit_test(test_cap_limits_a_busy_domain),
		cmocka_unit_test(test_idle_pcpu_steals_queued_work),
		cmocka_unit_test(test_64_pcpus_512_domains_mixed_load),
		cmocka_unit_test(test_rt_irq_preempts_running_vcpu),
		cmocka_unit_test(test_rt_without_irq_is_plain_credit),
		cmocka_unit_test(test_rt_budget_exhaustion_and_replenishment),
		cmocka_unit_test(test_rt_budget_bounds_a_flood_of_interrupts),
		cmocka_unit_test(test_rt_time_is_debited_from_credit),
		cmocka_unit_test(test_rt_irq_lifts_a_queued_vcpu_to_the_head),
		cmocka_unit_test(test_rt_guest_latency_bounded_while_credit_is_not),
		cmocka_unit_test(test_rtds_earliest_deadline_first),
		cmocka_unit_test(test_rtds_deadline_preempts_on_wake),
		cmocka_unit_test(test_rtds_without_extratime_runs_its_budget_only),
		cmocka_unit_test(test_rtds_extratime_uses_idle_time),
		cmocka_unit_test(test_rtds_budgeted_work_before_extratime),
		cmocka_unit_test(test_rtds_global_edf_uses_every_pcpu),
		cmocka_unit_test(test_random_calls_keep_invariants),
		cmocka_unit_test(test_bad_arguments_are_rejected),
		cmocka_unit_test(test_defaults_follow_xen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
