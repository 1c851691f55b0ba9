"""Schemathesis fuzzes every documented operation: no input may cause a 500.

It runs against a real app on a migrated SQLite database, as an admin (the
widest view), with hypothesis-generated bodies, paths and query strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from takedown.accounts import service
from takedown.accounts.service import SYSTEM
from takedown.app import create_app
from takedown.config import Settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.migrate import upgrade

_AUTH: dict[str, str] = {}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = Path(tmp_path_factory.mktemp("fuzz"))
    s = Settings(data_dir=data, secret_key="fuzz")
    engine = make_engine(s.effective_database_url)
    upgrade(engine)
    with session_scope(make_sessionmaker(engine)) as session:
        agency = service.create_agency(
            session, SYSTEM, name="Fuzz IRU", country="NL", kind="national_iru"
        )
        user = service.create_user(
            session,
            SYSTEM,
            agency_id=agency.id,
            email="fuzz@example.invalid",
            role="admin",
            password="fuzz-password-123",
        )
        _AUTH["Authorization"] = (
            "Bearer " + service.create_token(session, SYSTEM, user_id=user.id, name="fuzz").token
        )
    yield create_app(s, engine=engine)
    engine.dispose()


@pytest.mark.xdist_group("fuzz")
def test_no_server_errors(fuzz_app: Any) -> None:
    """Every operation, fuzzed; schemathesis' pytest plugin is not used (it lags pytest 9)."""
    from hypothesis import given

    api = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures: list[str] = []
    n_ops = 0
    for result in api.get_all_operations():
        operation = result.ok()
        n_ops += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case: Any) -> None:
            response = case.call(headers=dict(_AUTH))
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> "
                    f"{response.status_code}: {response.text[:300]}"
                )

        run()
    assert n_ops > 5
    assert not failures, "\n".join(failures[:20])
