"""AI speed on the Ichi-Go map: the time of an AI turn, of a whole AI-vs-AI game on one core, and
the throughput of a batch on every core.

    python bench/bench_ai.py [--games N] [--batch M] [--workers W] [--scenario FILE]

* AI turn: the wall time from the start of a side's phase to its end (the AI choosing and the
  engine applying every action), for each side, over N games; median and worst.
* Whole game: N seeded games one after another in this process (one core), default profiles;
  median, and games per hour per core.
* Batch: M games on W worker processes (default: every core) through the balance runner's own
  job function; wall time, games per hour, and the time 1,000 games would take.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.ai import make_players
from game.rules.context import load_context
from game.rules.engine import Game

ICHIGO = Path(__file__).resolve().parent.parent / "scenarios" / "ichigo_1944.yaml"
_CTX = {}


def timed_game(ctx, seed: int) -> tuple[float, dict[str, list[float]]]:
    """(game seconds, phase seconds per side) for one AI-vs-AI game."""
    game = Game.new(ctx, seed)
    players = make_players(ctx, {}, seed)
    phases: dict[str, list[float]] = {s: [] for s in ctx.sides}
    start = time.perf_counter()
    key = (game.state.turn, game.state.active)
    side, phase_start = game.side_to_move(), start
    while not game.over:
        game.apply(players[side].choose(game, game.legal_actions()))
        now_key = (game.state.turn, game.state.active)
        if game.over or now_key != key:
            now = time.perf_counter()
            phases[side].append(now - phase_start)  # includes the turn's supply, attrition and events
            if game.over:
                break
            key, side, phase_start = now_key, game.side_to_move(), now
    return time.perf_counter() - start, phases


def _batch_job(args: tuple[str, int]) -> float:
    path, seed = args
    if path not in _CTX:
        _CTX[path] = load_context(path)
    t = time.perf_counter()
    game = Game.new(_CTX[path], seed)
    players = make_players(_CTX[path], {}, seed)
    while not game.over:
        game.apply(players[game.side_to_move()].choose(game, game.legal_actions()))
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=10)
    parser.add_argument("--batch", type=int, default=40)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--scenario", default=str(ICHIGO))
    args = parser.parse_args()
    ctx = load_context(args.scenario)
    print(f"scenario {ctx.scenario.meta.id}: {ctx.n} hexes, {len(ctx.scenario.units)} starting units, "
          f"{ctx.turns} turns; default AI profiles")
    timed_game(ctx, 10_000)  # warm the per-scenario caches (cost fields), as a worker would
    games, phases = [], {s: [] for s in ctx.sides}
    for seed in range(args.games):
        seconds, per = timed_game(ctx, seed)
        games.append(seconds)
        for s in ctx.sides:
            phases[s] += per[s]
    for s in ctx.sides:
        p = sorted(phases[s])
        print(f"AI turn ({s:6s}): median {statistics.median(p) * 1000:6.1f} ms, "
              f"95% {p[int(0.95 * (len(p) - 1))] * 1000:6.1f} ms, "
              f"worst {p[-1] * 1000:6.1f} ms over {len(p)} turns")
    med = statistics.median(games)
    print(f"whole game, one core: median {med:.2f} s (best {min(games):.2f}, worst {max(games):.2f}) over {args.games} "
          f"games = {3600 / med:,.0f} games/hour/core")
    if args.batch:
        start = time.perf_counter()
        with ProcessPoolExecutor(args.workers) as pool:
            list(pool.map(_batch_job, [(args.scenario, 20_000 + k) for k in range(args.batch)]))
        wall = time.perf_counter() - start
        rate = args.batch / wall
        print(f"batch: {args.batch} games on {args.workers} workers in {wall:.1f} s = {rate * 3600:,.0f} games/hour; "
              f"1,000 games would take {1000 / rate / 60:.1f} min")


if __name__ == "__main__":
    main()
