//! Datadog propagation: the `x-datadog-*` headers, `x-datadog-tags`, and the `dd` member of
//! `tracestate`.
//!
//! There is no public spec; this follows what Datadog's tracers and browser SDK send
//! (dd-trace-rs, dd-trace-js, browser-sdk 7): decimal 64-bit ids, the high 64 bits of a 128-bit
//! trace id as `_dd.p.tid` (16 lower-case hex digits), a signed sampling priority, and in
//! `tracestate` a `dd=s:<priority>;o:<origin>;p:<16 hex parent>;t.<tag>:<value>` member where
//! `~` stands for `=` in `o` and `t.*` values.
//!
//! * `tags.rs`: [`DatadogTags`], the `x-datadog-tags` header.
//! * `member.rs`: [`DatadogTracestate`], the value of the `dd` member of `tracestate`.
//! * `context.rs`: [`DatadogContext`], the `x-datadog-*` headers around a
//!   [`SpanContext`](crate::SpanContext).
//! * `tracecontext.rs`: Datadog's rules beside a `traceparent` (the `dd` member read and
//!   rewritten, the cross-check with `x-datadog-*`, the priority from the sampled flag), each
//!   written once for extraction and injection to call.

mod context;
mod member;
mod tags;
pub(crate) mod tracecontext;

pub use context::DatadogContext;
pub(crate) use context::inject_headers;
#[cfg(feature = "opentelemetry")]
pub(crate) use member::DD_TRACESTATE_KEY;
pub use member::DatadogTracestate;
pub use tags::DatadogTags;
