/*
 * sim/hyp (the simulated hypervisor around lib/sched) and sim/audio (the
 * audio experiment): accounting, context switches, wake and interrupt
 * paths; the xrun rule, its absence when the guest runs in time, the
 * restart after an xrun, and determinism per seed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "audio.h"
#include "devices/devices.h"
#include "engine.h"
#include "hyp.h"

/* ------------------------------------------------------------------ */
/* sim/hyp                                                              */
/* ------------------------------------------------------------------ */

static struct hyp *new_hyp(struct sim_engine *e, enum hqio_sched_policy pol, unsigned n_pcpus)
{
	struct hqio_sched_config cfg = { .policy = pol, .n_pcpus = n_pcpus };
	struct hyp *h = NULL;
	char err[128] = "";
	assert_int_equal(hyp_create(e, &cfg, &h, err, sizeof(err)), 0);
	assert_non_null(h);
	return h;
}

static uint64_t busy_done(void *arg, struct hyp *h, int v, uint64_t now)
{
	(void)arg;
	(void)h;
	(void)v;
	(void)now;
	return HYP_BURST_FOREVER;
}

/* I/O-bound: 2 ms of CPU, then block; an I/O completion 3 ms later wakes it. */
struct io_ctx {
	struct sim_engine *e;
	struct hyp *h;
	int v;
};

static void io_complete(void *arg, uint64_t now)
{
	struct io_ctx *c = arg;
	(void)now;
	hyp_wake(c->h, c->v, 2 * SIM_NS_PER_MS);
}

static uint64_t io_done(void *arg, struct hyp *h, int v, uint64_t now)
{
	struct io_ctx *c = arg;
	(void)h;
	(void)v;
	(void)now;
	sim_schedule(c->e, 3 * SIM_NS_PER_MS, io_complete, c, 1);
	return 0;
}

static void test_hyp_accounting_adds_up_to_elapsed_time(void **state)
{
	(void)state;
	struct sim_engine e;
	sim_engine_init(&e, 3);
	struct hyp *h = new_hyp(&e, HQIO_SCHED_CREDIT_2009, 2);
	struct hyp_work busy = { .burst_done = busy_done };
	struct io_ctx io = { .e = &e };
	struct hyp_work iow = { .burst_done = io_done, .arg = &io };
	struct hqio_vcpu_params p = { .domain = 0 };
	int b0 = hyp_add_vcpu(h, &p, &busy, false);
	p.domain = 1;
	int b1 = hyp_add_vcpu(h, &p, &busy, false);
	p.domain = 2;
	p.pcpu = 1;
	io.h = h;
	io.v = hyp_add_vcpu(h, &p, &iow, false);
	assert_true(b0 >= 0 && b1 >= 0 && io.v >= 0);
	hyp_start(h);
	hyp_wake(h, b0, HYP_BURST_FOREVER);
	hyp_wake(h, b1, HYP_BURST_FOREVER);
	hyp_wake(h, io.v, 2 * SIM_NS_PER_MS);
	sim_run_for(&e, 3 * SIM_NS_PER_S + 12345);
	hyp_sync(h);
	uint64_t el = hyp_elapsed_ns(h);
	assert_int_equal(el, 3 * SIM_NS_PER_S + 12345);
	uint64_t vsum = 0, csum = 0;
	for (int v = 0; v < 3; v++)
		vsum += hyp_vcpu_stats(h, v)->run_ns;
	for (unsigned c = 0; c < 2; c++) {
		const struct hyp_pcpu_stats *s = hyp_pcpu_stats(h, c);
		assert_int_equal(s->run_ns + s->idle_ns, el);
		csum += s->run_ns;
	}
	assert_int_equal(vsum, csum);
	/* The I/O-bound vCPU ran 2 ms per burst, finished bursts counted. */
	const struct hyp_vcpu_stats *s = hyp_vcpu_stats(h, io.v);
	assert_true(s->bursts_done > 10);
	assert_true(s->run_ns >= s->bursts_done * 2 * SIM_NS_PER_MS);
	assert_true(s->run_ns <= (s->bursts_done + 1) * 2 * SIM_NS_PER_MS);
	hyp_destroy(h);
	sim_engine_free(&e);
}

/* Ping-pong: A runs 1 ms, wakes B and blocks; B the same back. Only one
 * is runnable at a time, so every hand-over is exactly one switch. */
struct pp {
	struct hyp *h;
	int a, b;
	int left;
};

static uint64_t pp_done(void *arg, struct hyp *h, int v, uint64_t now)
{
	struct pp *p = arg;
	(void)now;
	if (p->left-- > 0)
		hyp_wake(h, v == p->a ? p->b : p->a, SIM_NS_PER_MS);
	return 0;
}

static void test_hyp_counts_context_switches(void **state)
{
	(void)state;
	struct sim_engine e;
	sim_engine_init(&e, 4);
	struct hyp *h = new_hyp(&e, HQIO_SCHED_CREDIT_2009, 1);
	struct pp p = { .h = h, .left = 99 };
	struct hyp_work w = { .burst_done = pp_done, .arg = &p };
	struct hqio_vcpu_params vp = { .domain = 0 };
	p.a = hyp_add_vcpu(h, &vp, &w, false);
	vp.domain = 1;
	p.b = hyp_add_vcpu(h, &vp, &w, false);
	hyp_start(h);
	hyp_wake(h, p.a, SIM_NS_PER_MS);
	sim_run_for(&e, SIM_NS_PER_S);
	hyp_sync(h);
	/* 100 bursts of 1 ms: A, B, A, ... (the first start counts too). */
	const struct hyp_pcpu_stats *c = hyp_pcpu_stats(h, 0);
	assert_int_equal(c->switches, 100);
	assert_int_equal(hyp_vcpu_stats(h, p.a)->switches_in, 50);
	assert_int_equal(hyp_vcpu_stats(h, p.b)->switches_in, 50);
	assert_int_equal(hyp_vcpu_stats(h, p.a)->run_ns, 50 * SIM_NS_PER_MS);
	assert_int_equal(hyp_vcpu_stats(h, p.b)->run_ns, 50 * SIM_NS_PER_MS);
	assert_int_equal(c->idle_ns, SIM_NS_PER_S - 100 * SIM_NS_PER_MS);
	hyp_destroy(h);
	sim_engine_free(&e);
}

struct irq_rec {
	int calls;
	uint64_t raised, at;
	uint64_t cost;
};

static uint64_t rec_irq(void *arg, struct hyp *h, int v, uint64_t raised, uint64_t now)
{
	struct irq_rec *r = arg;
	(void)h;
	(void)v;
	r->calls++;
	r->raised = raised;
	r->at = now;
	return r->cost;
}

static uint64_t block_done(void *arg, struct hyp *h, int v, uint64_t now)
{
	(void)arg;
	(void)h;
	(void)v;
	(void)now;
	return 0;
}

static void raise_irq(void *arg, uint64_t now)
{
	struct io_ctx *c = arg;
	(void)now;
	hyp_irq(c->h, c->v);
}

static void test_hyp_irq_wakes_a_blocked_vcpu_and_runs_its_handler(void **state)
{
	(void)state;
	struct sim_engine e;
	sim_engine_init(&e, 5);
	struct hyp *h = new_hyp(&e, HQIO_SCHED_CREDIT_2009, 1);
	struct irq_rec r = { .cost = 7 * SIM_NS_PER_US };
	struct hyp_work w = { .burst_done = block_done, .irq = rec_irq, .arg = &r };
	struct hqio_vcpu_params vp = { .domain = 1 };
	struct io_ctx c = { .e = &e, .h = h };
	c.v = hyp_add_vcpu(h, &vp, &w, true);
	hyp_start(h);
	sim_schedule(&e, 5 * SIM_NS_PER_MS, raise_irq, &c, 2);
	sim_run_for(&e, 20 * SIM_NS_PER_MS);
	hyp_sync(h);
	const struct hyp_vcpu_stats *s = hyp_vcpu_stats(h, c.v);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.raised, 5 * SIM_NS_PER_MS);
	assert_int_equal(r.at, 5 * SIM_NS_PER_MS); /* the pCPU was idle */
	assert_int_equal(s->irqs, 1);
	assert_int_equal(s->irqs_handled, 1);
	assert_int_equal(s->n_lat, 1);
	assert_int_equal(s->lat_ns[0], 0);
	assert_int_equal(s->run_ns, 7 * SIM_NS_PER_US); /* exactly the handler's cost */
	assert_true(hyp_blocked(h, c.v));
	hyp_destroy(h);
	sim_engine_free(&e);
}

static void test_hyp_irq_on_a_running_vcpu_extends_its_burst(void **state)
{
	(void)state;
	struct sim_engine e;
	sim_engine_init(&e, 6);
	struct hyp *h = new_hyp(&e, HQIO_SCHED_CREDIT_2009, 1);
	struct irq_rec r = { .cost = 300 * SIM_NS_PER_US };
	struct hyp_work w = { .burst_done = block_done, .irq = rec_irq, .arg = &r };
	struct hqio_vcpu_params vp = { .domain = 1 };
	struct io_ctx c = { .e = &e, .h = h };
	c.v = hyp_add_vcpu(h, &vp, &w, true);
	hyp_start(h);
	hyp_wake(h, c.v, 2 * SIM_NS_PER_MS);
	sim_schedule(&e, SIM_NS_PER_MS, raise_irq, &c, 2);
	sim_run_for(&e, 20 * SIM_NS_PER_MS);
	hyp_sync(h);
	const struct hyp_vcpu_stats *s = hyp_vcpu_stats(h, c.v);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.at, SIM_NS_PER_MS);
	assert_int_equal(s->lat_ns[0], 0);
	assert_int_equal(s->bursts_done, 1);
	assert_int_equal(s->run_ns, 2 * SIM_NS_PER_MS + 300 * SIM_NS_PER_US);
	hyp_destroy(h);
	sim_engine_free(&e);
}

/* A busy vCPU holds the pCPU; interrupts for a second vCPU wait for the
 * scheduler, and the handler runs when that vCPU gets the pCPU: the
 * latency is the time between the two, and pending interrupts coalesce. */
static void test_hyp_irq_latency_is_time_to_run(void **state)
{
	(void)state;
	struct sim_engine e;
	sim_engine_init(&e, 7);
	struct hyp *h = new_hyp(&e, HQIO_SCHED_CREDIT_2009, 1);
	struct irq_rec r = { .cost = SIM_NS_PER_US };
	struct hyp_work busy = { .burst_done = busy_done };
	struct hyp_work w = { .burst_done = block_done, .irq = rec_irq, .arg = &r };
	struct hqio_vcpu_params vp = { .domain = 0 };
	int b = hyp_add_vcpu(h, &vp, &busy, false);
	vp.domain = 1;
	struct io_ctx c = { .e = &e, .h = h };
	c.v = hyp_add_vcpu(h, &vp, &w, true);
	hyp_start(h);
	hyp_wake(h, b, HYP_BURST_FOREVER);
	for (int i = 0; i < 200; i++)
		sim_schedule(&e, 5 * SIM_NS_PER_MS + (uint64_t)i * 7 * SIM_NS_PER_MS, raise_irq, &c,
			     2);
	sim_run_for(&e, 2 * SIM_NS_PER_S);
	hyp_sync(h);
	const struct hyp_vcpu_stats *s = hyp_vcpu_stats(h, c.v);
	assert_int_equal(s->irqs, 200);
	assert_int_equal((int)s->irqs_handled, r.calls);
	assert_int_equal(s->n_lat, s->irqs_handled);
	uint64_t mx = 0;
	for (size_t i = 0; i < s->n_lat; i++)
		mx = s->lat_ns[i] > mx ? s->lat_ns[i] : mx;
	assert_int_equal(mx, s->lat_max_ns);
	assert_true(r.at >= r.raised);
	/* The guest ran exactly its handlers. */
	assert_int_equal(s->run_ns, s->irqs_handled * SIM_NS_PER_US);
	hyp_destroy(h);
	sim_engine_free(&e);
}

/* settle() visits only the pCPUs hqio_sched_next_resched() names (hyp.c);
 * asking every pCPU in turn must give the same run: a mixed load on 8
 * pCPUs where pCPUs go idle and get tickled. */
struct mixed_v {
	struct sim_engine *e;
	struct hyp *h;
	int v, kind;
};

static void mixed_wake(void *arg, uint64_t now)
{
	struct mixed_v *m = arg;
	(void)now;
	hyp_wake(m->h, m->v, 100 * SIM_NS_PER_US + sim_rand_below(m->e, 2 * SIM_NS_PER_MS));
}

static uint64_t mixed_done(void *arg, struct hyp *h, int v, uint64_t now)
{
	struct mixed_v *m = arg;
	(void)h;
	(void)v;
	(void)now;
	if (m->kind == 0)
		return HYP_BURST_FOREVER;
	sim_schedule(m->e, SIM_NS_PER_MS + sim_rand_below(m->e, 9 * SIM_NS_PER_MS), mixed_wake, m,
		     3);
	return 0;
}

static uint64_t mixed_run(enum hqio_sched_policy pol, bool scan_all, uint64_t *run_ns)
{
	struct sim_engine e;
	sim_engine_init(&e, 11);
	struct hyp *h = new_hyp(&e, pol, 8);
	hyp_set_scan_all(h, scan_all);
	struct mixed_v mv[40];
	for (int i = 0; i < 40; i++) {
		/* 4 busy loops, 36 I/O-bound: pCPUs go idle and get tickled. */
		mv[i] = (struct mixed_v){ .e = &e, .h = h, .kind = i % 10 == 0 ? 0 : 1 };
		struct hqio_vcpu_params p = { .domain = (unsigned)i, .pcpu = (unsigned)i % 8 };
		struct hyp_work w = { .burst_done = mixed_done, .arg = &mv[i] };
		mv[i].v = hyp_add_vcpu(h, &p, &w, false);
		assert_true(mv[i].v >= 0);
	}
	hyp_start(h);
	for (int i = 0; i < 40; i++)
		hyp_wake(h, mv[i].v, mv[i].kind == 0 ? HYP_BURST_FOREVER : SIM_NS_PER_MS);
	sim_run_for(&e, 2 * SIM_NS_PER_S);
	hyp_sync(h);
	for (int i = 0; i < 40; i++)
		run_ns[i] = hyp_vcpu_stats(h, mv[i].v)->run_ns;
	uint64_t hash = e.trace_hash;
	hyp_destroy(h);
	sim_engine_free(&e);
	return hash;
}

static void test_hyp_next_resched_gives_the_same_run_as_asking_all(void **state)
{
	(void)state;
	enum hqio_sched_policy pols[] = { HQIO_SCHED_CREDIT_2009, HQIO_SCHED_CREDIT_42,
					  HQIO_SCHED_RT };
	for (unsigned k = 0; k < 3; k++) {
		uint64_t a[40], b[40];
		uint64_t ha = mixed_run(pols[k], false, a);
		uint64_t hb = mixed_run(pols[k], true, b);
		assert_memory_equal(a, b, sizeof(a));
		assert_true(ha == hb);
	}
}

static void test_hyp_rejects_bad_config(void **state)
{
	(void)state;
	struct sim_engine e;
	sim_engine_init(&e, 1);
	struct hqio_sched_config cfg = { .policy = HQIO_SCHED_CREDIT_2009, .n_pcpus = 0 };
	struct hyp *h = (struct hyp *)1;
	char err[128] = "";
	assert_int_equal(hyp_create(&e, &cfg, &h, err, sizeof(err)), -EINVAL);
	assert_null(h);
	sim_engine_free(&e);
}

/* ------------------------------------------------------------------ */
/* sim/audio                                                            */
/* ------------------------------------------------------------------ */

static void short_params(struct audio_params *p, enum audio_sched s)
{
	audio_params_default(p);
	p->sched = s;
	p->duration_ns = 20 * SIM_NS_PER_S;
	p->trace_fill = true;
}

/* short_params on credit with dom0 idle; with stall_ns, the player stalls
 * that long 5 s into the run. */
static void dom0_idle_params(struct audio_params *p, uint64_t stall_ns)
{
	short_params(p, AUDIO_SCHED_CREDIT);
	p->dom0_idle = true;
	if (stall_ns) {
		p->stall_after_ns = 5 * SIM_NS_PER_S;
		p->stall_ns = stall_ns;
	}
}

/* A run that must succeed. */
static void run_ok(const struct audio_params *p, struct audio_result *r)
{
	char err[200];
	assert_int_equal(audio_run(p, r, err, sizeof(err)), 0);
}

/* The guest always runs in time (dom0 idle): no xrun, no silent period. */
static void test_audio_no_underrun_when_guest_runs_in_time(void **state)
{
	(void)state;
	struct audio_params p;
	struct audio_result r;
	dom0_idle_params(&p, 0);
	run_ok(&p, &r);
	assert_int_equal(r.xruns, 0);
	assert_int_equal(r.silent_periods, 0);
	assert_int_equal(r.dma_errors, 0);
	assert_true(r.periods_played >= 155); /* 20 s of 124.8 ms periods */
	assert_int_equal(r.lat_max_ns, 0);
	assert_int_equal(r.n_xrun_at, 0);
	/* The ring is never empty at a period boundary. */
	for (size_t i = 0; i < r.n_fill; i++)
		assert_true(r.fill[i].fill_frames > 0);
	audio_result_free(&r);
}

/* A stall longer than the buffer: the device pointer catches the
 * application pointer at a period boundary, and the xrun is counted at
 * exactly that instant (the fill level the device saw there was 0). */
static void test_audio_underrun_exactly_when_device_catches_app(void **state)
{
	(void)state;
	struct audio_params p;
	struct audio_result r;
	dom0_idle_params(&p, 800 * SIM_NS_PER_MS); /* buffer 499 ms + one period in hand */
	run_ok(&p, &r);
	assert_int_equal(r.xruns, 1);
	assert_int_equal(r.n_xrun_at, 1);
	assert_true(r.silent_periods >= 1);
	size_t zero = r.n_fill;
	for (size_t i = 0; i < r.n_fill; i++) {
		if (r.fill[i].fill_frames <= 0) {
			zero = i;
			break;
		}
	}
	assert_true(zero < r.n_fill);
	assert_int_equal(r.fill[zero].fill_frames, 0);
	assert_int_equal(r.fill[zero].t_ns, r.xrun_at_ns[0]);
	/* dom0 idles, so the guest's handler runs at that very instant and
	 * sees the xrun there. */
	assert_int_equal(r.xrun_seen_ns[0], r.xrun_at_ns[0]);
	/* Before it, the ring never ran empty. */
	for (size_t i = 0; i < zero; i++)
		assert_true(r.fill[i].fill_frames > 0);
	audio_result_free(&r);
}

/* A stall just shorter than buffer + the period in hand: no xrun. */
static void test_audio_stall_shorter_than_buffer_is_absorbed(void **state)
{
	(void)state;
	struct audio_params p;
	struct audio_result r;
	dom0_idle_params(&p, 350 * SIM_NS_PER_MS);
	p.decode_jitter = 0;
	run_ok(&p, &r);
	assert_int_equal(r.xruns, 0);
	assert_int_equal(r.silent_periods, 0);
	audio_result_free(&r);
}

/* After an xrun the player prepares and writes again: the stream restarts
 * with one period and refills; playback goes on to the end. */
static void test_audio_restarts_after_xrun(void **state)
{
	(void)state;
	struct audio_params p;
	struct audio_result r;
	dom0_idle_params(&p, 2 * SIM_NS_PER_S);
	run_ok(&p, &r);
	assert_int_equal(r.xruns, 1);
	/* The last samples show a full ring again, long after the stall. */
	assert_true(r.n_fill > 10);
	assert_true(r.fill[r.n_fill - 1].t_ns > 15 * SIM_NS_PER_S);
	size_t i = 0;
	while (i < r.n_fill && r.fill[i].t_ns <= r.xrun_at_ns[0])
		i++;
	/* First sample after the xrun: the restart wrote exactly one period. */
	assert_true(i < r.n_fill);
	assert_int_equal(r.fill[i].fill_frames, (int64_t)p.period_frames);
	assert_true(r.fill[i].t_ns >= 7 * SIM_NS_PER_S); /* not before the stall ended */
	int full = 0;
	for (; i < r.n_fill; i++)
		full |= r.fill[i].fill_frames == (int64_t)(p.period_frames * p.nperiods);
	assert_true(full);
	/* Silent periods: played from the xrun until the guest stopped the stream. */
	assert_true(r.silent_periods >= 1);
	audio_result_free(&r);
}

static void test_audio_same_seed_same_run_other_seed_other_trace(void **state)
{
	(void)state;
	struct audio_params p;
	struct audio_result a, b, c;
	short_params(&p, AUDIO_SCHED_CREDIT);
	p.trace_fill = false;
	p.keep_latencies = true;
	run_ok(&p, &a);
	run_ok(&p, &b);
	p.seed = 2;
	run_ok(&p, &c);
	assert_true(a.trace_hash == b.trace_hash);
	assert_int_equal(a.events, b.events);
	assert_int_equal(a.xruns, b.xruns);
	assert_int_equal(a.switches, b.switches);
	assert_int_equal(a.n_lat, b.n_lat);
	assert_memory_equal(a.lat_ns, b.lat_ns, a.n_lat * sizeof(uint64_t));
	assert_true(a.trace_hash != c.trace_hash);
	audio_result_free(&a);
	audio_result_free(&b);
	audio_result_free(&c);
}

/* CPU shares add up to the whole pCPU under every policy. */
static void test_audio_shares_add_up(void **state)
{
	(void)state;
	for (int s = 0; s < AUDIO_SCHED_N; s++) {
		struct audio_params p;
		struct audio_result r;
		short_params(&p, (enum audio_sched)s);
		p.trace_fill = false;
		run_ok(&p, &r);
		double sum = r.dom0_share + r.guest_share + r.idle_share;
		assert_true(sum > 0.999999 && sum < 1.000001);
		assert_true(r.guest_share > 0.01);
		assert_true(r.periods_played > 100);
		audio_result_free(&r);
	}
}

static void test_audio_rejects_bad_params(void **state)
{
	(void)state;
	struct audio_params p;
	struct audio_result r;
	char err[200] = "";
	audio_params_default(&p);
	p.nperiods = 1;
	assert_int_equal(audio_run(&p, &r, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	audio_params_default(&p);
	p.period_frames = 70000; /* 280 KB: above the controller's 64 KiB */
	assert_int_equal(audio_run(&p, &r, err, sizeof(err)), -EINVAL);
	audio_params_default(&p);
	p.w_guest = 0;
	assert_int_equal(audio_run(&p, &r, err, sizeof(err)), -EINVAL);
	audio_params_default(&p);
	p.decode_frac = 1.5;
	assert_int_equal(audio_run(&p, &r, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hyp_accounting_adds_up_to_elapsed_time),
		cmocka_unit_test(test_hyp_counts_context_switches),
		cmocka_unit_test(test_hyp_irq_wakes_a_blocked_vcpu_and_runs_its_handler),
		cmocka_unit_test(test_hyp_irq_on_a_running_vcpu_extends_its_burst),
		cmocka_unit_test(test_hyp_irq_latency_is_time_to_run),
		cmocka_unit_test(test_hyp_next_resched_gives_the_same_run_as_asking_all),
		cmocka_unit_test(test_hyp_rejects_bad_config),
		cmocka_unit_test(test_audio_no_underrun_when_guest_runs_in_time),
		cmocka_unit_test(test_audio_underrun_exactly_when_device_catches_app),
		cmocka_unit_test(test_audio_stall_shorter_than_buffer_is_absorbed),
		cmocka_unit_test(test_audio_restarts_after_xrun),
		cmocka_unit_test(test_audio_same_seed_same_run_other_seed_other_trace),
		cmocka_unit_test(test_audio_shares_add_up),
		cmocka_unit_test(test_audio_rejects_bad_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
