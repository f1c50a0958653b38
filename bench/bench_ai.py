"""AI speed on the Ichi-Go map: the time of an AI turn, of a whole AI-vs-AI game on one core, and
the throughput of a batch on every core.

    python bench/bench_ai.py [--games N] [--batch M] [--workers W] [--scenario FILE]
                             [--players P1,P2,...]

* AI turn: the wall time from the start of a side's phase to its end (the AI choosing and the
  engine applying every action), for each side, over N games; median and worst.
* Per player (``--players``, default: simple, every built-in profile and search; random is left
  out, it does no thinking): each player plays each side against the default AI on the other, over N
  games; for that side, its thinking time per phase (the sum of its ``choose`` calls) and the
  phase's wall time, median and worst.
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
from game.ai.profile import builtin_profiles
from game.rules.context import load_context
from game.rules.engine import Game

ICHIGO = Path(__file__).resolve().parent.parent / "scenarios" / "ichigo_1944.yaml"
_CTX = {}


def timed_game(ctx, seed: int, profiles: dict[str, str] | None = None
               ) -> tuple[float, dict[str, list[float]], dict[str, list[float]]]:
    """(game seconds, phase seconds per side, thinking seconds per phase per side) for one game
    (default AIs unless `profiles` names a side's player)."""
    game = Game.new(ctx, seed)
    players = make_players(ctx, profiles or {}, seed)
    phases: dict[str, list[float]] = {s: [] for s in ctx.sides}
    thinking: dict[str, list[float]] = {s: [] for s in ctx.sides}
    start = time.perf_counter()
    key = (game.state.turn, game.state.active)
    side, phase_start, think = game.side_to_move(), start, 0.0
    while not game.over:
        t = time.perf_counter()
        action = players[side].choose(game, game.legal_actions())
        think += time.perf_counter() - t
        game.apply(action)
        now_key = (game.state.turn, game.state.active)
        if game.over or now_key != key:
            now = time.perf_counter()
            phases[side].append(now - phase_start)  # includes the turn's supply, attrition and events
            thinking[side].append(think)
            if game.over:
                break
            key, side, phase_start, think = now_key, game.side_to_move(), now, 0.0
    return time.perf_counter() - start, phases, thinking


def _ms(values: list[float]) -> str:
    p = sorted(values)
    return f"median {statistics.median(p) * 1000:7.1f} ms, worst {p[-1] * 1000:7.1f} ms"


def per_player(ctx, players: list[str], games: int) -> None:
    """Each player as each side against the default AI: its thinking and phase times."""
    print(f"per player ({games} games each way, against the default AI on the other side):")
    for name in players:
        for side in ctx.sides:
            phase, think = [], []
            for seed in range(games):
                _s, per, thought = timed_game(ctx, 30_000 + seed, {side: name})
                phase += per[side]
                think += thought[side]
            print(f"  {name:12s} as {side:8s} thinking: {_ms(think)}; phase: {_ms(phase)} ({len(phase)} phases)")


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
    parser.add_argument("--players", default=None,
                        help="players to time per side, comma-separated (default: simple, every built-in profile, "
                             "search)")
    args = parser.parse_args()
    ctx = load_context(args.scenario)
    print(f"scenario {ctx.scenario.meta.id}: {ctx.n} hexes, {len(ctx.scenario.units)} starting units, "
          f"{ctx.turns} turns; default AI profiles")
    timed_game(ctx, 10_000)  # warm the per-scenario caches (cost fields), as a worker would
    games, phases = [], {s: [] for s in ctx.sides}
    for seed in range(args.games):
        seconds, per, _thought = timed_game(ctx, seed)
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
    players = args.players.split(",") if args.players else ["simple", *builtin_profiles(), "search"]
    if args.games:
        per_player(ctx, [p.strip() for p in players if p.strip()], args.games)
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
