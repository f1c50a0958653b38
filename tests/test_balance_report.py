"""The balance report: report.json, report.html and its charts, from a few real games of the
example scenario and its no-famine variant played on the same seeds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from game.balance.record import play_recorded
from game.balance.report import build_report, json_safe, write_report
from game.balance.stats import SPRT, summarize
from game.rules.context import load_context

ROOT = Path(__file__).resolve().parent.parent
SEEDS = range(6)
PLAYERS = {"japan": "simple", "china": "simple"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def games() -> dict:
    """Six games of each variant on the same seeds, and the base scenario's history marks with
    acceptance criteria added: one that every game passes, one that none can; plus two marks
    no game reaches (a place never taken, a corridor never opened), to draw empty charts."""
    out: dict = {}
    for name, file in [("base", "henan_1944.yaml"), ("no_famine", "henan_1944_no_famine.yaml")]:
        ctx = load_context(ROOT / "scenarios" / "examples" / file)
        out[name] = [play_recorded(ctx, seed, PLAYERS, variant=name)[0] for seed in SEEDS]
        if name == "base":
            history = [h.model_dump(mode="json") for h in ctx.scenario.history]
            start = ctx.scenario.meta.start_date.isoformat()
    history[0]["accept_from"] = start        # nothing falls before the start: passes
    history[1]["accept_to"] = start          # nothing falls on the first day: fails
    history.append({"id": "h_kept", "name": "Capital never taken", "kind": "held", "place": "capital",
                    "side": "china", "accept_share": 0.9})
    history.append({"id": "h_corridor", "name": "Corridor", "kind": "corridor", "side": "japan",
                    "date": "1944-05-30"})
    out["history"] = history
    return out


@pytest.fixture(scope="module")
def written(games, tmp_path_factory) -> dict:
    sprt = SPRT()
    base_scores = {r["seed"]: r["score"] for r in games["base"]}
    for r in games["no_famine"]:
        sprt.update(r["score"] - base_scores[r["seed"]])
    report = build_report({"base": games["base"], "no_famine": games["no_famine"]}, games["history"],
                          base="base", sprt=sprt.to_dict(),
                          meta={"scenario": "henan_1944", "command": "ichigo balance <test> & more",
                                "seeds": list(SEEDS), "workers": 1},
                          sweep={"path": "regions.henan_famine.active", "values": [True, False],
                                 "variants": ["base", "no_famine"]})
    out = tmp_path_factory.mktemp("report")
    paths = write_report(out, report)
    return {"report": report, "dir": out, "paths": paths}


@pytest.mark.slow
def test_report_json_has_every_section(written, games):
    data = json.loads((written["dir"] / "report.json").read_text(encoding="utf-8"))
    assert {"meta", "base", "variants", "comparisons", "sweep", "sprt", "calibration", "calibrated"} <= set(data)
    assert data["meta"]["command"] == "ichigo balance <test> & more"
    assert set(data["variants"]) == {"base", "no_famine"} and data["variants"]["base"]["n"] == len(SEEDS)
    assert list(data["comparisons"]) == ["no_famine"]
    assert data["comparisons"]["no_famine"]["n_pairs"] == len(SEEDS)
    assert {"score", "win_japan", "win_china", "corridor_opened", "corridor_date", "losses_japan",
            "losses_china"} <= set(data["comparisons"]["no_famine"]["metrics"])
    assert data["sprt"]["n"] + data["sprt"]["ties"] == len(SEEDS)


@pytest.mark.slow
def test_calibration_rows_follow_the_base_summary(written, games):
    report = written["report"]
    rows = {r["id"]: r for r in report["calibration"]}
    first, second = games["history"][0]["id"], games["history"][1]["id"]
    assert set(rows) == {first, second, "h_kept"}
    assert rows[first]["pass"] is True and rows[second]["pass"] is False and rows["h_kept"]["pass"] is True
    assert report["calibrated"] is False
    marks = {m["id"]: m for m in summarize(games["base"], games["history"])["marks"]}
    assert rows[second]["why"] == marks[second]["why"]


@pytest.mark.slow
def test_calibrated_needs_criteria_and_all_passing(games):
    history = [dict(h) for h in games["history"]]
    del history[1]["accept_to"]
    passing = build_report({"base": games["base"]}, history, base="base", meta={})
    assert passing["calibrated"] is True and len(passing["calibration"]) == 2
    bare = [{k: v for k, v in h.items() if not k.startswith("accept_")} for h in history]
    assert build_report({"base": games["base"]}, bare, base="base", meta={})["calibrated"] is False


@pytest.mark.slow
def test_sweep_points_carry_the_outcome_per_value(written):
    report = written["report"]
    points = report["sweep"]["points"]
    assert [p["value"] for p in points] == [True, False]
    assert report["side"] == "japan"  # no side asked for: the scenario's first side
    for p in points:
        summary = report["variants"][p["variant"]]
        assert p["side"] == "japan" and p["win"] == summary["wins"]["japan"]
        assert p["score_mean"] == summary["score"]["mean"] and p["corridor"] == summary["corridor"]["opened"]


@pytest.mark.slow
def test_the_sweep_follows_the_report_side(games, tmp_path):
    sweep = {"path": "regions.henan_famine.active", "values": [True, False], "variants": ["base", "no_famine"]}
    records = {"base": games["base"], "no_famine": games["no_famine"]}
    report = build_report(records, games["history"], base="base", meta={}, sweep=sweep, side="china")
    assert report["side"] == "china"
    points = report["sweep"]["points"]
    assert [p["side"] for p in points] == ["china", "china"]
    assert [p["win"] for p in points] == [report["variants"][n]["wins"]["china"] for n in ("base", "no_famine")]
    # the chart is labelled with that side
    from game.balance.report import chart_sweep

    fig = chart_sweep(report["sweep"])
    assert fig.axes[0].get_ylabel() == "china win rate"
    with pytest.raises(ValueError, match="not a side of the games"):
        build_report(records, games["history"], base="base", meta={}, sweep=sweep, side="japn")


@pytest.mark.slow
def test_report_html_is_static_and_links_existing_pngs(written):
    page = (written["dir"] / "report.html").read_text(encoding="utf-8")
    assert "games: median (5–95%)" in page and 'class="fail"' in page and 'class="pass"' in page
    assert "ichigo balance &lt;test&gt; &amp; more" in page and "<test>" not in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    images = re.findall(r'<img src="(charts/[^"]+\.png)"', page)
    assert len(images) >= 8 and len(set(images)) == len(images)
    for rel in images:
        assert (written["dir"] / rel).read_bytes()[:8] == PNG_SIGNATURE
    pngs = {p for p in written["paths"] if p.suffix == ".png"}
    assert {written["dir"] / rel for rel in images} == pngs
    assert all(p.exists() for p in written["paths"])
    assert written["paths"][:2] == [written["dir"] / "report.json", written["dir"] / "report.html"]


@pytest.mark.slow
def test_report_has_a_chart_per_history_mark(written, games):
    names = {p.name for p in written["paths"]}
    assert {f"mark_{h['id']}.png" for h in games["history"]} <= names
    assert {"wins.png", "verdicts.png", "corridor.png", "losses.png", "turns_front.png", "turns_supply.png",
            "turns_tracks.png", "sweep.png"} <= names


@pytest.mark.slow
def test_build_report_needs_the_base_variant(games):
    with pytest.raises(ValueError):
        build_report({"other": games["base"]}, games["history"], base="base", meta={})


def test_json_safe_converts_numpy_and_non_finite_values():
    raw = {"a": np.float64("nan"), "b": np.int64(3), "c": (1, 2), "d": np.array([1.5, np.inf]), 4: np.bool_(True)}
    assert json_safe(raw) == {"a": None, "b": 3, "c": [1, 2], "d": [1.5, None], "4": True}
    assert type(json_safe(raw)["b"]) is int


def test_many_variants_get_a_histogram_row_each_and_legends_fit():
    """Side-by-side bars of seven variants cannot be read: from four on, each variant gets a row
    on shared bins and scale, named on the y axis, and each median mark stays on its row. The
    legend takes as many columns as fit, so long labels are not cut at the figure's edges."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from game.balance.report import draw_hist, legend_below, new_axes, ridge_span, ridges
    rng = np.random.default_rng(0)
    names = [f"whatif_variant_number_{k} (happened in {k}/150)" for k in range(6)]
    series = [(name, list(rng.normal(k, 1, 50)), [1 / 50] * 50) for k, name in enumerate(names)]
    series.append(("whatif_never (happened in 0/150)", [], []))
    assert not ridges(series[:3]) and ridges(series[:4]) and not ridges(series[:3] + series[-1:])
    fig, (ax,) = new_axes()
    draw_hist(ax, series)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "whatif_variant_number_0" and labels[-1] == "whatif_never"
    assert [int(round(y)) for y in ax.get_yticks()] == list(range(6, -1, -1))  # the first on top
    spans = [ridge_span(series, i) for i in range(len(series))]
    assert all(0 <= lo < hi <= 1 for lo, hi in spans)
    assert all(spans[i][0] >= spans[i + 1][1] for i in range(len(spans) - 1))  # rows do not overlap
    assert ridge_span(series[:2], 0) == (0.0, 1.0)
    ax.axvline(0, color="black", label="history: 1944-11-11 (1944-11-10 – 1944-11-14), a long label")
    legend_below(fig, ax)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = fig.legends[0].get_window_extent(canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width
