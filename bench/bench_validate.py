"""Time `validate` on a synthetic 5,000-hex scenario (target: under 1 s).

    python bench/bench_validate.py [--repeat N]

Prints the map size and the median / best wall time of a full validation (read, YAML, extends,
structure, semantics, map build), plus the stages separately.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from game.scenario.loader import load_scenario  # noqa: E402
from game.scenario.semantic import check_semantics  # noqa: E402
from game.scenario.validate import validate_file  # noqa: E402
from game.yamlload import load_yaml  # noqa: E402
from make_big_scenario import BASE, make  # noqa: E402


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = make(Path(tmp) / "big.yaml")
        (Path(tmp) / BASE.name).write_text(BASE.read_text())
        report = validate_file(path)
        assert report.ok, [d.format() for d in report.result.diagnostics][:5]
        hm = report.map.hexmap
        print(f"scenario: {hm.cols}x{hm.rows} = {hm.n} hexes, {path.stat().st_size / 1024:.0f} KiB, "
              f"{len(report.result.scenario.units)} units, {len(report.result.scenario.map.places)} places")
        full = timed(lambda: validate_file(path), args.repeat)
        yaml_only = timed(lambda: load_yaml(path), args.repeat)
        structure = timed(lambda: load_scenario(path), args.repeat)
        loaded = load_scenario(path)
        semantic = timed(lambda: check_semantics(loaded), args.repeat)
        for name, times in (("full validate", full), ("  YAML with positions", yaml_only),
                            ("  YAML + structure", structure), ("  semantics + map build", semantic)):
            print(f"{name:26s} median {statistics.median(times) * 1000:7.1f} ms   best {min(times) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
