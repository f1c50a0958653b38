"""The `balance` and `simulate` commands: files written, the summary, usage errors (exit 1, one
clear line, no traceback), crashes, Ctrl-C, sweeps and the sequential test."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import EXAMPLE, ROOT
from game import cli
from game.balance import runner
from game.balance.stats import minimum_detectable_effect, pairs_for_power
from game.rules.players import PLAYERS, SimplePlayer

NO_FAMINE = EXAMPLE.parent / "henan_1944_no_famine.yaml"
SIMPLE = ["--side-profile", "japan=simple", "--player", "china=simple"]


def balance(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.run(["balance", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows(path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_balance_writes_games_and_the_report(capsys, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = balance(capsys, str(EXAMPLE), str(NO_FAMINE), "--games", "3", "--workers", "1",
                                "--seed", "10", "--out", str(out), *SIMPLE)
    assert code == 0, err
    games = rows(out / "games.csv")
    assert [(g["variant"], g["seed"]) for g in games] == \
        [(v, str(s)) for v in ("base", "henan_1944_no_famine") for s in (10, 11, 12)]
    assert {g["player_japan"] for g in games} == {"simple"}
    records = [json.loads(line) for line in (out / "games.jsonl").read_text().splitlines()]
    assert [r["state_hash"] for r in records] == [g["state_hash"] for g in games]
    assert "per_turn" in records[0]
    report = json.loads((out / "report.json").read_text())
    assert report["base"] == "base" and list(report["variants"]) == ["base", "henan_1944_no_famine"]
    assert report["meta"]["games_per_variant"] == 3 and report["meta"]["crashed"] == 0
    assert report["side"] == report["meta"]["report_side"] == "japan"  # the scenario's first side
    assert (out / "report.html").is_file() and list((out / "charts").glob("*.png"))
    assert f"to {out}/" in stdout and "games.csv" in stdout
    assert "base: 3 games; japan wins" in stdout and "corridor opened" in stdout
    assert "henan_1944_no_famine vs base (3 pairs)" in stdout
    assert "balance  6/6 games  100%" in err  # the progress line (not a terminal: plain lines)


@pytest.mark.slow
def test_balance_default_folder_is_named_after_the_scenario(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = balance(capsys, str(EXAMPLE), "--games", "1", "--workers", "1", "--quiet", "--player", "random")
    assert code == 0, err
    [folder] = tmp_path.iterdir()
    assert folder.name.startswith("balance-henan_1944-") and (folder / "games.csv").is_file()
    assert err == ""


@pytest.mark.slow
def test_sweep_makes_a_variant_per_value(capsys, tmp_path):
    out = tmp_path / "sweep"
    code, stdout, err = balance(capsys, str(EXAMPLE), "--games", "2", "--workers", "1", "--quiet", "--out", str(out),
                                "--sweep", "rules.combat.rout_loss=0.05,0.3", "--report-side", "china", *SIMPLE)
    assert code == 0, err
    names = ["base", "rules.combat.rout_loss=0.05", "rules.combat.rout_loss=0.3"]
    assert [g["variant"] for g in rows(out / "games.csv")] == [n for n in names for _ in range(2)]
    report = json.loads((out / "report.json").read_text())
    assert report["sweep"]["path"] == "rules.combat.rout_loss"
    assert report["sweep"]["values"] == [0.05, 0.3] and report["sweep"]["variants"] == names[1:]
    assert report["meta"]["variants"]["rules.combat.rout_loss=0.3"] == {"rules.combat.rout_loss": 0.3}
    # the sweep follows the side asked for, not the first side
    assert report["side"] == "china" and {p["side"] for p in report["sweep"]["points"]} == {"china"}
    assert [p["win"] for p in report["sweep"]["points"]] == [report["variants"][n]["wins"]["china"] for n in names[1:]]


@pytest.mark.slow
def test_sprt_on_a_two_value_sweep_stops_early(capsys, tmp_path):
    out = tmp_path / "sprt"
    code, stdout, err = balance(capsys, str(EXAMPLE), "--games", "40", "--workers", "1", "--quiet", "--out", str(out),
                                "--sprt", "--sweep", "victory.track_points.communist_prestige=0,1", *SIMPLE)
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    sprt = report["sprt"]
    assert sprt["decision"] == "up" and sprt["pairs"] < 40 and sprt["max_pairs"] == 40
    assert report["base"] == "victory.track_points.communist_prestige=0"
    assert len(rows(out / "games.csv")) == 2 * sprt["pairs"]
    assert f"the variant raises the score after {sprt['pairs']} pair(s) of at most 40" in stdout


@pytest.mark.slow
def test_power_estimates_the_pairs_needed_from_the_pilot_pairs(capsys, tmp_path):
    out = tmp_path / "power"
    code, stdout, err = balance(capsys, str(EXAMPLE), "--games", "8", "--workers", "1", "--quiet", "--out", str(out),
                                "--sweep", "victory.track_points.communist_prestige=0,1", "--power", "1", *SIMPLE)
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    est = report["meta"]["power"]
    v = est["variants"]["victory.track_points.communist_prestige=1"]
    records = [json.loads(line) for line in (out / "games.jsonl").read_text().splitlines()]
    by = {(r["variant"], r["seed"]): r["score"] for r in records}
    diffs = [by[("victory.track_points.communist_prestige=1", s)] - by[(report["base"], s)] for s in range(8)]
    assert v["pilot_pairs"] == 8 and v["sd_diff"] == pytest.approx(float(np.std(diffs, ddof=1)))
    assert v["pairs_needed"] == pairs_for_power(v["sd_diff"], 1.0)
    assert f"needs {v['pairs_needed']:.0f} pairs" in stdout
    comparison = report["comparisons"]["victory.track_points.communist_prestige=1"]["metrics"]["score"]
    assert comparison["detectable"] == pytest.approx(minimum_detectable_effect(v["sd_diff"], 8))
    assert "smallest detectable" in (out / "report.html").read_text()


class CrashingPlayer(SimplePlayer):
    """Raises at its 4th decision in games with an odd seed."""

    def __init__(self, seed: int = 0):
        super().__init__(seed)
        self.decisions = 0

    def choose(self, game, actions):
        self.decisions += 1
        if game.state.seed % 2 and self.decisions > 3:
            raise ValueError("no idea what to do")
        return super().choose(game, actions)


@pytest.mark.slow
def test_a_crashing_game_is_reported_and_the_others_finish(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(PLAYERS, "crashing", CrashingPlayer)
    out = tmp_path / "crash"
    code, stdout, err = balance(capsys, str(EXAMPLE), "--games", "4", "--workers", "1", "--quiet", "--out", str(out),
                                "--player", "japan=crashing", "--side-profile", "china=simple")
    assert code == 3, err  # the batch ran to its end, but a game crashed
    assert [g["seed"] for g in rows(out / "games.csv")] == ["0", "2"]
    assert sorted(p.name for p in (out / "crashes").iterdir()) == ["base-seed1.json", "base-seed3.json"]
    crash = json.loads((out / "crashes" / "base-seed1.json").read_text())
    assert crash["message"] == "no idea what to do" and len(crash["actions"]) >= 3
    assert "2 game(s) crashed" in stdout
    assert json.loads((out / "report.json").read_text())["meta"]["crashed"] == 2


@pytest.mark.slow
def test_ctrl_c_writes_the_finished_games_and_exits_130(capsys, tmp_path, monkeypatch):
    played = []
    real = runner.run_job

    def interrupted_at_the_fourth(job):
        if len(played) == 3:
            raise KeyboardInterrupt
        played.append(job)
        return real(job)

    monkeypatch.setattr(runner, "run_job", interrupted_at_the_fourth)
    out = tmp_path / "stopped"
    code, stdout, err = balance(capsys, str(EXAMPLE), "--games", "10", "--workers", "1", "--quiet", "--out", str(out),
                                *SIMPLE)
    assert code == 130
    assert "interrupted" in err and "Traceback" not in err
    assert [g["seed"] for g in rows(out / "games.csv")] == ["0", "1", "2"]
    assert json.loads((out / "report.json").read_text())["meta"]["interrupted"] is True


@pytest.mark.parametrize("args, message", [
    ([str(EXAMPLE), "--player", "japan=nosuch"], "unknown AI profile 'nosuch'"),
    ([str(EXAMPLE), "--side-profile", "japn=simple"],
     "has no side 'japn'; did you mean 'japan'? (its sides: japan, china)"),
    ([str(EXAMPLE), "--player", "chin=simple"], "--player: scenario 'henan_1944' has no side 'chin'; did you mean"),
    ([str(EXAMPLE), "--side-profile", "japan"], "--side-profile expects SIDE=PROFILE"),
    ([str(EXAMPLE), "--player", "=simple"], "--player expects SIDE=PROFILE"),
    ([str(EXAMPLE), "--player", "simple", "--player", "random"],
     "--player PROFILE (for every side not named) is given 2"),
    ([str(EXAMPLE), "--report-side", "jpn"], "--report-side: scenario 'henan_1944' has no side 'jpn'; did you mean"),
    ([str(EXAMPLE), "--sprt"], "--sprt compares two arms"),
    ([str(EXAMPLE), str(NO_FAMINE), str(NO_FAMINE), "--sprt"], "--sprt compares two arms"),
    ([str(EXAMPLE), "--sprt", "--sweep", "rules.combat.rout_loss=0.1,0.2,0.3"], "--sprt compares two arms"),
    ([str(EXAMPLE), "--sweep", "rules.combat.rout_loss"], "--sweep expects PATH=V1,V2,..."),
    ([str(EXAMPLE), "--sweep", "rules.combat.rout_loss=0.1,,0.2"], "has an empty value"),
    ([str(EXAMPLE), "--sweep", "rules.combat.rout_loss=0.1,0.1"], "lists a value twice"),
    ([str(EXAMPLE), str(NO_FAMINE), "--sweep", "rules.combat.rout_loss=0.1"], "cannot be combined with VARIANT"),
    ([str(EXAMPLE), "--sweep", "rules.combat.rout_los=0.1"], "did you mean 'rout_loss'?"),
    ([str(EXAMPLE), "--sweep", "rules.combat.rout_loss=lots"], "rules.combat.rout_loss: expected a valid number"),
    (["missing.yaml"], "missing.yaml:1:1: error: file not found"),
    ([str(EXAMPLE), "missing_variant.yaml"], "file not found: missing_variant.yaml"),
    ([str(EXAMPLE), str(NO_FAMINE), str(NO_FAMINE)], "two variants are named 'henan_1944_no_famine'"),
    ([str(EXAMPLE), "--games", "0"], "--games expects at least 1"),
    ([str(EXAMPLE), "--workers", "0"], "--workers expects at least 1"),
    ([str(EXAMPLE), "--games", "x"], "invalid int value"),
    ([str(EXAMPLE), "--seed", "-1"], "a seed is a whole number from 0 to 9223372036854775807, got -1"),
    ([str(EXAMPLE), "--seed", "1e400"], "expected a whole number from 0 to"),
    ([str(EXAMPLE), "--power", "2"], "--power estimates the pairs a comparison needs"),
    ([str(EXAMPLE), str(NO_FAMINE), "--power", "-1"], "--power: the effect to detect is a positive number"),
])
def test_balance_usage_errors_exit_1_with_a_clear_message(capsys, tmp_path, args, message):
    out = tmp_path / "never"
    code, stdout, err = balance(capsys, *args, "--out", str(out))
    assert code == 1
    assert message in err, err
    assert "Traceback" not in err and stdout == ""
    assert not out.exists()  # nothing was run


def test_an_output_folder_that_cannot_be_made_is_a_one_line_error(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    code, stdout, err = balance(capsys, str(EXAMPLE), "--games", "1", "--workers", "1",
                                "--out", str(tmp_path / "file" / "run"), *SIMPLE)
    assert code == 1 and "cannot create the output folder" in err and "Traceback" not in err


def test_scheduler_without_dask_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code, stdout, err = balance(capsys, str(EXAMPLE), "--games", "1", "--out", str(tmp_path / "x"),
                                "--scheduler", "tcp://127.0.0.1:8786", *SIMPLE)
    assert code == 1 and "pip install '.[cluster]'" in err and "Traceback" not in err


def test_simulate_with_a_profile_per_side(capsys, tmp_path):
    save = tmp_path / "game.json"
    assert cli.run(["simulate", str(EXAMPLE), "--seed", "3", "--side-profile", "japan=simple", "--side-profile",
                    "china=random", "--json", "--save", str(save)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["players"] == {"japan": "simple", "china": "random"}
    for key in ("winner", "verdict", "score", "turns", "final_date", "captures", "losses", "tracks", "state_hash"):
        assert key in summary
    assert json.loads(save.read_text())["players"] == {"japan": "simple", "china": "random"}
    # the same game through the short form, and a bare --player for the sides not named (in any order)
    for args in (["--player", "japan=simple", "--player", "china=random"],
                 ["--player", "random", "--side-profile", "japan=simple"],
                 ["--player", "japan=simple", "--player", "random"]):
        assert cli.run(["simulate", str(EXAMPLE), "--seed", "3", *args, "--json"]) == 0, args
        again = json.loads(capsys.readouterr().out)
        assert again["state_hash"] == summary["state_hash"] and again["players"] == summary["players"], args


def test_simulate_unknown_profile_is_a_usage_error(capsys):
    assert cli.run(["simulate", str(EXAMPLE), "--player", "china=grandmaster"]) == 1
    err = capsys.readouterr().err
    assert "main.py simulate: error: unknown AI profile 'grandmaster'" in err and "Traceback" not in err


@pytest.mark.slow
def test_balance_end_to_end_with_a_process_pool(tmp_path):
    out = tmp_path / "e2e"
    result = subprocess.run([sys.executable, "main.py", "balance", str(EXAMPLE), str(NO_FAMINE), "--games", "2",
                             "--workers", "2", "--out", str(out), "--player", "random"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(rows(out / "games.csv")) == 4
    assert (out / "report.html").is_file() and "Traceback" not in result.stderr
    assert "henan_1944_no_famine vs base (2 pairs)" in result.stdout
