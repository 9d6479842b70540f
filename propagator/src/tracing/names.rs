//! Which names the identity attributes of entry spans get: Datadog's or OpenTelemetry's.

use alloc::borrow::Cow;
use alloc::format;

use crate::{ACCOUNT_ID_ATTRIBUTE, SESSION_ID_ATTRIBUTE, USER_ID_ATTRIBUTE};

/// The names of the identity attributes on entry spans, chosen with
/// `PropagateContextLayer::with_identity_attributes`.
///
/// | what | [`Datadog`](Self::Datadog) (default) | [`OpenTelemetry`](Self::OpenTelemetry) |
/// |---|---|---|
/// | user id | `usr.id` | `user.id` |
/// | user name, email | `usr.name`, `usr.email` | `user.name`, `user.email` |
/// | user's session | `usr.session_id` | `session.id` |
/// | role, scope | `usr.role`, `usr.scope` | `user.roles`, `user.scope` |
/// | [`User::extra`](super::User::extra) `plan` | `usr.plan` | `user.plan` |
/// | session (from baggage) | `session.id` | `session.id` |
/// | account id, name | `account.id`, `account.name` | `account.id`, `account.name` |
///
/// Datadog's are what its explorer, facets and the seeds query (`@usr.id:user_123`);
/// OpenTelemetry's are the `user.*` and `session.*` semantic conventions (which have no
/// account: `account.*` stays).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::IdentityAttributes;
///
/// assert_eq!(IdentityAttributes::default(), IdentityAttributes::Datadog);
/// assert_eq!(IdentityAttributes::Datadog.user_id(), "usr.id");
/// assert_eq!(IdentityAttributes::OpenTelemetry.user_id(), "user.id");
/// assert_eq!(IdentityAttributes::OpenTelemetry.user_field("plan"), "user.plan");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdentityAttributes {
    /// `usr.id`, `usr.*`, `account.id`, `session.id`.
    #[default]
    Datadog,
    /// `user.id`, `user.*`, `account.id`, `session.id`.
    OpenTelemetry,
}

/// Entry-span fields `set_user` / `set_account` may fill in, declared on the span up front
/// (so they also reach `fmt` and `tracing-opentelemetry`), for each naming.
const DATADOG_DECLARED: &[&str] = &[
    SESSION_ID_ATTRIBUTE,
    USER_ID_ATTRIBUTE,
    ACCOUNT_ID_ATTRIBUTE,
    "usr.name",
    "usr.email",
    "usr.session_id",
    "usr.role",
    "usr.scope",
    "account.name",
];
const OPENTELEMETRY_DECLARED: &[&str] = &[
    SESSION_ID_ATTRIBUTE,
    "user.id",
    ACCOUNT_ID_ATTRIBUTE,
    "user.name",
    "user.email",
    "user.roles",
    "user.scope",
    "account.name",
];

impl IdentityAttributes {
    /// The user id attribute: `usr.id` or `user.id`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::tracing::IdentityAttributes::Datadog.user_id(), "usr.id");
    /// ```
    pub const fn user_id(self) -> &'static str {
        match self {
            IdentityAttributes::Datadog => USER_ID_ATTRIBUTE,
            IdentityAttributes::OpenTelemetry => "user.id",
        }
    }

    /// The attribute of a [`User`](super::User) field (`id`, `name`, `email`,
    /// `session_id`, `role`, `scope`) or of an extra key.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::tracing::IdentityAttributes;
    ///
    /// assert_eq!(IdentityAttributes::Datadog.user_field("session_id"), "usr.session_id");
    /// assert_eq!(IdentityAttributes::OpenTelemetry.user_field("session_id"), "session.id");
    /// assert_eq!(IdentityAttributes::OpenTelemetry.user_field("role"), "user.roles");
    /// ```
    pub fn user_field(self, field: &str) -> Cow<'static, str> {
        match (self, field) {
            (IdentityAttributes::Datadog, "id") => Cow::Borrowed(USER_ID_ATTRIBUTE),
            (IdentityAttributes::Datadog, "name") => Cow::Borrowed("usr.name"),
            (IdentityAttributes::Datadog, "email") => Cow::Borrowed("usr.email"),
            (IdentityAttributes::Datadog, "session_id") => Cow::Borrowed("usr.session_id"),
            (IdentityAttributes::Datadog, "role") => Cow::Borrowed("usr.role"),
            (IdentityAttributes::Datadog, "scope") => Cow::Borrowed("usr.scope"),
            (IdentityAttributes::Datadog, key) => Cow::Owned(format!("usr.{key}")),
            (IdentityAttributes::OpenTelemetry, "id") => Cow::Borrowed("user.id"),
            (IdentityAttributes::OpenTelemetry, "name") => Cow::Borrowed("user.name"),
            (IdentityAttributes::OpenTelemetry, "email") => Cow::Borrowed("user.email"),
            (IdentityAttributes::OpenTelemetry, "session_id") => {
                Cow::Borrowed(SESSION_ID_ATTRIBUTE)
            }
            (IdentityAttributes::OpenTelemetry, "role") => Cow::Borrowed("user.roles"),
            (IdentityAttributes::OpenTelemetry, "scope") => Cow::Borrowed("user.scope"),
            (IdentityAttributes::OpenTelemetry, key) => Cow::Owned(format!("user.{key}")),
        }
    }

    /// This naming's attribute for one of the crate's Datadog-named identity attributes
    /// ([`USER_ID_ATTRIBUTE`](crate::USER_ID_ATTRIBUTE) and the others, as
    /// [`Identity::attributes`](crate::Identity::attributes) yields them).
    pub(crate) fn rename(self, datadog: &'static str) -> &'static str {
        match (self, datadog) {
            (IdentityAttributes::OpenTelemetry, USER_ID_ATTRIBUTE) => "user.id",
            _ => datadog,
        }
    }

    /// The fields declared on the entry span.
    pub(crate) const fn declared(self) -> &'static [&'static str] {
        match self {
            IdentityAttributes::Datadog => DATADOG_DECLARED,
            IdentityAttributes::OpenTelemetry => OPENTELEMETRY_DECLARED,
        }
    }
}
