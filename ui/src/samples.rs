//! The made-up screens the screenshots show and the tests drive: every
//! lobby screen and message ([`samples`]), the enrolment screen and the
//! technician's, and the video frames drawn in code ([`sample_remote_frame`],
//! [`sample_self_frame`]) so the in-call screens need no camera and show
//! where the video goes and how it is scaled. Re-exported from
//! [`crate::screenshots`].

use slint::{Rgb8Pixel, SharedPixelBuffer};

use crate::TerminalUi;
use crate::view::{
    CallEnd, CallView, DeviceHealthText, DeviceKindText, DeviceRow, EnrolMessage, EnrolView, Lang,
    Message, PeerNotice, Quality, Screen, StatusText, TechnicianMessage, TechnicianScreen,
    TechnicianView, TerminalView,
};

/// A video frame as `TerminalUi::set_remote_frame` takes it.
pub type Frame = SharedPixelBuffer<Rgb8Pixel>;

/// One lobby screen to render: the view and, on the in-call screen, the
/// pictures it shows.
#[derive(Clone)]
pub struct Sample {
    /// The file name without language and extension, e.g. `"in-call"`.
    pub name: &'static str,
    pub view: TerminalView,
    /// The other side's picture; `None` leaves the dark placeholder.
    pub remote: Option<Frame>,
    /// The visitor's own picture; `None` leaves the corner dark.
    pub self_view: Option<Frame>,
    /// Several visitors' pictures, by tile (named in `view.call.tiles`).
    pub tiles: Vec<Frame>,
}

impl Sample {
    fn new(name: &'static str, view: TerminalView) -> Self {
        Self {
            name,
            view,
            remote: None,
            self_view: None,
            tiles: Vec::new(),
        }
    }

    /// Every tile of `view.call.tiles` with a picture, and a self-view.
    fn with_tiles(self) -> Self {
        let n = self.view.call.tiles.len();
        Self {
            tiles: (0..n).map(|_| sample_remote_frame()).collect(),
            self_view: Some(sample_self_frame()),
            ..self
        }
    }

    fn with_video(self, remote: bool) -> Self {
        Self {
            remote: remote.then(sample_remote_frame),
            self_view: Some(sample_self_frame()),
            ..self
        }
    }

    /// Puts this sample up on `ui`, in `lang`.
    pub(crate) fn show_on(&self, ui: &TerminalUi, lang: Lang) {
        ui.clear_video();
        if let Some(frame) = &self.remote {
            ui.set_remote_frame(frame.clone());
        }
        if let Some(frame) = &self.self_view {
            ui.set_self_frame(frame.clone());
        }
        ui.show(&TerminalView {
            lang,
            ..self.view.clone()
        });
        for (i, frame) in self.tiles.iter().enumerate() {
            ui.set_tile_frame(i, frame.clone());
        }
    }
}

/// Every screen and message of the lobby, named for the file it becomes,
/// without the video (see [`samples`]).
pub fn sample_views() -> Vec<(&'static str, TerminalView)> {
    samples().into_iter().map(|s| (s.name, s.view)).collect()
}

/// Every screen and message of the lobby, named for the file it becomes,
/// with made-up video on the in-call screens.
pub fn samples() -> Vec<Sample> {
    let base = TerminalView {
        facility_name: "Jackson County Jail".into(),
        clock: "10:29".into(),
        pin_length: 6,
        ..TerminalView::default()
    };
    let mut samples: Vec<_> = lobby_samples(&base)
        .into_iter()
        .map(|(name, view)| Sample::new(name, view))
        .collect();
    samples.extend(call_samples(&base));
    samples.extend(
        crate::unit_samples::unit_samples(&base)
            .into_iter()
            .map(|(name, view)| Sample::new(name, view)),
    );
    samples
}

/// The call's screens: waiting, in call (one picture, several, each
/// warning and notice) and ended.
fn call_samples(base: &TerminalView) -> Vec<Sample> {
    let call = CallView {
        peer: "J. S.".into(),
        starts_at: "10:30".into(),
        ends_at: "11:00".into(),
        ..CallView::default()
    };
    let waiting = |status, can_join| TerminalView {
        screen: Screen::Waiting,
        call: CallView {
            status: Some(status),
            can_join,
            ..call.clone()
        },
        ..base.clone()
    };
    let talking = CallView {
        minutes_left: 23,
        ..call.clone()
    };
    let in_call = |call| TerminalView {
        screen: Screen::InCall,
        call,
        ..base.clone()
    };
    let ended = |end| TerminalView {
        screen: Screen::CallEnded,
        call: CallView {
            ended: Some(end),
            ..call.clone()
        },
        ..base.clone()
    };
    let mut samples = vec![
        Sample::new("waiting-scheduled", waiting(StatusText::Scheduled, false)),
        Sample::new("waiting-ready", waiting(StatusText::Ready, true)),
        // A confidential visit says it is not recorded (the others say
        // they are).
        Sample::new(
            "waiting-confidential",
            TerminalView {
                call: CallView {
                    confidential: true,
                    ..waiting(StatusText::Ready, true).call
                },
                ..waiting(StatusText::Ready, true)
            },
        ),
    ];
    samples.extend(in_call_samples(in_call, &talking, &call));
    samples.extend([
        Sample::new("call-ended-time-up", ended(CallEnd::TimeUp)),
        Sample::new(
            "call-ended-by-staff",
            ended(CallEnd::ByStaff {
                reason: "the facility is in lockdown".into(),
            }),
        ),
        Sample::new("call-ended-by-other", ended(CallEnd::HungUpOther)),
    ]);
    samples
}

/// The in-call screen: connecting, one picture, two and three visitors,
/// the warnings, the other side's devices, reconnecting and "End the
/// visit?".
fn in_call_samples(
    in_call: impl Fn(CallView) -> TerminalView,
    talking: &CallView,
    call: &CallView,
) -> Vec<Sample> {
    vec![
        Sample::new(
            "in-call-connecting",
            in_call(CallView {
                connecting: true,
                minutes_left: 30,
                ..call.clone()
            }),
        )
        .with_video(false),
        Sample::new("in-call", in_call(talking.clone())).with_video(true),
        Sample::new(
            "in-call-two-visitors",
            in_call(CallView {
                tiles: vec!["Maria S.".into(), "Ana L.".into()],
                ..talking.clone()
            }),
        )
        .with_tiles(),
        Sample::new(
            "in-call-three-visitors",
            in_call(CallView {
                tiles: vec!["Maria S.".into(), "Ana L.".into(), "Carl S.".into()],
                ..talking.clone()
            }),
        )
        .with_tiles(),
        Sample::new(
            "in-call-5-min",
            in_call(CallView {
                minutes_left: 5,
                warning: Some(5),
                quality: Quality::Fair,
                ..talking.clone()
            }),
        )
        .with_video(true),
        Sample::new(
            "in-call-1-min",
            in_call(CallView {
                minutes_left: 1,
                warning: Some(1),
                quality: Quality::Poor,
                peer_notice: Some(PeerNotice::MicrophoneUnavailable),
                ..talking.clone()
            }),
        )
        .with_video(true),
        Sample::new(
            "in-call-camera-off",
            in_call(CallView {
                peer_notice: Some(PeerNotice::CameraUnavailable),
                ..talking.clone()
            }),
        )
        .with_video(false),
        Sample::new(
            "in-call-reconnecting",
            in_call(CallView {
                quality: Quality::Reconnecting,
                ..talking.clone()
            }),
        )
        .with_video(true),
        Sample::new(
            "in-call-confirm-end",
            in_call(CallView {
                confirm_end: true,
                ..talking.clone()
            }),
        )
        .with_video(true),
    ]
}

/// The check-in screens: attract, PIN pad and results.
fn lobby_samples(base: &TerminalView) -> Vec<(&'static str, TerminalView)> {
    let pad = TerminalView {
        screen: Screen::PinEntry,
        ..base.clone()
    };
    let result = |message| TerminalView {
        screen: Screen::Result,
        message,
        ..base.clone()
    };
    vec![
        ("attract", base.clone()),
        (
            "attract-offline",
            TerminalView {
                offline: true,
                ..base.clone()
            },
        ),
        (
            "pin-entry",
            TerminalView {
                digits_entered: 3,
                ..pad.clone()
            },
        ),
        (
            "not-recognized",
            TerminalView {
                message: Message::NotRecognized { attempts_left: 2 },
                ..pad.clone()
            },
        ),
        (
            "locked",
            TerminalView {
                message: Message::Locked { seconds_left: 45 },
                ..pad.clone()
            },
        ),
        (
            "too-early",
            result(Message::TooEarly {
                start: "11:00".into(),
                opens: "10:45".into(),
            }),
        ),
        ("ended", result(Message::Ended)),
        ("cancelled", result(Message::Cancelled)),
        (
            "terminated",
            result(Message::Terminated {
                reason: "a security count in the housing unit".into(),
            }),
        ),
        (
            "checked-in",
            result(Message::CheckedIn {
                person: "J. S.".into(),
                status: StatusText::Pending,
            }),
        ),
    ]
}

/// The enrolment screen, half typed and after a wrong code, named for the
/// file it becomes.
pub fn sample_enrol_views() -> Vec<(&'static str, EnrolView)> {
    let base = EnrolView {
        code: "482109".into(),
        server_url: "https://visits.jail.example".into(),
        role_label: "Lobby terminal".into(),
        ..EnrolView::default()
    };
    vec![
        ("enrol", base.clone()),
        (
            "enrol-invalid",
            EnrolView {
                code: "482109375561".into(),
                message: EnrolMessage::Invalid,
                ..base
            },
        ),
    ]
}

/// The technician screens: the PIN prompt after a wrong PIN, the
/// diagnostics with every device working (a picture and a level), and with
/// the camera missing. Named for the file each becomes; the picture is the
/// self-view's, if any.
pub fn sample_technician_views() -> Vec<(&'static str, TechnicianView, Option<Frame>)> {
    let row = |kind, health, detail: &str| DeviceRow {
        kind,
        health,
        detail: detail.into(),
    };
    let ok_devices = vec![
        row(
            DeviceKindText::Camera,
            DeviceHealthText::Ok,
            "/dev/kiosk/camera: Mjpg 1280x720@30.00",
        ),
        row(
            DeviceKindText::Microphone,
            DeviceHealthText::Ok,
            "plughw:CARD=Headset,DEV=0 (/dev/kiosk/microphone)",
        ),
        row(
            DeviceKindText::Speaker,
            DeviceHealthText::Ok,
            "plughw:CARD=Headset,DEV=0 (/dev/kiosk/speaker)",
        ),
        row(
            DeviceKindText::Touchscreen,
            DeviceHealthText::Ok,
            "ILITEK Multi-Touch (/dev/kiosk/touchscreen)",
        ),
    ];
    let ok = TechnicianView {
        screen: TechnicianScreen::Diagnostics,
        devices: ok_devices.clone(),
        level: 0.72,
        level_db: Some(-17),
        online: true,
        server_url: "https://visits.jail.example".into(),
        last_sync_secs: Some(4),
        last_heartbeat_secs: Some(12),
        software_version: "0.1.0".into(),
        terminal_id: "5f0c2a8e-3b1d-4c6e-9a7f-2d8e1b4c6a90".into(),
        location: "Lobby 1".into(),
        closes_in: 104,
        ..TechnicianView::default()
    };
    let mut missing_devices = ok_devices;
    missing_devices[0] = row(
        DeviceKindText::Camera,
        DeviceHealthText::Missing,
        "camera (no /dev/kiosk/camera and no video capture device) not found",
    );
    let missing = TechnicianView {
        devices: missing_devices,
        camera_error: "camera (no /dev/kiosk/camera and no video capture device) not found".into(),
        online: false,
        last_heartbeat_secs: Some(95),
        ..ok.clone()
    };
    vec![
        (
            "technician-pin-wrong",
            TechnicianView {
                screen: TechnicianScreen::Pin,
                digits_entered: 0,
                message: TechnicianMessage::WrongPin { attempts_left: 4 },
                ..TechnicianView::default()
            },
            None,
        ),
        ("technician", ok, Some(sample_remote_frame())),
        ("technician-camera-missing", missing, None),
    ]
}

/// The other side's picture in the in-call samples: 640x480, a room with a
/// window and a person whose face fills the middle with one flat colour
/// ([`SAMPLE_FACE`]), so a test can tell the picture is where it belongs.
pub fn sample_remote_frame() -> Frame {
    paint(640, 480, |x, y| {
        let (x, y) = (x as f32, y as f32);
        if inside_ellipse(x, y, (320.0, 240.0), (80.0, 95.0)) {
            let eye = inside_ellipse(x, y, (290.0, 215.0), (9.0, 9.0))
                || inside_ellipse(x, y, (350.0, 215.0), (9.0, 9.0));
            let mouth = inside_ellipse(x, y, (320.0, 290.0), (28.0, 8.0));
            return if eye || mouth {
                Rgb8Pixel::new(60, 35, 30)
            } else {
                SAMPLE_FACE
            };
        }
        // Shoulders, in a green shirt.
        if inside_ellipse(x, y, (320.0, 480.0), (200.0, 150.0)) {
            return Rgb8Pixel::new(40, 120, 80);
        }
        // A window on the wall, top left.
        if (60.0..220.0).contains(&x) && (60.0..200.0).contains(&y) {
            return Rgb8Pixel::new(170, 210, 235);
        }
        // The floor.
        if y > 400.0 {
            return Rgb8Pixel::new(110, 85, 60);
        }
        // The wall, lighter towards the top.
        let shade = 1.0 - y / 480.0 * 0.5;
        Rgb8Pixel::new(
            (70.0 * shade) as u8,
            (130.0 * shade) as u8,
            (180.0 * shade) as u8,
        )
    })
}

/// The middle of [`sample_remote_frame`]: a face.
pub const SAMPLE_FACE: Rgb8Pixel = Rgb8Pixel {
    r: 224,
    g: 172,
    b: 128,
};

/// The visitor's own picture in the in-call samples: 320x240, warm colours,
/// unlike the other side's.
pub fn sample_self_frame() -> Frame {
    paint(320, 240, |x, y| {
        let (x, y) = (x as f32, y as f32);
        if inside_ellipse(x, y, (160.0, 115.0), (42.0, 50.0)) {
            return Rgb8Pixel::new(150, 100, 70);
        }
        if inside_ellipse(x, y, (160.0, 240.0), (100.0, 75.0)) {
            return Rgb8Pixel::new(120, 60, 140);
        }
        let shade = 1.0 - x / 320.0 * 0.2;
        Rgb8Pixel::new((230.0 * shade) as u8, (150.0 * shade) as u8, 80)
    })
}

fn paint(width: u32, height: u32, pixel: impl Fn(u32, u32) -> Rgb8Pixel) -> Frame {
    let mut frame = Frame::new(width, height);
    let rows = frame.make_mut_slice().chunks_exact_mut(width as usize);
    for (y, row) in (0..).zip(rows) {
        for (x, p) in (0..).zip(row.iter_mut()) {
            *p = pixel(x, y);
        }
    }
    frame
}

fn inside_ellipse(x: f32, y: f32, (cx, cy): (f32, f32), (rx, ry): (f32, f32)) -> bool {
    let (dx, dy) = ((x - cx) / rx, (y - cy) / ry);
    dx * dx + dy * dy <= 1.0
}
