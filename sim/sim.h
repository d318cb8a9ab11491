/*
 * The simulated PCIe platform: a host bridge with chipset registers, root
 * ports, a switch, a PCIe-to-PCI bridge, device functions with bit-exact
 * configuration semantics, readiness after resets, interrupts (MSI, MSI-X,
 * INTx through an IOAPIC), host memory with page ownership, an IOMMU with
 * per-domain page tables keyed by requester ID, and ATS. Everything runs
 * in virtual time on sim/engine.
 *
 * Module map (one mechanism per file):
 *   engine.c   event queue, virtual time, deterministic randomness
 *   platform.c topology, bus numbering, config routing, readiness (CRS),
 *              configuration write semantics, FLR, PM, secondary bus reset
 *   irq.c      MSI, MSI-X (table/PBA in a BAR), INTx, IOAPIC
 *   memory.c   host memory with per-page owner
 *   iommu.c    domains, requester-ID context, page tables, faults
 *   dma.c      per-function DMA issue, Bus Master gating, Transactions
 *              Pending, ATS translation cache
 *   devices/   the device catalogue and its faulty variants
 *   guest.c    a scriptable guest driver
 *   host_ops.c struct hqio_host_ops for the simulator
 *   snapshot.c the machine as hqio inspect sees it
 */
#ifndef HQIO_SIM_H
#define HQIO_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "hqio/cfgbuild.h"
#include "hqio/host_ops.h"
#include "hqio/pci.h"

struct sim_platform;
struct sim_fn;

/* ------------------------------------------------------------------ */
/* Timing constants (each from the specification that sets it)          */
/* ------------------------------------------------------------------ */

#define SIM_T_RESET_READY_NS (100 * SIM_NS_PER_MS) /* PCIe 5.0 §6.6.1: 100 ms after reset */
#define SIM_T_FLR_READY_NS   (100 * SIM_NS_PER_MS) /* PCIe 5.0 §6.6.2: FLR completes in 100 ms */
#define SIM_T_RST_MIN_NS     (1 * SIM_NS_PER_MS)   /* PCI LB 3.0 §4.3.2: Trst >= 1 ms */
#define SIM_T_RHFA_NS	     (1 * SIM_NS_PER_S)	   /* PCI LB 3.0 §4.3.2 / 2^25 clocks: Trhfa */
#define SIM_T_D3HOT_D0_NS    (10 * SIM_NS_PER_MS)  /* PCI PM 1.2 §5.6.1: D3hot->D0 10 ms */
#define SIM_T_LINK_TRAIN_NS  (20 * SIM_NS_PER_MS)  /* PCIe 5.0 §6.6.1: DLL Link Active <= 100 ms */

/* ------------------------------------------------------------------ */
/* Faulty behaviour, per function (bit flags)                           */
/* ------------------------------------------------------------------ */

enum sim_fault {
	SIM_FAULT_FLR_NEVER_COMPLETES = 1u << 0, /* stays not-ready forever after FLR */
	SIM_FAULT_PM_NO_RESET = 1u << 1,   /* NoSoftRst- advertised, D3hot->D0 resets nothing */
	SIM_FAULT_DMA_SURVIVES = 1u << 2,  /* queued DMA survives BME off and reset (edu) */
	SIM_FAULT_DMA_WAITS_BME = 1u << 3, /* queued DMA waits for BME and then fires */
	SIM_FAULT_IRQ_STORM = 1u << 4,	   /* raises its interrupt continuously */
};

/* ------------------------------------------------------------------ */
/* Device model hooks                                                   */
/* ------------------------------------------------------------------ */

struct sim_fn_ops {
	const char *kind; /* short model name, e.g. "nic", "nvme" */
	/* Device-internal state back to power-on (FLR, PM reset, bus reset, cold). */
	void (*reset)(struct sim_fn *f);
	/* BAR accesses not claimed by the platform (MSI-X table/PBA are). */
	uint64_t (*mmio_read)(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size);
	void (*mmio_write)(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			   uint64_t val);
	/* After the generic configuration write semantics ran. */
	void (*cfg_written)(struct sim_fn *f, uint16_t off, unsigned size, uint32_t old_val,
			    uint32_t new_val);
	void (*destroy)(struct sim_fn *f);
};

/* ------------------------------------------------------------------ */
/* Interrupt state (irq.c)                                              */
/* ------------------------------------------------------------------ */

#define SIM_MSI_MAX_VECTORS  32
#define SIM_MSIX_MAX_VECTORS 2048

struct sim_irq_state {
	bool intx_level;      /* the function's internal INTx request */
	bool intx_asserted;   /* what it drives on its pin (after INTx Disable) */
	uint32_t msi_pending; /* MSI pending bits kept when masked */
	uint8_t *msix_table;  /* table_size * 16 bytes, in the table BAR */
	uint64_t *msix_pba;   /* pending bits */
	uint16_t msix_size;
	uint64_t delivered; /* messages and INTx assertions delivered */
	uint64_t held;	    /* events kept pending because masked */
	uint64_t dropped;   /* events with no interrupt mode enabled */
};

/* ------------------------------------------------------------------ */
/* DMA state (dma.c)                                                    */
/* ------------------------------------------------------------------ */

#define SIM_ATS_ENTRIES 64

struct sim_ats_entry {
	bool valid;
	uint64_t iova_page;
	uint64_t hpa_page;
	unsigned prot;
};

struct sim_dma_state {
	uint32_t outstanding; /* requests in flight: Transactions Pending */
	uint64_t issued, blocked_bme, faults, foreign_writes;
	struct sim_ats_entry ats[SIM_ATS_ENTRIES];
	uint64_t ats_hits;
};

/* ------------------------------------------------------------------ */
/* A PCI function                                                       */
/* ------------------------------------------------------------------ */

#define SIM_MAX_CHILDREN 64

struct sim_fn {
	struct sim_platform *plat;
	struct sim_fn *parent;			   /* upstream bridge; NULL on the root bus */
	struct sim_fn *children[SIM_MAX_CHILDREN]; /* bridges: functions on the secondary bus */
	unsigned n_children;
	uint8_t dev, fn; /* position on its bus */
	char name[32];
	const struct sim_fn_ops *ops;
	void *priv;
	unsigned faults; /* enum sim_fault bits */

	/* Configuration space: current value, power-on value, and per-bit
	 * write behaviour (wmask: read-write; w1c: write-1-to-clear; all other
	 * bits are read-only). */
	struct hqio_cfgb b; /* b.cfg is the live space */
	uint8_t init[HQIO_PCI_CFG_EXP_SIZE];
	uint8_t wmask[HQIO_PCI_CFG_EXP_SIZE];
	uint8_t w1c[HQIO_PCI_CFG_EXP_SIZE];
	size_t cfg_size;      /* 256 (conventional) or 4096 (PCIe) */
	uint64_t bar_size[7]; /* 0-5, 6 = expansion ROM; 0 = unimplemented */

	/* Capability offsets (0 = absent), found by sim_fn_finalize(). */
	uint16_t pm, msi, msix, exp, af, acs, sriov, ats;

	/* Readiness and reset. */
	uint64_t ready_at_ns; /* configuration requests fail before this */
	bool never_ready;     /* SIM_FAULT_FLR_NEVER_COMPLETES fired */
	bool in_reset;	      /* held in reset by an upstream bus reset */
	uint64_t resets;      /* times the function was actually reset */
	/* Bridges only. */
	bool sbr_asserted;
	uint64_t sbr_asserted_at_ns;
	bool conventional_secondary; /* the secondary bus is conventional PCI (Trhfa) */

	struct sim_irq_state irq;
	struct sim_dma_state dma;
};

/* ------------------------------------------------------------------ */
/* The platform                                                         */
/* ------------------------------------------------------------------ */

#define SIM_MAX_FNS	256
#define SIM_IOAPIC_PINS 24
#define SIM_PAGE_SIZE	4096ULL

struct sim_ioapic_pin {
	bool masked;
	bool level_triggered;
	uint8_t vector;
	bool remote_irr;   /* level: delivered, waiting for EOI */
	unsigned asserted; /* number of functions driving the pin */
	uint64_t delivered;
};

/* A message the platform's interrupt controller received. */
struct sim_msi_msg {
	uint64_t addr;
	uint32_t data;
	struct hqio_bdf source;
	uint64_t when_ns;
};

struct sim_fault_rec {
	uint16_t rid;
	uint64_t iova;
	bool write;
	uint64_t when_ns;
	const char *why;
};

#define SIM_FAULT_LOG 64
#define SIM_MSI_LOG   64

struct sim_domain {
	bool used;
	/* A small open-addressed map: IOVA page -> host page and permissions. */
	uint64_t *iova_page, *hpa_page;
	uint8_t *prot;
	size_t cap, n;
};

#define SIM_MAX_DOMAINS 64

/* Interrupt routing of the host-ops layer: host MSI data value -> handler. */
struct sim_host_vector {
	bool used;
	struct hqio_bdf bdf;
	enum hqio_irq_type type;
	unsigned vector;
	hqio_irq_fn fn;
	void *arg;
};
#define SIM_HOST_VECTORS 512

struct sim_platform {
	struct sim_engine eng;
	struct sim_fn *fns[SIM_MAX_FNS];
	size_t n_fns;
	struct sim_fn *host_bridge;

	/* Host memory with an owner per page (-1: the host itself). */
	uint8_t *mem;
	int16_t *owner;
	uint64_t mem_size, mem_next;

	/* IOMMU: requester ID -> domain (-1 none), domains, fault log. */
	int16_t rid_domain[65536];
	struct sim_domain domains[SIM_MAX_DOMAINS];
	struct sim_fault_rec faults[SIM_FAULT_LOG];
	uint64_t n_faults;
	bool iommu_enabled;

	/* Interrupts. */
	struct sim_ioapic_pin ioapic[SIM_IOAPIC_PINS];
	struct sim_msi_msg msi_log[SIM_MSI_LOG];
	uint64_t n_msi;
	/* Where MSI writes go (default: the host-ops vector table). */
	void (*msi_sink)(void *arg, const struct sim_msi_msg *m);
	void *msi_arg;
	/* Where IOAPIC deliveries go (vector). */
	void (*ioapic_sink)(void *arg, unsigned pin, uint8_t vector);
	void *ioapic_arg;

	struct sim_host_vector host_vectors[SIM_HOST_VECTORS];

	/* Every DMA write that reaches host memory (tests and experiments
	 * classify where each one lands). */
	void (*dma_observer)(void *arg, struct sim_fn *f, uint64_t hpa, const void *buf,
			     uint64_t len);
	void *dma_observer_arg;

	/* Spec violations software committed (checked by tests of lib/reset). */
	uint64_t trst_violations;
	uint64_t writes_while_not_ready;
};

/* Create an empty platform with a host bridge at 00:00.0 and mem_bytes of
 * host memory; returns NULL on ENOMEM. */
struct sim_platform *sim_platform_new(uint64_t seed, uint64_t mem_bytes);
void sim_platform_free(struct sim_platform *p);

/* ---- building ---------------------------------------------------- */

/* A new function on the secondary bus of parent (NULL: root bus). Its
 * configuration space is empty: use b (hqio_cfgb_*) and the sim_add_*
 * helpers, then sim_fn_finalize(). cfg_size 256 or 4096. */
struct sim_fn *sim_fn_new(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			  size_t cfg_size, const char *name, const struct sim_fn_ops *ops,
			  void *priv);
/* Header: IDs, class, header type (with MFD bit), interrupt pin. */
void sim_fn_header(struct sim_fn *f, uint16_t vendor, uint16_t device, uint32_t class_code,
		   uint8_t header_type, uint8_t int_pin);
/* BAR i of size bytes (power of two); flags HQIO_PCI_BASE_ADDRESS_* bits
 * (SPACE_IO, MEM_TYPE_64, MEM_PREFETCH). A 64-bit BAR uses i and i+1. */
void sim_fn_bar(struct sim_fn *f, unsigned i, uint64_t size, uint32_t flags);
/* Mark bits read-write / write-1-to-clear. */
void sim_fn_rw(struct sim_fn *f, uint16_t off, unsigned size, uint32_t mask);
void sim_fn_w1c(struct sim_fn *f, uint16_t off, unsigned size, uint32_t mask);
/* Standard capabilities with their architected write masks. */
uint16_t sim_add_pm(struct sim_fn *f, uint16_t off, bool no_soft_reset);
uint16_t sim_add_msi(struct sim_fn *f, uint16_t off, unsigned vectors_log2, bool addr64,
		     bool per_vector_mask);
uint16_t sim_add_msix(struct sim_fn *f, uint16_t off, unsigned entries, unsigned bir,
		      uint32_t table_off, uint32_t pba_off);
uint16_t sim_add_exp(struct sim_fn *f, uint16_t off, uint8_t port_type, bool flr,
		     uint8_t link_speed, uint8_t link_width);
uint16_t sim_add_af(struct sim_fn *f, uint16_t off, bool tp, bool flr);
uint16_t sim_add_ext_acs(struct sim_fn *f, uint16_t off);
uint16_t sim_add_ext_ats(struct sim_fn *f, uint16_t off);
uint16_t sim_add_ext_sriov(struct sim_fn *f, uint16_t off, uint16_t total_vfs, uint16_t vf_offset,
			   uint16_t vf_stride, uint16_t vf_device);
/* Snapshot the power-on state and locate capabilities. */
void sim_fn_finalize(struct sim_fn *f);

/* Bridges and topology. */
struct sim_fn *sim_add_root_port(struct sim_platform *p, uint8_t dev, uint8_t fn,
				 uint8_t link_speed);
/* Upstream port below parent, with n_down downstream ports (devices 0..n-1). */
struct sim_fn *sim_add_switch(struct sim_platform *p, struct sim_fn *parent, unsigned n_down,
			      struct sim_fn **down);
struct sim_fn *sim_add_pcie_to_pci_bridge(struct sim_platform *p, struct sim_fn *parent);
/* Number the buses depth-first, as firmware does. */
void sim_enumerate(struct sim_platform *p);

/* ---- addressing ---------------------------------------------------- */

struct hqio_bdf sim_fn_bdf(const struct sim_fn *f);
/* The function a configuration request reaches now (bridge registers,
 * resets and links considered); NULL for none. */
struct sim_fn *sim_route(struct sim_platform *p, struct hqio_bdf bdf);
struct sim_fn *sim_find(struct sim_platform *p, struct hqio_bdf bdf); /* ignores state */
/* The requester ID the function's DMA and MSI carry: its own, or the
 * secondary-bus alias of a PCIe-to-PCI bridge above it
 * (PCIe-to-PCI/PCI-X Bridge r1.0 §2.3). */
uint16_t sim_requester_id(const struct sim_fn *f);
bool sim_is_bridge(const struct sim_fn *f);

/* ---- accesses ------------------------------------------------------ */

/* Configuration access as a root complex sees it: a function that is not
 * ready returns 0x0001 in the Vendor ID with CRS Software Visibility
 * enabled at its root port, all-ones otherwise (PCIe 5.0 §2.3.1). */
int sim_cfg_read(struct sim_platform *p, struct hqio_bdf bdf, uint16_t off, unsigned size,
		 uint32_t *val);
int sim_cfg_write(struct sim_platform *p, struct hqio_bdf bdf, uint16_t off, unsigned size,
		  uint32_t val);
/* BAR access by BAR index: decode must be enabled, the function in D0 and ready. */
int sim_bar_read(struct sim_platform *p, struct hqio_bdf bdf, unsigned bar, uint64_t off,
		 unsigned size, uint64_t *val);
int sim_bar_write(struct sim_platform *p, struct hqio_bdf bdf, unsigned bar, uint64_t off,
		  unsigned size, uint64_t val);

/* Raw access to a function's own space (device models, no routing). */
uint32_t sim_fn_cfg_get(const struct sim_fn *f, uint16_t off, unsigned size);
void sim_fn_cfg_set(struct sim_fn *f, uint16_t off, unsigned size, uint32_t val);
bool sim_fn_ready(const struct sim_fn *f);
bool sim_fn_bus_master(const struct sim_fn *f);
/* Whether the function can issue memory requests (DMA, MSI) now: Bus
 * Master set, not held in reset, and not in D3hot (PCI PM 1.2 §5.3.1.4). */
bool sim_fn_can_master(const struct sim_fn *f);
bool sim_fn_mem_enabled(const struct sim_fn *f);
uint8_t sim_fn_pm_state(const struct sim_fn *f);

/* Reset a function to power-on state (config and device-internal state). */
void sim_fn_reset(struct sim_fn *f);

/* ---- interrupts (irq.c) -------------------------------------------- */

/* A device event on vector v: delivered by MSI-X, MSI or INTx, whichever
 * is enabled (PCI LB 3.0 §6.8: at most one), held pending when masked. */
void sim_irq_raise(struct sim_fn *f, unsigned vector);
/* The device's INTx request level (level-triggered, stays until cleared). */
void sim_intx_set(struct sim_fn *f, bool level);
/* The IOAPIC pin (GSI) a function's INTx reaches after bridge swizzling. */
unsigned sim_intx_pin(const struct sim_fn *f);
/* End of interrupt for a level-triggered IOAPIC pin. */
void sim_ioapic_eoi(struct sim_platform *p, unsigned pin);
void sim_ioapic_program(struct sim_platform *p, unsigned pin, uint8_t vector, bool level,
			bool masked);
/* Hooks the platform calls. */
void sim_irq_cfg_written(struct sim_fn *f, uint16_t off, unsigned size);
bool sim_irq_bar_access(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size, uint64_t *val,
			bool write);
void sim_irq_reset(struct sim_fn *f);
void sim_irq_free(struct sim_fn *f);

/* ---- host memory, IOMMU, DMA (memory.c, iommu.c, dma.c) ------------- */

/* Allocate npages of host memory owned by owner (-1 host, >= 0 a domain);
 * returns the host-physical address or UINT64_MAX. */
uint64_t sim_mem_alloc(struct sim_platform *p, uint64_t npages, int owner);
void sim_mem_set_owner(struct sim_platform *p, uint64_t hpa, uint64_t len, int owner);
int sim_mem_owner(const struct sim_platform *p, uint64_t hpa);
/* CPU access to host memory (no IOMMU). */
int sim_mem_read(struct sim_platform *p, uint64_t hpa, void *buf, uint64_t len);
int sim_mem_write(struct sim_platform *p, uint64_t hpa, const void *buf, uint64_t len);

int sim_iommu_domain_new(struct sim_platform *p);
void sim_iommu_domain_free(struct sim_platform *p, int domain);
/* Attach a requester ID to a domain (-1 detaches: DMA then faults). */
void sim_iommu_attach(struct sim_platform *p, uint16_t rid, int domain);
int sim_iommu_map(struct sim_platform *p, int domain, uint64_t iova, uint64_t hpa, uint64_t len,
		  unsigned prot);
int sim_iommu_unmap(struct sim_platform *p, int domain, uint64_t iova, uint64_t len);
/* Translate for a requester; 0 or -EFAULT (recording the fault). */
int sim_iommu_translate(struct sim_platform *p, uint16_t rid, uint64_t iova, bool write,
			uint64_t *hpa);

/* A DMA by function f, now: Bus Master gating, ATS or IOMMU translation,
 * faults and foreign-owner writes recorded. Returns 0, -EPERM (Bus Master
 * off), -EFAULT (translation fault). */
int sim_dma_write(struct sim_fn *f, uint64_t iova, const void *buf, uint64_t len);
int sim_dma_read(struct sim_fn *f, uint64_t iova, void *buf, uint64_t len);
/* Outstanding requests (Transactions Pending) that complete later. */
void sim_dma_begin(struct sim_fn *f);
void sim_dma_end(struct sim_fn *f);
/* ATS translation cache of the function. */
void sim_ats_invalidate(struct sim_fn *f, uint64_t iova, uint64_t len);
void sim_dma_reset(struct sim_fn *f);

/* ---- the machine as hqio inspect sees it (snapshot.c) ---------------- */

struct hqio_system;
/* Fill sys (empty) with every reachable function, read as software reads
 * it, with topology and IOMMU groups; decoded. */
int sim_snapshot(struct sim_platform *p, struct hqio_system *sys);

/* ---- host ops ------------------------------------------------------- */

/* struct hqio_host_ops backed by this platform. */
void sim_host_ops(struct sim_platform *p, struct hqio_host_ops *ops);

#endif
