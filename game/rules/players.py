"""Built-in players for headless games and tests (the AI issue brings the real opponents).

Every player follows one protocol: given the game (read-only) and its legal actions, return one
of them. A player has its own random generator and never draws from the game's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..names import SideIndex
from .actions import Action, Attack, EndPhase, Entrench, Move, RailMove
from .engine import Game, preview
from .state import GameState, keyed_uniform


class Player(Protocol):
    name: str

    def choose(self, game: Game, actions: Sequence[Action]) -> Action: ...


class RandomPlayer:
    """Uniform over the legal actions, ending its phase with probability `end_bias` at each step."""

    name = "random"

    def __init__(self, seed: int = 0, end_bias: float = 0.1):
        self.rng = np.random.default_rng(seed)
        self.end_bias = end_bias

    def choose(self, game: Game, actions: Sequence[Action]) -> Action:
        if self.rng.random() < self.end_bias or len(actions) == 1:
            return actions[-1]
        return actions[int(self.rng.integers(len(actions) - 1))]


class SimplePlayer:
    """A plain greedy player: attack when the expected losses favour it, otherwise advance each
    unit towards the nearest place it does not hold (or hold still), then end the phase."""

    name = "simple"

    def __init__(self, seed: int = 0, min_ratio: float = 1.5):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.min_ratio = min_ratio
        self._done: set[tuple[int, str]] = set()  # (turn and phase, unit) already considered for a move
        self._vital: tuple[object, dict[str, set[int]]] | None = None  # (context, vital hexes per side)

    def _garrisons(self, game: Game, side: SideIndex) -> set[int]:
        """Vital hexes the side holds now (computed once per scenario, filtered by owner)."""
        if self._vital is None or self._vital[0] is not game.ctx:
            self._vital = (game.ctx, _vital_places(game.ctx))
        name = game.ctx.sides[side]
        return {h for h in self._vital[1][name] if game.state.control[h] == side}

    def _chance(self, state: GameState, unit_id: str) -> float:
        """The player's draw for a unit this phase: keyed by the turn, the phase and the unit when
        the game's dice are keyed (so a change elsewhere leaves it alone), else its own stream."""
        if state.dice == "stream":
            return float(self.rng.random())
        return keyed_uniform(self.seed, state.turn, state.active, unit_id)

    def choose(self, game: Game, actions: Sequence[Action]) -> Action:
        ctx, state = game.ctx, game.state
        best, best_value = None, 0.0
        for a in actions:
            if isinstance(a, Attack):
                p = preview(ctx, state, a)
                value = p.expected_defender_loss - self.min_ratio * p.expected_attacker_loss
                if value > best_value:
                    best, best_value = a, value
        if best is not None:
            return best
        side = ctx.side_index[game.side_to_move()]
        goals = [h for pid, h in ctx.place_hex.items() if state.owner.get(pid) != side]
        keep = self._garrisons(game, side)
        moves: dict[str, list[Move | RailMove]] = {}
        for a in actions:
            if isinstance(a, (Move, RailMove)):
                moves.setdefault(a.unit, []).append(a)
        for unit_id in sorted(moves):
            key = (state.turn * 10 + state.active, unit_id)
            if key in self._done:
                continue
            self._done.add(key)
            u = state.units[unit_id]
            if not goals or (u.hex in keep and len([x for x in state.units_at(u.hex) if x.side == side]) <= 1):
                continue  # the last unit of a garrison stays
            here = ctx.hm.distances_from(u.hex)
            goal = min(goals, key=lambda h: (here[h], h))
            to_goal = ctx.hm.distances_from(goal)
            options = moves[unit_id]
            pick = min(options, key=lambda m: (to_goal[ctx.hm.index(*m.to)], str(m)))
            if to_goal[ctx.hm.index(*pick.to)] < to_goal[u.hex]:
                return pick
        for a in actions:
            if isinstance(a, Entrench) and self._chance(state, a.unit) < 0.3:
                return a
        return EndPhase()


def _vital_places(ctx) -> dict[str, set[int]]:
    """Per side, the hexes of places it must not leave empty: its capitals, places whose capture
    by the enemy is sudden death, and objectives the enemy scores for."""
    v = ctx.scenario.victory
    out: dict[str, set[int]] = {s: set() for s in ctx.sides}
    for p in ctx.scenario.map.places:
        if p.capital and p.owner:
            out[p.owner].add(ctx.place_hex[p.id])
    for sd in v.sudden_death:
        for s in ctx.sides:
            if s != sd.captured_by:
                out[s].add(ctx.place_hex[sd.place])
    for o in v.objectives:
        for s in ctx.sides:
            if s != o.side:
                out[s].add(ctx.place_hex[o.place])
    return out


PLAYERS: dict[str, type[RandomPlayer] | type[SimplePlayer]] = {"random": RandomPlayer, "simple": SimplePlayer}


def play_game(game: Game, players: dict[str, Player], *, max_actions: int = 200_000,
              on_step=None) -> list[Action]:
    """Play to the end; returns the actions taken. `on_step(game, action)` after every action."""
    taken: list[Action] = []
    while not game.over:
        actions = game.legal_actions()
        action = players[game.side_to_move()].choose(game, actions)
        game.apply(action)
        taken.append(action)
        if on_step is not None:
            on_step(game, action)
        if len(taken) >= max_actions:
            raise RuntimeError(f"the game did not end within {max_actions} actions")
    return taken
