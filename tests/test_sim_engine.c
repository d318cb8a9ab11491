/*
 * Event engine tests: ordering, FIFO ties, cancellation, virtual time,
 * deterministic randomness and traces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine.h"

struct rec {
	uint64_t when[4096];
	int who[4096];
	size_t n;
};

struct item {
	struct rec *r;
	int id;
};

static void record(void *arg, uint64_t now)
{
	struct item *it = arg;
	it->r->when[it->r->n] = now;
	it->r->who[it->r->n++] = it->id;
}

static void test_events_run_in_time_order(void **state)
{
	(void)state;
	struct sim_engine e;
	struct rec r = { 0 };
	struct item it[3] = { { &r, 0 }, { &r, 1 }, { &r, 2 } };
	sim_engine_init(&e, 1);
	sim_schedule(&e, 300, record, &it[0], 0);
	sim_schedule(&e, 100, record, &it[1], 0);
	sim_schedule(&e, 200, record, &it[2], 0);
	while (sim_step(&e))
		;
	assert_int_equal(r.n, 3);
	assert_int_equal(r.who[0], 1);
	assert_int_equal(r.who[1], 2);
	assert_int_equal(r.who[2], 0);
	assert_int_equal(r.when[2], 300);
	assert_int_equal(e.now_ns, 300);
	sim_engine_free(&e);
}

static void test_equal_times_run_fifo(void **state)
{
	(void)state;
	struct sim_engine e;
	struct rec r = { 0 };
	struct item it[64];
	sim_engine_init(&e, 1);
	for (int i = 0; i < 64; i++) {
		it[i] = (struct item){ &r, i };
		sim_schedule(&e, 50, record, &it[i], 0);
	}
	while (sim_step(&e))
		;
	for (int i = 0; i < 64; i++)
		assert_int_equal(r.who[i], i);
	sim_engine_free(&e);
}

static void test_cancel_and_stale_handles(void **state)
{
	(void)state;
	struct sim_engine e;
	struct rec r = { 0 };
	struct item a = { &r, 1 }, b = { &r, 2 };
	sim_engine_init(&e, 1);
	sim_event_id ia = sim_schedule(&e, 10, record, &a, 0);
	sim_event_id ib = sim_schedule(&e, 20, record, &b, 0);
	assert_true(sim_pending(&e, ia));
	sim_cancel(&e, ia);
	assert_false(sim_pending(&e, ia));
	while (sim_step(&e))
		;
	assert_int_equal(r.n, 1);
	assert_int_equal(r.who[0], 2);
	/* ib ran; its slot may be reused: cancelling the stale handle must not
	 * cancel the new event */
	sim_event_id ic = sim_schedule(&e, 5, record, &a, 0);
	sim_cancel(&e, ib);
	assert_true(sim_pending(&e, ic));
	sim_step(&e);
	assert_int_equal(r.n, 2);
	sim_cancel(&e, 0);
	sim_engine_free(&e);
}

static void test_run_until_advances_virtual_time(void **state)
{
	(void)state;
	struct sim_engine e;
	struct rec r = { 0 };
	struct item a = { &r, 1 }, b = { &r, 2 };
	sim_engine_init(&e, 1);
	sim_schedule(&e, 100, record, &a, 0);
	sim_schedule(&e, 1000, record, &b, 0);
	sim_run_until(&e, 500);
	assert_int_equal(e.now_ns, 500);
	assert_int_equal(r.n, 1);
	sim_run_for(&e, 500);
	assert_int_equal(e.now_ns, 1000);
	assert_int_equal(r.n, 2);
	/* scheduling in the past runs now, not earlier */
	sim_schedule_at(&e, 10, record, &a, 0);
	sim_step(&e);
	assert_int_equal(r.when[2], 1000);
	sim_engine_free(&e);
}

static bool two_done(void *arg)
{
	return ((struct rec *)arg)->n >= 2;
}

static void test_run_until_cond_stops_early(void **state)
{
	(void)state;
	struct sim_engine e;
	struct rec r = { 0 };
	struct item it[3] = { { &r, 0 }, { &r, 1 }, { &r, 2 } };
	sim_engine_init(&e, 1);
	for (int i = 0; i < 3; i++)
		sim_schedule(&e, (uint64_t)(i + 1) * 10, record, &it[i], 0);
	assert_true(sim_run_until_cond(&e, two_done, &r, 1000));
	assert_int_equal(e.now_ns, 20);
	assert_int_equal(r.n, 2);
	sim_engine_free(&e);
}

/* A little simulation whose event times depend on the random source. */
struct chain {
	struct sim_engine *e;
	int left;
};

static void hop(void *arg, uint64_t now)
{
	struct chain *c = arg;
	(void)now;
	if (c->left-- > 0)
		sim_schedule(c->e, sim_rand_below(c->e, 1000) + 1, hop, c, (uint32_t)c->left);
}

struct trace_log {
	uint64_t v[20000];
	size_t n;
};

static void log_trace(void *arg, uint64_t when, uint64_t seq, uint32_t tag)
{
	struct trace_log *t = arg;
	if (t->n + 3 <= 20000) {
		t->v[t->n++] = when;
		t->v[t->n++] = seq;
		t->v[t->n++] = tag;
	}
}

static uint64_t run_chain(uint64_t seed, struct trace_log *t)
{
	struct sim_engine e;
	struct chain c[4];
	sim_engine_init(&e, seed);
	e.trace = log_trace;
	e.trace_arg = t;
	for (int i = 0; i < 4; i++) {
		c[i] = (struct chain){ &e, 1000 };
		sim_schedule(&e, 0, hop, &c[i], 0);
	}
	while (sim_step(&e))
		;
	uint64_t h = e.trace_hash;
	sim_engine_free(&e);
	return h;
}

static void test_same_seed_same_trace_bit_for_bit(void **state)
{
	(void)state;
	struct trace_log *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)),
			 *c = calloc(1, sizeof(*c));
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	uint64_t ha = run_chain(7, a), hb = run_chain(7, b), hc = run_chain(8, c);
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->v, b->v, a->n * sizeof(a->v[0]));
	assert_true(ha == hb);
	/* a different seed gives a different run */
	assert_true(ha != hc);
	assert_true(a->n != c->n || memcmp(a->v, c->v, a->n * sizeof(a->v[0])) != 0);
	free(a);
	free(b);
	free(c);
}

static void test_rand_below_is_in_range_and_covers_it(void **state)
{
	(void)state;
	struct sim_engine e;
	unsigned seen[7] = { 0 };
	sim_engine_init(&e, 99);
	for (int i = 0; i < 7000; i++) {
		uint64_t r = sim_rand_below(&e, 7);
		assert_true(r < 7);
		seen[r]++;
	}
	for (int i = 0; i < 7; i++)
		assert_true(seen[i] > 800 && seen[i] < 1200);
	sim_engine_free(&e);
}

static void test_many_random_events_pop_sorted(void **state)
{
	(void)state;
	struct sim_engine e;
	struct rec *r = calloc(1, sizeof(*r));
	struct item *it = calloc(4096, sizeof(*it));
	assert_non_null(r);
	assert_non_null(it);
	sim_engine_init(&e, 3);
	for (int i = 0; i < 4096; i++) {
		it[i] = (struct item){ r, i };
		sim_event_id id = sim_schedule(&e, sim_rand_below(&e, 100000), record, &it[i], 0);
		if (i % 7 == 0)
			sim_cancel(&e, id);
	}
	while (sim_step(&e))
		;
	assert_int_equal(r->n, 4096 - (4096 + 6) / 7);
	for (size_t i = 1; i < r->n; i++) {
		assert_true(r->when[i - 1] <= r->when[i]);
		if (r->when[i - 1] == r->when[i])
			assert_true(r->who[i - 1] < r->who[i]);
	}
	free(r);
	free(it);
	sim_engine_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_run_in_time_order),
		cmocka_unit_test(test_equal_times_run_fifo),
		cmocka_unit_test(test_cancel_and_stale_handles),
		cmocka_unit_test(test_run_until_advances_virtual_time),
		cmocka_unit_test(test_run_until_cond_stops_early),
		cmocka_unit_test(test_same_seed_same_trace_bit_for_bit),
		cmocka_unit_test(test_rand_below_is_in_range_and_covers_it),
		cmocka_unit_test(test_many_random_events_pop_sorted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
