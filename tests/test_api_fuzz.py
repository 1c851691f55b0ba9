"""Schemathesis fuzzes every documented operation with its full checks (#19.11).

It runs against a real app on a migrated SQLite database, as an admin (the widest view),
with hypothesis-generated bodies, paths and query strings, valid (positive) and invalid
(negative) alike. Every response must be what the OpenAPI document says: no 5xx, a
documented status code, content type, headers and body schema; invalid input refused;
a 405 naming the allowed methods; authentication not ignored.

One check is left out: ``positive_data_acceptance`` (a schema-valid request must not get
422). The services check more than a JSON schema can say (an e-mail address, an ISO
country code, a platform URL, an id that must exist), and answer those with a documented
422 problem naming the field.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

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
def test_the_api_does_what_its_schema_says(fuzz_app: Any) -> None:
    """Every operation, fuzzed; schemathesis' pytest plugin is not used (it lags pytest 9)."""
    from hypothesis import given

    api = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures: list[str] = []
    n_ops = 0
    for result in api.get_all_operations():
        operation = result.ok()
        n_ops += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=15,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                try:
                    case.call_and_validate(
                        headers=dict(_AUTH), excluded_checks=[positive_data_acceptance]
                    )
                except Exception as exc:  # a FailureGroup: say which and go on
                    lines = [line for line in str(exc).splitlines() if line.strip()]
                    failures.append(f"{case.method} {case.formatted_path}: {' | '.join(lines[:6])}")

            # Unsatisfiable: nothing to make invalid (an operation without parameters).
            with contextlib.suppress(Unsatisfiable):
                run()
    assert n_ops > 5
    unique = sorted(set(failures))
    assert not unique, "\n".join(unique[:25])
