"""Time the whole-map array operations the rules engine is built on, on a ~5,000-hex map.

    python bench/bench_hexmap.py

Measures building the map, a neighbour gather over all hexes, hex distances from one hex,
rasterising a polygon and a river, and a multi-source breadth-first distance field done as
numpy frontier expansion (the shape of a supply trace).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.hexmap import HexMap, Projection  # noqa: E402

PROJ = Projection(lat_min=21.0, lat_max=31.0, lon_min=106.0, lon_max=116.0, hex_km=16.2)


def bfs_field(hm: HexMap, sources: np.ndarray, passable: np.ndarray) -> np.ndarray:
    """Hex steps from the nearest source through passable hexes (-1 unreachable)."""
    dist = np.full(hm.n, -1, dtype=np.int32)
    dist[sources] = 0
    frontier = sources
    step = 0
    nb = hm.neighbours
    while frontier.size:
        step += 1
        cand = nb[frontier].ravel()
        cand = cand[cand >= 0]
        cand = np.unique(cand[(dist[cand] < 0) & passable[cand]])
        dist[cand] = step
        frontier = cand
    return dist


def bench(name: str, fn, repeat: int = 50) -> None:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    print(f"{name:44s} median {statistics.median(times) * 1e3:8.3f} ms   best {min(times) * 1e3:8.3f} ms")


def main() -> None:
    hm = HexMap.from_projection(PROJ)
    rng = np.random.default_rng(0)
    field = rng.random(hm.n)
    passable = rng.random(hm.n) > 0.2
    sources = rng.choice(hm.n, 12, replace=False)
    polygon = [(30.0, 107.0), (29.0, 113.0), (24.0, 115.0), (22.0, 108.5), (26.0, 106.5)]
    river = [(float(a), float(b)) for a, b in zip(np.linspace(30.5, 21.5, 30), 106.5 + 9 * rng.random(30))]
    print(f"map: {hm.cols}x{hm.rows} = {hm.n} hexes of {PROJ.hex_km} km")
    bench("HexMap.from_projection", lambda: HexMap.from_projection(PROJ))
    bench("neighbour gather (sum of 6 neighbours)",
          lambda: np.where(hm.neighbours >= 0, field[hm.neighbours], 0).sum(1))
    bench("distances_from one hex", lambda: hm.distances_from(hm.n // 2))
    bench("polygon_mask (5 vertices)", lambda: hm.polygon_mask(polygon))
    bench("hexsides_crossed (30-point river)", lambda: hm.hexsides_crossed(river))
    bench("BFS distance field, 12 sources, 80% passable", lambda: bfs_field(hm, sources, passable))


if __name__ == "__main__":
    main()
