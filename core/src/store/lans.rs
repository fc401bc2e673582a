//! Guest LANs and their use.

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

impl LanUsage {
    pub fn free(&self) -> i64 {
        (i64::from(self.lan.capacity) - self.used).max(0)
    }
}

/// The LANs in use (not removed), by name, with the addresses guests hold
/// (counted by the database as guests come and go: see the migration
/// `lan_addresses_held`).
pub fn list_with_use(conn: &mut AnyConnection) -> StoreResult<Vec<LanUsage>> {
    let rows = lans::table
        .filter(lans::removed_at.is_null())
        .select((Lan::as_select(), lans::addresses_held))
        .order(lans::name)
        .load::<(Lan, i64)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(lan, used)| LanUsage { lan, used })
        .collect())
}

/// The LAN new guests go to when none is asked: the most free addresses
/// (the first by name among equals).
pub fn most_free(conn: &mut AnyConnection) -> StoreResult<Option<Lan>> {
    Ok(list_with_use(conn)?
        .into_iter()
        .filter(|u| u.free() > 0)
        .max_by(|a, b| a.free().cmp(&b.free()).then(b.lan.name.cmp(&a.lan.name)))
        .map(|u| u.lan))
}

/// A LAN in use (not removed) by its name.
pub fn find_by_name(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<Lan>> {
    Ok(lans::table
        .filter(lans::name.eq(name))
        .filter(lans::removed_at.is_null())
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

/// Guests holding an address on the LAN.
pub fn addresses_held(conn: &mut AnyConnection, lan_id: i64) -> StoreResult<i64> {
    Ok(guests::table
        .filter(guests::lan_id.eq(lan_id))
        .filter(guests::ip_address.is_not_null())
        .count()
        .get_result(conn)?)
}

/// Removes a LAN from use. The row stays for the decommissioned guests
/// that name it; its name and network get the row's id appended, so that
/// both can be used again.
pub fn remove(conn: &mut AnyConnection, lan: &Lan, now: Millis) -> StoreResult<()> {
    diesel::update(lans::table.find(lan.id))
        .set((
            lans::removed_at.eq(now),
            lans::name.eq(format!("{}~{}", lan.name, lan.id)),
            lans::cidr.eq(format!("{}~{}", lan.cidr, lan.id)),
        ))
        .execute(conn)?;
    Ok(())
}
