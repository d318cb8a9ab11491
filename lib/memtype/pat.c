/*
 * lib/memtype/pat.c: the page attribute table.
 * Intel SDM vol. 3 §11.12: IA32_PAT (MSR 277H) holds 8 entries PA0..PA7 in
 * bits 8i+2:8i (bits 8i+7:8i+3 reserved; table 11-10 gives the encodings,
 * writing a reserved one raises #GP); §11.12.3 table 11-11: the entry index
 * is PAT<<2 | PCD<<1 | PWT, with PWT bit 3 and PCD bit 4 in every entry that
 * maps a page, PAT bit 7 in a 4 KiB PTE and bit 12 in a 2 MiB / 1 GiB
 * entry (where bit 7 is PS); §11.12.4 table 11-12: power-on value.
 */
#include "hqio/memtype.h"

#include <errno.h>

int hqio_pat_check(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned b = (unsigned)(pat >> (8 * i)) & 0xFFu;
		if (!hqio_memtype_valid_pat(b))
			return -EINVAL;
	}
	return 0;
}

int hqio_pat_from_types(const enum hqio_memtype types[8], uint64_t *pat)
{
	uint64_t v = 0;

	if (!types || !pat)
		return -EINVAL;
	for (unsigned i = 0; i < 8; i++) {
		if (!hqio_memtype_valid_pat((unsigned)types[i]))
			return -EINVAL;
		v |= (uint64_t)types[i] << (8 * i);
	}
	*pat = v;
	return 0;
}

unsigned hqio_pat_index(bool pat, bool pcd, bool pwt)
{
	return (unsigned)pat << 2 | (unsigned)pcd << 1 | (unsigned)pwt;
}

static uint64_t pat_bit(enum hqio_page_size ps)
{
	return ps == HQIO_PAGE_4K ? HQIO_PTE_PAT_4K : HQIO_PTE_PAT_LARGE;
}

unsigned hqio_pat_index_from_pte(uint64_t pte, enum hqio_page_size ps)
{
	return hqio_pat_index((pte & pat_bit(ps)) != 0, (pte & HQIO_PTE_PCD) != 0,
			      (pte & HQIO_PTE_PWT) != 0);
}

uint64_t hqio_pat_pte_bits(unsigned index, enum hqio_page_size ps)
{
	uint64_t v = 0;

	if (index & 1u)
		v |= HQIO_PTE_PWT;
	if (index & 2u)
		v |= HQIO_PTE_PCD;
	if (index & 4u)
		v |= pat_bit(ps);
	return v;
}
