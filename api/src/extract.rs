//! What requests carry, read once at the edge: the caller (from the bearer
//! token, looked up in the database) and JSON bodies, with the errors of
//! actix's extractors turned into problems.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use crate::auth::{Bearer, Caller};
use crate::problem::ApiError;
use crate::state::AppState;

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = Bearer::from_request(req, payload).into_inner();
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::Internal("application state missing".into()))?;
            let (bearer, now) = (bearer?, state.now_ms());
            state.db(move |c| bearer.resolve(c, now)).await
        })
    }
}

/// A JSON body that may be absent (empty means all defaults); a body that
/// is present is checked like any other.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| json_error(JsonPayloadError::Deserialize(e)))
}

pub fn json_error(e: JsonPayloadError) -> ApiError {
    match e {
        JsonPayloadError::OverflowKnownLength { length, limit } => ApiError::PayloadTooLarge(
            format!("the body has {length} bytes; at most {limit} are accepted"),
        ),
        JsonPayloadError::Overflow { limit } => ApiError::PayloadTooLarge(format!(
            "the body is larger than the {limit} bytes accepted"
        )),
        JsonPayloadError::ContentType => ApiError::Unprocessable(
            "send the body as JSON with `Content-Type: application/json`".into(),
        ),
        JsonPayloadError::Deserialize(de) if de.is_data() => {
            ApiError::Unprocessable(format!("the JSON body does not fit: {de}"))
        }
        JsonPayloadError::Deserialize(de) => {
            ApiError::BadRequest(format!("the body is not valid JSON: {de}"))
        }
        other => ApiError::BadRequest(format!("cannot read the body: {other}")),
    }
}

pub fn query_error(e: QueryPayloadError) -> ApiError {
    ApiError::Unprocessable(format!("invalid query parameters: {e}"))
}

pub fn path_error(e: PathError) -> ApiError {
    ApiError::NotFound(format!("no such resource: {e}"))
}
