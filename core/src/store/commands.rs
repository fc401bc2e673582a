//! The command channel's table (SPEC §3): the web side records commands as
//! text; the dispatcher claims, executes and answers them.

use std::collections::HashMap;
use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::Deserialize;

use super::events::{self, NewEvent};
use super::kept::kept;
use super::notify::Channel;
use super::schema::{commands, guest_services, guests, service_catalog};
use super::{write_tx, AnyConnection, StoreResult};
use crate::clock::Millis;
use crate::domain::CommandStatus;

#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Deserialize)]
#[diesel(table_name = commands)]
pub struct CommandRow {
    pub id: i64,
    pub guest_id: i64,
    pub requested_by: Option<i64>,
    pub text: String,
    #[diesel(sql_type = Text)]
    pub status: CommandStatus,
    pub result: Option<String>,
    pub created_at: Millis,
    pub dispatched_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    /// The HTTP request that asked for it (`x-request-id`), followed into
    /// the dispatcher's log lines.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// A command's status as stored, on any backend (the command channel also
/// reads on the concrete connections): text that names no status is an
/// error (a row a newer release wrote), never a guess.
impl<DB> diesel::deserialize::FromSql<Text, DB> for CommandStatus
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let text = <String as diesel::deserialize::FromSql<Text, DB>>::from_sql(bytes)?;
        Ok(CommandStatus::try_from(text)?)
    }
}

/// One request's commands for one guest, to be recorded with others.
pub struct Requested<'a> {
    pub guest_id: i64,
    pub requested_by: Option<i64>,
    pub request_id: Option<&'a str>,
    /// Run in this order.
    pub texts: &'a [String],
    /// Each command's audit entry, with the command's text as detail.
    pub audit: NewEvent<'a>,
}

/// Records the commands of several requests, `queued`, each request's in
/// the order given and each with its audit entry; answers each request's
/// commands as stored. All or none, in one statement on PostgreSQL and one
/// write transaction on SQLite: under load, the requests waiting at the
/// moment cost one write instead of one each. With `announce`, dispatchers
/// of other processes are told with the commit, in the same statement
/// (PostgreSQL `NOTIFY`; SQLite has none).
pub fn record_all(
    conn: &mut AnyConnection,
    requests: &[Requested<'_>],
    now: Millis,
    announce: bool,
) -> StoreResult<Vec<Vec<CommandRow>>> {
    let mut rows = match conn {
        AnyConnection::Postgresql(pg) => record_in_one_statement(pg, requests, now, announce)?,
        AnyConnection::Sqlite(_) => write_tx(conn, |c| {
            requests
                .iter()
                .flat_map(|r| r.texts.iter().map(move |text| (r, text)))
                .map(|(r, text)| {
                    let row = insert_row(c, r.guest_id, r.requested_by, r.request_id, text, now)?;
                    let entry = NewEvent {
                        detail: Some(text),
                        ..r.audit.clone()
                    };
                    events::record(c, &entry, now)?;
                    Ok(row)
                })
                .collect::<StoreResult<Vec<_>>>()
        })?,
    };
    // Ids follow the order recorded: requests in turn, each one's in order.
    rows.sort_by_key(|r| r.id);
    let mut rows = rows.into_iter();
    Ok(requests
        .iter()
        .map(|r| rows.by_ref().take(r.texts.len()).collect())
        .collect())
}

/// The commands' ids follow the order of the rows (`ORDER BY n`): the
/// dispatcher runs a guest's commands in id order.
fn record_in_one_statement(
    pg: &mut diesel::PgConnection,
    requests: &[Requested<'_>],
    now: Millis,
    announce: bool,
) -> QueryResult<Vec<CommandRow>> {
    use diesel::sql_types::Array;
    let sql = format!(
        "WITH rows AS (\
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], \
                                $5::bigint[], $6::text[], $7::text[], $8::text[], \
                                $9::bigint[], $10::text[], $11::text[], $15::text[]) \
           WITH ORDINALITY AS r(guest_id_, requested_by_, text_, kind_, actor_id_, actor_, \
                                action_, target_, audit_guest_id_, client_addr_, outcome_, \
                                request_id_, n)), \
         recorded AS (\
           INSERT INTO commands (guest_id, requested_by, text, status, created_at, request_id) \
           SELECT guest_id_, requested_by_, text_, 'queued', $12, request_id_ FROM rows ORDER BY n \
           RETURNING {ROW_COLUMNS}), \
         audited AS (\
           INSERT INTO events (at, kind, actor_id, actor, action, target, guest_id, \
                               client_addr, outcome, detail, request_id) \
           SELECT $12, kind_, actor_id_, actor_, action_, target_, audit_guest_id_, \
                  client_addr_, outcome_, text_, request_id_ FROM rows), \
         told AS (SELECT count(pg_notify($13, payload)) AS notified \
                  FROM unnest($14::text[]) AS payload) \
         SELECT {ROW_COLUMNS} FROM recorded, told"
    );
    // One row a command: each array holds one field of every row.
    let each = |field: &dyn Fn(&Requested<'_>, &String) -> Option<String>| -> Vec<Option<String>> {
        requests
            .iter()
            .flat_map(|r| r.texts.iter().map(move |t| field(r, t)))
            .collect()
    };
    let each_id = |field: fn(&Requested<'_>) -> Option<i64>| -> Vec<Option<i64>> {
        requests
            .iter()
            .flat_map(|r| r.texts.iter().map(move |_| field(r)))
            .collect()
    };
    kept(sql)
        .bind::<Array<Nullable<BigInt>>, _>(each_id(|r| Some(r.guest_id)))
        .bind::<Array<Nullable<BigInt>>, _>(each_id(|r| r.requested_by))
        .bind::<Array<Nullable<Text>>, _>(each(&|_, t| Some(t.clone())))
        .bind::<Array<Nullable<Text>>, _>(each(&|r, _| Some(r.audit.kind.as_str().into())))
        .bind::<Array<Nullable<BigInt>>, _>(each_id(|r| r.audit.actor_id))
        .bind::<Array<Nullable<Text>>, _>(each(&|r, _| Some(r.audit.actor.into())))
        .bind::<Array<Nullable<Text>>, _>(each(&|r, _| Some(r.audit.action.into())))
        .bind::<Array<Nullable<Text>>, _>(each(&|r, _| r.audit.target.map(Into::into)))
        .bind::<Array<Nullable<BigInt>>, _>(each_id(|r| r.audit.guest_id))
        .bind::<Array<Nullable<Text>>, _>(each(&|r, _| r.audit.client_addr.map(Into::into)))
        .bind::<Array<Nullable<Text>>, _>(each(&|r, _| Some(r.audit.outcome.as_str().into())))
        .bind::<BigInt, _>(now)
        .bind::<Text, _>(Channel::CommandsWaiting.name())
        .bind::<Array<Text>, _>(if announce { vec![""] } else { vec![] })
        .bind::<Array<Nullable<Text>>, _>(each(&|r, _| r.request_id.map(Into::into)))
        .load(pg)
}

/// Records a command of background work (no request asked for it),
/// `queued`; answers it as stored.
pub fn insert(
    conn: &mut AnyConnection,
    guest_id: i64,
    requested_by: Option<i64>,
    text: &str,
    now: Millis,
) -> StoreResult<CommandRow> {
    insert_row(conn, guest_id, requested_by, None, text, now)
}

fn insert_row(
    conn: &mut AnyConnection,
    guest_id: i64,
    requested_by: Option<i64>,
    request_id: Option<&str>,
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
            commands::request_id.eq(request_id),
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
            commands::request_id,
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

/// These commands as stored (those that exist), in id order.
pub fn find_all(conn: &mut AnyConnection, ids: &[i64]) -> StoreResult<Vec<CommandRow>> {
    Ok(load_listed!(
        conn,
        commands::table
            .filter(commands::id.eq_any(ids))
            .order(commands::id)
            .select(CommandRow::as_select())
    )?)
}

/// The columns of [`CommandRow`], for the statements written in SQL.
const ROW_COLUMNS: &str = "id, guest_id, requested_by, text, status, result, created_at, \
                           dispatched_at, finished_at, request_id";

/// A claimed command and the guest it was recorded for, as that guest is
/// at the claim (`None`: gone).
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub command: CommandRow,
    pub guest: Option<GuestNow>,
}

#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct GuestNow {
    pub name: String,
    pub state: String,
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(embed)]
    command: CommandRow,
    #[diesel(sql_type = Nullable<Text>)]
    guest_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    guest_state: Option<String>,
}

/// Takes up to `limit` queued commands, oldest first, for this dispatcher,
/// with their guests. On PostgreSQL in one statement (one round trip: a
/// click waits for it, and under load each costs a wait for the CPU), the
/// rows locked with `SKIP LOCKED`, so dispatchers of several processes
/// take different commands instead of queueing on the same; on SQLite the
/// writer's turn serialises them. Each command is taken once.
pub fn claim_queued(
    conn: &mut AnyConnection,
    dispatcher: &str,
    now: Millis,
    limit: i64,
) -> StoreResult<Vec<Claimed>> {
    let claim = |lock: &str| {
        format!(
            "UPDATE commands SET status = 'dispatched', claimed_by = $1, dispatched_at = $2 \
             WHERE id IN (SELECT id FROM commands WHERE status = 'queued' \
             ORDER BY id LIMIT $3 {lock}) RETURNING {ROW_COLUMNS}"
        )
    };
    let mut claimed = match conn {
        AnyConnection::Postgresql(pg) => {
            let with_guests = format!(
                "WITH claimed AS ({}) \
                 SELECT claimed.*, guests.name AS guest_name, guests.state AS guest_state \
                 FROM claimed LEFT JOIN guests ON guests.id = claimed.guest_id",
                claim("FOR UPDATE SKIP LOCKED")
            );
            kept(with_guests)
                .bind::<Text, _>(dispatcher)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(limit)
                .load::<ClaimedRow>(pg)?
                .into_iter()
                .map(|r| Claimed {
                    command: r.command,
                    guest: r
                        .guest_name
                        .zip(r.guest_state)
                        .map(|(name, state)| GuestNow { name, state }),
                })
                .collect()
        }
        AnyConnection::Sqlite(_) => write_tx(conn, |c| {
            let commands: Vec<CommandRow> = diesel::sql_query(claim(""))
                .bind::<Text, _>(dispatcher)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(limit)
                .load(c)?;
            let guest_ids: Vec<i64> = commands.iter().map(|r| r.guest_id).collect();
            let guests: HashMap<i64, GuestNow> = guests::table
                .filter(guests::id.eq_any(guest_ids))
                .select((guests::id, (guests::name, guests::state)))
                .load::<(i64, GuestNow)>(c)?
                .into_iter()
                .collect();
            Ok::<_, diesel::result::Error>(
                commands
                    .into_iter()
                    .map(|command| Claimed {
                        guest: guests.get(&command.guest_id).cloned(),
                        command,
                    })
                    .collect::<Vec<_>>(),
            )
        })?,
    };
    // RETURNING keeps no order.
    claimed.sort_by_key(|c| c.command.id);
    Ok(claimed)
}

/// What a finished service command observed about its service.
#[derive(Debug, Clone)]
pub struct Observed {
    pub service: String,
    pub state: &'static str,
}

/// How a command ended, to be recorded with [`finish_all`].
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: i64,
    pub guest_id: i64,
    pub succeeded: bool,
    pub result: String,
    /// A service's state the command changed.
    pub observed: Option<Observed>,
}

impl Outcome {
    fn status(&self) -> &'static str {
        if self.succeeded {
            "succeeded"
        } else {
            "failed"
        }
    }
}

/// Ends commands with their results and, with each, records the service
/// state it observed (in the order given, so that the last word on a
/// service stands). Answers the finished commands. Other processes
/// waiting for them are told with the commit: one PostgreSQL `NOTIFY` per
/// command, carrying it as stored, so that they need not read it (see
/// [`Finished::from_announcements`]).
///
/// All at once: under load a dispatcher records a round's results
/// together, in one write transaction on SQLite (one turn of the writer
/// instead of one a command) and in one statement on PostgreSQL.
pub fn finish_all(
    conn: &mut AnyConnection,
    outcomes: &[Outcome],
    now: Millis,
) -> StoreResult<Vec<CommandRow>> {
    if outcomes.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = match conn {
        AnyConnection::Postgresql(pg) => finish_all_in_one_statement(pg, outcomes, now)?,
        AnyConnection::Sqlite(_) => write_tx(conn, |c| {
            outcomes
                .iter()
                .map(|o| finish_one(c, o, now))
                .collect::<StoreResult<Vec<_>>>()
        })?,
    };
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

fn finish_one(conn: &mut AnyConnection, o: &Outcome, now: Millis) -> StoreResult<CommandRow> {
    if let Some(seen) = &o.observed {
        set_service_state(conn, o.guest_id, &seen.service, seen.state, now)?;
    }
    Ok(diesel::sql_query(format!(
        "UPDATE commands SET status = $1, result = $2, finished_at = $3 WHERE id = $4 \
         RETURNING {ROW_COLUMNS}"
    ))
    .bind::<Text, _>(o.status())
    .bind::<Text, _>(&o.result)
    .bind::<BigInt, _>(now)
    .bind::<BigInt, _>(o.id)
    .get_result(conn)?)
}

/// The outcomes as arrays, one element each; the last observation of a
/// service wins (`DISTINCT ON` … `n DESC`), since an `UPDATE … FROM` with
/// two source rows for one target takes either. The notifications' count
/// is part of the answer, so that they are sent: PostgreSQL never runs a
/// `WITH` query that changes nothing unless it is read, and drops a
/// `LEFT JOIN` whose columns are not. The `= ANY` conditions repeat the
/// joins' for the planner: they let a generic plan find the rows by index
/// (see [`super::Workload::Clicks`]).
fn finish_all_in_one_statement(
    pg: &mut diesel::PgConnection,
    outcomes: &[Outcome],
    now: Millis,
) -> QueryResult<Vec<CommandRow>> {
    use diesel::sql_types::Array;
    let returning = ROW_COLUMNS
        .split(", ")
        .map(|c| format!("commands.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH done AS (\
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], \
                                $5::text[], $6::text[]) \
           WITH ORDINALITY AS d(done_id, done_status, done_result, seen_guest, \
                                seen_service, seen_state, n)), \
         last_seen AS (\
           SELECT DISTINCT ON (seen_guest, seen_service) seen_guest, seen_service, seen_state \
           FROM done WHERE seen_state IS NOT NULL \
           ORDER BY seen_guest, seen_service, n DESC), \
         observed AS (\
           UPDATE guest_services SET state = seen_state, updated_at = $7 \
           FROM last_seen JOIN service_catalog ON service_catalog.name = seen_service \
           WHERE guest_services.guest_id = seen_guest \
           AND guest_services.guest_id = ANY($4) \
           AND guest_services.service_id = service_catalog.id), \
         finished AS (\
           UPDATE commands SET status = done_status, result = done_result, finished_at = $7 \
           FROM done WHERE commands.id = done_id AND commands.id = ANY($1) \
           RETURNING {returning}), \
         told AS (SELECT count(pg_notify($8, CASE WHEN octet_length(carried) < 8000 \
                                                  THEN carried ELSE id::text END)) AS notified \
                  FROM (SELECT id, row_to_json(finished)::text AS carried FROM finished) AS rows) \
         SELECT finished.*, notified FROM finished, told"
    );
    let observed = |f: fn(&Observed) -> &str| -> Vec<Option<&str>> {
        outcomes
            .iter()
            .map(|o| o.observed.as_ref().map(f))
            .collect()
    };
    let ids: Vec<i64> = outcomes.iter().map(|o| o.id).collect();
    kept(sql)
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Array<Text>, _>(outcomes.iter().map(Outcome::status).collect::<Vec<_>>())
        .bind::<Array<Text>, _>(
            outcomes
                .iter()
                .map(|o| o.result.as_str())
                .collect::<Vec<_>>(),
        )
        .bind::<Array<BigInt>, _>(outcomes.iter().map(|o| o.guest_id).collect::<Vec<_>>())
        .bind::<Array<Nullable<Text>>, _>(observed(|s| s.service.as_str()))
        .bind::<Array<Nullable<Text>>, _>(observed(|s| s.state))
        .bind::<BigInt, _>(now)
        .bind::<Text, _>(Channel::CommandsFinished.name())
        .load(pg)
}

/// Word that commands are finished, for those waiting for them.
#[derive(Debug, Clone, PartialEq)]
pub enum Finished {
    /// These commands, as stored once finished: no need to look them up.
    Commands(Arc<[CommandRow]>),
    /// These commands, finished by another process: look them up.
    Ids(Arc<[i64]>),
    /// Some (abandoned ones failed): look again.
    Several,
}

impl Finished {
    /// The word in notifications of [`finish_all`] and [`fail_abandoned`]
    /// heard together: the commands they carry (in id order), those they
    /// name (a row too long to carry), and whether others may have
    /// finished (a blank one).
    pub fn from_announcements(payloads: &[String]) -> Vec<Self> {
        let (mut rows, mut ids, mut several) = (Vec::new(), Vec::new(), false);
        for payload in payloads {
            if let Ok(row) = serde_json::from_str::<CommandRow>(payload) {
                rows.push(row);
            } else if let Ok(id) = payload.parse() {
                ids.push(id);
            } else {
                several = true;
            }
        }
        rows.sort_by_key(|r| r.id);
        let mut words = Vec::new();
        if !rows.is_empty() {
            words.push(Self::Commands(rows.into()));
        }
        if !ids.is_empty() {
            words.push(Self::Ids(ids.into()));
        }
        if several {
            words.push(Self::Several);
        }
        words
    }

    /// The word with the named commands as stored, looked up at once: one
    /// query for every request waiting for one of them, instead of one
    /// each. Unchanged when the lookup fails (each then looks its own up).
    pub fn with_rows(self, conn: &mut AnyConnection) -> Self {
        match &self {
            Self::Ids(ids) => match find_all(conn, ids) {
                Ok(rows) if rows.len() == ids.len() => Self::Commands(rows.into()),
                _ => self,
            },
            _ => self,
        }
    }
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
