//! The layout keeps its dependency arrows one way: in every crate, no
//! module uses a sibling that uses it back, directly or round a longer
//! loop (issue 17). Read from the sources, as a reviewer would.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type Module = Vec<String>;

const CRATES: [&str; 5] = ["core", "provisioner", "api", "clients/cli", "bench"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `lib.rs`, `main.rs` the root.
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file
        .strip_prefix(src)
        .expect("under src")
        .with_extension("");
    let mut parts: Module = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts
}

/// Paths after `prefix` (`crate::`, `super::`, `self::`) in `text`.
fn paths_after<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = Module> + 'a {
    text.match_indices(prefix).filter_map(move |(at, _)| {
        let before = text[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let rest = &text[at + prefix.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let path: Module = rest[..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        (!path.is_empty()).then_some(path)
    })
}

/// What each module of a crate refers to, as absolute module paths; unit
/// tests inside a file are left out.
fn references(src: &Path) -> BTreeMap<Module, Vec<Module>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    files
        .iter()
        .map(|file| {
            let module = module_of(src, file);
            let text = fs::read_to_string(file).expect("read source");
            let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            let parent = &module[..module.len().saturating_sub(1)];
            let refs = paths_after(text, "crate::")
                .chain(paths_after(text, "super::").map(|p| [parent, &p].concat()))
                .chain(paths_after(text, "self::").map(|p| [&module[..], &p].concat()))
                .collect();
            (module, refs)
        })
        .collect()
}

/// Edges between siblings: `a` uses something inside sibling `b`.
fn sibling_edges(refs: &BTreeMap<Module, Vec<Module>>) -> BTreeSet<(Module, Module)> {
    let modules: BTreeSet<&Module> = refs.keys().collect();
    let mut edges = BTreeSet::new();
    for (a, used) in refs {
        for r in used {
            let Some(b) = (1..=r.len())
                .rev()
                .map(|k| r[..k].to_vec())
                .find(|p| modules.contains(p))
            else {
                continue;
            };
            let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            if common < a.len() && common < b.len() {
                edges.insert((a[..=common].to_vec(), b[..=common].to_vec()));
            }
        }
    }
    edges
}

/// Every loop among siblings, found by walking from each module.
fn loops(edges: &BTreeSet<(Module, Module)>) -> Vec<Vec<Module>> {
    let mut next: BTreeMap<&Module, Vec<&Module>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    let mut found = Vec::new();
    for start in next.keys() {
        let mut stack = vec![(vec![*start], 0usize)];
        let mut seen = BTreeSet::from([*start]);
        while let Some((path, i)) = stack.pop() {
            let here = path[path.len() - 1];
            let Some(to) = next.get(here).and_then(|n| n.get(i)) else {
                continue;
            };
            stack.push((path.clone(), i + 1));
            if *to == *start {
                found.push(path.iter().map(|m| (*m).clone()).collect());
            } else if seen.insert(to) {
                let mut longer = path.clone();
                longer.push(to);
                stack.push((longer, 0));
            }
        }
    }
    found
}

fn show(m: &Module) -> String {
    m.join("::")
}

#[test]
fn no_module_uses_one_that_uses_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    for krate in CRATES {
        let refs = references(&root.join(krate).join("src"));
        assert!(refs.len() > 1, "{krate}: no modules found");
        for cycle in loops(&sibling_edges(&refs)) {
            let shown: Vec<String> = cycle.iter().map(show).collect();
            problems.push(format!("{krate}: {} -> {}", shown.join(" -> "), shown[0]));
        }
    }
    assert!(
        problems.is_empty(),
        "module cycles:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_sees_a_cycle() {
    let m = |s: &str| -> Module { s.split("::").map(str::to_owned).collect() };
    let refs = BTreeMap::from([
        (m("a"), vec![m("b::x")]),
        (m("b"), vec![m("c")]),
        (m("c"), vec![m("a::y")]),
        (m("d"), vec![m("a")]),
    ]);
    let cycles = loops(&sibling_edges(&refs));
    assert!(cycles.contains(&vec![m("a"), m("b"), m("c")]), "{cycles:?}");
    assert!(!cycles.iter().any(|c| c.contains(&m("d"))), "{cycles:?}");
}
