/*
 * Which pages of a BAR the monitor maps into the guest (NSDR: memslots, no
 * exits) and which it traps (SDR: MSI-X table and PBA, driver back doors of
 * lib/dvh's quirk table). Pure arithmetic, unit-tested (tests/test_vmm.c).
 */
#ifndef HQIO_VMM_BARS_H
#define HQIO_VMM_BARS_H

#include <stdint.h>

struct hqio_vmm_trap {
	uint64_t off, len; /* a byte range inside the BAR */
};

struct hqio_vmm_piece {
	uint64_t off, len; /* a page-aligned range to map */
};

/* The pieces of a BAR of `size` bytes left to map once every page that
 * holds a byte of a trap is taken out (traps may overlap, be unsorted,
 * reach past the end or be empty). At most max pieces are returned, in
 * order; pieces that do not fit in max stay trapped. page: a power of two. */
unsigned hqio_vmm_bar_pieces(uint64_t size, uint64_t page, const struct hqio_vmm_trap *traps,
			     unsigned n, struct hqio_vmm_piece *out, unsigned max);

#endif
