"""kit.logs: the root handler ``takedown serve`` and ``takedown worker`` install."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from takedown.config import Settings
from takedown.kit.logs import configure_logging


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_info_from_a_capability_reaches_the_stream_with_time_level_and_name(
    root: logging.Logger,
) -> None:
    out = io.StringIO()
    configure_logging("info", stream=out)
    logging.getLogger("takedown.runtime.outbox").info("relayed %d jobs", 3)
    logging.getLogger("takedown.runtime.outbox").debug("not shown")
    line = out.getvalue().strip()
    assert line.endswith(f"INFO [{os.getpid()}] takedown.runtime.outbox: relayed 3 jobs")
    assert line[:4].isdigit()  # asctime first
    assert "not shown" not in out.getvalue()


def test_configuring_twice_keeps_one_handler(root: logging.Logger) -> None:
    out = io.StringIO()
    configure_logging("WARNING", stream=out)
    configure_logging("DEBUG", stream=out)
    ours = [h for h in root.handlers if getattr(h, "_takedown_handler", False)]
    assert len(ours) == 1 and root.level == logging.DEBUG
    logging.getLogger("takedown.x").debug("once")
    assert out.getvalue().count("once") == 1


def test_an_unknown_level_is_refused(root: logging.Logger) -> None:
    with pytest.raises(ValueError, match="log level 'loud'"):
        configure_logging("loud")


def test_the_setting_reads_any_case_and_refuses_unknown_levels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TAKEDOWN_LOG_LEVEL", "debug")
    assert Settings().log_level == "DEBUG"
    monkeypatch.setenv("TAKEDOWN_LOG_LEVEL", "chatty")
    with pytest.raises(ValueError):
        Settings()


def test_the_worker_command_configures_logging_from_the_settings(
    root: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    import takedown.worker
    from takedown import cli

    seen: list[int] = []
    monkeypatch.setattr(
        takedown.worker, "run_worker", lambda s, **kw: seen.append(logging.getLogger().level)
    )
    monkeypatch.setattr(cli, "settings", lambda: Settings(log_level="ERROR"))
    result = CliRunner().invoke(cli.app, ["worker", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert seen == [logging.ERROR]
    assert any(getattr(h, "_takedown_handler", False) for h in root.handlers)
