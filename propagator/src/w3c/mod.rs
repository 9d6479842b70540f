//! W3C formats: Trace Context Level 2 (`traceparent`, `tracestate`) and Baggage.

mod baggage;
mod traceparent;
mod tracestate;

pub use baggage::{BAGGAGE_MAX_BYTES, BAGGAGE_MAX_MEMBERS, Baggage, BaggageMember, Dropped};
pub use traceparent::Traceparent;
pub(crate) use tracestate::check_value as check_tracestate_value;
pub use tracestate::{TRACESTATE_MAX_MEMBERS, Tracestate};
