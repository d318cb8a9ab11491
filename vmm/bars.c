#include "bars.h"

#include <stdbool.h>

/* The pages [*s, *e) that hold a byte of trap t, clipped to the BAR;
 * false for an empty trap or one outside the BAR. */
static bool trap_pages(const struct hqio_vmm_trap *t, uint64_t size, uint64_t page, uint64_t *s,
		       uint64_t *e)
{
	if (!t->len || t->off >= size)
		return false;
	uint64_t last = t->off + t->len - 1;
	if (last < t->off || last >= size)
		last = size - 1; /* overflow or past the end */
	*s = t->off & ~(page - 1);
	*e = (last | (page - 1)) + 1;
	if (*e > size || *e == 0)
		*e = size;
	return true;
}

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
			uint64_t s, e;
			if (!trap_pages(&traps[i], size, page, &s, &e) || e <= at)
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
				uint64_t s, e;
				if (trap_pages(&traps[i], size, page, &s, &e) && s <= end &&
				    e > end) {
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
