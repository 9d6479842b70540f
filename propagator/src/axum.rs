//! axum extractors for the request context `PropagateContextLayer` sets up.
//!
//! ```
//! use axum::{routing::get, Router};
//! use usertrail_propagator::axum::{Identity, TraceContext};
//! use usertrail_propagator::tower::PropagateContextLayer;
//! use usertrail_propagator::tracing::{set_user, User};
//!
//! async fn checkout(Identity(identity): Identity, TraceContext(cx): TraceContext) -> String {
//!     // The service knows better than the browser: `usr.id` below wins over the baggage.
//!     set_user(User::new("user_123").with_role("buyer"));
//!     format!("trace {} for {:?}", cx.trace_id(), identity.session_id())
//! }
//!
//! let app: Router = Router::new()
//!     .route("/checkout", get(checkout))
//!     .layer(PropagateContextLayer::new());
//! # let _ = app;
//! ```
//!
//! Without the layer, the extractors reject the request with [`MissingContext`] (500).

use alloc::string::ToString;
use core::fmt;
use core::ops::Deref;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::tracing::RequestContext;

/// Rejection of the extractors of this module: `PropagateContextLayer` is not installed on
/// the route. Responds `500 Internal Server Error`.
///
/// # Examples
///
/// ```
/// use axum_core::response::IntoResponse;
///
/// let response = usertrail_propagator::axum::MissingContext.into_response();
/// assert_eq!(response.status(), 500);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MissingContext;

impl fmt::Display for MissingContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("usertrail: PropagateContextLayer is not installed on this route")
    }
}

impl core::error::Error for MissingContext {}

impl IntoResponse for MissingContext {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

fn context(parts: &Parts) -> Result<&RequestContext, MissingContext> {
    parts
        .extensions
        .get::<RequestContext>()
        .ok_or(MissingContext)
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = MissingContext;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        context(parts).cloned()
    }
}

/// The request's [`RequestContext`]: trace ids, baggage, tags, `set_user`, `inject`.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::axum::TraceContext;
///
/// async fn handler(TraceContext(cx): TraceContext) -> String {
///     format!("{} {}", cx.trace_id(), cx.span_id())
/// }
/// # let _ = handler;
/// ```
#[derive(Clone, Debug)]
pub struct TraceContext(pub RequestContext);

impl Deref for TraceContext {
    type Target = RequestContext;
    fn deref(&self) -> &RequestContext {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TraceContext {
    type Rejection = MissingContext;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        context(parts).cloned().map(TraceContext)
    }
}

/// The session, user and account ids the caller sent in `baggage` (untrusted: the browser
/// set them).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::axum::Identity;
///
/// async fn handler(Identity(identity): Identity) -> String {
///     identity.user_id().unwrap_or("anonymous").to_owned()
/// }
/// # let _ = handler;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity(pub crate::Identity<'static>);

impl Deref for Identity {
    type Target = crate::Identity<'static>;
    fn deref(&self) -> &crate::Identity<'static> {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = MissingContext;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        context(parts).map(|cx| Identity(cx.identity()))
    }
}

/// The baggage the caller sent (invalid members dropped, within the W3C limits), as it will
/// be passed on downstream.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::axum::Baggage;
///
/// async fn handler(Baggage(baggage): Baggage) -> String {
///     baggage.get("theme").map(|v| v.into_owned()).unwrap_or_default()
/// }
/// # let _ = handler;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baggage(pub crate::Baggage<'static>);

impl Deref for Baggage {
    type Target = crate::Baggage<'static>;
    fn deref(&self) -> &crate::Baggage<'static> {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Baggage {
    type Rejection = MissingContext;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        context(parts).map(|cx| Baggage(cx.baggage()))
    }
}
