//! Root versions of images (SPEC §7) and which guests boot them.

use diesel::prelude::*;

use super::schema::{guests, images, root_versions};
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;
use crate::domain::{GuestState, RootState};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = root_versions)]
pub struct RootVersion {
    pub id: i64,
    pub image_id: i64,
    pub version: i32,
    pub label: String,
    #[diesel(deserialize_as = String)]
    pub state: RootState,
    pub checksum: Option<String>,
    pub size_bytes: i64,
    pub created_at: Millis,
    pub retired_at: Option<Millis>,
}

pub struct NewRootVersion<'a> {
    pub image_id: i64,
    pub version: i32,
    pub label: &'a str,
    pub checksum: Option<&'a str>,
    pub size_bytes: i64,
}

pub fn insert(conn: &mut AnyConnection, new: &NewRootVersion, now: Millis) -> StoreResult<()> {
    diesel::insert_into(root_versions::table)
        .values((
            root_versions::image_id.eq(new.image_id),
            root_versions::version.eq(new.version),
            root_versions::label.eq(new.label),
            root_versions::state.eq(RootState::Published.as_str()),
            root_versions::checksum.eq(new.checksum),
            root_versions::size_bytes.eq(new.size_bytes),
            root_versions::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The image's versions, oldest first.
pub fn versions(conn: &mut AnyConnection, image_id: i64) -> StoreResult<Vec<RootVersion>> {
    Ok(root_versions::table
        .filter(root_versions::image_id.eq(image_id))
        .select(RootVersion::as_select())
        .order(root_versions::version)
        .load(conn)?)
}

pub fn find(
    conn: &mut AnyConnection,
    image_id: i64,
    version: i32,
) -> StoreResult<Option<RootVersion>> {
    Ok(root_versions::table
        .filter(root_versions::image_id.eq(image_id))
        .filter(root_versions::version.eq(version))
        .select(RootVersion::as_select())
        .first(conn)
        .optional()?)
}

/// The highest version published or retired (versions are never reused).
pub fn latest(conn: &mut AnyConnection, image_id: i64) -> StoreResult<i32> {
    let max: Option<i32> = root_versions::table
        .filter(root_versions::image_id.eq(image_id))
        .select(diesel::dsl::max(root_versions::version))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

pub fn set_checksum(conn: &mut AnyConnection, id: i64, checksum: &str) -> StoreResult<()> {
    diesel::update(root_versions::table.find(id))
        .set(root_versions::checksum.eq(checksum))
        .execute(conn)?;
    Ok(())
}

pub fn retire(conn: &mut AnyConnection, id: i64, now: Millis) -> StoreResult<()> {
    diesel::update(root_versions::table.find(id))
        .set((
            root_versions::state.eq(RootState::Retired.as_str()),
            root_versions::retired_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Guests (not decommissioned) that boot `version` or will at their next
/// IPL.
pub fn guests_using(conn: &mut AnyConnection, image_id: i64, version: i32) -> StoreResult<i64> {
    Ok(guests::table
        .filter(guests::image_id.eq(image_id))
        .filter(guests::state.ne(GuestState::Decommissioned.as_str()))
        .filter(
            guests::root_version
                .eq(version)
                .or(guests::target_root_version.eq(version)),
        )
        .count()
        .get_result(conn)?)
}

/// The version new guests boot.
pub fn set_image_root_version(
    conn: &mut AnyConnection,
    image_id: i64,
    version: i32,
) -> StoreResult<()> {
    diesel::update(images::table.find(image_id))
        .set(images::root_version.eq(version))
        .execute(conn)?;
    Ok(())
}

/// Every guest of the image that is not decommissioned gets `version` as
/// its target; answers how many.
pub fn target_all(conn: &mut AnyConnection, image_id: i64, version: i32) -> StoreResult<usize> {
    Ok(diesel::update(
        guests::table
            .filter(guests::image_id.eq(image_id))
            .filter(guests::state.ne(GuestState::Decommissioned.as_str())),
    )
    .set(guests::target_root_version.eq(version))
    .execute(conn)?)
}

pub fn set_target(conn: &mut AnyConnection, guest_id: i64, version: i32) -> StoreResult<()> {
    diesel::update(guests::table.find(guest_id))
        .set(guests::target_root_version.eq(version))
        .execute(conn)?;
    Ok(())
}

/// The guest booted `version` (at an IPL just made).
pub fn set_booted(conn: &mut AnyConnection, guest_id: i64, version: i32) -> StoreResult<()> {
    diesel::update(guests::table.find(guest_id))
        .set(guests::root_version.eq(version))
        .execute(conn)?;
    Ok(())
}
