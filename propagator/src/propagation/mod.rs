//! Picking one trace context out of incoming headers, and writing outgoing ones.
//!
//! Two layers of tolerance, as in OpenTelemetry's `trace_context.rs`: the format parsers are
//! strict and return `Result`; [`extract`] never fails or panics, it falls back to "no
//! context" and reports what it rejected.
//!
//! * `context.rs`: [`Context`], what propagates with a request.
//! * `extracted.rs`: [`Extracted`], a context and the problems met reading it.
//! * `extract.rs`: [`extract`] and [`extract_with`], the formats tried in order.
//! * `inject.rs`: [`inject`], each format written.
//! * `new_trace.rs`: [`NewTrace`], the browser's fast path for a trace that starts here.
//!
//! [`SpanContext`] and [`PropagatorType`] sit below the formats (a Datadog context is built on
//! a span context) and are re-exported here; the Datadog rules extraction and injection apply
//! are in `datadog/tracecontext.rs`.

mod context;
mod extract;
mod extracted;
mod inject;
mod new_trace;

// `crate::propagation::{PropagatorType, SpanContext}` named these before they moved below the
// formats; the paths stay for code written against them.
#[allow(unused_imports)]
pub(crate) use crate::{propagator_type::PropagatorType, span_context::SpanContext};
pub use context::Context;
pub use extract::{extract, extract_with};
pub use extracted::Extracted;
pub use inject::inject;
pub use new_trace::NewTrace;
