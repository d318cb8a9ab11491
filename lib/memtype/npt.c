/*
 * lib/memtype/npt.c: memory types with AMD nested paging.
 * AMD64 APM vol. 2 §15.25.8 "Combining Memory Types, MTRRs": the guest PAT
 * type (guest PTE PAT/PCD/PWT through the VMCB's G_PAT) and the nested PAT
 * type (nested PTE bits through the host PAT) combine per the table
 * "Combining Guest and Host PAT Types"; the result combines with the host
 * MTRR type of the system-physical address as for native PAT x MTRR (APM
 * vol. 2 §7.8.x "Combining PAT and MTRR Types"; the same outcomes as Intel
 * SDM table 11-7 for the types modelled here). No ignore-PAT bit exists.
 * The APM's own CD type is reported as UC and WC+ as WC (see memtype.h).
 * KVM 6.1's SVM policy: svm has no get_mt_mask (the memory-type bits of
 * every nested PTE are 0, i.e. PAT index 0), the guest's G_PAT is used by
 * the hardware, guest MTRRs are only emulated as MSRs, non-coherent DMA
 * changes nothing; svm_set_cr0 clears CD/NW in the hardware CR0 while
 * KVM_X86_QUIRK_CD_NW_CLEARED is enabled.
 */
#include "hqio/memtype.h"
#include "vm_common.h"

#include <errno.h>

int hqio_npt_combine_pat(enum hqio_memtype g, enum hqio_memtype h, enum hqio_memtype *out)
{
	enum hqio_memtype t;

	if (!out || !hqio_memtype_valid_pat((unsigned)g) || !hqio_memtype_valid_pat((unsigned)h))
		return -EINVAL;
	if (g == HQIO_MT_UC || h == HQIO_MT_UC)
		t = HQIO_MT_UC;
	else if (g == h)
		t = g;
	else if (g == HQIO_MT_WB || h == HQIO_MT_WB) {
		enum hqio_memtype x = g == HQIO_MT_WB ? h : g;
		t = x == HQIO_MT_UC_MINUS ? HQIO_MT_UC /* CD */ : x; /* WC: WC+ */
	} else if ((g == HQIO_MT_WC && h == HQIO_MT_UC_MINUS) ||
		   (g == HQIO_MT_UC_MINUS && h == HQIO_MT_WC))
		t = HQIO_MT_WC;
	else
		t = HQIO_MT_UC; /* CD */
	*out = t;
	return 0;
}

int hqio_npt_effective(enum hqio_memtype guest_pat, enum hqio_memtype nested_pat,
		       enum hqio_memtype host_mtrr, enum hqio_memtype *out)
{
	enum hqio_memtype pat;
	int rc = hqio_npt_combine_pat(guest_pat, nested_pat, &pat);

	if (rc)
		return rc;
	return hqio_memtype_effective(host_mtrr, pat, out);
}

void hqio_npt_input_init(struct hqio_npt_input *in)
{
	in->guest_mtrr = HQIO_MT_WB;
	in->guest_pat = HQIO_MT_WB;
	in->host_mtrr = HQIO_MT_WB;
	in->host_pat = HQIO_PAT_LINUX;
	in->nested_pat_index = 0;
	in->is_mmio = false;
	in->noncoherent_dma = false;
	in->guest_cd = false;
	in->quirk_cd_nw_cleared = true;
}

int hqio_npt_kvm61(const struct hqio_npt_input *in, struct hqio_vm_memtype_result *out)
{
	if (!in || !out || in->nested_pat_index > 7 || hqio_pat_check(in->host_pat))
		return -EINVAL;
	if (hqio_memtype_effective(in->guest_mtrr, in->guest_pat, &out->guest_intended))
		return -EINVAL;
	if (!hqio_memtype_valid_mtrr((unsigned)in->host_mtrr))
		return -EINVAL;
	if (in->guest_cd)
		out->guest_intended = HQIO_MT_UC;
	out->ept_type = HQIO_PAT_ENTRY(in->host_pat, in->nested_pat_index);
	out->ipat = false;
	if (in->guest_cd && !in->quirk_cd_nw_cleared) {
		out->device_type = HQIO_MT_UC;
		out->reason = "guest CR0.CD reaches the hardware (quirk disabled): UC";
	} else {
		int rc = hqio_npt_effective(in->guest_pat, out->ept_type, in->host_mtrr,
					    &out->device_type);
		if (rc)
			return rc;
		out->reason = in->guest_cd
				      ? "guest CR0.CD cleared by KVM's quirk; guest PAT x nested "
					"PAT x host MTRR"
				      : "guest PAT x nested PAT (index 0) x host MTRR; guest MTRRs "
					"ignored";
	}
	hqio_mt_finish(out, in->noncoherent_dma);
	return 0;
}
