//! The span store: SQLite (the bundled library) in one file, WAL mode, written by one
//! background thread (the explorer's ingest, or the demo's in-process sink) and read by the
//! explorer ([`Store`]).
//!
//! # Schema
//!
//! `spans` has one row per span, with dedicated, indexed columns for what the seed queries
//! filter and group on: `service`, `kind`, `error`, `duration_ns`, `start_ns`, `trace_id`,
//! and the identity (`usr_id`, `account_id`, `session_id`, filled on service entry spans
//! only, since only they carry it). Every tag is kept as JSON in `tags` for display and
//! group-by on any tag; the tags without a column are also rows of `tags (key, value, span)`,
//! a `WITHOUT ROWID` table whose primary key is `(key, value, span)`, so `@usr.role:vip` is an
//! index seek. OpenTelemetry's bookkeeping (`otel.*`, `telemetry.*`: the same on all of a
//! service's spans) has no rows: a query on it reads the JSON ([`JSON_ONLY_PREFIXES`]).
//!
//! ```text
//! spans_trace       (trace_id, kind, usr_id,          trace waterfall; impacted users
//!                    account_id, session_id, start_ns) read from it alone
//! spans_start       (start_ns)                        newest first
//! spans_by_usr      (usr_id, kind, start_ns)          @usr.id:…       } only the spans with
//! spans_by_account  (account_id, kind, start_ns)      @account.id:…   } one (partial: `WHERE
//! spans_by_session  (session_id, kind, start_ns)      @session.id:…   }  … IS NOT NULL`)
//! spans_by_service  (service, kind, error, start_ns,  service:… status:error, and covering
//!                    duration_ns, usr_id, account_id,  for group-bys on usr.id, account.id…
//!                    trace_id)                         and the traces impacted users reads
//! spans_by_duration (duration_ns, kind, start_ns)     @duration:>5s
//! ```
//!
//! Every index has `kind` and `start_ns` after its key, so that counting the matches and
//! picking the newest 50 (`kind = 'server'` is the explorer's default) read the index only;
//! the 50 rows are fetched afterwards. The group-by of the seed questions (failing payments
//! by user or account) reads `spans_by_service` alone.
//!
//! # Writing
//!
//! Every index is written on every insert, so there are no more than the queries need: the
//! identity indexes leave out the spans without an identity (most spans: it is on entry spans
//! only; a condition on the column, `= ?`, `>= ?`, `IS NOT NULL`, implies the index's), and
//! `tags` has no index on `span` (retention finds a span's rows from its JSON). A batch is one
//! transaction, its tag rows inserted in key order and many rows to a statement, and the WAL
//! is copied into the file by a thread of its own (`Checkpointer`). The spans' tags JSON comes
//! serialised from the threads that submitted them ([`SpanWriter::encoder`]).

mod sql;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::aggregate::{self, EntryIdentity};
use super::{
    ERROR_MESSAGE_TAGS, ERROR_TYPE_TAGS, Encoder, Endpoint, ErrorRow, Group, GroupByResult, Impact,
    Result, Retention, Scope, SearchResult, Span, SpanStore, SpanWriter, StoreError, TagAnalysis,
    TimeRange, ValueCounts, stats,
};
use crate::query::Query;
use sql::{GroupKey, group_key};
use usertrail_propagator::{ACCOUNT_ID_ATTRIBUTE, SESSION_ID_ATTRIBUTE, USER_ID_ATTRIBUTE};

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) {
            return StoreError::new(format!(
                "the query ran longer than its budget ({} s) and was cancelled: narrow it (a service, a time, a user)",
                QUERY_BUDGET.as_secs()
            ));
        }
        StoreError::new(format!("span store: {e}"))
    }
}

/// Spans deleted per transaction when enforcing retention by age.
const RETENTION_CHUNK: u64 = 10_000;

/// The identity attributes and their columns of `spans` (filled on entry spans only), the
/// one place that maps them.
const IDENTITY_COLUMNS: [(&str, &str); 3] = [
    (USER_ID_ATTRIBUTE, "s.usr_id"),
    (ACCOUNT_ID_ATTRIBUTE, "s.account_id"),
    (SESSION_ID_ATTRIBUTE, "s.session_id"),
];

/// The identity column of an attribute, if it has one.
fn identity_column(attribute: &str) -> Option<&'static str> {
    IDENTITY_COLUMNS
        .iter()
        .find(|(a, _)| *a == attribute)
        .map(|(_, column)| *column)
}

/// Tags kept as columns of `spans` (and in the JSON), not as rows of `tags`, besides the
/// identity.
const COLUMN_TAGS: &[&str] = &["http.response.status_code", "error", "duration_ms"];

/// Prefixes of the tags kept in the span's JSON only, not as rows of `tags`: OpenTelemetry's
/// bookkeeping (`otel.kind`, `telemetry.sdk.language`), the same on all of a service's spans
/// (or, for `otel.kind`, a few values), so rows of them would narrow no search down. They were
/// two of the five rows of `ingest_throughput`'s average span, each row b-tree work for the one
/// writer thread. A query on one reads it from the JSON: the same answer, found by a scan.
const JSON_ONLY_PREFIXES: &[&str] = &["otel.", "telemetry."];

/// Whether `key` is a tag kept in the JSON only (see [`JSON_ONLY_PREFIXES`]); a key that a
/// JSON path cannot quote (`"`, `\`, a control character or space) has rows still.
fn json_only_tag(key: &str) -> bool {
    JSON_ONLY_PREFIXES.iter().any(|p| key.starts_with(p))
        && !key
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\' || c.is_whitespace())
}

/// Whether a span's `key` tag is also a row of `tags`. (A store written before a key was kept
/// in the JSON only may still have rows of it: they are never read, and retention deletes them
/// with their spans.)
fn has_tag_rows(key: &str) -> bool {
    !COLUMN_TAGS.contains(&key) && identity_column(key).is_none() && !json_only_tag(key)
}

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
-- A trace's spans, and with the identity of its entry spans at hand: who a query's traces
-- hurt is read from this index alone (see `impact`).
CREATE INDEX IF NOT EXISTS spans_trace
    ON spans (trace_id, kind, usr_id, account_id, session_id, start_ns);
CREATE INDEX IF NOT EXISTS spans_start ON spans (start_ns);
CREATE INDEX IF NOT EXISTS spans_by_usr ON spans (usr_id, kind, start_ns)
    WHERE usr_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS spans_by_account ON spans (account_id, kind, start_ns)
    WHERE account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS spans_by_session ON spans (session_id, kind, start_ns)
    WHERE session_id IS NOT NULL;
-- `trace_id` last: the traces a query on these columns hit are read from the index alone.
CREATE INDEX IF NOT EXISTS spans_by_service
    ON spans (service, kind, error, start_ns, duration_ns, usr_id, account_id, trace_id);
CREATE INDEX IF NOT EXISTS spans_by_duration ON spans (duration_ns, kind, start_ns);
";

/// Drops what older stores have and this schema does not: `tags_span`, the identity indexes
/// from before they were partial, and `spans_trace` and `spans_by_service` from before they
/// held what `impact` reads (`SCHEMA` creates them again).
fn migrate(conn: &Connection) -> Result<()> {
    let stale: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND (name = 'tags_span'
                 OR (name IN ('spans_by_usr', 'spans_by_account', 'spans_by_session')
                     AND sql NOT LIKE '%WHERE%')
                 OR (name = 'spans_trace' AND sql NOT LIKE '%session_id%')
                 OR (name = 'spans_by_service' AND sql NOT LIKE '%trace_id%'))",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for name in stale {
        conn.execute_batch(&format!("DROP INDEX {name}"))?;
    }
    Ok(())
}

/// WAL with `NORMAL` sync (a commit survives the process, see the kill test), and the whole
/// file memory-mapped up to 64 GiB (the build raises SQLite's cap, `.cargo/config.toml`): a
/// read is then a memory access of the page cache, not a `pread` and a copy; the map is
/// address space, not memory the process holds.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;
         PRAGMA mmap_size = 68719476736;",
    )?;
    Ok(())
}

/// WAL pages past which the writer checkpoints itself, should the [`Checkpointer`] fall behind
/// (256 MiB of 4 KiB pages).
const WRITER_CHECKPOINT_PAGES: u32 = 65_536;
/// How long the [`Checkpointer`] lets commits gather between checkpoints.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies the WAL into the main file on a thread of its own, so that commits never wait for
/// it. (SQLite's default, a checkpoint by the committing connection every 1,000 pages, made
/// every few batches wait for the copy and its fsync: it took about half the writer's time.)
/// Checkpoints are passive and at most every [`CHECKPOINT_EVERY`]: a page that several commits
/// wrote in between is copied once.
#[derive(Debug)]
struct Checkpointer {
    commits: Option<SyncSender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        let (commits, rx) = sync_channel::<()>(1);
        let thread = thread::Builder::new()
            .name("checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // Until a wait sees no commit.
                    loop {
                        if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                            eprintln!("usertrail-explorer: checkpoint: {e}");
                        }
                        let until = Instant::now() + CHECKPOINT_EVERY;
                        let mut more = false;
                        loop {
                            let left = until.saturating_duration_since(Instant::now());
                            match rx.recv_timeout(left) {
                                Ok(()) => more = true,
                                Err(RecvTimeoutError::Timeout) => break,
                                Err(RecvTimeoutError::Disconnected) => return,
                            }
                        }
                        if !more {
                            break;
                        }
                    }
                }
            })
            .map_err(|e| StoreError::new(format!("checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            commits: Some(commits),
            thread: Some(thread),
        })
    }

    /// Says that a commit added to the WAL (never waits).
    fn committed(&self) {
        if let Some(commits) = &self.commits {
            let _ = commits.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.commits.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Spans per `INSERT` statement (15 parameters each, within SQLite's 32,766): one statement
/// for many rows saves most of the per-statement work.
const SPANS_PER_INSERT: usize = 64;
/// Tag rows per `INSERT` statement (3 parameters each).
const TAG_ROWS_PER_INSERT: usize = 256;

// OR FAIL, not the default ABORT: a statement that may abort halfway through many rows needs a
// statement journal (SQLite copies every page it changes there first: 2.5% of the writer's
// instructions under callgrind); a failure rolls the whole transaction back anyway.
const SPAN_INSERT: &str =
    "INSERT OR FAIL INTO spans (trace_id, span_id, parent_id, service, name, resource, kind,
     start_ns, duration_ns, error, status_code, usr_id, account_id, session_id, tags) VALUES ";
const TAG_INSERT: &str = "INSERT OR IGNORE INTO tags (key, value, span) VALUES ";

/// `items` in chunks of `size`, then the rest one by one: two statements per table in the
/// statement cache, rather than one per chunk length (which made it drop and prepare again).
fn statement_chunks<T>(items: &[T], size: usize) -> impl Iterator<Item = &[T]> {
    let whole = items.len() / size * size;
    items[..whole].chunks(size).chain(items[whole..].chunks(1))
}

/// `insert` (ending in `VALUES `) with `rows` rows of `columns` placeholders.
fn insert_sql(insert: &str, columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(","));
    format!("{insert}{}", vec![row; rows].join(","))
}

/// A batch's tag rows by (key, value): the ids of the spans that have it, ascending.
type TagGroups<'a> = HashMap<(&'a str, &'a str), Vec<i64>, foldhash::fast::RandomState>;

/// Writes spans; one per process, owned by one writer thread (or a test).
#[derive(Debug)]
pub struct Writer {
    conn: Connection,
    path: std::path::PathBuf,
    /// Started with the first insert (a [`Store`] opens a writer only to create the schema).
    checkpointer: Option<Checkpointer>,
}

impl Writer {
    /// Opens (and creates) the store at `path`.
    ///
    /// # Errors
    ///
    /// When SQLite cannot open or set up the file.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        // Before the first table exists (afterwards it cannot change): lets retention give
        // freed pages back to the file system.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
        configure(&conn)?;
        // The WAL grows between checkpoints; once reset, it is cut back to 64 MiB.
        conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES};
             PRAGMA journal_size_limit = 67108864;"
        ))?;
        migrate(&conn)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Writer {
            conn,
            path: path.to_owned(),
            checkpointer: None,
        })
    }

    /// Deletes the oldest `limit` spans matching `condition` (with `?1` bound to `value`),
    /// their tag rows too; how many went.
    fn drop_where(&mut self, condition: &str, value: i64, limit: u64) -> Result<u64> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DROP TABLE IF EXISTS temp.gone; CREATE TEMP TABLE gone (id INTEGER PRIMARY KEY);",
        )?;
        let n = tx.execute(
            &format!(
                "INSERT INTO temp.gone SELECT s.id FROM spans s WHERE {condition} ORDER BY s.start_ns LIMIT {limit}"
            ),
            [value],
        )?;
        // A span's tag rows are found by their whole key (the table's primary key), from the
        // span's JSON, which has every tag (those kept as columns have no row, and deleting
        // them finds nothing): no index on `tags (span)` to maintain on every insert.
        tx.execute_batch(
            "DELETE FROM tags WHERE (key, value, span) IN (
                 SELECT j.key, j.value, s.id FROM temp.gone g JOIN spans s ON s.id = g.id,
                     json_each(s.tags) j);
             DELETE FROM spans WHERE id IN (SELECT id FROM temp.gone);
             DROP TABLE temp.gone;",
        )?;
        tx.commit()?;
        Ok(n as u64)
    }

    /// The bytes the store's pages hold (the file's size less its free pages).
    fn used_bytes(&self) -> Result<u64> {
        let pragma = |name: &str| -> Result<i64> {
            Ok(self
                .conn
                .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?)
        };
        let used = (pragma("page_count")? - pragma("freelist_count")?) * pragma("page_size")?;
        Ok(u64::try_from(used).unwrap_or(0))
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

/// A span's tags as the `tags` column holds them.
fn tags_json(span: &Span) -> String {
    serde_json::to_string(&span.tags).unwrap_or_else(|_| "{}".into())
}

impl SpanWriter for Writer {
    fn insert(&mut self, spans: &[Span]) -> Result<()> {
        let encoded: Vec<String> = spans.iter().map(tags_json).collect();
        self.insert_encoded(spans, &encoded)
    }

    /// The tags JSON: 5% of the writer's instructions when it serialised it itself.
    fn encoder(&self) -> Option<Encoder> {
        Some(tags_json)
    }

    fn insert_encoded(&mut self, spans: &[Span], encoded: &[String]) -> Result<()> {
        if encoded.len() != spans.len() {
            return self.insert(spans);
        }
        let tx = self.conn.transaction()?;
        {
            // The batch's tag rows, inserted in key order after its spans: each insert lands
            // beside the one before (the pages are at hand), and one statement takes many rows.
            // Gathered per (key, value), each one's spans in id order as they come: sorting
            // only the distinct pairs, not every row, which took 6.5% of the writer's
            // instructions (string comparisons).
            let mut tag_groups: TagGroups<'_> = HashMap::default();
            // Looked up once a batch, not once a chunk: building the SQL to look it up, and
            // the cache clearing every binding on its return, took 6% of the writer's time.
            let mut whole = tx.prepare_cached(&insert_sql(SPAN_INSERT, 15, SPANS_PER_INSERT))?;
            let mut one = tx.prepare_cached(&insert_sql(SPAN_INSERT, 15, 1))?;
            let mut jsons = statement_chunks(encoded, SPANS_PER_INSERT);
            for chunk in statement_chunks(spans, SPANS_PER_INSERT) {
                let stmt = if chunk.len() == SPANS_PER_INSERT {
                    &mut whole
                } else {
                    &mut one
                };
                // The same chunking of a slice as long as `spans`.
                let jsons = jsons.next().unwrap_or_default();
                let identities: Vec<[Option<&String>; 3]> = chunk
                    .iter()
                    .map(|s| IDENTITY_COLUMNS.map(|(attribute, _)| s.tags.get(attribute)))
                    .collect();
                let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * 15);
                for ((span, tags), identity) in chunk.iter().zip(jsons).zip(&identities) {
                    values.extend_from_slice(&[
                        &span.trace_id,
                        &span.span_id,
                        &span.parent_id,
                        &span.service,
                        &span.name,
                        &span.resource,
                        &span.kind,
                        &span.start_ns,
                        &span.duration_ns,
                        &span.error,
                        &span.status_code,
                        &identity[0],
                        &identity[1],
                        &identity[2],
                        tags,
                    ]);
                }
                stmt.execute(values.as_slice())?;
                // The rows of one INSERT get consecutive ids (each the largest yet plus one).
                let first = tx.last_insert_rowid() + 1 - chunk.len() as i64;
                for (span, id) in chunk.iter().zip(first..) {
                    for (key, value) in &span.tags {
                        if has_tag_rows(key) {
                            tag_groups
                                .entry((key.as_str(), value.as_str()))
                                .or_default()
                                .push(id);
                        }
                    }
                }
            }
            let mut pairs: Vec<_> = tag_groups.into_iter().collect();
            pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let tag_rows: Vec<(&str, &str, i64)> = pairs
                .iter()
                .flat_map(|((key, value), ids)| ids.iter().map(|id| (*key, *value, *id)))
                .collect();
            let mut whole = tx.prepare_cached(&insert_sql(TAG_INSERT, 3, TAG_ROWS_PER_INSERT))?;
            let mut one = tx.prepare_cached(&insert_sql(TAG_INSERT, 3, 1))?;
            for chunk in statement_chunks(&tag_rows, TAG_ROWS_PER_INSERT) {
                let stmt = if chunk.len() == TAG_ROWS_PER_INSERT {
                    &mut whole
                } else {
                    &mut one
                };
                let values = chunk.iter().flat_map(|(key, value, span)| {
                    [
                        rusqlite::types::ToSqlOutput::from(*key),
                        rusqlite::types::ToSqlOutput::from(*value),
                        rusqlite::types::ToSqlOutput::from(*span),
                    ]
                });
                stmt.execute(params_from_iter(values))?;
            }
        }
        tx.commit()?;
        if self.checkpointer.is_none() {
            self.checkpointer = Some(Checkpointer::start(&self.path)?);
        }
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.committed();
        }
        Ok(())
    }

    fn enforce(&mut self, retention: &Retention) -> Result<u64> {
        let mut dropped = 0;
        if let Some(age) = retention.max_age {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let cutoff = i64::try_from(now.saturating_sub(age).as_nanos()).unwrap_or(i64::MAX);
            loop {
                let n = self.drop_where("s.start_ns < ?1", cutoff, RETENTION_CHUNK)?;
                dropped += n;
                if n < RETENTION_CHUNK {
                    break;
                }
            }
        }
        if let Some(max_bytes) = retention.max_bytes {
            while self.used_bytes()? > max_bytes {
                let spans: i64 = self
                    .conn
                    .query_row("SELECT count(*) FROM spans", [], |r| r.get(0))?;
                if spans == 0 {
                    break;
                }
                // A twentieth at a time: each round frees pages, then the size is measured again.
                let chunk = u64::try_from(spans / 20).unwrap_or(0).max(100);
                dropped += self.drop_where("1 = ?1", 1, chunk)?;
            }
        }
        if dropped > 0 {
            // Gives the freed pages back to the file system (the file was created with
            // auto_vacuum = INCREMENTAL; without it the file keeps its size and reuses them),
            // and the checkpoint makes the main file and the WAL shrink now.
            // Each step of incremental_vacuum frees some pages: step it to the end.
            let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum")?;
            let mut rows = stmt.query([])?;
            while rows.next()?.is_some() {}
            drop(rows);
            drop(stmt);
            self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        }
        Ok(dropped)
    }
}

/// Reads the store for the explorer. Queries are synchronous: call them from a blocking
/// thread (`tokio::task::spawn_blocking`).
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    /// When the running query must stop, in ms after `epoch` (checked by SQLite's progress
    /// handler).
    deadline_ms: Arc<AtomicU64>,
    epoch: Instant,
    budget: Duration,
}

/// How long one explorer query may run before it is cancelled.
pub const QUERY_BUDGET: Duration = Duration::from_secs(10);

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
    let sql = sql::compile(query, scope.range);
    let mut text = sql.text;
    if scope.range != TimeRange::ALL {
        text = format!("{} AND {text}", scope.range.condition("s.start_ns"));
    }
    if scope.entry_only {
        text = format!("s.kind = 'server' AND {text}");
    }
    (text, sql.params)
}

/// A group-by key's value as text (`None`: the span has no such tag).
fn value_text(value: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Blob(_) => Some("(binary)".into()),
    }
}

/// `SELECT <key>, <columns> FROM spans s WHERE <query and scope><tail>` and its parameters
/// in order: the one preamble of [`SpanStore::group_by`] and [`SpanStore::value_counts`].
fn keyed_select(
    query: &Query,
    key: &str,
    scope: Scope,
    columns: &str,
    tail: &str,
) -> Result<(String, Vec<rusqlite::types::Value>)> {
    let GroupKey {
        text: key_sql,
        params: mut all,
        ..
    } = group_key(key).map_err(StoreError::new)?;
    let (cond, params) = condition(query, scope);
    all.extend(params);
    Ok((
        format!("SELECT {key_sql}, {columns} FROM spans s WHERE {cond}{tail}"),
        all,
    ))
}

/// Per value of one key of a tag analysis: its baseline and selection spans. (foldhash: with
/// the default SipHash, the lookups took a fifth of a day's analysis.)
type ValueTally = HashMap<String, (u64, u64), foldhash::fast::RandomState>;

/// Adds one span to `tally` (a `NULL` value: the span has no such tag, not counted).
fn tally_value(tally: &mut ValueTally, value: rusqlite::types::ValueRef<'_>, selected: bool) {
    let counts = match value {
        rusqlite::types::ValueRef::Null => return,
        // The common case, looked up without allocating.
        rusqlite::types::ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(text) => {
                if let Some(counts) = tally.get_mut(text) {
                    counts
                } else {
                    tally.entry(text.to_owned()).or_default()
                }
            }
            Err(_) => tally
                .entry(String::from_utf8_lossy(t).into_owned())
                .or_default(),
        },
        other => match value_text(other) {
            Some(text) => tally.entry(text).or_default(),
            None => return,
        },
    };
    counts.0 += 1;
    counts.1 += u64::from(selected);
}

impl Store {
    /// Opens the store at `path` for reading (creating it if needed).
    ///
    /// # Errors
    ///
    /// When SQLite cannot open the file.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_budget(path, QUERY_BUDGET)
    }

    /// [`open`](Self::open), with queries cancelled after `budget` rather than
    /// [`QUERY_BUDGET`].
    ///
    /// # Errors
    ///
    /// When SQLite cannot open the file.
    pub fn open_with_budget(path: &Path, budget: Duration) -> Result<Self> {
        // Creates the schema, so that reads work before the first span arrives.
        drop(Writer::open(path)?);
        let conn = Connection::open(path)?;
        configure(&conn)?;
        let epoch = Instant::now();
        let deadline_ms = Arc::new(AtomicU64::new(u64::MAX));
        let deadline = Arc::clone(&deadline_ms);
        // Every 10,000 virtual machine steps: a query past its deadline is interrupted.
        conn.progress_handler(
            10_000,
            Some(move || {
                let now = u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
                now > deadline.load(Ordering::Relaxed)
            }),
        )?;
        Ok(Store {
            conn: Mutex::new(conn),
            deadline_ms,
            epoch,
            budget,
        })
    }

    /// The connection, for one query within the budget.
    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let deadline = (self.epoch.elapsed() + self.budget).as_millis();
        self.deadline_ms.store(
            u64::try_from(deadline).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        conn
    }
}

impl SpanStore for Store {
    /// The spans matching `query`, newest first.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    fn search(&self, query: &Query, scope: Scope) -> Result<SearchResult> {
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
    fn trace(&self, trace_id: &str) -> Result<Vec<Span>> {
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
    fn group_by(&self, query: &Query, key: &str, scope: Scope) -> Result<GroupByResult> {
        let (select, params) = keyed_select(query, key, scope, "s.duration_ns, s.error", "")?;
        let conn = self.conn();
        let mut stmt = conn.prepare(&select)?;
        let mut groups: HashMap<Option<String>, (Vec<i64>, u64)> = HashMap::new();
        let mut rows = stmt.query(params_from_iter(params.iter()))?;
        let mut total = 0u64;
        while let Some(row) = rows.next()? {
            let value = value_text(row.get_ref(0)?);
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
        aggregate::sort_groups(&mut out);
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
    fn impact(&self, query: &Query, scope: Scope) -> Result<Impact> {
        let (cond, params) = condition(query, scope);
        let conn = self.conn();
        conn.execute_batch(
            "DROP TABLE IF EXISTS temp.hit;
             CREATE TEMP TABLE hit (trace_id TEXT PRIMARY KEY, spans INTEGER NOT NULL) WITHOUT ROWID;",
        )?;
        // `+` keeps `spans_trace` from giving the GROUP BY its order: with it, SQLite would
        // walk the whole index (every span) rather than seek the query's own index and sort
        // what matched (10M spans: 1.4 s against a few ms for 40,000 hits).
        let traces = conn.execute(
            &format!(
                "INSERT INTO temp.hit SELECT s.trace_id, count(*) FROM spans s WHERE {cond} GROUP BY +s.trace_id"
            ),
            params_from_iter(params.iter()),
        )?;
        let matched: i64 =
            conn.query_row("SELECT coalesce(sum(spans), 0) FROM temp.hit", [], |r| {
                r.get(0)
            })?;
        // CROSS JOIN keeps the hit traces outside: each is a seek on `spans_trace`, which
        // holds every column read here, so no span row is read. The roles, which only the
        // row's tags hold, are read after, for the users shown only.
        let mut stmt = conn.prepare(
            "SELECT e.trace_id, e.usr_id, e.account_id, e.session_id, e.start_ns
             FROM temp.hit h CROSS JOIN spans e ON e.trace_id = h.trace_id
             WHERE e.kind = 'server'",
        )?;
        let mut entries = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            entries.push(EntryIdentity {
                trace_id: row.get(0)?,
                usr_id: row.get(1)?,
                account_id: row.get(2)?,
                session_id: row.get(3)?,
                start_ns: row.get(4)?,
                role: None,
            });
        }
        drop(rows);
        drop(stmt);
        let mut impact = aggregate::impact(
            matched.try_into().unwrap_or(0),
            traces as u64,
            entries,
            scope.limit,
        );
        // The user's entry spans newest first (`spans_by_usr`), up to the first one of a hit
        // trace with a role: the rule `aggregate::impact` applies to the roles it is given.
        // `+` keeps SQLite from seeking every hit trace in `spans_trace` for each user.
        let mut role = conn.prepare(
            "SELECT json_extract(e.tags, '$.\"usr.role\"') FROM spans e
             WHERE e.usr_id = ?1 AND e.kind = 'server' AND e.account_id IS ?2
               AND +e.trace_id IN (SELECT trace_id FROM temp.hit)
               AND json_extract(e.tags, '$.\"usr.role\"') IS NOT NULL
             ORDER BY e.start_ns DESC LIMIT 1",
        )?;
        for user in &mut impact.users {
            user.role = role
                .query_row((&user.usr_id, &user.account_id), |r| r.get(0))
                .optional()?;
        }
        drop(role);
        conn.execute_batch("DROP TABLE IF EXISTS temp.hit")?;
        Ok(impact)
    }

    /// Every endpoint (service and resource of entry spans) over the last `window` entry
    /// spans: requests, errors and latency, the most failing first.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    fn endpoints(&self, window: usize, range: TimeRange) -> Result<Vec<Endpoint>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT s.service, s.resource, s.duration_ns, s.error FROM spans s
             WHERE s.kind = 'server' AND {} ORDER BY s.start_ns DESC LIMIT ?1",
            range.condition("s.start_ns")
        ))?;
        let mut rows = stmt.query([i64::try_from(window).unwrap_or(i64::MAX)])?;
        let mut recent = Vec::new();
        while let Some(row) = rows.next()? {
            recent.push((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?));
        }
        Ok(aggregate::endpoints(recent))
    }

    /// The failed spans matching `query` with their error type and message, and the
    /// identity on the entry spans of their traces (each hit trace a seek on `spans_trace`).
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    fn error_rows(
        &self,
        query: &Query,
        scope: Scope,
    ) -> Result<(Vec<ErrorRow>, Vec<EntryIdentity>)> {
        let (mut cond, params) = condition(query, scope);
        // Failed spans are few: found in an index when one holds the query's columns, only
        // their rows are read (not every row, for its `error`).
        if query.expr().is_none_or(sql::index_only) {
            cond = format!("s.id IN (SELECT s.id FROM spans s WHERE {cond})");
        }
        let tag = |key: &str| format!("json_extract(s.tags, '$.\"{key}\"')");
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT s.service, s.resource, s.kind, s.start_ns, s.trace_id, s.status_code,
                    coalesce({}, {}), coalesce({}, {})
             FROM spans s WHERE {cond}",
            tag(ERROR_TYPE_TAGS[0]),
            tag(ERROR_TYPE_TAGS[1]),
            tag(ERROR_MESSAGE_TAGS[0]),
            tag(ERROR_MESSAGE_TAGS[1]),
        ))?;
        let rows = stmt
            .query_map(params_from_iter(params.iter()), |r| {
                Ok(ErrorRow {
                    service: r.get(0)?,
                    resource: r.get(1)?,
                    kind: r.get(2)?,
                    start_ns: r.get(3)?,
                    trace_id: r.get(4)?,
                    status_code: r.get(5)?,
                    error_type: value_text(r.get_ref(6)?),
                    message: value_text(r.get_ref(7)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        conn.execute_batch(
            "DROP TABLE IF EXISTS temp.hit;
             CREATE TEMP TABLE hit (trace_id TEXT PRIMARY KEY, spans INTEGER NOT NULL) WITHOUT ROWID;",
        )?;
        {
            let mut insert = conn.prepare("INSERT OR IGNORE INTO temp.hit VALUES (?1, 0)")?;
            for row in &rows {
                insert.execute([&row.trace_id])?;
            }
        }
        let mut stmt = conn.prepare(
            "SELECT e.trace_id, e.usr_id, e.account_id, e.session_id, e.start_ns
             FROM temp.hit h CROSS JOIN spans e ON e.trace_id = h.trace_id
             WHERE e.kind = 'server'",
        )?;
        let entries = stmt
            .query_map([], |r| {
                Ok(EntryIdentity {
                    trace_id: r.get(0)?,
                    usr_id: r.get(1)?,
                    account_id: r.get(2)?,
                    session_id: r.get(3)?,
                    start_ns: r.get(4)?,
                    role: None,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        conn.execute_batch("DROP TABLE IF EXISTS temp.hit")?;
        Ok((rows, entries))
    }

    /// Per value of `key`, the spans matching `query` that have it: one `GROUP BY`, which
    /// reads an index alone for the identity columns and `service`. (A tag without a column
    /// is read from each span's JSON: counting it from the `tags` rows instead measured
    /// slower in `store_1m`, since those rows cannot be narrowed to the time range first.)
    ///
    /// # Errors
    ///
    /// A bad key, or SQLite failing.
    fn value_counts(&self, query: &Query, key: &str, scope: Scope) -> Result<ValueCounts> {
        let (select, params) = keyed_select(query, key, scope, "count(*)", " GROUP BY 1")?;
        let conn = self.conn();
        let mut stmt = conn.prepare(&select)?;
        let mut rows = stmt.query(params_from_iter(params.iter()))?;
        let mut out = ValueCounts::default();
        while let Some(row) = rows.next()? {
            let n: i64 = row.get(1)?;
            let n = u64::try_from(n).unwrap_or(0);
            out.total += n;
            if let Some(value) = value_text(row.get_ref(0)?) {
                out.counts.push((value, n));
            }
        }
        Ok(out)
    }

    /// Tag analysis in one pass over the baseline's spans: every key's value of each, and
    /// whether it is also in the selection (the selection compiled as a condition on the same
    /// rows), rather than two `GROUP BY`s per key. A tag with rows in `tags` is counted from
    /// them, for the spans of that pass: reading it from each span's JSON took a third of
    /// the time. The same result as the trait's default.
    ///
    /// # Errors
    ///
    /// A bad key, or SQLite failing.
    fn tag_analysis(
        &self,
        selection: &Query,
        baseline: &Query,
        keys: &[String],
        scope: Scope,
    ) -> Result<TagAnalysis> {
        if keys.is_empty() {
            return Ok(aggregate::tag_analysis(Vec::new(), scope.limit));
        }
        // `s.id`, one column per key (NULL for those counted from tag rows), the selection.
        let mut columns = vec!["s.id".to_owned()];
        let mut params = Vec::new();
        let mut from_rows = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let key = group_key(key).map_err(StoreError::new)?;
            match key.tag {
                Some(tag) if has_tag_rows(&tag) => {
                    from_rows.push((i, tag));
                    columns.push("NULL".into());
                }
                _ => {
                    columns.push(key.text);
                    params.extend(key.params);
                }
            }
        }
        // CASE, as WHERE would: a NULL condition does not select the span.
        let selected = sql::compile(selection, scope.range);
        columns.push(format!("CASE WHEN {} THEN 1 ELSE 0 END", selected.text));
        params.extend(selected.params);
        let (cond, cond_params) = condition(baseline, scope);
        params.extend(cond_params);
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {} FROM spans s WHERE {cond}",
            columns.join(", ")
        ))?;
        let mut rows = stmt.query(params_from_iter(params.iter()))?;
        let mut tallies: Vec<ValueTally> = vec![ValueTally::default(); keys.len()];
        // The spans of the pass and whether selected, for the keys counted from tag rows.
        let mut spans: Vec<(i64, bool)> = Vec::new();
        let (mut baseline_total, mut selection_total) = (0u64, 0u64);
        while let Some(row) = rows.next()? {
            let selected = row.get::<_, i64>(keys.len() + 1)? == 1;
            baseline_total += 1;
            selection_total += u64::from(selected);
            if !from_rows.is_empty() {
                spans.push((row.get(0)?, selected));
            }
            for (i, tally) in tallies.iter_mut().enumerate() {
                tally_value(tally, row.get_ref(i + 1)?, selected);
            }
        }
        drop(rows);
        drop(stmt);
        spans.sort_unstable();
        for (i, tag) in from_rows {
            let mut stmt = conn.prepare_cached("SELECT value, span FROM tags WHERE key = ?1")?;
            let mut rows = stmt.query([&tag])?;
            while let Some(row) = rows.next()? {
                let span: i64 = row.get(1)?;
                if let Ok(at) = spans.binary_search_by_key(&span, |(id, _)| *id) {
                    tally_value(&mut tallies[i], row.get_ref(0)?, spans[at].1);
                }
            }
        }
        let per_key = keys
            .iter()
            .zip(tallies)
            .map(|(key, tally)| {
                let mut selection = ValueCounts {
                    total: selection_total,
                    counts: Vec::new(),
                };
                let mut base = ValueCounts {
                    total: baseline_total,
                    counts: Vec::with_capacity(tally.len()),
                };
                for (value, (in_baseline, in_selection)) in tally {
                    if in_selection > 0 {
                        selection.counts.push((value.clone(), in_selection));
                    }
                    base.counts.push((value, in_baseline));
                }
                (key.clone(), selection, base)
            })
            .collect();
        Ok(aggregate::tag_analysis(per_key, scope.limit))
    }

    /// How many spans are stored.
    ///
    /// # Errors
    ///
    /// When SQLite fails.
    fn count(&self) -> Result<u64> {
        let n: Option<i64> = self
            .conn()
            .query_row("SELECT max(id) FROM spans", [], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(n.unwrap_or(0).try_into().unwrap_or(0))
    }
}
