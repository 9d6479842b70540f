//! Inputs shared by the fuzz targets: header lists whose names come mostly from the ones the
//! propagator reads, so the fuzzer spends its time on values.

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use usertrail_propagator::headers;

/// Names the propagator does not have in its table: one in another case, one it ignores.
const OTHER_NAMES: [&str; 2] = ["TraceParent", "x-other"];

/// One header line.
#[derive(Arbitrary, Debug)]
pub struct Header {
    name: u8,
    /// A name of the fuzzer's own, used when `name` is past the known ones.
    other_name: String,
    value: String,
}

impl Header {
    /// The header name: one the propagator reads (its table, `headers::ALL`) most of the time.
    pub fn name(&self) -> &str {
        let known = headers::ALL.len() + OTHER_NAMES.len();
        let i = usize::from(self.name) % (known + 4);
        headers::ALL
            .get(i)
            .or_else(|| OTHER_NAMES.get(i.wrapping_sub(headers::ALL.len())))
            .copied()
            .unwrap_or(&self.other_name)
    }
}

/// A header list as `extract` takes it.
pub fn pairs(headers: &[Header]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|h| (h.name(), h.value.as_str()))
        .collect()
}
