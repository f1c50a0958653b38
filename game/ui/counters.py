"""NATO-style unit counters, drawn once per look and cached.

A counter is a square in the side's colour (collaborationist units paler) with, from top to
bottom: the size marker (III regiment, X brigade, XX division, XXX corps, XXXX army), the type
symbol in a white box (the unit type's ``symbol`` from the scenario: infantry cross, armour
oval, cavalry slash, artillery dot, ...), the strength in thousands of men and a thin bar of
strength against full strength. Badges: out of supply (red, with the turns without supply),
famine (brown), entrenched (dark green), routed (a red slash across the counter), and the
number of units in the stack. A unit that has spent its phase is drawn darker. Below about 21
pixels a counter shows only its symbol and badges, below 12 it is a coloured block.

Every distinct look is rendered once into a small surface and kept (:func:`counter_surface`),
so drawing a hundred counters a frame is a hundred blits.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import pygame

from . import palette
from .palette import Colour

if TYPE_CHECKING:
    from ..rules.context import Context
    from ..rules.state import Unit

SIZE_MARKS = {"regiment": "III", "brigade": "X", "division": "XX", "corps": "XXX", "army": "XXXX"}
BLOCK_BELOW = 12  # pixels: smaller counters are plain blocks
SMALL_BELOW = 21  # pixels: smaller counters show the type symbol only
_CACHE: OrderedDict[tuple, pygame.Surface] = OrderedDict()
_CACHE_SIZE = 1500
renders = 0  # counters rendered (not served from the cache); tests and benchmarks read it


def strength_text(men: int) -> str:
    """Men in thousands as printed on a counter: ``20`` for 20,000, ``6.5`` for 6,500."""
    k = men / 1000.0
    if k >= 9.95:
        return f"{k:.0f}"
    return f"{k:.1f}".rstrip("0").rstrip(".")


def counter_fill(ctx: Context, unit: Unit) -> Colour:
    base = palette.side_colour(ctx, unit.side)
    return palette.mix(base, (200, 200, 200), 0.45) if unit.puppet else base


def draw_counter(surface: pygame.Surface, ctx: Context, unit: Unit, rect: pygame.Rect, *,
                 selected: bool = False, stack: int = 1, famine: bool = False, spent: bool = False) -> None:
    """Draw ``unit`` as a counter filling ``rect`` of ``surface``.

    ``famine``: the unit stands in an active famine region that hurts its side (the caller knows
    the state); ``spent``: it has no movement left this phase (drawn darker)."""
    rect = pygame.Rect(rect)
    utype = ctx.unit_types[unit.type]
    key = (rect.w, rect.h, counter_fill(ctx, unit), utype.symbol, utype.size, strength_text(unit.strength),
           round(unit.strength / max(1, unit.max_strength), 1), 0 if unit.supplied else max(1, unit.out_of_supply),
           famine, unit.entrenched > 0, unit.disrupted, selected, max(1, stack), spent)
    surf = counter_surface(key)
    pad = _pad(rect.w, rect.h, selected)
    surface.blit(surf, (rect.x - pad, rect.y - pad))


def counter_surface(key: tuple) -> pygame.Surface:
    """The cached rendering of one counter look (see :func:`draw_counter` for the key)."""
    found = _CACHE.get(key)
    if found is not None:
        _CACHE.move_to_end(key)
        return found
    global renders
    renders += 1
    found = _render(*key)
    _CACHE[key] = found
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return found


def _render(w: int, h: int, fill: Colour, symbol: str, size: str, strength: str, share: float, oos: int,
            famine: bool, entrenched: bool, routed: bool, selected: bool, stack: int, spent: bool) -> pygame.Surface:
    pad = _pad(w, h, selected)
    extra = 2 * (min(stack, 3) - 1)  # room for the counters peeking out from under the stack
    surf = pygame.Surface((w + 2 * pad + extra, h + 2 * pad + extra), pygame.SRCALPHA)
    body = pygame.Rect(pad, pad, w, h)
    if spent:
        fill = palette.shade(fill, 0.62)
    frame = pygame.Rect(body.x, body.y, w + extra, h + extra)
    if w < BLOCK_BELOW or h < BLOCK_BELOW:
        _render_block(surf, body, fill, oos, routed, stack)
        return _select(surf, frame) if selected else surf
    # stack: the counters underneath peek out at the lower right
    if stack > 1:
        for k in range(min(stack, 3) - 1, 0, -1):
            under = body.move(2 * k, 2 * k).clip(surf.get_rect())
            pygame.draw.rect(surf, palette.shade(fill, 0.7), under)
            pygame.draw.rect(surf, (20, 20, 20), under, 1)
    pygame.draw.rect(surf, fill, body)
    # a light bevel: lit top-left edge, dark bottom-right edge
    pygame.draw.line(surf, palette.shade(fill, 1.3), body.topleft, (body.right - 1, body.top))
    pygame.draw.line(surf, palette.shade(fill, 1.3), body.topleft, (body.left, body.bottom - 1))
    pygame.draw.rect(surf, (15, 15, 15), body, 1)
    ink = (12, 12, 12)
    small = w < SMALL_BELOW  # only the symbol: the numbers would be too small to read
    # the type symbol box
    bw, bh = round(w * (0.7 if small else 0.62)), round(h * (0.46 if small else 0.34))
    box = pygame.Rect(0, 0, bw, bh)
    box.center = body.center if small else (body.centerx, body.top + round(h * 0.44))
    pygame.draw.rect(surf, (246, 244, 236), box)
    _symbol(surf, symbol, box, ink, max(1, round(w / 26)))
    if symbol != "militia":  # the militia frame is dashed, drawn with its symbol
        pygame.draw.rect(surf, ink, box, 1)
    if small:
        if routed:
            pygame.draw.line(surf, (210, 20, 20), body.bottomleft, body.topright, 2)
        if selected:
            _select(surf, frame)
        _badges(surf, body, w, oos, famine, entrenched, stack, labels=False)
        return surf
    # size marker above the box
    mark_px = max(7, round(h * 0.2))
    mark = palette.text(SIZE_MARKS.get(size, ""), mark_px, ink, bold=True)
    surf.blit(mark, mark.get_rect(midbottom=(body.centerx, box.top + 1)))
    # strength below the box
    num = palette.text(strength, max(8, round(h * 0.3)), ink, bold=True)
    surf.blit(num, num.get_rect(midtop=(body.centerx, box.bottom - 1)))
    # strength bar along the bottom edge
    if h >= 22:
        bar = pygame.Rect(body.left + 2, body.bottom - 4, body.w - 4, 2)
        pygame.draw.rect(surf, (60, 60, 60), bar)
        colour = palette.GOOD if share >= 0.7 else (230, 190, 40) if share >= 0.4 else palette.BAD
        pygame.draw.rect(surf, colour, (bar.x, bar.y, max(1, round(bar.w * min(1.0, share))), bar.h))
    if routed:  # the classic 'disrupted' slash
        pygame.draw.line(surf, (210, 20, 20), (body.left + 1, body.bottom - 2), (body.right - 2, body.top + 1),
                         max(2, w // 10))
    if selected:
        _select(surf, frame)
    _badges(surf, body, w, oos, famine, entrenched, stack, labels=True)
    return surf


def _select(surf: pygame.Surface, frame: pygame.Rect) -> pygame.Surface:
    """The selection frame: white in a dark edge, around the counter and its stack."""
    pygame.draw.rect(surf, (0, 0, 0), frame.inflate(7, 7), 2, border_radius=4)
    pygame.draw.rect(surf, palette.SELECTED, frame.inflate(4, 4), 2, border_radius=3)
    return surf


def _badges(surf: pygame.Surface, body: pygame.Rect, w: int, oos: int, famine: bool, entrenched: bool, stack: int,
            labels: bool) -> None:
    """Badges on the corners, half outside the counter, clear of its symbol and numbers: out of
    supply (turns), stack size, famine, entrenched."""
    r = _badge_radius(w)
    labels = labels and r >= 5
    if oos:
        _badge(surf, body.topleft, r, (205, 25, 25), str(oos) if labels else "")
    if stack > 1:
        _badge(surf, (body.right - 1, body.top), r, (20, 20, 20), str(stack) if labels else "")
    if famine:
        _badge(surf, (body.left, body.bottom - 1), r, (140, 80, 20), "F" if labels else "")
    if entrenched:
        _badge(surf, (body.right - 1, body.bottom - 1), r, (40, 100, 40), "E" if labels else "")


def _badge_radius(w: int) -> int:
    return max(3, round(w * 0.16))


def _pad(w: int, h: int, selected: bool) -> int:
    """Room around the counter's own rectangle for the corner badges and the selection frame."""
    if w < BLOCK_BELOW or h < BLOCK_BELOW:
        return 4 if selected else 1
    return max(_badge_radius(w) + 1, 4 if selected else 0)


def _render_block(surf: pygame.Surface, body: pygame.Rect, fill: Colour, oos: int, routed: bool, stack: int) -> None:
    if stack > 1:
        pygame.draw.rect(surf, palette.shade(fill, 0.6), body.move(1, 1).clip(surf.get_rect()))
    pygame.draw.rect(surf, fill, body)
    pygame.draw.rect(surf, (15, 15, 15), body, 1)
    if routed:
        pygame.draw.line(surf, (210, 20, 20), body.bottomleft, body.topright, 1)
    if oos:
        pygame.draw.rect(surf, (220, 20, 20), (body.x + 1, body.y + 1, 3, 3))


def _badge(surf: pygame.Surface, centre: tuple[int, int], r: int, colour: Colour, label: str) -> None:
    pygame.draw.circle(surf, colour, centre, r)
    pygame.draw.circle(surf, (250, 250, 250), centre, r, 1)
    if label:
        t = palette.text(label, max(7, round(r * 1.7)), (255, 255, 255), bold=True)
        surf.blit(t, t.get_rect(center=(centre[0], centre[1] + 1)))


def _symbol(surf: pygame.Surface, symbol: str, box: pygame.Rect, ink: Colour, lw: int) -> None:
    """The NATO symbol for ``symbol`` inside ``box``."""
    inner = box.inflate(-2, -2)

    def cross() -> None:
        pygame.draw.line(surf, ink, inner.topleft, inner.bottomright, lw)
        pygame.draw.line(surf, ink, inner.bottomleft, inner.topright, lw)

    if symbol == "infantry":
        cross()
    elif symbol in ("armour", "mechanised"):
        oval = inner.inflate(-round(inner.w * 0.3), -round(inner.h * 0.36))
        pygame.draw.rect(surf, ink, oval, lw, border_radius=max(1, oval.h // 2))
        if symbol == "mechanised":
            cross()
    elif symbol == "cavalry":
        pygame.draw.line(surf, ink, inner.bottomleft, inner.topright, lw)
    elif symbol == "artillery":
        pygame.draw.circle(surf, ink, inner.center, max(2, inner.h // 4))
    elif symbol == "engineer":
        e = inner.inflate(-round(inner.w * 0.4), -round(inner.h * 0.4))
        pygame.draw.lines(surf, ink, False, [e.bottomleft, e.topleft, e.topright, e.bottomright], lw)
        pygame.draw.line(surf, ink, e.midtop, e.midbottom, lw)
    elif symbol == "garrison":  # infantry holding ground: the cross on a heavy base
        cross()
        pygame.draw.line(surf, ink, (inner.left, inner.bottom - 1), (inner.right, inner.bottom - 1), lw + 1)
    elif symbol == "militia":  # irregular infantry: the cross in a dashed frame
        cross()
        step = max(2, box.w // 7)
        for x in range(box.left, box.right, 2 * step):
            end = min(x + step, box.right - 1)
            pygame.draw.line(surf, ink, (x, box.top), (end, box.top), 1)
            pygame.draw.line(surf, ink, (x, box.bottom - 1), (end, box.bottom - 1), 1)
        for y in range(box.top, box.bottom, 2 * step):
            end = min(y + step, box.bottom - 1)
            pygame.draw.line(surf, ink, (box.left, y), (box.left, end), 1)
            pygame.draw.line(surf, ink, (box.right - 1, y), (box.right - 1, end), 1)
    elif symbol == "guerrilla":
        t = palette.text("G", max(7, inner.h), ink, bold=True)
        surf.blit(t, t.get_rect(center=inner.center))
    elif symbol == "headquarters":
        t = palette.text("HQ", max(7, inner.h - 1), ink, bold=True)
        surf.blit(t, t.get_rect(center=inner.center))
    elif symbol == "air":
        r = max(2, inner.h // 4)
        pygame.draw.circle(surf, ink, (inner.centerx - r, inner.centery), r, lw)
        pygame.draw.circle(surf, ink, (inner.centerx + r, inner.centery), r, lw)
    else:
        cross()


def clear_cache() -> None:
    _CACHE.clear()


__all__ = ["SIZE_MARKS", "clear_cache", "counter_fill", "counter_surface", "draw_counter", "strength_text"]
