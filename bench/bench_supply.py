"""Time the supply trace on a ~5,000-hex map (target: 5 ms per call).

    python bench/bench_supply.py [--repeat N] [--seed S]

The map is ``HexMap(63, 81)`` (5,103 hexes) with a made-up but realistic network: 6 long railways
and 10 roads laid as random walks, terrain costs 1-3 with some impassable (inf) hexes, a few
river hexsides, the eastern fifth of the map held by the enemy, a few blocked hexes (enemy units)
near the front, and 10 sources on the railways. Ranges: rail 60, road 10, cross-country 4; then
the same with interdiction (reach factor 0.5) over the middle third of the rows, and a stress
case with longer ranges.

Prints, for each case, the median / best wall time of ``trace_supply`` (input checking included,
building :class:`SupplyInputs` excluded and timed separately), the relaxation rounds of the rail,
road and cross-country stages, and how many hexes each stage reached.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.hexmap import HexMap  # noqa: E402
from game.rules.supply import SupplyInputs, trace_supply  # noqa: E402

RANGES = dict(rail_range=60.0, road_range=10.0, cross_range=4.0)
LONG_RANGES = dict(rail_range=120.0, road_range=20.0, cross_range=12.0)


def random_walk(hm: HexMap, rng: np.random.Generator, start: int, length: int) -> list[int]:
    """A wiggly line of up to ``length`` edges from ``start`` that never revisits a hex.

    Each step goes in the line's general heading or one sixth either side of it, so the line
    wanders but keeps its course; at the map edge the heading swings round. It stops early only
    when boxed in.
    """
    path = [start]
    seen = {start}
    heading = int(rng.integers(6))
    for _ in range(length):
        options = []
        for swing in (0, 1, -1, 2, -2, 3):  # prefer the current course, then gentle swings
            course = (heading + swing) % 6
            for d, weight in ((course, 4.0), ((course + 1) % 6, 1.0), ((course - 1) % 6, 1.0)):
                nxt = int(hm.neighbours[path[-1], d])
                if nxt >= 0 and nxt not in seen:
                    options.append((nxt, weight))
            if options:
                heading = course
                break
        if not options:
            break
        p = np.array([w for _, w in options])
        nxt = options[int(rng.choice(len(options), p=p / p.sum()))][0]
        path.append(nxt)
        seen.add(nxt)
    return path


def make_case(hm: HexMap, rng: np.random.Generator, interdicted: bool):
    n = hm.n
    # Railways: the first starts anywhere, each later one branches off an earlier one; roads
    # leave from railway hexes (towns on the line) into the country.
    rail_paths = [random_walk(hm, rng, int(rng.integers(n)), int(rng.integers(60, 121)))]
    for _ in range(5):
        start = int(rng.choice(np.concatenate(rail_paths)))
        rail_paths.append(random_walk(hm, rng, start, int(rng.integers(60, 121))))
    rail_hexes_all = np.concatenate(rail_paths)
    road_paths = [random_walk(hm, rng, int(rng.choice(rail_hexes_all)), int(rng.integers(15, 41)))
                  for _ in range(10)]
    rail = np.zeros((n, 6), dtype=bool)
    road = np.zeros((n, 6), dtype=bool)
    for path in rail_paths:
        rail |= hm.edge_path_mask(path)
    for path in road_paths:
        road |= hm.edge_path_mask(path)

    # Terrain: 1 (plain), 2 (hills), 3 (mountain) or inf (3% lakes/impassable), paid on entry;
    # rivers add 2 on a few hundred hexsides (symmetrically).
    terrain = rng.choice([1.0, 2.0, 3.0], size=n, p=[0.6, 0.3, 0.1])
    terrain[rng.random(n) < 0.03] = np.inf
    terrain[np.isinf(terrain) & (rail | road).any(axis=1)] = 1.0  # lines do not cross lakes
    nb = hm.neighbours
    cross_cost = np.where(nb >= 0, terrain[np.where(nb >= 0, nb, 0)], np.inf)
    river = np.zeros((n, 6), dtype=bool)
    for _ in range(3):
        river |= hm.edge_path_mask(random_walk(hm, rng, int(rng.integers(n)), 40))  # a stand-in
    cross_cost = cross_cost + 2.0 * river

    owned = hm.col < int(hm.cols * 0.8)  # the east fifth is enemy-held
    front = np.flatnonzero(np.abs(hm.col - int(hm.cols * 0.8)) <= 2)
    blocked = rng.choice(front, 30, replace=False)
    # Enemy-held hexes are passable unless enemy units or their zones of control are there
    # (30% of them); 30 hexes near the front hold enemy units.
    passable = np.isfinite(terrain) & (owned | (rng.random(n) < 0.7))
    passable[blocked] = False

    reach_factor = np.ones(n)
    if interdicted:
        reach_factor[(hm.row >= hm.rows // 3) & (hm.row < 2 * hm.rows // 3)] = 0.5

    rail_hexes = np.flatnonzero(rail.any(axis=1) & owned & passable)
    sources = rng.choice(rail_hexes, 10, replace=False)
    arrays = dict(neighbours=hm.neighbours, passable=passable, owned=owned, rail=rail, road=road,
                  cross_cost=cross_cost, reach_factor=reach_factor)
    return arrays, sources


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def report(name: str, times: list[float]) -> None:
    median, best = statistics.median(times) * 1e3, min(times) * 1e3
    print(f"{name:44s} median {median:8.3f} ms   best {best:8.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    hm = HexMap(63, 81)
    print(f"map: {hm.cols}x{hm.rows} = {hm.n} hexes; {args.repeat} runs per timing")
    cases = (
        ("no interdiction", False, RANGES),
        ("interdiction (factor 0.5) on the middle third", True, RANGES),
        ("stress: no interdiction, ranges doubled/tripled", False, LONG_RANGES),
    )
    for label, interdicted, ranges in cases:
        rng = np.random.default_rng(args.seed)
        arrays, sources = make_case(hm, rng, interdicted)
        inp = SupplyInputs(**arrays)
        trace = trace_supply(inp, sources, **ranges)
        rail_reached = int(trace.railhead.sum())
        road_reached = int(np.isfinite(trace.road_dist).sum())
        supplied = int(trace.supplied.sum())
        print(f"\n{label}: {ranges}")
        print(f"  rail hexsides {int(arrays['rail'].sum()) // 2}, road hexsides "
              f"{int(arrays['road'].sum()) // 2}, sources {len(sources)}")
        print(f"  rounds rail/road/cross {trace.rounds} (total {sum(trace.rounds)}); reached: "
              f"rail {rail_reached}, rail+road {road_reached}, supplied {supplied}")
        report("  SupplyInputs(...) (checks)", timed(lambda: SupplyInputs(**arrays), args.repeat))
        report("  trace_supply", timed(lambda: trace_supply(inp, sources, **ranges), args.repeat))


if __name__ == "__main__":
    main()
