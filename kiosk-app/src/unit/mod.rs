//! The housing-unit terminal: the incarcerated person signs in with ID
//! number and PIN, sees the day's visits and joins one.
//!
//! - [`signin`]: the pure state machine (touches, `now` and the schedule
//!   in; effects and the view out), with the lobby's [`crate::checkin::Lockout`].
//! - [`photo`]: the still taken at sign-in, JPEG-encoded with GStreamer
//!   from `hal`'s camera.
//! - [`describe`]: the unit screens as one line for headless mode.
//!
//! Sign-in and the list work offline from the cached schedule, which
//! carries the unit's persons with an Argon2id verifier of each PIN; the
//! call itself needs the server.

pub mod describe;
pub mod photo;
pub mod signin;

#[cfg(test)]
mod tests;
