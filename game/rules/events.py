"""Events, reinforcements and withdrawals: what the scenario's calendar and triggers bring.

An event fires when its date falls in the current turn and its trigger (a place captured, a track
at a level, another event fired) holds; its effects change tracks, regions, sea lanes, air bases,
supply factors, reinforcements, withdrawals, or log a message. Reinforcements land at their place,
else a fallback, else the nearest own supply source; a side that holds none waits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from ..names import HexIndex
from ..scenario.records import is_a
from .context import Context
from .ledger import log, track_add, turn_end
from .movement import enemy_mask, make_board
from .state import ACTIVE, WITHDRAWN, GameState, Unit
from .tracing import supply_sources

if TYPE_CHECKING:
    from ..scenario import model


def spec_hex(ctx: Context, spec: model.Unit) -> int:
    """The hex a unit of the scenario starts in (its hex, its place, or its latitude/longitude)."""
    if spec.hex is not None:
        return ctx.hm.index(*spec.hex)
    if isinstance(spec.at, str):
        return ctx.place_hex[spec.at]
    assert spec.at is not None  # validation gives every unit a hex, a place or a position
    return int(ctx.hm.latlon_to_index(*spec.at))


def make_unit(ctx: Context, spec: model.Unit, hex_: HexIndex) -> Unit:
    """A unit of the scenario, at full strength, in hex `hex_`."""
    return Unit(id=spec.id, name=spec.name, side=ctx.side_index[spec.side], type=spec.type,
                strength=spec.strength, max_strength=spec.strength, quality=spec.quality, hex=hex_,
                puppet=spec.puppet, formation=spec.formation or "")


def check_events(ctx: Context, state: GameState) -> None:
    """Fire every event whose time has come, repeating until none more fires (so an event
    that triggers another fires it in the same pass, whatever their order in the file)."""
    end = turn_end(ctx, state)
    fired_any = True
    while fired_any and state.phase != "over":
        fired_any = False
        for event in ctx.scenario.events:
            if state.phase == "over":
                return
            fired = state.fired.get(event.id)
            if fired is not None and (event.once or fired == state.date.isoformat()):
                continue
            if event.date is not None and event.date > end:
                continue
            if event.trigger is not None and not _trigger_holds(ctx, state, event.trigger):
                continue
            state.fired[event.id] = state.date.isoformat()
            fired_any = True
            log(ctx, state, "event", f"{event.name}" + (f": {event.text}" if event.text else ""), event.source or "")
            for eff in event.effects:
                _apply_effect(ctx, state, eff)


def _trigger_holds(ctx: Context, state: GameState, t) -> bool:
    if is_a(t, "TriggerCaptured"):
        cap = state.captures.get(t.captured)
        return cap is not None and state.owner.get(t.captured) == ctx.side_index[t.by]
    if is_a(t, "TriggerTrack"):
        v = state.tracks.get(t.track, 0.0)
        return (t.at_least is None or v >= t.at_least) and (t.at_most is None or v <= t.at_most)
    if is_a(t, "TriggerEvent"):
        return t.after_event in state.fired
    return False


def _apply_effect(ctx: Context, state: GameState, eff) -> None:
    if eff.type == "track":
        track_add(ctx, state, eff.track, eff.add)
    elif eff.type == "region":
        state.regions_active[eff.region] = eff.active
    elif eff.type == "sea_lanes":
        state.sea_lanes[eff.side] = eff.open
    elif eff.type == "air_base":
        if eff.air_base not in state.air_destroyed:
            state.air_active[eff.air_base] = eff.active
    elif eff.type == "reinforcements_stop":
        if eff.side not in state.reinforcements_stopped:
            state.reinforcements_stopped.append(eff.side)
    elif eff.type == "supply":
        if "range_factor" in eff.model_fields_set:
            state.supply_range_factor[eff.side] = eff.range_factor
        if "replacement_factor" in eff.model_fields_set:
            state.replacement_factor[eff.side] = eff.replacement_factor
    elif eff.type == "reinforce":
        if not _arrive(ctx, state, eff.units, eff.at, [], "event"):
            state.waiting.append([u.id for u in eff.units])
            log(ctx, state, "reinforcement", f"{', '.join(u.name for u in eff.units)} cannot arrive yet: "
                                              "the side holds neither their place nor a supply source")
    elif eff.type == "withdraw":
        _withdraw_units(ctx, state, eff.units)
    elif eff.type == "message":
        log(ctx, state, "message", eff.text)


def reinforcements(ctx: Context, state: GameState) -> None:
    for ids in list(state.waiting):  # event reinforcements that could not land before
        specs = [ctx.unit_specs[i] for i in ids]
        at = next(e.at for ev in ctx.scenario.events for e in ev.effects
                  if e.type == "reinforce" and e.units[0].id == ids[0])
        if _arrive(ctx, state, specs, at, [], "event"):
            state.waiting.remove(ids)
    end = turn_end(ctx, state)
    for r in ctx.scenario.reinforcements:
        if r.id in state.arrived or r.date > end:
            continue
        side = r.units[0].side
        if side in state.reinforcements_stopped:
            state.arrived.append(r.id)
            log(ctx, state, "reinforcement", f"{', '.join(u.name for u in r.units)} will not come: "
                                              "reinforcements have stopped")
            continue
        if _arrive(ctx, state, r.units, r.at, r.fallback, "reinforcement"):
            state.arrived.append(r.id)


def _arrive(ctx: Context, state: GameState, specs: list[model.Unit], at: model.Point, fallback: list[str],
            kind: Literal["event", "reinforcement"]) -> bool:
    """Place arriving units at `at`, else the first fallback place, else the nearest own supply
    source; False (try again next turn) when the side holds none of them."""
    side = ctx.side_index[specs[0].side]
    board = make_board(ctx, state)
    enemy = enemy_mask(board, side, "occupied")
    candidates = [ctx.place_hex[at] if isinstance(at, str) else int(ctx.hm.latlon_to_index(*at))]
    candidates += [ctx.place_hex[p] for p in fallback]
    own_sources = [h for h in supply_sources(ctx, state, side)]
    if own_sources:
        d = ctx.hm.distances_from(candidates[0])
        candidates += sorted(own_sources, key=lambda h: (d[h], h))
    target = next((h for h in candidates if state.control[h] == side and not enemy[h]), None)
    if target is None:
        return False
    placed = []
    own = board.occupied[side].copy()  # the side's units per hex, counting those placed here
    # where the side may place a unit: hexes it holds with no enemy in them, nearest first
    held = np.where((state.control == side) & ~enemy, ctx.hm.distances_from(target), _FAR)
    for spec in specs:
        if spec.id in state.units:
            continue
        h = _room_near(ctx, spec, held, own)
        if h < 0:
            continue
        unit = make_unit(ctx, spec, h)
        state.units[spec.id] = unit
        own[h] += 1
        placed.append(unit.name)
    where = ctx.hex_name(target)
    redirected = "" if target == candidates[0] else f" (redirected from {ctx.hex_name(candidates[0])})"
    if placed:
        log(ctx, state, kind, f"{', '.join(placed)} arrive at {where}{redirected}")
    return True


_FAR = np.iinfo(np.int64).max


def _room_near(ctx: Context, spec: model.Unit, held: np.ndarray, own: np.ndarray) -> int:
    """The nearest hex (by `held`: the distance to the arrival hex of each hex the side may place a
    unit in, else _FAR) with stacking room (`own`: the side's units per hex) that the unit can
    enter; -1 when there is none."""
    c = ctx.class_index[ctx.unit_types[spec.type].movement_class]
    d = np.where(np.isfinite(ctx.enter_cost[c]) & (own < ctx.rules.stacking.max_units), held, _FAR)
    i = int(np.argmin(d))
    return i if d[i] < _FAR else -1


def withdrawals(ctx: Context, state: GameState) -> None:
    end = turn_end(ctx, state)
    for w in ctx.scenario.withdrawals:
        if w.id in state.withdrawn or w.date > end:
            continue
        state.withdrawn.append(w.id)
        _withdraw_units(ctx, state, w.units)


def _withdraw_units(ctx: Context, state: GameState, ids: list[str]) -> None:
    gone = []
    for uid in ids:
        u = state.units.get(uid)
        if u is not None and u.status == ACTIVE:
            u.status, u.hex = WITHDRAWN, -1
            gone.append(u.name)
    if gone:
        log(ctx, state, "withdrawal", f"{', '.join(gone)} leave the theatre")


