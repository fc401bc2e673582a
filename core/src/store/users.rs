//! Users: local accounts (argon2id hashes) and directory users refreshed at
//! each login.

use diesel::prelude::*;

use super::schema::{guests, tokens, users};
use super::{AnyConnection, StoreError, StoreResult};
use crate::clock::Millis;
use crate::domain::{GuestState, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSource {
    Local { password_hash: String },
    Directory,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub source: UserSource,
    /// Per-user override of the role's quota.
    pub max_guests_override: Option<i32>,
}

impl User {
    /// `None` means no limit.
    pub fn max_guests(&self) -> Option<u32> {
        match self.max_guests_override {
            Some(n) => Some(n.max(0) as u32),
            None => self.role.default_max_guests(),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(super) struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    email: Option<String>,
    role: String,
    source: String,
    password_hash: Option<String>,
    max_guests: Option<i32>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        let source = match (r.source.as_str(), r.password_hash) {
            ("local", Some(password_hash)) => UserSource::Local { password_hash },
            _ => UserSource::Directory,
        };
        Self {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            email: r.email,
            // The check constraint admits only the three role names.
            role: Role::parse(&r.role).unwrap_or(Role::Student),
            source,
            max_guests_override: r.max_guests,
        }
    }
}

pub fn find_by_username(conn: &mut AnyConnection, username: &str) -> StoreResult<Option<User>> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(User::from))
}

pub fn find_by_id(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<User>> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(User::from))
}

pub struct NewLocalUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

pub fn create_local(
    conn: &mut AnyConnection,
    new: &NewLocalUser,
    now: Millis,
) -> StoreResult<User> {
    let id = diesel::insert_into(users::table)
        .values((
            users::username.eq(new.username),
            users::display_name.eq(new.display_name),
            users::role.eq(new.role.as_str()),
            users::source.eq("local"),
            users::password_hash.eq(new.password_hash),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result::<i64>(conn)?;
    existing(conn, id)
}

/// What the directory says about a user at login.
#[derive(Debug, Clone)]
pub struct DirectoryUser {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
}

/// Creates or refreshes a directory user's row. Two logins of a new user at
/// once may race to insert; the loser refreshes the winner's row.
pub fn upsert_directory(
    conn: &mut AnyConnection,
    d: &DirectoryUser,
    now: Millis,
) -> StoreResult<User> {
    for _ in 0..2 {
        let updated = diesel::update(users::table.filter(users::username.eq(&d.username)))
            .set((
                users::display_name.eq(&d.display_name),
                users::email.eq(&d.email),
                users::role.eq(d.role.as_str()),
                users::updated_at.eq(now),
                users::directory_checked_at.eq(now),
            ))
            .returning(users::id)
            .get_result::<i64>(conn)
            .optional()?;
        if let Some(id) = updated {
            return existing(conn, id);
        }
        let inserted = diesel::insert_into(users::table)
            .values((
                users::username.eq(&d.username),
                users::display_name.eq(&d.display_name),
                users::email.eq(&d.email),
                users::role.eq(d.role.as_str()),
                users::source.eq("ldap"),
                users::created_at.eq(now),
                users::updated_at.eq(now),
                users::directory_checked_at.eq(now),
            ))
            .returning(users::id)
            .get_result::<i64>(conn);
        match inserted.map_err(StoreError::from) {
            Ok(id) => return existing(conn, id),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Query(diesel::result::Error::NotFound))
}

/// Directory users with a token used since `used_since` whose directory
/// answer is older than `checked_before`: those to look up again.
pub fn due_for_recheck(
    conn: &mut AnyConnection,
    used_since: Millis,
    checked_before: Millis,
    now: Millis,
) -> StoreResult<Vec<User>> {
    let in_use = tokens::table
        .filter(tokens::user_id.eq(users::id))
        .filter(tokens::revoked_at.is_null())
        .filter(tokens::expires_at.gt(now))
        .filter(tokens::last_used_at.ge(used_since));
    Ok(users::table
        .filter(users::source.eq("ldap"))
        .filter(
            users::directory_checked_at
                .is_null()
                .or(users::directory_checked_at.lt(checked_before)),
        )
        .filter(diesel::dsl::exists(in_use))
        .select(UserRow::as_select())
        .order(users::id)
        .load::<UserRow>(conn)?
        .into_iter()
        .map(User::from)
        .collect())
}

/// Records that the directory answered for the user at `now`.
pub fn mark_checked(conn: &mut AnyConnection, id: i64, now: Millis) -> StoreResult<()> {
    diesel::update(users::table.find(id))
        .set(users::directory_checked_at.eq(now))
        .execute(conn)?;
    Ok(())
}

fn existing(conn: &mut AnyConnection, id: i64) -> StoreResult<User> {
    find_by_id(conn, id)?.ok_or(StoreError::Query(diesel::result::Error::NotFound))
}

/// Guests counted against a user's quota: every guest they own that is not
/// retired.
pub fn guests_held(conn: &mut AnyConnection, user_id: i64) -> StoreResult<i64> {
    Ok(guests_held_by(conn, &[user_id])?
        .get(&user_id)
        .copied()
        .unwrap_or(0))
}

/// [`guests_held`] for several users in one query; users holding none are
/// left out.
pub fn guests_held_by(
    conn: &mut AnyConnection,
    user_ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, i64>> {
    let counts: Vec<(Option<i64>, i64)> = guests::table
        .filter(guests::owner_id.eq_any(user_ids))
        .filter(guests::state.ne(GuestState::Decommissioned.as_str()))
        .group_by(guests::owner_id)
        .select((guests::owner_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(counts
        .into_iter()
        .filter_map(|(owner, n)| owner.map(|o| (o, n)))
        .collect())
}
