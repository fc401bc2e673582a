//! The command language the web side writes and the dispatcher reads:
//!
//! ```text
//! <GUEST> IPL | <GUEST> HALT | <GUEST> FORCE
//! <GUEST> SERVICE <service> START|STOP|RESTART
//! ```
//!
//! Words are separated by exactly one ASCII space; keywords and the guest
//! name are upper case, service names lower case. The text in the database is
//! not trusted: anything a row could have been tampered into must fail here,
//! so the parser accepts exactly the canonical rendering of a [`Command`] and
//! nothing else (`parse(s)` succeeds only if `parse(s)?.to_string() == s`).

use std::fmt;
use std::str::FromStr;

use herd_core::domain::{
    GuestName, InvalidGuestName, InvalidServiceName, ServiceAction, ServiceName,
};

/// Longer than any valid command (57 bytes at most), short enough that a
/// hostile row is refused before any work is spent on it.
pub const MAX_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Command {
    pub guest: GuestName,
    pub op: CommandOp,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CommandOp {
    /// Boot the guest (CP XAUTOLOG + IPL).
    Ipl,
    /// Orderly shutdown (CP SIGNAL SHUTDOWN).
    Halt,
    /// Immediate logoff (CP FORCE).
    Force,
    /// A line for the guest's console, run by its shell.
    Service {
        name: ServiceName,
        action: ServiceAction,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrammarError {
    #[error("command is {len} bytes long; at most {MAX_LEN} are allowed")]
    TooLong { len: usize },
    #[error("command is empty")]
    Empty,
    #[error("character {found:?} at byte {at} is not allowed in a command")]
    ForbiddenChar { at: usize, found: char },
    #[error(
        "word {word} is empty: words are separated by exactly one space, with none before or after"
    )]
    EmptyWord { word: usize },
    #[error("guest: {0}")]
    Guest(#[from] InvalidGuestName),
    #[error("guest `{0}` must be written in upper case")]
    GuestNotCanonical(String),
    #[error("missing operation after the guest: expected IPL, HALT, FORCE or SERVICE")]
    MissingOperation,
    #[error("unknown operation `{0}`: expected IPL, HALT, FORCE or SERVICE")]
    UnknownOperation(String),
    #[error("{op} takes no arguments, found `{extra}`")]
    UnexpectedArguments { op: &'static str, extra: String },
    #[error(
        "SERVICE takes a service name and START, STOP or RESTART; found {found} word(s) after it"
    )]
    ServiceArity { found: usize },
    #[error("service: {0}")]
    Service(#[from] InvalidServiceName),
    #[error("unknown service action `{0}`: expected START, STOP or RESTART")]
    UnknownAction(String),
}

impl Command {
    pub fn parse(text: &str) -> Result<Command, GrammarError> {
        check_characters(text)?;
        let words = split_words(text)?;
        let (guest, rest) = words.split_first().ok_or(GrammarError::Empty)?;
        Ok(Command {
            guest: parse_guest(guest)?,
            op: parse_op(rest)?,
        })
    }
}

impl CommandOp {
    pub fn keyword(&self) -> &'static str {
        match self {
            Self::Ipl => "IPL",
            Self::Halt => "HALT",
            Self::Force => "FORCE",
            Self::Service { .. } => "SERVICE",
        }
    }

    /// The line the guest's console receives (`SERVICE apache RESTART`);
    /// `None` for operations that CP performs on the guest from outside.
    pub fn console_line(&self) -> Option<String> {
        matches!(self, Self::Service { .. }).then(|| self.to_string())
    }
}

/// Refusing any character outside the language's alphabet first means that
/// every later error message quotes only harmless text.
fn check_characters(text: &str) -> Result<(), GrammarError> {
    if text.len() > MAX_LEN {
        return Err(GrammarError::TooLong { len: text.len() });
    }
    if text.is_empty() {
        return Err(GrammarError::Empty);
    }
    match text.char_indices().find(|&(_, c)| !is_alphabet(c)) {
        Some((at, found)) => Err(GrammarError::ForbiddenChar { at, found }),
        None => Ok(()),
    }
}

fn is_alphabet(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '@' | '#' | '$' | '_' | '-' | ' ')
}

fn split_words(text: &str) -> Result<Vec<&str>, GrammarError> {
    let words: Vec<&str> = text.split(' ').collect();
    match words.iter().position(|w| w.is_empty()) {
        Some(i) => Err(GrammarError::EmptyWord { word: i + 1 }),
        None => Ok(words),
    }
}

fn parse_guest(word: &str) -> Result<GuestName, GrammarError> {
    let guest: GuestName = word.parse()?;
    if guest.as_str() != word {
        return Err(GrammarError::GuestNotCanonical(word.to_owned()));
    }
    Ok(guest)
}

fn parse_op(words: &[&str]) -> Result<CommandOp, GrammarError> {
    match words {
        [] => Err(GrammarError::MissingOperation),
        ["SERVICE", name, action] => Ok(CommandOp::Service {
            name: name.parse()?,
            action: ServiceAction::from_keyword(action)
                .ok_or_else(|| GrammarError::UnknownAction((*action).to_owned()))?,
        }),
        ["SERVICE", rest @ ..] => Err(GrammarError::ServiceArity { found: rest.len() }),
        [word, rest @ ..] => {
            let op =
                power_op(word).ok_or_else(|| GrammarError::UnknownOperation((*word).to_owned()))?;
            if rest.is_empty() {
                Ok(op)
            } else {
                Err(GrammarError::UnexpectedArguments {
                    op: op.keyword(),
                    extra: rest.join(" "),
                })
            }
        }
    }
}

fn power_op(word: &str) -> Option<CommandOp> {
    [CommandOp::Ipl, CommandOp::Halt, CommandOp::Force]
        .into_iter()
        .find(|op| op.keyword() == word)
}

impl FromStr for Command {
    type Err = GrammarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.guest, self.op)
    }
}

impl fmt::Display for CommandOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service { name, action } => {
                write!(f, "SERVICE {name} {}", action.as_keyword())
            }
            other => f.write_str(other.keyword()),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn guest(s: &str) -> GuestName {
        s.parse().unwrap()
    }

    fn service(guest_name: &str, name: &str, action: ServiceAction) -> Command {
        Command {
            guest: guest(guest_name),
            op: CommandOp::Service {
                name: name.parse().unwrap(),
                action,
            },
        }
    }

    #[test]
    fn parses_the_spec_examples() {
        let restart = service("LX000042", "apache", ServiceAction::Restart);
        assert_eq!(
            Command::parse("LX000042 SERVICE apache RESTART"),
            Ok(restart)
        );
        for (text, op) in [
            ("LX000042 IPL", CommandOp::Ipl),
            ("LX000042 HALT", CommandOp::Halt),
            ("LX000042 FORCE", CommandOp::Force),
        ] {
            let expected = Command {
                guest: guest("LX000042"),
                op,
            };
            assert_eq!(text.parse::<Command>(), Ok(expected));
        }
    }

    #[test]
    fn console_line_is_the_service_part_only() {
        let cmd = service("LX000042", "mysql", ServiceAction::Stop);
        assert_eq!(cmd.op.console_line().as_deref(), Some("SERVICE mysql STOP"));
        assert_eq!(CommandOp::Ipl.console_line(), None);
    }

    #[test]
    fn errors_name_the_offending_part() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("LX000042  IPL", "word 2 is empty"),
            (" LX000042 IPL", "word 1 is empty"),
            ("LX000042 IPL ", "word 3 is empty"),
            ("lx000042 IPL", "`lx000042` must be written in upper case"),
            ("LX0000420 IPL", "`LX0000420` is not a z/VM user id"),
            ("LX000042", "missing operation"),
            ("LX000042 ipl", "unknown operation `ipl`"),
            ("LX000042 REBOOT", "unknown operation `REBOOT`"),
            ("LX000042 IPL now", "IPL takes no arguments, found `now`"),
            ("LX000042 SERVICE apache", "found 1 word(s)"),
            (
                "LX000042 SERVICE Apache START",
                "`Apache` is not a service name",
            ),
            (
                "LX000042 SERVICE apache start",
                "unknown service action `start`",
            ),
            ("LX000042 SERVICE apache;reboot START", "';' at byte 23"),
            ("LX000042 HALT\n", "'\\n' at byte 13"),
        ];
        for (text, needle) in cases {
            let msg = Command::parse(text).unwrap_err().to_string();
            assert!(msg.contains(needle), "{text:?}: {msg}");
        }
    }

    #[test]
    fn length_is_checked_before_anything_else() {
        let long = format!("LX000042 SERVICE {} START", "a".repeat(50));
        assert_eq!(
            Command::parse(&long),
            Err(GrammarError::TooLong { len: long.len() })
        );
        let junk = "\n".repeat(MAX_LEN + 1);
        assert!(matches!(
            Command::parse(&junk),
            Err(GrammarError::TooLong { .. })
        ));
    }

    #[test]
    fn the_longest_valid_command_fits() {
        let longest = service("LX000042", &"a".repeat(32), ServiceAction::Restart);
        let text = longest.to_string();
        assert!(text.len() <= MAX_LEN);
        assert_eq!(Command::parse(&text), Ok(longest));
    }

    fn any_command() -> impl Strategy<Value = Command> {
        let guest = "[A-Z0-9@#$]{1,8}".prop_map(|s| s.parse::<GuestName>().unwrap());
        let service = "[a-z][a-z0-9_-]{0,31}".prop_map(|s| s.parse::<ServiceName>().unwrap());
        let action = proptest::sample::select(ServiceAction::ALL.to_vec());
        let op = prop_oneof![
            Just(CommandOp::Ipl),
            Just(CommandOp::Halt),
            Just(CommandOp::Force),
            (service, action).prop_map(|(name, action)| CommandOp::Service { name, action }),
        ];
        (guest, op).prop_map(|(guest, op)| Command { guest, op })
    }

    /// Accepting only what renders back to itself is what makes the grammar
    /// strict: no second spelling of a command can slip through.
    fn accepted_only_if_canonical(text: &str) -> Result<(), TestCaseError> {
        if let Ok(cmd) = Command::parse(text) {
            prop_assert_eq!(cmd.to_string(), text);
        }
        Ok(())
    }

    const INSERTIONS: &[&str] = &[
        ";", "|", "&", "$(", "`", "\n", "\r", "\t", "\0", " ", "'", "\"", "/", ">", "*", "é",
    ];

    proptest! {
        #[test]
        fn valid_commands_round_trip(cmd in any_command()) {
            let text = cmd.to_string();
            prop_assert!(text.len() <= MAX_LEN);
            prop_assert_eq!(Command::parse(&text), Ok(cmd));
        }

        #[test]
        fn arbitrary_strings_are_accepted_only_when_canonical(text in any::<String>()) {
            accepted_only_if_canonical(&text)?;
        }

        #[test]
        fn near_miss_strings_are_accepted_only_when_canonical(
            text in "[A-Za-z0-9@#$_ -]{0,12}( (IPL|HALT|FORCE|SERVICE|START|STOP|RESTART|[a-z]{1,6}|[A-Z]{1,6})){0,4} ?"
        ) {
            accepted_only_if_canonical(&text)?;
        }

        #[test]
        fn arbitrary_bytes_are_accepted_only_when_canonical(
            bytes in proptest::collection::vec(any::<u8>(), 0..100)
        ) {
            if let Ok(text) = std::str::from_utf8(&bytes) {
                accepted_only_if_canonical(text)?;
            }
        }

        #[test]
        fn inserted_metacharacters_are_refused(
            cmd in any_command(),
            insertion in proptest::sample::select(INSERTIONS),
            at in any::<proptest::sample::Index>(),
        ) {
            let mut text = cmd.to_string();
            text.insert_str(at.index(text.len() + 1), insertion);
            prop_assert!(Command::parse(&text).is_err(), "{:?} accepted", text);
        }

        #[test]
        fn lower_case_keywords_are_refused(cmd in any_command()) {
            let keyword = cmd.op.keyword();
            let op = cmd.op.to_string();
            let mutated = format!("{} {}{}", cmd.guest, keyword.to_ascii_lowercase(), &op[keyword.len()..]);
            prop_assert!(Command::parse(&mutated).is_err(), "{:?} accepted", mutated);
            if let CommandOp::Service { name, action } = &cmd.op {
                let mutated = format!("{} SERVICE {name} {}", cmd.guest, action.as_keyword().to_ascii_lowercase());
                prop_assert!(Command::parse(&mutated).is_err(), "{:?} accepted", mutated);
            }
        }

        #[test]
        fn lower_case_guests_are_refused(cmd in any_command()) {
            let lower = cmd.guest.as_str().to_ascii_lowercase();
            prop_assume!(lower != cmd.guest.as_str());
            let mutated = format!("{lower} {}", cmd.op);
            prop_assert!(Command::parse(&mutated).is_err(), "{:?} accepted", mutated);
        }
    }
}
