//! `/api/monitors` on the whole service (`server::run` on a free port of 127.0.0.1, synthetic
//! spans over the last 24 hours): created, listed, read, muted, deleted; bad input refused
//! with the field at fault; the schedule notifying a real webhook server; failed deliveries
//! retried and shown; the read token asked for; the monitors kept across a restart.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use usertrail_explorer::auth::Tokens;
use usertrail_explorer::monitor::webhook::Retry;
use usertrail_explorer::server::{self, Options};

struct Service {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Service {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.done.await.unwrap().unwrap();
    }
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("usertrail-monitors-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    Dir(d)
}

async fn start(dir: &Dir, synthetic: usize, tokens: Tokens) -> Service {
    let options = Options {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.0.clone(),
        synthetic,
        tokens,
        monitor_interval: Duration::from_millis(200),
        webhook_retry: Retry {
            attempts: 2,
            first_delay: Duration::from_millis(100),
        },
        ..Options::default()
    };
    let (addr_tx, addr_rx) = oneshot::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(server::run(
        options,
        move |addr| {
            let _ = addr_tx.send(addr);
        },
        async move {
            let _ = stopped.await;
        },
    ));
    let addr = addr_rx.await.expect("the service starts");
    Service {
        url: format!("http://{addr}"),
        stop: Some(stop),
        done,
    }
}

/// A webhook receiver on 127.0.0.1: every body it is sent.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(body): axum::Json<Value>| {
            let _ = tx.send(body);
            std::future::ready(axum::http::StatusCode::NO_CONTENT)
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), rx)
}

async fn call(method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut req = client.request(method.parse().unwrap(), url);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let bytes = res.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn premium(webhook: &str) -> Value {
    json!({
        "name": "premium error rate",
        "query": "@account.id:premium_*",
        "metric": "error_rate",
        "threshold": 5,
        "window": "24h",
        "webhook": webhook,
    })
}

#[tokio::test]
async fn monitors_are_created_listed_muted_deleted_and_bad_ones_refused() {
    let d = dir("crud");
    let s = start(&d, 0, Tokens::default()).await;
    let api = format!("{}/api/monitors", s.url);
    let (status, body) = call("GET", &api, None).await;
    assert_eq!((status, body), (200, json!({ "monitors": [] })));

    let (status, created) = call("POST", &api, Some(premium("http://127.0.0.1:9/x"))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_u64().unwrap();
    assert_eq!(created["state"], Value::Null, "not evaluated yet");
    let (_, list) = call("GET", &api, None).await;
    assert_eq!(list["monitors"][0]["name"], "premium error rate");
    assert!(list["monitors"][0].get("history").is_none());

    let (status, muted) = call(
        "PATCH",
        &format!("{api}/{id}"),
        Some(json!({ "muted": true })),
    )
    .await;
    assert_eq!((status, &muted["muted"]), (200, &json!(true)));
    let (_, read) = call("GET", &format!("{api}/{id}"), None).await;
    assert_eq!(read["muted"], true);
    assert!(read["history"].is_array() && read["failures"].is_array());

    // Bad input: the field at fault, positioned for a query.
    let mut bad_query = premium("http://127.0.0.1:9/x");
    bad_query["query"] = json!("@usr.id:u trace(status:error");
    let (status, e) = call("POST", &api, Some(bad_query)).await;
    assert_eq!(status, 400);
    assert_eq!(
        (&e["error"]["field"], &e["error"]["position"]),
        (&json!("query"), &json!(10)),
        "{e}"
    );
    for (patch, field) in [
        (json!({ "window": "forever" }), "window"),
        (json!({ "webhook": "file:///etc/passwd" }), "webhook"),
        (
            json!({ "metric": "users", "group_by": "service" }),
            "group_by",
        ),
        (json!({ "name": "" }), "name"),
    ] {
        let mut spec = premium("http://127.0.0.1:9/x");
        for (k, v) in patch.as_object().unwrap() {
            spec[k] = v.clone();
        }
        let (status, e) = call("POST", &api, Some(spec)).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (400, Some(field)),
            "{e}"
        );
    }
    for body in [json!([1, 2]), json!({ "name": "x" }), json!("nope")] {
        let (status, e) = call("POST", &api, Some(body)).await;
        assert_eq!(status, 400);
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("JSON object")
        );
    }
    let (status, _) = call("PATCH", &format!("{api}/{id}"), Some(json!({ "muted": 1 }))).await;
    assert_eq!(status, 400);
    for path in ["999", "abc", "-1"] {
        assert_eq!(call("GET", &format!("{api}/{path}"), None).await.0, 404);
    }

    assert_eq!(call("DELETE", &format!("{api}/{id}"), None).await.0, 204);
    assert_eq!(call("DELETE", &format!("{api}/{id}"), None).await.0, 404);
    assert_eq!(call("GET", &format!("{api}/{id}"), None).await.0, 404);
    s.stop().await;
}

#[tokio::test]
async fn the_schedule_notifies_the_webhook_and_failed_deliveries_are_shown() {
    let d = dir("notify");
    let s = start(&d, 20_000, Tokens::default()).await;
    let api = format!("{}/api/monitors", s.url);
    let (hook, mut bodies) = receiver().await;
    let (_, m) = call("POST", &api, Some(premium(&hook))).await;
    let body = tokio::time::timeout(Duration::from_secs(30), bodies.recv())
        .await
        .expect("a notification within 30 s")
        .unwrap();
    assert_eq!(body["monitor_id"], m["id"]);
    assert_eq!(body["state"], "ALERT");
    assert_eq!(body["previous_state"], Value::Null);
    assert_eq!(body["group"], Value::Null);
    assert!(body["value"].as_f64().unwrap() > 5.0, "{body}");
    assert_eq!(body["unit"], "%");
    assert_eq!(
        body["link"],
        "/explorer?q=%40account.id%3Apremium_%2A&range=24h"
    );

    // Nobody listens on port 9: two attempts, both failures shown, the last one giving up.
    let (_, dead) = call("POST", &api, Some(premium("http://127.0.0.1:9/hook"))).await;
    let url = format!("{api}/{}", dead["id"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let failures = loop {
        let (_, d) = call("GET", &url, None).await;
        if d["failures"].as_array().unwrap().len() == 2 {
            break d["failures"].clone();
        }
        assert!(Instant::now() < deadline, "{d}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failures[0]["attempt"], 1);
    assert_eq!(failures[0]["gave_up"], false);
    assert_eq!(failures[1]["gave_up"], true);
    assert_eq!(failures[1]["summary"], "(new) → ALERT");
    assert!(!failures[1]["error"].as_str().unwrap().is_empty());
    s.stop().await;

    // A restart keeps both, with their states and history.
    let again = start(&d, 0, Tokens::default()).await;
    let (_, list) = call("GET", &format!("{}/api/monitors", again.url), None).await;
    let list = list["monitors"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["state"], "ALERT");
    assert_eq!(list[1]["failure_count"], 2);
    again.stop().await;
}

#[tokio::test]
async fn monitors_need_the_read_token() {
    let d = dir("auth");
    let tokens = Tokens {
        read: Some("r3ad".into()),
        ingest: Some("1ngest".into()),
    };
    let s = start(&d, 0, tokens).await;
    let api = format!("{}/api/monitors", s.url);
    assert_eq!(call("GET", &api, None).await.0, 401);
    assert_eq!(
        call("POST", &api, Some(premium("http://127.0.0.1:9/x")))
            .await
            .0,
        401
    );
    let client = reqwest::Client::new();
    let res = client
        .post(&api)
        .bearer_auth("r3ad")
        .header("content-type", "application/json")
        .body(premium("http://127.0.0.1:9/x").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = client.get(&api).bearer_auth("1ngest").send().await.unwrap();
    assert_eq!(res.status(), 401, "the ingest token cannot read");
    s.stop().await;
}
