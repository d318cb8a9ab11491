# Test group "monitor_bench": costs seen by the guest in hqio's monitor
# (docs/monitor.md), in TSC cycles of the nested guest (TCG: ratios only):
# BAR read through a memslot vs trapped (--trap-bars), configuration read
# through CF8/CFC vs ECAM, interrupt round trip: MSI through VFIO eventfd ->
# KVM irqfd, MSI through the monitor's user-space hop, INTx from host MSI.
# One boot; N samples per measurement; p50 and the ratios are printed as
# PASS details (a measurement that could not be taken FAILs). The QEMU peer
# is measured in monitor_peer.sh; scripts/bench-monitor.sh runs both over
# several boots.
. /lib/hqio-tb.sh
G=monitor_bench
N=300

B=$(tb_find_dev 0x1234 0x11e8 port) || { tb_fail $G/find "no edu behind a root port"; tb_end $G; exit 0; }
hqio run --probe >/dev/null 2>&1 || { tb_skip $G/kvm "KVM cannot run the monitor here"; tb_end $G; exit 0; }
hqio vfio bind "$B" >/dev/null 2>&1 || { tb_fail $G/bind "cannot bind $B"; tb_end $G; exit 0; }

# p50 FILE NAME: the median of GUEST BENCH NAME
p50() { sed -n "s/^GUEST BENCH $2 .* p50=\([0-9]*\) .*/\1/p" "$1" | head -n 1; }
line() { grep "^GUEST BENCH $2 " "$1" | sed 's/^GUEST BENCH //'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }

hqio run --assign "$B" --guest builtin --irq msi --cmdline "n=1 bench=$N" --timeout 150 --quiet >/dev/null 2>&1
hqio run --assign "$B" --guest builtin --irq msi --cmdline "n=1 bench=$N" --timeout 150 >msi.log 2>&1
hqio run --assign "$B" --guest builtin --irq msi --cmdline "n=1 bench=$N" --timeout 150 --msi-hop >hop.log 2>&1
hqio run --assign "$B" --guest builtin --irq intx --cmdline "n=1 bench=$N" --timeout 150 >intx.log 2>&1
brk=$(grep '^  INTx: line assert' intx.log | sed 's/^  //')
hqio run --assign "$B" --guest builtin --irq intx --cmdline "n=1 bench=$N" --timeout 150 --pin >intx-pin.log 2>&1
brkpin=$(grep '^  INTx: line assert' intx-pin.log | sed 's/^  //')
intxpin=$(p50 intx-pin.log irq-roundtrip-intx)
hqio run --assign "$B" --guest builtin --irq msi --cmdline "n=1 bench=$N" --timeout 150 --trap-bars >trap.log 2>&1
# INTx with the guest's trace port: the round trip split on the host clock
# (the two trace writes are port exits themselves, so this run is slower).
hqio run --assign "$B" --guest builtin --irq intx --cmdline "n=1 bench=$N trace=1" --timeout 150 >intx-trace.log 2>&1
steps=$(grep '^  INTx steps' intx-trace.log | sed 's/^  INTx steps (guest trace=1), //')
# Experiment: a pending EOI taken before each new host MSI.
hqio run --assign "$B" --guest builtin --irq intx --cmdline "n=1 bench=$N" --timeout 150 --eoi-first >intx-first.log 2>&1
intxfirst=$(p50 intx-first.log irq-roundtrip-intx)
hqio vfio release "$B" >/dev/null 2>&1

direct=$(p50 msi.log bar-read)
trapped=$(p50 trap.log bar-read)
cf8=$(p50 msi.log cfg-read-cf8)
ecam=$(p50 msi.log cfg-read-ecam)
msi=$(p50 msi.log irq-roundtrip-msi)
hop=$(p50 hop.log irq-roundtrip-msi)
intx=$(p50 intx.log irq-roundtrip-intx)
if [ -n "$direct" ] && [ -n "$trapped" ]; then
	tb_pass $G/bar-read "memslot p50 $direct, trapped p50 $trapped TSC: trapped/direct $(ratio "$trapped" "$direct")x [$(line msi.log bar-read)] [$(line trap.log bar-read)]"
else
	tb_fail $G/bar-read "no BAR read timings: $(tail -n 1 msi.log) / $(tail -n 1 trap.log)"
fi
if [ -n "$cf8" ] && [ -n "$ecam" ]; then
	tb_pass $G/cfg-read "CF8/CFC p50 $cf8, ECAM p50 $ecam TSC: ECAM/CF8 $(ratio "$ecam" "$cf8")x, config/direct BAR read $(ratio "$cf8" "$direct")x [$(line msi.log cfg-read-cf8)] [$(line msi.log cfg-read-ecam)]"
else
	tb_fail $G/cfg-read "no config timings"
fi
if [ -n "$msi" ] && [ -n "$intx" ]; then
	tb_pass $G/irq-roundtrip "MSI irqfd p50 $msi, MSI hop p50 $hop (hop/irqfd $(ratio "$hop" "$msi")x), INTx (from host MSI, resample) p50 $intx TSC: INTx/MSI $(ratio "$intx" "$msi")x; monitor: $brk; with --pin: INTx p50 $intxpin, $brkpin; traced steps: ${steps:-none}; with --eoi-first: INTx p50 ${intxfirst:-none} [$(line msi.log irq-roundtrip-msi)] [hop $(line hop.log irq-roundtrip-msi)] [$(line intx.log irq-roundtrip-intx)]"
else
	tb_fail $G/irq-roundtrip "no interrupt timings: $(tail -n 1 msi.log) / $(tail -n 1 intx.log)"
fi
tb_end $G
