# Test group "vfio_sriov": the nvme PF on vfio-pci (loaded with
# enable_sriov=1) gets 2 VFs through sriov_numvfs; each VF is planned by
# lib/reset and reset by FLR through hqio's VFIO backend. One process does
# it all (`hqio vfio sriov --reset-vfs`): the PF is opened first and its VF
# token set, since vfio-pci resets a PF when it is opened and QEMU's nvme
# drops its VFs on that reset.
. /lib/hqio-tb.sh
G=vfio_sriov

PF=""
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1b36 ] && [ "$(cat "$d/device")" = 0x0010 ] &&
		[ -e "$d/sriov_totalvfs" ]; then
		PF=${d##*/}
		break
	fi
done
[ -n "$PF" ] || { tb_fail $G/find "no nvme PF with SR-IOV"; tb_end $G; exit 0; }

tb_check $G/bind-pf "$PF to vfio-pci" -- hqio vfio bind "$PF"
hqio vfio sriov "$PF" --numvfs 2 --reset-vfs >out.txt 2>err.txt
rc=$?
if grep -q "^$PF: 2 VFs" out.txt; then
	tb_pass $G/enable "$(grep -E "^($PF|  vf)" out.txt | tr '\n' ' ')"
else
	tb_fail $G/enable "exit $rc: $(tr '\n' ' ' <out.txt) $(tail -n 1 err.txt)"
fi
for i in 0 1; do
	line=$(grep "^vf$i " out.txt)
	# The lines of this VF's section: plan, attempts, used, result.
	detail=$(sed -n "/^== vf$i /,/^vf$i /p" out.txt | grep -E '^(plan|device|attempt|used|time|result)' |
		sed 's/^plan: [^ ]* //' | tr '\n' ';' | sed 's/;$//')
	case $line in
	*"reset by flr and verified") tb_pass $G/vf$i-flr "${line#vf$i }: $detail" ;;
	"") tb_fail $G/vf$i-flr "no result for vf$i (exit $rc): $(tail -n 1 err.txt)" ;;
	*) tb_fail $G/vf$i-flr "${line#vf$i }: $detail" ;;
	esac
done
n=$(cat "/sys/bus/pci/devices/$PF/sriov_numvfs")
[ "$n" = 0 ] && tb_pass $G/disable "sriov_numvfs back to 0" || tb_fail $G/disable "sriov_numvfs is $n"
tb_check $G/release-pf "$PF released" -- hqio vfio release "$PF"
tb_end $G
