//! Random bytes from the browser's CSPRNG.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    // Bound directly instead of through web-sys `Window`, so the SDK also works in workers
    // and costs no `Window` glue in the payload.
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// Fills `buf` with cryptographically strong random bytes.
pub(crate) fn fill(buf: &mut [u8]) {
    get_random_values(buf);
}
