//! The explorer's JSON API over an embedded store filled with the demo's synthetic spans (the
//! last 24 hours up to now), served on a free port of 127.0.0.1 and asked over HTTP.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use usertrail_explorer::api::{Backend, router};
use usertrail_explorer::store::{SpanWriter, sqlite, synth};

struct Api {
    url: String,
    dir: PathBuf,
    client: reqwest::Client,
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn now_ns() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
}

/// `n` synthetic spans over the 24 hours before now, behind the API.
async fn start(name: &str, n: usize) -> Api {
    let dir = std::env::temp_dir().join(format!("usertrail-api-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("spans.sqlite");
    let mut writer = sqlite::Writer::open(&file).unwrap();
    synth::generate(n, 1, now_ns(), 5_000, |chunk| writer.insert(chunk).unwrap());
    let store = sqlite::Store::open(&file).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(Backend::Store(Arc::new(store)));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Api {
        url: format!("http://{addr}"),
        dir,
        client: reqwest::Client::new(),
    }
}

/// `text` for a URL's query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Api {
    /// The status and JSON body of a GET.
    async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let res = self
            .client
            .get(format!("{}{path_and_query}", self.url))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (
            status,
            serde_json::from_slice(&res.bytes().await.unwrap()).unwrap(),
        )
    }

    async fn ok(&self, path_and_query: &str) -> Value {
        let (status, body) = self.get(path_and_query).await;
        assert_eq!(status, 200, "{path_and_query}: {body}");
        body
    }
}

#[tokio::test]
async fn every_view_answers_for_its_time_range() {
    let api = start("range", 20_000).await;
    let q = encode("service:payments");
    let all = api.ok(&format!("/api/search?q={q}")).await["total"]
        .as_u64()
        .unwrap();
    let day = api.ok(&format!("/api/search?q={q}&range=2d")).await["total"]
        .as_u64()
        .unwrap();
    let hour = api.ok(&format!("/api/search?q={q}&range=1h")).await["total"]
        .as_u64()
        .unwrap();
    let quarter = api.ok(&format!("/api/search?q={q}&range=15m")).await["total"]
        .as_u64()
        .unwrap();
    assert_eq!(day, all, "the data covers the last 24 hours");
    assert!(hour < all / 10 && hour > 0, "{hour} of {all}");
    assert!(quarter < hour, "{quarter} < {hour}");

    // from/to in milliseconds: the hour before the last one.
    let now_ms = now_ns() / 1_000_000;
    let (from, to) = (now_ms - 2 * 3_600_000, now_ms - 3_600_000);
    let found = api
        .ok(&format!("/api/search?q={q}&from={from}&to={to}&limit=1000"))
        .await;
    for span in found["spans"].as_array().unwrap() {
        let start_ms = span["start_ns"].as_i64().unwrap() / 1_000_000;
        assert!(
            (from..to).contains(&start_ms),
            "{start_ms} not in {from}..{to}"
        );
    }
    assert!(found["total"].as_u64().unwrap() > 0);

    // Group-by, impact and endpoints count the range's spans only.
    let grouped = api
        .ok(&format!("/api/groupby?q={q}&by=service&range=1h"))
        .await;
    assert_eq!(grouped["total"].as_u64().unwrap(), hour);
    let impact_all = api.ok(&format!("/api/impact?q={q}&entry=1")).await;
    let impact_hour = api.ok(&format!("/api/impact?q={q}&entry=1&range=1h")).await;
    assert_eq!(impact_hour["spans"].as_u64().unwrap(), hour);
    assert!(impact_hour["user_count"].as_u64() < impact_all["user_count"].as_u64());
    let endpoints = api.ok("/api/endpoints?range=1h").await;
    let requests: u64 = endpoints["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["service"] == "payments")
        .map(|e| e["count"].as_u64().unwrap())
        .sum();
    assert_eq!(requests, hour);

    // Bad ranges are a clear 400.
    for bad in ["range=1y", "range=abc", "from=yesterday", "from=20&to=10"] {
        let (status, body) = api.get(&format!("/api/search?q={q}&{bad}")).await;
        assert_eq!(status, 400, "{bad}");
        assert!(
            body["error"]["message"].as_str().unwrap().len() > 10,
            "{body}"
        );
    }
}

#[tokio::test]
async fn one_users_activity_in_time_order() {
    let api = start("activity", 30_000).await;
    let d = api
        .ok("/api/activity?key=account.id&value=account_456&range=2d&limit=500")
        .await;
    let spans = d["spans"].as_array().unwrap();
    assert_eq!(d["requests"].as_u64().unwrap() as usize, spans.len());
    assert!(spans.len() > 2, "{d}");
    let starts: Vec<i64> = spans
        .iter()
        .map(|s| s["start_ns"].as_i64().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    for s in spans {
        assert_eq!(s["kind"], "server");
        assert_eq!(s["tags"]["account.id"], "account_456");
    }
    let sessions: u64 = d["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sessions, d["requests"].as_u64().unwrap());
    assert!(!d["users"].as_array().unwrap().is_empty());

    let (status, body) = api.get("/api/activity?key=service&value=checkout").await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = api.get("/api/activity?key=usr.id").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn trace_queries_find_requests_by_what_happened_deeper_down() {
    let api = start("trace", 20_000).await;
    // Premium accounts whose card authorization (a child span, no identity) failed on amex.
    let q = encode("@account.id:premium_* trace(@card:amex status:error)");
    let found = api.ok(&format!("/api/search?q={q}&limit=1000")).await;
    let spans = found["spans"].as_array().unwrap();
    assert!(!spans.is_empty());
    for s in spans {
        assert_eq!(s["kind"], "server");
        let trace = api
            .ok(&format!("/api/trace/{}", s["trace_id"].as_str().unwrap()))
            .await;
        assert!(
            trace["spans"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["tags"]["card"] == "amex"
                    && c["error"] == true
                    && c["kind"] == "internal"),
            "{trace}"
        );
    }
    let (status, body) = api
        .get(&format!(
            "/api/search?q={}",
            encode("@usr.id:u trace(status:error")
        ))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["position"], 10, "{body}");
}

#[tokio::test]
async fn tag_analysis_ranks_the_planted_faults_first() {
    let api = start("analysis", 40_000).await;
    let d = api
        .ok(&format!(
            "/api/analysis?q={}&range=2d",
            encode("status:error")
        ))
        .await;
    // Who stands out: the vip users (on premium accounts), among the top two of every tag
    // (beside the checkout endpoint, where both faults show).
    let top = d["top"].as_array().unwrap();
    let vip = top
        .iter()
        .position(|v| v["key"] == "usr.role" && v["value"] == "vip")
        .unwrap();
    assert!(vip < 2, "{d}");
    let (sel, base) = (
        top[vip]["selection_share"].as_f64().unwrap(),
        top[vip]["baseline_share"].as_f64().unwrap(),
    );
    assert!(sel > 5.0 * base, "{sel} vs {base}");
    let accounts = d["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == "account.id")
        .unwrap();
    for v in accounts["values"].as_array().unwrap().iter().take(5) {
        assert!(v["value"].as_str().unwrap().starts_with("premium_"), "{v}");
    }
    let d = api
        .ok(&format!(
            "/api/analysis?q={}&keys=account.id&range=2d",
            encode("@duration:>5s")
        ))
        .await;
    assert_eq!(d["keys"][0]["values"][0]["value"], "account_789", "{d}");
    let (status, body) = api
        .get(&format!(
            "/api/analysis?q=status%3Aerror&baseline={}",
            encode("service:")
        ))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["in"], "baseline", "{body}");
    assert_eq!(body["error"]["position"], 8);
}

#[tokio::test]
async fn error_groups_sorted_by_the_users_they_hit() {
    let api = start("errors", 20_000).await;
    let d = api.ok("/api/errors?range=2d").await;
    let groups = d["groups"].as_array().unwrap();
    assert!(groups.len() >= 4, "{d}");
    let users: Vec<u64> = groups
        .iter()
        .map(|g| g["users"].as_u64().unwrap())
        .collect();
    assert!(users.windows(2).all(|w| w[0] >= w[1]), "{users:?}");
    let declined = groups
        .iter()
        .find(|g| g["service"] == "payments" && g["resource"] == "POST /charge")
        .unwrap();
    assert_eq!(declined["error"], "HTTP 502");
    assert!(declined["first_seen_ns"].as_i64() <= declined["last_seen_ns"].as_i64());
    let count: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(count, d["errors"].as_u64().unwrap());
    let narrowed = api
        .ok(&format!(
            "/api/errors?range=2d&q={}",
            encode("service:checkout")
        ))
        .await;
    assert!(
        narrowed["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["service"] == "checkout")
    );
}
