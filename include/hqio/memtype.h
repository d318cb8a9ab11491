/*
 * lib/memtype: x86 memory types for an assigned device's memory.
 *
 * Devices may use No-Snoop DMA that bypasses CPU caches; a guest driver keeps
 * coherency by mapping the memory with a non-write-back type (UC, WC, ...). A
 * monitor that maps the page with another effective type breaks that. This
 * module models how each monitor design produces the effective type:
 *   - the architecture: MTRRs (Intel SDM vol. 3 §11.11), PAT (§11.12), the
 *     MTRR x PAT combination (§11.5.2.2, table 11-7), CR0.CD/NW (§11.5.3,
 *     table 11-5);
 *   - shadow paging (the 2009 design): the guest's effective type is
 *     reproduced in the shadow PTE through a host PAT entry (hqio_shadow_*);
 *   - EPT (Intel SDM vol. 3 §28.3.7 "Memory Type Used for Translated
 *     Guest-Physical Addresses") with KVM 6.1's VMX policy (hqio_ept_*);
 *   - NPT (AMD APM vol. 2 §15.25.8 "Combining Memory Types, MTRRs") with
 *     KVM 6.1's SVM policy (hqio_npt_*).
 * Pure functions: no system calls, no clocks, no globals. Every function that
 * can fail returns 0 or a negative errno value (-EINVAL for a reserved type
 * encoding or an out-of-range argument) and leaves *out unspecified on error.
 * Strings returned (names, reasons) are static and never freed.
 */
#ifndef HQIO_MEMTYPE_H
#define HQIO_MEMTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ types */

/* Memory types, valued as their architectural encodings (MTRR and PAT
 * fields, EPT memory type; SDM vol. 3 tables 11-8 and 11-10). UC_MINUS exists
 * only in the PAT (an MTRR type of 7 is reserved). */
enum hqio_memtype {
	HQIO_MT_UC = 0,	      /* "UC"  uncacheable */
	HQIO_MT_WC = 1,	      /* "WC"  write-combining */
	HQIO_MT_WT = 4,	      /* "WT"  write-through */
	HQIO_MT_WP = 5,	      /* "WP"  write-protected */
	HQIO_MT_WB = 6,	      /* "WB"  write-back */
	HQIO_MT_UC_MINUS = 7, /* "UC-" PAT only: UC, overridable by MTRR WC */
};

/* Number of memory types and the types in a fixed order (for iterating):
 * UC, WC, WT, WP, WB, UC- (i = 0..5). */
#define HQIO_MT_COUNT 6
enum hqio_memtype hqio_memtype_by_index(unsigned i);

/* "UC", "WC", "WT", "WP", "WB", "UC-"; "?" for a reserved encoding. */
const char *hqio_memtype_name(enum hqio_memtype t);
/* Parses a name exactly as hqio_memtype_name spells it (case-insensitive;
 * "UC_MINUS" is accepted for "UC-"). 0 or -EINVAL. */
int hqio_memtype_parse(const char *s, enum hqio_memtype *out);
/* Valid encodings: for an MTRR (and an EPT memory type): 0,1,4,5,6; for a PAT
 * entry: 0,1,4,5,6,7. */
bool hqio_memtype_valid_mtrr(unsigned enc);
bool hqio_memtype_valid_pat(unsigned enc);

/* Effective type of a (CPU) access from the MTRR type and the PAT type:
 * Intel SDM vol. 3 §11.5.2.2 table 11-7 ("Effective Page-Level Memory Types
 * for Pentium III and More Recent Processor Families"), every row including
 * those once marked undefined. -EINVAL if mtrr is not a valid MTRR type or pat
 * not a valid PAT type. */
int hqio_memtype_effective(enum hqio_memtype mtrr, enum hqio_memtype pat, enum hqio_memtype *out);

/* CR0.CD / CR0.NW (SDM vol. 3 §11.5.3, table 11-5). Rules implemented:
 *   CD=0 NW=0: normal cache mode; the effective type is unchanged.
 *   CD=0 NW=1: invalid (MOV to CR0 raises #GP): -EINVAL.
 *   CD=1 NW=0: no-fill cache mode: no new fills, coherency maintained; once
 *              the caches are flushed (WBINVD, the §11.5.3.1 procedure) every
 *              access is effectively UC: type = UC, coherent = true.
 *   CD=1 NW=1: caches neither filled nor kept coherent: lines left in the
 *              cache may still be hit (and written without write-through):
 *              type = UC, coherent = false (unless the caches were flushed).
 * WC is also reported as UC under CD=1 (conservative: the device must not
 * count on combining). */
struct hqio_cr0_result {
	enum hqio_memtype type;
	bool coherent; /* false: stale cached lines may still be hit (CD=1 NW=1) */
};
int hqio_memtype_cr0(enum hqio_memtype effective, bool cd, bool nw, struct hqio_cr0_result *out);

/* ------------------------------------------------------------------- MTRRs */

/* MSR numbers (SDM vol. 4 table 2-2), for tools printing or reading them. */
#define HQIO_MSR_MTRRCAP      0xFEu
#define HQIO_MSR_MTRR_DEF     0x2FFu
#define HQIO_MSR_MTRR_BASE0   0x200u /* PHYSBASEn = 0x200 + 2n, PHYSMASKn = 0x201 + 2n */
#define HQIO_MSR_MTRR_FIX64K  0x250u
#define HQIO_MSR_MTRR_FIX16K0 0x258u
#define HQIO_MSR_MTRR_FIX16K1 0x259u
#define HQIO_MSR_MTRR_FIX4K0  0x268u /* 0x268..0x26F */
#define HQIO_MSR_PAT	      0x277u

/* IA32_MTRRCAP fields. */
#define HQIO_MTRRCAP_VCNT(cap) ((unsigned)((cap)&0xFFu))
#define HQIO_MTRRCAP_FIX       (1ull << 8)
#define HQIO_MTRRCAP_WC	       (1ull << 10)
/* IA32_MTRR_DEF_TYPE fields. */
#define HQIO_MTRR_DEF_TYPE_MASK 0xFFull
#define HQIO_MTRR_DEF_FE	(1ull << 10)
#define HQIO_MTRR_DEF_E		(1ull << 11)
/* IA32_MTRR_PHYSMASKn valid bit. PHYSBASEn bits 7:0 hold the type. */
#define HQIO_MTRR_MASK_VALID (1ull << 11)

/* Fixed ranges (SDM §11.11.2.2): fixed[0] = MTRRfix64K_00000 (8 x 64 KiB,
 * 0x00000-0x7FFFF), fixed[1..2] = MTRRfix16K_80000/_A0000 (8 x 16 KiB each,
 * 0x80000-0xBFFFF), fixed[3..10] = MTRRfix4K_C0000.._F8000 (8 x 4 KiB each,
 * 0xC0000-0xFFFFF). Byte i of an MSR (bits 8i+7:8i) is the type of its i-th
 * range, lowest address first. */
#define HQIO_MTRR_NFIXED 11
/* Largest number of variable ranges modelled (VCNT is capped to it). */
#define HQIO_MTRR_MAX_VAR 32

struct hqio_mtrr_var {
	uint64_t base; /* IA32_MTRR_PHYSBASEn: type in bits 7:0, PhysBase in MAXPHYADDR-1:12 */
	uint64_t mask; /* IA32_MTRR_PHYSMASKn: V bit 11, PhysMask in MAXPHYADDR-1:12 */
};

/* Variable-range overlaps the architecture leaves undefined (SDM §11.11.4.1:
 * two or more matching ranges of different types other than UC+anything and
 * WT+WB). What others chose:
 *   Linux  (arch/x86/kernel/cpu/mtrr/generic.c, check_type_overlap /
 *          get_effective_type used by mtrr_type_lookup): UC;
 *   Xen    (xen/arch/x86/hvm/mtrr.c, get_mtrr_type / mtrr_get_type): "return
 *          the last overlapped type" (the highest-numbered matching range);
 *   KVM    (arch/x86/kvm/mtrr.c, kvm_mtrr_get_guest_memory_type): WB ("We
 *          use WB for this undefined behavior").
 * hqio's default is UC (HQIO_MTRR_UNDEF_UC, as Linux: the conservative choice
 * for No-Snoop DMA); the other two let callers model Xen and KVM guests. */
enum hqio_mtrr_undef_policy {
	HQIO_MTRR_UNDEF_UC = 0,	  /* Linux, hqio default */
	HQIO_MTRR_UNDEF_WB = 1,	  /* KVM */
	HQIO_MTRR_UNDEF_LAST = 2, /* Xen: type of the highest-numbered matching pair */
};

struct hqio_mtrr_state {
	uint64_t cap;	   /* IA32_MTRRCAP: VCNT bits 7:0, FIX bit 8, WC bit 10 */
	uint64_t def_type; /* IA32_MTRR_DEF_TYPE: type bits 7:0, FE bit 10, E bit 11 */
	uint64_t fixed[HQIO_MTRR_NFIXED];
	struct hqio_mtrr_var var[HQIO_MTRR_MAX_VAR]; /* the first min(VCNT, MAX_VAR) are used */
	unsigned phys_bits; /* MAXPHYADDR (CPUID 80000008H EAX[7:0]), 36..52; 0 means 36 */
	enum hqio_mtrr_undef_policy undef;
};

/* Builders (all set raw MSR values in *s; they never fail on a valid type).
 * init: zeroes *s, sets VCNT = nvar (capped), FIX and WC in MTRRCAP,
 *       phys_bits, default type UC with E=0 FE=0 (the reset state). */
void hqio_mtrr_init(struct hqio_mtrr_state *s, unsigned nvar, unsigned phys_bits);
/* Sets IA32_MTRR_DEF_TYPE. -EINVAL for a non-MTRR type. */
int hqio_mtrr_set_default(struct hqio_mtrr_state *s, enum hqio_memtype def, bool e, bool fe);
/* Sets the fixed ranges covering [addr, addr+len) (addr+len <= 1 MiB, both
 * aligned to the granularity of the ranges they touch) to type t. */
int hqio_mtrr_set_fixed(struct hqio_mtrr_state *s, uint64_t addr, uint64_t len,
			enum hqio_memtype t);
/* Sets variable pair idx to [base, base+size) of type t: size a power of two
 * >= 4 KiB, base aligned to size, within phys_bits; valid bit set. */
int hqio_mtrr_set_var(struct hqio_mtrr_state *s, unsigned idx, uint64_t base, uint64_t size,
		      enum hqio_memtype t);
/* Clears the valid bit of pair idx. */
int hqio_mtrr_clear_var(struct hqio_mtrr_state *s, unsigned idx);

/* Where the type of the first byte came from. */
enum hqio_mtrr_source {
	HQIO_MTRR_SRC_DISABLED = 0, /* E=0: UC */
	HQIO_MTRR_SRC_FIXED,	    /* a fixed range (E=1, FE=1, address < 1 MiB) */
	HQIO_MTRR_SRC_VARIABLE,	    /* one or more matching variable ranges */
	HQIO_MTRR_SRC_DEFAULT,	    /* no range matched: IA32_MTRR_DEF_TYPE */
};

struct hqio_mtrr_lookup {
	enum hqio_memtype type;	      /* type of the byte at addr */
	bool uniform;		      /* every byte of [addr, addr+len) has `type` */
	uint64_t run_len;	      /* bytes from addr with `type` (== len when uniform) */
	enum hqio_mtrr_source source; /* of the byte at addr */
	/* Some byte of [addr, addr+run_len) is covered by variable ranges whose
	 * overlap the architecture leaves undefined (resolved per s->undef). */
	bool undefined_overlap;
};

/* MTRR type of [addr, addr+len) (SDM §11.11.4, §11.11.4.1): E=0 gives UC;
 * below 1 MiB with E=1 and FE=1 the fixed ranges apply; otherwise the
 * variable ranges (valid pairs among the first VCNT) whose
 * (addr & mask) == (base & mask): one match gives its type; several: UC if
 * any is UC, WT if they are WT and WB, otherwise per s->undef; none: the
 * default type. len 0 is treated as 1. -EINVAL if addr+len exceeds
 * 2^MAXPHYADDR, a register used holds a reserved type encoding, a valid pair
 * sets reserved bits, or its PhysMask is not contiguous (non-contiguous masks
 * are not modelled). */
int hqio_mtrr_lookup(const struct hqio_mtrr_state *s, uint64_t addr, uint64_t len,
		     struct hqio_mtrr_lookup *out);

/* --------------------------------------------------------------------- PAT */

/* IA32_PAT at power-on/reset (SDM §11.12.4, table 11-12):
 * PA0..PA7 = WB, WT, UC-, UC, WB, WT, UC-, UC. */
#define HQIO_PAT_POWER_ON 0x0007040600070406ull
/* Linux x86 (arch/x86/mm/pat/memtype.c pat_bp_init, PAT-capable CPUs):
 * WB, WC, UC-, UC, WB, WP, UC-, WT. */
#define HQIO_PAT_LINUX 0x0407050600070106ull
/* Xen (XEN_MSR_PAT, xen/arch/x86/include/asm/processor.h):
 * WB, WT, UC-, UC, WC, WP, UC, UC. */
#define HQIO_PAT_XEN 0x0000050100070406ull

/* PAT entry i (bits 8i+2:8i) of a PAT value, unchecked. */
#define HQIO_PAT_ENTRY(pat, i) ((enum hqio_memtype)(((pat) >> (8 * (i))) & 7u))
/* 0 if every entry is a valid PAT type and the reserved bits (8i+7:8i+3) are
 * clear (else WRMSR would #GP), -EINVAL otherwise. */
int hqio_pat_check(uint64_t pat);
/* Builds a PAT value from 8 types (PA0..PA7). -EINVAL on an invalid type. */
int hqio_pat_from_types(const enum hqio_memtype types[8], uint64_t *pat);

enum hqio_page_size {
	HQIO_PAGE_4K = 0, /* PTE: PAT bit 7 */
	HQIO_PAGE_2M = 1, /* PDE with PS=1: PAT bit 12 */
	HQIO_PAGE_1G = 2, /* PDPTE with PS=1: PAT bit 12 */
};

/* Page-table entry bits (SDM §11.12.3, table 11-11). */
#define HQIO_PTE_PWT	   (1ull << 3)
#define HQIO_PTE_PCD	   (1ull << 4)
#define HQIO_PTE_PAT_4K	   (1ull << 7)
#define HQIO_PTE_PAT_LARGE (1ull << 12)

/* PAT entry index = PAT << 2 | PCD << 1 | PWT. */
unsigned hqio_pat_index(bool pat, bool pcd, bool pwt);
/* The same from an entry's raw bits for the page size (PAT at bit 7 for 4 KiB,
 * bit 12 for 2 MiB / 1 GiB). */
unsigned hqio_pat_index_from_pte(uint64_t pte, enum hqio_page_size ps);
/* The PAT/PCD/PWT bits selecting index (0..7) in an entry of that size. */
uint64_t hqio_pat_pte_bits(unsigned index, enum hqio_page_size ps);

/* ------------------------------------------------------ shadow paging (2009) */

/* The guest's effective type is guest MTRR x guest PAT (table 11-7). The
 * monitor leaves the host MTRRs alone and picks, in the host PAT, an entry P
 * with effective(host_mtrr, P) == guest effective: first an entry whose type
 * equals the guest effective type, else the lowest index that works. When no
 * entry can, it maps the page UC (the first UC entry, else the first UC-
 * entry, else index 3) and reports exact = false. */
struct hqio_shadow_input {
	enum hqio_memtype guest_mtrr; /* guest MTRR type of the page (MTRR encoding) */
	enum hqio_memtype guest_pat;  /* type of the guest PTE's PAT entry (in the guest PAT) */
	enum hqio_memtype host_mtrr;  /* host MTRR type of the backing page */
	uint64_t host_pat;	      /* host IA32_PAT: HQIO_PAT_POWER_ON unless told */
	enum hqio_page_size page_size;
	/* Guest CR0.CD (=1: the guest intends UC for everything, §11.5.3). */
	bool guest_cd;
};

struct hqio_shadow_result {
	enum hqio_memtype guest_effective; /* what the guest intends */
	unsigned pat_index;		   /* host PAT entry chosen (0..7) */
	enum hqio_memtype host_pat_type;   /* its type */
	uint64_t pte_bits;		   /* PAT/PCD/PWT bits for input page_size */
	uint64_t pte_bits_4k;		   /* the same for a 4 KiB PTE */
	uint64_t pte_bits_large;	   /* the same for a 2 MiB / 1 GiB entry */
	enum hqio_memtype host_effective;  /* host MTRR x host PAT entry */
	bool exact;			   /* host_effective == guest_effective */
	const char *reason;		   /* one sentence, static */
};

/* Fills *in with the defaults: host_pat = HQIO_PAT_POWER_ON, 4 KiB, types WB,
 * guest_cd false. */
void hqio_shadow_input_init(struct hqio_shadow_input *in);
/* -EINVAL for an invalid guest/host MTRR type, guest PAT type, host PAT
 * value (hqio_pat_check) or page size. */
int hqio_shadow_propagate(const struct hqio_shadow_input *in, struct hqio_shadow_result *out);

/* ------------------------------------------------------------------- EPT */

/* Architecture (SDM vol. 3 §28.3.7): for a guest-physical access the EPT
 * entry's memory type (bits 5:3) replaces the MTRR type: with IPAT (bit 6)
 * clear it combines with the guest PAT type per table 11-7; with IPAT set it
 * is the effective type. The host MTRRs are not consulted. -EINVAL for an
 * invalid EPT (MTRR-encoded) or PAT type. */
int hqio_ept_effective(enum hqio_memtype ept_type, bool ipat, enum hqio_memtype guest_pat,
		       enum hqio_memtype *out);

/* KVM 6.1's VMX policy, vmx_get_mt_mask (arch/x86/kvm/vmx/vmx.c):
 *   is_mmio                     -> EPT UC, IPAT clear (guest PAT WC gives WC)
 *   no non-coherent DMA in VM   -> EPT WB, IPAT set (guest CD/MTRR/PAT ignored)
 *   non-coherent DMA, guest CD  -> IPAT set, EPT WB if KVM_X86_QUIRK_CD_NW_CLEARED
 *                                  (enabled by default) else EPT UC
 *   non-coherent DMA otherwise  -> EPT = guest MTRR type, IPAT clear. */
struct hqio_ept_input {
	enum hqio_memtype guest_mtrr; /* guest MTRR type of the page */
	enum hqio_memtype guest_pat;  /* guest PAT type of the guest's mapping */
	bool is_mmio;		      /* the page is MMIO (a device BAR), not RAM */
	bool noncoherent_dma;	      /* kvm_arch_has_noncoherent_dma(): an assigned
				       * device's DMA is not snooped (no IOMMU snoop
				       * control / No-Snoop honoured) */
	bool guest_cd;		      /* guest CR0.CD */
	bool quirk_cd_nw_cleared;     /* KVM_X86_QUIRK_CD_NW_CLEARED enabled */
};

/* Result shared by EPT and NPT. */
struct hqio_vm_memtype_result {
	enum hqio_memtype guest_intended; /* guest CD ? UC : guest MTRR x guest PAT */
	/* EPT: the EPT entry's type and IPAT. NPT: the nested entry's PAT type
	 * (host PAT entry nested_pat_index) and ipat = false. */
	enum hqio_memtype ept_type;
	bool ipat;
	/* Effective type of the guest's CPU accesses to the page: how the data
	 * the guest writes reaches memory, hence what a device reading memory
	 * with No-Snoop DMA sees. */
	enum hqio_memtype device_type;
	bool matches_guest_intent; /* device_type == guest_intended */
	/* The device reads what the guest wrote: matches_guest_intent, or all DMA
	 * of the VM is snooped (no non-coherent DMA), or both types are uncached
	 * for the CPU's writes (UC/UC-/WC vs UC/UC-/WC: writes never linger in a
	 * write-back cache; WC needs the guest's fence either way). */
	bool coherent;
	const char *reason; /* one sentence, static */
};

/* Defaults: guest types WB, RAM, no non-coherent DMA, CD clear, quirk on. */
void hqio_ept_input_init(struct hqio_ept_input *in);
int hqio_ept_kvm61(const struct hqio_ept_input *in, struct hqio_vm_memtype_result *out);

/* ------------------------------------------------------------------- NPT */

/* Architecture (AMD APM vol. 2 §15.25.8 "Combining Memory Types, MTRRs"):
 * the guest PAT type (guest PTE bits through the VMCB's G_PAT) and the nested
 * PAT type (nested PTE bits through the host PAT) combine per the APM's
 * "Combining Guest and Host PAT Types" table; the result combines with the
 * host MTRR type of the system-physical address (the guest MTRRs are not
 * used by the hardware). There is no ignore-PAT bit. The APM's table has two
 * types of its own: CD (uncacheable for misses, cache hits still served; from
 * mismatched cacheable types and from UC- over WB) is reported as UC, and WC+
 * (write-combining that also probes caches; guest WC over nested WB) as WC.
 * Rules modelled (symmetric): UC with anything -> UC; equal types -> that
 * type; WB with X -> X except WB/UC- -> CD and WB/WC -> WC+; WC/UC- -> WC;
 * any other mix (WC/WT, WC/WP, WT/WP, UC-/WT, UC-/WP) -> CD. -EINVAL for an
 * invalid type. */
int hqio_npt_combine_pat(enum hqio_memtype guest_pat, enum hqio_memtype nested_pat,
			 enum hqio_memtype *out);
int hqio_npt_effective(enum hqio_memtype guest_pat, enum hqio_memtype nested_pat,
		       enum hqio_memtype host_mtrr, enum hqio_memtype *out);

/* KVM 6.1's SVM policy: nested PTEs carry PAT index nested_pat_index (0:
 * host PAT entry 0, WB in the power-on, Linux and Xen PATs); the guest PAT
 * applies; the guest MTRRs are ignored; non-coherent DMA changes nothing.
 * Guest CR0.CD reaches the hardware only with KVM_X86_QUIRK_CD_NW_CLEARED
 * disabled (svm_set_cr0 clears CD/NW otherwise), giving UC. */
struct hqio_npt_input {
	enum hqio_memtype guest_mtrr; /* guest's intent only: ignored by the hardware */
	enum hqio_memtype guest_pat;  /* guest PAT type of the guest's mapping */
	enum hqio_memtype host_mtrr;  /* host MTRR type of the system-physical page */
	uint64_t host_pat;	      /* host IA32_PAT (default HQIO_PAT_LINUX) */
	unsigned nested_pat_index;    /* 0 for KVM 6.1 */
	bool is_mmio;		      /* informational: KVM 6.1 does not distinguish */
	bool noncoherent_dma;	      /* as for EPT; only affects `coherent` */
	bool guest_cd;
	bool quirk_cd_nw_cleared; /* KVM_X86_QUIRK_CD_NW_CLEARED enabled (default) */
};

/* Defaults: guest types WB, host MTRR WB, host PAT Linux, index 0, RAM, no
 * non-coherent DMA, CD clear, quirk on. */
void hqio_npt_input_init(struct hqio_npt_input *in);
int hqio_npt_kvm61(const struct hqio_npt_input *in, struct hqio_vm_memtype_result *out);

#endif /* HQIO_MEMTYPE_H */
