/*
 * HD-Audio-like controller: one output stream playing a cyclic buffer of
 * periods at an exact rate in virtual time; see devices.h for the register
 * map, the timing formula and the underrun rule.
 */
#include "devices/devices.h"

#include <stdlib.h>
#include <string.h>

#define HDA_TAG 0x48444131u /* "HDA1": event tag in the engine trace */

/* HDA 1.0a §3.3.2 GCAP: OSS (bits 15:12) = 1 output stream, 64OK (bit 0). */
#define HDA_GCAP_VALUE 0x1001u
/* HDA 1.0a §3.3.3-4: VMIN 0x00 (byte 0x02), VMAJ 0x01 (byte 0x03). */
#define HDA_VERSION_VALUE 0x0100u

struct hda {
	/* programmed */
	uint32_t ctl, sts, period, nperiods, rate, frame, bdpl, bdpu, wp;
	/* latched at RUN */
	struct {
		uint32_t period, nperiods, rate, frame;
		uint64_t addr;
		uint64_t t0;
	} run;
	uint64_t k; /* the period playing now (periods completed so far) */
	uint32_t lpib, underruns, dma_errs, last_sum;
	sim_event_id ev;
	uint8_t buf[SIM_HDA_MAX_PERIOD];
};

uint64_t sim_hda_period_start(uint64_t t0, uint64_t k, uint32_t period_bytes, uint32_t rate,
			      uint32_t frame_bytes)
{
	uint64_t bps = (uint64_t)rate * frame_bytes;
	if (!bps)
		return UINT64_MAX;
	/* floor(k * period * 10^9 / bps), exactly: with q, r the quotient and
	 * remainder of bytes / bps, it is q * 10^9 + floor(r * 10^9 / bps),
	 * and r * 10^9 < bps * 10^9 fits in 64 bits within the model's
	 * limits (bps <= SIM_HDA_MAX_RATE * SIM_HDA_MAX_FRAME < 2^27). */
	uint64_t bytes = k * period_bytes;
	uint64_t q = bytes / bps, r = bytes % bps;
	return t0 + q * SIM_NS_PER_S + r * SIM_NS_PER_S / bps;
}

static uint64_t hda_t(const struct hda *h, uint64_t k)
{
	return sim_hda_period_start(h->run.t0, k, h->run.period, h->run.rate, h->run.frame);
}

static void hda_irq(struct sim_fn *f, bool edge)
{
	struct hda *h = f->priv;
	bool level = (h->sts & SIM_HDA_SD_STS_BCIS) && (h->ctl & SIM_HDA_SD_CTL_IOCE);
	sim_dev_irq_update(f, 0, level, edge && level);
}

/* Start period k: fetch it if software filled it, else count an underrun. */
static void hda_start_period(struct sim_fn *f)
{
	struct hda *h = f->priv;
	if ((int32_t)(h->wp - (uint32_t)h->k) > 0) {
		uint64_t addr = h->run.addr + (h->k % h->run.nperiods) * h->run.period;
		if (sim_dma_read(f, addr, h->buf, h->run.period) == 0) {
			uint32_t sum = 0;
			for (uint32_t i = 0; i < h->run.period; i++)
				sum += h->buf[i];
			h->last_sum = sum;
		} else {
			h->dma_errs++; /* silence: Bus Master off or IOMMU fault */
		}
	} else {
		h->underruns++; /* software has not refilled it: silence */
		h->sts |= SIM_HDA_SD_STS_FIFOE;
	}
}

static void hda_period_done(void *arg, uint64_t now)
{
	struct sim_fn *f = arg;
	struct hda *h = f->priv;
	(void)now;
	h->ev = 0;
	if (f->in_reset) {
		/* Held in reset by a bus reset still asserted (the platform
		 * resets the state when it ends): the stream stops. */
		h->ctl &= ~SIM_HDA_SD_CTL_RUN;
		return;
	}
	h->k++;
	h->lpib = (uint32_t)((h->k % h->run.nperiods) * h->run.period);
	h->sts |= SIM_HDA_SD_STS_BCIS;
	hda_irq(f, true);
	/* The interrupt handler may have stopped the stream. */
	if (!(h->ctl & SIM_HDA_SD_CTL_RUN) || h->ev)
		return;
	hda_start_period(f);
	h->ev = sim_schedule_at(&f->plat->eng, hda_t(h, h->k + 1), hda_period_done, f, HDA_TAG);
}

static void hda_stop(struct sim_fn *f)
{
	struct hda *h = f->priv;
	if (h->ev)
		sim_cancel(&f->plat->eng, h->ev);
	h->ev = 0;
}

static bool hda_run(struct sim_fn *f)
{
	struct hda *h = f->priv;
	if (!h->period || h->period > SIM_HDA_MAX_PERIOD || !h->nperiods ||
	    h->nperiods > SIM_HDA_MAX_PERIODS || !h->rate || h->rate > SIM_HDA_MAX_RATE ||
	    !h->frame || h->frame > SIM_HDA_MAX_FRAME)
		return false;
	h->run.period = h->period;
	h->run.nperiods = h->nperiods;
	h->run.rate = h->rate;
	h->run.frame = h->frame;
	h->run.addr = (uint64_t)h->bdpu << 32 | h->bdpl;
	h->run.t0 = f->plat->eng.now_ns;
	h->k = 0;
	h->lpib = 0;
	h->underruns = 0;
	h->dma_errs = 0;
	hda_start_period(f);
	h->ev = sim_schedule_at(&f->plat->eng, hda_t(h, 1), hda_period_done, f, HDA_TAG);
	return h->ev != 0;
}

static uint32_t hda_rd(struct sim_fn *f, unsigned bar, uint64_t off)
{
	struct hda *h = f->priv;
	if (bar != 0)
		return 0;
	switch (off) {
	case SIM_HDA_GCAP:
		return HDA_GCAP_VALUE | HDA_VERSION_VALUE << 16;
	case SIM_HDA_SD_CTL:
		return h->ctl;
	case SIM_HDA_SD_STS:
		return h->sts;
	case SIM_HDA_SD_LPIB:
		return h->lpib;
	case SIM_HDA_SD_PERIOD:
		return h->period;
	case SIM_HDA_SD_NPERIODS:
		return h->nperiods;
	case SIM_HDA_SD_RATE:
		return h->rate;
	case SIM_HDA_SD_FRAME:
		return h->frame;
	case SIM_HDA_SD_BDPL:
		return h->bdpl;
	case SIM_HDA_SD_BDPU:
		return h->bdpu;
	case SIM_HDA_SD_WP:
		return h->wp;
	case SIM_HDA_SD_PERIODS_DONE:
		return (uint32_t)h->k;
	case SIM_HDA_SD_UNDERRUNS:
		return h->underruns;
	case SIM_HDA_SD_DMA_ERRS:
		return h->dma_errs;
	case SIM_HDA_SD_LAST_SUM:
		return h->last_sum;
	default:
		return 0;
	}
}

static void hda_wr(struct sim_fn *f, unsigned bar, uint64_t off, uint32_t val, uint32_t mask)
{
	struct hda *h = f->priv;
	if (bar != 0)
		return;
	switch (off) {
	case SIM_HDA_SD_CTL: {
		uint32_t ctl = sim_dev_merge(h->ctl, val, mask) &
			       (SIM_HDA_SD_CTL_RUN | SIM_HDA_SD_CTL_IOCE);
		bool was = h->ctl & SIM_HDA_SD_CTL_RUN, is = ctl & SIM_HDA_SD_CTL_RUN;
		h->ctl = ctl;
		if (!was && is && !hda_run(f))
			h->ctl &= ~SIM_HDA_SD_CTL_RUN; /* refused */
		else if (was && !is)
			hda_stop(f);
		hda_irq(f, false);
		return;
	}
	case SIM_HDA_SD_STS:
		h->sts &= ~(val & mask & (SIM_HDA_SD_STS_BCIS | SIM_HDA_SD_STS_FIFOE));
		hda_irq(f, false);
		return;
	case SIM_HDA_SD_PERIOD:
		h->period = sim_dev_merge(h->period, val, mask);
		return;
	case SIM_HDA_SD_NPERIODS:
		h->nperiods = sim_dev_merge(h->nperiods, val, mask);
		return;
	case SIM_HDA_SD_RATE:
		h->rate = sim_dev_merge(h->rate, val, mask);
		return;
	case SIM_HDA_SD_FRAME:
		h->frame = sim_dev_merge(h->frame, val, mask);
		return;
	case SIM_HDA_SD_BDPL:
		h->bdpl = sim_dev_merge(h->bdpl, val, mask);
		return;
	case SIM_HDA_SD_BDPU:
		h->bdpu = sim_dev_merge(h->bdpu, val, mask);
		return;
	case SIM_HDA_SD_WP:
		h->wp = sim_dev_merge(h->wp, val, mask);
		return;
	default:
		return;
	}
}

static uint64_t hda_mmio_read(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size)
{
	return sim_dev_read_split(f, bar, off, size, hda_rd);
}

static void hda_mmio_write(struct sim_fn *f, unsigned bar, uint64_t off, unsigned size,
			   uint64_t val)
{
	sim_dev_write_split(f, bar, off, size, val, hda_wr);
}

static void hda_cfg_written(struct sim_fn *f, uint16_t off, unsigned size, uint32_t old_val,
			    uint32_t new_val)
{
	(void)off;
	(void)size;
	(void)old_val;
	(void)new_val;
	hda_irq(f, false);
}

static void hda_reset(struct sim_fn *f)
{
	struct hda *h = f->priv;
	hda_stop(f);
	memset(h, 0, sizeof(*h));
	h->frame = 4; /* 16-bit stereo */
}

static void hda_destroy(struct sim_fn *f)
{
	free(f->priv);
	f->priv = NULL;
}

static const struct sim_fn_ops hda_ops = {
	.kind = "hda",
	.reset = hda_reset,
	.mmio_read = hda_mmio_read,
	.mmio_write = hda_mmio_write,
	.cfg_written = hda_cfg_written,
	.destroy = hda_destroy,
};

struct sim_fn *sim_dev_hda(struct sim_platform *p, struct sim_fn *parent, uint8_t dev, uint8_t fn,
			   unsigned faults)
{
	struct hda *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	struct sim_fn *f =
		sim_fn_new(p, parent, dev, fn, HQIO_PCI_CFG_EXP_SIZE, "hda", &hda_ops, h);
	if (!f) {
		free(h);
		return NULL;
	}
	f->faults = faults;
	sim_fn_header(f, SIM_HDA_VENDOR, SIM_HDA_DEVICE, 0x040300, HQIO_PCI_HEADER_TYPE_NORMAL, 1);
	hqio_cfgb_w8(&f->b, HQIO_PCI_REVISION_ID, 0x02);
	sim_fn_bar(f, 0, SIM_HDA_BAR0_SIZE, HQIO_PCI_BASE_ADDRESS_MEM_TYPE_64);
	/* ICH9 datasheet, HD Audio configuration registers: PM 0x50, MSI 0x60
	 * (one 64-bit vector), PCIe 0x70. */
	sim_add_pm(f, 0x50, false);
	sim_add_msi(f, 0x60, 0, true, false);
	sim_add_exp(f, 0x70, HQIO_PCI_EXP_TYPE_ENDPOINT, false, 1, 1);
	sim_fn_finalize(f);
	return f;
}
