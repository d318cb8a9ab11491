#!/usr/bin/env bash
# Install the Debian packages hqio needs to build, test and demo.
# As root it runs apt-get; otherwise it prints the exact command and exits non-zero.
set -eu
PKGS="build-essential cmake pkg-config libcmocka-dev clang libclang-rt-14-dev pciutils pci.ids python3 python3-jsonschema valgrind qemu-system-x86 busybox-static cpio xz-utils bc"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "hqio: missing Debian packages:$missing" >&2
	echo "hqio: run as root:  apt-get install -y$missing" >&2
	exit 1
fi
echo "hqio: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
