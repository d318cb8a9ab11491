/*
 * lib/vpci: the guest's view of an assigned PCI function's configuration
 * space. Table-driven, per bit: for every header field and capability a
 * row says which bits are emulated (a virtual value), which the guest may
 * write, and which pass through to the device; one generic engine applies
 * the rows, and adding a capability is adding a row. Sensitive resources
 * (IDs, BARs, ROM, header type, interrupt line/pin, capability pointers,
 * Command decode and Bus Master, MSI and MSI-X, PM control, PCIe Device
 * Control's FLR and policy fields, AF control) are emulated; bytes outside
 * any known structure pass through.
 */
#ifndef HQIO_VPCI_H
#define HQIO_VPCI_H

#include <stdbool.h>
#include <stdint.h>

#include "hqio/dvh.h"
#include "hqio/error.h"
#include "hqio/host_ops.h"
#include "hqio/irq.h"
#include "hqio/pci.h"
#include "hqio/reset.h"

/* Special behaviour of a row after the generic masked write. */
enum hqio_vpci_kind {
	HQIO_VF_PLAIN = 0,
	HQIO_VF_BAR,        /* guest BAR: sizing semantics, guest address */
	HQIO_VF_ROM,
	HQIO_VF_COMMAND,    /* decode/Bus Master virtual, applied as the host allows */
	HQIO_VF_MSI,        /* forwards to lib/irq */
	HQIO_VF_MSIX,
	HQIO_VF_PM_CTRL,    /* guest D-states; restore on D3hot->D0 without No_Soft_Reset */
	HQIO_VF_DEVCTL,     /* Initiate FLR -> guest FLR; MPS/MRRS/No Snoop policy */
	HQIO_VF_AF_CTRL,    /* AF FLR -> guest FLR */
};

/* One row: a register (or part) of the header or of a capability. */
struct hqio_vpci_field {
	uint16_t off;        /* absolute offset in configuration space */
	uint8_t size;        /* 1, 2 or 4 */
	uint32_t virt;       /* bits read from the virtual value */
	uint32_t guest_wr;   /* bits the guest may change (virtual or passed through) */
	uint32_t w1c;        /* write-1-to-clear bits among them */
	enum hqio_vpci_kind kind;
};

#define HQIO_VPCI_MAX_FIELDS 256

/* Multi-function policy: drivers derive identity from the function number,
 * so the choice is explicit. */
enum hqio_vpci_mf_policy {
	HQIO_VPCI_MF_WHOLE = 0,  /* all functions assigned, function numbers kept */
	HQIO_VPCI_MF_SINGLE,     /* exposed as a single-function device at function 0 */
};

/* Policies for PCIe Device Control (documented in docs/vpci.md). */
struct hqio_vpci_policy {
	bool pass_no_snoop;      /* guest's Enable No Snoop reaches hardware */
	bool pass_mrrs;          /* guest's Max Read Request Size reaches hardware */
	/* Max Payload Size always keeps the fabric's value (the guest sees it
	 * read-only): a larger MPS than the path supports corrupts traffic. */
};

struct hqio_vpci_config {
	const struct hqio_host_ops *ops;
	struct hqio_bdf host_bdf;
	struct hqio_bdf guest_bdf;            /* where the guest sees it */
	enum hqio_vpci_mf_policy mf;
	struct hqio_vpci_policy policy;
	bool allow_bus_master;                /* host lets the guest's Bus Master through */
	struct hqio_irq *irq;                 /* the device's interrupt virtualization */
	const struct hqio_reset_plan *plan;   /* for guest FLR (may be NULL: FLR refused) */
	uint16_t vf_vendor, vf_device;        /* SR-IOV VF: IDs from the PF (0 = not a VF) */
	/* The monitor is told when the guest moves or (de)activates a BAR, so
	 * it can remap the NSDR pages; NULL when not needed. */
	void (*bar_changed)(void *arg, unsigned bar, uint64_t guest_addr, bool decode_on);
	void *bar_arg;
	/* Back doors (lib/dvh): the quirk table to match the function against
	 * (NULL: the built-in one); dvh_off leaves back doors open (a negative
	 * control: the guest then reaches the hardware through them). */
	const struct hqio_dvh_table *dvh_table;
	bool dvh_off;
	/* Told once per quirk, at the first redirected access (lib has no
	 * I/O); NULL: not logged. */
	void (*dvh_log)(void *arg, const char *msg);
	void *dvh_arg;
};

struct hqio_vpci_stats {
	uint64_t reads, writes;
	uint64_t passed_through;   /* bytes that went to hardware */
	uint64_t filtered;         /* guest bits kept from hardware */
	uint64_t guest_flrs, guest_pm_resets;
	uint64_t bar_blocked;      /* guest BAR accesses refused during a guest FLR */
	uint64_t dvh_redirected;   /* back-door accesses emulated (all back doors) */
};

/* Run-time state of one back door of the matched quirk. */
struct hqio_vpci_dvh {
	uint64_t hits;    /* redirected accesses */
	uint32_t index;   /* INDEX*: the guest's index register */
	uint32_t latch;   /* INDEX_LATCH: the guest's last data write */
	bool selected;    /* INDEX*: the index points into the target */
};

struct hqio_vpci {
	struct hqio_vpci_config cfg;
	struct hqio_pci_info *info;           /* the physical function, decoded (heap) */
	uint8_t vcfg[HQIO_PCI_CFG_EXP_SIZE];  /* virtual values */
	uint8_t hidden[HQIO_PCI_CFG_EXP_SIZE];/* bytes of hidden capabilities (read as 0) */
	struct hqio_vpci_field fields[HQIO_VPCI_MAX_FIELDS];
	unsigned n_fields;
	uint64_t bar_size[7];                 /* from sizing the hardware at init */
	uint32_t host_bar[7];                 /* host BAR registers saved at init */
	bool in_flr;                          /* guest BAR access blocked */
	struct hqio_vpci_stats stats;
	const struct hqio_dvh_quirk *quirk;   /* matched at init (NULL: none, or dvh_off) */
	struct hqio_vpci_dvh dvh[HQIO_DVH_MAX_BD];
	bool dvh_logged;
};

/* Build the virtual space: decode the function through ops, size its BARs
 * (host values restored), build the rows, hide unsafe/unsupported
 * capabilities. */
int hqio_vpci_init(struct hqio_vpci *v, const struct hqio_vpci_config *cfg,
		   struct hqio_error *err);
void hqio_vpci_fini(struct hqio_vpci *v);

/* Guest configuration access (1, 2, 4 bytes, naturally aligned). Bad
 * sizes/offsets are refused with -EINVAL; nothing a guest writes can make
 * a sensitive bit reach hardware unfiltered. */
int hqio_vpci_read(struct hqio_vpci *v, uint16_t off, unsigned size, uint32_t *val);
int hqio_vpci_write(struct hqio_vpci *v, uint16_t off, unsigned size, uint32_t val);

/* Guest BAR access (trapped pages: MSI-X table/PBA, back doors; the rest
 * would be mapped directly by a monitor). Blocked during a guest FLR. */
int hqio_vpci_bar_read(struct hqio_vpci *v, unsigned bar, uint64_t off, unsigned size,
		       uint64_t *val);
int hqio_vpci_bar_write(struct hqio_vpci *v, unsigned bar, uint64_t off, unsigned size,
			uint64_t val);

/* The BAR pages the monitor must trap for the function's back doors (the
 * MSI-X table/PBA pages are lib/irq's). Returns the number of ranges (up
 * to max written) or -EINVAL; page_size: a power of two. */
int hqio_vpci_trapped_ranges(const struct hqio_vpci *v, uint64_t page_size,
			     struct hqio_dvh_range *out, size_t max);

/* The row covering a byte, or NULL when it passes through. */
const struct hqio_vpci_field *hqio_vpci_field_at(const struct hqio_vpci *v, uint16_t off);

/* A struct hqio_host_ops whose config and BAR accesses go through v (so a
 * guest driver written against host_ops runs unchanged on the virtual
 * device); everything else forwards to cfg->ops. */
void hqio_vpci_guest_ops(struct hqio_vpci *v, struct hqio_host_ops *out);

#endif
