"""Soak test: many seeded random-action games, with the tests' invariants checked at every step.

    python bench/soak.py [--example N] [--ichigo M] [--workers W] [--seed S] [--out FILE]

Plays N games on the example scenario (default 10,000) and M on Ichi-Go (default 300) with
RandomPlayer on both sides, on W processes (default all cores). After every action it runs the
invariant checks of tests/test_engine.py (units on the map and off water, strengths within their
bounds, no two sides in a hex, the stacking limit, the loss ledger in step with the units,
tracks and control in range, and the board carried by the state equal to one built from scratch).
It prints games, actions, violations, crashes and time, and lists the first reproducers (scenario,
seed, action number, what broke); exit 1 when anything broke. The README gives the last run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

SCENARIOS = {"example": ROOT / "scenarios" / "examples" / "henan_1944.yaml",
             "ichigo": ROOT / "scenarios" / "ichigo_1944.yaml"}
_CTX: dict = {}


def play(job: tuple[str, int]) -> dict:
    """One random-action game, checked after each action: its counts and what broke, if anything."""
    from game.rules.context import load_context
    from game.rules.engine import Game
    from game.rules.players import RandomPlayer
    from test_engine import check_invariants

    name, seed = job
    ctx = _CTX.get(name)
    if ctx is None:
        ctx = _CTX[name] = load_context(SCENARIOS[name])
    out = {"scenario": name, "seed": seed, "actions": 0, "violation": None, "crash": None}
    try:
        game = Game.new(ctx, seed)
        players = {s: RandomPlayer(seed=seed * 7 + k, end_bias=0.2) for k, s in enumerate(ctx.sides)}
        check_invariants(game)
        while not game.over:
            action = players[game.side_to_move()].choose(game, game.legal_actions())
            game.apply(action)
            out["actions"] += 1
            try:
                check_invariants(game)
            except AssertionError as exc:
                out["violation"] = f"after action {out['actions']} ({action}): {exc or 'assertion failed'}"
                return out
    except Exception as exc:  # noqa: BLE001 - a crash is what the soak is looking for
        where = traceback.extract_tb(exc.__traceback__)[-1]
        out["crash"] = (f"after action {out['actions']}: {type(exc).__name__}: {exc} "
                        f"({Path(where.filename).name}:{where.lineno})")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--example", type=int, default=10_000, help="games on the example scenario")
    ap.add_argument("--ichigo", type=int, default=300, help="games on Ichi-Go")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--out", type=Path, help="write the summary as JSON here")
    args = ap.parse_args()
    jobs = [("ichigo", args.seed + k) for k in range(args.ichigo)] + \
           [("example", args.seed + k) for k in range(args.example)]
    start = time.perf_counter()
    results: list[dict] = []
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        for k, r in enumerate(pool.imap_unordered(play, jobs, chunksize=4), 1):
            results.append(r)
            if k % 200 == 0 or k == len(jobs):
                print(f"\r{k}/{len(jobs)} games, {time.perf_counter() - start:.0f} s", end="", file=sys.stderr)
    print(file=sys.stderr)
    seconds = time.perf_counter() - start
    summary: dict = {"seconds": round(seconds, 1), "workers": args.workers}
    for name in SCENARIOS:
        mine = [r for r in results if r["scenario"] == name]
        summary[name] = {"games": len(mine), "actions": sum(r["actions"] for r in mine),
                         "violations": sum(r["violation"] is not None for r in mine),
                         "crashes": sum(r["crash"] is not None for r in mine)}
        print(f"{name:8s} {len(mine):6,} games  {summary[name]['actions']:9,} actions  "
              f"{summary[name]['violations']} violations  {summary[name]['crashes']} crashes")
    broken = sorted((r for r in results if r["violation"] or r["crash"]), key=lambda r: (r["scenario"], r["seed"]))
    summary["failures"] = broken[:50]
    for r in broken[:10]:
        print(f"  {r['scenario']} seed {r['seed']}: {r['violation'] or r['crash']}")
    print(f"{len(results):,} games in {seconds:.0f} s on {args.workers} processes "
          f"({len(results) / seconds * 3600:,.0f} checked games an hour)")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
