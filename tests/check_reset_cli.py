#!/usr/bin/env python3
"""check_reset_cli: `hqio reset plan` on the simulated reference machine.

The first reset method of every catalogue device (--sim DEV --json), the
conventional pair behind the PCIe-to-PCI bridge with its sibling of the
same and of another owner (--owner-of), --force, the text output, and the
error handling (exit 2 for usage errors, 1 for a refused plan or an input
that cannot be read; never a signal). docs/reset-plan.md describes the
format.

usage: check_reset_cli.py PATH-TO-HQIO
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hqio_check import Checks, cli_status, hqio_arg  # noqa: E402

ck = Checks()
check = ck.check
failures = ck.failures


def run(hqio, *args, stdin=None):
    return ck.run([hqio, "reset", *args], timeout=60, input=stdin, ok=cli_status,
                  what=lambda rc: "hqio reset %s: exit %d (a signal?)" % (" ".join(args), rc))


def plan_of(hqio, dev, *extra, rc=0):
    p = run(hqio, "plan", "--sim", dev, "--json", *extra)
    check(p.returncode == rc, "--sim %s %s: exit %d, expected %d: %s" %
          (dev, " ".join(extra), p.returncode, rc, p.stderr.strip()))
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        failures.append("--sim %s: not JSON (%s): %r" % (dev, e, p.stdout[:200]))
        return None
    check(doc.get("format_version") == 1, "%s: format_version 1" % dev)
    check(doc.get("source") == "sim" and doc.get("sim_device") == dev, "%s: source" % dev)
    plans = doc.get("plans", [])
    check(len(plans) == 1, "--sim %s: one plan, got %d" % (dev, len(plans)))
    if not plans:
        return None
    pl = plans[0]
    evals = pl["evaluations"]
    check([e["method"] for e in evals] == ["device_specific", "flr", "af_flr", "pm", "bus"],
          "%s: evaluations in Linux order" % dev)
    check(pl["methods"] == [e["method"] for e in evals if e["usable"]],
          "%s: methods are the usable evaluations, in order" % dev)
    check(all(e["reason"] for e in evals), "%s: every method has a reason" % dev)
    return pl


def reason(pl, method):
    return next(e["reason"] for e in pl["evaluations"] if e["method"] == method)


def first(pl):
    return pl["methods"][0] if pl and pl["methods"] else None


def main():
    hqio = sys.argv[1]

    # First method of each catalogue device (devices.h says why).
    expect = {
        "nvme": ("flr", "0000:01:00.0"),      # PCIe FLR
        "nic0": ("pm", "0000:04:00.0"),       # no FLR, No_Soft_Reset-
        "nic1": ("pm", "0000:04:00.1"),
        "hda": ("pm", "0000:05:00.0"),
        "legacy": ("bus", "0000:07:00.0"),    # no capabilities at all
        "legacy22": ("bus", "0000:07:04.0"),
        "gpu": ("bus", "0000:08:00.0"),       # no FLR, No_Soft_Reset+
        "edu": ("pm", "0000:00:10.0"),        # root bus: no bus reset
    }
    plans = {}
    for dev, (method, bdf) in expect.items():
        pl = plans[dev] = plan_of(hqio, dev)
        if not pl:
            continue
        check(pl["bdf"] == bdf, "%s at %s, got %s" % (dev, bdf, pl["bdf"]))
        check(first(pl) == method, "%s: first method %s, got %s" % (dev, method, first(pl)))
        check(not pl["refused"] and pl["refusal"] is None, "%s: not refused" % dev)
        check(pl["group"]["viable"] and pl["group"]["known"], "%s: group known, viable" % dev)

    nvme, nic0, legacy, gpu, edu = (plans[k] for k in ("nvme", "nic0", "legacy", "gpu", "edu"))
    if nvme:
        check(nvme["quiesce"]["idle"] == "tp_pcie", "nvme: TP of PCIe")
        check(nvme["bus_reset"]["parent"] == "0000:00:1c.0", "nvme: parent 00:1c.0")
        check(nvme["bus_reset"]["parent_link_speed"] == 3, "nvme: parent at 8 GT/s")
        check(nvme["offsets"]["exp"] == 0x60 and nvme["offsets"]["ats"], "nvme: offsets")
    if nic0:
        check("0000:04:00.1" in nic0["bus_reset"]["affected"], "nic0: bus reset hits port 1")
        check("bus" in nic0["methods"], "nic0: bus reset with the other port (same group)")
    if legacy:
        check(legacy["methods"] == ["bus"], "legacy: bus only")
        check(legacy["bus_reset"]["parent_conventional_secondary"], "legacy: Trhfa applies")
        check(legacy["quiesce"]["idle"] == "wait" and legacy["quiesce"]["wait_ns"] > 0,
              "legacy: wait idle (no TP bit)")
    if gpu:
        check(gpu["methods"] == ["bus"], "gpu: bus only")
    if edu:
        check("root bus" in reason(edu, "bus"), "edu: no bus reset on the root bus")
        q = edu["quiesce"]
        check(q.get("idle") == "register" and q.get("bar") == 0 and
              int(str(q.get("offset")), 0) == 0x98 and int(str(q.get("mask")), 0) == 1 and
              int(str(q.get("value")), 0) == 0 and q.get("wait_ns") == 100000000,
              "edu: DMA busy bit (BAR0 0x98 bit 0) from the quirk, 100 ms worst case, got %s" % q)
        check(edu["quirk"] and "tp_untrusted" in edu["quirk"]["flags"], "edu: quirk")

    # The conventional pair: sibling of the same owner / of another owner.
    pl = plan_of(hqio, "legacy", "--owner-of", "07:04.0=1")
    if pl:
        check(pl["methods"] == ["bus"], "legacy, sibling same owner: bus")
        check(pl["group"]["viable"], "legacy, sibling same owner: group viable (bridge excepted)")
    pl = plan_of(hqio, "legacy", "--owner-of", "07:04.0=2", rc=1)
    if pl:
        check(pl["refused"], "legacy, sibling of owner 2: refused")
        check("group not viable" in (pl["refusal"] or "") and
              "0000:07:04.0" in pl["refusal"], "refusal names the sibling: %s" % pl["refusal"])
        check(pl["group"]["others"] == ["0000:07:04.0"], "group.others")
        check(not pl["group"]["viable"], "group not viable")
    p = run(hqio, "plan", "--sim", "legacy", "--owner-of", "07:04.0=2")
    check(p.returncode == 1 and "group not viable" in p.stderr,
          "refusal on stderr in text mode too")
    pl = plan_of(hqio, "legacy", "--owner-of", "07:04.0=2", "--force", rc=1)
    check(pl is None or pl["refused"], "--force does not override an unviable group")

    # Text output.
    p = run(hqio, "plan", "--sim", "nvme")
    check(p.returncode == 0, "text: exit 0")
    check("ready: try flr, then bus" in p.stdout, "text: plan line: %r" % p.stdout[:300])
    check("0000:01:00.0" in p.stdout and "quiesce:" in p.stdout, "text: fields")

    # A dump of the conventional pair behind its PCIe-to-PCI bridge (64-byte
    # images, no capability lists): IOMMU groups and owners are unknown.
    def image(words):
        """64-byte image from {offset: bytes} as lspci -x text lines."""
        cfg = bytearray(64)
        for off, data in words.items():
            cfg[off:off + len(data)] = data
        return "".join("%02x: %s\n" % (o, " ".join("%02x" % b for b in cfg[o:o + 16]))
                       for o in range(0, 64, 16))

    bridge = {0: b"\x36\x1b\x0e\x00\x07\x00", 0x0a: b"\x04\x06", 0x0e: b"\x01"}
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "dump.txt")
        with open(path, "w") as f:
            f.write("00:00.0 Host bridge\n" + image({0: b"\x86\x80\xc0\x29", 0x0b: b"\x06"}))
            f.write("00:1c.2 PCI bridge\n" + image({**bridge, 0x18: b"\x00\x06\x07"}))
            f.write("06:00.0 PCI bridge\n" + image({**bridge, 0x18: b"\x06\x07\x07"}))
            for bdf, dev in (("07:00.0", b"\x69\x81"), ("07:04.0", b"\x39\x81")):
                f.write("%s Ethernet controller\n" % bdf +
                        image({0: b"\xec\x10" + dev + b"\x07\x00", 0x0b: b"\x02",
                               0x3d: b"\x01"}))
        p = run(hqio, "plan", "--dump", path, "07:00.0", "--json")
        check(p.returncode == 1, "dump: no bus reset without owners: refused, exit 1: %s" %
              p.stderr.strip())
        try:
            pl = json.loads(p.stdout)["plans"][0]
            check(pl["refused"] and "no reset method" in pl["refusal"] and
                  "--force" in pl["refusal"], "dump: refusal says why: %s" % pl["refusal"])
            check(not pl["group"]["known"], "dump: group unknown")
            check("same owner" in reason(pl, "bus"), "dump: bus needs the same owner: %s" %
                  reason(pl, "bus"))
            check(pl["bus_reset"]["parent"] == "0000:06:00.0", "dump: parent from the images")
            check(pl["bus_reset"]["affected"] == ["0000:07:04.0"], "dump: affected")
        except (ValueError, KeyError, IndexError) as e:
            failures.append("dump: bad JSON: %s" % e)
        p = run(hqio, "plan", "--dump", path, "07:00.0", "--force", "--json")
        check(p.returncode == 0, "dump: --force plans without a method: exit 0")
        try:
            pl = json.loads(p.stdout)["plans"][0]
            check(not pl["refused"] and pl["methods"] == [], "dump: forced plan, no method")
        except (ValueError, KeyError, IndexError) as e:
            failures.append("dump --force: bad JSON: %s" % e)
        p = run(hqio, "plan", "--dump", path, "07:00.0", "--owner-of", "07:04.0=1")
        check(p.returncode == 0 and "ready: try bus" in p.stdout,
              "dump: --owner-of makes the bus reset usable: %s" % p.stderr.strip())
        p = run(hqio, "plan", "--dump", path, "06:00.0")
        check(p.returncode == 1 and "bridge" in p.stderr, "dump: a bridge is refused")
        p = run(hqio, "plan", "--dump", path, "09:00.0")
        check(p.returncode == 1 and "no device 0000:09:00.0" in p.stderr and not p.stdout,
              "dump: unknown BDF: exit 1")
        p = run(hqio, "plan", "--dump", os.path.join(d, "missing.txt"))
        check(p.returncode == 1 and p.stderr and not p.stdout, "dump: missing file: exit 1")

    pl = plan_of(hqio, "gpu", "--force")
    check(pl is None or (pl["force"] and pl["methods"] == ["bus"]),
          "--force leaves a usable plan unchanged")

    # Usage errors: exit 2, a message, nothing on stdout.
    for args in ([], ["plan"], ["plan", "--sim", "nosuch"], ["plan", "--sim"],
                 ["plan", "--dump"], ["plan", "--sysfs"], ["plan", "--sim", "nvme", "01:00.0"],
                 ["plan", "--sim", "nvme", "--dump", "x"], ["plan", "--bogus"],
                 ["plan", "--dump", "x", "not-a-bdf"], ["plan", "--sim", "nvme", "--owner-of",
                                                         "01:00.0"],
                 ["plan", "--sim", "nvme", "--owner-of", "zz=1"],
                 ["plan", "--sim", "nvme", "--owner", "0"], ["frobnicate"]):
        p = run(hqio, *args)
        check(p.returncode == 2, "hqio reset %s: exit 2, got %d" % (" ".join(args), p.returncode))
        check(p.stderr.strip() != "", "hqio reset %s: a message" % " ".join(args))
        check(p.stdout == "", "hqio reset %s: nothing on stdout" % " ".join(args))
    p = run(hqio, "plan", "--sim", "nosuch")
    check("nosuch" in p.stderr and "nvme" in p.stderr, "unknown DEV: names the valid ones")
    for args in (["--help"], ["plan", "--help"]):
        p = run(hqio, *args)
        check(p.returncode == 0 and "usage: hqio reset plan" in p.stdout,
              "hqio reset %s: usage on stdout" % " ".join(args))
    p = subprocess.run([hqio, "--help"], capture_output=True, text=True, timeout=60)
    check("reset" in p.stdout, "hqio --help lists reset")

    return ck.finish("check_reset_cli: %d passed, %d failed" %
                     (ck.count - len(failures), len(failures)))


if __name__ == "__main__":
    sys.exit(main())
