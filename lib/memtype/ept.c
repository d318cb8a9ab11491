/*
 * lib/memtype/ept.c: memory types with Intel EPT.
 * Intel SDM vol. 3 §28.3.7 "Memory Type Used for Translated Guest-Physical
 * Addresses" (§29.3.7 in recent editions): the EPT entry's memory type
 * (bits 5:3, MTRR encodings) is used in place of the MTRR type; with
 * ignore-PAT (bit 6) clear it combines with the guest PAT type per table
 * 11-7, with it set it is the effective type.
 * KVM 6.1's VMX policy is vmx_get_mt_mask (arch/x86/kvm/vmx/vmx.c, v6.1):
 *   if (is_mmio) return UC << VMX_EPT_MT_EPTE_SHIFT;            (IPAT clear)
 *   if (!kvm_arch_has_noncoherent_dma(kvm)) return WB | IPAT;
 *   if (guest CR0.CD) cache = quirk(CD_NW_CLEARED) ? WB : UC; return cache | IPAT;
 *   return kvm_mtrr_get_guest_memory_type(vcpu, gfn);            (IPAT clear)
 * (Later kernels changed the CD case to WB without IPAT and then removed the
 * guest-MTRR emulation; this models 6.1.)
 */
#include "hqio/memtype.h"
#include "vm_common.h"

#include <errno.h>

int hqio_ept_effective(enum hqio_memtype ept_type, bool ipat, enum hqio_memtype guest_pat,
		       enum hqio_memtype *out)
{
	if (!out || !hqio_memtype_valid_mtrr((unsigned)ept_type) ||
	    !hqio_memtype_valid_pat((unsigned)guest_pat))
		return -EINVAL;
	if (ipat) {
		*out = ept_type;
		return 0;
	}
	return hqio_memtype_effective(ept_type, guest_pat, out);
}

void hqio_ept_input_init(struct hqio_ept_input *in)
{
	in->guest_mtrr = HQIO_MT_WB;
	in->guest_pat = HQIO_MT_WB;
	in->is_mmio = false;
	in->noncoherent_dma = false;
	in->guest_cd = false;
	in->quirk_cd_nw_cleared = true;
}

int hqio_ept_kvm61(const struct hqio_ept_input *in, struct hqio_vm_memtype_result *out)
{
	if (!in || !out)
		return -EINVAL;
	if (hqio_memtype_effective(in->guest_mtrr, in->guest_pat, &out->guest_intended))
		return -EINVAL;
	if (in->guest_cd)
		out->guest_intended = HQIO_MT_UC;

	if (in->is_mmio) {
		out->ept_type = HQIO_MT_UC;
		out->ipat = false;
		out->reason = "MMIO: EPT UC with ignore-PAT clear; guest PAT WC still gives WC";
	} else if (!in->noncoherent_dma) {
		out->ept_type = HQIO_MT_WB;
		out->ipat = true;
		out->reason =
			"no non-coherent DMA: EPT WB with ignore-PAT, guest CD/MTRR/PAT ignored";
	} else if (in->guest_cd) {
		out->ept_type = in->quirk_cd_nw_cleared ? HQIO_MT_WB : HQIO_MT_UC;
		out->ipat = true;
		out->reason = in->quirk_cd_nw_cleared
				      ? "guest CR0.CD with KVM_X86_QUIRK_CD_NW_CLEARED: EPT WB, "
					"ignore-PAT"
				      : "guest CR0.CD, quirk disabled: EPT UC, ignore-PAT";
	} else {
		out->ept_type = in->guest_mtrr;
		out->ipat = false;
		out->reason = "non-coherent DMA: EPT type = guest MTRR type, guest PAT applies";
	}
	int rc = hqio_ept_effective(out->ept_type, out->ipat, in->guest_pat, &out->device_type);
	if (rc)
		return rc;
	hqio_mt_finish(out, in->noncoherent_dma);
	return 0;
}
