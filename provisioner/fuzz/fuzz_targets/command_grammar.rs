//! The dispatcher parses text from the database, which it does not trust:
//! no input may panic the parser, and the only text it accepts is the
//! canonical rendering of the command it returns.

#![no_main]

use herd_provisioner::dispatcher::grammar::Command;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(command) = Command::parse(text) {
        assert_eq!(command.to_string(), text);
    }
});
