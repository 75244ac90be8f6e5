//! Approved-visitor lists: direct approval, and requests to be approved
//! (made, listed while pending, approved or denied).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::ErrorBody;
use protocol::admin::{
    Approval, ApprovalRequest, NewApproval, NewApprovalRequest, PendingApprovalRequest, Reason,
};
use uuid::Uuid;

use super::{Created, Found, PageQuery};
use crate::api::auth::AdminAuth;
use crate::api::error::{ApiJson, ApiPath, ApiQuery};
use crate::service::audit::Target;
use crate::service::{approvals, people};
use crate::state::AppState;

/// Put a visitor on a person's approved-visitor list.
#[utoipa::path(post, path = "/api/v1/admin/approvals", tag = "admin", security(("admin" = [])),
    request_body = NewApproval,
    responses((status = 201, body = Approval), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_approval(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiJson(req): ApiJson<NewApproval>,
) -> Created<Approval> {
    let target = Target::Approval {
        person: req.person_id,
        visitor: req.visitor_id,
    };
    let a = st
        .run_audited(admin.who(), "create_approval", target, move |c, ctx| {
            people::approve(c, ctx, &req)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Ask for a visitor to be put on a person's approved list.
#[utoipa::path(post, path = "/api/v1/admin/approval-requests", tag = "admin", security(("admin" = [])),
    request_body = NewApprovalRequest,
    responses((status = 201, body = ApprovalRequest), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_approval_request(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiJson(req): ApiJson<NewApprovalRequest>,
) -> Created<ApprovalRequest> {
    let r = st
        .run_audited_create(admin.who(), "create_approval_request", move |c, ctx| {
            let r = approvals::create(c, ctx, None, &req)?;
            let target = Target::ApprovalRequest(r.id);
            Ok((r, target))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// A facility's pending approval requests, oldest first, with the
/// visitor's name, date of birth and photo-ID status and the person's name
/// and number.
#[utoipa::path(get, path = "/api/v1/admin/facilities/{facility_id}/approval-requests", tag = "admin",
    security(("admin" = [])), params(("facility_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = [PendingApprovalRequest]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pending_approval_requests(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Found<Vec<PendingApprovalRequest>> {
    Ok(Json(
        st.run(admin.actor(), move |c, ctx| {
            approvals::pending(c, ctx, None, id, q.page())
        })
        .await?,
    ))
}

/// Approve a pending request: the visitor goes on the person's list.
#[utoipa::path(post, path = "/api/v1/admin/approval-requests/{request_id}/approve", tag = "admin",
    security(("admin" = [])), params(("request_id" = Uuid, Path)),
    responses((status = 200, body = ApprovalRequest), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_request(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
) -> Found<ApprovalRequest> {
    let target = Target::ApprovalRequest(id);
    let (r, _) = st
        .run_audited(
            admin.who(),
            "approve_approval_request",
            target,
            move |c, ctx| approvals::approve(c, ctx, None, id),
        )
        .await?;
    Ok(Json(r))
}

/// Deny a pending request; the visitor is sent the reason by e-mail.
#[utoipa::path(post, path = "/api/v1/admin/approval-requests/{request_id}/deny", tag = "admin",
    security(("admin" = [])), params(("request_id" = Uuid, Path)), request_body = Reason,
    responses((status = 200, body = ApprovalRequest), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deny_request(
    State(st): State<AppState>,
    admin: AdminAuth,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<Reason>,
) -> Found<ApprovalRequest> {
    let target = Target::ApprovalRequest(id);
    Ok(Json(
        st.run_audited(
            admin.who(),
            "deny_approval_request",
            target,
            move |c, ctx| approvals::deny(c, ctx, None, id, &req.reason),
        )
        .await?,
    ))
}
