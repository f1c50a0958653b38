"""The fuzzer's CI tier (issue 17, section 2): seeded runs of tools/fuzz.py, which mutates the
example scenario, Ichi-Go, a what-if and saves it makes, runs ``main.py validate`` / ``replay
--verify`` on each mutant (and a short game on each one that validates) and classes the results.

Every mutant must end in a clean result: ok, or exit 1 with a ``FILE:LINE:COL: error:`` line. No
internal error (exit 70), no hang (the timeout), no crash or broken invariant in the short game,
no traceback. On a failure the message lists each distinct failure with the reproducer script the
fuzzer kept (``.../failures/NNNN-CLASS/repro.sh``); rerun one case with
``python tools/fuzz.py --seed S --first K --cases 1 --out DIR``.

The fast test runs 15 cases; the slow tier 80 (about 40 s on two cores).

tests/data/bad_saves/ is a corpus of broken saves of the tiny scenario (tests/data/bad_scenarios/
_base.yaml) that the fuzzer's save mutations found worth keeping: NAME.json, and in NAME.expected
the exact error lines of ``main.py replay --verify NAME.json`` (the repository's folder shown as
<ROOT>). A case without NAME.expected is only required to fail cleanly (exit 1, an error line, no
traceback); ``python tests/test_fuzz.py --update-saves`` rebuilds the corpus from its recipes
below and writes every .expected (review the diff).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD_SAVES = ROOT / "tests" / "data" / "bad_saves"
GOOD_SAVE = BAD_SAVES / "_good.json"


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


# ---------------------------------------------------------------------------------------------
# the corpus of broken saves


def _recipes() -> dict:
    """name -> (edit of the good save's dict, whether the checksum is recomputed after it)."""
    raw = fuzz.Raw

    def setter(*path, value):
        def edit(d):
            for key in path[:-1]:
                d = d[key]
            d[path[-1]] = value
        return edit

    def drop_last_action(d):
        d["actions"].pop()

    def weaker_unit(d):
        d["state"]["units"][0]["strength"] -= 1

    return {
        "seed_negative": (setter("seed", value=-1), True),
        "seed_2_64": (setter("seed", value=2**64), True),
        "seed_1e400": (setter("seed", value=raw("1e400")), True),
        "seed_100000_digits": (setter("seed", value=raw("9" * 100_000)), True),
        "seed_string": (setter("seed", value="1"), True),
        "turn_100000_digits": (setter("state", "turn", value=raw("9" * 100_000)), False),
        "nested_5000": (setter("actions", value=raw("[" * 5000 + "]" * 5000)), False),
        "nested_100000": (setter("state", value=raw("[" * 100_000 + "]" * 100_000)), False),
        "actions_not_a_list": (setter("actions", value="end"), True),
        "state_not_a_mapping": (setter("state", value=[]), True),
        "scenario_not_a_mapping": (setter("scenario", value="_base.yaml"), True),
        "edited_state": (weaker_unit, True),
        "edited_actions": (drop_last_action, True),
        "unit_hex_huge": (setter("state", "units", 0, "hex", value=10**400), True),
        "date_9999": (setter("state", "date", value="9999-12-31"), True),
        "dice_unknown": (setter("dice", value="loaded"), True),
        "version_2": (setter("version", value=2), True),
        "format_foreign": (setter("format", value="chess-game"), True),
        "checksum_mismatch": (weaker_unit, False),
        "other_scenario": (setter("scenario", "path", value="../../../scenarios/examples/henan_1944.yaml"), True),
        "scenario_id_other": (setter("scenario", "id", value="ichigo_1944"), True),
        "scenario_missing": (setter("scenario", "path", value="no_such_scenario.yaml"), True),
        "scenario_path_too_long": (setter("scenario", "path", value="../" * 5000 + "_base.yaml"), True),
        "scenario_name_too_long": (setter("scenario", "path", value="x" * 300 + ".yaml"), True),
        "scenario_path_surrogate": (setter("scenario", "path", value="\udcff.yaml"), True),
    }


def _corpus() -> list[Path]:
    return sorted(p for p in BAD_SAVES.glob("*.json") if not p.name.startswith("_"))


def _replay_lines(path: Path) -> tuple[int, list[str], str]:
    """main.py replay --verify PATH in this process: exit code, error lines, all output."""
    from game import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["replay", "--verify", str(path.relative_to(ROOT))])
    # as a terminal shows it (stderr escapes what UTF-8 cannot encode, e.g. a lone surrogate)
    text = err.getvalue().replace(str(ROOT), "<ROOT>").encode("utf-8", "backslashreplace").decode()
    return code, [ln for ln in text.splitlines() if ": error: " in ln], out.getvalue() + text


def update_saves() -> None:
    from game.rules.context import load_context
    from game.rules.engine import Game
    from game.rules.players import RandomPlayer
    from game.rules.saves import write_save

    BAD_SAVES.mkdir(parents=True, exist_ok=True)
    ctx = load_context(ROOT / "tests" / "data" / "bad_scenarios" / "_base.yaml")
    game = Game.new(ctx, 3)
    players = {s: RandomPlayer(seed=11 + k, end_bias=0.2) for k, s in enumerate(ctx.sides)}
    taken = []
    while not game.over and len(taken) < 12:
        taken.append(players[game.side_to_move()].choose(game, game.legal_actions()))
        game.apply(taken[-1])
    write_save(GOOD_SAVE, game, taken, players={s: "random" for s in ctx.sides})
    good = json.loads(GOOD_SAVE.read_text())
    good["saved_at"] = "2026-01-01T00:00:00+00:00"  # a fixed time: the corpus changes only with the rules
    GOOD_SAVE.write_bytes(fuzz.recompute_checksum(fuzz.dump_json(good)) + b"\n")
    good = json.loads(GOOD_SAVE.read_text())
    for name, (edit, checksum) in _recipes().items():
        data = json.loads(json.dumps(good))
        edit(data)
        blob = fuzz.dump_json(data)
        (BAD_SAVES / f"{name}.json").write_bytes((fuzz.recompute_checksum(blob) if checksum else blob) + b"\n")
    for path in _corpus():
        code, lines, text = _replay_lines(path)
        expected = path.with_suffix(".expected")
        if code == 1 and lines and "Traceback" not in text and "internal error" not in text:
            expected.write_text("\n".join(lines) + "\n")
            print("wrote", expected.relative_to(ROOT))
        else:
            expected.unlink(missing_ok=True)
            print(f"{path.relative_to(ROOT)}: not a clean error (exit {code}), no .expected: {text.strip()[:200]}")


def test_the_good_save_verifies(in_root):
    code, lines, text = _replay_lines(GOOD_SAVE)
    assert code == 0 and not lines, text


def test_there_are_enough_bad_saves():
    assert len(_corpus()) >= 20


@pytest.mark.parametrize("case", _corpus(), ids=[c.stem for c in _corpus()])
def test_bad_save_fails_cleanly_with_the_expected_lines(case: Path, in_root):
    from game.diagnostics import InputError
    from game.rules.saves import load_game

    code, lines, text = _replay_lines(case)
    assert code == 1 and "Traceback" not in text and "internal error" not in text, text[-2000:]
    assert lines and all(ln.startswith(f"{case.relative_to(ROOT)}:") for ln in lines), text[-2000:]
    expected = case.with_suffix(".expected")
    if expected.exists():
        assert lines == [ln for ln in expected.read_text().splitlines() if ln.strip()]
    with pytest.raises(InputError):  # resuming it (the window's way in) refuses it the same way
        load_game(case.relative_to(ROOT))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if "--update-saves" in sys.argv:
        import os
        import tempfile

        os.chdir(ROOT)
        with tempfile.TemporaryDirectory() as bugs:  # the bug reports of the cases that crash
            tempfile.tempdir = bugs
            update_saves()
    else:
        print(__doc__)
