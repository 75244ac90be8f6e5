//! Check-in with the server gone, and after the terminal process is killed.

use std::time::Duration;

use crate::util::*;

#[test]
fn three_offline_check_ins_are_recorded_exactly_once_when_the_server_returns() {
    let (mut server, seeded) = Server::seeded();
    let dir = tempfile::tempdir().unwrap();
    let cfg = kiosk_config(dir.path(), &server.url(), &seeded.lobby_code);
    let mut k = Kiosk::start(&cfg);
    // Synced: the facility name and the server clock (09:59) are on screen.
    k.expect(&["[attract] Test County Jail 09:59"]);

    server.stop();
    k.expect(&["(offline)"]);
    let wrong = {
        k.send("touch");
        k.send("pin 000000");
        k.send("ok");
        k.expect(&["[pin] PIN not recognized. 4 attempts left.", "(offline)"])
    };
    assert!(wrong.contains("(offline)"));
    k.send("cancel");
    for (i, (_, pin)) in seeded.visits.iter().enumerate() {
        let line = k.check_in(pin);
        let who = ["J. S.", "R. J.", "D. B."][i];
        assert!(
            line.contains(&format!("Checked in. Waiting for {who} to join."))
                && line.contains("(offline)"),
            "{line}"
        );
    }

    server.start();
    for (visit, _) in &seeded.visits {
        server.wait_until(
            "the check-in to reach the server",
            Duration::from_secs(20),
            || server.check_ins(*visit) == 1,
        );
    }
    // The terminal goes on polling; nothing is recorded twice.
    std::thread::sleep(Duration::from_secs(1));
    for (visit, _) in &seeded.visits {
        assert_eq!(server.check_ins(*visit), 1);
    }
    k.send("status");
    let line = k.expect(&["[attract]"]);
    assert!(!line.contains("offline"), "{line}");
    k.quit();
}

#[test]
fn a_check_in_survives_sigkill_before_upload_and_an_offline_boot() {
    let (mut server, seeded) = Server::seeded();
    let dir = tempfile::tempdir().unwrap();
    let cfg = kiosk_config(dir.path(), &server.url(), &seeded.lobby_code);
    let mut k = Kiosk::start(&cfg);
    k.expect(&["[attract] Test County Jail 09:59"]);
    server.stop();
    k.expect(&["(offline)"]);
    let line = k.check_in(&seeded.visits[0].1);
    assert!(line.contains("Checked in"), "{line}");
    k.kill();

    // Boots with the server still down: the cached schedule and clock offset serve.
    let mut k = Kiosk::start(&cfg);
    k.expect(&["[attract] Test County Jail 09:5", "(offline)"]);
    let line = k.check_in(&seeded.visits[1].1);
    assert!(
        line.contains("Checked in. Waiting for R. J. to join."),
        "{line}"
    );
    assert_eq!(server.check_ins(seeded.visits[0].0), 0);

    server.start();
    for (visit, _) in &seeded.visits[..2] {
        server.wait_until(
            "delivery after the restart",
            Duration::from_secs(20),
            || server.check_ins(*visit) == 1,
        );
    }
    assert_eq!(server.check_ins(seeded.visits[2].0), 0);
    k.quit();
}
