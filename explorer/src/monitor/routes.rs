//! `/api/monitors`: list, create, read, mute and delete monitors (the routes are in the
//! table of [`crate::api`]).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::registry::Monitors;
use super::{Invalid, Spec};

/// The routes over `monitors`, to merge behind the read token.
///
/// # Examples
///
/// ```
/// use usertrail_explorer::monitor::{registry::Monitors, routes, webhook::Retry};
///
/// let router: axum::Router = routes::router(Monitors::in_memory(Retry::default()).unwrap());
/// # let _ = router;
/// ```
pub fn router(monitors: Monitors) -> Router {
    Router::new()
        .route("/api/monitors", get(list).post(create))
        .route("/api/monitors/{id}", get(read).patch(update).delete(remove))
        .with_state(monitors)
}

fn error(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(json!({ "error": body }))).into_response()
}

fn invalid(e: &Invalid, spec_query: Option<&str>) -> Response {
    let mut body = json!({ "message": e.to_string(), "field": e.field });
    if let Some(p) = e.position {
        body["position"] = json!(p);
        body["query"] = json!(spec_query);
    }
    error(StatusCode::BAD_REQUEST, body)
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        json!({ "message": format!("no monitor {id}") }),
    )
}

/// Runs `f` on a blocking thread: changes rewrite the monitors' file.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(f).await.ok()
}

async fn list(State(m): State<Monitors>) -> Response {
    let monitors: Vec<Value> = m
        .list()
        .iter()
        .map(super::registry::Monitor::summary)
        .collect();
    axum::Json(json!({ "monitors": monitors })).into_response()
}

async fn create(State(m): State<Monitors>, body: Bytes) -> Response {
    let spec: Spec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                json!({ "message": format!("a monitor is a JSON object (name, query, metric, threshold, window, webhook): {e}") }),
            );
        }
    };
    let query = spec.query.clone();
    match blocking(move || m.create(spec)).await {
        Some(Ok(monitor)) => (StatusCode::CREATED, axum::Json(monitor.detail())).into_response(),
        Some(Err(e)) => invalid(&e, Some(&query)),
        None => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "message": "failed" }),
        ),
    }
}

async fn read(State(m): State<Monitors>, UrlPath(id): UrlPath<String>) -> Response {
    match id.parse().ok().and_then(|id| m.get(id)) {
        Some(monitor) => axum::Json(monitor.detail()).into_response(),
        None => not_found(&id),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    muted: bool,
}

async fn update(State(m): State<Monitors>, UrlPath(id): UrlPath<String>, body: Bytes) -> Response {
    let patch: Patch = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                json!({ "message": format!("send {{\"muted\": true}} or {{\"muted\": false}}: {e}") }),
            );
        }
    };
    let Ok(n) = id.parse::<u64>() else {
        return not_found(&id);
    };
    match blocking(move || m.set_muted(n, patch.muted))
        .await
        .flatten()
    {
        Some(monitor) => axum::Json(monitor.detail()).into_response(),
        None => not_found(&id),
    }
}

async fn remove(State(m): State<Monitors>, UrlPath(id): UrlPath<String>) -> Response {
    let Ok(n) = id.parse::<u64>() else {
        return not_found(&id);
    };
    match blocking(move || m.delete(n)).await {
        Some(true) => StatusCode::NO_CONTENT.into_response(),
        _ => not_found(&id),
    }
}
