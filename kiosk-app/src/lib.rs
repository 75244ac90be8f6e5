//! kiosk-app: the program on a facility's terminals.
//!
//! A lobby terminal caches the day's schedule, checks visitors in by PIN
//! (online or offline), and delivers what happened to visit-server from a
//! durable outbox. A housing-unit terminal signs the incarcerated person in
//! ([`unit`]) and lists their visits of the day, offline too. The pieces: [`checkin`] (pure state machine), [`schedule`]
//! (validated, indexed schedule), [`store`] (SQLite files), [`sync`]
//! (background network), [`terminal`] (the wiring), and two faces for it:
//! [`window`] (touchscreen) and [`headless`] (standard input); [`notify`]
//! tells systemd when the first frame is up and feeds its watchdog;
//! [`technician`] is the technician's PIN-protected diagnostics screen.

pub mod call;
pub mod checkin;
pub mod cli;
pub mod config;
pub mod demo;
pub mod describe;
pub mod devices;
pub mod diagnose;
pub mod disk;
pub mod enrolment;
pub mod headless;
pub mod identity;
pub mod notify;
pub mod schedule;
pub mod shown;
pub mod store;
pub mod sync;
pub mod technician;
pub mod terminal;
pub mod unit;
pub mod window;
