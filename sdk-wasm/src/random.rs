//! Random bytes from the browser's CSPRNG.
//!
//! Each call into `crypto.getRandomValues` costs about 1.5 µs in Chromium, as much as the rest
//! of a request's header work, so bytes are fetched 1 KiB at a time and handed out from a pool
//! that each byte leaves once (never reused).

use core::cell::RefCell;

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    // Bound directly instead of through web-sys `Window`, so the SDK also works in workers
    // and costs no `Window` glue in the payload.
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// 42 requests' worth of trace and span ids (24 bytes each).
const POOL_BYTES: usize = 1008;

struct Pool {
    bytes: [u8; POOL_BYTES],
    /// Bytes before `next` have been handed out.
    next: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { bytes: [0; POOL_BYTES], next: POOL_BYTES })
    };
}

/// Fills `buf` (at most [`POOL_BYTES`] long) with cryptographically strong random bytes.
pub(crate) fn fill(buf: &mut [u8]) {
    POOL.with(|pool| {
        let Ok(mut pool) = pool.try_borrow_mut() else {
            return get_random_values(buf);
        };
        if POOL_BYTES - pool.next < buf.len() {
            get_random_values(&mut pool.bytes);
            pool.next = 0;
        }
        let start = pool.next;
        let Some(bytes) = pool.bytes.get(start..start + buf.len()) else {
            return get_random_values(buf);
        };
        buf.copy_from_slice(bytes);
        pool.next = start + buf.len();
    });
}
