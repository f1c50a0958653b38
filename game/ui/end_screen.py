"""The end of the game: the verdict, the score with its items, and charts of the campaign from the
session's per-turn history (losses over time, ground held, the corridor's progress, the tracks
such as prestige).

The charts are drawn with matplotlib's Agg backend (no display of its own, no pyplot state) into an
RGBA buffer that becomes a pygame surface; they are drawn once per window size.
"""

from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")  # never a display of matplotlib's own: the figure goes into a pygame surface
import matplotlib.dates as mdates  # noqa: E402
import pygame  # noqa: E402
import pygame_gui  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402
from pygame_gui.core import ObjectID, UIContainer  # noqa: E402
from pygame_gui.elements import UIButton, UITextBox  # noqa: E402

from ..rules.engine import score  # noqa: E402
from . import dialogs  # noqa: E402
from .app import App, Screen  # noqa: E402
from .menu import DIM, GOLD, TEXT, ui_font  # noqa: E402
from .session import HUMAN, Session, TurnRecord  # noqa: E402

CHART_BG = "#1c2029"
AXES_BG = "#232833"
GRID = "#39404f"
INK = "#d8d8de"
INK_DIM = "#a0a4b0"
FALLBACK_COLOURS = ("#c8a028", "#3468b0", "#3a9a50", "#9a4ab0")
TRACK_COLOURS = ("#d04040", "#40a0a0", "#a0a040", "#a060d0")


def verdict_text(session: Session) -> str:
    """'A decisive victory for Japan', 'A draw', ... from the game's result."""
    result = session.game.state.result or {}
    verdict, winner = result.get("verdict"), result.get("winner")
    if verdict is None:
        return "The game is not over"
    if verdict == "draw" or winner is None:
        return "A draw"
    return f"A {verdict} victory for {side_name(session, winner)}"


def side_name(session: Session, side: str) -> str:
    sides = session.ctx.scenario.meta.sides
    return sides[session.ctx.side_index[side]].name if side in session.ctx.side_index else side


def side_colour(session: Session, side: str) -> str:
    k = session.ctx.side_index.get(side, 0)
    colour = getattr(session.ctx.scenario.meta.sides[k], "colour", None)
    return colour or FALLBACK_COLOURS[k % len(FALLBACK_COLOURS)]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def records(session: Session) -> list[TurnRecord]:
    """The start and every finished turn, in order."""
    return [session.start, *session.history]


def render_charts(session: Session, size: tuple[int, int]) -> pygame.Surface:
    """The four charts of the campaign, as one surface of `size` pixels."""
    w, h = max(size[0], 200), max(size[1], 160)
    dpi = 100
    fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, facecolor=CHART_BG)
    canvas = FigureCanvasAgg(fig)
    recs = records(session)
    ctx = session.ctx
    dates = [dt.date.fromisoformat(r.date) for r in recs]
    axes = fig.subplots(2, 2)
    title_size = 11 if w >= 700 else 9
    for ax in axes.flat:
        _style(ax)

    # losses over time, per side (thousands of men)
    ax = axes[0][0]
    for side in ctx.sides:
        ax.plot(dates, [r.losses[side] / 1000 for r in recs], color=side_colour(session, side), lw=2.2,
                label=side_name(session, side))
    ax.set_title("Men lost (thousands)", color=INK, fontsize=title_size, loc="left")
    _legend(ax)

    # ground held, per side (hexes)
    ax = axes[0][1]
    for side in ctx.sides:
        ax.plot(dates, [r.held[side] for r in recs], color=side_colour(session, side), lw=2.2,
                label=side_name(session, side))
    ax.set_title("Ground held (hexes)", color=INK, fontsize=title_size, loc="left")
    _legend(ax)

    # the corridor: places along it held by the corridor side, and when it opened
    ax = axes[1][0]
    corridor = ctx.corridor
    if corridor is not None and recs[-1].corridor_total:
        colour = side_colour(session, corridor.side)
        total = recs[-1].corridor_total
        held = [r.corridor_held for r in recs]
        ax.step(dates, held, where="post", color=colour, lw=2.2)
        ax.fill_between(dates, held, step="post", color=colour, alpha=0.25)
        ax.axhline(total, color=INK_DIM, lw=1, ls="--")
        ax.set_ylim(0, total + 0.6)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        opened = session.game.state.corridor_opened
        if opened:
            when = dt.date.fromisoformat(opened)
            ax.axvline(when, color="#e05a4a", lw=1.6)
            ax.annotate(f"open {when.strftime('%d %b').lstrip('0')}", (when, total + 0.3), color="#ff8a7a",
                        fontsize=9, ha="right", va="center", xytext=(-4, 0), textcoords="offset points")
        who = f" by {side_name(session, corridor.side)}" if w >= 700 else ""
        ax.set_title(f"Corridor places held{who} (of {total})",
                     color=INK, fontsize=title_size, loc="left")
    else:
        ax.text(0.5, 0.5, "This scenario has no corridor", color=INK_DIM, ha="center", va="center",
                transform=ax.transAxes)
        ax.set_title("The corridor", color=INK, fontsize=title_size, loc="left")

    # the tracks (prestige and the like)
    ax = axes[1][1]
    if ctx.tracks:
        for k, (tid, track) in enumerate(ctx.tracks.items()):
            ax.plot(dates, [r.tracks.get(tid, 0.0) for r in recs], color=TRACK_COLOURS[k % len(TRACK_COLOURS)],
                    lw=2.2, label=track.name)
        if len(ctx.tracks) > 1:
            _legend(ax)
            ax.set_title("Tracks", color=INK, fontsize=title_size, loc="left")
        else:
            ax.set_title(next(iter(ctx.tracks.values())).name, color=INK, fontsize=title_size, loc="left")
    else:
        ax.text(0.5, 0.5, "This scenario has no tracks", color=INK_DIM, ha="center", va="center",
                transform=ax.transAxes)
        ax.set_title("Tracks", color=INK, fontsize=title_size, loc="left")

    for ax in axes.flat:
        _date_axis(ax, dates)
    fig.tight_layout(pad=1.2, h_pad=1.6, w_pad=1.6)
    canvas.draw()
    buffer = canvas.buffer_rgba()
    surface = pygame.image.frombuffer(bytes(buffer), canvas.get_width_height(), "RGBA").copy()
    fig.clear()
    return surface


def points(x: float) -> str:
    """A score for people: whole numbers as they are, others to one decimal."""
    return f"{x:g}" if float(x).is_integer() else f"{x:.1f}"


def _style(ax) -> None:
    ax.set_facecolor(AXES_BG)
    for spine in ax.spines.values():
        spine.set_color(GRID)
    ax.tick_params(colors=INK_DIM, labelsize=9)
    ax.grid(True, color=GRID, lw=0.6)
    ax.yaxis.set_major_formatter(FuncFormatter(_number))


def _number(v: float, _pos=None) -> str:
    """Axis numbers: thousands separated, decimals only where the values need them."""
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.1f}"


def _legend(ax) -> None:
    legend = ax.legend(fontsize=9, frameon=False, loc="best")
    for text in legend.get_texts():
        text.set_color(INK)


def _date_axis(ax, dates: list[dt.date]) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if len(dates) == 1:
        ax.set_xlim(dates[0] - dt.timedelta(days=7), dates[0] + dt.timedelta(days=7))


class EndScreen(Screen):
    """The verdict, the score and the charts; buttons to the main menu, to save, to quit."""

    def __init__(self, app: App, session: Session):
        super().__init__(app)
        self.session = session
        self.root: UIContainer | None = None
        self.charts: pygame.Surface | None = None
        self.chart_rect = pygame.Rect(0, 0, 0, 0)
        self._build(app.size)

    # -- layout -----------------------------------------------------------------------------------

    def _layout(self, size: tuple[int, int]) -> tuple[pygame.Rect, pygame.Rect]:
        w, h = size
        margin = 28
        top = 132
        left_w = max(300, min(420, w // 3))
        text = pygame.Rect(margin, top, left_w, h - top - margin)
        charts = pygame.Rect(margin + left_w + 20, top - 8, w - 2 * margin - left_w - 20, h - top - margin + 8)
        return text, charts

    def _build(self, size: tuple[int, int]) -> None:
        if self.root is not None:
            self.root.kill()
        ui = self.app.ui
        self.root = UIContainer(pygame.Rect((0, 0), size), ui)
        text, charts = self._layout(size)
        buttons_h = 40
        self.text = UITextBox(self._summary_html(), pygame.Rect(text.x, text.y, text.w, text.h - 2 * buttons_h - 24),
                              ui, container=self.root, object_id=ObjectID("#end_summary", None))
        y = text.bottom - 2 * buttons_h - 12
        self.menu_button = UIButton(pygame.Rect(text.x, y, text.w, buttons_h), "Main menu", ui, container=self.root,
                                    tool_tip_text="Enter", object_id=ObjectID("#end_menu", "@primary"))
        half = (text.w - 12) // 2
        y += buttons_h + 12
        self.save_button = UIButton(pygame.Rect(text.x, y, half, buttons_h), "Save game...", ui, container=self.root,
                                    object_id=ObjectID("#end_save", "@big"))
        self.quit_button = UIButton(pygame.Rect(text.x + half + 12, y, half, buttons_h), "Quit", ui,
                                    container=self.root, tool_tip_text="Esc", object_id=ObjectID("#end_quit", "@big"))
        self.chart_rect = charts
        self.charts = render_charts(self.session, charts.size) if charts.w > 200 and charts.h > 160 else None

    def _summary_html(self) -> str:
        s = self.session
        state = s.game.state
        result = state.result or {}
        ctx = s.ctx
        sc = score(ctx, state)
        score_side = side_name(s, ctx.scenario.victory.score_side)
        lines = [f"<font color='#e0b84a'><b>Score: {points(result.get('score', sc.total))}</b></font>"
                 f" <font color='#a0a4b0'>({dialogs.markup(score_side)}'s points)</font>"]
        for text, value in sc.items:
            lines.append(f"&nbsp;&nbsp;{'+' if value >= 0 else ''}{points(value)}&nbsp;&nbsp;{dialogs.markup(text)}")
        lines.append("")
        lines.append("<b>Losses</b>")
        for side in ctx.sides:
            lines.append(f"&nbsp;&nbsp;{dialogs.markup(side_name(s, side))}: {state.total_losses(side):,} men")
        lines.append("")
        players = "; ".join(f"{dialogs.markup(side_name(s, side))}: "
                            + ("you" if p == HUMAN else f"the computer ({dialogs.markup(p)})")
                            for side, p in s.players.items())
        lines.append(f"<font color='#a0a4b0'>{players}<br>Seed {s.seed} · {state.turn} turns · "
                     f"{len(s.actions):,} actions</font>")
        lines.append("")
        explanation = result.get("explanation") or ""
        lines.append(f"<font color='#c0c4cc'>{dialogs.markup(explanation)}</font>")
        if not s.history:
            lines.append("<br><font color='#ff8a7a'>No turn-by-turn history: the game was resumed from a "
                         "snapshot.</font>")
        return "<br>".join(lines)

    # -- input --------------------------------------------------------------------------------

    def handle_event(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.app.main_menu()
            elif event.key == pygame.K_ESCAPE:
                self.app.quit()
        elif event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.menu_button:
                self.app.main_menu()
            elif event.ui_element is self.quit_button:
                self.app.quit()
            elif event.ui_element is self.save_button:
                dialogs.SavePicker(self.app.ui, self._save, mode="save")

    def _save(self, path) -> None:
        try:
            self.session.save(path)
        except OSError as exc:
            self.app.show_error("Could not save", f"{path}: {exc.strerror or exc}")
            return
        dialogs.show_message(self.app.ui, "Saved", f"The game was saved to {path}.")

    # -- drawing ----------------------------------------------------------------------------------

    def resize(self, size: tuple[int, int]) -> None:
        self._build(size)

    def draw(self, surface: pygame.Surface) -> None:
        w, h = surface.get_size()
        surface.fill((24, 27, 34))
        s = self.session
        result = s.game.state.result or {}
        winner = result.get("winner")
        colour = _rgb(side_colour(s, winner)) if winner else GOLD
        pygame.draw.rect(surface, (30, 34, 43), pygame.Rect(0, 0, w, 112))
        pygame.draw.rect(surface, colour, pygame.Rect(0, 108, w, 4))
        headline = fitted(verdict_text(s), w - 56, (40, 34, 28, 24), colour)
        surface.blit(headline, (28, 14))
        reason = "sudden death" if result.get("reason") == "sudden death" else "the campaign's end"
        last = records(s)[-1].date if s.history else s.game.state.date.isoformat()
        total = result.get("score")
        scored = f"  ·  score {points(total)}" if total is not None else ""
        sub = ui_font(17).render(f"{s.title}  ·  decided by {reason}, {_long_date(last)}{scored}", True, TEXT)
        surface.blit(sub, (30, 14 + headline.get_height() + 4))
        if self.charts is not None:
            surface.blit(self.charts, self.chart_rect.topleft)
        else:
            note = ui_font(15).render("Enlarge the window to see the charts.", True, DIM)
            surface.blit(note, self.chart_rect.topleft)


def fitted(text: str, width: int, sizes: tuple[int, ...], colour) -> pygame.Surface:
    """`text` in bold at the largest of `sizes` that fits `width` pixels (else the smallest)."""
    for size in sizes:
        surface = ui_font(size, bold=True).render(text, True, colour)
        if surface.get_width() <= width:
            return surface
    return surface


def _long_date(iso: str) -> str:
    try:
        return dt.date.fromisoformat(iso).strftime("%d %B %Y").lstrip("0")
    except ValueError:
        return iso
