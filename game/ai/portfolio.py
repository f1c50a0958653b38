"""The search portfolio's one piece of arithmetic, shared by the profile's validation
(:mod:`game.ai.profile_model`) and the search player (:mod:`game.ai.search`); it imports
nothing, so neither pulls the other in."""

from __future__ import annotations

from collections.abc import Mapping


def scaled_settings(values: Mapping[str, float | int], scales: Mapping[str, float]) -> dict[str, float | int]:
    """What one plan of a search portfolio changes: each setting named in `scales` times its
    factor, a whole-number setting rounded to a whole number (`values` holds the settings)."""
    out: dict[str, float | int] = {}
    for key, factor in scales.items():
        value = values[key] * factor
        out[key] = int(round(value)) if isinstance(values[key], int) else float(value)
    return out
