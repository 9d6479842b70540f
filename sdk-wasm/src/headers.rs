//! Which headers one request gets. Every value is written by `usertrail-propagator`.

use usertrail_propagator::{
    ACCOUNT_ID_KEY, Baggage, Injector, NewTrace, PropagatorType, SESSION_ID_KEY, SpanId,
    TraceFlags, TraceId, USER_ID_KEY,
};

use crate::matcher::Outcome;
use crate::options::{Config, TracingUrl};
use crate::{console, random, session};

/// The first entry that matches `url`, if any. Runs without the SDK state borrowed: a
/// function entry is user code and may call back into the SDK.
pub(crate) fn match_url<'a>(tracing_urls: &'a [TracingUrl], url: &str) -> Option<&'a TracingUrl> {
    let mut threw = false;
    let mut matched = None;
    for entry in tracing_urls {
        match entry.url.test(url) {
            Outcome::Match => {
                matched = Some(entry);
                break;
            }
            Outcome::NoMatch => {}
            Outcome::Threw => threw = true,
        }
    }
    if threw {
        crate::with_sdk(|sdk| {
            if !sdk.warned_matcher_threw {
                sdk.warned_matcher_threw = true;
                console::warn(
                    &["an allowedTracingUrls function threw; treated as no match"],
                    None,
                );
            }
        });
    }
    matched
}

/// What [`for_request`] needs to know about one request.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) config: &'a Config,
    pub(crate) propagators: &'a [PropagatorType],
    pub(crate) session_id: &'a str,
    pub(crate) user_id: Option<&'a str>,
    pub(crate) account_id: Option<&'a str>,
    pub(crate) app_has_traceparent: bool,
    pub(crate) app_baggage: Option<&'a str>,
}

/// The headers for one request as `name\nvalue\n…` (header values never hold a newline:
/// the propagator refuses them), or `None` to leave the request untouched.
pub(crate) fn for_request(request: Request<'_>) -> Option<String> {
    let config = request.config;
    let sampled = session::is_sampled(request.session_id, config.trace_sample_rate);
    if !sampled && !config.inject_unsampled {
        // Datadog's `traceContextInjection: 'sampled'`: no header at all, baggage included.
        return None;
    }
    let mut lines = HeaderLines(String::new());
    if !request.app_has_traceparent {
        let mut ids = [0u8; 24];
        random::fill(&mut ids);
        let (trace, span) = ids.split_at(16);
        let trace_id = TraceId::from_bytes(trace.try_into().ok()?)?;
        let span_id = SpanId::from_bytes(span.try_into().ok()?)?;
        // Level 2 `random` flag: the whole trace id comes from crypto.getRandomValues. The
        // Datadog priority follows the sampled flag (1 or 0), and the origin is `rum`, as
        // Datadog's browser SDK sends.
        let flags = TraceFlags::RANDOM.with_sampled(sampled);
        NewTrace::new(trace_id, span_id, flags)
            .with_origin("rum")
            .inject(request.propagators, &mut lines)
            .ok()?;
    }
    if config.propagate_baggage {
        // The app's own members stay, and its value wins for a key it already has.
        let mut baggage = request
            .app_baggage
            .map_or_else(Baggage::new, |text| Baggage::parse_lossy(text, |_| {}));
        // What `Identity::merge_into` does, without building an `Identity`: the ids here are
        // never empty (a session id is a UUID, `Context` refuses an empty id).
        let mut ids = [(SESSION_ID_KEY, request.session_id); 3];
        let mut n = 1;
        for (key, id) in [
            (USER_ID_KEY, request.user_id),
            (ACCOUNT_ID_KEY, request.account_id),
        ] {
            if let Some(id) = id {
                ids[n] = (key, id);
                n += 1;
            }
        }
        // Over the W3C limits, our members are the ones left out; the app's header is kept.
        let _ = baggage.merge_missing(&ids[..n]);
        baggage.inject(&mut lines).ok()?;
    }
    (!lines.0.is_empty()).then_some(lines.0)
}

/// Collects injected headers as `name\nvalue` lines for the JavaScript side.
struct HeaderLines(String);

impl Injector for HeaderLines {
    fn set(&mut self, name: &'static str, value: String) {
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        self.0.push_str(name);
        self.0.push('\n');
        self.0.push_str(&value);
    }
}
