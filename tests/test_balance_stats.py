"""Statistics for balance testing: Wilson intervals, the per-variant summary (history marks and
their calibration), the paired comparison (McNemar, Wilcoxon) and the sequential test."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from game.balance.stats import (
    NOT_REACHED,
    SPRT,
    PowerWatch,
    compare,
    day_number,
    iso_day,
    minimum_detectable_effect,
    pairs_for_power,
    quantile,
    summarize,
    wilson,
)


def day(iso: str, plus: int = 0) -> str:
    return (dt.date.fromisoformat(iso) + dt.timedelta(days=plus)).isoformat()


def record(seed: int, *, score: float = 0.0, winner: str | None = "china", verdict: str = "marginal",
           corridor: str | None = None, benchmarks: dict | None = None, losses: dict | None = None,
           final_date: str = "1944-12-31", per_turn: dict | None = None) -> dict:
    """A minimal game record with the fields the statistics read."""
    losses = losses or {"japan": {"combat": 100}, "china": {"combat": 300}}
    return {"variant": "v", "seed": seed, "players": {"japan": "simple", "china": "simple"},
            "winner": winner, "verdict": verdict if winner else "draw", "score": score, "turns": 10,
            "final_date": final_date, "seconds": 0.5, "corridor_opened": corridor,
            "corridor_open_at_end": corridor is not None, "losses": losses,
            "loss_totals": {s: sum(c.values()) for s, c in losses.items()},
            "benchmarks": benchmarks or {}, "per_turn": per_turn or {}}


# --------------------------------------------------------------------------------------------
# Wilson

# Published 95% Wilson score intervals (no continuity correction), to the 4 decimals printed:
# Newcombe RG (1998), "Two-sided confidence intervals for the single proportion: comparison of
# seven methods", Statistics in Medicine 17:857-872, Table I, method 3 (the score method), for its
# four examples; and 0/10, 5/10, 10/10 (the k=0, k=n/2 and k=n cases of n=10), which R's
# prop.test(k, 10, correct=FALSE) gives as well.
PUBLISHED_WILSON_95 = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (0, 10, 0.0, 0.2775),
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
]


@pytest.mark.parametrize("k, n, low, high", PUBLISHED_WILSON_95)
def test_wilson_gives_the_published_intervals(k, n, low, high):
    assert wilson(k, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_at_another_confidence_level():
    # R 3.6.2: prop.test(3, 10, correct=FALSE, conf.level=0.99)$conf.int (and 0.95 for comparison)
    assert wilson(3, 10, confidence=0.99) == pytest.approx((0.07956632, 0.6799753), rel=1e-6)
    assert wilson(3, 10) == pytest.approx((0.1077913, 0.6032219), rel=1e-6)


def test_wilson_returns_plain_floats_at_the_ends():
    lo, hi = wilson(0, 7)
    assert (lo, type(lo), type(hi)) == (0.0, float, float)
    assert wilson(7, 7)[1] == 1.0


def test_wilson_without_games_and_with_bad_counts():
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(11, 10)


@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_properties(kn):
    k, n = kn
    lo, hi = wilson(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    lo4, hi4 = wilson(4 * k, 4 * n)          # the same share from four times the games
    assert hi4 - lo4 < hi - lo


# --------------------------------------------------------------------------------------------
# quantiles and dates

def test_quantile_treats_infinity_as_later_than_anything():
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([3, math.inf, 1], 0.5) == 3
    assert quantile([1, math.inf], 0.5) == math.inf
    assert quantile([], 0.5) is None
    xs = [5.0, 1.0, 7.0, 2.0, 9.0]
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        assert quantile(xs, q) == pytest.approx(float(np.quantile(xs, q)))


def test_day_numbers_round_trip():
    assert iso_day(day_number("1944-05-25")) == "1944-05-25"
    assert iso_day(day_number("1944-05-25") + 0.5) == "1944-05-26"


# --------------------------------------------------------------------------------------------
# summarize

CAPTURE = {"id": "h_cap", "name": "City falls", "kind": "capture", "place": "city", "side": "japan",
           "date": "1944-05-25", "earliest": "1944-05-20", "latest": "1944-06-01"}


def test_summarize_outcomes_score_corridor_and_losses():
    recs = [record(0, score=1, winner="japan", verdict="decisive", corridor="1944-12-01"),
            record(1, score=2, winner="japan", verdict="decisive", corridor="1944-12-15"),
            record(2, score=4, winner=None),
            record(3, score=8, winner="china", losses={"japan": {"combat": 50, "air": 50}, "china": {"combat": 0}})]
    s = summarize(recs, [])
    assert s["n"] == 4 and s["sides"] == ["japan", "china"]
    assert s["wins"]["japan"]["count"] == 2 and s["wins"]["japan"]["ci"] == list(wilson(2, 4))
    assert s["wins"]["china"]["share"] == 0.25 and s["draws"]["count"] == 1
    assert {(v["winner"], v["verdict"]): v["count"] for v in s["verdicts"]} == \
        {("japan", "decisive"): 2, (None, "draw"): 1, ("china", "marginal"): 1}
    assert s["score"]["median"] == 3.0 and s["score"]["mean"] == 3.75
    assert s["corridor"]["opened"]["count"] == 2
    assert s["corridor"]["dates"]["median"] == "1944-12-08"
    assert s["losses"]["japan"]["by_cause"]["combat"]["mean"] == pytest.approx(87.5)
    assert s["losses"]["japan"]["by_cause"]["air"]["mean"] == pytest.approx(12.5)
    assert s["losses"]["china"]["total"]["median"] == 300


def test_date_mark_median_counts_games_where_it_never_happened_as_latest():
    dates = ["1944-05-10", "1944-05-17", "1944-05-24", None, None]
    recs = [record(i, benchmarks={"h_cap": d}) for i, d in enumerate(dates)]
    (m,) = summarize(recs, [CAPTURE])["marks"]
    assert m["n_happened"] == 3 and m["share"] == 0.6 and m["share_ci"] == list(wilson(3, 5))
    assert m["quantiles"]["median"] == "1944-05-24"         # third of five, two never
    assert m["quantiles"]["q75"] == NOT_REACHED
    assert m["quantiles_happened"]["median"] == "1944-05-17"
    assert m["distribution"] == [["1944-05-10", 1], ["1944-05-17", 1], ["1944-05-24", 1]]
    assert m["history"]["earliest"] == "1944-05-20" and m["pass"] is None


@pytest.mark.parametrize("accept, expected", [
    ({"accept_from": "1944-05-01", "accept_to": "1944-06-30"}, True),
    ({"accept_to": "1944-05-20"}, False),
    ({"accept_from": "1944-05-30"}, False),
])
def test_date_mark_calibration(accept, expected):
    dates = ["1944-05-20", "1944-05-27", "1944-06-03"]
    recs = [record(i, benchmarks={"h_cap": d}) for i, d in enumerate(dates)]
    (m,) = summarize(recs, [{**CAPTURE, **accept}])["marks"]
    assert m["quantiles"]["median"] == "1944-05-27"
    assert m["pass"] is expected and "1944-05-27" in m["why"]


def test_a_median_not_reached_fails_accept_to_but_passes_accept_from():
    recs = [record(i, benchmarks={"h_cap": "1944-05-20" if i < 2 else None}) for i in range(5)]
    late = summarize(recs, [{**CAPTURE, "accept_to": "1944-12-31"}])["marks"][0]
    early = summarize(recs, [{**CAPTURE, "accept_from": "1944-05-01"}])["marks"][0]
    assert late["quantiles"]["median"] == NOT_REACHED
    assert late["pass"] is False and NOT_REACHED in late["why"] and "2 of 5" in late["why"]
    assert early["pass"] is True


def test_corridor_share_criterion():
    mark = {"id": "h_corr", "name": "Corridor", "kind": "corridor", "accept_share": 0.5}
    recs = [record(i, benchmarks={"h_corr": "1944-12-10" if i < 3 else None}) for i in range(5)]
    assert summarize(recs, [mark])["marks"][0]["pass"] is True        # 60% >= 50%
    recs = [record(i, benchmarks={"h_corr": "1944-12-10" if i < 2 else None}) for i in range(5)]
    assert summarize(recs, [mark])["marks"][0]["pass"] is False       # 40% < 50%


@pytest.mark.parametrize("taken, expected", [(1, True), (2, False)])
def test_held_mark_counts_the_games_where_the_place_is_kept(taken, expected):
    mark = {"id": "h_held", "name": "Capital never taken", "kind": "held", "place": "capital",
            "side": "china", "accept_share": 0.95}
    recs = [record(i, benchmarks={"h_held": "1944-09-01" if i < taken else None}) for i in range(20)]
    (m,) = summarize(recs, [mark])["marks"]
    assert m["n_happened"] == taken
    assert m["kept"]["count"] == 20 - taken and m["kept"]["share"] == (20 - taken) / 20
    assert m["pass"] is expected and "kept" in m["why"]


def test_number_marks_median_against_the_acceptance_range():
    marks = [{"id": "h_loss", "name": "Losses", "kind": "losses", "side": "china", "value": 250,
              "low": 100, "high": 400, "accept_from": 150, "accept_to": 250},
             {"id": "h_ratio", "name": "Ratio", "kind": "ratio", "of": ["a", "b"], "accept_to": 1.0}]
    values = [(100, 2.0), (200, None), (300, 4.0), (250, None)]
    recs = [record(i, benchmarks={"h_loss": x, "h_ratio": r}) for i, (x, r) in enumerate(values)]
    loss, ratio = summarize(recs, marks)["marks"]
    assert loss["quantiles"]["median"] == 225 and loss["mean"] == 212.5 and loss["pass"] is True
    assert ratio["n_happened"] == 2 and ratio["quantiles"]["median"] == 3.0   # games without a ratio left out
    assert ratio["pass"] is False and "above" in ratio["why"]


def test_number_mark_without_any_value_has_no_verdict():
    mark = {"id": "h_ratio", "name": "Ratio", "kind": "ratio", "of": ["a", "b"], "accept_from": 1}
    (m,) = summarize([record(0, benchmarks={"h_ratio": None})], [mark])["marks"]
    assert m["quantiles"] is None and m["pass"] is None


def test_per_turn_series_pad_short_games_and_date_the_final_sample():
    long = {"date": ["1944-04-17", "1944-04-24", "1944-05-01", "1944-05-01"],
            "front": {"japan": [10, 20, 30, 40]}, "supply": {"japan": [1, 1, 1, 1]},
            "tracks": {"prestige": [0, 1, 2, 3]}, "losses": {"japan": [0, 5, 10, 15]}}
    short = {"date": ["1944-04-17", "1944-04-24"], "front": {"japan": [10, 60]}, "supply": {"japan": [1, 0]},
             "tracks": {"prestige": [0, 5]}, "losses": {"japan": [0, 7]}}
    recs = [record(0, per_turn=long, final_date="1944-05-07"), record(1, per_turn=short, final_date="1944-04-24")]
    pt = summarize(recs, [])["per_turn"]
    assert pt["dates"] == ["1944-04-17", "1944-04-24", "1944-05-01", "1944-05-07"]
    assert pt["front"]["japan"]["mean"] == [10, 40, 45, 50]        # the short game stays at 60
    assert pt["supply"]["japan"]["mean"] == [1, 0.5, 0.5, 0.5]
    assert pt["tracks"]["prestige"]["p10"][-1] <= pt["tracks"]["prestige"]["mean"][-1] <= \
        pt["tracks"]["prestige"]["p90"][-1]


def test_summary_is_json_safe():
    recs = [record(i, score=i, benchmarks={"h_cap": None}) for i in range(3)]
    text = json.dumps(summarize(recs, [CAPTURE]), allow_nan=False)
    assert json.loads(text)["n"] == 3


# --------------------------------------------------------------------------------------------
# compare

def paired(scores_base, scores_variant, **kw) -> tuple[list[dict], list[dict]]:
    base = [record(i, score=s, **kw) for i, s in enumerate(scores_base)]
    variant = [record(i, score=s, **kw) for i, s in enumerate(scores_variant)]
    return base, variant


def test_compare_detects_a_clear_shift_in_the_score():
    rng = np.random.default_rng(7)
    base_scores = rng.normal(10, 3, 40)
    base, variant = paired(base_scores, base_scores + 2 + rng.normal(0, 1, 40))
    m = compare(base, variant)["metrics"]["score"]
    assert m["n_pairs"] == 40 and m["test"] == "Wilcoxon signed-rank"
    assert m["significant"] and m["p_value"] < 0.001 and m["direction"] == "up"
    assert m["effect"]["d_z"] > 1
    assert 0 < m["ci"][0] < m["mean_diff"] < m["ci"][1]
    assert m["mean_diff"] == pytest.approx(m["variant_mean"] - m["base_mean"])


def test_compare_finds_no_shift_in_symmetric_noise():
    rng = np.random.default_rng(3)
    base_scores = rng.normal(10, 3, 30)
    noise = rng.normal(0, 1, 15)
    base, variant = paired(base_scores, base_scores + np.concatenate([noise, -noise]))
    m = compare(base, variant)["metrics"]["score"]
    assert not m["significant"] and m["p_value"] > 0.5 and m["direction"] == "none"
    assert m["ci"][0] < 0 < m["ci"][1]


def test_compare_identical_games_gives_p_one():
    base, variant = paired([1, 2, 3], [1, 2, 3])
    metrics = compare(base, variant)["metrics"]
    assert metrics["score"]["p_value"] == 1.0 and metrics["score"]["effect"]["d_z"] == 0.0
    assert metrics["win_japan"]["p_value"] == 1.0 and metrics["losses_china"]["direction"] == "none"


@pytest.mark.parametrize("up, down", [(10, 0), (6, 4)])
def test_mcnemar_on_discordant_pairs(up, down):
    """Exact McNemar: a two-sided binomial test of the discordant pairs against 1/2."""
    same = 5                                      # pairs where Japan wins in both
    base = [record(i, winner="japan") for i in range(same)] + \
        [record(same + i, winner="china") for i in range(up)] + \
        [record(same + up + i, winner="japan") for i in range(down)]
    variant = [record(i, winner="japan") for i in range(same)] + \
        [record(same + i, winner="japan") for i in range(up)] + \
        [record(same + up + i, winner="china") for i in range(down)]
    m = compare(base, variant)["metrics"]["win_japan"]
    n, k = up + down, min(up, down)
    expected = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n)
    assert m["test"] == "exact McNemar" and m["p_value"] == pytest.approx(expected)
    assert m["effect"]["variant_only"] == up and m["effect"]["base_only"] == down
    assert m["effect"]["diff_proportions"] == pytest.approx((up - down) / (same + up + down))
    assert m["effect"]["odds_ratio"] == (up / down if down else None)
    assert m["significant"] is (expected < 0.05)
    assert m["direction"] == ("up" if expected < 0.05 else "none")


def test_compare_pairs_by_seed_only():
    base = [record(i, score=i) for i in range(5)]
    variant = [record(i, score=i + 1) for i in range(3, 8)]
    c = compare(base, variant)
    assert c["n_pairs"] == 2 and c["unpaired"] == {"base": 3, "variant": 3}
    assert c["metrics"]["score"]["mean_diff"] == 1.0


def test_corridor_date_counts_a_never_opened_game_as_the_end_plus_one_day():
    base = [record(i, corridor=None, final_date="1944-12-31") for i in range(4)]
    variant = [record(i, corridor="1944-12-01", final_date="1944-12-31") for i in range(4)]
    metrics = compare(base, variant)["metrics"]
    m = metrics["corridor_date"]
    assert m["base_mean"] == day_number("1945-01-01") and m["mean_diff"] == -31
    assert m["unit"] == "date" and m["direction"] == "none"    # four pairs are too few for p < 0.05
    assert metrics["corridor_opened"]["effect"]["variant_only"] == 4


def test_compare_losses_per_side():
    base = [record(i, losses={"japan": {"combat": 100 + i}, "china": {"combat": 500}}) for i in range(12)]
    variant = [record(i, losses={"japan": {"combat": 50 + 2 * i}, "china": {"combat": 500}}) for i in range(12)]
    metrics = compare(base, variant)["metrics"]
    assert metrics["losses_japan"]["direction"] == "down" and metrics["losses_japan"]["effect"]["d_z"] < 0
    assert metrics["losses_china"]["p_value"] == 1.0


# --------------------------------------------------------------------------------------------
# SPRT

def test_sprt_bounds_are_walds():
    t = SPRT(alpha=0.05, beta=0.1, delta=0.2)
    assert t.bounds == pytest.approx((math.log(0.1 / 0.95), math.log(0.9 / 0.05)))


def test_sprt_decides_up_on_positive_differences():
    t = SPRT()
    needed = math.ceil(t.bounds[1] / math.log(1 + 2 * t.delta))   # steps of ln((1/2+δ)/(1/2))
    for _ in range(needed - 1):
        t.update(1.5)
    assert t.decision is None
    t.update(0.2)
    assert t.decision == "up" and t.n == needed and t.llr_up >= t.bounds[1]
    for _ in range(5):                             # the verdict stays once reached
        t.update(-1)
    assert t.decision == "up"


def test_sprt_decides_down_on_negative_differences():
    t = SPRT()
    for _ in range(50):
        t.update(-0.3)
    assert t.decision == "down" and t.llr_down >= t.bounds[1]


def test_sprt_finds_no_difference_in_a_balanced_stream_and_ignores_ties():
    t = SPRT()
    t.update(1)
    t.update(-1)
    assert t.decision is None
    for i in range(200):
        t.update(0)
        t.update(1 if i % 2 else -1)
    assert t.decision == "no difference"
    assert t.ties == 200 and t.n == 202
    assert t.llr_up <= t.bounds[0] and t.llr_down <= t.bounds[0]


def test_sprt_to_dict_and_bad_settings():
    t = SPRT(delta=0.1)
    t.update(2)
    d = json.loads(json.dumps(t.to_dict()))
    assert d["n"] == 1 and d["positives"] == 1 and d["decision"] is None and d["delta"] == 0.1
    assert d["bounds"] == list(t.bounds)
    with pytest.raises(ValueError):
        SPRT(delta=0.5)


# -- power ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("d_z,pairs", [(0.2, 199), (0.5, 34), (0.8, 15), (1.0, 10)])
def test_pairs_for_power_match_published_sample_sizes(d_z, pairs):
    # paired t-test, two-sided alpha 0.05, power 0.80: G*Power 3.1 (Faul et al. 2007) gives these N
    assert pairs_for_power(1.0, d_z) == pairs
    assert pairs_for_power(2.5, 2.5 * d_z) == pairs  # only the ratio of effect to spread matters


def test_the_smallest_detectable_effect_inverts_the_pairs_needed():
    for n in (10, 34, 199):
        effect = minimum_detectable_effect(1.0, n)
        assert pairs_for_power(1.0, effect) == n
    assert minimum_detectable_effect(None, 30) is None and minimum_detectable_effect(1.0, 1) is None
    assert pairs_for_power(1.0, 0.0) == float("inf")


def test_every_comparison_states_the_smallest_effect_it_could_have_detected():
    base = [{"seed": s, "score": float(s % 7), "winner": "a"} for s in range(40)]
    variant = [{"seed": s, "score": float(s % 7) + (1.0 if s % 2 else -0.5), "winner": "a"} for s in range(40)]
    score = compare(base, variant)["metrics"]["score"]
    d = np.array([v["score"] - b["score"] for b, v in zip(base, variant)])
    assert score["sd_diff"] == pytest.approx(d.std(ddof=1))
    assert score["detectable"] == pytest.approx(minimum_detectable_effect(d.std(ddof=1), 40))


def test_the_sprt_expected_length_agrees_with_running_it():
    rng = np.random.default_rng(7)
    for p_up in (0.5, 2 / 3):
        pilot = SPRT()
        pilot.positives, pilot.negatives, pilot.ties = round(p_up * 300), 300 - round(p_up * 300), 0
        expected = pilot.expected_pairs()
        lengths = []
        for _ in range(600):
            test, n = SPRT(), 0
            while test.decision is None:
                test.update(1 if rng.random() < p_up else -1)
                n += 1
            lengths.append(n)
        assert expected == pytest.approx(np.mean(lengths), rel=0.12)
    assert SPRT().expected_pairs() is None


def test_the_power_watch_estimates_from_the_pairs_seen():
    watch = PowerWatch("base", 2.0)
    assert watch.text() == ""
    for s in range(20):
        watch.add({"variant": "base", "seed": s, "score": 10.0})
        watch.add({"variant": "v", "seed": s, "score": 10.0 + (3.0 if s % 2 else -1.0)})
    est = watch.estimate()["variants"]["v"]
    assert est["pilot_pairs"] == 20 and est["sd_diff"] == pytest.approx(np.std([3.0, -1.0] * 10, ddof=1))
    assert est["pairs_needed"] == pairs_for_power(est["sd_diff"], 2.0)
    assert watch.text().startswith(f"power: {est['pairs_needed']:.0f} pairs for ±2 (20 seen)")
    with pytest.raises(ValueError):
        PowerWatch("base", 0)


def test_the_power_watch_gives_no_estimate_while_the_pairs_never_differ():
    watch = PowerWatch("base", 1.0)
    for s in range(10):
        watch.add({"variant": "base", "seed": s, "score": 3.0})
        watch.add({"variant": "v", "seed": s, "score": 3.0})
    est = watch.estimate()["variants"]["v"]
    assert est["sd_diff"] == 0 and est["pairs_needed"] is None and watch.text() == ""
