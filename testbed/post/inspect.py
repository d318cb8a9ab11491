#!/usr/bin/env python3
"""Host-side checks of the "inspect" test group (testbed/tests/inspect.sh).

argv[1]: the directory holding the group's data from the VM:
  sysfs.txt   entries of /sys/bus/pci/devices, one per line
  hqio.json   hqio inspect --sysfs --json
  lspci.txt   lspci -vvv -D
Prints one result line per check (docs/testbed.md): the device sets agree,
and for every function hqio's standard and extended capability lists equal
lspci's. The lspci parser and the comparison rules are those of
tests/check_lspci_sysfs.py (imported, not copied).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))
import check_lspci_sysfs as cls  # noqa: E402

G = "inspect"


def result(ok, check, detail):
    print("HQIO-TB %s %s/%s: %s" % ("PASS" if ok else "FAIL", G, check, detail))


def main():
    d = sys.argv[1]
    try:
        with open(os.path.join(d, "sysfs.txt")) as f:
            sysfs = sorted(l.strip().lower() for l in f if l.strip())
        with open(os.path.join(d, "hqio.json")) as f:
            doc = json.load(f)
        with open(os.path.join(d, "lspci.txt")) as f:
            lspci_text = f.read()
    except (OSError, ValueError) as e:
        result(False, "data", "cannot read the data from the VM: %s" % e)
        return 1
    devs = doc.get("devices", [])
    got = sorted(x.get("bdf") for x in devs)
    result(got == sysfs, "json-lists-all",
           "hqio inspect --sysfs --json lists %d functions%s" %
           (len(got), "" if got == sysfs else
            "; missing %s, extra %s" % (sorted(set(sysfs) - set(got)),
                                       sorted(set(got) - set(sysfs)))))
    result(doc.get("format_version") == 1 and doc.get("source") == "sysfs" and
           doc.get("config_limited") is False, "json-header",
           "format_version %r, source %r, config_limited %r" %
           (doc.get("format_version"), doc.get("source"), doc.get("config_limited")))
    try:
        ldevs = cls.parse_lspci(lspci_text)
    except cls.LspciParseError as e:
        result(False, "lspci-parse", str(e))
        return 0
    result(sorted(ldevs) == sysfs, "lspci-lists-all",
           "lspci -D lists %d functions" % len(ldevs))
    for x in sorted(devs, key=lambda x: x.get("bdf")):
        bdf = x.get("bdf")
        if bdf not in ldevs:
            result(False, "caps-" + bdf, "not listed by lspci")
            continue
        errs = cls.compare_device(x, ldevs[bdf], bdf)
        std = [c["id"] for c in x.get("capabilities", {}).get("list", [])]
        ext = [c["id"] for c in x.get("extended_capabilities", {}).get("list", [])]
        result(not errs, "caps-" + bdf,
               "; ".join(errs) if errs else
               "%s:%s std [%s] ext [%s] equal lspci's" %
               (x.get("vendor_id", "?")[2:], x.get("device_id", "?")[2:],
                " ".join("%02x" % i for i in std), " ".join("%x" % i for i in ext)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
