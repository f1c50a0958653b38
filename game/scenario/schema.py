"""The JSON Schema of the scenario format, generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from . import model


def json_schema() -> dict[str, Any]:
    schema = model.Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Ichi-Go 1944 scenario"
    schema["description"] = ("A scenario of the Ichi-Go 1944 hex wargame engine; see scenarios/FORMAT.md. "
                             "A file with 'extends' is a variant: it may give only what it changes.")
    props = schema.setdefault("properties", {})
    props["extends"] = {"type": "string", "description": "base scenario file, relative to this one"}
    required = schema.pop("required", [])
    schema["anyOf"] = [{"required": ["extends"]}, {"required": required}]
    return schema
