"""One headless game as a record: the players, the verdict, the dates, the losses, every history
benchmark and a per-turn series, all JSON-safe. The balance runner, the statistics and the report
read nothing else.

A record (a ``dict``)::

    variant, scenario, seed, players {side: profile}
    winner (side id or None), verdict, score, reason ('end' | 'sudden death'), explanation
    turns, final_date, actions, seconds, state_hash
    corridor_opened (ISO date or None), corridor_open_at_end
    captures {place id: {date, side}}        first change of hands of each place
    losses {side: {cause: men}}, loss_totals {side: men}
    air_bases_destroyed, tracks {track id: value}
    benchmarks {history id: value}           ISO date or None (capture, event, corridor, held:
                                             the date the place was lost), a number (losses, ratio)
    per_turn {date: [ISO], front: {side: [hexes held]}, supply: {side: [share of units supplied]},
              tracks: {track id: [value]}, losses: {side: [men lost so far]}}

The seed alone replays the game: the players' generators are derived from it (see
:func:`game.ai.make_players`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from ..rules.context import Context
from ..rules.engine import Dice, Game
from ..rules.metrics import TurnSeries
from ..rules.players import play_game
from ..rules.state import GameState


def benchmark_values(ctx: Context, state: GameState) -> dict[str, object]:
    """The value of every history benchmark in this game (None: it did not happen)."""
    out: dict[str, object] = {}
    marks = ctx.scenario.history
    for h in marks:
        # validation gives a capture or held mark its place, an event mark its event and a losses
        # mark its side
        if h.kind in ("capture", "held"):
            assert h.place is not None
            side = h.side if h.kind == "capture" else _other(ctx, h.side)
            out[h.id] = _first_capture(ctx, state, h.place, side)
        elif h.kind == "event":
            assert h.event is not None
            out[h.id] = state.fired.get(h.event)
        elif h.kind == "corridor":
            out[h.id] = state.corridor_opened
        elif h.kind == "losses":
            assert h.side is not None
            ledger = state.losses[h.side]
            out[h.id] = sum(m for c, m in ledger.items() if not h.causes or c in h.causes)
    for h in marks:
        if h.kind == "ratio":
            num, den = (out.get(x) for x in h.of)
            if isinstance(num, (int, float)) and isinstance(den, (int, float)) and den:
                out[h.id] = round(num / den, 3)
            else:
                out[h.id] = None
    return out


def _other(ctx: Context, side: str | None) -> str | None:
    others = [s for s in ctx.sides if s != side]
    return others[0] if len(others) == 1 else None


def _first_capture(ctx: Context, state: GameState, place: str, side: str | None) -> str | None:
    """The date `side` first took `place` (any side when None), from the capture log."""
    cap = state.captures.get(place)
    if cap is None:
        return None
    if side is None or cap["side"] == side:
        return cap["date"]
    # the first capture was by another side; look for a later one in the log
    name = ctx.places[place].name
    who = ctx.scenario.meta.sides[ctx.side_index[side]].name
    for e in state.log:
        if e.kind == "capture" and e.text == f"{who} takes {name}":
            return e.date
    return None


def game_record(game: Game, *, variant: str, players: dict[str, str], seconds: float,
                actions: int, per_turn: dict | None = None) -> dict:
    """The record of a finished game."""
    ctx, state = game.ctx, game.state
    result = state.result or {}
    final = state.date if result.get("reason") == "sudden death" else \
        state.date + dt.timedelta(days=ctx.days_per_turn - 1)
    return {
        "variant": variant,
        "scenario": ctx.scenario.meta.id,
        "seed": state.seed,
        "dice": state.dice,
        "players": dict(players),
        "winner": result.get("winner"),
        "verdict": result.get("verdict"),
        "score": result.get("score"),
        "reason": result.get("reason"),
        "explanation": result.get("explanation"),
        "turns": state.turn,
        "final_date": final.isoformat(),
        "actions": actions,
        "seconds": round(seconds, 4),
        "state_hash": state.state_hash(),
        "corridor_opened": state.corridor_opened,
        "corridor_open_at_end": state.corridor_open,
        "captures": {p: dict(c) for p, c in state.captures.items()},
        "losses": {s: dict(c) for s, c in state.losses.items()},
        "loss_totals": {s: state.total_losses(s) for s in ctx.sides},
        "air_bases_destroyed": len(state.air_destroyed),
        "tracks": {t: round(v, 3) for t, v in state.tracks.items()},
        "benchmarks": benchmark_values(ctx, state),
        "per_turn": per_turn or {},
    }


def play_recorded(ctx: Context, seed: int, profiles: dict[str, str], *, variant: str = "base",
                  on_action: Callable | None = None, dice: Dice = "keyed") -> tuple[dict, list]:
    """Play one AI-vs-AI game from `seed` with the named player profiles; (record, actions).

    `on_action(game, action)` is called after every action (the runner uses it to keep the
    actions of a game that crashes)."""
    from ..ai import make_players

    game = Game.new(ctx, seed, dice)
    players = make_players(ctx, profiles, seed)
    series = TurnSeries(ctx)
    series(game)

    def step(g, a):
        series(g, a)
        if on_action is not None:
            on_action(g, a)

    start = time.perf_counter()
    taken = play_game(game, players, on_step=step)
    seconds = time.perf_counter() - start
    return game_record(game, variant=variant, players=profiles, seconds=seconds, actions=len(taken),
                       per_turn=series.data), taken
