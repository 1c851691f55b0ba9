"""The dead-letter queue in a real browser: an admin opens Background jobs from the
navigation, reads why a job failed and queues it again (#18.1)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LiveServer, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_admin_queues_a_failed_job_again(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    from takedown.kit.clock import utcnow
    from takedown.runtime import deadletters

    page = browser_page
    with live_server.session() as s:
        ids = [
            deadletters.record_dead(
                s, job, kwargs, outbox_id=None, attempts=5, error=error, now=utcnow()
            ).id
            for job, kwargs, error in [
                ("evidence.capture", {"item_ids": [41, 42], "user_id": 3},
                 "TimeoutError: video.testbed.example did not answer in 20 s"),
                ("referrals.deliver", {"limit": 200},
                 "ConnectError: portal.testbed.example refused the connection"),
            ]
        ]  # fmt: skip
    admin = live_server.create_user(role="admin", operator=True)
    try:
        live_server.login(page, admin)
        nav = page.get_by_role("navigation", name="Main")
        nav.get_by_role("link", name="Background jobs").click()
        page.wait_for_url(live_server.url("/admin/jobs"))
        rows = page.get_by_test_id("failed-job")
        assert rows.filter(has_text="did not answer in 20 s").count() == 1
        save_screenshot(page, "admin-jobs", full_page=True)
        page.get_by_role("button", name=f"Queue again job {ids[0]}").click()
        page.wait_for_url(live_server.url("/admin/jobs"))
        assert page.get_by_text(f"Failed job {ids[0]} queued again.").is_visible()
        assert rows.filter(has_text="did not answer in 20 s").count() == 0
        assert page_log.csp_violations == [] and page_log.dialogs == []
    finally:  # the live server is shared: leave no failed job behind
        with live_server.session() as s:
            for i in ids:
                row = deadletters.repo.dead_job(s, i)
                if row is not None and row.retried_at is None:
                    deadletters.retry(s, i)
