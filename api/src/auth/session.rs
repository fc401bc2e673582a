//! Browser sessions (SPEC §9): the session is an ordinary token carried in
//! an `HttpOnly` cookie, and every change made with it must prove that
//! herd's own page sent it.
//!
//! The proof is a CSRF token derived from the session's secret: a page can
//! only learn it from a same-origin answer (`GET /api/v1/auth/session`),
//! so no table is needed for it, and it ends with the session.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::problem::ApiError;

pub const COOKIE: &str = "herd_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The proof a page sends with every change made with `secret`.
pub fn csrf_token(secret: &str) -> String {
    hex::encode(Sha256::digest(format!("herd-csrf\0{secret}").as_bytes()))
}

/// The session secret a request's cookie carries, if any.
pub fn secret_of(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// How session cookies are made: `always_secure` is `HERD_COOKIE_SECURE`.
#[derive(Clone, Copy)]
pub struct CookiePolicy {
    pub always_secure: bool,
}

impl CookiePolicy {
    /// The cookie that carries a new session. `Secure` whenever the client
    /// reached us over TLS (directly or, by its headers, through a proxy)
    /// or the operator says so.
    pub fn cookie(self, req: &HttpRequest, secret: &str, max_age_seconds: i64) -> Cookie<'static> {
        Cookie::build(COOKIE, secret.to_owned())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.always_secure || req.connection_info().scheme() == "https")
            .max_age(Duration::seconds(max_age_seconds))
            .finish()
    }

    /// The cookie that ends a session in the browser.
    pub fn removal(self, req: &HttpRequest) -> Cookie<'static> {
        let mut c = self.cookie(req, "", 0);
        c.make_removal();
        c
    }
}

fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the browser says the request came from another site: its
/// `Sec-Fetch-Site`, or an `Origin` whose host is not the one asked (the
/// `Host` header, or the host a proxy says the client asked for in
/// `Forwarded` or `X-Forwarded-Host`, for a proxy that rewrites `Host`).
fn from_another_origin(req: &HttpRequest) -> bool {
    let headers = req.headers();
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let info = req.connection_info();
    let asked = [host, Some(info.host())];
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    // `Origin: null` (a sandboxed or file page) is another origin.
    origin_host.is_none_or(|o| {
        !asked
            .into_iter()
            .flatten()
            .any(|h| o.eq_ignore_ascii_case(h))
    })
}

/// Why a change must be refused before any handler runs, if it must.
fn refusal(req: &HttpRequest) -> Option<&'static str> {
    if !changes_something(req.method()) || req.headers().contains_key(header::AUTHORIZATION) {
        return None;
    }
    if from_another_origin(req) {
        return Some("changes are not accepted from pages of another origin");
    }
    let secret = secret_of(req)?;
    let sent = req
        .headers()
        .get(CSRF_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let expected = csrf_token(&secret);
    if bool::from(sent.ct_eq(expected.as_bytes())) {
        None
    } else {
        Some("a change made with the session cookie needs the session's X-CSRF-Token header")
    }
}

/// Refuses (`403`) a change that a browser sent from another origin, and
/// one authenticated by the session cookie without the CSRF proof. Bearer
/// requests (the `Authorization` header) are never a browser's ambient
/// credentials, so they pass.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(reason) = refusal(req.request()) {
        return Err(ApiError::Forbidden(reason.into()).into());
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn post() -> TestRequest {
        TestRequest::post()
            .uri("/api/v1/guests")
            .insert_header((header::HOST, "herd.example:8080"))
    }

    #[test]
    fn csrf_token_depends_on_the_secret() {
        assert_ne!(csrf_token("a"), csrf_token("b"));
        assert_eq!(csrf_token("a"), csrf_token("a"));
        assert!(!csrf_token("herd_secret").contains("secret"));
    }

    #[test]
    fn a_cookie_change_needs_the_proof() {
        let cookie = Cookie::new(COOKIE, "herd_s");
        let bare = post().cookie(cookie.clone()).to_http_request();
        assert!(refusal(&bare).is_some());
        let wrong = post()
            .cookie(cookie.clone())
            .insert_header((CSRF_HEADER, "nope"))
            .to_http_request();
        assert!(refusal(&wrong).is_some());
        let proven = post()
            .cookie(cookie)
            .insert_header((CSRF_HEADER, csrf_token("herd_s")))
            .insert_header((header::ORIGIN, "http://herd.example:8080"))
            .to_http_request();
        assert_eq!(refusal(&proven), None);
    }

    #[test]
    fn other_origins_are_refused_even_without_a_cookie() {
        for origin in ["http://evil.example", "null", "http://herd.example:9090"] {
            let req = post()
                .insert_header((header::ORIGIN, origin))
                .to_http_request();
            assert!(refusal(&req).is_some(), "{origin}");
        }
        let cross = post()
            .insert_header(("sec-fetch-site", "cross-site"))
            .to_http_request();
        assert!(refusal(&cross).is_some());
    }

    #[test]
    fn a_proxy_that_rewrites_host_may_name_the_asked_host() {
        let req = post()
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .insert_header(("x-forwarded-host", "herd.example"))
            .insert_header((header::ORIGIN, "https://herd.example"))
            .to_http_request();
        assert!(!from_another_origin(&req));
        let req = post()
            .insert_header((header::HOST, "127.0.0.1:8080"))
            .insert_header((header::ORIGIN, "https://herd.example"))
            .to_http_request();
        assert!(from_another_origin(&req));
    }

    #[test]
    fn reads_and_bearer_requests_pass() {
        let cookie = Cookie::new(COOKIE, "herd_s");
        let get = TestRequest::get()
            .cookie(cookie.clone())
            .insert_header((header::ORIGIN, "http://evil.example"))
            .to_http_request();
        assert_eq!(refusal(&get), None);
        let bearer = post()
            .cookie(cookie)
            .insert_header((header::AUTHORIZATION, "Bearer herd_x"))
            .insert_header((header::ORIGIN, "http://evil.example"))
            .to_http_request();
        assert_eq!(refusal(&bearer), None);
        assert_eq!(refusal(&post().to_http_request()), None);
    }
}
