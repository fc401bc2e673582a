//! The command channel's table (SPEC §3): the web side records commands as
//! text; the dispatcher claims, executes and answers them.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::schema::{commands, guest_services, service_catalog};
use super::{write_tx, AnyConnection, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = commands)]
pub struct CommandRow {
    pub id: i64,
    pub guest_id: i64,
    pub requested_by: Option<i64>,
    pub text: String,
    pub status: String,
    pub result: Option<String>,
    pub created_at: Millis,
    pub dispatched_at: Option<Millis>,
    pub finished_at: Option<Millis>,
}

pub fn insert(
    conn: &mut AnyConnection,
    guest_id: i64,
    requested_by: Option<i64>,
    text: &str,
    now: Millis,
) -> StoreResult<i64> {
    Ok(diesel::insert_into(commands::table)
        .values((
            commands::guest_id.eq(guest_id),
            commands::requested_by.eq(requested_by),
            commands::text.eq(text),
            commands::status.eq("queued"),
            commands::created_at.eq(now),
        ))
        .returning(commands::id)
        .get_result(conn)?)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<CommandRow>> {
    Ok(commands::table
        .find(id)
        .select(CommandRow::as_select())
        .first(conn)
        .optional()?)
}

/// Queued commands, oldest first, that no other dispatcher holds.
pub fn queued(conn: &mut AnyConnection, limit: i64) -> StoreResult<Vec<CommandRow>> {
    Ok(commands::table
        .filter(commands::status.eq("queued"))
        .order(commands::id)
        .limit(limit)
        .select(CommandRow::as_select())
        .load(conn)?)
}

/// Takes a queued command for this dispatcher; false when another took it
/// first. The update re-checks the status, so each command runs once.
pub fn claim(
    conn: &mut AnyConnection,
    id: i64,
    dispatcher: &str,
    now: Millis,
) -> StoreResult<bool> {
    let sql = format!(
        "UPDATE commands SET status = 'dispatched', claimed_by = $1, dispatched_at = {now} \
         WHERE id = {id} AND status = 'queued'"
    );
    let sql = if matches!(conn, AnyConnection::Sqlite(_)) {
        sql.replace("$1", "?")
    } else {
        sql
    };
    let claimed = write_tx(conn, |c| {
        diesel::sql_query(&sql)
            .bind::<Text, _>(dispatcher)
            .execute(c)
    })?;
    Ok(claimed == 1)
}

pub fn finish(
    conn: &mut AnyConnection,
    id: i64,
    succeeded: bool,
    result: &str,
    now: Millis,
) -> StoreResult<()> {
    diesel::update(commands::table.find(id))
        .set((
            commands::status.eq(if succeeded { "succeeded" } else { "failed" }),
            commands::result.eq(result),
            commands::finished_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Puts a dispatched command back (it could not run yet, e.g. an IPL while
/// the guest is still logging off).
pub fn requeue(conn: &mut AnyConnection, id: i64) -> StoreResult<()> {
    diesel::update(commands::table.find(id))
        .set((
            commands::status.eq("queued"),
            commands::claimed_by.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// The observed state of one of a guest's services.
pub fn set_service_state(
    conn: &mut AnyConnection,
    guest_id: i64,
    service: &str,
    state: &str,
    now: Millis,
) -> StoreResult<()> {
    let service_id = service_catalog::table
        .filter(service_catalog::name.eq(service))
        .select(service_catalog::id)
        .first::<i64>(conn)
        .optional()?;
    if let Some(service_id) = service_id {
        diesel::update(guest_services::table.find((guest_id, service_id)))
            .set((
                guest_services::state.eq(state),
                guest_services::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Boot-time enablement of one of a guest's services; false when the guest
/// has no such service.
pub fn set_service_enabled(
    conn: &mut AnyConnection,
    guest_id: i64,
    service: &str,
    enabled: bool,
    now: Millis,
) -> StoreResult<bool> {
    let service_id = service_catalog::table
        .filter(service_catalog::name.eq(service))
        .select(service_catalog::id)
        .first::<i64>(conn)
        .optional()?;
    let Some(service_id) = service_id else {
        return Ok(false);
    };
    let n = diesel::update(guest_services::table.find((guest_id, service_id)))
        .set((
            guest_services::enabled.eq(enabled),
            guest_services::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n > 0)
}
