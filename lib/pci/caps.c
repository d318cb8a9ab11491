/*
 * Capability lists: bounds-checked config accessors, the standard list
 * walker (PCI LB 3.0 §6.7) and the extended list walker (PCIe 5.0 §7.6.3),
 * and the names of every assigned capability ID (PCI Code and ID
 * Assignment r1.11 §2-§3).
 *
 * Both walkers terminate on any input: every offset is visited at most
 * once (a bitmap of dword slots), so a list has at most 48 / 960 entries.
 */
#include "hqio/pci.h"

#include <errno.h>
#include <string.h>

bool hqio_cfg_r8(const uint8_t *cfg, size_t len, size_t off, uint8_t *val)
{
	if (off >= len) {
		*val = 0xff;
		return false;
	}
	*val = cfg[off];
	return true;
}

bool hqio_cfg_r16(const uint8_t *cfg, size_t len, size_t off, uint16_t *val)
{
	if (off > len || len - off < 2) {
		*val = 0xffff;
		return false;
	}
	*val = (uint16_t)(cfg[off] | cfg[off + 1] << 8);
	return true;
}

bool hqio_cfg_r32(const uint8_t *cfg, size_t len, size_t off, uint32_t *val)
{
	if (off > len || len - off < 4) {
		*val = 0xffffffffu;
		return false;
	}
	*val = (uint32_t)cfg[off] | (uint32_t)cfg[off + 1] << 8 | (uint32_t)cfg[off + 2] << 16 |
	       (uint32_t)cfg[off + 3] << 24;
	return true;
}

/* Names: ID 1.11 §2 (standard) and §3 (extended). */
static const char *const std_names[] = {
	[HQIO_PCI_CAP_ID_NULL] = "Null",
	[HQIO_PCI_CAP_ID_PM] = "Power Management",
	[HQIO_PCI_CAP_ID_AGP] = "AGP",
	[HQIO_PCI_CAP_ID_VPD] = "Vital Product Data",
	[HQIO_PCI_CAP_ID_SLOTID] = "Slot Identification",
	[HQIO_PCI_CAP_ID_MSI] = "MSI",
	[HQIO_PCI_CAP_ID_CHSWP] = "CompactPCI Hot Swap",
	[HQIO_PCI_CAP_ID_PCIX] = "PCI-X",
	[HQIO_PCI_CAP_ID_HT] = "HyperTransport",
	[HQIO_PCI_CAP_ID_VNDR] = "Vendor Specific",
	[HQIO_PCI_CAP_ID_DBG] = "Debug port",
	[HQIO_PCI_CAP_ID_CCRC] = "CompactPCI Central Resource Control",
	[HQIO_PCI_CAP_ID_SHPC] = "PCI Hot-Plug (SHPC)",
	[HQIO_PCI_CAP_ID_SSVID] = "Bridge Subsystem Vendor ID",
	[HQIO_PCI_CAP_ID_AGP3] = "AGP 8x",
	[HQIO_PCI_CAP_ID_SECDEV] = "Secure Device",
	[HQIO_PCI_CAP_ID_EXP] = "PCI Express",
	[HQIO_PCI_CAP_ID_MSIX] = "MSI-X",
	[HQIO_PCI_CAP_ID_SATA] = "SATA Data/Index Configuration",
	[HQIO_PCI_CAP_ID_AF] = "Advanced Features",
	[HQIO_PCI_CAP_ID_EA] = "Enhanced Allocation",
	[HQIO_PCI_CAP_ID_FPB] = "Flattening Portal Bridge",
};

static const char *const ext_names[] = {
	[HQIO_PCI_EXT_CAP_ID_NULL] = "Null",
	[HQIO_PCI_EXT_CAP_ID_ERR] = "Advanced Error Reporting",
	[HQIO_PCI_EXT_CAP_ID_VC] = "Virtual Channel",
	[HQIO_PCI_EXT_CAP_ID_DSN] = "Device Serial Number",
	[HQIO_PCI_EXT_CAP_ID_PWR] = "Power Budgeting",
	[HQIO_PCI_EXT_CAP_ID_RCLD] = "Root Complex Link Declaration",
	[HQIO_PCI_EXT_CAP_ID_RCILC] = "Root Complex Internal Link Control",
	[HQIO_PCI_EXT_CAP_ID_RCEC] = "Root Complex Event Collector Endpoint Association",
	[HQIO_PCI_EXT_CAP_ID_MFVC] = "Multi-Function Virtual Channel",
	[HQIO_PCI_EXT_CAP_ID_VC9] = "Virtual Channel (MFVC present)",
	[HQIO_PCI_EXT_CAP_ID_RCRB] = "Root Complex Register Block Header",
	[HQIO_PCI_EXT_CAP_ID_VNDR] = "Vendor-Specific Extended",
	[HQIO_PCI_EXT_CAP_ID_CAC] = "Configuration Access Correlation",
	[HQIO_PCI_EXT_CAP_ID_ACS] = "Access Control Services",
	[HQIO_PCI_EXT_CAP_ID_ARI] = "Alternative Routing-ID Interpretation",
	[HQIO_PCI_EXT_CAP_ID_ATS] = "Address Translation Services",
	[HQIO_PCI_EXT_CAP_ID_SRIOV] = "Single Root I/O Virtualization",
	[HQIO_PCI_EXT_CAP_ID_MRIOV] = "Multi-Root I/O Virtualization",
	[HQIO_PCI_EXT_CAP_ID_MCAST] = "Multicast",
	[HQIO_PCI_EXT_CAP_ID_PRI] = "Page Request Interface",
	[HQIO_PCI_EXT_CAP_ID_AMD_XXX] = "Reserved for AMD",
	[HQIO_PCI_EXT_CAP_ID_REBAR] = "Resizable BAR",
	[HQIO_PCI_EXT_CAP_ID_DPA] = "Dynamic Power Allocation",
	[HQIO_PCI_EXT_CAP_ID_TPH] = "TPH Requester",
	[HQIO_PCI_EXT_CAP_ID_LTR] = "Latency Tolerance Reporting",
	[HQIO_PCI_EXT_CAP_ID_SECPCI] = "Secondary PCI Express",
	[HQIO_PCI_EXT_CAP_ID_PMUX] = "Protocol Multiplexing",
	[HQIO_PCI_EXT_CAP_ID_PASID] = "Process Address Space ID",
	[HQIO_PCI_EXT_CAP_ID_LNR] = "LN Requester",
	[HQIO_PCI_EXT_CAP_ID_DPC] = "Downstream Port Containment",
	[HQIO_PCI_EXT_CAP_ID_L1SS] = "L1 PM Substates",
	[HQIO_PCI_EXT_CAP_ID_PTM] = "Precision Time Measurement",
	[HQIO_PCI_EXT_CAP_ID_MPCIE] = "PCI Express over M-PHY",
	[HQIO_PCI_EXT_CAP_ID_FRS] = "FRS Queueing",
	[HQIO_PCI_EXT_CAP_ID_RTR] = "Readiness Time Reporting",
	[HQIO_PCI_EXT_CAP_ID_DVSEC] = "Designated Vendor-Specific",
	[HQIO_PCI_EXT_CAP_ID_VF_REBAR] = "VF Resizable BAR",
	[HQIO_PCI_EXT_CAP_ID_DLNK] = "Data Link Feature",
	[HQIO_PCI_EXT_CAP_ID_16GT] = "Physical Layer 16.0 GT/s",
	[HQIO_PCI_EXT_CAP_ID_LMR] = "Lane Margining at the Receiver",
	[HQIO_PCI_EXT_CAP_ID_HIER_ID] = "Hierarchy ID",
	[HQIO_PCI_EXT_CAP_ID_NPEM] = "Native PCIe Enclosure Management",
	[HQIO_PCI_EXT_CAP_ID_32GT] = "Physical Layer 32.0 GT/s",
	[HQIO_PCI_EXT_CAP_ID_ALT_PROT] = "Alternate Protocol",
	[HQIO_PCI_EXT_CAP_ID_SFI] = "System Firmware Intermediary",
	[HQIO_PCI_EXT_CAP_ID_SHADOW] = "Shadow Functions",
	[HQIO_PCI_EXT_CAP_ID_DOE] = "Data Object Exchange",
	[HQIO_PCI_EXT_CAP_ID_DEV3] = "Device 3",
	[HQIO_PCI_EXT_CAP_ID_IDE] = "Integrity and Data Encryption",
	[HQIO_PCI_EXT_CAP_ID_64GT] = "Physical Layer 64.0 GT/s",
	[HQIO_PCI_EXT_CAP_ID_FLIT_LOG] = "Flit Logging",
	[HQIO_PCI_EXT_CAP_ID_FLIT_PERF] = "Flit Performance Measurement",
	[HQIO_PCI_EXT_CAP_ID_FLIT_EI] = "Flit Error Injection",
};

const char *hqio_pci_cap_name(uint16_t id)
{
	return id < sizeof(std_names) / sizeof(std_names[0]) ? std_names[id] : NULL;
}

const char *hqio_pci_ext_cap_name(uint16_t id)
{
	return id < sizeof(ext_names) / sizeof(ext_names[0]) ? ext_names[id] : NULL;
}

const char *hqio_cap_defect_str(enum hqio_cap_defect d)
{
	switch (d) {
	case HQIO_CAP_OK:
		return "ok";
	case HQIO_CAP_LOOP:
		return "loop";
	case HQIO_CAP_PTR_IN_HEADER:
		return "pointer into header";
	case HQIO_CAP_PTR_PAST_END:
		return "past end of configuration space";
	case HQIO_CAP_TRUNCATED:
		return "beyond the bytes read";
	case HQIO_CAP_BROKEN:
		return "broken chain";
	}
	return "unknown";
}

/*
 * Minimum size in bytes that a capability of each ID occupies, so that a
 * capability placed too close to the end of the space is reported rather
 * than decoded from bytes that are not its own. 0 = header only.
 */
static unsigned std_min_size(uint16_t id)
{
	switch (id) {
	case HQIO_PCI_CAP_ID_PM:
		return HQIO_PCI_PM_SIZEOF; /* PCI PM 1.2 §3.2 */
	case HQIO_PCI_CAP_ID_MSI:
		return 10; /* 32-bit, no mask: PCI LB 3.0 §6.8.1 */
	case HQIO_PCI_CAP_ID_MSIX:
		return HQIO_PCI_MSIX_SIZEOF; /* PCI LB 3.0 §6.8.2 */
	case HQIO_PCI_CAP_ID_EXP:
		return HQIO_PCI_EXP_SIZEOF_V1; /* through Link Status, PCIe 5.0 §7.5.3 */
	case HQIO_PCI_CAP_ID_AF:
		return HQIO_PCI_AF_SIZEOF; /* AF ECN */
	default:
		return 2;
	}
}

static unsigned ext_min_size(uint16_t id)
{
	switch (id) {
	case HQIO_PCI_EXT_CAP_ID_ERR:
		return 0x1c; /* through AER Capabilities and Control, PCIe 5.0 §7.8.4 */
	case HQIO_PCI_EXT_CAP_ID_ACS:
		return 8; /* PCIe 5.0 §7.7.8 */
	case HQIO_PCI_EXT_CAP_ID_SRIOV:
		return 0x40; /* PCIe 5.0 §9.3.3 */
	case HQIO_PCI_EXT_CAP_ID_ATS:
	case HQIO_PCI_EXT_CAP_ID_PASID:
	case HQIO_PCI_EXT_CAP_ID_ARI:
		return 8;
	case HQIO_PCI_EXT_CAP_ID_PRI:
		return 0x10;
	case HQIO_PCI_EXT_CAP_ID_DSN:
		return 0x0c;
	default:
		return 4;
	}
}

static void list_init(struct hqio_pci_cap_list *out, struct hqio_pci_cap *caps)
{
	memset(out, 0, sizeof(*out));
	out->caps = caps;
}

static int list_defect(struct hqio_pci_cap_list *out, enum hqio_cap_defect d, uint16_t ptr,
		       uint16_t from, const char *list, struct hqio_error *err)
{
	out->defect = d;
	out->defect_ptr = ptr;
	out->defect_from = from;
	int code = d == HQIO_CAP_LOOP ? -ELOOP : d == HQIO_CAP_TRUNCATED ? -ENODATA : -EBADMSG;
	return hqio_error_set(err, code, "%s capability list: %s: pointer 0x%03x at offset 0x%03x",
			      list, hqio_cap_defect_str(d), ptr, from);
}

int hqio_pci_walk_std(const uint8_t *cfg, size_t len, struct hqio_pci_cap *caps,
		      struct hqio_pci_cap_list *out, struct hqio_error *err)
{
	uint8_t seen[HQIO_PCI_CFG_SIZE / 4] = { 0 };
	uint16_t status;
	uint8_t ptr8;
	uint8_t ht;
	uint16_t from = HQIO_PCI_CAPABILITY_LIST;

	list_init(out, caps);
	/* A CardBus bridge keeps its list pointer at 0x14, not 0x34. */
	if (hqio_cfg_r8(cfg, len, HQIO_PCI_HEADER_TYPE, &ht) &&
	    (ht & HQIO_PCI_HEADER_TYPE_MASK) == HQIO_PCI_HEADER_TYPE_CARDBUS)
		from = HQIO_PCI_CB_CAPABILITY_LIST;
	if (!hqio_cfg_r16(cfg, len, HQIO_PCI_STATUS, &status) ||
	    !hqio_cfg_r8(cfg, len, from, &ptr8)) {
		out->unreadable = true;
		return hqio_error_set(err, -ENODATA, "capability list not readable (%zu bytes)",
				      len);
	}
	if (!(status & HQIO_PCI_STATUS_CAP_LIST)) {
		out->absent = true;
		return 0;
	}
	for (;;) {
		if (ptr8 & ~HQIO_PCI_CAP_PTR_MASK)
			out->misaligned = true; /* PCI LB 3.0 §6.7: software masks bits 1:0 */
		uint16_t ptr = ptr8 & HQIO_PCI_CAP_PTR_MASK;
		if (ptr == 0)
			return 0;
		if (ptr < HQIO_PCI_CFG_HDR_SIZE)
			return list_defect(out, HQIO_CAP_PTR_IN_HEADER, ptr, from, "standard", err);
		if ((size_t)ptr + 2 > len) {
			out->unreadable = true; /* not absent: the rest was not read */
			return list_defect(out, HQIO_CAP_TRUNCATED, ptr, from, "standard", err);
		}
		if (seen[ptr / 4]++)
			return list_defect(out, HQIO_CAP_LOOP, ptr, from, "standard", err);
		uint8_t id = cfg[ptr];
		if (id == 0xff)
			return list_defect(out, HQIO_CAP_BROKEN, ptr, from, "standard", err);
		if (ptr + std_min_size(id) > HQIO_PCI_CFG_SIZE)
			return list_defect(out, HQIO_CAP_PTR_PAST_END, ptr, from, "standard", err);
		caps[out->n++] = (struct hqio_pci_cap){ .offset = ptr, .id = id };
		from = (uint16_t)(ptr + HQIO_PCI_CAP_LIST_NEXT);
		ptr8 = cfg[from];
	}
}

int hqio_pci_walk_ext(const uint8_t *cfg, size_t len, struct hqio_pci_cap *caps,
		      struct hqio_pci_cap_list *out, struct hqio_error *err)
{
	uint8_t seen[HQIO_PCI_CFG_EXP_SIZE / 4] = { 0 };
	uint32_t h;
	uint16_t ptr = HQIO_PCI_CFG_SIZE, from = 0;

	list_init(out, caps);
	if (!hqio_cfg_r32(cfg, len, HQIO_PCI_CFG_SIZE, &h)) {
		out->unreadable = true;
		return hqio_error_set(err, -ENODATA,
				      "extended configuration space not read (%zu bytes)", len);
	}
	/* PCIe 5.0 §7.6.3: an empty list has a zero header at 0x100; all-ones
	 * there means the extended space is not accessible (Linux
	 * pci_cfg_space_size() treats it the same). */
	if (h == 0 || h == 0xffffffffu) {
		out->absent = true;
		return 0;
	}
	for (;;) {
		seen[ptr / 4] = 1;
		uint16_t id = (uint16_t)HQIO_PCI_EXT_CAP_ID(h);
		if ((size_t)ptr + ext_min_size(id) > HQIO_PCI_CFG_EXP_SIZE)
			return list_defect(out, HQIO_CAP_PTR_PAST_END, ptr, from, "extended", err);
		caps[out->n++] = (struct hqio_pci_cap){ .offset = ptr,
							.id = id,
							.version = (uint8_t)HQIO_PCI_EXT_CAP_VER(h),
							.ext = true };
		if ((h >> 20) & 3)
			out->misaligned = true;
		uint16_t next = (uint16_t)HQIO_PCI_EXT_CAP_NEXT(h);
		from = ptr;
		if (next == 0)
			return 0;
		if (next < HQIO_PCI_CFG_SIZE)
			return list_defect(out, HQIO_CAP_PTR_IN_HEADER, next, from, "extended",
					   err);
		if ((size_t)next + 4 > len) {
			out->unreadable = true;
			return list_defect(out, HQIO_CAP_TRUNCATED, next, from, "extended", err);
		}
		if (seen[next / 4])
			return list_defect(out, HQIO_CAP_LOOP, next, from, "extended", err);
		hqio_cfg_r32(cfg, len, next, &h);
		if (h == 0 || h == 0xffffffffu)
			return list_defect(out, HQIO_CAP_BROKEN, next, from, "extended", err);
		ptr = next;
	}
}
