#!/usr/bin/env bash
# Timing of `hqio dvh-scan` on real driver trees from Debian's linux-source
# package (scripts/fetch-linux-source.sh): files, lines, seconds (median of
# RUNS runs), findings, for drivers/net/ethernet/intel and drivers/gpu/drm/i915
# (issue 17), then the whole of drivers/net/ethernet + drivers/gpu/drm.
#
#   BUILD=build scripts/bench-dvh.sh        (env: RUNS=3 JOBS=2)
# Prints a skip line and exits 0 when the source package cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
HQIO=$(pwd)/${BUILD:-build}/tools/hqio
RUNS=${RUNS:-3}
JOBS=${JOBS:-2}
[ -x "$HQIO" ] || { echo "bench-dvh: $HQIO not built"; exit 1; }
if ! tree=$(scripts/fetch-linux-source.sh 2>/tmp/bench-dvh.$$); then
	echo "bench-dvh: skipped, linux-source not available: $(tail -n 1 /tmp/bench-dvh.$$)"
	rm -f /tmp/bench-dvh.$$
	exit 0
fi
rm -f /tmp/bench-dvh.$$
tree=$(echo "$tree" | tail -n 1)
echo "hqio dvh-scan on $(basename "$tree") (--jobs $JOBS, median of $RUNS runs):"
printf '  %-44s %6s %9s %8s %8s\n' tree files lines seconds findings
bench() { # label paths...
	local label=$1
	shift
	local times=() summary=""
	for _ in $(seq "$RUNS"); do
		local t0 t1
		t0=$(date +%s.%N)
		summary=$(cd "$tree" && "$HQIO" dvh-scan --jobs "$JOBS" "$@" 2>&1 >/dev/null | tail -n 1)
		t1=$(date +%s.%N)
		times+=("$(echo "$t1 - $t0" | bc -l)")
	done
	local med
	med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	# summary: "hqio dvh-scan: F files, L lines, N findings, U unreadable"
	local files lines finds
	files=$(echo "$summary" | sed -n 's/.*: \([0-9]*\) files.*/\1/p')
	lines=$(echo "$summary" | sed -n 's/.* \([0-9]*\) lines.*/\1/p')
	finds=$(echo "$summary" | sed -n 's/.* \([0-9]*\) findings.*/\1/p')
	printf '  %-44s %6s %9s %8.2f %8s\n' "$label" "$files" "$lines" "$med" "$finds"
}
bench drivers/net/ethernet/intel drivers/net/ethernet/intel
bench drivers/gpu/drm/i915 drivers/gpu/drm/i915
bench "drivers/net/ethernet + drivers/gpu/drm" drivers/net/ethernet drivers/gpu/drm
