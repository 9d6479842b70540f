//! The receiver's decode budget, with the budget's bytes held by the test in place of other
//! requests being decoded.

use std::io::Write;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use flate2::Compression;
use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

use super::{
    ExportTraceServiceRequest, PROTOBUF, RESOURCE_EXHAUSTED, RETRY_AFTER_SECONDS, Receiver,
    RpcStatus, export, reserve,
};
use crate::ingest::Ingest;
use crate::store::Retention;
use crate::store::sqlite::Writer;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn receiver(name: &str, max_body: usize, budget: usize) -> (Receiver, TempDir) {
    let dir = std::env::temp_dir().join(format!("usertrail-otlp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let writer = Writer::open(&dir.join("spans.sqlite")).unwrap();
    let ingest = Ingest::start(Box::new(writer), 1_000, Retention::default()).unwrap();
    (
        Receiver::with_decode_budget(ingest, max_body, budget),
        TempDir(dir),
    )
}

/// One span with an attribute of `padding` bytes.
fn body(padding: usize) -> Vec<u8> {
    let span = Span {
        trace_id: vec![7; 16],
        span_id: vec![1; 8],
        kind: 2,
        attributes: vec![KeyValue {
            key: "padding".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("x".repeat(padding))),
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![span],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(body).unwrap();
    gz.finish().unwrap()
}

async fn post(receiver: &Receiver, body: Vec<u8>, gzipped: bool) -> axum::response::Response {
    let mut request = Request::builder()
        .method("POST")
        .uri("/v1/traces")
        .header(header::CONTENT_TYPE, PROTOBUF);
    if gzipped {
        request = request.header(header::CONTENT_ENCODING, "gzip");
    }
    export(
        State(receiver.clone()),
        request.body(Body::from(body)).unwrap(),
    )
    .await
}

async fn assert_retry_later(response: axum::response::Response) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        response.headers()[header::RETRY_AFTER],
        RETRY_AFTER_SECONDS.to_string()
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let status = RpcStatus::decode(bytes).unwrap();
    assert_eq!(status.code, RESOURCE_EXHAUSTED);
    assert!(status.message.contains("decoded"), "{}", status.message);
}

#[tokio::test]
async fn a_body_past_the_decode_budget_is_asked_to_come_back() {
    const BUDGET: usize = 4_096;
    let (receiver, _dir) = receiver("budget", BUDGET, BUDGET);
    let body = body(500);
    // Other requests are decoding all but a byte less than this body.
    let others = reserve(&receiver.decoding, BUDGET - body.len() + 1).unwrap();
    assert_retry_later(post(&receiver, body.clone(), false).await).await;
    drop(others);
    assert_eq!(post(&receiver, body, false).await.status(), StatusCode::OK);
    // Every byte is given back once the request is answered.
    assert_eq!(receiver.decoding.available_permits(), BUDGET);
}

#[tokio::test]
async fn a_gzip_body_counts_its_decompressed_bytes() {
    const BUDGET: usize = 4_096;
    let (receiver, _dir) = receiver("budget-gzip", BUDGET, BUDGET);
    let plain = body(3_000);
    let compressed = gzip(&plain);
    assert!(compressed.len() < 200);
    // Room for the compressed body, not for what it decompresses to.
    let others = reserve(&receiver.decoding, BUDGET - 1_000).unwrap();
    assert_retry_later(post(&receiver, compressed.clone(), true).await).await;
    assert_eq!(receiver.decoding.available_permits(), 1_000);
    drop(others);
    assert_eq!(
        post(&receiver, compressed, true).await.status(),
        StatusCode::OK
    );
    assert_eq!(receiver.decoding.available_permits(), BUDGET);
}

#[test]
fn the_budget_is_never_below_the_body_limit() {
    let (receiver, _dir) = receiver("budget-min", 1 << 20, 1);
    assert_eq!(receiver.decoding.available_permits(), 1 << 20);
}
