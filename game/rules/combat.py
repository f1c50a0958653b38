"""Combat: odds, column shifts and the full outcome distribution of a proposed attack.

:func:`assess` is a pure function of the state and the attack. It gives the raw odds, every
column shift with its reason, the final column, and for each result the attack could have its
probability and the men each side would lose, so the interface's preview, the AI's evaluation
and the resolution all read the same numbers. :mod:`game.rules.engine` rolls the die.

Strength: a unit fights with ``men / 1000 x type factor x quality``, times the supply ladder's
``combat`` factor when out of supply and the region's ``combat_factor``. The odds column is the
highest whose ratio the attack reaches (the lowest when below all), then shifted:

* minus the terrain's ``defence_shift`` of the target hex;
* minus the river class's ``defence_shift`` when every attacking hex is across a river;
* ``fortification_per_level`` x the place's fortification, ``city`` in a city, ``entrenched`` x
  the defenders' entrenchment;
* ``out_of_supply_attacker`` when any attacker is out of supply, ``out_of_supply_defender``
  when every defender is;
* the attacker's best air support over the target hex, minus the defender's;
* a region kind's ``defender_shift`` when the target hex lies in an active region of that kind
  whose effects name the defending side (starving defenders in a famine, say).

Every shift counts in columns: a positive one moves the attack to better odds for the attacker, a
negative one helps the defender.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..names import HexIndex, SideIndex
from .context import Context
from .movement import Board, ladder_step
from .state import GameState, Unit

if TYPE_CHECKING:
    from ..scenario import model


@dataclass(frozen=True)
class Outcome:
    result: str  # result id in the combat table
    probability: float
    description: str
    attacker_loss: int  # men
    defender_loss: int  # men (before retreat, hold or surrender losses)
    defender_retreat: int
    attacker_retreat: int
    rout: bool


@dataclass(frozen=True)
class Assessment:
    attack_strength: float
    defence_strength: float
    raw_odds: float
    base_column: int
    shifts: list[tuple[str, int]] = field(default_factory=list)
    column: int = 0
    column_label: str = ""
    outcomes: list[Outcome] = field(default_factory=list)  # one per distinct result, by table order
    attackers: list[str] = field(default_factory=list)
    defenders: list[str] = field(default_factory=list)
    #: the raw odds moved by the shifts: raw odds times the ratio of the column's odds to the base
    #: column's (raw 1.4 with one shift down from 1:1 to 1:2 reads 0.7; a table of one column,
    #: or shifts cut off at its edge, leave the raw odds as they are)
    effective_odds: float = 0.0

    @property
    def expected_attacker_loss(self) -> float:
        return sum(o.probability * o.attacker_loss for o in self.outcomes)

    @property
    def expected_defender_loss(self) -> float:
        return sum(o.probability * o.defender_loss for o in self.outcomes)

    @property
    def retreat_probability(self) -> float:
        return sum(o.probability for o in self.outcomes if o.defender_retreat > 0)

    def summary(self) -> str:
        shifts = ", ".join(f"{why} {n:+d}" for why, n in self.shifts) or "no shifts"
        return (f"{self.attack_strength:.1f} vs {self.defence_strength:.1f} = {self.raw_odds:.2f}:1 -> "
                f"column {self.column_label} ({shifts})")


def unit_strength(ctx: Context, state: GameState, unit: Unit, attacking: bool) -> float:
    utype = ctx.unit_types[unit.type]
    factor = utype.attack if attacking else utype.defence
    value = unit.strength / 1000.0 * factor * unit.quality
    step = ladder_step(ctx, unit)
    if step is not None:
        value *= step.combat
    for rid, active in state.regions_active.items():
        if active and ctx.region_mask[rid][unit.hex]:
            effects = ctx.regions[rid].effects.get(ctx.sides[unit.side])
            if effects is not None:
                value *= effects.combat_factor
    return value


def region_shifts(ctx: Context, state: GameState, hex_: HexIndex, side: SideIndex) -> list[tuple[str, int]]:
    """(kind name, shift) for each region kind with a ``defender_shift`` that has an active region
    over `hex_` whose effects name `side` (the defender), in the order the kinds are declared."""
    out = []
    for kind in ctx.scenario.region_kinds:
        if not kind.defender_shift:
            continue
        for rid, active in state.regions_active.items():
            region = ctx.regions[rid]
            if active and region.kind == kind.id and ctx.region_mask[rid][hex_] and ctx.sides[side] in region.effects:
                out.append((kind.name.lower(), kind.defender_shift))
                break
    return out


def assess(ctx: Context, state: GameState, board: Board, target: HexIndex, attackers: list[Unit]) -> Assessment:
    """Everything about an attack on `target` by `attackers` that can be known before the roll."""
    defenders = state.units_at(target)
    if not attackers or not defenders:
        raise ValueError("an attack needs attackers and defenders")
    combat = ctx.rules.combat
    shifts_cfg = combat.shifts
    att = sum(unit_strength(ctx, state, u, True) for u in attackers)
    dfn = sum(unit_strength(ctx, state, u, False) for u in defenders)
    raw = att / dfn if dfn > 0 else float("inf")
    values = ctx.odds_values
    base = int(np.searchsorted(values, raw + 1e-9, side="right") - 1)
    base = max(base, 0)
    shifts: list[tuple[str, int]] = []
    if ctx.defence_shift[target]:
        shifts.append(("terrain", -int(ctx.defence_shift[target])))
    from_hexes = sorted({u.hex for u in attackers})
    dirs = [ctx.hm.direction_between(target, h) for h in from_hexes]
    river = [int(ctx.river_shift[target, d]) for d in dirs]
    if river and all(r > 0 for r in river):
        shifts.append(("river", -min(river)))
    if ctx.fort[target] and shifts_cfg.fortification_per_level:
        shifts.append(("fortification", shifts_cfg.fortification_per_level * int(ctx.fort[target])))
    if ctx.city[target] and shifts_cfg.city:
        shifts.append(("city", shifts_cfg.city))
    dig = max(u.entrenched for u in defenders)
    if dig and shifts_cfg.entrenched:
        shifts.append(("entrenched", shifts_cfg.entrenched * dig))
    if any(not u.supplied for u in attackers) and shifts_cfg.out_of_supply_attacker:
        shifts.append(("attacker out of supply", shifts_cfg.out_of_supply_attacker))
    if all(not u.supplied for u in defenders) and shifts_cfg.out_of_supply_defender:
        shifts.append(("defender out of supply", shifts_cfg.out_of_supply_defender))
    a_side, d_side = attackers[0].side, defenders[0].side
    if board.air_cover[a_side, target]:
        shifts.append(("air support", int(board.air_cover[a_side, target])))
    if board.air_cover[d_side, target]:
        shifts.append(("defender air support", -int(board.air_cover[d_side, target])))
    shifts += region_shifts(ctx, state, target, d_side)
    column = int(np.clip(base + sum(n for _, n in shifts), 0, len(values) - 1))
    outcomes = outcome_distribution(ctx, combat, column, attackers, defenders)
    effective = raw * float(values[column]) / float(values[base]) if math.isfinite(raw) else raw
    return Assessment(att, dfn, raw, base, shifts, column, combat.odds[column], outcomes,
                      [u.id for u in attackers], [u.id for u in defenders], effective)


@lru_cache(maxsize=4096)
def _exact(fraction: float) -> tuple[int, int]:
    """The decimal number the scenario wrote (0.35, not 0.34999...), as an exact fraction p / q."""
    return Fraction(repr(fraction)).as_integer_ratio()


def loss_of(strength: int, fraction: float) -> int:
    """Men lost: a fraction of a unit's strength, rounded half up, in exact (integer) arithmetic:
    floor(strength * p / q + 1/2) = floor((2 strength p + q) / 2q)."""
    p, q = _exact(float(fraction))
    return min(strength, (2 * strength * p + q) // (2 * q))


def outcome_distribution(ctx: Context, combat: model.CombatTable, column: int, attackers: list[Unit],
                         defenders: list[Unit]) -> list[Outcome]:
    counts: dict[str, int] = {}
    for row in combat.table:
        counts[row[column]] = counts.get(row[column], 0) + 1
    out = []
    for rid, n in counts.items():
        r = combat.results[rid]
        out.append(Outcome(
            result=rid, probability=n / combat.die_sides, description=r.description or rid,
            attacker_loss=sum(loss_of(u.strength, r.attacker_loss) for u in attackers),
            defender_loss=sum(loss_of(u.strength, r.defender_loss) for u in defenders),
            defender_retreat=r.defender_retreat, attacker_retreat=r.attacker_retreat, rout=r.rout))
    return out
