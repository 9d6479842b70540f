//! The demo's servers: the shop and explorer ([`web`]), [`checkout`], [`payments`], and a
//! [`third_party`] that must see no trace headers.

pub mod checkout;
pub mod payments;
pub mod third_party;
pub mod web;
