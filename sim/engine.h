/*
 * Discrete-event engine of the simulator: virtual time in nanoseconds, a
 * priority queue in two parts — a calendar of short time buckets for the
 * next ~33 ms (O(1) insert and pop when events are spread out) and a
 * binary heap for events further ahead (O(log n)) — FIFO order among
 * events at the same instant, and a seeded deterministic random source
 * (xoshiro256** seeded through splitmix64). The same seed and the same
 * calls give the same run, bit for bit; a running hash of every event
 * executed (time, sequence number, tag) makes that checkable.
 */
#ifndef HQIO_SIM_ENGINE_H
#define HQIO_SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_NS_PER_US 1000ULL
#define SIM_NS_PER_MS 1000000ULL
#define SIM_NS_PER_S  1000000000ULL

typedef void (*sim_event_fn)(void *arg, uint64_t now_ns);

/* An event handle: 0 is never a valid handle. */
typedef uint64_t sim_event_id;

/* 16 bytes: time, then (sequence << 24 | slot). The sequence (insertion
 * order, 40 bits) breaks ties so events at one instant run FIFO. */
struct sim_heap_entry {
	uint64_t when_ns;
	uint64_t key;
};
#define SIM_SLOT_BITS	24
#define SIM_MAX_PENDING (1u << SIM_SLOT_BITS)

struct sim_event_slot {
	sim_event_fn fn;
	void *arg;
	uint32_t tag; /* caller's label, folded into the trace hash */
	uint32_t gen; /* generation: makes stale handles harmless */
	bool live;
	/* In the calendar: the entry, and the next slot + 1 in its bucket
	 * (0: last). */
	uint32_t cal_next;
	struct sim_heap_entry ent;
};

/* The calendar: bucket b holds the events with when_ns >> SIM_CAL_SHIFT
 * == b (absolute bucket number) for b in [cal_cur, cal_cur +
 * SIM_CAL_BUCKETS), each bucket a list sorted by (time, sequence); later
 * events wait in the heap. 2^10 ns buckets, 32768 of them (33.5 ms, 256
 * KiB allocated at the first schedule): a tuning choice for the 64-pCPU
 * load of bench_audio (~64 events per simulated ms, timers at most 30 ms
 * ahead, periodic wake-ups 1 us apart at period boundaries, which 16 us
 * buckets made long sorted lists of); any value gives the same order. */
struct sim_cal_bucket {
	uint32_t head, tail; /* first and last entry: slot + 1, 0 empty */
};
#define SIM_CAL_SHIFT	10
#define SIM_CAL_BUCKETS 32768u

struct sim_engine {
	uint64_t now_ns;
	uint64_t seq;
	struct sim_heap_entry *heap;
	size_t n, cap;
	struct sim_event_slot *slots;
	uint32_t *free_slots;
	size_t n_slots, n_free, cap_slots;
	struct sim_cal_bucket *cal; /* SIM_CAL_BUCKETS buckets */
	uint64_t *cal_bits;	    /* non-empty buckets */
	uint64_t cal_cur;	    /* absolute bucket of the last event taken out */
	size_t cal_n;		    /* events in the calendar (n: in the heap) */
	uint32_t cal_peek;	    /* cal_first's answer (slot + 1), valid when cal_peek_ok */
	bool cal_peek_ok;
	uint64_t rng[4];
	uint64_t trace_hash; /* running hash of (when, seq, tag) of executed events */
	uint64_t executed;
	/* Optional trace sink: called for every executed event. */
	void (*trace)(void *arg, uint64_t when_ns, uint64_t seq, uint32_t tag);
	void *trace_arg;
};

void sim_engine_init(struct sim_engine *e, uint64_t seed);
void sim_engine_free(struct sim_engine *e);

/* Schedule fn(arg) delay_ns from now. Returns a handle, or 0 on ENOMEM. */
sim_event_id sim_schedule(struct sim_engine *e, uint64_t delay_ns, sim_event_fn fn, void *arg,
			  uint32_t tag);
sim_event_id sim_schedule_at(struct sim_engine *e, uint64_t when_ns, sim_event_fn fn, void *arg,
			     uint32_t tag);
/* Cancel a pending event; harmless on a handle that already ran. */
void sim_cancel(struct sim_engine *e, sim_event_id id);
bool sim_pending(const struct sim_engine *e, sim_event_id id);

/* Run the earliest event; false when none is left. */
bool sim_step(struct sim_engine *e);
/* Run every event due at or before t, then set now to t (t >= now). */
void sim_run_until(struct sim_engine *e, uint64_t t_ns);
/* Run for ns of virtual time. */
void sim_run_for(struct sim_engine *e, uint64_t ns);
/* Run until cond(arg) holds (checked after each event) or t_ns passes.
 * Returns true when cond held. */
bool sim_run_until_cond(struct sim_engine *e, bool (*cond)(void *arg), void *arg, uint64_t t_ns);

/* Deterministic randomness. */
uint64_t sim_rand(struct sim_engine *e);
/* Uniform in [0, n) (n > 0; 0 for n = 0), without modulo bias. */
uint64_t sim_rand_below(struct sim_engine *e, uint64_t n);

#endif
