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
