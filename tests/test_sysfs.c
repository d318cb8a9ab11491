/*
 * sysfs reader tests on a fabricated tree laid out like Linux's:
 * /devices/pci0000:00/<root port>/<endpoint>, bus/pci/devices symlinks,
 * config, resource, driver, iommu_group, physfn and reset_method.
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
#include <sys/stat.h>
#include <cmocka.h>

#include "hqio/cfgbuild.h"
#include "sysfs.h"

#include "shell_fixture.h"

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void make_dev(const char *rel, const char *bdf, const struct hqio_cfgb *b, size_t len)
{
	char path[512];
	sh("mkdir -p %s/devices/%s", root, rel);
	snprintf(path, sizeof(path), "%s/devices/%s/config", root, rel);
	write_file(path, b->cfg, len);
	sh("ln -s ../../../devices/%s %s/bus/pci/devices/%s", rel, root, bdf);
}

static int setup(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	snprintf(root, sizeof(root), "/tmp/hqio-sysfs-test-%d", (int)getpid());
	sh("rm -rf %s && mkdir -p %s/bus/pci/devices %s/kernel/iommu_groups/3 "
	   "%s/kernel/iommu_groups/4 "
	   "%s/bus/pci/drivers/vfio-pci",
	   root, root, root, root, root);
	/* root port 00:1c.0 -> bus 1 */
	hqio_cfgb_init(&b, 0x8086, 0x7c10, 0x060400, 0x01);
	hqio_cfgb_w8(&b, 0x19, 1);
	hqio_cfgb_w8(&b, 0x1a, 1);
	make_dev("pci0000:00/0000:00:1c.0", "0000:00:1c.0", &b, 4096);
	sh("ln -s ../../../../kernel/iommu_groups/3 %s/devices/pci0000:00/0000:00:1c.0/iommu_group",
	   root);
	/* endpoint 01:00.0 with FLR */
	hqio_cfgb_init(&b, 0x1b36, 0x0010, 0x010802, 0);
	hqio_cfgb_cap(&b, 0x40, 0x10);
	hqio_cfgb_w16(&b, 0x42, 0x0002);
	hqio_cfgb_w32(&b, 0x44, 0x10000000);
	hqio_cfgb_cap(&b, 0x60, 0x11);
	hqio_cfgb_w32(&b, 0x10, 0xfe800004);
	make_dev("pci0000:00/0000:00:1c.0/0000:01:00.0", "0000:01:00.0", &b, 4096);
	char p[512];
	snprintf(p, sizeof(p), "%s/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/resource", root);
	const char *res = "0x00000000fe800000 0x00000000fe803fff 0x0000000000140204\n"
			  "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			  "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			  "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			  "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			  "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			  "0x00000000fe840000 0x00000000fe87ffff 0x0000000000046200\n";
	write_file(p, res, strlen(res));
	snprintf(p, sizeof(p), "%s/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/reset_method",
		 root);
	write_file(p, "flr bus\n", 8);
	sh("ln -s ../../../../../kernel/iommu_groups/4 "
	   "%s/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/iommu_group",
	   root);
	sh("ln -s ../../../../../bus/pci/drivers/vfio-pci "
	   "%s/devices/pci0000:00/0000:00:1c.0/0000:01:00.0/driver",
	   root);
	/* a VF 01:00.1 pointing at its PF */
	hqio_cfgb_init(&b, 0xffff, 0xffff, 0x010802, 0);
	make_dev("pci0000:00/0000:00:1c.0/0000:01:00.1", "0000:01:00.1", &b, 4096);
	sh("ln -s ../0000:01:00.0 %s/devices/pci0000:00/0000:00:1c.0/0000:01:00.1/physfn", root);
	/* a legacy device on the root bus with an old kernel's `reset` only */
	hqio_cfgb_init(&b, 0x10ec, 0x8139, 0x020000, 0);
	make_dev("pci0000:00/0000:00:03.0", "0000:00:03.0", &b, 256);
	snprintf(p, sizeof(p), "%s/devices/pci0000:00/0000:00:03.0/reset", root);
	write_file(p, "", 0);
	sh("touch %s/bus/pci/devices/not-a-device", root);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", root);
	return 0;
}

static struct hqio_pci_node *find(struct hqio_system *sys, const char *bdf)
{
	struct hqio_bdf b;
	assert_int_equal(hqio_bdf_parse(bdf, &b), 0);
	struct hqio_pci_node *n = hqio_system_find(sys, b);
	assert_non_null(n);
	return n;
}

static void read_tree(struct hqio_system *sys)
{
	char dir[300];
	struct hqio_error err = { 0 };
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", root);
	assert_int_equal(hqio_sysfs_read(dir, NULL, 0, sys, &err), 0);
	assert_int_equal(hqio_system_decode(sys, &err), 0);
}

static void test_reads_every_device_and_skips_other_entries(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	read_tree(&sys);
	assert_int_equal(sys.n, 4);
	assert_true(sys.sysfs);
	assert_false(sys.cfg_limited);
	hqio_system_free(&sys);
}

static void test_topology_from_device_path(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	read_tree(&sys);
	struct hqio_pci_node *ep = find(&sys, "0000:01:00.0"), *rp = find(&sys, "0000:00:1c.0");
	assert_true(ep->parent_known);
	assert_false(ep->on_root_bus);
	assert_int_equal(ep->parent.dev, 0x1c);
	assert_true(rp->parent_known);
	assert_true(rp->on_root_bus);
	hqio_system_free(&sys);
}

static void test_attributes_driver_group_reset_method_sizes(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	read_tree(&sys);
	struct hqio_pci_node *ep = find(&sys, "0000:01:00.0");
	assert_string_equal(ep->driver, "vfio-pci");
	assert_true(ep->iommu_known);
	assert_int_equal(ep->iommu_group, 4);
	assert_true(ep->reset_method_known);
	assert_string_equal(ep->reset_method, "flr bus");
	assert_true(ep->have_sizes);
	assert_int_equal(ep->sizes.bar[0], 0x4000);
	assert_int_equal(ep->sizes.rom, 0x40000);
	assert_int_equal(ep->cfg_len, 4096);
	assert_int_equal(ep->cfg_size, 4096);
	assert_true(ep->info->bars[0].size_known);
	assert_int_equal(ep->info->bars[0].size, 0x4000);
	hqio_system_free(&sys);
}

static void test_missing_group_and_old_kernel_reset(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	read_tree(&sys);
	struct hqio_pci_node *d = find(&sys, "0000:00:03.0");
	assert_true(d->iommu_known);
	assert_int_equal(d->iommu_group, -1);
	assert_false(d->reset_method_known); /* `reset` without `reset_method` */
	assert_string_equal(d->driver, "");
	struct hqio_pci_node *rp = find(&sys, "0000:00:1c.0");
	assert_true(rp->reset_method_known); /* neither file: Linux found none */
	assert_string_equal(rp->reset_method, "");
	hqio_system_free(&sys);
}

static void test_vf_physfn_link(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	read_tree(&sys);
	struct hqio_pci_node *vf = find(&sys, "0000:01:00.1");
	assert_true(vf->is_vf_link);
	assert_true(vf->physfn_known);
	assert_int_equal(vf->physfn.fn, 0);
	hqio_system_free(&sys);
}

static void test_unknown_bdf_is_an_error(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_error err = { 0 };
	struct hqio_bdf b = { .bus = 9 };
	char dir[300];
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", root);
	assert_int_equal(hqio_sysfs_read(dir, &b, 1, &sys, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "0000:09:00.0"));
	hqio_system_free(&sys);
}

static void test_missing_directory_is_an_error(void **state)
{
	(void)state;
	struct hqio_system sys = { 0 };
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_sysfs_read("/nonexistent/hqio", NULL, 0, &sys, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/hqio"));
	hqio_system_free(&sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_every_device_and_skips_other_entries),
		cmocka_unit_test(test_topology_from_device_path),
		cmocka_unit_test(test_attributes_driver_group_reset_method_sizes),
		cmocka_unit_test(test_missing_group_and_old_kernel_reset),
		cmocka_unit_test(test_vf_physfn_link),
		cmocka_unit_test(test_unknown_bdf_is_an_error),
		cmocka_unit_test(test_missing_directory_is_an_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
