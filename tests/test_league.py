"""The league: the ratings and comparisons on games whose answer is known, and `main.py league`
end to end on the example scenario (tiny leagues: a few players, a few games)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import EXAMPLE, ROOT
from game import cli
from game.balance import league


def record(seed: int, a: str, b: str, score: float, winner: str | None) -> dict:
    return {"variant": league.pairing_name(["japan", "china"], a, b), "seed": seed, "score": score,
            "winner": winner, "league": {"japan": a, "china": b}}


PLAYERS = {"japan": ["strong", "weak"], "china": ["x", "y"]}


# ---------------------------------------------------------------------------------------------
# Bradley-Terry

def test_bradley_terry_recovers_known_strengths():
    rng = np.random.default_rng(7)
    true = np.array([1.0, 0.3, -0.2, -1.1])
    size = len(true)
    wins = np.zeros((size, size))
    games = np.zeros((size, size))
    for i in range(size):
        for j in range(i + 1, size):
            n = 4000
            p = 1 / (1 + np.exp(-(true[i] - true[j])))
            k = rng.binomial(n, p)
            wins[i, j], wins[j, i], games[i, j] = k, n - k, n
    fitted = league.bradley_terry(wins, games, prior=0)
    assert np.allclose(fitted, true - true.mean(), atol=0.06)
    assert abs(fitted.mean()) < 1e-9


def test_bradley_terry_draws_only_rate_everyone_equal_and_a_clean_sweep_stays_finite():
    games = np.array([[0, 10.0], [0, 0]])
    assert np.allclose(league.bradley_terry(np.array([[0, 5.0], [5.0, 0]]), games), 0)
    sweep = league.bradley_terry(np.array([[0, 10.0], [0, 0]]), games)
    assert np.all(np.isfinite(sweep)) and sweep[0] > 0 > sweep[1]
    # the prior is one virtual draw: 10.5 of 11 points, odds 21:1
    assert sweep[0] - sweep[1] == pytest.approx(np.log(21), rel=1e-6)


def test_an_entity_that_met_nobody_is_rated_zero():
    wins = np.array([[0, 3.0, 0], [1.0, 0, 0], [0, 0, 0]])
    games = np.array([[0, 4.0, 0], [0, 0, 0], [0, 0, 0]])
    logs = league.bradley_terry(wins, games)
    assert logs[2] == 0 and logs[0] > 0 > logs[1]


# ---------------------------------------------------------------------------------------------
# the analysis from records

def known_league() -> list[dict]:
    """'strong' Japan scores 3 more than 'weak' on every seed and opponent, and wins where 'weak'
    draws; China 'x' and 'y' are alike."""
    out = []
    for seed in range(12):
        for b in PLAYERS["china"]:
            base = float(seed % 4)
            out.append(record(seed, "strong", b, base + 3, "japan"))
            out.append(record(seed, "weak", b, base, None if seed % 2 else "china"))
    return out


def test_the_stronger_player_is_found_game_by_game():
    result = league.analyse(known_league(), ["japan", "china"], PLAYERS, "japan")
    (japan,) = result["pairwise"]["japan"]
    assert (japan["a"], japan["b"], japan["stronger"]) == ("strong", "weak", "strong")
    assert japan["pairs"] == 24 and japan["mean_diff"] == 3 and japan["p_value"] < 0.05
    assert japan["a_better"] == 24 and japan["b_better"] == japan["ties"] == 0
    (china,) = result["pairwise"]["china"]
    assert china["stronger"] is None and china["p_value"] == 1.0 and china["ties"] == 24
    # China's own score is the negated score of Japan (the score side)
    cell = result["cross_table"]["china"]["x"]["vs"]["strong"]
    assert cell["own_score"]["mean"] == pytest.approx(-4.5) and cell["score"]["mean"] == pytest.approx(4.5)
    assert cell["loss"]["count"] == 12 and cell["n"] == 12
    weak = result["cross_table"]["japan"]["weak"]["total"]
    assert (weak["win"]["count"], weak["draw"]["count"], weak["loss"]["count"]) == (0, 12, 12)
    lo, hi = weak["draw"]["ci"]
    assert lo < 0.5 < hi


def test_ratings_order_the_players_and_resample_the_seeds():
    result = league.analyse(known_league(), ["japan", "china"], PLAYERS, "japan")
    japan = result["ratings"]["japan"]
    assert [r["player"] for r in japan] == ["strong", "weak"]
    assert japan[0]["rating"] > japan[1]["rating"]
    assert japan[0]["ci"][0] <= japan[0]["rating"] <= japan[0]["ci"][1]
    assert japan[1]["ci"][0] < japan[1]["ci"][1]  # the draws and losses vary with the seed
    everyone = [r["rating"] for s in result["ratings"].values() for r in s]
    assert abs(sum(everyone)) < 1e-6
    china = {r["player"]: r["rating"] for r in result["ratings"]["china"]}
    assert china["x"] == pytest.approx(china["y"])
    # the analysis is reproducible: the same records give the same intervals
    again = league.analyse(known_league(), ["japan", "china"], PLAYERS, "japan")
    assert again["ratings"] == result["ratings"]


def test_only_games_played_by_both_are_compared():
    records = [r for r in known_league() if not (r["league"]["japan"] == "weak" and r["seed"] < 4)]
    records.append({"variant": "not of this league", "seed": 1, "score": 9.0, "winner": "japan", "league": {}})
    result = league.analyse(records, ["japan", "china"], PLAYERS, "japan")
    assert result["games"] == 40
    assert result["pairwise"]["japan"][0]["pairs"] == 16


def test_members_are_named_once_and_a_file_by_its_stem(tmp_path):
    path = tmp_path / "bold.yaml"
    path.write_text("extends: offensive\n")
    members = league.members_from(["simple", str(path), "simple"])
    assert [(m.name, m.profile) for m in members] == [("simple", "simple"), ("bold", str(path))]
    other = tmp_path / "x"
    other.mkdir()
    (other / "bold.yaml").write_text("extends: default\n")
    with pytest.raises(league.LeagueError, match="two players are named 'bold'"):
        league.members_from([str(path), str(other / "bold.yaml")])
    names = [m.name for m in league.default_members()]
    assert names[:2] == ["random", "simple"] and "default" in names and "offensive" in names


def test_pairings_need_two_sides():
    with pytest.raises(league.LeagueError, match="two sides"):
        league.pairings("x.yaml", ["a", "b", "c"], {}, "keyed")


# ---------------------------------------------------------------------------------------------
# main.py league

def run_league(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.run(["league", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_league_plays_every_pairing_on_the_same_seeds(capsys, tmp_path):
    out = tmp_path / "lg"
    code, stdout, err = run_league(capsys, str(EXAMPLE), "--players", "random,simple", "--games", "3",
                                   "--seed", "5", "--workers", "1", "--out", str(out))
    assert code == 0, err
    with open(out / "games.csv", newline="") as fh:
        games = list(csv.DictReader(fh))
    pairs = [("random", "random"), ("random", "simple"), ("simple", "random"), ("simple", "simple")]
    assert [(g["player_japan"], g["player_china"], g["seed"]) for g in games] == \
        [(a, b, str(s)) for a, b in pairs for s in (5, 6, 7)]
    records = [json.loads(line) for line in (out / "games.jsonl").read_text().splitlines()]
    assert all(r["league"] == r["players"] for r in records)
    data = json.loads((out / "league.json").read_text())
    assert data["games"] == 12 and data["sides"] == ["japan", "china"] and data["score_side"] == "japan"
    assert set(data["cross_table"]["japan"]) == {"random", "simple"}
    assert {r["player"] for r in data["ratings"]["china"]} == {"random", "simple"}
    assert data["meta"]["games_per_pairing"] == 3 and data["meta"]["crashed"] == 0
    html = (out / "report.html").read_text()
    assert "japan: each player against each opponent" in html and "charts/ratings.png" in html
    assert (out / "charts" / "ratings.png").stat().st_size > 1000
    assert "japan ratings:" in stdout and "china stronger" in stdout
    assert "league  12/12 games  100%" in err
    # the same league again plays the same games
    code, _, err = run_league(capsys, str(EXAMPLE), "--players", "random,simple", "--games", "3", "--seed", "5",
                              "--workers", "1", "--out", str(tmp_path / "again"), "-q")
    assert code == 0, err
    again = [json.loads(line) for line in (tmp_path / "again" / "games.jsonl").read_text().splitlines()]
    assert [r["state_hash"] for r in again] == [r["state_hash"] for r in records]


def test_side_players_choose_one_side_and_a_profile_file_joins(capsys, tmp_path):
    bold = tmp_path / "bold.yaml"  # a profile file must lie in the scenario's folder tree
    bold.write_text("extends: offensive\n")
    scenario = tmp_path / EXAMPLE.name
    shutil.copy(EXAMPLE, scenario)
    out = tmp_path / "lg"
    code, _, err = run_league(capsys, str(scenario), "--players", f"simple,{bold}", "--side-players",
                              "china=random", "--games", "1", "--workers", "1", "--out", str(out), "-q")
    assert code == 0, err
    data = json.loads((out / "league.json").read_text())
    assert data["players"] == {"japan": ["simple", "bold"], "china": ["random"]}
    assert data["games"] == 2


@pytest.mark.parametrize("args, message", [
    (["--players", "simple,grandmaster"], "unknown AI profile 'grandmaster'"),
    (["--players", "simple,/etc/passwd"], "AI profile '/etc/passwd' is outside the scenario's folder tree"),
    (["--players", ","], "--players expects P1,P2,..."),
    (["--side-players", "korea=simple"], "scenario 'henan_1944' has no side 'korea'"),
    (["--side-players", "japan"], "--side-players expects SIDE=P1,P2,..."),
    (["--games", "0"], "--games expects at least 1"),
    (["--workers", "0"], "--workers expects at least 1"),
])
def test_league_usage_errors_exit_1_with_a_clear_message(capsys, tmp_path, args, message):
    out = tmp_path / "never"
    code, stdout, err = run_league(capsys, str(EXAMPLE), *args, "--out", str(out))
    assert code == 1, err
    assert message in err and "Traceback" not in err and stdout == ""
    assert not out.exists()


def test_a_bad_scenario_is_reported_at_its_line(capsys, tmp_path):
    code, _, err = run_league(capsys, str(tmp_path / "missing.yaml"))
    assert code == 1 and "missing.yaml:1:1: error: file not found" in err


@pytest.mark.slow
def test_league_end_to_end_with_a_process_pool(tmp_path):
    out = tmp_path / "e2e"
    result = subprocess.run([sys.executable, "main.py", "league", str(EXAMPLE), "--players", "random,simple",
                             "--games", "2", "--workers", "2", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "league.json").read_text())["games"] == 8
    assert "Traceback" not in result.stderr


def test_ctrl_c_writes_the_finished_games_and_exits_130(capsys, tmp_path, monkeypatch):
    from game.balance import runner

    played = []
    real = runner.run_job

    def interrupted_at_the_sixth(job):
        if len(played) == 5:
            raise KeyboardInterrupt
        played.append(job)
        return real(job)

    monkeypatch.setattr(runner, "run_job", interrupted_at_the_sixth)
    out = tmp_path / "stopped"
    code, _, err = run_league(capsys, str(EXAMPLE), "--players", "random,simple", "--games", "5", "--workers", "1",
                              "-q", "--out", str(out))
    assert code == 130 and "interrupted" in err and "Traceback" not in err
    data = json.loads((out / "league.json").read_text())
    assert data["games"] == 5 and data["meta"]["interrupted"] is True
    # played seed by seed (the first seed's four pairings, then the second seed's first), written by pairing
    assert [r["seed"] for r in map(json.loads, (out / "games.jsonl").read_text().splitlines())] == [0, 1, 0, 0, 0]


@pytest.mark.slow
def test_league_on_a_dask_cluster_plays_the_same_games(capsys, tmp_path):
    distributed = pytest.importorskip("distributed", reason="needs Dask distributed: pip install -e '.[cluster]'")
    args = ["--players", "random,simple", "--games", "2", "-q"]
    assert run_league(capsys, str(EXAMPLE), *args, "--workers", "1", "--out", str(tmp_path / "local"))[0] == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        code, _, err = run_league(capsys, str(EXAMPLE), *args, "--scheduler", cluster.scheduler_address,
                                  "--out", str(tmp_path / "dask"))
    assert code == 0, err

    def hashes(name: str) -> list[str]:
        lines = (tmp_path / name / "games.jsonl").read_text().splitlines()
        return [json.loads(line)["state_hash"] for line in lines]

    assert hashes("dask") == hashes("local")
