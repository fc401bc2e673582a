"""Fixtures of herd's browser tests: the configuration from the environment
(herdweb.py says which variables), one Chromium per session (Debian's, with
the flags this machine needs), a fresh context per test, the spare students
and the benchmark output."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from herdweb import CHROMIUM_ARGS, Bench, Config, Students


@pytest.fixture(scope="session")
def config() -> Config:
    return Config.from_env()


@pytest.fixture(scope="session")
def students(config: Config) -> Students:
    return Students(config)


@pytest.fixture(scope="session")
def bench(config: Config) -> Bench:
    return Bench(config.bench_out)


@pytest.fixture(scope="session")
def browser(config: Config):
    if not Path(config.chromium).is_file():
        pytest.fail(
            f"{config.chromium} is missing: install Debian's chromium (apt-get install chromium); "
            "see tests/browser/SETUP.md",
            pytrace=False,
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=config.chromium, headless=True, args=CHROMIUM_ARGS)
        print(f"Chromium {b.version}")
        try:
            yield b
        finally:
            b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


class PageLog:
    """What a context's pages said on the console and what they threw."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.errors: list[str] = []

    def attach(self, page: Page) -> None:
        page.on("console", lambda m: self.lines.append(f"{page.url} console.{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"{page.url} uncaught: {e}"))


@pytest.fixture
def new_context(browser: Browser, config: Config, request):
    """Makes browser contexts, all closed when the test ends; a failing test
    leaves a screenshot of each of its pages in a temp directory and prints
    what they logged."""
    made: list[tuple[BrowserContext, PageLog]] = []

    def make(**kwargs) -> BrowserContext:
        kwargs.setdefault("base_url", config.url)
        ctx = browser.new_context(**kwargs)
        log = PageLog()
        ctx.on("page", log.attach)
        made.append((ctx, log))
        return ctx

    yield make

    rep = getattr(request.node, "rep_call", None)
    failed = rep is not None and rep.failed
    fail_dir = None
    for i, (ctx, log) in enumerate(made):
        if failed:
            fail_dir = fail_dir or Path(tempfile.mkdtemp(prefix="herd-web-failure-"))
            for j, pg in enumerate(ctx.pages):
                shot = fail_dir / f"{request.node.name}-{i}-{j}.png"
                try:
                    pg.screenshot(path=str(shot), full_page=True)
                    print(f"screenshot of a page of the failed test: {shot} ({pg.url})", file=sys.stderr)
                except Exception as e:  # the page may be gone already
                    print(f"no screenshot of {pg.url}: {e}", file=sys.stderr)
            for line in log.lines[-40:]:
                print(line, file=sys.stderr)
        for e in log.errors:
            print(f"page error in {request.node.name}: {e}", file=sys.stderr)
        ctx.close()


@pytest.fixture
def context(new_context) -> BrowserContext:
    """A fresh context with the page's CSP in force."""
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
