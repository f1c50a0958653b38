"""How the cost of a turn grows with the map: synthetic theatres of 1x, 2x and 4x the hexes, with
the places and units growing with them (bench/make_big_scenario.py), played by the default AI.

    python bench/bench_growth.py [--scales 1,2,4] [--turns 6] [--seed 1]

For each scale: hexes, units, the median and worst seconds of a turn (both sides' phases, the AI
choosing and the engine applying, and the turn's supply, attrition and events) in a first game and
in the next game on the same loaded scenario (as a batch worker plays it), and at the end the
exponent b of a least-squares fit of time per turn = a * scale^b (hexes and units both grow as the
scale, and a unit's reach in hexes stays the same, so work linear in units x reach area is b = 1).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from game.ai import make_players  # noqa: E402
from game.rules.context import load_context  # noqa: E402
from game.rules.engine import Game  # noqa: E402
from make_big_scenario import make  # noqa: E402


def turn_times(path: Path, turns: int, seed: int, ctx=None) -> tuple[int, int, list[float]]:
    ctx = ctx or load_context(path)
    game = Game.new(ctx, seed)
    players = make_players(ctx, {}, seed)
    times: list[float] = []
    start, turn = time.perf_counter(), game.state.turn
    while not game.over and len(times) < turns:
        game.apply(players[game.side_to_move()].choose(game, game.legal_actions()))
        if game.state.turn != turn or game.over:
            now = time.perf_counter()
            times.append(now - start)
            start, turn = now, game.state.turn
    units = sum(1 for u in game.state.units.values() if u.on_map)
    return ctx.n, units, times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1,2,4")
    ap.add_argument("--turns", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    scales = [float(s) for s in args.scales.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'scale':>5} {'hexes':>7} {'units':>6} {'median turn':>12} {'worst turn':>11}")
        for scale in scales:
            path = make(Path(tmp) / f"growth_{scale:g}.yaml", scale=scale)
            ctx = load_context(path)
            hexes, units, times = turn_times(path, args.turns, args.seed, ctx)
            # a batch worker's next game on the same context: the scenario's derived data (the AI's
            # cost fields, air layers, searches seen before) is already there
            _, _, warm = turn_times(path, args.turns, args.seed + 1, ctx)
            med, warm_med = statistics.median(times), statistics.median(warm)
            rows.append((scale, med, warm_med))
            print(f"{scale:5g} {hexes:7,} {units:6} {med:11.3f}s {max(times):10.3f}s   "
                  f"next game: {warm_med:.3f}s median, {max(warm):.3f}s worst")
    if len(rows) > 1:
        for label, k in (("a first game", 1), ("a worker's next game", 2)):
            xs = [math.log(r[0]) for r in rows]
            ys = [math.log(r[k]) for r in rows]
            mx, my = statistics.fmean(xs), statistics.fmean(ys)
            b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
            print(f"{label}: time per turn ~ scale^{b:.2f} (hexes and units both x scale; 1.00 is linear)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
