//! Bearer tokens, stored only as hashes.

use diesel::prelude::*;

use super::schema::{tokens, users};
use super::users::{User, UserRow};
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;

/// A token as its owner sees it: never its secret, nor its hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
pub struct TokenRow {
    pub id: i64,
    pub token_hash: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub last_used_at: Option<Millis>,
    pub client_address: Option<String>,
}

/// `last_used_at` is kept to this: a token in use writes its row at most
/// once a minute, not at every request.
pub const USE_RESOLUTION_MS: Millis = 60_000;

/// Records a token made at `now` for a client at `client_address`.
pub fn insert(
    conn: &mut AnyConnection,
    user_id: i64,
    token_hash: &str,
    client_address: &str,
    now: Millis,
    expires_at: Millis,
) -> StoreResult<()> {
    diesel::insert_into(tokens::table)
        .values((
            tokens::user_id.eq(user_id),
            tokens::token_hash.eq(token_hash),
            tokens::created_at.eq(now),
            tokens::expires_at.eq(expires_at),
            tokens::last_used_at.eq(now),
            tokens::client_address.eq(client_address),
        ))
        .execute(conn)?;
    Ok(())
}

/// Notes that these tokens are used at `now`, those whose last use is
/// older than the resolution.
fn note_use(conn: &mut AnyConnection, token_hashes: &[&str], now: Millis) -> StoreResult<()> {
    if token_hashes.is_empty() {
        return Ok(());
    }
    diesel::update(
        tokens::table
            .filter(tokens::token_hash.eq_any(token_hashes))
            .filter(
                tokens::last_used_at
                    .is_null()
                    .or(tokens::last_used_at.lt(now - USE_RESOLUTION_MS)),
            ),
    )
    .set(tokens::last_used_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// Due for [`note_use`]; a token made before uses were noted has none.
fn stale(last_used_at: Option<Millis>, now: Millis) -> bool {
    last_used_at.is_none_or(|t| t < now - USE_RESOLUTION_MS)
}

/// The user's live tokens, newest first, after the id `before` if given.
pub fn live_of(
    conn: &mut AnyConnection,
    user_id: i64,
    now: Millis,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<TokenRow>> {
    let mut q = tokens::table
        .filter(tokens::user_id.eq(user_id))
        .filter(tokens::revoked_at.is_null())
        .filter(tokens::expires_at.gt(now))
        .select(TokenRow::as_select())
        .order(tokens::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(tokens::id.lt(before));
    }
    Ok(q.load(conn)?)
}

/// Revokes the user's token `id`; false when the user has no such live
/// token.
pub fn revoke_of(
    conn: &mut AnyConnection,
    user_id: i64,
    id: i64,
    now: Millis,
) -> StoreResult<bool> {
    let n = diesel::update(
        tokens::table
            .find(id)
            .filter(tokens::user_id.eq(user_id))
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::expires_at.gt(now)),
    )
    .set(tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(n > 0)
}

/// Revokes every live token of the user; answers how many.
pub fn revoke_all_of(conn: &mut AnyConnection, user_id: i64, now: Millis) -> StoreResult<usize> {
    Ok(diesel::update(
        tokens::table
            .filter(tokens::user_id.eq(user_id))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(now))
    .execute(conn)?)
}

/// When a token expires.
pub fn expiry(conn: &mut AnyConnection, token_hash: &str) -> StoreResult<Option<Millis>> {
    Ok(tokens::table
        .filter(tokens::token_hash.eq(token_hash))
        .select(tokens::expires_at)
        .first(conn)
        .optional()?)
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
    let live = tokens::table
        .inner_join(users::table)
        .filter(tokens::token_hash.eq(token_hash))
        .filter(tokens::revoked_at.is_null())
        .filter(tokens::expires_at.gt(now))
        .select((tokens::last_used_at, UserRow::as_select()))
        .get_result::<(Option<Millis>, UserRow)>(conn)
        .optional()?;
    let Some((last_used_at, user)) = live else {
        return Ok(None);
    };
    if stale(last_used_at, now) {
        note_use(conn, &[token_hash], now)?;
    }
    Ok(Some(User::from(user)))
}

/// The users the live ones of these tokens belong to, by token hash: one
/// query for requests handled together.
pub fn live_users(
    conn: &mut AnyConnection,
    token_hashes: &[&str],
    now: Millis,
) -> StoreResult<Vec<(String, User)>> {
    let live: Vec<(String, Option<Millis>, UserRow)> = load_listed!(
        conn,
        tokens::table
            .inner_join(users::table)
            .filter(tokens::token_hash.eq_any(token_hashes))
            .filter(tokens::revoked_at.is_null())
            .filter(tokens::expires_at.gt(now))
            .select((
                tokens::token_hash,
                tokens::last_used_at,
                UserRow::as_select()
            ))
    )?;
    let used: Vec<&str> = live
        .iter()
        .filter(|(_, last, _)| stale(*last, now))
        .map(|(hash, _, _)| hash.as_str())
        .collect();
    note_use(conn, &used, now)?;
    Ok(live
        .into_iter()
        .map(|(hash, _, user)| (hash, User::from(user)))
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
