#!/usr/bin/env bash
# Build the Debian packages kiosk-app_<v>_amd64.deb and
# visit-server_<v>_amd64.deb into target/debian/ from the binaries of a
# cargo profile (built here unless --no-build).
#
#   packaging/build-debs.sh [--no-build] [--profile PROFILE] [PACKAGE...]
#
# PROFILE: release (the default), or appliance (release without debug info,
# what the terminal image uses: faster to build from scratch, see the root
# Cargo.toml). PACKAGE: kiosk-app and/or visit-server (default both).
# A package whose binary and files have not changed since the last run is
# not rebuilt.
#
# Why dpkg-deb and not cargo-deb: see packaging/README.md (in short: the
# same .deb from tools every Debian machine has, and no `cargo install` of
# cargo-deb, which Debian 12 does not package, on every clean CI run).
#
# Layout: files under packaging/<package>/ install where they sit
# (etc/, usr/); units come from systemd/; udev rules from udev-rules/*.rules
# when that directory exists.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=1
PROFILE=release
PACKAGES=()
while (($#)); do
  case "$1" in
  --no-build) BUILD=0 ;;
  --profile) PROFILE=$2; shift ;;
  kiosk-app | visit-server) PACKAGES+=("$1") ;;
  *) echo "usage: $0 [--no-build] [--profile PROFILE] [kiosk-app] [visit-server]" >&2; exit 2 ;;
  esac
  shift
done
((${#PACKAGES[@]})) || PACKAGES=(kiosk-app visit-server)
if ((BUILD)); then
  cargo build --profile "$PROFILE" --locked $(printf -- '-p %s ' "${PACKAGES[@]}")
fi
BIN_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
ARCH=$(dpkg --print-architecture)
OUT=$ROOT/target/debian
mkdir -p "$OUT"

# package binary unit description depends [recommends]
build() {
  local pkg=$1 bin=$2 unit=$3 desc=$4 depends=$5 recommends=${6:-}
  local deb="$OUT/${pkg}_${VERSION}_${ARCH}.deb" key stage
  # Skip when nothing that goes into the package has changed.
  key=$({ echo "$pkg $VERSION $ARCH $desc $depends $recommends"; cat "$BIN_DIR/$bin" "systemd/$unit" "packaging/$pkg.postinst" "packaging/$pkg.prerm" README.md LICENSE;
    find "packaging/$pkg" udev-rules -type f -name '*' 2>/dev/null | sort | xargs cat; cat "$0"; } | sha256sum | cut -d' ' -f1)
  if [ -e "$deb" ] && [ "$(cat "$OUT/.$pkg.key" 2>/dev/null)" = "$key" ]; then
    echo "$deb"
    return
  fi
  stage=$(mktemp -d)
  cp -a "packaging/$pkg/." "$stage/"
  install -Dm0755 "$BIN_DIR/$bin" "$stage/usr/bin/$bin"
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
${recommends:+Recommends: $recommends
}Homepage: https://example.invalid/visitation
Description: $desc
CONTROL
  find "$stage/etc" -type f | sed "s|^$stage||" >"$stage/DEBIAN/conffiles"
  install -m0755 "packaging/$pkg.postinst" "$stage/DEBIAN/postinst"
  install -m0755 "packaging/$pkg.prerm" "$stage/DEBIAN/prerm"
  dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
  rm -rf "$stage"
  echo "$key" >"$OUT/.$pkg.key"
  echo "$deb"
}

# GStreamer plugins are loaded at run time, so dpkg-shlibdeps cannot see them:
# the terminal's run-time packages come from hal/src/elements.rs (a test there
# checks these two lines against its list).
KIOSK_DEPENDS="gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-x, gstreamer1.0-plugins-bad, gstreamer1.0-libav, gstreamer1.0-alsa, gstreamer1.0-nice, gstreamer1.0-plugins-ugly"
KIOSK_RECOMMENDS="gstreamer1.0-vaapi"

for pkg in "${PACKAGES[@]}"; do
  case "$pkg" in
  kiosk-app)
    build kiosk-app kiosk-app kiosk.service \
      "video-visitation terminal (touchscreen kiosk)" \
      "systemd, $KIOSK_DEPENDS" "$KIOSK_RECOMMENDS"
    ;;
  visit-server)
    build visit-server visit-server visit-server.service \
      "video-visitation server (facility rules, bookings, terminal API)" \
      "systemd"
    ;;
  esac
done
