//! Directory changes take effect without a new login (SPEC §12): changes
//! made with `ldapmodify` / `ldapdelete` against the test slapd reach
//! users with live tokens within `HERD_LDAP_RECHECK_SECONDS` (a role
//! dropped, a user removed: `401`), and a directory that cannot be reached
//! keeps the last answer. The users are made for the test alone, so that
//! other tests sharing the directory see nothing of it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use herd_tests::{db_tests, services, Db, Layout, TestServer};

db_tests!(directory_changes_reach_live_tokens_within_the_bound);

const BOUND: Duration = Duration::from_secs(300);
/// The directory's root, as `scripts/test.sh` configures the test slapd.
const ROOT_PW: &str = "root-pw";

struct Directory {
    url: String,
    base: String,
}

impl Directory {
    fn root_dn(&self) -> String {
        format!("cn=root,{}", self.base)
    }

    fn run(&self, tool: &str, input: &str) {
        self.run_with(tool, &[], input)
    }

    fn run_with(&self, tool: &str, args: &[&str], input: &str) {
        let mut child = Command::new(tool)
            .args(["-x", "-H", &self.url, "-D", &self.root_dn(), "-w", ROOT_PW])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {tool} (package ldap-utils): {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn dn(&self, uid: &str) -> String {
        format!("uid={uid},ou=people,{}", self.base)
    }

    fn add_user(&self, uid: &str) {
        let dn = self.dn(uid);
        self.run(
            "ldapadd",
            &format!(
                "dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: Test\n\
                 userPassword: {uid}-pw\n"
            ),
        );
    }

    fn staff(&self, uid: &str, member: bool) {
        let op = if member { "add" } else { "delete" };
        let dn = self.dn(uid);
        self.run(
            "ldapmodify",
            &format!(
                "dn: cn=herd-staff,ou=groups,{}\nchangetype: modify\n{op}: member\nmember: {dn}\n",
                self.base
            ),
        );
    }

    fn delete_user(&self, uid: &str) {
        self.run_with("ldapdelete", &[&self.dn(uid)], "");
    }
}

/// A TCP relay to the directory that can be cut: the directory as the
/// server sees it, reachable or not.
struct Relay {
    port: u16,
    open: Arc<AtomicBool>,
}

impl Relay {
    fn to(target: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let (target, gate) = (target.to_owned(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !gate.load(Ordering::SeqCst) {
                    continue; // dropped: connection closed at once
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                pipe(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    gate.clone(),
                );
                pipe(server, client, gate.clone());
            }
        });
        Relay { port, open }
    }

    fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream, gate: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || !gate.load(Ordering::SeqCst) || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

fn role(srv: &TestServer, token: &str) -> Option<String> {
    let r = srv.me(token);
    (r.status == 200).then(|| r.json()["role"].as_str().unwrap().to_owned())
}

fn directory_changes_reach_live_tokens_within_the_bound(db: Db) {
    let Some(ldap) = services::ldap() else { return };
    let dir = Directory {
        url: ldap.url.clone(),
        base: ldap.base.clone(),
    };
    let relay = Relay::to(ldap.url.trim_start_matches("ldap://"));
    let Some(srv) = TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_LDAP_URL", format!("ldap://127.0.0.1:{}", relay.port))
        .env("HERD_LDAP_RECHECK_SECONDS", BOUND.as_secs().to_string())
        .start()
    else {
        return;
    };
    let tag = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let (demoted, removed, cut) = (
        format!("rc{tag}a"),
        format!("rc{tag}b"),
        format!("rc{tag}c"),
    );
    for uid in [&demoted, &removed, &cut] {
        dir.add_user(uid);
    }
    dir.staff(&demoted, true);
    dir.staff(&cut, true);
    let login = |uid: &str| srv.login(uid, &format!("{uid}-pw"));
    let (t_demoted, t_removed, t_cut) = (login(&demoted), login(&removed), login(&cut));
    assert_eq!(role(&srv, &t_demoted).as_deref(), Some("staff"));

    dir.staff(&demoted, false);
    dir.delete_user(&removed);
    // within the bound the last answer stands
    srv.advance_clock(BOUND / 2);
    assert_eq!(role(&srv, &t_demoted).as_deref(), Some("staff"));
    assert_eq!(role(&srv, &t_removed).as_deref(), Some("student"));

    // past it, tokens in use are checked again
    srv.advance_clock(BOUND / 2 + Duration::from_secs(1));
    srv.wait_for(
        "the dropped role to take effect",
        Duration::from_secs(20),
        || (role(&srv, &t_demoted).as_deref() == Some("student")).then_some(()),
    );
    srv.wait_for(
        "the removed user to be refused",
        Duration::from_secs(20),
        || srv.me(&t_removed).status.eq(&401).then_some(()),
    );
    let admin = srv.admin_token();
    let page = srv.get("/api/v1/events?kind=audit", Some(&admin)).ok(200);
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == demoted.as_str() || e["target"] == removed.as_str())
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"user.role") && actions.contains(&"user.gone"),
        "{page}"
    );

    // an unreachable directory keeps the last answer
    assert_eq!(role(&srv, &t_cut).as_deref(), Some("staff"));
    dir.staff(&cut, false);
    relay.set_open(false);
    srv.advance_clock(BOUND + Duration::from_secs(1));
    assert_eq!(role(&srv, &t_cut).as_deref(), Some("staff"));
    srv.wait_for("the recheck to fail", Duration::from_secs(20), || {
        let tasks = srv
            .get("/api/v1/system/tasks?limit=500", Some(&admin))
            .ok(200);
        tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "directory_recheck" && t["last_error"].is_string())
            .then_some(())
    });
    assert_eq!(role(&srv, &t_cut).as_deref(), Some("staff"));
    // and the change arrives once it answers again
    relay.set_open(true);
    srv.wait_for(
        "the role to follow the directory",
        Duration::from_secs(20),
        || (role(&srv, &t_cut).as_deref() == Some("student")).then_some(()),
    );
    dir.delete_user(&demoted);
    dir.delete_user(&cut);
}
