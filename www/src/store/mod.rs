//! The span store: SQLite (the bundled library) in one file, WAL mode, written by one
//! background thread ([`StoreSink`]) and read by the explorer ([`Store`]).
//!
//! # Schema
//!
//! `spans` has one row per span, with dedicated, indexed columns for what the seed queries
//! filter and group on: `service`, `kind`, `error`, `duration_ns`, `start_ns`, `trace_id`,
//! and the identity (`usr_id`, `account_id`, `session_id`, filled on service entry spans
//! only, since only they carry it). Every tag is kept as JSON in `tags` for display and
//! group-by on any tag; the tags without a column are also rows of `tags (key, value, span)`,
//! a `WITHOUT ROWID` table whose primary key is `(key, value, span)`, so `@usr.role:vip` is an
//! index seek.
//!
//! ```text
//! spans_trace       (trace_id)                        trace waterfall, impacted users
//! spans_start       (start_ns)                        newest first
//! spans_by_usr      (usr_id, kind, start_ns)          @usr.id:…
//! spans_by_account  (account_id, kind, start_ns)      @account.id:… (prefix wildcards too)
//! spans_by_session  (session_id, kind, start_ns)      @session.id:…
//! spans_by_service  (service, kind, error, start_ns,  service:… status:error, and covering
//!                    duration_ns, usr_id, account_id)  for group-bys on usr.id, account.id…
//! spans_by_duration (duration_ns, kind, start_ns)     @duration:>5s
//! ```
//!
//! Every index has `kind` and `start_ns` after its key, so that counting the matches and
//! picking the newest 50 (`kind = 'server'` is the explorer's default) read the index only;
//! the 50 rows are fetched afterwards. The group-by of the seed questions (failing payments
//! by user or account) reads `spans_by_service` alone.

mod sink;
pub mod synth;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;
use usertrail_propagator::tracing::{SpanKind, SpanRecord};

use crate::query::{GroupKey, Query, group_key};

pub use sink::StoreSink;

/// An error of the store (SQLite's, or a bad group-by key).
#[derive(Debug)]
pub struct StoreError(String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(format!("span store: {e}"))
    }
}

/// `Result` with a [`StoreError`].
pub type Result<T> = std::result::Result<T, StoreError>;

/// Tags kept as columns of `spans` (and in the JSON), not as rows of `tags`.
const COLUMN_TAGS: &[&str] = &[
    "usr.id",
    "account.id",
    "session.id",
    "http.response.status_code",
    "error",
    "duration_ms",
];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS spans (
    id          INTEGER PRIMARY KEY,
    trace_id    TEXT    NOT NULL,
    span_id     TEXT    NOT NULL,
    parent_id   TEXT,
    service     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    start_ns    INTEGER NOT NULL,
    duration_ns INTEGER NOT NULL,
    error       INTEGER NOT NULL,
    status_code INTEGER,
    usr_id      TEXT,
    account_id  TEXT,
    session_id  TEXT,
    tags        TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS tags (
    key   TEXT    NOT NULL,
    value TEXT    NOT NULL,
    span  INTEGER NOT NULL,
    PRIMARY KEY (key, value, span)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS spans_trace ON spans (trace_id);
CREATE INDEX IF NOT EXISTS spans_start ON spans (start_ns);
CREATE INDEX IF NOT EXISTS spans_by_usr ON spans (usr_id, kind, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_account ON spans (account_id, kind, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_session ON spans (session_id, kind, start_ns);
CREATE INDEX IF NOT EXISTS spans_by_service
    ON spans (service, kind, error, start_ns, duration_ns, usr_id, account_id);
CREATE INDEX IF NOT EXISTS spans_by_duration ON spans (duration_ns, kind, start_ns);
";

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;
         PRAGMA mmap_size = 1073741824;",
    )?;
    Ok(())
}

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
    /// The span the propagator's `UsertrailLayer` recorded.
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
        Span::new(
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
        )
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

/// Writes spans; one per process, owned by [`StoreSink`]'s thread (or a test).
#[derive(Debug)]
pub struct Writer {
    conn: Connection,
}

impl Writer {
    /// Opens (and creates) the store at `path`.
    ///
    /// # Errors
    ///
    /// When SQLite cannot open or set up the file.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Writer { conn })
    }

    /// Inserts `spans` in one transaction.
    ///
    /// # Errors
    ///
    /// When SQLite fails; nothing is inserted then.
    pub fn insert(&mut self, spans: &[Span]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut span_stmt = tx.prepare_cached(
                "INSERT INTO spans (trace_id, span_id, parent_id, service, name, resource, kind,
                     start_ns, duration_ns, error, status_code, usr_id, account_id, session_id, tags)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?;
            let mut tag_stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO tags (key, value, span) VALUES (?1, ?2, ?3)",
            )?;
            for span in spans {
                let tags = serde_json::to_string(&span.tags).unwrap_or_else(|_| "{}".into());
                span_stmt.execute(params![
                    span.trace_id,
                    span.span_id,
                    span.parent_id,
                    span.service,
                    span.name,
                    span.resource,
                    span.kind,
                    span.start_ns,
                    span.duration_ns,
                    span.error,
                    span.status_code,
                    span.tag("usr.id"),
                    span.tag("account.id"),
                    span.tag("session.id"),
                    tags,
                ])?;
                let id = tx.last_insert_rowid();
                for (key, value) in &span.tags {
                    if !COLUMN_TAGS.contains(&key.as_str()) {
                        tag_stmt.execute(params![key, value, id])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Updates the planner's statistics (`ANALYZE`); worth it after a bulk load.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn analyze(&mut self) -> Result<()> {
        self.conn.execute_batch("ANALYZE")?;
        Ok(())
    }

    /// `PRAGMA optimize`: refreshes statistics that have gone stale (cheap when none have).
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn optimize(&mut self) -> Result<()> {
        // 0x10002: look at every table, not only those this connection queried; with an
        // analysis limit, a refresh reads a sample and stays quick on a big store.
        self.conn
            .execute_batch("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")?;
        Ok(())
    }
}

/// Reads the store for the explorer. Queries are synchronous: call them from a blocking
/// thread (`tokio::task::spawn_blocking`).
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

/// What a search asks for besides the query.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    /// Only service entry spans (`kind:server`), the explorer's default: they carry the
    /// identity, and their duration is the request's.
    pub entry_only: bool,
    /// At most this many spans in the result.
    pub limit: usize,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            entry_only: true,
            limit: 50,
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
    /// `usr.role`, when a service set it.
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
fn percentile(sorted: &[i64], p: f64) -> i64 {
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
fn stats(value: Option<String>, mut durations: Vec<i64>, errors: u64) -> Group {
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

const SPAN_COLUMNS: &str = "s.trace_id, s.span_id, s.parent_id, s.service, s.name, s.resource, s.kind, \
     s.start_ns, s.duration_ns, s.error, s.status_code, s.tags";

fn span_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Span> {
    let tags: String = row.get(11)?;
    Ok(Span {
        trace_id: row.get(0)?,
        span_id: row.get(1)?,
        parent_id: row.get(2)?,
        service: row.get(3)?,
        name: row.get(4)?,
        resource: row.get(5)?,
        kind: row.get(6)?,
        start_ns: row.get(7)?,
        duration_ns: row.get(8)?,
        error: row.get(9)?,
        status_code: row.get(10)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
    })
}

/// The query's condition, and `kind = 'server'` when asked.
fn condition(query: &Query, scope: Scope) -> (String, Vec<rusqlite::types::Value>) {
    let sql = query.to_sql();
    if scope.entry_only {
        (format!("s.kind = 'server' AND {}", sql.text), sql.params)
    } else {
        (sql.text, sql.params)
    }
}

impl Store {
    /// Opens the store at `path` for reading (creating it if needed).
    ///
    /// # Errors
    ///
    /// When SQLite cannot open the file.
    pub fn open(path: &Path) -> Result<Self> {
        // Creates the schema, so that reads work before the first span arrives.
        drop(Writer::open(path)?);
        let conn = Connection::open(path)?;
        configure(&conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The spans matching `query`, newest first.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn search(&self, query: &Query, scope: Scope) -> Result<SearchResult> {
        let (cond, params) = condition(query, scope);
        let conn = self.conn();
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) FROM spans s WHERE {cond}"),
            params_from_iter(params.iter()),
            |r| r.get(0),
        )?;
        // The newest ids first (from an index when the condition allows), then their rows.
        let mut stmt = conn.prepare(&format!(
            "SELECT {SPAN_COLUMNS} FROM spans s WHERE s.id IN (
                 SELECT s.id FROM spans s WHERE {cond} ORDER BY s.start_ns DESC LIMIT {}
             ) ORDER BY s.start_ns DESC, s.id DESC",
            scope.limit
        ))?;
        let spans = stmt
            .query_map(params_from_iter(params.iter()), span_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(SearchResult {
            total: total.try_into().unwrap_or(0),
            spans,
        })
    }

    /// Every span of a trace, in start order.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn trace(&self, trace_id: &str) -> Result<Vec<Span>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SPAN_COLUMNS} FROM spans s WHERE s.trace_id = ?1 ORDER BY s.start_ns, s.id"
        ))?;
        let spans = stmt
            .query_map([trace_id], span_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(spans)
    }

    /// The spans matching `query`, grouped on `key` (see [`group_key`]): count, errors and
    /// latency percentiles per group, the `limit` biggest groups first.
    ///
    /// # Errors
    ///
    /// A bad key, or SQLite failing.
    pub fn group_by(&self, query: &Query, key: &str, scope: Scope) -> Result<GroupByResult> {
        let GroupKey {
            text: key_sql,
            params: key_params,
        } = group_key(key).map_err(StoreError)?;
        let (cond, params) = condition(query, scope);
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {key_sql}, s.duration_ns, s.error FROM spans s WHERE {cond}"
        ))?;
        let mut groups: HashMap<Option<String>, (Vec<i64>, u64)> = HashMap::new();
        let mut rows = stmt.query(params_from_iter(key_params.iter().chain(params.iter())))?;
        let mut total = 0u64;
        while let Some(row) = rows.next()? {
            let value: Option<String> = match row.get_ref(0)? {
                rusqlite::types::ValueRef::Null => None,
                rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                rusqlite::types::ValueRef::Integer(i) => Some(i.to_string()),
                rusqlite::types::ValueRef::Real(f) => Some(f.to_string()),
                rusqlite::types::ValueRef::Blob(_) => Some("(binary)".into()),
            };
            let entry = groups.entry(value).or_default();
            entry.0.push(row.get(1)?);
            if row.get::<_, bool>(2)? {
                entry.1 += 1;
            }
            total += 1;
        }
        let group_count = groups.len();
        let mut out: Vec<Group> = groups
            .into_iter()
            .map(|(value, (durations, errors))| stats(value, durations, errors))
            .collect();
        out.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(b.errors.cmp(&a.errors))
                .then_with(|| a.value.cmp(&b.value))
        });
        out.truncate(scope.limit);
        Ok(GroupByResult {
            key: key.trim().trim_start_matches('@').into(),
            total,
            group_count,
            groups: out,
        })
    }

    /// Who the spans matching `query` hurt: the users and accounts on the entry spans of
    /// their traces (so an error deep in a child span, which carries no identity, still
    /// names its users), most hit first, at most `scope.limit` of each.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn impact(&self, query: &Query, scope: Scope) -> Result<Impact> {
        let (cond, params) = condition(query, scope);
        let conn = self.conn();
        conn.execute_batch(
            "DROP TABLE IF EXISTS temp.hit;
             CREATE TEMP TABLE hit (trace_id TEXT PRIMARY KEY, spans INTEGER NOT NULL) WITHOUT ROWID;",
        )?;
        let traces = conn.execute(
            &format!(
                "INSERT INTO temp.hit SELECT s.trace_id, count(*) FROM spans s WHERE {cond} GROUP BY s.trace_id"
            ),
            params_from_iter(params.iter()),
        )?;
        let matched: i64 =
            conn.query_row("SELECT coalesce(sum(spans), 0) FROM temp.hit", [], |r| {
                r.get(0)
            })?;
        // CROSS JOIN keeps the hit traces outside: each is a seek on `spans_trace`.
        let mut stmt = conn.prepare(
            "SELECT e.trace_id, e.usr_id, e.account_id, e.session_id, e.start_ns,
                    CASE WHEN e.usr_id IS NULL THEN NULL ELSE json_extract(e.tags, '$.\"usr.role\"') END
             FROM temp.hit h CROSS JOIN spans e ON e.trace_id = h.trace_id
             WHERE e.kind = 'server'",
        )?;
        struct UserAcc {
            role: Option<String>,
            traces: HashSet<String>,
            sessions: HashSet<String>,
            last: i64,
        }
        let mut users: HashMap<(String, Option<String>), UserAcc> = HashMap::new();
        let mut accounts: HashMap<String, (HashSet<String>, HashSet<String>)> = HashMap::new();
        let mut signed_in: HashSet<String> = HashSet::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let trace_id: String = row.get(0)?;
            let usr_id: Option<String> = row.get(1)?;
            let account_id: Option<String> = row.get(2)?;
            if let Some(account) = &account_id {
                let entry = accounts.entry(account.clone()).or_default();
                if let Some(user) = &usr_id {
                    entry.0.insert(user.clone());
                }
                entry.1.insert(trace_id.clone());
            }
            let Some(usr_id) = usr_id else { continue };
            signed_in.insert(trace_id.clone());
            let user = users
                .entry((usr_id, account_id))
                .or_insert_with(|| UserAcc {
                    role: None,
                    traces: HashSet::new(),
                    sessions: HashSet::new(),
                    last: i64::MIN,
                });
            if let Some(session) = row.get::<_, Option<String>>(3)? {
                user.sessions.insert(session);
            }
            user.last = user.last.max(row.get(4)?);
            if let Some(role) = row.get::<_, Option<String>>(5)? {
                user.role = Some(role);
            }
            user.traces.insert(trace_id);
        }
        drop(rows);
        drop(stmt);
        conn.execute_batch("DROP TABLE IF EXISTS temp.hit")?;
        let user_count = users
            .keys()
            .map(|(u, _)| u.as_str())
            .collect::<HashSet<_>>()
            .len();
        let mut users: Vec<ImpactedUser> = users
            .into_iter()
            .map(|((usr_id, account_id), acc)| ImpactedUser {
                usr_id,
                account_id,
                role: acc.role,
                traces: acc.traces.len() as u64,
                sessions: acc.sessions.len() as u64,
                last_seen_ns: acc.last,
            })
            .collect();
        users.sort_by(|a, b| {
            b.traces
                .cmp(&a.traces)
                .then_with(|| a.usr_id.cmp(&b.usr_id))
        });
        let mut accounts: Vec<ImpactedAccount> = accounts
            .into_iter()
            .map(|(account_id, (users, traces))| ImpactedAccount {
                account_id,
                users: users.len() as u64,
                traces: traces.len() as u64,
            })
            .collect();
        accounts.sort_by(|a, b| {
            b.traces
                .cmp(&a.traces)
                .then_with(|| a.account_id.cmp(&b.account_id))
        });
        let account_count = accounts.len();
        users.truncate(scope.limit);
        accounts.truncate(scope.limit);
        Ok(Impact {
            spans: matched.try_into().unwrap_or(0),
            traces: traces as u64,
            anonymous_traces: (traces - signed_in.len().min(traces)) as u64,
            user_count,
            account_count,
            users,
            accounts,
        })
    }

    /// Every endpoint (service and resource of entry spans) over the last `window` entry
    /// spans: requests, errors and latency, the most failing first.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn endpoints(&self, window: usize) -> Result<Vec<Endpoint>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT s.service, s.resource, s.duration_ns, s.error FROM spans s
             WHERE s.kind = 'server' ORDER BY s.start_ns DESC LIMIT ?1",
        )?;
        let mut groups: HashMap<(String, String), (Vec<i64>, u64)> = HashMap::new();
        let mut rows = stmt.query([i64::try_from(window).unwrap_or(i64::MAX)])?;
        while let Some(row) = rows.next()? {
            let entry = groups.entry((row.get(0)?, row.get(1)?)).or_default();
            entry.0.push(row.get(2)?);
            if row.get::<_, bool>(3)? {
                entry.1 += 1;
            }
        }
        let mut out: Vec<Endpoint> = groups
            .into_iter()
            .map(|((service, resource), (durations, errors))| Endpoint {
                service,
                resource,
                stats: stats(None, durations, errors),
            })
            .collect();
        out.sort_by(|a, b| {
            b.stats
                .errors
                .cmp(&a.stats.errors)
                .then(b.stats.p95_ns.cmp(&a.stats.p95_ns))
                .then_with(|| a.service.cmp(&b.service))
                .then_with(|| a.resource.cmp(&b.resource))
        });
        Ok(out)
    }

    /// How many spans are stored.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    pub fn count(&self) -> Result<u64> {
        let n: Option<i64> = self
            .conn()
            .query_row("SELECT max(id) FROM spans", [], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(n.unwrap_or(0).try_into().unwrap_or(0))
    }
}
