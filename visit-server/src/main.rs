//! `visit-server`: see `visit-server --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match visit_server::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("visit-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
