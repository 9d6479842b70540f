//! The browser session: a random UUID v4 shared by the tabs and page loads of one origin.
//!
//! RUM conventions: a session ends after 15 minutes without activity or 4 hours in total,
//! and on `stopSession()`. With `local-storage` persistence the session lives in
//! `localStorage` so every tab of the origin uses the same one; each tab keeps a copy and
//! re-reads the stored one at most once a second, so most requests cost only a clock read.

use wasm_bindgen::prelude::*;

use crate::random;

/// The `localStorage` key holding `id=<uuid>&created=<ms>&expire=<ms>`.
pub(crate) const STORAGE_KEY: &str = "_usertrail_s";
const INACTIVITY_MS: f64 = 15.0 * 60.0 * 1000.0;
const MAX_DURATION_MS: f64 = 4.0 * 60.0 * 60.0 * 1000.0;
/// How stale this tab's copy of the stored session may be, and how often activity is written.
const SYNC_MS: f64 = 1000.0;

#[wasm_bindgen]
extern "C" {
    // `catch`: reading `localStorage` throws in sandboxed frames and with storage disabled.
    #[wasm_bindgen(catch, js_namespace = localStorage, js_name = getItem)]
    fn storage_get(key: &str) -> Result<Option<String>, JsValue>;
    #[wasm_bindgen(catch, js_namespace = localStorage, js_name = setItem)]
    fn storage_set(key: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_namespace = localStorage, js_name = removeItem)]
    fn storage_remove(key: &str) -> Result<(), JsValue>;
}

/// Where the session lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Persistence {
    LocalStorage,
    Memory,
}

#[derive(Clone, Debug, PartialEq)]
struct Session {
    id: String,
    created: f64,
    expire: f64,
}

impl Session {
    fn start(now: f64) -> Self {
        let mut bytes = [0u8; 16];
        random::fill(&mut bytes);
        Session {
            id: uuid_v4(bytes),
            created: now,
            expire: now + INACTIVITY_MS,
        }
    }

    fn is_live(&self, now: f64) -> bool {
        now < self.expire && now < self.created + MAX_DURATION_MS
    }

    fn encode(&self) -> String {
        let mut out = String::with_capacity(80);
        out.push_str("id=");
        out.push_str(&self.id);
        out.push_str("&created=");
        push_millis(&mut out, self.created);
        out.push_str("&expire=");
        push_millis(&mut out, self.expire);
        out
    }

    /// Parses what [`encode`](Self::encode) wrote; anything else (another version, a user's
    /// edit) is no session.
    fn decode(text: &str) -> Option<Self> {
        let mut id = None;
        let mut created = None;
        let mut expire = None;
        for pair in text.as_bytes().split(|&b| b == b'&') {
            let equals = pair.iter().position(|&b| b == b'=')?;
            let (key, value) = (&pair[..equals], &pair[equals + 1..]);
            match key {
                // A UUID is ASCII: one char per byte.
                b"id" if is_uuid(value) => {
                    id = Some(value.iter().map(|&b| char::from(b)).collect())
                }
                b"created" => created = parse_u64(value),
                b"expire" => expire = parse_u64(value),
                _ => {}
            }
        }
        Some(Session {
            id: id?,
            created: created? as f64,
            expire: expire? as f64,
        })
    }
}

/// This tab's view of the session.
#[derive(Debug)]
pub(crate) struct SessionStore {
    persistence: Persistence,
    current: Option<Session>,
    /// When this tab last read or wrote the stored session.
    synced_at: f64,
    /// False once a write failed: reads are then no longer the truth.
    storage_works: bool,
}

impl SessionStore {
    pub(crate) const fn new(persistence: Persistence) -> Self {
        SessionStore {
            persistence,
            current: None,
            synced_at: f64::NEG_INFINITY,
            storage_works: true,
        }
    }

    /// Switches where the session lives; the current session moves along.
    pub(crate) fn set_persistence(&mut self, persistence: Persistence) {
        self.persistence = persistence;
        self.synced_at = f64::NEG_INFINITY;
    }

    /// The live session's id, after recording activity at `now`: starts a new session when
    /// there is none or it expired, and extends the inactivity deadline otherwise.
    pub(crate) fn touch(&mut self, now: f64) -> &str {
        let stored = self.persistence == Persistence::LocalStorage;
        if stored && self.storage_works && now - self.synced_at >= SYNC_MS {
            // Storage is the truth: another tab may have started, extended or stopped it.
            if let Ok(value) = storage_get(STORAGE_KEY) {
                self.current = value.as_deref().and_then(Session::decode);
            }
            self.synced_at = now;
        }
        let mut dirty = false;
        let session = match self.current.take() {
            Some(session) if session.is_live(now) => session,
            _ => {
                dirty = true;
                Session::start(now)
            }
        };
        let session = self.current.insert(session);
        let expire = (now + INACTIVITY_MS).min(session.created + MAX_DURATION_MS);
        if expire - session.expire >= SYNC_MS {
            session.expire = expire;
            dirty = true;
        }
        if stored && dirty {
            // When storage fails (quota, disabled) this tab keeps its own copy from then on.
            self.storage_works = storage_set(STORAGE_KEY, &session.encode()).is_ok();
            self.synced_at = now;
        }
        &session.id
    }

    /// Ends the session; the next activity starts a new one.
    pub(crate) fn stop(&mut self) {
        self.current = None;
        self.synced_at = f64::NEG_INFINITY;
        if self.persistence == Persistence::LocalStorage {
            let _ = storage_remove(STORAGE_KEY);
        }
    }
}

/// Whether a session is in the trace sample at `rate` percent (0 to 100).
///
/// Decided from the session id, so every tab and page load of a session decides alike without
/// storing anything more. The last 12 hex digits of a UUID v4 are 48 random bits.
pub(crate) fn is_sampled(session_id: &str, rate: f64) -> bool {
    if rate >= 100.0 {
        return true;
    }
    let tail = session_id
        .get(session_id.len().saturating_sub(12)..)
        .unwrap_or("");
    let bits = tail
        .bytes()
        .try_fold(0u64, |bits, b| Some(bits << 4 | u64::from(hex_value(b)?)))
        .unwrap_or(0);
    (bits as f64) < rate / 100.0 * (1u64 << 48) as f64
}

// Parsed as bytes, by hand: `str::split`, `str::parse` and `u64::from_str_radix` bring pattern
// searchers, UTF-8 boundary checks and generic integer parsing into the payload, which every
// visitor downloads, for the few ASCII shapes this module reads.

/// What `str::parse::<u64>` accepts: an optional `+`, then at least one ASCII digit, no
/// overflow.
fn parse_u64(text: &[u8]) -> Option<u64> {
    let digits = text.strip_prefix(b"+").unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let digit = u64::from(b.wrapping_sub(b'0'));
        // Compared before multiplying: `checked_mul` on a u64 is a 128-bit multiply in wasm32.
        (digit < 10 && n <= (u64::MAX - digit) / 10).then(|| n * 10 + digit)
    })
}

/// A hex digit of either case.
fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn push_millis(out: &mut String, millis: f64) {
    let mut digits = [0u8; 20];
    let mut n = millis.max(0.0) as u64;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(d as char);
    }
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// Formats 16 random bytes as an RFC 9562 version 4 UUID.
///
/// Hand-written rather than the `uuid` crate: this is the whole of what the SDK needs,
/// and every byte of the payload is downloaded by every visitor.
fn uuid_v4(mut bytes: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_v4_sets_version_and_variant_bits() {
        assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
        assert!(is_uuid(uuid_v4([7; 16]).as_bytes()));
    }

    #[test]
    fn stored_session_round_trips_and_rejects_edits() {
        let session = Session {
            id: uuid_v4([1; 16]),
            created: 1_700_000_000_123.0,
            expire: 1_700_000_900_123.0,
        };
        assert_eq!(Session::decode(&session.encode()), Some(session));
        assert_eq!(Session::decode("id=not-a-uuid&created=1&expire=2"), None);
        assert_eq!(Session::decode("garbage"), None);
        assert_eq!(Session::decode(""), None);
    }

    #[test]
    fn session_ends_after_inactivity_or_four_hours() {
        let session = Session {
            id: uuid_v4([1; 16]),
            created: 0.0,
            expire: INACTIVITY_MS,
        };
        assert!(session.is_live(INACTIVITY_MS - 1.0));
        assert!(!session.is_live(INACTIVITY_MS));
        let extended = Session {
            expire: MAX_DURATION_MS + INACTIVITY_MS,
            ..session
        };
        assert!(!extended.is_live(MAX_DURATION_MS));
    }

    #[test]
    fn numbers_parse_like_str_parse() {
        for text in [
            "0",
            "+7",
            "1700000000123",
            "18446744073709551615",
            "18446744073709551616",
            "",
            "+",
            "-1",
            "1a",
            " 1",
            "١",
        ] {
            assert_eq!(
                parse_u64(text.as_bytes()),
                text.parse::<u64>().ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn sampling_reads_the_id_like_from_str_radix() {
        let reference = |id: &str, rate: f64| {
            let bits = u64::from_str_radix(&id[id.len() - 12..], 16).unwrap();
            rate >= 100.0 || (bits as f64) < rate / 100.0 * (1u64 << 48) as f64
        };
        for b in 0..=255u8 {
            let id = uuid_v4([b.wrapping_mul(37); 16]);
            for rate in [0.0, 0.5, 12.5, 50.0, 99.9, 100.0] {
                assert_eq!(
                    is_sampled(&id, rate),
                    reference(&id, rate),
                    "{id} at {rate}"
                );
            }
        }
    }

    #[test]
    fn sampling_follows_the_rate() {
        let ids: Vec<String> = (0..=255u8).map(|b| uuid_v4([b; 16])).collect();
        assert!(ids.iter().all(|id| is_sampled(id, 100.0)));
        assert!(ids.iter().all(|id| !is_sampled(id, 0.0)));
        let half = ids.iter().filter(|id| is_sampled(id, 50.0)).count();
        assert!((100..=156).contains(&half), "{half} of 256 sampled at 50%");
    }
}
