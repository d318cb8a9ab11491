/*
 * hqio PCI configuration-space core: addresses, capability walking,
 * decoding into a structured view, and readers for raw images and lspci
 * text dumps. Pure code: no system calls, no globals.
 */
#ifndef HQIO_PCI_H
#define HQIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hqio/error.h"
#include "hqio/pci_regs.h"

/* ------------------------------------------------------------------ */
/* Bus/device/function addresses                                        */
/* ------------------------------------------------------------------ */

struct hqio_bdf {
	uint32_t domain; /* PCI segment; Linux allows more than 16 bits */
	uint8_t bus;
	uint8_t dev; /* 0..31 */
	uint8_t fn;  /* 0..7 */
};

#define HQIO_BDF_STR_MAX 20

/* Parse "DDDD:BB:DD.F" or "BB:DD.F" (domain 0). Returns 0 or -EINVAL. */
int hqio_bdf_parse(const char *s, struct hqio_bdf *out);
/* Format as "DDDD:BB:DD.F"; buf must hold HQIO_BDF_STR_MAX bytes. */
const char *hqio_bdf_format(struct hqio_bdf bdf, char *buf, size_t len);
int hqio_bdf_cmp(struct hqio_bdf a, struct hqio_bdf b);
/* Routing ID (PCIe 5.0 §2.2.4.2): bus << 8 | dev << 3 | fn. */
uint16_t hqio_bdf_rid(struct hqio_bdf bdf);
struct hqio_bdf hqio_bdf_from_rid(uint32_t domain, uint16_t rid);

/* ------------------------------------------------------------------ */
/* Bounds-checked little-endian accessors into a config image.          */
/* They return false (and *val = all-ones) when [off, off+n) is outside */
/* the len bytes that were read.                                        */
/* ------------------------------------------------------------------ */

bool hqio_cfg_r8(const uint8_t *cfg, size_t len, size_t off, uint8_t *val);
bool hqio_cfg_r16(const uint8_t *cfg, size_t len, size_t off, uint16_t *val);
bool hqio_cfg_r32(const uint8_t *cfg, size_t len, size_t off, uint32_t *val);

/* ------------------------------------------------------------------ */
/* Capability walking                                                   */
/* ------------------------------------------------------------------ */

#define HQIO_PCI_MAX_STD_CAPS 48  /* (0x100 - 0x40) / 4 dword-aligned slots */
#define HQIO_PCI_MAX_EXT_CAPS 960 /* (0x1000 - 0x100) / 4 */

enum hqio_cap_defect {
	HQIO_CAP_OK = 0,
	HQIO_CAP_LOOP,		/* a pointer revisits a capability already seen */
	HQIO_CAP_PTR_IN_HEADER, /* std: pointer into 0x00-0x3f; ext: below 0x100 */
	HQIO_CAP_PTR_PAST_END,	/* capability header extends past 0xff / 0xfff */
	HQIO_CAP_TRUNCATED,	/* pointer valid but beyond the bytes that were read */
	HQIO_CAP_BROKEN,	/* ID 0xff (std) or an all-ones / zero header met mid-chain */
};

struct hqio_pci_cap {
	uint16_t offset;
	uint16_t id;
	uint8_t version; /* extended capabilities only */
	bool ext;
};

struct hqio_pci_cap_list {
	struct hqio_pci_cap *caps; /* points into the owner's storage */
	unsigned n;
	enum hqio_cap_defect defect;
	uint16_t defect_ptr;  /* the offending pointer value (after masking) */
	uint16_t defect_from; /* offset of the register holding it (0x34 for the head) */
	bool misaligned;      /* some pointer had its reserved low bits set (masked) */
	bool unreadable;      /* the list could not be read: image too short */
	bool absent;	      /* no list (Status.CapList clear / no extended space) */
};

/* Walk the standard list (PCI LB 3.0 §6.7). caps must hold HQIO_PCI_MAX_STD_CAPS.
 * Returns 0, or a negative code with err describing the defect (the list
 * still holds every capability found before it). Always terminates. */
int hqio_pci_walk_std(const uint8_t *cfg, size_t len, struct hqio_pci_cap *caps,
		      struct hqio_pci_cap_list *out, struct hqio_error *err);
/* Walk the extended list from 0x100 (PCIe 5.0 §7.6.3). caps must hold
 * HQIO_PCI_MAX_EXT_CAPS. */
int hqio_pci_walk_ext(const uint8_t *cfg, size_t len, struct hqio_pci_cap *caps,
		      struct hqio_pci_cap_list *out, struct hqio_error *err);

const char *hqio_cap_defect_str(enum hqio_cap_defect d);
/* Names for every assigned ID; "Reserved (0xNN)"-style is never returned:
 * unknown IDs give NULL so callers can print the number. */
const char *hqio_pci_cap_name(uint16_t id);
const char *hqio_pci_ext_cap_name(uint16_t id);

/* ------------------------------------------------------------------ */
/* Decoded view                                                         */
/* ------------------------------------------------------------------ */

enum hqio_bar_kind {
	HQIO_BAR_UNUSED = 0,
	HQIO_BAR_IO,
	HQIO_BAR_MEM32,
	HQIO_BAR_MEM64,
	HQIO_BAR_MEM1M,	   /* PCI 2.x "below 1 MiB" type, reserved in PCI LB 3.0 */
	HQIO_BAR_RESERVED, /* memory type 11b: reserved encoding */
	HQIO_BAR_UPPER,	   /* upper half of the 64-bit BAR before it */
};

struct hqio_pci_bar {
	enum hqio_bar_kind kind;
	bool prefetchable;
	bool truncated;	  /* 64-bit BAR in the last slot: no upper half */
	uint64_t address; /* bus address with the flag bits masked off */
	uint64_t size;	  /* 0 when unknown or unimplemented */
	bool size_known;  /* sizing data was supplied */
};

struct hqio_pci_pm {
	bool present;
	uint16_t offset;
	uint8_t version;
	bool d1, d2;
	uint8_t pme_support; /* bit0 D0 .. bit4 D3cold */
	bool no_soft_reset;
	uint8_t state; /* 0..3 = D0..D3hot */
};

struct hqio_pci_msi {
	bool present;
	uint16_t offset;
	bool enabled;
	bool addr64;
	bool per_vector_mask;
	uint8_t vectors_capable; /* 1, 2, 4, .. 32 */
	uint8_t vectors_enabled;
};

struct hqio_pci_msix {
	bool present;
	uint16_t offset;
	bool enabled;
	bool function_mask;
	uint16_t table_size; /* number of entries */
	uint8_t table_bir;
	uint32_t table_offset;
	uint8_t pba_bir;
	uint32_t pba_offset;
};

struct hqio_pci_exp {
	bool present;
	uint16_t offset;
	uint8_t version;
	uint8_t port_type; /* HQIO_PCI_EXP_TYPE_* */
	bool slot;
	uint32_t devcap;
	bool flr; /* DevCap FLR capable */
	uint16_t mps_supported_bytes;
	uint16_t devctl;
	bool no_snoop_enabled;
	bool relaxed_ordering;
	uint16_t mps_bytes;
	uint16_t mrrs_bytes;
	uint16_t devsta;
	bool transactions_pending;
	bool has_link; /* port type implements the link registers */
	uint32_t lnkcap;
	uint8_t link_speed_max; /* encoding: 1 = 2.5 GT/s, 2 = 5, 3 = 8, ... */
	uint8_t link_width_max;
	bool dll_active_reporting; /* LnkCap Data Link Layer Link Active Reporting Capable */
	uint16_t lnksta;
	uint8_t link_speed;
	uint8_t link_width;
	bool dll_link_active;
	bool has_root; /* root port / RC event collector: Root registers */
	bool crs_sv_capable;
	bool crs_sv_enabled;
};

struct hqio_pci_af {
	bool present;
	uint16_t offset;
	bool tp;  /* Transactions Pending capable */
	bool flr; /* FLR capable */
};

struct hqio_pci_acs {
	bool present;
	uint16_t offset;
	uint16_t cap;
	uint16_t ctrl;
};

struct hqio_pci_sriov {
	bool present;
	uint16_t offset;
	uint16_t ctrl;
	bool vf_enable;
	uint16_t initial_vfs;
	uint16_t total_vfs;
	uint16_t num_vfs;
	uint16_t vf_offset;
	uint16_t vf_stride;
	uint16_t vf_device_id;
};

struct hqio_pci_ext_feature { /* ATS, PRI, PASID */
	bool present;
	uint16_t offset;
	bool enabled;
};

struct hqio_pci_aer {
	bool present;
	uint16_t offset;
	uint32_t uncor_status;
	uint32_t uncor_mask;
	uint32_t uncor_severity;
	uint32_t cor_status;
	uint32_t cor_mask;
};

struct hqio_pci_info {
	size_t cfg_len;	   /* bytes that could be read */
	bool ids_all_ones; /* Vendor/Device ID read 0xffff (VF or absent) */
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t command;
	uint16_t status;
	bool cap_list;	  /* Status.Capabilities List */
	bool intx_status; /* Status.Interrupt Status */
	bool imm_ready;	  /* Status.Immediate Readiness */
	uint8_t revision;
	uint32_t class_code; /* base << 16 | sub << 8 | prog-if */
	uint8_t header_type; /* without the multi-function bit */
	bool multifunction;
	uint16_t subsys_vendor; /* type 0 only */
	uint16_t subsys_id;
	unsigned n_bars; /* 6 (type 0), 2 (type 1), 0 otherwise */
	struct hqio_pci_bar bars[HQIO_PCI_NUM_BARS_TYPE0];
	bool rom_present;
	bool rom_enabled;
	uint32_t rom_address;
	uint64_t rom_size; /* when sizing data was supplied */
	uint8_t int_pin;   /* 0 none, 1..4 = INTA..INTD */
	uint8_t int_line;
	/* type 1 */
	uint8_t primary_bus, secondary_bus, subordinate_bus;
	uint16_t bridge_control;

	struct hqio_pci_pm pm;
	struct hqio_pci_msi msi;
	struct hqio_pci_msix msix;
	struct hqio_pci_exp exp;
	struct hqio_pci_af af;
	bool vendor_cap; /* at least one Vendor Specific capability */
	struct hqio_pci_aer aer;
	struct hqio_pci_acs acs;
	struct hqio_pci_sriov sriov;
	struct hqio_pci_ext_feature ats, pri, pasid;
	bool ari, dsn, l1ss, ltr, rebar;
	uint8_t ari_next_fn;
	uint64_t dsn_serial;

	struct hqio_pci_cap_list std;
	struct hqio_pci_cap_list ext;
	struct hqio_pci_cap std_caps[HQIO_PCI_MAX_STD_CAPS];
	struct hqio_pci_cap ext_caps[HQIO_PCI_MAX_EXT_CAPS];
};

/* Optional sizing data (e.g. from Linux sysfs `resource`). */
struct hqio_pci_sizes {
	uint64_t bar[HQIO_PCI_NUM_BARS_TYPE0];
	uint64_t rom;
};

/*
 * Decode len bytes of configuration space (64, 256 or 4096 typically).
 * Returns 0 on a clean decode; -EBADMSG when the image was decoded but a
 * capability list is malformed (a loop, a pointer into the header, a
 * capability past the end, a broken chain); -ENODATA when a list points
 * beyond the bytes that were read (a truncated image: the lists are marked
 * unreadable from there on, not absent); -ENODEV when every byte reads
 * all-ones (no device); -EINVAL when fewer than 64 bytes were given.
 * On -EBADMSG and -ENODATA, out is filled as far as the image allows and
 * err says what is wrong. A 256-byte image of a PCIe function is not
 * truncated: ext.unreadable says the extended space was not captured.
 * sizes may be NULL.
 */
int hqio_pci_decode(const uint8_t *cfg, size_t len, const struct hqio_pci_sizes *sizes,
		    struct hqio_pci_info *out, struct hqio_error *err);
/* True for the return codes after which out holds a (partial) decode. */
bool hqio_pci_decode_usable(int rc);

/* True when the header reads 0xffff IDs but is otherwise a live function
 * (SR-IOV VFs read 0xffff for Vendor/Device ID, PCIe 5.0 §9.3.4.1.1-2). */
bool hqio_pci_looks_like_vf(const struct hqio_pci_info *info);

/*
 * If vf is one of pf's enabled virtual functions (First VF Offset and VF
 * Stride, PCIe 5.0 §9.3.3.9-10), return 0 and its 0-based index, the PF's
 * vendor ID and the VF Device ID; -ENOENT otherwise.
 */
int hqio_pci_vf_of(const struct hqio_pci_info *pf, struct hqio_bdf pf_bdf, struct hqio_bdf vf,
		   unsigned *index, uint16_t *vendor, uint16_t *device);

/* Human strings for enum-like fields. */
const char *hqio_pci_port_type_str(uint8_t type);
const char *hqio_pci_link_speed_str(uint8_t code); /* "2.5GT/s" ... or "unknown" */
const char *hqio_pci_bar_kind_str(enum hqio_bar_kind k);

/* ------------------------------------------------------------------ */
/* lspci text dumps (`lspci -x`, `-xxx`, `-xxxx`; the format `lspci -F` */
/* reads). Several devices per file, with or without domain prefixes.  */
/* ------------------------------------------------------------------ */

struct hqio_dump_dev {
	struct hqio_bdf bdf;
	size_t len;	 /* highest offset filled + 1 */
	char title[160]; /* rest of the device line, e.g. "Ethernet controller: ..." */
	uint8_t cfg[HQIO_PCI_CFG_EXP_SIZE];
};

/* Parse text (not necessarily NUL-terminated). On success *devs is a
 * malloc'd array of *n entries (free() it). Unrecognised lines are
 * skipped like lspci does; lines that look like hex data but are invalid
 * (offset beyond 4095, data before any device line) make it fail with
 * -EINVAL and a message naming the line number. */
int hqio_lspci_parse(const char *text, size_t len, struct hqio_dump_dev **devs, size_t *n,
		     struct hqio_error *err);

/* ------------------------------------------------------------------ */
/* pciutils' name database (pci.ids text, loaded by the caller)        */
/* ------------------------------------------------------------------ */

/* Look up names in the text of a pci.ids file. Copies the name into buf
 * and returns buf, or returns NULL when unknown. device lookups need the
 * vendor. */
const char *hqio_ids_vendor(const char *ids, size_t len, uint16_t vendor, char *buf, size_t buflen);
const char *hqio_ids_device(const char *ids, size_t len, uint16_t vendor, uint16_t device,
			    char *buf, size_t buflen);
const char *hqio_ids_class(const char *ids, size_t len, uint32_t class_code, char *buf,
			   size_t buflen);

#endif
