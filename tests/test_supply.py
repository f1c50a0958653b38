"""Tests for game.rules.supply: the three-stage supply trace, against hand-built maps and a
plain Dijkstra reference."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.hexmap import HexMap
from game.rules.supply import SupplyInputs, SupplyTrace, trace_supply

INF = math.inf


# ---------------------------------------------------------------------------- helpers


def plain_arrays(hm: HexMap) -> dict[str, np.ndarray]:
    """Everything passable and owned, no rail or road, every step costs 1, no interdiction."""
    n = hm.n
    return dict(
        neighbours=hm.neighbours,
        passable=np.ones(n, dtype=bool),
        owned=np.ones(n, dtype=bool),
        rail=np.zeros((n, 6), dtype=bool),
        road=np.zeros((n, 6), dtype=bool),
        cross_cost=np.ones((n, 6)),
        reach_factor=np.ones(n),
    )


def row_line(hm: HexMap, row: int, first: int, last: int) -> np.ndarray:
    """(n, 6) edge mask of a line along ``row`` from column ``first`` to ``last``."""
    return hm.edge_path_mask([hm.index(c, row) for c in range(first, last + 1)])


def entry_costs(hm: HexMap, terrain: np.ndarray) -> np.ndarray:
    """cross_cost where entering hex j costs terrain[j]."""
    nb = hm.neighbours
    return np.where(nb >= 0, terrain[np.where(nb >= 0, nb, 0)], INF)


def trace(arrays: dict, sources, *, rail: float = 0.0, road: float = 0.0,
          cross: float = 0.0) -> SupplyTrace:
    return trace_supply(SupplyInputs(**arrays), np.asarray(sources, dtype=np.int64),
                        rail_range=rail, road_range=road, cross_range=cross)


def finite_cols(dist: np.ndarray) -> list[int]:
    """Hex indices with a finite distance (on a one-row map these are the columns)."""
    return np.flatnonzero(np.isfinite(dist)).tolist()


# ---------------------------------------------------------------------------- the stages


def test_rail_carries_exactly_rail_range_then_stops():
    hm = HexMap(20, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 19)
    for rail_range in (5, 5.5):
        t = trace(a, [0], rail=rail_range)
        assert finite_cols(t.rail_dist) == [0, 1, 2, 3, 4, 5]
        assert t.rail_dist[:6].tolist() == [0, 1, 2, 3, 4, 5]
        assert np.isinf(t.rail_dist[6:]).all()
        assert t.railhead.tolist() == np.isfinite(t.rail_dist).tolist()
        assert t.supplied.tolist() == t.railhead.tolist()  # no road, cross range 0


def test_rail_from_a_source_in_the_middle_runs_both_ways_and_nearest_source_wins():
    hm = HexMap(20, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 19)
    t = trace(a, [10, 3], rail=4)
    assert finite_cols(t.rail_dist) == list(range(0, 15))
    assert t.rail_dist[6] == 3 and t.rail_dist[7] == 3 and t.rail_dist[14] == 4


def test_rail_range_zero_reaches_the_sources_only():
    hm = HexMap(8, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 7)
    t = trace(a, [2, 5])
    assert finite_cols(t.rail_dist) == [2, 5]
    assert finite_cols(t.cross_dist) == [2, 5]


def test_road_extends_from_the_end_of_rail():
    hm = HexMap(30, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 12)
    a["road"] = row_line(hm, 0, 0, 29)
    t = trace(a, [0], rail=5, road=3)
    assert finite_cols(t.rail_dist) == list(range(6))
    assert finite_cols(t.road_dist) == list(range(9))
    assert t.road_dist[:9].tolist() == [0, 0, 0, 0, 0, 0, 1, 2, 3]
    assert t.supplied.tolist() == np.isfinite(t.road_dist).tolist()


def test_road_needs_a_railhead_to_start_from():
    hm = HexMap(10, 1)
    a = plain_arrays(hm)
    a["road"] = row_line(hm, 0, 3, 9)  # the road starts at col 3; rail covers cols 0-1 only
    a["rail"] = row_line(hm, 0, 0, 1)
    t = trace(a, [0], rail=10, road=10)
    assert finite_cols(t.road_dist) == [0, 1]


def test_cross_country_extends_by_terrain_cost():
    hm = HexMap(30, 1)
    a = plain_arrays(hm)
    terrain = np.ones(hm.n)
    terrain[12] = 2.0  # a cost-2 hex eats 2 of the range
    a["cross_cost"] = entry_costs(hm, terrain)
    t = trace(a, [10], cross=4)
    assert finite_cols(t.cross_dist) == [6, 7, 8, 9, 10, 11, 12, 13]
    assert t.cross_dist[11:14].tolist() == [1, 3, 4]
    assert t.cross_dist[6:10].tolist() == [4, 3, 2, 1]


def test_all_three_stages_chain():
    hm = HexMap(30, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 29)
    a["road"] = row_line(hm, 0, 0, 29)
    t = trace(a, [0], rail=5, road=3, cross=2)
    assert finite_cols(t.rail_dist) == list(range(6))
    assert finite_cols(t.road_dist) == list(range(9))
    assert finite_cols(t.cross_dist) == list(range(11))
    assert t.cross_dist[8:11].tolist() == [0, 1, 2]
    assert t.supplied.tolist() == [c <= 10 for c in range(30)]


def test_cross_country_spreads_over_a_two_dimensional_map():
    hm = HexMap(11, 11)
    centre = hm.index(5, 5)
    t = trace(plain_arrays(hm), [centre], cross=3)
    steps = hm.distances_from(centre)
    assert t.cross_dist.tolist() == [float(s) if s <= 3 else INF for s in steps]


# ---------------------------------------------------------------------------- ownership, blocking


def test_rail_through_a_hex_not_owned_breaks_rail_but_road_and_cross_country_pass():
    hm = HexMap(20, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 19)
    a["owned"][4] = False  # still passable, e.g. an empty enemy-held hex
    t = trace(a, [0], rail=15)
    assert finite_cols(t.rail_dist) == [0, 1, 2, 3]
    assert not t.railhead[5:].any()  # the rail beyond is owned but cut off

    a["road"] = row_line(hm, 0, 0, 19)
    t = trace(a, [0], rail=15, road=3)
    assert finite_cols(t.road_dist) == [0, 1, 2, 3, 4, 5, 6]
    assert t.road_dist[4] == 1

    t = trace(a, [0], rail=15, cross=2)
    assert finite_cols(t.cross_dist) == [0, 1, 2, 3, 4, 5]


def test_an_impassable_hex_on_the_only_route_cuts_all_stages():
    hm = HexMap(20, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 19)
    a["road"] = row_line(hm, 0, 0, 19)
    a["passable"][4] = False  # an enemy unit on the line
    t = trace(a, [0], rail=50, road=50, cross=50)
    assert finite_cols(t.cross_dist) == [0, 1, 2, 3]
    assert t.supplied.tolist() == [c < 4 for c in range(20)]


def test_encirclement_leaves_the_pocket_unsupplied():
    hm = HexMap(15, 15)
    centre = hm.index(7, 7)
    steps = hm.distances_from(centre)
    a = plain_arrays(hm)
    a["passable"] = steps != 2  # a ring of enemy units and zones of control
    a["rail"] = row_line(hm, 7, 0, 14)  # a railway running into the pocket and out again
    a["road"] = a["rail"].copy()
    t = trace(a, [hm.index(0, 7)], rail=100, road=100, cross=100)
    pocket = steps <= 1
    assert not t.supplied[pocket].any()
    assert t.supplied.tolist() == (steps > 2).tolist()
    # The rail stops at the ring; beyond the pocket the line is reached only across country.
    row7_railheads = [hm.offset_of(i)[0] for i in np.flatnonzero(t.railhead)]
    assert row7_railheads == [0, 1, 2, 3, 4]


def test_impassable_terrain_blocks_cross_country():
    hm = HexMap(10, 1)
    a = plain_arrays(hm)
    terrain = np.ones(hm.n)
    terrain[5] = INF
    a["cross_cost"] = entry_costs(hm, terrain)
    t = trace(a, [0], cross=100)
    assert finite_cols(t.cross_dist) == [0, 1, 2, 3, 4]


# ---------------------------------------------------------------------------- interdiction, rivers


def test_interdiction_halves_the_rail_reach():
    hm = HexMap(30, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 29)
    assert finite_cols(trace(a, [0], rail=10).rail_dist) == list(range(11))

    a["reach_factor"][:] = 0.5  # the whole line interdicted
    t = trace(a, [0], rail=10)
    assert finite_cols(t.rail_dist) == list(range(6))
    assert t.rail_dist[:6].tolist() == [0, 2, 4, 6, 8, 10]

    a["reach_factor"][:] = 1.0
    a["reach_factor"][6:] = 0.5  # only beyond col 5: 5 at full reach, the other 5 halved
    t = trace(a, [0], rail=10)
    assert finite_cols(t.rail_dist) == list(range(8))
    assert t.rail_dist[5:8].tolist() == [5, 7, 9]


def test_a_reach_factor_of_zero_closes_the_hex():
    hm = HexMap(10, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 9)
    a["road"] = row_line(hm, 0, 0, 9)
    a["cross_cost"][:] = 0.0  # even a free step cannot enter it
    a["reach_factor"][4] = 0.0
    t = trace(a, [0], rail=50, road=50, cross=50)
    assert finite_cols(t.cross_dist) == [0, 1, 2, 3]
    t = trace(a, [4], rail=2, road=0, cross=0)  # a source inside still works
    assert finite_cols(t.rail_dist) == [2, 3, 4, 5, 6]
    assert t.rail_dist[5] == 1.0


def test_interdiction_scales_cross_country_costs():
    hm = HexMap(10, 1)
    a = plain_arrays(hm)
    terrain = np.full(hm.n, 2.0)
    a["cross_cost"] = entry_costs(hm, terrain)
    a["reach_factor"][2] = 0.5  # entering col 2 costs 4
    t = trace(a, [0], cross=6)
    assert t.cross_dist[:3].tolist() == [0, 2, 6]
    assert finite_cols(t.cross_dist) == [0, 1, 2]


def test_a_river_costs_when_crossed():
    hm = HexMap(10, 1)
    a = plain_arrays(hm)
    i, j = hm.index(4, 0), hm.index(5, 0)
    d = hm.direction_between(i, j)
    a["cross_cost"][i, d] += 2.0  # a river on the hexside between cols 4 and 5, both ways
    a["cross_cost"][j, (d + 3) % 6] += 2.0
    t = trace(a, [0], cross=6)
    assert finite_cols(t.cross_dist) == [0, 1, 2, 3, 4]
    t = trace(a, [0], cross=7)
    assert t.cross_dist[:6].tolist() == [0, 1, 2, 3, 4, 7]
    t = trace(a, [9], cross=7)  # the same river crossed the other way
    assert t.cross_dist[4:].tolist() == [7, 4, 3, 2, 1, 0]

    # A road across the river (a bridge) is not slowed by it.
    a["rail"] = row_line(hm, 0, 0, 0)
    a["road"] = row_line(hm, 0, 0, 9)
    t = trace(a, [0], road=6)
    assert t.road_dist[:7].tolist() == [0, 1, 2, 3, 4, 5, 6]


def test_the_trace_goes_round_a_river_when_that_is_cheaper():
    hm = HexMap(5, 3)
    a = plain_arrays(hm)
    i, j = hm.index(1, 1), hm.index(2, 1)
    d = hm.direction_between(i, j)
    a["cross_cost"][i, d] = a["cross_cost"][j, (d + 3) % 6] = 10.0
    t = trace(a, [i], cross=10)
    assert t.cross_dist[j] == 2.0  # round by the next row, not 10 straight across


# ---------------------------------------------------------------------------- sources


def test_a_source_not_owned_or_not_passable_supplies_nothing():
    hm = HexMap(10, 1)
    a = plain_arrays(hm)
    a["rail"] = row_line(hm, 0, 0, 9)
    a["road"] = row_line(hm, 0, 0, 9)
    ranges = dict(rail=5, road=5, cross=5)

    a["owned"][0] = False
    t = trace(a, [0], **ranges)
    assert not t.supplied.any() and not t.railhead.any()
    assert np.isinf(t.rail_dist).all() and np.isinf(t.road_dist).all()
    assert np.isinf(t.cross_dist).all()

    a["owned"][0] = True
    a["passable"][0] = False
    assert not trace(a, [0], **ranges).supplied.any()

    # Only the valid source counts.
    t = trace(a, [0, 9], **ranges)
    assert t.rail_dist[9] == 0 and t.supplied[0] == False  # noqa: E712


def test_no_sources_supply_nothing():
    hm = HexMap(6, 6)
    a = plain_arrays(hm)
    for sources in ([], np.array([], dtype=np.int64), np.empty(0)):
        t = trace_supply(SupplyInputs(**a), sources, rail_range=10, road_range=10,
                         cross_range=10)
        assert not t.supplied.any() and not t.railhead.any()
        assert np.isinf(t.cross_dist).all()


def test_duplicate_sources_are_harmless():
    hm = HexMap(6, 1)
    a = plain_arrays(hm)
    t = trace(a, [2, 2, 2], cross=1)
    assert finite_cols(t.cross_dist) == [1, 2, 3]


def test_a_source_off_the_rail_still_supplies_around_itself():
    hm = HexMap(7, 7)
    a = plain_arrays(hm)
    centre = hm.index(3, 3)
    t = trace(a, [centre], rail=10, road=10, cross=1)
    assert t.railhead.tolist() == [i == centre for i in range(hm.n)]
    assert t.supplied.sum() == 7


# ---------------------------------------------------------------------------- checks and aliasing


def test_bad_inputs_are_refused():
    hm = HexMap(4, 4)
    a = plain_arrays(hm)
    with pytest.raises(ValueError, match="cross_cost"):
        SupplyInputs(**{**a, "cross_cost": -np.ones((hm.n, 6))})
    with pytest.raises(ValueError, match="cross_cost"):
        SupplyInputs(**{**a, "cross_cost": np.full((hm.n, 6), np.nan)})
    with pytest.raises(ValueError, match="reach_factor"):
        SupplyInputs(**{**a, "reach_factor": np.full(hm.n, -0.5)})
    with pytest.raises(ValueError, match="reach_factor"):
        SupplyInputs(**{**a, "reach_factor": np.full(hm.n, np.nan)})
    with pytest.raises(ValueError, match="reach_factor"):
        SupplyInputs(**{**a, "reach_factor": np.full(hm.n, 1.5)})
    with pytest.raises(ValueError, match="passable"):
        SupplyInputs(**{**a, "passable": np.ones(hm.n + 1, dtype=bool)})
    with pytest.raises(ValueError, match="neighbours"):
        SupplyInputs(**{**a, "neighbours": hm.neighbours[:, :5]})
    with pytest.raises(ValueError, match="neighbours"):
        SupplyInputs(**{**a, "neighbours": hm.neighbours + 100})
    inp = SupplyInputs(**a)
    with pytest.raises(ValueError, match="source"):
        trace_supply(inp, [hm.n], rail_range=1, road_range=1, cross_range=1)
    with pytest.raises(ValueError, match="source"):
        trace_supply(inp, [-1], rail_range=1, road_range=1, cross_range=1)
    with pytest.raises(ValueError, match="source"):
        trace_supply(inp, [1.0], rail_range=1, road_range=1, cross_range=1)
    with pytest.raises(ValueError, match="road_range"):
        trace_supply(inp, [0], rail_range=1, road_range=-1, cross_range=1)
    with pytest.raises(ValueError, match="cross_range"):
        trace_supply(inp, [0], rail_range=1, road_range=1, cross_range=float("nan"))


def test_costs_are_converted_to_float_but_masks_must_be_bool():
    hm = HexMap(5, 1)
    a = plain_arrays(hm)
    a["cross_cost"] = np.ones((hm.n, 6), dtype=np.int64)
    a["reach_factor"] = [1, 1, 1, 1, 1]
    inp = SupplyInputs(**a)
    assert inp.cross_cost.dtype == np.float64 and inp.reach_factor.dtype == np.float64
    assert finite_cols(trace_supply(inp, [0], rail_range=0, road_range=0,
                                    cross_range=2).cross_dist) == [0, 1, 2]
    # An int8 edge code (0 none, 1 intact, 2 broken) must not be taken as "any non-zero".
    with pytest.raises(ValueError, match="rail must be a bool array"):
        SupplyInputs(**{**a, "rail": row_line(hm, 0, 0, 4).astype(np.int8) * 2})


def test_outputs_do_not_alias_or_modify_the_inputs():
    hm = HexMap(8, 8)
    a = random_arrays(hm, np.random.default_rng(7), symmetric=True)
    before = {k: v.copy() for k, v in a.items()}
    sources = np.array([0, 9, 30])
    sources_before = sources.copy()
    inp = SupplyInputs(**a)
    t = trace_supply(inp, sources, rail_range=8, road_range=3, cross_range=2.5)
    for k, v in a.items():
        assert np.array_equal(v, before[k]), k
        assert np.array_equal(getattr(inp, k), before[k]), k
    assert np.array_equal(sources, sources_before)
    outputs = [t.rail_dist, t.road_dist, t.cross_dist, t.supplied, t.railhead]
    for out in outputs:
        for v in [*a.values(), *(getattr(inp, k) for k in a), sources]:
            assert not np.shares_memory(out, v)
    for x in outputs:
        for y in outputs:
            assert x is y or not np.shares_memory(x, y)
    assert all(o.shape == (hm.n,) for o in outputs)


# ---------------------------------------------------------------------------- reference


def dijkstra(n: int, starts: list[int], steps: Callable[[int], Iterator[tuple[int, float]]],
             limit: float) -> list[float]:
    """Textbook multi-source Dijkstra; distances above ``limit`` are left at inf."""
    dist = [INF] * n
    heap: list[tuple[float, int]] = []
    for s in starts:
        if dist[s] > 0.0:
            dist[s] = 0.0
            heap.append((0.0, s))
    heapq.heapify(heap)
    while heap:
        d, i = heapq.heappop(heap)
        if d > dist[i]:
            continue
        for j, cost in steps(i):
            nd = d + cost
            if nd <= limit and nd < dist[j]:
                dist[j] = nd
                heapq.heappush(heap, (nd, j))
    return dist


def reference_trace(arrays: dict, sources: list[int], rail_range: float, road_range: float,
                    cross_range: float) -> tuple[list[float], list[float], list[float]]:
    """The rule written out directly, hex by hex, one Dijkstra per stage."""
    nb = arrays["neighbours"].tolist()
    passable = arrays["passable"].tolist()
    owned = arrays["owned"].tolist()
    rail = arrays["rail"].tolist()
    road = arrays["road"].tolist()
    cross_cost = arrays["cross_cost"].tolist()
    rf = arrays["reach_factor"].tolist()
    n = len(nb)

    # A reach factor of 0 makes every step into the hex infinitely costly: it is never entered.
    def rail_steps(i):
        for d in range(6):
            j = nb[i][d]
            if j >= 0 and rail[i][d] and passable[j] and owned[j] and rf[j] > 0:
                yield j, 1.0 / rf[j]

    def road_steps(i):
        for d in range(6):
            j = nb[i][d]
            if j >= 0 and road[i][d] and passable[j] and rf[j] > 0:
                yield j, 1.0 / rf[j]

    def cross_steps(i):
        for d in range(6):
            j = nb[i][d]
            if j >= 0 and passable[j] and rf[j] > 0 and cross_cost[i][d] < INF:
                yield j, cross_cost[i][d] / rf[j]

    starts = [s for s in sources if passable[s] and owned[s]]
    rail_dist = dijkstra(n, starts, rail_steps, rail_range)
    by_rail = [i for i in range(n) if rail_dist[i] < INF]
    road_dist = dijkstra(n, by_rail, road_steps, road_range)
    by_road = [i for i in range(n) if road_dist[i] < INF]
    cross_dist = dijkstra(n, by_road, cross_steps, cross_range)
    return rail_dist, road_dist, cross_dist


def random_edges(hm: HexMap, rng: np.random.Generator, p: float, symmetric: bool) -> np.ndarray:
    """Random (n, 6) hexside mask; symmetric across each hexside if asked."""
    mask = (rng.random((hm.n, 6)) < p) & (hm.neighbours >= 0)
    if not symmetric:
        return mask
    sym = np.zeros_like(mask)
    i, d = np.nonzero(mask[:, :3])
    sym[i, d] = True
    sym[hm.neighbours[i, d], d + 3] = True
    return sym


def random_arrays(hm: HexMap, rng: np.random.Generator, *, symmetric: bool,
                  p_blocked: float = 0.15, p_foreign: float = 0.2, p_line: float = 0.4,
                  p_interdicted: float = 0.3) -> dict[str, np.ndarray]:
    n = hm.n
    terrain = rng.choice([0.0, 0.5, 1.0, 2.0, 3.0, INF], size=n, p=[0.02, 0.1, 0.5, 0.2, 0.1, 0.08])
    cross_cost = entry_costs(hm, terrain)
    cross_cost = cross_cost + np.where(random_edges(hm, rng, 0.1, symmetric), 2.0, 0.0)  # rivers
    cross_cost = cross_cost + np.where(rng.random((n, 6)) < 0.1, rng.random((n, 6)), 0.0)
    factors = np.array([0.5, 1 / 3, 0.3, 0.7, 0.25, 0.0])
    reach_factor = np.where(rng.random(n) < p_interdicted, rng.choice(factors, n), 1.0)
    odd = rng.random(n) < 0.1
    reach_factor[odd] = rng.uniform(0.05, 1.0, int(odd.sum()))
    return dict(
        neighbours=hm.neighbours,
        passable=rng.random(n) >= p_blocked,
        owned=rng.random(n) >= p_foreign,
        rail=random_edges(hm, rng, p_line, symmetric),
        road=random_edges(hm, rng, p_line, symmetric),
        cross_cost=cross_cost,
        reach_factor=reach_factor,
    )


MAPS = {(o, c, r): HexMap(c, r, orientation=o)
        for o in ("pointy", "flat") for c, r in [(1, 1), (1, 5), (6, 1), (3, 4), (8, 8), (7, 8)]}
ranges = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 3.5, 6.0, 10.0, INF]),
                   st.floats(0.0, 12.0, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(sorted(MAPS)),
    seed=st.integers(0, 2**32 - 1),
    symmetric=st.booleans(),
    p_blocked=st.sampled_from([0.0, 0.1, 0.3]),
    p_foreign=st.sampled_from([0.0, 0.2, 0.5]),
    p_line=st.sampled_from([0.2, 0.5, 0.9]),
    n_sources=st.integers(0, 5),
    rail_range=ranges,
    road_range=ranges,
    cross_range=ranges,
)
def test_matches_reference_dijkstra_stage_by_stage(key, seed, symmetric, p_blocked, p_foreign,
                                                   p_line, n_sources, rail_range, road_range,
                                                   cross_range):
    hm = MAPS[key]
    rng = np.random.default_rng(seed)
    a = random_arrays(hm, rng, symmetric=symmetric, p_blocked=p_blocked, p_foreign=p_foreign,
                      p_line=p_line)
    sources = rng.integers(0, hm.n, n_sources)
    t = trace_supply(SupplyInputs(**a), sources, rail_range=rail_range, road_range=road_range,
                     cross_range=cross_range)
    expected = reference_trace(a, sources.tolist(), rail_range, road_range, cross_range)
    for name, got, want in zip(("rail", "road", "cross"),
                               (t.rail_dist, t.road_dist, t.cross_dist), expected):
        want = np.array(want)
        assert np.array_equal(np.isinf(got), np.isinf(want)), name
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=0, atol=1e-9, err_msg=name)
    assert np.array_equal(t.railhead, np.isfinite(t.rail_dist))
    assert np.array_equal(t.supplied, np.isfinite(t.cross_dist))
    # Each stage starts from everything the earlier ones reached.
    assert not (t.railhead & np.isinf(t.road_dist)).any()
    assert not (np.isfinite(t.road_dist) & np.isinf(t.cross_dist)).any()


def test_reference_agrees_on_a_bench_sized_map():
    """One larger case, with long rails, to exercise many relaxation rounds."""
    hm = HexMap(30, 30)
    rng = np.random.default_rng(3)
    a = random_arrays(hm, rng, symmetric=True, p_blocked=0.05, p_line=0.6)
    sources = rng.integers(0, hm.n, 4)
    t = trace_supply(SupplyInputs(**a), sources, rail_range=25, road_range=6, cross_range=3)
    expected = reference_trace(a, sources.tolist(), 25, 6, 3)
    for got, want in zip((t.rail_dist, t.road_dist, t.cross_dist), expected):
        np.testing.assert_allclose(got, np.array(want), rtol=0, atol=1e-9)
    assert t.rounds[0] > 5
