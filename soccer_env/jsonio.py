"""JSON round trips of the frozen config dataclasses (`EnvConfig`, `agents.TrainConfig`, ...).

JSON has no tuples, so `json.loads(json.dumps(dataclasses.asdict(c)))` turns every tuple field
into a list, and a frozen, hashable config built from that is invalid (or unhashable). One
function reads any config dataclass back by its field annotations, so that
`from_json_dict(C, json.loads(json.dumps(to_json_dict(c)))) == c` for every field of every
config, and every reader (resume, `eval.py`, `agents.load_policy`) uses it.

    data = to_json_dict(config)                  # JSON-ready: tuples become lists
    config = from_json_dict(TrainConfig, data, source="runs/a/config.json")

The configs inherit `JsonConfig`, which gives them `replace`, `to_dict` and `from_dict` on top
of these two functions.

Fields missing from `data` take their defaults (a run directory written before a field existed
still loads); unknown fields raise a ValueError naming the source and the fields.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any


def to_json_dict(config) -> dict:
    """The dataclass's fields as a JSON-ready dict (nested tuples become lists)."""

    def plain(x):
        if isinstance(x, (tuple, list)):
            return [plain(v) for v in x]
        return x

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config)}


def _strip_annotated(hint):
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    return hint


def _convert(value, hint):
    """`value` read from JSON, shaped as the annotation `hint` says (lists -> tuples)."""
    hint = _strip_annotated(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        for option in options:
            if typing.get_origin(_strip_annotated(option)) is tuple and isinstance(value, list):
                return _convert(value, option)
        return value
    if origin is tuple and isinstance(value, (list, tuple)):
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0]) for v in value)
        if args and len(args) == len(value):
            return tuple(_convert(v, a) for v, a in zip(value, args))
        return tuple(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # JSON writes 1.0 as 1.0, but hand-written files may say 1
    return value


def from_json_dict(cls, data: Any, source: str | None = None):
    """The `cls` instance stored as `data` (a dict from `to_json_dict` through JSON).

    `source` (e.g. the file's path) is named in errors. Missing fields take their defaults;
    unknown fields and invalid values raise ValueError (the config's own validation names the
    field and the allowed values).
    """
    where = f"{source}: " if source else ""
    if not isinstance(data, dict):
        raise ValueError(f"{where}expected a JSON object of {cls.__name__} fields, got "
                         f"{type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{where}unknown {cls.__name__} fields {unknown}; known fields: "
                         f"{sorted(fields)}")
    hints = typing.get_type_hints(cls, include_extras=True)
    values = {name: _convert(value, hints[name]) for name, value in data.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}{exc}") from exc


class JsonConfig:
    """Mixin of the frozen config dataclasses: `replace` (validated again), `to_dict` (JSON-ready)
    and `from_dict` (its inverse, through JSON)."""

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The fields as a JSON-ready dict (tuples as lists); `from_dict` reads it back."""
        return to_json_dict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str | None = None):
        """Inverse of `to_dict`, through JSON: `from_dict(c.to_dict()) == c`. Missing fields
        take their defaults; unknown fields raise ValueError naming `source` and them."""
        return from_json_dict(cls, data, source)
