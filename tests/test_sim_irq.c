/*
 * Simulator interrupt tests (sim/irq.c): MSI delivery, per-vector masking
 * and the Pending register, Bus Master gating, the MSI-X table and PBA in
 * a BAR, mode priority, INTx levels through the IOAPIC with EOI, INTx
 * Disable, bridge swizzling and the state after reset. Each test drives
 * the platform only through the sim API, as software would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

/* Layout of the test endpoint. */
#define EP_MSI	 0x50 /* 64-bit, per-vector masking: 24 bytes */
#define EP_MSIX	 0x70
#define EP_EXP	 0x80
#define EP_BAR	 0
#define EP_TABLE 0x2000
#define EP_PBA	 0x3000
#define EP_NVEC	 8
#define EP_MMIO	 0x5a5a5a5aULL /* what the device model answers outside the table */

#define MSI_CTRL    (EP_MSI + HQIO_PCI_MSI_FLAGS)
#define MSI_ADDR_LO (EP_MSI + HQIO_PCI_MSI_ADDRESS_LO)
#define MSI_ADDR_HI (EP_MSI + HQIO_PCI_MSI_ADDRESS_HI)
#define MSI_DATA    (EP_MSI + HQIO_PCI_MSI_DATA_64)
#define MSI_MASK    (EP_MSI + HQIO_PCI_MSI_MASK_64)
#define MSI_PENDING (EP_MSI + HQIO_PCI_MSI_PENDING_64)
#define MSIX_CTRL   (EP_MSIX + HQIO_PCI_MSIX_FLAGS)

#define VCTRL 12 /* Vector Control inside a table entry (PCI LB 3.0 §6.8.2.9) */

struct rig {
	struct sim_platform *p;
	struct sim_fn *rp, *ep;
	struct hqio_bdf bdf;
	struct sim_msi_msg msgs[64];
	unsigned n_msgs;
	unsigned n_ioapic;
	unsigned last_pin;
	uint8_t last_vector;
};

static uint64_t ep_mmio_read(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size)
{
	(void)f;
	(void)bar;
	(void)off;
	(void)size;
	return EP_MMIO;
}

static const struct sim_fn_ops ep_ops = { .kind = "test-ep", .mmio_read = ep_mmio_read };

static void msi_sink(void *arg, const struct sim_msi_msg *m)
{
	struct rig *r = arg;
	if (r->n_msgs < 64)
		r->msgs[r->n_msgs] = *m;
	r->n_msgs++;
}

static void ioapic_sink(void *arg, unsigned pin, uint8_t vector)
{
	struct rig *r = arg;
	r->n_ioapic++;
	r->last_pin = pin;
	r->last_vector = vector;
}

/* An endpoint with INTx pin `pin`, MSI (8 vectors, 64-bit, maskable),
 * MSI-X (8 entries in BAR 0), FLR. */
static struct sim_fn *endpoint(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
			       uint8_t pin)
{
	struct sim_fn *f =
		sim_fn_new(p, parent, dev, 0, HQIO_PCI_CFG_EXP_SIZE, "ep", &ep_ops, NULL);
	assert_non_null(f);
	sim_fn_header(f, 0x1af4, 0x10f0, 0x020000, HQIO_PCI_HEADER_TYPE_NORMAL, pin);
	sim_fn_bar(f, EP_BAR, 0x4000, HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64);
	sim_add_msi(f, EP_MSI, 3, true, true);
	sim_add_msix(f, EP_MSIX, EP_NVEC, EP_BAR, EP_TABLE, EP_PBA);
	sim_add_exp(f, EP_EXP, HQIO_PCI_EXP_TYPE_ENDPOINT, true, 3, 4);
	sim_fn_finalize(f);
	return f;
}

static uint32_t cfg_rd(struct rig *r, uint16_t off, unsigned size)
{
	uint32_t v = 0;
	assert_int_equal(sim_cfg_read(r->p, r->bdf, off, size, &v), 0);
	return v;
}

static void cfg_wr(struct rig *r, uint16_t off, unsigned size, uint32_t v)
{
	assert_int_equal(sim_cfg_write(r->p, r->bdf, off, size, v), 0);
}

static uint64_t bar_rd(struct rig *r, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	assert_int_equal(sim_bar_read(r->p, r->bdf, EP_BAR, off, size, &v), 0);
	return v;
}

static void bar_wr(struct rig *r, uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(sim_bar_write(r->p, r->bdf, EP_BAR, off, size, v), 0);
}

static void command(struct rig *r, uint16_t set, uint16_t clear)
{
	uint16_t c = (uint16_t)cfg_rd(r, HQIO_PCI_COMMAND, 2);
	cfg_wr(r, HQIO_PCI_COMMAND, 2, (uint16_t)((c | set) & ~clear));
}

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->p = sim_platform_new(1, 1 << 20);
	assert_non_null(r->p);
	r->rp = sim_add_root_port(r->p, 2, 0, 3);
	assert_non_null(r->rp);
	r->ep = endpoint(r->p, r->rp, 0, 1 /* INTA */);
	sim_enumerate(r->p);
	r->bdf = sim_fn_bdf(r->ep);
	r->p->msi_sink = msi_sink;
	r->p->msi_arg = r;
	r->p->ioapic_sink = ioapic_sink;
	r->p->ioapic_arg = r;
	command(r, HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER, 0);
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

/* MSI programmed for 8 vectors at 0x1_fee0_1000, data 0x4140, enabled. */
static void msi_on(struct rig *r)
{
	cfg_wr(r, MSI_ADDR_LO, 4, 0xfee01000);
	cfg_wr(r, MSI_ADDR_HI, 4, 0x1);
	cfg_wr(r, MSI_DATA, 2, 0x4140);
	cfg_wr(r, MSI_CTRL, 2, HQIO_PCI_MSI_FLAGS_ENABLE | 3 << 4 /* Multiple Message Enable: 8 */);
}

/* Entry i through BAR writes: address 0xfee0_0000 + i * 0x1000, data
 * 0x30 + i, unmasked unless masked. */
static void msix_entry(struct rig *r, unsigned i, bool masked)
{
	uint64_t e = EP_TABLE + 16ULL * i;
	bar_wr(r, e + 0, 4, 0xfee00000u + i * 0x1000u);
	bar_wr(r, e + 4, 4, 0);
	bar_wr(r, e + 8, 4, 0x30 + i);
	bar_wr(r, e + VCTRL, 4, masked ? 1 : 0);
}

static void msix_on(struct rig *r, bool function_mask)
{
	cfg_wr(r, MSIX_CTRL, 2,
	       HQIO_PCI_MSIX_FLAGS_ENABLE | (function_mask ? HQIO_PCI_MSIX_FLAGS_MASKALL : 0));
}

static uint64_t pba(struct rig *r)
{
	return bar_rd(r, EP_PBA, 8);
}

static unsigned ep_gsi(struct rig *r)
{
	return sim_intx_pin(r->ep);
}

static void ioapic_level(struct rig *r, unsigned gsi)
{
	sim_ioapic_program(r->p, gsi, 0x41, true, false);
}

/* ------------------------------------------------------------------ */
/* MSI                                                                  */
/* ------------------------------------------------------------------ */

static void test_msi_delivers_address_and_vector_in_data(void **state)
{
	struct rig *r = *state;
	msi_on(r);
	sim_run_for(&r->p->eng, 12345);
	sim_irq_raise(r->ep, 5);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].addr, 0x1fee01000ULL);
	/* PCI LB 3.0 §6.8.1.6: the low log2(8) = 3 data bits carry the vector. */
	assert_int_equal(r->msgs[0].data, 0x4145);
	assert_int_equal(hqio_bdf_cmp(r->msgs[0].source, r->bdf), 0);
	assert_int_equal(r->msgs[0].when_ns, 12345);
	assert_int_equal(r->p->n_msi, 1);
	assert_int_equal(r->p->msi_log[0].data, 0x4145);
	assert_int_equal(r->ep->irq.delivered, 1);
}

static void test_msi_vector_beyond_enabled_is_dropped(void **state)
{
	struct rig *r = *state;
	msi_on(r);
	cfg_wr(r, MSI_CTRL, 2, HQIO_PCI_MSI_FLAGS_ENABLE | 1 << 4); /* 2 vectors enabled */
	sim_irq_raise(r->ep, 1);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].data, 0x4141); /* one low bit replaced */
	sim_irq_raise(r->ep, 2);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->ep->irq.dropped, 1);
}

static void test_msi_mask_holds_and_sets_pending(void **state)
{
	struct rig *r = *state;
	msi_on(r);
	cfg_wr(r, MSI_MASK, 4, 1u << 3);
	sim_irq_raise(r->ep, 3);
	assert_int_equal(r->n_msgs, 0);
	assert_int_equal(cfg_rd(r, MSI_PENDING, 4), 1u << 3);
	assert_int_equal(r->ep->irq.held, 1);
	/* An unmasked vector is still delivered. */
	sim_irq_raise(r->ep, 2);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].data, 0x4142);
}

static void test_msi_unmask_delivers_once(void **state)
{
	struct rig *r = *state;
	msi_on(r);
	cfg_wr(r, MSI_MASK, 4, 1u << 3);
	sim_irq_raise(r->ep, 3);
	assert_int_equal(r->n_msgs, 0);
	cfg_wr(r, MSI_MASK, 4, 0);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].data, 0x4143);
	assert_int_equal(cfg_rd(r, MSI_PENDING, 4), 0);
	/* Writing the mask again (unchanged) sends nothing more. */
	cfg_wr(r, MSI_MASK, 4, 0);
	cfg_wr(r, MSI_MASK, 4, 1u << 3);
	cfg_wr(r, MSI_MASK, 4, 0);
	assert_int_equal(r->n_msgs, 1);
}

static void test_msi_events_while_masked_coalesce(void **state)
{
	struct rig *r = *state;
	msi_on(r);
	cfg_wr(r, MSI_MASK, 4, 1u << 6);
	for (int i = 0; i < 5; i++)
		sim_irq_raise(r->ep, 6);
	assert_int_equal(r->ep->irq.held, 5);
	cfg_wr(r, MSI_MASK, 4, 0);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].data, 0x4146);
}

static void test_msi_pending_register_is_read_only(void **state)
{
	struct rig *r = *state;
	msi_on(r);
	cfg_wr(r, MSI_MASK, 4, 1u << 1);
	sim_irq_raise(r->ep, 1);
	cfg_wr(r, MSI_PENDING, 4, 0); /* software cannot clear it */
	assert_int_equal(cfg_rd(r, MSI_PENDING, 4), 1u << 1);
	cfg_wr(r, MSI_PENDING, 4, 0xff); /* nor set it */
	assert_int_equal(cfg_rd(r, MSI_PENDING, 4), 1u << 1);
	cfg_wr(r, MSI_MASK, 4, 0);
	assert_int_equal(r->n_msgs, 1);
}

static void test_msi_not_sent_with_bus_master_off(void **state)
{
	struct rig *r = *state;
	msi_on(r);
	command(r, 0, HQIO_PCI_COMMAND_MASTER);
	sim_irq_raise(r->ep, 4);
	sim_irq_raise(r->ep, 4);
	assert_int_equal(r->n_msgs, 0);
	assert_int_equal(r->p->n_msi, 0);
	assert_int_equal(r->ep->irq.held, 2);
	assert_int_equal(cfg_rd(r, MSI_PENDING, 4), 1u << 4);
	/* Bus Master back on: the held vector goes out once. */
	command(r, HQIO_PCI_COMMAND_MASTER, 0);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].data, 0x4144);
	assert_int_equal(cfg_rd(r, MSI_PENDING, 4), 0);
}

/* ------------------------------------------------------------------ */
/* MSI-X                                                                */
/* ------------------------------------------------------------------ */

static void test_msix_table_writes_are_what_is_delivered(void **state)
{
	struct rig *r = *state;
	msix_entry(r, 2, false);
	msix_on(r, false);
	sim_irq_raise(r->ep, 2);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].addr, 0xfee02000ULL);
	assert_int_equal(r->msgs[0].data, 0x32);
	/* Reprogram with one QWORD write of the address and one of data +
	 * Vector Control (PCI LB 3.0 §6.8.2: aligned QWORD accesses). */
	bar_wr(r, EP_TABLE + 32, 8, 0x00000002fee0f00cULL);
	bar_wr(r, EP_TABLE + 40, 8, 0x00000000deadbeefULL);
	assert_int_equal(bar_rd(r, EP_TABLE + 32, 8), 0x00000002fee0f00cULL);
	assert_int_equal(bar_rd(r, EP_TABLE + 36, 4), 2);
	sim_irq_raise(r->ep, 2);
	assert_int_equal(r->n_msgs, 2);
	assert_int_equal(r->msgs[1].addr, 0x2fee0f00cULL);
	assert_int_equal(r->msgs[1].data, 0xdeadbeef);
}

static void test_msix_byte_and_word_table_access(void **state)
{
	struct rig *r = *state;
	msix_entry(r, 1, true);
	bar_wr(r, EP_TABLE + 16 + 8, 1, 0x77);
	bar_wr(r, EP_TABLE + 16 + 10, 2, 0x1234);
	assert_int_equal(bar_rd(r, EP_TABLE + 16 + 8, 4), 0x12340077);
	assert_int_equal(bar_rd(r, EP_TABLE + 16 + 10, 1), 0x34);
	bar_wr(r, EP_TABLE + 16 + VCTRL, 1, 0);
	msix_on(r, false);
	sim_irq_raise(r->ep, 1);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].data, 0x12340077);
}

static void test_msix_vector_control_reserved_bits_read_zero(void **state)
{
	struct rig *r = *state;
	bar_wr(r, EP_TABLE + VCTRL, 4, 0xffffffff);
	assert_int_equal(bar_rd(r, EP_TABLE + VCTRL, 4), 1);
	bar_wr(r, EP_TABLE + VCTRL, 4, 0xfffffffe);
	assert_int_equal(bar_rd(r, EP_TABLE + VCTRL, 4), 0);
}

/* Negative control (done while developing): with the entry mask check
 * removed from msix_can_send() in sim/irq.c, the raise below is delivered
 * at once and the first assertion fails ("0x1 != 0": n_msgs is 1, and the
 * PBA would stay 0). */
static void test_msix_entry_mask_holds_and_sets_pba(void **state)
{
	struct rig *r = *state;
	msix_entry(r, 3, true);
	msix_on(r, false);
	sim_irq_raise(r->ep, 3);
	assert_int_equal(r->n_msgs, 0);
	assert_int_equal(pba(r), 1u << 3);
	assert_int_equal(r->ep->irq.held, 1);
}

static void test_msix_entry_unmask_delivers_once(void **state)
{
	struct rig *r = *state;
	msix_entry(r, 3, true);
	msix_on(r, false);
	sim_irq_raise(r->ep, 3);
	sim_irq_raise(r->ep, 3); /* coalesces: one pending bit */
	bar_wr(r, EP_TABLE + 3 * 16 + VCTRL, 4, 0);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].addr, 0xfee03000ULL);
	assert_int_equal(r->msgs[0].data, 0x33);
	assert_int_equal(pba(r), 0);
	bar_wr(r, EP_TABLE + 3 * 16 + VCTRL, 4, 1);
	bar_wr(r, EP_TABLE + 3 * 16 + VCTRL, 4, 0);
	assert_int_equal(r->n_msgs, 1);
}

static void test_msix_function_mask_holds_and_unmask_delivers_once(void **state)
{
	struct rig *r = *state;
	msix_entry(r, 0, false);
	msix_entry(r, 5, false);
	msix_entry(r, 6, true);
	msix_on(r, true);
	sim_irq_raise(r->ep, 5);
	sim_irq_raise(r->ep, 5);
	sim_irq_raise(r->ep, 6);
	assert_int_equal(r->n_msgs, 0);
	assert_int_equal(pba(r), (1u << 5) | (1u << 6));
	msix_on(r, false); /* Function Mask cleared */
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].data, 0x35);
	/* Entry 6 keeps its own mask and its pending bit. */
	assert_int_equal(pba(r), 1u << 6);
	msix_on(r, true);
	msix_on(r, false);
	assert_int_equal(r->n_msgs, 1);
}

static void test_msix_pba_is_read_only(void **state)
{
	struct rig *r = *state;
	msix_entry(r, 1, true);
	msix_on(r, false);
	sim_irq_raise(r->ep, 1);
	bar_wr(r, EP_PBA, 8, 0);
	assert_int_equal(pba(r), 1u << 1);
	bar_wr(r, EP_PBA, 4, 0xff);
	assert_int_equal(bar_rd(r, EP_PBA, 4), 1u << 1);
}

static void test_msix_not_sent_with_bus_master_off(void **state)
{
	struct rig *r = *state;
	msix_entry(r, 4, false);
	msix_on(r, false);
	command(r, 0, HQIO_PCI_COMMAND_MASTER);
	sim_irq_raise(r->ep, 4);
	assert_int_equal(r->n_msgs, 0);
	assert_int_equal(pba(r), 1u << 4);
	command(r, HQIO_PCI_COMMAND_MASTER, 0);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].data, 0x34);
	assert_int_equal(pba(r), 0);
}

static void test_msix_wins_over_msi_and_intx(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	ioapic_level(r, gsi);
	msi_on(r);
	msix_entry(r, 0, false);
	msix_on(r, false);
	sim_irq_raise(r->ep, 0);
	assert_int_equal(r->n_msgs, 1);
	assert_int_equal(r->msgs[0].addr, 0xfee00000ULL); /* the table's, not MSI's */
	assert_int_equal(r->msgs[0].data, 0x30);
	assert_int_equal(r->n_ioapic, 0);
	assert_int_equal(cfg_rd(r, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_INTERRUPT, 0);
	/* MSI-X off: MSI is next. */
	cfg_wr(r, MSIX_CTRL, 2, 0);
	sim_irq_raise(r->ep, 0);
	assert_int_equal(r->n_msgs, 2);
	assert_int_equal(r->msgs[1].data, 0x4140);
	assert_int_equal(r->n_ioapic, 0);
}

static void test_msix_table_with_memory_decode_off_reads_all_ones(void **state)
{
	struct rig *r = *state;
	msix_entry(r, 0, false);
	command(r, 0, HQIO_PCI_COMMAND_MEMORY);
	assert_int_equal(bar_rd(r, EP_TABLE + 8, 4), 0xffffffffu);
	assert_int_equal(bar_rd(r, EP_TABLE, 8), ~0ULL);
	bar_wr(r, EP_TABLE + 8, 4, 0x99); /* dropped */
	command(r, HQIO_PCI_COMMAND_MEMORY, 0);
	assert_int_equal(bar_rd(r, EP_TABLE + 8, 4), 0x30);
}

static void test_bar_outside_table_and_pba_reaches_the_device(void **state)
{
	struct rig *r = *state;
	assert_int_equal(bar_rd(r, 0x100, 4), EP_MMIO);
	assert_int_equal(bar_rd(r, EP_TABLE + EP_NVEC * 16, 4), EP_MMIO);
	assert_int_equal(bar_rd(r, EP_PBA + 8, 4), EP_MMIO);
}

static void test_reset_masks_all_msix_entries(void **state)
{
	struct rig *r = *state;
	for (unsigned i = 0; i < EP_NVEC; i++)
		msix_entry(r, i, false);
	msix_on(r, true);
	sim_irq_raise(r->ep, 7);
	assert_int_equal(pba(r), 1u << 7);
	/* Function Level Reset, then wait for the function to be ready. */
	cfg_wr(r, EP_EXP + HQIO_PCI_EXP_DEVCTL, 2, HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	sim_run_for(&r->p->eng, SIM_T_FLR_READY_NS);
	assert_int_equal(cfg_rd(r, MSIX_CTRL, 2) & HQIO_PCI_MSIX_FLAGS_ENABLE, 0);
	command(r, HQIO_PCI_COMMAND_MEMORY, 0);
	for (unsigned i = 0; i < EP_NVEC; i++) {
		/* PCI LB 3.0 §6.8.2.9: mask bit set at reset. */
		assert_int_equal(bar_rd(r, EP_TABLE + 16 * i + VCTRL, 4), 1);
		assert_int_equal(bar_rd(r, EP_TABLE + 16 * i, 8), 0);
		assert_int_equal(bar_rd(r, EP_TABLE + 16 * i + 8, 4), 0);
	}
	assert_int_equal(pba(r), 0);
	assert_int_equal(r->n_msgs, 0);
}

static void test_reset_clears_msi_pending(void **state)
{
	struct rig *r = *state;
	msi_on(r);
	cfg_wr(r, MSI_MASK, 4, 1);
	sim_irq_raise(r->ep, 0);
	assert_int_equal(cfg_rd(r, MSI_PENDING, 4), 1);
	sim_fn_reset(r->ep);
	assert_int_equal(cfg_rd(r, MSI_PENDING, 4), 0);
	assert_int_equal(r->ep->irq.msi_pending, 0);
	assert_int_equal(cfg_rd(r, MSI_CTRL, 2) & HQIO_PCI_MSI_FLAGS_ENABLE, 0);
}

/* ------------------------------------------------------------------ */
/* INTx and the IOAPIC                                                  */
/* ------------------------------------------------------------------ */

/* Negative control (done while developing): without the Remote IRR check
 * in sim/irq.c the new rising edge below is delivered before the EOI and
 * the assertion right after that edge fails ("0x2 != 0x1"). */
static void test_intx_delivers_once_until_eoi(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	ioapic_level(r, gsi);
	sim_irq_raise(r->ep, 0); /* no MSI/MSI-X enabled: INTx */
	assert_int_equal(r->n_ioapic, 1);
	assert_int_equal(r->last_pin, gsi);
	assert_int_equal(r->last_vector, 0x41);
	assert_true(r->p->ioapic[gsi].remote_irr);
	assert_int_equal(r->p->ioapic[gsi].asserted, 1);
	/* More events, time passing: still one delivery (Remote IRR). */
	sim_irq_raise(r->ep, 0);
	sim_run_for(&r->p->eng, SIM_NS_PER_MS);
	assert_int_equal(r->n_ioapic, 1);
	assert_int_equal(r->p->ioapic[gsi].delivered, 1);
	assert_true(cfg_rd(r, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_INTERRUPT);
	/* Even a new rising edge of the line waits for the EOI. */
	sim_intx_set(r->ep, false);
	sim_irq_raise(r->ep, 0);
	assert_int_equal(r->n_ioapic, 1);
	sim_ioapic_eoi(r->p, gsi);
	assert_int_equal(r->n_ioapic, 2);
}

static void test_intx_eoi_while_asserted_redelivers(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	ioapic_level(r, gsi);
	sim_irq_raise(r->ep, 0);
	sim_ioapic_eoi(r->p, gsi); /* the device was not serviced */
	assert_int_equal(r->n_ioapic, 2);
	assert_true(r->p->ioapic[gsi].remote_irr);
}

static void test_intx_cleared_then_eoi_no_more(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	ioapic_level(r, gsi);
	sim_irq_raise(r->ep, 0);
	sim_intx_set(r->ep, false); /* the driver acknowledged the device */
	assert_int_equal(cfg_rd(r, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_INTERRUPT, 0);
	assert_int_equal(r->p->ioapic[gsi].asserted, 0);
	sim_ioapic_eoi(r->p, gsi);
	assert_int_equal(r->n_ioapic, 1);
	assert_false(r->p->ioapic[gsi].remote_irr);
}

static void test_intx_disable_deasserts_pin_status_stays(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	ioapic_level(r, gsi);
	sim_irq_raise(r->ep, 0);
	command(r, HQIO_PCI_COMMAND_INTX_DISABLE, 0);
	assert_false(r->ep->irq.intx_asserted);
	assert_int_equal(r->p->ioapic[gsi].asserted, 0);
	/* PCI LB 3.0 §6.2.3: Interrupt Status ignores INTx Disable. */
	assert_true(cfg_rd(r, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_INTERRUPT);
	sim_ioapic_eoi(r->p, gsi);
	assert_int_equal(r->n_ioapic, 1);
	/* Enabled again with the request still up: the pin is driven again. */
	command(r, 0, HQIO_PCI_COMMAND_INTX_DISABLE);
	assert_true(r->ep->irq.intx_asserted);
	assert_int_equal(r->n_ioapic, 2);
}

static void test_intx_raised_while_disabled_is_held(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	ioapic_level(r, gsi);
	command(r, HQIO_PCI_COMMAND_INTX_DISABLE, 0);
	sim_irq_raise(r->ep, 0);
	assert_int_equal(r->n_ioapic, 0);
	assert_int_equal(r->ep->irq.held, 1);
	assert_true(cfg_rd(r, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_INTERRUPT);
}

static void test_intx_shared_line_is_wired_or(void **state)
{
	struct rig *r = *state;
	/* A second function, 00:06.0 INTA: 16 + (0 + 6) % 4 = 18, the GSI of
	 * the endpoint (see the swizzle test). */
	unsigned gsi = ep_gsi(r);
	struct sim_fn *other = endpoint(r->p, NULL, 6, 1);
	assert_int_equal(sim_intx_pin(other), gsi);
	ioapic_level(r, gsi);
	sim_intx_set(r->ep, true);
	sim_intx_set(other, true);
	assert_int_equal(r->p->ioapic[gsi].asserted, 2);
	assert_int_equal(r->n_ioapic, 1);
	sim_intx_set(r->ep, false);
	sim_ioapic_eoi(r->p, gsi); /* the other one still asserts */
	assert_int_equal(r->n_ioapic, 2);
	sim_intx_set(other, false);
	sim_ioapic_eoi(r->p, gsi);
	assert_int_equal(r->n_ioapic, 2);
	assert_int_equal(r->p->ioapic[gsi].asserted, 0);
}

static void test_ioapic_unmask_with_line_asserted_delivers(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	sim_ioapic_program(r->p, gsi, 0x41, true, true);
	sim_intx_set(r->ep, true);
	assert_int_equal(r->n_ioapic, 0);
	sim_ioapic_program(r->p, gsi, 0x41, true, false);
	assert_int_equal(r->n_ioapic, 1);
}

static void test_ioapic_edge_pin_delivers_on_rising_edges(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	sim_ioapic_program(r->p, gsi, 0x42, false, false);
	sim_intx_set(r->ep, true);
	sim_ioapic_eoi(r->p, gsi); /* no effect on an edge pin */
	assert_int_equal(r->n_ioapic, 1);
	sim_intx_set(r->ep, false);
	sim_intx_set(r->ep, true);
	assert_int_equal(r->n_ioapic, 2);
	assert_int_equal(r->last_vector, 0x42);
}

static void test_msi_enable_takes_the_pin_away(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	ioapic_level(r, gsi);
	sim_intx_set(r->ep, true);
	assert_int_equal(r->p->ioapic[gsi].asserted, 1);
	/* PCI LB 3.0 §6.8.1.3: with MSI enabled the INTx pin is not used. */
	msi_on(r);
	assert_int_equal(r->p->ioapic[gsi].asserted, 0);
}

static void test_reset_deasserts_intx(void **state)
{
	struct rig *r = *state;
	unsigned gsi = ep_gsi(r);
	ioapic_level(r, gsi);
	sim_irq_raise(r->ep, 0);
	assert_int_equal(r->p->ioapic[gsi].asserted, 1);
	sim_fn_reset(r->ep);
	assert_int_equal(r->p->ioapic[gsi].asserted, 0);
	assert_false(r->ep->irq.intx_level);
	assert_int_equal(cfg_rd(r, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_INTERRUPT, 0);
	sim_ioapic_eoi(r->p, gsi);
	assert_int_equal(r->n_ioapic, 1);
}

static void test_no_pin_no_mode_is_dropped(void **state)
{
	struct rig *r = *state;
	struct sim_fn *f = endpoint(r->p, NULL, 7, 0);
	sim_irq_raise(f, 0);
	assert_int_equal(f->irq.dropped, 1);
	assert_int_equal(r->n_ioapic + r->n_msgs, 0);
}

/* P2P 1.2 §9.1 table 9-1: pin' = ((pin - 1 + dev) mod 4) + 1 at each
 * bridge; at the root bus GSI = 16 + ((pin' - 1 + dev) mod 4). */
static void test_intx_swizzle_through_bridges(void **state)
{
	struct rig *r = *state;
	/* Root-bus function 00:05.0, INTC: 16 + (2 + 5) % 4 = 19. */
	struct sim_fn *rc = endpoint(r->p, NULL, 5, 3);
	assert_int_equal(sim_intx_pin(rc), 19);
	/* The rig's endpoint 01:00.0 INTA below the root port 00:02.0:
	 * pin' = INTA (dev 0), then 16 + (0 + 2) % 4 = 18. */
	assert_int_equal(sim_intx_pin(r->ep), 18);
	/* Root port 00:03.0 -> PCIe-to-PCI bridge (dev 0) -> conventional
	 * device 3, INTB: (1 + 3) % 4 = 0 (INTA) at the PCIe-to-PCI bridge,
	 * (0 + 0) % 4 = 0 at the root port, 16 + (0 + 3) % 4 = 19. */
	struct sim_fn *rp3 = sim_add_root_port(r->p, 3, 0, 3);
	struct sim_fn *br = sim_add_pcie_to_pci_bridge(r->p, rp3);
	struct sim_fn *conv = endpoint(r->p, br, 3, 2);
	sim_enumerate(r->p);
	assert_int_equal(sim_intx_pin(conv), 19);
	/* And it is really that IOAPIC pin that fires. */
	ioapic_level(r, 19);
	sim_irq_raise(conv, 0);
	assert_int_equal(r->n_ioapic, 1);
	assert_int_equal(r->last_pin, 19);
	assert_int_equal(r->p->ioapic[19].asserted, 1);
	assert_int_equal(r->p->ioapic[18].asserted, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_msi_delivers_address_and_vector_in_data),
		T(test_msi_vector_beyond_enabled_is_dropped),
		T(test_msi_mask_holds_and_sets_pending),
		T(test_msi_unmask_delivers_once),
		T(test_msi_events_while_masked_coalesce),
		T(test_msi_pending_register_is_read_only),
		T(test_msi_not_sent_with_bus_master_off),
		T(test_msix_table_writes_are_what_is_delivered),
		T(test_msix_byte_and_word_table_access),
		T(test_msix_vector_control_reserved_bits_read_zero),
		T(test_msix_entry_mask_holds_and_sets_pba),
		T(test_msix_entry_unmask_delivers_once),
		T(test_msix_function_mask_holds_and_unmask_delivers_once),
		T(test_msix_pba_is_read_only),
		T(test_msix_not_sent_with_bus_master_off),
		T(test_msix_wins_over_msi_and_intx),
		T(test_msix_table_with_memory_decode_off_reads_all_ones),
		T(test_bar_outside_table_and_pba_reaches_the_device),
		T(test_reset_masks_all_msix_entries),
		T(test_reset_clears_msi_pending),
		T(test_intx_delivers_once_until_eoi),
		T(test_intx_eoi_while_asserted_redelivers),
		T(test_intx_cleared_then_eoi_no_more),
		T(test_intx_disable_deasserts_pin_status_stays),
		T(test_intx_raised_while_disabled_is_held),
		T(test_intx_shared_line_is_wired_or),
		T(test_ioapic_unmask_with_line_asserted_delivers),
		T(test_ioapic_edge_pin_delivers_on_rising_edges),
		T(test_msi_enable_takes_the_pin_away),
		T(test_reset_deasserts_intx),
		T(test_no_pin_no_mode_is_dropped),
		T(test_intx_swizzle_through_bridges),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
