//! A headless browser driven over WebDriver, with its own profile: Debian's
//! Chromium through its chromedriver, or Debian's Firefox ESR through
//! geckodriver (`scripts/deps` builds it into `target/tools`). The browser
//! tests and the unit-vs-browser benchmark use it (the benchmark includes
//! this file by path). Both keep to loopback: no background connections,
//! fake camera and microphone, loopback ICE candidates.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A browser session through its WebDriver.
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

    /// Chromium (Debian's `chromium`, through `chromedriver`).
    pub fn start() -> Browser {
        Self::chromium()
    }

    /// Chromium (Debian's `chromium`, through `chromedriver`).
    pub fn chromium() -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; scripts/deps installs it)");
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
        Self::session(driver, port, caps, profile)
    }

    /// Firefox ESR (Debian's `firefox-esr`, through geckodriver) as a
    /// family's fresh install has it: no OpenH264 plugin (its download is
    /// off, as on a managed or offline machine), so VP8 is its only video.
    #[allow(dead_code)] // The unit-vs-browser benchmark uses Chromium only.
    pub fn firefox() -> Browser {
        let port = free_port();
        let built = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/tools/bin/geckodriver");
        let geckodriver = if built.exists() {
            built
        } else {
            "geckodriver".into()
        };
        let profile = tempfile::tempdir().unwrap();
        let driver = Command::new(geckodriver)
            .args(["--port", &port.to_string()])
            .args(["--websocket-port", &free_port().to_string()])
            .arg("--profile-root")
            .arg(profile.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("geckodriver (scripts/deps builds it into target/tools)");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "firefox",
            "moz:firefoxOptions": {
                "binary": "/usr/bin/firefox-esr",
                "args": ["-headless"],
                "prefs": {
                    // Fake camera and microphone, no permission prompt.
                    "media.navigator.streams.fake": true,
                    "media.navigator.permission.disabled": true,
                    "media.autoplay.default": 0,
                    // ICE on loopback, with real addresses (no mDNS names).
                    "media.peerconnection.ice.loopback": true,
                    "media.peerconnection.ice.obfuscate_host_addresses": false,
                    // No OpenH264 download, nothing else in the background.
                    "media.gmp-manager.url": "",
                    "media.gmp-gmpopenh264.enabled": false,
                    "media.gmp-gmpopenh264.autoupdate": false,
                    "app.update.disabledForTesting": true,
                    "browser.safebrowsing.malware.enabled": false,
                    "browser.safebrowsing.phishing.enabled": false,
                    "browser.safebrowsing.downloads.enabled": false,
                    "datareporting.policy.dataSubmissionEnabled": false,
                    "datareporting.healthreport.uploadEnabled": false,
                    "toolkit.telemetry.enabled": false,
                    "network.captive-portal-service.enabled": false,
                    "network.connectivity-service.enabled": false,
                    "extensions.update.enabled": false,
                    "services.settings.server": "http://127.0.0.1:9/",
                    "browser.region.network.url": "",
                }
            }
        }}});
        Self::session(driver, port, caps, profile)
    }

    fn session(driver: Child, port: u16, caps: Value, profile: tempfile::TempDir) -> Browser {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let end = Instant::now() + Duration::from_secs(30);
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
                Ok(v) if Instant::now() > end => panic!("no browser session: {v}"),
                Err(e) if Instant::now() > end => panic!("the WebDriver did not answer: {e}"),
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

    /// A WebDriver GET (e.g. `screenshot`).
    #[allow(dead_code)] // The console's screenshots use it.
    pub fn get(&self, path: &str) -> Value {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        self.rt.block_on(async {
            reqwest::Client::new()
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })["value"]
            .clone()
    }

    /// The page as a PNG.
    #[allow(dead_code)] // The console's screenshots use it.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let b64 = self.get("screenshot");
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().expect("a screenshot"))
            .expect("base64")
    }

    /// Resize the window (CSS pixels).
    #[allow(dead_code)] // The console's screenshots use it.
    pub fn resize(&self, width: u32, height: u32) {
        self.post("window/rect", json!({ "width": width, "height": height }));
    }

    /// Press keys as a user would (WebDriver key codes: Tab is \u{E004},
    /// Enter \u{E007}).
    #[allow(dead_code)] // The console's keyboard test uses it.
    pub fn keys(&self, keys: &str) {
        let mut actions = Vec::new();
        for c in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        self.post(
            "actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        );
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
