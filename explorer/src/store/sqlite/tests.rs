use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::*;
use crate::query::{Cmp, Expr, Field, Matcher, parse};
use crate::store::synth::{self, Rng};
use crate::store::{ANALYSIS_KEYS, percentile};

/// A store file in a fresh temporary folder, removed on drop.
struct TempStore {
    dir: PathBuf,
}

impl TempStore {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "usertrail-store-{name}-{}-{}",
            std::process::id(),
            Rng::new(u64::from(std::process::id())).next_u64()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempStore { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("spans.sqlite")
    }
}

impl Drop for TempStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---- An oracle: the query evaluated in Rust over one span, to check the SQL against. ----

fn glob(parts: &[String], v: &str) -> bool {
    let (first, rest) = parts.split_first().expect("parts");
    let Some(mut v) = v.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return v.is_empty();
    };
    for part in middle {
        match v.find(part.as_str()) {
            Some(i) => v = &v[i + part.len()..],
            None => return false,
        }
    }
    v.len() >= last.len() && v.ends_with(last.as_str())
}

fn text_matches(m: &Matcher, v: Option<&str>) -> bool {
    let Some(v) = v else { return false };
    match m {
        Matcher::Exact(x) => x == v,
        Matcher::Wildcard(parts) => glob(parts, v),
        Matcher::Compare(cmp, n) => v.parse::<f64>().is_ok_and(|x| compare(*cmp, x, *n)),
    }
}

fn compare(cmp: Cmp, x: f64, n: f64) -> bool {
    match cmp {
        Cmp::Gt => x > n,
        Cmp::Ge => x >= n,
        Cmp::Lt => x < n,
        Cmp::Le => x <= n,
    }
}

/// What `trace(…)` looks at: every span by trace, and the time range.
struct Traces<'a> {
    by_id: std::collections::HashMap<&'a str, Vec<&'a Span>>,
    range: TimeRange,
}

impl<'a> Traces<'a> {
    fn new(spans: &'a [Span], range: TimeRange) -> Self {
        let mut by_id: std::collections::HashMap<&str, Vec<&Span>> = Default::default();
        for s in spans {
            by_id.entry(s.trace_id.as_str()).or_default().push(s);
        }
        Traces { by_id, range }
    }
}

fn eval(e: &Expr, s: &Span, traces: &Traces<'_>) -> bool {
    match e {
        Expr::And(items) => items.iter().all(|e| eval(e, s, traces)),
        Expr::Or(items) => items.iter().any(|e| eval(e, s, traces)),
        Expr::Not(e) => !eval(e, s, traces),
        Expr::Trace(inner) => traces.by_id[s.trace_id.as_str()]
            .iter()
            .any(|t| traces.range.contains(t.start_ns) && eval(inner, t, traces)),
        Expr::Term(t) => {
            let m = &t.matcher;
            match &t.field {
                Field::Service => text_matches(m, Some(&s.service)),
                Field::Resource => text_matches(m, Some(&s.resource)),
                Field::Name => text_matches(m, Some(&s.name)),
                Field::Kind => text_matches(m, Some(&s.kind)),
                Field::TraceId => text_matches(m, Some(&s.trace_id)),
                Field::SpanId => text_matches(m, Some(&s.span_id)),
                Field::Status => s.error == matches!(m, Matcher::Exact(v) if v == "error"),
                Field::Duration => match m {
                    #[allow(clippy::cast_precision_loss)]
                    Matcher::Compare(cmp, n) => compare(*cmp, s.duration_ns as f64, *n),
                    _ => false,
                },
                Field::Tag(k) if k == "error" => match m {
                    Matcher::Exact(v) => v == if s.error { "true" } else { "false" },
                    Matcher::Wildcard(p) => p.iter().all(String::is_empty),
                    Matcher::Compare(..) => false,
                },
                Field::Tag(k) => text_matches(m, s.tag(k)),
            }
        }
    }
}

/// The end of the synthetic data.
const END_NS: i64 = synth::TEST_END_NS;

#[test]
fn every_query_finds_exactly_what_the_oracle_finds() {
    let tmp = TempStore::new("oracle");
    let spans = synth::spans(6_000, 7);
    let mut writer = Writer::open(&tmp.path()).unwrap();
    writer.insert(&spans).unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    for q in synth::QUERIES {
        let query = parse(q).unwrap();
        let expr = query.expr().unwrap();
        for (entry_only, range) in [false, true]
            .into_iter()
            .flat_map(|e| synth::test_ranges().map(move |r| (e, r)))
        {
            let traces = Traces::new(&spans, range);
            let want: BTreeSet<&str> = spans
                .iter()
                .filter(|s| (!entry_only || s.kind == "server") && range.contains(s.start_ns))
                .filter(|s| eval(expr, s, &traces))
                .map(|s| s.span_id.as_str())
                .collect();
            let scope = Scope {
                entry_only,
                limit: 100_000,
                range,
            };
            let got = store.search(&query, scope).unwrap();
            let got_ids: BTreeSet<&str> = got.spans.iter().map(|s| s.span_id.as_str()).collect();
            assert_eq!(
                got.total as usize,
                want.len(),
                "{q} (entry only: {entry_only}, {range:?})"
            );
            assert_eq!(got_ids, want, "{q} (entry only: {entry_only}, {range:?})");
        }
    }
    // The data has something to find.
    let declined = parse("service:payments status:error").unwrap();
    assert!(store.search(&declined, Scope::default()).unwrap().total > 0);
}

#[test]
fn tags_kept_in_the_json_only_are_found_as_the_oracle_finds_them() {
    let tmp = TempStore::new("json-only");
    let mut spans = synth::spans(3_000, 11);
    for (i, span) in spans.iter_mut().enumerate() {
        let sender_kind = if span.kind == "server" {
            "server"
        } else {
            "internal"
        };
        span.tags.insert("otel.kind".into(), sender_kind.into());
        if i % 3 != 0 {
            span.tags
                .insert("telemetry.sdk.version".into(), (i % 5).to_string());
        }
    }
    let mut writer = Writer::open(&tmp.path()).unwrap();
    writer.insert(&spans).unwrap();
    let rows: i64 = writer
        .conn
        .query_row(
            "SELECT count(*) FROM tags WHERE key IN ('otel.kind', 'telemetry.sdk.version')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0, "no tag rows for the JSON-only tags");
    let store = Store::open(&tmp.path()).unwrap();
    for q in [
        "@otel.kind:internal",
        "@otel.kind:int*",
        "@otel.kind:*erv*",
        "-@otel.kind:server service:payments",
        "@telemetry.sdk.version:*",
        "-@telemetry.sdk.version:*",
        "@telemetry.sdk.version:>=3",
        "@telemetry.sdk.version:2 OR @usr.role:vip",
        "kind:server trace(@otel.kind:internal status:error)",
    ] {
        let query = parse(q).unwrap();
        let expr = query.expr().unwrap();
        for range in synth::test_ranges() {
            let traces = Traces::new(&spans, range);
            let want: BTreeSet<&str> = spans
                .iter()
                .filter(|s| range.contains(s.start_ns))
                .filter(|s| eval(expr, s, &traces))
                .map(|s| s.span_id.as_str())
                .collect();
            let scope = Scope {
                entry_only: false,
                limit: 100_000,
                range,
            };
            let got = store.search(&query, scope).unwrap();
            let got_ids: BTreeSet<&str> = got.spans.iter().map(|s| s.span_id.as_str()).collect();
            assert_eq!(got.total as usize, want.len(), "{q} ({range:?})");
            assert_eq!(got_ids, want, "{q} ({range:?})");
        }
    }
    // Grouped and analysed from the JSON, as the trait's two-pass default counts them.
    let keys = keys(&["otel.kind", "telemetry.sdk.version", "usr.role"]);
    let scope = Scope {
        entry_only: false,
        limit: 10,
        range: TimeRange::ALL,
    };
    let selection = parse("status:error").unwrap();
    let want = tag_analysis_two_passes(&store, &selection, &Query::all(), &keys, scope);
    let got = store
        .tag_analysis(&selection, &Query::all(), &keys, scope)
        .unwrap();
    assert_eq!(
        serde_json::to_value(&got).unwrap(),
        serde_json::to_value(&want).unwrap()
    );
    let groups = store.group_by(&Query::all(), "otel.kind", scope).unwrap();
    assert_eq!(groups.total as usize, spans.len());
    assert_eq!(groups.group_count, 2);
}

#[test]
fn dropping_spans_drops_their_tag_rows_and_keeps_the_others() {
    let tmp = TempStore::new("drop-tags");
    let mut spans = synth::spans(2_000, 9);
    spans.sort_by_key(|s| s.start_ns);
    let cutoff = spans[spans.len() / 2].start_ns;
    let mut writer = Writer::open(&tmp.path()).unwrap();
    writer.insert(&spans).unwrap();
    let rows = |w: &Writer, sql: &str| -> i64 { w.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let before = rows(&writer, "SELECT count(*) FROM tags");

    let dropped = writer
        .drop_where("s.start_ns < ?1", cutoff, 1_000_000)
        .unwrap();
    let older = spans.iter().filter(|s| s.start_ns < cutoff).count();
    assert_eq!(dropped, older as u64);
    let orphans = rows(
        &writer,
        "SELECT count(*) FROM tags WHERE span NOT IN (SELECT id FROM spans)",
    );
    assert_eq!(orphans, 0, "every tag row of a dropped span is gone");
    let kept = rows(&writer, "SELECT count(*) FROM tags");
    assert!(
        kept > 0 && kept < before,
        "{kept} of {before} tag rows kept"
    );
}

#[test]
fn a_store_from_before_the_partial_indexes_is_migrated_and_answers_the_same() {
    let tmp = TempStore::new("migrate");
    let spans = synth::spans(2_000, 5);
    {
        let conn = Connection::open(tmp.path()).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        // The indexes as earlier versions made them.
        conn.execute_batch(
            "DROP INDEX spans_by_usr; DROP INDEX spans_by_account; DROP INDEX spans_by_session;
             CREATE INDEX tags_span ON tags (span);
             CREATE INDEX spans_by_usr ON spans (usr_id, kind, start_ns);
             CREATE INDEX spans_by_account ON spans (account_id, kind, start_ns);
             CREATE INDEX spans_by_session ON spans (session_id, kind, start_ns);",
        )
        .unwrap();
    }
    let mut writer = Writer::open(&tmp.path()).unwrap();
    writer.insert(&spans).unwrap();
    let indexes: Vec<(String, String)> = writer
        .conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(indexes.iter().all(|(name, _)| name != "tags_span"));
    for name in ["spans_by_usr", "spans_by_account", "spans_by_session"] {
        let (_, sql) = indexes.iter().find(|(n, _)| n == name).unwrap();
        assert!(sql.contains("IS NOT NULL"), "{sql}");
    }
    let store = Store::open(&tmp.path()).unwrap();
    let traces = Traces::new(&spans, TimeRange::ALL);
    for q in ["@usr.id:user_1*", "@account.id:premium_*", "@session.id:*"] {
        let query = parse(q).unwrap();
        let want = spans
            .iter()
            .filter(|s| s.kind == "server" && eval(query.expr().unwrap(), s, &traces))
            .count();
        assert!(want > 0, "{q}");
        let got = store.search(&parse(q).unwrap(), Scope::default()).unwrap();
        assert_eq!(got.total as usize, want, "{q}");
    }
}

#[test]
fn spans_round_trip_and_traces_come_back_in_order() {
    let tmp = TempStore::new("trace");
    let spans = synth::spans(200, 1);
    Writer::open(&tmp.path()).unwrap().insert(&spans).unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    let trace_id = &spans
        .iter()
        .find(|s| s.service == "payments")
        .unwrap()
        .trace_id;
    let want: Vec<&Span> = spans.iter().filter(|s| &s.trace_id == trace_id).collect();
    let got = store.trace(trace_id).unwrap();
    assert_eq!(got.len(), want.len());
    for s in &got {
        assert!(want.contains(&s), "{s:?}");
    }
    assert!(got.windows(2).all(|w| w[0].start_ns <= w[1].start_ns));
    assert_eq!(store.count().unwrap(), spans.len() as u64);
}

#[test]
fn group_by_counts_errors_and_percentiles() {
    let tmp = TempStore::new("group");
    let spans = synth::spans(6_000, 3);
    Writer::open(&tmp.path()).unwrap().insert(&spans).unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    let query = parse("service:payments").unwrap();
    let result = store
        .group_by(&query, "account.id", Scope::default())
        .unwrap();
    let entries: Vec<&Span> = spans
        .iter()
        .filter(|s| s.service == "payments" && s.kind == "server")
        .collect();
    assert_eq!(result.total as usize, entries.len());
    let sum: u64 = result.groups.iter().map(|g| g.count).sum();
    assert!(sum <= result.total);
    let top = &result.groups[0];
    let mut durations: Vec<i64> = entries
        .iter()
        .filter(|s| s.tag("account.id") == top.value.as_deref())
        .map(|s| s.duration_ns)
        .collect();
    durations.sort_unstable();
    assert_eq!(top.count as usize, durations.len());
    assert_eq!(top.p50_ns, percentile(&durations, 0.5));
    assert_eq!(top.p99_ns, *durations.last().unwrap().min(&top.p99_ns));
    assert!(top.p50_ns <= top.p95_ns && top.p95_ns <= top.p99_ns);

    // Failing payments, by user: only premium accounts paying with amex fail.
    let failing = parse("service:payments status:error").unwrap();
    let by_user = store
        .group_by(&failing, "@usr.id", Scope::default())
        .unwrap();
    assert!(!by_user.groups.is_empty());
    for g in &by_user.groups {
        assert_eq!(g.errors, g.count);
        assert!((g.error_rate - 1.0).abs() < f64::EPSILON);
    }
    // Any tag.
    let by_role = store
        .group_by(&parse("").unwrap(), "usr.role", Scope::default())
        .unwrap();
    let roles: BTreeSet<Option<&str>> = by_role.groups.iter().map(|g| g.value.as_deref()).collect();
    assert!(
        roles.contains(&Some("vip")) && roles.contains(&None),
        "{roles:?}"
    );
    assert!(store.group_by(&failing, "", Scope::default()).is_err());

    // In a time range, the counts are the range's.
    for range in synth::test_ranges() {
        let scope = Scope {
            range,
            ..Scope::default()
        };
        let result = store.group_by(&query, "service", scope).unwrap();
        let want = entries
            .iter()
            .filter(|s| range.contains(s.start_ns))
            .count();
        assert_eq!(result.total as usize, want, "{range:?}");
        let endpoints = store.endpoints(100_000, range).unwrap();
        let requests: u64 = endpoints.iter().map(|e| e.stats.count).sum();
        let want = spans
            .iter()
            .filter(|s| s.kind == "server" && range.contains(s.start_ns))
            .count();
        assert_eq!(requests as usize, want, "{range:?}");
    }
}

#[test]
fn percentiles_use_the_nearest_rank() {
    let v: Vec<i64> = (1..=100).collect();
    assert_eq!(percentile(&v, 0.5), 50);
    assert_eq!(percentile(&v, 0.95), 95);
    assert_eq!(percentile(&v, 0.99), 99);
    assert_eq!(percentile(&[7], 0.99), 7);
    assert_eq!(percentile(&[], 0.5), 0);
}

#[test]
fn impact_names_the_users_behind_errors_in_child_spans() {
    let tmp = TempStore::new("impact");
    let spans = synth::spans(6_000, 11);
    Writer::open(&tmp.path()).unwrap().insert(&spans).unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    // `processor.authorize` is a child span: no identity of its own.
    let query = parse("name:processor.authorize status:error").unwrap();
    let scope = Scope {
        entry_only: false,
        limit: 1000,
        ..Scope::default()
    };
    let impact = store.impact(&query, scope).unwrap();
    let traces: BTreeSet<&str> = spans
        .iter()
        .filter(|s| s.name == "processor.authorize" && s.error)
        .map(|s| s.trace_id.as_str())
        .collect();
    assert_eq!(impact.traces as usize, traces.len());
    assert_eq!(impact.spans as usize, traces.len());
    let users: BTreeSet<&str> = spans
        .iter()
        .filter(|s| traces.contains(s.trace_id.as_str()))
        .filter_map(|s| s.tag("usr.id"))
        .collect();
    assert_eq!(impact.user_count, users.len());
    assert!(!impact.users.is_empty());
    for u in &impact.users {
        assert!(users.contains(u.usr_id.as_str()));
        assert!(
            u.account_id.as_deref().unwrap().starts_with("premium_"),
            "{u:?}"
        );
        assert_eq!(u.role.as_deref(), Some("vip"));
    }
    for a in &impact.accounts {
        assert!(a.account_id.starts_with("premium_"));
    }
}

#[test]
fn an_impacted_user_has_the_role_of_their_newest_hit_request() {
    let tmp = TempStore::new("impact-role");
    let entry = |trace: &str, start_ns: i64, error: bool, role: Option<&str>| {
        let mut tags = std::collections::BTreeMap::from([
            ("usr.id".to_string(), "user_1".to_string()),
            ("account.id".to_string(), "acme".to_string()),
        ]);
        if let Some(role) = role {
            tags.insert("usr.role".into(), role.into());
        }
        Span::new(
            trace.repeat(32),
            trace.repeat(16),
            None,
            "payments".into(),
            "http.request".into(),
            "server",
            start_ns,
            1_000,
            error,
            tags,
        )
    };
    // Trace ids out of time order, so that no row order gives the answer by chance.
    let spans = [
        entry("9", 100, true, Some("admin")),
        entry("1", 200, true, Some("viewer")),
        // Newer, but without a role: the one before still says who the user is.
        entry("5", 300, true, None),
        // Newer and with a role, but not a request the query hit.
        entry("3", 400, false, Some("owner")),
    ];
    Writer::open(&tmp.path()).unwrap().insert(&spans).unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    let impact = store
        .impact(&parse("status:error").unwrap(), Scope::default())
        .unwrap();
    assert_eq!(impact.traces, 3);
    assert_eq!(impact.users.len(), 1);
    assert_eq!(impact.users[0].role.as_deref(), Some("viewer"));
    assert_eq!(impact.users[0].traces, 3);
}

#[test]
fn endpoints_list_the_failing_ones_first() {
    let tmp = TempStore::new("endpoints");
    Writer::open(&tmp.path())
        .unwrap()
        .insert(&synth::spans(3_000, 5))
        .unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    let endpoints = store.endpoints(10_000, TimeRange::ALL).unwrap();
    let names: Vec<(&str, &str)> = endpoints
        .iter()
        .map(|e| (e.service.as_str(), e.resource.as_str()))
        .collect();
    assert!(names.contains(&("payments", "POST /charge")), "{names:?}");
    assert!(
        names.contains(&("checkout", "GET /api/products")),
        "{names:?}"
    );
    assert!(endpoints[0].stats.errors >= endpoints[endpoints.len() - 1].stats.errors);
}

/// Times `f`: the first run and the best of three more.
fn time<T>(f: impl Fn() -> T) -> (T, f64, f64) {
    let t = Instant::now();
    let out = f();
    let first = t.elapsed().as_secs_f64() * 1000.0;
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let _ = f();
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
    }
    (out, first, best)
}

/// The store at a realistic size: 1,000,000 spans. Slow (a minute or so in release), so
/// not part of the default run:
///
/// ```text
/// cargo test -p usertrail-explorer --release -- --ignored --nocapture store_1m
/// ```
#[test]
#[ignore = "1M spans: run with --release -- --ignored --nocapture store_1m"]
fn store_1m() {
    let n: usize = std::env::var("STORE_SPANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = TempStore::new("1m");
    // STORE_1M_DB=/some/file.sqlite keeps the store between runs (generated once).
    let path = std::env::var_os("STORE_1M_DB").map_or_else(|| tmp.path(), PathBuf::from);
    let reuse = path.exists();
    let mut writer = Writer::open(&path).unwrap();
    let t = Instant::now();
    let end = 1_800_000_000_000_000_000;
    if !reuse {
        synth::generate(n, 42, end, 20_000, |chunk| writer.insert(chunk).unwrap());
    }
    let insert = t.elapsed();
    let t = Instant::now();
    writer.analyze().unwrap();
    let analyze = t.elapsed();
    let store = Store::open(&path).unwrap();
    let stored = store.count().unwrap();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!();
    if reuse {
        println!(
            "store_1m: {stored} spans (reused {}), ANALYZE {:.1} s, file {} MiB",
            path.display(),
            analyze.as_secs_f64(),
            size / (1 << 20)
        );
    } else {
        println!(
            "store_1m: {stored} spans inserted in {:.1} s ({:.0} spans/s), ANALYZE {:.1} s, file {} MiB",
            insert.as_secs_f64(),
            stored as f64 / insert.as_secs_f64(),
            analyze.as_secs_f64(),
            size / (1 << 20)
        );
    }
    println!(
        "store_1m: {:<58} {:>9} {:>10} {:>9}",
        "query (entry spans only, newest 50 + total)", "matches", "first ms", "best ms"
    );
    let mut worst: f64 = 0.0;
    for q in synth::BENCH_SEARCHES {
        let query = parse(q).unwrap();
        let (result, first, best) = time(|| store.search(&query, Scope::default()).unwrap());
        println!(
            "store_1m: {q:<58} {:>9} {first:>10.1} {best:>9.1}",
            result.total
        );
        worst = worst.max(best);
    }
    for (q, key) in [
        ("service:payments status:error", "usr.id"),
        ("@account.id:premium_*", "account.id"),
        ("service:checkout", "account.id"),
        ("", "service"),
    ] {
        let query = parse(q).unwrap();
        let (result, first, best) = time(|| store.group_by(&query, key, Scope::default()).unwrap());
        let label = format!(
            "group by {key} with p50/p95/p99: {}",
            if q.is_empty() { "(all)" } else { q }
        );
        println!(
            "store_1m: {label:<58} {:>9} {first:>10.1} {best:>9.1}   ({} groups, top p95 {:.1} ms)",
            result.total,
            result.group_count,
            result.groups.first().map_or(0.0, |g| g.p95_ns as f64 / 1e6)
        );
    }
    for q in ["service:payments status:error", "@duration:>5s"] {
        let query = parse(q).unwrap();
        let (impact, first, best) = time(|| store.impact(&query, Scope::default()).unwrap());
        let label = format!("impacted users: {q}");
        println!(
            "store_1m: {label:<58} {:>9} {first:>10.1} {best:>9.1}   ({} users on {} accounts)",
            impact.spans, impact.user_count, impact.account_count
        );
    }
    let (_, first, best) = time(|| store.endpoints(20_000, TimeRange::ALL).unwrap());
    println!(
        "store_1m: {:<58} {:>9} {first:>10.1} {best:>9.1}",
        "endpoints overview (the explorer's: last 20k entry spans)", 20_000
    );
    let trace_id = store
        .search(&parse("service:payments").unwrap(), Scope::default())
        .unwrap()
        .spans[0]
        .trace_id
        .clone();
    let (spans, first, best) = time(|| store.trace(&trace_id).unwrap());
    println!(
        "store_1m: {:<58} {:>9} {first:>10.1} {best:>9.1}",
        "one trace (waterfall)",
        spans.len()
    );
    // The analyses, over the whole day (every stored span) and over its last hour.
    let hour = TimeRange::last(std::time::Duration::from_secs(3600), end);
    let analysis_keys: Vec<String> = ANALYSIS_KEYS.iter().map(|k| (*k).to_string()).collect();
    for (range_label, range) in [("24 h", TimeRange::ALL), ("1 h", hour)] {
        let scope = Scope {
            range,
            ..Scope::default()
        };
        let row = |label: String, matches: String, first: f64, best: f64, worst: &mut f64| {
            println!("store_1m: {label:<58} {matches:>9} {first:>10.1} {best:>9.1}");
            *worst = worst.max(best);
        };
        let mut views_worst: f64 = 0.0;
        for q in [
            "@usr.id:user_123 trace(status:error OR @duration:>1s)",
            "@account.id:premium_* trace(@card:amex status:error)",
        ] {
            let query = parse(q).unwrap();
            let (result, first, best) = time(|| store.search(&query, scope).unwrap());
            row(
                format!("{range_label}: {q}"),
                result.total.to_string(),
                first,
                best,
                &mut views_worst,
            );
        }
        for (key, value) in [("usr.id", "user_123"), ("account.id", "premium_acme")] {
            let (a, first, best) = time(|| {
                store
                    .activity(
                        key,
                        value,
                        Scope {
                            limit: 200,
                            ..scope
                        },
                    )
                    .unwrap()
            });
            row(
                format!("{range_label}: activity of {key} {value}"),
                a.requests.to_string(),
                first,
                best,
                &mut views_worst,
            );
        }
        for q in ["status:error", "@duration:>5s"] {
            let query = parse(q).unwrap();
            let (a, first, best) = time(|| {
                store
                    .tag_analysis(
                        &query,
                        &Query::all(),
                        &analysis_keys,
                        Scope { limit: 20, ..scope },
                    )
                    .unwrap()
            });
            row(
                format!("{range_label}: tag analysis of {q} (5 tags)"),
                a.selection_total.to_string(),
                first,
                best,
                &mut views_worst,
            );
        }
        for q in ["", "service:payments"] {
            let query = parse(q).unwrap();
            let (g, first, best) = time(|| {
                store
                    .error_groups(
                        &query,
                        Scope {
                            entry_only: false,
                            ..scope
                        },
                    )
                    .unwrap()
            });
            row(
                format!(
                    "{range_label}: error groups of {}",
                    if q.is_empty() { "(all)" } else { q }
                ),
                g.errors.to_string(),
                first,
                best,
                &mut views_worst,
            );
        }
        println!("store_1m: {range_label}: slowest new view {views_worst:.1} ms (goal 200 ms)");
    }

    assert!(stored as usize >= n);
    // Generous bound: the goal is 200 ms, this only catches a lost index.
    assert!(worst < 2_000.0, "a seed query took {worst:.0} ms");
}

#[test]
fn activity_lists_one_users_requests_in_time_order() {
    let tmp = TempStore::new("activity");
    let spans = synth::spans(20_000, 13);
    Writer::open(&tmp.path()).unwrap().insert(&spans).unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    for range in synth::test_ranges() {
        let scope = Scope {
            limit: 10_000,
            range,
            ..Scope::default()
        };
        for (key, value) in [("usr.id", "user_123"), ("account.id", "account_456")] {
            let mine: Vec<&Span> = spans
                .iter()
                .filter(|s| s.kind == "server" && range.contains(s.start_ns))
                .filter(|s| s.tag(key) == Some(value))
                .collect();
            let got = store.activity(key, value, scope).unwrap();
            assert_eq!(got.requests as usize, mine.len(), "{key} {range:?}");
            let want: BTreeSet<&str> = mine.iter().map(|s| s.span_id.as_str()).collect();
            let ids: BTreeSet<&str> = got.spans.iter().map(|s| s.span_id.as_str()).collect();
            assert_eq!(ids, want, "{key} {range:?}");
            assert!(got.spans.windows(2).all(|w| w[0].start_ns <= w[1].start_ns));
            assert_eq!(got.errors as usize, mine.iter().filter(|s| s.error).count());
            let sessions: BTreeSet<&str> =
                mine.iter().filter_map(|s| s.tag("session.id")).collect();
            assert_eq!(got.session_count, sessions.len());
            assert_eq!(
                got.sessions.iter().map(|g| g.count).sum::<u64>(),
                got.requests
            );
            assert_eq!(got.users.is_some(), key == "account.id");
        }
    }
    // The newest `limit`, still oldest first.
    let last = store
        .activity(
            "account.id",
            "account_456",
            Scope {
                limit: 3,
                ..Scope::default()
            },
        )
        .unwrap();
    let all = store
        .activity(
            "account.id",
            "account_456",
            Scope {
                limit: 10_000,
                ..Scope::default()
            },
        )
        .unwrap();
    assert!(all.spans.len() > 3);
    assert_eq!(last.spans[..], all.spans[all.spans.len() - 3..]);
    assert!(
        store
            .activity("service", "checkout", Scope::default())
            .is_err()
    );
}

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| (*k).to_string()).collect()
}

#[test]
fn tag_analysis_puts_the_planted_faults_on_top() {
    let tmp = TempStore::new("analysis");
    let spans = synth::spans(60_000, 17);
    Writer::open(&tmp.path()).unwrap().insert(&spans).unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    let scope = Scope {
        limit: 10,
        ..Scope::default()
    };
    let all = Query::all();

    // Errors: premium accounts (whose users are `vip`) paying with amex.
    let errors = parse("status:error").unwrap();
    let a = store
        .tag_analysis(
            &errors,
            &all,
            &keys(&["account.id", "usr.role", "usr.id"]),
            scope,
        )
        .unwrap();
    let entries: Vec<&Span> = spans.iter().filter(|s| s.kind == "server").collect();
    assert_eq!(a.baseline_total as usize, entries.len());
    assert_eq!(
        a.selection_total as usize,
        entries.iter().filter(|s| s.error).count()
    );
    let accounts = &a.keys[0].values;
    assert_eq!(accounts.len(), 10);
    for v in accounts {
        assert!(v.value.starts_with("premium_"), "{v:?}");
        assert!(v.selection_share > v.baseline_share, "{v:?}");
    }
    assert_eq!(a.keys[1].values[0].value, "vip");
    assert_eq!(a.top[0].key, "usr.role");
    assert_eq!(a.top[0].value, "vip");
    // Shares are the counts over the totals, checked against the spans themselves.
    let vip = &a.top[0];
    let want = entries
        .iter()
        .filter(|s| s.error && s.tag("usr.role") == Some("vip"))
        .count();
    assert_eq!(vip.selection_count as usize, want);
    let share = want as f64 / a.selection_total as f64;
    assert!((vip.selection_share - share).abs() < 1e-12);
    assert!(vip.baseline_share < vip.selection_share / 3.0, "{vip:?}");

    // The card, on child spans: amex, with every span searched.
    let every = Scope {
        entry_only: false,
        ..scope
    };
    let cards = store
        .tag_analysis(&errors, &all, &keys(&["card"]), every)
        .unwrap();
    assert_eq!(cards.keys[0].values[0].value, "amex");
    assert!(cards.keys[0].values.iter().all(|v| v.value == "amex"));

    // Slowness: account_789.
    let slow = parse("@duration:>5s").unwrap();
    let a = store
        .tag_analysis(&slow, &all, &keys(&["account.id", "usr.id"]), scope)
        .unwrap();
    assert_eq!(a.keys[0].values[0].value, "account_789");
    let users: Vec<&str> = a.keys[1].values.iter().map(|v| v.value.as_str()).collect();
    // The fault is the account's (as in the demo, whose user on it is user_789): its users
    // come first; a few other requests are slow at random.
    let account_of = |u: &str| {
        (0..synth::USERS)
            .map(synth::user)
            .find(|(id, _, _)| id == u)
            .unwrap()
            .1
    };
    assert_eq!(account_of(users[0]), "account_789", "{users:?}");
    let top = &a.keys[0].values[0];
    assert!(
        top.selection_share > 0.1 && top.selection_share > 50.0 * top.baseline_share,
        "{top:?}"
    );
    assert!(
        store
            .tag_analysis(&slow, &all, &keys(&["a\"b"]), scope)
            .is_err()
    );
}

#[test]
fn error_groups_count_each_error_and_whom_it_hit() {
    let tmp = TempStore::new("errors");
    let mut spans = synth::spans(20_000, 19);
    // One typed error, on a child span of a signed-in trace.
    let entry = spans
        .iter()
        .find(|s| s.kind == "server" && s.tag("usr.id").is_some())
        .unwrap()
        .clone();
    let mut typed = entry.clone();
    typed.span_id = "00000000000000aa".into();
    typed.kind = "internal".into();
    typed.name = "db.query".into();
    typed.resource = "db.query".into();
    typed.error = true;
    typed.tags = [
        ("exception.type", "TimeoutError"),
        ("exception.message", "the database took over 5 s"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
    .collect();
    spans.push(typed);
    Writer::open(&tmp.path()).unwrap().insert(&spans).unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    let every = Scope {
        entry_only: false,
        limit: 1_000,
        ..Scope::default()
    };
    let got = store.error_groups(&Query::all(), every).unwrap();
    let failed: Vec<&Span> = spans.iter().filter(|s| s.error).collect();
    assert_eq!(got.errors as usize, failed.len());
    let mut want: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
    for s in &failed {
        *want
            .entry((s.service.as_str(), s.resource.as_str()))
            .or_default() += 1;
    }
    let mut counted: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
    for g in &got.groups {
        *counted
            .entry((g.service.as_str(), g.resource.as_str()))
            .or_default() += g.count;
    }
    assert_eq!(counted, want);
    assert!(got.groups.windows(2).all(|w| w[0].users >= w[1].users));

    // The declined payments: HTTP 502 on payments' entry span, premium users only.
    let declined = got
        .groups
        .iter()
        .find(|g| g.service == "payments" && g.resource == "POST /charge")
        .unwrap();
    assert_eq!(declined.error, "HTTP 502");
    assert!(declined.entry && !declined.typed);
    let traces: BTreeSet<&str> = failed
        .iter()
        .filter(|s| s.service == "payments" && s.kind == "server")
        .map(|s| s.trace_id.as_str())
        .collect();
    let users: BTreeSet<&str> = spans
        .iter()
        .filter(|s| s.kind == "server" && traces.contains(s.trace_id.as_str()))
        .filter_map(|s| s.tag("usr.id"))
        .collect();
    assert_eq!(declined.users as usize, users.len());
    assert_eq!(declined.traces as usize, traces.len());
    let starts: Vec<i64> = failed
        .iter()
        .filter(|s| s.service == "payments" && s.kind == "server")
        .map(|s| s.start_ns)
        .collect();
    assert_eq!(declined.first_seen_ns, *starts.iter().min().unwrap());
    assert_eq!(declined.last_seen_ns, *starts.iter().max().unwrap());

    // The typed error: its type names it, its message is kept, its trace's user is counted.
    let timeout = got
        .groups
        .iter()
        .find(|g| g.error == "TimeoutError")
        .unwrap();
    assert!(timeout.typed && !timeout.entry);
    assert_eq!(
        timeout.message.as_deref(),
        Some("the database took over 5 s")
    );
    assert_eq!((timeout.count, timeout.users), (1, 1));

    // A query and a range narrow it.
    let payments = store
        .error_groups(&parse("service:payments").unwrap(), every)
        .unwrap();
    assert!(payments.groups.iter().all(|g| g.service == "payments"));
    let hour = store
        .error_groups(
            &Query::all(),
            Scope {
                range: TimeRange::last(std::time::Duration::from_secs(3600), END_NS),
                ..every
            },
        )
        .unwrap();
    assert!(hour.errors < got.errors / 10);
}

#[test]
fn a_query_over_its_budget_is_cancelled_with_a_clear_error() {
    let dir = TempStore::new("budget");
    let mut writer = Writer::open(&dir.path()).unwrap();
    writer.insert(&synth::spans(6_000, 7)).unwrap();
    let slow = Store::open_with_budget(&dir.path(), Duration::ZERO).unwrap();
    let q = parse("").unwrap();
    let scope = Scope {
        entry_only: false,
        limit: 10,
        ..Scope::default()
    };
    let err = slow.group_by(&q, "usr.role", scope).unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    let fine = Store::open(&dir.path()).unwrap();
    assert!(fine.group_by(&q, "usr.role", scope).is_ok());
}

/// The analysis as the trait's default computes it: two `value_counts` per key.
fn tag_analysis_two_passes(
    store: &Store,
    selection: &Query,
    baseline: &Query,
    keys: &[String],
    scope: Scope,
) -> crate::store::TagAnalysis {
    let selected = baseline.clone().and(selection.clone());
    let per_key = keys
        .iter()
        .map(|key| {
            let base = store.value_counts(baseline, key, scope).unwrap();
            let sel = store.value_counts(&selected, key, scope).unwrap();
            (key.clone(), sel, base)
        })
        .collect();
    aggregate::tag_analysis(per_key, scope.limit)
}

#[test]
fn tag_analysis_in_one_pass_is_the_two_pass_result() {
    let tmp = TempStore::new("analysis-one-pass");
    let spans = synth::spans(8_000, 23);
    Writer::open(&tmp.path()).unwrap().insert(&spans).unwrap();
    let store = Store::open(&tmp.path()).unwrap();
    // Columns, tag rows, keys kept only in the JSON, a key no span has, and one twice.
    let every_kind = keys(&[
        "usr.id",
        "account.id",
        "session.id",
        "usr.role",
        "service",
        "resource",
        "kind",
        "status",
        "error",
        "http.response.status_code",
        "duration_ms",
        "card",
        "no.such.tag",
        "service",
    ]);
    let baselines = [Query::all(), parse("service:payments").unwrap()];
    for range in synth::test_ranges() {
        for entry_only in [true, false] {
            let scope = Scope {
                entry_only,
                limit: 7,
                range,
            };
            for baseline in &baselines {
                for q in synth::QUERIES {
                    let selection = parse(q).unwrap();
                    let want =
                        tag_analysis_two_passes(&store, &selection, baseline, &every_kind, scope);
                    let got = store
                        .tag_analysis(&selection, baseline, &every_kind, scope)
                        .unwrap();
                    assert_eq!(
                        serde_json::to_value(&got).unwrap(),
                        serde_json::to_value(&want).unwrap(),
                        "{q} in {baseline:?}, {scope:?}"
                    );
                }
            }
        }
    }
    let none = store
        .tag_analysis(&Query::all(), &Query::all(), &[], Scope::default())
        .unwrap();
    assert_eq!((none.selection_total, none.baseline_total), (0, 0));
    assert!(
        store
            .tag_analysis(
                &Query::all(),
                &Query::all(),
                &keys(&["a\"b"]),
                Scope::default()
            )
            .is_err()
    );
}
