//! The published status of every process's background tasks (SPEC §10).
//! Each process keeps its own in memory and writes it here about every
//! second, so that any process can answer `GET /api/v1/system/tasks` for
//! all of them, a stopped process's last report included.

use diesel::prelude::*;

use super::schema::background_tasks;
use super::{write_tx, AnyConnection, StoreResult};
use crate::clock::Millis;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = background_tasks)]
#[diesel(treat_none_as_null = true)]
pub struct TaskReport {
    pub process: String,
    pub name: String,
    pub last_started_at: Option<Millis>,
    pub last_succeeded_at: Option<Millis>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Millis>,
    pub runs: i64,
    pub failures: i64,
    /// The task's latest run failed.
    pub failing: bool,
    pub reported_at: Millis,
}

/// Writes the reports of one process, in one transaction.
pub fn publish(conn: &mut AnyConnection, reports: &[TaskReport]) -> StoreResult<()> {
    write_tx(conn, |c| {
        for r in reports {
            let updated = diesel::update(background_tasks::table.find((&r.process, &r.name)))
                .set(r)
                .execute(c)?;
            if updated == 0 {
                diesel::insert_into(background_tasks::table)
                    .values(r)
                    .execute(c)?;
            }
        }
        Ok(())
    })
}

/// Every report, by process and name.
pub fn list(conn: &mut AnyConnection) -> StoreResult<Vec<TaskReport>> {
    Ok(background_tasks::table
        .select(TaskReport::as_select())
        .order((background_tasks::process, background_tasks::name))
        .load(conn)?)
}

/// Forgets the processes that have not reported since `before` (long gone:
/// kept until then so that an operator sees what a stopped process last did).
pub fn forget_silent(conn: &mut AnyConnection, before: Millis) -> StoreResult<usize> {
    Ok(
        diesel::delete(background_tasks::table.filter(background_tasks::reported_at.lt(before)))
            .execute(conn)?,
    )
}
