//! Who may see it: beyond loopback the service needs its two tokens, and then refuses
//! requests without them.

use std::net::SocketAddr;

use usertrail_explorer::auth::Tokens;
use usertrail_explorer::server::{self, Options};

struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    Dir(std::env::temp_dir().join(format!("usertrail-auth-{name}-{}", std::process::id())))
}

async fn start(options: Options) -> std::io::Result<SocketAddr> {
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(server::run(
        options,
        move |addr| {
            let _ = addr_tx.send(addr);
        },
        std::future::pending(),
    ));
    match addr_rx.await {
        Ok(addr) => Ok(addr),
        Err(_) => Err(server.await.unwrap().unwrap_err()),
    }
}

#[tokio::test]
async fn beyond_loopback_the_service_will_not_start_without_both_tokens() {
    for tokens in [
        Tokens::default(),
        Tokens {
            read: Some("r".into()),
            ingest: None,
        },
        Tokens {
            read: None,
            ingest: Some("i".into()),
        },
    ] {
        let d = dir("refused");
        let err = start(Options {
            listen: "0.0.0.0:0".into(),
            data_dir: d.0.clone(),
            tokens,
            ..Options::default()
        })
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("--read-token and --ingest-token"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn with_tokens_requests_without_them_are_refused() {
    let d = dir("tokens");
    let addr = start(Options {
        listen: "0.0.0.0:0".into(),
        data_dir: d.0.clone(),
        tokens: Tokens {
            read: Some("read-s3cret".into()),
            ingest: Some("ingest-s3cret".into()),
        },
        ..Options::default()
    })
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{}", addr.port());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    // The page and the API: a browser is asked for the token (Basic auth).
    for path in ["/explorer", "/api/status", "/api/search?q=service:checkout"] {
        let res = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 401, "{path}");
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic ")
        );
        let wrong = client
            .get(format!("{base}{path}"))
            .basic_auth("me", Some("ingest-s3cret"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            wrong.status(),
            401,
            "the ingest token does not read: {path}"
        );
        let ok = client
            .get(format!("{base}{path}"))
            .basic_auth("me", Some("read-s3cret"))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{path}");
        let bearer = client
            .get(format!("{base}{path}"))
            .bearer_auth("read-s3cret")
            .send()
            .await
            .unwrap();
        assert_eq!(bearer.status(), 200, "{path}");
    }

    // OTLP ingest: the ingest token only.
    let body = r#"{"resourceSpans":[]}"#;
    let post = |token: Option<&'static str>| {
        let mut r = client
            .post(format!("{base}/v1/traces"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 401);
    assert_eq!(post(Some("read-s3cret")).await.unwrap().status(), 401);
    assert_eq!(post(Some("ingest-s3cret")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn on_loopback_without_tokens_it_is_open() {
    let d = dir("open");
    let addr = start(Options {
        listen: "127.0.0.1:0".into(),
        data_dir: d.0.clone(),
        ..Options::default()
    })
    .await
    .unwrap();
    let res = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://{addr}/api/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
