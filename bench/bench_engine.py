"""Engine speed on the example scenario: random-action games per second, supply per side per turn.

    python bench/bench_engine.py [--games N] [--scenario FILE]

Random-action games use RandomPlayer (uniform over legal actions, ending the phase with
probability 0.2 a step) for both sides; one core, no process pool.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.rules.context import load_context  # noqa: E402
from game.rules.engine import Game, trace  # noqa: E402
from game.rules.players import RandomPlayer, SimplePlayer, play_game  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "examples" / "henan_1944.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=100)
    parser.add_argument("--scenario", default=str(EXAMPLE))
    args = parser.parse_args()
    ctx = load_context(args.scenario)
    print(f"scenario {ctx.scenario.meta.id}: {ctx.n} hexes, {len(ctx.scenario.units)} starting units, "
          f"{ctx.turns} turns")
    for label, cls in (("random-action", RandomPlayer), ("simple-player", SimplePlayer)):
        actions = 0
        start = time.perf_counter()
        for seed in range(args.games):
            game = Game.new(ctx, seed)
            kwargs = {"end_bias": 0.2} if cls is RandomPlayer else {}
            actions += len(play_game(game, {s: cls(seed=seed * 7 + k, **kwargs) for k, s in enumerate(ctx.sides)}))
        elapsed = time.perf_counter() - start
        print(f"{label:14s} games: {args.games / elapsed:7.1f} games/s  ({elapsed / args.games * 1000:.1f} ms a game, "
              f"{actions / elapsed:,.0f} actions/s, {actions / args.games:.0f} actions a game)")
    game = Game.new(ctx, 0)
    times = []
    for _ in range(200):
        for side in range(len(ctx.sides)):
            t = time.perf_counter()
            trace(ctx, game.state, side)
            times.append(time.perf_counter() - t)
    print(f"supply trace per side per turn (board + inputs + trace): median {statistics.median(times) * 1000:.2f} ms, "
          f"best {min(times) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
