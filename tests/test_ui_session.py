"""The interface's session (headless: no pygame): undo, the AI worker's determinism, saves,
autosaves, the per-turn history and the scenario list."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from game.ai import make_player, make_players, player_seed
from game.diagnostics import InputError
from game.rules.actions import Attack, EndPhase, Move
from game.rules.context import load_context
from game.rules.engine import Game, IllegalAction
from game.rules.metrics import corridor_places
from game.rules.players import play_game
from game.ui.session import HUMAN, AIError, Session, save_infos, saves_dir, scenario_choices
from worlds import CORRIDOR_7, combat_table, unit, world

ROOT = Path(__file__).resolve().parent.parent
HENAN = ROOT / "scenarios" / "examples" / "henan_1944.yaml"


@pytest.fixture(autouse=True)
def saves_in_tmp(tmp_path, monkeypatch):
    """Autosaves and saves_dir() go to a temporary folder, never the user's."""
    folder = tmp_path / "saves"
    monkeypatch.setenv("ICHIGO_SAVES", str(folder))
    return folder


@pytest.fixture(scope="module")
def henan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("henan")
    shutil.copy(HENAN, folder / "henan.yaml")
    return load_context(folder / "henan.yaml")


def duel(tmp_path):
    """Japan at 1,1 and China at 4,1 on a one-row corridor; combats roll a die (two results)."""
    return world(tmp_path, cols=7, rows=3, terrain_rows=CORRIDOR_7,
                 units=[unit("jp", "japan", 1, 1), unit("cn", "china", 4, 1)],
                 combat=combat_table("nr", "dl"))


def run_ai(session: Session, timeout: float = 30.0, until=None) -> int:
    """Let the AI worker play until a human is to move, the game ends or `until(game)` holds;
    returns the actions applied."""
    applied = 0
    deadline = time.monotonic() + timeout
    while not session.game.over and not session.human_to_move and not (until and until(session.game)):
        session.start_ai()
        action = session.poll_ai()
        if action is None:
            assert time.monotonic() < deadline, "the AI did not finish in time"
            time.sleep(0.001)
            continue
        session.apply(action)
        applied += 1
    return applied


# ---------------------------------------------------------------------------------------------
# undo


def test_undo_takes_back_moves_and_is_refused_after_an_attack(tmp_path):
    ctx = duel(tmp_path)
    s = Session(ctx, 1, {"japan": HUMAN, "china": HUMAN}, autosave=False)
    start = s.game.state.state_hash()
    assert not s.can_undo() and not s.undo()
    s.apply(Move("jp", (2, 1)))
    moved = s.game.state.state_hash()
    s.apply(Move("jp", (3, 1)))
    assert s.can_undo() and len(s.actions) == 2
    assert s.undo() and s.game.state.state_hash() == moved and s.actions == [Move("jp", (2, 1))]
    assert s.undo() and s.game.state.state_hash() == start and s.actions == []
    assert not s.can_undo()
    # an attack rolls the die: what it revealed cannot be taken back, nor the moves before it
    s.apply(Move("jp", (3, 1)))
    version = s.version
    s.apply(Attack((4, 1), ((3, 1),)))
    assert s.version == version + 1
    assert not s.can_undo() and not s.undo()
    assert s.actions == [Move("jp", (3, 1)), Attack((4, 1), ((3, 1),))]


def test_ending_the_phase_clears_undo_and_illegal_actions_change_nothing(tmp_path):
    ctx = duel(tmp_path)
    s = Session(ctx, 1, {"japan": HUMAN, "china": HUMAN}, autosave=False)
    s.apply(Move("jp", (2, 1)))
    s.apply(EndPhase())
    assert s.side_to_move == "china" and not s.can_undo()
    before = s.game.state.state_hash()
    with pytest.raises(IllegalAction, match="JP is not China's to move"):
        s.apply(Move("jp", (1, 1)))
    assert s.game.state.state_hash() == before and len(s.actions) == 2


# ---------------------------------------------------------------------------------------------
# the AI worker


def test_ai_worker_replays_exactly_like_play_game(henan):
    """Watch mode: every phase played by the worker on a clone and applied through the session
    gives the same game, to the end, as play_game with the same players."""
    profiles = {"japan": "default", "china": "simple"}
    s = Session(henan, 4, profiles, autosave=False)
    run_ai(s)
    assert s.game.over
    reference = Game.new(henan, 4)
    taken = play_game(reference, make_players(henan, profiles, 4))
    assert [str(a) for a in s.actions] == [str(a) for a in taken]
    assert s.game.state.state_hash() == reference.state.state_hash()


def test_same_seed_and_human_actions_give_the_same_game(henan):
    """A human who only ends phases against the AI: the same game as play_game with a scripted
    player for the human side and the AI's own seeded player."""

    class Ender:
        name = "ender"

        def choose(self, game, actions):
            return EndPhase()

    s = Session(henan, 11, {"japan": HUMAN, "china": "default"}, autosave=False)
    for _ in range(3):  # three turns
        assert s.human_to_move and not s.ai_busy()
        s.apply(EndPhase())
        assert not s.human_to_move
        run_ai(s)
    reference = Game.new(henan, 11)
    players = {"japan": Ender(), "china": make_player(henan, "china", "default", player_seed(11, 1))}
    for _ in s.actions:
        reference.apply(players[reference.side_to_move()].choose(reference, reference.legal_actions()))
    assert s.game.state.state_hash() == reference.state.state_hash()


def test_actions_from_outside_the_ai_queue_are_refused_while_it_plays(henan):
    s = Session(henan, 2, {"japan": "default", "china": HUMAN}, autosave=False)
    s.start_ai()
    assert s.ai_busy()
    with pytest.raises(IllegalAction, match="the computer is playing Japan"):
        s.apply(EndPhase())
    assert not s.can_undo()
    run_ai(s)
    assert s.human_to_move and not s.ai_busy()


def test_stop_ends_the_worker_quickly(henan):
    s = Session(henan, 3, {"japan": "default", "china": "default"}, autosave=False)
    s.start_ai()
    start = time.monotonic()
    s.stop()
    assert time.monotonic() - start < 1.5
    assert s._worker is not None and not s._worker.is_alive()


def test_a_failing_ai_is_reported_once_and_not_asked_again(henan):
    s = Session(henan, 3, {"japan": "default", "china": HUMAN}, autosave=False)

    class Broken:
        name = "broken"

        def choose(self, game, actions):
            raise ZeroDivisionError("oops")

    s._ai["japan"] = Broken()
    s.start_ai()
    s._worker.join(5)
    with pytest.raises(AIError, match="computer player for Japan failed: ZeroDivisionError: oops"):
        s.poll_ai()
    assert s.poll_ai() is None and not s.ai_busy()
    s.start_ai()
    assert s._worker is not None and not s._worker.is_alive()


# ---------------------------------------------------------------------------------------------
# saves


def test_save_and_load_keep_the_state_the_players_and_the_history(henan, tmp_path):
    profiles = {"japan": "default", "china": "default"}
    s = Session(henan, 6, profiles, autosave=False)
    run_ai(s, until=lambda g: g.state.turn >= 4)
    s.stop()
    path = tmp_path / "mid.json"
    s.save(path)
    back = Session.load(path, autosave=False)
    assert back.game.state.state_hash() == s.game.state.state_hash()
    assert back.players == profiles and back.seed == 6 and back.actions == s.actions
    assert back.history == s.history and back.notice is None
    # the loaded game goes on exactly as the uninterrupted one: the AI players were brought along
    run_ai(s)
    run_ai(back)
    assert back.game.state.state_hash() == s.game.state.state_hash()


def test_broken_saves_raise_input_error_with_a_clear_message(henan, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ this is not json", encoding="utf-8")
    with pytest.raises(InputError, match="not a save file, or a damaged one"):
        Session.load(bad)
    with pytest.raises(InputError, match="error: file not found: "):
        Session.load(tmp_path / "missing.json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "somebody-else"}), encoding="utf-8")
    with pytest.raises(InputError, match="not a save file of this game"):
        Session.load(other)


def saved_duel(tmp_path):
    """A hotseat duel with one move played, saved: (context, session, save path)."""
    ctx = duel(tmp_path)
    s = Session(ctx, 1, {"japan": HUMAN, "china": HUMAN}, autosave=False)
    s.apply(Move("jp", (2, 1)))
    path = tmp_path / "duel.json"
    s.save(path)
    return ctx, s, path


def test_a_save_of_a_foreign_or_changed_scenario_is_refused(tmp_path):
    ctx, s, path = saved_duel(tmp_path)
    assert Session.load(path, autosave=False).actions == s.actions
    scenario = Path(ctx.path)
    scenario.write_text(scenario.read_text().replace("name: JP", "name: JP changed"), encoding="utf-8")
    with pytest.raises(InputError, match="made with a different version of scenario 'test_world'"):
        Session.load(path)
    scenario.unlink()
    with pytest.raises(InputError, match="scenario .* is not there"):
        Session.load(path)


def test_a_save_whose_actions_do_not_replay_is_refused_with_the_action(tmp_path):
    _, s, path = saved_duel(tmp_path)
    # rewrite the save as if an older engine had recorded another action (checksum redone)
    from game.rules import saves

    body = json.loads(path.read_text())
    body["actions"] = ["move jp 5,1"]
    body["checksum"] = saves._checksum(body)
    path.write_text(json.dumps(body))
    with pytest.raises(InputError) as exc:  # the snapshot is never taken on trust
        Session.load(path, autosave=False)
    text = str(exc.value)
    assert text.startswith(f"{path}:1:1: error: action 1 of 1 ('move jp 5,1') cannot be replayed"), text


def test_autosave_each_turn_keeps_the_last_three(henan, saves_in_tmp):
    s = Session(henan, 5, {"japan": "simple", "china": "simple"})
    run_ai(s, until=lambda g: g.state.turn >= 6)
    s.stop()
    names = sorted(p.name for p in saves_in_tmp.iterdir())
    assert names == ["autosave-turn04.json", "autosave-turn05.json", "autosave-turn06.json", "autosave.json"]
    assert s.autosave_error is None
    auto = Session.load(saves_in_tmp / "autosave.json", autosave=False)
    assert auto.game.state.turn == 6 and auto.game.state.state_hash() == s.game.state.state_hash()
    infos = save_infos()
    assert {i.path.name for i in infos} == set(names) and all(i.error is None for i in infos)
    assert {i.turn for i in infos} == {4, 5, 6} and infos[0].scenario == "henan_1944"


def test_saves_dir_is_created_and_bad_files_are_listed_with_an_error(saves_in_tmp):
    assert not saves_in_tmp.exists()
    assert saves_dir() == saves_in_tmp and saves_in_tmp.is_dir()
    (saves_in_tmp / "junk.json").write_text("garbage")
    (saves_in_tmp / "empty.json").write_text(json.dumps({"format": "ichigo1944-save"}))
    errors = {i.path.name: i.error for i in save_infos()}
    assert errors == {"junk.json": "unreadable or damaged", "empty.json": "a save with missing parts"}


# ---------------------------------------------------------------------------------------------
# history and scenarios


def test_history_has_one_record_per_finished_turn(henan):
    s = Session(henan, 8, {"japan": "default", "china": "default"}, autosave=False)
    assert s.history == [] and s.start.turn == 0
    assert s.start.corridor_total == len(corridor_places(henan)) > 2
    for turn in (1, 2, 3):
        run_ai(s, until=lambda g, turn=turn: g.state.turn != turn)
        assert [r.turn for r in s.history] == list(range(1, turn + 1))
    s.stop()
    last = s.history[-1]
    state = s.game.state
    assert last.date == state.date.isoformat()
    assert last.losses == {side: state.total_losses(side) for side in henan.sides}
    assert last.held["japan"] == int((state.control == 0).sum())
    assert set(last.tracks) == set(henan.tracks)
    run_ai(s)
    assert s.game.over and len(s.history) == s.game.state.turn


def test_scenario_choices_list_base_and_variants_and_keep_errors(tmp_path):
    choices = scenario_choices(ROOT / "scenarios")
    assert choices[0].id == "ichigo_1944" and not choices[0].variant and choices[0].description
    variants = [c for c in choices if c.variant]
    assert len(variants) == len(list((ROOT / "scenarios").glob("whatif_*.yaml")))
    assert all(c.ok and c.title and c.description for c in choices)
    shutil.copy(HENAN, tmp_path / "good.yaml")
    (tmp_path / "broken.yaml").write_text("meta: [unclosed\n")
    listed = scenario_choices(tmp_path)
    assert [c.ok for c in listed] == [True, False]
    assert "broken.yaml:" in listed[1].error
