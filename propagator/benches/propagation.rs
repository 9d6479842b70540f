//! usertrail against OpenTelemetry's propagators, on what a browser sends a server:
//! `traceparent`, `tracestate: dd=s:1;o:rum` and a three-member `baggage`, in an
//! `http::HeaderMap`.
//!
//! * extract: headers → trace context + the session, user and account ids. usertrail's
//!   `extract` (which also looks at the Datadog headers) against a
//!   `TextMapCompositePropagator` of `TraceContextPropagator` and `BaggagePropagator` (the
//!   usual OpenTelemetry server setup) through `opentelemetry_http::HeaderExtractor`.
//! * inject: the same three headers into a `HeaderMap` (cleared, so its table is reused),
//!   usertrail's `inject` against the composite's `inject_context` with `HeaderInjector`.
//!
//! * `headermap-floor`: what the `HeaderMap` itself costs a propagator, parsing and
//!   formatting nothing (four lookups with prebuilt names; three `String` values turned into
//!   `HeaderValue`s and inserted). usertrail's extract walks the map once rather than making
//!   those lookups, and its inject shares one allocation among the three values, so it can
//!   come in under parts of this floor.
//!
//! Criterion measures each (30 samples, 2 s); then allocations per operation are counted and a
//! side-by-side table is printed.
//!
//! Wall times move by 20% and more between runs on a shared machine, so the table also gives
//! instructions per operation, which do not depend on the load: the bench runs itself under
//! `valgrind --tool=callgrind` twice per operation, once with `BENCH_CALLGRIND_ITERS`
//! (default 10,000) calls and once with twice as many, after the same set-up and warm-up; the
//! difference in instructions over the difference in calls is the cost of one call.
//! `BENCH_CALLGRIND=0` skips it (and it is skipped when `valgrind` is not installed).
//!
//! ```text
//! cargo bench -p usertrail-propagator --features http --bench propagation
//! ```
//!
//! Allocations are counted with a counting global allocator (`stats_alloc`). It stays on
//! while criterion measures, and it adds four sequentially consistent atomic additions to every
//! allocation and its free, which can make the side that allocates more (OpenTelemetry) look
//! slower. For times without it (and no allocation column), build the bench with
//! `--cfg usertrail_bench_no_alloc_count` (in its own target folder, so that switching
//! does not rebuild everything each time):
//!
//! ```text
//! RUSTFLAGS="--cfg usertrail_bench_no_alloc_count" CARGO_TARGET_DIR=target/bench-no-count \
//!     cargo bench -p usertrail-propagator --features http --bench propagation
//! ```
#![allow(unexpected_cfgs)] // `usertrail_bench_no_alloc_count`, set by hand through RUSTFLAGS

#[cfg(not(usertrail_bench_no_alloc_count))]
use std::alloc::System;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::{self as otel_trace, TraceContextExt};
use opentelemetry::{Context as OtelContext, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
#[cfg(not(usertrail_bench_no_alloc_count))]
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use usertrail_propagator::{
    Baggage, Context, PropagatorType, SpanContext, SpanId, TraceFlags, TraceId, Tracestate,
    extract, inject,
};

#[cfg(not(usertrail_bench_no_alloc_count))]
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const TRACEPARENT: &str = "00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01";
const TRACESTATE: &str = "dd=s:1;o:rum";
const BAGGAGE: &str =
    "session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456";
const TRACE_ID: u128 = 0x0dc5_8f7d_2f4a_95d4;
const SPAN_ID: u64 = 0x065c_c204_3656_824c;

/// Names in the order of the table.
const EXTRACT_USERTRAIL: &str = "extract/usertrail";
const EXTRACT_OTEL: &str = "extract/opentelemetry";
const INJECT_USERTRAIL: &str = "inject/usertrail";
const INJECT_OTEL: &str = "inject/opentelemetry";
const EXTRACT_FLOOR: &str = "extract/headermap-floor";
const INJECT_FLOOR: &str = "inject/headermap-floor";
/// The operations, in the order of `ns` in `main` and then the two floors.
const OPERATIONS: [&str; 6] = [
    EXTRACT_USERTRAIL,
    EXTRACT_OTEL,
    INJECT_USERTRAIL,
    INJECT_OTEL,
    EXTRACT_FLOOR,
    INJECT_FLOOR,
];
/// `<exe> --usertrail-bench-callgrind <operation> <calls>`: runs one operation `calls` times
/// (the child run under callgrind).
const CALLGRIND_FLAG: &str = "--usertrail-bench-callgrind";

fn request_headers() -> HeaderMap {
    let mut map = HeaderMap::new();
    // What a browser request also carries, so lookups do not run over a near-empty map.
    for (name, value) in [
        ("host", "api.example.com"),
        (
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
        ),
        ("accept", "application/json"),
        ("accept-language", "en-US,en;q=0.9"),
        ("origin", "https://app.example.com"),
        ("traceparent", TRACEPARENT),
        ("tracestate", TRACESTATE),
        ("baggage", BAGGAGE),
    ] {
        map.insert(name, HeaderValue::from_static(value));
    }
    map
}

/// What a server reads: trace id, parent id, sampled, and the three ids from the baggage.
#[inline(never)] // a frame of its own in profiles
fn usertrail_extract(map: &HeaderMap) -> usize {
    let extracted = extract(map);
    let identity = extracted.identity();
    let read = extracted.span_context().map(|sc| {
        (
            sc.trace_id().to_u128(),
            sc.span_id().to_u64(),
            sc.is_sampled(),
            [
                identity.session_id(),
                identity.user_id(),
                identity.account_id(),
            ],
        )
    });
    let read = black_box(read);
    read.map_or(0, |(_, _, _, ids)| {
        ids.iter().flatten().map(|s| s.len()).sum()
    })
}

fn otel_propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
}

#[inline(never)] // a frame of its own in profiles
fn otel_extract(propagator: &TextMapCompositePropagator, map: &HeaderMap) -> usize {
    let cx = propagator.extract(&HeaderExtractor(map));
    let span = cx.span();
    let sc = span.span_context();
    let baggage = cx.baggage();
    let ids = [
        baggage.get("session.id").map(|v| v.as_str()),
        baggage.get("user.id").map(|v| v.as_str()),
        baggage.get("account.id").map(|v| v.as_str()),
    ];
    let read = sc.is_valid().then(|| {
        (
            u128::from_be_bytes(sc.trace_id().to_bytes()),
            u64::from_be_bytes(sc.span_id().to_bytes()),
            sc.is_sampled(),
            ids,
        )
    });
    let read = black_box(read);
    read.map_or(0, |(_, _, _, ids)| {
        ids.iter().flatten().map(|s| s.len()).sum()
    })
}

fn usertrail_context() -> Context<'static> {
    let sc = SpanContext::new(
        TraceId::new(TRACE_ID).unwrap(),
        SpanId::new(SPAN_ID).unwrap(),
        TraceFlags::SAMPLED,
    );
    Context::new()
        .with_span_context(sc)
        .with_tracestate(Some(Tracestate::parse(TRACESTATE).unwrap()))
        .with_baggage(Baggage::parse(BAGGAGE).unwrap())
}

#[inline(never)] // a frame of its own in profiles
fn usertrail_inject(cx: &Context<'_>, map: &mut HeaderMap) {
    map.clear();
    inject(cx, &[PropagatorType::TraceContext], map).unwrap();
}

fn otel_context() -> OtelContext {
    let sc = otel_trace::SpanContext::new(
        otel_trace::TraceId::from_bytes(TRACE_ID.to_be_bytes()),
        otel_trace::SpanId::from_bytes(SPAN_ID.to_be_bytes()),
        otel_trace::TraceFlags::SAMPLED,
        true,
        otel_trace::TraceState::from_str(TRACESTATE).unwrap(),
    );
    OtelContext::new()
        .with_remote_span_context(sc)
        .with_baggage([
            KeyValue::new("session.id", "5afb433c-40c3-4974-a7c2-8d5933cc67f6"),
            KeyValue::new("user.id", "user_123"),
            KeyValue::new("account.id", "account_456"),
        ])
}

#[inline(never)] // a frame of its own in profiles
fn otel_inject(propagator: &TextMapCompositePropagator, cx: &OtelContext, map: &mut HeaderMap) {
    map.clear();
    propagator.inject_context(cx, &mut HeaderInjector(map));
}

/// What a propagator that asks by name pays the `HeaderMap` on extract, parsing nothing: the
/// four lookups usertrail would make (`traceparent`, `tracestate`, `x-datadog-trace-id`,
/// `baggage`), with prebuilt names, and `to_str` on what is found. (usertrail walks the map
/// once instead, which costs less on a request's dozen headers.)
#[inline(never)]
fn floor_extract(map: &HeaderMap) -> usize {
    static NAMES: [HeaderName; 4] = [
        HeaderName::from_static("traceparent"),
        HeaderName::from_static("tracestate"),
        HeaderName::from_static("x-datadog-trace-id"),
        HeaderName::from_static("baggage"),
    ];
    NAMES
        .iter()
        .filter_map(|name| map.get(name)?.to_str().ok())
        .map(str::len)
        .sum()
}

/// What any propagator pays the `HeaderMap` on inject, formatting nothing: three `String`
/// values (as an injector gets them) turned into `HeaderValue`s and inserted under prebuilt
/// names.
#[inline(never)]
fn floor_inject(map: &mut HeaderMap) {
    static NAMES: [HeaderName; 3] = [
        HeaderName::from_static("traceparent"),
        HeaderName::from_static("tracestate"),
        HeaderName::from_static("baggage"),
    ];
    map.clear();
    for (name, value) in NAMES.iter().zip([TRACEPARENT, TRACESTATE, BAGGAGE]) {
        if let Ok(value) = HeaderValue::try_from(String::from(black_box(value))) {
            map.insert(name.clone(), value);
        }
    }
}

/// Both sides read and write the same thing.
fn check_equivalence(propagator: &TextMapCompositePropagator) {
    let request = request_headers();
    let expected = "5afb433c-40c3-4974-a7c2-8d5933cc67f6user_123account_456".len();
    assert_eq!(usertrail_extract(&request), expected);
    assert_eq!(otel_extract(propagator, &request), expected);

    let (mut ours, mut theirs) = (HeaderMap::new(), HeaderMap::new());
    usertrail_inject(&usertrail_context(), &mut ours);
    otel_inject(propagator, &otel_context(), &mut theirs);
    for name in ["traceparent", "tracestate"] {
        assert_eq!(ours.get(name), theirs.get(name), "{name}");
    }
    assert_eq!(ours.get("traceparent").unwrap(), TRACEPARENT);
    // OpenTelemetry's baggage comes out of a HashMap: compare the members as sets.
    let members = |map: &HeaderMap| {
        let mut m: Vec<String> = map["baggage"]
            .to_str()
            .unwrap()
            .split(',')
            .map(str::to_owned)
            .collect();
        m.sort();
        m
    };
    assert_eq!(members(&ours), members(&theirs));
    assert_eq!(ours.len(), 3);
    assert_eq!(theirs.len(), 3);
}

/// Average allocations (and reallocations) per call of `f`, over `runs` calls; `None` when
/// built without the counting allocator.
#[cfg(usertrail_bench_no_alloc_count)]
fn allocations_per_op(_runs: u32, _f: impl FnMut()) -> Option<f64> {
    None
}

/// Average allocations (and reallocations) per call of `f`, over `runs` calls.
#[cfg(not(usertrail_bench_no_alloc_count))]
fn allocations_per_op(runs: u32, mut f: impl FnMut()) -> Option<f64> {
    f(); // warm up lazily initialised statics
    let region = Region::new(GLOBAL);
    for _ in 0..runs {
        f();
    }
    let stats = region.change();
    Some((stats.allocations + stats.reallocations) as f64 / f64::from(runs))
}

fn criterion_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("criterion")
}

/// The mean of a benchmark from criterion's `estimates.json`, in ns, if it was measured by
/// this run (a filter may have skipped it).
fn measured_ns(id: &str, since: SystemTime) -> Option<f64> {
    let path = criterion_dir().join(id).join("new").join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let json = std::fs::read_to_string(path).ok()?;
    // {"mean":{"confidence_interval":{…},"point_estimate":12.3,…},…}
    let mean = &json[json.find("\"mean\"")?..];
    let value = &mean[mean.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// The callgrind child: sets up as `main` does, warms up, then calls `operation` `calls` times.
fn callgrind_child(operation: &str, calls: u64) {
    let propagator = otel_propagator();
    let request = request_headers();
    let (ut_cx, otel_cx) = (usertrail_context(), otel_context());
    let mut out = HeaderMap::with_capacity(8);
    let mut run = |n: u64| {
        for _ in 0..n {
            match operation {
                EXTRACT_USERTRAIL => {
                    black_box(usertrail_extract(black_box(&request)));
                }
                EXTRACT_OTEL => {
                    black_box(otel_extract(&propagator, black_box(&request)));
                }
                EXTRACT_FLOOR => {
                    black_box(floor_extract(black_box(&request)));
                }
                INJECT_USERTRAIL => usertrail_inject(black_box(&ut_cx), &mut out),
                INJECT_OTEL => otel_inject(&propagator, black_box(&otel_cx), &mut out),
                INJECT_FLOOR => floor_inject(&mut out),
                other => panic!("unknown operation {other}"),
            }
        }
    };
    run(100);
    run(calls);
}

/// Instructions callgrind counts for a child run of `calls` calls of `operation`; `None`
/// when valgrind cannot be run.
fn instructions(exe: &Path, operation: &str, calls: u64) -> Option<u64> {
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args([CALLGRIND_FLAG, operation, &calls.to_string()])
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let collected = stderr.lines().find_map(|l| {
        l.split_once("Collected :")
            .map(|(_, n)| n.trim().to_owned())
    });
    match collected.and_then(|n| n.parse().ok()) {
        Some(n) if out.status.success() => Some(n),
        _ => panic!("{operation}: no callgrind count\n{stderr}"),
    }
}

/// Instructions per call of each of [`OPERATIONS`], or `None` when skipped or valgrind is
/// missing.
fn instructions_per_op(calls: u64) -> Option<Vec<f64>> {
    if std::env::var("BENCH_CALLGRIND").is_ok_and(|v| v == "0") {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    OPERATIONS
        .iter()
        .map(|operation| {
            let small = instructions(&exe, operation, calls)?;
            let large = instructions(&exe, operation, 2 * calls)?;
            Some(large.saturating_sub(small) as f64 / calls as f64)
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == CALLGRIND_FLAG) {
        let calls = args.get(i + 2).and_then(|n| n.parse().ok()).unwrap_or(0);
        callgrind_child(args.get(i + 1).map_or("", String::as_str), calls);
        return;
    }
    let started = SystemTime::now();
    let propagator = otel_propagator();
    check_equivalence(&propagator);

    let mut criterion = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .output_directory(&criterion_dir())
        .configure_from_args();

    let request = request_headers();
    let mut group = criterion.benchmark_group("extract");
    group.bench_function("usertrail", |b| {
        b.iter(|| usertrail_extract(black_box(&request)));
    });
    group.bench_function("opentelemetry", |b| {
        b.iter(|| otel_extract(&propagator, black_box(&request)));
    });
    group.bench_function("headermap-floor", |b| {
        b.iter(|| floor_extract(black_box(&request)));
    });
    group.finish();

    let (ut_cx, otel_cx) = (usertrail_context(), otel_context());
    let mut out = HeaderMap::with_capacity(8);
    let mut group = criterion.benchmark_group("inject");
    group.bench_function("usertrail", |b| {
        b.iter(|| usertrail_inject(black_box(&ut_cx), &mut out));
    });
    group.bench_function("opentelemetry", |b| {
        b.iter(|| otel_inject(&propagator, black_box(&otel_cx), &mut out));
    });
    group.bench_function("headermap-floor", |b| b.iter(|| floor_inject(&mut out)));
    group.finish();
    criterion.final_summary();

    // `cargo test --benches` runs each benchmark once, without `--bench`: no table then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    const RUNS: u32 = 10_000;
    let allocs = [
        allocations_per_op(RUNS, || {
            black_box(usertrail_extract(black_box(&request)));
        }),
        allocations_per_op(RUNS, || {
            black_box(otel_extract(&propagator, black_box(&request)));
        }),
        allocations_per_op(RUNS, || usertrail_inject(black_box(&ut_cx), &mut out)),
        allocations_per_op(RUNS, || {
            otel_inject(&propagator, black_box(&otel_cx), &mut out)
        }),
    ];
    let floor = [EXTRACT_FLOOR, INJECT_FLOOR].map(|id| measured_ns(id, started));
    let ns = [
        EXTRACT_USERTRAIL,
        EXTRACT_OTEL,
        INJECT_USERTRAIL,
        INJECT_OTEL,
    ]
    .map(|id| measured_ns(id, started));
    let calls = std::env::var("BENCH_CALLGRIND_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(10_000);
    let instr = instructions_per_op(calls);
    let instr_of = |i: usize| instr.as_ref().and_then(|v| v.get(i).copied());
    let fmt = |v: Option<f64>, decimals: usize| {
        v.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
    };
    let ratio = |ours: Option<f64>, theirs: Option<f64>| match (ours, theirs) {
        (Some(o), Some(t)) if o > 0.0 => format!("{:.1}x", t / o),
        _ => "-".to_owned(),
    };
    println!();
    println!(
        "| operation | usertrail ns/op | OpenTelemetry ns/op | OTel / usertrail | usertrail instr/op | OTel instr/op | OTel / usertrail | usertrail allocs/op | OTel allocs/op |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (row, label) in ["extract", "inject"].into_iter().enumerate() {
        let (o, t) = (2 * row, 2 * row + 1);
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} | {} | {} |",
            fmt(ns[o], 0),
            fmt(ns[t], 0),
            ratio(ns[o], ns[t]),
            fmt(instr_of(o), 0),
            fmt(instr_of(t), 0),
            ratio(instr_of(o), instr_of(t)),
            fmt(allocs[o], 1),
            fmt(allocs[t], 1),
        );
    }
    println!(
        "\nThe HeaderMap alone (lookups and inserts, no parsing or formatting) takes {} ns ({} \
         instructions) of an extract and {} ns ({} instructions) of an inject.",
        fmt(floor[0], 0),
        fmt(instr_of(4), 0),
        fmt(floor[1], 0),
        fmt(instr_of(5), 0),
    );
    match &instr {
        Some(_) => println!(
            "Instructions: callgrind, {calls} vs {} calls after the same warm-up.",
            2 * calls
        ),
        None => println!("(BENCH_CALLGRIND=0 or valgrind not found: no instruction counts)"),
    }
    if allocs.iter().all(Option::is_some) {
        println!(
            "\nTimes include the counting allocator's cost; build with \
             RUSTFLAGS=\"--cfg usertrail_bench_no_alloc_count\" for times without it."
        );
    }
}
