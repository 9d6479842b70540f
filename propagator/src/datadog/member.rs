//! The `dd` member of `tracestate`: `s:<priority>;o:<origin>;p:<parent>;t.<tag>:<value>`.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

use crate::codec::{self, split_byte, split_once_byte};
use crate::error::{ErrorKind, Field, ParseError};
use crate::ids::SpanId;
use crate::sampling_priority::SamplingPriority;

/// What [`DatadogTracestate::read_items`] reads: the sampling priority, the last parent id,
/// and the first origin, not decoded.
type Items<'a> = (Option<SamplingPriority>, Option<u64>, Option<&'a str>);

/// `tracestate` key of the Datadog member.
pub(crate) const DD_TRACESTATE_KEY: &str = "dd";

/// `~` stands for `=` in `dd` member values (`=` is not allowed in a `tracestate` value).
fn decode_tilde(value: &str) -> Cow<'_, str> {
    if value.as_bytes().contains(&b'~') {
        Cow::Owned(value.replace('~', "="))
    } else {
        Cow::Borrowed(value)
    }
}

/// Encodes an origin or tag value for the `dd` member the way Datadog's tracers do: characters
/// outside printable ASCII, and `,` `;` `~` and space, become `_`; `=` becomes `~`.
pub(super) fn push_dd_value(out: &mut String, value: &str) {
    for c in value.chars() {
        out.push(match c {
            '=' => '~',
            '!'..='}' if c != ',' && c != ';' => c,
            _ => '_',
        });
    }
}

/// The value of the `dd` member of `tracestate`: `;`-separated `key:value` items, of which
/// `s` (sampling priority), `o` (origin), `p` (last Datadog parent id, 16 hex digits) and
/// `t.<name>` (propagation tag `_dd.p.<name>`) are understood and the rest kept.
///
/// Parsed strictly: an item without `:`, a bad `s` or a bad `p` rejects the member. Writing a
/// parsed value gives it back as received.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{DatadogTracestate, SamplingPriority};
///
/// let dd = DatadogTracestate::parse("s:2;o:rum;p:00f067aa0ba902b7;t.dm:-4;t.usr.id:a~b")?;
/// assert_eq!(dd.sampling_priority(), Some(SamplingPriority::USER_KEEP));
/// assert_eq!(dd.origin().as_deref(), Some("rum"));
/// assert_eq!(dd.last_parent_id().map(|id| id.to_u64()), Some(0x00f067aa0ba902b7));
/// let tags: Vec<_> = dd.tags().collect();
/// assert_eq!(tags, [("dm", "-4".into()), ("usr.id", "a=b".into())]);
/// assert_eq!(dd.to_string(), "s:2;o:rum;p:00f067aa0ba902b7;t.dm:-4;t.usr.id:a~b");
///
/// assert!(DatadogTracestate::parse("s:high").is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DatadogTracestate<'a> {
    /// Validated `tracestate` value whose items are all `key:value`.
    text: Cow<'a, str>,
    priority: Option<SamplingPriority>,
    last_parent: Option<u64>,
}

impl DatadogTracestate<'static> {
    /// A `dd` value with these fields, written `s:…;o:…;p:…` (absent fields are left out). The
    /// origin is encoded like Datadog's tracers do (`=` as `~`; `,`, `;`, `~`, space and
    /// non-printable characters as `_`).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogTracestate, SamplingPriority, SpanId};
    ///
    /// let dd = DatadogTracestate::new(Some(SamplingPriority::AUTO_KEEP), Some("rum"), None);
    /// assert_eq!(dd.to_string(), "s:1;o:rum");
    /// let dd = DatadogTracestate::new(None, Some("a=b;c"), SpanId::new(1));
    /// assert_eq!(dd.to_string(), "o:a~b_c;p:0000000000000001");
    /// ```
    pub fn new(
        priority: Option<SamplingPriority>,
        origin: Option<&str>,
        last_parent_id: Option<SpanId>,
    ) -> Self {
        let mut text = String::new();
        if let Some(priority) = priority {
            text.push_str("s:");
            priority.write_to(&mut text);
        }
        if let Some(origin) = origin {
            if !text.is_empty() {
                text.push(';');
            }
            text.push_str("o:");
            push_dd_value(&mut text, origin);
        }
        if let Some(parent) = last_parent_id {
            if !text.is_empty() {
                text.push(';');
            }
            text.push_str("p:");
            parent.write_to(&mut text);
        }
        DatadogTracestate {
            text: Cow::Owned(text),
            priority,
            last_parent: last_parent_id.map(SpanId::to_u64),
        }
    }

    /// These fields plus the `t.*` tags of `other`, as many as fit in 256 characters.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogTracestate, SamplingPriority};
    ///
    /// let old = DatadogTracestate::parse("s:1;o:rum;t.dm:-4")?;
    /// let new = DatadogTracestate::new(Some(SamplingPriority::USER_KEEP), None, None).with_tags_from(&old);
    /// assert_eq!(new.to_string(), "s:2;t.dm:-4");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn with_tags_from(mut self, other: &DatadogTracestate<'_>) -> Self {
        let text = self.text.to_mut();
        for item in other.items().filter(|(k, _)| k.starts_with("t.")) {
            let extra = usize::from(!text.is_empty()) + item.0.len() + 1 + item.1.len();
            if text.len() + extra > 256 {
                break;
            }
            if !text.is_empty() {
                text.push(';');
            }
            text.push_str(item.0);
            text.push(':');
            text.push_str(item.1);
        }
        self
    }
}

impl<'a> DatadogTracestate<'a> {
    /// Validates and borrows a `dd` member value.
    ///
    /// # Errors
    ///
    /// Not a valid `tracestate` value, an item without `:`, `s` not an integer, or `p` not 16
    /// lower-case hex digits.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogTracestate;
    ///
    /// assert!(DatadogTracestate::parse("s:1;o:rum").is_ok());
    /// assert!(DatadogTracestate::parse("s:1;p:00F067AA0BA902B7").is_err());
    /// ```
    pub fn parse(s: &'a str) -> Result<Self, ParseError> {
        crate::w3c::check_tracestate_value(s)?;
        let (priority, last_parent, _) = Self::read_items(s)?;
        Ok(DatadogTracestate {
            text: Cow::Borrowed(s),
            priority,
            last_parent,
        })
    }

    /// What [`extract`](crate::extract) needs of a `dd` member value that came in a valid
    /// `tracestate` (so is a valid `tracestate` value): its sampling priority and its origin
    /// (`~` decoded), in one pass. The same errors as [`parse`](Self::parse).
    pub(crate) fn priority_and_origin(
        s: &'a str,
    ) -> Result<(Option<SamplingPriority>, Option<Cow<'a, str>>), ParseError> {
        debug_assert!(crate::w3c::check_tracestate_value(s).is_ok());
        let (priority, _, origin) = Self::read_items(s)?;
        Ok((priority, origin.map(decode_tilde)))
    }

    /// The sampling priority, last parent id and (first) origin, not decoded, of a valid
    /// `tracestate` value; an item without `:`, `s` not an integer or `p` not 16 lower-case
    /// hex digits is an error.
    fn read_items(s: &str) -> Result<Items<'_>, ParseError> {
        let mut priority = None;
        let mut last_parent = None;
        let mut origin = None;
        for item in split_byte(s, b';').filter(|i| !i.is_empty()) {
            let (key, value) = split_once_byte(item, b':').ok_or(ErrorKind::DdItemInvalid)?;
            match key {
                "s" => priority = Some(SamplingPriority::parse(value)?),
                "p" => {
                    last_parent = Some(codec::parse_hex_exact(
                        value.as_bytes(),
                        16,
                        Field::LastParentId,
                    )? as u64);
                }
                "o" if origin.is_none() => origin = Some(value),
                "" => return Err(ErrorKind::DdItemInvalid.into()),
                _ => {}
            }
        }
        Ok((priority, last_parent, origin))
    }

    fn items(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        split_byte(&self.text, b';')
            .filter(|i| !i.is_empty())
            .map(|i| split_once_byte(i, b':').unwrap_or((i, "")))
    }

    /// `s`: the sampling priority.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogTracestate, SamplingPriority};
    ///
    /// assert_eq!(DatadogTracestate::parse("s:-1")?.sampling_priority(), Some(SamplingPriority::USER_REJECT));
    /// assert_eq!(DatadogTracestate::parse("o:rum")?.sampling_priority(), None);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn sampling_priority(&self) -> Option<SamplingPriority> {
        self.priority
    }

    /// `o`: the origin, with `~` decoded to `=`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dd = usertrail_propagator::DatadogTracestate::parse("o:synthetics~browser")?;
    /// assert_eq!(dd.origin().as_deref(), Some("synthetics=browser"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn origin(&self) -> Option<Cow<'_, str>> {
        self.items()
            .find(|(k, _)| *k == "o")
            .map(|(_, v)| decode_tilde(v))
    }

    /// `p`: the last Datadog parent span id (`None` if absent or all zeros, which Datadog uses
    /// for "unknown").
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogTracestate;
    ///
    /// assert!(DatadogTracestate::parse("p:0000000000000001")?.last_parent_id().is_some());
    /// assert!(DatadogTracestate::parse("p:0000000000000000")?.last_parent_id().is_none());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn last_parent_id(&self) -> Option<SpanId> {
        self.last_parent.and_then(SpanId::new)
    }

    /// The `t.<name>` items as `(name, value)`, `~` decoded to `=`; the tag they stand for is
    /// `_dd.p.<name>`.
    ///
    /// # Examples
    ///
    /// ```
    /// let dd = usertrail_propagator::DatadogTracestate::parse("s:1;t.dm:-4")?;
    /// assert_eq!(dd.tags().next(), Some(("dm", "-4".into())));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn tags(&self) -> impl Iterator<Item = (&str, Cow<'_, str>)> + '_ {
        self.items()
            .filter_map(|(k, v)| Some((k.strip_prefix("t.")?, decode_tilde(v))))
    }

    /// Appends the value to `out`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::from("dd=");
    /// usertrail_propagator::DatadogTracestate::parse("s:1;o:rum")?.write_to(&mut out);
    /// assert_eq!(out, "dd=s:1;o:rum");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn write_to(&self, out: &mut String) {
        out.push_str(&self.text);
    }

    /// The value as a new string.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::DatadogTracestate::parse("s:0")?.to_header_value(), "s:0");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn to_header_value(&self) -> String {
        String::from(&*self.text)
    }

    /// A copy that owns its text.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogTracestate;
    ///
    /// let kept: DatadogTracestate<'static> = DatadogTracestate::parse(&String::from("s:1"))?.into_owned();
    /// assert!(kept.sampling_priority().is_some());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn into_owned(self) -> DatadogTracestate<'static> {
        DatadogTracestate {
            text: Cow::Owned(self.text.into_owned()),
            priority: self.priority,
            last_parent: self.last_parent,
        }
    }
}

impl fmt::Debug for DatadogTracestate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatadogTracestate")
            .field(&&*self.text)
            .finish()
    }
}

impl fmt::Display for DatadogTracestate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

crate::error::parse_impls!(DatadogTracestate);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dd_value_encoding() {
        let mut s = String::new();
        push_dd_value(&mut s, "a=b,c;d~e f\u{e9}");
        assert_eq!(s, "a~b_c_d_e_f_");
        assert!(crate::w3c::check_tracestate_value(&s).is_ok());
    }
}
