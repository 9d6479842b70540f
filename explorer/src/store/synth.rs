//! Synthetic spans shaped like the demo's: for the store's tests and benchmark, and for
//! `usertrail-demo --synthetic N`, which fills the explorer with history.
//!
//! Traces are a product listing (the `checkout` entry span and one child) or a checkout
//! (`checkout`: entry span, `cart.validate`, `inventory.reserve`, the client span to
//! payments; `payments`: entry span with `usr.role`, `fraud.check`, `processor.authorize`),
//! from 5,000 users on 800 accounts (one in ten `premium_*`), over the 24 hours before
//! `end_ns`. The same faults as the live demo: `premium_*` accounts paying with amex get a
//! 502 from payments, a gift card in the cart fails the inventory step, and the payments of
//! `account_789` (and a few others) take more than 5 s.

use std::collections::BTreeMap;

use super::{Span, TimeRange};

/// A small, fast, seedable random number generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        #[allow(clippy::cast_precision_loss)]
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo).unwrap_or(1).max(1))).unwrap_or(0)
    }
}

/// Users in the synthetic data.
pub const USERS: u64 = 5_000;
/// Accounts in the synthetic data.
pub const ACCOUNTS: u64 = 800;

/// The user with index `i`: the demo's named users first, then `user_<n>`.
pub fn user(i: u64) -> (String, String, &'static str) {
    match i {
        0 => ("user_123".into(), "account_456".into(), "customer"),
        1 => ("vip_user_1".into(), "premium_acme".into(), "vip"),
        2 => ("vip_user_2".into(), "premium_globex".into(), "vip"),
        3 => ("user_789".into(), "account_789".into(), "buyer"),
        4 => ("user_456".into(), "account_456".into(), "customer"),
        _ => {
            let account = i % ACCOUNTS;
            let account_id = if account % 10 == 0 {
                format!("premium_{account}")
            } else {
                format!("account_{account}")
            };
            let role = if account % 10 == 0 { "vip" } else { "customer" };
            (format!("user_{}", 1000 + i), account_id, role)
        }
    }
}

fn hex(rng: &mut Rng, digits: usize) -> String {
    let mut s = String::with_capacity(digits);
    while s.len() < digits {
        s.push_str(&format!("{:016x}", rng.next_u64()));
    }
    s.truncate(digits);
    s
}

fn tags(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

const CARDS: &[&str] = &["visa", "mastercard", "amex"];

/// One trace's spans.
pub fn trace(rng: &mut Rng, start_ns: i64) -> Vec<Span> {
    let trace_id = hex(rng, 32);
    let browser_span = hex(rng, 16);
    let (usr_id, account_id, role) = user(rng.below(USERS));
    // Some requests come from visitors who are not signed in.
    let signed_in = !rng.chance(0.05);
    let session_id = format!(
        "{}-{}-4{}-a{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    );
    let identity = |mut t: BTreeMap<String, String>| {
        t.insert("session.id".into(), session_id.clone());
        if signed_in {
            t.insert("usr.id".into(), usr_id.clone());
            t.insert("account.id".into(), account_id.clone());
        }
        t
    };
    let ms = 1_000_000i64;
    let checkout_id = hex(rng, 16);
    let mut spans = Vec::with_capacity(7);

    if rng.chance(0.3) {
        let dur = rng.range(4 * ms, 40 * ms);
        spans.push(Span::new(
            trace_id.clone(),
            checkout_id.clone(),
            Some(browser_span),
            "checkout".into(),
            "http.request".into(),
            "server",
            start_ns,
            dur,
            false,
            identity(tags(&[
                ("http.request.method", "GET".into()),
                ("url.path", "/api/products".into()),
                ("http.response.status_code", "200".into()),
            ])),
        ));
        spans.push(Span::new(
            trace_id,
            hex(rng, 16),
            Some(checkout_id),
            "checkout".into(),
            "catalog.query".into(),
            "internal",
            start_ns + ms,
            dur - 2 * ms,
            false,
            tags(&[("products", "8".into())]),
        ));
        return spans;
    }

    let card = CARDS[usize::try_from(rng.below(3)).unwrap_or(0)];
    let items = rng.range(1, 6);
    let gift_card = rng.chance(0.04);
    let declined = signed_in && account_id.starts_with("premium_") && card == "amex";
    let slow = signed_in && (account_id == "account_789" || rng.chance(0.004));

    let validate = rng.range(ms, 3 * ms);
    let reserve = rng.range(2 * ms, 10 * ms);
    let fraud = if slow {
        rng.range(5_200 * ms, 6_500 * ms)
    } else {
        rng.range(10 * ms, 80 * ms)
    };
    let authorize = rng.range(20 * ms, 120 * ms);
    let payments_total = fraud + authorize + 2 * ms;
    let client_total = payments_total + 2 * ms;
    let checkout_total = if gift_card {
        validate + reserve + ms
    } else {
        validate + reserve + client_total + 3 * ms
    };
    let status = if gift_card {
        500
    } else if declined {
        502
    } else {
        200
    };

    spans.push(Span::new(
        trace_id.clone(),
        checkout_id.clone(),
        Some(browser_span),
        "checkout".into(),
        "http.request".into(),
        "server",
        start_ns,
        checkout_total,
        status >= 500,
        identity(tags(&[
            ("http.request.method", "POST".into()),
            ("url.path", "/api/checkout".into()),
            ("http.response.status_code", status.to_string()),
        ])),
    ));
    let mut t = start_ns + ms;
    spans.push(Span::new(
        trace_id.clone(),
        hex(rng, 16),
        Some(checkout_id.clone()),
        "checkout".into(),
        "cart.validate".into(),
        "internal",
        t,
        validate,
        false,
        tags(&[("items", items.to_string())]),
    ));
    t += validate;
    spans.push(Span::new(
        trace_id.clone(),
        hex(rng, 16),
        Some(checkout_id.clone()),
        "checkout".into(),
        "inventory.reserve".into(),
        "internal",
        t,
        reserve,
        gift_card,
        tags(&[("items", items.to_string())]),
    ));
    t += reserve;
    if gift_card {
        return spans;
    }
    let client_id = hex(rng, 16);
    spans.push(Span::new(
        trace_id.clone(),
        client_id.clone(),
        Some(checkout_id),
        "checkout".into(),
        "http.client.request".into(),
        "client",
        t,
        client_total,
        declined,
        tags(&[
            ("http.request.method", "POST".into()),
            ("url.path", "/charge".into()),
            ("server.address", "127.0.0.1".into()),
            ("http.response.status_code", status.to_string()),
        ]),
    ));
    t += ms;
    let payments_id = hex(rng, 16);
    let mut payment_tags = identity(tags(&[
        ("http.request.method", "POST".into()),
        ("url.path", "/charge".into()),
        ("http.response.status_code", status.to_string()),
    ]));
    if signed_in {
        payment_tags.insert("usr.role".into(), role.into());
    }
    spans.push(Span::new(
        trace_id.clone(),
        payments_id.clone(),
        Some(client_id),
        "payments".into(),
        "http.request".into(),
        "server",
        t,
        payments_total,
        declined,
        payment_tags,
    ));
    t += ms;
    spans.push(Span::new(
        trace_id.clone(),
        hex(rng, 16),
        Some(payments_id.clone()),
        "payments".into(),
        "fraud.check".into(),
        "internal",
        t,
        fraud,
        false,
        tags(&[("card", card.into())]),
    ));
    t += fraud;
    spans.push(Span::new(
        trace_id,
        hex(rng, 16),
        Some(payments_id),
        "payments".into(),
        "processor.authorize".into(),
        "internal",
        t,
        authorize,
        declined,
        tags(&[("card", card.into())]),
    ));
    spans
}

/// About `n` spans (whole traces), spread over the 24 hours before `end_ns`, handed to
/// `each` in chunks of about `chunk`.
pub fn generate(n: usize, seed: u64, end_ns: i64, chunk: usize, mut each: impl FnMut(&[Span])) {
    let mut rng = Rng::new(seed);
    let day = 24 * 3600 * 1_000_000_000i64;
    let mut buf = Vec::with_capacity(chunk + 8);
    let mut made = 0;
    while made < n {
        let start = end_ns - day + rng.range(0, day);
        let spans = trace(&mut rng, start);
        made += spans.len();
        buf.extend(spans);
        if buf.len() >= chunk {
            each(&buf);
            buf.clear();
        }
    }
    if !buf.is_empty() {
        each(&buf);
    }
}

/// Queries over every kind of term and operator, each with something to find in generated
/// spans: the stores' tests check their answers (against an oracle, and against each other).
pub const QUERIES: &[&str] = &[
    "@usr.id:user_123 service:checkout status:error",
    "@usr.id:user_123 service:checkout",
    "@account.id:premium_*",
    "@account.id:*_4*",
    "@duration:>5s",
    "@duration:<=3ms",
    "service:payments status:error",
    "service:payments -status:error",
    "-@usr.id:*",
    "@usr.role:vip",
    "@usr.role:v*",
    "-@usr.role:vip service:payments",
    "@card:amex status:error",
    "@http.response.status_code:>=500",
    "@http.response.status_code:502",
    "@error:true",
    "resource:\"POST /api/checkout\" status:error",
    "name:fraud.check @duration:>1s",
    "kind:client OR name:catalog.query",
    "service:checkout (status:error OR @duration:>2s) -@account.id:premium_*",
    "NOT (service:checkout OR service:payments)",
    "@items:>=4 name:cart.validate",
    "@usr.id:user_123 trace(status:error OR @duration:>1s)",
    "@account.id:premium_* trace(@card:amex)",
    "service:checkout -trace(status:error)",
    "trace(name:fraud.check @duration:>5s) OR trace(@items:>=5)",
    "kind:server trace(-@usr.id:* kind:server)",
];

/// The end of the stores' test data: a fixed instant, so that time ranges in tests are exact.
pub const TEST_END_NS: i64 = 1_800_000_000_000_000_000;

/// Time ranges the stores' tests ask over: every span, the last hour before [`TEST_END_NS`],
/// a range in the middle of the day, and one open at the start.
pub fn test_ranges() -> impl Iterator<Item = TimeRange> {
    let hour = 3_600_000_000_000;
    [
        TimeRange::ALL,
        TimeRange::last(std::time::Duration::from_secs(3600), TEST_END_NS),
        TimeRange {
            from_ns: Some(TEST_END_NS - 10 * hour),
            to_ns: Some(TEST_END_NS - 4 * hour),
        },
        TimeRange {
            from_ns: None,
            to_ns: Some(TEST_END_NS - 20 * hour),
        },
    ]
    .into_iter()
}

/// The searches the stores' benchmarks time (the explorer's seed searches), entry spans only.
pub const BENCH_SEARCHES: &[&str] = &[
    "@usr.id:user_123 service:checkout status:error",
    "@account.id:premium_*",
    "@duration:>5s",
    "@usr.id:user_123 service:checkout",
    "service:payments status:error",
];

/// At least `n` spans (whole traces) ending at [`TEST_END_NS`], the same for the same `seed`:
/// what the stores' tests load.
pub fn spans(n: usize, seed: u64) -> Vec<Span> {
    let mut all = Vec::new();
    generate(n, seed, TEST_END_NS, 500, |chunk| {
        all.extend_from_slice(chunk)
    });
    all
}
