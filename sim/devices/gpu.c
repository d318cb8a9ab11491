/*
 * GPU-like function (NVIDIA GP104 identity): a configuration-space mirror
 * in BAR0 that reaches the real configuration space, and a register whose
 * correct value depends on the host bridge; see devices.h.
 */
#include "devices/devices.h"

#include <stdlib.h>

struct gpu {
	uint32_t intr, intr_en;
	uint32_t stolen_base;
	bool stolen_set;
};

uint32_t sim_gpu_stolen_base(uint16_t hb_tolud)
{
	/* Bits 15:4 of the TOLUD-like register are address bits 31:20. */
	return ((uint32_t)(hb_tolud & 0xfff0u) << 16) - SIM_GPU_STOLEN_SIZE;
}

static void gpu_irq(struct sim_fn *f, bool edge)
{
	struct gpu *g = f->priv;
	sim_dev_irq_update(f, 0, (g->intr & g->intr_en) != 0, edge);
}

static uint32_t stolen_status(const struct sim_fn *f)
{
	const struct gpu *g = f->priv;
	const struct sim_fn *hb = f->plat->host_bridge;
	if (!g->stolen_set)
		return 0;
	/* The device is wired to the real memory map: it compares with the
	 * physical host bridge, whatever the driver was shown. */
	uint16_t tolud = hb ? (uint16_t)sim_fn_cfg_get(hb, SIM_GPU_HB_TOLUD, 2) : 0;
	return g->stolen_base == sim_gpu_stolen_base(tolud) ? 1 : 2;
}

static uint32_t gpu_rd(struct sim_fn *f, unsigned bar, uint64_t off)
{
	struct gpu *g = f->priv;
	if (bar != 0)
		return 0; /* BAR1: no VRAM modelled */
	if (off >= SIM_GPU_CFG_MIRROR && off < SIM_GPU_CFG_MIRROR + SIM_GPU_CFG_MIRROR_SIZE)
		return sim_fn_cfg_get(f, (uint16_t)(off - SIM_GPU_CFG_MIRROR), 4);
	switch (off) {
	case SIM_GPU_BOOT_0:
		return SIM_GPU_BOOT_0_VALUE;
	case SIM_GPU_INTR:
		return g->intr;
	case SIM_GPU_INTR_EN:
		return g->intr_en;
	case SIM_GPU_STOLEN_BASE:
		return g->stolen_base;
	case SIM_GPU_STOLEN_STATUS:
		return stolen_status(f);
	default:
		return 0;
	}
}

/* A write into the mirror is a configuration write to the function's own
 * BDF: naturally aligned 1/2/4-byte pieces, as configuration requests are. */
static void mirror_write(struct sim_fn *f, uint16_t off, uint32_t val, uint32_t mask)
{
	struct sim_platform *p = f->plat;
	struct hqio_bdf bdf = sim_fn_bdf(f);
	if (mask == 0xffffffffu) {
		sim_cfg_write(p, bdf, off, 4, val);
		return;
	}
	for (unsigned b = 0; b < 4;) {
		uint32_t m2 = 0xffffu << (8 * b);
		if (b % 2 == 0 && (mask & m2) == m2) {
			sim_cfg_write(p, bdf, (uint16_t)(off + b), 2, (val >> (8 * b)) & 0xffff);
			b += 2;
		} else {
			if ((mask >> (8 * b)) & 0xff)
				sim_cfg_write(p, bdf, (uint16_t)(off + b), 1,
					      (val >> (8 * b)) & 0xff);
			b++;
		}
	}
}

static void gpu_wr(struct sim_fn *f, unsigned bar, uint64_t off, uint32_t val, uint32_t mask)
{
	struct gpu *g = f->priv;
	if (bar != 0)
		return;
	if (off >= SIM_GPU_CFG_MIRROR && off < SIM_GPU_CFG_MIRROR + SIM_GPU_CFG_MIRROR_SIZE) {
		mirror_write(f, (uint16_t)(off - SIM_GPU_CFG_MIRROR), val, mask);
		return;
	}
	switch (off) {
	case SIM_GPU_INTR:
		g->intr &= ~(val & mask);
		gpu_irq(f, false);
		return;
	case SIM_GPU_INTR_EN: {
		uint32_t en = sim_dev_merge(g->intr_en, val, mask);
		bool rose = (g->intr & en & ~g->intr_en) != 0;
		g->intr_en = en;
		gpu_irq(f, rose);
		return;
	}
	case SIM_GPU_INTR_SET: {
		bool rose = (val & mask & ~g->intr & g->intr_en) != 0;
		g->intr |= val & mask;
		gpu_irq(f, rose);
		return;
	}
	case SIM_GPU_STOLEN_BASE:
		g->stolen_base = sim_dev_merge(g->stolen_base, val, mask);
		g->stolen_set = true;
		return;
	default:
		return;
	}
}

static uint64_t gpu_mmio_read(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size)
{
	return sim_dev_read_split(f, bar, off, size, gpu_rd);
}

static void gpu_mmio_write(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			   uint64_t val)
{
	sim_dev_write_split(f, bar, off, size, val, gpu_wr);
}

static void gpu_cfg_written(struct sim_fn *f, uint16_t off, unsigned size, uint32_t old_val,
			    uint32_t new_val)
{
	(void)off;
	(void)size;
	(void)old_val;
	(void)new_val;
	gpu_irq(f, false);
}

static void gpu_reset(struct sim_fn *f)
{
	struct gpu *g = f->priv;
	g->intr = g->intr_en = 0;
	g->stolen_base = 0;
	g->stolen_set = false;
}

static void gpu_destroy(struct sim_fn *f)
{
	free(f->priv);
	f->priv = NULL;
}

static const struct sim_fn_ops gpu_ops = {
	.kind = "gpu",
	.reset = gpu_reset,
	.mmio_read = gpu_mmio_read,
	.mmio_write = gpu_mmio_write,
	.cfg_written = gpu_cfg_written,
	.destroy = gpu_destroy,
};

struct sim_fn *sim_dev_gpu(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			   unsigned faults)
{
	struct gpu *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	struct sim_fn *f =
		sim_fn_new(p, parent, dev, fn, HQIO_PCI_CFG_EXP_SIZE, "gpu", &gpu_ops, g);
	if (!f) {
		free(g);
		return NULL;
	}
	f->faults = faults;
	sim_fn_header(f, SIM_GPU_VENDOR, SIM_GPU_DEVICE, 0x030000, HQIO_PCI_HEADER_TYPE_NORMAL, 1);
	hqio_cfgb_w8(&f->b, HQIO_PCI_REVISION_ID, 0xa1);
	sim_fn_bar(f, 0, SIM_GPU_BAR0_SIZE, HQIO_PCI_BASE_ADDRESS_MEM_TYPE_32);
	sim_fn_bar(f, 1, SIM_GPU_BAR1_SIZE,
		   HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64 | HQIO_PCI_BASE_ADDRESS_MEM_PREFETCH);
	/* GP104 configuration space: PM 0x60, MSI 0x68, PCIe (legacy
	 * endpoint) 0x78, as lspci shows it. */
	sim_add_pm(f, 0x60, true);
	sim_add_msi(f, 0x68, 0, true, false);
	sim_add_exp(f, 0x78, HQIO_PCI_EXP_TYPE_LEG_END, false, 3, 16);
	sim_fn_finalize(f);
	return f;
}
