/*
 * A small CPU cache model in front of the simulator's host memory
 * (sim_mem_read/sim_mem_write are the memory itself), for experiments on
 * memory types and No-Snoop DMA (docs/memtype.md).
 *
 * Geometry (model choice): SIM_CACHE_SETS sets of SIM_CACHE_WAYS ways of
 * 64-byte lines (the line size of every Intel and AMD x86-64 processor;
 * CPUID leaf 1 EBX[15:8] reports the CLFLUSH line size as 8 * 8 bytes),
 * physically indexed (line address modulo SIM_CACHE_SETS), LRU within a
 * set, write-back of dirty lines on eviction. One write-combining buffer
 * of one line.
 *
 * Every CPU access names its effective memory type: the type the page
 * tables and MTRRs give it, already combined (lib/memtype computes it).
 * What each type does follows Intel SDM Vol. 3A, "Methods of Caching
 * Available" (§11.3 up to the 2022 editions, §12.3 after), table "Memory
 * Types and Their Properties":
 *
 *   UC   loads and stores go to memory in program order; nothing is
 *        allocated. A UC access first drains the WC buffer (the SDM lists
 *        "a read or write to uncached memory" among the events that empty
 *        WC buffers, §11.3.1).
 *   UC-  the same as UC here. UC- differs from UC only in how it combines
 *        with an MTRR of WC (then the effective type is WC), and callers
 *        pass the effective type.
 *   WC   loads go to memory (uncached; WC allows speculative reads, which
 *        the model does not perform). Stores gather in the WC buffer; it is
 *        written to memory, the bytes written only, when: a WC store goes
 *        to another line, the buffer's 64 bytes are all written, a fence
 *        (sim_cache_fence: SFENCE/MFENCE, or any serializing event the
 *        caller models), a UC access, or sim_cache_flush_all. So a burst
 *        of WC stores is not visible to a device until the driver fences:
 *        the order drivers follow (write descriptors, SFENCE, doorbell).
 *   WT   loads hit in the cache, read misses fill a line; stores are
 *        written through to memory at once and update a line that is
 *        present (it stays clean); a store miss does not allocate.
 *   WP   loads as WT; stores go to memory and invalidate the line if it is
 *        present ("writes ... cause corresponding cache lines on all
 *        processors on the bus to be invalidated").
 *   WB   loads and stores hit in the cache; misses fill a line
 *        (write-allocate); stores only mark the line dirty. Memory is
 *        updated when the line is evicted, flushed (sim_cache_clflush,
 *        sim_cache_flush_all = WBINVD) or snooped by a coherent DMA read.
 *
 * Aliases (model choice): the cache is not looked up by UC, UC- and WC
 * accesses, and no self-snoop is modelled, so mapping one line with two
 * types gives what the SDM calls undefined behaviour (§11.12.4 "Programming
 * the PAT": aliases must be avoided); the model's behaviour is simply
 * "the cached copy and memory diverge". A WT/WP/WB access never looks at
 * the WC buffer.
 *
 * DMA (sim_cache_dma_read/write): the request goes through sim_dma_read/
 * sim_dma_write (Bus Master gating, IOMMU, counters) and reads or writes
 * memory. A request with No Snoop set (PCIe 5.0 §2.2.6.5: the Attr[0]
 * bit, "hardware enforced cache coherency not expected") does nothing
 * more: it does not see a dirty line and leaves a cached line stale. A
 * snooped request is coherent:
 *   read:  a modified line overlapping the transfer supplies its bytes
 *          (the device gets the line's data) and is written back to memory
 *          and left clean (the implicit write-back of a snoop hit on a
 *          modified line);
 *   write: a cached line overlapping the transfer takes the device's bytes
 *          (a snoop that updates the line; it keeps its dirty state), so
 *          the CPU sees the new data and a later write-back cannot undo it.
 * The host-physical address used for snooping is the IOMMU's translation
 * after the transfer succeeded (sim_iommu_translate, which has no side
 * effect on success); a function using a stale ATS entry would be snooped
 * at the IOMMU's current address, a case the experiments do not use.
 */
#ifndef HQIO_SIM_CACHE_H
#define HQIO_SIM_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

#define SIM_CACHE_LINE 64u /* bytes; CLFLUSH line size (CPUID.01H:EBX[15:8] = 8) */
#define SIM_CACHE_SETS 64u /* model choice: 64 sets x 4 ways x 64 B = 16 KiB */
#define SIM_CACHE_WAYS 4u

/* Memory types, with their architectural encodings (PAT entries and MTRR
 * types, Intel SDM Vol. 3A table "Memory Types That Can Be Encoded With
 * PAT"; 2 and 3 are reserved). */
enum sim_mt {
	SIM_MT_UC = 0,
	SIM_MT_WC = 1,
	SIM_MT_WT = 4,
	SIM_MT_WP = 5,
	SIM_MT_WB = 6,
	SIM_MT_UC_MINUS = 7,
};

struct sim_cache_line {
	bool valid, dirty;
	uint64_t addr; /* line-aligned host-physical address */
	uint64_t lru;  /* last use (a counter); the smallest in a set goes first */
	uint8_t data[SIM_CACHE_LINE];
};

struct sim_cache_stats {
	uint64_t hits, misses;	 /* lookups by WT, WP and WB accesses */
	uint64_t fills;		 /* lines read from memory */
	uint64_t writebacks;	 /* dirty lines written to memory */
	uint64_t evictions;	 /* valid lines replaced */
	uint64_t uncached;	 /* UC/UC- accesses, and WC loads */
	uint64_t wc_flushes;	 /* WC buffer drains that wrote something */
	uint64_t snoop_hits;	 /* snooped DMA that found a line */
	uint64_t nosnoop_missed; /* No-Snoop reads that skipped a dirty line */
};

struct sim_cache {
	struct sim_platform *p;
	struct sim_cache_line set[SIM_CACHE_SETS][SIM_CACHE_WAYS];
	uint64_t tick;
	/* The write-combining buffer: one line, bytes valid per bit. */
	bool wc_active;
	uint64_t wc_addr;
	uint64_t wc_valid;
	uint8_t wc_data[SIM_CACHE_LINE];
	struct sim_cache_stats st;
};

/* An empty cache in front of p's memory. */
void sim_cache_init(struct sim_cache *c, struct sim_platform *p);

/* CPU load/store of len bytes at host-physical hpa with effective memory
 * type mt (any length and alignment; split at line boundaries). 0, or
 * -EFAULT when the range leaves host memory (nothing is done then), or
 * -EINVAL for a NULL buffer with len > 0 or a reserved type (2, 3). */
int sim_cache_load(struct sim_cache *c, uint64_t hpa, void *buf, uint64_t len, enum sim_mt mt);
int sim_cache_store(struct sim_cache *c, uint64_t hpa, const void *buf, uint64_t len,
		    enum sim_mt mt);

/* SFENCE/MFENCE: drain the WC buffer. */
void sim_cache_fence(struct sim_cache *c);
/* CLFLUSH of every line overlapping [hpa, hpa + len): write back if dirty,
 * invalidate. Also drains the WC buffer when it overlaps. */
void sim_cache_clflush(struct sim_cache *c, uint64_t hpa, uint64_t len);
/* WBINVD: write back every dirty line, invalidate all, drain WC. */
void sim_cache_flush_all(struct sim_cache *c);

/* Whether the line holding hpa is cached, and dirty. */
bool sim_cache_present(const struct sim_cache *c, uint64_t hpa);
bool sim_cache_dirty(const struct sim_cache *c, uint64_t hpa);

/* Device DMA by f through the cache's coherency rules (above): snoop
 * false is a No-Snoop request. Returns what sim_dma_read/write return. */
int sim_cache_dma_read(struct sim_cache *c, struct sim_fn *f, uint64_t iova, void *buf,
		       uint64_t len, bool snooped);
int sim_cache_dma_write(struct sim_cache *c, struct sim_fn *f, uint64_t iova, const void *buf,
			uint64_t len, bool snooped);

/* "UC", "WC", "WT", "WP", "WB", "UC-", or "?" for a reserved value. */
const char *sim_mt_name(enum sim_mt mt);

#endif
