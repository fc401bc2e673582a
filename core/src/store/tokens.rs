//! Bearer tokens, stored only as hashes.

use diesel::prelude::*;

use super::schema::{tokens, users};
use super::users::{User, UserRow};
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;

pub fn insert(
    conn: &mut AnyConnection,
    user_id: i64,
    token_hash: &str,
    now: Millis,
    expires_at: Millis,
) -> StoreResult<()> {
    diesel::insert_into(tokens::table)
        .values((
            tokens::user_id.eq(user_id),
            tokens::token_hash.eq(token_hash),
            tokens::created_at.eq(now),
            tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The user a live token belongs to: not revoked, not expired at `now`.
/// One query: every authenticated request makes it.
pub fn live_user(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<User>> {
    // Not `live_users`: on SQLite a statement with an `IN` list is
    // prepared again at each execution, and every request makes this one.
    Ok(tokens::table
        .inner_join(users::table)
        .filter(tokens::token_hash.eq(token_hash))
        .filter(tokens::revoked_at.is_null())
        .filter(tokens::expires_at.gt(now))
        .select(UserRow::as_select())
        .get_result::<UserRow>(conn)
        .optional()?
        .map(User::from))
}

/// The users the live ones of these tokens belong to, by token hash: one
/// query for requests handled together.
pub fn live_users(
    conn: &mut AnyConnection,
    token_hashes: &[&str],
    now: Millis,
) -> StoreResult<Vec<(String, User)>> {
    let live: Vec<(String, UserRow)> = load_listed!(
        conn,
        tokens::table
            .inner_join(users::table)
            .filter(tokens::token_hash.eq_any(token_hashes))
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::expires_at.gt(now))
            .select((tokens::token_hash, UserRow::as_select()))
    )?;
    Ok(live
        .into_iter()
        .map(|(hash, user)| (hash, User::from(user)))
        .collect())
}

/// Revokes a token; true when it was live.
pub fn revoke(conn: &mut AnyConnection, token_hash: &str, now: Millis) -> StoreResult<bool> {
    let n = diesel::update(
        tokens::table
            .filter(tokens::token_hash.eq(token_hash))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(n > 0)
}
