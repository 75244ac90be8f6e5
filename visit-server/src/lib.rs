//! visit-server: the service lobby and housing-unit terminals talk to.
//!
//! It knows each facility's visits, enforces the facility's booking rules,
//! issues the PIN a visitor types at the lobby monitor, hands terminals the
//! day schedule they cache for offline use, records what terminals report,
//! and keeps the history of every visit so a failed visit can be explained
//! from the server's records alone.
//!
//! Layers, outermost first: [`cli`] and [`api`] (HTTP) call [`service`]
//! (SQLite transactions), which asks [`domain`] (pure rules) for decisions.

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod domain;
pub mod keys;
pub mod mail;
pub mod rooms;
pub mod server;
pub mod service;
pub mod state;
pub mod totp;
