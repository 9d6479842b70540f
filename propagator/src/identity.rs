//! Who the request is for: what crosses from the browser to the server in `baggage`.

use alloc::borrow::Cow;

use crate::error::ParseError;
use crate::w3c::Baggage;

/// Baggage key of the RUM session id (sent by Datadog's browser SDK too).
pub const SESSION_ID_KEY: &str = "session.id";
/// Baggage key of the user id (`setUser({id})`).
pub const USER_ID_KEY: &str = "user.id";
/// Baggage key of the account id (`setAccount({id})`).
pub const ACCOUNT_ID_KEY: &str = "account.id";

/// The three keys in the order of [`Identity::from_baggage`]'s reads: [`extract`](crate::extract)
/// has the baggage parser note where their values are, so that reading the identity takes no
/// second pass over the header.
pub(crate) static IDENTITY_KEYS: [&str; 3] = [SESSION_ID_KEY, USER_ID_KEY, ACCOUNT_ID_KEY];

/// Span attribute for the session id.
pub const SESSION_ID_ATTRIBUTE: &str = "session.id";
/// Span attribute for the user id (Datadog's reserved `usr.id`).
pub const USER_ID_ATTRIBUTE: &str = "usr.id";
/// Span attribute for the account id.
pub const ACCOUNT_ID_ATTRIBUTE: &str = "account.id";

/// Session, user and account ids, read from or written to `baggage`.
///
/// | baggage key    | span attribute |
/// |----------------|----------------|
/// | `session.id`   | `session.id`   |
/// | `user.id`      | `usr.id`       |
/// | `account.id`   | `account.id`   |
///
/// Empty values count as absent. With a repeated key the last value wins (see
/// [`Baggage::get`]).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{Baggage, Identity};
///
/// let baggage = Baggage::parse("session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456")?;
/// let identity = Identity::from_baggage(&baggage);
/// let attributes: Vec<_> = identity.attributes().collect();
/// assert_eq!(attributes, [
///     ("session.id", "5afb433c-40c3-4974-a7c2-8d5933cc67f6"),
///     ("usr.id", "user_123"),
///     ("account.id", "account_456"),
/// ]);
///
/// let other = Baggage::parse("usr.id=not-our-key")?;
/// let none = Identity::from_baggage(&other);
/// assert!(none.is_empty());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Identity<'a> {
    session_id: Option<Cow<'a, str>>,
    user_id: Option<Cow<'a, str>>,
    account_id: Option<Cow<'a, str>>,
}

fn non_empty<'a>(value: Option<Cow<'a, str>>) -> Option<Cow<'a, str>> {
    value.filter(|v| !v.is_empty())
}

impl<'a> Identity<'a> {
    /// No ids.
    ///
    /// # Examples
    ///
    /// ```
    /// let identity = usertrail_propagator::Identity::new().with_user_id("u1");
    /// assert_eq!(identity.user_id(), Some("u1"));
    /// assert_eq!(identity.session_id(), None);
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Identity {
            session_id: None,
            user_id: None,
            account_id: None,
        }
    }

    /// The ids in `baggage` (decoded; borrowed unless they were percent-encoded).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{Baggage, Identity};
    ///
    /// let baggage = Baggage::parse("user.id=jean%20dupont,user.id=,session.id=")?;
    /// let identity = Identity::from_baggage(&baggage);
    /// assert_eq!(identity.user_id(), None); // the last user.id is empty
    /// assert_eq!(identity.session_id(), None);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn from_baggage(baggage: &'a Baggage<'_>) -> Self {
        let [session_id, user_id, account_id] = baggage.get_indexed(&IDENTITY_KEYS);
        Identity {
            session_id: non_empty(session_id),
            user_id: non_empty(user_id),
            account_id: non_empty(account_id),
        }
    }

    /// This identity with a session id (empty means none).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Identity;
    ///
    /// assert_eq!(Identity::new().with_session_id("s1").session_id(), Some("s1"));
    /// assert_eq!(Identity::new().with_session_id("").session_id(), None);
    /// ```
    #[inline]
    pub fn with_session_id(mut self, id: impl Into<Cow<'a, str>>) -> Self {
        self.session_id = non_empty(Some(id.into()));
        self
    }

    /// This identity with a user id (empty means none).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Identity;
    ///
    /// assert_eq!(Identity::new().with_user_id(String::from("u1")).user_id(), Some("u1"));
    /// assert_eq!(Identity::new().with_user_id("").user_id(), None);
    /// ```
    #[inline]
    pub fn with_user_id(mut self, id: impl Into<Cow<'a, str>>) -> Self {
        self.user_id = non_empty(Some(id.into()));
        self
    }

    /// This identity with an account id (empty means none).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Identity;
    ///
    /// assert_eq!(Identity::new().with_account_id("a1").account_id(), Some("a1"));
    /// assert_eq!(Identity::new().with_account_id("").account_id(), None);
    /// ```
    #[inline]
    pub fn with_account_id(mut self, id: impl Into<Cow<'a, str>>) -> Self {
        self.account_id = non_empty(Some(id.into()));
        self
    }

    /// The session id.
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("session.id=s1")?;
    /// assert_eq!(usertrail_propagator::Identity::from_baggage(&baggage).session_id(), Some("s1"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The user id.
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("user.id=u1")?;
    /// assert_eq!(usertrail_propagator::Identity::from_baggage(&baggage).user_id(), Some("u1"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The account id.
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("account.id=a1")?;
    /// assert_eq!(usertrail_propagator::Identity::from_baggage(&baggage).account_id(), Some("a1"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn account_id(&self) -> Option<&str> {
        self.account_id.as_deref()
    }

    /// `true` when no id is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Identity;
    ///
    /// assert!(Identity::new().is_empty());
    /// assert!(!Identity::new().with_account_id("a").is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.session_id.is_none() && self.user_id.is_none() && self.account_id.is_none()
    }

    fn pairs(&self, names: [&'static str; 3]) -> impl Iterator<Item = (&'static str, &str)> {
        let [session, user, account] = names;
        [
            (session, self.session_id()),
            (user, self.user_id()),
            (account, self.account_id()),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
    }

    /// The `(span attribute, value)` pairs to tag a span with: `session.id`, `usr.id`,
    /// `account.id`, in that order, for the ids present.
    ///
    /// # Examples
    ///
    /// ```
    /// let identity = usertrail_propagator::Identity::new().with_user_id("u1").with_session_id("s1");
    /// assert_eq!(identity.attributes().collect::<Vec<_>>(), [("session.id", "s1"), ("usr.id", "u1")]);
    /// ```
    pub fn attributes(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.pairs([
            SESSION_ID_ATTRIBUTE,
            USER_ID_ATTRIBUTE,
            ACCOUNT_ID_ATTRIBUTE,
        ])
    }

    /// The `(baggage key, value)` pairs: `session.id`, `user.id`, `account.id`, in that order
    /// (the order Datadog's browser SDK uses), for the ids present.
    ///
    /// # Examples
    ///
    /// ```
    /// let identity = usertrail_propagator::Identity::new().with_account_id("a1").with_user_id("u1");
    /// assert_eq!(identity.baggage_members().collect::<Vec<_>>(), [("user.id", "u1"), ("account.id", "a1")]);
    /// ```
    pub fn baggage_members(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.pairs([SESSION_ID_KEY, USER_ID_KEY, ACCOUNT_ID_KEY])
    }

    /// Adds the ids to `baggage` where the application has not set those keys itself, within
    /// the baggage limits (see [`Baggage::merge_missing`]). Returns how many ids did not fit.
    ///
    /// # Errors
    ///
    /// None in practice (the keys are tokens); the `Result` is `merge_missing`'s.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{Baggage, Identity};
    ///
    /// let mut baggage = Baggage::parse_lossy("user.id=from-app, theme=dark", |_| {});
    /// let identity = Identity::new().with_session_id("s1").with_user_id("u1").with_account_id("a 1");
    /// assert_eq!(identity.merge_into(&mut baggage)?, 0);
    /// assert_eq!(baggage.to_string(), "user.id=from-app,theme=dark,session.id=s1,account.id=a%201");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn merge_into(&self, baggage: &mut Baggage<'_>) -> Result<usize, ParseError> {
        let mut pairs: [(&str, &str); 3] = [("", ""); 3];
        let mut n = 0;
        for (slot, pair) in pairs.iter_mut().zip(self.baggage_members()) {
            *slot = pair;
            n += 1;
        }
        baggage.merge_missing(pairs.get(..n).unwrap_or_default())
    }

    /// A copy that owns its data.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{Baggage, Identity};
    ///
    /// let kept: Identity<'static> = {
    ///     let baggage = Baggage::parse("user.id=u1")?;
    ///     Identity::from_baggage(&baggage).into_owned()
    /// };
    /// assert_eq!(kept.user_id(), Some("u1"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn into_owned(self) -> Identity<'static> {
        let own = |v: Option<Cow<'a, str>>| v.map(|v| Cow::Owned(v.into_owned()));
        Identity {
            session_id: own(self.session_id),
            user_id: own(self.user_id),
            account_id: own(self.account_id),
        }
    }
}
