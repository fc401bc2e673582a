use std::fmt;

use serde::{Deserialize, Serialize};

/// What a user writes about a guest: at most 500 characters of text that
/// shows as it reads. Control characters (line breaks among them) and the
/// bidirectional controls that reorder what follows them (`U+202E` can make
/// `exe.txt` read as `txt.exe`) are refused, so every page and terminal
/// that shows one shows what was typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDescription {
    #[error("a description is limited to {max} characters; this one has {0}", max = Description::MAX_CHARS)]
    TooLong(usize),
    #[error("a description may not hold control characters (U+{0:04X} at character {1}); write it on one line")]
    Control(u32, usize),
    #[error("a description may not hold bidirectional controls (U+{0:04X} at character {1}): they make text read other than it is")]
    Bidi(u32, usize),
}

impl Description {
    pub const MAX_CHARS: usize = 500;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl TryFrom<String> for Description {
    type Error = InvalidDescription;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let mut count = 0;
        for (i, c) in s.chars().enumerate() {
            if c.is_control() {
                return Err(InvalidDescription::Control(c.into(), i + 1));
            }
            if is_bidi_control(c) {
                return Err(InvalidDescription::Bidi(c.into(), i + 1));
            }
            count = i + 1;
        }
        if count > Self::MAX_CHARS {
            return Err(InvalidDescription::TooLong(count));
        }
        Ok(Self(s))
    }
}

impl From<Description> for String {
    fn from(d: Description) -> String {
        d.0
    }
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Description, InvalidDescription> {
        Description::try_from(s.to_owned())
    }

    #[test]
    fn text_and_markup_are_kept_as_typed() {
        for s in [
            "",
            "web server for CS 101",
            "<img src=x onerror=alert(1)>",
            "Grüße, 日本語 👋",
        ] {
            assert_eq!(parse(s).unwrap().as_str(), s);
        }
        assert!(parse(&"é".repeat(500)).is_ok());
    }

    #[test]
    fn controls_bidi_and_length_are_refused() {
        assert_eq!(parse("a\u{7}b"), Err(InvalidDescription::Control(7, 2)));
        assert_eq!(parse("two\nlines"), Err(InvalidDescription::Control(10, 4)));
        assert_eq!(parse("x\u{85}"), Err(InvalidDescription::Control(0x85, 2)));
        assert_eq!(
            parse("abc\u{202E}evil"),
            Err(InvalidDescription::Bidi(0x202E, 4))
        );
        assert_eq!(parse("\u{2066}x"), Err(InvalidDescription::Bidi(0x2066, 1)));
        assert_eq!(
            parse(&"a".repeat(501)),
            Err(InvalidDescription::TooLong(501))
        );
        let message = parse("abc\u{202E}").unwrap_err().to_string();
        assert!(message.contains("U+202E"), "{message}");
    }
}
