"""The game screen's panels: the top bar, the unit details, the combat preview, the losses, the
event log, the turn summary, the hotseat curtain, and the buttons they are made of.

They are drawn with plain pygame rather than pygame_gui: each is a small function of the game
state drawn every frame, so there is no widget tree to keep in step with the game, and rendered
text is cached (:func:`text`) so a frame costs a few blits. Every panel reads the state; none
changes it (clicks come back to the game screen as button names).

The combat preview shows everything :class:`~game.rules.combat.Assessment` knows: strengths, raw
odds and base column, every column shift with its reason, the final column, and for each outcome
its probability (as a bar), the men each side loses, the retreat and rout, so a player can trust
it: it is the same computation the rules resolve the attack with.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field

import pygame

from ..rules.actions import Attack
from ..rules.combat import Assessment
from ..rules.context import Context
from ..rules.doctrine import binding
from ..rules.engine import Game
from ..rules.movement import movement_allowance
from ..rules.state import GameState, LogEntry, Unit
from . import palette

# -- colours of the panels (the map's colours live in palette) ---------------------------------
PANEL_BG = (28, 30, 36)
PANEL_EDGE = (70, 74, 86)
CARD_BG = (36, 39, 47)
TEXT = (228, 228, 232)
DIM = (150, 154, 166)
FAINT = (105, 108, 120)
ACCENT = (236, 190, 80)
GOOD = (110, 200, 120)
BAD = (230, 95, 85)
BUTTON = (58, 63, 76)
BUTTON_HOVER = (78, 85, 102)
BUTTON_ON = (60, 110, 160)
BUTTON_OFF_TEXT = (120, 123, 135)
BAR = (92, 150, 220)

#: The kinds of log entry and how the log marks them.
KIND_COLOURS = {
    "event": (200, 170, 255), "capture": ACCENT, "combat": (240, 140, 110), "reinforcement": GOOD,
    "withdrawal": (190, 190, 120), "air": (120, 200, 240), "corridor": (250, 220, 90),
    "victory": (255, 240, 160), "famine": (220, 120, 90), "unit": (230, 110, 110), "message": DIM,
}


def font(size: int, bold: bool = False) -> pygame.font.Font:
    return palette.font(size, bold)


_TEXT_CACHE: OrderedDict[tuple, pygame.Surface] = OrderedDict()
_TEXT_CACHE_SIZE = 1500


def text_surface(s: str, size: int, colour: tuple[int, int, int] = TEXT, bold: bool = False) -> pygame.Surface:
    """A rendered line of text, cached (panels redraw every frame; rendering is the costly part)."""
    key = (s, size, colour, bold)
    surf = _TEXT_CACHE.get(key)
    if surf is None:
        surf = font(size, bold).render(s, True, colour)
        _TEXT_CACHE[key] = surf
        if len(_TEXT_CACHE) > _TEXT_CACHE_SIZE:
            _TEXT_CACHE.popitem(last=False)
    else:
        _TEXT_CACHE.move_to_end(key)
    return surf


def text(surface: pygame.Surface, s: str, pos: tuple[int, int], size: int = 14,
         colour: tuple[int, int, int] = TEXT, *, bold: bool = False, align: str = "left") -> pygame.Rect:
    """Draw one line at pos (its left, centre or right end per `align`); returns its rect."""
    surf = text_surface(s, size, colour, bold)
    r = surf.get_rect()
    if align == "right":
        r.topright = pos
    elif align == "center":
        r.midtop = pos
    else:
        r.topleft = pos
    surface.blit(surf, r)
    return r


def fit(s: str, size: int, width: int, bold: bool = False) -> str:
    """`s` cut with an ellipsis to fit `width` pixels."""
    f = font(size, bold)
    if f.size(s)[0] <= width:
        return s
    while s and f.size(s + "…")[0] > width:
        s = s[:-1]
    return s + "…"


def wrap(s: str, size: int, width: int, bold: bool = False) -> list[str]:
    """Words of `s` in lines no wider than `width` pixels (a long word is cut)."""
    f = font(size, bold)
    lines: list[str] = []
    line = ""
    for word in s.split():
        trial = f"{line} {word}" if line else word
        if f.size(trial)[0] <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        line = word if f.size(word)[0] <= width else fit(word, size, width, bold)
    if line:
        lines.append(line)
    return lines or [""]


def side_colour(ctx: Context, side: int) -> tuple[int, int, int]:
    """A side's colour from the scenario (``meta.sides[].colour``)."""
    c = ctx.scenario.meta.sides[side].colour.lstrip("#")
    return (int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16))


def side_name(ctx: Context, side: int) -> str:
    return ctx.scenario.meta.sides[side].name


def air_base_lines(ctx: Context, state: GameState, hex_index: int) -> list[str]:
    """The air bases in a hex, a line each: whose, its range, and what became of it."""
    lines = []
    for bid, base in ctx.air_bases.items():
        if base.hex != hex_index:
            continue
        spec = next(b for b in ctx.scenario.air_bases if b.id == bid)
        if bid in state.air_destroyed:
            status = f"destroyed {state.air_destroyed[bid]}"
            if bid in state.air_intact:
                status += ", taken intact"
        else:
            status = "active" if state.air_active.get(bid) else "out of action"
        lines.append(f"Air base of {side_name(ctx, base.side)} ({spec.range_km:g} km): {status}")
    return lines


def men(n: float) -> str:
    """Men as people read them: 3,300 or 12.5k."""
    n = round(n)
    return f"{n / 1000:.1f}k" if abs(n) >= 10000 else f"{n:,}"


def nice_date(d: dt.date | str) -> str:
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return f"{d.day} {d.strftime('%b %Y')}"


def draw_card(surface: pygame.Surface, rect: pygame.Rect, *, bg=CARD_BG, edge=PANEL_EDGE, alpha: int = 255) -> None:
    """A rounded panel background (translucent with alpha < 255)."""
    if alpha < 255:
        card = pygame.Surface(rect.size, pygame.SRCALPHA)
        pygame.draw.rect(card, (*bg, alpha), card.get_rect(), border_radius=6)
        surface.blit(card, rect)
    else:
        pygame.draw.rect(surface, bg, rect, border_radius=6)
    pygame.draw.rect(surface, edge, rect, 1, border_radius=6)


# ---------------------------------------------------------------------------------------------
# buttons


@dataclass
class Button:
    """A clickable label. `name` is what a click reports; `toggled` draws it pressed."""

    name: str
    label: str
    rect: pygame.Rect = field(default_factory=lambda: pygame.Rect(0, 0, 0, 0))
    enabled: bool = True
    toggled: bool = False
    tip: str = ""

    def draw(self, surface: pygame.Surface, mouse: tuple[int, int], size: int = 14) -> None:
        hover = self.enabled and self.rect.collidepoint(mouse)
        bg = BUTTON_ON if self.toggled else BUTTON_HOVER if hover else BUTTON
        pygame.draw.rect(surface, bg, self.rect, border_radius=4)
        pygame.draw.rect(surface, PANEL_EDGE if not hover else TEXT, self.rect, 1, border_radius=4)
        colour = TEXT if self.enabled else BUTTON_OFF_TEXT
        label = fit(self.label, size, self.rect.width - 8)
        surf = text_surface(label, size, colour, bold=self.toggled)
        surface.blit(surf, surf.get_rect(center=self.rect.center))

    def hit(self, pos: tuple[int, int]) -> bool:
        return self.enabled and self.rect.collidepoint(pos)


def layout_row(buttons: list[Button], rect: pygame.Rect, gap: int = 6, weights: list[float] | None = None) -> None:
    """Share `rect`'s width among `buttons`, left to right (in proportion to `weights`)."""
    if not buttons:
        return
    weights = weights or [1.0] * len(buttons)
    unit = (rect.width - gap * (len(buttons) - 1)) / sum(weights)
    x = float(rect.x)
    for b, wt in zip(buttons, weights):
        b.rect = pygame.Rect(round(x), rect.y, round(x + unit * wt) - round(x), rect.height)
        x += unit * wt + gap


# ---------------------------------------------------------------------------------------------
# the top bar


def draw_top_bar(surface: pygame.Surface, rect: pygame.Rect, game: Game, players: dict[str, str],
                 right_text: str = "") -> None:
    """Date, turn N of M, the side to move and who plays it, the phase, the prestige track(s).
    On a narrow window the phase, then the tracks and the right-hand note give way."""
    ctx, state = game.ctx, game.state
    pygame.draw.rect(surface, PANEL_BG, rect)
    pygame.draw.line(surface, PANEL_EDGE, rect.bottomleft, (rect.right, rect.bottom - 1))
    y = rect.y + (rect.height - 18) // 2
    x = rect.x + 10
    x = text(surface, nice_date(state.date), (x, y), 17, TEXT, bold=True).right + 14
    x = text(surface, f"Turn {state.turn} of {ctx.turns}", (x, y), 16, DIM).right + 16
    phase = ""
    if game.over:
        x = text(surface, "Game over", (x, y), 16, ACCENT, bold=True).right + 16
    else:
        side = ctx.move_order[state.active]
        colour = side_colour(ctx, side)
        pygame.draw.circle(surface, colour, (x + 7, rect.centery), 7)
        pygame.draw.circle(surface, (0, 0, 0), (x + 7, rect.centery), 7, 1)
        who = players.get(ctx.sides[side], "human")
        who = "you" if who == "human" else f"AI: {who}"
        x = text(surface, f"{side_name(ctx, side)} to move ({who})", (x + 20, y), 16, TEXT, bold=True).right + 12
        phase = f"{state.phase} phase"
    right = rect.right - 10
    if right_text and font(15).size(right_text)[0] < right - x - 20:
        right = text(surface, right_text, (right, y), 15, DIM, align="right").left - 18
    for track in reversed(list(ctx.scenario.tracks)):
        if right - _track_width(track) < x + 10:
            break
        right = _draw_track(surface, track, state.tracks.get(track.id, track.initial), right, rect) - 18
    if phase and x + font(15).size(phase)[0] < right - 10:
        text(surface, phase, (x, y), 15, DIM)


TRACK_BAR = 90


def _track_label(track, value: float) -> str:
    return f"{_short_track_name(track.name)} {value:.0f}/{track.max:g}"


def _track_width(track) -> int:
    return font(14).size(_track_label(track, track.max))[0] + 8 + TRACK_BAR


def _draw_track(surface: pygame.Surface, track, value: float, right: int, rect: pygame.Rect) -> int:
    """A track as 'name value/max' with a small bar; returns its left edge."""
    bar = pygame.Rect(right - TRACK_BAR, rect.centery - 5, TRACK_BAR, 10)
    pygame.draw.rect(surface, (55, 58, 68), bar, border_radius=3)
    span = (track.max - track.min) or 1.0
    filled = bar.copy()
    filled.width = max(0, round(TRACK_BAR * (value - track.min) / span))
    pygame.draw.rect(surface, (200, 70, 60), filled, border_radius=3)
    pygame.draw.rect(surface, PANEL_EDGE, bar, 1, border_radius=3)
    r = text(surface, _track_label(track, value), (bar.left - 8, rect.y + (rect.height - 16) // 2), 14, TEXT,
             align="right")
    return r.left


def _short_track_name(name: str) -> str:
    """'Communist prestige (gain since April 1944)' -> 'Communist prestige' for the bar."""
    return name.split(" (")[0]


# ---------------------------------------------------------------------------------------------
# units


def unit_lines(ctx: Context, state: GameState, u: Unit) -> list[tuple[str, tuple[int, int, int]]]:
    """A unit's details as (line, colour)."""
    utype = ctx.unit_types[u.type]
    out = [(f"{utype.name}" + (f", {u.formation}" if u.formation else ""), DIM),
           (f"{u.strength:,} / {u.max_strength:,} men   quality {u.quality:g}", TEXT),
           ((f"attack {utype.attack:g}  defence {utype.defence:g}  "
            f"move {u.mp:g}/{movement_allowance(ctx, u):g}"), TEXT)]
    status = []
    if not u.supplied:
        status.append((f"out of supply {u.out_of_supply} turn(s)", BAD))
    if u.entrenched:
        status.append((f"entrenched {u.entrenched}", GOOD))
    if u.disrupted:
        status.append(("routed", BAD))
    if u.moved:
        status.append(("moved", DIM))
    if u.attacked:
        status.append(("attacked", DIM))
    if u.puppet:
        status.append(("puppet", DIM))
    if status:
        out.append((", ".join(s for s, _ in status), status[0][1]))
    out += [(f"orders: {text}", ACCENT) for text in binding(ctx, state, u)]
    return out


def draw_units_panel(surface: pygame.Surface, rect: pygame.Rect, game: Game, hex_index: int | None,
                     selected: list[str], message: str = "") -> None:
    """The inspected hex (terrain, holder, regions) and its units: the first (the selected one
    when there is one) in full, the others a line each; at the bottom the status message (why a
    click did nothing, what the last order did)."""
    ctx, state = game.ctx, game.state
    draw_card(surface, rect)
    x, y, w = rect.x + 10, rect.y + 8, rect.width - 20
    msg_lines = wrap(message, 13, w) if message else []
    if len(msg_lines) > 3:
        msg_lines = msg_lines[:2] + [fit(" ".join(msg_lines[2:]), 13, w)]
    bottom = rect.bottom - 6 - (16 * len(msg_lines) + 4 if msg_lines else 0)
    for k, line in enumerate(msg_lines):
        text(surface, line, (x, bottom + 4 + 16 * k), 13, ACCENT)
    clip = surface.get_clip()
    surface.set_clip(pygame.Rect(rect.x, rect.y, rect.width, bottom - rect.y).clip(clip) if clip else None)
    units: list[Unit] = []
    sel_units = [state.units[uid] for uid in selected if uid in state.units]
    if hex_index is not None:
        units = state.units_at(hex_index)
    if sel_units and (hex_index is None or all(u.hex != hex_index for u in sel_units)):
        hex_index = sel_units[0].hex
        units = state.units_at(hex_index)
    if hex_index is None:
        text(surface, "Click a unit to select it", (x, y), 15, DIM)
        text(surface, "N selects the next unit that can move", (x, y + 24), 13, FAINT)
        text(surface, "F1 lists every control", (x, y + 42), 13, FAINT)
        surface.set_clip(clip)
        return
    terrain = ctx.scenario.rules.terrain[int(ctx.terrain[hex_index])].name
    holder = int(state.control[hex_index])
    held = f", held by {side_name(ctx, holder)}" if holder >= 0 else ""
    text(surface, fit(ctx.hex_name(hex_index), 16, w, True), (x, y), 16, TEXT, bold=True)
    y += 20
    text(surface, fit(f"{terrain}{held}  ({ctx.hex_text(hex_index)})", 13, w), (x, y), 13, DIM)
    y += 17
    regions = [ctx.regions[rid].name.split(" (")[0] for rid, active in state.regions_active.items()
               if active and ctx.region_mask[rid][hex_index]]
    if regions:
        text(surface, fit(", ".join(regions), 13, w), (x, y), 13, (220, 150, 110))
        y += 17
    for line in air_base_lines(ctx, state, hex_index):
        text(surface, fit(line, 13, w), (x, y), 13, KIND_COLOURS["air"])
        y += 17
    y += 4
    if not units:
        text(surface, "No units", (x, y), 14, FAINT)
    units = sorted(units, key=lambda u: (u.id not in selected, u.side, u.id))
    for k, u in enumerate(units):
        if y + 18 > bottom:
            break
        pygame.draw.rect(surface, side_colour(ctx, u.side), (x, y + 3, 10, 10))
        if u.id in selected:
            pygame.draw.rect(surface, ACCENT, (x - 2, y + 1, 14, 14), 2)
        if k == 0:  # the first in full
            text(surface, fit(u.name, 15, w - 18, True), (x + 18, y), 15, TEXT, bold=True)
            y += 19
            for line, c in unit_lines(ctx, state, u):
                for part in wrap(line, 13, w - 18):
                    text(surface, part, (x + 18, y), 13, c)
                    y += 16
            y += 5
        else:  # the rest of the stack a line each
            r = text(surface, f"{men(u.strength)}", (rect.right - 10, y), 13, DIM, align="right")
            text(surface, fit(u.name, 14, r.left - x - 26), (x + 18, y), 14, TEXT)
            y += 18
    surface.set_clip(clip)


# ---------------------------------------------------------------------------------------------
# combat preview


def _units_named(state: GameState, ids: list[str], limit: int = 3) -> str:
    names = [state.units[i].name if i in state.units else i for i in ids]
    more = f" +{len(names) - limit}" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def outcome_effect(o) -> str:
    """An outcome's movement part in a few words: 'retreat 2, rout', 'att. back 1', 'holds'."""
    parts = []
    if o.defender_retreat:
        parts.append(f"retreat {o.defender_retreat}")
    if o.rout:
        parts.append("rout")
    if o.attacker_retreat:
        parts.append(f"att. back {o.attacker_retreat}")
    return ", ".join(parts) or "holds"


PREVIEW_WIDTH = 480


def preview_size(assessment: Assessment) -> tuple[int, int]:
    """The preview card's size for an assessment (its rows depend on shifts and outcomes)."""
    return PREVIEW_WIDTH, 234 + 20 * max(1, len(assessment.shifts)) + 22 * len(assessment.outcomes)


def draw_combat_preview(surface: pygame.Surface, rect: pygame.Rect, game: Game, attack: Attack,
                        a: Assessment, confirm: bool, mouse: tuple[int, int]) -> list[Button]:
    """The attack's odds, shifts and outcome distribution; with `confirm` the Attack/Cancel
    buttons (returned, so the screen can hit-test them)."""
    ctx, state = game.ctx, game.state
    draw_card(surface, rect, bg=(32, 30, 34), edge=BAD if confirm else PANEL_EDGE, alpha=242)
    x, y, w = rect.x + 12, rect.y + 10, rect.width - 24
    target = ctx.hm.index(*attack.target)
    title = f"{'Confirm attack' if confirm else 'Attack'} on {ctx.hex_name(target)}"
    text(surface, fit(title, 17, w, True), (x, y), 17, BAD if confirm else TEXT, bold=True)
    y += 26
    for label, strength, ids in (("Attackers", a.attack_strength, a.attackers),
                                 ("Defenders", a.defence_strength, a.defenders)):
        text(surface, f"{label} {strength:.1f}", (x, y), 13, DIM, bold=True)
        text(surface, fit(_units_named(state, ids), 13, w - 110), (x + 110, y), 13, TEXT)
        y += 18
    y += 4
    combat = ctx.rules.combat
    odds = "inf" if a.raw_odds == float("inf") else f"{a.raw_odds:.2f}:1"
    text(surface, f"Raw odds {odds}  ->  column {combat.odds[a.base_column]}", (x, y), 14, TEXT)
    y += 20
    for why, n in a.shifts:
        colour = GOOD if n > 0 else BAD
        text(surface, f"{n:+d}", (x + 14, y), 14, colour, bold=True)
        text(surface, why, (x + 46, y), 14, DIM)
        y += 20
    if not a.shifts:
        text(surface, "no column shifts", (x + 14, y), 14, FAINT)
        y += 20
    text(surface, f"Final column {a.column_label}", (x, y + 2), 16, ACCENT, bold=True)
    y += 28
    # the outcome table: result, probability bar, losses, effect
    cols = (x, x + 160, x + 244, x + 308, x + 372)
    for label, cx in zip(("result", "chance", "att. loss", "def. loss", "effect"), cols):
        text(surface, label, (cx, y), 12, FAINT)
    y += 16
    for o in sorted(a.outcomes, key=lambda o: -o.probability):
        text(surface, fit(o.description, 13, 140), (cols[0], y + 2), 13, TEXT)
        bar = pygame.Rect(cols[1], y + 3, 70, 14)
        pygame.draw.rect(surface, (55, 58, 68), bar)
        filled = bar.copy()
        filled.width = max(1, round(bar.width * o.probability))
        pygame.draw.rect(surface, BAR, filled)
        text(surface, f"{o.probability:.0%}", (bar.right - 3, y + 3), 12, TEXT, align="right")
        text(surface, men(o.attacker_loss), (cols[2] + 50, y + 2), 13, BAD if o.attacker_loss else DIM, align="right")
        text(surface, men(o.defender_loss), (cols[3] + 50, y + 2), 13, GOOD if o.defender_loss else DIM, align="right")
        text(surface, fit(outcome_effect(o), 12, rect.right - cols[4] - 10), (cols[4], y + 3), 12, DIM)
        y += 22
    y += 4
    text(surface, f"Expected losses: attacker {men(a.expected_attacker_loss)}, defender "
                  f"{men(a.expected_defender_loss)}", (x, y), 13, DIM)
    y += 17
    text(surface, f"The defender retreats with {a.retreat_probability:.0%} probability", (x, y), 13, DIM)
    y += 22
    buttons: list[Button] = []
    if confirm:
        buttons = [Button("confirm_attack", "Attack (Enter)"), Button("cancel_attack", "Cancel (Esc)")]
        layout_row(buttons, pygame.Rect(x, rect.bottom - 40, w, 30), gap=12)
        for b in buttons:
            b.draw(surface, mouse, 15)
    else:
        text(surface, "Click to attack", (x, rect.bottom - 30), 14, FAINT)
    return buttons


# ---------------------------------------------------------------------------------------------
# losses and the event log


def draw_losses(surface: pygame.Surface, rect: pygame.Rect, game: Game) -> None:
    """Men lost so far per side, by cause (state.losses)."""
    ctx, state = game.ctx, game.state
    draw_card(surface, rect)
    x, y, w = rect.x + 10, rect.y + 6, rect.width - 20
    text(surface, "Losses so far", (x, y), 14, DIM, bold=True)
    y += 20
    for k, side in enumerate(ctx.sides):
        total = state.total_losses(side)
        pygame.draw.rect(surface, side_colour(ctx, k), (x, y + 3, 10, 10))
        text(surface, side_name(ctx, k), (x + 16, y), 14, TEXT, bold=True)
        text(surface, f"{total:,}", (rect.right - 10, y), 14, TEXT, align="right")
        y += 18
        causes = [f"{cause} {men(n)}" for cause, n in state.losses[side].items() if n]
        line = ", ".join(causes) or "none"
        text(surface, fit(line, 12, w - 16), (x + 16, y), 12, DIM)
        y += 18


class LogPanel:
    """The event log, newest first, with each event's history source; scrolls with the wheel."""

    def __init__(self) -> None:
        self.scroll = 0  # pixels scrolled down from the newest entry
        self.rect = pygame.Rect(0, 0, 0, 0)
        self._layout_key: tuple | None = None
        self._rows: list[tuple[str, int, tuple[int, int, int], bool]] = []  # text, size, colour, bold
        self._height = 0

    def wheel(self, steps: int) -> None:
        self.scroll = max(0, min(max(0, self._height - self.rect.height + 30), self.scroll - steps * 40))

    def _layout(self, ctx: Context, log: list[LogEntry], width: int) -> None:
        key = (id(log), len(log), log[-1].text if log else "", width)
        if key == self._layout_key:
            return
        self._layout_key = key
        rows = []
        turn = None
        for e in reversed(log):
            if e.turn != turn:
                turn = e.turn
                rows.append((f"Turn {e.turn}, {nice_date(e.date)}", 13, DIM, True))
            colour = KIND_COLOURS.get(e.kind, TEXT)
            first = True
            for line in wrap(f"{e.kind}: {e.text}", 13, width - 8):
                rows.append((line, 13, colour if first else TEXT, False))
                first = False
            if e.source:
                for line in wrap(f"source: {e.source}", 12, width - 20):
                    rows.append(("   " + line, 12, FAINT, False))
        self._rows = rows
        self._height = sum(17 if size == 13 else 15 for _, size, _, _ in rows)

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, game: Game) -> None:
        self.rect = rect
        draw_card(surface, rect)
        x, w = rect.x + 8, rect.width - 16
        text(surface, "Event log", (x + 2, rect.y + 6), 14, DIM, bold=True)
        if self.scroll:
            text(surface, "newest ^ (scroll)", (rect.right - 10, rect.y + 7), 12, FAINT, align="right")
        self._layout(game.ctx, game.state.log, w)
        self.scroll = max(0, min(self.scroll, max(0, self._height - rect.height + 30)))
        clip = surface.get_clip()
        inner = pygame.Rect(rect.x + 2, rect.y + 26, rect.width - 4, rect.height - 30)
        surface.set_clip(inner.clip(clip) if clip else inner)
        y = inner.y - self.scroll
        for line, size, colour, bold in self._rows:
            h = 17 if size == 13 else 15
            if y + h >= inner.y and y <= inner.bottom:
                text(surface, line, (x, y), size, colour, bold=bold)
            y += h
            if y > inner.bottom:
                break
        surface.set_clip(clip)
        if self._height > inner.height:  # a scroll bar
            frac = inner.height / self._height
            bar_h = max(20, round(inner.height * frac))
            top = inner.y + round((inner.height - bar_h) * self.scroll / max(1, self._height - inner.height))
            pygame.draw.rect(surface, PANEL_EDGE, (rect.right - 6, top, 3, bar_h), border_radius=2)


# ---------------------------------------------------------------------------------------------
# the turn summary and the hotseat curtain


@dataclass
class Mark:
    """Where a side's view of the game was when it last ended its phase: the summary of its next
    phase tells what happened since."""

    log_len: int
    losses: dict[str, dict[str, int]]  # side id -> cause -> men, as state.losses
    turn: int


def mark(game: Game) -> Mark:
    s = game.state
    return Mark(len(s.log), {side: dict(c) for side, c in s.losses.items()}, s.turn)


Section = tuple[str, list[tuple[str, tuple[int, int, int]]]]


def turn_summary(game: Game, since: Mark | None, side: int) -> list[Section]:
    """What happened since `since` (the side's last phase; None: since this turn began), as
    sections of (heading, [(line, colour)]): places taken, combats, units lost, the men lost by
    each side and cause, the events with their history sources, arrivals, and the side's units
    out of supply now."""
    ctx, state = game.ctx, game.state
    if since is None:
        entries = [e for e in state.log if e.turn == state.turn]
        before = {s: {} for s in ctx.sides} if state.turn == 1 else None
    else:
        entries = state.log[since.log_len:]
        before = since.losses
    sections: list[Section] = []
    events = [(e.text + (f"  [{e.source}]" if e.source else ""), KIND_COLOURS["event"])
              for e in entries if e.kind in ("event", "message", "corridor", "air")]
    captures = [(e.text, ACCENT) for e in entries if e.kind == "capture"]
    arrivals = [(e.text, GOOD) for e in entries if e.kind in ("reinforcement", "withdrawal")]
    combats = [e for e in entries if e.kind == "combat"]
    destroyed = [(e.text, BAD) for e in entries if e.kind == "unit" or e.kind in ctx.region_kinds]
    if captures:
        sections.append(("Places changing hands", captures))
    if combats:
        lines = [(e.text, TEXT) for e in combats[-6:]]
        if len(combats) > 6:
            lines.insert(0, (f"{len(combats)} attacks; the last six:", DIM))
        sections.append(("Combat", lines))
    if destroyed:
        sections.append(("Units lost", destroyed))
    if before is not None:
        lines = []
        for k, sid in enumerate(ctx.sides):
            causes = {c: n - before.get(sid, {}).get(c, 0) for c, n in state.losses[sid].items()}
            lost = sum(causes.values())
            detail = ", ".join(f"{c} {n:,}" for c, n in causes.items() if n)
            lines.append((f"{side_name(ctx, k)}: {lost:,} men lost ({detail})" if lost
                          else f"{side_name(ctx, k)}: no losses", TEXT))
        sections.append(("Losses", lines))
    if events:
        sections.append(("Events", events))
    if arrivals:
        sections.append(("Reinforcements and withdrawals", arrivals))
    unsupplied = [u for u in state.side_units(side) if not u.supplied]
    if unsupplied:
        names = ", ".join(u.name for u in unsupplied[:5]) + (f" and {len(unsupplied) - 5} more"
                                                              if len(unsupplied) > 5 else "")
        sections.append(("Supply", [(f"{len(unsupplied)} of your units are out of supply: {names}", BAD)]))
    if not sections:
        sections.append(("Quiet", [("Nothing of note happened.", DIM)]))
    return sections


def draw_turn_summary(surface: pygame.Surface, area: pygame.Rect, game: Game, sections: list[Section], side: int,
                      mouse: tuple[int, int], since_last: bool = True) -> Button:
    """The popup at the start of a human phase; returns its Continue button."""
    ctx, state = game.ctx, game.state
    w = min(640, area.width - 40)
    body_w = w - 32
    rows: list[tuple[str, int, tuple[int, int, int], bool]] = []
    for heading, lines in sections:
        rows.append((heading, 15, ACCENT, True))
        for line, colour in lines:
            for k, part in enumerate(wrap(line, 13, body_w - 12)):
                rows.append((("  " if k else "- ") + part, 13, colour, False))
        rows.append(("", 6, TEXT, False))
    while rows and not rows[-1][0]:
        rows.pop()
    max_h = area.height - 60
    head_h, foot_h = 62, 58
    body_h = sum(_row_h(r) for r in rows) + 16
    h = min(max_h, head_h + body_h + foot_h)
    rect = pygame.Rect(0, 0, w, h)
    rect.center = area.center
    shade = pygame.Surface(area.size, pygame.SRCALPHA)
    shade.fill((0, 0, 0, 120))
    surface.blit(shade, area)
    draw_card(surface, rect, bg=(34, 36, 44))
    x, y = rect.x + 16, rect.y + 12
    pygame.draw.rect(surface, side_colour(ctx, side), (x, y + 4, 14, 14))
    text(surface, f"{side_name(ctx, side)}: turn {state.turn} of {ctx.turns}, "
                  f"{nice_date(state.date)}", (x + 22, y), 18, TEXT, bold=True)
    y += 28
    text(surface, "Since your last phase:" if since_last else "This turn so far:", (x, y), 13, DIM)
    y += 22
    bottom = rect.bottom - foot_h
    for row in rows:
        hgt = _row_h(row)
        if y + hgt > bottom - 16:
            text(surface, "… (the rest is in the event log)", (x, y), 12, DIM)
            break
        line, size, c, bold = row
        if line:
            text(surface, line, (x, y), size, c, bold=bold)
        y += hgt
    button = Button("close_summary", "Continue (Enter)")
    button.rect = pygame.Rect(0, 0, 180, 32)
    button.rect.midbottom = (rect.centerx, rect.bottom - 12)
    button.draw(surface, mouse, 15)
    return button


def _row_h(row) -> int:
    size = row[1]
    return 22 if size == 15 else 17 if size == 13 else size


def draw_curtain(surface: pygame.Surface, area: pygame.Rect, game: Game, side: int, mouse) -> Button:
    """Hotseat: the map hidden until the next player takes the mouse."""
    ctx = game.ctx
    pygame.draw.rect(surface, (18, 19, 24), area)
    colour = side_colour(ctx, side)
    pygame.draw.rect(surface, colour, (area.centerx - 160, area.centery - 70, 320, 6))
    text(surface, f"Pass the mouse to {side_name(ctx, side)}", (area.centerx, area.centery - 50), 28, TEXT,
         bold=True, align="center")
    text(surface, f"Turn {game.state.turn}, {nice_date(game.state.date)}", (area.centerx, area.centery - 10),
         16, DIM, align="center")
    button = Button("lift_curtain", f"I play {side_name(ctx, side)}: show the map")
    button.rect = pygame.Rect(0, 0, 320, 36)
    button.rect.center = (area.centerx, area.centery + 40)
    button.draw(surface, mouse, 16)
    return button


def draw_banner(surface: pygame.Surface, area: pygame.Rect, lines: list[str], max_width: int = 640) -> None:
    """A translucent note at the top of the map (the computer is playing, its speed, what it
    does): the first line bold, the others wrapped to two lines at most."""
    if not lines:
        return
    width = min(max_width, area.width - 40)
    rows = [(fit(lines[0], 15, width, True), True)]
    for line in lines[1:]:
        parts = wrap(line, 14, width)
        if len(parts) > 2:
            parts = [parts[0], fit(" ".join(parts[1:]), 14, width)]
        rows += [(p, False) for p in parts]
    w = max(font(15 if bold else 14, bold).size(s)[0] for s, bold in rows) + 28
    h = 12 + 19 * len(rows)
    rect = pygame.Rect(0, 0, w, h)
    rect.midtop = (area.centerx, area.y + 10)
    draw_card(surface, rect, bg=(20, 22, 28), alpha=215)
    y = rect.y + 6
    for s, bold in rows:
        text(surface, s, (rect.centerx, y), 15 if bold else 14, TEXT if bold else DIM, bold=bold, align="center")
        y += 19


def draw_tooltip(surface: pygame.Surface, pos: tuple[int, int], lines: list[str], bounds: pygame.Rect) -> None:
    """The map's hover tooltip: lines in a box beside the cursor, kept inside `bounds`."""
    if not lines:
        return
    lines = [fit(s, 13, 460) for s in lines[:14]]
    w = max(font(13).size(s)[0] for s in lines) + 16
    h = 8 + 17 * len(lines)
    rect = pygame.Rect(pos[0] + 18, pos[1] + 18, w, h)
    if rect.right > bounds.right:
        rect.right = pos[0] - 10
    if rect.bottom > bounds.bottom:
        rect.bottom = pos[1] - 10
    rect.clamp_ip(bounds)
    draw_card(surface, rect, bg=(20, 21, 26), alpha=235)
    y = rect.y + 4
    for k, s in enumerate(lines):
        text(surface, s, (rect.x + 8, y), 13, TEXT if k == 0 else DIM, bold=k == 0)
        y += 17
