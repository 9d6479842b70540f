//! The usertrail explorer: answers "which users and accounts did this backend error or slow
//! request hurt?" over the spans of a team's services, whatever their language.
//!
//! * [`query`]: the search syntax (`@usr.id:user_123 service:checkout status:error`), parsed
//!   by hand with positioned errors into a tree that knows no storage.
//! * [`store`]: the [`SpanStore`](store::SpanStore) seam the API reads through, and the
//!   embedded SQLite store behind it (which compiles queries to SQL with bound parameters).
//! * [`api`]: the explorer page and its JSON API.
//! * [`monitor`]: monitors and alerts: saved queries evaluated on a schedule, notifying a
//!   webhook when their state changes.

pub mod api;
pub mod auth;
pub mod ingest;
pub mod monitor;
pub mod otlp;
pub mod query;
pub mod remap;
pub mod server;
pub mod store;
