//! Who is calling: logins (local accounts and the directory), tokens, and
//! the extractor that turns a bearer token into a [`Caller`].

mod caller;
pub mod directory;
pub mod password;
pub mod recheck;
pub mod session;
mod throttle;
pub mod token;

pub use caller::{client_addr, Bearer, Caller};

use herd_core::clock::SharedClock;
use herd_core::domain::Role;
use herd_core::store::users::{self, NewLocalUser, User, UserSource};
use herd_core::store::{AnyConnection, Store};

use self::directory::{Directory, DirectoryError};
use self::throttle::LoginBudget;
use crate::blocking::db;
use crate::config::Settings;
use crate::problem::{ApiError, ApiResult};

const BAD_CREDENTIALS: &str = "invalid username or password";
/// Longer names are no one's; refusing them early keeps junk out of the
/// directory and the throttle table.
const MAX_USERNAME_LEN: usize = 256;

pub struct Authenticator {
    directory: Option<Directory>,
    budget: LoginBudget,
}

impl Authenticator {
    pub fn new(settings: &Settings) -> Result<Self, DirectoryError> {
        Ok(Self {
            directory: Directory::from_settings(settings)?,
            budget: LoginBudget {
                per_user: settings.login_failures_per_user,
                per_address: settings.login_failures_per_address,
                window_ms: settings.login_failure_window_seconds as i64 * 1000,
            },
        })
    }

    pub fn directory(&self) -> Option<&Directory> {
        self.directory.as_ref()
    }

    /// Checks credentials: a local account first, then the directory.
    /// Failures count against the throttle; a directory that cannot be
    /// reached is `503`, never `401`.
    pub async fn login(
        &self,
        store: &Store,
        clock: &SharedClock,
        username: &str,
        password: &str,
        client: &str,
    ) -> ApiResult<User> {
        if username.is_empty()
            || username.len() > MAX_USERNAME_LEN
            || username.chars().any(char::is_control)
        {
            return Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()));
        }
        if password.is_empty() {
            return Err(ApiError::Unauthorized("empty passwords are refused".into()));
        }
        let budget = self.budget;
        let (name, addr, now) = (username.to_owned(), client.to_owned(), clock.now_ms());
        let local = db(store, move |c| {
            budget.check(c, &name, &addr, now)?;
            Ok(users::find_by_username(c, &name)?)
        })
        .await?;

        let verified = match local {
            Some(
                user @ User {
                    source: UserSource::Local { .. },
                    ..
                },
            ) => Self::verify_local(user, password).await?,
            _ => {
                self.verify_directory(store, clock, username, password)
                    .await?
            }
        };
        match verified {
            Some(user) => Ok(user),
            None => {
                let (name, addr, now) = (username.to_owned(), client.to_owned(), clock.now_ms());
                db(store, move |c| budget.record_failure(c, &name, &addr, now)).await?;
                Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()))
            }
        }
    }

    async fn verify_local(user: User, password: &str) -> ApiResult<Option<User>> {
        let UserSource::Local { password_hash } = &user.source else {
            return Ok(None);
        };
        let (hash, password) = (password_hash.clone(), password.to_owned());
        // argon2 is deliberately slow: keep it off the HTTP workers.
        let ok = actix_web::web::block(move || password::verify(&hash, &password)).await?;
        Ok(ok.then_some(user))
    }

    async fn verify_directory(
        &self,
        store: &Store,
        clock: &SharedClock,
        username: &str,
        password: &str,
    ) -> ApiResult<Option<User>> {
        let Some(directory) = self.directory() else {
            return Ok(None);
        };
        match directory.authenticate(username, password).await {
            Ok(found) => {
                let now = clock.now_ms();
                let user = db(store, move |c| Ok(users::upsert_directory(c, &found, now)?)).await?;
                Ok(Some(user))
            }
            Err(DirectoryError::InvalidCredentials) => Ok(None),
            Err(e) => {
                tracing::warn!(error = %e, "directory login failed");
                Err(ApiError::Unavailable(e.to_string()))
            }
        }
    }
}

/// Creates the bootstrap `admin` at first start. Returns the password when
/// it was generated, so the caller can print it once.
pub fn ensure_bootstrap_admin(
    conn: &mut AnyConnection,
    configured_password: Option<&str>,
    now: i64,
) -> ApiResult<Option<String>> {
    if users::find_by_username(conn, "admin")?.is_some() {
        return Ok(None);
    }
    let generated = configured_password.is_none().then(password::generate);
    let password = configured_password
        .or(generated.as_deref())
        .unwrap_or_default();
    let hash = password::hash(password)
        .map_err(|e| ApiError::Internal(format!("hashing the admin password: {e}")))?;
    let new = NewLocalUser {
        username: "admin",
        display_name: "Administrator",
        role: Role::Admin,
        password_hash: &hash,
    };
    match users::create_local(conn, &new, now) {
        Ok(_) => Ok(generated),
        // Another process created it at the same moment.
        Err(e) if e.is_conflict() => Ok(None),
        Err(e) => Err(e.into()),
    }
}
