use super::*;

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// (what the SDK sent, who sent it, expected `usr.id`, `account.id`, `session.id` with
/// their sources, why)
type Case = (
    &'static [(&'static str, &'static str)],
    Origin,
    [Option<(&'static str, &'static str)>; 3],
    &'static str,
);

#[rustfmt::skip]
const CASES: &[Case] = &[
    (&[("usr.id", "u1"), ("account.id", "a1")], Origin::Other,
     [Some(("u1", "service")), Some(("a1", "service")), None], "Datadog set_user / set_account"),
    (&[("enduser.id", "u1")], Origin::Other,
     [Some(("u1", "service")), None, None], "OpenTelemetry enduser.id"),
    (&[("user.id", "u1"), ("account.id", "a1"), ("session.id", "s1")], Origin::Other,
     [Some(("u1", "baggage")), Some(("a1", "baggage")), Some(("s1", "baggage"))], "BaggageSpanProcessor, all keys"),
    (&[("user.id", "u1")], Origin::Other,
     [Some(("u1", "baggage")), None, None], "BaggageSpanProcessor, some keys"),
    (&[("session.id", "s1")], Origin::Other,
     [None, None, Some(("s1", "baggage"))], "BaggageSpanProcessor, the session only"),
    (&[("baggage.user.id", "u1"), ("baggage.account.id", "a1"), ("baggage.session.id", "s1")], Origin::Other,
     [Some(("u1", "baggage")), Some(("a1", "baggage")), Some(("s1", "baggage"))], "baggage.<key> span tags"),
    (&[("usr.id", "u_own"), ("user.id", "u_forged"), ("baggage.user.id", "u_forged")], Origin::Other,
     [Some(("u_own", "service")), None, None], "the service's own value wins over baggage"),
    (&[("enduser.id", "u_own"), ("user.id", "u_forged")], Origin::Other,
     [Some(("u_own", "service")), None, None], "enduser.id wins over BaggageSpanProcessor"),
    (&[("usr.id", "u1"), ("usr.id.source", "service")], Origin::Usertrail,
     [Some(("u1", "baggage")), None, None], "a sender's own .source is replaced"),
    (&[("usr.id", "u1"), ("account.id", "a1"), ("session.id", "s1")], Origin::Usertrail,
     [Some(("u1", "baggage")), Some(("a1", "baggage")), Some(("s1", "baggage"))], "usertrail propagator, identity from baggage"),
    (&[("usr.id", "u1"), ("usr.role", "admin"), ("account.id", "a1"), ("account.name", "ACME")], Origin::Usertrail,
     [Some(("u1", "service")), Some(("a1", "service")), None], "usertrail propagator after set_user / set_account"),
    (&[("usr.id", ""), ("user.id", "u1")], Origin::Other,
     [Some(("u1", "baggage")), None, None], "an empty value is no identity"),
    (&[("http.route", "/x")], Origin::Other,
     [None, None, None], "no identity at all"),
];

#[test]
fn the_remap_table_row_by_row() {
    for (sent, origin, expected, why) in CASES {
        let mut t = tags(sent);
        apply(&mut t, true, *origin);
        for (attribute, want) in ["usr.id", "account.id", "session.id"].iter().zip(expected) {
            let got = t.get(*attribute).map(String::as_str);
            let got_source = t.get(&format!("{attribute}.source")).map(String::as_str);
            assert_eq!(got, want.map(|w| w.0), "{why}: {attribute} from {sent:?}");
            assert_eq!(
                got_source,
                want.map(|w| w.1),
                "{why}: {attribute}.source from {sent:?}"
            );
        }
    }
}

#[test]
fn child_spans_keep_no_identity() {
    let mut t = tags(&[
        ("usr.id", "u1"),
        ("user.id", "u1"),
        ("enduser.id", "u1"),
        ("account.id", "a1"),
        ("session.id", "s1"),
        ("baggage.user.id", "u1"),
        ("usr.id.source", "service"),
        ("db.system", "sqlite"),
    ]);
    apply(&mut t, false, Origin::Other);
    assert_eq!(t, tags(&[("db.system", "sqlite")]));
}
