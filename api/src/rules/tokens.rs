//! The rules of tokens (SPEC §12): a user sees and revokes their own live
//! tokens (another user's id is `404`, as if it did not exist); an admin
//! revokes all of a user's at once. Every revocation is audited.

use herd_core::clock::Millis;
use herd_core::domain::Role;
use herd_core::store::events::Outcome;
use herd_core::store::tokens::{self, TokenRow};
use herd_core::store::{users, write_tx, AnyConnection};

use super::audit::{audit, Target};
use crate::auth::Caller;
use crate::problem::{ApiError, ApiResult};

/// A page of the caller's live tokens, newest first.
pub fn list(
    c: &mut AnyConnection,
    caller: &Caller,
    before: Option<i64>,
    limit: i64,
    now: Millis,
) -> ApiResult<Vec<TokenRow>> {
    Ok(tokens::live_of(c, caller.user.id, now, before, limit)?)
}

/// Revokes the caller's token `id` (the one in use too).
pub fn revoke(c: &mut AnyConnection, caller: &Caller, id: i64, now: Millis) -> ApiResult<()> {
    write_tx(c, |c| {
        if !tokens::revoke_of(c, caller.user.id, id, now)? {
            return Err(ApiError::NotFound(format!("you have no live token {id}")));
        }
        revoked(
            c,
            caller,
            &caller.user.username,
            &format!("token {id}"),
            now,
        )
    })
}

/// Revokes the token the request carries: a logout.
pub fn revoke_current(c: &mut AnyConnection, caller: &Caller, now: Millis) -> ApiResult<()> {
    write_tx(c, |c| {
        tokens::revoke(c, &caller.token_hash, now)?;
        revoked(c, caller, &caller.user.username, "the token in use", now)
    })
}

/// Revokes every token of `username`: an admin's, for a user who must
/// lose access now (a leaked token, a departure).
pub fn revoke_all(
    c: &mut AnyConnection,
    caller: &Caller,
    username: &str,
    now: Millis,
) -> ApiResult<usize> {
    caller.require(Role::Admin)?;
    write_tx(c, |c| {
        let user = users::find_by_username(c, username)?
            .ok_or_else(|| ApiError::NotFound(format!("no user named {username}")))?;
        let n = tokens::revoke_all_of(c, user.id, now)?;
        revoked(c, caller, username, &format!("all {n} live token(s)"), now)?;
        Ok(n)
    })
}

fn revoked(
    c: &mut AnyConnection,
    caller: &Caller,
    whose: &str,
    what: &str,
    now: Millis,
) -> ApiResult<()> {
    Ok(audit(
        c,
        caller,
        "token.revoke",
        Target::Named(whose),
        Outcome::Success,
        Some(what),
        now,
    )?)
}
