/*
 * Demo step: the audio experiment of issue 18 (sim/audio.h), live: a guest
 * playing audio on its assigned HD-Audio-like controller shares one pCPU
 * with a dom0 busy loop at weight 1:16, under each scheduler.
 */
#include "audio.h"
#include "engine.h"

#include <stdio.h>

#include "demo_steps.h"

static void row(enum audio_sched s, uint32_t period_frames, const char *label)
{
	struct audio_params p;
	struct audio_result r;
	char err[200];
	audio_params_default(&p);
	p.sched = s;
	p.period_frames = period_frames;
	p.duration_ns = 60 * SIM_NS_PER_S;
	if (audio_run(&p, &r, err, sizeof(err))) {
		printf("  %-11s failed: %s\n", audio_sched_name(s), err);
		return;
	}
	printf("  %-6s %-11s %8.3f %9.2f %%  %8.1f ms %8.1f ms\n", label, audio_sched_name(s),
	       r.underruns_per_s, r.guest_share * 100, (double)r.lat_p99_ns / 1e6,
	       (double)r.lat_max_ns / 1e6);
	audio_result_free(&r);
}

void demo_step_audio(int n)
{
	printf("\n== Step %d: %s ==\n", n,
	       "real-time response: audio on an assigned device under Xen-style schedulers");
	printf("One pCPU: dom0 runs a busy loop, the guest (weight 1:16) plays 44.1 kHz audio\n"
	       "on its HD-Audio-like controller; each period's MSI wakes the guest's driver.\n"
	       "An underrun (ALSA xrun) is the device pointer catching the application's.\n"
	       "60 simulated seconds per row (lib/sched policies, sim/hyp, "
	       "sim/devices/hda.c):\n\n");
	printf("  buffer %-11s %8s %11s %11s %11s\n", "scheduler", "xruns/s", "guest CPU",
	       "p99 lat", "max lat");
	for (int s = 0; s < AUDIO_SCHED_N; s++)
		row((enum audio_sched)s, 5512, "500ms");
	for (int s = 0; s < AUDIO_SCHED_N; s++)
		row((enum audio_sched)s, 1378, "125ms");
	printf("\nmpg123's 0.5 s buffer hides credit's waits (see max lat); with a 125 ms buffer\n"
	       "credit (10 ms tick) underruns while the 1 ms tick, hqio's rt policy and RTDS do\n"
	       "not. rt runs the guest earlier, not longer: its CPU share is what decoding needs\n"
	       "(credit's is lower only where xruns lost playback time).\n");
	printf("Try: hqio sim audio --table   (10 simulated minutes per row, beside the 2009 "
	       "numbers)\n");
}
