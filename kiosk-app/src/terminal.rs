//! The terminal as one object: its mode (`Mode::Lobby` with the check-in
//! machine, or `Mode::Unit` with the sign-in machine), the devices it lends
//! (`devices::DeviceOwner`), the store, the sync task and the call, wired
//! together. The screen (touch or headless) feeds
//! it inputs and shows the views it returns.
//!
//! A lobby terminal opens the call of a visit when its visitor checks in;
//! the waiting screen takes over once the check-in result is dismissed. A
//! housing-unit terminal runs [`crate::unit::signin`] instead: the person
//! signs in (a photo is taken and queued), picks a visit, and its call opens
//! through the same `open_visit` and joins as soon as the server lets it.
//! While a call is up the sign-in machine gets no ticks (no idle sign-out);
//! when the call screen closes it is back on the person's list.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use protocol::TerminalRole;
use protocol::signal::Side;
use protocol::terminal::EnrolResponse;
use tokio::sync::mpsc;
use ui::{Screen, TerminalView, UiInput};
use uuid::Uuid;

use crate::call::flow::{CallFlow, FlowEffect};
use crate::call::record::RecordParams;
use crate::call::{CallHandle, CallParams, Screens, Snapshot};
use crate::checkin::{Checkin, Effect, Input, Policy};
use crate::config::Config;
use crate::devices::{CAMERA_WAIT, DeviceOwner};
use crate::identity;
use crate::schedule::ScheduleIndex;
use crate::store::Store;
use crate::sync::client::{Client, SyncError};
use crate::sync::{Shared, StatusReport, Sync, Timing};
use crate::unit::signin::{self, SignIn};

pub struct Terminal {
    pub identity: EnrolResponse,
    store: Arc<Store>,
    shared: Arc<Shared>,
    /// The lobby's check-in, or the unit's sign-in.
    mode: Mode,
    reports: mpsc::UnboundedReceiver<StatusReport>,
    cfg: Config,
    /// The camera, microphone and speaker, lent to the call, the sign-in
    /// photo and the technician screen.
    devices: DeviceOwner,
    screens: Screens,
    call: Option<(CallFlow, CallHandle)>,
    /// A visit picked on the unit's list: press Join for the person as soon
    /// as the waiting screen offers it.
    auto_join: Option<Uuid>,
    _runtime: tokio::runtime::Runtime,
}

/// What this terminal is for: its role's own machine in front of the call.
enum Mode {
    /// A lobby terminal: a visitor checks in with the PIN from their email.
    Lobby(Checkin),
    /// A housing-unit terminal: a person signs in and joins their visits.
    Unit(SignIn),
}

/// Why a typed or configured enrolment code did not work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    #[error("the enrolment code is not valid (typo, or already used)")]
    Invalid,
    #[error("the enrolment code has expired; ask the administrator for a new one")]
    Expired,
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    #[error("the code is for a {0:?} terminal, but this one is configured as {1:?}")]
    WrongRole(TerminalRole, TerminalRole),
    #[error("enrolment failed: {0}")]
    Other(String),
}

/// Trade a one-time code for a credential and save it (mode 0600).
pub fn enrol(
    cfg: &Config,
    code: &str,
    runtime: &tokio::runtime::Runtime,
) -> Result<EnrolResponse, EnrolError> {
    let client = Client::new(&cfg.server_url, None);
    let e = runtime
        .block_on(client.enrol(code, env!("CARGO_PKG_VERSION")))
        .map_err(|e| match e {
            SyncError::Unreachable(m) => EnrolError::Unreachable(m),
            SyncError::Server { code, .. }
                if code == protocol::error::codes::ENROLMENT_CODE_EXPIRED =>
            {
                EnrolError::Expired
            }
            SyncError::Server { status: 401, .. } => EnrolError::Invalid,
            other => EnrolError::Other(other.to_string()),
        })?;
    if e.role != cfg.role {
        return Err(EnrolError::WrongRole(e.role, cfg.role));
    }
    identity::save(&cfg.data_dir, &e).map_err(|e| EnrolError::Other(format!("{e:#}")))?;
    tracing::info!(terminal_id = %e.terminal_id, facility_id = %e.facility_id, location = %e.location, "enrolled");
    Ok(e)
}

/// Enrol with the configured code unless already enrolled.
pub fn ensure_enrolled(
    cfg: &Config,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<EnrolResponse> {
    if let Some(e) = identity::load(&cfg.data_dir)? {
        return Ok(e);
    }
    let Some(code) = cfg.enrolment_code.as_deref() else {
        bail!(
            "this terminal is not enrolled: put the one-time code in enrolment_code (or KIOSK_ENROLMENT_CODE), \
             or type it on the touchscreen"
        );
    };
    enrol(cfg, code, runtime).with_context(|| format!("enrolling with {}", cfg.server_url))
}

fn cached_schedule(store: &Store) -> Option<ScheduleIndex> {
    match store.load_schedule() {
        Ok(Some(s)) => match ScheduleIndex::new(s) {
            Ok(i) => Some(i),
            Err(e) => {
                tracing::warn!(error = %e, "the cached schedule is unusable");
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the cached schedule");
            None
        }
    }
}

impl Terminal {
    /// Open the devices, the store, enrol if needed, load the cached
    /// schedule and start syncing.
    pub fn start(cfg: &Config) -> anyhow::Result<Terminal> {
        Terminal::start_with(cfg, DeviceOwner::open(&cfg.devices))
    }

    /// The same with devices already opened (the window's technician
    /// screen shares them from before enrolment).
    pub fn start_with(cfg: &Config, devices: DeviceOwner) -> anyhow::Result<Terminal> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sync")
            .enable_all()
            .build()?;
        let identity = ensure_enrolled(cfg, &runtime)?;
        let store = Arc::new(Store::open(&cfg.data_dir)?);
        // Segments a crash left open are registered before anything uploads.
        match crate::call::record::recover::recover(&cfg.data_dir, &store, identity.terminal_id) {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(terminal_id = %identity.terminal_id, segments = n, "recording segments recovered after a crash")
            }
            Err(e) => {
                tracing::error!(terminal_id = %identity.terminal_id, error = %format!("{e:#}"), "cannot recover recording segments")
            }
        }
        let cached = cached_schedule(&store);
        if let Some(s) = &cached {
            tracing::info!(terminal_id = %identity.terminal_id, visits = s.visit_count(), version = %s.wire.version, "using the cached schedule");
        }
        let shared = Shared::new(cached, store.clock_offset().unwrap_or(0));
        let (tx, reports) = mpsc::unbounded_channel();
        let sync = Sync {
            client: Client::new(&cfg.server_url, Some(identity.credential.clone())),
            store: store.clone(),
            shared: shared.clone(),
            reports: tx,
            timing: Timing {
                poll: cfg.poll,
                heartbeat: cfg.heartbeat,
                max_backoff: std::time::Duration::from_secs(30),
            },
            terminal_id: identity.terminal_id,
            started: Instant::now(),
            devices: Arc::new(crate::diagnose::health_source(devices.clone(), &cfg.call)),
            data_dir: cfg.data_dir.clone(),
            recordings_said: Default::default(),
        };
        runtime.spawn(sync.run());
        let mode = match cfg.role {
            TerminalRole::Lobby => {
                Mode::Lobby(Checkin::new(Policy::default(), cfg.language, shared.now()))
            }
            TerminalRole::Unit => {
                let policy = signin::Policy {
                    idle_timeout: chrono::Duration::from_std(cfg.unit_idle)
                        .unwrap_or(chrono::Duration::seconds(60)),
                    ..signin::Policy::default()
                };
                Mode::Unit(SignIn::new(policy, cfg.language, shared.now()))
            }
        };
        Ok(Terminal {
            identity,
            store,
            shared,
            mode,
            reports,
            cfg: cfg.clone(),
            devices,
            screens: Screens::default(),
            call: None,
            auto_join: None,
            _runtime: runtime,
        })
    }

    /// The terminal's devices (for the technician screen).
    pub fn devices(&self) -> DeviceOwner {
        self.devices.clone()
    }

    /// Where the call's pictures go (the window); headless has none.
    pub fn set_screens(&mut self, screens: Screens) {
        self.screens = screens;
    }

    fn side(&self) -> Side {
        match self.cfg.role {
            TerminalRole::Lobby => Side::Visitor,
            TerminalRole::Unit => Side::Person,
        }
    }

    /// Open a visit's call: the waiting screen, connected to the server.
    pub fn open_visit(&mut self, visit: Uuid) -> anyhow::Result<()> {
        if self.call.as_ref().is_some_and(|(_, h)| h.visit_id == visit) {
            return Ok(());
        }
        let side = self.side();
        let mut confidential = false;
        let flow = self
            .shared
            .with_schedule(|s| {
                let s = s?;
                let v = s.visit(visit)?;
                confidential = v.confidential;
                let hhmm = |t: chrono::DateTime<chrono::Utc>| {
                    t.with_timezone(&s.tz).format("%H:%M").to_string()
                };
                let peer = match side {
                    Side::Visitor => v.person_display.clone(),
                    Side::Person => v.visitor_display.join(", "),
                };
                Some(
                    CallFlow::new(side, peer, v.join_window(side), hhmm(v.start), hhmm(v.end))
                        .confidential(v.confidential),
                )
            })
            .with_context(|| format!("visit {visit} is not in today's schedule"))?;
        let handle = CallHandle::start(CallParams {
            server_url: self.cfg.server_url.clone(),
            credential: self.identity.credential.clone(),
            terminal_id: self.identity.terminal_id,
            visit_id: visit,
            cfg: self.cfg.call.clone(),
            devices: self.devices.clone(),
            screens: self.screens.clone(),
            record: self.record_params(confidential),
        });
        tracing::info!(terminal_id = %self.identity.terminal_id, visit_id = %visit, "visit opened");
        self.call = Some((flow, handle));
        Ok(())
    }

    /// What a call needs to record the visit: only on a unit terminal
    /// (the person's side holds every stream), never a confidential visit.
    fn record_params(&self, confidential: bool) -> Option<RecordParams> {
        if !crate::call::record::records(self.cfg.role, confidential) {
            return None;
        }
        let shared = self.shared.clone();
        Some(RecordParams {
            data_dir: self.cfg.data_dir.clone(),
            store: self.store.clone(),
            now: Arc::new(move || shared.now()),
            min_free_bytes: crate::disk::MIN_FREE_FOR_RECORDING,
        })
    }

    /// The call's figures (headless `stats`, the benchmark).
    pub fn call_stats(&self) -> Option<Snapshot> {
        self.call.as_ref().map(|(_, h)| h.snapshot())
    }

    /// The call screen is up (not the check-in screens in front of it; at
    /// a unit terminal the call is always in front).
    fn call_showing(&self) -> bool {
        self.call.is_some()
            && match &self.mode {
                Mode::Unit(_) => true,
                Mode::Lobby(checkin) => {
                    let now = self.shared.now();
                    let screen = self
                        .shared
                        .with_schedule(|s| checkin.view(now, s.map(|s| &*s), false).screen);
                    screen == Screen::Attract
                }
            }
    }

    fn apply_flow(&mut self, effects: Vec<FlowEffect>) {
        for e in effects {
            match e {
                FlowEffect::Call(c) => {
                    if let Some((_, h)) = &self.call {
                        h.send(c);
                    }
                }
                FlowEffect::Leave => {
                    if let Some((_, h)) = self.call.take() {
                        tracing::info!(terminal_id = %self.identity.terminal_id, visit_id = %h.visit_id, "visit closed on screen");
                    }
                    self.auto_join = None;
                    self.feed_unit(signin::Input::CallClosed);
                }
            }
        }
    }

    /// An input for the lobby's check-in (a unit terminal has none).
    fn feed(&mut self, input: Input) {
        let now = self.shared.now();
        let Mode::Lobby(checkin) = &mut self.mode else {
            return;
        };
        let effects = self
            .shared
            .with_schedule(|s| checkin.handle(input, now, s.map(|s| &*s)));
        for effect in effects {
            match effect {
                Effect::CheckIn { visit, at } => match self.store.record_check_in(visit, at) {
                    Ok(Some(event)) => {
                        tracing::info!(terminal_id = %self.identity.terminal_id, visit_id = %visit, event_id = %event.id, offline = !self.shared.online(), "visitor checked in");
                        self.shared.wake.notify_one();
                        self.open_checked_in(visit);
                    }
                    Ok(None) => {
                        tracing::info!(terminal_id = %self.identity.terminal_id, visit_id = %visit, "visitor checked in again");
                        self.open_checked_in(visit);
                    }
                    Err(e) => {
                        // The visitor is told they are checked in; say loudly that it was not saved.
                        tracing::error!(terminal_id = %self.identity.terminal_id, visit_id = %visit, error = %e, "check-in could not be saved")
                    }
                },
            }
        }
    }

    fn feed_unit(&mut self, input: signin::Input) {
        let now = self.shared.now();
        let Mode::Unit(unit) = &mut self.mode else {
            return;
        };
        let effects = self
            .shared
            .with_schedule(|s| unit.handle(input, now, s.map(|s| &*s)));
        let terminal_id = self.identity.terminal_id;
        for effect in effects {
            match effect {
                signin::Effect::SignedIn { person, number, at } => {
                    tracing::info!(%terminal_id, person_id = %person, offline = !self.shared.online(), "person signed in");
                    let _ = self.store.log("sign_in", None, &person.to_string());
                    self.take_photo(number, at);
                }
                signin::Effect::Join { visit, number, at } => {
                    let event = protocol::terminal::TerminalEvent {
                        id: Uuid::new_v4(),
                        occurred_at: at,
                        visit_id: visit,
                        event: protocol::terminal::TerminalEventKind::SignIn {
                            person_number: number,
                        },
                    };
                    match self.store.queue(&event) {
                        Ok(()) => self.shared.wake.notify_one(),
                        Err(e) => {
                            tracing::error!(%terminal_id, visit_id = %visit, error = %e, "the sign-in could not be queued")
                        }
                    }
                    match self.open_visit(visit) {
                        Ok(()) => self.auto_join = Some(visit),
                        Err(e) => {
                            tracing::warn!(%terminal_id, visit_id = %visit, error = %format!("{e:#}"), "cannot open the visit's call")
                        }
                    }
                }
                signin::Effect::NotRecognized { locked } => {
                    tracing::warn!(%terminal_id, locked, "unit sign-in: ID number or PIN not recognized");
                }
                signin::Effect::SignedOut { person, why } => {
                    tracing::info!(%terminal_id, person_id = %person, ?why, "person signed out");
                    let _ = self
                        .store
                        .log("sign_out", None, &format!("{person} {why:?}"));
                }
            }
        }
    }

    /// Take the sign-in still on a worker thread (the camera takes a moment)
    /// and queue it durably; the sync task uploads it when it can.
    fn take_photo(&self, person_number: String, at: chrono::DateTime<chrono::Utc>) {
        let (store, shared, devices) = (
            self.store.clone(),
            self.shared.clone(),
            self.devices.clone(),
        );
        let terminal_id = self.identity.terminal_id;
        let spawned = std::thread::Builder::new()
            .name("sign-in-photo".into())
            .spawn(move || {
                // A call starting now waits for the camera meanwhile.
                let loan = match devices.borrow_camera("sign-in photo", CAMERA_WAIT) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(%terminal_id, error = %e, "no sign-in photo");
                        return;
                    }
                };
                let jpeg = crate::unit::photo::capture_jpeg(devices.devices());
                drop(loan);
                match jpeg {
                    Ok(jpeg) => {
                        let photo = crate::store::QueuedPhoto {
                            id: Uuid::new_v4(),
                            person_number,
                            taken_at: at,
                            jpeg,
                        };
                        match store.queue_photo(&photo) {
                            Ok(()) => {
                                tracing::info!(%terminal_id, photo_id = %photo.id, bytes = photo.jpeg.len(), "sign-in photo queued");
                                shared.wake.notify_one();
                            }
                            Err(e) => {
                                tracing::error!(%terminal_id, error = %e, "the sign-in photo could not be queued")
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(%terminal_id, error = %format!("{e:#}"), "no sign-in photo: the camera failed")
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(%terminal_id, error = %e, "cannot start the photo thread");
        }
    }

    fn open_checked_in(&mut self, visit: Uuid) {
        if let Err(e) = self.open_visit(visit) {
            tracing::warn!(terminal_id = %self.identity.terminal_id, visit_id = %visit, error = %format!("{e:#}"), "cannot open the visit's call");
        }
    }

    /// A touch (or its headless equivalent).
    pub fn touch(&mut self, input: UiInput) -> TerminalView {
        if self.call_showing() {
            let now = self.shared.now();
            let effects = match &mut self.call {
                Some((flow, _)) => flow.handle_ui(input, now),
                None => vec![],
            };
            self.apply_flow(effects);
        } else if let Mode::Unit(_) = self.mode {
            self.feed_unit(signin::Input::Ui(input));
        } else {
            self.feed(Input::Ui(input));
        }
        self.view()
    }

    /// Time passes: idle timeout, countdowns, statuses from the server.
    pub fn tick(&mut self) -> TerminalView {
        // Recording uploads make way for a call (`sync/recordings.rs`).
        self.shared
            .in_call
            .store(self.call.is_some(), std::sync::atomic::Ordering::Relaxed);
        while let Ok(r) = self.reports.try_recv() {
            self.feed(Input::Status {
                visit: r.visit,
                status: r.status,
            });
        }
        self.feed(Input::Tick);
        if self.call.is_none() {
            self.feed_unit(signin::Input::Tick);
        }
        let now = self.shared.now();
        let auto_join = self.auto_join;
        let mut effects = match &mut self.call {
            Some((flow, handle)) => {
                while let Some(e) = handle.try_event() {
                    flow.handle_event(e, now);
                }
                flow.tick(now)
            }
            None => vec![],
        };
        if let Some((flow, h)) = &mut self.call
            && auto_join == Some(h.visit_id)
            && flow.view(now).can_join
        {
            // The person already chose Join on the list.
            self.auto_join = None;
            effects.extend(flow.handle_ui(UiInput::Join, now));
        }
        self.apply_flow(effects);
        self.view()
    }

    /// Server time as this terminal knows it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared.now()
    }

    pub fn view(&self) -> TerminalView {
        let now = self.shared.now();
        let online = self.shared.online();
        let mut v = self.shared.with_schedule(|s| {
            let s = s.map(|s| &*s);
            match &self.mode {
                Mode::Unit(unit) => unit.view(now, s, !online),
                Mode::Lobby(checkin) => checkin.view(now, s, !online),
            }
        });
        if let Some((flow, _)) = &self.call
            && (matches!(self.mode, Mode::Unit(_)) || v.screen == Screen::Attract)
        {
            v.screen = flow.screen();
            v.call = flow.view(now);
        }
        v
    }

    /// The configuration it runs with (the technician screen reads it).
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// What the technician screen says about this terminal and its server.
    pub fn technician_facts(&self) -> crate::technician::Facts {
        crate::technician::Facts {
            terminal_id: Some(self.identity.terminal_id),
            location: Some(self.identity.location.clone()),
            online: self.shared.online(),
            last_sync: self.shared.last_sync(),
            last_heartbeat: self.shared.last_heartbeat(),
        }
    }

    pub fn outbox_pending(&self) -> u32 {
        self.store.pending_count().unwrap_or(0)
    }
}
