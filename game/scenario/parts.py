"""The methods of scenario parts that the rules call, written once for the pydantic models
(:mod:`game.scenario.model`) and the records the rules run on (:mod:`game.scenario.records`):
both inherit these mixins. Pure Python: importing this imports neither."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..names import ENGINE_LOSS_CAUSES


class MetaMethods:
    if TYPE_CHECKING:  # the model's fields (annotated here, pydantic would take them as fields)
        start_date: dt.date
        days_per_turn: int
        turns: int

    def end_date(self) -> dt.date:
        """The last day of the last turn."""
        return self.start_date + dt.timedelta(days=self.days_per_turn * self.turns - 1)


class CombatTableMethods:
    if TYPE_CHECKING:
        odds: list[str]

    def odds_values(self) -> list[float]:
        out = []
        for text in self.odds:
            a, b = text.split(":")
            out.append(float(a) / float(b))
        return out


class ScenarioMethods:
    if TYPE_CHECKING:
        loss_causes: list[Any]
        region_kinds: list[Any]
        part: Callable[[str], Any]  # the model class, or the record class, called `name`

    def ledger_causes(self) -> list[str]:
        """Every loss cause of the ledger, in order: the rules' own that the scenario does not list,
        then the scenario's list."""
        listed = [c.id for c in self.loss_causes]
        return [c for c in ENGINE_LOSS_CAUSES if c not in listed] + listed

    def region_kind(self, kind: str) -> Any:
        """The declaration of a region kind (a bare one for a kind the scenario does not declare)."""
        found = next((k for k in self.region_kinds if k.id == kind), None)
        return found if found is not None else self.part("RegionKind")(id=kind, name=kind)

    def region_loss_cause(self, region: Any) -> str:
        """The ledger column a region's attrition is booked in."""
        return region.loss_cause or self.region_kind(region.kind).loss_cause or "attrition"


MIXINS: dict[str, tuple[type, ...]] = {
    "Meta": (MetaMethods,),
    "CombatTable": (CombatTableMethods,),
    "Scenario": (ScenarioMethods,),
}
