//! The demo's servers in-process, without a browser: a request with the browser's headers goes
//! through checkout and payments, and the store gets both entry spans with the identity and
//! child spans without it. (tests/e2e/demo.test.mjs does the same from a real Chromium.)

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use usertrail_www::app::{self, Addresses, Options};
use usertrail_www::flush::Flushed;
use usertrail_www::query::parse;
use usertrail_www::store::sqlite::Store;
use usertrail_www::store::{Scope, Span, SpanStore};

struct Demo {
    addresses: Addresses,
    data_dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    run: Option<tokio::task::JoinHandle<Option<Flushed>>>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

async fn start(name: &str) -> Demo {
    let data_dir =
        std::env::temp_dir().join(format!("usertrail-www-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    let options = Options {
        shop_port: 0,
        checkout_port: 0,
        payments_port: 0,
        third_party_port: 0,
        data_dir: data_dir.clone(),
        ..Options::default()
    };
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move {
        let result = app::run(
            options,
            move |addresses, _| {
                let _ = ready_tx.send(*addresses);
            },
            async move {
                let _ = stop_rx.await;
            },
        )
        .await;
        match result {
            Ok(flushed) => Some(flushed),
            Err(e) => {
                eprintln!("demo: {e}");
                None
            }
        }
    });
    let addresses = tokio::time::timeout(Duration::from_secs(10), ready_rx)
        .await
        .expect("started in time")
        .expect("started");
    Demo {
        addresses,
        data_dir,
        stop: Some(stop_tx),
        run: Some(run),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn checkout(demo: &Demo, traceparent: &str, baggage: &str, card: &str) -> (u16, Value) {
    let response = client()
        .post(format!("http://{}/api/checkout", demo.addresses.checkout))
        .header("content-type", "application/json")
        .header("traceparent", traceparent)
        .header("tracestate", "dd=s:1;o:rum")
        .header("baggage", baggage)
        .body(format!(
            r#"{{"items":[{{"id":"beans","qty":2}}],"card":"{card}"}}"#
        ))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    (status, body)
}

/// The spans of a trace once both services' entry spans are stored.
async fn trace(demo: &Demo, trace_id: &str) -> Vec<Span> {
    let store = Store::open(&demo.data_dir.join("spans.sqlite")).unwrap();
    for _ in 0..100 {
        let spans = store.trace(trace_id).unwrap();
        if spans.iter().filter(|s| s.kind == "server").count() == 2 {
            // The rest of the batch may still be in flight.
            tokio::time::sleep(Duration::from_millis(100)).await;
            return store.trace(trace_id).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "trace {trace_id} not stored: {:?}",
        store.trace(trace_id).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_entry_spans_carry_the_identity_and_children_none() {
    let demo = start("identity").await;
    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let (status, body) = checkout(
        &demo,
        &format!("00-{trace_id}-b7ad6b7169203331-03"),
        "session.id=s-1,user.id=user_123,account.id=account_456",
        "visa",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["trace_id"], trace_id);

    let spans = trace(&demo, trace_id).await;
    let entries: Vec<&Span> = spans.iter().filter(|s| s.kind == "server").collect();
    let mut services: Vec<&str> = entries.iter().map(|s| s.service.as_str()).collect();
    services.sort_unstable();
    assert_eq!(services, ["checkout", "payments"]);
    for s in &entries {
        assert_eq!(s.tag("usr.id"), Some("user_123"), "{s:?}");
        assert_eq!(s.tag("account.id"), Some("account_456"), "{s:?}");
        assert_eq!(s.tag("session.id"), Some("s-1"), "{s:?}");
    }
    let checkout_entry = entries.iter().find(|s| s.service == "checkout").unwrap();
    assert_eq!(
        checkout_entry.parent_id.as_deref(),
        Some("b7ad6b7169203331")
    );
    let payments_entry = entries.iter().find(|s| s.service == "payments").unwrap();
    assert_eq!(payments_entry.tag("usr.role"), Some("customer"));
    for s in spans.iter().filter(|s| s.kind != "server") {
        for key in s.tags.keys() {
            assert!(
                !key.starts_with("usr.") && !key.starts_with("account.") && key != "session.id",
                "{} has {key}",
                s.name
            );
        }
    }

    // The seed query finds it.
    let store = Store::open(&demo.data_dir.join("spans.sqlite")).unwrap();
    let found = store
        .search(
            &parse("@usr.id:user_123 service:checkout").unwrap(),
            Scope::default(),
        )
        .unwrap();
    assert!(found.spans.iter().any(|s| s.trace_id == trace_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn premium_accounts_paying_with_amex_fail_in_payments() {
    let demo = start("amex").await;
    let trace_id = "1af7651916cd43dd8448eb211c80319c";
    let (status, body) = checkout(
        &demo,
        &format!("00-{trace_id}-b7ad6b7169203331-01"),
        "session.id=s-2,user.id=vip_user_1,account.id=premium_acme",
        "amex",
    )
    .await;
    assert_eq!(status, 502, "{body}");
    let spans = trace(&demo, trace_id).await;
    let failed: Vec<(&str, &str)> = spans
        .iter()
        .filter(|s| s.error)
        .map(|s| (s.service.as_str(), s.name.as_str()))
        .collect();
    assert!(
        failed.contains(&("payments", "processor.authorize")),
        "{failed:?}"
    );
    assert!(failed.contains(&("payments", "http.request")), "{failed:?}");
    assert!(failed.contains(&("checkout", "http.request")), "{failed:?}");
    let store = Store::open(&demo.data_dir.join("spans.sqlite")).unwrap();
    let groups = store
        .group_by(
            &parse("service:payments status:error").unwrap(),
            "usr.id",
            Scope::default(),
        )
        .unwrap();
    assert_eq!(groups.groups.len(), 1);
    assert_eq!(groups.groups[0].value.as_deref(), Some("vip_user_1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_allows_the_trace_headers_from_the_shop_only() {
    let demo = start("cors").await;
    let preflight = |origin: String| {
        client()
            .request(
                reqwest::Method::OPTIONS,
                format!("http://{}/api/checkout", demo.addresses.checkout),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "baggage,content-type,traceparent,tracestate,x-datadog-origin,x-datadog-parent-id,x-datadog-sampling-priority,x-datadog-tags,x-datadog-trace-id",
            )
            .send()
    };
    let shop = format!("http://127.0.0.1:{}", demo.addresses.shop.port());
    let ok = preflight(shop.clone()).await.unwrap();
    assert!(ok.status().is_success());
    assert_eq!(ok.headers()["access-control-allow-origin"], shop.as_str());
    let allowed = ok.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    for h in [
        "traceparent",
        "tracestate",
        "baggage",
        "x-datadog-trace-id",
        "content-type",
    ] {
        assert!(allowed.contains(h), "{h} not in {allowed}");
    }
    let other = preflight("http://evil.example".into()).await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // The third party records what it gets.
    client()
        .get(format!(
            "http://{}/reviews.json",
            demo.addresses.third_party
        ))
        .send()
        .await
        .unwrap();
    let seen: Value = serde_json::from_str(
        &client()
            .get(format!("http://{}/api/third-party", demo.addresses.shop))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(seen["requests"][0]["path"], "/reviews.json");
    assert_eq!(seen["with_trace_headers"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_writes_every_queued_span_before_returning() {
    let mut demo = start("shutdown").await;
    let trace_id = "2af7651916cd43dd8448eb211c80319c";
    let (status, body) = checkout(
        &demo,
        &format!("00-{trace_id}-b7ad6b7169203331-01"),
        "session.id=s-3,user.id=user_123,account.id=account_456",
        "visa",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let _ = demo.stop.take().unwrap().send(());
    let flushed = demo.run.take().unwrap().await.unwrap().expect("ran");
    // Right away, no polling: `run` returned only once the store had them.
    let store = Store::open(&demo.data_dir.join("spans.sqlite")).unwrap();
    let spans = store.trace(trace_id).unwrap();
    assert_eq!(
        spans.iter().filter(|s| s.kind == "server").count(),
        2,
        "{spans:#?}"
    );
    assert_eq!(flushed.dropped, 0, "{flushed}");
    assert!(flushed.written as usize >= spans.len(), "{flushed}");
}
