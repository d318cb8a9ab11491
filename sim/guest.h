/*
 * A scriptable guest "driver" for tests: it reaches its device through a
 * struct hqio_host_ops (bare metal today; hqio's virtual configuration
 * space later) and does what a driver does: size and program BARs, enable
 * decoding and bus mastering, enable MSI or INTx, count the interrupts it
 * receives, acknowledge them and send EOI.
 */
#ifndef HQIO_SIM_GUEST_H
#define HQIO_SIM_GUEST_H

#include "sim.h"

#define SIM_GUEST_VECTORS  256
#define SIM_GUEST_MSI_ADDR 0xfee00000u /* x86 LAPIC message address (Intel SDM vol. 3 §11.11.1) */

struct sim_guest {
	struct sim_platform *p;
	const struct hqio_host_ops *ops; /* how the guest reaches its device */
	struct hqio_bdf bdf;
	uint64_t irq_count[SIM_GUEST_VECTORS]; /* interrupts received, by vector */
	uint64_t last_irq_ns;
	unsigned intx_pin; /* IOAPIC pin when INTx is used */
};

/* Attach a guest to its device; it becomes the platform's interrupt owner
 * (MSI writes and IOAPIC deliveries are counted in irq_count). */
void sim_guest_init(struct sim_guest *g, struct sim_platform *p, const struct hqio_host_ops *ops,
		    struct hqio_bdf bdf);

int sim_guest_cfg_read(struct sim_guest *g, uint16_t off, unsigned size, uint32_t *val);
int sim_guest_cfg_write(struct sim_guest *g, uint16_t off, unsigned size, uint32_t val);
/* BAR sizing the way firmware does it: save, write all-ones, read, restore. */
int sim_guest_bar_size(struct sim_guest *g, unsigned bar, uint64_t *size);
int sim_guest_bar_program(struct sim_guest *g, unsigned bar, uint64_t addr);
/* Command register bits to set (HQIO_PCI_COMMAND_*), others kept. */
int sim_guest_enable(struct sim_guest *g, uint16_t command_bits);
int sim_guest_disable(struct sim_guest *g, uint16_t command_bits);
/* MSI with vectors starting at guest vector `vector`. */
int sim_guest_enable_msi(struct sim_guest *g, uint8_t vector, unsigned count);
/* INTx: clear INTx Disable and route the pin to `vector`, level-triggered. */
int sim_guest_enable_intx(struct sim_guest *g, uint8_t vector);
int sim_guest_eoi(struct sim_guest *g);
int sim_guest_mmio_read(struct sim_guest *g, unsigned bar, uint64_t off, unsigned size,
			uint64_t *val);
int sim_guest_mmio_write(struct sim_guest *g, unsigned bar, uint64_t off, unsigned size,
			 uint64_t val);
uint64_t sim_guest_irqs(const struct sim_guest *g);

/* ------------------------------------------------------------------ */
/* Device drivers with virtualization holes (docs/dvh-runtime.md)       */
/* ------------------------------------------------------------------ */

/* Configuration access to another function (e.g. the host bridge 00:00.0),
 * as a driver does with pci_get_domain_bus_and_slot(). */
int sim_guest_cfg_read_at(struct sim_guest *g, struct hqio_bdf bdf, uint16_t off, unsigned size,
			  uint32_t *val);
int sim_guest_cfg_write_at(struct sim_guest *g, struct hqio_bdf bdf, uint16_t off, unsigned size,
			   uint32_t val);

/* What the GPU model's driver learns through its BAR0 configuration
 * mirror (SIM_GPU_CFG_MIRROR) instead of configuration space. */
struct sim_guest_gpu_view {
	uint16_t vendor, device, command;
	uint32_t bar0; /* BAR0 register: the base the driver believes it has */
};
int sim_guest_gpu_mirror_view(struct sim_guest *g, struct sim_guest_gpu_view *out);
/* The GPU model's stolen-memory setup: read the host bridge's TOLUD-like
 * register (00:00.0 SIM_GPU_HB_TOLUD), program SIM_GPU_STOLEN_BASE, and
 * return SIM_GPU_STOLEN_STATUS (1: matches the real platform). */
int sim_guest_gpu_stolen(struct sim_guest *g, uint32_t *hb_reg, uint32_t *status);

/* The dual-port NIC model's driver: the base MAC of the device's NVM (the
 * model's: 52:54:00:12:34:50, sim/devices/nic.c), last byte + the port
 * number, programmed into RAL0/RAH0. The port number comes from the STATUS
 * LAN ID (e1000e's way, hardware) or from the function number of the
 * configuration address (tg3's PCI_FUNC(devfn) way). */
enum sim_guest_port_from {
	SIM_GUEST_PORT_STATUS,
	SIM_GUEST_PORT_DEVFN,
};
#define SIM_GUEST_NIC_NVM_MAC 0x525400123450ULL
int sim_guest_nic_mac(struct sim_guest *g, enum sim_guest_port_from how, uint8_t mac[6]);

#endif
