"""Browser-test harness: a real server on a free port, and Debian's chromium via Playwright.

Reuse it from any capability's browser test::

    pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

    def test_queue(live_server, browser_page):
        analyst = live_server.create_user(role="analyst")
        live_server.login(browser_page, analyst)
        browser_page.goto(live_server.url("/queue"))
        ...
        save_screenshot(browser_page, "queue")

``live_server`` is shared by the whole session (one SQLite data dir, migrated);
make unique rows per test (``create_user`` does). ``live_server.session()`` is a
committed unit of work for arranging data through the service layer.
``serve(data_dir, extra_env)`` starts another server with extra settings, e.g. wired
to a testbed (``test_check_now.py``).

No browser is ever downloaded: chromium comes from Debian (``make test`` installs
it). Without it the tests skip on a laptop and fail under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts import repository, service
from takedown.accounts.service import SYSTEM
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    # Browser tests share one server and one browser per worker: keep them on one worker
    # (pytest -n 2 --dist loadgroup). Registered here too for runs without xdist.
    config.addinivalue_line("markers", "xdist_group(name): run the group on one xdist worker")


def chromium_path() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        msg = "Debian's chromium is not installed (apt-get install chromium; make test does it)"
        if IN_CI:
            pytest.fail(f"browser tests need chromium under CI=true: {msg}", pytrace=False)
        pytest.skip(msg)
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LiveUser:
    id: int
    email: str
    password: str
    role: str
    agency_id: int
    agency_name: str
    totp_secret: str | None = None

    def totp_now(self) -> str:
        assert self.totp_secret, "this user has no TOTP"
        return pyotp.TOTP(self.totp_secret).now()


@dataclass
class LiveServer:
    base_url: str
    data_dir: Path
    factory: sessionmaker[Session]
    log_path: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def session(self) -> AbstractContextManager[Session]:
        """A committed unit of work on the server's database (arrange data via services)."""
        return session_scope(self.factory)

    def create_agency(self, name: str | None = None, **fields: str) -> tuple[int, str]:
        with self.session() as s:
            a = service.create_agency(
                s,
                SYSTEM,
                name=name or f"E2E agency {next(_seq)}",
                country=fields.pop("country", "FR"),
                kind=fields.pop("kind", "national_iru"),
                **fields,
            )
            return a.id, a.name

    def create_user(
        self,
        *,
        role: str = "analyst",
        agency_id: int | None = None,
        email: str | None = None,
        totp: bool = False,
        display_name: str = "",
        operator: bool = False,
    ) -> LiveUser:
        if agency_id is None:
            agency_id, _ = self.create_agency()
        n = next(_seq)
        with self.session() as s:
            agency = service.get_agency(s, agency_id)
            user = service.create_user(
                s,
                SYSTEM,
                agency_id=agency_id,
                email=email or f"{role}{n}@e2e.example",
                role=role,
                password=PASSWORD,
                display_name=display_name or f"{role.capitalize()} {n}",
            )
            if operator:  # the instance operator: agencies and accounts across agencies
                service.set_operator(s, SYSTEM, user.id, True)
            secret = service.enable_totp(s, SYSTEM, user.id) if totp else None
            return LiveUser(user.id, user.email, PASSWORD, role, agency.id, agency.name, secret)

    def user_exists(self, email: str) -> bool:
        with self.session() as s:
            return repository.user_by_email(s, email) is not None

    def login(self, page, user: LiveUser, next_path: str = "/") -> None:  # type: ignore[no-untyped-def]
        """Log in through the real form (CSRF, TOTP and all)."""
        page.context.clear_cookies()
        page.goto(self.url(f"/login?next={next_path}"))
        page.get_by_label("E-mail address").fill(user.email)
        page.get_by_label("Password").fill(user.password)
        if user.totp_secret:
            page.get_by_label("One-time code").fill(user.totp_now())
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(self.url(next_path))


@contextlib.contextmanager
def serve(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """The app under uvicorn in a subprocess, on a free port, against a migrated SQLite
    database in ``data_dir``; ``extra_env`` adds settings (e.g. a testbed's resolver map)."""
    engine = make_engine(f"sqlite:///{data_dir / 'takedown.sqlite3'}")
    upgrade(engine)
    port = _free_port()
    env = {
        **os.environ,
        "TAKEDOWN_DATA_DIR": str(data_dir),
        "TAKEDOWN_SECRET_KEY": "e2e-secret-key",
        "TAKEDOWN_LOGIN_MAX_ATTEMPTS": "50",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        **(extra_env or {}),
    }
    env.pop("TAKEDOWN_DATABASE_URL", None)
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "tests.e2e.server:build_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded 2-core box starts slowly
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited:\n{log_path.read_text()}", pytrace=False)
            try:
                if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{log_path.read_text()}", pytrace=False)
            time.sleep(0.1)
        yield LiveServer(base_url, data_dir, make_sessionmaker(engine), log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory.mktemp("e2e-var")) as server:
        yield server


# Module scope, not session: a started sync Playwright keeps an asyncio loop running in
# this thread, and every later asyncio.run() on the same xdist worker would fail.
@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:
        pw.stop()
        if IN_CI:
            pytest.fail(f"chromium did not start: {exc}", pytrace=False)
        pytest.skip(f"chromium did not start: {exc}")
    yield b
    b.close()
    pw.stop()


@dataclass
class PageLog:
    """What the page reported: console errors and CSP violations (tests assert on these)."""

    console_errors: list[str]
    dialogs: list[str]

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.console_errors if "Content Security Policy" in m]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog([], [])


@pytest.fixture
def browser_page(browser, live_server: LiveServer, page_log: PageLog):  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) and page, 1280x800, base_url = the live server."""
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1280, "height": 800}, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)  # argon2 logins and imports on a loaded 2-core CI box
    page.on(
        "console",
        lambda msg: page_log.console_errors.append(msg.text) if msg.type == "error" else None,
    )

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        page_log.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    context.close()


def save_screenshot(page, name: str, *, full_page: bool = False) -> Path:  # type: ignore[no-untyped-def]
    """Save ``docs/screenshots/<name>.png`` (the README shows these)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
