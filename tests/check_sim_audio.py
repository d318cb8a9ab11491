#!/usr/bin/env python3
"""`hqio sim audio`: --help, the --json fields, the acceptance of issue 18
for the rt policy (no underruns at 1:16 over 10 simulated minutes while the
guest uses what it uses under credit, within 1 %, and dom0 the rest), the
same result for the same seed, --table rows, --sweep, --trace and --cdf
columns, and usage errors (exit 2) for bad flags.

Usage: check_sim_audio.py path/to/hqio
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hqio_check import Checks  # noqa: E402

ck = Checks()
check = ck.check
fails = ck.failures

FIELDS = ("underruns_per_s", "dom0_share", "guest_share", "idle_share",
          "context_switches_per_s", "latency_p50_ns", "latency_p99_ns", "latency_max_ns",
          "xruns", "silent_periods", "periods_played", "sched", "policy", "weight_guest",
          "weight_dom0", "seed", "simulated_ns", "trace_hash", "scheduler")


def run(args):
    return ck.run(args, timeout=300)


def audio_json(hqio, *args):
    r = run([hqio, "sim", "audio", "--json"] + list(args))
    check(r.returncode == 0, "%s: exit %d %s" % (args, r.returncode, r.stderr.strip()))
    try:
        return json.loads(r.stdout)
    except ValueError:
        fails.append("%s: not JSON: %r" % (args, r.stdout[:200]))
        return {}


def main():
    hqio = sys.argv[1]
    h = run([hqio, "sim", "audio", "--help"])
    check(h.returncode == 0 and "--sched" in h.stdout and "--table" in h.stdout, "--help")
    top = run([hqio, "sim", "--help"])
    check(top.returncode == 0 and "audio" in top.stdout, "hqio sim --help names audio")

    # Acceptance (issue 18): rt at 1:16, 10 simulated minutes.
    credit = audio_json(hqio, "--sched", "credit", "--weights", "1:16", "--seconds", "600",
                        "--seed", "1")
    rt = audio_json(hqio, "--sched", "rt", "--weights", "1:16", "--seconds", "600",
                    "--seed", "1")
    for d, name in ((credit, "credit"), (rt, "rt")):
        for k in FIELDS:
            check(k in d, "%s: field %s" % (name, k))
    if credit and rt:
        check(rt["xruns"] == 0 and rt["underruns_per_s"] == 0, "rt: zero underruns at 1:16")
        check(abs(rt["guest_share"] - credit["guest_share"]) <= 0.01 * credit["guest_share"],
              "rt: guest share %.5f within 1 %% of credit's %.5f" %
              (rt["guest_share"], credit["guest_share"]))
        check(abs(rt["dom0_share"] + rt["guest_share"] - 1) < 1e-6 and rt["idle_share"] < 1e-6,
              "rt: dom0 gets all the rest")
        check(rt["simulated_ns"] == 600 * 10**9, "600 s simulated")
        check(credit["reference_underruns_per_s"] == 2.47, "credit reference beside it")
        check(rt["policy"] == "rt" and credit["policy"] == "credit-2009", "policies named")

    # Control: the same check sees underruns where they exist. With a 125 ms
    # buffer credit's 150 ms waits at 1:16 underrun; rt's do not.
    small = ["--weights", "1:16", "--seconds", "120", "--period-frames", "1378"]
    c_small = audio_json(hqio, "--sched", "credit", *small)
    r_small = audio_json(hqio, "--sched", "rt", *small)
    check(c_small.get("xruns", 0) > 0 and c_small.get("silent_periods", 0) > 0,
          "control: credit underruns with a 125 ms buffer")
    check(r_small.get("xruns") == 0, "rt: no underruns with a 125 ms buffer")

    # The same seed gives the same run; another seed another trace.
    a = audio_json(hqio, "--sched", "credit", "--seconds", "30", "--seed", "5")
    b = audio_json(hqio, "--sched", "credit", "--seconds", "30", "--seed", "5")
    c = audio_json(hqio, "--sched", "credit", "--seconds", "30", "--seed", "6")
    check(a == b, "same seed, same JSON")
    check(a.get("trace_hash") != c.get("trace_hash"), "other seed, other trace")

    for s in ("credit-1ms", "rtds"):
        d = audio_json(hqio, "--sched", s, "--seconds", "20", "--credit-version", "4.2")
        check(d.get("sched") == s, "%s runs" % s)
    d = audio_json(hqio, "--sched", "credit", "--credit-version", "4.2", "--seconds", "5")
    check(d.get("policy") == "credit-4.2", "--credit-version 4.2 selects credit-4.2")
    d = audio_json(hqio, "--sched", "rtds", "--weights", "1:1", "--seconds", "5")
    check("weight share" in d.get("scheduler", ""), "rtds says its reservation")

    t = run([hqio, "sim", "audio", "--table", "--seconds", "3"])
    rows = [l for l in t.stdout.splitlines() if l[:2] in ("1:", "1 ")]
    check(t.returncode == 0 and len(rows) == 8, "--table: 8 rows, got %d" % len(rows))
    check("2.470" in t.stdout and "0.594" in t.stdout and "0.506" in t.stdout,
          "--table prints the reference numbers")
    tj = run([hqio, "sim", "audio", "--table", "--seconds", "2", "--json"])
    check(tj.returncode == 0 and len(json.loads(tj.stdout)["rows"]) == 8, "--table --json")
    sw = run([hqio, "sim", "audio", "--sweep", "cost", "--seconds", "2", "--json"])
    check(sw.returncode == 0 and len(json.loads(sw.stdout)["rows"]) == 7, "--sweep cost")
    tr = run([hqio, "sim", "audio", "--trace", "--seconds", "3"])
    lines = [l.split() for l in tr.stdout.splitlines() if not l.startswith("#")]
    check(tr.returncode == 0 and len(lines) > 10 and all(len(x) == 2 for x in lines),
          "--trace: two columns")
    cd = run([hqio, "sim", "audio", "--cdf", "--sched", "rtds", "--seconds", "3"])
    lines = [l.split() for l in cd.stdout.splitlines() if not l.startswith("#")]
    check(cd.returncode == 0 and lines and float(lines[-1][1]) == 1.0, "--cdf ends at 1")

    for bad in (["--sched", "fifo"], ["--weights", "1-16"], ["--weights", "0:16"],
                ["--weights", "1:300"], ["--seconds", "0"], ["--seconds", "x"],
                ["--seed", "-1"], ["--credit-version", "3.0"], ["--tslice-ms", "0"],
                ["--periods", "1"], ["--period-frames", "70000"], ["--cost", "100"],
                ["--sweep", "rate"], ["--table", "--trace"], ["--trace", "--json"],
                ["--bogus"], ["extra"], ["--seconds"]):
        r = run([hqio, "sim", "audio"] + bad)
        check(r.returncode == 2 and r.stderr.strip() and "Traceback" not in r.stderr,
              "usage error for %s (exit %d)" % (bad, r.returncode))
    return ck.finish("check_sim_audio: %d passed, %d failed" % (ck.count - len(fails), len(fails)))


if __name__ == "__main__":
    sys.exit(main())
