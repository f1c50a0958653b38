"""The window driven through the real event queue (dummy video and audio drivers): the menu, new
game, load with a broken save, closing during the computer's turn, the end screen."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import html  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pygame  # noqa: E402
import pygame_gui  # noqa: E402
import pytest  # noqa: E402

from game import bug_report_prefix, env_var  # noqa: E402
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
    monkeypatch.setenv(env_var("SAVES"), str(folder))
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
    assert len(list(tmp_path.glob(f"{bug_report_prefix()}*.txt"))) == 1  # one report, one dialog


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


# ---------------------------------------------------------------------------------------------
# nothing of one campaign in the menu: its heading, sides and opponents come from the files

RED_BLUE = ROOT / "tests" / "data" / "red_blue" / "red_blue.yaml"


@pytest.fixture
def two_campaigns(tmp_path):
    """A scenario folder with two unrelated campaigns: the Henan example and the red/blue one."""
    folder = tmp_path / "campaigns"
    folder.mkdir()
    shutil.copy(EXAMPLES / "henan_1944.yaml", folder / "henan_1944.yaml")
    shutil.copy(RED_BLUE, folder / "red_blue.yaml")
    return folder


def heading_fits(menu: MenuScreen, size: tuple[int, int]) -> None:
    """Every line of the heading inside the margins, above the columns."""
    from game.ui.menu import content_margin

    w, h = size
    margin = content_margin(w)
    top = 150 if h >= 700 else 100
    parts = menu._heading(size)
    assert len(parts) == 3  # shadow, title, tagline
    for image, (x, y) in parts:
        assert x >= margin and x + image.get_width() <= w - margin + 4, (size, x, image.get_width())
        assert y + image.get_height() <= top, (size, y, image.get_height())


@pytest.mark.parametrize("size", [(800, 560), (1280, 800)])
@pytest.mark.slow
def test_the_menu_heading_is_the_selected_scenarios_title_and_first_sentence(two_campaigns, saves, size):
    app = App(scenario_dir=two_campaigns, size=size)
    try:
        app.step()
        menu = app.screen
        assert [c.id for c in menu.choices] == ["henan_1944", "red_blue"]
        title, tagline = menu.heading_texts()
        assert title == "HENAN 1944 (EXAMPLE)"
        assert tagline.startswith("The Japanese 12th Army crosses the Yellow River")  # one long sentence
        heading_fits(menu, size)
        rendered = menu._heading(size)[2][0]
        assert rendered.get_width() < menu._heading((4000, size[1]))[2][0].get_width()  # cut to fit
        assert pygame.display.get_caption()[0] == "Henan 1944 (example)"
        click(app, list_item(menu.scenario_list, menu.labels[1]))
        assert menu.choice.id == "red_blue" and app.errors == []
        assert menu.heading_texts() == ("TARN VALLEY 1923", "Spring 1923: the Red Republic's First Army breaks "
                                        "out of Port Halden and drives up the Tarn valley railway.")
        heading_fits(menu, size)
        assert pygame.display.get_caption()[0] == "Tarn Valley 1923"
        assert list(menu.side_buttons) == ["red", "blue", "hotseat", "watch"]
        assert menu.side_buttons["red"].text == "Play Red Republic"
    finally:
        app.close()


@pytest.mark.slow
def test_a_side_the_menus_scenario_lacks_is_a_notice_not_a_crash(two_campaigns, saves):
    app = App(scenario_dir=two_campaigns, menu_defaults={"side": "blue"})
    try:
        app.step()
        menu = app.screen
        assert menu.choice.id == "henan_1944" and menu.side == "japan"  # the first side, for now
        assert "no side 'blue' (its sides: japan, china)" in html.unescape(menu.description.html_text)
        click(app, list_item(menu.scenario_list, menu.labels[1]))
        assert menu.choice.id == "red_blue" and menu.side == "blue"  # the side asked for, where it exists
        assert "no side" not in menu.description.html_text
        click(app, menu.new_button.rect.center)
        frames(app, 3)
        assert app.session is not None and app.session.players == {"red": "default", "blue": HUMAN}
        assert app.errors == []
    finally:
        app.close()


@pytest.mark.slow
def test_the_opponents_are_the_profile_files_and_the_players_own(two_campaigns, saves, tmp_path, monkeypatch):
    import game.ai.profile as profile_module
    from game.ai.profile import PROFILE_DIR
    from game.ui.menu import profile_options, user_profile_dir

    own = tmp_path / "own_profiles"
    own.mkdir()
    (own / "stubborn.yaml").write_text("extends: defensive\nretreat_odds: 6.0\n", encoding="utf-8")
    (own / "notes.txt").write_text("not a profile", encoding="utf-8")
    monkeypatch.setenv(env_var("PROFILES"), str(own))
    assert user_profile_dir() == own
    values = [v for _, v in profile_options()]
    assert values == ["default", "search", *(p for p in profile_module.builtin_profiles() if p != "default"),
                      str(own / "stubborn.yaml"), "simple", "random"]
    # a new built-in profile file is offered, a removed one is not
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    shutil.copy(PROFILE_DIR / "default.yaml", builtin / "default.yaml")
    (builtin / "bold.yaml").write_text("extends: default\naggression: 1.0\n", encoding="utf-8")
    monkeypatch.setattr(profile_module, "PROFILE_DIR", builtin)
    assert [v for _, v in profile_options()][:3] == ["default", "search", "bold"]
    monkeypatch.setattr(profile_module, "PROFILE_DIR", PROFILE_DIR)
    # the player's own profile, picked in the menu's list, plays the other side
    app = App(scenario_dir=two_campaigns)
    try:
        app.step()
        menu = app.screen
        click(app, list_item(menu.scenario_list, menu.labels[1]))
        label = "stubborn (your profile)"
        assert label in [item[0] for item in menu.opponent_menu.options_list]
        click(app, menu.opponent_menu.rect.center)
        options = menu.opponent_menu.current_state.options_selection_list
        click(app, list_item(options, label))
        frames(app, 2)  # the list tells the drop-down, which tells the screen: a frame each
        assert menu.opponent == str(own / "stubborn.yaml")
        click(app, menu.new_button.rect.center)
        frames(app, 3)
        assert app.session.players == {"red": HUMAN, "blue": str(own / "stubborn.yaml")}
        assert app.errors == []
    finally:
        app.close()
