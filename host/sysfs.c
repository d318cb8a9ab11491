/*
 * Linux sysfs PCI reader (Documentation/ABI/testing/sysfs-bus-pci).
 *
 * `config` returns the whole configuration space to root but only the
 * first 64 bytes to other users; the file size still says how large the
 * space is, so a short read is recorded (cfg_len < cfg_size) rather than
 * taken as absent capabilities.
 */
#include "sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read up to len bytes from fd; returns the count or -errno. */
static long read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (long)got;
}

long hqio_read_file(const char *path, char *buf, size_t len)
{
	if (len == 0)
		return -EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	long got = read_all(fd, buf, len - 1);
	close(fd);
	buf[got > 0 ? got : 0] = '\0';
	return got;
}

static int read_config(const char *devdir, struct hqio_pci_node *n)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/config", devdir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		n->cfg_size = st.st_size > HQIO_PCI_CFG_EXP_SIZE ? HQIO_PCI_CFG_EXP_SIZE
								 : (size_t)st.st_size;
	long got = read_all(fd, n->cfg, sizeof(n->cfg));
	close(fd);
	if (got < 0)
		return (int)got;
	n->cfg_len = (size_t)got;
	return 0;
}

/* resource: one "start end flags" line per BAR 0-5, then the ROM. */
static void read_resources(const char *devdir, struct hqio_pci_node *n)
{
	char path[PATH_MAX], buf[2048];
	snprintf(path, sizeof(path), "%s/resource", devdir);
	if (hqio_read_file(path, buf, sizeof(buf)) <= 0)
		return;
	char *line = buf;
	for (int i = 0; i < 7 && line && *line; i++) {
		unsigned long long start, end, flags;
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			return;
		uint64_t size = end > start || (end == start && start) ? end - start + 1 : 0;
		if (i < 6)
			n->sizes.bar[i] = size;
		else
			n->sizes.rom = size;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	n->have_sizes = true;
}

static int link_base(const char *devdir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", devdir, name);
	ssize_t r = readlink(path, target, sizeof(target) - 1);
	if (r < 0)
		return -errno;
	target[r] = '\0';
	const char *b = strrchr(target, '/');
	snprintf(out, len, "%s", b ? b + 1 : target);
	return 0;
}

static void read_topology(const char *devdir, struct hqio_pci_node *n)
{
	char real[PATH_MAX];
	if (!realpath(devdir, real))
		return;
	char *slash = strrchr(real, '/');
	if (!slash)
		return;
	*slash = '\0';
	const char *parent = strrchr(real, '/');
	parent = parent ? parent + 1 : real;
	if (hqio_bdf_parse(parent, &n->parent) == 0) {
		n->parent_known = true;
	} else if (strncmp(parent, "pci", 3) == 0) {
		/* /sys/devices/pciDDDD:BB: the host bridge's root bus */
		n->parent_known = true;
		n->on_root_bus = true;
	}
}

static void read_attrs(const char *devdir, struct hqio_pci_node *n)
{
	char buf[256], path[PATH_MAX];

	n->sysfs = true;
	read_resources(devdir, n);
	read_topology(devdir, n);
	if (link_base(devdir, "driver", buf, sizeof(buf)) == 0)
		snprintf(n->driver, sizeof(n->driver), "%s", buf);
	n->iommu_known = true;
	n->iommu_group = -1;
	if (link_base(devdir, "iommu_group", buf, sizeof(buf)) == 0) {
		char *end;
		long g = strtol(buf, &end, 10);
		if (*end == '\0' && g >= 0 && g < INT_MAX)
			n->iommu_group = (int)g;
	}
	if (link_base(devdir, "physfn", buf, sizeof(buf)) == 0 &&
	    hqio_bdf_parse(buf, &n->physfn) == 0) {
		n->physfn_known = true;
		n->is_vf_link = true;
	}
	/* reset_method (Linux >= 5.15) is hidden when Linux found no method,
	 * and so is `reset`; `reset` without `reset_method` is an older kernel. */
	snprintf(path, sizeof(path), "%s/reset_method", devdir);
	long r = hqio_read_file(path, buf, sizeof(buf));
	if (r >= 0) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(n->reset_method, sizeof(n->reset_method), "%s", buf);
		n->reset_method_known = true;
	} else if (r == -ENOENT) {
		snprintf(path, sizeof(path), "%s/reset", devdir);
		if (access(path, F_OK) != 0) {
			n->reset_method[0] = '\0';
			n->reset_method_known = true;
		}
	}
}

static int read_one(const char *dir, const char *name, struct hqio_system *sys,
		    struct hqio_error *err)
{
	char devdir[PATH_MAX];
	struct hqio_pci_node *n = calloc(1, sizeof(*n));
	if (!n)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	if (hqio_bdf_parse(name, &n->bdf) != 0) {
		free(n);
		return 0; /* not a device entry */
	}
	snprintf(devdir, sizeof(devdir), "%s/%s", dir, name);
	int rc = read_config(devdir, n);
	if (rc < 0) {
		hqio_error_set(err, rc, "%s/config: %s", devdir, strerror(-rc));
		free(n);
		return rc;
	}
	read_attrs(devdir, n);
	rc = hqio_system_add(sys, n) ? 0 : hqio_error_set(err, -ENOMEM, "out of memory");
	free(n);
	return rc;
}

int hqio_sysfs_read(const char *dir, const struct hqio_bdf *only, size_t n_only,
		    struct hqio_system *sys, struct hqio_error *err)
{
	if (!dir)
		dir = HQIO_SYSFS_PCI_DEVICES;
	sys->sysfs = true;
	if (n_only) {
		for (size_t i = 0; i < n_only; i++) {
			char name[HQIO_BDF_STR_MAX], path[PATH_MAX];
			hqio_bdf_format(only[i], name, sizeof(name));
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			if (access(path, F_OK) != 0)
				return hqio_error_set(err, -ENOENT, "no PCI device %s in %s", name,
						      dir);
		}
	}
	/* Read all devices even when a few were asked for: topology, bus
	 * neighbours and IOMMU group members need them. */
	DIR *d = opendir(dir);
	if (!d)
		return hqio_error_set(err, -errno, "%s: %s", dir, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		rc = read_one(dir, de->d_name, sys, err);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Binding, IOMMU groups, reset_method, SR-IOV, raw config             */
/* ------------------------------------------------------------------ */

#define VFIO_PCI_DRIVER "vfio-pci"

static const char *root_of(const char *sys)
{
	return sys ? sys : HQIO_SYSFS_ROOT;
}

static void dev_path(const char *sys, struct hqio_bdf bdf, const char *attr, char *out, size_t len)
{
	char b[HQIO_BDF_STR_MAX];
	hqio_bdf_format(bdf, b, sizeof(b));
	snprintf(out, len, "%s/bus/pci/devices/%s%s%s", root_of(sys), b, attr ? "/" : "",
		 attr ? attr : "");
}

/* Write a whole string to a sysfs attribute; 0 or -errno. */
static int write_attr(const char *path, const char *s)
{
	/* O_TRUNC means nothing to sysfs; it keeps fabricated trees honest. */
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(s);
	ssize_t w = write(fd, s, len);
	int rc = w < 0 ? -errno : (size_t)w == len ? 0 : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static const char *why_errno(int rc)
{
	return rc == -EACCES || rc == -EPERM ? "permission denied (run as root)" : strerror(-rc);
}

int hqio_sysfs_driver(const char *sys, struct hqio_bdf bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	dev_path(sys, bdf, NULL, path, sizeof(path));
	if (access(path, F_OK) != 0)
		return -ENOENT;
	buf[0] = '\0';
	int rc = link_base(path, "driver", buf, len);
	return rc == -ENOENT ? 0 : rc;
}

int hqio_sysfs_iommu_group(const char *sys, struct hqio_bdf bdf, int *group, struct hqio_error *err)
{
	char path[PATH_MAX], buf[64], b[HQIO_BDF_STR_MAX];
	hqio_bdf_format(bdf, b, sizeof(b));
	dev_path(sys, bdf, NULL, path, sizeof(path));
	if (access(path, F_OK) != 0)
		return hqio_error_set(err, -ENOENT, "no PCI device %s", b);
	if (link_base(path, "iommu_group", buf, sizeof(buf)) != 0) {
		char groups[PATH_MAX];
		snprintf(groups, sizeof(groups), "%s/kernel/iommu_groups", root_of(sys));
		DIR *d = opendir(groups);
		bool any = false;
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL)
			any = any || de->d_name[0] != '.';
		if (d)
			closedir(d);
		if (!any)
			return hqio_error_set(err, -ENODEV,
					      "the IOMMU is off: %s has no entries (enable VT-d/"
					      "AMD-Vi in the firmware and boot with intel_iommu=on "
					      "or amd_iommu=on)",
					      groups);
		return hqio_error_set(err, -ENODEV,
				      "%s is in no IOMMU group: the IOMMU does not translate "
				      "its DMA, it cannot be assigned",
				      b);
	}
	char *end;
	long g = strtol(buf, &end, 10);
	if (*end != '\0' || g < 0 || g > INT_MAX)
		return hqio_error_set(err, -EINVAL, "%s: odd iommu_group link '%s'", b, buf);
	*group = (int)g;
	return 0;
}

int hqio_sysfs_group_members(const char *sys, int group, struct hqio_bdf *out, size_t max,
			     size_t *n, struct hqio_error *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", root_of(sys), group);
	DIR *d = opendir(path);
	if (!d)
		return hqio_error_set(err, -errno, "%s: %s", path, strerror(errno));
	struct dirent *de;
	*n = 0;
	while ((de = readdir(d)) != NULL) {
		struct hqio_bdf b;
		if (de->d_name[0] == '.' || hqio_bdf_parse(de->d_name, &b) != 0)
			continue;
		if (*n < max)
			out[*n] = b;
		(*n)++;
	}
	closedir(d);
	if (*n > max)
		*n = max;
	return 0;
}

static void read_override(const char *sys, struct hqio_bdf bdf, char *buf, size_t len)
{
	char path[PATH_MAX];
	dev_path(sys, bdf, "driver_override", path, sizeof(path));
	if (hqio_read_file(path, buf, len) < 0)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!strcmp(buf, "(null)"))
		buf[0] = '\0';
}

static int unbind(const char *sys, struct hqio_bdf bdf, const char *drv, struct hqio_error *err)
{
	char path[PATH_MAX], b[HQIO_BDF_STR_MAX];
	hqio_bdf_format(bdf, b, sizeof(b));
	dev_path(sys, bdf, "driver/unbind", path, sizeof(path));
	int rc = write_attr(path, b);
	if (rc)
		return hqio_error_set(err, rc, "cannot unbind %s from %s: %s", b, drv,
				      why_errno(rc));
	return 0;
}

int hqio_sysfs_bind_vfio(const char *sys, struct hqio_bdf bdf, struct hqio_sysfs_binding *b,
			 struct hqio_error *err)
{
	char path[PATH_MAX], name[HQIO_BDF_STR_MAX], now[64];
	hqio_bdf_format(bdf, name, sizeof(name));
	memset(b, 0, sizeof(*b));
	b->bdf = bdf;
	int rc = hqio_sysfs_driver(sys, bdf, b->driver, sizeof(b->driver));
	if (rc)
		return hqio_error_set(err, rc, "no PCI device %s", name);
	read_override(sys, bdf, b->override, sizeof(b->override));
	if (!strcmp(b->driver, VFIO_PCI_DRIVER))
		return 0;
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s", root_of(sys), VFIO_PCI_DRIVER);
	if (access(path, F_OK) != 0)
		return hqio_error_set(err, -ENODEV,
				      "the vfio-pci driver is not loaded (no %s): load the vfio, "
				      "vfio_iommu_type1 and vfio-pci modules",
				      path);
	dev_path(sys, bdf, "driver_override", path, sizeof(path));
	if ((rc = write_attr(path, VFIO_PCI_DRIVER)))
		return hqio_error_set(err, rc, "cannot set %s driver_override: %s", name,
				      why_errno(rc));
	if (b->driver[0] && (rc = unbind(sys, bdf, b->driver, err)))
		return rc;
	snprintf(path, sizeof(path), "%s/bus/pci/drivers_probe", root_of(sys));
	rc = write_attr(path, name);
	if (hqio_sysfs_driver(sys, bdf, now, sizeof(now)) == 0 && !strcmp(now, VFIO_PCI_DRIVER))
		return 0;
	return hqio_error_set(err, rc ? rc : -EIO,
			      "%s did not bind to vfio-pci (drivers_probe: %s; driver now '%s')",
			      name, rc ? why_errno(rc) : "ok", now);
}

int hqio_sysfs_release(const char *sys, const struct hqio_sysfs_binding *b, struct hqio_error *err)
{
	char path[PATH_MAX], name[HQIO_BDF_STR_MAX], now[64];
	hqio_bdf_format(b->bdf, name, sizeof(name));
	int rc = hqio_sysfs_driver(sys, b->bdf, now, sizeof(now));
	if (rc)
		return hqio_error_set(err, rc, "no PCI device %s", name);
	if (!strcmp(b->driver, VFIO_PCI_DRIVER))
		return 0; /* it was on vfio-pci before: nothing to undo */
	if (!strcmp(now, VFIO_PCI_DRIVER) && (rc = unbind(sys, b->bdf, now, err)))
		return rc;
	dev_path(sys, b->bdf, "driver_override", path, sizeof(path));
	/* A newline alone clears the override (drivers/pci/pci-sysfs.c). */
	if ((rc = write_attr(path, b->override[0] ? b->override : "\n")))
		return hqio_error_set(err, rc, "cannot restore %s driver_override: %s", name,
				      why_errno(rc));
	if (!b->driver[0])
		return 0;
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/bind", root_of(sys), b->driver);
	if ((rc = write_attr(path, name)))
		return hqio_error_set(err, rc, "cannot bind %s back to %s: %s", name, b->driver,
				      why_errno(rc));
	return 0;
}

int hqio_sysfs_binding_save(const char *path, const struct hqio_sysfs_binding *b,
			    struct hqio_error *err)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return hqio_error_set(err, -errno, "%s: %s", path, strerror(errno));
	fprintf(f, "%s\n%s\n", b->driver, b->override);
	if (fclose(f) != 0)
		return hqio_error_set(err, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

int hqio_sysfs_binding_load(const char *path, struct hqio_sysfs_binding *b, struct hqio_error *err)
{
	char buf[160];
	long r = hqio_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return hqio_error_set(err, (int)r, "%s: %s", path, strerror((int)-r));
	char *nl = strchr(buf, '\n');
	if (!nl)
		return hqio_error_set(err, -EINVAL, "%s: not a binding record", path);
	*nl = '\0';
	char *ov = nl + 1;
	ov[strcspn(ov, "\n")] = '\0';
	snprintf(b->driver, sizeof(b->driver), "%s", buf);
	snprintf(b->override, sizeof(b->override), "%s", ov);
	return 0;
}

int hqio_sysfs_reset_method_get(const char *sys, struct hqio_bdf bdf, char *buf, size_t len,
				struct hqio_error *err)
{
	char path[PATH_MAX], name[HQIO_BDF_STR_MAX];
	hqio_bdf_format(bdf, name, sizeof(name));
	dev_path(sys, bdf, "reset_method", path, sizeof(path));
	long r = hqio_read_file(path, buf, len);
	if (r == -ENOENT) {
		buf[0] = '\0'; /* hidden: Linux has no reset method for it */
		return 0;
	}
	if (r < 0)
		return hqio_error_set(err, (int)r, "%s: %s", path, why_errno((int)r));
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int hqio_sysfs_reset_method_set(const char *sys, struct hqio_bdf bdf, const char *methods,
				struct hqio_error *err)
{
	char path[PATH_MAX], name[HQIO_BDF_STR_MAX], have[128];
	hqio_bdf_format(bdf, name, sizeof(name));
	dev_path(sys, bdf, "reset_method", path, sizeof(path));
	int rc = write_attr(path, methods);
	if (rc == 0)
		return 0;
	if (rc == -ENOENT)
		return hqio_error_set(err, -EOPNOTSUPP,
				      "method not supported: Linux has no reset method for %s "
				      "(no reset_method attribute)",
				      name);
	if (rc == -EINVAL) {
		if (hqio_sysfs_reset_method_get(sys, bdf, have, sizeof(have), NULL) != 0)
			have[0] = '\0';
		return hqio_error_set(err, -EOPNOTSUPP,
				      "method not supported: Linux cannot reset %s by '%s' "
				      "(it offers: %s)",
				      name, methods, have[0] ? have : "none");
	}
	return hqio_error_set(err, rc, "%s: %s", path, why_errno(rc));
}

int hqio_sysfs_sriov_numvfs(const char *sys, struct hqio_bdf bdf, unsigned *n,
			    struct hqio_error *err)
{
	char path[PATH_MAX], buf[32];
	dev_path(sys, bdf, "sriov_numvfs", path, sizeof(path));
	long r = hqio_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return hqio_error_set(err, (int)r, "%s: %s", path,
				      r == -ENOENT ? "not an SR-IOV physical function"
						   : why_errno((int)r));
	char *end;
	unsigned long v = strtoul(buf, &end, 10);
	if (end == buf || v > 0xffff)
		return hqio_error_set(err, -EINVAL, "%s: odd value '%s'", path, buf);
	*n = (unsigned)v;
	return 0;
}

int hqio_sysfs_sriov_set_numvfs(const char *sys, struct hqio_bdf bdf, unsigned n,
				struct hqio_error *err)
{
	char path[PATH_MAX], v[16];
	dev_path(sys, bdf, "sriov_numvfs", path, sizeof(path));
	snprintf(v, sizeof(v), "%u", n);
	int rc = write_attr(path, v);
	if (rc)
		return hqio_error_set(err, rc, "%s <- %u: %s%s", path, n, why_errno(rc),
				      rc == -ENOENT  ? " (not an SR-IOV physical function)"
				      : rc == -EBUSY ? " (VFs already enabled: write 0 first)"
						     : "");
	return 0;
}

static int config_rw(const char *sys, struct hqio_bdf bdf, uint16_t off, unsigned size,
		     uint32_t *val, bool write)
{
	char path[PATH_MAX];
	uint8_t b[4];
	if ((size != 1 && size != 2 && size != 4) || off % size)
		return -EINVAL;
	dev_path(sys, bdf, "config", path, sizeof(path));
	int fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t r;
	if (write) {
		for (unsigned i = 0; i < size; i++)
			b[i] = (uint8_t)(*val >> (8 * i));
		r = pwrite(fd, b, size, off);
	} else {
		r = pread(fd, b, size, off);
	}
	int rc = r < 0 ? -errno : (size_t)r == size ? 0 : -EIO;
	close(fd);
	if (rc == 0 && !write) {
		*val = 0;
		for (unsigned i = 0; i < size; i++)
			*val |= (uint32_t)b[i] << (8 * i);
	}
	return rc;
}

int hqio_sysfs_config_read(const char *sys, struct hqio_bdf bdf, uint16_t off, unsigned size,
			   uint32_t *val)
{
	return config_rw(sys, bdf, off, size, val, false);
}

int hqio_sysfs_config_write(const char *sys, struct hqio_bdf bdf, uint16_t off, unsigned size,
			    uint32_t val)
{
	return config_rw(sys, bdf, off, size, &val, true);
}
