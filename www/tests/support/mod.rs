//! What the tests that run the demo beside the explorer share.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;
use usertrail_explorer::server::{self, Options};

/// A `GET` answered 200 with JSON.
pub(crate) async fn get(url: &str) -> Value {
    let res = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{url}");
    serde_json::from_slice(&res.bytes().await.unwrap()).unwrap()
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
