"""The help overlay: every mouse control and keyboard shortcut of the game screen, over the map.

:data:`CONTROLS` is the one list of the game screen's controls, kept next to the key handling
of :mod:`game.ui.game_screen` (change both together). F1 or ? opens it; F1, ? or Esc closes it,
and so does a click. Where the window is too small for the whole list (one column under 820
pixels of width), the wheel, the arrow keys, Page Up/Down, Home and End scroll it.
"""

from __future__ import annotations

import pygame

from . import panels
from .panels import ACCENT, DIM, TEXT, draw_card, text

#: (section, [(keys, what they do)]).
CONTROLS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Orders (mouse)", [
        ("Left click own unit", "select it; click its hex again for the next unit of the stack"),
        ("Shift + left click", "add a nearby own stack to the attack group"),
        ("Left click tinted hex", "move there (the path and its cost show on hover)"),
        ("Ctrl + left click", "go by strategic rail (blue hexes) where both ways reach"),
        ("Left click red enemy", "attack: the odds and outcomes show, then confirm"),
        ("Right click", "cancel the attack / clear the selection"),
    ]),
    ("Orders (keys)", [
        ("Enter", "confirm the attack; with nothing pending, end the phase"),
        ("E", "end your operations phase"),
        ("T", "entrench the selected unit (it does nothing else this phase)"),
        ("V", "evacuate the own air base in the hex shown, once the enemy is near it"),
        ("N", "select the next unit that can still move"),
        ("U  /  Ctrl+Z", "undo (until a combat result is revealed)"),
        ("Esc", "cancel / clear the selection / pause menu"),
    ]),
    ("Map", [
        ("Left drag", "pan the map"),
        ("Arrows, WASD", "pan (so does the mouse at the window's edge)"),
        ("Mouse wheel,  + / -", "zoom (the wheel zooms towards the cursor)"),
        ("Hold the mouse still", "tooltip: terrain, place, control, units"),
        ("Click the minimap", "jump there"),
        ("1 2 3 4", "overlays: own supply, enemy supply, zones of control, air"),
        ("5 6 7", "overlays: the scenario's regions, control, the corridor"),
    ]),
    ("Game", [
        ("F", "computer's move speed: slow, normal, fast, instant"),
        ("Space", "skip the rest of the computer's phase"),
        ("F5  /  F9", "quick save  /  quick load"),
        ("F1  /  ?", "this help"),
    ]),
]


class HelpOverlay:
    """The help panel; ``visible`` while open."""

    #: pixels one wheel notch or arrow key scrolls
    STEP = 36

    def __init__(self) -> None:
        self.visible = False
        self.scroll = 0       # pixels of the list scrolled off the top
        self.max_scroll = 0   # set by draw: how much of the list does not fit
        self._page = 0        # set by draw: the visible height of the list

    def toggle(self) -> None:
        self.visible = not self.visible
        self.scroll = 0

    def _scroll_by(self, dy: int) -> None:
        self.scroll = max(0, min(self.max_scroll, self.scroll + dy))

    def handle_event(self, event: pygame.event.Event) -> bool:
        """Open/close keys; while open it takes every key, click and wheel turn (True: consumed)."""
        if event.type == pygame.KEYDOWN:
            opener = event.key == pygame.K_F1 or getattr(event, "unicode", "") == "?"
            if opener:
                self.toggle()
                return True
            if self.visible:
                page = max(self.STEP, self._page)
                moves = {pygame.K_DOWN: self.STEP, pygame.K_UP: -self.STEP, pygame.K_PAGEDOWN: page,
                         pygame.K_PAGEUP: -page, pygame.K_END: self.max_scroll, pygame.K_HOME: -self.scroll}
                if event.key == pygame.K_ESCAPE:
                    self.visible = False
                elif event.key in moves:
                    self._scroll_by(moves[event.key])
                return True
        if not self.visible:
            return False
        if event.type == pygame.MOUSEWHEEL:
            self._scroll_by(-event.y * self.STEP)
            return True
        if event.type == pygame.MOUSEBUTTONDOWN:
            if event.button in (4, 5):  # the wheel's legacy button events: scrolled above
                return True
            self.visible = False
            return True
        return event.type == pygame.MOUSEBUTTONUP

    def draw(self, surface: pygame.Surface, area: pygame.Rect) -> None:
        if not self.visible:
            return
        shade = pygame.Surface(area.size, pygame.SRCALPHA)
        shade.fill((0, 0, 0, 140))
        surface.blit(shade, area)
        gap = 24
        width = min(area.width - 30, 960)
        two = width >= 820  # two columns of sections when there is room
        col_w = (width - 40 - gap) // 2 if two else width - 40
        columns: list[list[tuple[str, list[tuple[str, str]]]]] = [[], []] if two else [[]]
        for k, section in enumerate(CONTROLS):
            columns[k % len(columns)].append(section)
        widest = max(panels.font(14, True).size(keys)[0] for _, rows in CONTROLS for keys, _ in rows)
        key_w = min(widest + 16, col_w * 2 // 5)
        desc_w = col_w - key_w

        def height(sections) -> int:
            h = 0
            for _, rows in sections:
                h += 26
                for _, what in rows:
                    h += 18 * len(panels.wrap(what, 14, desc_w)) + 4
                h += 10
            return h

        body_h = max(height(c) for c in columns)
        rect = pygame.Rect(0, 0, width, min(area.height - 20, body_h + 80))
        rect.center = area.center
        draw_card(surface, rect, bg=(30, 32, 40))
        text(surface, "Controls", (rect.x + 20, rect.y + 14), 20, TEXT, bold=True)
        text(surface, "F1, ? or Esc closes", (rect.right - 20, rect.y + 18), 13, DIM, align="right")
        body = pygame.Rect(rect.x + 4, rect.y + 46, rect.width - 8, rect.height - 50)
        self._page = body.height - 40
        self.max_scroll = max(0, body_h + 80 - rect.height)
        self.scroll = min(self.scroll, self.max_scroll)
        clip = surface.get_clip()
        surface.set_clip(body)
        for c, sections in enumerate(columns):
            x = rect.x + 20 + c * (col_w + gap)
            y = rect.y + 52 - self.scroll
            for title, rows in sections:
                text(surface, title, (x, y), 15, ACCENT, bold=True)
                y += 26
                for keys, what in rows:
                    text(surface, panels.fit(keys, 14, key_w - 10, True), (x, y), 14, TEXT, bold=True)
                    for line in panels.wrap(what, 14, desc_w):
                        text(surface, line, (x + key_w, y), 14, DIM)
                        y += 18
                    y += 4
                y += 10
        surface.set_clip(clip)
        if self.max_scroll:  # say that there is more, and where
            hint = ("more below: wheel or arrow keys" if self.scroll < self.max_scroll
                    else "the end: wheel or arrow keys scroll back")
            strip = pygame.Rect(rect.x + 4, rect.bottom - 24, rect.width - 8, 20)
            surface.fill((30, 32, 40), strip)
            text(surface, hint, (rect.right - 20, rect.bottom - 22), 13, ACCENT, align="right")
