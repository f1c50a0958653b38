"""The balance report: ``report.json`` (every statistic of :mod:`game.balance.stats`) and a
self-contained ``report.html`` with PNG charts under ``charts/``.

:func:`build_report` turns the records of each variant into the report dict; :func:`write_report`
writes it. The charts are drawn from the report dict alone (the summaries keep compact
distributions for that), so a report.json can be re-rendered without the records.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display; figures are built without pyplot's global state
import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.textpath import TextToPath  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter, NullLocator  # noqa: E402

from ..atomic import write_bytes_atomic, write_text_atomic  # noqa: E402
from .stats import NOT_REACHED, compare, summarize  # noqa: E402

DPI = 100
VERDICT_STRENGTH = {"decisive": 2, "marginal": 1}
SIDE_CMAPS = ("Reds", "Blues", "Greens", "Purples")
MAX_BINS = 40
MAX_DATE_TICKS = 10
RIDGES_FROM = 4                 # this many variants or more: a histogram row per variant
RIDGE_HEIGHT = 0.9              # the tallest bar of all rows, in rows
TITLE_WIDTH = 80                # characters per line of a chart title
SERIES_TITLES = {"front": "Hexes controlled", "supply": "Share of units in supply",
                 "tracks": "Tracks", "losses": "Men lost so far"}


# --------------------------------------------------------------------------------------------
# the report dict

def build_report(records_by_variant: dict[str, list[dict]], history: list[dict], *, base: str,
                 meta: dict, sweep: dict | None = None, sprt: dict | None = None, side: str | None = None) -> dict:
    """The content of report.json: `meta` as given, the side the report follows (`side`, else the
    base variant's first side in the scenario's order), a summary per variant, the paired
    comparison of every other variant with `base`, the sweep (with the followed side's outcome
    per value), the SPRT state as given, and the calibration of the base variant against the
    history marks that carry acceptance criteria (`calibrated`: there are some and all pass)."""
    if base not in records_by_variant:
        raise ValueError(f"the base variant {base!r} has no records")
    variants = {name: summarize(recs, history) for name, recs in records_by_variant.items()}
    sides = variants[base]["sides"]
    if side is None:
        side = sides[0] if sides else None
    elif side not in sides:
        raise ValueError(f"the report side {side!r} is not a side of the games ({', '.join(sides)})")
    comparisons = {name: compare(records_by_variant[base], recs)
                   for name, recs in records_by_variant.items() if name != base}
    calibration = calibration_rows(variants[base])
    return {
        "meta": meta,
        "base": base,
        "side": side,
        "variants": variants,
        "comparisons": comparisons,
        "sweep": sweep_summary(sweep, variants, side) if sweep else None,
        "sprt": sprt,
        "calibration": calibration,
        "calibrated": bool(calibration) and all(row["pass"] is True for row in calibration),
    }


def calibration_rows(summary: dict) -> list[dict]:
    """The marks with acceptance criteria, as table rows: texts for the figure, the history,
    the acceptance range, the games' median (5-95%) and share, and the verdict."""
    rows = []
    for m in summary["marks"]:
        if all(v is None for v in m["accept"].values()):
            continue
        rows.append({"id": m["id"], "name": m["name"], "kind": m["kind"], "history": history_text(m),
                     "acceptance": acceptance_text(m), "games": games_text(m), "share": share_text(m),
                     "pass": m["pass"], "why": m["why"]})
    return rows


def sweep_summary(sweep: dict, variants: dict[str, dict], side: str | None) -> dict:
    """The sweep as given, plus per swept value the win rate of `side` (the side the report
    follows; Wilson interval), the mean score and the share of games where the corridor opened."""
    points = []
    for value, name in zip(sweep["values"], sweep["variants"]):
        s = variants.get(name)
        if s is None:
            continue
        points.append({"value": value, "variant": name, "n": s["n"], "side": side,
                       "win": s["wins"].get(side), "score_mean": s["score"]["mean"],
                       "corridor": s["corridor"]["opened"]})
    return {**sweep, "points": points}


# --------------------------------------------------------------------------------------------
# texts shared by the tables

def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0%}"


def ci_text(ci: Sequence[float] | None) -> str:
    return "–" if not ci else f"{ci[0]:.0%}–{ci[1]:.0%}"


def num(x: float | None, digits: int = 3) -> str:
    """A number for a table: thousands separated when large, `digits` significant otherwise."""
    if x is None:
        return "–"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.{digits}g}"


def history_text(m: dict) -> str:
    """The historical figure of a mark with its band, e.g. "1944-12-10 (1944-12-01 – 1944-12-20)"."""
    h = m["history"]
    point, lo, hi = (h["date"], h["earliest"], h["latest"]) if m["is_date"] else (h["value"], h["low"], h["high"])
    show = str if m["is_date"] else num
    if m["kind"] == "held" and point is None:
        return "never taken"
    text = show(point) if point is not None else ""
    if lo is not None or hi is not None:
        band = f"{show(lo) if lo is not None else '…'} – {show(hi) if hi is not None else '…'}"
        text = f"{text} ({band})" if text else band
    return text or "–"


def acceptance_text(m: dict) -> str:
    """The calibration criterion of a mark in words: the median's range, the least share."""
    a = m["accept"]
    show = str if m["is_date"] else num
    parts = []
    if a["from"] is not None or a["to"] is not None:
        lo = show(a["from"]) if a["from"] is not None else "…"
        hi = show(a["to"]) if a["to"] is not None else "…"
        parts.append(f"median {lo} – {hi}")
    if a["share"] is not None:
        parts.append(f"{'kept' if m['kind'] == 'held' else 'happens'} in ≥ {a['share']:.0%} of games")
    return "; ".join(parts) or "–"


def games_text(m: dict) -> str:
    """The games' median (5–95%) of a mark, over all games (see stats.mark_summary)."""
    q = m.get("quantiles")
    if m["kind"] == "held":
        text = f"taken in {m['n_happened']} of {m['n_games']}"
        qh = m.get("quantiles_happened")
        return f"{text}, median {qh['median']}" if qh else text
    if not q:
        return "no value"
    if q["p05"] == NOT_REACHED:
        return NOT_REACHED
    show = str if m["is_date"] else num
    return f"{show(q['median'])} ({show(q['p05'])} – {show(q['p95'])})"


def share_text(m: dict) -> str:
    """The share of games where the mark happened (held: where the place was kept), with CI."""
    if m["kind"] == "held":
        return f"kept {pct(m['kept']['share'])} ({ci_text(m['kept']['ci'])})"
    return f"{pct(m['share'])} ({ci_text(m['share_ci'])})"


# --------------------------------------------------------------------------------------------
# writing

def write_report(out_dir: Path, report: dict) -> list[Path]:
    """Write report.json, report.html and the charts (charts/*.png) under `out_dir`, each file
    atomically; the written paths, report.json and report.html first."""
    out_dir = Path(out_dir)
    charts_dir = out_dir / "charts"
    charts_dir.mkdir(parents=True, exist_ok=True)
    data = json_safe(report)
    assert isinstance(data, dict)  # a dict stays a dict
    charts = draw_charts(data)
    written = []
    for chart in charts:
        path = charts_dir / chart.file
        write_bytes_atomic(path, png_bytes(chart.figure))
        written.append(path)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    write_text_atomic(json_path, json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False) + "\n")
    write_text_atomic(html_path, render_html(data, charts))
    return [json_path, html_path, *written]


def json_safe(obj: object) -> object:
    """`obj` with numpy scalars and arrays as Python values, tuples as lists, dates as ISO
    strings, paths as strings and NaN/infinity as None: what json.dumps(allow_nan=False) takes."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, np.ndarray)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return json_safe(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes (written atomically by the caller)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# charts

@dataclass
class Chart:
    """One PNG: the report section it belongs to, its file name under charts/, its title."""
    section: str
    file: str
    title: str
    figure: Figure


def draw_charts(report: dict) -> list[Chart]:
    """Every chart of the report, in the order the HTML shows them."""
    variants = report["variants"]
    charts = [Chart("outcomes", "wins.png", "Wins per side", chart_wins(variants)),
              Chart("outcomes", "verdicts.png", "Verdict mix", chart_verdicts(variants)),
              Chart("outcomes", "score.png", "Score", chart_score(variants)),
              Chart("corridor", "corridor.png", "Corridor opening date", chart_corridor(variants))]
    base = variants[report["base"]]
    for m in base["marks"]:
        charts.append(Chart("marks", f"mark_{slug(m['id'])}.png", m["name"], chart_mark(variants, m["id"])))
    charts.append(Chart("losses", "losses.png", "Losses by side and cause", chart_losses(variants)))
    for group, title in SERIES_TITLES.items():
        if any(v["per_turn"].get(group) for v in variants.values()):
            charts.append(Chart("per_turn", f"turns_{group}.png", title, chart_series(variants, group)))
    if report.get("sweep") and report["sweep"]["points"]:
        charts.append(Chart("sweep", "sweep.png", "Sweep", chart_sweep(report["sweep"])))
    return charts


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text)


def new_axes(width: float = 8, height: float = 4.5, ncols: int = 1, nrows: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, list(axes.flat)


def legend(ax: Axes, **kwargs) -> None:
    """A legend when something is labelled (matplotlib warns otherwise)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)


def legend_below(fig: Figure, ax: Axes) -> None:
    """The legend of `ax` under the plot, where it cannot hide bars or lines."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=legend_columns(fig, labels),
                   fontsize="small", frameon=False)


def legend_columns(fig: Figure, labels: Sequence[str], most: int = 3) -> int:
    """As many legend columns (up to `most`) as fit the figure's width with its longest label."""
    props = FontProperties(size="small")
    widest = max(_TEXT_PATH.get_text_width_height_descent(label, props, ismath=False)[0] for label in labels)
    per_column = widest / 72 + 0.7  # inches: the text, its handle and the gaps
    return max(1, min(most, len(labels), int(fig.get_figwidth() // per_column)))


_TEXT_PATH = TextToPath()


def colour(i: int) -> str:
    return f"C{i % 10}"


def chart_wins(variants: dict[str, dict]) -> Figure:
    """Grouped bars: the share of games each side won (and drawn) per variant, Wilson bars."""
    fig, (ax,) = new_axes()
    sides = list(dict.fromkeys(s for v in variants.values() for s in v["sides"]))
    cats = sides + ["draw"]
    width = 0.8 / len(variants)
    for i, (name, s) in enumerate(variants.items()):
        props = [s["wins"].get(side) or {"share": 0, "ci": [0, 0]} for side in sides] + [s["draws"]]
        shares = np.array([p["share"] or 0 for p in props])
        err = np.array([[sh - p["ci"][0], p["ci"][1] - sh] for sh, p in zip(shares, props)]).T
        x = np.arange(len(cats)) + (i - (len(variants) - 1) / 2) * width
        ax.bar(x, shares, width, yerr=err, capsize=4, color=colour(i), label=f"{name} (n={s['n']})")
    ax.set_xticks(range(len(cats)), cats)
    ax.set_ylim(0, 1.08)
    percent_axis(ax, "y")
    ax.set_ylabel("share of games")
    ax.set_title("Wins per side (bars: 95% Wilson interval)")
    legend_below(fig, ax)
    return fig


def verdict_order(cat: tuple[str | None, str | None], sides: Sequence[str]) -> tuple:
    """Sort key of a (winner, verdict): the first side's wins strongest first, then draws,
    then the other sides' wins strongest last, so the stacked bars read like a scale."""
    winner, verdict = cat
    strength = VERDICT_STRENGTH.get(verdict or "", 0)
    if winner is None:
        return (1, 0, 0, verdict or "")
    i = sides.index(winner) if winner in sides else len(sides)
    return (0, 0, -strength, verdict or "") if i == 0 else (2, i, strength, verdict or "")


def verdict_label(winner: str | None, verdict: str | None) -> str:
    return "draw" if winner is None else f"{winner} {verdict or 'win'}"


def verdict_colour(cat: tuple[str | None, str | None], sides: Sequence[str]) -> tuple:
    """Draws grey; each side its own hue (the first red, the second blue), darker when stronger."""
    winner, verdict = cat
    if winner is None:
        return (0.75, 0.75, 0.75, 1.0)
    i = sides.index(winner) if winner in sides else len(sides)
    cmap = matplotlib.colormaps[SIDE_CMAPS[i % len(SIDE_CMAPS)]]
    return cmap(0.4 + 0.25 * VERDICT_STRENGTH.get(verdict or "", 0))


def text_colour(background: tuple) -> str:
    """Black on light colours, white on dark ones (relative luminance)."""
    r, g, b = background[:3]
    return "black" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "white"


def chart_verdicts(variants: dict[str, dict]) -> Figure:
    """Horizontal stacked bars, one per variant: the share of each (winner, verdict)."""
    fig, (ax,) = new_axes(height=1.2 + 0.7 * len(variants))
    sides = list(dict.fromkeys(s for v in variants.values() for s in v["sides"]))
    cats = sorted({(r["winner"], r["verdict"]) for v in variants.values() for r in v["verdicts"]},
                  key=lambda c: verdict_order(c, sides))
    names = list(variants)
    left = np.zeros(len(names))
    for cat in cats:
        shares = np.array([next((r["share"] for r in variants[n]["verdicts"]
                                 if (r["winner"], r["verdict"]) == cat), 0.0) for n in names])
        bars = ax.barh(names, shares, left=left, color=verdict_colour(cat, sides),
                       edgecolor="white", label=verdict_label(*cat))
        ax.bar_label(bars, labels=[f"{s:.0%}" if s >= 0.07 else "" for s in shares], label_type="center",
                     fontsize="small", color=text_colour(verdict_colour(cat, sides)))
        left += shares
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    percent_axis(ax, "x")
    ax.set_xlabel("share of games")
    ax.set_title("Verdict mix")
    fig.legend(loc="outside lower center", ncols=min(5, len(cats)), fontsize="small", frameon=False)
    return fig


def hist_bins(values: Sequence[float]) -> tuple[np.ndarray, bool]:
    """(bin edges, discrete): one bin centred on each step of the data when it lies on a
    lattice (dates a turn apart, whole scores), else numpy's automatic edges; never over
    MAX_BINS."""
    distinct = np.unique(np.asarray(values, dtype=float))
    if len(distinct) == 1:
        return distinct[0] + np.array([-0.5, 0.5]), True
    step = float(np.min(np.diff(distinct)))
    steps = (distinct - distinct[0]) / step
    if steps[-1] <= MAX_BINS and np.allclose(steps, np.round(steps), atol=1e-6):
        return np.arange(distinct[0] - step / 2, distinct[-1] + step, step), True
    return np.histogram_bin_edges(distinct, bins=min(MAX_BINS, max(10, len(distinct) // 3))), False


def draw_hist(ax: Axes, series: list[tuple[str, list[float], list[float]]],
              empty: str = "it happened in no game") -> list[float] | None:
    """A histogram per variant, one colour each; series: (name, values, weights). Up to three
    variants side by side; from RIDGES_FROM on, a row per variant on the same bins and scale
    (side-by-side bars of many variants cannot be read). A variant without values stays in the
    legend. Returns the bin centres worth a tick each (a few discrete bins), else None."""
    shown = [(i, name, x, w) for i, (name, x, w) in enumerate(series) if x]
    bins: np.ndarray | None = None
    discrete = False
    if shown:
        bins, discrete = hist_bins([v for _, _, x, _ in shown for v in x])
    if bins is not None and ridges(series):
        draw_ridges(ax, series, bins)
    else:
        percent_axis(ax, "y")
        ax.set_ylabel("share of games")
        if bins is not None:
            ax.hist([x for _, _, x, _ in shown], bins=list(bins), weights=[w for _, _, _, w in shown],
                    color=[colour(i) for i, *_ in shown], label=[name for _, name, _, _ in shown], zorder=2)
        else:
            ax.text(0.5, 0.6, empty, transform=ax.transAxes, ha="center", va="center", color="grey",
                    fontsize="large", zorder=4, bbox={"facecolor": "white", "edgecolor": "none"})
    for i, (name, x, _) in enumerate(series):
        if not x:
            ax.plot([], [], color=colour(i), linewidth=6, label=name)
    if not discrete or bins is None:
        return None
    centres = (bins[:-1] + bins[1:]) / 2
    return list(centres) if len(centres) <= MAX_DATE_TICKS else None


def ridges(series: Sequence[tuple[str, list[float], list[float]]]) -> bool:
    """Whether draw_hist gives these series a row each."""
    return sum(1 for _, x, _ in series if x) >= RIDGES_FROM


def draw_ridges(ax: Axes, series: list[tuple[str, list[float], list[float]]], bins: np.ndarray) -> None:
    """A row per variant, the first at the top, each a filled histogram on the same bins; one
    scale for all, so the rows compare (the tallest bar is RIDGE_HEIGHT of a row). A variant
    without values is a bare baseline."""
    n = len(series)
    counts = [np.histogram(x, bins=bins, weights=w)[0] if x else None for _, x, w in series]
    top = max(float(c.max()) for c in counts if c is not None) or 1.0
    for i, (name, _, _) in enumerate(series):
        base = n - 1 - i
        ax.axhline(base, color=colour(i), linewidth=0.8, zorder=2)
        count = counts[i]
        if count is not None:
            ax.stairs(base + count * (RIDGE_HEIGHT / top), bins, baseline=base, fill=True,
                      color=colour(i), alpha=0.8, label=name, zorder=2)
    ax.set_ylim(-0.1, n - 1 + RIDGE_HEIGHT + 0.15)
    ax.set_yticks([n - 1 - i for i in range(n)],
                  [textwrap.shorten(name.split(" (")[0].split(":")[0], 28, placeholder="…") for name, _, _ in series],
                  fontsize="small")
    ax.set_ylabel(f"share of games (tallest bar {pct(top)})", fontsize="small")


def ridge_span(series: Sequence, i: int) -> tuple[float, float]:
    """(ymin, ymax) as fractions of the axes for marks on series i's row (the whole height when
    the series are not drawn as rows)."""
    if not ridges(series):
        return 0.0, 1.0
    n = len(series)
    lo, hi = -0.1, n - 1 + RIDGE_HEIGHT + 0.15
    base = n - 1 - i
    return (base - lo) / (hi - lo), (base + RIDGE_HEIGHT - lo) / (hi - lo)


def mpl_date(iso: str) -> float:
    return float(mdates.date2num(dt.datetime.fromisoformat(str(iso))))


def date_axis(ax: Axes, ticks: Sequence[float] | None = None) -> None:
    """Readable dates on the x axis: a tick at each of a few given dates (the turns a histogram
    counts), else matplotlib's concise automatic dates."""
    if ticks:
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%Y"))
        return
    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def percent_axis(ax: Axes, axis: str = "y") -> None:
    """Shares shown as percentages at round steps (2%, 5%, 10%...; 2.5% only when it must)."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{round(v * 100, 6):g}%"))


def thousands_axis(ax: Axes, axis: str = "x") -> None:
    fmt = FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def chart_score(variants: dict[str, dict]) -> Figure:
    """Histogram of the final score per variant."""
    fig, (ax,) = new_axes()
    draw_hist(ax, [(f"{name} (mean {num(s['score']['mean'])})", [v for v, _ in s["score_distribution"]],
                    [c / s["n"] for _, c in s["score_distribution"]]) for name, s in variants.items()])
    ax.set_xlabel("score")
    ax.set_title("Final score")
    legend_below(fig, ax)
    return fig


def date_series(name: str, n: int, dist: list[list]) -> tuple[str, list[float], list[float]]:
    return name, [mpl_date(d) for d, _ in dist], [c / n for _, c in dist]


def chart_corridor(variants: dict[str, dict]) -> Figure:
    """Histogram of the corridor's opening date, with the historical date and band of the
    scenario's corridor mark when it has one."""
    fig, (ax,) = new_axes()
    series = [date_series(f"{name}: opened in {pct(s['corridor']['opened']['share'])}", s["n"],
                          s["corridor"]["distribution"]) for name, s in variants.items()]
    ticks = draw_hist(ax, series)
    first = next(iter(variants.values()))
    mark = next((m for m in first["marks"] if m["kind"] == "corridor"), None)
    if mark:
        history_overlay(ax, mark)
    date_axis(ax, ticks)
    if not any(x for _, x, _ in series):
        frame_empty(ax, mark)
    ax.set_title("Corridor opening date (games where it opened)")
    legend_below(fig, ax)
    return fig


def chart_mark(variants: dict[str, dict], mark_id: str) -> Figure:
    """One history benchmark: histogram of the games' values per variant, the historical
    figure and band, the acceptance range and each variant's median over all games."""
    fig, (ax,) = new_axes()
    marks = {name: next(m for m in s["marks"] if m["id"] == mark_id) for name, s in variants.items()}
    first = next(iter(marks.values()))
    if first["is_date"]:
        series = [date_series(f"{name} ({mark_note(m)})", m["n_games"], m["distribution"]) for name, m in marks.items()]
    else:
        series = [(f"{name} ({mark_note(m)})", [v for v, _ in m["distribution"]],
                   [c / m["n_games"] for _, c in m["distribution"]]) for name, m in marks.items()]
    ticks = draw_hist(ax, series, "taken in no game" if first["kind"] == "held" else "it happened in no game")
    history_overlay(ax, first)
    medians = 0
    for i, m in enumerate(marks.values()):
        median = (m.get("quantiles") or {}).get("median")
        if median is not None and median != NOT_REACHED:
            ymin, ymax = ridge_span(series, i)
            ax.axvline(mpl_date(median) if m["is_date"] else median, ymin=ymin, ymax=ymax, color=colour(i),
                       linestyle=":", linewidth=2, zorder=3)
            medians += 1
    if first["is_date"]:
        date_axis(ax, ticks)
    else:
        thousands_axis(ax)
        ax.set_xlabel("men" if first["kind"] == "losses" else "value")
    if not any(x for _, x, _ in series):
        frame_empty(ax, first)
    what = "date lost" if first["kind"] == "held" else ("date" if first["is_date"] else first["kind"])
    note = "\n(dotted: median over all games)" if medians else ""
    ax.set_title(textwrap.fill(f"{first['name']} — {what}", TITLE_WIDTH) + note, fontsize="medium")
    legend_below(fig, ax)
    return fig


def hide_x(ax: Axes) -> None:
    """No x ticks (an empty histogram with nothing to place on its axis)."""
    ax.xaxis.set_major_locator(NullLocator())
    ax.xaxis.set_major_formatter(NullFormatter())


def frame_empty(ax: Axes, m: dict | None) -> None:
    """Limits for a histogram with no game in it: shares 0-100%, and a month (numbers: half the
    value) either side of a lone historical figure, which alone would get years of margin."""
    ax.set_ylim(0, 1)
    if m is None:
        hide_x(ax)
        return
    h, a = m["history"], m["accept"]
    point, lo, hi = (h["date"], h["earliest"], h["latest"]) if m["is_date"] else (h["value"], h["low"], h["high"])
    if (lo is not None and hi is not None) or (a["from"] is not None and a["to"] is not None):
        return                                  # a band frames the axis already
    lone = next((x for x in (point, a["from"], a["to"]) if x is not None), None)
    if lone is None:
        hide_x(ax)
        return
    centre = mpl_date(lone) if m["is_date"] else float(lone)
    margin = 30.0 if m["is_date"] else max(abs(centre) / 2, 1.0)
    ax.set_xlim(centre - margin, centre + margin)


def mark_note(m: dict) -> str:
    if m["kind"] == "held":
        return f"kept in {pct(m['kept']['share'])}"
    if m["is_date"]:
        return f"happened in {m['n_happened']}/{m['n_games']}"
    return f"median {num((m.get('quantiles') or {}).get('median'))}"


def history_overlay(ax: Axes, m: dict) -> None:
    """The historical point (dashed black), its band (grey) and the acceptance range (green)."""
    conv = mpl_date if m["is_date"] else float
    h, a = m["history"], m["accept"]
    point, lo, hi = (h["date"], h["earliest"], h["latest"]) if m["is_date"] else (h["value"], h["low"], h["high"])
    if lo is not None and hi is not None:
        ax.axvspan(conv(lo), conv(hi), color="grey", alpha=0.25, zorder=0, label="historical range")
    if a["from"] is not None and a["to"] is not None:
        ax.axvspan(conv(a["from"]), conv(a["to"]), facecolor=(0.2, 0.6, 0.2, 0.1), edgecolor="green",
                   linewidth=1.5, zorder=1, label="acceptance range")
    else:
        for bound in (a["from"], a["to"]):
            if bound is not None:
                ax.axvline(conv(bound), color="green", linewidth=1.5, zorder=1, label="acceptance bound")
    if point is not None:
        ax.axvline(conv(point), color="black", linestyle="--", linewidth=1.5, zorder=3,
                   label=f"history: {history_text(m)}")


def chart_losses(variants: dict[str, dict]) -> Figure:
    """Stacked bars of the mean losses by cause: a panel per side, a bar per variant in it."""
    sides = list(dict.fromkeys(s for v in variants.values() for s in v["sides"]))
    names = list(variants)
    width = min(16.0, max(7.0, 2.0 + 0.9 * len(sides) * len(names)))
    fig, axes = new_axes(width=width, height=5.0, ncols=len(sides))
    ledgers = {(side, n): (variants[n]["losses"].get(side) or {}).get("by_cause", {}) for side in sides for n in names}
    causes = [c for c in dict.fromkeys(c for by in ledgers.values() for c in by)
              if any((by.get(c) or {}).get("mean") for by in ledgers.values())]
    for ax, side in zip(axes, sides):
        bottom = np.zeros(len(names))
        for j, cause in enumerate(causes):
            means = np.array([(ledgers[side, n].get(cause) or {}).get("mean") or 0.0 for n in names])
            ax.bar(range(len(names)), means, bottom=bottom, color=colour(j), label=cause, width=0.7)
            bottom += means
        long = len(names) > 2 or any(len(n) > 12 for n in names)
        ax.set_xticks(range(len(names)), names, rotation=30 if long else 0, ha="right" if long else "center",
                      fontsize="small")
        ax.set_title(side)
        thousands_axis(ax, "y")
    axes[0].set_ylabel("men (mean per game)")
    fig.suptitle("Losses by side and cause (mean per game)")
    legend(axes[-1], fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def chart_series(variants: dict[str, dict], group: str) -> Figure:
    """One panel per side (or track): the mean per turn of each variant with its 10-90% band."""
    keys = list(dict.fromkeys(k for v in variants.values() for k in v["per_turn"].get(group, {})))
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = new_axes(width=4.2 * ncols + 0.8, height=3.2 * nrows + 0.6, ncols=ncols, nrows=nrows)
    for ax, key in zip(axes, keys):
        for i, (name, s) in enumerate(variants.items()):
            band = s["per_turn"].get(group, {}).get(key)
            if not band:
                continue
            x = [mpl_date(d) for d in s["per_turn"]["dates"]]
            ax.plot(x, band["mean"], color=colour(i), label=name)
            ax.fill_between(x, band["p10"], band["p90"], color=colour(i), alpha=0.2)
        ax.set_title(key.replace("_", " "), fontsize="medium")
        date_axis(ax)
        if group == "supply":
            percent_axis(ax, "y")
        else:
            thousands_axis(ax, "y")
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=legend_columns(fig, labels, most=6), fontsize="small")
    fig.suptitle(f"{SERIES_TITLES[group]} per turn (line: mean, band: 10–90% of games)")
    return fig


def chart_sweep(sweep: dict) -> Figure:
    """The followed side's win rate (Wilson bars) and the mean score against the swept value."""
    fig, (ax,) = new_axes()
    points = sweep["points"]
    numeric = all(isinstance(p["value"], (int, float)) and not isinstance(p["value"], bool) for p in points)
    x = np.array([p["value"] for p in points], dtype=float) if numeric else np.arange(len(points))
    rates = np.array([(p["win"] or {}).get("share") or 0.0 for p in points])
    err = np.array([[r - (p["win"] or {"ci": [r, r]})["ci"][0], (p["win"] or {"ci": [r, r]})["ci"][1] - r]
                    for r, p in zip(rates, points)]).T
    side = points[0]["side"]
    ax.errorbar(x, rates, yerr=err, marker="o", capsize=4, color="C0", label=f"{side} win rate (95% CI)")
    ax.set_ylim(0, 1.05)
    percent_axis(ax, "y")
    ax.set_ylabel(f"{side} win rate")
    ax.set_xlabel(sweep["path"])
    if not numeric:
        ax.set_xticks(x, [str(p["value"]) for p in points])
    right = ax.twinx()
    scores = [p["score_mean"] if p["score_mean"] is not None else np.nan for p in points]
    right.plot(x, scores, marker="s", linestyle="--", color="C1", label="mean score")
    right.set_ylabel("mean score")
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    fig.legend(handles, [str(h.get_label()) for h in handles], loc="outside lower center", ncols=2,
               fontsize="small", frameon=False)
    ax.set_title(f"Outcome against {sweep['path']}")
    return fig


# --------------------------------------------------------------------------------------------
# HTML

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .6em;
vertical-align:top;text-align:left}th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#fff;background:#2e8b3a;font-weight:bold}.fail{color:#fff;background:#c0392b;font-weight:bold}
.na{color:#777}.why{color:#555;font-size:.85em}.sig{font-weight:bold}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ddd}figcaption{color:#555;font-size:.85em}
nav a{margin-right:1em}.muted{color:#777}
"""


def esc(x: object) -> str:
    return html.escape("–" if x is None else str(x))


def table(head: Sequence[str], rows: Iterable[Sequence[str]], raw: bool = False) -> str:
    """An HTML table; cells are escaped unless `raw` (then they are already HTML)."""
    cell = (lambda c: c) if raw else esc
    out = ["<table><thead><tr>", *(f"<th>{esc(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def figures(charts: Sequence[Chart], section: str) -> str:
    return "".join(f'<figure><img src="charts/{esc(c.file)}" alt="{esc(c.title)}">'
                   f"<figcaption>{esc(c.title)}</figcaption></figure>"
                   for c in charts if c.section == section)


def verdict_cell(ok: bool | None) -> str:
    if ok is True:
        return '<span class="pass">&#10004; pass</span>'
    if ok is False:
        return '<span class="fail">&#10008; fail</span>'
    return '<span class="na">n/a</span>'


def render_html(report: dict, charts: Sequence[Chart]) -> str:
    """The whole report page: static, self-contained (inline CSS, images by relative path)."""
    sections = [
        ("calibration", "Calibration", html_calibration(report)),
        ("outcomes", "Outcomes", html_summary(report["variants"]) + figures(charts, "outcomes")),
        ("marks", "History benchmarks", html_marks(report["variants"]) + figures(charts, "marks")),
        ("corridor", "Corridor", figures(charts, "corridor")),
        ("losses", "Losses", html_losses(report["variants"]) + figures(charts, "losses")),
        ("per_turn", "Per turn", figures(charts, "per_turn")),
        ("comparisons", "Comparisons with the base", html_comparisons(report)),
        ("sprt", "Sequential test (SPRT)", html_sprt(report.get("sprt"))),
        ("sweep", "Sweep", html_sweep(report.get("sweep")) + figures(charts, "sweep")),
    ]
    title = report_title(report)
    nav = "".join(f'<a href="#{key}">{esc(name)}</a>' for key, name, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{esc(name)}</h2>{content}</section>' for key, name, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{esc(title)}</h1>{html_header(report)}<nav>{nav}</nav>"
            f"{body}</body></html>\n")


def report_title(report: dict) -> str:
    meta = report.get("meta") or {}
    name = next((meta[k] for k in ("title", "scenario_title", "scenario", "scenario_id") if meta.get(k)), "")
    return f"Balance report: {name}" if name else "Balance report"


def meta_text(value: object) -> str:
    """A meta (or SPRT) value for a table: floats to 4 significant digits, long lists shortened
    to their ends and their length."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        items = [meta_text(v) for v in value]
        if len(items) > 12:
            return f"{', '.join(items[:5])}, …, {', '.join(items[-3:])} ({len(items)} in all)"
        return ", ".join(items)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {meta_text(v)}" for k, v in value.items())
    return str(value)


def html_header(report: dict) -> str:
    variants = report["variants"]
    games = sum(v["n"] for v in variants.values())
    rows = [("games", f"{games:,}"),
            ("variants", ", ".join(f"{name}: {v['n']} games" + (" (base)" if name == report["base"] else "")
                                   for name, v in variants.items()))]
    rows += [(k, meta_text(v)) for k, v in (report.get("meta") or {}).items()]
    return table(["", ""], rows)


def html_calibration(report: dict) -> str:
    rows = report["calibration"]
    if not rows:
        return '<p class="muted">The scenario sets no acceptance criteria (accept_from/accept_to/accept_share).</p>'
    overall = verdict_cell(report["calibrated"])
    body = table(["figure", "history", "acceptance", "games: median (5–95%)", "share", "pass/fail"],
                 [[esc(r["name"]), esc(r["history"]), esc(r["acceptance"]), esc(r["games"]), esc(r["share"]),
                   verdict_cell(r["pass"]) + f'<div class="why">{esc(r["why"])}</div>'] for r in rows], raw=True)
    return f"<p>Base variant <b>{esc(report['base'])}</b>, overall: {overall}</p>{body}"


def html_summary(variants: dict[str, dict]) -> str:
    names = list(variants)
    sides = list(dict.fromkeys(s for v in variants.values() for s in v["sides"]))

    def row(label: str, get) -> list[str]:
        return [label] + [get(variants[n]) for n in names]

    rows = [row("games", lambda s: f"{s['n']:,}")]
    for side in sides:
        rows.append(row(f"{side} wins", lambda s, side=side: prop_text(s["wins"].get(side))))
    rows.append(row("draws", lambda s: prop_text(s["draws"])))
    rows.append(row("verdicts", lambda s: ", ".join(f"{verdict_label(r['winner'], r['verdict'])} {r['count']}"
                                                   for r in s["verdicts"])))
    rows.append(row("score: mean ± sd", lambda s: f"{num(s['score']['mean'])} ± {num(s['score']['sd'])}"))
    rows.append(row("score: median [25–75%]", lambda s: quartile_text(s["score"], num)))
    rows.append(row("corridor opened", lambda s: prop_text(s["corridor"]["opened"])))
    rows.append(row("corridor date: median [25–75%]",
                    lambda s: quartile_text(s["corridor"]["dates"], str) if s["corridor"]["dates"] else "–"))
    rows.append(row("turns: mean (min–max)", lambda s: f"{num(s['length']['turns']['mean'])} "
                                                       f"({num(s['length']['turns']['min'])}–{num(s['length']['turns']['max'])})"))
    rows.append(row("seconds per game", lambda s: num(s["length"]["seconds"]["mean"])))
    return table(["", *names], rows)


def prop_text(p: dict | None) -> str:
    return "–" if not p else f"{p['count']} ({pct(p['share'])}, {ci_text(p['ci'])})"


def quartile_text(q: dict, show) -> str:
    return f"{show(q['median'])} [{show(q['q25'])} – {show(q['q75'])}]"


def html_marks(variants: dict[str, dict]) -> str:
    names = list(variants)
    first = next(iter(variants.values()))
    rows = []
    for m in first["marks"]:
        cells = [m["name"], m["kind"], history_text(m)]
        for n in names:
            vm = next(x for x in variants[n]["marks"] if x["id"] == m["id"])
            cells.append(f"{games_text(vm)}; {share_text(vm)}")
        rows.append(cells)
    note = ('<p class="muted">Dates: the median (5–95%) over all games, a game where it never happened '
            'counting as later than any date ("not reached"); then the share of games where it happened '
            "(95% Wilson interval).</p>")
    return note + table(["figure", "kind", "history", *names], rows) if rows else ""


def html_losses(variants: dict[str, dict]) -> str:
    names = list(variants)
    first = next(iter(variants.values()))
    rows = []
    for side in first["sides"]:
        causes = list(first["losses"][side]["by_cause"]) + ["total"]
        for cause in causes:
            cells = [side, cause]
            for n in names:
                ls = variants[n]["losses"].get(side, {})
                d = ls.get("total") if cause == "total" else ls.get("by_cause", {}).get(cause)
                cells.append("–" if not d else f"{num(d['mean'])} ({num(d['p05'])} – {num(d['p95'])})")
            if cause == "total" or any(c != "0 (0 – 0)" for c in cells[2:]):
                rows.append(cells)
    return ('<p class="muted">Mean men lost per game (5–95% of games).</p>'
            + table(["side", "cause", *names], rows))


def html_comparisons(report: dict) -> str:
    if not report["comparisons"]:
        return '<p class="muted">Only one variant: nothing to compare.</p>'
    parts = []
    for name, comp in report["comparisons"].items():
        rows = [metric_row(m) for m in comp["metrics"].values()]
        parts.append(f"<h3>{esc(name)} against {esc(report['base'])} ({comp['n_pairs']} games paired by seed)</h3>"
                     + table(["metric", "base", "variant", "difference [95% CI]", "test", "p",
                              "effect size", "significant", "smallest detectable"], rows, raw=True))
    return ('<p class="muted">Variant minus base over the seeds both played; the interval is a bootstrap '
            "of the mean difference. Binary outcomes: exact McNemar test; others: Wilcoxon signed-rank. "
            "Smallest detectable: the difference these pairs would have shown with 80% power at 5% "
            "(two-sided, paired): a smaller true effect may hide behind a 'no'.</p>"
            + "".join(parts))


def level_text(x: float | None, unit: str) -> str:
    """A mean in its unit: a share, a date (from a day number) or a plain number."""
    if x is None:
        return "–"
    if unit == "share":
        return pct(x)
    if unit == "date":
        return dt.date.fromordinal(round(x)).isoformat()
    return num(x)


def delta_text(x: float | None, unit: str) -> str:
    """A signed difference in its unit: percentage points, days or a plain number."""
    if x is None:
        return "–"
    if unit == "share":
        return f"{x * 100:+.0f} pp"
    if unit == "date":
        return f"{x:+.1f} days"
    return ("+" if x > 0 else "") + num(x)


def metric_row(m: dict) -> list[str]:
    """One comparison metric as HTML cells, its values shown in its own unit."""
    unit, ci, e = m["unit"], m["ci"], m["effect"]
    diff = delta_text(m["mean_diff"], unit)
    if ci:
        diff += f" [{delta_text(ci[0], unit)}, {delta_text(ci[1], unit)}]"
    if m["kind"] == "binary":
        odds = "∞" if e["odds_ratio"] is None and e["variant_only"] else num(e["odds_ratio"])
        effect = (f"Δp {delta_text(e['diff_proportions'], 'share')}, "
                  f"odds ratio {odds} ({e['variant_only']}:{e['base_only']})")
    else:
        effect = f"d_z {num(e['d_z'], 2)}"
    p = "–" if m["p_value"] is None else f"{m['p_value']:.3g}"
    arrow = {"up": " &#8593;", "down": " &#8595;"}.get(m["direction"], "")
    sig = f'<span class="sig">yes{arrow}</span>' if m["significant"] else "no"
    detectable = m.get("detectable")
    smallest = "–" if detectable is None else "±" + delta_text(detectable, unit).lstrip("+")
    return [esc(m["label"]), esc(level_text(m["base_mean"], unit)), esc(level_text(m["variant_mean"], unit)),
            esc(diff), esc(m["test"]), esc(p), esc(effect), sig, esc(smallest)]


def html_sprt(sprt: dict | None) -> str:
    if not sprt:
        return '<p class="muted">No sequential test was run.</p>'
    decision = sprt.get("decision")
    head = f"<p>Decision: <b>{esc(decision if decision is not None else 'undecided (keep playing)')}</b></p>"
    return head + table(["", ""], [(k, meta_text(v)) for k, v in sprt.items()])


def html_sweep(sweep: dict | None) -> str:
    if not sweep:
        return '<p class="muted">No parameter sweep.</p>'
    rows = [[str(p["value"]), p["variant"], f"{p['n']:,}",
             f"{p['side']}: {pct((p['win'] or {}).get('share'))} ({ci_text((p['win'] or {}).get('ci'))})",
             num(p["score_mean"]), f"{pct(p['corridor']['share'])} ({ci_text(p['corridor']['ci'])})"]
            for p in sweep["points"]]
    return (f"<p>Swept parameter: <code>{esc(sweep['path'])}</code></p>"
            + table(["value", "variant", "games", "win rate (95% CI)", "mean score", "corridor opened"], rows))
