//! The call's screens (waiting, in call, ended) as far as Rust is
//! concerned: a [`CallView`] into the `CallApi` global, the pictures frame
//! by frame, and the callbacks into [`UiInput`]s.

use std::rc::Rc;

use slint::{ComponentHandle, Image, Model, ModelRc, Rgb8Pixel, SharedPixelBuffer, VecModel};

use crate::checkin_ui::visit_status;
use crate::view::{CallEnd, CallProblem, CallView, PeerNotice, Quality, UiInput};
use crate::{
    CallApi, CallEndKind, CallProblemKind, CallQuality, PeerNoticeKind, TerminalWindow, VideoTile,
    VisitStatus,
};

/// The tiled remote pictures (several visitors), shared with `CallApi`,
/// which keeps each picture while its name stays.
pub(crate) struct CallUi {
    tiles: Rc<VecModel<VideoTile>>,
}

impl CallUi {
    /// Hands `window`'s `CallApi` the (empty) tile model.
    pub(crate) fn new(window: &TerminalWindow) -> Self {
        let tiles = Rc::new(VecModel::<VideoTile>::default());
        window
            .global::<CallApi>()
            .set_tiles(ModelRc::from(tiles.clone()));
        Self { tiles }
    }

    /// Sets every `CallApi` property from `c` but the pictures.
    pub(crate) fn show(&self, window: &TerminalWindow, c: &CallView) {
        let api = window.global::<CallApi>();
        api.set_peer(c.peer.as_str().into());
        api.set_starts_at(c.starts_at.as_str().into());
        api.set_ends_at(c.ends_at.as_str().into());
        api.set_has_status(c.status.is_some());
        api.set_status(c.status.map_or(VisitStatus::Scheduled, visit_status));
        api.set_can_join(c.can_join);
        api.set_connecting(c.connecting);
        api.set_minutes_left(i32::try_from(c.minutes_left).unwrap_or(i32::MAX));
        // 0 is "no banner"; a warning of 0 minutes would say nothing useful.
        api.set_warning(
            c.warning
                .map_or(0, |m| i32::try_from(m).unwrap_or(i32::MAX)),
        );
        api.set_confirming_end(c.confirm_end);
        api.set_confidential(c.confidential);
        api.set_quality(match c.quality {
            Quality::Good => CallQuality::Good,
            Quality::Fair => CallQuality::Fair,
            Quality::Poor => CallQuality::Poor,
            Quality::Reconnecting => CallQuality::Reconnecting,
        });
        let (ended, reason) = match &c.ended {
            None => (CallEndKind::None, ""),
            Some(CallEnd::TimeUp) => (CallEndKind::TimeUp, ""),
            // The sentence adds its own full stop.
            Some(CallEnd::ByStaff { reason }) => {
                (CallEndKind::ByStaff, reason.trim().trim_end_matches('.'))
            }
            Some(CallEnd::HungUpHere) => (CallEndKind::HungUpHere, ""),
            Some(CallEnd::HungUpOther) => (CallEndKind::HungUpOther, ""),
            Some(CallEnd::Failed) => (CallEndKind::Failed, ""),
        };
        api.set_ended(ended);
        api.set_end_reason(reason.into());
        self.set_tiles(&c.tiles);
        api.set_peer_notice(match c.peer_notice {
            None => PeerNoticeKind::None,
            Some(PeerNotice::CameraUnavailable) => PeerNoticeKind::CameraUnavailable,
            Some(PeerNotice::MicrophoneUnavailable) => PeerNoticeKind::MicrophoneUnavailable,
        });
        api.set_problem(match c.problem {
            None => CallProblemKind::None,
            Some(CallProblem::NoCommonVideo) => CallProblemKind::NoCommonVideo,
            Some(CallProblem::NetworkBlocked) => CallProblemKind::NetworkBlocked,
            Some(CallProblem::NoPicture) => CallProblemKind::NoPicture,
        });
    }

    /// See [`crate::TerminalUi::set_remote_frame`].
    pub(crate) fn set_remote_frame(
        &self,
        window: &TerminalWindow,
        frame: SharedPixelBuffer<Rgb8Pixel>,
    ) {
        window
            .global::<CallApi>()
            .set_remote_video(Image::from_rgb8(frame));
    }

    /// See [`crate::TerminalUi::set_tile_frame`].
    pub(crate) fn set_tile_frame(
        &self,
        window: &TerminalWindow,
        tile: usize,
        frame: SharedPixelBuffer<Rgb8Pixel>,
    ) {
        let image = Image::from_rgb8(frame);
        if tile == 0 {
            window.global::<CallApi>().set_remote_video(image.clone());
        }
        if let Some(mut t) = self.tiles.row_data(tile) {
            t.video = image;
            self.tiles.set_row_data(tile, t);
        }
    }

    /// Names the tiles (`names[i]` for tile i); pictures already shown stay.
    fn set_tiles(&self, names: &[String]) {
        let names = if names.len() > 1 { names } else { &[] };
        while self.tiles.row_count() > names.len() {
            self.tiles.remove(self.tiles.row_count() - 1);
        }
        for (i, name) in names.iter().enumerate() {
            match self.tiles.row_data(i) {
                Some(t) if t.name.as_str() == name => {}
                Some(mut t) => {
                    t.name = name.as_str().into();
                    self.tiles.set_row_data(i, t);
                }
                None => self.tiles.push(VideoTile {
                    name: name.as_str().into(),
                    video: Image::default(),
                }),
            }
        }
    }

    /// See [`crate::TerminalUi::set_self_frame`].
    pub(crate) fn set_self_frame(
        &self,
        window: &TerminalWindow,
        frame: SharedPixelBuffer<Rgb8Pixel>,
    ) {
        window
            .global::<CallApi>()
            .set_self_video(Image::from_rgb8(frame));
    }

    /// See [`crate::TerminalUi::clear_video`].
    pub(crate) fn clear_video(&self, window: &TerminalWindow) {
        let api = window.global::<CallApi>();
        api.set_remote_video(Image::default());
        api.set_self_video(Image::default());
        for i in 0..self.tiles.row_count() {
            if let Some(mut t) = self.tiles.row_data(i) {
                t.video = Image::default();
                self.tiles.set_row_data(i, t);
            }
        }
    }
}

/// Hands the call screens' touches to `f`.
pub(crate) fn on_input(window: &TerminalWindow, f: Rc<dyn Fn(UiInput)>) {
    let api = window.global::<CallApi>();
    let send = |input: UiInput| {
        let f = f.clone();
        move || f(input)
    };
    api.on_cancel(send(UiInput::Cancel));
    api.on_join(send(UiInput::Join));
    api.on_end_call(send(UiInput::EndCall));
    api.on_confirm_end(send(UiInput::ConfirmEnd));
    api.on_keep_call(send(UiInput::KeepCall));
}
