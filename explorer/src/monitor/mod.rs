//! Monitors and alerts: saved questions over the spans (the error rate of
//! `@account.id:premium_*` over 5 minutes above 5 %, the p95 of `@usr.id:vip_user_*` above
//! 5 s, the distinct users hit by `service:payments status:error` above 10, an SLA per named
//! account), evaluated on a schedule, each with a state per group (OK, ALERT, NO DATA), its
//! transitions, and a JSON notification to the monitor's webhook on each one that matters.
//!
//! * this module: what a monitor is ([`Spec`]) and what is accepted ([`Spec::validate`]);
//! * [`eval`]: a monitor's values over its window, from the [`SpanStore`](crate::store::SpanStore);
//! * [`registry`]: the monitors, their states and history, kept in a JSON file;
//! * [`webhook`]: notifications off the evaluation path, retried with back-off;
//! * [`routes`]: the `/api/monitors` routes.

pub mod eval;
pub mod registry;
pub mod routes;
pub mod webhook;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::api::{MAX_QUERY_BYTES, parse_length};
use crate::query::{Query, parse};
use usertrail_propagator::ACCOUNT_ID_ATTRIBUTE;

/// Monitors kept at most.
pub const MAX_MONITORS: usize = 1_000;
/// The longest name, in bytes.
pub const MAX_NAME_BYTES: usize = 200;
/// The longest webhook URL, in bytes.
pub const MAX_URL_BYTES: usize = 2_048;
/// Named groups of one monitor at most (and groups tracked per monitor at most).
pub const MAX_GROUPS: usize = 1_000;
/// The shortest and the longest window.
pub const WINDOW_LIMITS: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(7 * 86_400));

/// What a monitor measures over the spans of its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Failed spans over all spans, in percent.
    ErrorRate,
    /// Median duration, ms.
    P50,
    /// 95th percentile duration, ms.
    P95,
    /// 99th percentile duration, ms.
    P99,
    /// Matching spans.
    Count,
    /// Distinct users (`usr.id`) on the entry spans of the matching spans' traces.
    Users,
}

impl Metric {
    /// The unit its values are in, for people.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::ErrorRate => "%",
            Metric::P50 | Metric::P95 | Metric::P99 => "ms",
            Metric::Count => "spans",
            Metric::Users => "users",
        }
    }
}

/// Which side of the threshold alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    /// The value is greater than the threshold.
    Above,
    /// The value is less than the threshold.
    Below,
}

impl Comparator {
    /// Whether `value` is on the alerting side of `threshold`.
    pub fn breached(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparator::Above => value > threshold,
            Comparator::Below => value < threshold,
        }
    }
}

/// A monitor's (or one group's) state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    /// The value is on the good side of the threshold.
    #[serde(rename = "OK")]
    Ok,
    /// The value crossed the threshold.
    #[serde(rename = "ALERT")]
    Alert,
    /// No span matched in the window.
    #[serde(rename = "NO DATA")]
    NoData,
}

/// A monitor as created: what to watch and whom to tell.
///
/// # Examples
///
/// ```
/// use usertrail_explorer::monitor::Spec;
///
/// let spec: Spec = serde_json::from_value(serde_json::json!({
///     "name": "premium error rate",
///     "query": "@account.id:premium_*",
///     "metric": "error_rate",
///     "comparator": "above",
///     "threshold": 5,
///     "window": "5m",
///     "webhook": "http://127.0.0.1:9000/hook",
/// })).unwrap();
/// assert!(spec.validate().is_ok());
/// let bad = Spec { window: "5 minutes".into(), ..spec };
/// assert!(bad.validate().unwrap_err().message.contains("window"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// For people.
    pub name: String,
    /// The span query (the search box's syntax); empty: every span.
    #[serde(default)]
    pub query: String,
    /// What is measured.
    pub metric: Metric,
    /// Which side of `threshold` alerts (`above` unless told).
    #[serde(default = "above")]
    pub comparator: Comparator,
    /// In the metric's unit (percent, ms, spans, users).
    pub threshold: f64,
    /// How far back each evaluation looks: `30s`, `5m`, `1h`.
    pub window: String,
    /// One state per value of this key (`account.id`): a multi-alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// Only these values of `group_by` (named accounts for an SLA); each is NO DATA when it
    /// has no spans. Empty: every value seen in the window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Service entry spans only (the default, except for `users`, which follows errors
    /// into child spans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<bool>,
    /// Where notifications are POSTed (`http://…`).
    pub webhook: String,
    /// Notify on transitions between OK and NO DATA too (ALERT's are always notified).
    #[serde(default)]
    pub notify_no_data: bool,
}

fn above() -> Comparator {
    Comparator::Above
}

/// Why a monitor was refused: a message, and for a query that does not parse, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// For people.
    pub message: String,
    /// The field at fault (`query`, `window`, …).
    pub field: &'static str,
    /// For `query`: the character the problem is at.
    pub position: Option<usize>,
}

impl Invalid {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            message: message.into(),
            field,
            position: None,
        }
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A spec that passed [`Spec::validate`]: its query parsed, its window as a duration.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The query.
    pub query: Query,
    /// The window.
    pub window: Duration,
    /// The group key without `@`.
    pub group_by: Option<String>,
    /// Entry spans only.
    pub entry_only: bool,
}

impl Spec {
    /// Checks every field, bounded and well-formed; normalises nothing.
    ///
    /// # Errors
    ///
    /// The first field at fault, with a message for people.
    pub fn validate(&self) -> Result<Checked, Invalid> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control) {
            return Err(Invalid::new(
                "name",
                format!("a name is 1 to {MAX_NAME_BYTES} bytes, without control characters"),
            ));
        }
        if self.query.len() > MAX_QUERY_BYTES {
            return Err(Invalid::new(
                "query",
                format!("the query is over {MAX_QUERY_BYTES} bytes"),
            ));
        }
        let query = parse(&self.query).map_err(|e| Invalid {
            message: e.message().to_string(),
            field: "query",
            position: Some(e.position()),
        })?;
        if !self.threshold.is_finite() {
            return Err(Invalid::new("threshold", "the threshold is a number"));
        }
        let window = parse_length(self.window.trim())
            .filter(|w| (WINDOW_LIMITS.0..=WINDOW_LIMITS.1).contains(w))
            .ok_or_else(|| {
                Invalid::new(
                    "window",
                    format!(
                        "window `{}`: write a length from 1s to 7d, such as 30s, 5m or 1h",
                        self.window
                    ),
                )
            })?;
        let group_by = match self.group_by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(key) => Some(
                crate::store::aggregate::group_key_name(key)
                    .map_err(|e| Invalid::new("group_by", e))?
                    .to_string(),
            ),
        };
        if self.metric == Metric::Users
            && group_by
                .as_deref()
                .is_some_and(|k| k != ACCOUNT_ID_ATTRIBUTE)
        {
            return Err(Invalid::new(
                "group_by",
                "distinct users are counted per account.id only",
            ));
        }
        if !self.groups.is_empty() && group_by.is_none() {
            return Err(Invalid::new(
                "groups",
                "named groups need group_by (e.g. account.id)",
            ));
        }
        if self.groups.len() > MAX_GROUPS
            || self
                .groups
                .iter()
                .any(|g| g.is_empty() || g.len() > MAX_NAME_BYTES)
        {
            return Err(Invalid::new(
                "groups",
                format!("at most {MAX_GROUPS} groups, each 1 to {MAX_NAME_BYTES} bytes"),
            ));
        }
        check_webhook(&self.webhook)?;
        Ok(Checked {
            query,
            window,
            group_by,
            entry_only: self.entry.unwrap_or(self.metric != Metric::Users),
        })
    }
}

/// A webhook URL: `http://host[:port]/path`, bounded. (This build's HTTP client has no TLS:
/// `https://` is refused rather than failing at every delivery.)
fn check_webhook(url: &str) -> Result<(), Invalid> {
    if url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Invalid::new(
            "webhook",
            format!("a webhook URL is at most {MAX_URL_BYTES} bytes, without spaces"),
        ));
    }
    if url.starts_with("https://") {
        return Err(Invalid::new(
            "webhook",
            "https:// webhooks are not supported by this build (no TLS client): use http://, e.g. through a local relay",
        ));
    }
    url.strip_prefix("http://")
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .filter(|h| !h.is_empty() && !h.contains('@'))
        .ok_or_else(|| {
            Invalid::new(
                "webhook",
                format!("`{url}` is not an http:// URL, e.g. http://alerts.internal:9000/hook"),
            )
        })?;
    Ok(())
}

#[cfg(test)]
mod tests;
