"""Start-up to the first action, in fresh processes: imports, loading the scenario (a full
validation, then from the compiled-scenario cache), a new game, its first legal actions, and the
default AI's first choice.

    python bench/bench_startup.py [--runs 5] [--scenario FILE]

The first run uses an empty cache folder of its own (a full load); the others read the entry it
wrote, as every later run on the same files does. Medians over the runs that hit the cache.
The children run with Python's bytecode cache on, as a user's installation has it: an
environment with ``PYTHONDONTWRITEBYTECODE`` set (some containers) would otherwise compile every
module of the engine in every run, 0.1 s that no installed copy pays.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import time, sys
t0 = time.perf_counter()
from game.rules.context import load_context
from game.rules.engine import Game
from game.ai import make_players
t1 = time.perf_counter()
ctx = load_context(sys.argv[1])
t2 = time.perf_counter()
game = Game.new(ctx, 1)
actions = game.legal_actions()
len(actions)
t3 = time.perf_counter()
players = make_players(ctx, {}, 1)
players[game.side_to_move()].choose(game, actions)
t4 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scenario", default="scenarios/ichigo_1944.yaml")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["HEXWAR_SCENARIO_CACHE"] = cache
        for k in range(args.runs + 1):
            # timed from outside too: the interpreter's own start is in the total
            start = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", CHILD, args.scenario], cwd=ROOT, env=env,
                                 capture_output=True, text=True, check=True)
            total = time.perf_counter() - start
            imports, load, first, ai = (float(x) for x in res.stdout.split())
            label = "full load" if k == 0 else "cache hit"
            print(f"{label:9}: imports {imports:.3f} s, load {load:.3f} s, new game + legal actions {first:.3f} s, "
                  f"AI's first choice {ai:.3f} s; process to the legal actions {total - ai:.3f} s, "
                  f"to the AI's first action {total:.3f} s")
            if k:
                rows.append((imports, load, first, ai, total - ai, total))
    med = [statistics.median(col) for col in zip(*rows)]
    print(f"median of {len(rows)} cache hits: imports {med[0]:.3f} s, load {med[1]:.3f} s, "
          f"to the first legal actions {med[4]:.3f} s (process start included), "
          f"to the AI's first action {med[5]:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
