"""Setting up: the state at the start of a scenario's first turn."""

from __future__ import annotations

import numpy as np

from .context import Context
from .events import make_unit, spec_hex
from .state import Dice, GameState, Unit, new_losses
from .turn import start_turn


def new_game(ctx: Context, seed: int, dice: Dice = "keyed") -> GameState:
    """The state at the start of turn 1, the first side to move (`dice`: see :data:`~game.rules.state.Dice`)."""
    s = ctx.scenario
    units: dict[str, Unit] = {}
    for spec in s.units:
        units[spec.id] = make_unit(ctx, spec, spec_hex(ctx, spec))
    control = ctx.map.control.astype(np.int8).copy()
    for u in units.values():  # hex control follows the units from the start
        control[u.hex] = u.side
    owner = {p.id: int(control[ctx.place_hex[p.id]]) for p in s.map.places}
    state = GameState(
        seed=seed, rng=np.random.default_rng(seed) if dice == "stream" else None, dice=dice,
        turn=1, date=ctx.start_date, active=0, phase="operations",
        units=units, control=control, rail=ctx.rail_initial.copy(),
        regions_active={r.id: r.active for r in s.regions},
        air_active={b.id: b.active for b in s.air_bases}, air_destroyed={},
        sea_lanes={side: bool(s.supply.sea_lanes_open.get(side, True)) for side in ctx.sides},
        reinforcements_stopped=[], supply_range_factor={side: 1.0 for side in ctx.sides},
        replacement_factor={side: 1.0 for side in ctx.sides},
        tracks={t.id: float(t.initial) for t in s.tracks}, fired={}, arrived=[], withdrawn=[],
        losses=new_losses(ctx), captures={}, owner=owner, replaced={side: 0 for side in ctx.sides},
    )
    start_turn(ctx, state)
    return state
