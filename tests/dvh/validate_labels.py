#!/usr/bin/env python3
"""Validate tests/dvh/recall.tsv against a linux-source tree.
usage: validate.py RECALL.TSV TREE_ROOT [RULES.md]  -> prints problems, exit 1 if any."""
import re, sys, os
tsv, root = sys.argv[1], sys.argv[2]
rules_md = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(tsv), '../../docs/dvh-rules.md')
rules = set(re.findall(r'^\| `([a-z-]+)` \|', open(rules_md).read(), re.M))
def body(lines, fn):
    """(start, end) 0-based line range of the definition of fn, or None."""
    pat = re.compile(r'^(?:[A-Za-z_][^;=(]*[\s*])?' + re.escape(fn) + r'\s*\(')
    for i, l in enumerate(lines):
        cont = i > 0 and re.match(r'^\s+' + re.escape(fn) + r'\s*\(', l) and \
            re.match(r'^[A-Za-z_].*\*\s*$', lines[i - 1])
        if not (pat.match(l) or cont) or l.rstrip().endswith(';'):
            continue
        j = i
        while j < len(lines) and '{' not in lines[j]:
            if lines[j].rstrip().endswith(';'): break
            j += 1
        if j >= len(lines) or '{' not in lines[j]: continue
        depth = 0
        for k in range(j, len(lines)):
            s = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'|//.*', '', lines[k])
            depth += s.count('{') - s.count('}')
            if depth == 0: return (i, k)
    return None
bad = 0; seen = set(); out = []
for n, ln in enumerate(open(tsv), 1):
    ln = ln.rstrip('\n')
    if not ln or ln.startswith('#') or ln.startswith('rule\t'): continue
    f = ln.split('\t')
    def err(m):
        global bad; bad += 1; print(f'{tsv}:{n}: {m}')
    if len(f) != 5: err(f'{len(f)} fields'); continue
    rule, path, fn, pat, note = f
    if rule not in rules: err(f'unknown rule {rule}')
    if (rule, path, fn, pat) in seen: err('duplicate row')
    seen.add((rule, path, fn, pat))
    full = os.path.join(root, path)
    if not os.path.isfile(full): err(f'no file {path}'); continue
    lines = open(full, errors='replace').read().split('\n')
    rng = body(lines, fn)
    if rng is None: err(f'function {fn} not defined in {path}'); continue
    hits = [k + 1 for k in range(rng[0], rng[1] + 1) if pat in lines[k]]
    if not hits: err(f'pattern {pat!r} not inside {fn}'); continue
    out.append((rule, path, fn, hits, note))
for rule, path, fn, hits, note in out:
    print(f'OK\t{rule}\t{path}:{hits[0]}' + (f' (+{",".join(map(str, hits[1:]))})' if len(hits) > 1 else '') + f'\t{fn}')
print(f'{len(out)} rows ok, {bad} problems', file=sys.stderr)
sys.exit(1 if bad else 0)
