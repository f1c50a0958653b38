"""The game screen: the map, the panels, the orders, the overlays and the computer's turn.

Layout (any window size, 1280x800 by default): a top bar (date, turn, side to move, the prestige
track), the map filling the rest but for a right panel (order buttons, the inspected units, the
losses, the event log, the minimap); the overlay toggles float at the map's bottom left and the
combat preview over the map, in a corner that leaves the target in sight.

Every order goes through :class:`~game.ui.orders.Orders` (the legal-action API only) and then
``session.apply``; after every applied action the map is refreshed. The computer plays its phase
in the session's worker thread; this screen only polls it each frame, animates each move along
its path at the chosen speed (slow, normal, fast, instant; key F) and applies it, so the window
keeps responding whatever the AI does. Space applies the rest of the phase without animation.

Modal layers, top first: the help overlay, the pause menu, the hotseat curtain ("pass the mouse
to ..."), the turn summary; while one is up it takes the input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pygame

from ..diagnostics import InputError
from ..rules import engine
from ..rules.actions import Action, Attack, Entrench, Move, RailMove
from ..rules.movement import board_for, path_to, rail_reach, reach
from . import dialogs, panels
from .app import App, Screen
from .help import HelpOverlay
from .mapview import OVERLAYS, MapView, overlay_label
from .orders import Orders
from .panels import Button, Mark
from .session import HUMAN, AIError, Session, saves_dir

TOP_BAR = 36
RIGHT_PANEL = 300
EDGE_PAN_PX = 8  # the mouse this close to the window's edge pans the map
EDGE_PAN_SPEED = 700.0  # pixels per second
KEY_PAN_SPEED = 800.0
DRAG_THRESHOLD = 5  # pixels the mouse must move with the button down before a click becomes a drag
TOOLTIP_DELAY = 0.4  # seconds the mouse must stay still over the map
QUICKSAVE = "quicksave.json"


#: The computer's move speed: (name, seconds per hex moved, seconds an attack is shown).
SPEEDS = (("slow", 0.22, 1.2), ("normal", 0.09, 0.6), ("fast", 0.03, 0.2), ("instant", 0.0, 0.0))
FRAME_BUDGET = 0.012  # seconds of a frame the screen may spend applying queued AI actions


@dataclass
class _Animation:
    """An AI action being shown before it is applied."""

    action: Action
    unit: str | None
    path: list[int]
    duration: float
    elapsed: float = 0.0
    target: int | None = None
    attackers: tuple[str, ...] = ()
    label: str = ""  # what the banner says it is


class GameScreen(Screen):
    """Map + panels + orders + overlays + the AI's animated turn + save/load keys."""

    speed = 1  # index into SPEEDS; a class attribute so it survives loading a game

    def __init__(self, app: App, session: Session):
        super().__init__(app)
        self.app = app
        self.session = session
        self.orders = Orders(session)
        size = app.surface.get_size()
        self._layout(size)
        self.mapview = MapView(session.game.ctx, self.map_rect.size)
        self.help = HelpOverlay()
        self.log_panel = panels.LogPanel()
        self.mouse: tuple[int, int] = (-1, -1)
        self._mouse_seen = False
        self._press: tuple[int, int] | None = None  # where the left button went down on the map
        self._dragging = False
        self._minimap_drag = False
        self._still_since = time.monotonic()
        self._tooltip: tuple[int, list[str]] | None = None
        self._buttons: list[Button] = []
        self._modal_buttons: list[Button] = []
        self._toast: tuple[str, float] | None = None  # a short notice and when it goes
        self.paused = False
        self.curtain_side: int | None = None  # hotseat: the side the mouse passes to
        self.summary: list | None = None  # the turn summary sections while shown
        self._summary_side = 0
        self._marks: dict[int, Mark] = {}
        self._last_human_side: int | None = None
        self._phase_key: tuple | None = None
        self._version = None
        self._highlights = None
        self._anim: _Animation | None = None
        self._skip_phase = False
        self._ai_status = ""
        self._ai_last = ""  # the log line of the computer's last action
        self._auto_zoc = False  # the zoc overlay is on only because a unit is selected
        self._autosave_error: str | None = None  # the autosave failure last told
        self._ended = False
        self._set_viewer()
        self.mapview.refresh(session.game)

    # -- layout -----------------------------------------------------------------------------------

    def _layout(self, size: tuple[int, int]) -> None:
        w, h = size
        panel_w = min(RIGHT_PANEL, max(200, w // 3))
        self.top_rect = pygame.Rect(0, 0, w, TOP_BAR)
        self.map_rect = pygame.Rect(0, TOP_BAR, max(50, w - panel_w), max(50, h - TOP_BAR))
        self.panel_rect = pygame.Rect(self.map_rect.right, TOP_BAR, w - self.map_rect.right, h - TOP_BAR)
        pad = 8
        x, y, pw = self.panel_rect.x + pad, self.panel_rect.y + pad, self.panel_rect.width - 2 * pad
        self.actions_rect = pygame.Rect(x, y, pw, 30)
        y = self.actions_rect.bottom + pad
        mini_h = min(190, max(90, (self.panel_rect.height - 380) // 2))
        self.minimap_rect = pygame.Rect(x, self.panel_rect.bottom - pad - mini_h, pw, mini_h)
        rest = self.minimap_rect.top - pad - y
        units_h = max(120, min(230, int(rest * 0.45)))
        self.units_rect = pygame.Rect(x, y, pw, units_h)
        y = self.units_rect.bottom + pad
        self.losses_rect = pygame.Rect(x, y, pw, 96)
        y = self.losses_rect.bottom + pad
        self.log_rect = pygame.Rect(x, y, pw, max(40, self.minimap_rect.top - pad - y))
        # overlay toggles: one row at the map's bottom left
        self.overlay_buttons = []
        bx, by = self.map_rect.x + 8, self.map_rect.bottom - 34
        for k, name in enumerate(OVERLAYS):
            label = f"{k + 1} {overlay_label(self.session.ctx, name)}"
            width = panels.font(13).size(label)[0] + 18
            b = Button(f"overlay:{name}", label, pygame.Rect(bx, by, width, 26))
            self.overlay_buttons.append(b)
            bx += width + 4

    def resize(self, size: tuple[int, int]) -> None:
        self._layout(size)
        self.mapview.resize(self.map_rect.size)

    def screen_pos_of_hex(self, i: int) -> tuple[int, int]:
        """Window coordinates of hex i's centre (for tests and the screenshot tool)."""
        x, y = self.mapview.hex_center(i)
        return (int(x) + self.map_rect.x, int(y) + self.map_rect.y)

    def _hex_at(self, pos: tuple[int, int]) -> int | None:
        if not self.map_rect.collidepoint(pos):
            return None
        return self.mapview.hex_at((pos[0] - self.map_rect.x, pos[1] - self.map_rect.y))

    def _set_viewer(self) -> None:
        """Whose 'own' overlays the map shows: the human to move (hotseat), else the human side,
        else (watching the computers) the side to move."""
        s = self.session
        game = s.game
        if game.over:
            return
        to_move = game.ctx.move_order[game.state.active]
        humans = [game.ctx.side_index[x] for x in s.players if s.players[x] == HUMAN]
        self.mapview.viewer = to_move if to_move in humans or not humans else humans[0]

    # -- the session -------------------------------------------------------------------------

    @property
    def game(self):
        return self.session.game

    def _set_session(self, session: Session) -> None:
        """Play on with another session (quick load): new orders, the same camera."""
        self.session.stop()
        self.session = session
        self.orders = Orders(session)
        self._anim, self._skip_phase, self._ended = None, False, False
        self._marks.clear()
        self._phase_key = None
        self._last_human_side = None
        self._highlights = None
        self.mapview.animate_move("", (), None)
        self.mapview.refresh(session.game)
        self._set_viewer()

    def _changed(self) -> None:
        """After any change of the game: the map, the orders and the tooltip follow."""
        self.orders.sync()
        self._tooltip = None
        self.mapview.refresh(self.game)
        self._version = self.session.version

    def _apply_orders(self, action: Action | None) -> None:
        if action is not None:
            self._changed()

    # -- input ---------------------------------------------------------------------------------

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.MOUSEMOTION:
            self._mouse_seen = True
            if event.pos != self.mouse:
                self._still_since = time.monotonic()
                self._tooltip = None
            self.mouse = event.pos
        if self.help.handle_event(event):
            return
        if self.paused:
            self._pause_event(event)
            return
        if self.curtain_side is not None or self.summary is not None:
            self._modal_event(event)
            return
        if event.type == pygame.KEYDOWN:
            self._key(event)
        elif event.type == pygame.MOUSEBUTTONDOWN:
            self._mouse_down(event)
        elif event.type == pygame.MOUSEBUTTONUP:
            self._mouse_up(event)
        elif event.type == pygame.MOUSEMOTION:
            self._mouse_move(event)
        elif event.type == pygame.MOUSEWHEEL:
            self._wheel(event)

    def _key(self, event: pygame.event.Event) -> None:
        k, mod = event.key, event.mod
        ctrl = bool(mod & pygame.KMOD_CTRL)
        o = self.orders
        if k == pygame.K_ESCAPE:
            if not o.escape():
                self.paused = True
        elif k in (pygame.K_RETURN, pygame.K_KP_ENTER):
            if o.pending is not None:
                self._apply_orders(o.confirm())
            else:
                self._end_phase()
        elif k == pygame.K_e and not ctrl:
            self._end_phase()
        elif k == pygame.K_t:
            self._apply_orders(o.entrench())
        elif k == pygame.K_v:
            self._apply_orders(o.evacuate())
        elif k == pygame.K_u or (k == pygame.K_z and ctrl):
            if o.undo():
                self._changed()
        elif k == pygame.K_n:
            uid = o.next_unit()
            if uid is not None:
                self.mapview.center_on(self.game.state.units[uid].hex)
        elif k == pygame.K_f:
            GameScreen.speed = (GameScreen.speed + 1) % len(SPEEDS)
            self._notify(f"Computer's move speed: {SPEEDS[GameScreen.speed][0]}")
        elif k == pygame.K_SPACE:
            if not self.session.human_to_move and not self.game.over:
                self._skip_phase = True
        elif k == pygame.K_F5:
            self.quick_save()
        elif k == pygame.K_F9:
            self.quick_load()
        elif k in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            self.mapview.zoom_at(1, (self.map_rect.width // 2, self.map_rect.height // 2))
        elif k in (pygame.K_MINUS, pygame.K_KP_MINUS):
            self.mapview.zoom_at(-1, (self.map_rect.width // 2, self.map_rect.height // 2))
        elif pygame.K_1 <= k <= pygame.K_7:
            self.toggle_overlay(OVERLAYS[k - pygame.K_1])

    def toggle_overlay(self, name: str) -> None:
        """Key 1..7 or a button. The zones of control shown only because a unit is selected are
        pinned on by their toggle (the button did not show them as on)."""
        if name == "zoc" and self._auto_zoc:
            self._auto_zoc = False
        elif name in self.mapview.overlays:
            self.mapview.overlays.discard(name)
        else:
            self.mapview.overlays.add(name)
        self.mapview.refresh(self.game)

    def _auto_zoc_overlay(self) -> None:
        """Enemy zones of control show while a unit is selected (the ZOC overlay is the viewer's
        enemies' zones, and the viewer is the side giving orders)."""
        want = bool(self.orders.selected)
        overlays = self.mapview.overlays
        if want and "zoc" not in overlays:
            overlays.add("zoc")
            self._auto_zoc = True
            self.mapview.refresh(self.game)
        elif not want and self._auto_zoc:
            overlays.discard("zoc")
            self._auto_zoc = False
            self.mapview.refresh(self.game)

    def _end_phase(self) -> None:
        o = self.orders
        if not o.can_act or o.pending is not None:
            return
        side = o.side
        before = panels.mark(self.game)
        if o.end_phase() is not None:
            self._marks[side] = before
            self._changed()

    def _mouse_down(self, event: pygame.event.Event) -> None:
        pos = event.pos
        if event.button == 3:
            self.orders.escape()
            return
        if event.button != 1:
            return
        for b in self._buttons:
            if b.hit(pos):
                self._button(b.name)
                return
        if self.minimap_rect.collidepoint(pos):
            self.mapview.minimap_jump(self.minimap_rect, pos)
            self._minimap_drag = True
            return
        if self.map_rect.collidepoint(pos):
            self._press = pos
            self._dragging = False

    def _mouse_up(self, event: pygame.event.Event) -> None:
        if event.button != 1:
            return
        self._minimap_drag = False
        press, dragging = self._press, self._dragging
        self._press, self._dragging = None, False
        if press is None or dragging:
            return
        j = self._hex_at(event.pos)
        if j is None:
            return
        mods = pygame.key.get_mods() | getattr(event, "mod", 0)
        shift = bool(mods & pygame.KMOD_SHIFT)
        ctrl = bool(mods & pygame.KMOD_CTRL)
        self._apply_orders(self.orders.click(j, shift=shift, ctrl=ctrl))

    def _mouse_move(self, event: pygame.event.Event) -> None:
        pos = event.pos
        if self._minimap_drag and event.buttons[0]:
            self.mapview.minimap_jump(self.minimap_rect, pos)
            return
        if self._press is not None and event.buttons[0]:
            if not self._dragging:
                dx, dy = pos[0] - self._press[0], pos[1] - self._press[1]
                self._dragging = abs(dx) + abs(dy) >= DRAG_THRESHOLD
                if self._dragging:
                    self.mapview.pan(-dx, -dy)
            else:
                self.mapview.pan(-event.rel[0], -event.rel[1])
            return
        self.orders.hover(self._hex_at(pos))

    def _wheel(self, event: pygame.event.Event) -> None:
        pos = self.mouse
        if self.log_rect.collidepoint(pos):
            self.log_panel.wheel(event.y)
        elif self.map_rect.collidepoint(pos) and event.y:
            self.mapview.zoom_at(1 if event.y > 0 else -1, (pos[0] - self.map_rect.x, pos[1] - self.map_rect.y))
            self.orders.hover(self._hex_at(pos))

    def _button(self, name: str) -> None:
        o = self.orders
        if name == "undo":
            if o.undo():
                self._changed()
        elif name == "entrench":
            self._apply_orders(o.entrench())
        elif name == "evacuate":
            self._apply_orders(o.evacuate())
        elif name == "end_phase":
            self._end_phase()
        elif name == "confirm_attack":
            self._apply_orders(o.confirm())
        elif name == "cancel_attack":
            o.cancel()
        elif name == "speed":
            GameScreen.speed = (GameScreen.speed + 1) % len(SPEEDS)
        elif name == "skip":
            self._skip_phase = True
        elif name == "help":
            self.help.toggle()
        elif name.startswith("overlay:"):
            self.toggle_overlay(name.split(":", 1)[1])

    # -- modal layers --------------------------------------------------------------------------

    def _modal_event(self, event: pygame.event.Event) -> None:
        """The curtain or the turn summary: Enter, Space, Esc or a click on the button goes on."""
        go_on = False
        if event.type == pygame.KEYDOWN and event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE,
                                                          pygame.K_ESCAPE):
            go_on = True
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            go_on = any(b.hit(event.pos) for b in self._modal_buttons)
        if not go_on:
            return
        if self.curtain_side is not None:
            self.curtain_side = None
        else:
            self.summary = None

    def _pause_items(self) -> list[Button]:
        return [Button("resume", "Resume (Esc)"), Button("save", "Save game"), Button("load", "Load game"),
                Button("menu", "Main menu"), Button("quit", "Quit")]

    def _pause_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self.paused = False
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for b in self._modal_buttons:
                if b.hit(event.pos):
                    self._pause_choice(b.name)
                    return

    def _pause_choice(self, name: str) -> None:
        self.paused = False
        if name == "save":
            self.choose_save()
        elif name == "load":
            self.load_game()
        elif name == "menu":
            self.app.main_menu()
        elif name == "quit":
            self.app.quit()

    def close(self) -> None:
        """Leaving the screen: the computer stops thinking."""
        self.session.stop()

    # -- saving and loading --------------------------------------------------------------------

    def _notify(self, message: str, seconds: float = 3.0) -> None:
        self._toast = (message, time.monotonic() + seconds)

    def quick_save(self) -> Path | None:
        """F5: the game to saves_dir()/quicksave.json (an error dialog when it cannot be written)."""
        return self._save_to(saves_dir() / QUICKSAVE)

    def _save_to(self, path: Path) -> Path | None:
        if self.session.ai_busy():
            self._notify("Wait for the computer to finish its phase before saving")
            return None
        try:
            self.session.save(path)
        except OSError as exc:
            self.app.show_error("Could not save", f"{path}: {exc.strerror or exc}")
            return None
        self._notify(f"Saved to {path}")
        return path

    def quick_load(self) -> bool:
        """F9: back to the quick save (an error dialog when there is none or it is broken)."""
        path = saves_dir() / QUICKSAVE
        if not path.exists():
            self.app.show_error("No quick save", f"There is no quick save yet ({path}); F5 makes one.")
            return False
        try:
            session = Session.load(path)
        except InputError as exc:
            self.app.show_error("Could not load the quick save", str(exc))
            return False
        except OSError as exc:
            self.app.show_error("Could not load the quick save", f"{path}: {exc.strerror or exc}")
            return False
        self._set_session(session)
        self.app.session = session
        self._notify(f"Loaded {path}")
        if session.notice:  # resumed from its snapshot: say why (as App.open_session does)
            dialogs.show_message(self.app.ui, "Save resumed", session.notice)
        return True

    def load_game(self) -> None:
        """The pause menu's load: the list of saves; the chosen one replaces this game."""
        dialogs.SavePicker(self.app.ui, self.app.load_game, mode="load")

    def choose_save(self) -> None:
        """The pause menu's save: a file name in the saves folder (or a path)."""
        dialogs.SavePicker(self.app.ui, self._save_to, mode="save")

    # -- each frame -----------------------------------------------------------------------------

    def update(self, dt: float) -> None:
        if self.session.version != self._version:
            self._changed()
        self._phase_changes()
        if not self.paused and self.curtain_side is None:
            self._run_ai(dt)
        self._pan(dt)
        if self.game.over and self._anim is None and not self.session.ai_busy() and not self._ended:
            self._ended = True
            self.session.stop()
            self.app.end_game(self.session)
            return
        if self.session.autosave_error and self.session.autosave_error != self._autosave_error:
            self._autosave_error = self.session.autosave_error
            self._notify(f"Warning: {self._autosave_error}", 8.0)
        if self._toast is not None and time.monotonic() > self._toast[1]:
            self._toast = None
        self._update_tooltip()

    def _phase_changes(self) -> None:
        """A new phase: the map's viewer follows, a human's phase opens with the hotseat curtain
        (two humans) and the summary of what happened since their last phase."""
        state = self.game.state
        key = (state.turn, state.active, self.game.over)
        if key == self._phase_key:
            return
        first = self._phase_key is None
        self._phase_key = key
        self._skip_phase = False
        self._set_viewer()
        if self.game.over or not self.session.human_to_move:
            return
        side = self.game.ctx.move_order[state.active]
        humans = [x for x in self.session.players if self.session.players[x] == HUMAN]
        if len(humans) > 1 and side != self._last_human_side:
            self.curtain_side = side  # hotseat: the other player takes over
        if side != self._last_human_side and not first:
            self.orders.deselect()
            self.orders.inspected = None
            self._center_on_front(side)
        self._last_human_side = side
        self.summary = panels.turn_summary(self.game, self._marks.get(side), side)
        self._summary_side = side
        self.orders.message = ""
        self._ai_last = ""
        if first:
            self._center_on_front(side)

    def _center_on_front(self, side: int) -> None:
        """The first view of a game: where the side to move can attack, else its units' middle."""
        game = self.game
        attack = next((a for a in game.legal_actions() if isinstance(a, Attack)), None)
        if attack is not None:
            self.mapview.center_on(game.ctx.hm.index(*attack.target))
            return
        units = game.state.side_units(side)
        if units:
            hm = game.ctx.hm
            hexes = [u.hex for u in units]
            x, y = sum(hm.x_km[hexes]) / len(hexes), sum(hm.y_km[hexes]) / len(hexes)
            self.mapview.center_on(min(hexes, key=lambda h: (hm.x_km[h] - x) ** 2 + (hm.y_km[h] - y) ** 2))

    def _run_ai(self, dt: float) -> None:
        s = self.session
        if s.game.over and self._anim is None:
            return
        if not s.human_to_move and not s.game.over:
            s.start_ai()
        speed = SPEEDS[GameScreen.speed]
        instant = self._skip_phase or speed[1] <= 0
        started = time.perf_counter()
        while True:
            if self._anim is not None:
                if instant:
                    self._finish_anim()
                else:
                    self._anim.elapsed += dt
                    self._show_anim()
                    if self._anim.elapsed < self._anim.duration:
                        break
                    self._finish_anim()
                    break
            try:
                action = s.poll_ai()
            except AIError as exc:
                self.app.show_error("The computer player failed", str(exc))
                return
            if action is None:
                break
            self._anim = self._animation(action, speed)
            if not instant:
                self._show_anim()
                break
            if time.perf_counter() - started > FRAME_BUDGET:
                break
        side = s.side_to_move
        if s.ai_busy() and side is not None:
            who = s.players.get(side, "")
            self._ai_status = (f"{panels.side_name(s.game.ctx, s.game.ctx.side_index[side])} "
                               f"(computer: {who}) is playing")
        else:
            self._ai_status = ""

    def _animation(self, action: Action, speed: tuple[str, float, float]) -> _Animation:
        """How an AI action is shown: a move along its path, an attack by highlighting it."""
        ctx, state = self.game.ctx, self.game.state
        per_hex, attack_pause = speed[1], speed[2]
        if isinstance(action, (Move, RailMove)):
            u = state.units.get(action.unit)
            if u is not None and u.on_map:
                j = ctx.hm.index(*action.to)
                board = board_for(ctx, state)
                if isinstance(action, Move):
                    found = reach(ctx, state, u, board, through=True)
                    path = path_to(found, u.hex, j) if j in found else [u.hex, j]
                else:
                    prev = rail_reach(ctx, state, u, board)
                    path = [j]
                    while path[-1] != u.hex and path[-1] in prev:
                        path.append(prev[path[-1]])
                    path = path[::-1] if path[-1] == u.hex else [u.hex, j]
                duration = per_hex * (len(path) - 1) * (0.5 if isinstance(action, RailMove) else 1.0)
                how = " by rail" if isinstance(action, RailMove) else ""
                return _Animation(action, u.id, path, duration, label=f"{u.name} moves{how} to {ctx.hex_name(j)}")
        if isinstance(action, Attack):
            t = ctx.hm.index(*action.target)
            side = ctx.move_order[state.active]
            attackers = tuple(u.id for h in action.from_hexes for u in state.units_at(ctx.hm.index(*h))
                              if u.side == side)
            try:
                odds = f" at {engine.preview(ctx, state, action).column_label}"
            except ValueError:  # not legal now: the session will refuse it and say why
                odds = ""
            return _Animation(action, None, [], attack_pause, target=t, attackers=attackers,
                              label=f"Attack on {ctx.hex_name(t)}{odds}")
        return _Animation(action, None, [], 0.0)

    def _show_anim(self) -> None:
        a = self._anim
        if a is None:
            return
        if a.unit is not None and len(a.path) > 1:
            self.mapview.set_orders(selected=(a.unit,), path=a.path)
            self.mapview.animate_move(a.unit, a.path, min(1.0, a.elapsed / a.duration) if a.duration else 1.0)
        elif a.target is not None:
            self.mapview.set_orders(selected=a.attackers, targets=(a.target,), attack_target=a.target)
        self._highlights = None  # the orders' highlights come back after the animation

    def _finish_anim(self) -> None:
        a = self._anim
        self._anim = None
        if a is None:
            return
        if a.unit is not None:
            self.mapview.animate_move(a.unit, a.path, None)
        try:
            entries = self.session.apply(a.action)
        except ValueError as exc:  # the session refused it (cannot happen with a sane worker)
            self.app.show_error("The computer's move was refused", str(exc))
            return
        if entries:
            self._ai_last = entries[-1].text
        self._changed()

    def _pan(self, dt: float) -> None:
        dx = dy = 0.0
        if not self.paused and self.curtain_side is None:
            keys = pygame.key.get_pressed()
            if keys[pygame.K_LEFT] or keys[pygame.K_a]:
                dx -= 1
            if keys[pygame.K_RIGHT] or keys[pygame.K_d]:
                dx += 1
            if keys[pygame.K_UP] or keys[pygame.K_w]:
                dy -= 1
            if keys[pygame.K_DOWN] or keys[pygame.K_s]:
                dy += 1
            dx, dy = dx * KEY_PAN_SPEED * dt, dy * KEY_PAN_SPEED * dt
            if self._mouse_seen and pygame.mouse.get_focused() and self._press is None:
                w, h = self.app.surface.get_size()
                x, y = self.mouse
                if 0 <= x < EDGE_PAN_PX:
                    dx -= EDGE_PAN_SPEED * dt
                elif w - EDGE_PAN_PX <= x < w:
                    dx += EDGE_PAN_SPEED * dt
                if 0 <= y < EDGE_PAN_PX:
                    dy -= EDGE_PAN_SPEED * dt
                elif h - EDGE_PAN_PX <= y < h:
                    dy += EDGE_PAN_SPEED * dt
        if dx or dy:
            self.mapview.pan(dx, dy)
            self.orders.hover(self._hex_at(self.mouse))

    def _update_tooltip(self) -> None:
        if self._press is not None or not self.map_rect.collidepoint(self.mouse):
            self._tooltip = None
            return
        if time.monotonic() - self._still_since < TOOLTIP_DELAY:
            return
        j = self._hex_at(self.mouse)
        if j is None:
            self._tooltip = None
        elif self._tooltip is None or self._tooltip[0] != j:
            self._tooltip = (j, self.mapview.tooltip(self.game, j))

    # -- drawing -------------------------------------------------------------------------------

    def draw(self, surface: pygame.Surface) -> None:
        game = self.game
        if self._anim is None:
            h = self.orders.highlights()
            if h != self._highlights:
                self._highlights = h
                self.mapview.set_orders(**h.as_kwargs())
        surface.fill(panels.PANEL_BG)
        if self.curtain_side is not None:  # hotseat: nothing of the map shows
            panels.draw_top_bar(surface, self.top_rect, game, self.session.players)
            area = pygame.Rect(0, TOP_BAR, surface.get_width(), surface.get_height() - TOP_BAR)
            self._modal_buttons = [panels.draw_curtain(surface, area, game, self.curtain_side, self.mouse)]
            self.help.draw(surface, surface.get_rect())
            return
        self._auto_zoc_overlay()
        view = surface.subsurface(self.map_rect)
        self.mapview.draw(view, game)
        if self._anim is not None and self._anim.target is not None:
            self._draw_attack_arrows(view, self._anim.action)
        self._buttons = []
        self._draw_overlay_bar(surface)
        self._draw_preview(surface)
        banner = []
        if self._ai_status:
            banner = [self._ai_status, f"speed {SPEEDS[GameScreen.speed][0]} (F)  -  Space skips the animation"]
            now = self._anim.label if self._anim is not None and self._anim.duration > 0 else self._ai_last
            if now:
                banner.append(now)
        elif self._toast is not None:
            banner = [self._toast[0]]
        panels.draw_banner(surface, self.map_rect, banner)
        modal = self.paused or self.summary is not None or self.help.visible
        if self._tooltip is not None and self._tooltip[1] and self.orders.shown_attack is None and not modal:
            panels.draw_tooltip(surface, self.mouse, self._tooltip[1], self.map_rect)
        panels.draw_top_bar(surface, self.top_rect, game, self.session.players,
                     right_text="F1 help")
        self._draw_panel(surface)
        self._modal_buttons = []
        if self.summary is not None:
            self._modal_buttons = [panels.draw_turn_summary(surface, surface.get_rect(), game, self.summary,
                                                            self._summary_side, self.mouse,
                                                            since_last=self._summary_side in self._marks)]
        if self.paused:
            self._draw_pause(surface)
        self.help.draw(surface, self.map_rect)

    def _draw_attack_arrows(self, view: pygame.Surface, attack: Attack) -> None:
        """The computer's attack: a red arrow from each attacking hex to the target."""
        hm = self.game.ctx.hm
        tx, ty = self.mapview.hex_center(hm.index(*attack.target))
        for h in attack.from_hexes:
            sx, sy = self.mapview.hex_center(hm.index(*h))
            dx, dy = tx - sx, ty - sy
            length = max(1.0, (dx * dx + dy * dy) ** 0.5)
            ux, uy = dx / length, dy / length
            end = (tx - ux * length * 0.42, ty - uy * length * 0.42)
            start = (sx - ux * length * 0.1, sy - uy * length * 0.1)
            width = max(4, int(length * 0.17))
            pygame.draw.line(view, (20, 20, 20), start, end, width + 2)
            pygame.draw.line(view, (225, 40, 30), start, end, width)
            head = width * 1.8
            left = (end[0] - ux * head - uy * head * 0.7, end[1] - uy * head + ux * head * 0.7)
            right = (end[0] - ux * head + uy * head * 0.7, end[1] - uy * head - ux * head * 0.7)
            tip = (end[0] + ux * head * 0.6, end[1] + uy * head * 0.6)
            pygame.draw.polygon(view, (225, 40, 30), [tip, left, right])
            pygame.draw.polygon(view, (20, 20, 20), [tip, left, right], 1)

    def _draw_overlay_bar(self, surface: pygame.Surface) -> None:
        for b in self.overlay_buttons:
            name = b.name.split(":", 1)[1]
            b.toggled = name in self.mapview.overlays and not (name == "zoc" and self._auto_zoc)
            b.draw(surface, self.mouse, 13)
        self._buttons += self.overlay_buttons

    def _draw_preview(self, surface: pygame.Surface) -> None:
        shown = self.orders.shown_attack
        if shown is None:
            return
        attack, assessment, confirm = shown
        w, h = panels.preview_size(assessment)
        m = self.map_rect
        t = self.game.ctx.hm.index(*attack.target)
        target = self.screen_pos_of_hex(t)
        rect = pygame.Rect(0, 0, min(w, m.width - 24), min(h, m.height - 60))
        # in a corner of the map that leaves the target (and its neighbours) in sight
        spots = [(m.x + 12, m.y + 12), (m.right - 12 - rect.width, m.y + 12),
                 (m.x + 12, m.bottom - 44 - rect.height), (m.right - 12 - rect.width, m.bottom - 44 - rect.height)]
        near = next(int(j) for j in self.game.ctx.neighbours[t] if j >= 0)
        spacing = abs(complex(*self.screen_pos_of_hex(near)) - complex(*target))
        reach = spacing * 1.5  # the target and its ring of neighbours stay visible

        def clearance(spot: tuple[int, int]) -> float:
            r = pygame.Rect(spot, rect.size)
            dx = max(r.left - target[0], 0, target[0] - r.right)
            dy = max(r.top - target[1], 0, target[1] - r.bottom)
            return (dx * dx + dy * dy) ** 0.5

        rect.topleft = next((p for p in spots if clearance(p) > reach), max(spots, key=clearance))
        self._buttons += panels.draw_combat_preview(surface, rect, self.game, attack, assessment, confirm, self.mouse)

    def _draw_panel(self, surface: pygame.Surface) -> None:
        pygame.draw.rect(surface, panels.PANEL_BG, self.panel_rect)
        pygame.draw.line(surface, panels.PANEL_EDGE, self.panel_rect.topleft, self.panel_rect.bottomleft)
        s, o = self.session, self.orders
        if s.human_to_move:
            entrench_ok = o.primary is not None and Entrench(o.primary.id) in o.legal
            orders = [("undo", "Undo", "U", s.can_undo()), ("entrench", "Dig in", "T", entrench_ok),
                      ("end_phase", "End phase", "E", o.pending is None)]
            if o.evacuation() is not None:  # the hex shown holds an own air base the enemy is closing on
                orders.insert(2, ("evacuate", "Evacuate", "V", True))
            # the key beside each label while there is room, else in the tooltip
            row = [Button(name, label if len(orders) > 3 else f"{label} ({k})", enabled=ok, tip=f"Key: {k}")
                   for name, label, k, ok in orders]
        elif not self.game.over:
            row = [Button("speed", f"Speed: {SPEEDS[GameScreen.speed][0]} (F)"),
                   Button("skip", "Skip (Space)", enabled=not self._skip_phase)]
        else:
            row = []
        weights = {3: [0.9, 0.9, 1.2], 4: [0.8, 0.8, 1.0, 1.1]}.get(len(row))
        panels.layout_row(row, self.actions_rect, weights=weights)
        for b in row:
            b.draw(surface, self.mouse, 13)
        self._buttons += row
        panels.draw_units_panel(surface, self.units_rect, self.game, o.inspected, o.selected, o.message)
        panels.draw_losses(surface, self.losses_rect, self.game)
        self.log_panel.draw(surface, self.log_rect, self.game)
        panels.draw_card(surface, self.minimap_rect.inflate(4, 4))
        self.mapview.draw_minimap(surface, self.minimap_rect)

    def _draw_pause(self, surface: pygame.Surface) -> None:
        area = surface.get_rect()
        shade = pygame.Surface(area.size, pygame.SRCALPHA)
        shade.fill((0, 0, 0, 150))
        surface.blit(shade, (0, 0))
        items = self._pause_items()
        rect = pygame.Rect(0, 0, 300, 96 + 46 * len(items))
        rect.center = area.center
        panels.draw_card(surface, rect, bg=(34, 36, 44))
        panels.text(surface, "Paused", (rect.centerx, rect.y + 16), 22, panels.TEXT, bold=True, align="center")
        y = rect.y + 62
        for b in items:
            b.rect = pygame.Rect(rect.x + 30, y, rect.width - 60, 36)
            b.draw(surface, self.mouse, 16)
            y += 46
        panels.text(surface, f"Seed {self.session.seed}", (rect.centerx, rect.bottom - 22), 12, panels.DIM,
                    align="center")
        self._modal_buttons = items


