/*
 * hqio run: run a guest in hqio's KVM/VFIO monitor (vmm/, docs/monitor.md)
 * with PCI functions assigned to it, and report what the monitor saw.
 */
#include "commands.h"
#include "json.h"
#include "quarantine.h"
#include "vmm.h"

#include "hqio/reset.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: hqio run [--assign BDF]... --guest FILE|builtin [options]\n"
	"       hqio run --probe | --extract-guest FILE\n"
	"\n"
	"Run a multiboot guest in hqio's KVM monitor with the PCI functions BDF\n"
	"(bound to vfio-pci) assigned to it at 00:01.0, 00:02.0, ... in order\n"
	"(INTx lines 10, 11, 5, 9): configuration space\n"
	"through lib/vpci (CF8/CFC and ECAM), BAR pages in memslots, interrupts\n"
	"through lib/irq, DMA through the IOMMU at IOVA = guest physical. Needs\n"
	"root, a KVM that runs 32-bit guests, the IOMMU and vfio-pci.\n"
	"The guest's debug port (0xE9) is printed; it ends by writing to port\n"
	"0xF4 (0x10 = all its checks passed).\n"
	"\n"
	"options:\n"
	"  --assign BDF       a function to assign (repeat: up to 4)\n"
	"  --guest FILE       multiboot v1 ELF32 kernel; `builtin` = hqio's test\n"
	"                     guest for QEMU's edu device (guest/)\n"
	"  --mem SIZE         guest RAM, K/M suffix (default 64M, 2M..256M)\n"
	"  --irq msi|intx     interrupt mode the guest uses (default msi)\n"
	"  --cmdline WORDS    extra guest command line (test guest: n=N\n"
	"                     dmaout=ADDR bench=N timeout=MS, docs/monitor.md)\n"
	"  --timeout SEC      wall-clock limit of the guest (default 60)\n"
	"  --no-reset         no reset at assignment or reclaim (lib/reset skipped)\n"
	"  --reset-method M   try only lib/reset method M (flr, af_flr, pm, bus,\n"
	"                     device_specific), usable or not (an experiment; a\n"
	"                     method that cannot work quarantines the function)\n"
	"  --fault-inject canary  negative control (edu): at reclaim also arm a\n"
	"                     canary the reset does not clear, so verification fails\n"
	"  --msi-hop, --hop   every interrupt through the monitor (lib/irq +\n"
	"                     KVM_SIGNAL_MSI or its INTx irqfd) instead of VFIO\n"
	"                     eventfd -> KVM irqfd (MSI, MSI-X, host INTx)\n"
	"  --host-intx        the host uses the functions' INTx pins although they\n"
	"                     have MSI (the INTx-only path; needs --irq intx)\n"
	"  --dvh-mirror BAR:OFF:LEN  close a back door: BAR bytes [OFF, OFF+LEN)\n"
	"                     mirror the configuration space (e.g. found by hqio\n"
	"                     dvh-scan); its pages are trapped and redirected to\n"
	"                     the virtual configuration space (repeat: up to 4;\n"
	"                     replaces the built-in quirk of every assigned function)\n"
	"  --storm-max N      lib/irq storm guard: at most N host interrupts per\n"
	"                     10 ms per function (default 1000; a test knob)\n"
	"  --pin              vCPU thread on CPU 0, the monitor's helper threads on\n"
	"                     CPU 1 (an experiment on interrupt latency)\n"
	"  --eoi-first        INTx: a host MSI first takes a guest EOI KVM already\n"
	"                     signaled (an experiment on INTx latency)\n"
	"  --trap-bars        no BAR memslots: every BAR access exits to the\n"
	"                     monitor (a control and a cost comparison)\n"
	"  --state-dir DIR    quarantine records (default " HQIO_STATE_DIR_DEFAULT ", as\n"
	"                     hqio vfio's)\n"
	"  --quiet            do not print the guest's output\n"
	"  --json             counters as JSON on stdout (guest output on stderr)\n"
	"  --probe            only check that KVM can run the monitor's guests\n"
	"  --extract-guest FILE  write the built-in test guest to FILE\n"
	"  -h, --help         this text\n"
	"\n"
	"The function is planned, quiesced, reset and verified (lib/reset) before\n"
	"the guest starts and again at reclaim; when no reset verifies it is\n"
	"QUARANTINED: it stays bound to vfio-pci, not to be handed back; the\n"
	"record in the state directory makes `hqio vfio release` refuse it until\n"
	"a verified reset (a later run's reclaim, or `hqio vfio reset`) lifts it.\n"
	"\n"
	"exit: 0 the guest passed (exit value 0x10), 1 it failed, the monitor\n"
	"could not run it or the function was quarantined (the reason on\n"
	"stderr), 2 usage.\n";

static int usage_err(const char *fmt, const char *arg)
{
	fprintf(stderr, "hqio run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(hqio run --help)\n");
	return HQIO_EXIT_USAGE;
}

/* "64M", "65536K", "67108864" -> bytes; false when malformed. */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || s[0] == '-')
		return false;
	uint64_t mul = 1;
	if (*end == 'K' || *end == 'k')
		mul = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1024ull * 1024 * 1024, end++;
	if (*end == 'i' && mul > 1)
		end++;
	if ((*end == 'B' || *end == 'b') && mul > 1)
		end++;
	if (*end || v > UINT64_MAX / mul)
		return false;
	*out = v * mul;
	return true;
}

/* "BAR:OFF:LEN" (numbers in C syntax) -> a configuration-space mirror. */
static bool parse_mirror(const char *s, struct hqio_dvh_backdoor *bd)
{
	unsigned long long v[3];
	const char *p = s;
	for (int i = 0; i < 3; i++) {
		char *end;
		if (*p == '-' || *p == '\0')
			return false;
		errno = 0;
		v[i] = strtoull(p, &end, 0);
		if (errno || end == p || (i < 2 && *end != ':') || (i == 2 && *end))
			return false;
		p = end + 1;
	}
	/* The configuration space is 4096 bytes (PCIe r5.0 7.2.2). */
	if (v[0] > 5 || v[1] > UINT32_MAX || v[2] == 0 || v[2] > 4096)
		return false;
	*bd = (struct hqio_dvh_backdoor){ .kind = HQIO_DVH_BD_MIRROR,
					  .space = HQIO_DVH_SPACE_CONFIG,
					  .bar = (uint8_t)v[0],
					  .off = (uint32_t)v[1],
					  .len = (uint32_t)v[2] };
	return true;
}

static uint8_t *read_file(const char *path, size_t *len, struct hqio_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		hqio_error_set(err, -errno, "cannot open guest %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	const size_t max = 64u << 20;
	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
		if (n == cap) {
			if (cap >= max) {
				hqio_error_set(err, -EFBIG, "guest %s is larger than 64 MiB", path);
				free(buf);
				buf = NULL;
				break;
			}
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	bool bad = ferror(f);
	fclose(f);
	if (buf && bad) {
		free(buf);
		buf = NULL;
		hqio_error_set(err, -EIO, "cannot read guest %s", path);
	} else if (!buf && !err->code) {
		hqio_error_set(err, -ENOMEM, "out of memory reading %s", path);
	}
	*len = n;
	return buf;
}

static void json_dev(struct json *j, const struct hqio_vmm_dev_stats *d)
{
	char b[HQIO_BDF_STR_MAX];
	json_obj(j, NULL);
	json_str(j, "host_bdf", hqio_bdf_format(d->host_bdf, b, sizeof(b)));
	snprintf(b, sizeof(b), "0000:%02x:%02x.%x", d->guest_bdf >> 8, (d->guest_bdf >> 3) & 0x1f,
		 d->guest_bdf & 7);
	json_str(j, "guest_bdf", d->guest_bdf ? b : NULL);
	json_u64(j, "intx_gsi", d->intx_gsi);
	json_str(j, "host_irq", d->host_irq);
	json_u64(j, "config_accesses", d->cfg);
	json_u64(j, "mmio_bar_trapped", d->mmio_trapped);
	json_u64(j, "msix_table_pba_trapped", d->msix_trapped);
	json_u64(j, "io_bar_accesses", d->io_trapped);
	json_str(j, "dvh_quirk", d->quirk);
	json_u64(j, "backdoor_redirected", d->backdoor_redirected);
	json_obj(j, "interrupts");
	json_u64(j, "host", d->host_irqs);
	json_u64(j, "delivered", d->delivered);
	json_u64(j, "msi_signaled", d->msi_signaled);
	json_bool(j, "fast_path", d->fast_path);
	json_str(j, "path_detail", d->fast_path_msg[0] ? d->fast_path_msg : NULL);
	json_bool(j, "intx_direct", d->intx_direct);
	json_u64(j, "irqfd_attaches", d->fast_attaches);
	json_u64(j, "fallback_to_hop", d->fast_fallback);
	json_u64(j, "fast_path_reswaps", d->fast_reswaps);
	json_u64(j, "storm_throttled", d->storm_throttled);
	json_int(j, "host_proc_interrupts", d->host_vfio_irqs);
	json_bool(j, "kvm_vfio_group_added", d->kvm_vfio_group);
	json_u64(j, "latched", d->latched);
	json_u64(j, "reasserted", d->reasserted);
	json_u64(j, "guest_eois", d->eois);
	json_u64(j, "coalesced", d->coalesced);
	json_u64(j, "spurious", d->spurious);
	json_obj_end(j);
	json_obj(j, "bars");
	json_u64(j, "memslots", d->bar_slots);
	json_u64(j, "trapped_bytes", d->bar_trapped_bytes);
	json_hex(j, "guest_bar0", d->guest_bar0, 8);
	json_hex(j, "host_bar0_before", d->host_bar0_before, 8);
	json_hex(j, "host_bar0_after", d->host_bar0_after, 8);
	json_bool(j, "host_bars_unchanged", d->host_bars_unchanged);
	json_obj_end(j);
	json_obj(j, "dma");
	json_u64(j, "iommu_faults", d->dma_faults);
	json_hex(j, "first_fault_addr", d->dma_fault_addr, 1);
	json_obj_end(j);
	json_obj(j, "reclaim");
	json_str(j, "reset_plan", d->reset_plan[0] ? d->reset_plan : NULL);
	json_bool(j, "assign_verified", d->assign_verified);
	json_str(j, "assign_detail", d->assign_msg[0] ? d->assign_msg : NULL);
	json_bool(j, "reset", d->reset_done);
	json_str(j, "reset_used", d->reset_used[0] ? d->reset_used : NULL);
	json_str(j, "reset_detail", d->reset_msg[0] ? d->reset_msg : NULL);
	json_bool(j, "quarantined", d->quarantined);
	json_bool(j, "was_quarantined", d->was_quarantined);
	json_bool(j, "quarantine_lifted", d->quarantine_lifted);
	json_obj_end(j);
	json_obj_end(j);
}

static void print_json(const struct hqio_vmm_config *c, const struct hqio_vmm_stats *s, int rc,
		       const struct hqio_error *err)
{
	struct json j;
	char b[HQIO_BDF_STR_MAX];
	json_init(&j, stdout);
	json_obj(&j, NULL);
	json_bool(&j, "ok", rc == 0 && s->guest_exit == HQIO_VMM_GUEST_PASS && !s->timed_out);
	json_str(&j, "error", rc ? err->msg : NULL);
	json_arr(&j, "assigned");
	for (unsigned i = 0; i < c->n_assign; i++)
		json_str(&j, NULL, hqio_bdf_format(c->assign[i], b, sizeof(b)));
	json_arr_end(&j);
	json_str(&j, "guest_bdf", c->n_assign ? "0000:00:01.0" : NULL); /* the first */
	json_u64(&j, "mem_bytes", c->mem_bytes);
	json_str(&j, "irq", c->irq == HQIO_VMM_IRQ_INTX ? "intx" : "msi");
	json_obj(&j, "guest");
	json_int(&j, "exit_value", s->guest_exit);
	json_u64(&j, "results_pass", s->guest_pass);
	json_u64(&j, "results_fail", s->guest_fail);
	json_bool(&j, "timed_out", s->timed_out);
	json_u64(&j, "wall_ns", s->wall_ns);
	json_obj_end(&j);
	json_obj(&j, "exits");
	json_u64(&j, "io", s->exits.io);
	json_u64(&j, "io_debug_port", s->exits.io_debug);
	json_u64(&j, "io_config", s->exits.io_cfg);
	json_u64(&j, "io_bar", s->exits.io_bar);
	json_u64(&j, "io_unclaimed", s->exits.io_unclaimed);
	json_u64(&j, "mmio", s->exits.mmio);
	json_u64(&j, "mmio_ecam", s->exits.mmio_ecam);
	json_u64(&j, "mmio_bar_trapped", s->exits.mmio_bar);
	json_u64(&j, "mmio_unclaimed", s->exits.mmio_unclaimed);
	json_u64(&j, "interrupted", s->exits.intr);
	json_obj_end(&j);
	json_obj(&j, "config_accesses");
	json_u64(&j, "cf8_cfc", s->cfg_cf8);
	json_u64(&j, "ecam", s->cfg_ecam);
	json_u64(&j, "to_assigned_function", s->cfg_dev);
	json_obj_end(&j);
	json_obj(&j, "bars");
	json_u64(&j, "memslots", s->bar_slots);
	json_u64(&j, "trapped_bytes", s->bar_trapped_bytes);
	json_hex(&j, "guest_bar0", s->guest_bar0, 8);
	json_hex(&j, "host_bar0_before", s->host_bar0_before, 8);
	json_hex(&j, "host_bar0_after", s->host_bar0_after, 8);
	json_bool(&j, "host_bars_unchanged", s->host_bars_unchanged);
	json_obj_end(&j);
	json_obj(&j, "interrupts");
	json_u64(&j, "host", s->host_irqs);
	json_u64(&j, "delivered", s->delivered);
	json_u64(&j, "msi_signaled", s->msi_signaled);
	json_bool(&j, "msi_fast_path", s->fast_path);
	json_str(&j, "msi_path_detail", s->fast_path_msg[0] ? s->fast_path_msg : NULL);
	json_u64(&j, "irqfd_attaches", s->fast_attaches);
	json_u64(&j, "fallback_to_hop", s->fast_fallback);
	json_int(&j, "host_proc_interrupts", s->host_vfio_irqs);
	json_bool(&j, "kvm_vfio_group_added", s->kvm_vfio_group);
	json_u64(&j, "latched", s->latched);
	json_u64(&j, "reasserted", s->reasserted);
	json_u64(&j, "guest_eois", s->eois);
	json_u64(&j, "intx_samples", s->intx_samples);
	json_u64(&j, "intx_assert_to_eoi_p10_us", s->intx_assert_to_eoi_p10_us);
	json_u64(&j, "intx_assert_to_eoi_p50_us", s->intx_assert_to_eoi_p50_us);
	json_u64(&j, "intx_assert_to_eoi_p90_us", s->intx_assert_to_eoi_p90_us);
	json_obj(&j, "intx_steps_us");
	for (unsigned k = 0; k < 4; k++) {
		const struct hqio_vmm_intx_step *t = &s->intx_steps[k];
		if (!t->name)
			continue;
		json_obj(&j, t->name);
		json_u64(&j, "n", t->n);
		json_u64(&j, "p10", t->p10_us);
		json_u64(&j, "p50", t->p50_us);
		json_u64(&j, "p90", t->p90_us);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_u64(&j, "coalesced", s->coalesced);
	json_u64(&j, "spurious", s->spurious);
	json_obj_end(&j);
	json_obj(&j, "dma");
	json_u64(&j, "iommu_faults", s->dma_faults);
	json_hex(&j, "first_fault_addr", s->dma_fault_addr, 1);
	json_obj_end(&j);
	json_obj(&j, "reclaim");
	json_str(&j, "reset_plan", s->reset_plan[0] ? s->reset_plan : NULL);
	json_bool(&j, "assign_verified", s->assign_verified);
	json_str(&j, "assign_detail", s->assign_msg[0] ? s->assign_msg : NULL);
	json_bool(&j, "reset", s->reset_done);
	json_str(&j, "reset_used", s->reset_used[0] ? s->reset_used : NULL);
	json_str(&j, "reset_detail", s->reset_msg[0] ? s->reset_msg : NULL);
	json_bool(&j, "memory_released", s->memory_released);
	json_bool(&j, "quarantined", s->quarantined);
	json_obj_end(&j);
	const struct hqio_vmm_memtype *mt = &s->memtype;
	json_obj(&j, "memtype");
	json_str(&j, "model", mt->model);
	json_bool(&j, "noncoherent_dma", mt->noncoherent_dma);
	json_str(&j, "noncoherent_dma_source", mt->dma_source);
	json_str(&j, "ram_guest_intended", mt->ram_guest);
	json_str(&j, "ram_effective", mt->ram_effective);
	json_bool(&j, "ram_dma_coherent", mt->ram_coherent);
	json_str(&j, "ram_reason", mt->ram_reason);
	json_str(&j, "bar_guest_intended", mt->bar_guest);
	json_str(&j, "bar_effective", mt->bar_effective);
	json_bool(&j, "bar_coherent", mt->bar_coherent);
	json_str(&j, "bar_reason", mt->bar_reason);
	json_obj_end(&j);
	json_arr(&j, "devices");
	for (unsigned i = 0; i < s->n_dev; i++)
		json_dev(&j, &s->dev[i]);
	json_arr_end(&j);
	json_obj(&j, "kvm_debugfs"); /* name kept; the source says where from */
	json_str(&j, "source", s->kvm_stats_source);
	json_int(&j, "total_exits", s->kvm_exits);
	json_int(&j, "io_exits", s->kvm_io_exits);
	json_int(&j, "mmio_exits", s->kvm_mmio_exits);
	json_int(&j, "halt_exits", s->kvm_halt_exits);
	json_int(&j, "irq_injections", s->kvm_irq_injections);
	json_obj_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

static void print_text(const struct hqio_vmm_stats *s)
{
	char b[HQIO_VMM_MAX_ASSIGN * (HQIO_BDF_STR_MAX + 16)] = "no function assigned";
	for (unsigned i = 0; i < s->n_dev; i++) {
		char f[HQIO_BDF_STR_MAX];
		size_t u = i ? strlen(b) : 0;
		snprintf(b + u, sizeof(b) - u, "%s%s as 00:%02x.0", i ? ", " : "",
			 hqio_bdf_format(s->dev[i].host_bdf, f, sizeof(f)), 1 + i);
	}
	printf("hqio run: guest exit 0x%x, %u checks passed, %u failed%s, %.3f s\n",
	       (unsigned)s->guest_exit, s->guest_pass, s->guest_fail,
	       s->timed_out ? " (TIMED OUT)" : "", (double)s->wall_ns / 1e9);
	printf("  %s; exits to the monitor: %llu port (%llu config, %llu "
	       "debug), %llu MMIO (%llu ECAM, %llu trapped BAR, %llu other)\n",
	       b, (unsigned long long)s->exits.io, (unsigned long long)s->exits.io_cfg,
	       (unsigned long long)s->exits.io_debug, (unsigned long long)s->exits.mmio,
	       (unsigned long long)s->exits.mmio_ecam, (unsigned long long)s->exits.mmio_bar,
	       (unsigned long long)s->exits.mmio_unclaimed);
	printf("  config accesses: %llu through CF8/CFC, %llu through ECAM (%llu to the "
	       "function)\n",
	       (unsigned long long)s->cfg_cf8, (unsigned long long)s->cfg_ecam,
	       (unsigned long long)s->cfg_dev);
	printf("  interrupts: %llu host, %llu delivered, %llu latched, %llu re-asserted, %llu "
	       "guest EOIs\n",
	       (unsigned long long)s->host_irqs, (unsigned long long)s->delivered,
	       (unsigned long long)s->latched, (unsigned long long)s->reasserted,
	       (unsigned long long)s->eois);
	for (unsigned i = 0; i < s->n_dev; i++) {
		const struct hqio_vmm_dev_stats *d = &s->dev[i];
		printf("  00:%02x.0 (host %s, INTx GSI %u): interrupts %s, path: %s; "
		       "/proc/interrupts %lld; %llu host, %llu delivered, %llu EOIs; %llu trapped "
		       "BAR exits (%llu MSI-X table/PBA)\n",
		       1 + i, d->host_irq ? d->host_irq : "-", d->intx_gsi,
		       d->fast_path ? "irqfd" : "hop", d->fast_path_msg, d->host_vfio_irqs,
		       (unsigned long long)d->host_irqs, (unsigned long long)d->delivered,
		       (unsigned long long)d->eois, (unsigned long long)d->mmio_trapped,
		       (unsigned long long)d->msix_trapped);
	}
	if (s->intx_samples)
		printf("  INTx: line assert -> guest EOI seen: p10 %u us, p50 %u us, p90 %u us "
		       "(%u samples)\n",
		       s->intx_assert_to_eoi_p10_us, s->intx_assert_to_eoi_p50_us,
		       s->intx_assert_to_eoi_p90_us, s->intx_samples);
	if (s->intx_steps[2].n) {
		printf("  INTx steps (guest trace=1), p50 us (n):");
		for (unsigned k = 0; k < 4; k++)
			printf(" %s %u (%u)", s->intx_steps[k].name, s->intx_steps[k].p50_us,
			       s->intx_steps[k].n);
		printf("\n");
	}
	printf("  BAR memslots %llu (%llu bytes trapped); DMA faults in the kernel log: %llu\n",
	       (unsigned long long)s->bar_slots, (unsigned long long)s->bar_trapped_bytes,
	       (unsigned long long)s->dma_faults);
	if (s->memtype.model)
		printf("  memory types (%s, KVM 6.1 model): RAM guest %s -> %s (%s); BAR guest %s "
		       "-> %s; KVM's non-coherent DMA input: %s (%s)\n",
		       s->memtype.model, s->memtype.ram_guest, s->memtype.ram_effective,
		       s->memtype.ram_coherent ? "DMA coherent" : "DMA NOT coherent",
		       s->memtype.bar_guest, s->memtype.bar_effective,
		       s->memtype.noncoherent_dma ? "yes" : "no",
		       s->memtype.dma_source ? s->memtype.dma_source : "-");
	for (unsigned i = 0; i < s->n_dev; i++) {
		const struct hqio_vmm_dev_stats *d = &s->dev[i];
		char f[HQIO_BDF_STR_MAX];
		hqio_bdf_format(d->host_bdf, f, sizeof(f));
		printf("  %s assignment: plan %s; %s\n", f, d->reset_plan[0] ? d->reset_plan : "-",
		       d->assign_msg);
		printf("  %s reclaim: reset %s (%s); host BAR0 0x%08x -> 0x%08x (%s)%s\n", f,
		       d->reset_done ? "done" : "NOT done", d->reset_msg, d->host_bar0_before,
		       d->host_bar0_after, d->host_bars_unchanged ? "unchanged" : "CHANGED",
		       d->quarantine_lifted ? "; earlier quarantine lifted" : "");
	}
	if (s->n_dev)
		printf("  guest RAM %s\n", s->memory_released ? "released from the IOMMU domain"
							      : "kept mapped (quarantine)");
}

static void quarantine_note(const struct hqio_vmm_stats *s)
{
	char b[HQIO_BDF_STR_MAX];
	for (unsigned i = 0; i < s->n_dev; i++) {
		if (!s->dev[i].quarantined)
			continue;
		hqio_bdf_format(s->dev[i].host_bdf, b, sizeof(b));
		fprintf(stderr,
			"hqio run: %s is QUARANTINED: no verified reset, so its state is unknown; "
			"it stays "
			"bound to vfio-pci and must not be handed back to a host driver or another "
			"guest "
			"(recorded in the state directory; a later run or `hqio vfio reset %s` "
			"that "
			"verifies a reset lifts it)\n",
			b, b);
	}
}

int cmd_run(int argc, char **argv)
{
	enum {
		O_ASSIGN = 256,
		O_GUEST,
		O_MEM,
		O_IRQ,
		O_CMDLINE,
		O_TIMEOUT,
		O_NORESET,
		O_QUIET,
		O_JSON,
		O_PROBE,
		O_EXTRACT,
		O_TRAP,
		O_HOP,
		O_PIN,
		O_RMETHOD,
		O_FAULT,
		O_EOIFIRST,
		O_HOSTINTX,
		O_STATEDIR,
		O_STORM,
		O_MIRROR
	};
	static const struct option lo[] = {
		{ "assign", required_argument, NULL, O_ASSIGN },
		{ "guest", required_argument, NULL, O_GUEST },
		{ "mem", required_argument, NULL, O_MEM },
		{ "irq", required_argument, NULL, O_IRQ },
		{ "cmdline", required_argument, NULL, O_CMDLINE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "no-reset", no_argument, NULL, O_NORESET },
		{ "trap-bars", no_argument, NULL, O_TRAP },
		{ "msi-hop", no_argument, NULL, O_HOP },
		{ "hop", no_argument, NULL, O_HOP },
		{ "host-intx", no_argument, NULL, O_HOSTINTX },
		{ "state-dir", required_argument, NULL, O_STATEDIR },
		{ "storm-max", required_argument, NULL, O_STORM },
		{ "dvh-mirror", required_argument, NULL, O_MIRROR },
		{ "pin", no_argument, NULL, O_PIN },
		{ "reset-method", required_argument, NULL, O_RMETHOD },
		{ "fault-inject", required_argument, NULL, O_FAULT },
		{ "eoi-first", no_argument, NULL, O_EOIFIRST },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "json", no_argument, NULL, O_JSON },
		{ "probe", no_argument, NULL, O_PROBE },
		{ "extract-guest", required_argument, NULL, O_EXTRACT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct hqio_vmm_config c = { .mem_bytes = HQIO_VMM_MEM_DEFAULT, .timeout_ms = 60000 };
	const char *guest = NULL, *extract = NULL;
	bool json = false, quiet = false, probe = false;
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case O_ASSIGN:
			if (c.n_assign >= HQIO_VMM_MAX_ASSIGN)
				return usage_err("--assign %s: at most 4 functions", optarg);
			if (hqio_bdf_parse(optarg, &c.assign[c.n_assign]))
				return usage_err("--assign %s: not a PCI address (DDDD:BB:DD.F)",
						 optarg);
			c.n_assign++;
			break;
		case O_GUEST:
			guest = optarg;
			break;
		case O_MEM:
			if (!parse_size(optarg, &c.mem_bytes))
				return usage_err("--mem %s: not a size (e.g. 64M)", optarg);
			break;
		case O_IRQ:
			if (!strcmp(optarg, "msi"))
				c.irq = HQIO_VMM_IRQ_MSI;
			else if (!strcmp(optarg, "intx"))
				c.irq = HQIO_VMM_IRQ_INTX;
			else
				return usage_err("--irq %s: msi or intx", optarg);
			break;
		case O_CMDLINE:
			c.cmdline = optarg;
			break;
		case O_TIMEOUT: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !v || v > 86400 || optarg[0] == '-')
				return usage_err("--timeout %s: seconds, 1..86400", optarg);
			c.timeout_ms = v * 1000;
			break;
		}
		case O_NORESET:
			c.no_reset = true;
			break;
		case O_TRAP:
			c.trap_bars = true;
			break;
		case O_HOP:
			c.msi_hop = true;
			break;
		case O_STORM: {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !v || v > 1000000 || optarg[0] == '-')
				return usage_err("--storm-max %s: 1..1000000", optarg);
			c.storm_max = (unsigned)v;
			break;
		}
		case O_MIRROR:
			if (c.n_mirror >= HQIO_DVH_MAX_BD)
				return usage_err("--dvh-mirror %s: at most 4", optarg);
			if (!parse_mirror(optarg, &c.mirror[c.n_mirror]))
				return usage_err(
					"--dvh-mirror %s: BAR:OFF:LEN with BAR 0..5, LEN 1.."
					"4096 (the configuration space), e.g. 0:0x800:0x100",
					optarg);
			c.n_mirror++;
			break;
		case O_STATEDIR:
			c.state_dir = optarg;
			break;
		case O_HOSTINTX:
			c.host_intx = true;
			break;
		case O_PIN:
			c.pin = true;
			break;
		case O_EOIFIRST:
			c.eoi_first = true;
			break;
		case O_RMETHOD: {
			bool known = false;
			for (int i = 0; i < HQIO_RM_COUNT; i++)
				known |= !strcmp(optarg,
						 hqio_reset_method_name((enum hqio_reset_method)i));
			if (!known)
				return usage_err("--reset-method %s: flr, af_flr, pm, bus or "
						 "device_specific",
						 optarg);
			c.reset_method = optarg;
			break;
		}
		case O_FAULT:
			if (strcmp(optarg, "canary"))
				return usage_err("--fault-inject %s: only 'canary'", optarg);
			c.fault_canary = true;
			break;
		case O_QUIET:
			quiet = true;
			break;
		case O_JSON:
			json = true;
			break;
		case O_PROBE:
			probe = true;
			break;
		case O_EXTRACT:
			extract = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return HQIO_EXIT_OK;
		default:
			return usage_err("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_err("unexpected argument '%s'", argv[optind]);
	struct hqio_error err = { 0 };
	if (extract) {
		size_t len;
		const uint8_t *img = hqio_vmm_builtin_guest(&len);
		if (!img) {
			fprintf(stderr, "hqio run: this hqio was built without the test guest\n");
			return HQIO_EXIT_FAIL;
		}
		FILE *f = fopen(extract, "wb");
		if (!f || fwrite(img, 1, len, f) != len || fclose(f)) {
			fprintf(stderr, "hqio run: cannot write %s: %s\n", extract,
				strerror(errno));
			return HQIO_EXIT_FAIL;
		}
		printf("wrote the test guest (%zu bytes) to %s\n", len, extract);
		return HQIO_EXIT_OK;
	}
	if (probe) {
		int rc = hqio_vmm_probe_kvm(NULL, &err);
		if (rc) {
			fprintf(stderr, "hqio run: KVM unusable: %s\n", err.msg);
			return HQIO_EXIT_FAIL;
		}
		printf("KVM runs 32-bit protected-mode guests with an in-kernel irqchip\n");
		return HQIO_EXIT_OK;
	}
	if (!guest)
		return usage_err("%s", "--guest FILE (or builtin) is required");
	uint8_t *owned = NULL;
	if (!strcmp(guest, "builtin")) {
		c.guest = hqio_vmm_builtin_guest(&c.guest_len);
		if (!c.guest) {
			fprintf(stderr, "hqio run: this hqio was built without the test guest "
					"(guest/ needs a compiler that emits 32-bit code)\n");
			return HQIO_EXIT_FAIL;
		}
	} else {
		owned = read_file(guest, &c.guest_len, &err);
		if (!owned) {
			fprintf(stderr, "hqio run: %s\n", err.msg);
			return HQIO_EXIT_FAIL;
		}
		c.guest = owned;
	}
	c.console = quiet ? NULL : json ? stderr : stdout;
	struct hqio_vmm_stats s;
	int rc = hqio_vmm_run(&c, &s, &err);
	free(owned);
	if (json)
		print_json(&c, &s, rc, &err);
	if (rc) {
		fprintf(stderr, "hqio run: %s\n", err.msg);
		if (s.quarantined)
			quarantine_note(&s);
		return HQIO_EXIT_FAIL;
	}
	if (!json)
		print_text(&s);
	if (s.quarantined) {
		fprintf(stderr, "hqio run: reclaim failed: %s\n", s.reset_msg);
		quarantine_note(&s);
		return HQIO_EXIT_FAIL;
	}
	return s.guest_exit == HQIO_VMM_GUEST_PASS && !s.timed_out ? HQIO_EXIT_OK : HQIO_EXIT_FAIL;
}
