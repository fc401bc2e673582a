//! The built web page (`web/dist/`, which `herd-server` builds in) matches
//! its sources: `web/build.sh` records the digest of every input in
//! `web/dist/SOURCES.sha256`, so a source changed without rebuilding, or a
//! built file edited by hand, fails here without node. (`scripts/test.sh`
//! also rebuilds it with the pinned tools and compares byte for byte.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn files_under(dir: &Path, root: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read web/src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files_under(&path, root, out);
        } else {
            let rel = path.strip_prefix(root).expect("under the root");
            out.push(rel.display().to_string());
        }
    }
}

#[test]
fn the_built_page_matches_its_sources() {
    let root = repo_root();
    let manifest = std::fs::read_to_string(root.join("web/dist/SOURCES.sha256"))
        .expect("web/dist/SOURCES.sha256 (run web/build.sh)");
    let listed: Vec<&str> = manifest
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(_, p)| p))
        .collect();
    let mut sources = Vec::new();
    files_under(&root.join("web/src"), &root, &mut sources);
    for wanted in sources.iter().map(String::as_str).chain([
        "web/index.html",
        "web/package-lock.json",
        "clients/typescript/src/schema.d.ts",
    ]) {
        assert!(
            listed.contains(&wanted),
            "{wanted} is not among the inputs web/dist was built from: run web/build.sh"
        );
    }
    let o = Command::new("sha256sum")
        .args(["--check", "--strict", "--quiet", "web/dist/SOURCES.sha256"])
        .current_dir(&root)
        .output()
        .expect("run sha256sum");
    assert!(
        o.status.success(),
        "web/dist is stale (run web/build.sh and commit the result):\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
