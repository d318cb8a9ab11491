/*
 * lib/memtype/effective.c: effective memory type of a CPU access.
 *   - MTRR type x PAT type: Intel SDM vol. 3 §11.5.2.2, table 11-7
 *     ("Effective Page-Level Memory Types for Pentium III and More Recent
 *     Processor Families"), including the rows marked (3) that earlier
 *     editions called undefined (WC/WT, WC/WP, WT/WP, WP/UC-, WP/WT).
 *   - CR0.CD/NW: SDM vol. 3 §11.5.3, table 11-5, and §11.5.3.1.
 * Written as precedence rules (not as a copy of the table) so that the
 * table typed into tests/test_memtype.c checks it independently.
 */
#include "hqio/memtype.h"

#include <errno.h>

int hqio_memtype_effective(enum hqio_memtype mtrr, enum hqio_memtype pat, enum hqio_memtype *out)
{
	enum hqio_memtype t;

	if (!out || !hqio_memtype_valid_mtrr((unsigned)mtrr) ||
	    !hqio_memtype_valid_pat((unsigned)pat))
		return -EINVAL;
	if (pat == HQIO_MT_UC || pat == HQIO_MT_WC) {
		/* PAT UC is UC and PAT WC is WC whatever the MTRR says. */
		t = pat;
	} else if (pat == HQIO_MT_UC_MINUS) {
		/* UC- yields to a WC MTRR; WP MTRR + UC- is WC as well (note 3). */
		t = (mtrr == HQIO_MT_WC || mtrr == HQIO_MT_WP) ? HQIO_MT_WC : HQIO_MT_UC;
	} else if (mtrr == HQIO_MT_UC) {
		t = HQIO_MT_UC; /* UC from the MTRR wins over WT/WP/WB */
	} else if (mtrr == HQIO_MT_WC) {
		/* WB lets the WC MTRR through; WT and WP give UC (note 3). */
		t = pat == HQIO_MT_WB ? HQIO_MT_WC : HQIO_MT_UC;
	} else if (pat == HQIO_MT_WB) {
		t = mtrr; /* WT, WP, WB: the MTRR type */
	} else if (pat == HQIO_MT_WT) {
		t = HQIO_MT_WT; /* over WT, WP (note 3) and WB MTRRs */
	} else {
		t = HQIO_MT_WP; /* PAT WP over WT (note 3), WP, WB */
	}
	*out = t;
	return 0;
}

int hqio_memtype_cr0(enum hqio_memtype effective, bool cd, bool nw, struct hqio_cr0_result *out)
{
	if (!out || !hqio_memtype_valid_pat((unsigned)effective))
		return -EINVAL;
	if (!cd && nw)
		return -EINVAL; /* MOV to CR0 with CD=0 NW=1 raises #GP */
	if (!cd) {
		out->type = effective;
		out->coherent = true;
		return 0;
	}
	out->type = HQIO_MT_UC;
	out->coherent = !nw;
	return 0;
}
