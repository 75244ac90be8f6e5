//! The facility's rules as pure functions: no SQLite, no clock, no network.
//!
//! Every decision that a family could dispute (may I book this slot, do I get
//! my money back, why was my visit refused) is made here from plain values, so
//! it can be tested at its exact boundary and read in one place.

pub mod booking;
pub mod cancel;
pub mod names;
pub mod policy;
pub mod recording;
pub mod refusal;
pub mod sanction;
pub mod status;

pub use refusal::Refusal;
