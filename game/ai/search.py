"""The search player: the operational AI with lookahead over a portfolio of plans.

Method (portfolio search with rollouts, after Churchill and Buro's portfolio greedy search and
Barriga, Stanescu and Buro's puppet search for RTS games, where a side moves many units a
turn and a search over single actions does not reach far): a side's phase is a plan, and the
candidate plans are the operational AI itself under a few variations of its profile (the
profile's ``search_portfolio``: bolder or more careful attacks, standing or giving ground).
Before its phase the player plays each plan out on copies of the game with the real engine:
its own phase, then ``search_replies`` phases of the enemy played by the enemy's default AI,
and scores the position it reaches (:func:`evaluate`). It then plays the phase with the plan
that scored best on average.

* **No clairvoyance.** A copy rolls its own dice: its seed is drawn from the player's
  generator, never the game's, so the search cannot see the real rolls. Every plan is played
  on the same simulated dice (common random numbers), so plans are compared on the same luck.
* **Anytime.** It simulates plans round-robin, one replicate of every plan after another, until
  ``search_rollouts`` simulations are done or ``search_seconds`` have passed (if set), and
  chooses among the plans with the most replicates. With a rollout budget only, a game is the
  same on every machine; a time budget makes it depend on the machine's speed. A replay does
  not: a game replays from its seed and actions.
* **Cheap where nothing is at stake.** A plan whose own phase, on the same dice, takes the same
  actions as a plan already simulated reaches the same position: it is scored without playing
  the enemy's reply again.

The evaluation has no scenario-specific terms: the scenario's score (its objectives, corridor,
air bases, losses and tracks) from this side's view, plus ``search_force_weight`` times the log
of the ratio of own to enemy strength on the map, plus ``search_supply_weight`` times the share
of own units in supply; a finished game adds ``search_result_points`` for a win (less for a loss).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..rules.actions import Action
from ..rules.engine import Game, active_side, score
from ..rules.state import GameState
from .operational import OperationalAI
from .portfolio import scaled_settings
from .profile import load_profile

if TYPE_CHECKING:
    from ..rules.context import Context
    from ..rules.players import Player
    from .profile_model import Profile


def plan_profiles(profile: Profile) -> list[Profile]:
    """The plans the search compares: the profile itself first, then each entry of its
    ``search_portfolio`` (numeric settings scaled by their factors; whole-number settings
    rounded). The factors were checked against the settings' bounds when the profile loaded."""
    plans = [profile]
    for k, scales in enumerate(profile.search_portfolio):
        update = scaled_settings({key: getattr(profile, key) for key in scales}, scales)
        plans.append(profile.model_copy(update={**update, "name": f"{profile.name}#{k + 1}"}))
    return plans


def evaluate(ctx: Context, state: GameState, side: int, profile: Profile) -> float:
    """How good `state` is for `side`: the scenario's score from its view, the force ratio, its
    supply, and the result of a finished game (see the module's docstring)."""
    v = ctx.scenario.victory
    me_scores = ctx.side_index[v.score_side] == side
    value = score(ctx, state).total * (1.0 if me_scores else -1.0)
    own = enemy = 0
    supplied = units = 0
    for u in state.units.values():
        if not u.on_map:
            continue
        if u.side == side:
            own += u.strength
            units += 1
            supplied += bool(u.supplied)
        else:
            enemy += u.strength
    value += profile.search_force_weight * math.log((own + 1000) / (enemy + 1000))
    if units:
        value += profile.search_supply_weight * supplied / units
    if state.result is not None and state.result.get("winner") is not None:
        won = state.result["winner"] == ctx.sides[side]
        value += profile.search_result_points * (1.0 if won else -1.0)
    return value


class SearchAI:
    """The operational AI choosing its plan for each phase by simulating the candidates."""

    def __init__(self, profile: Profile, seed: int = 0, seconds: float | None = None,
                 rollouts: int | None = None):
        self.profile = profile
        self.name = f"search:{profile.name}"
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.plans = plan_profiles(profile)
        self.seconds = profile.search_seconds if seconds is None else seconds
        self.rollouts = profile.search_rollouts if rollouts is None else rollouts
        self._key: tuple | None = None
        self._follow: OperationalAI | None = None
        self._reply_profiles: dict[int, Profile] | None = None  # each side's default profile, loaded once
        self.last: dict | None = None  # what the last search found (for the bench and the tests)

    def choose(self, game: Game, actions: Sequence[Action]) -> Action:
        state = game.state
        key = (id(state), state.turn, state.active)
        if key != self._key or self._follow is None:
            self._key = key
            k = self._search(game)
            self._follow = OperationalAI(self.plans[k], seed=int(self.rng.integers(2**62)))
        return self._follow.choose(game, actions)

    # -- the search ----------------------------------------------------------------------------------

    def _search(self, game: Game) -> int:
        """The index of the plan to play this phase."""
        start = time.perf_counter()
        n = len(self.plans)
        if n == 1 or self.rollouts < 2:
            self.last = {"plans": n, "rollouts": 0, "chosen": 0, "values": []}
            return 0
        side = active_side(game.ctx, game.state)
        totals = [0.0] * n
        done = [0] * n
        rollouts = 0
        replicate = 0
        while rollouts < self.rollouts:
            dice = int(self.rng.integers(2**62))
            seen: dict[tuple, float] = {}  # own actions on these dice -> the value they led to
            for k in range(n):
                if rollouts >= self.rollouts or (self.seconds and time.perf_counter() - start > self.seconds
                                                 and min(done) > 0):
                    break
                totals[k] += self._rollout(game, k, side, dice, seen)
                done[k] += 1
                rollouts += 1
            replicate += 1
            if self.seconds and time.perf_counter() - start > self.seconds and min(done) > 0:
                break
        most = max(done)
        means = [totals[k] / done[k] if done[k] == most else -math.inf for k in range(n)]
        chosen = max(range(n), key=lambda k: (means[k], -k))
        self.last = {"plans": n, "rollouts": rollouts, "replicates": replicate, "chosen": chosen,
                     "values": means, "seconds": time.perf_counter() - start}
        return chosen

    def _rollout(self, game: Game, k: int, side: int, dice: int, seen: dict[tuple, float]) -> float:
        """Play plan `k`'s phase and the enemy's replies on a copy of the game with its own dice;
        the value of the position reached."""
        sim = game.clone()
        state = sim.state
        if state.rng is not None:
            state.rng = np.random.default_rng(dice)
        else:
            state.seed = dice
        ctx = sim.ctx
        me = OperationalAI(self.plans[k], seed=dice)
        mine: list[Action] = []
        key = (state.turn, state.active)
        while not sim.over and (state.turn, state.active) == key:
            action = me.choose(sim, sim.legal_actions())
            mine.append(action)
            sim.apply(action)
            _guard(len(mine))
        signature = tuple(mine)
        if signature in seen:
            return seen[signature]
        replies = self._replies(ctx, dice)
        left = self.profile.search_replies
        while not sim.over and left > 0:
            key = (state.turn, state.active)
            mover = active_side(ctx, state)
            player = me if mover == side else replies[mover]
            taken = 0
            while not sim.over and (state.turn, state.active) == key:
                sim.apply(player.choose(sim, sim.legal_actions()))
                taken += 1
                _guard(taken)
            if mover != side:
                left -= 1
        value = evaluate(ctx, state, side, self.profile)
        seen[signature] = value
        return value

    def _replies(self, ctx: Context, dice: int) -> dict[int, Player]:
        """The enemy's players in a simulation: each side's default AI (the search does not know
        who its opponent is; it assumes a competent one)."""
        if self._reply_profiles is None:
            from . import make_player

            self._reply_profiles = {}
            for k, s in enumerate(ctx.sides):
                player = make_player(ctx, s, "default", 0)
                # a scenario whose plan names a searching profile: its reply plays without search
                self._reply_profiles[k] = getattr(player, "profile", None) or load_profile("default")
        return {k: OperationalAI(p, seed=dice + k) for k, p in self._reply_profiles.items()}


#: the most actions a simulated phase may take (a player that never ends its phase is a bug, and
#: the search must not hang on it)
MAX_PHASE_ACTIONS = 20_000


def _guard(taken: int) -> None:
    if taken > MAX_PHASE_ACTIONS:
        raise RuntimeError(f"a simulated phase did not end within {MAX_PHASE_ACTIONS} actions")
