/*
 * lib/dvh run time, acceptance on the simulated platform: the quirk table;
 * the GPU model's driver reading its BAR base and configuration registers
 * through the BAR0 mirror gets the VIRTUAL values (and, with the quirk
 * disabled or the table empty, the HOST values: the negative control);
 * redirected accesses are counted and logged once; index/data windows to
 * configuration space and to the MSI-X table; the trapped pages; the
 * virtual host bridge (host's value at 9Ch, writes dropped) and the GPU's
 * stolen-memory setup through it; the dual-port NIC's MAC addresses under
 * MF_WHOLE and MF_SINGLE and hqio_dvh_check_assignment()'s prediction.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "bars.h"

#include "sim.h"
#include "guest.h"
#include "devices/devices.h"
#include "hqio/dvh.h"
#include "hqio/vpci.h"
#include "vpci_fixture.h"

#define MEM (8ULL << 20)

/* ------------------------------------------------------------------ */
/* The rig: reference machine, host firmware, lib/vpci, guest drivers   */
/* ------------------------------------------------------------------ */

struct fnrig {
	struct sim_fn *f;
	struct hqio_vpci v;
	struct hqio_irq irq;
	bool has_irq;
	struct hqio_host_ops gops;
	struct sim_guest g;
};

struct rig {
	struct sim_platform *p;
	struct sim_reference ref;
	struct hqio_host_ops ops;
	struct fnrig fn[2];
	unsigned n;
	unsigned n_log;
	char last_log[256];
};

struct fn_opts {
	struct hqio_bdf gbdf;
	enum hqio_vpci_mf_policy mf;
	bool dvh_off, irq;
	const struct hqio_dvh_table *table;
};

static void on_log(void *arg, const char *msg)
{
	struct rig *r = arg;
	r->n_log++;
	snprintf(r->last_log, sizeof(r->last_log), "%s", msg);
}

static void inject_msi(void *arg, uint64_t addr, uint32_t data)
{
	(void)arg;
	(void)addr;
	(void)data;
}

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->p = sim_platform_new(17, MEM);
	assert_non_null(r->p);
	assert_int_equal(sim_build_reference_ex(r->p, &r->ref), 0);
	sim_host_ops(r->p, &r->ops);
	return r;
}

static struct fnrig *rig_add(struct rig *r, struct sim_fn *f, const struct fn_opts *o)
{
	assert_true(r->n < 2);
	struct fnrig *x = &r->fn[r->n];
	x->f = f;
	uint64_t mem = 0xc0000000ULL + 0x10000000ULL * r->n;
	vpci_fixture_host_firmware(r->p, f, mem, 0x2000 + 0x1000 * (mem >> 28 & 0xf), 0);
	if (o->irq) {
		vpci_fixture_irq_init(&x->irq, &r->ops, f, r, inject_msi);
		x->has_irq = true;
	}
	struct hqio_vpci_config c = {
		.ops = &r->ops,
		.host_bdf = sim_fn_bdf(f),
		.guest_bdf = o->gbdf,
		.mf = o->mf,
		.irq = o->irq ? &x->irq : NULL,
		.dvh_table = o->table,
		.dvh_off = o->dvh_off,
		.dvh_log = on_log,
		.dvh_arg = r,
	};
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_vpci_init(&x->v, &c, &err), 0);
	hqio_vpci_guest_ops(&x->v, &x->gops);
	sim_guest_init(&x->g, r->p, &x->gops, o->gbdf);
	r->n++;
	return x;
}

static void rig_free(struct rig *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		hqio_vpci_fini(&r->fn[i].v);
		if (r->fn[i].has_irq)
			hqio_irq_fini(&r->fn[i].irq);
	}
	sim_platform_free(r->p);
	free(r);
}

static const struct hqio_bdf GBDF = { .bus = 0, .dev = 5, .fn = 0 };
#define GUEST_BAR0 0x12000000u

/* The GPU with its guest driver: BAR0 at a guest address, memory decode
 * and Bus Master on in the guest's view (Bus Master stays off in the
 * hardware: allow_bus_master is false), so virtual and host differ. */
static struct fnrig *gpu_guest(struct rig *r, bool dvh_off, const struct hqio_dvh_table *t)
{
	struct fn_opts o = { .gbdf = GBDF, .dvh_off = dvh_off, .table = t };
	struct fnrig *x = rig_add(r, r->ref.gpu, &o);
	assert_int_equal(sim_guest_bar_program(&x->g, 0, GUEST_BAR0), 0);
	assert_int_equal(sim_guest_enable(&x->g, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER),
			 0);
	return x;
}

/* ------------------------------------------------------------------ */
/* The quirk table                                                      */
/* ------------------------------------------------------------------ */

static void test_table_entries_are_complete(void **state)
{
	(void)state;
	const struct hqio_dvh_table *t = hqio_dvh_builtin();
	assert_true(t->n >= 6);
	for (size_t i = 0; i < t->n; i++) {
		const struct hqio_dvh_quirk *q = &t->q[i];
		assert_non_null(q->name);
		assert_non_null(q->source);
		assert_true(strlen(q->source) > 10);
		assert_true(q->n_bd <= HQIO_DVH_MAX_BD && q->n_hb_regs <= HQIO_DVH_MAX_HB_REGS);
		assert_true(q->n_bd || q->n_hb_regs || q->fn_source != HQIO_DVH_FN_NONE);
		for (unsigned k = 0; k < q->n_bd; k++) {
			assert_true(q->bd[k].bar <= 5 && q->bd[k].len > 0);
			if (q->bd[k].kind != HQIO_DVH_BD_MIRROR)
				assert_int_not_equal(q->bd[k].index_reg, q->bd[k].data_reg);
		}
		for (unsigned k = 0; k < q->n_hb_regs; k++)
			assert_true(q->hb_regs[k].off + q->hb_regs[k].size <= 0x100);
	}
}

static void test_match_by_id_mask_and_class(void **state)
{
	(void)state;
	/* The simulated models' identities. */
	const struct hqio_dvh_quirk *q =
		hqio_dvh_match(NULL, SIM_GPU_VENDOR, SIM_GPU_DEVICE, 0x030000);
	assert_non_null(q);
	assert_int_equal(q->n_hb_regs, 1);
	assert_int_equal(q->hb_regs[0].off, SIM_GPU_HB_TOLUD);
	assert_int_equal(q->bd[0].off, SIM_GPU_CFG_MIRROR);
	q = hqio_dvh_match(NULL, SIM_NIC_VENDOR, SIM_NIC_DEVICE_DUAL, 0x020000);
	assert_non_null(q);
	assert_int_equal(q->fn_source, HQIO_DVH_FN_REG);
	assert_int_equal(q->fn_reg.off, SIM_NIC_STATUS);
	assert_int_equal(q->fn_reg.mask, SIM_NIC_STATUS_FUNC_MASK);
	/* Any other NVIDIA VGA function: the generic entry. */
	q = hqio_dvh_match(NULL, 0x10de, 0x2204, 0x030000);
	assert_non_null(q);
	assert_int_equal(q->n_bd, 2);
	assert_int_equal(q->bd[1].kind, HQIO_DVH_BD_INDEX);
	assert_null(hqio_dvh_match(NULL, 0x10de, 0x2204, 0x030200)); /* 3D controller */
	/* ... but not an NVIDIA audio function (class 0403h). */
	assert_null(hqio_dvh_match(NULL, 0x10de, 0x10f0, 0x040300));
	/* AMD: VGA only. */
	assert_non_null(hqio_dvh_match(NULL, 0x1002, 0x6798, 0x030000));
	assert_null(hqio_dvh_match(NULL, 0x1002, 0x6798, 0x038000));
	assert_non_null(hqio_dvh_match(NULL, 0x10ec, 0x8168, 0x020000));
	assert_null(hqio_dvh_match(NULL, 0x10ec, 0x8169, 0x020000));
	struct hqio_dvh_table empty = { 0 };
	assert_null(hqio_dvh_match(&empty, SIM_GPU_VENDOR, SIM_GPU_DEVICE, 0x030000));
}

static void test_trapped_ranges(void **state)
{
	(void)state;
	const struct hqio_dvh_quirk *q = hqio_dvh_match(NULL, 0x10de, 0x2204, 0x030000);
	uint64_t sizes[6] = { 16 << 20, 256 << 20, 0, 32 << 20, 0, 128 };
	struct hqio_dvh_range out[8];
	int n = hqio_dvh_trapped_ranges(q, sizes, 4096, out, 8);
	/* BAR0 88000h (4 KiB) and BAR5 whole (128 bytes < a page). */
	assert_int_equal(n, 2);
	assert_int_equal(out[0].bar, 0);
	assert_int_equal(out[0].off, 0x88000);
	assert_int_equal(out[0].len, 0x1000);
	assert_int_equal(out[1].bar, 5);
	assert_int_equal(out[1].off, 0);
	assert_int_equal(out[1].len, 128);
	/* 64 KiB pages: the 88000h mirror traps 80000h-8FFFFh. */
	n = hqio_dvh_trapped_ranges(q, sizes, 65536, out, 8);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].off, 0x80000);
	assert_int_equal(out[0].len, 0x10000);
	/* No BAR5: its window is not there. */
	sizes[5] = 0;
	assert_int_equal(hqio_dvh_trapped_ranges(q, sizes, 4096, out, 8), 1);
	/* A BAR0 too small to hold 88000h. */
	sizes[0] = 64 << 10;
	assert_int_equal(hqio_dvh_trapped_ranges(q, sizes, 4096, out, 8), 0);
	/* An index/data pair is one range (RTL8168: 70h-77h, its page). */
	const struct hqio_dvh_quirk *rtl = hqio_dvh_match(NULL, 0x10ec, 0x8168, 0x020000);
	uint64_t rsz[6] = { 256, 0, 4096, 0, 16384, 0 };
	assert_int_equal(hqio_dvh_trapped_ranges(rtl, rsz, 4096, out, 8), 1);
	assert_int_equal(out[0].bar, 2);
	assert_int_equal(out[0].len, 4096);
	/* Bad input. */
	assert_int_equal(hqio_dvh_trapped_ranges(q, sizes, 3000, out, 8), -EINVAL);
	assert_int_equal(hqio_dvh_trapped_ranges(NULL, sizes, 4096, out, 8), -EINVAL);
	assert_int_equal(hqio_dvh_trapped_ranges(q, NULL, 4096, out, 8), -EINVAL);
	/* Counting only. */
	sizes[0] = 16 << 20;
	sizes[5] = 128;
	assert_int_equal(hqio_dvh_trapped_ranges(q, sizes, 4096, NULL, 0), 2);
}

/* The monitor maps every BAR page but the back door's (vmm/bars.c). */
static void test_monitor_traps_backdoor_page(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fnrig *x = gpu_guest(r, false, NULL);
	struct hqio_dvh_range dr[4];
	int nd = hqio_vpci_trapped_ranges(&x->v, 4096, dr, 4);
	assert_int_equal(nd, 1);
	struct hqio_vmm_trap t = { dr[0].off, dr[0].len };
	uint64_t size = x->v.bar_size[dr[0].bar];
	struct hqio_vmm_piece p[8];
	unsigned np = hqio_vmm_bar_pieces(size, 4096, &t, 1, p, 8);
	uint64_t mapped = 0;
	for (unsigned i = 0; i < np; i++) {
		mapped += p[i].len;
		assert_true(SIM_GPU_CFG_MIRROR + 4096 <= p[i].off ||
			    SIM_GPU_CFG_MIRROR >= p[i].off + p[i].len);
	}
	assert_int_equal(mapped, size - 4096);
	rig_free(r);
}

static void test_vpci_reports_trapped_pages(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fnrig *x = gpu_guest(r, false, NULL);
	struct hqio_dvh_range out[4];
	assert_int_equal(hqio_vpci_trapped_ranges(&x->v, 4096, out, 4), 1);
	assert_int_equal(out[0].bar, 0);
	assert_int_equal(out[0].off, SIM_GPU_CFG_MIRROR);
	assert_int_equal(out[0].len, 4096);
	rig_free(r);
	/* Quirk disabled: nothing to trap (and nothing closed). */
	r = rig_new();
	x = gpu_guest(r, true, NULL);
	assert_int_equal(hqio_vpci_trapped_ranges(&x->v, 4096, out, 4), 0);
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* The GPU's configuration mirror                                       */
/* ------------------------------------------------------------------ */

static void test_gpu_mirror_shows_virtual_values(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fnrig *x = gpu_guest(r, false, NULL);
	uint32_t host_bar0 = sim_fn_cfg_get(x->f, HQIO_PCI_BASE_ADDRESS_0, 4);
	uint32_t host_cmd = sim_fn_cfg_get(x->f, HQIO_PCI_COMMAND, 2);
	assert_int_not_equal(host_bar0 & ~0xfu, GUEST_BAR0);
	assert_false(host_cmd & HQIO_PCI_COMMAND_MASTER);

	struct sim_guest_gpu_view gv;
	assert_int_equal(sim_guest_gpu_mirror_view(&x->g, &gv), 0);
	assert_int_equal(gv.vendor, SIM_GPU_VENDOR);
	assert_int_equal(gv.device, SIM_GPU_DEVICE);
	assert_int_equal(gv.bar0 & ~0xfu, GUEST_BAR0);
	assert_true(gv.command & HQIO_PCI_COMMAND_MASTER);
	uint32_t vcmd;
	assert_int_equal(sim_guest_cfg_read(&x->g, HQIO_PCI_COMMAND, 2, &vcmd), 0);
	assert_int_equal(gv.command, vcmd);
	/* Three accesses redirected, one log line. */
	assert_int_equal(x->v.stats.dvh_redirected, 3);
	assert_int_equal(x->v.dvh[0].hits, 3);
	assert_int_equal(r->n_log, 1);
	assert_non_null(strstr(r->last_log, "10de:1b80"));
	assert_non_null(strstr(r->last_log, "0x88000"));
	/* More accesses: counted, not logged again. */
	assert_int_equal(sim_guest_gpu_mirror_view(&x->g, &gv), 0);
	assert_int_equal(x->v.stats.dvh_redirected, 6);
	assert_int_equal(r->n_log, 1);
	/* Registers outside the mirror still reach the device. */
	uint64_t boot = 0;
	assert_int_equal(sim_guest_mmio_read(&x->g, 0, SIM_GPU_BOOT_0, 4, &boot), 0);
	assert_int_equal(boot, SIM_GPU_BOOT_0_VALUE);
	assert_int_equal(x->v.stats.dvh_redirected, 6);
	rig_free(r);
}

/* Negative control: the same driver with the quirk disabled, or with an
 * empty quirk table, reads the HOST values through the mirror. */
static void check_gpu_mirror_open(bool dvh_off, const struct hqio_dvh_table *t)
{
	struct rig *r = rig_new();
	struct fnrig *x = gpu_guest(r, dvh_off, t);
	uint32_t host_bar0 = sim_fn_cfg_get(x->f, HQIO_PCI_BASE_ADDRESS_0, 4);
	uint32_t host_cmd = sim_fn_cfg_get(x->f, HQIO_PCI_COMMAND, 2);
	struct sim_guest_gpu_view gv;
	assert_int_equal(sim_guest_gpu_mirror_view(&x->g, &gv), 0);
	assert_int_equal(gv.bar0, host_bar0);
	assert_int_not_equal(gv.bar0 & ~0xfu, GUEST_BAR0);
	assert_int_equal(gv.command, host_cmd);
	assert_false(gv.command & HQIO_PCI_COMMAND_MASTER);
	assert_int_equal(x->v.stats.dvh_redirected, 0);
	assert_int_equal(r->n_log, 0);
	rig_free(r);
}

static void test_gpu_mirror_disabled_shows_host_values(void **state)
{
	(void)state;
	check_gpu_mirror_open(true, NULL);
	struct hqio_dvh_table empty = { 0 };
	check_gpu_mirror_open(false, &empty);
}

static void test_gpu_mirror_write_stays_virtual(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fnrig *x = gpu_guest(r, false, NULL);
	uint32_t host_bar0 = sim_fn_cfg_get(x->f, HQIO_PCI_BASE_ADDRESS_0, 4);
	assert_int_equal(sim_guest_mmio_write(&x->g, 0, SIM_GPU_CFG_MIRROR + 0x10, 4, 0x14000000),
			 0);
	uint32_t v;
	assert_int_equal(sim_guest_cfg_read(&x->g, 0x10, 4, &v), 0);
	assert_int_equal(v & ~0xfu, 0x14000000);
	assert_int_equal(sim_fn_cfg_get(x->f, HQIO_PCI_BASE_ADDRESS_0, 4), host_bar0);
	/* A straddling access is refused (counted), not half-done. */
	uint64_t y = 0;
	assert_int_equal(sim_guest_mmio_read(&x->g, 0, SIM_GPU_CFG_MIRROR - 2, 4, &y), 0);
	assert_int_equal(y, 0xffffffffu);
	/* 8-byte access: two configuration dwords. */
	assert_int_equal(sim_guest_mmio_read(&x->g, 0, SIM_GPU_CFG_MIRROR, 8, &y), 0);
	assert_int_equal((uint32_t)y, (uint32_t)SIM_GPU_DEVICE << 16 | SIM_GPU_VENDOR);
	rig_free(r);

	/* Negative control: without the quirk the write moves the HOST BAR. */
	r = rig_new();
	x = gpu_guest(r, true, NULL);
	assert_int_equal(sim_guest_mmio_write(&x->g, 0, SIM_GPU_CFG_MIRROR + 0x10, 4, 0x14000000),
			 0);
	assert_int_equal(sim_fn_cfg_get(x->f, HQIO_PCI_BASE_ADDRESS_0, 4) & ~0xfu, 0x14000000);
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* Index/data windows (engine tests on the NIC model's I/O window)      */
/* ------------------------------------------------------------------ */

/* The NIC's BAR2 IOADDR (0h) / IODATA (4h) pair really reaches its BAR0
 * registers; these test-only entries pretend it reaches configuration
 * space / the MSI-X table (as NVIDIA BAR5 / RTL8168 BAR2 do), to drive
 * lib/vpci's index/data engine with a model whose hardware index register
 * really exists. */
static const struct hqio_dvh_quirk test_index_cfg = {
	.name = "test: NIC IOADDR/IODATA as a configuration window",
	.vendor = SIM_NIC_VENDOR,
	.device = SIM_NIC_DEVICE_DUAL,
	.device_mask = 0xffff,
	.n_bd = 1,
	.bd = { { .kind = HQIO_DVH_BD_INDEX,
		  .space = HQIO_DVH_SPACE_CONFIG,
		  .bar = 2,
		  .off = 0x10000,
		  .len = 0x1000,
		  .index_reg = SIM_NIC_IOADDR,
		  .data_reg = SIM_NIC_IODATA } },
	.source = "test",
};
static const struct hqio_dvh_quirk test_latch_msix = {
	.name = "test: NIC IOADDR/IODATA as an RTL8168-style MSI-X window",
	.vendor = SIM_NIC_VENDOR,
	.device = SIM_NIC_DEVICE_DUAL,
	.device_mask = 0xffff,
	.n_bd = 1,
	.bd = { { .kind = HQIO_DVH_BD_INDEX_LATCH,
		  .space = HQIO_DVH_SPACE_MSIX,
		  .bar = 2,
		  .off = 0x10000,
		  .len = 0x1000,
		  .index_reg = SIM_NIC_IOADDR,
		  .data_reg = SIM_NIC_IODATA,
		  .sel_mask = 0x7fff0000 } },
	.source = "test",
};

static struct fnrig *nic_guest(struct rig *r, const struct hqio_dvh_quirk *q, bool irq)
{
	static struct hqio_dvh_table t; /* test-local, one rig at a time */
	t = (struct hqio_dvh_table){ q, 1 };
	struct fn_opts o = { .gbdf = GBDF, .table = &t, .irq = irq };
	struct fnrig *x = rig_add(r, r->ref.nic[0], &o);
	assert_int_equal(sim_guest_bar_program(&x->g, 0, 0x20000000), 0);
	assert_int_equal(sim_guest_bar_program(&x->g, 2, 0x3000), 0);
	assert_int_equal(sim_guest_bar_program(&x->g, 3, 0x20100000), 0);
	assert_int_equal(sim_guest_enable(&x->g, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO), 0);
	return x;
}

static void test_index_window_reaches_virtual_config(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fnrig *x = nic_guest(r, &test_index_cfg, false);
	uint64_t v = 0;
	/* Index into the window: the data register is the virtual BAR0. */
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IOADDR, 4, 0x10010), 0);
	assert_int_equal(sim_guest_mmio_read(&x->g, 2, SIM_NIC_IODATA, 4, &v), 0);
	assert_int_equal(v & ~0xfu, 0x20000000);
	assert_int_equal(sim_guest_mmio_read(&x->g, 2, SIM_NIC_IODATA + 2, 2, &v), 0);
	assert_int_equal(v, 0x2000);
	assert_int_equal(x->v.stats.dvh_redirected, 2);
	/* The index register itself is the hardware's (same value). */
	assert_int_equal(sim_guest_mmio_read(&x->g, 2, SIM_NIC_IOADDR, 4, &v), 0);
	assert_int_equal(v, 0x10010 & (SIM_NIC_BAR0_SIZE - 1));
	/* Byte-wise index writes are tracked too. */
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IOADDR, 1, 0x00), 0);
	assert_int_equal(sim_guest_mmio_read(&x->g, 2, SIM_NIC_IODATA, 4, &v), 0);
	assert_int_equal(v, (uint32_t)SIM_NIC_DEVICE_DUAL << 16 | SIM_NIC_VENDOR);
	/* An index outside the window: the device's own register (STATUS). */
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IOADDR, 4, SIM_NIC_STATUS), 0);
	assert_int_equal(sim_guest_mmio_read(&x->g, 2, SIM_NIC_IODATA, 4, &v), 0);
	assert_true(v & SIM_NIC_STATUS_LU);
	assert_int_equal(x->v.stats.dvh_redirected, 3);
	assert_int_equal(r->n_log, 1);
	/* A write through the window is a guest configuration write. */
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IOADDR, 4, 0x10010), 0);
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IODATA, 4, 0x20040000), 0);
	uint32_t c;
	assert_int_equal(sim_guest_cfg_read(&x->g, 0x10, 4, &c), 0);
	assert_int_equal(c & ~0xfu, 0x20040000);
	assert_int_not_equal(sim_fn_cfg_get(x->f, 0x10, 4) & ~0xfu, 0x20040000);
	rig_free(r);
}

static void test_latched_window_reaches_virtual_msix_table(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fnrig *x = nic_guest(r, &test_latch_msix, true);
	uint8_t hw_before[4] = { 0 };
	if (x->f->irq.msix_table)
		memcpy(hw_before, x->f->irq.msix_table, 4);
	uint64_t v = 0;
	/* The hardware index points at a harmless register first: the data
	 * register write below also reaches the device (as on the RTL8168). */
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IOADDR, 4, SIM_NIC_DMA_PATTERN), 0);
	/* Write entry 0's address: data first, then the address with the
	 * write strobe (bit 31), as the r8169 driver does. */
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IODATA, 4, 0xfee01000), 0);
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IOADDR, 4, 0x80010000), 0);
	/* Completion: the address reads back with bit 31 toggled. */
	assert_int_equal(sim_guest_mmio_read(&x->g, 2, SIM_NIC_IOADDR, 4, &v), 0);
	assert_int_equal(v, 0x00010000);
	/* The guest's (virtual) table has it; the hardware table does not. */
	assert_int_equal(sim_guest_mmio_read(&x->g, 3,
					     SIM_NIC_MSIX_TABLE + 0 /* entry 0, Message Address */,
					     4, &v),
			 0);
	assert_int_equal(v, 0xfee01000);
	if (x->f->irq.msix_table)
		assert_memory_equal(x->f->irq.msix_table, hw_before, 4);
	/* Read back through the window. */
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IOADDR, 4, 0x00010000), 0);
	assert_int_equal(sim_guest_mmio_read(&x->g, 2, SIM_NIC_IODATA, 4, &v), 0);
	assert_int_equal(v, 0xfee01000);
	assert_int_equal(x->v.stats.dvh_redirected, 3);
	/* Other spaces: the hardware's (bit 16 clear). */
	assert_int_equal(sim_guest_mmio_write(&x->g, 2, SIM_NIC_IOADDR, 4, SIM_NIC_STATUS), 0);
	assert_int_equal(sim_guest_mmio_read(&x->g, 2, SIM_NIC_IODATA, 4, &v), 0);
	assert_true(v & SIM_NIC_STATUS_LU);
	assert_int_equal(x->v.stats.dvh_redirected, 3);
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* The virtual host bridge                                              */
/* ------------------------------------------------------------------ */

static const struct hqio_bdf HB = { 0 };

static void test_host_bridge_identity_and_named_registers(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	const struct hqio_dvh_quirk *q =
		hqio_dvh_match(NULL, SIM_GPU_VENDOR, SIM_GPU_DEVICE, 0x030000);
	struct hqio_dvh_hostbridge hb;
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_dvh_hostbridge_init(&hb, &r->ops, HB, &q, 1, &err), 0);
	uint32_t v;
	const struct sim_fn *h = r->p->host_bridge;
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, 0, 4, &v), 0);
	assert_int_equal(v, sim_fn_cfg_get(h, 0, 4));
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, 0x08, 4, &v), 0);
	assert_int_equal(v, sim_fn_cfg_get(h, 0x08, 4));
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, 0x2c, 4, &v), 0);
	assert_int_equal(v, sim_fn_cfg_get(h, 0x2c, 4));
	/* The register the GPU quirk names: the host's value. */
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, SIM_GPU_HB_TOLUD, 2, &v), 0);
	assert_int_equal(v, sim_fn_cfg_get(h, SIM_GPU_HB_TOLUD, 2));
	assert_int_equal(v, 0x8000);
	/* A chipset register nobody named (PCIEXBAR at 60h): not shown. */
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, 0x60, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, 0x100, 4, &v), 0);
	assert_int_equal(v, 0);
	/* Writes are dropped and counted; the host keeps its value. */
	assert_int_equal(hqio_dvh_hostbridge_write(&hb, SIM_GPU_HB_TOLUD, 2, 0x4000), 0);
	assert_int_equal(hqio_dvh_hostbridge_write(&hb, HQIO_PCI_COMMAND, 2, 0xffff), 0);
	assert_int_equal(hb.writes_dropped, 2);
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, SIM_GPU_HB_TOLUD, 2, &v), 0);
	assert_int_equal(v, 0x8000);
	assert_int_equal(sim_fn_cfg_get(h, SIM_GPU_HB_TOLUD, 2), 0x8000);
	/* Bad input. */
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, 1, 2, &v), -EINVAL);
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, 0, 3, &v), -EINVAL);
	assert_int_equal(hqio_dvh_hostbridge_read(&hb, 0x1000, 4, &v), -EINVAL);
	assert_int_equal(hqio_dvh_hostbridge_write(&hb, 2, 4, 0), -EINVAL);
	assert_int_equal(hqio_dvh_hostbridge_init(&hb, NULL, HB, NULL, 0, &err), -EINVAL);
	/* No host bridge at the given address. */
	struct hqio_bdf none = { .bus = 0x40, .dev = 3, .fn = 0 };
	assert_int_equal(hqio_dvh_hostbridge_init(&hb, &r->ops, none, NULL, 0, &err), -ENODEV);
	rig_free(r);
}

/* The GPU driver computes its stolen-memory base from 00:00.0 9Ch. */
static void test_gpu_stolen_base_through_virtual_host_bridge(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fnrig *x = gpu_guest(r, false, NULL);
	struct hqio_dvh_hostbridge hb;
	struct hqio_host_ops ops2;
	assert_int_equal(hqio_dvh_hostbridge_init(&hb, &r->ops, HB, &x->v.quirk, 1, NULL), 0);
	hb.at = HB;
	hqio_dvh_hostbridge_ops(&hb, &x->gops, &ops2);
	x->g.ops = &ops2;
	uint32_t reg = 0, status = 0;
	assert_int_equal(sim_guest_gpu_stolen(&x->g, &reg, &status), 0);
	assert_int_equal(reg, 0x8000);
	assert_int_equal(status, 1); /* matches the real platform */
	/* The driver's write to the bridge is dropped. */
	assert_int_equal(sim_guest_cfg_write_at(&x->g, HB, SIM_GPU_HB_TOLUD, 2, 0x1000), 0);
	assert_int_equal(hb.writes_dropped, 1);
	assert_int_equal(sim_fn_cfg_get(r->p->host_bridge, SIM_GPU_HB_TOLUD, 2), 0x8000);
	/* The device's own configuration space still goes to lib/vpci. */
	uint32_t id;
	assert_int_equal(sim_guest_cfg_read(&x->g, 0, 4, &id), 0);
	assert_int_equal(id, (uint32_t)SIM_GPU_DEVICE << 16 | SIM_GPU_VENDOR);
	x->g.ops = &x->gops;
	rig_free(r);
}

/* Negative controls: no host bridge in the guest (lib/vpci answers other
 * BDFs with all-ones), or a virtual host bridge that does not present the
 * quirk's register: the driver programs a wrong stolen base. */
static void test_gpu_stolen_base_wrong_without_host_bridge(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fnrig *x = gpu_guest(r, false, NULL);
	uint32_t reg = 0, status = 0;
	assert_int_equal(sim_guest_gpu_stolen(&x->g, &reg, &status), 0);
	assert_int_equal(reg, 0xffff);
	assert_int_equal(status, 2);
	struct hqio_dvh_hostbridge hb;
	struct hqio_host_ops ops2;
	assert_int_equal(hqio_dvh_hostbridge_init(&hb, &r->ops, HB, NULL, 0, NULL), 0);
	hqio_dvh_hostbridge_ops(&hb, &x->gops, &ops2);
	x->g.ops = &ops2;
	assert_int_equal(sim_guest_gpu_stolen(&x->g, &reg, &status), 0);
	assert_int_equal(reg, 0);
	assert_int_equal(status, 2);
	x->g.ops = &x->gops;
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* Function-number policy: the dual-port NIC's MAC addresses             */
/* ------------------------------------------------------------------ */

static uint64_t mac48(const uint8_t m[6])
{
	uint64_t x = 0;
	for (unsigned i = 0; i < 6; i++)
		x = x << 8 | m[i];
	return x;
}

/* Both ports to one guest with their function numbers (MF_WHOLE). */
static void test_nic_whole_distinct_macs(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fn_opts o0 = { .gbdf = { .bus = 0, .dev = 5, .fn = 0 }, .mf = HQIO_VPCI_MF_WHOLE };
	struct fn_opts o1 = { .gbdf = { .bus = 0, .dev = 5, .fn = 1 }, .mf = HQIO_VPCI_MF_WHOLE };
	struct fnrig *a = rig_add(r, r->ref.nic[0], &o0), *b = rig_add(r, r->ref.nic[1], &o1);
	for (unsigned i = 0; i < 2; i++) {
		struct fnrig *x = &r->fn[i];
		assert_int_equal(sim_guest_bar_program(&x->g, 0, 0x20000000 + 0x100000 * i), 0);
		assert_int_equal(sim_guest_enable(&x->g, HQIO_PCI_COMMAND_MEMORY), 0);
	}
	uint8_t ma[6], mb[6];
	for (int how = SIM_GUEST_PORT_STATUS; how <= SIM_GUEST_PORT_DEVFN; how++) {
		assert_int_equal(sim_guest_nic_mac(&a->g, how, ma), 0);
		assert_int_equal(sim_guest_nic_mac(&b->g, how, mb), 0);
		assert_int_equal(mac48(ma), SIM_GUEST_NIC_NVM_MAC);
		assert_int_equal(mac48(mb), SIM_GUEST_NIC_NVM_MAC + 1);
	}
	/* The driver programmed RAR0 of each port. */
	assert_int_equal(sim_fn_cfg_get(a->f, 0, 2), SIM_NIC_VENDOR);
	uint64_t rah = 0;
	assert_int_equal(sim_guest_mmio_read(&b->g, 0, SIM_NIC_RAH0, 4, &rah), 0);
	assert_int_equal((rah >> 8) & 0xff, 0x51);
	/* The check agrees: no collision for either way of deriving the port. */
	struct hqio_dvh_assigned fns[2] = {
		{ "vm1", SIM_NIC_VENDOR, SIM_NIC_DEVICE_DUAL, 0x020000, sim_fn_bdf(a->f), 0 },
		{ "vm1", SIM_NIC_VENDOR, SIM_NIC_DEVICE_DUAL, 0x020000, sim_fn_bdf(b->f), 1 },
	};
	size_t n = 9;
	struct hqio_dvh_collision col[2];
	assert_int_equal(hqio_dvh_check_assignment(NULL, fns, 2, col, 2, &n), 0);
	assert_int_equal(n, 0);
	rig_free(r);
}

/* One port to each of two guests, each shown at function 0 (MF_SINGLE). */
static void test_nic_single_two_guests(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct fn_opts o = { .gbdf = { .bus = 0, .dev = 5, .fn = 0 }, .mf = HQIO_VPCI_MF_SINGLE };
	struct fnrig *a = rig_add(r, r->ref.nic[0], &o), *b = rig_add(r, r->ref.nic[1], &o);
	for (unsigned i = 0; i < 2; i++) {
		struct fnrig *x = &r->fn[i];
		uint32_t ht;
		assert_int_equal(sim_guest_cfg_read(&x->g, HQIO_PCI_HEADER_TYPE, 1, &ht), 0);
		assert_int_equal(ht & HQIO_PCI_HEADER_TYPE_MFD, 0);
		assert_int_equal(sim_guest_bar_program(&x->g, 0, 0x20000000), 0);
		assert_int_equal(sim_guest_enable(&x->g, HQIO_PCI_COMMAND_MEMORY), 0);
	}
	uint8_t ma[6], mb[6];
	/* The model's driver (STATUS LAN ID, hardware): still distinct. */
	assert_int_equal(sim_guest_nic_mac(&a->g, SIM_GUEST_PORT_STATUS, ma), 0);
	assert_int_equal(sim_guest_nic_mac(&b->g, SIM_GUEST_PORT_STATUS, mb), 0);
	assert_int_not_equal(mac48(ma), mac48(mb));
	struct hqio_dvh_assigned fns[2] = {
		{ "vm1", SIM_NIC_VENDOR, SIM_NIC_DEVICE_DUAL, 0x020000, sim_fn_bdf(a->f), 0 },
		{ "vm2", SIM_NIC_VENDOR, SIM_NIC_DEVICE_DUAL, 0x020000, sim_fn_bdf(b->f), 0 },
	};
	size_t n = 9;
	struct hqio_dvh_collision col[2];
	assert_int_equal(hqio_dvh_check_assignment(NULL, fns, 2, col, 2, &n), 0);
	assert_int_equal(n, 0);
	/* A driver that takes the port from devfn (tg3's way): both guests
	 * see function 0 and derive the same MAC ... */
	assert_int_equal(sim_guest_nic_mac(&a->g, SIM_GUEST_PORT_DEVFN, ma), 0);
	assert_int_equal(sim_guest_nic_mac(&b->g, SIM_GUEST_PORT_DEVFN, mb), 0);
	assert_int_equal(mac48(ma), mac48(mb));
	/* ... and the check, told this device derives it from devfn, says so. */
	struct hqio_dvh_quirk devfn_nic =
		*hqio_dvh_match(NULL, SIM_NIC_VENDOR, SIM_NIC_DEVICE_DUAL, 0x020000);
	devfn_nic.fn_source = HQIO_DVH_FN_DEVFN;
	struct hqio_dvh_table t = { &devfn_nic, 1 };
	assert_int_equal(hqio_dvh_check_assignment(&t, fns, 2, col, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(col[0].a, 0);
	assert_int_equal(col[0].b, 1);
	assert_int_equal(col[0].how, HQIO_DVH_FN_DEVFN);
	assert_int_equal(col[0].id, 0);
	/* The same layout with MF_WHOLE numbering (fn 0 and 1): no collision. */
	fns[1].guest_fn = 1;
	assert_int_equal(hqio_dvh_check_assignment(&t, fns, 2, col, 2, &n), 0);
	assert_int_equal(n, 0);
	rig_free(r);
}

static void test_check_assignment_real_entries_and_bad_input(void **state)
{
	(void)state;
	/* BCM5720 (tg3, devfn) ports 0 and 1 each at guest function 0. */
	struct hqio_dvh_assigned fns[3] = {
		{ "a", 0x14e4, 0x165f, 0x020000, { 0, 3, 0, 0 }, 0 },
		{ "b", 0x14e4, 0x165f, 0x020000, { 0, 3, 0, 1 }, 0 },
		{ "c", 0x14e4, 0x165f, 0x020000, { 0, 4, 0, 1 }, 0 }, /* another card */
	};
	size_t n;
	struct hqio_dvh_collision col[4];
	assert_int_equal(hqio_dvh_check_assignment(NULL, fns, 3, col, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(col[0].b, 1);
	/* Unknown device: no identity rule, no warning. */
	fns[0].device = fns[1].device = 0x1234;
	assert_int_equal(hqio_dvh_check_assignment(NULL, fns, 2, col, 4, &n), 0);
	assert_int_equal(n, 0);
	/* max 0: counted only. */
	fns[0].device = fns[1].device = 0x165f;
	assert_int_equal(hqio_dvh_check_assignment(NULL, fns, 2, NULL, 0, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(hqio_dvh_check_assignment(NULL, NULL, 2, col, 4, &n), -EINVAL);
	assert_int_equal(hqio_dvh_check_assignment(NULL, fns, 2, col, 4, NULL), -EINVAL);
	fns[0].guest_fn = 9;
	assert_int_equal(hqio_dvh_check_assignment(NULL, fns, 2, col, 4, &n), -EINVAL);
	assert_int_equal(hqio_dvh_check_assignment(NULL, NULL, 0, NULL, 0, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_entries_are_complete),
		cmocka_unit_test(test_match_by_id_mask_and_class),
		cmocka_unit_test(test_trapped_ranges),
		cmocka_unit_test(test_vpci_reports_trapped_pages),
		cmocka_unit_test(test_monitor_traps_backdoor_page),
		cmocka_unit_test(test_gpu_mirror_shows_virtual_values),
		cmocka_unit_test(test_gpu_mirror_disabled_shows_host_values),
		cmocka_unit_test(test_gpu_mirror_write_stays_virtual),
		cmocka_unit_test(test_index_window_reaches_virtual_config),
		cmocka_unit_test(test_latched_window_reaches_virtual_msix_table),
		cmocka_unit_test(test_host_bridge_identity_and_named_registers),
		cmocka_unit_test(test_gpu_stolen_base_through_virtual_host_bridge),
		cmocka_unit_test(test_gpu_stolen_base_wrong_without_host_bridge),
		cmocka_unit_test(test_nic_whole_distinct_macs),
		cmocka_unit_test(test_nic_single_two_guests),
		cmocka_unit_test(test_check_assignment_real_entries_and_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
