"""README's "A first action day on the testbed, in the browser", followed step by step (#13.2).

Everything runs as the README says, as subprocesses of the installed command line:

- the testbed: ``takedown sim small --export-reports DIR`` writes the report files, then
  ``takedown sim small --speed 60`` serves the platforms with their clock running (here with
  ``--port 0 --control-port 0 --socks-port 0 --smtp-port 0 --ca-dir …``, its documented
  options, so it never collides with another run on the machine);
- the server: ``takedown db upgrade`` then ``takedown serve`` (what ``make run`` runs), on a
  fresh data directory, given the ``TAKEDOWN_*`` lines the testbed printed; its first start
  prints the one-time admin login, which the browser uses;
- the final report on the command line: ``takedown operation report 1 --final --format pdf``.

In the browser: the admin's first login and forced password change; Administration →
Agencies and Users (each new user changes the password on first login); Platforms → x →
the testbed's TCO contact point by e-mail; the supervisor's operation; the analyst's intake,
queue, assessment and "Refer selected" as a (first, hence emergency) removal order; the
supervisor's preview, approval and Send now (e-mail to the testbed's inbox); the liaison's
Annex II. The testbed's x then removes the item by itself (its compliance delay, on its
running clock), verification's background scheduler sees it gone twice, and the dashboard,
the final report page and both PDFs show the confirmed removal.

Nothing is faked: the confirmation gap (two ``removed`` checks), the first-day recheck
interval and the scheduler's period are the documented settings
``TAKEDOWN_VERIFICATION_CONFIRM_SECONDS`` / ``_RECHECK_SECONDS`` / ``_TICK_SECONDS``
(300 / 900 / 60 in production), set here to a few seconds.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import CHROMIUM_ARGS, _free_port, chromium_path, save_screenshot
from tests.pdfcheck import pdf_pages_text

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

TAKEDOWN = str(Path(sys.executable).with_name("takedown"))  # .venv/bin/takedown
LOADED_BOX_MS = 20_000
MINUTE = "%Y-%m-%dT%H:%M"
NEW_PASSWORD = "a walkthrough password, long enough"
JUSTIFICATION = "Synthetic stand-in for a designated group's call to attack (test content)."
CONFIRM_SECONDS = 5
SETTINGS = {
    "TAKEDOWN_VERIFICATION_CONFIRM_SECONDS": str(CONFIRM_SECONDS),
    "TAKEDOWN_VERIFICATION_RECHECK_SECONDS": "3",
    "TAKEDOWN_VERIFICATION_TICK_SECONDS": "2",
}
OP_NAME = "Walkthrough action day (synthetic)"


def _env(**extra: str) -> dict[str, str]:
    """The caller's environment without any TAKEDOWN_* setting (a fresh install), unbuffered."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
    return {**env, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", **extra}


def _wait_for(what: str, check: Callable[[], bool], log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen:\n{log.read_text()}", pytrace=False)
        time.sleep(0.2)


def _server_env(home: Path) -> dict[str, str]:
    return _env(
        TAKEDOWN_DATA_DIR=str(home / "var"),
        TAKEDOWN_SECRET_KEY="walkthrough-secret-key",
        **SETTINGS,
    )


@dataclass
class Proc:
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _start(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> Proc:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Proc(proc, log)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@dataclass
class SimTestbed:
    env: dict[str, str]  # the printed TAKEDOWN_* lines
    control_url: str
    x_contact: str
    reports: list[Path]

    def alive_x_urls(self) -> set[str]:
        r = httpx.get(f"{self.control_url}/items", params={"platform": "x", "alive": "1"})
        r.raise_for_status()
        return {i["url"] for i in r.json()}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("walkthrough")


@pytest.fixture(scope="module")
def testbed(home: Path) -> Iterator[SimTestbed]:
    env = _env()
    # Step 3: the platforms with their clock running, and the report files; the server's
    # database is migrated meanwhile (``make run``'s first half: a loaded box is slow).
    sim = _start(
        [TAKEDOWN, "sim", "small", "--speed", "60", "--port", "0", "--control-port", "0",
         "--socks-port", "0", "--smtp-port", "0", "--ca-dir", str(home / "sim")],
        env, home / "sim.log", home,
    )  # fmt: skip
    upgrade = _start([TAKEDOWN, "db", "upgrade"], _server_env(home), home / "upgrade.log", home)
    try:
        out = _run([TAKEDOWN, "sim", "small", "--export-reports", str(home / "reports")], env, home)
        assert "lines in" in out, out
        reports = sorted((home / "reports").glob("*-report.csv"))
        assert reports, out
        assert upgrade.proc.wait(timeout=300) == 0, upgrade.text()
        _wait_for("the testbed's start", lambda: "platform youtube:" in sim.text(), sim.log)
        text = sim.text()
        assert "at speed 60" in text, text  # the clock runs: platforms act by themselves
        printed = dict(re.findall(r"^(TAKEDOWN_[A-Z_]+)=(\S*)$", text, re.M))
        names = {"RESOLVE", "TOR_PROXY", "SMTP_URL", "CA_BUNDLE", "SSRF_ALLOW"}
        assert {f"TAKEDOWN_{n}" for n in names} <= set(printed), text
        control = re.search(r"^control API: (\S+)/clock", text, re.M)
        contact = re.search(r"^platform x: TCO contact point (\S+),", text, re.M)
        assert control and contact, text
        yield SimTestbed(printed, control.group(1), contact.group(1), reports)
    finally:
        sim.stop()


@dataclass
class Server:
    base_url: str
    env: dict[str, str]
    admin_email: str
    admin_password: str

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
def server(testbed: SimTestbed, home: Path) -> Iterator[Server]:
    """``make run`` (``takedown db upgrade``, ``takedown serve``) with the testbed's lines."""
    port = _free_port()
    env = {**_server_env(home), **testbed.env}  # the printed lines, exported
    srv = _start([TAKEDOWN, "serve", "--port", str(port)], env, home / "server.log", home)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if srv.proc.poll() is not None:
            pytest.fail(f"takedown serve exited:\n{srv.text()}", pytrace=False)
        try:
            return httpx.get(base + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait_for("the server's start", healthy, srv.log)
        login = re.search(r"e-mail:\s+(\S+)\s+password:\s+(\S+)", srv.text())
        assert login, srv.text()  # "First start: one-time admin login"
        yield Server(base, env, login.group(1), login.group(2))
    finally:
        srv.stop()
        print(srv.text()[-4000:])  # shown when the test fails


@pytest.fixture(scope="module")
def context(server: Server):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    ctx = browser.new_context(
        base_url=server.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB",
        accept_downloads=True,
    )  # fmt: skip
    yield ctx
    ctx.close()
    browser.close()
    pw.stop()


@dataclass
class Person:
    email: str
    password: str


def _log_in(page, server: Server, who: Person, *, first: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Log in through the form; on the first login choose a new password, as asked."""
    page.context.clear_cookies()
    page.goto(server.url("/login"))
    page.get_by_label("E-mail address").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Log in").click()
    if first:
        page.wait_for_url(server.url("/account/password"))
        page.get_by_label("Current password").fill(who.password)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        page.get_by_text("Your password has been changed.").wait_for()
        who.password = NEW_PASSWORD
    page.wait_for_url(server.url("/"))


def _nav(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("nav").get_by_role("link", name=name, exact=True).first.click()


def _figure(page, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator(f'[data-figure="{name}"] dd').first.inner_text()).strip()


def test_the_readme_walkthrough_ends_with_a_confirmed_removal_and_a_final_report(  # type: ignore[no-untyped-def]
    server: Server, testbed: SimTestbed, context, home: Path
) -> None:
    t0 = time.monotonic()
    phases: list[str] = []

    def phase(name: str) -> None:
        phases.append(f"{time.monotonic() - t0:6.1f}s {name}")

    page = context.new_page()
    page.set_default_timeout(LOADED_BOX_MS)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.accept()  # the user clicks OK

    page.on("dialog", on_dialog)

    # 1. The printed admin login; a new password first.
    admin = Person(server.admin_email, server.admin_password)
    _log_in(page, server, admin, first=True)

    phase("logged in as admin")
    # 2. Administration -> Agencies: ours, and the platform's.
    _nav(page, "Agencies")
    page.wait_for_url(server.url("/admin/agencies"))
    for name, country, kind, platform in (
        ("IRU Example", "FR", "national_iru", ""),
        ("X liaison desk", "IE", "platform", "x"),
    ):
        form = page.locator('form[action="/admin/agencies"]')
        form.get_by_label("Name").fill(name)
        form.get_by_label("Country").select_option(country)
        form.get_by_label("Kind").select_option(kind)
        form.get_by_label("Platform").fill(platform)
        form.get_by_role("button", name="Add agency").click()
        page.get_by_test_id("agency-row").filter(has_text=name).wait_for()
    # Users: an analyst and a supervisor in our agency, a liaison in the platform's.
    initial = "an initial password for the walkthrough"
    people: dict[str, Person] = {}
    _nav(page, "Users")
    page.wait_for_url(server.url("/admin/users"))
    for role, agency in (
        ("analyst", "IRU Example (FR)"),
        ("supervisor", "IRU Example (FR)"),
        ("liaison", "X liaison desk (IE)"),
    ):
        email = f"{role}@iru.example" if role != "liaison" else "liaison@x.example"
        form = page.locator('form[action="/admin/users"]')
        form.get_by_label("E-mail address").fill(email)
        form.get_by_label("Name").fill(f"Walkthrough {role}")
        form.get_by_label("Agency").select_option(label=agency)
        form.get_by_label("Role").select_option(role)
        form.get_by_label("Initial password").fill(initial)
        form.get_by_role("button", name="Add user").click()
        page.locator("main").get_by_text(email).first.wait_for()
        people[role] = Person(email, initial)
    # Platforms -> x: the testbed's TCO contact point, by e-mail.
    _nav(page, "Platforms")
    page.wait_for_url(server.url("/admin/platforms"))
    page.get_by_role("link", name=re.compile(r"^X\b.*\(edit\)$")).click()
    page.wait_for_url(server.url("/admin/platforms/x"))
    assert testbed.x_contact == "tco-referrals@x.com"  # as README says it prints
    page.get_by_label("TCO contact point").fill(testbed.x_contact)
    page.get_by_label("Delivery channel").select_option("email")
    page.get_by_role("button", name="Save platform").click()
    page.wait_for_url(server.url("/admin/platforms"))
    assert "tco-referrals@x.com" in page.locator("main").inner_text()

    phase("agencies, users, platform x")
    # 4. As the supervisor: a new operation, started.
    lead = people["supervisor"]
    _log_in(page, server, lead, first=True)
    _nav(page, "Operations")
    page.get_by_role("link", name="New operation").click()
    page.wait_for_url(server.url("/operations/new"))
    now = dt.datetime.now(dt.UTC)
    form = page.get_by_test_id("operation-form")
    form.get_by_label("Name").fill(OP_NAME)
    form.get_by_label("Starts (UTC)").fill((now - dt.timedelta(minutes=5)).strftime(MINUTE))
    form.get_by_label("Ends (UTC)").fill((now + dt.timedelta(days=1)).strftime(MINUTE))
    form.get_by_label("Groups").fill("Synthetic Group A")
    form.get_by_label("Platforms").fill("x")
    form.get_by_role("button", name="Create operation").click()
    page.wait_for_url(re.compile(r".*/operations/\d+$"))
    op_id = int(page.url.rsplit("/", 1)[1])
    assert op_id == 1  # the README's CLI command names operation 1 on a fresh install
    page.get_by_role("button", name="Start the operation (running)").click()
    page.get_by_text("The operation is now running.").wait_for()

    phase("operation")
    # 5. As the analyst: Intake -> one of var/reports/*-report.csv into the operation.
    analyst = people["analyst"]
    _log_in(page, server, analyst, first=True)
    _nav(page, "Intake")
    page.wait_for_url(server.url("/intake"))
    report_csv = next(
        p for p in testbed.reports if "x.com/" in p.read_text() or "twitter.com/" in p.read_text()
    )
    page.get_by_label("File").set_input_files(str(report_csv))
    page.get_by_label("Add to operation").select_option(label=OP_NAME)
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r".*/intake/\d+$"))
    assert page.get_by_test_id("import-errors").locator("tbody tr").count() >= 1  # rejected

    phase("intake")
    # 6. Queue: filter by the operation; an x item still up goes to its assessment form.
    _nav(page, "Queue")
    page.wait_for_url(re.compile(r".*/queue"))
    filters = page.get_by_role("search", name="Filter the queue")
    filters.get_by_label("Operation").select_option(label=OP_NAME)
    filters.get_by_label("URL contains").fill("https://x.com/")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*/queue\?.*operation=\d+"))
    alive = testbed.alive_x_urls()
    rows = page.get_by_test_id("queue-row")
    assert rows.count() >= 1
    item_id = url = ""
    for _ in range(rows.count()):
        page.keyboard.press("j")
        focused = page.locator("tr.is-focused")
        if focused.locator("code.url").inner_text() in alive:
            item_id = str(focused.get_attribute("data-item-id"))
            url = focused.locator("code.url").inner_text()
            break
    assert item_id, f"no x item of the report is up on the testbed: {alive}"
    page.keyboard.press("a")
    page.wait_for_url(server.url(f"/items/{item_id}#assess"))
    page.get_by_label("Verdict").select_option("terrorist_content")
    page.get_by_label("(a) incites the commission of terrorist offences").check()
    page.get_by_role("button", name="Save assessment").click()
    page.wait_for_url(server.url(f"/items/{item_id}"))
    # Select it in the queue, "Refer selected" as a TCO removal order, submit the draft.
    page.goto(server.url(f"/queue?operation={op_id}&status=assessed"))
    page.keyboard.press("j")
    for _ in range(page.get_by_test_id("queue-row").count()):
        if page.locator("tr.is-focused").get_attribute("data-item-id") == item_id:
            break
        page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.locator(f'tr[data-item-id="{item_id}"]').get_by_role("checkbox").is_checked()
    page.get_by_label("Referral kind").select_option("order")
    page.get_by_test_id("bulk-refer").click()
    page.wait_for_url(server.url("/referrals/new"))
    page.get_by_label("Justification: required for a removal order").fill(JUSTIFICATION)
    # x's first order would wait out the 12-hour prior notice (TCO Art. 3(2)).
    page.get_by_label("Emergency removal order").check()
    page.get_by_role("button", name="Create draft batches").click()
    page.wait_for_url(re.compile(r".*/referrals/\d+$"))
    batch_id = int(page.url.rsplit("/", 1)[1])
    reference = page.get_by_role("heading", level=1).inner_text().removeprefix("Removal order ")
    assert "email" in page.locator("dl.facts").inner_text()  # x's record: by e-mail
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Submitted.").wait_for()

    phase("referred and submitted")
    # 7. As the supervisor: Referrals -> the batch -> preview -> Approve -> Send now.
    _log_in(page, server, lead)
    _nav(page, "Referrals")
    page.get_by_role("link", name=reference.strip()).first.click()
    page.wait_for_url(server.url(f"/referrals/{batch_id}"))
    page.get_by_test_id("document-preview").click()
    page.wait_for_url(server.url(f"/referrals/{batch_id}/document"))
    assert url in page.locator("body").inner_text()  # the order names the URL
    page.go_back()
    page.get_by_role("button", name="Approve the order").click()
    page.get_by_text("Approved").first.wait_for()
    page.get_by_role("button", name="Send now").click()
    outcome = page.get_by_test_id("send-outcome")
    outcome.wait_for()
    assert "received" in outcome.inner_text().lower(), outcome.inner_text()
    received = httpx.get(f"{testbed.control_url}/referrals").text
    assert url in received and "removal_order" in received, received  # the testbed's x has it

    phase("approved and sent")
    # 8. As the liaison: Platform portal -> the order -> Confirm removal (Annex II).
    _log_in(page, server, people["liaison"], first=True)
    _nav(page, "Platform portal")
    page.get_by_role("link", name=reference.strip()).first.click()
    page.wait_for_url(server.url(f"/referrals/{batch_id}"))
    page.get_by_label("Select every unanswered item").check()
    page.get_by_label("Time of removal (UTC)").fill(
        dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    )
    page.get_by_role("button", name="Confirm removal of the selected items (Annex II)").click()
    page.get_by_text("Annex II (removed) recorded for 1 item(s).").wait_for()

    phase("Annex II")
    # 9. Verification runs by itself; 10. the dashboard shows the confirmed removal.
    _log_in(page, server, lead)
    page.goto(server.url(f"/operations/{op_id}"))
    deadline = time.monotonic() + 150  # x's removal-order delay (~30 min at speed 60)
    while _figure(page, "confirmed_removed") != "1":
        assert time.monotonic() < deadline, (
            f"no confirmed removal; the testbed's x items up: {url in testbed.alive_x_urls()}"
        )
        page.wait_for_timeout(3000)
        page.reload()
    dash = {k: _figure(page, k) for k in ("referred", "confirmed_removed", "claimed_removed")}
    assert dash == {"referred": "1", "confirmed_removed": "1", "claimed_removed": "1"}, dash
    assert url not in testbed.alive_x_urls()  # the testbed's x did take it down

    phase("confirmed on the dashboard")
    # The item's check timeline: two "removed" checks at least the gap apart.
    page.goto(server.url(f"/verification/items/{item_id}"))
    checks = [r.split("\t") for r in page.get_by_test_id("check-row").all_inner_texts()]
    removed = [
        dt.datetime.strptime(c[0].strip(), "%Y-%m-%d %H:%M:%S") for c in checks if c[1] == "removed"
    ]
    assert len(removed) >= 2, checks
    assert (removed[-1] - removed[0]).total_seconds() >= CONFIRM_SECONDS, checks
    assert re.search(r"Removal confirmed\s+\d{4}-", page.locator("dl.facts").inner_text())

    phase("timeline")
    # The final report: the page, its PDF, and the README's command line (run meanwhile).
    cli = _start(
        [TAKEDOWN, "operation", "report", "1", "--final", "--format", "pdf"],
        server.env, home / "report-cli.log", home,
    )  # fmt: skip
    page.goto(server.url(f"/operations/{op_id}"))
    page.get_by_role("link", name="Final report").click()
    page.wait_for_url(server.url(f"/operations/{op_id}/report?final=true"))
    assert _figure(page, "confirmed_removed") == dash["confirmed_removed"]
    assert _figure(page, "referred") == dash["referred"]
    assert "1 participating agency" in page.locator(".op-meta").inner_text()  # one IRU
    save_screenshot(page, "walkthrough-report", full_page=False)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename == f"operation-{op_id}-final.pdf"
    _assert_pdf_shows(pdf, OP_NAME)

    assert cli.proc.wait(timeout=300) == 0, cli.text()
    _assert_pdf_shows((home / "operation-1-final.pdf").read_bytes(), OP_NAME)

    assert [m for m in console_errors if "Content Security Policy" in m] == [], console_errors
    assert f"Send {reference.strip()} to x now by email?" in dialogs, dialogs
    phase("final report: page, PDF, command line")
    print("\n".join(phases))  # where the time goes (pytest -rP shows it)


def _assert_pdf_shows(pdf: bytes, name: str) -> None:
    assert pdf.startswith(b"%PDF")
    text = " ".join(" ".join(pdf_pages_text(pdf)).split())
    assert name in text, text[:2000]
    # the key figure, with its value (confirmed removals: 1)
    assert re.search(r"Confirmed removed \(checks\)\s*\d{0,2}\s*1\b", text), text[:3000]
