#!/usr/bin/env bash
# The plots of docs/audio.md, from `hqio sim audio` output (gnuplot -> SVG):
#   fill-default.svg  ring fill level over 10 s, each scheduler, 1:16, mpg123 defaults
#   fill-125ms.svg    the same with a 125 ms buffer (4 periods of 1378 frames)
#   underruns.svg     underruns/s per scheduler, 1:16 and 1:1, 125 ms buffer, with the
#                     reference numbers
#   latency-cdf.svg   interrupt-to-run latency CDF per scheduler, 1:16
#   sweep-period.svg, sweep-buffer.svg, sweep-cost.svg  underruns/s in the sweeps
# Usage: scripts/plot-audio.sh [hqio binary] (default: ${BUILD:-build}/tools/hqio).
# Needs gnuplot (Debian: gnuplot-nox). Deterministic: fixed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
HQIO=${1:-${BUILD:-build}/tools/hqio}
OUT=docs/audio
SECS=${SECS:-600}     # table and CDF runs: 10 simulated minutes
SWEEP_SECS=${SWEEP_SECS:-120}
command -v gnuplot >/dev/null || { echo "plot-audio: gnuplot not installed" >&2; exit 1; }
[ -x "$HQIO" ] || { echo "plot-audio: no hqio binary at $HQIO" >&2; exit 1; }
mkdir -p "$OUT"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SCHEDS="credit credit-1ms rt rtds"
SMALL="--period-frames 1378 --periods 4"
TERM_SVG="set terminal svg size 900,640 dynamic font 'sans,11' background rgb 'white'"

for s in $SCHEDS; do
	"$HQIO" sim audio --sched "$s" --weights 1:16 --seconds 30 --seed 1 --trace >"$T/fill-default-$s.dat"
	"$HQIO" sim audio --sched "$s" --weights 1:16 --seconds 30 --seed 1 $SMALL --trace \
		>"$T/fill-125ms-$s.dat"
	"$HQIO" sim audio --sched "$s" --weights 1:16 --seconds "$SECS" --seed 1 --cdf \
		>"$T/cdf-$s.dat"
done
"$HQIO" sim audio --table --seconds "$SECS" --seed 1 $SMALL >"$T/table-125ms.txt"
for w in period buffer cost; do
	"$HQIO" sim audio --sweep "$w" --seconds "$SWEEP_SECS" --seed 1 >"$T/sweep-$w.dat"
done

fill_plot() { # name title
	{
		echo "$TERM_SVG"
		echo "set output '$OUT/fill-$1.svg'"
		echo "set multiplot layout 4,1 title '$2'"
		echo "set xrange [10:20]; set yrange [0:*]; set ylabel 'fill (ms)'; set grid"
		echo "set key top left opaque box"
		for s in $SCHEDS; do
			[ "$s" = rtds ] && echo "set xlabel 'simulated time (s)'"
			echo "plot '$T/fill-$1-$s.dat' using 1:2 with steps lw 1.5 title '$s'"
		done
		echo "unset multiplot"
	} | gnuplot
}
fill_plot default "Ring fill level, weights 1:16, mpg123 defaults (4 x 5512 frames, 500 ms)"
fill_plot 125ms "Ring fill level, weights 1:16, 125 ms buffer (4 x 1378 frames)"

# underruns/s per scheduler from the table (columns: weights sched underruns/s reference ...)
awk '$1 ~ /^1:/ { r = ($4 ~ /^[0-9.]+$/) ? $4 : "NaN"; print $1, $2, $3, r }' \
	"$T/table-125ms.txt" >"$T/bars.dat"
gnuplot <<EOF
$TERM_SVG
set output '$OUT/underruns.svg'
set title 'Underruns per second, 125 ms buffer, 600 simulated s per bar (reference: Xen 2009, 1:16)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel 'underruns/s'
set yrange [0:*]
set grid ytics
plot '< grep "^1:16" $T/bars.dat' using 3:xtic(2) title 'hqio sim, 1:16', \
     '' using 4 title 'reference, 1:16', \
     '< grep "^1:1 " $T/bars.dat' using 3 title 'hqio sim, 1:1'
EOF

{
	echo "$TERM_SVG"
	echo "set output '$OUT/latency-cdf.svg'"
	echo "set title 'Interrupt-to-run latency CDF, weights 1:16, mpg123 defaults, 600 simulated s'"
	echo "set logscale x; set xrange [0.1:*]; set yrange [0:1.02]; set grid"
	echo "set xlabel 'latency (us; 0 plotted at 0.1)'; set ylabel 'fraction of interrupts'"
	echo "set key bottom right"
	printf "plot "
	sep=""
	for s in $SCHEDS; do
		printf "%s'%s' using (\$1 < 0.1 ? 0.1 : \$1):2 with steps lw 2 title '%s'" "$sep" \
			"$T/cdf-$s.dat" "$s"
		sep=", "
	done
	echo
} | gnuplot

sweep_plot() { # what xlabel logx
	{
		echo "$TERM_SVG"
		echo "set output '$OUT/sweep-$1.svg'"
		echo "set title 'Underruns/s vs $2, weights 1:16, $SWEEP_SECS simulated s per point'"
		echo "set xlabel '$2'; set ylabel 'underruns/s'; set grid; set key top right; set yrange [0:1<*]"
		[ "$3" = log ] && echo "set logscale x"
		echo "plot for [c=2:5] '$T/sweep-$1.dat' using 1:c with linespoints lw 2 title columnheader(c)"
	} | gnuplot
}
sweep_plot period "period (frames; buffer kept at 22048 frames)" log
sweep_plot buffer "buffer (frames; 4 periods)" log
sweep_plot cost "decode cost (% of playback time)" log

cp "$T/table-125ms.txt" "$OUT/table-125ms.txt"
for w in period buffer cost; do cp "$T/sweep-$w.dat" "$OUT/sweep-$w.txt"; done
echo "plot-audio: wrote $(ls "$OUT" | tr '\n' ' ')"
