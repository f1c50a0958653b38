"""Every file the program opens is untrusted (issue 17 §1 and §4): the one safe reader
(game/safefile.py) refuses special files, loops and oversized files before reading; a scenario's
and the command line's AI profiles stay inside the scenario's folder tree; a save is rebuilt from
its actions and refused when its snapshot was edited; interrupted saves leave no litter."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT
from game import safefile
from game.ai import ProfileError, make_player
from game.atomic import clean_stale_temporaries, write_text_atomic
from game.diagnostics import InputError
from game.rules.context import load_context
from game.rules.engine import Game
from game.rules.players import RandomPlayer
from game.rules.saves import _checksum, load_game, write_save
from game.scenario.validate import validate_file


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def problem(path: Path, limit: int = 1 << 20) -> str:
    with pytest.raises(safefile.FileProblem) as exc:
        safefile.raw_read(path, limit, what="scenario file")
    return str(exc.value)


# -- the reader --------------------------------------------------------------------------------


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "s.yaml"
    os.mkfifo(fifo)
    start = time.perf_counter()
    assert "is a FIFO (named pipe), expected a scenario file" in problem(fifo)
    assert time.perf_counter() - start < 1.0


def test_devices_and_links_to_them_are_refused(tmp_path):
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    assert "is a device" in problem(Path("/dev/zero"))
    assert "is a device" in problem(link)


def test_a_symlink_loop_and_a_folder_are_refused(tmp_path):
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    assert "symlink loop" in problem(tmp_path / "a.yaml")
    with pytest.raises(safefile.FileProblem, match="symlink loop"):
        safefile.resolve(tmp_path / "a.yaml")
    assert "is a folder" in problem(tmp_path)


def test_the_size_is_checked_before_reading_and_the_read_is_bounded(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * 1001)
    assert "1,001 bytes, over the limit of 1,000 bytes" in problem(big, 1000)
    assert safefile.raw_read(big, 1001) == b"x" * 1001


def test_absurd_path_texts_are_refused_before_the_system_sees_them(tmp_path):
    assert "over the limit" in problem(Path("a" * 10_000))
    with pytest.raises(safefile.FileProblem, match="NUL byte"):
        safefile.check_path_text("a\x00b")
    assert "too long" in problem(tmp_path / ("a" * 300))  # one name over the system's 255


def test_special_files_as_scenarios_give_a_clean_error_line(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    for name, says in (("fifo.yaml", "is a FIFO"), ("zero.yaml", "is a device"), ("loop.yaml", "symlink loop")):
        got = [d.format() for d in validate_file(tmp_path / name).result.diagnostics]
        assert len(got) == 1 and got[0].startswith(f"{tmp_path / name}:1:1: error: ") and says in got[0], got


@pytest.mark.slow
def test_the_cli_exits_1_on_special_files_quickly(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    for name in ("fifo.yaml", "zero.yaml"):
        start = time.perf_counter()
        done = run("validate", str(tmp_path / name), timeout=20)
        assert done.returncode == 1 and "Traceback" not in done.stderr and ": error: " in done.stderr
        assert time.perf_counter() - start < 10


def test_a_world_sized_map_is_refused_in_under_a_second(tmp_path):
    text = EXAMPLE.read_text().replace(
        "lat_min: 32.0, lat_max: 35.6, lon_min: 110.8, lon_max: 115.6, hex_km: 30",
        "lat_min: -80, lat_max: 80, lon_min: -180, lon_max: 180, hex_km: 1")
    case = tmp_path / "world.yaml"
    case.write_text(text)
    start = time.perf_counter()
    got = [d.format() for d in validate_file(case).result.diagnostics.errors]
    assert time.perf_counter() - start < 1.0
    assert len(got) == 1 and "hexes, over the limit of 250,000" in got[0]


def test_a_symlinked_base_inside_the_folder_still_works_and_one_outside_does_not(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.copy(EXAMPLE, shared / "base.yaml")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "base.yaml").symlink_to(shared / "base.yaml")  # resolves outside mine/
    (mine / "v.yaml").write_text("extends: base.yaml\n")
    got = [d.format() for d in validate_file(mine / "v.yaml").result.diagnostics.errors]
    assert len(got) == 1 and "reaches outside the scenario folder" in got[0]
    assert validate_file(mine / "v.yaml", root=tmp_path).ok


# -- AI profiles --------------------------------------------------------------------------------


def scenario_with_profile(tmp_path: Path, profile: str) -> Path:
    case = tmp_path / "s.yaml"
    case.write_text(EXAMPLE.read_text().replace("    profile: offensive\n", f"    profile: {profile}\n", 1))
    return case


@pytest.mark.parametrize("profile, says", [
    ("/etc/passwd", "AI profile '/etc/passwd' is outside the scenario's folder tree"),
    ("../elsewhere/p.yaml", "AI profile '../elsewhere/p.yaml' is outside the scenario's folder tree"),
    ("nosuch", "unknown AI profile 'nosuch'"),
    ("bad.yaml", "AI profile '/etc/passwd' is outside"),  # a profile's own extends is confined too
])
def test_validate_reports_a_profile_outside_the_folder_at_its_line(tmp_path, profile, says):
    case = scenario_with_profile(tmp_path, profile)
    (tmp_path / "bad.yaml").write_text("extends: /etc/passwd\n")
    line = next(k for k, text in enumerate(case.read_text().splitlines(), 1) if f"profile: {profile}" in text)
    done = run("validate", str(case))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{case}:{line}:14: error: {says}" in done.stderr, done.stderr


def test_a_profile_file_inside_the_folder_is_fine(tmp_path):
    case = scenario_with_profile(tmp_path, "mine.yaml")
    (tmp_path / "mine.yaml").write_text("extends: offensive\nmin_odds: 2\n")
    done = run("validate", str(case))
    assert done.returncode == 0, done.stderr
    player = make_player(load_context(case), "japan", "default", 0)
    assert player.profile.min_odds == 2


def test_a_command_line_profile_outside_the_scenario_folder_is_refused(tmp_path):
    outside = tmp_path / "p.yaml"
    outside.write_text("extends: offensive\n")
    with pytest.raises(ProfileError, match="outside the scenario's folder tree"):
        make_player(load_context(EXAMPLE), "japan", str(outside), 0)
    with pytest.raises(ProfileError, match="outside the scenario's folder tree"):
        make_player(load_context(EXAMPLE), "japan", "/etc/passwd", 0)


# -- saves --------------------------------------------------------------------------------------


def played_save(tmp_path: Path, actions: int = 30) -> tuple[Path, dict]:
    ctx = load_context(EXAMPLE)
    game = Game.new(ctx, 3)
    player = RandomPlayer(seed=1, end_bias=0.3)
    taken = []
    for _ in range(actions):
        action = player.choose(game, game.legal_actions())
        game.apply(action)
        taken.append(action)
    path = tmp_path / "s.json"
    write_save(path, game, taken)
    return path, json.loads(path.read_text())


def rewrite(path: Path, body: dict) -> None:
    body["checksum"] = _checksum(body)  # what a forger does: the checksum is no secret
    path.write_text(json.dumps(body))


def test_an_edited_snapshot_with_a_recomputed_checksum_is_refused(tmp_path):
    path, body = played_save(tmp_path)
    unit = next(iter(body["state"]["units"])) if isinstance(body["state"]["units"], dict) else 0
    units = body["state"]["units"]
    target = units[unit] if isinstance(units, dict) else units[0]
    key = "strength" if "strength" in target else next(k for k, v in target.items() if isinstance(v, int))
    target[key] = 103_260
    rewrite(path, body)
    with pytest.raises(InputError, match="the save's state snapshot is not the game its actions make: it differs "
                                         "at state.units"):
        load_game(path)
    done = run("replay", str(path), "--verify")
    assert done.returncode == 1 and "differs at state.units" in done.stderr and "Verified" not in done.stdout


def test_a_save_claiming_another_scenario_is_refused_by_name(tmp_path):
    path, body = played_save(tmp_path, 5)
    body["scenario"]["id"] = "somewhere_else"
    rewrite(path, body)
    with pytest.raises(InputError, match="the save is of scenario 'somewhere_else', but .* is scenario 'henan_1944'"):
        load_game(path)


def test_an_illegal_action_stops_the_load_with_its_index(tmp_path):
    path, body = played_save(tmp_path, 5)
    body["actions"][2] = "move nobody 1,1"
    rewrite(path, body)
    with pytest.raises(InputError, match=r"action 3 of 5 \('move nobody 1,1'\) cannot be replayed"):
        load_game(path)


def test_a_good_save_loads_as_its_replay(tmp_path):
    path, body = played_save(tmp_path)
    game, save = load_game(path)
    assert game.state.state_hash() == body["state_hash"] and len(save.actions) == 30


def test_a_dead_writers_temporary_file_is_removed_at_the_next_save(tmp_path):
    target = tmp_path / "s.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".s.json.{dead.pid}-abcd.tmp"
    stale.write_text("half")
    live = tmp_path / f".s.json.{os.getpid()}-efgh.tmp"  # a write of this very process: kept
    live.write_text("busy")
    other = tmp_path / f".t.json.{dead.pid}-abcd.tmp"  # another file's: not this save's business
    other.write_text("half")
    write_text_atomic(target, "new")
    assert not stale.exists() and live.exists() and other.exists() and target.read_text() == "new"
    assert clean_stale_temporaries(target) == []


KILLER = """
import sys, time
sys.path.insert(0, {root!r})
from game.atomic import write_text_atomic
n = 0
while True:
    n += 1
    write_text_atomic(__import__("pathlib").Path({target!r}), ("save %d " % n) * 20000 + "end\\n")
"""


@pytest.mark.slow
def test_kill_9_during_saves_never_loses_or_corrupts_the_previous_save(tmp_path):
    import random

    target = tmp_path / "s.json"
    write_text_atomic(target, ("save 0 " * 20000) + "end\n")
    rng = random.Random(17)
    for _ in range(25):
        child = subprocess.Popen([sys.executable, "-c", KILLER.format(root=str(ROOT), target=str(target))])
        time.sleep(0.15 + rng.random() * 0.25)
        child.send_signal(signal.SIGKILL)
        child.wait()
        text = target.read_text()
        assert text.endswith("end\n") and len(set(text.split(" end")[0].split(" save "))) <= 2, "a torn save"
    write_text_atomic(target, "last\n")
    left = [p.name for p in tmp_path.iterdir() if p.name != "s.json"]
    assert left == [], f"temporary files left behind: {left}"
