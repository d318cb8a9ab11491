/*
 * The simulator's struct hqio_host_ops, as lib/ will use it: host MSI-X,
 * MSI and INTx routed to handlers (INTx masked after each delivery until
 * unmasked, as VFIO does), DMA mappings into the IOMMU domain of the
 * function's requester ID; and the guest driver on top of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "devices/devices.h"
#include "guest.h"
#include "sim.h"

struct rig {
	struct sim_platform *p;
	struct sim_reference ref;
	struct hqio_host_ops ops;
	unsigned hits[4][64];
	struct hqio_bdf last_bdf;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->p = sim_platform_new(5, 4 << 20);
	assert_non_null(r->p);
	assert_int_equal(sim_build_reference_ex(r->p, &r->ref), 0);
	sim_host_ops(r->p, &r->ops);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;
	sim_platform_free(r->p);
	free(r);
	return 0;
}

static void handler(void *arg, struct hqio_bdf bdf, enum hqio_irq_type type, unsigned vector)
{
	struct rig *r = arg;
	if (vector < 64)
		r->hits[type][vector]++;
	r->last_bdf = bdf;
}

static void bar_w(struct rig *r, struct sim_fn *f, unsigned bar, uint64_t off, uint64_t v)
{
	assert_int_equal(r->ops.bar_write(r->ops.ctx, sim_fn_bdf(f), bar, off, 4, v), 0);
}

static void test_host_msix_reaches_the_handler(void **state)
{
	struct rig *r = *state;
	struct sim_fn *nv = r->ref.nvme;
	struct hqio_bdf b = sim_fn_bdf(nv);
	assert_int_equal(r->ops.irq_set(r->ops.ctx, b, HQIO_IRQ_MSIX, 2, handler, r), 0);
	/* irq_set enabled memory decode for the table, not Bus Master */
	uint32_t cmd;
	r->ops.cfg_read(r->ops.ctx, b, HQIO_PCI_COMMAND, 2, &cmd);
	assert_int_equal(cmd, HQIO_PCI_COMMAND_MEMORY);
	r->ops.cfg_write(r->ops.ctx, b, HQIO_PCI_COMMAND, 2, cmd | HQIO_PCI_COMMAND_MASTER);
	sim_irq_raise(nv, 1);
	sim_irq_raise(nv, 0);
	assert_int_equal(r->hits[HQIO_IRQ_MSIX][1], 1);
	assert_int_equal(r->hits[HQIO_IRQ_MSIX][0], 1);
	assert_int_equal(hqio_bdf_cmp(r->last_bdf, b), 0);
	/* masking one vector holds it; unmasking delivers it once */
	assert_int_equal(r->ops.irq_mask(r->ops.ctx, b, HQIO_IRQ_MSIX, 1, true), 0);
	sim_irq_raise(nv, 1);
	sim_irq_raise(nv, 1);
	assert_int_equal(r->hits[HQIO_IRQ_MSIX][1], 1);
	assert_int_equal(r->ops.irq_mask(r->ops.ctx, b, HQIO_IRQ_MSIX, 1, false), 0);
	assert_int_equal(r->hits[HQIO_IRQ_MSIX][1], 2);
	/* disabling stops delivery */
	assert_int_equal(r->ops.irq_set(r->ops.ctx, b, HQIO_IRQ_MSIX, 0, NULL, NULL), 0);
	sim_irq_raise(nv, 0);
	assert_int_equal(r->hits[HQIO_IRQ_MSIX][0], 1);
	assert_int_equal(r->ops.irq_set(r->ops.ctx, b, HQIO_IRQ_MSIX, 66, handler, r), -EINVAL);
}

static void test_host_msi_with_bus_master(void **state)
{
	struct rig *r = *state;
	struct sim_fn *hda = r->ref.hda;
	struct hqio_bdf b = sim_fn_bdf(hda);
	assert_int_equal(r->ops.irq_set(r->ops.ctx, b, HQIO_IRQ_MSI, 1, handler, r), 0);
	sim_irq_raise(hda, 0);
	assert_int_equal(r->hits[HQIO_IRQ_MSI][0], 0); /* Bus Master off: held */
	uint32_t cmd;
	r->ops.cfg_read(r->ops.ctx, b, HQIO_PCI_COMMAND, 2, &cmd);
	r->ops.cfg_write(r->ops.ctx, b, HQIO_PCI_COMMAND, 2, cmd | HQIO_PCI_COMMAND_MASTER);
	assert_int_equal(r->hits[HQIO_IRQ_MSI][0], 1);
	assert_int_equal(r->ops.irq_set(r->ops.ctx, b, HQIO_IRQ_MSIX, 1, handler, r), -EOPNOTSUPP);
}

static void test_host_intx_masked_until_unmasked(void **state)
{
	struct rig *r = *state;
	struct sim_fn *leg = r->ref.legacy23;
	struct hqio_bdf b = sim_fn_bdf(leg);
	assert_int_equal(r->ops.irq_set(r->ops.ctx, b, HQIO_IRQ_INTX, 1, handler, r), 0);
	r->ops.cfg_write(r->ops.ctx, b, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_IO);
	bar_w(r, leg, 0, SIM_LEG_IMR, 0xffff);
	bar_w(r, leg, 0, SIM_LEG_SWINT, SIM_LEG_ISR_ROK);
	assert_int_equal(r->hits[HQIO_IRQ_INTX][0], 1);
	/* still asserted, but masked after delivery: no storm */
	sim_run_for(&r->p->eng, SIM_NS_PER_MS);
	assert_int_equal(r->hits[HQIO_IRQ_INTX][0], 1);
	/* unmask while the device still asserts: delivered again */
	assert_int_equal(r->ops.irq_mask(r->ops.ctx, b, HQIO_IRQ_INTX, 0, false), 0);
	assert_int_equal(r->hits[HQIO_IRQ_INTX][0], 2);
	/* service the device, then unmask: nothing more */
	r->ops.bar_write(r->ops.ctx, b, 0, SIM_LEG_ISR, 2, SIM_LEG_ISR_ROK);
	assert_int_equal(r->ops.irq_mask(r->ops.ctx, b, HQIO_IRQ_INTX, 0, false), 0);
	assert_int_equal(r->hits[HQIO_IRQ_INTX][0], 2);
}

static void test_host_dma_map_into_the_requester_domain(void **state)
{
	struct rig *r = *state;
	struct sim_fn *leg = r->ref.legacy22;
	struct hqio_bdf b = sim_fn_bdf(leg);
	uint64_t hpa = sim_mem_alloc(r->p, 1, -1);
	uint8_t v = 0x5a, back = 0;
	assert_int_equal(r->ops.dma_map(r->ops.ctx, b, 0x8000, hpa, SIM_PAGE_SIZE,
					HQIO_DMA_READ | HQIO_DMA_WRITE),
			 0);
	/* the domain belongs to the bridge alias: the other conventional device
	 * behind the same bridge uses it too */
	int d = r->p->rid_domain[sim_requester_id(leg)];
	assert_true(d >= 0);
	assert_int_equal(r->p->rid_domain[sim_requester_id(r->ref.legacy23)], d);
	r->ops.cfg_write(r->ops.ctx, b, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MASTER);
	assert_int_equal(sim_dma_write(leg, 0x8010, &v, 1), 0);
	sim_mem_read(r->p, hpa + 0x10, &back, 1);
	assert_int_equal(back, 0x5a);
	assert_int_equal(r->ops.dma_unmap(r->ops.ctx, b, 0x8000, SIM_PAGE_SIZE), 0);
	assert_int_equal(sim_dma_write(leg, 0x8010, &v, 1), -EFAULT);
	struct hqio_bdf none = { .bus = 0x99 };
	assert_int_equal(r->ops.dma_map(r->ops.ctx, none, 0, hpa, SIM_PAGE_SIZE, HQIO_DMA_READ),
			 -ENODEV);
}

static void test_ats_invalidate_through_host_ops(void **state)
{
	struct rig *r = *state;
	struct sim_fn *nv = r->ref.nvme;
	struct hqio_bdf b = sim_fn_bdf(nv);
	uint64_t hpa = sim_mem_alloc(r->p, 1, -1);
	uint8_t v = 1;
	r->ops.dma_map(r->ops.ctx, b, 0x4000, hpa, SIM_PAGE_SIZE, HQIO_DMA_READ | HQIO_DMA_WRITE);
	r->ops.cfg_write(r->ops.ctx, b, HQIO_PCI_COMMAND, 2, HQIO_PCI_COMMAND_MASTER);
	r->ops.cfg_write(r->ops.ctx, b, nv->ats + HQIO_PCI_ATS_CTRL, 2, HQIO_PCI_ATS_CTRL_ENABLE);
	assert_int_equal(sim_dma_write(nv, 0x4000, &v, 1), 0);
	r->ops.dma_unmap(r->ops.ctx, b, 0x4000, SIM_PAGE_SIZE);
	assert_int_equal(sim_dma_write(nv, 0x4000, &v, 1), 0); /* stale */
	assert_int_equal(r->ops.ats_invalidate(r->ops.ctx, b, 0, 0), 0);
	assert_int_equal(sim_dma_write(nv, 0x4000, &v, 1), -EFAULT);
}

/* ---- the guest driver ---------------------------------------------- */

static void test_guest_drives_a_nic_with_msi(void **state)
{
	struct rig *r = *state;
	struct sim_fn *nic = r->ref.nic[0];
	struct sim_guest g;
	uint64_t size;
	sim_guest_init(&g, r->p, &r->ops, sim_fn_bdf(nic));
	assert_int_equal(sim_guest_bar_size(&g, 0, &size), 0);
	assert_int_equal(size, SIM_NIC_BAR0_SIZE);
	assert_int_equal(sim_guest_bar_program(&g, 0, 0xfe000000), 0);
	assert_int_equal(sim_guest_enable(&g, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER),
			 0);
	assert_int_equal(sim_guest_enable_msi(&g, 0x41, 1), 0);
	uint64_t status;
	assert_int_equal(sim_guest_mmio_read(&g, 0, SIM_NIC_STATUS, 4, &status), 0);
	assert_int_equal((status & SIM_NIC_STATUS_FUNC_MASK) >> SIM_NIC_STATUS_FUNC_SHIFT, 0);
	sim_guest_mmio_write(&g, 0, SIM_NIC_IMS, 4, SIM_NIC_ICR_TXDW);
	sim_guest_mmio_write(&g, 0, SIM_NIC_ICS, 4, SIM_NIC_ICR_TXDW);
	assert_int_equal(g.irq_count[0x41], 1);
	assert_int_equal(sim_guest_irqs(&g), 1);
}

static void test_guest_intx_needs_eoi(void **state)
{
	struct rig *r = *state;
	struct sim_fn *leg = r->ref.legacy23;
	struct sim_guest g;
	sim_guest_init(&g, r->p, &r->ops, sim_fn_bdf(leg));
	assert_int_equal(sim_guest_enable(&g, HQIO_PCI_COMMAND_IO), 0);
	assert_int_equal(sim_guest_enable_intx(&g, 0x52), 0);
	sim_guest_mmio_write(&g, 0, SIM_LEG_IMR, 2, 0xffff);
	sim_guest_mmio_write(&g, 0, SIM_LEG_SWINT, 2, SIM_LEG_ISR_ROK);
	assert_int_equal(g.irq_count[0x52], 1);
	sim_guest_eoi(&g); /* device still asserting: the level re-delivers */
	assert_int_equal(g.irq_count[0x52], 2);
	sim_guest_mmio_write(&g, 0, SIM_LEG_ISR, 2, SIM_LEG_ISR_ROK); /* acknowledge */
	sim_guest_eoi(&g);
	assert_int_equal(g.irq_count[0x52], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_host_msix_reaches_the_handler, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_msi_with_bus_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_intx_masked_until_unmasked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_dma_map_into_the_requester_domain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ats_invalidate_through_host_ops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_guest_drives_a_nic_with_msi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_intx_needs_eoi, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
