#!/usr/bin/env python3
"""check_dvh_rt_cli: `hqio dvh quirks` and `hqio dvh check` (lib/dvh run time).

The quirk table in JSON (the simulated GPU and NIC identities are in it,
every entry has a source), the collision check on the simulated dual-port
NIC (no warning for the STATUS-register rule, a warning for the devfn
what-if, none under MF_WHOLE), a real tg3 layout, --strict, and the error
handling (exit 2 for usage errors; never a signal). docs/dvh-runtime.md.

usage: check_dvh_rt_cli.py PATH-TO-HQIO
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hqio_check import Checks, hqio_arg, not_signalled  # noqa: E402

ck = Checks()
check = ck.check
failures = ck.failures


def run(hqio, *args):
    return ck.run([hqio, "dvh", *args], timeout=30, ok=not_signalled,
                  what=lambda rc: f"dvh {' '.join(args)}: killed by signal {-rc}")


def main():
    hqio = hqio_arg(__doc__)
    if hqio is None:
        return 2

    p = run(hqio, "quirks", "--json")
    check(p.returncode == 0, "quirks --json exit")
    doc = json.loads(p.stdout)
    check(doc["version"] == 1, "quirks version")
    ids = {(q["vendor"], q["device"]) for q in doc["quirks"]}
    check(("0x10de", "0x1b80") in ids, "sim GPU in the table")
    check(("0x8086", "0x105e") in ids, "sim dual NIC in the table")
    for q in doc["quirks"]:
        check(len(q["source"]) > 10, f"{q['name']}: source")
    gpu = [q for q in doc["quirks"] if q["device"] == "0x1b80"][0]
    check(gpu["back_doors"][0]["offset"] == "0x88000", "GPU mirror offset")
    check(gpu["host_bridge_registers"][0]["offset"] == "0x9c", "GPU host-bridge register")
    p = run(hqio, "quirks")
    check(p.returncode == 0 and "BAR0+0x88000" in p.stdout, "quirks text")

    p = run(hqio, "check", "--sim-nic", "single", "--json")
    doc = json.loads(p.stdout)
    check(p.returncode == 0 and doc["collisions"] == [], "single, STATUS rule: no collision")
    check(doc["functions"][0]["port_from"] == "device-register", "NIC port from register")
    p = run(hqio, "check", "--sim-nic", "single", "--how", "devfn", "--json")
    doc = json.loads(p.stdout)
    check(len(doc["collisions"]) == 1 and doc["collisions"][0]["port"] == 0,
          "single, devfn what-if: one collision")
    p = run(hqio, "check", "--sim-nic", "whole", "--how", "devfn", "--json")
    check(json.loads(p.stdout)["collisions"] == [], "whole, devfn: no collision")
    p = run(hqio, "check", "--sim-nic", "single", "--how", "devfn", "--strict")
    check(p.returncode == 1 and "warning:" in p.stdout, "--strict exit 1 with a warning")
    p = run(hqio, "check", "a=14e4:165f@03:00.0/0", "b=14e4:165f@03:00.1/0")
    check(p.returncode == 0 and "warning:" in p.stdout, "tg3 layout warns")
    p = run(hqio, "check", "a=14e4:165f@03:00.0", "b=14e4:165f@03:00.1")
    check(p.returncode == 0 and "ok:" in p.stdout, "tg3 whole: ok")

    for bad in (["check"], ["check", "x=zz"], ["check", "a=8086:105e@04:00.0/9"],
                ["check", "--how", "maybe", "--sim-nic", "single"], ["check", "--sim-nic"],
                ["check", "--sim-nic", "half"], ["quirks", "--bogus"], ["frob"], []):
        p = run(hqio, *bad)
        check(p.returncode == 2 and p.stderr, f"usage error {bad}: exit 2 with a message")
    p = run(hqio, "--help")
    check(p.returncode == 0 and "usage:" in p.stdout, "--help")

    return ck.finish(f"check_dvh_rt_cli: {ck.count} checks, {len(failures)} failures",
                     summary_first=True)


if __name__ == "__main__":
    sys.exit(main())
