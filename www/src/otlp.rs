//! [`OtlpSink`]: the same spans, exported over OTLP/HTTP (protobuf) instead of the local store,
//! for Jaeger, Tempo, the OpenTelemetry Collector or the Datadog Agent.
//!
//! Set `OTEL_EXPORTER_OTLP_ENDPOINT` (e.g. `http://127.0.0.1:4318`) before starting the demo;
//! spans go to `<endpoint>/v1/traces`. The exporter is `opentelemetry-otlp`'s, so its other
//! variables apply too (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`,
//! `OTEL_EXPORTER_OTLP_TIMEOUT`). Only the `http/protobuf` transport (OTLP's default over
//! HTTP, port 4318) is built in, not gRPC.
//!
//! Each service gets its own sink (the OTLP resource, `service.name`, is per exporter). The
//! request path only puts the record on a bounded queue; a task batches and exports.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind as OtelKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use tokio::sync::mpsc;
use usertrail_propagator::tracing::{SpanKind, SpanRecord, SpanSink};

use crate::store::Span;

/// Records waiting for the exporter; past that, new ones are dropped (and counted).
const QUEUE: usize = 16_384;
/// Spans per export at most.
const BATCH: usize = 512;
/// How long a batch may wait for more spans.
const LINGER: Duration = Duration::from_millis(500);

/// Whether the environment asks for OTLP export (`OTEL_EXPORTER_OTLP_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set and not empty); the endpoint if so.
pub fn endpoint_from_env() -> Option<String> {
    [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}

/// A [`SpanSink`] that exports over OTLP/HTTP.
#[derive(Debug)]
pub struct OtlpSink {
    tx: mpsc::Sender<SpanRecord>,
    dropped: Arc<AtomicU64>,
}

impl OtlpSink {
    /// An exporter for `service` configured from the `OTEL_EXPORTER_OTLP_*` variables, its
    /// export task spawned on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// When the exporter cannot be built (a bad endpoint URL, say).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn start(service: &'static str) -> Result<Self, String> {
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| format!("OTLP exporter: {e}"))?;
        exporter.set_resource(&Resource::builder_empty().with_service_name(service).build());
        let (tx, mut rx) = mpsc::channel::<SpanRecord>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            let mut warned = false;
            while let Some(first) = rx.recv().await {
                batch.push(span_data(&first));
                let deadline = Instant::now() + LINGER;
                while batch.len() < BATCH {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match tokio::time::timeout(left, rx.recv()).await {
                        Ok(Some(record)) => batch.push(span_data(&record)),
                        Ok(None) | Err(_) => break,
                    }
                }
                let n = batch.len();
                match exporter.export(std::mem::take(&mut batch)).await {
                    Ok(()) => warned = false,
                    Err(e) if !warned => {
                        eprintln!("usertrail-demo: OTLP export of {n} {service} spans failed: {e}");
                        warned = true;
                    }
                    Err(_) => {}
                }
            }
        });
        Ok(OtlpSink {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Spans dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl SpanSink for OtlpSink {
    fn record(&self, span: SpanRecord) {
        if self.tx.try_send(span).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The OpenTelemetry form of a record: same ids, times and tags; HTTP spans are named
/// after their resource (`POST /api/checkout`), as OpenTelemetry's HTTP conventions name them.
pub fn span_data(record: &SpanRecord) -> SpanData {
    let span = Span::from_record(record);
    let kind = match record.kind {
        SpanKind::Server => OtelKind::Server,
        SpanKind::Client => OtelKind::Client,
        SpanKind::Internal => OtelKind::Internal,
    };
    let attributes = record
        .tags
        .iter()
        .map(|(k, v)| match (&**k, v.parse::<i64>()) {
            ("http.response.status_code", Ok(n)) => KeyValue::new(k.to_string(), n),
            _ => KeyValue::new(k.to_string(), v.to_string()),
        })
        .collect();
    SpanData {
        span_context: SpanContext::new(
            TraceId::from_bytes(record.trace_id.to_bytes()),
            SpanId::from_bytes(record.span_id.to_bytes()),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: record
            .parent_id
            .map_or(SpanId::INVALID, |p| SpanId::from_bytes(p.to_bytes())),
        parent_span_is_remote: record.kind == SpanKind::Server && record.parent_id.is_some(),
        span_kind: kind,
        name: if record.kind == SpanKind::Internal {
            record.name.clone()
        } else {
            span.resource.into()
        },
        start_time: record.start,
        end_time: record.start + record.duration,
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: if record.error {
            Status::error("")
        } else {
            Status::Unset
        },
        instrumentation_scope: InstrumentationScope::builder("usertrail").build(),
    }
}
