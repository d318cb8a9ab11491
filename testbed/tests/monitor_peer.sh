# Test group "monitor_peer": the same test guest (guest/, `hqio run
# --extract-guest`) on the same edu in the same boot, under hqio's monitor
# and under QEMU's own vfio-pci with KVM (testbed.md: QEMU as the peer), in
# MSI and INTx mode; each guest timing (TSC p50) as an hqio/QEMU ratio.
# Needs qemu-system-x86_64 and its firmware in the VM (bios-256k.bin,
# multiboot_dma.bin, linuxboot_dma.bin, kvmvapic.bin in /usr/share/qemu or
# /usr/share/seabios): SKIPs without them.
. /lib/hqio-tb.sh
G=monitor_peer
N=300

Q=$(command -v qemu-system-x86_64) || { tb_skip $G/qemu "no qemu-system-x86_64 in the test-bed VM"; tb_end $G; exit 0; }
FW=""
for d in /usr/share/qemu /usr/share/seabios; do
	[ -f "$d/bios-256k.bin" ] && FW=$d
done
[ -n "$FW" ] || { tb_skip $G/qemu-firmware "no bios-256k.bin in the VM"; tb_end $G; exit 0; }
B=$(tb_find_dev 0x1234 0x11e8 port) || { tb_fail $G/find "no edu behind a root port"; tb_end $G; exit 0; }
hqio run --probe >/dev/null 2>&1 || { tb_skip $G/kvm "KVM cannot run the monitor here"; tb_end $G; exit 0; }
hqio run --extract-guest guest.elf >/dev/null || { tb_fail $G/guest "hqio run --extract-guest failed"; tb_end $G; exit 0; }
hqio vfio bind "$B" >/dev/null 2>&1 || { tb_fail $G/bind "cannot bind $B"; tb_end $G; exit 0; }

p50() { sed -n "s/^GUEST BENCH $2 .* p50=\([0-9]*\) .*/\1/p" "$1" | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# qemu_run MODE LOG: the guest under QEMU + KVM + vfio-pci (exit 33 = pass)
qemu_run() {
	timeout -s KILL 150 "$Q" -machine q35,accel=kvm,kernel-irqchip=on -cpu host -m 64M -smp 1 \
		-nodefaults -no-user-config -display none -monitor none -serial none -no-reboot \
		-L "$FW" -debugcon stdio -device isa-debug-exit,iobase=0xf4 -kernel guest.elf \
		-append "ecam=0xb0000000 irq=$1 n=20 bench=$N" -device "vfio-pci,host=$B" >"$2" 2>&1
}
for mode in msi intx; do
	qemu_run $mode q-$mode.log
	qrc=$?
	hqio run --assign "$B" --guest builtin --irq $mode --cmdline "n=20 bench=$N" --timeout 150 >h-$mode.log 2>&1
	hrc=$?
	if [ $qrc -ne 33 ] || [ $hrc -ne 0 ]; then
		tb_fail $G/$mode-runs "QEMU exit $qrc ($(grep -m1 FAIL q-$mode.log || tail -n 1 q-$mode.log)), hqio exit $hrc ($(grep -m1 FAIL h-$mode.log || tail -n 1 h-$mode.log))"
		continue
	fi
	tb_pass $G/$mode-runs "the guest passed under both monitors ($(grep -c 'RESULT.*PASS' q-$mode.log) checks under QEMU, $(grep -c 'RESULT.*PASS' h-$mode.log) under hqio)"
	detail=""
	for m in bar-read cfg-read-cf8 cfg-read-ecam irq-roundtrip-$mode; do
		h=$(p50 h-$mode.log $m)
		q=$(p50 q-$mode.log $m)
		detail="$detail $m hqio/QEMU $(ratio "$h" "$q") ($h/$q);"
	done
	tb_pass $G/$mode-ratios "N=$N p50 TSC:$detail [hqio $(grep "BENCH irq" h-$mode.log | cut -d' ' -f3-)] [QEMU $(grep "BENCH irq" q-$mode.log | cut -d' ' -f3-)]"
done
# The INTx-only path on both sides: hqio with --host-intx (VFIO INTx ->
# KVM irqfd with resample -> VFIO unmask, no user space) against QEMU's
# INTx run above (the same kernel path).
if [ -f q-intx.log ] && grep -q '^GUEST DONE' q-intx.log; then
	hqio run --assign "$B" --guest builtin --irq intx --host-intx --cmdline "n=20 bench=$N" \
		--timeout 150 >h-hostintx.log 2>&1
	hrc=$?
	h=$(p50 h-hostintx.log irq-roundtrip-intx)
	q=$(p50 q-intx.log irq-roundtrip-intx)
	if [ $hrc -eq 0 ] && [ -n "$h" ] && [ -n "$q" ]; then
		tb_pass $G/hostintx-ratios "N=$N p50 TSC: irq-roundtrip-intx hqio/QEMU $(ratio "$h" "$q") ($h/$q); [hqio --host-intx $(grep "BENCH irq" h-hostintx.log | cut -d' ' -f3-)] [QEMU $(grep "BENCH irq" q-intx.log | cut -d' ' -f3-)]"
	else
		tb_fail $G/hostintx-ratios "hqio --host-intx exit $hrc ($(grep -m1 FAIL h-hostintx.log || tail -n 1 h-hostintx.log)), p50 $h vs QEMU $q"
	fi
fi
hqio vfio release "$B" >/dev/null 2>&1
tb_end $G
