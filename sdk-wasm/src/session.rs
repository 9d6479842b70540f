//! The browser session: one random UUID v4 per visit.

use core::cell::RefCell;

use crate::random;

thread_local! {
    static SESSION_ID: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The session id, created on first call.
pub(crate) fn current_id() -> String {
    SESSION_ID.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| {
                let mut bytes = [0u8; 16];
                random::fill(&mut bytes);
                uuid_v4(bytes)
            })
            .clone()
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
    use super::uuid_v4;

    #[test]
    fn uuid_v4_sets_version_and_variant_bits() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = uuid_v4([0; 16]);
        assert_eq!(id, "00000000-0000-4000-8000-000000000000");
    }
}
