#!/usr/bin/env python3
"""`hqio sim topo --json`: every function of the simulated reference machine
decodes without error and shows the capabilities its model promises
(issue: simulated PCIe platform, acceptance item 1).

Usage: check_sim_topo.py path/to/hqio
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hqio_check import Checks  # noqa: E402

ck = Checks()
check = ck.check
failures = ck.failures


def main():
    hqio = sys.argv[1]
    out = ck.run([hqio, "sim", "topo", "--json"], timeout=60)
    check(out.returncode == 0, "exit code %d: %s" % (out.returncode, out.stderr.strip()))
    doc = json.loads(out.stdout)
    check(doc["source"] == "sim", "source is sim")
    devs = doc["devices"]
    by_id = {}
    for d in devs:
        check(d["decode"]["ok"], "%s decodes without error: %s" % (d["bdf"], d["decode"]["error"]))
        by_id.setdefault((d["vendor_id"], d["device_id"]), []).append(d)

    def one(vid, did, n=1):
        got = by_id.get((vid, did), [])
        check(len(got) == n, "%s:%s present %d time(s), found %d" % (vid, did, n, len(got)))
        return got

    for d in one("0x8086", "0x29c0"):
        check(d["class"] == "0x060000", "host bridge class")
        check(d["bdf"] == "0000:00:00.0", "host bridge at 00:00.0")
    for d in one("0x1b36", "0x000c", 4):
        check(d["pcie"] and d["pcie"]["port_type"] == 4, "%s is a root port" % d["bdf"])
        check(d["acs"] is not None, "%s has ACS" % d["bdf"])
    for d in one("0x104c", "0x8232"):
        check(d["pcie"]["port_type"] == 5, "switch upstream port")
    for d in one("0x104c", "0x8233", 2):
        check(d["pcie"]["port_type"] == 6, "switch downstream port %s" % d["bdf"])
    bridges = one("0x1b36", "0x000e")
    for d in bridges:
        check(d["pcie"]["port_type"] == 7, "PCIe-to-PCI bridge")
    for d in one("0x1b36", "0x0010"):  # NVMe-like
        check(d["pcie"]["flr"], "NVMe: FLR")
        check(d["msix"] and d["msix"]["table_size"] == 65, "NVMe: MSI-X 65")
        check(d["sriov"] is not None, "NVMe: SR-IOV")
        check(d["ats"] is not None, "NVMe: ATS")
        check(d["pm"]["no_soft_reset"], "NVMe: PM No_Soft_Reset+")
    for d in one("0x8086", "0x105e", 2):  # dual-port e1000e-like NIC
        check(d["multifunction"], "NIC %s: multi-function" % d["bdf"])
        check(d["pm"] and not d["pm"]["no_soft_reset"], "NIC: PM No_Soft_Reset-")
        check(d["msi"] is not None, "NIC: MSI")
        check(d["msix"] and d["msix"]["table_size"] == 5, "NIC: MSI-X 5")
        check(d["pcie"] and not d["pcie"]["flr"], "NIC: PCIe without FLR")
    for d in one("0x8086", "0x293e"):  # HD-Audio-like
        check(d["msi"] is not None and d["msix"] is None, "HDA: MSI only")
    legacy = one("0x10ec", "0x8169") + one("0x10ec", "0x8139")
    for d in legacy:
        check(not d["capabilities"]["present"], "%s: no capability list" % d["bdf"])
        check(d["interrupts"]["intx"] == "A", "%s: INTx A" % d["bdf"])
        check(d["pcie"] is None, "%s: conventional" % d["bdf"])
    if bridges and legacy:
        groups = {d["iommu"]["group"] for d in legacy + bridges}
        check(len(groups) == 1, "conventional devices share the bridge's IOMMU group: %s" % groups)
    for d in one("0x10de", "0x1b80"):  # GPU-like
        check(d["msi"] is not None, "GPU: MSI")
        check(any(b["kind"] == "mem64" and b["prefetchable"] for b in d["bars"]),
              "GPU: 64-bit prefetchable BAR")
    for d in one("0x1234", "0x11e8"):  # edu-like
        check(d["msi"] is not None and d["interrupts"]["intx"] == "A", "edu: MSI and INTx")
        check(d["bdf"] == "0000:00:10.0", "edu on the root bus at 00:10.0")

    return ck.finish("check_sim_topo: %d devices, %d passed, %d failed" %
                     (len(devs), ck.count - len(failures), len(failures)))


if __name__ == "__main__":
    sys.exit(main())
