#!/usr/bin/env python3
"""check_memtype_cli: `hqio memtype --batch` (JSON lines) and the human mode.

Valid lines are checked against values written here from the manuals, not
from lib/memtype: the Intel SDM vol. 3 §11.5.2.2 table 11-7 (effective type
for Pentium III and later), the PAT power-on value and index selection
(§11.12.3-4, tables 11-11/11-12), MTRR lookup rules (§11.11.2.2, §11.11.4.1),
KVM 6.1's vmx_get_mt_mask (EPT) and SVM policy (NPT, AMD APM vol. 2
§15.25.8). Malformed lines (not JSON, missing fields, unknown type names,
huge numbers, deeply nested arrays, ...) must each give one {"error": ...}
line without stopping the batch; the exit status is 1 when any line failed,
0 otherwise, 2 for wrong arguments, never a signal. docs/memtype.md
describes the format.

usage: check_memtype_cli.py PATH-TO-HQIO
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hqio_check import Checks, cli_status, hqio_arg  # noqa: E402

ck = Checks()
check = ck.check
failures = ck.failures


def run(hqio, *args, stdin=None, binary=False):
    return ck.run([hqio, "memtype", *args], timeout=60, text=False,
                  input=stdin if binary or stdin is None else stdin.encode(), ok=cli_status,
                  what=lambda rc: "hqio memtype %s: exit %d (a signal?)" % (" ".join(args), rc))


def batch(hqio, lines, want_rc=None, raw=None):
    """Run the lines (objects are JSON-encoded, strings sent as they are);
    returns the output objects, one per non-blank input line."""
    if raw is None:
        text = "".join((json.dumps(l) if not isinstance(l, str) else l) + "\n" for l in lines)
        data = text.encode()
    else:
        data = raw
    p = run(hqio, "--batch", stdin=data, binary=True)
    if want_rc is not None:
        check(p.returncode == want_rc, "batch exit %d, expected %d: %r" %
              (p.returncode, want_rc, p.stderr[:200]))
    out = []
    try:
        text = p.stdout.decode("utf-8")
    except UnicodeDecodeError:
        failures.append("batch output is not UTF-8: %r" % p.stdout[:200])
        return out
    for ln in text.splitlines():
        try:
            out.append(json.loads(ln))
        except ValueError:
            failures.append("output line is not JSON: %r" % ln[:200])
            out.append(None)
    return out


# ---------------------------------------------------------------- the manuals

# SDM vol. 3 table 11-7: EFFECTIVE[mtrr][pat].
EFFECTIVE = {
    "UC": {"UC": "UC", "UC-": "UC", "WC": "WC", "WT": "UC", "WB": "UC", "WP": "UC"},
    "WC": {"UC": "UC", "UC-": "WC", "WC": "WC", "WT": "UC", "WB": "WC", "WP": "UC"},
    "WT": {"UC": "UC", "UC-": "UC", "WC": "WC", "WT": "WT", "WB": "WT", "WP": "WP"},
    "WP": {"UC": "UC", "UC-": "WC", "WC": "WC", "WT": "WT", "WB": "WP", "WP": "WP"},
    "WB": {"UC": "UC", "UC-": "UC", "WC": "WC", "WT": "WT", "WB": "WB", "WP": "WP"},
}
PAT_TYPES = ["UC", "WC", "WT", "WP", "WB", "UC-"]
# SDM table 11-12, PAT power-on: PA0..PA7.
PAT_POWER_ON = ["WB", "WT", "UC-", "UC", "WB", "WT", "UC-", "UC"]
# Linux (arch/x86/mm/pat/memtype.c).
PAT_LINUX = ["WB", "WC", "UC-", "UC", "WB", "WP", "UC-", "WT"]
ENC = {"UC": 0, "WC": 1, "WT": 4, "WP": 5, "WB": 6, "UC-": 7}


def test_effective(hqio):
    lines, want = [], []
    for m, row in EFFECTIVE.items():
        for p, t in row.items():
            lines.append({"op": "effective", "mtrr": m, "pat": p, "id": "%s/%s" % (m, p)})
            want.append(t)
    out = batch(hqio, lines, want_rc=0)
    check(len(out) == len(lines), "effective: %d outputs for %d lines" % (len(out), len(lines)))
    for o, l, t in zip(out, lines, want):
        check(o == {"id": l["id"], "op": "effective", "type": t},
              "effective %s: %r, expected %s" % (l["id"], o, t))
    # Case-insensitive names (documented), and the human mode.
    out = batch(hqio, [{"op": "effective", "mtrr": "wb", "pat": "uc-"}], want_rc=0)
    check(out and out[0].get("type") == "UC", "lower-case names: %r" % out)
    for m, p, t in (("WB", "WC", "WC"), ("WP", "UC-", "WC"), ("WC", "WB", "WC")):
        r = run(hqio, "effective", m, p)
        check(r.returncode == 0 and r.stdout.decode().strip() == t,
              "hqio memtype effective %s %s: %r" % (m, p, r.stdout))
    r = run(hqio, "table")
    text = r.stdout.decode()
    check(r.returncode == 0 and "WB" in text, "table: exit %d" % r.returncode)
    for m, row in EFFECTIVE.items():
        got = [ln.split() for ln in text.splitlines() if ln.split()[:1] == [m]]
        check(len(got) == 1 and got[0][1:] == [row[p] for p in PAT_TYPES],
              "table row %s: %r" % (m, got))


def pte_bits(index, large):
    bits = (0x8 if index & 1 else 0) | (0x10 if index & 2 else 0)
    if index & 4:
        bits |= 0x1000 if large else 0x80
    return bits


def test_shadow(hqio):
    # (guest_mtrr, guest_pat, host_mtrr, host_pat, page_size) -> (guest
    # effective, pat_index, host_effective, exact). Rule (lib/memtype, the
    # 2009 design): an entry of the guest's effective type, else the lowest
    # index that gives it over the host MTRR, else UC (first UC entry).
    cases = [
        ("WB", "UC", "WB", None, 4096, "UC", 3, "UC", True),
        ("WB", "WB", "WB", None, 4096, "WB", 0, "WB", True),
        ("WB", "WT", "WB", None, 2097152, "WT", 1, "WT", True),
        ("WB", "UC-", "WB", None, 4096, "UC", 3, "UC", True),
        ("WB", "WC", "WB", None, 4096, "WC", 3, "UC", False),  # no WC entry at power-on
        ("WB", "WC", "WB", PAT_LINUX, 4096, "WC", 1, "WC", True),
        ("WB", "WP", "WB", PAT_LINUX, 4096, "WP", 5, "WP", True),
        ("WB", "WP", "WB", PAT_LINUX, 2097152, "WP", 5, "WP", True),
        ("WB", "WP", "WB", PAT_LINUX, 1073741824, "WP", 5, "WP", True),
        ("WB", "WT", "WB", PAT_LINUX, 4096, "WT", 7, "WT", True),
        ("WC", "WC", "WC", None, 4096, "WC", 0, "WC", True),  # WB entry over MTRR WC
        ("WB", "WB", "UC", None, 4096, "WB", 3, "UC", False),
        ("UC", "WB", "WB", None, 4096, "UC", 3, "UC", True),
    ]
    lines = []
    for gm, gp, hm, hp, ps, *_ in cases:
        l = {"op": "shadow", "guest_mtrr": gm, "guest_pat": gp, "host_mtrr": hm, "page_size": ps}
        if hp:
            l["host_pat"] = hp
        lines.append(l)
    out = batch(hqio, lines, want_rc=0)
    check(len(out) == len(cases), "shadow: %d outputs" % len(out))
    for o, c in zip(out, cases):
        gm, gp, hm, hp, ps, ge, idx, he, exact = c
        if not o:
            continue
        pat = hp or PAT_POWER_ON
        bits = pte_bits(idx, ps != 4096)
        want = {"guest_effective": ge, "pat_index": idx, "host_effective": he, "exact": exact,
                "host_pat_type": pat[idx]}
        got = {k: o.get(k) for k in want}
        check(got == want, "shadow %r: %r, expected %r" % (c, got, want))
        pte = o.get("pte", {})
        check(pte.get("pwt") == bool(idx & 1) and pte.get("pcd") == bool(idx & 2) and
              pte.get("pat") == bool(idx & 4) and pte.get("bits") == hex(bits),
              "shadow %r: pte %r, expected bits %#x" % (c, pte, bits))
        msr = sum(ENC[t] << (8 * i) for i, t in enumerate(pat))
        check(o.get("host_pat") == hex(msr), "shadow %r: host_pat %r" % (c, o.get("host_pat")))
        check(isinstance(o.get("reason"), str) and o["reason"], "shadow reason")
    # Raw MSR value instead of names.
    msr = sum(ENC[t] << (8 * i) for i, t in enumerate(PAT_LINUX))
    out = batch(hqio, [{"op": "shadow", "guest_mtrr": "WB", "guest_pat": "WC",
                        "host_mtrr": "WB", "host_pat": hex(msr)}], want_rc=0)
    check(out and out[0].get("pat_index") == 1, "shadow with a raw host_pat: %r" % out)
    r = run(hqio, "shadow", "WB", "UC", "WB")
    check(r.returncode == 0 and b"host PAT entry   3 (UC)" in r.stdout, "human shadow: %r" %
          r.stdout)


def test_pat_index(hqio):
    lines = []
    for i in range(8):
        lines.append({"op": "pat_index", "pat": bool(i & 4), "pcd": (i >> 1) & 1,
                      "pwt": bool(i & 1)})
    lines.append({"op": "pat_index", "pat": 0, "pcd": 0, "pwt": 1, "pat_msr": PAT_LINUX})
    out = batch(hqio, lines, want_rc=0)
    for i, o in enumerate(out[:8]):
        check(o and o.get("index") == i and o.get("type") == PAT_POWER_ON[i],
              "pat_index %d: %r" % (i, o))
    check(len(out) == 9 and out[8].get("type") == "WC", "pat_index with pat_msr: %r" % out[8:])


DEF_E, DEF_FE = 1 << 11, 1 << 10


def var(base, size, t, phys_bits=36):
    mask = ((1 << phys_bits) - 1) & ~(size - 1) & ~0xfff
    return {"base": hex(base | ENC[t]), "mask": hex(mask | (1 << 11))}


def test_mtrr_lookup(hqio):
    fixed = [0x0606060606060606] * 11
    fixed[3] = 0x0505050505050505  # 0xC0000-0xC7FFF: WP
    wb = DEF_E | DEF_FE | ENC["WB"]
    G = 1 << 30
    cases = [
        # disabled: UC whatever the ranges
        ({"def_type": ENC["WB"], "addr": 0x1000}, "UC", True, "disabled"),
        # fixed ranges with FE, and with FE clear (variable/default apply)
        ({"def_type": wb, "fixed": fixed, "addr": 0xC0000, "len": 0x1000}, "WP", True, "fixed"),
        ({"def_type": DEF_E | ENC["UC"], "fixed": fixed, "addr": 0xC0000}, "UC", True,
         "default"),
        # one variable range, default elsewhere
        ({"def_type": wb, "var": [var(2 * G, G, "UC")], "addr": 2 * G + 0x1000}, "UC", True,
         "variable"),
        ({"def_type": wb, "var": [var(2 * G, G, "UC")], "addr": G}, "WB", True, "default"),
        # overlaps: UC wins; WT with WB gives WT
        ({"def_type": wb, "var": [var(0, 4 * G, "WB"), var(G, G, "UC")], "addr": G + 0x2000},
         "UC", True, "variable"),
        ({"def_type": wb, "var": [var(0, 4 * G, "WB"), var(G, G, "WT")], "addr": G}, "WT", True,
         "variable"),
        # straddling the end of a range: not uniform, run to the boundary
        ({"def_type": wb, "var": [var(2 * G, G, "UC")], "addr": 2 * G - 0x1000, "len": 0x2000},
         "WB", False, "default"),
    ]
    lines = [dict(op="mtrr_lookup", **c[0]) for c in cases]
    out = batch(hqio, lines, want_rc=0)
    check(len(out) == len(cases), "mtrr_lookup: %d outputs" % len(out))
    for o, c in zip(out, cases):
        if not o:
            continue
        check((o.get("type"), o.get("uniform"), o.get("source")) == c[1:],
              "mtrr_lookup %r: %r, expected %r" % (c[0], o, c[1:]))
    check(out[-1].get("run_len") == 0x1000, "straddle run_len: %r" % out[-1])
    # Undefined overlap (WC with WT): Linux UC, KVM WB, Xen the last pair.
    ov = {"def_type": wb, "var": [var(G, G, "WC"), var(G, G, "WT")], "addr": G}
    out = batch(hqio, [dict(op="mtrr_lookup", **ov),
                       dict(op="mtrr_lookup", undef="WB", **ov),
                       dict(op="mtrr_lookup", undef="last", **ov)], want_rc=0)
    check([o.get("type") for o in out] == ["UC", "WB", "WT"], "undefined overlap: %r" % out)
    check(all(o.get("undefined_overlap") for o in out), "undefined_overlap flag: %r" % out)


def test_ept_npt(hqio):
    # KVM 6.1 vmx_get_mt_mask.
    cases = [
        ({"guest_pat": "UC"}, "WB", True, "WB"),  # no non-coherent DMA: WB + IPAT
        ({"guest_pat": "UC", "noncoherent_dma": True}, "WB", False, "UC"),
        ({"guest_pat": "WC", "noncoherent_dma": True}, "WB", False, "WC"),
        ({"guest_pat": "WB", "guest_mtrr": "UC", "noncoherent_dma": True}, "UC", False, "UC"),
        ({"guest_pat": "WC", "is_mmio": True}, "UC", False, "WC"),
        ({"guest_pat": "UC", "noncoherent_dma": True, "guest_cd": True}, "WB", True, "WB"),
        ({"guest_pat": "UC", "noncoherent_dma": True, "guest_cd": True,
          "quirk_cd_nw_cleared": False}, "UC", True, "UC"),
    ]
    out = batch(hqio, [dict(op="ept", **c[0]) for c in cases], want_rc=0)
    for o, c in zip(out, cases):
        got = (o.get("ept_type"), o.get("ipat"), o.get("type")) if o else None
        check(got == c[1:], "ept %r: %r, expected %r" % (c[0], got, c[1:]))
    check(out[0].get("matches_guest_intent") is False and out[1].get("coherent") is True,
          "ept verdicts: %r" % out[:2])
    # Architecture: EPT type with IPAT, or combined with the guest PAT.
    arch = [({"ept_type": "WB", "ipat": True, "guest_pat": "UC"}, "WB"),
            ({"ept_type": "WB", "ipat": False, "guest_pat": "UC"}, "UC"),
            ({"ept_type": "UC", "ipat": False, "guest_pat": "WC"}, "WC")]
    out = batch(hqio, [dict(op="ept", **a[0]) for a in arch], want_rc=0)
    check([o.get("type") for o in out] == [a[1] for a in arch], "ept arch: %r" % out)
    # KVM 6.1 SVM: nested PAT index 0 (WB), guest PAT applies, NC irrelevant.
    for nc in (False, True):
        out = batch(hqio, [{"op": "npt", "guest_pat": t, "noncoherent_dma": nc}
                           for t in ("UC", "WC", "WB", "WT")], want_rc=0)
        check([o.get("type") for o in out] == ["UC", "WC", "WB", "WT"],
              "npt nc=%s: %r" % (nc, out))
        check(all(o.get("nested_pat_type") == "WB" for o in out), "npt nested WB: %r" % out)
    out = batch(hqio, [{"op": "npt", "guest_pat": "WB", "nested_pat": "WB", "host_mtrr": "UC"}],
                want_rc=0)
    check(out and out[0].get("type") == "UC", "npt arch with host MTRR UC: %r" % out)


def test_malformed(hqio):
    bad = [
        "not json",
        "{",
        '{"op": "effective", "mtrr": "WB", "pat": "UC"',
        "[1, 2]",
        '"string"',
        "{}",
        '{"op": 5}',
        '{"op": "frobnicate"}',
        '{"op": "effective", "pat": "UC"}',
        '{"op": "effective", "mtrr": "WB"}',
        '{"op": "effective", "mtrr": "XB", "pat": "UC"}',
        '{"op": "effective", "mtrr": "UC-", "pat": "UC"}',
        '{"op": "effective", "mtrr": 6, "pat": "UC"}',
        '{"op": "effective", "mtrr": "WB", "pat": "UC", "bogus": 1}',
        '{"op": "effective", "mtrr": "WB", "mtrr": "UC", "pat": "UC"}',
        '{"op": "shadow", "guest_mtrr": "WB", "guest_pat": "UC", "host_mtrr": "WB", '
        '"host_pat": ["WB"]}',
        '{"op": "shadow", "guest_mtrr": "WB", "guest_pat": "UC", "host_mtrr": "WB", '
        '"host_pat": "0x0202020202020202"}',
        '{"op": "shadow", "guest_mtrr": "WB", "guest_pat": "UC", "host_mtrr": "WB", '
        '"page_size": 8192}',
        '{"op": "pat_index", "pat": 2, "pcd": 0, "pwt": 0}',
        '{"op": "pat_index", "pcd": 0, "pwt": 0}',
        '{"op": "mtrr_lookup", "def_type": 18446744073709551616, "addr": 0}',
        '{"op": "mtrr_lookup", "def_type": 99999999999999999999999999999999999, "addr": 0}',
        '{"op": "mtrr_lookup", "def_type": -1, "addr": 0}',
        '{"op": "mtrr_lookup", "def_type": 1.5, "addr": 0}',
        '{"op": "mtrr_lookup", "def_type": 1e3, "addr": 0}',
        '{"op": "mtrr_lookup", "def_type": "0x1ffffffffffffffff", "addr": 0}',
        '{"op": "mtrr_lookup", "def_type": 3072, "addr": 0, "fixed": [1, 2]}',
        '{"op": "mtrr_lookup", "def_type": 3074, "addr": 4294967296}',  # reserved type 2
        '{"op": "mtrr_lookup", "def_type": 3078, "addr": 18446744073709551615, "len": 2}',
        '{"op": "mtrr_lookup", "def_type": 3078, "addr": 0, "var": [{"base": 0}]}',
        '{"op": "mtrr_lookup", "def_type": 3078, "addr": 0, "phys_bits": 64}',
        '{"op": "effective", "a": ' + "[" * 100 + "]" * 100 + "}",
        '{"op": "effective", "a": ' + "[" * 100000 + "}",
        '{"op": "effective", "a": [[[1]]]}',
        '{"op": "effective", "mtrr": "W\\u0000B", "pat": "UC"}',
        '{"op": "effective", "mtrr": "\\ud800", "pat": "UC"}',
        '{"op": "effective", "mtrr": "WB", "pat": "UC"} trailing',
        '{"op": "effective", "mtrr": "WB", "pat": "UC", "id": [1]}',
        '{"op": "ept", "guest_pat": "UC", "noncoherent_dma": "yes"}',
        '{"op": "npt", "guest_pat": "UC", "nested_pat_index": 8}',
        '{"op": "effective", "mtrr": "WB", "pat": "' + "x" * 10000 + '"}',
        '{' + ", ".join('"k%d": 1' % i for i in range(100)) + "}",
        '{"op": "effective", "a": [' + ", ".join(["1"] * 1000) + "]}",
    ]
    good = {"op": "effective", "mtrr": "WB", "pat": "WC", "id": "good"}
    lines = []
    for b in bad:
        lines.append(b)
        lines.append(good)
    out = batch(hqio, lines, want_rc=1)
    check(len(out) == len(lines), "malformed: %d outputs for %d lines" % (len(out), len(lines)))
    for i, b in enumerate(bad):
        if 2 * i + 1 >= len(out):
            break
        o, g = out[2 * i], out[2 * i + 1]
        check(isinstance(o, dict) and isinstance(o.get("error"), str) and o["error"],
              "malformed line %r: %r" % (b[:80], o))
        check(g == {"id": "good", "op": "effective", "type": "WC"},
              "line after %r: %r" % (b[:80], g))
    # Bytes that are not text: NUL, invalid UTF-8, a line over 64 KiB, no
    # final newline, CRLF, blank lines (skipped).
    raw = (b'{"op": "effective", "mtrr": "WB", "pat": "UC"\x00}\n'
           b'{"op": "effective", "mtrr": "\xff\xfe", "pat": "UC"}\n'
           b'{"op": "effective", "id": "' + b"y" * 70000 + b'"}\n'
           b"\n   \n"
           b'{"op": "effective", "mtrr": "WB", "pat": "UC"}\r\n'
           b'{"op": "effective", "mtrr": "WT", "pat": "WB"}')
    out = batch(hqio, None, want_rc=1, raw=raw)
    check(len(out) == 5, "raw lines: %d outputs, expected 5: %r" % (len(out), out))
    if len(out) == 5:
        check(all("error" in o for o in out[:3]), "raw bad lines: %r" % out[:3])
        check(out[3].get("type") == "UC" and out[4].get("type") == "WT",
              "CRLF and unterminated last line: %r" % out[3:])
    # An empty batch succeeds; all-valid exits 0 (checked above).
    out = batch(hqio, [], want_rc=0)
    check(out == [], "empty batch: %r" % out)


def test_args(hqio):
    r = run(hqio, "--help")
    check(r.returncode == 0 and b"--batch" in r.stdout, "--help: %d" % r.returncode)
    for args in ([], ["effective", "WB"], ["effective", "XX", "UC"], ["nope"],
                 ["--batch", "a", "b"], ["shadow", "WB", "UC", "WB", "0x02"]):
        r = run(hqio, *args)
        check(r.returncode == 2, "hqio memtype %s: exit %d, expected 2" % (args, r.returncode))
    r = run(hqio, "--batch", "/nonexistent/memtype.jsonl")
    check(r.returncode == 1 and r.stderr, "--batch on a missing file: exit %d" % r.returncode)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "in.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps({"op": "effective", "mtrr": "WC", "pat": "UC-"}) + "\n")
        r = run(hqio, "--batch", path)
        check(r.returncode == 0 and json.loads(r.stdout) == {"op": "effective", "type": "WC"},
              "--batch FILE: %r" % r.stdout)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    hqio = sys.argv[1]
    for t in (test_effective, test_shadow, test_pat_index, test_mtrr_lookup, test_ept_npt,
              test_malformed, test_args):
        t(hqio)
    return ck.finish("%d checks, %d failures" % (ck.count, len(failures)))


if __name__ == "__main__":
    sys.exit(main())
