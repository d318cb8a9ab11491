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

#endif
