//! `kiosk-app`: see `kiosk-app --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match kiosk_app::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kiosk-app: {e:#}");
            ExitCode::FAILURE
        }
    }
}
