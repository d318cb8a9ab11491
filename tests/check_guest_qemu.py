#!/usr/bin/env python3
"""Run hqio's bare-metal test guest (guest/, docs/monitor.md) under plain QEMU
(TCG, no KVM) with QEMU's edu and e1000e devices, so that the guest's driver
logic is proven independently of hqio's monitor.

Positive runs: MSI with ECAM on pcie.0, INTx behind a PCIe root port; two edus
(one on pcie.0, one behind a root port) in MSI and INTx mode, each device's
checks under its own name; three edus on pcie.0 with an INTx line shared;
e1000e alone behind a root port (MSI-X: table, one cause per vector, vector
mask, function mask; I/O BAR: IOADDR/IODATA against the memory BAR); edu and
e1000e together with the BARs moved (the I/O BAR to port 0xC000). Negative
controls (the checks must be able to fail): no supported device (scan fails),
a handler that skips the LAPIC EOI (edu and MSI-X interrupts are lost), an
INTx handler that does not acknowledge the device (extra interrupts), an MSI-X
handler that leaves its cause set in ICR (no new message: lost), a
shared-line handler that polls only the first device, a guest that skips the
MSI-X mask bits but still expects silence (msix-mask and msix-function-mask
fail) and leaves Command.I/O Space clear but still expects IODATA to reach
the registers (io-bar fails, in the same boot); iobar=0 leaves io-bar out.

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
EDU_CHECKS = {"bar", "ident", "liveness", "irq-setup", "factorial-irq", "raise-irq", "dma"}
ALL_CHECKS = {"boot", "scan-cf8"} | EDU_CHECKS
MSIX_CHECKS = {"msix-bar", "msix-table", "msix-irq", "msix-mask", "msix-function-mask"}
NIC_CHECKS = MSIX_CHECKS | {"io-bar"}
RP1 = ["-device", "pcie-root-port,id=rp1,chassis=1,slot=1"]
RP2 = ["-device", "pcie-root-port,id=rp2,chassis=2,slot=2"]
# QEMU's 82574L model; the user-mode backend with restrict=on: no traffic leaves
NIC = ["-netdev", "user,id=n0,restrict=on", "-device", "e1000e,netdev=n0"]
NIC_RP2 = RP2 + ["-netdev", "user,id=n0,restrict=on", "-device", "e1000e,netdev=n0,bus=rp2"]


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

    # Two edus, one on pcie.0 (00:01.0), one behind a root port (01:00.0);
    # bar=keep: a BAR moved out of the root port's window would not decode.
    two = edu + RP1 + ["-device", "edu,bus=rp1"]
    second = {c + "@01:00.0" for c in EDU_CHECKS}
    for mode in ("msi", "intx"):
        rc, out, res = run(guest, f"irq={mode} n=10 bar=keep", two)
        expect(rc == EXIT_PASS and ALL_CHECKS | second <= set(res)
               and all(v[0] == "PASS" for v in res.values())
               and re.search(r"^GUEST RESULT factorial-irq@01:00.0 PASS n=10 serviced=10 .*"
                             r"other-devices=0$", out, re.M) is not None
               and "GUEST INFO further edu 01:00.0" in out,
               f"two edus, {mode}: both devices' checks PASS, the second as name@01:00.0", out)
        if mode == "msi":
            expect(re.search(r"^GUEST RESULT irq-setup PASS msi .*vector=64$", out, re.M)
                   and re.search(r"^GUEST RESULT irq-setup@01:00.0 PASS msi .*vector=65$", out,
                                 re.M), "two edus, msi: one vector per device (64, 65)", out)

    # Three edus on pcie.0: QEMU's q35 swizzle puts two of them on one line.
    three = edu * 3
    rc, out, res = run(guest, "irq=intx n=5", three)
    expect(rc == EXIT_PASS and all(v[0] == "PASS" for v in res.values())
           and len([n for n in res if n.startswith("factorial-irq")]) == 3
           and "shared-with=" in out,
           "three edus, intx, a shared line: every device's checks PASS", out)

    # e1000e alone behind a root port: MSI-X through its capability and table,
    # and its I/O BAR where firmware put it (inside the root port's I/O window).
    rc, out, res = run(guest, "n=5 bar=keep", NIC_RP2)
    expect(rc == EXIT_PASS and NIC_CHECKS | {"scan-cf8"} <= set(res)
           and all(v[0] == "PASS" for v in res.values())
           and re.search(r"^GUEST INFO msix 01:00.0 table-size=5 table-bir=\d ", out, re.M)
           and "msix-irq PASS n=5 vectors=5 lost=0 stray=0" in out,
           "e1000e behind a root port: msix-table/-irq/-mask/-function-mask PASS", out)
    io = re.search(r"^GUEST INFO io-bar 01:00.0 port=(0x[0-9a-f]+) size=32 bar=2 "
                   r"firmware=(0x[0-9a-f]+) ", out, re.M)
    expect(io is not None and int(io.group(1), 16) == int(io.group(2), 16) & ~3
           and re.search(r"^GUEST RESULT io-bar PASS .*ioaddr-read=0x8 ", out, re.M),
           "e1000e behind a root port: io-bar PASS (32-byte I/O BAR 2 kept where firmware "
           "put it; STATUS, MAC and MTA[0] agree through IODATA and the memory BAR)", out)

    # edu and e1000e on pcie.0, every BAR moved (edu 0xE0000000, the e1000e from 0xE0400000).
    # The I/O BAR goes to the default port 0xC000 (firmware: 0xc040 here).
    rc, out, res = run(guest, "n=5", edu + NIC)
    expect(rc == EXIT_PASS and ALL_CHECKS | NIC_CHECKS <= set(res)
           and all(v[0] == "PASS" for v in res.values())
           and "registers=0xe0400000" in out
           and re.search(r"^GUEST INFO io-bar 00:02.0 port=0xc000 size=32 ", out, re.M),
           "edu + e1000e: every edu, MSI-X and io-bar check PASS, BARs in their own slots, "
           "I/O BAR at port 0xc000", out)

    # Negative controls.
    rc, out, res = run(guest, "n=5", [])
    expect(rc == EXIT_FAIL and res.get("scan-cf8", ("",))[0] == "FAIL",
           "negative control, no edu: scan-cf8 FAIL, exit 35", out)
    # edu has no configuration mirror of its own: the `mirror` check (which
    # passes under hqio run --dvh-mirror, test bed monitor_devs) must fail.
    rc, out, res = run(guest, "n=3 mirror=0x800", edu)
    expect(rc == EXIT_FAIL and res.get("mirror", ("",))[0] == "FAIL"
           and "16 dwords differ" in res["mirror"][1],
           "negative control, no back-door redirect: mirror FAIL (edu answers 0x800 itself)", out)
    # Two independent faults in one boot (each check touches only its own
    # registers; the positive run above is the same set-up without them).
    rc, out, res = run(guest, "n=3 bar=keep fault=msix-no-mask fault=io-no-decode", NIC_RP2)
    expect(rc == EXIT_FAIL and res.get("msix-mask", ("",))[0] == "FAIL"
           and res.get("msix-function-mask", ("",))[0] == "FAIL"
           and res.get("msix-irq", ("",))[0] == "PASS",
           "negative control, MSI-X mask bits not set: msix-mask and msix-function-mask FAIL",
           out)
    expect(res.get("io-bar", ("",))[0] == "FAIL" and "I/O Space not set" in out,
           "negative control, Command.I/O Space left clear: io-bar FAIL", out)
    rc, out, res = run(guest, "n=3 bar=keep timeout=200 fault=no-eoi iobar=0", NIC_RP2)
    expect(rc == EXIT_FAIL and res.get("msix-irq", ("",))[0] == "FAIL"
           and res.get("msix-table", ("",))[0] == "PASS",
           "negative control, MSI-X handler without EOI: msix-irq FAIL", out)
    expect("io-bar" not in res and "GUEST INFO io-bar" not in out,
           "iobar=0: the e1000e is driven without its I/O BAR (no io-bar check)", out)
    rc, out, res = run(guest, "n=3 bar=keep timeout=200 fault=no-ack", NIC_RP2)
    expect(rc == EXIT_FAIL and res.get("msix-irq", ("",))[0] == "FAIL",
           "negative control, MSI-X handler that leaves its cause in ICR: msix-irq FAIL "
           "(no new message)", out)
    rc, out, res = run(guest, "irq=intx n=3 timeout=200 fault=no-share-poll", three)
    shared_fail = [n for n, v in res.items() if n.startswith("factorial-irq@") and v[0] == "FAIL"]
    expect(rc == EXIT_FAIL and res.get("factorial-irq", ("",))[0] == "PASS" and shared_fail,
           "negative control, shared-line handler polls one device: the other's "
           "factorial-irq FAIL", out)
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
