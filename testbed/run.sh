#!/usr/bin/env bash
# hqio's QEMU test bed: boots a Debian kernel in QEMU (TCG) with an emulated
# VT-d IOMMU and a set of emulated PCIe devices, runs the test groups of
# testbed/tests/ inside it, and turns the serial log into PASS/FAIL lines and
# an exit code. Contract for test groups and how it works: docs/testbed.md.
#
# usage: testbed/run.sh [--tests LIST] [--keep] [--timeout SEC] [--no-build]
#                        [--list] [-h]
# exit:  0 every selected check passed; 1 a check failed, a group printed no
#        result or no END, or the VM never reached /init; 2 usage error;
#        3 the test bed cannot be set up (QEMU, kernel package, build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TB=$ROOT/testbed
CACHE=${HQIO_TB_CACHE:-$TB/cache}
BUILD=${HQIO_TB_BUILD:-$ROOT/build-testbed}
JOBS=${JOBS:-2}
# Wall-clock limit per VM boot: a boot takes 30-90 s (docs/testbed.md), so
# 240 s only ends a hung VM; with one retry per boot the stage stays under
# 10 minutes.
TIMEOUT_S=${HQIO_TB_TIMEOUT:-240}
# Per-group limit inside the VM (busybox timeout -s KILL).
GROUP_TIMEOUT_S=${HQIO_TB_GROUP_TIMEOUT:-180}
TESTS=""
KEEP=0
NO_BUILD=0
T0=$(date +%s)

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	cat <<EOF
options:
  --tests LIST    comma-separated groups (default: every testbed/tests/*.sh)
  --keep          keep the run directory (initramfs tree, serial log, data)
                  even when every check passed
  --timeout SEC   wall-clock limit of the VM (default $TIMEOUT_S)
  --no-build      use the static hqio already in the build dir (while the
                  tree does not build); says so in the progress line
  --list          list the test groups and exit
  -h, --help      this text
environment:
  HQIO_SKIP_TESTBED=1   print "testbed: SKIPPED" and exit 0
  HQIO_TB_CACHE         download/kernel cache (default testbed/cache)
  HQIO_TB_BUILD         CMake build dir of the static hqio (default build-testbed)
  HQIO_TB_GROUP_TIMEOUT per-group limit inside the VM (default $GROUP_TIMEOUT_S)
  HQIO_TB_CPU           QEMU -cpu model (default max: AMD with SVM, for nested KVM)
  HQIO_TB_APPEND        extra kernel command line words (debugging)
EOF
}

progress() { printf 'testbed: [%4ds] %s\n' $(($(date +%s) - T0)) "$*"; }
die_setup() {
	printf 'testbed: FAIL (setup): %s\n' "$*" >&2
	exit 3
}

all_groups() {
	local f
	for f in "$TB"/tests/*.sh; do
		[ -e "$f" ] && basename "$f" .sh
	done
}

while [ $# -gt 0 ]; do
	case $1 in
	--tests)
		[ $# -ge 2 ] || { echo "testbed: --tests needs a list" >&2; exit 2; }
		TESTS=$2
		shift 2
		;;
	--tests=*) TESTS=${1#--tests=}; shift ;;
	--keep) KEEP=1; shift ;;
	--no-build) NO_BUILD=1; shift ;;
	--timeout)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "testbed: --timeout needs seconds" >&2; exit 2; }
		TIMEOUT_S=$2
		shift 2
		;;
	--list) all_groups; exit 0 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "testbed: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

if [ "${HQIO_SKIP_TESTBED:-}" = 1 ]; then
	echo "testbed: SKIPPED (HQIO_SKIP_TESTBED=1)"
	exit 0
fi

# ---- selection ------------------------------------------------------------
available=$(all_groups | tr '\n' ' ')
if [ -z "$TESTS" ]; then
	TESTS=$(echo $available | tr ' ' ',')
fi
for g in ${TESTS//,/ }; do
	[[ $g =~ ^[A-Za-z0-9_-]+$ ]] || { echo "testbed: bad group name '$g'" >&2; exit 2; }
	[ -f "$TB/tests/$g.sh" ] || { echo "testbed: no test group '$g' (have: $available)" >&2; exit 2; }
done
progress "groups: $TESTS"

# ---- packages -------------------------------------------------------------
# Debian packages the test bed needs on the host (binary -> package).
declare -A NEED=([qemu-system-x86_64]=qemu-system-x86 [busybox]=busybox-static
	[cpio]=cpio [xz]=xz-utils [lspci]=pciutils [strings]=binutils
	[apt-get]=apt [dpkg]=dpkg [python3]=python3 [cmake]=cmake [gzip]=gzip)
missing=""
for b in "${!NEED[@]}"; do
	command -v "$b" >/dev/null || missing="$missing ${NEED[$b]}"
done
# busybox must be the static build: it runs alone in the initramfs.
is_static() { ! ldd "$1" >/dev/null 2>&1; }
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed"; then
	missing="$missing busybox-static"
fi
[ -r /usr/share/misc/pci.ids ] || missing="$missing pci.ids"
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		die_setup "missing Debian packages:$missing; run as root: apt-get install -y$missing"
	fi
	progress "install: apt-get install$missing"
	export DEBIAN_FRONTEND=noninteractive
	aptlog=$(mktemp)
	if ! apt-get install -y -q --no-install-recommends $missing >"$aptlog" 2>&1; then
		apt-get update -q >>"$aptlog" 2>&1 || true
		apt-get install -y -q --no-install-recommends $missing >>"$aptlog" 2>&1 ||
			die_setup "apt-get install$missing failed: $(tail -n 3 "$aptlog" | tr '\n' ' ')"
	fi
	rm -f "$aptlog"
fi
BUSYBOX=$(command -v busybox)
is_static "$BUSYBOX" || die_setup "$BUSYBOX is not statically linked (install busybox-static)"

mkdir -p "$CACHE"
# One run at a time per cache: runs share the kernel cache, the build dir and
# cache/run/.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	progress "waiting for another test-bed run (lock $CACHE/.lock)"
	flock 9
fi

# ---- kernel ---------------------------------------------------------------
# The versioned package behind Debian's linux-image-amd64 meta package.
resolve_kernel() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}
kpkg=$(resolve_kernel)
if [ -z "$kpkg" ] && [ "$(id -u)" -eq 0 ]; then
	progress "download: apt-get update (linux-image-amd64 unknown to apt)"
	apt-get update -q >/dev/null 2>&1 || true
	kpkg=$(resolve_kernel)
fi
if [ -z "$kpkg" ]; then
	# Offline fallback: the newest kernel already unpacked in the cache.
	kpkg=$(ls -1 "$CACHE/kernel" 2>/dev/null | sort -V | tail -n 1)
	[ -n "$kpkg" ] || die_setup "cannot resolve the package behind linux-image-amd64 (apt-cache depends linux-image-amd64 names none; run apt-get update) and no kernel is cached in $CACHE/kernel"
	progress "download: apt cannot resolve linux-image-amd64; using cached $kpkg"
fi
KDIR=$CACHE/kernel/$kpkg
if [ ! -f "$KDIR/.complete" ]; then
	progress "download: apt-get download $kpkg"
	rm -rf "$CACHE/deb" "$KDIR"
	mkdir -p "$CACHE/deb" "$KDIR"
	if ! (cd "$CACHE/deb" && apt-get download -q "$kpkg" >"$CACHE/deb/log" 2>&1); then
		if [ "$(id -u)" -eq 0 ]; then
			apt-get update -q >/dev/null 2>&1 || true
			(cd "$CACHE/deb" && apt-get download -q "$kpkg" >"$CACHE/deb/log" 2>&1) ||
				die_setup "apt-get download $kpkg failed: $(tail -n 2 "$CACHE/deb/log" | tr '\n' ' ')"
		else
			die_setup "apt-get download $kpkg failed: $(tail -n 2 "$CACHE/deb/log" | tr '\n' ' ')"
		fi
	fi
	progress "download: unpacking $(basename "$CACHE"/deb/*.deb)"
	dpkg -x "$CACHE"/deb/*.deb "$KDIR" || die_setup "dpkg -x of $kpkg failed"
	rm -rf "$CACHE/deb"
	touch "$KDIR/.complete"
else
	progress "download: $kpkg cached"
fi
VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$VMLINUZ" ] || die_setup "no boot/vmlinuz-* in $kpkg"
KVER=${VMLINUZ##*/vmlinuz-}
MODDIR=$KDIR/lib/modules/$KVER
[ -d "$MODDIR" ] || die_setup "no lib/modules/$KVER in $kpkg"

# ---- hqio, static ---------------------------------------------------------
if [ $NO_BUILD -eq 1 ]; then
	[ -x "$BUILD/tools/hqio" ] || die_setup "--no-build: no $BUILD/tools/hqio"
	progress "build: skipped (--no-build): using $BUILD/tools/hqio of $(date -r "$BUILD/tools/hqio" '+%F %T')"
else
	progress "build: static hqio in ${BUILD#"$ROOT"/}"
fi
if [ $NO_BUILD -eq 0 ] && ! { cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_EXE_LINKER_FLAGS=-static -DHQIO_TESTS=OFF >"$CACHE/build.log" 2>&1 &&
	cmake --build "$BUILD" -j"$JOBS" --target hqio_cli >>"$CACHE/build.log" 2>&1; }; then
	tail -n 30 "$CACHE/build.log" >&2
	die_setup "building hqio (static) failed; log: $CACHE/build.log"
fi
HQIO=$BUILD/tools/hqio
is_static "$HQIO" || die_setup "$HQIO is not statically linked"
# Helper programs: testbed/progs/NAME.c -> /bin/NAME, static, with hqio's
# headers and libraries at hand.
PROGS=()
for src in "$TB"/progs/*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	out=$BUILD/testbed-progs/$name
	mkdir -p "$BUILD/testbed-progs"
	if ! ${CC:-cc} -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -static \
		-I"$ROOT/include" -I"$ROOT/host" -I"$ROOT/tools" -o "$out" "$src" \
		-Wl,--start-group "$BUILD"/tools/libhqio_tools.a "$BUILD"/host/libhqio_host.a \
		"$BUILD"/sim/libhqio_sim.a "$BUILD"/lib/libhqio.a -Wl,--end-group -lm \
		>>"$CACHE/build.log" 2>&1; then
		tail -n 30 "$CACHE/build.log" >&2
		die_setup "building testbed/progs/$name.c failed; log: $CACHE/build.log"
	fi
	PROGS+=("$out")
	progress "build: testbed/progs/$name.c -> /bin/$name"
done

# ---- initramfs ------------------------------------------------------------
progress "initramfs: $KVER modules, busybox, hqio, lspci"
RUN=$CACHE/run
rm -rf "$RUN"
mkdir -p "$RUN"
IR=$RUN/root
mkdir -p "$IR"/{bin,sbin,etc/hqio-tb,lib,lib64,proc,sys,dev,tmp,run,tests,lib/tb-modules,usr/share/misc}
cp "$BUSYBOX" "$IR/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$IR/bin/$a"
done
cp "$HQIO" "$IR/bin/hqio"
for p in "${PROGS[@]}"; do
	rm -f "$IR/bin/${p##*/}"
	cp "$p" "$IR/bin/"
done
cp /usr/share/misc/pci.ids "$IR/usr/share/misc/pci.ids"
cp "$TB/init" "$IR/init"
chmod 755 "$IR/init"
cp "$TB/lib/hqio-tb.sh" "$IR/lib/hqio-tb.sh"
cp "$TB"/tests/*.sh "$IR/tests/"

# Copy a dynamically linked host binary and the libraries ldd lists.
copy_with_libs() {
	local bin=$1 lib dst
	dst=$IR/bin/$(basename "$bin")
	rm -f "$dst" # may be a busybox applet link: replace it, never write through it
	cp -L "$bin" "$dst"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
		mkdir -p "$IR$(dirname "$lib")"
		cp -L "$lib" "$IR$lib"
	done
}
copy_with_libs "$(command -v lspci)"
while read -r line; do
	line=${line%%#*}
	line=$(echo $line)
	[ -n "$line" ] || continue
	[ -x "$line" ] || die_setup "testbed/bin-list: $line is not an executable"
	copy_with_libs "$line"
done <"$TB/bin-list"
# QEMU itself, the peer monitor of the monitor_peer group (docs/monitor.md):
# the binary, its libraries and the firmware it loads with -nodefaults.
copy_with_libs "$(command -v qemu-system-x86_64)"
mkdir -p "$IR/usr/share/qemu"
for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/multiboot_dma.bin \
	/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/kvmvapic.bin; do
	cp -L "$f" "$IR/usr/share/qemu/" || die_setup "QEMU firmware $f is missing"
done

# Modules: index every .ko / .ko.xz by name (- and _ are the same to the
# kernel), then add dependencies (from each module's depends= modinfo string;
# there is no kmod on the host) depth-first, so each module follows its own.
declare -A KO=() PARAMS=() SEEN=()
ORDER=()
while read -r f; do
	n=${f##*/}
	n=${n%.xz}
	n=${n%.ko}
	KO[${n//-/_}]=$f
done < <(find "$MODDIR/kernel" -name '*.ko' -o -name '*.ko.xz')
add_module() {
	local n=${1//-/_} f dst deps d
	[ -z "${SEEN[$n]:-}" ] || return 0
	SEEN[$n]=1
	f=${KO[$n]:-}
	if [ -z "$f" ]; then
		# Built into the kernel (modules.builtin) needs no loading.
		if grep -q "/${n//_/[-_]}\.ko$" "$MODDIR/modules.builtin" 2>/dev/null; then
			return 0
		fi
		die_setup "kernel $KVER has no module $1 (testbed/modules.txt or a depends= string)"
	fi
	dst=$IR/lib/tb-modules/$n.ko
	case $f in
	*.xz) xz -dc "$f" >"$dst" ;;
	*) cp "$f" "$dst" ;;
	esac
	deps=$(strings "$dst" | sed -n 's/^depends=//p' | head -n 1)
	for d in ${deps//,/ }; do add_module "$d"; done
	ORDER+=("$n")
}
while read -r name params; do
	[ -n "$name" ] && [ "${name:0:1}" != "#" ] || continue
	PARAMS[${name//-/_}]=$params
	add_module "$name"
done <"$TB/modules.txt"
for n in "${ORDER[@]}"; do
	echo "$n.ko ${PARAMS[$n]:-}"
done >"$IR/etc/hqio-tb/modules"
progress "initramfs: modules in load order: ${ORDER[*]}"
(cd "$IR" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$RUN/initrd.cpio.gz"

# ---- boot -----------------------------------------------------------------
[ -f "$CACHE/nvme.img" ] || truncate -s 64M "$CACHE/nvme.img"
# Device set and options: docs/testbed.md (from ../shared/testbed.md, which
# verified them on QEMU 7.2). Root ports run at 5 GT/s x1: at the default
# speed Linux's secondary bus reset of a function with PM fails (ENOTTY,
# "Data Link Layer Link Active not set").
RP=x-speed=5,x-width=1
# shellcheck disable=SC2054 # commas belong to QEMU option values
QEMU_ARGS=(
	-machine q35,kernel-irqchip=split -accel tcg -m 1G -smp 2 -cpu "${HQIO_TB_CPU:-max}"
	-nodefaults -no-user-config -display none -serial stdio -monitor none -no-reboot
	-device intel-iommu,intremap=on,caching-mode=on
	-kernel "$VMLINUZ" -initrd "$RUN/initrd.cpio.gz"
	-append "@APPEND@"
	-device pcie-root-port,id=rp1,chassis=1,slot=1,"$RP" -device edu,bus=rp1
	-device pcie-root-port,id=rp2,chassis=2,slot=2,"$RP" -device e1000e,bus=rp2,netdev=net1
	-netdev user,id=net1,restrict=on
	-device pcie-root-port,id=rp3,chassis=3,slot=3,"$RP"
	-drive file="$CACHE/nvme.img",if=none,id=nv0,format=raw
	-device nvme-subsys,id=s0,nqn=hqio-tb
	-device nvme,bus=rp3,serial=hqio-tb,subsys=s0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2
	-device nvme-ns,drive=nv0,nsid=1
	-device pcie-root-port,id=rp4,chassis=4,slot=4,"$RP" -audiodev none,id=snd0
	-device ich9-intel-hda,bus=rp4,id=hda0 -device hda-duplex,bus=hda0.0,audiodev=snd0
	-device pcie-root-port,id=rp5,chassis=5,slot=5,"$RP"
	-netdev user,id=net0,restrict=on -device virtio-net-pci,bus=rp5,netdev=net0
	-device edu,bus=pcie.0,addr=0x10
)
# One VM boot running GROUPS (comma list); LABEL names its files. Sets
# boot_rc (report.py's exit code) and boot_hung (1 when the VM itself died:
# killed at the limit, or never reached /init, or a kernel panic).
# Kernel options: panic=-1 and softlockup_panic=1 turn a locked-up L1 (seen
# with nested KVM under TCG on a loaded host) into a prompt exit instead of
# minutes of "soft lockup" lines; no_timer_check skips the boot-time IO-APIC
# timer test, which a starved TCG vCPU can fail ("timer doesn't work through
# Interrupt-remapped IO-APIC").
boot() {
	local groups=$1 label=$2 log args=() a
	log=$RUN/serial-$label.log
	for a in "${QEMU_ARGS[@]}"; do
		args+=("${a/@APPEND@/console=ttyS0 intel_iommu=on iommu=pt panic=-1 softlockup_panic=1 no_timer_check quiet loglevel=4 hqio_tb_tests=$groups hqio_tb_timeout=$GROUP_TIMEOUT_S${HQIO_TB_APPEND:+ $HQIO_TB_APPEND}}")
	done
	echo "qemu-system-x86_64 ${args[*]}" >"$RUN/qemu-$label.cmd"
	progress "boot $label: qemu-system-x86_64 ($(qemu-system-x86_64 --version | head -n 1 | sed 's/QEMU emulator version //'), kernel $KVER, groups $groups, limit ${TIMEOUT_S}s)"
	set +e
	# QEMU exits 0 whatever happens in the guest: the serial log is the result.
	# Result lines are echoed as they come so a long run shows progress.
	timeout -k 10 "$TIMEOUT_S" qemu-system-x86_64 "${args[@]}" </dev/null 2>"$RUN/qemu-$label.err" |
		tee "$log" |
		while IFS= read -r line; do
			line=${line%$'\r'} # no tr here: it would hold lines back in its buffer
			case $line in
			"HQIO-TB INIT"*) progress "boot $label: reached /init (${line#HQIO-TB INIT })" ;;
			"HQIO-TB BEGIN "*) progress "test: ${line#HQIO-TB BEGIN } ..." ;;
			"HQIO-TB EXIT "*) set -- ${line#HQIO-TB EXIT } && progress "test: $1 ended (exit ${2:-?})" ;;
			"HQIO-TB PASS "* | "HQIO-TB FAIL "* | "HQIO-TB SKIP "*) echo "  ${line#HQIO-TB }" ;;
			*"soft lockup"* | *"Kernel panic"*) progress "boot $label: kernel: ${line:0:120}" ;;
			esac
		done
	local rcs=("${PIPESTATUS[@]}")
	local qemu_rc=${rcs[0]}
	progress "boot $label: VM ended ($([ "$qemu_rc" = 124 ] && echo "killed after ${TIMEOUT_S}s" || echo "qemu exit $qemu_rc"))"
	boot_hung=0
	if [ "$qemu_rc" = 124 ] || ! grep -q "HQIO-TB INIT" "$log" || grep -q "Kernel panic" "$log"; then
		boot_hung=1
	fi
	python3 "$TB/report.py" --log "$log" --groups "$groups" --data "$RUN/data" \
		--post "$TB/post" --qemu-rc "$qemu_rc" --qemu-err "$RUN/qemu-$label.err" \
		--timeout "$TIMEOUT_S" | tee "$RUN/report-$label.txt"
	boot_rc=${PIPESTATUS[0]}
	set -e
}

# Groups that run nested KVM guests each get a boot of their own: when the
# emulated L1 locks up (a QEMU 7.2 TCG + nested SVM artifact seen in about
# one boot in four or five, docs/testbed.md), it takes only that group down,
# and such a boot is retried (at most twice), said so in the summary. A
# group that fails without the VM dying is never retried.
boots=()
plain=""
for g in ${TESTS//,/ }; do
	case $g in monitor_*) boots+=("$g") ;; *) plain="$plain${plain:+,}$g" ;; esac
done
[ -z "$plain" ] || boots=("$plain" "${boots[@]}")
rc=0 total_pass=0 total_fail=0 total_skip=0 retried=""
set_counts() { # report file -> add its "testbed: N passed, M failed, K skipped"
	local line
	line=$(sed -n 's/^testbed: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped.*/\1 \2 \3/p' "$1" | tail -n 1)
	set -- $line
	total_pass=$((total_pass + ${1:-0}))
	total_fail=$((total_fail + ${2:-1}))
	total_skip=$((total_skip + ${3:-0}))
}
n=0
for groups in "${boots[@]}"; do
	n=$((n + 1))
	case $groups in monitor_*) tries=3 ;; *) tries=2 ;; esac
	boot "$groups" "$n"
	try=1
	while [ "$boot_rc" -ne 0 ] && [ "$boot_hung" -eq 1 ] && [ $try -lt $tries ]; do
		progress "RETRY boot $n ($groups): the VM itself died (kept as serial-$n-try$try.log; an emulation artifact unless it repeats)"
		mv "$RUN/serial-$n.log" "$RUN/serial-$n-try$try.log"
		retried="$retried $n"
		try=$((try + 1))
		boot "$groups" "$n"
	done
	set_counts "$RUN/report-$n.txt"
	[ "$boot_rc" -eq 0 ] || rc=1
done
echo "testbed: $total_pass passed, $total_fail failed, $total_skip skipped${retried:+ (retried after a VM hang: boot$retried)}"
if [ $rc -eq 0 ] && [ $KEEP -eq 0 ]; then
	rm -rf "$IR"
else
	progress "kept: $RUN (serial-*.log, qemu-*.cmd, data/, root/)"
fi
progress "done: $([ $rc -eq 0 ] && echo PASS || echo FAIL)"
exit $rc
