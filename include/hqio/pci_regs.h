/*
 * PCI / PCIe configuration-space register and bit definitions.
 *
 * Sources: PCI Local Bus Specification r3.0 (§6.1-§6.8, "PCI LB 3.0"),
 * PCI-to-PCI Bridge Architecture Specification r1.2 ("P2P 1.2"),
 * PCI Bus Power Management Interface Specification r1.2 ("PCI PM 1.2"),
 * PCI Code and ID Assignment Specification r1.11 ("ID 1.11"),
 * PCI Express Base Specification r5.0 ("PCIe 5.0"),
 * Advanced Capabilities for Conventional PCI ECN ("AF ECN").
 * Only numbers (facts) are taken from the specifications.
 */
#ifndef HQIO_PCI_REGS_H
#define HQIO_PCI_REGS_H

/* ---- Configuration space sizes (PCI LB 3.0 §6.1, PCIe 5.0 §7.2) ---- */
#define HQIO_PCI_CFG_HDR_SIZE 0x40   /* predefined header */
#define HQIO_PCI_CFG_SIZE     0x100  /* conventional config space */
#define HQIO_PCI_CFG_EXP_SIZE 0x1000 /* PCIe extended config space */

/* ---- Common header (both types; PCI LB 3.0 §6.2) ---- */
#define HQIO_PCI_VENDOR_ID		 0x00
#define HQIO_PCI_DEVICE_ID		 0x02
#define HQIO_PCI_COMMAND		 0x04
#define HQIO_PCI_COMMAND_IO		 0x0001 /* I/O space enable */
#define HQIO_PCI_COMMAND_MEMORY		 0x0002 /* memory space enable */
#define HQIO_PCI_COMMAND_MASTER		 0x0004 /* bus master enable */
#define HQIO_PCI_COMMAND_SPECIAL	 0x0008
#define HQIO_PCI_COMMAND_INVALIDATE	 0x0010
#define HQIO_PCI_COMMAND_VGA_PALETTE	 0x0020
#define HQIO_PCI_COMMAND_PARITY		 0x0040
#define HQIO_PCI_COMMAND_SERR		 0x0100
#define HQIO_PCI_COMMAND_FAST_BACK	 0x0200
#define HQIO_PCI_COMMAND_INTX_DISABLE	 0x0400 /* PCI LB 3.0 §6.2.2 */
#define HQIO_PCI_STATUS			 0x06
#define HQIO_PCI_STATUS_IMM_READY	 0x0001 /* Immediate Readiness, PCIe 5.0 §7.5.1.1.4 */
#define HQIO_PCI_STATUS_INTERRUPT	 0x0008 /* Interrupt Status, PCI LB 3.0 §6.2.3 */
#define HQIO_PCI_STATUS_CAP_LIST	 0x0010 /* Capabilities List */
#define HQIO_PCI_STATUS_66MHZ		 0x0020
#define HQIO_PCI_STATUS_FAST_BACK	 0x0080
#define HQIO_PCI_STATUS_PARITY		 0x0100
#define HQIO_PCI_STATUS_DEVSEL_MASK	 0x0600
#define HQIO_PCI_STATUS_SIG_TARGET_ABORT 0x0800
#define HQIO_PCI_STATUS_REC_TARGET_ABORT 0x1000
#define HQIO_PCI_STATUS_REC_MASTER_ABORT 0x2000
#define HQIO_PCI_STATUS_SIG_SYSTEM_ERROR 0x4000
#define HQIO_PCI_STATUS_DETECTED_PARITY	 0x8000
#define HQIO_PCI_REVISION_ID		 0x08
#define HQIO_PCI_CLASS_PROG		 0x09
#define HQIO_PCI_CLASS_DEVICE		 0x0a /* sub-class (byte) + base class (byte) */
#define HQIO_PCI_CACHE_LINE_SIZE	 0x0c
#define HQIO_PCI_LATENCY_TIMER		 0x0d
#define HQIO_PCI_HEADER_TYPE		 0x0e
#define HQIO_PCI_HEADER_TYPE_MASK	 0x7f
#define HQIO_PCI_HEADER_TYPE_MFD	 0x80 /* multi-function device */
#define HQIO_PCI_HEADER_TYPE_NORMAL	 0
#define HQIO_PCI_HEADER_TYPE_BRIDGE	 1
#define HQIO_PCI_HEADER_TYPE_CARDBUS	 2
#define HQIO_PCI_BIST			 0x0f

/* ---- Type 0 header (PCI LB 3.0 §6.2.5) ---- */
#define HQIO_PCI_BASE_ADDRESS_0		    0x10
#define HQIO_PCI_BASE_ADDRESS_5		    0x24
#define HQIO_PCI_NUM_BARS_TYPE0		    6
#define HQIO_PCI_BASE_ADDRESS_SPACE_IO	    0x01
#define HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK 0x06
#define HQIO_PCI_BASE_ADDRESS_MEM_TYPE_32   0x00
#define HQIO_PCI_BASE_ADDRESS_MEM_TYPE_1M   0x02 /* below 1 MiB, PCI 2.x, reserved in 3.0 */
#define HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64   0x04
#define HQIO_PCI_BASE_ADDRESS_MEM_PREFETCH  0x08
#define HQIO_PCI_BASE_ADDRESS_MEM_MASK	    (~0x0fULL)
#define HQIO_PCI_BASE_ADDRESS_IO_MASK	    (~0x03ULL)
#define HQIO_PCI_CARDBUS_CIS		    0x28
#define HQIO_PCI_SUBSYSTEM_VENDOR_ID	    0x2c
#define HQIO_PCI_SUBSYSTEM_ID		    0x2e
#define HQIO_PCI_ROM_ADDRESS		    0x30
#define HQIO_PCI_ROM_ADDRESS_ENABLE	    0x01
#define HQIO_PCI_ROM_ADDRESS_MASK	    (~0x7ffULL)
#define HQIO_PCI_CAPABILITY_LIST	    0x34
#define HQIO_PCI_INTERRUPT_LINE		    0x3c
#define HQIO_PCI_INTERRUPT_PIN		    0x3d
#define HQIO_PCI_MIN_GNT		    0x3e
#define HQIO_PCI_MAX_LAT		    0x3f

/* ---- Type 2 (CardBus bridge) header (PC Card Standard, PCI LB 3.0 §6.2) ---- */
#define HQIO_PCI_CB_CAPABILITY_LIST 0x14

/* ---- Type 1 header (P2P 1.2 §3.2) ---- */
#define HQIO_PCI_NUM_BARS_TYPE1		 2
#define HQIO_PCI_PRIMARY_BUS		 0x18
#define HQIO_PCI_SECONDARY_BUS		 0x19
#define HQIO_PCI_SUBORDINATE_BUS	 0x1a
#define HQIO_PCI_SEC_LATENCY_TIMER	 0x1b
#define HQIO_PCI_IO_BASE		 0x1c
#define HQIO_PCI_IO_LIMIT		 0x1d
#define HQIO_PCI_IO_RANGE_TYPE_MASK	 0x0f
#define HQIO_PCI_IO_RANGE_TYPE_32	 0x01
#define HQIO_PCI_SEC_STATUS		 0x1e
#define HQIO_PCI_MEMORY_BASE		 0x20
#define HQIO_PCI_MEMORY_LIMIT		 0x22
#define HQIO_PCI_PREF_MEMORY_BASE	 0x24
#define HQIO_PCI_PREF_MEMORY_LIMIT	 0x26
#define HQIO_PCI_PREF_RANGE_TYPE_64	 0x01
#define HQIO_PCI_PREF_BASE_UPPER32	 0x28
#define HQIO_PCI_PREF_LIMIT_UPPER32	 0x2c
#define HQIO_PCI_IO_BASE_UPPER16	 0x30
#define HQIO_PCI_IO_LIMIT_UPPER16	 0x32
#define HQIO_PCI_ROM_ADDRESS1		 0x38
#define HQIO_PCI_BRIDGE_CONTROL		 0x3e
#define HQIO_PCI_BRIDGE_CTL_PARITY	 0x0001
#define HQIO_PCI_BRIDGE_CTL_SERR	 0x0002
#define HQIO_PCI_BRIDGE_CTL_ISA		 0x0004
#define HQIO_PCI_BRIDGE_CTL_VGA		 0x0008
#define HQIO_PCI_BRIDGE_CTL_MASTER_ABORT 0x0020
#define HQIO_PCI_BRIDGE_CTL_BUS_RESET	 0x0040 /* Secondary Bus Reset, P2P 1.2 §3.2.5.18 */
#define HQIO_PCI_BRIDGE_CTL_FAST_BACK	 0x0080

/* ---- Class codes used by the analysis (ID 1.11 §D) ---- */
#define HQIO_PCI_BASE_CLASS_BRIDGE 0x06
#define HQIO_PCI_CLASS_BRIDGE_HOST 0x0600
#define HQIO_PCI_CLASS_BRIDGE_PCI  0x0604

/* ---- Capability list (PCI LB 3.0 §6.7) ---- */
#define HQIO_PCI_CAP_LIST_ID   0
#define HQIO_PCI_CAP_LIST_NEXT 1
#define HQIO_PCI_CAP_FLAGS     2
#define HQIO_PCI_CAP_PTR_MASK  0xfc /* bottom two bits reserved, software masks them */

/* Standard capability IDs (ID 1.11 §2) */
#define HQIO_PCI_CAP_ID_NULL   0x00
#define HQIO_PCI_CAP_ID_PM     0x01
#define HQIO_PCI_CAP_ID_AGP    0x02
#define HQIO_PCI_CAP_ID_VPD    0x03
#define HQIO_PCI_CAP_ID_SLOTID 0x04
#define HQIO_PCI_CAP_ID_MSI    0x05
#define HQIO_PCI_CAP_ID_CHSWP  0x06
#define HQIO_PCI_CAP_ID_PCIX   0x07
#define HQIO_PCI_CAP_ID_HT     0x08
#define HQIO_PCI_CAP_ID_VNDR   0x09
#define HQIO_PCI_CAP_ID_DBG    0x0a
#define HQIO_PCI_CAP_ID_CCRC   0x0b
#define HQIO_PCI_CAP_ID_SHPC   0x0c
#define HQIO_PCI_CAP_ID_SSVID  0x0d
#define HQIO_PCI_CAP_ID_AGP3   0x0e
#define HQIO_PCI_CAP_ID_SECDEV 0x0f
#define HQIO_PCI_CAP_ID_EXP    0x10
#define HQIO_PCI_CAP_ID_MSIX   0x11
#define HQIO_PCI_CAP_ID_SATA   0x12
#define HQIO_PCI_CAP_ID_AF     0x13
#define HQIO_PCI_CAP_ID_EA     0x14
#define HQIO_PCI_CAP_ID_FPB    0x15
#define HQIO_PCI_CAP_ID_MAX    0x15

/* Power Management (PCI PM 1.2 §3.2) */
#define HQIO_PCI_PM_PMC		       2
#define HQIO_PCI_PM_PMC_VERSION_MASK   0x0007
#define HQIO_PCI_PM_PMC_PME_CLOCK      0x0008
#define HQIO_PCI_PM_PMC_DSI	       0x0020
#define HQIO_PCI_PM_PMC_D1	       0x0200
#define HQIO_PCI_PM_PMC_D2	       0x0400
#define HQIO_PCI_PM_PMC_PME_SHIFT      11 /* PME_Support bits 15:11: D0,D1,D2,D3hot,D3cold */
#define HQIO_PCI_PM_CTRL	       4
#define HQIO_PCI_PM_CTRL_STATE_MASK    0x0003
#define HQIO_PCI_PM_CTRL_NO_SOFT_RESET 0x0008 /* PCI PM 1.2 §3.2.4 */
#define HQIO_PCI_PM_CTRL_PME_ENABLE    0x0100
#define HQIO_PCI_PM_CTRL_PME_STATUS    0x8000
#define HQIO_PCI_PM_SIZEOF	       8

/* MSI (PCI LB 3.0 §6.8.1) */
#define HQIO_PCI_MSI_FLAGS	   2
#define HQIO_PCI_MSI_FLAGS_ENABLE  0x0001
#define HQIO_PCI_MSI_FLAGS_QMASK   0x000e /* Multiple Message Capable, log2 */
#define HQIO_PCI_MSI_FLAGS_QSIZE   0x0070 /* Multiple Message Enable, log2 */
#define HQIO_PCI_MSI_FLAGS_64BIT   0x0080
#define HQIO_PCI_MSI_FLAGS_MASKBIT 0x0100 /* per-vector masking capable */
#define HQIO_PCI_MSI_ADDRESS_LO	   4
#define HQIO_PCI_MSI_ADDRESS_HI	   8
#define HQIO_PCI_MSI_DATA_32	   8
#define HQIO_PCI_MSI_DATA_64	   12
#define HQIO_PCI_MSI_MASK_32	   12
#define HQIO_PCI_MSI_MASK_64	   16
#define HQIO_PCI_MSI_PENDING_32	   16
#define HQIO_PCI_MSI_PENDING_64	   20

/* MSI-X (PCI LB 3.0 §6.8.2) */
#define HQIO_PCI_MSIX_FLAGS	    2
#define HQIO_PCI_MSIX_FLAGS_QSIZE   0x07ff /* table size - 1 */
#define HQIO_PCI_MSIX_FLAGS_MASKALL 0x4000
#define HQIO_PCI_MSIX_FLAGS_ENABLE  0x8000
#define HQIO_PCI_MSIX_TABLE	    4
#define HQIO_PCI_MSIX_PBA	    8
#define HQIO_PCI_MSIX_BIR_MASK	    0x7
#define HQIO_PCI_MSIX_OFFSET_MASK   0xfffffff8u
#define HQIO_PCI_MSIX_ENTRY_SIZE    16
#define HQIO_PCI_MSIX_SIZEOF	    12

/* Advanced Features (AF ECN) */
#define HQIO_PCI_AF_LENGTH    2
#define HQIO_PCI_AF_CAP	      3
#define HQIO_PCI_AF_CAP_TP    0x01 /* Transactions Pending capable */
#define HQIO_PCI_AF_CAP_FLR   0x02 /* Function Level Reset capable */
#define HQIO_PCI_AF_CTRL      4
#define HQIO_PCI_AF_CTRL_FLR  0x01
#define HQIO_PCI_AF_STATUS    5
#define HQIO_PCI_AF_STATUS_TP 0x01
#define HQIO_PCI_AF_SIZEOF    6

/* PCI Express capability (PCIe 5.0 §7.5.3) */
#define HQIO_PCI_EXP_FLAGS	2
#define HQIO_PCI_EXP_FLAGS_VERS 0x000f
#define HQIO_PCI_EXP_FLAGS_TYPE 0x00f0
#define HQIO_PCI_EXP_FLAGS_SLOT 0x0100
#define HQIO_PCI_EXP_FLAGS_IRQ	0x3e00
/* Device/Port Type values (PCIe 5.0 §7.5.3.2) */
#define HQIO_PCI_EXP_TYPE_ENDPOINT     0x0
#define HQIO_PCI_EXP_TYPE_LEG_END      0x1
#define HQIO_PCI_EXP_TYPE_ROOT_PORT    0x4
#define HQIO_PCI_EXP_TYPE_UPSTREAM     0x5
#define HQIO_PCI_EXP_TYPE_DOWNSTREAM   0x6
#define HQIO_PCI_EXP_TYPE_PCI_BRIDGE   0x7
#define HQIO_PCI_EXP_TYPE_PCIE_BRIDGE  0x8
#define HQIO_PCI_EXP_TYPE_RC_END       0x9
#define HQIO_PCI_EXP_TYPE_RC_EC	       0xa
#define HQIO_PCI_EXP_DEVCAP	       4
#define HQIO_PCI_EXP_DEVCAP_PAYLOAD    0x00000007
#define HQIO_PCI_EXP_DEVCAP_FLR	       0x10000000 /* Function Level Reset Capability, §7.5.3.3 */
#define HQIO_PCI_EXP_DEVCTL	       8
#define HQIO_PCI_EXP_DEVCTL_CERE       0x0001
#define HQIO_PCI_EXP_DEVCTL_NFERE      0x0002
#define HQIO_PCI_EXP_DEVCTL_FERE       0x0004
#define HQIO_PCI_EXP_DEVCTL_URRE       0x0008
#define HQIO_PCI_EXP_DEVCTL_RELAX_EN   0x0010
#define HQIO_PCI_EXP_DEVCTL_PAYLOAD    0x00e0 /* Max_Payload_Size */
#define HQIO_PCI_EXP_DEVCTL_EXT_TAG    0x0100
#define HQIO_PCI_EXP_DEVCTL_PHANTOM    0x0200
#define HQIO_PCI_EXP_DEVCTL_AUX_PME    0x0400
#define HQIO_PCI_EXP_DEVCTL_NOSNOOP_EN 0x0800 /* Enable No Snoop, §7.5.3.4 */
#define HQIO_PCI_EXP_DEVCTL_READRQ     0x7000 /* Max_Read_Request_Size */
#define HQIO_PCI_EXP_DEVCTL_BCR_FLR    0x8000 /* Initiate FLR (endpoints) */
#define HQIO_PCI_EXP_DEVSTA	       10
#define HQIO_PCI_EXP_DEVSTA_CED	       0x0001
#define HQIO_PCI_EXP_DEVSTA_NFED       0x0002
#define HQIO_PCI_EXP_DEVSTA_FED	       0x0004
#define HQIO_PCI_EXP_DEVSTA_URD	       0x0008
#define HQIO_PCI_EXP_DEVSTA_AUXPD      0x0010
#define HQIO_PCI_EXP_DEVSTA_TRPND      0x0020 /* Transactions Pending, §7.5.3.5 */
#define HQIO_PCI_EXP_LNKCAP	       12
#define HQIO_PCI_EXP_LNKCAP_SLS	       0x0000000f /* max link speed */
#define HQIO_PCI_EXP_LNKCAP_MLW	       0x000003f0 /* max link width */
#define HQIO_PCI_EXP_LNKCAP_DLLLARC    0x00100000 /* DLL Link Active Reporting Capable */
#define HQIO_PCI_EXP_LNKCTL	       16
#define HQIO_PCI_EXP_LNKCTL_LD	       0x0010 /* link disable */
#define HQIO_PCI_EXP_LNKSTA	       18
#define HQIO_PCI_EXP_LNKSTA_CLS	       0x000f
#define HQIO_PCI_EXP_LNKSTA_NLW	       0x03f0
#define HQIO_PCI_EXP_LNKSTA_LT	       0x0800
#define HQIO_PCI_EXP_LNKSTA_DLLLA      0x2000 /* Data Link Layer Link Active */
#define HQIO_PCI_EXP_SLTCAP	       20
#define HQIO_PCI_EXP_SLTCTL	       24
#define HQIO_PCI_EXP_SLTSTA	       26
#define HQIO_PCI_EXP_RTCTL	       28
#define HQIO_PCI_EXP_RTCTL_CRSSVE      0x0010 /* CRS Software Visibility Enable, §7.5.3.12 */
#define HQIO_PCI_EXP_RTCAP	       30
#define HQIO_PCI_EXP_RTCAP_CRSVIS      0x0001
#define HQIO_PCI_EXP_RTSTA	       32
#define HQIO_PCI_EXP_DEVCAP2	       36
#define HQIO_PCI_EXP_DEVCTL2	       40
#define HQIO_PCI_EXP_LNKCAP2	       44
#define HQIO_PCI_EXP_LNKCTL2	       48
#define HQIO_PCI_EXP_LNKSTA2	       50
#define HQIO_PCI_EXP_SIZEOF_V1	       20 /* endpoints without slot/root registers */
#define HQIO_PCI_EXP_SIZEOF_V2	       60

/* ---- Extended capabilities (PCIe 5.0 §7.6) ---- */
#define HQIO_PCI_EXT_CAP_ID(h)	 ((h)&0xffff)
#define HQIO_PCI_EXT_CAP_VER(h)	 (((h) >> 16) & 0xf)
#define HQIO_PCI_EXT_CAP_NEXT(h) (((h) >> 20) & 0xffc)

/* Extended capability IDs (ID 1.11 §3) */
#define HQIO_PCI_EXT_CAP_ID_NULL      0x0000
#define HQIO_PCI_EXT_CAP_ID_ERR	      0x0001 /* AER */
#define HQIO_PCI_EXT_CAP_ID_VC	      0x0002
#define HQIO_PCI_EXT_CAP_ID_DSN	      0x0003
#define HQIO_PCI_EXT_CAP_ID_PWR	      0x0004
#define HQIO_PCI_EXT_CAP_ID_RCLD      0x0005
#define HQIO_PCI_EXT_CAP_ID_RCILC     0x0006
#define HQIO_PCI_EXT_CAP_ID_RCEC      0x0007
#define HQIO_PCI_EXT_CAP_ID_MFVC      0x0008
#define HQIO_PCI_EXT_CAP_ID_VC9	      0x0009
#define HQIO_PCI_EXT_CAP_ID_RCRB      0x000a
#define HQIO_PCI_EXT_CAP_ID_VNDR      0x000b
#define HQIO_PCI_EXT_CAP_ID_CAC	      0x000c
#define HQIO_PCI_EXT_CAP_ID_ACS	      0x000d
#define HQIO_PCI_EXT_CAP_ID_ARI	      0x000e
#define HQIO_PCI_EXT_CAP_ID_ATS	      0x000f
#define HQIO_PCI_EXT_CAP_ID_SRIOV     0x0010
#define HQIO_PCI_EXT_CAP_ID_MRIOV     0x0011
#define HQIO_PCI_EXT_CAP_ID_MCAST     0x0012
#define HQIO_PCI_EXT_CAP_ID_PRI	      0x0013
#define HQIO_PCI_EXT_CAP_ID_AMD_XXX   0x0014
#define HQIO_PCI_EXT_CAP_ID_REBAR     0x0015
#define HQIO_PCI_EXT_CAP_ID_DPA	      0x0016
#define HQIO_PCI_EXT_CAP_ID_TPH	      0x0017
#define HQIO_PCI_EXT_CAP_ID_LTR	      0x0018
#define HQIO_PCI_EXT_CAP_ID_SECPCI    0x0019
#define HQIO_PCI_EXT_CAP_ID_PMUX      0x001a
#define HQIO_PCI_EXT_CAP_ID_PASID     0x001b
#define HQIO_PCI_EXT_CAP_ID_LNR	      0x001c
#define HQIO_PCI_EXT_CAP_ID_DPC	      0x001d
#define HQIO_PCI_EXT_CAP_ID_L1SS      0x001e
#define HQIO_PCI_EXT_CAP_ID_PTM	      0x001f
#define HQIO_PCI_EXT_CAP_ID_MPCIE     0x0020
#define HQIO_PCI_EXT_CAP_ID_FRS	      0x0021
#define HQIO_PCI_EXT_CAP_ID_RTR	      0x0022
#define HQIO_PCI_EXT_CAP_ID_DVSEC     0x0023
#define HQIO_PCI_EXT_CAP_ID_VF_REBAR  0x0024
#define HQIO_PCI_EXT_CAP_ID_DLNK      0x0025
#define HQIO_PCI_EXT_CAP_ID_16GT      0x0026
#define HQIO_PCI_EXT_CAP_ID_LMR	      0x0027
#define HQIO_PCI_EXT_CAP_ID_HIER_ID   0x0028
#define HQIO_PCI_EXT_CAP_ID_NPEM      0x0029
#define HQIO_PCI_EXT_CAP_ID_32GT      0x002a
#define HQIO_PCI_EXT_CAP_ID_ALT_PROT  0x002b
#define HQIO_PCI_EXT_CAP_ID_SFI	      0x002c
#define HQIO_PCI_EXT_CAP_ID_SHADOW    0x002d
#define HQIO_PCI_EXT_CAP_ID_DOE	      0x002e
#define HQIO_PCI_EXT_CAP_ID_DEV3      0x002f
#define HQIO_PCI_EXT_CAP_ID_IDE	      0x0030
#define HQIO_PCI_EXT_CAP_ID_64GT      0x0031
#define HQIO_PCI_EXT_CAP_ID_FLIT_LOG  0x0032
#define HQIO_PCI_EXT_CAP_ID_FLIT_PERF 0x0033
#define HQIO_PCI_EXT_CAP_ID_FLIT_EI   0x0034
#define HQIO_PCI_EXT_CAP_ID_MAX	      0x0034

/* AER (PCIe 5.0 §7.8.4) */
#define HQIO_PCI_ERR_UNCOR_STATUS 4
#define HQIO_PCI_ERR_UNCOR_MASK	  8
#define HQIO_PCI_ERR_UNCOR_SEVER  12
#define HQIO_PCI_ERR_COR_STATUS	  16
#define HQIO_PCI_ERR_COR_MASK	  20
#define HQIO_PCI_ERR_CAP	  24
#define HQIO_PCI_ERR_CAP_FEP_MASK 0x1f

/* ACS (PCIe 5.0 §7.7.8) */
#define HQIO_PCI_ACS_CAP  4
#define HQIO_PCI_ACS_CTRL 6
#define HQIO_PCI_ACS_SV	  0x0001 /* Source Validation */
#define HQIO_PCI_ACS_TB	  0x0002 /* Translation Blocking */
#define HQIO_PCI_ACS_RR	  0x0004 /* P2P Request Redirect */
#define HQIO_PCI_ACS_CR	  0x0008 /* P2P Completion Redirect */
#define HQIO_PCI_ACS_UF	  0x0010 /* Upstream Forwarding */
#define HQIO_PCI_ACS_EC	  0x0020 /* P2P Egress Control */
#define HQIO_PCI_ACS_DT	  0x0040 /* Direct Translated P2P */
/* The controls Linux requires for isolation (drivers/pci/pci.c REQ_ACS_FLAGS). */
#define HQIO_PCI_ACS_ISOLATION                                                                     \
	(HQIO_PCI_ACS_SV | HQIO_PCI_ACS_RR | HQIO_PCI_ACS_CR | HQIO_PCI_ACS_UF)

/* ARI (PCIe 5.0 §7.8.7) */
#define HQIO_PCI_ARI_CAP	4
#define HQIO_PCI_ARI_CAP_NFN(x) (((x) >> 8) & 0xff)

/* ATS (PCIe 5.0 §10.5.1) */
#define HQIO_PCI_ATS_CAP	 4
#define HQIO_PCI_ATS_CTRL	 6
#define HQIO_PCI_ATS_CTRL_ENABLE 0x8000

/* PRI (PCIe 5.0 §10.5.2) */
#define HQIO_PCI_PRI_CTRL	 4
#define HQIO_PCI_PRI_CTRL_ENABLE 0x0001
#define HQIO_PCI_PRI_STATUS	 6

/* PASID (PCIe 5.0 §7.8.8) */
#define HQIO_PCI_PASID_CAP	   4
#define HQIO_PCI_PASID_CTRL	   6
#define HQIO_PCI_PASID_CTRL_ENABLE 0x0001

/* SR-IOV (PCIe 5.0 §9.3.3) */
#define HQIO_PCI_SRIOV_CAP	  0x04
#define HQIO_PCI_SRIOV_CTRL	  0x08
#define HQIO_PCI_SRIOV_CTRL_VFE	  0x0001 /* VF Enable */
#define HQIO_PCI_SRIOV_CTRL_MSE	  0x0008 /* VF Memory Space Enable */
#define HQIO_PCI_SRIOV_CTRL_ARI	  0x0010
#define HQIO_PCI_SRIOV_STATUS	  0x0a
#define HQIO_PCI_SRIOV_INITIAL_VF 0x0c
#define HQIO_PCI_SRIOV_TOTAL_VF	  0x0e
#define HQIO_PCI_SRIOV_NUM_VF	  0x10
#define HQIO_PCI_SRIOV_FUNC_LINK  0x12
#define HQIO_PCI_SRIOV_VF_OFFSET  0x14
#define HQIO_PCI_SRIOV_VF_STRIDE  0x16
#define HQIO_PCI_SRIOV_VF_DID	  0x1a
#define HQIO_PCI_SRIOV_SUP_PGSIZE 0x1c
#define HQIO_PCI_SRIOV_SYS_PGSIZE 0x20
#define HQIO_PCI_SRIOV_BAR	  0x24
#define HQIO_PCI_SRIOV_NUM_BARS	  6

/* DSN (PCIe 5.0 §7.9.3) */
#define HQIO_PCI_DSN_LOW  4
#define HQIO_PCI_DSN_HIGH 8

/* LTR (PCIe 5.0 §7.8.2) */
#define HQIO_PCI_LTR_MAX_SNOOP	 4
#define HQIO_PCI_LTR_MAX_NOSNOOP 6

/* L1 PM Substates (PCIe 5.0 §7.8.3) */
#define HQIO_PCI_L1SS_CAP  4
#define HQIO_PCI_L1SS_CTL1 8

/* Resizable BAR (PCIe 5.0 §7.8.6) */
#define HQIO_PCI_REBAR_CAP		   4
#define HQIO_PCI_REBAR_CTRL		   8
#define HQIO_PCI_REBAR_CTRL_BAR_IDX	   0x0007
#define HQIO_PCI_REBAR_CTRL_NBAR_MASK	   0x00e0
#define HQIO_PCI_REBAR_CTRL_NBAR_SHIFT	   5
#define HQIO_PCI_REBAR_CTRL_BAR_SIZE_MASK  0x3f00
#define HQIO_PCI_REBAR_CTRL_BAR_SIZE_SHIFT 8

#endif
