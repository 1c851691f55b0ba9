"""OASIS's stix2-validator on everything the sharing capability emits (strict: warnings fail)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from stix2validator import ValidationOptions, validate_parsed_json

OPTIONS = ValidationOptions(version="2.1", strict=True)


def as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, str | bytes):
        return json.loads(obj)  # type: ignore[no-any-return]
    return json.loads(obj.serialize())  # type: ignore[no-any-return]


def assert_valid(objects: Iterable[Any]) -> list[dict[str, Any]]:
    """Validate each object (or a bundle/envelope's objects); return them as dicts."""
    out: list[dict[str, Any]] = []
    for raw in objects:
        obj = as_dict(raw)
        if obj.get("type") == "bundle" or ("objects" in obj and "type" not in obj):
            out += assert_valid(obj.get("objects", []))
            continue
        result = validate_parsed_json(obj, OPTIONS)
        problems = [str(e) for e in result.errors] + [str(w) for w in result.warnings]
        assert result.is_valid and not problems, f"{obj.get('id')}: {problems}"
        out.append(obj)
    return out
