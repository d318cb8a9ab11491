/*
 * hqio sim: the simulated PCIe platform. `hqio sim topo` prints the
 * reference machine exactly as `hqio inspect` prints a real one (same
 * decoder, same assessment, same output), so the two compare side by side.
 */
#include "commands.h"
#include "inspect_out.h"

#include "devices/devices.h"
#include "sim.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: hqio sim topo [--json] [-v] [--seed N]\n"
	"\n"
	"Build the simulated reference machine (host bridge, root ports, a PCIe\n"
	"switch, a PCIe-to-PCI bridge with conventional devices, an NVMe-like\n"
	"controller with SR-IOV and ATS, a dual-port NIC, an HD-Audio-like\n"
	"controller, a GPU-like device and an edu-like device) and print it as\n"
	"`hqio inspect` prints a real machine.\n"
	"\n"
	"  --json        machine-readable output (docs/inspect-json.md, source \"sim\")\n"
	"  -v            BAR and capability details\n"
	"  --seed N      random seed of the platform (default 1)\n"
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
			fprintf(stderr,
				"hqio sim topo: unknown option '%s' (see 'hqio sim --help')\n",
				argv[optind - 1]);
			return HQIO_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hqio sim topo: unexpected argument '%s'\n", argv[optind]);
		return HQIO_EXIT_USAGE;
	}
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

int cmd_sim(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? HQIO_EXIT_USAGE : HQIO_EXIT_OK;
	}
	if (!strcmp(argv[1], "topo"))
		return topo(argc - 1, argv + 1);
	fprintf(stderr, "hqio sim: unknown subcommand '%s' (see 'hqio sim --help')\n", argv[1]);
	return HQIO_EXIT_USAGE;
}
