//! `checkout`: the API the shop page calls, cross-origin. It lists products and takes orders,
//! calling `payments` through the propagator's `reqwest` middleware, which continues the
//! trace and passes the browser's baggage (`session.id`, `user.id`, `account.id`) on, and then,
//! when there is one, the Python `shipping` service (`www/shipping`) the same way.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;
use usertrail_propagator::PropagatorType;
use usertrail_propagator::cors::allow_header_names;
use usertrail_propagator::tower::PropagateContextLayer;
use usertrail_propagator::tracing::RequestContext;

use crate::catalog::{CARDS, GIFT_CARD, PRODUCTS};
use crate::dispatch::WithDispatchLayer;

/// What the shop page's SDK sends (its default `propagatorTypes`) plus `baggage`.
const PROPAGATORS: &[PropagatorType] = &[PropagatorType::TraceContext, PropagatorType::Datadog];

#[derive(Clone)]
struct Checkout {
    payments: String,
    shipping: Option<String>,
    client: ClientWithMiddleware,
}

/// The checkout router: `GET /api/products`, `POST /api/checkout`, `GET /api/orders/{id}`, behind
/// `PropagateContextLayer`, this service's subscriber, and CORS for the shop's origins.
pub fn router(
    payments_url: String,
    shipping_url: Option<String>,
    shop_origins: Vec<HeaderValue>,
    dispatch: tracing::Dispatch,
) -> Router {
    let client = ClientBuilder::new(
        reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a plain HTTP client builds"),
    )
    .with(usertrail_propagator::reqwest::PropagateContextMiddleware::new())
    .build();
    let mut allow = allow_header_names(PROPAGATORS);
    allow.push(header::CONTENT_TYPE);
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(shop_origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(allow)
        .max_age(Duration::from_secs(600));
    Router::new()
        .route("/api/products", get(products))
        .route("/api/checkout", post(checkout))
        .route("/api/orders/{id}", get(order_status))
        .with_state(Checkout {
            payments: payments_url,
            shipping: shipping_url,
            client,
        })
        .layer(PropagateContextLayer::new())
        .layer(WithDispatchLayer::new(dispatch))
        // Outermost: a preflight is answered here and never becomes a traced request.
        .layer(cors)
}

/// The trace headers this request came with, for the page to show what went on the wire.
fn received(headers: &HeaderMap) -> Value {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    json!({
        "traceparent": get("traceparent"),
        "tracestate": get("tracestate"),
        "baggage": get("baggage"),
    })
}

fn trace_id() -> Option<String> {
    RequestContext::current().map(|cx| cx.trace_id().to_string())
}

async fn products(headers: HeaderMap) -> Json<Value> {
    let list = async {
        tokio::time::sleep(Duration::from_millis(3)).await;
        PRODUCTS.to_vec()
    }
    .instrument(tracing::info_span!(
        "catalog.query",
        products = PRODUCTS.len()
    ))
    .await;
    Json(json!({
        "products": list,
        "trace_id": trace_id(),
        "received": received(&headers),
    }))
}

/// An order's status. The demo keeps no orders: ids it handed out (`ord_…`) are confirmed.
/// A route with a parameter, so its spans are named `GET /api/orders/{id}`, one name for
/// every order.
async fn order_status(Path(id): Path<String>, headers: HeaderMap) -> Response {
    let known = id.starts_with("ord_");
    async {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    .instrument(tracing::info_span!("order.lookup", found = known))
    .await;
    if known {
        reply(
            StatusCode::OK,
            json!({ "order_id": id, "status": "confirmed" }),
            &headers,
        )
    } else {
        reply(
            StatusCode::NOT_FOUND,
            json!({ "error": "no such order" }),
            &headers,
        )
    }
}

#[derive(Deserialize)]
struct Line {
    id: String,
    #[serde(default = "one")]
    qty: u64,
}

fn one() -> u64 {
    1
}

#[derive(Deserialize)]
struct Order {
    items: Vec<Line>,
    card: String,
}

fn reply(status: StatusCode, body: Value, headers: &HeaderMap) -> Response {
    let mut body = body;
    body["trace_id"] = json!(trace_id());
    body["received"] = received(headers);
    (status, Json(body)).into_response()
}

async fn checkout(
    State(state): State<Checkout>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let order: Order = match serde_json::from_slice(&body) {
        Ok(order) => order,
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("bad order: {e}") }),
                &headers,
            );
        }
    };
    let item_count: u64 = order.items.iter().map(|l| l.qty).sum();

    // 1. The cart: known products, a known card.
    let validated = async {
        tokio::time::sleep(Duration::from_millis(2)).await;
        if order.items.is_empty() {
            return Err("the cart is empty".to_string());
        }
        if !CARDS.contains(&order.card.as_str()) {
            return Err(format!("unknown card `{}`", order.card));
        }
        let mut total = 0;
        for line in &order.items {
            match PRODUCTS.iter().find(|p| p.id == line.id) {
                Some(p) => total += p.price_cents * line.qty,
                None => return Err(format!("unknown product `{}`", line.id)),
            }
        }
        Ok(total)
    }
    .instrument(tracing::info_span!("cart.validate", items = item_count))
    .await;
    let amount_cents = match validated {
        Ok(total) => total,
        Err(message) => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({ "error": message }),
                &headers,
            );
        }
    };

    // 2. Inventory: the gift card service is down (a planted fault).
    let reserved = async {
        tokio::time::sleep(Duration::from_millis(4)).await;
        if order.items.iter().any(|l| l.id == GIFT_CARD) {
            tracing::error!("gift card service unavailable");
            return Err("inventory: the gift card service is unavailable");
        }
        Ok(())
    }
    .instrument(tracing::info_span!("inventory.reserve", items = item_count))
    .await;
    if let Err(message) = reserved {
        return reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": message }),
            &headers,
        );
    }

    // 3. Payments, through the propagator's middleware (client span, headers, baggage).
    let charge = json!({
        "amount_cents": amount_cents,
        "card": order.card,
        "items": item_count,
    });
    let sent = state
        .client
        .post(format!("{}/charge", state.payments))
        .header(header::CONTENT_TYPE, "application/json")
        .body(charge.to_string())
        .send()
        .await;
    let (status, payment) = match sent {
        Ok(response) => {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(json!({ "error": text })),
            )
        }
        Err(e) => {
            return reply(
                StatusCode::BAD_GATEWAY,
                json!({ "error": format!("payments unreachable: {e}") }),
                &headers,
            );
        }
    };
    if !status.is_success() {
        let why = payment["error"]
            .as_str()
            .unwrap_or("payment failed")
            .to_string();
        return reply(
            StatusCode::BAD_GATEWAY,
            json!({ "error": format!("payment failed: {why}"), "payments_status": status.as_u16() }),
            &headers,
        );
    }

    // 4. A shipping quote, when there is a shipping service: the order stands without one.
    let shipping = match &state.shipping {
        Some(url) => quote_shipping(&state.client, url, item_count).await,
        None => Value::Null,
    };

    // 5. The order.
    let order_id = async {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let id = trace_id().unwrap_or_default();
        format!("ord_{}", id.get(..8).unwrap_or(&id))
    }
    .instrument(tracing::info_span!("order.save"))
    .await;
    reply(
        StatusCode::OK,
        json!({
            "order_id": order_id,
            "amount_cents": amount_cents,
            "charge_id": payment["charge_id"],
            "shipping": shipping,
        }),
        &headers,
    )
}

/// `GET {url}/quote?items=N` on the shipping service; `null` (and a warning on the span) when
/// it fails.
async fn quote_shipping(client: &ClientWithMiddleware, url: &str, items: u64) -> Value {
    let answer = client
        .get(format!("{}/quote?items={items}", url.trim_end_matches('/')))
        .send()
        .await;
    match answer {
        Ok(response) if response.status().is_success() => {
            let text = response.text().await.unwrap_or_default();
            serde_json::from_str(&text).unwrap_or(Value::Null)
        }
        Ok(response) => {
            tracing::warn!(status = response.status().as_u16(), "shipping quote failed");
            Value::Null
        }
        Err(e) => {
            tracing::warn!(error = %e, "shipping unreachable");
            Value::Null
        }
    }
}
