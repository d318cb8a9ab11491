# Test group "vfio_reset": resets through lib/reset on real (emulated)
# functions assigned with hqio's VFIO backend, verified by canaries Linux
# neither restores nor virtualizes (device registers through the per-device
# hook; MSI address/data written with MSI disabled): nvme by FLR, e1000e
# where PM fails verification and the bus reset is used, edu behind a root
# port by bus reset, edu on pcie.0 refused.
. /lib/hqio-tb.sh
G=vfio_reset

# reset_check NAME BDF ARGS...: bind, hqio vfio reset BDF ARGS, release.
reset_check() {
	_n=$1 _b=$2
	shift 2
	if ! hqio vfio bind "$_b" >bind.txt 2>&1; then
		tb_fail "$G/$_n" "bind $_b: $(tail -n 1 bind.txt)"
		return
	fi
	if hqio vfio reset "$_b" "$@" >out.txt 2>&1; then
		tb_pass "$G/$_n" "$_b: $(grep -E '^(plan|attempt|used|time)' out.txt | sed 's/^plan: [^ ]* //' | tr '\n' ';' | sed 's/;$//')"
	else
		tb_fail "$G/$_n" "$_b: $(tr '\n' ';' <out.txt)"
	fi
	hqio vfio release "$_b" >/dev/null 2>&1
}

if N=$(tb_find_dev 0x1b36 0x0010 port); then
	reset_check nvme-flr "$N" --expect flr
else
	tb_fail $G/nvme-flr "no nvme function"
fi
# Negative control for HQIO_HOST_CFG_RESTORED: trusting the configuration
# canaries under VFIO (which restores or virtualizes them) must make even
# nvme's good FLR fail verification.
if [ -n "$N" ] && hqio vfio bind "$N" >/dev/null 2>&1; then
	hqio vfio reset "$N" --all-canaries >out.txt 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q '^attempt 1 flr: failed: canary survived' out.txt; then
		tb_pass $G/cfg-canaries-negative-control "$N with --all-canaries: $(grep '^attempt 1' out.txt)"
	else
		tb_fail $G/cfg-canaries-negative-control "$N with --all-canaries exit $rc: $(tr '\n' ';' <out.txt)"
	fi
	hqio vfio release "$N" >/dev/null 2>&1
fi
if E=$(tb_find_dev 0x8086 0x10d3 port); then
	reset_check e1000e-pm-fails-bus-used "$E" --expect bus --expect-fail pm
else
	tb_fail $G/e1000e-pm-fails-bus-used "no e1000e function"
fi
if B=$(tb_find_dev 0x1234 0x11e8 port); then
	reset_check edu-port-bus "$B" --expect bus
else
	tb_fail $G/edu-port-bus "no edu behind a root port"
fi
if R=$(tb_find_dev 0x1234 0x11e8 root); then
	hqio vfio bind "$R" >/dev/null 2>&1
	if hqio vfio reset "$R" >out.txt 2>&1; then
		tb_fail $G/edu-root-refused "$R was reset: $(tr '\n' ';' <out.txt)"
	elif grep -q '^refused: ' out.txt; then
		tb_pass $G/edu-root-refused "$R: $(sed -n 's/^refused: //p' out.txt)"
	else
		tb_fail $G/edu-root-refused "$R: no refusal: $(tr '\n' ';' <out.txt)"
	fi
	hqio vfio release "$R" >/dev/null 2>&1
else
	tb_fail $G/edu-root-refused "no edu on pcie.0"
fi
tb_end $G
