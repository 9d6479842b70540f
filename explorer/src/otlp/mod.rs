//! The OTLP/HTTP trace receiver, `POST /v1/traces`, by the OTLP specification's rules
//! (<https://opentelemetry.io/docs/specs/otlp/#otlphttp>):
//!
//! * `Content-Type: application/x-protobuf` (binary protobuf) or `application/json`
//!   (protobuf's JSON mapping: hex ids, integer enums); anything else is a 415. The response
//!   is in the request's encoding.
//! * `Content-Encoding: gzip` bodies are decompressed (`identity` or none: as they are).
//! * 200 with an `ExportTraceServiceResponse` once the spans are stored; spans that cannot be
//!   stored (no valid trace or span id) are counted in its `partial_success`.
//! * 400 with a `google.rpc.Status` for a body that does not decode; 413 for a body, or a
//!   decompressed body, over the limit; 429 with `Retry-After` when the ingest queue is full
//!   or too many bytes are being decoded ([`DECODE_BUDGET`]), 503 with `Retry-After` when the
//!   store fails (both retryable by OTLP exporters).

mod convert;
#[cfg(test)]
mod tests;

use std::io::Read;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::read::GzDecoder;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use convert::{MAX_ATTRIBUTES, MAX_VALUE_CHARS, spans};

use crate::ingest::{Ingest, Refused};

/// The path OTLP/HTTP exporters send traces to.
pub const TRACES_PATH: &str = "/v1/traces";
/// Seconds a sender is asked to wait after a 429 or 503.
pub const RETRY_AFTER_SECONDS: u32 = 1;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// `google.rpc.Status`, the body of an OTLP/HTTP error response.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

// google.rpc.Code values.
const INVALID_ARGUMENT: i32 = 3;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;

/// Requests read, decompressed and decoded at the same time at most; past that, a 429. With
/// the body limit this bounds the memory requests hold before their spans reach the queue.
pub const MAX_IN_FLIGHT: usize = 16;

/// Bytes of (decompressed) bodies being decoded at the same time at most, or the body limit
/// if that is more; past that, a 429 with `Retry-After`. Decoded, a body takes several times
/// its size (a `String` or `Vec` per field): sixteen 16 MiB bodies at once would be hundreds
/// of MiB, this keeps it to a few.
pub const DECODE_BUDGET: usize = 32 << 20;

/// The receiver's settings and its way into the store.
#[derive(Clone, Debug)]
pub struct Receiver {
    ingest: Ingest,
    max_body: usize,
    in_flight: Arc<Semaphore>,
    /// One permit per byte of the bodies being decoded.
    decoding: Arc<Semaphore>,
}

impl Receiver {
    /// A receiver handing spans to `ingest`, taking bodies of at most `max_body` bytes
    /// (compressed and decompressed).
    pub fn new(ingest: Ingest, max_body: usize) -> Self {
        Self::with_decode_budget(ingest, max_body, DECODE_BUDGET)
    }

    /// [`new`](Self::new), with `budget` bytes decoded at once at most rather than
    /// [`DECODE_BUDGET`] (never less than `max_body`, so that every body can be taken).
    pub fn with_decode_budget(ingest: Ingest, max_body: usize, budget: usize) -> Self {
        // tokio's semaphore takes at most `usize::MAX >> 3` permits, and u32 at a time.
        let budget = budget.max(max_body).clamp(1, u32::MAX as usize);
        Receiver {
            ingest,
            max_body: max_body.min(budget),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            decoding: Arc::new(Semaphore::new(budget)),
        }
    }
}

fn busy(encoding: Encoding) -> Response {
    failure(
        encoding,
        StatusCode::TOO_MANY_REQUESTS,
        RESOURCE_EXHAUSTED,
        "too many bytes being decoded at once: retry later".into(),
    )
}

/// `n` bytes of the decoding budget, if free now.
fn reserve(decoding: &Arc<Semaphore>, n: usize) -> Option<OwnedSemaphorePermit> {
    let n = u32::try_from(n.max(1)).ok()?;
    Arc::clone(decoding).try_acquire_many_owned(n).ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

fn encoding(headers: &HeaderMap) -> Option<Encoding> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next()?.trim();
    if media.eq_ignore_ascii_case(PROTOBUF) {
        Some(Encoding::Protobuf)
    } else if media.eq_ignore_ascii_case(JSON) {
        Some(Encoding::Json)
    } else {
        None
    }
}

fn respond(encoding: Encoding, status: StatusCode, body: Vec<u8>) -> Response {
    let content_type = match encoding {
        Encoding::Protobuf => PROTOBUF,
        Encoding::Json => JSON,
    };
    let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    }
    response
}

fn failure(encoding: Encoding, status: StatusCode, code: i32, message: String) -> Response {
    let body = match encoding {
        Encoding::Protobuf => RpcStatus { code, message }.encode_to_vec(),
        Encoding::Json => serde_json::json!({ "code": code, "message": message })
            .to_string()
            .into_bytes(),
    };
    respond(encoding, status, body)
}

fn too_large(encoding: Encoding, limit: usize) -> Response {
    failure(
        encoding,
        StatusCode::PAYLOAD_TOO_LARGE,
        INVALID_ARGUMENT,
        format!("the body is over {limit} bytes (see --max-body)"),
    )
}

/// Decompresses a gzip body, refusing to grow past `limit` bytes.
fn gunzip(body: &[u8], limit: usize) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    let taken = GzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the gzip body does not decompress: {e}"))?;
    Ok((taken <= limit).then_some(out))
}

/// The spans of a body, or the response that refuses it.
fn decode(
    encoding: Encoding,
    content_encoding: &str,
    bytes: &[u8],
    limit: usize,
    decoding: &Arc<Semaphore>,
    permit: &mut OwnedSemaphorePermit,
) -> Result<convert::Converted, Box<Response>> {
    let gunzipped;
    let plain: &[u8] = if content_encoding == "gzip" {
        match gunzip(bytes, limit) {
            Ok(Some(plain)) => {
                // The decompressed body is what decodes: its bytes count too.
                match reserve(decoding, plain.len()) {
                    Some(more) => permit.merge(more),
                    None => return Err(Box::new(busy(encoding))),
                }
                gunzipped = plain;
                &gunzipped
            }
            Ok(None) => return Err(Box::new(too_large(encoding, limit))),
            Err(message) => {
                return Err(Box::new(failure(
                    encoding,
                    StatusCode::BAD_REQUEST,
                    INVALID_ARGUMENT,
                    message,
                )));
            }
        }
    } else {
        bytes
    };
    let decoded = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(plain).map_err(|e| e.to_string()),
        Encoding::Json => {
            serde_json::from_slice::<ExportTraceServiceRequest>(plain).map_err(|e| e.to_string())
        }
    };
    match decoded {
        Ok(request) => Ok(spans(request)),
        Err(e) => Err(Box::new(failure(
            encoding,
            StatusCode::BAD_REQUEST,
            INVALID_ARGUMENT,
            format!("the body is not an OTLP ExportTraceServiceRequest: {e}"),
        ))),
    }
}

/// `POST /v1/traces`.
pub async fn export(State(receiver): State<Receiver>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(encoding) = encoding(&parts.headers) else {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("OTLP/HTTP takes Content-Type {PROTOBUF} or {JSON}"),
        )
            .into_response();
    };
    let Ok(permit) = Arc::clone(&receiver.in_flight).try_acquire_owned() else {
        return failure(
            encoding,
            StatusCode::TOO_MANY_REQUESTS,
            RESOURCE_EXHAUSTED,
            "too many requests at once: retry later".into(),
        );
    };
    let limit = receiver.max_body;
    let bytes: Bytes = match axum::body::to_bytes(Body::new(body), limit).await {
        Ok(bytes) => bytes,
        Err(_) => return too_large(encoding, limit),
    };
    let content_encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("identity")
        .to_ascii_lowercase();
    if content_encoding != "gzip" && content_encoding != "identity" {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Encoding `{content_encoding}`: only gzip is taken"),
        )
            .into_response();
    }
    let Some(mut decoding) = reserve(&receiver.decoding, bytes.len()) else {
        return busy(encoding);
    };
    // Decompressing and decoding 16 MiB is CPU work: off the async threads.
    let budget = Arc::clone(&receiver.decoding);
    let decoded = tokio::task::spawn_blocking(move || {
        let converted = decode(
            encoding,
            &content_encoding,
            &bytes,
            limit,
            &budget,
            &mut decoding,
        );
        // The request and its decoded objects are gone; the spans are counted by the queue.
        drop(decoding);
        converted
    })
    .await;
    drop(permit);
    let converted = match decoded {
        Ok(Ok(converted)) => converted,
        Ok(Err(response)) => return *response,
        Err(e) => {
            return failure(
                encoding,
                StatusCode::INTERNAL_SERVER_ERROR,
                INVALID_ARGUMENT,
                format!("decoding failed: {e}"),
            );
        }
    };
    if !converted.spans.is_empty() {
        let stored = match receiver.ingest.submit(converted.spans) {
            Ok(stored) => stored,
            Err(Refused::Full) => {
                return failure(
                    encoding,
                    StatusCode::TOO_MANY_REQUESTS,
                    RESOURCE_EXHAUSTED,
                    "the ingest queue is full: retry later".into(),
                );
            }
            Err(Refused::Closed) => {
                return failure(
                    encoding,
                    StatusCode::SERVICE_UNAVAILABLE,
                    UNAVAILABLE,
                    "the store is shutting down".into(),
                );
            }
        };
        match stored.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return failure(
                    encoding,
                    StatusCode::SERVICE_UNAVAILABLE,
                    UNAVAILABLE,
                    format!("spans not stored: {e}"),
                );
            }
            Err(_) => {
                return failure(
                    encoding,
                    StatusCode::SERVICE_UNAVAILABLE,
                    UNAVAILABLE,
                    "the store stopped".into(),
                );
            }
        }
    }
    let response = ExportTraceServiceResponse {
        partial_success: (converted.rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(converted.rejected).unwrap_or(i64::MAX),
            error_message: converted.first_error.unwrap_or_default(),
        }),
    };
    let body = match encoding {
        Encoding::Protobuf => response.encode_to_vec(),
        Encoding::Json => serde_json::to_vec(&response).unwrap_or_default(),
    };
    respond(encoding, StatusCode::OK, body)
}
