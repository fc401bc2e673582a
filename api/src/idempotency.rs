//! `Idempotency-Key` (SPEC §10): a request sent again under the same key by
//! the same user within 24 hours is answered as the first was, and does
//! nothing twice.
//!
//! The key is held for the whole request (PostgreSQL: an advisory lock on
//! it; SQLite: the write transaction) and the answer is kept in the same
//! transaction as what the request did. So two requests at the same moment
//! run one after the other, the second answered from the first; a request
//! that fails keeps nothing, and its retry runs afresh; and a crash leaves
//! either the change and its answer, or neither.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use herd_core::clock::Millis;
use herd_core::store::idempotency::{self, Remembered};
use herd_core::store::{serialize_in_tx, write_tx, AnyConnection};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// How long an answer is kept.
const KEPT_MS: Millis = 24 * 3600 * 1000;
const HEADER: &str = "idempotency-key";
/// Set on an answer given again.
pub const REPLAYED: &str = "idempotent-replayed";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct KeyHeader {
    /// Any 1–255 visible ASCII characters, new for each intended change
    /// (a UUID, say). Sent again with the same body, within 24 hours, it
    /// answers the first response again and changes nothing; with another
    /// body it is `422`. Keys are per user.
    #[serde(rename = "Idempotency-Key")]
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = r"^[!-~]{1,255}$"
    )]
    pub key: Option<String>,
}

/// A request made under a key: whose, which key, and what it asked.
pub struct Keyed {
    user_id: i64,
    key: String,
    fingerprint: String,
    now: Millis,
}

impl Keyed {
    /// The key of `req`, if it has one; `body` is the request as parsed.
    /// Whether the request carries a key at all.
    pub fn asked(req: &HttpRequest) -> bool {
        req.headers().contains_key(HEADER)
    }

    pub fn of<B: Serialize>(
        req: &HttpRequest,
        caller: &Caller,
        body: &B,
        now: Millis,
    ) -> ApiResult<Option<Self>> {
        let Some(value) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::Unprocessable(
                    "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
                )
            })?;
        let mut hash = Sha256::new();
        hash.update(req.method().as_str());
        hash.update(b" ");
        hash.update(req.path());
        hash.update(b"\n");
        hash.update(serde_json::to_vec(body).unwrap_or_default());
        Ok(Some(Self {
            user_id: caller.user.id,
            key: key.to_owned(),
            fingerprint: hex::encode(hash.finalize()),
            now,
        }))
    }

    /// The advisory lock that lets one request at a time hold this key.
    fn lock_id(&self) -> i64 {
        let mut hash = Sha256::new();
        hash.update(b"herd idempotency ");
        hash.update(self.user_id.to_be_bytes());
        hash.update(self.key.as_bytes());
        let d = hash.finalize();
        i64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
    }
}

/// A JSON answer.
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    replayed: bool,
}

impl Answer {
    pub fn new<T: Serialize>(status: StatusCode, body: &T) -> ApiResult<Self> {
        Ok(Self {
            status,
            body: serde_json::to_string(body)
                .map_err(|e| ApiError::Internal(format!("answer: {e}")))?,
            replayed: false,
        })
    }

    pub fn into_response(self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status);
        r.content_type("application/json");
        if self.replayed {
            r.insert_header((REPLAYED, "true"));
        }
        r.body(self.body)
    }
}

/// Runs `work`, once per key: without a key, simply; with one, inside one
/// write transaction that first looks for the key's answer.
pub fn once(
    c: &mut AnyConnection,
    keyed: Option<&Keyed>,
    work: impl FnOnce(&mut AnyConnection) -> ApiResult<Answer>,
) -> ApiResult<Answer> {
    let Some(k) = keyed else {
        return work(c);
    };
    write_tx(c, |c| {
        serialize_in_tx(c, k.lock_id())?;
        let not_before = k.now - KEPT_MS;
        if let Some(first) = idempotency::find(c, k.user_id, &k.key, not_before)? {
            if first.fingerprint != k.fingerprint {
                return Err(ApiError::Unprocessable(
                    "this Idempotency-Key was used for another request (another path or body); \
                     use a new key for a new request"
                        .into(),
                ));
            }
            return Ok(Answer {
                status: StatusCode::from_u16(first.status as u16)
                    .map_err(|e| ApiError::Internal(format!("kept answer: {e}")))?,
                body: first.body,
                replayed: true,
            });
        }
        let answer = work(c)?;
        if answer.status.is_success() {
            let kept = Remembered {
                fingerprint: k.fingerprint.clone(),
                status: i32::from(answer.status.as_u16()),
                body: answer.body.clone(),
            };
            idempotency::remember(c, k.user_id, &k.key, &kept, k.now, not_before)?;
        }
        Ok(answer)
    })
}
