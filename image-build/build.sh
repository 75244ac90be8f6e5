#!/usr/bin/env bash
# Build a bootable x86-64 terminal image: target/image/kiosk.img (+ .bmap).
#
#   image-build/build.sh [--no-build] [--server-url URL] [--rootfs DIR]
#
# kiosk-app is built with the `appliance` cargo profile (release without
# debug info: see the root Cargo.toml); cargo skips it when it is fresh.
# --no-build: use the binary already in target/appliance.
# --rootfs DIR: skip mmdebstrap and use a root from an earlier run
#   (target/image/work/rootfs), to iterate on the boot chain quickly.
#
# Debian 12 from this machine's own apt sources (mmdebstrap), the kiosk-app
# package, a read-only squashfs root; GPT with
#   1 esp     FAT, systemd-boot, kernel + initramfs per slot, provisioning file
#   2 root-a  squashfs root (slot A, booted)
#   3 root-b  empty slot B, the target of the next update
#   4 data    ext4: the writable upper layer of the root overlay
# UEFI only, no console login, root locked, nothing listening.
#
# Work already done is not done again: cargo's own freshness, the package
# (packaging/build-debs.sh rebuilds it only when its inputs change), the apt
# cache in target/image/apt-cache (no download twice), and the image itself:
# when kiosk.img exists and its inputs (the package, image-build/, the version,
# the server URL) are unchanged, build.sh stops there.
#
# Needs no loop devices and no mounts: partitions are built as files
# (mksquashfs, mkfs.vfat -C + mtools, mkfs.ext4 -d) and copied into the
# disk with dd. System packages: image-build/deps.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_BINARIES=1
SERVER_URL=https://visits.example.invalid
ROOTFS=
while (($#)); do
  case "$1" in
  --no-build) BUILD_BINARIES=0 ;;
  --server-url) SERVER_URL=$2; shift ;;
  --rootfs) ROOTFS=$(realpath "$2"); shift ;;
  *) echo "usage: $0 [--no-build] [--server-url URL] [--rootfs DIR]" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || { echo "build.sh: run as root (mmdebstrap's root mode, file ownership in the image)" >&2; exit 1; }

OUT=$ROOT/target/image
WORK=$OUT/work
CACHE=$OUT/apt-cache
mkdir -p "$OUT" "$CACHE"
started=$(date +%s)
step() { echo "[$(($(date +%s) - started))s] $*" >&2; }

image-build/deps
# The image's version: the workspace version and the commit, recorded inside.
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)+$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo .dirty)"
step "image version $VERSION"

if [ -z "$ROOTFS" ]; then
if ((BUILD_BINARIES)); then
  step "kiosk-app: build (cargo profile appliance) and package"
  DEB=$(packaging/build-debs.sh --profile appliance kiosk-app)
else
  DEB=$(packaging/build-debs.sh --no-build --profile appliance kiosk-app)
fi
step "package $DEB"

# The image's inputs; unchanged since the last image: nothing to do.
KEY=$({ echo "$VERSION $SERVER_URL"; sha256sum "$DEB"; find image-build -type f ! -name README.md ! -name boot-test.sh ! -name screen.py | sort | xargs sha256sum; } | sha256sum | cut -d' ' -f1)
if [ -e "$OUT/kiosk.img" ] && [ -e "$OUT/kiosk.img.bmap" ] && [ "$(cat "$OUT/kiosk.img.key" 2>/dev/null)" = "$KEY" ]; then
  step "up to date: $OUT/kiosk.img ($VERSION), nothing to do"
  exit 0
fi
rm -f "$OUT/kiosk.img.key"
rm -rf "$WORK"
mkdir -p "$WORK"

# The machine's own apt sources, as mmdebstrap reads them (.list/.sources files).
# (file-mirror-automount makes the local kiosk-app .deb visible in the chroot.)
SOURCES=()
[ -s /etc/apt/sources.list ] && SOURCES+=(/etc/apt/sources.list)
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] && SOURCES+=("$f")
done

step "root file system (mmdebstrap)"
PACKAGES=linux-image-amd64,initramfs-tools,zstd,systemd,systemd-sysv,udev,kmod,dbus,systemd-timesyncd,iproute2,systemd-boot-efi,ca-certificates
mmdebstrap --variant=minbase --mode=root --format=directory \
  --include="$PACKAGES,$DEB" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --skip=essential/unlink \
  --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
  --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
  --setup-hook="cp -a $CACHE/. \"\$1/var/cache/apt/archives/\" 2>/dev/null || true" \
  --essential-hook="cp -a \"\$1/var/cache/apt/archives/.\" $CACHE/ 2>/dev/null || true" \
  --customize-hook="cp -a \"\$1/var/cache/apt/archives/.\" $CACHE/ 2>/dev/null || true" \
  --customize-hook="cp -a $ROOT/image-build/rootfs/. \"\$1/\"" \
  --customize-hook="$ROOT/image-build/customize \"\$1\" '$VERSION' '$SERVER_URL'" \
  bookworm "$WORK/rootfs" "${SOURCES[@]}"
rm -f "$CACHE/lock"; rm -rf "$CACHE/partial"
R=$WORK/rootfs
else
  # Not a build from the package: never "up to date", no package record.
  rm -f "$OUT/kiosk.img.key" "$OUT/kiosk.img.package"
  find "$WORK" -mindepth 1 -maxdepth 1 ! -name rootfs -exec rm -rf {} + 2>/dev/null || true
  mkdir -p "$WORK"
  R=$ROOTFS
fi

step "boot partition (systemd-boot, slot A's kernel and initramfs)"
KVER=$(ls "$R/lib/modules" | sort -V | tail -1)
CMDLINE="root=PARTLABEL=root-a rootfstype=squashfs ro kiosk.slot=a quiet loglevel=3 panic=10 console=ttyS0,115200 vt.global_cursor_default=0"
ESP_MIB=128
cat >"$WORK/loader.conf" <<EOF
default a.conf
timeout 0
editor no
console-mode keep
EOF
cat >"$WORK/a.conf" <<EOF
title   Visitation kiosk $VERSION (slot A)
version $VERSION
linux   /a/vmlinuz
initrd  /a/initrd.img
options $CMDLINE
EOF
rm -f "$WORK/esp.img"
mkfs.vfat -C -F 32 -n ESP "$WORK/esp.img" $((ESP_MIB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$WORK/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/loader ::/loader/entries ::/a
mcopy -i "$WORK/esp.img" "$R/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$WORK/esp.img" "$R/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/systemd/systemd-bootx64.efi
mcopy -i "$WORK/esp.img" "$WORK/loader.conf" ::/loader/loader.conf
mcopy -i "$WORK/esp.img" "$WORK/a.conf" ::/loader/entries/a.conf
mcopy -i "$WORK/esp.img" "$R/boot/vmlinuz-$KVER" ::/a/vmlinuz
mcopy -i "$WORK/esp.img" "$R/boot/initrd.img-$KVER" ::/a/initrd.img
printf '%s\n' "$VERSION" >"$WORK/kiosk-image-version.txt"
mcopy -i "$WORK/esp.img" "$WORK/kiosk-image-version.txt" ::/kiosk-image-version.txt

step "root slot (squashfs, zstd)"
mksquashfs "$R" "$WORK/root.sqfs" -comp zstd -Xcompression-level 6 -b 1M -noappend -quiet -no-progress \
  -wildcards -e 'proc/*' 'sys/*' 'dev/*' 'run/*' 'tmp/*' 'boot/initrd.img-*' # The initramfs lives on the ESP.
ROOT_BYTES=$(stat -c %s "$WORK/root.sqfs")
# A slot holds this root and a bigger future one: 1.5x, at least 1 GiB.
SLOT_MIB=$(((ROOT_BYTES * 3 / 2 / 1048576 + 63) / 64 * 64))
((SLOT_MIB >= 1024)) || SLOT_MIB=1024

step "data partition (ext4: the overlay's upper layer)"
DATA_MIB=256
mkdir -p "$WORK/data/overlay/upper" "$WORK/data/overlay/work"
rm -f "$WORK/data.img"
mkfs.ext4 -q -L data -d "$WORK/data" "$WORK/data.img" "${DATA_MIB}M"

step "disk (GPT)"
IMG=$OUT/kiosk.img
rm -f "$IMG" "$IMG.bmap"
START=1
TOTAL_MIB=$((START + ESP_MIB + 2 * SLOT_MIB + DATA_MIB + 1))
truncate -s "${TOTAL_MIB}M" "$IMG"
# Type GUIDs: EFI system, x86-64 root (both slots), Linux data.
sfdisk --quiet "$IMG" <<EOF
label: gpt
unit: sectors
start=$((START * 2048)), size=$((ESP_MIB * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
size=$((SLOT_MIB * 2048)), type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root-a"
size=$((SLOT_MIB * 2048)), type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root-b"
size=$((DATA_MIB * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="data"
EOF
put() { dd if="$1" of="$IMG" bs=1M seek="$2" conv=notrunc,sparse status=none; }
put "$WORK/esp.img" $START
put "$WORK/root.sqfs" $((START + ESP_MIB))
put "$WORK/data.img" $((START + ESP_MIB + 2 * SLOT_MIB))
bmaptool create -o "$IMG.bmap" "$IMG"
printf '%s\n' "$VERSION" >"$OUT/kiosk.img.version"
# The package inside, for the boot test (it seeds state with the same kiosk-app).
[ -z "${DEB:-}" ] || printf '%s\n' "$DEB" >"$OUT/kiosk.img.package"
[ -z "${KEY:-}" ] || echo "$KEY" >"$OUT/kiosk.img.key"

step "done: $IMG"
echo "version:  $VERSION"
echo "root:     $((ROOT_BYTES / 1048576)) MiB squashfs in ${SLOT_MIB} MiB slots"
echo "image:    $(du -h --apparent-size "$IMG" | cut -f1) (${TOTAL_MIB} MiB), $(du -h "$IMG" | cut -f1) of it written"
echo "build:    $(($(date +%s) - started)) s"
