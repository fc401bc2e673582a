//! The command channel's table (SPEC §3): the web side records commands as
//! text; the dispatcher claims, executes and answers them.

use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::schema::{commands, guest_services, service_catalog};
use super::{write_tx, AnyConnection, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
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

/// Records a command, `queued`; answers it as stored.
pub fn insert(
    conn: &mut AnyConnection,
    guest_id: i64,
    requested_by: Option<i64>,
    text: &str,
    now: Millis,
) -> StoreResult<CommandRow> {
    Ok(diesel::insert_into(commands::table)
        .values((
            commands::guest_id.eq(guest_id),
            commands::requested_by.eq(requested_by),
            commands::text.eq(text),
            commands::status.eq("queued"),
            commands::created_at.eq(now),
        ))
        // Columns, not `as_returning()`, which the two-database connection
        // cannot send.
        .returning((
            commands::id,
            commands::guest_id,
            commands::requested_by,
            commands::text,
            commands::status,
            commands::result,
            commands::created_at,
            commands::dispatched_at,
            commands::finished_at,
        ))
        .get_result::<CommandRow>(conn)?)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<CommandRow>> {
    Ok(commands::table
        .find(id)
        .select(CommandRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The columns of [`CommandRow`], for the statements written in SQL.
const ROW_COLUMNS: &str =
    "id, guest_id, requested_by, text, status, result, created_at, dispatched_at, finished_at";

/// Takes up to `limit` queued commands, oldest first, for this dispatcher,
/// in one statement (one round trip: a click waits for it). On PostgreSQL
/// the rows are locked with `SKIP LOCKED`, so dispatchers of several
/// processes take different commands instead of queueing on the same; on
/// SQLite the writer's turn serialises them. Each command is taken once.
pub fn claim_queued(
    conn: &mut AnyConnection,
    dispatcher: &str,
    now: Millis,
    limit: i64,
) -> StoreResult<Vec<CommandRow>> {
    let sql = |lock: &str| {
        format!(
            "UPDATE commands SET status = 'dispatched', claimed_by = $1, dispatched_at = $2 \
             WHERE id IN (SELECT id FROM commands WHERE status = 'queued' \
             ORDER BY id LIMIT $3 {lock}) RETURNING {ROW_COLUMNS}"
        )
    };
    let claim = |c: &mut AnyConnection, lock| {
        diesel::sql_query(sql(lock))
            .bind::<Text, _>(dispatcher)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<CommandRow>(c)
    };
    let mut rows = match conn {
        AnyConnection::Postgresql(_) => claim(conn, "FOR UPDATE SKIP LOCKED")?,
        AnyConnection::Sqlite(_) => write_tx(conn, |c| claim(c, ""))?,
    };
    // RETURNING keeps no order.
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// What a finished service command observed about its service.
pub struct Observed<'a> {
    pub guest_id: i64,
    pub service: &'a str,
    pub state: &'a str,
}

/// Ends a command with its result and, with it, records the service
/// state it observed. Answers the finished command. Other processes
/// learn of it from [`announce_finished`].
///
/// On PostgreSQL this is one statement: a click waits for it, and each
/// round trip costs it time under load.
pub fn finish(
    conn: &mut AnyConnection,
    id: i64,
    succeeded: bool,
    result: &str,
    observed: Option<Observed<'_>>,
    now: Millis,
) -> StoreResult<CommandRow> {
    let status = if succeeded { "succeeded" } else { "failed" };
    if matches!(conn, AnyConnection::Postgresql(_)) {
        let in_one_statement = format!(
            "WITH observed AS (\
               UPDATE guest_services SET state = $1, updated_at = $2 \
               WHERE $1 IS NOT NULL AND guest_id = $3 \
               AND service_id IN (SELECT id FROM service_catalog WHERE name = $4)) \
             UPDATE commands SET status = $5, result = $6, finished_at = $2 WHERE id = $7 \
             RETURNING {ROW_COLUMNS}"
        );
        return Ok(diesel::sql_query(in_one_statement)
            .bind::<Nullable<Text>, _>(observed.as_ref().map(|o| o.state))
            .bind::<BigInt, _>(now)
            .bind::<Nullable<BigInt>, _>(observed.as_ref().map(|o| o.guest_id))
            .bind::<Nullable<Text>, _>(observed.as_ref().map(|o| o.service))
            .bind::<Text, _>(status)
            .bind::<Text, _>(result)
            .bind::<BigInt, _>(id)
            .get_result(conn)?);
    }
    write_tx(conn, |c| {
        if let Some(o) = observed {
            set_service_state(c, o.guest_id, o.service, o.state, now)?;
        }
        Ok(diesel::sql_query(format!(
            "UPDATE commands SET status = $1, result = $2, finished_at = $3 WHERE id = $4 \
             RETURNING {ROW_COLUMNS}"
        ))
        .bind::<Text, _>(status)
        .bind::<Text, _>(result)
        .bind::<BigInt, _>(now)
        .bind::<BigInt, _>(id)
        .get_result(c)?)
    })
}

/// Word that commands are finished, for those waiting for them.
#[derive(Debug, Clone, PartialEq)]
pub enum Finished {
    /// This command, as stored once finished: no need to look it up.
    Command(Arc<CommandRow>),
    /// This command, finished by another process: look it up.
    Id(i64),
    /// Several (abandoned ones failed): look again.
    Several,
}

impl Finished {
    /// The word in a notification of [`announce_finished`] or
    /// [`fail_abandoned`].
    pub fn from_announcement(payload: &str) -> Vec<Self> {
        let ids: Result<Vec<i64>, _> = payload.split(',').map(str::parse).collect();
        match ids {
            Ok(ids) => ids.into_iter().map(Self::Id).collect(),
            Err(_) => vec![Self::Several],
        }
    }
}

/// Tells processes waiting for commands that these are finished: one
/// notification naming them all (comma-separated ids), not one each,
/// since notifying transactions commit one at a time.
pub fn announce_finished(conn: &mut AnyConnection, ids: &[i64]) -> StoreResult<()> {
    for payload in announcements(ids) {
        super::notify::notify(conn, super::notify::Channel::CommandsFinished, &payload)?;
    }
    Ok(())
}

/// The payloads naming `ids`, each well within the 8000 bytes a
/// notification may carry.
fn announcements(ids: &[i64]) -> Vec<String> {
    ids.chunks(200)
        .map(|some| {
            let each: Vec<String> = some.iter().map(i64::to_string).collect();
            each.join(",")
        })
        .collect()
}

/// Fails commands a dispatcher took before `before` and never finished:
/// it died with them (a command takes milliseconds). Not run again, since
/// it may have reached the guest: the user sees why and can click again.
pub fn fail_abandoned(conn: &mut AnyConnection, before: Millis, now: Millis) -> StoreResult<usize> {
    let failed = diesel::update(
        commands::table
            .filter(commands::status.eq("dispatched"))
            .filter(commands::dispatched_at.lt(before)),
    )
    .set((
        commands::status.eq("failed"),
        commands::result.eq("interrupted: the dispatcher stopped before the command was done; check the guest and try again"),
        commands::finished_at.eq(now),
    ))
    .execute(conn)?;
    if failed > 0 {
        super::notify::notify(conn, super::notify::Channel::CommandsFinished, "")?;
    }
    Ok(failed)
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
    diesel::update(one_service(guest_id, service))
        .set((
            guest_services::state.eq(state),
            guest_services::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every service of a guest in one observed state (a guest logged off).
pub fn set_all_service_states(
    conn: &mut AnyConnection,
    guest_id: i64,
    state: &str,
    now: Millis,
) -> StoreResult<()> {
    diesel::update(guest_services::table.filter(guest_services::guest_id.eq(guest_id)))
        .set((
            guest_services::state.eq(state),
            guest_services::updated_at.eq(now),
        ))
        .execute(conn)?;
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
    let n = diesel::update(one_service(guest_id, service))
        .set((
            guest_services::enabled.eq(enabled),
            guest_services::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

/// The guest's row for the catalog service of that name, found in the one
/// statement that changes it.
#[diesel::dsl::auto_type(no_type_alias)]
fn one_service<'a>(guest_id: i64, service: &'a str) -> _ {
    guest_services::table
        .filter(guest_services::guest_id.eq(guest_id))
        .filter(
            guest_services::service_id.eq_any(
                service_catalog::table
                    .filter(service_catalog::name.eq(service))
                    .select(service_catalog::id),
            ),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_announced_command_is_named_once() {
        let ids: Vec<i64> = (1..=450).map(|i| i * 1_000_000_007).collect();
        let payloads = announcements(&ids);
        assert!(payloads.iter().all(|p| p.len() < 8000));
        let heard: Vec<Finished> = payloads
            .iter()
            .flat_map(|p| Finished::from_announcement(p))
            .collect();
        assert_eq!(heard, ids.into_iter().map(Finished::Id).collect::<Vec<_>>());
        assert_eq!(Finished::from_announcement(""), vec![Finished::Several]);
    }
}
