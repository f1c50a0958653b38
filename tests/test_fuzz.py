"""The fuzzer's CI tier (issue 17, section 2): seeded runs of tools/fuzz.py, which mutates the
example scenario, Ichi-Go, a what-if and saves it makes, runs ``main.py validate`` / ``replay
--verify`` on each mutant (and a short game on each one that validates) and classes the results.

Every mutant must end in a clean result: ok, or exit 1 with a ``FILE:LINE:COL: error:`` line. No
internal error (exit 70), no hang (the timeout), no crash or broken invariant in the short game,
no traceback. On a failure the message lists each distinct failure with the reproducer script the
fuzzer kept (``.../failures/NNNN-CLASS/repro.sh``); rerun one case with
``python tools/fuzz.py --seed S --first K --cases 1 --out DIR``.

The fast test runs 15 cases; the slow tier 80 (about 40 s on two cores).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_fuzz():
    if "fuzz" in sys.modules:
        return sys.modules["fuzz"]
    spec = importlib.util.spec_from_file_location("fuzz", ROOT / "tools" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz"] = module  # before running it: its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()


def run_tier(out: Path, cases: int, seed: int, seeds: tuple[str, ...] | None = None) -> dict:
    opts = fuzz.Options(cases=cases, seed=seed, workers=2, timeout=10.0, out=out, quiet=True,
                        seeds=seeds or tuple(fuzz.SEEDS))
    summary = fuzz.run(opts)
    assert summary["cases"] == cases
    return summary


def assert_clean(summary: dict) -> None:
    failing = [e for e in summary["signatures"] if e["class"] in fuzz.FAILING or e["class"] == "fuzzer_error"]
    lines = [f"[{e['class']}] x{e['count']} {e['signature']}\n    cases {e['cases']}: "
             f"{'; '.join(e['mutations'])[:300]}\n    {e.get('reproducer')}" for e in failing]
    assert not failing, (f"{summary['failures']} of {summary['cases']} fuzz cases failed "
                         f"(seed {summary['seed']}, {summary['out']}):\n" + "\n".join(lines))
    assert summary["classes"]["clean_error"] > 0  # the mutants do reach the checks


def test_fuzz_fast(tmp_path):
    """15 cases on the example scenario and its saves (the quick ones): every result clean."""
    assert_clean(run_tier(tmp_path, 15, seed=1700, seeds=("henan", "save_henan")))


@pytest.mark.slow
def test_fuzz_ci_tier(tmp_path):
    """80 cases over every seed (example, Ichi-Go, what-if, saves): every result clean."""
    summary = run_tier(tmp_path, 80, seed=17)
    assert set(summary["by_seed"]) == set(fuzz.SEEDS)
    assert_clean(summary)


def test_classification():
    """The classes of a run's results: exit codes, error lines, tracebacks, timeouts."""
    def cls(rc, output, kind="check", timed_out=False):
        step = fuzz.Step("validate", [], rc, 0.1, timed_out, output)
        fuzz.classify(step, kind)
        return step.cls

    assert cls(0, "x.yaml: ok: ...") == fuzz.OK
    assert cls(1, "x.yaml:3:5: error: unknown key 'a'\nx.yaml: 1 error(s)") == fuzz.CLEAN
    assert cls(1, "x.yaml: error: file not found") == fuzz.CLEAN
    assert cls(1, "something went wrong") == fuzz.UNCLEAN
    assert cls(1, "Traceback (most recent call last):\n  File \"x\", line 1\nx.yaml:1:1: error: e") == fuzz.UNCLEAN
    assert cls(70, "internal error: ValueError: x") == fuzz.INTERNAL
    assert cls(None, "", timed_out=True) == fuzz.HANG
    assert cls(None, "", "play", timed_out=True) == fuzz.PLAY_HANG
    assert cls(72, "play crash: KeyError", "play") == fuzz.PLAY_CRASH
    assert cls(70, "internal error: KeyError", "play") == fuzz.PLAY_CRASH
    assert cls(71, "invariant violated", "play") == fuzz.PLAY_VIOLATION
    assert cls(1, "x.yaml:1:1: error: profile", "play") == fuzz.REFUSED
    assert cls(-11, "Fatal Python error: Segmentation fault") == fuzz.OTHER


def test_mutations_are_seeded(tmp_path):
    """The same run seed and case number build the same case."""
    opts = fuzz.Options(seed=5, seeds=("henan", "whatif"))
    made = []
    for k in range(2):
        case = fuzz.build_case(opts, 3, tmp_path / str(k), {})
        made.append((case.seed, case.mutations, (case.dir / case.target).read_bytes()
                     if (case.dir / case.target).is_file() else None))
    assert made[0] == made[1]
