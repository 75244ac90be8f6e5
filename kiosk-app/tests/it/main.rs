//! Integration tests: the real `kiosk-app` binary, headless, against a real
//! visit-server on loopback (or a misbehaving fake one).

mod bad_server;
mod bad_uploads;
mod browser;
mod call;
mod demo;
mod diagnose;
mod enrol;
mod offline;
mod recorded;
mod recording;
mod screenshots;
mod technician;
mod unit;
mod util;
mod webdriver;
