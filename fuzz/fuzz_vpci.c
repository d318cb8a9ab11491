/*
 * libFuzzer target: any bytes as a sequence of guest configuration reads
 * and writes and guest BAR accesses against lib/vpci on the simulated
 * reference machine (one platform per input, so every input reproduces).
 * After every operation the invariant is checked, and abort() is called
 * when a sensitive guest value reached the hardware unfiltered: the
 * function's physical BARs/ROM, MSI address/data and MSI-X table must be
 * the host's (a table entry may also be cleared by a reset), and Bus
 * Master must never be turned on when the host does not allow it.
 *
 * Input: byte 0 picks the device and options; then 10-byte records
 *   op      bits 1:0 kind (0 cfg write, 1 cfg read, 2 BAR write, 3 BAR read),
 *           bits 3:2 size code (cfg: 1/2/4/4, BAR: 1/2/4/8), bits 6:4 BAR
 *   off     3 bytes little-endian (cfg: bits 23:22 pick the range, 0: the
 *           header 00-3fh, 1: 00-ffh, else 000-fffh; BAR: as is)
 *   value   4 bytes, then 2 bytes of upper value for 8-byte BAR writes.
 */
#include "sim.h"
#include "devices/devices.h"
#include "hqio/inspect.h"
#include "hqio/reset.h"
#include "hqio/vpci.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 256

struct fz {
	struct sim_platform *p;
	struct sim_fn *f;
	struct hqio_host_ops ops;
	struct hqio_irq irq;
	struct hqio_reset_plan plan;
	struct hqio_vpci v;
	uint32_t s_bar[6], s_rom, s_msi[3];
	unsigned n_msi;
	uint8_t *s_msix;
	bool s_bm, allow_bm;
};

static void inject_msi(void *arg, uint64_t addr, uint32_t data)
{
	(void)arg;
	(void)addr;
	(void)data;
}

static void set_intx(void *arg, bool level)
{
	(void)arg;
	(void)level;
}

static int owner_all(void *arg, struct hqio_bdf bdf)
{
	(void)arg;
	(void)bdf;
	return 1;
}

/* Host firmware: host addresses in every BAR, decode on. */
static void firmware(struct fz *z)
{
	struct sim_fn *f = z->f;
	struct hqio_bdf b = sim_fn_bdf(f);
	uint64_t mem = 0xc0000000ULL, io = 0x2000;
	uint32_t cmd = 0;
	for (unsigned i = 0; i < 6; i++) {
		uint64_t sz = f->bar_size[i];
		if (!sz)
			continue;
		uint16_t reg = (uint16_t)(0x10 + 4 * i);
		uint32_t r = sim_fn_cfg_get(f, reg, 4);
		if (r & HQIO_PCI_BASE_ADDRESS_SPACE_IO) {
			io = (io + sz - 1) & ~(sz - 1);
			sim_cfg_write(z->p, b, reg, 4, (uint32_t)io);
			io += sz;
			cmd |= HQIO_PCI_COMMAND_IO;
			continue;
		}
		mem = (mem + sz - 1) & ~(sz - 1);
		sim_cfg_write(z->p, b, reg, 4, (uint32_t)mem);
		if ((r & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) == HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64)
			sim_cfg_write(z->p, b, (uint16_t)(reg + 4), 4, (uint32_t)((mem >> 32) + 0));
		if ((r & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) == HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64)
			i++;
		mem += sz;
		cmd |= HQIO_PCI_COMMAND_MEMORY;
	}
	sim_cfg_write(z->p, b, HQIO_PCI_COMMAND, 2, sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2) | cmd);
}

static int setup(struct fz *z, uint8_t sel)
{
	z->p = sim_platform_new(3, 1ULL << 20); /* small: platform set-up dominates */
	if (!z->p)
		return -1;
	struct sim_reference ref;
	if (sim_build_reference_ex(z->p, &ref))
		return -1;
	struct sim_fn *pick[] = { ref.nvme, ref.nic[0], ref.gpu, ref.edu, ref.hda, ref.legacy23 };
	z->f = pick[(sel & 7) % 6];
	sim_host_ops(z->p, &z->ops);
	firmware(z);
	struct sim_fn *f = z->f;

	/* The reset plan depends only on the (deterministic) topology: made
	 * once per device and kept (static state is fine in a fuzz target). */
	static struct hqio_reset_plan plans[6];
	static signed char have[6];
	unsigned d = (sel & 7) % 6;
	if (!have[d]) {
		struct hqio_system sys = { 0 };
		have[d] = -1;
		if (sim_snapshot(z->p, &sys) == 0) {
			struct hqio_plan_input in = { .sys = &sys,
						      .node = hqio_system_find(&sys, sim_fn_bdf(f)),
						      .owner = 1,
						      .owner_of = owner_all,
						      .force = true };
			if (in.node && hqio_reset_plan(&in, &plans[d], NULL) == 0 &&
			    !plans[d].refused)
				have[d] = 1;
		}
		hqio_system_free(&sys);
	}
	bool plan = (sel & 0x08) && have[d] > 0;
	if (plan)
		z->plan = plans[d];

	bool irq = sel & 0x10;
	if (irq) {
		struct hqio_irq_config c = {
			.ops = &z->ops,
			.bdf = sim_fn_bdf(f),
			.guest = { .arg = z, .inject_msi = inject_msi, .set_intx = set_intx },
			.intx_disable_supported = true,
			.host_page_size = 4096,
		};
		/* the physical capabilities, from the decoder */
		struct hqio_pci_info *info = malloc(sizeof(*info));
		if (info && hqio_pci_decode(f->b.cfg, f->cfg_size, NULL, info, NULL) >= 0)
			hqio_irq_config_from_info(&c, info);
		free(info);
		if (hqio_irq_init(&z->irq, &c, NULL))
			irq = false;
	}
	z->allow_bm = sel & 0x20;
	struct hqio_vpci_config vc = {
		.ops = &z->ops,
		.host_bdf = sim_fn_bdf(f),
		.guest_bdf = sim_fn_bdf(f),
		.mf = (sel & 0x40) ? HQIO_VPCI_MF_SINGLE : HQIO_VPCI_MF_WHOLE,
		.policy = { .pass_mrrs = sel & 0x80, .pass_no_snoop = sel & 0x80 },
		.allow_bus_master = z->allow_bm,
		.irq = irq ? &z->irq : NULL,
		.plan = plan ? &z->plan : NULL,
	};
	if (hqio_vpci_init(&z->v, &vc, NULL))
		return -1;

	/* The invariant's reference: the device as the host set it up. */
	for (unsigned i = 0; i < 6; i++)
		z->s_bar[i] = sim_fn_cfg_get(f, (uint16_t)(0x10 + 4 * i), 4);
	z->s_rom = sim_fn_cfg_get(f, HQIO_PCI_ROM_ADDRESS, 4);
	if (f->msi) {
		bool a64 = sim_fn_cfg_get(f, f->msi + HQIO_PCI_MSI_FLAGS, 2) &
			   HQIO_PCI_MSI_FLAGS_64BIT;
		z->n_msi = a64 ? 3 : 2;
		for (unsigned i = 0; i < z->n_msi; i++)
			z->s_msi[i] = sim_fn_cfg_get(f, (uint16_t)(f->msi + 4 + 4 * i), 4);
	}
	if (f->msix && f->irq.msix_table) {
		z->s_msix = malloc((size_t)f->irq.msix_size * 16);
		if (!z->s_msix)
			return -1;
		memcpy(z->s_msix, f->irq.msix_table, (size_t)f->irq.msix_size * 16);
	}
	z->s_bm = sim_fn_bus_master(f);
	return 0;
}

static void teardown(struct fz *z)
{
	if (z->v.info)
		hqio_vpci_fini(&z->v);
	if (z->v.cfg.irq)
		hqio_irq_fini(&z->irq);
	free(z->s_msix);
	if (z->p)
		sim_platform_free(z->p);
}

static void check(const struct fz *z)
{
	const struct sim_fn *f = z->f;
	for (unsigned i = 0; i < 6; i++)
		if (sim_fn_cfg_get(f, (uint16_t)(0x10 + 4 * i), 4) != z->s_bar[i])
			abort(); /* a guest BAR address reached the device */
	if (sim_fn_cfg_get(f, HQIO_PCI_ROM_ADDRESS, 4) != z->s_rom)
		abort();
	for (unsigned i = 0; i < z->n_msi; i++)
		if (sim_fn_cfg_get(f, (uint16_t)(f->msi + 4 + 4 * i), 4) != z->s_msi[i])
			abort(); /* a guest MSI address/data reached the device */
	if (z->s_msix && f->irq.msix_table) {
		static const uint8_t zero[12];
		for (unsigned e = 0; e < f->irq.msix_size; e++) {
			const uint8_t *now = f->irq.msix_table + 16 * e;
			if (memcmp(now, z->s_msix + 16 * e, 12) && memcmp(now, zero, 12))
				abort(); /* a guest MSI-X entry reached the device */
		}
	}
	if (!z->allow_bm && !z->s_bm && sim_fn_bus_master(f))
		abort(); /* Bus Master on without the host's permission */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct fz *z = calloc(1, sizeof(*z));
	if (!z)
		return 0;
	if (setup(z, data[0]) == 0) {
		unsigned n = 0;
		for (size_t at = 1; at + 10 <= size && n < MAX_OPS; at += 10, n++) {
			const uint8_t *r = data + at;
			unsigned kind = r[0] & 3, sc = (r[0] >> 2) & 3, bar = (r[0] >> 4) & 7;
			uint32_t off = r[1] | (uint32_t)r[2] << 8 | (uint32_t)r[3] << 16;
			uint32_t val = r[4] | (uint32_t)r[5] << 8 | (uint32_t)r[6] << 16 |
				       (uint32_t)r[7] << 24;
			uint64_t v64 = val | (uint64_t)(r[8] | (uint32_t)r[9] << 8) << 32;
			uint32_t x32;
			uint64_t x64;
			if (kind < 2) {
				unsigned sz = sc == 0 ? 1 : sc == 1 ? 2 : 4;
				/* Bias towards the header and the standard capabilities. */
				uint32_t span = (off >> 22) == 0   ? 0x40
						: (off >> 22) == 1 ? 0x100
								   : 0x1000;
				uint16_t o = (uint16_t)(off % span & ~(sz - 1));
				if (kind == 0)
					hqio_vpci_write(&z->v, o, sz, val);
				else
					hqio_vpci_read(&z->v, o, sz, &x32);
			} else {
				unsigned sz = 1u << sc;
				uint64_t o = off & ~(uint64_t)(sz - 1);
				if (kind == 2)
					hqio_vpci_bar_write(&z->v, bar, o, sz, v64);
				else
					hqio_vpci_bar_read(&z->v, bar, o, sz, &x64);
			}
			check(z);
		}
	}
	teardown(z);
	free(z);
	return 0;
}
