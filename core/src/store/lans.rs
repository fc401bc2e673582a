//! Guest LANs and their use.

use diesel::dsl::count;
use diesel::prelude::*;

use super::schema::{guests, lans};
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lans)]
pub struct Lan {
    pub id: i64,
    pub name: String,
    pub cidr: String,
    pub gateway: String,
    pub dns: String,
    pub capacity: i32,
}

#[derive(Debug, Clone)]
pub struct LanUsage {
    pub lan: Lan,
    /// Addresses held by guests (every guest not yet decommissioned).
    pub used: i64,
}

pub fn list_with_use(conn: &mut AnyConnection) -> StoreResult<Vec<LanUsage>> {
    let rows = lans::table
        .left_join(
            guests::table.on(guests::lan_id
                .eq(lans::id)
                .and(guests::ip_address.is_not_null())),
        )
        .group_by(lans::id)
        .select((Lan::as_select(), count(guests::id.nullable())))
        .order(lans::name)
        .load::<(Lan, i64)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(lan, used)| LanUsage { lan, used })
        .collect())
}

pub fn find_by_name(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<Lan>> {
    Ok(lans::table
        .filter(lans::name.eq(name))
        .select(Lan::as_select())
        .get_result(conn)
        .optional()?)
}

pub struct NewLan<'a> {
    pub name: &'a str,
    pub cidr: &'a str,
    pub gateway: &'a str,
    pub dns: &'a str,
    pub capacity: i32,
}

pub fn insert(conn: &mut AnyConnection, new: &NewLan, now: Millis) -> StoreResult<i64> {
    Ok(diesel::insert_into(lans::table)
        .values((
            lans::name.eq(new.name),
            lans::cidr.eq(new.cidr),
            lans::gateway.eq(new.gateway),
            lans::dns.eq(new.dns),
            lans::capacity.eq(new.capacity),
            lans::created_at.eq(now),
        ))
        .returning(lans::id)
        .get_result(conn)?)
}
