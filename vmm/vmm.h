/*
 * hqio's monitor: a KVM virtual machine whose guest drives PCI functions
 * assigned through VFIO (host/vfio.c), with their configuration space
 * served by lib/vpci and their interrupts by lib/irq (docs/monitor.md).
 *
 * Guest physical map: RAM [0, mem) (at most 256 MiB, edu's 28-bit DMA mask),
 * multiboot information at 0x8000, the ECAM window of bus 0 at 0xB0000000
 * (1 MiB, trapped), the guest's BARs wherever it programs them (NSDR pages in
 * memslots, trapped pages as MMIO exits), IOAPIC 0xFEC00000 and LAPIC
 * 0xFEE00000 in the kernel. Ports: 0xCF8/0xCFC configuration, 0xE9 debug
 * output, 0xF4 exit (the value written is the guest's verdict).
 */
#ifndef HQIO_VMM_H
#define HQIO_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hqio/dvh.h"
#include "hqio/error.h"
#include "hqio/pci.h"

#define HQIO_VMM_MAX_ASSIGN   4
#define HQIO_VMM_MEM_DEFAULT  (64ull << 20)
#define HQIO_VMM_MEM_MIN      (2ull << 20)
#define HQIO_VMM_MEM_MAX      (256ull << 20) /* edu's DMA mask is 28 bits (edu.rst) */
#define HQIO_VMM_DEBUG_PORT   0xE9
#define HQIO_VMM_EXIT_PORT    0xF4
#define HQIO_VMM_TRACE_PORT   0xE8 /* guest trace=1: 0 before a raise, 1 at handler entry */
#define HQIO_VMM_GUEST_PASS   0x10 /* value the test guest writes when all passed */
/* The INTx lines of the assigned functions, in --assign order (IOAPIC pin
 * = GSI; < 16: also the PIC): the ISA IRQs PC firmware hands to PCI (PIIX/
 * ICH PIRQ routing, QEMU's q35/piix use 5, 9, 10, 11); the monitor emulates
 * no ISA device that would own them. */
#define HQIO_VMM_INTX_GSIS    { 10, 11, 5, 9 }
#define HQIO_VMM_MSI_GSI_BASE 24 /* MSI routes above the IOAPIC's 24 pins (testbed.md) */
#define HQIO_VMM_MSI_GSI_STEP 32 /* function i's routes at BASE + i * STEP */

enum hqio_vmm_irq { HQIO_VMM_IRQ_MSI = 0, HQIO_VMM_IRQ_INTX };

struct hqio_vmm_config {
	struct hqio_bdf assign[HQIO_VMM_MAX_ASSIGN];
	unsigned n_assign;
	const uint8_t *guest; /* the multiboot ELF image */
	size_t guest_len;
	uint64_t mem_bytes;
	enum hqio_vmm_irq irq;	    /* told to the guest (irq=...) */
	const char *cmdline;	    /* extra guest command line words (may be NULL) */
	uint64_t timeout_ms;	    /* wall-clock limit of the guest */
	FILE *console;		    /* guest debug-port output (NULL: discarded) */
	const char *kvm_dev;	    /* NULL: /dev/kvm */
	const char *sys, *dev_vfio; /* NULL: /sys, /dev/vfio */
	const char *state_dir;	    /* quarantine records (host/quarantine.h; NULL: default) */
	bool no_reset;		    /* skip the resets at assignment and reclaim */
	/* Experiments and negative controls of assignment/reclaim: */
	const char *reset_method; /* try only this lib/reset method ("bus", "pm", ...),
				     usable or not (NULL: the plan's order) */
	bool fault_canary;	  /* at reclaim, also arm a device canary in a register
				     the reset is known not to clear (edu only) */
	bool trap_bars;		  /* no BAR memslots: every BAR access exits */
	bool msi_hop;		  /* every interrupt through the user-space hop (no
				     irqfd from VFIO to KVM: MSI, MSI-X, host INTx) */
	bool host_intx;		  /* the host uses the functions' INTx although they
				     have MSI (lib/irq host_intx_only; guest INTx only) */
	bool pin;		  /* vCPU thread on CPU 0, helper threads on CPU 1 */
	bool eoi_first;		  /* INTx: take an EOI KVM already signaled before a new host MSI */
	unsigned storm_max;	  /* lib/irq storm guard: host interrupts per 10 ms (0: default) */
	/* Configuration-space mirrors to close on every assigned function
	 * (a back door found e.g. by `hqio dvh-scan`): each becomes a lib/dvh
	 * MIRROR entry of the function's own quirk, which then replaces the
	 * built-in table's for it; its pages are trapped and redirected. */
	struct hqio_dvh_backdoor mirror[HQIO_DVH_MAX_BD];
	unsigned n_mirror;
};

/* Exit reasons the monitor sees (in-kernel exits are in KVM's debugfs). */
struct hqio_vmm_exits {
	uint64_t io, mmio, intr, other;
	uint64_t io_debug, io_exit, io_cfg, io_bar, io_unclaimed;
	uint64_t mmio_ecam, mmio_bar, mmio_unclaimed;
};

/* One assigned function. */
struct hqio_vmm_dev_stats {
	struct hqio_bdf host_bdf;
	uint16_t guest_bdf; /* bus << 8 | dev << 3 | fn */
	unsigned intx_gsi;
	const char *host_irq; /* "msi-x", "msi", "intx", "none" */
	uint64_t cfg;	      /* configuration accesses (lib/vpci) */
	uint64_t mmio_trapped;
	uint64_t msix_trapped; /* of those, in the MSI-X table/PBA pages (lib/irq) */
	uint64_t io_trapped;   /* port accesses to its I/O BARs (forwarded) */
	const char *quirk;     /* the lib/dvh quirk matched (NULL: none) */
	uint64_t backdoor_redirected; /* back-door accesses emulated (lib/vpci) */
	uint64_t host_irqs, delivered, latched, reasserted, eois, coalesced, spurious;
	uint64_t msi_signaled; /* KVM_SIGNAL_MSI calls (the user-space hop) */
	/* Interrupts from VFIO straight into KVM (irqfd, no user-space hop):
	 * guest MSI/MSI-X on host MSI/MSI-X vectors, or the guest's INTx on
	 * the host's INTx with KVM's resample eventfd as VFIO's unmask. */
	bool fast_path;		 /* set up (else every interrupt takes the hop) */
	char fast_path_msg[160]; /* why not, or how */
	uint64_t fast_attaches;	 /* irqfds attached (per vector, or the INTx line) */
	uint64_t fast_fallback;	 /* host interrupts the event thread handed to lib/irq */
	uint64_t fast_reswaps;	 /* triggers pointed back at the fast path after a hold */
	uint64_t storm_throttled; /* lib/irq storm-guard holds and held interrupts */
	bool intx_direct;	 /* host INTx -> KVM resample irqfd -> VFIO unmask */
	bool kvm_vfio_group;	 /* KVM_DEV_VFIO_GROUP_ADD done */
	long long host_vfio_irqs; /* /proc/interrupts vfio-* lines of the function, delta */
	uint64_t bar_slots;	  /* memslots mapping NSDR BAR pages (most at once) */
	uint64_t bar_trapped_bytes;
	uint64_t dma_faults; /* DMAR/AMD-Vi fault lines for the function in the kernel log */
	uint64_t dma_fault_addr;
	char reset_plan[96];
	bool assign_verified;
	char assign_msg[HQIO_ERROR_MSG_MAX];
	bool reset_done;
	char reset_used[16];
	char reset_msg[HQIO_ERROR_MSG_MAX];
	bool quarantined;
	bool was_quarantined;  /* a record from an earlier run existed */
	bool quarantine_lifted; /* ... and this run's verified reclaim removed it */
	bool host_bars_unchanged;
	uint32_t host_bar0_before, host_bar0_after;
	uint32_t guest_bar0;
	unsigned intx_samples;
	uint32_t intx_assert_to_eoi_p10_us, intx_assert_to_eoi_p50_us, intx_assert_to_eoi_p90_us;
};

/* The run. Interrupt, BAR, DMA and reset fields are summed over the
 * functions (booleans: all of them; quarantined: any; messages, BAR
 * values and the INTx breakdown: the first function, or the first that
 * failed); dev[] has each function's own. */
struct hqio_vmm_stats {
	struct hqio_vmm_exits exits;
	uint64_t cfg_cf8, cfg_ecam; /* configuration accesses that reached a function */
	uint64_t cfg_dev;	    /* of those, to assigned functions (lib/vpci) */
	uint64_t host_irqs, delivered, latched, reasserted, eois, coalesced, spurious;
	uint64_t msi_signaled; /* KVM_SIGNAL_MSI calls (the user-space hop) */
	/* INTx cost breakdown: from the monitor asserting the line (irqfd
	 * write) to seeing the guest's EOI (resample eventfd), in us; this
	 * covers KVM's injection, the vCPU's wake-up and the guest handler.
	 * The rest of a round trip is the device's MSI reaching the monitor. */
	unsigned intx_samples;
	uint32_t intx_assert_to_eoi_p10_us, intx_assert_to_eoi_p50_us, intx_assert_to_eoi_p90_us;
	/* With the guest's trace=1 (a port write before each raise and at
	 * handler entry; the writes are exits themselves): the INTx round
	 * trip of the first function split on the host clock, p50 in us. */
	struct hqio_vmm_intx_step {
		const char *name;
		unsigned n;
		uint32_t p10_us, p50_us, p90_us;
	} intx_steps[4];
	bool fast_path;
	char fast_path_msg[160];
	uint64_t fast_attaches;
	uint64_t fast_fallback;
	bool kvm_vfio_group;
	long long host_vfio_irqs;
	uint64_t bar_slots;
	uint64_t bar_trapped_bytes;
	uint64_t dma_faults;
	uint64_t dma_fault_addr;
	int guest_exit; /* value written to the exit port, -1 none */
	unsigned guest_pass, guest_fail;
	bool timed_out;
	uint64_t wall_ns;
	/* Assignment and reclaim through lib/reset (plan, quiesce, reset,
	 * verify; hqio_reclaim's order at the end, guest RAM released from
	 * the container only when every function verified). */
	char reset_plan[96];
	bool assign_verified;
	char assign_msg[HQIO_ERROR_MSG_MAX];
	bool reset_done;
	char reset_used[16];
	char reset_msg[HQIO_ERROR_MSG_MAX];
	bool memory_released; /* guest RAM unmapped from the IOMMU domain */
	bool quarantined;     /* a function without a verified reset stays with
				 vfio-pci, not to be handed back (hqio/reset.h) */
	bool host_bars_unchanged;
	uint32_t host_bar0_before, host_bar0_after;
	uint32_t guest_bar0;
	/* What KVM does with the guest's memory types (lib/memtype's model of
	 * KVM 6.1 for this host's vendor: EPT on Intel, NPT on AMD). */
	struct hqio_vmm_memtype {
		const char *model; /* "ept", "npt" or NULL (unknown vendor) */
		const char *ram_guest, *ram_effective, *bar_guest, *bar_effective;
		bool ram_coherent, bar_coherent;
		const char *ram_reason, *bar_reason;
		bool noncoherent_dma; /* the input: KVM sees non-coherent DMA */
		const char *dma_source; /* how that was found */
	} memtype;
	/* KVM's in-kernel counts (-1: unavailable): the vCPU's binary
	 * statistics, else debugfs's machine-wide totals sampled while the VM
	 * existed; kvm_stats_source says which. */
	long long kvm_exits, kvm_io_exits, kvm_mmio_exits, kvm_halt_exits, kvm_irq_injections;
	const char *kvm_stats_source;
	unsigned n_dev;
	struct hqio_vmm_dev_stats dev[HQIO_VMM_MAX_ASSIGN];
};

/* Run the guest to its exit (or the timeout); stats are filled as far as
 * the run got. Returns 0 when the guest ran and exited, -errno with a
 * sentence otherwise (KVM unusable, device not assignable, ...). */
int hqio_vmm_run(const struct hqio_vmm_config *cfg, struct hqio_vmm_stats *stats,
		 struct hqio_error *err);

/* Check that KVM can run this monitor: /dev/kvm opens, the API version is
 * 12, the in-kernel irqchip, irqfd with resample and KVM_SIGNAL_MSI exist,
 * and a vCPU in 32-bit protected mode takes a port exit. */
int hqio_vmm_probe_kvm(const char *kvm_dev, struct hqio_error *err);

/* The test guest built into hqio (NULL, 0 when it was not built). */
const uint8_t *hqio_vmm_builtin_guest(size_t *len);

#endif
