//! The service calls the staff console makes, scoped to one facility: a
//! caller tied to a facility never sees, nor changes, another's rows.

use protocol::VisitKind;
use protocol::admin::{NewApprovalRequest, PersonUpdate, Reschedule};
use serde_json::json;
use visit_server::service::{
    Error, Page, approvals, directory, records, reschedule, slots, terminals,
};

use crate::util::*;

fn hidden<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
}

#[tokio::test]
async fn a_scoped_caller_sees_only_its_own_facility() {
    let s = TestServer::start().await;
    let north = s.facility(1).await;
    let south = s.facility(1).await;
    let p = s
        .person(&north, "A1", "James Smith", north.unit_a, json!([]))
        .await;
    let q = s
        .person(&south, "B1", "John Doe", south.unit_a, json!([]))
        .await;
    let v = s.approved_adult(p, "Maria Smith").await;
    s.approve(q, v).await;
    let (visit, _) = s
        .book_ok(p, &[v], "remote", local(2026, 11, 20, 10, 0))
        .await;
    let (other, _) = s
        .book_ok(q, &[v], "remote", local(2026, 11, 20, 12, 0))
        .await;
    let page = Page::default();
    let south_scope = Some(south.id);
    s.service(|c, ctx| {
        hidden(directory::search_persons(
            c,
            ctx,
            south_scope,
            north.id,
            "",
            page,
        ));
        hidden(terminals::list(c, ctx, south_scope, north.id, page));
        hidden(directory::person_visits(c, ctx, south_scope, p, page));
        hidden(directory::approved_visitors(c, ctx, south_scope, p, page));
        hidden(approvals::pending(c, ctx, south_scope, north.id, page));
        hidden(slots::free_slots(
            c,
            ctx,
            south_scope,
            north.id,
            local(2026, 11, 20, 0, 0).date_naive(),
            VisitKind::Remote,
            None,
        ));
        hidden(terminals::revoke(c, ctx, south_scope, north.lobbies[0].0));
        hidden(records::update_person(
            c,
            ctx,
            south_scope,
            p,
            &PersonUpdate::default(),
        ));
        hidden(records::remove_approval(c, ctx, south_scope, p, v));
        hidden(approvals::create(
            c,
            ctx,
            south_scope,
            &NewApprovalRequest {
                person_id: p,
                visitor_id: v,
            },
        ));
        let start = local(2026, 11, 20, 14, 0);
        hidden(reschedule::reschedule(
            c,
            ctx,
            south_scope,
            visit,
            &Reschedule { start },
        ));
        // The visitor visits both: south sees only its own visit and person.
        let visits = directory::visitor_visits(c, ctx, south_scope, v, page).unwrap();
        assert_eq!(visits.iter().map(|x| x.id).collect::<Vec<_>>(), vec![other]);
        let persons = directory::approved_persons(c, ctx, south_scope, v, page).unwrap();
        assert_eq!(persons.iter().map(|x| x.id).collect::<Vec<_>>(), vec![q]);
        let found = directory::search_facilities(c, ctx, south_scope, "", page).unwrap();
        assert_eq!(
            found.iter().map(|x| x.id).collect::<Vec<_>>(),
            vec![south.id]
        );
        // Unscoped, everything.
        assert_eq!(
            directory::visitor_visits(c, ctx, None, v, page)
                .unwrap()
                .len(),
            2
        );
    });
    s.stop().await;
}
