#!/usr/bin/env bash
# Fetch Debian's Linux kernel source package at test time (never committed)
# and unpack the driver directories hqio's driver-virtualization-hole scanner
# is evaluated on. Prints the unpacked tree's path on stdout (last line).
#
#   scripts/fetch-linux-source.sh [CACHE_DIR]     (default: .cache/linux-source)
#
# The package is the one behind Debian's `linux-source` metapackage, resolved
# at run time, so the tree follows Debian's current 6.1 point release. Exit 2
# with a reason when the package cannot be had (no registry, no apt).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${1:-.cache/linux-source}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
# One fetch at a time per cache (ctest runs the tests that need it in parallel).
exec 9>"$CACHE/.lock"
flock 9
# Directories unpacked from the tarball (relative to the tree's root).
DIRS=(drivers/net/ethernet drivers/gpu/drm sound/pci drivers/nvme drivers/net/wireless/intel
      drivers/usb/host drivers/scsi/megaraid drivers/ata drivers/virtio drivers/net/virtio_net.c
      drivers/crypto/ccp drivers/char/agp drivers/video/fbdev)

say() { echo "fetch-linux-source: $*" >&2; }
command -v apt-get >/dev/null || { say "apt-get not found: cannot fetch Debian's linux-source"; exit 2; }
pkg=$(apt-cache depends linux-source 2>/dev/null | sed -n 's/^ *Depends: \(linux-source-[0-9.]*\)$/\1/p' | head -n 1)
[ -n "$pkg" ] || pkg=linux-source-6.1
ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || { say "package $pkg not known to apt (run apt-get update?)"; exit 2; }
tree="$CACHE/$pkg-$ver"
if [ -f "$tree/.complete" ]; then
	echo "$tree"
	exit 0
fi
deb=$(ls "$CACHE"/"${pkg}"_"${ver//:/%3a}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	say "downloading $pkg $ver (about 140 MB)"
	(cd "$CACHE" && apt-get download "$pkg=$ver" >/dev/null 2>"$CACHE/apt.err") || {
		say "apt-get download $pkg=$ver failed: $(tail -n 1 "$CACHE/apt.err")"
		exit 2
	}
	deb=$(ls "$CACHE"/"${pkg}"_*.deb | head -n 1)
fi
say "unpacking ${DIRS[*]} from $(basename "$deb")"
rm -rf "$tree" "$CACHE/x"
mkdir -p "$CACHE/x"
dpkg-deb -x "$deb" "$CACHE/x"
tarball=$(ls "$CACHE"/x/usr/src/linux-source-*.tar.* | head -n 1)
top=$(basename "$tarball" | sed 's/\.tar\..*//')
mkdir -p "$tree"
args=()
for d in "${DIRS[@]}"; do args+=("$top/$d"); done
tar -xf "$tarball" -C "$tree" --strip-components=1 "${args[@]}"
rm -rf "$CACHE/x"
echo "$pkg $ver" >"$tree/.complete"
say "source tree ready"
echo "$tree"
