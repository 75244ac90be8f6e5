//! What the terminal's screen shows, decided once for the window and for
//! headless mode: the enrolment screen until the terminal is enrolled
//! (the window only: headless mode enrols from the configuration), then
//! the technician screen while it is up, else the terminal's own.

use ui::{EnrolView, TechnicianView, TerminalView};

use crate::technician::Technician;
use crate::terminal::Terminal;

/// One screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Enrolment(EnrolView),
    Technician(TechnicianView),
    Terminal(TerminalView),
}

/// Time passes for the terminal and the technician screen; what is shown.
pub fn tick(term: &mut Terminal, tech: &mut Technician) -> Shown {
    let view = term.tick();
    tech.tick(term.now());
    over(term, tech, view)
}

/// The technician screen over the terminal's `view` while it is up.
pub fn over(term: &Terminal, tech: &Technician, view: TerminalView) -> Shown {
    if tech.showing() {
        Shown::Technician(tech.view(&term.technician_facts(), term.now()))
    } else {
        Shown::Terminal(view)
    }
}
