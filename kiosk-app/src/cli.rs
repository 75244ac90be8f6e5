//! Command line: run the terminal (touchscreen or headless) and render its
//! screens to PNG.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::terminal::Terminal;

#[derive(Debug, Parser)]
#[command(name = "kiosk-app", version, about = "Video-visitation terminal")]
pub struct Cli {
    /// Configuration file (default /etc/kiosk/kiosk.toml).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the terminal (the default).
    Run {
        /// No display: read touches from standard input, print each screen.
        #[arg(long)]
        headless: bool,
    },
    /// Check the terminal: version, identity, server, devices. For remote
    /// support, `--json`. Exits 1 when the server cannot be reached.
    Diagnose {
        #[arg(long)]
        json: bool,
    },
    /// Hash a technician PIN for the configuration's `[technician] pin_hash`.
    /// The PIN is read from standard input, not the command line, so it
    /// stays out of the shell history and the process list; typed at a
    /// terminal, it is not shown.
    HashPin,
    /// Render every lobby screen in each language at 1280x800 to PNG files in DIR.
    Screenshots { dir: PathBuf },
    /// A lobby terminal for `visit-server demo`: a window where there is a
    /// display, otherwise a scripted check-in and screenshots.
    Demo {
        /// The summary `visit-server demo --summary` wrote.
        #[arg(long, default_value = "target/visit-demo/summary.json")]
        summary: PathBuf,
        /// Where the terminal keeps its data and screenshots (cleared first).
        #[arg(long, default_value = "target/kiosk-demo")]
        dir: PathBuf,
        /// Run the scripted check-in even where there is a display.
        #[arg(long)]
        headless: bool,
        /// Only the housing-unit terminal that waits in the remote visit
        /// under way (what the window mode runs beside the lobby): prints
        /// the visit's join link, until stopped.
        #[arg(long, conflicts_with = "headless")]
        remote_visit: bool,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    init_logging();
    match cli.command.unwrap_or(Command::Run { headless: false }) {
        Command::Diagnose { json } => {
            let cfg = Config::load(cli.config.as_deref(), |k| std::env::var(k).ok())?;
            let r = crate::diagnose::report(&cfg)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{}", crate::diagnose::text(&r));
            }
            if !r.server.reachable {
                return Ok(ExitCode::from(1));
            }
        }
        Command::HashPin => {
            use std::io::IsTerminal;
            let tty = std::io::stdin().is_terminal();
            let stty = |arg: &str| {
                let _ = std::process::Command::new("stty")
                    .arg(arg)
                    .stdin(std::process::Stdio::inherit())
                    .status();
            };
            if tty {
                eprint!("Technician PIN (not shown): ");
                stty("-echo");
            }
            let mut pin = String::new();
            let read = std::io::stdin().read_line(&mut pin);
            if tty {
                stty("echo");
                eprintln!();
            }
            read?;
            println!("{}", crate::technician::pin::hash(pin.trim())?);
        }
        Command::Screenshots { dir } => {
            let files = ui::screenshots::render_all(&dir)?;
            for f in &files {
                println!("{}", f.display());
            }
        }
        Command::Demo {
            summary,
            dir,
            headless,
            remote_visit,
        } => {
            let mode = if remote_visit {
                crate::demo::Mode::RemoteVisit
            } else if !headless && crate::demo::display_available() {
                crate::demo::Mode::Window
            } else {
                crate::demo::Mode::Scripted
            };
            crate::demo::run(&summary, &dir, mode)?;
        }
        Command::Run { headless } => {
            let cfg = Config::load(cli.config.as_deref(), |k| std::env::var(k).ok())?;
            if headless {
                crate::headless::run(Terminal::start(&cfg)?, std::io::stdout())?;
            } else {
                crate::window::run(&cfg)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
