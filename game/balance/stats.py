"""Statistics over game records (see :mod:`game.balance.record`) for AI-vs-AI balance testing.

Three questions, three tools:

* what does one variant of a scenario produce? :func:`summarize` (outcomes, score, losses, the
  corridor, every history benchmark with its calibration verdict, per-turn series);
* does a variant change the outcome? :func:`compare`, paired by seed: both variants play the
  same seeds, so the games share their dice and most of the noise cancels out;
* when to stop playing more games? :class:`SPRT`, a sequential sign test on the paired scores.

Everything here is a pure function of its arguments and returns plain JSON-safe Python values
(floats, ints, strings, lists, dicts, None); dates are ISO strings, computed on day numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from scipy import stats as sps

ALPHA = 0.05
#: history kinds whose value is a date (held: the date the place was lost)
DATE_KINDS = frozenset({"capture", "event", "corridor", "held"})
#: the quantiles reported for every distribution, by key
QUANTILES = {"p05": 0.05, "q25": 0.25, "median": 0.5, "q75": 0.75, "p95": 0.95}
#: shown for a date quantile that falls among the games where the benchmark never happened
NOT_REACHED = "not reached"
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 1944
_BOOTSTRAP_CELLS = 2_000_000  # resampled values held in memory at once
SERIES_GROUPS = ("front", "supply", "tracks", "losses")


# --------------------------------------------------------------------------------------------
# small building blocks

def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion k/n (scipy's, without continuity correction);
    (0, 1) when there is no observation.

    Unlike the normal approximation it stays inside [0, 1] and is sensible at k=0 or k=n,
    which is common here (a city that falls in every game)."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= k <= n:
        raise ValueError(f"wilson: k={k} is not within 0..n={n}")
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return (float(ci.low), float(ci.high))


def proportion(k: int, n: int) -> dict:
    """k of n as a count, a share and its 95% Wilson interval."""
    return {"count": k, "n": n, "share": k / n if n else None, "ci": list(wilson(k, n))}


def day_number(iso: str) -> int:
    """An ISO date as a day number (proleptic ordinal), so dates can be averaged and sorted."""
    return dt.date.fromisoformat(iso).toordinal()


def iso_day(day: float) -> str:
    """A (possibly fractional) day number back to an ISO date, rounded to the nearest day."""
    return dt.date.fromordinal(math.floor(day + 0.5)).isoformat()


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation (numpy's default), tolerating +inf values.

    +inf stands for "never happened, later than any date": a quantile that touches one is
    +inf itself instead of numpy's nan. None for an empty sequence."""
    xs = sorted(values)
    if not xs:
        return None
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    frac = pos - lo
    if frac == 0 or xs[lo] == xs[lo + 1]:
        return float(xs[lo])
    if math.isinf(xs[lo + 1]):
        return math.inf
    return float(xs[lo] + frac * (xs[lo + 1] - xs[lo]))


def describe(values: Sequence[float]) -> dict:
    """n, mean, sd (n-1), min, max and the standard quantiles of numbers (all None when empty)."""
    n = len(values)
    out: dict = {"n": n, "mean": None, "sd": None, "min": None, "max": None}
    out.update({k: quantile(values, q) for k, q in QUANTILES.items()})
    if n:
        arr = np.asarray(values, dtype=float)
        out.update(mean=float(arr.mean()), sd=float(arr.std(ddof=1)) if n > 1 else 0.0,
                   min=float(arr.min()), max=float(arr.max()))
    return out


def date_quantiles(days: Sequence[float]) -> dict | None:
    """The standard quantiles of day numbers as ISO dates (+inf: NOT_REACHED); None when empty."""
    if not days:
        return None
    return {k: _date_text(quantile(days, q)) for k, q in QUANTILES.items()}


def _date_text(day: float | None) -> str | None:
    if day is None:
        return None
    return NOT_REACHED if math.isinf(day) else iso_day(day)


def distribution(values: Iterable) -> list[list]:
    """[value, count] pairs sorted by value: a compact histogram the report can redraw."""
    return [[v, c] for v, c in sorted(Counter(values).items())]


def sides_of(records: Sequence[dict]) -> list[str]:
    """The side ids of the records, in the scenario's order (the order of the players)."""
    sides: list[str] = []
    for r in records:
        for s in list(r.get("players") or {}) + list(r.get("loss_totals") or {}):
            if s not in sides:
                sides.append(s)
    return sides


# --------------------------------------------------------------------------------------------
# one variant

def summarize(records: list[dict], history: list[dict]) -> dict:
    """Everything the report says about one variant's games::

        n, sides, wins {side: proportion}, draws (proportion), verdicts [{winner, verdict, count, share}]
        score (describe), score_distribution [[score, count]], length {turns, seconds, seconds_total}
        corridor {opened, open_at_end (proportions), dates (quantiles), distribution}
        losses {side: {by_cause: {cause: spread}, total: spread}}    spread: mean, median, p05, p95
        marks [mark_summary(...) for every history mark]
        per_turn {dates, front|supply|losses: {side: band}, tracks: {id: band}}   band: mean, p10, p90

    A proportion is {count, n, share, ci: [low, high]} (95% Wilson)."""
    sides = sides_of(records)
    return {
        "n": len(records),
        "sides": sides,
        **outcomes(records, sides),
        "score": describe([r["score"] for r in records if r.get("score") is not None]),
        "score_distribution": distribution(r["score"] for r in records if r.get("score") is not None),
        "length": {"turns": describe([r["turns"] for r in records]),
                   "seconds": describe([r["seconds"] for r in records]),
                   "seconds_total": float(sum(r["seconds"] for r in records))},
        "corridor": corridor_summary(records),
        "losses": loss_summary(records, sides),
        "marks": [mark_summary(h, records) for h in history],
        "per_turn": per_turn_summary(records),
    }


def outcomes(records: Sequence[dict], sides: Sequence[str]) -> dict:
    """Wins of each side and draws (count, share, Wilson interval) and the verdict mix."""
    n = len(records)
    winners = Counter(r.get("winner") for r in records)
    mix = Counter((r.get("winner"), r.get("verdict")) for r in records)
    return {
        "wins": {s: proportion(winners[s], n) for s in sides},
        "draws": proportion(winners[None], n),
        "verdicts": [{"winner": w, "verdict": v, "count": c, "share": c / n}
                     for (w, v), c in sorted(mix.items(), key=lambda kv: -kv[1])],
    }


def corridor_summary(records: Sequence[dict]) -> dict:
    """How often the corridor opened, and when (quantiles among the games where it opened)."""
    opened = [day_number(r["corridor_opened"]) for r in records if r.get("corridor_opened")]
    return {
        "opened": proportion(len(opened), len(records)),
        "open_at_end": proportion(sum(bool(r.get("corridor_open_at_end")) for r in records), len(records)),
        "dates": date_quantiles(opened),
        "distribution": distribution(iso_day(d) for d in opened),
    }


def loss_summary(records: Sequence[dict], sides: Sequence[str]) -> dict:
    """Losses of each side: by cause and in total (mean, median, 5% and 95% over the games)."""
    out: dict = {}
    for side in sides:
        ledgers = [r.get("losses", {}).get(side, {}) for r in records]
        causes = list(dict.fromkeys(c for ledger in ledgers for c in ledger))
        out[side] = {
            "by_cause": {c: _spread([ledger.get(c, 0) for ledger in ledgers]) for c in causes},
            "total": _spread([r.get("loss_totals", {}).get(side, 0) for r in records]),
        }
    return out


def _spread(values: Sequence[float]) -> dict:
    d = describe(values)
    return {k: d[k] for k in ("mean", "median", "p05", "p95")}


# --------------------------------------------------------------------------------------------
# history benchmarks and calibration

def mark_summary(mark: dict, records: Sequence[dict]) -> dict:
    """One history benchmark over the games: how often and when (or how much) it happened,
    beside the historical figure, and the calibration verdict when the mark has accept_*.

    Dates: `quantiles` run over ALL games, a game where it never happened counting as later
    than any date (so the median is NOT_REACHED when fewer than half the games have it);
    `quantiles_happened` only over the games where it did. Numbers: both over the games with a
    value. Held marks: `happened` means the place was taken; `kept` is the complement."""
    values = [(r.get("benchmarks") or {}).get(mark["id"]) for r in records]
    is_date = mark["kind"] in DATE_KINDS
    present = [day_number(v) if is_date else float(v) for v in values if v is not None]
    n = len(records)
    out = {
        "id": mark["id"], "name": mark.get("name", mark["id"]), "kind": mark["kind"],
        "is_date": is_date, "n_games": n, "n_happened": len(present),
        "share": len(present) / n if n else None, "share_ci": list(wilson(len(present), n)),
        "history": {k: mark.get(k) for k in ("date", "earliest", "latest", "value", "low", "high")},
        "accept": {k: mark.get(f"accept_{k}") for k in ("from", "to", "share")},
        "source": mark.get("source"),
    }
    if is_date:
        everywhere = present + [math.inf] * (n - len(present))
        out.update(quantiles=date_quantiles(everywhere), quantiles_happened=date_quantiles(present),
                   distribution=distribution(iso_day(d) for d in present))
    else:
        q = describe(present)
        out.update(quantiles={k: q[k] for k in QUANTILES} if present else None, mean=q["mean"],
                   distribution=distribution(present))
        out["quantiles_happened"] = out["quantiles"]
    if mark["kind"] == "held":
        out["kept"] = proportion(n - len(present), n)
    out.update(calibrate(out))
    return out


def calibrate(summary: dict) -> dict:
    """The calibration verdict of a summarised mark: {"pass": True | False | None, "why": text}.

    The median must lie within accept_from..accept_to (dates: the median over all games, so a
    median "not reached" fails an accept_to); accept_share is the least share of games in which
    the mark happens (held: in which the place is kept). None: no criterion, or no data."""
    checks = [c for c in (_check_median(summary), _check_share(summary)) if c is not None]
    if not checks:
        return {"pass": None, "why": "no acceptance criterion"}
    verdicts = [ok for ok, _ in checks]
    result = None if None in verdicts else all(verdicts)
    return {"pass": result, "why": "; ".join(text for _, text in checks)}


def _check_median(s: dict) -> tuple[bool | None, str] | None:
    lo, hi = s["accept"]["from"], s["accept"]["to"]
    if lo is None and hi is None:
        return None
    wanted = _range_text(lo, hi, s["is_date"])
    median = (s["quantiles"] or {}).get("median")
    if median is None:
        return None, f"no game has a value (wanted {wanted})"
    if s["is_date"]:
        value = math.inf if median == NOT_REACHED else day_number(median)
        bounds = (day_number(str(lo)) if lo is not None else -math.inf,
                  day_number(str(hi)) if hi is not None else math.inf)
        shown = median if median != NOT_REACHED else \
            f"{NOT_REACHED} (happened in {s['n_happened']} of {s['n_games']} games)"
    else:
        value = median
        bounds = (lo if lo is not None else -math.inf, hi if hi is not None else math.inf)
        shown = _number_text(median)
    early, late = ("earlier than", "later than") if s["is_date"] else ("below", "above")
    show = str if s["is_date"] else _number_text
    if value < bounds[0]:
        return False, f"median {shown} is {early} {show(lo)}"
    if value > bounds[1]:
        return False, f"median {shown} is {late} {show(hi)}"
    return True, f"median {shown} is within {wanted}"


def _check_share(s: dict) -> tuple[bool, str] | None:
    least = s["accept"]["share"]
    if least is None:
        return None
    if s["kind"] == "held":
        share, what = s["kept"]["share"], "kept"
    else:
        share, what = s["share"], "happened"
    if share is None:
        return False, "no games"
    verb = "at least" if share >= least else "less than the required"
    return share >= least, f"{what} in {share:.0%} of games, {verb} {least:.0%}"


def _range_text(lo, hi, is_date: bool) -> str:
    show = (lambda x: str(x)) if is_date else _number_text
    if lo is not None and hi is not None:
        return f"{show(lo)} – {show(hi)}"
    return f"≥ {show(lo)}" if lo is not None else f"≤ {show(hi)}"


def _number_text(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


# --------------------------------------------------------------------------------------------
# per-turn series

def per_turn_summary(records: Sequence[dict]) -> dict:
    """Mean and 10%/90% band per turn index of every per-turn series, with the dates of the
    longest game. A game that ended early (sudden death) keeps its last value for the turns it
    did not play, so every turn averages over all games. The sample taken when the game is
    over carries the last turn's date in the record; here it is dated the game's final day."""
    played = [r for r in records if (r.get("per_turn") or {}).get("date")]
    if not played:
        return {"dates": [], **{g: {} for g in SERIES_GROUPS}}
    series = [r["per_turn"] for r in played]
    longest = max(played, key=lambda r: len(r["per_turn"]["date"]))
    dates = list(longest["per_turn"]["date"])
    if len(dates) > 1 and dates[-1] == dates[-2] and longest.get("final_date"):
        dates[-1] = longest["final_date"]
    out: dict = {"dates": dates}
    for group in SERIES_GROUPS:
        keys = list(dict.fromkeys(k for s in series for k in s.get(group, {})))
        out[group] = {k: _band([s[group][k] for s in series if s.get(group, {}).get(k)], len(dates))
                      for k in keys}
    return out


def _band(rows: Sequence[Sequence[float]], length: int) -> dict:
    """Mean, 10% and 90% per column of rows padded to `length` with their last value."""
    arr = np.array([list(r) + [r[-1]] * (length - len(r)) for r in rows], dtype=float)
    p10, p90 = np.percentile(arr, [10, 90], axis=0)
    return {"mean": _rounded(arr.mean(axis=0)), "p10": _rounded(p10), "p90": _rounded(p90)}


def _rounded(arr: np.ndarray) -> list[float]:
    return [round(float(x), 4) for x in arr]


# --------------------------------------------------------------------------------------------
# paired comparison of two variants

def compare(base: list[dict], variant: list[dict]) -> dict:
    """Paired comparison of a variant with the base: the games with the same seed face each
    other, so each test works on the per-seed differences (variant minus base).

    Metrics: the win of each side and the corridor opening (binary, exact McNemar), the score,
    the corridor date (a never-opened game counts as the campaign's end + 1 day) and each
    side's total losses (Wilcoxon signed-rank)."""
    by_seed = {r["seed"]: r for r in base}
    pairs = [(by_seed[r["seed"]], r) for r in variant if r["seed"] in by_seed]
    pairs.sort(key=lambda p: p[0]["seed"])
    sides = sides_of(base + variant)
    never = _campaign_end(base + variant) + 1
    metrics: dict = {}
    for side in sides:
        metrics[f"win_{side}"] = binary_metric(f"{side} wins", _values(pairs, lambda r: r.get("winner") == side))
    metrics["score"] = continuous_metric("score", _values(pairs, lambda r: r.get("score")))
    metrics["corridor_opened"] = binary_metric(
        "corridor opened", _values(pairs, lambda r: bool(r.get("corridor_opened"))))
    metrics["corridor_date"] = continuous_metric(
        "corridor date (never: the end + 1 day)",
        _values(pairs, lambda r: day_number(r["corridor_opened"]) if r.get("corridor_opened") else never),
        unit="date")
    for side in sides:
        metrics[f"losses_{side}"] = continuous_metric(
            f"{side} losses", _values(pairs, lambda r: (r.get("loss_totals") or {}).get(side)), unit="men")
    return {"n_pairs": len(pairs), "unpaired": {"base": len(base) - len(pairs), "variant": len(variant) - len(pairs)},
            "metrics": metrics}


def _campaign_end(records: Sequence[dict]) -> int:
    return max((day_number(r["final_date"]) for r in records if r.get("final_date")), default=0)


def _values(pairs: Sequence[tuple[dict, dict]], get: Callable[[dict], object]) -> list[tuple]:
    """(base value, variant value) of every pair where both are known."""
    out = [(get(b), get(v)) for b, v in pairs]
    return [(b, v) for b, v in out if b is not None and v is not None]


def continuous_metric(label: str, pairs: Sequence[tuple[float, float]], unit: str = "") -> dict:
    """Wilcoxon signed-rank test on paired values, with Cohen's d_z as the effect size."""
    d = np.array([v - b for b, v in pairs], dtype=float)
    sd = float(d.std(ddof=1)) if len(d) > 1 else None
    mean = float(d.mean()) if len(d) else None
    if mean is None or sd is None:
        d_z = None
    else:
        d_z = mean / sd if sd > 0 else (0.0 if mean == 0 else None)
    return _metric(label, "continuous", unit, pairs, d, "Wilcoxon signed-rank", wilcoxon_p(d), {"d_z": d_z})


def binary_metric(label: str, pairs: Sequence[tuple[bool, bool]]) -> dict:
    """Exact McNemar test on paired yes/no outcomes; effect sizes: the difference in
    proportions and the discordant-pair odds ratio (variant-only / base-only, None if
    no base-only pair)."""
    up = sum(1 for b, v in pairs if v and not b)
    down = sum(1 for b, v in pairs if b and not v)
    d = np.array([int(v) - int(b) for b, v in pairs], dtype=float)
    effect = {"diff_proportions": float(d.mean()) if len(d) else None,
              "odds_ratio": up / down if down else None,
              "variant_only": up, "base_only": down}
    return _metric(label, "binary", "share", pairs, d, "exact McNemar", mcnemar_p(up, down), effect)


def _metric(label: str, kind: str, unit: str, pairs: Sequence[tuple], d: np.ndarray, test: str,
            p: float | None, effect: dict) -> dict:
    n = len(pairs)
    mean_diff = float(d.mean()) if n else None
    sd_diff = float(d.std(ddof=1)) if n > 1 else None
    significant = p is not None and p < ALPHA
    direction = "none" if not significant or not mean_diff else ("up" if mean_diff > 0 else "down")
    return {
        "label": label, "kind": kind, "unit": unit, "n_pairs": n,
        "base_mean": float(np.mean([float(b) for b, _ in pairs])) if n else None,
        "variant_mean": float(np.mean([float(v) for _, v in pairs])) if n else None,
        "mean_diff": mean_diff, "ci": bootstrap_ci(d), "test": test, "p_value": p,
        "significant": significant, "effect": effect, "direction": direction,
        # the smallest difference these pairs could have shown (80% power, two-sided 5%): what a
        # "no" here does and does not rule out
        "sd_diff": sd_diff, "detectable": minimum_detectable_effect(sd_diff, n),
    }


def mcnemar_p(up: int, down: int) -> float:
    """Exact McNemar p-value: a two-sided binomial test of the discordant pairs against 1/2."""
    if up + down == 0:
        return 1.0
    return float(sps.binomtest(up, up + down, 0.5).pvalue)


def wilcoxon_p(d: np.ndarray) -> float | None:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (zeros dropped);
    1.0 when every difference is zero, None without data."""
    if len(d) == 0:
        return None
    if not np.any(d):
        return 1.0
    return float(sps.wilcoxon(d, zero_method="wilcox").pvalue)


def bootstrap_ci(d: np.ndarray, level: float = 0.95) -> list[float] | None:
    """Percentile bootstrap interval of the mean of `d` (fixed seed: the report is
    reproducible); None with fewer than two values."""
    n = len(d)
    if n < 2:
        return None
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    chunk = max(1, _BOOTSTRAP_CELLS // n)
    means: list[np.ndarray] = []
    for start in range(0, BOOTSTRAP_RESAMPLES, chunk):
        size = min(chunk, BOOTSTRAP_RESAMPLES - start)
        means.append(d[rng.integers(0, n, size=(size, n))].mean(axis=1))
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(np.concatenate(means), [tail, 100 - tail])
    return [float(lo), float(hi)]


# --------------------------------------------------------------------------------------------
# power

POWER = 0.8


def pairs_for_power(sd_diff: float, effect: float, *, alpha: float = ALPHA, power: float = POWER) -> float:
    """Pairs a two-sided paired t-test at level `alpha` needs to detect a mean difference of
    `effect` with probability `power`, when the paired differences have standard deviation
    `sd_diff` (the t quantiles at n-1 degrees of freedom, iterated from the normal
    approximation n = ((z_{1-alpha/2} + z_power) sd / effect)^2); inf for no effect."""
    if effect == 0 or not math.isfinite(sd_diff):
        return math.inf
    if sd_diff == 0:
        return 2.0
    k = abs(sd_diff / effect)
    n = ((sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)) * k) ** 2
    for _ in range(100):  # the t correction converges in a few steps
        df = max(n, 2.0) - 1
        nxt = ((sps.t.ppf(1 - alpha / 2, df) + sps.t.ppf(power, df)) * k) ** 2
        if abs(nxt - n) < 1e-9:
            break
        n = nxt
    return max(2.0, math.ceil(n - 1e-6))


def minimum_detectable_effect(sd_diff: float | None, n: int, *, alpha: float = ALPHA,
                              power: float = POWER) -> float | None:
    """The smallest mean difference a paired test on `n` pairs with differences of standard
    deviation `sd_diff` detects with probability `power` at level `alpha` (None without the data)."""
    if sd_diff is None or n < 2 or not math.isfinite(sd_diff):
        return None
    df = n - 1
    return float((sps.t.ppf(1 - alpha / 2, df) + sps.t.ppf(power, df)) * sd_diff / math.sqrt(n))


# --------------------------------------------------------------------------------------------
# sequential test


class SPRT:
    """Wald's sequential probability ratio test of "the variant shifts the score".

    A sign test on the paired score differences (variant minus base; ties carry no sign and
    are ignored): p, the chance a difference is positive, is 1/2 under "no shift". Two
    one-sided SPRTs run side by side, p = 1/2 against p = 1/2 + delta ("up") and against
    p = 1/2 - delta ("down"); each stops when its log-likelihood ratio leaves (B, A), with
    A = ln((1-beta)/alpha) and B = ln(beta/(1-alpha)). The verdict is "up" or "down" when that
    test crosses A, "no difference" when both cross B, None while the evidence is too thin.
    Once reached, the verdict stays; later updates are still counted."""

    def __init__(self, alpha: float = 0.05, beta: float = 0.05, delta: float = 0.15):
        if not (0 < alpha < 1 and 0 < beta < 1 and 0 < delta < 0.5):
            raise ValueError("SPRT needs 0 < alpha, beta < 1 and 0 < delta < 0.5")
        self.alpha, self.beta, self.delta = alpha, beta, delta
        self.upper = math.log((1 - beta) / alpha)
        self.lower = math.log(beta / (1 - alpha))
        self._more = math.log((0.5 + delta) / 0.5)   # LLR step when the difference agrees
        self._less = math.log((0.5 - delta) / 0.5)   # LLR step when it disagrees
        self.positives = self.negatives = self.ties = 0
        self._llr = {"up": 0.0, "down": 0.0}
        self._stopped: dict[str, str] = {}           # test -> "H0" | "H1"
        self._decision: str | None = None

    def update(self, diff: float) -> None:
        """Add one paired score difference (variant minus base)."""
        if diff == 0:
            self.ties += 1
            return
        positive = diff > 0
        self.positives += positive
        self.negatives += not positive
        for test in ("up", "down"):
            if test in self._stopped:
                continue
            agrees = positive == (test == "up")
            self._llr[test] += self._more if agrees else self._less
            if self._llr[test] >= self.upper:
                self._stopped[test] = "H1"
            elif self._llr[test] <= self.lower:
                self._stopped[test] = "H0"
        if self._decision is None:
            self._decision = self._verdict()

    def _verdict(self) -> str | None:
        for test in ("up", "down"):
            if self._stopped.get(test) == "H1":
                return test
        if self._stopped.get("up") == "H0" and self._stopped.get("down") == "H0":
            return "no difference"
        return None

    @property
    def decision(self) -> str | None:
        """None (keep playing), "up", "down" or "no difference"."""
        return self._decision

    @property
    def llr_up(self) -> float:
        """The log-likelihood ratio of p = 1/2 + delta against p = 1/2."""
        return self._llr["up"]

    @property
    def llr_down(self) -> float:
        """The log-likelihood ratio of p = 1/2 - delta against p = 1/2."""
        return self._llr["down"]

    @property
    def bounds(self) -> tuple[float, float]:
        """(B, A): the lower (accept "no shift") and upper (accept the shift) bounds."""
        return (self.lower, self.upper)

    @property
    def n(self) -> int:
        """The number of differences with a sign (ties are not counted)."""
        return self.positives + self.negatives

    def expected_pairs(self, max_pairs: int = 10_000, runs: int = 4000, seed: int = 20261203) -> float | None:
        """The pairs the whole test is expected to take (at most `max_pairs`), by simulating it:
        `runs` sequences of pairs whose chance of a positive, negative or tied difference is what
        the pairs seen so far show (a fixed seed: the estimate is reproducible). None before any
        pair with a sign. Wald's formula for one SPRT does not fit here: "no difference" needs
        both one-sided tests to stop, and they move in opposite directions on every pair."""
        seen = self.n + self.ties
        if self.n == 0:
            return None
        probs = np.array([self.positives, self.negatives, self.ties], dtype=float) / seen
        rng = np.random.default_rng(seed)
        stop = np.full(runs, float(max_pairs))
        undecided = np.ones(runs, dtype=bool)
        llr = {"up": np.zeros(runs), "down": np.zeros(runs)}
        done = {"up": np.zeros(runs, dtype=bool), "down": np.zeros(runs, dtype=bool)}
        h1 = np.zeros(runs, dtype=bool)
        step = {"up": np.array([self._more, self._less, 0.0]), "down": np.array([self._less, self._more, 0.0])}
        for k in range(1, max_pairs + 1):
            if not undecided.any():
                break
            outcome = rng.choice(3, size=runs, p=probs)
            for test in ("up", "down"):
                live = undecided & ~done[test]
                llr[test][live] += step[test][outcome[live]]
                crossed_up = live & (llr[test] >= self.upper)
                crossed_down = live & (llr[test] <= self.lower)
                h1 |= crossed_up
                done[test] |= crossed_up | crossed_down
            now = undecided & (h1 | (done["up"] & done["down"]))
            stop[now] = k
            undecided &= ~now
        return float(stop.mean())

    def to_dict(self) -> dict:
        """The test's settings and state, JSON-safe."""
        return {"test": "SPRT (sign test on paired score differences)", "alpha": self.alpha,
                "beta": self.beta, "delta": self.delta, "n": self.n, "positives": self.positives,
                "negatives": self.negatives, "ties": self.ties, "llr_up": self.llr_up,
                "llr_down": self.llr_down, "bounds": list(self.bounds), "decision": self.decision}


# --------------------------------------------------------------------------------------------
# the pilot estimate of power, as the games come in

class PowerWatch:
    """How many pairs a batch needs, estimated from the pairs it has played so far.

    Every variant's games are paired with the base's by seed; from the spread of the paired score
    differences so far, :func:`pairs_for_power` says how many pairs a paired test needs to detect
    a score difference of `effect` (80% power, two-sided 5%). With `sprt` (a sequential test of
    one variant), it also says how many pairs that test is expected to take
    (:meth:`SPRT.expected_pairs`, refreshed every tenth new pair)."""

    def __init__(self, base: str, effect: float, *, sprt: bool = False, max_pairs: int = 10_000):
        if effect <= 0 or not math.isfinite(effect):
            raise ValueError("the effect to detect is a positive number of score points")
        self.base, self.effect, self.sprt, self.max_pairs = base, effect, sprt, max_pairs
        self._scores: dict[str, dict[int, float]] = {}
        self._expected: float | None = None
        self._expected_at = 0

    def add(self, record: dict) -> None:
        if record.get("score") is not None:
            self._scores.setdefault(record["variant"], {})[record["seed"]] = float(record["score"])

    def diffs(self) -> dict[str, list[float]]:
        """Variant -> its paired score differences with the base so far (seed order)."""
        base = self._scores.get(self.base, {})
        return {name: [s[k] - base[k] for k in sorted(set(s) & set(base))]
                for name, s in self._scores.items() if name != self.base}

    def estimate(self) -> dict:
        """Per variant: pilot pairs, sd of the differences and the pairs needed; and, with the
        SPRT, its expected length."""
        out: dict = {"effect": self.effect, "power": POWER, "alpha": ALPHA, "variants": {}}
        for name, d in self.diffs().items():
            sd = statistics_sd(d)
            out["variants"][name] = {"pilot_pairs": len(d), "sd_diff": sd,
                                     # no spread yet (every pair alike): nothing to estimate from
                                     "pairs_needed": None if not sd else pairs_for_power(sd, self.effect)}
        if self.sprt:
            out["sprt_expected_pairs"] = self._sprt_expected()
        return out

    def _sprt_expected(self) -> float | None:
        d = next(iter(self.diffs().values()), [])
        if len(d) >= max(2, self._expected_at * 1.1) or (d and self._expected is None):
            test = SPRT()
            for x in d:
                test.update(x)
            self._expected, self._expected_at = test.expected_pairs(self.max_pairs), len(d)
        return self._expected

    def text(self) -> str:
        """A short line for the progress bar (empty until two pairs are known)."""
        est = self.estimate()
        needed = [v for v in est["variants"].values() if v["pairs_needed"] is not None]
        if not needed:
            return ""
        worst = max(needed, key=lambda v: v["pairs_needed"])
        n = worst["pairs_needed"]
        text = f"power: {'∞' if math.isinf(n) else f'{n:.0f}'} pairs for ±{self.effect:g} ({worst['pilot_pairs']} seen)"
        if est.get("sprt_expected_pairs") is not None:
            text += f", SPRT ~{est['sprt_expected_pairs']:.0f} pairs"
        return text


def statistics_sd(d: Sequence[float]) -> float | None:
    """The sample standard deviation (None with fewer than two values)."""
    return float(np.std(np.asarray(d, dtype=float), ddof=1)) if len(d) > 1 else None
