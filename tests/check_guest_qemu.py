#!/usr/bin/env python3
"""Run hqio's bare-metal test guest (guest/, docs/monitor.md) under plain QEMU
(TCG, no KVM) with QEMU's edu device, so that the guest's driver logic is
proven independently of hqio's monitor.

Positive runs: MSI with ECAM on pcie.0, INTx behind a PCIe root port. Negative
controls (the checks must be able to fail): no edu device (scan fails), a
handler that skips the LAPIC EOI (interrupts are lost), an INTx handler that
does not acknowledge the device (extra interrupts).

usage: check_guest_qemu.py HQIO_BINARY   (exit 77: skip, with the reason)
"""
import os
import re
import shutil
import subprocess
import sys

QEMU = "qemu-system-x86_64"
RUN_TIMEOUT_S = 120  # a hung guest fails the test instead of hanging ctest
EXIT_PASS, EXIT_FAIL = 33, 35  # isa-debug-exit: (0x10 << 1) | 1, (0x11 << 1) | 1
ALL_CHECKS = {"boot", "scan-cf8", "bar", "ident", "liveness", "irq-setup",
              "factorial-irq", "raise-irq", "dma"}


def skip(msg):
    print("SKIP:", msg)
    sys.exit(77)


def guest_path(hqio):
    build = os.path.dirname(os.path.dirname(os.path.abspath(hqio)))
    return os.path.join(build, "guest", "hqio-guest.elf")


def run(guest, append, devices):
    cmd = [QEMU, "-machine", "q35", "-accel", "tcg", "-m", "64M", "-nodefaults",
           "-no-user-config", "-display", "none", "-monitor", "none", "-serial", "none",
           "-kernel", guest, "-append", append, "-debugcon", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4"] + devices
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return None, out, {}
    results = {}
    for m in re.finditer(r"^GUEST RESULT (\S+) (PASS|FAIL) ?(.*)$", p.stdout, re.M):
        results[m.group(1)] = (m.group(2), m.group(3))
    return p.returncode, p.stdout, results


failures = []


def expect(cond, what, out):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
        print("---- guest output ----\n" + out + "----------------------")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    guest = guest_path(sys.argv[1])
    if not os.path.exists(guest):
        skip(f"no test guest at {guest} (the compiler cannot build -m32 code?)")
    if not shutil.which(QEMU):
        skip(f"{QEMU} not found (Debian: apt-get install -y qemu-system-x86)")

    edu = ["-device", "edu"]
    rc, out, res = run(guest, "ecam=0xb0000000 n=20 dmaout=0x8000000 bench=16", edu)
    names = set(res)
    expect(rc == EXIT_PASS and all(v[0] == "PASS" for v in res.values())
           and ALL_CHECKS | {"scan-ecam"} <= names and "GUEST DONE pass=" in out
           and "GUEST BENCH irq-roundtrip-msi" in out and "GUEST INFO dma-outside" in out,
           "msi + ecam on pcie.0: every check PASS, exit 33", out)
    m = re.search(r"factorial-irq PASS n=20 serviced=20 ", out)
    expect(m is not None, "msi: 20 factorial events -> 20 serviced interrupts", out)

    rp = ["-device", "pcie-root-port,id=rp1,chassis=1,slot=1", "-device", "edu,bus=rp1"]
    rc, out, res = run(guest, "irq=intx n=10 bar=keep", rp)
    expect(rc == EXIT_PASS and ALL_CHECKS <= set(res)
           and all(v[0] == "PASS" for v in res.values()),
           "intx behind a root port (bridge followed, line from 0x3C): every check PASS", out)
    expect("edu at 01:00.0" in out, "intx: edu found on bus 1 behind the root port", out)

    # Negative controls.
    rc, out, res = run(guest, "n=5", [])
    expect(rc == EXIT_FAIL and res.get("scan-cf8", ("",))[0] == "FAIL",
           "negative control, no edu: scan-cf8 FAIL, exit 35", out)
    rc, out, res = run(guest, "n=5 timeout=200 fault=no-eoi", edu)
    expect(rc == EXIT_FAIL and res.get("factorial-irq", ("",))[0] == "FAIL"
           and "lost=1" in res["factorial-irq"][1],
           "negative control, handler without EOI: factorial-irq FAIL (lost=1), exit 35", out)
    rc, out, res = run(guest, "irq=intx n=5 timeout=200 fault=no-ack", edu)
    expect(rc == EXIT_FAIL and res.get("factorial-irq", ("",))[0] == "FAIL",
           "negative control, INTx handler without device ack: factorial-irq FAIL", out)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all guest checks behave as expected under QEMU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
