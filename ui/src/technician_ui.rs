//! The technician's screens (PIN prompt, diagnostics) as far as Rust is
//! concerned: a [`TechnicianView`] into the `TechnicianApi` global, the
//! self-view frame by frame, and the callbacks (the hidden corner's too)
//! into [`TechnicianInput`]s, apart from the visitors'.

use std::rc::Rc;

use slint::{ComponentHandle, Image, Model, ModelRc, Rgb8Pixel, SharedPixelBuffer, VecModel};

use crate::terminal_ui::key_digit;
use crate::view::{
    DeviceHealthText, DeviceKindText, DeviceRow, TechnicianInput, TechnicianMessage, TechnicianView,
};
use crate::{
    DeviceHealthId, DeviceKindId, TechDevice, TechMessageKind, TechnicianApi, TerminalWindow,
};

/// Sets every `TechnicianApi` property from `v` but the self-view.
pub(crate) fn show(window: &TerminalWindow, v: &TechnicianView) {
    let api = window.global::<TechnicianApi>();
    api.set_digits(v.digits_entered.into());
    let (kind, count) = match v.message {
        TechnicianMessage::None => (TechMessageKind::None, 0),
        TechnicianMessage::WrongPin { attempts_left } => {
            (TechMessageKind::WrongPin, attempts_left.into())
        }
        TechnicianMessage::Locked { seconds_left } => (
            TechMessageKind::Locked,
            i32::try_from(seconds_left).unwrap_or(i32::MAX),
        ),
        TechnicianMessage::NotConfigured => (TechMessageKind::NotConfigured, 0),
    };
    api.set_message(kind);
    api.set_message_count(count);
    set_devices(&api, &v.devices);
    api.set_camera_error(v.camera_error.as_str().into());
    api.set_level(v.level.clamp(0.0, 1.0));
    api.set_level_text(
        v.level_db
            .map_or(String::new(), |db| format!("{db} dB"))
            .into(),
    );
    api.set_microphone_error(v.microphone_error.as_str().into());
    api.set_tone_playing(v.tone_playing);
    api.set_speaker_error(v.speaker_error.as_str().into());
    api.set_online(v.online);
    api.set_media_missing(v.media_missing.as_str().into());
    api.set_server_url(v.server_url.as_str().into());
    let secs = |s: Option<u32>| s.map_or(-1, |s| i32::try_from(s).unwrap_or(i32::MAX));
    api.set_last_sync(secs(v.last_sync_secs));
    api.set_last_heartbeat(secs(v.last_heartbeat_secs));
    api.set_version(v.software_version.as_str().into());
    api.set_terminal_id(v.terminal_id.as_str().into());
    api.set_location(v.location.as_str().into());
    api.set_closes_in(i32::try_from(v.closes_in).unwrap_or(i32::MAX));
}

/// The device list. A new model only when a row changed: replacing it
/// rebuilds the list.
fn set_devices(api: &TechnicianApi<'_>, devices: &[DeviceRow]) {
    let rows: Vec<TechDevice> = devices
        .iter()
        .map(|d| TechDevice {
            kind: match d.kind {
                DeviceKindText::Camera => DeviceKindId::Camera,
                DeviceKindText::Microphone => DeviceKindId::Microphone,
                DeviceKindText::Speaker => DeviceKindId::Speaker,
                DeviceKindText::Touchscreen => DeviceKindId::Touchscreen,
            },
            health: match d.health {
                DeviceHealthText::Ok => DeviceHealthId::Ok,
                DeviceHealthText::Missing => DeviceHealthId::Missing,
                DeviceHealthText::Error => DeviceHealthId::Error,
            },
            detail: d.detail.as_str().into(),
        })
        .collect();
    let current = api.get_devices();
    if current.row_count() != rows.len()
        || rows
            .iter()
            .enumerate()
            .any(|(i, r)| current.row_data(i).as_ref() != Some(r))
    {
        api.set_devices(ModelRc::new(VecModel::from(rows)));
    }
}

/// See [`crate::TerminalUi::set_technician_frame`].
pub(crate) fn set_frame(window: &TerminalWindow, frame: SharedPixelBuffer<Rgb8Pixel>) {
    window
        .global::<TechnicianApi>()
        .set_video(Image::from_rgb8(frame));
}

/// See [`crate::TerminalUi::clear_technician_frame`].
pub(crate) fn clear_frame(window: &TerminalWindow) {
    window.global::<TechnicianApi>().set_video(Image::default());
}

/// Hands the technician screens' touches, and the hidden corner's, to `f`.
pub(crate) fn on_input(window: &TerminalWindow, f: Rc<dyn Fn(TechnicianInput)>) {
    let api = window.global::<TechnicianApi>();
    let send = |input: TechnicianInput| {
        let f = f.clone();
        move || f(input)
    };
    api.on_corner(send(TechnicianInput::CornerTap));
    api.on_backspace(send(TechnicianInput::Backspace));
    api.on_submit(send(TechnicianInput::Submit));
    api.on_cancel(send(TechnicianInput::Cancel));
    api.on_close(send(TechnicianInput::Close));
    api.on_tone(send(TechnicianInput::Tone));
    api.on_digit(move |d| {
        if let Some(d) = key_digit(d) {
            f(TechnicianInput::Digit(d));
        }
    });
}
