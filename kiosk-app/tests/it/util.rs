//! Fixtures: a restartable visit-server with a demo-like facility, and a
//! headless kiosk-app process we can type into and read from.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use protocol::admin::{
    NewApproval, NewFacility, NewHousingUnit, NewPerson, NewTerminal, NewVisit, NewVisitor,
    VisitPurpose,
};
use protocol::{TerminalRole, VisitKind};
use tokio::sync::oneshot;
use uuid::Uuid;
use visit_server::clock::ManualClock;
use visit_server::db::Db;
use visit_server::keys::Keys;
use visit_server::server::{AppState, ServerOptions, serve};
use visit_server::service::{Ctx, facilities, people, terminals, visits};

pub fn chicago(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    chrono_tz::America::Chicago
        .with_ymd_and_hms(2026, 11, 19, h, m, s)
        .unwrap()
        .with_timezone(&Utc)
}

/// A visit-server whose database survives restarts on the same port.
pub struct Server {
    pub port: u16,
    /// The address it listens on (loopback, or a test's own veth address).
    pub host: String,
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    runtime: tokio::runtime::Runtime,
    stop: Option<(
        oneshot::Sender<()>,
        tokio::task::JoinHandle<anyhow::Result<()>>,
    )>,
}

pub struct Seeded {
    pub lobby_code: String,
    /// A housing-unit terminal in Pod A, where the three people live.
    pub unit_code: String,
    /// A housing-unit terminal in Pod B, where none of them lives.
    pub other_unit_code: String,
    /// A staff credential for the admin API.
    pub admin_token: String,
    /// (visit id, PIN) of three on-site visits at 10:00 on Thursday.
    pub visits: Vec<(Uuid, String)>,
    /// A remote visit at 10:00 (30 minutes) of a fourth person in Pod A:
    /// (visit id, the visitor's join token).
    pub remote: (Uuid, String),
    /// A remote visit at 10:00 of a fifth person in Pod A with two
    /// visitors: (visit id, each visitor's join token, in booking order).
    pub family: (Uuid, Vec<String>),
}

impl Server {
    /// Create a facility with three on-site visits at 10:00 and serve it,
    /// with the server clock at Thursday 09:59:30.
    pub fn seeded() -> (Server, Seeded) {
        Self::seeded_on("127.0.0.1")
    }

    /// The same, listening on `host`.
    pub fn seeded_on(host: &str) -> (Server, Seeded) {
        Self::seeded_n(host, 3)
    }

    /// `n` on-site visits at 10:00 (and as many lobby terminals).
    pub fn seeded_n(host: &str, n: usize) -> (Server, Seeded) {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keys::load_or_create(&dir.path().join("server.key")).unwrap();
        let db = Db::open(&dir.path().join("visits.db")).unwrap();
        let mut conn = db.conn().unwrap();
        let monday = chicago(9, 0, 0) - chrono::Duration::days(3);
        let ctx = Ctx {
            keys: &keys,
            now: monday,
            actor: "test",
        };
        let f = facilities::create(
            &conn,
            &ctx,
            &NewFacility {
                name: "Test County Jail".into(),
                time_zone: "America/Chicago".into(),
                pin_length: None,
                max_visitors_per_visit: None,
                onsite: None,
                remote: None,
                ice_servers: vec![],
            },
        )
        .unwrap();
        let unit = facilities::create_housing_unit(
            &conn,
            &ctx,
            f.id,
            &NewHousingUnit {
                name: "Pod A".into(),
            },
        )
        .unwrap();
        let mut lobby_code = String::new();
        // Registered on the morning of the visits, so the codes are fresh.
        let thursday = Ctx {
            keys: &keys,
            now: chicago(9, 0, 0),
            actor: "test",
        };
        for n in 0..n.max(3) {
            let t = terminals::create(
                &conn,
                &thursday,
                f.id,
                &NewTerminal {
                    role: TerminalRole::Lobby,
                    location: format!("Lobby {n}"),
                    housing_unit_id: None,
                },
            )
            .unwrap();
            if n == 0 {
                lobby_code = t.code;
            }
        }
        let unit_code = terminals::create(
            &conn,
            &thursday,
            f.id,
            &NewTerminal {
                role: TerminalRole::Unit,
                location: "Pod A dayroom".into(),
                housing_unit_id: Some(unit.id),
            },
        )
        .unwrap()
        .code;
        let pod_b = facilities::create_housing_unit(
            &conn,
            &ctx,
            f.id,
            &NewHousingUnit {
                name: "Pod B".into(),
            },
        )
        .unwrap();
        let other_unit_code = terminals::create(
            &conn,
            &thursday,
            f.id,
            &NewTerminal {
                role: TerminalRole::Unit,
                location: "Pod B dayroom".into(),
                housing_unit_id: Some(pod_b.id),
            },
        )
        .unwrap()
        .code;
        let admin_token =
            visit_server::service::admin_tokens::create(&conn, &thursday, "test staff").unwrap();
        let mut names = vec![
            ("James Smith".to_string(), "Maria Smith".to_string()),
            ("Robert Johnson".into(), "Linda Johnson".into()),
            ("David Brown".into(), "Jen Brown".into()),
        ];
        for i in 3..n {
            names.push((format!("Person Number{i}"), format!("Visitor Number{i}")));
        }
        names.truncate(n);
        let mut booked = Vec::new();
        for (i, (person, visitor)) in names.iter().enumerate() {
            let p = people::create_person(
                &conn,
                &ctx,
                f.id,
                &NewPerson {
                    number: format!("A-{i}"),
                    name: person.clone(),
                    housing_unit_id: unit.id,
                    pin: "2468".into(),
                    restrictions: vec![],
                },
            )
            .unwrap();
            let v = people::create_visitor(
                &conn,
                &ctx,
                &NewVisitor {
                    name: visitor.clone(),
                    email: format!("v{i}@example.org"),
                    date_of_birth: chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                    photo_id_verified: true,
                },
            )
            .unwrap();
            people::approve(
                &conn,
                &ctx,
                &NewApproval {
                    person_id: p.id,
                    visitor_id: v.id,
                },
            )
            .unwrap();
            let b = visits::book(
                &mut conn,
                &ctx,
                &NewVisit {
                    person_id: p.id,
                    visitor_ids: vec![v.id],
                    kind: VisitKind::Onsite,
                    start: chicago(10, 0, 0),
                    purpose: VisitPurpose::Social,
                },
            )
            .unwrap();
            booked.push((b.visit.id, b.pin));
        }
        let remote = {
            let p = people::create_person(
                &conn,
                &ctx,
                f.id,
                &NewPerson {
                    number: "R-1".into(),
                    name: "Ana Lopez".into(),
                    housing_unit_id: unit.id,
                    pin: "2468".into(),
                    restrictions: vec![],
                },
            )
            .unwrap();
            let v = people::create_visitor(
                &conn,
                &ctx,
                &NewVisitor {
                    name: "Carlos Lopez".into(),
                    email: "carlos@example.org".into(),
                    date_of_birth: chrono::NaiveDate::from_ymd_opt(1975, 5, 5).unwrap(),
                    photo_id_verified: true,
                },
            )
            .unwrap();
            people::approve(
                &conn,
                &ctx,
                &NewApproval {
                    person_id: p.id,
                    visitor_id: v.id,
                },
            )
            .unwrap();
            let b = visits::book(
                &mut conn,
                &ctx,
                &NewVisit {
                    person_id: p.id,
                    visitor_ids: vec![v.id],
                    kind: VisitKind::Remote,
                    start: chicago(10, 0, 0),
                    purpose: VisitPurpose::Social,
                },
            )
            .unwrap();
            (b.visit.id, b.join_tokens[0].token.clone())
        };
        let family = {
            let p = people::create_person(
                &conn,
                &ctx,
                f.id,
                &NewPerson {
                    // Digits and PIN of its own: a unit terminal refuses a
                    // sign-in that two persons would match.
                    number: "R-7".into(),
                    name: "Rosa Diaz".into(),
                    housing_unit_id: unit.id,
                    pin: "7391".into(),
                    restrictions: vec![],
                },
            )
            .unwrap();
            let mut ids = Vec::new();
            for (name, email) in [
                ("Elena Diaz", "elena@example.org"),
                ("Tomas Diaz", "tomas@example.org"),
            ] {
                let v = people::create_visitor(
                    &conn,
                    &ctx,
                    &NewVisitor {
                        name: name.into(),
                        email: email.into(),
                        date_of_birth: chrono::NaiveDate::from_ymd_opt(1985, 3, 3).unwrap(),
                        photo_id_verified: true,
                    },
                )
                .unwrap();
                people::approve(
                    &conn,
                    &ctx,
                    &NewApproval {
                        person_id: p.id,
                        visitor_id: v.id,
                    },
                )
                .unwrap();
                ids.push(v.id);
            }
            let b = visits::book(
                &mut conn,
                &ctx,
                &NewVisit {
                    person_id: p.id,
                    visitor_ids: ids,
                    kind: VisitKind::Remote,
                    start: chicago(10, 0, 0),
                    purpose: VisitPurpose::Social,
                },
            )
            .unwrap();
            let tokens = b.join_tokens.iter().map(|t| t.token.clone()).collect();
            (b.visit.id, tokens)
        };
        drop(conn);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let port = runtime.block_on(async {
            tokio::net::TcpListener::bind((host, 0))
                .await
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        });
        let mut server = Server {
            port,
            host: host.to_string(),
            dir,
            clock: Arc::new(ManualClock::new(chicago(9, 59, 30))),
            runtime,
            stop: None,
        };
        server.start();
        (
            server,
            Seeded {
                lobby_code,
                unit_code,
                other_unit_code,
                admin_token,
                visits: booked,
                remote,
                family,
            },
        )
    }

    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    pub fn start(&mut self) {
        assert!(self.stop.is_none());
        let keys = Arc::new(Keys::load_or_create(&self.dir.path().join("server.key")).unwrap());
        let db = Db::open(&self.dir.path().join("visits.db")).unwrap();
        let state = AppState::new(db, keys, self.clock.clone());
        let port = self.port;
        let host = self.host.clone();
        let (tx, rx) = oneshot::channel::<()>();
        // Bound before `start` returns: a request made right after it is
        // answered, not refused (it was, on a loaded machine).
        let listener = self
            .runtime
            .block_on(tokio::net::TcpListener::bind((host.as_str(), port)))
            .expect("the test server's port");
        let task = self.runtime.spawn(async move {
            let options = ServerOptions {
                tick: Duration::from_millis(100),
                smtp: None,
                public_url: format!("http://{host}:{port}"),
            };
            serve(listener, state, options, async {
                let _ = rx.await;
            })
            .await
        });
        self.stop = Some((tx, task));
    }

    pub fn stop(&mut self) {
        let (tx, task) = self.stop.take().expect("running");
        let _ = tx.send(());
        self.runtime.block_on(task).unwrap().unwrap();
    }

    /// How many times the server recorded a check-in for this visit.
    pub fn check_ins(&self, visit: Uuid) -> i64 {
        let c = rusqlite::Connection::open(self.dir.path().join("visits.db")).unwrap();
        c.query_row(
            "SELECT count(*) FROM visit_history WHERE visit_id = ?1 AND event = 'check_in'",
            [visit.to_string()],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// The events of a visit's history, in order.
    pub fn history(&self, visit: Uuid) -> Vec<(String, String)> {
        let c = rusqlite::Connection::open(self.dir.path().join("visits.db")).unwrap();
        let mut q = c
            .prepare("SELECT event, detail FROM visit_history WHERE visit_id = ?1 ORDER BY seq")
            .unwrap();
        q.query_map([visit.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Staff mark a visit confidential (never recorded or monitored), as
    /// the console does.
    pub fn mark_confidential(&self, visit: Uuid) {
        use visit_server::clock::Clock;
        let keys = Keys::load_or_create(&self.dir.path().join("server.key")).unwrap();
        let db = Db::open(&self.dir.path().join("visits.db")).unwrap();
        let mut conn = db.conn().unwrap();
        let ctx = Ctx {
            keys: &keys,
            now: self.clock.now(),
            actor: "staff:test",
        };
        visit_server::service::confidential::set(&mut conn, &ctx, None, visit, true).unwrap();
    }

    /// Staff end a visit through the admin API, with a reason.
    pub fn terminate(&self, token: &str, visit: Uuid, reason: &str) {
        let url = format!("{}/api/v1/admin/visits/{visit}/terminate", self.url());
        let token = token.to_string();
        let reason = reason.to_string();
        self.runtime.block_on(async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&serde_json::json!({ "reason": reason }))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "terminate: {}", r.status());
        });
    }

    /// Wait (bounded) until `f` holds.
    pub fn wait_until(&self, what: &str, timeout: Duration, f: impl Fn() -> bool) {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if f() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}");
    }
}

/// A headless kiosk-app process.
pub struct Kiosk {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

pub fn kiosk_config(dir: &Path, server: &str, code: &str) -> PathBuf {
    call_config(dir, server, code, "lobby", "127.0.0.1")
}

/// A terminal with simulated devices whose calls use only `address` for ICE.
pub fn call_config(dir: &Path, server: &str, code: &str, role: &str, address: &str) -> PathBuf {
    call_config_with(
        dir,
        server,
        code,
        role,
        address,
        "width = 640\nheight = 360\n",
    )
}

/// A GStreamer plugin directory and registry for a kiosk-app process as if
/// the Debian packages owning `plugins` (file names, e.g. `libgstpango.so`)
/// were not installed: symbolic links to every other system plugin. Returns
/// the directory and the environment that makes a process use it.
pub fn plugins_without(plugins: &[&str]) -> (tempfile::TempDir, Vec<(&'static str, PathBuf)>) {
    use gst::prelude::*;
    gst::init().unwrap();
    let system = gst::ElementFactory::find("videotestsrc")
        .and_then(|f| f.plugin())
        .and_then(|p| p.filename())
        .and_then(|f| f.parent().map(Path::to_path_buf))
        .expect("GStreamer's plugin directory");
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("plugins");
    std::fs::create_dir(&lib).unwrap();
    for entry in std::fs::read_dir(&system).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".so") && !plugins.contains(&name.as_str()) {
            std::os::unix::fs::symlink(&path, lib.join(&name)).unwrap();
        }
    }
    let env = vec![
        ("GST_PLUGIN_SYSTEM_PATH_1_0", lib),
        ("GST_REGISTRY_1_0", dir.path().join("registry.bin")),
    ];
    (dir, env)
}

/// The keys of `[devices]` (hal's `DeviceConfig`) a test's extras may set.
const DEVICE_KEYS: [&str; 11] = [
    "camera",
    "microphone",
    "speaker",
    "mixer_control",
    "echo_cancellation",
    "provide_clock",
    "device_root",
    "faults",
    "handset_microphone",
    "handset_speaker",
    "backend",
];

/// A test's extra settings sorted into `[call]` and `[devices]`: device
/// keys, and a `[call.hook]` table, belong to the devices.
fn split_extras(extra: &str) -> (String, String) {
    let (mut call, mut devices, mut hook) = (String::new(), String::new(), String::new());
    let mut in_hook = false;
    for line in extra.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        let to = if line.trim() == "[call.hook]" {
            in_hook = true;
            continue;
        } else if in_hook {
            &mut hook
        } else if DEVICE_KEYS.contains(&key) {
            &mut devices
        } else {
            &mut call
        };
        to.push_str(line);
        to.push('\n');
    }
    if in_hook {
        devices.push_str("[devices.hook]\n");
        devices.push_str(&hook);
    }
    (call, devices)
}

/// The same with more `[call]` settings (device settings among them go
/// to `[devices]`).
pub fn call_config_with(
    dir: &Path,
    server: &str,
    code: &str,
    role: &str,
    address: &str,
    call: &str,
) -> PathBuf {
    let cfg = dir.join("kiosk.toml");
    let (call, devices) = split_extras(call);
    std::fs::write(
        &cfg,
        format!(
            "server_url = \"{server}\"\nrole = \"{role}\"\ndata_dir = \"{}\"\nenrolment_code = \"{code}\"\n\
             poll_seconds = 0.2\nheartbeat_seconds = 0.5\n\
             [call]\nfps = 30\nlocal_addresses = [\"{address}\"]\n{call}\
             [devices]\nbackend = \"simulated\"\n{devices}",
            dir.join("data").display()
        ),
    )
    .unwrap();
    cfg
}

impl Kiosk {
    pub fn start(config: &Path) -> Kiosk {
        Self::start_with(Command::new(env!("CARGO_BIN_EXE_kiosk-app")), config)
    }

    /// Start with extra environment variables.
    pub fn start_env(config: &Path, env: &[(&str, PathBuf)]) -> Kiosk {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kiosk-app"));
        c.envs(env.iter().map(|(k, v)| (k, v)));
        Self::start_with(c, config)
    }

    /// Start inside a network namespace.
    pub fn start_in(netns: &str, config: &Path) -> Kiosk {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", netns, env!("CARGO_BIN_EXE_kiosk-app")]);
        Self::start_with(c, config)
    }

    fn start_with(mut command: Command, config: &Path) -> Kiosk {
        let mut child = command
            .arg("--config")
            .arg(config)
            .args(["run", "--headless"])
            .env(
                "RUST_LOG",
                std::env::var("KIOSK_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Kiosk {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    pub fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Wait (bounded) for a printed line containing all of `parts`.
    pub fn expect(&mut self, parts: &[&str]) -> String {
        self.wait_line(&format!("{parts:?}"), |line| {
            parts.iter().all(|p| line.contains(p))
        })
    }

    /// Wait (bounded, 20 s) for a printed line that satisfies `f`.
    fn wait_line(&mut self, what: &str, f: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + Duration::from_secs(20);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if f(&line) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "kiosk never printed {what}; it printed:\n{}",
            self.seen.join("\n")
        );
    }

    /// Type a PIN at the attract screen and wait for the result line.
    pub fn check_in(&mut self, pin: &str) -> String {
        self.send("touch");
        self.send(&format!("pin {pin}"));
        self.send("ok");
        let line = self.expect(&["[result]"]);
        // Done: the visit's waiting screen; Cancel there: the attract screen.
        self.send("cancel");
        self.expect(&["[waiting]"]);
        self.send("cancel");
        self.expect(&["[attract]"]);
        line
    }

    /// Wait (bounded) until the call's figures satisfy `f`; returns them.
    pub fn stats_until(
        &mut self,
        timeout: Duration,
        f: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let end = Instant::now() + timeout;
        let mut last = serde_json::Value::Null;
        while Instant::now() < end {
            self.send("stats");
            let line = self.expect(&["[stats]"]);
            if let Ok(v) =
                serde_json::from_str::<serde_json::Value>(line.trim_start_matches("[stats] "))
            {
                if f(&v) {
                    return v;
                }
                last = v;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("the call's figures never got there; last: {last}");
    }

    #[allow(dead_code)] // The call benchmark reads its CPU and memory.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    pub fn quit(mut self) {
        self.send("quit");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

impl Kiosk {
    /// Wait (bounded) for a printed line that starts with one of `prefixes`.
    pub fn expect_start(&mut self, prefixes: &[&str]) -> String {
        self.wait_line(&format!("a line starting with {prefixes:?}"), |line| {
            prefixes.iter().any(|p| line.starts_with(p))
        })
    }
}

impl Server {
    /// The JPEGs of the sign-in photos a visit's history names.
    pub fn sign_in_photos(&self, visit: Uuid) -> Vec<Vec<u8>> {
        let c = rusqlite::Connection::open(self.dir.path().join("visits.db")).unwrap();
        let mut q = c
            .prepare(
                "SELECT p.jpeg FROM visit_history h
                 JOIN sign_in_photos p ON p.id = json_extract(h.detail, '$.photo_id')
                 WHERE h.visit_id = ?1 AND h.event = 'sign_in_photo' ORDER BY h.seq",
            )
            .unwrap();
        q.query_map([visit.to_string()], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}
