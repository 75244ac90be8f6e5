//! Why a booking or an action was refused, in words a visitor understands.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A rule said no. The `Display` text is shown to the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "Attorney/client visits are not held by video; please arrange an in-person legal visit."
    )]
    LegalVisit,
    #[error("A visit needs at least one visitor.")]
    NoVisitors,
    #[error("A visitor is listed twice.")]
    DuplicateVisitor,
    #[error("At most {max} visitors may join one visit.")]
    TooManyVisitors { max: u8 },
    #[error(
        "Visitor {visitor} has not had their photo ID verified; registration must be completed before booking."
    )]
    PhotoIdNotVerified { visitor: Uuid },
    #[error("Visitor {visitor} is not on this person's approved visitor list.")]
    NotApproved { visitor: Uuid },
    #[error("Visitor {visitor} is under a visiting restriction{}.", until.map(|u| format!(" until {}", u.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_else(|| " with no end date".into()))]
    Sanctioned {
        visitor: Uuid,
        until: Option<DateTime<Utc>>,
    },
    #[error("This person may not have visits that include a minor.")]
    ChildContactRestricted,
    #[error("Visits must be booked at least {hours} hours ahead; the earliest bookable start is {earliest}.", hours = min_advance_minutes / 60, earliest = earliest.format("%Y-%m-%d %H:%M UTC"))]
    TooLateToBook {
        min_advance_minutes: u32,
        earliest: DateTime<Utc>,
    },
    #[error("That time is outside the facility's visiting hours for this kind of visit.")]
    OutsideHours,
    #[error(
        "Visits start on {block_minutes}-minute block boundaries; pick one of the offered times."
    )]
    NotOnBlockBoundary { block_minutes: u32 },
    #[error("The incarcerated person already has a visit at that time.")]
    PersonBusy,
    #[error("Visitor {visitor} already has a visit at that time.")]
    VisitorBusy { visitor: Uuid },
    #[error("Every lobby terminal is booked at that time.")]
    LobbyFull,
    #[error("This facility has no lobby terminals, so on-site visits cannot be booked.")]
    NoLobbyTerminals,
    #[error("No free PIN is left for that day; raise the facility's PIN length.")]
    NoPinAvailable,
    #[error("It is too early to join this call; it opens at {}.", opens.format("%H:%M UTC"))]
    TooEarlyToJoin { opens: DateTime<Utc> },
    #[error("The visit is {status} and can no longer be {action}.")]
    InvalidTransition {
        status: &'static str,
        action: &'static str,
    },
}

impl Refusal {
    /// Stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LegalVisit => "legal_visit_not_by_video",
            Self::NoVisitors => "no_visitors",
            Self::DuplicateVisitor => "duplicate_visitor",
            Self::TooManyVisitors { .. } => "too_many_visitors",
            Self::PhotoIdNotVerified { .. } => "photo_id_not_verified",
            Self::NotApproved { .. } => "not_approved",
            Self::Sanctioned { .. } => "visitor_sanctioned",
            Self::ChildContactRestricted => "child_contact_restricted",
            Self::TooLateToBook { .. } => "too_late_to_book",
            Self::OutsideHours => "outside_visiting_hours",
            Self::NotOnBlockBoundary { .. } => "not_on_block_boundary",
            Self::PersonBusy => "person_busy",
            Self::VisitorBusy { .. } => "visitor_busy",
            Self::LobbyFull => "lobby_full",
            Self::NoLobbyTerminals => "no_lobby_terminals",
            Self::NoPinAvailable => "no_pin_available",
            Self::TooEarlyToJoin { .. } => "too_early_to_join",
            Self::InvalidTransition { .. } => "invalid_status_transition",
        }
    }

    /// The same words in Spanish (the staff console's and, later, the
    /// families' pages in Spanish).
    pub fn spanish(&self) -> String {
        let utc = |t: &DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        match self {
            Self::LegalVisit => "Las visitas de abogado no se hacen por vídeo; organice una visita legal en persona.".into(),
            Self::NoVisitors => "Una visita necesita al menos un visitante.".into(),
            Self::DuplicateVisitor => "Un visitante aparece dos veces.".into(),
            Self::TooManyVisitors { max } => format!("Como máximo {max} visitantes pueden unirse a una visita."),
            Self::PhotoIdNotVerified { visitor } => format!(
                "El documento con foto del visitante {visitor} no está verificado; debe completar el registro antes de reservar."
            ),
            Self::NotApproved { visitor } => format!(
                "El visitante {visitor} no está en la lista de visitantes aprobados de esta persona."
            ),
            Self::Sanctioned { visitor, until } => format!(
                "El visitante {visitor} tiene una restricción de visitas{}.",
                until.as_ref().map(|u| format!(" hasta {}", utc(u))).unwrap_or_else(|| " sin fecha de fin".into())
            ),
            Self::ChildContactRestricted => "Esta persona no puede tener visitas con menores.".into(),
            Self::TooLateToBook { min_advance_minutes, earliest } => format!(
                "Las visitas se reservan con al menos {} horas de antelación; el primer inicio posible es {}.",
                min_advance_minutes / 60,
                utc(earliest)
            ),
            Self::OutsideHours => "Esa hora está fuera del horario de visitas del centro para este tipo de visita.".into(),
            Self::NotOnBlockBoundary { block_minutes } => format!(
                "Las visitas empiezan en bloques de {block_minutes} minutos; elija una de las horas ofrecidas."
            ),
            Self::PersonBusy => "La persona ya tiene una visita a esa hora.".into(),
            Self::VisitorBusy { visitor } => format!("El visitante {visitor} ya tiene una visita a esa hora."),
            Self::LobbyFull => "Todas las terminales del vestíbulo están reservadas a esa hora.".into(),
            Self::NoLobbyTerminals => "Este centro no tiene terminales en el vestíbulo, así que no se pueden reservar visitas presenciales.".into(),
            Self::NoPinAvailable => "No queda ningún PIN libre para ese día; aumente la longitud del PIN del centro.".into(),
            Self::TooEarlyToJoin { opens } => format!(
                "Es demasiado pronto para unirse a esta llamada; se abre a las {}.",
                opens.format("%H:%M UTC")
            ),
            Self::InvalidTransition { status, action } => format!(
                "La visita está en estado «{status}» y ya no se puede {}.",
                match *action {
                    "cancelled" => "cancelar",
                    "rescheduled" => "cambiar de hora",
                    "terminated" => "terminar",
                    "marked or unmarked as confidential" => "marcar ni desmarcar como confidencial",
                    other => other,
                }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_spanish_words_of_its_own() {
        let v = Uuid::nil();
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let all = [
            Refusal::LegalVisit,
            Refusal::NoVisitors,
            Refusal::DuplicateVisitor,
            Refusal::TooManyVisitors { max: 3 },
            Refusal::PhotoIdNotVerified { visitor: v },
            Refusal::NotApproved { visitor: v },
            Refusal::Sanctioned {
                visitor: v,
                until: None,
            },
            Refusal::ChildContactRestricted,
            Refusal::TooLateToBook {
                min_advance_minutes: 4320,
                earliest: t,
            },
            Refusal::OutsideHours,
            Refusal::NotOnBlockBoundary { block_minutes: 30 },
            Refusal::PersonBusy,
            Refusal::VisitorBusy { visitor: v },
            Refusal::LobbyFull,
            Refusal::NoLobbyTerminals,
            Refusal::NoPinAvailable,
            Refusal::TooEarlyToJoin { opens: t },
            Refusal::InvalidTransition {
                status: "ended",
                action: "cancelled",
            },
        ];
        for r in &all {
            assert_ne!(r.spanish(), r.to_string(), "{}", r.code());
            assert!(!r.spanish().is_empty());
        }
    }
}
