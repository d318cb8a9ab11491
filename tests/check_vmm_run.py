#!/usr/bin/env python3
"""Run hqio's monitor on this machine without an assigned device (docs/monitor.md):
the built-in test guest boots through the multiboot loader in 32-bit protected
mode, scans the virtual host bridge through CF8/CFC and ECAM, finds no edu and
exits through port 0xF4 with its failure value. Checks the guest's lines and the
monitor's counters: two port exits per CF8/CFC configuration access, one MMIO
exit per ECAM access, the bridge's IDs. Skips (77) when KVM cannot run the
monitor here (`hqio run --probe` says why), e.g. no /dev/kvm.

usage: check_vmm_run.py HQIO_BINARY
"""
import json
import subprocess
import sys

failures = []


def expect(cond, what, detail=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
        if detail:
            print(detail)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    hqio = sys.argv[1]
    p = subprocess.run([hqio, "run", "--probe"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        print("SKIP:", p.stderr.strip() or p.stdout.strip())
        return 77
    p = subprocess.run([hqio, "run", "--guest", "builtin", "--json", "--timeout", "30",
                        "--cmdline", "n=3"], capture_output=True, text=True, timeout=90)
    out, log = p.stdout, p.stderr
    try:
        j = json.loads(out)
    except ValueError:
        print("not JSON:\n" + out + "\n" + log)
        return 1
    expect(p.returncode == 1, "no device: hqio run exits 1 (the guest failed)", log)
    expect(j["guest"]["exit_value"] == 0x11 and not j["guest"]["timed_out"],
           "the guest exited through port 0xF4 with 0x11", out)
    expect("GUEST RESULT boot PASS" in log, "multiboot entry: loader magic and information seen", log)
    expect("GUEST PCI 00:00.0 id=0x81b36 class=0x60000" in log,
           "the guest sees the virtual host bridge 1b36:0008 at 00:00.0", log)
    expect("GUEST RESULT scan-cf8 FAIL" in log and "GUEST RESULT scan-ecam PASS" in log,
           "no edu found; ECAM reads the same as CF8/CFC", log)
    c, e = j["config_accesses"], j["exits"]
    expect(c["cf8_cfc"] > 0 and e["io_config"] == 2 * c["cf8_cfc"],
           f"two port exits per CF8/CFC access ({c['cf8_cfc']} accesses, {e['io_config']} exits)")
    expect(c["ecam"] > 0 and e["mmio_ecam"] == c["ecam"] and e["mmio"] == c["ecam"],
           f"one MMIO exit per ECAM access ({c['ecam']} accesses, {e['mmio_ecam']} exits)")
    expect(e["io_unclaimed"] == 0 and e["mmio_unclaimed"] == 0, "no unclaimed exits")
    expect(j["guest"]["results_fail"] == 1, "exactly one failed guest check (the scan)")
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
