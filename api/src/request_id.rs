//! The id of a request: the client's `x-request-id` when it is well formed
//! (so that a portal's own id follows its call), else a new one. It is in
//! the request's log line, its answer's `x-request-id`, the commands it
//! records (and so the dispatcher's log lines) and its audit entries.

use actix_web::{HttpMessage, HttpRequest};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

/// Longer ids are someone's payload, not an id.
const MAX_LEN: usize = 128;

impl RequestId {
    /// The client's id if it is 1–128 of `A-Z a-z 0-9 - _ . :`, else a new one.
    pub fn from_client(sent: Option<&str>) -> Self {
        match sent {
            Some(id) if Self::well_formed(id) => Self(id.to_owned()),
            _ => Self(uuid::Uuid::new_v4().simple().to_string()),
        }
    }

    fn well_formed(id: &str) -> bool {
        (1..=MAX_LEN).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    }

    /// The id the middleware gave this request (none outside it: tests
    /// that call handlers directly).
    pub fn of(req: &HttpRequest) -> String {
        req.extensions()
            .get::<RequestId>()
            .map_or_else(String::new, |r| r.0.clone())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_client_id_is_kept_and_others_replaced() {
        assert_eq!(
            RequestId::from_client(Some("portal-42:a.b_c")).as_str(),
            "portal-42:a.b_c"
        );
        for bad in ["", "has space", "new\nline", "<script>", &"x".repeat(129)] {
            let id = RequestId::from_client(Some(bad));
            assert_ne!(id.as_str(), bad);
            assert_eq!(id.as_str().len(), 32, "{bad:?} gave {id:?}");
        }
        assert_eq!(RequestId::from_client(None).as_str().len(), 32);
    }
}
