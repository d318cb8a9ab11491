/*
 * The event engine's queue against a plain reference: random schedules
 * (same instant, sub-microsecond, milliseconds, far beyond the calendar's
 * window, far apart in absolute time), cancellations and runs, checked
 * step by step to execute exactly in (time, insertion order), as a heap
 * ordered by that pair does. The reference keeps every pending entry in
 * an array and takes the minimum by a linear scan, cancelled entries
 * included (the engine drops those when they come first, as it always
 * did).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"

#define MAX_EV 20000

struct ref_ev {
	uint64_t when, seq;
	bool pending, cancelled;
	sim_event_id id;
};

struct world {
	struct sim_engine e;
	struct ref_ev ev[MAX_EV];
	int arg[MAX_EV];
	size_t n;
	uint64_t seq;
	uint64_t rng;
	int ran; /* id the engine just ran, -1 none */
	uint64_t ran_at;
	size_t executed;
	bool quiet; /* handlers only record */
};

static struct world *W;

static uint64_t rnd(struct world *w)
{
	/* xorshift64 (Marsaglia 2003): the test's own operation stream */
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static void on_event(void *arg, uint64_t now);

static void add(struct world *w, uint64_t when)
{
	if (w->n == MAX_EV)
		return;
	size_t i = w->n++;
	if (when < w->e.now_ns)
		when = w->e.now_ns;
	w->arg[i] = (int)i;
	w->ev[i] = (struct ref_ev){ .when = when, .seq = w->seq++, .pending = true };
	w->ev[i].id = sim_schedule_at(&w->e, when, on_event, &w->arg[i], (uint32_t)i);
	assert_true(w->ev[i].id != 0);
}

/* A delay from a mix that covers every part of the queue. */
static uint64_t delay(struct world *w)
{
	uint64_t now = w->e.now_ns, edge;
	switch (rnd(w) % 9) {
	case 8: /* around the end of the calendar's window, a bucket either side */
		edge = ((now >> SIM_CAL_SHIFT) + SIM_CAL_BUCKETS + rnd(w) % 3 - 1) << SIM_CAL_SHIFT;
		edge += rnd(w) % (1u << SIM_CAL_SHIFT);
		return edge > now ? edge - now : 0;
	case 0:
		return 0; /* the same instant: FIFO */
	case 1:
		return rnd(w) % 1000; /* inside one calendar bucket */
	case 2:
		return rnd(w) % (5 * SIM_NS_PER_MS);
	case 3:
		return rnd(w) % (40 * SIM_NS_PER_MS); /* across the window's end */
	case 4:
		return 30 * SIM_NS_PER_MS + rnd(w) % (10 * SIM_NS_PER_MS);
	case 5:
		return SIM_NS_PER_S + rnd(w) % SIM_NS_PER_S; /* far: the heap */
	case 6:
		return (rnd(w) % 4) * 1000; /* a few distinct instants, many ties */
	default:
		return rnd(w) % (100 * SIM_NS_PER_US);
	}
}

static void mutate(struct world *w)
{
	unsigned k = (unsigned)(rnd(w) % 4);
	for (unsigned j = 0; j < k; j++)
		add(w, w->e.now_ns + delay(w));
	if (w->n && rnd(w) % 3 == 0) { /* cancel a random event (maybe run already) */
		size_t i = (size_t)(rnd(w) % w->n);
		sim_cancel(&w->e, w->ev[i].id);
		if (w->ev[i].pending)
			w->ev[i].cancelled = true;
	}
}

static void on_event(void *arg, uint64_t now)
{
	struct world *w = W;
	w->ran = *(int *)arg;
	w->ran_at = now;
	w->executed++;
	if (!w->quiet)
		mutate(w);
}

/* The reference's next event: drop cancelled minima, return the first
 * live one (-1 none), as sim_step does. */
static int ref_step(struct world *w)
{
	for (;;) {
		int best = -1;
		for (size_t i = 0; i < w->n; i++) {
			const struct ref_ev *x = &w->ev[i];
			if (!x->pending)
				continue;
			if (best < 0 || x->when < w->ev[best].when ||
			    (x->when == w->ev[best].when && x->seq < w->ev[best].seq))
				best = (int)i;
		}
		if (best < 0)
			return -1;
		w->ev[best].pending = false;
		if (!w->ev[best].cancelled)
			return best;
	}
}

/* The reference's earliest pending time, cancelled entries included. */
static bool ref_due(const struct world *w, uint64_t t)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->ev[i].pending && w->ev[i].when <= t)
			return true;
	return false;
}

static void run_world(uint64_t seed, size_t events)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	W = w;
	w->rng = seed;
	sim_engine_init(&w->e, seed);
	for (int i = 0; i < 50; i++)
		add(w, delay(w));
	while (w->executed < events && w->n < MAX_EV - 8) {
		if (rnd(w) % 16 == 0) {
			/* sim_run_until: same stopping rule as the engine */
			uint64_t t = w->e.now_ns + delay(w);
			while (w->executed < events && ref_due(w, t)) {
				int want = ref_step(w);
				w->ran = -1;
				bool ran = sim_step(&w->e);
				assert_int_equal(ran, want >= 0);
				if (want < 0)
					break;
				assert_int_equal(w->ran, want);
				assert_true(w->ran_at == w->ev[want].when);
			}
			if (!ref_due(w, t)) {
				sim_run_until(&w->e, t); /* nothing due: only moves time */
				assert_true(w->e.now_ns >= t);
			}
			if (rnd(w) % 4 == 0)
				mutate(w); /* schedule from outside a handler */
			continue;
		}
		int want = ref_step(w);
		w->ran = -1;
		bool ran = sim_step(&w->e);
		assert_int_equal(ran, want >= 0);
		if (want < 0) {
			add(w, w->e.now_ns + delay(w)); /* empty: start again */
			continue;
		}
		assert_int_equal(w->ran, want);
		assert_true(w->ran_at == w->ev[want].when);
		assert_true(w->e.now_ns == w->ev[want].when);
	}
	assert_true(w->executed >= events / 2);
	sim_engine_free(&w->e);
	free(w);
	W = NULL;
}

static void test_order_matches_reference(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++)
		run_world(seed * 0x9e3779b97f4a7c15ULL, 2000);
}

/* Many events at one instant reached from the far part of the queue and
 * from the calendar, interleaved: still FIFO. */
static void test_ties_across_parts_fifo(void **state)
{
	(void)state;
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	W = w;
	w->rng = 7;
	w->quiet = true;
	sim_engine_init(&w->e, 7);
	uint64_t t = 2 * SIM_NS_PER_S; /* beyond the window: these wait in the heap */
	for (int i = 0; i < 40; i++)
		add(w, t);
	sim_run_until(&w->e, t - 10 * SIM_NS_PER_MS); /* now the window covers t */
	for (int i = 0; i < 40; i++)
		add(w, t); /* these go to the calendar, after the first 40 */
	for (int i = 0; i < 80; i++) {
		w->ran = -1;
		assert_true(sim_step(&w->e));
		assert_int_equal(w->ran, i);
	}
	assert_false(sim_step(&w->e));
	sim_engine_free(&w->e);
	free(w);
	W = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_matches_reference),
		cmocka_unit_test(test_ties_across_parts_fifo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
