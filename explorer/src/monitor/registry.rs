//! The monitors, their states per group, their transitions and their delivery failures,
//! kept in one JSON file ([`FILE`] in the data folder, for either store), rewritten
//! atomically (a temporary file renamed over it) after every change; and the schedule that
//! evaluates them.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::eval::{self, Reading, group_term};
use super::webhook::{self, Delivery, Failure, Retry};
use super::{Invalid, MAX_GROUPS, MAX_MONITORS, Spec, State};
use crate::store::SpanStore;

/// The file monitors are kept in, inside the data folder.
pub const FILE: &str = "monitors.json";
/// Transitions kept per monitor (the latest).
pub const MAX_HISTORY: usize = 100;
/// Delivery failures kept per monitor (the latest).
pub const MAX_FAILURES: usize = 20;

/// One group's state (the whole monitor's when it is not grouped: `group` is `None`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GroupState {
    /// The group (`premium_acme`).
    pub group: Option<String>,
    /// Its state.
    pub state: State,
    /// Its latest value (`None`: no data).
    pub value: Option<f64>,
    /// Since when it is in this state, ms since the epoch.
    pub since_ms: i64,
}

/// A change of state.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Transition {
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// The group.
    pub group: Option<String>,
    /// Before (`None`: first evaluation).
    pub from: Option<State>,
    /// After.
    pub to: State,
    /// The value that made it.
    pub value: Option<f64>,
    /// Whether a notification was sent (not when muted, nor between OK and NO DATA unless
    /// asked).
    pub notified: bool,
}

/// A failed delivery attempt, as the page shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeliveryFailure {
    /// When, ms since the epoch.
    pub at_ms: i64,
    /// What the notification said.
    pub summary: String,
    /// 1-based.
    pub attempt: u32,
    /// `HTTP 500`, a connection error, or `queue full`.
    pub error: String,
    /// No attempt follows.
    pub gave_up: bool,
}

/// A monitor with its state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Monitor {
    /// Its id.
    pub id: u64,
    /// What it watches.
    #[serde(flatten)]
    pub spec: Spec,
    /// Evaluated, states tracked, but no notification sent.
    pub muted: bool,
    /// ms since the epoch.
    pub created_ms: i64,
    /// The last evaluation, ms since the epoch.
    pub evaluated_ms: Option<i64>,
    /// Why the last evaluation failed (the store's error).
    pub error: Option<String>,
    /// The state of each group (one when not grouped). (Not `groups`: the spec's named
    /// groups are beside it in the JSON.)
    pub states: Vec<GroupState>,
    /// The latest transitions, oldest first.
    pub history: VecDeque<Transition>,
    /// The latest failed deliveries, oldest first.
    pub failures: VecDeque<DeliveryFailure>,
}

impl Monitor {
    /// The worst state of its groups (ALERT, then NO DATA, then OK); `None` before the first
    /// evaluation.
    pub fn state(&self) -> Option<State> {
        let has = |s| self.states.iter().any(|g| g.state == s);
        if self.evaluated_ms.is_none() {
            None
        } else if has(State::Alert) {
            Some(State::Alert)
        } else if has(State::NoData) || self.states.is_empty() {
            Some(State::NoData)
        } else {
            Some(State::Ok)
        }
    }

    /// The list's line: everything but the history and failures (counted instead).
    pub fn summary(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = v.as_object_mut() {
            map.remove("history");
            map.remove("failures");
            map.insert("state".into(), json!(self.state()));
            map.insert(
                "alerting".into(),
                json!(
                    self.states
                        .iter()
                        .filter(|g| g.state == State::Alert)
                        .count()
                ),
            );
            map.insert("failure_count".into(), json!(self.failures.len()));
            map.insert("transition_count".into(), json!(self.history.len()));
        }
        v
    }

    /// With the overall state, for `GET /api/monitors/{id}`.
    pub fn detail(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = v.as_object_mut() {
            map.insert("state".into(), json!(self.state()));
        }
        v
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    next_id: u64,
    monitors: Vec<Monitor>,
}

#[derive(Debug)]
struct Inner {
    saved: Mutex<Saved>,
    /// Held while the file is written, so that writes land in the order of the changes.
    writing: Mutex<()>,
    path: Option<PathBuf>,
    sender: Mutex<Option<webhook::Sender>>,
}

/// The monitors: cheap to clone, shared by the API and the schedule.
///
/// # Examples
///
/// ```
/// use usertrail_explorer::monitor::registry::Monitors;
/// use usertrail_explorer::monitor::webhook::Retry;
///
/// let monitors = Monitors::in_memory(Retry::default()).unwrap();
/// let spec = serde_json::from_value(serde_json::json!({
///     "name": "checkout p95", "query": "service:checkout", "metric": "p95",
///     "threshold": 2000, "window": "5m", "webhook": "http://127.0.0.1:9/hook",
/// })).unwrap();
/// let m = monitors.create(spec).unwrap();
/// assert_eq!(monitors.list().len(), 1);
/// assert!(monitors.delete(m.id));
/// ```
#[derive(Clone, Debug)]
pub struct Monitors {
    inner: Arc<Inner>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Monitors {
    /// The monitors kept in `dir`/[`FILE`] (none when it does not exist yet), notifying with
    /// `retry`.
    ///
    /// # Errors
    ///
    /// A file that cannot be read or is not a monitors file (refused rather than overwritten),
    /// or the delivery thread failing to start.
    pub fn open(dir: &Path, retry: Retry) -> io::Result<Monitors> {
        let path = dir.join(FILE);
        let saved = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: not a monitors file: {e}", path.display()),
                )
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Saved::default(),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        };
        Self::start(saved, Some(path), retry)
    }

    /// Monitors kept in memory only (for tests and examples).
    ///
    /// # Errors
    ///
    /// The delivery thread failing to start.
    pub fn in_memory(retry: Retry) -> io::Result<Monitors> {
        Self::start(Saved::default(), None, retry)
    }

    fn start(saved: Saved, path: Option<PathBuf>, retry: Retry) -> io::Result<Monitors> {
        let monitors = Monitors {
            inner: Arc::new(Inner {
                saved: Mutex::new(saved),
                writing: Mutex::new(()),
                path,
                sender: Mutex::new(None),
            }),
        };
        // The thread reports through a weak handle: it must not keep the monitors alive.
        let weak = Arc::downgrade(&monitors.inner);
        let sender = webhook::Sender::start(retry, move |failure| {
            if let Some(inner) = weak.upgrade() {
                let m = Monitors { inner };
                m.record_failure(failure);
            }
        })?;
        *monitors
            .inner
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(sender);
        Ok(monitors)
    }

    fn saved(&self) -> MutexGuard<'_, Saved> {
        self.inner.saved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the file (temporary file, then rename); errors are printed, not fatal: the
    /// monitors keep running in memory.
    fn save(&self) {
        let Some(path) = &self.inner.path else {
            return;
        };
        let _order = self.inner.writing.lock().unwrap_or_else(|e| e.into_inner());
        let text = match serde_json::to_vec(&*self.saved()) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("usertrail-explorer: monitors not saved: {e}");
                return;
            }
        };
        let tmp = path.with_extension("json.tmp");
        let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            eprintln!(
                "usertrail-explorer: monitors not saved to {}: {e}",
                path.display()
            );
        }
    }

    /// Every monitor, oldest first.
    pub fn list(&self) -> Vec<Monitor> {
        self.saved().monitors.clone()
    }

    /// One monitor.
    pub fn get(&self, id: u64) -> Option<Monitor> {
        self.saved().monitors.iter().find(|m| m.id == id).cloned()
    }

    /// Adds a monitor (first evaluated at the next round).
    ///
    /// # Errors
    ///
    /// The spec's fault, or [`MAX_MONITORS`] reached.
    pub fn create(&self, spec: Spec) -> Result<Monitor, Invalid> {
        spec.validate()?;
        let monitor = {
            let mut saved = self.saved();
            if saved.monitors.len() >= MAX_MONITORS {
                return Err(Invalid::new(
                    "monitors",
                    format!("at most {MAX_MONITORS} monitors: delete one first"),
                ));
            }
            saved.next_id += 1;
            let monitor = Monitor {
                id: saved.next_id,
                spec: Spec {
                    name: spec.name.trim().to_string(),
                    ..spec
                },
                muted: false,
                created_ms: now_ms(),
                evaluated_ms: None,
                error: None,
                states: Vec::new(),
                history: VecDeque::new(),
                failures: VecDeque::new(),
            };
            saved.monitors.push(monitor.clone());
            monitor
        };
        self.save();
        Ok(monitor)
    }

    /// Mutes or unmutes a monitor; `None` when there is no such monitor.
    pub fn set_muted(&self, id: u64, muted: bool) -> Option<Monitor> {
        let monitor = {
            let mut saved = self.saved();
            let m = saved.monitors.iter_mut().find(|m| m.id == id)?;
            m.muted = muted;
            m.clone()
        };
        self.save();
        Some(monitor)
    }

    /// Deletes a monitor; whether there was one.
    pub fn delete(&self, id: u64) -> bool {
        let found = {
            let mut saved = self.saved();
            let before = saved.monitors.len();
            saved.monitors.retain(|m| m.id != id);
            saved.monitors.len() != before
        };
        if found {
            self.save();
        }
        found
    }

    fn record_failure(&self, f: Failure) {
        {
            let mut saved = self.saved();
            let Some(m) = saved.monitors.iter_mut().find(|m| m.id == f.monitor_id) else {
                return;
            };
            push_bounded(
                &mut m.failures,
                DeliveryFailure {
                    at_ms: now_ms(),
                    summary: f.summary,
                    attempt: f.attempt,
                    error: f.error,
                    gave_up: f.gave_up,
                },
                MAX_FAILURES,
            );
        }
        self.save();
    }

    /// Evaluates every monitor over its window ending at `now_ns`, records the transitions
    /// and queues their notifications; blocking (the store's calls).
    pub fn evaluate_all(&self, store: &dyn SpanStore, now_ns: i64) {
        let specs: Vec<(u64, Spec)> = self
            .saved()
            .monitors
            .iter()
            .map(|m| (m.id, m.spec.clone()))
            .collect();
        let mut outbox = Vec::new();
        for (id, spec) in specs {
            let result = spec
                .validate()
                .map_err(|e| e.to_string())
                .and_then(|checked| {
                    eval::evaluate(store, &spec, &checked, now_ns).map_err(|e| e.to_string())
                });
            let at_ms = now_ns / 1_000_000;
            let mut saved = self.saved();
            // Deleted meanwhile: nothing to record.
            let Some(m) = saved.monitors.iter_mut().find(|m| m.id == id) else {
                continue;
            };
            m.evaluated_ms = Some(at_ms);
            match result {
                Ok(readings) => {
                    m.error = None;
                    outbox.extend(apply(m, readings, at_ms));
                }
                Err(e) => m.error = Some(e),
            }
        }
        let sender = self
            .inner
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for delivery in outbox {
            let refused = match &sender {
                Some(s) => s.send(delivery).err(),
                None => Some(delivery),
            };
            if let Some(d) = refused {
                self.record_failure(Failure {
                    monitor_id: d.monitor_id,
                    summary: d.summary,
                    attempt: 0,
                    error: format!("not sent: {} notifications already wait", webhook::QUEUE),
                    gave_up: true,
                });
            }
        }
        self.save();
    }

    /// Evaluates every `interval` (on a blocking thread) until the runtime stops.
    pub async fn run(self, store: Arc<dyn SpanStore>, interval: Duration) {
        let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(100)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let (monitors, store) = (self.clone(), Arc::clone(&store));
            let now_ns = now_ms().saturating_mul(1_000_000);
            let _ =
                tokio::task::spawn_blocking(move || monitors.evaluate_all(&*store, now_ns)).await;
        }
    }
}

fn push_bounded<T>(list: &mut VecDeque<T>, item: T, max: usize) {
    list.push_back(item);
    while list.len() > max {
        list.pop_front();
    }
}

/// The new readings into `m`'s states: its transitions recorded, and the notifications to
/// send.
fn apply(m: &mut Monitor, readings: Vec<Reading>, at_ms: i64) -> Vec<Delivery> {
    let mut out = Vec::new();
    let mut next: Vec<GroupState> = Vec::with_capacity(readings.len());
    let mut seen = std::collections::HashSet::new();
    for r in readings.into_iter().take(MAX_GROUPS) {
        let state = r.state(&m.spec);
        seen.insert(r.group.clone());
        let before = m.states.iter().find(|g| g.group == r.group);
        next.push(transition(
            m,
            before.cloned(),
            r.group,
            state,
            r.value,
            at_ms,
            &mut out,
        ));
    }
    // A group gone from the window has no data now; one already without data is forgotten.
    let gone: Vec<GroupState> = m
        .states
        .iter()
        .filter(|g| !seen.contains(&g.group) && g.state != State::NoData)
        .cloned()
        .collect();
    for g in gone {
        if next.len() >= MAX_GROUPS {
            break;
        }
        let group = g.group.clone();
        next.push(transition(
            m,
            Some(g),
            group,
            State::NoData,
            None,
            at_ms,
            &mut out,
        ));
    }
    next.sort_by(|a, b| a.group.cmp(&b.group));
    m.states = next;
    out
}

fn transition(
    m: &mut Monitor,
    before: Option<GroupState>,
    group: Option<String>,
    state: State,
    value: Option<f64>,
    at_ms: i64,
    out: &mut Vec<Delivery>,
) -> GroupState {
    let from = before.as_ref().map(|b| b.state);
    if from == Some(state) {
        return GroupState {
            value,
            ..before.unwrap_or(GroupState {
                group,
                state,
                value,
                since_ms: at_ms,
            })
        };
    }
    // A first OK (or NO DATA) is the starting point, not news; ALERT always is.
    let worth = state == State::Alert
        || from == Some(State::Alert)
        || (m.spec.notify_no_data && from.is_some());
    let notified = worth && !m.muted;
    if notified {
        out.push(notification(m, group.as_deref(), from, state, value, at_ms));
    }
    push_bounded(
        &mut m.history,
        Transition {
            at_ms,
            group: group.clone(),
            from,
            to: state,
            value,
            notified,
        },
        MAX_HISTORY,
    );
    GroupState {
        group,
        state,
        value,
        since_ms: at_ms,
    }
}

fn state_name(s: Option<State>) -> serde_json::Value {
    json!(s)
}

/// The webhook's JSON for one transition.
fn notification(
    m: &Monitor,
    group: Option<&str>,
    from: Option<State>,
    to: State,
    value: Option<f64>,
    at_ms: i64,
) -> Delivery {
    let spec = &m.spec;
    let key = spec
        .group_by
        .as_deref()
        .map(|k| k.trim().trim_start_matches('@'));
    let mut q = spec.query.trim().to_string();
    if let (Some(k), Some(g)) = (key, group) {
        let term = group_term(k, g).to_string();
        q = if q.is_empty() {
            term
        } else {
            format!("{q} {term}")
        };
    }
    let link = format!(
        "/explorer?q={}&range={}",
        encode(&q),
        encode(spec.window.trim())
    );
    let body = json!({
        "monitor_id": m.id,
        "monitor": spec.name,
        "query": spec.query,
        "metric": spec.metric,
        "unit": spec.metric.unit(),
        "comparator": spec.comparator,
        "threshold": spec.threshold,
        "window": spec.window,
        "group_by": key,
        "group": group,
        "previous_state": state_name(from),
        "state": state_name(Some(to)),
        "value": value,
        "evaluated_at": rfc3339(at_ms),
        "evaluated_at_ms": at_ms,
        "link": link,
    });
    let who = group.map_or_else(String::new, |g| format!("{g}: "));
    let from_text = from.map_or("(new)".to_string(), |s| {
        state_name(Some(s)).as_str().unwrap_or("").to_string()
    });
    let to_text = state_name(Some(to)).as_str().unwrap_or("").to_string();
    Delivery {
        monitor_id: m.id,
        url: spec.webhook.clone(),
        body: body.to_string(),
        summary: format!("{who}{from_text} → {to_text}"),
    }
}

/// Percent-encoding for a URL's query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `2026-12-03T13:47:17.123Z` for ms since the epoch.
fn rfc3339(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1_000 % 60,
        rem % 1_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips_and_a_foreign_one_is_refused() {
        let dir = std::env::temp_dir().join(format!("usertrail-registry-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let monitors = Monitors::open(&dir, Retry::default()).unwrap();
        let spec: Spec = serde_json::from_value(json!({
            "name": "n", "metric": "count", "threshold": 1, "window": "1m",
            "webhook": "http://127.0.0.1:9/", "group_by": "account.id", "groups": ["a", "b"],
        }))
        .unwrap();
        let id = monitors.create(spec.clone()).unwrap().id;
        monitors.set_muted(id, true).unwrap();
        let again = Monitors::open(&dir, Retry::default()).unwrap();
        let m = again.get(id).unwrap();
        assert_eq!((m.spec, m.muted), (spec, true));
        assert!(!dir.join("monitors.json.tmp").exists());
        // Ids are not reused after a delete.
        assert!(again.delete(id));
        let next = again.create(m_spec()).unwrap().id;
        assert!(next > id);
        std::fs::write(dir.join(FILE), "{\"spans\": []").unwrap();
        let err = Monitors::open(&dir, Retry::default()).unwrap_err();
        assert!(err.to_string().contains("not a monitors file"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn m_spec() -> Spec {
        serde_json::from_value(json!({
            "name": "m", "metric": "p95", "threshold": 1, "window": "1m",
            "webhook": "http://127.0.0.1:9/",
        }))
        .unwrap()
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_764_769_637_123), "2025-12-03T13:47:17.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
