/*
 * hqio reset plan: which reset methods can work for a PCI function, in the
 * order they would be tried, why the others cannot, how quiesce knows the
 * device's DMA is over, and whether the function may be assigned at all
 * (lib/reset/plan.c). It only reads: nothing is reset.
 */
#include "commands.h"
#include "dump_load.h"
#include "json.h"
#include "names.h"
#include "sysfs.h"

#include "devices/devices.h"
#include "hqio/reset.h"
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESET_PLAN_JSON_VERSION 1 /* bump on incompatible changes; see docs/reset-plan.md */
#define MAX_OWNER_OF		64

static const char usage_text[] =
	"usage: hqio reset plan (--sysfs BDF... | --dump FILE [BDF...] | --sim DEV)\n"
	"                       [--owner N] [--owner-of BDF=N]... [--force] [--json]\n"
	"\n"
	"Plan the reset of a PCI function before it is assigned to (or reclaimed\n"
	"from) an owner: the usable reset methods in the order they would be tried\n"
	"(device_specific, flr, af_flr, pm, bus), a reason for each, the functions a\n"
	"bus reset also resets, how quiesce knows the DMA is over, whether the IOMMU\n"
	"group is viable, and a refusal when the function must not be assigned.\n"
	"Nothing is reset.\n"
	"\n"
	"  --sysfs           read the live system from /sys/bus/pci/devices\n"
	"  --sysfs-dir DIR   read devices from DIR instead (implies --sysfs)\n"
	"  --dump FILE       an `lspci -x/-xxx/-xxxx` text dump ('-' = stdin);\n"
	"                    without BDF, every function in it\n"
	"  --sim DEV         a device of the simulated reference machine: nvme, nic0,\n"
	"                    nic1, hda, legacy (PCI 2.3), legacy22 (PCI 2.2), gpu, edu\n"
	"  --owner N         the owner the function goes to (default 1)\n"
	"  --owner-of BDF=N  another function's owner (0: the host); functions not\n"
	"                    named go with the function when they share its IOMMU\n"
	"                    group and stay with the host otherwise. Without any\n"
	"                    --owner-of, the function's IOMMU group is one owner.\n"
	"  --force           plan even without a usable reset method\n"
	"  --json            machine-readable output (docs/reset-plan.md)\n"
	"  -h, --help        this text\n"
	"\n"
	"Exit status: 0 every plan is usable, 1 a plan was refused or the input\n"
	"could not be read, 2 wrong arguments.\n";

static const char *const sim_devices[] = { "nvme",   "nic0",	 "nic1", "hda",
					   "legacy", "legacy22", "gpu",	 "edu" };

struct owner_map {
	unsigned n;
	struct hqio_bdf bdf[MAX_OWNER_OF];
	int owner[MAX_OWNER_OF];
	/* for functions not named */
	const struct hqio_pci_node *node;
	const struct hqio_system *sys;
	int node_owner;
};

struct plan_opts {
	bool sysfs;
	const char *sysfs_dir;
	const char *dump;
	const char *sim;
	bool json;
	bool force;
	int owner;
	struct owner_map map;
	struct hqio_bdf *only;
	size_t n_only;
};

static int owner_from_map(void *arg, struct hqio_bdf bdf)
{
	const struct owner_map *m = arg;
	for (unsigned i = 0; i < m->n; i++)
		if (hqio_bdf_cmp(m->bdf[i], bdf) == 0)
			return m->owner[i];
	const struct hqio_pci_node *n = m->node;
	for (size_t i = 0; i < m->sys->n; i++) {
		const struct hqio_pci_node *o = &m->sys->nodes[i];
		if (hqio_bdf_cmp(o->bdf, bdf) == 0)
			return n->iommu_known && o->iommu_known && n->iommu_group >= 0 &&
					       o->iommu_group == n->iommu_group
				       ? m->node_owner
				       : HQIO_OWNER_HOST;
	}
	return HQIO_OWNER_HOST;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 0);
	if (!*s || *end || v < 0 || v > 1000000)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_owner_of(const char *arg, struct owner_map *m)
{
	char bdf[64];
	const char *eq = strchr(arg, '=');
	if (!eq || (size_t)(eq - arg) >= sizeof(bdf)) {
		fprintf(stderr, "hqio reset plan: --owner-of needs BDF=N, not '%s'\n", arg);
		return -1;
	}
	memcpy(bdf, arg, (size_t)(eq - arg));
	bdf[eq - arg] = '\0';
	if (m->n >= MAX_OWNER_OF) {
		fprintf(stderr, "hqio reset plan: at most %d --owner-of\n", MAX_OWNER_OF);
		return -1;
	}
	if (hqio_bdf_parse(bdf, &m->bdf[m->n]) != 0) {
		fprintf(stderr,
			"hqio reset plan: '%s' is not a PCI address ([DDDD:]BB:DD.F, hex)\n", bdf);
		return -1;
	}
	if (parse_int(eq + 1, &m->owner[m->n]) != 0) {
		fprintf(stderr, "hqio reset plan: --owner-of %s: '%s' is not an owner number\n",
			bdf, eq + 1);
		return -1;
	}
	m->n++;
	return 0;
}

/* 0 ok, 1 --help shown, -1 usage error (message printed). */
static int parse_args(int argc, char **argv, struct plan_opts *o)
{
	static const struct option longopts[] = {
		{ "sysfs", no_argument, NULL, 's' },
		{ "sysfs-dir", required_argument, NULL, 'D' },
		{ "dump", required_argument, NULL, 'd' },
		{ "sim", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "owner", required_argument, NULL, 'o' },
		{ "owner-of", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	o->owner = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hj", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->sysfs = true;
			break;
		case 'D':
			o->sysfs = true;
			o->sysfs_dir = optarg;
			break;
		case 'd':
			o->dump = optarg;
			break;
		case 'S':
			o->sim = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'f':
			o->force = true;
			break;
		case 'o':
			if (parse_int(optarg, &o->owner) != 0 || o->owner == 0) {
				fprintf(stderr,
					"hqio reset plan: --owner needs an owner number > 0, not "
					"'%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'O':
			if (parse_owner_of(optarg, &o->map) != 0)
				return -1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case ':':
			fprintf(stderr, "hqio reset plan: option '%s' needs an argument\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr,
				"hqio reset plan: unknown option '%s' (see 'hqio reset plan "
				"--help')\n",
				argv[optind - 1]);
			return -1;
		}
	}
	int sources = (o->sysfs ? 1 : 0) + (o->dump ? 1 : 0) + (o->sim ? 1 : 0);
	if (sources != 1) {
		fprintf(stderr,
			sources ? "hqio reset plan: --sysfs, --dump and --sim exclude each "
				  "other\n"
				: "hqio reset plan: say which function: --sysfs BDF, --dump "
				  "FILE [BDF] or --sim DEV (see --help)\n");
		return -1;
	}
	if (o->sim) {
		bool known = false;
		for (size_t i = 0; i < sizeof(sim_devices) / sizeof(sim_devices[0]); i++)
			known = known || !strcmp(o->sim, sim_devices[i]);
		if (!known) {
			fprintf(stderr,
				"hqio reset plan: no simulated device '%s' (nvme, nic0, nic1, hda, "
				"legacy, legacy22, gpu, edu)\n",
				o->sim);
			return -1;
		}
		if (optind < argc) {
			fprintf(stderr, "hqio reset plan: --sim takes no BDF ('%s')\n",
				argv[optind]);
			return -1;
		}
	}
	if (o->sysfs && optind == argc) {
		fprintf(stderr, "hqio reset plan: --sysfs needs the BDF of the function to plan\n");
		return -1;
	}
	o->n_only = (size_t)(argc - optind);
	if (o->n_only && !(o->only = calloc(o->n_only, sizeof(*o->only)))) {
		fprintf(stderr, "hqio reset plan: out of memory\n");
		return -1;
	}
	for (int i = optind; i < argc; i++) {
		if (hqio_bdf_parse(argv[i], &o->only[i - optind]) != 0) {
			fprintf(stderr,
				"hqio reset plan: '%s' is not a PCI address ([DDDD:]BB:DD.F, "
				"hex)\n",
				argv[i]);
			return -1;
		}
	}
	return 0;
}

/* The catalogue device's BDF on the reference machine. */
static struct hqio_bdf sim_bdf(const struct sim_reference *r, const char *name)
{
	const struct sim_fn *f = !strcmp(name, "nvme")	     ? r->nvme
				 : !strcmp(name, "nic0")     ? r->nic[0]
				 : !strcmp(name, "nic1")     ? r->nic[1]
				 : !strcmp(name, "hda")	     ? r->hda
				 : !strcmp(name, "legacy")   ? r->legacy23
				 : !strcmp(name, "legacy22") ? r->legacy22
				 : !strcmp(name, "gpu")	     ? r->gpu
							     : r->edu;
	return sim_fn_bdf(f);
}

/* ---------------------------------------------------------------- text */

static void print_offset(const char *name, uint16_t off)
{
	if (off)
		printf("  %s 0x%03x", name, off);
	else
		printf("  %s -", name);
}

static const char *idle_text(enum hqio_idle_kind k)
{
	switch (k) {
	case HQIO_IDLE_TP_PCIE:
		return "PCIe Device Status Transactions Pending";
	case HQIO_IDLE_TP_AF:
		return "AF Status Transactions Pending";
	case HQIO_IDLE_REGISTER:
		return "a device register";
	default:
		return "no Transactions Pending bit: wait out the worst-case DMA latency";
	}
}

static void print_header(const struct hqio_names *names, const struct hqio_pci_node *n)
{
	char b[HQIO_BDF_STR_MAX], vb[128], db[160], cb[128];
	const struct hqio_pci_info *in = n->info;
	const char *cls = hqio_names_class(names, in->class_code, cb, sizeof(cb));
	const char *vn = hqio_names_vendor(names, in->vendor_id, vb, sizeof(vb));
	const char *dn = hqio_names_device(names, in->vendor_id, in->device_id, db, sizeof(db));
	printf("%s %s [%04x]: %s%s%s [%04x:%04x]\n", hqio_bdf_format(n->bdf, b, sizeof(b)),
	       cls ? cls : "Class", in->class_code >> 8, vn ? vn : "", vn ? " " : "",
	       dn ? dn : "Device", in->vendor_id, in->device_id);
}

static void print_text(const struct hqio_names *names, const struct hqio_pci_node *n,
		       const struct hqio_reset_plan *pl)
{
	char b[HQIO_BDF_STR_MAX];
	print_header(names, n);
	if (pl->refused) {
		printf("  plan:        refused: %s\n", pl->refusal);
	} else if (pl->n_methods == 0) {
		printf("  plan:        forced: no reset method, quiesce only\n");
	} else {
		printf("  plan:        ready: try");
		for (unsigned i = 0; i < pl->n_methods; i++)
			printf("%s %s", i ? (i + 1 == pl->n_methods ? ", then" : ",") : "",
			       hqio_reset_method_name(pl->methods[i]));
		printf("\n");
	}
	for (int m = 0; m < HQIO_RM_COUNT; m++)
		printf("  %-12s %-15s %-4s %s\n", m == 0 ? "reset:" : "",
		       hqio_reset_method_name((enum hqio_reset_method)m),
		       pl->eval[m].usable ? "yes" : "no", pl->eval[m].reason);
	if (n->parent_known && !n->on_root_bus) {
		printf("  parent:      %s", hqio_bdf_format(pl->parent, b, sizeof(b)));
		if (pl->parent_link_speed)
			printf(", link %s", hqio_pci_link_speed_str(pl->parent_link_speed));
		if (pl->parent_conventional_secondary)
			printf(", conventional PCI secondary bus (Trhfa applies)");
		printf("\n");
	}
	if (pl->n_affected) {
		printf("  bus resets:  ");
		for (unsigned i = 0; i < pl->n_affected; i++)
			printf("%s%s", i ? " " : "",
			       hqio_bdf_format(pl->affected[i], b, sizeof(b)));
		printf("\n");
	}
	printf("  quiesce:     %s: %s", hqio_idle_kind_name(pl->idle), idle_text(pl->idle));
	if (pl->idle == HQIO_IDLE_REGISTER)
		printf(" (BAR%u+0x%x & 0x%x == 0x%x)", pl->idle_bar, pl->idle_off, pl->idle_mask,
		       pl->idle_value);
	if (pl->idle == HQIO_IDLE_WAIT || pl->idle_wait_ns)
		printf(", %llu ms", (unsigned long long)(pl->idle_wait_ns / 1000000));
	if (pl->quirk && (pl->quirk->flags & HQIO_QUIRK_TP_UNTRUSTED))
		printf(" (quirk)");
	printf("\n");
	if (!n->iommu_known) {
		printf("  group:       IOMMU group unknown (not in a dump): viability not "
		       "checked\n");
	} else if (pl->group_viable) {
		if (n->iommu_group >= 0)
			printf("  group:       IOMMU group %d, viable\n", n->iommu_group);
		else
			printf("  group:       no IOMMU group\n");
	} else {
		printf("  group:       IOMMU group %d, not viable: other owners hold",
		       n->iommu_group);
		for (unsigned i = 0; i < pl->n_group_others; i++)
			printf(" %s", hqio_bdf_format(pl->group_others[i], b, sizeof(b)));
		printf("\n");
	}
	if (pl->quirk)
		printf("  quirk:       %04x:%04x: %s\n", pl->quirk->vendor, pl->quirk->device,
		       pl->quirk->why ? pl->quirk->why : "");
	printf("  offsets:   ");
	print_offset("exp", pl->exp);
	print_offset("af", pl->af);
	print_offset("pm", pl->pm);
	print_offset("msi", pl->msi);
	print_offset("msix", pl->msix);
	print_offset("ats", pl->ats);
	printf("\n");
	printf("  flags:       VF %s, Immediate Readiness %s, ATS enabled %s\n",
	       pl->vf ? "yes" : "no", pl->imm_ready ? "yes" : "no", pl->ats_enabled ? "yes" : "no");
	if (n->driver[0])
		printf("  driver:      %s\n", n->driver);
	printf("\n");
}

/* ---------------------------------------------------------------- JSON */

static void json_offset(struct json *j, const char *key, uint16_t off)
{
	if (off)
		json_int(j, key, off);
	else
		json_null(j, key);
}

static void print_json(struct json *j, const struct plan_opts *o, const struct hqio_pci_node *n,
		       const struct hqio_reset_plan *pl)
{
	static const char *const flag_names[] = { "no_flr", "no_pm_reset", "no_bus_reset",
						  "tp_untrusted", "device_reset" };
	char b[HQIO_BDF_STR_MAX];
	const struct hqio_pci_info *in = n->info;
	json_obj(j, NULL);
	json_str(j, "bdf", hqio_bdf_format(n->bdf, b, sizeof(b)));
	json_hex(j, "vendor_id", in->vendor_id, 4);
	json_hex(j, "device_id", in->device_id, 4);
	json_hex(j, "class", in->class_code, 6);
	json_int(j, "owner", o->owner);
	json_bool(j, "force", o->force);
	json_bool(j, "refused", pl->refused);
	json_str(j, "refusal", pl->refused ? pl->refusal : NULL);
	json_arr(j, "methods");
	for (unsigned i = 0; i < pl->n_methods; i++)
		json_str(j, NULL, hqio_reset_method_name(pl->methods[i]));
	json_arr_end(j);
	json_arr(j, "evaluations");
	for (int m = 0; m < HQIO_RM_COUNT; m++) {
		json_obj(j, NULL);
		json_str(j, "method", hqio_reset_method_name((enum hqio_reset_method)m));
		json_bool(j, "usable", pl->eval[m].usable);
		json_str(j, "reason", pl->eval[m].reason);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj(j, "bus_reset");
	json_str(j, "parent",
		 n->parent_known && !n->on_root_bus ? hqio_bdf_format(pl->parent, b, sizeof(b))
						    : NULL);
	if (pl->parent_link_speed)
		json_int(j, "parent_link_speed", pl->parent_link_speed);
	else
		json_null(j, "parent_link_speed");
	json_bool(j, "parent_conventional_secondary", pl->parent_conventional_secondary);
	json_arr(j, "affected");
	for (unsigned i = 0; i < pl->n_affected; i++)
		json_str(j, NULL, hqio_bdf_format(pl->affected[i], b, sizeof(b)));
	json_arr_end(j);
	json_obj_end(j);
	json_obj(j, "quiesce");
	json_str(j, "idle", hqio_idle_kind_name(pl->idle));
	if (pl->idle == HQIO_IDLE_REGISTER) {
		json_int(j, "bar", pl->idle_bar);
		json_hex(j, "offset", pl->idle_off, 1);
		json_hex(j, "mask", pl->idle_mask, 8);
		json_hex(j, "value", pl->idle_value, 8);
	}
	if (pl->idle == HQIO_IDLE_WAIT || pl->idle_wait_ns)
		json_u64(j, "wait_ns", pl->idle_wait_ns);
	else
		json_null(j, "wait_ns");
	json_obj_end(j);
	json_obj(j, "group");
	json_bool(j, "known", n->iommu_known);
	if (n->iommu_known && n->iommu_group >= 0)
		json_int(j, "iommu_group", n->iommu_group);
	else
		json_null(j, "iommu_group");
	json_bool(j, "viable", pl->group_viable);
	json_arr(j, "others");
	for (unsigned i = 0; i < pl->n_group_others; i++)
		json_str(j, NULL, hqio_bdf_format(pl->group_others[i], b, sizeof(b)));
	json_arr_end(j);
	json_obj_end(j);
	if (pl->quirk) {
		json_obj(j, "quirk");
		json_hex(j, "vendor_id", pl->quirk->vendor, 4);
		json_hex(j, "device_id", pl->quirk->device, 4);
		json_arr(j, "flags");
		for (unsigned i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
			if (pl->quirk->flags & (1u << i))
				json_str(j, NULL, flag_names[i]);
		json_arr_end(j);
		json_str(j, "why", pl->quirk->why);
		json_obj_end(j);
	} else {
		json_null(j, "quirk");
	}
	json_obj(j, "offsets");
	json_offset(j, "exp", pl->exp);
	json_offset(j, "af", pl->af);
	json_offset(j, "pm", pl->pm);
	json_offset(j, "msi", pl->msi);
	json_offset(j, "msix", pl->msix);
	json_offset(j, "ats", pl->ats);
	json_obj_end(j);
	json_bool(j, "vf", pl->vf);
	json_bool(j, "immediate_readiness", pl->imm_ready);
	json_bool(j, "ats_enabled", pl->ats_enabled);
	json_str(j, "driver", n->driver[0] ? n->driver : NULL);
	json_obj_end(j);
}

/* ---------------------------------------------------------------- main */

static int load(struct plan_opts *o, struct sim_platform **simp, struct hqio_system *sys,
		struct hqio_error *err)
{
	if (o->dump) {
		int rc = hqio_dump_load(o->dump, sys, err);
		return rc ? rc : hqio_system_decode(sys, err);
	}
	if (o->sysfs) {
		/* The whole system: siblings, the parent bridge and the IOMMU
		 * group matter, not only the function planned. */
		int rc = hqio_sysfs_read(o->sysfs_dir, NULL, 0, sys, err);
		return rc ? rc : hqio_system_decode(sys, err);
	}
	struct sim_reference ref;
	*simp = sim_platform_new(1, 64ULL << 20);
	if (!*simp || sim_build_reference_ex(*simp, &ref) != 0 || sim_snapshot(*simp, sys) != 0)
		return hqio_error_set(err, -ENOMEM, "cannot build the simulated machine");
	o->n_only = 1;
	o->only = calloc(1, sizeof(*o->only));
	if (!o->only)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	o->only[0] = sim_bdf(&ref, o->sim);
	return 0;
}

static bool selected(const struct plan_opts *o, struct hqio_bdf b)
{
	if (!o->n_only)
		return true;
	for (size_t i = 0; i < o->n_only; i++)
		if (hqio_bdf_cmp(o->only[i], b) == 0)
			return true;
	return false;
}

static int plan_cmd(int argc, char **argv)
{
	struct plan_opts o = { 0 };
	struct hqio_system sys = { 0 };
	struct hqio_error err = { 0 };
	struct sim_platform *simp = NULL;
	char b[HQIO_BDF_STR_MAX];
	int ret = HQIO_EXIT_OK;

	int rc = parse_args(argc, argv, &o);
	if (rc) {
		free(o.only);
		return rc > 0 ? HQIO_EXIT_OK : HQIO_EXIT_USAGE;
	}
	const char *source = o.dump ? o.dump : o.sysfs ? "sysfs" : "the simulated machine";
	if (load(&o, &simp, &sys, &err) < 0) {
		fprintf(stderr, "hqio reset plan: %s\n", err.msg);
		ret = HQIO_EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < o.n_only; i++) {
		if (!hqio_system_find(&sys, o.only[i])) {
			fprintf(stderr, "hqio reset plan: no device %s in %s\n",
				hqio_bdf_format(o.only[i], b, sizeof(b)), source);
			ret = HQIO_EXIT_FAIL;
			goto out;
		}
	}

	struct hqio_reset_plan *pl = malloc(sizeof(*pl));
	if (!pl) {
		fprintf(stderr, "hqio reset plan: out of memory\n");
		ret = HQIO_EXIT_FAIL;
		goto out;
	}
	struct hqio_names names;
	hqio_names_load(&names);
	struct json j;
	if (o.json) {
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_int(&j, "format_version", RESET_PLAN_JSON_VERSION);
		json_str(&j, "source", o.dump ? "dump" : o.sysfs ? "sysfs" : "sim");
		json_str(&j, "dump_file", o.dump);
		json_str(&j, "sim_device", o.sim);
		json_bool(&j, "config_limited", sys.cfg_limited);
		json_arr(&j, "plans");
	} else if (sys.cfg_limited) {
		printf("note: not running as root: Linux returned only the first 64 bytes of "
		       "configuration space;\n      capabilities are unknown, so no method "
		       "depending on them is planned.\n\n");
	}
	for (size_t i = 0; i < sys.n; i++) {
		const struct hqio_pci_node *n = &sys.nodes[i];
		if (!selected(&o, n->bdf))
			continue;
		o.map.node = n;
		o.map.sys = &sys;
		o.map.node_owner = o.owner;
		struct hqio_plan_input in = {
			.sys = &sys,
			.node = n,
			.owner = o.owner,
			.owner_of = o.map.n ? owner_from_map : NULL,
			.owner_arg = &o.map,
			.force = o.force,
		};
		struct hqio_error perr = { 0 };
		if (hqio_reset_plan(&in, pl, &perr) < 0) {
			fprintf(stderr, "hqio reset plan: %s\n", perr.msg);
			ret = HQIO_EXIT_FAIL;
			continue;
		}
		if (pl->refused) {
			fprintf(stderr, "hqio reset plan: %s refused: %s\n",
				hqio_bdf_format(n->bdf, b, sizeof(b)), pl->refusal);
			ret = HQIO_EXIT_FAIL;
		}
		if (o.json)
			print_json(&j, &o, n, pl);
		else
			print_text(&names, n, pl);
	}
	if (o.json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	}
	if (fflush(stdout) != 0)
		ret = HQIO_EXIT_FAIL;
	hqio_names_free(&names);
	free(pl);
out:
	hqio_system_free(&sys);
	sim_platform_free(simp);
	free(o.only);
	return ret;
}

int cmd_reset(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? HQIO_EXIT_USAGE : HQIO_EXIT_OK;
	}
	if (!strcmp(argv[1], "plan"))
		return plan_cmd(argc - 1, argv + 1);
	fprintf(stderr, "hqio reset: unknown subcommand '%s' (see 'hqio reset --help')\n", argv[1]);
	return HQIO_EXIT_USAGE;
}
