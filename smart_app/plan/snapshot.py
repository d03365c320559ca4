"""Plans to and from plain JSON, for immutable version snapshots in the store.

Layer: pure core (smart_app.plan). Imports: stdlib and smart_app.plan only.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from enum import Enum
from typing import Any

from .model import Plan

SCHEMA = 1


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {"schema": SCHEMA, "plan": _dump(plan)}


def plan_from_json(data: dict[str, Any]) -> Plan:
    """A Plan from a snapshot; unknown keys are ignored so older code can read newer snapshots."""
    return _load(Plan, data["plan"])


def _dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return value


def _load(kind: Any, value: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        return None if value is None else _load(options[0], value)
    if origin is tuple:
        item = typing.get_args(kind)[0]
        return tuple(_load(item, v) for v in value)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        names = {f.name for f in dataclasses.fields(kind)}
        return kind(**{k: _load(hints[k], v) for k, v in value.items() if k in names})
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return value
