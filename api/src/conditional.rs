//! Entity tags and the conditional headers that use them (RFC 9110 §8.8.3,
//! §13.1): `If-None-Match` for polling without a download, `If-Match` for
//! changing only the version one has read.

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpRequest;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::problem::{ApiError, ApiResult};

/// A strong entity tag for what a response shows: the same view, the same
/// tag, whichever process answers.
pub fn etag_of<T: Serialize>(view: &T) -> String {
    let bytes = serde_json::to_vec(view).unwrap_or_default();
    format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]))
}

pub fn etag_header(etag: &str) -> ApiResult<HeaderValue> {
    HeaderValue::from_str(etag).map_err(|e| ApiError::Internal(format!("ETag header: {e}")))
}

/// The tags of a conditional header, over all its lines: `None` when it is
/// absent, `Some(vec!["*"])` for any.
fn tags(req: &HttpRequest, name: header::HeaderName) -> Option<Vec<String>> {
    let mut found = false;
    let tags: Vec<String> = req
        .headers()
        .get_all(name)
        .inspect(|_| found = true)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    found.then_some(tags)
}

/// `If-None-Match` matches `etag`: weak comparison, `*` matches anything.
pub fn none_match_hits(req: &HttpRequest, etag: &str) -> bool {
    tags(req, header::IF_NONE_MATCH).is_some_and(|tags| {
        tags.iter()
            .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
    })
}

/// What `If-Match` asks for, read before the change is tried.
pub struct IfMatch(Option<Vec<String>>);

impl IfMatch {
    pub fn of(req: &HttpRequest) -> Self {
        Self(tags(req, header::IF_MATCH))
    }

    /// `412` unless the header is absent, `*`, or names `etag` (strong
    /// comparison: a weak tag never matches).
    pub fn check(&self, etag: &str, what: &str) -> ApiResult<()> {
        match &self.0 {
            None => Ok(()),
            Some(tags) if tags.iter().any(|t| t == "*" || t == etag) => Ok(()),
            Some(_) => Err(ApiError::PreconditionFailed(format!(
                "{what} changed since the version named in If-Match; read it again (its ETag is now {etag})"
            ))),
        }
    }
}
