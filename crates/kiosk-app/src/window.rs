//! The touchscreen: the Slint lobby UI driven by the terminal.
//!
//! Touches come in through `LobbyUi::on_input`; a 250 ms timer moves time
//! along (idle timeout, lock countdown, clock, statuses from the server).
//! Everything runs on the UI thread; the network lives on the sync runtime.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::terminal::Terminal;

pub fn run(terminal: Terminal) -> anyhow::Result<()> {
    let ui = Rc::new(ui::LobbyUi::new()?);
    let terminal = Rc::new(RefCell::new(terminal));
    ui.show(&terminal.borrow().view());
    {
        let (ui2, t) = (Rc::downgrade(&ui), terminal.clone());
        ui.on_input(move |input| {
            let view = t.borrow_mut().touch(input);
            if let Some(ui) = ui2.upgrade() {
                ui.show(&view);
            }
        });
    }
    let timer = slint::Timer::default();
    {
        let (ui2, t) = (Rc::downgrade(&ui), terminal.clone());
        timer.start(
            slint::TimerMode::Repeated,
            Duration::from_millis(250),
            move || {
                let view = t.borrow_mut().tick();
                if let Some(ui) = ui2.upgrade() {
                    ui.show(&view);
                }
            },
        );
    }
    ui.run()?;
    Ok(())
}
