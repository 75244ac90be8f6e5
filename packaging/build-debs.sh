#!/usr/bin/env bash
# Build the Debian packages kiosk-app_<v>_amd64.deb and
# visit-server_<v>_amd64.deb into target/debian/ from the release binaries
# (built here unless --no-build).
#
# Why dpkg-deb and not cargo-deb: the packages are a binary, a unit, a
# sysusers file, a configuration file and two small scripts; dpkg-deb and
# dpkg-shlibdeps are on every Debian machine, while `cargo install cargo-deb`
# compiles a few hundred crates on every clean CI run.
#
# Layout: files under packaging/<package>/ install where they sit
# (etc/, usr/); units come from systemd/; udev rules from udev-rules/*.rules
# when that directory exists.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ "${1:-}" != "--no-build" ]; then
  cargo build --release --locked -p kiosk-app -p visit-server
fi
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
ARCH=$(dpkg --print-architecture)
OUT=$ROOT/target/debian
mkdir -p "$OUT"

# package binary unit description depends...
build() {
  local pkg=$1 bin=$2 unit=$3 desc=$4 depends=$5
  local stage
  stage=$(mktemp -d)
  cp -a "packaging/$pkg/." "$stage/"
  install -Dm0755 "target/release/$bin" "$stage/usr/bin/$bin"
  # Debug info stays in target/: the package carries a stripped binary.
  strip --strip-debug "$stage/usr/bin/$bin"
  install -Dm0644 "systemd/$unit" "$stage/usr/lib/systemd/system/$unit"
  install -Dm0644 README.md "$stage/usr/share/doc/$pkg/README.md"
  install -Dm0644 LICENSE "$stage/usr/share/doc/$pkg/copyright"
  if [ "$pkg" = kiosk-app ] && compgen -G "udev-rules/*.rules" >/dev/null; then
    install -Dm0644 -t "$stage/usr/lib/udev/rules.d" udev-rules/*.rules
  fi
  # Shared libraries the binary links against, as Debian names them.
  local shlibs
  shlibs=$(cd "$stage" && mkdir -p debian && printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >debian/control &&
    dpkg-shlibdeps -O "usr/bin/$bin" 2>/dev/null | sed -n 's/^shlibs:Depends=//p'; rm -rf debian)
  mkdir -p "$stage/DEBIAN"
  cat >"$stage/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $VERSION
Architecture: $ARCH
Maintainer: Open video visitation <maintainers@example.invalid>
Section: misc
Priority: optional
Depends: ${shlibs}${depends:+, $depends}
Homepage: https://example.invalid/visitation
Description: $desc
CONTROL
  find "$stage/etc" -type f | sed "s|^$stage||" >"$stage/DEBIAN/conffiles"
  install -m0755 "packaging/$pkg.postinst" "$stage/DEBIAN/postinst"
  install -m0755 "packaging/$pkg.prerm" "$stage/DEBIAN/prerm"
  dpkg-deb --root-owner-group -Zxz --build "$stage" "$OUT/${pkg}_${VERSION}_${ARCH}.deb" >/dev/null
  rm -rf "$stage"
  echo "$OUT/${pkg}_${VERSION}_${ARCH}.deb"
}

# GStreamer plugins are loaded at run time, so dpkg-shlibdeps cannot see them.
build kiosk-app kiosk-app kiosk.service \
  "video-visitation terminal (touchscreen kiosk)" \
  "systemd, gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-bad, gstreamer1.0-plugins-ugly, gstreamer1.0-libav, gstreamer1.0-nice, gstreamer1.0-alsa"
build visit-server visit-server visit-server.service \
  "video-visitation server (facility rules, bookings, terminal API)" \
  "systemd"
