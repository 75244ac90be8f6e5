//! Fixtures and helpers shared by the test modules.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gst::prelude::*;

/// `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The fake terminal's sysfs and /dev.
pub fn terminal() -> hal::Roots {
    hal::Roots::under(&fixture("terminal"))
}

/// A copy of the fake terminal that a test may change (symlinks kept).
pub fn terminal_copy() -> (tempfile::TempDir, hal::Roots) {
    let dir = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new("cp")
        .arg("-a")
        .arg(fixture("terminal/sys"))
        .arg(fixture("terminal/dev"))
        .arg(dir.path())
        .status()
        .unwrap()
        .success();
    assert!(ok, "copying the fixture tree");
    let roots = hal::Roots::under(dir.path());
    (dir, roots)
}

/// `src ! sink` in a pipeline (the caller sets it playing).
pub fn pipeline(src: &gst::Element, sink: &gst::Element) -> gst::Pipeline {
    gst::init().unwrap();
    let p = gst::Pipeline::new();
    p.add_many([src, sink]).unwrap();
    src.link(sink).unwrap();
    p
}

/// An appsink keeping only the newest buffer (so "no buffer now" is
/// visible quickly).
pub fn appsink() -> gst::Element {
    gst::ElementFactory::make("appsink")
        .property("sync", false)
        .property("max-buffers", 1u32)
        .property("drop", true)
        .build()
        .unwrap()
}

pub fn pull(sink: &gst::Element, timeout: Duration) -> Option<gst::Sample> {
    sink.emit_by_name::<Option<gst::Sample>>("try-pull-sample", &[&(timeout.as_nanos() as u64)])
}

/// Run until end of stream; panic on an error or after `timeout`.
pub fn run_to_eos(p: &gst::Pipeline, timeout: Duration) {
    p.set_state(gst::State::Playing).unwrap();
    let bus = p.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_nseconds(timeout.as_nanos() as u64),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("end of stream in time");
    p.set_state(gst::State::Null).unwrap();
    if let gst::MessageView::Error(e) = msg.view() {
        panic!("pipeline error: {} ({:?})", e.error(), e.debug());
    }
}
