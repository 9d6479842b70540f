//! B3 propagation (openzipkin/b3-propagation): the single `b3` header and the multi-header
//! `x-b3-*` form.
//!
//! Ids are lower-case hex as the B3 spec says ("encoded as 32 or 16 lower-hex characters");
//! upper-case is rejected like in the W3C formats. All-zero ids are rejected.

mod multi;
mod single;

pub use multi::B3Multi;
pub use single::B3Single;

use crate::codec;
use crate::error::{ErrorKind, Field};
use crate::ids::TraceId;

/// A B3 sampling decision.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{B3Sampling, B3Single};
///
/// let b3 = B3Single::parse("d")?;
/// assert_eq!(b3.sampling(), Some(B3Sampling::Debug));
/// assert!(B3Sampling::Debug.is_sampled());
/// assert!(!B3Sampling::Deny.is_sampled());
/// assert!(B3Single::parse("x").is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum B3Sampling {
    /// `0`: do not sample.
    Deny,
    /// `1`: sample.
    Accept,
    /// `d` (single) or `x-b3-flags: 1` (multi): debug, which implies sampling.
    Debug,
}

impl B3Sampling {
    /// Does this decision record the trace (`Accept` or `Debug`)?
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::B3Sampling;
    ///
    /// assert!(B3Sampling::Accept.is_sampled());
    /// assert!(!B3Sampling::Deny.is_sampled());
    /// ```
    #[inline]
    pub const fn is_sampled(self) -> bool {
        !matches!(self, B3Sampling::Deny)
    }

    /// From a span context's sampled flag: `Accept` or `Deny`.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::B3Sampling;
    ///
    /// assert_eq!(B3Sampling::from_sampled(true), B3Sampling::Accept);
    /// assert_eq!(B3Sampling::from_sampled(false), B3Sampling::Deny);
    /// ```
    #[inline]
    pub const fn from_sampled(sampled: bool) -> Self {
        if sampled {
            B3Sampling::Accept
        } else {
            B3Sampling::Deny
        }
    }
}

/// A 16- or 32-digit B3 trace id; the flag says whether it was 32 digits wide.
fn parse_trace_id(s: &[u8]) -> Result<(TraceId, bool), ErrorKind> {
    let wide = match s.len() {
        16 => false,
        32 => true,
        _ => return Err(ErrorKind::Length(Field::TraceId)),
    };
    let value = codec::parse_hex(s, Field::TraceId)?;
    let id = TraceId::new(value).ok_or(ErrorKind::Zero(Field::TraceId))?;
    Ok((id, wide))
}

fn push_trace_id(out: &mut alloc::string::String, id: TraceId, wide: bool) {
    codec::push_hex(out, id.to_u128(), if wide { 32 } else { 16 });
}
