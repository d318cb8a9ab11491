/*
 * hqio sim audio: the audio experiment of issue 18 (sim/audio.h,
 * docs/audio.md): one run, the reference table, sweeps, and the series the
 * plots of docs/audio.md are drawn from (--trace, --cdf).
 */
#include "cli_args.h"
#include "commands.h"

#include "audio.h"
#include "engine.h"
#include "json.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: hqio sim audio [--sched credit|credit-1ms|rt|rtds] [--credit-version 2009|4.2]\n"
	"                      [--tslice-ms N] [--weights G:D] [--seconds S] [--seed N]\n"
	"                      [--period-frames N] [--periods N] [--cost PCT] [--jitter F]\n"
	"                      [--json] [--table | --sweep period|buffer|cost | --trace | --cdf]\n"
	"\n"
	"The audio experiment: one pCPU shared by dom0 (one vCPU, a busy loop) and a\n"
	"guest (one vCPU) playing audio on its assigned HD-Audio-like controller; the\n"
	"controller's per-period MSI is the guest's interrupt. Prints underruns (ALSA\n"
	"xruns: the device pointer caught the application pointer) per second, dom0\n"
	"and guest CPU share, context switches per second and interrupt-to-run latency.\n"
	"\n"
	"  --sched NAME         credit (10 ms tick), credit-1ms (1 ms tick), rt (hqio\n"
	"                       REAL_TIME over credit) or rtds (Xen RTDS); default credit\n"
	"  --credit-version V   2009 (Xen 3.3/3.4, default) or 4.2: credit, credit-1ms and\n"
	"                       rt's credit part\n"
	"  --tslice-ms N        credit time slice and accounting period (default 3 ticks)\n"
	"  --weights G:D        guest:dom0 weights, each 1..255 (Xen weight 256*G, 256*D);\n"
	"                       default 1:16. RTDS has no weights: the guest reserves\n"
	"                       G/(G+D) of a 10 ms period, dom0 the rest\n"
	"  --seconds S          simulated seconds (default 600; --table: per row)\n"
	"  --seed N             random seed (default 1)\n"
	"  --period-frames N    frames per period (default 5512: mpg123's 0.5 s / 4)\n"
	"  --periods N          periods in the buffer (default 4)\n"
	"  --cost PCT           decode CPU per second of audio, percent (default 2.22)\n"
	"  --jitter F           per-period decode cost varies uniformly by +-F (default 0.2)\n"
	"  --json               machine-readable output\n"
	"  --table              the reference table: weights 1:1 and 1:16 x credit,\n"
	"                       credit-1ms, rt, rtds, beside the 2008-2009 numbers\n"
	"  --sweep WHAT         underruns/s of every scheduler while varying the period\n"
	"                       (buffer kept), the buffer (4 periods) or the decode cost\n"
	"  --trace              the ring fill level over time: 'seconds fill_ms' lines\n"
	"  --cdf                the latency distribution: 'latency_us fraction' lines\n"
	"  -h, --help           this text\n";

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "hqio sim audio: %s, not '%s' (see 'hqio sim audio --help')\n", what, arg);
	return HQIO_EXIT_USAGE;
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_double(const char *s, double *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

static void print_params(const struct audio_params *p, const struct audio_result *r)
{
	double per_ms = (double)r->period_ns / 1e6;
	printf("stream: %u Hz, %u-byte frames, period %u frames (%.1f ms), %u periods "
	       "(%.1f ms buffer); stop_threshold = buffer, start_threshold = 1 frame\n",
	       p->rate, p->frame_bytes, p->period_frames, per_ms, p->nperiods,
	       per_ms * p->nperiods);
	printf("guest CPU: decode %.2f %% of playback (%.3f ms per period, +-%.0f %%), "
	       "irq handler %.0f us, restart %.0f us\n",
	       p->decode_frac * 100, (double)r->decode_ns / 1e6, p->decode_jitter * 100,
	       (double)p->irq_cost_ns / 1e3, (double)p->restart_cost_ns / 1e3);
}

static const char *credit_name(const struct audio_params *p)
{
	return p->credit == HQIO_SCHED_CREDIT_42 ? "credit-4.2" : "credit-2009";
}

static void sched_desc(const struct audio_params *p, const struct audio_result *r, char *buf,
		       size_t n)
{
	char ts[32] = "three ticks";
	if (p->tslice_ns)
		snprintf(ts, sizeof(ts), "%llu ms",
			 (unsigned long long)(p->tslice_ns / SIM_NS_PER_MS));
	switch (p->sched) {
	case AUDIO_SCHED_CREDIT:
		snprintf(buf, n, "%s, tick 10 ms, slice %s", credit_name(p), ts);
		break;
	case AUDIO_SCHED_CREDIT_1MS:
		snprintf(buf, n, "%s, tick 1 ms, slice %s", credit_name(p), ts);
		break;
	case AUDIO_SCHED_RT:
		snprintf(buf, n, "rt over %s, tick 10 ms, slice %s", credit_name(p), ts);
		break;
	default:
		snprintf(buf, n,
			 "rtds, guest budget %.3f ms of %.0f ms (weight share), dom0 the rest",
			 (double)r->guest_rtds_budget_ns / 1e6, (double)r->rtds_period_ns / 1e6);
		break;
	}
}

/* tools/json.h has no floating-point member: this one follows its layout
 * (comma, newline, two spaces per level, "key": value). */
static void jdouble(struct json *j, const char *key, double v, int prec)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	fprintf(j->f, "\n%*s\"%s\": %.*f", 2 * j->depth, "", key, prec, v);
}

static void json_result(struct json *j, const struct audio_params *p, const struct audio_result *r)
{
	char desc[160];
	sched_desc(p, r, desc, sizeof(desc));
	json_str(j, "sched", audio_sched_name(p->sched));
	json_str(j, "policy", r->policy);
	json_str(j, "credit_version", p->credit == HQIO_SCHED_CREDIT_42 ? "4.2" : "2009");
	json_str(j, "scheduler", desc);
	json_u64(j, "weight_guest", p->w_guest);
	json_u64(j, "weight_dom0", p->w_dom0);
	json_u64(j, "seed", p->seed);
	json_u64(j, "simulated_ns", r->elapsed_ns);
	json_u64(j, "period_frames", p->period_frames);
	json_u64(j, "periods", p->nperiods);
	json_u64(j, "period_ns", r->period_ns);
	json_u64(j, "decode_ns_per_period", r->decode_ns);
	jdouble(j, "underruns_per_s", r->underruns_per_s, 6);
	jdouble(j, "dom0_share", r->dom0_share, 6);
	jdouble(j, "guest_share", r->guest_share, 6);
	jdouble(j, "idle_share", r->idle_share, 6);
	jdouble(j, "context_switches_per_s", r->switches_per_s, 3);
	double ref = audio_reference_1_16(p->sched);
	if (ref >= 0 && p->w_guest == 1 && p->w_dom0 == 16)
		jdouble(j, "reference_underruns_per_s", ref, 3);
	json_u64(j, "xruns", r->xruns);
	json_u64(j, "silent_periods", r->silent_periods);
	json_u64(j, "periods_played", r->periods_played);
	json_u64(j, "interrupts", r->irqs);
	json_u64(j, "context_switches", r->switches);
	json_u64(j, "latency_p50_ns", r->lat_p50_ns);
	json_u64(j, "latency_p99_ns", r->lat_p99_ns);
	json_u64(j, "latency_max_ns", r->lat_max_ns);
	json_hex(j, "trace_hash", r->trace_hash, 16);
}

static void text_result(const struct audio_params *p, const struct audio_result *r)
{
	char desc[160];
	sched_desc(p, r, desc, sizeof(desc));
	printf("audio experiment: %s (%s), weights guest:dom0 %u:%u, %.1f s simulated, seed "
	       "%llu\n",
	       audio_sched_name(p->sched), desc, p->w_guest, p->w_dom0, (double)r->elapsed_ns / 1e9,
	       (unsigned long long)p->seed);
	print_params(p, r);
	printf("  underruns/s          %.3f  (%llu xruns, %llu silent periods of %llu played)\n",
	       r->underruns_per_s, (unsigned long long)r->xruns,
	       (unsigned long long)r->silent_periods, (unsigned long long)r->periods_played);
	double ref = audio_reference_1_16(p->sched);
	if (ref >= 0 && p->w_guest == 1 && p->w_dom0 == 16)
		printf("  reference (Xen 2009) %.3f\n", ref);
	printf("  dom0 CPU share       %.2f %%\n", r->dom0_share * 100);
	printf("  guest CPU share      %.2f %%\n", r->guest_share * 100);
	printf("  context switches/s   %.1f\n", r->switches_per_s);
	printf("  irq-to-run latency   p50 %.3f ms, p99 %.3f ms, max %.3f ms (%llu interrupts)\n",
	       (double)r->lat_p50_ns / 1e6, (double)r->lat_p99_ns / 1e6,
	       (double)r->lat_max_ns / 1e6, (unsigned long long)r->n_lat);
}

static int run_one(const struct audio_params *p, struct audio_result *r)
{
	char err[200] = "";
	int rc = audio_run(p, r, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "hqio sim audio: %s\n", err[0] ? err : "failed");
		return rc == -EINVAL ? HQIO_EXIT_USAGE : HQIO_EXIT_FAIL;
	}
	return HQIO_EXIT_OK;
}

static int table(const struct audio_params *base, bool json)
{
	static const unsigned wg[2][2] = { { 1, 1 }, { 1, 16 } };
	struct json j;
	if (json) {
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "experiment", "audio reference table");
		json_arr(&j, "rows");
	} else {
		printf("audio reference table: %.0f s simulated per row, seed %llu, credit version "
		       "%s; RTDS: guest reservation = weight share of 10 ms, dom0 the rest\n",
		       (double)base->duration_ns / 1e9, (unsigned long long)base->seed,
		       base->credit == HQIO_SCHED_CREDIT_42 ? "4.2" : "2009");
		printf("%-7s %-11s %12s %10s %8s %8s %8s %10s %10s\n", "weights", "sched",
		       "underruns/s", "reference", "guest%", "dom0%", "cs/s", "p99 ms", "max ms");
	}
	int ret = HQIO_EXIT_OK;
	struct audio_params first_p = *base;
	struct audio_result first_r = { 0 };
	for (int w = 0; w < 2; w++) {
		for (int s = 0; s < AUDIO_SCHED_N; s++) {
			struct audio_params p = *base;
			struct audio_result r;
			p.sched = (enum audio_sched)s;
			p.w_guest = wg[w][0];
			p.w_dom0 = wg[w][1];
			int rc = run_one(&p, &r);
			if (rc)
				return rc;
			if (w == 0 && s == 0) {
				first_p = p;
				first_r = r;
			}
			double ref = w == 1 ? audio_reference_1_16(p.sched) : -1;
			if (json) {
				json_obj(&j, NULL);
				json_result(&j, &p, &r);
				json_obj_end(&j);
			} else {
				char refs[16] = "-";
				if (ref >= 0)
					snprintf(refs, sizeof(refs), "%.3f", ref);
				else if (w == 0 && s == AUDIO_SCHED_CREDIT)
					snprintf(refs, sizeof(refs), "observed");
				printf("%u:%-5u %-11s %12.3f %10s %8.2f %8.2f %8.1f %10.3f "
				       "%10.3f\n",
				       p.w_guest, p.w_dom0, audio_sched_name(p.sched),
				       r.underruns_per_s, refs, r.guest_share * 100,
				       r.dom0_share * 100, r.switches_per_s,
				       (double)r.lat_p99_ns / 1e6, (double)r.lat_max_ns / 1e6);
			}
			audio_result_free(&r);
		}
	}
	if (json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("reference: Xen 3.3/3.4 experiment (issue 18), underruns/s at 1:16; at 1:1 "
		       "underruns were observed under credit\n");
		print_params(&first_p, &first_r);
	}
	return ret;
}

enum sweep { SWEEP_PERIOD, SWEEP_BUFFER, SWEEP_COST };

static int sweep(const struct audio_params *base, enum sweep what, bool json)
{
	/* period: buffer kept at mpg123's 22048 frames, 2..64 periods;
	 * buffer: period = buffer / 4 (the mpg123 and aplay rule), 0.5 s
	 * down to 1/32 of it; cost: decode share of playback time. */
	static const unsigned nper[] = { 2, 4, 8, 16, 32, 64 };
	static const unsigned bufdiv[] = { 1, 2, 4, 8, 16, 32 };
	static const double cost[] = { 0.005, 0.01, 0.0222, 0.05, 0.1, 0.2, 0.4 };
	unsigned n = what == SWEEP_COST ? 7 : 6;
	const char *col = what == SWEEP_PERIOD	 ? "period_frames"
			  : what == SWEEP_BUFFER ? "buffer_frames"
						 : "decode_percent";
	struct json j;
	if (json) {
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "sweep", col);
		json_arr(&j, "rows");
	} else {
		printf("# sweep of %s: underruns/s per scheduler, weights %u:%u, %.0f s each, seed "
		       "%llu\n",
		       col, base->w_guest, base->w_dom0, (double)base->duration_ns / 1e9,
		       (unsigned long long)base->seed);
		printf("%-14s", col);
		for (int s = 0; s < AUDIO_SCHED_N; s++)
			printf(" %12s", audio_sched_name((enum audio_sched)s));
		printf("\n");
	}
	for (unsigned i = 0; i < n; i++) {
		struct audio_params p = *base;
		double x;
		if (what == SWEEP_PERIOD) {
			p.nperiods = nper[i];
			p.period_frames = 22048 / nper[i];
			x = p.period_frames;
		} else if (what == SWEEP_BUFFER) {
			p.nperiods = 4;
			p.period_frames = 5512 / bufdiv[i];
			x = (double)p.period_frames * 4;
		} else {
			p.decode_frac = cost[i];
			x = cost[i] * 100;
		}
		if (json) {
			json_obj(&j, NULL);
			jdouble(&j, col, x, 4);
		} else {
			printf("%-14.10g", x);
		}
		for (int s = 0; s < AUDIO_SCHED_N; s++) {
			struct audio_result r;
			p.sched = (enum audio_sched)s;
			int rc = run_one(&p, &r);
			if (rc)
				return rc;
			if (json) {
				char key[48];
				snprintf(key, sizeof(key), "%s_underruns_per_s",
					 audio_sched_name(p.sched));
				jdouble(&j, key, r.underruns_per_s, 6);
				snprintf(key, sizeof(key), "%s_guest_share",
					 audio_sched_name(p.sched));
				jdouble(&j, key, r.guest_share, 6);
			} else {
				printf(" %12.3f", r.underruns_per_s);
			}
			audio_result_free(&r);
		}
		if (json)
			json_obj_end(&j);
		else
			printf("\n");
	}
	if (json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	}
	return HQIO_EXIT_OK;
}

int cmd_sim_audio(int argc, char **argv)
{
	enum {
		O_SCHED = 256,
		O_CVER,
		O_TSLICE,
		O_WEIGHTS,
		O_SECONDS,
		O_SEED,
		O_PFRAMES,
		O_PERIODS,
		O_COST,
		O_JITTER,
		O_TABLE,
		O_SWEEP,
		O_TRACE,
		O_CDF,
	};
	static const struct option longopts[] = {
		{ "sched", required_argument, NULL, O_SCHED },
		{ "credit-version", required_argument, NULL, O_CVER },
		{ "tslice-ms", required_argument, NULL, O_TSLICE },
		{ "weights", required_argument, NULL, O_WEIGHTS },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "period-frames", required_argument, NULL, O_PFRAMES },
		{ "periods", required_argument, NULL, O_PERIODS },
		{ "cost", required_argument, NULL, O_COST },
		{ "jitter", required_argument, NULL, O_JITTER },
		{ "table", no_argument, NULL, O_TABLE },
		{ "sweep", required_argument, NULL, O_SWEEP },
		{ "trace", no_argument, NULL, O_TRACE },
		{ "cdf", no_argument, NULL, O_CDF },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct audio_params p;
	audio_params_default(&p);
	bool json = false, do_table = false, trace = false, cdf = false;
	int do_sweep = -1;
	unsigned long long u;
	double d;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hj", longopts, NULL)) != -1) {
		switch (c) {
		case O_SCHED:
			if (audio_sched_from_name(optarg, &p.sched))
				return bad("--sched must be credit, credit-1ms, rt or rtds",
					   optarg);
			break;
		case O_CVER:
			if (!strcmp(optarg, "2009"))
				p.credit = HQIO_SCHED_CREDIT_2009;
			else if (!strcmp(optarg, "4.2"))
				p.credit = HQIO_SCHED_CREDIT_42;
			else
				return bad("--credit-version must be 2009 or 4.2", optarg);
			break;
		case O_TSLICE:
			if (parse_uint(optarg, 10000, &u) || !u)
				return bad("--tslice-ms needs 1..10000", optarg);
			p.tslice_ns = u * SIM_NS_PER_MS;
			break;
		case O_WEIGHTS: {
			unsigned long long g, dd;
			char buf[64];
			char *colon;
			snprintf(buf, sizeof(buf), "%s", optarg);
			colon = strchr(buf, ':');
			if (!colon)
				return bad("--weights needs G:D, e.g. 1:16", optarg);
			*colon = 0;
			if (parse_uint(buf, 255, &g) || parse_uint(colon + 1, 255, &dd) || !g ||
			    !dd)
				return bad("--weights needs G:D with each 1..255", optarg);
			p.w_guest = (unsigned)g;
			p.w_dom0 = (unsigned)dd;
			break;
		}
		case O_SECONDS:
			if (parse_double(optarg, &d) || !(d > 0) || d > 86400)
				return bad("--seconds needs a number of seconds in (0, 86400]",
					   optarg);
			p.duration_ns = (uint64_t)(d * 1e9);
			if (!p.duration_ns)
				return bad("--seconds is below 1 ns", optarg);
			break;
		case O_SEED:
			if (parse_uint(optarg, UINT64_MAX, &u))
				return bad("--seed needs a non-negative integer", optarg);
			p.seed = u;
			break;
		case O_PFRAMES:
			if (parse_uint(optarg, 1u << 20, &u) || !u)
				return bad("--period-frames needs a positive integer", optarg);
			p.period_frames = (uint32_t)u;
			break;
		case O_PERIODS:
			if (parse_uint(optarg, 1000, &u))
				return bad("--periods needs an integer 2..256", optarg);
			p.nperiods = (uint32_t)u;
			break;
		case O_COST:
			if (parse_double(optarg, &d) || d < 0 || d >= 100)
				return bad("--cost needs a percentage in [0, 100)", optarg);
			p.decode_frac = d / 100;
			break;
		case O_JITTER:
			if (parse_double(optarg, &d) || d < 0 || d >= 1)
				return bad("--jitter needs a fraction in [0, 1)", optarg);
			p.decode_jitter = d;
			break;
		case O_TABLE:
			do_table = true;
			break;
		case O_SWEEP:
			if (!strcmp(optarg, "period"))
				do_sweep = SWEEP_PERIOD;
			else if (!strcmp(optarg, "buffer"))
				do_sweep = SWEEP_BUFFER;
			else if (!strcmp(optarg, "cost"))
				do_sweep = SWEEP_COST;
			else
				return bad("--sweep must be period, buffer or cost", optarg);
			break;
		case O_TRACE:
			trace = true;
			break;
		case O_CDF:
			cdf = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return HQIO_EXIT_OK;
		default:
			return cli_bad_option("hqio sim audio", "unknown option or missing value",
					      argv[optind - 1], "hqio sim audio --help");
		}
	}
	if (optind < argc)
		return cli_unexpected("hqio sim audio", argv[optind]);
	if (do_table + (do_sweep >= 0) + trace + cdf > 1) {
		fprintf(stderr, "hqio sim audio: --table, --sweep, --trace and --cdf exclude each "
				"other\n");
		return HQIO_EXIT_USAGE;
	}
	if ((trace || cdf) && json) {
		fprintf(stderr,
			"hqio sim audio: --trace and --cdf print plain columns, not JSON\n");
		return HQIO_EXIT_USAGE;
	}
	char err[200];
	if (audio_params_check(&p, err, sizeof(err))) {
		fprintf(stderr, "hqio sim audio: %s\n", err);
		return HQIO_EXIT_USAGE;
	}
	if (do_table)
		return table(&p, json);
	if (do_sweep >= 0)
		return sweep(&p, (enum sweep)do_sweep, json);
	p.trace_fill = trace;
	p.keep_latencies = cdf;
	struct audio_result r;
	int rc = run_one(&p, &r);
	if (rc)
		return rc;
	if (trace) {
		printf("# ring fill level: %s, weights %u:%u, seed %llu; columns: seconds "
		       "fill_ms\n",
		       audio_sched_name(p.sched), p.w_guest, p.w_dom0, (unsigned long long)p.seed);
		double ms_per_frame = 1000.0 / p.rate;
		for (size_t i = 0; i < r.n_fill; i++)
			printf("%.6f %.3f\n", (double)r.fill[i].t_ns / 1e9,
			       (double)(r.fill[i].fill_frames > 0 ? r.fill[i].fill_frames : 0) *
				       ms_per_frame);
	} else if (cdf) {
		printf("# interrupt-to-run latency CDF: %s, weights %u:%u, seed %llu; columns: "
		       "latency_us fraction\n",
		       audio_sched_name(p.sched), p.w_guest, p.w_dom0, (unsigned long long)p.seed);
		for (size_t i = 0; i < r.n_lat; i++)
			if (i + 1 == r.n_lat || r.lat_ns[i + 1] != r.lat_ns[i])
				printf("%.3f %.6f\n", (double)r.lat_ns[i] / 1e3,
				       (double)(i + 1) / (double)r.n_lat);
	} else if (json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_result(&j, &p, &r);
		json_obj_end(&j);
		json_end(&j);
	} else {
		text_result(&p, &r);
	}
	audio_result_free(&r);
	return HQIO_EXIT_OK;
}
