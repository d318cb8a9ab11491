/* Discrete-event engine (see engine.h). */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sim_engine_init(struct sim_engine *e, uint64_t seed)
{
	memset(e, 0, sizeof(*e));
	uint64_t s = seed;
	for (int i = 0; i < 4; i++)
		e->rng[i] = splitmix64(&s);
	e->trace_hash = 0xcbf29ce484222325ULL; /* FNV-1a offset basis */
}

void sim_engine_free(struct sim_engine *e)
{
	free(e->heap);
	free(e->cal);
	free(e->cal_bits);
	free(e->slots);
	free(e->free_slots);
	memset(e, 0, sizeof(*e));
}

static bool before(const struct sim_heap_entry *a, const struct sim_heap_entry *b)
{
	/* one 128-bit comparison: time, then insertion order */
	unsigned __int128 x = (unsigned __int128)a->when_ns << 64 | a->key;
	unsigned __int128 y = (unsigned __int128)b->when_ns << 64 | b->key;
	return x < y;
}

static uint32_t slot_of(const struct sim_heap_entry *h)
{
	return (uint32_t)(h->key & (SIM_MAX_PENDING - 1));
}

static void sift_up(struct sim_engine *e, size_t i)
{
	struct sim_heap_entry x = e->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&x, &e->heap[p]))
			break;
		e->heap[i] = e->heap[p];
		i = p;
	}
	e->heap[i] = x;
}

/* Remove the root: move the smaller child up until the hole reaches a
 * leaf, then sift the last element up from there (Floyd's method: the
 * last element usually belongs near the bottom, so this saves compares). */
static void remove_root(struct sim_engine *e)
{
	size_t n = --e->n, i = 0;
	if (n == 0)
		return;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(&e->heap[c + 1], &e->heap[c]))
			c++;
		e->heap[i] = e->heap[c];
		i = c;
	}
	e->heap[i] = e->heap[n];
	sift_up(e, i);
}

static bool grow(void **p, size_t *cap, size_t elem)
{
	size_t n = *cap ? *cap * 2 : 64;
	void *q = realloc(*p, n * elem);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

#define CAL_WORDS (SIM_CAL_BUCKETS / 64)

/* The calendar's earliest entry: its slot + 1, or 0 when it is empty.
 * Buckets from cal_cur on, in time order (circularly in the array). */
static uint32_t cal_scan(const struct sim_engine *e)
{
	if (!e->cal_n)
		return 0;
	unsigned i = (unsigned)(e->cal_cur % SIM_CAL_BUCKETS), w = i / 64;
	uint64_t m = e->cal_bits[w] & (~0ULL << (i % 64));
	for (unsigned k = 0; k <= CAL_WORDS; k++) {
		if (m)
			return e->cal[w * 64 + (unsigned)__builtin_ctzll(m)].head;
		w = (w + 1) % CAL_WORDS;
		m = e->cal_bits[w];
	}
	return 0; /* not reached: cal_n counts the listed entries */
}

/* The same, remembered until the calendar changes (sim_run_until asks
 * before every sim_step). */
static uint32_t cal_first(struct sim_engine *e)
{
	if (!e->cal_peek_ok) {
		e->cal_peek = cal_scan(e);
		e->cal_peek_ok = true;
	}
	return e->cal_peek;
}

/* Put a slot's entry into its bucket, after the entries due no later
 * (they were scheduled before it: FIFO among equal times). */
static void cal_insert(struct sim_engine *e, uint32_t slot)
{
	uint64_t when = e->slots[slot].ent.when_ns;
	e->cal_peek_ok = false;
	unsigned b = (unsigned)((when >> SIM_CAL_SHIFT) % SIM_CAL_BUCKETS);
	uint64_t *bits = &e->cal_bits[b / 64], bit = 1ULL << (b % 64);
	struct sim_cal_bucket *bk = &e->cal[b];
	/* An empty bucket's head and tail are stale: the bitmap says so
	 * without touching the (large, cache-cold) bucket array. */
	uint32_t t = *bits & bit ? bk->tail : 0;
	if (!t || e->slots[t - 1].ent.when_ns <= when) {
		/* the common case: last in its bucket (equal times included) */
		e->slots[slot].cal_next = 0;
		if (t)
			e->slots[t - 1].cal_next = slot + 1;
		else
			bk->head = slot + 1;
		bk->tail = slot + 1;
	} else {
		uint32_t *pp = &bk->head;
		while (e->slots[*pp - 1].ent.when_ns <= when)
			pp = &e->slots[*pp - 1].cal_next;
		e->slots[slot].cal_next = *pp;
		*pp = slot + 1;
	}
	*bits |= bit;
	e->cal_n++;
}

/* Take the calendar's first entry (slot) out of its bucket. */
static void cal_pop(struct sim_engine *e, uint32_t slot)
{
	unsigned b = (unsigned)((e->slots[slot].ent.when_ns >> SIM_CAL_SHIFT) % SIM_CAL_BUCKETS);
	e->cal_peek_ok = false;
	e->cal[b].head = e->slots[slot].cal_next;
	if (!e->cal[b].head)
		e->cal_bits[b / 64] &= ~(1ULL << (b % 64));
	e->cal_n--;
}

static sim_event_id make_id(uint32_t slot, uint32_t gen)
{
	return ((uint64_t)gen << 32) | (uint64_t)(slot + 1);
}

/* Cold paths of sim_schedule_at, out of line so that the common path
 * stays short. */
static __attribute__((noinline)) bool cal_alloc(struct sim_engine *e)
{
	e->cal = calloc(SIM_CAL_BUCKETS, sizeof(*e->cal));
	e->cal_bits = calloc(CAL_WORDS, sizeof(*e->cal_bits));
	if (e->cal && e->cal_bits)
		return true;
	free(e->cal);
	free(e->cal_bits);
	e->cal = NULL;
	e->cal_bits = NULL;
	return false;
}

static __attribute__((noinline)) bool heap_grow(struct sim_engine *e)
{
	size_t cap = e->cap;
	if (!grow((void **)&e->heap, &cap, sizeof(*e->heap)))
		return false;
	e->cap = cap;
	return true;
}

/* A slot never used before; UINT32_MAX on ENOMEM. */
static __attribute__((noinline)) uint32_t new_slot(struct sim_engine *e)
{
	if (e->n_slots == e->cap_slots) {
		size_t cap = e->cap_slots, cap2 = e->cap_slots;
		if (!grow((void **)&e->slots, &cap, sizeof(*e->slots)))
			return UINT32_MAX;
		if (!grow((void **)&e->free_slots, &cap2, sizeof(*e->free_slots)))
			return UINT32_MAX;
		e->cap_slots = cap;
	}
	uint32_t slot = (uint32_t)e->n_slots++;
	e->slots[slot].gen = 0;
	return slot;
}

sim_event_id sim_schedule_at(struct sim_engine *e, uint64_t when_ns, sim_event_fn fn, void *arg,
			     uint32_t tag)
{
	uint32_t slot;
	if (e->n + e->cal_n >= SIM_MAX_PENDING - 1)
		return 0;
	if (when_ns < e->now_ns)
		when_ns = e->now_ns;
	if (!e->cal && !cal_alloc(e))
		return 0;
	/* Every pending time is >= the last one taken out (cal_cur's bucket)
	 * and the calendar spans SIM_CAL_BUCKETS buckets from there; when it
	 * is empty its window may move up to now. */
	if (!e->cal_n)
		e->cal_cur = e->now_ns >> SIM_CAL_SHIFT;
	bool in_cal = (when_ns >> SIM_CAL_SHIFT) - e->cal_cur < SIM_CAL_BUCKETS;
	if (!in_cal && e->n == e->cap && !heap_grow(e))
		return 0;
	if (e->n_free) {
		slot = e->free_slots[--e->n_free];
	} else {
		slot = new_slot(e);
		if (slot == UINT32_MAX)
			return 0;
	}
	struct sim_event_slot *s = &e->slots[slot];
	s->fn = fn;
	s->arg = arg;
	s->tag = tag;
	s->gen++;
	s->live = true;
	struct sim_heap_entry x = { .when_ns = when_ns, .key = (e->seq++ << SIM_SLOT_BITS) | slot };
	if (in_cal) {
		s->ent = x;
		cal_insert(e, slot);
	} else {
		e->heap[e->n] = x;
		sift_up(e, e->n++);
	}
	return make_id(slot, s->gen);
}

sim_event_id sim_schedule(struct sim_engine *e, uint64_t delay_ns, sim_event_fn fn, void *arg,
			  uint32_t tag)
{
	uint64_t when = e->now_ns + delay_ns;
	if (when < e->now_ns) /* saturate instead of wrapping */
		when = UINT64_MAX;
	return sim_schedule_at(e, when, fn, arg, tag);
}

static struct sim_event_slot *lookup(const struct sim_engine *e, sim_event_id id)
{
	uint32_t slot = (uint32_t)(id & 0xffffffffu);
	if (slot == 0 || slot > e->n_slots)
		return NULL;
	struct sim_event_slot *s = &e->slots[slot - 1];
	return s->live && s->gen == (uint32_t)(id >> 32) ? s : NULL;
}

void sim_cancel(struct sim_engine *e, sim_event_id id)
{
	struct sim_event_slot *s = lookup(e, id);
	if (s)
		s->live = false; /* the heap entry is dropped when it reaches the top */
}

bool sim_pending(const struct sim_engine *e, sim_event_id id)
{
	return lookup(e, id) != NULL;
}

/* FNV-1a style, a 64-bit word at a time (order-sensitive, cheap). */
static void fold(uint64_t *h, uint64_t v)
{
	*h = (*h ^ v) * 0x100000001b3ULL; /* FNV 64-bit prime */
	*h ^= *h >> 29;
}

bool sim_step(struct sim_engine *e)
{
	while (e->n || e->cal_n) {
		uint32_t c = cal_first(e);
		struct sim_heap_entry top;
		uint32_t slot;
		if (c && (!e->n || before(&e->slots[c - 1].ent, &e->heap[0]))) {
			slot = c - 1;
			top = e->slots[slot].ent;
			cal_pop(e, slot);
		} else {
			top = e->heap[0];
			slot = slot_of(&top);
			remove_root(e);
		}
		e->cal_cur = top.when_ns >> SIM_CAL_SHIFT;
		struct sim_event_slot *s = &e->slots[slot];
		bool live = s->live;
		s->live = false;
		e->free_slots[e->n_free++] = slot;
		if (!live)
			continue; /* cancelled */
		sim_event_fn fn = s->fn;
		void *arg = s->arg;
		e->now_ns = top.when_ns;
		e->executed++;
		fold(&e->trace_hash, top.when_ns);
		fold(&e->trace_hash, (top.key >> SIM_SLOT_BITS) ^ ((uint64_t)s->tag << 48));
		if (e->trace)
			e->trace(e->trace_arg, top.when_ns, top.key >> SIM_SLOT_BITS, s->tag);
		fn(arg, top.when_ns);
		return true;
	}
	return false;
}

static bool due(struct sim_engine *e, uint64_t t)
{
	uint32_t c = cal_first(e);
	return (c && e->slots[c - 1].ent.when_ns <= t) || (e->n && e->heap[0].when_ns <= t);
}

void sim_run_until(struct sim_engine *e, uint64_t t_ns)
{
	while (due(e, t_ns))
		sim_step(e);
	if (t_ns > e->now_ns)
		e->now_ns = t_ns;
}

void sim_run_for(struct sim_engine *e, uint64_t ns)
{
	uint64_t t = e->now_ns + ns;
	sim_run_until(e, t < e->now_ns ? UINT64_MAX : t);
}

bool sim_run_until_cond(struct sim_engine *e, bool (*cond)(void *arg), void *arg, uint64_t t_ns)
{
	if (cond(arg))
		return true;
	while (due(e, t_ns)) {
		sim_step(e);
		if (cond(arg))
			return true;
	}
	if (t_ns > e->now_ns)
		e->now_ns = t_ns;
	return cond(arg);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_rand(struct sim_engine *e)
{
	/* xoshiro256** (Blackman and Vigna, 2018) */
	uint64_t *s = e->rng;
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

uint64_t sim_rand_below(struct sim_engine *e, uint64_t n)
{
	if (n == 0)
		return 0; /* no such number: callers pass n > 0 */
	/* Reject r >= UINT64_MAX - UINT64_MAX % n (the incomplete last block
	 * of n values). That bound is above UINT64_MAX - n, so a smaller r is
	 * accepted without the division computing it. */
	uint64_t r;
	do
		r = sim_rand(e);
	while (r > UINT64_MAX - n && r >= UINT64_MAX - UINT64_MAX % n);
	return r % n;
}
