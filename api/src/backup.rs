//! `herd-server backup DIR` and `herd-server restore DIR` (SPEC §12).
//!
//! A backup is taken while servers run: first the database (SQLite:
//! `VACUUM INTO`, one consistent snapshot; PostgreSQL: `pg_dump`, done by
//! the operator), then the simulated host under its lock. In that order,
//! whatever the host gained between the two is work the database had not
//! finished, or not begun, at its snapshot: a restored server resumes the
//! former (sagas are idempotent) and its start-up reconcile removes the
//! latter, so nothing is orphaned and every guest finished in the database
//! is on the host.

use std::path::Path;

use herd_core::store::{DbKind, Store};
use herd_provisioner::backend::sim::{SimBackend, SimSettings};
use serde::{Deserialize, Serialize};

use crate::app::{clock, StartError};
use crate::config::Settings;

const MANIFEST: &str = "herd-backup.json";
const DATABASE_FILE: &str = "herd.db";

/// What a backup holds, written last: a directory without it is no backup.
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    created_at: String,
    /// `sqlite` (the file is in the backup) or `postgresql` (`pg_dump`'s
    /// file is the operator's).
    database: String,
}

fn setup(what: impl std::fmt::Display) -> StartError {
    StartError::Setup(what.to_string())
}

/// Makes a backup in `dir` (new or empty). Answers what was done, a line
/// each.
pub fn backup(settings: &Settings, dir: &Path) -> Result<Vec<String>, StartError> {
    ensure_empty(dir, "backup directory")?;
    std::fs::create_dir_all(dir)?;
    let url = settings.database_url();
    let mut done = Vec::new();
    let database = match DbKind::of_url(&url) {
        DbKind::Sqlite => {
            let store = Store::open(&url, 1)?;
            store.backup_sqlite_into(&dir.join(DATABASE_FILE))?;
            done.push(format!("database: SQLite copied to {DATABASE_FILE}"));
            "sqlite"
        }
        DbKind::Postgres => {
            done.push(
                "database: PostgreSQL is not in this backup; dump it with pg_dump \
                 first (docs/operations.md, \"Backup and restore\")"
                    .into(),
            );
            "postgresql"
        }
    };
    let sim = SimBackend::attach(&settings.data_dir, clock(settings), SimSettings::default())
        .map_err(|e| setup(format!("the simulated host: {e}")))?;
    sim.backup(dir)
        .map_err(|e| setup(format!("copying the simulated host: {e}")))?;
    done.push("simulated host: state and disks copied to zvm/".into());
    let manifest = Manifest {
        format: 1,
        created_at: herd_core::clock::rfc3339(clock(settings).now_ms()),
        database: database.into(),
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(setup)?;
    std::fs::write(dir.join(MANIFEST), text)?;
    Ok(done)
}

/// Fills the configured data directory (which must be empty) from the
/// backup in `dir`.
pub fn restore(settings: &Settings, dir: &Path) -> Result<Vec<String>, StartError> {
    let manifest: Manifest = std::fs::read_to_string(dir.join(MANIFEST))
        .map_err(|e| setup(format!("{} is no herd backup: {e}", dir.display())))
        .and_then(|text| serde_json::from_str(&text).map_err(setup))?;
    ensure_empty(&settings.data_dir, "data directory")?;
    let url = settings.database_url();
    let mut done = Vec::new();
    match (manifest.database.as_str(), DbKind::of_url(&url)) {
        ("sqlite", DbKind::Sqlite) => {
            let target = Path::new(url.strip_prefix("sqlite://").unwrap_or(&url));
            if target.exists() {
                return Err(setup(format!("{} exists already", target.display())));
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(dir.join(DATABASE_FILE), target)?;
            done.push(format!("database: SQLite restored to {}", target.display()));
        }
        ("postgresql", DbKind::Postgres) => done
            .push("database: PostgreSQL is restored with pg_restore (docs/operations.md)".into()),
        (was, _) => {
            return Err(setup(format!(
                "the backup holds a {was} database, but HERD_DATABASE_URL names another kind"
            )))
        }
    }
    std::fs::create_dir_all(&settings.data_dir)?;
    SimBackend::restore(dir, &settings.data_dir)
        .map_err(|e| setup(format!("restoring the simulated host: {e}")))?;
    done.push(format!(
        "simulated host: restored to {}",
        settings.data_dir.join("zvm").display()
    ));
    done.push("start the server: it reconciles the two at its start".into());
    Ok(done)
}

/// Refuses a directory that holds anything.
fn ensure_empty(dir: &Path, what: &str) -> Result<(), StartError> {
    match std::fs::read_dir(dir).map(|mut entries| entries.next().is_some()) {
        Ok(true) => Err(setup(format!("the {what} {} is not empty", dir.display()))),
        Ok(false) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}
