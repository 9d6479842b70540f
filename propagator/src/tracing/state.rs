//! One request's trace context, baggage and entry-span tags.

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use super::names::IdentityAttributes;
use crate::datadog::tracecontext::priority_from_sampled;
use crate::{
    Baggage, Context, Extracted, Identity, Injector, PropagatorType, SpanContext, SpanId,
    TraceFlags, TraceId, Tracestate,
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
    pub(crate) fn tag_value_ok(&self, key: &str, value: &str) -> bool {
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
            && (printable_ascii(value) || !value.chars().any(char::is_control))
    }
}

/// Whether every byte of `value` is printable ASCII (`0x20..0x7f`). Without the early exit
/// of `all`, the loop is vectorized: the identity values of every request go through it.
#[inline]
fn printable_ascii(value: &str) -> bool {
    value
        .bytes()
        .fold(true, |ok, b| ok & (b.wrapping_sub(0x20) < 0x5f))
}

/// A Datadog origin kept for the request: the ones Datadog's own products send borrow a
/// static string rather than each request copying its own.
fn owned_origin(origin: Cow<'_, str>) -> Cow<'static, str> {
    const COMMON: &[&str] = &[
        "rum",
        "synthetics",
        "synthetics-browser",
        "lambda",
        "appsec",
        "ciapp-test",
    ];
    match COMMON.iter().find(|c| **c == origin) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(origin.into_owned()),
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
    /// ([`Inner::push_tags`]), once per request for the span record: nothing is copied for
    /// them before.
    pub(crate) tags: BTreeMap<Cow<'static, str>, String>,
}

/// A tag list: later entries win when collected into a map.
pub(crate) type TagList = Vec<(Cow<'static, str>, Cow<'static, str>)>;

impl Inner {
    /// Appends the entry span's tags to `out`: the identity and `baggage.<key>` tags from
    /// the baggage (untrusted: capped, see [`Config::tag_value_ok`]), then the service's,
    /// which therefore win.
    pub(crate) fn push_tags(&self, config: &Config, out: &mut TagList) {
        self.each_tag(config, |key, value| out.push((key, value)));
    }

    /// [`push_tags`](Self::push_tags), one tag at a time.
    pub(crate) fn each_tag(
        &self,
        config: &Config,
        mut out: impl FnMut(Cow<'static, str>, Cow<'static, str>),
    ) {
        // The same values the entry span's fields got when the request started (where the
        // rejects were reported).
        let identity = Identity::from_baggage(&self.baggage);
        for (attribute, value) in identity.attributes() {
            if config.tag_value_fits(value) {
                let attribute = config.identity_attributes.rename(attribute);
                out(Cow::Borrowed(attribute), Cow::Owned(String::from(value)));
            }
        }
        self.each_tag_after_identity(config, out);
    }

    /// The tags [`each_tag`](Self::each_tag) gives after the identity from the baggage: the
    /// `baggage.<key>` tags, then the service's. `UsertrailLayer` takes the identity from
    /// the entry span's typed fields, where the entry point put it once.
    pub(crate) fn each_tag_after_identity(
        &self,
        config: &Config,
        mut out: impl FnMut(Cow<'static, str>, Cow<'static, str>),
    ) {
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
                out(Cow::Owned(tag), Cow::Owned(value.into_owned()));
            }
        }
        for (key, value) in &self.tags {
            out(key.clone(), Cow::Owned(value.clone()));
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

    /// Continues the extracted trace (or starts one) with a new span id.
    pub(crate) fn start(config: SharedConfig, extracted: &Extracted<'_>) -> Self {
        let span_id = new_span_id();
        let (mut span_context, parent_id) = match extracted.span_context() {
            Some(remote) => {
                let mut local = remote.clone();
                let origin = local.origin.take().map(owned_origin);
                let mut local = local.into_owned().with_span_id(span_id);
                local.origin = origin;
                (local, Some(remote.span_id()))
            }
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
            let priority = priority_from_sampled(span_context.is_sampled());
            span_context = span_context.with_sampling_priority(Some(priority));
        }

        RequestState {
            inner: Mutex::new(Inner {
                span_context,
                parent_id,
                tracestate: extracted.tracestate().cloned().map(Tracestate::into_owned),
                baggage: extracted.baggage().clone().into_owned(),
                tags: BTreeMap::new(),
            }),
            config,
        }
    }

    /// The trace id, the entry span's id and the caller's span id, read before the state is
    /// shared (no lock).
    pub(crate) fn ids(&mut self) -> (TraceId, SpanId, Option<SpanId>) {
        let inner = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        (
            inner.span_context.trace_id(),
            inner.span_context.span_id(),
            inner.parent_id,
        )
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
