/*
 * Assessment tests: reset-method conditions, topology from images,
 * IOMMU groups, ACS, VFs and the verdict, on systems built in code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "hqio/cfgbuild.h"
#include "hqio/inspect.h"

static struct hqio_pci_node *add(struct hqio_system *sys, const struct hqio_cfgb *b, size_t len,
				 uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct hqio_pci_node *n = calloc(1, sizeof(*n));
	assert_non_null(n);
	memcpy(n->cfg, b->cfg, sizeof(n->cfg));
	n->cfg_len = len;
	n->bdf = (struct hqio_bdf){ .bus = bus, .dev = dev, .fn = fn };
	struct hqio_pci_node *r = hqio_system_add(sys, n);
	assert_non_null(r);
	free(n);
	return r;
}

static struct hqio_pci_node *get(struct hqio_system *sys, uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct hqio_pci_node *n =
		hqio_system_find(sys, (struct hqio_bdf){ .bus = bus, .dev = dev, .fn = fn });
	assert_non_null(n);
	return n;
}

static void host_bridge(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x8086, 0x29c0, 0x060000, 0);
}

static void root_port(struct hqio_cfgb *b, uint8_t sec, bool acs)
{
	hqio_cfgb_init(b, 0x8086, 0x7c10, 0x060400, 0x01);
	hqio_cfgb_w8(b, 0x19, sec);
	hqio_cfgb_w8(b, 0x1a, sec);
	hqio_cfgb_cap(b, 0x40, 0x10);
	hqio_cfgb_w16(b, 0x42, 0x0042);
	hqio_cfgb_cap(b, 0x80, 0x05);
	if (acs) {
		hqio_cfgb_ext(b, 0x100, 0x000d, 1);
		hqio_cfgb_w16(b, 0x104, 0x001f);
		hqio_cfgb_w16(b, 0x106, 0x001d);
	}
}

/* PCIe endpoint: flr / pm selectable, MSI-X. */
static void endpoint(struct hqio_cfgb *b, bool flr, bool pm_soft_reset, uint8_t hdr)
{
	hqio_cfgb_init(b, 0x1b36, 0x0010, 0x010802, hdr);
	hqio_cfgb_w8(b, 0x3d, 1);
	hqio_cfgb_cap(b, 0x40, 0x01);
	hqio_cfgb_w16(b, 0x42, 0x0003);
	hqio_cfgb_w16(b, 0x44, pm_soft_reset ? 0x0000 : 0x0008);
	hqio_cfgb_cap(b, 0x60, 0x11);
	hqio_cfgb_w16(b, 0x62, 0x0003);
	hqio_cfgb_cap(b, 0x80, 0x10);
	hqio_cfgb_w16(b, 0x82, 0x0002);
	hqio_cfgb_w32(b, 0x84, flr ? 0x10000000 : 0);
}

static void conventional_intx(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x10ec, 0x8139, 0x020000, 0);
	hqio_cfgb_w8(b, 0x3d, 1);
}

static struct hqio_assessment *assess(struct hqio_system *sys, struct hqio_pci_node *n)
{
	struct hqio_assessment *a = calloc(1, sizeof(*a));
	assert_non_null(a);
	hqio_assess(sys, n, a);
	return a;
}

static bool has_reason(const struct hqio_assessment *a, enum hqio_level l, const char *needle)
{
	for (unsigned i = 0; i < a->n_reasons; i++)
		if (a->reasons[i].level == l && strstr(a->reasons[i].text, needle))
			return true;
	return false;
}

/* A dump: host bridge, root port 00:1c.0 -> bus 1, NVMe-like 01:00.0. */
static void build_dump_system(struct hqio_system *sys, bool flr, bool acs)
{
	struct hqio_cfgb b;
	host_bridge(&b);
	add(sys, &b, 256, 0, 0, 0);
	root_port(&b, 1, acs);
	add(sys, &b, 4096, 0, 0x1c, 0);
	endpoint(&b, flr, true, 0);
	add(sys, &b, 4096, 1, 0, 0);
	assert_int_equal(hqio_system_decode(sys, NULL), 0);
}

static void test_dump_topology_finds_parent_bridge(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	build_dump_system(&sys, true, true);
	struct hqio_pci_node *ep = get(&sys, 1, 0, 0), *rp = get(&sys, 0, 0x1c, 0);
	assert_true(ep->parent_known);
	assert_false(ep->on_root_bus);
	assert_int_equal(ep->parent.dev, 0x1c);
	assert_true(rp->on_root_bus);		      /* root port: on a root bus by definition */
	assert_true(get(&sys, 0, 0, 0)->on_root_bus); /* host bridge on bus 0 */
	hqio_system_free(&sys);
}

static void test_flr_pm_bus_methods_with_reasons(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	build_dump_system(&sys, true, true);
	struct hqio_assessment *a = assess(&sys, get(&sys, 1, 0, 0));
	assert_int_equal(a->resets[HQIO_RESET_FLR].usable, HQIO_YES);
	assert_non_null(strstr(a->resets[HQIO_RESET_FLR].reason, "FLReset+"));
	assert_int_equal(a->resets[HQIO_RESET_AF_FLR].usable, HQIO_NO);
	assert_int_equal(a->resets[HQIO_RESET_PM].usable, HQIO_YES);
	assert_int_equal(a->resets[HQIO_RESET_BUS].usable, HQIO_YES);
	assert_non_null(strstr(a->resets[HQIO_RESET_BUS].reason, "0000:00:1c.0"));
	assert_int_equal(a->resets[HQIO_RESET_BUS].n_affected, 0);
	assert_true(a->msix);
	assert_true(a->intx);
	assert_int_equal(a->acs_path_ok, HQIO_YES);
	/* a dump cannot show the IOMMU group */
	assert_int_equal(a->verdict, HQIO_LEVEL_DEGRADED);
	assert_true(has_reason(a, HQIO_LEVEL_DEGRADED, "IOMMU group unknown"));
	free(a);
	hqio_system_free(&sys);
}

static void test_sysfs_isolated_flr_device_is_ready(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	build_dump_system(&sys, true, true);
	for (size_t i = 0; i < sys.n; i++) {
		sys.nodes[i].sysfs = true;
		sys.nodes[i].iommu_known = true;
		sys.nodes[i].iommu_group = (int)i;
		sys.nodes[i].reset_method_known = true;
	}
	strcpy(get(&sys, 1, 0, 0)->reset_method, "flr pm bus");
	struct hqio_assessment *a = assess(&sys, get(&sys, 1, 0, 0));
	assert_int_equal(a->verdict, HQIO_LEVEL_OK);
	assert_int_equal(a->linux_agrees, HQIO_YES);
	assert_int_equal(a->resets[HQIO_RESET_FLR].linux_lists, HQIO_YES);
	assert_int_equal(a->iommu_group, 2);
	assert_int_equal(a->n_group, 1);
	free(a);
	hqio_system_free(&sys);
}

static void test_linux_reset_method_difference_is_noted(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	build_dump_system(&sys, true, true);
	struct hqio_pci_node *ep = get(&sys, 1, 0, 0);
	ep->reset_method_known = true;
	strcpy(ep->reset_method, "pm bus"); /* Linux has an FLR quirk for it */
	struct hqio_assessment *a = assess(&sys, ep);
	assert_int_equal(a->linux_agrees, HQIO_NO);
	assert_non_null(strstr(a->linux_diff, "flr found by hqio only"));
	assert_true(has_reason(a, HQIO_LEVEL_NOTE, "Linux reset_method differs"));
	free(a);
	hqio_system_free(&sys);
}

static void test_no_reset_method_is_unsafe(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_cfgb b;
	host_bridge(&b);
	add(&sys, &b, 256, 0, 0, 0);
	endpoint(&b, false, false, 0);
	hqio_cfgb_w16(&b, 0x44, 0x0008); /* NoSoftRst+ */
	add(&sys, &b, 4096, 0, 3, 0);	 /* on the root bus: no bus reset */
	hqio_system_decode(&sys, NULL);
	struct hqio_assessment *a = assess(&sys, get(&sys, 0, 3, 0));
	for (int k = 0; k < HQIO_RESET_COUNT; k++)
		assert_int_equal(a->resets[k].usable, HQIO_NO);
	assert_non_null(strstr(a->resets[HQIO_RESET_BUS].reason, "root bus"));
	assert_non_null(strstr(a->resets[HQIO_RESET_PM].reason, "No_Soft_Reset+"));
	assert_int_equal(a->verdict, HQIO_LEVEL_UNSAFE);
	assert_true(has_reason(a, HQIO_LEVEL_UNSAFE, "no reset method"));
	assert_int_equal(a->reasons[0].level, HQIO_LEVEL_UNSAFE); /* most serious first */
	free(a);
	hqio_system_free(&sys);
}

static void test_bus_reset_only_device_is_degraded(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_cfgb b;
	root_port(&b, 1, true);
	add(&sys, &b, 4096, 0, 0x1c, 0);
	endpoint(&b, false, false, 0);
	hqio_cfgb_w16(&b, 0x44, 0x0008);
	add(&sys, &b, 4096, 1, 0, 0);
	hqio_system_decode(&sys, NULL);
	struct hqio_assessment *a = assess(&sys, get(&sys, 1, 0, 0));
	assert_int_equal(a->resets[HQIO_RESET_BUS].usable, HQIO_YES);
	assert_true(has_reason(a, HQIO_LEVEL_DEGRADED, "only a secondary bus reset"));
	free(a);
	hqio_system_free(&sys);
}

static void test_conventional_intx_device_behind_bridge(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_cfgb b;
	root_port(&b, 1, true);
	add(&sys, &b, 4096, 0, 0x1c, 0);
	/* PCIe-to-PCI bridge 01:00.0 -> bus 2 */
	hqio_cfgb_init(&b, 0x1b36, 0x000e, 0x060400, 0x01);
	hqio_cfgb_w8(&b, 0x19, 2);
	hqio_cfgb_w8(&b, 0x1a, 2);
	hqio_cfgb_cap(&b, 0x40, 0x10);
	hqio_cfgb_w16(&b, 0x42, 0x0072);
	add(&sys, &b, 4096, 1, 0, 0);
	conventional_intx(&b);
	add(&sys, &b, 256, 2, 1, 0);
	hqio_system_decode(&sys, NULL);
	struct hqio_assessment *a = assess(&sys, get(&sys, 2, 1, 0));
	assert_true(a->intx);
	assert_false(a->msi);
	assert_false(a->msix);
	assert_int_equal(a->resets[HQIO_RESET_FLR].usable, HQIO_NO);
	assert_int_equal(a->resets[HQIO_RESET_BUS].usable, HQIO_YES);
	assert_true(has_reason(a, HQIO_LEVEL_DEGRADED, "INTx only"));
	assert_true(has_reason(a, HQIO_LEVEL_DEGRADED, "Transactions Pending"));
	assert_int_equal(a->verdict, HQIO_LEVEL_DEGRADED);
	/* bridge assessed as a device: unsafe, and bus reset refused */
	struct hqio_assessment *br = assess(&sys, get(&sys, 1, 0, 0));
	assert_int_equal(br->verdict, HQIO_LEVEL_UNSAFE);
	assert_int_equal(br->resets[HQIO_RESET_BUS].usable, HQIO_NO);
	assert_non_null(strstr(br->resets[HQIO_RESET_BUS].reason, "subordinate"));
	/* bus reset of the bridge's parent would also take the device below */
	free(a);
	free(br);
	hqio_system_free(&sys);
}

static void test_host_bridge_is_unsafe(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_cfgb b;
	host_bridge(&b);
	add(&sys, &b, 256, 0, 0, 0);
	hqio_system_decode(&sys, NULL);
	struct hqio_assessment *a = assess(&sys, get(&sys, 0, 0, 0));
	assert_int_equal(a->verdict, HQIO_LEVEL_UNSAFE);
	assert_true(has_reason(a, HQIO_LEVEL_UNSAFE, "host bridge"));
	free(a);
	hqio_system_free(&sys);
}

static void build_mfd_system(struct hqio_system *sys, int group0, int group1)
{
	struct hqio_cfgb b;
	root_port(&b, 2, true);
	add(sys, &b, 4096, 0, 0x1d, 0);
	endpoint(&b, false, true, 0x80);
	add(sys, &b, 4096, 2, 0, 0);
	add(sys, &b, 4096, 2, 0, 1);
	hqio_system_decode(sys, NULL);
	for (size_t i = 0; i < sys->n; i++) {
		sys->nodes[i].sysfs = true;
		sys->nodes[i].iommu_known = true;
	}
	get(sys, 0, 0x1d, 0)->on_root_bus = true;
	get(sys, 2, 0, 0)->iommu_group = group0;
	get(sys, 2, 0, 1)->iommu_group = group1;
	get(sys, 0, 0x1d, 0)->iommu_group = 40;
}

static void test_bus_reset_shared_with_same_group_is_usable(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	build_mfd_system(&sys, 7, 7);
	struct hqio_assessment *a = assess(&sys, get(&sys, 2, 0, 0));
	assert_int_equal(a->resets[HQIO_RESET_BUS].usable, HQIO_YES);
	assert_int_equal(a->resets[HQIO_RESET_BUS].n_affected, 1);
	assert_int_equal(a->resets[HQIO_RESET_BUS].affected[0].fn, 1);
	assert_int_equal(a->n_group, 2);
	assert_true(has_reason(a, HQIO_LEVEL_DEGRADED, "must be assigned together"));
	/* multi-function PCIe device without ACS: noted, the group accounts for it */
	assert_true(has_reason(a, HQIO_LEVEL_NOTE, "no ACS at 0000:02:00.0"));
	free(a);
	hqio_system_free(&sys);
}

static void test_bus_reset_shared_with_other_owner_is_refused(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	build_mfd_system(&sys, 7, 8);
	struct hqio_assessment *a = assess(&sys, get(&sys, 2, 0, 0));
	assert_int_equal(a->resets[HQIO_RESET_BUS].usable, HQIO_NO);
	assert_non_null(strstr(a->resets[HQIO_RESET_BUS].reason, "other owners"));
	assert_int_equal(a->resets[HQIO_RESET_PM].usable, HQIO_YES); /* still has PM */
	free(a);
	hqio_system_free(&sys);
}

static void test_no_iommu_group_is_unsafe(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	build_mfd_system(&sys, -1, -1);
	struct hqio_assessment *a = assess(&sys, get(&sys, 2, 0, 0));
	assert_int_equal(a->iommu_group, -1);
	assert_true(has_reason(a, HQIO_LEVEL_UNSAFE, "no IOMMU group"));
	assert_int_equal(a->verdict, HQIO_LEVEL_UNSAFE);
	free(a);
	hqio_system_free(&sys);
}

static void test_missing_acs_on_root_port_degrades_a_dump(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	build_dump_system(&sys, true, false);
	struct hqio_assessment *a = assess(&sys, get(&sys, 1, 0, 0));
	assert_int_equal(a->acs_path_ok, HQIO_NO);
	assert_int_equal(a->n_acs, 1);
	assert_false(a->acs[0].acs_present);
	assert_true(has_reason(a, HQIO_LEVEL_DEGRADED, "no ACS at 0000:00:1c.0"));
	free(a);
	hqio_system_free(&sys);
}

static void test_unprivileged_read_is_reported_not_absent(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_cfgb b;
	endpoint(&b, true, true, 0);
	struct hqio_pci_node *n = add(&sys, &b, 64, 0, 3, 0);
	n->cfg_size = 4096;
	n->sysfs = true;
	hqio_system_decode(&sys, NULL);
	assert_true(sys.cfg_limited);
	n = get(&sys, 0, 3, 0);
	assert_int_equal(n->decode_rc, -ENODATA);
	struct hqio_assessment *a = assess(&sys, n);
	assert_int_equal(a->resets[HQIO_RESET_FLR].usable, HQIO_UNKNOWN);
	assert_int_equal(a->resets[HQIO_RESET_PM].usable, HQIO_UNKNOWN);
	assert_true(has_reason(a, HQIO_LEVEL_DEGRADED, "only 64 of 4096 bytes"));
	assert_false(has_reason(a, HQIO_LEVEL_DEGRADED, "INTx only"));
	free(a);
	hqio_system_free(&sys);
}

static void test_vf_takes_ids_from_pf_in_system(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_cfgb b;
	root_port(&b, 1, true);
	add(&sys, &b, 4096, 0, 0x1c, 0);
	endpoint(&b, true, false, 0x80);
	hqio_cfgb_ext(&b, 0x100, 0x0010, 1);
	hqio_cfgb_w16(&b, 0x108, 0x0001);
	hqio_cfgb_w16(&b, 0x10e, 4);
	hqio_cfgb_w16(&b, 0x110, 2);
	hqio_cfgb_w16(&b, 0x114, 2);
	hqio_cfgb_w16(&b, 0x116, 1);
	hqio_cfgb_w16(&b, 0x11a, 0x0011);
	add(&sys, &b, 4096, 1, 0, 0);
	endpoint(&b, true, false, 0);
	hqio_cfgb_w16(&b, 0x00, 0xffff);
	hqio_cfgb_w16(&b, 0x02, 0xffff);
	add(&sys, &b, 4096, 1, 0, 3); /* RID 0x100 + 2 + 1*1 */
	hqio_system_decode(&sys, NULL);
	struct hqio_assessment *a = assess(&sys, get(&sys, 1, 0, 3));
	assert_true(a->vf);
	assert_true(a->vf_pf_known);
	assert_int_equal(a->vf_pf.fn, 0);
	assert_int_equal(a->vf_index, 1);
	assert_int_equal(a->vendor_id, 0x1b36);
	assert_int_equal(a->device_id, 0x0011);
	assert_true(has_reason(a, HQIO_LEVEL_NOTE, "virtual function 1 of PF 0000:01:00.0"));
	free(a);
	hqio_system_free(&sys);
}

static void test_malformed_device_is_unsafe(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_cfgb b;
	endpoint(&b, true, true, 0);
	b.cfg[0x81] = 0x40; /* PCIe -> PM: loop */
	add(&sys, &b, 4096, 0, 3, 0);
	hqio_system_decode(&sys, NULL);
	struct hqio_assessment *a = assess(&sys, get(&sys, 0, 3, 0));
	assert_int_equal(a->verdict, HQIO_LEVEL_UNSAFE);
	assert_true(has_reason(a, HQIO_LEVEL_UNSAFE, "malformed"));
	free(a);
	hqio_system_free(&sys);
}

static void test_absent_device_is_unsafe_not_crash(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_cfgb b;
	memset(b.cfg, 0xff, sizeof(b.cfg));
	add(&sys, &b, 4096, 0, 3, 0);
	hqio_system_decode(&sys, NULL);
	struct hqio_assessment *a = assess(&sys, get(&sys, 0, 3, 0));
	assert_int_equal(a->verdict, HQIO_LEVEL_UNSAFE);
	assert_true(has_reason(a, HQIO_LEVEL_UNSAFE, "no device"));
	free(a);
	hqio_system_free(&sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_topology_finds_parent_bridge),
		cmocka_unit_test(test_flr_pm_bus_methods_with_reasons),
		cmocka_unit_test(test_sysfs_isolated_flr_device_is_ready),
		cmocka_unit_test(test_linux_reset_method_difference_is_noted),
		cmocka_unit_test(test_no_reset_method_is_unsafe),
		cmocka_unit_test(test_bus_reset_only_device_is_degraded),
		cmocka_unit_test(test_conventional_intx_device_behind_bridge),
		cmocka_unit_test(test_host_bridge_is_unsafe),
		cmocka_unit_test(test_bus_reset_shared_with_same_group_is_usable),
		cmocka_unit_test(test_bus_reset_shared_with_other_owner_is_refused),
		cmocka_unit_test(test_no_iommu_group_is_unsafe),
		cmocka_unit_test(test_missing_acs_on_root_port_degrades_a_dump),
		cmocka_unit_test(test_unprivileged_read_is_reported_not_absent),
		cmocka_unit_test(test_vf_takes_ids_from_pf_in_system),
		cmocka_unit_test(test_malformed_device_is_unsafe),
		cmocka_unit_test(test_absent_device_is_unsafe_not_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
