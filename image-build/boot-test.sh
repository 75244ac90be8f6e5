#!/usr/bin/env bash
# Boot target/image/kiosk.img in QEMU and check the terminal comes up and
# keeps itself running:
#   1. state: a lobby terminal enrols to `visit-server demo` on loopback on
#      this machine and syncs its schedule (the image's own kiosk-app, from
#      its package, headless; visit-server from the debug build);
#      its data directory goes onto a copy of the image's data partition, as
#      if the terminal had been enrolled and then lost its network;
#   2. UEFI (OVMF) -> systemd-boot -> slot A -> overlay root -> kiosk.service
#      ready (kiosk-ready-report.service prints its line on the serial port);
#      nothing listens on any port; no login prompt;
#   3. a screenshot of the emulated display (standard VGA, bochs DRM, Slint
#      linuxkms-software) taken through the QEMU monitor is not blank and is
#      nearest to the kiosk's own attract screen (image-build/screen.py,
#      against `kiosk-app screenshots`);
#   4. the watchdog: through a virtio-serial port only this VM has, the
#      test hook (image-build/test-hook/, put into this test's copy of the
#      image only, never into the image itself) freezes kiosk-app
#      (SIGSTOP); systemd's watchdog must kill and restart it ("Watchdog
#      timeout" in the journal), it must be READY again with its enrolment
#      untouched, and the screen must again be the attract screen, the same
#      as before the hang: the terminal comes back to where it was.
# Exits 0 only when all of that holds. Emulated (TCG), no network in the
# guest; the image itself is not modified (the test boots a copy).
#
#   image-build/boot-test.sh [IMAGE]     (TIMEOUT=seconds per wait, default 600;
#                                         HOST_BIN=dir of kiosk-app and visit-server)
set -euo pipefail
cd "$(dirname "$0")/.."
IMG=${1:-target/image/kiosk.img}
TIMEOUT=${TIMEOUT:-600}
OUT=target/image/boot-test
PY=/usr/bin/python3 # Debian's, with python3-pil (image-build/deps)
[ -e "$IMG" ] || { echo "boot-test: no image at $IMG; run image-build/build.sh" >&2; exit 1; }
image-build/deps
rm -rf "$OUT"
mkdir -p "$OUT"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -f "$OUT/disk.img" "$OUT/data.img"
}
trap cleanup EXIT
started_test=$(date +%s)
say() { echo "boot-test: $*" >&2; }

# 1. An enrolled, synced lobby terminal's state, made on this machine.
say "enrolling a lobby terminal to visit-server demo on loopback"
# The debug binaries of the test build (`scripts/test`, which .ci/run has just
# run: fresh then; `cargo build -p ...` alone would resolve features without
# the dev-dependencies and rebuild part of the tree).
# HOST_BIN=DIR uses the visit-server already in DIR instead.
if [ -n "${HOST_BIN:-}" ]; then
  BIN=$HOST_BIN
else
  cargo test --locked --workspace --no-run -q 2>/dev/null || cargo test --locked --workspace --no-run
  BIN=${CARGO_TARGET_DIR:-target}/debug
fi
# The image's kiosk-app: the state it finds must be in its own format.
# (KIOSK_APP=path: that binary instead, for an image made with --rootfs.)
if [ -n "${KIOSK_APP:-}" ]; then
  KIOSK=$KIOSK_APP
else
  DEB=$(cat "$(dirname "$IMG")/kiosk.img.package" 2>/dev/null || ls -t target/debian/kiosk-app_*.deb | head -1)
  dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/bin/kiosk-app >"$OUT/kiosk-app"
  chmod +x "$OUT/kiosk-app"
  KIOSK=$OUT/kiosk-app
fi
mkdir -p "$OUT/server" "$OUT/data/overlay/upper/var/lib" "$OUT/data/overlay/work"
RUST_LOG=warn "$BIN/visit-server" demo --data-dir "$OUT/server" --listen 127.0.0.1:0 \
  --summary "$OUT/server/summary.json" >"$OUT/server/log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 1 300); do
  [ -s "$OUT/server/summary.json" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$OUT/server/log" >&2; say "FAIL: visit-server demo did not start"; exit 1; }
  sleep 0.1
done
sleep 0.2
read -r url code < <($PY -c 'import json, sys
s = json.load(open(sys.argv[1]))
print(s["server_url"], next(t["code"] for t in s["terminals"] if t["role"] == "lobby"))' "$OUT/server/summary.json")
STATE=$PWD/$OUT/data/overlay/upper/var/lib/kiosk
cat >"$OUT/seed.toml" <<EOF
server_url = "$url"
role = "lobby"
data_dir = "$STATE"
language = "en"
enrolment_code = "$code"
[devices]
backend = "simulated"
EOF
printf 'wait 3\nstatus\nquit\n' | RUST_LOG=warn "$KIOSK" --config "$OUT/seed.toml" run --headless >"$OUT/seed.log" 2>&1 || true
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
seeded=$(grep -a '^\[attract\] [^ ]' "$OUT/seed.log" | tail -1 || true)
[ -n "$seeded" ] && [ -s "$STATE/identity.json" ] || { cat "$OUT/seed.log" >&2; say "FAIL: the terminal did not enrol and sync"; exit 1; }
say "enrolled and synced: $seeded"
# The kiosk's own screens to recognise the display by (in the background:
# the VM boots meanwhile).
"$KIOSK" screenshots "$OUT/reference" >"$OUT/reference.log" 2>&1 &
refs=$!

# 2. The disk: a sparse copy of the image with that state on its data
# partition (the overlay's upper layer). systemd gives /var/lib/kiosk to the
# image's kiosk user on start (StateDirectory=).
cp --sparse=always "$IMG" "$OUT/disk.img"
read -r data_start data_sectors < <(sfdisk --json "$OUT/disk.img" | $PY -c 'import json, sys
p = next(p for p in json.load(sys.stdin)["partitiontable"]["partitions"] if p.get("name") == "data")
print(p["start"], p["size"])')
# The test hook, in this copy only: the overlay's upper layer is the root's
# writable top, so these files appear in / and systemd starts the hook.
cp -a image-build/test-hook/. "$OUT/data/overlay/upper/"
mkdir -p "$OUT/data/overlay/upper/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/kiosk-test-hook.service \
  "$OUT/data/overlay/upper/etc/systemd/system/multi-user.target.wants/kiosk-test-hook.service"
chown -R 0:0 "$OUT/data"
mkfs.ext4 -q -L data -d "$OUT/data" "$OUT/data.img" "$((data_sectors / 2))k" >/dev/null
dd if="$OUT/data.img" of="$OUT/disk.img" bs=512 seek="$data_start" conv=notrunc,sparse status=none
rm -f "$OUT/data.img"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$OUT/vars.fd"

started=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 2 -m 2048 \
  -nic none -no-reboot \
  -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,unit=1,file="$OUT/vars.fd" \
  -drive file="$OUT/disk.img",format=raw,if=virtio \
  -device virtio-serial-pci \
  -chardev socket,id=test,path="$OUT/test.sock",server=on,wait=off \
  -device virtserialport,chardev=test,name=org.example.kiosk.test \
  -vga std -display none \
  -serial file:"$OUT/serial.log" \
  -monitor unix:"$OUT/monitor.sock",server=on,wait=off \
  -pidfile "$OUT/qemu.pid" -daemonize
QEMU_PID=$(cat "$OUT/qemu.pid")
pids+=("$QEMU_PID")

# The test port: connected from the start (a virtio port reads as closed
# while no one is connected), it sends each line appended to $OUT/port.in.
: >"$OUT/port.in"
$PY - "$OUT/test.sock" "$OUT/port.in" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
for _ in range(300):
    try:
        s.connect(sys.argv[1])
        break
    except OSError:
        time.sleep(0.1)
sent = 0
while True:
    data = open(sys.argv[2], "rb").read()
    if len(data) > sent:
        s.sendall(data[sent:])
        sent = len(data)
    time.sleep(0.2)
EOF
pids+=($!)
send() { echo "$1" >>"$OUT/port.in"; }

monitor() {
  $PY - "$OUT/monitor.sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(30)
def read_until(tok):
    buf = b""
    while tok not in buf:
        buf += s.recv(4096)
read_until(b"(qemu)")
s.sendall(sys.argv[2].encode() + b"\n")
read_until(b"(qemu)")
EOF
}

# On failure: kiosk.service's journal, through the test hook.
journal() {
  send journal
  for _ in $(seq 1 60); do
    grep -aq 'kiosk-test: journal end' "$OUT/serial.log" && break
    kill -0 "$QEMU_PID" 2>/dev/null || break
    sleep 1
  done
  grep -a 'kiosk-test: journal:' "$OUT/serial.log" | sed 's/^kiosk-test: journal: /  /' >&2 || true
}

# Wait for a line matching $1 on the serial port; prints it.
wait_for() {
  local since=$(date +%s) line
  while :; do
    if line=$(grep -a -m1 "$1" "$OUT/serial.log" 2>/dev/null); then echo "$line" | tr -d '\r'; return 0; fi
    if grep -aq 'Failed to start.*kiosk\.serv' "$OUT/serial.log"; then
      say "FAIL: kiosk.service failed to start; its journal:"; journal; return 1
    fi
    if ! kill -0 "$QEMU_PID" 2>/dev/null; then
      say "FAIL: QEMU exited while waiting for \"$1\""; tail -40 "$OUT/serial.log" >&2; return 1
    fi
    if (($(date +%s) - since > TIMEOUT)); then
      say "FAIL: no \"$1\" after ${TIMEOUT}s"; tail -40 "$OUT/serial.log" >&2; return 1
    fi
    sleep 1
  done
}

fail=0
wait "$refs" || { cat "$OUT/reference.log" >&2; say "FAIL: kiosk-app screenshots"; exit 1; }
say "booting $IMG (TCG, emulated: slow), waiting up to ${TIMEOUT}s for kiosk.service"
ready=$(wait_for 'kiosk-image: ready') || exit 1
boot_s=$(awk "BEGIN { printf \"%.0f\", $(date +%s.%N) - $started }")
say "$ready"
sleep 2 # Let the report's listening lines reach the log.

# 3. The frame was on screen before READY=1; take it.
monitor "screendump $PWD/$OUT/screen.ppm"
screen=$($PY image-build/screen.py check "$OUT/screen.ppm" "$OUT/screen.png" "$OUT/reference") || fail=1
say "screen after boot: $screen"

# 4. Hang the kiosk; the watchdog must bring it back as it was.
say "hanging kiosk-app (SIGSTOP through the test hook); waiting for systemd's watchdog"
hang_started=$(date +%s.%N)
send hang
watchdog=$(wait_for 'kiosk-test: watchdog:') || exit 1
back_s=$(awk "BEGIN { printf \"%.0f\", $(date +%s.%N) - $hang_started }")
say "$watchdog"
case "$watchdog" in *"watchdog: ready "*) ;; *) say "FAIL: kiosk.service did not come back"; fail=1 ;; esac
case "$watchdog" in *"identity_unchanged=yes"*) ;; *) say "FAIL: the enrolment changed or is gone"; fail=1 ;; esac
case "$watchdog" in *"Watchdog timeout"*) ;; *) say "FAIL: no \"Watchdog timeout\" in kiosk.service's journal"; fail=1 ;; esac
monitor "screendump $PWD/$OUT/screen-after-watchdog.ppm"
after=$($PY image-build/screen.py check "$OUT/screen-after-watchdog.ppm" "$OUT/screen-after-watchdog.png" \
  "$OUT/reference" --same-as "$OUT/screen.png") || fail=1
say "screen after the restart: $after"

listening=$(echo "$ready" | sed -n 's/.*listening=\([0-9]*\).*/\1/p')
first_frame=$(echo "$ready" | sed -n 's/.*start_to_first_frame_ms=\([0-9]*\).*/\1/p')
again_frame=$(echo "$watchdog" | sed -n 's/.*start_to_first_frame_ms=\([0-9]*\).*/\1/p')
uptime=$(echo "$ready" | sed -n 's/.*uptime=\([0-9.]*\)s.*/\1/p')
echo "boot-test: ready ${boot_s}s after QEMU started (kernel uptime ${uptime}s; emulated TCG), kiosk start-to-first-frame ${first_frame:-?} ms"
echo "boot-test: hung kiosk back ${back_s}s after the hang (watchdog 30 s + restart), start-to-first-frame ${again_frame:-?} ms"
echo "boot-test: screenshots $OUT/screen.png $OUT/screen-after-watchdog.png; total $(($(date +%s) - started_test)) s"
[ "$listening" = 0 ] || { say "FAIL: sockets listening:"; grep -a 'kiosk-image: listening:' "$OUT/serial.log" >&2; fail=1; }
if grep -aqi 'login:' "$OUT/serial.log"; then say "FAIL: a login prompt on the console"; fail=1; fi
((fail == 0)) && echo "boot-test: PASS"
exit $fail
