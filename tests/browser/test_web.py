"""herd's self-service page in a real browser (SPEC §9, docs/web.md).

Debian's Chromium, driven by Playwright, against the herd-server that
tests/tests/web_page.rs started. Everything on the page is found by the
labels, roles and button names docs/web.md keeps; what happened behind it
is checked through the public API with the same users' bearer tokens.
Waiting is Playwright's auto-waiting (`expect(…)` with a timeout), or the
API's own long poll (`GET /api/v1/commands/{id}?wait=…`); never a sleep.

The tests run in this order (`pytest -x`): the two that request a server
on the page come first and take students with room in their quota.
"""

from __future__ import annotations

import re
import statistics
import time

from playwright.sync_api import BrowserContext, Page, expect

from herdweb import (
    GUEST_NAME,
    GUEST_TIMEOUT_MS,
    Api,
    Bench,
    Config,
    EvilSite,
    Students,
    alert_with_text,
    allowed_port,
    axe_violations,
    button,
    countdown_between,
    describe_violations,
    fact,
    guest_name_of,
    http,
    is_focused,
    log_in,
    number,
    parse_remaining,
    password,
    percentile,
    region_names,
    screenshot,
    scroll_width,
    server_region,
    signed_in,
    tab_to,
    table_row,
    wait_running,
)

FACTS = ("Host name", "Address", "State", "Description", "Root version", "SSH fingerprint", "Expires")
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/=]+")


def posted(path_end: str, method: str = "POST"):
    """A predicate for `page.expect_response`: an answer to METHOD …path_end."""
    return lambda r: r.request.method == method and r.url.split("?")[0].endswith(path_end)


def open_server(page: Page, user: str, name: str, running: bool = True):
    """Logs `user` in and answers the region of their server `name`."""
    log_in(page, user)
    region = server_region(page, name)
    expect(region).to_be_visible(timeout=GUEST_TIMEOUT_MS)
    if running:
        wait_running(region)
    return region


def session_cookie(context: BrowserContext) -> dict:
    found = [c for c in context.cookies() if c["name"] == "herd_session"]
    assert len(found) == 1, f"herd_session cookie: {context.cookies()}"
    return found[0]


def new_events(api: Api, guest: str, after_id: int, actors: tuple[str, ...]) -> list[dict]:
    """Events of `guest` after `after_id` by one of `actors` (background
    work, actor `system`, goes on meanwhile)."""
    return [e for e in api.events(guest) if e["id"] > after_id and e["actor"] in actors]


def last_event_id(api: Api, guest: str) -> int:
    return max((e["id"] for e in api.events(guest)), default=0)


# ---------------------------------------------------------------------------
# a student: log in, request a server, see it
# ---------------------------------------------------------------------------


def test_a_student_logs_in_and_gets_a_server(page: Page, students: Students, config: Config):
    s = students.fresh()
    api = students.api(s)

    page.goto("/")
    user = page.get_by_label("User name", exact=True)
    pw = page.get_by_label("Password", exact=True)
    expect(user).to_be_visible()
    expect(pw).to_be_visible()
    expect(button(page, "Log in")).to_be_visible()
    screenshot(page, config, "login.png")

    # a wrong password: an alert, and still the login form
    user.fill(s)
    pw.fill("not-" + password(s))
    button(page, "Log in").click()
    expect(alert_with_text(page)).to_be_visible()
    expect(button(page, "Log in")).to_be_visible()

    pw.fill(password(s))
    button(page, "Log in").click()
    expect(page.get_by_text(f"Signed in as {s} (student)")).to_be_visible()
    expect(button(page, "Log out")).to_be_visible()
    expect(page.get_by_role("heading", name="My servers", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="My servers", exact=True)).to_be_visible()
    for not_for_students in ("All servers", "Course batch", "Administration"):
        expect(page.get_by_role("link", name=not_for_students, exact=True)).to_have_count(0)
    q = api.me()["quota"]
    expect(page.get_by_text(f"{q['used']} of {q['max_guests']} servers")).to_be_visible()

    with page.expect_response(posted("/api/v1/guests")) as answer:
        button(page, "Request a server").click()
    assert answer.value.status in (201, 202), answer.value.text()
    name = guest_name_of(answer.value.json())

    region = server_region(page, name)
    expect(region).to_be_visible(timeout=GUEST_TIMEOUT_MS)
    expect(region.get_by_role("heading", name=name, exact=True)).to_be_visible()
    for label in FACTS:
        expect(fact(region, label)).to_be_attached()
    wait_running(region)

    g = api.guest(name)
    assert g["owner"] == s, g
    expect(fact(region, "Host name")).to_have_text(g["hostname"])
    expect(fact(region, "Address")).to_contain_text(IPV4, timeout=GUEST_TIMEOUT_MS)
    expect(fact(region, "SSH fingerprint")).to_contain_text(FINGERPRINT, timeout=GUEST_TIMEOUT_MS)
    g = api.guest(name)
    expect(fact(region, "Address")).to_contain_text(g["ip_address"])
    expect(fact(region, "SSH fingerprint")).to_contain_text(g["ssh_host_key"]["fingerprint"])

    power = region.get_by_role("group", name="Power")
    for b in ("Start", "Stop", "Restart"):
        expect(button(power, b)).to_be_visible()
    expect(region.get_by_label("Description", exact=True)).to_be_visible()
    expect(button(region, "Save description")).to_be_visible()
    expect(region.get_by_role("table", name="Services", exact=True)).to_be_visible()
    for label in ("Protocol", "Port", "Minutes"):
        expect(region.get_by_label(label, exact=True)).to_be_visible()
    expect(region.get_by_label("Source network")).to_be_visible()
    expect(button(region, "Open port")).to_be_visible()
    expect(region.get_by_label("Type the server's name to confirm", exact=True)).to_be_visible()
    expect(button(region, "Reset")).to_be_visible()
    expect(region.get_by_role("heading", name="Recent events")).to_be_visible()

    q = api.me()["quota"]
    expect(page.get_by_text(f"{q['used']} of {q['max_guests']} servers")).to_be_visible()
    screenshot(page, config, "student.png")


def test_keyboard_alone_at_360_px(new_context, students: Students, config: Config):
    s = students.fresh()
    context = new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto("/")

    user = page.get_by_label("User name", exact=True)
    tab_to(page, user)
    page.keyboard.type(s)
    page.keyboard.press("Tab")
    assert is_focused(page.get_by_label("Password", exact=True)), "Tab from User name goes to Password"
    page.keyboard.type(password(s))
    page.keyboard.press("Enter")
    expect(signed_in(page, s)).to_be_visible()
    assert scroll_width(page) <= 360, f"the page is {scroll_width(page)} px wide at 360 px"

    request = button(page, "Request a server")
    presses = tab_to(page, request)
    print(f"'Request a server' is {presses} presses of Tab away")
    with page.expect_response(posted("/api/v1/guests")) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status in (201, 202), answer.value.text()
    name = guest_name_of(answer.value.json())
    region = server_region(page, name)
    expect(region).to_be_visible(timeout=GUEST_TIMEOUT_MS)
    wait_running(region)
    expect(region.get_by_role("table", name="Services", exact=True)).to_be_visible()

    width = scroll_width(page)
    assert width <= 360, f"the student's view is {width} px wide at 360 px (document.documentElement.scrollWidth)"
    screenshot(page, config, "student-360.png")


# ---------------------------------------------------------------------------
# services, firewall, reset
# ---------------------------------------------------------------------------

RESTARTS = 10

# Set up in the page: the time from the click on a row's "Restart" to the
# moment the row shows "restart succeeded" again, by performance.now() and a
# MutationObserver. The row first has to show something else (the click's
# own "requested" state), so the previous round's result never counts.
BENCH_SETUP = """(table, service) => {
    const text = () => Array.from(table.querySelectorAll('tr'))
        .filter(r => r.cells.length && r.cells[0].textContent.trim() === service)
        .map(r => r.textContent).join(' ');
    const st = window.__herdBench = { phase: 'idle', t0: 0, t1: 0, text };
    table.addEventListener('click', () => { st.phase = 'clicked'; st.t0 = performance.now(); }, true);
    new MutationObserver(() => {
        const t = text();
        if (st.phase === 'clicked' && !/succeeded/.test(t)) st.phase = 'waiting';
        else if (st.phase === 'waiting' && /restart succeeded/.test(t)) { st.t1 = performance.now(); st.phase = 'done'; }
    }).observe(table, { subtree: true, childList: true, characterData: true });
}"""


def test_restarting_a_service_shows_its_result_within_a_second(
    context: BrowserContext, students: Students, bench: Bench
):
    s = students.take()
    name = students.guest_for(s)
    api = students.api(s)
    page = context.new_page()
    region = open_server(page, s, name)

    services = api.services(name)
    assert services, f"{name} has no services"
    service = services[0]["name"]
    table = region.get_by_role("table", name="Services", exact=True)
    row = table_row(table, service)
    expect(row).to_be_visible()
    restart = button(row, "Restart")

    # one round to warm up (first command of the guest), not measured
    restart.click()
    expect(row).to_contain_text("restart succeeded", timeout=30_000)

    table.evaluate(BENCH_SETUP, service)
    web_ms: list[float] = []
    outside_ms: list[float] = []
    for _ in range(RESTARTS):
        started = time.perf_counter()
        restart.click()
        page.wait_for_function(
            "() => window.__herdBench.phase === 'done' || /failed/.test(window.__herdBench.text())",
            timeout=30_000,
        )
        assert page.evaluate("() => window.__herdBench.phase") == "done", row.inner_text()
        expect(row).to_contain_text("restart succeeded")
        outside_ms.append((time.perf_counter() - started) * 1000)
        web_ms.append(page.evaluate("() => window.__herdBench.t1 - window.__herdBench.t0"))

    api_ms: list[float] = []
    for _ in range(RESTARTS):
        started = time.perf_counter()
        r = api.post(f"/api/v1/guests/{name}/services/{service}/actions", {"action": "restart"}).ok(202)
        done = api.wait_command(r["command_id"])
        api_ms.append((time.perf_counter() - started) * 1000)
        assert done["status"] == "succeeded", done

    web_p50, web_max = statistics.median(web_ms), max(web_ms)
    api_p50, api_max = statistics.median(api_ms), max(api_ms)
    bench.record("web_restart_click_ms_p50", web_p50, "ms")
    bench.record("web_restart_click_ms_max", web_max, "ms")
    bench.record("web_restart_click_playwright_ms_p50", statistics.median(outside_ms), "ms")
    bench.record("api_restart_click_ms_p50", api_p50, "ms")
    bench.record("api_restart_click_ms_max", api_max, "ms")
    bench.record("web_vs_api_restart_p50", web_p50 / api_p50 if api_p50 > 0 else 0.0, "x")
    print(f"restart {service} on {name}: page {sorted(round(x) for x in web_ms)} ms, "
          f"API {sorted(round(x) for x in api_ms)} ms, p90 page {percentile(web_ms, 90):.0f} ms")
    assert web_max < 1000, f"a restart took {web_max:.0f} ms from the click to its result in the row: {web_ms}"


def test_start_at_boot_is_saved(context: BrowserContext, students: Students):
    s = students.take()
    name = students.guest_for(s)
    api = students.api(s)
    page = context.new_page()
    region = open_server(page, s, name)
    table = region.get_by_role("table", name="Services", exact=True)

    services = api.services(name)
    assert services, f"{name} has no services"
    target = next((x for x in services if not x["enabled"]), services[0])
    service = target["name"]
    box = table_row(table, service).get_by_role("checkbox", name="Start at boot", exact=True)
    if target["enabled"]:
        expect(box).to_be_checked()
        with page.expect_response(posted(f"/services/{service}", "PATCH")) as answer:
            box.uncheck()
        assert answer.value.status == 200, answer.value.text()
        expect(box).not_to_be_checked()
        assert not next(x for x in api.services(name) if x["name"] == service)["enabled"]

    expect(box).not_to_be_checked()
    with page.expect_response(posted(f"/services/{service}", "PATCH")) as answer:
        box.check()
    assert answer.value.status == 200, answer.value.text()
    expect(box).to_be_checked()
    now = next(x for x in api.services(name) if x["name"] == service)
    assert now["enabled"] is True, now


def test_a_port_opens_counts_down_renews_and_closes(context: BrowserContext, students: Students):
    s = students.take()
    name = students.guest_for(s)
    api = students.api(s)
    policy = api.policy()
    port = allowed_port(policy, "tcp", 8080)

    page = context.new_page()
    # The page's clock is Playwright's, so that time can move without waiting.
    page.clock.install()
    region = open_server(page, s, name)

    region.get_by_label("Protocol", exact=True).select_option("tcp")
    port_field = region.get_by_label("Port", exact=True)
    if port_field.evaluate("e => e.tagName") == "SELECT":
        port_field.select_option(str(port))
    else:
        port_field.fill(str(port))
    with page.expect_response(posted(f"/api/v1/guests/{name}/firewall/leases")) as answer:
        button(region, "Open port").click()
    assert answer.value.status == 201, answer.value.text()
    lease = answer.value.json()

    ports = region.get_by_role("table", name="Open ports", exact=True)
    row = ports.get_by_role("row").filter(has_text=number(port))
    expect(row).to_contain_text(re.compile(r"closes in \d"))

    # The countdown follows the browser's monotonic clock. A refresh of the
    # view landing in between shows the server's count again (the server's
    # clock moved only as much as the wall clock did): then measure again.
    moved = 10 * 60
    for attempt in range(4):
        before = parse_remaining(row.inner_text())
        page.clock.run_for(moved * 1000)
        try:
            expect(row).to_contain_text(countdown_between(before - moved - 3, before - moved + 1), timeout=3000)
            break
        except AssertionError:
            print(f"attempt {attempt}: {before} s before moving {moved} s, then {row.inner_text()!r}")
    else:
        raise AssertionError(f"the countdown did not fall by about {moved} s: {row.inner_text()!r}")
    after = parse_remaining(row.inner_text())
    assert before - moved - 3 <= after <= before - moved + 1, (before, after)

    with page.expect_response(posted(f"/api/v1/firewall/leases/{lease['id']}/renew")) as answer:
        button(row, "Renew").click()
    assert answer.value.status == 200, answer.value.text()
    renewed = answer.value.json()["remaining_seconds"]
    assert renewed > after, f"a renewal extends from now: {renewed} s, was {after} s"
    expect(row).to_contain_text(countdown_between(renewed - 5, renewed))

    with page.expect_response(posted(f"/api/v1/firewall/leases/{lease['id']}", "DELETE")) as answer:
        button(row, "Close").click()
    assert answer.value.status == 204, answer.value.text()
    expect(row).to_have_count(0)
    assert all(x["id"] != lease["id"] for x in api.leases(name)), api.leases(name)


def test_a_reset_needs_the_name_and_can_be_undone(context: BrowserContext, students: Students):
    s = students.take()
    name = students.guest_for(s)
    api = students.api(s)
    page = context.new_page()
    region = open_server(page, s, name)
    confirm = region.get_by_label("Type the server's name to confirm", exact=True)
    undo = button(region, "Undo reset")
    expect(undo).to_be_hidden()

    # a wrong name: refused, nothing reset
    confirm.fill("NOT" + name[:5])
    button(region, "Reset").click()
    expect(alert_with_text(page)).to_be_visible()
    g = api.guest(name)
    assert g.get("reset_undo_until") is None, g
    assert g["state"] == "running", g
    resets = [j for j in api.jobs() if j["kind"] in ("reset", "reset_undo") and j.get("target") == name]
    assert resets == [], resets
    expect(undo).to_be_hidden()

    confirm.fill(name)
    with page.expect_response(posted(f"/api/v1/guests/{name}/reset")) as answer:
        button(region, "Reset").click()
    assert answer.value.status == 202, answer.value.text()
    expect(undo).to_be_visible(timeout=GUEST_TIMEOUT_MS)
    wait_running(region)
    assert api.guest(name).get("reset_undo_until"), api.guest(name)

    with page.expect_response(posted(f"/api/v1/guests/{name}/reset/undo")) as answer:
        undo.click()
    assert answer.value.status == 202, answer.value.text()
    expect(undo).to_be_hidden(timeout=GUEST_TIMEOUT_MS)
    wait_running(region)
    g = api.guest(name)
    assert g.get("reset_undo_until") is None, g


# ---------------------------------------------------------------------------
# the session and its safety net
# ---------------------------------------------------------------------------


def test_log_out_ends_the_session_on_the_server(context: BrowserContext, students: Students, config: Config):
    s = students.take()
    page = context.new_page()
    log_in(page, s)
    cookie = session_cookie(context)
    replay = {"Cookie": f"herd_session={cookie['value']}"}
    assert http("GET", f"{config.url}/api/v1/me", headers=replay).ok(200)["username"] == s

    button(page, "Log out").click()
    expect(button(page, "Log in")).to_be_visible()
    expect(page.get_by_label("User name", exact=True)).to_be_visible()
    expect(signed_in(page, s)).to_have_count(0)
    assert not [c for c in context.cookies() if c["name"] == "herd_session" and c["value"]], context.cookies()

    # the old cookie, replayed: the session ended on the server
    r = http("GET", f"{config.url}/api/v1/me", headers=replay)
    assert r.status == 401, f"{r.status}: {r.text()}"
    # and the page, loaded again, asks for a login
    page.reload()
    expect(button(page, "Log in")).to_be_visible()


def test_the_session_cookie_and_the_page_headers(context: BrowserContext, students: Students, config: Config):
    s = students.take()
    name = students.guest_for(s)
    api = students.api(s)
    page = context.new_page()
    page_answers = []
    page.on(
        "response",
        lambda r: page_answers.append(r) if r.url.startswith(config.url) and "/api/" not in r.url else None,
    )
    region = open_server(page, s, name)

    cookie = session_cookie(context)
    assert cookie["httpOnly"] is True, cookie
    assert cookie["sameSite"] == "Strict", cookie
    assert cookie["path"] == "/", cookie
    assert "herd_session" not in page.evaluate("() => document.cookie")
    assert cookie["value"] not in page.evaluate("() => document.cookie")

    # the cookie alone, without X-CSRF-Token, changes nothing
    before = api.guest(name)
    after_id = last_event_id(api, name)
    r = http(
        "POST",
        f"{config.url}/api/v1/guests/{name}/power",
        body={"action": "stop"},
        headers={"Cookie": f"herd_session={cookie['value']}"},
    )
    assert r.status == 403, f"a change by cookie without X-CSRF-Token: {r.status} {r.text()}"
    assert api.guest(name)["state"] == before["state"] == "running"
    assert new_events(api, name, after_id, (s,)) == []
    wait_running(region)

    # every response of the page carries its safety headers
    assert page_answers, "no page responses seen"
    for resp in page_answers:
        h = resp.all_headers()
        csp = h.get("content-security-policy", "")
        assert csp, f"{resp.url} has no Content-Security-Policy"
        directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
        script_src = directives.get("script-src") or directives.get("default-src", "")
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, f"{resp.url}: {csp}"
        assert directives.get("frame-ancestors") == "frame-ancestors 'none'", f"{resp.url}: {csp}"
        assert h.get("x-content-type-options") == "nosniff", f"{resp.url}: {h}"
        assert h.get("referrer-policy") in ("no-referrer", "same-origin"), f"{resp.url}: {h}"
    print("page responses checked:", sorted({r.url for r in page_answers}))


XSS = [
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "<script>window.__xss=2</script>",
]


def test_descriptions_are_shown_as_text(context: BrowserContext, students: Students):
    s = students.take()
    name = students.guest_for(s)
    api = students.api(s)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, s)

    for text in XSS:
        assert api.patch(f"/api/v1/guests/{name}", {"description": text}).ok(200)["description"] == text
        page.reload()
        region = server_region(page, name)
        expect(region).to_be_visible(timeout=GUEST_TIMEOUT_MS)
        expect(fact(region, "Description")).to_have_text(text)
        expect(region.get_by_text(text, exact=True).first).to_be_visible()
        expect(region.locator("img")).to_have_count(0)
        expect(region.locator("script")).to_have_count(0)
        assert page.evaluate("() => typeof window.__xss") == "undefined"
        assert dialogs == [], dialogs

    for text, code in (("abc\u202eevil", "U+202E"), ("bell\u0007", "U+0007")):
        r = api.patch(f"/api/v1/guests/{name}", {"description": text})
        assert r.status == 422, f"{text!r}: {r.status} {r.text()}"
        assert code in r.text(), r.text()
    assert api.guest(name)["description"] == XSS[-1]


def test_forms_of_other_origins_change_nothing(context: BrowserContext, students: Students, config: Config):
    victim = students.take()
    name = students.guest_for(victim)
    attacker = students.other_than(victim)
    api = students.api(victim)
    page = context.new_page()
    open_server(page, victim, name)
    cookie = session_cookie(context)["value"]
    before = api.guest(name)
    after_id = last_event_id(api, name)

    with EvilSite() as evil:
        evil.add_json_form("/power.html", f"{config.url}/api/v1/guests/{name}/power", {"action": "stop"})
        evil.add_json_form(
            "/login.html",
            f"{config.url}/api/v1/auth/session",
            {"username": attacker, "password": password(attacker)},
        )
        # 127.0.0.1 on another port: another origin of the same site (the
        # SameSite=Strict cookie goes along); localhost: another site.
        for host in ("127.0.0.1", "localhost"):
            for form in ("/power.html", "/login.html"):
                with page.expect_response(
                    lambda r: r.url.startswith(config.url + "/api/") and r.request.method == "POST"
                ) as answer:
                    page.goto(evil.url(host, form))
                # the form's navigation ends on herd's answer before the next one
                page.wait_for_url(re.compile("^" + re.escape(config.url) + "/api/"))
                status = answer.value.status
                print(f"{host}{form} -> {answer.value.url}: {status}")
                if form == "/login.html" or host == "127.0.0.1":
                    assert status == 403, f"{host}{form}: {status} {answer.value.text()}"
                else:
                    assert status in (401, 403), f"{host}{form}: {status} {answer.value.text()}"

    assert session_cookie(context)["value"] == cookie, "another site's login replaced the session"
    me = http("GET", f"{config.url}/api/v1/me", headers={"Cookie": f"herd_session={cookie}"}).ok(200)
    assert me["username"] == victim, me
    after = api.guest(name)
    assert after["state"] == before["state"] == "running", after
    assert new_events(api, name, after_id, (victim, attacker)) == []
    page.goto("/")
    expect(signed_in(page, victim)).to_be_visible()
    region = server_region(page, name)
    expect(region).to_be_visible()
    wait_running(region)


def test_another_students_server_never_appears(new_context, students: Students):
    a = students.take()
    b = students.take(exclude=(a,))
    a_guest = students.guest_for(a)
    b_guest = students.guest_for(b)
    for me, mine, other in ((a, a_guest, b), (b, b_guest, a)):
        page = new_context().new_page()
        log_in(page, me)
        expect(server_region(page, mine)).to_be_visible(timeout=GUEST_TIMEOUT_MS)
        own = {g["name"] for g in students.api(me).guests()}
        theirs = {g["name"] for g in students.api(other).guests()}
        assert mine in own and not own & theirs, (own, theirs)
        for name in own:
            expect(server_region(page, name)).to_be_visible(timeout=GUEST_TIMEOUT_MS)
        shown = region_names(page)
        assert shown <= own, f"{me}'s page shows servers not theirs: {sorted(shown - own)}"
        assert not shown & theirs
        for name in theirs:
            expect(page.get_by_text(name)).to_have_count(0)
            assert students.api(me).get(f"/api/v1/guests/{name}").status == 404


# ---------------------------------------------------------------------------
# staff and admins
# ---------------------------------------------------------------------------


def test_staff_see_all_servers_and_search(page: Page, students: Students, config: Config):
    a = students.take()
    b = students.take(exclude=(a,))
    a_guest = students.some_guest_of(a)
    b_guest = students.some_guest_of(b)

    log_in(page, config.staff)
    expect(page.get_by_text(f"Signed in as {config.staff} (staff)")).to_be_visible()
    page.get_by_role("link", name="All servers", exact=True).click()
    expect(page.get_by_role("heading", name="All servers", exact=True)).to_be_visible()
    main = page.get_by_role("main")
    expect(main.get_by_role("table")).to_be_visible()
    for guest, owner in ((a_guest, a), (b_guest, b)):
        expect(main.get_by_text(guest, exact=True)).to_be_visible()
        expect(main.get_by_text(owner, exact=True).first).to_be_visible()
    screenshot(page, config, "staff-all.png")

    page.get_by_label("Search", exact=True).fill(a)
    expect(main.get_by_text(b_guest, exact=True)).to_have_count(0)
    expect(main.get_by_text(a_guest, exact=True)).to_be_visible()
    page.get_by_label("Search", exact=True).fill(b_guest)
    expect(main.get_by_text(a_guest, exact=True)).to_have_count(0)
    expect(main.get_by_text(b_guest, exact=True)).to_be_visible()


def test_staff_plan_and_run_a_course_batch(page: Page, students: Students, config: Config):
    staff = students.staff()
    plan = staff.post(
        "/api/v1/provisioning/batches", {"ldap_group": config.group, "guests_per_user": 1, "dry_run": True}
    ).ok(200)
    users = [u["username"] for u in plan["users"]]
    assert users, f"the group {config.group} has no members: {plan}"
    print(f"batch plan for {config.group}: {[(u['username'], u['needs']) for u in plan['users']]}")

    log_in(page, config.staff)
    page.get_by_role("link", name="Course batch", exact=True).click()
    expect(page.get_by_role("heading", name="Course batch", exact=True)).to_be_visible()
    page.get_by_label("Directory group", exact=True).fill(config.group)
    page.get_by_label("Servers per user", exact=True).fill("1")
    with page.expect_response(posted("/api/v1/provisioning/batches")) as answer:
        button(page, "Plan (dry run)").click()
    assert answer.value.status == 200, answer.value.text()
    main = page.get_by_role("main")
    for u in users:
        expect(main.get_by_text(u, exact=True).first).to_be_visible()

    with page.expect_response(posted("/api/v1/provisioning/batches")) as answer:
        button(page, "Run batch").click()
    assert answer.value.status == 202, answer.value.text()
    batch = answer.value.json()
    # its progress shows, live, until the batch has ended
    expect(main).to_contain_text(re.compile(r"(?<![a-z])(succeeded|failed|cancelled)(?![a-z])"), timeout=120_000)
    done = staff.get(f"/api/v1/provisioning/batches/{batch['id']}").ok(200)
    assert done["status"] == "succeeded", done
    for u in users:
        expect(main.get_by_text(u, exact=True).first).to_be_visible()
    screenshot(page, config, "staff-batch.png")


def test_admins_see_the_pool_root_versions_and_every_open_port(page: Page, students: Students, config: Config):
    s = students.take()
    name = students.some_guest_of(s)
    api = students.api(s)
    port = allowed_port(api.policy(), "tcp", 8443)
    lease = api.post(f"/api/v1/guests/{name}/firewall/leases", {"protocol": "tcp", "port": port}).ok(201)
    try:
        log_in(page, config.admin)
        expect(page.get_by_text(f"Signed in as {config.admin} (admin)")).to_be_visible()
        page.get_by_role("link", name="Administration", exact=True).click()
        expect(page.get_by_role("heading", name="Administration", exact=True)).to_be_visible()
        for heading in ("Pool", "Root versions", "Open ports"):
            expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        expect(page.get_by_label("Target size", exact=True)).to_be_visible()
        expect(page.get_by_label("Copy method", exact=True)).to_be_visible()
        expect(button(page, "Save pool")).to_be_visible()
        leases = page.get_by_role("table", name="Open ports", exact=True)
        expect(leases.get_by_role("row").filter(has_text=name).filter(has_text=number(port))).to_be_visible()
        screenshot(page, config, "admin.png")
    finally:
        api.delete(f"/api/v1/firewall/leases/{lease['id']}").expect(204)


# ---------------------------------------------------------------------------
# accessibility
# ---------------------------------------------------------------------------


def test_axe_finds_nothing_serious_on_any_view(new_context, students: Students, config: Config):
    # The page's CSP forbids inline scripts, axe-core's among them: only this
    # test's contexts bypass it.
    found: list[str] = []

    def scan(page: Page, view: str) -> None:
        violations = axe_violations(page)
        if violations:
            found.append(describe_violations(view, violations))
        print(f"axe-core on {view}: {len(violations)} serious or critical")

    # first, that the scan sees anything at all: a button without a name
    page = new_context(bypass_csp=True).new_page()
    page.set_content('<!doctype html><html lang="en"><title>t</title><main><button></button></main></html>')
    assert "button-name" in {v["id"] for v in axe_violations(page)}, "axe-core does not run"

    page.goto("/")
    expect(button(page, "Log in")).to_be_visible()
    scan(page, "login")

    s = students.take()
    name = students.some_guest_of(s)
    page = new_context(bypass_csp=True).new_page()
    region = open_server(page, s, name)
    expect(region.get_by_role("table", name="Services", exact=True)).to_be_visible()
    scan(page, "My servers (student)")

    page = new_context(bypass_csp=True).new_page()
    log_in(page, config.staff)
    page.get_by_role("link", name="All servers", exact=True).click()
    expect(page.get_by_role("heading", name="All servers", exact=True)).to_be_visible()
    expect(page.get_by_role("main").get_by_role("table")).to_be_visible()
    scan(page, "All servers (staff)")

    page.get_by_role("link", name="Course batch", exact=True).click()
    expect(page.get_by_role("heading", name="Course batch", exact=True)).to_be_visible()
    page.get_by_label("Directory group", exact=True).fill(config.group)
    page.get_by_label("Servers per user", exact=True).fill("1")
    with page.expect_response(posted("/api/v1/provisioning/batches")) as answer:
        button(page, "Plan (dry run)").click()
    assert answer.value.status == 200, answer.value.text()
    first_user = answer.value.json()["users"][0]["username"]
    expect(page.get_by_role("main").get_by_text(first_user, exact=True).first).to_be_visible()
    scan(page, "Course batch with its plan (staff)")

    page = new_context(bypass_csp=True).new_page()
    log_in(page, config.admin)
    page.get_by_role("link", name="Administration", exact=True).click()
    for heading in ("Pool", "Root versions", "Open ports"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    scan(page, "Administration (admin)")

    assert not found, "\n\n".join(found)


def test_the_helpers_read_names_and_countdowns():
    """The helpers' idea of a server name is the API's (`^[A-Z0-9@#$]{1,8}$`)."""
    assert GUEST_NAME.match("LX000042") and not GUEST_NAME.match("My servers")
    assert parse_remaining("closes in 1 h 29 min 58 s") == 5398
    assert parse_remaining("closes in 58 s") == 58
    assert countdown_between(5397, 5399).search("closes in 1 h 29 min 58 s")
    assert not countdown_between(5390, 5396).search("closes in 1 h 29 min 58 s")
