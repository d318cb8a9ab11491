/*
 * Tests for the static DVH scanner (lib/dvh/scan*.c) on C snippets written
 * for these tests: at least one positive and one negative per rule of
 * docs/dvh-rules.md, use vs mention of the function number, identity fields
 * learned across functions, and a lexer that survives unbalanced #if
 * branches, truncated and binary input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hqio/dvh_scan.h"

static struct hqio_dvh_result scan_rules(const char *src, unsigned rules)
{
	struct hqio_dvh_result r = { 0 };
	struct hqio_dvh_opts o = { .rules = rules };
	assert_int_equal(hqio_dvh_scan_buffer(src, strlen(src), &o, &r), 0);
	return r;
}

/* Findings of one rule in src. */
static size_t count(const char *src, enum hqio_dvh_rule rule)
{
	struct hqio_dvh_result r = scan_rules(src, 0);
	size_t n = 0;
	for (size_t k = 0; k < r.n; k++)
		n += r.v[k].rule == rule;
	hqio_dvh_result_free(&r);
	return n;
}

/* The first finding of rule, copied out (line 0 if none). */
static struct hqio_dvh_finding first(const char *src, enum hqio_dvh_rule rule)
{
	struct hqio_dvh_result r = scan_rules(src, 0);
	struct hqio_dvh_finding f = { 0 };
	for (size_t k = 0; k < r.n; k++)
		if (r.v[k].rule == rule) {
			f = r.v[k];
			break;
		}
	hqio_dvh_result_free(&r);
	return f;
}

/* ---- func-number ---------------------------------------------------- */

static void test_func_number_into_mac_is_a_hole(void **state)
{
	(void)state;
	const char *src = "static void set_mac(struct pci_dev *pdev, u8 *mac)\n"
			  "{\n"
			  "\tint fn = PCI_FUNC(pdev->devfn);\n"
			  "\tmac[5] ^= fn;\n"
			  "}\n";
	struct hqio_dvh_finding f = first(src, HQIO_DVH_FUNC_NUMBER);
	assert_int_equal(f.line, 4);
	assert_string_equal(f.func, "set_mac");
	assert_string_equal(f.expr, "PCI_FUNC(pdev->devfn)");
	assert_non_null(strstr(f.why, "MAC"));
}

static void test_func_number_in_log_message_is_a_mention(void **state)
{
	(void)state;
	const char *src = "static void hello(struct pci_dev *pdev)\n"
			  "{\n"
			  "\tint fn = PCI_FUNC(pdev->devfn);\n"
			  "\tdev_info(&pdev->dev, \"function %d\\n\", fn);\n"
			  "\tnetdev_dbg(nd, \"fn %d\", PCI_FUNC(pdev->devfn));\n"
			  "\tpr_info(\"%s\\n\", pci_name(pdev));\n"
			  "}\n";
	assert_int_equal(count(src, HQIO_DVH_FUNC_NUMBER), 0);
	assert_int_equal(count(src, HQIO_DVH_BDF_IDENTITY), 0);
}

static void test_func_number_into_register_write(void **state)
{
	(void)state;
	const char *pos = "void sel(struct dev *d)\n{\n"
			  "\tu32 v = BIT(0) | PCI_FUNC(d->pdev->devfn) << 16;\n"
			  "\twritel(v, d->mmio + 0x68);\n}\n";
	const char *neg = "void sel(struct dev *d)\n{\n"
			  "\tu32 v = BIT(0) | 3 << 16;\n"
			  "\twritel(v, d->mmio + 0x68);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_FUNC_NUMBER).line, 4);
	assert_int_equal(count(neg, HQIO_DVH_FUNC_NUMBER), 0);
}

static void test_devfn_and_7_is_the_function_number(void **state)
{
	(void)state;
	const char *src = "int port_of(struct pci_dev *pdev, int *tbl)\n{\n"
			  "\treturn tbl[pdev->devfn & 7];\n}\n";
	assert_int_equal(count(src, HQIO_DVH_FUNC_NUMBER), 1);
	assert_int_equal(count(src, HQIO_DVH_BDF_IDENTITY), 0);
}

static void test_status_register_func_field_learned_across_functions(void **state)
{
	(void)state;
	/* The function id read from a status register is kept in a member;
	 * a second function uses the member to pick a semaphore. */
	const char *src = "void get_bus_info(struct hw *hw)\n{\n"
			  "\tstruct bus_info *bus = &hw->bus;\n"
			  "\tu32 reg = rd32(hw, STATUS);\n"
			  "\tbus->func = (reg & XX_STATUS_FUNC_MASK) >> 2;\n"
			  "}\n"
			  "int acquire_phy(struct hw *hw)\n{\n"
			  "\tu16 mask = hw->bus.func ? PHY1_SM : PHY0_SM;\n"
			  "\treturn acquire_swfw(hw, mask);\n}\n";
	struct hqio_dvh_result r = scan_rules(src, 1u << HQIO_DVH_FUNC_NUMBER);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].func, "get_bus_info");
	assert_int_equal(r.v[0].line, 5);
	assert_string_equal(r.v[1].func, "acquire_phy");
	assert_string_equal(r.v[1].expr, "hw->bus.func");
	/* The learned field is reported for use in other buffers. */
	int found = 0;
	for (size_t k = 0; k < r.nfields; k++)
		found |= !strcmp(r.fields[k].name, "bus.func") &&
			 (r.fields[k].kinds & HQIO_DVH_T_FUNC);
	assert_true(found);
	hqio_dvh_result_free(&r);
}

static void test_known_fields_from_other_files_are_sources(void **state)
{
	(void)state;
	const char *src = "void led(struct priv *tp)\n{\n\tif (tp->pci_fn & 1)\n"
			  "\t\tled_on(tp);\n}\n";
	struct hqio_dvh_field f = { .name = "*.pci_fn", .kinds = HQIO_DVH_T_FUNC };
	struct hqio_dvh_opts o = { .fields = &f, .nfields = 1 };
	struct hqio_dvh_result r = { 0 };
	assert_int_equal(hqio_dvh_scan_buffer(src, strlen(src), &o, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].rule, HQIO_DVH_FUNC_NUMBER);
	hqio_dvh_result_free(&r);
	/* Without the known field the same code is clean. */
	assert_int_equal(count(src, HQIO_DVH_FUNC_NUMBER), 0);
}

static void test_one_finding_per_function_counts_the_rest(void **state)
{
	(void)state;
	const char *src = "void f(struct pci_dev *pdev)\n{\n"
			  "\tint fn = PCI_FUNC(pdev->devfn);\n"
			  "\twritel(fn, a);\n\twritel(fn, b);\n\twritel(fn, c);\n}\n";
	struct hqio_dvh_result r = scan_rules(src, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].line, 4);
	assert_int_equal(r.v[0].more_uses, 2);
	hqio_dvh_result_free(&r);
}

/* ---- bdf-identity --------------------------------------------------- */

static void test_bdf_as_firmware_id_is_a_hole(void **state)
{
	(void)state;
	const char *src = "int req(struct gpu *g)\n{\n\tstruct atcs_in in;\n"
			  "\tin.client_id = g->pdev->devfn | (g->pdev->bus->number << 8);\n"
			  "\treturn acpi_call(g, &in);\n}\n";
	assert_int_equal(first(src, HQIO_DVH_BDF_IDENTITY).line, 4);
	assert_int_equal(count(src, HQIO_DVH_FUNC_NUMBER), 0);
}

static void test_own_config_access_is_not_a_hole(void **state)
{
	(void)state;
	const char *src =
		"int probe(struct pci_dev *pdev)\n{\n\tu32 v;\n"
		"\tpci_read_config_dword(pdev, 0x40, &v);\n"
		"\tpci_write_config_dword(pdev, 0x40, v | 1);\n"
		"\tpcie_capability_read_word(pdev, PCI_EXP_LNKSTA, &w);\n"
		"\tdev_info(&pdev->dev, \"at %02x:%02x\\n\", pdev->bus->number, pdev->devfn);\n"
		"\treturn pci_enable_msix_range(pdev, ent, 1, 4);\n}\n";
	struct hqio_dvh_result r = scan_rules(src, 0);
	assert_int_equal(r.n, 0);
	hqio_dvh_result_free(&r);
}

/* ---- bar-addr-to-device --------------------------------------------- */

static void test_bar_address_written_to_device(void **state)
{
	(void)state;
	const char *pos = "void cmb(struct ctrl *c, struct pci_dev *pdev)\n{\n"
			  "\tu64 a = pci_bus_address(pdev, 2) + c->off;\n"
			  "\twriteq(a | 1, c->bar + 0x50);\n}\n";
	const char *neg = "int map(struct ctrl *c, struct pci_dev *pdev)\n{\n"
			  "\tc->bar = ioremap(pci_resource_start(pdev, 0), 0x4000);\n"
			  "\treturn c->bar ? 0 : -ENOMEM;\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_BAR_ADDR_TO_DEVICE).line, 4);
	assert_int_equal(count(neg, HQIO_DVH_BAR_ADDR_TO_DEVICE), 0);
}

/* The BAR address stays an address through lower_32_bits()/upper_32_bits()
 * and is remembered in a "parent.base" member (generic name under a
 * specific parent), then written to the device in another function. */
static void test_bar_address_through_member_and_halves(void **state)
{
	(void)state;
	const char *init = "void db_init(struct adev *adev)\n{\n"
			   "\tadev->doorbell.base = pci_resource_start(adev->pdev, 2);\n}\n";
	const char *use = "void selfring(struct adev *adev)\n{\n"
			  "\tWREG32_PCIE(REG_APER_LOW, lower_32_bits(adev->doorbell.base));\n}\n";
	/* Learn from the first buffer, scan the second with the learned fields. */
	struct hqio_dvh_result l = { 0 };
	struct hqio_dvh_opts lo = { .learn_only = 1 };
	assert_int_equal(hqio_dvh_scan_buffer(init, strlen(init), &lo, &l), 0);
	struct hqio_dvh_opts o = { .fields = l.fields, .nfields = l.nfields };
	struct hqio_dvh_result r = { 0 };
	assert_int_equal(hqio_dvh_scan_buffer(use, strlen(use), &o, &r), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].rule, HQIO_DVH_BAR_ADDR_TO_DEVICE);
	assert_int_equal(r.v[0].line, 3);
	hqio_dvh_result_free(&r);
	hqio_dvh_result_free(&l);
	/* Negative: without the learned field the same write is clean, and a
	 * generic member under a generic parent ("bus->base") teaches nothing. */
	assert_int_equal(count(use, HQIO_DVH_BAR_ADDR_TO_DEVICE), 0);
	const char *generic = "void a(struct hb *bus, struct pci_dev *pdev)\n{\n"
			      "\tbus->base = pci_resource_start(pdev, 0);\n}\n";
	struct hqio_dvh_result g = { 0 };
	assert_int_equal(hqio_dvh_scan_buffer(generic, strlen(generic), &lo, &g), 0);
	for (size_t k = 0; k < g.nfields; k++) {
		size_t nl = strlen(g.fields[k].name);
		assert_false(nl >= 5 && !strcmp(g.fields[k].name + nl - 5, ".base"));
	}
	hqio_dvh_result_free(&g);
}

/* BAR addresses read from the BAR register or converted to a bus address. */
static void test_bar_address_from_bar_register_and_resource_to_bus(void **state)
{
	(void)state;
	const char *pos = "void fw(struct nic *n, struct pci_dev *pdev)\n{\n\tu32 bar;\n"
			  "\tpci_read_config_dword(pdev, PCI_BASE_ADDRESS_2, &bar);\n"
			  "\twritel(bar & ~0xf, n->regs + MBOX_DB_BASE);\n}\n";
	const char *pos2 = "void fw2(struct nic *n, struct pci_dev *pdev)\n{\n"
			   "\tstruct pci_bus_region region;\n"
			   "\tpcibios_resource_to_bus(pdev->bus, &region, &pdev->resource[2]);\n"
			   "\twr32(n, MBOX_DB_BASE, upper_32_bits(region.start));\n}\n";
	const char *pos3 = "void fw3(struct nic *n, struct pci_dev *pdev)\n{\n"
			   "\tiowrite32(pdev->resource[0].start, n->regs + 8);\n}\n";
	/* Negative: an ordinary config register read and written back is no
	 * BAR address; nor is a mapped pointer derived from the BAR. */
	const char *neg = "void cfg(struct nic *n, struct pci_dev *pdev)\n{\n\tu32 v;\n"
			  "\tpci_read_config_dword(pdev, PCI_COMMAND, &v);\n"
			  "\twritel(v, n->regs + 4);\n"
			  "\tvoid *p = ioremap(pci_resource_start(pdev, 0), 64);\n"
			  "\twritel(1, p);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_BAR_ADDR_TO_DEVICE).line, 5);
	assert_int_equal(first(pos2, HQIO_DVH_BAR_ADDR_TO_DEVICE).line, 5);
	assert_int_equal(first(pos3, HQIO_DVH_BAR_ADDR_TO_DEVICE).line, 3);
	assert_int_equal(count(neg, HQIO_DVH_BAR_ADDR_TO_DEVICE), 0);
}

/* ---- foreign-cfg ---------------------------------------------------- */

static void test_host_bridge_config_read_is_foreign(void **state)
{
	(void)state;
	const char *pos = "u32 stolen(struct drm *d)\n{\n\tu32 v;\n"
			  "\tstruct pci_dev *br = pci_get_domain_bus_and_slot(0, 0, 0);\n"
			  "\tpci_read_config_dword(br, 0x48, &v);\n"
			  "\treturn v;\n}\n";
	struct hqio_dvh_finding f = first(pos, HQIO_DVH_FOREIGN_CFG);
	assert_int_equal(f.line, 4);
	assert_string_equal(f.func, "stolen");
}

static void test_parent_bridge_capability_write_is_foreign(void **state)
{
	(void)state;
	const char *pos = "void aspm(struct pci_dev *pdev)\n{\n"
			  "\tstruct pci_dev *root = pdev->bus->self;\n"
			  "\tpcie_capability_set_word(root, PCI_EXP_LNKCTL, 1);\n}\n";
	const char *neg = "void aspm(struct pci_dev *pdev)\n{\n"
			  "\tpcie_capability_set_word(pdev, PCI_EXP_LNKCTL, 1);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_FOREIGN_CFG).line, 4);
	assert_int_equal(count(neg, HQIO_DVH_FOREIGN_CFG), 0);
}

/* ---- chipset-mmio --------------------------------------------------- */

static void test_fixed_physical_address_mapped(void **state)
{
	(void)state;
	const char *pos = "void *hpet(void)\n{\n\treturn ioremap(0xfed00000, 0x400);\n}\n";
	const char *neg = "void *regs(struct pci_dev *pdev)\n{\n"
			  "\treturn ioremap(pci_resource_start(pdev, 0), 0x400);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_CHIPSET_MMIO).line, 3);
	assert_int_equal(count(neg, HQIO_DVH_CHIPSET_MMIO), 0);
}

static void test_window_base_from_host_bridge_config_mapped(void **state)
{
	(void)state;
	const char *src = "void *mch(void)\n{\n\tu32 base;\n"
			  "\tstruct pci_dev *hb = pci_get_slot(bus0, 0);\n"
			  "\tpci_read_config_dword(hb, 0x48, &base);\n"
			  "\treturn ioremap(base & ~1, 0x8000);\n}\n";
	assert_int_equal(first(src, HQIO_DVH_CHIPSET_MMIO).line, 6);
}

static void test_mchbar_mirror_register_through_macro(void **state)
{
	(void)state;
	const char *pos = "#define MCHBAR_MIRROR_BASE 0x140000\n"
			  "#define MY_DRAM_CFG (MCHBAR_MIRROR_BASE + 0x5000)\n"
			  "u32 dram(struct gpu *g)\n{\n\treturn gpu_read32(g, MY_DRAM_CFG);\n}\n";
	const char *neg = "#define MY_DRAM_CFG (0x5000)\n"
			  "u32 dram(struct gpu *g)\n{\n\treturn gpu_read32(g, MY_DRAM_CFG);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_CHIPSET_MMIO).line, 5);
	assert_int_equal(count(neg, HQIO_DVH_CHIPSET_MMIO), 0);
}

/* Platform addresses that are not BARs: the shadow ROM (pdev->rom,
 * pci_platform_rom()) and a firmware region whose address the device's
 * vendor-specific config register publishes (ASLS-like). */
static void test_platform_rom_and_firmware_region_mapped(void **state)
{
	(void)state;
	const char *rom = "bool prom(struct gpu *g)\n{\n\tphys_addr_t rom = g->pdev->rom;\n"
			  "\tvoid *b = ioremap(rom, g->pdev->romlen);\n\treturn b;\n}\n";
	const char *rom2 = "void *p2(struct pci_dev *pdev)\n{\n\tsize_t n;\n"
			   "\treturn ioremap(pci_platform_rom(pdev, &n), n);\n}\n";
	const char *asls = "int op(struct pci_dev *pdev)\n{\n\tu32 asls;\n"
			   "\tpci_read_config_dword(pdev, ASLS, &asls);\n"
			   "\tbase = memremap(asls, 8192, MEMREMAP_WB);\n\treturn 0;\n}\n";
	/* Negative: the device's own BAR (read through the PCI core) mapped,
	 * and a vendor config value that is never mapped. */
	const char *neg = "int own(struct pci_dev *pdev)\n{\n\tu32 v;\n"
			  "\tpci_read_config_dword(pdev, VENDOR_CTL, &v);\n"
			  "\tg->regs = ioremap(pci_resource_start(pdev, 0), 64);\n"
			  "\treturn v & 1;\n}\n";
	assert_int_equal(first(rom, HQIO_DVH_CHIPSET_MMIO).line, 4);
	assert_int_equal(first(rom2, HQIO_DVH_CHIPSET_MMIO).line, 4);
	assert_int_equal(first(asls, HQIO_DVH_CHIPSET_MMIO).line, 5);
	assert_int_equal(count(neg, HQIO_DVH_CHIPSET_MMIO), 0);
}

/* A BAR of another device (here the LPC bridge found by id) mapped: chipset
 * MMIO; the driver's own BAR is not (negative in the test above). */
static void test_foreign_device_bar_mapped(void **state)
{
	(void)state;
	const char *pos = "void *lpc(void)\n{\n"
			  "\tstruct pci_dev *b = pci_get_device(0x8086, 0x2410, NULL);\n"
			  "\treturn ioremap(pci_resource_start(b, 0), 0x1000);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_CHIPSET_MMIO).line, 4);
	assert_int_equal(count(pos, HQIO_DVH_BAR_ADDR_TO_DEVICE), 0);
}

/* ---- raw-cfg-io ----------------------------------------------------- */

static void test_raw_cf8_access(void **state)
{
	(void)state;
	const char *pos = "u32 peek(u32 addr)\n{\n\toutl(0x80000000 | addr, 0xcf8);\n"
			  "\treturn inl(0xCFC);\n}\n";
	const char *neg = "void poke(struct chip *c, u8 v)\n{\n\toutb(v, c->port + 2);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_RAW_CFG_IO).line, 3);
	assert_int_equal(count(neg, HQIO_DVH_RAW_CFG_IO), 0);
	const char *vga = "void off(void)\n{\n\toutb(1, VGA_SEQ_I);\n}\n";
	assert_int_equal(first(vga, HQIO_DVH_RAW_CFG_IO).line, 3);
}

/* ---- nosnoop -------------------------------------------------------- */

static void test_nosnoop_enable_cleared(void **state)
{
	(void)state;
	const char *pos = "void rst(struct pci_dev *pdev)\n{\n"
			  "\tpcie_capability_clear_word(pdev, PCI_EXP_DEVCTL,\n"
			  "\t\t\t\t   PCI_EXP_DEVCTL_NOSNOOP_EN);\n}\n";
	const char *neg = "int ok(struct gpu *g)\n{\n\tif (!HAS_SNOOP(g))\n"
			  "\t\treturn 0;\n\treturn 1;\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_NOSNOOP).line, 3);
	assert_int_equal(count(neg, HQIO_DVH_NOSNOOP), 0);
}

/* Device-specific snoop controls assigned into a value the driver writes
 * (IH ring NONSNOOP enables, page-table snooped bits); LTR latency fields
 * for no-snoop requests and lower-case variables named snoop are not. */
static void test_device_snoop_control_values(void **state)
{
	(void)state;
	const char *pos = "void ih(struct adev *adev)\n{\n\tu32 c = RREG32(mmINTERRUPT_CNTL);\n"
			  "\tc &= ~IH_REQ_NONSNOOP_EN;\n\tWREG32(mmINTERRUPT_CNTL, c);\n}\n";
	const char *pte = "u64 pte(u64 addr, u32 f)\n{\n\tif (!(f & 1))\n"
			  "\t\taddr |= R300_PTE_UNSNOOPED;\n\treturn addr;\n}\n";
	const char *neg = "void ltr(struct hw *hw, u32 lat)\n{\n\tbool snoop = false;\n"
			  "\tu32 reg = lat | (lat << E1000_LTRV_SNOOP_SHIFT);\n"
			  "\tsnoop = true;\n\tew32(LTRV, reg);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_NOSNOOP).line, 4);
	assert_int_equal(first(pte, HQIO_DVH_NOSNOOP).line, 4);
	assert_int_equal(count(neg, HQIO_DVH_NOSNOOP), 0);
}

/* ---- memtype -------------------------------------------------------- */

static void test_set_memory_uc_on_ram(void **state)
{
	(void)state;
	const char *pos = "int gart(struct gpu *g)\n{\n\tg->ptr = alloc(g->size);\n"
			  "\tset_memory_uc((unsigned long)g->ptr, g->size >> 12);\n"
			  "\treturn 0;\n}\n";
	const char *neg = "int fb(struct gpu *g, struct pci_dev *pdev)\n{\n"
			  "\tg->fb = ioremap_wc(pci_resource_start(pdev, 2), g->len);\n"
			  "\treturn 0;\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_MEMTYPE).line, 4);
	assert_int_equal(count(neg, HQIO_DVH_MEMTYPE), 0);
	/* TTM caching of RAM pages is a memory type; of a BAR (bus.caching) not. */
	const char *tt = "struct tt *mk(struct bo *bo)\n{\n\tenum ttm_caching c = ttm_cached;\n"
			 "\tif (bo->wc)\n\t\tc = ttm_write_combined;\n\treturn tt_new(bo, c);\n}\n";
	const char *io = "void io(struct res *mem)\n{\n"
			 "\tmem->bus.caching = ttm_write_combined;\n}\n";
	assert_int_equal(first(tt, HQIO_DVH_MEMTYPE).line, 5);
	assert_int_equal(count(io, HQIO_DVH_MEMTYPE), 0);
}

/* ---- cfg-mirror ----------------------------------------------------- */

/* GEM buffer flags choosing write-combined GTT pages, as an argument or an
 * assigned value; cached flags are not a memory-type change. */
static void test_gem_wc_flags(void **state)
{
	(void)state;
	const char *arg = "int pool(struct rdev *rdev)\n{\n"
			  "\treturn sa_init(rdev, &rdev->sa, SZ, RADEON_GEM_GTT_WC);\n}\n";
	const char *asg = "void kfd(struct bp *bp)\n{\n"
			  "\tbp->flags = AMDGPU_GEM_CREATE_CPU_GTT_USWC;\n}\n";
	const char *neg = "void kfd(struct bp *bp)\n{\n"
			  "\tbp->flags = AMDGPU_GEM_CREATE_CPU_ACCESS_REQUIRED;\n"
			  "\tsa_init(bp, 0, SZ, RADEON_GEM_DOMAIN_GTT);\n}\n";
	assert_int_equal(first(arg, HQIO_DVH_MEMTYPE).line, 3);
	assert_int_equal(first(asg, HQIO_DVH_MEMTYPE).line, 3);
	assert_int_equal(count(neg, HQIO_DVH_MEMTYPE), 0);
}

static void test_config_space_through_bar_window(void **state)
{
	(void)state;
	const char *pos = "u32 id(struct nic *bp)\n{\n"
			  "\treturn REG_RD(bp, PCICFG_OFFSET + 0x2c);\n}\n";
	/* Defined, mentioned in a message, never accessed. */
	const char *neg = "#define PCICFG_OFFSET 0x2000\n"
			  "void id(struct nic *bp)\n{\n"
			  "\tBNX2X_ERR(\"window at %x\\n\", PCICFG_OFFSET);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_CFG_MIRROR).line, 3);
	assert_int_equal(count(neg, HQIO_DVH_CFG_MIRROR), 0);
}

static void test_nvidia_mirror_address_only_as_register_address(void **state)
{
	(void)state;
	const char *pos = "u32 cfg_rd(struct nv *d, u16 a)\n{\n"
			  "\treturn nv_rd32(d, 0x088000 + a);\n}\n";
	/* The same number as a value written elsewhere is not an access. */
	const char *neg = "void x(struct nv *d)\n{\n\tnv_mask(d, 0x1110e0, 0x00088000, 0);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_CFG_MIRROR).line, 3);
	assert_int_equal(count(neg, HQIO_DVH_CFG_MIRROR), 0);
	/* Another vendor's register 0x1895 is not NVIDIA's mirror. */
	const char *other = "void phy(struct hw *hw)\n{\n\tphy_write(hw, 0x1895, 3);\n}\n";
	assert_int_equal(count(other, HQIO_DVH_CFG_MIRROR), 0);
	/* nouveau's config accessors are mirror accesses wherever called. */
	const char *acc = "u8 spd(struct nvkm_pci *pci)\n{\n"
			  "\treturn nvkm_pci_rd32(pci, 0xa8) & 3;\n}\n";
	assert_int_equal(first(acc, HQIO_DVH_CFG_MIRROR).line, 3);
}

/* ---- msix-backdoor -------------------------------------------------- */

static void test_msix_table_written_directly(void **state)
{
	(void)state;
	const char *pos = "void vec(void __iomem *t, struct msi_msg *m)\n{\n"
			  "\twritel(m->data, t + PCI_MSIX_ENTRY_DATA);\n}\n";
	const char *neg = "int vec(struct pci_dev *pdev, struct msix_entry *e)\n{\n"
			  "\treturn pci_enable_msix_range(pdev, e, 1, 8);\n}\n";
	assert_int_equal(first(pos, HQIO_DVH_MSIX_BACKDOOR).line, 3);
	assert_int_equal(count(neg, HQIO_DVH_MSIX_BACKDOOR), 0);
}

/* ---- lexer and function splitting ----------------------------------- */

static void test_unbalanced_if_branches_keep_functions_apart(void **state)
{
	(void)state;
	const char *src = "void f(struct pci_dev *pdev, u8 *mac)\n"
			  "{\n"
			  "#ifdef CONFIG_A\n"
			  "\tif (a) {\n"
			  "#else\n"
			  "\tif (b) {\n"
			  "#endif\n"
			  "\t\tmac[0] ^= PCI_FUNC(pdev->devfn); /* use */\n"
			  "\t}\n"
			  "}\n"
			  "#if 0\n"
			  "void dead(void) { writel(PCI_FUNC(p->devfn), r); }\n"
			  "#endif\n"
			  "#define M(x) \\\n"
			  "\tdo { writel(PCI_FUNC(x), r); } while (0)\n"
			  "static const char *s = \"writel(PCI_FUNC(p->devfn), r); {\";\n"
			  "void g(struct q *p)\n{\n\twritel(PCI_FUNC(p->devfn), r);\n}\n";
	struct hqio_dvh_result r = scan_rules(src, 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].func, "f");
	assert_int_equal(r.v[0].line, 8);
	assert_string_equal(r.v[1].func, "g");
	assert_int_equal(r.v[1].line, 19);
	hqio_dvh_result_free(&r);
}

static void test_rules_filter(void **state)
{
	(void)state;
	const char *src = "void f(struct pci_dev *pdev)\n{\n"
			  "\twritel(PCI_FUNC(pdev->devfn), r);\n\tset_memory_uc(a, 1);\n}\n";
	struct hqio_dvh_result r = scan_rules(src, 1u << HQIO_DVH_MEMTYPE);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].rule, HQIO_DVH_MEMTYPE);
	hqio_dvh_result_free(&r);
}

static void test_rule_names_round_trip(void **state)
{
	(void)state;
	for (int k = 0; k < HQIO_DVH_RULE_COUNT; k++) {
		const char *n = hqio_dvh_rule_name(k);
		assert_non_null(n);
		assert_int_equal(hqio_dvh_rule_parse(n, strlen(n)), k);
		assert_non_null(hqio_dvh_rule_summary(k));
	}
	assert_null(hqio_dvh_rule_name(HQIO_DVH_RULE_COUNT));
	assert_int_equal(hqio_dvh_rule_parse("func", 4), -1);
}

static void test_every_prefix_and_garbage_is_tolerated(void **state)
{
	(void)state;
	const char *src = "void f(struct pci_dev *pdev, u8 *mac)\n{\n#if X\n\tif (a) {\n"
			  "#endif\n\tchar c = '\\'';\n\tmac[5] ^= PCI_FUNC(pdev->devfn) \"x\n"
			  "}}}} ((( [[[ /* unterminated";
	size_t len = strlen(src);
	for (size_t n = 0; n <= len; n++) {
		char *copy = malloc(n ? n : 1); /* exact size: ASan catches over-reads */
		assert_non_null(copy);
		memcpy(copy, src, n);
		struct hqio_dvh_result r = { 0 };
		assert_int_equal(hqio_dvh_scan_buffer(copy, n, NULL, &r), 0);
		hqio_dvh_result_free(&r);
		free(copy);
	}
	unsigned char junk[4096];
	uint32_t x = 12345;
	for (size_t k = 0; k < sizeof(junk); k++) {
		x = x * 1103515245u + 12345u;
		junk[k] = (unsigned char)(x >> 16);
	}
	struct hqio_dvh_result r = { 0 };
	assert_int_equal(hqio_dvh_scan_buffer((const char *)junk, sizeof(junk), NULL, &r), 0);
	hqio_dvh_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_func_number_into_mac_is_a_hole),
		cmocka_unit_test(test_func_number_in_log_message_is_a_mention),
		cmocka_unit_test(test_func_number_into_register_write),
		cmocka_unit_test(test_devfn_and_7_is_the_function_number),
		cmocka_unit_test(test_status_register_func_field_learned_across_functions),
		cmocka_unit_test(test_known_fields_from_other_files_are_sources),
		cmocka_unit_test(test_one_finding_per_function_counts_the_rest),
		cmocka_unit_test(test_bdf_as_firmware_id_is_a_hole),
		cmocka_unit_test(test_own_config_access_is_not_a_hole),
		cmocka_unit_test(test_bar_address_written_to_device),
		cmocka_unit_test(test_bar_address_through_member_and_halves),
		cmocka_unit_test(test_bar_address_from_bar_register_and_resource_to_bus),
		cmocka_unit_test(test_platform_rom_and_firmware_region_mapped),
		cmocka_unit_test(test_device_snoop_control_values),
		cmocka_unit_test(test_foreign_device_bar_mapped),
		cmocka_unit_test(test_gem_wc_flags),
		cmocka_unit_test(test_host_bridge_config_read_is_foreign),
		cmocka_unit_test(test_parent_bridge_capability_write_is_foreign),
		cmocka_unit_test(test_fixed_physical_address_mapped),
		cmocka_unit_test(test_window_base_from_host_bridge_config_mapped),
		cmocka_unit_test(test_mchbar_mirror_register_through_macro),
		cmocka_unit_test(test_raw_cf8_access),
		cmocka_unit_test(test_nosnoop_enable_cleared),
		cmocka_unit_test(test_set_memory_uc_on_ram),
		cmocka_unit_test(test_config_space_through_bar_window),
		cmocka_unit_test(test_nvidia_mirror_address_only_as_register_address),
		cmocka_unit_test(test_msix_table_written_directly),
		cmocka_unit_test(test_unbalanced_if_branches_keep_functions_apart),
		cmocka_unit_test(test_rules_filter),
		cmocka_unit_test(test_rule_names_round_trip),
		cmocka_unit_test(test_every_prefix_and_garbage_is_tolerated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
