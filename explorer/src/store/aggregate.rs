//! What every store computes the same way once it has read the rows: who a query hurt
//! ([`impact`]) and the endpoints table ([`endpoints`]). A store reads the rows its own way;
//! these turn them into the API's answers, so that every store gives the same answers.

use std::collections::{HashMap, HashSet};

use super::{
    Endpoint, ErrorGroup, ErrorGroups, ErrorRow, Impact, ImpactedAccount, ImpactedUser,
    KeyAnalysis, TagAnalysis, TagValue, ValueCounts, stats,
};

/// The identity of one service entry span of a trace that a query hit.
#[derive(Debug)]
pub struct EntryIdentity {
    /// The trace.
    pub trace_id: String,
    /// `usr.id`.
    pub usr_id: Option<String>,
    /// `account.id`.
    pub account_id: Option<String>,
    /// `session.id`.
    pub session_id: Option<String>,
    /// The entry span's start, ns since the epoch.
    pub start_ns: i64,
    /// `usr.role`, when the span has a user.
    pub role: Option<String>,
}

/// The [`Impact`] of a query that matched `spans` spans in `traces` traces whose entry spans
/// are `entries`; at most `limit` users and accounts, the most hit first. A user's role is
/// the one on their newest entry span that has one (a store that leaves roles out of
/// `entries` fills them in by the same rule, see [`ImpactedUser::role`]).
pub fn impact(
    spans: u64,
    traces: u64,
    entries: impl IntoIterator<Item = EntryIdentity>,
    limit: usize,
) -> Impact {
    struct UserAcc {
        /// The role on the user's newest entry span that has one, and that span's start.
        role: Option<(i64, String)>,
        traces: HashSet<String>,
        sessions: HashSet<String>,
        last: i64,
    }
    let mut users: HashMap<(String, Option<String>), UserAcc> = HashMap::new();
    let mut accounts: HashMap<String, (HashSet<String>, HashSet<String>)> = HashMap::new();
    let mut signed_in: HashSet<String> = HashSet::new();
    for entry in entries {
        if let Some(account) = &entry.account_id {
            let acc = accounts.entry(account.clone()).or_default();
            if let Some(user) = &entry.usr_id {
                acc.0.insert(user.clone());
            }
            acc.1.insert(entry.trace_id.clone());
        }
        let Some(usr_id) = entry.usr_id else { continue };
        signed_in.insert(entry.trace_id.clone());
        let user = users
            .entry((usr_id, entry.account_id))
            .or_insert_with(|| UserAcc {
                role: None,
                traces: HashSet::new(),
                sessions: HashSet::new(),
                last: i64::MIN,
            });
        if let Some(session) = entry.session_id {
            user.sessions.insert(session);
        }
        user.last = user.last.max(entry.start_ns);
        if let Some(role) = entry.role {
            if user
                .role
                .as_ref()
                .is_none_or(|(at, _)| *at <= entry.start_ns)
            {
                user.role = Some((entry.start_ns, role));
            }
        }
        user.traces.insert(entry.trace_id);
    }
    let user_count = users
        .keys()
        .map(|(u, _)| u.as_str())
        .collect::<HashSet<_>>()
        .len();
    let mut users: Vec<ImpactedUser> = users
        .into_iter()
        .map(|((usr_id, account_id), acc)| ImpactedUser {
            usr_id,
            account_id,
            role: acc.role.map(|(_, role)| role),
            traces: acc.traces.len() as u64,
            sessions: acc.sessions.len() as u64,
            last_seen_ns: acc.last,
        })
        .collect();
    users.sort_by(|a, b| {
        b.traces
            .cmp(&a.traces)
            .then_with(|| a.usr_id.cmp(&b.usr_id))
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    let mut accounts: Vec<ImpactedAccount> = accounts
        .into_iter()
        .map(|(account_id, (users, traces))| ImpactedAccount {
            account_id,
            users: users.len() as u64,
            traces: traces.len() as u64,
        })
        .collect();
    accounts.sort_by(|a, b| {
        b.traces
            .cmp(&a.traces)
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    let account_count = accounts.len();
    users.truncate(limit);
    accounts.truncate(limit);
    Impact {
        spans,
        traces,
        anonymous_traces: traces.saturating_sub(signed_in.len() as u64),
        user_count,
        account_count,
        users,
        accounts,
    }
}

/// The endpoints table from the `(service, resource, duration_ns, error)` of recent entry
/// spans: the most failing first, then the slowest.
pub fn endpoints(rows: impl IntoIterator<Item = (String, String, i64, bool)>) -> Vec<Endpoint> {
    let mut groups: HashMap<(String, String), (Vec<i64>, u64)> = HashMap::new();
    for (service, resource, duration_ns, error) in rows {
        let entry = groups.entry((service, resource)).or_default();
        entry.0.push(duration_ns);
        entry.1 += u64::from(error);
    }
    let mut out: Vec<Endpoint> = groups
        .into_iter()
        .map(|((service, resource), (durations, errors))| Endpoint {
            service,
            resource,
            stats: stats(None, durations, errors),
        })
        .collect();
    out.sort_by(|a, b| {
        b.stats
            .errors
            .cmp(&a.stats.errors)
            .then(b.stats.p95_ns.cmp(&a.stats.p95_ns))
            .then_with(|| a.service.cmp(&b.service))
            .then_with(|| a.resource.cmp(&b.resource))
    });
    out
}

/// Groups sorted as a group-by answers them: the biggest first, then the most failing, then
/// by value.
pub fn sort_groups(groups: &mut [super::Group]) {
    groups.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.errors.cmp(&a.errors))
            .then_with(|| a.value.cmp(&b.value))
    });
}

/// The tag a group-by key names: `@` and surrounding space taken off.
///
/// # Errors
///
/// A message when the key is empty or has characters that cannot name a tag.
pub fn group_key_name(key: &str) -> Result<&str, String> {
    let key = key.trim();
    let key = key.strip_prefix('@').unwrap_or(key);
    if key.is_empty() {
        return Err("choose what to group by, e.g. usr.id".into());
    }
    if key
        .chars()
        .any(|c| c.is_control() || c == '"' || c == '\\' || c.is_whitespace())
    {
        return Err(format!("`{key}` cannot name a tag"));
    }
    Ok(key)
}

/// The tag analysis from each key's counts in the selection and in the baseline: values
/// ranked by how much larger their share of the selection is than their share of the
/// baseline (Honeycomb BubbleUp's and Datadog Tag Analysis' measure), at most `limit` per key
/// and overall; values absent from the selection are left out.
pub fn tag_analysis(per_key: Vec<(String, ValueCounts, ValueCounts)>, limit: usize) -> TagAnalysis {
    #[allow(clippy::cast_precision_loss)]
    let share = |n: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            n as f64 / total as f64
        }
    };
    let by_difference = |a: &TagValue, b: &TagValue| {
        b.difference
            .total_cmp(&a.difference)
            .then(b.selection_count.cmp(&a.selection_count))
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.value.cmp(&b.value))
    };
    let mut selection_total = 0;
    let mut baseline_total = 0;
    let mut keys = Vec::with_capacity(per_key.len());
    let mut top = Vec::new();
    for (key, selection, baseline) in per_key {
        selection_total = selection.total;
        baseline_total = baseline.total;
        let base: HashMap<&str, u64> = baseline
            .counts
            .iter()
            .map(|(v, n)| (v.as_str(), *n))
            .collect();
        let mut values: Vec<TagValue> = selection
            .counts
            .iter()
            .map(|(value, n)| {
                let baseline_count = base.get(value.as_str()).copied().unwrap_or(0).max(*n);
                let selection_share = share(*n, selection.total);
                let baseline_share = share(baseline_count, baseline.total);
                TagValue {
                    key: key.clone(),
                    value: value.clone(),
                    selection_count: *n,
                    baseline_count,
                    selection_share,
                    baseline_share,
                    difference: selection_share - baseline_share,
                }
            })
            .collect();
        values.sort_by(by_difference);
        let selection_values = values.len();
        values.truncate(limit);
        for v in values.iter().take(limit) {
            top.push(TagValue {
                key: v.key.clone(),
                value: v.value.clone(),
                ..*v
            });
        }
        keys.push(KeyAnalysis {
            key,
            selection_values,
            values,
        });
    }
    top.sort_by(by_difference);
    top.truncate(limit);
    TagAnalysis {
        selection_total,
        baseline_total,
        top,
        keys,
    }
}

/// Error groups from the failed spans and the entry spans of their traces: grouped by service,
/// resource and what the error is; the most users hit first, then the most accounts, then
/// the most errors; at most `limit`.
pub fn error_groups(
    rows: impl IntoIterator<Item = ErrorRow>,
    entries: impl IntoIterator<Item = EntryIdentity>,
    limit: usize,
) -> ErrorGroups {
    /// The `usr.id` and `account.id` of an entry span.
    type Who = (Option<String>, Option<String>);
    let mut who: HashMap<String, Vec<Who>> = HashMap::new();
    for e in entries {
        who.entry(e.trace_id)
            .or_default()
            .push((e.usr_id, e.account_id));
    }
    struct Acc {
        typed: bool,
        entry: bool,
        message: Option<(i64, String)>,
        count: u64,
        first: i64,
        last: i64,
        traces: HashSet<String>,
    }
    let mut groups: HashMap<(String, String, String), Acc> = HashMap::new();
    let mut errors = 0;
    for row in rows {
        errors += 1;
        let typed = row.error_type.is_some();
        let error = row
            .error_type
            .clone()
            .or_else(|| row.message.clone())
            .or_else(|| row.status_code.map(|c| format!("HTTP {c}")))
            .unwrap_or_else(|| "error".into());
        let acc = groups
            .entry((row.service, row.resource, error))
            .or_insert_with(|| Acc {
                typed,
                entry: false,
                message: None,
                count: 0,
                first: i64::MAX,
                last: i64::MIN,
                traces: HashSet::new(),
            });
        acc.count += 1;
        acc.entry |= row.kind == "server";
        acc.first = acc.first.min(row.start_ns);
        acc.last = acc.last.max(row.start_ns);
        if let Some(m) = row.message {
            if acc
                .message
                .as_ref()
                .is_none_or(|(at, _)| row.start_ns >= *at)
            {
                acc.message = Some((row.start_ns, m));
            }
        }
        acc.traces.insert(row.trace_id);
    }
    let group_count = groups.len();
    let mut out: Vec<ErrorGroup> = groups
        .into_iter()
        .map(|((service, resource, error), acc)| {
            let mut users = HashSet::new();
            let mut accounts = HashSet::new();
            for trace in &acc.traces {
                for (user, account) in who.get(trace).into_iter().flatten() {
                    if let Some(u) = user {
                        users.insert(u.as_str());
                    }
                    if let Some(a) = account {
                        accounts.insert(a.as_str());
                    }
                }
            }
            ErrorGroup {
                service,
                resource,
                error,
                typed: acc.typed,
                entry: acc.entry,
                message: acc.message.map(|(_, m)| m),
                count: acc.count,
                first_seen_ns: acc.first,
                last_seen_ns: acc.last,
                traces: acc.traces.len() as u64,
                users: users.len() as u64,
                accounts: accounts.len() as u64,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.users
            .cmp(&a.users)
            .then(b.accounts.cmp(&a.accounts))
            .then(b.count.cmp(&a.count))
            .then_with(|| a.service.cmp(&b.service))
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.error.cmp(&b.error))
    });
    out.truncate(limit);
    ErrorGroups {
        errors,
        group_count,
        groups: out,
    }
}
