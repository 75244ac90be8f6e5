#!/usr/bin/env bash
# Boot target/image/kiosk.img in QEMU and check the terminal comes up:
#   - UEFI (OVMF) -> systemd-boot -> slot A -> overlay root -> kiosk.service
#     ready (kiosk-ready-report.service prints its line on the serial port);
#   - nothing listens on any port;
#   - a screenshot of the emulated display (standard VGA, bochs DRM, Slint
#     linuxkms-software) taken through the QEMU monitor is not blank.
# Exits 0 only when all of that holds. Emulated (TCG), no network, and the
# disk in snapshot mode: the image is not modified.
#
#   image-build/boot-test.sh [IMAGE]     (TIMEOUT=seconds, default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
IMG=${1:-target/image/kiosk.img}
TIMEOUT=${TIMEOUT:-600}
OUT=target/image/boot-test
[ -e "$IMG" ] || { echo "boot-test: no image at $IMG; run image-build/build.sh" >&2; exit 1; }
image-build/deps
rm -rf "$OUT"
mkdir -p "$OUT"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$OUT/vars.fd"

started=$(date +%s.%N)
qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 2 -m 2048 \
  -nic none -no-reboot \
  -drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
  -drive if=pflash,format=raw,unit=1,file="$OUT/vars.fd" \
  -drive file="$IMG",format=raw,if=virtio,snapshot=on \
  -vga std -display none \
  -serial file:"$OUT/serial.log" \
  -monitor unix:"$OUT/monitor.sock",server=on,wait=off \
  -pidfile "$OUT/qemu.pid" -daemonize
QEMU_PID=$(cat "$OUT/qemu.pid")
trap 'kill "$QEMU_PID" 2>/dev/null || true' EXIT

monitor() {
  python3 - "$OUT/monitor.sock" "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(30)
def read_until(tok):
    buf = b""
    while tok not in buf:
        buf += s.recv(4096)
    return buf
read_until(b"(qemu)")
s.sendall(sys.argv[2].encode() + b"\n")
read_until(b"(qemu)")
EOF
}

echo "boot-test: booting $IMG (TCG, emulated: slow), waiting up to ${TIMEOUT}s for kiosk.service" >&2
ready=""
while :; do
  if ready=$(grep -a -m1 'kiosk-image: ready' "$OUT/serial.log" 2>/dev/null); then break; fi
  if ! kill -0 "$QEMU_PID" 2>/dev/null; then
    echo "boot-test: FAIL: QEMU exited before the kiosk was ready" >&2
    tail -40 "$OUT/serial.log" >&2
    exit 1
  fi
  if (($(date +%s) - ${started%.*} > TIMEOUT)); then
    echo "boot-test: FAIL: kiosk.service not ready after ${TIMEOUT}s" >&2
    tail -40 "$OUT/serial.log" >&2
    exit 1
  fi
  sleep 1
done
boot_s=$(awk "BEGIN { printf \"%.0f\", $(date +%s.%N) - $started }")
ready=$(echo "$ready" | tr -d '\r')
echo "boot-test: $ready" >&2
sleep 2 # Let the report's listening lines reach the log.

# The frame was on screen before READY=1; take it.
monitor "screendump $PWD/$OUT/screen.ppm"
shot=0
python3 - "$OUT/screen.ppm" "$OUT/screen.png" <<'EOF' || shot=$?
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
# P6 header: magic, width, height, maxval, then RGB bytes.
parts, pos = [], 0
while len(parts) < 4:
    while data[pos:pos+1].isspace(): pos += 1
    if data[pos:pos+1] == b"#":
        pos = data.index(b"\n", pos) + 1; continue
    end = pos
    while not data[end:end+1].isspace(): end += 1
    parts.append(data[pos:end]); pos = end
pos += 1
assert parts[0] == b"P6", parts[0]
w, h = int(parts[1]), int(parts[2])
rgb = data[pos:pos + w * h * 3]
rows = b"".join(b"\0" + rgb[y*w*3:(y+1)*w*3] for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
open(sys.argv[2], "wb").write(png)
pixels = [rgb[i:i+3] for i in range(0, len(rgb), 3 * 7)]  # a sample
colours = len(set(pixels))
first = pixels[0]
differ = sum(1 for p in pixels if p != first) / len(pixels)
print(f"{w}x{h} {colours} colours, {differ:.0%} of pixels differ from the corner")
# Blank: one colour (black console, or an empty buffer). The kiosk's screens
# have text, buttons and a background: many colours (anti-aliased text).
sys.exit(0 if colours >= 16 and differ >= 0.01 else 3)
EOF

listening=$(echo "$ready" | sed -n 's/.*listening=\([0-9]*\).*/\1/p')
first_frame=$(echo "$ready" | sed -n 's/.*start_to_first_frame_ms=\([0-9]*\).*/\1/p')
uptime=$(echo "$ready" | sed -n 's/.*uptime=\([0-9.]*\)s.*/\1/p')
echo "boot-test: ready ${boot_s}s after QEMU started (kernel uptime ${uptime}s; emulated TCG), kiosk start-to-first-frame ${first_frame:-?} ms"
echo "boot-test: screenshot $OUT/screen.png"
fail=0
[ "$listening" = 0 ] || { echo "boot-test: FAIL: sockets listening:" >&2; grep -a 'kiosk-image: listening:' "$OUT/serial.log" >&2; fail=1; }
[ "$shot" = 0 ] || { echo "boot-test: FAIL: the screen is blank" >&2; fail=1; }
if grep -aqi 'login:' "$OUT/serial.log"; then echo "boot-test: FAIL: a login prompt on the console" >&2; fail=1; fi
((fail == 0)) && echo "boot-test: PASS"
exit $fail
