"""The game screen driven like a player: real pygame events (mouse motion, button presses at the
window position of a hex, key presses) posted to the queue and the App stepped frame by frame,
under SDL's dummy drivers (set by conftest.py); the assertions are on the game state."""

from __future__ import annotations

import time

import pygame
import pytest

from conftest import ROOT
from game.rules import engine
from game.rules.actions import Attack, Move
from game.ui import panels
from game.ui.app import MIN_SIZE, App
from game.ui.game_screen import GameScreen
from game.ui.help import CONTROLS
from game.ui.mapview import OVERLAYS
from game.ui.session import HUMAN, Session
from worlds import unit, world

ICHIGO = ROOT / "scenarios" / "ichigo_1944.yaml"
pytestmark = pytest.mark.slow  # the whole window, frame by frame


@pytest.fixture(autouse=True)
def saves(tmp_path, monkeypatch):
    """Saves and autosaves go to a temporary folder; the computer's moves are not animated
    unless a test asks (the class-level speed is restored after each test)."""
    folder = tmp_path / "saves"
    monkeypatch.setenv("ICHIGO_SAVES", str(folder))
    monkeypatch.setattr(GameScreen, "speed", 3)
    yield folder


def start(players: dict[str, str], scenario=ICHIGO, seed: int = 1, **window) -> tuple[App, GameScreen]:
    """A window on a new game (through App.new_game), the opening popups dismissed."""
    app = App(scenario_dir=ROOT / "scenarios", **window)
    app.new_game(scenario, seed, players)
    screen = app.screen
    assert isinstance(screen, GameScreen), app.last_error
    app.step()
    for _ in range(3):  # the hotseat curtain and the turn summary go with Enter
        if screen.curtain_side is None and screen.summary is None:
            break
        key(app, pygame.K_RETURN)
    assert screen.curtain_side is None and screen.summary is None
    return app, screen


def post(kind: int, **fields) -> None:
    pygame.event.post(pygame.event.Event(kind, **fields))


def key(app: App, k: int, mod: int = 0, unicode: str = "") -> None:
    post(pygame.KEYDOWN, key=k, mod=mod, unicode=unicode, scancode=0)
    post(pygame.KEYUP, key=k, mod=mod, unicode=unicode, scancode=0)
    app.step()


def hover(app: App, pos: tuple[int, int]) -> None:
    post(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
    app.step()


def click(app: App, pos: tuple[int, int], button: int = 1) -> None:
    post(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
    post(pygame.MOUSEBUTTONDOWN, pos=pos, button=button)
    post(pygame.MOUSEBUTTONUP, pos=pos, button=button)
    app.step()


def on_screen(screen: GameScreen, i: int) -> tuple[int, int]:
    """Centre the map on hex i and return its window position."""
    screen.mapview.center_on(i)
    pos = screen.screen_pos_of_hex(i)
    assert screen.map_rect.collidepoint(pos)
    return pos


def finish(app: App) -> None:
    assert app.errors == []
    app.quit()
    app.close()


def test_select_shows_the_reach_and_a_click_moves():
    app, screen = start({"japan": HUMAN, "china": "default"})
    game = screen.session.game
    u = game.state.units["jp_37_div"]
    start_hex = u.hex
    pos = on_screen(screen, u.hex)
    moves = sorted(game.ctx.hm.index(*m.to) for m in game.legal_actions().moves(u.id))
    reach_hex = next(j for j in moves if not game.state.units_at(j))
    app.step()
    probe = screen.screen_pos_of_hex(reach_hex)
    probe = (probe[0] + 6, probe[1] + 6)
    before_px = app.surface.get_at(probe)
    started = time.perf_counter()
    click(app, pos)
    elapsed = time.perf_counter() - started
    assert screen.orders.selected == ["jp_37_div"]
    legal = {game.ctx.hm.index(*m.to) for m in game.legal_actions().moves(u.id)}
    assert set(screen.orders.reach) == legal
    assert app.surface.get_at(probe) != before_px  # the reach tint is drawn
    assert elapsed < 0.5  # click to highlight (the issue asks 100 ms on a quiet machine)
    hover(app, screen.screen_pos_of_hex(reach_hex))
    assert screen.orders.path[-1] == reach_hex
    assert screen.orders.path_cost == pytest.approx(screen.orders.reach[reach_hex])
    click(app, screen.screen_pos_of_hex(reach_hex))
    assert game.state.units["jp_37_div"].hex == reach_hex
    assert screen.session.actions[-1] == Move("jp_37_div", game.ctx.offsets[reach_hex])
    # Ctrl+Z takes it back
    key(app, pygame.K_z, mod=pygame.KMOD_CTRL)
    assert screen.session.game.state.units["jp_37_div"].hex == start_hex and screen.session.actions == []
    finish(app)


def test_attack_with_preview_and_confirm():
    app, screen = start({"japan": HUMAN, "china": "default"})
    game = screen.session.game
    ctx = game.ctx
    attack = next(a for a in game.legal_actions() if isinstance(a, Attack))
    source, target = ctx.hm.index(*attack.from_hexes[0]), ctx.hm.index(*attack.target)
    click(app, on_screen(screen, source))
    assert target in screen.orders.targets
    hover(app, screen.screen_pos_of_hex(target))
    shown = screen.orders.shown_attack
    assert shown is not None and shown[0] == attack and not shown[2]
    assert shown[1] == engine.preview(ctx, game.state, attack)
    click(app, screen.screen_pos_of_hex(target))
    assert screen.orders.pending == attack  # the confirm step
    key(app, pygame.K_ESCAPE)  # cancel: nothing happens
    assert screen.orders.pending is None and screen.session.actions == []
    click(app, screen.screen_pos_of_hex(target))
    log_len = len(game.state.log)
    key(app, pygame.K_RETURN)
    assert screen.session.actions == [attack]
    assert any(e.kind == "combat" for e in game.state.log[log_len:])
    finish(app)


def test_end_turn_then_the_computer_plays_while_the_window_keeps_stepping():
    app, screen = start({"japan": HUMAN, "china": "default"})
    monkey_speed = GameScreen.speed
    GameScreen.speed = 1  # animated, at normal speed
    session = screen.session
    key(app, pygame.K_e)
    assert session.game.side_to_move() == "china" and not session.human_to_move
    frames, slowest, deadline = 0, 0.0, time.monotonic() + 60
    while not session.human_to_move and time.monotonic() < deadline:
        t = time.perf_counter()
        app.step(1 / 30)
        slowest = max(slowest, time.perf_counter() - t)
        frames += 1
    GameScreen.speed = monkey_speed
    assert session.human_to_move and session.game.state.turn == 2
    assert any(str(a) != "end" for a in session.actions[1:])  # the computer did something
    assert frames > 3 and slowest < 0.5  # frames kept coming while it played
    app.step()
    assert screen.summary is not None  # the turn summary of what the enemy did
    key(app, pygame.K_RETURN)
    assert screen.summary is None
    finish(app)


def test_space_skips_the_computers_animation():
    app, screen = start({"japan": HUMAN, "china": "default"})
    GameScreen.speed = 0  # slow
    key(app, pygame.K_e)
    key(app, pygame.K_SPACE)
    deadline = time.monotonic() + 60
    frames = 0
    while not screen.session.human_to_move and time.monotonic() < deadline:
        app.step(1 / 60)
        frames += 1
    assert screen.session.human_to_move
    finish(app)


def test_quick_save_and_quick_load(saves):
    app, screen = start({"japan": HUMAN, "china": "default"})
    session = screen.session
    key(app, pygame.K_F5)
    assert (saves / "quicksave.json").is_file()
    saved = session.game.state.state_hash()
    u = session.game.state.units["jp_37_div"]
    click(app, on_screen(screen, u.hex))
    target = min(screen.orders.reach)
    click(app, screen.screen_pos_of_hex(target))
    assert session.game.state.state_hash() != saved
    key(app, pygame.K_F9)
    assert screen.session is not session and app.session is screen.session
    assert screen.session.game.state.state_hash() == saved
    assert screen.orders.session is screen.session
    finish(app)


def test_a_broken_quick_save_is_a_dialog_not_a_crash(saves):
    app, screen = start({"japan": HUMAN, "china": "default"})
    key(app, pygame.K_F9)  # none yet
    assert app.last_error is not None and "quick save" in app.last_error[0].lower()
    saves.mkdir(parents=True, exist_ok=True)
    (saves / "quicksave.json").write_text("{not json", encoding="utf-8")
    app.last_error = None
    key(app, pygame.K_ESCAPE)  # closes the first dialog
    key(app, pygame.K_F9)
    assert app.last_error is not None and "quicksave.json" in app.last_error[1]
    assert app.screen is screen and app.errors == []
    finish(app)


def test_overlay_keys_and_buttons_toggle_overlays():
    app, screen = start({"japan": HUMAN, "china": "default"})
    for k, name in enumerate(OVERLAYS):
        key(app, pygame.K_1 + k)
        assert name in screen.mapview.overlays
        key(app, pygame.K_1 + k)
        assert name not in screen.mapview.overlays
    button = next(b for b in screen.overlay_buttons if b.name == "overlay:supply_own")
    click(app, button.rect.center)
    assert "supply_own" in screen.mapview.overlays
    finish(app)


def test_help_overlay_opens_with_f1_and_question_mark():
    app, screen = start({"japan": HUMAN, "china": "default"})
    key(app, pygame.K_F1)
    assert screen.help.visible
    key(app, pygame.K_e)  # keys go to the help while it is open
    assert screen.session.game.side_to_move() == "japan"
    key(app, pygame.K_ESCAPE)
    assert not screen.help.visible
    key(app, pygame.K_SLASH, mod=pygame.KMOD_SHIFT, unicode="?")
    assert screen.help.visible
    assert sum(len(rows) for _, rows in CONTROLS) >= 20
    finish(app)


def test_help_overlay_scrolls_in_a_small_window():
    """At the smallest window the list is one column taller than the map: the wheel and the keys
    scroll it to its last line (the wheel does not close it), Home goes back, a click closes."""
    app, screen = start({"japan": HUMAN, "china": "default"}, size=MIN_SIZE)
    zoom = screen.mapview.zoom
    key(app, pygame.K_F1)
    help_ = screen.help
    assert help_.visible and help_.max_scroll > 0 and help_.scroll == 0
    centre = screen.map_rect.center
    post(pygame.MOUSEWHEEL, x=0, y=-1, flipped=False, precise_x=0.0, precise_y=-1.0)
    post(pygame.MOUSEBUTTONDOWN, pos=centre, button=5)
    post(pygame.MOUSEBUTTONUP, pos=centre, button=5)
    app.step()
    assert help_.visible and help_.scroll == help_.STEP
    assert screen.mapview.zoom == zoom  # the map under the help does not zoom
    key(app, pygame.K_END)
    assert help_.scroll == help_.max_scroll
    key(app, pygame.K_DOWN)
    assert help_.scroll == help_.max_scroll  # clamped at the end
    key(app, pygame.K_HOME)
    assert help_.scroll == 0
    key(app, pygame.K_PAGEDOWN)
    assert 0 < help_.scroll <= help_.max_scroll
    click(app, centre)
    assert not help_.visible
    key(app, pygame.K_F1)
    assert help_.visible and help_.scroll == 0  # opens at the top again
    finish(app)


def test_escape_opens_the_pause_menu_and_resume_closes_it():
    app, screen = start({"japan": HUMAN, "china": "default"})
    key(app, pygame.K_ESCAPE)
    assert screen.paused
    resume = next(b for b in screen._modal_buttons if b.name == "resume")
    click(app, resume.rect.center)
    assert not screen.paused
    finish(app)


def test_hotseat_curtain_between_the_sides(tmp_path):
    ctx_path = world(tmp_path, cols=6, rows=4, units=[unit("jp", "japan", 1, 1), unit("cn", "china", 4, 2)]).path
    app, screen = start({"japan": HUMAN, "china": HUMAN}, scenario=ctx_path, seed=3)
    key(app, pygame.K_e)
    assert screen.curtain_side == 1  # China's turn: the map is hidden
    u = screen.session.game.state.units["cn"]
    click(app, screen.screen_pos_of_hex(u.hex))
    assert screen.orders.selected == []  # the curtain takes the clicks
    key(app, pygame.K_RETURN)
    assert screen.curtain_side is None and screen.summary is not None
    key(app, pygame.K_RETURN)
    click(app, on_screen(screen, u.hex))
    assert screen.orders.selected == ["cn"]
    finish(app)


def test_the_last_phase_leads_to_the_end_screen(tmp_path):
    path = world(tmp_path, cols=6, rows=4, units=[unit("jp", "japan", 1, 1), unit("cn", "china", 4, 2)],
                 meta_overrides={"turns": 1}).path
    app, screen = start({"japan": HUMAN, "china": "random"}, scenario=path)
    key(app, pygame.K_e)
    deadline = time.monotonic() + 30
    while app.screen is screen and time.monotonic() < deadline:
        app.step(1 / 60)
    assert screen.session.game.over
    assert type(app.screen).__name__ == "EndScreen"
    finish(app)


def test_watching_two_computers_plays_on_by_itself(tmp_path):
    path = world(tmp_path, cols=6, rows=4, units=[unit("jp", "japan", 1, 1), unit("cn", "china", 4, 2)]).path
    app = App(scenario_dir=ROOT / "scenarios")
    app.new_game(path, 5, {"japan": "random", "china": "random"})
    screen = app.screen
    assert isinstance(screen, GameScreen)
    deadline = time.monotonic() + 30
    while not screen.session.game.over and time.monotonic() < deadline:
        app.step(1 / 60)
    assert screen.session.game.over and screen.summary is None and screen.curtain_side is None
    finish(app)


def test_session_played_by_clicks_equals_the_same_actions_applied_directly():
    """The screen adds nothing of its own to the game: replaying its action list from the seed
    gives the same state."""
    app, screen = start({"japan": HUMAN, "china": HUMAN})
    game = screen.session.game
    u = game.state.units["jp_37_div"]
    click(app, on_screen(screen, u.hex))
    click(app, screen.screen_pos_of_hex(min(screen.orders.reach)))
    key(app, pygame.K_t)  # the unit has moved, so it cannot dig in: a message, no action
    assert screen.orders.message and len(screen.session.actions) == 1
    replay = Session(game.ctx, 1, {s: HUMAN for s in game.ctx.sides}, actions=screen.session.actions,
                     autosave=False)
    assert replay.game.state.state_hash() == game.state.state_hash()
    finish(app)


def test_an_air_base_hex_shows_an_evacuate_button_and_v_evacuates_it():
    """Xinxiang's field has Chinese units within three hexes on the first turn: its hex shows an
    Evacuate button, V evacuates it; elsewhere V only explains."""
    app, screen = start({"japan": HUMAN, "china": HUMAN})
    game = screen.session.game
    base = game.ctx.air_bases["jab_xinxiang"]
    far = game.state.units["jp_37_div"].hex
    click(app, on_screen(screen, far))
    key(app, pygame.K_v)
    assert game.state.air_active["jab_xinxiang"] and "can be evacuated" in screen.orders.message
    click(app, on_screen(screen, base.hex))
    app.step()
    button = next(b for b in screen._buttons if b.name == "evacuate")
    assert button.enabled
    assert panels.air_base_lines(game.ctx, game.state, base.hex) == ["Air base of Japan (350 km): active"]
    key(app, pygame.K_v)
    assert not game.state.air_active["jab_xinxiang"] and str(screen.session.actions[-1]) == "evacuate jab_xinxiang"
    app.step()
    assert not any(b.name == "evacuate" for b in screen._buttons)
    # the hex panel and the tooltip say what became of it
    assert "Air base of Japan (350 km): out of action" in screen.mapview.tooltip(game, base.hex)
    finish(app)


def test_drag_pans_wheel_zooms_towards_the_cursor_and_the_minimap_jumps():
    app, screen = start({"japan": HUMAN, "china": "default"})
    game = screen.session.game
    u = game.state.units["jp_37_div"]
    pos = on_screen(screen, u.hex)
    app.step()
    # a drag moves the map with the mouse and selects nothing
    post(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
    post(pygame.MOUSEBUTTONDOWN, pos=pos, button=1)
    post(pygame.MOUSEMOTION, pos=(pos[0] + 60, pos[1] + 30), rel=(60, 30), buttons=(1, 0, 0))
    post(pygame.MOUSEBUTTONUP, pos=(pos[0] + 60, pos[1] + 30), button=1)
    app.step()
    assert screen.orders.selected == []
    moved = screen.screen_pos_of_hex(u.hex)
    assert abs(moved[0] - (pos[0] + 60)) <= 1 and abs(moved[1] - (pos[1] + 30)) <= 1
    # the wheel zooms in around the cursor: the hex under it stays under it
    under = screen.mapview.hex_at((moved[0] - screen.map_rect.x, moved[1] - screen.map_rect.y))
    near = next(int(j) for j in game.ctx.neighbours[u.hex] if j >= 0)

    def spacing() -> float:
        (ax, ay), (bx, by) = screen.screen_pos_of_hex(u.hex), screen.screen_pos_of_hex(near)
        return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5

    spacing_before = spacing()
    hover(app, moved)
    post(pygame.MOUSEWHEEL, x=0, y=1, flipped=False, precise_x=0.0, precise_y=1.0)
    app.step()
    assert spacing() > spacing_before
    assert screen.mapview.hex_at((moved[0] - screen.map_rect.x, moved[1] - screen.map_rect.y)) == under
    # a click on the minimap moves the view there
    before = screen.screen_pos_of_hex(u.hex)
    click(app, (screen.minimap_rect.left + 5, screen.minimap_rect.bottom - 5))
    assert screen.screen_pos_of_hex(u.hex) != before
    finish(app)


def test_the_pause_menu_saves_through_the_save_picker(saves):
    app, screen = start({"japan": HUMAN, "china": "default"})
    key(app, pygame.K_ESCAPE)
    save = next(b for b in screen._modal_buttons if b.name == "save")
    click(app, save.rect.center)
    assert not screen.paused
    key(app, pygame.K_RETURN)  # the picker's default name
    assert (saves / "game.json").is_file()
    loaded = Session.load(saves / "game.json", autosave=False)
    assert loaded.game.state.state_hash() == screen.session.game.state.state_hash()
    finish(app)
