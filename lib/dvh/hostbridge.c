/*
 * lib/dvh/hostbridge.c (hqio/dvh.h): the virtual host bridge a guest sees
 * at 00:00.0 when an assigned device's drivers depend on the chipset.
 * It shows the host bridge's identity and the registers the quirks name,
 * copied once at init, and nothing writable: a guest write to the host
 * bridge would reprogram the host's memory controller (PAM, SMRAM,
 * PCIEXBAR, TOLUD-like registers), so every write is dropped and counted.
 */
#include "hqio/dvh.h"

#include <errno.h>
#include <string.h>

/* PCI LB 3.0 §6.1, figure 6-1: the identity registers of a type 0 header. */
static const struct hqio_dvh_reg identity[] = {
	{ .off = 0x00, .size = 4 }, /* Vendor ID, Device ID */
	{ .off = 0x08, .size = 4 }, /* Revision ID, Class Code */
	{ .off = 0x0e, .size = 1 }, /* Header Type */
	{ .off = 0x2c, .size = 4 }, /* Subsystem Vendor ID, Subsystem ID */
};

static bool valid(uint16_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off % size == 0 &&
	       (unsigned)off + size <= HQIO_PCI_CFG_SIZE;
}

static int copy_reg(struct hqio_dvh_hostbridge *hb, const struct hqio_host_ops *ops,
		    struct hqio_bdf host, const struct hqio_dvh_reg *r)
{
	if (!valid((uint16_t)r->off, r->size) || r->off > 0xff)
		return -EINVAL;
	uint32_t x = 0;
	int rc = ops->cfg_read(ops->ctx, host, (uint16_t)r->off, r->size, &x);
	if (rc)
		return rc;
	for (unsigned i = 0; i < r->size; i++) {
		hb->cfg[r->off + i] = (uint8_t)(x >> (8 * i));
		hb->shown[r->off + i] = true;
	}
	return 0;
}

int hqio_dvh_hostbridge_init(struct hqio_dvh_hostbridge *hb, const struct hqio_host_ops *ops,
			     struct hqio_bdf host_hb, const struct hqio_dvh_quirk *const *quirks,
			     size_t n, struct hqio_error *err)
{
	if (!hb || !ops || !ops->cfg_read || (n && !quirks))
		return hqio_error_set(err, -EINVAL, "dvh: host bridge: missing argument");
	memset(hb, 0, sizeof(*hb));
	for (size_t i = 0; i < sizeof(identity) / sizeof(identity[0]); i++) {
		int rc = copy_reg(hb, ops, host_hb, &identity[i]);
		if (rc)
			return hqio_error_set(err, rc, "dvh: host bridge identity not readable");
	}
	uint16_t vendor = (uint16_t)(hb->cfg[0] | hb->cfg[1] << 8);
	if (vendor == 0xffff || vendor == 0)
		return hqio_error_set(err, -ENODEV, "dvh: no host bridge at the given address");
	/* A host bridge is a type 0 function; the guest sees a single one. */
	hb->cfg[0x0e] &= 0x7f;
	for (size_t i = 0; i < n; i++) {
		const struct hqio_dvh_quirk *q = quirks[i];
		if (!q)
			continue;
		if (q->n_hb_regs > HQIO_DVH_MAX_HB_REGS)
			return hqio_error_set(err, -EINVAL, "dvh: quirk '%s': bad register list",
					      q->name ? q->name : "?");
		for (unsigned k = 0; k < q->n_hb_regs; k++) {
			int rc = copy_reg(hb, ops, host_hb, &q->hb_regs[k]);
			if (rc)
				return hqio_error_set(err, rc,
						      "dvh: quirk '%s': host bridge register %#x "
						      "(%u bytes) not readable",
						      q->name ? q->name : "?", q->hb_regs[k].off,
						      q->hb_regs[k].size);
		}
	}
	return 0;
}

int hqio_dvh_hostbridge_read(struct hqio_dvh_hostbridge *hb, uint16_t off, unsigned size,
			     uint32_t *val)
{
	if (!hb || !val)
		return -EINVAL;
	if (!valid(off, size)) {
		/* 100h-FFFh: no extended capabilities, which PCIe 5.0 §7.6.3
		 * says a header of all zeroes at 100h indicates: read 0. */
		if ((size == 1 || size == 2 || size == 4) && off % size == 0 &&
		    (unsigned)off + size <= HQIO_PCI_CFG_EXP_SIZE) {
			*val = 0;
			hb->reads++;
			return 0;
		}
		return -EINVAL;
	}
	uint32_t x = 0;
	for (unsigned i = 0; i < size; i++)
		x |= (uint32_t)(hb->shown[off + i] ? hb->cfg[off + i] : 0) << (8 * i);
	*val = x;
	hb->reads++;
	return 0;
}

int hqio_dvh_hostbridge_write(struct hqio_dvh_hostbridge *hb, uint16_t off, unsigned size,
			      uint32_t val)
{
	(void)val;
	if (!hb || !(size == 1 || size == 2 || size == 4) || off % size ||
	    (unsigned)off + size > HQIO_PCI_CFG_EXP_SIZE)
		return -EINVAL;
	hb->writes_dropped++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Host ops for a guest: 00:00.0 is the virtual host bridge              */
/* ------------------------------------------------------------------ */

static struct hqio_dvh_hostbridge *hbof(void *ctx)
{
	return ctx;
}

static int h_cfg_read(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t *val)
{
	struct hqio_dvh_hostbridge *hb = hbof(ctx);
	if (!hqio_bdf_cmp(bdf, hb->at))
		return hqio_dvh_hostbridge_read(hb, off, size, val);
	if (!hb->inner->cfg_read)
		return -EOPNOTSUPP;
	return hb->inner->cfg_read(hb->inner->ctx, bdf, off, size, val);
}

static int h_cfg_write(void *ctx, struct hqio_bdf bdf, uint16_t off, unsigned size, uint32_t val)
{
	struct hqio_dvh_hostbridge *hb = hbof(ctx);
	if (!hqio_bdf_cmp(bdf, hb->at))
		return hqio_dvh_hostbridge_write(hb, off, size, val);
	if (!hb->inner->cfg_write)
		return -EOPNOTSUPP;
	return hb->inner->cfg_write(hb->inner->ctx, bdf, off, size, val);
}

#define FWD(name, proto, call)                                                                     \
	static int h_##name proto                                                                  \
	{                                                                                          \
		const struct hqio_host_ops *in = hbof(ctx)->inner;                                 \
		return in->name call;                                                              \
	}

FWD(bar_read,
    (void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size, uint64_t *val),
    (in->ctx, bdf, bar, off, size, val))
FWD(bar_write,
    (void *ctx, struct hqio_bdf bdf, unsigned bar, uint64_t off, unsigned size, uint64_t val),
    (in->ctx, bdf, bar, off, size, val))
FWD(sleep_ns, (void *ctx, uint64_t ns), (in->ctx, ns))
FWD(wait_until,
    (void *ctx, bool (*cond)(void *arg), void *arg, uint64_t poll_ns, uint64_t timeout_ns),
    (in->ctx, cond, arg, poll_ns, timeout_ns))
FWD(irq_set,
    (void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned count, hqio_irq_fn fn,
     void *arg),
    (in->ctx, bdf, type, count, fn, arg))
FWD(irq_mask,
    (void *ctx, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector, bool masked),
    (in->ctx, bdf, type, vector, masked))
FWD(dma_map,
    (void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t host_addr, uint64_t len,
     unsigned prot),
    (in->ctx, bdf, iova, host_addr, len, prot))
FWD(dma_unmap, (void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len),
    (in->ctx, bdf, iova, len))
FWD(ats_invalidate, (void *ctx, struct hqio_bdf bdf, uint64_t iova, uint64_t len),
    (in->ctx, bdf, iova, len))
FWD(platform_reset, (void *ctx, struct hqio_bdf bdf, enum hqio_platform_reset kind),
    (in->ctx, bdf, kind))

static uint64_t h_now_ns(void *ctx)
{
	const struct hqio_host_ops *in = hbof(ctx)->inner;
	return in->now_ns(in->ctx);
}

void hqio_dvh_hostbridge_ops(struct hqio_dvh_hostbridge *hb, const struct hqio_host_ops *inner,
			     struct hqio_host_ops *out)
{
	hb->inner = inner;
	*out = (struct hqio_host_ops){
		.ctx = hb,
		.flags = inner->flags,
		.cfg_read = h_cfg_read,
		.cfg_write = h_cfg_write,
		.bar_read = inner->bar_read ? h_bar_read : NULL,
		.bar_write = inner->bar_write ? h_bar_write : NULL,
		.now_ns = inner->now_ns ? h_now_ns : NULL,
		.sleep_ns = inner->sleep_ns ? h_sleep_ns : NULL,
		.wait_until = inner->wait_until ? h_wait_until : NULL,
		.irq_set = inner->irq_set ? h_irq_set : NULL,
		.irq_mask = inner->irq_mask ? h_irq_mask : NULL,
		.dma_map = inner->dma_map ? h_dma_map : NULL,
		.dma_unmap = inner->dma_unmap ? h_dma_unmap : NULL,
		.ats_invalidate = inner->ats_invalidate ? h_ats_invalidate : NULL,
		.platform_reset = inner->platform_reset ? h_platform_reset : NULL,
	};
}
