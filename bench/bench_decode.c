/*
 * Benchmark: nanoseconds to decode one configuration image (walk both
 * capability lists and fill the structured view), for a 4 KiB PCIe image
 * with a full extended list and for a 256-byte conventional image.
 * Prints the median of 15 runs of N decodes each, and their ratio.
 */
#include "hqio/pci.h"
#define BENCH_UTIL_NO_SIM /* links lib/ alone */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 15

static void put32(uint8_t *c, size_t off, uint32_t v)
{
	memcpy(c + off, &v, 4); /* x86 little-endian, as config space */
}

static void build_pcie(uint8_t *c)
{
	memset(c, 0, 4096);
	put32(c, 0, 0x00101b36);    /* 1b36:0010 */
	put32(c, 0x04, 0x00100000); /* Status: capability list */
	put32(c, 0x08, 0x01080200);
	c[0x34] = 0x40;
	c[0x40] = 0x01;
	c[0x41] = 0x50; /* PM */
	c[0x50] = 0x05;
	c[0x51] = 0x70; /* MSI */
	c[0x70] = 0x10;
	c[0x71] = 0xb0; /* PCIe */
	c[0xb0] = 0x11;
	c[0xb1] = 0x00; /* MSI-X */
	uint16_t off = 0x100;
	for (int i = 0; i < 60; i++) { /* 60 extended capabilities */
		uint16_t next = i == 59 ? 0 : (uint16_t)(off + 0x40);
		put32(c, off, (uint32_t)(1 + i % 0x30) | 1u << 16 | (uint32_t)next << 20);
		off = next;
	}
}

static double median_ns(const uint8_t *cfg, size_t len, struct hqio_pci_info *info, int n)
{
	double runs[RUNS];
	volatile unsigned sink = 0;
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now_ns();
		for (int i = 0; i < n; i++) {
			hqio_pci_decode(cfg, len, NULL, info, NULL);
			sink += info->ext.n;
		}
		runs[r] = (bench_now_ns() - t0) / n;
	}
	(void)sink;
	return bench_median(runs, RUNS);
}

int main(int argc, char **argv)
{
	static uint8_t pcie[4096], conv[4096];
	struct hqio_pci_info *info = malloc(sizeof(*info));
	if (!info)
		return 1;
	build_pcie(pcie);
	memcpy(conv, pcie, 256);
	conv[0x51] = 0; /* PM -> MSI only, no PCIe */
	/* `--op NAME --count N`: run N operations untimed, for instruction
	 * counting under callgrind (scripts/bench.sh). */
	if (argc == 5 && !strcmp(argv[1], "--op") && !strcmp(argv[3], "--count")) {
		long n = strtol(argv[4], NULL, 10);
		const uint8_t *img = !strcmp(argv[2], "decode_pcie_4k") ? pcie : conv;
		size_t len = img == pcie ? 4096 : 256;
		for (long i = 0; i < n; i++)
			hqio_pci_decode(img, len, NULL, info, NULL);
		free(info);
		return 0;
	}
	struct hqio_pci_info check;
	hqio_pci_decode(pcie, 4096, NULL, &check, NULL);
	printf("bench_decode: image with %u standard + %u extended capabilities\n", check.std.n,
	       check.ext.n);
	double a = median_ns(pcie, 4096, info, 20000);
	double b = median_ns(conv, 256, info, 20000);
	printf("decode_pcie_4k_ns_median %.0f\n", a);
	printf("decode_conventional_256_ns_median %.0f\n", b);
	printf("ratio_pcie_over_conventional %.2f\n", a / b);
	free(info);
	return 0;
}
