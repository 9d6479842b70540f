use tower_layer::Layer;

use super::PropagateContext;
use crate::PropagatorType;
use crate::server::EntryConfig;
use crate::tracing::{BaggageTagKeys, IdentityAttributes};

/// Wraps a service in [`PropagateContext`]: every request continues the caller's trace in a
/// service entry span tagged with `usr.id`, `account.id` and `session.id`.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{tower::PropagateContextLayer, tracing::BaggageTagKeys, PropagatorType};
///
/// // The defaults: extract tracecontext, Datadog, B3; inject tracecontext + Datadog;
/// // tag `usr.id`, `account.id`, `session.id` from baggage.
/// const LAYER: PropagateContextLayer = PropagateContextLayer::new();
///
/// let layer = PropagateContextLayer::new()
///     .with_inject(&[PropagatorType::TraceContext])
///     .with_baggage_tag_keys(BaggageTagKeys::parse("tenant,plan"))
///     .with_identity_in_baggage(true);
/// # let _ = (LAYER, layer);
/// ```
#[derive(Clone, Debug)]
pub struct PropagateContextLayer {
    config: EntryConfig,
}

impl Default for PropagateContextLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl PropagateContextLayer {
    /// The default configuration (see the type's example).
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = usertrail_propagator::tower::PropagateContextLayer::new();
    /// # let _ = layer;
    /// ```
    pub const fn new() -> Self {
        PropagateContextLayer {
            config: EntryConfig::new(),
        }
    }

    /// A layer with `config`, e.g. one shared with the `actix` middleware.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{server::EntryConfig, tower::PropagateContextLayer};
    ///
    /// let config = EntryConfig::new().with_max_baggage_tags(4);
    /// let layer = PropagateContextLayer::with_config(config);
    /// # let _ = layer;
    /// ```
    pub fn with_config(config: EntryConfig) -> Self {
        PropagateContextLayer { config }
    }

    /// Formats to extract, in order; the first valid one wins (default:
    /// [`PropagatorType::EXTRACT_ORDER`]). Baggage is always read.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{tower::PropagateContextLayer, PropagatorType};
    ///
    /// let w3c_only = PropagateContextLayer::new().with_extract(&[PropagatorType::TraceContext]);
    /// # let _ = w3c_only;
    /// ```
    pub fn with_extract(mut self, order: &'static [PropagatorType]) -> Self {
        self.config = self.config.with_extract(order);
        self
    }

    /// Formats written on outgoing requests by [`inject_current`](crate::tracing::inject_current)
    /// and the `reqwest` middleware (default: `tracecontext` and `datadog`). With `datadog`,
    /// the `dd` member of `tracestate` is refreshed and moved to the front, and a Datadog
    /// sampling priority is derived from the `sampled` flag when none came in.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{tower::PropagateContextLayer, PropagatorType};
    ///
    /// let layer = PropagateContextLayer::new().with_inject(&[PropagatorType::TraceContext, PropagatorType::B3Multi]);
    /// # let _ = layer;
    /// ```
    pub fn with_inject(mut self, types: &'static [PropagatorType]) -> Self {
        self.config = self.config.with_inject(types);
        self
    }

    /// Baggage keys tagged as `baggage.<key>` on the entry span, or `*` for all (Datadog's
    /// `DD_TRACE_BAGGAGE_TAG_KEYS`); default none. `user.id`, `account.id` and `session.id`
    /// become `usr.id`, `account.id` and `session.id` regardless.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{tower::PropagateContextLayer, tracing::BaggageTagKeys};
    ///
    /// let layer = PropagateContextLayer::new().with_baggage_tag_keys(BaggageTagKeys::ALL);
    /// # let _ = layer;
    /// ```
    pub fn with_baggage_tag_keys(mut self, keys: BaggageTagKeys) -> Self {
        self.config = self.config.with_baggage_tag_keys(keys);
        self
    }

    /// At most this many `baggage.<key>` tags per request (default
    /// [`DEFAULT_MAX_BAGGAGE_TAGS`](crate::tracing::DEFAULT_MAX_BAGGAGE_TAGS)); further keys
    /// are left out with a `debug` event.
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = usertrail_propagator::tower::PropagateContextLayer::new().with_max_baggage_tags(4);
    /// # let _ = layer;
    /// ```
    pub fn with_max_baggage_tags(mut self, max: usize) -> Self {
        self.config = self.config.with_max_baggage_tags(max);
        self
    }

    /// Baggage values longer than `max` bytes are not tagged at all (not cut), with a `debug`
    /// event (default [`DEFAULT_MAX_TAG_VALUE_LEN`](crate::tracing::DEFAULT_MAX_TAG_VALUE_LEN)).
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = usertrail_propagator::tower::PropagateContextLayer::new().with_max_tag_value_len(64);
    /// # let _ = layer;
    /// ```
    pub fn with_max_tag_value_len(mut self, max: usize) -> Self {
        self.config = self.config.with_max_tag_value_len(max);
        self
    }

    /// Whether [`set_user`](crate::tracing::set_user) / [`set_account`](crate::tracing::set_account)
    /// also put `user.id` / `account.id` into the outgoing baggage, so downstream services tag
    /// their entry spans with the service's ids (default `false`).
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = usertrail_propagator::tower::PropagateContextLayer::new().with_identity_in_baggage(true);
    /// # let _ = layer;
    /// ```
    pub fn with_identity_in_baggage(mut self, on: bool) -> Self {
        self.config = self.config.with_identity_in_baggage(on);
        self
    }

    /// The names of the identity attributes on entry spans: Datadog's `usr.id`, `usr.*`,
    /// `account.id`, `session.id` (the default) or OpenTelemetry's `user.id`, `user.*`,
    /// `session.id`, plus `account.id` (see [`IdentityAttributes`] for the whole table).
    /// What travels in baggage (`user.id`, `account.id`, `session.id`) is the same either way.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{tower::PropagateContextLayer, tracing::IdentityAttributes};
    ///
    /// let layer = PropagateContextLayer::new().with_identity_attributes(IdentityAttributes::OpenTelemetry);
    /// # let _ = layer;
    /// ```
    pub fn with_identity_attributes(mut self, names: IdentityAttributes) -> Self {
        self.config = self.config.with_identity_attributes(names);
        self
    }

    /// Bridges to `tracing-opentelemetry` (feature `opentelemetry`): the entry span's
    /// OpenTelemetry parent is set to the extracted context, this crate adopts the
    /// OpenTelemetry span's ids (so what it propagates matches what is exported), and tags
    /// that are not span fields (`baggage.<key>`, `usr.<key>`, the service's own) are set as
    /// attributes. Needs `tracing_opentelemetry::OpenTelemetryLayer` in the subscriber.
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = usertrail_propagator::tower::PropagateContextLayer::new().with_opentelemetry(true);
    /// # let _ = layer;
    /// ```
    #[cfg(feature = "opentelemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
    pub fn with_opentelemetry(mut self, on: bool) -> Self {
        self.config = self.config.with_opentelemetry(on);
        self
    }
}

impl<S> Layer<S> for PropagateContextLayer {
    type Service = PropagateContext<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PropagateContext::with_config(inner, self.config.clone())
    }
}
