//! The ClickHouse store against a real `clickhouse-server` (Debian's package; `scripts/setup`
//! installs it), started on free loopback ports with a temporary data folder: the same
//! spans, the same queries, the same answers as the embedded store.

mod support;

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::load_average;
use usertrail_explorer::query::parse;
use usertrail_explorer::store::{
    Retention, Scope, Span, SpanStore, SpanWriter, TimeRange, clickhouse, sqlite, synth,
};

/// A `clickhouse-server` of this test's own, stopped and removed on drop.
struct Server {
    child: Child,
    dir: PathBuf,
    http_port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    fn start() -> Server {
        // One folder per server: the benchmarks may start theirs beside the tests' one.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("usertrail-clickhouse-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        let http_port = free_port();
        let arg = |name: &str, value: String| format!("--{name}={value}");
        let path = |p: &str| dir.join(p).display().to_string();
        let child = Command::new("clickhouse-server")
            .arg("--config-file=/etc/clickhouse-server/config.xml")
            .arg("--")
            .arg(arg("path", format!("{}/", dir.display())))
            .arg(arg("tmp_path", format!("{}/", path("tmp"))))
            .arg(arg("http_port", http_port.to_string()))
            .arg(arg("tcp_port", free_port().to_string()))
            .arg(arg("interserver_http_port", free_port().to_string()))
            .arg(arg("listen_host", "127.0.0.1".into()))
            .arg(arg("logger.log", path("server.log")))
            .arg(arg("logger.errorlog", path("error.log")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "clickhouse-server (Debian package clickhouse-server; scripts/setup installs it)",
            );
        let mut server = Server {
            child,
            dir,
            http_port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ping = std::net::TcpStream::connect(("127.0.0.1", http_port)).is_ok();
            if ping && clickhouse::Store::connect(&server.url("ping")).is_ok() {
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = std::fs::read_to_string(server.dir.join("error.log")).unwrap_or_default();
                panic!("clickhouse-server exited ({status}):\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "clickhouse-server did not start in 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server.http_port = http_port;
        server
    }

    fn url(&self, database: &str) -> String {
        format!("clickhouse://127.0.0.1:{}/{database}", self.http_port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The end of the synthetic data.
const END_NS: i64 = synth::TEST_END_NS;

/// Both stores, holding the same spans.
struct Pair {
    sqlite: sqlite::Store,
    clickhouse: clickhouse::Store,
    _dir: TempDir,
}

/// A folder removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pair(server: &Server, database: &str, spans: &[Span]) -> Pair {
    let dir =
        std::env::temp_dir().join(format!("usertrail-pair-{database}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("spans.sqlite");
    sqlite::Writer::open(&file).unwrap().insert(spans).unwrap();
    let mut writer = clickhouse::Writer::connect(&server.url(database)).unwrap();
    for chunk in spans.chunks(2_000) {
        writer.insert(chunk).unwrap();
    }
    Pair {
        sqlite: sqlite::Store::open(&file).unwrap(),
        clickhouse: clickhouse::Store::connect(&server.url(database)).unwrap(),
        _dir: TempDir(dir),
    }
}

fn ids(spans: &[Span]) -> BTreeSet<&str> {
    spans.iter().map(|s| s.span_id.as_str()).collect()
}

/// One server for every scenario (each in a database of its own): starting one takes seconds.
#[test]
fn clickhouse_store() {
    let server = Server::start();
    answers_as_the_embedded_store_does(&server);
    values_with_quotes_and_backslashes_are_data_not_sql(&server);
    retention_drops_the_oldest_spans(&server);
    the_service_receives_otlp_into_clickhouse(&server);
    monitors_read_the_same_values(&server);
    tables_made_before_the_role_column_get_it(&server);
}

/// A `spans` table written by an explorer before `usr_role` existed: the next explorer adds
/// the column, and impacted users still have their roles, read from the old parts' tags.
fn tables_made_before_the_role_column_get_it(server: &Server) {
    let spans = synth::spans(3_000, 11);
    let url = server.url("before_role");
    let mut writer = clickhouse::Writer::connect(&url).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/", server.http_port))
            .body("ALTER TABLE before_role.spans DROP COLUMN usr_role")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    writer.insert(&spans).unwrap();
    let dir =
        TempDir(std::env::temp_dir().join(format!("usertrail-before-role-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("spans.sqlite");
    sqlite::Writer::open(&file).unwrap().insert(&spans).unwrap();
    let sqlite = sqlite::Store::open(&file).unwrap();
    let store = clickhouse::Store::connect(&url).unwrap();
    let query = parse("service:payments status:error").unwrap();
    let scope = Scope {
        entry_only: false,
        limit: 1_000,
        range: TimeRange::ALL,
    };
    let want = sqlite.impact(&query, scope).unwrap();
    let got = store.impact(&query, scope).unwrap();
    assert!(want.users.iter().any(|u| u.role.is_some()), "{want:?}");
    assert_eq!(got.users, want.users);
}

/// Every kind of monitor, whole and per group, gives the same readings on both stores.
fn monitors_read_the_same_values(server: &Server) {
    use usertrail_explorer::monitor::{Spec, eval};
    let spans = synth::spans(6_000, 9);
    let p = pair(server, "monitors", &spans);
    // Two accounts with requests in the last 6 hours, and one without any.
    let mut named: Vec<&str> = spans
        .iter()
        .filter(|s| s.kind == "server" && s.start_ns >= END_NS - 6 * 3_600_000_000_000)
        .filter_map(|s| s.tag("account.id"))
        .take(2)
        .collect();
    named.push("nobody");
    for (query, metric, group_by, groups) in [
        ("@account.id:premium_*", "error_rate", None, vec![]),
        ("@usr.role:vip", "p95", None, vec![]),
        ("service:checkout", "p50", None, vec![]),
        ("", "p99", Some("service"), vec![]),
        ("service:payments status:error", "users", None, vec![]),
        ("status:error", "users", Some("account.id"), vec![]),
        ("", "count", Some("account.id"), named.clone()),
        ("", "error_rate", Some("account.id"), vec![]),
    ] {
        let spec: Spec = serde_json::from_value(serde_json::json!({
            "name": "parity", "query": query, "metric": metric, "threshold": 1,
            "window": "6h", "group_by": group_by, "groups": groups,
            "webhook": "http://127.0.0.1:9/",
        }))
        .unwrap();
        let checked = spec.validate().unwrap();
        for now in [
            END_NS,
            END_NS - 12 * 3_600_000_000_000,
            END_NS + 86_400_000_000_000,
        ] {
            let sort = |mut r: Vec<eval::Reading>| {
                r.sort_by(|a, b| a.group.cmp(&b.group));
                r
            };
            let want = sort(eval::evaluate(&p.sqlite, &spec, &checked, now).unwrap());
            let got = sort(eval::evaluate(&p.clickhouse, &spec, &checked, now).unwrap());
            assert_eq!(got, want, "{query} {metric} by {group_by:?}");
            if now == END_NS {
                assert!(want.iter().any(|r| r.value.is_some()), "{query} {metric}");
            }
        }
    }
}

fn answers_as_the_embedded_store_does(server: &Server) {
    let spans = synth::spans(6_000, 7);
    let p = pair(server, "parity", &spans);
    assert_eq!(p.clickhouse.count().unwrap(), spans.len() as u64);

    // Search: every query, entry spans only and all spans; the whole result, spans and tags.
    let mut found = 0;
    for q in synth::QUERIES {
        let query = parse(q).unwrap();
        for (entry_only, range) in [false, true]
            .into_iter()
            .flat_map(|e| synth::test_ranges().map(move |r| (e, r)))
        {
            let scope = Scope {
                entry_only,
                limit: 100_000,
                range,
            };
            let want = p.sqlite.search(&query, scope).unwrap();
            let got = p.clickhouse.search(&query, scope).unwrap();
            assert_eq!(
                got.total, want.total,
                "{q} (entry only: {entry_only}, {range:?})"
            );
            found += usize::from(got.total > 0);
            assert_eq!(
                ids(&got.spans),
                ids(&want.spans),
                "{q} (entry only: {entry_only})"
            );
            let mut got = got.spans;
            let mut want = want.spans;
            got.sort_by(|a, b| a.span_id.cmp(&b.span_id));
            want.sort_by(|a, b| a.span_id.cmp(&b.span_id));
            assert_eq!(got, want, "{q}: the spans themselves");
        }
        // The newest first, cut to the limit: the first of all the matches.
        let newest = p.clickhouse.search(&query, Scope::default()).unwrap();
        let every = p
            .clickhouse
            .search(
                &query,
                Scope {
                    limit: 100_000,
                    ..Scope::default()
                },
            )
            .unwrap();
        assert_eq!(newest.total, every.total, "{q}");
        assert_eq!(
            newest.spans,
            every.spans[..every.spans.len().min(50)],
            "{q}: the newest 50"
        );
        assert!(newest.spans.len() <= 50);
        assert!(
            newest
                .spans
                .windows(2)
                .all(|w| w[0].start_ns >= w[1].start_ns),
            "{q}"
        );
    }

    assert!(
        found > synth::QUERIES.len(),
        "most queries find something: {found}"
    );

    // Group-by: counts, errors and percentiles per group, in the same order.
    for (q, key) in [
        ("service:payments", "account.id"),
        ("service:payments status:error", "@usr.id"),
        ("", "usr.role"),
        ("", "service"),
        ("", "status"),
        ("", "http.response.status_code"),
        ("@duration:>1s", "resource"),
        ("", "card"),
    ] {
        let query = parse(q).unwrap();
        for (entry_only, range) in [false, true]
            .into_iter()
            .flat_map(|e| synth::test_ranges().map(move |r| (e, r)))
        {
            let scope = Scope {
                entry_only,
                limit: 1_000,
                range,
            };
            let want = p.sqlite.group_by(&query, key, scope).unwrap();
            let got = p.clickhouse.group_by(&query, key, scope).unwrap();
            assert_eq!(
                (got.total, got.group_count),
                (want.total, want.group_count),
                "{q} by {key}"
            );
            assert_eq!(got.groups, want.groups, "{q} by {key}");
        }
    }
    assert!(
        p.clickhouse
            .group_by(&parse("").unwrap(), "a\"b", Scope::default())
            .is_err()
    );

    // Impact: the users and accounts behind errors deep in child spans.
    for q in [
        "name:processor.authorize status:error",
        "service:payments status:error",
        "@duration:>5s",
        "@usr.id:user_123",
    ] {
        for range in synth::test_ranges() {
            let scope = Scope {
                entry_only: false,
                limit: 1_000,
                range,
            };
            let want = p.sqlite.impact(&parse(q).unwrap(), scope).unwrap();
            let got = p.clickhouse.impact(&parse(q).unwrap(), scope).unwrap();
            assert_eq!(
                (
                    got.spans,
                    got.traces,
                    got.anonymous_traces,
                    got.user_count,
                    got.account_count
                ),
                (
                    want.spans,
                    want.traces,
                    want.anonymous_traces,
                    want.user_count,
                    want.account_count
                ),
                "{q}"
            );
            assert_eq!(got.users, want.users, "{q}");
            assert_eq!(got.accounts, want.accounts, "{q}");
        }
    }

    // One user's, account's and session's activity.
    let session = spans
        .iter()
        .find_map(|s| s.tag("session.id").filter(|_| s.kind == "server"))
        .unwrap();
    for (key, value) in [
        ("usr.id", "user_123"),
        ("account.id", "premium_acme"),
        ("session.id", session),
    ] {
        for range in synth::test_ranges() {
            let scope = Scope {
                limit: 1_000,
                range,
                ..Scope::default()
            };
            let want = p.sqlite.activity(key, value, scope).unwrap();
            let got = p.clickhouse.activity(key, value, scope).unwrap();
            assert_eq!(
                serde_json::to_value(&got).unwrap(),
                serde_json::to_value(&want).unwrap(),
                "{key}:{value} {range:?}"
            );
        }
    }

    // Value counts and tag analysis.
    let keys: Vec<String> = [
        "account.id",
        "usr.id",
        "usr.role",
        "service",
        "resource",
        "http.response.status_code",
        "card",
    ]
    .iter()
    .map(|k| (*k).to_string())
    .collect();
    for (selection, baseline) in [
        ("status:error", ""),
        ("@duration:>5s", ""),
        ("status:error", "service:payments"),
        ("trace(@card:amex)", "@account.id:premium_*"),
    ] {
        for (entry_only, range) in [false, true]
            .into_iter()
            .flat_map(|e| synth::test_ranges().map(move |r| (e, r)))
        {
            let scope = Scope {
                entry_only,
                limit: 1_000,
                range,
            };
            let (sel, base) = (parse(selection).unwrap(), parse(baseline).unwrap());
            for key in &keys {
                let mut want = p.sqlite.value_counts(&base, key, scope).unwrap();
                let mut got = p.clickhouse.value_counts(&base, key, scope).unwrap();
                want.counts.sort();
                got.counts.sort();
                assert_eq!(got, want, "{baseline} {key} {range:?}");
            }
            let want = p.sqlite.tag_analysis(&sel, &base, &keys, scope).unwrap();
            let got = p
                .clickhouse
                .tag_analysis(&sel, &base, &keys, scope)
                .unwrap();
            assert_eq!(
                serde_json::to_value(&got).unwrap(),
                serde_json::to_value(&want).unwrap(),
                "{selection} vs {baseline} (entry only: {entry_only}, {range:?})"
            );
        }
    }

    // Error groups.
    for q in [
        "",
        "service:payments",
        "@account.id:premium_* OR name:processor.authorize",
    ] {
        for (entry_only, range) in [false, true]
            .into_iter()
            .flat_map(|e| synth::test_ranges().map(move |r| (e, r)))
        {
            let scope = Scope {
                entry_only,
                limit: 1_000,
                range,
            };
            let want = p.sqlite.error_groups(&parse(q).unwrap(), scope).unwrap();
            let got = p
                .clickhouse
                .error_groups(&parse(q).unwrap(), scope)
                .unwrap();
            assert_eq!(
                serde_json::to_value(&got).unwrap(),
                serde_json::to_value(&want).unwrap(),
                "{q} (entry only: {entry_only}, {range:?})"
            );
            if range == TimeRange::ALL && q.is_empty() && !entry_only {
                assert!(want.group_count >= 4, "{want:?}");
            }
        }
    }

    // A trace's spans, and the endpoints table.
    let trace_id = &spans
        .iter()
        .find(|s| s.service == "payments")
        .unwrap()
        .trace_id;
    assert_eq!(
        ids(&p.clickhouse.trace(trace_id).unwrap()),
        ids(&p.sqlite.trace(trace_id).unwrap())
    );
    let rows = |e: &[usertrail_explorer::store::Endpoint]| -> Vec<String> {
        e.iter()
            .map(|e| format!("{} {} {:?}", e.service, e.resource, e.stats))
            .collect()
    };
    for range in synth::test_ranges() {
        let want = p.sqlite.endpoints(100_000, range).unwrap();
        let got = p.clickhouse.endpoints(100_000, range).unwrap();
        assert_eq!(rows(&got), rows(&want), "{range:?}");
    }
}

fn values_with_quotes_and_backslashes_are_data_not_sql(server: &Server) {
    let mut spans = synth::spans(50, 3);
    let evil = r"o'brien\'); DROP TABLE spans; --";
    spans[0].tags.insert("usr.id".into(), evil.into());
    spans[0].kind = "server".into();
    let mut writer = clickhouse::Writer::connect(&server.url("quotes")).unwrap();
    writer.insert(&spans).unwrap();
    let store = clickhouse::Store::connect(&server.url("quotes")).unwrap();
    let query = parse(&format!(
        "@usr.id:\"{}\"",
        evil.replace('\\', "\\\\").replace('"', "\\\"")
    ))
    .unwrap();
    let found = store.search(&query, Scope::default()).unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.spans[0].tag("usr.id"), Some(evil));
    assert_eq!(store.count().unwrap(), spans.len() as u64);
}

fn retention_drops_the_oldest_spans(server: &Server) {
    let mut writer = clickhouse::Writer::connect(&server.url("retention")).unwrap();
    let now_ns = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap();
    // 300 spans over the last 10 days: a third of them older than 7 days or so.
    let mut spans = synth::spans(300, 5);
    let step = 10 * 86_400 * 1_000_000_000 / i64::try_from(spans.len()).unwrap();
    for (i, s) in spans.iter_mut().enumerate() {
        s.start_ns = now_ns - step * (i64::try_from(i).unwrap() + 1);
    }
    writer.insert(&spans).unwrap();
    let old = spans
        .iter()
        .filter(|s| s.start_ns < now_ns - 7 * 86_400 * 1_000_000_000)
        .count();
    assert!(old > 50);
    let retention = Retention {
        max_age: Some(Duration::from_secs(7 * 86_400)),
        max_bytes: None,
    };
    let dropped = writer.enforce(&retention).unwrap();
    assert!(
        (old as u64).abs_diff(dropped) <= 1,
        "dropped {dropped}, expected about {old}"
    );
    // The delete runs in the background: wait for it.
    let store = clickhouse::Store::connect(&server.url("retention")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.count().unwrap() > (spans.len() - old) as u64 + 1 {
        assert!(Instant::now() < deadline, "the delete did not happen");
        std::thread::sleep(Duration::from_millis(200));
    }
    // By size: a limit of one byte drops a share of the oldest each time.
    let before = store.count().unwrap();
    let by_size = Retention {
        max_age: None,
        max_bytes: Some(1),
    };
    assert!(writer.enforce(&by_size).unwrap() > 0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.count().unwrap() >= before {
        assert!(
            Instant::now() < deadline,
            "the delete by size did not happen"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_bad_url_or_no_server_is_a_clear_error() {
    let err = clickhouse::Store::connect("postgres://x/y")
        .unwrap_err()
        .to_string();
    assert!(err.contains("clickhouse://host:8123/database"), "{err}");
    let err = clickhouse::Store::connect("clickhouse://127.0.0.1:1/db")
        .unwrap_err()
        .to_string();
    assert!(err.contains("ClickHouse at http://127.0.0.1:1/"), "{err}");
    let err = clickhouse::Store::connect("clickhouse://127.0.0.1:1/a;b")
        .unwrap_err()
        .to_string();
    assert!(err.contains("letters, digits"), "{err}");
}

/// `usertrail-explorer --store clickhouse://…`: an OTLP/HTTP export lands in ClickHouse and
/// the explorer's API finds it there, identity remapped.
fn the_service_receives_otlp_into_clickhouse(server: &Server) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = server.url("service");
    runtime.block_on(async move {
        let options = usertrail_explorer::server::Options {
            listen: "127.0.0.1:0".into(),
            store: Some(url.clone()),
            ..Default::default()
        };
        let base = support::serve(options, std::future::pending()).await;
        let start_ns = 1_800_000_000_000_000_000u64;
        let body = serde_json::json!({
            "resourceSpans": [{
                "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "orders-py" } }] },
                "scopeSpans": [{ "spans": [{
                    "traceId": "5b8efff798038103d269b633813fc60c",
                    "spanId": "eee19b7ec3c1b174",
                    "parentSpanId": "eee19b7ec3c1b173",
                    "flags": 768,
                    "name": "GET /orders",
                    "kind": 2,
                    "startTimeUnixNano": start_ns.to_string(),
                    "endTimeUnixNano": (start_ns + 6_000_000_000).to_string(),
                    "attributes": [{ "key": "user.id", "value": { "stringValue": "user_789" } }],
                    "status": { "code": 2 }
                }] }]
            }]
        });
        let client = reqwest::Client::new();
        let res = client
            .post(format!("{base}/v1/traces"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        // The export is answered once the spans are stored.
        let found: serde_json::Value = client
            .get(format!("{base}/api/search?q=%40usr.id%3Auser_789%20status%3Aerror&entry=1"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap();
        assert_eq!(found["total"], 1, "{found}");
        assert_eq!(found["spans"][0]["service"], "orders-py");
        let status: serde_json::Value = client
            .get(format!("{base}/api/status"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap();
        assert_eq!(status["store"], url.as_str());
    });
    // What the service wrote is in ClickHouse itself.
    let store = clickhouse::Store::connect(&server.url("service")).unwrap();
    let spans = store.trace("5b8efff798038103d269b633813fc60c").unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].tag("usr.id"), Some("user_789"));
}

/// `cargo test -p usertrail-explorer --release --test clickhouse -- --ignored --nocapture clickhouse_ingest_throughput`
///
/// As `tests/otlp.rs`'s `ingest_throughput` (400,000 spans over OTLP/HTTP protobuf, 2,000 a
/// request, each request answered once its spans are stored), into a ClickHouse server of
/// its own on the same machine, from 40 clients at once (`INGEST_CLIENTS=N` for another
/// number). The clients are many because ClickHouse's cost is mostly per insert: each one
/// writes a part (buffers of about 2 MB for each of its 26 column files, mostly system time)
/// that merges rewrite later, and an insert holds at most what the waiting clients have
/// queued: 4 clients make inserts of at most 8,000 spans, 10 µs of server CPU a span;
/// 40 clients, inserts up to the writer's 65,536, 3.7 µs.
#[test]
#[ignore = "a measurement: run with --release -- --ignored --nocapture clickhouse_ingest_throughput"]
fn clickhouse_ingest_throughput() {
    const SPANS: u64 = 2_000;
    let clients: u64 = std::env::var("INGEST_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40u64)
        .clamp(1, 200);
    let requests = 200 / clients;
    let server = Server::start();
    let url = server.url("ingest");
    let data_dir = TempDir(std::env::temp_dir().join(format!(
        "usertrail-clickhouse-ingest-{}",
        std::process::id()
    )));
    let bodies = support::ingest_bodies(clients, requests, SPANS);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server_pid = server.child.id().to_string();
    let (secs, explorer_cpu, server_cpu) = runtime.block_on(async {
        let options = usertrail_explorer::server::Options {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.0.clone(),
            store: Some(url.clone()),
            ..Default::default()
        };
        let base = support::serve(options, std::future::pending()).await;
        let cpu_ns = support::process_cpu_ns;
        let (ours, theirs) = (cpu_ns("self"), cpu_ns(&server_pid));
        let secs = support::post_all(&base, bodies).await;
        (secs, cpu_ns("self") - ours, cpu_ns(&server_pid) - theirs)
    });
    let total = clients * requests * SPANS;
    #[allow(clippy::cast_precision_loss)]
    let per_span_us = |cpu_ns: u64| cpu_ns as f64 / 1e3 / total as f64;
    println!(
        "clickhouse_ingest_throughput: {total} spans over OTLP/HTTP protobuf ({clients} clients, {SPANS} spans a request) stored in ClickHouse in {secs:.1} s: {:.0} spans/s (load average {}); CPU a span: {:.2} µs in the explorer and its clients, {:.2} µs in clickhouse-server (its merges included)",
        total as f64 / secs,
        load_average(),
        per_span_us(explorer_cpu),
        per_span_us(server_cpu),
    );
    let store = clickhouse::Store::connect(&url).unwrap();
    assert_eq!(store.count().unwrap(), total);
}

/// The median of `runs` timings of `f` in ms, and its last answer.
fn median_ms<T>(runs: usize, mut f: impl FnMut() -> T) -> (T, f64, f64) {
    let t = Instant::now();
    let mut out = f();
    let first = t.elapsed().as_secs_f64() * 1000.0;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (out, first, times[times.len() / 2])
}

/// The CPU the ClickHouse server at `url` (`clickhouse://host:port/db`) has spent on queries
/// so far, in ms (its `system.events`, user and system time of every query's threads):
/// a cost per query that other work on the machine does not change, as it does wall time.
fn server_cpu_ms(url: &str) -> f64 {
    let host = url
        .trim_start_matches("clickhouse://")
        .split('/')
        .next()
        .unwrap();
    let sql = "SELECT sum(value) FROM system.events \
               WHERE event IN ('UserTimeMicroseconds', 'SystemTimeMicroseconds')";
    let text = ureq::post(format!("http://{host}/"))
        .send(sql)
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    text.trim().parse::<f64>().unwrap() / 1000.0
}

/// [`median_ms`] of `f`, and the server CPU ms of one run (the mean of the median's runs).
fn median_ms_cpu<T>(url: &str, runs: usize, f: impl FnMut() -> T) -> (T, f64, f64, f64) {
    let before = server_cpu_ms(url);
    let (out, first, median) = median_ms(runs, f);
    #[allow(clippy::cast_precision_loss)]
    let cpu = (server_cpu_ms(url) - before) / (runs + 1) as f64;
    (out, first, median, cpu)
}

/// The seed queries over 10,000,000 synthetic spans (`synth`, as `store_1m`), written straight
/// through the store's writer in large batches. Minutes, so not part of the default run:
///
/// ```text
/// cargo test -p usertrail-explorer --release --test clickhouse -- --ignored --nocapture clickhouse_10m
/// ```
///
/// `STORE_SPANS=N` for another size; `CLICKHOUSE_BENCH_URL=clickhouse://host:port/db` uses a
/// server already running (and the spans already in that database, if any) instead of one of
/// its own.
#[test]
#[ignore = "10M spans: run with --release -- --ignored --nocapture clickhouse_10m"]
fn clickhouse_10m() {
    let n: usize = std::env::var("STORE_SPANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let (_server, url) = match std::env::var("CLICKHOUSE_BENCH_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let server = Server::start();
            let url = server.url("bench");
            (Some(server), url)
        }
    };
    let store = clickhouse::Store::connect(&url).unwrap();
    let reused = store.count().unwrap();
    println!();
    if reused == 0 {
        let mut writer = clickhouse::Writer::connect(&url).unwrap();
        let t = Instant::now();
        synth::generate(n, 42, END_NS, 200_000, |chunk| {
            writer.insert(chunk).unwrap()
        });
        let secs = t.elapsed().as_secs_f64();
        let stored = store.count().unwrap();
        println!(
            "clickhouse_10m: {stored} spans inserted in {secs:.1} s ({:.0} spans/s, batches of 200,000; load average {})",
            stored as f64 / secs,
            load_average()
        );
    } else {
        println!("clickhouse_10m: {reused} spans already in {url}");
    }
    println!(
        "clickhouse_10m: {:<58} {:>9} {:>10} {:>10} {:>11}",
        "query (entry spans only, newest 50 + total)",
        "matches",
        "first ms",
        "median ms",
        "server CPU"
    );
    const RUNS: usize = 5;
    for q in synth::BENCH_SEARCHES {
        let query = parse(q).unwrap();
        let (result, first, median, cpu) = median_ms_cpu(&url, RUNS, || {
            store.search(&query, Scope::default()).unwrap()
        });
        println!(
            "clickhouse_10m: {q:<58} {:>9} {first:>10.1} {median:>10.1} {cpu:>8.0} ms",
            result.total
        );
    }
    for (q, key) in [
        ("service:payments status:error", "usr.id"),
        ("@account.id:premium_*", "account.id"),
        ("", "service"),
    ] {
        let query = parse(q).unwrap();
        let (result, first, median, cpu) = median_ms_cpu(&url, RUNS, || {
            store.group_by(&query, key, Scope::default()).unwrap()
        });
        let label = format!(
            "group by {key} with p50/p95/p99: {}",
            if q.is_empty() { "(all)" } else { q }
        );
        println!(
            "clickhouse_10m: {label:<58} {:>9} {first:>10.1} {median:>10.1} {cpu:>8.0} ms   ({} groups)",
            result.total, result.group_count
        );
    }
    for q in ["service:payments status:error", "@duration:>5s"] {
        let query = parse(q).unwrap();
        let (impact, first, median, cpu) = median_ms_cpu(&url, RUNS, || {
            store.impact(&query, Scope::default()).unwrap()
        });
        let label = format!("impacted users: {q}");
        println!(
            "clickhouse_10m: {label:<58} {:>9} {first:>10.1} {median:>10.1} {cpu:>8.0} ms   ({} users on {} accounts)",
            impact.spans, impact.user_count, impact.account_count
        );
    }
    println!("clickhouse_10m: load average {}", load_average());
}
