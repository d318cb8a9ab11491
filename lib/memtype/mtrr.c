/*
 * lib/memtype/mtrr.c: memory type range registers.
 * Intel SDM vol. 3 §11.11: IA32_MTRRCAP (§11.11.1: VCNT 7:0, FIX 8, WC 10),
 * IA32_MTRR_DEF_TYPE (§11.11.2.1: type 7:0, FE 10, E 11), fixed ranges
 * (§11.11.2.2: one 64K MSR for 0x00000-0x7FFFF, two 16K MSRs for
 * 0x80000-0xBFFFF, eight 4K MSRs for 0xC0000-0xFFFFF, one byte per range),
 * variable ranges (§11.11.2.3: PHYSBASE type 7:0; PHYSMASK valid bit 11;
 * an address matches when (addr & mask) == (base & mask)), precedence
 * (§11.11.4.1): E=0 -> UC; FE=1 and addr < 1 MiB -> fixed; one variable
 * match -> its type; several: UC if any is UC, WT for WT+WB, otherwise
 * undefined (hqio_mtrr_undef_policy, see memtype.h for Linux/Xen/KVM);
 * no match -> default type.
 * A lookup walks [addr, addr+len) from boundary to boundary (fixed-range
 * edges, 1 MiB, the start and end of every valid variable range) and stops
 * at the first change of type, so its cost is bounded by the number of
 * ranges, not by the length.
 */
#include "hqio/memtype.h"

#include <errno.h>
#include <string.h>

#define ONE_MIB 0x100000ull

static unsigned phys_bits(const struct hqio_mtrr_state *s)
{
	unsigned b = s->phys_bits ? s->phys_bits : 36;
	return b > 52 ? 52 : b;
}

static unsigned nvar(const struct hqio_mtrr_state *s)
{
	unsigned n = HQIO_MTRRCAP_VCNT(s->cap);
	return n > HQIO_MTRR_MAX_VAR ? HQIO_MTRR_MAX_VAR : n;
}

void hqio_mtrr_init(struct hqio_mtrr_state *s, unsigned n, unsigned pbits)
{
	memset(s, 0, sizeof(*s));
	if (n > HQIO_MTRR_MAX_VAR)
		n = HQIO_MTRR_MAX_VAR;
	s->cap = n | HQIO_MTRRCAP_FIX | HQIO_MTRRCAP_WC;
	s->phys_bits = pbits;
}

int hqio_mtrr_set_default(struct hqio_mtrr_state *s, enum hqio_memtype def, bool e, bool fe)
{
	if (!hqio_memtype_valid_mtrr((unsigned)def))
		return -EINVAL;
	s->def_type = (uint64_t)def | (e ? HQIO_MTRR_DEF_E : 0) | (fe ? HQIO_MTRR_DEF_FE : 0);
	return 0;
}

/* Fixed range holding addr (< 1 MiB): MSR index, byte, range start and size. */
static void fixed_slot(uint64_t addr, unsigned *msr, unsigned *byte, uint64_t *start,
		       uint64_t *size)
{
	if (addr < 0x80000) {
		*size = 0x10000;
		*msr = 0;
		*byte = (unsigned)(addr >> 16);
		*start = addr & ~0xFFFFull;
	} else if (addr < 0xC0000) {
		unsigned seg = (unsigned)((addr - 0x80000) >> 14);
		*size = 0x4000;
		*msr = 1 + seg / 8;
		*byte = seg % 8;
		*start = addr & ~0x3FFFull;
	} else {
		unsigned seg = (unsigned)((addr - 0xC0000) >> 12);
		*size = 0x1000;
		*msr = 3 + seg / 8;
		*byte = seg % 8;
		*start = addr & ~0xFFFull;
	}
}

int hqio_mtrr_set_fixed(struct hqio_mtrr_state *s, uint64_t addr, uint64_t len, enum hqio_memtype t)
{
	if (!hqio_memtype_valid_mtrr((unsigned)t) || len == 0 || addr >= ONE_MIB ||
	    len > ONE_MIB - addr)
		return -EINVAL;
	for (uint64_t a = addr; a < addr + len;) {
		unsigned msr, byte;
		uint64_t start, size;
		fixed_slot(a, &msr, &byte, &start, &size);
		if (start != a || size > addr + len - a)
			return -EINVAL; /* not aligned to the ranges it touches */
		s->fixed[msr] &= ~(0xFFull << (8 * byte));
		s->fixed[msr] |= (uint64_t)t << (8 * byte);
		a += size;
	}
	return 0;
}

int hqio_mtrr_set_var(struct hqio_mtrr_state *s, unsigned idx, uint64_t base, uint64_t size,
		      enum hqio_memtype t)
{
	unsigned pb = phys_bits(s);
	uint64_t top = 1ull << pb;

	if (idx >= HQIO_MTRR_MAX_VAR || !hqio_memtype_valid_mtrr((unsigned)t) || size < 0x1000 ||
	    (size & (size - 1)) || (base & (size - 1)) || size > top || base > top - size)
		return -EINVAL;
	s->var[idx].base = base | (uint64_t)t;
	s->var[idx].mask = ((top - 1) & ~(size - 1)) | HQIO_MTRR_MASK_VALID;
	return 0;
}

int hqio_mtrr_clear_var(struct hqio_mtrr_state *s, unsigned idx)
{
	if (idx >= HQIO_MTRR_MAX_VAR)
		return -EINVAL;
	s->var[idx].mask &= ~HQIO_MTRR_MASK_VALID;
	return 0;
}

struct interval {
	uint64_t start, end; /* [start, end) */
	uint8_t type;
};

/* The valid variable ranges as intervals (in pair order). */
static int var_intervals(const struct hqio_mtrr_state *s, struct interval *iv, unsigned *count)
{
	unsigned pb = phys_bits(s), n = 0;
	uint64_t top = 1ull << pb, addr_bits = (top - 1) & ~0xFFFull;

	for (unsigned i = 0; i < nvar(s); i++) {
		uint64_t base = s->var[i].base, mask = s->var[i].mask;
		if (!(mask & HQIO_MTRR_MASK_VALID))
			continue;
		if ((base & ~(addr_bits | 0xFFull)) || (mask & ~(addr_bits | HQIO_MTRR_MASK_VALID)))
			return -EINVAL; /* reserved bits */
		if (!hqio_memtype_valid_mtrr((unsigned)(base & 0xFF)))
			return -EINVAL;
		uint64_t m = mask & addr_bits;
		/* Contiguous: ones from some bit k up to MAXPHYADDR-1 (or none). */
		uint64_t size = top - m;
		if (m && m + (m & (~m + 1)) != top)
			return -EINVAL;
		iv[n].start = base & m;
		iv[n].end = iv[n].start + size;
		iv[n].type = (uint8_t)(base & 0xFF);
		n++;
	}
	*count = n;
	return 0;
}

static enum hqio_memtype undefined_type(const struct hqio_mtrr_state *s, uint8_t last)
{
	switch (s->undef) {
	case HQIO_MTRR_UNDEF_WB:
		return HQIO_MT_WB;
	case HQIO_MTRR_UNDEF_LAST:
		return (enum hqio_memtype)last;
	case HQIO_MTRR_UNDEF_UC:
		break;
	}
	return HQIO_MT_UC;
}

/* Type at a; *next = first address after a where the type may change. */
static int type_at(const struct hqio_mtrr_state *s, const struct interval *iv, unsigned n,
		   uint64_t a, uint64_t *next, enum hqio_mtrr_source *src, bool *undef)
{
	uint64_t bound = UINT64_MAX;

	if ((s->def_type & HQIO_MTRR_DEF_FE) && a < ONE_MIB) {
		unsigned msr, byte;
		uint64_t start, size;
		fixed_slot(a, &msr, &byte, &start, &size);
		unsigned t = (unsigned)(s->fixed[msr] >> (8 * byte)) & 0xFFu;
		if (!hqio_memtype_valid_mtrr(t))
			return -EINVAL;
		*next = start + size;
		*src = HQIO_MTRR_SRC_FIXED;
		return (int)t;
	}
	unsigned seen = 0, matches = 0;
	uint8_t last = 0;
	for (unsigned i = 0; i < n; i++) {
		if (a >= iv[i].start && a < iv[i].end) {
			seen |= 1u << iv[i].type;
			last = iv[i].type;
			matches++;
			if (iv[i].end < bound)
				bound = iv[i].end;
		} else if (iv[i].start > a && iv[i].start < bound) {
			bound = iv[i].start;
		}
	}
	*next = bound;
	if (!matches) {
		unsigned t = (unsigned)(s->def_type & HQIO_MTRR_DEF_TYPE_MASK);
		if (!hqio_memtype_valid_mtrr(t))
			return -EINVAL;
		*src = HQIO_MTRR_SRC_DEFAULT;
		return (int)t;
	}
	*src = HQIO_MTRR_SRC_VARIABLE;
	if ((seen & (seen - 1)) == 0)
		return last; /* one type (possibly several ranges of it) */
	if (seen & (1u << HQIO_MT_UC))
		return HQIO_MT_UC;
	if (seen == ((1u << HQIO_MT_WT) | (1u << HQIO_MT_WB)))
		return HQIO_MT_WT;
	*undef = true;
	return (int)undefined_type(s, last);
}

int hqio_mtrr_lookup(const struct hqio_mtrr_state *s, uint64_t addr, uint64_t len,
		     struct hqio_mtrr_lookup *out)
{
	struct interval iv[HQIO_MTRR_MAX_VAR];
	unsigned n = 0;
	uint64_t top;

	if (!s || !out)
		return -EINVAL;
	top = 1ull << phys_bits(s);
	if (len == 0)
		len = 1;
	if (addr >= top || len > top - addr)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!(s->def_type & HQIO_MTRR_DEF_E)) {
		out->type = HQIO_MT_UC;
		out->uniform = true;
		out->run_len = len;
		out->source = HQIO_MTRR_SRC_DISABLED;
		return 0;
	}
	int rc = var_intervals(s, iv, &n);
	if (rc)
		return rc;

	uint64_t end = addr + len, next;
	bool undef = false;
	enum hqio_mtrr_source src0, src;
	int t0 = type_at(s, iv, n, addr, &next, &src0, &undef);
	if (t0 < 0)
		return t0;
	while (next < end) {
		bool u = false;
		uint64_t nn;
		int t = type_at(s, iv, n, next, &nn, &src, &u);
		if (t < 0)
			return t;
		if (t != t0)
			break;
		undef = undef || u;
		next = nn;
	}
	out->type = (enum hqio_memtype)t0;
	out->source = src0;
	out->uniform = next >= end;
	out->run_len = (next >= end ? end : next) - addr;
	out->undefined_overlap = undef;
	return 0;
}
