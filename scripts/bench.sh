#!/usr/bin/env bash
# make bench: every benchmark's own timing (medians of repeated runs), then
# instructions per operation counted by callgrind where valgrind exists:
# Ir(2N ops) - Ir(N ops) divided by N, so set-up costs cancel out.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}/bench
for b in "$B"/bench_*; do
	[ -x "$b" ] || continue
	"$b"
	echo
done
if ! command -v valgrind >/dev/null; then
	echo "instructions/op: valgrind not installed (apt-get install valgrind); skipped"
	exit 0
fi
ir() { # binary op count -> total instructions
	local out
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" "$1" --op "$2" --count "$3" \
		>/dev/null 2>&1
	awk '/^summary:/ {print $2}' "$out"
	rm -f "$out"
}
echo "instructions per operation (callgrind, Ir(2N) - Ir(N) over N):"
while read -r bin op n; do
	[ -x "$B/$bin" ] || continue
	a=$(ir "$B/$bin" "$op" "$n")
	c=$(ir "$B/$bin" "$op" $((2 * n)))
	[ -n "$a" ] && [ -n "$c" ] || { echo "  $op: callgrind failed"; continue; }
	echo "  ${op}_instructions_per_op $(( (c - a) / n ))"
done <<'LIST'
bench_decode decode_pcie_4k 2000
bench_decode decode_conventional_256 2000
bench_engine event 200000
bench_vpci vpci_read_mixed 20000
bench_vpci vpci_write_command 20000
bench_irq irq_translate 200000
bench_memtype mtrr_lookup 20000
bench_memtype shadow 20000
bench_audio audio_s 60
bench_audio mixed_ms 200
LIST
