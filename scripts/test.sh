#!/usr/bin/env bash
# hqio's test suite, as `make test` runs it:
#   1. normal build + every ctest (unit tests and lspci comparisons)
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build + every ctest
#   3. libFuzzer targets, each for a bounded time (FUZZ_SECONDS)
# Exits non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

stage() { printf '\n==== %s ====\n' "$*"; }
passed=0
# Run ctest in a build dir; add its count of passed tests to $passed.
run_ctest() {
	local dir=$1 log
	log=$(mktemp)
	shift
	if ! "$@" ctest --test-dir "$dir" --output-on-failure -j"$JOBS" 2>&1 | tee "$log"; then
		rm -f "$log"
		return 1
	fi
	local n
	n=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	rm -f "$log"
	[ -n "$n" ] || { echo "FAIL: ctest in $dir did not report its results"; return 1; }
	passed=$((passed + n))
}

stage "build (gcc)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$JOBS" >/dev/null
stage "tests (gcc)"
run_ctest build env

stage "build (ASan + UBSan)"
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DHQIO_SANITIZE=ON >/dev/null
cmake --build build-san -j"$JOBS" >/dev/null
stage "tests (ASan + UBSan)"
run_ctest build-san env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

stage "fuzz (libFuzzer, ${FUZZ_SECONDS}s per target)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHQIO_FUZZ=ON -DHQIO_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$JOBS" --target fuzz_decode fuzz_lspci fuzz_vpci fuzz_memtype_jsonl fuzz_dvh_scan >/dev/null
# Seeds, made at test time from this machine (never committed): real
# configuration images for the decoder, real lspci dumps for the parser.
seed_decode=build-fuzz/seeds/fuzz_decode
seed_lspci=build-fuzz/seeds/fuzz_lspci
mkdir -p "$seed_decode" "$seed_lspci"
for c in /sys/bus/pci/devices/*/config; do
	[ -r "$c" ] && cat "$c" >"$seed_decode/$(basename "$(dirname "$c")")" 2>/dev/null || true
done
if command -v lspci >/dev/null; then
	for x in -x -xxx -xxxx "-vvv -xxxx"; do
		lspci $x >"$seed_lspci/lspci$(echo $x | tr -d ' ')" 2>/dev/null || true
	done
fi
for t in fuzz_decode fuzz_lspci fuzz_vpci fuzz_memtype_jsonl fuzz_dvh_scan; do
	mkdir -p "build-fuzz/corpus/$t" "build-fuzz/seeds/$t"
	echo "fuzzing $t for ${FUZZ_SECONDS}s"
	if ! "build-fuzz/fuzz/$t" -max_total_time="$FUZZ_SECONDS" -max_len=8192 -print_final_stats=1 \
		-artifact_prefix="build-fuzz/$t-" "build-fuzz/corpus/$t" "build-fuzz/seeds/$t" \
		>"build-fuzz/$t.log" 2>&1; then
		tail -n 60 "build-fuzz/$t.log"
		echo "FAIL: $t found a crash (artifact in build-fuzz/)"
		exit 1
	fi
	grep -E "Done [0-9]+ runs" "build-fuzz/$t.log" | tail -n 1
	passed=$((passed + 1))
done
stage "test bed (QEMU VM, docs/testbed.md)"
python3 testbed/selftest.py >/dev/null || { python3 testbed/selftest.py; echo "FAIL: testbed/selftest.py"; exit 1; }
passed=$((passed + 1))
tb_log=$(mktemp)
if JOBS="$JOBS" bash testbed/run.sh 2>&1 | tee "$tb_log"; then tb_rc=0; else tb_rc=$?; fi
n=$(sed -n 's/^testbed: \([0-9]*\) passed,.*/\1/p' "$tb_log" | tail -n 1)
rm -f "$tb_log"
[ "$tb_rc" -eq 0 ] || { echo "FAIL: test bed (exit $tb_rc, see above)"; exit 1; }
passed=$((passed + ${n:-0}))

stage "all stages passed"
echo "hqio: $passed passed, 0 failed"
