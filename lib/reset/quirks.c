/*
 * Reset quirks (see hqio/reset.h): devices whose advertised reset
 * capabilities lie, or whose DMA cannot be seen finishing.
 *
 * Every entry says where its knowledge comes from. The Linux entries
 * carry the facts (IDs and the flag) of drivers/pci/quirks.c, where
 * quirk_no_flr sets PCI_DEV_FLAGS_NO_FLR_RESET, quirk_no_bus_reset sets
 * PCI_DEV_FLAGS_NO_BUS_RESET and quirk_no_pm_reset sets
 * PCI_DEV_FLAGS_NO_PM_RESET; Linux's pcie_flr/pci_af_flr, pci_pm_reset
 * and the bus resets then skip the method. Linux quirks that match by a
 * mask or a class rather than by one device ID are not in this table
 * (it matches vendor and device only): quirk_no_pm_reset for every
 * ATI/AMD VGA-class function on a non-root bus, and
 * quirk_nvidia_no_bus_reset for NVIDIA devices with
 * (device & 0xffc0) == 0x2340. A caller that needs them passes them in
 * the extra table of hqio_reset_plan.
 *
 * Lookup: the caller's extra table first, then this one; in each, an
 * exact device match before a vendor-wide entry (device 0xffff). The
 * first table with a match wins, so an extra entry overrides (and can
 * clear) a built-in one.
 */
#include "hqio/reset.h"

#define LINUX_NO_FLR                                                                               \
	"Linux drivers/pci/quirks.c quirk_no_flr (PCI_DEV_FLAGS_NO_FLR_RESET): FLR may hang "      \
	"the device"
#define LINUX_NO_BUS_RESET_ATHEROS                                                                 \
	"Linux drivers/pci/quirks.c quirk_no_bus_reset: Atheros AR9xxx/QCA988x do not behave "     \
	"after a bus reset (Link Down, config space never accessible again)"
#define LINUX_NO_PM_RESET_SPECTRUM                                                                 \
	"Linux drivers/pci/quirks.c quirk_no_pm_reset: Spectrum-1..4 advertise No_Soft_Reset- "    \
	"but D3hot->D0 leaves them operational"

#define NO_FLR(v, d)                                                                               \
	{                                                                                          \
		.vendor = (v), .device = (d), .flags = HQIO_QUIRK_NO_FLR, .why = LINUX_NO_FLR      \
	}
#define NO_BUS_RESET(v, d, w)                                                                      \
	{                                                                                          \
		.vendor = (v), .device = (d), .flags = HQIO_QUIRK_NO_BUS_RESET, .why = (w)         \
	}
#define NO_PM_RESET(v, d, w)                                                                       \
	{                                                                                          \
		.vendor = (v), .device = (d), .flags = HQIO_QUIRK_NO_PM_RESET, .why = (w)          \
	}

/* QEMU's edu arms its DMA timer 100 ms after a start (docs/specs/edu.rst:
 * "a timer"; hw/misc/edu.c dma_rw: timer_mod(..., now + 100 ms)), has no
 * Transactions Pending bit anywhere, and in QEMU 7.2 no reset handler
 * cancels the timer: a transfer started before a reset still happens. Its
 * DMA command register (BAR0 0x98, bit 0 "start") stays set until the timer
 * has run the transfer (edu.rst: "bit 0 ... start transfer"; edu.c clears
 * EDU_DMA_RUN in the timer), so quiesce polls that bit; 100 ms is the
 * documented worst case. */
#define EDU_DMA_TIMER_NS (100ull * 1000 * 1000)

static const struct hqio_reset_quirk builtin[] = {
	/* FLR advertised but hangs the device (quirk_no_flr). */
	NO_FLR(0x1022, 0x1487), /* AMD Starship/Matisse HD Audio Controller */
	NO_FLR(0x1022, 0x148c), /* AMD Starship USB 3.0 Host Controller */
	NO_FLR(0x1022, 0x149c), /* AMD Matisse USB 3.0 Host Controller */
	NO_FLR(0x1022, 0x7901), /* AMD FCH SATA Controller (AHCI mode) */
	NO_FLR(0x8086, 0x1502), /* Intel 82579LM Gigabit Ethernet Controller */
	NO_FLR(0x8086, 0x1503), /* Intel 82579V Gigabit Ethernet Controller */
	NO_FLR(0x14c3, 0x0616), /* MediaTek MT7922 802.11ax */

	/* A secondary bus reset breaks the device (quirk_no_bus_reset). */
	NO_BUS_RESET(0x168c, 0x0030, LINUX_NO_BUS_RESET_ATHEROS),
	NO_BUS_RESET(0x168c, 0x0032, LINUX_NO_BUS_RESET_ATHEROS),
	NO_BUS_RESET(0x168c, 0x0033, LINUX_NO_BUS_RESET_ATHEROS),
	NO_BUS_RESET(0x168c, 0x0034, LINUX_NO_BUS_RESET_ATHEROS),
	NO_BUS_RESET(0x168c, 0x003c, LINUX_NO_BUS_RESET_ATHEROS),
	NO_BUS_RESET(0x168c, 0x003e, LINUX_NO_BUS_RESET_ATHEROS),
	/* On the bridge: the planner also honours the flag on the parent. */
	NO_BUS_RESET(
		0x177d, 0xa100,
		"Linux drivers/pci/quirks.c quirk_no_bus_reset: Cavium CN8xxx root ports do not "
		"complete a bus reset with some child devices"),
	NO_BUS_RESET(
		0x104c, 0xb005,
		"Linux drivers/pci/quirks.c quirk_no_bus_reset: TI KeyStone C667X disables its "
		"LTSSM on Secondary Bus Reset and stops working"),

	/* D3hot->D0 advertised as a reset but resets nothing (quirk_no_pm_reset). */
	NO_PM_RESET(0x15b3, 0xcb84, LINUX_NO_PM_RESET_SPECTRUM),
	NO_PM_RESET(0x15b3, 0xcf6c, LINUX_NO_PM_RESET_SPECTRUM),
	NO_PM_RESET(0x15b3, 0xcf70, LINUX_NO_PM_RESET_SPECTRUM),
	NO_PM_RESET(0x15b3, 0xcf80, LINUX_NO_PM_RESET_SPECTRUM),

	/* DMA queued without any Transactions Pending bit. */
	{
		.vendor = 0x1234,
		.device = 0x11e8,
		.flags = HQIO_QUIRK_TP_UNTRUSTED,
		.idle = HQIO_IDLE_REGISTER,
		.idle_bar = 0,
		.idle_off = 0x98, /* edu.rst: DMA command register */
		.idle_mask = 0x1, /* edu.rst: bit 0, start transfer (busy until done) */
		.idle_value = 0,
		.idle_wait_ns = EDU_DMA_TIMER_NS,
		.why = "QEMU edu (docs/specs/edu.rst, hw/misc/edu.c): DMA runs from a 100 ms timer "
		       "that no TP bit reports and that survives reset (QEMU 7.2); idle when the "
		       "DMA command register's start bit is clear",
	},
};

static const struct hqio_reset_quirk *search(const struct hqio_reset_quirk *t, size_t n,
					     uint16_t vendor, uint16_t device)
{
	const struct hqio_reset_quirk *any = NULL;
	if (!t)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (t[i].vendor != vendor)
			continue;
		if (t[i].device == device)
			return &t[i];
		if (t[i].device == 0xffff && !any)
			any = &t[i];
	}
	return any;
}

const struct hqio_reset_quirk *hqio_reset_quirk_find(const struct hqio_reset_quirk *extra,
						     size_t n_extra, uint16_t vendor,
						     uint16_t device)
{
	const struct hqio_reset_quirk *q = search(extra, n_extra, vendor, device);
	if (q)
		return q;
	return search(builtin, sizeof(builtin) / sizeof(builtin[0]), vendor, device);
}
