//! `set_user` / `set_account`: the service says who the request is for.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use super::context::RequestContext;
use super::state::{RequestState, TARGET};
use crate::{ACCOUNT_ID_KEY, USER_ID_KEY};

/// The user a request is for, as the service knows it (from its session or token, so it
/// wins over the browser's `user.id` baggage).
///
/// Written onto the entry span as `usr.id`, `usr.name`, `usr.email`, `usr.session_id`,
/// `usr.role`, `usr.scope`, and `usr.<key>` for each [`extra`](Self::extra) entry (Datadog's
/// user attributes). `id` is required: a user with an empty id is not set.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::User;
///
/// let user = User::new("user_123").with_email("jane@example.com").with_extra("plan", "pro");
/// assert_eq!(user.id, "user_123");
/// assert_eq!(user.extra["plan"], "pro");
///
/// // Struct syntax works too.
/// let user = User { id: "user_123".into(), role: Some("admin".into()), ..Default::default() };
/// assert_eq!(user.role.as_deref(), Some("admin"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct User {
    /// `usr.id` (required, not empty).
    pub id: String,
    /// `usr.name`.
    pub name: Option<String>,
    /// `usr.email`.
    pub email: Option<String>,
    /// `usr.session_id`.
    pub session_id: Option<String>,
    /// `usr.role`.
    pub role: Option<String>,
    /// `usr.scope`.
    pub scope: Option<String>,
    /// `usr.<key>` for each entry; keys that name the fields above are ignored.
    pub extra: BTreeMap<String, String>,
}

impl User {
    /// A user with this id.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::tracing::User::new("u1").id, "u1");
    /// ```
    pub fn new(id: impl Into<String>) -> Self {
        User {
            id: id.into(),
            ..User::default()
        }
    }

    /// With `usr.name`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::tracing::User::new("u1").with_name("Jane").name.as_deref(), Some("Jane"));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With `usr.email`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::User::new("u1").with_email("j@x.io").email.is_some());
    /// ```
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// With `usr.session_id`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::User::new("u1").with_session_id("s1").session_id.is_some());
    /// ```
    pub fn with_session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// With `usr.role`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::User::new("u1").with_role("admin").role.is_some());
    /// ```
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// With `usr.scope`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::User::new("u1").with_scope("read:orders").scope.is_some());
    /// ```
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// With `usr.<key>` = `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let user = usertrail_propagator::tracing::User::new("u1").with_extra("plan", "pro");
    /// assert_eq!(user.extra.len(), 1);
    /// ```
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

/// The account (organization, tenant) a request is for: `account.id`, `account.name` and
/// `account.<key>` for each [`extra`](Self::extra) entry. `id` is required.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::Account;
///
/// let account = Account::new("account_456").with_name("ACME").with_extra("tier", "gold");
/// assert_eq!(account.id, "account_456");
/// let same = Account { id: "account_456".into(), name: Some("ACME".into()), ..Default::default() };
/// assert_eq!(same.name, account.name);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// `account.id` (required, not empty).
    pub id: String,
    /// `account.name`.
    pub name: Option<String>,
    /// `account.<key>` for each entry; `id` and `name` are ignored here.
    pub extra: BTreeMap<String, String>,
}

impl Account {
    /// An account with this id.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::tracing::Account::new("a1").id, "a1");
    /// ```
    pub fn new(id: impl Into<String>) -> Self {
        Account {
            id: id.into(),
            ..Account::default()
        }
    }

    /// With `account.name`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::Account::new("a1").with_name("ACME").name.is_some());
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With `account.<key>` = `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::tracing::Account::new("a1").with_extra("tier", "gold").extra.len(), 1);
    /// ```
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

const USER_FIELDS: &[&str] = &["id", "name", "email", "session_id", "role", "scope"];
const ACCOUNT_FIELDS: &[&str] = &["id", "name"];

fn extra_key_ok(key: &str, reserved: &[&str]) -> bool {
    !key.is_empty() && !reserved.contains(&key) && !key.chars().any(char::is_control)
}

impl RequestContext {
    /// [`set_user`](super::set_user) on this request.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use usertrail_propagator::tracing::{RequestContext, User};
    ///
    /// let cx = RequestContext::current().unwrap();
    /// assert!(cx.set_user(User::new("user_123")));
    /// assert!(!cx.set_user(User::new(""))); // id required
    /// ```
    pub fn set_user(&self, user: User) -> bool {
        if user.id.is_empty() {
            ::tracing::debug!(target: TARGET, "set_user without an id: ignored");
            return false;
        }
        let mut inner = self.state.lock();
        if self.state.config.identity_in_baggage {
            if let Err(e) = inner.baggage.set(USER_ID_KEY, &user.id) {
                ::tracing::debug!(target: TARGET, error = %e, "user.id not added to baggage");
            }
        }
        let names = self.state.config.identity_attributes;
        let fields = [
            ("id", Some(user.id)),
            ("name", user.name),
            ("email", user.email),
            ("session_id", user.session_id),
            ("role", user.role),
            ("scope", user.scope),
        ];
        for (field, value) in fields {
            if let Some(value) = value {
                RequestState::set_service_tag(&mut inner, names.user_field(field), value);
            }
        }
        for (key, value) in user.extra {
            if extra_key_ok(&key, USER_FIELDS) {
                RequestState::set_service_tag(&mut inner, names.user_field(&key), value);
            }
        }
        true
    }

    /// [`set_account`](super::set_account) on this request.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use usertrail_propagator::tracing::{Account, RequestContext};
    ///
    /// let cx = RequestContext::current().unwrap();
    /// assert!(cx.set_account(Account::new("account_456")));
    /// ```
    pub fn set_account(&self, account: Account) -> bool {
        if account.id.is_empty() {
            ::tracing::debug!(target: TARGET, "set_account without an id: ignored");
            return false;
        }
        let mut inner = self.state.lock();
        if self.state.config.identity_in_baggage {
            if let Err(e) = inner.baggage.set(ACCOUNT_ID_KEY, &account.id) {
                ::tracing::debug!(target: TARGET, error = %e, "account.id not added to baggage");
            }
        }
        RequestState::set_service_tag(&mut inner, Cow::Borrowed("account.id"), account.id);
        if let Some(name) = account.name {
            RequestState::set_service_tag(&mut inner, Cow::Borrowed("account.name"), name);
        }
        for (key, value) in account.extra {
            if extra_key_ok(&key, ACCOUNT_FIELDS) {
                RequestState::set_service_tag(
                    &mut inner,
                    Cow::Owned(format!("account.{key}")),
                    value,
                );
            }
        }
        true
    }
}

/// Tags the **current service entry span** with `user`: `usr.id`, `usr.name`, `usr.email`,
/// `usr.session_id`, `usr.role`, `usr.scope`, `usr.<key>`. Callable from anywhere inside the
/// request (the handler, a function it calls, a child span); see
/// [`RequestContext::current`] for how the request is found.
///
/// These tags win over the ones taken from the browser's baggage. Child spans are not
/// tagged. With `PropagateContextLayer::with_identity_in_baggage(true)` the user id also goes
/// into the outgoing baggage as `user.id`, so downstream services tag their entry spans too.
///
/// Returns `false` (and does nothing) outside a request or when `user.id` is empty.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{set_user, User};
///
/// fn after_login(user_id: &str) {
///     set_user(User::new(user_id).with_role("admin"));
/// }
/// after_login("user_123");
/// assert!(!set_user(User::new("outside a request")));
/// ```
pub fn set_user(user: User) -> bool {
    RequestContext::current().is_some_and(|cx| cx.set_user(user))
}

/// Tags the current service entry span with `account`: `account.id`, `account.name`,
/// `account.<key>`; like [`set_user`] (and `account.id` into the outgoing baggage when
/// configured).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{set_account, Account};
///
/// assert!(!set_account(Account::new("account_456"))); // not inside a request
/// ```
pub fn set_account(account: Account) -> bool {
    RequestContext::current().is_some_and(|cx| cx.set_account(account))
}
