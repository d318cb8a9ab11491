/*
 * The simulator's device catalogue: models of real device classes built on
 * the platform's function builder (sim.h), each with its register map,
 * interrupts, DMA and the faulty variants of enum sim_fault, and
 * sim_build_reference(), the reference machine the experiments run on.
 *
 * Every constructor creates the function(s) on the secondary bus of parent
 * (NULL: the root bus) at dev/fn, finalizes them and returns the function,
 * or NULL when the platform is full or out of memory. faults are enum
 * sim_fault bits; a model implements the ones that concern it (the
 * platform itself implements SIM_FAULT_FLR_NEVER_COMPLETES and
 * SIM_FAULT_PM_NO_RESET). Registers are little-endian; each model accepts
 * 1-, 2-, 4- and 8-byte accesses at any offset of a BAR and splits them
 * into the 32-bit registers below (byte enables kept: a partial write
 * changes only the bytes written). Unlisted offsets read 0, ignore writes.
 *
 * The platform resets a function when a Secondary Bus Reset ends, not
 * when it starts, and dma.c does not look at in_reset: so a model whose
 * timer fires while the function is held in reset (f->in_reset) treats
 * that as its reset (the well-behaved ones drop the work in progress).
 *
 * Constants from a datasheet or specification cite it; the others are the
 * model's own choices and say so.
 */
#ifndef HQIO_SIM_DEVICES_H
#define HQIO_SIM_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

/* ------------------------------------------------------------------ */
/* NIC: Intel 82574L-like (e1000e)                                      */
/* ------------------------------------------------------------------ */

/*
 * 8086:10d3, class 020000 (82574L GbE Controller datasheet: Device ID,
 * BAR layout, MSI-X with 5 vectors). BAR0 128 KiB mem32 registers, BAR2
 * 32-byte I/O window (IOADDR/IODATA), BAR3 16 KiB mem32 with the MSI-X
 * table (offset 0) and PBA (0x2000). Capabilities: PM at 0xc8 (No_Soft_Reset
 * clear), MSI at 0xd0 (1 vector, 64-bit), PCIe v2 endpoint at 0xe0 without
 * FLR (2.5 GT/s x1), MSI-X at 0xa0 (5 entries). Interrupt pin A.
 *
 * Interrupt: ICR & IMS non-zero is the cause. With MSI-X enabled every
 * cause goes to vector 0 (the model has no IVAR), with MSI to the one MSI
 * vector, both on the 0->1 edge of a cause bit; otherwise INTx follows
 * the level (ICR & IMS) != 0 and drops when ICR is read.
 *
 * Dual-port variant: functions 0 and 1 of one device, Header Type with the
 * multi-function bit, Device ID 0x105e (82571EB dual port); STATUS bits
 * 3:2 report the function number, which a driver reads to know its port
 * (a pass-through hole: the value comes from the hardware, not from the
 * guest-visible BDF). The register model is the 82574L one for both (the
 * real 82571EB has no MSI-X: a simplification).
 *
 * Faults: SIM_FAULT_PM_NO_RESET (platform: D3hot->D0 resets nothing).
 */
#define SIM_NIC_VENDOR	     0x8086
#define SIM_NIC_DEVICE	     0x10d3 /* 82574L */
#define SIM_NIC_DEVICE_DUAL  0x105e /* 82571EB dual port */
#define SIM_NIC_BAR0_SIZE    (128u << 10)
#define SIM_NIC_BAR2_SIZE    32u
#define SIM_NIC_BAR3_SIZE    (16u << 10)
#define SIM_NIC_MSIX_ENTRIES 5
#define SIM_NIC_MSIX_TABLE   0x0000 /* in BAR3 */
#define SIM_NIC_MSIX_PBA     0x2000 /* in BAR3 */
/* BAR0 registers (82574L datasheet register summary). */
#define SIM_NIC_CTRL		  0x0000 /* RW; bit 26 RST: software reset, self-clearing */
#define SIM_NIC_CTRL_RST	  (1u << 26)
#define SIM_NIC_STATUS		  0x0008    /* RO */
#define SIM_NIC_STATUS_FD	  (1u << 0) /* full duplex */
#define SIM_NIC_STATUS_LU	  (1u << 1) /* link up */
#define SIM_NIC_STATUS_FUNC_SHIFT 2	    /* bits 3:2 LAN ID / function number */
#define SIM_NIC_STATUS_FUNC_MASK  (3u << 2)
#define SIM_NIC_STATUS_SPEED_1000 (2u << 6)  /* bits 7:6 = 10b */
#define SIM_NIC_ICR		  0x00c0     /* read: causes, then cleared; write 1s: clear */
#define SIM_NIC_ICR_ASSERTED	  (1u << 31) /* INT_ASSERTED: a cause & IMS is set */
#define SIM_NIC_ICR_TXDW	  (1u << 0)  /* used by the model's DMA test as "done" */
#define SIM_NIC_ICS		  0x00c8     /* WO: set causes */
#define SIM_NIC_IMS		  0x00d0     /* read: mask; write 1s: set mask bits */
#define SIM_NIC_IMC		  0x00d8     /* WO: 1s clear mask bits */
#define SIM_NIC_RAL0		  0x5400     /* RW receive address low (MAC bytes 0-3) */
#define SIM_NIC_RAH0		  0x5404 /* RW receive address high (MAC bytes 4-5, bit 31 AV) */
/* DMA test registers (the model's own, not the 82574L's: RDBAL/RDBAH
 * offsets reused). GO takes a byte count 1..4096 and writes that many
 * bytes, byte i = PATTERN + i, to ADDR at once through sim_dma_write;
 * RESULT then holds DONE | errno (0 success, EPERM Bus Master off, EFAULT
 * IOMMU fault, EINVAL bad count), and ICR gets TXDW. */
#define SIM_NIC_DMA_ADDR_LO 0x3800
#define SIM_NIC_DMA_ADDR_HI 0x3804
#define SIM_NIC_DMA_PATTERN 0x3808
#define SIM_NIC_DMA_GO	    0x380c
#define SIM_NIC_DMA_RESULT  0x3810
#define SIM_NIC_DMA_DONE    (1u << 31)
#define SIM_NIC_DMA_MAX	    4096u
/* BAR2 I/O window (82574L datasheet: IOADDR at 0, IODATA at 4). */
#define SIM_NIC_IOADDR 0x00
#define SIM_NIC_IODATA 0x04

struct sim_fn *sim_dev_nic(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			   unsigned faults);
/* Functions 0 and 1 of dev; returns function 0, *fn1 (may be NULL) gets 1. */
struct sim_fn *sim_dev_nic_dual(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
				unsigned faults, struct sim_fn **fn1);

/* ------------------------------------------------------------------ */
/* NVMe controller: QEMU's emulated NVMe-like                           */
/* ------------------------------------------------------------------ */

/*
 * 1b36:0010, class 010802 (NVMe I/O controller, PCI Code and ID Assignment
 * 1.11). BAR0 16 KiB mem64: NVMe registers (NVMe 1.4 §3.1), MSI-X table
 * at 0x2000 and PBA at 0x3000 (65 entries: admin + 64 I/O queues, as QEMU
 * lays it out). Capabilities: PM at 0x40 (No_Soft_Reset set), MSI-X at
 * 0x50, PCIe v2 endpoint with FLR at 0x60 (8 GT/s x4); extended: SR-IOV
 * and ATS when asked for (SR-IOV first, at 0x100). Interrupt pin A.
 *
 * DMA doorbell: software writes ADDR, LEN (1..4096) and PATTERN, then 1 to
 * DOORBELL. The controller calls sim_dma_begin at once (Transactions
 * Pending set), and SIM_NVME_DMA_NS later writes LEN bytes (byte i =
 * PATTERN + i) with sim_dma_write, calls sim_dma_end, sets STATUS DONE
 * (with the error, if any) and raises MSI-X vector 0 (INTx: the level
 * stays until STATUS DONE is written 1 to clear). A doorbell while BUSY is
 * ignored. A reset cancels the transfer (nothing is written).
 *
 * SR-IOV (PCIe 5.0 §9.3): the VFs are built with the PF as functions whose
 * Vendor and Device ID read 0xffff (§9.3.4.1.1-2), at routing ID
 * PF + First VF Offset + i * VF Stride on the PF's bus. VF i answers only
 * while VF Enable is set and i < NumVFs; it then starts from its power-on
 * state and is ready 100 ms after VF Enable was set (§9.3.3.3.1). Hidden
 * VFs carry device number SIM_DEV_HIDDEN, which no valid BDF names
 * (devices are 0..31), so routing (sim_route) never reaches them and
 * sim_snapshot skips them. At most 7 VFs. Only device 0 is reachable
 * below a root or downstream port (no ARI), so offsets/strides must keep
 * the VFs in functions 1..7 of device 0 there. A VF has a PCIe capability with FLR
 * and no BARs (VF BARs are not modelled); its Command has only Bus Master
 * writable (§9.3.4.1.3).
 *
 * Faults: SIM_FAULT_FLR_NEVER_COMPLETES (platform: stays not ready).
 */
#define SIM_NVME_VENDOR	      0x1b36
#define SIM_NVME_DEVICE	      0x0010
#define SIM_NVME_VF_DEVICE    0x0011 /* model choice */
#define SIM_NVME_BAR0_SIZE    (16u << 10)
#define SIM_NVME_MSIX_ENTRIES 65
#define SIM_NVME_MSIX_TABLE   0x2000
#define SIM_NVME_MSIX_PBA     0x3000
/* NVMe 1.4 §3.1 controller registers. */
#define SIM_NVME_CAP   0x00 /* 64-bit RO */
#define SIM_NVME_VS    0x08 /* RO: 1.4.0 */
#define SIM_NVME_INTMS 0x0c
#define SIM_NVME_INTMC 0x10
#define SIM_NVME_CC    0x14 /* RW; bit 0 EN, bits 15:14 SHN */
#define SIM_NVME_CSTS  0x1c /* RO; bit 0 RDY = CC.EN, bits 3:2 SHST */
#define SIM_NVME_AQA   0x24
#define SIM_NVME_ASQ   0x28 /* 64-bit */
#define SIM_NVME_ACQ   0x30 /* 64-bit */
/* Model DMA doorbell, in 0xf00-0xfff (NVMe 1.4 §3.1: command set specific). */
#define SIM_NVME_DMA_ADDR_LO  0xf00
#define SIM_NVME_DMA_ADDR_HI  0xf04
#define SIM_NVME_DMA_LEN      0xf08
#define SIM_NVME_DMA_PATTERN  0xf0c
#define SIM_NVME_DMA_DOORBELL 0xf10 /* write 1: start */
#define SIM_NVME_DMA_STATUS   0xf14 /* bit 0 BUSY, bit 1 DONE (RW1C), 31:16 errno */
#define SIM_NVME_DMA_BUSY     (1u << 0)
#define SIM_NVME_DMA_DONE     (1u << 1)
#define SIM_NVME_DMA_MAX      4096u
#define SIM_NVME_DMA_NS	      (10 * SIM_NS_PER_US) /* model choice: doorbell to completion */

struct sim_nvme_opts {
	uint16_t total_vfs; /* 0: no SR-IOV capability */
	uint16_t vf_offset; /* First VF Offset (default 1 when 0) */
	uint16_t vf_stride; /* VF Stride (default 1 when 0) */
	bool ats;	    /* ATS extended capability */
	unsigned faults;
};

/* Without SR-IOV and ATS. */
struct sim_fn *sim_dev_nvme(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			    unsigned faults);
struct sim_fn *sim_dev_nvme_ex(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
			       uint8_t fn, const struct sim_nvme_opts *o);
/* The PF's VF i (whether visible or not), NULL when out of range. */
struct sim_fn *sim_dev_nvme_vf(const struct sim_fn *pf, unsigned i);

#define SIM_DEV_HIDDEN 0xff /* device number of a function no request reaches */

/* ------------------------------------------------------------------ */
/* HD-Audio-like controller (Intel ICH9 HDA identity)                   */
/* ------------------------------------------------------------------ */

/*
 * 8086:293e, class 040300 (ICH9 datasheet: HD Audio controller; PM at
 * 0x50, MSI at 0x60 with one 64-bit vector, PCIe at 0x70; HDBAR 16 KiB
 * 64-bit). Here a PCIe endpoint (it sits below a switch) without FLR, PM
 * No_Soft_Reset clear, MSI only (no MSI-X), interrupt pin A.
 *
 * One output stream with a simplified descriptor (not the HDA BDL): a
 * cyclic buffer of NPERIODS periods of PERIOD bytes at BDPL/BDPU, played
 * at RATE frames per second of FRAME bytes (default 4: 16-bit stereo).
 * Timing (exact, in virtual time): with RUN set at t0 and
 * bytes_per_s = RATE * FRAME, period k (k = 0, 1, ...) plays during
 * [t(k), t(k+1)), t(k) = t0 + floor(k * PERIOD * 10^9 / bytes_per_s) ns,
 * so rounding never accumulates. At t(k) the controller starts period k:
 * if software has marked it filled (WP > k, see below) it reads the
 * period's PERIOD bytes at BDPL + (k mod NPERIODS) * PERIOD with
 * sim_dma_read (a failed read counts in DMA_ERRS and plays silence);
 * otherwise it counts an underrun (UNDERRUNS++, STS FIFOE), reads nothing
 * and plays silence. At t(k+1) period k is complete: LPIB becomes
 * ((k + 1) mod NPERIODS) * PERIOD, PERIODS_DONE = k + 1, STS BCIS is set
 * and, with CTL IOCE, one interrupt is raised (MSI; INTx: level while
 * BCIS is set); then period k+1 starts at the same instant.
 * Filling: WP is a free-running count of periods software has filled
 * since RUN was set (ALSA's appl_ptr in periods): period k is filled when
 * (int32_t)(WP - k) > 0. A driver fills all periods, writes WP = NPERIODS,
 * sets RUN, and on each interrupt refills the period just completed and
 * adds one to WP: it underruns when it falls NPERIODS periods behind.
 * PERIOD, NPERIODS, RATE, FRAME and the address are latched when RUN goes
 * 0->1 (PERIOD 1..SIM_HDA_MAX_PERIOD, NPERIODS 1..256, RATE
 * 1..SIM_HDA_MAX_RATE, FRAME 1..SIM_HDA_MAX_FRAME: otherwise RUN is
 * refused and reads back 0); PERIODS_DONE, LPIB, UNDERRUNS and DMA_ERRS
 * restart at 0, WP is kept.
 * Clearing RUN stops at once (the period in progress is not completed).
 */
#define SIM_HDA_VENDOR		0x8086
#define SIM_HDA_DEVICE		0x293e
#define SIM_HDA_BAR0_SIZE	(16u << 10)
#define SIM_HDA_GCAP		0x00 /* RO: HDA 1.0a §3.3.2 GCAP (1 output stream, 64OK) */
#define SIM_HDA_VERSION		0x02 /* VMIN 0x00, VMAJ 0x01 (HDA 1.0a §3.3.3-4) */
#define SIM_HDA_SD_CTL		0x80 /* bit 1 RUN, bit 2 IOCE */
#define SIM_HDA_SD_CTL_RUN	(1u << 1)
#define SIM_HDA_SD_CTL_IOCE	(1u << 2)
#define SIM_HDA_SD_STS		0x84 /* RW1C: bit 2 BCIS, bit 3 FIFOE */
#define SIM_HDA_SD_STS_BCIS	(1u << 2)
#define SIM_HDA_SD_STS_FIFOE	(1u << 3)
#define SIM_HDA_SD_LPIB		0x88 /* RO: byte position of the completed periods in the ring */
#define SIM_HDA_SD_PERIOD	0x8c /* RW: period size, bytes */
#define SIM_HDA_SD_NPERIODS	0x90 /* RW: periods in the ring */
#define SIM_HDA_SD_RATE		0x94 /* RW: frames per second */
#define SIM_HDA_SD_FRAME	0x98 /* RW: bytes per frame (default 4) */
#define SIM_HDA_SD_BDPL		0x9c /* RW: buffer address low */
#define SIM_HDA_SD_BDPU		0xa0 /* RW: buffer address high */
#define SIM_HDA_SD_WP		0xa4 /* RW: periods filled since RUN (free-running) */
#define SIM_HDA_SD_PERIODS_DONE 0xa8 /* RO: periods completed since RUN */
#define SIM_HDA_SD_UNDERRUNS	0xac /* RO */
#define SIM_HDA_SD_DMA_ERRS	0xb0 /* RO: period reads that failed (BME off, IOMMU fault) */
#define SIM_HDA_SD_LAST_SUM	0xb4 /* RO: byte sum of the last period read (for tests) */
#define SIM_HDA_MAX_PERIODS	256u
#define SIM_HDA_MAX_PERIOD	(64u << 10) /* model limits: PERIOD, RATE, FRAME */
#define SIM_HDA_MAX_RATE	1000000u
#define SIM_HDA_MAX_FRAME	64u

struct sim_fn *sim_dev_hda(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			   unsigned faults);
/* Virtual time at which period k of a stream started at t0 begins (the
 * formula above), for drivers and tests. */
uint64_t sim_hda_period_start(uint64_t t0, uint64_t k, uint32_t period_bytes, uint32_t rate,
			      uint32_t frame_bytes);

/* ------------------------------------------------------------------ */
/* Conventional PCI NIC (Realtek RTL8139 / RTL8169 identity)            */
/* ------------------------------------------------------------------ */

/*
 * Conventional PCI function (256-byte configuration space, no capability
 * list, no PM, no FLR), INTx A only, for the secondary side of the
 * PCIe-to-PCI bridge. BAR0 256-byte I/O and BAR1 256-byte mem32 decode
 * the same registers (RTL8139 datasheet: IOAR/MEMAR). Two variants:
 *   - sim_dev_legacy: 10ec:8169 (RTL8169, a PCI 2.3 part): Command bit 10
 *     INTx Disable is read-write and Status bit 3 Interrupt Status is
 *     implemented (PCI LB 3.0 §6.2.2-3);
 *   - sim_dev_legacy_nointxdis: 10ec:8139 (RTL8139, PCI 2.2): INTx Disable
 *     is read-only 0 (the model removes bit 10 from the function's write
 *     mask f->wmask after sim_fn_header) and Interrupt Status always
 *     reads 0 (the model clears it after every change of its INTx level,
 *     since irq.c sets it for every function).
 * Interrupt (RTL8139/8169 IMR at 0x3c, ISR at 0x3e, both 16-bit; ISR
 * bits are write-1-to-clear): INTx level = (ISR & IMR) != 0. SWINT (the
 * model's own register) ORs its value into ISR, so software can raise an
 * interrupt; writing 1s to ISR acknowledges it.
 *
 * Faults: SIM_FAULT_IRQ_STORM: once IMR is non-zero, every
 * SIM_DEV_STORM_NS the device sets ISR bit 0 again (a screaming INTx:
 * re-asserted 1 µs after every acknowledgement), until reset.
 */
#define SIM_LEG_VENDOR	  0x10ec
#define SIM_LEG_DEVICE_23 0x8169
#define SIM_LEG_DEVICE_22 0x8139
#define SIM_LEG_BAR_SIZE  256u
#define SIM_LEG_IDR0	  0x00 /* MAC address, 6 bytes RW */
#define SIM_LEG_IMR	  0x3c /* 16-bit RW */
#define SIM_LEG_ISR	  0x3e /* 16-bit RW1C */
#define SIM_LEG_SWINT	  0xf0 /* model: write sets ISR bits */
#define SIM_LEG_ISR_ROK	  0x0001

struct sim_fn *sim_dev_legacy(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
			      uint8_t fn, unsigned faults);
struct sim_fn *sim_dev_legacy_nointxdis(struct sim_platform *p, struct sim_fn *parent, uint8_t dev,
					uint8_t fn, unsigned faults);

/* ------------------------------------------------------------------ */
/* GPU-like (NVIDIA GP104 identity)                                      */
/* ------------------------------------------------------------------ */

/*
 * 10de:1b80 (GeForce GTX 1080), class 030000. BAR0 16 MiB mem32
 * registers, BAR1 256 MiB prefetchable 64-bit (BARs 1-2; reads 0, writes
 * ignored: no VRAM is modelled). Capabilities: PM at 0x60 (No_Soft_Reset
 * set), MSI at 0x68 (1 vector, 64-bit), PCIe v2 legacy endpoint at 0x78
 * without FLR, 8 GT/s x16. Interrupt pin A. Resettable only by a bus
 * reset, like many GPUs.
 *
 * BAR0 registers:
 *   0x000000 BOOT_0    RO chip identification (GP104: 0x134000a1, NV134)
 *   0x000100 INTR      RW1C pending interrupt bits
 *   0x000140 INTR_EN   RW; bit 0 enables the interrupt
 *   0x000144 INTR_SET  model: write sets INTR bits (MSI on an enabled rise;
 *                      INTx level = (INTR & INTR_EN) != 0)
 *   0x088000-0x088fff  configuration space mirror (envytools: PCI config
 *                      space mirror at 0x88000 on NV40 and later): reads
 *                      return the function's own configuration registers,
 *                      writes are configuration writes to the function's
 *                      own BDF (sim_cfg_write: the same masks and side
 *                      effects), a back door around any configuration
 *                      space virtualization;
 *   0x100200 STOLEN_BASE   RW (model) the base of the 64 MiB of host
 *                      memory the GPU "steals" below the top of low
 *                      memory. The driver must compute it from the HOST
 *                      BRIDGE: read 00:00.0 configuration register 0x9c
 *                      (16 bits, TOLUD-like: bits 15:4 are address bits
 *                      31:20 of the top of low memory) and write
 *                      ((reg & 0xfff0) << 16) - SIM_GPU_STOLEN_SIZE;
 *   0x100204 STOLEN_STATUS RO 0: not programmed, 1: matches the real host
 *                      bridge, 2: mismatch (the device compares with the
 *                      platform's actual host bridge 00:00.0, so a driver
 *                      shown a virtual host bridge gets 2).
 */
#define SIM_GPU_VENDOR		0x10de
#define SIM_GPU_DEVICE		0x1b80
#define SIM_GPU_BAR0_SIZE	(16u << 20)
#define SIM_GPU_BAR1_SIZE	(256ull << 20)
#define SIM_GPU_BOOT_0		0x000000
#define SIM_GPU_BOOT_0_VALUE	0x134000a1u
#define SIM_GPU_INTR		0x000100
#define SIM_GPU_INTR_EN		0x000140
#define SIM_GPU_INTR_SET	0x000144
#define SIM_GPU_CFG_MIRROR	0x088000
#define SIM_GPU_CFG_MIRROR_SIZE 0x1000
#define SIM_GPU_STOLEN_BASE	0x100200
#define SIM_GPU_STOLEN_STATUS	0x100204
#define SIM_GPU_STOLEN_SIZE	(64u << 20)
#define SIM_GPU_HB_TOLUD	0x9c /* host bridge register the driver must read */

struct sim_fn *sim_dev_gpu(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			   unsigned faults);
/* The stolen base a driver computes from a host-bridge register 0x9c value. */
uint32_t sim_gpu_stolen_base(uint16_t hb_tolud);

/* ------------------------------------------------------------------ */
/* edu: QEMU's educational device                                       */
/* ------------------------------------------------------------------ */

/*
 * 1234:11e8, class 00ff00 (QEMU docs/specs/edu.rst): conventional PCI,
 * 256-byte configuration space, BAR0 1 MiB mem32, MSI (1 vector, 64-bit)
 * at 0x40, INTx A. Additions of this model (edu has neither): PM at 0x50
 * (No_Soft_Reset clear) and Advanced Features at 0x58 with FLR but without
 * TP (Transactions Pending) support, so FLR and PM resets can be studied
 * while software has no Transactions Pending bit to poll.
 *
 * BAR0 registers (edu.rst):
 *   0x00 RO  identification 0x010000ed
 *   0x04 RW  liveness: reads back the bitwise inverse of the value written
 *   0x08 RW  factorial: writing n computes n! (mod 2^32) at once
 *   0x20 RW  status: bit 0 computing (RO), bit 7 raise interrupt 0x1 after
 *            the factorial
 *   0x24 RO  interrupt status
 *   0x60 WO  raise: ORs the value into interrupt status, raises
 *   0x64 WO  acknowledge: clears the bits written; INTx drops at 0
 *   0x80 RW  DMA source, 0x88 DMA destination, 0x90 DMA count (64-bit)
 *   0x98 RW  DMA command: bit 0 start (reads 1 while the transfer is
 *            queued), bit 1 direction (0: RAM to edu, 1: edu to RAM),
 *            bit 2 raise interrupt 0x100 when done
 *   0x40000  the 4 KiB DMA buffer, as the device's DMA sees it; the model
 *            also maps it in BAR0 at the same offset for CPU access.
 * A start latches source, destination, count and direction; the transfer
 * is issued 100 ms later (edu.rst: a timer). No sim_dma_begin: edu has no
 * Transactions Pending. A start while one is queued is ignored; a count
 * of 0, above 4096 or a device-side range outside the buffer is ignored
 * (nothing queued). The raise/interrupt goes by MSI when MSI is enabled,
 * else INTx (level while interrupt status is non-zero).
 *
 * Well-behaved: clearing Bus Master Enable cancels a queued transfer
 * (start bit cleared, no interrupt), and any reset cancels it.
 * Faults:
 *   SIM_FAULT_DMA_SURVIVES  the queued transfer survives Bus Master off and
 *                 every reset (the reset hook does not cancel it); when its
 *                 100 ms timer fires it is issued with sim_dma_* into
 *                 whatever the IOVA maps to then, or dropped by the
 *                 platform (-EPERM) if Bus Master is off at that moment
 *                 (dropped by the model, uncounted, if the function is
 *                 held in a bus reset then);
 *   SIM_FAULT_DMA_WAITS_BME as above, but a transfer whose timer fires
 *                 with Bus Master off (or in a bus reset) is held and
 *                 issued the moment Bus Master is set again;
 *   SIM_FAULT_IRQ_STORM once the interrupt is enabled (MSI Enable set, or
 *                 the raise register written), the device raises it every
 *                 SIM_DEV_STORM_NS until a reset.
 * A transfer queued before a reset (faults above) that completes after
 * it writes memory but neither changes registers nor raises an interrupt.
 * Up to SIM_EDU_DMA_QUEUE transfers can be outstanding across resets.
 */
#define SIM_EDU_VENDOR		 0x1234
#define SIM_EDU_DEVICE		 0x11e8
#define SIM_EDU_BAR0_SIZE	 (1u << 20)
#define SIM_EDU_ID		 0x00
#define SIM_EDU_ID_VALUE	 0x010000edu
#define SIM_EDU_LIVENESS	 0x04
#define SIM_EDU_FACTORIAL	 0x08
#define SIM_EDU_STATUS		 0x20
#define SIM_EDU_STATUS_COMPUTING 0x01
#define SIM_EDU_STATUS_IRQFACT	 0x80
#define SIM_EDU_IRQ_STATUS	 0x24
#define SIM_EDU_IRQ_RAISE	 0x60
#define SIM_EDU_IRQ_ACK		 0x64
#define SIM_EDU_DMA_SRC		 0x80
#define SIM_EDU_DMA_DST		 0x88
#define SIM_EDU_DMA_COUNT	 0x90
#define SIM_EDU_DMA_CMD		 0x98
#define SIM_EDU_DMA_CMD_START	 0x1
#define SIM_EDU_DMA_CMD_TO_RAM	 0x2
#define SIM_EDU_DMA_CMD_IRQ	 0x4
#define SIM_EDU_DMA_IRQ_VALUE	 0x100
#define SIM_EDU_FACT_IRQ_VALUE	 0x1
#define SIM_EDU_BUF		 0x40000
#define SIM_EDU_BUF_SIZE	 4096u
#define SIM_EDU_DMA_NS		 (100 * SIM_NS_PER_MS) /* edu.rst: 100 ms timer */
#define SIM_EDU_DMA_QUEUE	 4

struct sim_fn *sim_dev_edu(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			   unsigned faults);

/* Period of SIM_FAULT_IRQ_STORM (model choice). */
#define SIM_DEV_STORM_NS (1 * SIM_NS_PER_US)

/* ------------------------------------------------------------------ */
/* The reference machine                                                 */
/* ------------------------------------------------------------------ */

/*
 * sim_build_reference() builds, below the platform's host bridge 00:00.0,
 * and numbers the buses (sim_enumerate):
 *   00:1c.0 root port, 8 GT/s      -> 01:00.0 NVMe (SR-IOV: 4 VFs at
 *                                     01:00.1-4 when enabled, ATS)
 *   00:1c.1 root port, 5 GT/s      -> 02:00.0 switch upstream port
 *        03:00.0 downstream port   -> 04:00.0/04:00.1 dual-port NIC
 *        03:01.0 downstream port   -> 05:00.0 HDA
 *   00:1c.2 root port, 2.5 GT/s    -> 06:00.0 PCIe-to-PCI bridge
 *        07:00.0 conventional NIC with INTx Disable (10ec:8169)
 *        07:04.0 conventional NIC without INTx Disable (10ec:8139); device
 *                numbers 0 and 4 swizzle to the same INTx line, so the two
 *                share an interrupt (P2P 1.2 §9.1)
 *   00:1c.3 root port, 8 GT/s      -> 08:00.0 GPU
 *   00:10.0 edu on the root bus (as in QEMU test beds)
 * Returns 0, or -ENOMEM (the platform is then partly built).
 */
struct sim_reference {
	struct sim_fn *rp[4];
	struct sim_fn *nvme, *sw_up, *sw_down[2], *nic[2], *hda, *pci_bridge, *legacy23, *legacy22,
		*gpu, *edu;
};

int sim_build_reference(struct sim_platform *p);
/* The same, recording the functions built in *ref (may be NULL). */
int sim_build_reference_ex(struct sim_platform *p, struct sim_reference *ref);

/* ------------------------------------------------------------------ */
/* Helpers shared by the models                                          */
/* ------------------------------------------------------------------ */

/* A model's 32-bit register access: off is 4-byte aligned; a write
 * changes only the bits in mask (the bytes the access covered). */
typedef uint32_t (*sim_dev_rd32_fn)(struct sim_fn *f, unsigned bar, uint64_t off);
typedef void (*sim_dev_wr32_fn)(struct sim_fn *f, unsigned bar, uint64_t off, uint32_t val,
				uint32_t mask);

/* Split a BAR access of 1..8 bytes into 32-bit register accesses. */
uint64_t sim_dev_read_split(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			    sim_dev_rd32_fn rd);
void sim_dev_write_split(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size, uint64_t val,
			 sim_dev_wr32_fn wr);
/* A masked register update: bits in mask take val. */
static inline uint32_t sim_dev_merge(uint32_t old, uint32_t val, uint32_t mask)
{
	return (old & ~mask) | (val & mask);
}
/* MSI-X or MSI enabled: the function signals by messages, not INTx. */
bool sim_dev_msg_irq(const struct sim_fn *f);
/* Bring the function's interrupt in line with its cause: with MSI-X/MSI,
 * a message on vector when edge (the cause just rose) and INTx kept low;
 * otherwise the INTx request level follows level. */
void sim_dev_irq_update(struct sim_fn *f, unsigned vector, bool level, bool edge);

#endif
