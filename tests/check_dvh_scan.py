#!/usr/bin/env python3
"""check_dvh_scan: the `hqio dvh-scan` command line (docs/dvh.md).

Builds a small source tree at test time (a driver with holes, a clean
driver, a header, a non-C file, binary junk, a dangling link, a file over the
size limit) and checks: text lines FILE:LINE: RULE: EXPR — WHY, the JSON
document, recursion over *.c/*.h only, --rules filtering, identical results
with --jobs 1 and 3, exit codes (0 scanned, 1 unreadable input, 2 usage) and
clear messages, never a signal.

usage: check_dvh_scan.py PATH-TO-HQIO
"""
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hqio_check import Checks, cli_status, hqio_arg  # noqa: E402

ck = Checks()
check = ck.check
failures = ck.failures


def run(hqio, *args, cwd=None):
    return ck.run([hqio, "dvh-scan", *args], timeout=120, cwd=cwd, ok=cli_status,
                  what=lambda rc: f"dvh-scan {' '.join(args)}: exit {rc}")


HOLEY = """/* A NIC driver written for this test. */
#include <linux/pci.h>

static void nic_set_mac(struct nic *n, u8 *mac)
{
	int port = PCI_FUNC(n->pdev->devfn);

	dev_info(&n->pdev->dev, "port %d\\n", port);
	mac[5] ^= port;
}

static void nic_parent_aspm(struct pci_dev *pdev)
{
	pcie_capability_clear_word(pdev->bus->self, PCI_EXP_LNKCTL, 3);
}
"""

CLEAN = """static int nic_probe(struct pci_dev *pdev)
{
	dev_info(&pdev->dev, "fn %d\\n", PCI_FUNC(pdev->devfn));
	return pci_enable_device(pdev);
}
"""

HEADER = """static inline void hb(struct x *x)
{
	set_memory_uc(x->va, 1);
}
"""


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    hqio = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "drv", "sub"))
        with open(os.path.join(d, "drv", "holey.c"), "w") as f:
            f.write(HOLEY)
        with open(os.path.join(d, "drv", "clean.c"), "w") as f:
            f.write(CLEAN)
        with open(os.path.join(d, "drv", "sub", "inline.h"), "w") as f:
            f.write(HEADER)
        with open(os.path.join(d, "drv", "notes.txt"), "w") as f:
            f.write("set_memory_uc(x, 1); PCI_FUNC(pdev->devfn) into mac[5]\n")
        with open(os.path.join(d, "drv", "junk.c"), "wb") as f:
            f.write(bytes((i * 7919 + 13) % 256 for i in range(50000)))

        # Text output over the directory.
        p = run(hqio, "drv", cwd=d)
        check(p.returncode == 0, f"scan of a readable tree: exit {p.returncode} ({p.stderr})")
        lines = p.stdout.splitlines()
        pat = re.compile(r"^(\S+):(\d+): ([a-z-]+): (.+) — (.+)$")
        parsed = [pat.match(l) for l in lines]
        check(all(parsed), f"every line is FILE:LINE: RULE: EXPR — WHY: {lines}")
        got = sorted((m.group(1), int(m.group(2)), m.group(3)) for m in parsed if m)
        want = sorted([("drv/holey.c", 9, "func-number"), ("drv/holey.c", 14, "foreign-cfg"),
                       ("drv/sub/inline.h", 3, "memtype")])
        check(got == want, f"findings {got} != {want}")
        check("3 files" in p.stderr or "4 files" in p.stderr, f"summary on stderr: {p.stderr}")
        check(not any("notes.txt" in l for l in lines), "non-C files are not scanned")

        # JSON.
        p = run(hqio, "drv", "--json", cwd=d)
        check(p.returncode == 0, "json exit 0")
        try:
            doc = json.loads(p.stdout)
        except ValueError as e:
            doc = None
            check(False, f"--json output is not JSON: {e}")
        if doc:
            fs = doc["findings"]
            check(len(fs) == 3, f"3 JSON findings, got {len(fs)}")
            keys = {"file", "line", "rule", "function", "expression", "explanation", "more_uses"}
            check(all(set(f) == keys for f in fs), f"JSON finding keys {[sorted(f) for f in fs]}")
            fm = [f for f in fs if f["rule"] == "func-number"]
            check(fm and fm[0]["function"] == "nic_set_mac", "function name in JSON")
            check(fm and fm[0]["expression"] == "PCI_FUNC(n->pdev->devfn)", "expression in JSON")
            check(doc["errors"] == [], "no errors")
            check(doc["files_scanned"] == 4, f"4 files scanned: {doc['files_scanned']}")

        # --rules and --jobs.
        p = run(hqio, "drv", "--rules", "memtype,foreign-cfg", cwd=d)
        rules = sorted(l.split(": ")[1] for l in p.stdout.splitlines())
        check(rules == ["foreign-cfg", "memtype"], f"--rules filter: {rules}")
        a = run(hqio, "drv", "--jobs", "1", cwd=d).stdout
        b = run(hqio, "drv", "--jobs=3", cwd=d).stdout
        check(a == b and a, "same output with --jobs 1 and 3")
        p = run(hqio, "--rules", "help")
        check(p.returncode == 0 and len(p.stdout.splitlines()) == 10, "--rules help lists 10")

        # A single file; a clean file gives exit 0 and no output.
        p = run(hqio, "drv/clean.c", cwd=d)
        check(p.returncode == 0 and p.stdout == "", f"clean file: {p.returncode} {p.stdout!r}")

        # Unreadable input: reported, the rest still scanned, exit 1.
        os.symlink("does-not-exist.c", os.path.join(d, "drv", "dangling.c"))
        with open(os.path.join(d, "big.c"), "wb") as f:
            f.truncate(65 << 20)  # sparse; over the 64 MiB limit
        p = run(hqio, "drv", "big.c", "missing-dir", cwd=d)
        check(p.returncode == 1, f"unreadable input: exit {p.returncode}")
        check("dangling.c" in p.stderr and "big.c" in p.stderr and "missing-dir" in p.stderr,
              f"each unreadable path named on stderr: {p.stderr}")
        check(len(p.stdout.splitlines()) == 3, "readable files still scanned")
        p = run(hqio, "drv", "big.c", "--json", cwd=d)
        if p.stdout:
            doc = json.loads(p.stdout)
            check(len(doc["errors"]) == 2, f"errors in JSON: {doc['errors']}")

        # Usage errors: exit 2 with a message.
        for args, msg in [((), "no PATH"), (("drv", "--rules", "nope"), "unknown rule"),
                          (("drv", "--jobs", "0"), "--jobs"), (("drv", "--jobs", "x"), "--jobs"),
                          (("drv", "--bogus"), "unknown option"), (("drv", "--rules"), "--rules"),
                          (("drv", "--rules", ","), "unknown rule")]:
            p = run(hqio, *args, cwd=d)
            check(p.returncode == 2, f"{args}: exit {p.returncode}, want 2")
            check(msg in p.stderr, f"{args}: message {msg!r} not in {p.stderr!r}")
        p = run(hqio, "--help")
        check(p.returncode == 0 and "usage: hqio dvh-scan" in p.stdout, "--help")

    return ck.finish(f"{ck.count} checks, {len(failures)} failures", summary_first=True)


if __name__ == "__main__":
    sys.exit(main())
