/*
 * The audio experiment (audio.h, docs/audio.md).
 *
 * Machine: the simulated reference platform (sim_build_reference_ex) with
 * its HD-Audio-like controller assigned to the guest: an IOMMU domain maps
 * the ring, the controller's MSI goes to the hypervisor (platform
 * msi_sink), which raises an interrupt for the guest's vCPU. One pCPU,
 * two vCPUs on sim/hyp: dom0 runs a busy loop, the guest runs the driver
 * and the player below.
 *
 * Guest audio stack (mpg123 1.x ALSA output on the hw device, snd-hda-intel
 * style driver), as a state machine driven by the guest's CPU time:
 *   - the player decodes one period (a CPU burst of the decode cost), then
 *     writes it: snd_pcm_writei first brings hw_ptr up to date (reads the
 *     controller's PERIODS_DONE) and, if the device pointer has caught the
 *     application pointer (avail >= stop_threshold = buffer size), the
 *     stream is in XRUN; otherwise it copies the period into the ring
 *     (WP + 1) when there is room, or blocks until an interrupt makes room;
 *   - start_threshold is 1 frame (mpg123): the stream starts (RUN) at the
 *     first write after snd_pcm_prepare;
 *   - the interrupt handler (azx_interrupt + snd_pcm_period_elapsed)
 *     acknowledges BCIS, updates hw_ptr, stops the stream on xrun
 *     (snd_pcm_stop: RUN cleared) and wakes the blocked writer;
 *   - after an xrun the writer gets -EPIPE, calls snd_pcm_prepare (CPU
 *     cost restart_cost_ns) and writes again, which restarts the stream
 *     with the one period it holds (mpg123's write_alsa does exactly this).
 * Side effects of a CPU burst take place when the burst ends (a write when
 * its decode is done); the handler's effects take place when it starts and
 * its cost delays whatever the guest was doing.
 */
#include "audio.h"

#include "devices/devices.h"
#include "hyp.h"
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIO_IOVA 0x100000ULL /* guest-physical address of the ring (model choice) */

static const char *const sched_names[AUDIO_SCHED_N] = {
	[AUDIO_SCHED_CREDIT] = "credit",
	[AUDIO_SCHED_CREDIT_1MS] = "credit-1ms",
	[AUDIO_SCHED_RT] = "rt",
	[AUDIO_SCHED_RTDS] = "rtds",
};

const char *audio_sched_name(enum audio_sched s)
{
	return (unsigned)s < AUDIO_SCHED_N ? sched_names[s] : "?";
}

int audio_sched_from_name(const char *name, enum audio_sched *out)
{
	for (unsigned i = 0; i < AUDIO_SCHED_N; i++) {
		if (!strcmp(name, sched_names[i])) {
			*out = (enum audio_sched)i;
			return 0;
		}
	}
	return -EINVAL;
}

double audio_reference_1_16(enum audio_sched s)
{
	/* Issue 18: the 2008-2009 Xen experiment at weight 1:16. */
	switch (s) {
	case AUDIO_SCHED_CREDIT:
		return 2.47;
	case AUDIO_SCHED_CREDIT_1MS:
		return 0.594;
	case AUDIO_SCHED_RT:
		return 0.506;
	default:
		return -1;
	}
}

void audio_params_default(struct audio_params *p)
{
	memset(p, 0, sizeof(*p));
	p->sched = AUDIO_SCHED_CREDIT;
	p->credit = HQIO_SCHED_CREDIT_2009;
	p->w_guest = 1;
	p->w_dom0 = 16;
	p->duration_ns = 600 * SIM_NS_PER_S; /* issue 18: 10 simulated minutes */
	p->seed = 1;
	p->rate = 44100; /* issue 18: 44.1 kHz stereo 16-bit */
	p->frame_bytes = 4;
	/* mpg123 1.x src/output/alsa.c (2006-2008): buffer_size = rate *
	 * BUFFER_LENGTH (0.5 s) = 22050 frames, period_size = buffer_size / 4
	 * = 5512 frames; whole periods in the ring: 4 (22048 frames). aplay
	 * of alsa-utils 1.0.16 (2008) picks the same: buffer_time capped at
	 * 500000 us, period_time = buffer_time / 4. */
	p->period_frames = 5512;
	p->nperiods = 4;
	/* 4 s of CPU to decode a 3-minute MP3 on a 2008 desktop (dual 1.8 GHz
	 * PowerMac G5, Mac OS X 10.5, Core Audio; W. Moore, "MP3 Decoder
	 * Libraries Compared", April 2008): 4/180 = 2.2 % of playback time. */
	p->decode_frac = 4.0 / 180.0;
	p->decode_jitter = 0.2;			  /* model choice: MP3 frames vary in cost */
	p->irq_cost_ns = 10 * SIM_NS_PER_US;	  /* model choice */
	p->restart_cost_ns = 100 * SIM_NS_PER_US; /* model choice */
}

int audio_params_check(const struct audio_params *p, char *err, size_t errlen)
{
	const char *why = NULL;
	uint64_t period_bytes = (uint64_t)p->period_frames * p->frame_bytes;
	if ((unsigned)p->sched >= AUDIO_SCHED_N)
		why = "unknown scheduler";
	else if (p->credit != HQIO_SCHED_CREDIT_2009 && p->credit != HQIO_SCHED_CREDIT_42)
		why = "credit version must be 2009 or 4.2";
	else if (!p->w_guest || !p->w_dom0 || p->w_guest > 255 || p->w_dom0 > 255)
		why = "weights must be 1..255 each";
	else if (!p->duration_ns || p->duration_ns > 24 * 3600 * SIM_NS_PER_S)
		why = "duration must be 1 ns .. 24 h";
	else if (!p->rate || p->rate > SIM_HDA_MAX_RATE || !p->frame_bytes ||
		 p->frame_bytes > SIM_HDA_MAX_FRAME)
		why = "bad rate or frame size";
	else if (!p->period_frames || period_bytes > SIM_HDA_MAX_PERIOD)
		why = "period must be 1 frame .. 64 KiB";
	else if (p->nperiods < 2 || p->nperiods > SIM_HDA_MAX_PERIODS)
		why = "periods in the buffer must be 2..256";
	else if (!(p->decode_frac >= 0 && p->decode_frac < 1))
		why = "decode cost must be 0 .. <100 % of playback time";
	else if (!(p->decode_jitter >= 0 && p->decode_jitter < 1))
		why = "decode jitter must be 0 .. <1";
	else if (p->tslice_ns && p->tslice_ns < SIM_NS_PER_MS)
		why = "time slice must be at least 1 ms";
	if (why) {
		if (err && errlen)
			snprintf(err, errlen, "%s", why);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The experiment's state                                               */
/* ------------------------------------------------------------------ */

enum stream_state {
	ST_PREPARED, /* after snd_pcm_prepare: the next write starts it */
	ST_RUNNING,
	ST_XRUN, /* stopped by an xrun; the next write gets -EPIPE */
};

struct exp {
	const struct audio_params *p;
	struct audio_result *r;
	struct sim_platform *plat;
	struct sim_fn *hda;
	struct hqio_bdf bdf;
	struct hyp *h;
	int v_dom0, v_guest;
	uint64_t period_ns;
	uint64_t decode_ns;
	/* guest ALSA runtime */
	enum stream_state st;
	uint32_t appl;	    /* periods written since the stream started (= WP) */
	uint64_t t0;	    /* when RUN was set */
	bool decoding;	    /* the player's current burst is a decode */
	bool have_chunk;    /* a decoded period waits to be written */
	bool prepared_cost; /* the prepare after an xrun has been paid */
	bool stalled;	    /* the test hook's stall happened */
	uint64_t start;	    /* engine time the experiment started */
	size_t cap_fill, cap_xrun;
	int oom;
};

static uint32_t rd(struct exp *x, uint64_t off)
{
	uint64_t v = 0;
	sim_bar_read(x->plat, x->bdf, 0, off, 4, &v);
	return (uint32_t)v;
}

static void wr(struct exp *x, uint64_t off, uint32_t v)
{
	sim_bar_write(x->plat, x->bdf, 0, off, 4, v);
}

static void fill_sample(struct exp *x, int64_t fill_periods)
{
	if (!x->p->trace_fill)
		return;
	struct audio_result *r = x->r;
	if (r->n_fill == x->cap_fill) {
		size_t cap = x->cap_fill ? x->cap_fill * 2 : 4096;
		struct audio_fill_sample *n = realloc(r->fill, cap * sizeof(*n));
		if (!n) {
			x->oom = 1;
			return;
		}
		r->fill = n;
		x->cap_fill = cap;
	}
	r->fill[r->n_fill++] = (struct audio_fill_sample){
		.t_ns = x->plat->eng.now_ns,
		.fill_frames = fill_periods * (int64_t)x->p->period_frames,
	};
}

static uint64_t decode_cost(struct exp *x)
{
	double j = x->p->decode_jitter;
	double u = (double)(sim_rand(&x->plat->eng) >> 11) / 9007199254740992.0; /* [0,1) */
	double c = (double)x->decode_ns * (1.0 + j * (2.0 * u - 1.0));
	uint64_t ns = c < 1 ? 1 : (uint64_t)c;
	if (x->p->stall_ns && !x->stalled &&
	    x->plat->eng.now_ns - x->start >= x->p->stall_after_ns) {
		x->stalled = true;
		ns += x->p->stall_ns;
	}
	return ns;
}

/* snd_pcm_stop(XRUN): the driver clears RUN; count it once, with the
 * device time at which the pointer caught up (start of the first period
 * that was not filled). */
static void xrun(struct exp *x)
{
	uint32_t silent = rd(x, SIM_HDA_SD_UNDERRUNS);
	x->r->silent_periods += silent;
	x->r->dma_errors += rd(x, SIM_HDA_SD_DMA_ERRS);
	x->r->periods_played += rd(x, SIM_HDA_SD_PERIODS_DONE);
	wr(x, SIM_HDA_SD_CTL, SIM_HDA_SD_CTL_IOCE);
	x->st = ST_XRUN;
	x->prepared_cost = false;
	x->r->xruns++;
	if (x->r->n_xrun_at == x->cap_xrun) {
		size_t cap = x->cap_xrun ? x->cap_xrun * 2 : 256;
		uint64_t *n = realloc(x->r->xrun_at_ns, cap * sizeof(*n));
		if (n)
			x->r->xrun_at_ns = n;
		uint64_t *m = realloc(x->r->xrun_seen_ns, cap * sizeof(*m));
		if (m)
			x->r->xrun_seen_ns = m;
		if (!n || !m) {
			x->oom = 1;
			return;
		}
		x->cap_xrun = cap;
	}
	x->r->xrun_seen_ns[x->r->n_xrun_at] = x->plat->eng.now_ns;
	x->r->xrun_at_ns[x->r->n_xrun_at++] =
		sim_hda_period_start(x->t0, x->appl, x->p->period_frames * x->p->frame_bytes,
				     x->p->rate, x->p->frame_bytes);
}

/* hw_ptr update (snd_pcm_update_hw_ptr): true when the stream is fine. */
static bool update_hw(struct exp *x, uint32_t *hw)
{
	*hw = rd(x, SIM_HDA_SD_PERIODS_DONE);
	if (x->st == ST_RUNNING && (int32_t)(*hw - x->appl) >= 0) {
		xrun(x);
		return false;
	}
	return true;
}

/* The player holds a decoded period: write it. Returns the next CPU burst
 * (decode or prepare), or 0 to block. */
static uint64_t player_step(struct exp *x)
{
	for (;;) {
		if (!x->have_chunk) {
			x->decoding = true;
			return decode_cost(x);
		}
		uint32_t hw = 0;
		if (x->st == ST_RUNNING)
			update_hw(x, &hw);
		if (x->st == ST_XRUN) {
			/* -EPIPE: snd_pcm_prepare, then write again. */
			if (!x->prepared_cost) {
				x->prepared_cost = true;
				x->decoding = false;
				return x->p->restart_cost_ns ? x->p->restart_cost_ns : 1;
			}
			x->st = ST_PREPARED;
		}
		if (x->st == ST_PREPARED) {
			/* start_threshold 1: the first write starts the stream. */
			x->appl = 1;
			wr(x, SIM_HDA_SD_WP, 1);
			x->t0 = x->plat->eng.now_ns;
			wr(x, SIM_HDA_SD_CTL, SIM_HDA_SD_CTL_RUN | SIM_HDA_SD_CTL_IOCE);
			if (!(rd(x, SIM_HDA_SD_CTL) & SIM_HDA_SD_CTL_RUN)) {
				x->oom = 2; /* the controller refused the stream */
				return 0;
			}
			x->st = ST_RUNNING;
			x->have_chunk = false;
			x->r->periods_written++;
			fill_sample(x, 1);
			continue;
		}
		if (x->appl - hw < x->p->nperiods) {
			x->appl++;
			wr(x, SIM_HDA_SD_WP, x->appl);
			x->have_chunk = false;
			x->r->periods_written++;
			fill_sample(x, (int64_t)(x->appl - hw));
			continue;
		}
		x->decoding = false;
		return 0; /* the ring is full: wait for an interrupt */
	}
}

static uint64_t guest_burst_done(void *arg, struct hyp *h, int vcpu, uint64_t now)
{
	struct exp *x = arg;
	(void)h;
	(void)vcpu;
	(void)now;
	if (x->decoding) {
		x->decoding = false;
		x->have_chunk = true;
	}
	return player_step(x);
}

static uint64_t guest_irq(void *arg, struct hyp *h, int vcpu, uint64_t raised, uint64_t now)
{
	struct exp *x = arg;
	(void)h;
	(void)vcpu;
	(void)raised;
	(void)now;
	wr(x, SIM_HDA_SD_STS, SIM_HDA_SD_STS_BCIS);
	uint32_t hw;
	if (x->st == ST_RUNNING)
		update_hw(x, &hw);
	/* The handler's cost; a blocked writer then retries (burst_done). */
	return x->p->irq_cost_ns ? x->p->irq_cost_ns : 1;
}

static uint64_t dom0_burst_done(void *arg, struct hyp *h, int vcpu, uint64_t now)
{
	(void)arg;
	(void)h;
	(void)vcpu;
	(void)now;
	return HYP_BURST_FOREVER;
}

/* The hypervisor's MSI path: the controller's message becomes an interrupt
 * for the guest's vCPU. The fill level is sampled here too (the device's
 * view at each period boundary). */
static void on_msi(void *arg, const struct sim_msi_msg *m)
{
	struct exp *x = arg;
	(void)m;
	x->r->irqs++;
	if (x->st == ST_RUNNING) {
		uint32_t done = rd(x, SIM_HDA_SD_PERIODS_DONE);
		fill_sample(x, (int64_t)(int32_t)(x->appl - done));
	}
	hyp_irq(x->h, x->v_guest);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int setup_device(struct exp *x)
{
	struct sim_reference ref;
	if (sim_build_reference_ex(x->plat, &ref))
		return -ENOMEM;
	x->hda = ref.hda;
	x->bdf = sim_fn_bdf(ref.hda);
	uint64_t bytes = (uint64_t)x->p->period_frames * x->p->frame_bytes * x->p->nperiods;
	uint64_t pages = (bytes + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE;
	int d = sim_iommu_domain_new(x->plat);
	if (d < 0)
		return -ENOMEM;
	uint64_t hpa = sim_mem_alloc(x->plat, pages, d);
	if (hpa == UINT64_MAX)
		return -ENOMEM;
	sim_iommu_attach(x->plat, sim_requester_id(ref.hda), d);
	if (sim_iommu_map(x->plat, d, AUDIO_IOVA, hpa, pages * SIM_PAGE_SIZE, HQIO_DMA_READ))
		return -ENOMEM;
	uint16_t msi = ref.hda->msi;
	sim_cfg_write(x->plat, x->bdf, HQIO_PCI_COMMAND, 2,
		      HQIO_PCI_COMMAND_MEMORY | HQIO_PCI_COMMAND_MASTER);
	sim_cfg_write(x->plat, x->bdf, msi + HQIO_PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
	sim_cfg_write(x->plat, x->bdf, msi + HQIO_PCI_MSI_DATA_64, 2, 0x61);
	sim_cfg_write(x->plat, x->bdf, msi + HQIO_PCI_MSI_FLAGS, 2,
		      sim_fn_cfg_get(ref.hda, msi + HQIO_PCI_MSI_FLAGS, 2) |
			      HQIO_PCI_MSI_FLAGS_ENABLE);
	wr(x, SIM_HDA_SD_PERIOD, x->p->period_frames * x->p->frame_bytes);
	wr(x, SIM_HDA_SD_NPERIODS, x->p->nperiods);
	wr(x, SIM_HDA_SD_RATE, x->p->rate);
	wr(x, SIM_HDA_SD_FRAME, x->p->frame_bytes);
	wr(x, SIM_HDA_SD_BDPL, (uint32_t)AUDIO_IOVA);
	wr(x, SIM_HDA_SD_BDPU, (uint32_t)(AUDIO_IOVA >> 32));
	x->plat->msi_sink = on_msi;
	x->plat->msi_arg = x;
	return 0;
}

static int setup_hyp(struct exp *x, char *err, size_t errlen)
{
	const struct audio_params *p = x->p;
	struct hqio_sched_config cfg = { .n_pcpus = 1, .tslice_ns = p->tslice_ns };
	struct hqio_vcpu_params d0 = { .domain = 0, .weight = 256 * p->w_dom0 };
	struct hqio_vcpu_params g = { .domain = 1, .weight = 256 * p->w_guest };
	switch (p->sched) {
	case AUDIO_SCHED_CREDIT:
		cfg.policy = p->credit;
		break;
	case AUDIO_SCHED_CREDIT_1MS:
		cfg.policy = p->credit;
		cfg.tick_ns = SIM_NS_PER_MS;
		break;
	case AUDIO_SCHED_RT:
		cfg.policy = HQIO_SCHED_RT;
		cfg.rt_credit = p->credit;
		g.realtime = true;
		break;
	case AUDIO_SCHED_RTDS: {
		/* RTDS has no weights: the guest reserves its weight share of
		 * Xen's default 10 ms period, dom0 the rest (issue 18). */
		uint64_t per = 10 * SIM_NS_PER_MS;
		uint64_t gb = per * p->w_guest / (p->w_guest + p->w_dom0);
		cfg.policy = HQIO_SCHED_RTDS;
		cfg.rtds_period_ns = per;
		g.rtds_period_ns = d0.rtds_period_ns = per;
		g.rtds_budget_ns = gb;
		d0.rtds_budget_ns = per - gb;
		x->r->guest_rtds_budget_ns = gb;
		x->r->rtds_period_ns = per;
		break;
	}
	default:
		return -EINVAL;
	}
	int rc = hyp_create(&x->plat->eng, &cfg, &x->h, err, errlen);
	if (rc)
		return rc;
	snprintf(x->r->policy, sizeof(x->r->policy), "%s",
		 hqio_sched_policy_name(hqio_sched_config_of(hyp_sched(x->h))->policy));
	struct hyp_work wd = { .burst_done = dom0_burst_done, .arg = x };
	struct hyp_work wg = { .burst_done = guest_burst_done, .irq = guest_irq, .arg = x };
	x->v_dom0 = hyp_add_vcpu(x->h, &d0, &wd, false);
	x->v_guest = hyp_add_vcpu(x->h, &g, &wg, true);
	if (x->v_dom0 < 0 || x->v_guest < 0) {
		snprintf(err, errlen, "the scheduler refused a vCPU (%d/%d)", x->v_dom0,
			 x->v_guest);
		return x->v_dom0 < 0 ? x->v_dom0 : x->v_guest;
	}
	return 0;
}

int audio_run(const struct audio_params *p, struct audio_result *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	int rc = audio_params_check(p, err, errlen);
	if (rc)
		return rc;
	struct exp x = { .p = p, .r = r, .st = ST_PREPARED };
	uint64_t bytes = (uint64_t)p->period_frames * p->frame_bytes * p->nperiods;
	x.plat = sim_platform_new(p->seed, (bytes + (1u << 20)) & ~(uint64_t)(SIM_PAGE_SIZE - 1));
	if (!x.plat) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = setup_device(&x);
	if (rc) {
		snprintf(err, errlen, "cannot set up the HD-Audio controller (%d)", rc);
		sim_platform_free(x.plat);
		return rc;
	}
	/* Period length: the device's exact timing (sim_hda_period_start). */
	x.period_ns = sim_hda_period_start(0, 1, p->period_frames * p->frame_bytes, p->rate,
					   p->frame_bytes);
	x.decode_ns = (uint64_t)(p->decode_frac * (double)x.period_ns + 0.5);
	r->period_ns = x.period_ns;
	r->decode_ns = x.decode_ns;
	rc = setup_hyp(&x, err, errlen);
	if (rc) {
		hyp_destroy(x.h);
		sim_platform_free(x.plat);
		return rc;
	}
	uint64_t start = x.plat->eng.now_ns;
	x.start = start;
	hyp_start(x.h);
	if (!p->dom0_idle)
		hyp_wake(x.h, x.v_dom0, HYP_BURST_FOREVER);
	/* The player starts a random fraction of a period after dom0 (so the
	 * seed moves the stream's phase against the scheduler's ticks). */
	sim_run_for(&x.plat->eng, 1 + sim_rand_below(&x.plat->eng, x.period_ns));
	x.decoding = true;
	hyp_wake(x.h, x.v_guest, decode_cost(&x));
	sim_run_until(&x.plat->eng, start + p->duration_ns);
	hyp_sync(x.h);

	if (x.st == ST_RUNNING) {
		r->silent_periods += rd(&x, SIM_HDA_SD_UNDERRUNS);
		r->dma_errors += rd(&x, SIM_HDA_SD_DMA_ERRS);
		r->periods_played += rd(&x, SIM_HDA_SD_PERIODS_DONE);
	}
	uint64_t el = hyp_elapsed_ns(x.h);
	const struct hyp_vcpu_stats *sg = hyp_vcpu_stats(x.h, x.v_guest);
	const struct hyp_vcpu_stats *sd = hyp_vcpu_stats(x.h, x.v_dom0);
	const struct hyp_pcpu_stats *sc = hyp_pcpu_stats(x.h, 0);
	r->elapsed_ns = el;
	double secs = (double)el / 1e9;
	r->underruns_per_s = secs > 0 ? (double)r->xruns / secs : 0;
	r->guest_share = el ? (double)sg->run_ns / (double)el : 0;
	r->dom0_share = el ? (double)sd->run_ns / (double)el : 0;
	r->idle_share = el ? (double)sc->idle_ns / (double)el : 0;
	r->switches = sc->switches;
	r->switches_per_s = secs > 0 ? (double)sc->switches / secs : 0;
	r->n_lat = sg->n_lat;
	r->lat_max_ns = sg->lat_max_ns;
	if (sg->n_lat) {
		uint64_t *l = malloc(sg->n_lat * sizeof(*l));
		if (l) {
			memcpy(l, sg->lat_ns, sg->n_lat * sizeof(*l));
			qsort(l, sg->n_lat, sizeof(*l), cmp_u64);
			r->lat_p50_ns = l[(sg->n_lat - 1) / 2];
			r->lat_p99_ns = l[(sg->n_lat - 1) * 99 / 100];
			if (p->keep_latencies)
				r->lat_ns = l;
			else
				free(l);
		} else {
			x.oom = 1;
		}
	}
	r->trace_hash = x.plat->eng.trace_hash;
	r->events = x.plat->eng.executed;
	hyp_destroy(x.h);
	sim_platform_free(x.plat);
	if (x.oom) {
		snprintf(err, errlen,
			 x.oom == 2 ? "the controller refused the stream parameters"
				    : "out of memory");
		audio_result_free(r);
		return x.oom == 2 ? -EINVAL : -ENOMEM;
	}
	return 0;
}

void audio_result_free(struct audio_result *r)
{
	free(r->lat_ns);
	free(r->fill);
	free(r->xrun_at_ns);
	free(r->xrun_seen_ns);
	r->xrun_seen_ns = NULL;
	r->lat_ns = NULL;
	r->fill = NULL;
	r->xrun_at_ns = NULL;
	r->n_fill = r->n_xrun_at = 0;
}
