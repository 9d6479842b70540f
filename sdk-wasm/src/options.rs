//! `init(options)`: the Datadog browser RUM option names and defaults, read with `Reflect`.
//!
//! Read field by field rather than deserialized with serde-wasm-bindgen: the deserialize half
//! of serde-wasm-bindgen costs about 13 KB gzip in the payload (shared/REFERENCE.md), and
//! RegExp and function entries are not data anyway.

use js_sys::{Array, Function, Object, Reflect, RegExp};
use usertrail_propagator::PropagatorType;
use wasm_bindgen::{JsCast, JsValue};

use crate::console;
use crate::matcher::UrlMatch;
use crate::session::Persistence;

/// Propagator types used when an entry does not name its own (Datadog's default).
const DEFAULT_PROPAGATORS: [PropagatorType; 2] =
    [PropagatorType::TraceContext, PropagatorType::Datadog];

/// Options of Datadog's browser RUM SDK that usertrail has no use for: accepted silently so
/// an existing `datadogRum.init({...})` call works unchanged.
///
/// One comma-separated string rather than a `&[&str]`: a table of 43 pointers and lengths costs
/// more WebAssembly than the loop over the bytes.
const DATADOG_ONLY: &str = "\
    actionNameAttribute,allowFallbackToLocalStorage,allowUntrustedEvents,\
    allowedTrackingOrigins,applicationId,beforeSend,clientToken,compressIntakeRequests,\
    datacenter,defaultPrivacyLevel,enableExperimentalFeatures,enablePrivacyForActionName,\
    excludedActivityUrls,plugins,premiumSampleRate,profilingSampleRate,proxy,\
    remoteConfigurationId,replaySampleRate,sessionReplaySampleRate,sessionSampleRate,\
    silentMultipleInit,site,startSessionReplayRecordingManually,storeContextsAcrossPages,\
    subdomain,telemetryConfigurationSampleRate,telemetrySampleRate,telemetryUsageSampleRate,\
    trackAnonymousUser,trackBfcacheViews,trackEarlyRequests,trackFeatureFlagsForEvents,\
    trackLongTasks,trackResources,trackSessionAcrossSubdomains,trackUserInteractions,\
    trackViewsManually,trackingConsent,usePartitionedCrossSiteSessionCookie,usePciIntake,\
    useSecureSessionCookie,workerUrl";

/// One `allowedTracingUrls` entry.
#[derive(Debug)]
pub(crate) struct TracingUrl {
    pub(crate) url: UrlMatch,
    pub(crate) propagators: Vec<PropagatorType>,
}

/// What `init` configured.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) tracing_urls: Vec<TracingUrl>,
    /// Percent of sessions whose requests are traced, 0 to 100.
    pub(crate) trace_sample_rate: f64,
    /// `traceContextInjection: 'all'`: unsampled requests carry headers with sampled off.
    pub(crate) inject_unsampled: bool,
    pub(crate) propagate_baggage: bool,
    pub(crate) persistence: Persistence,
}

impl Config {
    /// Reads `options`, warning once for each unknown or ill-typed option. Never throws.
    pub(crate) fn from_js(options: &JsValue) -> Config {
        let mut config = Config {
            tracing_urls: Vec::new(),
            trace_sample_rate: 100.0,
            inject_unsampled: false,
            propagate_baggage: false,
            persistence: Persistence::LocalStorage,
        };
        if options.is_undefined() {
            return config;
        }
        let Some(object) = options
            .dyn_ref::<Object>()
            .filter(|_| !options.is_function())
        else {
            console::warn(&["init options must be an object, got:"], Some(options));
            return config;
        };
        for key in Object::keys(object).iter() {
            let Some(name) = key.as_string() else {
                continue;
            };
            let value = Reflect::get(object, &key).unwrap_or_default();
            if value.is_undefined() {
                continue;
            }
            match name.as_str() {
                "allowedTracingUrls" => config.tracing_urls = tracing_urls(&value),
                "traceSampleRate" => match value.as_f64() {
                    Some(rate) if (0.0..=100.0).contains(&rate) => config.trace_sample_rate = rate,
                    _ => ill_typed(&name, "a number from 0 to 100", &value),
                },
                "traceContextInjection" => match value.as_string().as_deref() {
                    Some("sampled") => config.inject_unsampled = false,
                    Some("all") => config.inject_unsampled = true,
                    _ => ill_typed(&name, "'sampled' or 'all'", &value),
                },
                "propagateTraceBaggage" => match value.as_bool() {
                    Some(on) => config.propagate_baggage = on,
                    None => ill_typed(&name, "a boolean", &value),
                },
                "sessionPersistence" => match value.as_string().as_deref() {
                    Some("local-storage") => config.persistence = Persistence::LocalStorage,
                    Some("memory") => config.persistence = Persistence::Memory,
                    Some("cookie") => console::warn(
                        &[
                            "sessionPersistence 'cookie' is not supported; the session is kept in local-storage",
                        ],
                        None,
                    ),
                    _ => ill_typed(&name, "'local-storage' or 'memory'", &value),
                },
                "service" | "env" | "version" => {
                    if value.as_string().is_none() {
                        ill_typed(&name, "a string", &value);
                    }
                }
                other if is_datadog_only(other) => {}
                _ => console::warn(&["unknown init option '", &name, "' ignored"], None),
            }
        }
        config
    }
}

fn is_datadog_only(name: &str) -> bool {
    DATADOG_ONLY
        .as_bytes()
        .split(|&b| b == b',')
        .any(|known| known == name.as_bytes())
}

fn ill_typed(name: &str, expected: &str, value: &JsValue) {
    console::warn(&[name, " must be ", expected, "; ignored:"], Some(value));
}

fn tracing_urls(value: &JsValue) -> Vec<TracingUrl> {
    let Some(entries) = value.dyn_ref::<Array>() else {
        ill_typed("allowedTracingUrls", "an array", value);
        return Vec::new();
    };
    let mut urls = Vec::new();
    for entry in entries.iter() {
        let parsed = if let Some(url) = url_match(&entry) {
            Some(TracingUrl {
                url,
                propagators: DEFAULT_PROPAGATORS.to_vec(),
            })
        } else if entry.is_object() {
            let url = Reflect::get(&entry, &"match".into())
                .ok()
                .and_then(|m| url_match(&m));
            url.map(|url| TracingUrl {
                url,
                propagators: propagator_types(
                    &Reflect::get(&entry, &"propagatorTypes".into()).unwrap_or_default(),
                ),
            })
        } else {
            None
        };
        match parsed {
            Some(url) => urls.push(url),
            None => console::warn(
                &[
                    "allowedTracingUrls entry must be a non-empty string, a RegExp, a function or { match, propagatorTypes }; ignored:",
                ],
                Some(&entry),
            ),
        }
    }
    urls
}

fn url_match(value: &JsValue) -> Option<UrlMatch> {
    if let Some(prefix) = value.as_string() {
        return (!prefix.is_empty()).then_some(UrlMatch::Prefix(prefix));
    }
    if let Some(regex) = value.dyn_ref::<RegExp>() {
        return Some(UrlMatch::Regex(regex.clone()));
    }
    value
        .dyn_ref::<Function>()
        .map(|function| UrlMatch::Function(function.clone()))
}

fn propagator_types(value: &JsValue) -> Vec<PropagatorType> {
    if value.is_undefined() {
        return DEFAULT_PROPAGATORS.to_vec();
    }
    let Some(names) = value.dyn_ref::<Array>() else {
        ill_typed("propagatorTypes", "an array of names", value);
        return DEFAULT_PROPAGATORS.to_vec();
    };
    let mut types = Vec::new();
    for name in names.iter() {
        match name
            .as_string()
            .and_then(|n| n.parse::<PropagatorType>().ok())
        {
            Some(kind) if !types.contains(&kind) => types.push(kind),
            Some(_) => {}
            None => console::warn(
                &["unknown propagator type dropped (known: tracecontext, datadog, b3, b3multi):"],
                Some(&name),
            ),
        }
    }
    types
}

#[cfg(test)]
mod tests {
    use super::{DATADOG_ONLY, is_datadog_only};

    #[test]
    fn datadog_only_options_are_whole_names() {
        let names: Vec<&str> = DATADOG_ONLY.split(',').collect();
        assert_eq!(names.len(), 43);
        assert!(names.is_sorted(), "{names:?}");
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_alphabetic()))
        );
        assert!(names.iter().all(|n| is_datadog_only(n)));
        for not_one in [
            "",
            "site,",
            "sit",
            "sites",
            "applicationid",
            "allowedTracingUrls",
        ] {
            assert!(!is_datadog_only(not_one), "{not_one:?}");
        }
    }
}
