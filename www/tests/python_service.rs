//! A service in another language: the Python `shipping` service (`www/shipping/app.py`, plain
//! WSGI with the OpenTelemetry SDK, `BaggageSpanProcessor` and the OTLP/HTTP exporter from
//! PyPI, in the venv `scripts/setup` makes) is called by checkout with the browser's baggage
//! and exports to the explorer, which finds its entry span by user in the same trace as
//! checkout's and payments'.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};
use support::{checkout_as_browser, get};

use serde_json::Value;

/// A child process, stopped on drop (stdin closed first, so it flushes its spans).
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The JSON after `prefix` on the first stdout line that starts with it. The rest of stdout
/// is read to the end, so that what the process prints on its way out has somewhere to go.
async fn ready_line(stdout: ChildStdout, prefix: &'static str) -> Value {
    let (tx, rx) = tokio::sync::oneshot::channel::<Value>();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(json) = line.strip_prefix(prefix)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(serde_json::from_str(json).unwrap());
            }
        }
    });
    rx.await
        .unwrap_or_else(|_| panic!("no `{prefix}` line: the process did not start"))
}

#[tokio::test]
async fn a_python_service_called_with_the_browsers_baggage_is_found_by_user_in_the_same_trace() {
    let www = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = www.join("shipping/.venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/setup makes the shipping service's venv",
        python.display()
    );
    let base = std::env::temp_dir().join(format!("usertrail-python-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let pkg = support::empty_pkg(&base);
    let explorer = support::start_explorer(base.join("explorer")).await;

    // The Python service, exporting to it.
    let mut shipping = Process(
        Command::new(&python)
            .arg(www.join("shipping/app.py"))
            .args(["--port", "0", "--exit-with-stdin"])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &explorer)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let shipping_ready = ready_line(shipping.0.stdout.take().unwrap(), "shipping ready ").await;
    let shipping_url = shipping_ready["url"].as_str().unwrap().to_owned();

    // The demo's checkout and payments, calling it and exporting to the explorer too.
    let mut demo = Process(
        Command::new(env!("CARGO_BIN_EXE_usertrail-demo"))
            .args(["--any-ports", "--exit-with-stdin", "--data-dir"])
            .arg(base.join("demo"))
            .arg("--pkg-dir")
            .arg(&pkg)
            .args(["--shipping-url", &shipping_url])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &explorer)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let ready = ready_line(demo.0.stdout.take().unwrap(), "usertrail-demo ready ").await;

    // What the browser SDK sends.
    let trace_id = "5b8efff798038103d269b633813fc60c";
    let order = checkout_as_browser(&ready, trace_id, "s-42", 3).await;
    assert_eq!(
        order["shipping"]["days"], 3,
        "checkout got the quote: {order}"
    );

    // The three entry spans of the trace reach the explorer (Python's exporter batches).
    let deadline = Instant::now() + Duration::from_secs(30);
    let trace = loop {
        let trace = get(&format!("{explorer}/api/trace/{trace_id}")).await;
        let services: Vec<&str> = trace["spans"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "server")
            .filter_map(|s| s["service"].as_str())
            .collect();
        if services.len() == 3 {
            let mut sorted = services.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, ["checkout", "payments", "shipping"], "{trace}");
            break trace;
        }
        assert!(Instant::now() < deadline, "spans never arrived: {trace}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // `@usr.id:user_123` finds shipping's entry span, with the identity from the baggage.
    let found = get(&format!(
        "{explorer}/api/search?q=%40usr.id%3Auser_123%20service%3Ashipping"
    ))
    .await;
    assert_eq!(found["total"], 1, "{found}");
    let entry = &found["spans"][0];
    assert_eq!(entry["trace_id"], trace_id);
    assert_eq!(entry["resource"], "GET /quote");
    assert_eq!(entry["tags"]["account.id"], "account_456");
    assert_eq!(entry["tags"]["session.id"], "s-42");
    // Python's service only has the browser's word for it.
    assert_eq!(entry["tags"]["usr.id.source"], "baggage");
    let by_user = get(&format!("{explorer}/api/search?q=%40usr.id%3Auser_123")).await;
    assert_eq!(
        by_user["total"], 3,
        "checkout, payments and shipping: {by_user}"
    );

    // Its child span (`shipping.rate`) is stored without identity, under shipping's entry span.
    let spans = trace["spans"].as_array().unwrap();
    let rate = spans
        .iter()
        .find(|s| s["name"] == "shipping.rate")
        .expect("the child span");
    assert_eq!(rate["parent_id"], entry["span_id"]);
    assert!(rate["tags"].get("usr.id").is_none(), "{rate}");
    assert!(rate["tags"].get("user.id").is_none(), "{rate}");
    drop(demo);
    drop(shipping);
    let _ = std::fs::remove_dir_all(&base);
}
