//! The demo exporting over OTLP (its `OtlpSink`, `opentelemetry-otlp`'s real exporter) to the
//! `usertrail-explorer` server: the way a team's own services would. A request with the
//! browser's baggage goes through checkout and payments; the explorer then finds both entry
//! spans by user, says where each identity came from, and stores the children without it.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{checkout_as_browser, get};

use serde_json::Value;

struct Cleanup(Vec<std::path::PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for dir in &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[tokio::test]
async fn the_demo_exports_to_the_explorer_and_the_remap_tags_each_entry_span() {
    let base = std::env::temp_dir().join(format!("usertrail-otlp-e2e-{}", std::process::id()));
    let _cleanup = Cleanup(vec![base.clone()]);
    let pkg = support::empty_pkg(&base);
    let explorer = support::start_explorer(base.join("explorer")).await;

    // The demo, exporting to it.
    let mut demo = Command::new(env!("CARGO_BIN_EXE_usertrail-demo"))
        .args(["--any-ports", "--exit-with-stdin", "--data-dir"])
        .arg(base.join("demo"))
        .arg("--pkg-dir")
        .arg(&pkg)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &explorer)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = demo.stdout.take().unwrap();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Value>();
    std::thread::spawn(move || {
        let mut ready_tx = Some(ready_tx);
        // Read to the end, so that what the demo prints on its way out has somewhere to go.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(json) = line.strip_prefix("usertrail-demo ready ")
                && let Some(tx) = ready_tx.take()
            {
                let _ = tx.send(serde_json::from_str(json).unwrap());
            }
        }
    });
    let ready: Value = ready_rx.await.expect("the demo did not start");

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    checkout_as_browser(&ready, trace_id, "s-1", 2).await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let trace = loop {
        let trace = get(&format!("{explorer}/api/trace/{trace_id}")).await;
        let entries = trace["spans"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == "server")
            .count();
        if entries == 2 {
            break trace;
        }
        assert!(Instant::now() < deadline, "spans never arrived: {trace}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let spans = trace["spans"].as_array().unwrap();
    assert!(spans.len() > 2, "children too: {trace}");
    for s in spans {
        if s["kind"] == "server" {
            assert_eq!(s["tags"]["usr.id"], "user_123", "{s}");
            assert_eq!(s["tags"]["session.id"], "s-1", "{s}");
            // checkout only has the browser's word; payments called set_user.
            let source = if s["service"] == "payments" {
                "service"
            } else {
                "baggage"
            };
            assert_eq!(s["tags"]["usr.id.source"], source, "{s}");
        } else {
            assert!(
                s["tags"].get("usr.id").is_none(),
                "a child has no identity: {s}"
            );
        }
    }
    let found = get(&format!("{explorer}/api/search?q=%40usr.id%3Auser_123")).await;
    assert_eq!(found["total"], 2, "{found}");

    // The shop's explorer link leads to the explorer, query and all.
    let res = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{}/explorer?q=status%3Aerror",
            ready["shop"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 307);
    assert_eq!(
        res.headers()["location"],
        format!("{explorer}/explorer?q=status%3Aerror").as_str()
    );

    drop(demo.stdin.take());
    let _ = demo.wait();
}
