//! The span store for more than one machine: a ClickHouse server, over its HTTP interface.
//!
//! Chosen with `--store clickhouse://host:8123/database`. It answers every [`SpanStore`]
//! question as the embedded store does (`explorer/tests/clickhouse.rs` compares the two on
//! the same spans), and works with ClickHouse 18.16 and later: no `DateTime64`, `Map`,
//! `LowCardinality` or query parameters.
//!
//! # Schema
//!
//! One `MergeTree` table, `spans`, partitioned by day (retention by age drops whole days
//! cheaply) and ordered by `(service, kind, start_ns)`: the seed questions name a service
//! (`service:checkout status:error`), entry spans (`kind = 'server'`) are the default, and
//! the newest come first. Its granules are 1,024 rows, not 8,192: a search reads its newest
//! rows back by their keys, and each key reads a whole granule of every column. The identity
//! has columns of its own (`usr_id`, `account_id`, `session_id`, on entry spans only); every
//! tag, identity included, is a row of the `tags` `Nested` column, so any tag can be searched
//! and grouped on. `usr_role`, computed by the server from `tags` as it writes (see
//! [`computed_columns`]), is added to tables made before it.
//!
//! Inserts are `RowBinary` batches, one per [`SpanWriter::insert`] (the explorer's ingest
//! writes a batch at a time); one insert of fewer than a million rows is one block, which
//! ClickHouse writes all or nothing. Answers are read as `JSONEachRow`.

mod row_binary;
mod sql;

use std::time::Duration;

use serde::Deserialize;

use super::aggregate::{self, EntryIdentity};
use super::{
    ERROR_MESSAGE_TAGS, ERROR_TYPE_TAGS, Endpoint, ErrorRow, Group, GroupByResult, Impact, Result,
    Retention, Scope, SearchResult, Span, SpanStore, SpanWriter, StoreError, TagAnalysis,
    TimeRange, ValueCounts,
};
use crate::query::Query;
use usertrail_propagator::{ACCOUNT_ID_ATTRIBUTE, SESSION_ID_ATTRIBUTE, USER_ID_ATTRIBUTE};

/// The identity attributes and their columns, the one place that maps them here.
const IDENTITY_COLUMNS: [(&str, &str); 3] = [
    (USER_ID_ATTRIBUTE, "usr_id"),
    (ACCOUNT_ID_ATTRIBUTE, "account_id"),
    (SESSION_ID_ATTRIBUTE, "session_id"),
];

fn identity_column(attribute: &str) -> Option<&'static str> {
    IDENTITY_COLUMNS
        .iter()
        .find(|(a, _)| *a == attribute)
        .map(|(_, column)| *column)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS {db}.spans (
    trace_id    String,
    span_id     String,
    parent_id   Nullable(String),
    service     String,
    name        String,
    resource    String,
    kind        String,
    start_ns    Int64,
    duration_ns Int64,
    error       UInt8,
    status_code Nullable(Int64),
    usr_id      Nullable(String),
    account_id  Nullable(String),
    session_id  Nullable(String),
    tags Nested (key String, value String),
    day Date DEFAULT toDate(toDateTime(intDiv(start_ns, 1000000000)))
) ENGINE = MergeTree
PARTITION BY day
ORDER BY (service, kind, start_ns)
SETTINGS index_granularity = 1024";

/// The columns ClickHouse computes from the others as it writes a part (`MATERIALIZED`: no
/// insert names them, and parts written before they existed compute them as they are read).
/// `usr_role`, the `usr.role` tag of an entry span with a user, lets the impacted-users
/// question read one small column instead of every entry span's tags.
fn computed_columns() -> [(&'static str, String); 1] {
    [(
        "usr_role",
        format!(
            "Nullable(String) MATERIALIZED if(isNull(usr_id), NULL, {})",
            sql::tag_value("usr.role")
        ),
    )]
}

const SPAN_COLUMNS: &str = "trace_id, span_id, parent_id, service, name, resource, kind, \
     start_ns, duration_ns, error, status_code, tags.key, tags.value";

/// The percentiles of a group-by, as [`Group`] holds them: p50, p95, p99.
const PERCENTILES: [f64; 3] = [0.50, 0.95, 0.99];

/// Searches for at most this many spans read them by their keys (two queries, see
/// [`Store::search`]); more would make the second query's text too long for the server.
const KEYED_FETCH_LIMIT: usize = 1_000;

/// How long one request to the server may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Where a ClickHouse store lives: the server's HTTP interface and the database.
#[derive(Clone)]
struct Client {
    agent: ureq::Agent,
    base: String,
    database: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClickHouse({}, {})", self.base, self.database)
    }
}

impl Client {
    /// `clickhouse://host:port/database` (or `http://…`); the database defaults to `usertrail`.
    fn new(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("clickhouse://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| {
                StoreError::new(format!(
                    "`{url}`: a ClickHouse store is clickhouse://host:8123/database"
                ))
            })?;
        let (host, database) = rest.split_once('/').unwrap_or((rest, ""));
        let database = if database.is_empty() {
            "usertrail"
        } else {
            database
        };
        if host.is_empty()
            || !database
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::new(format!(
                "`{url}`: a ClickHouse store is clickhouse://host:8123/database (letters, digits, _)"
            )));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Client {
            agent,
            base: format!("http://{host}/"),
            database: database.into(),
        })
    }

    /// Runs `sql` (with `body` after it, for an insert) and answers the server's output.
    fn run(&self, sql: &str, body: &[u8]) -> Result<String> {
        let err = |e: ureq::Error| StoreError::new(format!("ClickHouse at {}: {e}", self.base));
        let mut response = self
            .agent
            .post(&self.base)
            .query("database", &self.database)
            .query("output_format_json_quote_64bit_integers", "0")
            .query("query", sql)
            .send(body)
            .map_err(err)?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .map_err(err)?;
        if !status.is_success() {
            return Err(StoreError::new(format!(
                "ClickHouse at {}: {}",
                self.base,
                text.trim()
            )));
        }
        Ok(text)
    }

    /// The rows of a `SELECT` (which must not say `FORMAT`), one JSON object each.
    fn rows<T: for<'de> Deserialize<'de>>(&self, sql: &str) -> Result<Vec<T>> {
        let text = self.run(&format!("{sql} FORMAT JSONEachRow"), b"")?;
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .map_err(|e| StoreError::new(format!("ClickHouse answered `{l}`: {e}")))
            })
            .collect()
    }

    /// The rows of a `SELECT … LIMIT` (which must not say `FORMAT`), and how many rows there
    /// were before the limit, when the server says (it counts them as it sorts: exact for a
    /// query that sorts, as the keyed search does).
    fn rows_before_limit<T: for<'de> Deserialize<'de>>(
        &self,
        sql: &str,
    ) -> Result<(Vec<T>, Option<u64>)> {
        #[derive(Deserialize)]
        struct Answer<T> {
            data: Vec<T>,
            rows_before_limit_at_least: Option<u64>,
        }
        let text = self.run(&format!("{sql} FORMAT JSON"), b"")?;
        let answer: Answer<T> = serde_json::from_str(&text)
            .map_err(|e| StoreError::new(format!("ClickHouse answered `{}`: {e}", text.trim())))?;
        Ok((answer.data, answer.rows_before_limit_at_least))
    }

    fn create(&self) -> Result<()> {
        // The database in the URL may not exist yet: create it from the default one.
        let mut client = self.clone();
        client.database = "default".into();
        client.run(
            &format!("CREATE DATABASE IF NOT EXISTS {}", self.database),
            b"",
        )?;
        self.run(&SCHEMA.replace("{db}", &self.database), b"")?;
        // Columns the server computes as it writes, added to tables made before them. 18.16
        // has no `ADD COLUMN IF NOT EXISTS`: look first, and let a racing explorer win.
        for (column, definition) in computed_columns() {
            let exists = || -> Result<bool> {
                let rows: Vec<Count> = self.rows(&format!(
                    "SELECT count() AS n FROM system.columns
                     WHERE database = {} AND table = 'spans' AND name = {}",
                    sql::literal(&self.database),
                    sql::literal(column)
                ))?;
                Ok(rows.first().is_some_and(|c| c.n > 0))
            };
            if !exists()? {
                let added = self.run(
                    &format!(
                        "ALTER TABLE {}.spans ADD COLUMN {column} {definition}",
                        self.database
                    ),
                    b"",
                );
                if added.is_err() && !exists()? {
                    added?;
                }
            }
        }
        Ok(())
    }
}

/// A span row as ClickHouse writes it out.
#[derive(Deserialize)]
struct Row {
    trace_id: String,
    span_id: String,
    parent_id: Option<String>,
    service: String,
    name: String,
    resource: String,
    kind: String,
    start_ns: i64,
    duration_ns: i64,
    error: u8,
    status_code: Option<i64>,
    #[serde(rename = "tags.key")]
    tag_keys: Vec<String>,
    #[serde(rename = "tags.value")]
    tag_values: Vec<String>,
}

impl From<Row> for Span {
    fn from(r: Row) -> Span {
        Span {
            trace_id: r.trace_id,
            span_id: r.span_id,
            parent_id: r.parent_id,
            service: r.service,
            name: r.name,
            resource: r.resource,
            kind: r.kind,
            start_ns: r.start_ns,
            duration_ns: r.duration_ns,
            error: r.error != 0,
            status_code: r.status_code,
            tags: r.tag_keys.into_iter().zip(r.tag_values).collect(),
        }
    }
}

/// Writes spans into ClickHouse; one per process, owned by the explorer's ingest thread.
#[derive(Debug)]
pub struct Writer {
    client: Client,
}

impl Writer {
    /// Connects to the store at `url` (`clickhouse://host:8123/database`), creating the
    /// database and table if needed.
    ///
    /// # Errors
    ///
    /// A bad URL, or the server failing or unreachable.
    pub fn connect(url: &str) -> Result<Self> {
        let client = Client::new(url)?;
        client.create()?;
        Ok(Writer { client })
    }

    fn count_where(&self, condition: &str) -> Result<u64> {
        #[derive(Deserialize)]
        struct N {
            n: u64,
        }
        let rows: Vec<N> = self
            .client
            .rows(&format!("SELECT count() AS n FROM spans WHERE {condition}"))?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    /// Deletes the spans that started before `cutoff_ns`; how many there were. ClickHouse
    /// carries the delete out in the background (a mutation).
    fn drop_before(&self, cutoff_ns: i64) -> Result<u64> {
        let condition = format!("start_ns < {cutoff_ns}");
        let n = self.count_where(&condition)?;
        if n > 0 {
            self.client
                .run(&format!("ALTER TABLE spans DELETE WHERE {condition}"), b"")?;
        }
        Ok(n)
    }
}

impl SpanWriter for Writer {
    fn insert(&mut self, spans: &[Span]) -> Result<()> {
        if spans.is_empty() {
            return Ok(());
        }
        // About 200 bytes a span: one allocation for most batches.
        let mut body = Vec::with_capacity(spans.len() * 256);
        let identity = IDENTITY_COLUMNS.map(|(attribute, _)| attribute);
        for span in spans {
            row_binary::encode(&mut body, span, identity);
        }
        self.client.run(
            &format!(
                "INSERT INTO spans ({}) FORMAT RowBinary",
                row_binary::COLUMNS
            ),
            &body,
        )?;
        Ok(())
    }

    /// ClickHouse writes (and later merges) one part per insert, half its ingest CPU in a
    /// profile: when many spans have queued up, fewer, bigger inserts (the queue's default is
    /// 100,000 spans).
    fn batch_spans(&self) -> usize {
        65_536
    }

    fn enforce(&mut self, retention: &Retention) -> Result<u64> {
        let mut dropped = 0;
        if let Some(age) = retention.max_age {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let cutoff = i64::try_from(now.saturating_sub(age).as_nanos()).unwrap_or(i64::MAX);
            dropped += self.drop_before(cutoff)?;
        }
        if let Some(max_bytes) = retention.max_bytes {
            #[derive(Deserialize)]
            struct Size {
                bytes: u64,
                spans: u64,
            }
            let size: Vec<Size> = self.client.rows(&format!(
                "SELECT sum(bytes) AS bytes, sum(rows) AS spans FROM system.parts
                 WHERE active AND database = {} AND table = 'spans'",
                sql::literal(&self.client.database)
            ))?;
            if let Some(size) = size.first().filter(|s| s.bytes > max_bytes && s.spans > 0) {
                // The oldest share of the spans that brings the store under the limit (a
                // twentieth at least): the delete runs in the background, so this is one
                // step per call; the next call measures again.
                let over = (size.bytes - max_bytes) as f64 / size.bytes as f64;
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let n = ((size.spans as f64 * over.max(0.05)).ceil() as u64).max(1);
                #[derive(Deserialize)]
                struct Start {
                    start_ns: i64,
                }
                let at: Vec<Start> = self.client.rows(&format!(
                    "SELECT start_ns FROM spans ORDER BY start_ns LIMIT 1 OFFSET {}",
                    n.min(size.spans) - 1
                ))?;
                if let Some(at) = at.first() {
                    dropped += self.drop_before(at.start_ns.saturating_add(1))?;
                }
            }
        }
        Ok(dropped)
    }
}

/// Reads a ClickHouse store for the explorer. Calls block: run them on a blocking thread.
#[derive(Debug)]
pub struct Store {
    client: Client,
}

impl Store {
    /// Connects to the store at `url` (`clickhouse://host:8123/database`), creating the
    /// database and table if needed, so that reads work before the first span arrives.
    ///
    /// # Errors
    ///
    /// A bad URL, or the server failing or unreachable.
    pub fn connect(url: &str) -> Result<Self> {
        let client = Client::new(url)?;
        client.create()?;
        Ok(Store { client })
    }
}

/// The query's condition, and `kind = 'server'` when asked.
fn condition(query: &Query, scope: Scope) -> String {
    let mut sql = sql::compile(query, scope.range);
    if scope.range != TimeRange::ALL {
        sql = format!("{} AND {sql}", scope.range.condition("start_ns"));
    }
    if scope.entry_only {
        sql = format!("kind = 'server' AND {sql}");
    }
    sql
}

#[derive(Deserialize)]
struct Count {
    n: u64,
}

impl Store {
    /// The newest `limit` spans that match `cond`, newest first, and how many match when the
    /// search counted them on the way. `subquery`: `cond` holds a `trace(…)` subquery.
    fn newest(&self, cond: &str, subquery: bool, limit: usize) -> Result<(Vec<Row>, Option<u64>)> {
        let order = "ORDER BY start_ns DESC, span_id DESC";
        if limit > KEYED_FETCH_LIMIT {
            let rows = self.client.rows(&format!(
                "SELECT {SPAN_COLUMNS} FROM spans WHERE {cond} {order} LIMIT {limit}"
            ))?;
            return Ok((rows, None));
        }
        if subquery {
            return self.newest_by_key(cond, limit);
        }
        // Sorting every match with its tags read costs seconds at millions of spans: find the
        // start instants of the newest `limit` matches from `start_ns` alone (counting the
        // matches as they are sorted, so no second scan counts them), then read the matches
        // that start at those instants, which the primary key finds in each (service, kind)
        // range. The newest `limit` by (start, span id) start at those instants whichever
        // of the tied the first step kept: the same answer as one sort. Reading `span_id`
        // too, to fetch by key, cost 80% more CPU (`@account.id:premium_*`, 300,000 matches
        // at 10M spans).
        #[derive(Deserialize)]
        struct Start {
            start_ns: i64,
        }
        let (starts, total): (Vec<Start>, _) = self.client.rows_before_limit(&format!(
            "SELECT start_ns FROM spans WHERE {cond} ORDER BY start_ns DESC LIMIT {limit}"
        ))?;
        if starts.is_empty() {
            return Ok((Vec::new(), Some(0)));
        }
        let mut instants: Vec<i64> = starts.iter().map(|s| s.start_ns).collect();
        instants.dedup();
        let instants: Vec<String> = instants.iter().map(i64::to_string).collect();
        let rows = self.client.rows(&format!(
            "SELECT {SPAN_COLUMNS} FROM spans WHERE start_ns IN ({}) AND {cond}
             {order} LIMIT {limit}",
            instants.join(", ")
        ))?;
        Ok((rows, Self::total(starts.len(), limit, total)))
    }

    /// Fewer matches than the limit are every match, whatever the server counted.
    fn total(found: usize, limit: usize, counted: Option<u64>) -> Option<u64> {
        if found < limit {
            Some(found as u64)
        } else {
            counted.filter(|&n| n >= found as u64)
        }
    }

    /// [`Store::newest`] for a condition with a subquery, which the second step does not
    /// run again: the newest matches' keys, then those rows read through the primary key.
    fn newest_by_key(&self, cond: &str, limit: usize) -> Result<(Vec<Row>, Option<u64>)> {
        let order = "ORDER BY start_ns DESC, span_id DESC";
        #[derive(Deserialize)]
        struct Key {
            service: String,
            kind: String,
            start_ns: i64,
            span_id: String,
        }
        let (keys, total): (Vec<Key>, _) = self.client.rows_before_limit(&format!(
            "SELECT service, kind, start_ns, span_id FROM spans WHERE {cond} {order} LIMIT {limit}"
        ))?;
        if keys.is_empty() {
            return Ok((Vec::new(), Some(0)));
        }
        let tuples: Vec<String> = keys
            .iter()
            .map(|k| {
                format!(
                    "({}, {}, {})",
                    sql::literal(&k.service),
                    sql::literal(&k.kind),
                    k.start_ns
                )
            })
            .collect();
        let ids: Vec<String> = keys.iter().map(|k| sql::literal(&k.span_id)).collect();
        let rows = self.client.rows(&format!(
            "SELECT {SPAN_COLUMNS} FROM spans
             WHERE (service, kind, start_ns) IN ({}) AND span_id IN ({})
             {order} LIMIT {limit}",
            tuples.join(", "),
            ids.join(", ")
        ))?;
        Ok((rows, Self::total(keys.len(), limit, total)))
    }
}

impl SpanStore for Store {
    fn search(&self, query: &Query, scope: Scope) -> Result<SearchResult> {
        let cond = condition(query, scope);
        let (rows, total) = self.newest(&cond, sql::has_subquery(query), scope.limit)?;
        let total = match total {
            Some(n) => n,
            None => self
                .client
                .rows::<Count>(&format!("SELECT count() AS n FROM spans WHERE {cond}"))?
                .first()
                .map_or(0, |c| c.n),
        };
        Ok(SearchResult {
            total,
            spans: rows.into_iter().map(Span::from).collect(),
        })
    }

    fn trace(&self, trace_id: &str) -> Result<Vec<Span>> {
        let rows: Vec<Row> = self.client.rows(&format!(
            "SELECT {SPAN_COLUMNS} FROM spans WHERE trace_id = {}
             ORDER BY start_ns, span_id",
            sql::literal(trace_id)
        ))?;
        Ok(rows.into_iter().map(Span::from).collect())
    }

    fn group_by(&self, query: &Query, key: &str, scope: Scope) -> Result<GroupByResult> {
        let key_sql = sql::group_key(key).map_err(StoreError::new)?;
        let cond = condition(query, scope);
        #[derive(Deserialize)]
        struct G {
            g: Option<String>,
            n: u64,
            errors: u64,
            p0: i64,
            p1: i64,
            p2: i64,
        }
        // Nearest rank, as `store::percentile` takes it: the ceil(p × n)-th smallest, computed
        // on the server (the durations stay there). `quantileExact(p)` answers the
        // (floor(p × n) + 1)-th, the same unless p × n is whole; then the level just below p
        // answers the (p × n)-th (for groups under 10^12 spans). Sorting the durations with
        // `arraySort` instead costs seconds at millions of spans.
        let levels = PERCENTILES
            .map(|p| format!("{p:?}, {:?}", p - 1e-12))
            .join(", ");
        let pick = |i: usize| {
            let p = PERCENTILES[i];
            format!(
                "if(ceil({p:?} * n) = {p:?} * n, q[{}], q[{}]) AS p{i}",
                2 * i + 2,
                2 * i + 1
            )
        };
        let rows: Vec<G> = self.client.rows(&format!(
            "SELECT g, n, errors, {}, {}, {}
             FROM (SELECT {key_sql} AS g, count() AS n, countIf(error = 1) AS errors,
                          quantilesExact({levels})(duration_ns) AS q
                   FROM spans WHERE {cond} GROUP BY g)",
            pick(0),
            pick(1),
            pick(2)
        ))?;
        let total = rows.iter().map(|g| g.n).sum();
        let group_count = rows.len();
        let mut groups: Vec<Group> = rows
            .into_iter()
            .map(|g| Group {
                value: g.g,
                count: g.n,
                errors: g.errors,
                #[allow(clippy::cast_precision_loss)]
                error_rate: g.errors as f64 / g.n as f64,
                p50_ns: g.p0,
                p95_ns: g.p1,
                p99_ns: g.p2,
            })
            .collect();
        aggregate::sort_groups(&mut groups);
        groups.truncate(scope.limit);
        Ok(GroupByResult {
            key: key.trim().trim_start_matches('@').into(),
            total,
            group_count,
            groups,
        })
    }

    fn impact(&self, query: &Query, scope: Scope) -> Result<Impact> {
        let cond = condition(query, scope);
        #[derive(Deserialize)]
        struct Hit {
            spans: u64,
            traces: u64,
        }
        let hit: Vec<Hit> = self.client.rows(&format!(
            "SELECT count() AS spans, uniqExact(trace_id) AS traces FROM spans WHERE {cond}"
        ))?;
        let (spans, traces) = hit.first().map_or((0, 0), |h| (h.spans, h.traces));
        #[derive(Deserialize)]
        struct Entry {
            trace_id: String,
            usr_id: Option<String>,
            account_id: Option<String>,
            session_id: Option<String>,
            start_ns: i64,
            role: Option<String>,
        }
        let entries: Vec<Entry> = self.client.rows(&format!(
            "SELECT trace_id, usr_id, account_id, session_id, start_ns,
                    usr_role AS role
             FROM spans
             WHERE kind = 'server' AND trace_id IN (SELECT trace_id FROM spans WHERE {cond})"
        ))?;
        Ok(aggregate::impact(
            spans,
            traces,
            entries.into_iter().map(|e| EntryIdentity {
                trace_id: e.trace_id,
                usr_id: e.usr_id,
                account_id: e.account_id,
                session_id: e.session_id,
                start_ns: e.start_ns,
                role: e.role,
            }),
            scope.limit,
        ))
    }

    fn endpoints(&self, window: usize, range: TimeRange) -> Result<Vec<Endpoint>> {
        #[derive(Deserialize)]
        struct E {
            service: String,
            resource: String,
            duration_ns: i64,
            error: u8,
        }
        let rows: Vec<E> = self.client.rows(&format!(
            "SELECT service, resource, duration_ns, error FROM spans
             WHERE kind = 'server' AND {} ORDER BY start_ns DESC LIMIT {window}",
            range.condition("start_ns")
        ))?;
        Ok(aggregate::endpoints(rows.into_iter().map(|e| {
            (e.service, e.resource, e.duration_ns, e.error != 0)
        })))
    }

    fn error_rows(
        &self,
        query: &Query,
        scope: Scope,
    ) -> Result<(Vec<ErrorRow>, Vec<EntryIdentity>)> {
        let cond = condition(query, scope);
        #[derive(Deserialize)]
        struct R {
            service: String,
            resource: String,
            kind: String,
            start_ns: i64,
            trace_id: String,
            status_code: Option<i64>,
            error_type: Option<String>,
            message: Option<String>,
        }
        let rows: Vec<R> = self.client.rows(&format!(
            "SELECT service, resource, kind, start_ns, trace_id, status_code,
                    ifNull({}, {}) AS error_type, ifNull({}, {}) AS message
             FROM spans WHERE {cond}",
            sql::tag_value(ERROR_TYPE_TAGS[0]),
            sql::tag_value(ERROR_TYPE_TAGS[1]),
            sql::tag_value(ERROR_MESSAGE_TAGS[0]),
            sql::tag_value(ERROR_MESSAGE_TAGS[1]),
        ))?;
        #[derive(Deserialize)]
        struct Entry {
            trace_id: String,
            usr_id: Option<String>,
            account_id: Option<String>,
            session_id: Option<String>,
            start_ns: i64,
        }
        let entries: Vec<Entry> = self.client.rows(&format!(
            "SELECT trace_id, usr_id, account_id, session_id, start_ns FROM spans
             WHERE kind = 'server' AND trace_id IN (SELECT trace_id FROM spans WHERE {cond})"
        ))?;
        Ok((
            rows.into_iter()
                .map(|r| ErrorRow {
                    service: r.service,
                    resource: r.resource,
                    kind: r.kind,
                    start_ns: r.start_ns,
                    trace_id: r.trace_id,
                    status_code: r.status_code,
                    error_type: r.error_type,
                    message: r.message,
                })
                .collect(),
            entries
                .into_iter()
                .map(|e| EntryIdentity {
                    trace_id: e.trace_id,
                    usr_id: e.usr_id,
                    account_id: e.account_id,
                    session_id: e.session_id,
                    start_ns: e.start_ns,
                    role: None,
                })
                .collect(),
        ))
    }

    fn value_counts(&self, query: &Query, key: &str, scope: Scope) -> Result<ValueCounts> {
        let key_sql = sql::group_key(key).map_err(StoreError::new)?;
        let cond = condition(query, scope);
        #[derive(Deserialize)]
        struct V {
            g: Option<String>,
            n: u64,
        }
        let rows: Vec<V> = self.client.rows(&format!(
            "SELECT {key_sql} AS g, count() AS n FROM spans WHERE {cond} GROUP BY g"
        ))?;
        let mut out = ValueCounts::default();
        for row in rows {
            out.total += row.n;
            if let Some(g) = row.g {
                out.counts.push((g, row.n));
            }
        }
        Ok(out)
    }

    /// Tag analysis with one `GROUP BY` per key that counts the baseline and, with
    /// `countIf`, the selection in the same scan, rather than the trait's two.
    ///
    /// # Errors
    ///
    /// A key that cannot name a tag, or ClickHouse failing.
    fn tag_analysis(
        &self,
        selection: &Query,
        baseline: &Query,
        keys: &[String],
        scope: Scope,
    ) -> Result<TagAnalysis> {
        #[derive(Deserialize)]
        struct V {
            g: Option<String>,
            n: u64,
            s: u64,
        }
        let base_cond = condition(baseline, scope);
        let selected = condition(&baseline.clone().and(selection.clone()), scope);
        let mut per_key = Vec::with_capacity(keys.len());
        for key in keys {
            let key_sql = sql::group_key(key).map_err(StoreError::new)?;
            let rows: Vec<V> = self.client.rows(&format!(
                "SELECT {key_sql} AS g, count() AS n, countIf({selected}) AS s \
                 FROM spans WHERE {base_cond} GROUP BY g"
            ))?;
            let (mut base, mut sel) = (ValueCounts::default(), ValueCounts::default());
            for row in rows {
                base.total += row.n;
                sel.total += row.s;
                if let Some(g) = row.g {
                    if row.s > 0 {
                        sel.counts.push((g.clone(), row.s));
                    }
                    base.counts.push((g, row.n));
                }
            }
            per_key.push((key.clone(), sel, base));
        }
        Ok(aggregate::tag_analysis(per_key, scope.limit))
    }

    fn count(&self) -> Result<u64> {
        let rows: Vec<Count> = self.client.rows("SELECT count() AS n FROM spans")?;
        Ok(rows.first().map_or(0, |c| c.n))
    }
}
