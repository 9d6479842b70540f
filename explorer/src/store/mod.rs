//! The span store: what the explorer's API asks of a store ([`SpanStore`]) and how spans
//! get in ([`SpanWriter`]), the types both speak, and the stores behind them.
//!
//! * [`sqlite`]: the embedded store (SQLite, bundled), one file, the default.
//! * [`clickhouse`]: a ClickHouse server, for more than one machine.
//!
//! A store owns its schema and compiles [`Query`] (which knows no storage) into its own
//! language; the API is written against the traits only.

pub mod aggregate;
pub mod clickhouse;
pub mod sqlite;
pub mod synth;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use usertrail_propagator::tracing::{SpanKind, SpanRecord};

use crate::query::{Field, Matcher, Query};
use crate::remap::{self, Origin};
use aggregate::EntryIdentity;
use usertrail_propagator::{ACCOUNT_ID_ATTRIBUTE, SESSION_ID_ATTRIBUTE, USER_ID_ATTRIBUTE};

/// An error of the store (SQLite's, or a bad group-by key).
#[derive(Debug)]
pub struct StoreError(String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError(message.into())
    }
}

/// `Result` with a [`StoreError`].
pub type Result<T> = std::result::Result<T, StoreError>;
/// One span as stored and as the explorer's API returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    /// 32 lower-case hex digits.
    pub trace_id: String,
    /// 16 lower-case hex digits.
    pub span_id: String,
    /// The parent span (the caller's span for an entry span that continued a trace).
    pub parent_id: Option<String>,
    /// `checkout`, `payments`.
    pub service: String,
    /// The span name (`http.request` for entry spans).
    pub name: String,
    /// `POST /api/checkout` for HTTP spans, the name otherwise.
    pub resource: String,
    /// `server` (service entry span), `client` or `internal`.
    pub kind: String,
    /// Start, in nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// Duration in nanoseconds.
    pub duration_ns: i64,
    /// Whether it failed.
    pub error: bool,
    /// The HTTP status code, for HTTP spans.
    pub status_code: Option<i64>,
    /// Every tag.
    pub tags: BTreeMap<String, String>,
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

impl Span {
    /// The span the propagator's `UsertrailLayer` recorded, identity [remapped](crate::remap).
    pub fn from_record(record: &SpanRecord) -> Self {
        let kind = match record.kind {
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Internal => "internal",
        };
        let start_ns = record
            .start
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, nanos);
        let mut span = Span::new(
            record.trace_id.to_string(),
            record.span_id.to_string(),
            record.parent_id.map(|p| p.to_string()),
            record.service.to_string(),
            record.name.to_string(),
            kind,
            start_ns,
            nanos(record.duration),
            record.error,
            record
                .tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        remap::apply(
            &mut span.tags,
            record.kind == SpanKind::Server,
            Origin::Usertrail,
        );
        span
    }

    /// A span; `resource` and `status_code` are worked out from the tags
    /// (`http.request.method`, `url.path`, `http.response.status_code`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        trace_id: String,
        span_id: String,
        parent_id: Option<String>,
        service: String,
        name: String,
        kind: &str,
        start_ns: i64,
        duration_ns: i64,
        error: bool,
        tags: BTreeMap<String, String>,
    ) -> Self {
        // The route when the router said (`GET /orders/{id}`: one resource for all orders).
        // A client span has the whole URL: its path is the target.
        let client_path = tags.get("url.full").map(|url| {
            let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
            let path = rest.find('/').map_or("/", |i| &rest[i..]);
            path.split(['?', '#']).next().unwrap_or("/").to_owned()
        });
        let target = tags
            .get("http.route")
            .or_else(|| tags.get("url.path"))
            .or(client_path.as_ref());
        let resource = match (tags.get("http.request.method"), target) {
            (Some(method), Some(target)) => format!("{method} {target}"),
            _ => name.clone(),
        };
        let status_code = tags
            .get("http.response.status_code")
            .and_then(|s| s.parse().ok());
        Span {
            trace_id,
            span_id,
            parent_id,
            service,
            name,
            resource,
            kind: kind.into(),
            start_ns,
            duration_ns,
            error,
            status_code,
            tags,
        }
    }

    /// A tag's value.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }
}

/// What the explorer's API reads: every method answers one API route. Calls are
/// synchronous (run them on a blocking thread, `tokio::task::spawn_blocking`).
///
/// # Examples
///
/// ```
/// use usertrail_explorer::query::parse;
/// use usertrail_explorer::store::{Scope, SpanStore, sqlite};
///
/// let dir = std::env::temp_dir().join(format!("usertrail-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let store: Box<dyn SpanStore> = Box::new(sqlite::Store::open(&dir.join("doc.sqlite")).unwrap());
/// let found = store.search(&parse("@usr.id:user_123").unwrap(), Scope::default()).unwrap();
/// assert_eq!(found.total, 0);
/// assert!(store.group_by(&parse("").unwrap(), "a\"b", Scope::default()).is_err());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub trait SpanStore: std::fmt::Debug + Send + Sync {
    /// The spans matching `query`, newest first (at most `scope.limit`), and how many match.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn search(&self, query: &Query, scope: Scope) -> Result<SearchResult>;

    /// Every span of a trace, in start order.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn trace(&self, trace_id: &str) -> Result<Vec<Span>>;

    /// The spans matching `query`, grouped on `key` (`usr.id`, `service`, any tag): count,
    /// errors and latency percentiles per group, the `scope.limit` biggest groups first.
    ///
    /// # Errors
    ///
    /// A key that cannot name a tag, or the store failing.
    fn group_by(&self, query: &Query, key: &str, scope: Scope) -> Result<GroupByResult>;

    /// Who the spans matching `query` hurt: the users and accounts on the entry spans of
    /// their traces, most hit first, at most `scope.limit` of each.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn impact(&self, query: &Query, scope: Scope) -> Result<Impact>;

    /// Every endpoint (service and resource of entry spans) over the last `window` entry
    /// spans in `range`, the most failing first.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn endpoints(&self, window: usize, range: TimeRange) -> Result<Vec<Endpoint>>;

    /// How many spans are stored.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn count(&self) -> Result<u64>;

    /// How many spans matching `query` have each value of `key` (spans without it are not
    /// counted), and how many match in all.
    ///
    /// # Errors
    ///
    /// A key that cannot name a tag, or the store failing.
    fn value_counts(&self, query: &Query, key: &str, scope: Scope) -> Result<ValueCounts>;

    /// The spans matching `query` as error rows (their error type and message), and the
    /// identity on the entry spans of their traces; for [`SpanStore::error_groups`].
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn error_rows(
        &self,
        query: &Query,
        scope: Scope,
    ) -> Result<(Vec<ErrorRow>, Vec<EntryIdentity>)>;

    /// Error groups (Error Tracking issues): the failed spans matching `query`, grouped by
    /// service, resource and error type (or message, or HTTP status), each with its count,
    /// first and last seen, and the distinct users and accounts on its traces; the most
    /// users hit first, at most `scope.limit` groups.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn error_groups(&self, query: &Query, scope: Scope) -> Result<ErrorGroups> {
        let failed = query
            .clone()
            .and(Query::term(Field::Status, Matcher::Exact("error".into())));
        let (rows, entries) = self.error_rows(&failed, scope)?;
        Ok(aggregate::error_groups(rows, entries, scope.limit))
    }

    /// Tag analysis: which values of `keys` are over-represented in the spans matching
    /// `selection` among those matching `baseline` (both in `scope`), the most
    /// over-represented first (at most `scope.limit` per key and overall).
    ///
    /// # Errors
    ///
    /// A key that cannot name a tag, or the store failing.
    fn tag_analysis(
        &self,
        selection: &Query,
        baseline: &Query,
        keys: &[String],
        scope: Scope,
    ) -> Result<TagAnalysis> {
        let selected = baseline.clone().and(selection.clone());
        let mut per_key = Vec::with_capacity(keys.len());
        for key in keys {
            let base = self.value_counts(baseline, key, scope)?;
            let sel = self.value_counts(&selected, key, scope)?;
            per_key.push((key.clone(), sel, base));
        }
        Ok(aggregate::tag_analysis(per_key, scope.limit))
    }

    /// One user's, account's or session's activity in `scope.range`: their service entry
    /// spans in time order (the last `scope.limit`), with their sessions, the endpoints
    /// that failed for them and, for an account or a session, its users.
    ///
    /// # Errors
    ///
    /// A key other than `usr.id`, `account.id`, `session.id`, or the store failing.
    fn activity(&self, key: &str, value: &str, scope: Scope) -> Result<Activity> {
        let key = key.trim().trim_start_matches('@');
        if !ACTIVITY_KEYS.contains(&key) {
            return Err(StoreError::new(format!(
                "activity is for usr.id, account.id or session.id, not `{key}`"
            )));
        }
        let scope = Scope {
            entry_only: true,
            ..scope
        };
        let whose = Query::term(Field::Tag(key.into()), Matcher::Exact(value.into()));
        let found = self.search(&whose, scope)?;
        let all = Scope {
            limit: 1_000,
            ..scope
        };
        let sessions = self.group_by(&whose, SESSION_ID_ATTRIBUTE, all)?;
        let failing = whose
            .clone()
            .and(Query::term(Field::Status, Matcher::Exact("error".into())));
        let errors = self.group_by(&failing, "resource", all)?;
        let users = if key == USER_ID_ATTRIBUTE {
            None
        } else {
            Some(self.group_by(&whose, USER_ID_ATTRIBUTE, all)?.groups)
        };
        let mut spans = found.spans;
        spans.reverse();
        Ok(Activity {
            key: key.into(),
            value: value.into(),
            requests: found.total,
            errors: errors.total,
            spans,
            session_count: sessions.group_count,
            sessions: sessions.groups,
            failing_endpoints: errors.groups,
            users,
        })
    }
}

/// One failed span, as error groups read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRow {
    /// The service.
    pub service: String,
    /// The resource (the name for a span that is not HTTP).
    pub resource: String,
    /// `server`, `client`, `internal`.
    pub kind: String,
    /// Start, ns since the epoch.
    pub start_ns: i64,
    /// The trace.
    pub trace_id: String,
    /// The HTTP status code.
    pub status_code: Option<i64>,
    /// `error.type`, else `exception.type`.
    pub error_type: Option<String>,
    /// `exception.message`, else `error.message`.
    pub message: Option<String>,
}

/// The tags errors are grouped and described by, the one place that names them.
pub const ERROR_TYPE_TAGS: [&str; 2] = ["error.type", "exception.type"];
/// See [`ERROR_TYPE_TAGS`].
pub const ERROR_MESSAGE_TAGS: [&str; 2] = ["exception.message", "error.message"];

/// One error group.
#[derive(Debug, Serialize, PartialEq)]
pub struct ErrorGroup {
    /// The service.
    pub service: String,
    /// The resource.
    pub resource: String,
    /// What the errors are: the error type, else the message, else `HTTP 502`, else `error`.
    pub error: String,
    /// Whether `error` is the `error.type`/`exception.type` tag (to search by it).
    pub typed: bool,
    /// Whether the errors are on service entry spans.
    pub entry: bool,
    /// The latest message.
    pub message: Option<String>,
    /// Failed spans.
    pub count: u64,
    /// The first, ns since the epoch.
    pub first_seen_ns: i64,
    /// The last.
    pub last_seen_ns: i64,
    /// Traces.
    pub traces: u64,
    /// Distinct users on the entry spans of those traces.
    pub users: u64,
    /// Distinct accounts.
    pub accounts: u64,
}

/// Error groups ([`SpanStore::error_groups`]).
#[derive(Debug, Serialize)]
pub struct ErrorGroups {
    /// Failed spans in all.
    pub errors: u64,
    /// Groups in all (the list may be cut to a limit).
    pub group_count: usize,
    /// The groups, the most users hit first.
    pub groups: Vec<ErrorGroup>,
}

/// Per value of a key, how many spans have it ([`SpanStore::value_counts`]).
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct ValueCounts {
    /// Spans matching in all (with the key or not).
    pub total: u64,
    /// Each value and its spans, in no order.
    pub counts: Vec<(String, u64)>,
}

/// One tag value in a tag analysis: its share of the selection beside its share of the
/// baseline.
#[derive(Debug, Serialize, PartialEq)]
pub struct TagValue {
    /// The tag (`account.id`).
    pub key: String,
    /// Its value (`premium_acme`).
    pub value: String,
    /// Selected spans with it.
    pub selection_count: u64,
    /// Baseline spans with it.
    pub baseline_count: u64,
    /// `selection_count` over the selection's spans.
    pub selection_share: f64,
    /// `baseline_count` over the baseline's spans.
    pub baseline_share: f64,
    /// `selection_share - baseline_share`: how over-represented (negative: under).
    pub difference: f64,
}

/// Tag analysis ([`SpanStore::tag_analysis`]).
#[derive(Debug, Serialize)]
pub struct TagAnalysis {
    /// Spans in the selection.
    pub selection_total: u64,
    /// Spans in the baseline.
    pub baseline_total: u64,
    /// The most over-represented values of every key.
    pub top: Vec<TagValue>,
    /// Per key, its most over-represented values.
    pub keys: Vec<KeyAnalysis>,
}

/// One key of a tag analysis.
#[derive(Debug, Serialize)]
pub struct KeyAnalysis {
    /// The tag.
    pub key: String,
    /// Distinct values in the selection.
    pub selection_values: usize,
    /// Its values, the most over-represented first.
    pub values: Vec<TagValue>,
}

/// The keys a tag analysis looks at unless told otherwise.
pub const ANALYSIS_KEYS: [&str; 5] = [
    ACCOUNT_ID_ATTRIBUTE,
    USER_ID_ATTRIBUTE,
    "usr.role",
    "service",
    "resource",
];

/// What [`SpanStore::activity`] follows.
pub const ACTIVITY_KEYS: [&str; 3] = [
    USER_ID_ATTRIBUTE,
    ACCOUNT_ID_ATTRIBUTE,
    SESSION_ID_ATTRIBUTE,
];

/// One user's, account's or session's requests in a time range.
#[derive(Debug, Serialize)]
pub struct Activity {
    /// `usr.id`, `account.id` or `session.id`.
    pub key: String,
    /// Whose.
    pub value: String,
    /// Service entry spans in the range.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// The last of them (at most the scope's limit), oldest first.
    pub spans: Vec<Span>,
    /// Distinct sessions.
    pub session_count: usize,
    /// Per session (`value` is the `session.id`): requests, errors, latency; the busiest first.
    pub sessions: Vec<Group>,
    /// Per resource that failed for them: the failing requests.
    pub failing_endpoints: Vec<Group>,
    /// For an account or a session: its users (`value` is the `usr.id`).
    pub users: Option<Vec<Group>>,
}

/// A [`SpanWriter::encoder`]: a span's text as the writer stores it.
pub type Encoder = fn(&Span) -> String;

/// How spans get into a store: one writer per store, owned by one thread.
pub trait SpanWriter: Send {
    /// Inserts `spans` atomically: all or none.
    ///
    /// # Errors
    ///
    /// When the store fails; nothing is inserted then.
    fn insert(&mut self, spans: &[Span]) -> Result<()>;

    /// The text this writer stores for each span beside its fields, if any (the embedded
    /// store's tags JSON), as a function the explorer's ingest calls on the thread that submits
    /// the spans: off the one writer thread, which is the limit of ingest.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_explorer::store::{SpanWriter, sqlite, synth};
    ///
    /// # let dir = std::env::temp_dir().join(format!("usertrail-encoder-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let mut writer = sqlite::Writer::open(&dir.join("spans.sqlite")).unwrap();
    /// let spans = synth::spans(10, 1);
    /// let encode = writer.encoder().unwrap();
    /// let encoded: Vec<String> = spans.iter().map(encode).collect();
    /// assert!(encoded[0].starts_with('{'));
    /// writer.insert_encoded(&spans, &encoded).unwrap();
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    fn encoder(&self) -> Option<Encoder> {
        None
    }

    /// [`insert`](Self::insert), with `encoded[i]` the [`encoder`](Self::encoder)'s text of
    /// `spans[i]` (any other length, as when there is no encoder: worked out here if needed).
    ///
    /// # Errors
    ///
    /// When the store fails; nothing is inserted then.
    fn insert_encoded(&mut self, spans: &[Span], encoded: &[String]) -> Result<()> {
        let _ = encoded;
        self.insert(spans)
    }

    /// Spans per [`insert`](Self::insert) the writer aims for (it takes whole requests, so it
    /// may go over by one): as many as queue up, to this cap.
    fn batch_spans(&self) -> usize {
        16_384
    }

    /// Drops what `retention` no longer keeps (the oldest spans first); how many spans went.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn enforce(&mut self, retention: &Retention) -> Result<u64>;
}

/// How much a store keeps: spans older than `max_age`, and the oldest spans while the store
/// is over `max_bytes`, are dropped. `None`: no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep spans that started at most this long ago.
    pub max_age: Option<Duration>,
    /// Keep the store's data under this many bytes.
    pub max_bytes: Option<u64>,
}

/// What a search asks for besides the query.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    /// Only service entry spans (`kind:server`), the explorer's default: they carry the
    /// identity, and their duration is the request's.
    pub entry_only: bool,
    /// At most this many spans in the result.
    pub limit: usize,
    /// Only spans that started in this range.
    pub range: TimeRange,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            entry_only: true,
            limit: 50,
            range: TimeRange::ALL,
        }
    }
}

/// The spans that started in `[from_ns, to_ns)` (ns since the Unix epoch); `None`: no bound.
///
/// # Examples
///
/// ```
/// use usertrail_explorer::store::TimeRange;
///
/// let last_hour = TimeRange::last(std::time::Duration::from_secs(3600), 7_200_000_000_000);
/// assert_eq!(last_hour.from_ns, Some(3_600_000_000_000));
/// assert!(last_hour.contains(3_600_000_000_000) && !last_hour.contains(7_200_000_000_000));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    /// The first nanosecond in the range.
    pub from_ns: Option<i64>,
    /// The first nanosecond after the range.
    pub to_ns: Option<i64>,
}

impl TimeRange {
    /// Every span.
    pub const ALL: TimeRange = TimeRange {
        from_ns: None,
        to_ns: None,
    };

    /// The `length` before `now_ns`.
    pub fn last(length: Duration, now_ns: i64) -> Self {
        TimeRange {
            from_ns: Some(now_ns.saturating_sub(nanos(length))),
            to_ns: Some(now_ns),
        }
    }

    /// Whether a span that started at `start_ns` is in the range.
    pub fn contains(&self, start_ns: i64) -> bool {
        self.from_ns.is_none_or(|f| start_ns >= f) && self.to_ns.is_none_or(|t| start_ns < t)
    }

    /// The range as a condition on a `start_ns` column (`1` when unbounded); the bounds are
    /// numbers, never user text.
    pub(crate) fn condition(&self, column: &str) -> String {
        match (self.from_ns, self.to_ns) {
            (None, None) => "1".into(),
            (Some(f), None) => format!("{column} >= {f}"),
            (None, Some(t)) => format!("{column} < {t}"),
            (Some(f), Some(t)) => format!("{column} >= {f} AND {column} < {t}"),
        }
    }
}

/// The spans matching a query.
#[derive(Debug, Serialize)]
pub struct SearchResult {
    /// How many spans match in all.
    pub total: u64,
    /// The newest of them, newest first.
    pub spans: Vec<Span>,
}

/// One group of a group-by.
#[derive(Debug, Serialize, PartialEq)]
pub struct Group {
    /// The group's value (`None`: spans without the key).
    pub value: Option<String>,
    /// Spans.
    pub count: u64,
    /// Of which failed.
    pub errors: u64,
    /// `errors / count`.
    pub error_rate: f64,
    /// Median duration, ns.
    pub p50_ns: i64,
    /// 95th percentile duration, ns.
    pub p95_ns: i64,
    /// 99th percentile duration, ns.
    pub p99_ns: i64,
}

/// The result of a group-by.
#[derive(Debug, Serialize)]
pub struct GroupByResult {
    /// What was grouped on.
    pub key: String,
    /// Spans matched in all.
    pub total: u64,
    /// How many groups there are (the list may be cut to a limit).
    pub group_count: usize,
    /// The biggest groups first.
    pub groups: Vec<Group>,
}

/// A user hit by the spans of a query.
#[derive(Debug, Serialize, PartialEq)]
pub struct ImpactedUser {
    /// `usr.id`.
    pub usr_id: String,
    /// `account.id` (of the requests that hit them).
    pub account_id: Option<String>,
    /// `usr.role`, when a service set it: the one on the user's newest entry span that has
    /// one, among the traces the query hit.
    pub role: Option<String>,
    /// Traces (requests from the browser) hit.
    pub traces: u64,
    /// Distinct sessions hit.
    pub sessions: u64,
    /// The last time, ns since the epoch.
    pub last_seen_ns: i64,
}

/// An account hit by the spans of a query.
#[derive(Debug, Serialize, PartialEq)]
pub struct ImpactedAccount {
    /// `account.id`.
    pub account_id: String,
    /// Distinct users hit on it.
    pub users: u64,
    /// Traces hit.
    pub traces: u64,
}

/// Who the spans of a query hurt: the identity on the entry spans of their traces.
#[derive(Debug, Serialize)]
pub struct Impact {
    /// Spans matching the query.
    pub spans: u64,
    /// Traces they belong to.
    pub traces: u64,
    /// Of which traces with no signed-in user.
    pub anonymous_traces: u64,
    /// Distinct users (the list may be cut to a limit).
    pub user_count: usize,
    /// Distinct accounts.
    pub account_count: usize,
    /// The users, most hit first.
    pub users: Vec<ImpactedUser>,
    /// The accounts, most hit first.
    pub accounts: Vec<ImpactedAccount>,
}

/// One endpoint (service and resource of entry spans) over the recent requests.
#[derive(Debug, Serialize)]
pub struct Endpoint {
    /// The service.
    pub service: String,
    /// `POST /api/checkout`.
    pub resource: String,
    /// Requests, errors, latency.
    #[serde(flatten)]
    pub stats: Group,
}

/// The nearest-rank percentile `p` (0–1) of sorted values.
pub(crate) fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Count, errors and percentiles of one group's durations.
pub(crate) fn stats(value: Option<String>, mut durations: Vec<i64>, errors: u64) -> Group {
    durations.sort_unstable();
    let count = durations.len() as u64;
    #[allow(clippy::cast_precision_loss)]
    let error_rate = if count == 0 {
        0.0
    } else {
        errors as f64 / count as f64
    };
    Group {
        value,
        count,
        errors,
        error_rate,
        p50_ns: percentile(&durations, 0.50),
        p95_ns: percentile(&durations, 0.95),
        p99_ns: percentile(&durations, 0.99),
    }
}
