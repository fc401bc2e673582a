//! Long work as jobs: queued by the API, claimed by a worker of any
//! process, with saga steps recorded one by one so a restart resumes.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use super::schema::{job_steps, jobs};
use super::{write_tx, AnyConnection, StoreError, StoreResult};
use crate::clock::Millis;
use crate::domain::{JobKind, JobStatus, StepStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: i64,
    #[diesel(deserialize_as = String)]
    pub kind: JobKind,
    #[diesel(deserialize_as = String)]
    pub status: JobStatus,
    pub requested_by: Option<i64>,
    pub target: Option<String>,
    pub params: String,
    pub progress_done: i32,
    pub progress_total: i32,
    pub error: Option<String>,
    pub created_at: Millis,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// JSON: what the job produced.
    pub result: Option<String>,
}

fn parse_status(status: &str) -> StoreResult<JobStatus> {
    JobStatus::parse(status).ok_or_else(|| StoreError::corrupt("jobs", "status", status))
}

pub struct NewJob<'a> {
    pub kind: JobKind,
    pub requested_by: Option<i64>,
    pub target: Option<&'a str>,
    pub params: &'a str,
    pub total: i32,
}

pub fn create(conn: &mut AnyConnection, new: &NewJob, now: Millis) -> StoreResult<i64> {
    Ok(diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(new.kind.as_str()),
            jobs::status.eq(JobStatus::Queued.as_str()),
            jobs::requested_by.eq(new.requested_by),
            jobs::target.eq(new.target),
            jobs::params.eq(new.params),
            jobs::progress_total.eq(new.total),
            jobs::created_at.eq(now),
        ))
        .returning(jobs::id)
        .get_result(conn)?)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<Job>> {
    Ok(jobs::table
        .find(id)
        .select(Job::as_select())
        .get_result(conn)
        .optional()?)
}

/// Newest first; `before` is the cursor (an id).
pub fn list(
    conn: &mut AnyConnection,
    requested_by: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<(Vec<Job>, bool)> {
    let mut q = jobs::table.select(Job::as_select()).into_boxed();
    if let Some(user) = requested_by {
        q = q.filter(jobs::requested_by.eq(user));
    }
    if let Some(before) = before {
        q = q.filter(jobs::id.lt(before));
    }
    let mut rows = q
        .order(jobs::id.desc())
        .limit(limit + 1)
        .load::<Job>(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    Ok((rows, more))
}

/// Jobs of one kind still `queued` or `running`.
pub fn unfinished(conn: &mut AnyConnection, kind: JobKind) -> StoreResult<Vec<Job>> {
    Ok(jobs::table
        .filter(jobs::kind.eq(kind.as_str()))
        .filter(jobs::status.eq_any([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]))
        .select(Job::as_select())
        .order(jobs::id)
        .load(conn)?)
}

/// The unfinished jobs of these kinds that work on `target`.
pub fn unfinished_for_target(
    conn: &mut AnyConnection,
    kinds: &[JobKind],
    target: &str,
) -> StoreResult<Vec<Job>> {
    Ok(jobs::table
        .filter(jobs::kind.eq_any(kinds.iter().map(|k| k.as_str())))
        .filter(jobs::target.eq(target))
        .filter(jobs::status.eq_any([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]))
        .select(Job::as_select())
        .order(jobs::id)
        .load(conn)?)
}

/// The running jobs of these kinds that `worker` claimed: work it settles
/// over many rounds, keeping them alive with [`heartbeat`].
pub fn claimed_by(
    conn: &mut AnyConnection,
    kinds: &[JobKind],
    worker: &str,
) -> StoreResult<Vec<Job>> {
    Ok(jobs::table
        .filter(jobs::kind.eq_any(kinds.iter().map(|k| k.as_str())))
        .filter(jobs::claimed_by.eq(worker))
        .filter(jobs::status.eq(JobStatus::Running.as_str()))
        .select(Job::as_select())
        .order(jobs::id)
        .load(conn)?)
}

/// Running jobs of one kind that no worker holds: work placed by a worker
/// and released (see [`release`]) for followers to settle.
pub fn released(conn: &mut AnyConnection, kind: JobKind) -> StoreResult<Vec<Job>> {
    Ok(jobs::table
        .filter(jobs::kind.eq(kind.as_str()))
        .filter(jobs::status.eq(JobStatus::Running.as_str()))
        .filter(jobs::claimed_by.is_null())
        .select(Job::as_select())
        .order(jobs::id)
        .load(conn)?)
}

/// Lets go of a running job whose worker has done its part (a batch whose
/// items are placed): it stays `running` for its follower. A worker that
/// dies before this leaves the job claimed, to be taken over and redone.
pub fn release(conn: &mut AnyConnection, id: i64) -> StoreResult<()> {
    diesel::update(jobs::table.find(id))
        .set(jobs::claimed_by.eq(None::<String>))
        .execute(conn)?;
    Ok(())
}

/// The statuses of the given jobs.
pub fn statuses(conn: &mut AnyConnection, ids: &[i64]) -> StoreResult<Vec<JobStatus>> {
    jobs::table
        .filter(jobs::id.eq_any(ids))
        .select(jobs::status)
        .load::<String>(conn)?
        .iter()
        .map(|s| parse_status(s))
        .collect()
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Takes a running job of the given kinds whose worker stopped sending
/// heartbeats before `stale_before` (its process died: the job resumes from
/// its recorded steps), else the oldest queued one. Exactly one worker wins
/// each job, across processes: the update re-checks the status it read.
///
/// Two statements, not one: asked for either at once, PostgreSQL sorted
/// every queued job to find the first (4 ms a claim with 10,000 queued by
/// a batch); asked for each, it reads the first entry of `jobs_status`.
pub fn claim(
    conn: &mut AnyConnection,
    kinds: &[JobKind],
    worker: &str,
    now: Millis,
    stale_before: Millis,
) -> StoreResult<Option<Job>> {
    let stale = format!("status = 'running' AND heartbeat_at < {stale_before}");
    let claimed = write_tx(conn, |c| {
        for claimable in [stale.as_str(), "status = 'queued'"] {
            let claimed = claim_one(c, kinds, claimable, worker, now)?;
            if claimed.is_some() {
                return Ok(claimed);
            }
        }
        Ok::<_, diesel::result::Error>(None)
    })?;
    match claimed {
        Some(id) => find(conn, id),
        None => Ok(None),
    }
}

/// The first job of `kinds` that is `claimable` (an SQL condition), now
/// claimed by `worker`.
fn claim_one(
    c: &mut AnyConnection,
    kinds: &[JobKind],
    claimable: &str,
    worker: &str,
    now: Millis,
) -> QueryResult<Option<i64>> {
    let kinds_sql = kinds
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let claimable = format!("kind IN ({kinds_sql}) AND {claimable}");
    let (lock, worker_param) = match c {
        AnyConnection::Postgresql(_) => (" FOR UPDATE SKIP LOCKED", "$1"),
        AnyConnection::Sqlite(_) => ("", "?"),
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', claimed_by = {worker_param}, heartbeat_at = {now}, \
         started_at = COALESCE(started_at, {now}) \
         WHERE {claimable} AND id = (SELECT id FROM jobs WHERE {claimable} ORDER BY id LIMIT 1{lock}) \
         RETURNING id"
    );
    let claimed = diesel::sql_query(&sql)
        .bind::<Text, _>(worker)
        .load::<Claimed>(c)?;
    Ok(claimed.first().map(|c| c.id))
}

/// Keeps a claimed job from being taken over while its worker lives.
pub fn heartbeat(conn: &mut AnyConnection, id: i64, worker: &str, now: Millis) -> StoreResult<()> {
    diesel::update(jobs::table.find(id).filter(jobs::claimed_by.eq(worker)))
        .set(jobs::heartbeat_at.eq(now))
        .execute(conn)?;
    Ok(())
}

pub fn set_progress(conn: &mut AnyConnection, id: i64, done: i32, total: i32) -> StoreResult<()> {
    diesel::update(jobs::table.find(id))
        .set((jobs::progress_done.eq(done), jobs::progress_total.eq(total)))
        .execute(conn)?;
    Ok(())
}

/// Ends a job: `succeeded`, `failed` (with the error) or `cancelled`.
pub fn finish(
    conn: &mut AnyConnection,
    id: i64,
    status: JobStatus,
    error: Option<&str>,
    now: Millis,
) -> StoreResult<()> {
    // A job settled without being claimed (a refill, a cancelled batch)
    // still gets a start.
    diesel::update(jobs::table.find(id).filter(jobs::started_at.is_null()))
        .set(jobs::started_at.eq(now))
        .execute(conn)?;
    diesel::update(jobs::table.find(id))
        .set((
            jobs::status.eq(status.as_str()),
            jobs::error.eq(error),
            jobs::finished_at.eq(now),
            jobs::claimed_by.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Cancels a job that no worker has claimed yet; answers whether it was
/// still queued. A job being claimed at the same moment either is claimed
/// first (and this answers `false`) or never (on PostgreSQL the update waits
/// for the claim's row lock and re-checks the status).
pub fn cancel_queued(conn: &mut AnyConnection, id: i64, now: Millis) -> StoreResult<bool> {
    let queued = jobs::status.eq(JobStatus::Queued.as_str());
    let cancelled = diesel::update(jobs::table.find(id).filter(queued))
        .set((
            jobs::status.eq(JobStatus::Cancelled.as_str()),
            jobs::started_at.eq(now),
            jobs::finished_at.eq(now),
        ))
        .execute(conn)?;
    Ok(cancelled == 1)
}

/// One step of a saga as its job records it. Steps are known by name: the
/// saga's list of steps may grow between releases, and a step recorded by
/// an older one must still be found. `seq` is only the order shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub seq: i32,
    pub name: String,
    pub status: StepStatus,
    pub detail: Option<String>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = job_steps)]
struct StepRow {
    seq: i32,
    name: String,
    status: String,
    detail: Option<String>,
}

impl TryFrom<StepRow> for Step {
    type Error = StoreError;

    fn try_from(row: StepRow) -> StoreResult<Self> {
        let status = StepStatus::parse(&row.status)
            .ok_or_else(|| StoreError::corrupt("job_steps", "status", &row.status))?;
        Ok(Step {
            seq: row.seq,
            name: row.name,
            status,
            detail: row.detail,
        })
    }
}

pub fn steps(conn: &mut AnyConnection, job_id: i64, guest_id: i64) -> StoreResult<Vec<Step>> {
    job_steps::table
        .filter(job_steps::job_id.eq(job_id))
        .filter(job_steps::guest_id.eq(guest_id))
        .order((job_steps::seq, job_steps::id))
        .select(StepRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Step::try_from)
        .collect()
}

/// Records a step's status before the saga moves on: this row, found by
/// the step's name, is what a restart resumes from. `started_at` is when
/// the step last started running, `finished_at` when it last settled.
pub fn record_step(
    conn: &mut AnyConnection,
    job_id: i64,
    guest_id: i64,
    step: &Step,
    now: Millis,
) -> StoreResult<()> {
    // One statement whether the step is new or recorded before: a saga
    // records each step twice (running, then done), and on PostgreSQL every
    // statement is a round trip. A step starting again restarts its clock;
    // a step ending keeps the start it had.
    const UPSERT: &str = "INSERT INTO job_steps \
         (job_id, guest_id, seq, name, status, detail, started_at, finished_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (job_id, guest_id, name) DO UPDATE SET \
         seq = excluded.seq, status = excluded.status, detail = excluded.detail, \
         started_at = CASE WHEN excluded.finished_at IS NULL \
         THEN excluded.started_at ELSE job_steps.started_at END, \
         finished_at = excluded.finished_at";
    let finished_at = (step.status != StepStatus::Running).then_some(now);
    // SQLite numbers `$n` parameters in the order they first appear, as
    // they do here: the one text serves both databases.
    diesel::sql_query(UPSERT)
        .bind::<BigInt, _>(job_id)
        .bind::<BigInt, _>(guest_id)
        .bind::<Integer, _>(step.seq)
        .bind::<Text, _>(&step.name)
        .bind::<Text, _>(step.status.as_str())
        .bind::<Nullable<Text>, _>(&step.detail)
        .bind::<BigInt, _>(now)
        .bind::<Nullable<BigInt>, _>(finished_at)
        .execute(conn)?;
    Ok(())
}

/// When each recorded step of the job last started, by name: how a test
/// sees which steps a resumed saga ran again.
pub fn step_starts(
    conn: &mut AnyConnection,
    job_id: i64,
    guest_id: i64,
) -> StoreResult<Vec<(String, Option<Millis>)>> {
    Ok(job_steps::table
        .filter(job_steps::job_id.eq(job_id))
        .filter(job_steps::guest_id.eq(guest_id))
        .order((job_steps::seq, job_steps::id))
        .select((job_steps::name, job_steps::started_at))
        .load(conn)?)
}

/// The newest job of a kind that works on `target`.
pub fn latest_for_target(
    conn: &mut AnyConnection,
    kind: JobKind,
    target: &str,
) -> StoreResult<Option<Job>> {
    Ok(jobs::table
        .filter(jobs::kind.eq(kind.as_str()))
        .filter(jobs::target.eq(target))
        .order(jobs::id.desc())
        .select(Job::as_select())
        .first(conn)
        .optional()?)
}

/// Marks a job as alive whoever follows it (jobs settled by any worker).
pub fn heartbeat_any(conn: &mut AnyConnection, id: i64, now: Millis) -> StoreResult<()> {
    diesel::update(jobs::table.find(id))
        .set(jobs::heartbeat_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Records what a job produced so far (JSON).
pub fn set_result(conn: &mut AnyConnection, id: i64, result: &str) -> StoreResult<()> {
    diesel::update(jobs::table.find(id))
        .set(jobs::result.eq(result))
        .execute(conn)?;
    Ok(())
}

/// Replaces a job's parameters (a long job's own progress state).
pub fn set_params(conn: &mut AnyConnection, id: i64, params: &str) -> StoreResult<()> {
    diesel::update(jobs::table.find(id))
        .set(jobs::params.eq(params))
        .execute(conn)?;
    Ok(())
}

/// A job that settles over many rounds (staged operations) shows `running`
/// from its first round on.
pub fn mark_running(conn: &mut AnyConnection, id: i64, now: Millis) -> StoreResult<()> {
    diesel::update(
        jobs::table
            .find(id)
            .filter(jobs::status.eq(JobStatus::Queued.as_str())),
    )
    .set((
        jobs::status.eq(JobStatus::Running.as_str()),
        jobs::started_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}
