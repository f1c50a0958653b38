"""Legality: the legal actions of the side to move, and why an action is not legal.

One :func:`legal_actions` (and its lazy form :class:`LegalActions`) serves the interface, the AI
and the tests; :func:`check` says why an action is illegal, in words a player can read. The rule
predicates a player needs (:func:`can_entrench`, :func:`eligible_attacker`, :func:`evacuable`,
:func:`attack_options`, :func:`attackers`) are public: the AI and the UI call them, never re-derive
them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import combinations

from ..names import HexIndex, SideIndex
from .actions import Action, Attack, EndPhase, Entrench, Evacuate, Move, RailMove
from .combat import Assessment, assess
from .context import Context
from .doctrine import forbidden, may_attack, stacks_that_may_attack, why_not_attack
from .movement import Board, board_for, enemy_mask, rail_reach, reach, unit_moves
from .state import GameState, Unit


class IllegalAction(ValueError):
    """An action the rules do not allow now; the message says why, for a player."""


def active_side(ctx: Context, state: GameState) -> SideIndex:
    """The index of the side whose phase it is."""
    return ctx.move_order[state.active]


def legal_actions(ctx: Context, state: GameState, board: Board | None = None) -> list[Action]:
    """Every action the side to move may take now, in a fixed order (moves, rail moves,
    entrenching, attacks, end). Empty when the game is over."""
    if state.phase != "operations":
        return []
    side = active_side(ctx, state)
    board = board or board_for(ctx, state)
    off = ctx.offsets.__getitem__
    actions: list[Action] = []
    units = state.side_units(side)
    for u in units:
        actions += unit_moves(ctx, state, u, board)
    for u in units:
        actions += [RailMove(u.id, off(j)) for j in sorted(rail_reach(ctx, state, u, board))]
    for u in units:
        if can_entrench(ctx, u):
            actions.append(Entrench(u.id))
    for target, groups in attack_options(ctx, state, board, side):
        for hexes in groups:
            actions.append(Attack(off(target), tuple(off(h) for h in hexes)))
    actions += [Evacuate(b) for b in evacuable(ctx, state, board, side)]
    actions.append(EndPhase())
    return actions


def evacuable(ctx: Context, state: GameState, board: Board, side: SideIndex) -> list[str]:
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
            self._board = board_for(self.ctx, self.state)
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
        if u is None or u.side != active_side(self.ctx, self.state) or self.state.phase != "operations":
            return []
        return unit_moves(self.ctx, self.state, u, self.board)


def can_entrench(ctx: Context, u: Unit) -> bool:
    """Whether a unit may dig in now: on the map, not yet moved or attacked this phase, and not
    entrenched as deep as ``rules.entrench_max`` allows."""
    return u.on_map and not u.moved and not u.attacked and u.entrenched < ctx.rules.entrench_max


def eligible_attacker(ctx: Context, u: Unit) -> bool:
    """Whether a unit may join an attack now: on the map, not yet attacked this phase, not
    disrupted, and of a type with an attack factor."""
    return u.on_map and not u.attacked and not u.disrupted and ctx.unit_types[u.type].attack > 0


def puppets_only(units: Sequence[Unit]) -> bool:
    """Whether an attack would be made by puppet units alone (``puppet: true``: collaborationist
    troops, kept as garrisons; they attack only alongside a regular unit of their side)."""
    return bool(units) and all(u.puppet for u in units)


def attack_options(ctx: Context, state: GameState, board: Board,
                   side: SideIndex) -> Iterator[tuple[int, list[tuple[int, ...]]]]:
    """(target hex, [attacking hex groups]) for every enemy hex next to eligible attackers.

    An attack is made by whole stacks: every eligible unit in each chosen hex attacks. Groups
    whose raw odds fall below ``rules.combat.min_odds_to_attack`` are left out.
    """
    nb = ctx.neighbours
    by_hex: dict[int, list[Unit]] = {}
    for u in state.side_units(side):
        if eligible_attacker(ctx, u):
            by_hex.setdefault(u.hex, []).append(u)
    enemy = enemy_mask(board, side, "occupied")
    targets = sorted({int(j) for h in by_hex for j in nb[h] if j >= 0 and enemy[j]})
    minimum = ctx.rules.combat.min_odds_to_attack
    for t in targets:
        here = stacks_that_may_attack(ctx, state, by_hex, t)  # the standing orders' part
        sources = sorted(int(j) for j in nb[t] if j in here)
        groups = []
        for k in range(1, len(sources) + 1):
            for combo in combinations(sources, k):
                if puppets_only([u for h in combo for u in here[h]]):
                    continue
                if minimum > 0:
                    a = assess(ctx, state, board, t, [u for h in combo for u in here[h]])
                    if a.raw_odds < minimum:
                        continue
                groups.append(combo)
        if groups:
            yield t, groups



def check(ctx: Context, state: GameState, action: Action, board: Board | None = None) -> str | None:
    """Why `action` is illegal now, or None when it is legal (`board`: the current one, if the
    caller has it)."""
    if state.phase != "operations":
        return "the game is over"
    side = active_side(ctx, state)
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
        if action.air_base not in evacuable(ctx, state, board or board_for(ctx, state), side):
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
            if not can_entrench(ctx, u):
                return (f"{u.name} cannot entrench: it has already acted this phase" if u.moved or u.attacked
                        else f"{u.name} is already entrenched as deep as it can")
            return None
        col, row = action.to
        if not ctx.hm.contains(col, row):
            return f"hex {col},{row} is off the map"
        board = board or board_for(ctx, state)
        j = ctx.hm.index(col, row)
        if isinstance(action, Move):
            if j in reach(ctx, state, u, board):
                return None
            return _why_not_move(ctx, state, u, board, j)
        if j in rail_reach(ctx, state, u, board):
            return None
        orders = forbidden(ctx, state, u)
        if orders.move is not None or orders.enters(j):
            return orders.move or orders.keep_out_why
        return (f"{u.name} cannot go to {ctx.hex_name(j)} by rail: a strategic rail move needs a unit that has not "
                f"acted this phase, on own-held intact rail, away from the enemy, within {ctx.strategic_hexes} hexes")
    if isinstance(action, Attack):
        col, row = action.target
        if not ctx.hm.contains(col, row):
            return f"hex {col},{row} is off the map"
        board = board or board_for(ctx, state)
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
            able = [u for u in state.units_at(i) if u.side == side and eligible_attacker(ctx, u)]
            if not able:
                return f"no unit at {ctx.hex_name(i)} can attack (none there, or all have attacked or are disrupted)"
            reason = why_not_attack(ctx, state, able, t)
            if reason is not None:
                return reason
        if len(set(action.from_hexes)) != len(action.from_hexes):
            return "an attacking hex is listed twice"
        if puppets_only(attackers(ctx, state, action, side)):
            return "puppet troops attack only alongside regular units (add a hex with a unit that is not a puppet)"
        minimum = ctx.rules.combat.min_odds_to_attack
        if minimum > 0:
            a = assess(ctx, state, board, t, attackers(ctx, state, action, side))
            if a.raw_odds < minimum:
                return f"the odds ({a.raw_odds:.2f}:1) are below the {minimum:g}:1 the rules require"
        return None
    return f"unknown action {action!r}"


def _why_not_move(ctx: Context, state: GameState, u: Unit, board: Board, j: HexIndex) -> str:
    where = ctx.hex_name(j)
    orders = forbidden(ctx, state, u)
    if orders.move is not None:
        return orders.move
    if orders.enters(j):
        return orders.keep_out_why
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
    return (f"{u.name} cannot reach {where} with {u.mp:g} movement points this phase "
            "(terrain, rivers or enemy zones of control)")



def attackers(ctx: Context, state: GameState, action: Attack, side: SideIndex) -> list[Unit]:
    """The units an attack commits: every eligible unit of the side in each attacking hex (that
    the standing orders let attack the target)."""
    out = []
    t = ctx.hm.index(*action.target)
    for h in action.from_hexes:
        out += [u for u in state.units_at(ctx.hm.index(*h))
                if u.side == side and eligible_attacker(ctx, u) and may_attack(ctx, state, u, t)]
    return out


def preview(ctx: Context, state: GameState, action: Attack) -> Assessment:
    """The odds and full outcome distribution of a legal attack (no randomness, no change)."""
    board = board_for(ctx, state)
    reason = check(ctx, state, action, board)
    if reason is not None:
        raise IllegalAction(f"illegal action '{action}': {reason}")
    side = active_side(ctx, state)
    return assess(ctx, state, board, ctx.hm.index(*action.target), attackers(ctx, state, action, side))



