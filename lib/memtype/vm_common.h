/*
 * lib/memtype/vm_common.h: helpers shared by ept.c and npt.c (internal).
 */
#ifndef HQIO_MEMTYPE_VM_COMMON_H
#define HQIO_MEMTYPE_VM_COMMON_H

#include "hqio/memtype.h"

/* Writes from the CPU never stay in a write-back cache line. */
static inline bool hqio_mt_uncached_writes(enum hqio_memtype t)
{
	return t == HQIO_MT_UC || t == HQIO_MT_UC_MINUS || t == HQIO_MT_WC;
}

/* Fills intent/match/coherent once device_type is set. */
static inline void hqio_mt_finish(struct hqio_vm_memtype_result *r, bool noncoherent_dma)
{
	r->matches_guest_intent = r->device_type == r->guest_intended;
	r->coherent = r->matches_guest_intent || !noncoherent_dma ||
		      (hqio_mt_uncached_writes(r->device_type) &&
		       hqio_mt_uncached_writes(r->guest_intended));
}

#endif
