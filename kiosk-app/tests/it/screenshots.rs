//! `kiosk-app screenshots DIR` renders every lobby screen, in each language,
//! at 1280x800, with no display.

use std::collections::HashSet;
use std::process::Command;

#[test]
fn screenshots_command_writes_every_screen_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiosk-app"))
        .arg("screenshots")
        .arg(dir.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let screens = [
        "attract",
        "attract-offline",
        "pin-entry",
        "not-recognized",
        "locked",
        "too-early",
        "ended",
        "cancelled",
        "terminated",
        "checked-in",
        "waiting-scheduled",
        "waiting-ready",
        "waiting-confidential",
        "in-call-connecting",
        "in-call",
        "in-call-two-visitors",
        "in-call-three-visitors",
        "in-call-5-min",
        "in-call-1-min",
        "in-call-camera-off",
        "in-call-reconnecting",
        "in-call-confirm-end",
        "call-ended-time-up",
        "call-ended-by-staff",
        "call-ended-by-other",
        "enrol",
        "enrol-invalid",
    ];
    for lang in ["en", "es"] {
        for screen in screens {
            let path = dir.path().join(format!("{lang}-{screen}.png"));
            let decoder =
                png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!((info.width, info.height), (1280, 800), "{}", path.display());
            let px = info.color_type.samples();
            let colours: HashSet<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
            assert!(
                colours.len() > 20,
                "{} looks blank ({} colours)",
                path.display(),
                colours.len()
            );
        }
    }
}
