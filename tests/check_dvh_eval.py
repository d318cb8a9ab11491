#!/usr/bin/env python3
"""Evaluate `hqio dvh-scan` on real Linux drivers (docs/dvh.md, "Evaluation").

Fetches Debian's linux-source tree (scripts/fetch-linux-source.sh; exit 77 =
skip when it cannot be had), scans the evaluation drivers and joins the
findings with two label sets:
  tests/dvh/precision.tsv  every finding labeled TP/FP by reading it;
  tests/dvh/recall.tsv     holes found by reading the drivers, independently
                           of the scanner (used when present).
Fails when a finding has no label or a label no finding (stale), when overall
precision < 0.8, or (with recall.tsv) when overall recall < 0.7.

usage: check_dvh_eval.py HQIO_BINARY [--print-findings]
"""
import collections
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRECISION = os.path.join(ROOT, "tests", "dvh", "precision.tsv")
RECALL = os.path.join(ROOT, "tests", "dvh", "recall.tsv")
PRECISION_MIN = 0.8  # issue 17 target
RECALL_MIN = 0.7  # issue 17 target

# The evaluation drivers (tree-relative globs): the list plus drivers
# expected to be clean (virtio, ahci, xhci).
EVAL_GLOBS = [
    "drivers/net/ethernet/intel/e1000e",
    "drivers/net/ethernet/intel/igb",
    "drivers/net/ethernet/intel/ixgbe",
    "drivers/net/ethernet/realtek/r8169*",
    "drivers/net/ethernet/broadcom/tg3.[ch]",
    "drivers/net/ethernet/broadcom/bnx2x",
    "drivers/gpu/drm/i915",
    "drivers/gpu/drm/radeon",
    "drivers/gpu/drm/amd/amdgpu",
    "drivers/gpu/drm/nouveau",
    "sound/pci/hda",
    "drivers/nvme",
    "drivers/virtio",
    "drivers/ata/ahci*",
    "drivers/ata/libahci.c",
    "drivers/usb/host/xhci*",
    # Paths where the recall labels' whole-tree searches found holes: the
    # readers of tests/dvh/recall.tsv also searched the whole tree and
    # labeled holes in these files, which the list above never scanned (so
    # they counted as misses the scanner had no chance to find). The list is
    # the one recall.tsv's header names (docs/dvh.md, "Why the scan set
    # grew"); their findings are labeled in precision.tsv like all others.
    "drivers/char/agp/intel-gtt.c",  # i915's GMCH helper
    "drivers/gpu/drm/ttm",
    "drivers/gpu/drm/drm_gem_shmem_helper.c",
    "drivers/gpu/drm/gma500",
    "drivers/net/ethernet/sis",
    "drivers/net/ethernet/sun/niu.c",
    "drivers/net/ethernet/atheros/alx",
    "drivers/net/ethernet/huawei/hinic",
    "drivers/net/ethernet/broadcom/bnx2.c",
]

RULES = ["cfg-mirror", "msix-backdoor", "func-number", "bdf-identity", "bar-addr-to-device",
         "foreign-cfg", "chipset-mmio", "raw-cfg-io", "nosnoop", "memtype"]


def read_tsv(path):
    """Rows of a TSV label file as dicts: '#' lines skipped; a first row
    naming 'rule' is the header, otherwise columns are rule, file, function,
    pattern, label, reason."""
    rows, header = [], None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = [c.strip() for c in line.split("\t")]
            if header is None and cols and cols[0].lower() == "rule":
                header = [c.lower() for c in cols]
                continue
            names = header or ["rule", "file", "function", "pattern", "label", "reason"]
            row = dict(zip(names, cols))
            row["_line"] = n
            rows.append(row)
    return rows


def norm_file(p):
    p = p.strip().lstrip("./")
    for top in ("drivers/", "sound/"):
        k = p.find(top)
        if k > 0:
            p = p[k:]
    return p


def norm_func(f):
    return f.strip().rstrip("()").strip()


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    hqio = os.path.abspath(sys.argv[1])
    fetch = subprocess.run([os.path.join(ROOT, "scripts", "fetch-linux-source.sh")],
                           capture_output=True, text=True)
    if fetch.returncode != 0 or not fetch.stdout.strip():
        print("SKIP: linux-source tree not available: " +
              (fetch.stderr.strip().splitlines() or ["fetch failed"])[-1])
        return 77
    tree = fetch.stdout.strip().splitlines()[-1]
    paths = []
    for g in EVAL_GLOBS:
        hits = sorted(glob.glob(os.path.join(tree, g)))
        if not hits:
            print(f"FAIL: evaluation path {g} missing in {tree}")
            return 1
        paths += [os.path.relpath(h, tree) for h in hits]
    scan = subprocess.run([hqio, "dvh-scan", "--json", "--jobs", "2"] + paths, cwd=tree,
                          capture_output=True, text=True)
    if scan.returncode != 0:
        print(f"FAIL: hqio dvh-scan exited {scan.returncode}: {scan.stderr.strip()[:500]}")
        return 1
    doc = json.loads(scan.stdout)
    findings = doc["findings"]
    print(f"scanned {doc['files_scanned']} files, {doc['lines_scanned']} lines: "
          f"{len(findings)} findings")
    if "--print-findings" in sys.argv:
        for f in findings:
            print("\t".join([f["rule"], f["file"], f["function"], f["expression"]]))

    ok = True
    # Precision: every finding labeled, every label still found.
    labels = {}
    for r in read_tsv(PRECISION):
        key = (r.get("rule", ""), norm_file(r.get("file", "")), norm_func(r.get("function", "")),
               r.get("pattern", ""))
        if r.get("label") not in ("TP", "FP"):
            print(f"FAIL: precision.tsv:{r['_line']}: label must be TP or FP")
            ok = False
        labels[key] = r
    seen = set()
    tp = collections.Counter()
    fp = collections.Counter()
    for f in findings:
        key = (f["rule"], norm_file(f["file"]), f["function"], f["expression"])
        r = labels.get(key)
        if r is None:
            print(f"FAIL: unlabeled finding {f['file']}:{f['line']}: {f['rule']}: "
                  f"{f['expression']} in {f['function']}()")
            ok = False
            continue
        seen.add(key)
        (tp if r["label"] == "TP" else fp)[f["rule"]] += 1
    for key, r in labels.items():
        if key not in seen:
            print(f"FAIL: stale label precision.tsv:{r['_line']}: {' '.join(key)} "
                  "(no such finding any more)")
            ok = False

    # Recall against the independent label set, when it exists.
    recall_rows = read_tsv(RECALL) if os.path.exists(RECALL) else None
    found = collections.Counter()
    total = collections.Counter()
    if recall_rows is not None:
        # Lenient on spelling, strict on meaning: rule ids compared without
        # case/underscore differences, files by path suffix (either side may be
        # written relative to another root), functions without "()".
        def same_file(x, y):
            return x == y or x.endswith("/" + y) or y.endswith("/" + x)

        by_rule = collections.defaultdict(list)
        for f in findings:
            by_rule[f["rule"]].append((norm_file(f["file"]), f["function"]))
        for r in recall_rows:
            rule = r.get("rule", "").strip().lower().replace("_", "-")
            file = norm_file(r.get("file", ""))
            func = norm_func(r.get("function", ""))
            total[rule] += 1
            hit = any(same_file(ff, file) and (not func or fn == func)
                      for ff, fn in by_rule.get(rule, []))
            if hit:
                found[rule] += 1
            elif "--print-misses" in sys.argv:
                print(f"  missed: {rule} {file} {func} {r.get('pattern', '')}")

    print(f"{'rule':20s} {'findings':>8s} {'TP':>4s} {'FP':>4s} {'precision':>9s}"
          f" {'holes':>6s} {'found':>6s} {'recall':>6s}")
    for rule in RULES + sorted(set(total) - set(RULES)):
        n = tp[rule] + fp[rule]
        prec = f"{tp[rule] / n:.2f}" if n else "-"
        rec = f"{found[rule] / total[rule]:.2f}" if total[rule] else "-"
        hol = str(total[rule]) if recall_rows is not None else "-"
        fnd = str(found[rule]) if recall_rows is not None else "-"
        print(f"{rule:20s} {n:8d} {tp[rule]:4d} {fp[rule]:4d} {prec:>9s} {hol:>6s} {fnd:>6s}"
              f" {rec:>6s}")
    ntp, nfp = sum(tp.values()), sum(fp.values())
    precision = ntp / (ntp + nfp) if ntp + nfp else 1.0
    print(f"overall precision {precision:.3f} ({ntp} TP, {nfp} FP; target >= {PRECISION_MIN})")
    if precision < PRECISION_MIN:
        print("FAIL: precision below target")
        ok = False
    if recall_rows is None:
        print("recall: tests/dvh/recall.tsv not present yet, not measured")
    else:
        nt = sum(total.values())
        recall = sum(found.values()) / nt if nt else 1.0
        print(f"overall recall {recall:.3f} ({sum(found.values())} of {nt} labeled holes; "
              f"target >= {RECALL_MIN})")
        if recall < RECALL_MIN:
            print("FAIL: recall below target")
            ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
