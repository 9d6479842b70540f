//! Wire formats for usertrail: W3C Trace Context Level 2, W3C Baggage, Datadog and B3 headers,
//! parsed and written in one place.
//!
//! The browser SDK (`sdk-wasm`) uses this crate to write `traceparent`, `tracestate`,
//! `x-datadog-*`/B3 headers and a `baggage` header carrying `session.id`, `user.id` and
//! `account.id`; Rust servers use it to read them back, continue the trace and tag spans with
//! `session.id`, `usr.id` and `account.id`.
//!
//! # Servers: extract
//!
//! ```
//! use usertrail_propagator::{extract, SpanId};
//!
//! let headers = [
//!     ("traceparent", "00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01"),
//!     ("tracestate", "dd=s:1;o:rum"),
//!     ("baggage", "session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456"),
//! ];
//! let extracted = extract(&headers[..]); // never fails, never panics
//! for problem in extracted.errors() {
//!     eprintln!("{problem}"); // e.g. "baggage: member 3 dropped: key is not a token"
//! }
//! let remote = extracted.span_context().expect("valid traceparent");
//! assert!(remote.is_sampled());
//! let identity = extracted.identity();
//! let tags: Vec<(&str, &str)> = identity.attributes().collect();
//! assert_eq!(tags[1], ("usr.id", "user_123"));
//!
//! // The server's span continues the trace.
//! let local = remote.clone().with_span_id(SpanId::new(0x5ca1ab1e).unwrap());
//! assert_eq!(local.trace_id(), remote.trace_id());
//! ```
//!
//! # Browsers: inject
//!
//! ```
//! use usertrail_propagator::{inject, Baggage, Context, Identity, PropagatorType, SpanContext, SpanId, TraceFlags, TraceId};
//!
//! // Ids come from crypto.getRandomValues; this crate has no RNG.
//! let trace_id = TraceId::from_bytes([7; 16]).unwrap();
//! let span_id = SpanId::from_bytes([9; 8]).unwrap();
//! let span = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED | TraceFlags::RANDOM);
//!
//! // The app may have its own baggage header: its values win, ours fill in.
//! let mut baggage = Baggage::parse_lossy("user.id=from-app", |_| {});
//! Identity::new().with_session_id("s1").with_user_id("u1").merge_into(&mut baggage).unwrap();
//!
//! let cx = Context::new().with_span_context(span).with_baggage(baggage);
//! let mut headers: Vec<(String, String)> = Vec::new();
//! inject(&cx, &[PropagatorType::TraceContext], &mut headers).unwrap();
//! assert_eq!(headers[0].1, "00-07070707070707070707070707070707-0909090909090909-03");
//! assert_eq!(headers[1].1, "user.id=from-app,session.id=s1");
//! ```
//!
//! # Formats
//!
//! | type | header(s) | spec |
//! |------|-----------|------|
//! | [`Traceparent`] | `traceparent` | W3C Trace Context Level 2 §3.2 |
//! | [`Tracestate`] | `tracestate` | W3C Trace Context Level 2 §3.3 |
//! | [`Baggage`] | `baggage` | W3C Baggage |
//! | [`DatadogContext`], [`DatadogTags`], [`DatadogTracestate`] | `x-datadog-*`, `dd=` in `tracestate` | Datadog tracers |
//! | [`B3Single`], [`B3Multi`] | `b3`, `x-b3-*` | openzipkin/b3-propagation |
//!
//! Every single-header type has `parse`, `FromStr`, `TryFrom<&str>`, `Display`, and
//! `write_to(&self, &mut String)` / `to_header_value()`, which write without `core::fmt`
//! (`Display` delegates to them). `parse` then `write_to` gives the input back, up to OWS and
//! empty list members; parsing what was written always gives an equal value. Parsers are strict
//! and total: any input gives a value or a [`ParseError`], in time linear in its length at worst,
//! without panicking.
//!
//! # Decisions where the specs leave room
//!
//! * `traceparent`: flags of version `00` are kept whole (all 8 bits) on [`Traceparent`], but a
//!   [`SpanContext`] and everything injected keep only `sampled` and `random` (other bits "MUST"
//!   be zero when sending). A higher version keeps only those two bits. Version `00` with
//!   anything after the flags is invalid (the W3C harness checks this).
//! * `tracestate`: strict, one invalid member invalidates the header (the harness expects it);
//!   keys follow Level 2 (`[a-z0-9][a-z0-9_\-*/@]{0,255}`). A key repeated by someone
//!   upstream is passed on as received (Level 2 §3.5 lets a participant keep or discard such
//!   duplicates); [`Tracestate::get`] reads the left-most one, and an insert removes them all.
//! * `baggage`: a `%` not followed by two hex digits is kept literally (it is a
//!   `baggage-octet`); [`Baggage::get`] returns the last value of a repeated key; limits are
//!   64 members and 8192 bytes of the canonical form, and the first member that does not fit
//!   is dropped together with all after it. Member and property values are percent-decoded
//!   when read; received ones are passed on as received (still encoded), and values set by
//!   this crate are encoded with upper-case hex, `%20` for space.
//! * Datadog: `x-datadog-parent-id` is required and must not be zero; a bad priority, origin or
//!   `x-datadog-tags` is reported and ignored without dropping the context.
//! * B3: lower-case hex only, all-zero ids rejected; `x-b3-sampled` also takes `true`/`false`.
//!
//! # Zero allocation on the server's extract path
//!
//! [`Tracestate`] and [`Baggage`] keep the validated header text as a `Cow` borrowed from the
//! carrier, plus counts; members are split out again when asked for and baggage values are
//! percent-decoded on access (borrowing unless they hold an escape). [`Traceparent`], ids and
//! flags are `Copy`. [`Extracted`]'s error list is an empty `Vec` (no allocation) when there is
//! nothing to report. So extracting a `traceparent`, a small `tracestate` and a baggage without
//! escapes, one header line each, allocates nothing; `tests/alloc.rs` checks it with a counting
//! allocator. Repeated header lines are joined into one owned string, and bad input may
//! allocate (to drop a member, to report a problem).
//!
//! # Crate Feature Flags
//!
//! The core is `#![no_std]` and needs only `alloc`; it has no required dependency.
//!
//! - `std` (default): `Extractor`/`Injector` for `std::collections::HashMap`. Errors implement
//!   `core::error::Error` with or without it.
//! - `http`: `Extractor`/`Injector` for `http::HeaderMap` (implies `std`).
//! - `cli`: builds the `usertrail` binary (adds `serde`, `serde_json`): `usertrail decode` reads
//!   request header lines on stdin and prints, as JSON, what a server extracts from them
//!   (trace, `tracestate`, baggage, span tags, every rejected header). Install it with
//!   `cargo install --path propagator --features cli`.
//!
//! Server side (none of it reaches the `no_std` core; each implies `std`):
//!
//! - `tracing`: `tracing` module: the request state behind `set_user` /
//!   `set_account` / `inject_current`, and `UsertrailLayer`, a `tracing_subscriber::Layer`
//!   that turns entry spans (and their children) into `SpanRecord`s for a `SpanSink`;
//!   `server` module: the framework-neutral entry point (`EntryConfig::start` opens a
//!   request's entry span from its headers, `EntrySpan::finish` closes it with the status). Adds
//!   `tracing`, `tracing-subscriber` (registry only), `fastrand`, `pin-project-lite`.
//! - `tower` (implies `tracing`, `http`): `tower` module,
//!   `PropagateContextLayer` / `PropagateContext`: continue the caller's trace, open the
//!   service entry span. Adds `tower-layer`, `tower-service`.
//! - `axum` (implies `tower`): `axum` module, extractors `Identity`,
//!   `Baggage`, `TraceContext` (and `RequestContext`). Adds `axum-core`.
//! - `actix` (implies `tracing`): `actix` module, `PropagateContext`, an actix-web 4
//!   middleware with the `tower` layer's entry span. Adds `actix-web` (no default features).
//! - `reqwest` (implies `tracing`, `http`): `reqwest` module,
//!   `PropagateContextMiddleware` for `reqwest-middleware`. Adds `reqwest`,
//!   `reqwest-middleware`, `async-trait`.
//! - `opentelemetry` (implies `tracing`): `otel` module, `UsertrailPropagator`
//!   (a `TextMapPropagator`), `identity_attributes`, and with `tower`
//!   `PropagateContextLayer::with_opentelemetry` for `tracing-opentelemetry`. Adds
//!   `opentelemetry` 0.33, `tracing-opentelemetry` 0.34.
//! - `serde` (implies `tracing`): `Serialize` for `SpanRecord`.
//!
//! The `cors` module (request headers a backend must allow) is in the core.
//!
//! A service adds one layer, and every request continues the browser's trace with an entry
//! span tagged `usr.id`, `account.id`, `session.id`:
//!
//! ```toml
//! usertrail-propagator = { path = "../propagator", features = ["axum", "reqwest"] }
//! ```
//!
//! For the browser (wasm), turn the defaults off:
//!
//! ```toml
//! [dependencies]
//! usertrail-propagator = { path = "../propagator", default-features = false }
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs, missing_debug_implementations, unreachable_pub)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod b3;
mod carrier;
mod codec;
pub mod cors;
mod datadog;
mod error;
pub mod headers;
mod identity;
mod ids;
mod propagation;
mod propagator_type;
mod sampling_priority;
mod span_context;
mod w3c;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub mod otel;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod reqwest;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod server;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod tracing;

pub use b3::{B3Multi, B3Sampling, B3Single};
pub use carrier::{Extractor, Injector};
pub use datadog::{DatadogContext, DatadogTags, DatadogTracestate};
pub use error::{ExtractError, InjectError, ParseError};
pub use headers::{
    B3, BAGGAGE, TRACEPARENT, TRACESTATE, X_B3_FLAGS, X_B3_PARENTSPANID, X_B3_SAMPLED, X_B3_SPANID,
    X_B3_TRACEID, X_DATADOG_ORIGIN, X_DATADOG_PARENT_ID, X_DATADOG_SAMPLING_PRIORITY,
    X_DATADOG_TAGS, X_DATADOG_TRACE_ID,
};
pub use identity::{
    ACCOUNT_ID_ATTRIBUTE, ACCOUNT_ID_KEY, Identity, SESSION_ID_ATTRIBUTE, SESSION_ID_KEY,
    USER_ID_ATTRIBUTE, USER_ID_KEY,
};
pub use ids::{SpanId, TraceFlags, TraceId};
pub use propagation::{Context, Extracted, NewTrace, extract, extract_with, inject};
pub use propagator_type::PropagatorType;
pub use sampling_priority::SamplingPriority;
pub use span_context::SpanContext;
pub use w3c::{
    BAGGAGE_MAX_BYTES, BAGGAGE_MAX_MEMBERS, Baggage, BaggageMember, Dropped,
    TRACESTATE_MAX_MEMBERS, Traceparent, Tracestate,
};
