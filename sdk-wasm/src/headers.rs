//! Which headers one request gets. Every value is written by `usertrail-propagator`.

use usertrail_propagator::{
    ACCOUNT_ID_KEY, BAGGAGE, Baggage, Injector, NewTrace, PropagatorType, SESSION_ID_KEY, SpanId,
    TraceFlags, TraceId, USER_ID_KEY,
};

use crate::{Identity, PROPAGATOR_BITS, random};

/// One request that an `allowedTracingUrls` entry matched, as the JavaScript side decided it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The entry's propagator types, one bit each (see [`PROPAGATOR_BITS`]).
    pub propagators: u32,
    /// The session is in the trace sample: the sampled flag, priority 1.
    pub sampled: bool,
    /// Add trace headers: false when the app set its own `traceparent`, which is kept alone.
    pub trace: bool,
    /// Add the identity to `baggage` (`propagateTraceBaggage`).
    pub baggage: bool,
    /// The app's own `baggage` header, which ours is merged into.
    pub app_baggage: Option<&'a str>,
}

/// Writes the headers for one request to `out` as `name\nvalue\n…` (header values never hold
/// a newline: the propagator refuses them); nothing when there is nothing to add.
pub(crate) fn write(request: &Request<'_>, identity: &Identity<'_>, out: &mut String) {
    let mut lines = HeaderLines(out);
    if request.trace {
        let mut types = [PropagatorType::TraceContext; 4];
        let mut n = 0;
        for (bit, kind) in PROPAGATOR_BITS.into_iter().enumerate() {
            if request.propagators & (1 << bit) != 0 {
                types[n] = kind;
                n += 1;
            }
        }
        let mut ids = [0u8; 24];
        random::fill(&mut ids);
        let (trace, span) = ids.split_at(16);
        // Never zero in practice (128 and 64 random bits); a zero id sends no trace headers.
        let (Some(trace_id), Some(span_id)) = (
            trace.try_into().ok().and_then(TraceId::from_bytes),
            span.try_into().ok().and_then(SpanId::from_bytes),
        ) else {
            return;
        };
        // Level 2 `random` flag: the whole trace id comes from crypto.getRandomValues. The
        // Datadog priority follows the sampled flag (1 or 0), and the origin is `rum`, as
        // Datadog's browser SDK sends.
        let flags = TraceFlags::RANDOM.with_sampled(request.sampled);
        // The origin is valid, so every header is written and the result is always Ok.
        let _ = NewTrace::new(trace_id, span_id, flags)
            .with_origin("rum")
            .inject(&types[..n], &mut lines);
    }
    if request.baggage {
        // What `Identity::merge_into` does, without building one: the ids here are never
        // empty (a session id is a UUID, js/context.js refuses an empty id).
        let mut ids = [(SESSION_ID_KEY, identity.session_id); 3];
        let mut n = 1;
        for (key, id) in [
            (USER_ID_KEY, identity.user_id),
            (ACCOUNT_ID_KEY, identity.account_id),
        ] {
            if let Some(id) = id {
                ids[n] = (key, id);
                n += 1;
            }
        }
        // The app's own members stay and its value wins for a key it already has; over the
        // W3C limits, ours are the ones left out.
        let value = Baggage::extend_header(request.app_baggage.unwrap_or(""), &ids[..n]);
        if !value.is_empty() {
            lines.set(BAGGAGE, value);
        }
    }
}

/// Collects injected headers as `name\nvalue` lines for the JavaScript side.
struct HeaderLines<'a>(&'a mut String);

impl Injector for HeaderLines<'_> {
    fn set(&mut self, name: &'static str, value: String) {
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        self.0.push_str(name);
        self.0.push('\n');
        self.0.push_str(&value);
    }
}
