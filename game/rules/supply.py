"""Supply trace for one side on one turn (Unity of Command style).

Supply flows out of the side's *sources* (depots, ports, map-edge rail entries) in three
stages, each a shortest-path search with its own range:

1. **Rail.** From every source that is passable and held by the side (distance 0), along intact
   railway hexsides, entering only hexes that are passable *and* held by the side. The hexes
   reached within ``rail_range`` are the *railheads*; the sources themselves are railheads.
2. **Road.** From every railhead (distance 0), along road hexsides into passable hexes; ownership
   does not matter. Reach ``road_range``.
3. **Cross-country.** From every hex reached by rail or road (distance 0), into any passable
   neighbour, paying the terrain and river cost of the step. Reach ``cross_range``.

A hex is *supplied* when any stage reaches it. A step into hex ``j`` costs its base cost (1 by
rail or road, ``cross_cost[i, d]`` across country) divided by ``reach_factor[j]``: enemy air
interdiction sets the factor below 1 and so shortens the reach through the hexes it covers (a
factor of 0 shuts them: no stage can enter them, though a source inside one still supplies
itself and can trace out).
A hex is reached when its distance is at most the range (a step that lands exactly on the range
counts); distances beyond the range are reported as ``inf``, so "reached" means "finite".

What is passable (not water, not enemy-occupied, not in an enemy zone of control unless a friendly
unit stands there), which rail is intact, and what the terrain costs are decided by the engine,
which hands this module plain arrays (:class:`SupplyInputs`). An impassable hex stops all three
stages, so a ring of enemy units and their zones of control around a pocket cuts it off.

Implementation: each stage is a multi-source shortest-path search with a cut-off, done as a
frontier Bellman-Ford over the ``(n, 6)`` neighbour array. Each round looks only at the hexes next
to the ones whose distance fell in the previous round and recomputes their distance from all six
incoming edges (``dist[neighbour] + cost_in``); a hex that improves joins the next frontier. This
is exact for any non-negative costs (a hex may be lowered again in a later round; the search runs
until nothing changes), and the number of rounds is about the number of hexes in the longest
shortest path, so the ranges bound the work. Everything is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["SupplyInputs", "SupplyTrace", "trace_supply"]

#: ``OPPOSITE[d]`` is the direction pointing back along direction ``d``.
OPPOSITE = np.array([3, 4, 5, 0, 1, 2], dtype=np.intp)


@dataclass(frozen=True)
class SupplyInputs:
    """The map as one side sees it this turn, as arrays over ``n`` hexes.

    * ``neighbours``: ``(n, 6)`` int, ``-1`` off the map (as :attr:`game.hexmap.HexMap.neighbours`).
    * ``passable``: ``(n,)`` bool, the trace may enter this hex.
    * ``owned``: ``(n,)`` bool, the hex is held by this side (rail supply needs it).
    * ``rail``: ``(n, 6)`` bool, intact railway along hexside ``(i, d)``.
    * ``road``: ``(n, 6)`` bool, road along hexside ``(i, d)``.
    * ``cross_cost``: ``(n, 6)`` float >= 0, cost of tracing across country from ``i`` into
      ``neighbours[i, d]`` (terrain of the entered hex plus river on the hexside); ``inf`` means
      impossible.
    * ``reach_factor``: ``(n,)`` float in ``[0, 1]``; a step into hex ``j`` costs
      ``1 / reach_factor[j]`` times its base cost, so a factor of 0 (allowed by the scenario
      format's ``interdicted_range_factor``) closes the hex to the trace.

    Rail and road are expected to be symmetric; the step ``i -> neighbours[i, d]`` reads
    ``rail[i, d]`` / ``road[i, d]``. Entries pointing off the map are ignored. The masks must be
    bool arrays; numeric arrays are converted to float64 (without copying when they already are).
    A bad dtype, shape or value raises ``ValueError``. Nothing here or in :func:`trace_supply`
    writes to the arrays.
    """

    neighbours: NDArray[np.integer]
    passable: NDArray[np.bool_]
    owned: NDArray[np.bool_]
    rail: NDArray[np.bool_]
    road: NDArray[np.bool_]
    cross_cost: NDArray[np.float64]
    reach_factor: NDArray[np.float64]

    def __post_init__(self) -> None:
        neighbours = np.asarray(self.neighbours)
        if neighbours.ndim != 2 or neighbours.shape[1] != 6:
            raise ValueError(f"neighbours must have shape (n, 6), got {neighbours.shape}")
        if not np.issubdtype(neighbours.dtype, np.integer):
            raise ValueError(f"neighbours must be integers, got {neighbours.dtype}")
        n = neighbours.shape[0]
        if neighbours.size and (neighbours.min() < -1 or neighbours.max() >= n):
            raise ValueError(f"neighbours must lie in [-1, {n})")
        self._set("neighbours", neighbours)

        for name, dtype, shape in (
            ("passable", np.bool_, (n,)),
            ("owned", np.bool_, (n,)),
            ("rail", np.bool_, (n, 6)),
            ("road", np.bool_, (n, 6)),
            ("cross_cost", np.float64, (n, 6)),
            ("reach_factor", np.float64, (n,)),
        ):
            value = np.asarray(getattr(self, name))
            if dtype is np.bool_ and value.dtype != np.bool_:
                # Refused rather than cast: an int8 edge code of 2 (broken rail) would become True.
                raise ValueError(f"{name} must be a bool array, got {value.dtype}")
            value = value.astype(dtype, copy=False)
            if value.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {value.shape}")
            self._set(name, value)

        if np.isnan(self.cross_cost).any() or (self.cross_cost < 0).any():
            raise ValueError("cross_cost must be >= 0 (inf for impossible), not NaN")
        if not ((self.reach_factor >= 0) & (self.reach_factor <= 1)).all():
            raise ValueError("reach_factor must lie in [0, 1]")

    def _set(self, name: str, value: np.ndarray) -> None:
        object.__setattr__(self, name, value)  # normalising a frozen dataclass's own fields

    @property
    def n(self) -> int:
        """Number of hexes."""
        return self.neighbours.shape[0]


@dataclass(frozen=True)
class SupplyTrace:
    """Result of :func:`trace_supply`; fresh arrays over the ``n`` hexes.

    * ``rail_dist``: cost from the nearest valid source by rail, ``inf`` where not reached.
    * ``road_dist``: cost from the nearest railhead by road (0 on railheads), ``inf`` where not
      reached.
    * ``cross_dist``: cost from the nearest rail- or road-reached hex across country (0 on those),
      ``inf`` where not reached.
    * ``supplied``: reached by any stage (equal to ``isfinite(cross_dist)``).
    * ``railhead``: reached by the rail stage (equal to ``isfinite(rail_dist)``).
    * ``rounds``: relaxation rounds run by the rail, road and cross-country searches (a
      diagnostic for benchmarks; it has no meaning for the rules).
    """

    rail_dist: NDArray[np.float64]
    road_dist: NDArray[np.float64]
    cross_dist: NDArray[np.float64]
    supplied: NDArray[np.bool_]
    railhead: NDArray[np.bool_]
    rounds: tuple[int, int, int] = (0, 0, 0)


def trace_supply(
    inp: SupplyInputs,
    sources: ArrayLike,
    *,
    rail_range: float,
    road_range: float,
    cross_range: float,
) -> SupplyTrace:
    """Trace supply from ``sources`` (hex indices) in the three stages described above.

    Sources that are not passable or not owned supply nothing; duplicates are harmless. Ranges
    must be ``>= 0`` (``inf`` means unlimited). Raises ``ValueError`` on a source index off the
    map or a bad range.
    """
    n = inp.n
    src = _check_sources(sources, n)
    for name, value in (("rail_range", rail_range), ("road_range", road_range),
                        ("cross_range", cross_range)):
        if not value >= 0:  # also rejects NaN
            raise ValueError(f"{name} must be >= 0, got {value}")

    # Neighbour indices with the off-map -1 replaced by a sentinel hex n whose distance stays
    # inf, so gathers need no masking.
    nbs = inp.neighbours.astype(np.intp)
    nbs[nbs < 0] = n
    # The search pulls: hex i is reached from its neighbour j = nbs[i, d] by j's step in the
    # opposite direction, hexside (j, OPPOSITE[d]), at flat position back[i, d] of an (n, 6)
    # array. For an off-map neighbour the gathered value is meaningless (the index is clipped)
    # but harmless: it is added to the sentinel's infinite distance.
    back = nbs * 6 + OPPOSITE

    # A hex with reach factor 0 costs infinitely much to enter: it cannot be entered at all.
    enterable = inp.passable & (inp.reach_factor > 0)
    factor = np.where(enterable, inp.reach_factor, 1.0)  # no division by 0: those hexes are masked
    inverse = 1.0 / factor
    cross_cost = inp.cross_cost.take(back, mode="clip") / factor[:, None]
    cross_cost[~enterable] = np.inf
    # A rail or road step into hex i costs 1 / reach_factor[i], inf where i may not be entered.
    rail_step = np.where(enterable & inp.owned, inverse, np.inf)[:, None]
    road_step = np.where(enterable, inverse, np.inf)[:, None]
    rail_cost = np.where(inp.rail.take(back, mode="clip"), rail_step, np.inf)
    road_cost = np.where(inp.road.take(back, mode="clip"), road_step, np.inf)

    starts = src[inp.passable[src] & inp.owned[src]]
    rail_dist, rail_rounds = _shortest(nbs, rail_cost, starts, rail_range)
    railhead = np.isfinite(rail_dist)
    road_dist, road_rounds = _shortest(nbs, road_cost, np.flatnonzero(railhead), road_range)
    cross_dist, cross_rounds = _shortest(nbs, cross_cost, np.flatnonzero(np.isfinite(road_dist)),
                                         cross_range)
    return SupplyTrace(
        rail_dist=rail_dist,
        road_dist=road_dist,
        cross_dist=cross_dist,
        supplied=np.isfinite(cross_dist),
        railhead=railhead,
        rounds=(rail_rounds, road_rounds, cross_rounds),
    )


def _check_sources(sources: ArrayLike, n: int) -> NDArray[np.intp]:
    src = np.asarray(sources).ravel()
    if src.size == 0:
        return np.empty(0, dtype=np.intp)
    if not np.issubdtype(src.dtype, np.integer):
        raise ValueError(f"sources must be integer hex indices, got {src.dtype}")
    if src.min() < 0 or src.max() >= n:
        raise ValueError(f"source hex indices must lie in [0, {n})")
    return src.astype(np.intp)


def _shortest(
    nbs: NDArray[np.intp],
    cost_in: NDArray[np.float64],
    starts: NDArray[np.intp],
    limit: float,
) -> tuple[NDArray[np.float64], int]:
    """Multi-source shortest distances, ``inf`` beyond ``limit``, and the number of rounds.

    ``nbs`` is the neighbour array with off-map entries pointing at the sentinel hex ``n``;
    ``cost_in[i, d]`` (>= 0) is the cost of the step from ``nbs[i, d]`` into ``i``, ``inf``
    when that step is not allowed (any value where ``nbs[i, d]`` is the sentinel).
    """
    n = nbs.shape[0]
    dist = np.full(n + 1, np.inf)  # dist[n] is the sentinel's, always inf
    dist[starts] = 0.0
    frontier = starts
    touched = np.zeros(n + 1, dtype=bool)
    rounds = 0
    while frontier.size:
        rounds += 1
        # Only the neighbours of hexes that improved last round can improve now.
        touched[nbs[frontier]] = True
        touched[n] = False
        cand = np.flatnonzero(touched)
        touched[cand] = False
        best = (dist[nbs[cand]] + cost_in[cand]).min(axis=1)
        better = (best < dist[cand]) & (best <= limit)
        frontier = cand[better]
        dist[frontier] = best[better]
    return dist[:n], rounds
