/*
 * hqio dvh: the run-time side of driver virtualization holes (lib/dvh).
 *   hqio dvh quirks   the quirk table: back doors trapped and redirected,
 *                     how drivers derive identity from the function
 *                     number, host-bridge registers they need, sources;
 *   hqio dvh check    warn when an assignment makes two functions of one
 *                     device derive the same identity (same MAC address).
 * docs/dvh-runtime.md.
 */
#include "commands.h"
#include "json.h"

#include "hqio/dvh.h"
#include "hqio/pci.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DVH_JSON_VERSION 1 /* bump on incompatible changes; docs/dvh-runtime.md */
#define MAX_ASSIGN	 64

static const char usage_text[] =
	"usage: hqio dvh quirks [--json]\n"
	"       hqio dvh check [--json] [--strict] [--how devfn|reg] ASSIGN...\n"
	"       hqio dvh check [--json] [--strict] [--how devfn|reg] --sim-nic whole|single\n"
	"\n"
	"quirks  list the known driver virtualization holes hqio closes at run time:\n"
	"        configuration-space back doors in BARs (trapped, redirected to the\n"
	"        virtual configuration space, counted, logged once), how drivers\n"
	"        derive identity from the function number, and the host-bridge\n"
	"        registers the virtual host bridge must show.\n"
	"check   warn when two functions of one device, as assigned, make their\n"
	"        drivers derive the same identity (MAC address, port): e.g. each of\n"
	"        two guests gets one port of a dual-port NIC at function 0 and the\n"
	"        driver takes the port from the configuration address (devfn).\n"
	"\n"
	"  ASSIGN            GUEST=VVVV:DDDD@[DOMAIN:]BB:DD.F[/GFN]: the function at\n"
	"                    that host address goes to GUEST, seen at function GFN\n"
	"                    (default: its host function number, as with MF_WHOLE;\n"
	"                    0 for MF_SINGLE)\n"
	"  --sim-nic MODE    the simulated dual-port NIC (04:00.0/04:00.1): 'whole'\n"
	"                    gives both to vm1 at functions 0 and 1; 'single' gives\n"
	"                    one to vm1 and one to vm2, each at function 0\n"
	"  --how devfn|reg   assume every device takes its port from devfn / from a\n"
	"                    device register, instead of the quirk table (what-if)\n"
	"  --strict          exit 1 when a collision is found\n"
	"  --json            machine-readable output\n"
	"  -h, --help        this text\n"
	"\n"
	"Exit status: 0 done (warnings printed), 1 a collision with --strict,\n"
	"2 wrong arguments.\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

/* ------------------------------------------------------------------ */
/* hqio dvh quirks                                                      */
/* ------------------------------------------------------------------ */

static void quirk_json(struct json *j, const struct hqio_dvh_quirk *q)
{
	json_obj(j, NULL);
	json_str(j, "name", q->name);
	json_hex(j, "vendor", q->vendor, 4);
	json_hex(j, "device", q->device, 4);
	json_hex(j, "device_mask", q->device_mask, 4);
	json_hex(j, "class", q->class_code, 6);
	json_hex(j, "class_mask", q->class_mask, 6);
	json_arr(j, "back_doors");
	for (unsigned i = 0; i < q->n_bd; i++) {
		const struct hqio_dvh_backdoor *d = &q->bd[i];
		json_obj(j, NULL);
		json_str(j, "kind", hqio_dvh_bd_kind_name(d->kind));
		json_str(j, "space", hqio_dvh_space_name(d->space));
		json_int(j, "bar", d->bar);
		json_hex(j, d->kind == HQIO_DVH_BD_MIRROR ? "offset" : "index_base", d->off, 1);
		json_hex(j, "length", d->len, 1);
		if (d->kind != HQIO_DVH_BD_MIRROR) {
			json_hex(j, "index_reg", d->index_reg, 1);
			json_hex(j, "data_reg", d->data_reg, 1);
		}
		if (d->kind == HQIO_DVH_BD_INDEX_LATCH)
			json_hex(j, "select_mask", d->sel_mask, 8);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj(j, "function_number");
	json_str(j, "from", hqio_dvh_fn_source_name(q->fn_source));
	if (q->fn_source == HQIO_DVH_FN_REG) {
		json_int(j, "bar", q->fn_reg.bar);
		json_hex(j, "offset", q->fn_reg.off, 1);
		json_hex(j, "mask", q->fn_reg.mask, 8);
	}
	json_obj_end(j);
	json_arr(j, "host_bridge_registers");
	for (unsigned i = 0; i < q->n_hb_regs; i++) {
		json_obj(j, NULL);
		json_hex(j, "offset", q->hb_regs[i].off, 2);
		json_int(j, "size", q->hb_regs[i].size);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_str(j, "source", q->source);
	json_obj_end(j);
}

static void quirk_text(const struct hqio_dvh_quirk *q)
{
	char dev[16], cls[24];
	if (q->device_mask)
		snprintf(dev, sizeof(dev), "%04x", q->device);
	else
		snprintf(dev, sizeof(dev), "*");
	if (q->class_mask)
		snprintf(cls, sizeof(cls), "class %06x/%06x", q->class_code, q->class_mask);
	else
		snprintf(cls, sizeof(cls), "any class");
	printf("%04x:%-4s  %-16s  %s\n", q->vendor, dev, cls, q->name);
	for (unsigned i = 0; i < q->n_bd; i++) {
		const struct hqio_dvh_backdoor *d = &q->bd[i];
		if (d->kind == HQIO_DVH_BD_MIRROR)
			printf("    back door   mirror     BAR%u+%#x, %#x bytes -> %s\n", d->bar,
			       d->off, d->len, hqio_dvh_space_name(d->space));
		else
			printf("    back door   %-10s BAR%u index %#x data %#x, index %#x+%#x -> "
			       "%s\n",
			       d->kind == HQIO_DVH_BD_INDEX ? "index/data" : "latched", d->bar,
			       d->index_reg, d->data_reg, d->off, d->len,
			       hqio_dvh_space_name(d->space));
	}
	if (q->fn_source == HQIO_DVH_FN_REG)
		printf("    port from   device register BAR%u+%#x mask %#x (hardware)\n",
		       q->fn_reg.bar, q->fn_reg.off, q->fn_reg.mask);
	else if (q->fn_source == HQIO_DVH_FN_DEVFN)
		printf("    port from   configuration address (PCI_FUNC(devfn))\n");
	for (unsigned i = 0; i < q->n_hb_regs; i++)
		printf("    host bridge register %#04x (%u bytes), shown read-only\n",
		       q->hb_regs[i].off, q->hb_regs[i].size);
	printf("    source      %s\n", q->source);
}

static int cmd_quirks(int argc, char **argv)
{
	bool json = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return HQIO_EXIT_OK;
		} else {
			fprintf(stderr, "hqio dvh quirks: unknown argument '%s'\n", argv[i]);
			return HQIO_EXIT_USAGE;
		}
	}
	const struct hqio_dvh_table *t = hqio_dvh_builtin();
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_int(&j, "version", DVH_JSON_VERSION);
		json_arr(&j, "quirks");
		for (size_t i = 0; i < t->n; i++)
			quirk_json(&j, &t->q[i]);
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
		return HQIO_EXIT_OK;
	}
	for (size_t i = 0; i < t->n; i++)
		quirk_text(&t->q[i]);
	printf("\n%zu entries. Back-door pages are trapped (not mapped into the guest);\n"
	       "`hqio dvh check` uses the \"port from\" facts.\n",
	       t->n);
	return HQIO_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* hqio dvh check                                                       */
/* ------------------------------------------------------------------ */

/* GUEST=VVVV:DDDD@[DOMAIN:]BB:DD.F[/GFN] */
static int parse_assign(char *s, struct hqio_dvh_assigned *a)
{
	char *eq = strchr(s, '='), *at = strchr(s, '@');
	if (!eq || !at || at < eq || eq == s)
		return -EINVAL;
	*eq = '\0';
	*at = '\0';
	a->guest = s;
	char *end;
	unsigned long v = strtoul(eq + 1, &end, 16);
	if (end == eq + 1 || *end != ':' || v > 0xffff)
		return -EINVAL;
	a->vendor = (uint16_t)v;
	char *d = end + 1;
	v = strtoul(d, &end, 16);
	if (end == d || *end != '\0' || v > 0xffff)
		return -EINVAL;
	a->device = (uint16_t)v;
	char *slash = strchr(at + 1, '/');
	if (slash)
		*slash = '\0';
	if (hqio_bdf_parse(at + 1, &a->host))
		return -EINVAL;
	a->guest_fn = a->host.fn;
	if (slash) {
		v = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end != '\0' || v > 7)
			return -EINVAL;
		a->guest_fn = (uint8_t)v;
	}
	return 0;
}

/* The simulated reference machine's dual-port NIC (sim/devices/devices.h:
 * 8086:105e at 04:00.0 and 04:00.1). */
static int sim_nic(const char *mode, struct hqio_dvh_assigned *a, size_t *n)
{
	bool whole = !strcmp(mode, "whole");
	if (!whole && strcmp(mode, "single"))
		return -EINVAL;
	for (unsigned i = 0; i < 2; i++)
		a[i] = (struct hqio_dvh_assigned){
			.guest = whole || i == 0 ? "vm1" : "vm2",
			.vendor = 0x8086,
			.device = 0x105e,
			.class_code = 0x020000,
			.host = { .domain = 0, .bus = 4, .dev = 0, .fn = (uint8_t)i },
			.guest_fn = whole ? (uint8_t)i : 0,
		};
	*n = 2;
	return 0;
}

struct check_opts {
	bool json, strict;
	int how; /* -1: the table's */
	const char *sim;
	struct hqio_dvh_assigned a[MAX_ASSIGN];
	size_t n;
};

static int parse_check(int argc, char **argv, struct check_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (!strcmp(s, "--json")) {
			o->json = true;
		} else if (!strcmp(s, "--strict")) {
			o->strict = true;
		} else if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(s, "--sim-nic") || !strcmp(s, "--how")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "hqio dvh check: %s needs a value\n", s);
				return -1;
			}
			const char *v = argv[++i];
			if (!strcmp(s, "--sim-nic")) {
				o->sim = v;
			} else if (!strcmp(v, "devfn")) {
				o->how = HQIO_DVH_FN_DEVFN;
			} else if (!strcmp(v, "reg")) {
				o->how = HQIO_DVH_FN_REG;
			} else {
				fprintf(stderr, "hqio dvh check: --how is devfn or reg, not '%s'\n",
					v);
				return -1;
			}
		} else if (s[0] == '-') {
			fprintf(stderr, "hqio dvh check: unknown option '%s'\n", s);
			return -1;
		} else {
			if (o->n >= MAX_ASSIGN) {
				fprintf(stderr, "hqio dvh check: at most %d functions\n",
					MAX_ASSIGN);
				return -1;
			}
			if (parse_assign(argv[i], &o->a[o->n])) {
				fprintf(stderr,
					"hqio dvh check: '%s' is not "
					"GUEST=VVVV:DDDD@BB:DD.F[/GFN]\n",
					s);
				return -1;
			}
			o->n++;
		}
	}
	if (o->sim && o->n) {
		fprintf(stderr, "hqio dvh check: --sim-nic or ASSIGN..., not both\n");
		return -1;
	}
	if (o->sim && sim_nic(o->sim, o->a, &o->n)) {
		fprintf(stderr, "hqio dvh check: --sim-nic is whole or single, not '%s'\n", o->sim);
		return -1;
	}
	if (!o->n) {
		fprintf(stderr, "hqio dvh check: nothing to check (ASSIGN... or --sim-nic)\n");
		return -1;
	}
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	struct check_opts *o = calloc(1, sizeof(*o));
	if (!o) {
		fprintf(stderr, "hqio dvh check: out of memory\n");
		return HQIO_EXIT_FAIL;
	}
	o->how = -1;
	int rc = parse_check(argc, argv, o);
	if (rc) {
		free(o);
		return rc > 0 ? HQIO_EXIT_OK : HQIO_EXIT_USAGE;
	}
	/* The table used: the built-in one, or (--how) one entry per function
	 * with the identity source overridden. */
	struct hqio_dvh_quirk what_if[MAX_ASSIGN];
	struct hqio_dvh_table tw = { what_if, 0 };
	const struct hqio_dvh_table *t = NULL;
	const struct hqio_dvh_quirk *q[MAX_ASSIGN];
	for (size_t i = 0; i < o->n; i++) {
		const struct hqio_dvh_assigned *a = &o->a[i];
		q[i] = hqio_dvh_match(NULL, a->vendor, a->device, a->class_code);
		if (o->how >= 0) {
			what_if[tw.n] = (struct hqio_dvh_quirk){
				.name = "what-if (--how)",
				.vendor = a->vendor,
				.device = a->device,
				.device_mask = 0xffff,
				.fn_source = (enum hqio_dvh_fn_source)o->how,
				.source = "command line",
			};
			q[i] = &what_if[tw.n++];
			t = &tw;
		}
	}
	struct hqio_dvh_collision col[MAX_ASSIGN];
	size_t n_col = 0;
	if (hqio_dvh_check_assignment(t, o->a, o->n, col, MAX_ASSIGN, &n_col)) {
		fprintf(stderr, "hqio dvh check: invalid assignment\n");
		free(o);
		return HQIO_EXIT_USAGE;
	}
	size_t shown = n_col < MAX_ASSIGN ? n_col : MAX_ASSIGN;
	char b1[HQIO_BDF_STR_MAX], b2[HQIO_BDF_STR_MAX];
	if (o->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_int(&j, "version", DVH_JSON_VERSION);
		json_arr(&j, "functions");
		for (size_t i = 0; i < o->n; i++) {
			const struct hqio_dvh_assigned *a = &o->a[i];
			json_obj(&j, NULL);
			json_str(&j, "guest", a->guest);
			json_str(&j, "host_bdf", hqio_bdf_format(a->host, b1, sizeof(b1)));
			json_hex(&j, "vendor", a->vendor, 4);
			json_hex(&j, "device", a->device, 4);
			json_int(&j, "guest_fn", a->guest_fn);
			json_str(&j, "quirk", q[i] ? q[i]->name : NULL);
			json_str(
				&j, "port_from",
				hqio_dvh_fn_source_name(q[i] ? q[i]->fn_source : HQIO_DVH_FN_NONE));
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_arr(&j, "collisions");
		for (size_t k = 0; k < shown; k++) {
			json_obj(&j, NULL);
			json_int(&j, "a", (long long)col[k].a);
			json_int(&j, "b", (long long)col[k].b);
			json_str(&j, "port_from", hqio_dvh_fn_source_name(col[k].how));
			json_int(&j, "port", col[k].id);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	} else {
		for (size_t i = 0; i < o->n; i++) {
			const struct hqio_dvh_assigned *a = &o->a[i];
			printf("%-8s %s %04x:%04x  guest function %u  port from %s\n", a->guest,
			       hqio_bdf_format(a->host, b1, sizeof(b1)), a->vendor, a->device,
			       a->guest_fn,
			       hqio_dvh_fn_source_name(q[i] ? q[i]->fn_source : HQIO_DVH_FN_NONE));
		}
		for (size_t k = 0; k < shown; k++) {
			const struct hqio_dvh_assigned *a = &o->a[col[k].a], *b = &o->a[col[k].b];
			printf("warning: %s %s and %s %s (%04x:%04x) both derive port %u from the "
			       "%s:\n"
			       "         their drivers compute the same MAC address. Assign the "
			       "device\n"
			       "         whole (MF_WHOLE) or show each function at its host "
			       "function "
			       "number.\n",
			       a->guest, hqio_bdf_format(a->host, b1, sizeof(b1)), b->guest,
			       hqio_bdf_format(b->host, b2, sizeof(b2)), a->vendor, a->device,
			       col[k].id,
			       col[k].how == HQIO_DVH_FN_DEVFN ? "configuration address (devfn)"
							       : "device register");
		}
		if (!n_col)
			printf("ok: no two functions derive the same identity\n");
	}
	bool strict = o->strict;
	free(o);
	return n_col && strict ? HQIO_EXIT_FAIL : HQIO_EXIT_OK;
}

int cmd_dvh(int argc, char **argv)
{
	/* argv[0] is "dvh" */
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? HQIO_EXIT_USAGE : HQIO_EXIT_OK;
	}
	if (!strcmp(argv[1], "quirks"))
		return cmd_quirks(argc - 2, argv + 2);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 2, argv + 2);
	fprintf(stderr, "hqio dvh: unknown subcommand '%s' (quirks, check)\n", argv[1]);
	return HQIO_EXIT_USAGE;
}
