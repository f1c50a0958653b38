"""A validated scenario as plain, frozen Python objects: what the rules read while a game runs.

The pydantic models of :mod:`game.scenario.model` are the format's one definition and do the
validating, but importing them costs a sixth of a second (pydantic itself, and building sixty
model classes), more than half of a start-up that reads its scenario from the compiled cache.
So a :class:`~game.rules.context.Context` keeps its scenario as *records*: one per model object,
with the same class name, the same fields (every field, set or defaulted, as the model gave it),
the same ``model_fields_set`` and the same few methods, and nothing of pydantic. The records are
what the compiled cache keeps, so a cache hit never imports pydantic; a scenario validated in
this process is frozen into records the same way, so every game runs on the same kind of object.

A record class exists for every model class name, made on first use (:func:`record_class`: the
compiled cache finds record classes by name, and so do the pickles that carry them to worker
processes, through a module attribute lookup). The methods a model defines for the rules live in
:mod:`game.scenario.parts`, mixins both the model classes and the records inherit: one
implementation for both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .parts import MIXINS

#: {class name: (defaults {field: value}, required fields, aliases {field: alias})} of every model
#: class, for :func:`make` and ``model_dump``; filled from the model module on first need, or by
#: :func:`install` from a compiled-cache entry (which does not import pydantic)
Table = dict[str, tuple[dict[str, Any], tuple[str, ...], dict[str, str]]]
_TABLE: Table = {}
_CLASSES: dict[str, type] = {}


# --- records ---------------------------------------------------------------------------------

class Record:
    """One frozen part of a scenario: its fields as attributes, compared and hashed by value."""

    __slots__ = ("__dict__", "model_fields_set")
    model_fields_set: frozenset[str]

    def __init__(self, **values: Any) -> None:
        name = type(self).__name__
        defaults, required, _ = _part(name)
        unknown = [k for k in values if k not in defaults and k not in required]
        if unknown:
            raise TypeError(f"{name} has no field {', '.join(unknown)}")
        need = [k for k in required if k not in values]
        if need:
            raise TypeError(f"{name} needs {', '.join(need)}")
        self.__dict__.update({**{k: _copy(v) for k, v in defaults.items()}, **values})
        object.__setattr__(self, "model_fields_set", frozenset(values))

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return type(self).__name__ == type(other).__name__ and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self.__dict__.values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({inner})"

    def __reduce__(self) -> tuple:
        return (_rebuild, (type(self).__name__, self.__dict__, tuple(sorted(self.model_fields_set))))

    @classmethod
    def part(cls, name: str) -> type:
        """The record class of the scenario part called `name`."""
        return record_class(name)

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Any:
        """A copy with the fields in `update` changed (not validated, as the model's own)."""
        changes = update or {}
        return _rebuild(type(self).__name__, {**self.__dict__, **changes},
                        tuple(self.model_fields_set | set(changes)))

    def model_dump(self, *, mode: str = "python", by_alias: bool = False) -> dict[str, Any]:
        """The fields as plain data, as the model's ``model_dump`` gives them (``mode="json"``:
        dates as ISO text, tuples as lists)."""
        aliases = _part(type(self).__name__)[2] if by_alias else {}
        return {aliases.get(k, k): _dump(v, mode, by_alias) for k, v in self.__dict__.items()}


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _dump(value: Any, mode: str, by_alias: bool) -> Any:
    if isinstance(value, Record):
        return value.model_dump(mode=mode, by_alias=by_alias)
    if isinstance(value, (list, tuple)):
        out = [_dump(v, mode, by_alias) for v in value]
        return out if mode == "json" or isinstance(value, list) else tuple(out)
    if isinstance(value, dict):  # JSON keys are text (as pydantic dumps e.g. months' numbers)
        return {(str(k) if mode == "json" and not isinstance(k, str) else k): _dump(v, mode, by_alias)
                for k, v in value.items()}
    if mode == "json" and isinstance(value, dt.date):
        return value.isoformat()
    return value


def _rebuild(name: str, values: dict[str, Any], fields_set: tuple[str, ...]) -> Record:
    cls = record_class(name)
    obj: Record = object.__new__(cls)
    obj.__dict__.update(values)
    object.__setattr__(obj, "model_fields_set", frozenset(fields_set))
    return obj


def record_class(name: str) -> type:
    """The record class of the model class called `name` (made on first use)."""
    cls = _CLASSES.get(name)
    if cls is None:
        if not name.isidentifier() or name.startswith("_"):
            raise AttributeError(name)
        cls = type(name, (*MIXINS.get(name, ()), Record), {"__module__": __name__, "__qualname__": name,
                                                              "__slots__": ()})
        _CLASSES[name] = cls
    return cls


def __getattr__(name: str) -> type:  # pickle finds record classes by name in this module
    if name[:1].isupper():
        return record_class(name)
    raise AttributeError(name)


def is_a(obj: object, name: str) -> bool:
    """Whether `obj` is a record or model object of the class called `name`."""
    return type(obj).__name__ == name


def make(part: str, /, **values: Any) -> Any:
    """A record of the class called `part` with these fields and the model's defaults for the
    rest (not validated: for the defaults the rules need, such as a side's empty AI plan)."""
    return record_class(part)(**values)


# --- freezing models, and the table of defaults ----------------------------------------------

def freeze(obj: Any, _memo: dict[int, Any] | None = None) -> Any:
    """`obj` with every model object in it replaced by its record (a record stays as it is)."""
    memo = {} if _memo is None else _memo
    key = id(obj)
    if key in memo:
        return memo[key]
    fields = getattr(type(obj), "model_fields", None)
    if isinstance(fields, dict) and hasattr(obj, "model_fields_set"):
        out: Any = _rebuild(type(obj).__name__, {k: freeze(getattr(obj, k), memo) for k in fields},
                            tuple(obj.model_fields_set))
    elif isinstance(obj, list):
        out = [freeze(v, memo) for v in obj]
    elif isinstance(obj, tuple):
        out = tuple(freeze(v, memo) for v in obj)
    elif isinstance(obj, dict):
        out = {k: freeze(v, memo) for k, v in obj.items()}
    else:
        return obj
    memo[key] = out
    return out


def table() -> Table:
    """The defaults, required fields and aliases of every model class (read from the model
    module, which imports pydantic; once per process)."""
    if not _TABLE:
        from pydantic import BaseModel
        from pydantic_core import PydanticUndefined

        from . import model

        for name, cls in vars(model).items():
            if not (isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__module__ == model.__name__):
                continue
            defaults: dict[str, Any] = {}
            required = []
            for field, info in cls.model_fields.items():
                if info.default_factory is not None:
                    defaults[field] = freeze(info.default_factory())  # type: ignore[call-arg]
                elif info.default is PydanticUndefined:
                    required.append(field)
                else:
                    defaults[field] = freeze(info.default)
            aliases = {f: info.alias for f, info in cls.model_fields.items() if info.alias}
            _TABLE[name] = (defaults, tuple(required), aliases)
    return _TABLE


def install(parts: Table) -> None:
    """Take the table :func:`table` made in another process (from a compiled-cache entry)."""
    if not _TABLE:
        _TABLE.update(parts)


def _part(name: str) -> tuple[dict[str, Any], tuple[str, ...], dict[str, str]]:
    found = _TABLE.get(name) or table().get(name)
    if found is None:
        raise TypeError(f"no part of a scenario is called {name}")
    return found


__all__ = ["Record", "freeze", "install", "is_a", "make", "record_class", "table"]
