"""A scripted "tricky human": a player that plays as its base player, except for one or two units
sent to try the tricks a human tries on a computer opponent.

- ``park``: a unit walks to the nearest hex of the enemy's corridor route that the enemy holds
  and nobody stands on, and stays there: a corridor is open only where it is held, so one unit
  astride it shuts it.
- ``raid``: a unit walks to the nearest supply depot the enemy holds behind its front and sits on
  it.

A trick unit that is destroyed is replaced by another (a human keeps trying), up to
``MAX_TRIES`` times per trick. The player keeps a record of where each trick unit stood at each
of its phases (:attr:`TrickyPlayer.record`), so tests and balance testers can see whether the
opponent answered the trick (how long the unit was left standing on its target) or let it have
what it wanted for free. It uses only the legal actions and public rule functions.

On the command line: ``tricky`` (the default AI with both tricks) or ``tricky:BASE``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..rules.actions import Action, Entrench, Move, RailMove
from ..rules.context import Context
from ..rules.engine import Game, active_side, can_entrench, corridor_route
from ..rules.movement import board_for, enemy_mask, rail_reach
from ..rules.players import Player
from ..rules.state import ACTIVE, GameState, Unit

TRICKS = ("park", "raid")
MAX_TRIES = 3


@dataclass(frozen=True)
class TrickStep:
    """Where a trick unit stood at the start of one of its side's phases."""

    turn: int
    trick: str
    unit: str
    hex: int
    target: int  # -1: no target left
    on_target: bool


class TrickyPlayer:
    """Plays as `base`, but for the trick units (see the module's docstring)."""

    def __init__(self, base: Player, tricks: Sequence[str] = TRICKS):
        unknown = [t for t in tricks if t not in TRICKS]
        if unknown:
            raise ValueError(f"unknown trick(s) {', '.join(unknown)} (expected: {', '.join(TRICKS)})")
        self.base = base
        self.tricks = tuple(tricks)
        self.name = f"tricky:{getattr(base, 'name', 'default')}"
        self.units: dict[str, str | None] = {t: None for t in self.tricks}  # trick -> its unit id
        self.tries = {t: 0 for t in self.tricks}
        self.goals: dict[str, int] = {}  # trick -> the hex its unit is going for (or took)
        self.record: list[TrickStep] = []
        self._phase_key: tuple | None = None
        self._gen: Iterator[Action] | None = None

    # -- targets -----------------------------------------------------------------------------

    def _targets(self, ctx: Context, state: GameState, side: int, trick: str) -> list[int]:
        """Hexes the trick may go for now: held by an enemy, free of units, not water."""
        occupied = {u.hex for u in state.units.values() if u.status == ACTIVE and u.hex >= 0}
        enemy_held = (state.control >= 0) & (state.control != side)
        if trick == "park":
            c = ctx.corridor
            if c is None or ctx.side_index[c.side] == side:
                return []
            hexes = list(corridor_route(ctx, state).route)
        else:
            hexes = [h for _, h, _ in ctx.sources]
        return [h for h in dict.fromkeys(hexes) if enemy_held[h] and h not in occupied and not ctx.water[h]]

    def _pick(self, ctx: Context, state: GameState, side: int, trick: str, taken: set[str]) -> str | None:
        """The own unit nearest a target of the trick (not one already playing a trick, not a
        garrison of the side's plan), or None."""
        targets = self._targets(ctx, state, side, trick)
        if not targets:
            return None
        plan = ctx.scenario.ai.get(ctx.sides[side])
        hold = {ctx.place_hex[p] for p in plan.hold} if plan is not None else set()
        static = set(plan.static_types) if plan is not None else set()
        best, best_d = None, None
        for u in state.side_units(side):
            if not u.on_map or u.id in taken or u.hex in hold or u.type in static or u.puppet:
                continue
            d = int(min(ctx.hm.distances_from(u.hex)[targets]))
            if best_d is None or (d, u.strength, u.id) < best_d:
                best, best_d = u.id, (d, u.strength, u.id)
        return best

    # -- playing -----------------------------------------------------------------------------

    def choose(self, game: Game, actions: Sequence[Action]) -> Action:
        state = game.state
        key = (id(state), state.turn, state.active)
        if key != self._phase_key or self._gen is None:
            self._phase_key = key
            self._gen = self._phase(game, actions)
        for action in self._gen:
            return action
        return actions[-1]  # the phase's end

    def _phase(self, game: Game, first: Sequence[Action]) -> Iterator[Action]:
        ctx, state = game.ctx, game.state
        side = active_side(ctx, state)
        for trick in self.tricks:
            uid = self.units[trick]
            u = state.units.get(uid) if uid else None
            if (u is None or u.status != ACTIVE or not u.on_map) and self.tries[trick] < MAX_TRIES:
                uid = self._pick(ctx, state, side, trick, {v for v in self.units.values() if v})
                self.units[trick] = uid
                if uid is not None:
                    self.tries[trick] += 1
        tricksters = {v for v in self.units.values() if v}
        for trick in self.tricks:
            u = state.units.get(self.units[trick] or "")
            if u is None or u.status != ACTIVE or not u.on_map:
                continue
            if self.goals.get(trick) == u.hex:
                target = u.hex  # it took its target: it stays
            else:
                targets = self._targets(ctx, state, side, trick)
                dist = ctx.hm.distances_from(u.hex)
                target = min(targets, key=lambda h: (int(dist[h]), h)) if targets else -1
                self.goals[trick] = target
            self.record.append(TrickStep(state.turn, trick, u.id, u.hex, target, target == u.hex))
            if target >= 0 and target != u.hex:
                step = self._step_towards(game, u, target)
                if step is not None:
                    yield step
            elif target == u.hex and can_entrench(ctx, u):
                yield Entrench(u.id)
        while True:  # the base player for everything else
            action = self.base.choose(game, game.legal_actions())
            if isinstance(action, (Move, RailMove, Entrench)) and action.unit in tricksters:
                continue  # the trick units are not the base player's to move
            yield action

    def _step_towards(self, game: Game, u: Unit, target: int) -> Action | None:
        """The legal move (or rail move) that brings the unit nearest the target, if it gets nearer."""
        ctx, state = game.ctx, game.state
        dist = ctx.hm.distances_from(target)
        legal = game.legal_actions()
        options: list[tuple[int, int, Action]] = [(int(dist[ctx.hm.index(*m.to)]), 0, m) for m in legal.moves(u.id)]
        board = board_for(ctx, state)
        options += [(int(dist[j]), 1, RailMove(u.id, ctx.offsets[j])) for j in rail_reach(ctx, state, u, board)
                    if not enemy_mask(board, u.side, "occupied")[j]]
        if not options:
            return None
        d, _, best = min(options, key=lambda o: (o[0], o[1], str(o[2])))
        return best if d < int(dist[u.hex]) else None


__all__ = ["MAX_TRIES", "TRICKS", "TrickStep", "TrickyPlayer"]
