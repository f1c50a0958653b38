"""Victory: the corridor, the score and the end of the game.

The corridor of ``victory.corridor`` is open when the corridor side *holds* (controls and supplies)
a connected path of hexes from one of its starts to one of its ends, stepping only across the
hexsides ``along`` allows (intact rail, roads, any hexside). :func:`corridor_open` decides it;
:func:`corridor_route` gives the route behind that decision and its gaps, for the AI and the map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .context import Context
from .ledger import log, turn_end
from .movement import Board
from .state import GameState
from .tracing import trace

if TYPE_CHECKING:
    from ..scenario import model

# ---------------------------------------------------------------------------------------------
# the corridor


def corridor_steps(ctx: Context, state: GameState, along: Sequence[str]) -> np.ndarray:
    """(n, 6) bool: the hexsides a corridor may step across (intact rail, road, or any)."""
    step = np.zeros((ctx.n, 6), dtype=bool)
    if "any" in along:
        step |= ctx.neighbours >= 0
    if "rail" in along:
        step |= state.rail == 1
    if "road" in along:
        step |= ctx.road
    return step


def corridor_held(ctx: Context, state: GameState, board: Board | None = None) -> np.ndarray:
    """(n,) bool: the hexes that count for the corridor now: controlled by the corridor side and
    in its supply. Empty (all False) when the scenario has no corridor."""
    c = ctx.corridor
    if c is None:
        return np.zeros(ctx.n, dtype=bool)
    side = ctx.side_index[c.side]
    return (state.control == side) & trace(ctx, state, side, board).supplied


def corridor_open(ctx: Context, state: GameState, held: np.ndarray, along: Sequence[str]) -> bool:
    """Is there a connected path of `held` hexes from a corridor start to a corridor end,
    stepping along rail edges ('rail'), road edges ('road') or any hexside ('any')?"""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order

    n = ctx.n
    start = [h for h in ctx.corridor_from if held[h]]
    if not start or not any(held[h] for h in ctx.corridor_to):
        return False  # a route joins a held start to a held end: without both there is none
    nb = ctx.neighbours
    safe = np.where(nb >= 0, nb, 0)
    i, d = np.nonzero(corridor_steps(ctx, state, along) & (nb >= 0) & held[:, None] & held[safe])
    # the held hexes joined along the corridor's hexsides, and a virtual source (node n) at the
    # starts; np.nonzero gives the rows in order, so the sparse rows are built directly
    cols = np.concatenate([nb[i, d], np.array(start, dtype=np.int32)]).astype(np.int32)
    indptr = np.zeros(n + 2, dtype=np.int32)
    np.cumsum(np.bincount(i, minlength=n), out=indptr[1:n + 1])
    indptr[n + 1] = cols.size
    graph = csr_matrix((np.ones(cols.size, dtype=np.int8), cols, indptr), shape=(n + 1, n + 1))
    reached = breadth_first_order(graph, n, directed=True, return_predecessors=False)
    return bool(np.isin(np.asarray(ctx.corridor_to), reached).any())


@dataclass(frozen=True)
class CorridorRoute:
    """The corridor's route for a set of held hexes, and what :func:`corridor_open` decides on them.

    ``route`` runs from a corridor start to a corridor end across the corridor's hexsides, the one
    with the fewest hexes not held (empty when the lines join no start to any end); ``gaps`` are
    its hexes not held. ``open`` is :func:`corridor_open` itself, and it is true exactly when the
    route exists and has no gaps."""

    route: tuple[int, ...]
    gaps: tuple[int, ...]
    open: bool


def corridor_route(ctx: Context, state: GameState, held: np.ndarray | None = None, *,
                   blocked: np.ndarray | None = None, blocked_cost: float = 1.0,
                   board: Board | None = None) -> CorridorRoute:
    """The corridor's route and its gaps (see :class:`CorridorRoute`).

    `held` defaults to what the rules count (:func:`corridor_held`). Entering a hex not held costs
    1, a held one next to nothing (so among routes with as few gaps, the shortest wins); a player
    may price some hexes it does not hold differently (`blocked`, e.g. hexes the enemy occupies,
    cost `blocked_cost` instead of 1), which changes which gaps the route takes, never whether it
    is open."""
    c = ctx.corridor
    if c is None:
        return CorridorRoute((), (), False)
    if held is None:
        held = corridor_held(ctx, state, board)
    is_open = corridor_open(ctx, state, held, c.along)
    step = corridor_steps(ctx, state, c.along) & (ctx.neighbours >= 0)
    route = _cheapest_route(ctx, step, held, blocked, blocked_cost, None)
    if is_open and any(not held[h] for h in route):
        # a held route so long that its tiny per-hex costs outweigh a gap: price held hexes so that
        # no route of held hexes can cost as much as one gap
        route = _cheapest_route(ctx, step, held, blocked, blocked_cost, 1.0 / (ctx.n + 1))
    gaps = tuple(h for h in route if not held[h])
    return CorridorRoute(route, gaps, is_open)


def _cheapest_route(ctx: Context, step: np.ndarray, held: np.ndarray, blocked: np.ndarray | None,
                    blocked_cost: float, eps: float | None) -> tuple[int, ...]:
    """The cheapest route from a start to an end. With `eps` None, held hexes cost 1e-3 and the
    search starts at every start hex at no cost (the route the AI has always planned on); with
    `eps`, held hexes cost `eps` and entering a start hex costs like any other (so an unheld start
    counts against its route)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = ctx.n
    enter = np.where(held, 0.0, 1.0)
    if blocked is not None:
        enter = np.where(~held & blocked, blocked_cost, enter)
    enter = enter + (1e-3 if eps is None else eps)
    i, d = np.nonzero(step)
    j = ctx.neighbours[i, d]
    if eps is None:
        graph = csr_matrix((enter[j], (i, j)), shape=(n, n))
        dist, pred, _src = dijkstra(graph, directed=True, indices=list(ctx.corridor_from), min_only=True,
                                    return_predecessors=True)
    else:
        starts = np.array(sorted(set(ctx.corridor_from)), dtype=np.int64)
        rows = np.concatenate([i, np.full(starts.size, n)])  # a virtual source, node n, enters each start
        cols = np.concatenate([j, starts])
        graph = csr_matrix((np.concatenate([enter[j], enter[starts]]), (rows, cols)), shape=(n + 1, n + 1))
        dist, pred = dijkstra(graph, directed=True, indices=n, return_predecessors=True)
    ends = [h for h in ctx.corridor_to if np.isfinite(dist[h])]
    if not ends:
        return ()
    h = min(ends, key=lambda e: dist[e])
    route = []
    while 0 <= h < n:
        route.append(int(h))
        h = pred[h]
    route.reverse()
    return tuple(route)


def corridor_check(ctx: Context, state: GameState) -> None:
    """At the end of a turn: is the corridor open, and since when (the end of the turn it opened)?"""
    c = ctx.corridor
    if c is None:
        return
    side = ctx.side_index[c.side]
    held = (state.control == side) & trace(ctx, state, side).supplied
    open_now = corridor_open(ctx, state, held, c.along)
    if open_now and state.corridor_opened is None:
        state.corridor_opened = turn_end(ctx, state).isoformat()  # traced at the end of the turn
        log(ctx, state, "corridor", f"the corridor is open: {ctx.scenario.meta.sides[side].name} holds and supplies "
                                    f"a route from {', '.join(ctx.places[p].name for p in c.from_)} to "
                                    f"{', '.join(ctx.places[p].name for p in c.to)}")
    state.corridor_open = bool(open_now)


# ---------------------------------------------------------------------------------------------
# the score and the end


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
            items.append((f"{theirs} enemy air base(s) taken before they were evacuated",
                          v.intact_air_base_points * theirs))
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


def finish(ctx: Context, state: GameState, sudden: model.SuddenDeath | None = None) -> None:
    v = ctx.scenario.victory
    sc = score(ctx, state)
    names = {s.id: s.name for s in ctx.scenario.meta.sides}
    winner: str | None  # None: a draw
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
        outcome = "a draw" if verdict == "draw" or winner is None else f"a {verdict} victory for {names[winner]}"
        why = f"{names[v.score_side]} scores {_points(sc.total)} ({where}): {outcome}."
    parts = [why]
    if sc.items:
        parts.append("Points: " + "; ".join(f"{t} ({'+' if p >= 0 else ''}{_points(p)})" for t, p in sc.items)
                     + ".")
    losses = "; ".join(
        f"{names[s]} {state.total_losses(s):,}"
        + (" (" + ", ".join(f"{c} {m:,}" for c, m in state.losses[s].items() if m) + ")"
           if state.total_losses(s) else "")
        for s in ctx.sides)
    parts.append(f"Losses: {losses}.")
    if ctx.corridor is not None:
        parts.append("The corridor "
                     + (f"opened on {state.corridor_opened}" if state.corridor_opened else "never opened")
                     + (" and is open at the end." if state.corridor_open else "." if not state.corridor_opened
                        else " but is cut at the end."))
    state.result = {"winner": winner, "verdict": verdict, "score": sc.total,
                    "reason": "sudden death" if sudden else "end", "explanation": " ".join(parts)}
    state.phase = "over"
    log(ctx, state, "victory", " ".join(parts))
