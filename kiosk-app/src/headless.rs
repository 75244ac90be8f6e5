//! Headless mode: the lobby without a display, driven by the same inputs as
//! the touchscreen, one command per line on standard input:
//!
//! ```text
//! touch            the attract screen
//! digit 5          one key        pin 123456   several keys
//! ok | delete | cancel | lang es | lang en
//! wait 1.5         let time pass (idle timeout, countdowns, sync)
//! visit <id>       open a visit's call directly
//! id 1001          housing unit: type an ID number (then `ok`, `pin 2468`, `ok`)
//! join 2           housing unit: Join on the second visit of the list
//! signout          housing unit: Sign out
//! join | end | confirm | keep     Join, the red X, End visit, Keep talking
//! stats            print the call's figures as JSON
//! technician 4821  five taps on the corner, then the technician PIN and OK
//! corner           one tap on the attract screen's technician corner
//! tech-tone | tech-close | tech-touch    the technician screen's buttons
//! tech-stats       print the technician screen's live figures as JSON
//! status           print the current view
//! quit
//! ```
//!
//! Each change of the view is printed as one line (see [`crate::describe`]).

use std::io::BufRead;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ui::{Lang, UiInput};

use crate::describe::describe;
use crate::technician::Technician;
use crate::terminal::Terminal;

/// Parse one command line into touches, or a wait.
pub enum Command {
    Touches(Vec<UiInput>),
    OpenVisit(uuid::Uuid),
    Stats,
    Technician(Vec<ui::TechnicianInput>),
    TechStats,
    Wait(Duration),
    Status,
    Quit,
}

pub fn parse(line: &str) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let verb = words.next().unwrap_or("");
    let arg = words.next();
    Ok(match (verb, arg) {
        ("", _) | ("status", _) => Command::Status,
        ("quit", _) | ("exit", _) => Command::Quit,
        ("touch", _) => Command::Touches(vec![UiInput::TouchStart]),
        ("join", Some(n)) => match n.parse::<u8>() {
            Ok(n @ 1..) => Command::Touches(vec![UiInput::JoinVisit(n - 1)]),
            _ => return Err(format!("not a row of the visit list: {n}")),
        },
        ("join", None) => Command::Touches(vec![UiInput::Join]),
        ("signout", _) | ("sign-out", _) => Command::Touches(vec![UiInput::SignOut]),
        ("end", _) => Command::Touches(vec![UiInput::EndCall]),
        ("confirm", _) => Command::Touches(vec![UiInput::ConfirmEnd]),
        ("keep", _) => Command::Touches(vec![UiInput::KeepCall]),
        ("stats", _) => Command::Stats,
        ("technician", Some(p)) if p.bytes().all(|b| b.is_ascii_digit()) => {
            use ui::TechnicianInput as T;
            let mut v = vec![T::CornerTap; 5];
            v.extend(p.bytes().map(|b| T::Digit(b - b'0')));
            v.push(T::Submit);
            Command::Technician(v)
        }
        ("corner", _) => Command::Technician(vec![ui::TechnicianInput::CornerTap]),
        ("tech-tone", _) => Command::Technician(vec![ui::TechnicianInput::Tone]),
        ("tech-close", _) => Command::Technician(vec![ui::TechnicianInput::Close]),
        ("tech-touch", _) => Command::Technician(vec![ui::TechnicianInput::Touch]),
        ("tech-stats", _) => Command::TechStats,
        ("visit", Some(id)) => match id.parse() {
            Ok(id) => Command::OpenVisit(id),
            Err(_) => return Err(format!("not a visit id: {id}")),
        },
        ("ok", _) | ("submit", _) => Command::Touches(vec![UiInput::Submit]),
        ("delete", _) | ("backspace", _) => Command::Touches(vec![UiInput::Backspace]),
        ("cancel", _) | ("done", _) => Command::Touches(vec![UiInput::Cancel]),
        ("lang", Some("es")) => Command::Touches(vec![UiInput::Language(Lang::Es)]),
        ("lang", Some("en")) => Command::Touches(vec![UiInput::Language(Lang::En)]),
        ("digit", Some(d)) => match d.parse::<u8>() {
            Ok(d) if d <= 9 => Command::Touches(vec![UiInput::Digit(d)]),
            _ => return Err(format!("not a digit: {d}")),
        },
        ("pin", Some(p)) | ("id", Some(p)) if p.bytes().all(|b| b.is_ascii_digit()) => {
            Command::Touches(p.bytes().map(|b| UiInput::Digit(b - b'0')).collect())
        }
        ("wait", Some(s)) => match s.parse::<f64>() {
            Ok(s) if (0.0..=3600.0).contains(&s) => Command::Wait(Duration::from_secs_f64(s)),
            _ => return Err(format!("not a number of seconds: {s}")),
        },
        _ => return Err(format!("unknown command {line:?}")),
    })
}

/// Run until standard input ends or `quit`.
pub fn run(mut terminal: Terminal, mut out: impl std::io::Write) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut last = String::new();
    let mut print =
        |text: String, force: bool, out: &mut dyn std::io::Write| -> std::io::Result<()> {
            if force || text != last {
                writeln!(out, "{text}")?;
                out.flush()?;
                last = text;
            }
            Ok(())
        };
    let mut notify = crate::notify::Notifier::from_env(std::time::Instant::now());
    let mut tech = Technician::new(terminal.config(), terminal.now());
    // The technician screen while it is up, else the terminal's.
    let screen = |terminal: &mut Terminal, tech: &mut Technician| {
        let v = terminal.tick();
        tech.tick(terminal.now());
        if tech.showing() {
            crate::technician::describe(&tech.view(&terminal.technician_facts(), terminal.now()))
        } else {
            describe(&v)
        }
    };
    print(screen(&mut terminal, &mut tech), true, &mut out)?;
    let mut wait_until: Option<Instant> = None;
    loop {
        notify.tick(); // READY after the first screen is printed, then the watchdog.
        let timeout = Duration::from_millis(200);
        if wait_until.is_some_and(|t| Instant::now() < t) {
            std::thread::sleep(timeout);
            print(screen(&mut terminal, &mut tech), false, &mut out)?;
            continue;
        }
        wait_until = None;
        match rx.recv_timeout(timeout) {
            Ok(line) => match parse(line.trim()) {
                Ok(Command::Touches(ts)) => {
                    for t in ts {
                        let v = terminal.touch(t);
                        print(describe(&v), false, &mut out)?;
                    }
                }
                Ok(Command::Wait(d)) => wait_until = Some(Instant::now() + d),
                Ok(Command::OpenVisit(id)) => match terminal.open_visit(id) {
                    Ok(()) => print(describe(&terminal.tick()), true, &mut out)?,
                    Err(e) => writeln!(out, "error: {e:#}")?,
                },
                Ok(Command::Technician(inputs)) => {
                    for i in inputs {
                        let lang = terminal.view().lang;
                        tech.touch(i, lang, terminal.now());
                    }
                    print(screen(&mut terminal, &mut tech), false, &mut out)?;
                }
                Ok(Command::TechStats) => writeln!(
                    out,
                    "[tech-stats] {}",
                    serde_json::to_string(&tech.stats())?
                )?,
                Ok(Command::Stats) => match terminal.call_stats() {
                    Some(s) => writeln!(out, "[stats] {}", serde_json::to_string(&s)?)?,
                    None => writeln!(out, "[stats] no call")?,
                },
                Ok(Command::Status) => print(screen(&mut terminal, &mut tech), true, &mut out)?,
                Ok(Command::Quit) => break,
                Err(e) => writeln!(out, "error: {e}")?,
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {
                print(screen(&mut terminal, &mut tech), false, &mut out)?
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // Give the outbox a moment to drain before exiting on end of input.
    let deadline = Instant::now() + Duration::from_secs(3);
    while terminal.outbox_pending() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
