//! One request's trace context, baggage and entry-span tags.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use ::tracing::Span;
use ::tracing::field::Empty;

use super::names::IdentityAttributes;
use super::scope;
use super::semconv::{self, http_span_name};
use crate::{
    ACCOUNT_ID_ATTRIBUTE, Baggage, Context, Extracted, Extractor, Identity, Injector,
    PropagatorType, SESSION_ID_ATTRIBUTE, SamplingPriority, SpanContext, SpanId, TraceFlags,
    TraceId, Tracestate, USER_ID_ATTRIBUTE,
};

/// `target` of the spans this crate opens (entry spans and client spans).
pub const TARGET: &str = "usertrail";
/// Name of the service entry span opened by `PropagateContext`.
pub const ENTRY_SPAN_NAME: &str = "http.request";
/// Name of the client span opened around each outgoing request by the `reqwest` middleware.
pub const CLIENT_SPAN_NAME: &str = "http.client.request";

/// Default for `PropagateContextLayer::with_max_tag_value_len`: longer baggage values are not
/// tagged.
pub const DEFAULT_MAX_TAG_VALUE_LEN: usize = 256;
/// Default for `PropagateContextLayer::with_max_baggage_tags`: `baggage.<key>` tags per request.
pub const DEFAULT_MAX_BAGGAGE_TAGS: usize = 16;

/// `url.query`, `user_agent.original` and `server.address` longer than this (or than the tag
/// value cap, if larger) are left out: a browser's user agent is about 150 bytes.
const MIN_HTTP_VALUE_CAP: usize = 1024;

#[derive(Clone)]
enum Keys {
    Static(&'static [&'static str]),
    Owned(Arc<[Box<str>]>),
    All,
}

/// Which baggage keys become `baggage.<key>` tags on the entry span, with the semantics of
/// Datadog's `DD_TRACE_BAGGAGE_TAG_KEYS`: a comma-separated list of keys, or `*` for all.
///
/// Independently of this list, `user.id`, `account.id` and `session.id` always become
/// `usr.id`, `account.id` and `session.id`. The default is [`NONE`](Self::NONE).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::BaggageTagKeys;
///
/// let keys = BaggageTagKeys::parse(" tenant, plan ,");
/// assert!(keys.contains("plan"));
/// assert!(!keys.contains("user.id"));
/// assert!(BaggageTagKeys::parse("*").contains("anything"));
/// assert!(!BaggageTagKeys::NONE.contains("plan"));
/// // From the environment, as Datadog's tracers read it:
/// let keys = std::env::var("DD_TRACE_BAGGAGE_TAG_KEYS").map(|v| BaggageTagKeys::parse(&v)).unwrap_or_default();
/// # let _ = keys;
/// ```
#[derive(Clone)]
pub struct BaggageTagKeys(Keys);

impl BaggageTagKeys {
    /// No `baggage.<key>` tags.
    pub const NONE: BaggageTagKeys = BaggageTagKeys(Keys::Static(&[]));
    /// Every key (`*`).
    pub const ALL: BaggageTagKeys = BaggageTagKeys(Keys::All);

    /// These keys.
    ///
    /// # Examples
    ///
    /// ```
    /// const KEYS: usertrail_propagator::tracing::BaggageTagKeys =
    ///     usertrail_propagator::tracing::BaggageTagKeys::from_static(&["tenant"]);
    /// assert!(KEYS.contains("tenant"));
    /// ```
    pub const fn from_static(keys: &'static [&'static str]) -> Self {
        BaggageTagKeys(Keys::Static(keys))
    }

    /// Parses `DD_TRACE_BAGGAGE_TAG_KEYS` syntax: `*`, or keys separated by commas (spaces
    /// around them and empty entries ignored).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::tracing::BaggageTagKeys;
    ///
    /// assert!(BaggageTagKeys::parse("a,*").contains("zzz"));
    /// assert!(BaggageTagKeys::parse("").is_empty());
    /// ```
    pub fn parse(s: &str) -> Self {
        let keys: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect();
        if keys.contains(&"*") {
            return Self::ALL;
        }
        BaggageTagKeys(Keys::Owned(keys.into_iter().map(Box::from).collect()))
    }

    /// Whether `key` is tagged.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::BaggageTagKeys::ALL.contains("k"));
    /// ```
    pub fn contains(&self, key: &str) -> bool {
        match &self.0 {
            Keys::Static(keys) => keys.contains(&key),
            Keys::Owned(keys) => keys.iter().any(|k| &**k == key),
            Keys::All => true,
        }
    }

    /// `true` when no key is tagged.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::BaggageTagKeys::NONE.is_empty());
    /// assert!(!usertrail_propagator::tracing::BaggageTagKeys::ALL.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        match &self.0 {
            Keys::Static(keys) => keys.is_empty(),
            Keys::Owned(keys) => keys.is_empty(),
            Keys::All => false,
        }
    }
}

impl Default for BaggageTagKeys {
    fn default() -> Self {
        Self::NONE
    }
}

impl fmt::Debug for BaggageTagKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Keys::Static(keys) => f.debug_list().entries(keys.iter()).finish(),
            Keys::Owned(keys) => f.debug_list().entries(keys.iter()).finish(),
            Keys::All => f.write_str("*"),
        }
    }
}

/// How requests are continued and tagged; built with `PropagateContextLayer`'s methods.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) extract: &'static [PropagatorType],
    pub(crate) inject: &'static [PropagatorType],
    pub(crate) tag_keys: BaggageTagKeys,
    pub(crate) max_baggage_tags: usize,
    pub(crate) max_tag_value_len: usize,
    pub(crate) identity_in_baggage: bool,
    #[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
    pub(crate) opentelemetry: bool,
    pub(crate) identity_attributes: IdentityAttributes,
}

/// A layer's [`Config`]: the default one (a `static`, so `PropagateContext::new` can be a
/// `const fn`) or one built with the layer's methods.
#[derive(Clone, Debug)]
pub(crate) enum SharedConfig {
    Static(&'static Config),
    Shared(Arc<Config>),
}

pub(crate) static DEFAULT_CONFIG: Config = Config::DEFAULT;

impl core::ops::Deref for SharedConfig {
    type Target = Config;
    #[inline]
    fn deref(&self) -> &Config {
        match self {
            SharedConfig::Static(config) => config,
            SharedConfig::Shared(config) => config,
        }
    }
}

pub(crate) const DEFAULT_INJECT: &[PropagatorType] =
    &[PropagatorType::TraceContext, PropagatorType::Datadog];

impl Config {
    pub(crate) const DEFAULT: Config = Config {
        extract: &PropagatorType::EXTRACT_ORDER,
        inject: DEFAULT_INJECT,
        tag_keys: BaggageTagKeys::NONE,
        max_baggage_tags: DEFAULT_MAX_BAGGAGE_TAGS,
        max_tag_value_len: DEFAULT_MAX_TAG_VALUE_LEN,
        identity_in_baggage: false,
        opentelemetry: false,
        identity_attributes: IdentityAttributes::Datadog,
    };

    /// Whether a baggage value may become a tag: not empty, within the length cap, no
    /// control characters (a decoded `%0D%0A` stays out of tags and logs).
    fn tag_value_ok(&self, key: &str, value: &str) -> bool {
        if self.tag_value_fits(value) {
            return true;
        }
        if value.is_empty() {
            return false;
        }
        if value.len() > self.max_tag_value_len {
            ::tracing::debug!(
                target: TARGET,
                baggage_key = key,
                len = value.len(),
                max = self.max_tag_value_len,
                "baggage value over the tag length cap: not tagged"
            );
            return false;
        }
        ::tracing::debug!(target: TARGET, baggage_key = key, "baggage value has control characters: not tagged");
        false
    }

    /// [`tag_value_ok`](Self::tag_value_ok) without the report.
    #[inline]
    fn tag_value_fits(&self, value: &str) -> bool {
        !value.is_empty()
            && value.len() <= self.max_tag_value_len
            // Printable ASCII (the common case) first; else no C0/C1 control character.
            && (value.bytes().all(|b| (0x20..0x7f).contains(&b))
                || !value.chars().any(char::is_control))
    }
}

/// A random span id (never zero).
#[inline]
pub(crate) fn new_span_id() -> SpanId {
    loop {
        if let Some(id) = SpanId::new(fastrand::u64(..)) {
            return id;
        }
    }
}

/// A random trace id (never zero): the Level 2 `random-trace-id` flag may be set for it.
#[inline]
pub(crate) fn new_trace_id() -> TraceId {
    loop {
        if let Some(id) = TraceId::new(fastrand::u128(..)) {
            return id;
        }
    }
}

pub(crate) struct Inner {
    /// Tags known when the request starts: method, path, and the identity from the baggage
    /// (within the caps), in that order. `None` when the entry span is disabled (no
    /// subscriber wants it): then nothing is worked out until asked for.
    pub(crate) base: Option<Vec<(&'static str, Cow<'static, str>)>>,
    /// Our entry span: the caller's trace id, our span id, flags, Datadog priority and origin.
    pub(crate) span_context: SpanContext<'static>,
    /// The caller's span id.
    pub(crate) parent_id: Option<SpanId>,
    pub(crate) tracestate: Option<Tracestate<'static>>,
    /// Outgoing baggage: the incoming one, plus `user.id` / `account.id` from `set_user` /
    /// `set_account` when configured.
    pub(crate) baggage: Baggage<'static>,
    /// Tags the service set (`set_user`, `set_account`, `set_tag`). The baggage-derived ones
    /// (identity, `baggage.<key>`) are worked out from `baggage` when needed
    /// ([`Inner::push_tags`]): most requests never pay for them twice.
    pub(crate) tags: BTreeMap<Cow<'static, str>, String>,
}

/// A tag list: later entries win when collected into a map.
pub(crate) type TagList = Vec<(Cow<'static, str>, Cow<'static, str>)>;

impl Inner {
    /// Appends the entry span's tags to `out`: the identity and `baggage.<key>` tags from
    /// the baggage (untrusted: capped, see [`Config::tag_value_ok`]), then the service's,
    /// which therefore win.
    pub(crate) fn push_tags(&self, config: &Config, out: &mut TagList) {
        match &self.base {
            Some(base) => out.extend(base.iter().map(|(k, v)| (Cow::Borrowed(*k), v.clone()))),
            None => {
                let identity = Identity::from_baggage(&self.baggage);
                for (attribute, value) in identity.attributes() {
                    if config.tag_value_fits(value) {
                        let attribute = config.identity_attributes.rename(attribute);
                        out.push((Cow::Borrowed(attribute), Cow::Owned(String::from(value))));
                    }
                }
            }
        }
        if !config.tag_keys.is_empty() {
            let mut seen: Vec<&str> = Vec::new();
            let mut capped = false;
            for member in self.baggage.iter() {
                let key = member.key();
                if !config.tag_keys.contains(key) {
                    continue;
                }
                let value = member.value();
                if !config.tag_value_ok(key, &value) {
                    continue;
                }
                if !seen.contains(&key) {
                    if seen.len() == config.max_baggage_tags {
                        if !capped {
                            capped = true;
                            ::tracing::debug!(target: TARGET, max = config.max_baggage_tags, "baggage tag cap reached: further keys not tagged");
                        }
                        continue;
                    }
                    seen.push(key);
                }
                let mut tag = String::with_capacity(8 + key.len());
                tag.push_str("baggage.");
                tag.push_str(key);
                // A repeated key: the last value wins, as `Baggage::get` does.
                out.push((Cow::Owned(tag), Cow::Owned(value.into_owned())));
            }
        }
        for (key, value) in &self.tags {
            out.push((key.clone(), Cow::Owned(value.clone())));
        }
    }
}

/// Shared by the `PropagateContext` future, the request extension, the entry span's
/// extensions and any `Scoped` future.
pub(crate) struct RequestState {
    pub(crate) config: SharedConfig,
    inner: Mutex<Inner>,
}

impl fmt::Debug for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("RequestState")
            .field("trace_id", &inner.span_context.trace_id())
            .field("span_id", &inner.span_context.span_id())
            .field("parent_id", &inner.parent_id)
            .field("tags", &inner.tags)
            .finish_non_exhaustive()
    }
}

impl RequestState {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Continues the extracted trace (or starts one) with a new span id, and works out the
    /// entry-span tags from the baggage.
    pub(crate) fn start(
        config: SharedConfig,
        extracted: &Extracted<'_>,
        base: Option<Vec<(&'static str, Cow<'static, str>)>>,
    ) -> Self {
        let span_id = new_span_id();
        let (mut span_context, parent_id) = match extracted.span_context() {
            Some(remote) => (
                remote.clone().into_owned().with_span_id(span_id),
                Some(remote.span_id()),
            ),
            None => (
                SpanContext::new(
                    new_trace_id(),
                    span_id,
                    TraceFlags::SAMPLED | TraceFlags::RANDOM,
                ),
                None,
            ),
        };
        if config.inject.contains(&PropagatorType::Datadog)
            && span_context.sampling_priority().is_none()
        {
            let priority = if span_context.is_sampled() {
                SamplingPriority::AUTO_KEEP
            } else {
                SamplingPriority::AUTO_REJECT
            };
            span_context = span_context.with_sampling_priority(Some(priority));
        }

        RequestState {
            inner: Mutex::new(Inner {
                base,
                span_context,
                parent_id,
                tracestate: extracted.tracestate().cloned().map(Tracestate::into_owned),
                baggage: extracted.baggage().clone().into_owned(),
                tags: BTreeMap::new(),
            }),
            config,
        }
    }

    /// Sets a tag the service chose: wins over baggage, later calls win over earlier ones.
    pub(crate) fn set_service_tag(inner: &mut Inner, key: Cow<'static, str>, value: String) {
        inner.tags.insert(key, value);
    }

    /// Injects the request's context with `span_id` as the parent of the outgoing request.
    pub(crate) fn inject_into<I: Injector + ?Sized>(&self, carrier: &mut I, span_id: SpanId) {
        let cx = {
            let inner = self.lock();
            Context::new()
                .with_span_context(inner.span_context.clone().with_span_id(span_id))
                .with_tracestate(inner.tracestate.clone())
                .with_baggage(inner.baggage.clone())
        };
        if let Err(e) = crate::inject(&cx, self.config.inject, carrier) {
            ::tracing::debug!(target: TARGET, error = %e, "header not injected");
        }
    }
}

/// Method and path: on the span itself, left out of [`RequestContext::tags`].
fn is_http_field(key: &str) -> bool {
    matches!(key, "http.request.method" | "url.path")
}

/// What the entry span says about the request, following OpenTelemetry's HTTP server
/// conventions; `PropagateContext` fills it in from the `http::Request`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestInfo<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    /// Without the `?`; `None` when the request has none.
    pub(crate) query: Option<&'a str>,
    /// `http` or `https`.
    pub(crate) scheme: &'a str,
    /// The route template that matched (`/orders/{id}`), when the router says.
    pub(crate) route: Option<&'a str>,
    /// From `Host` (or the URI's authority).
    pub(crate) server_address: Option<&'a str>,
    pub(crate) server_port: Option<u16>,
    pub(crate) protocol_version: Option<&'static str>,
    pub(crate) user_agent: Option<&'a str>,
}

/// Starts a request: extracts the caller's context from `headers`, opens the entry span and
/// returns both. Used by `PropagateContext`.
pub(crate) fn start_request<E: Extractor + ?Sized>(
    config: &SharedConfig,
    headers: &E,
    info: &RequestInfo<'_>,
) -> (Arc<RequestState>, Span) {
    let path = info.path;
    let (method, method_replaced) = semconv::normalize_method(info.method);
    // Request text the client chose: left out whole when long (never cut).
    let fits = |v: &&str| v.len() <= config.max_tag_value_len.max(MIN_HTTP_VALUE_CAP);
    let query = info.query.filter(fits).map(semconv::redact_query);
    let user_agent = info.user_agent.filter(fits);
    let server_address = info.server_address.filter(fits);
    let extracted = crate::extract_with(headers, config.extract);
    for problem in extracted.errors() {
        ::tracing::debug!(target: TARGET, %problem, "trace context header rejected");
    }
    // The values the entry span is tagged with; the rejects are reported here, once. When no
    // subscriber wants the entry span, none of this is needed now.
    let recorded = ::tracing::span_enabled!(target: TARGET, ::tracing::Level::INFO);
    let identity = if recorded {
        extracted.identity()
    } else {
        Identity::new()
    };
    fn ok<'v>(config: &Config, attribute: &str, value: Option<&'v str>) -> Option<&'v str> {
        value.filter(|v| config.tag_value_ok(attribute, v))
    }
    let session_id = ok(config, SESSION_ID_ATTRIBUTE, identity.session_id());
    let user_id = ok(config, USER_ID_ATTRIBUTE, identity.user_id());
    let account_id = ok(config, ACCOUNT_ID_ATTRIBUTE, identity.account_id());
    let base = recorded.then(|| {
        let mut base = Vec::with_capacity(5);
        base.push(("http.request.method", Cow::Borrowed(method)));
        base.push((
            "url.path",
            if path == "/" {
                Cow::Borrowed("/")
            } else {
                Cow::Owned(String::from(path))
            },
        ));
        for (attribute, value) in [
            (SESSION_ID_ATTRIBUTE, session_id),
            (USER_ID_ATTRIBUTE, user_id),
            (ACCOUNT_ID_ATTRIBUTE, account_id),
        ] {
            if let Some(value) = value {
                let attribute = config.identity_attributes.rename(attribute);
                base.push((attribute, Cow::Owned(String::from(value))));
            }
        }
        base
    });
    let state = Arc::new(RequestState::start(config.clone(), &extracted, base));
    let (trace_id, span_id, parent_id) = {
        let inner = state.lock();
        (
            inner.span_context.trace_id(),
            inner.span_context.span_id(),
            inner.parent_id,
        )
    };
    // One callsite per naming: `tracing` field names are fixed at the callsite.
    macro_rules! entry_span {
        ($($identity:tt)*) => {
            ::tracing::info_span!(
                target: TARGET,
                ENTRY_SPAN_NAME,
                otel.kind = "server",
                otel.name = http_span_name(method, info.route).as_str(),
                otel.status_code = Empty,
                trace_id = %trace_id,
                span_id = %span_id,
                parent_id = parent_id.map(::tracing::field::display),
                http.request.method = method,
                http.request.method_original = method_replaced.then_some(info.method),
                url.path = path,
                url.query = query.as_deref(),
                url.scheme = info.scheme,
                http.route = info.route,
                server.address = server_address,
                // As `i64`: tracing-opentelemetry exports unsigned fields as text.
                server.port = info.server_port.map(i64::from),
                network.protocol.version = info.protocol_version,
                user_agent.original = user_agent,
                http.response.status_code = Empty,
                error = Empty,
                error.type = Empty,
                duration_ms = Empty,
                session.id = session_id,
                account.id = account_id,
                account.name = Empty,
                $($identity)*
            )
        };
    }
    let span = scope::creating(&state, || match config.identity_attributes {
        IdentityAttributes::Datadog => entry_span!(
            usr.id = user_id,
            usr.name = Empty,
            usr.email = Empty,
            usr.session_id = Empty,
            usr.role = Empty,
            usr.scope = Empty,
        ),
        IdentityAttributes::OpenTelemetry => entry_span!(
            user.id = user_id,
            user.name = Empty,
            user.email = Empty,
            user.roles = Empty,
            user.scope = Empty,
        ),
    });
    (state, span)
}

/// The request being served: its trace context, baggage and entry-span tags.
///
/// Put in the request's extensions by `PropagateContext` (an axum extractor with the `axum`
/// feature), and found from anywhere inside the request with [`current`](Self::current).
/// Cheap to clone (an `Arc`).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{RequestContext, User};
///
/// fn handler_helper() {
///     // Outside a request there is nothing to find.
///     assert!(RequestContext::current().is_none());
///     if let Some(cx) = RequestContext::current() {
///         cx.set_user(User::new("user_123").with_role("admin"));
///     }
/// }
/// handler_helper();
/// ```
#[derive(Clone)]
pub struct RequestContext {
    pub(crate) state: Arc<RequestState>,
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.state.fmt(f)
    }
}

impl RequestContext {
    pub(crate) fn new(state: Arc<RequestState>) -> Self {
        RequestContext { state }
    }

    /// The request the calling code runs in.
    ///
    /// Found, in this order:
    /// 1. the request whose future is being polled on this thread (`PropagateContext` marks
    ///    it around every poll, so a handler, the functions it calls and the child spans it
    ///    opens all see it), or a [`scope`](Self::scope)d future;
    /// 2. else, walking up from the current `tracing` span to the nearest entry span (work
    ///    spawned with `.in_current_span()`); this needs [`UsertrailLayer`](super::UsertrailLayer)
    ///    on a `tracing_subscriber::Registry`.
    ///
    /// `None` outside a request, e.g. in a task spawned without either.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::RequestContext::current().is_none());
    /// ```
    pub fn current() -> Option<RequestContext> {
        scope::current()
            .or_else(super::layer::state_from_span_tree)
            .map(RequestContext::new)
    }

    /// The trace id (the caller's, or a new one when nothing valid came in).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// println!("trace {}", cx.trace_id());
    /// ```
    pub fn trace_id(&self) -> TraceId {
        self.state.lock().span_context.trace_id()
    }

    /// The entry span's id (what this service reports as its span).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// assert_ne!(Some(cx.span_id()), cx.parent_id());
    /// ```
    pub fn span_id(&self) -> SpanId {
        self.state.lock().span_context.span_id()
    }

    /// The caller's span id; `None` when this service started the trace.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// if cx.parent_id().is_none() { println!("trace started here"); }
    /// ```
    pub fn parent_id(&self) -> Option<SpanId> {
        self.state.lock().parent_id
    }

    /// The entry span's context (trace id, span id, flags, Datadog priority and origin).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// assert!(cx.span_context().is_sampled());
    /// ```
    pub fn span_context(&self) -> SpanContext<'static> {
        self.state.lock().span_context.clone()
    }

    /// The baggage sent downstream: the incoming one (invalid members dropped, within the
    /// W3C limits), plus what `set_user` / `set_account` added when configured to.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// let theme = cx.baggage().get("theme").map(|v| v.into_owned());
    /// # let _ = theme;
    /// ```
    pub fn baggage(&self) -> Baggage<'static> {
        self.state.lock().baggage.clone()
    }

    /// The session, user and account ids in [`baggage`](Self::baggage) (untrusted: they come
    /// from the browser).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// println!("{:?}", cx.identity().user_id());
    /// ```
    pub fn identity(&self) -> Identity<'static> {
        let inner = self.state.lock();
        Identity::from_baggage(&inner.baggage).into_owned()
    }

    /// One tag of the entry span, as it stands (`usr.id`, `baggage.tenant`, …).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// println!("{:?}", cx.tag("usr.id"));
    /// ```
    pub fn tag(&self, key: &str) -> Option<String> {
        let mut tags = TagList::new();
        self.state.lock().push_tags(&self.state.config, &mut tags);
        tags.into_iter()
            .rev()
            .find(|(k, _)| k == key && !is_http_field(k))
            .map(|(_, v)| v.into_owned())
    }

    /// The tags this crate holds for the entry span: identity, `baggage.<key>` and the
    /// service's (the HTTP fields are on the span itself).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// for (k, v) in cx.tags() { println!("{k}={v}"); }
    /// ```
    pub fn tags(&self) -> BTreeMap<String, String> {
        let mut tags = TagList::new();
        self.state.lock().push_tags(&self.state.config, &mut tags);
        tags.into_iter()
            .filter(|(k, _)| !is_http_field(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// Sets a tag on the entry span. The service's tags win over baggage-derived ones; an
    /// empty key is ignored.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// cx.set_tag("cart.items", "3");
    /// ```
    pub fn set_tag(&self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        let key = key.into();
        if key.is_empty() {
            return;
        }
        let mut inner = self.state.lock();
        RequestState::set_service_tag(&mut inner, key, value.into());
    }

    /// Writes this request's context into outgoing headers, with a new span id as the
    /// parent of the outgoing request (returned): same trace id, `sampled`/`random` flags
    /// kept, `tracestate` passed on (with the `dd` member refreshed and moved to the front
    /// when Datadog propagation is on), baggage passed on.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// let mut headers: Vec<(String, String)> = Vec::new(); // or an `http::HeaderMap`
    /// let parent = cx.inject(&mut headers);
    /// assert!(headers[0].1.contains(&parent.to_string()));
    /// ```
    pub fn inject<I: Injector + ?Sized>(&self, carrier: &mut I) -> SpanId {
        let span_id = new_span_id();
        self.state.inject_into(carrier, span_id);
        span_id
    }

    /// [`inject`](Self::inject) with a given span id (a client span's).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use usertrail_propagator::SpanId;
    ///
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// cx.inject_with_span_id(&mut headers, SpanId::new(7).unwrap());
    /// ```
    pub fn inject_with_span_id<I: Injector + ?Sized>(&self, carrier: &mut I, span_id: SpanId) {
        self.state.inject_into(carrier, span_id);
    }

    /// Runs `future` inside this request (for work spawned onto another task, which does not
    /// inherit the thread-local marker): `set_user`, `inject_current`… see the request.
    /// Combine with `.in_current_span()` for the span tree.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f() {
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// let work = cx.scope(async { usertrail_propagator::tracing::set_tag("job", "resize") });
    /// work.await;
    /// # }
    /// ```
    pub fn scope<F>(&self, future: F) -> scope::Scoped<F> {
        scope::Scoped::new(future, Arc::clone(&self.state))
    }
}
