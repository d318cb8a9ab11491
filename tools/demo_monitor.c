/*
 * Demo step: hqio's KVM/VFIO monitor (vmm/, `hqio run`, docs/monitor.md),
 * live: the built-in test guest parsed by the multiboot loader, how the
 * virtual host bridge decodes a configuration access, and, where this
 * machine's KVM can run it, the guest itself without an assigned device.
 */
#include "loader.h"
#include "bars.h"
#include "pcihost.h"
#include "vmm.h"

#include <stdio.h>
#include <stdlib.h>

#include "demo_steps.h"

void demo_step_monitor(int n)
{
	printf("\n== Step %d: %s ==\n", n, "the monitor: a KVM guest driving an assigned device");
	size_t len;
	const uint8_t *g = hqio_vmm_builtin_guest(&len);
	if (!g) {
		printf("  this hqio was built without the test guest (no 32-bit compiler)\n");
		return;
	}
	struct hqio_mb_image mb;
	struct hqio_error err = { 0 };
	if (hqio_mb_load(g, len, NULL, HQIO_VMM_MEM_DEFAULT, &mb, &err)) {
		printf("  loader: %s\n", err.msg);
		return;
	}
	printf("  test guest: multiboot ELF32, %zu bytes, %u segment(s) at [0x%x, 0x%x), entry "
	       "0x%x\n",
	       len, mb.n_segments, mb.load_lo, mb.load_hi, mb.entry);
	uint16_t bdf, off;
	const uint32_t cf8 = 0x80000000u | 1u << 11 | 0x10; /* 00:01.0, BAR0 */
	hqio_pcihost_cf8_decode(cf8, 0xCFC, 4, &bdf, &off);
	printf("  guest writes 0x%08x to port 0xCF8, reads 0xCFC: 2 port exits -> function "
	       "%02x:%02x.%u register 0x%02x (lib/vpci)\n",
	       cf8, bdf >> 8, (bdf >> 3) & 31, bdf & 7, off);
	printf("  the same register through ECAM: one MMIO exit at 0x%llx\n",
	       (unsigned long long)(HQIO_PCIHOST_ECAM_BASE + (1u << 15) + 0x10));
	/* Which BAR pages are memslots (no exits) and which trap: QEMU's
	 * e1000e keeps its MSI-X table at 0 and its PBA at 0x2000 of a
	 * 16 KiB BAR3 (5 vectors). */
	struct hqio_vmm_trap t[2] = { { 0, 5 * 16 }, { 0x2000, 8 } };
	struct hqio_vmm_piece pc[4];
	unsigned np = hqio_vmm_bar_pieces(16 << 10, 4096, t, 2, pc, 4);
	printf("  e1000e BAR3 (16 KiB, MSI-X table @0x0, PBA @0x2000): mapped");
	uint64_t mapped = 0;
	for (unsigned i = 0; i < np; i++) {
		printf(" [0x%llx, 0x%llx)", (unsigned long long)pc[i].off,
		       (unsigned long long)(pc[i].off + pc[i].len));
		mapped += pc[i].len;
	}
	printf(", %llu bytes trapped to lib/irq\n", (unsigned long long)((16 << 10) - mapped));
	if (hqio_vmm_probe_kvm(NULL, &err)) {
		printf("  KVM here cannot run it: %s\n", err.msg);
	} else {
		struct hqio_vmm_config c = { .guest = g,
					     .guest_len = len,
					     .mem_bytes = HQIO_VMM_MEM_DEFAULT,
					     .cmdline = "n=1",
					     .timeout_ms = 3000 };
		struct hqio_vmm_stats s;
		if (hqio_vmm_run(&c, &s, &err)) {
			printf("  run: %s\n", err.msg);
		} else {
			printf("  ran the guest with no device in %.1f ms: exit value 0x%x (%u "
			       "passed, "
			       "%u failed: no edu to find)\n",
			       (double)s.wall_ns / 1e6, (unsigned)s.guest_exit, s.guest_pass,
			       s.guest_fail);
			printf("  %llu config accesses through CF8/CFC -> %llu port exits; %llu "
			       "through ECAM -> %llu MMIO exits\n",
			       (unsigned long long)s.cfg_cf8, (unsigned long long)s.exits.io_cfg,
			       (unsigned long long)s.cfg_ecam,
			       (unsigned long long)s.exits.mmio_ecam);
		}
	}
	printf("  with edu (test bed, nested KVM): MSI and INTx from host MSI, DMA through the "
	       "IOMMU, 0 exits for BAR accesses:\n");
	printf("  try: hqio run --assign 0000:01:00.0 --guest builtin --irq intx --json\n");
	printf("       hqio run --assign 0000:01:00.0 --assign 0000:02:00.0 --guest builtin  "
	       "# edu + e1000e (MSI-X)\n");
	printf("       hqio run --assign 0000:01:00.0 --guest builtin --irq intx --host-intx  "
	       "# the INTx-only path\n");
	printf("       bash testbed/run.sh --tests monitor_edu,monitor_devs,monitor_bench\n");
}
