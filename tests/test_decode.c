/*
 * Decoder tests: configuration images built in code for the device kinds
 * hqio meets (NIC-like, NVMe-like with SR-IOV, conventional INTx-only,
 * type 1 bridge, multi-function), every decoded field asserted; then the
 * malformed images (loops, pointers into the header or past the end,
 * truncation, all-ones) and SR-IOV VF recognition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "hqio/cfgbuild.h"
#include "hqio/pci.h"

static struct hqio_pci_info *info_new(void)
{
	struct hqio_pci_info *i = calloc(1, sizeof(*i));
	assert_non_null(i);
	return i;
}

/* ---- device builders -------------------------------------------- */

/* e1000e-like: PM (NoSoftRst-), MSI 64-bit, PCIe v2 endpoint without FLR,
 * MSI-X 5 entries, AER + DSN extended capabilities. */
static void build_nic(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x8086, 0x10d3, 0x020000, 0x00);
	hqio_cfgb_w16(b, 0x04, 0x0507); /* IO MEM MASTER INTX_DISABLE */
	hqio_cfgb_w8(b, 0x08, 0x00);
	hqio_cfgb_w32(b, 0x10, 0xfebc0000); /* BAR0 mem32 */
	hqio_cfgb_w32(b, 0x14, 0xfeb00000); /* BAR1 mem32 */
	hqio_cfgb_w32(b, 0x18, 0x0000c001); /* BAR2 io 0xc000 */
	hqio_cfgb_w32(b, 0x1c, 0xfebd0008); /* BAR3 mem32 prefetchable */
	hqio_cfgb_w16(b, 0x2c, 0x8086);
	hqio_cfgb_w16(b, 0x2e, 0x0000);
	hqio_cfgb_w32(b, 0x30, 0xfeb40001); /* ROM enabled */
	hqio_cfgb_w8(b, 0x3c, 11);
	hqio_cfgb_w8(b, 0x3d, 1);	    /* INTA */
	hqio_cfgb_cap(b, 0xc8, 0x01);	    /* PM */
	hqio_cfgb_w16(b, 0xca, 0xc823);	    /* v3, D1-, D2-, PME from D3hot+D3cold */
	hqio_cfgb_w16(b, 0xcc, 0x0000);	    /* D0, NoSoftRst- */
	hqio_cfgb_cap(b, 0xd0, 0x05);	    /* MSI */
	hqio_cfgb_w16(b, 0xd2, 0x0080);	    /* 64-bit, 1 vector, disabled */
	hqio_cfgb_cap(b, 0xe0, 0x10);	    /* PCIe */
	hqio_cfgb_w16(b, 0xe2, 0x0002);	    /* v2, endpoint */
	hqio_cfgb_w32(b, 0xe4, 0x00008cc1); /* MPS 256 supported, no FLR */
	hqio_cfgb_w16(b, 0xe8, 0x2810);	    /* RO+, MPS 128, NoSnoop+, MRRS 512 */
	hqio_cfgb_w16(b, 0xea, 0x0000);
	hqio_cfgb_w32(b, 0xec, 0x00000c11);  /* 2.5GT/s x1 */
	hqio_cfgb_w16(b, 0xf2, 0x0011);	     /* 2.5GT/s x1 */
	hqio_cfgb_cap(b, 0xa0, 0x11);	     /* MSI-X */
	hqio_cfgb_w16(b, 0xa2, 0x0004);	     /* 5 entries */
	hqio_cfgb_w32(b, 0xa4, 0x00000003);  /* table BAR3 + 0 */
	hqio_cfgb_w32(b, 0xa8, 0x00002003);  /* PBA BAR3 + 0x2000 */
	hqio_cfgb_ext(b, 0x100, 0x0001, 1);  /* AER */
	hqio_cfgb_w32(b, 0x104, 0x00100000); /* uncorrectable status: UR */
	hqio_cfgb_ext(b, 0x140, 0x0003, 1);  /* DSN */
	hqio_cfgb_w32(b, 0x144, 0x12345678);
	hqio_cfgb_w32(b, 0x148, 0x9abcdef0);
}

/* QEMU-nvme-like PF: PM NoSoftRst+, MSI-X 65, PCIe FLR+, SR-IOV with 2 of 8
 * VFs enabled (offset 1, stride 1, VF device 0x0011), ATS enabled, ARI. */
static void build_nvme(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x1b36, 0x0010, 0x010802, 0x00);
	hqio_cfgb_w16(b, 0x04, 0x0006);
	hqio_cfgb_w8(b, 0x08, 0x02);
	hqio_cfgb_w32(b, 0x10, 0xfe800004); /* BAR0 mem64 low */
	hqio_cfgb_w32(b, 0x14, 0x00000001); /* upper: 0x1_fe800000 */
	hqio_cfgb_w8(b, 0x3d, 1);
	hqio_cfgb_cap(b, 0x40, 0x01);
	hqio_cfgb_w16(b, 0x42, 0x0003);
	hqio_cfgb_w16(b, 0x44, 0x0008); /* NoSoftRst+ */
	hqio_cfgb_cap(b, 0x60, 0x11);
	hqio_cfgb_w16(b, 0x62, 0x8040);	    /* enabled, 65 entries */
	hqio_cfgb_w32(b, 0x64, 0x00002000); /* table BAR0 + 0x2000 */
	hqio_cfgb_w32(b, 0x68, 0x00003000);
	hqio_cfgb_cap(b, 0x80, 0x10);
	hqio_cfgb_w16(b, 0x82, 0x0002);
	hqio_cfgb_w32(b, 0x84, 0x10008000); /* FLR+ */
	hqio_cfgb_w16(b, 0x88, 0x5020);	    /* MPS 256, MRRS 4096 encoding 5 */
	hqio_cfgb_w16(b, 0x8a, 0x0020);	    /* Transactions Pending */
	hqio_cfgb_w32(b, 0x8c, 0x00100c43); /* 8GT/s x4, DLLLA reporting */
	hqio_cfgb_w16(b, 0x92, 0x2043);	    /* 8GT/s x4, DLLLA */
	hqio_cfgb_ext(b, 0x100, 0x0010, 1); /* SR-IOV */
	hqio_cfgb_w16(b, 0x108, 0x0019);    /* VFE, MSE, ARI hierarchy */
	hqio_cfgb_w16(b, 0x10c, 8);
	hqio_cfgb_w16(b, 0x10e, 8);
	hqio_cfgb_w16(b, 0x110, 2);
	hqio_cfgb_w16(b, 0x114, 1);
	hqio_cfgb_w16(b, 0x116, 1);
	hqio_cfgb_w16(b, 0x11a, 0x0011);
	hqio_cfgb_ext(b, 0x140, 0x000f, 1); /* ATS */
	hqio_cfgb_w16(b, 0x146, 0x8000);    /* enabled */
	hqio_cfgb_ext(b, 0x148, 0x000e, 1); /* ARI */
	hqio_cfgb_w16(b, 0x14c, 0x0000);
}

/* rtl8139-like conventional device: no capability list, INTx only. */
static void build_conventional(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x10ec, 0x8139, 0x020000, 0x00);
	hqio_cfgb_w16(b, 0x04, 0x0003);
	hqio_cfgb_w8(b, 0x08, 0x20);
	hqio_cfgb_w32(b, 0x10, 0x0000c101); /* IO 0xc100 */
	hqio_cfgb_w32(b, 0x14, 0xfebf1000); /* mem32 */
	hqio_cfgb_w8(b, 0x3c, 10);
	hqio_cfgb_w8(b, 0x3d, 1);
}

/* PCIe root port: type 1, buses 0/1/1, PCIe v2 root port with slot, link
 * 8GT/s x4 with DLLLA, Root Control CRS SV enabled, ACS isolating. */
static void build_root_port(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0x8086, 0x7c10, 0x060400, 0x01);
	hqio_cfgb_w16(b, 0x04, 0x0407);
	hqio_cfgb_w8(b, 0x18, 0x00);
	hqio_cfgb_w8(b, 0x19, 0x01);
	hqio_cfgb_w8(b, 0x1a, 0x01);
	hqio_cfgb_w32(b, 0x10, 0xfe000000); /* BAR0 mem32 */
	hqio_cfgb_w16(b, 0x3e, 0x0040);	    /* Secondary Bus Reset asserted */
	hqio_cfgb_cap(b, 0x40, 0x10);
	hqio_cfgb_w16(b, 0x42, 0x0142);	    /* v2, root port, slot */
	hqio_cfgb_w32(b, 0x4c, 0x00100043); /* 8GT/s x4, DLLLA reporting */
	hqio_cfgb_w16(b, 0x52, 0x2043);
	hqio_cfgb_w16(b, 0x5c, 0x0010);	    /* Root Control CRSSVE */
	hqio_cfgb_w16(b, 0x5e, 0x0001);	    /* Root Cap CRS visibility */
	hqio_cfgb_ext(b, 0x100, 0x000d, 1); /* ACS */
	hqio_cfgb_w16(b, 0x104, 0x005f);
	hqio_cfgb_w16(b, 0x106, 0x001d); /* SV RR CR UF */
}

/* Function 0 of a multi-function conventional device with AF (TP+ FLR+). */
static void build_mfd_fn(struct hqio_cfgb *b, uint16_t device)
{
	hqio_cfgb_init(b, 0x8086, device, 0x0c0300, 0x80);
	hqio_cfgb_w32(b, 0x20, 0x0000d001); /* BAR4 io */
	hqio_cfgb_w8(b, 0x3d, 2);	    /* INTB */
	hqio_cfgb_cap(b, 0x50, 0x13);
	hqio_cfgb_w8(b, 0x52, 6);
	hqio_cfgb_w8(b, 0x53, 0x03);
}

/* ---- well-formed devices ----------------------------------------- */

static void test_nic_like_endpoint(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	struct hqio_error err = { 0 };
	build_nic(&b);
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, &err), 0);
	assert_int_equal(i->vendor_id, 0x8086);
	assert_int_equal(i->device_id, 0x10d3);
	assert_int_equal(i->class_code, 0x020000);
	assert_int_equal(i->revision, 0);
	assert_int_equal(i->header_type, 0);
	assert_false(i->multifunction);
	assert_true(i->cap_list);
	assert_false(i->intx_status);
	assert_false(i->imm_ready);
	assert_int_equal(i->subsys_vendor, 0x8086);
	assert_int_equal(i->n_bars, 6);
	assert_int_equal(i->bars[0].kind, HQIO_BAR_MEM32);
	assert_int_equal(i->bars[0].address, 0xfebc0000);
	assert_false(i->bars[0].prefetchable);
	assert_false(i->bars[0].size_known);
	assert_int_equal(i->bars[2].kind, HQIO_BAR_IO);
	assert_int_equal(i->bars[2].address, 0xc000);
	assert_int_equal(i->bars[3].kind, HQIO_BAR_MEM32);
	assert_true(i->bars[3].prefetchable);
	assert_int_equal(i->bars[4].kind, HQIO_BAR_UNUSED);
	assert_true(i->rom_present);
	assert_true(i->rom_enabled);
	assert_int_equal(i->rom_address, 0xfeb40000);
	assert_int_equal(i->int_pin, 1);
	assert_int_equal(i->int_line, 11);
	/* capability lists in chain order */
	assert_int_equal(i->std.n, 4);
	assert_int_equal(i->std.caps[0].offset, 0xc8);
	assert_int_equal(i->std.caps[0].id, HQIO_PCI_CAP_ID_PM);
	assert_int_equal(i->std.caps[3].offset, 0xa0);
	assert_int_equal(i->std.caps[3].id, HQIO_PCI_CAP_ID_MSIX);
	assert_int_equal(i->std.defect, HQIO_CAP_OK);
	assert_int_equal(i->ext.n, 2);
	assert_int_equal(i->ext.caps[1].offset, 0x140);
	assert_int_equal(i->ext.caps[1].id, HQIO_PCI_EXT_CAP_ID_DSN);
	/* PM */
	assert_true(i->pm.present);
	assert_int_equal(i->pm.offset, 0xc8);
	assert_int_equal(i->pm.version, 3);
	assert_false(i->pm.d1);
	assert_false(i->pm.d2);
	assert_int_equal(i->pm.pme_support, 0x19);
	assert_false(i->pm.no_soft_reset);
	assert_int_equal(i->pm.state, 0);
	/* MSI */
	assert_true(i->msi.present);
	assert_true(i->msi.addr64);
	assert_false(i->msi.per_vector_mask);
	assert_false(i->msi.enabled);
	assert_int_equal(i->msi.vectors_capable, 1);
	assert_int_equal(i->msi.vectors_enabled, 1);
	/* MSI-X */
	assert_true(i->msix.present);
	assert_int_equal(i->msix.table_size, 5);
	assert_int_equal(i->msix.table_bir, 3);
	assert_int_equal(i->msix.table_offset, 0);
	assert_int_equal(i->msix.pba_bir, 3);
	assert_int_equal(i->msix.pba_offset, 0x2000);
	assert_false(i->msix.enabled);
	assert_false(i->msix.function_mask);
	/* PCIe */
	assert_true(i->exp.present);
	assert_int_equal(i->exp.version, 2);
	assert_int_equal(i->exp.port_type, HQIO_PCI_EXP_TYPE_ENDPOINT);
	assert_false(i->exp.flr);
	assert_int_equal(i->exp.mps_supported_bytes, 256);
	assert_int_equal(i->exp.mps_bytes, 128);
	assert_int_equal(i->exp.mrrs_bytes, 512);
	assert_true(i->exp.no_snoop_enabled);
	assert_true(i->exp.relaxed_ordering);
	assert_false(i->exp.transactions_pending);
	assert_true(i->exp.has_link);
	assert_int_equal(i->exp.link_speed_max, 1);
	assert_int_equal(i->exp.link_width_max, 1);
	assert_false(i->exp.dll_active_reporting);
	assert_false(i->exp.has_root);
	/* extended */
	assert_true(i->aer.present);
	assert_int_equal(i->aer.uncor_status, 0x00100000);
	assert_true(i->dsn);
	assert_true(i->dsn_serial == 0x9abcdef012345678ULL);
	assert_false(i->sriov.present);
	assert_false(i->ats.present);
	assert_false(i->af.present);
	assert_false(i->acs.present);
	free(i);
}

static void test_nvme_like_endpoint_with_sriov(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	struct hqio_pci_sizes sz = { .bar = { 0x4000 } };
	build_nvme(&b);
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, &sz, i, NULL), 0);
	assert_int_equal(i->class_code, 0x010802);
	assert_int_equal(i->revision, 2);
	assert_int_equal(i->bars[0].kind, HQIO_BAR_MEM64);
	assert_true(i->bars[0].address == 0x1fe800000ULL);
	assert_true(i->bars[0].size_known);
	assert_int_equal(i->bars[0].size, 0x4000);
	assert_int_equal(i->bars[1].kind, HQIO_BAR_UPPER);
	assert_true(i->pm.no_soft_reset);
	assert_true(i->msix.enabled);
	assert_int_equal(i->msix.table_size, 65);
	assert_int_equal(i->msix.table_offset, 0x2000);
	assert_true(i->exp.flr);
	assert_int_equal(i->exp.mps_bytes, 256);
	assert_int_equal(i->exp.mrrs_bytes, 4096);
	assert_false(i->exp.no_snoop_enabled);
	assert_true(i->exp.transactions_pending);
	assert_int_equal(i->exp.link_speed, 3);
	assert_int_equal(i->exp.link_width, 4);
	assert_true(i->exp.dll_active_reporting);
	assert_true(i->exp.dll_link_active);
	assert_true(i->sriov.present);
	assert_true(i->sriov.vf_enable);
	assert_int_equal(i->sriov.total_vfs, 8);
	assert_int_equal(i->sriov.initial_vfs, 8);
	assert_int_equal(i->sriov.num_vfs, 2);
	assert_int_equal(i->sriov.vf_offset, 1);
	assert_int_equal(i->sriov.vf_stride, 1);
	assert_int_equal(i->sriov.vf_device_id, 0x0011);
	assert_true(i->ats.present);
	assert_true(i->ats.enabled);
	assert_true(i->ari);
	assert_false(i->pri.present);
	assert_false(i->pasid.present);
	assert_int_equal(i->ext.n, 3);
	assert_int_equal(i->ext.caps[0].version, 1);
	free(i);
}

static void test_conventional_intx_only_device(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_conventional(&b);
	assert_int_equal(hqio_pci_decode(b.cfg, 256, NULL, i, NULL), 0);
	assert_false(i->cap_list);
	assert_true(i->std.absent);
	assert_int_equal(i->std.n, 0);
	assert_true(i->ext.absent);
	assert_false(i->exp.present);
	assert_false(i->msi.present);
	assert_false(i->msix.present);
	assert_false(i->pm.present);
	assert_int_equal(i->int_pin, 1);
	assert_int_equal(i->bars[0].kind, HQIO_BAR_IO);
	assert_int_equal(i->bars[0].address, 0xc100);
	assert_int_equal(i->bars[1].kind, HQIO_BAR_MEM32);
	assert_int_equal(i->revision, 0x20);
	free(i);
}

static void test_type1_bridge(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_root_port(&b);
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, NULL), 0);
	assert_int_equal(i->header_type, HQIO_PCI_HEADER_TYPE_BRIDGE);
	assert_int_equal(i->n_bars, 2);
	assert_int_equal(i->bars[0].kind, HQIO_BAR_MEM32);
	assert_int_equal(i->primary_bus, 0);
	assert_int_equal(i->secondary_bus, 1);
	assert_int_equal(i->subordinate_bus, 1);
	assert_int_equal(i->bridge_control, HQIO_PCI_BRIDGE_CTL_BUS_RESET);
	assert_int_equal(i->exp.port_type, HQIO_PCI_EXP_TYPE_ROOT_PORT);
	assert_true(i->exp.slot);
	assert_true(i->exp.has_root);
	assert_true(i->exp.crs_sv_enabled);
	assert_true(i->exp.crs_sv_capable);
	assert_true(i->exp.dll_active_reporting);
	assert_true(i->exp.dll_link_active);
	assert_true(i->acs.present);
	assert_int_equal(i->acs.cap, 0x005f);
	assert_int_equal(i->acs.ctrl, 0x001d);
	assert_int_equal(i->subsys_vendor, 0); /* type 1 has no subsystem IDs at 0x2c */
	free(i);
}

static void test_multifunction_device_with_af(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_mfd_fn(&b, 0x7020);
	assert_int_equal(hqio_pci_decode(b.cfg, 256, NULL, i, NULL), 0);
	assert_true(i->multifunction);
	assert_int_equal(i->header_type, 0);
	assert_int_equal(i->class_code, 0x0c0300);
	assert_true(i->af.present);
	assert_true(i->af.tp);
	assert_true(i->af.flr);
	assert_int_equal(i->int_pin, 2);
	assert_int_equal(i->bars[4].kind, HQIO_BAR_IO);
	assert_true(i->ext.absent); /* no PCIe capability: no extended list */
	free(i);
}

static void test_status_bits_and_msi_multi_vector(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	hqio_cfgb_init(&b, 0x1234, 0x5678, 0x040300, 0);
	hqio_cfgb_cap(&b, 0x40, 0x05);
	hqio_cfgb_w16(&b, 0x42,
		      0x01a7); /* enabled, 8 capable (011b), 4 enabled (010b), 64-bit, PVM */
	hqio_cfgb_w16(&b, 0x06, 0x0019); /* Imm Ready, Interrupt Status, CapList */
	assert_int_equal(hqio_pci_decode(b.cfg, 256, NULL, i, NULL), 0);
	assert_true(i->imm_ready);
	assert_true(i->intx_status);
	assert_true(i->msi.enabled);
	assert_true(i->msi.per_vector_mask);
	assert_int_equal(i->msi.vectors_capable, 8);
	assert_int_equal(i->msi.vectors_enabled, 4);
	free(i);
}

static void test_64bit_bar_in_last_slot_is_truncated(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	hqio_cfgb_init(&b, 0x1234, 0x5678, 0x020000, 0);
	hqio_cfgb_w32(&b, 0x24, 0xf000000c); /* BAR5 mem64 prefetchable */
	assert_int_equal(hqio_pci_decode(b.cfg, 256, NULL, i, NULL), 0);
	assert_int_equal(i->bars[5].kind, HQIO_BAR_MEM64);
	assert_true(i->bars[5].truncated);
	assert_true(i->bars[5].prefetchable);
	free(i);
}

/* ---- malformed images --------------------------------------------- */

static void test_capability_loop_is_reported(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	struct hqio_error err = { 0 };
	build_nic(&b);
	b.cfg[0xa1] = 0xc8; /* MSI-X -> back to PM */
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, &err), -EBADMSG);
	assert_int_equal(err.code, -EBADMSG);
	assert_non_null(strstr(err.msg, "loop"));
	assert_int_equal(i->std.defect, HQIO_CAP_LOOP);
	assert_int_equal(i->std.defect_ptr, 0xc8);
	assert_int_equal(i->std.defect_from, 0xa1);
	assert_int_equal(i->std.n, 4); /* all four before the loop are kept */
	free(i);
}

static void test_self_loop_terminates(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	hqio_cfgb_init(&b, 0x1234, 0x5678, 0, 0);
	hqio_cfgb_cap(&b, 0x40, 0x09);
	b.cfg[0x41] = 0x40;
	assert_int_equal(hqio_pci_decode(b.cfg, 256, NULL, i, NULL), -EBADMSG);
	assert_int_equal(i->std.n, 1);
	assert_int_equal(i->std.defect, HQIO_CAP_LOOP);
	free(i);
}

static void test_extended_loop_is_reported(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	struct hqio_error err = { 0 };
	build_nvme(&b);
	hqio_cfgb_w32(&b, 0x148, 0x1000000e); /* ARI -> next 0x100 */
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "extended"));
	assert_int_equal(i->ext.defect, HQIO_CAP_LOOP);
	assert_int_equal(i->ext.defect_ptr, 0x100);
	assert_int_equal(i->ext.n, 3);
	free(i);
}

static void test_pointer_into_header_is_reported(void **state)
{
	(void)state;
	for (unsigned p = 0x04; p < 0x40; p += 4) {
		struct hqio_cfgb b;
		struct hqio_pci_info *i = info_new();
		struct hqio_error err = { 0 };
		build_nic(&b);
		b.cfg[0xd1] = (uint8_t)p; /* MSI -> into the header */
		assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, &err), -EBADMSG);
		assert_int_equal(i->std.defect, HQIO_CAP_PTR_IN_HEADER);
		assert_int_equal(i->std.defect_ptr, p);
		assert_int_equal(i->std.n, 2);
		assert_non_null(strstr(err.msg, "header"));
		free(i);
	}
}

static void test_head_pointer_into_header_is_reported(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nic(&b);
	b.cfg[0x34] = 0x10;
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, NULL), -EBADMSG);
	assert_int_equal(i->std.n, 0);
	assert_int_equal(i->std.defect_from, 0x34);
	free(i);
}

static void test_extended_pointer_below_0x100_is_reported(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nvme(&b);
	hqio_cfgb_w32(&b, 0x140, 0x0c01000f); /* ATS -> 0x0c0 */
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, NULL), -EBADMSG);
	assert_int_equal(i->ext.defect, HQIO_CAP_PTR_IN_HEADER);
	assert_int_equal(i->ext.defect_ptr, 0xc0);
	free(i);
}

static void test_capability_past_end_is_reported(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	hqio_cfgb_init(&b, 0x1234, 0x5678, 0, 0);
	hqio_cfgb_cap(&b, 0x40, 0x01);
	hqio_cfgb_cap(&b, 0xfc, 0x11); /* MSI-X needs 12 bytes: 0xfc + 12 > 0x100 */
	assert_int_equal(hqio_pci_decode(b.cfg, 256, NULL, i, NULL), -EBADMSG);
	assert_int_equal(i->std.defect, HQIO_CAP_PTR_PAST_END);
	assert_int_equal(i->std.n, 1);
	assert_false(i->msix.present);
	free(i);
}

static void test_extended_capability_past_end_is_reported(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nvme(&b);
	hqio_cfgb_w32(&b, 0x148, 0xfe00000e); /* ARI -> 0xfe0 */
	hqio_cfgb_w32(&b, 0xfe0, 0x00010010); /* SR-IOV needs 0x40 bytes */
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, NULL), -EBADMSG);
	assert_int_equal(i->ext.defect, HQIO_CAP_PTR_PAST_END);
	free(i);
}

static void test_broken_chain_id_ff_is_reported(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nic(&b);
	b.cfg[0xe0] = 0xff; /* PCIe capability ID reads 0xff */
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, NULL), -EBADMSG);
	assert_int_equal(i->std.defect, HQIO_CAP_BROKEN);
	assert_int_equal(i->std.n, 2);
	free(i);
}

static void test_truncated_64_byte_image_marks_caps_unreadable(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	struct hqio_error err = { 0 };
	build_nic(&b);
	assert_int_equal(hqio_pci_decode(b.cfg, 64, NULL, i, &err), -ENODATA);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_int_equal(i->vendor_id, 0x8086); /* the header still decodes */
	assert_true(i->std.unreadable);
	assert_false(i->std.absent);
	assert_int_equal(i->std.n, 0);
	free(i);
}

static void test_truncated_mid_list_keeps_what_was_read(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nic(&b);
	/* 0xd8 bytes: PM (0xc8) and MSI (0xd0) readable, PCIe at 0xe0 is not */
	assert_int_equal(hqio_pci_decode(b.cfg, 0xd8, NULL, i, NULL), -ENODATA);
	assert_int_equal(i->std.n, 2);
	assert_int_equal(i->std.defect, HQIO_CAP_TRUNCATED);
	assert_true(i->std.unreadable);
	assert_false(i->exp.present);
	free(i);
}

static void test_256_byte_image_of_pcie_device_is_not_an_error(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nvme(&b);
	assert_int_equal(hqio_pci_decode(b.cfg, 256, NULL, i, NULL), 0);
	assert_true(i->ext.unreadable);
	assert_false(i->ext.absent);
	assert_false(i->sriov.present);
	free(i);
}

static void test_truncated_extended_list_is_reported(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nvme(&b);
	assert_int_equal(hqio_pci_decode(b.cfg, 0x142, NULL, i, NULL), -ENODATA);
	assert_int_equal(i->ext.n, 1);
	assert_true(i->ext.unreadable);
	free(i);
}

static void test_image_shorter_than_header_is_rejected(void **state)
{
	(void)state;
	uint8_t cfg[63] = { 0x86, 0x80 };
	struct hqio_pci_info *i = info_new();
	struct hqio_error err = { 0 };
	assert_int_equal(hqio_pci_decode(cfg, sizeof(cfg), NULL, i, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "too short"));
	assert_int_equal(hqio_pci_decode(NULL, 0, NULL, i, &err), -EINVAL);
	free(i);
}

static void test_all_ones_is_absent_device(void **state)
{
	(void)state;
	static const size_t lens[] = { 64, 256, 4096 };
	for (size_t k = 0; k < 3; k++) {
		uint8_t cfg[4096];
		struct hqio_pci_info *i = info_new();
		struct hqio_error err = { 0 };
		memset(cfg, 0xff, sizeof(cfg));
		assert_int_equal(hqio_pci_decode(cfg, lens[k], NULL, i, &err), -ENODEV);
		assert_non_null(strstr(err.msg, "no device"));
		free(i);
	}
}

static void test_misaligned_pointer_is_masked_and_flagged(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nic(&b);
	b.cfg[0x34] = 0xcb; /* 0xc8 with reserved bits set */
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, NULL), 0);
	assert_true(i->std.misaligned);
	assert_int_equal(i->std.n, 4);
	assert_int_equal(i->std.caps[0].offset, 0xc8);
	free(i);
}

static void test_walker_survives_every_single_byte_pointer(void **state)
{
	(void)state;
	/* Every head pointer value, every next value: always terminates with
	 * at most 48 entries. */
	struct hqio_pci_cap caps[HQIO_PCI_MAX_STD_CAPS];
	struct hqio_pci_cap_list l;
	for (unsigned head = 0; head < 256; head++) {
		for (unsigned next = 0; next < 256; next += 5) {
			uint8_t cfg[256];
			for (unsigned k = 0; k < 256; k++)
				cfg[k] = (uint8_t)(k * 7 + next);
			cfg[0x06] = 0x10;
			cfg[0x34] = (uint8_t)head;
			hqio_pci_walk_std(cfg, sizeof(cfg), caps, &l, NULL);
			assert_true(l.n <= HQIO_PCI_MAX_STD_CAPS);
		}
	}
}

static void test_cardbus_list_starts_at_0x14(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	hqio_cfgb_init(&b, 0x104c, 0xac56, 0x060700, HQIO_PCI_HEADER_TYPE_CARDBUS);
	hqio_cfgb_w16(&b, HQIO_PCI_STATUS, HQIO_PCI_STATUS_CAP_LIST);
	hqio_cfgb_w8(&b, HQIO_PCI_CB_CAPABILITY_LIST, 0xa0);
	hqio_cfgb_w8(&b, 0x34, 0x50); /* would be wrong for type 2 */
	hqio_cfgb_w8(&b, 0x50, 0x05);
	hqio_cfgb_w8(&b, 0xa0, HQIO_PCI_CAP_ID_PM);
	hqio_cfgb_w16(&b, 0xa2, 0x0002);
	assert_int_equal(hqio_pci_decode(b.cfg, 256, NULL, i, NULL), 0);
	assert_int_equal(i->std.n, 1);
	assert_int_equal(i->std.caps[0].offset, 0xa0);
	assert_true(i->pm.present);
	assert_false(i->msi.present);
	free(i);
}

static void test_unreadable_standard_list_leaves_extended_unknown(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nic(&b);
	assert_int_equal(hqio_pci_decode(b.cfg, 64, NULL, i, NULL), -ENODATA);
	assert_true(i->ext.unreadable);
	assert_false(i->ext.absent);
	free(i);
}

static void test_first_ats_instance_wins(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	build_nvme(&b);
	hqio_cfgb_ext(&b, 0x160, HQIO_PCI_EXT_CAP_ID_ATS, 1); /* a second, disabled ATS */
	assert_int_equal(hqio_pci_decode(b.cfg, 4096, NULL, i, NULL), 0);
	assert_int_equal(i->ats.offset, 0x140);
	assert_true(i->ats.enabled);
	free(i);
}

/* ---- SR-IOV VFs ---------------------------------------------------- */

static void build_vf(struct hqio_cfgb *b)
{
	hqio_cfgb_init(b, 0xffff, 0xffff, 0x010802, 0x00);
	hqio_cfgb_cap(b, 0x40, 0x10);
	hqio_cfgb_w16(b, 0x42, 0x0002);
	hqio_cfgb_w32(b, 0x44, 0x10008000);
	hqio_cfgb_cap(b, 0x60, 0x11);
	hqio_cfgb_w16(b, 0x62, 0x0003);
}

static void test_vf_recognised_and_ids_from_pf(void **state)
{
	(void)state;
	struct hqio_cfgb pfb, vfb;
	struct hqio_pci_info *pf = info_new(), *vf = info_new();
	build_nvme(&pfb);
	build_vf(&vfb);
	assert_int_equal(hqio_pci_decode(pfb.cfg, 4096, NULL, pf, NULL), 0);
	assert_int_equal(hqio_pci_decode(vfb.cfg, 4096, NULL, vf, NULL), 0);
	assert_true(vf->ids_all_ones);
	assert_true(hqio_pci_looks_like_vf(vf));
	assert_false(hqio_pci_looks_like_vf(pf));
	struct hqio_bdf pfa = { .bus = 1, .dev = 0, .fn = 0 };
	struct hqio_bdf vf1 = { .bus = 1, .dev = 0, .fn = 1 },
			vf2 = { .bus = 1, .dev = 0, .fn = 2 };
	struct hqio_bdf vf3 = { .bus = 1, .dev = 0, .fn = 3 };
	unsigned idx = 99;
	uint16_t ven = 0, dev = 0;
	assert_int_equal(hqio_pci_vf_of(pf, pfa, vf1, &idx, &ven, &dev), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(ven, 0x1b36);
	assert_int_equal(dev, 0x0011);
	assert_int_equal(hqio_pci_vf_of(pf, pfa, vf2, &idx, NULL, NULL), 0);
	assert_int_equal(idx, 1);
	/* only NumVFs = 2 are enabled */
	assert_int_equal(hqio_pci_vf_of(pf, pfa, vf3, &idx, NULL, NULL), -ENOENT);
	/* VF Enable clear: no VFs */
	pf->sriov.vf_enable = false;
	assert_int_equal(hqio_pci_vf_of(pf, pfa, vf1, &idx, NULL, NULL), -ENOENT);
	free(pf);
	free(vf);
}

static void test_vf_routing_id_uses_offset_and_stride(void **state)
{
	(void)state;
	struct hqio_pci_info *pf = info_new();
	pf->vendor_id = 0x8086;
	pf->sriov = (struct hqio_pci_sriov){ .present = true,
					     .vf_enable = true,
					     .num_vfs = 4,
					     .vf_offset = 0x80,
					     .vf_stride = 2,
					     .vf_device_id = 0x154c };
	struct hqio_bdf pfa = { .bus = 0x3b, .dev = 0, .fn = 0 };
	/* RID 0x3b00 + 0x80 + 2*3 = 0x3b86 -> 3b:10.6 */
	struct hqio_bdf vf = { .bus = 0x3b, .dev = 0x10, .fn = 6 };
	unsigned idx;
	assert_int_equal(hqio_pci_vf_of(pf, pfa, vf, &idx, NULL, NULL), 0);
	assert_int_equal(idx, 3);
	vf.fn = 7; /* between strides */
	assert_int_equal(hqio_pci_vf_of(pf, pfa, vf, &idx, NULL, NULL), -ENOENT);
	free(pf);
}

static void test_all_ones_ids_without_pcie_is_not_a_vf(void **state)
{
	(void)state;
	struct hqio_cfgb b;
	struct hqio_pci_info *i = info_new();
	hqio_cfgb_init(&b, 0xffff, 0xffff, 0, 0);
	assert_int_equal(hqio_pci_decode(b.cfg, 256, NULL, i, NULL), 0);
	assert_false(hqio_pci_looks_like_vf(i));
	free(i);
}

/* ---- names and addresses ------------------------------------------ */

static void test_every_assigned_capability_id_is_named(void **state)
{
	(void)state;
	for (unsigned id = 0; id <= HQIO_PCI_CAP_ID_MAX; id++)
		assert_non_null(hqio_pci_cap_name((uint16_t)id));
	for (unsigned id = 0; id <= HQIO_PCI_EXT_CAP_ID_MAX; id++)
		assert_non_null(hqio_pci_ext_cap_name((uint16_t)id));
	assert_null(hqio_pci_cap_name(0x16));
	assert_null(hqio_pci_ext_cap_name(0x1234));
}

static void test_bdf_parse_and_format(void **state)
{
	(void)state;
	struct hqio_bdf b;
	char s[HQIO_BDF_STR_MAX];
	assert_int_equal(hqio_bdf_parse("0000:3b:10.6", &b), 0);
	assert_int_equal(b.bus, 0x3b);
	assert_int_equal(b.dev, 0x10);
	assert_int_equal(b.fn, 6);
	assert_string_equal(hqio_bdf_format(b, s, sizeof(s)), "0000:3b:10.6");
	assert_int_equal(hqio_bdf_parse("00:1f.3", &b), 0);
	assert_int_equal(b.domain, 0);
	assert_int_equal(hqio_bdf_parse("10000:00:00.0", &b), 0);
	assert_int_equal(b.domain, 0x10000);
	assert_int_equal(hqio_bdf_parse("00:20.0", &b), -EINVAL); /* device 32 */
	assert_int_equal(hqio_bdf_parse("00:1f.8", &b), -EINVAL);
	assert_int_equal(hqio_bdf_parse("00:1f.3x", &b), -EINVAL);
	assert_int_equal(hqio_bdf_parse("", &b), -EINVAL);
	assert_int_equal(hqio_bdf_parse("zz:00.0", &b), -EINVAL);
	assert_int_equal(hqio_bdf_rid(hqio_bdf_from_rid(0, 0x3b86)), 0x3b86);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nic_like_endpoint),
		cmocka_unit_test(test_nvme_like_endpoint_with_sriov),
		cmocka_unit_test(test_conventional_intx_only_device),
		cmocka_unit_test(test_type1_bridge),
		cmocka_unit_test(test_multifunction_device_with_af),
		cmocka_unit_test(test_status_bits_and_msi_multi_vector),
		cmocka_unit_test(test_64bit_bar_in_last_slot_is_truncated),
		cmocka_unit_test(test_capability_loop_is_reported),
		cmocka_unit_test(test_self_loop_terminates),
		cmocka_unit_test(test_extended_loop_is_reported),
		cmocka_unit_test(test_pointer_into_header_is_reported),
		cmocka_unit_test(test_head_pointer_into_header_is_reported),
		cmocka_unit_test(test_extended_pointer_below_0x100_is_reported),
		cmocka_unit_test(test_capability_past_end_is_reported),
		cmocka_unit_test(test_extended_capability_past_end_is_reported),
		cmocka_unit_test(test_broken_chain_id_ff_is_reported),
		cmocka_unit_test(test_truncated_64_byte_image_marks_caps_unreadable),
		cmocka_unit_test(test_truncated_mid_list_keeps_what_was_read),
		cmocka_unit_test(test_256_byte_image_of_pcie_device_is_not_an_error),
		cmocka_unit_test(test_truncated_extended_list_is_reported),
		cmocka_unit_test(test_image_shorter_than_header_is_rejected),
		cmocka_unit_test(test_all_ones_is_absent_device),
		cmocka_unit_test(test_misaligned_pointer_is_masked_and_flagged),
		cmocka_unit_test(test_walker_survives_every_single_byte_pointer),
		cmocka_unit_test(test_cardbus_list_starts_at_0x14),
		cmocka_unit_test(test_unreadable_standard_list_leaves_extended_unknown),
		cmocka_unit_test(test_first_ats_instance_wins),
		cmocka_unit_test(test_vf_recognised_and_ids_from_pf),
		cmocka_unit_test(test_vf_routing_id_uses_offset_and_stride),
		cmocka_unit_test(test_all_ones_ids_without_pcie_is_not_a_vf),
		cmocka_unit_test(test_every_assigned_capability_id_is_named),
		cmocka_unit_test(test_bdf_parse_and_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
