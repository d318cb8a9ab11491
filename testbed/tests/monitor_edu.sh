# Test group "monitor_edu": hqio's KVM/VFIO monitor (vmm/, `hqio run`,
# docs/monitor.md) runs its built-in test guest (guest/) on the edu device
# behind a root port, in nested KVM: MSI through irqfd, MSI through the
# user-space hop, INTx (emulated from host MSI), two negative controls and a
# run after reclaim; per run the guest's own checks, then the
# monitor's counters (exits, config accesses, interrupts, IOMMU faults,
# reset and host BARs) against the acceptance of issue #20.
. /lib/hqio-tb.sh
G=monitor_edu
N=50 # interrupts per guest interrupt check

jget() { tb_jget "$1" "$2"; }

B=$(tb_find_dev 0x1234 0x11e8 port) || { tb_fail $G/find "no edu behind a root port"; tb_end $G; exit 0; }
if ! out=$(hqio run --probe 2>&1); then
	tb_fail $G/kvm-probe "$out"
	tb_end $G
	exit 0
fi
tb_pass $G/kvm-probe "$out"
tb_check $G/bind "$B to vfio-pci" -- hqio vfio bind "$B"
cfg_before=$(od -An -tx1 -N64 "/sys/bus/pci/devices/$B/config" | tr -d ' \n')

# run NAME IRQ CMDLINE: one monitor run; the guest's RESULT lines become
# NAME-<check> lines of this group.
# $EXTRA: more hqio run options.
run() {
	_n=$1 _irq=$2
	shift 2
	# shellcheck disable=SC2086 # EXTRA is a word list
	hqio run --assign "$B" --guest builtin --irq "$_irq" --cmdline "$*" --timeout 150 \
		--json $EXTRA >"$_n.json" 2>"$_n.log"
	tb_guest_results $G "$_n" $?
}

# counters NAME: the monitor's side of the acceptance for one run.
counters() {
	_j=$1.json
	io_cfg=$(jget "$_j" io_config)
	cf8=$(jget "$_j" cf8_cfc)
	ecam_exits=$(jget "$_j" mmio_ecam)
	ecam=$(jget "$_j" ecam)
	trapped=$(jget "$_j" mmio_bar_trapped)
	slots=$(jget "$_j" memslots)
	if [ -n "$cf8" ] && [ "$cf8" -gt 0 ] && [ "$io_cfg" -eq $((2 * cf8)) ]; then
		tb_pass $G/$1-cf8-two-exits "$cf8 config accesses through CF8/CFC took $io_cfg port exits"
	else
		tb_fail $G/$1-cf8-two-exits "config accesses $cf8, port exits $io_cfg"
	fi
	if [ -n "$ecam" ] && [ "$ecam" -gt 0 ] && [ "$ecam_exits" -eq "$ecam" ]; then
		tb_pass $G/$1-ecam-one-exit "$ecam config accesses through ECAM took $ecam_exits MMIO exits"
	else
		tb_fail $G/$1-ecam-one-exit "ECAM accesses $ecam, MMIO exits $ecam_exits"
	fi
	if [ "$trapped" = 0 ] && [ -n "$slots" ] && [ "$slots" -ge 1 ] && grep -q 'ident PASS' "$1.log"; then
		tb_pass $G/$1-bar-zero-exits "BAR0 in memslots: 0 MMIO exits for the guest's BAR accesses (KVM debugfs: $(jget "$_j" total_exits) exits in the kernel, $(jget "$_j" mmio_exits) MMIO, $(jget "$_j" io_exits) port, $(jget "$_j" halt_exits) halt, $(jget "$_j" irq_injections) injections)"
	else
		tb_fail $G/$1-bar-zero-exits "trapped BAR MMIO exits $trapped, memslots $slots"
	fi
	if [ "$(jget "$_j" assign_verified)" = true ]; then
		tb_pass $G/$1-assign-verified "lib/reset plan '$(jget "$_j" reset_plan)'; before the guest: $(jget "$_j" assign_detail)"
	else
		tb_fail $G/$1-assign-verified "plan '$(jget "$_j" reset_plan)': $(jget "$_j" assign_detail)"
	fi
	if [ "$(jget "$_j" host_bars_unchanged)" = true ] && [ "$(jget "$_j" reset)" = true ] &&
		[ "$(jget "$_j" memory_released)" = true ] && [ "$(jget "$_j" quarantined)" = false ]; then
		tb_pass $G/$1-reclaim "hqio_reclaim: $(jget "$_j" reset_detail), then guest RAM released; host BAR0 $(jget "$_j" host_bar0_before) unchanged (guest had it at $(jget "$_j" guest_bar0))"
	else
		tb_fail $G/$1-reclaim "reset $(jget "$_j" reset) ($(jget "$_j" reset_detail)); memory released $(jget "$_j" memory_released), quarantined $(jget "$_j" quarantined); host BAR0 $(jget "$_j" host_bar0_before) -> $(jget "$_j" host_bar0_after)"
	fi
}

run msi msi "n=$N dmaout=0x8000000"
counters msi
faults=$(jget msi.json iommu_faults)
addr=$(jget msi.json first_fault_addr)
if [ -n "$faults" ] && [ "$faults" -ge 1 ] && [ "$addr" = 0x8000000 ]; then
	tb_pass $G/msi-dma-outside-blocked "the guest's DMA to 0x8000000 (outside its RAM) was blocked by the IOMMU: $faults fault line(s) in the kernel log"
else
	tb_fail $G/msi-dma-outside-blocked "IOMMU faults $faults, first address $addr; $(dmesg | grep -i dmar | tail -n 1)"
fi
hostirq=$(jget msi.json host_proc_interrupts)
if [ "$(jget msi.json msi_fast_path)" = true ] && [ "$(jget msi.json irqfd_attaches)" -ge 1 ] &&
	[ "$(jget msi.json msi_signaled)" = 0 ]; then
	tb_pass $G/msi-irqfd-fast-path "$(jget msi.json msi_path_detail); host vfio interrupts $hostirq, KVM_SIGNAL_MSI 0, lib/irq saw $(jget msi.json host) (fallback $(jget msi.json fallback_to_hop)); KVM VFIO group added $(jget msi.json kvm_vfio_group_added)"
else
	tb_fail $G/msi-irqfd-fast-path "fast path $(jget msi.json msi_fast_path): $(jget msi.json msi_path_detail); attaches $(jget msi.json irqfd_attaches), KVM_SIGNAL_MSI $(jget msi.json msi_signaled)"
fi

# The same MSI guest through the user-space hop (lib/irq + KVM_SIGNAL_MSI).
EXTRA=--msi-hop run hop msi "n=$N"
h=$(jget hop.json host)
if [ -n "$h" ] && [ "$h" -gt 0 ] && [ "$(jget hop.json delivered)" = "$h" ] &&
	[ "$(jget hop.json msi_signaled)" = "$h" ] && [ "$(jget hop.json host_proc_interrupts)" = "$h" ]; then
	tb_pass $G/hop-interrupts "user-space hop: $h host MSIs (/proc/interrupts $(jget hop.json host_proc_interrupts)) -> $h KVM_SIGNAL_MSI, coalesced $(jget hop.json coalesced), spurious $(jget hop.json spurious)"
else
	tb_fail $G/hop-interrupts "host $h, /proc/interrupts $(jget hop.json host_proc_interrupts), delivered $(jget hop.json delivered), KVM_SIGNAL_MSI $(jget hop.json msi_signaled)"
fi

run intx intx "n=$N"
counters intx
d=$(jget intx.json delivered)
e=$(jget intx.json guest_eois)
if [ -n "$d" ] && [ "$d" -gt 0 ] && [ "$d" = "$e" ]; then
	tb_pass $G/intx-deassert-at-eoi "$d assertions of the guest's INTx line, $e de-asserted at the guest's EOI; latched $(jget intx.json latched), re-asserted $(jget intx.json reasserted)"
else
	tb_fail $G/intx-deassert-at-eoi "assertions $d, EOIs $e, latched $(jget intx.json latched), re-asserted $(jget intx.json reasserted)"
fi

if [ "$(jget intx.json iommu_faults)" = 0 ]; then
	tb_pass $G/intx-no-stray-fault "control: no IOMMU fault reported for the run without a stray DMA"
else
	tb_fail $G/intx-no-stray-fault "$(jget intx.json iommu_faults) IOMMU faults reported for a run without a stray DMA"
fi

# Negative control of the EOI accounting: a guest handler without EOI must
# leave the line asserted (no resample), and the guest must see it fail.
hqio run --assign "$B" --guest builtin --irq intx --cmdline "n=3 timeout=400 fault=no-eoi" \
	--timeout 60 --json >noeoi.json 2>noeoi.log
d=$(jget noeoi.json delivered)
e=$(jget noeoi.json guest_eois)
if grep -q 'factorial-irq FAIL' noeoi.log && [ "$e" = 0 ] && [ -n "$d" ] && [ "$d" -ge 1 ]; then
	tb_pass $G/control-no-eoi "guest handler without EOI: $d assertion(s), $e de-assertions, the guest's factorial-irq FAILs"
else
	tb_fail $G/control-no-eoi "no-EOI guest: assertions $d, EOIs $e, $(grep 'factorial-irq' noeoi.log)"
fi

# Negative control of the zero-exit check: without BAR memslots the same
# guest's BAR accesses all exit to the monitor (and still work).
EXTRA=--trap-bars run trapped msi "n=5"
t=$(jget trapped.json mmio_bar_trapped)
if [ -n "$t" ] && [ "$t" -gt 0 ] && [ "$(jget trapped.json memslots)" = 0 ]; then
	tb_pass $G/control-trap-bars "--trap-bars: $t BAR accesses exited to the monitor (emulated through lib/vpci), 0 memslots"
else
	tb_fail $G/control-trap-bars "--trap-bars: trapped exits $t, memslots $(jget trapped.json memslots)"
fi

run again msi "n=5"
i1=$(grep '^GUEST INITIAL' msi.log)
i3=$(grep '^GUEST INITIAL' again.log)
if [ -n "$i1" ] && [ "$i1" = "$i3" ]; then
	tb_pass $G/second-run-initial-state "after reclaim the guest finds the same configuration: ${i3#GUEST INITIAL }"
else
	tb_fail $G/second-run-initial-state "first run: '${i1#GUEST INITIAL }', after reclaim: '${i3#GUEST INITIAL }'"
fi

# What edu itself keeps across the resets (its registers, not its
# configuration space): the first run's values (fresh from power-on) against
# the last run's (after four runs, each ending in a reset).
s1=$(sed -n 's/^GUEST DEVICE-STATE //p' msi.log)
s3=$(sed -n 's/^GUEST DEVICE-STATE //p' again.log)
if [ -n "$s1" ] && [ -n "$s3" ]; then
	kept=""
	for kv in $s3; do
		case " $s1 " in *" $kv "*) ;; *) kept="$kept $kv" ;; esac
	done
	if [ -n "$kept" ]; then
		what="registers that differ from power-on, i.e. not reset by edu:$kept"
	else
		what="every register as at power-on"
	fi
	tb_pass $G/edu-registers-after-reset "report: at power-on '$s1'; after four runs, each ending in a reset: $what"
else
	tb_fail $G/edu-registers-after-reset "no DEVICE-STATE line from the guest"
fi

tb_check $G/release "$B released" -- hqio vfio release "$B"
cfg_after=$(od -An -tx1 -N64 "/sys/bus/pci/devices/$B/config" | tr -d ' \n')
if [ "$cfg_before" = "$cfg_after" ]; then
	tb_pass $G/host-config-unchanged "the first 64 bytes of $B's configuration space are as before the runs"
else
	tb_fail $G/host-config-unchanged "before $cfg_before after $cfg_after"
fi
# Quarantine (negative controls of assignment and reclaim through lib/reset):
# the device must end bound to vfio-pci with a clear message, never
# half-assigned, and a later verified reset lifts it.
drv_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver")" 2>/dev/null; }
tb_check $G/rebind "$B to vfio-pci again" -- hqio vfio bind "$B"
# 1. A method that cannot work (edu has no PM capability): quarantined at
# assignment, the guest never starts.
hqio run --assign "$B" --guest builtin --reset-method pm --timeout 60 --json >qpm.json 2>qpm.log
rc=$?
if [ $rc -eq 1 ] && [ "$(jget qpm.json quarantined)" = true ] &&
	[ "$(jget qpm.json assign_verified)" = false ] && ! grep -q '^GUEST' qpm.log &&
	grep -q 'QUARANTINED' qpm.log && [ "$(drv_of "$B")" = vfio-pci ]; then
	tb_pass $G/control-quarantine-assign "--reset-method pm: exit 1, guest not started, still bound to $(drv_of "$B"): $(grep -m1 'quarantined at assignment' qpm.log)"
else
	tb_fail $G/control-quarantine-assign "exit $rc, quarantined $(jget qpm.json quarantined), driver $(drv_of "$B"): $(tail -n 2 qpm.log | tr '\n' ' ')"
fi
# 2. Verification that fails (a canary in edu's factorial register, which
# no reset clears): the guest ran and passed, reclaim quarantines, guest
# RAM is not released.
hqio run --assign "$B" --guest builtin --cmdline "n=3" --fault-inject canary --timeout 60 \
	--json >qcan.json 2>qcan.log
rc=$?
if [ $rc -eq 1 ] && [ "$(jget qcan.json exit_value)" = 16 ] && [ "$(jget qcan.json quarantined)" = true ] &&
	[ "$(jget qcan.json reset)" = false ] && [ "$(jget qcan.json memory_released)" = false ] &&
	grep -q 'QUARANTINED' qcan.log && [ "$(drv_of "$B")" = vfio-pci ]; then
	tb_pass $G/control-quarantine-verify "--fault-inject canary: guest passed, exit 1, guest RAM kept mapped, still bound to $(drv_of "$B"): $(jget qcan.json reset_detail)"
else
	tb_fail $G/control-quarantine-verify "exit $rc, guest exit $(jget qcan.json exit_value), quarantined $(jget qcan.json quarantined), reset $(jget qcan.json reset), released $(jget qcan.json memory_released): $(jget qcan.json reset_detail)"
fi
# The quarantine outlives the process: hqio vfio refuses to hand the
# function back to a host driver.
if ! hqio vfio release "$B" >rel.log 2>&1 && grep -q 'is QUARANTINED' rel.log &&
	[ "$(drv_of "$B")" = vfio-pci ] && hqio vfio info "$B" | grep -q QUARANTINED; then
	tb_pass $G/control-quarantine-release-refused "after the process ended: $(head -c 200 rel.log)"
else
	tb_fail $G/control-quarantine-release-refused "driver $(drv_of "$B"): $(cat rel.log)"
fi
# 3. A normal run afterwards verifies a reset at assignment again, and its
# verified reclaim lifts the record.
run lifted msi "n=5"
if [ "$(jget lifted.json assign_verified)" = true ] && [ "$(jget lifted.json reset)" = true ] &&
	[ "$(jget lifted.json was_quarantined)" = true ] && [ "$(jget lifted.json quarantine_lifted)" = true ] &&
	! hqio vfio info "$B" | grep -q QUARANTINED; then
	tb_pass $G/quarantine-lifted "after the quarantine: $(jget lifted.json assign_detail); reclaim $(jget lifted.json reset_detail); record removed"
else
	tb_fail $G/quarantine-lifted "assign $(jget lifted.json assign_detail); reclaim $(jget lifted.json reset_detail); was $(jget lifted.json was_quarantined), lifted $(jget lifted.json quarantine_lifted)"
fi
tb_check $G/release-after-controls "$B released" -- hqio vfio release "$B"
for f in msi hop intx noeoi trapped again qpm qcan lifted; do cp "$f.log" "/tmp/$G-$f.log" 2>/dev/null; done
tb_end $G
