//! The guests' SSH host keys (SPEC §8): made by each guest at its first
//! boot, reported by its login shell on the console, recorded here. A
//! client can never set one.

use herd_core::clock::Millis;
use herd_core::domain::{EventKind, GuestName, HostKey};
use herd_core::store::events::{GuestWork, Outcome};
use herd_core::store::{guests, AnyConnection};

use crate::backend::{Backend, ConsoleReply, HOST_KEY_COMMAND};
use crate::error::WorkerError;

/// Asks a running guest for its host key and records it when new (an
/// event then gives its fingerprint). A guest that does not answer, or
/// answers nonsense, is asked again at its next boot.
pub fn record(
    conn: &mut AnyConnection,
    backend: &dyn Backend,
    guest_id: i64,
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
    if guests::set_host_key(conn, guest_id, &key.openssh())? {
        let work = GuestWork {
            kind: EventKind::Provisioning,
            guest_id,
            guest: name.as_str(),
        };
        let detail = format!("SSH host key {}", key.fingerprint());
        work.record(conn, "guest.host_key", Outcome::Info, Some(&detail), now)?;
    }
    Ok(())
}
