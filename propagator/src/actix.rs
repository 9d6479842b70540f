//! actix-web middleware: continue the caller's trace and open the service entry span.
//!
//! Wrap the app once, outermost (so that everything the service does runs inside the entry
//! span):
//!
//! ```
//! use actix_web::{App, HttpResponse, web};
//! use usertrail_propagator::actix::PropagateContext;
//! use usertrail_propagator::tracing::{User, set_user};
//!
//! let app = App::new()
//!     .wrap(PropagateContext::new())
//!     .route("/orders/{id}", web::get().to(|| async {
//!         set_user(User::new("user_123")); // tags this request's entry span
//!         HttpResponse::Ok().finish()
//!     }));
//! # let _ = app;
//! ```
//!
//! It is the framework-neutral entry point of [`server`](crate::server) on an actix-web
//! `ServiceRequest`, with what the `tower` layer does: the entry span `http.request` (target
//! `usertrail`) continues the caller's trace and is tagged `usr.id`, `account.id`,
//! `session.id` from the baggage; `http.route` is the resource pattern actix-web matched
//! (`/orders/{id}`); the request is current while its handler runs (for
//! [`set_user`](crate::tracing::set_user) and
//! [`inject_current`](crate::tracing::inject_current), and so for the `reqwest`
//! middleware); a [`RequestContext`](crate::tracing::RequestContext) is in the request's
//! extensions (`web::ReqData<RequestContext>` in a handler); and the entry span is finished
//! with the status when the response is ready. An error the service returns is finished
//! with the status of its `error_response()`, which is what actix-web sends.

use core::fmt;
use core::future::{Future, Ready, ready};
use core::pin::Pin;
use core::task::{Context, Poll};

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{Version, header};
use actix_web::{Error, HttpMessage};

use crate::Extractor;
use crate::server::{EntryConfig, EntrySpan, ServerRequest};

/// The headers of an actix-web request as an [`Extractor`] (a value that is not visible
/// ASCII is absent, as in the `http::HeaderMap` carrier).
struct Headers<'a>(&'a header::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.to_str().ok())
    }

    fn get_all<'a>(&'a self, name: &str, each: &mut dyn FnMut(&'a str)) {
        for value in self.0.get_all(name) {
            if let Ok(value) = value.to_str() {
                each(value);
            }
        }
    }
}

/// actix-web middleware (a `Transform`) that runs every request inside a service entry span
/// (see the [module docs](self)).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{actix::PropagateContext, server::EntryConfig, tracing::BaggageTagKeys};
///
/// let defaults = PropagateContext::new();
/// let tagged = PropagateContext::with_config(EntryConfig::new().with_baggage_tag_keys(BaggageTagKeys::parse("tenant")));
/// # let _ = (defaults, tagged);
/// ```
#[derive(Clone, Debug, Default)]
pub struct PropagateContext {
    config: EntryConfig,
}

impl PropagateContext {
    /// The default configuration of [`EntryConfig::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// const MIDDLEWARE: usertrail_propagator::actix::PropagateContext = usertrail_propagator::actix::PropagateContext::new();
    /// # let _ = MIDDLEWARE;
    /// ```
    pub const fn new() -> Self {
        PropagateContext {
            config: EntryConfig::new(),
        }
    }

    /// With `config` (what to extract and inject, which baggage keys to tag…).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{actix::PropagateContext, server::EntryConfig};
    ///
    /// let middleware = PropagateContext::with_config(EntryConfig::new().with_identity_in_baggage(true));
    /// # let _ = middleware;
    /// ```
    pub fn with_config(config: EntryConfig) -> Self {
        PropagateContext { config }
    }
}

impl<S, B> Transform<S, ServiceRequest> for PropagateContext
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = PropagateContextService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(PropagateContextService {
            service,
            config: self.config.clone(),
        }))
    }
}

/// The service [`PropagateContext`] wraps around the app.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::actix::PropagateContextService;
///
/// fn assert_debug<T: std::fmt::Debug>() {}
/// assert_debug::<PropagateContextService<()>>();
/// ```
#[derive(Debug)]
pub struct PropagateContextService<S> {
    service: S,
    config: EntryConfig,
}

impl<S, B> Service<ServiceRequest> for PropagateContextService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let route = req.match_pattern();
        let entry = self.config.start(
            &Headers(req.headers()),
            &server_request(&req, route.as_deref()),
        );
        req.extensions_mut().insert(entry.context());
        let inner = {
            let _entered = entry.enter();
            self.service.call(req)
        };
        ResponseFuture {
            inner,
            entry: Some(entry),
        }
    }
}

/// The HTTP server conventions' view of `req`, as the `tower` layer sees an `http::Request`:
/// `server.address` / `server.port` from the URI's authority or the `Host` header, the scheme
/// `https` when the server terminates TLS itself.
fn server_request<'a>(req: &'a ServiceRequest, route: Option<&'a str>) -> ServerRequest<'a> {
    let headers = req.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let authority = req
        .uri()
        .authority()
        .map(|a| a.as_str())
        .or_else(|| text(header::HOST));
    let query = req.query_string();
    ServerRequest::new(req.method().as_str(), req.path())
        .with_query((!query.is_empty()).then_some(query))
        .with_scheme(if req.app_config().secure() {
            "https"
        } else {
            "http"
        })
        .with_route(route)
        .with_host(authority)
        .with_protocol_version(protocol_version(req.version()))
        .with_user_agent(text(header::USER_AGENT))
}

/// `network.protocol.version` of actix-web's HTTP version.
fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

pin_project_lite::pin_project! {
    /// The future of [`PropagateContextService`]: polls the app's future inside the entry
    /// span, with the request marked current, and finishes the entry span with the status.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::actix::ResponseFuture;
    ///
    /// fn assert_debug<T: std::fmt::Debug>() {}
    /// assert_debug::<ResponseFuture<std::future::Ready<()>>>();
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        // `None` once finished; dropped unfinished, it records what it can.
        entry: Option<EntrySpan>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

impl<F, B> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<B>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = match this.entry.as_ref() {
            Some(entry) => {
                let _entered = entry.enter();
                core::task::ready!(this.inner.poll(cx))
            }
            None => core::task::ready!(this.inner.poll(cx)),
        };
        if let Some(entry) = this.entry.take() {
            let status = match &output {
                Ok(response) => response.status(),
                // What actix-web answers for it.
                Err(error) => error.as_response_error().status_code(),
            };
            entry.finish(status.as_u16());
        }
        Poll::Ready(output)
    }
}
