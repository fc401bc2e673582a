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
    pub size_bytes: i64,
    pub created_at: Millis,
}

pub fn images(conn: &mut AnyConnection) -> StoreResult<Vec<Image>> {
    Ok(images::table
        .select(Image::as_select())
        .order(images::name)
        .load(conn)?)
}

pub struct NewImage<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub size_bytes: i64,
}

pub fn insert_image(conn: &mut AnyConnection, new: &NewImage, now: Millis) -> StoreResult<()> {
    diesel::insert_into(images::table)
        .values((
            images::name.eq(new.name),
            images::description.eq(new.description),
            images::size_bytes.eq(new.size_bytes),
            images::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
