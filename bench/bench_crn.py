"""Statistical power of paired balance tests: how well a variant's games track the base's on the
same seeds, with keyed dice (common random numbers) and with the old stream dice.

    python bench/bench_crn.py [--pairs N] [--seed S] [--workers W] [--scenario FILE]
                              [--path PATH --values V1,V2,V3]

Plays a sweep (by default Ichi-Go's Japanese infantry attack at 0.9, 1.0 and 1.1) on N paired seeds
with each kind of dice, through the balance runner, and prints for each value against the middle
one: the mean score difference, the correlation of the paired scores, the standard deviation of
the differences, and the pairs a paired test needs to detect that difference (80% power, two-sided
5%, normal approximation: n = ((z_0.975 + z_0.8) sd_diff / mean_diff)^2).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.balance import runner  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
Z = 1.959964 + 0.841621  # z_0.975 + z_0.80


def pairs_needed(diffs: list[float]) -> float:
    mean, sd = statistics.fmean(diffs), statistics.stdev(diffs)
    return math.inf if mean == 0 else (Z * sd / mean) ** 2


def sweep(scenario: Path, path: str, values: list[str], seeds: list[int], dice: str, workers: int) -> dict:
    variants = [runner.Variant(f"{path}={v}", str(scenario.resolve()), {}, {path: float(v)}, dice=dice)
                for v in values]
    backend = runner.PoolBackend(workers) if workers > 1 else runner.InProcessBackend()
    try:
        batch = runner.run_batch(variants, seeds, backend)
    finally:
        backend.close()
    scores: dict[str, dict[int, float]] = {v.name: {} for v in variants}
    for r in batch.records:
        scores[r["variant"]][r["seed"]] = float(r["score"])
    return {"scores": scores, "seconds": batch.seconds, "names": [v.name for v in variants]}


def report(result: dict, dice: str) -> None:
    names, scores = result["names"], result["scores"]
    middle = names[len(names) // 2]
    print(f"\n{dice} dice ({result['seconds']:.0f} s):")
    print(f"  {'variant':<44} {'mean':>6} {'diff':>6} {'corr':>6} {'sd diff':>8} {'pairs needed':>13}")
    for name in names:
        seeds = sorted(set(scores[name]) & set(scores[middle]))
        a = [scores[name][s] for s in seeds]
        b = [scores[middle][s] for s in seeds]
        if name == middle:
            print(f"  {name:<44} {statistics.fmean(a):6.2f}")
            continue
        diffs = [x - y for x, y in zip(a, b)]
        corr = statistics.correlation(a, b) if len(set(a)) > 1 and len(set(b)) > 1 else float("nan")
        print(f"  {name:<44} {statistics.fmean(a):6.2f} {statistics.fmean(diffs):+6.2f} {corr:6.2f} "
              f"{statistics.stdev(diffs):8.2f} {pairs_needed(diffs):13.0f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "ichigo_1944.yaml")
    ap.add_argument("--path", default="rules.unit_types.jp_infantry_division.attack")
    ap.add_argument("--values", default="0.9,1.0,1.1")
    ap.add_argument("--dice", default="stream,keyed", help="which dice to measure (default both)")
    args = ap.parse_args()
    seeds = list(range(args.seed, args.seed + args.pairs))
    values = args.values.split(",")
    print(f"{args.scenario.name}: {args.path} = {', '.join(values)}, {args.pairs} paired seeds from {args.seed}, "
          f"{args.workers} worker(s)")
    for dice in args.dice.split(","):
        t = time.perf_counter()
        result = sweep(args.scenario, args.path, values, seeds, dice, args.workers)
        result["seconds"] = time.perf_counter() - t
        report(result, dice)
    return 0


if __name__ == "__main__":
    sys.exit(main())
