"""Validating a scenario file end to end: load, merge, structure, semantics, map build.

``validate_file`` never raises for bad input: every problem becomes a diagnostic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .build import ScenarioMap
from .loader import LoadResult, load_scenario
from .semantic import check_semantics


@dataclass
class Validation:
    result: LoadResult
    map: ScenarioMap | None

    @property
    def ok(self) -> bool:
        return self.result.ok

    def summary(self) -> str:
        """One line describing a valid scenario."""
        s = self.result.scenario
        shown = self.result.shown
        if s is None or self.map is None:
            return f"{shown}: invalid"
        hm = self.map.hexmap
        units = len(s.units) + sum(len(r.units) for r in s.reinforcements)
        warnings = len(self.result.diagnostics.warnings)
        based = f", extends {len(self.result.files) - 1} file(s)" if len(self.result.files) > 1 else ""
        return (f"{shown}: ok: '{s.meta.title}' ({s.meta.id}): {hm.cols}x{hm.rows} hexes of "
                f"{s.map.projection.hex_km:g} km, {len(s.meta.sides)} sides, {units} units, "
                f"{s.meta.turns} turns of {s.meta.days_per_turn} days from {s.meta.start_date.isoformat()}, "
                f"{len(s.map.places)} places, {len(s.map.railways)} railways, {len(s.events)} events"
                f"{based}; {warnings} warning(s)")


def validate_file(path: str | Path, *, root: str | Path | None = None,
                  overrides: Mapping[str, object] | None = None) -> Validation:
    result = load_scenario(path, root=root, overrides=overrides)
    built = None
    if result.raw is not None and result.sections:
        built = check_semantics(result)
    if result.diagnostics.errors:
        result.scenario = None
    return Validation(result, built)
