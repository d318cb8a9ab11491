/*
 * Reset planner and quirk table (lib/reset/plan.c, lib/reset/quirks.c) on
 * the simulated reference machine: the first method of every catalogue
 * device, the bus reset's conditions (root bus, siblings, owners, host
 * drivers), group viability, the quiesce idle check, refusal and --force.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/devices.h"
#include "hqio/reset.h"
#include "sim.h"

#define MS (1000ull * 1000)

struct machine {
	struct sim_platform *p;
	struct sim_reference ref;
	struct hqio_system sys;
};

static struct machine *reference(void)
{
	struct machine *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	m->p = sim_platform_new(1, 16 << 20);
	assert_non_null(m->p);
	assert_int_equal(sim_build_reference_ex(m->p, &m->ref), 0);
	assert_int_equal(sim_snapshot(m->p, &m->sys), 0);
	return m;
}

static void machine_free(struct machine *m)
{
	hqio_system_free(&m->sys);
	sim_platform_free(m->p);
	free(m);
}

static struct hqio_pci_node *node_of(struct machine *m, const struct sim_fn *f)
{
	struct hqio_pci_node *n = hqio_system_find(&m->sys, sim_fn_bdf(f));
	assert_non_null(n);
	return n;
}

static struct hqio_pci_node *node_at(struct machine *m, uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct hqio_pci_node *n =
		hqio_system_find(&m->sys, (struct hqio_bdf){ .bus = bus, .dev = dev, .fn = fn });
	assert_non_null(n);
	return n;
}

/* Plan for f with the defaults: owner 1, the IOMMU group as one owner. */
static void plan_in(struct machine *m, const struct sim_fn *f, struct hqio_plan_input *in,
		    struct hqio_reset_plan *pl)
{
	struct hqio_error err = { 0 };
	in->sys = &m->sys;
	in->node = node_of(m, f);
	if (!in->owner)
		in->owner = 1;
	assert_int_equal(hqio_reset_plan(in, pl, &err), 0);
}

static void plan(struct machine *m, const struct sim_fn *f, struct hqio_reset_plan *pl)
{
	struct hqio_plan_input in = { 0 };
	plan_in(m, f, &in, pl);
}

static bool has_method(const struct hqio_reset_plan *pl, enum hqio_reset_method m)
{
	for (unsigned i = 0; i < pl->n_methods; i++)
		if (pl->methods[i] == m)
			return true;
	return false;
}

static bool affects(const struct hqio_reset_plan *pl, const struct sim_fn *f)
{
	for (unsigned i = 0; i < pl->n_affected; i++)
		if (hqio_bdf_cmp(pl->affected[i], sim_fn_bdf(f)) == 0)
			return true;
	return false;
}

#define assert_contains(hay, needle)                                                               \
	do {                                                                                       \
		if (!strstr((hay), (needle)))                                                      \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));               \
	} while (0)

/* owner_of from a small table: BDF -> owner; everything else the host. */
struct owners {
	unsigned n;
	struct hqio_bdf bdf[8];
	int owner[8];
};

static int owner_from_table(void *arg, struct hqio_bdf bdf)
{
	const struct owners *o = arg;
	for (unsigned i = 0; i < o->n; i++)
		if (hqio_bdf_cmp(o->bdf[i], bdf) == 0)
			return o->owner[i];
	return HQIO_OWNER_HOST;
}

static void set_owner(struct owners *o, const struct sim_fn *f, int owner)
{
	o->bdf[o->n] = sim_fn_bdf(f);
	o->owner[o->n++] = owner;
}

/* ------------------------------------------------------------ names */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(hqio_reset_method_name(HQIO_RM_DEVICE_SPECIFIC), "device_specific");
	assert_string_equal(hqio_reset_method_name(HQIO_RM_FLR), "flr");
	assert_string_equal(hqio_reset_method_name(HQIO_RM_AF_FLR), "af_flr");
	assert_string_equal(hqio_reset_method_name(HQIO_RM_PM), "pm");
	assert_string_equal(hqio_reset_method_name(HQIO_RM_BUS), "bus");
	assert_string_equal(hqio_reset_method_name(HQIO_RM_COUNT), "?");
	assert_string_equal(hqio_idle_kind_name(HQIO_IDLE_TP_PCIE), "tp_pcie");
	assert_string_equal(hqio_idle_kind_name(HQIO_IDLE_TP_AF), "tp_af");
	assert_string_equal(hqio_idle_kind_name(HQIO_IDLE_REGISTER), "register");
	assert_string_equal(hqio_idle_kind_name(HQIO_IDLE_WAIT), "wait");
}

/* ----------------------------------------------------------- quirks */

static void test_quirk_builtin(void **state)
{
	(void)state;
	const struct hqio_reset_quirk *q = hqio_reset_quirk_find(NULL, 0, 0x1234, 0x11e8);
	assert_non_null(q);
	assert_true(q->flags & HQIO_QUIRK_TP_UNTRUSTED);
	assert_int_equal(q->idle, HQIO_IDLE_REGISTER);
	assert_int_equal(q->idle_bar, 0);
	assert_int_equal(q->idle_off, 0x98);
	assert_int_equal(q->idle_mask, 0x1);
	assert_int_equal(q->idle_value, 0);
	assert_int_equal(q->idle_wait_ns, 100 * MS);
	assert_non_null(q->why);
	assert_contains(q->why, "edu");

	q = hqio_reset_quirk_find(NULL, 0, 0x8086, 0x1502); /* 82579LM */
	assert_non_null(q);
	assert_int_equal(q->flags, HQIO_QUIRK_NO_FLR);
	assert_contains(q->why, "quirk_no_flr");
	q = hqio_reset_quirk_find(NULL, 0, 0x168c, 0x003c); /* QCA988x */
	assert_non_null(q);
	assert_int_equal(q->flags, HQIO_QUIRK_NO_BUS_RESET);
	q = hqio_reset_quirk_find(NULL, 0, 0x15b3, 0xcf6c); /* Spectrum */
	assert_non_null(q);
	assert_int_equal(q->flags, HQIO_QUIRK_NO_PM_RESET);

	/* No entry for the catalogue's other devices, nor for unknown ones. */
	assert_null(hqio_reset_quirk_find(NULL, 0, SIM_NVME_VENDOR, SIM_NVME_DEVICE));
	assert_null(hqio_reset_quirk_find(NULL, 0, SIM_GPU_VENDOR, SIM_GPU_DEVICE));
	assert_null(hqio_reset_quirk_find(NULL, 0, SIM_LEG_VENDOR, SIM_LEG_DEVICE_23));
	assert_null(hqio_reset_quirk_find(NULL, 0, 0x1234, 0x1111));
	assert_null(hqio_reset_quirk_find(NULL, 0, 0xffff, 0xffff));
}

static void test_quirk_extra_table_and_wildcard(void **state)
{
	(void)state;
	const struct hqio_reset_quirk extra[] = {
		{ .vendor = 0x10ec,
		  .device = 0xffff,
		  .flags = HQIO_QUIRK_NO_BUS_RESET,
		  .why = "any" },
		{ .vendor = 0x10ec,
		  .device = 0x8169,
		  .flags = HQIO_QUIRK_NO_PM_RESET,
		  .why = "8169" },
		{ .vendor = 0x1234,
		  .device = 0x11e8,
		  .flags = HQIO_QUIRK_DEVICE_RESET,
		  .why = "mine" },
		{ .vendor = 0x8086, .device = 0xffff, .flags = 0, .why = "intel" },
	};
	size_t n = sizeof(extra) / sizeof(extra[0]);
	/* Wildcard device: every device of the vendor... */
	assert_ptr_equal(hqio_reset_quirk_find(extra, n, 0x10ec, 0x8139), &extra[0]);
	/* ...but an exact entry of the same table wins, wherever it stands. */
	assert_ptr_equal(hqio_reset_quirk_find(extra, n, 0x10ec, 0x8169), &extra[1]);
	/* The extra table is searched before the built-in one. */
	assert_ptr_equal(hqio_reset_quirk_find(extra, n, 0x1234, 0x11e8), &extra[2]);
	/* Even a vendor-wide extra entry overrides (here: clears) a built-in one. */
	assert_ptr_equal(hqio_reset_quirk_find(extra, n, 0x8086, 0x1502), &extra[3]);
	/* Not in the extra table: the built-in one answers. */
	const struct hqio_reset_quirk *q = hqio_reset_quirk_find(extra, n, 0x168c, 0x0030);
	assert_non_null(q);
	assert_int_equal(q->flags, HQIO_QUIRK_NO_BUS_RESET);
	assert_null(hqio_reset_quirk_find(extra, n, 0x1af4, 0x1000));
	assert_null(hqio_reset_quirk_find(extra, 0, 0x10ec, 0x8139)); /* n_extra 0: unused */
}

/* ---------------------------------------- the catalogue's first methods */

static void test_nvme_flr(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_reset_plan pl;
	plan(m, m->ref.nvme, &pl);
	assert_false(pl.refused);
	assert_true(pl.group_viable);
	assert_int_equal(pl.methods[0], HQIO_RM_FLR);
	assert_int_equal(pl.n_methods, 2); /* flr, bus: PM has No_Soft_Reset+ */
	assert_int_equal(pl.methods[1], HQIO_RM_BUS);
	assert_contains(pl.eval[HQIO_RM_FLR].reason, "FLReset+");
	assert_contains(pl.eval[HQIO_RM_PM].reason, "No_Soft_Reset+");
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "alone below bridge 0000:00:1c.0");
	assert_int_equal(pl.idle, HQIO_IDLE_TP_PCIE);
	assert_null(pl.quirk);
	/* Offsets from devices.h: PM 0x40, MSI-X 0x50, PCIe 0x60; ATS extended. */
	assert_int_equal(pl.pm, 0x40);
	assert_int_equal(pl.msix, 0x50);
	assert_int_equal(pl.exp, 0x60);
	assert_int_equal(pl.msi, 0);
	assert_int_equal(pl.af, 0);
	assert_true(pl.ats >= 0x100);
	assert_false(pl.ats_enabled);
	assert_false(pl.vf);
	assert_int_equal(hqio_bdf_cmp(pl.parent, sim_fn_bdf(m->ref.rp[0])), 0);
	assert_int_equal(pl.parent_link_speed, 3); /* root port 00:1c.0: 8 GT/s */
	assert_false(pl.parent_conventional_secondary);
	assert_int_equal(pl.n_affected, 0);
	machine_free(m);
}

static void test_nic_pm_functions_share_group(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_reset_plan pl;
	for (int i = 0; i < 2; i++) {
		plan(m, m->ref.nic[i], &pl);
		assert_false(pl.refused);
		assert_int_equal(pl.methods[0], HQIO_RM_PM);
		assert_contains(pl.eval[HQIO_RM_FLR].reason, "FLReset-");
		/* The other port is reset too; one multi-function device without
		 * ACS is one IOMMU group, so one owner. */
		assert_true(has_method(&pl, HQIO_RM_BUS));
		assert_true(affects(&pl, m->ref.nic[1 - i]));
		assert_int_equal(pl.n_affected, 1);
		assert_contains(pl.eval[HQIO_RM_BUS].reason, "same IOMMU group");
		assert_int_equal(hqio_bdf_cmp(pl.parent, sim_fn_bdf(m->ref.sw_down[0])), 0);
		const struct hqio_pci_node *p = node_of(m, m->ref.sw_down[0]);
		assert_int_equal(pl.parent_link_speed, p->info->exp.link_speed_max);
		assert_int_equal(pl.idle, HQIO_IDLE_TP_PCIE);
	}
	machine_free(m);
}

static void test_nic_port_of_other_owner_makes_group_not_viable(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct owners o = { 0 };
	set_owner(&o, m->ref.nic[0], 1);
	set_owner(&o, m->ref.nic[1], 2);
	struct hqio_plan_input in = { .owner_of = owner_from_table, .owner_arg = &o };
	struct hqio_reset_plan pl;
	plan_in(m, m->ref.nic[0], &in, &pl);
	assert_true(pl.refused);
	assert_false(pl.group_viable);
	assert_int_equal(pl.n_group_others, 1);
	assert_int_equal(hqio_bdf_cmp(pl.group_others[0], sim_fn_bdf(m->ref.nic[1])), 0);
	assert_contains(pl.refusal, "group not viable");
	assert_contains(pl.refusal, "0000:04:00.1");
	assert_false(pl.eval[HQIO_RM_BUS].usable);
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "other owners");
	/* force does not override an unviable group */
	in.force = true;
	plan_in(m, m->ref.nic[0], &in, &pl);
	assert_true(pl.refused);
	machine_free(m);
}

static void test_hda_pm(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_reset_plan pl;
	plan(m, m->ref.hda, &pl);
	assert_false(pl.refused);
	assert_int_equal(pl.methods[0], HQIO_RM_PM);
	assert_true(has_method(&pl, HQIO_RM_BUS));
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "alone below bridge 0000:03:01.0");
	machine_free(m);
}

static void test_gpu_bus_only(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_reset_plan pl;
	plan(m, m->ref.gpu, &pl);
	/* devices.h: PM No_Soft_Reset set, PCIe without FLR: bus reset only. */
	assert_false(pl.refused);
	assert_int_equal(pl.n_methods, 1);
	assert_int_equal(pl.methods[0], HQIO_RM_BUS);
	assert_contains(pl.eval[HQIO_RM_FLR].reason, "FLReset-");
	assert_contains(pl.eval[HQIO_RM_PM].reason, "No_Soft_Reset+");
	assert_contains(pl.eval[HQIO_RM_AF_FLR].reason, "no Advanced Features");
	assert_int_equal(hqio_bdf_cmp(pl.parent, sim_fn_bdf(m->ref.rp[3])), 0);
	assert_int_equal(pl.parent_link_speed, 3);
	assert_false(pl.parent_conventional_secondary);
	assert_int_equal(pl.pm, 0x60);
	assert_int_equal(pl.msi, 0x68);
	assert_int_equal(pl.exp, 0x78);
	machine_free(m);
}

static void test_edu_root_bus_and_wait_idle_from_quirk(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_reset_plan pl;
	plan(m, m->ref.edu, &pl);
	assert_false(pl.refused);
	assert_int_equal(pl.methods[0], HQIO_RM_PM);
	assert_int_equal(pl.n_methods, 1);
	assert_false(pl.eval[HQIO_RM_BUS].usable);
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "root bus");
	assert_contains(pl.eval[HQIO_RM_AF_FLR].reason, "without TP");
	assert_contains(pl.eval[HQIO_RM_FLR].reason, "no PCI Express");
	/* AF without TP: no Transactions Pending anywhere; the quirk knows the
	 * DMA busy bit. */
	assert_ptr_equal(pl.quirk, hqio_reset_quirk_find(NULL, 0, 0x1234, 0x11e8));
	assert_int_equal(pl.idle, HQIO_IDLE_REGISTER);
	assert_int_equal(pl.idle_off, 0x98);
	assert_int_equal(pl.idle_wait_ns, 100 * MS);
	assert_int_equal(pl.msi, 0x40);
	assert_int_equal(pl.pm, 0x50);
	assert_int_equal(pl.af, 0x58);
	assert_int_equal(pl.exp, 0);
	machine_free(m);
}

/* ------------------------------------ the conventional devices' bus reset */

static void test_conventional_sibling_same_group(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_reset_plan pl;
	plan(m, m->ref.legacy23, &pl);
	assert_false(pl.refused);
	assert_int_equal(pl.n_methods, 1);
	assert_int_equal(pl.methods[0], HQIO_RM_BUS);
	assert_true(affects(&pl, m->ref.legacy22));
	assert_int_equal(hqio_bdf_cmp(pl.parent, sim_fn_bdf(m->ref.pci_bridge)), 0);
	assert_true(pl.parent_conventional_secondary);
	assert_int_equal(pl.parent_link_speed,
			 node_of(m, m->ref.pci_bridge)->info->exp.link_speed_max);
	/* No capability list: no Transactions Pending, no quirk: the default wait. */
	assert_null(pl.quirk);
	assert_int_equal(pl.idle, HQIO_IDLE_WAIT);
	assert_int_equal(pl.idle_wait_ns, 1000 * MS);
	machine_free(m);
}

static void test_conventional_sibling_same_owner(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct owners o = { 0 };
	set_owner(&o, m->ref.legacy23, 1);
	set_owner(&o, m->ref.legacy22, 1);
	/* the PCIe-to-PCI bridge, in the same IOMMU group, stays with the host */
	struct hqio_plan_input in = { .owner_of = owner_from_table, .owner_arg = &o };
	struct hqio_reset_plan pl;
	plan_in(m, m->ref.legacy23, &in, &pl);
	assert_false(pl.refused);
	assert_true(pl.group_viable);
	assert_int_equal(pl.n_group_others, 0);
	assert_int_equal(pl.methods[0], HQIO_RM_BUS);
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "same owner");
	machine_free(m);
}

static void test_conventional_sibling_other_owner_refused(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct owners o = { 0 };
	set_owner(&o, m->ref.legacy23, 1);
	set_owner(&o, m->ref.legacy22, 2);
	struct hqio_plan_input in = { .owner_of = owner_from_table, .owner_arg = &o };
	struct hqio_reset_plan pl;
	plan_in(m, m->ref.legacy23, &in, &pl);
	assert_true(pl.refused);
	assert_false(pl.group_viable);
	assert_contains(pl.refusal, "group not viable");
	assert_contains(pl.refusal, "0000:07:04.0");
	assert_null(strstr(pl.refusal, "0000:06:00.0")); /* the bridge does not count */
	assert_int_equal(pl.n_group_others, 1);
	assert_false(pl.eval[HQIO_RM_BUS].usable);
	assert_int_equal(pl.n_methods, 0);
	machine_free(m);
}

static void test_conventional_alone_below_bridge(void **state)
{
	(void)state;
	struct machine m = { 0 };
	m.p = sim_platform_new(1, 16 << 20);
	assert_non_null(m.p);
	struct sim_fn *rp = sim_add_root_port(m.p, 0x1c, 0, 1);
	assert_non_null(rp);
	struct sim_fn *br = sim_add_pcie_to_pci_bridge(m.p, rp);
	assert_non_null(br);
	struct sim_fn *leg = sim_dev_legacy(m.p, br, 0, 0, 0);
	assert_non_null(leg);
	sim_enumerate(m.p);
	assert_int_equal(sim_snapshot(m.p, &m.sys), 0);
	struct hqio_reset_plan pl;
	plan(&m, leg, &pl);
	assert_false(pl.refused);
	assert_int_equal(pl.methods[0], HQIO_RM_BUS);
	assert_int_equal(pl.n_affected, 0);
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "alone below bridge");
	assert_true(pl.parent_conventional_secondary);
	hqio_system_free(&m.sys);
	sim_platform_free(m.p);
}

static void test_host_driver_bound_sibling_blocks_bus_reset(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_reset_plan pl;
	strcpy(node_of(m, m->ref.nic[1])->driver, "e1000e");
	plan(m, m->ref.nic[0], &pl);
	assert_false(pl.eval[HQIO_RM_BUS].usable);
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "host driver e1000e");
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "0000:04:00.1");
	assert_int_equal(pl.methods[0], HQIO_RM_PM); /* PM is unaffected */
	assert_false(has_method(&pl, HQIO_RM_BUS));
	/* vfio-pci is not a host driver */
	strcpy(node_of(m, m->ref.nic[1])->driver, "vfio-pci");
	plan(m, m->ref.nic[0], &pl);
	assert_true(has_method(&pl, HQIO_RM_BUS));
	/* The conventional NIC has nothing but the bus reset. */
	strcpy(node_of(m, m->ref.legacy22)->driver, "8139too");
	plan(m, m->ref.legacy23, &pl);
	assert_true(pl.refused);
	assert_contains(pl.refusal, "no reset method");
	assert_contains(pl.refusal, "8139too");
	machine_free(m);
}

/* ------------------------------------------------- refusal and --force */

static void test_no_method_refused_and_forced(void **state)
{
	(void)state;
	struct machine *m = reference();
	/* edu's only method is PM: take it away with a caller's quirk. */
	const struct hqio_reset_quirk nopm = {
		.vendor = 0x1234, .device = 0x11e8, .flags = HQIO_QUIRK_NO_PM_RESET, .why = "test"
	};
	struct hqio_plan_input in = { .quirks = &nopm, .n_quirks = 1 };
	struct hqio_reset_plan pl;
	plan_in(m, m->ref.edu, &in, &pl);
	assert_true(pl.refused);
	assert_int_equal(pl.n_methods, 0);
	assert_contains(pl.eval[HQIO_RM_PM].reason, "quirk");
	assert_contains(pl.refusal, "no reset method");
	assert_contains(pl.refusal, "root bus");
	assert_contains(pl.refusal, "(use --force to assign anyway)");
	/* the caller's quirk replaced the built-in one: no 100 ms wait now */
	assert_ptr_equal(pl.quirk, &nopm);
	assert_int_equal(pl.idle, HQIO_IDLE_WAIT);
	assert_int_equal(pl.idle_wait_ns, 1000 * MS);

	in.force = true;
	plan_in(m, m->ref.edu, &in, &pl);
	assert_false(pl.refused);
	assert_int_equal(pl.n_methods, 0);
	assert_string_equal(pl.refusal, "");
	machine_free(m);
}

static void test_bridges_refused(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_reset_plan pl;
	plan(m, m->ref.pci_bridge, &pl);
	assert_true(pl.refused);
	assert_contains(pl.refusal, "bridge");
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "subordinate");
	plan(m, m->ref.rp[0], &pl);
	assert_true(pl.refused);
	struct hqio_plan_input in = {
		.sys = &m->sys, .node = node_at(m, 0, 0, 0), .owner = 1, .force = true
	};
	assert_int_equal(hqio_reset_plan(&in, &pl, NULL), 0);
	assert_true(pl.refused);
	assert_contains(pl.refusal, "host bridge");
	machine_free(m);
}

static void test_not_decoded_is_an_error(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_pci_node *n = calloc(1, sizeof(*n));
	assert_non_null(n);
	memset(n->cfg, 0xff, sizeof(n->cfg));
	n->cfg_len = 256;
	n->bdf = (struct hqio_bdf){ .bus = 3 };
	assert_non_null(hqio_system_add(&sys, n));
	free(n);
	assert_int_equal(hqio_system_decode(&sys, NULL), 0);
	struct hqio_plan_input in = { .sys = &sys, .node = &sys.nodes[0], .owner = 1 };
	struct hqio_reset_plan pl;
	struct hqio_error err = { 0 };
	assert_true(hqio_reset_plan(&in, &pl, &err) < 0);
	assert_contains(err.msg, "0000:03:00.0");
	assert_true(hqio_reset_plan(NULL, &pl, &err) < 0);
	hqio_system_free(&sys);
}

/* ----------------------------------------------------- quirk effects */

static void test_quirks_change_methods_and_idle(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_reset_plan pl;
	const struct hqio_reset_quirk dev_reset = { .vendor = SIM_NVME_VENDOR,
						    .device = SIM_NVME_DEVICE,
						    .flags = HQIO_QUIRK_DEVICE_RESET,
						    .why = "test" };
	struct hqio_plan_input in = { .quirks = &dev_reset, .n_quirks = 1 };
	plan_in(m, m->ref.nvme, &in, &pl);
	assert_int_equal(pl.methods[0], HQIO_RM_DEVICE_SPECIFIC);
	assert_int_equal(pl.methods[1], HQIO_RM_FLR);

	const struct hqio_reset_quirk no_flr = { .vendor = SIM_NVME_VENDOR,
						 .device = SIM_NVME_DEVICE,
						 .flags = HQIO_QUIRK_NO_FLR,
						 .why = "test" };
	in = (struct hqio_plan_input){ .quirks = &no_flr, .n_quirks = 1 };
	plan_in(m, m->ref.nvme, &in, &pl);
	assert_int_equal(pl.methods[0], HQIO_RM_BUS);
	assert_contains(pl.eval[HQIO_RM_FLR].reason, "FLR broken");

	/* NO_BUS_RESET on the parent bridge (every root port has its IDs). */
	const struct hqio_pci_node *rp = node_of(m, m->ref.rp[3]);
	const struct hqio_reset_quirk rp_no_bus = { .vendor = rp->info->vendor_id,
						    .device = rp->info->device_id,
						    .flags = HQIO_QUIRK_NO_BUS_RESET,
						    .why = "test" };
	in = (struct hqio_plan_input){ .quirks = &rp_no_bus, .n_quirks = 1 };
	plan_in(m, m->ref.gpu, &in, &pl);
	assert_true(pl.refused);
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "0000:00:1c.3");

	/* NO_BUS_RESET on a function the bus reset would also hit. */
	const struct hqio_reset_quirk sib_no_bus = { .vendor = SIM_LEG_VENDOR,
						     .device = SIM_LEG_DEVICE_22,
						     .flags = HQIO_QUIRK_NO_BUS_RESET,
						     .why = "test" };
	in = (struct hqio_plan_input){ .quirks = &sib_no_bus, .n_quirks = 1 };
	plan_in(m, m->ref.legacy23, &in, &pl);
	assert_false(pl.eval[HQIO_RM_BUS].usable);
	assert_contains(pl.eval[HQIO_RM_BUS].reason, "0000:07:04.0");

	/* An idle register instead of a TP bit the device does not keep. */
	const struct hqio_reset_quirk reg = { .vendor = SIM_NVME_VENDOR,
					      .device = SIM_NVME_DEVICE,
					      .flags = HQIO_QUIRK_TP_UNTRUSTED,
					      .idle = HQIO_IDLE_REGISTER,
					      .idle_bar = 0,
					      .idle_off = SIM_NVME_DMA_STATUS,
					      .idle_mask = SIM_NVME_DMA_BUSY,
					      .idle_value = 0,
					      .idle_wait_ns = 5 * MS,
					      .why = "test" };
	in = (struct hqio_plan_input){ .quirks = &reg, .n_quirks = 1 };
	plan_in(m, m->ref.nvme, &in, &pl);
	assert_int_equal(pl.idle, HQIO_IDLE_REGISTER);
	assert_int_equal(pl.idle_off, SIM_NVME_DMA_STATUS);
	assert_int_equal(pl.idle_mask, SIM_NVME_DMA_BUSY);
	assert_int_equal(pl.idle_value, 0);
	assert_int_equal(pl.idle_wait_ns, 5 * MS);
	assert_int_equal(pl.methods[0], HQIO_RM_FLR); /* methods unchanged */
	machine_free(m);
}

/* ------------------------------------- hqio inspect uses the planner */

static struct hqio_assessment *assess(struct machine *m, const struct sim_fn *f)
{
	struct hqio_assessment *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	hqio_assess(&m->sys, node_of(m, f), a);
	return a;
}

static void test_assess_takes_the_planners_evaluations(void **state)
{
	(void)state;
	struct machine *m = reference();
	const struct sim_fn *fns[] = { m->ref.nvme, m->ref.nic[0],   m->ref.hda,
				       m->ref.gpu,  m->ref.legacy23, m->ref.edu };
	static const enum hqio_reset_method method_of[HQIO_RESET_COUNT] = {
		HQIO_RM_FLR, HQIO_RM_AF_FLR, HQIO_RM_PM, HQIO_RM_BUS
	};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		struct hqio_reset_plan pl;
		plan(m, fns[i], &pl);
		struct hqio_assessment *a = assess(m, fns[i]);
		for (int k = 0; k < HQIO_RESET_COUNT; k++) {
			assert_int_equal(a->resets[k].usable,
					 pl.eval[method_of[k]].usable ? HQIO_YES : HQIO_NO);
			assert_string_equal(a->resets[k].reason, pl.eval[method_of[k]].reason);
		}
		assert_int_equal(a->resets[HQIO_RESET_BUS].n_affected, pl.n_affected);
		free(a);
	}
	machine_free(m);
}

/* inspect judges the function as assigned: the rest of its IOMMU group goes
 * with it, unbound from host drivers, so a driver bound there now does not
 * take the bus reset away (the planner, judging now, does). */
static void test_assess_sees_group_as_assigned(void **state)
{
	(void)state;
	struct machine *m = reference();
	strcpy(node_of(m, m->ref.nic[1])->driver, "e1000e");
	struct hqio_assessment *a = assess(m, m->ref.nic[0]);
	assert_int_equal(a->resets[HQIO_RESET_BUS].usable, HQIO_YES);
	assert_contains(a->resets[HQIO_RESET_BUS].reason, "same IOMMU group");
	free(a);
	struct hqio_reset_plan pl;
	plan(m, m->ref.nic[0], &pl);
	assert_false(pl.eval[HQIO_RM_BUS].usable);
	assert_string_equal(node_of(m, m->ref.nic[1])->driver, "e1000e"); /* not changed */
	machine_free(m);
}

/* Stricter than before the planner: a built-in quirk counts in inspect. */
static void test_assess_applies_builtin_quirks(void **state)
{
	(void)state;
	struct machine *m = reference();
	struct hqio_pci_node *n = node_of(m, m->ref.nvme);
	/* Give the NVMe-like function the IDs of an Intel 82579LM (quirk_no_flr). */
	n->cfg[0] = 0x86;
	n->cfg[1] = 0x80;
	n->cfg[2] = 0x02;
	n->cfg[3] = 0x15;
	struct hqio_bdf bdf = n->bdf;
	assert_int_equal(hqio_system_decode(&m->sys, NULL), 0);
	n = hqio_system_find(&m->sys, bdf);
	struct hqio_assessment *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	hqio_assess(&m->sys, n, a);
	assert_int_equal(a->resets[HQIO_RESET_FLR].usable, HQIO_NO);
	assert_contains(a->resets[HQIO_RESET_FLR].reason, "FLR broken");
	assert_int_equal(a->resets[HQIO_RESET_BUS].usable, HQIO_YES);
	free(a);
	machine_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_quirk_builtin),
		cmocka_unit_test(test_quirk_extra_table_and_wildcard),
		cmocka_unit_test(test_nvme_flr),
		cmocka_unit_test(test_nic_pm_functions_share_group),
		cmocka_unit_test(test_nic_port_of_other_owner_makes_group_not_viable),
		cmocka_unit_test(test_hda_pm),
		cmocka_unit_test(test_gpu_bus_only),
		cmocka_unit_test(test_edu_root_bus_and_wait_idle_from_quirk),
		cmocka_unit_test(test_conventional_sibling_same_group),
		cmocka_unit_test(test_conventional_sibling_same_owner),
		cmocka_unit_test(test_conventional_sibling_other_owner_refused),
		cmocka_unit_test(test_conventional_alone_below_bridge),
		cmocka_unit_test(test_host_driver_bound_sibling_blocks_bus_reset),
		cmocka_unit_test(test_no_method_refused_and_forced),
		cmocka_unit_test(test_bridges_refused),
		cmocka_unit_test(test_not_decoded_is_an_error),
		cmocka_unit_test(test_quirks_change_methods_and_idle),
		cmocka_unit_test(test_assess_takes_the_planners_evaluations),
		cmocka_unit_test(test_assess_sees_group_as_assigned),
		cmocka_unit_test(test_assess_applies_builtin_quirks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
