//! The contract of SPEC §10 end to end: the events stream (server-sent
//! events, resuming with `Last-Event-ID`, who sees what, many idle
//! listeners), `Idempotency-Key` on the creating `POST`s (replays, other
//! bodies, per-user keys, concurrent requests under one key) and `ETag` /
//! `If-Match` on guests, on SQLite and PostgreSQL.
//!
//! The stream is read over a raw `TcpStream` (HTTP/1.1, chunked), so that a
//! test controls exactly when it reads and when it hangs up.

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use herd_tests::{db_tests, json, parse_rfc3339_utc, Db, Layout, Method, Reply, TestServer, Value};

db_tests!(
    stream_delivers_and_resumes_without_gaps_or_repeats,
    stream_shows_what_events_would_list,
    five_hundred_idle_streams,
    idempotent_guest_requests,
    idempotent_lease_opening,
    idempotent_batches_and_reclaims,
    guests_change_only_the_version_named,
);

/// Wall time a background step (pool fill, batch) may take.
const SETTLE: Duration = Duration::from_secs(30);
/// Wall time an event may take to reach a stream (the feed polls every
/// 200 ms; generous for a loaded machine).
const DELIVERY: Duration = Duration::from_secs(5);
/// Wall time the stream's headers may take.
const HEAD: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

/// A server with the fixture directory, a small image and this pool size.
fn server(db: Db, pool_target: u32) -> Option<TestServer> {
    TestServer::builder(db)
        .with_ldap(Layout::GroupOfNames)
        .env("HERD_POOL_TARGET_SIZE", pool_target.to_string())
        .env("HERD_IMAGE_SIZE_MB", "4")
        .start()
}

fn login(srv: &TestServer, user: &str) -> String {
    if user == "admin" {
        srv.admin_token()
    } else {
        srv.login(user, &format!("{user}-pw"))
    }
}

/// Waits until the pool holds at least `n` guests.
fn wait_pool(srv: &TestServer, admin: &str, n: u64) {
    srv.wait_for(&format!("{n} pooled guests"), SETTLE, || {
        let p = srv.get("/api/v1/pool", Some(admin)).ok(200);
        (p["available"].as_u64() >= Some(n)).then_some(())
    });
}

/// Takes a pooled guest for the token's user (`201`); answers its name.
fn take_guest(srv: &TestServer, admin: &str, token: &str) -> String {
    wait_pool(srv, admin, 1);
    let g = srv
        .post_json("/api/v1/guests", Some(token), &json!({}))
        .ok(201);
    name_of(&g)
}

fn name_of(g: &Value) -> String {
    g["name"]
        .as_str()
        .unwrap_or_else(|| panic!("no guest name: {g}"))
        .to_owned()
}

fn guest_path(name: &str) -> String {
    format!("/api/v1/guests/{name}")
}

fn leases_path(name: &str) -> String {
    format!("/api/v1/guests/{name}/firewall/leases")
}

fn describe(srv: &TestServer, token: &str, guest: &str, text: &str) -> Reply {
    let r = srv.patch_json(
        &guest_path(guest),
        Some(token),
        &json!({ "description": text }),
    );
    r.expect(200);
    r
}

/// Every guest the token's user sees (any state but decommissioned).
fn guests_of(srv: &TestServer, token: &str, query: &str) -> Vec<Value> {
    let page = srv
        .get(&format!("/api/v1/guests?limit=500{query}"), Some(token))
        .ok(200);
    assert!(page["next_cursor"].is_null(), "{page}");
    page["items"].as_array().expect("items").clone()
}

/// Every event `GET /api/v1/events` lists to the token's user, ascending.
fn listed_events(srv: &TestServer, token: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut path = "/api/v1/events?limit=500".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = srv.get(&path, Some(token)).ok(200);
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => {
                items.reverse();
                return items;
            }
        }
    }
    panic!("more than 100 pages of events");
}

/// The newest event id the token's user can see (0 when none).
fn newest_visible_id(srv: &TestServer, token: &str) -> i64 {
    let page = srv.get("/api/v1/events?limit=1", Some(token)).ok(200);
    page["items"][0]["id"].as_i64().unwrap_or(0)
}

fn id_of(e: &Value) -> i64 {
    e["id"].as_i64().unwrap_or_else(|| panic!("no id: {e}"))
}

fn ids(events: &[Value]) -> Vec<i64> {
    events.iter().map(id_of).collect()
}

fn keyed_post(srv: &TestServer, token: &str, path: &str, key: &str, body: &Value) -> Reply {
    srv.send(
        srv.request(Method::POST, path, Some(token))
            .header("idempotency-key", key)
            .json(body),
    )
}

fn replayed(r: &Reply) -> bool {
    r.header("idempotent-replayed") == Some("true")
}

/// Sends `n` keyed POSTs at the same moment (from `n` threads released by
/// one barrier) and answers the replies.
fn keyed_at_once(
    srv: &TestServer,
    token: &str,
    path: &str,
    key: &str,
    body: &Value,
    n: usize,
) -> Vec<Reply> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    keyed_post(srv, token, path, key, body)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    })
}

/// All replies are the one first answer: same status (`status`), same
/// body; exactly one is the original, the others say they are replays.
fn assert_one_answer(replies: &[Reply], status: u16) -> Value {
    let first = replies[0].ok(status);
    for r in replies {
        assert_eq!(
            r.ok(status),
            first,
            "concurrent requests under one key got different answers:\n{:#?}",
            replies
                .iter()
                .map(|r| (r.status, &r.body))
                .collect::<Vec<_>>()
        );
    }
    let originals = replies.iter().filter(|r| !replayed(r)).count();
    assert_eq!(
        originals,
        1,
        "expected one original answer and {} marked `idempotent-replayed: true`: {:?}",
        replies.len() - 1,
        replies
            .iter()
            .map(|r| r.header("idempotent-replayed"))
            .collect::<Vec<_>>()
    );
    first
}

// ---------------------------------------------------------------------------
// a server-sent events reader on a raw socket
// ---------------------------------------------------------------------------

/// One message of a `text/event-stream`.
#[derive(Debug, Default)]
struct Message {
    id: Option<String>,
    data: Vec<String>,
    retry: Option<String>,
    comments: Vec<String>,
}

/// `GET /api/v1/events/stream…` on its own connection.
struct Sse {
    stream: TcpStream,
    /// Bytes received and not yet decoded (head, chunk framing).
    raw: Vec<u8>,
    /// Decoded body not yet parsed into messages.
    body: Vec<u8>,
    head_done: bool,
    chunked: bool,
    ended: bool,
    status: u16,
    headers: Vec<(String, String)>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Sse {
    /// Connects and sends the request, without waiting for an answer.
    fn send(srv: &TestServer, query: &str, token: &str, last_event_id: Option<&str>) -> Sse {
        let addr = srv
            .base_url()
            .strip_prefix("http://")
            .expect("http base URL")
            .to_owned();
        let mut stream =
            TcpStream::connect(&addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        let mut req = format!(
            "GET /api/v1/events/stream{query} HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n"
        );
        if let Some(id) = last_event_id {
            req.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        req.push_str("\r\n");
        stream
            .write_all(req.as_bytes())
            .unwrap_or_else(|e| panic!("send the stream request: {e}"));
        Sse {
            stream,
            raw: Vec::new(),
            body: Vec::new(),
            head_done: false,
            chunked: false,
            ended: false,
            status: 0,
            headers: Vec::new(),
        }
    }

    /// Connects, reads the head and asserts `200 text/event-stream` and the
    /// first message, `retry: 1000`.
    fn open(srv: &TestServer, query: &str, token: &str, last_event_id: Option<i64>) -> Sse {
        let id = last_event_id.map(|i| i.to_string());
        let mut s = Sse::send(srv, query, token, id.as_deref());
        s.expect_stream(srv);
        s
    }

    fn expect_stream(&mut self, srv: &TestServer) {
        self.read_head(Instant::now() + HEAD);
        assert_eq!(
            self.status,
            200,
            "stream answered {} {:?}\n{}",
            self.status,
            self.headers,
            srv.stderr_tail(20)
        );
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("text/event-stream"),
            "stream content type is {ct:?}"
        );
        let first = self
            .next_message(Instant::now() + DELIVERY)
            .expect("the stream's first message");
        assert_eq!(
            first.retry.as_deref(),
            Some("1000"),
            "first message is not `retry: 1000`: {first:?}"
        );
        assert!(first.id.is_none() && first.data.is_empty(), "{first:?}");
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// Reads once (until `deadline` at most): false on timeout or EOF.
    fn fill(&mut self, deadline: Instant) -> bool {
        let now = Instant::now();
        if now >= deadline || self.ended {
            return false;
        }
        self.stream
            .set_read_timeout(Some(deadline - now))
            .expect("set_read_timeout");
        let mut tmp = [0u8; 8192];
        match self.stream.read(&mut tmp) {
            Ok(0) => {
                self.ended = true;
                false
            }
            Ok(n) => {
                self.raw.extend_from_slice(&tmp[..n]);
                if self.head_done {
                    self.decode();
                }
                true
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => true,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
            Err(_) => {
                self.ended = true;
                false
            }
        }
    }

    fn read_head(&mut self, deadline: Instant) {
        let end = loop {
            if let Some(i) = find(&self.raw, b"\r\n\r\n") {
                break i;
            }
            assert!(
                self.fill(deadline),
                "no complete response head (ended: {}): {:?}",
                self.ended,
                String::from_utf8_lossy(&self.raw)
            );
        };
        let head = String::from_utf8_lossy(&self.raw[..end]).into_owned();
        self.raw.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        self.status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        self.headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        self.chunked = self
            .header("transfer-encoding")
            .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
        self.head_done = true;
        self.decode();
    }

    /// Moves what has arrived of the body from `raw` to `body`.
    fn decode(&mut self) {
        if !self.chunked {
            self.body.append(&mut self.raw);
            return;
        }
        while let Some(line_end) = find(&self.raw, b"\r\n") {
            let size_line = String::from_utf8_lossy(&self.raw[..line_end]).into_owned();
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .unwrap_or_else(|e| panic!("bad chunk size {size_line:?}: {e}"));
            if size == 0 {
                self.ended = true;
                return;
            }
            let start = line_end + 2;
            if self.raw.len() < start + size + 2 {
                return;
            }
            self.body.extend_from_slice(&self.raw[start..start + size]);
            self.raw.drain(..start + size + 2);
        }
    }

    /// The next complete message, or `None` at `deadline` or the end.
    fn next_message(&mut self, deadline: Instant) -> Option<Message> {
        loop {
            if let Some(i) = find(&self.body, b"\n\n") {
                let block: Vec<u8> = self.body.drain(..i + 2).collect();
                let text = String::from_utf8(block).expect("the stream is UTF-8");
                let mut m = Message::default();
                for line in text.lines().filter(|l| !l.is_empty()) {
                    if let Some(c) = line.strip_prefix(':') {
                        m.comments.push(c.trim().to_owned());
                        continue;
                    }
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                    match field {
                        "id" => m.id = Some(value),
                        "data" => m.data.push(value),
                        "retry" => m.retry = Some(value),
                        other => panic!("unexpected field {other:?} in {text:?}"),
                    }
                }
                return Some(m);
            }
            if !self.fill(deadline) {
                return None;
            }
        }
    }

    /// The next event (skipping comments), checked: `id:` is the event's id.
    fn next_event(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            let m = self.next_message(deadline)?;
            if m.data.is_empty() {
                assert!(m.id.is_none(), "id without data: {m:?}");
                continue;
            }
            let e: Value = serde_json::from_str(&m.data.join("\n"))
                .unwrap_or_else(|err| panic!("data is not JSON ({err}): {m:?}"));
            let id =
                m.id.as_deref()
                    .unwrap_or_else(|| panic!("event without id: {m:?}"));
            assert_eq!(
                id,
                id_of(&e).to_string(),
                "`id:` differs from the event's: {m:?}"
            );
            check_event_shape(&e);
            return Some(e);
        }
    }

    /// Events until one matches `until` (inclusive); panics after
    /// [`DELIVERY`] with what did arrive.
    fn events_until(&mut self, what: &str, until: impl Fn(&Value) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + DELIVERY;
        let mut got = Vec::new();
        loop {
            match self.next_event(deadline) {
                Some(e) => {
                    let done = until(&e);
                    got.push(e);
                    if done {
                        return got;
                    }
                }
                None => panic!(
                    "no {what} on the stream within {DELIVERY:?} (ended: {}); got {got:#?}",
                    self.ended
                ),
            }
        }
    }

    /// Asserts that no event arrives for `wait` (wall time).
    fn assert_quiet(&mut self, wait: Duration) {
        if let Some(e) = self.next_event(Instant::now() + wait) {
            panic!("unexpected event on the stream: {e}");
        }
    }
}

fn check_event_shape(e: &Value) {
    for field in ["id", "at", "kind", "actor", "action", "outcome"] {
        assert!(!e[field].is_null(), "event without {field}: {e}");
    }
    for field in ["target", "client_addr", "detail", "request_id"] {
        assert!(
            e.get(field).is_some(),
            "event without {field} (null or not): {e}"
        );
    }
    parse_rfc3339_utc(e["at"].as_str().expect("at is a string"));
}

fn is_update_of(e: &Value, guest: &str) -> bool {
    e["action"] == "guest.update" && e["target"] == guest
}

fn assert_ascending(events: &[Value]) {
    let ids = ids(events);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "event ids not strictly ascending (repeats or out of order): {ids:?}"
    );
}

// ---------------------------------------------------------------------------
// 1. the events stream
// ---------------------------------------------------------------------------

fn stream_delivers_and_resumes_without_gaps_or_repeats(db: Db) {
    let Some(srv) = server(db, 2) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_guest(&srv, &admin, &alice);

    // A new stream starts with what happens from then on.
    let before = newest_visible_id(&srv, &alice);
    assert!(before > 0, "alice's guest.request event is listed");
    let mut s = Sse::open(&srv, "", &alice, None);
    let patched = describe(&srv, &alice, &g, "first");
    let started = Instant::now();
    let got = s.events_until("alice's first update", |e| is_update_of(e, &g));
    println!("{db:?}: first update arrived after {:?}", started.elapsed());
    assert!(
        ids(&got).iter().all(|id| *id > before),
        "a new stream sent events from before it started ({before}): {got:#?}"
    );
    assert_ascending(&got);
    let update = got.last().unwrap().clone();
    assert_eq!(update["kind"], "audit", "{update}");
    assert_eq!(update["actor"], "alice", "{update}");
    assert_eq!(update["outcome"], "success", "{update}");
    assert_eq!(
        update["request_id"].as_str(),
        patched.header("x-request-id"),
        "the event names the request that made the change: {update}"
    );
    let last = id_of(&update);
    drop(s);

    // Two changes while disconnected.
    describe(&srv, &alice, &g, "second");
    srv.post_json(
        &leases_path(&g),
        Some(&alice),
        &json!({ "protocol": "tcp", "port": 8080 }),
    )
    .ok(201);

    // Reconnecting with Last-Event-ID: first what was missed, in order.
    let mut s = Sse::open(&srv, "", &alice, Some(last));
    let missed = s.events_until("the lease opened while away", |e| {
        e["action"] == "firewall.lease.open" && e["target"] == g.as_str()
    });
    assert_ascending(&missed);
    assert!(
        ids(&missed).iter().all(|id| *id > last),
        "the resumed stream repeated events up to {last}: {missed:#?}"
    );
    let second = missed
        .iter()
        .find(|e| is_update_of(e, &g))
        .unwrap_or_else(|| panic!("the second update is missing: {missed:#?}"));
    assert!(id_of(second) < id_of(missed.last().unwrap()));
    // ... exactly the events the list shows after `last`, no more, no less
    let upto = id_of(missed.last().unwrap());
    let listed: Vec<i64> = ids(&listed_events(&srv, &alice))
        .into_iter()
        .filter(|id| *id > last && *id <= upto)
        .collect();
    assert_eq!(
        ids(&missed),
        listed,
        "the resumed stream differs from GET /api/v1/events after {last}"
    );

    // ... then live events, nothing twice.
    describe(&srv, &alice, &g, "third");
    let live = s.events_until("the third update", |e| {
        is_update_of(e, &g) && id_of(e) > upto
    });
    assert!(
        ids(&live).iter().all(|id| *id > upto),
        "a live event repeated one from the backlog: {live:#?}"
    );
    assert_ascending(&live);

    // Resuming from the newest id sends nothing old.
    let newest = id_of(live.last().unwrap());
    let mut s2 = Sse::open(&srv, "", &alice, Some(newest));
    describe(&srv, &alice, &g, "fourth");
    let after = s2.events_until("the fourth update", |e| is_update_of(e, &g));
    assert!(ids(&after).iter().all(|id| *id > newest), "{after:#?}");
    // the first stream got the same event too
    let same = s.events_until("the fourth update", |e| is_update_of(e, &g));
    assert_eq!(same.last(), after.last());

    // Resuming from 0 replays everything visible, in order.
    let mut s3 = Sse::open(&srv, "", &alice, Some(0));
    let newest = id_of(after.last().unwrap());
    let all = s3.events_until("everything up to the fourth update", |e| id_of(e) == newest);
    assert_ascending(&all);
    let listed: Vec<i64> = ids(&listed_events(&srv, &alice))
        .into_iter()
        .filter(|id| *id <= newest)
        .collect();
    assert_eq!(ids(&all), listed, "Last-Event-ID: 0 differs from the list");
    assert!(
        all.iter()
            .any(|e| e["action"] == "guest.request" && e["target"] == g.as_str()),
        "the backlog from 0 lacks the guest.request: {all:#?}"
    );
}

fn stream_shows_what_events_would_list(db: Db) {
    let Some(srv) = server(db, 3) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let s01 = login(&srv, "s01");
    let a = take_guest(&srv, &admin, &alice);
    let b = take_guest(&srv, &admin, &s01);

    // What may not be streamed is refused before the stream starts.
    let stream = |token: Option<&str>, query: &str, last: Option<&str>| {
        let mut rb = srv.request(Method::GET, &format!("/api/v1/events/stream{query}"), token);
        if let Some(l) = last {
            rb = rb.header("last-event-id", l);
        }
        srv.send(rb)
    };
    stream(None, "", None).unauthorized();
    stream(Some(&alice), &format!("?guest={b}"), None).problem(404);
    stream(Some(&alice), "?guest=NOSUCH", None).problem(404);
    stream(Some(&alice), "?kind=bogus", None).problem(422);
    for bad in ["abc", "-1", "1.5", ""] {
        stream(Some(&alice), "", Some(bad)).problem(422);
    }

    let mut as_alice = Sse::open(&srv, "", &alice, None);
    let mut as_s01 = Sse::open(&srv, "", &s01, None);
    let mut as_admin = Sse::open(&srv, "", &admin, None);
    let mut admin_on_b = Sse::open(&srv, &format!("?guest={b}"), &admin, None);
    let mut alice_on_a = Sse::open(&srv, &format!("?guest={a}&kind=audit"), &alice, None);
    let mut alice_firewall = Sse::open(&srv, "?kind=firewall", &alice, None);

    describe(&srv, &s01, &b, "s01 one");
    describe(&srv, &alice, &a, "alice one");
    describe(&srv, &s01, &b, "s01 two");
    describe(&srv, &alice, &a, "alice two");

    let count = |events: &[Value], g: &str| events.iter().filter(|e| is_update_of(e, g)).count();
    let last_of = |g: &str| {
        let g = g.to_owned();
        move |e: &Value| is_update_of(e, &g)
    };

    // alice: her two updates, nothing of s01's guest
    let mut seen = Vec::new();
    while count(&seen, &a) < 2 {
        seen.extend(as_alice.events_until("alice's updates", last_of(&a)));
    }
    assert!(
        seen.iter().all(|e| e["target"] != b.as_str()),
        "alice's stream shows s01's guest: {seen:#?}"
    );
    assert_ascending(&seen);

    // s01: their two updates, nothing of alice's guest
    let mut seen = Vec::new();
    while count(&seen, &b) < 2 {
        seen.extend(as_s01.events_until("s01's updates", last_of(&b)));
    }
    assert!(
        seen.iter().all(|e| e["target"] != a.as_str()),
        "s01's stream shows alice's guest: {seen:#?}"
    );
    // s01's first and second update are there, alice's in between is not
    assert_eq!(count(&seen, &a), 0);

    // admin: all four, in the order they happened
    let mut seen = Vec::new();
    while count(&seen, &a) < 2 || count(&seen, &b) < 2 {
        seen.extend(as_admin.events_until("all four updates", |e| {
            is_update_of(e, &a) || is_update_of(e, &b)
        }));
    }
    assert_ascending(&seen);
    let order: Vec<&str> = seen
        .iter()
        .filter(|e| e["action"] == "guest.update")
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["s01", "alice", "s01", "alice"], "{seen:#?}");

    // filters: only that guest, only that kind
    let mut seen = Vec::new();
    while count(&seen, &b) < 2 {
        seen.extend(admin_on_b.events_until("s01's updates", last_of(&b)));
    }
    assert!(
        seen.iter().all(|e| e["target"] == b.as_str()),
        "?guest={b} shows other guests: {seen:#?}"
    );
    let mut seen = Vec::new();
    while count(&seen, &a) < 2 {
        seen.extend(alice_on_a.events_until("alice's updates", last_of(&a)));
    }
    assert!(
        seen.iter()
            .all(|e| e["target"] == a.as_str() && e["kind"] == "audit"),
        "?guest={a}&kind=audit shows others: {seen:#?}"
    );

    // Openings are audit events; expiry is of kind firewall.
    for (g, token) in [(&b, &s01), (&a, &alice)] {
        srv.post_json(
            &leases_path(g),
            Some(token),
            &json!({ "protocol": "tcp", "port": 8080, "duration_minutes": 1 }),
        )
        .ok(201);
    }
    srv.advance_clock(Duration::from_secs(120));
    let expired = |e: &Value, g: &str| e["action"] == "lease.expired" && e["target"] == g;
    let mut seen = Vec::new();
    while !(seen.iter().any(|e| expired(e, &a)) && seen.iter().any(|e| expired(e, &b))) {
        seen.extend(
            as_admin.events_until("both leases expiring", |e| e["action"] == "lease.expired"),
        );
    }
    assert_ascending(&seen);
    let fw = alice_firewall.events_until("alice's lease expiring", |e| expired(e, &a));
    alice_firewall.assert_quiet(Duration::from_millis(500));
    assert_eq!(fw.len(), 1, "?kind=firewall shows more: {fw:#?}");
    assert_eq!(fw[0]["kind"], "firewall", "{fw:#?}");

    // resuming: the backlog is as visible as the live part
    let mut resumed = Sse::open(&srv, "", &s01, Some(0));
    let upto = id_of(seen.iter().find(|e| expired(e, &b)).unwrap());
    let backlog = resumed.events_until("s01's lease", |e| id_of(e) == upto);
    assert!(
        backlog.iter().all(|e| e["target"] != a.as_str()),
        "the backlog shows alice's guest to s01: {backlog:#?}"
    );
    let listed: Vec<i64> = ids(&listed_events(&srv, &s01))
        .into_iter()
        .filter(|id| *id <= upto)
        .collect();
    assert_eq!(ids(&backlog), listed);
}

/// Many idle streams cost little: 500 at once, one event reaches every
/// one of them, and other requests are answered meanwhile.
fn five_hundred_idle_streams(db: Db) {
    const STREAMS: usize = 500;
    raise_fd_limit((4 * STREAMS + 512) as libc::rlim_t);
    let Some(srv) = server(db, 1) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_guest(&srv, &admin, &alice);

    let t = Instant::now();
    let mut streams: Vec<Sse> = (0..STREAMS)
        .map(|_| Sse::send(&srv, "", &alice, None))
        .collect();
    for s in &mut streams {
        s.expect_stream(&srv);
    }
    println!("{db:?}: {STREAMS} streams open after {:?}", t.elapsed());

    let healthz = |what: &str| {
        let t = Instant::now();
        srv.get("/healthz", None).expect(200);
        let took = t.elapsed();
        println!("/healthz {what}: {took:?}");
        assert!(
            took < Duration::from_secs(2),
            "/healthz took {took:?} {what}"
        );
    };
    healthz(&format!("with {STREAMS} idle streams"));

    describe(&srv, &alice, &g, "to everyone");
    let t = Instant::now();
    for (i, s) in streams.iter_mut().enumerate() {
        let got = s.events_until(&format!("the update on stream {i}"), |e| {
            is_update_of(e, &g)
        });
        assert_ascending(&got);
    }
    println!(
        "the event reached all {STREAMS} streams after {:?}",
        t.elapsed()
    );
    healthz("after the event");

    // every stream still listens after that
    describe(&srv, &alice, &g, "once more");
    for s in streams.iter_mut().step_by(25) {
        s.events_until("the second update", |e| is_update_of(e, &g));
    }
    drop(streams);
    healthz("after the streams closed");
}

/// Raises the soft limit of open files to `want` (within the hard limit);
/// the server inherits it.
fn raise_fd_limit(want: libc::rlim_t) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
    }
    assert!(
        lim.rlim_cur >= want,
        "open files limited to {} (hard {}), need {want}",
        lim.rlim_cur,
        lim.rlim_max
    );
}

// ---------------------------------------------------------------------------
// 2. Idempotency-Key
// ---------------------------------------------------------------------------

fn idempotent_guest_requests(db: Db) {
    let Some(srv) = server(db, 3) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let bob = login(&srv, "bob");
    wait_pool(&srv, &admin, 3);

    // Eight at once under one key: one guest, one answer. (Without the key
    // alice's quota of 2 would let two through and refuse six.)
    let replies = keyed_at_once(&srv, &alice, "/api/v1/guests", "k1", &json!({}), 8);
    let first = assert_one_answer(&replies, 201);
    let name = name_of(&first);
    let mine = guests_of(&srv, &alice, "");
    assert_eq!(names_of(&mine), std::slice::from_ref(&name), "{mine:#?}");
    let me = srv.me(&alice).ok(200);
    assert_eq!(me["quota"]["used"], 1, "{me}");

    // Later, the same again: the same answer, nothing done.
    let again = keyed_post(&srv, &alice, "/api/v1/guests", "k1", &json!({}));
    assert_eq!(again.ok(201), first);
    assert!(replayed(&again), "{:?}", again.headers);
    assert_eq!(guests_of(&srv, &alice, "").len(), 1);

    // The same key for another request: refused, whatever differs.
    keyed_post(
        &srv,
        &alice,
        "/api/v1/guests",
        "k1",
        &json!({ "lan": "LNXLAN1" }),
    )
    .problem(422);
    keyed_post(
        &srv,
        &alice,
        "/api/v1/guests",
        "k1",
        &json!({ "owner": "alice" }),
    )
    .problem(422);
    keyed_post(
        &srv,
        &alice,
        &leases_path(&name),
        "k1",
        &json!({ "protocol": "tcp", "port": 8080 }),
    )
    .problem(422);
    assert!(srv.get(&leases_path(&name), Some(&alice)).ok(200)["items"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(guests_of(&srv, &alice, "").len(), 1);

    // Keys are per user: bob's "k1" is his own.
    let bobs = keyed_post(&srv, &bob, "/api/v1/guests", "k1", &json!({}));
    let bobs_guest = bobs.ok(201);
    assert!(!replayed(&bobs), "{:?}", bobs.headers);
    assert_ne!(name_of(&bobs_guest), name);
    assert_eq!(bobs_guest["owner"], "bob", "{bobs_guest}");
    assert_eq!(guests_of(&srv, &bob, "&owner=bob").len(), 1);

    // Errors are not remembered: a retry runs again, and the key is free.
    for _ in 0..2 {
        let r = keyed_post(
            &srv,
            &alice,
            "/api/v1/guests",
            "k2",
            &json!({ "image": "nosuch" }),
        );
        r.problem(404);
        assert!(!replayed(&r), "an error was replayed: {:?}", r.headers);
    }
    let second = keyed_post(&srv, &alice, "/api/v1/guests", "k2", &json!({}));
    let second_guest = second.ok(201);
    assert!(!replayed(&second));
    assert_ne!(name_of(&second_guest), name);
    let over = keyed_post(&srv, &alice, "/api/v1/guests", "k3", &json!({}));
    over.problem(409);
    let mine: BTreeSet<String> = names_of(&guests_of(&srv, &alice, "")).into_iter().collect();
    assert_eq!(mine, BTreeSet::from([name.clone(), name_of(&second_guest)]));

    // A key must be 1 to 255 visible ASCII characters.
    for bad in ["x".repeat(256), "with space".to_owned()] {
        keyed_post(&srv, &alice, "/api/v1/guests", &bad, &json!({})).problem(422);
    }
    // ... and k1 still answers as first 23 hours on; after 24 hours it is
    // forgotten and the request runs afresh (alice is at her quota now).
    srv.advance_clock(Duration::from_secs(23 * 3600));
    let alice = login(&srv, "alice");
    let late = keyed_post(&srv, &alice, "/api/v1/guests", "k1", &json!({}));
    assert_eq!(late.ok(201), first);
    assert!(replayed(&late));
    srv.advance_clock(Duration::from_secs(3600 + 60));
    let alice = login(&srv, "alice");
    let expired = keyed_post(&srv, &alice, "/api/v1/guests", "k1", &json!({}));
    expired.problem(409);
    assert!(!replayed(&expired));
}

fn names_of(guests: &[Value]) -> Vec<String> {
    guests.iter().map(name_of).collect()
}

fn idempotent_lease_opening(db: Db) {
    let Some(srv) = server(db, 2) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_guest(&srv, &admin, &alice);
    let path = leases_path(&g);
    let body = json!({ "protocol": "tcp", "port": 8080, "duration_minutes": 30 });

    let replies = keyed_at_once(&srv, &alice, &path, "open-8080", &body, 8);
    let lease = assert_one_answer(&replies, 201);
    assert_eq!(lease["port"], 8080, "{lease}");
    let open = srv.get(&path, Some(&alice)).ok(200);
    let items = open["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{open}");
    assert_eq!(items[0]["id"], lease["id"], "{open}");

    // the same later: the first answer again (without the key it is 409)
    let again = keyed_post(&srv, &alice, &path, "open-8080", &body);
    assert_eq!(again.ok(201), lease);
    assert!(replayed(&again));
    srv.post_json(&path, Some(&alice), &body).problem(409);

    // another body under the key
    let other = json!({ "protocol": "tcp", "port": 8081, "duration_minutes": 30 });
    keyed_post(&srv, &alice, &path, "open-8080", &other).problem(422);
    let longer = json!({ "protocol": "tcp", "port": 8080, "duration_minutes": 31 });
    keyed_post(&srv, &alice, &path, "open-8080", &longer).problem(422);

    // keys are per user: the admin's "open-8080" opens another port
    let admins = keyed_post(&srv, &admin, &path, "open-8080", &other);
    assert_eq!(admins.ok(201)["port"], 8081);
    assert!(!replayed(&admins));
    let open = srv.get(&path, Some(&alice)).ok(200);
    assert_eq!(open["items"].as_array().unwrap().len(), 2, "{open}");

    // after closing, the key still answers the first (now closed) lease and
    // opens nothing
    let id = lease["id"].clone();
    srv.delete(&format!("/api/v1/firewall/leases/{id}"), Some(&alice))
        .expect(204);
    let after = keyed_post(&srv, &alice, &path, "open-8080", &body);
    assert_eq!(after.ok(201), lease);
    let open = srv.get(&path, Some(&alice)).ok(200);
    let ports: Vec<&Value> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["port"])
        .collect();
    assert_eq!(ports, [&json!(8081)], "{open}");

    // a refused opening is not remembered
    let bad = json!({ "protocol": "tcp", "port": 1 });
    for _ in 0..2 {
        let r = keyed_post(&srv, &alice, &path, "open-1", &bad);
        r.problem(422);
        assert!(!replayed(&r));
    }
    keyed_post(&srv, &alice, &path, "open-1", &body).ok(201);
}

fn idempotent_batches_and_reclaims(db: Db) {
    let Some(srv) = server(db, 2) else { return };
    let admin = login(&srv, "admin");
    let bob = login(&srv, "bob");
    wait_pool(&srv, &admin, 2);
    let batches = "/api/v1/provisioning/batches";
    let body = json!({ "users": ["s01", "s02"], "guests_per_user": 1 });

    let first = keyed_post(&srv, &bob, batches, "term-1", &body);
    let batch = first.ok(202);
    assert!(!replayed(&first));
    let again = keyed_post(&srv, &bob, batches, "term-1", &body);
    assert_eq!(again.ok(202), batch);
    assert!(replayed(&again));
    keyed_post(
        &srv,
        &bob,
        batches,
        "term-1",
        &json!({ "users": ["s01", "s02"], "guests_per_user": 2 }),
    )
    .problem(422);

    let list = srv.get(batches, Some(&bob)).ok(200);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one batch: {list}");
    assert_eq!(items[0]["id"], batch["id"], "{list}");

    let id = batch["id"].as_i64().expect("batch id");
    let done = srv.wait_for("the batch to finish", SETTLE, || {
        let b = srv.get(&format!("{batches}/{id}"), Some(&bob)).ok(200);
        (b["status"] != "queued" && b["status"] != "running").then_some(b)
    });
    assert_eq!(done["status"], "succeeded", "{done}");
    for user in ["s01", "s02"] {
        let theirs = guests_of(&srv, &bob, &format!("&owner={user}"));
        assert_eq!(theirs.len(), 1, "{user}: {theirs:#?}");
    }
    // replayed after it finished: still the first answer, no new batch
    let late = keyed_post(&srv, &bob, batches, "term-1", &body);
    assert_eq!(late.ok(202), batch);
    assert_eq!(
        srv.get(batches, Some(&bob)).ok(200)["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // four at once under another key: one batch
    let s03 = json!({ "users": ["s03"], "guests_per_user": 1, "dry_run": false });
    let replies = keyed_at_once(&srv, &bob, batches, "term-2", &s03, 4);
    let b2 = assert_one_answer(&replies, 202);
    assert_ne!(b2["id"], batch["id"]);
    let list = srv.get(batches, Some(&bob)).ok(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");

    // keys are per user: the admin's "term-1" is a new batch
    let admins = keyed_post(&srv, &admin, batches, "term-1", &body);
    let b3 = admins.ok(202);
    assert!(!replayed(&admins));
    assert_ne!(b3["id"], batch["id"]);

    // reclaims: one job for one key
    let reclaims = "/api/v1/provisioning/reclaims";
    let rbody = json!({ "users": ["s01"] });
    let replies = keyed_at_once(&srv, &bob, reclaims, "end-of-term", &rbody, 4);
    let job = assert_one_answer(&replies, 202);
    assert!(job["id"].is_number(), "{job}");
    let again = keyed_post(&srv, &bob, reclaims, "end-of-term", &rbody);
    assert_eq!(again.ok(202), job);
    keyed_post(
        &srv,
        &bob,
        reclaims,
        "end-of-term",
        &json!({ "users": ["s02"] }),
    )
    .problem(422);
    let jobs = srv.get("/api/v1/jobs?limit=500", Some(&bob)).ok(200);
    let reclaim_jobs: Vec<&Value> = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == job["kind"])
        .collect();
    assert_eq!(reclaim_jobs.len(), 1, "{jobs}");
}

// ---------------------------------------------------------------------------
// 3. ETag and If-Match
// ---------------------------------------------------------------------------

fn etag(r: &Reply) -> String {
    let tag = r
        .header("etag")
        .unwrap_or_else(|| panic!("no ETag: {:?}", r.headers))
        .to_owned();
    assert!(
        tag.len() > 2 && tag.starts_with('"') && tag.ends_with('"'),
        "ETag is not a strong quoted tag: {tag}"
    );
    tag
}

fn patch_if(
    srv: &TestServer,
    token: &str,
    guest: &str,
    if_match: Option<&str>,
    body: &Value,
) -> Reply {
    let mut rb = srv
        .request(Method::PATCH, &guest_path(guest), Some(token))
        .json(body);
    if let Some(tag) = if_match {
        rb = rb.header("if-match", tag);
    }
    srv.send(rb)
}

fn guests_change_only_the_version_named(db: Db) {
    let Some(srv) = server(db, 2) else { return };
    let admin = login(&srv, "admin");
    let alice = login(&srv, "alice");
    let g = take_guest(&srv, &admin, &alice);
    // its IPL (which records its root version) changes it once more
    srv.wait_for("the guest's IPL", Duration::from_secs(30), || {
        let v = srv.get(&guest_path(&g), Some(&alice)).ok(200);
        (v["root_version"] == 1).then_some(())
    });

    let read = srv.get(&guest_path(&g), Some(&alice));
    read.expect(200);
    let v1 = etag(&read);
    // the same version, the same tag, for whoever reads it
    assert_eq!(etag(&srv.get(&guest_path(&g), Some(&alice))), v1);
    assert_eq!(etag(&srv.get(&guest_path(&g), Some(&admin))), v1);

    // with the current tag: changed, and a new tag
    let r = patch_if(&srv, &alice, &g, Some(&v1), &json!({ "description": "v2" }));
    assert_eq!(r.ok(200)["description"], "v2");
    let v2 = etag(&r);
    assert_ne!(v2, v1, "the description changed but the ETag did not");
    assert_eq!(etag(&srv.get(&guest_path(&g), Some(&alice))), v2);

    // with the stale tag: 412, nothing changed
    let stale = patch_if(
        &srv,
        &alice,
        &g,
        Some(&v1),
        &json!({ "description": "lost" }),
    );
    stale.problem(412);
    let now = srv.get(&guest_path(&g), Some(&alice));
    assert_eq!(now.ok(200)["description"], "v2");
    assert_eq!(etag(&now), v2);

    // a weak tag never matches (strong comparison); a list may name it
    let weak = format!("W/{v2}");
    patch_if(
        &srv,
        &alice,
        &g,
        Some(&weak),
        &json!({ "description": "weak" }),
    )
    .problem(412);
    let list = format!("\"nope\", {v2}");
    let r = patch_if(
        &srv,
        &alice,
        &g,
        Some(&list),
        &json!({ "description": "v3" }),
    );
    assert_eq!(r.ok(200)["description"], "v3");
    let v3 = etag(&r);

    // somebody else's change makes alice's tag stale
    let r = patch_if(&srv, &admin, &g, None, &json!({ "auto_boot": false }));
    r.expect(200);
    let v4 = etag(&r);
    assert_ne!(v4, v3);
    patch_if(
        &srv,
        &alice,
        &g,
        Some(&v3),
        &json!({ "description": "mine" }),
    )
    .problem(412);
    assert_eq!(
        srv.get(&guest_path(&g), Some(&alice)).ok(200)["description"],
        "v3"
    );

    // `*` matches any version; no If-Match is unconditional
    let r = patch_if(
        &srv,
        &alice,
        &g,
        Some("*"),
        &json!({ "description": "star" }),
    );
    assert_eq!(r.ok(200)["description"], "star");
    let v5 = etag(&r);
    assert_ne!(v5, v4);
    let r = patch_if(&srv, &alice, &g, None, &json!({ "description": "plain" }));
    assert_eq!(r.ok(200)["description"], "plain");
    let v6 = etag(&r);
    assert_ne!(v6, v5);
    assert_eq!(etag(&srv.get(&guest_path(&g), Some(&alice))), v6);

    // a guest that is not yours is 404 before any precondition
    let dave = login(&srv, "dave");
    patch_if(&srv, &dave, &g, Some(&v6), &json!({ "description": "x" })).problem(404);
}
