//! Login throttling: a small budget of failed logins per user name and per
//! client address within a sliding window. Failures live in the database so
//! that every replica sees the same count.

use herd_core::clock::Millis;
use herd_core::store::login_failures::{self, FailureKey};
use herd_core::store::AnyConnection;

use crate::problem::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy)]
pub struct LoginBudget {
    pub per_user: u32,
    pub per_address: u32,
    pub window_ms: Millis,
}

/// User names are matched case-insensitively by the directory, so `Alice`
/// and `alice` spend one budget.
fn user_key(username: &str) -> String {
    username.to_lowercase()
}

impl LoginBudget {
    /// Refuses the attempt with `429` while either budget is spent.
    pub fn check(
        &self,
        conn: &mut AnyConnection,
        username: &str,
        client: &str,
        now: Millis,
    ) -> ApiResult<()> {
        let since = now - self.window_ms;
        let user = user_key(username);
        let checks = [
            (FailureKey::Username(&user), self.per_user, "this user name"),
            (
                FailureKey::ClientAddr(client),
                self.per_address,
                "this client address",
            ),
        ];
        for (key, limit, whose) in checks {
            let failures = login_failures::since(conn, key, since)?;
            if failures.count >= i64::from(limit) {
                let free_at = failures.oldest.unwrap_or(now) + self.window_ms;
                let retry_after_seconds = ((free_at - now).max(1) as u64).div_ceil(1000);
                return Err(ApiError::TooManyRequests {
                    detail: format!(
                        "too many failed logins for {whose}; try again in {retry_after_seconds} s"
                    ),
                    retry_after_seconds,
                });
            }
        }
        Ok(())
    }

    pub fn record_failure(
        &self,
        conn: &mut AnyConnection,
        username: &str,
        client: &str,
        now: Millis,
    ) -> ApiResult<()> {
        login_failures::record(conn, &user_key(username), client, now)?;
        login_failures::prune(conn, now - self.window_ms)?;
        Ok(())
    }
}
