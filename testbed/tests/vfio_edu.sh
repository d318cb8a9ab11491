# Test group "vfio_edu": the QEMU edu device behind a root port, assigned
# through hqio's VFIO backend (host/vfio.c, `hqio vfio`, docs/vfio.md):
# bind/release through driver_override, BAR access, the factorial with MSI
# and with INTx, INTx masked until unmasked, DMA through the IOMMU, a DMA
# to an unmapped IOVA blocked and reported by the DMAR fault line, the
# reclaim race in the naive order (negative control) and in hqio's.
. /lib/hqio-tb.sh
G=vfio_edu

# run_checks NAME CMD...: the command's PASS/FAIL lines as this group's
# lines; a failing command that printed no FAIL line gets one.
run_checks() {
	_n=$1
	shift
	"$@" >out.txt 2>err.txt
	_rc=$?
	sed -n -e "s|^PASS |HQIO-TB PASS $G/|p" -e "s|^FAIL |HQIO-TB FAIL $G/|p" out.txt
	if [ $_rc -ne 0 ] && ! grep -q '^FAIL ' out.txt; then
		tb_fail "$G/$_n" "'$*' exited $_rc: $(tail -n 1 err.txt)"
	fi
}

B=$(tb_find_dev 0x1234 0x11e8 port) || { tb_fail $G/find "no edu behind a root port"; tb_end $G; exit 0; }

# Before bind: a clear error, nothing touched.
if out=$(hqio vfio edu-test "$B" 2>&1); then
	tb_fail $G/refuse-unbound "edu-test succeeded on a function not bound to vfio-pci"
else
	case $out in
	*"run \`hqio vfio bind"*) tb_pass $G/refuse-unbound "$(echo "$out" | tail -n 1)" ;;
	*) tb_fail $G/refuse-unbound "unexpected: $out" ;;
	esac
fi

before=$(basename "$(readlink "/sys/bus/pci/devices/$B/driver" 2>/dev/null)" 2>/dev/null)
ov_before=$(cat "/sys/bus/pci/devices/$B/driver_override")
tb_check $G/bind "$B to vfio-pci" -- hqio vfio bind "$B"
g=$(basename "$(readlink "/sys/bus/pci/devices/$B/iommu_group")")
if [ -c "/dev/vfio/$g" ]; then
	tb_pass $G/group-node "/dev/vfio/$g exists after bind"
else
	tb_fail $G/group-node "no /dev/vfio/$g after bind"
fi

run_checks edu-test hqio vfio edu-test "$B" --count 20
run_checks reclaim-race hqio vfio reclaim-race "$B"

tb_check $G/release "$B released" -- hqio vfio release "$B"
now=$(basename "$(readlink "/sys/bus/pci/devices/$B/driver" 2>/dev/null)" 2>/dev/null)
ov=$(cat "/sys/bus/pci/devices/$B/driver_override")
if [ "$now" = "$before" ] && [ "$ov" = "$ov_before" ]; then
	tb_pass $G/driver-restored "driver back to '${before:-none}', driver_override back to '$ov'"
else
	tb_fail $G/driver-restored "driver '$now' (before '$before'), driver_override '$ov' (before '$ov_before')"
fi
tb_end $G
