/*
 * lib/irq: interrupt virtualization of one assigned device.
 *
 * The device gets dedicated host vectors (MSI-X, else MSI; INTx only when
 * it has neither) through struct hqio_host_ops. The guest programs a
 * virtual MSI / MSI-X capability (and virtual MSI-X table and PBA, trapped)
 * or uses a virtual INTx line; lib/irq translates between the two:
 *   - guest MSI/MSI-X: a remap table (guest address/data per vector) turns
 *     a host vector into the guest's message; masking and pending bits are
 *     emulated (one pending bit per vector: events coalesce as on hardware);
 *   - guest INTx on an MSI-capable device: a virtual level line asserted
 *     when the host MSI fires and de-asserted at the guest's EOI; MSIs that
 *     arrive while it is asserted are latched and re-assert it at EOI;
 *   - INTx-only devices: the host line is masked (INTx Disable, the VFIO
 *     model, or at the interrupt controller) until the guest's EOI;
 *   - a storm guard bounds the rate of host interrupts a device may cause.
 * Nothing the guest writes reaches the device's MSI registers or table.
 */
#ifndef HQIO_IRQ_H
#define HQIO_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "hqio/error.h"
#include "hqio/host_ops.h"
#include "hqio/pci.h"

#define HQIO_IRQ_MAX_VECTORS 2048

/* How interrupts reach the guest (implemented by the monitor / simulator). */
struct hqio_irq_guest {
	void *arg;
	/* Deliver a guest MSI (address/data as the guest programmed them). */
	void (*inject_msi)(void *arg, uint64_t addr, uint32_t data);
	/* Drive the guest's virtual INTx line (level). */
	void (*set_intx)(void *arg, bool level);
};

enum hqio_irq_guest_mode {
	HQIO_GUEST_IRQ_NONE = 0,
	HQIO_GUEST_IRQ_INTX,
	HQIO_GUEST_IRQ_MSI,
	HQIO_GUEST_IRQ_MSIX,
};

struct hqio_irq_vector {
	uint64_t addr; /* guest message address */
	uint32_t data; /* guest message data */
	bool masked;   /* guest mask (MSI per-vector mask / MSI-X Vector Control) */
	bool pending;  /* guest-visible pending bit */
};

struct hqio_irq_stats {
	uint64_t host_irqs;	   /* host interrupts received */
	uint64_t delivered;	   /* guest interrupts injected */
	uint64_t coalesced;	   /* events merged into a pending bit or a latched line */
	uint64_t latched;	   /* MSIs that arrived while the virtual line was high */
	uint64_t spurious;	   /* guest EOIs / deliveries with no event behind them */
	uint64_t storm_throttled;  /* host interrupts held back by the storm guard */
	uint64_t trapped_accesses; /* guest BAR accesses emulated (MSI-X table/PBA pages) */
	uint64_t trapped_other;	   /* of those, to registers that only share the pages */
};

struct hqio_irq_config {
	const struct hqio_host_ops *ops;
	struct hqio_bdf bdf; /* host address of the function */
	struct hqio_irq_guest guest;
	/* The device's physical capabilities (offsets 0 = absent), from the
	 * decoder. */
	uint16_t msi, msix, pin; /* pin: Interrupt Pin, 0 none */
	unsigned msi_vectors;	 /* Multiple Message Capable, as a count */
	bool msi_64bit, msi_pvm;
	unsigned msix_size;
	uint8_t msix_table_bir, msix_pba_bir;
	uint32_t msix_table_off, msix_pba_off;
	bool intx_disable_supported; /* PCI 2.3 INTx Disable */
	/* INTx-only device without INTx Disable: the monitor asserts that no
	 * other function drives the same host line (it is masked at the
	 * interrupt controller until the guest's EOI); init refuses otherwise. */
	bool intx_line_exclusive;
	/* Use the function's INTx pin on the host although it has MSI/MSI-X
	 * (an experiment: the INTx-only path on a device that has both). The
	 * guest then has INTx only: enabling its MSI/MSI-X is refused. */
	bool host_intx_only;
	uint64_t host_page_size; /* trap granularity (4096) */
	/* Storm guard: at most storm_max host interrupts per storm_window_ns;
	 * beyond that the host vector is masked until the window ends. */
	uint64_t storm_window_ns;
	unsigned storm_max;
};

struct hqio_irq {
	struct hqio_irq_config cfg;
	enum hqio_irq_guest_mode mode;
	enum hqio_irq_type host_type; /* host vectors in use */
	unsigned host_count;
	unsigned guest_count;	 /* vectors the guest enabled */
	bool msix_function_mask; /* guest's MSI-X Function Mask */
	struct hqio_irq_vector vec[HQIO_IRQ_MAX_VECTORS];
	/* Virtual INTx. */
	bool intx_disable; /* guest's Command.INTx Disable */
	bool line;	   /* virtual line level */
	bool line_latched; /* an event arrived while the line was high */
	bool status;	   /* virtual Status.Interrupt Status */
	/* Storm guard. */
	uint64_t window_start_ns;
	unsigned window_count;
	bool throttled;
	struct hqio_irq_stats stats;
};

/* Fill the physical-capability fields of c (msi, msix, pin, vector counts,
 * table/PBA location) from a decoded function. */
void hqio_irq_config_from_info(struct hqio_irq_config *c, const struct hqio_pci_info *info);

int hqio_irq_init(struct hqio_irq *irq, const struct hqio_irq_config *cfg, struct hqio_error *err);
void hqio_irq_fini(struct hqio_irq *irq);

/* The guest's virtual configuration changed (called by lib/vpci). */
int hqio_irq_guest_msi(struct hqio_irq *irq, bool enable, unsigned count, uint64_t addr,
		       uint32_t data, uint32_t mask);
int hqio_irq_guest_msix(struct hqio_irq *irq, bool enable, bool function_mask);
int hqio_irq_guest_intx(struct hqio_irq *irq, bool intx_disable);
/* Guest MSI-X table / PBA access (offset within the BAR). Returns true when
 * the access was in a trapped page and emulated. */
bool hqio_irq_bar_access(struct hqio_irq *irq, unsigned bar, uint64_t off, unsigned size,
			 uint64_t *val, bool write);
/* The guest's EOI for its INTx line. */
void hqio_irq_guest_eoi(struct hqio_irq *irq);

/* Periodic call of the monitor (lib/ has no timers): ends a storm-guard
 * window whose time is up and unmasks the held host vectors. Cheap; call
 * it at least every storm_window_ns / 4. */
void hqio_irq_tick(struct hqio_irq *irq);

/* The host interrupt handler (registered with ops->irq_set). */
void hqio_irq_host_event(void *arg, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector);

#endif
