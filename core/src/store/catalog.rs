//! The service catalog (SPEC §1) and images.

use diesel::prelude::*;

use super::schema::{images, service_catalog};
use super::{AnyConnection, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = service_catalog)]
pub struct CatalogService {
    pub id: i64,
    pub name: String,
    pub priority: i32,
    pub command: String,
    pub default_enabled: bool,
}

pub fn services(conn: &mut AnyConnection) -> StoreResult<Vec<CatalogService>> {
    Ok(service_catalog::table
        .select(CatalogService::as_select())
        .order((service_catalog::priority, service_catalog::name))
        .load(conn)?)
}

pub struct NewService<'a> {
    pub name: &'a str,
    pub priority: i32,
    pub command: &'a str,
    pub default_enabled: bool,
}

pub fn insert_service(conn: &mut AnyConnection, new: &NewService) -> StoreResult<()> {
    diesel::insert_into(service_catalog::table)
        .values((
            service_catalog::name.eq(new.name),
            service_catalog::priority.eq(new.priority),
            service_catalog::command.eq(new.command),
            service_catalog::default_enabled.eq(new.default_enabled),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = images)]
pub struct Image {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The root's size.
    pub size_bytes: i64,
    pub created_at: Millis,
    /// The root version new guests boot.
    pub root_version: i32,
    pub segment_size_bytes: i64,
}

pub fn images(conn: &mut AnyConnection) -> StoreResult<Vec<Image>> {
    Ok(images::table
        .select(Image::as_select())
        .order(images::name)
        .load(conn)?)
}

pub fn image_by_name(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<Image>> {
    Ok(images::table
        .filter(images::name.eq(name))
        .select(Image::as_select())
        .first(conn)
        .optional()?)
}

pub struct NewImage<'a> {
    pub name: &'a str,
    pub description: &'a str,
    /// Of the root.
    pub size_bytes: i64,
    pub segment_size_bytes: i64,
}

/// A new image, with its root version 1 (published, its checksum known
/// once the provisioner made the disk).
pub fn insert_image(conn: &mut AnyConnection, new: &NewImage, now: Millis) -> StoreResult<()> {
    super::write_tx(conn, |c| {
        let id = diesel::insert_into(images::table)
            .values((
                images::name.eq(new.name),
                images::description.eq(new.description),
                images::size_bytes.eq(new.size_bytes),
                images::segment_size_bytes.eq(new.segment_size_bytes),
                images::created_at.eq(now),
            ))
            .returning(images::id)
            .get_result::<i64>(c)?;
        let first = super::roots::NewRootVersion {
            image_id: id,
            version: 1,
            label: "initial",
            checksum: None,
            size_bytes: new.size_bytes,
        };
        super::roots::insert(c, &first, now)
    })
}
