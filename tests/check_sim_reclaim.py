#!/usr/bin/env python3
"""`hqio sim reclaim --json`: the CLI of the randomized reclaim experiment
reports runs, stray_writes, quarantined and methods_used; hqio's order has
no stray writes and --naive on the same seed has some; bad flags are usage
errors (exit 2).

Usage: check_sim_reclaim.py path/to/hqio
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hqio_check import Checks  # noqa: E402

ck = Checks()
check = ck.check
fails = ck.failures


def run(args):
    return ck.run(args, timeout=120)


def main():
    hqio = sys.argv[1]
    docs = {}
    for mode in ("hqio", "naive"):
        args = [hqio, "sim", "reclaim", "--runs", "1500", "--seed", "9", "--json"]
        if mode == "naive":
            args.append("--naive")
        r = run(args)
        check(r.returncode == 0, "%s: exit %d %s" % (mode, r.returncode, r.stderr.strip()))
        d = json.loads(r.stdout)
        docs[mode] = d
        for key in ("runs", "stray_writes", "quarantined", "methods_used", "units",
                    "in_flight_at_reclaim"):
            check(key in d, "%s: key %s present" % (mode, key))
        check(d["mode"] == mode, "mode %s" % mode)
        check(d["runs"] == 1500, "%s: 1500 runs, got %s" % (mode, d["runs"]))
        check(sum(d["methods_used"].values()) > 0, "%s: methods used" % mode)
    check(docs["hqio"]["stray_writes"] == 0, "hqio: no stray writes")
    check(docs["naive"]["stray_writes"] > 0, "naive: stray writes observed")
    check(docs["hqio"]["in_flight_at_reclaim"] > 300, "DMA in flight at many reclaims")
    # same seed, same result
    again = json.loads(run([hqio, "sim", "reclaim", "--runs", "1500", "--seed", "9",
                            "--json"]).stdout)
    check(again == docs["hqio"], "same seed, same result")
    text = run([hqio, "sim", "reclaim", "--runs", "50"])
    check(text.returncode == 0 and "stray writes" in text.stdout, "text output")
    for bad in (["--runs", "x"], ["--runs", "-5"], ["--bogus"], ["extra"]):
        r = run([hqio, "sim", "reclaim"] + bad)
        check(r.returncode == 2 and r.stderr.strip(), "usage error for %s" % bad)
    return ck.finish("check_sim_reclaim: %d passed, %d failed" %
                     (ck.count - len(fails), len(fails)))


if __name__ == "__main__":
    sys.exit(main())
