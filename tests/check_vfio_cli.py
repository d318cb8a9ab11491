#!/usr/bin/env python3
"""check_vfio_cli: `hqio vfio` argument validation and error paths that run
without VFIO (a fabricated sysfs tree and an empty /dev/vfio directory):
exit 2 for usage errors, 1 with a sentence on stderr/stdout for operations
that cannot work, 0 for --help; --json output parses; never a signal.
The device checks themselves run in the test bed (testbed/tests/vfio_*.sh).

usage: check_vfio_cli.py PATH-TO-HQIO
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hqio_check import Checks, hqio_arg, not_signalled  # noqa: E402

ck = Checks()
check = ck.check
failures = ck.failures


def run(hqio, *args):
    return ck.run([hqio, "vfio", *args], timeout=60, ok=not_signalled,
                  what=lambda rc: f"vfio {' '.join(args)}: killed by signal {-rc}")


def fake_tree(root):
    """One device on vfio-pci in IOMMU group 3, one on e1000e in group 4."""
    for name, drv, grp in (("0000:00:03.0", "vfio-pci", 3), ("0000:00:04.0", "e1000e", 4)):
        dev = os.path.join(root, "devices/pci0000:00", name)
        os.makedirs(dev)
        os.makedirs(os.path.join(root, "bus/pci/drivers", drv), exist_ok=True)
        os.makedirs(os.path.join(root, "bus/pci/devices"), exist_ok=True)
        os.symlink(f"../../../devices/pci0000:00/{name}",
                   os.path.join(root, "bus/pci/devices", name))
        os.symlink(f"../../../bus/pci/drivers/{drv}", os.path.join(dev, "driver"))
        gdir = os.path.join(root, f"kernel/iommu_groups/{grp}/devices")
        os.makedirs(gdir)
        os.symlink(f"../../../../kernel/iommu_groups/{grp}", os.path.join(dev, "iommu_group"))
        os.symlink(f"../../../../devices/pci0000:00/{name}", os.path.join(gdir, name))
        with open(os.path.join(dev, "reset_method"), "w") as f:
            f.write("flr bus\n")


def main():
    hqio = sys.argv[1]
    p = run(hqio, "--help")
    check(p.returncode == 0 and "edu-test" in p.stdout, "--help: exit 0 and the commands")
    for args in (["frob"], ["info"], ["edu-test"], ["edu-test", "00:03.0", "00:04.0"],
                 ["info", "zz"], ["reset", "00:03.0", "--expect", "nosuch"],
                 ["info", "00:03.0", "--expect", "flr"], ["edu-test", "00:03.0", "--count", "0"],
                 ["reclaim-race", "00:03.0", "--order", "sideways"],
                 ["sriov", "00:03.0", "--numvfs", "-1"], ["info", "00:03.0", "--bogus"]):
        p = run(hqio, *args)
        check(p.returncode == 2 and p.stderr.strip(), f"{args}: exit 2 with a message "
              f"(got {p.returncode}: {p.stderr.strip()!r})")
    with tempfile.TemporaryDirectory() as tmp:
        sysd = os.path.join(tmp, "sys")
        devv = os.path.join(tmp, "dev-vfio")
        os.makedirs(devv)
        fake_tree(sysd)
        base = ["--sys", sysd, "--dev-vfio", devv, "--state-dir", os.path.join(tmp, "state")]
        p = run(hqio, "edu-test", "00:03.0", *base)
        check(p.returncode == 1 and "vfio modules are not loaded" in p.stdout,
              f"edu-test without /dev/vfio: {p.returncode} {p.stdout!r}")
        p = run(hqio, "edu-test", "00:03.0", "--json", *base)
        try:
            doc = json.loads(p.stdout)
            check(doc["failed"] == 1 and doc["checks"][0]["pass"] is False,
                  "edu-test --json: one failed check")
        except (ValueError, KeyError, IndexError) as e:
            check(False, f"edu-test --json does not parse: {e}: {p.stdout!r}")
        p = run(hqio, "info", "00:03.0", "00:04.0", "--json", *base)
        try:
            doc = json.loads(p.stdout)
            devs = {d["bdf"]: d for d in doc["devices"]}
            check(devs["0000:00:03.0"]["iommu_group"] == 3 and devs["0000:00:03.0"]["viable"],
                  "info: group 3 viable")
            check(devs["0000:00:04.0"]["driver"] == "e1000e" and not devs["0000:00:04.0"]["viable"],
                  "info: e1000e's group not viable")
            check(devs["0000:00:03.0"]["reset_method"] == "flr bus", "info: reset_method")
        except (ValueError, KeyError) as e:
            check(False, f"info --json: {e}: {p.stdout!r}")
        p = run(hqio, "info", "00:1f.7", *base)
        check(p.returncode == 1 and "no PCI device" in p.stderr, "info of a missing device")
        p = run(hqio, "bind", "00:04.0", *base)
        check(p.returncode == 1 and "driver_override" in p.stderr,
              f"bind on a tree without vfio-pci's bind files: {p.returncode} {p.stderr!r}")
        p = run(hqio, "sriov", "00:03.0", *base)
        check(p.returncode == 1 and "not an SR-IOV physical function" in p.stderr,
              f"sriov on a non-PF: {p.stderr!r}")
        # A quarantine record (host/quarantine.h, left by `hqio run` or a
        # failed `hqio vfio reset`): release refuses, info shows it.
        state = os.path.join(tmp, "state")
        os.makedirs(state, exist_ok=True)
        with open(os.path.join(state, "0000:00:04.0.quarantined"), "w") as f:
            f.write("hqio run: no reset method verified\n")
        p = run(hqio, "release", "00:04.0", *base)
        check(p.returncode == 1 and "QUARANTINED (hqio run: no reset method verified)" in p.stderr
              and "hqio vfio reset 0000:00:04.0" in p.stderr,
              f"release of a quarantined function refused: {p.returncode} {p.stderr!r}")
        check(os.path.exists(os.path.join(state, "0000:00:04.0.quarantined")),
              "the refused release keeps the record")
        p = run(hqio, "info", "00:04.0", *base)
        check("QUARANTINED: hqio run: no reset method verified" in p.stdout,
              f"info shows the quarantine: {p.stdout!r}")
        p = run(hqio, "info", "00:04.0", "--json", *base)
        try:
            doc = json.loads(p.stdout)
            check(doc["devices"][0]["quarantined"] == "hqio run: no reset method verified",
                  "info --json: quarantined")
        except (ValueError, KeyError, IndexError) as e:
            check(False, f"info --json: {e}: {p.stdout!r}")
        p = run(hqio, "release", "00:04.0", "--force", *base)
        check("QUARANTINED" in p.stderr and "--force" in p.stderr
              and "is QUARANTINED (hqio run: no reset method verified): its state" not in p.stderr,
              f"release --force goes on: {p.returncode} {p.stderr!r}")
    # Permission denied: a container node the caller may not open (as
    # nobody, so that root's override does not apply).
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv:
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            devv = os.path.join(tmp, "dev-vfio")
            os.makedirs(devv)
            os.chmod(devv, 0o755)
            node = os.path.join(devv, "vfio")
            with open(node, "w"):
                pass
            os.chmod(node, 0o600)
            sysd = os.path.join(tmp, "sys")
            fake_tree(sysd)
            p = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                                hqio, "vfio", "edu-test", "00:03.0", "--sys", sysd,
                                "--dev-vfio", devv], capture_output=True, text=True, timeout=60)
            check(p.returncode == 1 and "permission denied" in p.stdout,
                  f"edu-test as nobody: {p.returncode} {p.stdout!r} {p.stderr!r}")
    if failures:
        return ck.finish(f"check_vfio_cli: {len(failures)} of {ck.count} checks failed")
    return ck.finish(f"check_vfio_cli: {ck.count} checks passed")


if __name__ == "__main__":
    sys.exit(main())
