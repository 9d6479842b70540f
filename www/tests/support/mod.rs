//! What the tests that run the demo beside the explorer share.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use usertrail_explorer::server::{self, Options};

/// A client that never goes through a proxy (the services are on 127.0.0.1).
fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A `GET` answered 200 with JSON.
pub(crate) async fn get(url: &str) -> Value {
    let res = client().get(url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    serde_json::from_slice(&res.bytes().await.unwrap()).unwrap()
}

/// A checkout of `qty` bags of beans as the browser SDK sends it to the demo's checkout
/// service (`ready` is the demo's ready line): `trace_id` sampled, and `session`, `user_123`
/// and `account_456` in the baggage. Asserts a 200; the order, as JSON.
pub(crate) async fn checkout_as_browser(
    ready: &Value,
    trace_id: &str,
    session: &str,
    qty: u32,
) -> Value {
    let checkout = ready["checkout"].as_str().unwrap();
    let response = client()
        .post(format!("{checkout}/api/checkout"))
        .header("content-type", "application/json")
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .header(
            "baggage",
            format!("session.id={session},user.id=user_123,account.id=account_456"),
        )
        .body(format!(
            r#"{{"items":[{{"id":"beans","qty":{qty}}}],"card":"visa"}}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// `usertrail-explorer` on a free loopback port, its store in `data_dir`: its base URL.
pub(crate) async fn start_explorer(data_dir: PathBuf) -> String {
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel::<SocketAddr>();
    let options = Options {
        listen: "127.0.0.1:0".into(),
        data_dir,
        ..Options::default()
    };
    tokio::spawn(server::run(
        options,
        move |addr| {
            let _ = addr_tx.send(addr);
        },
        std::future::pending(),
    ));
    format!("http://{}", addr_rx.await.expect("the explorer starts"))
}

/// A stand-in for the built SDK under `base` (these tests drive the services, not the page).
pub(crate) fn empty_pkg(base: &Path) -> PathBuf {
    let pkg = base.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("index.js"), "export {};").unwrap();
    pkg
}
