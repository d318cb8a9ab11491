/*
 * lib/vpci acceptance on the simulated platform: a guest driver (sim/guest
 * through hqio_vpci_guest_ops) sizes and programs BARs and sees its own
 * addresses while the host's BAR registers never change; MMIO and DMA
 * still work; MSI/MSI-X programming never reaches the hardware;
 * capabilities are hidden by the policy; the multi-function policy; guest
 * FLR and guest D3hot->D0 round trips; the engine's w1c read-modify-write;
 * the Device Control policy; the GPU configuration mirror back door; and
 * an invariant checker run after random guest write sequences.
 *
 * Negative control: the invariant test (test_invariant_random_writes) was
 * run against a copy of lib/vpci with the BAR rows' `virt` mask cleared
 * (guest BAR writes then reach the hardware): it fails at once; see the
 * report that came with this file.
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

#include "sim.h"
#include "guest.h"
#include "devices/devices.h"
#include "hqio/inspect.h"
#include "hqio/reset.h"
#include "hqio/vpci.h"
#include "vpci_fixture.h"

#define MS  SIM_NS_PER_MS
#define MEM (8ULL << 20)

/* ------------------------------------------------------------------ */
/* The rig: reference machine, host firmware, lib/irq, lib/vpci, guest  */
/* ------------------------------------------------------------------ */

struct bar_event {
	unsigned bar;
	uint64_t addr;
	bool on;
};

struct rig {
	struct sim_platform *p;
	struct sim_reference ref;
	struct hqio_host_ops ops, gops;
	struct sim_fn *f;
	struct hqio_irq irq;
	struct hqio_reset_plan plan;
	struct hqio_vpci v;
	struct sim_guest g;
	struct hqio_bdf gbdf;
	/* bar_changed log */
	struct bar_event ev[64];
	unsigned n_ev;
	unsigned blocked_in_cb; /* BAR reads refused from inside the callback */
	/* Guest interrupt log. */
	uint64_t msi_addr;
	uint32_t msi_data;
	unsigned n_msi;
	/* Invariant snapshot (after init, before the guest runs). */
	uint32_t s_bar[6], s_rom;
	uint32_t s_msi[6];
	uint8_t *s_msix;
	bool s_bm;
};

static void on_bar(void *arg, unsigned bar, uint64_t addr, bool on)
{
	struct rig *r = arg;
	if (r->n_ev < 64)
		r->ev[r->n_ev++] = (struct bar_event){ bar, addr, on };
	if (r->v.in_flr) {
		uint64_t x = 0;
		hqio_vpci_bar_read(&r->v, 0, 0, 4, &x);
		if (x == 0xffffffffu)
			r->blocked_in_cb++;
	}
}

static void inject_msi(void *arg, uint64_t addr, uint32_t data)
{
	struct rig *r = arg;
	r->msi_addr = addr;
	r->msi_data = data;
	r->n_msi++;
}

static int owner_all(void *arg, struct hqio_bdf bdf)
{
	(void)arg;
	(void)bdf;
	return 1;
}

static void make_plan(struct rig *r)
{
	struct hqio_system sys = { 0 };
	assert_int_equal(sim_snapshot(r->p, &sys), 0);
	struct hqio_plan_input in = {
		.sys = &sys,
		.node = hqio_system_find(&sys, sim_fn_bdf(r->f)),
		.owner = 1,
		.owner_of = owner_all,
		.force = true,
	};
	assert_non_null(in.node);
	assert_int_equal(hqio_reset_plan(&in, &r->plan, NULL), 0);
	hqio_system_free(&sys);
}

static void irq_setup(struct rig *r)
{
	vpci_fixture_irq_init(&r->irq, &r->ops, r->f, r, inject_msi);
}

static void snapshot(struct rig *r)
{
	struct sim_fn *f = r->f;
	for (unsigned i = 0; i < 6; i++)
		r->s_bar[i] = sim_fn_cfg_get(f, (uint16_t)(0x10 + 4 * i), 4);
	r->s_rom = sim_fn_cfg_get(f, HQIO_PCI_ROM_ADDRESS, 4);
	if (f->msi)
		for (unsigned i = 0; i < 6; i++)
			r->s_msi[i] = sim_fn_cfg_get(f, (uint16_t)(f->msi + 4 + 4 * i), 4);
	free(r->s_msix);
	r->s_msix = NULL;
	if (f->msix && f->irq.msix_table) {
		r->s_msix = malloc((size_t)f->irq.msix_size * 16);
		memcpy(r->s_msix, f->irq.msix_table, (size_t)f->irq.msix_size * 16);
	}
	r->s_bm = sim_fn_bus_master(f);
}

struct rig_opts {
	bool irq, plan, allow_bm;
	enum hqio_vpci_mf_policy mf;
	struct hqio_vpci_policy policy;
};

static struct rig *rig_new(struct sim_fn *(*pick)(struct sim_reference *), const struct rig_opts *o)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->p = sim_platform_new(11, MEM);
	assert_non_null(r->p);
	assert_int_equal(sim_build_reference_ex(r->p, &r->ref), 0);
	sim_host_ops(r->p, &r->ops);
	r->f = pick(&r->ref);
	assert_non_null(r->f);
	vpci_fixture_host_firmware(r->p, r->f, 0xc0000000ULL, 0x2000, 0xfe000000u);
	if (o->plan)
		make_plan(r);
	if (o->irq)
		irq_setup(r);
	r->gbdf = (struct hqio_bdf){ .bus = 0, .dev = 5, .fn = 0 };
	struct hqio_vpci_config c = {
		.ops = &r->ops,
		.host_bdf = sim_fn_bdf(r->f),
		.guest_bdf = r->gbdf,
		.mf = o->mf,
		.policy = o->policy,
		.allow_bus_master = o->allow_bm,
		.irq = o->irq ? &r->irq : NULL,
		.plan = o->plan ? &r->plan : NULL,
		.bar_changed = on_bar,
		.bar_arg = r,
	};
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_vpci_init(&r->v, &c, &err), 0);
	hqio_vpci_guest_ops(&r->v, &r->gops);
	/* The guest driver, without taking over the platform's interrupt
	 * sinks (lib/irq's host vectors stay routed). */
	void (*ms)(void *, const struct sim_msi_msg *) = r->p->msi_sink;
	void *ma = r->p->msi_arg;
	void (*is)(void *, unsigned, uint8_t) = r->p->ioapic_sink;
	void *ia = r->p->ioapic_arg;
	sim_guest_init(&r->g, r->p, &r->gops, r->gbdf);
	r->p->msi_sink = ms;
	r->p->msi_arg = ma;
	r->p->ioapic_sink = is;
	r->p->ioapic_arg = ia;
	snapshot(r);
	return r;
}

static void rig_free(struct rig *r)
{
	hqio_vpci_fini(&r->v);
	if (r->v.cfg.irq)
		hqio_irq_fini(&r->irq);
	free(r->s_msix);
	sim_platform_free(r->p);
	free(r);
}

static struct sim_fn *pick_nvme(struct sim_reference *ref)
{
	return ref->nvme;
}
static struct sim_fn *pick_nic(struct sim_reference *ref)
{
	return ref->nic[0];
}
static struct sim_fn *pick_gpu(struct sim_reference *ref)
{
	return ref->gpu;
}
static struct sim_fn *pick_edu(struct sim_reference *ref)
{
	return ref->edu;
}
static struct sim_fn *pick_hda(struct sim_reference *ref)
{
	return ref->hda;
}
static struct sim_fn *pick_legacy(struct sim_reference *ref)
{
	return ref->legacy23;
}

/*
 * The invariant: nothing the guest did reached a sensitive register.
 * Physical BARs and ROM as the host left them; MSI address/data as the
 * host left them; every MSI-X table entry as the host left it or cleared
 * by a reset; Bus Master never turned on unless allowed.
 */
static bool invariant_ok(struct rig *r, char *why, size_t n)
{
	struct sim_fn *f = r->f;
	for (unsigned i = 0; i < 6; i++) {
		uint32_t x = sim_fn_cfg_get(f, (uint16_t)(0x10 + 4 * i), 4);
		if (x != r->s_bar[i]) {
			snprintf(why, n, "BAR%u %08x != host %08x", i, x, r->s_bar[i]);
			return false;
		}
	}
	if (sim_fn_cfg_get(f, HQIO_PCI_ROM_ADDRESS, 4) != r->s_rom) {
		snprintf(why, n, "ROM changed");
		return false;
	}
	if (f->msi) {
		uint32_t fl = sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_FLAGS, 2);
		unsigned nd = fl & HQIO_PCI_MSI_FLAGS_64BIT ? 3 : 2; /* addr, (hi), data */
		for (unsigned i = 0; i < nd; i++) {
			uint32_t x = sim_fn_cfg_get(f, (uint16_t)(f->msi + 4 + 4 * i), 4);
			if (x != r->s_msi[i]) {
				snprintf(why, n, "MSI dword %u %08x != %08x", i, x, r->s_msi[i]);
				return false;
			}
		}
	}
	if (r->s_msix && f->irq.msix_table) {
		static const uint8_t zero[16];
		for (unsigned e = 0; e < f->irq.msix_size; e++) {
			const uint8_t *now = f->irq.msix_table + 16 * e;
			/* Vector Control's mask bit may be flipped by lib/irq. */
			if (memcmp(now, r->s_msix + 16 * e, 12) && memcmp(now, zero, 12)) {
				snprintf(why, n, "MSI-X entry %u changed", e);
				return false;
			}
		}
	}
	if (!r->v.cfg.allow_bus_master && !r->s_bm && sim_fn_bus_master(f)) {
		snprintf(why, n, "Bus Master turned on");
		return false;
	}
	return true;
}

static void assert_invariant(struct rig *r)
{
	char why[128] = "";
	bool ok = invariant_ok(r, why, sizeof(why));
	if (!ok)
		print_error("invariant: %s\n", why);
	assert_true(ok);
}

static uint32_t gread(struct rig *r, uint16_t off, unsigned size)
{
	uint32_t x = 0;
	assert_int_equal(sim_guest_cfg_read(&r->g, off, size, &x), 0);
	return x;
}

static void gwrite(struct rig *r, uint16_t off, unsigned size, uint32_t x)
{
	assert_int_equal(sim_guest_cfg_write(&r->g, off, size, x), 0);
}

/* The guest's own capability walk. */
static uint16_t gcap(struct rig *r, uint8_t id)
{
	if (!(gread(r, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_CAP_LIST))
		return 0;
	uint32_t ptr = gread(r, HQIO_PCI_CAPABILITY_LIST, 1);
	for (int guard = 0; guard < 48 && ptr >= 0x40; guard++) {
		ptr &= 0xfc;
		if (gread(r, (uint16_t)ptr, 1) == id)
			return (uint16_t)ptr;
		ptr = gread(r, (uint16_t)(ptr + 1), 1);
	}
	return 0;
}

/* Program every BAR the way a driver does: size, place, enable. */
static void guest_program_bars(struct rig *r, uint64_t base)
{
	for (unsigned i = 0; i < 6; i++) {
		uint64_t sz = 0;
		assert_int_equal(sim_guest_bar_size(&r->g, i, &sz), 0);
		assert_true(sz == r->f->bar_size[i]);
		if (!sz)
			continue;
		uint32_t reg = gread(r, (uint16_t)(0x10 + 4 * i), 4);
		uint64_t a = (base + sz - 1) & ~(sz - 1);
		if (reg & HQIO_PCI_BASE_ADDRESS_SPACE_IO)
			a = 0x5000 + 0x100 * i;
		assert_int_equal(sim_guest_bar_program(&r->g, i, a), 0);
		base = a + sz;
		if (!(reg & HQIO_PCI_BASE_ADDRESS_SPACE_IO) &&
		    (reg & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
			    HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64)
			i++;
	}
}

/* ------------------------------------------------------------------ */
/* BARs                                                                 */
/* ------------------------------------------------------------------ */

static void check_bars(struct sim_fn *(*pick)(struct sim_reference *))
{
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick, &o);
	uint64_t base = 0x800000000ULL; /* a guest address above 4 GiB */
	for (unsigned i = 0; i < 6; i++) {
		uint64_t sz = 0;
		assert_int_equal(sim_guest_bar_size(&r->g, i, &sz), 0);
		assert_true(sz == r->f->bar_size[i]);
		assert_true(r->v.bar_size[i] == r->f->bar_size[i]);
		if (!sz)
			continue;
		uint32_t reg = gread(r, (uint16_t)(0x10 + 4 * i), 4);
		bool io = reg & HQIO_PCI_BASE_ADDRESS_SPACE_IO;
		bool is64 = !io && (reg & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
					   HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64;
		/* Flags read as the hardware's, address bits 0 before programming. */
		assert_int_equal(reg, r->s_bar[i] & (io ? 0x3u : 0xfu));
		uint64_t a = io	    ? 0x6000
			     : is64 ? (base + sz - 1) & ~(sz - 1)
				    : 0xa0000000ull + (i << 24);
		if (!is64 && !io)
			a &= ~(sz - 1);
		assert_int_equal(sim_guest_bar_program(&r->g, i, a), 0);
		uint64_t back = gread(r, (uint16_t)(0x10 + 4 * i), 4) & (io ? ~3u : ~0xfu);
		if (is64)
			back |= (uint64_t)gread(r, (uint16_t)(0x14 + 4 * i), 4) << 32;
		assert_true(back == a);
		/* Sizing the lower half alone reads ~(size-1) | flags. */
		gwrite(r, (uint16_t)(0x10 + 4 * i), 4, 0xffffffffu);
		uint32_t m = gread(r, (uint16_t)(0x10 + 4 * i), 4);
		assert_int_equal(m, ((uint32_t) ~(sz - 1) & (io ? ~3u : ~0xfu)) |
					    (r->s_bar[i] & (io ? 3u : 0xfu)));
		assert_int_equal(sim_guest_bar_program(&r->g, i, a), 0);
		if (is64) {
			base = a + sz;
			i++;
		}
	}
	/* ROM: virtual too. */
	gwrite(r, HQIO_PCI_ROM_ADDRESS, 4, 0xfffff800u);
	uint32_t rom = gread(r, HQIO_PCI_ROM_ADDRESS, 4);
	if (r->f->bar_size[6])
		assert_int_equal(rom, (uint32_t) ~(r->f->bar_size[6] - 1) & 0xfffff800u);
	else
		assert_int_equal(rom, 0);
	/* Decode on: the monitor hears of every BAR at the guest's address. */
	r->n_ev = 0;
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO), 0);
	unsigned nb = 0;
	for (unsigned i = 0; i < 6; i++)
		nb += r->f->bar_size[i] != 0;
	assert_int_equal(r->n_ev, nb);
	for (unsigned k = 0; k < r->n_ev; k++)
		assert_true(r->ev[k].on);
	/* A move while decoding is reported, with the new address. */
	if (r->f->bar_size[0] && !(r->s_bar[0] & HQIO_PCI_BASE_ADDRESS_SPACE_IO) &&
	    (r->s_bar[0] & 6) == 0) {
		r->n_ev = 0;
		uint64_t a = 0x90000000ull & ~(r->f->bar_size[0] - 1);
		assert_int_equal(sim_guest_bar_program(&r->g, 0, a), 0);
		assert_int_equal(r->n_ev, 1);
		assert_true(r->ev[0].bar == 0 && r->ev[0].addr == a && r->ev[0].on);
	}
	assert_invariant(r);
	rig_free(r);
}

static void test_bars_nvme(void **state)
{
	(void)state;
	check_bars(pick_nvme);
}

static void test_bars_nic(void **state)
{
	(void)state;
	check_bars(pick_nic);
}

static void test_bars_gpu(void **state)
{
	(void)state;
	check_bars(pick_gpu);
}

static void test_bars_legacy_io(void **state)
{
	(void)state;
	check_bars(pick_legacy);
}

/* ------------------------------------------------------------------ */
/* MMIO and DMA through the virtual device                              */
/* ------------------------------------------------------------------ */

static uint64_t host_dma_buffer(struct rig *r, uint64_t iova)
{
	uint64_t hpa = sim_mem_alloc(r->p, 1, 1);
	assert_true(hpa != UINT64_MAX);
	/* The monitor maps guest memory into the device's domain. */
	assert_int_equal(r->ops.dma_map(r->ops.ctx, sim_fn_bdf(r->f), iova, hpa, 4096,
					HQIO_DMA_READ | HQIO_DMA_WRITE),
			 0);
	return hpa;
}

static uint32_t nvme_dma(struct rig *r, uint64_t iova, uint32_t len, uint32_t pattern)
{
	struct sim_guest *g = &r->g;
	assert_int_equal(sim_guest_mmio_write(g, 0, SIM_NVME_DMA_ADDR_LO, 4, (uint32_t)iova), 0);
	assert_int_equal(sim_guest_mmio_write(g, 0, SIM_NVME_DMA_ADDR_HI, 4, iova >> 32), 0);
	assert_int_equal(sim_guest_mmio_write(g, 0, SIM_NVME_DMA_LEN, 4, len), 0);
	assert_int_equal(sim_guest_mmio_write(g, 0, SIM_NVME_DMA_PATTERN, 4, pattern), 0);
	assert_int_equal(sim_guest_mmio_write(g, 0, SIM_NVME_DMA_DOORBELL, 4, 1), 0);
	sim_run_for(&r->p->eng, 100 * SIM_NVME_DMA_NS);
	uint64_t st = 0;
	assert_int_equal(sim_guest_mmio_read(g, 0, SIM_NVME_DMA_STATUS, 4, &st), 0);
	return (uint32_t)st;
}

/* The guest enables MSI-X with entry 0 at (addr, data), through the
 * trapped table. */
static void guest_msix_vec0(struct rig *r, uint32_t addr, uint32_t data)
{
	uint16_t x = gcap(r, HQIO_PCI_CAP_ID_MSIX);
	assert_int_not_equal(x, 0);
	uint64_t t = gread(r, x + HQIO_PCI_MSIX_TABLE, 4);
	unsigned bir = t & 7;
	t &= ~7ull;
	gwrite(r, x + HQIO_PCI_MSIX_FLAGS, 2,
	       HQIO_PCI_MSIX_FLAGS_ENABLE | HQIO_PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(sim_guest_mmio_write(&r->g, bir, t, 4, addr), 0);
	assert_int_equal(sim_guest_mmio_write(&r->g, bir, t + 4, 4, 0), 0);
	assert_int_equal(sim_guest_mmio_write(&r->g, bir, t + 8, 4, data), 0);
	assert_int_equal(sim_guest_mmio_write(&r->g, bir, t + 12, 4, 0), 0);
	gwrite(r, x + HQIO_PCI_MSIX_FLAGS, 2, HQIO_PCI_MSIX_FLAGS_ENABLE);
}

static void test_nvme_mmio_and_dma(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true, .allow_bm = true };
	struct rig *r = rig_new(pick_nvme, &o);
	guest_program_bars(r, 0x900000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER),
			 0);
	uint64_t vs = 0;
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_NVME_VS, 4, &vs), 0);
	assert_int_equal(vs, 0x00010400); /* NVMe 1.4.0 */
	guest_msix_vec0(r, 0xfee01000u, 0x31);
	uint64_t hpa = host_dma_buffer(r, 0x100000);
	uint32_t st = nvme_dma(r, 0x100000, 64, 0x40);
	assert_true(st & SIM_NVME_DMA_DONE);
	assert_int_equal(st >> 16, 0);
	/* The completion interrupt reached the guest as it programmed it. */
	assert_int_equal(r->n_msi, 1);
	assert_true(r->msi_addr == 0xfee01000u && r->msi_data == 0x31);
	uint8_t buf[64];
	assert_int_equal(sim_mem_read(r->p, hpa, buf, sizeof(buf)), 0);
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (uint8_t)(0x40 + i));
	assert_true(sim_fn_bus_master(r->f));
	assert_invariant(r);
	assert_true(r->v.stats.reads > 0 && r->v.stats.writes > 0);
	rig_free(r);
}

static void test_bus_master_filtered(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true, .allow_bm = false };
	struct rig *r = rig_new(pick_nvme, &o);
	guest_program_bars(r, 0x900000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER),
			 0);
	/* The guest sees its Bus Master, the device does not get it. */
	assert_true(gread(r, HQIO_PCI_COMMAND, 2) & HQIO_PCI_COMMAND_MASTER);
	assert_false(sim_fn_bus_master(r->f));
	host_dma_buffer(r, 0x100000);
	uint32_t st = nvme_dma(r, 0x100000, 64, 0x40);
	assert_int_equal(st >> 16, EPERM);
	assert_invariant(r);
	rig_free(r);
}

static void test_decode_off_master_aborts(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_nvme, &o);
	guest_program_bars(r, 0x900000000ULL);
	uint64_t x = 0;
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_NVME_VS, 4, &x), 0);
	assert_int_equal(x, 0xffffffffu);      /* guest decode off */
	assert_true(sim_fn_mem_enabled(r->f)); /* the host's decode stays */
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* Interrupt programming never reaches the hardware                    */
/* ------------------------------------------------------------------ */

static void test_msi_stays_virtual(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_hda, &o);
	uint16_t m = gcap(r, HQIO_PCI_CAP_ID_MSI);
	assert_int_equal(m, r->f->msi);
	/* Point the message at host memory (a DMA attack by MSI) and at
	 * another guest's vector. */
	uint64_t victim = sim_mem_alloc(r->p, 2, -1) + 0x1040;
	gwrite(r, m + HQIO_PCI_MSI_ADDRESS_LO, 4, (uint32_t)victim);
	gwrite(r, m + HQIO_PCI_MSI_ADDRESS_HI, 4, 0x1);
	gwrite(r, m + HQIO_PCI_MSI_DATA_64, 2, 0x4141);
	gwrite(r, m + HQIO_PCI_MSI_FLAGS, 2, HQIO_PCI_MSI_FLAGS_ENABLE);
	assert_int_equal(gread(r, m + HQIO_PCI_MSI_ADDRESS_LO, 4), (uint32_t)victim);
	assert_int_equal(gread(r, m + HQIO_PCI_MSI_ADDRESS_HI, 4), 1);
	assert_int_equal(gread(r, m + HQIO_PCI_MSI_DATA_64, 2), 0x4141);
	assert_true(gread(r, m + HQIO_PCI_MSI_FLAGS, 2) & HQIO_PCI_MSI_FLAGS_ENABLE);
	/* lib/irq got the guest's message; the hardware did not. */
	assert_int_equal(r->irq.mode, HQIO_GUEST_IRQ_MSI);
	assert_true(r->irq.vec[0].addr == ((1ull << 32) | victim));
	assert_int_equal(r->irq.vec[0].data, 0x4141);
	assert_true(sim_fn_cfg_get(r->f, m + HQIO_PCI_MSI_ADDRESS_LO, 4) != (uint32_t)victim);
	assert_true(sim_fn_cfg_get(r->f, m + HQIO_PCI_MSI_DATA_64, 2) != 0x4141);
	/* Reserved low address bits are not writable (PCI LB 3.0 §6.8.1.4). */
	gwrite(r, m + HQIO_PCI_MSI_ADDRESS_LO, 4, 0xfee00003u);
	assert_int_equal(gread(r, m + HQIO_PCI_MSI_ADDRESS_LO, 4), 0xfee00000u);
	assert_invariant(r);
	rig_free(r);
}

static void test_msix_table_trapped(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_nvme, &o);
	guest_program_bars(r, 0x900000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY), 0);
	uint16_t x = gcap(r, HQIO_PCI_CAP_ID_MSIX);
	assert_int_equal(x, r->f->msix);
	gwrite(r, x + HQIO_PCI_MSIX_FLAGS, 2,
	       HQIO_PCI_MSIX_FLAGS_ENABLE | HQIO_PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(r->irq.mode, HQIO_GUEST_IRQ_MSIX);
	/* Table size and location read as the device's. */
	assert_int_equal(gread(r, x + HQIO_PCI_MSIX_FLAGS, 2) & HQIO_PCI_MSIX_FLAGS_QSIZE,
			 SIM_NVME_MSIX_ENTRIES - 1);
	assert_int_equal(gread(r, x + HQIO_PCI_MSIX_TABLE, 4), SIM_NVME_MSIX_TABLE);
	uint64_t victim = sim_mem_alloc(r->p, 2, -1) + 0x1040;
	for (unsigned e = 0; e < SIM_NVME_MSIX_ENTRIES; e++) {
		uint64_t t = SIM_NVME_MSIX_TABLE + 16ull * e;
		assert_int_equal(sim_guest_mmio_write(&r->g, 0, t, 4, (uint32_t)victim), 0);
		assert_int_equal(sim_guest_mmio_write(&r->g, 0, t + 4, 4, 0), 0);
		assert_int_equal(sim_guest_mmio_write(&r->g, 0, t + 8, 4, 0x4242), 0);
		assert_int_equal(sim_guest_mmio_write(&r->g, 0, t + 12, 4, 0), 0);
	}
	gwrite(r, x + HQIO_PCI_MSIX_FLAGS, 2, HQIO_PCI_MSIX_FLAGS_ENABLE);
	/* The hardware table holds no guest value. */
	for (unsigned e = 0; e < SIM_NVME_MSIX_ENTRIES; e++) {
		uint32_t a, d;
		memcpy(&a, r->f->irq.msix_table + 16 * e, 4);
		memcpy(&d, r->f->irq.msix_table + 16 * e + 8, 4);
		assert_true(a != (uint32_t)victim);
		assert_true(d != 0x4242);
	}
	assert_invariant(r);
	rig_free(r);
}

/* Found by fuzz_vpci: with lib/irq absent the MSI-X capability is hidden,
 * but its table still sits in BAR0; a guest BAR write there must not reach
 * the device's table (it holds the host's vectors). */
static void test_no_irq_blocks_msix_table_in_bar(void **state)
{
	(void)state;
	struct rig_opts o = { 0 };
	struct rig *r = rig_new(pick_nvme, &o);
	guest_program_bars(r, 0x900000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY), 0);
	uint8_t before[16];
	memcpy(before, r->f->irq.msix_table, sizeof(before));
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(sim_guest_mmio_write(&r->g, 0, SIM_NVME_MSIX_TABLE + i, 1, 0x26),
				 0);
	uint64_t v = 1;
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_NVME_MSIX_TABLE, 4, &v), 0);
	assert_int_equal(v, 0);
	assert_memory_equal(r->f->irq.msix_table, before, sizeof(before));
	assert_invariant(r);
	rig_free(r);
}

static void test_no_irq_hides_msi(void **state)
{
	(void)state;
	struct rig_opts o = { 0 };
	struct rig *r = rig_new(pick_nic, &o);
	assert_int_equal(gcap(r, HQIO_PCI_CAP_ID_MSI), 0);
	assert_int_equal(gcap(r, HQIO_PCI_CAP_ID_MSIX), 0);
	assert_int_not_equal(gcap(r, HQIO_PCI_CAP_ID_PM), 0);
	assert_int_not_equal(gcap(r, HQIO_PCI_CAP_ID_EXP), 0);
	/* Hidden bytes read 0 and ignore writes. */
	for (unsigned i = 0; i < HQIO_PCI_MSIX_SIZEOF; i += 4) {
		assert_int_equal(gread(r, (uint16_t)(r->f->msix + i), 4), 0);
		gwrite(r, (uint16_t)(r->f->msix + i), 4, 0xffffffffu);
	}
	assert_int_equal(sim_fn_cfg_get(r->f, r->f->msix + HQIO_PCI_MSIX_FLAGS, 2) &
				 HQIO_PCI_MSIX_FLAGS_ENABLE,
			 0);
	assert_invariant(r);
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* Capability hiding                                                    */
/* ------------------------------------------------------------------ */

static void read_image(struct rig *r, uint8_t *img, size_t len)
{
	for (size_t off = 0; off < len; off += 4) {
		uint32_t x = 0;
		assert_int_equal(hqio_vpci_read(&r->v, (uint16_t)off, 4, &x), 0);
		memcpy(img + off, &x, 4);
	}
}

static bool std_allowed(uint16_t id)
{
	return id == HQIO_PCI_CAP_ID_PM || id == HQIO_PCI_CAP_ID_MSI ||
	       id == HQIO_PCI_CAP_ID_MSIX || id == HQIO_PCI_CAP_ID_EXP ||
	       id == HQIO_PCI_CAP_ID_AF || id == HQIO_PCI_CAP_ID_VNDR;
}

static bool ext_allowed(uint16_t id)
{
	return id == 0 || id == HQIO_PCI_EXT_CAP_ID_DSN || id == HQIO_PCI_EXT_CAP_ID_ARI ||
	       id == HQIO_PCI_EXT_CAP_ID_VNDR;
}

static void test_caps_nvme_sriov_ats_hidden(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_nvme, &o);
	assert_true(r->f->sriov && r->f->ats);
	static uint8_t img[4096];
	read_image(r, img, sizeof(img));
	struct hqio_pci_cap caps[HQIO_PCI_MAX_EXT_CAPS];
	struct hqio_pci_cap_list l;
	assert_int_equal(hqio_pci_walk_std(img, 256, caps, &l, NULL), 0);
	assert_int_equal(l.n, 3); /* PM, MSI-X, PCIe */
	for (unsigned i = 0; i < l.n; i++)
		assert_true(std_allowed(caps[i].id));
	assert_int_equal(hqio_pci_walk_ext(img, sizeof(img), caps, &l, NULL), 0);
	assert_true(l.absent); /* SR-IOV and ATS hidden: an empty list */
	for (unsigned i = 0; i < 0x40; i++)
		assert_int_equal(img[r->f->sriov + i], 0);
	/* The guest cannot enable VFs. */
	gwrite(r, r->f->sriov + HQIO_PCI_SRIOV_NUM_VF, 2, 2);
	gwrite(r, r->f->sriov + HQIO_PCI_SRIOV_CTRL, 2, HQIO_PCI_SRIOV_CTRL_VFE);
	assert_int_equal(sim_fn_cfg_get(r->f, r->f->sriov + HQIO_PCI_SRIOV_CTRL, 2), 0);
	rig_free(r);
}

/* A function with every kind of capability: VPD, vendor-specific, PM, PCIe,
 * MSI, AF; extended ACS (the head), DSN, AER. */
static struct sim_fn *build_rich(struct sim_platform *p)
{
	struct sim_fn *f = sim_fn_new(p, NULL, 6, 0, 4096, "rich", NULL, NULL);
	assert_non_null(f);
	sim_fn_header(f, 0x1af4, 0x10ff, 0xff0000, 0, 1);
	sim_fn_bar(f, 0, 4096, 0);
	sim_add_pm(f, 0x40, false);
	hqio_cfgb_cap(&f->b, 0x48, HQIO_PCI_CAP_ID_VPD);
	hqio_cfgb_cap(&f->b, 0x50, HQIO_PCI_CAP_ID_VNDR);
	hqio_cfgb_w8(&f->b, 0x52, 8);		/* length */
	hqio_cfgb_w32(&f->b, 0x54, 0x12345678); /* vendor data */
	sim_fn_rw(f, 0x54, 4, 0xffffffffu);
	sim_add_exp(f, 0x60, HQIO_PCI_EXP_TYPE_ENDPOINT, true, 1, 1);
	sim_add_msi(f, 0xa0, 2, true, true);
	sim_add_af(f, 0xc0, true, true);
	sim_add_ext_acs(f, 0x100);
	hqio_cfgb_ext(&f->b, 0x140, HQIO_PCI_EXT_CAP_ID_DSN, 1);
	hqio_cfgb_w32(&f->b, 0x144, 0xdeadbeef);
	hqio_cfgb_ext(&f->b, 0x160, HQIO_PCI_EXT_CAP_ID_ERR, 2);
	hqio_cfgb_w32(&f->b, 0x160 + HQIO_PCI_ERR_UNCOR_STATUS, 0x1000);
	sim_fn_w1c(f, 0x160 + HQIO_PCI_ERR_UNCOR_STATUS, 4, 0xffffffffu);
	sim_fn_finalize(f);
	return f;
}

static struct sim_fn *pick_rich(struct sim_reference *ref)
{
	/* The reference machine's edu platform gets one more function. */
	return build_rich(ref->edu->plat);
}

static void test_caps_policy_rich(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_rich, &o);
	static uint8_t img[4096];
	read_image(r, img, sizeof(img));
	struct hqio_pci_cap caps[HQIO_PCI_MAX_EXT_CAPS];
	struct hqio_pci_cap_list l;
	assert_int_equal(hqio_pci_walk_std(img, 256, caps, &l, NULL), 0);
	uint16_t want_std[] = { HQIO_PCI_CAP_ID_PM, HQIO_PCI_CAP_ID_VNDR, HQIO_PCI_CAP_ID_EXP,
				HQIO_PCI_CAP_ID_MSI, HQIO_PCI_CAP_ID_AF };
	assert_int_equal(l.n, 5);
	for (unsigned i = 0; i < l.n; i++)
		assert_int_equal(caps[i].id, want_std[i]);
	/* VPD hidden: its bytes read 0; its writes never reach the device. */
	for (unsigned i = 0x48; i < 0x50; i++)
		assert_int_equal(img[i], 0);
	gwrite(r, 0x4a, 2, 0x8000);
	/* Vendor-specific passes through. */
	assert_int_equal(gread(r, 0x54, 4), 0x12345678);
	gwrite(r, 0x54, 4, 0xcafe0001);
	assert_int_equal(sim_fn_cfg_get(r->f, 0x54, 4), 0xcafe0001);
	/* Extended: ACS (the head) and AER hidden, DSN linked from 100h. */
	assert_int_equal(hqio_pci_walk_ext(img, sizeof(img), caps, &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(caps[0].offset, 0x100);
	assert_int_equal(caps[0].id, 0);
	assert_int_equal(caps[1].offset, 0x140);
	assert_int_equal(caps[1].id, HQIO_PCI_EXT_CAP_ID_DSN);
	for (unsigned i = 0; i < l.n; i++)
		assert_true(ext_allowed(caps[i].id));
	assert_int_equal(gread(r, 0x144, 4), 0xdeadbeef);
	assert_int_equal(gread(r, 0x160 + HQIO_PCI_ERR_UNCOR_STATUS, 4), 0);
	gwrite(r, 0x160 + HQIO_PCI_ERR_UNCOR_STATUS, 4, 0xffffffffu);
	assert_int_equal(sim_fn_cfg_get(r->f, 0x160 + HQIO_PCI_ERR_UNCOR_STATUS, 4), 0x1000);
	assert_null(hqio_vpci_field_at(&r->v, 0x170));
	const struct hqio_vpci_field *fl = hqio_vpci_field_at(&r->v, 0x04);
	assert_non_null(fl);
	assert_int_equal(fl->kind, HQIO_VF_COMMAND);
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* Multi-function policy, IDs                                           */
/* ------------------------------------------------------------------ */

static void test_mf_single_and_whole(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true, .mf = HQIO_VPCI_MF_SINGLE };
	struct rig *r = rig_new(pick_nic, &o);
	assert_true(sim_fn_cfg_get(r->f, HQIO_PCI_HEADER_TYPE, 1) & HQIO_PCI_HEADER_TYPE_MFD);
	assert_int_equal(gread(r, HQIO_PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(gread(r, HQIO_PCI_VENDOR_ID, 4),
			 (uint32_t)SIM_NIC_DEVICE_DUAL << 16 | SIM_NIC_VENDOR);
	gwrite(r, HQIO_PCI_VENDOR_ID, 4, 0);
	assert_int_equal(gread(r, HQIO_PCI_VENDOR_ID, 2), SIM_NIC_VENDOR);
	/* The guest sees only its own function on its bus. */
	uint32_t x = 0;
	struct hqio_bdf other = r->gbdf;
	other.fn = 1;
	assert_int_equal(r->gops.cfg_read(r->gops.ctx, other, 0, 4, &x), 0);
	assert_int_equal(x, 0xffffffffu);
	rig_free(r);

	o.mf = HQIO_VPCI_MF_WHOLE;
	r = rig_new(pick_nic, &o);
	assert_int_equal(gread(r, HQIO_PCI_HEADER_TYPE, 1), HQIO_PCI_HEADER_TYPE_MFD);
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* Engine details: w1c read-modify-write, Device Control policy          */
/* ------------------------------------------------------------------ */

static void test_w1c_rmw(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_nvme, &o);
	struct sim_fn *f = r->f;
	uint16_t ra = HQIO_PCI_STATUS_REC_MASTER_ABORT, sse = HQIO_PCI_STATUS_SIG_SYSTEM_ERROR;
	sim_fn_w1c(f, HQIO_PCI_STATUS, 2, ra | sse);
	sim_fn_cfg_set(f, HQIO_PCI_STATUS, 2, sim_fn_cfg_get(f, HQIO_PCI_STATUS, 2) | ra | sse);
	/* Command writes (16- and 32-bit) never clear Status bits. */
	gwrite(r, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MEMORY);
	gwrite(r, HQIO_PCI_COMMAND, 4, HQIO_PCI_COMMAND_MEMORY);
	assert_int_equal(sim_fn_cfg_get(f, HQIO_PCI_STATUS, 2) & (ra | sse), ra | sse);
	assert_int_equal(gread(r, HQIO_PCI_STATUS, 2) & (ra | sse), ra | sse);
	/* Writing 1 clears exactly that bit. */
	gwrite(r, HQIO_PCI_COMMAND, 4, (uint32_t)ra << 16 | HQIO_PCI_COMMAND_MEMORY);
	assert_int_equal(sim_fn_cfg_get(f, HQIO_PCI_STATUS, 2) & (ra | sse), sse);
	gwrite(r, HQIO_PCI_STATUS + 1, 1, sse >> 8);
	assert_int_equal(sim_fn_cfg_get(f, HQIO_PCI_STATUS, 2) & (ra | sse), 0);
	/* Capabilities List is the virtual one. */
	assert_true(gread(r, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_CAP_LIST);
	assert_invariant(r);
	rig_free(r);
}

static void test_devctl_policy(void **state)
{
	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		struct rig_opts o = { .irq = true,
				      .policy = { .pass_mrrs = pass, .pass_no_snoop = pass } };
		struct rig *r = rig_new(pick_nvme, &o);
		uint16_t e = gcap(r, HQIO_PCI_CAP_ID_EXP);
		assert_int_equal(e, r->f->exp);
		uint16_t dc = e + HQIO_PCI_EXP_DEVCTL;
		uint32_t hw0 = sim_fn_cfg_get(r->f, dc, 2);
		sim_fn_rw(r->f, dc, 2, 0x7fff); /* the device implements every field */
		uint32_t want = (5u << 12) | (5u << 5) | HQIO_PCI_EXP_DEVCTL_PHANTOM |
				HQIO_PCI_EXP_DEVCTL_RELAX_EN;
		uint32_t ns = hw0 & HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN;
		want |= ns ^ HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN;
		gwrite(r, dc, 2, want);
		uint32_t hw = sim_fn_cfg_get(r->f, dc, 2), g = gread(r, dc, 2);
		/* MPS and Phantom: the fabric's, read-only. */
		assert_int_equal(hw & HQIO_PCI_EXP_DEVCTL_PAYLOAD,
				 hw0 & HQIO_PCI_EXP_DEVCTL_PAYLOAD);
		assert_int_equal(g & HQIO_PCI_EXP_DEVCTL_PAYLOAD,
				 hw0 & HQIO_PCI_EXP_DEVCTL_PAYLOAD);
		assert_int_equal(hw & HQIO_PCI_EXP_DEVCTL_PHANTOM, 0);
		/* Relaxed Ordering passes through. */
		assert_true(hw & HQIO_PCI_EXP_DEVCTL_RELAX_EN);
		/* MRRS and No Snoop: the guest always sees its value; the
		 * hardware gets it only with the policy. */
		assert_int_equal(g & HQIO_PCI_EXP_DEVCTL_READRQ, 5u << 12);
		assert_int_equal(g & HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN,
				 want & HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN);
		if (pass) {
			assert_int_equal(hw & HQIO_PCI_EXP_DEVCTL_READRQ, 5u << 12);
			assert_int_equal(hw & HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN,
					 want & HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN);
		} else {
			assert_int_equal(hw & HQIO_PCI_EXP_DEVCTL_READRQ,
					 hw0 & HQIO_PCI_EXP_DEVCTL_READRQ);
			assert_int_equal(hw & HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN, ns);
		}
		/* Without a plan no FLR is advertised. */
		assert_int_equal(gread(r, e + HQIO_PCI_EXP_DEVCAP, 4) & HQIO_PCI_EXP_DEVCAP_FLR, 0);
		rig_free(r);
	}
}

/* ------------------------------------------------------------------ */
/* Guest FLR and guest D3hot -> D0                                      */
/* ------------------------------------------------------------------ */

static void test_guest_flr_round_trip(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true, .plan = true, .allow_bm = true };
	struct rig *r = rig_new(pick_nvme, &o);
	guest_program_bars(r, 0x900000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER),
			 0);
	assert_int_equal(sim_guest_mmio_write(&r->g, 0, SIM_NVME_AQA, 4, 0x001f001f), 0);
	uint16_t e = gcap(r, HQIO_PCI_CAP_ID_EXP);
	assert_true(gread(r, e + HQIO_PCI_EXP_DEVCAP, 4) & HQIO_PCI_EXP_DEVCAP_FLR);
	uint64_t resets = r->f->resets;
	r->n_ev = 0;
	gwrite(r, e + HQIO_PCI_EXP_DEVCTL, 2,
	       gread(r, e + HQIO_PCI_EXP_DEVCTL, 2) | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(r->v.stats.guest_flrs, 1);
	assert_false(r->v.in_flr);
	assert_true(r->f->resets > resets);
	/* The monitor was told to unmap, and a guest access during the FLR
	 * was refused. */
	assert_true(r->n_ev >= 1 && !r->ev[0].on);
	assert_true(r->blocked_in_cb >= 1);
	assert_true(r->v.stats.bar_blocked >= 1);
	/* The guest sees the post-reset state. */
	assert_int_equal(gread(r, HQIO_PCI_COMMAND, 2), 0);
	assert_int_equal(gread(r, HQIO_PCI_BASE_ADDRESS_0, 4) & ~0xfu, 0);
	assert_int_equal(gread(r, e + HQIO_PCI_EXP_DEVCTL, 2) & HQIO_PCI_EXP_DEVCTL_BCR_FLR, 0);
	assert_invariant(r);
	/* The driver programs it again, as drivers do after a reset. */
	guest_program_bars(r, 0xa00000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER),
			 0);
	uint64_t aqa = 1;
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_NVME_AQA, 4, &aqa), 0);
	assert_int_equal(aqa, 0); /* the device really was reset */
	guest_msix_vec0(r, 0xfee02000u, 0x45);
	uint64_t hpa = host_dma_buffer(r, 0x200000);
	unsigned n_msi = r->n_msi;
	uint32_t st = nvme_dma(r, 0x200000, 16, 0x80);
	assert_true(st & SIM_NVME_DMA_DONE);
	/* Interrupts work again after the reset (lib/irq re-armed). */
	assert_int_equal(r->n_msi, n_msi + 1);
	assert_true(r->msi_addr == 0xfee02000u && r->msi_data == 0x45);
	uint8_t b0 = 0;
	sim_mem_read(r->p, hpa + 3, &b0, 1);
	assert_int_equal(b0, 0x83);
	assert_invariant(r);
	rig_free(r);
}

static void test_guest_flr_without_plan_ignored(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_nvme, &o);
	uint16_t e = gcap(r, HQIO_PCI_CAP_ID_EXP);
	uint64_t resets = r->f->resets;
	gwrite(r, e + HQIO_PCI_EXP_DEVCTL, 2, HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(r->f->resets, resets);
	assert_int_equal(r->v.stats.guest_flrs, 0);
	assert_int_equal(gread(r, e + HQIO_PCI_EXP_DEVCTL, 2) & HQIO_PCI_EXP_DEVCTL_BCR_FLR, 0);
	rig_free(r);
}

static void test_guest_af_flr(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true, .plan = true };
	struct rig *r = rig_new(pick_edu, &o);
	uint16_t af = gcap(r, HQIO_PCI_CAP_ID_AF);
	assert_int_equal(af, r->f->af);
	assert_true(gread(r, af + HQIO_PCI_AF_CAP, 1) & HQIO_PCI_AF_CAP_FLR);
	guest_program_bars(r, 0x80000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY), 0);
	uint64_t resets = r->f->resets;
	gwrite(r, af + HQIO_PCI_AF_CTRL, 1, HQIO_PCI_AF_CTRL_FLR);
	assert_int_equal(r->v.stats.guest_flrs, 1);
	assert_true(r->f->resets > resets);
	assert_int_equal(gread(r, af + HQIO_PCI_AF_CTRL, 1), 0);
	assert_int_equal(gread(r, HQIO_PCI_COMMAND, 2), 0);
	guest_program_bars(r, 0x80000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY), 0);
	uint64_t id = 0;
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_EDU_ID, 4, &id), 0);
	assert_int_equal(id, SIM_EDU_ID_VALUE);
	assert_invariant(r);
	rig_free(r);
}

static void test_guest_d3hot_round_trip(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_nic, &o);
	assert_int_equal(sim_fn_cfg_get(r->f, r->f->pm + HQIO_PCI_PM_CTRL, 2) &
				 HQIO_PCI_PM_CTRL_NO_SOFT_RESET,
			 0);
	guest_program_bars(r, 0x80000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY), 0);
	uint32_t gbars[6];
	for (unsigned i = 0; i < 6; i++)
		gbars[i] = gread(r, (uint16_t)(0x10 + 4 * i), 4);
	uint64_t ral0 = 0;
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_NIC_RAL0, 4, &ral0), 0);
	assert_int_equal(sim_guest_mmio_write(&r->g, 0, SIM_NIC_RAL0, 4, 0x11223344), 0);
	uint16_t pm = gcap(r, HQIO_PCI_CAP_ID_PM);
	assert_int_equal(pm, r->f->pm);
	uint16_t pc = pm + HQIO_PCI_PM_CTRL;
	r->n_ev = 0;
	gwrite(r, pc, 2, 3);
	assert_int_equal(gread(r, pc, 2) & 3, 3);
	assert_int_equal(sim_fn_pm_state(r->f), 3); /* the real transition */
	assert_true(r->n_ev >= 1 && !r->ev[0].on);  /* decode gone in D3hot */
	uint64_t x = 0;
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_NIC_STATUS, 4, &x), 0);
	assert_int_equal(x, 0xffffffffu);
	/* D3hot -> D1 is not a legal transition (PCI PM 1.2 §5.4.1). */
	gwrite(r, pc, 2, 1);
	assert_int_equal(gread(r, pc, 2) & 3, 3);
	gwrite(r, pc, 2, 0);
	assert_int_equal(gread(r, pc, 2) & 3, 0);
	assert_int_equal(sim_fn_pm_state(r->f), 0);
	assert_int_equal(r->v.stats.guest_pm_resets, 1);
	/* The guest's view stays as it left it ... */
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(gread(r, (uint16_t)(0x10 + 4 * i), 4), gbars[i]);
	assert_true(gread(r, HQIO_PCI_COMMAND, 2) & HQIO_PCI_COMMAND_MEMORY);
	/* ... the device's BARs, decode and MSI-X set-up are the host's again ... */
	assert_invariant(r);
	assert_true(sim_fn_mem_enabled(r->f));
	if (r->s_msix)
		assert_memory_equal(r->f->irq.msix_table, r->s_msix, 16ul * r->f->irq.msix_size);
	/* ... and the device was reset and works. */
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_NIC_RAL0, 4, &x), 0);
	assert_int_equal(x, ral0); /* power-on MAC, not the guest's value */
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_NIC_STATUS, 4, &x), 0);
	assert_true(x & SIM_NIC_STATUS_LU);
	rig_free(r);
}

static void test_guest_d3hot_no_soft_reset(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_nvme, &o); /* No_Soft_Reset set */
	guest_program_bars(r, 0x900000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY), 0);
	assert_int_equal(sim_guest_mmio_write(&r->g, 0, SIM_NVME_AQA, 4, 0x00070007), 0);
	uint16_t pc = r->f->pm + HQIO_PCI_PM_CTRL;
	gwrite(r, pc, 2, 3);
	gwrite(r, pc, 2, 0);
	assert_int_equal(r->v.stats.guest_pm_resets, 0);
	uint64_t aqa = 0;
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_NVME_AQA, 4, &aqa), 0);
	assert_int_equal(aqa, 0x00070007);
	assert_invariant(r);
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* Back door: the GPU's configuration mirror                             */
/* ------------------------------------------------------------------ */

static void test_gpu_config_mirror_virtualized(void **state)
{
	(void)state;
	struct rig_opts o = { .irq = true };
	struct rig *r = rig_new(pick_gpu, &o);
	guest_program_bars(r, 0x900000000ULL);
	assert_int_equal(sim_guest_enable(&r->g, HQIO_PCI_COMMAND_MEMORY), 0);
	uint64_t x = 0;
	/* Reads of the mirror show the guest's view (its BAR0 address). */
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_GPU_CFG_MIRROR + 0x10, 4, &x), 0);
	assert_int_equal(x, gread(r, 0x10, 4));
	/* Writes through it are guest configuration writes. */
	assert_int_equal(sim_guest_mmio_write(&r->g, 0, SIM_GPU_CFG_MIRROR + 0x10, 4, 0x12000000),
			 0);
	assert_int_equal(gread(r, 0x10, 4) & ~0xfu, 0x12000000);
	assert_int_equal(
		sim_guest_mmio_write(&r->g, 0, SIM_GPU_CFG_MIRROR + r->f->msi + 4, 4, 0xdead0000),
		0);
	assert_invariant(r);
	assert_int_equal(sim_guest_mmio_read(&r->g, 0, SIM_GPU_BOOT_0, 4, &x), 0);
	/* The guest moved its BAR0; the device (host BARs) still works. */
	assert_int_equal(x, SIM_GPU_BOOT_0_VALUE);
	rig_free(r);
}

/* ------------------------------------------------------------------ */
/* The invariant under random guest writes                               */
/* ------------------------------------------------------------------ */

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

static void random_writes(struct sim_fn *(*pick)(struct sim_reference *), uint64_t seed, unsigned n)
{
	struct rig_opts o = { .irq = true, .plan = true };
	struct rig *r = rig_new(pick, &o);
	uint64_t s = seed;
	for (unsigned k = 0; k < n; k++) {
		unsigned size = 1u << (lcg(&s) % 3);
		uint16_t off;
		uint64_t pickr = lcg(&s) % 8;
		if (pickr < 4) /* the header, where the sensitive registers are */
			off = (uint16_t)(lcg(&s) % 0x40);
		else if (pickr < 7)
			off = (uint16_t)(0x40 + lcg(&s) % 0xc0);
		else
			off = (uint16_t)(lcg(&s) % 0x1000);
		off &= (uint16_t) ~(size - 1);
		uint32_t val = (uint32_t)lcg(&s) ^ (uint32_t)(lcg(&s) << 16);
		if (lcg(&s) % 4 == 0)
			val = 0xffffffffu;
		if (lcg(&s) % 3 == 0) {
			uint64_t boff = lcg(&s) % 0x4000, x = 0;
			unsigned bs = 1u << (lcg(&s) % 4);
			boff &= ~(uint64_t)(bs - 1);
			if (lcg(&s) & 1)
				hqio_vpci_bar_write(&r->v, (unsigned)(lcg(&s) % 6), boff, bs, val);
			else
				hqio_vpci_bar_read(&r->v, (unsigned)(lcg(&s) % 6), boff, bs, &x);
		} else {
			hqio_vpci_write(&r->v, off, size, val);
		}
		uint32_t rd;
		hqio_vpci_read(&r->v, off, size, &rd);
		char why[128];
		if (!invariant_ok(r, why, sizeof(why))) {
			print_error("seed %llu step %u (write %u@%#x = %#x): %s\n",
				    (unsigned long long)seed, k, size, off, val, why);
			fail();
		}
	}
	rig_free(r);
}

static void test_invariant_random_writes(void **state)
{
	(void)state;
	random_writes(pick_nvme, 1, 3000);
	random_writes(pick_nic, 2, 3000);
	random_writes(pick_gpu, 3, 3000);
	random_writes(pick_edu, 4, 3000);
	random_writes(pick_hda, 5, 3000);
	random_writes(pick_legacy, 6, 3000);
}

static void test_bad_accesses(void **state)
{
	(void)state;
	struct rig_opts o = { 0 };
	struct rig *r = rig_new(pick_edu, &o);
	uint32_t x;
	uint64_t y;
	assert_int_equal(hqio_vpci_read(&r->v, 1, 2, &x), -EINVAL);
	assert_int_equal(hqio_vpci_read(&r->v, 0, 3, &x), -EINVAL);
	assert_int_equal(hqio_vpci_write(&r->v, 0xffe, 4, 0), -EINVAL);
	assert_int_equal(hqio_vpci_write(&r->v, 0x1000, 1, 0), -EINVAL);
	assert_int_equal(hqio_vpci_bar_read(&r->v, 6, 0, 4, &y), -EINVAL);
	assert_int_equal(hqio_vpci_bar_read(&r->v, 3, 0, 4, &y), -EINVAL); /* unimplemented */
	assert_int_equal(hqio_vpci_bar_write(&r->v, 0, 0, 3, 0), -EINVAL);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bars_nvme),
		cmocka_unit_test(test_bars_nic),
		cmocka_unit_test(test_bars_gpu),
		cmocka_unit_test(test_bars_legacy_io),
		cmocka_unit_test(test_nvme_mmio_and_dma),
		cmocka_unit_test(test_bus_master_filtered),
		cmocka_unit_test(test_decode_off_master_aborts),
		cmocka_unit_test(test_msi_stays_virtual),
		cmocka_unit_test(test_msix_table_trapped),
		cmocka_unit_test(test_no_irq_blocks_msix_table_in_bar),
		cmocka_unit_test(test_no_irq_hides_msi),
		cmocka_unit_test(test_caps_nvme_sriov_ats_hidden),
		cmocka_unit_test(test_caps_policy_rich),
		cmocka_unit_test(test_mf_single_and_whole),
		cmocka_unit_test(test_w1c_rmw),
		cmocka_unit_test(test_devctl_policy),
		cmocka_unit_test(test_guest_flr_round_trip),
		cmocka_unit_test(test_guest_flr_without_plan_ignored),
		cmocka_unit_test(test_guest_af_flr),
		cmocka_unit_test(test_guest_d3hot_round_trip),
		cmocka_unit_test(test_guest_d3hot_no_soft_reset),
		cmocka_unit_test(test_gpu_config_mirror_virtualized),
		cmocka_unit_test(test_invariant_random_writes),
		cmocka_unit_test(test_bad_accesses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
