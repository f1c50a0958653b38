"""One game as its own process against one Wesnoth 1.16 headless AI-vs-AI game, side by side.

    python bench/bench_wesnoth.py [--pairs 10] [--scenario FILE] [--wesnoth PATH] [--seed 1]

Runs, alternately so that both see the same load, `python main.py simulate SCENARIO --seed S`
(the default AIs, the whole game and its start-up, as a user runs it) and
`wesnoth --nogui --nosound --multiplayer --scenario multiplayer_The_Freelands --controller 1:ai
--controller 2:ai --exit-at-end`, and prints the CPU seconds (user + system) and wall seconds of
each, and the medians of the ratio ours / Wesnoth's over the pairs. Wesnoth is Debian's
``wesnoth-1.16-core`` (``apt-get install wesnoth-1.16-core``); without it the script says so and
stops.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--scenario", default="scenarios/ichigo_1944.yaml")
    ap.add_argument("--wesnoth", default=shutil.which("wesnoth-1.16") or shutil.which("wesnoth")
                    or ("/usr/games/wesnoth-1.16" if os.path.exists("/usr/games/wesnoth-1.16") else None))
    ap.add_argument("--seed", type=int, default=1, help="the first seed of our games")
    args = ap.parse_args()
    if not args.wesnoth:
        print("Wesnoth 1.16 is not installed (apt-get install wesnoth-1.16-core); nothing to compare with")
        return 1
    # Python's bytecode cache on, as an installed copy has it (see bench_startup.py)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    ours_cmd = [sys.executable, "main.py", "simulate", args.scenario, "--seed"]
    theirs_cmd = [args.wesnoth, "--nogui", "--nosound", "--multiplayer", "--scenario", "multiplayer_The_Freelands",
                  "--controller", "1:ai", "--controller", "2:ai", "--exit-at-end"]
    timed(ours_cmd + [str(args.seed)], env)  # the first run fills the compiled-scenario cache
    cpu_ratio, wall_ratio = [], []
    print(f"{'pair':>4} {'ours cpu':>9} {'wall':>6} {'wesnoth cpu':>12} {'wall':>6} {'cpu ratio':>10}")
    for k in range(args.pairs):
        a = timed(ours_cmd + [str(args.seed + k)], env)
        b = timed(theirs_cmd, env)
        cpu_ratio.append(a[0] / b[0])
        wall_ratio.append(a[1] / b[1])
        print(f"{k:4} {a[0]:8.2f}s {a[1]:5.2f}s {b[0]:11.2f}s {b[1]:5.2f}s {cpu_ratio[-1]:10.2f}")
    print(f"median ratio ours / Wesnoth: CPU {statistics.median(cpu_ratio):.2f} "
          f"(range {min(cpu_ratio):.2f}-{max(cpu_ratio):.2f}), wall {statistics.median(wall_ratio):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
