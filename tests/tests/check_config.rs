//! `herd-server check-config` (SPEC §12): exit 0 when a start would work,
//! else non-zero with the reason: a bad value, a database or directory that
//! cannot be reached, a service account that cannot bind. It changes
//! nothing.

use herd_tests::{db_tests, Db, Layout, TestServer};

db_tests!(check_config_passes_a_good_setup_and_names_what_is_wrong);

fn check(srv: &TestServer, env: &[(&str, &str)]) -> (bool, String, String) {
    let out = srv.run_command_with(&["check-config"], env);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn check_config_passes_a_good_setup_and_names_what_is_wrong(db: Db) {
    let Some(srv) = TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .start()
    else {
        return;
    };
    let (ok, stdout, stderr) = check(&srv, &[]);
    assert!(ok, "a good setup is refused:\n{stdout}\n{stderr}");
    for said in [
        "database: reachable",
        "directory: reachable",
        "configuration OK",
    ] {
        assert!(stdout.contains(said), "`{said}` missing:\n{stdout}");
    }

    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("HERD_FIREWALL_TCP_PORTS", "2000-1000")],
            "HERD_FIREWALL_TCP_PORTS",
        ),
        (
            &[("HERD_TRUSTED_PROXIES", "10.0.0.0/33")],
            "HERD_TRUSTED_PROXIES",
        ),
        (&[("HERD_POOL_COPY_METHOD", "scp")], "HERD_POOL_COPY_METHOD"),
        (&[("HERD_LAN_CIDR", "10.10.0.0/99")], "HERD_LAN_CIDR"),
        (&[("HERD_DATABASE_POOL_SIZE", "lots")], "DATABASE_POOL_SIZE"),
        (
            &[("HERD_DATABASE_URL", "postgres://herd@127.0.0.1:1/herd")],
            "database",
        ),
        (&[("HERD_LDAP_URL", "ldap://127.0.0.1:1")], "directory"),
        (
            &[("HERD_LDAP_BIND_PASSWORD", "not-the-password")],
            "service account",
        ),
        (&[("HERD_LDAP_USER_BASE", "")], "HERD_LDAP_USER_BASE"),
    ];
    for (env, reason) in cases {
        let (ok, stdout, stderr) = check(&srv, env);
        assert!(!ok, "{env:?} passed:\n{stdout}");
        assert!(
            stderr.contains(reason),
            "{env:?}: the reason should name `{reason}`:\n{stderr}"
        );
    }
    // the server it checked is untouched and still serves
    srv.admin_token();
}
