//! A third party on another origin (a reviews widget), which the shop's `allowedTracingUrls`
//! does not list: it must receive no trace header and no identity. It records every request
//! it gets (preflights included), and the explorer's `/api/third-party` shows them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;
use usertrail_propagator::PropagatorType;
use usertrail_propagator::cors::cors_allow_headers;

/// At most this many requests are remembered (the oldest are forgotten).
const KEEP: usize = 500;

/// The header names that would carry a trace or an identity: every propagator type's, and
/// `baggage`, as the propagator names them.
const ALL_PROPAGATORS: &[PropagatorType] = &[
    PropagatorType::TraceContext,
    PropagatorType::Datadog,
    PropagatorType::B3,
    PropagatorType::B3Multi,
];

/// One request the third party received.
#[derive(Clone, Debug, Serialize)]
pub struct Seen {
    /// `GET`, `OPTIONS`…
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Every header, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// The trace or identity headers among them (should stay empty).
    pub trace_headers: Vec<String>,
}

/// What the third party has seen; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Recorder {
    /// The requests so far, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn push(&self, method: &Method, path: &str, headers: &HeaderMap) {
        let headers: BTreeMap<String, String> = headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // A preflight names the headers the real request would carry.
        let requested = headers
            .get("access-control-request-headers")
            .map(|v| v.to_ascii_lowercase())
            .unwrap_or_default();
        let trace_headers = cors_allow_headers(ALL_PROPAGATORS)
            .iter()
            .filter(|h| headers.contains_key(**h) || requested.split(',').any(|r| r.trim() == **h))
            .map(|h| (*h).to_owned())
            .collect();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() == KEEP {
            seen.remove(0);
        }
        seen.push(Seen {
            method: method.as_str().to_owned(),
            path: path.to_owned(),
            headers,
            trace_headers,
        });
    }
}

/// The third party's router: `GET /reviews.json` (any path answers), CORS open to all.
pub fn router(recorder: Recorder) -> Router {
    Router::new().fallback(answer).with_state(recorder)
}

fn cors(headers: &HeaderMap, response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    // Allow whatever is asked: if the browser did send trace headers, they reach us and are
    // recorded, rather than failing the preflight and hiding the leak.
    if let Some(asked) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
}

async fn answer(State(recorder): State<Recorder>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    recorder.push(&parts.method, &path, &parts.headers);
    let mut response = if parts.method == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        axum::Json(json!({
            "source": "ReviewHub (third party)",
            "reviews": [
                { "product": "grinder", "stars": 5, "text": "Consistent grind, quiet motor." },
                { "product": "kettle", "stars": 4, "text": "Pours like a dream." },
                { "product": "beans", "stars": 5, "text": "Chocolatey, not bitter." }
            ]
        }))
        .into_response()
    };
    cors(&parts.headers, &mut response);
    response
}
