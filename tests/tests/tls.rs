//! HTTPS (SPEC §12): with `HERD_TLS_CERT` and `HERD_TLS_KEY` the server
//! speaks TLS, checked by a real client (`curl`) against a certificate made
//! by `openssl`; SIGHUP serves a renewed certificate without a restart, and
//! a broken renewal keeps the one in use. `check-config` refuses a key that
//! is not the certificate's.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use herd_tests::{Db, TestServer};

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("run {cmd:?}: {e} (the test command installs it)"))
}

/// A self-signed certificate for 127.0.0.1 named `cn`, and its key.
fn make_cert(dir: &Path, cn: &str, cert: &str, key: &str) {
    let out = run(Command::new("openssl")
        .current_dir(dir)
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .arg("ec_paramgen_curve:prime256v1")
        .args(["-nodes", "-days", "2", "-keyout", key, "-out", cert])
        .args(["-subj", &format!("/CN={cn}")])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"]));
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `curl` of `/healthz` trusting only `ca`: its exit code and what it got.
fn curl(url: &str, ca: &Path) -> (Option<i32>, String) {
    let out = run(Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "10", "--cacert"])
        .arg(ca)
        .arg(format!("{url}/healthz")));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), said)
}

fn sighup(srv: &TestServer) {
    let pid = srv.pid().expect("the server runs") as libc::pid_t;
    // SAFETY: kill(2) on our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
}

/// Waits (a few seconds at most) until curl trusting `ca` gets through.
fn served_with(url: &str, ca: &Path) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        let (code, said) = curl(url, ca);
        if code == Some(0) {
            return said;
        }
        last = said;
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("never served with {}: {last}", ca.display());
}

#[test]
fn https_with_a_certificate_renewed_by_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_cert(d, "herd-first", "first.pem", "first.key");
    make_cert(d, "herd-second", "second.pem", "second.key");
    std::fs::copy(d.join("first.pem"), d.join("cert.pem")).unwrap();
    std::fs::copy(d.join("first.key"), d.join("key.pem")).unwrap();
    let Some(srv) = TestServer::builder(Db::Sqlite)
        .env("HERD_TLS_CERT", d.join("cert.pem").to_str().unwrap())
        .env("HERD_TLS_KEY", d.join("key.pem").to_str().unwrap())
        .start()
    else {
        return;
    };
    let url = srv.base_url().to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let said = served_with(&url, &d.join("first.pem"));
    assert!(said.contains("ok"), "{said}");
    // the web page's session cookie is Secure over TLS (SPEC §9)
    let out = run(Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--dump-header",
            "-",
        ])
        .arg("--cacert")
        .arg(d.join("first.pem"))
        .args(["-H", "content-type: application/json", "--data"])
        .arg(format!(
            r#"{{"username":"admin","password":"{}"}}"#,
            herd_tests::ADMIN_PASSWORD
        ))
        .arg(format!("{url}/api/v1/auth/session")));
    let answer = String::from_utf8_lossy(&out.stdout).to_string();
    let cookie = answer
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: herd_session=")
        })
        .unwrap_or_else(|| panic!("no session cookie: {answer}"));
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    // a client that does not trust it is refused (curl: 60, bad certificate)
    let (code, said) = curl(&url, &d.join("second.pem"));
    assert_eq!(code, Some(60), "{said}");
    // and plain HTTP on the TLS port gets no answer
    let plain = url.replacen("https://", "http://", 1);
    let out = run(Command::new("curl")
        .args(["--silent", "--max-time", "5"])
        .arg(format!("{plain}/healthz")));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ok"));

    // the renewal: new files, SIGHUP, the new certificate served
    std::fs::copy(d.join("second.pem"), d.join("cert.pem")).unwrap();
    std::fs::copy(d.join("second.key"), d.join("key.pem")).unwrap();
    sighup(&srv);
    served_with(&url, &d.join("second.pem"));
    let (code, said) = curl(&url, &d.join("first.pem"));
    assert_eq!(
        code,
        Some(60),
        "the old certificate is still served: {said}"
    );

    // a broken renewal leaves the certificate in use, and the server up
    std::fs::write(d.join("cert.pem"), "-----BEGIN CERTIFICATE-----\nnot one\n").unwrap();
    sighup(&srv);
    std::thread::sleep(Duration::from_millis(200));
    let (code, said) = curl(&url, &d.join("second.pem"));
    assert_eq!(code, Some(0), "{said}");

    // check-config names a key that is not the certificate's
    let out = srv.run_command_with(
        &["check-config"],
        &[
            ("HERD_TLS_CERT", d.join("first.pem").to_str().unwrap()),
            ("HERD_TLS_KEY", d.join("second.key").to_str().unwrap()),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("is not the key"),
        "{stderr}"
    );
    let out = srv.run_command_with(
        &["check-config"],
        &[
            ("HERD_TLS_CERT", d.join("first.pem").to_str().unwrap()),
            ("HERD_TLS_KEY", ""),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("go together"),
        "{stderr}"
    );
    let out = srv.run_command_with(
        &["check-config"],
        &[
            ("HERD_TLS_CERT", d.join("second.pem").to_str().unwrap()),
            ("HERD_TLS_KEY", d.join("second.key").to_str().unwrap()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("TLS"), "{stdout}");
}
