//! The usertrail demo: a shop page that uses the browser SDK, the two Rust services behind it
//! (`checkout` and `payments`, each behind `usertrail-propagator`'s server layer), a third
//! party that must see nothing, a span store, and a trace explorer that answers "which users
//! and accounts did this error or slow request hurt?".
//!
//! * [`query`]: the search syntax (`@usr.id:user_123 service:checkout status:error`), parsed
//!   by hand with positioned errors, compiled to SQL with bound parameters.
//! * [`store`]: SQLite (bundled) in one file, written in batches by a background thread.
//! * [`services`]: the axum routers.
//! * [`app`]: starts everything; `usertrail-demo --help` for the options.
//! * `otlp` (feature `otlp`, on by default): OTLP export instead of the store when
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

pub mod app;
pub mod catalog;
pub mod dispatch;
pub mod flush;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod query;
pub mod services;
pub mod store;
