/*
 * Linux sysfs reader: fills a struct hqio_system from /sys/bus/pci/devices
 * (configuration images, BAR sizes, topology, IOMMU groups, drivers and
 * Linux's reset_method).
 */
#ifndef HQIO_HOST_SYSFS_H
#define HQIO_HOST_SYSFS_H

#include "hqio/inspect.h"

#define HQIO_SYSFS_PCI_DEVICES "/sys/bus/pci/devices"

/* Read every device under dir (HQIO_SYSFS_PCI_DEVICES when NULL), or only
 * those in only[0..n_only). A BDF in only that does not exist is an error
 * (-ENOENT). Returns 0 or a negative errno with err set. */
int hqio_sysfs_read(const char *dir, const struct hqio_bdf *only, size_t n_only,
		    struct hqio_system *sys, struct hqio_error *err);

/* Read a whole small file into buf (NUL-terminated); returns bytes or -errno. */
long hqio_read_file(const char *path, char *buf, size_t len);

/* ---- binding, IOMMU groups, reset_method, SR-IOV, raw config ---------
 * sys is the sysfs mount point ("/sys" when NULL); tests pass a fake tree. */
#define HQIO_SYSFS_ROOT	     "/sys"
#define HQIO_SYSFS_MAX_GROUP 64 /* members of one IOMMU group we report */

/* The driver bound to bdf ("" when none); 0 or -errno (-ENOENT: no device). */
int hqio_sysfs_driver(const char *sys, struct hqio_bdf bdf, char *buf, size_t len);

/* The IOMMU group of bdf. -ENODEV with a sentence when the IOMMU is off
 * (no /sys/kernel/iommu_groups entries) or the device has no group. */
int hqio_sysfs_iommu_group(const char *sys, struct hqio_bdf bdf, int *group,
			   struct hqio_error *err);

/* Members of IOMMU group `group` (sorted as the directory lists them). */
int hqio_sysfs_group_members(const char *sys, int group, struct hqio_bdf *out, size_t max,
			     size_t *n, struct hqio_error *err);

/* What a bind changed, so that release can put it back. */
struct hqio_sysfs_binding {
	struct hqio_bdf bdf;
	char driver[64];   /* the driver before the bind ("" none) */
	char override[64]; /* driver_override before the bind ("" none) */
};

/* Bind bdf to vfio-pci through driver_override (Documentation/ABI/testing/
 * sysfs-bus-pci): record the current driver and override in *b, set the
 * override, unbind, and ask drivers_probe. Already on vfio-pci: *b records
 * that and nothing changes. */
int hqio_sysfs_bind_vfio(const char *sys, struct hqio_bdf bdf, struct hqio_sysfs_binding *b,
			 struct hqio_error *err);
/* Undo a bind: unbind from vfio-pci, restore driver_override, and bind
 * the recorded driver again (nothing when there was none). */
int hqio_sysfs_release(const char *sys, const struct hqio_sysfs_binding *b, struct hqio_error *err);
/* Keep a binding across processes (a small text file "driver\noverride\n"). */
int hqio_sysfs_binding_save(const char *path, const struct hqio_sysfs_binding *b,
			    struct hqio_error *err);
int hqio_sysfs_binding_load(const char *path, struct hqio_sysfs_binding *b, struct hqio_error *err);

/* Linux's reset_method (Linux >= 5.15): read it ("" when the attribute is
 * hidden: no method), or write one method name or "default". */
int hqio_sysfs_reset_method_get(const char *sys, struct hqio_bdf bdf, char *buf, size_t len,
				struct hqio_error *err);
int hqio_sysfs_reset_method_set(const char *sys, struct hqio_bdf bdf, const char *methods,
				struct hqio_error *err);

/* sriov_numvfs of a PF. */
int hqio_sysfs_sriov_numvfs(const char *sys, struct hqio_bdf bdf, unsigned *n,
			    struct hqio_error *err);
int hqio_sysfs_sriov_set_numvfs(const char *sys, struct hqio_bdf bdf, unsigned n,
				struct hqio_error *err);

/* Raw configuration space access through `config` (root only for bytes
 * past 64 and for writes): reaches the hardware even while vfio-pci
 * virtualizes the register for its user. size 1, 2 or 4. */
int hqio_sysfs_config_read(const char *sys, struct hqio_bdf bdf, uint16_t off, unsigned size,
			   uint32_t *val);
int hqio_sysfs_config_write(const char *sys, struct hqio_bdf bdf, uint16_t off, unsigned size,
			    uint32_t val);

#endif
