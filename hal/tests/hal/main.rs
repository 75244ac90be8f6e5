//! The hal crate's integration tests: one binary, a module per subject.
//! No hardware: discovery reads fake trees (`tests/fixtures/`), ALSA plays
//! into its `null` device and a private configuration, V4L2 is tested up
//! to its error paths.

mod alsa;
mod discovery;
mod faults;
mod util;
mod v4l2;
mod watch;
