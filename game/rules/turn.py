"""The turn sequence: a turn's start, each side's phase, and the turn's end.

A turn (``meta.days_per_turn`` days, real dates):

1. **events, reinforcements, withdrawals** whose date falls in the turn (or whose trigger holds);
2. **supply** traced for every side (:mod:`game.rules.supply`); units count turns out of supply;
3. each side's **operations** phase in ``meta.move_order``: moves, strategic rail moves,
   attacks, entrenching, until the side ends its phase;
4. **attrition and recovery**: sickness (``rules.sickness``), region effects (attrition, desertion
   and disarmament where the scenario's regions say so), the supply ladder's losses,
   replacements, rail repair;
5. **victory check**: the corridor traced and dated; the campaign ends after the last turn with a
   verdict (sudden death ends it at once).
"""

from __future__ import annotations

import numpy as np

from .combat import loss_of
from .context import Context
from .events import check_events, reinforcements, withdrawals
from .ledger import lose, track_add
from .legality import active_side
from .movement import ladder_step, make_board, movement_allowance
from .resolution import disarm_check
from .state import ACTIVE, GameState
from .tracing import trace
from .victory import corridor_check, finish


def start_turn(ctx: Context, state: GameState) -> None:
    state.date = ctx.turn_date(state.turn)
    state.active = 0
    check_events(ctx, state)
    reinforcements(ctx, state)
    withdrawals(ctx, state)
    if state.phase == "over":
        return
    _supply_phase(ctx, state)
    start_phase(ctx, state)



def start_phase(ctx: Context, state: GameState) -> None:
    state.draws.clear()  # keyed dice count their draws per phase
    side = active_side(ctx, state)
    for u in state.side_units(side):
        u.mp = movement_allowance(ctx, u)
        u.moved = False
        u.attacked = False


def end_phase(ctx: Context, state: GameState) -> None:
    side = active_side(ctx, state)
    for u in state.side_units(side):
        u.disrupted = False
    check_events(ctx, state)
    state.active += 1
    if state.active >= len(ctx.move_order):
        end_turn(ctx, state)
    else:
        start_phase(ctx, state)


def end_turn(ctx: Context, state: GameState) -> None:
    _attrition(ctx, state)
    _repair_rail(ctx, state)
    for tid, track in ctx.tracks.items():
        for drv in track.drivers:
            if drv.on == "turn":
                track_add(ctx, state, tid, drv.add)
    corridor_check(ctx, state)
    if state.phase == "over":
        return
    if state.turn >= ctx.turns:
        finish(ctx, state)
        return
    state.turn += 1
    start_turn(ctx, state)



def _supply_phase(ctx: Context, state: GameState) -> None:
    board = make_board(ctx, state)
    for side in range(len(ctx.sides)):
        supplied = trace(ctx, state, side, board).supplied
        for u in state.side_units(side):
            u.supplied = bool(supplied[u.hex])
            u.out_of_supply = 0 if u.supplied else u.out_of_supply + 1


def sickness_rates(ctx: Context, state: GameState) -> list[tuple[int, frozenset[str], str, np.ndarray, np.ndarray]]:
    """``rules.sickness`` this turn: (side, unit types struck (empty: all), ledger column, share
    of a unit's men falling sick over the turn in each hex when supplied, the same out of
    supply), one per entry."""
    days = ctx.days_per_turn
    found = []
    for k in ctx.sickness:
        per_day = k.rate_per_day * k.months.get(state.date.month, 1.0) * k.terrain
        for rid, active in state.regions_active.items():
            factor = k.region_kinds.get(ctx.regions[rid].kind)
            if active and factor is not None:
                per_day = np.where(ctx.region_mask[rid], per_day * factor, per_day)

        def over_turn(daily: np.ndarray) -> np.ndarray:
            return 1.0 - (1.0 - np.minimum(daily, 1.0)) ** days

        found.append((k.side, k.unit_types, k.cause, over_turn(per_day), over_turn(per_day * k.out_of_supply)))
    return found


def _attrition(ctx: Context, state: GameState) -> None:
    rate = ctx.rules.replacement_rate
    sickness = sickness_rates(ctx, state)
    for u in list(state.units.values()):
        if not u.on_map:
            continue
        for side_index, types, cause, supplied, unsupplied in sickness:
            if side_index == u.side and u.status == ACTIVE and (not types or u.type in types):
                share = float((supplied if u.supplied else unsupplied)[u.hex])
                if share > 0:
                    lose(ctx, state, u, loss_of(u.strength, share), cause)
        if u.status != ACTIVE:
            continue
        side = ctx.sides[u.side]
        forage = True
        replace = rate * state.replacement_factor[side]
        for rid, active in state.regions_active.items():
            if not active or not ctx.region_mask[rid][u.hex]:
                continue
            region = ctx.regions[rid]
            eff = region.effects.get(side)
            if eff is None:
                continue
            forage = forage and eff.forage
            replace *= eff.replacement_factor
            if eff.attrition_per_turn > 0:
                lose(ctx, state, u, loss_of(u.strength, eff.attrition_per_turn), ctx.region_cause[rid])
                if u.status != ACTIVE:
                    break
        if u.status != ACTIVE:
            continue
        step = ladder_step(ctx, u)
        if step is not None and step.loss_per_turn > 0:
            frac = step.loss_per_turn * (ctx.rules.supply.forage_factor if forage else 1.0)
            lose(ctx, state, u, loss_of(u.strength, frac), "attrition")
        if not u.supplied:
            disarm_check(ctx, state, u, "disarm_out_of_supply")
        if u.status == ACTIVE and u.supplied and (step is None or step.replacements) and replace > 0:
            gain = min(u.max_strength - u.strength, loss_of(u.max_strength - u.strength, replace))
            u.strength += gain
            state.replaced[side] += gain


def _repair_rail(ctx: Context, state: GameState) -> None:
    nb = ctx.neighbours
    for side, per_turn in enumerate(ctx.repair_per_turn):
        if per_turn <= 0:
            continue
        own = state.control == side
        intact_here = (state.rail == 1).any(axis=1)
        broken = np.argwhere(state.rail == 2)
        done = 0
        for i, d in broken:
            j = nb[i, d]
            if i > j or not (own[i] and own[j]) or not (intact_here[i] or intact_here[j]):
                continue
            state.rail[i, d] = 1
            state.rail[j, (d + 3) % 6] = 1
            done += 1
            if done >= per_turn:
                break


