//! The guest's login shell as seen through its console: it knows one
//! command, `SERVICE <name> START|STOP|RESTART|STATUS`, for the services of
//! the catalog, and runs their init scripts.

use herd_core::clock::Millis;

use super::state::Service;
use crate::backend::ConsoleReply;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Start,
    Stop,
    Restart,
    Status,
}

impl Action {
    fn word(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Restart => "restart",
            Self::Status => "status",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        const ACTIONS: [(&str, Action); 4] = [
            ("START", Action::Start),
            ("STOP", Action::Stop),
            ("RESTART", Action::Restart),
            ("STATUS", Action::Status),
        ];
        ACTIONS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word))
            .map(|&(_, a)| a)
    }
}

const USAGE: &str = "usage: SERVICE <name> START|STOP|RESTART|STATUS";

/// Runs one line at `now` against the guest's services.
pub(super) fn run_line(services: &mut [Service], line: &str, now: Millis) -> ConsoleReply {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [] => reply(true, String::new()),
        [cmd, rest @ ..] if cmd.eq_ignore_ascii_case("SERVICE") => match rest {
            [name, action] => match Action::parse(action) {
                Some(action) => service_command(services, name, action, now),
                None => reply(false, USAGE.into()),
            },
            _ => reply(false, USAGE.into()),
        },
        [cmd, ..] => reply(false, format!("-sh: {cmd}: command not found")),
    }
}

fn service_command(
    services: &mut [Service],
    name: &str,
    action: Action,
    now: Millis,
) -> ConsoleReply {
    let Some(service) = services
        .iter_mut()
        .find(|s| s.spec.name.eq_ignore_ascii_case(name))
    else {
        return reply(false, format!("{name}: unrecognized service"));
    };
    let script = service.spec.command.clone();
    let was_up = service.is_up(now);
    let output = match action {
        Action::Status => {
            let state = if was_up { "running" } else { "stopped" };
            format!("{script} status: {state}")
        }
        Action::Start if was_up => format!("{script} start: already running"),
        Action::Start | Action::Restart if service.broken => {
            return reply(false, format!("{script} {}: FAILED", action.word()));
        }
        Action::Start => {
            service.come_up(now);
            format!("{script} start: OK")
        }
        Action::Stop if !was_up => format!("{script} stop: not running"),
        Action::Stop => {
            service.down_at = Some(now);
            format!("{script} stop: OK")
        }
        Action::Restart => {
            service.come_up(now);
            format!("{script} restart: OK")
        }
    };
    reply(true, output)
}

fn reply(ok: bool, output: String) -> ConsoleReply {
    ConsoleReply::Completed { ok, output }
}

impl Service {
    pub(super) fn is_up(&self, now: Millis) -> bool {
        self.up_at.is_some_and(|u| u <= now) && self.down_at.is_none_or(|d| now < d)
    }

    /// Starts the service at `at`; a death planned for its next start now
    /// gets its date.
    pub(super) fn come_up(&mut self, at: Millis) {
        self.up_at = Some(at);
        self.down_at = self
            .dies_after_ms
            .take()
            .map(|d| at.saturating_add(d as Millis));
    }

    /// Plans a death `after_ms` after the service is up: counted from now
    /// if it is up or coming up, else from its next start.
    pub(super) fn schedule_death(&mut self, now: Millis, after_ms: u64) {
        match self.up_at {
            Some(up) if self.down_at.is_none_or(|d| d > up.max(now)) => {
                self.down_at = Some(up.max(now).saturating_add(after_ms as Millis));
            }
            _ => self.dies_after_ms = Some(after_ms),
        }
    }

    pub(super) fn clear(&mut self) {
        self.up_at = None;
        self.down_at = None;
    }
}
