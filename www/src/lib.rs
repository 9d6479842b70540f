//! The usertrail demo: a shop page that uses the browser SDK, the two Rust services behind it
//! (`checkout` and `payments`, each behind `usertrail-propagator`'s server layer), a third
//! party that must see nothing, a span store, and a trace explorer that answers "which users
//! and accounts did this error or slow request hurt?".
//!
//! * [`query`], [`store`]: the explorer's (crate `usertrail-explorer`), which the demo's
//!   services write their spans into in-process.
//! * [`services`]: the axum routers.
//! * [`sink`]: the services' spans into the explorer's embedded store, in-process.
//! * [`app`]: starts everything; `usertrail-demo --help` for the options.
//! * `otlp` (feature `otlp`, on by default): OTLP export instead of the store when
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

pub mod app;
pub mod catalog;
pub mod dispatch;
pub mod flush;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod services;
pub mod sink;

pub use usertrail_explorer::{query, store};
