# Test group "inspect": hqio inspect on the VM's real PCI devices.
# In the VM: hqio runs and lists every /sys/bus/pci/devices entry (text and
# JSON). Data for the host side (testbed/post/inspect.py compares hqio's
# capability lists with lspci -vvv using tests/check_lspci_sysfs.py):
#   hqio.json    hqio inspect --sysfs --json
#   lspci.txt    lspci -vvv -D
#   sysfs.txt    the entries of /sys/bus/pci/devices
. /lib/hqio-tb.sh
G=inspect
ls /sys/bus/pci/devices | sort >sysfs.txt
n=$(wc -l <sysfs.txt)
if [ "$n" -gt 0 ]; then
	tb_pass $G/sysfs "$n PCI functions in /sys/bus/pci/devices"
else
	tb_fail $G/sysfs "no PCI functions in /sys/bus/pci/devices"
fi

if hqio inspect --sysfs --json >hqio.json 2>hqio.err; then
	tb_pass $G/json-runs "hqio inspect --sysfs --json exit 0, $(wc -c <hqio.json) bytes"
else
	tb_fail $G/json-runs "hqio inspect --sysfs --json exit $?: $(tail -n 1 hqio.err)"
fi
# Text mode: one line starting with the BDF for every function.
if hqio inspect --sysfs >hqio.txt 2>hqio.err; then
	missing=""
	while read -r bdf; do
		grep -q "^$bdf " hqio.txt || missing="$missing $bdf"
	done <sysfs.txt
	if [ -z "$missing" ]; then
		tb_pass $G/text-lists-all "hqio inspect --sysfs names all $n functions"
	else
		tb_fail $G/text-lists-all "hqio inspect --sysfs does not name:$missing"
	fi
else
	tb_fail $G/text-lists-all "hqio inspect --sysfs exit $?: $(tail -n 1 hqio.err)"
fi
if lspci -vvv -D >lspci.txt 2>lspci.err; then
	tb_pass $G/lspci-runs "lspci -vvv -D exit 0, $(grep -c '^[0-9a-f]' lspci.txt) functions"
else
	tb_fail $G/lspci-runs "lspci -vvv -D exit $?: $(tail -n 1 lspci.err)"
fi
tb_data $G/sysfs.txt sysfs.txt
tb_data $G/hqio.json hqio.json
tb_data $G/lspci.txt lspci.txt
tb_end $G
