//! Plays the W3C Trace Context harness (`test/test.py`) against `examples/w3c_test_service.rs`:
//! POST cases with trace headers, callbacks to a local recording server, then check the
//! headers each callback received.
#![cfg(all(feature = "axum", feature = "reqwest"))]

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use http::HeaderMap;

#[allow(dead_code)]
#[path = "../examples/w3c_test_service.rs"]
mod service;

#[derive(Clone, Debug)]
struct Callback {
    traceparent: Vec<String>,
    tracestate: Option<String>,
    body: String,
}

type Recorded = Arc<Mutex<Vec<Callback>>>;

struct Harness {
    test_url: String,
    callback_url: String,
    recorded: Recorded,
    client: reqwest::Client,
}

async fn record(
    State(recorded): State<Recorded>,
    headers: HeaderMap,
    body: String,
) -> &'static str {
    let all = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    let tracestate = all("tracestate");
    recorded.lock().unwrap().push(Callback {
        traceparent: all("traceparent"),
        tracestate: (!tracestate.is_empty()).then(|| tracestate.join(",")),
        body,
    });
    "ok"
}

async fn harness() -> Harness {
    let service = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let test_url = format!("http://{}/test", service.local_addr().unwrap());
    tokio::spawn(service::serve(service));

    let recorded: Recorded = Arc::default();
    let recorder = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback_url = format!("http://{}/callback", recorder.local_addr().unwrap());
    let app = Router::new()
        .route("/callback", post(record))
        .with_state(Arc::clone(&recorded));
    tokio::spawn(async move { axum::serve(recorder, app).await });

    Harness {
        test_url,
        callback_url,
        recorded,
        client: reqwest::Client::new(),
    }
}

impl Harness {
    /// POSTs `n` callback cases with `headers`; returns what the callbacks received.
    async fn run(&self, headers: &[(&str, &str)], n: usize) -> Vec<Callback> {
        self.recorded.lock().unwrap().clear();
        let cases: Vec<serde_json::Value> = (0..n)
            .map(|i| serde_json::json!({"url": self.callback_url, "arguments": [{"case": i}]}))
            .collect();
        let mut request = self
            .client
            .post(&self.test_url)
            .header("content-type", "application/json")
            .body(serde_json::Value::Array(cases).to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        // The service answers after every callback completed.
        let got = self.recorded.lock().unwrap().clone();
        assert_eq!(got.len(), n, "callbacks for {headers:?}");
        got
    }
}

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID: &str = "b7ad6b7169203331";

fn parts(traceparent: &str) -> (String, String, String, String) {
    let p: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(p.len(), 4, "{traceparent}");
    (p[0].into(), p[1].into(), p[2].into(), p[3].into())
}

fn only_traceparent(callback: &Callback) -> (String, String, String, String) {
    assert_eq!(callback.traceparent.len(), 1, "{callback:?}");
    parts(&callback.traceparent[0])
}

#[tokio::test]
async fn continues_the_trace_with_a_new_parent_id_per_callback() {
    let h = harness().await;
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let got = h
        .run(
            &[("traceparent", &traceparent), ("tracestate", "foo=1,bar=2")],
            3,
        )
        .await;
    let mut parents = Vec::new();
    for (i, callback) in got.iter().enumerate() {
        let (version, trace_id, parent_id, flags) = only_traceparent(callback);
        assert_eq!(version, "00");
        assert_eq!(trace_id, TRACE_ID);
        assert_ne!(parent_id, PARENT_ID);
        assert_eq!(flags, "01");
        assert_eq!(callback.tracestate.as_deref(), Some("foo=1,bar=2"));
        assert_eq!(callback.body, format!(r#"[{{"case":{i}}}]"#));
        parents.push(parent_id);
    }
    parents.sort();
    parents.dedup();
    assert_eq!(parents.len(), 3, "a new parent id per outgoing request");
}

#[tokio::test]
async fn keeps_the_random_and_unsampled_flags() {
    let h = harness().await;
    for (incoming, expected) in [("03", "03"), ("02", "02"), ("00", "00"), ("ff", "03")] {
        let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-{incoming}");
        let got = h.run(&[("traceparent", &traceparent)], 1).await;
        let (_, trace_id, _, flags) = only_traceparent(&got[0]);
        assert_eq!(trace_id, TRACE_ID);
        assert_eq!(flags, expected, "incoming flags {incoming}");
        assert_eq!(got[0].tracestate, None);
    }
}

#[tokio::test]
async fn restarts_on_an_invalid_traceparent() {
    let h = harness().await;
    let invalid = [
        format!("00-{TRACE_ID}-0000000000000000-01"), // zero parent id
        format!("00-00000000000000000000000000000000-{PARENT_ID}-01"), // zero trace id
        format!("00-{}-{PARENT_ID}-01", TRACE_ID.to_uppercase()), // upper case
        format!("ff-{TRACE_ID}-{PARENT_ID}-01"),      // version ff
        format!("00-{TRACE_ID}-{PARENT_ID}-01-extra"), // 00 with more after
        format!("00-{TRACE_ID}-{PARENT_ID}"),         // no flags
        "garbage".to_owned(),
    ];
    let mut seen = Vec::new();
    for traceparent in &invalid {
        let got = h
            .run(&[("traceparent", traceparent), ("tracestate", "foo=1")], 1)
            .await;
        let (version, trace_id, parent_id, flags) = only_traceparent(&got[0]);
        assert_eq!(version, "00");
        assert_ne!(trace_id, TRACE_ID, "{traceparent}");
        assert_ne!(parent_id, PARENT_ID);
        assert_eq!(flags, "03", "a new trace: sampled, random trace id");
        // tracestate is not parsed (so not passed on) without a valid traceparent.
        assert_eq!(got[0].tracestate, None, "{traceparent}");
        seen.push(trace_id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        invalid.len(),
        "every restart has its own trace id"
    );

    // No traceparent at all: a new trace too.
    let got = h.run(&[], 1).await;
    let (_, trace_id, _, flags) = only_traceparent(&got[0]);
    assert_ne!(trace_id, TRACE_ID);
    assert_eq!(flags, "03");

    // Two traceparent headers: restart.
    let one = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let got = h
        .run(&[("traceparent", &one), ("traceparent", &one)], 1)
        .await;
    assert_ne!(only_traceparent(&got[0]).1, TRACE_ID);
}

#[tokio::test]
async fn accepts_a_future_version() {
    let h = harness().await;
    let traceparent = format!("cc-{TRACE_ID}-{PARENT_ID}-01-what-the-future-holds");
    let got = h.run(&[("traceparent", &traceparent)], 1).await;
    let (version, trace_id, _, flags) = only_traceparent(&got[0]);
    assert_eq!(version, "00", "we send the version we know");
    assert_eq!(trace_id, TRACE_ID);
    assert_eq!(flags, "01");
}

#[tokio::test]
async fn drops_an_invalid_tracestate_whole_and_passes_a_valid_one_on() {
    let h = harness().await;
    let traceparent = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let long_value = "v".repeat(257);
    let thirty_three: String = (0..33)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    let invalid = [
        "foo=1,bar".to_owned(),      // member without '='
        "foo=1,Bar=2".to_owned(),    // upper-case key
        format!("foo={long_value}"), // value too long
        thirty_three,                // over 32 members
        "foo=1,@bar=2".to_owned(),   // a key starting with '@'
    ];
    for tracestate in &invalid {
        let got = h
            .run(
                &[("traceparent", &traceparent), ("tracestate", tracestate)],
                1,
            )
            .await;
        let (_, trace_id, _, _) = only_traceparent(&got[0]);
        assert_eq!(trace_id, TRACE_ID, "the traceparent is still continued");
        assert_eq!(got[0].tracestate, None, "{tracestate}");
    }
    // Valid edge cases are passed on, repeated headers joined.
    let thirty_two: String = (0..32)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    for (headers, expected) in [
        (
            vec![("tracestate", thirty_two.as_str())],
            thirty_two.clone(),
        ),
        (
            vec![("tracestate", "foo=1"), ("tracestate", "bar=2")],
            "foo=1,bar=2".to_owned(),
        ),
        (
            vec![("tracestate", "tenant@vendor=x, foo=1 ,")],
            "tenant@vendor=x,foo=1".to_owned(),
        ),
        // Level 2 §3.3.2.2.1: '@' is a keychar, any number of times.
        (
            vec![("tracestate", "foo=1,b@r@z=2,q@=3")],
            "foo=1,b@r@z=2,q@=3".to_owned(),
        ),
        // Level 2 §3.5: a duplicate added upstream is inherited as it came.
        (
            vec![("tracestate", "foo=1"), ("tracestate", "foo=2")],
            "foo=1,foo=2".to_owned(),
        ),
    ] {
        let mut all = vec![("traceparent", traceparent.as_str())];
        all.extend(headers);
        let got = h.run(&all, 1).await;
        assert_eq!(got[0].tracestate.as_deref(), Some(expected.as_str()));
    }
}
