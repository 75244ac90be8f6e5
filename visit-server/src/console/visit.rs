//! (Being written.)

use axum::Router;

use crate::state::AppState;

/// This page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
}
