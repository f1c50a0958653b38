"""Colours, fonts and cached text for the pygame interface.

Colours of things the scenario defines (terrain, sides) come from the scenario; the colours here
are the interface's own: map furniture (rivers, railways, the front), overlays, order highlights
and the panels. Keeping them in one module lets the map, the counters and the panels agree.

Fonts are loaded once per (size, bold) and text surfaces are cached, because rendering text is one
of the slowest things pygame does and the map redraws the same few hundred labels all the time.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import pygame

if TYPE_CHECKING:
    from ..rules.context import Context

Colour = tuple[int, int, int]
RGBA = tuple[int, int, int, int]

# -- sides -------------------------------------------------------------------------------------

#: The colour of no side (an index out of range, a side without a colour); a side's own colour is
#: its ``meta.sides[].colour`` in the scenario.
NEUTRAL: Colour = (150, 150, 150)

# -- the map -----------------------------------------------------------------------------------

BACKGROUND: Colour = (28, 32, 40)  # around the map and behind the panels
MAP_EDGE: Colour = BACKGROUND  # the world rectangle around the hexes
GRID_SHADE = 0.86  # hex outlines: the terrain colour darkened by this factor
RIVER: Colour = (46, 98, 196)
RIVER_WIDTH = (0.0, 0.07, 0.11, 0.16)  # by river class (0 none, 1 minor, 2 river, 3 major), in hex spacings
ROAD: Colour = (128, 86, 44)
RAIL: Colour = (22, 22, 22)
RAIL_BROKEN: Colour = (214, 36, 36)
FRONT: Colour = (220, 28, 28)
FAMINE: Colour = (150, 70, 20)
COMMUNIST: Colour = (190, 20, 20)
REGION_OTHER: Colour = (90, 60, 140)
#: Region kinds the scenario gives no colour, in the order it declares them.
REGION_COLOURS: tuple[Colour, ...] = (FAMINE, COMMUNIST, REGION_OTHER, (40, 120, 60), (30, 110, 150))
PLACE_FILL: Colour = (245, 242, 232)
PLACE_LINE: Colour = (20, 20, 20)
LABEL: Colour = (18, 18, 18)
LABEL_HALO: Colour = (250, 246, 226)
CONTROL_TINT_ALPHA = 62  # the holder's colour over its hexes, out of 255
CONTROL_OVERLAY_ALPHA = 120

# -- overlays ----------------------------------------------------------------------------------

SUPPLY_OK: RGBA = (60, 200, 90, 60)
SUPPLY_RAILHEAD: RGBA = (40, 170, 70, 90)
SUPPLY_OUT: Colour = (200, 30, 30)  # hatch
ZOC: Colour = (196, 36, 150)  # hatch and outline (magenta: not the red of the front)
AIR_COVER_ALPHA = 40
INTERDICTION: Colour = (235, 110, 20)
CORRIDOR_HELD: Colour = (30, 170, 60)
CORRIDOR_OPEN: Colour = (200, 40, 40)

# -- orders ------------------------------------------------------------------------------------

REACH: RGBA = (255, 255, 255, 92)
REACH_EDGE: Colour = (250, 250, 250)
RAIL_DEST: RGBA = (80, 160, 255, 110)
TARGET: Colour = (230, 20, 20)
SELECTED: Colour = (255, 255, 255)
PATH: Colour = (24, 24, 34)  # a dark line in a white casing: visible on any terrain and over the reach tint
PATH_CASING: Colour = (255, 255, 255)

# -- panels (shared with the game screen) ------------------------------------------------------

PANEL: Colour = (36, 40, 50)
PANEL_EDGE: Colour = (70, 76, 92)
TEXT: Colour = (232, 232, 236)
TEXT_DIM: Colour = (160, 164, 176)
GOOD: Colour = (90, 200, 110)
BAD: Colour = (230, 80, 70)


def hex_colour(text: str) -> Colour:
    """``"#rrggbb"`` -> ``(r, g, b)``."""
    text = text.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def mix(a: Colour, b: Colour, t: float) -> Colour:
    """``a`` moved a share ``t`` of the way towards ``b``."""
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def shade(c: Colour, k: float) -> Colour:
    """``c`` scaled by ``k`` (darker below 1), clamped to 0..255."""
    return (min(255, round(c[0] * k)), min(255, round(c[1] * k)), min(255, round(c[2] * k)))


def side_colour(ctx: Context, side: int) -> Colour:
    """The colour of side ``side`` (an index): the scenario's ``meta.sides[].colour``, else
    :data:`NEUTRAL`."""
    if side < 0 or side >= len(ctx.sides):
        return NEUTRAL
    spec = ctx.scenario.meta.sides[side]
    return hex_colour(spec.colour) if spec.colour else NEUTRAL


def side_short(ctx: Context, side: int) -> str:
    spec = ctx.scenario.meta.sides[side]
    return spec.short or spec.id[:3].upper()


def terrain_colours(ctx: Context) -> list[Colour]:
    """Per terrain index, the scenario's colour."""
    return [hex_colour(t.colour) for t in ctx.rules.terrain]


# -- fonts and text ----------------------------------------------------------------------------

_FONT_FILES: dict[bool, str | None] = {}
_FONTS: dict[tuple[int, bool], pygame.font.Font] = {}
_TEXT: OrderedDict[tuple, pygame.Surface] = OrderedDict()
_TEXT_CACHE_SIZE = 2000


def _font_file(bold: bool) -> str | None:
    """DejaVu Sans when the system has it (clear at small sizes), else pygame's own font."""
    if bold not in _FONT_FILES:
        path = None
        try:
            path = pygame.font.match_font("dejavusans", bold=bold)
        except (OSError, ValueError, pygame.error):  # best effort: fall back to the built-in font
            path = None
        _FONT_FILES[bold] = path
    return _FONT_FILES[bold]


def font(size: int, bold: bool = False) -> pygame.font.Font:
    """A font of ``size`` pixels, loaded once."""
    size = max(6, int(size))
    key = (size, bold)
    found = _FONTS.get(key)
    if found is None:
        if not pygame.font.get_init():
            pygame.font.init()
        path = _font_file(bold)
        found = pygame.font.Font(path, size)
        if path is None and bold:
            found.bold = True
        _FONTS[key] = found
    return found


def text(value: str, size: int, colour: Colour = TEXT, *, bold: bool = False,
         halo: Colour | None = None) -> pygame.Surface:
    """A cached rendering of ``value``; with ``halo`` a one-pixel outline in that colour around the
    letters, which keeps map labels readable over any terrain."""
    key = (value, size, colour, bold, halo)
    found = _TEXT.get(key)
    if found is not None:
        _TEXT.move_to_end(key)
        return found
    f = font(size, bold)
    body = f.render(value, True, colour)
    if halo is None:
        found = body
    else:
        edge = f.render(value, True, halo)
        w, h = body.get_size()
        found = pygame.Surface((w + 2, h + 2), pygame.SRCALPHA)
        for dx, dy in ((0, 1), (2, 1), (1, 0), (1, 2), (0, 0), (2, 2), (0, 2), (2, 0)):
            found.blit(edge, (dx, dy))
        found.blit(body, (1, 1))
    _TEXT[key] = found
    if len(_TEXT) > _TEXT_CACHE_SIZE:
        _TEXT.popitem(last=False)
    return found


__all__ = [
    "NEUTRAL",
    "RGBA",
    "Colour",
    "font",
    "hex_colour",
    "mix",
    "shade",
    "side_colour",
    "side_short",
    "terrain_colours",
    "text",
]
