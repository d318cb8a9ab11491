#!/usr/bin/env python3
"""check_lspci_sysfs: `hqio inspect` on the live system agrees with Debian's lspci.

Acceptance: "`hqio inspect --sysfs` and `--json` list every device in
/sys/bus/pci/devices, and the capability offsets/IDs of each equal what
Debian's `lspci -vvv` reports".

What it checks:
  1. `hqio inspect --json` and `hqio inspect --sysfs --json` exit 0, say
     format_version 1 and source "sysfs", and list exactly the entries of
     /sys/bus/pci/devices; both give the same capability lists.
  2. For every device, the standard and extended capability lists (offset,
     ID, and version for extended ones) equal those parsed from
     `lspci -vvv -D`; a defect hqio reports must sit where lspci shows the
     chain going wrong (see compare_list()).
  3. `hqio inspect` and `hqio inspect --sysfs` (text) exit 0 and print a
     line for every device.
  4. Unprivileged (uid/gid 65534 through setpriv; needs root): JSON says
     config_limited true; every device reads 64 bytes of config_bytes_total;
     a device whose Status register announces a capability list reports
     capabilities.readable false with an empty list, never an empty list
     marked readable; a function whose extended space exists (sysfs config
     file larger than 256 bytes) and whose standard list was not readable
     must not claim its extended list was read either. Text mode still exits
     0 and names every device.

lspci prints capability names, not IDs: LSPCI_STD_NAMES / LSPCI_EXT_NAMES
below map the text lspci prints to the IDs it is printed for. A name that
is not in the tables fails the test (the table is then out of date) rather
than being ignored. The module is imported by check_lspci_dump.py for the
parser, the table and the comparison rules.

usage: check_lspci_sysfs.py PATH-TO-HQIO
exit: 0 pass, 1 fail, 77 skipped (no lspci, no /sys/bus/pci).
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

SKIP = 77
SYSFS_PCI = "/sys/bus/pci/devices"
NOBODY = 65534
TIMEOUT = 30

# ---------------------------------------------------------------------------
# What lspci prints for each capability ID.
#
# Source: pciutils v3.9.0 (Debian 12 "bookworm" package pciutils 1:3.9.0-4,
# the lspci CI runs), read from the pciutils git tag v3.9.0:
#   standard list:  ls-caps.c show_caps() and the cap_*() functions it calls
#                   (first printf of each), ls-vpd.c cap_vpd(),
#                   ls-caps-vendor.c show_vendor_caps();
#   extended list:  ls-ecaps.c show_ext_caps() and its cap_*() functions.
# Every name below was also checked against the tags v3.10.0 .. v3.14.0 and
# master of 2025-12-28: none changed; entries marked "(3.11+)" etc. were
# added in that release (before it, lspci prints the unknown-ID form).
#
# Each entry: (printed prefix, IDs it stands for). A capability line is
# matched by the longest prefix. Unknown IDs are printed as
#   standard:  "Capability ID 0x15 [0000]"   (%#02x; pciutils >= 3.6.0)
#   extended:  "Extended Capability ID 0x2a" (%#02x; pciutils >= 3.6.0)
# and before 3.6.0 as "#15 [0000]" / "#2a"; both forms are parsed below.
# Note that pciutils has no name for the Flattening Portal Bridge (0x15,
# standard) in any version: it is printed as "Capability ID 0x15 [....]".
# ---------------------------------------------------------------------------
LSPCI_STD_NAMES = [
    ("Null", {0x00}),                                   # show_caps
    ("Power Management version", {0x01}),               # cap_pm
    ("AGP version", {0x02}),                            # cap_agp
    ("Vital Product Data", {0x03}),                     # ls-vpd.c cap_vpd
    ("Slot ID:", {0x04}),                               # cap_slotid
    ("MSI:", {0x05}),                                   # cap_msi
    ("CompactPCI hot-swap <?>", {0x06}),                # show_caps
    ("PCI-X non-bridge device", {0x07}),                # cap_pcix_nobridge (header type 0)
    ("PCI-X bridge device", {0x07}),                    # cap_pcix_bridge (header type 1)
    ("HyperTransport:", {0x08}),                        # cap_ht, cap_ht_pri, cap_ht_sec
    ("Vendor Specific Information:", {0x09}),           # ls-caps-vendor.c show_vendor_caps
    ("Debug port:", {0x0A}),                            # cap_debug_port
    ("CompactPCI central resource control <?>", {0x0B}),  # show_caps
    ("Hot-plug capable", {0x0C}),                       # show_caps
    ("Subsystem:", {0x0D}),                             # cap_ssvid
    ("AGP3 <?>", {0x0E}),                               # show_caps
    ("Secure device <?>", {0x0F}),                      # show_caps
    ("Express ", {0x10}),                               # cap_express: "Express (v2) Endpoint, ..."
    ("MSI-X:", {0x11}),                                 # cap_msix
    ("SATA HBA v", {0x12}),                             # cap_sata_hba
    ("PCI Advanced Features", {0x13}),                  # cap_af
    ("Enhanced Allocation (EA):", {0x14}),              # cap_ea
]

LSPCI_EXT_NAMES = [
    ("Null", {0x00}),                                   # show_ext_caps (printed twice in 3.9.0)
    ("Advanced Error Reporting", {0x01}),               # cap_aer
    ("Virtual Channel", {0x02, 0x09}),                  # cap_vc serves both VC IDs
    ("Device Serial Number ", {0x03}),                  # cap_dsn
    ("Power Budgeting <?>", {0x04}),
    ("Root Complex Link", {0x05}),                      # cap_rclink
    ("Root Complex Internal Link <?>", {0x06}),
    ("Root Complex Event Collector Endpoint Association", {0x07}),  # cap_rcec
    ("Multi-Function Virtual Channel <?>", {0x08}),
    ("Root Complex Register Block <?>", {0x0A}),
    ("Vendor Specific Information:", {0x0B}),           # cap_evendor
    ("Access Control Services", {0x0D}),                # cap_acs
    ("Alternative Routing-ID Interpretation (ARI)", {0x0E}),  # cap_ari
    ("Address Translation Service (ATS)", {0x0F}),      # cap_ats
    ("Single Root I/O Virtualization (SR-IOV)", {0x10}),  # cap_sriov
    ("Multi-Root I/O Virtualization <?>", {0x11}),
    ("Multicast", {0x12}),                              # cap_multicast
    ("Page Request Interface (PRI)", {0x13}),           # cap_pri
    ("Physical Resizable BAR", {0x15}),                 # cap_rebar(virtual=0)
    ("Dynamic Power Allocation <?>", {0x16}),
    ("Transaction Processing Hints", {0x17}),           # cap_tph
    ("Latency Tolerance Reporting", {0x18}),            # cap_ltr
    ("Secondary PCI Express", {0x19}),                  # cap_sec
    ("Protocol Multiplexing <?>", {0x1A}),
    ("Process Address Space ID (PASID)", {0x1B}),       # cap_pasid
    ("LN Requester <?>", {0x1C}),
    ("Downstream Port Containment", {0x1D}),            # cap_dpc
    ("L1 PM Substates", {0x1E}),                        # cap_l1pm
    ("Precision Time Measurement", {0x1F}),             # cap_ptm
    ("PCI Express over M_PHY <?>", {0x20}),
    ("FRS Queueing <?>", {0x21}),
    ("Readiness Time Reporting <?>", {0x22}),
    ("Designated Vendor-Specific:", {0x23}),            # cap_dvsec
    ("Virtual Resizable BAR", {0x24}),                  # cap_rebar(virtual=1)
    ("Data Link Feature", {0x25}),                      # "Data Link Feature <?>"
    ("Physical Layer 16.0 GT/s", {0x26}),               # "<?>" in 3.9.0; cap_phy_16gt later
    ("Lane Margining at the Receiver", {0x27}),         # "<?>" in 3.9.0; cap_lmr later
    ("Hierarchy ID <?>", {0x28}),
    ("Native PCIe Enclosure Management <?>", {0x29}),
    ("Physical Layer 32.0 GT/s", {0x2A}),               # (3.11+) cap_phy_32gt
    ("Data Object Exchange", {0x2E}),                   # cap_doe
    ("Device 3", {0x2F}),                               # (3.14+) cap_dev3
    ("Integrity & Data Encryption", {0x30}),            # (3.12+) cap_ide
    ("Physical Layer 64.0 GT/s", {0x31}),               # (3.14+) cap_phy_64gt
    ("Flit Logging", {0x32}),                           # (master after 3.14) cap_flit_log
    ("Flit Error Injection", {0x34}),                   # (master after 3.14) cap_flit_ei
    ("MMIO Register Block Locator", {0x36}),            # (master after 3.14) cap_mmio_rbl
]

_RE_STD_UNKNOWN = re.compile(r"(?:Capability ID (0x[0-9a-f]+|0)|#([0-9a-f]{2,})) \[[0-9a-f]{4}\]")
_RE_EXT_UNKNOWN = re.compile(r"(?:Extended Capability ID (0x[0-9a-f]+|0)|#([0-9a-f]{2,}))$")
_RE_DEVICE = re.compile(r"^([0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ", re.M)
# A capability line starts a line, or directly follows the "[xx] " of a
# capability whose decoder printed nothing (then both share one line).
_RE_CAP = re.compile(
    r"(?:(?<=\n)|(?<=\] ))\tCapabilities: "
    r"(?:\[(?P<off>[0-9a-f]+)(?: v(?P<ver>[0-9]+))?\] |(?P<denied><access denied>))")


class LspciParseError(Exception):
    """lspci printed something the tables or the parser do not know."""


def classify(name, ext):
    """IDs that the capability text `name` stands for; raises if unknown."""
    m = (_RE_EXT_UNKNOWN if ext else _RE_STD_UNKNOWN).match(name)
    if m:
        return {int(m.group(1) or "0x" + m.group(2), 16)}
    best = None
    for prefix, ids in LSPCI_EXT_NAMES if ext else LSPCI_STD_NAMES:
        if name.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, ids)
    if best is None:
        raise LspciParseError(
            "lspci printed %s capability name that is not in the table of "
            "check_lspci_sysfs.py: %r (update LSPCI_%s_NAMES from pciutils' %s)"
            % ("an extended" if ext else "a standard", name, "EXT" if ext else "STD",
               "ls-ecaps.c" if ext else "ls-caps.c"))
    return set(best[1])


def parse_lspci(text):
    """Parse `lspci -vvv -D` output.

    Returns {bdf: {"title": str, "std": [entry], "ext": [entry]}}, where an
    entry is a dict: kind ("cap", "looped", "broken", "denied"), offset (int
    or None), ids (set, for "cap"), version (int or None), text.
    """
    devices = {}
    starts = list(_RE_DEVICE.finditer(text))
    for i, m in enumerate(starts):
        bdf = m.group(1)
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        block = text[m.end():end]
        title = block.split("\n", 1)[0]
        if bdf in devices:
            raise LspciParseError("lspci printed %s twice" % bdf)
        dev = {"title": title, "std": [], "ext": []}
        caps = list(_RE_CAP.finditer(block))
        for j, c in enumerate(caps):
            # The name runs to the end of the line, or to the next
            # "\tCapabilities: " when a decoder printed nothing at all.
            stop = block.find("\n", c.end())
            stop = len(block) if stop < 0 else stop
            if j + 1 < len(caps) and caps[j + 1].start() < stop:
                stop = caps[j + 1].start()
            name = block[c.end():stop]
            if c.group("denied"):
                dev["std"].append({"kind": "denied", "offset": None, "ids": set(),
                                   "version": None, "text": name})
                continue
            off = c.group("off")
            ext = c.group("ver") is not None or len(off) == 3
            if ext and (c.group("ver") is None or len(off) != 3):
                raise LspciParseError("%s: unexpected capability line %r" % (bdf, c.group(0)))
            entry = {"kind": "cap", "offset": int(off, 16), "ids": set(),
                     "version": int(c.group("ver")) if ext else None, "text": name}
            if name == "<chain looped>":
                entry["kind"] = "looped"
            elif name == "<chain broken>":
                entry["kind"] = "broken"
            elif name == "":
                raise LspciParseError(
                    "%s: lspci printed no name for the capability at [%s] (its decoder "
                    "could not read it); the ID cannot be told" % (bdf, off))
            else:
                try:
                    entry["ids"] = classify(name, ext)
                except LspciParseError as e:
                    raise LspciParseError("%s [%s]: %s" % (bdf, off, e)) from None
            dev["ext" if ext else "std"].append(entry)
        devices[bdf] = dev
    return devices


def describe(entry):
    if entry["kind"] == "denied":
        return "<access denied>"
    off = "%03x" % entry["offset"] if entry["version"] is not None else "%02x" % entry["offset"]
    ver = " v%d" % entry["version"] if entry["version"] is not None else ""
    return "[%s%s] %s" % (off, ver, entry["text"])


def compare_list(hq, lsp, ext, where, head=0x34):
    """Compare one hqio capability list object with lspci's entries.

    hq:  hqio JSON "capabilities" / "extended_capabilities" object.
    lsp: entries from parse_lspci() for the same device and list.
    Returns a list of error strings (empty = agree).

    Rules (H = hqio's list, n = len(H), L = lspci's entries):
      - not readable, no defect (nothing of the list could be read): H is
        empty, and lspci shows only "<access denied>" (standard list) or
        nothing (extended list: lspci stops silently when it cannot read 0x100).
      - not readable with a defect (the list runs beyond the bytes that were
        read): the defect must be "beyond the bytes read"; H holds what came
        before it, and the defect rule below applies.
      - readable, no defect: L has exactly len(H) entries, all capabilities,
        with the same offsets, IDs (and versions for extended ones).
      - defect: the first n entries agree as above, then lspci's entry n
        shows the defect where hqio puts it:
          loop                          L[n] is "<chain looped>" at defect.pointer
          pointer into header           L[n] is at defect.pointer (< 0x40 / < 0x100):
                                        lspci walks into header bytes
          broken chain   (standard)     L[n] is "<chain broken>" at defect.pointer
          broken chain   (extended)     lspci stops silently: len(L) == n
          beyond the bytes read (std)   L[n] is "<access denied>"
          beyond the bytes read (ext)   lspci stops silently: len(L) == n
          past end of configuration     L[n] is a capability at defect.pointer
          space                         (lspci decodes what it can of it)
        and defect.at names the register that held the pointer: `head` (0x34,
        or 0x14 for a CardBus bridge) for the first pointer, the previous
        capability's offset + 1 (standard), or the previous capability's
        offset (extended).
    """
    errs = []
    what = "%s %s list" % (where, "extended" if ext else "standard")
    H = hq.get("list", [])
    L = lsp

    def fmt_h(c):
        if ext:
            return "[%03x v%d] id 0x%04x" % (c["offset"], c.get("version", -1), c["id"])
        return "[%02x] id 0x%02x" % (c["offset"], c["id"])

    def lsp_dump():
        return "; lspci: " + (", ".join(describe(e) for e in L) or "(nothing)") + \
            "; hqio: " + (", ".join(fmt_h(c) for c in H) or "(nothing)")

    defect = hq.get("defect")
    if not hq.get("readable", True) and defect is None:
        # Nothing could be read: no list at all.
        if H:
            errs.append("%s: not readable, no defect, but lists %d capabilities%s"
                        % (what, len(H), lsp_dump()))
        if ext:
            if L:
                errs.append("%s: hqio says not readable, lspci lists %d entries%s"
                            % (what, len(L), lsp_dump()))
        elif [e["kind"] for e in L] != ["denied"]:
            errs.append("%s: hqio says not readable, lspci does not say <access denied>%s"
                        % (what, lsp_dump()))
        return errs
    if not hq.get("readable", True) and defect.get("kind") != "beyond the bytes read":
        errs.append("%s: not readable, but the defect is %r, not 'beyond the bytes read'"
                    % (what, defect.get("kind")))

    n = len(H)
    for i, c in enumerate(H):
        if i >= len(L):
            errs.append("%s: hqio has %s at position %d, lspci has nothing%s"
                        % (what, fmt_h(c), i, lsp_dump()))
            return errs
        e = L[i]
        ok = (e["kind"] == "cap" and e["offset"] == c["offset"] and c["id"] in e["ids"]
              and (not ext or e["version"] == c.get("version")))
        if not ok:
            errs.append("%s: position %d: hqio %s, lspci %s%s"
                        % (what, i, fmt_h(c), describe(e), lsp_dump()))
            return errs
    if defect is None:
        if len(L) != n:
            errs.append("%s: hqio lists %d capabilities and no defect, lspci shows %d entries%s"
                        % (what, n, len(L), lsp_dump()))
        return errs

    kind, ptr, at = defect.get("kind"), defect.get("pointer"), defect.get("at")
    if n == 0:
        want_at = head if not ext else None
    else:
        want_at = H[-1]["offset"] + (0 if ext else 1)
    if want_at is not None and at != want_at:
        errs.append("%s: defect %r: at = 0x%x, expected 0x%x (register holding the pointer)"
                    % (what, kind, at, want_at))
    nxt = L[n] if len(L) > n else None
    silent_stop = len(L) == n
    if kind == "loop":
        good = nxt is not None and nxt["kind"] == "looped" and nxt["offset"] == ptr
    elif kind == "pointer into header":
        good = nxt is not None and nxt["offset"] == ptr and ptr < (0x100 if ext else 0x40)
    elif kind == "broken chain":
        good = silent_stop if ext else (nxt is not None and nxt["kind"] == "broken"
                                        and nxt["offset"] == ptr)
    elif kind == "beyond the bytes read":
        good = silent_stop if ext else (nxt is not None and nxt["kind"] == "denied")
    elif kind == "past end of configuration space":
        good = nxt is not None and nxt["kind"] == "cap" and nxt["offset"] == ptr
    else:
        errs.append("%s: unknown defect kind %r" % (what, kind))
        return errs
    if not good:
        errs.append("%s: hqio reports %r (pointer 0x%x at 0x%x) after %d capabilities, but "
                    "lspci does not show the chain going wrong there%s"
                    % (what, kind, ptr, at, n, lsp_dump()))
    return errs


def compare_device(hdev, ldev, where):
    """Compare one hqio JSON device with one parse_lspci() device."""
    errs = []
    if "capabilities" not in hdev:
        # Not decoded (e.g. every byte 0xff): lspci must show no capability.
        if ldev["std"] or ldev["ext"]:
            errs.append("%s: hqio did not decode the device (%s) but lspci lists capabilities"
                        % (where, hdev.get("decode")))
        return errs
    head = 0x14 if hdev.get("header_type") == 2 else 0x34  # CardBus: PCI_CB_CAPABILITY_LIST
    errs += compare_list(hdev["capabilities"], ldev["std"], False, where, head)
    errs += compare_list(hdev["extended_capabilities"], ldev["ext"], True, where)
    return errs


def run(cmd, **kw):
    """Run cmd with a timeout; returns CompletedProcess (text)."""
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=TIMEOUT, **kw)


def describe_rc(p):
    if p.returncode < 0:
        return "killed by signal %d" % -p.returncode
    return "exit code %d" % p.returncode


def run_hqio_json(cmd, **kw):
    """Run an hqio command that prints JSON; returns (doc or None, error or None)."""
    p = run(cmd, **kw)
    if p.returncode != 0:
        return None, "%s: %s; stderr: %s" % (" ".join(cmd), describe_rc(p), p.stderr.strip())
    try:
        return json.loads(p.stdout), None
    except ValueError as e:
        return None, "%s: output is not JSON: %s" % (" ".join(cmd), e)


def lspci_devices(args, **kw):
    p = run(["lspci", "-vvv", "-D"] + args, **kw)
    if p.returncode != 0:
        raise LspciParseError("lspci %s: %s; stderr: %s" % (" ".join(args), describe_rc(p),
                                                            p.stderr.strip()))
    return parse_lspci(p.stdout)


class Checker:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, cond, msg):
        if cond:
            self.passed += 1
        else:
            self.failures.append(msg)
        return cond

    def extend(self, errs, what):
        if errs:
            self.failures.extend(errs)
        else:
            self.passed += 1
            print("ok   %s" % what)

    def finish(self, name):
        for f in self.failures:
            print("FAIL %s" % f)
        print("%s: %d checks passed, %d failed" % (name, self.passed, len(self.failures)))
        return 1 if self.failures else 0


# ---------------------------------------------------------------------------
# The sysfs test.
# ---------------------------------------------------------------------------

def sysfs_devices():
    return sorted(e.lower() for e in os.listdir(SYSFS_PCI))


def text_mentions(stdout, bdfs):
    lines = stdout.splitlines()
    return [b for b in bdfs if not any(l.startswith(b + " ") for l in lines)]


def check_json_doc(ck, doc, devs, what):
    ck.check(doc.get("format_version") == 1, "%s: format_version is %r, not 1"
             % (what, doc.get("format_version")))
    ck.check(doc.get("source") == "sysfs", "%s: source is %r" % (what, doc.get("source")))
    got = [d.get("bdf") for d in doc.get("devices", [])]
    ck.check(sorted(got) == devs and len(set(got)) == len(got),
             "%s: devices %s differ from %s entries %s" % (what, got, SYSFS_PCI, devs))


def reachable_by_nobody(path):
    p = run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
             "sh", "-c", 'test -x "$1"', "sh", path], cwd="/")
    return p.returncode == 0


def unprivileged(ck, hqio, devs, root_doc):
    if os.geteuid() != 0:
        print("skip unprivileged part: not root, cannot switch to uid %d" % NOBODY)
        return
    if not shutil.which("setpriv"):
        print("skip unprivileged part: setpriv (util-linux) not installed")
        return
    tmp = None
    binary = hqio
    try:
        if not reachable_by_nobody(hqio):
            tmp = tempfile.mkdtemp(prefix="hqio-nobody-")
            os.chmod(tmp, 0o755)
            binary = os.path.join(tmp, "hqio")
            shutil.copy2(hqio, binary)
            os.chmod(binary, 0o755)
            print("note: %s is not reachable by uid %d; running a copy in %s" % (hqio, NOBODY, tmp))
        drop = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
        doc, err = run_hqio_json(drop + [binary, "inspect", "--json"], cwd="/")
        if not ck.check(doc is not None, "unprivileged: %s" % err):
            return
        check_json_doc(ck, doc, devs, "unprivileged hqio inspect --json")
        ck.check(doc.get("config_limited") is True,
                 "unprivileged: config_limited is %r, expected true" % doc.get("config_limited"))
        root_by_bdf = {d["bdf"]: d for d in root_doc.get("devices", [])}
        for d in doc.get("devices", []):
            bdf = d.get("bdf")
            size = os.stat(os.path.join(SYSFS_PCI, bdf, "config")).st_size
            ck.check(d.get("config_bytes_read") == min(size, 64) and
                     d.get("config_bytes_total") == min(size, 4096),
                     "unprivileged %s: config_bytes_read/total = %r/%r, expected %d/%d"
                     % (bdf, d.get("config_bytes_read"), d.get("config_bytes_total"),
                        min(size, 64), min(size, 4096)))
            caps = d.get("capabilities")
            if not ck.check(isinstance(caps, dict), "unprivileged %s: no capabilities object"
                            % bdf):
                continue
            full = root_by_bdf.get(bdf, {})
            has_caps = bool(full.get("status", {}).get("capabilities_list"))
            if has_caps:
                ck.check(caps.get("readable") is False and caps.get("list") == [] and
                         caps.get("present") is False,
                         "unprivileged %s: Status says the device has capabilities, but with 64 "
                         "bytes hqio reports readable=%r present=%r list=%r (expected not "
                         "readable, empty)" % (bdf, caps.get("readable"), caps.get("present"),
                                               caps.get("list")))
                ext = d.get("extended_capabilities", {})
                if size > 256:
                    ck.check(ext.get("readable") is False,
                             "unprivileged %s: the standard list was not readable (so whether "
                             "the function is PCI Express is unknown) and config space is %d "
                             "bytes, yet extended_capabilities says readable=%r present=%r"
                             % (bdf, size, ext.get("readable"), ext.get("present")))
            else:
                ck.check(caps.get("readable") is True and caps.get("present") is False,
                         "unprivileged %s: Status.CapList is clear (known from the header), "
                         "expected readable true / present false, got %r/%r"
                         % (bdf, caps.get("readable"), caps.get("present")))
        # Compare with what lspci shows the same user.
        ldevs = {}
        p = run(drop + ["lspci", "-vvv", "-D"], cwd="/")
        if ck.check(p.returncode == 0, "unprivileged lspci -vvv -D: %s; stderr: %s"
                    % (describe_rc(p), p.stderr.strip())):
            try:
                ldevs = parse_lspci(p.stdout)
            except LspciParseError as e:
                ck.check(False, "unprivileged lspci: %s" % e)
        for d in doc.get("devices", []):
            if d["bdf"] in ldevs:
                ck.extend(compare_device(d, ldevs[d["bdf"]], "unprivileged " + d["bdf"]),
                          "unprivileged %s: capability lists match lspci" % d["bdf"])
        p = run(drop + [binary, "inspect"], cwd="/")
        ck.check(p.returncode == 0, "unprivileged hqio inspect (text): %s; stderr: %s"
                 % (describe_rc(p), p.stderr.strip()))
        missing = text_mentions(p.stdout, devs)
        ck.check(not missing, "unprivileged hqio inspect (text) does not mention %s" % missing)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    if len(argv) != 2:
        print("usage: %s PATH-TO-HQIO" % argv[0], file=sys.stderr)
        return 2
    hqio = os.path.abspath(argv[1])
    if not shutil.which("lspci"):
        print("SKIP: lspci not found (Debian package pciutils)")
        return SKIP
    if not os.path.isdir(SYSFS_PCI):
        print("SKIP: %s does not exist (no PCI sysfs here)" % SYSFS_PCI)
        return SKIP
    ck = Checker()
    devs = sysfs_devices()

    doc, err = run_hqio_json([hqio, "inspect", "--json"])
    if not ck.check(doc is not None, err):
        return ck.finish("check_lspci_sysfs")
    check_json_doc(ck, doc, devs, "hqio inspect --json")
    doc2, err = run_hqio_json([hqio, "inspect", "--sysfs", "--json"])
    if ck.check(doc2 is not None, err):
        check_json_doc(ck, doc2, devs, "hqio inspect --sysfs --json")
        lists = lambda d: [(x["bdf"], x.get("capabilities"), x.get("extended_capabilities"))
                           for x in d["devices"]]
        ck.check(lists(doc) == lists(doc2),
                 "hqio inspect --json and --sysfs --json give different capability lists")
    if os.geteuid() == 0:
        ck.check(doc.get("config_limited") is False,
                 "as root, config_limited is %r, expected false" % doc.get("config_limited"))

    try:
        ldevs = lspci_devices([])
    except LspciParseError as e:
        ck.check(False, str(e))
        return ck.finish("check_lspci_sysfs")
    ck.check(sorted(ldevs) == devs, "lspci -D lists %s, %s has %s" % (sorted(ldevs), SYSFS_PCI,
                                                                       devs))
    for d in doc.get("devices", []):
        bdf = d["bdf"]
        if not ck.check(bdf in ldevs, "%s: not listed by lspci" % bdf):
            continue
        ck.extend(compare_device(d, ldevs[bdf], bdf),
                  "%s: %d standard, %d extended capabilities match lspci"
                  % (bdf, len(d.get("capabilities", {}).get("list", [])),
                     len(d.get("extended_capabilities", {}).get("list", []))))

    for args in (["inspect"], ["inspect", "--sysfs"]):
        p = run([hqio] + args)
        ck.check(p.returncode == 0, "hqio %s (text): %s; stderr: %s"
                 % (" ".join(args), describe_rc(p), p.stderr.strip()))
        missing = text_mentions(p.stdout, devs)
        ck.check(not missing, "hqio %s (text) does not mention %s" % (" ".join(args), missing))

    unprivileged(ck, hqio, devs, doc)
    return ck.finish("check_lspci_sysfs")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
