//! Wire formats for usertrail: W3C Trace Context, W3C Baggage, Datadog and B3 headers.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;
