//! Printing: JSON for scripts, aligned tables for people.

use serde::Serialize;

/// `println!` that ends the program quietly when stdout is closed
/// (`herd guests list | head`) instead of panicking.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("error: writing to stdout: {e}");
            std::process::exit(1);
        }
    }};
}
use serde_json::Value;

/// How to print results.
#[derive(Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    /// Prints a value as pretty JSON.
    pub fn json_value(&self, v: &Value) {
        outln!(
            "{}",
            serde_json::to_string_pretty(v).expect("JSON value serializes")
        );
    }

    /// One object: JSON, or `key value` lines chosen by `fields`.
    pub fn object<T: Serialize>(
        &self,
        item: &T,
        fields: fn(&Value) -> Vec<(&'static str, String)>,
    ) {
        let v = serde_json::to_value(item).expect("API types serialize");
        if self.json {
            self.json_value(&v);
            return;
        }
        let rows = fields(&v);
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, val) in rows {
            outln!("{k:<width$}  {val}");
        }
    }

    /// A list: a JSON array, or a table of `columns` (header, field).
    pub fn list<T: Serialize>(&self, items: &[T], columns: &[(&str, &str)]) {
        let rows: Vec<Value> = items
            .iter()
            .map(|i| serde_json::to_value(i).expect("API types serialize"))
            .collect();
        if self.json {
            self.json_value(&Value::Array(rows));
        } else {
            print_table(&rows, columns);
        }
    }

    /// A short confirmation: `{"message": ...}` or the plain text.
    pub fn message(&self, msg: &str) {
        if self.json {
            self.json_value(&serde_json::json!({ "message": msg }));
        } else {
            outln!("{msg}");
        }
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Prints `rows` (JSON objects) as a table with aligned columns.
pub fn print_table(rows: &[Value], columns: &[(&str, &str)]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|(_, k)| cell(&r[*k])).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([h.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |vals: Vec<String>| {
        let parts: Vec<String> = vals
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        outln!("{}", parts.join("  ").trim_end());
    };
    line(columns.iter().map(|(h, _)| h.to_string()).collect());
    for r in cells {
        line(r);
    }
}
