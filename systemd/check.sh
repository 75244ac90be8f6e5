#!/usr/bin/env bash
# Check the project's systemd units: `systemd-analyze verify` must print
# nothing, and `systemd-analyze security --offline=yes` must score each
# service at most 2.0 (threshold 20 = score x 10).
#
# Units: the arguments, or every unit in systemd/ and image-build/.
#
# Why a throw-away root: `verify` fails when a unit's ExecStart binary is not
# installed, which it is not on a build machine; in a root holding the host's
# stock units, the project's units and a stub for each program they run, the
# units are checked alone, the same on any machine.
set -euo pipefail
cd "$(dirname "$0")/.."
THRESHOLD=${THRESHOLD:-20}

if (($#)); then
  units=("$@")
else
  mapfile -t units < <(find systemd image-build -name '*.service' -o -name '*.timer' -o -name '*.socket' 2>/dev/null | sort)
fi
((${#units[@]})) || { echo "systemd/check.sh: no units found" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
for u in "${units[@]}"; do
  cp "$u" "$root/etc/systemd/system/"
  # A stub for every absolute program the unit runs.
  grep -oE '^Exec[A-Za-z]*=[-@:+!|]*/[^ ]+' "$u" | sed -E 's/^[^=]*=[-@:+!|]*//' | while read -r bin; do
    mkdir -p "$root$(dirname "$bin")"
    [ -e "$root$bin" ] || { printf '#!/bin/sh\n' >"$root$bin"; chmod +x "$root$bin"; }
  done
done

fail=0
for u in "${units[@]}"; do
  name=$(basename "$u")
  out=$(systemd-analyze verify --root="$root" "$name" 2>&1) || { fail=1; echo "FAIL verify $u (exit status)" >&2; }
  if [ -n "$out" ]; then
    fail=1
    echo "FAIL verify $u:" >&2
    echo "$out" >&2
  fi
  case "$name" in
  *.service)
    # Score the file itself (offline: it need not be installed).
    if sec=$(systemd-analyze security --offline=yes --threshold="$THRESHOLD" "$u" 2>&1); then
      echo "ok   $u: $(echo "$sec" | grep -oE 'exposure level for [^ ]+: [0-9.]+' | sed 's/.*: //')"
    else
      fail=1
      echo "FAIL security $u (above $THRESHOLD/10):" >&2
      echo "$sec" | grep -E '✗|Overall' >&2
    fi
    ;;
  *) echo "ok   $u" ;;
  esac
done
exit $fail
