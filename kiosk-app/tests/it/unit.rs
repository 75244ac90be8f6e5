//! The housing-unit terminal end to end: a person signs in with ID number
//! and PIN, sees the day's visits, a photo reaches the visit record; with
//! the server gone, sign-in and the list still work from the cache and the
//! photo waits; once the visitor checks in at the lobby, Join opens the call.

use std::time::Duration;

use crate::util::*;

fn sign_in(k: &mut Kiosk, number: &str, pin: &str) {
    k.send(&format!("id {number}"));
    k.send("ok");
    k.expect(&["[sign-in]", "PIN:"]);
    k.send(&format!("pin {pin}"));
    k.send("ok");
}

#[test]
fn a_person_signs_in_online_and_offline_and_joins_once_the_visitor_checked_in() {
    let (mut server, seeded) = Server::seeded();
    let dir = tempfile::tempdir().unwrap();
    let cfg = call_config(
        dir.path(),
        &server.url(),
        &seeded.unit_code,
        "unit",
        "127.0.0.1",
    );
    let mut k = Kiosk::start(&cfg);
    // The facility's name comes with the schedule.
    k.expect(&["[sign-in] Test County Jail", "ID number: _"]);

    // A wrong PIN: not recognized, back to the number.
    sign_in(&mut k, "0", "1111");
    k.expect(&["ID number: _ ID number or PIN not recognized. 4 attempts left."]);

    // James with his PIN: his one visit at 10:00, the visitor not there yet.
    sign_in(&mut k, "0", "2468");
    let line = k.expect(&["[visits] James S.:"]);
    assert!(
        line.contains(
            "1. 10:00-12:00 on-site with Maria S. (scheduled) Your visitor has not checked in yet."
        ),
        "{line}"
    );
    assert!(!line.contains("offline"), "{line}");
    let visit = seeded.visits[0].0;
    server.wait_until("the sign-in photo", Duration::from_secs(20), || {
        server.sign_in_photos(visit).len() == 1
    });
    let jpeg = &server.sign_in_photos(visit)[0];
    assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]) && jpeg.len() > 1000);
    // Only James's visit got it.
    assert!(server.sign_in_photos(seeded.visits[1].0).is_empty());
    k.send("signout");
    k.expect(&["[sign-in] Test County Jail", "ID number: _"]);

    // The server goes away: sign-in and the list work from the cache.
    server.stop();
    k.expect(&["(offline)"]);
    sign_in(&mut k, "0", "2468");
    let line = k.expect(&["[visits] James S.:", "(offline)"]);
    assert!(line.contains("10:00-12:00 on-site with Maria S."), "{line}");
    // David has his own list.
    k.send("signout");
    sign_in(&mut k, "2", "2468");
    k.expect(&["[visits] David B.:", "with Jen B.", "(offline)"]);
    // Robert and Ana share the digits 1 and the PIN: neither
    // is signed in rather than the wrong one.
    k.send("signout");
    sign_in(&mut k, "1", "2468");
    k.expect(&["ID number: _ ID number or PIN not recognized.", "(offline)"]);

    // Back online: the photos taken offline arrive (nothing lost).
    server.start();
    server.wait_until("the offline photos", Duration::from_secs(30), || {
        server.sign_in_photos(visit).len() == 2
            && server.sign_in_photos(seeded.visits[2].0).len() == 1
    });

    // The visitor checks in at the lobby; James's row offers Join.
    let lobby_dir = tempfile::tempdir().unwrap();
    let lobby_cfg = kiosk_config(lobby_dir.path(), &server.url(), &seeded.lobby_code);
    let mut lobby = Kiosk::start(&lobby_cfg);
    lobby.expect(&["[attract] Test County Jail"]);
    let line = lobby.check_in(&seeded.visits[0].1);
    assert!(line.contains("Checked in"), "{line}");
    sign_in(&mut k, "0", "2468");
    let line = k.expect(&["[visits] James S.:", "[Join 1]"]);
    assert!(!line.contains("not checked in"), "{line}");
    k.send("join 1");
    let line = k.expect_start(&["[waiting]", "[call]"]);
    assert!(line.contains("Maria S."), "{line}");
    server.wait_until("the sign-in event", Duration::from_secs(20), || {
        server.history(visit).iter().any(|(e, _)| e == "sign_in")
    });
    lobby.quit();
    k.quit();
}

#[test]
fn five_wrong_pins_lock_the_unit_keypad() {
    let (_server, seeded) = Server::seeded();
    let dir = tempfile::tempdir().unwrap();
    let cfg = call_config(
        dir.path(),
        &_server.url(),
        &seeded.unit_code,
        "unit",
        "127.0.0.1",
    );
    let mut k = Kiosk::start(&cfg);
    k.expect(&["[sign-in] Test County Jail", "ID number: _"]);
    for left in (1..5).rev() {
        sign_in(&mut k, "0", "0000");
        k.expect(&[&format!("not recognized. {left} attempts left.")]);
    }
    sign_in(&mut k, "0", "0000");
    k.expect(&["Too many attempts. Try again in 60 s."]);
    // Locked: the right PIN does nothing now.
    k.send("id 0");
    k.send("ok");
    k.send("status");
    let line = k.expect(&["[sign-in]"]);
    assert!(line.contains("Too many attempts"), "{line}");
    assert!(!line.contains("PIN:"), "{line}");
    k.quit();
}
