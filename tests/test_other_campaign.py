"""A campaign the program was not written for: tests/data/red_blue/red_blue.yaml, an invented
scenario with sides `red` and `blue` (other places, map, units, plans), written from
scenarios/FORMAT.md alone. Every command runs on it: validate, simulate (with a save), replay
--verify, balance, play and the screenshot tool, and the side options speak of its sides."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from game import cli, env_var

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "data" / "red_blue" / "red_blue.yaml"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def saves(tmp_path, monkeypatch):
    folder = tmp_path / "saves"
    monkeypatch.setenv(env_var("SAVES"), str(folder))
    return folder


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> dict:
    """One game, seed 3, computer against computer, with its save."""
    save = tmp_path_factory.mktemp("simulate") / "game.json"
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = cli.main(["simulate", str(SCENARIO), "--seed", "3", "--json", "--save", str(save)])
    return {"code": code, "summary": json.loads(buffer.getvalue()), "save": save}


def test_validate(capsys):
    code, out, err = run(capsys, "validate", str(SCENARIO))
    assert code == 0, err
    assert "ok: 'Tarn Valley 1923' (red_blue)" in out and "2 sides" in out and "0 warning(s)" in out


def test_simulate_plays_a_whole_game_and_saves_it(simulated):
    assert simulated["code"] == 0
    summary = simulated["summary"]
    assert summary["scenario"] == "red_blue" and summary["seed"] == 3
    assert summary["winner"] in ("red", "blue") and summary["verdict"] in ("decisive", "marginal")
    assert summary["turns"] == 8 and summary["final_date"] == "1923-06-01"
    assert summary["players"] == {"red": "default", "blue": "default"}
    assert set(summary["losses"]) == {"red", "blue"} and summary["explanation"]
    save = json.loads(simulated["save"].read_text())
    assert save["format"] == "hexwar-save" and save["players"] == {"red": "default", "blue": "default"}
    assert save["state_hash"] == summary["state_hash"]


def test_a_whole_ai_game_is_fast():
    from game.ai import make_players
    from game.rules.context import load_context
    from game.rules.engine import Game
    from game.rules.players import play_game

    ctx = load_context(SCENARIO)
    start = time.perf_counter()
    game = Game.new(ctx, 0)
    play_game(game, make_players(ctx, {"red": "default", "blue": "default"}, 0))
    assert game.over and time.perf_counter() - start < 2.0


def test_replay_verifies_the_simulated_save(capsys, simulated):
    code, out, err = run(capsys, "replay", str(simulated["save"]), "--verify")
    assert code == 0, err
    assert "Verified:" in out and simulated["summary"]["state_hash"] in out


def test_a_save_written_under_the_old_format_id_still_loads(capsys, simulated, tmp_path):
    """Saves made before the format id was made generic carry the program's old name in it."""
    from game.rules import saves
    from game.ui.session import save_info

    data = json.loads(simulated["save"].read_text())
    data["format"] = "ichigo1944-save"  # what the program wrote under its first name
    data["scenario"]["path"] = str(SCENARIO)
    data["checksum"] = saves._checksum(data)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    assert saves.read_save(old).state_hash == simulated["summary"]["state_hash"]
    info = save_info(old)
    assert info.error is None and info.scenario == "red_blue"
    code, out, err = run(capsys, "replay", str(old), "--verify")
    assert code == 0 and "Verified:" in out, err
    # something that is not a save of this program is still refused
    data["format"] = "spreadsheet"
    data["checksum"] = saves._checksum(data)
    old.write_text(json.dumps(data))
    code, out, err = run(capsys, "replay", str(old))
    assert code == 1 and "not a save file of this game" in err


def test_the_players_are_given_per_side_by_its_ids(capsys):
    code, out, err = run(capsys, "simulate", str(SCENARIO), "--seed", "1", "--json", "--side-profile", "red=simple",
                         "--player", "blue=random")
    assert code == 0, err
    first = json.loads(out)
    assert first["players"] == {"red": "simple", "blue": "random"}
    code, out, err = run(capsys, "simulate", str(SCENARIO), "--seed", "1", "--json", "--player", "random",
                         "--player", "red=simple")
    assert code == 0, err
    assert json.loads(out)["state_hash"] == first["state_hash"]


@pytest.mark.parametrize("option", ["--side-profile", "--player"])
def test_an_unknown_side_is_a_usage_error_listing_the_sides(capsys, option):
    code, out, err = run(capsys, "simulate", str(SCENARIO), option, "purple=simple")
    assert code == cli.EXIT_INPUT == 1
    assert err.strip().count("\n") == 0  # one line
    assert f"{option}: scenario 'red_blue' has no side 'purple'" in err and "(its sides: red, blue)" in err
    assert "Traceback" not in err and out == ""
    code, out, err = run(capsys, "simulate", str(SCENARIO), option, "bleu=simple")
    assert code == 1 and "did you mean 'blue'?" in err


@pytest.mark.slow
def test_balance_writes_the_report_and_follows_the_first_side(capsys, tmp_path):
    out_dir = tmp_path / "balance"
    code, out, err = run(capsys, "balance", str(SCENARIO), "--games", "4", "--workers", "1", "--quiet",
                         "--out", str(out_dir))
    assert code == 0, err
    report = json.loads((out_dir / "report.json").read_text())
    assert report["variants"]["base"]["n"] == 4 and report["variants"]["base"]["sides"] == ["red", "blue"]
    assert report["side"] == "red" and report["meta"]["players"] == {"red": "default", "blue": "default"}
    assert (out_dir / "report.html").is_file() and (out_dir / "games.csv").is_file()
    header = (out_dir / "games.csv").read_text().splitlines()[0]
    assert "player_red" in header and "player_blue" in header
    assert "base: 4 games; red wins" in out


@pytest.mark.slow
def test_balance_sweep_follows_the_report_side(capsys, tmp_path):
    out_dir = tmp_path / "sweep"
    code, out, err = run(capsys, "balance", str(SCENARIO), "--games", "2", "--workers", "1", "--quiet",
                         "--out", str(out_dir), "--sweep", "units.blue_3_div.strength=3000,9000",
                         "--report-side", "blue", "--player", "simple")
    assert code == 0, err
    report = json.loads((out_dir / "report.json").read_text())
    assert report["side"] == "blue" and [p["side"] for p in report["sweep"]["points"]] == ["blue", "blue"]
    assert (out_dir / "charts" / "sweep.png").is_file()
    code, out, err = run(capsys, "balance", str(SCENARIO), "--games", "2", "--out", str(tmp_path / "never"),
                         "--report-side", "japan")
    assert code == 1 and "--report-side: scenario 'red_blue' has no side 'japan'" in err
    assert "(its sides: red, blue)" in err and not (tmp_path / "never").exists()


@pytest.mark.slow
def test_play_side_without_a_scenario_is_checked_against_the_menus_scenario(capsys, tmp_path, saves):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "red_blue.yaml").write_text(SCENARIO.read_text())
    code, out, err = run(capsys, "play", "--scenario-dir", str(folder), "--side", "japan", "--frames", "1")
    assert code == 1
    assert "--side: scenario 'red_blue' has no side 'japan'" in err and "red, blue, hotseat, watch" in err
    code, out, err = run(capsys, "play", "--scenario-dir", str(folder), "--opponent", "grandmaster", "--frames", "1")
    assert code == 1 and "--opponent: " in err and "unknown AI profile 'grandmaster'" in err
    code, out, err = run(capsys, "play", "--scenario-dir", str(folder), "--side", "blue", "--frames", "2")
    assert code == 0, err


@pytest.mark.slow
def test_play_opens_a_game_of_it(capsys, saves):
    code, out, err = run(capsys, "play", str(SCENARIO), "--frames", "30", "--side", "red", "--seed", "5",
                         "--size", "800x560")
    assert code == 0, err
    assert "Traceback" not in err


def test_side_colours_come_from_the_scenario():
    from game.rules.context import load_context
    from game.ui.palette import NEUTRAL, side_colour

    ctx = load_context(SCENARIO)
    assert [side_colour(ctx, k) for k in range(2)] == [(0xB0, 0x30, 0x30), (0x30, 0x50, 0xB0)]
    assert side_colour(ctx, -1) == side_colour(ctx, 2) == NEUTRAL


@pytest.mark.slow
def test_simulate_end_to_end_in_its_own_process(simulated):
    result = subprocess.run([sys.executable, "main.py", "simulate", str(SCENARIO), "--seed", "3", "--json",
                             "--player", "red=default", "--side-profile", "blue=default"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state_hash"] == simulated["summary"]["state_hash"]  # same game


@pytest.mark.slow
def test_the_screenshot_tool_works_on_it(tmp_path):
    out = tmp_path / "shots"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    result = subprocess.run([sys.executable, "tools/screenshots.py", str(out), "--scenario", str(SCENARIO),
                             "--size", "1024x700", "--seed", "4"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "errors caught by the window" not in result.stderr
    names = {p.stem for p in out.glob("*.png")}
    assert {"01_menu", "02_load_dialog", "03_turn_summary", "04_game_start", "05_unit_selected", "08_overlay_supply",
            "09_ai_turn", "10_help", "11_end_screen"} <= names, result.stdout
    assert all(p.stat().st_size > 1000 for p in out.glob("*.png"))
