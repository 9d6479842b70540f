//! `payments`: called by checkout only. Its entry span is tagged from the baggage checkout
//! passed on, and it adds what only the backend knows with `set_user` (`usr.role`). Two
//! planted faults: amex is declined for `premium_*` accounts (502), and the fraud check of
//! `account_789` takes 5–6 s.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;
use tracing::Instrument;
use usertrail_propagator::axum::Identity;
use usertrail_propagator::tower::PropagateContextLayer;
use usertrail_propagator::tracing::{User, set_user};

use crate::catalog::{declined, role_of, slow_fraud_check};
use crate::dispatch::WithDispatchLayer;

/// The payments router: `POST /charge`, behind `PropagateContextLayer` and this service's
/// subscriber.
pub fn router(dispatch: tracing::Dispatch) -> Router {
    Router::new()
        .route("/charge", post(charge))
        .layer(PropagateContextLayer::new())
        .layer(WithDispatchLayer::new(dispatch))
}

#[derive(Deserialize)]
struct Charge {
    amount_cents: u64,
    card: String,
}

/// A pseudo-random number in `lo..hi` from the current time (no RNG dependency needed).
fn jitter(lo: u64, hi: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    lo + u64::from(nanos) % (hi - lo).max(1)
}

async fn charge(Identity(identity): Identity, body: axum::body::Bytes) -> Response {
    let Ok(charge) = serde_json::from_slice::<Charge>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "bad charge" })),
        )
            .into_response();
    };
    let account = identity.account_id().map(str::to_owned);
    if let Some(user_id) = identity.user_id() {
        // The backend path: a field the browser does not send. (A real service would take
        // the user from its session; the demo trusts the baggage's id to look the role up.)
        set_user(User::new(user_id).with_role(role_of(user_id)));
    }

    let fraud_ms = if slow_fraud_check(account.as_deref()) {
        jitter(5_200, 6_000)
    } else {
        jitter(8, 40)
    };
    async {
        tokio::time::sleep(Duration::from_millis(fraud_ms)).await;
    }
    .instrument(tracing::info_span!("fraud.check", card = %charge.card))
    .await;

    let authorized = async {
        tokio::time::sleep(Duration::from_millis(jitter(15, 60))).await;
        if declined(account.as_deref(), &charge.card) {
            tracing::error!("processor declined: amex routing is down for premium accounts");
            return Err("the card processor declined the payment (amex, premium account)");
        }
        Ok(())
    }
    .instrument(tracing::info_span!("processor.authorize", card = %charge.card))
    .await;
    match authorized {
        Ok(()) => Json(json!({
            "charge_id": format!("ch_{}", jitter(100_000, 999_999)),
            "amount_cents": charge.amount_cents,
        }))
        .into_response(),
        Err(message) => {
            (StatusCode::BAD_GATEWAY, Json(json!({ "error": message }))).into_response()
        }
    }
}
