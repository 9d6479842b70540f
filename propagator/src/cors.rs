//! The request headers a backend must allow in CORS for the browser SDK's cross-origin calls.
//!
//! A browser sends trace headers to another origin only after a preflight whose
//! `Access-Control-Allow-Headers` lists every one of them; a missing name fails the whole
//! request, not just the header (Datadog's v7 turned `baggage` on by default and broke apps
//! that did not allow it). These lists are what the SDK may send for each
//! [`PropagatorType`], plus [`BAGGAGE`](crate::BAGGAGE), which it sends whenever a session,
//! user or account id is known.
//!
//! No dependency: usable with any server framework. With the `http` feature,
//! `allow_header_names` gives `http::HeaderName`s for `tower_http::cors::CorsLayer`
//! (see `examples/cors.rs`).

use alloc::vec::Vec;

use crate::propagator_type::PropagatorType;

/// `tracecontext`: `traceparent`, `tracestate` (from [`headers`](crate::headers)).
///
/// # Examples
///
/// ```
/// assert_eq!(usertrail_propagator::cors::TRACECONTEXT_HEADERS, ["traceparent", "tracestate"]);
/// ```
pub const TRACECONTEXT_HEADERS: &[&str] = crate::headers::TRACECONTEXT_HEADERS;

/// `datadog`: the `x-datadog-*` headers Datadog's browser SDK and this crate write.
///
/// # Examples
///
/// ```
/// assert!(usertrail_propagator::cors::DATADOG_HEADERS.contains(&"x-datadog-origin"));
/// assert!(!usertrail_propagator::cors::DATADOG_HEADERS.contains(&"traceparent"));
/// ```
pub const DATADOG_HEADERS: &[&str] = crate::headers::DATADOG_HEADERS;

/// `b3` (single header): `b3`.
///
/// # Examples
///
/// ```
/// assert_eq!(usertrail_propagator::cors::B3_HEADERS, ["b3"]);
/// ```
pub const B3_HEADERS: &[&str] = crate::headers::B3_HEADERS;

/// `b3multi`: the `x-b3-*` headers.
///
/// # Examples
///
/// ```
/// assert!(usertrail_propagator::cors::B3MULTI_HEADERS.contains(&"x-b3-traceid"));
/// assert_eq!(usertrail_propagator::cors::B3MULTI_HEADERS.len(), 5);
/// ```
pub const B3MULTI_HEADERS: &[&str] = crate::headers::B3MULTI_HEADERS;

/// `baggage`: sent with every propagator type once an id is known.
///
/// # Examples
///
/// ```
/// assert_eq!(usertrail_propagator::cors::BAGGAGE_HEADERS, ["baggage"]);
/// ```
pub const BAGGAGE_HEADERS: &[&str] = crate::headers::BAGGAGE_HEADERS;

/// The headers of one propagator type (without `baggage`):
/// [`PropagatorType::header_names`].
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{cors, PropagatorType};
///
/// assert_eq!(cors::headers_of(PropagatorType::TraceContext), cors::TRACECONTEXT_HEADERS);
/// assert_ne!(cors::headers_of(PropagatorType::B3), cors::headers_of(PropagatorType::B3Multi));
/// ```
#[inline]
pub const fn headers_of(propagator: PropagatorType) -> &'static [&'static str] {
    propagator.header_names()
}

/// Every header to allow for `propagators`, then `baggage`; no duplicates, lower case.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{cors, PropagatorType};
///
/// let allow = cors::cors_allow_headers(&[PropagatorType::TraceContext, PropagatorType::TraceContext]);
/// assert_eq!(allow, ["traceparent", "tracestate", "baggage"]);
/// assert_eq!(cors::cors_allow_headers(&[]), ["baggage"]);
/// // As a header value:
/// assert_eq!(allow.join(", "), "traceparent, tracestate, baggage");
/// ```
pub fn cors_allow_headers(propagators: &[PropagatorType]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::with_capacity(crate::headers::ALL.len());
    for &p in propagators {
        for &name in p.header_names() {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out.extend_from_slice(BAGGAGE_HEADERS);
    out
}

/// [`cors_allow_headers`] as `http::HeaderName`s, for `tower_http::cors::CorsLayer::allow_headers`.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{cors, PropagatorType};
///
/// let names = cors::allow_header_names(&[PropagatorType::Datadog]);
/// assert_eq!(names.len(), 6);
/// assert_eq!(names[5], http::header::HeaderName::from_static("baggage"));
/// ```
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub fn allow_header_names(propagators: &[PropagatorType]) -> Vec<http::HeaderName> {
    cors_allow_headers(propagators)
        .into_iter()
        .map(http::HeaderName::from_static)
        .collect()
}
