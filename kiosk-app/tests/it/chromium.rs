//! A headless Chromium driven over WebDriver by Debian's chromedriver, with
//! its own profile: the browser tests and the unit-vs-browser benchmark use
//! it (the benchmark includes this file by path).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A Chromium session through chromedriver.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    rt: tokio::runtime::Runtime,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// The chromedriver's pid (Chromium's processes are its descendants).
    #[allow(dead_code)] // The unit-vs-browser benchmark measures them.
    pub fn driver_pid(&self) -> u32 {
        self.driver.id()
    }

    pub fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; scripts/deps installs it)");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().unwrap();
        // The flags of ../shared/STACK.md: no network beyond loopback, fake
        // devices (the fake camera at 30 fps, like kiosk-app's).
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                    "--use-fake-device-for-media-stream=fps=30", "--use-fake-ui-for-media-stream",
                    "--allow-loopback-in-peer-connection", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--disable-quic", "--autoplay-policy=no-user-gesture-required",
                    format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let end = Instant::now() + Duration::from_secs(20);
        let session = loop {
            let r = rt.block_on(async {
                reqwest::Client::new()
                    .post(format!("{base}/session"))
                    .json(&caps)
                    .send()
                    .await?
                    .json::<Value>()
                    .await
            });
            match r {
                Ok(v) if v["value"]["sessionId"].is_string() => {
                    break v["value"]["sessionId"].as_str().unwrap().to_string();
                }
                Ok(v) if Instant::now() > end => panic!("no Chromium session: {v}"),
                Err(e) if Instant::now() > end => panic!("chromedriver did not answer: {e}"),
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        };
        Browser {
            driver,
            base,
            session,
            rt,
            _profile: profile,
        }
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        self.rt.block_on(async {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })["value"]
            .clone()
    }

    pub fn open(&self, url: &str) {
        self.post("url", json!({ "url": url }));
    }

    pub fn js(&self, script: &str) -> Value {
        self.post("execute/sync", json!({ "script": script, "args": [] }))
    }

    pub fn state(&self) -> Value {
        self.js("return window.visitState || null;")
    }

    /// Wait (bounded) until the page's state satisfies `f`.
    pub fn until(&self, what: &str, timeout: Duration, f: impl Fn(&Value) -> bool) -> Value {
        let end = Instant::now() + timeout;
        loop {
            let s = self.state();
            if f(&s) {
                return s;
            }
            if Instant::now() > end {
                panic!("the page never got to {what}; its state: {s}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Open a join link: camera and microphone check, then the waiting room.
    pub fn to_waiting_room(&self, link: &str) {
        self.open(link);
        self.until("the camera check", Duration::from_secs(20), |s| {
            s["screen"] == "check"
        });
        self.js("return new Promise(r => { const t = setInterval(() => { if (!document.getElementById('continue').disabled) { clearInterval(t); r(true); } }, 100); });");
        self.click("continue");
        self.until("the waiting room", Duration::from_secs(10), |s| {
            s["screen"] == "waiting" && s["status"].is_string()
        });
    }

    pub fn click(&self, id: &str) {
        self.js(&format!(
            "document.getElementById('{id}').click(); return true;"
        ));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self
            .rt
            .block_on(async { reqwest::Client::new().delete(url).send().await });
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
