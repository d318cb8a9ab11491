/*
 * hqio inspect: tells, for each PCI function, whether it can be assigned
 * to a virtual machine with high quality, and why not.
 */
#include "commands.h"
#include "dump_load.h"
#include "inspect_out.h"
#include "json.h"
#include "names.h"
#include "sysfs.h"

#include "hqio/inspect.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSPECT_JSON_VERSION 1 /* bump on incompatible changes; see docs/inspect-json.md */

static const char usage_text[] =
	"usage: hqio inspect [--sysfs | --dump FILE] [BDF...] [--json] [-v]\n"
	"\n"
	"Decode PCI configuration space and judge whether each function can be\n"
	"assigned to a virtual machine with high quality: reset methods, interrupt\n"
	"modes, IOMMU group, ACS, No Snoop, ATS, and a verdict (ready, degraded,\n"
	"unsafe) with one reason per line.\n"
	"\n"
	"  --sysfs         read the live system from /sys/bus/pci/devices (default)\n"
	"  --dump FILE     read an `lspci -x/-xxx/-xxxx` text dump ('-' = stdin)\n"
	"  --sysfs-dir DIR read devices from DIR instead of /sys/bus/pci/devices\n"
	"  --json          machine-readable output (schema: docs/inspect.schema.json)\n"
	"  -v, --verbose   also show BARs and capability details\n"
	"  -h, --help      this text\n"
	"\n"
	"BDF is [DDDD:]BB:DD.F; without one, every device is shown.\n"
	"Without root, Linux returns only the first 64 bytes of configuration space;\n"
	"hqio then says which facts it could not read.\n"
	"Names come from pciutils' pci.ids ($HQIO_PCI_IDS overrides the path).\n";

struct inspect_opts {
	const char *dump;
	const char *sysfs_dir;
	bool json;
	int verbose;
	struct hqio_bdf *only;
	size_t n_only;
};

static const char *tri(enum hqio_tristate t)
{
	return t == HQIO_YES ? "yes" : t == HQIO_NO ? "no" : "unknown";
}

/* ---------------------------------------------------------------- text */

static void print_names(const struct hqio_names *names, const struct hqio_pci_node *n,
			const struct hqio_assessment *a)
{
	char b[HQIO_BDF_STR_MAX], vb[128], db[160], cb[128];
	const struct hqio_pci_info *in = n->info;
	const char *cls = hqio_names_class(names, in->class_code, cb, sizeof(cb));
	const char *vn = hqio_names_vendor(names, a->vendor_id, vb, sizeof(vb));
	const char *dn = hqio_names_device(names, a->vendor_id, a->device_id, db, sizeof(db));

	printf("%s ", hqio_bdf_format(n->bdf, b, sizeof(b)));
	if (cls)
		printf("%s [%04x]: ", cls, in->class_code >> 8);
	else
		printf("Class [%04x]: ", in->class_code >> 8);
	if (vn)
		printf("%s ", vn);
	if (dn)
		printf("%s ", dn);
	else
		printf("Device ");
	printf("[%04x:%04x]", a->vendor_id, a->device_id);
	if (in->revision)
		printf(" (rev %02x)", in->revision);
	printf("\n");
}

static void print_caps(const struct hqio_pci_cap_list *l, bool ext)
{
	for (unsigned i = 0; i < l->n; i++) {
		const struct hqio_pci_cap *c = &l->caps[i];
		const char *name = ext ? hqio_pci_ext_cap_name(c->id) : hqio_pci_cap_name(c->id);
		if (ext)
			printf("    [%03x] %04x v%u %s\n", c->offset, c->id, c->version,
			       name ? name : "Unknown");
		else
			printf("    [%02x] %02x %s\n", c->offset, c->id, name ? name : "Unknown");
	}
	if (l->defect)
		printf("    !! %s: pointer 0x%03x at 0x%03x\n", hqio_cap_defect_str(l->defect),
		       l->defect_ptr, l->defect_from);
}

static void print_details(const struct hqio_pci_info *in)
{
	for (unsigned i = 0; i < in->n_bars; i++) {
		const struct hqio_pci_bar *b = &in->bars[i];
		if (b->kind == HQIO_BAR_UNUSED || b->kind == HQIO_BAR_UPPER)
			continue;
		printf("  BAR%u:        %s%s at 0x%llx", i, hqio_pci_bar_kind_str(b->kind),
		       b->prefetchable ? " prefetchable" : "", (unsigned long long)b->address);
		if (b->size_known)
			printf(" size 0x%llx", (unsigned long long)b->size);
		printf("%s\n", b->truncated ? " (64-bit BAR in the last slot)" : "");
	}
	if (in->rom_present)
		printf("  ROM:         at 0x%x%s\n", in->rom_address,
		       in->rom_enabled ? " enabled" : "");
	if (in->header_type == HQIO_PCI_HEADER_TYPE_BRIDGE)
		printf("  buses:       primary %02x secondary %02x subordinate %02x\n",
		       in->primary_bus, in->secondary_bus, in->subordinate_bus);
	if (in->pm.present)
		printf("  PM:          version %u, D1%c D2%c, PME 0x%02x, NoSoftRst%c, now D%u\n",
		       in->pm.version, in->pm.d1 ? '+' : '-', in->pm.d2 ? '+' : '-',
		       in->pm.pme_support, in->pm.no_soft_reset ? '+' : '-', in->pm.state);
	if (in->msi.present)
		printf("  MSI:         %s, 64bit%c, per-vector mask%c, %u/%u vectors\n",
		       in->msi.enabled ? "enabled" : "disabled", in->msi.addr64 ? '+' : '-',
		       in->msi.per_vector_mask ? '+' : '-', in->msi.vectors_enabled,
		       in->msi.vectors_capable);
	if (in->msix.present)
		printf("  MSI-X:       %s, masked%c, %u entries, table BAR%u+0x%x, PBA "
		       "BAR%u+0x%x\n",
		       in->msix.enabled ? "enabled" : "disabled",
		       in->msix.function_mask ? '+' : '-', in->msix.table_size, in->msix.table_bir,
		       in->msix.table_offset, in->msix.pba_bir, in->msix.pba_offset);
	if (in->exp.present) {
		const struct hqio_pci_exp *e = &in->exp;
		printf("  PCIe:        v%u %s, FLReset%c, NoSnoop%c, MPS %u (max %u), MRRS %u, "
		       "TransPend%c\n",
		       e->version, hqio_pci_port_type_str(e->port_type), e->flr ? '+' : '-',
		       e->no_snoop_enabled ? '+' : '-', e->mps_bytes, e->mps_supported_bytes,
		       e->mrrs_bytes, e->transactions_pending ? '+' : '-');
		if (e->has_link)
			printf("  link:        %s x%u (max %s x%u), DLActive reporting%c, "
			       "DLActive%c\n",
			       hqio_pci_link_speed_str(e->link_speed), e->link_width,
			       hqio_pci_link_speed_str(e->link_speed_max), e->link_width_max,
			       e->dll_active_reporting ? '+' : '-', e->dll_link_active ? '+' : '-');
		if (e->has_root)
			printf("  root:        CRS SV capable%c, enabled%c\n",
			       e->crs_sv_capable ? '+' : '-', e->crs_sv_enabled ? '+' : '-');
	}
	if (in->af.present)
		printf("  AF:          TP%c FLR%c\n", in->af.tp ? '+' : '-',
		       in->af.flr ? '+' : '-');
	if (in->acs.present)
		printf("  ACS:         cap 0x%04x ctrl 0x%04x\n", in->acs.cap, in->acs.ctrl);
	if (in->sriov.present)
		printf("  SR-IOV:      %u/%u VFs (initial %u), enable%c, offset %u, stride %u, VF "
		       "device %04x\n",
		       in->sriov.num_vfs, in->sriov.total_vfs, in->sriov.initial_vfs,
		       in->sriov.vf_enable ? '+' : '-', in->sriov.vf_offset, in->sriov.vf_stride,
		       in->sriov.vf_device_id);
	if (in->ats.present || in->pri.present || in->pasid.present)
		printf("  ATS/PRI/PASID: %s/%s/%s\n",
		       in->ats.present ? (in->ats.enabled ? "enabled" : "present") : "-",
		       in->pri.present ? (in->pri.enabled ? "enabled" : "present") : "-",
		       in->pasid.present ? (in->pasid.enabled ? "enabled" : "present") : "-");
	if (in->aer.present)
		printf("  AER:         uncorrectable status 0x%08x, correctable status 0x%08x\n",
		       in->aer.uncor_status, in->aer.cor_status);
}

static void print_text(const struct hqio_names *names, const struct hqio_system *sys,
		       const struct hqio_pci_node *n, const struct hqio_assessment *a, int verbose)
{
	char b[HQIO_BDF_STR_MAX];
	const struct hqio_pci_info *in = n->info;
	bool decoded = in && hqio_pci_decode_usable(n->decode_rc);

	if (decoded) {
		print_names(names, n, a);
	} else {
		printf("%s (not decoded)\n", hqio_bdf_format(n->bdf, b, sizeof(b)));
	}
	printf("  verdict:     %s\n", hqio_verdict_str(a->verdict));
	for (unsigned i = 0; i < a->n_reasons; i++)
		printf("    %-9s  %s\n", hqio_level_str(a->reasons[i].level), a->reasons[i].text);
	if (!decoded) {
		printf("\n");
		return;
	}
	printf("  config:      %zu bytes read", n->cfg_len);
	if (n->cfg_size)
		printf(" of %zu", n->cfg_size);
	printf("\n");
	printf("  interrupts: ");
	if (a->intx)
		printf(" INTx %c", 'A' + in->int_pin - 1);
	if (a->msi)
		printf(" MSI(%u)", a->msi_vectors);
	if (a->msix)
		printf(" MSI-X(%u)", a->msix_vectors);
	if (in->std.unreadable)
		printf(" MSI/MSI-X unknown (capabilities not readable)");
	else if (!a->intx && !a->msi && !a->msix)
		printf(" none");
	printf("\n");
	for (int k = 0; k < HQIO_RESET_COUNT; k++) {
		const struct hqio_reset_eval *r = &a->resets[k];
		printf("  %-12s %-6s %-7s %s", k == 0 ? "reset:" : "", hqio_reset_name(r->kind),
		       tri(r->usable), r->reason);
		if (r->linux_lists != HQIO_UNKNOWN)
			printf(" [Linux: %s]",
			       r->linux_lists == HQIO_YES ? "listed" : "not listed");
		printf("\n");
	}
	if (n->reset_method_known)
		printf("  Linux:       reset_method \"%s\"\n",
		       n->reset_method[0] ? n->reset_method : "");
	if (a->iommu_group == -2)
		printf("  iommu group: unknown\n");
	else if (a->iommu_group == -1)
		printf("  iommu group: none\n");
	else {
		printf("  iommu group: %d:", a->iommu_group);
		for (unsigned i = 0; i < a->n_group; i++)
			printf(" %s", hqio_bdf_format(a->group[i], b, sizeof(b)));
		printf("\n");
	}
	printf("  ACS path:    %s", tri(a->acs_path_ok));
	for (unsigned i = 0; i < a->n_acs; i++)
		printf(" %s(%s)", hqio_bdf_format(a->acs[i].bdf, b, sizeof(b)),
		       a->acs[i].isolates      ? "isolates"
		       : a->acs[i].acs_present ? "partial"
					       : "none");
	printf("\n");
	printf("  No Snoop:    %s    ATS enabled: %s\n", tri(a->no_snoop), tri(a->ats_enabled));
	if (n->driver[0])
		printf("  driver:      %s\n", n->driver);
	printf("  capabilities:%s\n", in->std.unreadable ? " not readable"
				      : in->std.absent	 ? " none"
							 : "");
	print_caps(&in->std, false);
	if (in->exp.present) {
		printf("  extended capabilities:%s\n", in->ext.unreadable ? " not read"
						       : in->ext.absent	  ? " none"
									  : "");
		print_caps(&in->ext, true);
	}
	if (verbose)
		print_details(in);
	printf("\n");
	(void)sys;
}

/* ---------------------------------------------------------------- JSON */

static void json_caps(struct json *j, const char *key, const struct hqio_pci_cap_list *l, bool ext)
{
	json_obj(j, key);
	json_bool(j, "readable", !l->unreadable);
	json_bool(j, "present", !l->absent && !l->unreadable);
	if (l->defect) {
		json_obj(j, "defect");
		json_str(j, "kind", hqio_cap_defect_str(l->defect));
		json_int(j, "pointer", l->defect_ptr);
		json_int(j, "at", l->defect_from);
		json_obj_end(j);
	} else {
		json_null(j, "defect");
	}
	json_bool(j, "misaligned_pointer", l->misaligned);
	json_arr(j, "list");
	for (unsigned i = 0; i < l->n; i++) {
		const struct hqio_pci_cap *c = &l->caps[i];
		const char *name = ext ? hqio_pci_ext_cap_name(c->id) : hqio_pci_cap_name(c->id);
		json_obj(j, NULL);
		json_int(j, "offset", c->offset);
		json_int(j, "id", c->id);
		if (ext)
			json_int(j, "version", c->version);
		json_str(j, "name", name);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void json_tri(struct json *j, const char *key, enum hqio_tristate t)
{
	if (t == HQIO_UNKNOWN)
		json_null(j, key);
	else
		json_bool(j, key, t == HQIO_YES);
}

static void json_feature(struct json *j, const char *key, const struct hqio_pci_ext_feature *f)
{
	if (!f->present) {
		json_null(j, key);
		return;
	}
	json_obj(j, key);
	json_int(j, "offset", f->offset);
	json_bool(j, "enabled", f->enabled);
	json_obj_end(j);
}

static void json_details(struct json *j, const struct hqio_pci_info *in)
{
	char b[HQIO_BDF_STR_MAX];
	(void)b;
	json_arr(j, "bars");
	for (unsigned i = 0; i < in->n_bars; i++) {
		const struct hqio_pci_bar *bar = &in->bars[i];
		if (bar->kind == HQIO_BAR_UNUSED || bar->kind == HQIO_BAR_UPPER)
			continue;
		json_obj(j, NULL);
		json_int(j, "index", i);
		json_str(j, "kind", hqio_pci_bar_kind_str(bar->kind));
		json_bool(j, "prefetchable", bar->prefetchable);
		json_hex(j, "address", bar->address, 1);
		if (bar->size_known)
			json_u64(j, "size", bar->size);
		else
			json_null(j, "size");
		json_bool(j, "truncated", bar->truncated);
		json_obj_end(j);
	}
	json_arr_end(j);
	if (in->rom_present) {
		json_obj(j, "rom");
		json_hex(j, "address", in->rom_address, 1);
		json_bool(j, "enabled", in->rom_enabled);
		json_obj_end(j);
	} else {
		json_null(j, "rom");
	}
	if (in->header_type == HQIO_PCI_HEADER_TYPE_BRIDGE) {
		json_obj(j, "bridge");
		json_int(j, "primary_bus", in->primary_bus);
		json_int(j, "secondary_bus", in->secondary_bus);
		json_int(j, "subordinate_bus", in->subordinate_bus);
		json_hex(j, "control", in->bridge_control, 4);
		json_obj_end(j);
	} else {
		json_null(j, "bridge");
	}
	if (in->pm.present) {
		json_obj(j, "pm");
		json_int(j, "offset", in->pm.offset);
		json_int(j, "version", in->pm.version);
		json_bool(j, "d1", in->pm.d1);
		json_bool(j, "d2", in->pm.d2);
		json_int(j, "pme_support", in->pm.pme_support);
		json_bool(j, "no_soft_reset", in->pm.no_soft_reset);
		json_int(j, "state", in->pm.state);
		json_obj_end(j);
	} else {
		json_null(j, "pm");
	}
	if (in->msi.present) {
		json_obj(j, "msi");
		json_int(j, "offset", in->msi.offset);
		json_bool(j, "enabled", in->msi.enabled);
		json_bool(j, "addr64", in->msi.addr64);
		json_bool(j, "per_vector_mask", in->msi.per_vector_mask);
		json_int(j, "vectors_capable", in->msi.vectors_capable);
		json_int(j, "vectors_enabled", in->msi.vectors_enabled);
		json_obj_end(j);
	} else {
		json_null(j, "msi");
	}
	if (in->msix.present) {
		json_obj(j, "msix");
		json_int(j, "offset", in->msix.offset);
		json_bool(j, "enabled", in->msix.enabled);
		json_bool(j, "function_mask", in->msix.function_mask);
		json_int(j, "table_size", in->msix.table_size);
		json_int(j, "table_bir", in->msix.table_bir);
		json_hex(j, "table_offset", in->msix.table_offset, 1);
		json_int(j, "pba_bir", in->msix.pba_bir);
		json_hex(j, "pba_offset", in->msix.pba_offset, 1);
		json_obj_end(j);
	} else {
		json_null(j, "msix");
	}
	if (in->exp.present) {
		const struct hqio_pci_exp *e = &in->exp;
		json_obj(j, "pcie");
		json_int(j, "offset", e->offset);
		json_int(j, "version", e->version);
		json_int(j, "port_type", e->port_type);
		json_str(j, "port_type_name", hqio_pci_port_type_str(e->port_type));
		json_bool(j, "flr", e->flr);
		json_int(j, "mps_supported", e->mps_supported_bytes);
		json_int(j, "mps", e->mps_bytes);
		json_int(j, "mrrs", e->mrrs_bytes);
		json_bool(j, "no_snoop_enabled", e->no_snoop_enabled);
		json_bool(j, "relaxed_ordering", e->relaxed_ordering);
		json_bool(j, "transactions_pending", e->transactions_pending);
		if (e->has_link) {
			json_obj(j, "link");
			json_str(j, "speed_max", hqio_pci_link_speed_str(e->link_speed_max));
			json_int(j, "width_max", e->link_width_max);
			json_str(j, "speed", hqio_pci_link_speed_str(e->link_speed));
			json_int(j, "width", e->link_width);
			json_bool(j, "dll_active_reporting", e->dll_active_reporting);
			json_bool(j, "dll_link_active", e->dll_link_active);
			json_obj_end(j);
		} else {
			json_null(j, "link");
		}
		if (e->has_root) {
			json_obj(j, "root");
			json_bool(j, "crs_sv_capable", e->crs_sv_capable);
			json_bool(j, "crs_sv_enabled", e->crs_sv_enabled);
			json_obj_end(j);
		} else {
			json_null(j, "root");
		}
		json_obj_end(j);
	} else {
		json_null(j, "pcie");
	}
	if (in->af.present) {
		json_obj(j, "af");
		json_int(j, "offset", in->af.offset);
		json_bool(j, "tp", in->af.tp);
		json_bool(j, "flr", in->af.flr);
		json_obj_end(j);
	} else {
		json_null(j, "af");
	}
	if (in->acs.present) {
		json_obj(j, "acs");
		json_int(j, "offset", in->acs.offset);
		json_hex(j, "cap", in->acs.cap, 4);
		json_hex(j, "ctrl", in->acs.ctrl, 4);
		json_obj_end(j);
	} else {
		json_null(j, "acs");
	}
	if (in->sriov.present) {
		const struct hqio_pci_sriov *s = &in->sriov;
		json_obj(j, "sriov");
		json_int(j, "offset", s->offset);
		json_bool(j, "vf_enable", s->vf_enable);
		json_int(j, "initial_vfs", s->initial_vfs);
		json_int(j, "total_vfs", s->total_vfs);
		json_int(j, "num_vfs", s->num_vfs);
		json_int(j, "vf_offset", s->vf_offset);
		json_int(j, "vf_stride", s->vf_stride);
		json_hex(j, "vf_device_id", s->vf_device_id, 4);
		json_obj_end(j);
	} else {
		json_null(j, "sriov");
	}
	json_feature(j, "ats", &in->ats);
	json_feature(j, "pri", &in->pri);
	json_feature(j, "pasid", &in->pasid);
	if (in->aer.present) {
		json_obj(j, "aer");
		json_int(j, "offset", in->aer.offset);
		json_hex(j, "uncorrectable_status", in->aer.uncor_status, 8);
		json_hex(j, "uncorrectable_mask", in->aer.uncor_mask, 8);
		json_hex(j, "correctable_status", in->aer.cor_status, 8);
		json_obj_end(j);
	} else {
		json_null(j, "aer");
	}
}

static void print_json_dev(struct json *j, const struct hqio_names *names,
			   const struct hqio_pci_node *n, const struct hqio_assessment *a)
{
	char b[HQIO_BDF_STR_MAX], nb[160];
	const struct hqio_pci_info *in = n->info;
	bool decoded = in && hqio_pci_decode_usable(n->decode_rc);

	json_obj(j, NULL);
	json_str(j, "bdf", hqio_bdf_format(n->bdf, b, sizeof(b)));
	json_int(j, "config_bytes_read", (long long)n->cfg_len);
	if (n->cfg_size)
		json_int(j, "config_bytes_total", (long long)n->cfg_size);
	else
		json_null(j, "config_bytes_total");
	json_obj(j, "decode");
	json_bool(j, "ok", n->decode_rc == 0);
	json_str(j, "error", n->decode_rc ? n->decode_msg : NULL);
	json_obj_end(j);
	if (decoded) {
		json_hex(j, "vendor_id", a->vendor_id, 4);
		json_hex(j, "device_id", a->device_id, 4);
		json_str(j, "vendor_name", hqio_names_vendor(names, a->vendor_id, nb, sizeof(nb)));
		json_str(j, "device_name",
			 hqio_names_device(names, a->vendor_id, a->device_id, nb, sizeof(nb)));
		json_hex(j, "class", in->class_code, 6);
		json_str(j, "class_name", hqio_names_class(names, in->class_code, nb, sizeof(nb)));
		json_int(j, "revision", in->revision);
		json_int(j, "header_type", in->header_type);
		json_bool(j, "multifunction", in->multifunction);
		if (in->header_type == HQIO_PCI_HEADER_TYPE_NORMAL) {
			json_hex(j, "subsystem_vendor_id", in->subsys_vendor, 4);
			json_hex(j, "subsystem_id", in->subsys_id, 4);
		}
		json_hex(j, "command", in->command, 4);
		json_obj(j, "status");
		json_hex(j, "raw", in->status, 4);
		json_bool(j, "capabilities_list", in->cap_list);
		json_bool(j, "interrupt_status", in->intx_status);
		json_bool(j, "immediate_readiness", in->imm_ready);
		json_obj_end(j);
		json_obj(j, "interrupts");
		if (a->intx) {
			char pin[2] = { (char)('A' + in->int_pin - 1), 0 };
			json_str(j, "intx", pin);
		} else {
			json_null(j, "intx");
		}
		json_int(j, "irq_line", in->int_line);
		json_int(j, "msi_vectors", a->msi_vectors);
		json_int(j, "msix_vectors", a->msix_vectors);
		json_obj_end(j);
		json_caps(j, "capabilities", &in->std, false);
		json_caps(j, "extended_capabilities", &in->ext, true);
		json_details(j, in);
	}
	if (a->vf) {
		json_obj(j, "vf");
		json_str(j, "pf", a->vf_pf_known ? hqio_bdf_format(a->vf_pf, b, sizeof(b)) : NULL);
		if (a->vf_pf_known)
			json_int(j, "index", a->vf_index);
		else
			json_null(j, "index");
		json_obj_end(j);
	} else {
		json_null(j, "vf");
	}
	json_arr(j, "reset_methods");
	for (int k = 0; k < HQIO_RESET_COUNT; k++) {
		const struct hqio_reset_eval *r = &a->resets[k];
		json_obj(j, NULL);
		json_str(j, "method", hqio_reset_name(r->kind));
		json_str(j, "usable", tri(r->usable));
		json_str(j, "reason", r->reason);
		json_tri(j, "linux", r->linux_lists);
		if (r->kind == HQIO_RESET_BUS) {
			json_arr(j, "affects");
			for (unsigned i = 0; i < r->n_affected; i++)
				json_str(j, NULL, hqio_bdf_format(r->affected[i], b, sizeof(b)));
			json_arr_end(j);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	json_str(j, "linux_reset_method", n->reset_method_known ? n->reset_method : NULL);
	json_str(j, "driver", n->driver[0] ? n->driver : NULL);
	json_obj(j, "iommu");
	json_bool(j, "known", a->iommu_group != -2);
	if (a->iommu_group >= 0)
		json_int(j, "group", a->iommu_group);
	else
		json_null(j, "group");
	json_arr(j, "members");
	for (unsigned i = 0; i < a->n_group; i++)
		json_str(j, NULL, hqio_bdf_format(a->group[i], b, sizeof(b)));
	json_arr_end(j);
	json_obj_end(j);
	json_obj(j, "acs_path");
	json_tri(j, "isolated", a->acs_path_ok);
	json_arr(j, "hops");
	for (unsigned i = 0; i < a->n_acs; i++) {
		json_obj(j, NULL);
		json_str(j, "bdf", hqio_bdf_format(a->acs[i].bdf, b, sizeof(b)));
		json_bool(j, "acs", a->acs[i].acs_present);
		json_hex(j, "ctrl", a->acs[i].ctrl, 4);
		json_bool(j, "isolates", a->acs[i].isolates);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
	json_tri(j, "no_snoop_enabled", a->no_snoop);
	json_tri(j, "ats_enabled", a->ats_enabled);
	json_str(j, "verdict", hqio_verdict_str(a->verdict));
	json_arr(j, "reasons");
	for (unsigned i = 0; i < a->n_reasons; i++) {
		json_obj(j, NULL);
		json_str(j, "level", hqio_level_str(a->reasons[i].level));
		json_str(j, "text", a->reasons[i].text);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

/* ---------------------------------------------------------------- main */

static int parse_args(int argc, char **argv, struct inspect_opts *o)
{
	static const struct option longopts[] = {
		{ "sysfs", no_argument, NULL, 's' },
		{ "dump", required_argument, NULL, 'd' },
		{ "sysfs-dir", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool sysfs = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vhj", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			sysfs = true;
			break;
		case 'd':
			o->dump = optarg;
			break;
		case 'D':
			o->sysfs_dir = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		default:
			fprintf(stderr,
				"hqio inspect: unknown or incomplete option '%s' (see 'hqio "
				"inspect "
				"--help')\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (sysfs && o->dump) {
		fprintf(stderr, "hqio inspect: --sysfs and --dump exclude each other\n");
		return -1;
	}
	if (o->sysfs_dir && o->dump) {
		fprintf(stderr, "hqio inspect: --sysfs-dir and --dump exclude each other\n");
		return -1;
	}
	o->n_only = (size_t)(argc - optind);
	if (o->n_only) {
		o->only = calloc(o->n_only, sizeof(*o->only));
		if (!o->only)
			return -1;
	}
	for (int i = optind; i < argc; i++) {
		if (hqio_bdf_parse(argv[i], &o->only[i - optind]) != 0) {
			fprintf(stderr,
				"hqio inspect: '%s' is not a PCI address ([DDDD:]BB:DD.F, hex)\n",
				argv[i]);
			return -1;
		}
	}
	return 0;
}

static bool selected(const struct hqio_bdf *only, size_t n_only, struct hqio_bdf b)
{
	if (!n_only)
		return true;
	for (size_t i = 0; i < n_only; i++)
		if (hqio_bdf_cmp(only[i], b) == 0)
			return true;
	return false;
}

int cmd_inspect(int argc, char **argv)
{
	struct inspect_opts o = { 0 };
	struct hqio_system sys = { 0 };
	struct hqio_error err = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc) {
		free(o.only);
		return rc > 0 ? HQIO_EXIT_OK : HQIO_EXIT_USAGE;
	}
	if (o.dump)
		rc = hqio_dump_load(o.dump, &sys, &err);
	else
		rc = hqio_sysfs_read(o.sysfs_dir, o.only, o.n_only, &sys, &err);
	if (rc == 0)
		rc = hqio_system_decode(&sys, &err);
	if (rc < 0) {
		fprintf(stderr, "hqio inspect: %s\n", err.msg);
		hqio_system_free(&sys);
		free(o.only);
		return HQIO_EXIT_FAIL;
	}
	for (size_t i = 0; i < o.n_only; i++) {
		if (!hqio_system_find(&sys, o.only[i])) {
			char b[HQIO_BDF_STR_MAX];
			fprintf(stderr, "hqio inspect: no device %s in %s\n",
				hqio_bdf_format(o.only[i], b, sizeof(b)),
				o.dump ? o.dump : "sysfs");
			hqio_system_free(&sys);
			free(o.only);
			return HQIO_EXIT_FAIL;
		}
	}
	struct inspect_report_opts ro = {
		.json = o.json,
		.verbose = o.verbose,
		.source = o.dump ? "dump" : "sysfs",
		.dump_file = o.dump,
		.only = o.only,
		.n_only = o.n_only,
	};
	rc = inspect_report(&sys, &ro);
	hqio_system_free(&sys);
	free(o.only);
	return rc;
}

int inspect_report(const struct hqio_system *sys, const struct inspect_report_opts *ro)
{
	struct hqio_names names;
	hqio_names_load(&names);
	struct hqio_assessment *a = malloc(sizeof(*a));
	if (!a) {
		fprintf(stderr, "hqio: out of memory\n");
		hqio_names_free(&names);
		return HQIO_EXIT_FAIL;
	}
	struct json j;
	if (ro->json) {
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_int(&j, "format_version", INSPECT_JSON_VERSION);
		json_str(&j, "source", ro->source);
		json_str(&j, "dump_file", ro->dump_file);
		json_bool(&j, "config_limited", sys->cfg_limited);
		json_str(&j, "names", names.text ? names.path : NULL);
		json_arr(&j, "devices");
	} else if (sys->cfg_limited) {
		printf("note: not running as root: Linux returned only the first 64 bytes of "
		       "configuration space;\n      capabilities are reported as not readable, not "
		       "absent.\n\n");
	}
	for (size_t i = 0; i < sys->n; i++) {
		const struct hqio_pci_node *n = &sys->nodes[i];
		if (!selected(ro->only, ro->n_only, n->bdf))
			continue;
		hqio_assess(sys, n, a);
		if (ro->json)
			print_json_dev(&j, &names, n, a);
		else
			print_text(&names, sys, n, a, ro->verbose);
	}
	if (ro->json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	}
	free(a);
	hqio_names_free(&names);
	return fflush(stdout) == 0 ? HQIO_EXIT_OK : HQIO_EXIT_FAIL;
}
