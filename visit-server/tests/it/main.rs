//! Integration tests: a real visit-server on 127.0.0.1:0 with a real SQLite
//! file, driven over HTTP, with the server's clock injected.

mod admin_api;
mod admin_lists;
mod admin_review;
mod admin_scope;
mod booking;
mod browser_token;
mod cancel_sanction;
mod cli;
mod console_admin;
mod console_browser;
mod console_people;
mod console_screens;
mod console_security;
mod console_session;
mod errors;
mod mail;
mod openapi;
mod recording_browser;
mod recording_console;
mod recording_upload;
mod signal;
mod sockets;
mod terminal;
mod unit_signin;
mod util;
// The browser helper kiosk-app's tests and benchmark use.
#[path = "../../../kiosk-app/tests/it/webdriver.rs"]
#[allow(dead_code)]
mod webdriver;
