"""The main menu: the scenario (the base and its what-if variants, with the description of the
selected one), the side, the computer opponent's profile, the seed, and new game / load / quit.
The heading is the selected scenario's title and the first sentence of its description.

The computer opponents offered are read from the files: 'default' (the scenario's plan), the
built-in AI profiles (``game/ai/profiles``), the player's own profile files
(:func:`user_profile_dir`), and the built-in 'simple' and 'random' players.

Keyboard: Enter starts, Esc quits. The background is the selected scenario's map, dimmed (drawn by
the map view once per scenario and window size, and cached on the App), or a plain gradient when
the map cannot be drawn.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import numpy as np
import pygame
import pygame_gui
from pygame_gui.core import ObjectID, UIContainer
from pygame_gui.elements import UIButton, UIDropDownMenu, UILabel, UIPanel, UISelectionList, UITextBox, UITextEntryLine

from . import dialogs
from .app import App, Screen
from .session import HUMAN, ScenarioChoice, user_profile_dir

SEED_LIMIT = 10**12
MAX_CONTENT = 1320  # pixels: wider, the lines of the description get too long to read
HOTSEAT, WATCH = "hotseat", "watch"
PROFILE_HELP = {"default": "the scenario's plan", "search": "the plan, looking ahead",
                "simple": "a plain greedy player", "random": "random moves"}
GOLD = (224, 184, 74)
TEXT = (232, 232, 236)
DIM = (160, 164, 176)


def ui_font(size: int, bold: bool = False) -> pygame.font.Font:
    """Noto Sans (shipped with pygame_gui), the UI's typeface, for text drawn directly."""
    key = (size, bold)
    font = _FONTS.get(key)
    if font is None:
        path = Path(pygame_gui.__file__).parent / "data" / ("NotoSans-Bold.ttf" if bold else "NotoSans-Regular.ttf")
        font = _FONTS[key] = pygame.font.Font(str(path) if path.is_file() else None, size)
    return font


_FONTS: dict[tuple[int, bool], pygame.font.Font] = {}


def parse_seed(text: str) -> int:
    """The seed typed in the menu; ValueError with a message for the player."""
    text = text.strip().replace("_", "").replace(",", "")
    if not text:
        raise ValueError("Type a seed (a whole number) or press Random.")
    if not text.isdigit():
        raise ValueError(f"A seed is a whole number; '{text}' is not one.")
    value = int(text)
    if value >= SEED_LIMIT:
        raise ValueError(f"A seed must be below {SEED_LIMIT:,}.")
    return value


def content_margin(width: int) -> int:
    """The left and right margin: a little air in a small window, the content centred (at most
    MAX_CONTENT pixels wide) in a wide one."""
    return max(24, width // 26, (width - MAX_CONTENT) // 2)


def list_label(choice: ScenarioChoice) -> str:
    """How a scenario reads in the list: variants as 'What if: ...' under their base."""
    if not choice.ok:
        return f"{choice.path.name} (cannot be played)"
    title = choice.title
    if choice.variant:
        low = title.lower()
        at = low.find("what if:")
        rest = title[at + len("what if:"):].strip() if at >= 0 else title
        return f"      What if: {rest}"
    return title


def default_index(choices: list[ScenarioChoice], scenario: object = None) -> int:
    """The choice the menu starts with: the `scenario` file when it is listed, else the first one
    that can be played (else the first)."""
    if scenario:
        want = Path(str(scenario)).resolve()
        for k, c in enumerate(choices):
            if c.path.resolve() == want:
                return k
    return next((k for k, c in enumerate(choices) if c.ok), 0)


def profile_options() -> list[tuple[str, str]]:
    """The computer opponents the menu offers, as (label, player): 'default' first, then the other
    built-in AI profiles (the files of the profile folder), the player's own profile files (the
    player is the file's path), and the built-in 'search' (the default looking ahead, one second a
    phase in the window), 'simple' and 'random' players."""
    from ..ai import BUILTIN, SEARCH
    from ..ai.profile import builtin_profiles

    names = ["default", SEARCH, *(p for p in builtin_profiles() if p != "default")]
    out = [(profile_label(p), p) for p in names]
    folder = user_profile_dir()
    try:
        own = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    except OSError:  # no folder (the usual case) or an unreadable one: no own profiles
        own = []
    out += [(f"{p.stem} (your profile)", str(p)) for p in own]
    out += [(profile_label(p), p) for p in sorted(BUILTIN, reverse=True)]  # simple, then random
    return out


def profile_label(profile: str) -> str:
    """How a player reads in the opponent list: its name, and what it is for the special ones."""
    extra = PROFILE_HELP.get(profile)
    if profile.endswith((".yaml", ".yml")):
        return Path(profile).stem
    return f"{profile} ({extra})" if extra else profile


def tagline(description: str) -> str:
    """The first sentence of a scenario's description (the line under the menu's title)."""
    text = " ".join(description.split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", text, maxsplit=1)[0] if text else ""


def fit_text(font: pygame.font.Font, text: str, width: int) -> str:
    """`text`, or as many of its first words as fit `width` pixels followed by an ellipsis."""
    if font.size(text)[0] <= width:
        return text
    words = text.split()
    while words and font.size(" ".join(words) + " …")[0] > width:
        words.pop()
    return " ".join(words).rstrip(",;:") + " …" if words else "…"


def players_for(choice: ScenarioChoice, side: str, opponent: str) -> dict[str, str]:
    """The players of a menu choice: the side played by the human, both (hotseat) or none (watch)."""
    sides = [s for s, _ in choice.sides]
    if side == HOTSEAT:
        return {s: HUMAN for s in sides}
    if side == WATCH:
        return {s: opponent for s in sides}
    return {s: HUMAN if s == side else opponent for s in sides}


class MenuScreen(Screen):
    """The main menu (see the module docstring)."""

    def __init__(self, app: App):
        super().__init__(app)
        defaults = app.menu_defaults
        self.choices = app.scenario_choices()
        self.labels = [list_label(c) for c in self.choices]
        self.index = default_index(self.choices, defaults.get("scenario"))
        # the side asked for (the command line's --side, the side last played): chosen whenever
        # the selected scenario has it, and a notice in the description when it has not
        self.wanted_side = str(defaults.get("side") or "")
        self.side = self.wanted_side
        seed = defaults.get("seed")
        self.seed_text = str(seed if seed is not None else secrets.randbelow(1_000_000))
        self.profiles = profile_options()
        self.opponent = str(defaults.get("opponent") or "default")
        if self.opponent not in {v for _, v in self.profiles}:  # a profile file given on the command line
            self.profiles.append((profile_label(self.opponent), self.opponent))
        self.root: UIContainer | None = None
        self._frames = 0
        self._plain: pygame.Surface | None = None
        self._heading_cache: tuple[tuple, list[tuple[pygame.Surface, tuple[int, int]]]] | None = None
        self._build(app.size)
        self._caption()

    @property
    def choice(self) -> ScenarioChoice | None:
        return self.choices[self.index] if self.choices else None

    # -- layout ---------------------------------------------------------------------------------

    def _build(self, size: tuple[int, int]) -> None:
        """(Re)create the widgets for a window size, keeping the choices made."""
        if self.root is not None:
            self.root.kill()
        ui = self.app.ui
        w, h = size
        self.root = UIContainer(pygame.Rect(0, 0, w, h), ui)
        margin = content_margin(w)
        top = 150 if h >= 700 else 100
        gap = 24
        right_w = min(420, max(330, w // 3))
        left_w = w - 2 * margin - gap - right_w
        bottom = h - max(24, h // 32) - 26
        # the scenario column
        left = UIPanel(pygame.Rect(margin, top, left_w, bottom - top), manager=ui, container=self.root,
                       object_id=ObjectID("#menu_left", None))
        inner = left_w - 32
        UILabel(pygame.Rect(16, 12, inner, 24), "SCENARIO", ui, container=left,
                object_id=ObjectID("#scenario_heading", "@heading"))
        rows = max(3, min(len(self.labels), 8))
        list_h = rows * 30 + 4
        self.scenario_list = UISelectionList(pygame.Rect(16, 42, inner, list_h), self.labels, ui, container=left,
                                             object_id=ObjectID("#scenario_list", None),
                                             default_selection=self.labels[self.index] if self.labels else None)
        y = 42 + list_h + 16
        UILabel(pygame.Rect(16, y, inner, 24), "ABOUT THIS SCENARIO", ui, container=left,
                object_id=ObjectID("#about_heading", "@heading"))
        self.description = UITextBox(self._description_html(), pygame.Rect(16, y + 30, inner, bottom - top - y - 46),
                                     ui, container=left, object_id=ObjectID("#scenario_description", None))
        # the game column; compact (labels beside their fields, lower buttons) in a low window
        x = margin + left_w + gap
        panel_h = bottom - top
        compact = panel_h < 520
        right = UIPanel(pygame.Rect(x, top, right_w, panel_h), manager=ui, container=self.root,
                        object_id=ObjectID("#menu_right", None))
        inner = right_w - 32
        UILabel(pygame.Rect(16, 12, inner, 24), "YOUR SIDE", ui, container=right,
                object_id=ObjectID("#side_heading", "@heading"))
        self.side_buttons: dict[str, UIButton] = {}
        y = 40
        button_h = 32 if compact else 38
        for key, text, tip in self._side_options():
            self.side_buttons[key] = UIButton(pygame.Rect(16, y, inner, button_h), text, ui, container=right,
                                              tool_tip_text=tip, object_id=ObjectID(f"#side_{key}", "@side"))
            y += button_h + 4
        y += 4 if compact else 8
        label_w = 0
        if compact:  # a label to the left of each field
            label_w = 96

        def heading(text: str, oid: str, y: int, dy: int) -> int:
            """A field's heading: left of the field when compact (returns y), else above it."""
            rect = pygame.Rect(16, y + dy, label_w, 24) if compact else pygame.Rect(16, y, inner, 24)
            UILabel(rect, text, ui, container=right, object_id=ObjectID(oid, "@heading"))
            return y if compact else y + 30

        y = heading("OPPONENT" if compact else "COMPUTER OPPONENT", "#opponent_heading", y, 5)
        options = [label for label, _ in self.profiles]
        self.opponent_menu = UIDropDownMenu(options, self._opponent_label(),
                                            pygame.Rect(16 + label_w, y, inner - label_w, 34), ui, container=right,
                                            object_id=ObjectID("#opponent", None))
        y += 34 + (8 if compact else 16)
        y = heading("SEED", "#seed_heading", y, 6)
        self.seed_entry = UITextEntryLine(pygame.Rect(16 + label_w, y, inner - label_w - 110, 36), ui,
                                          container=right, object_id=ObjectID("#seed", None),
                                          initial_text=self.seed_text)
        self.seed_entry.set_text_length_limit(16)
        self.random_button = UIButton(pygame.Rect(16 + inner - 100, y, 100, 36), "Random", ui, container=right,
                                      tool_tip_text="Draw a new random seed", object_id=ObjectID("#random_seed", None))
        self.seed_hint = UILabel(pygame.Rect(16, y + 40, inner, 20), "", ui, container=right,
                                 object_id=ObjectID("#seed_hint", "@small"))
        self._seed_changed(self.seed_text)
        # the buttons at the bottom of the column
        low_h = 36 if compact else 40
        new_h = 44 if compact else 54
        by = panel_h - (12 if compact else 16) - low_h
        half = (inner - 12) // 2
        self.quit_button = UIButton(pygame.Rect(16 + half + 12, by, half, low_h), "Quit", ui, container=right,
                                    tool_tip_text="Esc", object_id=ObjectID("#quit", "@big"))
        self.load_button = UIButton(pygame.Rect(16, by, half, low_h), "Load game...", ui, container=right,
                                    tool_tip_text="Resume a saved game or an autosave",
                                    object_id=ObjectID("#load", "@big"))
        self.new_button = UIButton(pygame.Rect(16, by - 8 - new_h, inner, new_h), "New game", ui, container=right,
                                   tool_tip_text="Enter", object_id=ObjectID("#new_game", "@primary"))
        self._refresh_side()

    def _side_options(self) -> list[tuple[str, str, str]]:
        c = self.choice
        sides = c.sides if c is not None and c.sides else ()
        out = [(sid, f"Play {name}", f"You command {name}; the computer plays the other side") for sid, name in sides]
        out.append((HOTSEAT, "Hotseat (two players)", "Both sides played here, in turn"))
        out.append((WATCH, "Watch: computer against computer", "The computer plays both sides"))
        return out

    def _opponent_label(self) -> str:
        return next(label for label, value in self.profiles if value == self.opponent)

    def _side_notice(self) -> str:
        """A sentence when the side asked for is not one of the selected scenario's ('' otherwise)."""
        want, c = self.wanted_side, self.choice
        if not want or c is None or not c.ok or want in (HOTSEAT, WATCH) or want in dict(c.sides):
            return ""
        sides = ", ".join(s for s, _ in c.sides)
        return f"This scenario has no side '{want}' (its sides: {sides}); choose yours on the right."

    def _description_html(self) -> str:
        c = self.choice
        if c is None:
            return dialogs.markup(f"No scenario files in {self.app.scenario_dir}.")
        if not c.ok:
            return ("<font color='#ff8a7a'><b>This file cannot be played.</b></font><br><br>"
                    + dialogs.markup(c.error or ""))
        facts = f"{c.turns} turns of {c.days_per_turn} days from {c.start}  ·  {c.path.name}"
        notice = self._side_notice()
        notice = f"<font color='#ff8a7a'><b>{dialogs.markup(notice)}</b></font><br><br>" if notice else ""
        return (f"{notice}<font color='#e0b84a' size=4.5><b>{dialogs.markup(c.title)}</b></font><br>"
                f"<font color='#a0a4b0'>{dialogs.markup(facts)}</font><br><br>{dialogs.markup(c.description)}")

    def _refresh_side(self) -> None:
        keys = list(self.side_buttons)
        if self.wanted_side in keys:
            self.side = self.wanted_side
        elif self.side not in keys:
            self.side = keys[0]
        for key, button in self.side_buttons.items():
            if key == self.side:
                button.select()
            else:
                button.unselect()
        ok = self.choice is not None and self.choice.ok
        if ok:
            self.new_button.enable()
        else:
            self.new_button.disable()

    def _seed_changed(self, text: str) -> None:
        self.seed_text = text
        try:
            parse_seed(text)
        except ValueError as exc:
            self.seed_hint.change_object_id(ObjectID("#seed_hint", "@warning"))
            self._set_hint(str(exc), "Not a valid seed.")
            return
        self.seed_hint.change_object_id(ObjectID("#seed_hint", "@small"))
        self._set_hint("The same seed and the same orders give the same game.", "Same seed, same orders: same game.")

    def _set_hint(self, text: str, short: str) -> None:
        """The seed hint, or its short form where the long one does not fit the column (a narrow
        window); the long form stays in the tooltip."""
        font = self.seed_hint.font
        fits = font is None or font.get_rect(text).width <= self.seed_hint.rect.width - 4
        self.seed_hint.set_text(text if fits else short)
        self.seed_hint.set_tooltip(None if fits else text)

    # -- input ------------------------------------------------------------------------------------

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.start()
            elif event.key == pygame.K_ESCAPE:
                self.app.quit()
        elif event.type == pygame_gui.UI_BUTTON_PRESSED:
            element = event.ui_element
            if element is self.new_button:
                self.start()
            elif element is self.load_button:
                self.app.load_menu()
            elif element is self.quit_button:
                self.app.quit()
            elif element is self.random_button:
                self.seed_entry.set_text(str(secrets.randbelow(1_000_000)))
                self._seed_changed(self.seed_entry.get_text())
            else:
                for key, button in self.side_buttons.items():
                    if element is button:
                        self.side = self.wanted_side = key
                        self._refresh_side()
                        self.description.set_text(self._description_html())
        elif event.type == pygame_gui.UI_SELECTION_LIST_NEW_SELECTION and event.ui_element is self.scenario_list:
            if event.text in self.labels:
                self.select(self.labels.index(event.text))
        elif event.type == pygame_gui.UI_SELECTION_LIST_DOUBLE_CLICKED_SELECTION and \
                event.ui_element is self.scenario_list:
            self.start()
        elif event.type == pygame_gui.UI_TEXT_ENTRY_CHANGED and event.ui_element is self.seed_entry:
            self._seed_changed(event.text)
        elif event.type == pygame_gui.UI_TEXT_ENTRY_FINISHED and event.ui_element is self.seed_entry:
            self.start()
        elif event.type == pygame_gui.UI_DROP_DOWN_MENU_CHANGED and event.ui_element is self.opponent_menu:
            self.opponent = dict(self.profiles).get(event.text, self.opponent)

    def select(self, index: int) -> None:
        """Select a scenario of the list (the side choices follow its sides)."""
        old_sides = self.choice.sides if self.choice else ()
        self.index = index
        self._caption()
        if self.choice is not None and self.choice.sides != old_sides:
            self._build(self.app.size)
        else:
            self._refresh_side()
            self.description.set_text(self._description_html())

    def _caption(self) -> None:
        c = self.choice
        self.app.set_caption(c.title if c is not None and c.ok else "")

    def start(self) -> None:
        """New game with the choices made (a message when the seed is not a number)."""
        c = self.choice
        if c is None or not c.ok:
            self.app.show_error("Cannot start", "Pick a scenario that can be played first.")
            return
        try:
            seed = parse_seed(self.seed_entry.get_text())
        except ValueError as exc:
            self.app.show_error("Bad seed", str(exc))
            return
        self.app.menu_defaults.update(scenario=c.path, seed=None, side=self.side, opponent=self.opponent)
        self.app.new_game(c.path, seed, players_for(c, self.side, self.opponent))

    @property
    def players(self) -> dict[str, str]:
        return players_for(self.choice, self.side, self.opponent) if self.choice else {}

    # -- drawing ----------------------------------------------------------------------------------

    def resize(self, size: tuple[int, int]) -> None:
        self.seed_text = self.seed_entry.get_text()
        self._build(size)

    def draw(self, surface: pygame.Surface) -> None:
        surface.blit(self._background(surface.get_size()), (0, 0))
        w, h = surface.get_size()
        margin = content_margin(w)
        for image, at in self._heading((w, h)):
            surface.blit(image, at)
        foot = ui_font(13).render("Enter: new game   ·   Esc: quit   ·   F11: full screen", True, DIM)
        surface.blit(foot, (margin, h - max(24, h // 32) // 2 - foot.get_height() - 4))

    def heading_texts(self) -> tuple[str, str]:
        """The title and the line under it: the selected scenario's title (in capitals) and the
        first sentence of its description; nothing without a playable scenario."""
        c = self.choice
        if c is None or not c.ok:
            return "", ""
        return c.title.upper(), tagline(c.description)

    def _heading(self, size: tuple[int, int]) -> list[tuple[pygame.Surface, tuple[int, int]]]:
        """The title (with its shadow) and the tagline, rendered to fit above the columns: the
        title's type shrinks to fit the width (then its end gives way to an ellipsis), the tagline
        is one line, cut at a word with an ellipsis when it is longer (the whole description is
        in the scenario column). Cached per texts and window size."""
        title, sub = self.heading_texts()
        key = (title, sub, size)
        if self._heading_cache is not None and self._heading_cache[0] == key:
            return self._heading_cache[1]
        w, h = size
        margin = content_margin(w)
        room = w - 2 * margin - 4
        big = h >= 700
        out: list[tuple[pygame.Surface, tuple[int, int]]] = []
        y = 28 if big else 16
        if title:
            px = 56 if big else 42
            while px > 26 and ui_font(px, bold=True).size(title)[0] > room:
                px -= 2
            font = ui_font(px, bold=True)
            title = fit_text(font, title, room)
            image = font.render(title, True, GOLD)
            # the title keeps the height of the largest type, so the tagline stays in its place
            top = y + (ui_font(56 if big else 42, bold=True).get_height() - image.get_height()) // 2
            out.append((font.render(title, True, (0, 0, 0)), (margin + 3, top + 3)))
            out.append((image, (margin, top)))
            y += ui_font(56 if big else 42, bold=True).get_height()
        if sub:
            font = ui_font(18 if big else 16)
            out.append((font.render(fit_text(font, sub, room), True, TEXT), (margin + 2, y + 2)))
        self._heading_cache = (key, out)
        return out

    def update(self, dt: float) -> None:
        """The map background is drawn after the first frame, so the window shows at once."""
        self._frames += 1
        key = self._background_key(self.app.size)
        if self._frames > 1 and key not in self.app.backgrounds:
            self.app.backgrounds[key] = _map_background(self.app, self.choice, self.app.size)

    def _background_key(self, size: tuple[int, int]) -> tuple:
        c = self.choice
        return (str(c.path) if c and c.ok else "", size)

    def _background(self, size: tuple[int, int]) -> pygame.Surface:
        """The selected scenario's map at the start, dimmed (cached on the App per scenario and
        size); a plain gradient until it is drawn."""
        cached = self.app.backgrounds.get(self._background_key(size))
        if cached is None:
            if self._plain is None or self._plain.get_size() != size:
                self._plain = pygame.Surface(size)
                _gradient(self._plain)
            return self._plain
        return cached


def _map_background(app: App, choice: ScenarioChoice | None, size: tuple[int, int]) -> pygame.Surface:
    surface = pygame.Surface(size)
    _gradient(surface)
    if choice is None or not choice.ok:
        return surface
    try:
        from ..rules.engine import Game
        from .mapview import ZOOM_SPACINGS, MapView

        ctx = app.context(choice.path)
        view = MapView(ctx, size)
        # the least zoom (at least the third level, for detail) at which the map fills the width
        zoom = next((z for z in range(2, len(ZOOM_SPACINGS)) if view.zoom_geometry(z).width >= size[0] * 1.1),
                    len(ZOOM_SPACINGS) - 1)
        view.set_zoom(zoom)
        # centred across the map, and on the middle of the campaign's places from north to south
        hm = ctx.hm
        places = list(ctx.place_hex.values())
        y = float(np.median(hm.y_km[places])) if places else float(hm.y_km.mean())
        x = float(hm.x_km.min() + hm.x_km.max()) / 2
        view.center_on(int(np.argmin((hm.x_km - x) ** 2 + (hm.y_km - y) ** 2)))
        game = Game.new(ctx, 0)
        view.refresh(game)
        view.draw(surface, game)
    except Exception:  # noqa: BLE001 - the map is decoration: the plain background will do
        _gradient(surface)
        return surface
    veil = pygame.Surface(size, pygame.SRCALPHA)
    veil.fill((14, 16, 22, 178))
    surface.blit(veil, (0, 0))
    # darker towards the title
    band = pygame.Surface((size[0], 150), pygame.SRCALPHA)
    for y in range(150):
        pygame.draw.line(band, (10, 12, 16, int(120 * (1 - y / 150))), (0, y), (size[0], y))
    surface.blit(band, (0, 0))
    return surface


def _gradient(surface: pygame.Surface) -> None:
    w, h = surface.get_size()
    for y in range(h):
        t = y / max(1, h - 1)
        c = (int(30 - 12 * t), int(34 - 14 * t), int(44 - 18 * t))
        pygame.draw.line(surface, c, (0, y), (w, y))
