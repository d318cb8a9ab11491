/*
 * Benchmark of lib/sched: how fast the schedulers run simulated time.
 * A small event-driven caller (binary heap of ticks, slice ends, burst
 * ends and wake-ups) plays the hypervisor around the scheduler:
 *
 *   two-domain: 1 pCPU, dom0 busy loop + a guest doing 0.5 ms of work every
 *     5.8 ms (roughly an audio period), 10 simulated minutes;
 *   64x512: 64 pCPUs, 512 one-vCPU domains, half busy loops, half I/O-like
 *     (0.3-0.9 ms bursts, 2-6 ms sleeps), weights 128-512, 10 simulated s.
 *
 * Prints wall and CPU time, scheduler calls per CPU second and the speed-up
 * over real time (issue 18 asks for >= 100x on the 64x512 load); CPU time
 * is shown because the build machine is shared. Best of 3 runs.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hqio/sched.h"

#define MS  1000000ULL
#define US  1000ULL
#define SEC (1000 * MS)

/*
 * Timers as an indexed binary heap: one slot per timer (the tick, each
 * pCPU's slice end and burst end, each vCPU's wake-up), re-armed in place;
 * keys are kept in the heap entries so a sift touches one array.
 */
struct hent {
	uint64_t t;
	uint32_t slot;
};

struct timers {
	uint64_t *when;	   /* per slot, UINT64_MAX = disarmed */
	struct hent *heap; /* ordered by t */
	uint32_t *pos;	   /* slot -> index in heap, UINT32_MAX = not in it */
	uint32_t n;
};

static void place(struct timers *q, uint32_t i, struct hent e)
{
	q->heap[i] = e;
	q->pos[e.slot] = i;
}

static void sift(struct timers *q, uint32_t i)
{
	struct hent e = q->heap[i];
	while (i && q->heap[(i - 1) / 2].t > e.t) {
		place(q, i, q->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && q->heap[c + 1].t < q->heap[c].t)
			c++;
		if (q->heap[c].t >= e.t)
			break;
		place(q, i, q->heap[c]);
		i = c;
	}
	place(q, i, e);
}

static void arm(struct timers *q, uint32_t slot, uint64_t t)
{
	uint32_t i = q->pos[slot];
	q->when[slot] = t;
	if (t == UINT64_MAX) {
		if (i == UINT32_MAX)
			return;
		q->pos[slot] = UINT32_MAX;
		if (i != --q->n) {
			q->heap[i] = q->heap[q->n];
			sift(q, i);
		}
		return;
	}
	if (i == UINT32_MAX)
		i = q->n++;
	q->heap[i] = (struct hent){ t, slot };
	sift(q, i);
}

struct wl {
	uint64_t burst_ns, sleep_ns, used, since;
	bool irq;
};

struct run {
	struct hqio_sched *s;
	unsigned np, nv;
	struct wl *w;
	struct timers q;
	uint64_t calls;
};

/* Slots: 0 tick, 1..np slice ends, np+1..2np burst ends, then wake-ups. */
#define SLOT_TICK	 0u
#define SLOT_UNTIL(r, p) (1u + (p))
#define SLOT_BURST(r, p) (1u + (r)->np + (p))
#define SLOT_WAKE(r, v)	 (1u + 2u * (r)->np + (uint32_t)(v))

static void reschedule(struct run *r, unsigned p, uint64_t now)
{
	int before = hqio_sched_current(r->s, p);
	if (before >= 0)
		r->w[before].used += now - r->w[before].since;
	struct hqio_sched_pick k = hqio_sched_schedule(r->s, p, now);
	r->calls++;
	uint64_t burst_end = UINT64_MAX;
	if (k.until_ns != r->q.when[SLOT_UNTIL(r, p)])
		arm(&r->q, SLOT_UNTIL(r, p), k.until_ns);
	if (k.vcpu >= 0) {
		struct wl *w = &r->w[k.vcpu];
		w->since = now;
		if (w->burst_ns)
			burst_end = now + (w->burst_ns - w->used);
	}
	if (burst_end != r->q.when[SLOT_BURST(r, p)])
		arm(&r->q, SLOT_BURST(r, p), burst_end);
}

static void simulate(struct run *r, uint64_t tick, uint64_t end)
{
	arm(&r->q, SLOT_TICK, tick);
	while (r->q.n && r->q.heap[0].t <= end) {
		uint64_t now = r->q.heap[0].t;
		while (r->q.n && r->q.heap[0].t == now) {
			uint32_t slot = r->q.heap[0].slot;
			int c;
			arm(&r->q, slot, UINT64_MAX);
			if (slot == SLOT_TICK) {
				for (unsigned p = 0; p < r->np; p++)
					hqio_sched_tick(r->s, p, now);
				arm(&r->q, SLOT_TICK, now + tick);
			} else if (slot < SLOT_BURST(r, 0)) {
				reschedule(r, slot - SLOT_UNTIL(r, 0), now);
			} else if (slot < SLOT_WAKE(r, 0)) {
				c = hqio_sched_current(r->s, slot - SLOT_BURST(r, 0));
				hqio_sched_sleep(r->s, c, now);
				r->w[c].used = 0;
				r->w[c].since = now;
				arm(&r->q, SLOT_WAKE(r, c), now + r->w[c].sleep_ns);
			} else {
				c = (int)(slot - SLOT_WAKE(r, 0));
				if (r->w[c].irq)
					hqio_sched_irq(r->s, c, now);
				hqio_sched_wake(r->s, c, now);
			}
		}
		for (int p = hqio_sched_next_resched(r->s, 0); p >= 0;
		     p = hqio_sched_next_resched(r->s, (unsigned)p + 1))
			reschedule(r, (unsigned)p, now);
	}
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct result {
	double wall_s, cpu_s;
	uint64_t calls;
	double share_dom0, share_guest;
};

static struct result one(enum hqio_sched_policy pol, unsigned np, unsigned nv, uint64_t tick,
			 uint64_t sim_ns, bool two_domain)
{
	struct hqio_sched_config cfg = { .policy = pol, .n_pcpus = np, .tick_ns = tick };
	struct run r;
	memset(&r, 0, sizeof(r));
	r.np = np;
	if (hqio_sched_create(&cfg, &r.s, NULL, 0))
		abort();
	r.nv = nv;
	uint32_t slots = 1 + 2 * np + nv;
	r.w = calloc(nv, sizeof(*r.w));
	r.q.when = malloc(slots * sizeof(*r.q.when));
	r.q.heap = malloc(slots * sizeof(*r.q.heap));
	r.q.pos = malloc(slots * sizeof(*r.q.pos));
	if (!r.w || !r.q.when || !r.q.heap || !r.q.pos)
		abort();
	for (uint32_t i = 0; i < slots; i++) {
		r.q.when[i] = UINT64_MAX;
		r.q.pos[i] = UINT32_MAX;
	}
	for (unsigned i = 0; i < nv; i++) {
		struct hqio_vcpu_params p = { .domain = i, .pcpu = i % np };
		if (two_domain) {
			p.weight = i ? 16 : 256;
			p.realtime = i == 1;
			if (i) {
				r.w[i].burst_ns = 500 * US;
				r.w[i].sleep_ns = 5300 * US;
				r.w[i].irq = true;
			}
		} else {
			p.weight = 128 + (i % 4) * 128;
			if (i % 2 == 0) {
				r.w[i].burst_ns = 300 * US + (i % 7) * 100 * US;
				r.w[i].sleep_ns = 2 * MS + (i % 5) * MS;
			}
		}
		int v = hqio_sched_add_vcpu(r.s, &p);
		if (v < 0)
			abort();
		arm(&r.q, SLOT_WAKE(&r, v), (i % 13) * US);
	}
	double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	simulate(&r, cfg.tick_ns ? cfg.tick_ns : 10 * MS, sim_ns);
	struct result res = { clock_s(CLOCK_MONOTONIC) - t0, clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0,
			      r.calls, 0, 0 };
	if (two_domain) {
		struct hqio_vcpu_state a, b;
		hqio_sched_vcpu_state(r.s, 0, &a);
		hqio_sched_vcpu_state(r.s, 1, &b);
		res.share_dom0 = (double)a.run_ns / (double)sim_ns;
		res.share_guest = (double)b.run_ns / (double)sim_ns;
	}
	hqio_sched_destroy(r.s);
	free(r.w);
	free(r.q.when);
	free(r.q.heap);
	free(r.q.pos);
	return res;
}

static void report(const char *name, enum hqio_sched_policy pol, unsigned np, unsigned nv,
		   uint64_t tick, uint64_t sim_ns, bool two_domain)
{
	struct result best = { 1e30, 1e30, 0, 0, 0 };
	for (int i = 0; i < 3; i++) {
		struct result x = one(pol, np, nv, tick, sim_ns, two_domain);
		if (x.wall_s < best.wall_s)
			best = x;
	}
	printf("%-10s %-11s tick %2llu ms: %5.0f sim-s, %6.3f s wall %6.3f s cpu, %8.0f schedule "
	       "calls/s, %7.0fx real time (wall) %7.0fx (cpu)\n",
	       name, hqio_sched_policy_name(pol), (unsigned long long)(tick / MS),
	       (double)sim_ns / SEC, best.wall_s, best.cpu_s, (double)best.calls / best.cpu_s,
	       (double)sim_ns / SEC / best.wall_s, (double)sim_ns / SEC / best.cpu_s);
	if (two_domain)
		printf("%-12s   cpu share: dom0 %.4f guest %.4f\n", "", best.share_dom0,
		       best.share_guest);
}

int main(void)
{
	for (int p = 0; p < HQIO_SCHED_N_POLICIES; p++) {
		report("two-domain", (enum hqio_sched_policy)p, 1, 2, 10 * MS, 600 * SEC, true);
		if (p <= HQIO_SCHED_CREDIT_42)
			report("two-domain", (enum hqio_sched_policy)p, 1, 2, 1 * MS, 600 * SEC,
			       true);
	}
	for (int p = 0; p < HQIO_SCHED_N_POLICIES; p++)
		report("64x512", (enum hqio_sched_policy)p, 64, 512, 10 * MS, 10 * SEC, false);
	return 0;
}
