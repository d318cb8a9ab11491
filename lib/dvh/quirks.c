/*
 * lib/dvh/quirks.c (hqio/dvh.h): the table of known driver virtualization
 * holes that can be closed at run time, the pages a monitor must trap for
 * them, and the function-number collision check. Every entry names where
 * its facts come from; the code is ours. docs/dvh-runtime.md lists them.
 */
#include "hqio/dvh.h"

#include <errno.h>

/* PCI LB 3.0 / PCIe 5.0 §7.5.1: configuration space sizes. */
#define CFG_SIZE     0x100u
#define CFG_EXP_SIZE 0x1000u
/* PCI Code and ID Assignment r1.12: class 03h display, 0300h VGA. */
#define CLASS_DISPLAY	0x030000u
#define CLASS_BASE_MASK 0xff0000u
#define CLASS_VGA	0x030000u
#define CLASS_SUB_MASK	0xffff00u

#define MIRROR(b, o, l)                                                                            \
	{                                                                                          \
		.kind = HQIO_DVH_BD_MIRROR, .space = HQIO_DVH_SPACE_CONFIG, .bar = (b),            \
		.off = (o), .len = (l)                                                             \
	}
#define INDEX(b, ir, dr, o, l)                                                                     \
	{                                                                                          \
		.kind = HQIO_DVH_BD_INDEX, .space = HQIO_DVH_SPACE_CONFIG, .bar = (b), .off = (o), \
		.len = (l), .index_reg = (ir), .data_reg = (dr)                                    \
	}
#define HB(o, s)                                                                                   \
	{                                                                                          \
		.off = (o), .size = (s)                                                            \
	}

static const struct hqio_dvh_quirk builtin[] = {
	{
		/* hqio's simulated GP104 (sim/devices/gpu.c, devices.h): the
		 * NVIDIA mirror below, and a driver that must compute its
		 * stolen-memory base from host-bridge register 9Ch. Listed
		 * first so it wins over the generic NVIDIA entry. */
		.name = "hqio sim GPU (GP104 identity)",
		.vendor = 0x10de,
		.device = 0x1b80,
		.device_mask = 0xffff,
		.n_bd = 1,
		.bd = { MIRROR(0, 0x88000, CFG_EXP_SIZE) },
		.n_hb_regs = 1,
		.hb_regs = { HB(0x9c, 2) },
		.source = "sim/devices/devices.h (GPU register map); mirror as envytools",
	},
	{
		/* NV40 and later mirror the whole configuration space at BAR0
		 * + 88000h; the BAR5 I/O window (address at 8h, data at Ch)
		 * reaches it too (its master/enable registers at 0h/4h pass
		 * through: the redirect only depends on the index). The older
		 * 256-byte mirror at BAR0 + 1800h is left out: QEMU traps it
		 * only for legacy VGA, and on current chips that offset is not
		 * documented as a mirror. VGA class only, as QEMU. */
		.name = "NVIDIA GPU configuration mirror",
		.vendor = 0x10de,
		.class_code = CLASS_VGA,
		.class_mask = CLASS_SUB_MASK,
		.n_bd = 2,
		.bd = { MIRROR(0, 0x88000, CFG_EXP_SIZE),
			INDEX(5, 0x8, 0xc, 0x88000, CFG_EXP_SIZE) },
		.source = "envytools hwdocs (PCI config mirror at 0x88000, NV40+); "
			  "QEMU hw/vfio/pci-quirks.c nvidia bar0/bar5 quirks (facts)",
	},
	{
		/* Radeon HD5450/HD7850 and later: configuration mirror in
		 * 64-bit MMIO BAR2 at 4000h, reachable through the I/O BAR4
		 * window (address at 0h, data at 4h). */
		.name = "ATI/AMD GPU configuration mirror",
		.vendor = 0x1002,
		.class_code = CLASS_VGA,
		.class_mask = CLASS_SUB_MASK,
		.n_bd = 2,
		.bd = { MIRROR(2, 0x4000, CFG_SIZE), INDEX(4, 0x0, 0x4, 0x4000, CFG_SIZE) },
		.source = "QEMU hw/vfio/pci-quirks.c ati bar2/bar4 quirks (facts)",
	},
	{
		/* RTL8168: BAR2 + 74h address, + 70h data; address bits 30:16
		 * = 1 select the MSI-X table, bits 11:0 the offset, bit 31 is
		 * the write strobe / completion flag (the r8169 driver's
		 * rtl_csi/ERI-style access). */
		.name = "Realtek RTL8168 MSI-X table window",
		.vendor = 0x10ec,
		.device = 0x8168,
		.device_mask = 0xffff,
		.n_bd = 1,
		.bd = { { .kind = HQIO_DVH_BD_INDEX_LATCH,
			  .space = HQIO_DVH_SPACE_MSIX,
			  .bar = 2,
			  .off = 0x10000,
			  .len = 0x1000,
			  .index_reg = 0x74,
			  .data_reg = 0x70,
			  .sel_mask = 0x7fff0000 } },
		.source = "QEMU hw/vfio/pci-quirks.c rtl8168 bar2 quirk (facts); "
			  "Linux drivers/net/ethernet/realtek/r8169_main.c",
	},
	{
		/* Intel integrated graphics: drivers read the graphics control
		 * register of the host bridge (GMCH Control, 52h) to size
		 * stolen memory; the vBIOS/driver also checks the bridge's
		 * identity (revision, subsystem). */
		.name = "Intel integrated graphics (host bridge dependency)",
		.vendor = 0x8086,
		.class_code = CLASS_DISPLAY,
		.class_mask = CLASS_BASE_MASK,
		.n_hb_regs = 1,
		.hb_regs = { HB(0x52, 2) },
		.source = "Linux drivers/char/agp/intel-gtt.c, include/drm/intel/i915_drm.h "
			  "(I830_GMCH_CTRL 0x52 on 0:0.0); QEMU hw/vfio/pci-quirks.c igd host "
			  "bridge copy (revision, subsystem IDs)",
	},
	{
		/* 82571EB/82546-style multi-port e1000(e) parts: the port is
		 * STATUS bits 3:2 (LAN ID), set by hardware; the per-port MAC
		 * is derived from it. The sim dual-port NIC is 8086:105e. */
		.name = "Intel 82571EB dual-port (e1000e)",
		.vendor = 0x8086,
		.device = 0x105e,
		.device_mask = 0xffff,
		.fn_source = HQIO_DVH_FN_REG,
		.fn_reg = { .bar = 0, .off = 0x8, .size = 4, .mask = 0xc, .shift = 2 },
		.source = "Linux drivers/net/ethernet/intel/e1000e/defines.h "
			  "(E1000_STATUS_FUNC_MASK 0x0C, shift 2), mac.c "
			  "e1000_get_bus_info_pcie_generic",
	},
	{
		/* BCM5719 (quad) / BCM5720 (dual): tg3 takes the port from
		 * PCI_FUNC(devfn) & 3 and picks the NVRAM MAC offset with it. */
		.name = "Broadcom BCM5720 dual-port (tg3)",
		.vendor = 0x14e4,
		.device = 0x165f,
		.device_mask = 0xffff,
		.fn_source = HQIO_DVH_FN_DEVFN,
		.source = "Linux drivers/net/ethernet/broadcom/tg3.c "
			  "(tp->pci_fn = PCI_FUNC(devfn) & 3; tg3_get_device_address)",
	},
	{
		.name = "Broadcom BCM5719 quad-port (tg3)",
		.vendor = 0x14e4,
		.device = 0x1657,
		.device_mask = 0xffff,
		.fn_source = HQIO_DVH_FN_DEVFN,
		.source = "Linux drivers/net/ethernet/broadcom/tg3.c "
			  "(tp->pci_fn = PCI_FUNC(devfn) & 3; tg3_get_device_address)",
	},
};

static const struct hqio_dvh_table builtin_table = {
	builtin,
	sizeof(builtin) / sizeof(builtin[0]),
};

const struct hqio_dvh_table *hqio_dvh_builtin(void)
{
	return &builtin_table;
}

const struct hqio_dvh_quirk *hqio_dvh_match(const struct hqio_dvh_table *t, uint16_t vendor,
					    uint16_t device, uint32_t class_code)
{
	if (!t)
		t = &builtin_table;
	for (size_t i = 0; t->q && i < t->n; i++) {
		const struct hqio_dvh_quirk *q = &t->q[i];
		if (q->vendor != vendor || (device & q->device_mask) != q->device ||
		    (class_code & q->class_mask) != q->class_code)
			continue;
		return q;
	}
	return NULL;
}

const char *hqio_dvh_bd_kind_name(enum hqio_dvh_bd_kind k)
{
	switch (k) {
	case HQIO_DVH_BD_MIRROR:
		return "mirror";
	case HQIO_DVH_BD_INDEX:
		return "index-data";
	case HQIO_DVH_BD_INDEX_LATCH:
		return "index-data-latched";
	}
	return "?";
}

const char *hqio_dvh_space_name(enum hqio_dvh_space s)
{
	return s == HQIO_DVH_SPACE_MSIX ? "msix-table" : "config";
}

const char *hqio_dvh_fn_source_name(enum hqio_dvh_fn_source s)
{
	switch (s) {
	case HQIO_DVH_FN_NONE:
		return "none";
	case HQIO_DVH_FN_DEVFN:
		return "config-devfn";
	case HQIO_DVH_FN_REG:
		return "device-register";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* Trapped pages                                                        */
/* ------------------------------------------------------------------ */

static int add_range(struct hqio_dvh_range *out, size_t max, size_t n, uint8_t bar, uint64_t off,
		     uint64_t len, uint64_t bar_size, uint64_t page)
{
	if (!bar_size || off >= bar_size || !len)
		return 0;
	uint64_t end = off + len > bar_size ? bar_size : off + len;
	uint64_t a = off & ~(page - 1), b = (end + page - 1) & ~(page - 1);
	if (b > bar_size)
		b = bar_size; /* a BAR smaller than a page is trapped whole */
	/* Merge with an overlapping or adjacent range already listed. */
	for (size_t i = 0; i < n && i < max; i++) {
		if (out[i].bar != bar || a > out[i].off + out[i].len || out[i].off > b)
			continue;
		uint64_t lo = a < out[i].off ? a : out[i].off;
		uint64_t hi = b > out[i].off + out[i].len ? b : out[i].off + out[i].len;
		out[i].off = lo;
		out[i].len = hi - lo;
		return 0;
	}
	if (n < max)
		out[n] = (struct hqio_dvh_range){ .bar = bar, .off = a, .len = b - a };
	return 1;
}

int hqio_dvh_trapped_ranges(const struct hqio_dvh_quirk *q, const uint64_t bar_size[6],
			    uint64_t page_size, struct hqio_dvh_range *out, size_t max)
{
	if (!q || !bar_size || !page_size || (page_size & (page_size - 1)) || (max && !out) ||
	    q->n_bd > HQIO_DVH_MAX_BD)
		return -EINVAL;
	size_t n = 0;
	for (unsigned i = 0; i < q->n_bd; i++) {
		const struct hqio_dvh_backdoor *d = &q->bd[i];
		if (d->bar > 5)
			return -EINVAL;
		if (d->kind == HQIO_DVH_BD_MIRROR) {
			n += (size_t)add_range(out, max, n, d->bar, d->off, d->len,
					       bar_size[d->bar], page_size);
		} else {
			uint32_t lo = d->index_reg < d->data_reg ? d->index_reg : d->data_reg;
			uint32_t hi = d->index_reg < d->data_reg ? d->data_reg : d->index_reg;
			n += (size_t)add_range(out, max, n, d->bar, lo, hi + 4 - lo,
					       bar_size[d->bar], page_size);
		}
	}
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* Function-number collisions                                           */
/* ------------------------------------------------------------------ */

static bool same_device(const struct hqio_dvh_assigned *a, const struct hqio_dvh_assigned *b)
{
	return a->host.domain == b->host.domain && a->host.bus == b->host.bus &&
	       a->host.dev == b->host.dev && a->vendor == b->vendor && a->device == b->device;
}

int hqio_dvh_check_assignment(const struct hqio_dvh_table *t, const struct hqio_dvh_assigned *fns,
			      size_t n, struct hqio_dvh_collision *out, size_t max, size_t *n_out)
{
	if ((n && !fns) || (max && !out) || !n_out)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (fns[i].host.fn > 7 || fns[i].host.dev > 31 || fns[i].guest_fn > 7)
			return -EINVAL;
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		const struct hqio_dvh_quirk *q =
			hqio_dvh_match(t, fns[i].vendor, fns[i].device, fns[i].class_code);
		if (!q || q->fn_source == HQIO_DVH_FN_NONE)
			continue;
		for (size_t j = i + 1; j < n; j++) {
			if (!same_device(&fns[i], &fns[j]) || fns[i].host.fn == fns[j].host.fn)
				continue;
			/* The hardware register tells each port its own number;
			 * the configuration address says what the guest sees. */
			uint8_t a = q->fn_source == HQIO_DVH_FN_DEVFN ? fns[i].guest_fn
								      : fns[i].host.fn;
			uint8_t b = q->fn_source == HQIO_DVH_FN_DEVFN ? fns[j].guest_fn
								      : fns[j].host.fn;
			if (a != b)
				continue;
			if (found < max)
				out[found] = (struct hqio_dvh_collision){
					.a = i, .b = j, .how = q->fn_source, .id = a
				};
			found++;
		}
	}
	*n_out = found;
	return 0;
}
