/*
 * hqio sim: the simulated PCIe platform. `hqio sim topo` prints the
 * reference machine exactly as `hqio inspect` prints a real one (same
 * decoder, same assessment, same output), so the two compare side by side.
 */
#include "cli_args.h"
#include "commands.h"
#include "inspect_out.h"

#include "devices/devices.h"
#include "reclaim.h"
#include "sim.h"

#include "json.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: hqio sim topo [--json] [-v] [--seed N]\n"
	"       hqio sim reclaim [--runs N] [--seed S] [--naive] [--json]\n"
	"       hqio sim audio [--sched credit|credit-1ms|rt|rtds] [--weights G:D] ... [--json]\n"
	"\n"
	"topo: build the simulated reference machine (host bridge, root ports, a PCIe\n"
	"switch, a PCIe-to-PCI bridge with conventional devices, an NVMe-like\n"
	"controller with SR-IOV and ATS, a dual-port NIC, an HD-Audio-like\n"
	"controller, a GPU-like device and an edu-like device) and print it as\n"
	"`hqio inspect` prints a real machine.\n"
	"\n"
	"  --json        machine-readable output (docs/inspect-json.md, source \"sim\")\n"
	"  -v            BAR and capability details\n"
	"  --seed N      random seed of the platform (default 1)\n"
	"\n"
	"reclaim: the randomized reclaim experiment. Devices of the reference machine\n"
	"(and two faulty edu-like devices) change owners --runs times (default 10000)\n"
	"while a DMA of the old owner is in flight; the next owner maps the same IOVA\n"
	"and enables Bus Master at once. Counts DMA writes that land outside the\n"
	"memory of the owner that programmed them (stray writes). --naive releases\n"
	"the memory first and resets later without an idle check (negative control).\n"
	"\n"
	"audio: the audio experiment (a guest playing audio on an assigned HD-Audio-like\n"
	"controller, sharing one pCPU with a dom0 busy loop, under Xen-style schedulers);\n"
	"see 'hqio sim audio --help'.\n"
	"\n"
	"  -h, --help    this text\n";

static int topo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inspect_report_opts ro = { .source = "sim" };
	unsigned long long seed = 1;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vhj", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ro.json = true;
			break;
		case 'v':
			ro.verbose++;
			break;
		case 's': {
			char *end;
			seed = strtoull(optarg, &end, 0);
			if (*end || !*optarg) {
				fprintf(stderr, "hqio sim topo: --seed needs a number, not '%s'\n",
					optarg);
				return HQIO_EXIT_USAGE;
			}
			break;
		}
		case 'h':
			fputs(usage_text, stdout);
			return HQIO_EXIT_OK;
		default:
			return cli_bad_option("hqio sim topo", "unknown option", argv[optind - 1],
					      "hqio sim --help");
		}
	}
	if (optind < argc)
		return cli_unexpected("hqio sim topo", argv[optind]);
	struct sim_platform *p = sim_platform_new(seed, 64ULL << 20);
	struct hqio_system sys = { 0 };
	int rc = p ? sim_build_reference(p) : -1;
	if (rc == 0)
		rc = sim_snapshot(p, &sys);
	if (rc != 0) {
		fprintf(stderr, "hqio sim topo: cannot build the simulated machine (%d)\n", rc);
		hqio_system_free(&sys);
		sim_platform_free(p);
		return HQIO_EXIT_FAIL;
	}
	rc = inspect_report(&sys, &ro);
	hqio_system_free(&sys);
	sim_platform_free(p);
	return rc;
}

static int parse_u64(const char *opt, const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);
	if (!*s || *end || *s == '-') {
		fprintf(stderr, "hqio sim reclaim: %s needs a non-negative number, not '%s'\n", opt,
			s);
		return -1;
	}
	*out = v;
	return 0;
}

static int reclaim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },	  { "runs", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' }, { "naive", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },	  { NULL, 0, NULL, 0 },
	};
	struct sim_reclaim_opts o = { .runs = 10000, .seed = 1 };
	bool json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'r':
			if (parse_u64("--runs", optarg, &o.runs))
				return HQIO_EXIT_USAGE;
			break;
		case 's':
			if (parse_u64("--seed", optarg, &o.seed))
				return HQIO_EXIT_USAGE;
			break;
		case 'n':
			o.naive = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return HQIO_EXIT_OK;
		default:
			return cli_bad_option("hqio sim reclaim", "unknown option",
					      argv[optind - 1], "hqio sim --help");
		}
	}
	if (optind < argc)
		return cli_unexpected("hqio sim reclaim", argv[optind]);
	struct sim_reclaim_stats *st = calloc(1, sizeof(*st));
	char msg[200] = "";
	if (!st)
		return HQIO_EXIT_FAIL;
	int rc = sim_reclaim_run(&o, st, msg, sizeof(msg));
	if (rc) {
		fprintf(stderr, "hqio sim reclaim: %s\n", msg[0] ? msg : "failed");
		free(st);
		return HQIO_EXIT_FAIL;
	}
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "mode", o.naive ? "naive" : "hqio");
		json_u64(&j, "seed", o.seed);
		json_u64(&j, "runs", st->runs);
		json_u64(&j, "in_flight_at_reclaim", st->in_flight);
		json_u64(&j, "dma_landed", st->dma_landed);
		json_u64(&j, "stray_writes", st->stray_writes);
		json_u64(&j, "drained_into_old_owner", st->drained);
		json_u64(&j, "quarantined", st->quarantined);
		json_obj(&j, "methods_used");
		for (int m = 0; m < HQIO_RM_COUNT; m++)
			json_u64(&j, hqio_reset_method_name((enum hqio_reset_method)m),
				 st->methods_used[m]);
		json_obj_end(&j);
		json_u64(&j, "virtual_ns", st->virtual_ns);
		json_arr(&j, "units");
		for (unsigned i = 0; i < st->n_units; i++) {
			json_obj(&j, NULL);
			json_str(&j, "name", st->units[i].name);
			json_u64(&j, "reassignments", st->units[i].reassignments);
			json_u64(&j, "stray_writes", st->units[i].stray_writes);
			json_bool(&j, "quarantined", st->units[i].quarantined);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("reclaim experiment (%s order), seed %llu\n", o.naive ? "naive" : "hqio",
		       (unsigned long long)o.seed);
		printf("  reassignments          %llu\n", (unsigned long long)st->runs);
		printf("  DMA in flight at reclaim %llu\n", (unsigned long long)st->in_flight);
		printf("  DMA writes landed      %llu\n", (unsigned long long)st->dma_landed);
		printf("  stray writes           %llu\n", (unsigned long long)st->stray_writes);
		printf("  drained into old owner %llu\n", (unsigned long long)st->drained);
		printf("  quarantined units      %llu\n", (unsigned long long)st->quarantined);
		printf("  methods used          ");
		for (int m = 0; m < HQIO_RM_COUNT; m++)
			if (st->methods_used[m])
				printf(" %s=%llu",
				       hqio_reset_method_name((enum hqio_reset_method)m),
				       (unsigned long long)st->methods_used[m]);
		printf("\n  virtual time           %.1f s\n", (double)st->virtual_ns / 1e9);
		for (unsigned i = 0; i < st->n_units; i++)
			printf("    %-32s %6llu reassignments, %llu stray%s\n", st->units[i].name,
			       (unsigned long long)st->units[i].reassignments,
			       (unsigned long long)st->units[i].stray_writes,
			       st->units[i].quarantined ? ", quarantined" : "");
	}
	free(st);
	return HQIO_EXIT_OK;
}

int cmd_sim(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? HQIO_EXIT_USAGE : HQIO_EXIT_OK;
	}
	if (!strcmp(argv[1], "topo"))
		return topo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "reclaim"))
		return reclaim(argc - 1, argv + 1);
	if (!strcmp(argv[1], "audio"))
		return cmd_sim_audio(argc - 1, argv + 1);
	fprintf(stderr, "hqio sim: unknown subcommand '%s' (see 'hqio sim --help')\n", argv[1]);
	return HQIO_EXIT_USAGE;
}
