"""The window and its screens: the App owns the pygame display, the pygame_gui manager and the
frame loop; a Screen (menu, game, end) draws the window and takes its input.

- The loop is :meth:`App.step` (one frame: the pending events, update, draw, flip), so tests can
  post real events and step frame by frame; :meth:`App.run` calls it at 60 frames per second.
- The mixer is never initialised: the game starts without a sound card.
- One pygame_gui manager (:attr:`App.ui`, themed by ``theme.json``) serves every screen and the
  shared dialogs (:mod:`game.ui.dialogs`); it is drawn over the screen, then the screen's
  optional ``draw_over`` (help overlays, tooltips) on top. While a dialog is open the screen gets
  no input.
- Bad input never crashes the window: a scenario or a save that cannot be loaded becomes an error
  dialog. A bug inside a screen becomes an error dialog too, with the details written to a file
  (as the command line does); a screen that fails on every frame ends the loop.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygame
import pygame_gui

from ..diagnostics import InputError
from . import dialogs
from .session import AIError, ScenarioChoice, Session, saves_dir, scenario_choices

TITLE = "Hex wargame"  # the window's caption until a scenario is chosen (then its title)
DEFAULT_SIZE = (1280, 800)
MIN_SIZE = (800, 560)
FPS = 60
THEME = Path(__file__).with_name("theme.json")
BACKGROUND = (24, 27, 34)
INPUT_EVENTS = frozenset({pygame.KEYDOWN, pygame.KEYUP, pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP,
                          pygame.MOUSEMOTION, pygame.MOUSEWHEEL, pygame.TEXTINPUT})
MAX_FAILING_FRAMES = 30  # a screen that raises on this many frames in a row ends the loop


class Screen:
    """One screen of the window. Subclasses override what they need; every method has a default."""

    root: Any = None  # the container of the screen's pygame_gui elements, if it has any

    def __init__(self, app: App):
        self.app = app

    def handle_event(self, event: pygame.event.Event) -> None:
        """An input or pygame_gui event the UI did not consume (none while a dialog is open)."""

    def update(self, dt: float) -> None:
        """Advance by `dt` seconds (animations, polling the AI)."""

    def draw(self, surface: pygame.Surface) -> None:
        """Draw the whole window (the pygame_gui elements are drawn over it by the App)."""
        surface.fill(BACKGROUND)

    def resize(self, size: tuple[int, int]) -> None:
        """The window changed size (the UI manager already knows)."""

    def close(self) -> None:
        """The App leaves this screen: remove its UI elements (not the whole manager: the next
        screen already exists), stop what it started."""
        if self.root is not None:
            self.root.kill()
            self.root = None


def _init_pygame() -> None:
    """Display and fonts only: no mixer, so no sound card is needed."""
    pygame.display.init()
    pygame.font.init()


def _icon() -> pygame.Surface:
    """A small gold hex, for the window's icon."""
    import math

    s = pygame.Surface((32, 32), pygame.SRCALPHA)
    pts = [(16 + 14 * math.cos(math.radians(60 * k + 30)), 16 + 14 * math.sin(math.radians(60 * k + 30)))
           for k in range(6)]
    pygame.draw.polygon(s, (200, 160, 40), pts)
    pygame.draw.polygon(s, (40, 30, 10), pts, 2)
    pygame.draw.circle(s, (180, 30, 30), (16, 16), 5)
    return s


def format_input_error(exc: InputError, limit: int = 8) -> str:
    """The diagnostics of an InputError as lines for a dialog (at most `limit`)."""
    lines = [d.format() for d in exc.diagnostics[:limit]] or [str(exc)]
    if len(exc.diagnostics) > limit:
        lines.append(f"... and {len(exc.diagnostics) - limit} more problem(s)")
    return "\n".join(lines)


class App:
    """The window. `scenario_dir` is where the menu finds scenarios (`choices`: already listed,
    see :meth:`scenario_choices`); `menu_defaults` (optional: ``scenario`` path, ``seed``,
    ``side``, ``opponent``) preselect the menu's choices."""

    def __init__(self, *, size: tuple[int, int] = DEFAULT_SIZE, scenario_dir: Path, fullscreen: bool = False,
                 menu_defaults: dict[str, Any] | None = None, choices: list[ScenarioChoice] | None = None):
        _init_pygame()
        pygame.display.set_caption(TITLE)
        try:
            pygame.display.set_icon(_icon())
        except pygame.error:
            pass
        self.scenario_dir = Path(scenario_dir)
        self.menu_defaults: dict[str, Any] = dict(menu_defaults or {})
        self.fullscreen = False
        self._windowed_size = (max(size[0], MIN_SIZE[0]), max(size[1], MIN_SIZE[1]))
        self.surface = pygame.display.set_mode(self._windowed_size, pygame.RESIZABLE)
        if fullscreen:
            self.toggle_fullscreen()
        self.ui = pygame_gui.UIManager(self.surface.get_size(), str(THEME) if THEME.is_file() else None)
        # the bold sizes the theme and the screens' rich text use, loaded now rather than on first use
        self.ui.preload_fonts([{"name": "noto_sans", "point_size": size, "style": style, "antialiased": "1"}
                               for size in (13, 14, 16, 17, 20) for style in ("bold", "italic")])
        self.clock = pygame.time.Clock()
        self.running = True
        self.exit_code = 0
        self.session: Session | None = None
        self.errors: list[str] = []  # every unexpected error caught (tests assert it stays empty)
        self.last_error: tuple[str, str] | None = None  # the last error dialog shown (title, message)
        self._failing = 0
        self._frame_failed = False
        self._shown: set[str] = set()
        self._contexts: dict[tuple, Any] = {}
        self._choices: list[ScenarioChoice] | None = choices
        self.backgrounds: dict[tuple, pygame.Surface] = {}  # menu backgrounds by (scenario, size)
        from .menu import MenuScreen

        self.screen: Screen = Screen(self)
        self.screen = MenuScreen(self)

    # -- the loop ---------------------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        return self.surface.get_size()

    def step(self, dt: float | None = None) -> None:
        """One frame: the pending events, update, draw, flip. A QUIT event closes cleanly."""
        if not self.running:
            return
        dt = 1.0 / FPS if dt is None else dt
        self._frame_failed = False
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.quit()
                return
            self._dispatch(event)
            if not self.running:
                return
        self._guard(self.screen.update, dt)
        self.ui.update(dt)
        self._draw()
        pygame.display.flip()
        self._failing = self._failing + 1 if self._frame_failed else 0
        if self._failing >= MAX_FAILING_FRAMES:
            self.exit_code = 70
            self.quit()

    def run(self) -> int:
        """Loop at 60 frames per second until the window closes; the exit code (0, or 70 after a
        screen failed on every frame)."""
        try:
            while self.running:
                dt = self.clock.tick(FPS) / 1000.0
                self.step(min(dt, 0.1))
        finally:
            self.close()
        return self.exit_code

    def close(self) -> None:
        """Stop the AI worker and close the display."""
        self._stop_sessions()
        pygame.display.quit()

    def _dispatch(self, event: pygame.event.Event) -> None:
        if event.type == pygame.VIDEORESIZE:
            self._resized(tuple(event.size))
            return
        if event.type == pygame.KEYDOWN and event.key == pygame.K_F11:
            self.toggle_fullscreen()
            return
        consumed = self.ui.process_events(event)
        if self._guard(dialogs.handle_event, event, self.ui):
            return
        if consumed or (event.type in INPUT_EVENTS and dialogs.modal_open(self.ui)):
            return
        self._guard(self.screen.handle_event, event)

    def _draw(self) -> None:
        self._guard(self.screen.draw, self.surface)
        self.ui.draw_ui(self.surface)
        over = getattr(self.screen, "draw_over", None)
        if over is not None:
            self._guard(over, self.surface)

    def _guard(self, fn: Callable, *args: Any) -> Any:
        """Call a screen's method; an exception becomes an error dialog, not a crash."""
        try:
            return fn(*args)
        except AIError as exc:
            self._frame_failed = True
            self.errors.append(str(exc).split("\n")[0])
            where = self._emergency_save()
            self.show_error("The computer player failed", str(exc).split("\n\n")[0] + where)
        except Exception as exc:  # noqa: BLE001 - the window must survive a bug in a screen
            self._frame_failed = True
            text = f"{type(exc).__name__}: {exc}"
            self.errors.append(text)
            if text not in self._shown:
                self._shown.add(text)
                report = _write_bug_report()
                self.show_error("Internal error", f"{text}\n\nThis is a bug in the program, not in your input. "
                                                  f"The details are in {report}; please attach that file to a "
                                                  f"bug report.{self._emergency_save()}")
        return None

    def _emergency_save(self) -> str:
        """Save the current game next to the bug report; a sentence saying where (or '')."""
        if self.session is None:
            return ""
        try:
            path = saves_dir() / "crash-save.json"
            self.session.save(path)
            return f"\n\nThe game was saved to {path}."
        except Exception:  # noqa: BLE001 - best effort
            return ""

    # -- the window --------------------------------------------------------------------------

    def _resized(self, size: tuple[int, int]) -> None:
        if self.fullscreen:
            return
        size = (max(int(size[0]), MIN_SIZE[0]), max(int(size[1]), MIN_SIZE[1]))
        if self.surface.get_size() != size:
            self.surface = pygame.display.set_mode(size, pygame.RESIZABLE)
        self._windowed_size = size
        self._new_size()

    def _new_size(self) -> None:
        size = self.surface.get_size()
        if hasattr(self, "ui"):
            self.ui.set_window_resolution(size)
            self._guard(self.screen.resize, size)

    def toggle_fullscreen(self) -> None:
        """F11: the desktop's size without borders, or back to the window."""
        if not self.fullscreen:
            self._windowed_size = self.surface.get_size()
            try:
                desktop = pygame.display.get_desktop_sizes()[0]
            except (pygame.error, IndexError):
                desktop = self._windowed_size
            self.surface = pygame.display.set_mode(desktop, pygame.FULLSCREEN)
            self.fullscreen = True
        else:
            self.surface = pygame.display.set_mode(self._windowed_size, pygame.RESIZABLE)
            self.fullscreen = False
        self._new_size()

    def show_busy(self, text: str) -> None:
        """Draw a 'working' veil with `text` at once (before a slow load), then go on."""
        veil = pygame.Surface(self.size, pygame.SRCALPHA)
        veil.fill((10, 12, 16, 170))
        self.surface.blit(veil, (0, 0))
        font = pygame.font.Font(None, 34)
        label = font.render(text, True, (232, 232, 236))
        self.surface.blit(label, label.get_rect(center=(self.size[0] // 2, self.size[1] // 2)))
        pygame.display.flip()

    # -- screens ------------------------------------------------------------------------------

    def switch(self, screen: Screen) -> None:
        old = self.screen
        dialogs.close_all(self.ui)
        if old is not screen:
            self._guard(old.close)
        self.screen = screen

    def main_menu(self) -> None:
        from .menu import MenuScreen

        if self.session is not None:
            self.session.stop()
        self.switch(MenuScreen(self))

    def set_caption(self, title: str) -> None:
        """The window's caption: the scenario's title (the menu's choice, the game's scenario)."""
        if title != pygame.display.get_caption()[0]:
            pygame.display.set_caption(title or TITLE)

    def new_game(self, scenario: Path, seed: int, players: dict[str, str]) -> None:
        """Start a game of `scenario` -> the game screen; an error dialog when it cannot start."""
        self.show_busy("Setting up the campaign...")
        try:
            ctx = self.context(scenario)
            session = Session(ctx, seed, players)
        except InputError as exc:
            self.show_error("Cannot start the game", format_input_error(exc))
            return
        except (ValueError, OSError) as exc:  # a bad profile name, an unreadable file
            self.show_error("Cannot start the game", str(exc))
            return
        self.open_session(session)

    def load_game(self, path: Path) -> None:
        """Resume a save -> the game screen (or the end screen of a finished game); an error dialog
        on the current screen when the save is broken or foreign."""
        self.show_busy("Loading the save...")
        try:
            session = Session.load(path)
        except InputError as exc:
            self.show_error("Cannot load the save", format_input_error(exc))
            return
        except (ValueError, OSError) as exc:
            self.show_error("Cannot load the save", f"{path}: {exc}")
            return
        self.open_session(session)

    def open_session(self, session: Session) -> None:
        """Show a session: the game screen, or the end screen when the game is over."""
        if self.session is not None and self.session is not session:
            self.session.stop()
        self.session = session
        self.set_caption(session.ctx.scenario.meta.title)
        if session.game.over:
            self.end_game(session)
            return
        try:
            from .game_screen import GameScreen
        except ImportError as exc:
            self.show_error("The game screen is missing", f"The game screen could not be loaded: {exc}")
            return
        screen = self._guard(GameScreen, self, session)
        if screen is None:
            return
        self.switch(screen)
        if session.notice:
            dialogs.show_message(self.ui, "Save resumed", session.notice)

    def load_menu(self) -> None:
        """The list of saves over the current screen; picking one loads it (:meth:`load_game`)."""
        try:
            folder = saves_dir()
        except OSError as exc:
            self.show_error("No saves folder", f"The saves folder cannot be created: {exc.strerror or exc}")
            return
        dialogs.SavePicker(self.ui, self.load_game, mode="load", folder=folder)

    def end_game(self, session: Session) -> None:
        from .end_screen import EndScreen

        self.session = session
        screen = self._guard(EndScreen, self, session)
        if screen is not None:
            self.switch(screen)

    def show_error(self, title: str, message: str) -> None:
        self.last_error = (title, message)
        dialogs.show_error(self.ui, title, message)

    def quit(self) -> None:
        """Close at the next frame: stop the AI worker first."""
        self._stop_sessions()
        self.running = False

    def _stop_sessions(self) -> None:
        """Stop the AI worker of the App's session and of the screen's (a screen may have loaded
        another one itself)."""
        for session in {id(s): s for s in (self.session, getattr(self.screen, "session", None))
                        if isinstance(s, Session)}.values():
            session.stop()

    # -- data the screens share ------------------------------------------------------------------

    def context(self, path: Path):
        """The compiled scenario of `path`, cached while the file does not change."""
        from ..rules.context import load_context

        path = Path(path)
        try:
            st = path.stat()
            key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        if key is not None and key in self._contexts:
            return self._contexts[key]
        ctx = load_context(path)
        if key is not None:
            self._contexts[key] = ctx
        return ctx

    def scenario_choices(self, refresh: bool = False) -> list[ScenarioChoice]:
        if self._choices is None or refresh:
            self._choices = scenario_choices(self.scenario_dir) if self.scenario_dir.is_dir() else []
        return self._choices


def _write_bug_report() -> str:
    from .. import bug_report_prefix

    fd, name = tempfile.mkstemp(prefix=bug_report_prefix(), suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        traceback.print_exc(file=fh)
    return name


def launch(*, size: tuple[int, int], scenario_dir: Path, fullscreen: bool, menu: dict | None,
           session: Session | None, new: tuple | None, frames: int | None,
           choices: list[ScenarioChoice] | None = None) -> int:
    """Open the window for `main.py play`: on the menu (its scenario `choices` when the caller
    listed them already), a resumed session, or a new game (scenario, seed, players); run it (or
    step `frames` frames, for smoke tests); the exit code."""
    try:
        app = App(size=size, scenario_dir=scenario_dir, fullscreen=fullscreen, menu_defaults=menu,
                  choices=choices)
    except pygame.error as exc:
        print(f"main.py play: error: cannot open the game window: {exc} (is there a display? "
              "SDL_VIDEODRIVER=dummy runs without one)", file=sys.stderr)
        return 1
    if session is not None:
        app.open_session(session)
    elif new is not None:
        app.new_game(*new)
    if frames is None:
        return app.run()
    try:
        for _ in range(frames):
            app.step()
            if not app.running:
                break
    finally:
        app.close()
    return 70 if app.errors else app.exit_code
