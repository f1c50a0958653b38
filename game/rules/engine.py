"""The rules engine: legal actions, applying them, and the turn sequence.

One :func:`legal_actions` serves the interface, the AI and the tests; :func:`apply` checks an
action (raising :class:`IllegalAction` with a reason a player can read) and carries it out.
Everything random draws from the state's one generator, in a fixed order.

A turn (``meta.days_per_turn`` days, real dates):

1. **events, reinforcements, withdrawals** whose date falls in the turn (or whose trigger holds);
2. **supply** traced for every side (:mod:`game.rules.supply`); units count turns out of supply;
3. each side's **operations** phase in ``meta.move_order``: moves, strategic rail moves,
   attacks, entrenching, until the side ends its phase;
4. **attrition and recovery**: the supply ladder's losses, region effects (famine desertion and
   peasant disarmament, Communist base areas bleeding the occupier), replacements, rail repair;
5. **victory check**: the corridor traced and dated; the campaign ends after the last turn with a
   verdict (sudden death ends it at once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..scenario import model
from .actions import Action, Attack, EndPhase, Entrench, Evacuate, Move, RailMove
from .combat import Assessment, assess, loss_of
from .context import Context
from .movement import Board, enemy_mask, ladder_step, make_board, movement_allowance, path_to, rail_reach, reach
from .state import ACTIVE, DESTROYED, WITHDRAWN, GameState, LogEntry, Unit, new_losses
from .supply import SupplyInputs, SupplyTrace, trace_supply


class IllegalAction(ValueError):
    """An action the rules do not allow now; the message says why, for a player."""


# ---------------------------------------------------------------------------------------------
# setting up


def new_game(ctx: Context, seed: int) -> GameState:
    """The state at the start of turn 1, the first side to move."""
    s = ctx.scenario
    units: dict[str, Unit] = {}
    for spec in s.units:
        units[spec.id] = _make_unit(ctx, spec, _spec_hex(ctx, spec))
    control = ctx.map.control.astype(np.int8).copy()
    for u in units.values():  # hex control follows the units from the start
        control[u.hex] = u.side
    owner = {p.id: int(control[ctx.place_hex[p.id]]) for p in s.map.places}
    state = GameState(
        seed=seed, rng=np.random.default_rng(seed), turn=1, date=ctx.start_date, active=0, phase="operations",
        units=units, control=control, rail=ctx.rail_initial.copy(),
        regions_active={r.id: r.active for r in s.regions},
        air_active={b.id: b.active for b in s.air_bases}, air_destroyed={},
        sea_lanes={side: bool(s.supply.sea_lanes_open.get(side, True)) for side in ctx.sides},
        reinforcements_stopped=[], supply_range_factor={side: 1.0 for side in ctx.sides},
        replacement_factor={side: 1.0 for side in ctx.sides},
        tracks={t.id: float(t.initial) for t in s.tracks}, fired={}, arrived=[], withdrawn=[],
        losses=new_losses(ctx), captures={}, owner=owner, replaced={side: 0 for side in ctx.sides},
    )
    _start_turn(ctx, state)
    return state


def _spec_hex(ctx: Context, spec: model.Unit) -> int:
    if spec.hex is not None:
        return ctx.hm.index(*spec.hex)
    if isinstance(spec.at, str):
        return ctx.place_hex[spec.at]
    return int(ctx.hm.latlon_to_index(*spec.at))


def _make_unit(ctx: Context, spec: model.Unit, hex_: int) -> Unit:
    return Unit(id=spec.id, name=spec.name, side=ctx.side_index[spec.side], type=spec.type,
                strength=spec.strength, max_strength=spec.strength, quality=spec.quality, hex=hex_,
                puppet=spec.puppet, formation=spec.formation or "")


def side_to_move(ctx: Context, state: GameState) -> int:
    return ctx.move_order[state.active]


# ---------------------------------------------------------------------------------------------
# legal actions


def legal_actions(ctx: Context, state: GameState, board: Board | None = None) -> list[Action]:
    """Every action the side to move may take now, in a fixed order (moves, rail moves,
    entrenching, attacks, end). Empty when the game is over."""
    if state.phase != "operations":
        return []
    side = side_to_move(ctx, state)
    board = board or make_board(ctx, state)
    off = ctx.offsets.__getitem__
    actions: list[Action] = []
    units = state.side_units(side)
    for u in units:
        actions += [Move(u.id, off(j)) for j in sorted(reach(ctx, state, u, board))]
    for u in units:
        actions += [RailMove(u.id, off(j)) for j in sorted(rail_reach(ctx, state, u, board))]
    for u in units:
        if _can_entrench(ctx, u):
            actions.append(Entrench(u.id))
    for target, groups in _attack_options(ctx, state, board, side):
        for hexes in groups:
            actions.append(Attack(off(target), tuple(off(h) for h in hexes)))
    actions += [Evacuate(b) for b in evacuable(ctx, state, board, side)]
    actions.append(EndPhase())
    return actions


def evacuable(ctx: Context, state: GameState, board: Board, side: int) -> list[str]:
    """The side's air bases it may evacuate now: active ones with an enemy unit within
    ``rules.air.evacuate_within`` hexes (none when the rules leave evacuation out)."""
    if ctx.rules.air.evacuate_within is None:
        return []
    enemy = enemy_mask(board, side, "occupied")[: ctx.n]
    return [b.id for b in ctx.air_bases.values()
            if b.side == side and state.air_active.get(b.id) and b.approach is not None and enemy[b.approach].any()]


class LegalActions(Sequence):
    """The legal actions of the side to move, for one state, built only as far as asked.

    It is a sequence (in :func:`legal_actions` order), so a player may list, index or count it;
    listing every move of every unit costs a path search per unit, so a player that knows what it
    wants asks instead whether an action is in it (``action in actions``, one check) or for one
    unit's moves (:meth:`moves`). Valid until the next action is applied.
    """

    def __init__(self, ctx: Context, state: GameState):
        self.ctx, self.state = ctx, state
        self._board: Board | None = None
        self._all: list[Action] | None = None

    @property
    def board(self) -> Board:
        if self._board is None:
            self._board = make_board(self.ctx, self.state)
        return self._board

    def _list(self) -> list[Action]:
        if self._all is None:
            self._all = legal_actions(self.ctx, self.state, self.board)
        return self._all

    def __len__(self) -> int:
        return len(self._list())

    def __getitem__(self, k):
        return self._list()[k]

    def __iter__(self):
        return iter(self._list())

    def __contains__(self, action) -> bool:
        if self._all is not None:
            return action in self._all
        return isinstance(action, Action) and self.state.phase == "operations" and \
            check(self.ctx, self.state, action, self.board) is None

    def moves(self, unit_id: str) -> list[Move]:
        """The legal ordinary moves of one unit."""
        u = self.state.units.get(unit_id)
        if u is None or u.side != side_to_move(self.ctx, self.state) or self.state.phase != "operations":
            return []
        off = self.ctx.offsets
        return [Move(u.id, off[j]) for j in sorted(reach(self.ctx, self.state, u, self.board))]


def _can_entrench(ctx: Context, u: Unit) -> bool:
    return u.on_map and not u.moved and not u.attacked and u.entrenched < ctx.rules.entrench_max


def _eligible_attacker(ctx: Context, u: Unit) -> bool:
    return u.on_map and not u.attacked and not u.disrupted and ctx.unit_types[u.type].attack > 0


def _attack_options(ctx: Context, state: GameState, board: Board, side: int):
    """(target hex, [attacking hex groups]) for every enemy hex next to eligible attackers.

    An attack is made by whole stacks: every eligible unit in each chosen hex attacks. Groups
    whose raw odds fall below ``rules.combat.min_odds_to_attack`` are left out.
    """
    nb = ctx.neighbours
    by_hex: dict[int, list[Unit]] = {}
    for u in state.side_units(side):
        if _eligible_attacker(ctx, u):
            by_hex.setdefault(u.hex, []).append(u)
    enemy = enemy_mask(board, side, "occupied")
    targets = sorted({int(j) for h in by_hex for j in nb[h] if j >= 0 and enemy[j]})
    minimum = ctx.rules.combat.min_odds_to_attack
    for t in targets:
        sources = sorted(int(j) for j in nb[t] if j in by_hex)
        groups = []
        for k in range(1, len(sources) + 1):
            for combo in combinations(sources, k):
                if minimum > 0:
                    a = assess(ctx, state, board, t, [u for h in combo for u in by_hex[h]])
                    if a.raw_odds < minimum:
                        continue
                groups.append(combo)
        if groups:
            yield t, groups


# ---------------------------------------------------------------------------------------------
# applying actions


def check(ctx: Context, state: GameState, action: Action, board: Board | None = None) -> str | None:
    """Why `action` is illegal now, or None when it is legal (`board`: the current one, if the
    caller has it)."""
    if state.phase != "operations":
        return "the game is over"
    side = side_to_move(ctx, state)
    side_name = ctx.scenario.meta.sides[side].name
    if isinstance(action, EndPhase):
        return None
    if isinstance(action, Evacuate):
        base = ctx.air_bases.get(action.air_base)
        if base is None:
            return f"there is no air base '{action.air_base}'"
        if base.side != side:
            return f"the air base {action.air_base} is not {side_name}'s"
        if not state.air_active.get(base.id):
            return f"the air base {action.air_base} is not active (already evacuated, destroyed or not yet open)"
        if action.air_base not in evacuable(ctx, state, board or make_board(ctx, state), side):
            within = ctx.rules.air.evacuate_within
            return ("the rules of this scenario have no evacuation" if within is None else
                    f"an air base is evacuated only with an enemy unit within {within} hexes of it")
        return None
    if isinstance(action, (Move, RailMove, Entrench)):
        u = state.units.get(action.unit)
        if u is None:
            return f"there is no unit '{action.unit}'"
        if u.side != side:
            return f"{u.name} is not {side_name}'s to move"
        if not u.on_map:
            return f"{u.name} is not on the map"
        if isinstance(action, Entrench):
            if not _can_entrench(ctx, u):
                return (f"{u.name} cannot entrench: it has already acted this phase" if u.moved or u.attacked
                        else f"{u.name} is already entrenched as deep as it can")
            return None
        col, row = action.to
        if not ctx.hm.contains(col, row):
            return f"hex {col},{row} is off the map"
        board = board or make_board(ctx, state)
        j = ctx.hm.index(col, row)
        if isinstance(action, Move):
            if j in reach(ctx, state, u, board):
                return None
            return _why_not_move(ctx, state, u, board, j)
        if j in rail_reach(ctx, state, u, board):
            return None
        return (f"{u.name} cannot go to {ctx.hex_name(j)} by rail: a strategic rail move needs a unit that has not "
                f"acted this phase, on own-held intact rail, away from the enemy, within {ctx.strategic_hexes} hexes")
    if isinstance(action, Attack):
        col, row = action.target
        if not ctx.hm.contains(col, row):
            return f"hex {col},{row} is off the map"
        board = board or make_board(ctx, state)
        t = ctx.hm.index(col, row)
        if not enemy_mask(board, side, "occupied")[t]:
            return f"there is no enemy unit at {ctx.hex_name(t)}"
        if not action.from_hexes:
            return "an attack needs at least one attacking hex"
        for h in action.from_hexes:
            if not ctx.hm.contains(*h):
                return f"hex {h[0]},{h[1]} is off the map"
            i = ctx.hm.index(*h)
            if ctx.hm.direction_between(i, t) < 0:
                return f"{ctx.hex_name(i)} is not next to {ctx.hex_name(t)}"
            if not [u for u in state.units_at(i) if u.side == side and _eligible_attacker(ctx, u)]:
                return f"no unit at {ctx.hex_name(i)} can attack (none there, or all have attacked or are disrupted)"
        if len(set(action.from_hexes)) != len(action.from_hexes):
            return "an attacking hex is listed twice"
        minimum = ctx.rules.combat.min_odds_to_attack
        if minimum > 0:
            a = assess(ctx, state, board, t, _attackers(ctx, state, action, side))
            if a.raw_odds < minimum:
                return f"the odds ({a.raw_odds:.2f}:1) are below the {minimum:g}:1 the rules require"
        return None
    return f"unknown action {action!r}"


def _why_not_move(ctx: Context, state: GameState, u: Unit, board: Board, j: int) -> str:
    where = ctx.hex_name(j)
    if u.attacked:
        return f"{u.name} has attacked this phase and cannot move"
    if u.mp <= 0:
        return f"{u.name} has no movement points left this phase"
    if j == u.hex:
        return f"{u.name} is already at {where}"
    if enemy_mask(board, u.side, "occupied")[j]:
        return f"{where} is held by enemy units; attack it instead"
    if ctx.water[j]:
        return f"{where} is water"
    if board.occupied[u.side, j] >= ctx.rules.stacking.max_units:
        return f"{where} already holds {ctx.rules.stacking.max_units} units (the stacking limit)"
    return f"{u.name} cannot reach {where} with {u.mp:g} movement points this phase (terrain, rivers or enemy zones of control)"


class Game:
    """A scenario context and a state together, with the engine's functions as methods."""

    def __init__(self, ctx: Context, state: GameState):
        self.ctx = ctx
        self.state = state

    @classmethod
    def new(cls, ctx: Context, seed: int) -> "Game":
        return cls(ctx, new_game(ctx, seed))

    def legal_actions(self) -> LegalActions:
        """The legal actions now, as a lazily built sequence (see :class:`LegalActions`)."""
        return LegalActions(self.ctx, self.state)

    def apply(self, action: Action) -> list[LogEntry]:
        return apply(self.ctx, self.state, action)

    def clone(self) -> "Game":
        return Game(self.ctx, self.state.clone())

    @property
    def over(self) -> bool:
        return self.state.phase == "over"

    def side_to_move(self) -> str:
        return self.ctx.sides[side_to_move(self.ctx, self.state)]


def apply(ctx: Context, state: GameState, action: Action) -> list[LogEntry]:
    """Check and carry out an action; returns the log entries it produced."""
    planned = _plan_move(ctx, state, action) if isinstance(action, Move) else None
    if planned is None:
        reason = check(ctx, state, action)
        if reason is not None:
            raise IllegalAction(f"illegal action '{action}': {reason}")
    before = len(state.log)
    state.actions_taken += 1
    if isinstance(action, Move):
        _do_move(ctx, state, action, *planned)
    elif isinstance(action, RailMove):
        _do_rail(ctx, state, action)
    elif isinstance(action, Entrench):
        u = state.units[action.unit]
        u.entrenched += 1
        u.mp, u.moved, u.attacked = 0.0, True, True
    elif isinstance(action, Attack):
        _do_attack(ctx, state, action)
    elif isinstance(action, Evacuate):
        state.air_active[action.air_base] = False
        where = ctx.hex_name(ctx.air_bases[action.air_base].hex)
        _log(ctx, state, "air", f"the air base at {where} is evacuated, its runways and stocks demolished")
    elif isinstance(action, EndPhase):
        _end_phase(ctx, state)
    if state.phase == "operations" and not isinstance(action, EndPhase):
        _check_events(ctx, state)
    return state.log[before:]


def _plan_move(ctx: Context, state: GameState, action: Move):
    """(board, reach) for a legal move, found with one search; None to let check() say why not."""
    u = state.units.get(action.unit)
    if (state.phase != "operations" or u is None or u.side != side_to_move(ctx, state) or not u.on_map
            or not ctx.hm.contains(*action.to)):
        return None
    board = make_board(ctx, state)
    if ctx.hm.index(*action.to) not in reach(ctx, state, u, board):
        return None
    return board, reach(ctx, state, u, board, through=True)


def _do_move(ctx: Context, state: GameState, action: Move, board: Board, reached: dict) -> None:
    u = state.units[action.unit]
    j = ctx.hm.index(*action.to)
    cost = reached[j][0]
    path = path_to(reached, u.hex, j)
    for h in path[1:]:
        u.hex = h
        _take_hex(ctx, state, h, u.side)
        if state.phase == "over":  # sudden death on the way: the unit stops where it ended the game
            return
    u.hex = j
    u.mp = max(0.0, u.mp - cost)
    u.moved = True
    u.entrenched = 0
    if enemy_mask(board, u.side, "zoc")[j]:
        u.mp = 0.0


def _do_rail(ctx: Context, state: GameState, action: RailMove) -> None:
    u = state.units[action.unit]
    u.hex = ctx.hm.index(*action.to)
    u.mp, u.moved, u.entrenched = 0.0, True, 0


def _attackers(ctx: Context, state: GameState, action: Attack, side: int) -> list[Unit]:
    out = []
    for h in action.from_hexes:
        out += [u for u in state.units_at(ctx.hm.index(*h)) if u.side == side and _eligible_attacker(ctx, u)]
    return out


def preview(ctx: Context, state: GameState, action: Attack) -> Assessment:
    """The odds and full outcome distribution of a legal attack (no randomness, no change)."""
    board = make_board(ctx, state)
    reason = check(ctx, state, action, board)
    if reason is not None:
        raise IllegalAction(f"illegal action '{action}': {reason}")
    side = side_to_move(ctx, state)
    return assess(ctx, state, board, ctx.hm.index(*action.target), _attackers(ctx, state, action, side))


def _do_attack(ctx: Context, state: GameState, action: Attack) -> None:
    side = side_to_move(ctx, state)
    board = make_board(ctx, state)
    target = ctx.hm.index(*action.target)
    attackers = _attackers(ctx, state, action, side)
    defenders = state.units_at(target)
    a = assess(ctx, state, board, target, attackers)
    combat = ctx.rules.combat
    roll = int(state.rng.integers(combat.die_sides))
    rid = combat.table[roll][a.column]
    r = combat.results[rid]
    lost_a = lost_d = 0
    for u in attackers:
        lost_a += _lose(ctx, state, u, loss_of(u.strength, r.attacker_loss), "combat")
        u.attacked, u.mp, u.entrenched = True, 0.0, 0
    for u in defenders:
        lost_d += _lose(ctx, state, u, loss_of(u.strength, r.defender_loss), "combat")
    notes = []
    attack_hexes = [ctx.hm.index(*h) for h in action.from_hexes]
    if r.defender_retreat:
        hold = (ctx.fort[target] > 0 or ctx.city[target]) and not r.rout  # routed troops cannot hold
        for u in [x for x in defenders if x.status == ACTIVE]:
            if hold:
                lost_d += _lose(ctx, state, u, loss_of(u.strength, combat.hold_loss_per_hex * r.defender_retreat), "combat")
                notes.append(f"{u.name} holds its position")
                continue
            if r.rout:
                lost_d += _lose(ctx, state, u, loss_of(u.strength, combat.rout_loss), "combat")
            if u.status != ACTIVE:
                continue
            moved = _retreat(ctx, state, u, r.defender_retreat, attack_hexes)
            if moved == 0:
                men = u.strength
                _lose(ctx, state, u, men, "surrender")
                lost_d += men
                notes.append(f"{u.name} is surrounded and surrenders ({men:,} men)")
                continue
            u.entrenched = 0
            u.disrupted = u.disrupted or r.rout
            notes.append(f"{u.name} {'routs' if r.rout else 'retreats'}")
            if moved < r.defender_retreat:  # cornered after part of the way: it stands and pays
                lost_d += _lose(ctx, state, u, loss_of(u.strength, combat.hold_loss_per_hex * (r.defender_retreat - moved)),
                                "combat")
            _disarm_check(ctx, state, u, "disarm_on_retreat")
    if r.attacker_retreat:
        for u in [x for x in attackers if x.status == ACTIVE]:
            moved = _retreat(ctx, state, u, r.attacker_retreat, [target])
            if moved < r.attacker_retreat:
                lost_a += _lose(ctx, state, u, loss_of(u.strength, combat.hold_loss_per_hex * (r.attacker_retreat - moved)),
                                "combat")
    if not state.units_at(target) and not r.attacker_retreat:
        movers = [u for u in attackers if u.status == ACTIVE and np.isfinite(
            ctx.enter_cost[ctx.class_index[ctx.unit_types[u.type].movement_class], target])]
        if movers:
            best = max(movers, key=lambda x: (x.strength, x.id))
            best.hex = target
            notes.append(f"{best.name} advances")
            _take_hex(ctx, state, target, side)
    text = (f"{ctx.scenario.meta.sides[side].name} attacks {ctx.hex_name(target)} at {a.column_label} "
            f"(rolled {roll + 1}): {r.description or rid}; losses {lost_a:,} attacking, {lost_d:,} defending"
            + (". " + "; ".join(notes) if notes else ""))
    _log(ctx, state, "combat", text)


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


def _lose(ctx: Context, state: GameState, u: Unit, men: int, cause: str) -> int:
    """Take `men` from a unit, book them, disband it below the minimum strength. Returns men lost."""
    men = max(0, min(men, u.strength))
    if men == 0 and u.strength >= ctx.rules.min_strength:
        return 0
    u.strength -= men
    if 0 < u.strength < ctx.rules.min_strength:
        men += u.strength
        u.strength = 0
    _book(ctx, state, u.side, cause, men)
    if u.strength == 0:
        u.status, u.hex = DESTROYED, -1
        _log(ctx, state, "unit", f"{u.name} is destroyed ({cause})")
    return men


def _book(ctx: Context, state: GameState, side: int, cause: str, men: int) -> None:
    if men <= 0:
        return
    name = ctx.sides[side]
    state.losses[name][cause] = state.losses[name].get(cause, 0) + men
    for tid, track in ctx.tracks.items():
        for drv in track.drivers:
            if drv.on == "losses" and drv.side == name and drv.per_men:
                _track_add(ctx, state, tid, drv.add * men / drv.per_men)


def _track_add(ctx: Context, state: GameState, tid: str, amount: float) -> None:
    t = ctx.tracks[tid]
    state.tracks[tid] = float(min(t.max, max(t.min, state.tracks[tid] + amount)))


def _take_hex(ctx: Context, state: GameState, i: int, side: int) -> None:
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
        _log(ctx, state, "capture", f"{ctx.scenario.meta.sides[side].name} takes {place.name}")
        for tid, track in ctx.tracks.items():
            for drv in track.drivers:
                if drv.on == "capture" and drv.side == ctx.sides[side]:
                    _track_add(ctx, state, tid, drv.add)
        for base_id, base in ctx.air_bases.items():
            if base.hex == i and base.side != side and base_id not in state.air_destroyed:
                state.air_destroyed[base_id] = state.date.isoformat()
                intact = bool(state.air_active.get(base_id))
                if intact:
                    state.air_intact[base_id] = state.date.isoformat()
                state.air_active[base_id] = False
                _log(ctx, state, "air", f"the air base at {place.name} is destroyed"
                     + (", taken before it could be evacuated: its aircraft and stocks are lost" if intact else ""))
        for sd in ctx.scenario.victory.sudden_death:
            if sd.place == pid and sd.captured_by == ctx.sides[side] and state.phase != "over":
                _finish(ctx, state, sudden=sd)


def _disarm_check(ctx: Context, state: GameState, u: Unit, rate: str) -> None:
    """Peasant disarmament in famine regions (a chance per event, from the region's effects)."""
    for rid, active in state.regions_active.items():
        if not active or u.status != ACTIVE or not ctx.region_mask[rid][u.hex]:
            continue
        region = ctx.regions[rid]
        effects = region.effects.get(ctx.sides[u.side])
        chance = getattr(effects, rate, 0.0) if effects else 0.0
        if chance > 0 and state.rng.random() < chance:
            men = _lose(ctx, state, u, loss_of(u.strength, effects.disarm_fraction), "disarmed")
            _log(ctx, state, "famine", f"peasants disarm {men:,} men of {u.name}")


# ---------------------------------------------------------------------------------------------
# the turn sequence


def _log(ctx: Context, state: GameState, kind: str, text: str, source: str = "") -> None:
    state.log.append(LogEntry(state.turn, state.date.isoformat(), kind, text, source))


def _start_turn(ctx: Context, state: GameState) -> None:
    state.date = ctx.turn_date(state.turn)
    state.active = 0
    _check_events(ctx, state)
    _reinforcements(ctx, state)
    _withdrawals(ctx, state)
    if state.phase == "over":
        return
    _supply_phase(ctx, state)
    _start_phase(ctx, state)


def _turn_end(ctx: Context, state: GameState) -> dt.date:
    return state.date + dt.timedelta(days=ctx.days_per_turn - 1)


def _start_phase(ctx: Context, state: GameState) -> None:
    side = side_to_move(ctx, state)
    for u in state.side_units(side):
        u.mp = movement_allowance(ctx, u)
        u.moved = False
        u.attacked = False


def _end_phase(ctx: Context, state: GameState) -> None:
    side = side_to_move(ctx, state)
    for u in state.side_units(side):
        u.disrupted = False
    _check_events(ctx, state)
    state.active += 1
    if state.active >= len(ctx.move_order):
        _end_turn(ctx, state)
    else:
        _start_phase(ctx, state)


def _end_turn(ctx: Context, state: GameState) -> None:
    _attrition(ctx, state)
    _repair_rail(ctx, state)
    for tid, track in ctx.tracks.items():
        for drv in track.drivers:
            if drv.on == "turn":
                _track_add(ctx, state, tid, drv.add)
    _corridor_check(ctx, state)
    if state.phase == "over":
        return
    if state.turn >= ctx.turns:
        _finish(ctx, state)
        return
    state.turn += 1
    _start_turn(ctx, state)


def supply_inputs(ctx: Context, state: GameState, side: int, board: Board | None = None) -> SupplyInputs:
    board = board or make_board(ctx, state)
    enemy = enemy_mask(board, side, "occupied")
    blocked = enemy | ctx.water
    if ctx.rules.zoc_blocks_supply:
        blocked |= enemy_mask(board, side, "zoc") & (board.occupied[side] == 0)
    factor = ctx.rules.supply.interdicted_range_factor
    return SupplyInputs(neighbours=ctx.neighbours, passable=~blocked, owned=state.control == side,
                        rail=state.rail == 1, road=ctx.road, cross_cost=ctx.cross_cost,
                        reach_factor=np.where(board.interdicted[side], factor, 1.0))


def supply_sources(ctx: Context, state: GameState, side: int) -> np.ndarray:
    out = [h for pid, h, port in ctx.sources
           if state.owner.get(pid) == side and (not port or state.sea_lanes.get(ctx.sides[side], True))]
    return np.array(sorted(set(out)), dtype=np.int64)


def trace(ctx: Context, state: GameState, side: int, board: Board | None = None) -> SupplyTrace:
    """This side's supply trace now."""
    sup = ctx.rules.supply
    k = state.supply_range_factor[ctx.sides[side]]
    return trace_supply(supply_inputs(ctx, state, side, board), supply_sources(ctx, state, side),
                        rail_range=sup.rail_range * k, road_range=sup.road_range * k,
                        cross_range=sup.cross_country_range * k)


def _supply_phase(ctx: Context, state: GameState) -> None:
    board = make_board(ctx, state)
    for side in range(len(ctx.sides)):
        supplied = trace(ctx, state, side, board).supplied
        for u in state.side_units(side):
            u.supplied = bool(supplied[u.hex])
            u.out_of_supply = 0 if u.supplied else u.out_of_supply + 1


def _attrition(ctx: Context, state: GameState) -> None:
    rate = ctx.rules.replacement_rate
    for u in list(state.units.values()):
        if not u.on_map:
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
                _lose(ctx, state, u, loss_of(u.strength, eff.attrition_per_turn), region.loss_cause)
                if u.status != ACTIVE:
                    break
        if u.status != ACTIVE:
            continue
        step = ladder_step(ctx, u)
        if step is not None and step.loss_per_turn > 0:
            frac = step.loss_per_turn * (0.5 if forage else 1.0)
            _lose(ctx, state, u, loss_of(u.strength, frac), "attrition")
        if not u.supplied:
            _disarm_check(ctx, state, u, "disarm_out_of_supply")
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


def _corridor_check(ctx: Context, state: GameState) -> None:
    c = ctx.corridor
    if c is None:
        return
    side = ctx.side_index[c.side]
    held = (state.control == side) & trace(ctx, state, side).supplied
    open_now = corridor_open(ctx, state, held, c.along)
    if open_now and state.corridor_opened is None:
        state.corridor_opened = _turn_end(ctx, state).isoformat()  # traced at the end of the turn
        _log(ctx, state, "corridor", f"the corridor is open: {ctx.scenario.meta.sides[side].name} holds and supplies "
                                     f"a route from {', '.join(ctx.places[p].name for p in c.from_)} to "
                                     f"{', '.join(ctx.places[p].name for p in c.to)}")
    state.corridor_open = bool(open_now)


def corridor_steps(ctx: Context, state: GameState, along: list[str]) -> np.ndarray:
    """(n, 6) bool: the hexsides a corridor may step across (intact rail, road, or any)."""
    step = np.zeros((ctx.n, 6), dtype=bool)
    if "any" in along:
        step |= ctx.neighbours >= 0
    if "rail" in along:
        step |= state.rail == 1
    if "road" in along:
        step |= ctx.road
    return step


def corridor_open(ctx: Context, state: GameState, held: np.ndarray, along: list[str]) -> bool:
    """Is there a connected path of `held` hexes from a corridor start to a corridor end,
    stepping along rail edges ('rail'), road edges ('road') or any hexside ('any')?"""
    nb = ctx.neighbours
    step = corridor_steps(ctx, state, along)
    reached = np.zeros(ctx.n, dtype=bool)
    start = [h for h in ctx.corridor_from if held[h]]
    reached[start] = True
    frontier = np.array(start, dtype=np.int64)
    goal = np.zeros(ctx.n, dtype=bool)
    goal[ctx.corridor_to] = True
    while frontier.size:
        if goal[frontier].any():
            return True
        cand = np.where(step[frontier], nb[frontier], -1).ravel()
        cand = cand[cand >= 0]
        cand = np.unique(cand[held[cand] & ~reached[cand]])
        reached[cand] = True
        frontier = cand
    return False


# ---------------------------------------------------------------------------------------------
# events, reinforcements, withdrawals


def _check_events(ctx: Context, state: GameState) -> None:
    """Fire every event whose time has come, repeating until none more fires (so an event
    that triggers another fires it in the same pass, whatever their order in the file)."""
    end = _turn_end(ctx, state)
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
            _log(ctx, state, "event", f"{event.name}" + (f": {event.text}" if event.text else ""), event.source or "")
            for eff in event.effects:
                _apply_effect(ctx, state, eff)


def _trigger_holds(ctx: Context, state: GameState, t) -> bool:
    if isinstance(t, model.TriggerCaptured):
        cap = state.captures.get(t.captured)
        return cap is not None and state.owner.get(t.captured) == ctx.side_index[t.by]
    if isinstance(t, model.TriggerTrack):
        v = state.tracks.get(t.track, 0.0)
        return (t.at_least is None or v >= t.at_least) and (t.at_most is None or v <= t.at_most)
    if isinstance(t, model.TriggerEvent):
        return t.after_event in state.fired
    return False


def _apply_effect(ctx: Context, state: GameState, eff) -> None:
    if isinstance(eff, model.EffectTrack):
        _track_add(ctx, state, eff.track, eff.add)
    elif isinstance(eff, model.EffectRegion):
        state.regions_active[eff.region] = eff.active
    elif isinstance(eff, model.EffectSeaLanes):
        state.sea_lanes[eff.side] = eff.open
    elif isinstance(eff, model.EffectAirBase):
        if eff.air_base not in state.air_destroyed:
            state.air_active[eff.air_base] = eff.active
    elif isinstance(eff, model.EffectReinforcementsStop):
        if eff.side not in state.reinforcements_stopped:
            state.reinforcements_stopped.append(eff.side)
    elif isinstance(eff, model.EffectSupply):
        if "range_factor" in eff.model_fields_set:
            state.supply_range_factor[eff.side] = eff.range_factor
        if "replacement_factor" in eff.model_fields_set:
            state.replacement_factor[eff.side] = eff.replacement_factor
    elif isinstance(eff, model.EffectReinforce):
        if not _arrive(ctx, state, eff.units, eff.at, [], "event"):
            state.waiting.append([u.id for u in eff.units])
            _log(ctx, state, "reinforcement", f"{', '.join(u.name for u in eff.units)} cannot arrive yet: "
                                              "the side holds neither their place nor a supply source")
    elif isinstance(eff, model.EffectWithdraw):
        _withdraw_units(ctx, state, eff.units)
    elif isinstance(eff, model.EffectMessage):
        _log(ctx, state, "message", eff.text)


def _reinforcements(ctx: Context, state: GameState) -> None:
    for ids in list(state.waiting):  # event reinforcements that could not land before
        specs = [ctx.unit_specs[i] for i in ids]
        at = next(e.at for ev in ctx.scenario.events for e in ev.effects
                  if isinstance(e, model.EffectReinforce) and e.units[0].id == ids[0])
        if _arrive(ctx, state, specs, at, [], "event"):
            state.waiting.remove(ids)
    end = _turn_end(ctx, state)
    for r in ctx.scenario.reinforcements:
        if r.id in state.arrived or r.date > end:
            continue
        side = r.units[0].side
        if side in state.reinforcements_stopped:
            state.arrived.append(r.id)
            _log(ctx, state, "reinforcement", f"{', '.join(u.name for u in r.units)} will not come: "
                                              "reinforcements have stopped")
            continue
        if _arrive(ctx, state, r.units, r.at, r.fallback, "reinforcement"):
            state.arrived.append(r.id)


def _arrive(ctx: Context, state: GameState, specs: list[model.Unit], at, fallback: list[str], kind: str) -> bool:
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
    for spec in specs:
        if spec.id in state.units:
            continue
        h = _room_near(ctx, state, side, target, spec)
        if h < 0:
            continue
        unit = _make_unit(ctx, spec, h)
        state.units[spec.id] = unit
        placed.append(unit.name)
    where = ctx.hex_name(target)
    redirected = "" if target == candidates[0] else f" (redirected from {ctx.hex_name(candidates[0])})"
    if placed:
        _log(ctx, state, kind, f"{', '.join(placed)} arrive at {where}{redirected}")
    return True


def _room_near(ctx: Context, state: GameState, side: int, centre: int, spec: model.Unit) -> int:
    """The nearest hex to `centre` the side holds, with stacking room and passable for the unit."""
    c = ctx.class_index[ctx.unit_types[spec.type].movement_class]
    board = make_board(ctx, state)
    enemy = enemy_mask(board, side, "occupied")
    ok = (state.control == side) & ~enemy & np.isfinite(ctx.enter_cost[c]) & \
         (board.occupied[side] < ctx.rules.stacking.max_units)
    if not ok.any():
        return -1
    d = np.where(ok, ctx.hm.distances_from(centre), np.iinfo(np.int64).max)
    return int(np.argmin(d))


def _withdrawals(ctx: Context, state: GameState) -> None:
    end = _turn_end(ctx, state)
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
        _log(ctx, state, "withdrawal", f"{', '.join(gone)} leave the theatre")


# ---------------------------------------------------------------------------------------------
# the end


@dataclass
class Score:
    total: float
    items: list[tuple[str, float]]


def score(ctx: Context, state: GameState) -> Score:
    """The score of ``victory.score_side`` now, item by item."""
    v = ctx.scenario.victory
    me = ctx.side_index[v.score_side]
    items: list[tuple[str, float]] = []

    def sign(side_id: str) -> int:
        return 1 if ctx.side_index[side_id] == me else -1

    if v.corridor is not None and v.corridor.points and state.corridor_open:
        since = f" since {state.corridor_opened}" if state.corridor_opened else ""
        items.append((f"the corridor is open{since}", sign(v.corridor.side) * v.corridor.points))
    for o in v.objectives:
        if state.owner.get(o.place) == ctx.side_index[o.side] and o.points:
            who = ctx.scenario.meta.sides[ctx.side_index[o.side]].name
            items.append((f"{who} holds {ctx.places[o.place].name}", sign(o.side) * o.points))
    destroyed = [b for b in state.air_destroyed if ctx.air_bases[b].side != me]
    if v.air_base_points and destroyed:
        items.append((f"{len(destroyed)} enemy air base(s) destroyed", v.air_base_points * len(destroyed)))
    if v.intact_air_base_points:
        theirs = sum(ctx.air_bases[b].side != me for b in state.air_intact)
        ours = len(state.air_intact) - theirs
        if theirs:
            items.append((f"{theirs} enemy air base(s) taken before they were evacuated", v.intact_air_base_points * theirs))
        if ours:
            items.append((f"{ours} own air base(s) lost before they were evacuated", -v.intact_air_base_points * ours))
    enemy_lost = sum(state.total_losses(s) for s in ctx.sides if ctx.side_index[s] != me)
    if v.enemy_losses_per_point and enemy_lost:
        items.append((f"enemy losses {enemy_lost:,}", enemy_lost / v.enemy_losses_per_point))
    own_lost = state.total_losses(v.score_side)
    if v.own_losses_per_point and own_lost:
        items.append((f"own losses {own_lost:,}", -own_lost / v.own_losses_per_point))
    for tid, pts in v.track_points.items():
        items.append((f"{ctx.tracks[tid].name} at {state.tracks[tid]:.0f}", state.tracks[tid] * pts))
    return Score(round(sum(p for _, p in items), 6), items)


def _points(x: float) -> str:
    """A score for people: whole numbers as they are, others to one decimal."""
    return f"{x:g}" if float(x).is_integer() else f"{x:.1f}"


def _finish(ctx: Context, state: GameState, sudden: model.SuddenDeath | None = None) -> None:
    v = ctx.scenario.victory
    sc = score(ctx, state)
    names = {s.id: s.name for s in ctx.scenario.meta.sides}
    if sudden is not None:
        winner, verdict = sudden.winner, "decisive"
        why = (f"{names[sudden.captured_by]} took {ctx.places[sudden.place].name} on {state.date.isoformat()}: "
               f"sudden death, a decisive victory for {names[winner]}.")
    else:
        k = next(k for k, b in enumerate(v.bands) if b.min_score is None or sc.total >= b.min_score)
        band = v.bands[k]
        winner, verdict = band.winner, band.result
        if band.min_score is not None:
            where = f"{band.min_score:g} or more"
        else:
            where = f"under {v.bands[k - 1].min_score:g}" if k > 0 else "any score"
        outcome = "a draw" if verdict == "draw" else f"a {verdict} victory for {names[winner]}"
        why = f"{names[v.score_side]} scores {_points(sc.total)} ({where}): {outcome}."
    parts = [why]
    if sc.items:
        parts.append("Points: " + "; ".join(f"{t} ({'+' if p >= 0 else ''}{_points(p)})" for t, p in sc.items) + ".")
    losses = "; ".join(
        f"{names[s]} {state.total_losses(s):,}" + (" (" + ", ".join(f"{c} {m:,}" for c, m in state.losses[s].items() if m) + ")"
                                                   if state.total_losses(s) else "")
        for s in ctx.sides)
    parts.append(f"Losses: {losses}.")
    if ctx.corridor is not None:
        parts.append("The corridor " + (f"opened on {state.corridor_opened}" if state.corridor_opened else "never opened")
                     + (" and is open at the end." if state.corridor_open else "." if not state.corridor_opened
                        else " but is cut at the end."))
    state.result = {"winner": winner, "verdict": verdict, "score": sc.total, "reason": "sudden death" if sudden else "end",
                    "explanation": " ".join(parts)}
    state.phase = "over"
    _log(ctx, state, "victory", " ".join(parts))
