/*
 * lib/reset executor (hqio_quiesce, hqio_reset_execute) on the simulated
 * platform: FLR, PM, bus reset below a PCIe-to-PCI bridge (Trhfa) and
 * below an 8 GT/s root port (DLLLA + 100 ms), AF FLR, fallback from a
 * hung FLR and from a PM reset that resets nothing, quarantine, quiesce
 * waiting for Transactions Pending, ATS off + invalidated, CRS Software
 * Visibility, an SR-IOV VF.
 *
 * Plans come from the planner (hqio_reset_plan on sim_snapshot), with the
 * method list narrowed where a test needs one method only.
 *
 * Negative controls (each checked here, or verified by breaking the code
 * during development):
 *   - opts.skip_verify on the PM-no-reset NIC: the executor reports a
 *     successful PM reset of a device that was not reset at all
 *     (test_negative_skip_verify_accepts_a_reset_that_did_nothing);
 *   - a backend whose ats_invalidate does nothing: the stale translation
 *     of the previous owner still writes memory after quiesce
 *     (test_quiesce_ats_off_and_invalidated, second half);
 *   - quiesce with a 1 us Transactions Pending timeout returns with the
 *     DMA still in flight and reports idle not confirmed;
 *   - readiness accepting a CRS Vendor ID 0001h as "ready": the executor
 *     then checks its canaries against a function that is not ready (they
 *     read all-ones) and test_crs_sv_readiness fails with -EIO;
 *   - treating an 8 GT/s port like a <= 5 GT/s one (100 ms after release,
 *     no Data Link Layer Link Active poll): test_bus_reset_8gt_waits_for_dllla
 *     fails (no Link Status reads);
 *   - Secondary Bus Reset held shorter than Trst: the simulator resets
 *     nothing, every bus reset test fails verification (-EIO).
 *   The last three were verified by breaking exec.c in a copy of the tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "sim.h"
#include "devices/devices.h"
#include "hqio/inspect.h"
#include "hqio/reset.h"

#define MS  SIM_NS_PER_MS
#define US  SIM_NS_PER_US
#define MEM (8ULL << 20)
/* test choice: where the host's firmware put the NVMe controller's 64-bit BAR0 */
#define NVME_BAR0 (0xfe000000u | HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64)

/* ------------------------------------------------------------------ */
/* A spying host-ops wrapper                                            */
/* ------------------------------------------------------------------ */

struct spy {
	struct hqio_host_ops inner;
	struct hqio_bdf watch;	  /* the function whose reads are classified */
	struct hqio_bdf watch2;	  /* a second one (a parent port) */
	unsigned crs_vendor;	  /* Vendor ID reads of watch that returned 0001h */
	unsigned reads_04;	  /* dword reads of watch at 0x04 */
	unsigned bar0_zero;	  /* reads of watch's BAR0 with address bits 0 */
	uint16_t lnksta_off;	  /* watch2's Link Status offset */
	unsigned lnksta_reads;	  /* reads of watch2's Link Status */
	bool ats_invalidate_noop; /* a broken backend (negative control) */
	unsigned ats_invalidates;
};

static bool eq(struct hqio_bdf a, struct hqio_bdf b)
{
	return hqio_bdf_cmp(a, b) == 0;
}

static int s_cfg_read(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t *val)
{
	struct spy *s = ctx;
	int rc = s->inner.cfg_read(s->inner.ctx, bdf, off, size, val);
	if (eq(bdf, s->watch)) {
		if (off == 0 && size >= 2 && (*val & 0xffff) == 0x0001)
			s->crs_vendor++;
		if (off == 0x04 && size == 4)
			s->reads_04++;
		if (off == HQIO_PCI_BASE_ADDRESS_0 && size == 4 && *val != 0xffffffffu &&
		    (*val & ~0xfu) == 0)
			s->bar0_zero++;
	}
	if (eq(bdf, s->watch2) && s->lnksta_off && off == s->lnksta_off)
		s->lnksta_reads++;
	return rc;
}

static int s_cfg_write(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t val)
{
	struct spy *s = ctx;
	return s->inner.cfg_write(s->inner.ctx, bdf, off, size, val);
}

static int s_bar_read(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		      uint64_t *val)
{
	struct spy *s = ctx;
	return s->inner.bar_read(s->inner.ctx, bdf, bar, off, size, val);
}

static int s_bar_write(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		       uint64_t val)
{
	struct spy *s = ctx;
	return s->inner.bar_write(s->inner.ctx, bdf, bar, off, size, val);
}

static uint64_t s_now(void *ctx)
{
	struct spy *s = ctx;
	return s->inner.now_ns(s->inner.ctx);
}

static int s_sleep(void *ctx, uint64_t ns)
{
	struct spy *s = ctx;
	return s->inner.sleep_ns(s->inner.ctx, ns);
}

static int s_wait_until(void *ctx, bool (*cond)(void *), void *arg, uint64_t poll_ns,
			uint64_t timeout_ns)
{
	struct spy *s = ctx;
	return s->inner.wait_until(s->inner.ctx, cond, arg, poll_ns, timeout_ns);
}

static int s_irq_set(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned count,
		     hqio_irq_fn fn, void *arg)
{
	struct spy *s = ctx;
	return s->inner.irq_set(s->inner.ctx, bdf, type, count, fn, arg);
}

static int s_irq_mask(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector,
		      bool masked)
{
	struct spy *s = ctx;
	return s->inner.irq_mask(s->inner.ctx, bdf, type, vector, masked);
}

static int s_dma_map(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t host_addr,
		     uint64_t len, unsigned prot)
{
	struct spy *s = ctx;
	return s->inner.dma_map(s->inner.ctx, bdf, iova, host_addr, len, prot);
}

static int s_dma_unmap(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len)
{
	struct spy *s = ctx;
	return s->inner.dma_unmap(s->inner.ctx, bdf, iova, len);
}

static int s_ats_invalidate(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len)
{
	struct spy *s = ctx;
	s->ats_invalidates++;
	if (s->ats_invalidate_noop)
		return 0; /* claims success, invalidates nothing */
	return s->inner.ats_invalidate(s->inner.ctx, bdf, iova, len);
}

static int s_platform_reset(void *ctx, struct hqio_bdf bdf, enum hqio_platform_reset kind)
{
	struct spy *s = ctx;
	return s->inner.platform_reset(s->inner.ctx, bdf, kind);
}

static void spy_init(struct spy *s, struct sim_platform *p, struct hqio_host_ops *ops)
{
	memset(s, 0, sizeof(*s));
	sim_host_ops(p, &s->inner);
	s->watch = s->watch2 = (struct hqio_bdf){ .bus = 0xff, .dev = 31, .fn = 7 };
	*ops = (struct hqio_host_ops){
		.ctx = s,
		.cfg_read = s_cfg_read,
		.cfg_write = s_cfg_write,
		.bar_read = s_bar_read,
		.bar_write = s_bar_write,
		.now_ns = s_now,
		.sleep_ns = s_sleep,
		.wait_until = s_wait_until,
		.irq_set = s_irq_set,
		.irq_mask = s_irq_mask,
		.dma_map = s_dma_map,
		.dma_unmap = s_dma_unmap,
		.ats_invalidate = s_ats_invalidate,
		.platform_reset = s_platform_reset,
	};
}

/* ------------------------------------------------------------------ */
/* Rigs and helpers                                                     */
/* ------------------------------------------------------------------ */

struct rig {
	struct sim_platform *p;
	struct sim_reference ref;
	struct spy spy;
	struct hqio_host_ops ops;
};

static void rig_reference(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->p = sim_platform_new(7, MEM);
	assert_non_null(r->p);
	assert_int_equal(sim_build_reference_ex(r->p, &r->ref), 0);
	spy_init(&r->spy, r->p, &r->ops);
}

/* An empty platform; the caller adds functions and calls rig_done. */
static void rig_small(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->p = sim_platform_new(7, MEM);
	assert_non_null(r->p);
}

static void rig_done(struct rig *r)
{
	sim_enumerate(r->p);
	spy_init(&r->spy, r->p, &r->ops);
}

/* A device-model constructor of sim/devices (sim_dev_nvme, sim_dev_nic). */
typedef struct sim_fn *(*dev_new_fn)(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
				     uint8_t fn, unsigned faults);

/* A small machine: one device (dev_new with faults) alone below a root port
 * at 00:1c.0 whose link runs at speed (Link Speed code: 2 = 5 GT/s, 3 =
 * 8 GT/s). */
static struct sim_fn *rig_alone(struct rig *r, uint8_t speed, dev_new_fn dev_new, unsigned faults)
{
	rig_small(r);
	struct sim_fn *rp = sim_add_root_port(r->p, 0x1c, 0, speed);
	assert_non_null(rp);
	struct sim_fn *f = dev_new(r->p, rp, 0, 0, faults);
	assert_non_null(f);
	rig_done(r);
	return f;
}

static void rig_fini(struct rig *r)
{
	sim_platform_free(r->p);
}

static uint32_t cfg(struct rig *r, struct sim_fn *f, uint16_t off, unsigned size)
{
	uint32_t v = 0;
	assert_int_equal(sim_cfg_read(r->p, sim_fn_bdf(f), off, size, &v), 0);
	return v;
}

static void cfg_set(struct rig *r, struct sim_fn *f, uint16_t off, unsigned size, uint32_t v)
{
	assert_int_equal(sim_cfg_write(r->p, sim_fn_bdf(f), off, size, v), 0);
}

static uint32_t bar_rd(struct rig *r, struct sim_fn *f, unsigned bar, uint64_t off)
{
	uint64_t v = 0;
	assert_int_equal(sim_bar_read(r->p, sim_fn_bdf(f), bar, off, 4, &v), 0);
	return (uint32_t)v;
}

static void bar_wr(struct rig *r, struct sim_fn *f, unsigned bar, uint64_t off, uint32_t v)
{
	assert_int_equal(sim_bar_write(r->p, sim_fn_bdf(f), bar, off, 4, v), 0);
}

static int owner_all(void *arg, struct hqio_bdf bdf)
{
	(void)arg;
	(void)bdf;
	return 1;
}

/* The planner's plan for f (every function goes to owner 1). */
static void plan_for(struct rig *r, struct sim_fn *f, struct hqio_reset_plan *pl)
{
	struct hqio_system sys = { 0 };
	struct hqio_error err = { 0 };
	assert_int_equal(sim_snapshot(r->p, &sys), 0);
	struct hqio_plan_input in = {
		.sys = &sys,
		.node = hqio_system_find(&sys, sim_fn_bdf(f)),
		.owner = 1,
		.owner_of = owner_all,
		.force = true,
	};
	assert_non_null(in.node);
	assert_int_equal(hqio_reset_plan(&in, pl, &err), 0);
	assert_false(pl->refused);
	hqio_system_free(&sys);
}

static bool plans(const struct hqio_reset_plan *pl, enum hqio_reset_method m)
{
	for (unsigned i = 0; i < pl->n_methods; i++)
		if (pl->methods[i] == m)
			return true;
	return false;
}

/* The planner's plan for f narrowed to the n methods m (they must have been
 * planned). */
static void plan_only(struct rig *r, struct sim_fn *f, struct hqio_reset_plan *pl, unsigned n,
		      const enum hqio_reset_method *m)
{
	plan_for(r, f, pl);
	for (unsigned i = 0; i < n; i++)
		assert_true(plans(pl, m[i]));
	pl->n_methods = n;
	for (unsigned i = 0; i < n; i++)
		pl->methods[i] = m[i];
}

/* What a host (firmware + driver) leaves in a function before hand-over. */
static void host_setup(struct rig *r, struct sim_fn *f, unsigned bar, uint32_t addr)
{
	uint16_t off = (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * bar);
	cfg_set(r, f, off, 4, addr);
	cfg_set(r, f, HQIO_PCI_CACHE_LINE_SIZE, 1, 0x10);
	cfg_set(r, f, HQIO_PCI_INTERRUPT_LINE, 1, 0x0b);
	cfg_set(r, f, HQIO_PCI_COMMAND, 2,
		HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER | HQIO_PCI_COMMAND_SERR);
}

/* The reference machine with its NVMe controller as the host hands it over
 * (BAR0 at NVME_BAR0); returns the controller. */
static struct sim_fn *rig_nvme(struct rig *r)
{
	rig_reference(r);
	host_setup(r, r->ref.nvme, 0, NVME_BAR0);
	return r->ref.nvme;
}

/* Executes pl with default options: it must succeed by method m, verified
 * at the first attempt. */
static void execute_ok(struct rig *r, const struct hqio_reset_plan *pl,
		       const struct hqio_reset_hooks *hooks, enum hqio_reset_method m,
		       struct hqio_reset_result *res)
{
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_reset_execute(&r->ops, pl, hooks, NULL, res, &err), 0);
	assert_int_equal(res->used, m);
	assert_true(res->attempts[0].verified);
}

/* A device-register canary in an NVMe controller: AQA (NVMe 1.4 §3.1.8),
 * 0 after a controller reset. */
struct nvme_canary {
	unsigned writes, checks;
};

static int nvme_canary_write(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf)
{
	struct nvme_canary *c = arg;
	c->writes++;
	return ops->bar_write(ops->ctx, bdf, 0, SIM_NVME_AQA, 4, 0x001f001f);
}

static int nvme_canary_check(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf,
			     bool *cleared)
{
	struct nvme_canary *c = arg;
	uint64_t v = ~0ULL;
	c->checks++;
	int rc = ops->bar_read(ops->ctx, bdf, 0, SIM_NVME_AQA, 4, &v);
	*cleared = rc == 0 && v == 0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* FLR                                                                  */
/* ------------------------------------------------------------------ */

static void test_nvme_flr(void **state)
{
	(void)state;
	struct rig r;
	struct sim_fn *f = rig_nvme(&r);
	r.spy.watch = sim_fn_bdf(f);
	uint16_t devctl = (uint16_t)cfg(&r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2);
	devctl = (uint16_t)((devctl & ~HQIO_PCI_EXP_DEVCTL_PAYLOAD) | 0x0020); /* MPS 256 B */
	cfg_set(&r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2, devctl);

	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	assert_int_equal(pl.methods[0], HQIO_RM_FLR);
	assert_int_equal(pl.idle, HQIO_IDLE_TP_PCIE);
	assert_false(plans(&pl, HQIO_RM_PM)); /* No_Soft_Reset+ */

	struct nvme_canary nc = { 0 };
	struct hqio_reset_hooks hooks = { .arg = &nc,
					  .canary_write = nvme_canary_write,
					  .canary_check = nvme_canary_check };
	struct hqio_reset_result res;
	uint64_t resets = f->resets;
	execute_ok(&r, &pl, &hooks, HQIO_RM_FLR, &res);
	assert_int_equal(res.rc, 0);
	assert_false(res.quarantined);
	assert_int_equal(res.n_attempts, 1);
	assert_true(res.idle_confirmed);
	assert_true(res.reset_ns >= 100 * MS); /* PCIe 5.0 §6.6.2 */
	assert_true(res.reset_ns < 150 * MS);
	assert_non_null(strstr(res.msg, "FLR: reset and verified"));
	assert_int_equal(f->resets, resets + 1);
	assert_int_equal(r.p->writes_while_not_ready, 0);

	/* The canaries: BAR0 read back with address bits 0 after the FLR; the
	 * device register canary written and found cleared. */
	assert_true(r.spy.bar0_zero > 0);
	assert_int_equal(nc.writes, 1);
	assert_int_equal(nc.checks, 1);

	/* Host-owned configuration back; Bus Master stays off. */
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0, 4), NVME_BAR0);
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0 + 4, 4), 0);
	assert_int_equal(cfg(&r, f, HQIO_PCI_CACHE_LINE_SIZE, 1), 0x10);
	assert_int_equal(cfg(&r, f, HQIO_PCI_INTERRUPT_LINE, 1), 0x0b);
	uint32_t cmd = cfg(&r, f, HQIO_PCI_COMMAND, 2);
	assert_true(cmd & HQIO_PCI_COMMAND_MEMORY);
	assert_true(cmd & HQIO_PCI_COMMAND_SERR);
	assert_false(cmd & HQIO_PCI_COMMAND_MASTER);
	assert_int_equal(cfg(&r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2), devctl);
	/* the device's own state is the reset one */
	assert_int_equal(bar_rd(&r, f, 0, SIM_NVME_AQA), 0);
	rig_fini(&r);
}

/* The FLR-never-completes NVMe: with FLR only it times out (bounded) and
 * is quarantined; with the bus reset planned after it, the bus reset
 * recovers it. */
static struct sim_fn *build_hung_nvme(struct rig *r)
{
	return rig_alone(r, 3, sim_dev_nvme, SIM_FAULT_FLR_NEVER_COMPLETES);
}

static void test_flr_never_completes_quarantined(void **state)
{
	(void)state;
	struct rig r;
	struct sim_fn *f = build_hung_nvme(&r);
	host_setup(&r, f, 0, NVME_BAR0);
	struct hqio_reset_plan pl;
	plan_only(&r, f, &pl, 1, (const enum hqio_reset_method[]){ HQIO_RM_FLR });

	struct hqio_reset_result res;
	struct hqio_error err = { 0 };
	uint64_t t0 = r.p->eng.now_ns;
	int rc = hqio_reset_execute(&r.ops, &pl, NULL, NULL, &res, &err);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_int_equal(res.rc, -ETIMEDOUT);
	assert_true(res.quarantined);
	assert_int_equal(res.n_attempts, 1);
	assert_int_equal(res.attempts[0].rc, -ETIMEDOUT);
	assert_string_equal(res.attempts[0].note, "not ready after 2000 ms");
	assert_string_equal(res.msg, "FLR: not ready after 2000 ms; quarantined");
	assert_int_equal(err.code, -ETIMEDOUT);
	assert_non_null(strstr(err.msg, "quarantined"));
	/* bounded: 100 ms FLR wait + 2 s readiness */
	assert_true(r.p->eng.now_ns - t0 >= 2100 * MS);
	assert_true(r.p->eng.now_ns - t0 < 2200 * MS);

	/* Again on the hung function: nothing is written into it (no
	 * all-ones written back), and it stays quarantined. */
	uint64_t dropped = r.p->writes_while_not_ready;
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, NULL, &res, &err), -ENODEV);
	assert_string_equal(res.msg, "FLR: function not responding; quarantined (quiesce: "
				     "function not responding)");
	assert_int_equal(r.p->writes_while_not_ready, dropped);
	rig_fini(&r);

	/* A shorter readiness bound is honoured. */
	f = build_hung_nvme(&r);
	plan_only(&r, f, &pl, 1, (const enum hqio_reset_method[]){ HQIO_RM_FLR });
	struct hqio_reset_opts opts = { .ready_timeout_ns = 300 * MS };
	t0 = r.p->eng.now_ns;
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, &opts, &res, &err), -ETIMEDOUT);
	assert_string_equal(res.msg, "FLR: not ready after 300 ms; quarantined");
	assert_true(r.p->eng.now_ns - t0 < 500 * MS);
	rig_fini(&r);
}

static void test_flr_never_completes_bus_recovers(void **state)
{
	(void)state;
	struct rig r;
	struct sim_fn *f = build_hung_nvme(&r);
	host_setup(&r, f, 0, NVME_BAR0);
	struct hqio_reset_plan pl;
	plan_only(&r, f, &pl, 2, (const enum hqio_reset_method[]){ HQIO_RM_FLR, HQIO_RM_BUS });

	struct hqio_reset_result res;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, NULL, &res, &err), 0);
	assert_false(res.quarantined);
	assert_int_equal(res.used, HQIO_RM_BUS);
	assert_int_equal(res.n_attempts, 2);
	assert_int_equal(res.attempts[0].rc, -ETIMEDOUT);
	assert_int_equal(res.attempts[1].rc, 0);
	assert_true(res.attempts[1].verified);
	assert_non_null(strstr(res.msg, "FLR: not ready after 2000 ms; bus: reset and verified"));
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0, 4), NVME_BAR0);
	assert_int_equal(r.p->trst_violations, 0);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* PM                                                                   */
/* ------------------------------------------------------------------ */

static void test_nic_pm_reset(void **state)
{
	(void)state;
	struct rig r;
	rig_reference(&r);
	struct sim_fn *f = r.ref.nic[0];
	host_setup(&r, f, 0, 0xfd000000u);
	/* MSI programmed by the host (disabled by quiesce, restored after) */
	cfg_set(&r, f, f->msi + HQIO_PCI_MSI_ADDRESS_LO, 4, 0xfee00000u);
	cfg_set(&r, f, f->msi + HQIO_PCI_MSI_DATA_64, 2, 0x0041);
	uint32_t mac = bar_rd(&r, f, 0, SIM_NIC_RAL0); /* power-on value (EEPROM MAC) */
	bar_wr(&r, f, 0, SIM_NIC_RAL0, 0x12345678u);

	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	assert_int_equal(pl.methods[0], HQIO_RM_PM);
	assert_false(plans(&pl, HQIO_RM_FLR));

	struct hqio_reset_result res;
	uint64_t resets = f->resets, resets1 = r.ref.nic[1]->resets;
	execute_ok(&r, &pl, NULL, HQIO_RM_PM, &res);
	assert_int_equal(res.n_attempts, 1);
	/* D3hot 10 ms + D0 10 ms (PCI PM 1.2 table 5-6) */
	assert_true(res.reset_ns >= 20 * MS);
	assert_true(res.reset_ns < 40 * MS);
	assert_int_equal(f->resets, resets + 1);
	assert_int_equal(r.ref.nic[1]->resets, resets1); /* the other port untouched */
	assert_int_equal(sim_fn_pm_state(f), 0);
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0, 4), 0xfd000000u);
	assert_int_equal(cfg(&r, f, f->msi + HQIO_PCI_MSI_ADDRESS_LO, 4), 0xfee00000u);
	assert_int_equal(cfg(&r, f, f->msi + HQIO_PCI_MSI_DATA_64, 2), 0x0041);
	assert_false(cfg(&r, f, f->msi + HQIO_PCI_MSI_FLAGS, 2) & HQIO_PCI_MSI_FLAGS_ENABLE);
	assert_int_equal(bar_rd(&r, f, 0, SIM_NIC_RAL0), mac);
	assert_int_equal(r.p->writes_while_not_ready, 0);
	rig_fini(&r);
}

/* A NIC whose D3hot->D0 resets nothing, alone below a 5 GT/s root port. */
static struct sim_fn *build_pm_no_reset_nic(struct rig *r)
{
	struct sim_fn *f = rig_alone(r, 2, sim_dev_nic, SIM_FAULT_PM_NO_RESET);
	host_setup(r, f, 0, 0xfd000000u);
	return f;
}

static void test_pm_no_reset_caught_bus_used(void **state)
{
	(void)state;
	struct rig r;
	struct sim_fn *f = build_pm_no_reset_nic(&r);
	struct hqio_reset_plan pl;
	plan_only(&r, f, &pl, 2, (const enum hqio_reset_method[]){ HQIO_RM_PM, HQIO_RM_BUS });

	struct hqio_reset_result res;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, NULL, &res, &err), 0);
	assert_int_equal(res.n_attempts, 2);
	assert_int_equal(res.attempts[0].method, HQIO_RM_PM);
	assert_int_equal(res.attempts[0].rc, -EIO);
	assert_false(res.attempts[0].verified);
	assert_non_null(strstr(res.attempts[0].note, "canary survived: BAR0 0xfd000000"));
	assert_int_equal(res.used, HQIO_RM_BUS);
	assert_true(res.attempts[1].verified);
	/* PM 20 ms, then Trst 2 ms and 100 ms at 5 GT/s (PCIe 5.0 §6.6.1) */
	assert_true(res.reset_ns >= 122 * MS);
	assert_int_equal(f->resets, 1);
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0, 4), 0xfd000000u);
	assert_int_equal(r.p->trst_violations, 0);
	rig_fini(&r);
}

/* Negative control: without verification, the PM "reset" of this NIC is
 * reported as a success although nothing was reset; with it, the device is
 * quarantined when PM is its only method. */
static void test_negative_skip_verify_accepts_a_reset_that_did_nothing(void **state)
{
	(void)state;
	struct rig r;
	struct sim_fn *f = build_pm_no_reset_nic(&r);
	bar_wr(&r, f, 0, SIM_NIC_RAL0, 0x12345678u);
	struct hqio_reset_plan pl;
	plan_only(&r, f, &pl, 1, (const enum hqio_reset_method[]){ HQIO_RM_PM });

	struct hqio_reset_opts opts = { .skip_verify = true };
	struct hqio_reset_result res;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, &opts, &res, &err), 0);
	assert_int_equal(res.used, HQIO_RM_PM);
	assert_false(res.attempts[0].verified);
	assert_int_equal(f->resets, 0);				       /* nothing was reset */
	assert_int_equal(bar_rd(&r, f, 0, SIM_NIC_RAL0), 0x12345678u); /* old state kept */

	opts.skip_verify = false;
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, &opts, &res, &err), -EIO);
	assert_true(res.quarantined);
	assert_non_null(strstr(res.msg, "PM: canary survived"));
	assert_non_null(strstr(res.msg, "; quarantined"));
	/* the canaries are gone again: host configuration restored */
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0, 4), 0xfd000000u);
	assert_false(cfg(&r, f, f->msi + HQIO_PCI_MSI_ADDRESS_LO, 4) == 0xfee0c000u);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Bus reset                                                            */
/* ------------------------------------------------------------------ */

static void test_conventional_bus_reset_waits_trhfa(void **state)
{
	(void)state;
	struct rig r;
	rig_reference(&r);
	struct sim_fn *f = r.ref.legacy23, *peer = r.ref.legacy22;
	host_setup(&r, f, 1, 0xfc000000u);
	host_setup(&r, peer, 1, 0xfc001000u);
	cfg_set(&r, peer, HQIO_PCI_BASE_ADDRESS_0, 4, 0xe000u | HQIO_PCI_BASE_ADDRESS_SPACE_IO);
	cfg_set(&r, peer, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO);

	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	assert_int_equal(pl.n_methods, 1);
	assert_int_equal(pl.methods[0], HQIO_RM_BUS);
	assert_true(pl.parent_conventional_secondary);
	assert_int_equal(hqio_bdf_cmp(pl.parent, sim_fn_bdf(r.ref.pci_bridge)), 0);

	struct hqio_reset_result res;
	uint64_t r0 = f->resets, r1 = peer->resets;
	execute_ok(&r, &pl, NULL, HQIO_RM_BUS, &res);
	/* Trst 2 ms + Trhfa 1 s (PCI LB 3.0 §4.3.2) */
	assert_true(res.reset_ns >= 1002 * MS);
	assert_true(res.reset_ns < 1100 * MS);
	assert_int_equal(f->resets, r0 + 1);
	assert_int_equal(peer->resets, r1 + 1);
	assert_int_equal(r.p->trst_violations, 0);
	assert_int_equal(r.p->writes_while_not_ready, 0);
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0 + 4, 4), 0xfc000000u);
	/* the other function on the bus got its configuration back too */
	assert_int_equal(cfg(&r, peer, HQIO_PCI_BASE_ADDRESS_0 + 4, 4), 0xfc001000u);
	assert_int_equal(cfg(&r, peer, HQIO_PCI_BASE_ADDRESS_0, 4),
			 0xe000u | HQIO_PCI_BASE_ADDRESS_SPACE_IO);
	assert_int_equal(cfg(&r, peer, HQIO_PCI_COMMAND, 2) &
				 (HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO),
			 HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO);
	assert_false(cfg(&r, r.ref.pci_bridge, HQIO_PCI_BRIDGE_CONTROL, 2) &
		     HQIO_PCI_BRIDGE_CTL_BUS_RESET);
	rig_fini(&r);
}

static void test_bus_reset_8gt_waits_for_dllla(void **state)
{
	(void)state;
	struct rig r;
	rig_reference(&r);
	struct sim_fn *f = r.ref.gpu, *rp = r.ref.rp[3];
	host_setup(&r, f, 0, 0xf0000000u);
	r.spy.watch2 = sim_fn_bdf(rp);
	r.spy.lnksta_off = (uint16_t)(rp->exp + HQIO_PCI_EXP_LNKSTA);

	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	assert_int_equal(pl.n_methods, 1);
	assert_int_equal(pl.methods[0], HQIO_RM_BUS);
	assert_int_equal(pl.parent_link_speed, 3);
	assert_false(pl.parent_conventional_secondary);

	struct hqio_reset_result res;
	execute_ok(&r, &pl, NULL, HQIO_RM_BUS, &res);
	/* link training (20 ms in the model) then 100 ms after DLLLA (PCIe 5.0
	 * §6.6.1): not the 100 ms after release that suffices at <= 5 GT/s */
	assert_true(res.reset_ns >= 2 * MS + SIM_T_LINK_TRAIN_NS + 100 * MS);
	assert_true(res.reset_ns < 200 * MS);
	assert_true(r.spy.lnksta_reads >= 2); /* polled until it came up */
	assert_int_equal(r.p->trst_violations, 0);
	assert_int_equal(r.p->writes_while_not_ready, 0);
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0, 4), 0xf0000000u);
	assert_int_equal(f->resets, 1);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* AF FLR and the device-specific hook                                  */
/* ------------------------------------------------------------------ */

static const struct sim_fn_ops plain_ops = { .kind = "plain" };

static void test_af_flr_and_missing_hook(void **state)
{
	(void)state;
	struct rig r;
	rig_small(&r);
	/* conventional function with AF (TP and FLR) on the root bus */
	struct sim_fn *f = sim_fn_new(r.p, NULL, 0x10, 0, 256, "af", &plain_ops, NULL);
	assert_non_null(f);
	sim_fn_header(f, 0x1234, 0x5678, 0x028000, 0, 1);
	sim_fn_bar(f, 0, 0x1000, 0);
	sim_add_af(f, 0x40, true, true);
	sim_fn_finalize(f);
	rig_done(&r);
	host_setup(&r, f, 0, 0xfb000000u);

	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	assert_int_equal(pl.idle, HQIO_IDLE_TP_AF);
	assert_true(plans(&pl, HQIO_RM_AF_FLR));
	/* a device-specific reset first, without its hook: skipped */
	pl.n_methods = 2;
	pl.methods[0] = HQIO_RM_DEVICE_SPECIFIC;
	pl.methods[1] = HQIO_RM_AF_FLR;

	struct hqio_reset_result res;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, NULL, &res, &err), 0);
	assert_int_equal(res.attempts[0].rc, -EOPNOTSUPP);
	assert_string_equal(res.attempts[0].note, "no device_reset hook");
	assert_int_equal(res.used, HQIO_RM_AF_FLR);
	assert_true(res.attempts[1].verified);
	assert_true(res.idle_confirmed);
	assert_true(res.reset_ns >= 100 * MS); /* AF ECN: as FLR */
	assert_int_equal(f->resets, 1);
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0, 4), 0xfb000000u);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Readiness: CRS Software Visibility, VFs                              */
/* ------------------------------------------------------------------ */

struct slow_reset {
	struct sim_fn *f;
	uint64_t extra_ns;
};

/* A device-specific reset: FLR, and the function answers only extra_ns
 * after the usual 100 ms (a slow device; readiness polling must cover it). */
static int slow_flr(void *arg, const struct hqio_host_ops *ops, struct hqio_bdf bdf)
{
	struct slow_reset *s = arg;
	uint32_t dc = 0;
	int rc = ops->cfg_read(ops->ctx, bdf, s->f->exp + HQIO_PCI_EXP_DEVCTL, 2, &dc);
	if (rc)
		return rc;
	rc = ops->cfg_write(ops->ctx, bdf, s->f->exp + HQIO_PCI_EXP_DEVCTL, 2,
			    dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	s->f->ready_at_ns += s->extra_ns;
	return rc;
}

static void test_crs_sv_readiness(void **state)
{
	(void)state;
	struct rig r;
	struct sim_fn *f = rig_nvme(&r);
	struct sim_fn *rp = r.ref.rp[0];
	r.spy.watch = sim_fn_bdf(f);
	/* CRS Software Visibility on at the root port (PCIe 5.0 §7.5.3.12) */
	cfg_set(&r, rp, rp->exp + HQIO_PCI_EXP_RTCTL, 2,
		cfg(&r, rp, rp->exp + HQIO_PCI_EXP_RTCTL, 2) | HQIO_PCI_EXP_RTCTL_CRSSVE);

	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	struct hqio_reset_result res;
	/* FLR: ready when the 100 ms are over */
	execute_ok(&r, &pl, NULL, HQIO_RM_FLR, &res);

	/* A function that answers 0001h for 250 ms more */
	struct slow_reset sr = { .f = f, .extra_ns = 250 * MS };
	struct hqio_reset_hooks hooks = { .arg = &sr, .device_reset = slow_flr };
	pl.n_methods = 1;
	pl.methods[0] = HQIO_RM_DEVICE_SPECIFIC;
	r.spy.crs_vendor = 0;
	execute_ok(&r, &pl, &hooks, HQIO_RM_DEVICE_SPECIFIC, &res);
	assert_true(r.spy.crs_vendor > 0); /* polled through CRS completions */
	assert_true(res.reset_ns >= 350 * MS);
	assert_true(res.reset_ns < 500 * MS); /* intervals capped at 100 ms */
	assert_int_equal(r.p->writes_while_not_ready, 0);
	assert_int_equal(cfg(&r, f, HQIO_PCI_BASE_ADDRESS_0, 4), NVME_BAR0);
	rig_fini(&r);
}

static void test_vf_flr_polls_command(void **state)
{
	(void)state;
	struct rig r;
	rig_reference(&r);
	struct sim_fn *pf = r.ref.nvme;
	/* 2 VFs (PCIe 5.0 §9.3.3.3.1: ready 100 ms after VF Enable) */
	cfg_set(&r, pf, pf->sriov + HQIO_PCI_SRIOV_NUM_VF, 2, 2);
	cfg_set(&r, pf, pf->sriov + HQIO_PCI_SRIOV_CTRL, 2,
		HQIO_PCI_SRIOV_CTRL_VFE | HQIO_PCI_SRIOV_CTRL_MSE);
	sim_run_for(&r.p->eng, 100 * MS);
	struct sim_fn *vf = sim_dev_nvme_vf(pf, 0);
	assert_non_null(vf);
	struct hqio_bdf vbdf = sim_fn_bdf(vf);
	assert_int_equal(cfg(&r, vf, 0, 4), 0xffffffffu);	       /* IDs read FFFFh */
	cfg_set(&r, vf, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MASTER); /* an owner's */
	r.spy.watch = vbdf;

	struct hqio_reset_plan pl;
	plan_for(&r, vf, &pl);
	assert_true(pl.vf);
	assert_int_equal(pl.methods[0], HQIO_RM_FLR);

	struct hqio_reset_result res;
	uint64_t vr = vf->resets, pr = pf->resets;
	execute_ok(&r, &pl, NULL, HQIO_RM_FLR, &res);
	assert_true(res.reset_ns >= 100 * MS);
	assert_int_equal(vf->resets, vr + 1);
	assert_int_equal(pf->resets, pr);
	assert_true(r.spy.reads_04 > 0); /* readiness by Command/Status */
	assert_false(cfg(&r, vf, HQIO_PCI_COMMAND, 2) & HQIO_PCI_COMMAND_MASTER);
	/* the PF and its other VF are untouched: VFs still enabled */
	assert_true(cfg(&r, pf, pf->sriov + HQIO_PCI_SRIOV_CTRL, 2) & HQIO_PCI_SRIOV_CTRL_VFE);
	assert_int_equal(r.p->writes_while_not_ready, 0);
	rig_fini(&r);
}

/* ------------------------------------------------------------------ */
/* Quiesce                                                              */
/* ------------------------------------------------------------------ */

#define IOVA 0x10000ULL

/* Map one page for the NVMe at IOVA and start its doorbell DMA. */
static uint64_t nvme_start_dma(struct rig *r, struct sim_fn *f, uint8_t pattern, bool map)
{
	struct hqio_bdf bdf = sim_fn_bdf(f);
	uint64_t hpa = 0;
	if (map) {
		hpa = sim_mem_alloc(r->p, 1, -1);
		assert_true(hpa != UINT64_MAX);
		assert_int_equal(r->ops.dma_map(r->ops.ctx, bdf, IOVA, hpa, SIM_PAGE_SIZE,
						HQIO_DMA_READ | HQIO_DMA_WRITE),
				 0);
	}
	bar_wr(r, f, 0, SIM_NVME_DMA_ADDR_LO, (uint32_t)IOVA);
	bar_wr(r, f, 0, SIM_NVME_DMA_ADDR_HI, 0);
	bar_wr(r, f, 0, SIM_NVME_DMA_LEN, 64);
	bar_wr(r, f, 0, SIM_NVME_DMA_PATTERN, pattern);
	bar_wr(r, f, 0, SIM_NVME_DMA_DOORBELL, 1);
	return hpa;
}

static void test_quiesce_waits_for_transactions_pending(void **state)
{
	(void)state;
	struct rig r;
	struct sim_fn *f = rig_nvme(&r);
	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	assert_int_equal(pl.idle, HQIO_IDLE_TP_PCIE);

	nvme_start_dma(&r, f, 0x10, true);
	assert_true(cfg(&r, f, f->exp + HQIO_PCI_EXP_DEVSTA, 2) & HQIO_PCI_EXP_DEVSTA_TRPND);
	uint64_t t0 = r.p->eng.now_ns;
	bool idle = false;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_quiesce(&r.ops, &pl, NULL, &idle, &err), 0);
	assert_true(idle);
	/* returned after the transfer completed, not before, not much later */
	assert_true(r.p->eng.now_ns - t0 >= SIM_NVME_DMA_NS);
	assert_true(r.p->eng.now_ns - t0 < 1 * MS);
	assert_false(cfg(&r, f, f->exp + HQIO_PCI_EXP_DEVSTA, 2) & HQIO_PCI_EXP_DEVSTA_TRPND);
	assert_true(bar_rd(&r, f, 0, SIM_NVME_DMA_STATUS) & SIM_NVME_DMA_DONE);
	uint32_t cmd = cfg(&r, f, HQIO_PCI_COMMAND, 2);
	assert_false(cmd & HQIO_PCI_COMMAND_MASTER);
	assert_true(cmd & HQIO_PCI_COMMAND_INTX_DISABLE);
	uint32_t mx = cfg(&r, f, f->msix + HQIO_PCI_MSIX_FLAGS, 2);
	assert_false(mx & HQIO_PCI_MSIX_FLAGS_ENABLE);
	assert_true(mx & HQIO_PCI_MSIX_FLAGS_MASKALL);

	/* Negative control: a 1 us bound returns with the DMA in flight and
	 * says so (not fatal). */
	cfg_set(&r, f, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	bar_wr(&r, f, 0, SIM_NVME_DMA_STATUS, SIM_NVME_DMA_DONE);
	nvme_start_dma(&r, f, 0x20, false);
	struct hqio_reset_opts opts = { .tp_timeout_ns = 1 * US };
	assert_int_equal(hqio_quiesce(&r.ops, &pl, &opts, &idle, &err), 0);
	assert_false(idle);
	assert_true(cfg(&r, f, f->exp + HQIO_PCI_EXP_DEVSTA, 2) & HQIO_PCI_EXP_DEVSTA_TRPND);
	/* the executor reports it, and still resets */
	struct hqio_reset_result res;
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, &opts, &res, &err), 0);
	assert_false(res.idle_confirmed);
	assert_non_null(strstr(res.msg, "Transactions Pending still set"));
	assert_int_equal(res.used, HQIO_RM_FLR);
	rig_fini(&r);
}

/* A quirk's idle register instead of Transactions Pending: the NVMe
 * doorbell's BUSY bit. */
static void test_quiesce_idle_register(void **state)
{
	(void)state;
	struct rig r;
	struct sim_fn *f = rig_nvme(&r);
	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	pl.idle = HQIO_IDLE_REGISTER;
	pl.idle_bar = 0;
	pl.idle_off = SIM_NVME_DMA_STATUS;
	pl.idle_mask = SIM_NVME_DMA_BUSY;
	pl.idle_value = 0;

	nvme_start_dma(&r, f, 0x10, true);
	assert_true(bar_rd(&r, f, 0, SIM_NVME_DMA_STATUS) & SIM_NVME_DMA_BUSY);
	uint64_t t0 = r.p->eng.now_ns;
	bool idle = false;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_quiesce(&r.ops, &pl, NULL, &idle, &err), 0);
	assert_true(idle);
	assert_true(r.p->eng.now_ns - t0 >= SIM_NVME_DMA_NS);
	assert_false(bar_rd(&r, f, 0, SIM_NVME_DMA_STATUS) & SIM_NVME_DMA_BUSY);

	/* a register that never matches: bounded, reported, not fatal */
	pl.idle_value = 0x80000000u;
	pl.idle_mask = 0x80000000u;
	struct hqio_reset_opts opts = { .tp_timeout_ns = 5 * MS };
	t0 = r.p->eng.now_ns;
	assert_int_equal(hqio_quiesce(&r.ops, &pl, &opts, &idle, &err), 0);
	assert_false(idle);
	assert_int_equal(r.p->eng.now_ns - t0, 5 * MS);
	rig_fini(&r);
}

/* One ATS run: a translation cached by the old owner's DMA, the IOVA
 * unmapped, quiesce, then a new owner enables ATS and Bus Master and the
 * device targets the same IOVA. Returns whether memory was written. */
static bool ats_run(bool noop_invalidate)
{
	struct rig r;
	struct sim_fn *f = rig_nvme(&r);
	struct hqio_bdf bdf = sim_fn_bdf(f);
	r.spy.ats_invalidate_noop = noop_invalidate;
	cfg_set(&r, f, f->ats + HQIO_PCI_ATS_CTRL, 2, HQIO_PCI_ATS_CTRL_ENABLE);

	uint64_t hpa = nvme_start_dma(&r, f, 0x10, true);
	sim_run_for(&r.p->eng, SIM_NVME_DMA_NS + 1 * US);
	uint8_t b[64];
	assert_int_equal(sim_mem_read(r.p, hpa, b, sizeof(b)), 0);
	assert_int_equal(b[0], 0x10); /* landed, translation cached */
	bar_wr(&r, f, 0, SIM_NVME_DMA_STATUS, SIM_NVME_DMA_DONE);
	assert_int_equal(r.ops.dma_unmap(r.ops.ctx, bdf, IOVA, SIM_PAGE_SIZE), 0);
	memset(b, 0, sizeof(b));
	assert_int_equal(sim_mem_write(r.p, hpa, b, sizeof(b)), 0);

	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	assert_true(pl.ats_enabled);
	bool idle = false;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_quiesce(&r.ops, &pl, NULL, &idle, &err), 0);
	assert_true(idle);
	assert_false(cfg(&r, f, f->ats + HQIO_PCI_ATS_CTRL, 2) & HQIO_PCI_ATS_CTRL_ENABLE);
	assert_int_equal(r.spy.ats_invalidates, 1);

	/* the next owner: ATS and Bus Master on, same IOVA (no mapping) */
	cfg_set(&r, f, f->ats + HQIO_PCI_ATS_CTRL, 2, HQIO_PCI_ATS_CTRL_ENABLE);
	cfg_set(&r, f, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	nvme_start_dma(&r, f, 0x20, false);
	sim_run_for(&r.p->eng, SIM_NVME_DMA_NS + 1 * US);
	assert_int_equal(sim_mem_read(r.p, hpa, b, sizeof(b)), 0);
	uint32_t st = bar_rd(&r, f, 0, SIM_NVME_DMA_STATUS);
	bool wrote = b[0] == 0x20;
	if (!wrote)
		assert_int_equal(st >> 16, EFAULT); /* the IOMMU was asked: fault */
	rig_fini(&r);
	return wrote;
}

static void test_quiesce_ats_off_and_invalidated(void **state)
{
	(void)state;
	assert_false(ats_run(false));
	/* Negative control: a backend whose invalidation does nothing lets the
	 * stale translation reach memory. */
	assert_true(ats_run(true));
}

/* ------------------------------------------------------------------ */
/* Refusal and bad input                                                */
/* ------------------------------------------------------------------ */

static void test_refused_plan_touches_nothing(void **state)
{
	(void)state;
	struct rig r;
	struct sim_fn *f = rig_nvme(&r);
	struct hqio_reset_plan pl;
	plan_for(&r, f, &pl);
	pl.refused = true;
	snprintf(pl.refusal, sizeof(pl.refusal), "bound to host driver nvme");
	struct hqio_reset_result res;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, NULL, &res, &err), -EPERM);
	assert_false(res.quarantined);
	assert_non_null(strstr(res.msg, "bound to host driver nvme"));
	assert_true(cfg(&r, f, HQIO_PCI_COMMAND, 2) & HQIO_PCI_COMMAND_MASTER);
	assert_int_equal(f->resets, 0);

	/* no method at all (forced plan): quiesced and quarantined */
	pl.refused = false;
	pl.n_methods = 0;
	assert_int_equal(hqio_reset_execute(&r.ops, &pl, NULL, NULL, &res, &err), -ENODEV);
	assert_true(res.quarantined);
	assert_string_equal(res.msg, "no reset method; quarantined");
	assert_false(cfg(&r, f, HQIO_PCI_COMMAND, 2) & HQIO_PCI_COMMAND_MASTER);

	assert_int_equal(hqio_reset_execute(NULL, &pl, NULL, NULL, &res, &err), -EINVAL);
	rig_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nvme_flr),
		cmocka_unit_test(test_flr_never_completes_quarantined),
		cmocka_unit_test(test_flr_never_completes_bus_recovers),
		cmocka_unit_test(test_nic_pm_reset),
		cmocka_unit_test(test_pm_no_reset_caught_bus_used),
		cmocka_unit_test(test_negative_skip_verify_accepts_a_reset_that_did_nothing),
		cmocka_unit_test(test_conventional_bus_reset_waits_trhfa),
		cmocka_unit_test(test_bus_reset_8gt_waits_for_dllla),
		cmocka_unit_test(test_af_flr_and_missing_hook),
		cmocka_unit_test(test_crs_sv_readiness),
		cmocka_unit_test(test_vf_flr_polls_command),
		cmocka_unit_test(test_quiesce_waits_for_transactions_pending),
		cmocka_unit_test(test_quiesce_idle_register),
		cmocka_unit_test(test_quiesce_ats_off_and_invalidated),
		cmocka_unit_test(test_refused_plan_touches_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
