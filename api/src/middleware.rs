//! What every request goes through: a request id (see [`RequestId`]), one
//! log line, metrics, a
//! panic caught as a 500, and any error answer turned into problem+json.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use futures_util::FutureExt;

use crate::problem::{ApiError, PROBLEM_JSON};
use crate::request_id::RequestId;
use crate::state::AppState;

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = RequestId::from_client(
        req.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
    );
    let request_id = id.as_str().to_owned();
    req.extensions_mut().insert(id);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let path = req.path().to_owned();

    // The request cannot be cloned before routing, so a panic or an error
    // escaping the handler is answered by actix from our error type.
    let outcome = AssertUnwindSafe(next.call(req)).catch_unwind().await;
    let mut res = match outcome {
        Ok(Ok(res)) => as_problem(res.map_into_boxed_body()),
        Ok(Err(e)) => {
            tracing::info!(request_id, %method, %path, status = e.as_response_error().status_code().as_u16(), "request failed");
            return Err(e);
        }
        Err(_) => {
            tracing::error!(request_id, %method, %path, "handler panicked");
            if let Some(state) = &state {
                state
                    .metrics
                    .observe("panic", &method, 500, started.elapsed().as_secs_f64());
            }
            return Err(ApiError::Internal(
                "the server failed while handling this request; it has been logged".into(),
            )
            .into());
        }
    };
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert(header::HeaderName::from_static("x-request-id"), v);
    }
    // What SPEC §9 asks of the page's answers suits every answer.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );

    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    if let Some(state) = state {
        state
            .metrics
            .observe(&route, &method, status, elapsed.as_secs_f64());
    }
    tracing::info!(
        request_id,
        %method,
        %path,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(res)
}

/// Error answers made outside our handlers (actix's own, extractors we did
/// not configure) become problems too, keeping their message as the detail.
fn as_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return res;
    }
    let detail = res
        .response()
        .error()
        .map(|e| e.to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let mut problem = ApiError::Internal(detail).problem();
    problem.status = status.as_u16();
    problem.title = status.canonical_reason().unwrap_or("Error").into();
    let mut replacement = crate::problem::problem_response(&problem);
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    res.into_response(replacement)
}
