/*
 * lib/dvh (run-time part): closing known driver virtualization holes.
 *
 * A quirk table keyed by vendor/device (with a device-id mask) and class
 * describes, per device family:
 *   - back doors: BAR windows that mirror configuration space, index/data
 *     register pairs that reach configuration space or the MSI-X table;
 *   - how its drivers derive identity from the function number (the
 *     configuration address's devfn, or a hardware register such as the
 *     STATUS LAN id);
 *   - which host-bridge (00:00.0) registers its drivers read.
 * lib/vpci uses the table at run time (back-door pages are trapped and
 * redirected into the virtual configuration space, counted and logged
 * once); the virtual host bridge below presents the host's identity and
 * the registers a quirk names, read-only; hqio_dvh_check_assignment()
 * predicts MAC/identity collisions between guests. docs/dvh-runtime.md.
 *
 * Pure code: const tables only, no I/O (the virtual host bridge reads the
 * host through struct hqio_host_ops once, at init).
 */
#ifndef HQIO_DVH_H
#define HQIO_DVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hqio/error.h"
#include "hqio/host_ops.h"
#include "hqio/pci.h"

enum hqio_dvh_bd_kind {
	HQIO_DVH_BD_MIRROR = 1, /* BAR [off, off+len) mirrors the target space */
	/* Index/data pair: the index register selects, the data register
	 * transfers; index values in [off, off+len) reach target offset
	 * index - off (the NVIDIA BAR5 and ATI BAR4 windows). */
	HQIO_DVH_BD_INDEX,
	/* Latched index/data pair (Realtek RTL8168 BAR2): index bits
	 * selected by sel_mask equal to off select the target; bits 11:0
	 * are the target offset; writing the index with bit 31 set writes
	 * the data register's last value; a read of the index returns it
	 * with bit 31 toggled ("latched/complete"). */
	HQIO_DVH_BD_INDEX_LATCH,
};

enum hqio_dvh_space {
	HQIO_DVH_SPACE_CONFIG = 0, /* the function's own configuration space */
	HQIO_DVH_SPACE_MSIX,	   /* the function's MSI-X table */
};

struct hqio_dvh_backdoor {
	enum hqio_dvh_bd_kind kind;
	enum hqio_dvh_space space;
	uint8_t bar;
	uint32_t off, len;	      /* window (MIRROR) or index range (INDEX*) */
	uint32_t index_reg, data_reg; /* INDEX*: register offsets in the BAR */
	uint32_t sel_mask;	      /* INDEX_LATCH: index bits compared with off */
};

/* How drivers of the device derive identity (port number, MAC address,
 * NVM/firmware section) from the PCI function number. */
enum hqio_dvh_fn_source {
	HQIO_DVH_FN_NONE = 0, /* no identity from the function number */
	HQIO_DVH_FN_DEVFN,    /* PCI_FUNC(devfn) of the configuration address */
	HQIO_DVH_FN_REG,      /* a device register (fn_reg) the hardware sets */
};

struct hqio_dvh_reg {
	uint8_t bar;   /* FN_REG: BAR holding the register */
	uint32_t off;  /* FN_REG: BAR offset; host-bridge list: config offset */
	uint8_t size;  /* bytes (host-bridge registers: 1, 2 or 4) */
	uint32_t mask; /* FN_REG: bits holding the function number */
	uint8_t shift;
};

#define HQIO_DVH_MAX_BD	     4
#define HQIO_DVH_MAX_HB_REGS 4

struct hqio_dvh_quirk {
	const char *name;
	uint16_t vendor;
	uint16_t device, device_mask;	 /* (id & device_mask) == device; mask 0: any */
	uint32_t class_code, class_mask; /* 24-bit class; mask 0: any */
	unsigned n_bd;
	struct hqio_dvh_backdoor bd[HQIO_DVH_MAX_BD];
	enum hqio_dvh_fn_source fn_source;
	struct hqio_dvh_reg fn_reg;
	unsigned n_hb_regs; /* host-bridge registers the drivers read */
	struct hqio_dvh_reg hb_regs[HQIO_DVH_MAX_HB_REGS];
	const char *source; /* where the facts come from */
};

struct hqio_dvh_table {
	const struct hqio_dvh_quirk *q;
	size_t n;
};

/* The built-in table (docs/dvh-runtime.md lists it with its sources). */
const struct hqio_dvh_table *hqio_dvh_builtin(void);
/* First entry matching the function, or NULL. t NULL: the built-in table. */
const struct hqio_dvh_quirk *hqio_dvh_match(const struct hqio_dvh_table *t, uint16_t vendor,
					    uint16_t device, uint32_t class_code);
const char *hqio_dvh_bd_kind_name(enum hqio_dvh_bd_kind k);
const char *hqio_dvh_space_name(enum hqio_dvh_space s);
const char *hqio_dvh_fn_source_name(enum hqio_dvh_fn_source s);

/* A BAR range the monitor must trap (not map directly into the guest). */
struct hqio_dvh_range {
	uint8_t bar;
	uint64_t off, len; /* page aligned */
};

/* The pages of q's back doors, given the function's BAR sizes (a back
 * door in an absent BAR, or beyond its end, is clipped away), rounded out
 * to page_size (a power of two), overlapping ones merged. Returns the
 * number of ranges (at most max are written; beyond max, ranges are not
 * merged, so the count is an upper bound), or -EINVAL. */
int hqio_dvh_trapped_ranges(const struct hqio_dvh_quirk *q, const uint64_t bar_size[6],
			    uint64_t page_size, struct hqio_dvh_range *out, size_t max);

/* ------------------------------------------------------------------ */
/* Virtual host bridge                                                  */
/* ------------------------------------------------------------------ */

/*
 * The configuration space the guest sees at its 00:00.0: the host bridge's
 * identity (Vendor/Device ID, Revision, Class, Header Type, Subsystem IDs)
 * and the registers the quirks of the assigned devices name, copied from
 * the host bridge at init; every other byte reads 0; every write is
 * dropped and counted. Nothing in it is writable.
 */
struct hqio_dvh_hostbridge {
	uint8_t cfg[HQIO_PCI_CFG_SIZE];
	bool shown[HQIO_PCI_CFG_SIZE];	   /* byte copied from the host */
	struct hqio_bdf at;		   /* where the guest sees it (init: 00:00.0) */
	const struct hqio_host_ops *inner; /* for hqio_dvh_hostbridge_ops */
	uint64_t reads, writes_dropped;
};

/* Copy the identity and the registers every quirk in quirks[0..n) names
 * from the host bridge host_hb through ops. */
int hqio_dvh_hostbridge_init(struct hqio_dvh_hostbridge *hb, const struct hqio_host_ops *ops,
			     struct hqio_bdf host_hb, const struct hqio_dvh_quirk *const *quirks,
			     size_t n, struct hqio_error *err);
int hqio_dvh_hostbridge_read(struct hqio_dvh_hostbridge *hb, uint16_t off, unsigned size,
			     uint32_t *val);
/* Always dropped (counted); -EINVAL for a malformed access. */
int hqio_dvh_hostbridge_write(struct hqio_dvh_hostbridge *hb, uint16_t off, unsigned size,
			      uint32_t val);
/* Host ops for a guest: configuration requests to hb->at go to the virtual
 * host bridge, everything else to inner (e.g. hqio_vpci_guest_ops). */
void hqio_dvh_hostbridge_ops(struct hqio_dvh_hostbridge *hb, const struct hqio_host_ops *inner,
			     struct hqio_host_ops *out);

/* ------------------------------------------------------------------ */
/* Function-number policy: collision check                              */
/* ------------------------------------------------------------------ */

/* One function as it will be assigned. */
struct hqio_dvh_assigned {
	const char *guest; /* guest name */
	uint16_t vendor, device;
	uint32_t class_code;
	struct hqio_bdf host; /* physical BDF */
	uint8_t guest_fn;     /* function number the guest sees (0 with MF_SINGLE) */
};

struct hqio_dvh_collision {
	size_t a, b;		     /* indexes into the assignment */
	enum hqio_dvh_fn_source how; /* from the quirk */
	uint8_t id;		     /* the identity both derive */
};

/* Two functions of one physical device whose drivers derive the same
 * identity (same base MAC from the device's NVM, same function number)
 * collide. The identity is guest_fn for FN_DEVFN (what the guest's
 * configuration address says) and the host function number for FN_REG
 * (the hardware register is not virtualized); FN_NONE never collides.
 * Writes up to max collisions, *n_out = how many were found. Returns 0 or
 * -EINVAL. t NULL: the built-in table. */
int hqio_dvh_check_assignment(const struct hqio_dvh_table *t, const struct hqio_dvh_assigned *fns,
			      size_t n, struct hqio_dvh_collision *out, size_t max, size_t *n_out);

#endif
