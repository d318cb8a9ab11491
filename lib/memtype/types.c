/*
 * lib/memtype/types.c: memory-type names, encodings and parsing.
 * Encodings: Intel SDM vol. 3 §11.11.1 table 11-8 (MTRR: UC 0, WC 1, WT 4,
 * WP 5, WB 6; 2, 3 and 7..255 reserved) and §11.12.2 table 11-10 (PAT: the
 * same plus UC- 7). EPT memory types use the MTRR encodings (§28.3.7).
 */
#include "hqio/memtype.h"

#include <errno.h>
#include <string.h>

static const enum hqio_memtype order[HQIO_MT_COUNT] = {
	HQIO_MT_UC, HQIO_MT_WC, HQIO_MT_WT, HQIO_MT_WP, HQIO_MT_WB, HQIO_MT_UC_MINUS,
};

enum hqio_memtype hqio_memtype_by_index(unsigned i)
{
	return i < HQIO_MT_COUNT ? order[i] : HQIO_MT_UC;
}

const char *hqio_memtype_name(enum hqio_memtype t)
{
	switch (t) {
	case HQIO_MT_UC:
		return "UC";
	case HQIO_MT_WC:
		return "WC";
	case HQIO_MT_WT:
		return "WT";
	case HQIO_MT_WP:
		return "WP";
	case HQIO_MT_WB:
		return "WB";
	case HQIO_MT_UC_MINUS:
		return "UC-";
	}
	return "?";
}

static int ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 32) : *a;
		if (x != *b)
			return 0;
	}
	return *a == 0 && *b == 0;
}

int hqio_memtype_parse(const char *s, enum hqio_memtype *out)
{
	if (!s || !out)
		return -EINVAL;
	for (unsigned i = 0; i < HQIO_MT_COUNT; i++) {
		if (ieq(s, hqio_memtype_name(order[i]))) {
			*out = order[i];
			return 0;
		}
	}
	if (ieq(s, "UC_MINUS")) {
		*out = HQIO_MT_UC_MINUS;
		return 0;
	}
	return -EINVAL;
}

bool hqio_memtype_valid_mtrr(unsigned enc)
{
	return enc == 0 || enc == 1 || enc == 4 || enc == 5 || enc == 6;
}

bool hqio_memtype_valid_pat(unsigned enc)
{
	return hqio_memtype_valid_mtrr(enc) || enc == 7;
}
