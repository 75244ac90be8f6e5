#!/usr/bin/env bash
# Lint the udev rules: `udevadm verify` must pass and print no warning.
#
# Why a chroot: `udevadm verify` needs systemd 254 or later; Debian 12 has
# 252, whose `udevadm test` prints "Invalid key" and still exits 0. So the
# rules are checked by trixie's udevadm, in a throw-away trixie root made by
# mmdebstrap (~20 s) and kept under target/ for the next run (delete
# target/udev-verify-root to refresh it).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v mmdebstrap >/dev/null; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends mmdebstrap
fi

root=target/udev-verify-root
if [ ! -x "$root/usr/bin/udevadm" ]; then
  rm -rf "$root" "$root.new"
  mkdir -p target
  $SUDO mmdebstrap --quiet --variant=essential --include=udev \
    --dpkgopt='path-exclude=/usr/share/{doc,man,locale}/*' \
    trixie "$root.new" "deb http://deb.debian.org/debian trixie main"
  mv "$root.new" "$root"
fi

rules=(udev-rules/*.rules)
# Nothing world-readable or world-writable: a MODE must end in 0.
if grep -nE 'MODE[:]?=\"[0-7]*[1-7]\"' "${rules[@]}"; then
  echo "FAIL a device mode above gives other users access (use 0660 at most)" >&2
  exit 1
fi
rm -rf "$root/kiosk-rules" && mkdir "$root/kiosk-rules"
cp "${rules[@]}" "$root/kiosk-rules/"
# Names resolved offline: the groups must exist in the root to be checked.
out=$($SUDO chroot "$root" udevadm verify --resolve-names=never /kiosk-rules 2>&1) || {
  echo "$out" >&2
  echo "FAIL udevadm verify" >&2
  exit 1
}
if grep -qiE 'warn|invalid|error|style' <<<"$out" || grep -q ':[0-9]\+ ' <<<"$out"; then
  echo "$out" >&2
  echo "FAIL udevadm verify printed warnings" >&2
  exit 1
fi
echo "$out"
echo "udev rules: ${#rules[@]} file(s) verified"
