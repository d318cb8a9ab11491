#!/usr/bin/env python3
"""report.py: turn the test bed's serial log into results and an exit code.

Called by testbed/run.sh after the VM ended. It reads the result lines of
the contract in docs/testbed.md, unpacks data blocks (tb_data) into
DATA/GROUP/NAME, runs the host-side post-check POST/GROUP.py of every group
that has one (argv[1] = DATA/GROUP; it prints result lines of the same
form), and decides:

  - the VM never reached /init (no INIT line): fail, with why (QEMU error
    output, killed by the wall-clock limit, the last lines of the log);
  - a selected group without an END line: fail (it crashed, was killed by
    the in-VM group timeout, or the VM died while it ran: said which);
  - a selected group without any PASS/FAIL/SKIP line: fail;
  - any FAIL line: fail.

Exit 0 when nothing failed, 1 otherwise, 2 on usage errors.
"""

import argparse
import base64
import gzip
import os
import re
import subprocess
import sys

RESULT = re.compile(r"^HQIO-TB (PASS|FAIL|SKIP) ([A-Za-z0-9_-]+)/(\S+): (.*)$")
# busybox `timeout -s KILL` ends a group with 128 + SIGKILL (9).
EXIT_KILLED = 137
POST_TIMEOUT_S = 120


class Run:
    def __init__(self):
        self.results = []      # (status, group, check, detail, origin)
        self.ends = set()
        self.exits = {}
        self.begins = []
        self.init = None
        self.alldone = False
        self.data = {}         # "group/name" -> bytes or error string
        self.malformed = []

    def add(self, status, group, check, detail, origin):
        self.results.append((status, group, check, detail, origin))


def parse_log(text, run):
    block = None  # (key, [base64 lines])
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if block is not None:
            if line.startswith("HQIO-TB-D "):
                block[1].append(line[len("HQIO-TB-D "):])
                continue
            if line == "HQIO-TB DATA-END " + block[0]:
                try:
                    run.data[block[0]] = gzip.decompress(base64.b64decode("".join(block[1])))
                except (ValueError, OSError, EOFError) as e:
                    run.data[block[0]] = "damaged in transfer (%s)" % e
                block = None
                continue
            # Anything else inside a block: the block is cut short.
            run.data[block[0]] = "cut short by %r" % line[:80]
            block = None
        if not line.startswith("HQIO-TB"):
            continue
        m = RESULT.match(line)
        if m:
            run.add(m.group(1), m.group(2), m.group(3), m.group(4), "vm")
            continue
        words = line.split(" ", 2)
        kind = words[1] if len(words) > 1 else ""
        arg = words[2] if len(words) > 2 else ""
        if kind == "INIT":
            run.init = arg
        elif kind == "BEGIN":
            run.begins.append(arg)
        elif kind == "END":
            run.ends.add(arg)
        elif kind == "EXIT" and len(arg.split()) == 2:
            g, rc = arg.split()
            run.exits[g] = int(rc) if rc.isdigit() else rc
        elif kind == "ALLDONE":
            run.alldone = True
        elif kind == "DATA-BEGIN" and arg:
            block = (arg, [])
        else:
            run.malformed.append(line)
    if block is not None:
        run.data[block[0]] = "cut short by the end of the log"


def write_data(run, data_dir):
    for key, val in sorted(run.data.items()):
        group, _, name = key.partition("/")
        if not name or "/" in name or name.startswith("."):
            run.add("FAIL", group or "report", "data", "bad data block name %r" % key, "host")
            continue
        if isinstance(val, str):
            run.add("FAIL", group, "data-" + name, "data block %s %s" % (key, val), "host")
            continue
        os.makedirs(os.path.join(data_dir, group), exist_ok=True)
        with open(os.path.join(data_dir, group, name), "wb") as f:
            f.write(val)


def run_post(run, group, script, data_dir):
    gdir = os.path.join(data_dir, group)
    os.makedirs(gdir, exist_ok=True)
    try:
        p = subprocess.run([sys.executable, script, gdir], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=POST_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        run.add("FAIL", group, "post", "%s did not finish in %d s" % (script, POST_TIMEOUT_S),
                "host")
        return
    n = 0
    for line in p.stdout.splitlines():
        m = RESULT.match(line)
        if m and m.group(2) == group:
            run.add(m.group(1), group, m.group(3), m.group(4), "host")
            n += 1
        elif line.strip():
            print("  post/%s: %s" % (group, line))
    if p.returncode != 0 or n == 0:
        run.add("FAIL", group, "post", "%s exited %d after %d result lines"
                % (os.path.basename(script), p.returncode, n), "host")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True)
    ap.add_argument("--groups", required=True, help="comma-separated selected groups")
    ap.add_argument("--data", required=True, help="directory for unpacked data blocks")
    ap.add_argument("--post", required=True, help="directory of post-check scripts")
    ap.add_argument("--qemu-rc", type=int, default=0)
    ap.add_argument("--qemu-err", default=None)
    ap.add_argument("--timeout", type=int, default=0)
    a = ap.parse_args()

    try:
        with open(a.log, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        print("testbed: FAIL: cannot read the serial log: %s" % e)
        return 1
    run = Run()
    parse_log(text, run)
    groups = [g for g in a.groups.split(",") if g]
    qerr = ""
    if a.qemu_err and os.path.exists(a.qemu_err):
        with open(a.qemu_err, errors="replace") as f:
            qerr = " ".join(f.read().split())[:400]

    if run.init is None:
        why = []
        if a.qemu_rc == 124:
            why.append("QEMU was killed after the %d s limit" % a.timeout)
        elif a.qemu_rc != 0:
            why.append("QEMU exited %d" % a.qemu_rc)
        if qerr:
            why.append("QEMU said: " + qerr)
        lines = [l for l in text.replace("\r", "").split("\n") if l.strip()]
        panic = [l for l in lines if "Kernel panic" in l]
        if panic:
            why.append(panic[0].strip())
        tail = lines[-6:]
        why.append("last serial lines: " + (" | ".join(tail) if tail else "(none: no output)"))
        run.add("FAIL", "boot", "init", "the VM never reached /init; " + "; ".join(why), "host")
    else:
        write_data(run, a.data)
        for line in run.malformed:
            run.add("FAIL", "report", "malformed", "unparsable line %r" % line[:120], "host")
        for g in ["init"] + groups:
            mine = [r for r in run.results if r[1] == g]
            if g not in run.ends:
                if run.exits.get(g) == EXIT_KILLED:
                    why = "killed by the in-VM group timeout"
                elif g in run.exits:
                    why = "its script exited %s without printing END" % run.exits[g]
                elif g in run.begins or g == "init":
                    why = ("the VM ended while it ran (%s)"
                           % ("wall-clock limit %d s" % a.timeout if a.qemu_rc == 124
                              else "kernel panic or power-off; see serial.log"))
                else:
                    why = "it never started (an earlier group took the VM down)"
                run.add("FAIL", g, "END", "no END line: " + why, "host")
                continue
            post = os.path.join(a.post, g + ".py")
            if os.path.exists(post):
                run_post(run, g, post, a.data)
                mine = [r for r in run.results if r[1] == g]
            if not mine:
                run.add("FAIL", g, "results", "the group printed END but no result line", "host")
        if not run.alldone and a.qemu_rc == 124:
            run.add("FAIL", "boot", "poweroff",
                    "the VM did not power off within %d s" % a.timeout, "host")

    for st, g, c, d, origin in run.results:
        if origin == "host":
            print("  %s %s/%s: %s" % (st, g, c, d))
    counts = {s: sum(1 for r in run.results if r[0] == s) for s in ("PASS", "FAIL", "SKIP")}
    fails = [r for r in run.results if r[0] == "FAIL"]
    print("testbed: %d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"],
                                                        counts["SKIP"]))
    for _, g, c, d, _ in fails:
        print("testbed: FAIL %s/%s: %s" % (g, c, d))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
