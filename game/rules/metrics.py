"""Per-turn metrics of a game: what the balance report's per-turn charts and the end screen's
charts show, sampled from the rules' state at the start of every turn (and at the end).

Read-only: nothing here changes a state or draws from a generator, so sampling a game does not
change it. Used by the balance records (:mod:`game.balance.record`) and the window's session
(:mod:`game.ui.session`), which both sit above the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .context import Context
from .state import GameState

if TYPE_CHECKING:
    from .engine import Game


class TurnSeries:
    """Samples the state at the start of every turn (and at the end) for the per-turn charts."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.last_turn = 0
        self.ended = False
        self.data: dict = {"date": [], "front": {s: [] for s in ctx.sides}, "supply": {s: [] for s in ctx.sides},
                           "tracks": {t: [] for t in ctx.tracks}, "losses": {s: [] for s in ctx.sides}}

    def __call__(self, game: Game, action=None) -> None:
        state = game.state
        if self.ended or (state.turn == self.last_turn and state.phase != "over"):
            return
        self.last_turn, self.ended = state.turn, state.phase == "over"
        self.sample(state)

    def sample(self, state: GameState) -> None:
        d = self.data
        d["date"].append(state.date.isoformat())
        for k, s in enumerate(self.ctx.sides):
            d["front"][s].append(int((state.control == k).sum()))
            units = state.side_units(k)
            d["supply"][s].append(round(sum(u.supplied for u in units) / len(units), 4) if units else 0.0)
            d["losses"][s].append(state.total_losses(s))
        for t in self.ctx.tracks:
            d["tracks"][t].append(round(state.tracks[t], 3))


@dataclass(frozen=True)
class TurnRecord:
    """The state of the game at the end of a turn (turn 0: the start), for the end screen's charts."""

    turn: int  # the turn just finished (0: the starting position)
    date: str  # ISO date of the sample: the first day of the next turn (or the day the game ended)
    losses: dict[str, int]  # side id -> men lost so far, all causes
    held: dict[str, int]  # side id -> hexes it controls
    corridor_held: int  # corridor places held by the corridor side (see corridor_places)
    corridor_total: int
    corridor_open: bool
    tracks: dict[str, float]  # track id -> value (prestige and the like)
    supply: dict[str, float] = field(default_factory=dict)  # side id -> share of its units in supply


def corridor_places(ctx: Context) -> list[str]:
    """The places that mark the corridor's progress: its start, the victory objectives of the
    corridor side (the cities along the drive, in the scenario's order), its end. Empty when the
    scenario has no corridor."""
    c = ctx.corridor
    if c is None:
        return []
    out: list[str] = []
    for pid in [*c.from_, *(o.place for o in ctx.scenario.victory.objectives if o.side == c.side), *c.to]:
        if pid not in out:
            out.append(pid)
    return out


def turn_record(ctx: Context, series: TurnSeries, turn: int, state: GameState) -> TurnRecord:
    """A record from the last sample of the balance report's per-turn series (the same figures as
    the balance charts), plus the corridor places held."""
    d = series.data
    places = corridor_places(ctx)
    held_places = 0
    if ctx.corridor is not None:
        side = ctx.side_index[ctx.corridor.side]
        held_places = sum(1 for p in places if state.owner.get(p) == side)
    return TurnRecord(
        turn=turn, date=d["date"][-1],
        losses={s: int(d["losses"][s][-1]) for s in ctx.sides},
        held={s: int(d["front"][s][-1]) for s in ctx.sides},
        corridor_held=held_places, corridor_total=len(places), corridor_open=bool(state.corridor_open),
        tracks={t: float(d["tracks"][t][-1]) for t in ctx.tracks},
        supply={s: float(d["supply"][s][-1]) for s in ctx.sides},
    )
