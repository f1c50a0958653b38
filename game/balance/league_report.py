"""The league's report: ``league.json`` (everything :func:`game.balance.league.analyse` found, and
the run's facts) and a self-contained ``report.html`` with the cross-table of each side, the
pairwise verdicts and a chart of the ratings (``charts/ratings.png``)."""

from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

from ..atomic import write_bytes_atomic, write_text_atomic
from .report import CSS, colour, esc, json_safe, meta_text, new_axes, pct, png_bytes, table


def write_league(out_dir: Path, league: dict) -> list[Path]:
    """Write league.json, report.html and charts/ratings.png atomically; the paths written."""
    out_dir = Path(out_dir)
    data = json_safe(league)
    assert isinstance(data, dict)
    charts = out_dir / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    chart = charts / "ratings.png"
    write_bytes_atomic(chart, png_bytes(chart_ratings(data)))
    json_path, html_path = out_dir / "league.json", out_dir / "report.html"
    write_text_atomic(json_path, json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False) + "\n")
    write_text_atomic(html_path, render_league_html(data))
    return [json_path, html_path, chart]


def chart_ratings(league: dict) -> Figure:
    """Horizontal bars: every (side, player)'s rating with its 95% interval, grouped by side."""
    rows = [(side, r) for k, side in enumerate(league["sides"]) for r in league["ratings"][side]]
    fig, (ax,) = new_axes(8, max(2.5, 0.32 * len(rows) + 1.2))
    labels: list[str] = []
    for y, (side, r) in enumerate(reversed(rows)):
        k = league["sides"].index(side)
        err = None
        if r["ci"] is not None:
            err = [[max(0.0, r["rating"] - r["ci"][0])], [max(0.0, r["ci"][1] - r["rating"])]]
        ax.barh(y, r["rating"], color=colour(k), alpha=0.75, xerr=err, capsize=3,
                label=side if not any(lab.startswith(f"{side}:") for lab in labels) else None)
        labels.append(f"{side}: {r['player']}")
    ax.set_yticks(range(len(labels)), labels, fontsize="small")
    ax.axvline(0, color="#444", linewidth=0.8)
    ax.set_xlabel("rating (Elo scale; mean 0; bars: 95% interval over resampled seeds)")
    ax.set_title("League ratings (Bradley-Terry)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _score_text(block: dict) -> str:
    own = block["own_score"]
    if own["mean"] is None:
        return "–"
    ci = own["ci"]
    span = f" [{ci[0]:+.1f}, {ci[1]:+.1f}]" if ci else ""
    return f"{own['mean']:+.1f}{span}"


def _shares_text(block: dict) -> str:
    def one(p: dict) -> str:
        return f"{pct(p['share'])} ({pct(p['ci'][0])}–{pct(p['ci'][1])})" if p["share"] is not None else "–"
    return f"W {one(block['win'])} · D {one(block['draw'])} · L {one(block['loss'])}"


def _cell(block: dict) -> str:
    if not block["n"]:
        return '<span class="muted">no games</span>'
    return (f"<b>{esc(_score_text(block))}</b><br><span class=\"why\">{esc(_shares_text(block))}<br>"
            f"{block['n']} games</span>")


def html_cross_table(league: dict, side: str) -> str:
    k = league["sides"].index(side)
    other = league["sides"][1 - k]
    rows = []
    for name, row in league["cross_table"][side].items():
        rows.append([f"<b>{esc(name)}</b>", *(_cell(row["vs"][opp]) for opp in league["players"][other]),
                     _cell(row["total"])])
    return table([f"{side} player \\ {other} player", *league["players"][other], "all opponents"], rows, raw=True)


def html_ratings(league: dict) -> str:
    rows = []
    for side in league["sides"]:
        for r in league["ratings"][side]:
            ci = r["ci"]
            rows.append([esc(side), esc(r["player"]), f"{r['rating']:+.0f}",
                         esc(f"[{ci[0]:+.0f}, {ci[1]:+.0f}]" if ci else "–"), str(r["games"]),
                         esc(pct(r["points_share"]))])
    return table(["side", "player", "rating", "95% interval", "games", "points (a draw is half)"], rows, raw=True)


def html_pairwise(league: dict, side: str) -> str:
    rows = []
    for c in league["pairwise"][side]:
        if c["pairs"] == 0:
            verdict = '<span class="muted">no common games</span>'
        elif c["stronger"] is not None:
            verdict = f'<span class="sig">{esc(c["stronger"])} is stronger</span>'
        else:
            shown = f" (a difference of ±{c['detectable']:.1f} or more would have shown)" if c["detectable"] else ""
            verdict = esc("no difference shown" + shown)
        ci = c["ci"]
        rows.append([esc(c["a"]), esc(c["b"]), str(c["pairs"]),
                     esc(f"{c['mean_diff']:+.2f}" if c["mean_diff"] is not None else "–"),
                     esc(f"[{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "–"),
                     esc(f"{c['a_better']} / {c['ties']} / {c['b_better']}"),
                     esc(f"{c['p_value']:.3g}" if c["p_value"] is not None else "–"), verdict])
    if not rows:
        return '<p class="muted">One player: nothing to compare.</p>'
    return table(["A", "B", "pairs", "own score A − B", "95% interval", "A better / tie / B better",
                  "p (Wilcoxon)", "verdict"], rows, raw=True)


def render_league_html(league: dict) -> str:
    meta = league.get("meta") or {}
    title = f"League: {meta.get('title') or meta.get('scenario_id') or ''}".rstrip(": ")
    head = table(["", ""], [(k, meta_text(v)) for k, v in meta.items()])
    sections = [("ratings", "Ratings", '<figure><img src="charts/ratings.png" alt="ratings"></figure>'
                 + html_ratings(league) + f'<p class="why">{esc(league["ratings_method"])}</p>')]
    for side in league["sides"]:
        sections.append((f"table_{side}", f"{side}: each player against each opponent",
                         f'<p class="why">Each cell: {esc(side)}\'s own score (the score of '
                         f'{esc(league["score_side"])}, negated for the other side), its mean and 95% bootstrap '
                         f"interval; then {esc(side)}'s wins, draws and losses (95% Wilson intervals).</p>"
                         + html_cross_table(league, side)))
        sections.append((f"pairs_{side}", f"{side}: which player is stronger",
                         f'<p class="why">"A is stronger than B as {esc(side)}" means: '
                         f"{esc(league['stronger_means'])}.</p>" + html_pairwise(league, side)))
    nav = "".join(f'<a href="#{key}">{esc(name)}</a>' for key, name, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{esc(name)}</h2>{content}</section>' for key, name, content in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body><h1>{esc(title)}</h1>{head}<nav>{nav}</nav>{body}</body></html>\n")
