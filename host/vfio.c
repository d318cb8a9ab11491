/*
 * Linux VFIO backend (see vfio.h). Facts used, all from Linux 6.1
 * (include/uapi/linux/vfio.h, drivers/vfio/pci/vfio_pci_core.c,
 * vfio_pci_config.c, vfio_pci_intrs.c):
 *   - The legacy container: open /dev/vfio/vfio, VFIO_GET_API_VERSION must
 *     be VFIO_API_VERSION, a group is attached with
 *     VFIO_GROUP_SET_CONTAINER and only then VFIO_SET_IOMMU may pick
 *     TYPE1v2; a group must be VIABLE (every device in it bound to
 *     vfio-pci or to no driver).
 *   - The configuration space is region VFIO_PCI_CONFIG_REGION_INDEX;
 *     vfio-pci virtualizes the BARs, the MSI/MSI-X capabilities and parts
 *     of Command for its user. Writing Initiate FLR (PCIe Device Control)
 *     or the AF FLR bit makes vfio-pci call pci_try_reset_function, which
 *     uses whatever reset_method lists first: this backend turns those two
 *     writes into VFIO_DEVICE_RESET with reset_method narrowed to "flr" or
 *     "af_flr", so the method asked for is the one done.
 *   - MSI Message Address/Data are virtual under vfio-pci; this backend
 *     sends accesses to them to the hardware through sysfs `config` while
 *     MSI is disabled there (Linux saves and restores MSI state around a
 *     reset only when MSI is enabled), which makes them a canary a reset
 *     really has to clear (HQIO_HOST_CFG_RESTORED).
 *   - Interrupts: VFIO_DEVICE_SET_IRQS with one eventfd per vector;
 *     vfio-pci refuses a second interrupt type while one is enabled, so
 *     enabling a type first disables the others; INTx is masked by
 *     vfio-pci after each interrupt until VFIO_IRQ_SET_ACTION_UNMASK.
 *   - A type1 container reports no DMA faults to user space.
 */
#include "vfio.h"
#include "sysfs.h"

#include "hqio/pci_regs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SEC 1000000000ULL
#define MAX_GROUPS HQIO_VFIO_MAX_DEVS
#define MAX_MAPS   64
#define N_TYPES	   3

struct irq_state {
	unsigned count; /* enabled vectors (0: off) */
	int *efd;
	hqio_irq_fn fn;
	void *arg;
};

struct vdev {
	struct hqio_bdf bdf;
	int fd;
	int group; /* IOMMU group number */
	struct vfio_region_info reg[VFIO_PCI_NUM_REGIONS];
	void *map[VFIO_PCI_ROM_REGION_INDEX];
	size_t map_len[VFIO_PCI_ROM_REGION_INDEX];
	struct irq_state irq[N_TYPES];
	uint16_t msi, exp, af; /* capability offsets, 0 = absent */
	bool msi64;
};

struct vgroup {
	int id, fd;
};

struct dma_map {
	uint64_t iova, len;
};

struct hqio_vfio {
	char sys[PATH_MAX], dev_vfio[PATH_MAX];
	int container;
	bool iommu_set;
	unsigned n_groups, n_devs, n_maps;
	struct vgroup groups[MAX_GROUPS];
	struct vdev devs[HQIO_VFIO_MAX_DEVS];
	struct dma_map maps[MAX_MAPS];
	struct hqio_error last;
};

static const unsigned irq_index[N_TYPES] = {
	[HQIO_IRQ_INTX] = VFIO_PCI_INTX_IRQ_INDEX,
	[HQIO_IRQ_MSI] = VFIO_PCI_MSI_IRQ_INDEX,
	[HQIO_IRQ_MSIX] = VFIO_PCI_MSIX_IRQ_INDEX,
};
static const char *const irq_name[N_TYPES] = { "INTx", "MSI", "MSI-X" };

static const char *bdf_str(struct hqio_bdf bdf, char *buf)
{
	return hqio_bdf_format(bdf, buf, HQIO_BDF_STR_MAX);
}

/* Remember the sentence of a failed host_ops call; returns code. */
static int fail(struct hqio_vfio *v, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct hqio_vfio *v, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	v->last.code = code;
	vsnprintf(v->last.msg, sizeof(v->last.msg), fmt, ap);
	va_end(ap);
	return code;
}

static const char *errtext(int e)
{
	return e == EACCES || e == EPERM ? "permission denied (run as root)" : strerror(e);
}

const struct hqio_error *hqio_vfio_error(const struct hqio_vfio *v)
{
	return &v->last;
}

static struct vdev *dev_of(struct hqio_vfio *v, struct hqio_bdf bdf)
{
	for (unsigned i = 0; i < v->n_devs; i++)
		if (hqio_bdf_cmp(v->devs[i].bdf, bdf) == 0)
			return &v->devs[i];
	return NULL;
}

static struct vdev *need_dev(struct hqio_vfio *v, struct hqio_bdf bdf)
{
	struct vdev *d = dev_of(v, bdf);
	char b[HQIO_BDF_STR_MAX];
	if (!d)
		fail(v, -ENODEV, "%s is not open in this VFIO container", bdf_str(bdf, b));
	return d;
}

/* ------------------------------------------------------------------ */
/* Container and groups                                                 */
/* ------------------------------------------------------------------ */

int hqio_vfio_open(const struct hqio_vfio_paths *paths, struct hqio_vfio **out,
		   struct hqio_error *err)
{
	*out = NULL;
	struct hqio_vfio *v = calloc(1, sizeof(*v));
	if (!v)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	snprintf(v->sys, sizeof(v->sys), "%s", paths && paths->sys ? paths->sys : "/sys");
	snprintf(v->dev_vfio, sizeof(v->dev_vfio), "%s",
		 paths && paths->dev_vfio ? paths->dev_vfio : HQIO_VFIO_DEV_DIR);
	v->container = -1;
	for (unsigned i = 0; i < HQIO_VFIO_MAX_DEVS; i++)
		v->devs[i].fd = -1;

	char path[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/vfio", v->dev_vfio);
	v->container = open(path, O_RDWR | O_CLOEXEC);
	if (v->container < 0) {
		int e = errno;
		int rc;
		if (e == ENOENT)
			rc = hqio_error_set(err, -ENODEV,
					    "no %s: the vfio modules are not loaded (load vfio, "
					    "vfio_iommu_type1 and vfio-pci)",
					    path);
		else
			rc = hqio_error_set(err, -e, "%s: %s", path, errtext(e));
		free(v);
		return rc;
	}
	int api = ioctl(v->container, VFIO_GET_API_VERSION);
	if (api != VFIO_API_VERSION) {
		hqio_vfio_close(v);
		return hqio_error_set(err, -EPROTO, "%s: VFIO API version %d, hqio speaks %d", path,
				      api, VFIO_API_VERSION);
	}
	if (ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		hqio_vfio_close(v);
		return hqio_error_set(err, -EOPNOTSUPP,
				      "%s: no TYPE1v2 IOMMU (vfio_iommu_type1 not loaded?)", path);
	}
	*out = v;
	return 0;
}

static void irq_off(struct vdev *d, enum hqio_irq_type t)
{
	struct irq_state *s = &d->irq[t];
	if (!s->count)
		return;
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = irq_index[t],
		.start = 0,
		.count = 0,
	};
	if (d->fd >= 0)
		(void)ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &set);
	for (unsigned i = 0; i < s->count; i++)
		close(s->efd[i]);
	free(s->efd);
	s->efd = NULL;
	s->count = 0;
}

void hqio_vfio_close(struct hqio_vfio *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < v->n_devs; i++) {
		struct vdev *d = &v->devs[i];
		for (unsigned t = 0; t < N_TYPES; t++)
			irq_off(d, (enum hqio_irq_type)t);
		for (unsigned b = 0; b < VFIO_PCI_ROM_REGION_INDEX; b++)
			if (d->map[b])
				munmap(d->map[b], d->map_len[b]);
		if (d->fd >= 0)
			close(d->fd);
	}
	for (unsigned i = 0; i < v->n_maps; i++) {
		struct vfio_iommu_type1_dma_unmap um = { .argsz = sizeof(um),
							 .iova = v->maps[i].iova,
							 .size = v->maps[i].len };
		(void)ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &um);
	}
	for (unsigned i = 0; i < v->n_groups; i++)
		close(v->groups[i].fd);
	if (v->container >= 0)
		close(v->container);
	free(v);
}

/* Name the members of group g that keep it from being viable. */
static int not_viable(struct hqio_vfio *v, struct hqio_bdf bdf, int g, struct hqio_error *err)
{
	struct hqio_bdf m[HQIO_SYSFS_MAX_GROUP];
	size_t n = 0;
	char list[HQIO_ERROR_MSG_MAX] = "", b[HQIO_BDF_STR_MAX], drv[64];
	size_t used = 0;
	unsigned bad = 0;
	if (hqio_sysfs_group_members(v->sys, g, m, HQIO_SYSFS_MAX_GROUP, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (hqio_bdf_cmp(m[i], bdf) == 0 ||
			    hqio_sysfs_driver(v->sys, m[i], drv, sizeof(drv)) != 0 || !drv[0] ||
			    !strcmp(drv, "vfio-pci"))
				continue;
			int w = snprintf(list + used, sizeof(list) - used, "%s%s (driver %s)",
					 bad++ ? ", " : "", bdf_str(m[i], b), drv);
			if (w > 0 && (size_t)w < sizeof(list) - used)
				used += (size_t)w;
		}
	}
	return hqio_error_set(err, -EBUSY,
			      "IOMMU group %d of %s is not viable: %s; bind them to vfio-pci "
			      "(hqio vfio bind) or unbind them",
			      g, bdf_str(bdf, b),
			      bad ? list : "another member is bound to a host driver");
}

static int open_group(struct hqio_vfio *v, struct hqio_bdf bdf, int g, struct hqio_error *err)
{
	char path[PATH_MAX + 16], b[HQIO_BDF_STR_MAX];
	for (unsigned i = 0; i < v->n_groups; i++)
		if (v->groups[i].id == g)
			return 0;
	if (v->n_groups == MAX_GROUPS)
		return hqio_error_set(err, -ENOSPC, "too many IOMMU groups in one container");
	snprintf(path, sizeof(path), "%s/%d", v->dev_vfio, g);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return hqio_error_set(err, -ENODEV,
					      "no %s: %s (IOMMU group %d) is not bound to vfio-pci "
					      "(hqio vfio bind %s)",
					      path, bdf_str(bdf, b), g, b);
		if (e == EBUSY)
			return hqio_error_set(err, -EBUSY,
					      "%s is busy: another process (a VM?) holds IOMMU "
					      "group %d",
					      path, g);
		return hqio_error_set(err, -e, "%s: %s", path, errtext(e));
	}
	struct vfio_group_status st = { .argsz = sizeof(st) };
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) < 0) {
		int e = errno;
		close(fd);
		return hqio_error_set(err, -e, "%s: VFIO_GROUP_GET_STATUS: %s", path, errtext(e));
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		close(fd);
		return not_viable(v, bdf, g, err);
	}
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &v->container) < 0) {
		int e = errno;
		close(fd);
		return hqio_error_set(err, -e, "%s: VFIO_GROUP_SET_CONTAINER: %s", path,
				      errtext(e));
	}
	if (!v->iommu_set) {
		if (ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
			int e = errno;
			close(fd);
			return hqio_error_set(err, -e, "VFIO_SET_IOMMU(TYPE1v2): %s", errtext(e));
		}
		v->iommu_set = true;
	}
	v->groups[v->n_groups++] = (struct vgroup){ .id = g, .fd = fd };
	return 0;
}

static int group_fd(struct hqio_vfio *v, int g)
{
	for (unsigned i = 0; i < v->n_groups; i++)
		if (v->groups[i].id == g)
			return v->groups[i].fd;
	return -1;
}

/* A capability through the VFIO config region (vfio-pci passes the list through). */
static uint16_t find_cap(const struct vdev *d, uint8_t id)
{
	off_t base = (off_t)d->reg[VFIO_PCI_CONFIG_REGION_INDEX].offset;
	uint8_t sta[2], p = 0;
	if (pread(d->fd, sta, 2, base + HQIO_PCI_STATUS) != 2 ||
	    !(sta[0] & HQIO_PCI_STATUS_CAP_LIST) ||
	    pread(d->fd, &p, 1, base + HQIO_PCI_CAPABILITY_LIST) != 1)
		return 0;
	unsigned pos = p & HQIO_PCI_CAP_PTR_MASK;
	/* At most 48 capabilities fit in 192 bytes (PCI LB 3.0 §6.7). */
	for (unsigned i = 0; i < 48 && pos >= HQIO_PCI_CFG_HDR_SIZE; i++) {
		uint8_t h[2];
		if (pread(d->fd, h, 2, base + (off_t)pos) != 2)
			return 0;
		if (h[0] == id)
			return (uint16_t)pos;
		pos = h[1] & HQIO_PCI_CAP_PTR_MASK;
	}
	return 0;
}

int hqio_vfio_check_assignable(const char *sys, struct hqio_bdf bdf, int *group,
			       struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX], drv[64], md[64], mb[HQIO_BDF_STR_MAX];
	bdf_str(bdf, b);
	if (!sys)
		sys = "/sys";
	if (hqio_sysfs_driver(sys, bdf, drv, sizeof(drv)) != 0)
		return hqio_error_set(err, -ENODEV, "no PCI device %s", b);
	int rc = hqio_sysfs_iommu_group(sys, bdf, group, err);
	if (rc)
		return rc;
	if (strcmp(drv, "vfio-pci") != 0)
		return hqio_error_set(err, -EBUSY,
				      "%s is bound to %s%s: run `hqio vfio bind %s` first", b,
				      drv[0] ? "the host driver " : "no driver", drv, b);
	/* VFIO's viability rule (vfio_dev_driver_allowed): every member of
	 * the group bound to vfio-pci or to nothing. */
	struct hqio_bdf m[HQIO_SYSFS_MAX_GROUP];
	size_t n = 0;
	char list[HQIO_ERROR_MSG_MAX] = "";
	size_t used = 0;
	unsigned bad = 0;
	if ((rc = hqio_sysfs_group_members(sys, *group, m, HQIO_SYSFS_MAX_GROUP, &n, err)))
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (hqio_sysfs_driver(sys, m[i], md, sizeof(md)) != 0 || !md[0] ||
		    !strcmp(md, "vfio-pci"))
			continue;
		int w = snprintf(list + used, sizeof(list) - used, "%s%s (driver %s)",
				 bad++ ? ", " : "", bdf_str(m[i], mb), md);
		if (w > 0 && (size_t)w < sizeof(list) - used)
			used += (size_t)w;
	}
	if (bad)
		return hqio_error_set(err, -EBUSY,
				      "IOMMU group %d of %s is not viable: %s; bind them to "
				      "vfio-pci (hqio vfio bind) or unbind them",
				      *group, b, list);
	return 0;
}

int hqio_vfio_add(struct hqio_vfio *v, struct hqio_bdf bdf, struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX];
	bdf_str(bdf, b);
	if (dev_of(v, bdf))
		return 0;
	if (v->n_devs == HQIO_VFIO_MAX_DEVS)
		return hqio_error_set(err, -ENOSPC, "too many devices in one container");
	int g, rc;
	if ((rc = hqio_vfio_check_assignable(v->sys, bdf, &g, err)))
		return rc;
	if ((rc = open_group(v, bdf, g, err)))
		return rc;
	/* A VF whose PF is on vfio-pci opens only with the PF's VF token, a
	 * UUID appended to the name (vfio_pci_core.c
	 * vfio_pci_validate_vf_token). The PF's token is random until its user
	 * sets one: open the PF here too and set hqio's (all zeroes) with
	 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN. */
	char name[HQIO_BDF_STR_MAX + 64], pf[64], pfdrv[64], link[PATH_MAX + 16];
	struct hqio_bdf pfb;
	snprintf(name, sizeof(name), "%s", b);
	snprintf(link, sizeof(link), "%s/bus/pci/devices/%s/physfn", v->sys, b);
	ssize_t ln = readlink(link, pf, sizeof(pf) - 1);
	if (ln > 0) {
		pf[ln] = '\0';
		const char *base = strrchr(pf, '/');
		if (hqio_bdf_parse(base ? base + 1 : pf, &pfb) == 0 &&
		    hqio_sysfs_driver(v->sys, pfb, pfdrv, sizeof(pfdrv)) == 0 &&
		    !strcmp(pfdrv, "vfio-pci")) {
			if ((rc = hqio_vfio_add(v, pfb, err)))
				return rc;
			/* The feature header, then the 16-byte UUID (all zero). */
			_Alignas(struct vfio_device_feature)
				uint8_t ft[sizeof(struct vfio_device_feature) + 16] = { 0 };
			struct vfio_device_feature *f = (struct vfio_device_feature *)ft;
			f->argsz = sizeof(ft);
			f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
			if (ioctl(dev_of(v, pfb)->fd, VFIO_DEVICE_FEATURE, ft) < 0) {
				int e = errno;
				return hqio_error_set(err, -e, "setting the VF token of PF %s: %s",
						      bdf_str(pfb, pf), errtext(e));
			}
			snprintf(name, sizeof(name), "%s vf_token=%s", b,
				 "00000000-0000-0000-0000-000000000000");
		}
	}
	int fd = ioctl(group_fd(v, g), VFIO_GROUP_GET_DEVICE_FD, name);
	if (fd < 0) {
		int e = errno;
		return hqio_error_set(err, -e, "VFIO_GROUP_GET_DEVICE_FD(%s): %s", b, errtext(e));
	}
	struct vdev *d = &v->devs[v->n_devs];
	memset(d, 0, sizeof(*d));
	d->bdf = bdf;
	d->fd = fd;
	d->group = g;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info) < 0 || !(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		close(fd);
		return hqio_error_set(err, -ENODEV, "%s: not a VFIO PCI device", b);
	}
	for (unsigned i = 0; i < VFIO_PCI_NUM_REGIONS && i < info.num_regions; i++) {
		d->reg[i].argsz = sizeof(d->reg[i]);
		d->reg[i].index = i;
		if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &d->reg[i]) < 0)
			d->reg[i].size = 0;
	}
	if (!d->reg[VFIO_PCI_CONFIG_REGION_INDEX].size) {
		close(fd);
		return hqio_error_set(err, -ENODEV, "%s: VFIO offers no config region", b);
	}
	v->n_devs++;
	d->msi = find_cap(d, HQIO_PCI_CAP_ID_MSI);
	d->exp = find_cap(d, HQIO_PCI_CAP_ID_EXP);
	d->af = find_cap(d, HQIO_PCI_CAP_ID_AF);
	if (d->msi) {
		uint32_t fl = 0;
		if (hqio_sysfs_config_read(v->sys, bdf, (uint16_t)(d->msi + HQIO_PCI_MSI_FLAGS), 2,
					   &fl) == 0)
			d->msi64 = fl & HQIO_PCI_MSI_FLAGS_64BIT;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Configuration space                                                  */
/* ------------------------------------------------------------------ */

static bool good_size(unsigned size, uint64_t off)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && off % size == 0;
}

/* Does [off, off+size) touch MSI Message Address/Data (raw-routed)? */
static bool msi_msg_reg(const struct vdev *d, uint16_t off, unsigned size)
{
	if (!d->msi)
		return false;
	uint16_t lo = (uint16_t)(d->msi + HQIO_PCI_MSI_ADDRESS_LO);
	uint16_t hi =
		(uint16_t)(d->msi + (d->msi64 ? HQIO_PCI_MSI_DATA_64 : HQIO_PCI_MSI_DATA_32) + 2);
	return off >= lo && off + size <= hi;
}

static bool msi_hw_enabled(struct hqio_vfio *v, const struct vdev *d)
{
	uint32_t fl = 0;
	if (hqio_sysfs_config_read(v->sys, d->bdf, (uint16_t)(d->msi + HQIO_PCI_MSI_FLAGS), 2,
				   &fl) != 0)
		return true; /* unknown: stay on the VFIO path */
	return fl & HQIO_PCI_MSI_FLAGS_ENABLE;
}

static int cfg_pio(struct hqio_vfio *v, struct vdev *d, uint16_t off, unsigned size, uint32_t *val,
		   bool write)
{
	char b[HQIO_BDF_STR_MAX];
	const struct vfio_region_info *r = &d->reg[VFIO_PCI_CONFIG_REGION_INDEX];
	if (size > 4 || !good_size(size, off) || off + size > r->size)
		return fail(v, -EINVAL, "%s: config access of %u bytes at 0x%x", bdf_str(d->bdf, b),
			    size, off);
	uint8_t buf[4];
	ssize_t n;
	if (write) {
		for (unsigned i = 0; i < size; i++)
			buf[i] = (uint8_t)(*val >> (8 * i));
		n = pwrite(d->fd, buf, size, (off_t)(r->offset + off));
	} else {
		n = pread(d->fd, buf, size, (off_t)(r->offset + off));
	}
	if (n != (ssize_t)size) {
		int e = n < 0 ? errno : EIO;
		return fail(v, -e, "%s: config %s at 0x%x: %s", bdf_str(d->bdf, b),
			    write ? "write" : "read", off, errtext(e));
	}
	if (!write) {
		*val = 0;
		for (unsigned i = 0; i < size; i++)
			*val |= (uint32_t)buf[i] << (8 * i);
	}
	return 0;
}

static int v_cfg_read(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t *val)
{
	struct hqio_vfio *v = ctx;
	struct vdev *d = need_dev(v, bdf);
	if (!d)
		return -ENODEV;
	if (msi_msg_reg(d, off, size) && !msi_hw_enabled(v, d)) {
		int rc = hqio_sysfs_config_read(v->sys, bdf, off, size, val);
		return rc ? fail(v, rc, "raw config read at 0x%x: %s", off, strerror(-rc)) : 0;
	}
	return cfg_pio(v, d, off, size, val, false);
}

static int v_cfg_write(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t val)
{
	struct hqio_vfio *v = ctx;
	struct vdev *d = need_dev(v, bdf);
	if (!d)
		return -ENODEV;
	/* Initiate FLR (PCIe 5.0 §7.5.3.4, Device Control bit 15) and AF
	 * Initiate FLR (AF ECN, control bit 0): the reset the planner chose. */
	uint16_t devctl = (uint16_t)(d->exp + HQIO_PCI_EXP_DEVCTL);
	uint16_t afctl = (uint16_t)(d->af + HQIO_PCI_AF_CTRL);
	if (d->exp && off <= devctl && (unsigned)devctl + 2 <= (unsigned)off + size &&
	    ((val >> (8 * (devctl - off))) & HQIO_PCI_EXP_DEVCTL_BCR_FLR)) {
		uint32_t rest =
			val & ~((uint32_t)HQIO_PCI_EXP_DEVCTL_BCR_FLR << (8 * (devctl - off)));
		int rc = cfg_pio(v, d, off, size, &rest, true);
		struct hqio_error e = { 0 };
		if (!rc && (rc = hqio_vfio_reset(v, bdf, "flr", &e)))
			fail(v, rc, "%s", e.msg);
		return rc;
	}
	if (d->af && off <= afctl && (unsigned)afctl < (unsigned)off + size &&
	    ((val >> (8 * (afctl - off))) & HQIO_PCI_AF_CTRL_FLR)) {
		struct hqio_error e = { 0 };
		int rc = hqio_vfio_reset(v, bdf, "af_flr", &e);
		return rc ? fail(v, rc, "%s", e.msg) : 0;
	}
	if (msi_msg_reg(d, off, size) && !msi_hw_enabled(v, d)) {
		int rc = hqio_sysfs_config_write(v->sys, bdf, off, size, val);
		return rc ? fail(v, rc, "raw config write at 0x%x: %s", off, errtext(-rc)) : 0;
	}
	return cfg_pio(v, d, off, size, &val, true);
}

/* ------------------------------------------------------------------ */
/* BARs                                                                 */
/* ------------------------------------------------------------------ */

static int bar_rw(struct hqio_vfio *v, struct hqio_bdf bdf, unsigned bar, uint64_t off,
		  unsigned size, uint64_t *val, bool write)
{
	char b[HQIO_BDF_STR_MAX];
	struct vdev *d = need_dev(v, bdf);
	if (!d)
		return -ENODEV;
	if (bar >= VFIO_PCI_ROM_REGION_INDEX || !d->reg[bar].size)
		return fail(v, -EINVAL, "%s has no BAR %u", bdf_str(bdf, b), bar);
	if (!good_size(size, off) || off >= d->reg[bar].size || size > d->reg[bar].size - off)
		return fail(v, -EINVAL,
			    "%s BAR %u: access of %u bytes at 0x%llx is outside or "
			    "unaligned",
			    bdf_str(bdf, b), bar, size, (unsigned long long)off);
	if (d->map[bar]) {
		volatile uint8_t *p = (volatile uint8_t *)d->map[bar] + off;
		switch (size) {
		case 1:
			if (write)
				*p = (uint8_t)*val;
			else
				*val = *p;
			break;
		case 2:
			if (write)
				*(volatile uint16_t *)p = (uint16_t)*val;
			else
				*val = *(volatile uint16_t *)p;
			break;
		case 4:
			if (write)
				*(volatile uint32_t *)p = (uint32_t)*val;
			else
				*val = *(volatile uint32_t *)p;
			break;
		default:
			if (write)
				*(volatile uint64_t *)p = *val;
			else
				*val = *(volatile uint64_t *)p;
		}
		return 0;
	}
	uint8_t buf[8];
	ssize_t n;
	off_t at = (off_t)(d->reg[bar].offset + off);
	if (write) {
		for (unsigned i = 0; i < size; i++)
			buf[i] = (uint8_t)(*val >> (8 * i));
		n = pwrite(d->fd, buf, size, at);
	} else {
		n = pread(d->fd, buf, size, at);
	}
	if (n != (ssize_t)size) {
		int e = n < 0 ? errno : EIO;
		return fail(v, -e, "%s BAR %u %s at 0x%llx: %s", bdf_str(bdf, b), bar,
			    write ? "write" : "read", (unsigned long long)off, errtext(e));
	}
	if (!write) {
		*val = 0;
		for (unsigned i = 0; i < size; i++)
			*val |= (uint64_t)buf[i] << (8 * i);
	}
	return 0;
}

static int v_bar_read(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		      uint64_t *val)
{
	return bar_rw(ctx, bdf, bar, off, size, val, false);
}

static int v_bar_write(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size,
		       uint64_t val)
{
	return bar_rw(ctx, bdf, bar, off, size, &val, true);
}

int hqio_vfio_bar_mmap(struct hqio_vfio *v, struct hqio_bdf bdf, unsigned bar, void **p,
		       uint64_t *len, struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX];
	struct vdev *d = dev_of(v, bdf);
	if (!d)
		return hqio_error_set(err, -ENODEV, "%s is not open in this VFIO container",
				      bdf_str(bdf, b));
	if (bar >= VFIO_PCI_ROM_REGION_INDEX || !d->reg[bar].size)
		return hqio_error_set(err, -EINVAL, "%s has no BAR %u", bdf_str(bdf, b), bar);
	if (!(d->reg[bar].flags & VFIO_REGION_INFO_FLAG_MMAP))
		return hqio_error_set(err, -EOPNOTSUPP,
				      "%s BAR %u cannot be mmapped (I/O or "
				      "too small)",
				      bdf_str(bdf, b), bar);
	if (!d->map[bar]) {
		void *m = mmap(NULL, d->reg[bar].size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
			       (off_t)d->reg[bar].offset);
		if (m == MAP_FAILED)
			return hqio_error_set(err, -errno, "%s BAR %u mmap: %s", bdf_str(bdf, b),
					      bar, errtext(errno));
		d->map[bar] = m;
		d->map_len[bar] = d->reg[bar].size;
	}
	*p = d->map[bar];
	*len = d->reg[bar].size;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Time                                                                 */
/* ------------------------------------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t v_now(void *ctx)
{
	(void)ctx;
	return mono_ns();
}

static int sleep_until(uint64_t deadline)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline / NS_PER_SEC),
			       .tv_nsec = (long)(deadline % NS_PER_SEC) };
	int rc;
	while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
		;
	return -rc;
}

static int v_sleep(void *ctx, uint64_t ns)
{
	(void)ctx;
	return sleep_until(mono_ns() + ns);
}

static int v_wait_until(void *ctx, bool (*cond)(void *arg), void *arg, uint64_t poll_ns,
			uint64_t timeout_ns)
{
	(void)ctx;
	uint64_t deadline = mono_ns() + timeout_ns;
	if (!poll_ns)
		poll_ns = 1000;
	for (;;) {
		if (cond(arg))
			return 0;
		uint64_t now = mono_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		int rc = sleep_until(now + (deadline - now < poll_ns ? deadline - now : poll_ns));
		if (rc)
			return rc;
	}
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                           */
/* ------------------------------------------------------------------ */

int hqio_vfio_irq_count(struct hqio_vfio *v, struct hqio_bdf bdf, enum hqio_irq_type type,
			unsigned *count, struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX];
	struct vdev *d = dev_of(v, bdf);
	if (!d)
		return hqio_error_set(err, -ENODEV, "%s is not open", bdf_str(bdf, b));
	if ((unsigned)type >= N_TYPES)
		return hqio_error_set(err, -EINVAL, "unknown interrupt type %d", (int)type);
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = irq_index[type] };
	if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) < 0)
		return hqio_error_set(err, -errno, "VFIO_DEVICE_GET_IRQ_INFO: %s", errtext(errno));
	*count = ii.count;
	return 0;
}

/* The device of an interrupt call, or NULL with v's error set. */
static struct vdev *irq_dev(struct hqio_vfio *v, struct hqio_bdf bdf, enum hqio_irq_type type)
{
	struct vdev *d = need_dev(v, bdf);
	if (d && (unsigned)type >= N_TYPES) {
		fail(v, -EINVAL, "unknown interrupt type %d", (int)type);
		return NULL;
	}
	return d;
}

static int v_irq_set(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned count,
		     hqio_irq_fn fn, void *arg)
{
	struct hqio_vfio *v = ctx;
	char b[HQIO_BDF_STR_MAX];
	struct vdev *d = irq_dev(v, bdf, type);
	if (!d)
		return v->last.code;
	irq_off(d, type);
	if (count == 0)
		return 0;
	unsigned have = 0;
	struct hqio_error e = { 0 };
	if (hqio_vfio_irq_count(v, bdf, type, &have, &e))
		return fail(v, e.code, "%s", e.msg);
	if (count > have || count > HQIO_VFIO_MAX_IRQS)
		return fail(v, -EOPNOTSUPP,
			    "method not supported: %s offers %u %s vectors, %u "
			    "asked",
			    bdf_str(bdf, b), have, irq_name[type], count);
	/* vfio-pci enables one type at a time (SET_IRQS on another index
	 * fails with EINVAL while one is on): switch the others off. */
	for (unsigned t = 0; t < N_TYPES; t++)
		if (t != (unsigned)type)
			irq_off(d, (enum hqio_irq_type)t);
	struct irq_state *s = &d->irq[type];
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, sz);
	s->efd = calloc(count, sizeof(int));
	if (!set || !s->efd) {
		free(set);
		free(s->efd);
		s->efd = NULL;
		return fail(v, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < count; i++) {
		s->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (s->efd[i] < 0) {
			int err = errno;
			while (i--)
				close(s->efd[i]);
			free(s->efd);
			s->efd = NULL;
			free(set);
			return fail(v, -err, "eventfd: %s", strerror(err));
		}
	}
	set->argsz = (uint32_t)sz;
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = irq_index[type];
	set->start = 0;
	set->count = count;
	memcpy(set->data, s->efd, count * sizeof(int32_t));
	int rc = ioctl(d->fd, VFIO_DEVICE_SET_IRQS, set);
	int e2 = errno;
	free(set);
	if (rc < 0) {
		for (unsigned i = 0; i < count; i++)
			close(s->efd[i]);
		free(s->efd);
		s->efd = NULL;
		return fail(v, -e2, "%s: enabling %u %s vector(s): %s", bdf_str(bdf, b), count,
			    irq_name[type], errtext(e2));
	}
	s->count = count;
	s->fn = fn;
	s->arg = arg;
	return 0;
}

static int v_irq_mask(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector,
		      bool masked)
{
	struct hqio_vfio *v = ctx;
	char b[HQIO_BDF_STR_MAX];
	struct vdev *d = irq_dev(v, bdf, type);
	if (!d)
		return v->last.code;
	if (type != HQIO_IRQ_INTX)
		return fail(v, -EOPNOTSUPP,
			    "method not supported: vfio-pci masks only INTx (%s vector %u of %s)",
			    irq_name[type], vector, bdf_str(bdf, b));
	if (vector != 0)
		return fail(v, -EINVAL, "INTx has one vector (asked %u)", vector);
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE |
			 (masked ? VFIO_IRQ_SET_ACTION_MASK : VFIO_IRQ_SET_ACTION_UNMASK),
		.index = VFIO_PCI_INTX_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &set) < 0)
		return fail(v, -errno, "%s: INTx %s: %s", bdf_str(bdf, b),
			    masked ? "mask" : "unmask", errtext(errno));
	return 0;
}

int hqio_vfio_iommu_coherent(struct hqio_vfio *v)
{
	if (!v || v->container < 0)
		return -ENODEV;
	/* vfio_iommu_type1: 1 when every IOMMU domain of the container
	 * enforces cache coherency (snoop control), Linux vfio.h. */
	int r = ioctl(v->container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU);
	return r < 0 ? -errno : r > 0;
}

int hqio_vfio_group_fd(struct hqio_vfio *v, struct hqio_bdf bdf)
{
	const struct vdev *d = v ? dev_of(v, bdf) : NULL;
	int fd = d ? group_fd(v, d->group) : -1;
	return fd >= 0 ? fd : -ENODEV;
}

int hqio_vfio_device_fd(struct hqio_vfio *v, struct hqio_bdf bdf)
{
	const struct vdev *d = v ? dev_of(v, bdf) : NULL;
	return d && d->fd >= 0 ? d->fd : -ENODEV;
}

int hqio_vfio_set_irq_eventfds(struct hqio_vfio *v, struct hqio_bdf bdf, enum hqio_irq_type type,
			       const int *efds, unsigned count, struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX];
	struct vdev *d = v ? dev_of(v, bdf) : NULL;
	if (!d)
		return hqio_error_set(err, -ENODEV, "%s was not added to this VFIO container",
				      bdf_str(bdf, b));
	if ((unsigned)type >= N_TYPES)
		return hqio_error_set(err, -EINVAL, "unknown interrupt type %d", (int)type);
	const struct irq_state *s = &d->irq[type];
	if (!efds || count == 0 || count > s->count)
		return hqio_error_set(
			err, -EINVAL,
			"%s: %u %s eventfd(s) given, %u vector(s) enabled (enable the "
			"type first, then swap at most that many)",
			bdf_str(bdf, b), count, irq_name[type], s->count);
	for (unsigned i = 0; i < count; i++)
		if (efds[i] < 0)
			return hqio_error_set(err, -EBADF, "eventfd %u is not an fd (%d)", i,
					      efds[i]);
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, sz);
	if (!set)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	set->argsz = (uint32_t)sz;
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = irq_index[type];
	set->start = 0;
	set->count = count;
	for (unsigned i = 0; i < count; i++)
		((int32_t *)(void *)set->data)[i] = efds[i];
	int rc = ioctl(d->fd, VFIO_DEVICE_SET_IRQS, set);
	int e = errno;
	free(set);
	if (rc < 0)
		return hqio_error_set(err, -e, "%s: swapping %u %s trigger(s): %s", bdf_str(bdf, b),
				      count, irq_name[type], errtext(e));
	return 0;
}

int hqio_vfio_set_intx_unmask_eventfd(struct hqio_vfio *v, struct hqio_bdf bdf, int efd,
				      struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX];
	struct vdev *d = v ? dev_of(v, bdf) : NULL;
	if (!d)
		return hqio_error_set(err, -ENODEV, "%s was not added to this VFIO container",
				      bdf_str(bdf, b));
	if (d->irq[HQIO_IRQ_INTX].count == 0)
		return hqio_error_set(err, -EINVAL,
				      "%s: INTx is not enabled (enable it before its unmask eventfd)",
				      bdf_str(bdf, b));
	union {
		struct vfio_irq_set set;
		uint8_t bytes[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} u = { .set = { .argsz = sizeof(u.bytes),
			 .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
			 .index = VFIO_PCI_INTX_IRQ_INDEX,
			 .start = 0,
			 .count = 1 } };
	int32_t fd = efd;
	memcpy(u.bytes + sizeof(struct vfio_irq_set), &fd, sizeof(fd));
	/* vfio-pci: an eventfd of -1 removes the unmask eventfd (vfio_pci_set_intx_unmask). */
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, &u) < 0)
		return hqio_error_set(err, -errno, "%s: INTx unmask eventfd: %s", bdf_str(bdf, b),
				      errtext(errno));
	return 0;
}

int hqio_vfio_dispatch(struct hqio_vfio *v, uint64_t timeout_ns)
{
	struct pollfd pfd[HQIO_VFIO_MAX_DEVS * N_TYPES * 4];
	struct {
		struct vdev *d;
		unsigned t, vec;
	} who[sizeof(pfd) / sizeof(pfd[0])];
	unsigned n = 0;
	for (unsigned i = 0; i < v->n_devs; i++)
		for (unsigned t = 0; t < N_TYPES; t++)
			for (unsigned k = 0;
			     k < v->devs[i].irq[t].count && n < sizeof(pfd) / sizeof(pfd[0]); k++) {
				pfd[n] = (struct pollfd){ .fd = v->devs[i].irq[t].efd[k],
							  .events = POLLIN };
				who[n].d = &v->devs[i];
				who[n].t = t;
				who[n].vec = k;
				n++;
			}
	uint64_t deadline = mono_ns() + timeout_ns;
	for (;;) {
		uint64_t now = mono_ns();
		int ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
		int r = poll(pfd, n, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return fail(v, -errno, "poll: %s", strerror(errno));
		int delivered = 0;
		for (unsigned i = 0; i < n && r > 0; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			uint64_t cnt = 0;
			if (read(pfd[i].fd, &cnt, sizeof(cnt)) != (ssize_t)sizeof(cnt))
				continue;
			struct irq_state *s = &who[i].d->irq[who[i].t];
			for (uint64_t c = 0; c < cnt; c++) {
				delivered++;
				if (s->fn)
					s->fn(s->arg, who[i].d->bdf, (enum hqio_irq_type)who[i].t,
					      who[i].vec);
			}
		}
		if (delivered || mono_ns() >= deadline)
			return delivered;
	}
}

/* ------------------------------------------------------------------ */
/* DMA                                                                  */
/* ------------------------------------------------------------------ */

static int v_dma_map(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t host_addr,
		     uint64_t len, unsigned prot)
{
	struct hqio_vfio *v = ctx;
	if (!need_dev(v, bdf))
		return -ENODEV;
	long pg = sysconf(_SC_PAGESIZE);
	uint64_t mask = (uint64_t)(pg > 0 ? pg : 4096) - 1;
	if (!len || (iova & mask) || (host_addr & mask) || (len & mask) || !prot)
		return fail(v, -EINVAL,
			    "DMA map: iova 0x%llx, address 0x%llx and length 0x%llx "
			    "must be page aligned, length and permissions non-zero",
			    (unsigned long long)iova, (unsigned long long)host_addr,
			    (unsigned long long)len);
	if (v->n_maps == MAX_MAPS)
		return fail(v, -ENOSPC, "too many DMA mappings");
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = ((prot & HQIO_DMA_READ) ? VFIO_DMA_MAP_FLAG_READ : 0) |
			 ((prot & HQIO_DMA_WRITE) ? VFIO_DMA_MAP_FLAG_WRITE : 0),
		.vaddr = host_addr,
		.iova = iova,
		.size = len,
	};
	if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &m) < 0)
		return fail(v, -errno, "VFIO_IOMMU_MAP_DMA iova 0x%llx len 0x%llx: %s",
			    (unsigned long long)iova, (unsigned long long)len, errtext(errno));
	v->maps[v->n_maps++] = (struct dma_map){ .iova = iova, .len = len };
	return 0;
}

static int v_dma_unmap(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len)
{
	struct hqio_vfio *v = ctx;
	if (!need_dev(v, bdf))
		return -ENODEV;
	struct vfio_iommu_type1_dma_unmap um = { .argsz = sizeof(um), .iova = iova, .size = len };
	if (ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &um) < 0)
		return fail(v, -errno, "VFIO_IOMMU_UNMAP_DMA iova 0x%llx len 0x%llx: %s",
			    (unsigned long long)iova, (unsigned long long)len, errtext(errno));
	for (unsigned i = 0; i < v->n_maps; i++)
		if (v->maps[i].iova == iova && v->maps[i].len == len) {
			v->maps[i] = v->maps[--v->n_maps];
			break;
		}
	return 0;
}

static int v_ats_invalidate(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len)
{
	(void)iova;
	(void)len;
	/* The kernel's IOMMU driver invalidates device TLBs on unmap. */
	return need_dev(ctx, bdf) ? 0 : -ENODEV;
}

/* ------------------------------------------------------------------ */
/* Resets                                                               */
/* ------------------------------------------------------------------ */

int hqio_vfio_reset(struct hqio_vfio *v, struct hqio_bdf bdf, const char *method,
		    struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX], saved[128] = "";
	struct vdev *d = dev_of(v, bdf);
	if (!d)
		return hqio_error_set(err, -ENODEV, "%s is not open in this VFIO container",
				      bdf_str(bdf, b));
	struct vfio_device_info info = { .argsz = sizeof(info) };
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &info) == 0 &&
	    !(info.flags & VFIO_DEVICE_FLAGS_RESET))
		return hqio_error_set(err, -EOPNOTSUPP,
				      "method not supported: Linux has no function reset for %s",
				      bdf_str(bdf, b));
	int rc;
	if (method) {
		if ((rc = hqio_sysfs_reset_method_get(v->sys, bdf, saved, sizeof(saved), err)))
			return rc;
		if ((rc = hqio_sysfs_reset_method_set(v->sys, bdf, method, err)))
			return rc;
	}
	rc = ioctl(d->fd, VFIO_DEVICE_RESET) < 0 ? -errno : 0;
	int e = -rc;
	if (method) {
		struct hqio_error e2 = { 0 };
		/* Written back as it was; "default" (Linux probes its order
		 * again) when the old list is no longer accepted. */
		int rc2 =
			hqio_sysfs_reset_method_set(v->sys, bdf, saved[0] ? saved : "default", &e2);
		if (rc2 && saved[0])
			rc2 = hqio_sysfs_reset_method_set(v->sys, bdf, "default", &e2);
		if (!rc && rc2)
			return hqio_error_set(err, rc2, "reset done, but %s", e2.msg);
	}
	if (rc)
		return hqio_error_set(err, rc, "VFIO_DEVICE_RESET of %s%s%s: %s", bdf_str(bdf, b),
				      method ? " by " : "", method ? method : "", errtext(e));
	return 0;
}

int hqio_vfio_hot_reset(struct hqio_vfio *v, struct hqio_bdf bdf, struct hqio_error *err)
{
	char b[HQIO_BDF_STR_MAX];
	struct vdev *d = dev_of(v, bdf);
	if (!d)
		return hqio_error_set(err, -ENODEV, "%s is not open in this VFIO container",
				      bdf_str(bdf, b));
	size_t sz = sizeof(struct vfio_pci_hot_reset_info) +
		    32 * sizeof(struct vfio_pci_dependent_device);
	struct vfio_pci_hot_reset_info *info = calloc(1, sz);
	if (!info)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	info->argsz = (uint32_t)sz;
	if (ioctl(d->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info) < 0) {
		int e = errno;
		free(info);
		if (e == ENODEV || e == ENOTTY || e == EINVAL)
			return hqio_error_set(err, -EOPNOTSUPP,
					      "method not supported: no bus reset for %s (Linux "
					      "cannot reset its bus or slot: %s)",
					      bdf_str(bdf, b), strerror(e));
		return hqio_error_set(err, -e, "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: %s",
				      errtext(e));
	}
	int32_t fds[32];
	unsigned nf = 0;
	char missing[160] = "";
	size_t used = 0;
	for (unsigned i = 0; i < info->count && i < 32; i++) {
		int g = (int)info->devices[i].group_id;
		int fd = group_fd(v, g);
		bool dup = false;
		for (unsigned k = 0; k < nf; k++)
			dup = dup || fds[k] == fd;
		if (fd >= 0 && !dup) {
			fds[nf++] = fd;
		} else if (fd < 0) {
			struct hqio_bdf o = { .domain = info->devices[i].segment,
					      .bus = info->devices[i].bus,
					      .dev = (uint8_t)(info->devices[i].devfn >> 3),
					      .fn = (uint8_t)(info->devices[i].devfn & 7) };
			int w = snprintf(missing + used, sizeof(missing) - used, "%s%s (group %d)",
					 used ? ", " : "", bdf_str(o, b), g);
			if (w > 0 && (size_t)w < sizeof(missing) - used)
				used += (size_t)w;
		}
	}
	free(info);
	if (missing[0])
		return hqio_error_set(err, -EPERM,
				      "a bus reset of %s also resets %s, not open here: add them "
				      "to the container first",
				      bdf_str(bdf, b), missing);
	size_t rsz = sizeof(struct vfio_pci_hot_reset) + nf * sizeof(int32_t);
	struct vfio_pci_hot_reset *r = calloc(1, rsz);
	if (!r)
		return hqio_error_set(err, -ENOMEM, "out of memory");
	r->argsz = (uint32_t)rsz;
	r->count = nf;
	memcpy(r->group_fds, fds, nf * sizeof(int32_t));
	int rc = ioctl(d->fd, VFIO_DEVICE_PCI_HOT_RESET, r) < 0 ? -errno : 0;
	free(r);
	if (rc)
		return hqio_error_set(err, rc, "VFIO_DEVICE_PCI_HOT_RESET of %s: %s",
				      bdf_str(bdf, b), errtext(-rc));
	return 0;
}

static int v_platform_reset(void *ctx, struct hqio_bdf bdf, enum hqio_platform_reset kind)
{
	struct hqio_vfio *v = ctx;
	struct hqio_error e = { 0 };
	int rc = kind == HQIO_PLATFORM_RESET_BUS	? hqio_vfio_hot_reset(v, bdf, &e)
		 : kind == HQIO_PLATFORM_RESET_FUNCTION ? hqio_vfio_reset(v, bdf, NULL, &e)
							: -EINVAL;
	if (rc)
		fail(v, rc, "%s", e.msg[0] ? e.msg : "unknown platform reset");
	return rc;
}

void hqio_vfio_host_ops(struct hqio_vfio *v, struct hqio_host_ops *ops)
{
	*ops = (struct hqio_host_ops){
		.ctx = v,
		.flags = HQIO_HOST_CFG_RESTORED,
		.cfg_read = v_cfg_read,
		.cfg_write = v_cfg_write,
		.bar_read = v_bar_read,
		.bar_write = v_bar_write,
		.now_ns = v_now,
		.sleep_ns = v_sleep,
		.wait_until = v_wait_until,
		.irq_set = v_irq_set,
		.irq_mask = v_irq_mask,
		.dma_map = v_dma_map,
		.dma_unmap = v_dma_unmap,
		.ats_invalidate = v_ats_invalidate,
		.platform_reset = v_platform_reset,
	};
}
