/*
 * Benchmark: guest configuration reads and writes through lib/vpci's
 * generic engine, in ns per operation (median of 7 runs), on the
 * simulated NVMe controller of the reference machine (the host-ops
 * backend is the simulator's: a read that needs hardware bits costs one
 * simulated configuration read). Cases:
 *   read  virtual dword    BAR0 (all bits virtual: no hardware access)
 *   read  mixed word       Command (virtual bits + hardware bits)
 *   read  pass-through     a PCIe Link Capabilities dword (read-only row)
 *   write virtual dword    BAR0 (sizing write, then the address back)
 *   write Command          virtual + read-modify-write of the hardware
 *   write Status w1c       hardware read-modify-write of a RW1C register
 */
#include "sim.h"
#include "devices/devices.h"
#include "hqio/vpci.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 7
#define OPS  200000

enum op { RD, WR };

static volatile uint32_t sink;

static double run(struct hqio_vpci *v, enum op op, uint16_t off, unsigned size, uint32_t a,
		  uint32_t b)
{
	double t[RUNS];
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now_s();
		for (unsigned i = 0; i < OPS; i++) {
			if (op == RD) {
				uint32_t x;
				hqio_vpci_read(v, off, size, &x);
				sink += x;
			} else {
				hqio_vpci_write(v, off, size, (i & 1) ? b : a);
			}
		}
		t[r] = (bench_now_s() - t0) * 1e9 / OPS;
	}
	return bench_median(t, RUNS);
}

int main(int argc, char **argv)
{
	/* scripts/bench.sh: `--op NAME --count N` runs N operations of one case
	 * once, silently (callgrind counts instructions per operation). */
	const char *only = NULL;
	unsigned long count = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--op"))
			only = argv[i + 1];
		else if (!strcmp(argv[i], "--count"))
			count = strtoul(argv[i + 1], NULL, 10);
	}
	struct sim_platform *p = sim_platform_new(1, 8ULL << 20);
	struct sim_reference ref;
	if (!p || sim_build_reference_ex(p, &ref)) {
		fprintf(stderr, "bench_vpci: cannot build the reference machine\n");
		return 1;
	}
	struct hqio_host_ops ops;
	struct hqio_vpci *v = calloc(1, sizeof(*v));
	if (!v || bench_vpci_init(p, ref.nvme, &ops, v, false)) {
		fprintf(stderr, "bench_vpci: hqio_vpci_init failed\n");
		return 1;
	}
	uint16_t lnkcap = (uint16_t)(ref.nvme->exp + HQIO_PCI_EXP_LNKCAP);
	struct {
		const char *key;
		const char *name;
		enum op op;
		uint16_t off;
		unsigned size;
		uint32_t a, b;
	} cases[] = {
		{ "vpci_read_virtual", "read  BAR0 dword (virtual)", RD, HQIO_PCI_BASE_ADDRESS_0, 4,
		  0, 0 },
		{ "vpci_read_mixed", "read  Command word (mixed)", RD, HQIO_PCI_COMMAND, 2, 0, 0 },
		{ "vpci_read_pass", "read  LnkCap dword (pass-through)", RD, lnkcap, 4, 0, 0 },
		{ "vpci_write_virtual", "write BAR0 dword (virtual)", WR, HQIO_PCI_BASE_ADDRESS_0,
		  4, 0xffffffffu, 0xa0000000u },
		{ "vpci_write_command", "write Command word (virtual + RMW)", WR, HQIO_PCI_COMMAND,
		  2, HQIO_PCI_COMMAND_MEMORY, 0 },
		{ "vpci_write_status", "write Status word (w1c RMW)", WR, HQIO_PCI_STATUS, 2,
		  HQIO_PCI_STATUS_REC_MASTER_ABORT, 0 },
	};
	if (only) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			if (strcmp(cases[i].key, only))
				continue;
			for (unsigned long k = 0; k < count; k++) {
				uint32_t x = 0;
				if (cases[i].key[5] == 'r') {
					hqio_vpci_read(v, cases[i].off, cases[i].size, &x);
					sink += x;
				} else {
					hqio_vpci_write(v, cases[i].off, cases[i].size,
							(k & 1) ? cases[i].b : cases[i].a);
				}
			}
		}
		hqio_vpci_fini(v);
		free(v);
		sim_platform_free(p);
		return 0;
	}
	printf("lib/vpci guest configuration access, ns/operation (median of %d runs of %d)\n",
	       RUNS, OPS);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		printf("  %-38s %8.1f ns/op\n", cases[i].name,
		       run(v, cases[i].op, cases[i].off, cases[i].size, cases[i].a, cases[i].b));
	hqio_vpci_fini(v);
	free(v);
	sim_platform_free(p);
	return 0;
}
