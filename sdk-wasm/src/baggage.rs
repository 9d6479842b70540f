//! The `baggage` value of one request: the identity merged into the app's own header. Written by
//! `usertrail-propagator`.

use usertrail_propagator::{ACCOUNT_ID_KEY, Baggage, SESSION_ID_KEY, USER_ID_KEY};

use crate::Identity;

/// The `baggage` value with `identity` merged into `app_baggage` (the app's own header, `""`
/// when it set none): empty when there is nothing to send.
pub(crate) fn value(identity: &Identity<'_>, app_baggage: &str) -> String {
    // What `Identity::merge_into` does, without building one: the ids here are never empty (a
    // session id is a UUID, js/context.js refuses an empty id).
    let mut ids = [(SESSION_ID_KEY, identity.session_id); 3];
    let mut n = 1;
    for (key, id) in [
        (USER_ID_KEY, identity.user_id),
        (ACCOUNT_ID_KEY, identity.account_id),
    ] {
        if let Some(id) = id {
            ids[n] = (key, id);
            n += 1;
        }
    }
    // The app's own members stay and its value wins for a key it already has; over the W3C
    // limits, ours are the ones left out.
    Baggage::extend_header(app_baggage, &ids[..n])
}
