/*
 * The CPU cache model (cache.h): set-associative, 64-byte lines, LRU,
 * write-back, one write-combining buffer, snooped and No-Snoop DMA.
 */
#include "cache.h"

#include <errno.h>
#include <string.h>

#define LINE_MASK ((uint64_t)SIM_CACHE_LINE - 1)

const char *sim_mt_name(enum sim_mt mt)
{
	switch (mt) {
	case SIM_MT_UC:
		return "UC";
	case SIM_MT_WC:
		return "WC";
	case SIM_MT_WT:
		return "WT";
	case SIM_MT_WP:
		return "WP";
	case SIM_MT_WB:
		return "WB";
	case SIM_MT_UC_MINUS:
		return "UC-";
	}
	return "?";
}

static bool mt_valid(enum sim_mt mt)
{
	return strcmp(sim_mt_name(mt), "?") != 0;
}

void sim_cache_init(struct sim_cache *c, struct sim_platform *p)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
}

/* [hpa, hpa + len) inside host memory (len > 0, overflow-safe). */
static bool in_mem(const struct sim_cache *c, uint64_t hpa, uint64_t len)
{
	return hpa < c->p->mem_size && len <= c->p->mem_size - hpa;
}

static unsigned set_of(uint64_t line_addr)
{
	return (unsigned)((line_addr / SIM_CACHE_LINE) % SIM_CACHE_SETS);
}

static struct sim_cache_line *lookup(const struct sim_cache *c, uint64_t line_addr)
{
	struct sim_cache_line *s = (struct sim_cache_line *)c->set[set_of(line_addr)];
	for (unsigned w = 0; w < SIM_CACHE_WAYS; w++)
		if (s[w].valid && s[w].addr == line_addr)
			return &s[w];
	return NULL;
}

static void writeback(struct sim_cache *c, struct sim_cache_line *l)
{
	if (l->valid && l->dirty) {
		/* The line lies in memory: it was filled from there. */
		sim_mem_write(c->p, l->addr, l->data, SIM_CACHE_LINE);
		c->st.writebacks++;
		l->dirty = false;
	}
}

/* The line for line_addr, filled from memory on a miss (evicting the LRU
 * way, written back if dirty). */
static struct sim_cache_line *fill(struct sim_cache *c, uint64_t line_addr)
{
	struct sim_cache_line *l = lookup(c, line_addr);
	if (l) {
		c->st.hits++;
	} else {
		c->st.misses++;
		struct sim_cache_line *s = c->set[set_of(line_addr)];
		l = &s[0];
		for (unsigned w = 0; w < SIM_CACHE_WAYS; w++) {
			if (!s[w].valid) {
				l = &s[w];
				break;
			}
			if (s[w].lru < l->lru)
				l = &s[w];
		}
		if (l->valid) {
			c->st.evictions++;
			writeback(c, l);
		}
		l->valid = true;
		l->dirty = false;
		l->addr = line_addr;
		sim_mem_read(c->p, line_addr, l->data, SIM_CACHE_LINE);
		c->st.fills++;
	}
	l->lru = ++c->tick;
	return l;
}

/* Write the bytes of the WC buffer that were stored, and empty it. */
static void wc_drain(struct sim_cache *c)
{
	if (!c->wc_active)
		return;
	unsigned i = 0;
	while (i < SIM_CACHE_LINE) {
		if (!(c->wc_valid >> i & 1)) {
			i++;
			continue;
		}
		unsigned j = i;
		while (j < SIM_CACHE_LINE && (c->wc_valid >> j & 1))
			j++;
		sim_mem_write(c->p, c->wc_addr + i, c->wc_data + i, j - i);
		i = j;
	}
	c->st.wc_flushes++;
	c->wc_active = false;
	c->wc_valid = 0;
}

static void wc_store(struct sim_cache *c, uint64_t hpa, const uint8_t *src, unsigned n)
{
	uint64_t line = hpa & ~LINE_MASK;
	unsigned off = (unsigned)(hpa & LINE_MASK);
	if (c->wc_active && c->wc_addr != line)
		wc_drain(c);
	if (!c->wc_active) {
		c->wc_active = true;
		c->wc_addr = line;
		c->wc_valid = 0;
	}
	memcpy(c->wc_data + off, src, n);
	c->wc_valid |= (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << off;
	if (c->wc_valid == ~0ULL)
		wc_drain(c); /* a full buffer is written at once */
}

/* One access inside a single line. */
static void access_line(struct sim_cache *c, uint64_t hpa, uint8_t *rbuf, const uint8_t *wbuf,
			unsigned n, enum sim_mt mt)
{
	uint64_t line = hpa & ~LINE_MASK;
	unsigned off = (unsigned)(hpa & LINE_MASK);
	struct sim_cache_line *l;

	switch (mt) {
	case SIM_MT_UC:
	case SIM_MT_UC_MINUS:
		wc_drain(c);
		c->st.uncached++;
		if (rbuf)
			sim_mem_read(c->p, hpa, rbuf, n);
		else
			sim_mem_write(c->p, hpa, wbuf, n);
		return;
	case SIM_MT_WC:
		if (rbuf) {
			c->st.uncached++;
			sim_mem_read(c->p, hpa, rbuf, n);
		} else {
			wc_store(c, hpa, wbuf, n);
		}
		return;
	case SIM_MT_WT:
	case SIM_MT_WP:
		if (rbuf) {
			l = fill(c, line);
			memcpy(rbuf, l->data + off, n);
			return;
		}
		sim_mem_write(c->p, hpa, wbuf, n);
		l = lookup(c, line);
		if (l) {
			c->st.hits++;
			if (mt == SIM_MT_WT) {
				memcpy(l->data + off, wbuf, n);
				l->lru = ++c->tick;
			} else {
				writeback(c, l); /* an alias may have dirtied it */
				l->valid = false;
			}
		} else {
			c->st.misses++;
		}
		return;
	case SIM_MT_WB:
		l = fill(c, line);
		if (rbuf) {
			memcpy(rbuf, l->data + off, n);
		} else {
			memcpy(l->data + off, wbuf, n);
			l->dirty = true;
		}
		return;
	}
}

static int cache_access(struct sim_cache *c, uint64_t hpa, uint8_t *rbuf, const uint8_t *wbuf,
			uint64_t len, enum sim_mt mt)
{
	if (!len)
		return 0;
	if (!(rbuf || wbuf) || !mt_valid(mt))
		return -EINVAL;
	if (!in_mem(c, hpa, len))
		return -EFAULT;
	uint64_t done = 0;
	while (done < len) {
		uint64_t cur = hpa + done;
		uint64_t n = SIM_CACHE_LINE - (cur & LINE_MASK);
		if (n > len - done)
			n = len - done;
		access_line(c, cur, rbuf ? rbuf + done : NULL, wbuf ? wbuf + done : NULL,
			    (unsigned)n, mt);
		done += n;
	}
	return 0;
}

int sim_cache_load(struct sim_cache *c, uint64_t hpa, void *buf, uint64_t len, enum sim_mt mt)
{
	return cache_access(c, hpa, buf, NULL, len, mt);
}

int sim_cache_store(struct sim_cache *c, uint64_t hpa, const void *buf, uint64_t len,
		    enum sim_mt mt)
{
	return cache_access(c, hpa, NULL, buf, len, mt);
}

void sim_cache_fence(struct sim_cache *c)
{
	wc_drain(c);
}

void sim_cache_clflush(struct sim_cache *c, uint64_t hpa, uint64_t len)
{
	if (!len)
		return;
	uint64_t first = hpa & ~LINE_MASK;
	uint64_t last = (len - 1 > UINT64_MAX - hpa ? UINT64_MAX : hpa + len - 1) & ~LINE_MASK;
	if (c->wc_active && c->wc_addr >= first && c->wc_addr <= last)
		wc_drain(c);
	/* Walk the cache, not the range: the range may be huge. */
	for (unsigned s = 0; s < SIM_CACHE_SETS; s++) {
		for (unsigned w = 0; w < SIM_CACHE_WAYS; w++) {
			struct sim_cache_line *l = &c->set[s][w];
			if (l->valid && l->addr >= first && l->addr <= last) {
				writeback(c, l);
				l->valid = false;
			}
		}
	}
}

void sim_cache_flush_all(struct sim_cache *c)
{
	sim_cache_clflush(c, 0, UINT64_MAX);
}

bool sim_cache_present(const struct sim_cache *c, uint64_t hpa)
{
	return lookup(c, hpa & ~LINE_MASK) != NULL;
}

bool sim_cache_dirty(const struct sim_cache *c, uint64_t hpa)
{
	const struct sim_cache_line *l = lookup(c, hpa & ~LINE_MASK);
	return l && l->dirty;
}

/* ------------------------------------------------------------------ */
/* DMA                                                                  */
/* ------------------------------------------------------------------ */

/* For every cached line overlapping the device's transfer of len bytes at
 * iova (already done), apply the snoop rule: read (the line supplies its
 * bytes, write-back) or write (the line takes the device's bytes); with
 * neither buffer (a No-Snoop read), count the dirty lines the device did
 * not see. */
static void snoop(struct sim_cache *c, struct sim_fn *f, uint64_t iova, uint8_t *rbuf,
		  const uint8_t *wbuf, uint64_t len)
{
	uint16_t rid = sim_requester_id(f);
	uint64_t done = 0;
	while (done < len) {
		uint64_t cur = iova + done;
		uint64_t n = SIM_CACHE_LINE - (cur & LINE_MASK);
		if (n > len - done)
			n = len - done;
		uint64_t hpa;
		if (!sim_iommu_translate(c->p, rid, cur, wbuf != NULL, &hpa)) {
			struct sim_cache_line *l = lookup(c, hpa & ~LINE_MASK);
			/* The chunk stays inside one 64-byte line of IOVA space,
			 * and the IOMMU maps whole pages, so also of HPA space. */
			unsigned off = (unsigned)(hpa & LINE_MASK);
			if (!rbuf && !wbuf) {
				if (l && l->dirty)
					c->st.nosnoop_missed++;
			} else if (l) {
				c->st.snoop_hits++;
				if (rbuf && l->dirty) {
					memcpy(rbuf + done, l->data + off, n);
					writeback(c, l);
				} else if (wbuf) {
					memcpy(l->data + off, wbuf + done, n);
				}
			}
		}
		done += n;
	}
}

int sim_cache_dma_read(struct sim_cache *c, struct sim_fn *f, uint64_t iova, void *buf,
		       uint64_t len, bool snooped)
{
	int rc = sim_dma_read(f, iova, buf, len);
	if (rc || !len)
		return rc;
	snoop(c, f, iova, snooped ? buf : NULL, NULL, len);
	return 0;
}

int sim_cache_dma_write(struct sim_cache *c, struct sim_fn *f, uint64_t iova, const void *buf,
			uint64_t len, bool snooped)
{
	int rc = sim_dma_write(f, iova, buf, len);
	if (rc || !len)
		return rc;
	if (snooped)
		snoop(c, f, iova, NULL, buf, len);
	return 0;
}
