//! The backend remap: the identity every SDK sends, in whatever attribute it uses, becomes
//! `usr.id`, `account.id` and `session.id` on the **service entry span**, with where each
//! value came from in `usr.id.source`, `account.id.source`, `session.id.source`:
//! `service` (the service set it itself, as after its own authentication) or `baggage` (the
//! browser's W3C baggage, which anyone can forge). Child spans keep no identity.
//!
//! | identity | from (first found wins, top to bottom) | source |
//! |---|---|---|
//! | `usr.id` | `usr.id` (usertrail's `set_user`, Datadog's `set_user`) | service |
//! | | `enduser.id` (OpenTelemetry semantic conventions) | service |
//! | | `baggage.user.id` (usertrail's and Datadog's baggage span tags) | baggage |
//! | | `user.id` (OpenTelemetry's `BaggageSpanProcessor`) | baggage |
//! | `account.id` | `account.id` (usertrail's `set_account`) | service |
//! | | `baggage.account.id` | baggage |
//! | `session.id` | `session.id`, `baggage.session.id` (the browser's RUM session) | baggage |
//!
//! Two attributes mean different things depending on who sent them:
//!
//! * **`BaggageSpanProcessor`** copies baggage members as they are named, so a span with
//!   its `user.id` also got `account.id` and `session.id` from the baggage: on such a span
//!   `account.id` counts as baggage.
//! * **usertrail's own propagator** ([`Origin::Usertrail`]: spans recorded in-process, or
//!   over OTLP with the instrumentation scope `usertrail`) writes the baggage's `user.id`
//!   and `account.id` as `usr.id` and `account.id` too, and `set_user` / `set_account`
//!   override them. There `usr.id` counts as the service's only when `set_user` left other
//!   `usr.*` fields (`usr.name`, `usr.role`, …), and `account.id` only with other `account.*`
//!   fields; otherwise as baggage. A `set_user` with nothing but an id is then shown as
//!   baggage: never claimed as authenticated when the span cannot show it.
//!
//! Whatever a sender put in the `*.source` attributes is replaced.

use std::collections::BTreeMap;

use usertrail_propagator::{ACCOUNT_ID_ATTRIBUTE, SESSION_ID_ATTRIBUTE, USER_ID_ATTRIBUTE};

/// Where an identity value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The service set it (`set_user`, `enduser.id`): it knows who the user is.
    Service,
    /// The browser's baggage: the client says so, anyone can forge it.
    Baggage,
}

impl Source {
    /// `service` or `baggage`, as stored.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_explorer::remap::Source::Baggage.as_str(), "baggage");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Service => "service",
            Source::Baggage => "baggage",
        }
    }
}

/// Who recorded a span, for the attributes whose meaning depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// usertrail's propagator (`UsertrailLayer`, or OTLP with the scope `usertrail`).
    Usertrail,
    /// Any other SDK.
    Other,
}

/// The suffix of the attribute that says where an identity value came from.
pub const SOURCE_SUFFIX: &str = ".source";

/// One identity attribute and the attributes it is taken from, in order.
struct Rule {
    attribute: &'static str,
    from: &'static [(&'static str, Source)],
}

/// The mapping table of the module docs (the README has it too).
const RULES: &[Rule] = &[
    Rule {
        attribute: USER_ID_ATTRIBUTE,
        from: &[
            (USER_ID_ATTRIBUTE, Source::Service),
            ("enduser.id", Source::Service),
            ("baggage.user.id", Source::Baggage),
            ("user.id", Source::Baggage),
        ],
    },
    Rule {
        attribute: ACCOUNT_ID_ATTRIBUTE,
        from: &[
            (ACCOUNT_ID_ATTRIBUTE, Source::Service),
            ("baggage.account.id", Source::Baggage),
        ],
    },
    Rule {
        attribute: SESSION_ID_ATTRIBUTE,
        from: &[
            (SESSION_ID_ATTRIBUTE, Source::Baggage),
            ("baggage.session.id", Source::Baggage),
        ],
    },
];

/// The attribute `BaggageSpanProcessor` leaves from the browser's `user.id` baggage member.
const BAGGAGE_PROCESSOR_USER: &str = "user.id";

/// Whether `tags` show a `set_user` (`usr.*` besides `usr.id`) or `set_account`
/// (`account.*` besides `account.id`), for [`Origin::Usertrail`].
fn set_by_service(tags: &BTreeMap<String, String>, attribute: &str) -> bool {
    let Some((prefix, _)) = attribute.split_once('.') else {
        return false;
    };
    tags.keys().any(|k| {
        k.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|_| k != attribute && !k.ends_with(SOURCE_SUFFIX))
    })
}

/// Applies the remap to one span's tags: on an entry span, sets the identity attributes and
/// their sources; on any other span, removes every identity attribute.
///
/// # Examples
///
/// ```
/// use std::collections::BTreeMap;
/// use usertrail_explorer::remap::{Origin, apply};
///
/// let mut tags = BTreeMap::from([("user.id".to_string(), "user_123".to_string())]);
/// apply(&mut tags, true, Origin::Other);
/// assert_eq!(tags["usr.id"], "user_123");
/// assert_eq!(tags["usr.id.source"], "baggage");
///
/// let mut child = BTreeMap::from([("user.id".to_string(), "user_123".to_string())]);
/// apply(&mut child, false, Origin::Other);
/// assert!(child.is_empty());
/// ```
pub fn apply(tags: &mut BTreeMap<String, String>, entry: bool, origin: Origin) {
    for rule in RULES {
        tags.remove(&format!("{}{SOURCE_SUFFIX}", rule.attribute));
    }
    if !entry {
        for rule in RULES {
            for (key, _) in rule.from {
                tags.remove(*key);
            }
        }
        return;
    }
    let baggage_processor = tags.contains_key(BAGGAGE_PROCESSOR_USER);
    let mut found = Vec::with_capacity(RULES.len());
    for rule in RULES {
        let hit = rule.from.iter().find_map(|(key, source)| {
            let value = tags.get(*key).filter(|v| !v.is_empty())?;
            let mut source = *source;
            if source == Source::Service && *key == rule.attribute {
                let from_baggage = match origin {
                    Origin::Usertrail => !set_by_service(tags, rule.attribute),
                    Origin::Other => baggage_processor && rule.attribute == ACCOUNT_ID_ATTRIBUTE,
                };
                if from_baggage {
                    source = Source::Baggage;
                }
            }
            Some((value.clone(), source))
        });
        found.push((rule.attribute, hit));
    }
    for (attribute, hit) in found {
        match hit {
            Some((value, source)) => {
                tags.insert(attribute.to_owned(), value);
                tags.insert(
                    format!("{attribute}{SOURCE_SUFFIX}"),
                    source.as_str().to_owned(),
                );
            }
            None => {
                // An empty value is no identity.
                tags.remove(attribute);
            }
        }
    }
}

#[cfg(test)]
mod tests;
