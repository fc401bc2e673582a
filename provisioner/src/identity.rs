//! The guests' SSH host keys (SPEC §8): made by each guest at its first
//! boot, reported by its login shell on the console, recorded here. A
//! client can never set one.

use herd_core::clock::Millis;
use herd_core::domain::{EventKind, GuestName, HostKey};
use herd_core::store::events::{GuestWork, Outcome};
use herd_core::store::{guests, AnyConnection};

use crate::backend::{Backend, ConsoleReply, HOST_KEY_COMMAND};
use crate::error::WorkerError;

/// Asks a running guest for its host key and records it the first time
/// (an event gives its fingerprint). A guest that later reports another
/// key keeps the recorded one, and its owner is warned: the published
/// identity changes only with a reset that asks for a new key. A guest
/// that does not answer, or answers nonsense, is asked again at its next
/// boot.
pub fn record(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    guest: &guests::GuestRow,
    name: &GuestName,
    now: Millis,
) -> Result<(), WorkerError> {
    let ConsoleReply::Completed { ok: true, output } =
        backend.console_write(name, HOST_KEY_COMMAND)?
    else {
        return Ok(());
    };
    let Ok(key) = output.parse::<HostKey>() else {
        tracing::warn!(guest = %name, "the console's host key is not an Ed25519 public key");
        return Ok(());
    };
    let work = GuestWork {
        kind: EventKind::Provisioning,
        guest_id: guest.id,
        guest: name.as_str(),
    };
    if guests::set_host_key(conn, guest.id, &key.openssh())? {
        let detail = format!("SSH host key {}", key.fingerprint());
        work.record(conn, "guest.host_key", Outcome::Info, Some(&detail), now)?;
    } else if guest.host_key().is_some_and(|known| known != key) {
        let detail = format!(
            "the guest now reports SSH host key {}; the recorded one stays",
            key.fingerprint()
        );
        work.record(conn, "guest.host_key", Outcome::Warning, Some(&detail), now)?;
    }
    Ok(())
}
