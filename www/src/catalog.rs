//! The demo's world: who can sign in, what the shop sells, and the faults planted in the
//! services so that the explorer has something to find.
//!
//! | fault | where | who it hurts |
//! |---|---|---|
//! | the card processor declines **amex** for **`premium_*`** accounts: payments answers 502, checkout 502 | `payments`, span `processor.authorize` | `vip_user_1` (`premium_acme`), `vip_user_2` (`premium_globex`) when they pay with amex |
//! | the fraud check of **`account_789`** takes 5–6 s | `payments`, span `fraud.check` | `user_789` |
//! | a **gift card** in the cart fails the inventory step: checkout answers 500 | `checkout`, span `inventory.reserve` | whoever buys one |

use serde::Serialize;

/// A user of the sign-in picker.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct DemoUser {
    /// `usr.id`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// `account.id`.
    pub account_id: &'static str,
    /// Account display name.
    pub account_name: &'static str,
    /// `usr.role`, as only the payments service knows it.
    pub role: &'static str,
    /// What happens to this user, for the picker's hint.
    pub note: &'static str,
}

/// The users of the sign-in picker.
pub const USERS: &[DemoUser] = &[
    DemoUser {
        id: "user_123",
        name: "Ada Lovelace",
        account_id: "account_456",
        account_name: "Analytical Engines Ltd",
        role: "customer",
        note: "everything works",
    },
    DemoUser {
        id: "user_456",
        name: "Charles Babbage",
        account_id: "account_456",
        account_name: "Analytical Engines Ltd",
        role: "customer",
        note: "everything works",
    },
    DemoUser {
        id: "vip_user_1",
        name: "Grace Hopper",
        account_id: "premium_acme",
        account_name: "ACME (premium)",
        role: "vip",
        note: "premium account",
    },
    DemoUser {
        id: "vip_user_2",
        name: "Margaret Hamilton",
        account_id: "premium_globex",
        account_name: "Globex (premium)",
        role: "vip",
        note: "premium account",
    },
    DemoUser {
        id: "user_789",
        name: "Alan Turing",
        account_id: "account_789",
        account_name: "Bletchley Supplies",
        role: "buyer",
        note: "big account",
    },
];

/// The `usr.role` the payments service knows for a user (`customer` for anyone else).
pub fn role_of(user_id: &str) -> &'static str {
    USERS
        .iter()
        .find(|u| u.id == user_id)
        .map_or("customer", |u| u.role)
}

/// A product of the shop.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Product {
    /// Stable id.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Price in cents.
    pub price_cents: u64,
}

/// The id of the product whose inventory step always fails.
pub const GIFT_CARD: &str = "gift-card";

/// What the shop sells.
pub const PRODUCTS: &[Product] = &[
    Product {
        id: "beans",
        name: "Espresso beans, 1 kg",
        price_cents: 2_400,
    },
    Product {
        id: "grinder",
        name: "Burr grinder",
        price_cents: 12_900,
    },
    Product {
        id: "kettle",
        name: "Gooseneck kettle",
        price_cents: 5_900,
    },
    Product {
        id: "mug",
        name: "Stoneware mug",
        price_cents: 1_400,
    },
    Product {
        id: "scale",
        name: "Brew scale",
        price_cents: 3_900,
    },
    Product {
        id: GIFT_CARD,
        name: "Gift card",
        price_cents: 5_000,
    },
];

/// Payment cards the checkout offers.
pub const CARDS: &[&str] = &["visa", "mastercard", "amex"];

/// Whether the processor declines this payment (payments answers 502).
pub fn declined(account_id: Option<&str>, card: &str) -> bool {
    account_id.is_some_and(|a| a.starts_with("premium_")) && card == "amex"
}

/// Whether the fraud check of this account is slow (5–6 s).
pub fn slow_fraud_check(account_id: Option<&str>) -> bool {
    account_id == Some("account_789")
}
