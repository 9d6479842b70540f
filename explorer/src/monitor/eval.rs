//! A monitor's values over its window, read through the [`SpanStore`] methods the views use:
//! `group_by` gives count, errors and percentiles (per group, or of every span over a key no
//! span has), `impact` the distinct users (per account, from its account list).

use crate::query::{Field, Matcher, Query, parse};
use crate::store::{Group, Result, Scope, SpanStore, TimeRange};

use super::{Checked, MAX_GROUPS, Metric, Spec, State};

/// A tag no span has: grouping on it puts every matching span in one group (the whole).
const WHOLE: &str = "usertrail.monitor.whole";

/// One group's value over the window (`value: None`: no span matched, NO DATA).
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// The group's value of the monitor's `group_by` (`None`: the monitor is not grouped).
    pub group: Option<String>,
    /// In the metric's unit.
    pub value: Option<f64>,
}

impl Reading {
    /// The state this value is in for `spec`.
    pub fn state(&self, spec: &Spec) -> State {
        match self.value {
            None => State::NoData,
            Some(v) if spec.comparator.breached(v, spec.threshold) => State::Alert,
            Some(_) => State::Ok,
        }
    }
}

/// `key:value` as a query term (`service:`, `resource_name:` and the other reserved fields,
/// as the stores group on them; else a tag).
///
/// # Examples
///
/// ```
/// use usertrail_explorer::monitor::eval::group_term;
///
/// assert_eq!(group_term("account.id", "premium acme").to_string(), "@account.id:\"premium acme\"");
/// assert_eq!(group_term("service", "payments").to_string(), "service:payments");
/// ```
pub fn group_term(key: &str, value: &str) -> Query {
    let field = Field::reserved(key).unwrap_or_else(|| Field::Tag(key.to_string()));
    Query::term(field, Matcher::Exact(value.to_string()))
}

/// The values of `spec` over the window ending at `now_ns`: one reading when not grouped,
/// else one per group seen (or per named group, NO DATA for those without spans).
///
/// # Errors
///
/// When the store fails.
///
/// # Examples
///
/// ```
/// use usertrail_explorer::monitor::{Spec, State, eval};
/// use usertrail_explorer::store::{SpanWriter, sqlite, synth};
///
/// # let dir = std::env::temp_dir().join(format!("usertrail-eval-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("spans.sqlite");
/// sqlite::Writer::open(&file).unwrap().insert(&synth::spans(5_000, 1)).unwrap();
/// let store = sqlite::Store::open(&file).unwrap();
/// let spec: Spec = serde_json::from_value(serde_json::json!({
///     "name": "premium errors", "query": "@account.id:premium_*", "metric": "error_rate",
///     "threshold": 5, "window": "24h", "webhook": "http://127.0.0.1:9/",
/// })).unwrap();
/// let checked = spec.validate().unwrap();
/// let readings = eval::evaluate(&store, &spec, &checked, synth::TEST_END_NS).unwrap();
/// assert_eq!(readings[0].state(&spec), State::Alert);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn evaluate(
    store: &dyn SpanStore,
    spec: &Spec,
    checked: &Checked,
    now_ns: i64,
) -> Result<Vec<Reading>> {
    let scope = Scope {
        entry_only: checked.entry_only,
        limit: MAX_GROUPS,
        range: TimeRange::last(checked.window, now_ns),
    };
    let mut readings = match (spec.metric, checked.group_by.as_deref()) {
        (Metric::Users, None) => {
            let impact = store.impact(&checked.query, Scope { limit: 1, ..scope })?;
            #[allow(clippy::cast_precision_loss)]
            let value = (impact.spans > 0).then_some(impact.user_count as f64);
            vec![Reading { group: None, value }]
        }
        (Metric::Users, Some(_)) => {
            // Child spans carry no account: the query is not narrowed, the accounts are.
            let impact = store.impact(&checked.query, scope)?;
            impact
                .accounts
                .into_iter()
                .filter(|a| spec.groups.is_empty() || spec.groups.contains(&a.account_id))
                .map(|a| Reading {
                    group: Some(a.account_id),
                    #[allow(clippy::cast_precision_loss)]
                    value: Some(a.users as f64),
                })
                .collect()
        }
        (metric, None) => {
            let result = store.group_by(&checked.query, WHOLE, scope)?;
            let value = result.groups.first().map(|g| value(metric, g));
            vec![Reading { group: None, value }]
        }
        (metric, Some(key)) => {
            let query = if spec.groups.is_empty() {
                checked.query.clone()
            } else {
                checked.query.clone().and(any_of(key, &spec.groups)?)
            };
            let result = store.group_by(&query, key, scope)?;
            result
                .groups
                .iter()
                .filter_map(|g| {
                    g.value.as_ref().map(|v| Reading {
                        group: Some(v.clone()),
                        value: Some(value(metric, g)),
                    })
                })
                .collect()
        }
    };
    // Named groups are always there: NO DATA when they had no span.
    for name in &spec.groups {
        if !readings.iter().any(|r| r.group.as_ref() == Some(name)) {
            readings.push(Reading {
                group: Some(name.clone()),
                value: None,
            });
        }
    }
    Ok(readings)
}

/// `key` is any of `values`.
fn any_of(key: &str, values: &[String]) -> Result<Query> {
    let text = values
        .iter()
        .map(|v| group_term(key, v).to_string())
        .collect::<Vec<_>>()
        .join(" OR ");
    parse(&text).map_err(|e| crate::store::StoreError::new(e.to_string()))
}

/// The metric's value of one group, in its unit.
#[allow(clippy::cast_precision_loss)]
fn value(metric: Metric, g: &Group) -> f64 {
    let ms = |ns: i64| ns as f64 / 1e6;
    match metric {
        Metric::ErrorRate => g.error_rate * 100.0,
        Metric::P50 => ms(g.p50_ns),
        Metric::P95 => ms(g.p95_ns),
        Metric::P99 => ms(g.p99_ns),
        Metric::Count | Metric::Users => g.count as f64,
    }
}
