/*
 * lib/reset executor (hqio/reset.h): quiesce a function (Bus Master off,
 * interrupts off, idle check, ATS off and invalidated), save the
 * host-owned configuration, arm canaries, try each planned reset method
 * with the specifications' delays, wait for readiness, verify that every
 * canary was cleared, fall back to the next method, quarantine when none
 * works, and restore the host-owned configuration.
 *
 * Pure code: every device access and every wait goes through struct
 * hqio_host_ops. Every wait is bounded by the sum of the sleeps it asked
 * for (not by now_ns), so a backend whose clock stands still cannot make
 * it hang.
 *
 * Choices:
 *   - Order: quiesce first, then save. The saved (and later restored)
 *     state is therefore the quiesced one: Bus Master off, MSI and MSI-X
 *     disabled with the MSI-X Function Mask set, INTx Disable set. Bus
 *     Master is never set again here (the restore clears it even if the
 *     saved value had it): the device stays quiesced until its next owner
 *     enables it, so no DMA programmed by the previous owner can start
 *     between the reset and the hand-over.
 *   - Quiesce also releases the host interrupt routing of the function
 *     (ops->irq_set with count 0 for MSI, MSI-X and INTx): under VFIO the
 *     MSI/MSI-X capabilities are virtualized and VFIO_DEVICE_SET_IRQS is
 *     the only way to really disable them; the configuration writes do it
 *     on the simulator and on raw-config backends.
 *   - Canaries (written after the save, checked after readiness and before
 *     the restore, because the restore rewrites the same registers):
 *       BARs        an assigned BAR address is its own canary (the reset
 *                   must return it to 0 and the host's value is only put
 *                   back afterwards); an unassigned BAR gets all-ones
 *                   written with its decode off, so it holds its size mask;
 *       Command     Memory / I/O Space (only for a space whose BARs all hold
 *                   host-assigned addresses or none: decode is never
 *                   enabled on a BAR holding the all-ones canary) and the
 *                   INTx Disable that quiesce set;
 *       MSI         Message Address 0xfee0c000 / Data 0x4a5a, written with
 *                   MSI disabled (an x86 interrupt address, Intel SDM vol. 3
 *                   §11.11.1, that is never used since MSI stays disabled);
 *       MSI-X       the Function Mask quiesce set (PCI LB 3.0 §6.8.2.3:
 *                   default 0);
 *       Device Ctl  the four error reporting enables, bits 3:0 (PCIe 5.0
 *                   §7.5.3.4: default 0);
 *       hooks       hooks->canary_write / canary_check (device registers;
 *                   checked after the restore, since they usually live in a
 *                   BAR that needs the host's decode back).
 *     A canary counts only if its write read back (a read-only or
 *     virtualized register arms nothing).
 *   - Reset defaults taken as 0: Command is 0 after reset (PCI LB 3.0
 *     §6.2.2), the error reporting enables and the MSI-X Function Mask
 *     default to 0 (above); for BAR address bits and MSI Message
 *     Address/Data the specifications name no reset value, so 0 is taken:
 *     the simulator's power-on image holds 0 there, and real functions
 *     clear these flops on reset in practice (firmware finds BARs at 0 at
 *     power-on). A device that resets them to something else needs a quirk
 *     (its own canary hooks).
 *   - Verification: a method counts only when the function answers again
 *     and every armed canary is back at its default. When nothing could be
 *     armed the method fails (-EIO): an unverifiable reset is not a reset.
 *     Before the next method the host values are put back and the
 *     canaries armed again; a function that does not answer (hung FLR)
 *     keeps the canaries armed before the previous method.
 *   - Readiness (after the delays of the method): Vendor ID first, where
 *     FFFFh or the CRS value 0001h means not ready, then the Command/Status
 *     dword must not read all-ones; a VF is judged by that dword alone
 *     (its IDs read FFFFh). Polls 1 ms, doubling up to 100 ms, bounded by
 *     ready_timeout_ns (as Linux's pci_dev_wait, with a shorter bound).
 *   - Which canaries mean something on which backend: on the simulator and
 *     any backend with raw configuration access, all of them. Under Linux
 *     VFIO, vfio-pci virtualizes the BARs, the MSI/MSI-X capabilities and
 *     part of Command, and the kernel's reset paths (pci_reset_function,
 *     hot reset) save and restore the header, PCIe, MSI and MSI-X state
 *     around the reset: there the configuration canaries prove nothing (or
 *     survive by restoration) and only the device-internal canaries of
 *     hooks->canary_write/check are meaningful, plus the MSI
 *     address/data when the backend lets them reach the device: such a
 *     backend sets HQIO_HOST_CFG_RESTORED (hqio/host_ops.h) and only those
 *     count.
 *   - A bus reset hits every function below the parent (plan->affected):
 *     their Bus Master is cleared before it, their header and PCIe/MSI/
 *     MSI-X control state is saved and restored after it (bridges first,
 *     by secondary bus number, so functions below them are reachable
 *     again), without canaries. ops->platform_reset(BUS) is used when the
 *     backend offers it (VFIO hot reset), else Bridge Control.
 *   - ATS state is not restored: quiesce turned ATS off on purpose; the
 *     next owner enables it again.
 */
#include "hqio/reset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL

/* Defaults of struct hqio_reset_opts (hqio/reset.h). */
#define DEF_TP_TIMEOUT_NS    (100 * NS_PER_MS)	/* PCIe 5.0 §6.6.2 impl. note: TP before FLR */
#define DEF_READY_TIMEOUT_NS (2000 * NS_PER_MS) /* contract default */
#define DEF_SBR_HOLD_NS	     (2 * NS_PER_MS) /* PCI LB 3.0 §4.3.2: Trst >= 1 ms; 2 ms as Linux */

/* Specification delays. */
#define T_FLR_NS     (100 * NS_PER_MS)	/* PCIe 5.0 §6.6.2: FLR completes within 100 ms */
#define T_AF_FLR_NS  (100 * NS_PER_MS)	/* AF ECN: the same 100 ms as PCIe FLR */
#define T_D3HOT_NS   (10 * NS_PER_MS)	/* PCI PM 1.2 §5.6.1, table 5-6: D0<->D3hot 10 ms */
#define T_TRHFA_NS   (1000 * NS_PER_MS) /* PCI LB 3.0 §4.3.2: Trhfa, 2^25 clocks (1 s) */
#define T_RST_RDY_NS (100 * NS_PER_MS)	/* PCIe 5.0 §6.6.1: 100 ms after reset / after DLLLA */

/* Poll intervals (model choices): start, doubling up to a cap. */
#define POLL_TP_FIRST_NS    (10 * NS_PER_US)
#define POLL_TP_MAX_NS	    (10 * NS_PER_MS)
#define POLL_LINK_FIRST_NS  (1 * NS_PER_MS)
#define POLL_LINK_MAX_NS    (10 * NS_PER_MS)
#define POLL_READY_FIRST_NS (1 * NS_PER_MS)
#define POLL_READY_MAX_NS   (100 * NS_PER_MS)

/* PCIe 5.0 §2.3.2: with CRS Software Visibility a Vendor ID read of a
 * function that is not ready returns 0001h, a reserved Vendor ID. */
#define CRS_VENDOR_ID 0x0001

/* Canary values (see the comment above). */
#define CANARY_MSI_ADDR 0xfee0c000u
#define CANARY_MSI_DATA 0x4a5au
#define DEVCTL_ERR_ENABLES                                                                         \
	(HQIO_PCI_EXP_DEVCTL_CERE | HQIO_PCI_EXP_DEVCTL_NFERE | HQIO_PCI_EXP_DEVCTL_FERE |         \
	 HQIO_PCI_EXP_DEVCTL_URRE)

#define MAX_CAP_WALK 48 /* (256 - 64) / 4 capabilities at most */

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static const char *method_label(enum hqio_reset_method m)
{
	switch (m) {
	case HQIO_RM_DEVICE_SPECIFIC:
		return "device-specific";
	case HQIO_RM_FLR:
		return "FLR";
	case HQIO_RM_AF_FLR:
		return "AF FLR";
	case HQIO_RM_PM:
		return "PM";
	case HQIO_RM_BUS:
		return "bus";
	default:
		return "?";
	}
}

static unsigned long long ms_of(uint64_t ns)
{
	return (unsigned long long)(ns / NS_PER_MS);
}

static uint64_t or_default(uint64_t v, uint64_t def)
{
	return v ? v : def;
}

/* Append to a bounded string; silently truncates. */
static void append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strnlen(buf, size);
	if (len + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
	(void)n;
}

static int rd(const struct hqio_host_ops *ops, struct hqio_bdf bdf, uint16_t off, unsigned size,
	      uint32_t *val)
{
	*val = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	return ops->cfg_read(ops->ctx, bdf, off, size, val);
}

static int wr(const struct hqio_host_ops *ops, struct hqio_bdf bdf, uint16_t off, unsigned size,
	      uint32_t val)
{
	return ops->cfg_write(ops->ctx, bdf, off, size, val);
}

static uint32_t rdv(const struct hqio_host_ops *ops, struct hqio_bdf bdf, uint16_t off,
		    unsigned size)
{
	uint32_t v;
	if (rd(ops, bdf, off, size, &v))
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	return v;
}

/* Write only when the register differs (as Linux's restore does). */
static void wr_if_diff(const struct hqio_host_ops *ops, struct hqio_bdf bdf, uint16_t off,
		       unsigned size, uint32_t val)
{
	if (rdv(ops, bdf, off, size) != val)
		wr(ops, bdf, off, size, val);
}

static bool same_bdf(struct hqio_bdf a, struct hqio_bdf b)
{
	return a.domain == b.domain && a.bus == b.bus && a.dev == b.dev && a.fn == b.fn;
}

/*
 * Bounded poll: cond() first, then sleeps of first, 2*first, ... (at most
 * max_step) until it holds or the sleeps add up to timeout. *waited gets
 * the time slept. 0, -ETIMEDOUT, or the error of sleep_ns.
 */
static int poll(const struct hqio_host_ops *ops, bool (*cond)(void *), void *arg, uint64_t first,
		uint64_t max_step, uint64_t timeout, uint64_t *waited)
{
	uint64_t slept = 0, step = first ? first : 1;
	int rc = 0;
	for (;;) {
		if (cond(arg))
			break;
		if (slept >= timeout) {
			rc = -ETIMEDOUT;
			break;
		}
		uint64_t s = step < timeout - slept ? step : timeout - slept;
		rc = ops->sleep_ns(ops->ctx, s);
		if (rc)
			break;
		slept += s;
		step = step > max_step / 2 ? max_step : step * 2;
	}
	if (waited)
		*waited = slept;
	return rc;
}

/* Walk the standard capability list (PCI LB 3.0 §6.7) for id; 0 if absent. */
static uint16_t find_cap(const struct hqio_host_ops *ops, struct hqio_bdf bdf, uint8_t id)
{
	uint32_t sta = rdv(ops, bdf, HQIO_PCI_STATUS, 2);
	if (sta == 0xffff || !(sta & HQIO_PCI_STATUS_CAP_LIST))
		return 0;
	uint8_t hdr = (uint8_t)(rdv(ops, bdf, HQIO_PCI_HEADER_TYPE, 1) & HQIO_PCI_HEADER_TYPE_MASK);
	uint16_t ptr_reg = hdr == HQIO_PCI_HEADER_TYPE_CARDBUS ? HQIO_PCI_CB_CAPABILITY_LIST
							       : HQIO_PCI_CAPABILITY_LIST;
	uint16_t pos = (uint16_t)(rdv(ops, bdf, ptr_reg, 1) & HQIO_PCI_CAP_PTR_MASK);
	for (unsigned i = 0; i < MAX_CAP_WALK && pos >= HQIO_PCI_CFG_HDR_SIZE; i++) {
		uint32_t h = rdv(ops, bdf, pos, 2);
		if ((h & 0xff) == 0xff)
			return 0;
		if ((h & 0xff) == id)
			return pos;
		pos = (uint16_t)((h >> 8) & HQIO_PCI_CAP_PTR_MASK);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Readiness                                                            */
/* ------------------------------------------------------------------ */

struct ready_arg {
	const struct hqio_host_ops *ops;
	struct hqio_bdf bdf;
	bool vf;
};

static bool fn_ready(void *a)
{
	struct ready_arg *r = a;
	uint32_t v;
	if (!r->vf) {
		/* Vendor ID first: with CRS Software Visibility this is the
		 * read the root complex answers at once (PCIe 5.0 §2.3.2). */
		if (rd(r->ops, r->bdf, HQIO_PCI_VENDOR_ID, 4, &v))
			return false;
		if ((v & 0xffff) == CRS_VENDOR_ID || (v & 0xffff) == 0xffff)
			return false;
	}
	/* A VF's Vendor and Device ID read FFFFh even when ready (PCIe 5.0
	 * §9.3.4.1.1-2): Command/Status at 0x04 answers instead. */
	if (rd(r->ops, r->bdf, HQIO_PCI_COMMAND, 4, &v))
		return false;
	return v != 0xffffffffu;
}

static int wait_ready(const struct hqio_host_ops *ops, struct hqio_bdf bdf, bool vf,
		      uint64_t timeout, uint64_t *waited)
{
	struct ready_arg r = { .ops = ops, .bdf = bdf, .vf = vf };
	return poll(ops, fn_ready, &r, POLL_READY_FIRST_NS, POLL_READY_MAX_NS, timeout, waited);
}

/* ------------------------------------------------------------------ */
/* Quiesce                                                              */
/* ------------------------------------------------------------------ */

struct bit_arg {
	const struct hqio_host_ops *ops;
	struct hqio_bdf bdf;
	uint16_t off;
	unsigned size;
	uint32_t mask, value; /* done when (reg & mask) == value */
};

static bool cfg_bits(void *a)
{
	struct bit_arg *b = a;
	uint32_t v;
	uint32_t ones = b->size == 4 ? 0xffffffffu : (1u << (8 * b->size)) - 1;
	if (rd(b->ops, b->bdf, b->off, b->size, &v) || v == ones)
		return false; /* not answering: not idle */
	return (v & b->mask) == b->value;
}

struct bar_arg {
	const struct hqio_host_ops *ops;
	const struct hqio_reset_plan *plan;
};

static bool bar_idle(void *a)
{
	struct bar_arg *b = a;
	uint64_t v;
	if (!b->ops->bar_read || b->ops->bar_read(b->ops->ctx, b->plan->bdf, b->plan->idle_bar,
						  b->plan->idle_off, 4, &v))
		return false;
	return ((uint32_t)v & b->plan->idle_mask) == b->plan->idle_value;
}

/* Quiesce; why (may be NULL) gets why idle was not confirmed. */
static int quiesce(const struct hqio_host_ops *ops, const struct hqio_reset_plan *plan,
		   const struct hqio_reset_opts *opts, bool *idle, char *why, size_t why_size,
		   struct hqio_error *err)
{
	struct hqio_bdf bdf = plan->bdf;
	uint64_t tp_timeout = or_default(opts ? opts->tp_timeout_ns : 0, DEF_TP_TIMEOUT_NS);
	uint32_t v;
	int rc;

	*idle = false;
	/* Bus Master off, INTx Disable on (PCI LB 3.0 §6.2.2). */
	if ((rc = rd(ops, bdf, HQIO_PCI_COMMAND, 2, &v)))
		return hqio_error_set(err, rc, "Command read failed (%d)", rc);
	if (v == 0xffff) {
		snprintf(why, why_size, "function not responding");
		return hqio_error_set(err, -ENODEV,
				      "function not responding (Command reads FFFFh)");
	}
	v = (v & ~(uint32_t)HQIO_PCI_COMMAND_MASTER) | HQIO_PCI_COMMAND_INTX_DISABLE;
	if ((rc = wr(ops, bdf, HQIO_PCI_COMMAND, 2, v)))
		return hqio_error_set(err, rc, "Command write failed (%d)", rc);
	/* MSI Enable off (PCI LB 3.0 §6.8.1.3). */
	if (plan->msi && !(rc = rd(ops, bdf, plan->msi + HQIO_PCI_MSI_FLAGS, 2, &v)))
		rc = wr(ops, bdf, plan->msi + HQIO_PCI_MSI_FLAGS, 2,
			v & ~(uint32_t)HQIO_PCI_MSI_FLAGS_ENABLE);
	if (rc)
		return hqio_error_set(err, rc, "MSI disable failed (%d)", rc);
	/* MSI-X Enable off, Function Mask on (PCI LB 3.0 §6.8.2.3). */
	if (plan->msix && !(rc = rd(ops, bdf, plan->msix + HQIO_PCI_MSIX_FLAGS, 2, &v)))
		rc = wr(ops, bdf, plan->msix + HQIO_PCI_MSIX_FLAGS, 2,
			(v & ~(uint32_t)HQIO_PCI_MSIX_FLAGS_ENABLE) | HQIO_PCI_MSIX_FLAGS_MASKALL);
	if (rc)
		return hqio_error_set(err, rc, "MSI-X disable failed (%d)", rc);
	/* The backend's routing too (the only real switch under VFIO); best
	 * effort: the configuration writes above already did it on the
	 * simulator. */
	if (ops->irq_set) {
		if (plan->msix)
			ops->irq_set(ops->ctx, bdf, HQIO_IRQ_MSIX, 0, NULL, NULL);
		if (plan->msi)
			ops->irq_set(ops->ctx, bdf, HQIO_IRQ_MSI, 0, NULL, NULL);
		ops->irq_set(ops->ctx, bdf, HQIO_IRQ_INTX, 0, NULL, NULL);
	}

	/* Idle check. */
	uint64_t waited = 0;
	switch (plan->idle) {
	case HQIO_IDLE_TP_PCIE:
	case HQIO_IDLE_TP_AF: {
		bool pcie = plan->idle == HQIO_IDLE_TP_PCIE;
		uint16_t cap = pcie ? plan->exp : plan->af;
		if (!cap) {
			snprintf(why, why_size, "no %s capability for Transactions Pending",
				 pcie ? "PCIe" : "AF");
			break;
		}
		/* Device Status bit 5 (PCIe 5.0 §7.5.3.5) or AF Status bit 0
		 * (AF ECN): software waits for it to clear before FLR (PCIe
		 * 5.0 §6.6.2 implementation note). */
		struct bit_arg b = {
			.ops = ops,
			.bdf = bdf,
			.off = (uint16_t)(cap + (pcie ? HQIO_PCI_EXP_DEVSTA : HQIO_PCI_AF_STATUS)),
			.size = pcie ? 2 : 1,
			.mask = pcie ? HQIO_PCI_EXP_DEVSTA_TRPND : HQIO_PCI_AF_STATUS_TP,
			.value = 0
		};
		rc = poll(ops, cfg_bits, &b, POLL_TP_FIRST_NS, POLL_TP_MAX_NS, tp_timeout, &waited);
		if (rc == 0)
			*idle = true;
		else if (rc == -ETIMEDOUT)
			snprintf(why, why_size, "Transactions Pending still set after %llu ms",
				 ms_of(waited));
		else
			return hqio_error_set(err, rc, "waiting for Transactions Pending: %d", rc);
		break;
	}
	case HQIO_IDLE_REGISTER: {
		struct bar_arg b = { .ops = ops, .plan = plan };
		rc = poll(ops, bar_idle, &b, POLL_TP_FIRST_NS, POLL_TP_MAX_NS, tp_timeout, &waited);
		if (rc == 0)
			*idle = true;
		else if (rc == -ETIMEDOUT)
			snprintf(why, why_size, "BAR%u+0x%x not idle after %llu ms",
				 (unsigned)plan->idle_bar, (unsigned)plan->idle_off, ms_of(waited));
		else
			return hqio_error_set(err, rc, "waiting for the idle register: %d", rc);
		break;
	}
	case HQIO_IDLE_WAIT:
		/* The documented worst-case latency of a queued DMA. */
		if (plan->idle_wait_ns && (rc = ops->sleep_ns(ops->ctx, plan->idle_wait_ns)))
			return hqio_error_set(err, rc, "idle wait failed (%d)", rc);
		*idle = true;
		break;
	default:
		snprintf(why, why_size, "unknown idle check %d", (int)plan->idle);
		break;
	}

	/* ATS off (PCIe 5.0 §10.5.1.3) and the device's translation cache
	 * invalidated, so no translation of the old owner outlives it. */
	if (plan->ats) {
		if ((rc = rd(ops, bdf, plan->ats + HQIO_PCI_ATS_CTRL, 2, &v)))
			return hqio_error_set(err, rc, "ATS Control read failed (%d)", rc);
		if (plan->ats_enabled || (v != 0xffff && (v & HQIO_PCI_ATS_CTRL_ENABLE))) {
			rc = wr(ops, bdf, plan->ats + HQIO_PCI_ATS_CTRL, 2,
				v & ~(uint32_t)HQIO_PCI_ATS_CTRL_ENABLE);
			if (!rc)
				rc = ops->ats_invalidate ? ops->ats_invalidate(ops->ctx, bdf, 0, 0)
							 : -EOPNOTSUPP;
			if (rc)
				return hqio_error_set(err, rc, "ATS disable/invalidate failed (%d)",
						      rc);
		}
	}
	return 0;
}

int hqio_quiesce(const struct hqio_host_ops *ops, const struct hqio_reset_plan *plan,
		 const struct hqio_reset_opts *opts, bool *idle_confirmed, struct hqio_error *err)
{
	bool idle = false;
	char why[96] = "";
	hqio_error_clear(err);
	if (idle_confirmed)
		*idle_confirmed = false;
	if (!ops || !plan || !ops->cfg_read || !ops->cfg_write || !ops->sleep_ns)
		return hqio_error_set(err, -EINVAL, "quiesce: missing ops or plan");
	int rc = quiesce(ops, plan, opts, &idle, why, sizeof(why), err);
	if (idle_confirmed)
		*idle_confirmed = idle;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Saving and restoring host-owned configuration                        */
/* ------------------------------------------------------------------ */

struct saved_cfg {
	struct hqio_bdf bdf;
	bool valid;
	uint8_t hdr_type;
	uint32_t hdr[16]; /* the first 64 bytes */
	uint16_t exp, msi, msix;
	bool exp_v2;
	uint32_t devctl, lnkctl, devctl2, lnkctl2;
	uint32_t msi_flags, msi_lo, msi_hi, msi_data, msi_mask;
	uint32_t msix_flags;
};

static bool msi_64(uint32_t flags)
{
	return flags & HQIO_PCI_MSI_FLAGS_64BIT;
}

static uint16_t msi_data_off(uint32_t flags)
{
	return msi_64(flags) ? HQIO_PCI_MSI_DATA_64 : HQIO_PCI_MSI_DATA_32;
}

static void save_cfg(const struct hqio_host_ops *ops, struct hqio_bdf bdf, bool vf, uint16_t exp,
		     uint16_t msi, uint16_t msix, struct saved_cfg *s)
{
	memset(s, 0, sizeof(*s));
	s->bdf = bdf;
	for (unsigned i = 0; i < 16; i++)
		s->hdr[i] = rdv(ops, bdf, (uint16_t)(4 * i), 4);
	/* A function not answering has nothing worth restoring. */
	if (s->hdr[1] == 0xffffffffu || (!vf && (s->hdr[0] & 0xffff) == 0xffff))
		return;
	s->valid = true;
	s->hdr_type = (uint8_t)((s->hdr[3] >> 16) & HQIO_PCI_HEADER_TYPE_MASK);
	s->exp = exp;
	s->msi = msi;
	s->msix = msix;
	if (exp) {
		uint32_t flags = rdv(ops, bdf, exp + HQIO_PCI_EXP_FLAGS, 2);
		s->exp_v2 = (flags & HQIO_PCI_EXP_FLAGS_VERS) >= 2;
		s->devctl = rdv(ops, bdf, exp + HQIO_PCI_EXP_DEVCTL, 2);
		s->lnkctl = rdv(ops, bdf, exp + HQIO_PCI_EXP_LNKCTL, 2);
		if (s->exp_v2) {
			s->devctl2 = rdv(ops, bdf, exp + HQIO_PCI_EXP_DEVCTL2, 2);
			s->lnkctl2 = rdv(ops, bdf, exp + HQIO_PCI_EXP_LNKCTL2, 2);
		}
	}
	if (msi) {
		s->msi_flags = rdv(ops, bdf, msi + HQIO_PCI_MSI_FLAGS, 2);
		s->msi_lo = rdv(ops, bdf, msi + HQIO_PCI_MSI_ADDRESS_LO, 4);
		if (msi_64(s->msi_flags))
			s->msi_hi = rdv(ops, bdf, msi + HQIO_PCI_MSI_ADDRESS_HI, 4);
		s->msi_data = rdv(ops, bdf, msi + msi_data_off(s->msi_flags), 2);
		if (s->msi_flags & HQIO_PCI_MSI_FLAGS_MASKBIT)
			s->msi_mask = rdv(ops, bdf,
					  msi + (msi_64(s->msi_flags) ? HQIO_PCI_MSI_MASK_64
								      : HQIO_PCI_MSI_MASK_32),
					  4);
	}
	if (msix)
		s->msix_flags = rdv(ops, bdf, msix + HQIO_PCI_MSIX_FLAGS, 2);
}

/* Device Control bit 15 is Initiate FLR on an endpoint (never restored)
 * and Bridge Configuration Retry Enable on a bridge (PCIe 5.0 §7.5.3.4). */
static uint32_t devctl_restorable(const struct saved_cfg *s)
{
	return s->hdr_type == HQIO_PCI_HEADER_TYPE_NORMAL
		       ? s->devctl & ~(uint32_t)HQIO_PCI_EXP_DEVCTL_BCR_FLR
		       : s->devctl;
}

static void restore_cfg(const struct hqio_host_ops *ops, const struct saved_cfg *s)
{
	struct hqio_bdf bdf = s->bdf;
	if (!s->valid)
		return;
	uint32_t cmd = s->hdr[1] & 0xffff;
	/* Decode and Bus Master off while the BARs are rewritten. */
	wr(ops, bdf, HQIO_PCI_COMMAND, 2,
	   cmd & ~(uint32_t)(HQIO_PCI_COMMAND_MASTER | HQIO_PCI_COMMAND_MEMORY |
			     HQIO_PCI_COMMAND_IO));
	if (s->exp) {
		wr_if_diff(ops, bdf, s->exp + HQIO_PCI_EXP_DEVCTL, 2, devctl_restorable(s));
		wr_if_diff(ops, bdf, s->exp + HQIO_PCI_EXP_LNKCTL, 2, s->lnkctl);
		if (s->exp_v2) {
			wr_if_diff(ops, bdf, s->exp + HQIO_PCI_EXP_DEVCTL2, 2, s->devctl2);
			wr_if_diff(ops, bdf, s->exp + HQIO_PCI_EXP_LNKCTL2, 2, s->lnkctl2);
		}
	}
	if (s->hdr_type == HQIO_PCI_HEADER_TYPE_BRIDGE) {
		/* P2P 1.2 §3.2: BARs 0-1, bus numbers, windows, ROM, Bridge
		 * Control (never with Secondary Bus Reset). */
		for (unsigned i = 4; i <= 6; i++)
			wr_if_diff(ops, bdf, (uint16_t)(4 * i), 4, s->hdr[i]);
		wr_if_diff(ops, bdf, HQIO_PCI_IO_BASE, 2, s->hdr[7] & 0xffff);
		for (unsigned i = 8; i <= 12; i++)
			wr_if_diff(ops, bdf, (uint16_t)(4 * i), 4, s->hdr[i]);
		wr_if_diff(ops, bdf, HQIO_PCI_ROM_ADDRESS1, 4, s->hdr[14]);
		wr_if_diff(ops, bdf, HQIO_PCI_BRIDGE_CONTROL, 2,
			   (s->hdr[15] >> 16) & ~(uint32_t)HQIO_PCI_BRIDGE_CTL_BUS_RESET);
	} else if (s->hdr_type == HQIO_PCI_HEADER_TYPE_NORMAL) {
		for (unsigned i = 4; i <= 9; i++) /* BARs 0-5 */
			wr_if_diff(ops, bdf, (uint16_t)(4 * i), 4, s->hdr[i]);
		wr_if_diff(ops, bdf, HQIO_PCI_ROM_ADDRESS, 4, s->hdr[12]);
	}
	wr_if_diff(ops, bdf, HQIO_PCI_CACHE_LINE_SIZE, 1, s->hdr[3] & 0xff);
	wr_if_diff(ops, bdf, HQIO_PCI_LATENCY_TIMER, 1, (s->hdr[3] >> 8) & 0xff);
	wr_if_diff(ops, bdf, HQIO_PCI_INTERRUPT_LINE, 1, s->hdr[15] & 0xff);
	if (s->msi) {
		uint16_t m = s->msi;
		wr_if_diff(ops, bdf, m + HQIO_PCI_MSI_ADDRESS_LO, 4, s->msi_lo);
		if (msi_64(s->msi_flags))
			wr_if_diff(ops, bdf, m + HQIO_PCI_MSI_ADDRESS_HI, 4, s->msi_hi);
		wr_if_diff(ops, bdf, m + msi_data_off(s->msi_flags), 2, s->msi_data);
		if (s->msi_flags & HQIO_PCI_MSI_FLAGS_MASKBIT)
			wr_if_diff(ops, bdf,
				   m + (msi_64(s->msi_flags) ? HQIO_PCI_MSI_MASK_64
							     : HQIO_PCI_MSI_MASK_32),
				   4, s->msi_mask);
		/* Multiple Message Enable back, MSI itself stays disabled. */
		wr_if_diff(ops, bdf, m + HQIO_PCI_MSI_FLAGS, 2,
			   s->msi_flags & ~(uint32_t)HQIO_PCI_MSI_FLAGS_ENABLE);
	}
	if (s->msix) /* stays disabled, Function Mask as saved */
		wr_if_diff(ops, bdf, s->msix + HQIO_PCI_MSIX_FLAGS, 2,
			   s->msix_flags & ~(uint32_t)HQIO_PCI_MSIX_FLAGS_ENABLE);
	/* Command last, never with Bus Master. */
	wr(ops, bdf, HQIO_PCI_COMMAND, 2, cmd & ~(uint32_t)HQIO_PCI_COMMAND_MASTER);
}

/* ------------------------------------------------------------------ */
/* Canaries                                                             */
/* ------------------------------------------------------------------ */

struct canaries {
	uint32_t bar_mask[6]; /* address bits that must read 0 (0: not armed) */
	uint32_t cmd_bits;
	bool msi, msix_mask, hook;
	uint32_t devctl_bits;
	unsigned n;
};

static void arm(const struct hqio_host_ops *ops, const struct hqio_reset_plan *plan,
		const struct hqio_reset_hooks *hooks, struct canaries *c)
{
	struct hqio_bdf bdf = plan->bdf;
	memset(c, 0, sizeof(*c));

	/* Device registers first, while decode is as the host had it. */
	if (hooks && hooks->canary_write && hooks->canary_check &&
	    hooks->canary_write(hooks->arg, ops, bdf) == 0) {
		c->hook = true;
		c->n++;
	}

	uint32_t cmd = rdv(ops, bdf, HQIO_PCI_COMMAND, 2);
	if (cmd == 0xffff)
		return; /* not answering: nothing more can be armed */
	uint32_t hdr = rdv(ops, bdf, HQIO_PCI_HEADER_TYPE, 1) & HQIO_PCI_HEADER_TYPE_MASK;
	wr(ops, bdf, HQIO_PCI_COMMAND, 2,
	   cmd & ~(uint32_t)(HQIO_PCI_COMMAND_MASTER | HQIO_PCI_COMMAND_MEMORY |
			     HQIO_PCI_COMMAND_IO));

	/* BARs (PCI LB 3.0 §6.2.5.1). */
	unsigned nbars = hdr == HQIO_PCI_HEADER_TYPE_NORMAL   ? HQIO_PCI_NUM_BARS_TYPE0
			 : hdr == HQIO_PCI_HEADER_TYPE_BRIDGE ? HQIO_PCI_NUM_BARS_TYPE1
							      : 0;
	bool sized_mem = false, sized_io = false;
	for (unsigned i = 0; i < nbars; i++) {
		uint16_t off = (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * i);
		uint32_t v = rdv(ops, bdf, off, 4);
		bool io = v & HQIO_PCI_BASE_ADDRESS_SPACE_IO;
		bool is64 = !io && (v & HQIO_PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
					   HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64;
		uint32_t amask = io ? (uint32_t)HQIO_PCI_BASE_ADDRESS_IO_MASK
				    : (uint32_t)HQIO_PCI_BASE_ADDRESS_MEM_MASK;
		uint32_t hi = is64 && i + 1 < nbars ? rdv(ops, bdf, (uint16_t)(off + 4), 4) : 0;
		if (v == 0xffffffffu)
			break;
		if ((v & amask) || hi) {
			/* Host-assigned: the address is its own canary. */
			c->bar_mask[i] = amask;
			if (is64 && i + 1 < nbars)
				c->bar_mask[i + 1] = 0xffffffffu;
			c->n++;
		} else {
			wr(ops, bdf, off, 4, 0xffffffffu);
			if (is64 && i + 1 < nbars)
				wr(ops, bdf, (uint16_t)(off + 4), 4, 0xffffffffu);
			uint32_t rb = rdv(ops, bdf, off, 4);
			uint32_t rbh =
				is64 && i + 1 < nbars ? rdv(ops, bdf, (uint16_t)(off + 4), 4) : 0;
			if ((rb & amask) || rbh) { /* implemented: holds its size mask */
				c->bar_mask[i] = amask;
				if (is64 && i + 1 < nbars)
					c->bar_mask[i + 1] = 0xffffffffu;
				c->n++;
				if (io)
					sized_io = true;
				else
					sized_mem = true;
			}
		}
		if (is64)
			i++;
	}

	/* Command: decode only for spaces whose BARs hold host addresses;
	 * INTx Disable as quiesce left it. */
	uint32_t want = cmd & HQIO_PCI_COMMAND_INTX_DISABLE;
	if (!sized_mem)
		want |= HQIO_PCI_COMMAND_MEMORY;
	if (!sized_io)
		want |= HQIO_PCI_COMMAND_IO;
	uint32_t newcmd = (cmd & ~(uint32_t)(HQIO_PCI_COMMAND_MASTER | HQIO_PCI_COMMAND_MEMORY |
					     HQIO_PCI_COMMAND_IO)) |
			  want;
	wr(ops, bdf, HQIO_PCI_COMMAND, 2, newcmd);
	c->cmd_bits = rdv(ops, bdf, HQIO_PCI_COMMAND, 2) & want;
	if (c->cmd_bits)
		c->n++;

	/* MSI Message Address / Data, with MSI disabled (quiesce). */
	if (plan->msi) {
		uint32_t flags = rdv(ops, bdf, plan->msi + HQIO_PCI_MSI_FLAGS, 2);
		if (!(flags & HQIO_PCI_MSI_FLAGS_ENABLE)) {
			wr(ops, bdf, plan->msi + HQIO_PCI_MSI_ADDRESS_LO, 4, CANARY_MSI_ADDR);
			wr(ops, bdf, plan->msi + msi_data_off(flags), 2, CANARY_MSI_DATA);
			if (rdv(ops, bdf, plan->msi + HQIO_PCI_MSI_ADDRESS_LO, 4) ==
				    CANARY_MSI_ADDR &&
			    rdv(ops, bdf, plan->msi + msi_data_off(flags), 2) == CANARY_MSI_DATA) {
				c->msi = true;
				c->n++;
			}
		}
	}
	/* MSI-X Function Mask (set by quiesce). */
	if (plan->msix &&
	    (rdv(ops, bdf, plan->msix + HQIO_PCI_MSIX_FLAGS, 2) & HQIO_PCI_MSIX_FLAGS_MASKALL)) {
		c->msix_mask = true;
		c->n++;
	}
	/* Device Control error reporting enables. */
	if (plan->exp) {
		uint32_t dc = rdv(ops, bdf, plan->exp + HQIO_PCI_EXP_DEVCTL, 2);
		if (hdr == HQIO_PCI_HEADER_TYPE_NORMAL)
			dc &= ~(uint32_t)HQIO_PCI_EXP_DEVCTL_BCR_FLR;
		wr(ops, bdf, plan->exp + HQIO_PCI_EXP_DEVCTL, 2, dc | DEVCTL_ERR_ENABLES);
		c->devctl_bits =
			rdv(ops, bdf, plan->exp + HQIO_PCI_EXP_DEVCTL, 2) & DEVCTL_ERR_ENABLES;
		if (c->devctl_bits)
			c->n++;
	}
	/* A platform that restores configuration space around its resets
	 * (hqio/host_ops.h HQIO_HOST_CFG_RESTORED, e.g. Linux VFIO) would
	 * show these canaries "surviving" a good reset: only MSI and the
	 * device hooks count there. */
	if (ops->flags & HQIO_HOST_CFG_RESTORED) {
		memset(c->bar_mask, 0, sizeof(c->bar_mask));
		c->cmd_bits = 0;
		c->msix_mask = false;
		c->devctl_bits = 0;
		c->n = (c->hook ? 1u : 0u) + (c->msi ? 1u : 0u);
	}
}

/* The configuration canaries; 0 when all are back at their defaults,
 * else -EIO with note saying which survived. */
static int check_cfg_canaries(const struct hqio_host_ops *ops, const struct hqio_reset_plan *plan,
			      const struct canaries *c, char *note, size_t note_size)
{
	struct hqio_bdf bdf = plan->bdf;
	char what[128] = "";
	unsigned bad = 0;
	for (unsigned i = 0; i < 6; i++) {
		if (!c->bar_mask[i])
			continue;
		uint32_t v = rdv(ops, bdf, (uint16_t)(HQIO_PCI_BASE_ADDRESS_0 + 4 * i), 4);
		if (v & c->bar_mask[i]) {
			append(what, sizeof(what), "%sBAR%u 0x%08x", bad++ ? ", " : "", i, v);
		}
	}
	if (c->cmd_bits) {
		uint32_t v = rdv(ops, bdf, HQIO_PCI_COMMAND, 2);
		if (v & c->cmd_bits)
			append(what, sizeof(what), "%sCommand 0x%04x", bad++ ? ", " : "", v);
	}
	if (c->msi) {
		uint32_t flags = rdv(ops, bdf, plan->msi + HQIO_PCI_MSI_FLAGS, 2);
		uint32_t a = rdv(ops, bdf, plan->msi + HQIO_PCI_MSI_ADDRESS_LO, 4);
		uint32_t d = rdv(ops, bdf, plan->msi + msi_data_off(flags), 2);
		if (a || d)
			append(what, sizeof(what), "%sMSI address/data 0x%08x/0x%04x",
			       bad++ ? ", " : "", a, d);
	}
	if (c->msix_mask) {
		uint32_t v = rdv(ops, bdf, plan->msix + HQIO_PCI_MSIX_FLAGS, 2);
		if (v & HQIO_PCI_MSIX_FLAGS_MASKALL)
			append(what, sizeof(what), "%sMSI-X Function Mask", bad++ ? ", " : "");
	}
	if (c->devctl_bits) {
		uint32_t v = rdv(ops, bdf, plan->exp + HQIO_PCI_EXP_DEVCTL, 2);
		if (v & c->devctl_bits)
			append(what, sizeof(what), "%sDevice Control 0x%04x", bad++ ? ", " : "", v);
	}
	if (!bad)
		return 0;
	snprintf(note, note_size, "canary survived: %s", what);
	return -EIO;
}

/* ------------------------------------------------------------------ */
/* The methods                                                          */
/* ------------------------------------------------------------------ */

struct exec_ctx {
	const struct hqio_host_ops *ops;
	const struct hqio_reset_plan *plan;
	const struct hqio_reset_hooks *hooks;
	uint64_t ready_timeout, sbr_hold;
};

static int do_flr(const struct exec_ctx *x, char *note, size_t n)
{
	const struct hqio_reset_plan *p = x->plan;
	uint32_t dc;
	int rc;
	if (!p->exp) {
		snprintf(note, n, "no PCIe capability");
		return -EOPNOTSUPP;
	}
	if ((rc = rd(x->ops, p->bdf, p->exp + HQIO_PCI_EXP_DEVCTL, 2, &dc)) == 0 && dc == 0xffff) {
		/* never write all-ones back into Device Control */
		snprintf(note, n, "function not responding");
		return -ENODEV;
	}
	if (rc || (rc = wr(x->ops, p->bdf, p->exp + HQIO_PCI_EXP_DEVCTL, 2,
			   dc | HQIO_PCI_EXP_DEVCTL_BCR_FLR))) {
		snprintf(note, n, "Initiate FLR failed (%d)", rc);
		return rc;
	}
	/* PCIe 5.0 §6.6.2: 100 ms before the function must answer, unless it
	 * has Immediate Readiness (§7.5.1.1.4). */
	return p->imm_ready ? 0 : x->ops->sleep_ns(x->ops->ctx, T_FLR_NS);
}

static int do_af_flr(const struct exec_ctx *x, char *note, size_t n)
{
	const struct hqio_reset_plan *p = x->plan;
	int rc;
	if (!p->af) {
		snprintf(note, n, "no AF capability");
		return -EOPNOTSUPP;
	}
	if ((rc = wr(x->ops, p->bdf, p->af + HQIO_PCI_AF_CTRL, 1, HQIO_PCI_AF_CTRL_FLR))) {
		snprintf(note, n, "AF Initiate FLR failed (%d)", rc);
		return rc;
	}
	return p->imm_ready ? 0 : x->ops->sleep_ns(x->ops->ctx, T_AF_FLR_NS);
}

static int set_pm_state(const struct exec_ctx *x, uint32_t pmcsr, uint32_t state)
{
	const struct hqio_reset_plan *p = x->plan;
	/* PME_Status is RW1C: write it 0 so the transition does not clear it. */
	uint32_t v =
		(pmcsr & ~(uint32_t)(HQIO_PCI_PM_CTRL_STATE_MASK | HQIO_PCI_PM_CTRL_PME_STATUS)) |
		state;
	int rc = wr(x->ops, p->bdf, p->pm + HQIO_PCI_PM_CTRL, 2, v);
	/* PCI PM 1.2 §5.6.1, table 5-6: 10 ms after a transition to or from
	 * D3hot before the next access. */
	return rc ? rc : x->ops->sleep_ns(x->ops->ctx, T_D3HOT_NS);
}

static int do_pm(const struct exec_ctx *x, char *note, size_t n)
{
	const struct hqio_reset_plan *p = x->plan;
	uint32_t pmcsr;
	int rc;
	if (!p->pm) {
		snprintf(note, n, "no PM capability");
		return -EOPNOTSUPP;
	}
	if ((rc = rd(x->ops, p->bdf, p->pm + HQIO_PCI_PM_CTRL, 2, &pmcsr)) || pmcsr == 0xffff) {
		snprintf(note, n, "PMCSR not readable");
		return rc ? rc : -ENODEV;
	}
	if ((pmcsr & HQIO_PCI_PM_CTRL_STATE_MASK) != 0) { /* D0 first */
		if ((rc = set_pm_state(x, pmcsr, 0)))
			goto fail;
		pmcsr = rdv(x->ops, p->bdf, p->pm + HQIO_PCI_PM_CTRL, 2);
	}
	if ((rc = set_pm_state(x, pmcsr, 3)) || (rc = set_pm_state(x, pmcsr, 0)))
		goto fail;
	return 0;
fail:
	snprintf(note, n, "PMCSR write failed (%d)", rc);
	return rc;
}

static bool link_active(void *a)
{
	return cfg_bits(a);
}

static int do_bus(const struct exec_ctx *x, char *note, size_t n)
{
	const struct hqio_host_ops *ops = x->ops;
	const struct hqio_reset_plan *p = x->plan;
	int rc = ops->platform_reset
			 ? ops->platform_reset(ops->ctx, p->bdf, HQIO_PLATFORM_RESET_BUS)
			 : -EOPNOTSUPP;
	if (rc == 0)
		return 0; /* the platform did it with its own waits (VFIO hot reset) */
	if (rc != -EOPNOTSUPP) {
		snprintf(note, n, "platform bus reset failed (%d)", rc);
		return rc;
	}
	/* Secondary Bus Reset, P2P 1.2 §3.2.5.18, held for sbr_hold (Trst). */
	uint32_t bc;
	if ((rc = rd(ops, p->parent, HQIO_PCI_BRIDGE_CONTROL, 2, &bc)) || bc == 0xffff) {
		snprintf(note, n, "parent bridge not answering");
		return rc ? rc : -ENODEV;
	}
	bc &= ~(uint32_t)HQIO_PCI_BRIDGE_CTL_BUS_RESET;
	if ((rc = wr(ops, p->parent, HQIO_PCI_BRIDGE_CONTROL, 2,
		     bc | HQIO_PCI_BRIDGE_CTL_BUS_RESET)))
		goto fail;
	rc = ops->sleep_ns(ops->ctx, x->sbr_hold);
	int rc2 = wr(ops, p->parent, HQIO_PCI_BRIDGE_CONTROL, 2, bc); /* always release */
	if (rc || (rc = rc2))
		goto fail;

	if (p->parent_conventional_secondary) /* PCI LB 3.0 §4.3.2: Trhfa */
		return ops->sleep_ns(ops->ctx, T_TRHFA_NS);
	if (p->parent_link_speed <= 2) /* <= 5 GT/s, PCIe 5.0 §6.6.1: 100 ms */
		return ops->sleep_ns(ops->ctx, T_RST_RDY_NS);
	/* > 5 GT/s: 100 ms after Data Link Layer Link Active (PCIe 5.0
	 * §6.6.1); a port above 5 GT/s must report it (§7.5.3.6). */
	uint16_t pexp = find_cap(ops, p->parent, HQIO_PCI_CAP_ID_EXP);
	bool dllla = pexp && (rdv(ops, p->parent, pexp + HQIO_PCI_EXP_LNKCAP, 4) &
			      HQIO_PCI_EXP_LNKCAP_DLLLARC);
	if (!dllla) /* cannot see the link: the 1 s software may wait at most */
		return ops->sleep_ns(ops->ctx, T_TRHFA_NS);
	struct bit_arg b = { .ops = ops,
			     .bdf = p->parent,
			     .off = (uint16_t)(pexp + HQIO_PCI_EXP_LNKSTA),
			     .size = 2,
			     .mask = HQIO_PCI_EXP_LNKSTA_DLLLA,
			     .value = HQIO_PCI_EXP_LNKSTA_DLLLA };
	uint64_t waited;
	rc = poll(ops, link_active, &b, POLL_LINK_FIRST_NS, POLL_LINK_MAX_NS, x->ready_timeout,
		  &waited);
	if (rc == -ETIMEDOUT) {
		snprintf(note, n, "link not active after %llu ms", ms_of(waited));
		return rc;
	}
	return rc ? rc : ops->sleep_ns(ops->ctx, T_RST_RDY_NS);
fail:
	snprintf(note, n, "Secondary Bus Reset failed (%d)", rc);
	return rc;
}

static int do_device_specific(const struct exec_ctx *x, char *note, size_t n)
{
	if (!x->hooks || !x->hooks->device_reset) {
		snprintf(note, n, "no device_reset hook");
		return -EOPNOTSUPP;
	}
	int rc = x->hooks->device_reset(x->hooks->arg, x->ops, x->plan->bdf);
	if (rc)
		snprintf(note, n, "device_reset hook failed (%d)", rc);
	return rc;
}

static int do_method(const struct exec_ctx *x, enum hqio_reset_method m, char *note, size_t n)
{
	switch (m) {
	case HQIO_RM_DEVICE_SPECIFIC:
		return do_device_specific(x, note, n);
	case HQIO_RM_FLR:
		return do_flr(x, note, n);
	case HQIO_RM_AF_FLR:
		return do_af_flr(x, note, n);
	case HQIO_RM_PM:
		return do_pm(x, note, n);
	case HQIO_RM_BUS:
		return do_bus(x, note, n);
	default:
		snprintf(note, n, "unknown method %d", (int)m);
		return -EINVAL;
	}
}

/* ------------------------------------------------------------------ */
/* Functions a bus reset also hits                                      */
/* ------------------------------------------------------------------ */

struct peers {
	unsigned n;
	struct saved_cfg s[HQIO_PLAN_MAX_AFFECTED];
};

static void peers_save(const struct hqio_host_ops *ops, const struct hqio_reset_plan *p,
		       struct peers *pe)
{
	pe->n = 0;
	unsigned na =
		p->n_affected < HQIO_PLAN_MAX_AFFECTED ? p->n_affected : HQIO_PLAN_MAX_AFFECTED;
	for (unsigned i = 0; i < na; i++) {
		struct hqio_bdf b = p->affected[i];
		if (same_bdf(b, p->bdf) || same_bdf(b, p->parent))
			continue;
		struct saved_cfg *s = &pe->s[pe->n];
		save_cfg(ops, b, false, find_cap(ops, b, HQIO_PCI_CAP_ID_EXP),
			 find_cap(ops, b, HQIO_PCI_CAP_ID_MSI),
			 find_cap(ops, b, HQIO_PCI_CAP_ID_MSIX), s);
		if (!s->valid)
			continue;
		/* Its DMA stops with the reset anyway; stop it now. */
		wr(ops, b, HQIO_PCI_COMMAND, 2,
		   (s->hdr[1] & 0xffff) & ~(uint32_t)HQIO_PCI_COMMAND_MASTER);
		pe->n++;
	}
}

/* Bridges first, by secondary bus number (a bridge below another has a
 * higher one), then the others; each once it answers. *budget is shared. */
static void peers_restore(const struct hqio_host_ops *ops, const struct peers *pe, uint64_t *budget)
{
	bool done[HQIO_PLAN_MAX_AFFECTED] = { false };
	for (;;) {
		int pick = -1;
		for (unsigned i = 0; i < pe->n; i++) {
			const struct saved_cfg *s = &pe->s[i];
			if (done[i] || s->hdr_type != HQIO_PCI_HEADER_TYPE_BRIDGE)
				continue;
			uint8_t sec = (uint8_t)(s->hdr[6] >> 8);
			if (pick < 0 || sec < (uint8_t)(pe->s[pick].hdr[6] >> 8))
				pick = (int)i;
		}
		for (unsigned i = 0; pick < 0 && i < pe->n; i++)
			if (!done[i])
				pick = (int)i;
		if (pick < 0)
			return;
		done[pick] = true;
		uint64_t waited = 0;
		if (wait_ready(ops, pe->s[pick].bdf, false, *budget, &waited) == 0)
			restore_cfg(ops, &pe->s[pick]);
		*budget -= waited < *budget ? waited : *budget;
	}
}

/* ------------------------------------------------------------------ */
/* The whole sequence                                                   */
/* ------------------------------------------------------------------ */

int hqio_reset_execute(const struct hqio_host_ops *ops, const struct hqio_reset_plan *plan,
		       const struct hqio_reset_hooks *hooks, const struct hqio_reset_opts *opts,
		       struct hqio_reset_result *res, struct hqio_error *err)
{
	struct hqio_reset_opts o = opts ? *opts : (struct hqio_reset_opts){ 0 };
	hqio_error_clear(err);
	if (!res)
		return hqio_error_set(err, -EINVAL, "reset: no result");
	memset(res, 0, sizeof(*res));
	res->rc = -EINVAL;
	if (!ops || !plan || !ops->cfg_read || !ops->cfg_write || !ops->sleep_ns || !ops->now_ns) {
		snprintf(res->msg, sizeof(res->msg), "reset: missing ops or plan");
		return hqio_error_set(err, -EINVAL, "%s", res->msg);
	}
	if (plan->refused) {
		/* Nothing is touched: a refusal can mean a host driver owns it. */
		res->rc = -EPERM;
		snprintf(res->msg, sizeof(res->msg), "plan refused: %s", plan->refusal);
		return hqio_error_set(err, res->rc, "%s", res->msg);
	}
	struct exec_ctx x = {
		.ops = ops,
		.plan = plan,
		.hooks = hooks,
		.ready_timeout = or_default(o.ready_timeout_ns, DEF_READY_TIMEOUT_NS),
		.sbr_hold = or_default(o.sbr_hold_ns, DEF_SBR_HOLD_NS),
	};

	/* 1. Quiesce (a failure or a timeout is reported, the reset still
	 * happens: it is what finally stops the device). */
	char why[96] = "";
	struct hqio_error qerr = { 0 };
	uint64_t t0 = ops->now_ns(ops->ctx);
	int qrc = quiesce(ops, plan, &o, &res->idle_confirmed, why, sizeof(why), &qerr);
	if (qrc && !why[0])
		snprintf(why, sizeof(why), "%s", qerr.msg);
	uint64_t t1 = ops->now_ns(ops->ctx);
	res->quiesce_ns = t1 - t0;

	/* 2. Save the host-owned configuration (the quiesced state). */
	struct saved_cfg saved;
	save_cfg(ops, plan->bdf, plan->vf, plan->exp, plan->msi, plan->msix, &saved);
	struct peers *pe = NULL;
	struct peers pe_store;

	/* 3-6. Each planned method: canaries, reset, readiness, verify, restore. */
	unsigned nm = plan->n_methods < HQIO_RM_COUNT ? plan->n_methods : HQIO_RM_COUNT;
	bool ok = false;
	int last_rc = -ENODEV;
	struct canaries c = { 0 };
	for (unsigned k = 0; k < nm && !ok; k++) {
		enum hqio_reset_method m = plan->methods[k];
		struct hqio_reset_attempt *a = &res->attempts[res->n_attempts++];
		a->method = m;
		if (k == 0) {
			arm(ops, plan, hooks, &c);
		} else if (rdv(ops, plan->bdf, HQIO_PCI_COMMAND, 2) != 0xffff) {
			/* Host values back first (no BAR left holding the
			 * all-ones canary), then fresh canaries. */
			restore_cfg(ops, &saved);
			arm(ops, plan, hooks, &c);
		}
		/* else: the function does not answer (a hung reset); the
		 * canaries armed before the previous attempt still stand. */
		if (m == HQIO_RM_BUS) {
			pe = &pe_store;
			peers_save(ops, plan, pe);
		}
		int rc = do_method(&x, m, a->note, sizeof(a->note));
		if (rc) {
			if (!a->note[0])
				snprintf(a->note, sizeof(a->note), "failed (%d)", rc);
			a->rc = last_rc = rc;
			continue;
		}
		uint64_t waited = 0;
		rc = wait_ready(ops, plan->bdf, plan->vf, x.ready_timeout, &waited);
		if (m == HQIO_RM_BUS) {
			uint64_t budget = x.ready_timeout;
			peers_restore(ops, pe, &budget);
		}
		if (rc) {
			snprintf(a->note, sizeof(a->note), "not ready after %llu ms",
				 ms_of(waited));
			a->rc = last_rc = rc == -ETIMEDOUT ? -ETIMEDOUT : rc;
			continue;
		}
		if (!o.skip_verify && c.n == 0) {
			snprintf(a->note, sizeof(a->note), "no canary could be armed");
			restore_cfg(ops, &saved);
			a->rc = last_rc = -EIO;
			continue;
		}
		rc = o.skip_verify ? 0
				   : check_cfg_canaries(ops, plan, &c, a->note, sizeof(a->note));
		restore_cfg(ops, &saved);
		if (rc == 0 && !o.skip_verify && c.hook) {
			bool cleared = false;
			int hrc = hooks->canary_check(hooks->arg, ops, plan->bdf, &cleared);
			if (hrc || !cleared) {
				snprintf(a->note, sizeof(a->note), "device canary survived%s",
					 hrc ? " (check failed)" : "");
				rc = -EIO;
			}
		}
		if (rc) {
			a->rc = last_rc = -EIO;
			continue;
		}
		a->rc = 0;
		a->verified = !o.skip_verify;
		res->used = m;
		ok = true;
	}
	if (!ok)
		restore_cfg(ops, &saved); /* best effort: clears leftover canaries */
	res->reset_ns = ops->now_ns(ops->ctx) - t1;

	/* The message: every attempt, then the outcome. */
	for (unsigned k = 0; k < res->n_attempts; k++) {
		const struct hqio_reset_attempt *a = &res->attempts[k];
		if (a->rc == 0)
			append(res->msg, sizeof(res->msg), "%s%s: reset%s", k ? "; " : "",
			       method_label(a->method),
			       a->verified ? " and verified" : " (verification skipped)");
		else
			append(res->msg, sizeof(res->msg), "%s%s: %s", k ? "; " : "",
			       method_label(a->method), a->note);
	}
	if (!ok) {
		res->quarantined = true;
		res->rc = nm ? last_rc : -ENODEV;
		append(res->msg, sizeof(res->msg), "%squarantined",
		       nm ? "; " : "no reset method; ");
	} else {
		res->rc = 0;
	}
	if (!res->idle_confirmed)
		append(res->msg, sizeof(res->msg), " (quiesce: %s)",
		       why[0] ? why : "idle not confirmed");
	if (res->rc)
		return hqio_error_set(err, res->rc, "%s", res->msg);
	return 0;
}
