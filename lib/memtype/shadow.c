/*
 * lib/memtype/shadow.c: memory-type propagation with shadow paging (the
 * 2009 design; as Xen's shadow code does in get_pat_flags,
 * xen/arch/x86/hvm/mtrr.c).
 * The guest's intended type is guest MTRR x guest PAT (Intel SDM vol. 3
 * §11.5.2.2, table 11-7), or UC when the guest has CR0.CD set (§11.5.3).
 * The host MTRRs stay as they are, so the monitor can only choose the shadow
 * PTE's PAT/PCD/PWT bits, i.e. one of the 8 host PAT entries (§11.12.3): it
 * needs an entry P with table-11-7(host MTRR, P) == intended type.
 * Preference: an entry whose own type is the intended type (the result then
 * does not depend on the host MTRR over the page), else the lowest index
 * (indices 0-3 need no PAT bit). None: map UC (an entry of type UC, else
 * UC-, else index 3) and report exact = false.
 */
#include "hqio/memtype.h"

#include <errno.h>

void hqio_shadow_input_init(struct hqio_shadow_input *in)
{
	in->guest_mtrr = HQIO_MT_WB;
	in->guest_pat = HQIO_MT_WB;
	in->host_mtrr = HQIO_MT_WB;
	in->host_pat = HQIO_PAT_POWER_ON;
	in->page_size = HQIO_PAGE_4K;
	in->guest_cd = false;
}

int hqio_shadow_propagate(const struct hqio_shadow_input *in, struct hqio_shadow_result *out)
{
	enum hqio_memtype want, got;
	int chosen = -1;

	if (!in || !out || hqio_pat_check(in->host_pat) ||
	    !hqio_memtype_valid_mtrr((unsigned)in->host_mtrr) ||
	    (in->page_size != HQIO_PAGE_4K && in->page_size != HQIO_PAGE_2M &&
	     in->page_size != HQIO_PAGE_1G))
		return -EINVAL;
	if (hqio_memtype_effective(in->guest_mtrr, in->guest_pat, &want))
		return -EINVAL;
	if (in->guest_cd)
		want = HQIO_MT_UC;

	for (unsigned pass = 0; pass < 2 && chosen < 0; pass++) {
		for (unsigned i = 0; i < 8; i++) {
			enum hqio_memtype p = HQIO_PAT_ENTRY(in->host_pat, i);
			if (pass == 0 && p != want)
				continue;
			hqio_memtype_effective(in->host_mtrr, p, &got);
			if (got == want) {
				chosen = (int)i;
				break;
			}
		}
	}
	out->exact = chosen >= 0;
	if (chosen >= 0) {
		out->reason = in->guest_cd
				      ? "guest CR0.CD: UC reproduced by a host PAT entry"
				      : "host PAT entry over the host MTRR gives the guest's type";
	} else {
		for (unsigned pass = 0; pass < 2 && chosen < 0; pass++) {
			for (unsigned i = 0; i < 8; i++) {
				enum hqio_memtype p = HQIO_PAT_ENTRY(in->host_pat, i);
				if (p == (pass == 0 ? HQIO_MT_UC : HQIO_MT_UC_MINUS)) {
					chosen = (int)i;
					break;
				}
			}
		}
		if (chosen < 0)
			chosen = 3;
		out->reason =
			"no host PAT entry gives the guest's type over the host MTRR: mapped UC";
	}
	out->guest_effective = want;
	out->pat_index = (unsigned)chosen;
	out->host_pat_type = HQIO_PAT_ENTRY(in->host_pat, chosen);
	out->pte_bits = hqio_pat_pte_bits(out->pat_index, in->page_size);
	out->pte_bits_4k = hqio_pat_pte_bits(out->pat_index, HQIO_PAGE_4K);
	out->pte_bits_large = hqio_pat_pte_bits(out->pat_index, HQIO_PAGE_2M);
	hqio_memtype_effective(in->host_mtrr, out->host_pat_type, &out->host_effective);
	return 0;
}
