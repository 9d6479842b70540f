//! Datadog propagation: the `x-datadog-*` headers, `x-datadog-tags`, and the `dd` member of
//! `tracestate`.
//!
//! There is no public spec; this follows what Datadog's tracers and browser SDK send
//! (dd-trace-rs, dd-trace-js, browser-sdk 7): decimal 64-bit ids, the high 64 bits of a 128-bit
//! trace id as `_dd.p.tid` (16 lower-case hex digits), a signed sampling priority, and in
//! `tracestate` a `dd=s:<priority>;o:<origin>;p:<16 hex parent>;t.<tag>:<value>` member where
//! `~` stands for `=` in `o` and `t.*` values.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use crate::carrier::{self, Extractor, Injector};
use crate::codec::{self, split_byte, split_once_byte, trim_ows};
use crate::error::{ErrorKind, Field, InjectError, ParseError};
use crate::headers::{
    X_DATADOG_ORIGIN, X_DATADOG_PARENT_ID, X_DATADOG_SAMPLING_PRIORITY, X_DATADOG_TAGS,
    X_DATADOG_TRACE_ID,
};
use crate::ids::{SpanId, TraceId};

/// Tag carrying the high 64 bits of a 128-bit trace id as 16 lower-case hex digits.
const TID_TAG: &str = "_dd.p.tid";
/// Tag carrying the sampling decision maker, e.g. `-4`.
const DECISION_MAKER_TAG: &str = "_dd.p.dm";
/// Datadog's default `DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH`.
const TAGS_MAX_LEN: usize = 512;
/// `tracestate` key of the Datadog member.
pub(crate) const DD_TRACESTATE_KEY: &str = "dd";

/// A Datadog sampling priority: negative or zero drops the trace, positive keeps it.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::SamplingPriority;
///
/// let p: SamplingPriority = "-1".parse()?;
/// assert_eq!(p, SamplingPriority::USER_REJECT);
/// assert!(!p.is_keep());
/// assert!(SamplingPriority::USER_KEEP.is_keep());
/// assert!("1.0".parse::<SamplingPriority>().is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SamplingPriority(i32);

impl SamplingPriority {
    /// `-1`: the user asked to drop the trace.
    pub const USER_REJECT: SamplingPriority = SamplingPriority(-1);
    /// `0`: the sampler dropped the trace.
    pub const AUTO_REJECT: SamplingPriority = SamplingPriority(0);
    /// `1`: the sampler kept the trace.
    pub const AUTO_KEEP: SamplingPriority = SamplingPriority(1);
    /// `2`: the user asked to keep the trace.
    pub const USER_KEEP: SamplingPriority = SamplingPriority(2);

    /// A priority from its value.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::SamplingPriority;
    ///
    /// assert_eq!(SamplingPriority::new(2), SamplingPriority::USER_KEEP);
    /// assert!(!SamplingPriority::new(0).is_keep());
    /// ```
    #[inline]
    pub const fn new(value: i32) -> Self {
        SamplingPriority(value)
    }

    /// The value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::SamplingPriority::USER_REJECT.get(), -1);
    /// ```
    #[inline]
    pub const fn get(self) -> i32 {
        self.0
    }

    /// Is the trace kept (priority above zero)?
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::SamplingPriority;
    ///
    /// assert!(SamplingPriority::AUTO_KEEP.is_keep());
    /// assert!(!SamplingPriority::AUTO_REJECT.is_keep());
    /// ```
    #[inline]
    pub const fn is_keep(self) -> bool {
        self.0 > 0
    }

    /// Parses a decimal integer with an optional `-`.
    ///
    /// # Errors
    ///
    /// Anything else, or a value outside `i32`.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::SamplingPriority;
    ///
    /// assert_eq!(SamplingPriority::parse("2").map(SamplingPriority::get), Ok(2));
    /// assert!(SamplingPriority::parse("+2").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let value = codec::parse_i32_dec(s.as_bytes(), Field::SamplingPriority)?;
        Ok(SamplingPriority(value))
    }

    /// Appends the decimal value to `out`, without going through `core::fmt`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::new();
    /// usertrail_propagator::SamplingPriority::USER_REJECT.write_to(&mut out);
    /// assert_eq!(out, "-1");
    /// ```
    #[inline]
    pub fn write_to(&self, out: &mut String) {
        codec::push_i32_dec(out, self.0);
    }
}

impl fmt::Display for SamplingPriority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for SamplingPriority {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for SamplingPriority {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

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

impl FromStr for DatadogTags<'static> {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatadogTags::parse(s).map(DatadogTags::into_owned)
    }
}

impl<'a> TryFrom<&'a str> for DatadogTags<'a> {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &'a str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

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
fn push_dd_value(out: &mut String, value: &str) {
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
        let mut priority = None;
        let mut last_parent = None;
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
                "" => return Err(ErrorKind::DdItemInvalid.into()),
                _ => {}
            }
        }
        Ok(DatadogTracestate {
            text: Cow::Borrowed(s),
            priority,
            last_parent,
        })
    }

    fn items(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        split_byte(&self.text, b';')
            .filter(|i| !i.is_empty())
            .map(|i| split_once_byte(i, b':').unwrap_or((i, "")))
    }

    /// The decoded origin, borrowed for `'a` when possible.
    pub(crate) fn into_origin(self) -> Option<Cow<'a, str>> {
        match self.text {
            Cow::Borrowed(text) => split_byte(text, b';')
                .find_map(|item| item.strip_prefix("o:"))
                .map(decode_tilde),
            Cow::Owned(text) => split_byte(&text, b';')
                .find_map(|item| item.strip_prefix("o:"))
                .map(|o| Cow::Owned(decode_tilde(o).into_owned())),
        }
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

impl FromStr for DatadogTracestate<'static> {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatadogTracestate::parse(s).map(DatadogTracestate::into_owned)
    }
}

impl<'a> TryFrom<&'a str> for DatadogTracestate<'a> {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &'a str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

/// A Datadog trace context carried by the `x-datadog-*` headers.
///
/// Extraction needs `x-datadog-trace-id` and `x-datadog-parent-id` (unsigned 64-bit decimal,
/// not zero); `x-datadog-sampling-priority`, `x-datadog-origin` (printable ASCII) and
/// `x-datadog-tags` are optional. A valid `_dd.p.tid` tag supplies the high 64 bits of the
/// trace id. Injection writes the low 64 bits, the parent id, the priority and origin if any,
/// and `x-datadog-tags` with `_dd.p.tid` when the trace id has high bits.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{DatadogContext, SamplingPriority};
///
/// // What Datadog's browser SDK sends.
/// let headers = [
///     ("x-datadog-origin", "rum"),
///     ("x-datadog-trace-id", "992357060732163540"),
///     ("x-datadog-parent-id", "458454585432244812"),
///     ("x-datadog-sampling-priority", "1"),
/// ];
/// let dd = DatadogContext::extract(&headers[..])?.unwrap();
/// assert_eq!(dd.trace_id().to_string(), "00000000000000000dc58f7d2f4a95d4");
/// assert_eq!(dd.parent_id().to_string(), "065cc2043656824c");
/// assert_eq!(dd.sampling_priority(), Some(SamplingPriority::AUTO_KEEP));
/// assert_eq!(dd.origin(), Some("rum"));
///
/// assert!(DatadogContext::extract(&[("x-datadog-trace-id", "0x1")][..]).is_err());
/// assert!(DatadogContext::extract(&[("other", "1")][..])?.is_none());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatadogContext<'a> {
    trace_id: TraceId,
    parent_id: SpanId,
    sampling_priority: Option<SamplingPriority>,
    origin: Option<Cow<'a, str>>,
    tags: Option<DatadogTags<'a>>,
}

fn is_origin_valid(origin: &str) -> bool {
    !origin.is_empty() && origin.bytes().all(|b| matches!(b, 0x20..=0x7e))
}

fn parse_dd_id(value: &str, field: Field) -> Result<u64, ErrorKind> {
    match codec::parse_u64_dec(trim_ows(value).as_bytes(), field)? {
        0 => Err(ErrorKind::Zero(field)),
        id => Ok(id),
    }
}

impl<'a> DatadogContext<'a> {
    /// A context to inject.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogContext, SamplingPriority, SpanId, TraceId};
    ///
    /// let dd = DatadogContext::new(TraceId::new(5).unwrap(), SpanId::new(6).unwrap())
    ///     .with_sampling_priority(Some(SamplingPriority::AUTO_KEEP));
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// dd.inject(&mut headers)?;
    /// assert_eq!(headers[0], ("x-datadog-trace-id".to_string(), "5".to_string()));
    /// # Ok::<(), usertrail_propagator::InjectError>(())
    /// ```
    #[inline]
    pub const fn new(trace_id: TraceId, parent_id: SpanId) -> Self {
        DatadogContext {
            trace_id,
            parent_id,
            sampling_priority: None,
            origin: None,
            tags: None,
        }
    }
}

impl<'a> DatadogContext<'a> {
    /// Strict extraction: `Ok(None)` without `x-datadog-trace-id`; an error for any present
    /// header that is malformed. [`extract`](crate::extract) is lenient instead: it keeps the
    /// context when only an optional header is bad, and reports the problem.
    ///
    /// # Errors
    ///
    /// The first malformed `x-datadog-*` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogContext;
    ///
    /// let ok = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2")];
    /// assert!(DatadogContext::extract(&ok[..])?.is_some());
    /// let bad = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-sampling-priority", "keep")];
    /// assert!(DatadogContext::extract(&bad[..]).is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn extract<E: Extractor + ?Sized>(carrier: &'a E) -> Result<Option<Self>, ParseError> {
        let mut first = None;
        let context = Self::extract_reporting(carrier, &mut |_, kind| {
            first.get_or_insert(kind);
        });
        match first {
            Some(kind) => Err(kind.into()),
            None => Ok(context),
        }
    }

    /// Lenient extraction: a bad id drops the context; a bad optional header is only reported.
    pub(crate) fn extract_reporting<E: Extractor + ?Sized>(
        carrier: &'a E,
        report: &mut dyn FnMut(&'static str, ErrorKind),
    ) -> Option<Self> {
        let trace_id = carrier.get(X_DATADOG_TRACE_ID)?;
        let low = match parse_dd_id(trace_id, Field::TraceId) {
            Ok(low) => low,
            Err(kind) => {
                report(X_DATADOG_TRACE_ID, kind);
                return None;
            }
        };
        let parent_id = carrier.get(X_DATADOG_PARENT_ID).unwrap_or("");
        let parent_id = match parse_dd_id(parent_id, Field::ParentId) {
            Ok(id) => SpanId::new(id)?,
            Err(kind) => {
                report(X_DATADOG_PARENT_ID, kind);
                return None;
            }
        };
        let sampling_priority = carrier.get(X_DATADOG_SAMPLING_PRIORITY).and_then(|p| {
            match SamplingPriority::parse(trim_ows(p)) {
                Ok(p) => Some(p),
                Err(e) => {
                    report(X_DATADOG_SAMPLING_PRIORITY, e.kind());
                    None
                }
            }
        });
        let origin = carrier.get(X_DATADOG_ORIGIN).map(trim_ows).and_then(|o| {
            if is_origin_valid(o) {
                Some(Cow::Borrowed(o))
            } else {
                report(X_DATADOG_ORIGIN, ErrorKind::OriginInvalid);
                None
            }
        });
        let tags = carrier
            .get(X_DATADOG_TAGS)
            .and_then(|t| match DatadogTags::parse(t) {
                Ok(tags) => Some(tags),
                Err(e) => {
                    report(X_DATADOG_TAGS, e.kind());
                    None
                }
            });
        let high = match tags.as_ref().map(DatadogTags::tid) {
            Some(Ok(Some(high))) => high,
            Some(Err(e)) => {
                report(X_DATADOG_TAGS, e.kind());
                0
            }
            _ => 0,
        };
        Some(DatadogContext {
            trace_id: TraceId::from_u64_pair(high, low)?,
            parent_id,
            sampling_priority,
            origin,
            tags,
        })
    }

    pub(crate) fn into_parts(
        self,
    ) -> (
        TraceId,
        SpanId,
        Option<SamplingPriority>,
        Option<Cow<'a, str>>,
    ) {
        (
            self.trace_id,
            self.parent_id,
            self.sampling_priority,
            self.origin,
        )
    }

    /// This context with a sampling priority.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogContext, SamplingPriority, SpanId, TraceId};
    ///
    /// let dd = DatadogContext::new(TraceId::new(1).unwrap(), SpanId::new(1).unwrap());
    /// assert_eq!(dd.sampling_priority(), None);
    /// let dd = dd.with_sampling_priority(Some(SamplingPriority::USER_KEEP));
    /// assert_eq!(dd.sampling_priority(), Some(SamplingPriority::USER_KEEP));
    /// ```
    #[inline]
    pub fn with_sampling_priority(mut self, priority: Option<SamplingPriority>) -> Self {
        self.sampling_priority = priority;
        self
    }

    /// This context with an origin (checked at injection).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogContext, SpanId, TraceId};
    ///
    /// let dd = DatadogContext::new(TraceId::new(1).unwrap(), SpanId::new(1).unwrap()).with_origin("rum");
    /// assert_eq!(dd.origin(), Some("rum"));
    /// let bad = DatadogContext::new(TraceId::new(1).unwrap(), SpanId::new(1).unwrap()).with_origin("a\nb");
    /// assert!(bad.inject(&mut Vec::<(String, String)>::new()).is_err());
    /// ```
    #[inline]
    pub fn with_origin(mut self, origin: impl Into<Cow<'a, str>>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// The 128-bit trace id (high bits from `_dd.p.tid`, else zero).
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1234"), ("x-datadog-parent-id", "5678"), ("x-datadog-tags", "_dd.p.tid=0000000000004321")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.trace_id().high(), 0x4321);
    /// assert_eq!(dd.trace_id().low(), 1234);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The caller's span id.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "5678")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.parent_id().to_u64(), 5678);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn parent_id(&self) -> SpanId {
        self.parent_id
    }

    /// `x-datadog-sampling-priority`, if present.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-sampling-priority", "-1")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.sampling_priority().map(|p| p.get()), Some(-1));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn sampling_priority(&self) -> Option<SamplingPriority> {
        self.sampling_priority
    }

    /// `x-datadog-origin`, if present.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-origin", "synthetics")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.origin(), Some("synthetics"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// `x-datadog-tags`, if present and valid.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-tags", "_dd.p.dm=-4")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.tags().and_then(|t| t.decision_maker()), Some("-4"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn tags(&self) -> Option<&DatadogTags<'a>> {
        self.tags.as_ref()
    }

    /// Writes the `x-datadog-*` headers. The tags written are the extracted ones (without
    /// `_dd.p.tid`) plus `_dd.p.tid` when the trace id has high bits.
    ///
    /// # Errors
    ///
    /// A value that is not a valid HTTP header value (a bad origin); that header is not
    /// written, the others are.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogContext, SpanId, TraceId};
    ///
    /// let dd = DatadogContext::new(TraceId::from_u64_pair(0x66305cd5_00000000, 1234).unwrap(), SpanId::new(5678).unwrap());
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// dd.inject(&mut headers)?;
    /// assert_eq!(headers, [
    ///     ("x-datadog-trace-id".to_string(), "1234".to_string()),
    ///     ("x-datadog-parent-id".to_string(), "5678".to_string()),
    ///     ("x-datadog-tags".to_string(), "_dd.p.tid=66305cd500000000".to_string()),
    /// ]);
    /// # Ok::<(), usertrail_propagator::InjectError>(())
    /// ```
    pub fn inject<I: Injector + ?Sized>(&self, carrier: &mut I) -> Result<(), InjectError> {
        inject_headers(
            (self.trace_id, self.parent_id),
            self.sampling_priority,
            self.origin.as_deref(),
            self.tags.as_ref(),
            carrier,
        )
    }

    /// A copy that owns its data.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogContext;
    ///
    /// let headers = vec![("x-datadog-trace-id".to_string(), "1".to_string()), ("x-datadog-parent-id".to_string(), "2".to_string())];
    /// let kept: DatadogContext<'static> = DatadogContext::extract(&headers)?.unwrap().into_owned();
    /// drop(headers);
    /// assert_eq!(kept.trace_id().low(), 1);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn into_owned(self) -> DatadogContext<'static> {
        DatadogContext {
            trace_id: self.trace_id,
            parent_id: self.parent_id,
            sampling_priority: self.sampling_priority,
            origin: self.origin.map(|o| Cow::Owned(o.into_owned())),
            tags: self.tags.map(DatadogTags::into_owned),
        }
    }
}

/// The `tracestate` of a trace that starts here: `dd=s:<priority>;o:<origin>`, which is what
/// `Tracestate::insert` of `DatadogTracestate::new(Some(priority), origin, None)` into an empty
/// tracestate writes, without building either. An origin that makes the member invalid (too
/// long) is left out, as [`inject`](crate::inject) does.
pub(crate) fn new_trace_tracestate(priority: SamplingPriority, origin: Option<&str>) -> String {
    let mut tracestate = String::from("dd=s:");
    priority.write_to(&mut tracestate);
    if let Some(origin) = origin {
        let without_origin = tracestate.len();
        tracestate.push_str(";o:");
        push_dd_value(&mut tracestate, origin);
        if crate::w3c::check_tracestate_value(tracestate.get(3..).unwrap_or("")).is_err() {
            tracestate.truncate(without_origin);
        }
    }
    tracestate
}

/// [`DatadogContext::inject`], on its parts: the inject paths that never carry extracted tags
/// (`crate::inject`, `NewTrace::inject`) pass `None`, so the browser SDK's WebAssembly has no
/// tag-copying code.
pub(crate) fn inject_headers<I: Injector + ?Sized>(
    (trace_id, parent_id): (TraceId, SpanId),
    sampling_priority: Option<SamplingPriority>,
    origin: Option<&str>,
    extracted_tags: Option<&DatadogTags<'_>>,
    carrier: &mut I,
) -> Result<(), InjectError> {
    let mut result = Ok(());
    let mut value = String::with_capacity(20);
    codec::push_u64_dec(&mut value, trace_id.low());
    carrier::set_checked(carrier, X_DATADOG_TRACE_ID, value, &mut result);
    let mut value = String::with_capacity(20);
    codec::push_u64_dec(&mut value, parent_id.to_u64());
    carrier::set_checked(carrier, X_DATADOG_PARENT_ID, value, &mut result);
    if let Some(priority) = sampling_priority {
        let mut value = String::with_capacity(2);
        priority.write_to(&mut value);
        carrier::set_checked(carrier, X_DATADOG_SAMPLING_PRIORITY, value, &mut result);
    }
    if let Some(origin) = origin {
        carrier::set_checked(carrier, X_DATADOG_ORIGIN, String::from(origin), &mut result);
    }
    let mut tags = String::new();
    if let Some(extracted) = extracted_tags {
        for (k, v) in extracted.iter().filter(|(k, _)| *k != TID_TAG) {
            if !tags.is_empty() {
                tags.push(',');
            }
            tags.push_str(k);
            tags.push('=');
            tags.push_str(v);
        }
    }
    if trace_id.high() != 0 {
        if !tags.is_empty() {
            tags.push(',');
        }
        tags.push_str(TID_TAG);
        tags.push('=');
        codec::push_hex(&mut tags, u128::from(trace_id.high()), 16);
    }
    if !tags.is_empty() {
        carrier::set_checked(carrier, X_DATADOG_TAGS, tags, &mut result);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn dd_value_encoding() {
        let mut s = String::new();
        push_dd_value(&mut s, "a=b,c;d~e f\u{e9}");
        assert_eq!(s, "a~b_c_d_e_f_");
        assert!(crate::w3c::check_tracestate_value(&s).is_ok());
    }

    #[test]
    fn tags_too_long() {
        let long = "_dd.p.x=".to_string() + &"y".repeat(600);
        assert_eq!(
            DatadogTags::parse(&long).unwrap_err().to_string(),
            "longer than 512 characters"
        );
    }
}
