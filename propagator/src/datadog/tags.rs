//! The `x-datadog-tags` header: `_dd.p.*` propagation tags.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

use crate::codec::{self, split_byte, split_once_byte, trim_ows};
use crate::error::{ErrorKind, Field, ParseError};

/// Tag carrying the high 64 bits of a 128-bit trace id as 16 lower-case hex digits.
pub(super) const TID_TAG: &str = "_dd.p.tid";
/// Tag carrying the sampling decision maker, e.g. `-4`.
const DECISION_MAKER_TAG: &str = "_dd.p.dm";
/// Datadog's default `DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH`.
const TAGS_MAX_LEN: usize = 512;

fn is_tag_key_char(b: u8) -> bool {
    matches!(b, 0x21..=0x7e) && b != b',' && b != b'='
}

fn is_tag_value_char(b: u8) -> bool {
    matches!(b, 0x20..=0x7e) && b != b','
}

fn check_tag(key: &str, value: &str) -> Result<(), ErrorKind> {
    if key.is_empty()
        || !key.bytes().all(is_tag_key_char)
        || !value.bytes().all(is_tag_value_char)
        || value.ends_with(' ')
    {
        return Err(ErrorKind::TagInvalid);
    }
    Ok(())
}

/// The `x-datadog-tags` header: comma-separated `key=value` propagation tags (`_dd.p.tid`,
/// `_dd.p.dm`, …), at most 512 characters.
///
/// Keys are printable ASCII without space, `,` and `=`; values printable ASCII without `,`,
/// not ending in a space. Whitespace around the `,` separators is not part of the pairs (the
/// HTTP list rule), so a value's trailing space could not survive being written last. Like
/// Datadog's tracers, one malformed pair rejects the whole header. Borrowed from the
/// input, like [`Tracestate`](crate::Tracestate).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::DatadogTags;
///
/// let tags = DatadogTags::parse("_dd.p.dm=-4,_dd.p.tid=66305cd500000000")?;
/// assert_eq!(tags.tid()?, Some(0x6630_5cd5_0000_0000));
/// assert_eq!(tags.decision_maker(), Some("-4"));
/// assert_eq!(tags.to_string(), "_dd.p.dm=-4,_dd.p.tid=66305cd500000000");
/// assert!(DatadogTags::parse("_dd.p.dm").is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone)]
pub struct DatadogTags<'a> {
    /// Validated: every non-empty `,`-segment is `key=value`.
    text: Cow<'a, str>,
}

impl<'a> DatadogTags<'a> {
    /// No tags.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut tags = usertrail_propagator::DatadogTags::new();
    /// tags.insert("_dd.p.dm", "-4")?;
    /// assert_eq!(tags.to_string(), "_dd.p.dm=-4");
    /// assert!(tags.insert("_dd.p.dm", "a,b").is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn new() -> Self {
        DatadogTags {
            text: Cow::Borrowed(""),
        }
    }
}

impl Default for DatadogTags<'_> {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> DatadogTags<'a> {
    /// Validates and borrows an `x-datadog-tags` value.
    ///
    /// # Errors
    ///
    /// Longer than 512 characters, or a segment that is not `key=value` of the allowed
    /// characters.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogTags;
    ///
    /// assert_eq!(DatadogTags::parse("_dd.p.dm=-4")?.get("_dd.p.dm"), Some("-4"));
    /// assert!(DatadogTags::parse(&"_dd.p.x=y,".repeat(100)).is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn parse(s: &'a str) -> Result<Self, ParseError> {
        let s = trim_ows(s);
        if s.len() > TAGS_MAX_LEN {
            return Err(ErrorKind::TagsTooLong.into());
        }
        for pair in split_byte(s, b',').map(trim_ows).filter(|p| !p.is_empty()) {
            let (key, value) = split_once_byte(pair, b'=').ok_or(ErrorKind::TagInvalid)?;
            check_tag(key, value)?;
        }
        Ok(DatadogTags {
            text: Cow::Borrowed(s),
        })
    }

    /// The tags in order, as `(key, value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let tags = usertrail_propagator::DatadogTags::parse("a=1,b=2")?;
    /// assert_eq!(tags.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        split_byte(&self.text, b',')
            .map(trim_ows)
            .filter(|p| !p.is_empty())
            .map(|p| split_once_byte(p, b'=').unwrap_or((p, "")))
    }

    /// The value of `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// let tags = usertrail_propagator::DatadogTags::parse("_dd.p.dm=-4")?;
    /// assert_eq!(tags.get("_dd.p.dm"), Some("-4"));
    /// assert_eq!(tags.get("_dd.p.tid"), None);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The high 64 bits of the trace id from `_dd.p.tid`, if present.
    ///
    /// # Errors
    ///
    /// `_dd.p.tid` is not 16 lower-case hex digits.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogTags;
    ///
    /// assert_eq!(DatadogTags::parse("_dd.p.tid=0000000000004321")?.tid()?, Some(0x4321));
    /// assert!(DatadogTags::parse("_dd.p.tid=4321")?.tid().is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn tid(&self) -> Result<Option<u64>, ParseError> {
        match self.get(TID_TAG) {
            None => Ok(None),
            Some(hex) => Ok(Some(
                codec::parse_hex_exact(hex.as_bytes(), 16, Field::Tid)? as u64,
            )),
        }
    }

    /// The sampling decision maker `_dd.p.dm`, e.g. `-4`.
    ///
    /// # Examples
    ///
    /// ```
    /// let tags = usertrail_propagator::DatadogTags::parse("_dd.p.dm=-1")?;
    /// assert_eq!(tags.decision_maker(), Some("-1"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn decision_maker(&self) -> Option<&str> {
        self.get(DECISION_MAKER_TAG)
    }

    /// Sets `key` to `value`, in place if present, else at the end.
    ///
    /// # Errors
    ///
    /// Bad characters, or the result would be longer than 512 characters; nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut tags = usertrail_propagator::DatadogTags::parse("a=1,b=2")?;
    /// tags.insert("a", "9")?;
    /// tags.insert("c", "3")?;
    /// assert_eq!(tags.to_string(), "a=9,b=2,c=3");
    /// assert!(tags.insert("", "x").is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), ParseError> {
        check_tag(key, value)?;
        let mut out = String::with_capacity(self.text.len() + key.len() + value.len() + 2);
        let mut replaced = false;
        for (k, v) in self.iter() {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(k);
            out.push('=');
            if k == key && !replaced {
                out.push_str(value);
                replaced = true;
            } else {
                out.push_str(v);
            }
        }
        if !replaced {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
        if out.len() > TAGS_MAX_LEN {
            return Err(ErrorKind::TagsTooLong.into());
        }
        self.text = Cow::Owned(out);
        Ok(())
    }

    /// Appends the canonical header value to `out`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::new();
    /// usertrail_propagator::DatadogTags::parse("a=1,,b=2")?.write_to(&mut out);
    /// assert_eq!(out, "a=1,b=2");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn write_to(&self, out: &mut String) {
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
    }

    /// The canonical header value as a new string.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::DatadogTags::parse("a=1")?.to_header_value(), "a=1");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn to_header_value(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        self.write_to(&mut out);
        out
    }

    /// A copy that owns its text.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogTags;
    ///
    /// let kept: DatadogTags<'static> = DatadogTags::parse(&String::from("a=1"))?.into_owned();
    /// assert_eq!(kept.get("a"), Some("1"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn into_owned(self) -> DatadogTags<'static> {
        DatadogTags {
            text: Cow::Owned(self.text.into_owned()),
        }
    }
}

/// Equal when the pairs are, in order (whitespace around `,` and empty pairs aside).
impl PartialEq for DatadogTags<'_> {
    fn eq(&self, other: &DatadogTags<'_>) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for DatadogTags<'_> {}

impl fmt::Debug for DatadogTags<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl fmt::Display for DatadogTags<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

crate::error::parse_impls!(DatadogTags);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn tags_too_long() {
        let long = "_dd.p.x=".to_string() + &"y".repeat(600);
        assert_eq!(
            DatadogTags::parse(&long).unwrap_err().to_string(),
            "longer than 512 characters"
        );
    }
}
