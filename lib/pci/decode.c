/*
 * Decoder: turns a configuration image into struct hqio_pci_info.
 *
 * Header fields follow PCI LB 3.0 §6.2 (type 0) and P2P 1.2 §3.2 (type 1);
 * capability fields follow the sections cited in hqio/pci_regs.h. Every
 * read is bounds-checked against the bytes that were actually read, so a
 * 64-byte image (unprivileged sysfs) decodes its header and marks the
 * capability lists unreadable instead of absent.
 */
#include "hqio/pci.h"

#include <errno.h>
#include <string.h>

struct img {
	const uint8_t *cfg;
	size_t len;
};

static uint8_t r8(const struct img *m, size_t off)
{
	uint8_t v;
	hqio_cfg_r8(m->cfg, m->len, off, &v);
	return v;
}

static uint16_t r16(const struct img *m, size_t off)
{
	uint16_t v;
	hqio_cfg_r16(m->cfg, m->len, off, &v);
	return v;
}

static uint32_t r32(const struct img *m, size_t off)
{
	uint32_t v;
	hqio_cfg_r32(m->cfg, m->len, off, &v);
	return v;
}

static void decode_bars(const struct img *m, const struct hqio_pci_sizes *sizes,
			struct hqio_pci_info *o)
{
	for (unsigned i = 0; i < o->n_bars; i++) {
		struct hqio_pci_bar *b = &o->bars[i];
		if (b->kind == HQIO_BAR_UPPER)
			continue;
		uint32_t raw = r32(m, HQIO_PCI_BASE_ADDRESS_0 + 4 * i);
		uint64_t size = sizes ? sizes->bar[i] : 0;
		b->size_known = sizes != NULL;
		b->size = size;
		if (raw == 0 && size == 0) {
			b->kind = HQIO_BAR_UNUSED;
			continue;
		}
		if (raw & HQIO_PCI_BASE_ADDRESS_SPACE_IO) {
			b->kind = HQIO_BAR_IO;
			b->address = raw & HQIO_PCI_BASE_ADDRESS_IO_MASK & 0xffffffffu;
			continue;
		}
		b->prefetchable = raw & HQIO_PCI_BASE_ADDRESS_MEM_PREFETCH;
		b->address = raw & HQIO_PCI_BASE_ADDRESS_MEM_MASK & 0xffffffffu;
		switch (raw & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) {
		case HQIO_PCI_BASE_ADDRESS_MEM_TYPE_32:
			b->kind = HQIO_BAR_MEM32;
			break;
		case HQIO_PCI_BASE_ADDRESS_MEM_TYPE_1M:
			b->kind = HQIO_BAR_MEM1M;
			break;
		case HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64:
			b->kind = HQIO_BAR_MEM64;
			if (i + 1 < o->n_bars) {
				b->address |=
					(uint64_t)r32(m, HQIO_PCI_BASE_ADDRESS_0 + 4 * (i + 1))
					<< 32;
				o->bars[i + 1].kind = HQIO_BAR_UPPER;
			} else {
				b->truncated = true;
			}
			break;
		default:
			b->kind = HQIO_BAR_RESERVED;
			break;
		}
	}
}

static void decode_header(const struct img *m, const struct hqio_pci_sizes *sizes,
			  struct hqio_pci_info *o)
{
	o->vendor_id = r16(m, HQIO_PCI_VENDOR_ID);
	o->device_id = r16(m, HQIO_PCI_DEVICE_ID);
	o->ids_all_ones = o->vendor_id == 0xffff && o->device_id == 0xffff;
	o->command = r16(m, HQIO_PCI_COMMAND);
	o->status = r16(m, HQIO_PCI_STATUS);
	o->cap_list = o->status & HQIO_PCI_STATUS_CAP_LIST;
	o->intx_status = o->status & HQIO_PCI_STATUS_INTERRUPT;
	o->imm_ready = o->status & HQIO_PCI_STATUS_IMM_READY;
	o->revision = r8(m, HQIO_PCI_REVISION_ID);
	o->class_code = r32(m, HQIO_PCI_REVISION_ID) >> 8;
	uint8_t ht = r8(m, HQIO_PCI_HEADER_TYPE);
	o->header_type = ht & HQIO_PCI_HEADER_TYPE_MASK;
	o->multifunction = ht & HQIO_PCI_HEADER_TYPE_MFD;
	o->int_line = r8(m, HQIO_PCI_INTERRUPT_LINE);
	o->int_pin = r8(m, HQIO_PCI_INTERRUPT_PIN);

	size_t rom_reg = 0;
	switch (o->header_type) {
	case HQIO_PCI_HEADER_TYPE_NORMAL:
		o->n_bars = HQIO_PCI_NUM_BARS_TYPE0;
		o->subsys_vendor = r16(m, HQIO_PCI_SUBSYSTEM_VENDOR_ID);
		o->subsys_id = r16(m, HQIO_PCI_SUBSYSTEM_ID);
		rom_reg = HQIO_PCI_ROM_ADDRESS;
		break;
	case HQIO_PCI_HEADER_TYPE_BRIDGE:
		o->n_bars = HQIO_PCI_NUM_BARS_TYPE1;
		o->primary_bus = r8(m, HQIO_PCI_PRIMARY_BUS);
		o->secondary_bus = r8(m, HQIO_PCI_SECONDARY_BUS);
		o->subordinate_bus = r8(m, HQIO_PCI_SUBORDINATE_BUS);
		o->bridge_control = r16(m, HQIO_PCI_BRIDGE_CONTROL);
		rom_reg = HQIO_PCI_ROM_ADDRESS1;
		break;
	default: /* CardBus and reserved layouts: no BARs decoded */
		o->n_bars = 0;
		break;
	}
	decode_bars(m, sizes, o);
	if (rom_reg) {
		uint32_t rom = r32(m, rom_reg);
		o->rom_address = (uint32_t)(rom & HQIO_PCI_ROM_ADDRESS_MASK);
		o->rom_enabled = rom & HQIO_PCI_ROM_ADDRESS_ENABLE;
		o->rom_size = sizes ? sizes->rom : 0;
		o->rom_present = o->rom_address != 0 || o->rom_size != 0;
	}
}

static unsigned pow2_capped(unsigned log2, unsigned max_log2)
{
	return 1u << (log2 > max_log2 ? max_log2 : log2);
}

static void decode_pm(const struct img *m, uint16_t at, struct hqio_pci_pm *pm)
{
	uint16_t pmc = r16(m, at + HQIO_PCI_PM_PMC), csr = r16(m, at + HQIO_PCI_PM_CTRL);
	pm->present = true;
	pm->offset = at;
	pm->version = pmc & HQIO_PCI_PM_PMC_VERSION_MASK;
	pm->d1 = pmc & HQIO_PCI_PM_PMC_D1;
	pm->d2 = pmc & HQIO_PCI_PM_PMC_D2;
	pm->pme_support = (uint8_t)(pmc >> HQIO_PCI_PM_PMC_PME_SHIFT);
	pm->state = csr & HQIO_PCI_PM_CTRL_STATE_MASK;
	pm->no_soft_reset = csr & HQIO_PCI_PM_CTRL_NO_SOFT_RESET;
}

static void decode_msi(const struct img *m, uint16_t at, struct hqio_pci_msi *msi)
{
	uint16_t f = r16(m, at + HQIO_PCI_MSI_FLAGS);
	msi->present = true;
	msi->offset = at;
	msi->enabled = f & HQIO_PCI_MSI_FLAGS_ENABLE;
	msi->addr64 = f & HQIO_PCI_MSI_FLAGS_64BIT;
	msi->per_vector_mask = f & HQIO_PCI_MSI_FLAGS_MASKBIT;
	/* encodings 110b/111b are reserved (PCI LB 3.0 §6.8.1.3): cap at 32 */
	msi->vectors_capable = (uint8_t)pow2_capped((f & HQIO_PCI_MSI_FLAGS_QMASK) >> 1, 5);
	msi->vectors_enabled = (uint8_t)pow2_capped((f & HQIO_PCI_MSI_FLAGS_QSIZE) >> 4, 5);
}

static void decode_msix(const struct img *m, uint16_t at, struct hqio_pci_msix *x)
{
	uint16_t f = r16(m, at + HQIO_PCI_MSIX_FLAGS);
	uint32_t t = r32(m, at + HQIO_PCI_MSIX_TABLE), p = r32(m, at + HQIO_PCI_MSIX_PBA);
	x->present = true;
	x->offset = at;
	x->enabled = f & HQIO_PCI_MSIX_FLAGS_ENABLE;
	x->function_mask = f & HQIO_PCI_MSIX_FLAGS_MASKALL;
	x->table_size = (uint16_t)((f & HQIO_PCI_MSIX_FLAGS_QSIZE) + 1);
	x->table_bir = t & HQIO_PCI_MSIX_BIR_MASK;
	x->table_offset = t & HQIO_PCI_MSIX_OFFSET_MASK;
	x->pba_bir = p & HQIO_PCI_MSIX_BIR_MASK;
	x->pba_offset = p & HQIO_PCI_MSIX_OFFSET_MASK;
}

static bool exp_type_has_link(uint8_t type)
{
	/* PCIe 5.0 §7.5.3: RCiEPs and RC Event Collectors have no link. */
	return type != HQIO_PCI_EXP_TYPE_RC_END && type != HQIO_PCI_EXP_TYPE_RC_EC;
}

static void decode_exp(const struct img *m, uint16_t at, struct hqio_pci_exp *e)
{
	uint16_t f = r16(m, at + HQIO_PCI_EXP_FLAGS);
	e->present = true;
	e->offset = at;
	e->version = f & HQIO_PCI_EXP_FLAGS_VERS;
	e->port_type = (f & HQIO_PCI_EXP_FLAGS_TYPE) >> 4;
	e->slot = f & HQIO_PCI_EXP_FLAGS_SLOT;
	e->devcap = r32(m, at + HQIO_PCI_EXP_DEVCAP);
	e->flr = e->devcap & HQIO_PCI_EXP_DEVCAP_FLR;
	/* sizes are 128 << encoding; encodings above 4096 bytes are reserved */
	e->mps_supported_bytes = (uint16_t)(128u * pow2_capped(e->devcap & 7, 5));
	e->devctl = r16(m, at + HQIO_PCI_EXP_DEVCTL);
	e->no_snoop_enabled = e->devctl & HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN;
	e->relaxed_ordering = e->devctl & HQIO_PCI_EXP_DEVCTL_RELAX_EN;
	e->mps_bytes =
		(uint16_t)(128u * pow2_capped((e->devctl & HQIO_PCI_EXP_DEVCTL_PAYLOAD) >> 5, 5));
	e->mrrs_bytes =
		(uint16_t)(128u * pow2_capped((e->devctl & HQIO_PCI_EXP_DEVCTL_READRQ) >> 12, 5));
	e->devsta = r16(m, at + HQIO_PCI_EXP_DEVSTA);
	e->transactions_pending = e->devsta & HQIO_PCI_EXP_DEVSTA_TRPND;
	e->has_link = exp_type_has_link(e->port_type);
	if (e->has_link) {
		e->lnkcap = r32(m, at + HQIO_PCI_EXP_LNKCAP);
		e->link_speed_max = e->lnkcap & HQIO_PCI_EXP_LNKCAP_SLS;
		e->link_width_max = (e->lnkcap & HQIO_PCI_EXP_LNKCAP_MLW) >> 4;
		e->dll_active_reporting = e->lnkcap & HQIO_PCI_EXP_LNKCAP_DLLLARC;
		e->lnksta = r16(m, at + HQIO_PCI_EXP_LNKSTA);
		e->link_speed = e->lnksta & HQIO_PCI_EXP_LNKSTA_CLS;
		e->link_width = (e->lnksta & HQIO_PCI_EXP_LNKSTA_NLW) >> 4;
		e->dll_link_active = e->lnksta & HQIO_PCI_EXP_LNKSTA_DLLLA;
	}
	/* Root Control/Capabilities (PCIe 5.0 §7.5.3.12-13): root ports and RCECs,
	 * and only when the structure is long enough to hold them. */
	if ((e->port_type == HQIO_PCI_EXP_TYPE_ROOT_PORT ||
	     e->port_type == HQIO_PCI_EXP_TYPE_RC_EC) &&
	    at + HQIO_PCI_EXP_RTCAP + 2 <= HQIO_PCI_CFG_SIZE) {
		e->has_root = true;
		e->crs_sv_enabled = r16(m, at + HQIO_PCI_EXP_RTCTL) & HQIO_PCI_EXP_RTCTL_CRSSVE;
		e->crs_sv_capable = r16(m, at + HQIO_PCI_EXP_RTCAP) & HQIO_PCI_EXP_RTCAP_CRSVIS;
	}
}

static void decode_af(const struct img *m, uint16_t at, struct hqio_pci_af *af)
{
	uint8_t cap = r8(m, at + HQIO_PCI_AF_CAP);
	af->present = true;
	af->offset = at;
	af->tp = cap & HQIO_PCI_AF_CAP_TP;
	af->flr = cap & HQIO_PCI_AF_CAP_FLR;
}

static void decode_std_caps(const struct img *m, struct hqio_pci_info *o, bool *want_ext)
{
	*want_ext = false;
	for (unsigned i = 0; i < o->std.n; i++) {
		uint16_t at = o->std.caps[i].offset;
		/* First instance wins, as in Linux pci_find_capability(). */
		switch (o->std.caps[i].id) {
		case HQIO_PCI_CAP_ID_PM:
			if (!o->pm.present)
				decode_pm(m, at, &o->pm);
			break;
		case HQIO_PCI_CAP_ID_MSI:
			if (!o->msi.present)
				decode_msi(m, at, &o->msi);
			break;
		case HQIO_PCI_CAP_ID_MSIX:
			if (!o->msix.present)
				decode_msix(m, at, &o->msix);
			break;
		case HQIO_PCI_CAP_ID_EXP:
			if (!o->exp.present)
				decode_exp(m, at, &o->exp);
			*want_ext = true;
			break;
		case HQIO_PCI_CAP_ID_AF:
			if (!o->af.present)
				decode_af(m, at, &o->af);
			break;
		case HQIO_PCI_CAP_ID_VNDR:
			o->vendor_cap = true;
			break;
		case HQIO_PCI_CAP_ID_PCIX:
			/* PCI-X Mode 2 functions may have an extended space (as
			 * lspci assumes); an empty one reads zero at 0x100. */
			*want_ext = true;
			break;
		default:
			break;
		}
	}
}

static void decode_ext_caps(const struct img *m, struct hqio_pci_info *o)
{
	for (unsigned i = 0; i < o->ext.n; i++) {
		uint16_t at = o->ext.caps[i].offset;
		switch (o->ext.caps[i].id) {
		case HQIO_PCI_EXT_CAP_ID_ERR:
			if (o->aer.present)
				break;
			o->aer.present = true;
			o->aer.offset = at;
			o->aer.uncor_status = r32(m, at + HQIO_PCI_ERR_UNCOR_STATUS);
			o->aer.uncor_mask = r32(m, at + HQIO_PCI_ERR_UNCOR_MASK);
			o->aer.uncor_severity = r32(m, at + HQIO_PCI_ERR_UNCOR_SEVER);
			o->aer.cor_status = r32(m, at + HQIO_PCI_ERR_COR_STATUS);
			o->aer.cor_mask = r32(m, at + HQIO_PCI_ERR_COR_MASK);
			break;
		case HQIO_PCI_EXT_CAP_ID_ACS:
			if (o->acs.present)
				break;
			o->acs.present = true;
			o->acs.offset = at;
			o->acs.cap = r16(m, at + HQIO_PCI_ACS_CAP);
			o->acs.ctrl = r16(m, at + HQIO_PCI_ACS_CTRL);
			break;
		case HQIO_PCI_EXT_CAP_ID_ARI:
			o->ari = true;
			o->ari_next_fn =
				(uint8_t)HQIO_PCI_ARI_CAP_NFN(r16(m, at + HQIO_PCI_ARI_CAP));
			break;
		case HQIO_PCI_EXT_CAP_ID_SRIOV: {
			struct hqio_pci_sriov *s = &o->sriov;
			if (s->present)
				break;
			s->present = true;
			s->offset = at;
			s->ctrl = r16(m, at + HQIO_PCI_SRIOV_CTRL);
			s->vf_enable = s->ctrl & HQIO_PCI_SRIOV_CTRL_VFE;
			s->initial_vfs = r16(m, at + HQIO_PCI_SRIOV_INITIAL_VF);
			s->total_vfs = r16(m, at + HQIO_PCI_SRIOV_TOTAL_VF);
			s->num_vfs = r16(m, at + HQIO_PCI_SRIOV_NUM_VF);
			s->vf_offset = r16(m, at + HQIO_PCI_SRIOV_VF_OFFSET);
			s->vf_stride = r16(m, at + HQIO_PCI_SRIOV_VF_STRIDE);
			s->vf_device_id = r16(m, at + HQIO_PCI_SRIOV_VF_DID);
			break;
		}
		case HQIO_PCI_EXT_CAP_ID_ATS:
			if (o->ats.present)
				break;
			o->ats.present = true;
			o->ats.offset = at;
			o->ats.enabled = r16(m, at + HQIO_PCI_ATS_CTRL) & HQIO_PCI_ATS_CTRL_ENABLE;
			break;
		case HQIO_PCI_EXT_CAP_ID_PRI:
			if (o->pri.present)
				break;
			o->pri.present = true;
			o->pri.offset = at;
			o->pri.enabled = r16(m, at + HQIO_PCI_PRI_CTRL) & HQIO_PCI_PRI_CTRL_ENABLE;
			break;
		case HQIO_PCI_EXT_CAP_ID_PASID:
			if (o->pasid.present)
				break;
			o->pasid.present = true;
			o->pasid.offset = at;
			o->pasid.enabled =
				r16(m, at + HQIO_PCI_PASID_CTRL) & HQIO_PCI_PASID_CTRL_ENABLE;
			break;
		case HQIO_PCI_EXT_CAP_ID_DSN:
			o->dsn = true;
			o->dsn_serial = (uint64_t)r32(m, at + HQIO_PCI_DSN_HIGH) << 32 |
					r32(m, at + HQIO_PCI_DSN_LOW);
			break;
		case HQIO_PCI_EXT_CAP_ID_L1SS:
			o->l1ss = true;
			break;
		case HQIO_PCI_EXT_CAP_ID_LTR:
			o->ltr = true;
			break;
		case HQIO_PCI_EXT_CAP_ID_REBAR:
			o->rebar = true;
			break;
		default:
			break;
		}
	}
}

static bool all_ones(const uint8_t *cfg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (cfg[i] != 0xff)
			return false;
	return true;
}

int hqio_pci_decode(const uint8_t *cfg, size_t len, const struct hqio_pci_sizes *sizes,
		    struct hqio_pci_info *out, struct hqio_error *err)
{
	struct img m = { cfg, len > HQIO_PCI_CFG_EXP_SIZE ? HQIO_PCI_CFG_EXP_SIZE : len };
	struct hqio_error e1 = { 0 }, e2 = { 0 };
	bool want_ext;
	int rc1, rc2 = 0;

	memset(out, 0, sizeof(*out));
	out->cfg_len = m.len;
	if (!cfg || m.len < HQIO_PCI_CFG_HDR_SIZE)
		return hqio_error_set(
			err, -EINVAL,
			"configuration image too short: %zu bytes, the header needs 64",
			cfg ? m.len : 0);
	/* A config read of a function that does not exist completes with
	 * all-ones data (PCIe 5.0 §2.3.2, Unsupported Request). */
	if (all_ones(cfg, m.len))
		return hqio_error_set(err, -ENODEV,
				      "every byte reads 0xff: no device answers at this address");
	decode_header(&m, sizes, out);

	rc1 = hqio_pci_walk_std(cfg, m.len, out->std_caps, &out->std, &e1);
	decode_std_caps(&m, out, &want_ext);
	out->ext.caps = out->ext_caps;
	if (want_ext) {
		rc2 = hqio_pci_walk_ext(cfg, m.len, out->ext_caps, &out->ext, &e2);
		decode_ext_caps(&m, out);
		/* An image that ends at the conventional 256 bytes (lspci -xxx) simply
		 * lacks the extended space: callers see ext.unreadable, no error. */
		if (m.len <= HQIO_PCI_CFG_SIZE + 4 && out->ext.unreadable)
			rc2 = 0;
	} else if (out->std.unreadable) {
		/* Whether a PCI Express capability exists is not known, so the
		 * extended space is not known to be absent either. */
		out->ext.unreadable = true;
	} else {
		out->ext.absent = true;
	}
	/* Malformed lists outrank truncation; the standard list is reported first. */
	if (rc1 == -ENODATA && (rc2 == -ELOOP || rc2 == -EBADMSG))
		rc1 = 0;
	if (rc1 || rc2) {
		int rc = rc1 ? rc1 : rc2;
		const char *msg = rc1 ? e1.msg : e2.msg;
		if (rc == -ENODATA)
			return hqio_error_set(err, -ENODATA, "image truncated at %zu bytes: %s",
					      m.len, msg);
		return hqio_error_set(err, -EBADMSG, "%s", msg);
	}
	hqio_error_clear(err);
	return 0;
}

bool hqio_pci_decode_usable(int rc)
{
	return rc == 0 || rc == -EBADMSG || rc == -ENODATA;
}

bool hqio_pci_looks_like_vf(const struct hqio_pci_info *info)
{
	/* PCIe 5.0 §9.3.4.1.1-2: a VF's Vendor and Device ID read 0xffff, but
	 * the rest of its header is live: it must have a capability list
	 * with a PCI Express capability (§9.3.4: VFs are PCIe functions). */
	return info->ids_all_ones && info->header_type == HQIO_PCI_HEADER_TYPE_NORMAL &&
	       info->exp.present;
}

int hqio_pci_vf_of(const struct hqio_pci_info *pf, struct hqio_bdf pf_bdf, struct hqio_bdf vf,
		   unsigned *index, uint16_t *vendor, uint16_t *device)
{
	const struct hqio_pci_sriov *s = &pf->sriov;

	if (!s->present || !s->vf_enable || s->num_vfs == 0 || pf_bdf.domain != vf.domain)
		return -ENOENT;
	/* PCIe 5.0 §9.3.3.9-10: VF n's Routing ID = PF RID + First VF Offset +
	 * (n - 1) * VF Stride, modulo 2^16. */
	uint32_t first = (uint32_t)hqio_bdf_rid(pf_bdf) + s->vf_offset;
	uint32_t rid = hqio_bdf_rid(vf);
	for (unsigned n = 0; n < s->num_vfs; n++) {
		uint32_t r = first + (uint32_t)n * s->vf_stride;
		if (r > 0xffff)
			break;
		if (r == rid) {
			if (index)
				*index = n;
			if (vendor)
				*vendor = pf->vendor_id;
			if (device)
				*device = s->vf_device_id;
			return 0;
		}
		if (s->vf_stride == 0)
			break;
	}
	return -ENOENT;
}

const char *hqio_pci_port_type_str(uint8_t type)
{
	static const char *const names[] = {
		[HQIO_PCI_EXP_TYPE_ENDPOINT] = "Endpoint",
		[HQIO_PCI_EXP_TYPE_LEG_END] = "Legacy Endpoint",
		[HQIO_PCI_EXP_TYPE_ROOT_PORT] = "Root Port",
		[HQIO_PCI_EXP_TYPE_UPSTREAM] = "Upstream Port",
		[HQIO_PCI_EXP_TYPE_DOWNSTREAM] = "Downstream Port",
		[HQIO_PCI_EXP_TYPE_PCI_BRIDGE] = "PCIe to PCI/PCI-X Bridge",
		[HQIO_PCI_EXP_TYPE_PCIE_BRIDGE] = "PCI/PCI-X to PCIe Bridge",
		[HQIO_PCI_EXP_TYPE_RC_END] = "Root Complex Integrated Endpoint",
		[HQIO_PCI_EXP_TYPE_RC_EC] = "Root Complex Event Collector",
	};
	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "Reserved";
}

const char *hqio_pci_link_speed_str(uint8_t code)
{
	/* Supported Link Speeds encodings, PCIe 5.0 §7.5.3.6 / 6.0 §7.5.3.18 */
	static const char *const s[] = { NULL,	   "2.5GT/s", "5GT/s", "8GT/s",
					 "16GT/s", "32GT/s",  "64GT/s" };
	return code < sizeof(s) / sizeof(s[0]) && s[code] ? s[code] : "unknown";
}

const char *hqio_pci_bar_kind_str(enum hqio_bar_kind k)
{
	switch (k) {
	case HQIO_BAR_UNUSED:
		return "unused";
	case HQIO_BAR_IO:
		return "io";
	case HQIO_BAR_MEM32:
		return "mem32";
	case HQIO_BAR_MEM64:
		return "mem64";
	case HQIO_BAR_MEM1M:
		return "mem1m";
	case HQIO_BAR_RESERVED:
		return "reserved";
	case HQIO_BAR_UPPER:
		return "upper";
	}
	return "unknown";
}
