/*
 * hqio vfio: assign PCI functions through Linux VFIO (host/vfio.c) and
 * check on real devices what the rest of hqio claims: BAR access,
 * interrupts, DMA through the IOMMU, resets through lib/reset with
 * canaries, and the reclaim race (docs/vfio.md).
 */
#include "commands.h"
#include "quarantine.h"
#include "json.h"
#include "sysfs.h"
#include "vfio.h"

#include "hqio/pci_regs.h"
#include "hqio/reset.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_DIR_DEFAULT HQIO_STATE_DIR_DEFAULT

static const char usage_text[] =
	"usage: hqio vfio COMMAND [options] BDF...\n"
	"\n"
	"Assign PCI functions through Linux VFIO (legacy container, TYPE1v2 "
	"IOMMU)\n"
	"and exercise them. Needs root, the IOMMU on and the vfio-pci module.\n"
	"\n"
	"commands:\n"
	"  info BDF...          IOMMU group, viability, driver, Linux "
	"reset_method,\n"
	"                       VFIO regions and interrupts (opens the device "
	"when\n"
	"                       it is bound to vfio-pci)\n"
	"  bind BDF...          bind to vfio-pci via driver_override; the "
	"previous\n"
	"                       driver is recorded for release\n"
	"  release BDF...       unbind from vfio-pci and give the function back "
	"to\n"
	"                       the driver it had before bind\n"
	"  edu-test BDF         QEMU edu device: BAR access (read() and mmap), "
	"the\n"
	"                       factorial with MSI and with INTx, INTx masking, "
	"DMA\n"
	"                       through the IOMMU, a blocked DMA to an unmapped "
	"IOVA\n"
	"  reset BDF            plan (lib/reset) and reset through VFIO with\n"
	"                       canaries; --expect METHOD fails unless METHOD did "
	"it\n"
	"  reclaim-race BDF     edu: a DMA of owner A in flight while the device "
	"goes\n"
	"                       to owner B, in the naive order and in hqio's\n"
	"  sriov PF --numvfs N [--reset-vfs]\n"
	"                       set the number of SR-IOV VFs and list them; with\n"
	"                       --reset-vfs (PF on vfio-pci): open the PF, set its\n"
	"                       VF token, enable the VFs, bind each to vfio-pci and\n"
	"                       reset it by FLR through lib/reset, then disable them\n"
	"\n"
	"options:\n"
	"  --json               machine-readable output\n"
	"  --expect METHOD      (reset) the method that must succeed\n"
	"  --expect-fail METHOD (reset) a method that must be tried and fail\n"
	"  --all-canaries       (reset) experiment: also trust the configuration\n"
	"                       canaries VFIO restores or virtualizes (BARs,\n"
	"                       Command, MSI-X, Device Control); every method then\n"
	"                       fails verification (docs/vfio.md)\n"
	"  --order naive|hqio|both  (reclaim-race; default both)\n"
	"  --count N            (edu-test) interrupts per check (default 20)\n"
	"  --numvfs N           (sriov)\n"
	"  --sys DIR            sysfs mount point (default /sys)\n"
	"  --dev-vfio DIR       VFIO device directory (default /dev/vfio)\n"
	"  --state-dir DIR      where bind records the previous driver, and hqio\n"
	"                       keeps quarantine records (default " STATE_DIR_DEFAULT ")\n"
	"  --force              (release) hand back a QUARANTINED function anyway\n"
	"  -h, --help           this text\n"
	"\n"
	"Check commands print one line per check, `PASS name: detail` or\n"
	"`FAIL name: detail`.\n"
	"Exit status: 0 success (every check passed), 1 failure, 2 wrong "
	"arguments.\n";

struct opts {
	const char *cmd;
	bool json, all_canaries, reset_vfs, force;
	const char *expect, *expect_fail, *order;
	unsigned count, numvfs;
	bool have_numvfs;
	struct hqio_vfio_paths paths;
	const char *state_dir;
	struct hqio_bdf bdf[16];
	unsigned n_bdf;
};

/* ------------------------------------------------------------------ */
/* Check lines                                                          */
/* ------------------------------------------------------------------ */

struct checks {
	struct json *j;
	unsigned pass, fail;
};

static void check(struct checks *c, bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void check(struct checks *c, bool ok, const char *name, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (ok)
		c->pass++;
	else
		c->fail++;
	if (c->j) {
		json_obj(c->j, NULL);
		json_str(c->j, "check", name);
		json_bool(c->j, "pass", ok);
		json_str(c->j, "detail", detail);
		json_obj_end(c->j);
	} else {
		printf("%s %s: %s\n", ok ? "PASS" : "FAIL", name, detail);
		fflush(stdout);
	}
}

/* ------------------------------------------------------------------ */
/* Opening                                                              */
/* ------------------------------------------------------------------ */

static int open_dev(const struct opts *o, struct hqio_bdf bdf, struct hqio_vfio **v,
		    struct hqio_host_ops *ops, struct hqio_error *err)
{
	int rc = hqio_vfio_open(&o->paths, v, err);
	if (rc)
		return rc;
	if ((rc = hqio_vfio_add(*v, bdf, err))) {
		hqio_vfio_close(*v);
		*v = NULL;
		return rc;
	}
	hqio_vfio_host_ops(*v, ops);
	return 0;
}

static int set_command(const struct hqio_host_ops *ops, struct hqio_bdf bdf, uint32_t set,
		       uint32_t clear)
{
	uint32_t cmd;
	int rc = ops->cfg_read(ops->ctx, bdf, HQIO_PCI_COMMAND, 2, &cmd);
	if (rc)
		return rc;
	return ops->cfg_write(ops->ctx, bdf, HQIO_PCI_COMMAND, 2, (cmd | set) & ~clear);
}

/* ------------------------------------------------------------------ */
/* The edu device (QEMU docs/specs/edu.rst, hw/misc/edu.c)              */
/* ------------------------------------------------------------------ */

#define EDU_VENDOR	 0x1234
#define EDU_DEVICE	 0x11e8
#define EDU_IDENT	 0x00 /* 0xRRrr00ed: major, minor, 0x00, 0xed */
#define EDU_LIVENESS	 0x04 /* reads back the bitwise inverse */
#define EDU_FACT	 0x08 /* write n, read n! when done */
#define EDU_STATUS	 0x20 /* bit 0 computing, bit 7 raise irq when done */
#define EDU_IRQ_STATUS	 0x24
#define EDU_IRQ_RAISE	 0x60 /* ORed into the irq status, raises it */
#define EDU_IRQ_ACK	 0x64 /* clears those bits; lowers when 0 */
#define EDU_DMA_SRC	 0x80
#define EDU_DMA_DST	 0x88
#define EDU_DMA_CNT	 0x90
#define EDU_DMA_CMD	 0x98	 /* bit 0 start/busy, bit 1 edu->RAM, bit 2 irq */
#define EDU_DMA_BUF	 0x40000 /* the device's 4 KiB buffer, as a DMA address */
#define EDU_STATUS_IRQ	 0x80
#define EDU_FACT_IRQ	 0x00000001 /* irq status value of "factorial done" */
#define EDU_DMA_START	 0x1
#define EDU_DMA_TO_RAM	 0x2
#define EDU_DMA_MASK	 ((1u << 28) - 1) /* edu.c: dma_mask 28 bits */
#define EDU_DMA_MAX	 4095		  /* QEMU 7.2 aborts on exactly 4096 (testbed.md) */
#define EDU_DMA_TIMER_MS 100		  /* edu.c: DMA runs 100 ms after the command */

#define PAGE	      4096
#define IOVA_A	      0x100000ull
#define IOVA_B	      0x200000ull
#define IOVA_UNMAPPED 0x400000ull /* below 2^28, never mapped here */
#define DMA_LEN	      2048
#define WAIT_NS	      (2000ull * 1000 * 1000)
#define MS	      (1000ull * 1000)

struct edu {
	const struct hqio_host_ops *ops;
	struct hqio_vfio *v;
	struct hqio_bdf bdf;
	unsigned irqs, bad_status;
	bool ack;    /* the handler acks the device */
	bool unmask; /* the handler unmasks INTx afterwards */
};

static uint32_t rd32(struct edu *e, uint32_t off)
{
	uint64_t v = 0xffffffffu;
	if (e->ops->bar_read(e->ops->ctx, e->bdf, 0, off, 4, &v))
		return 0xffffffffu;
	return (uint32_t)v;
}

static int wr32(struct edu *e, uint32_t off, uint32_t val)
{
	return e->ops->bar_write(e->ops->ctx, e->bdf, 0, off, 4, val);
}

static int wr64(struct edu *e, uint32_t off, uint64_t val)
{
	return e->ops->bar_write(e->ops->ctx, e->bdf, 0, off, 8, val);
}

static void edu_irq(void *arg, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector)
{
	struct edu *e = arg;
	(void)bdf;
	(void)vector;
	e->irqs++;
	uint32_t st = rd32(e, EDU_IRQ_STATUS);
	if (st == 0)
		e->bad_status++; /* an interrupt with nothing pending */
	if (e->ack)
		wr32(e, EDU_IRQ_ACK, st);
	if (e->unmask && type == HQIO_IRQ_INTX)
		e->ops->irq_mask(e->ops->ctx, e->bdf, HQIO_IRQ_INTX, 0, false);
}

static bool dma_idle(void *arg)
{
	struct edu *e = arg;
	return !(rd32(e, EDU_DMA_CMD) & EDU_DMA_START);
}

static int edu_dma(struct edu *e, uint64_t src, uint64_t dst, uint32_t len, bool to_ram, bool wait)
{
	int rc;
	if ((rc = wr64(e, EDU_DMA_SRC, src)) || (rc = wr64(e, EDU_DMA_DST, dst)) ||
	    (rc = wr64(e, EDU_DMA_CNT, len)) ||
	    (rc = wr32(e, EDU_DMA_CMD, EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0))))
		return rc;
	return wait ? e->ops->wait_until(e->ops->ctx, dma_idle, e, MS, WAIT_NS) : 0;
}

static uint32_t factorial(uint32_t n)
{
	uint32_t r = 1;
	while (n > 1)
		r *= n--;
	return r;
}

static const char *last_err(struct hqio_vfio *v)
{
	return hqio_vfio_error(v)->msg;
}

/* n factorials with interrupts of type t; each interrupt must arrive. */
static void edu_factorials(struct checks *c, struct edu *e, enum hqio_irq_type t, unsigned n,
			   const char *name)
{
	int rc = e->ops->irq_set(e->ops->ctx, e->bdf, t, 1, edu_irq, e);
	if (rc) {
		check(c, false, name, "enabling %s: %s", t == HQIO_IRQ_MSI ? "MSI" : "INTx",
		      last_err(e->v));
		return;
	}
	e->irqs = e->bad_status = 0;
	e->ack = true;
	e->unmask = true;
	unsigned wrong = 0, lost = 0;
	wr32(e, EDU_STATUS, EDU_STATUS_IRQ);
	for (unsigned i = 0; i < n; i++) {
		uint32_t k = 1 + i % 12, before = e->irqs;
		wr32(e, EDU_FACT, k);
		while (e->irqs == before) {
			int got = hqio_vfio_dispatch(e->v, WAIT_NS);
			if (got <= 0)
				break;
		}
		if (e->irqs == before)
			lost++;
		if (rd32(e, EDU_FACT) != factorial(k))
			wrong++;
	}
	/* Nothing more may come: one interrupt per factorial. */
	int extra = hqio_vfio_dispatch(e->v, 100 * MS);
	wr32(e, EDU_STATUS, 0);
	e->ops->irq_set(e->ops->ctx, e->bdf, t, 0, NULL, NULL);
	check(c, lost == 0 && wrong == 0 && extra == 0 && e->irqs == n && e->bad_status == 0, name,
	      "%u factorials, %u interrupts serviced, %u lost, %d extra, %u wrong "
	      "results, %u "
	      "without status",
	      n, e->irqs, lost, extra > 0 ? extra : 0, wrong, e->bad_status);
}

static void edu_intx_mask(struct checks *c, struct edu *e)
{
	const char *name = "intx-masked-until-unmask";
	if (e->ops->irq_set(e->ops->ctx, e->bdf, HQIO_IRQ_INTX, 1, edu_irq, e)) {
		check(c, false, name, "enabling INTx: %s", last_err(e->v));
		return;
	}
	e->irqs = e->bad_status = 0;
	e->ack = true;
	e->unmask = false; /* leave VFIO's automatic mask in place */
	wr32(e, EDU_IRQ_RAISE, 0x100);
	hqio_vfio_dispatch(e->v, WAIT_NS);
	unsigned first = e->irqs;
	wr32(e, EDU_IRQ_RAISE, 0x200); /* line up again, but masked */
	hqio_vfio_dispatch(e->v, 300 * MS);
	unsigned while_masked = e->irqs - first;
	e->ops->irq_mask(e->ops->ctx, e->bdf, HQIO_IRQ_INTX, 0, false);
	hqio_vfio_dispatch(e->v, WAIT_NS);
	unsigned after = e->irqs - first - while_masked;
	e->ops->irq_mask(e->ops->ctx, e->bdf, HQIO_IRQ_INTX, 0, false);
	wr32(e, EDU_IRQ_ACK, 0xffffffffu);
	e->ops->irq_set(e->ops->ctx, e->bdf, HQIO_IRQ_INTX, 0, NULL, NULL);
	check(c, first == 1 && while_masked == 0 && after == 1, name,
	      "first interrupt %u, while masked (300 ms, line asserted) %u, after "
	      "unmask %u "
	      "(want 1, 0, 1)",
	      first, while_masked, after);
}

static void *page_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* A pattern without zero bytes, so that "B holds A's bytes" counts all. */
static void pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(1 + (seed + i * 7 + (i >> 8)) % 255);
}

/* Kernel log lines appended after open; matched for the DMAR fault. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static bool kmsg_find(int fd, const char *a, const char *b, char *line, size_t len)
{
	char rec[1024];
	for (unsigned tries = 0; tries < 40; tries++) {
		ssize_t r;
		while ((r = read(fd, rec, sizeof(rec) - 1)) > 0) {
			rec[r] = '\0';
			if (strstr(rec, a) && strstr(rec, b)) {
				const char *msg = strchr(rec, ';');
				snprintf(line, len, "%s", msg ? msg + 1 : rec);
				line[strcspn(line, "\n")] = '\0';
				return true;
			}
		}
		if (r < 0 && errno == EPIPE) /* overwritten records: keep reading */
			continue;
		usleep(50 * 1000);
	}
	return false;
}

static void edu_dma_checks(struct checks *c, struct edu *e)
{
	const struct hqio_host_ops *ops = e->ops;
	uint8_t *a = page_alloc(PAGE), *b = page_alloc(PAGE);
	if (!a || !b) {
		check(c, false, "dma-roundtrip", "out of memory");
		return;
	}
	pattern(a, PAGE, 0x11);
	memset(b, 0, PAGE);
	int rc;
	if ((rc = ops->dma_map(ops->ctx, e->bdf, IOVA_A, (uintptr_t)a, PAGE,
			       HQIO_DMA_READ | HQIO_DMA_WRITE)) ||
	    (rc = ops->dma_map(ops->ctx, e->bdf, IOVA_B, (uintptr_t)b, PAGE,
			       HQIO_DMA_READ | HQIO_DMA_WRITE))) {
		check(c, false, "dma-roundtrip", "%s", last_err(e->v));
		goto out;
	}
	set_command(ops, e->bdf, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER, 0);
	/* memory -> device, then device -> memory. */
	rc = edu_dma(e, IOVA_A, EDU_DMA_BUF, DMA_LEN, false, true);
	int rc2 = rc ? rc : edu_dma(e, EDU_DMA_BUF, IOVA_B, DMA_LEN, true, true);
	check(c,
	      !rc && !rc2 && memcmp(a, b, DMA_LEN) == 0 &&
		      all_bytes(b + DMA_LEN, PAGE - DMA_LEN, 0),
	      "dma-roundtrip", "%d bytes RAM(IOVA 0x%llx)->edu->RAM(IOVA 0x%llx): %s", DMA_LEN,
	      (unsigned long long)IOVA_A, (unsigned long long)IOVA_B,
	      rc || rc2					  ? "DMA did not finish"
	      : memcmp(a, b, DMA_LEN)			  ? "data differ"
	      : all_bytes(b + DMA_LEN, PAGE - DMA_LEN, 0) ? "identical, nothing past the end"
							  : "bytes past the transfer written");

	/* device -> unmapped IOVA: blocked by the IOMMU, reported in the log. */
	uint8_t a_copy[PAGE], b_copy[PAGE];
	memcpy(a_copy, a, PAGE);
	memcpy(b_copy, b, PAGE);
	int kfd = kmsg_open();
	rc = edu_dma(e, EDU_DMA_BUF, IOVA_UNMAPPED, DMA_LEN, true, true);
	bool untouched = memcmp(a, a_copy, PAGE) == 0 && memcmp(b, b_copy, PAGE) == 0;
	char want[64], addr[48], line[512] = "";
	snprintf(want, sizeof(want), "device [%02x:%02x.%u]", e->bdf.bus, e->bdf.dev, e->bdf.fn);
	snprintf(addr, sizeof(addr), "fault addr 0x%llx", (unsigned long long)IOVA_UNMAPPED);
	bool logged = kfd >= 0 && kmsg_find(kfd, want, addr, line, sizeof(line));
	if (kfd >= 0)
		close(kfd);
	check(c, !rc && untouched && logged, "dma-unmapped-blocked",
	      "edu->IOVA 0x%llx (unmapped, below 2^28): %s; mapped memory %s; kernel "
	      "log: %s",
	      (unsigned long long)IOVA_UNMAPPED, rc ? "DMA did not finish" : "DMA finished",
	      untouched ? "untouched" : "CHANGED",
	      logged	? line
	      : kfd < 0 ? "cannot open /dev/kmsg"
			: "no DMAR fault line found");
	ops->dma_unmap(ops->ctx, e->bdf, IOVA_A, PAGE);
	ops->dma_unmap(ops->ctx, e->bdf, IOVA_B, PAGE);
out:
	if (a)
		munmap(a, PAGE);
	if (b)
		munmap(b, PAGE);
}

static int edu_test(const struct opts *o, struct checks *c)
{
	struct hqio_vfio *v = NULL;
	struct hqio_host_ops ops;
	struct hqio_error err = { 0 };
	struct hqio_bdf bdf = o->bdf[0];
	if (open_dev(o, bdf, &v, &ops, &err)) {
		check(c, false, "open", "%s", err.msg);
		return HQIO_EXIT_FAIL;
	}
	struct edu e = { .ops = &ops, .v = v, .bdf = bdf };
	uint32_t id = 0;
	ops.cfg_read(v, bdf, HQIO_PCI_VENDOR_ID, 4, &id);
	if (id != ((uint32_t)EDU_DEVICE << 16 | EDU_VENDOR)) {
		check(c, false, "open", "not an edu device (IDs 0x%08x)", id);
		hqio_vfio_close(v);
		return HQIO_EXIT_FAIL;
	}
	check(c, true, "open", "container + group + device, TYPE1v2 IOMMU");
	/* An MSI is a memory write: it needs Bus Master like DMA does. */
	set_command(&ops, bdf, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER,
		    HQIO_PCI_COMMAND_INTX_DISABLE);

	/* BAR through read()/write() on the region. */
	uint32_t ident = rd32(&e, EDU_IDENT);
	wr32(&e, EDU_LIVENESS, 0x12345678);
	uint32_t live = rd32(&e, EDU_LIVENESS);
	check(c, (ident & 0xff) == 0xed && live == ~0x12345678u, "bar-rw",
	      "ident 0x%08x, liveness 0x12345678 -> 0x%08x", ident, live);

	/* BAR through mmap. */
	void *map = NULL;
	uint64_t len = 0;
	if (hqio_vfio_bar_mmap(v, bdf, 0, &map, &len, &err) == 0) {
		volatile uint32_t *r = map;
		uint32_t mid = r[EDU_IDENT / 4];
		r[EDU_LIVENESS / 4] = 0xa5a50f0fu;
		uint32_t ml = r[EDU_LIVENESS / 4];
		check(c, mid == ident && ml == ~0xa5a50f0fu, "bar-mmap",
		      "%llu KiB mapped; ident 0x%08x, liveness 0xa5a50f0f -> 0x%08x",
		      (unsigned long long)(len >> 10), mid, ml);
	} else {
		check(c, false, "bar-mmap", "%s", err.msg);
	}
	/* From here on the same accesses go through the mapping. */
	edu_factorials(c, &e, HQIO_IRQ_MSI, o->count, "msi-factorial");
	edu_factorials(c, &e, HQIO_IRQ_INTX, o->count, "intx-factorial");
	edu_intx_mask(c, &e);
	edu_dma_checks(c, &e);
	hqio_vfio_close(v);
	return c->fail ? HQIO_EXIT_FAIL : HQIO_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* Device-register canaries (struct hqio_reset_hooks)                   */
/* ------------------------------------------------------------------ */

struct reg_canary {
	uint16_t vendor, device;
	unsigned bar;
	uint32_t off, value;
	const char *what; /* the register, and why a reset clears it */
};

static const struct reg_canary canaries[] = {
	/* Intel 82574 datasheet §10.2.6.1: RDBAL0 at 0x2800, bits 3:0 ignored;
	 * QEMU hw/net/e1000e_core.c e1000e_core_reset sets every MAC register
	 * back to its initial value (0 for RDBAL). */
	{ 0x8086, 0x10d3, 0, 0x2800, 0xa5a5a5a0u, "e1000e RDBAL0" },
	/* NVMe 1.4 §3.1.3: INTMS at 0x0c, write 1 to mask a vector (only
	 * without MSI-X), reset value 0; QEMU hw/nvme/ctrl.c nvme_ctrl_reset
	 * clears it on a function reset. */
	{ 0x1b36, 0x0010, 0, 0x0c, 0x1u, "nvme INTMS" },
};

static const struct reg_canary *canary_for(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < sizeof(canaries) / sizeof(canaries[0]); i++)
		if (canaries[i].vendor == vendor && canaries[i].device == device)
			return &canaries[i];
	return NULL;
}

static int hook_write(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf)
{
	const struct reg_canary *k = arg;
	uint64_t v = 0;
	int rc = ops->bar_write(ops->ctx, bdf, k->bar, k->off, 4, k->value);
	if (!rc)
		rc = ops->bar_read(ops->ctx, bdf, k->bar, k->off, 4, &v);
	/* Armed only when it reads back (an offline function ignores it). */
	return rc ? rc : (uint32_t)v == k->value ? 0 : -EIO;
}

static int hook_check(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf,
		      bool *cleared)
{
	const struct reg_canary *k = arg;
	uint64_t v = 0xffffffffu;
	int rc = ops->bar_read(ops->ctx, bdf, k->bar, k->off, 4, &v);
	*cleared = rc == 0 && (uint32_t)v == 0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Planning from sysfs                                                  */
/* ------------------------------------------------------------------ */

struct planned {
	struct hqio_system sys;
	struct hqio_reset_plan plan;
	uint16_t vendor, device;
};

static int plan_for_q(const struct opts *o, struct hqio_bdf bdf, struct planned *p,
		      const struct hqio_reset_quirk *extra, struct hqio_error *err)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", o->paths.sys ? o->paths.sys : "/sys");
	memset(p, 0, sizeof(*p));
	int rc = hqio_sysfs_read(dir, &bdf, 1, &p->sys, err);
	if (!rc)
		rc = hqio_system_decode(&p->sys, err);
	if (rc)
		return rc;
	const struct hqio_pci_node *n = hqio_system_find(&p->sys, bdf);
	if (!n || !n->info)
		return hqio_error_set(err, -ENOENT, "device not decoded");
	p->vendor = n->info->vendor_id;
	p->device = n->info->device_id;
	struct hqio_plan_input in = {
		.sys = &p->sys, .node = n, .owner = 1, .quirks = extra, .n_quirks = extra ? 1 : 0
	};
	return hqio_reset_plan(&in, &p->plan, err);
}

static int plan_for(const struct opts *o, struct hqio_bdf bdf, struct planned *p,
		    struct hqio_error *err)
{
	return plan_for_q(o, bdf, p, NULL, err);
}

static const char *methods_text(const struct hqio_reset_plan *pl, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < pl->n_methods; i++) {
		size_t u = strlen(buf);
		snprintf(buf + u, len - u, "%s%s", i ? " " : "",
			 hqio_reset_method_name(pl->methods[i]));
	}
	return buf[0] ? buf : "none";
}

/* Plan, reset and report one function; shared: an open container to add
 * it to (kept open), else one of its own. */
static int reset_in(const struct opts *o, struct hqio_bdf bdf, struct hqio_vfio *shared)
{
	struct hqio_error err = { 0 };
	char b[HQIO_BDF_STR_MAX], mt[96];
	hqio_bdf_format(bdf, b, sizeof(b));
	struct planned *p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "hqio vfio reset: out of memory\n");
		return HQIO_EXIT_FAIL;
	}
	int ret = HQIO_EXIT_FAIL;
	struct hqio_vfio *v = shared;
	struct json j;
	if (plan_for(o, bdf, p, &err)) {
		fprintf(stderr, "hqio vfio reset: %s: %s\n", b, err.msg);
		goto out;
	}
	const struct hqio_reset_plan *pl = &p->plan;
	if (o->json) {
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "bdf", b);
		json_arr(&j, "planned");
		for (unsigned i = 0; i < pl->n_methods; i++)
			json_str(&j, NULL, hqio_reset_method_name(pl->methods[i]));
		json_arr_end(&j);
		json_bool(&j, "refused", pl->refused);
		json_str(&j, "refusal", pl->refused ? pl->refusal : NULL);
	} else {
		printf("plan: %s methods: %s\n", b, methods_text(pl, mt, sizeof(mt)));
	}
	if (pl->refused) {
		if (o->json) {
			json_obj_end(&j);
			json_end(&j);
		} else {
			printf("refused: %s\n", pl->refusal);
		}
		goto out;
	}
	struct hqio_host_ops ops;
	if (shared ? hqio_vfio_add(v, bdf, &err) : open_dev(o, bdf, &v, &ops, &err)) {
		if (!o->json)
			printf("result: %s\n", err.msg);
		fprintf(stderr, "hqio vfio reset: %s\n", err.msg);
		if (o->json) {
			json_str(&j, "error", err.msg);
			json_obj_end(&j);
			json_end(&j);
		}
		goto out;
	}
	if (shared)
		hqio_vfio_host_ops(v, &ops);
	const struct reg_canary *k = canary_for(p->vendor, p->device);
	/* No known register (an nvme VF is offline and ignores its registers,
	 * and has no MSI): MSI-X table entry 0's Message Data, reached through
	 * a mapping of its BAR (vfio-pci refuses read()/write() there but lets
	 * it be mapped where interrupts are remapped). QEMU's msix_reset clears
	 * the table on every reset; Linux restores it only when MSI-X is
	 * enabled, and quiesce disabled it. Armed only if it reads back. */
	struct reg_canary msix_k;
	if (!k && pl->msix) {
		uint32_t tbl = 0;
		void *m;
		uint64_t mlen;
		if (ops.cfg_read(v, bdf, (uint16_t)(pl->msix + HQIO_PCI_MSIX_TABLE), 4, &tbl) ==
			    0 &&
		    hqio_vfio_bar_mmap(v, bdf, tbl & HQIO_PCI_MSIX_BIR_MASK, &m, &mlen, NULL) ==
			    0) {
			msix_k = (struct reg_canary){ .vendor = p->vendor,
						      .device = p->device,
						      .bar = tbl & HQIO_PCI_MSIX_BIR_MASK,
						      .off = (tbl & HQIO_PCI_MSIX_OFFSET_MASK) + 8,
						      .value = 0x4a5a,
						      .what = "MSI-X table entry 0 Message Data" };
			k = &msix_k;
		}
	}
	struct hqio_reset_hooks hooks = { .arg = (void *)k,
					  .canary_write = k ? hook_write : NULL,
					  .canary_check = k ? hook_check : NULL };
	struct hqio_reset_result *res = calloc(1, sizeof(*res));
	if (!res)
		goto out;
	set_command(&ops, bdf, HQIO_PCI_COMMAND_MEMORY, 0);
	if (o->all_canaries)
		ops.flags &= ~(unsigned)HQIO_HOST_CFG_RESTORED;
	int rc = hqio_reset_execute(&ops, pl, &hooks, NULL, res, &err);
	bool expect_ok = true;
	if (o->expect)
		expect_ok = rc == 0 && !strcmp(hqio_reset_method_name(res->used), o->expect);
	bool fail_ok = !o->expect_fail;
	for (unsigned i = 0; i < res->n_attempts && o->expect_fail; i++)
		if (res->attempts[i].rc &&
		    !strcmp(hqio_reset_method_name(res->attempts[i].method), o->expect_fail))
			fail_ok = true;
	if (o->json) {
		json_str(&j, "device_canary", k ? k->what : NULL);
		json_arr(&j, "attempts");
		for (unsigned i = 0; i < res->n_attempts; i++) {
			json_obj(&j, NULL);
			json_str(&j, "method", hqio_reset_method_name(res->attempts[i].method));
			json_int(&j, "rc", res->attempts[i].rc);
			json_bool(&j, "verified", res->attempts[i].verified);
			json_str(&j, "note", res->attempts[i].note);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_str(&j, "used", rc ? NULL : hqio_reset_method_name(res->used));
		json_bool(&j, "quarantined", res->quarantined);
		json_u64(&j, "quiesce_ns", res->quiesce_ns);
		json_u64(&j, "reset_ns", res->reset_ns);
		json_str(&j, "message", res->msg);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("device canary: %s\n", k ? k->what : "none (MSI address/data only)");
		for (unsigned i = 0; i < res->n_attempts; i++) {
			const struct hqio_reset_attempt *a = &res->attempts[i];
			printf("attempt %u %s: %s%s\n", i + 1, hqio_reset_method_name(a->method),
			       a->rc ? "failed: " : "reset and verified", a->rc ? a->note : "");
		}
		printf("used: %s\n", rc ? "none" : hqio_reset_method_name(res->used));
		printf("time: quiesce %llu ms, reset %llu ms\n",
		       (unsigned long long)(res->quiesce_ns / MS),
		       (unsigned long long)(res->reset_ns / MS));
		if (rc)
			printf("result: %s\n", err.msg);
	}
	/* The quarantine record (host/quarantine.h) follows the verdict. */
	bool lifted = false;
	if (rc == 0) {
		lifted = hqio_quarantine_get(o->state_dir, bdf, NULL, 0) &&
			 hqio_quarantine_clear(o->state_dir, bdf, NULL) == 0;
	} else if (res->quarantined && !o->all_canaries) {
		/* (--all-canaries is an experiment whose verification is known
		 * to be wrong: its failures say nothing about the function.) */
		char why[HQIO_QUARANTINE_REASON_MAX];
		snprintf(why, sizeof(why), "hqio vfio reset: %s", err.msg);
		hqio_quarantine_mark(o->state_dir, bdf, why, NULL);
	}
	if (lifted && !o->json)
		printf("quarantine: lifted (the record of an earlier failure is removed)\n");
	if (rc == 0 && expect_ok && fail_ok)
		ret = HQIO_EXIT_OK;
	else if (rc == 0 && !o->json)
		printf("expectation not met:%s%s%s%s\n", expect_ok ? "" : " wanted ",
		       expect_ok ? "" : o->expect, fail_ok ? "" : " wanted a failed ",
		       fail_ok ? "" : o->expect_fail);
	free(res);
out:
	if (!shared)
		hqio_vfio_close(v);
	hqio_system_free(&p->sys);
	free(p);
	return ret;
}

static int reset_cmd(const struct opts *o)
{
	return reset_in(o, o->bdf[0], NULL);
}

/* ------------------------------------------------------------------ */
/* The reclaim race                                                     */
/* ------------------------------------------------------------------ */

#define IOVA_SRC 0x300000ull /* owner A's source of its data */

struct race {
	struct edu e;
	uint8_t *src, *a, *b;
	bool a_mapped;
};

static void race_release(void *arg, struct hqio_bdf bdf)
{
	struct race *r = arg;
	if (r->a_mapped && r->e.ops->dma_unmap(r->e.ops->ctx, bdf, IOVA_A, PAGE) == 0)
		r->a_mapped = false;
}

static void race_stop_guest(void *arg, struct hqio_bdf bdf)
{
	(void)arg;
	(void)bdf; /* no guest maps the BARs in this test */
}

/* Owner A loads its data into edu and starts edu -> A's buffer (100 ms). */
static int race_start(struct race *r)
{
	const struct hqio_host_ops *ops = r->e.ops;
	struct hqio_bdf bdf = r->e.bdf;
	pattern(r->src, PAGE, 0x5c);
	memset(r->a, 0, PAGE);
	memset(r->b, 0, PAGE);
	int rc;
	if ((rc = ops->dma_map(ops->ctx, bdf, IOVA_SRC, (uintptr_t)r->src, PAGE, HQIO_DMA_READ)))
		return rc;
	if ((rc = ops->dma_map(ops->ctx, bdf, IOVA_A, (uintptr_t)r->a, PAGE,
			       HQIO_DMA_READ | HQIO_DMA_WRITE)))
		return rc;
	r->a_mapped = true;
	set_command(ops, bdf, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER, 0);
	if ((rc = edu_dma(&r->e, IOVA_SRC, EDU_DMA_BUF, DMA_LEN, false, true)))
		return rc;
	ops->dma_unmap(ops->ctx, bdf, IOVA_SRC, PAGE);
	return edu_dma(&r->e, EDU_DMA_BUF, IOVA_A, DMA_LEN, true, false);
}

/* Owner B: its buffer at the same IOVA, Bus Master on at once; then
 * wait three DMA timer periods and look. */
static int race_owner_b(struct race *r)
{
	const struct hqio_host_ops *ops = r->e.ops;
	int rc = ops->dma_map(ops->ctx, r->e.bdf, IOVA_A, (uintptr_t)r->b, PAGE,
			      HQIO_DMA_READ | HQIO_DMA_WRITE);
	if (rc)
		return rc;
	set_command(ops, r->e.bdf, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER, 0);
	return ops->sleep_ns(ops->ctx, 3 * EDU_DMA_TIMER_MS * MS);
}

static void race_cleanup(struct race *r)
{
	const struct hqio_host_ops *ops = r->e.ops;
	ops->wait_until(ops->ctx, dma_idle, &r->e, MS, WAIT_NS);
	set_command(ops, r->e.bdf, 0, HQIO_PCI_COMMAND_MASTER);
	/* Whichever owner's buffer is mapped at IOVA_A now. */
	ops->dma_unmap(ops->ctx, r->e.bdf, IOVA_A, PAGE);
	r->a_mapped = false;
}

static size_t matching(const uint8_t *p, const uint8_t *want, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += p[i] == want[i] && want[i] != 0;
	return m;
}

/* hqio's order: start A's DMA, hqio_reclaim (quiesce with the plan's idle
 * check, reset, verify, drain, release A), then B at the same IOVA. */
static void race_hqio(struct checks *c, struct race *r, const struct hqio_reset_plan *plan,
		      const char *name)
{
	const struct hqio_host_ops *ops = r->e.ops;
	struct hqio_error err = { 0 };
	int rc = race_start(r);
	struct hqio_reset_result *res = calloc(1, sizeof(*res));
	struct hqio_reclaim_ops rops = { .arg = r,
					 .stop_guest_access = race_stop_guest,
					 .release_memory = race_release };
	if (!rc && res)
		rc = hqio_reclaim(ops, plan, NULL, NULL, &rops, res, &err);
	else
		snprintf(err.msg, sizeof(err.msg), "%s", rc ? last_err(r->e.v) : "out of memory");
	bool released = !r->a_mapped;
	if (!rc)
		rc = race_owner_b(r);
	size_t leak = matching(r->b, r->src, DMA_LEN);
	size_t in_a = matching(r->a, r->src, DMA_LEN);
	bool clean = all_bytes(r->b, PAGE, 0);
	check(c, !rc && released && leak == 0 && clean, name,
	      "hqio order (quiesce with idle %s, reset, verify, drain, then release A): B's "
	      "buffer holds %zu of A's bytes, %s; A's buffer got %zu; quiesce %llu ms, idle %s; "
	      "reset: %s%s%s",
	      plan->idle == HQIO_IDLE_WAIT ? "wait" : "register check", leak,
	      clean ? "untouched" : "CHANGED", in_a,
	      res ? (unsigned long long)(res->quiesce_ns / MS) : 0ULL,
	      res && res->idle_confirmed ? "confirmed" : "not confirmed", res ? res->msg : "-",
	      rc ? "; error: " : "", rc ? err.msg : "");
	free(res);
	race_cleanup(r);
}

static int reclaim_race(const struct opts *o, struct checks *c)
{
	struct hqio_error err = { 0 };
	struct hqio_bdf bdf = o->bdf[0];
	bool naive = strcmp(o->order, "hqio") != 0, hq = strcmp(o->order, "naive") != 0;
	struct planned *p = calloc(1, sizeof(*p));
	struct race r = { 0 };
	struct hqio_vfio *v = NULL;
	struct hqio_host_ops ops;
	if (!p)
		return HQIO_EXIT_FAIL;
	if (hq && plan_for(o, bdf, p, &err)) {
		check(c, false, "plan", "%s", err.msg);
		goto out;
	}
	if (hq && p->plan.refused) {
		check(c, false, "plan", "refused: %s", p->plan.refusal);
		goto out;
	}
	if (open_dev(o, bdf, &v, &ops, &err)) {
		check(c, false, "open", "%s", err.msg);
		goto out;
	}
	r.e = (struct edu){ .ops = &ops, .v = v, .bdf = bdf };
	r.src = page_alloc(PAGE);
	r.a = page_alloc(PAGE);
	r.b = page_alloc(PAGE);
	if (!r.src || !r.a || !r.b) {
		check(c, false, "setup", "out of memory");
		goto out;
	}
	if (naive) {
		/* Naive: unmap A, map B, B enables Bus Master; reset later. */
		int rc = race_start(&r);
		if (!rc) {
			race_release(&r, bdf);
			rc = race_owner_b(&r);
		}
		size_t leak = matching(r.b, r.src, DMA_LEN);
		check(c, !rc && leak == DMA_LEN, "race-naive-leaks",
		      "naive order (unmap A, map B at IOVA 0x%llx, Bus Master on, no idle "
		      "wait): "
		      "B's buffer holds %zu of A's %d bytes%s%s",
		      (unsigned long long)IOVA_A, leak, DMA_LEN, rc ? "; error: " : "",
		      rc ? last_err(v) : " (negative control: the race is real)");
		race_cleanup(&r);
	}
	if (hq) {
		race_hqio(c, &r, &p->plan, "race-hqio-safe");
		/* The same with a fixed wait instead of the built-in quirk's busy
		 * bit (an extra quirk entry ahead of the built-in one): the
		 * documented 100 ms DMA timer (docs/specs/edu.rst) waited out. */
		static const struct hqio_reset_quirk timed = {
			.vendor = EDU_VENDOR,
			.device = EDU_DEVICE,
			.flags = HQIO_QUIRK_TP_UNTRUSTED,
			.idle = HQIO_IDLE_WAIT,
			.idle_wait_ns = EDU_DMA_TIMER_MS * MS,
			.why = "QEMU edu: wait out the 100 ms DMA timer",
		};
		struct planned *p2 = calloc(1, sizeof(*p2));
		if (p2 && plan_for_q(o, bdf, p2, &timed, &err) == 0 && !p2->plan.refused)
			race_hqio(c, &r, &p2->plan, "race-hqio-wait-safe");
		else
			check(c, false, "race-hqio-wait-safe", "plan: %s",
			      p2 && p2->plan.refused ? p2->plan.refusal : err.msg);
		if (p2)
			hqio_system_free(&p2->sys);
		free(p2);
	}
out:
	if (r.src)
		munmap(r.src, PAGE);
	if (r.a)
		munmap(r.a, PAGE);
	if (r.b)
		munmap(r.b, PAGE);
	hqio_vfio_close(v);
	hqio_system_free(&p->sys);
	free(p);
	return c->fail ? HQIO_EXIT_FAIL : HQIO_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* info, bind, release, sriov                                           */
/* ------------------------------------------------------------------ */

static const char *sys_of(const struct opts *o)
{
	return o->paths.sys ? o->paths.sys : "/sys";
}

static int info_one(const struct opts *o, struct hqio_bdf bdf, struct json *j)
{
	char b[HQIO_BDF_STR_MAX], drv[64], rm[128], mb[HQIO_BDF_STR_MAX], md[64];
	struct hqio_error err = { 0 };
	hqio_bdf_format(bdf, b, sizeof(b));
	if (hqio_sysfs_driver(o->paths.sys, bdf, drv, sizeof(drv))) {
		fprintf(stderr, "hqio vfio info: no PCI device %s\n", b);
		return HQIO_EXIT_FAIL;
	}
	char why[HQIO_QUARANTINE_REASON_MAX];
	bool q = hqio_quarantine_get(o->state_dir, bdf, why, sizeof(why));
	int group = -1;
	int grc = hqio_sysfs_iommu_group(o->paths.sys, bdf, &group, &err);
	if (hqio_sysfs_reset_method_get(o->paths.sys, bdf, rm, sizeof(rm), NULL))
		snprintf(rm, sizeof(rm), "?");
	struct hqio_bdf m[HQIO_SYSFS_MAX_GROUP];
	size_t nm = 0;
	bool viable = grc == 0;
	if (grc == 0 &&
	    hqio_sysfs_group_members(o->paths.sys, group, m, HQIO_SYSFS_MAX_GROUP, &nm, NULL) != 0)
		nm = 0;
	if (j) {
		json_obj(j, NULL);
		json_str(j, "bdf", b);
		json_str(j, "driver", drv[0] ? drv : NULL);
		if (grc == 0)
			json_int(j, "iommu_group", group);
		else
			json_null(j, "iommu_group");
		json_str(j, "iommu_error", grc ? err.msg : NULL);
		json_str(j, "reset_method", rm);
		json_str(j, "quarantined", q ? why : NULL);
		json_arr(j, "group_members");
	} else {
		printf("%s: driver %s, IOMMU group %s%s, Linux reset_method: %s\n", b,
		       drv[0] ? drv : "none", grc ? "-" : "", grc ? "" : "", rm[0] ? rm : "none");
		if (q)
			printf("  QUARANTINED: %s\n", why[0] ? why : "no reason recorded");
		if (grc)
			printf("  %s\n", err.msg);
		else
			printf("  IOMMU group %d:\n", group);
	}
	for (size_t i = 0; i < nm; i++) {
		if (hqio_sysfs_driver(o->paths.sys, m[i], md, sizeof(md)))
			md[0] = '\0';
		bool ok = !md[0] || !strcmp(md, "vfio-pci");
		viable = viable && ok;
		hqio_bdf_format(m[i], mb, sizeof(mb));
		if (j) {
			json_obj(j, NULL);
			json_str(j, "bdf", mb);
			json_str(j, "driver", md[0] ? md : NULL);
			json_obj_end(j);
		} else {
			printf("    %s driver %s%s\n", mb, md[0] ? md : "none",
			       ok ? "" : " (host driver: group not viable)");
		}
	}
	if (j) {
		json_arr_end(j);
		json_bool(j, "viable", viable);
	} else {
		printf("  viable for VFIO: %s\n", viable ? "yes" : "no");
	}
	if (!strcmp(drv, "vfio-pci")) {
		struct hqio_vfio *v = NULL;
		struct hqio_host_ops ops;
		if (open_dev(o, bdf, &v, &ops, &err) == 0) {
			static const char *const tn[] = { "intx", "msi", "msix" };
			if (j)
				json_obj(j, "vfio_irqs");
			for (unsigned t = 0; t < 3; t++) {
				unsigned cnt = 0;
				if (hqio_vfio_irq_count(v, bdf, (enum hqio_irq_type)t, &cnt, NULL))
					cnt = 0;
				if (j)
					json_int(j, tn[t], cnt);
				else
					printf("  VFIO %s vectors: %u\n", tn[t], cnt);
			}
			if (j)
				json_obj_end(j);
			hqio_vfio_close(v);
		} else if (j) {
			json_str(j, "vfio_error", err.msg);
		} else {
			printf("  VFIO: %s\n", err.msg);
		}
	}
	if (j)
		json_obj_end(j);
	return HQIO_EXIT_OK;
}

static void state_path(const struct opts *o, struct hqio_bdf bdf, char *out, size_t len)
{
	char b[HQIO_BDF_STR_MAX];
	snprintf(out, len, "%s/%s", o->state_dir, hqio_bdf_format(bdf, b, sizeof(b)));
}

static int bind_cmd(const struct opts *o)
{
	int ret = HQIO_EXIT_OK;
	for (unsigned i = 0; i < o->n_bdf; i++) {
		struct hqio_sysfs_binding bd;
		struct hqio_error err = { 0 };
		char b[HQIO_BDF_STR_MAX], path[PATH_MAX];
		hqio_bdf_format(o->bdf[i], b, sizeof(b));
		state_path(o, o->bdf[i], path, sizeof(path));
		if (hqio_sysfs_bind_vfio(o->paths.sys, o->bdf[i], &bd, &err)) {
			fprintf(stderr, "hqio vfio bind: %s\n", err.msg);
			ret = HQIO_EXIT_FAIL;
			continue;
		}
		bool was = !strcmp(bd.driver, "vfio-pci");
		if (!was || access(path, F_OK) != 0) {
			int rc = hqio_state_mkdirs(o->state_dir);
			if (rc || hqio_sysfs_binding_save(path, &bd, &err)) {
				fprintf(stderr,
					"hqio vfio bind: %s bound, but the previous driver could "
					"not be recorded: %s\n",
					b, rc ? strerror(-rc) : err.msg);
				ret = HQIO_EXIT_FAIL;
				continue;
			}
		}
		printf("%s: %s (before: %s)\n", b,
		       was ? "already on vfio-pci" : "bound to vfio-pci",
		       bd.driver[0] ? bd.driver : "no driver");
	}
	return ret;
}

static int release_cmd(const struct opts *o)
{
	int ret = HQIO_EXIT_OK;
	for (unsigned i = 0; i < o->n_bdf; i++) {
		struct hqio_sysfs_binding bd = { .bdf = o->bdf[i] };
		struct hqio_error err = { 0 };
		char b[HQIO_BDF_STR_MAX], path[PATH_MAX], now[64];
		hqio_bdf_format(o->bdf[i], b, sizeof(b));
		state_path(o, o->bdf[i], path, sizeof(path));
		char why[HQIO_QUARANTINE_REASON_MAX];
		if (hqio_quarantine_get(o->state_dir, o->bdf[i], why, sizeof(why))) {
			if (!o->force) {
				fprintf(stderr,
					"hqio vfio release: %s is QUARANTINED (%s): its state is "
					"unknown, so it stays with vfio-pci; a verified reset "
					"(`hqio vfio reset %s`) lifts it, --force hands it back "
					"anyway\n",
					b, why[0] ? why : "no reason recorded", b);
				ret = HQIO_EXIT_FAIL;
				continue;
			}
			fprintf(stderr, "hqio vfio release: %s is QUARANTINED (%s): --force\n", b,
				why);
		}
		bool known = hqio_sysfs_binding_load(path, &bd, &err) == 0;
		bd.bdf = o->bdf[i];
		if (hqio_sysfs_release(o->paths.sys, &bd, &err)) {
			fprintf(stderr, "hqio vfio release: %s\n", err.msg);
			ret = HQIO_EXIT_FAIL;
			continue;
		}
		if (known)
			unlink(path);
		hqio_quarantine_clear(o->state_dir, o->bdf[i], NULL);
		if (hqio_sysfs_driver(o->paths.sys, o->bdf[i], now, sizeof(now)))
			now[0] = '\0';
		printf("%s: released; driver now %s%s\n", b, now[0] ? now : "none",
		       known ? "" : " (no record of a previous driver: left unbound)");
	}
	return ret;
}

/* The BDFs of PF's first n VFs (virtfnK links); returns how many. */
static unsigned list_vfs(const struct opts *o, struct hqio_bdf pf, unsigned n, struct hqio_bdf *out,
			 unsigned max)
{
	char b[HQIO_BDF_STR_MAX], path[PATH_MAX], target[PATH_MAX];
	unsigned got = 0;
	hqio_bdf_format(pf, b, sizeof(b));
	for (unsigned i = 0; i < n && got < max; i++) {
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/virtfn%u", sys_of(o), b, i);
		ssize_t r = readlink(path, target, sizeof(target) - 1);
		if (r < 0)
			continue;
		target[r] = '\0';
		const char *base = strrchr(target, '/');
		if (hqio_bdf_parse(base ? base + 1 : target, &out[got]) == 0)
			got++;
	}
	return got;
}

static int set_numvfs(const struct opts *o, struct hqio_bdf pf, unsigned want,
		      struct hqio_error *err)
{
	unsigned cur = 0;
	int rc = hqio_sysfs_sriov_numvfs(o->paths.sys, pf, &cur, err);
	if (rc || cur == want)
		return rc;
	/* Linux refuses to change a non-zero count directly (EBUSY). */
	if (cur && want && (rc = hqio_sysfs_sriov_set_numvfs(o->paths.sys, pf, 0, err)))
		return rc;
	return hqio_sysfs_sriov_set_numvfs(o->paths.sys, pf, want, err);
}

static int sriov_cmd(const struct opts *o)
{
	struct hqio_error err = { 0 };
	struct hqio_bdf pf = o->bdf[0], vfs[16];
	char b[HQIO_BDF_STR_MAX], vb[HQIO_BDF_STR_MAX], saved[128] = "";
	unsigned cur = 0;
	hqio_bdf_format(pf, b, sizeof(b));
	if (hqio_sysfs_sriov_numvfs(o->paths.sys, pf, &cur, &err)) {
		fprintf(stderr, "hqio vfio sriov: %s\n", err.msg);
		return HQIO_EXIT_FAIL;
	}
	/* The PF's reset methods before anything changes (with VFs on its
	 * bus Linux no longer accepts "bus" for it). */
	if (o->reset_vfs &&
	    hqio_sysfs_reset_method_get(o->paths.sys, pf, saved, sizeof(saved), &err)) {
		fprintf(stderr, "hqio vfio sriov: %s\n", err.msg);
		return HQIO_EXIT_FAIL;
	}
	if (o->have_numvfs && set_numvfs(o, pf, o->numvfs, &err)) {
		fprintf(stderr, "hqio vfio sriov: %s\n", err.msg);
		return HQIO_EXIT_FAIL;
	}
	if (o->have_numvfs)
		cur = o->numvfs;
	unsigned n = list_vfs(o, pf, cur, vfs, 16);
	printf("%s: %u VFs\n", b, cur);
	for (unsigned i = 0; i < n; i++)
		printf("  vf%u %s\n", i, hqio_bdf_format(vfs[i], vb, sizeof(vb)));
	if (!o->reset_vfs)
		return HQIO_EXIT_OK;

	/* Opening a VF next to a PF on vfio-pci needs the PF's VF token, so
	 * the PF is opened too (the VFs' own add sets the token). But vfio-pci
	 * resets a PF when it is opened, and QEMU's nvme drops its VFs on that
	 * reset; enabling VFs while the PF is open hung Linux 6.1 in the test
	 * bed. So: VFs first, then the PF opened with its reset methods
	 * switched off for the moment (an empty reset_method, Linux >= 5.15). */
	int ret = n ? HQIO_EXIT_OK : HQIO_EXIT_FAIL;
	struct hqio_vfio *v = NULL;
	int rc = n ? hqio_sysfs_reset_method_set(o->paths.sys, pf, "\n", &err) : 0;
	if (n && !rc && !(rc = hqio_vfio_open(&o->paths, &v, &err)))
		rc = hqio_vfio_add(v, pf, &err);
	if (n && hqio_sysfs_reset_method_set(o->paths.sys, pf, "default", NULL) != 0)
		fprintf(stderr, "hqio vfio sriov: cannot give %s its reset methods back\n", b);
	if (rc) {
		fprintf(stderr, "hqio vfio sriov: %s\n", err.msg);
		ret = HQIO_EXIT_FAIL;
		n = 0;
	}
	struct opts vo = *o;
	vo.expect = "flr"; /* a VF has FLR (PCIe SR-IOV 1.1 §3.5) */
	vo.json = false;
	for (unsigned i = 0; i < n; i++) {
		hqio_bdf_format(vfs[i], vb, sizeof(vb));
		struct hqio_sysfs_binding bd;
		printf("== vf%u %s\n", i, vb);
		fflush(stdout);
		rc = hqio_sysfs_bind_vfio(o->paths.sys, vfs[i], &bd, &err);
		if (rc)
			printf("result: %s\n", err.msg);
		else
			rc = reset_in(&vo, vfs[i], v) == HQIO_EXIT_OK ? 0 : -EIO;
		printf("vf%u %s: %s\n", i, vb, rc ? "FAILED" : "reset by flr and verified");
		if (rc)
			ret = HQIO_EXIT_FAIL;
	}
	fflush(stdout);
	/* VFs must be closed before they are removed (vfio-pci waits for
	 * their users). */
	hqio_vfio_close(v);
	if (set_numvfs(o, pf, 0, &err)) {
		fprintf(stderr, "hqio vfio sriov: disabling the VFs: %s\n", err.msg);
		ret = HQIO_EXIT_FAIL;
	}
	/* Without VFs the saved list is valid again. */
	if (saved[0] && hqio_sysfs_reset_method_set(o->paths.sys, pf, saved, &err)) {
		fprintf(stderr, "hqio vfio sriov: %s\n", err.msg);
		ret = HQIO_EXIT_FAIL;
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Arguments                                                            */
/* ------------------------------------------------------------------ */

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -1;
	*out = (unsigned)v;
	return 0;
}

static const char *const method_names[] = { "device_specific", "flr", "af_flr", "pm", "bus" };

static bool known_method(const char *m)
{
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (!strcmp(m, method_names[i]))
			return true;
	return false;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "expect", required_argument, NULL, 'e' },
		{ "expect-fail", required_argument, NULL, 'f' },
		{ "all-canaries", no_argument, NULL, 'a' },
		{ "reset-vfs", no_argument, NULL, 'r' },
		{ "order", required_argument, NULL, 'o' },
		{ "count", required_argument, NULL, 'c' },
		{ "numvfs", required_argument, NULL, 'n' },
		{ "sys", required_argument, NULL, 's' },
		{ "dev-vfio", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	o->count = 20;
	o->order = "both";
	o->state_dir = STATE_DIR_DEFAULT;
	if (argc < 2) {
		fputs(usage_text, stderr);
		return -1;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return 1;
	}
	o->cmd = argv[1];
	static const char *const cmds[] = { "info",  "bind",	     "release", "edu-test",
					    "reset", "reclaim-race", "sriov" };
	bool known = false;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		known = known || !strcmp(o->cmd, cmds[i]);
	if (!known) {
		fprintf(stderr, "hqio vfio: unknown command '%s' (see 'hqio vfio --help')\n",
			o->cmd);
		return -1;
	}
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":hj", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'F':
			o->force = true;
			break;
		case 'a':
			o->all_canaries = true;
			break;
		case 'r':
			o->reset_vfs = true;
			break;
		case 'e':
		case 'f':
			if (!known_method(optarg)) {
				fprintf(stderr,
					"hqio vfio: '%s' is not a reset method (device_specific, "
					"flr, af_flr, pm, bus)\n",
					optarg);
				return -1;
			}
			*(c == 'e' ? &o->expect : &o->expect_fail) = optarg;
			break;
		case 'o':
			if (strcmp(optarg, "naive") && strcmp(optarg, "hqio") &&
			    strcmp(optarg, "both")) {
				fprintf(stderr,
					"hqio vfio: --order takes naive, hqio or both, not "
					"'%s'\n",
					optarg);
				return -1;
			}
			o->order = optarg;
			break;
		case 'c':
			if (parse_uint(optarg, 100000, &o->count) || !o->count) {
				fprintf(stderr,
					"hqio vfio: --count needs a number 1..100000, not "
					"'%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'n':
			if (parse_uint(optarg, 0xffff, &o->numvfs)) {
				fprintf(stderr,
					"hqio vfio: --numvfs needs a number 0..65535, not "
					"'%s'\n",
					optarg);
				return -1;
			}
			o->have_numvfs = true;
			break;
		case 's':
			o->paths.sys = optarg;
			break;
		case 'd':
			o->paths.dev_vfio = optarg;
			break;
		case 'S':
			o->state_dir = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case ':':
			fprintf(stderr, "hqio vfio: option '%s' needs an argument\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "hqio vfio: unknown option '%s' (see 'hqio vfio --help')\n",
				argv[optind - 1]);
			return -1;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (o->n_bdf == sizeof(o->bdf) / sizeof(o->bdf[0])) {
			fprintf(stderr, "hqio vfio: at most 16 functions at once\n");
			return -1;
		}
		if (hqio_bdf_parse(argv[i], &o->bdf[o->n_bdf]) != 0) {
			fprintf(stderr,
				"hqio vfio: '%s' is not a PCI address ([DDDD:]BB:DD.F, hex)\n",
				argv[i]);
			return -1;
		}
		o->n_bdf++;
	}
	bool multi =
		!strcmp(o->cmd, "info") || !strcmp(o->cmd, "bind") || !strcmp(o->cmd, "release");
	if (o->n_bdf == 0 || (!multi && o->n_bdf != 1)) {
		fprintf(stderr, "hqio vfio %s: needs %s\n", o->cmd,
			multi ? "at least one BDF" : "exactly one BDF");
		return -1;
	}
	if ((o->expect || o->expect_fail || o->all_canaries) && strcmp(o->cmd, "reset")) {
		fprintf(stderr, "hqio vfio: --expect, --expect-fail and --all-canaries belong to "
				"'reset'\n");
		return -1;
	}
	return 0;
}

int cmd_vfio(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc > 0 ? HQIO_EXIT_OK : HQIO_EXIT_USAGE;
	if (!strcmp(o.cmd, "bind"))
		return bind_cmd(&o);
	if (!strcmp(o.cmd, "release"))
		return release_cmd(&o);
	if (!strcmp(o.cmd, "sriov"))
		return sriov_cmd(&o);
	if (!strcmp(o.cmd, "reset"))
		return reset_cmd(&o);
	struct json j;
	struct checks c = { 0 };
	if (o.json) {
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "command", o.cmd);
		json_arr(&j, !strcmp(o.cmd, "info") ? "devices" : "checks");
		c.j = &j;
	}
	int ret = HQIO_EXIT_OK;
	if (!strcmp(o.cmd, "info")) {
		for (unsigned i = 0; i < o.n_bdf; i++)
			if (info_one(&o, o.bdf[i], o.json ? &j : NULL) != HQIO_EXIT_OK)
				ret = HQIO_EXIT_FAIL;
	} else if (!strcmp(o.cmd, "edu-test")) {
		ret = edu_test(&o, &c);
	} else {
		ret = reclaim_race(&o, &c);
	}
	if (o.json) {
		json_arr_end(&j);
		if (strcmp(o.cmd, "info")) {
			json_int(&j, "passed", c.pass);
			json_int(&j, "failed", c.fail);
		}
		json_obj_end(&j);
		json_end(&j);
	}
	return ret;
}
