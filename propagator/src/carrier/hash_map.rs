//! The seam for `std::collections::HashMap` (feature `std`).

use super::{Extractor, Injector};
use alloc::string::String;
use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};
use std::collections::HashMap;

/// Keys must be stored lowercase.
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<K: Borrow<str> + Hash + Eq, V: AsRef<str>, S: BuildHasher> Extractor for HashMap<K, V, S> {
    #[inline]
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(AsRef::as_ref)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<S: BuildHasher> Injector for HashMap<String, String, S> {
    #[inline]
    fn set(&mut self, name: &'static str, value: String) {
        self.insert(String::from(name), value);
    }
}
