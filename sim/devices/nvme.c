/*
 * NVMe-like controller (QEMU's 1b36:0010 identity) with optional SR-IOV
 * and ATS; see devices.h. The NVMe registers are storage with the CC/CSTS
 * handshake; there are no queues. A model doorbell starts a delayed DMA
 * write that is visible as Transactions Pending while in flight.
 */
#include "devices/devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NVME_MAX_VFS 7		 /* functions 1..7 of the PF's device without ARI */
#define NVME_TAG     0x4e564d45u /* "NVME": event tag in the engine trace */

struct nvme_vf {
	struct sim_fn *f;
	uint8_t dev, fn; /* where VF Enable makes it appear */
};

struct nvme {
	/* NVMe registers */
	uint32_t intms, cc, aqa;
	uint64_t asq, acq;
	/* DMA doorbell */
	uint32_t dma_lo, dma_hi, dma_len, dma_pattern, dma_status;
	sim_event_id dma_ev;
	/* SR-IOV */
	unsigned n_vfs;
	struct nvme_vf vf[NVME_MAX_VFS];
	bool vfs_shown[NVME_MAX_VFS];
};

/* NVMe 1.4 §3.1.1 CAP: MQES 2047 (bits 15:0, 0's based), CQR (bit 16),
 * TO 15 x 500 ms (bits 31:24), DSTRD 0 (bits 35:32), CSS NVM (bit 37),
 * MPSMIN 0 = 4 KiB (bits 51:48), MPSMAX 4 = 64 KiB (bits 55:52). */
#define NVME_CAP_VALUE                                                                             \
	(0x07ffULL | 1ULL << 16 | 0x0fULL << 24 | 1ULL << 37 | 0ULL << 48 | 4ULL << 52)
#define NVME_VS_VALUE	    0x00010400u /* NVMe 1.4 §3.1.2: 1.4.0 */
#define NVME_CC_EN	    0x1u
#define NVME_CC_SHN	    (3u << 14) /* NVMe 1.4 §3.1.5 */
#define NVME_CSTS_RDY	    0x1u
#define NVME_CSTS_SHST_DONE (2u << 2) /* NVMe 1.4 §3.1.6: shutdown complete */

static void nvme_irq(struct sim_fn *f, bool edge)
{
	struct nvme *n = f->priv;
	sim_dev_irq_update(f, 0, (n->dma_status & SIM_NVME_DMA_DONE) != 0, edge);
}

/* ---- SR-IOV ---------------------------------------------------------- */

static void vf_show(struct nvme *n, unsigned i, bool show)
{
	struct nvme_vf *v = &n->vf[i];
	if (!v->f || n->vfs_shown[i] == show)
		return;
	n->vfs_shown[i] = show;
	if (show) {
		/* A new VF starts from its power-on state and answers 100 ms
		 * after VF Enable (PCIe 5.0 §9.3.3.3.1). */
		sim_fn_reset(v->f);
		v->f->dev = v->dev;
		v->f->fn = v->fn;
		v->f->ready_at_ns = v->f->plat->eng.now_ns + SIM_T_RESET_READY_NS;
	} else {
		v->f->dev = SIM_DEV_HIDDEN;
		sim_fn_reset(v->f);
	}
}

static void vfs_sync(struct sim_fn *f)
{
	struct nvme *n = f->priv;
	if (!f->sriov)
		return;
	uint16_t ctrl = (uint16_t)sim_fn_cfg_get(f, f->sriov + HQIO_PCI_SRIOV_CTRL, 2);
	uint16_t num = (uint16_t)sim_fn_cfg_get(f, f->sriov + HQIO_PCI_SRIOV_NUM_VF, 2);
	bool vfe = ctrl & HQIO_PCI_SRIOV_CTRL_VFE;
	for (unsigned i = 0; i < n->n_vfs; i++)
		vf_show(n, i, vfe && i < num);
}

/* ---- DMA doorbell ------------------------------------------------------ */

static void nvme_reset(struct sim_fn *f);

static void nvme_dma_done(void *arg, uint64_t now)
{
	struct sim_fn *f = arg;
	struct nvme *n = f->priv;
	uint8_t buf[SIM_NVME_DMA_MAX];
	(void)now;
	n->dma_ev = 0;
	if (f->in_reset) {
		/* Held in reset by a bus reset still asserted (the platform
		 * resets the state when it ends): the transfer is lost. */
		nvme_reset(f);
		return;
	}
	for (uint32_t i = 0; i < n->dma_len; i++)
		buf[i] = (uint8_t)(n->dma_pattern + i);
	int rc = sim_dma_write(f, (uint64_t)n->dma_hi << 32 | n->dma_lo, buf, n->dma_len);
	sim_dma_end(f);
	n->dma_status = SIM_NVME_DMA_DONE | (uint32_t)(rc < 0 ? -rc : 0) << 16;
	nvme_irq(f, true); /* MSI-X vector 0 */
}

static void nvme_doorbell(struct sim_fn *f)
{
	struct nvme *n = f->priv;
	if (n->dma_status & SIM_NVME_DMA_BUSY)
		return;
	if (n->dma_len == 0 || n->dma_len > SIM_NVME_DMA_MAX) {
		n->dma_status = SIM_NVME_DMA_DONE | (uint32_t)EINVAL << 16;
		nvme_irq(f, true);
		return;
	}
	n->dma_status = SIM_NVME_DMA_BUSY;
	nvme_irq(f, false);
	sim_dma_begin(f); /* Transactions Pending until the completion */
	n->dma_ev = sim_schedule(&f->plat->eng, SIM_NVME_DMA_NS, nvme_dma_done, f, NVME_TAG);
	if (!n->dma_ev) { /* engine out of memory: fail the command */
		sim_dma_end(f);
		n->dma_status = SIM_NVME_DMA_DONE | (uint32_t)ENOMEM << 16;
		nvme_irq(f, true);
	}
}

/* ---- registers ---------------------------------------------------------- */

static uint32_t nvme_rd(struct sim_fn *f, unsigned bar, uint64_t off)
{
	struct nvme *n = f->priv;
	if (bar != 0)
		return 0;
	switch (off) {
	case SIM_NVME_CAP:
		return (uint32_t)NVME_CAP_VALUE;
	case SIM_NVME_CAP + 4:
		return (uint32_t)(NVME_CAP_VALUE >> 32);
	case SIM_NVME_VS:
		return NVME_VS_VALUE;
	case SIM_NVME_INTMS:
	case SIM_NVME_INTMC:
		return n->intms;
	case SIM_NVME_CC:
		return n->cc;
	case SIM_NVME_CSTS: {
		uint32_t v = (n->cc & NVME_CC_EN) ? NVME_CSTS_RDY : 0;
		if (n->cc & NVME_CC_SHN)
			v |= NVME_CSTS_SHST_DONE;
		return v;
	}
	case SIM_NVME_AQA:
		return n->aqa;
	case SIM_NVME_ASQ:
		return (uint32_t)n->asq;
	case SIM_NVME_ASQ + 4:
		return (uint32_t)(n->asq >> 32);
	case SIM_NVME_ACQ:
		return (uint32_t)n->acq;
	case SIM_NVME_ACQ + 4:
		return (uint32_t)(n->acq >> 32);
	case SIM_NVME_DMA_ADDR_LO:
		return n->dma_lo;
	case SIM_NVME_DMA_ADDR_HI:
		return n->dma_hi;
	case SIM_NVME_DMA_LEN:
		return n->dma_len;
	case SIM_NVME_DMA_PATTERN:
		return n->dma_pattern;
	case SIM_NVME_DMA_STATUS:
		return n->dma_status;
	default:
		return 0;
	}
}

static void set_lo(uint64_t *r, uint32_t val, uint32_t mask)
{
	*r = (*r & ~0xffffffffULL) | sim_dev_merge((uint32_t)*r, val, mask);
}

static void set_hi(uint64_t *r, uint32_t val, uint32_t mask)
{
	*r = (*r & 0xffffffffULL) | (uint64_t)sim_dev_merge((uint32_t)(*r >> 32), val, mask) << 32;
}

static void nvme_wr(struct sim_fn *f, unsigned bar, uint64_t off, uint32_t val, uint32_t mask)
{
	struct nvme *n = f->priv;
	if (bar != 0)
		return;
	switch (off) {
	case SIM_NVME_INTMS: /* NVMe 1.4 §3.1.3-4: 1s set / clear mask bits */
		n->intms |= val & mask;
		return;
	case SIM_NVME_INTMC:
		n->intms &= ~(val & mask);
		return;
	case SIM_NVME_CC:
		n->cc = sim_dev_merge(n->cc, val, mask);
		return;
	case SIM_NVME_AQA:
		n->aqa = sim_dev_merge(n->aqa, val, mask);
		return;
	case SIM_NVME_ASQ:
		set_lo(&n->asq, val, mask);
		return;
	case SIM_NVME_ASQ + 4:
		set_hi(&n->asq, val, mask);
		return;
	case SIM_NVME_ACQ:
		set_lo(&n->acq, val, mask);
		return;
	case SIM_NVME_ACQ + 4:
		set_hi(&n->acq, val, mask);
		return;
	case SIM_NVME_DMA_ADDR_LO:
		n->dma_lo = sim_dev_merge(n->dma_lo, val, mask);
		return;
	case SIM_NVME_DMA_ADDR_HI:
		n->dma_hi = sim_dev_merge(n->dma_hi, val, mask);
		return;
	case SIM_NVME_DMA_LEN:
		n->dma_len = sim_dev_merge(n->dma_len, val, mask);
		return;
	case SIM_NVME_DMA_PATTERN:
		n->dma_pattern = sim_dev_merge(n->dma_pattern, val, mask);
		return;
	case SIM_NVME_DMA_DOORBELL:
		if (val & mask & 1)
			nvme_doorbell(f);
		return;
	case SIM_NVME_DMA_STATUS:
		n->dma_status &= ~(val & mask & SIM_NVME_DMA_DONE);
		if (!(n->dma_status & SIM_NVME_DMA_DONE))
			n->dma_status &= SIM_NVME_DMA_BUSY; /* error code goes with DONE */
		nvme_irq(f, false);
		return;
	default:
		return; /* doorbells 0x1000+ and the rest: no queues modelled */
	}
}

static uint64_t nvme_mmio_read(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size)
{
	return sim_dev_read_split(f, bar, off, size, nvme_rd);
}

static void nvme_mmio_write(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			    uint64_t val)
{
	sim_dev_write_split(f, bar, off, size, val, nvme_wr);
}

static void nvme_cfg_written(struct sim_fn *f, uint16_t off, unsigned size, uint32_t old_val,
			     uint32_t new_val)
{
	(void)old_val;
	(void)new_val;
	unsigned lo = f->sriov + HQIO_PCI_SRIOV_CTRL, hi = f->sriov + HQIO_PCI_SRIOV_NUM_VF + 2u;
	if (f->sriov && off < hi && lo < off + size)
		vfs_sync(f);
	nvme_irq(f, false);
}

static void nvme_reset(struct sim_fn *f)
{
	struct nvme *n = f->priv;
	/* A reset aborts the transfer: nothing is written; the platform has
	 * already cleared the outstanding count (sim_dma_reset). */
	if (n->dma_ev)
		sim_cancel(&f->plat->eng, n->dma_ev);
	n->dma_ev = 0;
	n->intms = n->cc = n->aqa = 0;
	n->asq = n->acq = 0;
	n->dma_lo = n->dma_hi = n->dma_len = n->dma_pattern = n->dma_status = 0;
	/* The PF's SR-IOV registers are back at power-on: VF Enable clear, so
	 * the VFs go away (PCIe 5.0 §9.3.3.3.1). */
	vfs_sync(f);
}

static void nvme_destroy(struct sim_fn *f)
{
	free(f->priv);
	f->priv = NULL;
}

static const struct sim_fn_ops nvme_ops = {
	.kind = "nvme",
	.reset = nvme_reset,
	.mmio_read = nvme_mmio_read,
	.mmio_write = nvme_mmio_write,
	.cfg_written = nvme_cfg_written,
	.destroy = nvme_destroy,
};

static const struct sim_fn_ops nvme_vf_ops = {
	.kind = "nvme-vf",
};

static struct sim_fn *vf_new(struct sim_platform *p, struct sim_fn *pf, uint8_t dev, uint8_t fn)
{
	struct sim_fn *v = sim_fn_new(p, pf->parent, dev, fn, HQIO_PCI_CFG_EXP_SIZE, "nvme-vf",
				      &nvme_vf_ops, NULL);
	if (!v)
		return NULL;
	v->faults = 0;
	/* PCIe 5.0 §9.3.4.1.1-2: a VF's Vendor ID and Device ID read 0xffff. */
	sim_fn_header(v, 0xffff, 0xffff, 0x010802, HQIO_PCI_HEADER_TYPE_NORMAL, 0);
	/* §9.3.4.1.3: I/O and Memory Space Enable, INTx Disable and the error
	 * enables do not apply to a VF (read-only 0); Bus Master does. */
	v->wmask[HQIO_PCI_COMMAND] = HQIO_PCI_COMMAND_MASTER;
	v->wmask[HQIO_PCI_COMMAND + 1] = 0;
	/* §9.2.2.2: FLR of a VF; every VF implements it. */
	sim_add_exp(v, 0x40, HQIO_PCI_EXP_TYPE_ENDPOINT, true, 3, 4);
	sim_fn_finalize(v);
	return v;
}

struct sim_fn *sim_dev_nvme_ex(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
			       uint8_t fn, const struct sim_nvme_opts *o)
{
	struct sim_nvme_opts d = { 0 };
	if (!o)
		o = &d;
	struct nvme *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	struct sim_fn *f =
		sim_fn_new(p, parent, dev, fn, HQIO_PCI_CFG_EXP_SIZE, "nvme", &nvme_ops, n);
	if (!f) {
		free(n);
		return NULL;
	}
	f->faults = o->faults;
	sim_fn_header(f, SIM_NVME_VENDOR, SIM_NVME_DEVICE, 0x010802, HQIO_PCI_HEADER_TYPE_NORMAL,
		      1);
	hqio_cfgb_w8(&f->b, HQIO_PCI_REVISION_ID, 0x02);
	hqio_cfgb_w16(&f->b, HQIO_PCI_SUBSYSTEM_VENDOR_ID, 0x1af4); /* as QEMU sets */
	hqio_cfgb_w16(&f->b, HQIO_PCI_SUBSYSTEM_ID, 0x1100);
	sim_fn_bar(f, 0, SIM_NVME_BAR0_SIZE, HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64);
	sim_add_pm(f, 0x40, true);
	sim_add_msix(f, 0x50, SIM_NVME_MSIX_ENTRIES, 0, SIM_NVME_MSIX_TABLE, SIM_NVME_MSIX_PBA);
	sim_add_exp(f, 0x60, HQIO_PCI_EXP_TYPE_ENDPOINT, true, 3, 4);
	uint16_t ext = 0x100;
	uint16_t total = o->total_vfs > NVME_MAX_VFS ? NVME_MAX_VFS : o->total_vfs;
	uint16_t voff = o->vf_offset ? o->vf_offset : 1, vstride = o->vf_stride ? o->vf_stride : 1;
	if (total) {
		sim_add_ext_sriov(f, ext, total, voff, vstride, SIM_NVME_VF_DEVICE);
		ext += 0x40;
	}
	if (o->ats)
		sim_add_ext_ats(f, ext);
	sim_fn_finalize(f);

	/* VFs: routing ID = PF + offset + i * stride (PCIe 5.0 §9.3.3.9-10),
	 * on the PF's bus only (a VF on a higher bus number is not modelled). */
	unsigned pf_devfn = (unsigned)dev << 3 | fn;
	for (unsigned i = 0; i < total; i++) {
		unsigned devfn = pf_devfn + voff + i * vstride;
		if (devfn > 0xff)
			break;
		struct sim_fn *v = vf_new(p, f, (uint8_t)(devfn >> 3), (uint8_t)(devfn & 7));
		if (!v)
			return NULL;
		n->vf[i].f = v;
		n->vf[i].dev = (uint8_t)(devfn >> 3);
		n->vf[i].fn = (uint8_t)(devfn & 7);
		v->dev = SIM_DEV_HIDDEN; /* VF Enable is clear at power-on */
		n->n_vfs = i + 1;
	}
	return f;
}

struct sim_fn *sim_dev_nvme(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			    unsigned faults)
{
	struct sim_nvme_opts o = { .faults = faults };
	return sim_dev_nvme_ex(p, parent, dev, fn, &o);
}

struct sim_fn *sim_dev_nvme_vf(const struct sim_fn *pf, unsigned i)
{
	if (!pf || pf->ops != &nvme_ops)
		return NULL;
	const struct nvme *n = pf->priv;
	return i < n->n_vfs ? n->vf[i].f : NULL;
}
