/*
 * Set-up shared by the tests that put a simulated function behind lib/vpci
 * (tests/test_vpci.c, tests/test_dvh_runtime.c). Each tests/test_*.c is its
 * own executable, so the helpers are static inline here.
 */
#ifndef HQIO_TESTS_VPCI_FIXTURE_H
#define HQIO_TESTS_VPCI_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim.h"
#include "hqio/irq.h"
#include "hqio/pci.h"
#include "hqio/pci_regs.h"

/* Include after <cmocka.h>: the helpers assert. */

/*
 * Host firmware: every BAR of f gets a host address, each aligned to its
 * size (memory ones from mem, I/O ones from io), the expansion ROM BAR gets
 * rom when f has a ROM and rom is not 0, and memory and I/O decode go on
 * for what was assigned.
 */
static inline void vpci_fixture_host_firmware(struct sim_platform *p, struct sim_fn *f,
					      uint64_t mem, uint64_t io, uint32_t rom)
{
	struct hqio_bdf b = sim_fn_bdf(f);
	uint32_t cmd = 0;
	for (unsigned i = 0; i < 6; i++) {
		uint64_t sz = f->bar_size[i];
		if (!sz)
			continue;
		uint32_t reg = sim_fn_cfg_get(f, (uint16_t)(0x10 + 4 * i), 4);
		if (reg & HQIO_PCI_BASE_ADDRESS_SPACE_IO) {
			io = (io + sz - 1) & ~(sz - 1);
			sim_cfg_write(p, b, (uint16_t)(0x10 + 4 * i), 4, (uint32_t)io);
			io += sz;
			cmd |= HQIO_PCI_COMMAND_IO;
			continue;
		}
		mem = (mem + sz - 1) & ~(sz - 1);
		sim_cfg_write(p, b, (uint16_t)(0x10 + 4 * i), 4, (uint32_t)mem);
		if ((reg & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
		    HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64) {
			sim_cfg_write(p, b, (uint16_t)(0x14 + 4 * i), 4, (uint32_t)(mem >> 32));
			i++;
		}
		mem += sz;
		cmd |= HQIO_PCI_COMMAND_MEMORY;
	}
	if (f->bar_size[6] && rom)
		sim_cfg_write(p, b, HQIO_PCI_ROM_ADDRESS, 4, rom);
	uint32_t c = sim_fn_cfg_get(f, HQIO_PCI_COMMAND, 2);
	sim_cfg_write(p, b, HQIO_PCI_COMMAND, 2, c | cmd);
}

/* A guest INTx line nobody listens to (the tests use MSI). */
static inline void vpci_fixture_intx_ignored(void *arg, bool level)
{
	(void)arg;
	(void)level;
}

/*
 * lib/irq for f with the simulator's host ops: guest MSIs go to
 * inject_msi(arg, ...), INTx is ignored; the physical capabilities come
 * from the decoder; interrupt storms are cut at 1000 per millisecond.
 */
static inline void
vpci_fixture_irq_init(struct hqio_irq *irq, const struct hqio_host_ops *ops, struct sim_fn *f,
		      void *arg, void (*inject_msi)(void *arg, uint64_t addr, uint32_t data))
{
	struct hqio_irq_config c = {
		.ops = ops,
		.bdf = sim_fn_bdf(f),
		.guest = { .arg = arg,
			   .inject_msi = inject_msi,
			   .set_intx = vpci_fixture_intx_ignored },
		.intx_disable_supported = true,
		.host_page_size = 4096,
		.storm_window_ns = SIM_NS_PER_MS,
		.storm_max = 1000,
	};
	struct hqio_pci_info *info = malloc(sizeof(*info));
	assert_non_null(info);
	assert_true(hqio_pci_decode(f->b.cfg, f->cfg_size, NULL, info, NULL) >= 0);
	hqio_irq_config_from_info(&c, info);
	free(info);
	assert_int_equal(hqio_irq_init(irq, &c, NULL), 0);
}

#endif
