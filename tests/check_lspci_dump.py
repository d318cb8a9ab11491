#!/usr/bin/env python3
"""check_lspci_dump: `hqio inspect --dump F` agrees with `lspci -F F -vvv`.

Acceptance: "`hqio inspect --dump F` gives the same capability list as
`lspci -F F -vvv` for dumps produced on this machine with `lspci -xxxx`
(generated at test time, not committed) and for dumps you write in tests
for the malformed cases".

(a) Dumps of this machine, made at test time with `lspci -xxxx`, `-xxx` and
    `-x`: per device, hqio's standard and extended capability lists equal
    those of `lspci -F F -vvv -D` (rules: check_lspci_sysfs.compare_list).
    For `-x` (64 bytes) lspci prints "Capabilities: <access denied>" and hqio
    must say capabilities.readable false.
(b) Synthetic dumps written here (lspci -xxxx text: "[DOMAIN:]BB:DD.F title"
    then "OO: hh ..." lines, 16 bytes a line, 2- or 3-digit offsets). Each
    case states the ground truth (the lists, defects and flags it built);
    hqio must report exactly that, and must agree with lspci under the same
    comparison rules. For malformed lists hqio stops at the defect and
    reports it in capabilities.defect / extended_capabilities.defect and in
    decode.error, while lspci goes on, prints <chain looped>/<chain broken>
    or stops silently; compare_list() defines where the two must meet.
(c) Inputs hqio must refuse (not a dump): exit code 1 and a message, never a
    signal.

hqio must never crash: every run must end with exit code 0 or 1.

The synthetic cases are also used by check_json_schema.py (import).

usage: check_lspci_dump.py PATH-TO-HQIO
exit: 0 pass, 1 fail, 77 skipped (no lspci).
"""

import json
import os
import shutil
import struct
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_lspci_sysfs as ls  # noqa: E402  (parser, name tables, comparison rules)

SKIP = 77

# Capability IDs (PCI Code and ID Assignment r1.11).
PM, MSI, EXP, MSIX = 0x01, 0x05, 0x10, 0x11
AER, DSN, ACS, ARI, ATS, SRIOV, PRI, REBAR, LTR, PASID, L1SS = (
    0x01, 0x03, 0x0D, 0x0E, 0x0F, 0x10, 0x13, 0x15, 0x18, 0x1B, 0x1E)

# ---------------------------------------------------------------------------
# Building configuration images and lspci dumps.
# ---------------------------------------------------------------------------


class Image:
    """A configuration space image with helpers to lay out capabilities."""

    def __init__(self, size=4096, vendor=0x1234, device=0x5678, class_code=0x020000,
                 header_type=0x00, rev=0x01, fill=0x00):
        self.b = bytearray([fill]) * size
        if fill == 0xFF:
            return
        self.w16(0x00, vendor)
        self.w16(0x02, device)
        self.w32(0x08, (class_code << 8) | rev)
        self.b[0x0E] = header_type
        if header_type & 0x7F == 0:
            self.w16(0x2C, 0x1234)
            self.w16(0x2E, 0x0001)
        self.b[0x3D] = 0x01  # INTA

    def w8(self, off, v):
        self.b[off] = v & 0xFF

    def w16(self, off, v):
        self.b[off:off + 2] = struct.pack("<H", v & 0xFFFF)

    def w32(self, off, v):
        self.b[off:off + 4] = struct.pack("<I", v & 0xFFFFFFFF)

    def head(self, ptr):
        """Set Status.CapList and the Capabilities Pointer (raw byte)."""
        self.w16(0x06, 0x0010)
        self.b[0x34] = ptr

    def std(self, off, cap_id, nxt, word=0):
        """A standard capability header: ID, next pointer (raw), first word."""
        self.b[off] = cap_id
        self.b[off + 1] = nxt
        self.w16(off + 2, word)

    def ext(self, off, cap_id, ver, nxt):
        """An extended capability header (raw next pointer, low bits kept)."""
        self.w32(off, cap_id | (ver << 16) | (nxt << 20))

    def bytes(self, size=None):
        return bytes(self.b[:size] if size else self.b)


def dump_text(devices):
    """lspci -x/-xxx/-xxxx text for [(bdf, title, bytes)]."""
    out = []
    for bdf, title, data in devices:
        out.append("%s %s" % (bdf, title))
        for i in range(0, len(data), 16):
            out.append("%02x:" % i + "".join(" %02x" % x for x in data[i:i + 16]))
        out.append("")
    return "\n".join(out) + "\n"


def pcie_endpoint():
    """The PCIe endpoint of the brief: PM, MSI, PCIe, MSI-X, and AER -> ACS ->
    ARI -> SR-IOV -> ATS -> PRI -> PASID -> DSN -> LTR -> L1SS -> Resizable BAR."""
    m = Image(size=4096, class_code=0x020000)
    m.head(0x40)
    m.std(0x40, PM, 0x50, 0x0003)            # PM version 3
    m.w16(0x44, 0x0008)                      # NoSoftRst+
    m.std(0x50, MSI, 0x70, 0x0080)           # 64-bit MSI
    m.std(0x70, EXP, 0xB0, 0x0002)           # PCIe v2, endpoint
    m.w32(0x74, 0x10008000)                  # DevCap: FLR+
    m.w32(0x7C, 0x00000011)                  # LnkCap: 2.5GT/s x1
    m.w16(0x82, 0x0011)                      # LnkSta: 2.5GT/s x1
    m.std(0xB0, MSIX, 0x00, 0x0007)          # 8 entries
    m.w32(0xB4, 0x00000000)
    m.w32(0xB8, 0x00000800)
    chain = [(0x100, AER, 2), (0x148, ACS, 1), (0x150, ARI, 1), (0x160, SRIOV, 1),
             (0x1A0, ATS, 1), (0x1B0, PRI, 1), (0x1C0, PASID, 1), (0x1D0, DSN, 1),
             (0x1E0, LTR, 1), (0x1F0, L1SS, 1), (0x200, REBAR, 1)]
    for i, (off, cid, ver) in enumerate(chain):
        nxt = chain[i + 1][0] if i + 1 < len(chain) else 0
        m.ext(off, cid, ver, nxt)
    m.w32(0x1D4, 0x89ABCDEF)                 # DSN
    m.w32(0x1D8, 0x01234567)
    m.w32(0x204, 0x00000010)                 # ReBAR: 1 MB supported
    m.w32(0x208, 0x00000020)                 # BAR0, 1 bar, size 1 MB
    std = [(0x40, PM), (0x50, MSI), (0x70, EXP), (0xB0, MSIX)]
    return m, std, chain


def root_port():
    """A PCIe root port (type 1 header) on bus 0, secondary bus 1, with ACS
    enabling SV RR CR UF, and a 64-bit prefetchable window."""
    m = Image(size=4096, vendor=0x8086, device=0xA110, class_code=0x060400, header_type=0x01)
    m.w16(0x04, 0x0407)                      # I/O, Mem, BusMaster, INTx disabled
    m.w32(0x10, 0xFE000004)                  # BAR0: 64-bit memory
    m.w32(0x14, 0x00000000)
    m.b[0x18], m.b[0x19], m.b[0x1A] = 0x00, 0x01, 0x01   # primary, secondary, subordinate
    m.w16(0x3E, 0x0003)                      # Bridge Control: Parity, SERR
    m.head(0x40)
    m.std(0x40, EXP, 0x80, 0x0142)           # PCIe v2, root port, slot
    m.w32(0x44, 0x00008000)
    m.w32(0x4C, 0x00400022)                  # LnkCap: 5GT/s x2, DLActive reporting
    m.w16(0x52, 0x2012)                      # LnkSta: 5GT/s x1, DLActive
    m.w16(0x5C, 0x0010)                      # RootCtl: CRS SV enable
    m.w16(0x5E, 0x0001)                      # RootCap: CRS SV
    m.std(0x80, MSI, 0x90, 0x0081)           # 64-bit, enabled
    m.std(0x90, 0x0D, 0xA0)                  # Subsystem ID for bridges
    m.w32(0x94, 0x00011234)
    m.std(0xA0, PM, 0x00, 0x0003)
    m.ext(0x100, AER, 2, 0x148)
    m.ext(0x148, ACS, 1, 0x000)
    m.w16(0x14C, 0x001F)                     # ACS cap: SV TB RR CR UF
    m.w16(0x14E, 0x001D)                     # ACS ctrl: SV RR CR UF
    return m, [(0x40, EXP), (0x80, MSI), (0x90, 0x0D), (0xA0, PM)], \
        [(0x100, AER, 2), (0x148, ACS, 1)]


def sriov_pf():
    """A multi-function PF at 01:00.0 with SR-IOV enabled: 2 VFs at 01:00.1-2."""
    m = Image(size=4096, vendor=0x8086, device=0x1572, class_code=0x020000, header_type=0x80)
    m.w16(0x04, 0x0406)
    m.w32(0x10, 0xF000000C)                  # BAR0: 64-bit prefetchable
    m.w32(0x14, 0x00000000)
    m.w32(0x18, 0x0000E001)                  # BAR2: I/O
    m.w32(0x30, 0xFE800001)                  # ROM, enabled
    m.head(0x40)
    m.std(0x40, PM, 0x50, 0x0003)
    m.std(0x50, MSIX, 0x70, 0x803F)          # enabled, 64 entries
    m.w32(0x54, 0x00000000)
    m.w32(0x58, 0x00001000)
    m.std(0x70, EXP, 0x00, 0x0002)
    m.w32(0x74, 0x10008000)                  # FLR+
    m.w16(0x78, 0x2810)                      # DevCtl: RO, NoSnoop, MRRS 512
    m.w32(0x7C, 0x00000081)
    m.w16(0x82, 0x0081)
    chain = [(0x100, AER, 2), (0x140, ARI, 1), (0x150, SRIOV, 1), (0x190, ATS, 1)]
    for i, (off, cid, ver) in enumerate(chain):
        m.ext(off, cid, ver, chain[i + 1][0] if i + 1 < len(chain) else 0)
    m.w16(0x104, 0x0010)                     # AER: uncorrectable status bit 4
    m.w16(0x158, 0x0001)                     # SR-IOV ctrl: VF Enable
    m.w16(0x15C, 4)                          # InitialVFs
    m.w16(0x15E, 4)                          # TotalVFs
    m.w16(0x160, 2)                          # NumVFs
    m.w16(0x164, 1)                          # First VF Offset
    m.w16(0x166, 1)                          # VF Stride
    m.w16(0x16A, 0x154C)                     # VF Device ID
    m.w16(0x196, 0x8000)                     # ATS enabled
    return m, [(0x40, PM), (0x50, MSIX), (0x70, EXP)], chain


def std_zoo():
    """A conventional function with every standard ID lspci names (0x00-0x14),
    plus unnamed ones (0x15 FPB, 0x42, 0xfe), 8 bytes apart."""
    m = Image(size=256, class_code=0x118000)
    ids = list(range(0x00, 0x15)) + [0x15, 0x42, 0xFE]
    m.head(0x40)
    std = []
    for i, cid in enumerate(ids):
        off = 0x40 + 8 * i
        nxt = off + 8 if i + 1 < len(ids) else 0
        m.std(off, cid, nxt, 0x0002 if cid == EXP else 0x0003 if cid == PM else 0)
        std.append((off, cid))
    return m, std


def ext_zoo():
    """A PCIe endpoint whose extended list holds every ID 0x0000-0x0036, plus
    0x0040 and 0xabcd, 0x40 bytes apart, versions 1..15 cycling."""
    m = Image(size=4096, class_code=0x120000)
    m.head(0x40)
    m.std(0x40, PM, 0x50, 0x0003)
    m.std(0x50, EXP, 0x90, 0x0002)
    m.std(0x90, MSIX, 0x00, 0x0000)
    ids = list(range(0x00, 0x37)) + [0x40, 0xABCD]
    ext = []
    for i, cid in enumerate(ids):
        off = 0x100 + 0x40 * i
        nxt = off + 0x40 if i + 1 < len(ids) else 0
        ver = 1 + i % 15
        m.ext(off, cid, ver, nxt)
        ext.append((off, cid, ver))
    return m, [(0x40, PM), (0x50, EXP), (0x90, MSIX)], ext


def expect(std=(), ext=(), std_defect=None, ext_defect=None, std_readable=True,
           ext_readable=True, std_present=None, ext_present=None, misaligned=(False, False),
           decoded=True, error_has=None):
    """Ground truth for one device of a case."""
    return {"std": list(std), "ext": list(ext), "std_defect": std_defect,
            "ext_defect": ext_defect, "std_readable": std_readable,
            "ext_readable": ext_readable,
            # present: the list exists and was read (see docs/inspect-json.md)
            "std_present": std_readable and (bool(std) or std_defect is not None)
            if std_present is None else std_present,
            "ext_present": ext_readable and (bool(ext) or ext_defect is not None)
            if ext_present is None else ext_present,
            "misaligned": misaligned, "decoded": decoded, "error_has": error_has}


def synthetic_cases():
    """[(name, description, dump text, {bdf: expectation})]."""
    cases = []

    # 1. The PCIe endpoint, as -xxxx, -xxx and -x would print it.
    m, std, chain = pcie_endpoint()
    cases.append(("pcie-endpoint", "PCIe endpoint, full 4096-byte dump",
                  dump_text([("01:00.0", "Ethernet controller: synthetic endpoint", m.bytes())]),
                  {"0000:01:00.0": expect(std, chain)}))
    cases.append(("pcie-endpoint-xxx", "the same endpoint, 256 bytes (lspci -xxx)",
                  dump_text([("01:00.0", "Ethernet controller: synthetic endpoint",
                              m.bytes(256))]),
                  {"0000:01:00.0": expect(std, (), ext_readable=False, ext_present=False)}))
    cases.append(("pcie-endpoint-x", "the same endpoint, 64 bytes (lspci -x)",
                  dump_text([("01:00.0", "Ethernet controller: synthetic endpoint",
                              m.bytes(64))]),
                  {"0000:01:00.0": expect((), (), std_readable=False, ext_readable=False,
                                          std_defect=("beyond the bytes read", 0x40, 0x34))}))

    # 2. Name tables: every standard and extended ID.
    z, zstd = std_zoo()
    e, estd, eext = ext_zoo()
    cases.append(("id-zoo", "every standard ID (256 bytes) and every extended ID (4096)",
                  dump_text([("02:00.0", "Signal processing controller: std zoo", z.bytes()),
                             ("02:01.0", "Processing accelerators: ext zoo", e.bytes())]),
                  {"0000:02:00.0": expect(zstd, (), ext_readable=False, ext_present=False),
                   "0000:02:01.0": expect(estd, eext)}))

    # 3. Loops: standard and extended, and an extended capability pointing to itself.
    m = Image()
    m.head(0x40)
    m.std(0x40, PM, 0x50, 0x0003)
    m.std(0x50, MSI, 0x60)
    m.std(0x60, EXP, 0x50, 0x0002)           # back to 0x50
    m.ext(0x100, AER, 2, 0x140)
    m.ext(0x140, ACS, 1, 0x180)
    m.ext(0x180, ARI, 1, 0x140)              # back to 0x140
    s = Image()
    s.head(0x40)
    s.std(0x40, EXP, 0x00, 0x0002)
    s.ext(0x100, AER, 1, 0x100)              # itself
    cases.append(("loop", "capability loops (standard, extended, extended self-loop)",
                  dump_text([("03:00.0", "Ethernet controller: loops", m.bytes()),
                             ("03:00.1", "Ethernet controller: self loop", s.bytes())]),
                  {"0000:03:00.0": expect([(0x40, PM), (0x50, MSI), (0x60, EXP)],
                                          [(0x100, AER, 2), (0x140, ACS, 1), (0x180, ARI, 1)],
                                          std_defect=("loop", 0x50, 0x61),
                                          ext_defect=("loop", 0x140, 0x180),
                                          error_has="loop"),
                   "0000:03:00.1": expect([(0x40, EXP)], [(0x100, AER, 1)],
                                          ext_defect=("loop", 0x100, 0x100),
                                          error_has="loop")}))

    # 4. Standard pointers into the header (0x00-0x3f): from the head and mid-chain.
    h = Image(size=256)
    h.head(0x10)                             # BAR0: reads as a "Null" capability to lspci
    k = Image(size=256)
    k.head(0x40)
    k.std(0x40, PM, 0x20, 0x0003)            # -> BAR4
    cases.append(("ptr-in-header", "standard pointers into the header",
                  dump_text([("04:00.0", "Ethernet controller: head into header", h.bytes()),
                             ("04:01.0", "Ethernet controller: next into header", k.bytes())]),
                  {"0000:04:00.0": expect((), (), std_defect=("pointer into header", 0x10, 0x34),
                                          error_has="pointer into header"),
                   "0000:04:01.0": expect([(0x40, PM)], (),
                                          std_defect=("pointer into header", 0x20, 0x41),
                                          error_has="pointer into header")}))

    # 5. A standard capability with ID 0xff mid-chain; an extended zero header mid-chain.
    m = Image()
    m.head(0x40)
    m.std(0x40, PM, 0x50, 0x0003)
    m.std(0x50, 0xFF, 0x60)
    m.std(0x60, MSI, 0x00)
    n = Image()
    n.head(0x40)
    n.std(0x40, EXP, 0x00, 0x0002)
    n.ext(0x100, AER, 2, 0x200)              # 0x200 is all zero
    cases.append(("broken", "ID 0xff mid-chain (standard), zero header mid-chain (extended)",
                  dump_text([("05:00.0", "Ethernet controller: std 0xff", m.bytes()),
                             ("05:00.1", "Ethernet controller: ext zero", n.bytes())]),
                  {"0000:05:00.0": expect([(0x40, PM)], (),
                                          std_defect=("broken chain", 0x50, 0x41),
                                          error_has="broken chain"),
                   "0000:05:00.1": expect([(0x40, EXP)], [(0x100, AER, 2)],
                                          ext_defect=("broken chain", 0x200, 0x100),
                                          error_has="broken chain")}))

    # 6. An extended next pointer below 0x100 (lspci walks into the standard space).
    m = Image()
    m.head(0x40)
    m.std(0x40, EXP, 0x00, 0x0002)
    m.ext(0x100, AER, 2, 0x140)
    m.ext(0x140, ACS, 1, 0x0F0)
    m.ext(0x0F0, 0x19, 1, 0x000)             # what lspci finds there: "Secondary PCI Express"
    cases.append(("ext-ptr-low", "extended next pointer below 0x100",
                  dump_text([("06:00.0", "Ethernet controller: ext ptr 0xf0", m.bytes())]),
                  {"0000:06:00.0": expect([(0x40, EXP)], [(0x100, AER, 2), (0x140, ACS, 1)],
                                          ext_defect=("pointer into header", 0x0F0, 0x140),
                                          error_has="pointer into header")}))

    # 7. Capabilities whose structure would run past the end of the space.
    m = Image()
    m.head(0x40)
    m.std(0x40, PM, 0x50, 0x0003)
    m.std(0x50, EXP, 0xFC, 0x0002)
    m.std(0xFC, MSIX, 0x00)                  # MSI-X needs 12 bytes
    m.ext(0x100, AER, 2, 0xFF0)
    m.ext(0xFF0, SRIOV, 1, 0x000)            # SR-IOV needs 0x40 bytes
    cases.append(("past-end", "capabilities that run past 0xff / 0xfff",
                  dump_text([("07:00.0", "Ethernet controller: past end", m.bytes())]),
                  {"0000:07:00.0": expect([(0x40, PM), (0x50, EXP)], [(0x100, AER, 2)],
                                          std_defect=("past end of configuration space",
                                                      0xFC, 0x51),
                                          ext_defect=("past end of configuration space",
                                                      0xFF0, 0x100),
                                          error_has="past end")}))

    # 8. An absent function: every byte 0xff.
    cases.append(("absent", "a function whose configuration space reads all 0xff",
                  dump_text([("08:00.0", "Non-VGA unclassified device: absent",
                              Image(fill=0xFF).bytes())]),
                  {"0000:08:00.0": expect(decoded=False, error_has="0xff")}))

    # 9. Misaligned pointers (reserved low bits set): both tools mask them.
    m = Image()
    m.head(0x43)
    m.std(0x40, PM, 0x51, 0x0003)
    m.std(0x50, MSI, 0x72)
    m.std(0x70, EXP, 0x00, 0x0002)
    m.ext(0x100, AER, 2, 0x142)
    m.ext(0x140, ACS, 1, 0x000)
    cases.append(("misaligned", "pointers with bits 1:0 set",
                  dump_text([("09:00.0", "Ethernet controller: misaligned", m.bytes())]),
                  {"0000:09:00.0": expect([(0x40, PM), (0x50, MSI), (0x70, EXP)],
                                          [(0x100, AER, 2), (0x140, ACS, 1)],
                                          misaligned=(True, True))}))

    # 10. Several functions in one file, domain prefixes (4 and 5 digits), and a
    #     function without domain in the same file.
    f0, std0, chain0 = pcie_endpoint()
    f0.b[0x0E] = 0x80                        # multi-function
    f1 = Image(size=256, class_code=0x020000)
    f1.head(0x40)
    f1.std(0x40, MSIX, 0x00)
    f7 = Image(size=256, class_code=0x020000)  # no capability list
    g = Image(size=256, class_code=0x010802)
    g.head(0x48)
    g.std(0x48, PM, 0x60, 0x0003)
    g.std(0x60, MSI, 0x00)
    cases.append(("multi-function", "several functions, domain prefixes",
                  dump_text([("0001:0a:00.0", "Ethernet controller: fn 0", f0.bytes()),
                             ("0001:0a:00.1", "Ethernet controller: fn 1", f1.bytes()),
                             ("0001:0a:00.7", "Ethernet controller: fn 7", f7.bytes()),
                             ("10000:00:1f.3", "Non-Volatile memory controller: domain 10000",
                              g.bytes()),
                             ("0b:02.0", "Non-Volatile memory controller: no domain",
                              g.bytes())]),
                  {"0001:0a:00.0": expect(std0, chain0),
                   "0001:0a:00.1": expect([(0x40, MSIX)], ()),
                   "0001:0a:00.7": expect((), (), std_present=False),
                   "10000:00:1f.3": expect([(0x48, PM), (0x60, MSI)], ()),
                   "0000:0b:02.0": expect([(0x48, PM), (0x60, MSI)], ())}))

    # 11. A small topology: host bridge, a root port (type 1 header, ACS),
    #     below it a PF with SR-IOV enabled and two VFs (IDs read 0xffff).
    hb = Image(size=256, vendor=0x8086, device=0x0D57, class_code=0x060000)
    rp, rp_std, rp_ext = root_port()
    pf, pf_std, pf_ext = sriov_pf()
    vfs = []
    for fn in (1, 2):
        v = Image(size=4096, vendor=0xFFFF, device=0xFFFF, class_code=0x020000)
        v.w8(0x3D, 0)                        # VFs have no INTx (SR-IOV 1.1 §3.4.1.18)
        v.head(0x40)
        v.std(0x40, EXP, 0x60, 0x0002)
        v.w32(0x44, 0x10008000)              # FLR+
        v.std(0x60, MSIX, 0x00, 0x0003)
        v.ext(0x100, ARI, 1, 0x000)
        vfs.append(("01:00.%d" % fn, "Ethernet controller: VF %d" % fn, v.bytes()))
    ie = Image(size=4096, vendor=0x8086, device=0x9A09, class_code=0x088000)
    ie.head(0x40)
    ie.std(0x40, EXP, 0x70, 0x0092)          # PCIe v2, RC integrated endpoint (no link)
    ie.std(0x70, MSI, 0x80, 0x0000)
    ie.std(0x80, PM, 0x00, 0x0003)           # extended space: 0x100 reads 0 (empty list)
    cases.append(("topology", "host bridge, RC integrated endpoint, root port, SR-IOV PF "
                  "and two VFs",
                  dump_text([("00:00.0", "Host bridge: synthetic", hb.bytes()),
                             ("00:02.0", "System peripheral: RCiEP", ie.bytes()),
                             ("00:1c.0", "PCI bridge: root port", rp.bytes()),
                             ("01:00.0", "Ethernet controller: PF", pf.bytes())] + vfs),
                  {"0000:00:00.0": expect(),
                   "0000:00:02.0": expect([(0x40, EXP), (0x70, MSI), (0x80, PM)], ()),
                   "0000:00:1c.0": expect(rp_std, rp_ext),
                   "0000:01:00.0": expect(pf_std, pf_ext),
                   "0000:01:00.1": expect([(0x40, EXP), (0x60, MSIX)], [(0x100, ARI, 1)]),
                   "0000:01:00.2": expect([(0x40, EXP), (0x60, MSIX)], [(0x100, ARI, 1)])}))

    # 12. A CardBus bridge (header type 2): its Capabilities Pointer is at 0x14
    #     (PCI_CB_CAPABILITY_LIST, what lspci reads); 0x34 is CardBus Memory
    #     Base 0 there, here holding bits that look like a pointer to an MSI.
    cb = Image(size=256, vendor=0x104C, device=0xAC56, class_code=0x060700, header_type=0x02)
    cb.w16(0x06, 0x0010)
    cb.b[0x14] = 0xA0
    cb.std(0xA0, PM, 0x00, 0x0002)
    cb.b[0x34] = 0x40
    cb.std(0x40, MSI, 0x00)
    cases.append(("cardbus", "CardBus bridge: capability pointer at 0x14",
                  dump_text([("02:00.0", "CardBus bridge: synthetic", cb.bytes())]),
                  {"0000:02:00.0": expect([(0xA0, PM)], ())}))

    # 13. A dump cut at 128 bytes (e.g. an edited file): the list runs beyond the data.
    m = Image(size=256)
    m.head(0x40)
    m.std(0x40, PM, 0x90, 0x0003)
    m.std(0x90, MSI, 0x00)
    cases.append(("short", "a 128-byte dump whose list continues past the data",
                  dump_text([("0c:00.0", "Ethernet controller: 128 bytes", m.bytes(128))]),
                  {"0000:0c:00.0": expect([(0x40, PM)], (), std_readable=False,
                                          ext_readable=False,
                                          std_defect=("beyond the bytes read", 0x90, 0x41))}))
    return cases


# Inputs that are not dumps: hqio must exit 1 with a message.
BAD_INPUTS = [
    ("empty", ""),
    ("no-device", "this is not an lspci dump\n"),
    ("data-before-device", "00: 86 80 57 0d\n"),
    ("offset-too-big", "00:01.0 x\n1000: 00 11\n"),
    ("bad-byte", "00:01.0 x\n00: 86 8\n"),
    ("bad-bdf", "00:20.0 x\n00: 86 80\n"),
]

# ---------------------------------------------------------------------------
# Checks.
# ---------------------------------------------------------------------------


def caps_of(hdev, key, ext):
    lst = hdev.get(key, {}).get("list", [])
    if ext:
        return [(c["offset"], c["id"], c.get("version")) for c in lst]
    return [(c["offset"], c["id"]) for c in lst]


def check_truth(hdev, exp, where):
    """hqio's report against the ground truth a case was built with."""
    errs = []
    dec = hdev.get("decode", {})
    if (dec.get("ok") is True) != (dec.get("error") is None) or \
            (dec.get("error") is not None and not str(dec.get("error")).strip()):
        errs.append("%s: decode.ok and decode.error disagree: %r" % (where, dec))
    if exp["error_has"]:
        if dec.get("ok") is not False or exp["error_has"] not in (dec.get("error") or ""):
            errs.append("%s: decode should fail with an error naming %r, got %r"
                        % (where, exp["error_has"], dec))
    elif exp["std_defect"] is None and exp["ext_defect"] is None:
        if dec.get("ok") is not True or dec.get("error") is not None:
            errs.append("%s: decode should succeed, got %r" % (where, dec))
    if not exp["decoded"]:
        if "capabilities" in hdev:
            errs.append("%s: an undecodable image should have no capability lists" % where)
        return errs
    for key, ext, tag in (("capabilities", False, "std"), ("extended_capabilities", True, "ext")):
        obj = hdev.get(key)
        if not isinstance(obj, dict):
            errs.append("%s: no %s object" % (where, key))
            continue
        got = caps_of(hdev, key, ext)
        if got != exp[tag]:
            errs.append("%s: %s list %s, expected %s" % (
                where, key, [tuple(hex(v) for v in c) for c in got],
                [tuple(hex(v) for v in c) for c in exp[tag]]))
        want = exp[tag + "_defect"]
        d = obj.get("defect")
        if want is None:
            if d is not None:
                errs.append("%s: %s reports defect %r, expected none" % (where, key, d))
        elif d is None or (d.get("kind"), d.get("pointer"), d.get("at")) != want:
            errs.append("%s: %s defect %r, expected kind %r pointer 0x%x at 0x%x"
                        % (where, key, d, want[0], want[1], want[2]))
        for field, want_v in (("readable", exp[tag + "_readable"]),
                              ("present", exp[tag + "_present"]),
                              ("misaligned_pointer", exp["misaligned"][1 if ext else 0])):
            if obj.get(field) is not want_v:
                errs.append("%s: %s.%s is %r, expected %r" % (where, key, field,
                                                              obj.get(field), want_v))
    # An unread standard list means hqio cannot know whether the function is
    # PCI Express, so it cannot know that the extended list is absent.
    std, ext = hdev.get("capabilities", {}), hdev.get("extended_capabilities", {})
    if std.get("readable") is False and ext.get("readable") is not False and \
            not any("extended_capabilities.readable" in e for e in errs):
        errs.append("%s: capabilities.readable is false, yet extended_capabilities claims "
                    "readable=%r present=%r (absent) although it was never read"
                    % (where, ext.get("readable"), ext.get("present")))
    return errs


def run_hqio(ck, hqio, path, what):
    """hqio inspect --dump path --json: (doc or None)."""
    p = ls.run([hqio, "inspect", "--dump", path, "--json"])
    if not ck.check(p.returncode in (0, 1), "%s: hqio %s (must be 0 or 1); stderr: %s"
                    % (what, ls.describe_rc(p), p.stderr.strip()[-500:])):
        return None
    if not ck.check(p.returncode == 0, "%s: hqio exit code %d; stderr: %s"
                    % (what, p.returncode, p.stderr.strip())):
        return None
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        ck.check(False, "%s: hqio output is not JSON: %s" % (what, e))
        return None
    ck.check(doc.get("source") == "dump" and doc.get("dump_file") == path,
             "%s: source/dump_file are %r/%r" % (what, doc.get("source"), doc.get("dump_file")))
    # Text mode must work on the same dump and name every device.
    t = ls.run([hqio, "inspect", "--dump", path])
    missing = ls.text_mentions(t.stdout, [d["bdf"] for d in doc.get("devices", [])])
    ck.check(t.returncode == 0 and not missing, "%s: hqio text mode: %s, missing %s; stderr: %s"
             % (what, ls.describe_rc(t), missing, t.stderr.strip()))
    return doc


def compare_file(ck, hqio, path, what, truth=None):
    doc = run_hqio(ck, hqio, path, what)
    if doc is None:
        return None
    try:
        ldevs = ls.lspci_devices(["-F", path])
    except ls.LspciParseError as e:
        ck.check(False, "%s: %s" % (what, e))
        return doc
    hdevs = {d["bdf"]: d for d in doc.get("devices", [])}
    ck.check(sorted(hdevs) == sorted(ldevs), "%s: hqio lists %s, lspci lists %s"
             % (what, sorted(hdevs), sorted(ldevs)))
    if truth is not None:
        ck.check(sorted(truth) == sorted(hdevs), "%s: hqio lists %s, the dump holds %s"
                 % (what, sorted(hdevs), sorted(truth)))
    for bdf in sorted(hdevs):
        where = "%s %s" % (what, bdf)
        errs = []
        if bdf in ldevs:
            errs += ls.compare_device(hdevs[bdf], ldevs[bdf], where)
        if truth is not None and bdf in truth:
            errs += check_truth(hdevs[bdf], truth[bdf], where)
        if truth is None and "capabilities" in hdevs[bdf]:
            errs += check_truth(hdevs[bdf], machine_truth(hdevs[bdf]), where)
        nstd = len(hdevs[bdf].get("capabilities", {}).get("list", []))
        next_ = len(hdevs[bdf].get("extended_capabilities", {}).get("list", []))
        ck.extend(errs, "%s: %d standard, %d extended capabilities agree with lspci"
                  % (where, nstd, next_))
    return doc


def machine_truth(hdev):
    """For dumps of this machine there is no independent truth beyond lspci;
    only the invariants of check_truth() apply (lists as hqio reports them)."""
    caps, ext = hdev["capabilities"], hdev["extended_capabilities"]
    return {"std": caps_of(hdev, "capabilities", False),
            "ext": caps_of(hdev, "extended_capabilities", True),
            "std_defect": caps["defect"] and (caps["defect"]["kind"], caps["defect"]["pointer"],
                                              caps["defect"]["at"]),
            "ext_defect": ext["defect"] and (ext["defect"]["kind"], ext["defect"]["pointer"],
                                             ext["defect"]["at"]),
            "std_readable": caps["readable"], "ext_readable": ext["readable"],
            "std_present": caps["present"], "ext_present": ext["present"],
            "misaligned": (caps["misaligned_pointer"], ext["misaligned_pointer"]),
            "decoded": True, "error_has": None if hdev["decode"]["ok"] else ""}


def machine_dumps(ck, hqio, tmp):
    for opt, size in (("-xxxx", 4096), ("-xxx", 256), ("-x", 64)):
        path = os.path.join(tmp, "machine%s.txt" % opt)
        p = ls.run(["lspci", opt])
        if not ck.check(p.returncode == 0 and p.stdout.strip(),
                        "lspci %s: %s; stderr: %s" % (opt, ls.describe_rc(p), p.stderr.strip())):
            continue
        with open(path, "w") as f:
            f.write(p.stdout)
        doc = compare_file(ck, hqio, path, "lspci %s dump" % opt)
        if doc is None:
            continue
        if opt == "-x":
            for d in doc.get("devices", []):
                if d.get("status", {}).get("capabilities_list"):
                    ck.check(d["capabilities"]["readable"] is False,
                             "lspci -x dump %s: 64 bytes but capabilities.readable is %r"
                             % (d["bdf"], d["capabilities"]["readable"]))
        if os.geteuid() == 0:
            for d in doc.get("devices", []):
                ck.check(d.get("config_bytes_read") in (size, 256, 64),
                         "lspci %s dump %s: config_bytes_read %r" % (opt, d["bdf"],
                                                                     d.get("config_bytes_read")))


def bad_inputs(ck, hqio, tmp):
    for name, text in BAD_INPUTS:
        path = os.path.join(tmp, "bad-%s.txt" % name)
        with open(path, "w") as f:
            f.write(text)
        for extra in ([], ["--json"]):
            p = ls.run([hqio, "inspect", "--dump", path] + extra)
            ck.extend([] if p.returncode == 1 and p.stderr.startswith("hqio inspect: ") and
                      p.stdout == "" else
                      ["bad input %r%s: expected exit code 1, a message and no output; got %s, "
                       "stdout %r, stderr %r" % (name, " --json" if extra else "",
                                                 ls.describe_rc(p), p.stdout[:200],
                                                 p.stderr.strip()[:300])],
                      "bad input %r%s refused: %s" % (name, " --json" if extra else "",
                                                      p.stderr.strip()))
    p = ls.run([hqio, "inspect", "--dump", os.path.join(tmp, "does-not-exist")])
    ck.check(p.returncode == 1 and "does-not-exist" in p.stderr,
             "missing dump file: %s, stderr %r" % (ls.describe_rc(p), p.stderr))


def main(argv):
    if len(argv) != 2:
        print("usage: %s PATH-TO-HQIO" % argv[0], file=sys.stderr)
        return 2
    hqio = os.path.abspath(argv[1])
    if not shutil.which("lspci"):
        print("SKIP: lspci not found (Debian package pciutils)")
        return SKIP
    ck = ls.Checker()
    tmp = tempfile.mkdtemp(prefix="hqio-dump-")
    try:
        if os.path.isdir(ls.SYSFS_PCI) and os.listdir(ls.SYSFS_PCI):
            machine_dumps(ck, hqio, tmp)
        else:
            print("note: no PCI devices in %s: machine dumps skipped" % ls.SYSFS_PCI)
        for name, desc, text, truth in synthetic_cases():
            path = os.path.join(tmp, "case-%s.txt" % name)
            with open(path, "w") as f:
                f.write(text)
            print("case %s: %s" % (name, desc))
            compare_file(ck, hqio, path, "case %s" % name, truth)
        bad_inputs(ck, hqio, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ck.finish("check_lspci_dump")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
