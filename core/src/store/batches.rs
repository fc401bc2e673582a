//! Batch provisioning: one item per user, each ending `skipped`,
//! `assigned`, `cloned`, `failed` or `cancelled`.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::schema::{batch_items, batches, jobs};
use super::{write_tx, AnyConnection, StoreError, StoreResult};
use crate::clock::Millis;
use crate::domain::{ItemStatus, JobKind, JobStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = batches)]
pub struct Batch {
    pub id: i64,
    pub job_id: i64,
    pub requested_by: Option<i64>,
    pub ldap_group: Option<String>,
    pub guests_per_user: i32,
    pub image_id: i64,
    pub expires_at: Option<Millis>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = batch_items)]
pub struct Item {
    pub id: i64,
    pub batch_id: i64,
    pub username: String,
    pub user_id: Option<i64>,
    #[diesel(deserialize_as = String)]
    pub status: ItemStatus,
    pub guest_names: String,
    pub error: Option<String>,
}

impl Item {
    pub fn guests(&self) -> Vec<String> {
        serde_json::from_str(&self.guest_names).unwrap_or_default()
    }
}

pub struct NewBatch<'a> {
    pub requested_by: Option<i64>,
    pub ldap_group: Option<&'a str>,
    pub guests_per_user: i32,
    pub image_id: i64,
    pub expires_at: Option<Millis>,
    /// (username, user id) per item; no id for a user nobody knows.
    pub users: &'a [(String, Option<i64>)],
}

/// Creates the batch, its job and its items together.
pub fn create(
    conn: &mut AnyConnection,
    new: &NewBatch,
    job_kind: JobKind,
    now: Millis,
) -> StoreResult<Batch> {
    write_tx(conn, |c| {
        let job = super::jobs::NewJob {
            kind: job_kind,
            requested_by: new.requested_by,
            target: new.ldap_group,
            params: "{}",
            total: new.users.len() as i32,
        };
        let job_id = super::jobs::create(c, &job, now)?;
        let id = diesel::insert_into(batches::table)
            .values((
                batches::job_id.eq(job_id),
                batches::requested_by.eq(new.requested_by),
                batches::ldap_group.eq(new.ldap_group),
                batches::guests_per_user.eq(new.guests_per_user),
                batches::image_id.eq(new.image_id),
                batches::expires_at.eq(new.expires_at),
                batches::created_at.eq(now),
            ))
            .returning(batches::id)
            .get_result::<i64>(c)?;
        for (username, user_id) in new.users {
            diesel::insert_into(batch_items::table)
                .values((
                    batch_items::batch_id.eq(id),
                    batch_items::username.eq(username),
                    batch_items::user_id.eq(user_id),
                    batch_items::status.eq(ItemStatus::Pending.as_str()),
                    batch_items::updated_at.eq(now),
                ))
                .execute(c)?;
        }
        Ok(batches::table
            .find(id)
            .select(Batch::as_select())
            .get_result(c)?)
    })
}

pub fn find(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<Batch>> {
    Ok(batches::table
        .find(id)
        .select(Batch::as_select())
        .get_result(conn)
        .optional()?)
}

pub fn for_job(conn: &mut AnyConnection, job_id: i64) -> StoreResult<Option<Batch>> {
    Ok(batches::table
        .filter(batches::job_id.eq(job_id))
        .select(Batch::as_select())
        .get_result(conn)
        .optional()?)
}

/// Newest first; `before` is the cursor (a batch id).
pub fn list(
    conn: &mut AnyConnection,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<(Vec<Batch>, bool)> {
    let mut q = batches::table.select(Batch::as_select()).into_boxed();
    if let Some(before) = before {
        q = q.filter(batches::id.lt(before));
    }
    let mut rows = q
        .order(batches::id.desc())
        .limit(limit + 1)
        .load::<Batch>(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    Ok((rows, more))
}

pub fn items(conn: &mut AnyConnection, batch_id: i64) -> StoreResult<Vec<Item>> {
    Ok(batch_items::table
        .filter(batch_items::batch_id.eq(batch_id))
        .order(batch_items::username)
        .select(Item::as_select())
        .load(conn)?)
}

/// The batch's items still pending, in user name order.
pub fn pending_items(conn: &mut AnyConnection, batch_id: i64) -> StoreResult<Vec<Item>> {
    Ok(batch_items::table
        .filter(batch_items::batch_id.eq(batch_id))
        .filter(batch_items::status.eq(ItemStatus::Pending.as_str()))
        .order(batch_items::username)
        .select(Item::as_select())
        .load(conn)?)
}

/// How many of the batch's items are in each status (statuses with none
/// left out).
pub fn status_counts(
    conn: &mut AnyConnection,
    batch_id: i64,
) -> StoreResult<Vec<(ItemStatus, i64)>> {
    let counted: Vec<(String, i64)> = batch_items::table
        .filter(batch_items::batch_id.eq(batch_id))
        .group_by(batch_items::status)
        .select((batch_items::status, diesel::dsl::count_star()))
        .load(conn)?;
    counted
        .into_iter()
        .map(|(status, n)| {
            let status = ItemStatus::try_from(status)
                .map_err(|e| StoreError::Corrupt(format!("batch_items.status: {e}")))?;
            Ok((status, n))
        })
        .collect()
}

/// An item's status, read under a row lock on PostgreSQL (SQLite's
/// `IMMEDIATE` write transaction already serialises writers): placing an
/// item and cancelling it take turns, so that nothing is placed for an item
/// once it is cancelled. Call it inside a write transaction.
pub fn lock_item(conn: &mut AnyConnection, item_id: i64) -> StoreResult<Option<ItemStatus>> {
    if let AnyConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT id FROM batch_items WHERE id = $1 FOR UPDATE")
            .bind::<BigInt, _>(item_id)
            .execute(pg)?;
    }
    let status: Option<String> = batch_items::table
        .find(item_id)
        .select(batch_items::status)
        .get_result(conn)
        .optional()?;
    status
        .map(|s| {
            ItemStatus::try_from(s)
                .map_err(|e| StoreError::corrupt("batch_items", "status", &e.text))
        })
        .transpose()
}

/// Settles a `pending` item: its status, guests and error. An item that is
/// no longer pending (cancelled meanwhile) stays as it is; answers whether
/// it was settled.
pub fn set_item(
    conn: &mut AnyConnection,
    item_id: i64,
    status: ItemStatus,
    guests: &[String],
    error: Option<&str>,
    now: Millis,
) -> StoreResult<bool> {
    let names = serde_json::to_string(guests).unwrap_or_else(|_| "[]".into());
    let settled = diesel::update(
        batch_items::table
            .find(item_id)
            .filter(batch_items::status.eq(ItemStatus::Pending.as_str())),
    )
    .set((
        batch_items::status.eq(status.as_str()),
        batch_items::guest_names.eq(names),
        batch_items::error.eq(error),
        batch_items::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(settled == 1)
}

/// Moves items of one status to another (retry: failed → pending).
/// Returns how many moved.
pub fn move_items(
    conn: &mut AnyConnection,
    batch_id: i64,
    from: ItemStatus,
    to: ItemStatus,
    now: Millis,
) -> StoreResult<usize> {
    Ok(diesel::update(
        batch_items::table
            .filter(batch_items::batch_id.eq(batch_id))
            .filter(batch_items::status.eq(from.as_str())),
    )
    .set((
        batch_items::status.eq(to.as_str()),
        batch_items::error.eq(None::<String>),
        batch_items::updated_at.eq(now),
    ))
    .execute(conn)?)
}

/// Puts a finished batch's job back in the queue (retry).
pub fn requeue_job(conn: &mut AnyConnection, job_id: i64) -> StoreResult<()> {
    diesel::update(jobs::table.find(job_id))
        .set((
            jobs::status.eq(JobStatus::Queued.as_str()),
            jobs::error.eq(None::<String>),
            jobs::finished_at.eq(None::<i64>),
            jobs::claimed_by.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}
