"""Helpers of herd's browser tests (docs/web.md; run by tests/tests/web_page.rs).

The Rust runner starts a herd-server (directory users, warm pool, a clock
that moves in step with the wall clock) and sets:

  HERD_WEB_URL          http://127.0.0.1:PORT of that server (required)
  HERD_WEB_SCREENSHOTS  directory for one PNG per view (default: a temp dir)
  HERD_WEB_BENCH_OUT    file for JSON lines {"bench","metric","value","unit"}
                        (default: printed only)
  HERD_WEB_STUDENTS     spare directory students, password <name>-pw
                        [s01,s02,s03,s04,s05]
  HERD_WEB_STAFF        a staff user [bob]
  HERD_WEB_ADMIN        an admin user [carol]
  HERD_WEB_GROUP        a directory group of students [course-101]
  HERD_WEB_CHROMIUM     the browser [/usr/bin/chromium]

Tests find things on the page only by the labels, roles and button names
that docs/web.md lists; what they check behind the page they check through
the public API with bearer tokens of the same users.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

HERE = Path(__file__).resolve().parent
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"

# The flags this machine needs (/work/.library/env/machines/rust.md): no
# sandbox as root, no GPU, and none of Chromium's own network traffic.
# Playwright gives every launch a fresh, empty --user-data-dir itself (and
# refuses one in `args`).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Auto-waiting everywhere; a 2-core machine running herd, Chromium and the
# tests at once is slow now and then.
EXPECT_TIMEOUT_MS = 15_000
# A pooled guest answers at once; a cloned one, or a boot, takes seconds.
GUEST_TIMEOUT_MS = 60_000

expect.set_options(timeout=EXPECT_TIMEOUT_MS)

GUEST_NAME = re.compile(r"^[A-Z0-9@#$]{1,8}$")


# ---------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


@dataclass(frozen=True)
class Config:
    url: str
    screenshots: Path
    bench_out: Path | None
    students: list[str]
    staff: str
    admin: str
    group: str
    chromium: str

    @classmethod
    def from_env(cls) -> "Config":
        url = _env("HERD_WEB_URL")
        if not url:
            pytest.fail(
                "HERD_WEB_URL is not set: these tests run against the herd-server that "
                "tests/tests/web_page.rs starts (cargo nextest run -p herd-tests --test web_page)",
                pytrace=False,
            )
        shots = _env("HERD_WEB_SCREENSHOTS")
        shots_dir = Path(shots) if shots else Path(tempfile.mkdtemp(prefix="herd-web-shots-"))
        shots_dir.mkdir(parents=True, exist_ok=True)
        bench = _env("HERD_WEB_BENCH_OUT")
        students = [s.strip() for s in _env("HERD_WEB_STUDENTS", "s01,s02,s03,s04,s05").split(",") if s.strip()]
        if len(students) < 3:
            pytest.fail(f"HERD_WEB_STUDENTS needs at least 3 students, has {students}", pytrace=False)
        return cls(
            url=url.rstrip("/"),
            screenshots=shots_dir,
            bench_out=Path(bench) if bench else None,
            students=students,
            staff=_env("HERD_WEB_STAFF", "bob"),
            admin=_env("HERD_WEB_ADMIN", "carol"),
            group=_env("HERD_WEB_GROUP", "course-101"),
            chromium=_env("HERD_WEB_CHROMIUM", "/usr/bin/chromium"),
        )


def password(user: str) -> str:
    return f"{user}-pw"


# ---------------------------------------------------------------------------
# the API, as a script would use it (bearer tokens; standard library only)
# ---------------------------------------------------------------------------

# No proxy: the server is on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Reply:
    method: str
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None

    def expect(self, *statuses: int) -> "Reply":
        assert self.status in statuses, (
            f"{self.method} {self.url} -> {self.status}, wanted {statuses}: {self.text()[:2000]}"
        )
        return self

    def ok(self, *statuses: int) -> Any:
        return self.expect(*(statuses or (200,))).json()


def http(
    method: str,
    url: str,
    *,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 45.0,
) -> Reply:
    """One raw HTTP exchange; never raises for an HTTP status."""
    hdrs = {"Accept": "application/json, application/problem+json"}
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return Reply(method, url, resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as e:
        return Reply(method, url, e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


class Api:
    """The public API with one user's bearer token."""

    def __init__(self, base: str, user: str, token: str):
        self.base = base
        self.user = user
        self.token = token

    @classmethod
    def login(cls, base: str, user: str) -> "Api":
        r = http("POST", f"{base}/api/v1/auth/tokens", body={"username": user, "password": password(user)})
        return cls(base, user, r.ok(201)["token"])

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        h = {"Authorization": f"Bearer {self.token}"}
        h.update(headers or {})
        return http(method, f"{self.base}{path}", body=body, headers=h)

    def get(self, path: str) -> Reply:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None) -> Reply:
        return self.call("POST", path, body if body is not None else {})

    def patch(self, path: str, body: Any) -> Reply:
        return self.call("PATCH", path, body)

    def delete(self, path: str) -> Reply:
        return self.call("DELETE", path)

    # --- what the tests ask often ---

    def me(self) -> dict:
        return self.get("/api/v1/me").ok(200)

    def guest(self, name: str) -> dict:
        return self.get(f"/api/v1/guests/{name}").ok(200)

    def guests(self, owner: str | None = None) -> list[dict]:
        q = f"?owner={owner}&limit=500" if owner else "?limit=500"
        return self.get(f"/api/v1/guests{q}").ok(200)["items"]

    def events(self, guest: str) -> list[dict]:
        return self.get(f"/api/v1/events?guest={guest}&limit=500").ok(200)["items"]

    def leases(self, guest: str) -> list[dict]:
        return self.get(f"/api/v1/guests/{guest}/firewall/leases?limit=500").ok(200)["items"]

    def services(self, guest: str) -> list[dict]:
        return self.get(f"/api/v1/guests/{guest}/services?limit=500").ok(200)["items"]

    def jobs(self) -> list[dict]:
        return self.get("/api/v1/jobs?limit=500").ok(200)["items"]

    def policy(self) -> dict:
        return self.get("/api/v1/firewall/policy").ok(200)

    def wait_command(self, command_id: int, timeout_s: float = 60) -> dict:
        """`GET /api/v1/commands/{id}?wait=30` (the server holds the answer
        until the command has ended) until it has ended."""
        deadline = time.monotonic() + timeout_s
        while True:
            c = self.get(f"/api/v1/commands/{command_id}?wait=30").ok(200)
            if c["status"] in ("succeeded", "failed"):
                return c
            assert time.monotonic() < deadline, f"command {command_id} did not end: {c}"


def number(n: int) -> re.Pattern:
    """`n` on its own (a port in a row's text, where cells' texts run together)."""
    return re.compile(rf"(?<![0-9]){n}(?![0-9])")


def guest_name_of(body: dict) -> str:
    """The name in `POST /api/v1/guests`'s answer: a Guest (201) or
    `{guest, job}` (202)."""
    name = body.get("name") or body.get("guest")
    assert isinstance(name, str) and GUEST_NAME.match(name), body
    return name


def allowed_port(policy: dict, protocol: str, wanted: int) -> int:
    """`wanted` if the policy lets it be opened, else the first port it does."""
    ranges = policy[protocol]
    assert ranges, f"the policy lets no {protocol} port be opened: {policy}"
    if any(r["start"] <= wanted <= r["end"] for r in ranges):
        return wanted
    return max(ranges[0]["start"], 1)


# ---------------------------------------------------------------------------
# students: each test takes its own, so that tests do not share guests
# ---------------------------------------------------------------------------


class Students:
    """Hands out the spare students of HERD_WEB_STUDENTS.

    `fresh()` answers a student nobody took as fresh before, with room in
    their quota for a server requested on the page (those tests run first).
    `take()` answers the student handed out least so far, and `guest_for()`
    makes a new server for them through the API: their own request, or,
    with their quota used up, the admin placing one for them (staff and
    admins are bounded by capacity, not by students' quotas). So every test
    works on a server of its own, found on the page by its name.
    """

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.handed: dict[str, int] = {s: 0 for s in cfg.students}
        self.fresh_taken: set[str] = set()
        self._apis: dict[str, Api] = {}

    def api(self, user: str) -> Api:
        if user not in self._apis:
            self._apis[user] = Api.login(self.cfg.url, user)
        return self._apis[user]

    def admin(self) -> Api:
        return self.api(self.cfg.admin)

    def staff(self) -> Api:
        return self.api(self.cfg.staff)

    def fresh(self) -> str:
        for s in self.cfg.students:
            if s in self.fresh_taken:
                continue
            q = self.api(s).me()["quota"]
            if q.get("max_guests") is None or q["used"] < q["max_guests"]:
                self.fresh_taken.add(s)
                self.handed[s] += 1
                return s
        pytest.fail(
            f"no student of HERD_WEB_STUDENTS={','.join(self.cfg.students)} has room for another "
            "server; name more spare students",
            pytrace=False,
        )

    def take(self, exclude: tuple[str, ...] = ()) -> str:
        pool = [s for s in self.cfg.students if s not in exclude]
        s = min(pool, key=lambda s: self.handed[s])
        self.handed[s] += 1
        return s

    def other_than(self, *users: str) -> str:
        """A student name (for a login attempt only: nothing is made for them)."""
        return next(s for s in self.cfg.students if s not in users)

    def guest_for(self, student: str) -> str:
        """A new server for `student`; answers its name (it may still boot)."""
        r = self.api(student).post("/api/v1/guests", {})
        if r.status == 409:
            r = self.admin().post("/api/v1/guests", {"owner": student})
        return guest_name_of(r.ok(201, 202))

    def some_guest_of(self, student: str) -> str:
        """A server `student` holds already, else a new one."""
        for g in self.api(student).guests():
            if g["state"] not in ("decommissioning", "decommissioned", "failed"):
                return g["name"]
        return self.guest_for(student)


# ---------------------------------------------------------------------------
# benchmark output
# ---------------------------------------------------------------------------


class Bench:
    def __init__(self, out: Path | None):
        self.out = out
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)

    def record(self, metric: str, value: float, unit: str) -> None:
        line = json.dumps({"bench": "web", "metric": metric, "value": round(value, 3), "unit": unit})
        print(line)
        if self.out is not None:
            with self.out.open("a", encoding="utf-8") as f:
                f.write(line + "\n")


def percentile(samples: list[float], p: float) -> float:
    s = sorted(samples)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


# ---------------------------------------------------------------------------
# page helpers (labels, roles and button names of docs/web.md only)
# ---------------------------------------------------------------------------


def button(scope: Page | Locator, name: str) -> Locator:
    return scope.get_by_role("button", name=name, exact=True)


def signed_in(page: Page, user: str) -> Locator:
    return page.get_by_text(f"Signed in as {user} (")


def log_in(page: Page, user: str) -> None:
    """Opens the page and logs in with "User name", "Password", "Log in"."""
    page.goto("/")
    page.get_by_label("User name", exact=True).fill(user)
    page.get_by_label("Password", exact=True).fill(password(user))
    button(page, "Log in").click()
    expect(signed_in(page, user)).to_be_visible()


def server_region(page: Page, name: str) -> Locator:
    """The region of one server, named by the server's name."""
    return page.get_by_role("region", name=name, exact=True)


def _xpath_literal(s: str) -> str:
    if "'" not in s:
        return f"'{s}'"
    if '"' not in s:
        return f'"{s}"'
    return "concat(" + ", \"'\", ".join(f"'{p}'" for p in s.split("'")) + ")"


def fact(scope: Locator, label: str) -> Locator:
    """The value shown beside one of a region's labels ("Host name",
    "State", …): a description list's term and its definition, or a row
    header and the cell after it."""
    lit = _xpath_literal(label)
    as_term = scope.locator(f"xpath=.//dt[normalize-space(.)={lit}]/following-sibling::dd[1]")
    as_row = scope.locator(f"xpath=.//th[normalize-space(.)={lit}]/following-sibling::td[1]")
    return as_term.or_(as_row).first


def table_row(table: Locator, key: str) -> Locator:
    """The row of `table` whose row header (or a cell) is exactly `key`."""
    page = table.page
    key_cell = page.get_by_role("rowheader", name=key, exact=True).or_(page.get_by_role("cell", name=key, exact=True))
    return table.get_by_role("row").filter(has=key_cell)


def wait_running(region: Locator, timeout: int = GUEST_TIMEOUT_MS) -> None:
    expect(fact(region, "State")).to_have_text("running", timeout=timeout)


def alert_with_text(page: Page) -> Locator:
    return page.get_by_role("alert").filter(has_text=re.compile(r"\S"))


def region_names(page: Page) -> set[str]:
    """The accessible names of the page's regions that look like server names."""
    snap = page.locator("body").aria_snapshot()
    names = set(re.findall(r'- region "([^"]*)"', snap))
    return {n for n in names if GUEST_NAME.match(n)}


def screenshot(page: Page, cfg: Config, name: str) -> None:
    path = cfg.screenshots / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot {path}")


def scroll_width(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def is_focused(locator: Locator) -> bool:
    return locator.evaluate("e => e === document.activeElement")


def tab_to(page: Page, target: Locator, most: int = 60) -> int:
    """Presses Tab until `target` has the focus; answers how many presses."""
    expect(target).to_be_visible()
    for presses in range(most + 1):
        if is_focused(target):
            return presses
        page.keyboard.press("Tab")
    pytest.fail(f"{target} not reached with {most} presses of Tab", pytrace=False)


# ---------------------------------------------------------------------------
# axe-core
# ---------------------------------------------------------------------------


def axe_violations(page: Page) -> list[dict]:
    """Runs axe-core in `page` and answers its serious and critical
    violations. The page's context must bypass the CSP (the script goes in
    inline); only the accessibility scans use such a context."""
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` in tests/browser (SETUP.md)", pytrace=False)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async () => {
            const r = await axe.run(document, { resultTypes: ['violations'] });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({ target: n.target, html: n.html, summary: n.failureSummary })),
            }));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def describe_violations(view: str, violations: list[dict]) -> str:
    out = [f"{view}: {len(violations)} serious or critical axe-core violation(s)"]
    for v in violations:
        out.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for n in v["nodes"][:10]:
            out.append(f"    {n['target']}: {n['html'][:200]}")
            if n.get("summary"):
                out.append("      " + n["summary"].replace("\n", "\n      "))
    return "\n".join(out)


# ---------------------------------------------------------------------------
# countdowns ("closes in 1 h 29 min 58 s")
# ---------------------------------------------------------------------------

# No \b after "s": in a row's text content the next cell's text follows at once.
_COUNTDOWN = re.compile(r"closes in\s+(?:(\d+)\s*h\s*)?(?:(\d+)\s*min\s*)?(\d+)\s*s")


def parse_remaining(text: str) -> int:
    """The seconds of the countdown in `text`."""
    m = _COUNTDOWN.search(text)
    assert m, f"no countdown (\"closes in …\") in {text!r}"
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def _one_countdown(seconds: int) -> str:
    h, rest = divmod(max(0, seconds), 3600)
    m, s = divmod(rest, 60)
    if h:
        return rf"{h}\s*h\s*{m}\s*min\s*{s}\s*s"
    if m:
        return rf"(?:0\s*h\s*)?{m}\s*min\s*{s}\s*s"
    return rf"(?:0\s*h\s*)?(?:0\s*min\s*)?{s}\s*s"


def countdown_between(low: int, high: int) -> re.Pattern:
    """A countdown showing between `low` and `high` seconds."""
    alts = "|".join(_one_countdown(s) for s in range(max(0, low), max(0, high) + 1))
    return re.compile(rf"closes in\s+(?:{alts})")


# ---------------------------------------------------------------------------
# another origin
# ---------------------------------------------------------------------------


class EvilSite:
    """A second web server on another loopback port: another origin than
    herd's (and, reached as `localhost`, another site), serving pages whose
    forms post to herd by themselves as soon as they load."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                body = pages.get(self.path.split("?")[0])
                data = (body or "").encode()
                try:
                    self.send_response(200 if body is not None else 404)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the browser went on (a favicon nobody waits for)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "EvilSite":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def add_json_form(self, path: str, action: str, payload: dict) -> None:
        """A page posting `payload` as JSON the only way a plain HTML form
        can: `enctype="text/plain"` with the JSON in a field's name."""
        text = json.dumps(payload)
        assert text.endswith("}")
        name = text[:-1] + ', "pad": "'
        value = '"}'
        self.pages[path] = (
            "<!doctype html><html><head><title>win a prize</title></head><body>"
            f'<form id="f" method="post" enctype="text/plain" action="{html.escape(action)}">'
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            "</form><script>window.addEventListener('load', () => "
            "setTimeout(() => document.getElementById('f').submit(), 0));</script></body></html>"
        )
