/*
 * VFIO backend and sysfs binding tests that run without VFIO: a fabricated
 * sysfs tree (devices, drivers, IOMMU groups, reset_method, config) and
 * an empty /dev/vfio. They check the error sentences (no /dev/vfio, IOMMU
 * off, host driver bound, group not viable and who makes it so), the
 * reset_method, binding-record and raw-config helpers, and argument
 * validation. The paths that need a real container run in the test bed
 * (testbed/tests/vfio_*.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/devices.h"
#include "hqio/reset.h"
#include "sim.h"
#include "sysfs.h"
#include "vfio.h"

#include "shell_fixture.h"

static struct hqio_bdf bdf(const char *s)
{
	struct hqio_bdf b;
	assert_int_equal(hqio_bdf_parse(s, &b), 0);
	return b;
}

/* A device directory, its bus/pci/devices link, optionally a driver and an
 * IOMMU group. */
static void add_dev(const char *name, const char *driver, int group)
{
	sh("mkdir -p %s/devices/pci0000:00/%s %s/bus/pci/devices", root, name, root);
	sh("ln -sfn ../../../devices/pci0000:00/%s %s/bus/pci/devices/%s", name, root, name);
	sh("printf '(null)\\n' > %s/devices/pci0000:00/%s/driver_override", root, name);
	if (driver) {
		sh("mkdir -p %s/bus/pci/drivers/%s", root, driver);
		sh("ln -sfn ../../../bus/pci/drivers/%s %s/devices/pci0000:00/%s/driver", driver,
		   root, name);
	}
	if (group >= 0) {
		sh("mkdir -p %s/kernel/iommu_groups/%d/devices", root, group);
		sh("ln -sfn ../../../../kernel/iommu_groups/%d "
		   "%s/devices/pci0000:00/%s/iommu_group",
		   group, root, name);
		sh("ln -sfn ../../../../devices/pci0000:00/%s %s/kernel/iommu_groups/%d/devices/%s",
		   name, root, group, name);
	}
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/hqio-test-vfio-%d", (int)getpid());
	sh("rm -rf %s && mkdir -p %s/kernel/iommu_groups %s/dev-vfio", root, root, root);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", root);
	return 0;
}

static void test_no_dev_vfio(void **state)
{
	(void)state;
	char dv[300];
	snprintf(dv, sizeof(dv), "%s/dev-vfio", root);
	struct hqio_vfio_paths p = { .sys = root, .dev_vfio = dv };
	struct hqio_vfio *v = (struct hqio_vfio *)1;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_vfio_open(&p, &v, &err), -ENODEV);
	assert_null(v);
	assert_non_null(strstr(err.msg, "vfio modules are not loaded"));
	hqio_vfio_close(NULL); /* harmless */
}

static void test_iommu_off(void **state)
{
	(void)state;
	add_dev("0000:00:03.0", "vfio-pci", -1);
	int g = -1;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_vfio_check_assignable(root, bdf("00:03.0"), &g, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "the IOMMU is off"));
	/* With groups present, a device without one is named as such. */
	add_dev("0000:00:04.0", "vfio-pci", 7);
	assert_int_equal(hqio_vfio_check_assignable(root, bdf("00:03.0"), &g, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "is in no IOMMU group"));
}

static void test_no_device(void **state)
{
	(void)state;
	int g;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_vfio_check_assignable(root, bdf("00:1f.7"), &g, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "no PCI device 0000:00:1f.7"));
}

static void test_host_driver(void **state)
{
	(void)state;
	add_dev("0000:00:05.0", "e1000e", 5);
	int g;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_vfio_check_assignable(root, bdf("00:05.0"), &g, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "bound to the host driver e1000e"));
	assert_non_null(strstr(err.msg, "hqio vfio bind 0000:00:05.0"));
	add_dev("0000:00:06.0", NULL, 6);
	assert_int_equal(hqio_vfio_check_assignable(root, bdf("00:06.0"), &g, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "bound to no driver"));
}

static void test_group_viability(void **state)
{
	(void)state;
	add_dev("0000:00:1b.0", "vfio-pci", 9);
	add_dev("0000:00:1b.1", "snd_hda_intel", 9);
	add_dev("0000:00:1b.2", NULL, 9); /* no driver: allowed */
	int g = -1;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_vfio_check_assignable(root, bdf("00:1b.0"), &g, &err), -EBUSY);
	assert_int_equal(g, 9);
	assert_non_null(strstr(err.msg, "IOMMU group 9 of 0000:00:1b.0 is not viable"));
	assert_non_null(strstr(err.msg, "0000:00:1b.1 (driver snd_hda_intel)"));
	assert_null(strstr(err.msg, "1b.2"));
	/* Negative control: with the other member on vfio-pci it is viable. */
	sh("ln -sfn ../../../bus/pci/drivers/vfio-pci %s/devices/pci0000:00/0000:00:1b.1/driver",
	   root);
	assert_int_equal(hqio_vfio_check_assignable(root, bdf("00:1b.0"), &g, &err), 0);
}

static void test_reset_method(void **state)
{
	(void)state;
	add_dev("0000:00:07.0", "vfio-pci", 11);
	char buf[64];
	struct hqio_error err = { 0 };
	/* Hidden attribute: Linux has no method. */
	assert_int_equal(hqio_sysfs_reset_method_get(root, bdf("00:07.0"), buf, sizeof(buf), &err),
			 0);
	assert_string_equal(buf, "");
	assert_int_equal(hqio_sysfs_reset_method_set(root, bdf("00:07.0"), "flr", &err),
			 -EOPNOTSUPP);
	assert_non_null(strstr(err.msg, "method not supported"));
	sh("printf 'flr bus\\n' > %s/devices/pci0000:00/0000:00:07.0/reset_method", root);
	assert_int_equal(hqio_sysfs_reset_method_get(root, bdf("00:07.0"), buf, sizeof(buf), &err),
			 0);
	assert_string_equal(buf, "flr bus");
	assert_int_equal(hqio_sysfs_reset_method_set(root, bdf("00:07.0"), "bus", &err), 0);
	assert_int_equal(hqio_sysfs_reset_method_get(root, bdf("00:07.0"), buf, sizeof(buf), &err),
			 0);
	assert_string_equal(buf, "bus");
}

static void test_binding_record(void **state)
{
	(void)state;
	char path[300];
	snprintf(path, sizeof(path), "%s/binding", root);
	struct hqio_sysfs_binding b = { .driver = "e1000e", .override = "" }, l = { 0 };
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_sysfs_binding_save(path, &b, &err), 0);
	assert_int_equal(hqio_sysfs_binding_load(path, &l, &err), 0);
	assert_string_equal(l.driver, "e1000e");
	assert_string_equal(l.override, "");
	sh("printf 'garbage' > %s", path);
	assert_int_equal(hqio_sysfs_binding_load(path, &l, &err), -EINVAL);
	snprintf(path, sizeof(path), "%s/none", root);
	assert_int_equal(hqio_sysfs_binding_load(path, &l, &err), -ENOENT);
}

static void test_bind_without_vfio_pci(void **state)
{
	(void)state;
	add_dev("0000:00:08.0", NULL, 12);
	struct hqio_sysfs_binding b;
	struct hqio_error err = { 0 };
	sh("rm -rf %s/bus/pci/drivers/vfio-pci", root);
	assert_int_equal(hqio_sysfs_bind_vfio(root, bdf("00:08.0"), &b, &err), -ENODEV);
	assert_non_null(strstr(err.msg, "vfio-pci driver is not loaded"));
	assert_int_equal(hqio_sysfs_bind_vfio(root, bdf("00:1f.6"), &b, &err), -ENOENT);
}

static void test_raw_config(void **state)
{
	(void)state;
	add_dev("0000:00:09.0", "vfio-pci", 13);
	sh("printf '\\064\\022\\350\\021\\006\\000' > %s/devices/pci0000:00/0000:00:09.0/config",
	   root);
	uint32_t v = 0;
	assert_int_equal(hqio_sysfs_config_read(root, bdf("00:09.0"), 0, 4, &v), 0);
	assert_int_equal(v, 0x11e81234);
	assert_int_equal(hqio_sysfs_config_read(root, bdf("00:09.0"), 4, 2, &v), 0);
	assert_int_equal(v, 6);
	assert_int_equal(hqio_sysfs_config_write(root, bdf("00:09.0"), 4, 2, 0x0407), 0);
	assert_int_equal(hqio_sysfs_config_read(root, bdf("00:09.0"), 4, 2, &v), 0);
	assert_int_equal(v, 0x0407);
	/* Bad sizes, misalignment and reads past the end are refused. */
	assert_int_equal(hqio_sysfs_config_read(root, bdf("00:09.0"), 0, 3, &v), -EINVAL);
	assert_int_equal(hqio_sysfs_config_read(root, bdf("00:09.0"), 1, 2, &v), -EINVAL);
	assert_int_equal(hqio_sysfs_config_read(root, bdf("00:09.0"), 8, 4, &v), -EIO);
	assert_int_equal(hqio_sysfs_config_read(root, bdf("00:1f.5"), 0, 4, &v), -ENOENT);
}

static void test_sriov_errors(void **state)
{
	(void)state;
	add_dev("0000:00:0a.0", "vfio-pci", 14);
	unsigned n = 0;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_sysfs_sriov_numvfs(root, bdf("00:0a.0"), &n, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "not an SR-IOV physical function"));
	sh("printf '2\\n' > %s/devices/pci0000:00/0000:00:0a.0/sriov_numvfs", root);
	assert_int_equal(hqio_sysfs_sriov_numvfs(root, bdf("00:0a.0"), &n, &err), 0);
	assert_int_equal(n, 2);
}

/* ---- HQIO_HOST_CFG_RESTORED on the simulator ------------------------- */

/* Reset f through lib/reset with the given host_ops flags, no hooks. */
static void sim_reset(struct sim_platform *p, struct sim_fn *f, unsigned flags,
		      struct hqio_reset_result *res)
{
	struct hqio_host_ops ops;
	sim_host_ops(p, &ops);
	ops.flags = flags;
	struct hqio_bdf b = sim_fn_bdf(f);
	/* A host-assigned BAR 0 and decode on, as firmware leaves it. */
	assert_int_equal(sim_cfg_write(p, b, HQIO_PCI_BASE_ADDRESS_0, 4, 0xfe000000u), 0);
	assert_int_equal(sim_cfg_write(p, b, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY), 0);
	struct hqio_system sys = { 0 };
	struct hqio_error err = { 0 };
	assert_int_equal(sim_snapshot(p, &sys), 0);
	struct hqio_plan_input in = {
		.sys = &sys, .node = hqio_system_find(&sys, b), .owner = 1, .force = true
	};
	assert_non_null(in.node);
	struct hqio_reset_plan pl;
	assert_int_equal(hqio_reset_plan(&in, &pl, &err), 0);
	hqio_system_free(&sys);
	hqio_reset_execute(&ops, &pl, NULL, NULL, res, &err);
}

static void test_cfg_restored_flag(void **state)
{
	(void)state;
	struct sim_platform *p = sim_platform_new(7, 64ULL << 20);
	assert_non_null(p);
	struct sim_reference ref;
	assert_int_equal(sim_build_reference_ex(p, &ref), 0);
	struct sim_fn *with_msi = NULL, *without = NULL;
	struct sim_fn *cands[] = { ref.nvme, ref.nic[0], ref.hda, ref.edu, ref.gpu };
	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		if (cands[i]->msi && !with_msi)
			with_msi = cands[i];
		if (!cands[i]->msi && !without)
			without = cands[i];
	}
	assert_non_null(with_msi);
	assert_non_null(without);
	struct hqio_reset_result *res = calloc(1, sizeof(*res));
	assert_non_null(res);

	/* Negative control: without the flag the configuration canaries
	 * (BARs, Command, ...) verify a function that has no MSI. */
	sim_reset(p, without, 0, res);
	assert_int_equal(res->rc, 0);
	assert_true(res->attempts[res->n_attempts - 1].verified);
	/* With it those canaries do not count: nothing left to verify with. */
	sim_reset(p, without, HQIO_HOST_CFG_RESTORED, res);
	assert_int_not_equal(res->rc, 0);
	assert_true(res->quarantined);
	assert_non_null(strstr(res->msg, "no canary could be armed"));
	/* The MSI address/data canary still counts. */
	sim_reset(p, with_msi, HQIO_HOST_CFG_RESTORED, res);
	assert_int_equal(res->rc, 0);
	free(res);
	sim_platform_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_dev_vfio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iommu_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_driver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_viability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binding_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_without_vfio_pci, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sriov_errors, setup, teardown),
		cmocka_unit_test(test_cfg_restored_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
