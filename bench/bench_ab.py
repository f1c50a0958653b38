"""Before and after on the same machine: the CPU time of the same games with this checkout and
another one (an older commit in a git worktree), run alternately so that both see the same load.

    git worktree add /tmp/before COMMIT
    python bench/bench_ab.py /tmp/before [--rounds 3] [--seeds 1,2,3] [--scenario FILE] [--random]

Each round runs, in a fresh process for each checkout, the games of every seed (default profiles,
or random-action players with --random; stream dice where the checkout has them, so both play the
same actions) and prints the CPU seconds of each game and the final state hash of the last, which
must agree when neither checkout changed the rules. At the end: the median of each side.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys, time, inspect
from game.rules.context import load_context
from game.rules.engine import Game
from game.rules.players import RandomPlayer, play_game
from game.ai import make_players
ctx = load_context(sys.argv[1])
stream = "dice" in inspect.signature(Game.new).parameters
times = []
for seed in [int(s) for s in sys.argv[2].split(",")]:
    t = time.process_time()
    g = Game.new(ctx, seed, "stream") if stream else Game.new(ctx, seed)
    if sys.argv[3] == "random":
        players = {s: RandomPlayer(seed=seed * 10 + k, end_bias=0.2) for k, s in enumerate(ctx.sides)}
    else:
        players = make_players(ctx, {}, seed)
    play_game(g, players)
    times.append(time.process_time() - t)
print(" ".join(f"{x:.3f}" for x in times), g.state.state_hash())
"""


def run(checkout: Path, scenario: Path, seeds: str, kind: str) -> tuple[list[float], str]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(scenario), seeds, kind], cwd=checkout, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return [float(x) for x in out[:-1]], out[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", type=Path, help="the other checkout (the 'before')")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--scenario", default="scenarios/ichigo_1944.yaml", help="relative to each checkout")
    ap.add_argument("--random", action="store_true", help="random-action players (the engine alone)")
    args = ap.parse_args()
    kind = "random" if args.random else "ai"
    sides = {"before": (args.before.resolve(), []), "after": (HERE, [])}
    for k in range(args.rounds):
        for name, (checkout, times) in sides.items():
            got, digest = run(checkout, checkout / args.scenario, args.seeds, kind)
            times.extend(got)
            print(f"round {k + 1} {name:>6}: " + " ".join(f"{x:.2f}" for x in got) + f" s   final hash {digest[:12]}")
    b, a = (statistics.median(sides[n][1]) for n in ("before", "after"))
    print(f"median CPU a game: before {b:.2f} s, after {a:.2f} s ({(a - b) / b:+.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
