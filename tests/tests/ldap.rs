//! Directory (LDAP) logins against the fixture directory
//! (tests/fixtures/ldap/directory.ldif), for both group layouts
//! (groupOfNames/member and posixGroup/memberUid) and both databases.

use herd_tests::{
    closed_ldap_url, db_tests, ldap_db_tests, Db, Layout, TestServer, Value, ADMIN_PASSWORD,
};

ldap_db_tests!(
    roles_names_and_emails_come_from_the_directory,
    bad_directory_credentials_are_401,
    filter_injection_names_are_401,
);
db_tests!(directory_down_is_503);

/// What the fixture directory says about one user.
struct Expected {
    username: &'static str,
    password: &'static str,
    role: &'static str,
    display_name: &'static str,
    email: Option<&'static str>,
    max_guests: Option<u64>,
}

const ALICE: Expected = Expected {
    username: "alice",
    password: "alice-pw",
    role: "student",
    display_name: "Alice Student",
    email: Some("alice@herd.test"),
    max_guests: Some(2),
};

const USERS: [Expected; 5] = [
    ALICE,
    Expected {
        username: "bob",
        password: "bob-pw",
        role: "staff",
        display_name: "Bob Staff",
        email: Some("bob@herd.test"),
        max_guests: Some(10),
    },
    Expected {
        username: "carol",
        password: "carol-pw",
        role: "admin",
        display_name: "Carol Admin",
        email: Some("carol@herd.test"),
        max_guests: None,
    },
    Expected {
        username: "dave",
        password: "dave-pw",
        role: "student",
        display_name: "Dave NoMail",
        email: None,
        max_guests: Some(2),
    },
    Expected {
        username: "s03",
        password: "s03-pw",
        role: "student",
        display_name: "Student 03",
        email: Some("s03@herd.test"),
        max_guests: Some(2),
    },
];

impl Expected {
    fn check(&self, v: &Value) {
        let who = self.username;
        assert_eq!(v["username"], who, "{v}");
        assert_eq!(v["role"], self.role, "{who}: {v}");
        assert_eq!(v["display_name"], self.display_name, "{who}: {v}");
        match self.email {
            Some(e) => assert_eq!(v["email"], e, "{who}: {v}"),
            None => assert!(
                v.get("email").is_some_and(Value::is_null),
                "{who} has no mail: email must be present and null: {v}"
            ),
        }
        match self.max_guests {
            Some(m) => assert_eq!(v["quota"]["max_guests"], m, "{who}: {v}"),
            None => assert!(
                v["quota"].get("max_guests").is_some_and(Value::is_null),
                "{who}: admin quota must be null (no limit): {v}"
            ),
        }
        assert_eq!(v["quota"]["used"], 0, "{who}: {v}");
    }
}

fn roles_names_and_emails_come_from_the_directory(layout: Layout, db: Db) {
    let Some(srv) = TestServer::builder(db).with_ldap(layout).start() else {
        return;
    };
    for user in &USERS {
        let v = srv.login_full(user.username, user.password, None);
        user.check(&v["user"]);
        let me = srv.me(v["token"].as_str().unwrap()).ok(200);
        user.check(&me);
    }
    // a second login is the same user, not a new one
    let token = srv.login("alice", "alice-pw");
    ALICE.check(&srv.me(&token).ok(200));
    // the local bootstrap admin keeps working next to the directory
    let admin = srv.login_full("admin", ADMIN_PASSWORD, None);
    assert_eq!(admin["user"]["role"], "admin", "{admin}");
}

fn bad_directory_credentials_are_401(layout: Layout, db: Db) {
    let Some(srv) = TestServer::builder(db).with_ldap(layout).start() else {
        return;
    };
    srv.login_reply("alice", "bob-pw", None).problem(401);
    // an empty password would be an anonymous bind: must not log in
    srv.login_reply("alice", "", None).problem(401);
    srv.login_reply("nobody", "nobody-pw", None).problem(401);
    // the service account is not a user
    srv.login_reply("herd-svc", "herd-svc-pw", None)
        .problem(401);
    // a directory user's password does not open the local admin
    srv.login_reply("admin", "carol-pw", None).problem(401);
    srv.login("alice", "alice-pw");
}

fn filter_injection_names_are_401(layout: Layout, db: Db) {
    let Some(srv) = TestServer::builder(db).with_ldap(layout).start() else {
        return;
    };
    // each would match alice (or everyone) if the value reached the filter unescaped
    for name in [
        "*",
        "alice*",
        "a*e",
        "a)(uid=*",
        "*)(|(uid=*",
        "alice)(|(uid=*)",
        "\\2a",
    ] {
        srv.login_reply(name, "alice-pw", None).problem(401);
    }
    srv.login("alice", "alice-pw");
}

fn directory_down_is_503(db: Db) {
    let Some(ldap) = herd_tests::services::ldap() else {
        return;
    };
    let mut env = ldap.server_env(Layout::GroupOfNames);
    for (k, v) in env.iter_mut() {
        if k == "HERD_LDAP_URL" {
            *v = closed_ldap_url();
        }
    }
    let Some(srv) = TestServer::builder(db).envs(env).start() else {
        return;
    };
    let r = srv.login_reply("alice", "alice-pw", None);
    r.problem(503);
    srv.login_reply("nobody", "x", None).problem(503);
    // local accounts are the emergency way in
    let token = srv.login("admin", ADMIN_PASSWORD);
    srv.me(&token).expect(200);
}
