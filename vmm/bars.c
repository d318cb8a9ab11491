#include "bars.h"

unsigned hqio_vmm_bar_pieces(uint64_t size, uint64_t page, const struct hqio_vmm_trap *traps,
			     unsigned n, struct hqio_vmm_piece *out, unsigned max)
{
	if (!size || !page || (page & (page - 1)) || !max)
		return 0;
	unsigned np = 0;
	uint64_t at = 0; /* first byte not yet placed */
	while (at < size && np < max) {
		/* The first trap page at or after `at`, and where the trapped
		 * run starting there ends (runs merged when they touch). */
		uint64_t start = size, end = size;
		for (unsigned i = 0; i < n; i++) {
			if (!traps[i].len || traps[i].off >= size)
				continue;
			uint64_t s = traps[i].off & ~(page - 1);
			uint64_t last = traps[i].off + traps[i].len - 1;
			if (last < traps[i].off || last >= size)
				last = size - 1; /* overflow or past the end */
			uint64_t e = (last | (page - 1)) + 1;
			if (e > size || e == 0)
				e = size;
			if (e <= at)
				continue;
			if (s < at)
				s = at;
			if (s < start) {
				start = s;
				end = e;
			} else if (s == start && e > end) {
				end = e;
			}
		}
		/* Extend over traps that overlap or touch the run. */
		for (int grown = 1; grown && start < size;) {
			grown = 0;
			for (unsigned i = 0; i < n; i++) {
				if (!traps[i].len || traps[i].off >= size)
					continue;
				uint64_t s = traps[i].off & ~(page - 1);
				uint64_t last = traps[i].off + traps[i].len - 1;
				if (last < traps[i].off || last >= size)
					last = size - 1;
				uint64_t e = (last | (page - 1)) + 1;
				if (e > size || e == 0)
					e = size;
				if (s <= end && e > end) {
					end = e;
					grown = 1;
				}
			}
		}
		if (start > at)
			out[np++] = (struct hqio_vmm_piece){ .off = at, .len = start - at };
		at = end;
	}
	return np;
}
