//! Settings changed at run time through the API (the pool's size and copy
//! method), shared by every process.

use diesel::prelude::*;

use super::schema::settings;
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;

pub fn get(conn: &mut AnyConnection, key: &str) -> StoreResult<Option<String>> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .get_result(conn)
        .optional()?)
}

pub fn put(conn: &mut AnyConnection, key: &str, value: &str, now: Millis) -> StoreResult<()> {
    let updated = diesel::update(settings::table.find(key))
        .set((settings::value.eq(value), settings::updated_at.eq(now)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(settings::table)
            .values((
                settings::key.eq(key),
                settings::value.eq(value),
                settings::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}
