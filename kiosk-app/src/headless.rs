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
use crate::shown::Shown;
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

/// Standard input, line by line, on a thread of its own.
fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The terminal, its technician screen, and what was printed last.
struct Session<W: std::io::Write> {
    terminal: Terminal,
    tech: Technician,
    out: W,
    last: String,
}

impl<W: std::io::Write> Session<W> {
    /// Print a screen if it changed (or always, when `force`).
    fn print(&mut self, text: String, force: bool) -> std::io::Result<()> {
        if force || text != self.last {
            writeln!(self.out, "{text}")?;
            self.out.flush()?;
            self.last = text;
        }
        Ok(())
    }

    /// Time passes; the screen as it is now (the technician screen while
    /// it is up, else the terminal's).
    fn screen(&mut self, force: bool) -> std::io::Result<()> {
        let text = match crate::shown::tick(&mut self.terminal, &mut self.tech) {
            Shown::Technician(v) => crate::technician::describe(&v),
            Shown::Terminal(v) => describe(&v),
            // Headless mode enrols from the configuration, before this.
            Shown::Enrolment(v) => format!("[enrol] {:?}", v.message),
        };
        self.print(text, force)
    }

    /// Do one command; `Ok(false)` on `quit`.
    fn obey(&mut self, c: Command, wait_until: &mut Option<Instant>) -> anyhow::Result<bool> {
        match c {
            Command::Touches(ts) => {
                for t in ts {
                    let v = self.terminal.touch(t);
                    self.print(describe(&v), false)?;
                }
            }
            Command::Wait(d) => *wait_until = Some(Instant::now() + d),
            Command::OpenVisit(id) => match self.terminal.open_visit(id) {
                Ok(()) => {
                    let v = self.terminal.tick();
                    self.print(describe(&v), true)?
                }
                Err(e) => writeln!(self.out, "error: {e:#}")?,
            },
            Command::Technician(inputs) => {
                for i in inputs {
                    let lang = self.terminal.view().lang;
                    self.tech.touch(i, lang, self.terminal.now());
                }
                self.screen(false)?;
            }
            Command::TechStats => {
                let stats = serde_json::to_string(&self.tech.stats())?;
                writeln!(self.out, "[tech-stats] {stats}")?
            }
            Command::Stats => match self.terminal.call_stats() {
                Some(s) => writeln!(self.out, "[stats] {}", serde_json::to_string(&s)?)?,
                None => writeln!(self.out, "[stats] no call")?,
            },
            Command::Status => self.screen(true)?,
            Command::Quit => return Ok(false),
        }
        Ok(true)
    }
}

/// Run until standard input ends or `quit`.
pub fn run(terminal: Terminal, out: impl std::io::Write) -> anyhow::Result<()> {
    let rx = stdin_lines();
    let mut notify = crate::notify::Notifier::from_env(std::time::Instant::now());
    let tech = Technician::new(terminal.config(), terminal.devices(), terminal.now());
    let mut s = Session {
        terminal,
        tech,
        out,
        last: String::new(),
    };
    s.screen(true)?;
    let mut wait_until: Option<Instant> = None;
    loop {
        notify.tick(); // READY after the first screen is printed, then the watchdog.
        let timeout = Duration::from_millis(200);
        if wait_until.is_some_and(|t| Instant::now() < t) {
            std::thread::sleep(timeout);
            s.screen(false)?;
            continue;
        }
        wait_until = None;
        match rx.recv_timeout(timeout) {
            Ok(line) => match parse(line.trim()) {
                Ok(c) => {
                    if !s.obey(c, &mut wait_until)? {
                        break;
                    }
                }
                Err(e) => writeln!(s.out, "error: {e}")?,
            },
            Err(mpsc::RecvTimeoutError::Timeout) => s.screen(false)?,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // Give the outbox a moment to drain before exiting on end of input.
    let deadline = Instant::now() + Duration::from_secs(3);
    while s.terminal.outbox_pending() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
