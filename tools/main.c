/* hqio command line: git-style subcommands, one file each. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "inspect", cmd_inspect, "judge whether PCI devices can be assigned with high quality" },
	{ "sim", cmd_sim, "the simulated PCIe platform (sim topo, sim reclaim, sim audio)" },
	{ "reset", cmd_reset, "plan the reset of a PCI function (reset plan)" },
	{ "memtype", cmd_memtype, "x86 memory types: MTRR x PAT, shadow/EPT/NPT (memtype --help)" },
	{ "dvh-scan", cmd_dvh_scan, "find driver virtualization holes in C driver sources" },
	{ "dvh", cmd_dvh, "run-time hole closing: quirk table, MAC collision check (dvh --help)" },
	{ "vfio", cmd_vfio, "assign PCI functions through Linux VFIO (vfio --help)" },
	{ "run", cmd_run, "run a guest on assigned devices under KVM/VFIO (run --help)" },
	{ "demo", cmd_demo, "walk through everything hqio does, step by step" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hqio <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`hqio <command> --help` describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return HQIO_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return HQIO_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hqio 0.1.0\n");
		return HQIO_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "hqio: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return HQIO_EXIT_USAGE;
}
