"""The bad-scenario suite: every file in tests/data/bad_scenarios/ (except those starting with
'_', which are shared bases) is a broken scenario whose exact diagnostics are in NAME.expected.

To regenerate the expected files after deliberately changing a message, run
``python tests/test_bad_scenarios.py --update`` and review the diff line by line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad_scenarios"
CASES = sorted(p for p in BAD.glob("*.yaml") if not p.name.startswith("_"))


def diagnostics_of(path: Path) -> list[str]:
    """What `validate` reports: the scenario's own checks, then the AI profiles its plans name."""
    from game.ai.profile import check_plan_profiles
    from game.scenario.validate import validate_file

    report = validate_file(os.path.relpath(path, ROOT))
    if report.result.raw is not None and report.result.sections:
        check_plan_profiles(report.result)
    return [d.format() for d in report.result.diagnostics.sorted()]


def test_there_are_enough_cases():
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_scenario_reports_exactly_the_expected_lines(case: Path, in_root):
    expected_file = case.with_suffix(".expected")
    assert expected_file.exists(), f"{expected_file.name} is missing"
    expected = [line for line in expected_file.read_text().splitlines() if line.strip()]
    got = diagnostics_of(case)
    assert got == expected
    assert any(": error: " in line for line in got), "a bad scenario must have at least one error"


def test_base_is_valid(in_root):
    from game.scenario.validate import validate_file

    report = validate_file("tests/data/bad_scenarios/_base.yaml")
    assert report.ok, [d.format() for d in report.result.diagnostics]


def test_python_tag_runs_nothing(in_root, tmp_path):
    marker = tmp_path / "pwned"
    case = tmp_path / "evil.yaml"
    case.write_text(f'meta: !!python/object/apply:os.system ["touch {marker}"]\n')
    got = diagnostics_of(case)
    assert not marker.exists()
    assert any("!!python/object/apply:os.system" in line and "not allowed" in line for line in got)


def test_alias_bomb_is_refused_quickly(in_root):
    start = time.perf_counter()
    got = diagnostics_of(BAD / "alias_bomb.yaml")
    assert time.perf_counter() - start < 1.0
    assert any("alias bomb" in line for line in got)


def test_oversized_file_is_refused_quickly(tmp_path):
    from game.yamlload import MAX_BYTES

    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * (MAX_BYTES // 10 + 10))
    start = time.perf_counter()
    got = diagnostics_of(big)
    assert time.perf_counter() - start < 1.0
    assert len(got) == 1 and "over the limit" in got[0] and got[0].endswith("bytes for a scenario file")


def test_missing_file(tmp_path):
    got = diagnostics_of(tmp_path / "nope.yaml")
    assert len(got) == 1 and got[0].endswith("error: file not found: " + os.path.relpath(tmp_path / "nope.yaml", ROOT))


@pytest.mark.slow
def test_cli_exit_codes_and_output(in_root):
    bad = subprocess.run([sys.executable, "main.py", "validate", "tests/data/bad_scenarios/unknown_key.yaml"],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert bad.stderr.splitlines()[0].startswith(
        "tests/data/bad_scenarios/unknown_key.yaml:3:16: error: unknown key 'strenght'")
    good = subprocess.run([sys.executable, "main.py", "validate", "scenarios/examples/henan_1944.yaml"],
                          capture_output=True, text=True, cwd=ROOT)
    assert good.returncode == 0, good.stderr
    assert "Traceback" not in good.stderr
    # the summary line (after any warnings, which do not fail a file)
    assert good.stdout.splitlines()[-1].startswith("scenarios/examples/henan_1944.yaml: ok: ")


@pytest.mark.slow
def test_every_bad_file_fails_through_the_cli_without_traceback(in_root):
    result = subprocess.run([sys.executable, "main.py", "validate", "-q", *[os.path.relpath(c, ROOT) for c in CASES]],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr


def update() -> None:
    os.chdir(ROOT)
    for case in CASES:
        case.with_suffix(".expected").write_text("\n".join(diagnostics_of(case)) + "\n")
        print("wrote", case.with_suffix(".expected").relative_to(ROOT))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if "--update" in sys.argv:
        update()
    else:
        print(__doc__)


def test_a_file_of_too_many_values_is_refused_quickly(tmp_path):
    """Half a million tiny values fit in the size limit but would take seconds and gigabytes to
    build and check: the reader counts them as it scans (found by tools/fuzz.py, a hang)."""
    from game.yamlload import MAX_BYTES, MAX_EVENTS

    many = tmp_path / "many.yaml"
    many.write_text("meta: [" + ",".join(["0"] * (MAX_EVENTS + 10)) + "]\n")
    assert many.stat().st_size < MAX_BYTES
    start = time.perf_counter()
    got = diagnostics_of(many)
    assert time.perf_counter() - start < 5.0
    assert len(got) == 1 and f"more than {MAX_EVENTS:,} values" in got[0], got
