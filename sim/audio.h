/*
 * The audio experiment (issue 18): one pCPU shared by dom0, a busy loop,
 * and a guest playing audio on an assigned HD-Audio-like controller
 * (sim/devices/hda.c, driven through the platform: BAR registers, DMA
 * through the IOMMU, one MSI per period that the hypervisor turns into an
 * interrupt for the guest's vCPU). docs/audio.md documents the audio stack
 * modelled, its sources and the results.
 */
#ifndef HQIO_SIM_AUDIO_H
#define HQIO_SIM_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hqio/sched.h"

/* The schedulers of the reference table. */
enum audio_sched {
	AUDIO_SCHED_CREDIT = 0, /* credit, 10 ms tick */
	AUDIO_SCHED_CREDIT_1MS, /* credit, 1 ms tick (slice: three ticks unless tslice_ns) */
	AUDIO_SCHED_RT,		/* hqio REAL_TIME, credit underneath */
	AUDIO_SCHED_RTDS,	/* Xen RTDS, reservation = weight share */
	AUDIO_SCHED_N,
};

const char *audio_sched_name(enum audio_sched s);
int audio_sched_from_name(const char *name, enum audio_sched *out);

struct audio_params {
	enum audio_sched sched;
	enum hqio_sched_policy credit; /* HQIO_SCHED_CREDIT_2009 or _42 */
	uint64_t tslice_ns;	       /* 0: the policy's default (three ticks) */
	unsigned w_guest, w_dom0;      /* relative weights (Xen weight = 256 * w) */
	uint64_t duration_ns;
	uint64_t seed;
	/* Stream (defaults: see audio_params_default and docs/audio.md). */
	uint32_t rate;		/* frames/s */
	uint32_t frame_bytes;	/* 16-bit stereo: 4 */
	uint32_t period_frames; /* per period (one interrupt each) */
	uint32_t nperiods;	/* periods in the ring (buffer = period * nperiods) */
	/* Guest CPU costs. */
	double decode_frac;	  /* decode CPU time per second of audio */
	double decode_jitter;	  /* per-period cost uniform in (1 +- jitter) * mean */
	uint64_t irq_cost_ns;	  /* guest interrupt handler */
	uint64_t restart_cost_ns; /* snd_pcm_prepare + restart after an xrun */
	/* Test hooks (0/false in experiments): dom0 stays idle instead of
	 * looping; the first decode starting at or after stall_after_ns takes
	 * stall_ns longer (a guest-internal stall, e.g. a slow disk read). */
	bool dom0_idle;
	uint64_t stall_after_ns, stall_ns;
	/* Outputs. */
	bool trace_fill;     /* record the ring fill level over time */
	bool keep_latencies; /* keep every interrupt-to-run latency (sorted) */
};

struct audio_fill_sample {
	uint64_t t_ns;
	int64_t fill_frames; /* written but not yet played; <= 0 while starved */
};

struct audio_result {
	uint64_t elapsed_ns;
	uint64_t xruns;		  /* ALSA xruns (device pointer caught the app pointer) */
	uint64_t silent_periods;  /* periods the device played unfilled (its UNDERRUNS) */
	uint64_t periods_played;  /* periods the device completed */
	uint64_t periods_written; /* periods the player wrote */
	uint64_t irqs;		  /* device interrupts (MSI) */
	uint64_t dma_errors;
	double underruns_per_s;
	double dom0_share, guest_share, idle_share;
	uint64_t switches;
	double switches_per_s;
	uint64_t lat_p50_ns, lat_p99_ns, lat_max_ns, n_lat;
	uint64_t *lat_ns; /* sorted, if keep_latencies */
	struct audio_fill_sample *fill;
	size_t n_fill;
	uint64_t *xrun_at_ns;	/* device time of each xrun (first silent period start) */
	uint64_t *xrun_seen_ns; /* when the guest's driver saw it and stopped the stream */
	size_t n_xrun_at;
	uint64_t trace_hash; /* the engine's hash of every event executed */
	uint64_t events;
	/* Parameters as run (derived values filled in). */
	uint64_t period_ns;
	uint64_t decode_ns; /* mean per period */
	uint64_t guest_rtds_budget_ns, rtds_period_ns;
	char policy[32];
};

void audio_params_default(struct audio_params *p);
/* Validate: 0 or -EINVAL with a message in err. */
int audio_params_check(const struct audio_params *p, char *err, size_t errlen);
/* Run one experiment: 0, or a negative errno with a message in err. */
int audio_run(const struct audio_params *p, struct audio_result *r, char *err, size_t errlen);
void audio_result_free(struct audio_result *r);

/* Reference numbers (underruns/s at 1:16) of the 2008-2009 experiment;
 * negative when the reference gives none. */
double audio_reference_1_16(enum audio_sched s);

#endif
