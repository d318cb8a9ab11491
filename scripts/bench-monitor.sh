#!/usr/bin/env bash
# scripts/bench-monitor.sh: the monitor's benchmarks of issue #20 over
# several test-bed boots (docs/monitor.md, "Measured"). Each boot runs the
# test-bed groups monitor_bench (hqio's own paths: BAR memslot vs trapped,
# CF8/CFC vs ECAM, MSI irqfd vs hop, INTx from host MSI with the monitor's
# assert -> EOI breakdown) and monitor_peer (the same guest binary under
# QEMU's vfio-pci with KVM in the same boot). Runs vary by about +-30 % from
# boot to boot, so per measurement it prints the median over the boots of
# the per-boot p50 ratio, with the number of boots, the guest samples per
# boot and the 10th/90th percentile of the per-boot ratios.
#
# usage: scripts/bench-monitor.sh            (BOOTS=5 by default)
#        BOOTS=7 scripts/bench-monitor.sh
# env:   BOOTS (>= 1), HQIO_BENCH_OUT (logs, default build-bench-monitor/),
#        HQIO_TB_CACHE / HQIO_TB_BUILD (passed to testbed/run.sh),
#        HQIO_SKIP_TESTBED=1 (skip, exit 0).
# exit:  0 every boot gave its numbers; 1 a boot or a measurement failed;
#        2 usage; 3 the test bed could not be set up.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BOOTS=${BOOTS:-5}
OUT=${HQIO_BENCH_OUT:-$ROOT/build-bench-monitor}

case "${1:-}" in
-h | --help)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
"") ;;
*)
	echo "bench-monitor: unexpected argument '$1' (--help)" >&2
	exit 2
	;;
esac
if ! [[ $BOOTS =~ ^[0-9]+$ ]] || [ "$BOOTS" -lt 1 ]; then
	echo "bench-monitor: BOOTS=$BOOTS: need a whole number >= 1" >&2
	exit 2
fi
if [ "${HQIO_SKIP_TESTBED:-0}" = 1 ]; then
	echo "bench-monitor: SKIPPED (HQIO_SKIP_TESTBED=1)"
	exit 0
fi
mkdir -p "$OUT"
rm -f "$OUT"/boot-*.log
failed=0
for i in $(seq 1 "$BOOTS"); do
	nb=()
	[ "$i" -gt 1 ] && nb=(--no-build)
	rc=0
	bash "$ROOT/testbed/run.sh" --tests monitor_bench,monitor_peer "${nb[@]}" \
		>"$OUT/boot-$i.log" 2>&1 || rc=$?
	echo "bench-monitor: boot $i/$BOOTS: $(grep -c 'PASS monitor_' "$OUT/boot-$i.log") passed, exit $rc"
	if [ "$rc" -eq 3 ]; then
		tail -n 3 "$OUT/boot-$i.log" >&2
		exit 3
	fi
	[ "$rc" -eq 0 ] || failed=1
done

python3 - "$OUT" "$BOOTS" <<'EOF' || failed=1
import re, statistics, sys

out, boots = sys.argv[1], int(sys.argv[2])
# measurement -> list of per-boot values; samples per boot
ratio = {}
samples = {}
breakdown = []


def add(name, value, n):
    if value is None:
        return
    ratio.setdefault(name, []).append(value)
    samples[name] = n


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


for i in range(1, boots + 1):
    try:
        text = open(f"{out}/boot-{i}.log", errors="replace").read()
    except OSError:
        continue
    for mode in ("msi", "intx"):
        m = re.search(rf"PASS monitor_peer/{mode}-ratios: N=(\d+) p50 TSC:(.*)", text)
        if not m:
            continue
        n = int(m.group(1))
        for name, r in re.findall(r"(\S+) hqio/QEMU ([0-9.]+|n/a) \(", m.group(2)):
            key = name if name.startswith("irq-") else f"{name}, {mode} guest"
            add(f"hqio/QEMU {key}", num(r), n)
    m = re.search(r"PASS monitor_peer/hostintx-ratios: N=(\d+) p50 TSC: irq-roundtrip-intx "
                  r"hqio/QEMU ([0-9.]+|n/a) \(", text)
    if m:
        add("hqio/QEMU irq-roundtrip-intx, host INTx both", num(m.group(2)), int(m.group(1)))
    m = re.search(r"PASS monitor_bench/bar-read: .*trapped/direct ([0-9.]+)x", text)
    if m:
        add("hqio trapped/memslot BAR read", num(m.group(1)), 300)
    m = re.search(r"PASS monitor_bench/cfg-read: .*ECAM/CF8 ([0-9.]+)x", text)
    if m:
        add("hqio ECAM/CF8 config read", num(m.group(1)), 300)
    m = re.search(r"PASS monitor_bench/irq-roundtrip: (.*)", text)
    if m:
        line = m.group(1)
        h = re.search(r"hop/irqfd ([0-9.]+)x", line)
        add("hqio MSI hop/irqfd round trip", num(h.group(1)) if h else None, 300)
        x = re.search(r"INTx/MSI ([0-9.]+)x", line)
        add("hqio INTx/MSI round trip", num(x.group(1)) if x else None, 300)
        b = re.search(r"monitor: INTx: line assert -> guest EOI seen: p10 (\d+) us, p50 (\d+) us, "
                      r"p90 (\d+) us", line)
        t = re.search(r"INTx \(from host MSI, resample\) p50 (\d+) TSC", line)
        st = re.search(r"traced steps: p50 us \(n\): (.*?) ?(?:;|\[)", line)
        if b:
            breakdown.append((i, int(b.group(2)), int(t.group(1)) if t else None,
                              st.group(1) if st else None))


def pct(v, p):
    s = sorted(v)
    return s[min(len(s) - 1, int(p * len(s)))]


print(f"\nbench-monitor: {boots} boot(s), logs in {out}")
print(f"{'measurement':44} {'median':>7} {'p10':>7} {'p90':>7}  boots  N/boot")
for name in sorted(ratio):
    v = ratio[name]
    print(f"{name:44} {statistics.median(v):7.2f} {pct(v, 0.1):7.2f} {pct(v, 0.9):7.2f}"
          f"  {len(v):5}  {samples[name]:6}")
if breakdown:
    print("\nINTx from host MSI, per boot (monitor_bench): the monitor's irqfd write that asserts")
    print("the guest's line -> the resample eventfd that reports the guest's EOI (p50):")
    for i, us, tsc, steps in breakdown:
        print(f"  boot {i}: assert -> EOI p50 {us} us; whole round trip p50 {tsc} guest TSC")
        if steps:
            print(f"          traced run (guest trace=1), p50 us (samples): {steps}")
need = ["hqio/QEMU irq-roundtrip-msi", "hqio/QEMU irq-roundtrip-intx"]
missing = [n for n in need if len(ratio.get(n, [])) == 0]
if missing:
    print("bench-monitor: no numbers for: " + ", ".join(missing), file=sys.stderr)
    sys.exit(1)
EOF
exit $failed
