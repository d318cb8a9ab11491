/*
 * Assignability assessment: from decoded configuration images and the
 * topology a reader could see (sysfs or a dump), decide which reset
 * methods can work, which interrupt modes exist, whether the device is
 * isolated, and give a verdict with one reason per line. Pure code.
 */
#ifndef HQIO_INSPECT_H
#define HQIO_INSPECT_H

#include "hqio/pci.h"

/* One PCI function as a reader saw it. */
struct hqio_pci_node {
	struct hqio_bdf bdf;
	uint8_t cfg[HQIO_PCI_CFG_EXP_SIZE];
	size_t cfg_len;	 /* bytes read */
	size_t cfg_size; /* bytes the device has (sysfs file size), 0 = unknown */
	bool have_sizes;
	struct hqio_pci_sizes sizes;

	/* Facts only a live system (sysfs) gives; *_known false otherwise. */
	bool sysfs;
	bool parent_known;	/* parent below is meaningful */
	bool on_root_bus;	/* the function's bus is a root bus */
	struct hqio_bdf parent; /* upstream bridge, when not on a root bus */
	char driver[64];	/* bound driver, "" when none */
	bool iommu_known;
	int iommu_group; /* -1: the device has no IOMMU group */
	bool reset_method_known;
	char reset_method[128]; /* Linux's reset_method, space separated; "" = none */
	bool physfn_known;
	struct hqio_bdf physfn; /* PF of an SR-IOV VF (sysfs physfn link) */
	bool is_vf_link;

	/* Filled by hqio_system_decode(). */
	int decode_rc;
	char decode_msg[HQIO_ERROR_MSG_MAX];
	struct hqio_pci_info *info; /* heap, owned */
};

struct hqio_system {
	struct hqio_pci_node *nodes;
	size_t n;
	size_t cap;
	bool sysfs;	  /* read from a live sysfs */
	bool cfg_limited; /* some images are shorter than the device (no root) */
};

/* Append a node (copied); returns a pointer to it or NULL on ENOMEM. */
struct hqio_pci_node *hqio_system_add(struct hqio_system *sys, const struct hqio_pci_node *node);
void hqio_system_free(struct hqio_system *sys);
/* Sort by BDF, decode each image, and derive the dump topology (parent
 * bridges from secondary/subordinate bus numbers) where sysfs did not give it. */
int hqio_system_decode(struct hqio_system *sys, struct hqio_error *err);
struct hqio_pci_node *hqio_system_find(struct hqio_system *sys, struct hqio_bdf bdf);

enum hqio_level {
	HQIO_LEVEL_OK = 0,   /* a fact, or an item that holds */
	HQIO_LEVEL_NOTE,     /* worth knowing, verdict unchanged */
	HQIO_LEVEL_DEGRADED, /* assignable, but with lower quality */
	HQIO_LEVEL_UNSAFE,   /* must not be assigned (without --force) */
};
const char *hqio_level_str(enum hqio_level l);

enum hqio_reset_kind {
	HQIO_RESET_FLR = 0,
	HQIO_RESET_AF_FLR,
	HQIO_RESET_PM,
	HQIO_RESET_BUS,
	HQIO_RESET_COUNT,
};
/* Names as Linux's reset_method uses them: flr, af_flr, pm, bus. */
const char *hqio_reset_name(enum hqio_reset_kind k);

enum hqio_tristate { HQIO_NO = 0, HQIO_YES = 1, HQIO_UNKNOWN = 2 };

struct hqio_reset_eval {
	enum hqio_reset_kind kind;
	enum hqio_tristate usable;
	char reason[160];
	enum hqio_tristate linux_lists; /* UNKNOWN unless sysfs reset_method was read */
	unsigned n_affected;		/* bus reset: other functions reset with it */
	struct hqio_bdf affected[32];
};

struct hqio_reason {
	enum hqio_level level;
	char text[200];
};

#define HQIO_MAX_REASONS 24
#define HQIO_MAX_GROUP	 64

struct hqio_acs_hop {
	struct hqio_bdf bdf;
	bool acs_present;
	uint16_t ctrl;
	bool isolates; /* has every control Linux requires (SV RR CR UF) */
	bool applies;  /* a downstream/root port or multi-function device */
};

struct hqio_assessment {
	struct hqio_bdf bdf;
	bool vf; /* recognised as an SR-IOV VF */
	bool vf_pf_known;
	struct hqio_bdf vf_pf;
	unsigned vf_index;
	uint16_t vendor_id, device_id; /* effective IDs (a VF's from its PF) */

	bool intx, msi, msix;
	unsigned msi_vectors, msix_vectors;

	struct hqio_reset_eval resets[HQIO_RESET_COUNT];
	enum hqio_tristate linux_agrees; /* sysfs only */
	char linux_diff[160];

	int iommu_group; /* -1 none, -2 unknown */
	unsigned n_group;
	struct hqio_bdf group[HQIO_MAX_GROUP];

	unsigned n_acs;
	struct hqio_acs_hop acs[16];
	enum hqio_tristate acs_path_ok;

	enum hqio_tristate no_snoop;
	enum hqio_tristate ats_enabled;

	enum hqio_level verdict;
	unsigned n_reasons;
	struct hqio_reason reasons[HQIO_MAX_REASONS];
};

/* Assess node (which must belong to sys and be decoded). */
void hqio_assess(const struct hqio_system *sys, const struct hqio_pci_node *node,
		 struct hqio_assessment *out);
const char *hqio_verdict_str(enum hqio_level l); /* "ready", "ready", "degraded", "unsafe" */

#endif
