/*
 * Device catalogue tests: the reference machine decodes as built (every
 * function through hqio_pci_decode, read as software reads it), BAR
 * sizing, the models' registers (NIC STATUS function number, GPU
 * configuration mirror and host-bridge register, HDA timing and
 * underruns, NVMe doorbell DMA with Transactions Pending, SR-IOV VFs,
 * conventional INTx Disable), and each faulty variant against its
 * well-behaved twin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "sim.h"
#include "devices/devices.h"

#define MEM_BYTES (64ULL << 20)
#define MSI_ADDR  0xfee00000u
#define IOVA	  0x100000ULL

/* ------------------------------------------------------------------ */
/* Helpers                                                               */
/* ------------------------------------------------------------------ */

struct machine {
	struct sim_platform *p;
	struct sim_reference r;
};

static struct machine *machine_new(void)
{
	struct machine *m = calloc(1, sizeof(*m));
	assert_non_null(m);
	m->p = sim_platform_new(1, MEM_BYTES);
	assert_non_null(m->p);
	assert_int_equal(sim_build_reference_ex(m->p, &m->r), 0);
	return m;
}

static void machine_free(struct machine *m)
{
	sim_platform_free(m->p);
	free(m);
}

/* A platform with one function built by the caller below a root port
 * 00:1c.0 (speed 3) or on the root bus. */
static struct sim_platform *plat_new(void)
{
	struct sim_platform *p = sim_platform_new(7, MEM_BYTES);
	assert_non_null(p);
	return p;
}

static uint32_t cfg_r(struct sim_fn *f, uint16_t off, unsigned size)
{
	uint32_t v = 0;
	assert_int_equal(sim_cfg_read(f->plat, sim_fn_bdf(f), off, size, &v), 0);
	return v;
}

static void cfg_w(struct sim_fn *f, uint16_t off, unsigned size, uint32_t v)
{
	assert_int_equal(sim_cfg_write(f->plat, sim_fn_bdf(f), off, size, v), 0);
}

static uint32_t bdf_r(struct sim_platform *p, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
		      unsigned size)
{
	uint32_t v = 0;
	struct hqio_bdf b = { .bus = bus, .dev = dev, .fn = fn };
	assert_int_equal(sim_cfg_read(p, b, off, size, &v), 0);
	return v;
}

static uint64_t bar_r(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	assert_int_equal(sim_bar_read(f->plat, sim_fn_bdf(f), bar, off, size, &v), 0);
	return v;
}

static void bar_w(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(sim_bar_write(f->plat, sim_fn_bdf(f), bar, off, size, v), 0);
}

static void command(struct sim_fn *f, uint16_t bits)
{
	cfg_w(f, HQIO_PCI_COMMAND, 2, bits);
}

#define CMD_MEM_IO (HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_IO)
#define CMD_ALL	   (CMD_MEM_IO | HQIO_PCI_COMMAND_MASTER)

static void run_to(struct sim_platform *p, uint64_t t)
{
	sim_run_until(&p->eng, t);
}

static uint64_t now(struct sim_platform *p)
{
	return p->eng.now_ns;
}

/* Counting MSI sink. */
struct msi_count {
	uint64_t n;
	uint64_t last_ns;
	uint32_t last_data;
};

static void count_msi(void *arg, const struct sim_msi_msg *m)
{
	struct msi_count *c = arg;
	c->n++;
	c->last_ns = m->when_ns;
	c->last_data = m->data;
}

static void msi_sink(struct sim_platform *p, struct msi_count *c)
{
	memset(c, 0, sizeof(*c));
	p->msi_sink = count_msi;
	p->msi_arg = c;
}

/* MSI with the x86 address and data vector; 64-bit capabilities only. */
static void msi_enable(struct sim_fn *f, uint8_t vector)
{
	assert_true(f->msi);
	uint16_t flags = (uint16_t)cfg_r(f, f->msi + HQIO_PCI_MSI_FLAGS, 2);
	assert_true(flags & HQIO_PCI_MSI_FLAGS_64BIT);
	cfg_w(f, f->msi + HQIO_PCI_MSI_ADDRESS_LO, 4, MSI_ADDR);
	cfg_w(f, f->msi + HQIO_PCI_MSI_ADDRESS_HI, 4, 0);
	cfg_w(f, f->msi + HQIO_PCI_MSI_DATA_64, 2, vector);
	cfg_w(f, f->msi + HQIO_PCI_MSI_FLAGS, 2, flags | HQIO_PCI_MSI_FLAGS_ENABLE);
}

/* MSI-X entry 0 programmed and unmasked, MSI-X enabled. */
static void msix_enable_entry0(struct sim_fn *f, uint8_t vector)
{
	assert_true(f->msix);
	uint32_t t = cfg_r(f, f->msix + HQIO_PCI_MSIX_TABLE, 4);
	unsigned bir = t & HQIO_PCI_MSIX_BIR_MASK;
	uint64_t off = t & HQIO_PCI_MSIX_OFFSET_MASK;
	bar_w(f, bir, off + 0, 4, MSI_ADDR);
	bar_w(f, bir, off + 4, 4, 0);
	bar_w(f, bir, off + 8, 4, vector);
	bar_w(f, bir, off + 12, 4, 0); /* unmask */
	uint16_t fl = (uint16_t)cfg_r(f, f->msix + HQIO_PCI_MSIX_FLAGS, 2);
	cfg_w(f, f->msix + HQIO_PCI_MSIX_FLAGS, 2, fl | HQIO_PCI_MSIX_FLAGS_ENABLE);
}

/* A fresh IOMMU domain for f with npages at IOVA iova mapped to new host
 * pages (read-write); returns the host-physical address. */
static uint64_t dma_pages(struct sim_fn *f, uint64_t iova, uint64_t npages, int *domain)
{
	struct sim_platform *p = f->plat;
	int d = sim_iommu_domain_new(p);
	assert_true(d >= 0);
	sim_iommu_attach(p, sim_requester_id(f), d);
	uint64_t hpa = sim_mem_alloc(p, npages, d);
	assert_true(hpa != UINT64_MAX);
	assert_int_equal(sim_iommu_map(p, d, iova, hpa, npages * SIM_PAGE_SIZE,
				       HQIO_DMA_READ | HQIO_DMA_WRITE),
			 0);
	if (domain)
		*domain = d;
	return hpa;
}

static uint64_t dma_page(struct sim_fn *f, uint64_t iova, int *domain)
{
	return dma_pages(f, iova, 1, domain);
}

static uint8_t mem_byte(struct sim_platform *p, uint64_t hpa)
{
	uint8_t b = 0;
	assert_int_equal(sim_mem_read(p, hpa, &b, 1), 0);
	return b;
}

/* Read the whole configuration space as software does and decode it,
 * with the BAR sizes (as sysfs would give them). */
static struct hqio_pci_info *decode(struct sim_fn *f)
{
	struct hqio_pci_sizes sizes = { 0 };
	for (int b = 0; b < 6; b++)
		sizes.bar[b] = f->bar_size[b];
	sizes.rom = f->bar_size[6];
	uint8_t cfg[HQIO_PCI_CFG_EXP_SIZE];
	for (uint16_t off = 0; off < f->cfg_size; off += 4) {
		uint32_t v = cfg_r(f, off, 4);
		memcpy(cfg + off, &v, 4);
	}
	struct hqio_pci_info *info = calloc(1, sizeof(*info));
	assert_non_null(info);
	struct hqio_error err = { 0 };
	int rc = hqio_pci_decode(cfg, f->cfg_size, &sizes, info, &err);
	if (rc)
		fail_msg("%s: decode %d: %s", f->name, rc, err.msg);
	return info;
}

/* ------------------------------------------------------------------ */
/* The reference machine                                                 */
/* ------------------------------------------------------------------ */

static void expect_bdf(struct sim_fn *f, uint8_t bus, uint8_t dev, uint8_t fn)
{
	assert_non_null(f);
	struct hqio_bdf b = sim_fn_bdf(f);
	assert_int_equal(b.bus, bus);
	assert_int_equal(b.dev, dev);
	assert_int_equal(b.fn, fn);
	assert_ptr_equal(sim_route(f->plat, b), f);
}

static void test_reference_layout(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	expect_bdf(m->r.rp[0], 0, 0x1c, 0);
	expect_bdf(m->r.nvme, 1, 0, 0);
	expect_bdf(m->r.sw_up, 2, 0, 0);
	expect_bdf(m->r.sw_down[0], 3, 0, 0);
	expect_bdf(m->r.sw_down[1], 3, 1, 0);
	expect_bdf(m->r.nic[0], 4, 0, 0);
	expect_bdf(m->r.nic[1], 4, 0, 1);
	expect_bdf(m->r.hda, 5, 0, 0);
	expect_bdf(m->r.pci_bridge, 6, 0, 0);
	expect_bdf(m->r.legacy23, 7, 0, 0);
	expect_bdf(m->r.legacy22, 7, 4, 0);
	expect_bdf(m->r.gpu, 8, 0, 0);
	expect_bdf(m->r.edu, 0, 0x10, 0);
	/* Root port speeds straddle 5 GT/s (readiness timing differs). */
	unsigned fast = 0, slow = 0;
	for (int i = 0; i < 4; i++) {
		struct sim_fn *rp = m->r.rp[i];
		uint32_t cap =
			cfg_r(rp, rp->exp + HQIO_PCI_EXP_LNKCAP, 4) & HQIO_PCI_EXP_LNKCAP_SLS;
		fast += cap > 2;
		slow += cap <= 2;
	}
	assert_true(fast >= 1 && slow >= 1);
	/* Hidden VFs are not reachable. */
	assert_int_equal(bdf_r(m->p, 1, 0, 1, 0, 4), 0xffffffffu);
	machine_free(m);
}

static void test_decode_nic(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	for (int i = 0; i < 2; i++) {
		struct hqio_pci_info *in = decode(m->r.nic[i]);
		assert_int_equal(in->vendor_id, 0x8086);
		assert_int_equal(in->device_id, SIM_NIC_DEVICE_DUAL);
		assert_int_equal(in->class_code, 0x020000);
		assert_true(in->multifunction);
		assert_int_equal(in->int_pin, 1);
		assert_true(in->pm.present);
		assert_false(in->pm.no_soft_reset);
		assert_true(in->msi.present);
		assert_true(in->msi.addr64);
		assert_int_equal(in->msi.vectors_capable, 1);
		assert_true(in->msix.present);
		assert_int_equal(in->msix.table_size, 5);
		assert_int_equal(in->msix.table_bir, 3);
		assert_int_equal(in->msix.table_offset, SIM_NIC_MSIX_TABLE);
		assert_int_equal(in->msix.pba_bir, 3);
		assert_int_equal(in->msix.pba_offset, SIM_NIC_MSIX_PBA);
		assert_true(in->exp.present);
		assert_int_equal(in->exp.port_type, HQIO_PCI_EXP_TYPE_ENDPOINT);
		assert_false(in->exp.flr);
		assert_false(in->af.present);
		assert_int_equal(in->bars[0].kind, HQIO_BAR_MEM32);
		assert_int_equal(in->bars[2].kind, HQIO_BAR_IO);
		assert_int_equal(in->bars[3].kind, HQIO_BAR_MEM32);
		free(in);
	}
	machine_free(m);
}

static void test_decode_nvme(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct hqio_pci_info *in = decode(m->r.nvme);
	assert_int_equal(in->vendor_id, SIM_NVME_VENDOR);
	assert_int_equal(in->device_id, SIM_NVME_DEVICE);
	assert_int_equal(in->class_code, 0x010802);
	assert_true(in->exp.present);
	assert_true(in->exp.flr);
	assert_true(in->pm.present);
	assert_true(in->pm.no_soft_reset);
	assert_false(in->msi.present);
	assert_true(in->msix.present);
	assert_int_equal(in->msix.table_size, SIM_NVME_MSIX_ENTRIES);
	assert_int_equal(in->msix.table_bir, 0);
	assert_int_equal(in->msix.table_offset, SIM_NVME_MSIX_TABLE);
	assert_int_equal(in->msix.pba_offset, SIM_NVME_MSIX_PBA);
	assert_true(in->sriov.present);
	assert_int_equal(in->sriov.total_vfs, 4);
	assert_int_equal(in->sriov.vf_offset, 1);
	assert_int_equal(in->sriov.vf_stride, 1);
	assert_int_equal(in->sriov.vf_device_id, SIM_NVME_VF_DEVICE);
	assert_false(in->sriov.vf_enable);
	assert_true(in->ats.present);
	assert_int_equal(in->bars[0].kind, HQIO_BAR_MEM64);
	free(in);
	machine_free(m);
}

static void test_decode_hda(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct hqio_pci_info *in = decode(m->r.hda);
	assert_int_equal(in->vendor_id, SIM_HDA_VENDOR);
	assert_int_equal(in->device_id, SIM_HDA_DEVICE);
	assert_int_equal(in->class_code, 0x040300);
	assert_true(in->msi.present);
	assert_false(in->msix.present);
	assert_true(in->exp.present);
	assert_int_equal(in->exp.port_type, HQIO_PCI_EXP_TYPE_ENDPOINT);
	assert_true(in->pm.present);
	assert_int_equal(in->bars[0].kind, HQIO_BAR_MEM64);
	free(in);
	machine_free(m);
}

static void test_decode_conventional(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *fs[2] = { m->r.legacy23, m->r.legacy22 };
	uint16_t ids[2] = { SIM_LEG_DEVICE_23, SIM_LEG_DEVICE_22 };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fs[i]->cfg_size, HQIO_PCI_CFG_SIZE);
		struct hqio_pci_info *in = decode(fs[i]);
		assert_int_equal(in->vendor_id, SIM_LEG_VENDOR);
		assert_int_equal(in->device_id, ids[i]);
		assert_int_equal(in->class_code, 0x020000);
		assert_false(in->cap_list);
		assert_false(in->exp.present);
		assert_false(in->pm.present);
		assert_false(in->msi.present);
		assert_int_equal(in->int_pin, 1);
		assert_int_equal(in->bars[0].kind, HQIO_BAR_IO);
		assert_int_equal(in->bars[1].kind, HQIO_BAR_MEM32);
		free(in);
	}
	machine_free(m);
}

static void test_decode_gpu(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct hqio_pci_info *in = decode(m->r.gpu);
	assert_int_equal(in->vendor_id, SIM_GPU_VENDOR);
	assert_int_equal(in->device_id, SIM_GPU_DEVICE);
	assert_int_equal(in->class_code, 0x030000);
	assert_true(in->msi.present);
	assert_false(in->msix.present);
	assert_true(in->exp.present);
	assert_int_equal(in->exp.port_type, HQIO_PCI_EXP_TYPE_LEG_END);
	assert_false(in->exp.flr);
	assert_true(in->pm.no_soft_reset);
	assert_int_equal(in->bars[0].kind, HQIO_BAR_MEM32);
	assert_int_equal(in->bars[1].kind, HQIO_BAR_MEM64);
	assert_true(in->bars[1].prefetchable);
	assert_int_equal(in->bars[2].kind, HQIO_BAR_UPPER);
	free(in);
	machine_free(m);
}

static void test_decode_edu(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct hqio_pci_info *in = decode(m->r.edu);
	assert_int_equal(in->vendor_id, SIM_EDU_VENDOR);
	assert_int_equal(in->device_id, SIM_EDU_DEVICE);
	assert_int_equal(in->class_code, 0x00ff00);
	assert_int_equal(in->int_pin, 1);
	assert_true(in->msi.present);
	assert_int_equal(in->msi.vectors_capable, 1);
	assert_false(in->exp.present); /* no Device Status, so no TP bit */
	assert_true(in->af.present);
	assert_true(in->af.flr);
	assert_false(in->af.tp);
	assert_true(in->pm.present);
	assert_false(in->pm.no_soft_reset);
	free(in);
	machine_free(m);
}

/* ------------------------------------------------------------------ */
/* BAR sizing                                                            */
/* ------------------------------------------------------------------ */

static void expect_bars(struct sim_fn *f, const uint32_t want[6])
{
	for (unsigned i = 0; i < 6; i++) {
		uint16_t reg = (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * i);
		uint32_t orig = cfg_r(f, reg, 4);
		cfg_w(f, reg, 4, 0xffffffffu);
		uint32_t got = cfg_r(f, reg, 4);
		cfg_w(f, reg, 4, orig);
		if (got != want[i])
			fail_msg("%s BAR%u: read back 0x%08x, want 0x%08x", f->name, i, got,
				 want[i]);
	}
}

static uint64_t size64(uint32_t lo, uint32_t hi)
{
	return ~(((uint64_t)hi << 32) | (lo & ~0xfULL)) + 1;
}

static void test_bar_sizing(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	static const uint32_t nic[6] = { 0xfffe0000u, 0, 0xffffffe1u, 0xffffc000u, 0, 0 };
	static const uint32_t nvme[6] = { 0xffffc004u, 0xffffffffu, 0, 0, 0, 0 };
	static const uint32_t leg[6] = { 0xffffff01u, 0xffffff00u, 0, 0, 0, 0 };
	static const uint32_t gpu[6] = { 0xff000000u, 0xf000000cu, 0xffffffffu, 0, 0, 0 };
	static const uint32_t edu[6] = { 0xfff00000u, 0, 0, 0, 0, 0 };
	expect_bars(m->r.nic[0], nic);
	expect_bars(m->r.nic[1], nic);
	expect_bars(m->r.nvme, nvme);
	expect_bars(m->r.hda, nvme); /* the same 16 KiB 64-bit BAR0 */
	expect_bars(m->r.legacy23, leg);
	expect_bars(m->r.legacy22, leg);
	expect_bars(m->r.gpu, gpu);
	expect_bars(m->r.edu, edu);
	/* The sizes those masks encode. */
	assert_int_equal(~(nic[0] & ~0xfu) + 1, SIM_NIC_BAR0_SIZE);
	assert_int_equal(~(nic[2] & ~0x3u) + 1, SIM_NIC_BAR2_SIZE);
	assert_int_equal(~(nic[3] & ~0xfu) + 1, SIM_NIC_BAR3_SIZE);
	assert_int_equal(size64(nvme[0], nvme[1]), SIM_NVME_BAR0_SIZE);
	assert_int_equal(size64(gpu[1], gpu[2]), SIM_GPU_BAR1_SIZE);
	assert_int_equal(~(gpu[0] & ~0xfu) + 1, SIM_GPU_BAR0_SIZE);
	assert_int_equal(~(edu[0] & ~0xfu) + 1, SIM_EDU_BAR0_SIZE);
	machine_free(m);
}

/* ------------------------------------------------------------------ */
/* NIC                                                                   */
/* ------------------------------------------------------------------ */

static void test_nic_status_reports_function_number(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	for (unsigned i = 0; i < 2; i++) {
		struct sim_fn *f = m->r.nic[i];
		command(f, CMD_MEM_IO);
		uint32_t st = (uint32_t)bar_r(f, 0, SIM_NIC_STATUS, 4);
		assert_int_equal((st & SIM_NIC_STATUS_FUNC_MASK) >> SIM_NIC_STATUS_FUNC_SHIFT, i);
		assert_true(st & SIM_NIC_STATUS_LU);
		/* The same register through the I/O window. */
		bar_w(f, 2, SIM_NIC_IOADDR, 4, SIM_NIC_STATUS);
		assert_int_equal(bar_r(f, 2, SIM_NIC_IODATA, 4), st);
	}
	machine_free(m);
}

static void test_nic_icr_read_clears(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *f = m->r.nic[0];
	command(f, CMD_MEM_IO);
	bar_w(f, 0, SIM_NIC_ICS, 4, 0x4);
	assert_int_equal(bar_r(f, 0, SIM_NIC_ICR, 4), 0x4); /* masked: no INT_ASSERTED */
	assert_int_equal(bar_r(f, 0, SIM_NIC_ICR, 4), 0);
	machine_free(m);
}

static void test_nic_ics_raises_msi_when_unmasked(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *f = m->r.nic[1];
	struct msi_count c;
	msi_sink(m->p, &c);
	command(f, CMD_ALL);
	msi_enable(f, 0x41);
	bar_w(f, 0, SIM_NIC_ICS, 4, 0x4); /* masked: cause only */
	assert_int_equal(c.n, 0);
	bar_w(f, 0, SIM_NIC_IMS, 4, 0x4); /* unmasking a pending cause signals */
	assert_int_equal(c.n, 1);
	assert_int_equal(c.last_data, 0x41);
	assert_int_equal(bar_r(f, 0, SIM_NIC_ICR, 4), 0x4 | SIM_NIC_ICR_ASSERTED);
	machine_free(m);
}

static void test_nic_dma_doorbell_writes_pattern(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *f = m->r.nic[0];
	uint64_t hpa = dma_page(f, IOVA, NULL);
	command(f, CMD_ALL);
	bar_w(f, 0, SIM_NIC_DMA_ADDR_LO, 4, (uint32_t)IOVA + 16);
	bar_w(f, 0, SIM_NIC_DMA_ADDR_HI, 4, 0);
	bar_w(f, 0, SIM_NIC_DMA_PATTERN, 4, 0xa0);
	bar_w(f, 0, SIM_NIC_DMA_GO, 4, 64);
	assert_int_equal(bar_r(f, 0, SIM_NIC_DMA_RESULT, 4), SIM_NIC_DMA_DONE);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(mem_byte(m->p, hpa + 16 + i), (uint8_t)(0xa0 + i));
	assert_int_equal(mem_byte(m->p, hpa + 16 + 64), 0);
	/* Bus Master off: the platform refuses it and RESULT says so. */
	command(f, CMD_MEM_IO);
	bar_w(f, 0, SIM_NIC_DMA_GO, 4, 64);
	assert_int_equal(bar_r(f, 0, SIM_NIC_DMA_RESULT, 4), SIM_NIC_DMA_DONE | EPERM);
	machine_free(m);
}

/* D3hot -> D0 and back to a usable function: wait out the 10 ms recovery. */
static void d3hot_d0(struct sim_fn *f)
{
	cfg_w(f, f->pm + HQIO_PCI_PM_CTRL, 2, 3);
	assert_int_equal(sim_fn_pm_state(f), 3);
	cfg_w(f, f->pm + HQIO_PCI_PM_CTRL, 2, 0);
	run_to(f->plat, now(f->plat) + SIM_T_D3HOT_D0_NS);
}

static struct sim_fn *nic_below_root_port(struct sim_platform *p, unsigned faults)
{
	struct sim_fn *rp = sim_add_root_port(p, 0x1c, 0, 1);
	assert_non_null(rp);
	struct sim_fn *f = sim_dev_nic(p, rp, 0, 0, faults);
	assert_non_null(f);
	sim_enumerate(p);
	return f;
}

static void test_nic_pm_reset_clears_registers(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = nic_below_root_port(p, 0);
	command(f, CMD_MEM_IO);
	bar_w(f, 0, SIM_NIC_IMS, 4, 0x9d);
	uint64_t resets = f->resets;
	d3hot_d0(f);
	assert_int_equal(f->resets, resets + 1);
	assert_int_equal(cfg_r(f, HQIO_PCI_COMMAND, 2) & CMD_MEM_IO, 0); /* D0uninitialized */
	command(f, CMD_MEM_IO);
	assert_int_equal(bar_r(f, 0, SIM_NIC_IMS, 4), 0);
	sim_platform_free(p);
}

static void test_nic_pm_no_reset_fault_keeps_registers(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = nic_below_root_port(p, SIM_FAULT_PM_NO_RESET);
	command(f, CMD_MEM_IO);
	bar_w(f, 0, SIM_NIC_IMS, 4, 0x9d);
	struct hqio_pci_info *in = decode(f);
	assert_false(in->pm.no_soft_reset); /* it advertises a reset... */
	free(in);
	uint64_t resets = f->resets;
	d3hot_d0(f);
	assert_int_equal(f->resets, resets); /* ...and does none */
	assert_int_equal(cfg_r(f, HQIO_PCI_COMMAND, 2) & CMD_MEM_IO, CMD_MEM_IO);
	assert_int_equal(bar_r(f, 0, SIM_NIC_IMS, 4), 0x9d);
	sim_platform_free(p);
}

/* ------------------------------------------------------------------ */
/* NVMe                                                                  */
/* ------------------------------------------------------------------ */

static void test_nvme_doorbell_shows_transactions_pending(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *f = m->r.nvme;
	struct msi_count c;
	msi_sink(m->p, &c);
	uint64_t hpa = dma_page(f, IOVA, NULL);
	command(f, CMD_ALL);
	msix_enable_entry0(f, 0x52);
	uint16_t devsta = (uint16_t)(f->exp + HQIO_PCI_EXP_DEVSTA);
	bar_w(f, 0, SIM_NVME_DMA_ADDR_LO, 4, (uint32_t)IOVA);
	bar_w(f, 0, SIM_NVME_DMA_ADDR_HI, 4, 0);
	bar_w(f, 0, SIM_NVME_DMA_LEN, 4, 32);
	bar_w(f, 0, SIM_NVME_DMA_PATTERN, 4, 0x10);
	assert_int_equal(cfg_r(f, devsta, 2) & HQIO_PCI_EXP_DEVSTA_TRPND, 0);
	uint64_t t0 = now(m->p);
	bar_w(f, 0, SIM_NVME_DMA_DOORBELL, 4, 1);
	/* In flight: Transactions Pending, nothing written, no interrupt. */
	assert_true(cfg_r(f, devsta, 2) & HQIO_PCI_EXP_DEVSTA_TRPND);
	assert_int_equal(bar_r(f, 0, SIM_NVME_DMA_STATUS, 4), SIM_NVME_DMA_BUSY);
	run_to(m->p, t0 + SIM_NVME_DMA_NS - 1);
	assert_true(cfg_r(f, devsta, 2) & HQIO_PCI_EXP_DEVSTA_TRPND);
	assert_int_equal(mem_byte(m->p, hpa), 0);
	assert_int_equal(c.n, 0);
	/* Completed: data, TP clear, MSI-X vector 0 at exactly t0 + delay. */
	run_to(m->p, t0 + SIM_NVME_DMA_NS);
	assert_int_equal(cfg_r(f, devsta, 2) & HQIO_PCI_EXP_DEVSTA_TRPND, 0);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(mem_byte(m->p, hpa + i), (uint8_t)(0x10 + i));
	assert_int_equal(bar_r(f, 0, SIM_NVME_DMA_STATUS, 4), SIM_NVME_DMA_DONE);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.last_data, 0x52);
	assert_int_equal(c.last_ns, t0 + SIM_NVME_DMA_NS);
	machine_free(m);
}

static void test_nvme_flr_completes(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *f = m->r.nvme;
	uint16_t dc = (uint16_t)cfg_r(f, f->exp + HQIO_PCI_EXP_DEVCTL, 2);
	cfg_w(f, f->exp + HQIO_PCI_EXP_DEVCTL, 2, dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	assert_int_equal(cfg_r(f, HQIO_PCI_VENDOR_ID, 2), 0xffff);
	run_to(m->p, now(m->p) + SIM_T_FLR_READY_NS);
	assert_int_equal(cfg_r(f, HQIO_PCI_VENDOR_ID, 2), SIM_NVME_VENDOR);
	machine_free(m);
}

static void test_nvme_flr_never_completes_fault(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *rp = sim_add_root_port(p, 0x1c, 0, 3);
	struct sim_fn *f = sim_dev_nvme(p, rp, 0, 0, SIM_FAULT_FLR_NEVER_COMPLETES);
	assert_non_null(f);
	sim_enumerate(p);
	assert_int_equal(cfg_r(f, HQIO_PCI_VENDOR_ID, 2), SIM_NVME_VENDOR);
	uint16_t dc = (uint16_t)cfg_r(f, f->exp + HQIO_PCI_EXP_DEVCTL, 2);
	cfg_w(f, f->exp + HQIO_PCI_EXP_DEVCTL, 2, dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR);
	run_to(p, now(p) + 10 * SIM_NS_PER_S);
	assert_int_equal(cfg_r(f, HQIO_PCI_VENDOR_ID, 2), 0xffff);
	/* With CRS Software Visibility the root port keeps answering "retry". */
	uint16_t rtctl = (uint16_t)cfg_r(rp, rp->exp + HQIO_PCI_EXP_RTCTL, 2);
	cfg_w(rp, rp->exp + HQIO_PCI_EXP_RTCTL, 2, rtctl | HQIO_PCI_EXP_RTCTL_CRSSVE);
	run_to(p, now(p) + 10 * SIM_NS_PER_S);
	assert_int_equal(cfg_r(f, HQIO_PCI_VENDOR_ID, 2), 0x0001);
	sim_platform_free(p);
}

static void test_nvme_vfs_appear_with_vf_enable(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *pf = m->r.nvme;
	uint16_t s = pf->sriov;
	assert_int_equal(bdf_r(m->p, 1, 0, 1, HQIO_PCI_REVISION_ID, 4), 0xffffffffu);
	cfg_w(pf, s + HQIO_PCI_SRIOV_NUM_VF, 2, 2);
	cfg_w(pf, s + HQIO_PCI_SRIOV_CTRL, 2, HQIO_PCI_SRIOV_CTRL_VFE | HQIO_PCI_SRIOV_CTRL_MSE);
	run_to(m->p, now(m->p) + SIM_T_RESET_READY_NS);
	/* VF 0 and 1 at 01:00.1-2: IDs 0xffff, the rest of the header live. */
	for (uint8_t fn = 1; fn <= 2; fn++) {
		assert_int_equal(bdf_r(m->p, 1, 0, fn, HQIO_PCI_VENDOR_ID, 4), 0xffffffffu);
		assert_int_equal(bdf_r(m->p, 1, 0, fn, HQIO_PCI_REVISION_ID, 4) >> 8, 0x010802);
		struct sim_fn *vf = sim_dev_nvme_vf(pf, fn - 1u);
		expect_bdf(vf, 1, 0, fn);
		struct hqio_pci_info *in = decode(vf);
		assert_true(hqio_pci_looks_like_vf(in));
		assert_true(in->exp.flr);
		free(in);
	}
	assert_int_equal(bdf_r(m->p, 1, 0, 3, HQIO_PCI_REVISION_ID, 4), 0xffffffffu);
	struct hqio_pci_info *pi = decode(pf);
	unsigned idx = 99;
	uint16_t ven = 0, dev = 0;
	assert_int_equal(hqio_pci_vf_of(pi, sim_fn_bdf(pf),
					(struct hqio_bdf){ .bus = 1, .dev = 0, .fn = 2 }, &idx,
					&ven, &dev),
			 0);
	assert_int_equal(idx, 1);
	assert_int_equal(ven, SIM_NVME_VENDOR);
	assert_int_equal(dev, SIM_NVME_VF_DEVICE);
	free(pi);
	/* VF Enable cleared: gone again. */
	cfg_w(pf, s + HQIO_PCI_SRIOV_CTRL, 2, 0);
	assert_int_equal(bdf_r(m->p, 1, 0, 1, HQIO_PCI_REVISION_ID, 4), 0xffffffffu);
	machine_free(m);
}

/* ------------------------------------------------------------------ */
/* HDA                                                                   */
/* ------------------------------------------------------------------ */

struct hda_run {
	struct sim_fn *f;
	uint64_t hpa, t0;
	uint32_t period, nperiods;
	bool refill; /* the "driver" refills on each interrupt */
	struct msi_count c;
};

static void hda_msi(void *arg, const struct sim_msi_msg *m)
{
	struct hda_run *r = arg;
	count_msi(&r->c, m);
	if (r->refill) {
		uint32_t wp = (uint32_t)bar_r(r->f, 0, SIM_HDA_SD_WP, 4);
		bar_w(r->f, 0, SIM_HDA_SD_WP, 4, wp + 1);
	}
}

/* Program the stream (48 kHz, 4-byte frames), fill wp periods, RUN. */
static void hda_start(struct machine *m, struct hda_run *r, uint32_t period, uint32_t nperiods,
		      uint32_t wp, bool refill)
{
	struct sim_fn *f = m->r.hda;
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->period = period;
	r->nperiods = nperiods;
	r->refill = refill;
	uint64_t bytes = (uint64_t)period * nperiods;
	r->hpa = dma_pages(f, IOVA, (bytes + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE, NULL);
	for (uint32_t i = 0; i < period * nperiods; i++) {
		uint8_t b = (uint8_t)(i / period + 1); /* period k holds bytes k+1 */
		assert_int_equal(sim_mem_write(m->p, r->hpa + i, &b, 1), 0);
	}
	m->p->msi_sink = hda_msi;
	m->p->msi_arg = r;
	command(f, CMD_ALL);
	msi_enable(f, 0x60);
	bar_w(f, 0, SIM_HDA_SD_PERIOD, 4, period);
	bar_w(f, 0, SIM_HDA_SD_NPERIODS, 4, nperiods);
	bar_w(f, 0, SIM_HDA_SD_RATE, 4, 48000);
	bar_w(f, 0, SIM_HDA_SD_BDPL, 4, (uint32_t)IOVA);
	bar_w(f, 0, SIM_HDA_SD_BDPU, 4, 0);
	bar_w(f, 0, SIM_HDA_SD_WP, 4, wp);
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_FRAME, 4), 4);
	r->t0 = now(m->p);
	bar_w(f, 0, SIM_HDA_SD_CTL, 4, SIM_HDA_SD_CTL_RUN | SIM_HDA_SD_CTL_IOCE);
	assert_true(bar_r(f, 0, SIM_HDA_SD_CTL, 4) & SIM_HDA_SD_CTL_RUN);
}

static void test_hda_periods_at_sample_rate(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct hda_run r;
	/* 1000-byte periods at 48000 * 4 bytes/s: 5208333.33 ns each. */
	hda_start(m, &r, 1000, 4, 1000, false);
	struct sim_fn *f = r.f;
	assert_int_equal(sim_hda_period_start(r.t0, 3, 1000, 48000, 4), r.t0 + 15625000);
	assert_int_equal(sim_hda_period_start(r.t0, 1, 1000, 48000, 4), r.t0 + 5208333);
	assert_int_equal(sim_hda_period_start(r.t0, 2, 1000, 48000, 4), r.t0 + 10416666);
	for (uint64_t k = 1; k <= 6; k++) {
		uint64_t t = sim_hda_period_start(r.t0, k, 1000, 48000, 4);
		run_to(m->p, t - 1);
		assert_int_equal(bar_r(f, 0, SIM_HDA_SD_PERIODS_DONE, 4), k - 1);
		run_to(m->p, t);
		assert_int_equal(bar_r(f, 0, SIM_HDA_SD_PERIODS_DONE, 4), k);
		assert_int_equal(bar_r(f, 0, SIM_HDA_SD_LPIB, 4), (k % 4) * 1000);
	}
	/* Period k % 4 was read: its bytes are all (k % 4) + 1. */
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_LAST_SUM, 4), 1000 * ((6 % 4) + 1));
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_UNDERRUNS, 4), 0);
	machine_free(m);
}

static void test_hda_msi_once_per_period(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct hda_run r;
	/* 1920 bytes = 480 frames = 10 ms at 48 kHz. */
	hda_start(m, &r, 1920, 2, 100, false);
	run_to(m->p, r.t0 + 10 * SIM_NS_PER_MS - 1);
	assert_int_equal(r.c.n, 0);
	run_to(m->p, r.t0 + 10 * SIM_NS_PER_MS);
	assert_int_equal(r.c.n, 1);
	assert_int_equal(r.c.last_data, 0x60);
	run_to(m->p, r.t0 + 95 * SIM_NS_PER_MS);
	assert_int_equal(r.c.n, 9);
	assert_int_equal(r.c.last_ns, r.t0 + 90 * SIM_NS_PER_MS);
	assert_int_equal(bar_r(r.f, 0, SIM_HDA_SD_PERIODS_DONE, 4), 9);
	machine_free(m);
}

static void test_hda_underrun_when_not_refilled(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct hda_run r;
	hda_start(m, &r, 1920, 4, 2, false); /* only periods 0 and 1 filled */
	struct sim_fn *f = r.f;
	run_to(m->p, r.t0 + 20 * SIM_NS_PER_MS - 1);
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_UNDERRUNS, 4), 0);
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_STS, 4) & SIM_HDA_SD_STS_FIFOE, 0);
	run_to(m->p, r.t0 + 20 * SIM_NS_PER_MS); /* period 2 starts unfilled */
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_UNDERRUNS, 4), 1);
	assert_true(bar_r(f, 0, SIM_HDA_SD_STS, 4) & SIM_HDA_SD_STS_FIFOE);
	run_to(m->p, r.t0 + 30 * SIM_NS_PER_MS);
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_UNDERRUNS, 4), 2);
	/* Time does not stop: the position and the interrupts go on. */
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_PERIODS_DONE, 4), 3);
	assert_int_equal(r.c.n, 3);
	/* Software catches up: no further underrun. */
	bar_w(f, 0, SIM_HDA_SD_WP, 4, 7);
	run_to(m->p, r.t0 + 70 * SIM_NS_PER_MS - 1);
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_UNDERRUNS, 4), 2);
	run_to(m->p, r.t0 + 70 * SIM_NS_PER_MS);
	assert_int_equal(bar_r(f, 0, SIM_HDA_SD_UNDERRUNS, 4), 3);
	machine_free(m);
}

static void test_hda_no_underrun_when_driver_refills(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct hda_run r;
	hda_start(m, &r, 1920, 2, 2, true);
	run_to(m->p, r.t0 + SIM_NS_PER_S);
	assert_int_equal(bar_r(r.f, 0, SIM_HDA_SD_PERIODS_DONE, 4), 100);
	assert_int_equal(bar_r(r.f, 0, SIM_HDA_SD_UNDERRUNS, 4), 0);
	assert_int_equal(bar_r(r.f, 0, SIM_HDA_SD_DMA_ERRS, 4), 0);
	assert_int_equal(r.c.n, 100);
	machine_free(m);
}

/* ------------------------------------------------------------------ */
/* Conventional devices                                                  */
/* ------------------------------------------------------------------ */

static void test_legacy_intx_disable_writable_on_pci23(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	command(m->r.legacy23, HQIO_PCI_COMMAND_INTX_DISABLE | CMD_MEM_IO);
	assert_int_equal(cfg_r(m->r.legacy23, HQIO_PCI_COMMAND, 2),
			 HQIO_PCI_COMMAND_INTX_DISABLE | CMD_MEM_IO);
	command(m->r.legacy22, HQIO_PCI_COMMAND_INTX_DISABLE | CMD_MEM_IO);
	assert_int_equal(cfg_r(m->r.legacy22, HQIO_PCI_COMMAND, 2), CMD_MEM_IO);
	machine_free(m);
}

static void test_legacy_interrupt_status_only_on_pci23(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *fs[2] = { m->r.legacy23, m->r.legacy22 };
	for (int i = 0; i < 2; i++) {
		struct sim_fn *f = fs[i];
		command(f, CMD_MEM_IO);
		bar_w(f, 1, SIM_LEG_IMR, 2, SIM_LEG_ISR_ROK);
		bar_w(f, 0, SIM_LEG_SWINT, 2, SIM_LEG_ISR_ROK);
		assert_true(f->irq.intx_asserted);
		bool st = cfg_r(f, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_INTERRUPT;
		assert_int_equal(st, i == 0);
		bar_w(f, 0, SIM_LEG_ISR, 2, SIM_LEG_ISR_ROK); /* acknowledge */
		assert_false(f->irq.intx_asserted);
		assert_int_equal(cfg_r(f, HQIO_PCI_STATUS, 2) & HQIO_PCI_STATUS_INTERRUPT, 0);
	}
	/* The two share one line (device 0 and 4 swizzle alike). */
	assert_int_equal(sim_intx_pin(m->r.legacy23), sim_intx_pin(m->r.legacy22));
	machine_free(m);
}

static void test_legacy_irq_storm_reasserts_after_ack(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *quiet = sim_dev_legacy_nointxdis(p, NULL, 1, 0, 0);
	struct sim_fn *storm = sim_dev_legacy_nointxdis(p, NULL, 2, 0, SIM_FAULT_IRQ_STORM);
	assert_non_null(quiet);
	assert_non_null(storm);
	sim_enumerate(p);
	struct sim_fn *fs[2] = { quiet, storm };
	for (int i = 0; i < 2; i++) {
		command(fs[i], CMD_MEM_IO);
		bar_w(fs[i], 0, SIM_LEG_IMR, 2, SIM_LEG_ISR_ROK); /* interrupt enabled */
	}
	uint64_t t0 = now(p);
	run_to(p, t0 + SIM_DEV_STORM_NS);
	assert_false(quiet->irq.intx_asserted);
	assert_true(storm->irq.intx_asserted);
	/* The driver acknowledges; one period later the line is up again. */
	bar_w(storm, 0, SIM_LEG_ISR, 2, SIM_LEG_ISR_ROK);
	assert_false(storm->irq.intx_asserted);
	run_to(p, t0 + 2 * SIM_DEV_STORM_NS);
	assert_true(storm->irq.intx_asserted);
	/* Masking at the device (IMR) is the only way to quiet it: without
	 * INTx Disable the function cannot be masked from configuration space. */
	command(storm, HQIO_PCI_COMMAND_INTX_DISABLE | CMD_MEM_IO);
	assert_true(storm->irq.intx_asserted);
	bar_w(storm, 0, SIM_LEG_IMR, 4, SIM_LEG_ISR_ROK << 16); /* IMR 0, ack */
	run_to(p, t0 + 10 * SIM_DEV_STORM_NS);
	assert_false(storm->irq.intx_asserted);
	sim_platform_free(p);
}

/* ------------------------------------------------------------------ */
/* GPU                                                                   */
/* ------------------------------------------------------------------ */

static void test_gpu_mirror_reads_config(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *f = m->r.gpu;
	command(f, CMD_MEM_IO);
	assert_int_equal(bar_r(f, 0, SIM_GPU_BOOT_0, 4), SIM_GPU_BOOT_0_VALUE);
	assert_int_equal(bar_r(f, 0, SIM_GPU_CFG_MIRROR + HQIO_PCI_VENDOR_ID, 2), SIM_GPU_VENDOR);
	assert_int_equal(bar_r(f, 0, SIM_GPU_CFG_MIRROR, 4),
			 (uint32_t)SIM_GPU_DEVICE << 16 | SIM_GPU_VENDOR);
	assert_int_equal(bar_r(f, 0, SIM_GPU_CFG_MIRROR + HQIO_PCI_COMMAND, 2), CMD_MEM_IO);
	machine_free(m);
}

static void test_gpu_mirror_writes_reach_config(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *f = m->r.gpu;
	command(f, HQIO_PCI_COMMAND_MEMORY);
	bar_w(f, 0, SIM_GPU_CFG_MIRROR + HQIO_PCI_COMMAND, 2,
	      HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	assert_int_equal(cfg_r(f, HQIO_PCI_COMMAND, 2),
			 HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	/* Same write semantics: read-only bits stay, BAR masks apply. */
	bar_w(f, 0, SIM_GPU_CFG_MIRROR + HQIO_PCI_BASE_ADDRESS_0, 4, 0xffffffffu);
	assert_int_equal(cfg_r(f, HQIO_PCI_BASE_ADDRESS_0, 4), 0xff000000u);
	bar_w(f, 0, SIM_GPU_CFG_MIRROR + HQIO_PCI_VENDOR_ID, 2, 0x1234);
	assert_int_equal(cfg_r(f, HQIO_PCI_VENDOR_ID, 2), SIM_GPU_VENDOR);
	/* And side effects: turning Memory off through the mirror ends decode. */
	bar_w(f, 0, SIM_GPU_CFG_MIRROR + HQIO_PCI_COMMAND, 2, 0);
	assert_int_equal(bar_r(f, 0, SIM_GPU_BOOT_0, 4), 0xffffffffu);
	machine_free(m);
}

static void test_gpu_stolen_base_from_host_bridge(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *f = m->r.gpu;
	command(f, CMD_MEM_IO);
	assert_int_equal(bar_r(f, 0, SIM_GPU_STOLEN_STATUS, 4), 0);
	/* What the driver must do: read 00:00.0 register 0x9c. */
	uint16_t tolud = (uint16_t)bdf_r(m->p, 0, 0, 0, SIM_GPU_HB_TOLUD, 2);
	uint32_t base = sim_gpu_stolen_base(tolud);
	assert_int_equal(base, 0x80000000u - SIM_GPU_STOLEN_SIZE); /* 2 GiB of low memory */
	bar_w(f, 0, SIM_GPU_STOLEN_BASE, 4, base);
	assert_int_equal(bar_r(f, 0, SIM_GPU_STOLEN_STATUS, 4), 1);
	/* A driver shown another host bridge (1 GiB) computes a wrong base. */
	bar_w(f, 0, SIM_GPU_STOLEN_BASE, 4, sim_gpu_stolen_base(0x4000));
	assert_int_equal(bar_r(f, 0, SIM_GPU_STOLEN_STATUS, 4), 2);
	machine_free(m);
}

/* ------------------------------------------------------------------ */
/* edu                                                                   */
/* ------------------------------------------------------------------ */

static struct sim_fn *edu_alone(struct sim_platform *p, unsigned faults)
{
	struct sim_fn *f = sim_dev_edu(p, NULL, 0x10, 0, faults);
	assert_non_null(f);
	sim_enumerate(p);
	return f;
}

static void test_edu_registers(void **state)
{
	(void)state;
	struct machine *m = machine_new();
	struct sim_fn *f = m->r.edu;
	command(f, CMD_MEM_IO);
	assert_int_equal(bar_r(f, 0, SIM_EDU_ID, 4), SIM_EDU_ID_VALUE);
	bar_w(f, 0, SIM_EDU_LIVENESS, 4, 0x12345678);
	assert_int_equal(bar_r(f, 0, SIM_EDU_LIVENESS, 4), ~0x12345678u);
	bar_w(f, 0, SIM_EDU_FACTORIAL, 4, 10);
	assert_int_equal(bar_r(f, 0, SIM_EDU_FACTORIAL, 4), 3628800);
	bar_w(f, 0, SIM_EDU_DMA_SRC, 8, 0x123456789aULL);
	assert_int_equal(bar_r(f, 0, SIM_EDU_DMA_SRC, 8), 0x123456789aULL);
	machine_free(m);
}

/* Fill the edu buffer with 0x5a.. and queue an edu -> RAM transfer of n
 * bytes to IOVA, with the completion interrupt. */
static void edu_queue(struct sim_fn *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i += 4)
		bar_w(f, 0, SIM_EDU_BUF + i, 4, 0x5a5a5a5au);
	bar_w(f, 0, SIM_EDU_DMA_SRC, 8, SIM_EDU_BUF);
	bar_w(f, 0, SIM_EDU_DMA_DST, 8, IOVA);
	bar_w(f, 0, SIM_EDU_DMA_COUNT, 8, n);
	bar_w(f, 0, SIM_EDU_DMA_CMD, 4,
	      SIM_EDU_DMA_CMD_START | SIM_EDU_DMA_CMD_TO_RAM | SIM_EDU_DMA_CMD_IRQ);
	assert_true(bar_r(f, 0, SIM_EDU_DMA_CMD, 4) & SIM_EDU_DMA_CMD_START);
}

static void edu_flr(struct sim_fn *f)
{
	cfg_w(f, f->af + HQIO_PCI_AF_CTRL, 1, HQIO_PCI_AF_CTRL_FLR);
}

static void test_edu_dma_completes_after_100ms(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = edu_alone(p, 0);
	uint64_t hpa = dma_page(f, IOVA, NULL);
	command(f, CMD_ALL);
	uint64_t t0 = now(p);
	edu_queue(f, 64);
	run_to(p, t0 + SIM_EDU_DMA_NS - 1);
	assert_int_equal(mem_byte(p, hpa), 0);
	run_to(p, t0 + SIM_EDU_DMA_NS);
	assert_int_equal(mem_byte(p, hpa), 0x5a);
	assert_int_equal(mem_byte(p, hpa + 63), 0x5a);
	assert_int_equal(mem_byte(p, hpa + 64), 0);
	assert_int_equal(bar_r(f, 0, SIM_EDU_DMA_CMD, 4) & SIM_EDU_DMA_CMD_START, 0);
	assert_int_equal(bar_r(f, 0, SIM_EDU_IRQ_STATUS, 4), SIM_EDU_DMA_IRQ_VALUE);
	assert_true(f->irq.intx_asserted); /* INTx: MSI not enabled */
	sim_platform_free(p);
}

static void test_edu_dma_cancelled_by_bme_off(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = edu_alone(p, 0);
	uint64_t hpa = dma_page(f, IOVA, NULL);
	command(f, CMD_ALL);
	edu_queue(f, 64);
	command(f, CMD_MEM_IO);
	assert_int_equal(bar_r(f, 0, SIM_EDU_DMA_CMD, 4) & SIM_EDU_DMA_CMD_START, 0);
	command(f, CMD_ALL);
	run_to(p, now(p) + 2 * SIM_EDU_DMA_NS);
	assert_int_equal(mem_byte(p, hpa), 0);
	assert_int_equal(f->dma.issued + f->dma.blocked_bme, 0);
	sim_platform_free(p);
}

static void test_edu_dma_cancelled_by_reset(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = edu_alone(p, 0);
	uint64_t hpa = dma_page(f, IOVA, NULL);
	command(f, CMD_ALL);
	edu_queue(f, 64);
	d3hot_d0(f); /* PM reset, No_Soft_Reset clear */
	command(f, CMD_ALL);
	run_to(p, now(p) + 2 * SIM_EDU_DMA_NS);
	assert_int_equal(mem_byte(p, hpa), 0);
	assert_int_equal(f->dma.issued + f->dma.blocked_bme, 0);
	sim_platform_free(p);
}

static void test_edu_dma_not_issued_while_bus_reset_asserted(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *rp = sim_add_root_port(p, 0x1c, 0, 2);
	struct sim_fn *f = sim_dev_edu(p, rp, 0, 0, 0);
	assert_non_null(f);
	sim_enumerate(p);
	uint64_t hpa = dma_page(f, IOVA, NULL);
	command(f, CMD_ALL);
	uint64_t t0 = now(p);
	edu_queue(f, 64);
	run_to(p, t0 + 50 * SIM_NS_PER_MS);
	cfg_w(rp, HQIO_PCI_BRIDGE_CONTROL, 2, HQIO_PCI_BRIDGE_CTL_BUS_RESET);
	run_to(p, t0 + 2 * SIM_EDU_DMA_NS); /* the timer fires inside the reset */
	assert_true(f->in_reset);
	assert_int_equal(mem_byte(p, hpa), 0);
	cfg_w(rp, HQIO_PCI_BRIDGE_CONTROL, 2, 0);
	run_to(p, t0 + 4 * SIM_EDU_DMA_NS);
	assert_int_equal(mem_byte(p, hpa), 0);
	assert_int_equal(f->dma.issued + f->dma.blocked_bme, 0);
	sim_platform_free(p);
}

static void test_edu_dma_survives_bme_off_and_flr_then_dropped(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = edu_alone(p, SIM_FAULT_DMA_SURVIVES);
	uint64_t hpa = dma_page(f, IOVA, NULL);
	command(f, CMD_ALL);
	uint64_t t0 = now(p);
	edu_queue(f, 64);
	/* Nothing tells software a transfer is queued. */
	assert_int_equal(f->exp, 0);
	assert_int_equal(cfg_r(f, f->af + HQIO_PCI_AF_CAP, 1) & HQIO_PCI_AF_CAP_TP, 0);
	assert_int_equal(f->dma.outstanding, 0);
	run_to(p, t0 + SIM_NS_PER_MS);
	command(f, CMD_MEM_IO); /* Bus Master off */
	run_to(p, t0 + 2 * SIM_NS_PER_MS);
	uint64_t resets = f->resets;
	edu_flr(f);
	assert_int_equal(f->resets, resets + 1);
	run_to(p, t0 + SIM_EDU_DMA_NS - 1);
	assert_int_equal(f->dma.issued + f->dma.blocked_bme, 0);
	/* The timer fires: the transfer is attempted, and the platform drops
	 * it because Bus Master is off (the FLR cleared it). */
	run_to(p, t0 + SIM_EDU_DMA_NS);
	assert_int_equal(f->dma.blocked_bme, 1);
	assert_int_equal(f->dma.issued, 0);
	assert_int_equal(mem_byte(p, hpa), 0);
	sim_platform_free(p);
}

static void test_edu_dma_survives_reset_lands_where_iova_maps_now(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = edu_alone(p, SIM_FAULT_DMA_SURVIVES);
	uint64_t hpa_old = dma_page(f, IOVA, NULL);
	command(f, CMD_ALL);
	uint64_t t0 = now(p);
	edu_queue(f, 64);
	command(f, CMD_MEM_IO);
	run_to(p, t0 + SIM_NS_PER_MS);
	d3hot_d0(f); /* a reset, ready 10 ms later */
	/* The function is handed to a new owner: same IOVA, new memory. */
	int d_new;
	uint64_t hpa_new = dma_page(f, IOVA, &d_new);
	command(f, CMD_ALL);
	run_to(p, t0 + SIM_EDU_DMA_NS - 1);
	assert_int_equal(mem_byte(p, hpa_new), 0);
	run_to(p, t0 + SIM_EDU_DMA_NS);
	assert_int_equal(mem_byte(p, hpa_new), 0x5a);
	assert_int_equal(mem_byte(p, hpa_new + 63), 0x5a);
	assert_int_equal(mem_byte(p, hpa_old), 0);
	/* From before the reset: no register change, no interrupt. */
	assert_int_equal(bar_r(f, 0, SIM_EDU_IRQ_STATUS, 4), 0);
	assert_false(f->irq.intx_asserted);
	sim_platform_free(p);
}

static void test_edu_dma_waits_for_bus_master(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = edu_alone(p, SIM_FAULT_DMA_WAITS_BME);
	dma_page(f, IOVA, NULL);
	command(f, CMD_ALL);
	uint64_t t0 = now(p);
	edu_queue(f, 64);
	command(f, CMD_MEM_IO);
	run_to(p, t0 + SIM_NS_PER_MS);
	edu_flr(f);
	run_to(p, t0 + 300 * SIM_NS_PER_MS); /* timer fired long ago, FLR done */
	assert_int_equal(f->dma.issued + f->dma.blocked_bme, 0); /* held, not tried */
	int d_new;
	uint64_t hpa_new = dma_page(f, IOVA, &d_new);
	command(f, HQIO_PCI_COMMAND_MEMORY);
	assert_int_equal(mem_byte(p, hpa_new), 0);
	command(f, CMD_ALL); /* the moment Bus Master comes back */
	assert_int_equal(f->dma.issued, 1);
	assert_int_equal(mem_byte(p, hpa_new), 0x5a);
	assert_int_equal(now(p), t0 + 300 * SIM_NS_PER_MS);
	sim_platform_free(p);
}

static void test_edu_irq_storm(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = edu_alone(p, SIM_FAULT_IRQ_STORM);
	struct msi_count c;
	msi_sink(p, &c);
	command(f, CMD_ALL);
	uint64_t t0 = now(p);
	msi_enable(f, 0x70);
	run_to(p, t0 + 100 * SIM_NS_PER_US);
	assert_int_equal(c.n, 100); /* one every microsecond */
	assert_int_equal(c.last_ns, t0 + 100 * SIM_NS_PER_US);
	/* Acknowledging does not help; only a reset stops it. */
	bar_w(f, 0, SIM_EDU_IRQ_ACK, 4, 0xffffffffu);
	run_to(p, t0 + 200 * SIM_NS_PER_US);
	assert_int_equal(c.n, 200);
	edu_flr(f);
	run_to(p, t0 + 400 * SIM_NS_PER_US);
	assert_int_equal(c.n, 200);
	sim_platform_free(p);
}

static void test_edu_no_storm_when_well_behaved(void **state)
{
	(void)state;
	struct sim_platform *p = plat_new();
	struct sim_fn *f = edu_alone(p, 0);
	struct msi_count c;
	msi_sink(p, &c);
	command(f, CMD_ALL);
	msi_enable(f, 0x70);
	run_to(p, now(p) + 100 * SIM_NS_PER_US);
	assert_int_equal(c.n, 0);
	bar_w(f, 0, SIM_EDU_IRQ_RAISE, 4, 0x8);
	assert_int_equal(c.n, 1);
	run_to(p, now(p) + 100 * SIM_NS_PER_US);
	assert_int_equal(c.n, 1);
	sim_platform_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_layout),
		cmocka_unit_test(test_decode_nic),
		cmocka_unit_test(test_decode_nvme),
		cmocka_unit_test(test_decode_hda),
		cmocka_unit_test(test_decode_conventional),
		cmocka_unit_test(test_decode_gpu),
		cmocka_unit_test(test_decode_edu),
		cmocka_unit_test(test_bar_sizing),
		cmocka_unit_test(test_nic_status_reports_function_number),
		cmocka_unit_test(test_nic_icr_read_clears),
		cmocka_unit_test(test_nic_ics_raises_msi_when_unmasked),
		cmocka_unit_test(test_nic_dma_doorbell_writes_pattern),
		cmocka_unit_test(test_nic_pm_reset_clears_registers),
		cmocka_unit_test(test_nic_pm_no_reset_fault_keeps_registers),
		cmocka_unit_test(test_nvme_doorbell_shows_transactions_pending),
		cmocka_unit_test(test_nvme_flr_completes),
		cmocka_unit_test(test_nvme_flr_never_completes_fault),
		cmocka_unit_test(test_nvme_vfs_appear_with_vf_enable),
		cmocka_unit_test(test_hda_periods_at_sample_rate),
		cmocka_unit_test(test_hda_msi_once_per_period),
		cmocka_unit_test(test_hda_underrun_when_not_refilled),
		cmocka_unit_test(test_hda_no_underrun_when_driver_refills),
		cmocka_unit_test(test_legacy_intx_disable_writable_on_pci23),
		cmocka_unit_test(test_legacy_interrupt_status_only_on_pci23),
		cmocka_unit_test(test_legacy_irq_storm_reasserts_after_ack),
		cmocka_unit_test(test_gpu_mirror_reads_config),
		cmocka_unit_test(test_gpu_mirror_writes_reach_config),
		cmocka_unit_test(test_gpu_stolen_base_from_host_bridge),
		cmocka_unit_test(test_edu_registers),
		cmocka_unit_test(test_edu_dma_completes_after_100ms),
		cmocka_unit_test(test_edu_dma_cancelled_by_bme_off),
		cmocka_unit_test(test_edu_dma_cancelled_by_reset),
		cmocka_unit_test(test_edu_dma_not_issued_while_bus_reset_asserted),
		cmocka_unit_test(test_edu_dma_survives_bme_off_and_flr_then_dropped),
		cmocka_unit_test(test_edu_dma_survives_reset_lands_where_iova_maps_now),
		cmocka_unit_test(test_edu_dma_waits_for_bus_master),
		cmocka_unit_test(test_edu_irq_storm),
		cmocka_unit_test(test_edu_no_storm_when_well_behaved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
