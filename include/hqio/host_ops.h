/*
 * struct hqio_host_ops: everything lib/ needs from the world, as one table
 * of function pointers plus an opaque context. sim/ implements it for the
 * simulated platform; host/ will implement it for Linux VFIO. Code in lib/
 * cannot tell the two apart.
 *
 * Conventions: every function returns 0 or a negative errno-style code.
 * Time is virtual in the simulator: sleep_ns and wait_until advance it by
 * running the platform's events; on Linux they block.
 */
#ifndef HQIO_HOST_OPS_H
#define HQIO_HOST_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "hqio/pci.h"

enum hqio_irq_type {
	HQIO_IRQ_INTX = 0,
	HQIO_IRQ_MSI,
	HQIO_IRQ_MSIX,
};

/* Called when a host interrupt of a device fires (vector within its type). */
typedef void (*hqio_irq_fn)(void *arg, struct hqio_bdf bdf, enum hqio_irq_type type,
			    unsigned vector);

/* DMA mapping permissions. */
#define HQIO_DMA_READ 0x1
#define HQIO_DMA_WRITE 0x2

/* Reset primitives a platform may offer directly (besides config writes). */
enum hqio_platform_reset {
	HQIO_PLATFORM_RESET_FUNCTION = 0, /* the platform's own choice (VFIO_DEVICE_RESET) */
	HQIO_PLATFORM_RESET_BUS,          /* secondary bus reset of the parent (hot reset) */
};

/* struct hqio_host_ops.flags */
/* The platform saves and restores (or virtualizes) configuration space
 * around its resets, as Linux VFIO does (BARs, Command, PCIe control, MSI-X
 * control): lib/reset then trusts only canaries the platform leaves alone,
 * the MSI Message Address/Data written while MSI is disabled (Linux
 * restores MSI state only when MSI is enabled; the backend must let those
 * writes reach the device) and the device-register hooks. */
#define HQIO_HOST_CFG_RESTORED 0x1

struct hqio_host_ops {
	void *ctx;
	unsigned flags; /* HQIO_HOST_* */

	/* Configuration space, 1, 2 or 4 bytes, naturally aligned. */
	int (*cfg_read)(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size,
			uint32_t *val);
	int (*cfg_write)(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size,
			 uint32_t val);
	/* BAR (memory or I/O) access at an offset inside BAR bar, 1/2/4/8 bytes. */
	int (*bar_read)(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off,
			unsigned size, uint64_t *val);
	int (*bar_write)(void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off,
			 unsigned size, uint64_t val);

	/* Time. */
	uint64_t (*now_ns)(void *ctx);
	int (*sleep_ns)(void *ctx, uint64_t ns);
	/* Wait until cond(arg) holds, checking at least every poll_ns; -ETIMEDOUT
	 * after timeout_ns. */
	int (*wait_until)(void *ctx, bool (*cond)(void *arg), void *arg, uint64_t poll_ns,
			  uint64_t timeout_ns);

	/* Host interrupts: route count vectors of type to fn (the backend
	 * programs the device's MSI/MSI-X with host addresses, as VFIO does);
	 * count 0 disables the type. mask/unmask one vector. */
	int (*irq_set)(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned count,
		       hqio_irq_fn fn, void *arg);
	int (*irq_mask)(void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector,
			bool masked);

	/* DMA: map [iova, iova+len) of the device's IOMMU domain to host memory
	 * at host_addr (a process address under VFIO, a simulated host-physical
	 * address in the simulator). */
	int (*dma_map)(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t host_addr,
		       uint64_t len, unsigned prot);
	int (*dma_unmap)(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len);
	/* Invalidate the device's ATS translation cache for [iova, iova+len)
	 * (len 0 = everything) and wait for completion. */
	int (*ats_invalidate)(void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len);

	/* A reset primitive of the platform; -EOPNOTSUPP when it has none, in
	 * which case lib/reset drives the reset through configuration writes. */
	int (*platform_reset)(void *ctx, struct hqio_bdf bdf, enum hqio_platform_reset kind);
};

#endif
