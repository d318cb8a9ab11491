#!/usr/bin/env python3
"""selftest.py: report.py's verdicts on made-up serial logs (no VM needed).

Each case is a serial log and what report.py must conclude (exit code and a
text its output must contain): every way a run can go wrong must fail.
usage: python3 testbed/selftest.py        exit 0 when every case holds
"""
import base64
import gzip
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def blob(key, data):
    b64 = base64.b64encode(gzip.compress(data)).decode()
    lines = [b64[i:i + 76] for i in range(0, len(b64), 76)]
    return ["HQIO-TB DATA-BEGIN " + key] + ["HQIO-TB-D " + l for l in lines] + \
        ["HQIO-TB DATA-END " + key]


INIT = ["[    0.0] Linux version 6.1", "HQIO-TB INIT kernel 6.1, 2 CPUs",
        "HQIO-TB PASS init/modules: 9 modules loaded", "HQIO-TB END init"]
GOOD_A = ["HQIO-TB BEGIN a", "HQIO-TB PASS a/one: fine", "HQIO-TB SKIP a/two: n/a",
          "HQIO-TB END a", "HQIO-TB EXIT a 0"]
DONE = ["HQIO-TB ALLDONE uptime 9 s"]

# (name, log lines, groups, qemu rc, post script for group a or None,
#  expected exit, text expected in the output)
CASES = [
    ("all pass", INIT + GOOD_A + DONE, "a", 0, None, 0, "2 passed, 0 failed, 1 skipped"),
    ("a FAIL line", INIT + ["HQIO-TB BEGIN a", "HQIO-TB FAIL a/x: broke", "HQIO-TB END a"] + DONE,
     "a", 0, None, 1, "FAIL a/x: broke"),
    ("no END", INIT + ["HQIO-TB BEGIN a", "HQIO-TB PASS a/one: ok", "HQIO-TB EXIT a 2"] + DONE,
     "a", 0, None, 1, "exited 2 without printing END"),
    ("killed by group timeout", INIT + ["HQIO-TB BEGIN a", "HQIO-TB EXIT a 137"] + DONE,
     "a", 0, None, 1, "killed by the in-VM group timeout"),
    ("VM died in a group", INIT + ["HQIO-TB BEGIN a", "HQIO-TB PASS a/one: ok"], "a", 124, None,
     1, "the VM ended while it ran (wall-clock limit"),
    ("VM died in the second group", INIT + GOOD_A + ["HQIO-TB BEGIN b", "Kernel panic"], "a,b", 0, None,
     1, "FAIL b/END: no END line: the VM ended while it ran"),
    ("selected group absent", INIT + GOOD_A + DONE, "a,c", 0, None, 1,
     "FAIL c/END: no END line: it never started"),
    ("END without results", INIT + ["HQIO-TB BEGIN a", "HQIO-TB END a"] + DONE, "a", 0, None, 1,
     "printed END but no result line"),
    ("never reached init", ["[    3.8] Kernel panic - not syncing: VFS: Unable to mount root fs"],
     "a", 0, None, 1, "never reached /init; [    3.8] Kernel panic"),
    ("no output at all", [], "a", 124, None, 1, "QEMU was killed after the 60 s limit"),
    ("damaged data", INIT + ["HQIO-TB BEGIN a", "HQIO-TB PASS a/one: ok"] +
     ["HQIO-TB DATA-BEGIN a/x", "HQIO-TB-D H4sIAAAAAAAAA0tMTgYAnMxJBQQAAAB=", "HQIO-TB DATA-END a/x"] +
     ["HQIO-TB END a"] + DONE, "a", 0, None, 1, "data block a/x damaged in transfer"),
    ("cut data", INIT + ["HQIO-TB BEGIN a", "HQIO-TB PASS a/one: ok"] +
     blob("a/x", b"hello")[:2] + ["HQIO-TB END a"] + DONE, "a", 0, None, 1, "cut short"),
    ("malformed line", INIT + GOOD_A + ["HQIO-TB PAS a/one ok"] + DONE, "a", 0, None, 1,
     "unparsable line"),
    ("post check passes", INIT + ["HQIO-TB BEGIN a"] + blob("a/x.txt", b"42\n") +
     ["HQIO-TB END a"] + DONE, "a", 0,
     "import sys\nv=open(sys.argv[1]+'/x.txt').read().strip()\n"
     "print('HQIO-TB %s a/val: %s' % ('PASS' if v == '42' else 'FAIL', v))\n", 0, "PASS a/val: 42"),
    ("post check fails", INIT + ["HQIO-TB BEGIN a"] + blob("a/x.txt", b"41\n") +
     ["HQIO-TB END a"] + DONE, "a", 0,
     "import sys\nv=open(sys.argv[1]+'/x.txt').read().strip()\n"
     "print('HQIO-TB %s a/val: %s' % ('PASS' if v == '42' else 'FAIL', v))\n", 1, "FAIL a/val: 41"),
    ("post check crashes", INIT + GOOD_A + DONE, "a", 0, "raise SystemExit(3)\n", 1,
     "exited 3 after 0 result lines"),
]


def main():
    bad = 0
    for name, lines, groups, qrc, post, want_rc, want_text in CASES:
        with tempfile.TemporaryDirectory() as t:
            log = os.path.join(t, "serial.log")
            with open(log, "w") as f:
                f.write("\r\n".join(lines) + "\r\n")
            os.makedirs(os.path.join(t, "post"))
            if post:
                with open(os.path.join(t, "post", "a.py"), "w") as f:
                    f.write(post)
            p = subprocess.run([sys.executable, os.path.join(HERE, "report.py"), "--log", log,
                                "--groups", groups, "--data", os.path.join(t, "data"),
                                "--post", os.path.join(t, "post"), "--qemu-rc", str(qrc),
                                "--timeout", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            ok = p.returncode == want_rc and want_text in p.stdout
            print("%s %s" % ("ok  " if ok else "FAIL", name))
            if not ok:
                bad += 1
                print("  exit %d (want %d), output:\n%s" % (p.returncode, want_rc, p.stdout))
    print("selftest: %d of %d cases hold" % (len(CASES) - bad, len(CASES)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
