//! The operations kit (SPEC §12): the systemd unit passes `systemd-analyze
//! verify` and keeps the hardening it promises; the server tells systemd
//! it is ready once it listens (`Type=notify`); the example production
//! configuration is one `check-config` accepts.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use herd_tests::{server_binary, Db, TestServer};

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn unit() -> String {
    std::fs::read_to_string(repo_file("deploy/herd.service")).expect("deploy/herd.service")
}

#[test]
fn the_unit_is_hardened_and_verifies() {
    let unit = unit();
    for line in [
        "Type=notify",
        "User=herd",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/herd",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks `{line}`");
    }
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipping systemd-analyze verify: not installed on this machine");
        return;
    }
    // verify wants ExecStart's binary to exist: the one just built
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("herd.service");
    let binary = server_binary();
    std::fs::write(
        &file,
        unit.replace("/usr/local/bin/herd-server", binary.to_str().unwrap()),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&file)
        .output()
        .expect("run systemd-analyze");
    // it exits 0 on unknown keys and bad values too: what it says counts
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

#[test]
fn the_server_tells_systemd_it_is_ready_once_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("notify");
    let systemd = UnixDatagram::bind(&socket).unwrap();
    systemd
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let Some(srv) = TestServer::builder(Db::Sqlite)
        .env("NOTIFY_SOCKET", socket.to_str().unwrap())
        .start()
    else {
        return;
    };
    let mut buf = [0u8; 256];
    let n = systemd.recv(&mut buf).expect("no word from the server");
    let said = String::from_utf8_lossy(&buf[..n]);
    assert!(said.lines().any(|l| l == "READY=1"), "{said}");
    // and it does listen by then
    srv.get("/healthz", None).expect(200);
}

#[test]
fn the_example_configuration_passes_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(server_binary());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HERD_") {
            cmd.env_remove(k);
        }
    }
    // the campus's database, directory and certificate are not here: a
    // local database instead, and neither of the others
    let db = dir.path().join("herd.db");
    let out = cmd
        .arg("--config")
        .arg(repo_file("deploy/herd.toml"))
        .arg("check-config")
        .env("HERD_DATA_DIR", dir.path())
        .env("HERD_DATABASE_URL", &db)
        .env("HERD_LDAP_URL", "")
        .env("HERD_TLS_CERT", "")
        .env("HERD_TLS_KEY", "")
        .output()
        .expect("run herd-server");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!db.exists(), "check-config made a database");
}
