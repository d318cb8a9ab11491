# Test group "reset": hqio's reset planner against Linux's reset_method.
# Captured twice: as booted, and with the SR-IOV PF (the nvme) bound to
# vfio-pci and 2 VFs enabled, so the VFs are compared too. For the host side
# (testbed/post/reset.py compares them per function):
#   reset_method.txt  "BDF METHODS" per function ("-": Linux hides the
#                     attribute, i.e. it found no reset method)
#   hqio.json         hqio inspect --sysfs --json (reset_methods[])
#   plan.json         hqio reset plan --sysfs EVERY-BDF --json (methods[])
# with the suffix -vfs for the second capture. The PF is returned to how it
# was booted (no VFs, no driver) at the end: later groups expect that.
. /lib/hqio-tb.sh
G=reset

capture() { # capture SUFFIX
	for d in /sys/bus/pci/devices/*; do
		if [ -e "$d/reset_method" ]; then
			m=$(cat "$d/reset_method" 2>&1) || m="? $m"
		else
			m="-"
		fi
		echo "${d##*/} $m"
	done >"reset_method$1.txt"
	if hqio inspect --sysfs --json >"hqio$1.json" 2>hqio.err; then
		tb_pass "$G/inspect-runs$1" "hqio inspect --sysfs --json exit 0"
	else
		tb_fail "$G/inspect-runs$1" "hqio inspect --sysfs --json exit $?: $(tail -n 1 hqio.err)"
	fi
	# Exit 1 is expected: bridges and the host bridge are refused.
	# shellcheck disable=SC2046 # one argument per BDF
	hqio reset plan --sysfs $(ls /sys/bus/pci/devices) --json >"plan$1.json" 2>plan.err
	rc=$?
	if [ $rc -le 1 ] && [ -s "plan$1.json" ]; then
		tb_pass "$G/plan-runs$1" "hqio reset plan --sysfs (all) exit $rc, $(grep -c 'refused: ' plan.err) refused"
	else
		tb_fail "$G/plan-runs$1" "hqio reset plan --sysfs (all) exit $rc: $(tail -n 1 plan.err)"
	fi
	tb_data "$G/reset_method$1.txt" "reset_method$1.txt"
	tb_data "$G/hqio$1.json" "hqio$1.json"
	tb_data "$G/plan$1.json" "plan$1.json"
}

capture ""

pf=""
for d in /sys/bus/pci/devices/*; do
	if [ -r "$d/sriov_totalvfs" ] && [ "$(cat "$d/sriov_totalvfs")" -ge 2 ]; then
		pf=${d##*/}
		break
	fi
done
if [ -z "$pf" ]; then
	tb_fail $G/sriov-enable "no function with sriov_totalvfs >= 2 (the nvme PF)"
else
	P=/sys/bus/pci/devices/$pf
	[ -e "$P/driver" ] && echo "$pf" >"$P/driver/unbind"
	echo vfio-pci >"$P/driver_override"
	echo "$pf" >/sys/bus/pci/drivers_probe
	if echo 2 >"$P/sriov_numvfs" 2>sriov.err; then
		tb_pass $G/sriov-enable "$pf: $(cat "$P/sriov_numvfs") VFs enabled (PF bound to $(basename "$(readlink "$P/driver")"))"
		capture -vfs
		# The PF's bus reset with its VFs given to the PF's owner (the
		# default makes them other owners): post/reset.py uses it to tell
		# a stale Linux reset_method from an hqio bug.
		own=""
		for v in "$P"/virtfn*; do own="$own --owner-of $(basename "$(readlink "$v")")=1"; done
		# shellcheck disable=SC2086
		hqio reset plan --sysfs "$pf" $own --json >plan-pf-one-owner.json 2>&1
		tb_data $G/plan-pf-one-owner.json plan-pf-one-owner.json
		# What Linux itself does when asked for a bus reset of the PF now.
		# Writing reset_method makes Linux probe the method again.
		if ! echo bus >"$P/reset_method" 2>r.err; then
			echo "Linux refuses 'bus' on a fresh probe (writing reset_method: $(tr '\n' ' ' <r.err))"
		elif ! echo 1 >"$P/reset" 2>r.err; then
			echo "Linux's probe accepts 'bus' but the reset fails ($(tr '\n' ' ' <r.err))"
		else
			echo "Linux's probe accepts 'bus' and the reset succeeds"
		fi >linux-pf-bus-reset.txt
		echo default >"$P/reset_method" 2>/dev/null
		tb_data $G/linux-pf-bus-reset.txt linux-pf-bus-reset.txt
	else
		tb_fail $G/sriov-enable "$pf: writing 2 to sriov_numvfs failed: $(cat sriov.err)"
	fi
	echo 0 >"$P/sriov_numvfs" 2>/dev/null
	[ -e "$P/driver" ] && echo "$pf" >"$P/driver/unbind"
	echo >"$P/driver_override"
fi
tb_end $G
