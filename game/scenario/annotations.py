"""Walking the format's type annotations: what type a value at a path of a scenario document has.

The loader (error locations) and the overrides (dotted paths) both follow a path through the
format's pydantic models; this module is what they share, below both.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from . import model


def unwrap_container(annotation: Any) -> Any:
    """Strip Annotated and Optional wrappers."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return unwrap_container(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return unwrap_container(args[0])
    return annotation


def child(annotation: Any, step: Any) -> Any:
    """The annotation of the value found at `step` inside a value of type `annotation`."""
    annotation = unwrap_container(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(step, int):
        return typing.get_args(annotation)[0] if origin is list else None
    if origin is dict:
        return typing.get_args(annotation)[1]
    if isinstance(annotation, type) and issubclass(annotation, model.Strict):
        for fname, finfo in annotation.model_fields.items():
            if step in (fname, finfo.alias):
                return finfo.annotation
    return None


def field_names(cls: type[model.Strict]) -> list[str]:
    """The keys a model accepts, as a file writes them (aliases where there are)."""
    return [info.alias or name for name, info in cls.model_fields.items()]
