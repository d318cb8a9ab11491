/*
 * The randomized reclaim experiment: devices of the reference machine
 * (including the faulty DMA variants) change owners again and again while
 * a DMA programmed by the old owner is in flight; the next owner maps its
 * memory at the same IOVA and enables Bus Master at once. Every DMA write
 * that reaches memory is classified: it must land in the memory of the
 * owner (epoch) that programmed it, anything else is a stray write.
 * hqio's order (hqio_reclaim) must see none; --naive (release the memory
 * first, reset later, no idle check) must see some on the same seed.
 */
#ifndef HQIO_SIM_RECLAIM_H
#define HQIO_SIM_RECLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "hqio/reset.h"

struct sim_reclaim_opts {
	uint64_t runs;
	uint64_t seed;
	bool naive;
};

#define SIM_RECLAIM_MAX_UNITS 16

struct sim_reclaim_unit_stats {
	const char *name;
	uint64_t reassignments;
	uint64_t stray_writes;
	bool quarantined;
	enum hqio_reset_method last_method;
};

struct sim_reclaim_stats {
	uint64_t runs;	       /* reassignments done */
	uint64_t in_flight;    /* reclaims that found a programmed DMA not yet landed */
	uint64_t dma_landed;   /* DMA writes that reached memory */
	uint64_t stray_writes; /* ... outside the programming owner's memory */
	uint64_t drained;      /* landed in the old owner's memory after the reclaim began */
	uint64_t quarantined;  /* units that ended quarantined */
	uint64_t methods_used[HQIO_RM_COUNT];
	uint64_t virtual_ns;
	unsigned n_units;
	struct sim_reclaim_unit_stats units[SIM_RECLAIM_MAX_UNITS];
};

/* Returns 0, or a negative code with msg set (the machine could not be built). */
int sim_reclaim_run(const struct sim_reclaim_opts *o, struct sim_reclaim_stats *st, char *msg,
		    size_t msglen);

#endif
