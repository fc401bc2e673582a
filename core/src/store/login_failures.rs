//! Failed logins, kept in the database so that every replica counts the
//! same failures.

use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use super::schema::login_failures;
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;

pub fn record(
    conn: &mut AnyConnection,
    username: &str,
    client_addr: &str,
    at: Millis,
) -> StoreResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::username.eq(username),
            login_failures::client_addr.eq(client_addr),
            login_failures::at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many failures since a point in time, and when the oldest of them was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    pub oldest: Option<Millis>,
}

/// Whose failures to count.
#[derive(Debug, Clone, Copy)]
pub enum FailureKey<'a> {
    Username(&'a str),
    ClientAddr(&'a str),
}

pub fn since(conn: &mut AnyConnection, key: FailureKey, since: Millis) -> StoreResult<Failures> {
    let recent = login_failures::table
        .filter(login_failures::at.gt(since))
        .into_boxed();
    let recent = match key {
        FailureKey::Username(u) => recent.filter(login_failures::username.eq(u)),
        FailureKey::ClientAddr(a) => recent.filter(login_failures::client_addr.eq(a)),
    };
    let (count, oldest) = recent
        .select((count_star(), min(login_failures::at)))
        .get_result::<(i64, Option<i64>)>(conn)?;
    Ok(Failures { count, oldest })
}

/// Forgets failures too old to matter, so the table stays small.
pub fn prune(conn: &mut AnyConnection, before: Millis) -> StoreResult<usize> {
    Ok(
        diesel::delete(login_failures::table.filter(login_failures::at.le(before)))
            .execute(conn)?,
    )
}
