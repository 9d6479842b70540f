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
    Event, SpanContext, SpanId, SpanKind as OtelKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, Key, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::{EnvResourceDetector, ResourceDetector};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};
use tokio::sync::{mpsc, oneshot};
use usertrail_propagator::tracing::{
    INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION, SpanKind, SpanRecord, SpanSink, TagValue,
};

use crate::flush::Flushed;

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

/// The resource of one of the demo's services: the SDK's detectors (`telemetry.sdk.*`, and
/// `OTEL_RESOURCE_ATTRIBUTES`, e.g. `deployment.environment.name=staging`), then
/// `service.name` (each of the demo's services has its own, so `OTEL_SERVICE_NAME` cannot
/// rename them) and `service.version` (unless `OTEL_RESOURCE_ATTRIBUTES` sets one).
pub fn resource(service: &'static str) -> Resource {
    let from_env = EnvResourceDetector::new().detect();
    let mut builder = Resource::builder().with_service_name(service);
    if from_env.get(&Key::new("service.version")).is_none() {
        builder =
            builder.with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    }
    builder.build()
}

/// The instrumentation scope of every exported span: the crate that made it, and its version.
fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(INSTRUMENTATION_NAME)
        .with_version(INSTRUMENTATION_VERSION)
        .build()
}

/// What the export task is sent: a span, or a flush to acknowledge once every span sent
/// before it has been exported (or refused).
enum Msg {
    Span(SpanRecord),
    Flush(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
struct Stats {
    accepted: AtomicU64,
    /// Queue full.
    dropped: AtomicU64,
    exported: AtomicU64,
    /// Refused by the collector, or not answered in time.
    failed: AtomicU64,
}

/// A [`SpanSink`] that exports over OTLP/HTTP.
#[derive(Debug)]
pub struct OtlpSink {
    tx: mpsc::Sender<Msg>,
    stats: Arc<Stats>,
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
        exporter.set_resource(&resource(service));
        let (tx, mut rx) = mpsc::channel::<Msg>(QUEUE);
        let stats = Arc::new(Stats::default());
        let task_stats = Arc::clone(&stats);
        tokio::spawn(async move {
            let scope = scope();
            let mut batch = Vec::with_capacity(BATCH);
            let mut warned = false;
            while let Some(first) = rx.recv().await {
                let mut acks = Vec::new();
                match first {
                    Msg::Span(record) => batch.push(span_data(&record, &scope)),
                    Msg::Flush(ack) => acks.push(ack),
                }
                // A flush exports at once; otherwise a batch waits a little for company.
                let deadline = Instant::now() + LINGER;
                while batch.len() < BATCH && acks.is_empty() {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match tokio::time::timeout(left, rx.recv()).await {
                        Ok(Some(Msg::Span(record))) => batch.push(span_data(&record, &scope)),
                        Ok(Some(Msg::Flush(ack))) => acks.push(ack),
                        Ok(None) | Err(_) => break,
                    }
                }
                if !batch.is_empty() {
                    let n = batch.len() as u64;
                    match exporter.export(std::mem::take(&mut batch)).await {
                        Ok(()) => {
                            task_stats.exported.fetch_add(n, Ordering::Relaxed);
                            warned = false;
                        }
                        Err(e) => {
                            task_stats.failed.fetch_add(n, Ordering::Relaxed);
                            if !warned {
                                eprintln!(
                                    "usertrail-demo: OTLP export of {n} {service} spans failed: {e}"
                                );
                                warned = true;
                            }
                        }
                    }
                }
                for ack in acks {
                    let _ = ack.send(());
                }
            }
        });
        Ok(OtlpSink { tx, stats })
    }

    /// Spans dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.stats.dropped.load(Ordering::Relaxed)
    }

    /// Exports every span recorded before the call, waiting at most `timeout` (a slow
    /// collector included); spans not exported by then count as dropped.
    pub async fn flush(&self, timeout: Duration) -> Flushed {
        let exported = || self.stats.exported.load(Ordering::Relaxed);
        let before = exported();
        let (ack, acked) = oneshot::channel();
        let _ = tokio::time::timeout(timeout, async {
            if self.tx.send(Msg::Flush(ack)).await.is_ok() {
                let _ = acked.await;
            }
        })
        .await;
        let written = exported();
        let failed = self.stats.failed.load(Ordering::Relaxed);
        let pending = self
            .stats
            .accepted
            .load(Ordering::Relaxed)
            .saturating_sub(written + failed);
        Flushed {
            flushed: written - before,
            dropped: self.dropped() + failed + pending,
            written,
        }
    }
}

impl SpanSink for OtlpSink {
    fn record(&self, span: SpanRecord) {
        match self.tx.try_send(Msg::Span(span)) {
            Ok(()) => self.stats.accepted.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.stats.dropped.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// An attribute with the value's type kept (`items` stays an integer).
fn key_value(key: &str, value: &TagValue) -> KeyValue {
    let key = key.to_owned();
    match value {
        TagValue::Bool(b) => KeyValue::new(key, *b),
        TagValue::I64(n) => KeyValue::new(key, *n),
        TagValue::F64(n) => KeyValue::new(key, *n),
        other => KeyValue::new(key, other.to_string()),
    }
}

/// The OpenTelemetry form of a record: same ids and times; the span named as the HTTP
/// conventions name it (`GET /orders/{id}`); the tags as attributes with their types, but
/// not Datadog's `error` flag, which the status says; the `tracing` events as span events
/// (with their `level` and `target`); an error's message on the status.
pub fn span_data(record: &SpanRecord, scope: &InstrumentationScope) -> SpanData {
    let kind = match record.kind {
        SpanKind::Server => OtelKind::Server,
        SpanKind::Client => OtelKind::Client,
        SpanKind::Internal => OtelKind::Internal,
    };
    let attributes = record
        .tags
        .iter()
        .filter(|(k, _)| *k != "error")
        .map(|(k, v)| key_value(k, v))
        .collect();
    let events = record
        .events
        .iter()
        .map(|event| {
            let mut attributes = vec![
                KeyValue::new("level", event.level.as_str()),
                KeyValue::new("target", event.target.to_string()),
            ];
            attributes.extend(event.attributes.iter().map(|(k, v)| key_value(k, v)));
            Event::new(event.name.to_string(), event.time, attributes, 0)
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
        name: record.otel_name(),
        start_time: record.start,
        end_time: record.start + record.duration,
        attributes,
        dropped_attributes_count: 0,
        events: {
            let mut span_events = SpanEvents::default();
            span_events.events = events;
            span_events.dropped_count = record.dropped_events;
            span_events
        },
        links: SpanLinks::default(),
        status: if record.error {
            Status::error(record.status_message.clone().unwrap_or_default())
        } else {
            Status::Unset
        },
        instrumentation_scope: scope.clone(),
    }
}
