/*
 * lib/reset: put a device into a known state, prove it got there, and make
 * sure no DMA of its previous owner reaches memory that changes hands.
 *
 *   planner  (lib/reset/plan.c)  - which methods can work, in order, and why
 *                                  the others cannot; the idle check for
 *                                  quiesce; group viability; refusal.
 *   executor (lib/reset/exec.c)  - quiesce, canaries, reset with the spec
 *                                  delays, readiness, verification, fall
 *                                  back to the next method, quarantine.
 *
 * Pure code: everything it does to a device goes through struct
 * hqio_host_ops, time included.
 */
#ifndef HQIO_RESET_H
#define HQIO_RESET_H

#include <stdbool.h>
#include <stdint.h>

#include "hqio/error.h"
#include "hqio/host_ops.h"
#include "hqio/inspect.h"

enum hqio_reset_method {
	HQIO_RM_DEVICE_SPECIFIC = 0, /* a quirk's own reset (hook) */
	HQIO_RM_FLR,		     /* PCIe Function Level Reset */
	HQIO_RM_AF_FLR,		     /* Advanced Features FLR */
	HQIO_RM_PM,		     /* D0 -> D3hot -> D0 */
	HQIO_RM_BUS,		     /* secondary bus reset at the parent bridge */
	HQIO_RM_COUNT,
};
/* "device_specific", "flr", "af_flr", "pm", "bus" (Linux reset_method names). */
const char *hqio_reset_method_name(enum hqio_reset_method m);

/* How quiesce knows the device's DMA is over. */
enum hqio_idle_kind {
	HQIO_IDLE_TP_PCIE = 0, /* PCIe Device Status Transactions Pending */
	HQIO_IDLE_TP_AF,       /* AF Status Transactions Pending */
	HQIO_IDLE_REGISTER,    /* a device register: idle when (reg & mask) == value */
	HQIO_IDLE_WAIT,	       /* wait out a documented worst-case DMA latency */
};
const char *hqio_idle_kind_name(enum hqio_idle_kind k);

/* ---- quirks ------------------------------------------------------- */

#define HQIO_QUIRK_NO_FLR	0x01 /* FLR advertised but broken */
#define HQIO_QUIRK_NO_PM_RESET	0x02 /* D3hot->D0 advertised but resets nothing */
#define HQIO_QUIRK_NO_BUS_RESET 0x04 /* a bus reset hangs or breaks it */
#define HQIO_QUIRK_TP_UNTRUSTED 0x08 /* DMA may be queued without Transactions Pending */
#define HQIO_QUIRK_DEVICE_RESET 0x10 /* has a device-specific reset (hooks.device_reset) */

struct hqio_reset_quirk {
	uint16_t vendor;
	uint16_t device;	  /* 0xffff: every device of the vendor */
	unsigned flags;		  /* HQIO_QUIRK_* */
	enum hqio_idle_kind idle; /* for TP_UNTRUSTED: REGISTER or WAIT */
	uint8_t idle_bar;
	uint32_t idle_off, idle_mask, idle_value;
	uint64_t idle_wait_ns; /* worst-case latency of a queued DMA */
	const char *why;       /* where the knowledge comes from */
};

/* The built-in table (read-only). */
const struct hqio_reset_quirk *hqio_reset_quirk_find(const struct hqio_reset_quirk *extra,
						     size_t n_extra, uint16_t vendor,
						     uint16_t device);

/* ---- planning ----------------------------------------------------- */

#define HQIO_OWNER_HOST 0 /* not assigned: bound to a host driver or to nobody */

struct hqio_plan_input {
	const struct hqio_system *sys;	  /* decoded, with topology */
	const struct hqio_pci_node *node; /* the function to plan for */
	int owner;			  /* the owner it is assigned to / reclaimed from (> 0) */
	/* Owner of any other function; NULL: a function is the same owner
	 * when it is in the node's IOMMU group, another owner otherwise. */
	int (*owner_of)(void *arg, struct hqio_bdf bdf);
	void *owner_arg;
	const struct hqio_reset_quirk *quirks; /* searched before the built-in table */
	size_t n_quirks;
	bool force; /* plan even without a usable method */
};

#define HQIO_PLAN_MAX_AFFECTED 32

struct hqio_method_eval {
	bool usable;
	char reason[160];
};

struct hqio_reset_plan {
	struct hqio_bdf bdf;
	bool vf;	    /* an SR-IOV VF (IDs read 0xffff) */
	unsigned n_methods; /* usable methods, in the order to try */
	enum hqio_reset_method methods[HQIO_RM_COUNT];
	struct hqio_method_eval eval[HQIO_RM_COUNT];
	/* Offsets the executor needs (0 = absent). */
	uint16_t exp, af, pm, msi, msix, ats;
	bool imm_ready; /* Status.Immediate Readiness */
	bool ats_enabled;
	/* Bus reset. */
	struct hqio_bdf parent;
	bool parent_conventional_secondary; /* Trhfa applies */
	uint8_t parent_link_speed;	    /* LnkCap speed code of the parent port */
	unsigned n_affected;
	struct hqio_bdf affected[HQIO_PLAN_MAX_AFFECTED];
	/* Quiesce. */
	enum hqio_idle_kind idle;
	uint8_t idle_bar;
	uint32_t idle_off, idle_mask, idle_value;
	uint64_t idle_wait_ns;
	const struct hqio_reset_quirk *quirk;
	/* Group viability: every function of the IOMMU group must go to the
	 * same owner. */
	bool group_viable;
	unsigned n_group_others;
	struct hqio_bdf group_others[HQIO_PLAN_MAX_AFFECTED];
	/* Refusal (no method, group not viable, host driver bound, ...). */
	bool refused;
	char refusal[240];
};

/* Returns 0 with a plan (check plan->refused), or a negative code when the
 * input itself is unusable (node not decoded). */
int hqio_reset_plan(const struct hqio_plan_input *in, struct hqio_reset_plan *plan,
		    struct hqio_error *err);

/* ---- execution ---------------------------------------------------- */

/* Optional per-device hooks. */
struct hqio_reset_hooks {
	void *arg;
	/* HQIO_RM_DEVICE_SPECIFIC. */
	int (*device_reset)(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf);
	/* Write a canary into a device register the reset must clear, and
	 * later tell whether it was cleared. */
	int (*canary_write)(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf);
	int (*canary_check)(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf,
			    bool *cleared);
};

struct hqio_reset_opts {
	uint64_t tp_timeout_ns;	   /* bounded wait for Transactions Pending (default 100 ms) */
	uint64_t ready_timeout_ns; /* bounded readiness wait (default 2 s) */
	uint64_t sbr_hold_ns;	   /* Secondary Bus Reset assertion (default 2 ms) */
	bool skip_verify;	   /* for experiments only */
};

#define HQIO_RESET_MAX_ATTEMPTS HQIO_RM_COUNT

struct hqio_reset_attempt {
	enum hqio_reset_method method;
	int rc; /* 0, -ETIMEDOUT (not ready), -EIO (verification failed) */
	bool verified;
	char note[160];
};

struct hqio_reset_result {
	int rc;		  /* 0: reset and verified */
	bool quarantined; /* no method worked: not assignable */
	enum hqio_reset_method used;
	unsigned n_attempts;
	struct hqio_reset_attempt attempts[HQIO_RESET_MAX_ATTEMPTS];
	bool idle_confirmed; /* quiesce saw the device idle */
	uint64_t quiesce_ns, reset_ns;
	char msg[240];
};

/* Quiesce only: Bus Master off, interrupts off, idle check, ATS off and
 * its cache invalidated. */
int hqio_quiesce(const struct hqio_host_ops *ops, const struct hqio_reset_plan *plan,
		 const struct hqio_reset_opts *opts, bool *idle_confirmed, struct hqio_error *err);

/* The whole sequence: quiesce, save host-owned config, canaries, try each
 * planned method (spec delays, readiness, verification), restore. Never
 * hangs: every wait is bounded. */
int hqio_reset_execute(const struct hqio_host_ops *ops, const struct hqio_reset_plan *plan,
		       const struct hqio_reset_hooks *hooks, const struct hqio_reset_opts *opts,
		       struct hqio_reset_result *res, struct hqio_error *err);

/* ---- reclaim ------------------------------------------------------ */

/* What the owner of the guest's memory and BAR mappings does (the monitor). */
struct hqio_reclaim_ops {
	void *arg;
	/* Stop guest access to the BARs (unmap them from the guest). */
	void (*stop_guest_access)(void *arg, struct hqio_bdf bdf);
	/* Detach the guest's memory from the device's IOMMU domain and hand it
	 * to its next owner. */
	void (*release_memory)(void *arg, struct hqio_bdf bdf);
};

/*
 * Take a device back from its owner in the only safe order: stop guest
 * access; quiesce, reset and verify (hqio_reset_execute); for a device
 * without a trustworthy Transactions Pending bit, a drain window (Bus
 * Master on for the worst-case DMA latency while the old owner's memory is
 * still mapped, so a transfer the device held lands there); Bus Master
 * off; and only then release the memory. A device that ends quarantined
 * keeps the old memory mapped (never released to anyone else) and the
 * call fails.
 */
int hqio_reclaim(const struct hqio_host_ops *ops, const struct hqio_reset_plan *plan,
		 const struct hqio_reset_hooks *hooks, const struct hqio_reset_opts *opts,
		 const struct hqio_reclaim_ops *rops, struct hqio_reset_result *res,
		 struct hqio_error *err);

#endif
