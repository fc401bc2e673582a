//! Directory changes take effect without a new login (SPEC §12): a
//! background task looks directory users up again once their last answer
//! is `HERD_LDAP_RECHECK_SECONDS` old, while their tokens are in use. A user
//! gone from the directory loses every token (`401` from then on); one
//! whose groups changed gets the role they now give (every request reads
//! the role afresh). A directory that does not answer changes nothing: the
//! last answer stands until the token's own expiry, and the task shows the
//! failure.

use std::time::Duration;

use herd_core::clock::SharedClock;
use herd_core::domain::EventKind;
use herd_core::store::events::{self, NewEvent, Outcome};
use herd_core::store::users::{self, User};
use herd_core::store::{tokens, write_tx, AnyConnection, Store};
use herd_provisioner::tasks::{Task, TaskError};
use herd_provisioner::wake::Wake;

use super::directory::Directory;

/// How often the task looks for users due: a small query when none is.
const SWEEP: Duration = Duration::from_secs(2);

/// The task, for a server with a directory.
pub fn task(store: Store, clock: SharedClock, directory: Directory, every: Duration) -> Task {
    let every_ms = every.as_millis() as i64;
    Task::new(
        "directory_recheck",
        SWEEP,
        std::sync::Arc::new(Wake::default()),
        move || {
            let now = clock.now_ms();
            // In use: used within the bound, as far as the minute to
            // which uses are recorded tells.
            let used_since = now - every_ms - tokens::USE_RESOLUTION_MS;
            let due = users::due_for_recheck(&mut *store.conn()?, used_since, now - every_ms, now)?;
            if due.is_empty() {
                return Ok(());
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| TaskError::new(format!("a runtime for the directory: {e}")))?;
            let mut unreachable = None;
            for user in due {
                match runtime.block_on(directory.lookup(&user.username)) {
                    Ok(found) => {
                        let mut conn = store.conn()?;
                        write_tx(&mut conn, |c| settle(c, &user, found.as_ref(), now))?;
                    }
                    Err(e) => unreachable = Some(e.to_string()),
                }
            }
            match unreachable {
                Some(e) => Err(TaskError::new(format!(
                    "the directory did not answer; the last answers stand: {e}"
                ))),
                None => Ok(()),
            }
        },
    )
}

/// What the directory's answer changes, in one transaction.
fn settle(
    c: &mut AnyConnection,
    user: &User,
    found: Option<&users::DirectoryUser>,
    now: i64,
) -> herd_core::store::StoreResult<()> {
    let (action, detail) = match found {
        Some(found) => {
            users::upsert_directory(c, found, now)?;
            if found.role == user.role {
                return Ok(());
            }
            (
                "user.role",
                format!(
                    "the directory's groups now make {} {} (was {})",
                    user.username,
                    found.role.as_str(),
                    user.role.as_str()
                ),
            )
        }
        None => {
            let revoked = tokens::revoke_all_of(c, user.id, now)?;
            users::mark_checked(c, user.id, now)?;
            (
                "user.gone",
                format!(
                    "{} is no longer in the directory: {revoked} token(s) revoked",
                    user.username
                ),
            )
        }
    };
    let event = NewEvent {
        kind: EventKind::Audit,
        actor_id: None,
        actor: "system",
        action,
        target: Some(&user.username),
        guest_id: None,
        client_addr: None,
        outcome: Outcome::Info,
        detail: Some(&detail),
        request_id: None,
    };
    events::record(c, &event, now)?;
    Ok(())
}
