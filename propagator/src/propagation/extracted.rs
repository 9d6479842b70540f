//! [`Extracted`]: the context [`extract`](crate::extract) found and the problems it met, listed
//! up to a bound.

use alloc::vec::Vec;

use super::Context;
use crate::error::{ErrorKind, ExtractError};
use crate::identity::Identity;
use crate::span_context::SpanContext;
use crate::w3c::{Baggage, Tracestate};

/// Problems listed one by one in [`Extracted::errors`]; the rest are counted in one last
/// entry, so hostile input cannot make the list grow without bound.
const MAX_LISTED_PROBLEMS: usize = 16;

/// What [`extract`](crate::extract) found: a [`Context`] and the problems met on the way.
///
/// # Examples
///
/// ```
/// let extracted = usertrail_propagator::extract(&[("traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")][..]);
/// assert!(extracted.span_context().is_none());
/// assert_eq!(extracted.errors()[0].to_string(), "traceparent: version ff is invalid");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extracted<'a> {
    pub(super) context: Context<'a>,
    pub(super) errors: Vec<ExtractError>,
}

impl<'a> Extracted<'a> {
    /// The chosen span context, if a format gave a valid one.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")][..]);
    /// assert!(extracted.span_context().is_some());
    /// assert!(usertrail_propagator::extract(&[("b3", "0")][..]).span_context().is_none());
    /// ```
    #[inline]
    pub fn span_context(&self) -> Option<&SpanContext<'a>> {
        self.context.span_context()
    }

    /// The `tracestate`: `None` when absent, invalid (reported), or when the context did not
    /// come from a valid `traceparent` (the spec forbids parsing it then).
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("tracestate", "foo=1,Foo=2")];
    /// let extracted = usertrail_propagator::extract(&headers[..]);
    /// assert!(extracted.tracestate().is_none());
    /// assert_eq!(extracted.errors()[0].to_string(), "tracestate: key has an invalid character or shape");
    /// ```
    #[inline]
    pub fn tracestate(&self) -> Option<&Tracestate<'a>> {
        self.context.tracestate()
    }

    /// The valid baggage members.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("baggage", "a=1"), ("baggage", "b=2")][..]);
    /// assert_eq!(extracted.baggage().to_string(), "a=1,b=2");
    /// ```
    #[inline]
    pub fn baggage(&self) -> &Baggage<'a> {
        self.context.baggage()
    }

    /// The session, user and account ids in the baggage.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("baggage", "session.id=s1,account.id=a1")][..]);
    /// assert_eq!(extracted.identity().attributes().collect::<Vec<_>>(), [("session.id", "s1"), ("account.id", "a1")]);
    /// ```
    #[inline]
    pub fn identity(&self) -> Identity<'_> {
        self.context.identity()
    }

    /// One entry per rejected header or dropped member (at most 16, then one entry counting
    /// the rest).
    ///
    /// # Examples
    ///
    /// ```
    /// let header = "x,".repeat(100);
    /// let headers = [("baggage", header.as_str())];
    /// let extracted = usertrail_propagator::extract(&headers[..]);
    /// assert_eq!(extracted.errors().len(), 17);
    /// assert_eq!(extracted.errors()[16].to_string(), "84 more problems not listed");
    /// ```
    #[inline]
    pub fn errors(&self) -> &[ExtractError] {
        &self.errors
    }

    /// The context found.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("baggage", "a=1")][..]);
    /// assert_eq!(extracted.context().baggage().len(), 1);
    /// ```
    #[inline]
    pub fn context(&self) -> &Context<'a> {
        &self.context
    }

    /// The context found, dropping the problem list.
    ///
    /// # Examples
    ///
    /// ```
    /// let cx = usertrail_propagator::extract(&[("baggage", "a=1")][..]).into_context();
    /// assert_eq!(cx.baggage().len(), 1);
    /// ```
    #[inline]
    pub fn into_context(self) -> Context<'a> {
        self.context
    }

    /// The context and the problems.
    ///
    /// # Examples
    ///
    /// ```
    /// let (cx, errors) = usertrail_propagator::extract(&[("baggage", "a=1,b")][..]).into_parts();
    /// assert_eq!((cx.baggage().len(), errors.len()), (1, 1));
    /// ```
    #[inline]
    pub fn into_parts(self) -> (Context<'a>, Vec<ExtractError>) {
        (self.context, self.errors)
    }
}

/// Collects problems, listing the first [`MAX_LISTED_PROBLEMS`].
pub(super) struct Problems {
    listed: Vec<ExtractError>,
    unlisted: u32,
}

impl Problems {
    pub(super) const fn new() -> Self {
        Problems {
            listed: Vec::new(),
            unlisted: 0,
        }
    }

    pub(super) fn push(&mut self, error: ExtractError) {
        if self.listed.len() < MAX_LISTED_PROBLEMS {
            self.listed.push(error);
        } else {
            self.unlisted = self.unlisted.saturating_add(1);
        }
    }

    pub(super) fn header(&mut self, header: &'static str, kind: ErrorKind) {
        self.push(ExtractError::new(header, kind));
    }

    pub(super) fn finish(mut self) -> Vec<ExtractError> {
        if self.unlisted > 0 {
            self.listed.push(ExtractError::too_many("*", self.unlisted));
        }
        self.listed
    }
}
