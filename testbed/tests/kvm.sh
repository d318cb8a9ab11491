# Test group "kvm": nested KVM is available in the VM (for the monitor work
# of issue #20). QEMU's -cpu max under TCG is an AMD CPU with SVM, so
# kvm_amd loads and creates /dev/kvm (docs/testbed.md). kvm_probe
# (testbed/progs/kvm_probe.c) then runs a real-mode guest to its I/O and
# HLT exits.
. /lib/hqio-tb.sh
G=kvm
if grep -qw svm /proc/cpuinfo; then
	tb_pass $G/cpu-svm "the vCPU advertises svm"
else
	tb_fail $G/cpu-svm "no svm flag in /proc/cpuinfo"
fi
if [ -d /sys/module/kvm_amd ]; then
	tb_pass $G/kvm-amd-loaded "kvm_amd is loaded (npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null))"
else
	tb_fail $G/kvm-amd-loaded "kvm_amd is not loaded"
fi
if [ -c /dev/kvm ]; then
	tb_pass $G/dev-kvm "/dev/kvm is a character device ($(stat -c '%t:%T' /dev/kvm))"
else
	tb_fail $G/dev-kvm "/dev/kvm missing"
fi
# /dev/kvm alone proves little (a software KVM also creates it): run a guest.
if [ -c /dev/kvm ]; then
	kvm_probe >probe.out 2>&1
	rc=$?
	cat probe.out
	if [ $rc -ne 0 ] && ! grep -q "^HQIO-TB FAIL" probe.out; then
		tb_fail $G/probe "kvm_probe exited $rc: $(tail -n 1 probe.out)"
	fi
else
	tb_skip $G/probe "no /dev/kvm: a guest cannot be run"
fi
tb_end $G
