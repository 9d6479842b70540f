//! OpenTelemetry interplay: round trips with `opentelemetry_sdk`'s propagators both ways,
//! `UsertrailPropagator`, and the tracing-opentelemetry bridge on a real server.
#![cfg(feature = "opentelemetry")]

use std::collections::HashMap;

use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{
    SpanContext as OtelSpanContext, SpanId as OtelSpanId, TraceContextExt, TraceFlags as OtelFlags,
    TraceId as OtelTraceId, TraceState,
};
use opentelemetry::{Context as OtelContext, KeyValue};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use usertrail_propagator::otel::UsertrailPropagator;
use usertrail_propagator::{
    Baggage, Context, PropagatorType, SamplingPriority, SpanContext, SpanId, TraceFlags, TraceId,
    Tracestate, extract, inject,
};

fn otel_stack() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
}

fn otel_baggage(cx: &OtelContext, key: &str) -> Option<String> {
    cx.baggage().get(key).map(|v| v.as_str().to_owned())
}

#[test]
fn ours_inject_then_otel_extract() {
    let trace_id = TraceId::parse("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let span_id = SpanId::parse("00f067aa0ba902b7").unwrap();
    for flags in [
        TraceFlags::SAMPLED,
        TraceFlags::NONE,
        TraceFlags::SAMPLED | TraceFlags::RANDOM,
    ] {
        let mut baggage = Baggage::new();
        baggage.set("user.id", "jean dupont, 100%").unwrap();
        baggage
            .set("session.id", "5afb433c-40c3-4974-a7c2-8d5933cc67f6")
            .unwrap();
        let cx = Context::new()
            .with_span_context(SpanContext::new(trace_id, span_id, flags))
            .with_tracestate(Some(
                Tracestate::parse("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7").unwrap(),
            ))
            .with_baggage(baggage);
        let mut headers: HashMap<String, String> = HashMap::new();
        inject(&cx, &[PropagatorType::TraceContext], &mut headers).unwrap();

        let otel = otel_stack().extract(&headers);
        let span = otel.span();
        let sc = span.span_context();
        assert!(sc.is_valid() && sc.is_remote());
        assert_eq!(sc.trace_id().to_bytes(), trace_id.to_bytes());
        assert_eq!(sc.span_id().to_bytes(), span_id.to_bytes());
        assert_eq!(sc.is_sampled(), flags.is_sampled());
        assert_eq!(
            sc.trace_state().header(),
            "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
        );
        assert_eq!(
            otel_baggage(&otel, "user.id").as_deref(),
            Some("jean dupont, 100%")
        );
        assert_eq!(
            otel_baggage(&otel, "session.id").as_deref(),
            Some("5afb433c-40c3-4974-a7c2-8d5933cc67f6")
        );
    }
}

#[test]
fn otel_inject_then_ours_extract() {
    let sc = OtelSpanContext::new(
        OtelTraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap(),
        OtelSpanId::from_hex("b7ad6b7169203331").unwrap(),
        OtelFlags::SAMPLED,
        true,
        "dd=s:2;o:rum,other=1".parse::<TraceState>().unwrap(),
    );
    let cx = OtelContext::new()
        .with_remote_span_context(sc)
        .with_baggage(vec![
            KeyValueMetadata::new("user.id", "user 123", ""),
            KeyValueMetadata::new("account.id", "account_456", "ttl=1"),
        ]);
    let mut headers: HashMap<String, String> = HashMap::new();
    otel_stack().inject_context(&cx, &mut headers);

    let extracted = extract(&headers);
    assert!(extracted.errors().is_empty(), "{:?}", extracted.errors());
    let ours = extracted.span_context().unwrap();
    assert_eq!(
        ours.trace_id().to_string(),
        "0af7651916cd43dd8448eb211c80319c"
    );
    assert_eq!(ours.span_id().to_string(), "b7ad6b7169203331");
    assert!(ours.is_sampled());
    assert_eq!(ours.sampling_priority(), Some(SamplingPriority::USER_KEEP));
    assert_eq!(ours.origin(), Some("rum"));
    assert_eq!(extracted.tracestate().unwrap().get("other"), Some("1"));
    let identity = extracted.identity();
    assert_eq!(identity.user_id(), Some("user 123"));
    assert_eq!(identity.account_id(), Some("account_456"));
    let member = extracted
        .baggage()
        .iter()
        .find(|m| m.key() == "account.id")
        .unwrap();
    assert_eq!(
        member.properties().collect::<Vec<_>>(),
        [("ttl", Some("1".into()))]
    );
}

/// An OpenTelemetry context whose `dd` member disagrees with its sampled flag is injected as
/// extraction would read it: Datadog's rule (the flag wins, priority 1 or 0 from it) applies.
#[test]
fn dd_member_of_an_otel_context_is_reconciled_with_the_sampled_flag() {
    let propagator = UsertrailPropagator::new();
    #[rustfmt::skip]
    let cases: &[(&str, OtelFlags, &str, &str)] = &[
        ("s:2;o:rum", OtelFlags::NOT_SAMPLED, "0", "keep priority on an unsampled trace: 0 from the flag"),
        ("s:-1", OtelFlags::SAMPLED, "1", "reject priority on a sampled trace: 1 from the flag"),
        ("s:2", OtelFlags::SAMPLED, "2", "agreeing priority kept"),
    ];
    for (dd, flags, priority, why) in cases {
        let sc = OtelSpanContext::new(
            OtelTraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            OtelSpanId::from_hex("00f067aa0ba902b7").unwrap(),
            *flags,
            true,
            TraceState::from_key_value([("dd", *dd)]).unwrap(),
        );
        let cx = OtelContext::new().with_remote_span_context(sc);
        let mut out = HashMap::new();
        propagator.inject_context(&cx, &mut out);
        assert_eq!(out["x-datadog-sampling-priority"], *priority, "{why}");
        assert!(
            out["tracestate"].starts_with(&format!("dd=s:{priority}")),
            "{why}: {}",
            out["tracestate"]
        );
    }
}

#[test]
fn usertrail_propagator_interoperates_with_otel() {
    let ours = UsertrailPropagator::new();
    // Datadog headers in (what the browser SDK sends with tracecontext off).
    let incoming: HashMap<String, String> = [
        ("x-datadog-trace-id", "992357060732163540"),
        ("x-datadog-parent-id", "458454585432244812"),
        ("x-datadog-sampling-priority", "1"),
        ("x-datadog-origin", "rum"),
        ("baggage", "session.id=s1,user.id=user_123;prop=1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let cx = ours.extract(&incoming);
    let span = cx.span();
    let sc = span.span_context();
    assert_eq!(
        sc.trace_id().to_string(),
        "00000000000000000dc58f7d2f4a95d4"
    );
    assert_eq!(sc.span_id().to_string(), "065cc2043656824c");
    assert_eq!(
        sc.trace_state().get("dd"),
        Some("s:1;o:rum"),
        "priority and origin kept"
    );
    assert_eq!(otel_baggage(&cx, "user.id").as_deref(), Some("user_123"));
    assert_eq!(
        cx.baggage()
            .get_with_metadata("user.id")
            .map(|(_, m)| m.as_str().to_owned()),
        Some("prop=1".to_owned())
    );

    // OTel's own propagators read what ours writes...
    let mut out: HashMap<String, String> = HashMap::new();
    ours.inject_context(&cx, &mut out);
    assert_eq!(
        out["traceparent"],
        "00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01"
    );
    assert_eq!(out["tracestate"], "dd=s:1;o:rum;p:065cc2043656824c");
    assert_eq!(out["x-datadog-trace-id"], "992357060732163540");
    assert_eq!(out["x-datadog-sampling-priority"], "1");
    assert_eq!(out["x-datadog-origin"], "rum");
    let back = otel_stack().extract(&out);
    assert_eq!(back.span().span_context().trace_id(), sc.trace_id());
    assert_eq!(otel_baggage(&back, "session.id").as_deref(), Some("s1"));

    // ...and ours reads what OTel's write.
    let mut otel_out: HashMap<String, String> = HashMap::new();
    otel_stack().inject_context(&cx, &mut otel_out);
    let again = ours.extract(&otel_out);
    assert_eq!(again.span().span_context().span_id(), sc.span_id());
    assert_eq!(otel_baggage(&again, "user.id").as_deref(), Some("user_123"));

    // Usable as the global propagator.
    opentelemetry::global::set_text_map_propagator(UsertrailPropagator::new());
    let global = opentelemetry::global::get_text_map_propagator(|p| p.extract(&incoming));
    assert_eq!(global.span().span_context().trace_id(), sc.trace_id());

    // Bad input: the incoming context comes back unchanged, valid baggage kept.
    let bad: HashMap<String, String> = [("traceparent", "00-xyz"), ("baggage", "ok=1,bad key=2")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let parent = OtelContext::new().with_value(KeyValue::new("k", "v"));
    let cx = ours.extract_with_context(&parent, &bad);
    assert!(!cx.span().span_context().is_valid());
    assert_eq!(otel_baggage(&cx, "ok").as_deref(), Some("1"));
    assert_eq!(cx.baggage().len(), 1);
}

#[cfg(all(feature = "axum", feature = "reqwest"))]
mod bridge {
    use std::future::Future;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use axum::Router;
    use axum::routing::get;
    use http::HeaderMap;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry::{Key, Value};
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
    use reqwest_middleware::ClientBuilder;
    use tracing::Instrument;
    use tracing_subscriber::prelude::*;
    use usertrail_propagator::reqwest::PropagateContextMiddleware;
    use usertrail_propagator::tower::PropagateContextLayer;
    use usertrail_propagator::tracing::{
        BaggageTagKeys, MemorySink, SpanKind, User, UsertrailLayer, set_user,
    };

    #[derive(Clone, Debug, Default)]
    struct Collect(Arc<Mutex<Vec<SpanData>>>);

    impl SpanExporter for Collect {
        fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
            self.0.lock().unwrap().extend(batch);
            std::future::ready(Ok(()))
        }
    }

    fn attribute(span: &SpanData, key: &str) -> Option<String> {
        span.attributes
            .iter()
            .rev()
            .find(|kv| kv.key == Key::from(key.to_owned()))
            .map(|kv| match &kv.value {
                Value::String(s) => s.as_str().to_owned(),
                other => other.to_string(),
            })
    }

    fn typed(span: &SpanData, key: &str) -> Option<Value> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    }

    #[tokio::test]
    async fn exported_entry_span_continues_the_browser_trace_with_identity() {
        let exported = Collect::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exported.clone())
            .build();
        let sink = MemorySink::new();
        tracing_subscriber::registry()
            .with(UsertrailLayer::new(sink.clone()).with_service("otel-test"))
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .init();

        let seen: Arc<Mutex<Option<String>>> = Arc::default();
        let seen_downstream = Arc::clone(&seen);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let downstream_url = format!("{base}/downstream");
        let app = Router::new()
            .route(
                "/entry",
                get(move || async move {
                    set_user(User::new("user_from_service").with_extra("plan", "pro"));
                    async {
                        tracing::error!(code = 503_i64, "reservation failed");
                        tracing::error!(error = "gift card service unavailable");
                    }
                    .instrument(tracing::info_span!("inventory.reserve", items = 3_i64))
                    .await;
                    let client = ClientBuilder::new(reqwest::Client::new())
                        .with(PropagateContextMiddleware::new())
                        .build();
                    client
                        .get(downstream_url)
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap()
                }),
            )
            .route(
                "/downstream",
                get(move |headers: HeaderMap| async move {
                    let tp = headers["traceparent"].to_str().unwrap().to_owned();
                    *seen_downstream.lock().unwrap() = Some(tp);
                    "ok"
                }),
            )
            .layer(
                PropagateContextLayer::new()
                    .with_opentelemetry(true)
                    .with_baggage_tag_keys(BaggageTagKeys::from_static(&["tenant"])),
            );
        tokio::spawn(async move { axum::serve(listener, app).await });

        let response = reqwest::Client::new()
            .get(format!("{base}/entry"))
            .header(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            )
            .header(
                "baggage",
                "session.id=s1,user.id=user_123,account.id=account_456,tenant=acme",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);

        let mut spans = Vec::new();
        for _ in 0..200 {
            spans = exported.0.lock().unwrap().clone();
            if spans
                .iter()
                .filter(|s| s.span_kind == opentelemetry::trace::SpanKind::Server)
                .count()
                == 2
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let browser_parent = "b7ad6b7169203331";
        let entry = spans
            .iter()
            .find(|s| s.name == "GET /entry" && s.parent_span_id.to_string() == browser_parent)
            .unwrap_or_else(|| panic!("{spans:#?}"));
        assert_eq!(
            entry.span_context.trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert_eq!(entry.span_kind, opentelemetry::trace::SpanKind::Server);
        assert_eq!(
            attribute(entry, "usr.id").as_deref(),
            Some("user_from_service")
        );
        assert_eq!(
            attribute(entry, "account.id").as_deref(),
            Some("account_456")
        );
        assert_eq!(attribute(entry, "session.id").as_deref(), Some("s1"));
        assert_eq!(attribute(entry, "usr.plan").as_deref(), Some("pro"));
        assert_eq!(attribute(entry, "baggage.tenant").as_deref(), Some("acme"));
        // The HTTP server conventions, through tracing-opentelemetry.
        assert_eq!(attribute(entry, "url.scheme").as_deref(), Some("http"));
        assert_eq!(attribute(entry, "http.route").as_deref(), Some("/entry"));
        assert_eq!(attribute(entry, "url.path").as_deref(), Some("/entry"));
        assert_eq!(
            attribute(entry, "server.address").as_deref(),
            Some("127.0.0.1")
        );
        assert!(
            matches!(typed(entry, "server.port"), Some(Value::I64(p)) if p > 0),
            "{:?}",
            typed(entry, "server.port")
        );
        assert!(matches!(
            typed(entry, "http.response.status_code"),
            Some(Value::I64(200))
        ));
        assert_eq!(attribute(entry, "error"), None);
        assert_eq!(attribute(entry, "error.type"), None);

        // A child span: typed fields, its event, an error status (tracing-opentelemetry puts
        // an event's text on the status only from an `error` field).
        let child = spans
            .iter()
            .find(|s| s.name == "inventory.reserve")
            .unwrap_or_else(|| panic!("{spans:#?}"));
        assert_eq!(child.parent_span_id, entry.span_context.span_id());
        assert!(matches!(typed(child, "items"), Some(Value::I64(3))));
        assert!(
            child.events.iter().any(|e| e.name == "reservation failed"),
            "{child:#?}"
        );
        assert!(
            matches!(&child.status, opentelemetry::trace::Status::Error { description } if description.contains("gift card service unavailable")),
            "{:?}",
            child.status
        );

        // What usertrail recorded and propagated is what OpenTelemetry exported.
        let client = spans
            .iter()
            .find(|s| s.span_kind == opentelemetry::trace::SpanKind::Client)
            .unwrap_or_else(|| panic!("{spans:#?}"));
        assert_eq!(client.name, "GET");
        assert_eq!(client.parent_span_id, entry.span_context.span_id());
        assert_eq!(
            attribute(client, "url.full").as_deref(),
            Some(format!("{base}/downstream").as_str())
        );
        assert!(matches!(typed(client, "server.port"), Some(Value::I64(p)) if p > 0));
        assert_eq!(attribute(client, "error"), None, "no `error` on success");
        assert_eq!(attribute(client, "error.type"), None);
        let downstream_tp = seen.lock().unwrap().clone().unwrap();
        assert_eq!(
            downstream_tp,
            format!(
                "00-0af7651916cd43dd8448eb211c80319c-{}-01",
                client.span_context.span_id()
            )
        );
        let downstream = spans
            .iter()
            .find(|s| {
                s.name == "GET /downstream" && s.parent_span_id == client.span_context.span_id()
            })
            .unwrap_or_else(|| panic!("{spans:#?}"));
        assert_eq!(attribute(downstream, "usr.id").as_deref(), Some("user_123"));

        let records = sink.records();
        let recorded_entry = records
            .iter()
            .find(|r| r.kind == SpanKind::Server && r.tag("url.path") == Some("/entry"))
            .unwrap();
        assert_eq!(
            recorded_entry.span_id.to_bytes(),
            entry.span_context.span_id().to_bytes()
        );
        let recorded_client = records.iter().find(|r| r.kind == SpanKind::Client).unwrap();
        assert_eq!(
            recorded_client.span_id.to_bytes(),
            client.span_context.span_id().to_bytes()
        );
        let _ = provider.shutdown();
    }
}
