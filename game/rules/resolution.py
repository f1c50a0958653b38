"""Resolution: carrying out a legal move, rail move or attack, and what follows from it.

A move walks its path hex by hex (control follows; places change hands; sudden death may end the
game on the way). An attack rolls the one die of the combat table on the state's generator, books
the losses, retreats or routs the defenders (a unit that cannot retreat surrenders; a place with a
fortification or a city holds and pays instead), and lets the strongest attacker advance into an
emptied hex.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..names import HexIndex, SideIndex
from .actions import Attack, Move, RailMove
from .combat import assess, loss_of
from .context import Context
from .doctrine import forbidden
from .ledger import log, log_region, lose, track_add
from .legality import active_side, attackers
from .movement import Board, board_for, enemy_mask, make_board, path_to, reach
from .state import ACTIVE, GameState, Unit
from .victory import finish


def plan_move(ctx: Context, state: GameState, action: Move) -> tuple[Board, Mapping[int, tuple[float, int]]] | None:
    """(board, reach) for a legal move, found with one search; None to let check() say why not."""
    u = state.units.get(action.unit)
    if (state.phase != "operations" or u is None or u.side != active_side(ctx, state) or not u.on_map
            or not ctx.hm.contains(*action.to)):
        return None
    board = board_for(ctx, state)  # the state before the move: shared with the legal actions
    if ctx.hm.index(*action.to) not in reach(ctx, state, u, board):
        return None
    return board, reach(ctx, state, u, board, through=True)


def do_move(ctx: Context, state: GameState, action: Move, board: Board,
            reached: Mapping[int, tuple[float, int]]) -> None:
    """Walk a planned move (see :func:`plan_move`) hex by hex."""
    u = state.units[action.unit]
    j = ctx.hm.index(*action.to)
    cost = reached[j][0]
    path = path_to(reached, u.hex, j)
    for h in path[1:]:
        u.hex = h
        take_hex(ctx, state, h, u.side)
        if state.phase == "over":  # sudden death on the way: the unit stops where it ended the game
            return
    u.hex = j
    u.mp = max(0.0, u.mp - cost)
    u.moved = True
    u.entrenched = 0
    if enemy_mask(board, u.side, "zoc")[j]:
        u.mp = 0.0


def do_rail(ctx: Context, state: GameState, action: RailMove) -> None:
    """A strategic rail move: the unit arrives and has used its whole phase."""
    u = state.units[action.unit]
    u.hex = ctx.hm.index(*action.to)
    u.mp, u.moved, u.entrenched = 0.0, True, 0


def do_attack(ctx: Context, state: GameState, action: Attack) -> None:
    """Resolve a legal attack: one roll, losses, retreats, surrenders, the advance, the log."""
    side = active_side(ctx, state)
    board = make_board(ctx, state)
    target = ctx.hm.index(*action.target)
    committed = attackers(ctx, state, action, side)
    defenders = state.units_at(target)
    a = assess(ctx, state, board, target, committed)
    combat = ctx.rules.combat
    roll = state.die(combat.die_sides, "combat", target)
    rid = combat.table[roll][a.column]
    r = combat.results[rid]
    lost_a = lost_d = 0
    for u in committed:
        lost_a += lose(ctx, state, u, loss_of(u.strength, r.attacker_loss), "combat")
        u.attacked, u.mp, u.entrenched = True, 0.0, 0
    for u in defenders:
        lost_d += lose(ctx, state, u, loss_of(u.strength, r.defender_loss), "combat")
    notes = []
    attack_hexes = [ctx.hm.index(*h) for h in action.from_hexes]
    if r.defender_retreat:
        hold = (ctx.fort[target] > 0 or ctx.city[target]) and not r.rout  # routed troops cannot hold
        for u in [x for x in defenders if x.status == ACTIVE]:
            if hold:
                lost_d += lose(ctx, state, u, loss_of(u.strength, combat.hold_loss_per_hex * r.defender_retreat),
                               "combat")
                notes.append(f"{u.name} holds its position")
                continue
            if r.rout:
                lost_d += lose(ctx, state, u, loss_of(u.strength, combat.rout_loss), "combat")
            if u.status != ACTIVE:
                continue
            moved = _retreat(ctx, state, u, r.defender_retreat, attack_hexes)
            if moved == 0:
                men = u.strength
                lose(ctx, state, u, men, "surrender")
                lost_d += men
                notes.append(f"{u.name} is surrounded and surrenders ({men:,} men)")
                continue
            u.entrenched = 0
            u.disrupted = u.disrupted or r.rout
            notes.append(f"{u.name} {'routs' if r.rout else 'retreats'}")
            if moved < r.defender_retreat:  # cornered after part of the way: it stands and pays
                lost_d += lose(ctx, state, u,
                               loss_of(u.strength, combat.hold_loss_per_hex * (r.defender_retreat - moved)), "combat")
            disarm_check(ctx, state, u, "disarm_on_retreat")
    if r.attacker_retreat:
        for u in [x for x in committed if x.status == ACTIVE]:
            moved = _retreat(ctx, state, u, r.attacker_retreat, [target])
            if moved < r.attacker_retreat:
                lost_a += lose(ctx, state, u,
                               loss_of(u.strength, combat.hold_loss_per_hex * (r.attacker_retreat - moved)), "combat")
    if not state.units_at(target) and not r.attacker_retreat:
        movers = [u for u in committed if u.status == ACTIVE and np.isfinite(
            ctx.enter_cost[ctx.class_index[ctx.unit_types[u.type].movement_class], target])
            and _may_advance(ctx, state, u, target)]
        if movers:
            best = max(movers, key=lambda x: (x.strength, x.id))
            best.hex = target
            notes.append(f"{best.name} advances")
            take_hex(ctx, state, target, side)
    text = (f"{ctx.scenario.meta.sides[side].name} attacks {ctx.hex_name(target)} at {a.column_label} "
            f"(rolled {roll + 1}): {r.description or rid}; losses {lost_a:,} attacking, {lost_d:,} defending"
            + (". " + "; ".join(notes) if notes else ""))
    log(ctx, state, "combat", text)


def _may_advance(ctx: Context, state: GameState, u: Unit, target: int) -> bool:
    """Whether the standing orders let `u` advance into `target` (an advance is a move)."""
    orders = forbidden(ctx, state, u)
    return orders.move is None and not orders.enters(target)


def _retreat(ctx: Context, state: GameState, u: Unit, hexes: int, away_from: list[int]) -> int:
    """Move `u` up to `hexes` steps away from `away_from`; returns the steps it could take.

    A retreat never enters water, enemy units, an enemy zone of control without a friendly
    unit in it, a full friendly stack, or a place the enemy holds; it takes control of the
    plain hexes it enters but captures nothing.
    """
    nb = ctx.neighbours
    c = ctx.class_index[ctx.unit_types[u.type].movement_class]
    room = ctx.rules.stacking.max_units
    visited = {u.hex}
    away = np.min([ctx.hm.distances_from(a) for a in away_from], axis=0) if away_from else np.zeros(ctx.n, int)
    for step in range(hexes):
        board = make_board(ctx, state)
        enemy = enemy_mask(board, u.side, "occupied")
        ezoc = enemy_mask(board, u.side, "zoc")
        best, best_key = -1, None
        for j in (int(x) for x in nb[u.hex]):
            if j < 0 or j in visited or enemy[j] or ctx.water[j] or not np.isfinite(ctx.enter_cost[c, j]):
                continue
            friends = board.occupied[u.side, j]
            if ezoc[j] and friends == 0:
                continue
            if friends >= room:
                continue
            if j in ctx.place_at and state.control[j] not in (u.side, -1):
                continue  # beaten troops do not fall back into an enemy-held town
            key = (int(away[j]), int(state.control[j] == u.side), -j)
            if best_key is None or key > best_key:
                best, best_key = j, key
        if best < 0:
            return step
        visited.add(best)
        u.hex = best
        if best not in ctx.place_at:
            state.control[best] = u.side
    return hexes


def take_hex(ctx: Context, state: GameState, i: HexIndex, side: SideIndex) -> None:
    """A side's unit enters hex i: control follows, places change hands, air bases are destroyed."""
    if state.control[i] == side:
        return
    state.control[i] = side
    for pid in ctx.places_at.get(i, ()):
        if state.owner.get(pid) == side:
            continue
        state.owner[pid] = side
        place = ctx.places[pid]
        if pid not in state.captures:
            state.captures[pid] = {"date": state.date.isoformat(), "side": ctx.sides[side]}
        log(ctx, state, "capture", f"{ctx.scenario.meta.sides[side].name} takes {place.name}")
        for tid, track in ctx.tracks.items():
            for drv in track.drivers:
                if drv.on == "capture" and drv.side == ctx.sides[side]:
                    track_add(ctx, state, tid, drv.add)
        for base_id, base in ctx.air_bases.items():
            if base.hex == i and base.side != side and base_id not in state.air_destroyed:
                state.air_destroyed[base_id] = state.date.isoformat()
                intact = bool(state.air_active.get(base_id))
                if intact:
                    state.air_intact[base_id] = state.date.isoformat()
                state.air_active[base_id] = False
                log(ctx, state, "air", f"the air base at {place.name} is destroyed"
                     + (", taken before it could be evacuated: its aircraft and stocks are lost" if intact else ""))
        for sd in ctx.scenario.victory.sudden_death:
            if sd.place == pid and sd.captured_by == ctx.sides[side] and state.phase != "over":
                finish(ctx, state, sudden=sd)


def disarm_check(ctx: Context, state: GameState, u: Unit, rate: str) -> None:
    """Disarmament in the regions that cause it (famine: the peasants disarm beaten or starving
    troops): a chance per event, from the region's effects; logged under the region's kind, with
    its kind's text."""
    for rid, active in state.regions_active.items():
        if not active or u.status != ACTIVE or not ctx.region_mask[rid][u.hex]:
            continue
        region = ctx.regions[rid]
        effects = region.effects.get(ctx.sides[u.side])
        chance = getattr(effects, rate, 0.0) if effects else 0.0
        if effects is not None and chance > 0 and state.chance("disarm", rate, u.id, rid) < chance:
            name = u.name
            men = lose(ctx, state, u, loss_of(u.strength, effects.disarm_fraction), "disarmed")
            text = ctx.region_kinds[region.kind].disarm_text
            log_region(ctx, state, region.kind, text.replace("{men}", f"{men:,}").replace("{unit}", name))
