//! Idempotency keys (SPEC §10): a user's first successful answer under a
//! key, to answer their retries with.

use diesel::prelude::*;

use super::schema::idempotency_keys as k;
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;

/// An answer as it was first given.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Remembered {
    pub fingerprint: String,
    pub status: i32,
    pub body: String,
}

/// The answer kept for `user_id`'s `key`, unless it is older than
/// `not_before`.
pub fn find(
    conn: &mut AnyConnection,
    user_id: i64,
    key: &str,
    not_before: Millis,
) -> StoreResult<Option<Remembered>> {
    Ok(k::table
        .filter(k::user_id.eq(user_id))
        .filter(k::idempotency_key.eq(key))
        .filter(k::created_at.ge(not_before))
        .select((k::fingerprint, k::status, k::body))
        .first(conn)
        .optional()?)
}

/// Keeps an answer; drops every one older than `not_before` on the way
/// (this key's among them, if it had expired). The caller holds the key
/// (see `serialize_in_tx`), so nobody else writes it meanwhile.
pub fn remember(
    conn: &mut AnyConnection,
    user_id: i64,
    key: &str,
    answer: &Remembered,
    now: Millis,
    not_before: Millis,
) -> StoreResult<()> {
    diesel::delete(k::table.filter(k::created_at.lt(not_before))).execute(conn)?;
    diesel::insert_into(k::table)
        .values((
            k::user_id.eq(user_id),
            k::idempotency_key.eq(key),
            k::fingerprint.eq(&answer.fingerprint),
            k::status.eq(answer.status),
            k::body.eq(&answer.body),
            k::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
