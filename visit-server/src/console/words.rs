//! Words the console's pages share, in both languages.

use protocol::visit::VisitStatus;

use super::page::Lang;

/// The machine name of a status (CSS classes, filters).
pub fn status_code(s: VisitStatus) -> &'static str {
    match s {
        VisitStatus::Scheduled => "scheduled",
        VisitStatus::Pending => "pending",
        VisitStatus::Ready => "ready",
        VisitStatus::InProgress => "in_progress",
        VisitStatus::Ended => "ended",
        VisitStatus::Terminated => "terminated",
        VisitStatus::Cancelled => "cancelled",
        VisitStatus::NoShow => "no_show",
    }
}

/// Every status, in the order a day goes.
pub const STATUSES: [VisitStatus; 8] = [
    VisitStatus::Scheduled,
    VisitStatus::Pending,
    VisitStatus::Ready,
    VisitStatus::InProgress,
    VisitStatus::Ended,
    VisitStatus::Terminated,
    VisitStatus::Cancelled,
    VisitStatus::NoShow,
];

pub fn status(l: Lang, s: VisitStatus) -> &'static str {
    match s {
        VisitStatus::Scheduled => l.t("Scheduled", "Programada"),
        VisitStatus::Pending => l.t("Waiting for the person", "Esperando a la persona"),
        VisitStatus::Ready => l.t("Ready to join", "Lista para unirse"),
        VisitStatus::InProgress => l.t("In progress", "En curso"),
        VisitStatus::Ended => l.t("Ended", "Terminada"),
        VisitStatus::Terminated => l.t("Terminated", "Interrumpida por el personal"),
        VisitStatus::Cancelled => l.t("Cancelled", "Cancelada"),
        VisitStatus::NoShow => l.t("No-show", "No se presentó"),
    }
}

pub fn kind(l: Lang, kind: &str) -> &'static str {
    match kind {
        "remote" => l.t("Remote", "Remota"),
        _ => l.t("On-site", "Presencial"),
    }
}
