//! Every screen renders, in both languages, to a PNG a reviewer can look at.
//!
//! A test binary of its own, against the one-binary-per-crate habit: the
//! screenshot renderer installs its own Slint platform, and keeping it out
//! of the process that runs the testing backend (tests/ui.rs) means neither
//! can find the other's platform already set.

use std::collections::HashSet;
use std::path::Path;

use ui::screenshots::{render_all, sample_enrol_views, sample_views};

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
        .collect();
    assert_eq!(names.len(), 12);
    assert!(names.contains(&"enrol") && names.contains(&"enrol-invalid"));
    assert_eq!(paths.len(), 24);

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
}
