"""The rules' bookkeeping, shared by every phase: the log, losses booked to the ledger and the
tracks they drive, and the turn's calendar.

A loss is booked under a *cause*: one the rules book themselves (combat, attrition, surrender,
disarmed) or one the scenario declares under ``loss_causes`` (a region's ``loss_cause``).
"""

from __future__ import annotations

import datetime as dt

from ..names import LogKind, SideIndex
from .context import Context
from .state import DESTROYED, GameState, LogEntry, Unit


def log(ctx: Context, state: GameState, kind: LogKind, text: str, source: str = "") -> None:
    """Append an entry to the game's log, dated with the current turn."""
    state.log.append(LogEntry(state.turn, state.date.isoformat(), kind, text, source))


def log_region(ctx: Context, state: GameState, region_kind: str, text: str) -> None:
    """Append an entry a region's effects caused, logged under the region's kind (the scenario's)."""
    state.log.append(LogEntry(state.turn, state.date.isoformat(), region_kind, text, ""))


def turn_end(ctx: Context, state: GameState) -> dt.date:
    """The last day of the current turn."""
    return state.date + dt.timedelta(days=ctx.days_per_turn - 1)


def lose(ctx: Context, state: GameState, u: Unit, men: int, cause: str) -> int:
    """Take `men` from a unit, book them, disband it below the minimum strength. Returns men lost."""
    men = max(0, min(men, u.strength))
    if men == 0 and u.strength >= ctx.rules.min_strength:
        return 0
    u.strength -= men
    if 0 < u.strength < ctx.rules.min_strength:
        men += u.strength
        u.strength = 0
    book(ctx, state, u.side, cause, men)
    if u.strength == 0:
        u.status, u.hex = DESTROYED, -1
        log(ctx, state, "unit", f"{u.name} is destroyed ({cause})")
    return men


def book(ctx: Context, state: GameState, side: SideIndex, cause: str, men: int) -> None:
    """Book `men` lost by a side (index) under `cause`; tracks driven by losses move."""
    if men <= 0:
        return
    name = ctx.sides[side]
    state.losses[name][cause] = state.losses[name].get(cause, 0) + men
    for tid, track in ctx.tracks.items():
        for drv in track.drivers:
            if drv.on == "losses" and drv.side == name and drv.per_men:
                track_add(ctx, state, tid, drv.add * men / drv.per_men)


def track_add(ctx: Context, state: GameState, tid: str, amount: float) -> None:
    """Move a track by `amount`, within its bounds."""
    t = ctx.tracks[tid]
    state.tracks[tid] = float(min(t.max, max(t.min, state.tracks[tid] + amount)))
