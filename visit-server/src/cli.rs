//! Command line: `serve`, `demo`, and the administrative commands a facility
//! needs before it has any API client (the first admin token, terminal
//! enrolment codes) or when looking into a complaint (a visit's history).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use protocol::TerminalRole;
use protocol::admin::{NewFacility, NewTerminal};
use uuid::Uuid;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::Db;
use crate::keys::Keys;
use crate::server::{self, AppState, ServerOptions};
use crate::service::{Ctx, admin_tokens, audit, facilities, outbox, staff, terminals, visits};

#[derive(Debug, Parser)]
#[command(
    name = "visit-server",
    version,
    about = "Video visitation server: scheduling rules, PINs, terminal API"
)]
pub struct Cli {
    /// Configuration file (default /etc/visit-server/visit-server.toml if present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (loopback by default; see the configuration to change it).
    Serve,
    /// Create a demo county jail with terminals, people and visits, print its
    /// PINs and enrolment codes, and serve it.
    Demo {
        /// Where the demo database and key go (recreated on each run).
        #[arg(long, default_value = "target/visit-demo")]
        data_dir: PathBuf,
        /// Address to serve on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Set up, print, and exit without serving.
        #[arg(long)]
        no_serve: bool,
        /// Also write the codes and PINs as JSON here, for `kiosk-app demo`.
        #[arg(long)]
        summary: Option<PathBuf>,
    },
    /// Create an administrator token (shown once).
    AdminToken {
        /// Who holds it, e.g. "sgt-jones" (recorded in visit histories).
        #[arg(long)]
        name: String,
    },
    /// Create a staff account for the console (the first administrator is
    /// made this way). Without --password-stdin a password is made and
    /// shown once.
    StaffAdd {
        #[arg(long)]
        facility: Uuid,
        /// Sign-in name, e.g. "jones".
        #[arg(long)]
        username: String,
        /// Full name, shown in the console and the audit log.
        #[arg(long)]
        name: String,
        /// administrator or officer.
        #[arg(long, default_value = "officer")]
        role: String,
        /// Read the password (12 characters or more) from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Register a facility with the default (seed) rules.
    FacilityCreate {
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. America/Chicago.
        #[arg(long)]
        time_zone: String,
    },
    /// Register a terminal and print its one-time enrolment code.
    TerminalAdd {
        #[arg(long)]
        facility: Uuid,
        /// lobby or unit.
        #[arg(long, value_parser = parse_role)]
        role: TerminalRole,
        /// Where it stands, e.g. "Lobby monitor 2".
        #[arg(long)]
        location: String,
        /// Housing unit id (unit terminals).
        #[arg(long)]
        housing_unit: Option<Uuid>,
    },
    /// Print a new one-time enrolment code for a terminal.
    TerminalCode {
        #[arg(long)]
        terminal: Uuid,
    },
    /// Print a visit and its full history as JSON.
    Visit { id: Uuid },
    /// Print the newest outbox messages as JSON.
    Outbox {
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Print the OpenAPI document.
    Openapi,
}

fn parse_role(s: &str) -> Result<TerminalRole, String> {
    match s {
        "lobby" => Ok(TerminalRole::Lobby),
        "unit" => Ok(TerminalRole::Unit),
        _ => Err("the role is `lobby` or `unit`".into()),
    }
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn open(settings: &Settings) -> anyhow::Result<(Arc<Db>, Arc<Keys>)> {
    let keys = Keys::load_or_create(&settings.key_file)?;
    let db = Db::open(&settings.database)?;
    Ok((db, Arc::new(keys)))
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Parse arguments and run the command.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    // The demo prints what matters itself; its log would drown it.
    init_logging(match cli.command {
        Command::Demo { .. } => "warn",
        _ => "info",
    });
    match cli.command {
        Command::Openapi => {
            println!("{}", crate::api::openapi().to_pretty_json()?);
        }
        Command::Demo {
            data_dir,
            listen,
            no_serve,
            summary,
        } => crate::demo::run(&data_dir, listen, !no_serve, summary.as_deref())?,
        command => {
            let settings = Settings::load(cli.config.as_deref(), |k| std::env::var(k).ok())?;
            let (db, keys) = open(&settings)?;
            match command {
                Command::Serve => serve(&settings, db, keys)?,
                admin => run_admin(admin, &db, &keys)?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `serve`: the API on the configured address until Ctrl-C or SIGTERM.
fn serve(settings: &Settings, db: Arc<Db>, keys: Arc<Keys>) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("listening on {}", settings.listen))?;
        let state = AppState::new(db, keys, Arc::new(SystemClock))
            .with_recordings_dir(&settings.recordings_dir);
        let options = ServerOptions {
            tick: settings.tick,
            smtp: settings.smtp.clone(),
            public_url: settings.public_url.clone(),
        };
        server::serve(listener, state, options, server::shutdown_signal()).await
    })
}

/// `staff-add`: the account, its audit line, and the password if made here.
fn staff_add(
    conn: &rusqlite::Connection,
    ctx: &Ctx<'_>,
    facility: Uuid,
    username: &str,
    name: &str,
    role: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let role = staff::Role::parse(role)?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        crate::keys::random_token()[..20].to_string()
    };
    let member = staff::create(conn, ctx, facility, username, name, role, &password)?;
    let target = audit::Target::Staff(member.id);
    audit::record(
        conn,
        ctx.now,
        &audit::Line {
            who: &audit::Who {
                actor: "cli".into(),
                facility: Some(facility),
                origin: "command line".into(),
            },
            action: "staff_created",
            target: &target,
            outcome: "done".into(),
            before: None,
            after: audit::snapshot(conn, &target)?,
        },
    )?;
    print_json(&member)?;
    if !password_stdin {
        println!("{password}");
        eprintln!(
            "This password is shown only now: give it to {name}, who can change it under Your account."
        );
    }
    Ok(())
}

/// The administrative commands: one service call each, on the database
/// directly, printed as JSON (or, for a token, as itself).
fn run_admin(command: Command, db: &Db, keys: &Keys) -> anyhow::Result<()> {
    let conn = db.conn()?;
    let ctx = Ctx {
        keys,
        now: SystemClock.now(),
        actor: "cli",
    };
    match command {
        Command::AdminToken { name } => {
            let token = admin_tokens::create(&conn, &ctx, &name)?;
            println!("{token}");
            eprintln!("Keep this token safe: it is shown only now.");
        }
        Command::StaffAdd {
            facility,
            username,
            name,
            role,
            password_stdin,
        } => staff_add(
            &conn,
            &ctx,
            facility,
            &username,
            &name,
            &role,
            password_stdin,
        )?,
        Command::FacilityCreate { name, time_zone } => {
            let f = facilities::create(
                &conn,
                &ctx,
                &NewFacility {
                    name,
                    time_zone,
                    pin_length: None,
                    max_visitors_per_visit: None,
                    onsite: None,
                    remote: None,
                    ice_servers: vec![],
                },
            )?;
            print_json(&f)?;
        }
        Command::TerminalAdd {
            facility,
            role,
            location,
            housing_unit,
        } => {
            let code = terminals::create(
                &conn,
                &ctx,
                facility,
                &NewTerminal {
                    role,
                    location,
                    housing_unit_id: housing_unit,
                },
            )?;
            print_json(&code)?;
        }
        Command::TerminalCode { terminal } => {
            print_json(&terminals::new_enrolment_code(&conn, &ctx, terminal)?)?;
        }
        Command::Visit { id } => print_json(&visits::record_of(&conn, id)?)?,
        Command::Outbox { limit } => print_json(&outbox::list(&conn, limit)?)?,
        Command::Serve | Command::Openapi | Command::Demo { .. } => {
            unreachable!("handled by run")
        }
    }
    Ok(())
}
