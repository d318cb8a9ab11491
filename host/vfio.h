/*
 * Linux VFIO backend: struct hqio_host_ops on real devices through the
 * legacy VFIO container with the TYPE1v2 IOMMU (Linux
 * Documentation/driver-api/vfio.rst, include/uapi/linux/vfio.h).
 *
 * One struct hqio_vfio is one container (one IOMMU address space) holding
 * the groups of the devices added to it. Devices must be bound to vfio-pci
 * first (hqio_sysfs_bind_vfio). Errors come back as a negative errno with
 * a sentence in struct hqio_error; the host_ops functions, which have no
 * error argument, leave theirs in hqio_vfio_error().
 */
#ifndef HQIO_HOST_VFIO_H
#define HQIO_HOST_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hqio/error.h"
#include "hqio/host_ops.h"
#include "hqio/pci.h"

#define HQIO_VFIO_DEV_DIR  "/dev/vfio"
#define HQIO_VFIO_MAX_DEVS 8
#define HQIO_VFIO_MAX_IRQS 128 /* eventfds per interrupt type of a device */

struct hqio_vfio;

/* Where to look (tests point these at fake trees); NULL fields take the
 * defaults /sys and /dev/vfio. */
struct hqio_vfio_paths {
	const char *sys;
	const char *dev_vfio;
};

/* Open the container; checks the API version and TYPE1v2 support. */
int hqio_vfio_open(const struct hqio_vfio_paths *paths, struct hqio_vfio **out,
		   struct hqio_error *err);
/* Unmaps, disables interrupts, closes everything (NULL is fine). */
void hqio_vfio_close(struct hqio_vfio *v);

/* Add a device: its group is checked (viable: every member bound to
 * vfio-pci or to nothing, else the others and their drivers are named),
 * attached to the container (the first one sets the IOMMU), and the device
 * fd and its regions are read. */
int hqio_vfio_add(struct hqio_vfio *v, struct hqio_bdf bdf, struct hqio_error *err);

/* What hqio_vfio_add checks in sysfs before it opens anything: the device
 * exists, is in an IOMMU group (-ENODEV: the IOMMU is off), is bound to
 * vfio-pci (-EBUSY naming its host driver) and its group is viable (-EBUSY
 * naming the other members bound to host drivers). sys NULL = /sys. */
int hqio_vfio_check_assignable(const char *sys, struct hqio_bdf bdf, int *group,
			       struct hqio_error *err);

/* The backend as a host_ops table (flags: HQIO_HOST_CFG_RESTORED). */
void hqio_vfio_host_ops(struct hqio_vfio *v, struct hqio_host_ops *ops);

/* The sentence of the last failed host_ops call. */
const struct hqio_error *hqio_vfio_error(const struct hqio_vfio *v);

/* mmap a BAR (read/write, shared); *len gets its size. */
int hqio_vfio_bar_mmap(struct hqio_vfio *v, struct hqio_bdf bdf, unsigned bar, void **p,
		       uint64_t *len, struct hqio_error *err);

/* Number of vectors VFIO offers for a type (VFIO_DEVICE_GET_IRQ_INFO). */
int hqio_vfio_irq_count(struct hqio_vfio *v, struct hqio_bdf bdf, enum hqio_irq_type type,
			unsigned *count, struct hqio_error *err);

/* Wait up to timeout_ns for interrupts and call the handlers registered
 * with irq_set, once per signal counted by the eventfd. Returns the number
 * of signals delivered (0 on timeout) or -errno. */
int hqio_vfio_dispatch(struct hqio_vfio *v, uint64_t timeout_ns);

/* ---- for a monitor that wires the device into KVM ------------------
 * The fds stay owned by v (valid until hqio_vfio_close); -ENODEV when bdf
 * was not added. */
/* 1 when the container's IOMMU enforces cache coherency for DMA
 * (VFIO_DMA_CC_IOMMU: snoop control, so No-Snoop is ignored), 0 when a
 * device may DMA without snooping (KVM then registers non-coherent DMA
 * for its group), -errno when unknown. */
int hqio_vfio_iommu_coherent(struct hqio_vfio *v);
/* The fd of bdf's IOMMU group (/dev/vfio/N), e.g. for KVM's VFIO device
 * (KVM_DEV_VFIO_GROUP_ADD). */
int hqio_vfio_group_fd(struct hqio_vfio *v, struct hqio_bdf bdf);
/* The VFIO device fd of bdf. */
int hqio_vfio_device_fd(struct hqio_vfio *v, struct hqio_bdf bdf);
/* Point the triggers of vectors [0, count) of an interrupt type already
 * enabled through host_ops irq_set at the caller's eventfds (e.g. KVM
 * irqfds), without disabling the type (VFIO_DEVICE_SET_IRQS on an enabled
 * block swaps its eventfds). The caller keeps owning efds and keeps them
 * open while the type is on; hqio_vfio_dispatch no longer sees these
 * vectors. A later irq_set of the type re-creates the backend's own. */
int hqio_vfio_set_irq_eventfds(struct hqio_vfio *v, struct hqio_bdf bdf, enum hqio_irq_type type,
			       const int *efds, unsigned count, struct hqio_error *err);
/* Have VFIO unmask bdf's INTx whenever efd is signalled (VFIO's virqfd:
 * e.g. KVM's resample eventfd, so that the guest's EOI unmasks the line in
 * the kernel); efd -1 removes it. INTx must be enabled (irq_set). */
int hqio_vfio_set_intx_unmask_eventfd(struct hqio_vfio *v, struct hqio_bdf bdf, int efd,
				      struct hqio_error *err);

/* VFIO_DEVICE_RESET with Linux's reset_method narrowed to method ("flr",
 * "pm", ...; NULL: Linux's own order) for the call, then written back. */
int hqio_vfio_reset(struct hqio_vfio *v, struct hqio_bdf bdf, const char *method,
		    struct hqio_error *err);
/* Secondary bus reset through VFIO_DEVICE_PCI_HOT_RESET: every group the
 * reset touches must be in this container (the missing ones are named). */
int hqio_vfio_hot_reset(struct hqio_vfio *v, struct hqio_bdf bdf, struct hqio_error *err);

#endif
