#!/usr/bin/env python3
"""ctest: the DVH recall labels (tests/dvh/recall.tsv) still point at real
lines of Debian's current linux-source: every row's file exists, its function
is defined there, and its pattern occurs inside that function. Catches label
rot when Debian moves to a new point release. Skips (77) with the reason when
the source package cannot be fetched."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
r = subprocess.run([os.path.join(root, "scripts", "fetch-linux-source.sh")],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
if r.returncode != 0:
    print("SKIP: linux-source not available:", r.stderr.strip())
    sys.exit(77)
tree = r.stdout.strip().splitlines()[-1]
v = subprocess.run([sys.executable, os.path.join(here, "dvh", "validate_labels.py"),
                    os.path.join(here, "dvh", "recall.tsv"), tree,
                    os.path.join(root, "docs", "dvh-rules.md")],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
bad = [l for l in v.stdout.splitlines() if not l.startswith("OK\t")]
print("\n".join(bad))
sys.exit(v.returncode)
