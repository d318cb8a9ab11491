/*
 * Simulated platform tests: configuration semantics (RO/RW/RW1C, BAR
 * sizing), topology and routing, requester-ID aliasing, readiness after
 * FLR / PM / secondary bus reset with the specification's timings, CRS
 * Software Visibility, and the host-ops backend.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "guest.h"
#include "sim.h"

#define MS SIM_NS_PER_MS

struct rig {
	struct sim_platform *p;
	struct sim_fn *rp_fast, *rp_slow, *ep_fast, *ep_slow, *ep_flr_imm, *pci_br, *legacy0,
		*legacy1, *root_ep;
	struct hqio_host_ops ops;
};

static const struct sim_fn_ops plain_ops = { .kind = "plain" };

/* A PCIe endpoint with BARs, PM (no_soft_reset as given) and optional FLR. */
static struct sim_fn *endpoint(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, bool flr,
			       bool nsr, bool imm_ready)
{
	struct sim_fn *f = sim_fn_new(p, parent, dev, 0, 4096, "ep", &plain_ops, NULL);
	assert_non_null(f);
	sim_fn_header(f, 0x1b36, 0x0010, 0x010802, 0, 1);
	sim_fn_bar(f, 0, 0x4000, HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64);
	sim_fn_bar(f, 2, 0x100, HQIO_PCI_BASE_ADDRESS_SPACE_IO);
	sim_fn_bar(f, 3, 0x1000, 0);
	sim_fn_bar(f, 6, 0x10000, 0);
	sim_add_pm(f, 0x40, nsr);
	sim_add_exp(f, 0x60, HQIO_PCI_EXP_TYPE_ENDPOINT, flr, 3, 4);
	if (imm_ready)
		hqio_cfgb_w16(&f->b, HQIO_PCI_STATUS,
			      (uint16_t)(sim_fn_cfg_get(f, HQIO_PCI_STATUS, 2) |
					 HQIO_PCI_STATUS_IMM_READY));
	sim_fn_finalize(f);
	return f;
}

static struct sim_fn *legacy(struct sim_platform *p, struct sim_fn *parent, uint8_t dev)
{
	struct sim_fn *f = sim_fn_new(p, parent, dev, 0, 256, "legacy", &plain_ops, NULL);
	assert_non_null(f);
	sim_fn_header(f, 0x10ec, 0x8139, 0x020000, 0, 1);
	sim_fn_bar(f, 0, 0x100, HQIO_PCI_BASE_ADDRESS_SPACE_IO);
	sim_fn_finalize(f);
	return f;
}

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->p = sim_platform_new(1, 1 << 20);
	assert_non_null(r->p);
	r->rp_fast = sim_add_root_port(r->p, 0x1c, 0, 3); /* 8 GT/s */
	r->rp_slow = sim_add_root_port(r->p, 0x1c, 1, 2); /* 5 GT/s */
	struct sim_fn *rp3 = sim_add_root_port(r->p, 0x1c, 2, 2);
	struct sim_fn *rp4 = sim_add_root_port(r->p, 0x1c, 3, 2);
	r->ep_fast = endpoint(r->p, r->rp_fast, 0, true, false, false);
	r->ep_slow = endpoint(r->p, r->rp_slow, 0, false, true, false);
	r->ep_flr_imm = endpoint(r->p, rp4, 0, true, false, true);
	r->pci_br = sim_add_pcie_to_pci_bridge(r->p, rp3);
	r->legacy0 = legacy(r->p, r->pci_br, 1);
	r->legacy1 = legacy(r->p, r->pci_br, 2);
	r->root_ep = endpoint(r->p, NULL, 0x10, true, false, false);
	sim_enumerate(r->p);
	sim_host_ops(r->p, &r->ops);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;
	sim_platform_free(r->p);
	free(r);
	return 0;
}

static uint32_t rd(struct rig *r, struct sim_fn *f, uint16_t off, unsigned size)
{
	uint32_t v;
	assert_int_equal(sim_cfg_read(r->p, sim_fn_bdf(f), off, size, &v), 0);
	return v;
}

static void wr(struct rig *r, struct sim_fn *f, uint16_t off, unsigned size, uint32_t v)
{
	assert_int_equal(sim_cfg_write(r->p, sim_fn_bdf(f), off, size, v), 0);
}

/* ---- configuration semantics ------------------------------------- */

static void test_enumeration_numbers_buses_depth_first(void **state)
{
	struct rig *r = *state;
	assert_int_equal(sim_fn_bdf(r->ep_fast).bus, 1);
	assert_int_equal(sim_fn_bdf(r->ep_slow).bus, 2);
	assert_int_equal(sim_fn_bdf(r->pci_br).bus, 3);
	assert_int_equal(sim_fn_bdf(r->legacy0).bus, 4);
	assert_int_equal(rd(r, r->rp_fast, HQIO_PCI_SECONDARY_BUS, 1), 1);
	assert_int_equal(rd(r, r->pci_br, HQIO_PCI_PRIMARY_BUS, 1), 3);
	assert_int_equal(rd(r, r->pci_br, HQIO_PCI_SUBORDINATE_BUS, 1), 4);
	/* the host bridge is at 00:00.0 */
	assert_int_equal(rd(r, r->p->host_bridge, 0, 4), 0x29c08086);
}

static void test_read_only_ids_and_rw_command(void **state)
{
	struct rig *r = *state;
	wr(r, r->ep_fast, 0, 4, 0x12345678);
	assert_int_equal(rd(r, r->ep_fast, 0, 4), 0x00101b36);
	wr(r, r->ep_fast, HQIO_PCI_COMMAND, 2, 0xffff);
	/* only IO MEM MASTER PARITY SERR INTX_DISABLE are writable */
	assert_int_equal(rd(r, r->ep_fast, HQIO_PCI_COMMAND, 2), 0x0547);
}

static void test_status_error_bits_are_write_1_to_clear(void **state)
{
	struct rig *r = *state;
	struct sim_fn *f = r->ep_fast;
	sim_fn_cfg_set(f, HQIO_PCI_STATUS, 2,
		       sim_fn_cfg_get(f, HQIO_PCI_STATUS, 2) | HQIO_PCI_STATUS_REC_MASTER_ABORT |
			       HQIO_PCI_STATUS_SIG_SYSTEM_ERROR);
	wr(r, f, HQIO_PCI_STATUS, 2, HQIO_PCI_STATUS_REC_MASTER_ABORT);
	uint32_t st = rd(r, f, HQIO_PCI_STATUS, 2);
	assert_false(st & HQIO_PCI_STATUS_REC_MASTER_ABORT);
	assert_true(st & HQIO_PCI_STATUS_SIG_SYSTEM_ERROR); /* 0 written: kept */
	assert_true(st & HQIO_PCI_STATUS_CAP_LIST);	    /* read-only: kept */
}

static void test_bar_sizing(void **state)
{
	struct rig *r = *state;
	struct sim_guest g;
	uint64_t size;
	sim_guest_init(&g, r->p, &r->ops, sim_fn_bdf(r->ep_fast));
	assert_int_equal(sim_guest_bar_size(&g, 0, &size), 0);
	assert_int_equal(size, 0x4000); /* 64-bit BAR across BAR0/BAR1 */
	assert_int_equal(sim_guest_bar_size(&g, 2, &size), 0);
	assert_int_equal(size, 0x100); /* I/O */
	assert_int_equal(sim_guest_bar_size(&g, 3, &size), 0);
	assert_int_equal(size, 0x1000);
	assert_int_equal(sim_guest_bar_size(&g, 4, &size), 0);
	assert_int_equal(size, 0); /* unimplemented */
	/* raw register view: all-ones reads back the size mask and the type bits */
	wr(r, r->ep_fast, 0x10, 4, 0xffffffff);
	assert_int_equal(rd(r, r->ep_fast, 0x10, 4), 0xffffc004);
	wr(r, r->ep_fast, 0x14, 4, 0xffffffff);
	assert_int_equal(rd(r, r->ep_fast, 0x14, 4), 0xffffffff);
	wr(r, r->ep_fast, 0x30, 4, 0xffffffff);
	assert_int_equal(rd(r, r->ep_fast, 0x30, 4), 0xffff0001);
	/* sizing leaves the programmed address intact after restore */
	assert_int_equal(sim_guest_bar_program(&g, 3, 0xfe000000), 0);
	assert_int_equal(sim_guest_bar_size(&g, 3, &size), 0);
	assert_int_equal(rd(r, r->ep_fast, 0x1c, 4), 0xfe000000);
}

static void test_bar_access_needs_decode_and_d0(void **state)
{
	struct rig *r = *state;
	struct hqio_bdf b = sim_fn_bdf(r->ep_fast);
	uint64_t v;
	assert_int_equal(sim_bar_read(r->p, b, 3, 0, 4, &v), 0);
	assert_int_equal(v, 0xffffffff); /* memory decode off */
	wr(r, r->ep_fast, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY);
	assert_int_equal(sim_bar_read(r->p, b, 3, 0, 4, &v), 0);
	assert_int_equal(v, 0);
	wr(r, r->ep_fast, 0x44, 2, 3); /* D3hot */
	assert_int_equal(sim_bar_read(r->p, b, 3, 0, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(sim_bar_read(r->p, b, 3, 0x1000, 4, &v), -ERANGE);
	assert_int_equal(sim_bar_read(r->p, b, 4, 0, 4, &v), -ERANGE);
}

static void test_only_device_0_below_a_root_port(void **state)
{
	struct rig *r = *state;
	struct hqio_bdf b = sim_fn_bdf(r->ep_fast);
	b.dev = 1;
	uint32_t v;
	assert_int_equal(sim_cfg_read(r->p, b, 0, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);
	/* behind a conventional bridge several devices answer */
	assert_int_equal(rd(r, r->legacy1, 0, 2), 0x10ec);
	/* a bus no bridge forwards to */
	b = (struct hqio_bdf){ .bus = 0x80 };
	assert_int_equal(sim_cfg_read(r->p, b, 0, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(sim_cfg_read(r->p, b, 1, 2, &v), -EINVAL); /* misaligned */
	assert_int_equal(sim_cfg_read(r->p, b, 0, 3, &v), -EINVAL);
}

static void test_conventional_devices_share_the_bridge_alias(void **state)
{
	struct rig *r = *state;
	uint16_t a0 = sim_requester_id(r->legacy0), a1 = sim_requester_id(r->legacy1);
	assert_int_equal(a0, a1);
	assert_int_equal(a0, (uint16_t)(rd(r, r->pci_br, HQIO_PCI_SECONDARY_BUS, 1) << 8));
	assert_int_equal(sim_requester_id(r->ep_fast), hqio_bdf_rid(sim_fn_bdf(r->ep_fast)));
}

/* ---- FLR and readiness --------------------------------------------- */

static void test_flr_clears_state_and_crs_until_ready(void **state)
{
	struct rig *r = *state;
	struct sim_fn *f = r->ep_fast;
	wr(r, f, 0x1c, 4, 0xfe000000);
	wr(r, f, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	/* CRS Software Visibility on at the root port */
	wr(r, r->rp_fast, r->rp_fast->exp + HQIO_PCI_EXP_RTCTL, 2, HQIO_PCI_EXP_RTCTL_CRSSVE);
	uint32_t dc = rd(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2);
	wr(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2, dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	uint64_t t0 = r->p->eng.now_ns;
	assert_int_equal(rd(r, f, 0, 2), 0x0001);
	assert_int_equal(rd(r, f, 0, 4), 0xffff0001);
	assert_int_equal(rd(r, f, HQIO_PCI_COMMAND, 2), 0xffff); /* not the Vendor ID: all-ones */
	sim_run_until(&r->p->eng, t0 + 99 * MS);
	assert_int_equal(rd(r, f, 0, 2), 0x0001);
	sim_run_until(&r->p->eng, t0 + 100 * MS);
	assert_int_equal(rd(r, f, 0, 2), 0x1b36);
	assert_int_equal(rd(r, f, 0x1c, 4), 0); /* BAR cleared */
	assert_int_equal(rd(r, f, HQIO_PCI_COMMAND, 2), 0);
	assert_int_equal(rd(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2) & HQIO_PCI_EXP_DEVCTL_BCR_FLR,
			 0);
	assert_int_equal(f->resets, 1);
}

static void test_not_ready_reads_all_ones_without_crs_visibility(void **state)
{
	struct rig *r = *state;
	struct sim_fn *f = r->ep_fast;
	uint32_t dc = rd(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2);
	wr(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2, dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(rd(r, f, 0, 2), 0xffff);
	assert_int_equal(rd(r, f, 0, 4), 0xffffffff);
	/* writes while not ready are dropped */
	wr(r, f, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY);
	assert_int_equal(r->p->writes_while_not_ready, 1);
	sim_run_for(&r->p->eng, 100 * MS);
	assert_int_equal(rd(r, f, HQIO_PCI_COMMAND, 2), 0);
}

static void test_immediate_readiness_skips_the_wait(void **state)
{
	struct rig *r = *state;
	struct sim_fn *f = r->ep_flr_imm;
	wr(r, f, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY);
	uint32_t dc = rd(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2);
	wr(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2, dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(rd(r, f, 0, 2), 0x1b36);
	assert_int_equal(rd(r, f, HQIO_PCI_COMMAND, 2), 0);
}

static void test_flr_ignored_without_capability(void **state)
{
	struct rig *r = *state;
	struct sim_fn *f = r->ep_slow; /* DevCap FLR- */
	wr(r, f, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY);
	uint32_t dc = rd(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2);
	wr(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2, dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(rd(r, f, HQIO_PCI_COMMAND, 2), HQIO_PCI_COMMAND_MEMORY);
	assert_int_equal(f->resets, 0);
}

/* ---- PM ----------------------------------------------------------- */

static void test_d3hot_to_d0_resets_unless_no_soft_reset(void **state)
{
	struct rig *r = *state;
	/* ep_fast: No_Soft_Reset clear -> reset */
	struct sim_fn *f = r->ep_fast;
	wr(r, f, 0x1c, 4, 0xfe000000);
	wr(r, f, 0x44, 2, 3);
	assert_int_equal(rd(r, f, 0x44, 2) & 3, 3);
	wr(r, f, 0x44, 2, 0);
	uint64_t t0 = r->p->eng.now_ns;
	assert_int_equal(rd(r, f, 0, 2), 0xffff); /* 10 ms D3hot->D0 recovery */
	sim_run_until(&r->p->eng, t0 + 10 * MS);
	assert_int_equal(rd(r, f, 0x1c, 4), 0);
	assert_int_equal(f->resets, 1);
	/* ep_slow: No_Soft_Reset set -> state kept */
	f = r->ep_slow;
	wr(r, f, 0x1c, 4, 0xfe000000);
	wr(r, f, 0x44, 2, 3);
	wr(r, f, 0x44, 2, 0);
	sim_run_for(&r->p->eng, 10 * MS);
	assert_int_equal(rd(r, f, 0x1c, 4), 0xfe000000);
	assert_int_equal(f->resets, 0);
}

static void test_pm_reset_needs_a_real_d3hot_to_d0(void **state)
{
	struct rig *r = *state;
	struct sim_fn *f = r->ep_fast; /* No_Soft_Reset clear */
	wr(r, f, 0x1c, 4, 0xfe000000);
	wr(r, f, 0x44, 2, 0); /* D0 -> D0: nothing happens */
	assert_int_equal(rd(r, f, 0x1c, 4), 0xfe000000);
	assert_int_equal(f->resets, 0);
}

static void test_unsupported_d1_write_is_ignored(void **state)
{
	struct rig *r = *state;
	wr(r, r->ep_fast, 0x44, 2, 1);
	assert_int_equal(rd(r, r->ep_fast, 0x44, 2) & 3, 0);
}

/* ---- secondary bus reset -------------------------------------------- */

static void sbr(struct rig *r, struct sim_fn *br, uint64_t hold_ns)
{
	uint32_t bc = rd(r, br, HQIO_PCI_BRIDGE_CONTROL, 2);
	wr(r, br, HQIO_PCI_BRIDGE_CONTROL, 2, bc | HQIO_PCI_BRIDGE_CTL_BUS_RESET);
	sim_run_for(&r->p->eng, hold_ns);
	wr(r, br, HQIO_PCI_BRIDGE_CONTROL, 2, bc & ~HQIO_PCI_BRIDGE_CTL_BUS_RESET);
}

static void test_sbr_resets_below_only_with_100ms_at_5gts(void **state)
{
	struct rig *r = *state;
	wr(r, r->ep_slow, 0x1c, 4, 0xfe000000);
	wr(r, r->ep_fast, 0x1c, 4, 0xfd000000);
	uint32_t bc = rd(r, r->rp_slow, HQIO_PCI_BRIDGE_CONTROL, 2);
	wr(r, r->rp_slow, HQIO_PCI_BRIDGE_CONTROL, 2, bc | HQIO_PCI_BRIDGE_CTL_BUS_RESET);
	assert_int_equal(rd(r, r->ep_slow, 0, 2), 0xffff); /* held in reset */
	sim_run_for(&r->p->eng, 2 * MS);
	wr(r, r->rp_slow, HQIO_PCI_BRIDGE_CONTROL, 2, bc);
	uint64_t t0 = r->p->eng.now_ns;
	sim_run_until(&r->p->eng, t0 + 99 * MS);
	assert_int_equal(rd(r, r->ep_slow, 0, 2), 0xffff);
	sim_run_until(&r->p->eng, t0 + 100 * MS);
	assert_int_equal(rd(r, r->ep_slow, 0, 2), 0x1b36);
	assert_int_equal(rd(r, r->ep_slow, 0x1c, 4), 0);	  /* reset below */
	assert_int_equal(rd(r, r->ep_fast, 0x1c, 4), 0xfd000000); /* elsewhere: untouched */
	assert_int_equal(r->ep_fast->resets, 0);
	assert_int_equal(r->p->trst_violations, 0);
}

static void test_sbr_above_5gts_waits_for_link_active_plus_100ms(void **state)
{
	struct rig *r = *state;
	struct sim_fn *rp = r->rp_fast;
	sbr(r, rp, 1 * MS);
	uint64_t t0 = r->p->eng.now_ns;
	uint16_t lnksta = (uint16_t)rd(r, rp, rp->exp + HQIO_PCI_EXP_LNKSTA, 2);
	assert_false(lnksta & HQIO_PCI_EXP_LNKSTA_DLLLA);
	sim_run_until(&r->p->eng, t0 + SIM_T_LINK_TRAIN_NS);
	lnksta = (uint16_t)rd(r, rp, rp->exp + HQIO_PCI_EXP_LNKSTA, 2);
	assert_true(lnksta & HQIO_PCI_EXP_LNKSTA_DLLLA);
	sim_run_until(&r->p->eng, t0 + SIM_T_LINK_TRAIN_NS + 99 * MS);
	assert_int_equal(rd(r, r->ep_fast, 0, 2), 0xffff);
	sim_run_until(&r->p->eng, t0 + SIM_T_LINK_TRAIN_NS + 100 * MS);
	assert_int_equal(rd(r, r->ep_fast, 0, 2), 0x1b36);
}

static void test_conventional_bus_reset_waits_trhfa(void **state)
{
	struct rig *r = *state;
	wr(r, r->legacy0, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_IO);
	sbr(r, r->pci_br, 1 * MS);
	uint64_t t0 = r->p->eng.now_ns;
	sim_run_until(&r->p->eng, t0 + 999 * MS);
	assert_int_equal(rd(r, r->legacy0, 0, 2), 0xffff);
	sim_run_until(&r->p->eng, t0 + 1000 * MS);
	assert_int_equal(rd(r, r->legacy0, 0, 2), 0x10ec);
	assert_int_equal(rd(r, r->legacy0, HQIO_PCI_COMMAND, 2), 0);
	assert_int_equal(r->legacy1->resets, 1);
}

static void test_sbr_shorter_than_trst_resets_nothing(void **state)
{
	struct rig *r = *state;
	wr(r, r->ep_slow, 0x1c, 4, 0xfe000000);
	sbr(r, r->rp_slow, SIM_T_RST_MIN_NS - 1);
	assert_int_equal(r->p->trst_violations, 1);
	assert_int_equal(rd(r, r->ep_slow, 0x1c, 4), 0xfe000000);
	assert_int_equal(r->ep_slow->resets, 0);
}

static void test_no_dma_while_held_in_reset_or_in_d3hot(void **state)
{
	struct rig *r = *state;
	struct sim_fn *f = r->ep_slow;
	uint8_t b = 1;
	r->p->iommu_enabled = false;
	wr(r, f, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MASTER);
	assert_int_equal(sim_dma_write(f, 0x1000, &b, 1), 0);
	uint32_t bc = rd(r, r->rp_slow, HQIO_PCI_BRIDGE_CONTROL, 2);
	wr(r, r->rp_slow, HQIO_PCI_BRIDGE_CONTROL, 2, bc | HQIO_PCI_BRIDGE_CTL_BUS_RESET);
	assert_int_equal(sim_dma_write(f, 0x1000, &b, 1), -EPERM); /* held in reset */
	wr(r, r->rp_slow, HQIO_PCI_BRIDGE_CONTROL, 2, bc);	   /* < Trst: no reset */
	assert_int_equal(sim_dma_write(f, 0x1000, &b, 1), 0);
	wr(r, f, 0x44, 2, 3);
	assert_int_equal(sim_dma_write(f, 0x1000, &b, 1), -EPERM); /* D3hot */
}

static void test_bus_reset_recovers_a_function_whose_flr_hung(void **state)
{
	struct rig *r = *state;
	struct sim_fn *f = r->ep_fast;
	f->faults |= SIM_FAULT_FLR_NEVER_COMPLETES;
	uint32_t dc = rd(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2);
	wr(r, f, f->exp + HQIO_PCI_EXP_DEVCTL, 2, dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	sim_run_for(&r->p->eng, 10 * SIM_NS_PER_S);
	assert_int_equal(rd(r, f, 0, 2), 0xffff);
	sbr(r, r->rp_fast, 2 * MS);
	sim_run_for(&r->p->eng, SIM_T_LINK_TRAIN_NS + 100 * MS);
	assert_int_equal(rd(r, f, 0, 2), 0x1b36);
}

/* ---- host ops ---------------------------------------------------------- */

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static bool flag_set(void *arg)
{
	return *(bool *)arg;
}

static void set_flag(void *arg, uint64_t now)
{
	(void)now;
	*(bool *)arg = true;
}

static void test_host_ops_time_and_waits(void **state)
{
	struct rig *r = *state;
	bool flag = false;
	uint64_t t0 = r->ops.now_ns(r->ops.ctx);
	assert_int_equal(r->ops.sleep_ns(r->ops.ctx, 5 * MS), 0);
	assert_int_equal(r->ops.now_ns(r->ops.ctx), t0 + 5 * MS);
	assert_int_equal(r->ops.wait_until(r->ops.ctx, never, NULL, MS, 3 * MS), -ETIMEDOUT);
	assert_int_equal(r->ops.now_ns(r->ops.ctx), t0 + 8 * MS);
	sim_schedule(&r->p->eng, 2500 * SIM_NS_PER_US, set_flag, &flag, 0);
	assert_int_equal(r->ops.wait_until(r->ops.ctx, flag_set, &flag, MS, 10 * MS), 0);
	assert_true(r->ops.now_ns(r->ops.ctx) <= t0 + 11 * MS);
	assert_int_equal(r->ops.platform_reset(r->ops.ctx, sim_fn_bdf(r->ep_fast),
					       HQIO_PLATFORM_RESET_FUNCTION),
			 -EOPNOTSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enumeration_numbers_buses_depth_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_only_ids_and_rw_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_error_bits_are_write_1_to_clear, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_access_needs_decode_and_d0, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_only_device_0_below_a_root_port, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_conventional_devices_share_the_bridge_alias,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_flr_clears_state_and_crs_until_ready, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_not_ready_reads_all_ones_without_crs_visibility, setup, teardown),
		cmocka_unit_test_setup_teardown(test_immediate_readiness_skips_the_wait, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flr_ignored_without_capability, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_d3hot_to_d0_resets_unless_no_soft_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pm_reset_needs_a_real_d3hot_to_d0, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_d1_write_is_ignored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sbr_resets_below_only_with_100ms_at_5gts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_sbr_above_5gts_waits_for_link_active_plus_100ms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conventional_bus_reset_waits_trhfa, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sbr_shorter_than_trst_resets_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_dma_while_held_in_reset_or_in_d3hot, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bus_reset_recovers_a_function_whose_flr_hung,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_ops_time_and_waits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
