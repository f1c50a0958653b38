"""The window driven through the real event queue (dummy video and audio drivers): the menu, new
game, load with a broken save, closing during the computer's turn, the end screen."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import shutil  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pygame  # noqa: E402
import pygame_gui  # noqa: E402
import pytest  # noqa: E402

from game.rules.context import load_context  # noqa: E402
from game.ui import dialogs  # noqa: E402
from game.ui.app import App  # noqa: E402
from game.ui.end_screen import EndScreen  # noqa: E402
from game.ui.menu import MenuScreen, parse_seed  # noqa: E402
from game.ui.session import HUMAN, Session  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "scenarios" / "examples"


@pytest.fixture
def scenarios(tmp_path):
    """A small scenario folder: the Henan example and its no-famine variant."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name in ("henan_1944.yaml", "henan_1944_no_famine.yaml"):
        shutil.copy(EXAMPLES / name, folder / name)
    return folder


@pytest.fixture
def saves(tmp_path, monkeypatch):
    folder = tmp_path / "saves"
    monkeypatch.setenv("ICHIGO_SAVES", str(folder))
    return folder


@pytest.fixture
def app(scenarios, saves):
    app = App(scenario_dir=scenarios)
    app.step()
    yield app
    app.close()


def frames(app: App, n: int = 3) -> None:
    for _ in range(n):
        app.step()


def post(kind: int, **fields) -> None:
    pygame.event.post(pygame.event.Event(kind, **fields))


def click(app: App, pos: tuple[int, int]) -> None:
    """A real left click: move there, press, release, and let the UI's events come back."""
    pos = (int(pos[0]), int(pos[1]))
    post(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
    frames(app, 1)
    post(pygame.MOUSEBUTTONDOWN, pos=pos, button=1)
    post(pygame.MOUSEBUTTONUP, pos=pos, button=1)
    frames(app, 3)


def key(app: App, k: int, mod: int = 0) -> None:
    post(pygame.KEYDOWN, key=k, mod=mod, unicode="", scancode=0)
    post(pygame.KEYUP, key=k, mod=mod, unicode="", scancode=0)
    frames(app, 2)


def type_text(app: App, text: str) -> None:
    for ch in text:
        post(pygame.TEXTINPUT, text=ch)
    frames(app, 2)


def list_item(selection_list, text: str) -> tuple[int, int]:
    """The centre of a selection list's item (its button is created once the list is drawn)."""
    for item in selection_list.item_list:
        if item["text"] == text and item["button_element"] is not None:
            return item["button_element"].rect.center
    raise AssertionError(f"no visible item {text!r} in {[i['text'] for i in selection_list.item_list]}")


@pytest.mark.slow
def test_menu_to_a_new_game_of_a_variant_as_japan_with_a_typed_seed(app):
    from game.ui.game_screen import GameScreen

    menu = app.screen
    assert isinstance(menu, MenuScreen) and app.errors == []
    assert [c.id for c in menu.choices] == ["henan_1944", "henan_1944_no_famine"]
    click(app, list_item(menu.scenario_list, menu.labels[1]))
    assert menu.choice.id == "henan_1944_no_famine"
    assert "no famine" in menu.description.html_text
    click(app, menu.side_buttons["china"].rect.center)
    assert menu.side == "china"
    click(app, menu.side_buttons["japan"].rect.center)
    assert menu.side == "japan" and menu.side_buttons["japan"].is_selected
    # the seed: click into the entry, clear it, type a new one
    click(app, menu.seed_entry.rect.center)
    assert menu.seed_entry.is_focused
    for _ in range(len(menu.seed_entry.get_text())):
        key(app, pygame.K_BACKSPACE)
    type_text(app, "4242")
    assert menu.seed_entry.get_text() == "4242"
    click(app, menu.new_button.rect.center)
    frames(app, 3)
    assert isinstance(app.screen, GameScreen), app.last_error
    session = app.session
    assert session.seed == 4242 and session.game.state.seed == 4242
    assert session.ctx.scenario.meta.id == "henan_1944_no_famine"
    assert session.players == {"japan": HUMAN, "china": "default"}
    assert session.human_to_move and app.errors == []


@pytest.mark.slow
def test_a_bad_seed_is_a_message_and_enter_starts_once_it_is_fixed(app):
    from game.ui.game_screen import GameScreen

    menu = app.screen
    click(app, menu.seed_entry.rect.center)
    for _ in range(len(menu.seed_entry.get_text())):
        key(app, pygame.K_BACKSPACE)
    type_text(app, "12ab")
    assert "whole number" in menu.seed_hint.text
    click(app, menu.new_button.rect.center)
    assert isinstance(app.screen, MenuScreen) and app.last_error[0] == "Bad seed"
    assert dialogs.modal_open(app.ui)
    key(app, pygame.K_ESCAPE)  # closes the dialog, does not quit
    assert app.running and not dialogs.modal_open(app.ui)
    click(app, menu.seed_entry.rect.center)
    key(app, pygame.K_BACKSPACE)
    key(app, pygame.K_BACKSPACE)
    assert menu.seed_entry.get_text() == "12"
    key(app, pygame.K_RETURN)  # Enter in the seed entry starts the game
    frames(app, 2)
    assert isinstance(app.screen, GameScreen) and app.session.seed == 12


@pytest.mark.slow
def test_loading_a_broken_save_shows_an_error_and_the_menu_goes_on(app, saves):
    saves.mkdir(parents=True, exist_ok=True)
    (saves / "broken.json").write_text("{ not a save", encoding="utf-8")
    menu = app.screen
    click(app, menu.load_button.rect.center)
    picker = dialogs.top_modal(app.ui)
    assert isinstance(picker, dialogs.SavePicker)
    click(app, list_item(picker.list, picker.lines[0]))
    assert picker.entry.get_text() == "broken.json"
    click(app, picker.ok_button.rect.center)
    assert app.screen is menu and app.running and app.errors == []
    title, message = app.last_error
    assert title == "Cannot load the save" and "not a save file, or a damaged one" in message
    error = dialogs.top_modal(app.ui)
    assert isinstance(error, pygame_gui.windows.UIMessageWindow)
    click(app, error.dismiss_button.rect.center)
    assert not dialogs.modal_open(app.ui)
    # a good save loads through the same picker
    ctx = load_context(app.scenario_dir / "henan_1944.yaml")
    Session(ctx, 3, {"japan": HUMAN, "china": "default"}, autosave=False).save(saves / "good.json")
    click(app, menu.load_button.rect.center)
    picker = dialogs.top_modal(app.ui)
    good = next(line for line in picker.lines if line.startswith("good.json"))
    assert "henan_1944" in good and "turn 1" in good
    click(app, list_item(picker.list, good))
    key(app, pygame.K_RETURN)
    assert app.session is not None and app.session.seed == 3 and not isinstance(app.screen, MenuScreen)


@pytest.mark.slow
def test_quit_while_the_computer_plays_closes_cleanly(app):
    ctx = load_context(app.scenario_dir / "henan_1944.yaml")
    session = Session(ctx, 5, {"japan": "default", "china": "default"}, autosave=False)
    app.open_session(session)
    deadline = time.monotonic() + 10
    while not session.ai_busy():
        app.step()
        assert time.monotonic() < deadline, "the computer never started"
    post(pygame.QUIT)
    start = time.monotonic()
    assert app.run() == 0
    assert time.monotonic() - start < 2.0
    assert not app.running and not session._worker.is_alive()


@pytest.mark.slow
def test_the_end_screen_shows_the_verdict_and_charts(app):
    ctx = load_context(app.scenario_dir / "henan_1944.yaml")
    session = Session(ctx, 7, {"japan": "default", "china": "default"}, autosave=False)
    while not session.game.over:
        session.apply(session._ai[session.game.side_to_move()].choose(session.game, session.game.legal_actions()))
    app.open_session(session)  # a finished game goes straight to the end screen
    frames(app, 2)
    screen = app.screen
    assert isinstance(screen, EndScreen) and app.errors == []
    assert screen.charts is not None and screen.charts.get_size() == screen.chart_rect.size
    colours = {screen.charts.get_at((x, y))[:3] for x in range(0, screen.charts.get_width(), 7)
               for y in range(0, screen.charts.get_height(), 7)}
    assert len(colours) > 20  # lines, fills and labels, not an empty frame
    assert "Score" in screen.text.html_text and "Losses" in screen.text.html_text
    # resizing redraws the charts for the new size
    post(pygame.VIDEORESIZE, size=(1024, 700), w=1024, h=700)
    frames(app, 2)
    assert app.size == (1024, 700) and screen.charts.get_size() == screen.chart_rect.size
    click(app, screen.menu_button.rect.center)
    assert isinstance(app.screen, MenuScreen)


@pytest.mark.slow
def test_f11_toggles_fullscreen_and_back(app):
    size = app.size
    key(app, pygame.K_F11)
    assert app.fullscreen
    key(app, pygame.K_F11)
    assert not app.fullscreen and app.size == size and isinstance(app.screen, MenuScreen)


@pytest.mark.slow
def test_a_bug_in_a_screen_is_a_dialog_not_a_crash(app, monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    def broken(dt):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(app.screen, "update", broken)
    frames(app, 2)
    assert app.running and app.errors == ["ZeroDivisionError: boom"] * 2
    assert app.last_error[0] == "Internal error" and "bug" in app.last_error[1]
    assert len(list(tmp_path.glob("ichigo-bug-*.txt"))) == 1  # one report, one dialog


def test_parse_seed_messages():
    assert parse_seed(" 1_000 ") == 1000
    for text, expected in (("", "Type a seed"), ("-3", "whole number"), ("1e9", "whole number"),
                           ("9" * 14, "below")):
        with pytest.raises(ValueError, match=expected):
            parse_seed(text)


@pytest.mark.slow
def test_confirm_dialog_enter_confirms_and_escape_cancels(app):
    answers = []
    dialogs.confirm(app.ui, "Leave?", "Leave the game?", lambda: answers.append("yes"), action="Leave")
    frames(app, 1)
    key(app, pygame.K_ESCAPE)
    assert answers == [] and not dialogs.modal_open(app.ui) and app.running
    dialog = dialogs.confirm(app.ui, "Leave?", "Leave the game?", lambda: answers.append("yes"), action="Leave")
    frames(app, 1)
    click(app, dialog.confirm_button.rect.center)
    assert answers == ["yes"] and not dialogs.modal_open(app.ui)


@pytest.mark.slow
def test_the_save_picker_saves_under_a_typed_name(app, saves):
    ctx = load_context(app.scenario_dir / "henan_1944.yaml")
    session = Session(ctx, 9, {"japan": HUMAN, "china": "default"}, autosave=False)
    picker = dialogs.SavePicker(app.ui, session.save, mode="save")
    frames(app, 1)
    click(app, picker.entry.rect.center)
    for _ in range(len(picker.entry.get_text())):
        key(app, pygame.K_BACKSPACE)
    type_text(app, "my game")
    click(app, picker.ok_button.rect.center)
    assert (saves / "my game.json").is_file() and not dialogs.modal_open(app.ui)
    assert Session.load(saves / "my game.json", autosave=False).seed == 9


@pytest.mark.slow
def test_play_command_opens_a_new_game_straight_away(scenarios, saves):
    from game import cli

    start = time.monotonic()
    code = cli.main(["play", str(scenarios / "henan_1944.yaml"), "--side", "watch", "--seed", "3", "--frames", "20",
                     "--size", "1024x700"])
    assert code == 0 and time.monotonic() - start < 20
