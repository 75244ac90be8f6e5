//! Fixtures: a running server, an admin client, and a small facility.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use visit_server::clock::{Clock, ManualClock};
use visit_server::config::SmtpConfig;
use visit_server::db::Db;
use visit_server::keys::Keys;
use visit_server::server::{AppState, ServerOptions, serve};
use visit_server::service::{Ctx, admin_tokens};

pub const TZ: chrono_tz::Tz = chrono_tz::America::Chicago;

/// A facility-local time in Chicago.
pub fn local(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> DateTime<Utc> {
    TZ.with_ymd_and_hms(y, m, d, hh, mm, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Tests start on Monday 2026-11-16 at 09:00 in Chicago.
pub fn monday_morning() -> DateTime<Utc> {
    local(2026, 11, 16, 9, 0)
}

pub struct TestServer {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub admin: String,
    pub http: reqwest::Client,
    pub db_path: PathBuf,
    pub key_path: PathBuf,
    keys: Arc<Keys>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    pub async fn start_with(smtp: Option<SmtpConfig>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("visits.db");
        let key_path = dir.path().join("server.key");
        let keys = Arc::new(Keys::load_or_create(&key_path).unwrap());
        let db = Db::open(&db_path).unwrap();
        let clock = Arc::new(ManualClock::new(monday_morning()));
        let admin = {
            let conn = db.conn().unwrap();
            let ctx = Ctx {
                keys: &keys,
                now: monday_morning(),
                actor: "test",
            };
            admin_tokens::create(&conn, &ctx, "tester").unwrap()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let state = AppState::new(db, keys.clone(), clock.clone());
        let options = ServerOptions {
            tick: Duration::from_millis(20),
            smtp,
            public_url: "https://visits.test".into(),
        };
        let task = tokio::spawn(serve(listener, state, options, async {
            let _ = rx.await;
        }));
        TestServer {
            base,
            clock,
            admin,
            http: reqwest::Client::new(),
            db_path,
            key_path,
            keys,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }

    /// A console account made as the command line makes one; with `totp`,
    /// its second factor is on and its secret (bytes) returned.
    pub fn staff(
        &self,
        facility: Uuid,
        username: &str,
        role: &str,
        totp: bool,
    ) -> (String, Option<Vec<u8>>) {
        use visit_server::service::staff;
        let keys = Keys::load_or_create(&self.key_path).unwrap();
        let db = Db::open(&self.db_path).unwrap();
        let conn = db.conn().unwrap();
        let ctx = Ctx {
            keys: &keys,
            now: self.clock.now(),
            actor: "test",
        };
        let password = format!("correct horse {username}");
        let member = staff::create(
            &conn,
            &ctx,
            facility,
            username,
            &format!("Officer {username}"),
            staff::Role::parse(role).unwrap(),
            &password,
        )
        .unwrap();
        if !totp {
            return (password, None);
        }
        let secret = staff::new_totp_secret();
        // Set up one step back, so the code of "now" is still unused.
        let before = Ctx {
            now: ctx.now - chrono::Duration::seconds(30),
            ..ctx
        };
        let bytes = visit_server::totp::from_base32(&secret).unwrap();
        let code = visit_server::totp::hotp(
            &bytes,
            visit_server::totp::step_at(before.now.timestamp()) as u64,
        );
        staff::confirm_totp(&conn, &before, member.id, &secret, &code).unwrap();
        (password, Some(bytes))
    }

    /// The TOTP code for `secret` at the server's clock.
    pub fn totp_now(&self, secret: &[u8]) -> String {
        visit_server::totp::hotp(
            secret,
            visit_server::totp::step_at(self.clock.now().timestamp()) as u64,
        )
    }

    /// A direct connection to the server's database file.
    pub fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db_path).unwrap()
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{status} answer is not JSON: {text}"))
        };
        (status, value)
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            path,
            Some(&self.admin.clone()),
            Some(&body),
        )
        .await
    }

    /// Another admin token, made as `visit-server admin-token` makes one.
    pub fn new_admin_token(&self, name: &str) -> String {
        let ctx = Ctx {
            keys: &self.keys,
            now: self.clock_now(),
            actor: "test",
        };
        admin_tokens::create(&self.sql(), &ctx, name).unwrap()
    }

    /// Run a service call directly on the server's database, as the
    /// console does (as `staff:test`).
    pub fn service<T>(&self, f: impl FnOnce(&mut rusqlite::Connection, &Ctx<'_>) -> T) -> T {
        let ctx = Ctx {
            keys: &self.keys,
            now: self.clock_now(),
            actor: "staff:test",
        };
        f(&mut self.sql(), &ctx)
    }

    fn clock_now(&self) -> DateTime<Utc> {
        use visit_server::clock::Clock;
        self.clock.now()
    }

    pub async fn admin_patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let token = self.admin.clone();
        self.send(reqwest::Method::PATCH, path, Some(&token), Some(&body))
            .await
    }

    pub async fn admin_delete(&self, path: &str) -> (StatusCode, Value) {
        let token = self.admin.clone();
        self.send(reqwest::Method::DELETE, path, Some(&token), None)
            .await
    }

    /// The audit log's actions, oldest first, with their outcome.
    pub fn audit_actions(&self) -> Vec<(String, String)> {
        let conn = self.sql();
        let mut stmt = conn
            .prepare("SELECT action, outcome FROM audit_log ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    pub async fn admin_get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, Some(&self.admin.clone()), None)
            .await
    }

    /// POST that must succeed with 201; returns the body.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.admin_post(path, body).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {v}");
        v
    }
}

/// A facility with two housing units, lobby terminals, and helpers to add people.
pub struct Facility {
    pub id: Uuid,
    pub unit_a: Uuid,
    pub unit_b: Uuid,
    /// (terminal id, one-time code)
    pub lobbies: Vec<(Uuid, String)>,
    pub unit_a_terminal: (Uuid, String),
}

pub fn id(v: &Value) -> Uuid {
    v["id"].as_str().unwrap().parse().unwrap()
}

impl TestServer {
    pub async fn facility(&self, lobbies: usize) -> Facility {
        self.facility_with(lobbies, json!({})).await
    }

    pub async fn facility_with(&self, lobbies: usize, extra: Value) -> Facility {
        let mut body = json!({"name": "Test County Jail", "time_zone": "America/Chicago"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let f = self.create("/api/v1/admin/facilities", body).await;
        let fid = id(&f);
        let unit = |name: &str| json!({ "name": name });
        let unit_a = id(&self
            .create(
                &format!("/api/v1/admin/facilities/{fid}/housing-units"),
                unit("Pod A"),
            )
            .await);
        let unit_b = id(&self
            .create(
                &format!("/api/v1/admin/facilities/{fid}/housing-units"),
                unit("Pod B"),
            )
            .await);
        let mut lobby_terms = Vec::new();
        for n in 0..lobbies {
            let t = self
                .create(
                    &format!("/api/v1/admin/facilities/{fid}/terminals"),
                    json!({"role": "lobby", "location": format!("Lobby monitor {n}")}),
                )
                .await;
            lobby_terms.push((id(&t["terminal"]), t["code"].as_str().unwrap().to_string()));
        }
        let t = self
            .create(
                &format!("/api/v1/admin/facilities/{fid}/terminals"),
                json!({"role": "unit", "location": "Pod A dayroom", "housing_unit_id": unit_a}),
            )
            .await;
        Facility {
            id: fid,
            unit_a,
            unit_b,
            lobbies: lobby_terms,
            unit_a_terminal: (id(&t["terminal"]), t["code"].as_str().unwrap().to_string()),
        }
    }

    pub async fn person(
        &self,
        f: &Facility,
        number: &str,
        name: &str,
        unit: Uuid,
        restrictions: Value,
    ) -> Uuid {
        id(&self
            .create(
                &format!("/api/v1/admin/facilities/{}/persons", f.id),
                json!({"number": number, "name": name, "housing_unit_id": unit,
                       "pin": "2468", "restrictions": restrictions}),
            )
            .await)
    }

    pub async fn visitor(&self, name: &str, dob: NaiveDate, verified: bool) -> Uuid {
        id(&self
            .create(
                "/api/v1/admin/visitors",
                json!({"name": name, "email": format!("{}@example.org", name.replace(' ', ".").to_lowercase()),
                       "date_of_birth": dob, "photo_id_verified": verified}),
            )
            .await)
    }

    pub async fn approve(&self, person: Uuid, visitor: Uuid) {
        self.create(
            "/api/v1/admin/approvals",
            json!({"person_id": person, "visitor_id": visitor}),
        )
        .await;
    }

    /// An approved, verified adult visitor for `person`.
    pub async fn approved_adult(&self, person: Uuid, name: &str) -> Uuid {
        let v = self.visitor(name, adult_dob(), true).await;
        self.approve(person, v).await;
        v
    }

    pub async fn book(
        &self,
        person: Uuid,
        visitors: &[Uuid],
        kind: &str,
        start: DateTime<Utc>,
    ) -> (StatusCode, Value) {
        self.admin_post(
            "/api/v1/admin/visits",
            json!({"person_id": person, "visitor_ids": visitors, "kind": kind, "start": start}),
        )
        .await
    }

    /// Booking that must succeed; returns (visit id, PIN).
    pub async fn book_ok(
        &self,
        person: Uuid,
        visitors: &[Uuid],
        kind: &str,
        start: DateTime<Utc>,
    ) -> (Uuid, String) {
        let (s, v) = self.book(person, visitors, kind, start).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (id(&v["visit"]), v["pin"].as_str().unwrap().to_string())
    }

    /// Enrol a terminal with its code; returns its credential.
    pub async fn enrol(&self, code: &str) -> String {
        let (s, v) = self
            .send(
                reqwest::Method::POST,
                "/api/v1/terminal/enrol",
                None,
                Some(&json!({"code": code, "software_version": "test"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["credential"].as_str().unwrap().to_string()
    }

    /// Wait (bounded) until the server's clock task has caught up with the clock.
    pub async fn visit_status(&self, visit: Uuid) -> String {
        let (s, v) = self
            .admin_get(&format!("/api/v1/admin/visits/{visit}"))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["visit"]["status"].as_str().unwrap().to_string()
    }

    pub async fn wait_for_status(&self, visit: Uuid, want: &str) {
        for _ in 0..250 {
            if self.visit_status(visit).await == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "visit {visit} never became {want}; it is {}",
            self.visit_status(visit).await
        );
    }
}

pub fn adult_dob() -> NaiveDate {
    NaiveDate::from_ymd_opt(1980, 3, 14).unwrap()
}

/// A minimal SMTP relay on loopback that hands each message's data to `tx`.
pub async fn fake_relay() -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 relay.test ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            tx.send(data.take().unwrap()).unwrap();
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-relay.test\r\n250 8BITMIME\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

/// Start a server whose mail goes to a [`fake_relay`]; returns it and the inbox.
pub async fn with_inbox() -> (TestServer, mpsc::UnboundedReceiver<String>) {
    let (port, inbox) = fake_relay().await;
    let s = TestServer::start_with(Some(SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        from: "Visits <visits@jail.example>".into(),
    }))
    .await;
    (s, inbox)
}

/// The next mail, decoded from quoted-printable (which lettre uses for long
/// lines such as join links).
pub async fn next_mail(inbox: &mut mpsc::UnboundedReceiver<String>) -> String {
    let raw = tokio::time::timeout(Duration::from_secs(20), inbox.recv())
        .await
        .expect("a mail within 20 s")
        .unwrap();
    let joined = raw.replace("=\n", "");
    let mut out = Vec::new();
    let b = joined.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (b[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
