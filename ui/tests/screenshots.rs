//! Every screen renders, in both languages, to a PNG a reviewer can look at.
//!
//! A test binary of its own, against the one-binary-per-crate habit: the
//! screenshot renderer installs its own Slint platform, and keeping it out
//! of the process that runs the testing backend (tests/ui.rs) means neither
//! can find the other's platform already set.

use std::collections::HashSet;
use std::path::Path;

use ui::screenshots::{
    SAMPLE_FACE, render_all, sample_enrol_views, sample_technician_views, sample_views,
};

fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn every_screen_renders_in_english_and_spanish() {
    let dir = tempfile::tempdir().unwrap();
    let paths = render_all(dir.path()).unwrap();
    let names: Vec<_> = sample_views()
        .into_iter()
        .map(|(name, _)| name)
        .chain(sample_enrol_views().into_iter().map(|(name, _)| name))
        .chain(sample_technician_views().into_iter().map(|(name, ..)| name))
        .collect();
    assert_eq!(names.len(), 37);
    assert!(names.contains(&"technician") && names.contains(&"technician-camera-missing"));
    assert!(names.contains(&"enrol") && names.contains(&"enrol-invalid"));
    for call in [
        "waiting-ready",
        "in-call",
        "in-call-confirm-end",
        "call-ended-by-staff",
    ] {
        assert!(names.contains(&call), "{call}");
    }
    assert_eq!(paths.len(), 74);

    for name in names {
        let en = dir.path().join(format!("en-{name}.png"));
        let es = dir.path().join(format!("es-{name}.png"));
        let mut images = Vec::new();
        for path in [&en, &es] {
            assert!(paths.contains(path), "{} was rendered", path.display());
            let (width, height, rgb) = decode(path);
            assert_eq!((width, height), (1280, 800), "{}", path.display());
            // Text is anti-aliased: a real screen has many shades, a blank
            // or failed render one or two. (Every 7th pixel is plenty, and
            // hashing all of them is slow in a debug build.)
            let colours: HashSet<_> = rgb.chunks_exact(3).step_by(7).collect();
            assert!(
                colours.len() > 50,
                "{} looks blank ({} colours)",
                path.display(),
                colours.len()
            );
            images.push(rgb);
        }
        assert_ne!(
            images[0], images[1],
            "{name}: Spanish looks the same as English"
        );
    }

    // The other side's picture fills the middle of the in-call screen, and
    // the visitor's own is in the bottom-right corner.
    let (width, height, rgb) = decode(&dir.path().join("en-in-call.png"));
    let at = |x: u32, y: u32| {
        let i = (y * width + x) as usize * 3;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    };
    let near = |p: [u8; 3], q: [u8; 3]| p.iter().zip(q).all(|(&a, b)| a.abs_diff(b) <= 8);
    let face = [SAMPLE_FACE.r, SAMPLE_FACE.g, SAMPLE_FACE.b];
    assert!(
        near(at(width / 2, height / 2), face),
        "the centre shows {:?}, not the remote picture's face {face:?}",
        at(width / 2, height / 2)
    );
    // 640x480 in 1280x800 scales to 1067 wide: black bars left and right.
    assert_eq!(at(20, height / 2), [0, 0, 0], "black around the picture");
    // The self-view is warm (orange), unlike anything else on the screen.
    let [r, g, b] = at(width - 60, height - 60);
    assert!(
        r > 150 && r > b + 60,
        "self-view in the corner, got {r},{g},{b}"
    );

    // Several visitors: each picture in its own tile (two side by side,
    // three in a grid), so each face is at its tile's centre.
    for (file, centres) in [
        ("en-in-call-two-visitors.png", &[(320, 432), (960, 432)][..]),
        (
            "en-in-call-three-visitors.png",
            &[(320, 248), (960, 248), (320, 616)][..],
        ),
    ] {
        let (w, _, rgb) = decode(&dir.path().join(file));
        for &(x, y) in centres {
            let i = (y * w + x) as usize * 3;
            let p = [rgb[i], rgb[i + 1], rgb[i + 2]];
            assert!(near(p, face), "{file}: a face at {x},{y}, got {p:?}");
        }
    }

    // Without a picture, a dark placeholder rather than black or a stale
    // frame.
    let (_, _, rgb) = decode(&dir.path().join("en-in-call-camera-off.png"));
    let centre = (height / 2 * width + width / 2) as usize * 3;
    assert_ne!(&rgb[centre..centre + 3], &face[..], "no picture there");

    // The technician's self-view shows the camera's picture in the left
    // half; with the camera missing, there is none.
    let face_in_left_half = |name: &str| {
        let (width, height, rgb) = decode(&dir.path().join(name));
        (0..height).step_by(4).any(|y| {
            (0..width / 2).step_by(4).any(|x| {
                let i = (y * width + x) as usize * 3;
                near([rgb[i], rgb[i + 1], rgb[i + 2]], face)
            })
        })
    };
    assert!(face_in_left_half("en-technician.png"));
    assert!(!face_in_left_half("en-technician-camera-missing.png"));
}
