/*
 * Benchmark of the simulated hypervisor and the audio experiment (issue
 * 18): wall time to simulate 10 minutes of the two-domain audio system
 * (target: under 2 s), and the speed of a 64-pCPU, 512-domain mixed load
 * (busy, I/O-blocking and periodic vCPUs) relative to real time (target:
 * at least 100x). Medians of repeated runs. The mixed load, one vCPU per
 * domain, weight 256, credit-2009, vCPU i starting on pCPU i mod 64:
 * a third busy loops, a third I/O-bound (0.1-2 ms of CPU per request, the
 * device answering 1-20 ms later), a third periodic (1 ms every 10 ms).
 *
 * `--op audio_s --count N`: N simulated seconds of the audio system;
 * `--op mixed_ms --count N`: N simulated ms of the mixed load; untimed,
 * for callgrind (scripts/bench.sh); prints a digest of the run (engine
 * trace hash, event and context-switch counts, a hash of every vCPU's run
 * time) that an optimization must leave unchanged.
 * `--mixed`: only the timed mixed load.
 */
#include "audio.h"
#include "engine.h"
#include "hyp.h"
#include "bench_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 5

static int audio(enum audio_sched s, uint64_t seconds, struct audio_result *r)
{
	struct audio_params p;
	char err[200];
	audio_params_default(&p);
	p.sched = s;
	p.duration_ns = seconds * SIM_NS_PER_S;
	int rc = audio_run(&p, r, err, sizeof(err));
	if (rc)
		fprintf(stderr, "bench_audio: %s\n", err);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The mixed load                                                       */
/* ------------------------------------------------------------------ */

enum kind { K_BUSY, K_IO, K_PERIODIC };

struct mvcpu {
	struct mixed *m;
	int v;
	enum kind kind;
};

struct mixed {
	struct sim_engine e;
	struct hyp *h;
	struct mvcpu *vc;
	unsigned n;
};

static void wake_ev(void *arg, uint64_t now)
{
	struct mvcpu *c = arg;
	(void)now;
	/* I/O: 0.1-2 ms of CPU per request; periodic: 1 ms every 10 ms. */
	uint64_t burst = c->kind == K_IO ? 100 * SIM_NS_PER_US +
						   sim_rand_below(&c->m->e, 1900 * SIM_NS_PER_US)
					 : SIM_NS_PER_MS;
	hyp_wake(c->m->h, c->v, burst);
}

static uint64_t mixed_done(void *arg, struct hyp *h, int v, uint64_t now)
{
	struct mvcpu *c = arg;
	(void)h;
	(void)v;
	switch (c->kind) {
	case K_BUSY:
		return HYP_BURST_FOREVER;
	case K_IO: /* a disk of the era answers in 1-20 ms (seek + rotation; model choice) */
		sim_schedule(&c->m->e, SIM_NS_PER_MS + sim_rand_below(&c->m->e, 19 * SIM_NS_PER_MS),
			     wake_ev, c, 7);
		return 0;
	default: { /* next period boundary */
		uint64_t per = 10 * SIM_NS_PER_MS;
		sim_schedule_at(&c->m->e, (now / per + 1) * per + (uint64_t)(c->v % 10) * 1000,
				wake_ev, c, 8);
		return 0;
	}
	}
}

static int mixed_new(struct mixed *m, unsigned n_pcpus, unsigned n_doms)
{
	memset(m, 0, sizeof(*m));
	sim_engine_init(&m->e, 42);
	struct hqio_sched_config cfg = { .policy = HQIO_SCHED_CREDIT_2009, .n_pcpus = n_pcpus };
	char err[200];
	if (hyp_create(&m->e, &cfg, &m->h, err, sizeof(err))) {
		fprintf(stderr, "bench_audio: %s\n", err);
		return -1;
	}
	m->n = n_doms;
	m->vc = calloc(n_doms, sizeof(*m->vc));
	if (!m->vc)
		return -1;
	for (unsigned i = 0; i < n_doms; i++) {
		struct mvcpu *c = &m->vc[i];
		c->m = m;
		c->kind = (enum kind)(i % 3);
		struct hqio_vcpu_params p = { .domain = i, .weight = 256, .pcpu = i % n_pcpus };
		struct hyp_work w = { .burst_done = mixed_done, .arg = c };
		c->v = hyp_add_vcpu(m->h, &p, &w, false);
		if (c->v < 0)
			return -1;
	}
	hyp_start(m->h);
	for (unsigned i = 0; i < n_doms; i++)
		hyp_wake(m->h, m->vc[i].v,
			 m->vc[i].kind == K_BUSY ? HYP_BURST_FOREVER : SIM_NS_PER_MS);
	return 0;
}

/* Everything the decisions determine, to compare runs before and after an
 * optimization: they must be bit-identical. */
static void mixed_print_digest(struct mixed *m)
{
	uint64_t sw = 0, sched = 0, ticks = 0, idle = 0, run = 0, bursts = 0, wakes = 0;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a offset basis */
	hyp_sync(m->h);
	for (unsigned c = 0; c < hyp_n_pcpus(m->h); c++) {
		const struct hyp_pcpu_stats *ps = hyp_pcpu_stats(m->h, c);
		sw += ps->switches;
		sched += ps->schedules;
		ticks += ps->ticks;
		idle += ps->idle_ns;
	}
	for (unsigned v = 0; v < hyp_n_vcpus(m->h); v++) {
		const struct hyp_vcpu_stats *vs = hyp_vcpu_stats(m->h, (int)v);
		run += vs->run_ns;
		bursts += vs->bursts_done;
		wakes += vs->wakes;
		/* per-vCPU run time and switches, folded in order */
		h = (h ^ vs->run_ns) * 0x100000001b3ULL;
		h = (h ^ vs->switches_in) * 0x100000001b3ULL;
	}
	printf("mixed_digest trace_hash %016llx events %llu switches %llu schedules %llu "
	       "ticks %llu idle_ns %llu run_ns %llu bursts %llu wakes %llu vcpu_hash %016llx\n",
	       (unsigned long long)m->e.trace_hash, (unsigned long long)m->e.executed,
	       (unsigned long long)sw, (unsigned long long)sched, (unsigned long long)ticks,
	       (unsigned long long)idle, (unsigned long long)run, (unsigned long long)bursts,
	       (unsigned long long)wakes, (unsigned long long)h);
}

static void mixed_free(struct mixed *m)
{
	hyp_destroy(m->h);
	sim_engine_free(&m->e);
	free(m->vc);
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--op") && !strcmp(argv[3], "--count")) {
		uint64_t n = strtoull(argv[4], NULL, 10);
		if (!strcmp(argv[2], "audio_s")) {
			struct audio_result r;
			if (audio(AUDIO_SCHED_CREDIT, n, &r))
				return 1;
			audio_result_free(&r);
			return 0;
		}
		if (!strcmp(argv[2], "mixed_ms")) {
			struct mixed m;
			if (mixed_new(&m, 64, 512))
				return 1;
			sim_run_for(&m.e, n * SIM_NS_PER_MS);
			mixed_print_digest(&m);
			mixed_free(&m);
			return 0;
		}
		fprintf(stderr, "bench_audio: unknown op '%s' (audio_s, mixed_ms)\n", argv[2]);
		return 2;
	}
	bool mixed_only = argc == 2 && !strcmp(argv[1], "--mixed");
	if (argc != 1 && !mixed_only) {
		fprintf(stderr, "usage: bench_audio [--mixed | --op audio_s|mixed_ms --count N]\n");
		return 2;
	}
	/* 10 simulated minutes of the audio system, per scheduler. */
	for (int s = 0; s < AUDIO_SCHED_N && !mixed_only; s++) {
		double t[RUNS];
		uint64_t events = 0;
		for (int i = 0; i < RUNS; i++) {
			struct audio_result r;
			double t0 = bench_now_s();
			if (audio((enum audio_sched)s, 600, &r))
				return 1;
			t[i] = bench_now_s() - t0;
			events = r.events;
			audio_result_free(&r);
		}
		printf("audio_10min_%s_s %.3f (median of %d; %llu events; target < 2 s)\n",
		       audio_sched_name((enum audio_sched)s), bench_median(t, RUNS), RUNS,
		       (unsigned long long)events);
	}
	/* 64 pCPUs, 512 domains, 2 simulated seconds. */
	const uint64_t sim_ns = 2 * SIM_NS_PER_S;
	double t[RUNS], ratio[RUNS], cratio[RUNS];
	uint64_t events = 0, switches = 0;
	for (int i = 0; i < RUNS; i++) {
		struct mixed m;
		if (mixed_new(&m, 64, 512))
			return 1;
		double t0 = bench_now_s(), c0 = bench_cpu_s();
		sim_run_for(&m.e, sim_ns);
		t[i] = bench_now_s() - t0;
		ratio[i] = (double)sim_ns / 1e9 / t[i];
		cratio[i] = (double)sim_ns / 1e9 / (bench_cpu_s() - c0);
		hyp_sync(m.h);
		events = m.e.executed;
		switches = 0;
		for (unsigned c = 0; c < 64; c++)
			switches += hyp_pcpu_stats(m.h, c)->switches;
		mixed_free(&m);
	}
	printf("mixed_64pcpu_512dom_wall_s %.3f for %.0f simulated s (median of %d; %llu events, "
	       "%llu context switches)\n",
	       bench_median(t, RUNS), (double)sim_ns / 1e9, RUNS, (unsigned long long)events,
	       (unsigned long long)switches);
	printf("mixed_64pcpu_512dom_speed_x_real_time %.1f (median, wall clock; target >= 100)\n",
	       bench_median(ratio, RUNS));
	printf("mixed_64pcpu_512dom_speed_x_cpu_time %.1f (median, process CPU time: less "
	       "sensitive to a loaded machine)\n",
	       bench_median(cratio, RUNS));
	return 0;
}
