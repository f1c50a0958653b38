"""The league: every player on each side against every player on the other side, on paired seeds.

A two-sided scenario's league plays one *pairing* per (player on the first side, player on the
second side), each a balance variant with those two profiles, all on the same seeds: game i of
every pairing starts from seed S+i. So for a side S, two of its players A and B have faced the
same opponents on the same seeds, and :func:`pairwise` compares them game by game.

What a player's result means for a side: the scenario's score is ``victory.score_side``'s, so a
side's *own score* is that score for the score side and its negation for the other side (the
less the score side scores, the better the other side did). A win is a game the side won, a draw
a game nobody won.

The analysis (:func:`analyse`) reads the games' records alone:

- :func:`cross_table`: for each side, each player against each opponent: games, the mean own
  score with its 95% bootstrap interval, and win, draw and loss shares with 95% Wilson intervals;
- :func:`pairwise`: "A is stronger than B as S": on the same seeds against the same opponents, S's
  own score is higher with A than with B, by a two-sided Wilcoxon signed-rank test at p < 0.05;
  where no difference shows, the smallest one the pairs would have shown (80% power);
- :func:`ratings`: a Bradley-Terry rating of every (side, player), from the games' results (a draw
  is half a win to each), on the Elo scale (400 log10 of the strength ratio), the mean rating 0,
  with 95% intervals from resampling the seeds (every pairing's game on a seed together, so the
  pairing stays intact). Each pair of entities that met gets one virtual draw, a weak prior that
  keeps a player who won every game finite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..rules.engine import Dice
from . import stats
from .runner import Variant

#: the built-in players before the AI profiles: the random player and the greedy baseline
BASE_PLAYERS = ("random", "simple")

RATING_RESAMPLES = 400          # seed resamples for the rating intervals
RATING_SEED = 1944              # their generator's seed: the report is reproducible
PRIOR_DRAWS = 1.0               # virtual draws between each pair of entities that met
ELO = 400 / math.log(10)        # Elo points per unit of log strength


class LeagueError(ValueError):
    """A league that cannot be played as asked (the message says why)."""


@dataclass(frozen=True)
class Member:
    """A league player: its name in the tables and the profile the players are built from (a
    built-in name or a profile file's path)."""

    name: str
    profile: str


def default_members() -> list[Member]:
    """Every built-in player: random, simple, each AI profile and the search player."""
    from ..ai import SEARCH
    from ..ai.profile import builtin_profiles

    return [Member(n, n) for n in (*BASE_PLAYERS, *builtin_profiles(), SEARCH)]


def member(text: str) -> Member:
    """A member from a command-line word: a built-in name, the search player with its base and
    budget (``search:cautious@20``, named as written), or a profile file (named by its stem)."""
    from ..ai import parse_search

    text = text.strip()
    try:
        searching = parse_search(text) is not None
    except ValueError:  # a bad budget: the league's check of every player says so
        searching = True
    if not searching and (text.endswith((".yaml", ".yml")) or Path(text).is_file()):
        return Member(Path(text).stem, text)
    return Member(text, text)


def members_from(texts: Sequence[str]) -> list[Member]:
    """Members from words, in order, without repeats; two different files with one stem are an error."""
    out: dict[str, Member] = {}
    for text in texts:
        m = member(text)
        if not m.name:
            raise LeagueError("an empty player name")
        if m.name in out and out[m.name].profile != m.profile:
            raise LeagueError(f"two players are named '{m.name}' ({out[m.name].profile} and {m.profile}); "
                              "rename one of the profile files")
        out[m.name] = m
    return list(out.values())


def pairing_name(sides: Sequence[str], a: str, b: str) -> str:
    return f"{sides[0]}={a} v {sides[1]}={b}"


def pairings(path: str, sides: Sequence[str], players: dict[str, list[Member]],
             dice: Dice = "keyed") -> dict[str, tuple[Variant, dict[str, str]]]:
    """{pairing name: (its variant, {side: player name})}, one per (first side's player, second
    side's player), in table order."""
    if len(sides) != 2:
        raise LeagueError(f"a league needs a scenario of two sides; this one has {len(sides)} "
                          f"({', '.join(sides)})")
    s0, s1 = sides
    out = {}
    for a in players[s0]:
        for b in players[s1]:
            name = pairing_name(sides, a.name, b.name)
            out[name] = (Variant(name, path, {s0: a.profile, s1: b.profile}, dice=dice), {s0: a.name, s1: b.name})
    return out


def label(records: Sequence[dict], names: dict[str, tuple[Variant, dict[str, str]]]) -> None:
    """Mark each record with its league players ({side: player name}) under 'league'."""
    for r in records:
        if r.get("variant") in names:
            r["league"] = dict(names[r["variant"]][1])


# ---------------------------------------------------------------------------------------------
# the games as a table

@dataclass
class Games:
    """The finished games of a league as columns: for game g, the first side's player a[g] and the
    second side's b[g] (indices into the side's player list), its seed, the score side's score and
    the first side's result (1 a win, 0.5 a draw, 0 a loss)."""

    sides: list[str]
    players: dict[str, list[str]]
    score_side: str
    a: np.ndarray
    b: np.ndarray
    seed: np.ndarray
    score: np.ndarray
    result0: np.ndarray
    winner: list[str | None]

    def own_score(self, side: str) -> np.ndarray:
        """Each game's score as `side`'s own: the score side's score, negated for the other side."""
        return self.score if side == self.score_side else -self.score

    def index(self, side: str) -> np.ndarray:
        return self.a if side == self.sides[0] else self.b


def games_table(records: Sequence[dict], sides: Sequence[str], players: dict[str, list[str]],
                score_side: str) -> Games:
    """The records of a league (each with its 'players' {side: name}) as a :class:`Games`; a record
    whose players are not in the league, or without a score, is left out."""
    s0, s1 = sides
    pos = {s: {name: k for k, name in enumerate(players[s])} for s in sides}
    rows = []
    for r in records:
        who = r.get("league") or {}
        i, j = pos[s0].get(str(who.get(s0))), pos[s1].get(str(who.get(s1)))
        if i is None or j is None or not isinstance(r.get("score"), (int, float)):
            continue
        w = r.get("winner")
        rows.append((i, j, int(r["seed"]), float(r["score"]), 1.0 if w == s0 else 0.0 if w == s1 else 0.5, w))
    cols = list(zip(*rows)) if rows else [(), (), (), (), (), ()]
    return Games(list(sides), {s: list(players[s]) for s in sides}, score_side,
                 np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.int64),
                 np.array(cols[2], dtype=np.int64), np.array(cols[3], dtype=np.float64),
                 np.array(cols[4], dtype=np.float64), list(cols[5]))


# ---------------------------------------------------------------------------------------------
# the cross-table

def _share_block(results: np.ndarray) -> dict:
    """Win, draw and loss shares (95% Wilson) of a side's results (1, 0.5, 0)."""
    n = len(results)
    return {"win": stats.proportion(int(np.sum(results == 1.0)), n),
            "draw": stats.proportion(int(np.sum(results == 0.5)), n),
            "loss": stats.proportion(int(np.sum(results == 0.0)), n)}


def _score_block(own: np.ndarray, score: np.ndarray) -> dict:
    return {"n": len(own),
            "own_score": {"mean": float(own.mean()) if len(own) else None, "ci": stats.bootstrap_ci(own)},
            "score": {"mean": float(score.mean()) if len(score) else None,
                      "median": stats.quantile(score.tolist(), 0.5)}}


def cross_table(g: Games) -> dict:
    """{side: {player: {"total": block, "vs": {opponent: block}}}}: games, own score (mean, 95%
    bootstrap interval), the score side's score (mean, median) and win/draw/loss shares."""
    out: dict[str, dict] = {}
    for k, side in enumerate(g.sides):
        other = g.sides[1 - k]
        mine, theirs = g.index(side), g.index(other)
        own = g.own_score(side)
        res = g.result0 if k == 0 else 1.0 - g.result0
        table: dict[str, dict] = {}
        for i, name in enumerate(g.players[side]):
            sel = mine == i
            row = {"total": {**_score_block(own[sel], g.score[sel]), **_share_block(res[sel])}, "vs": {}}
            for j, opp in enumerate(g.players[other]):
                cell = sel & (theirs == j)
                row["vs"][opp] = {**_score_block(own[cell], g.score[cell]), **_share_block(res[cell])}
            table[name] = row
        out[side] = table
    return out


# ---------------------------------------------------------------------------------------------
# pairwise comparisons

def paired_differences(g: Games, side: str, a: int, b: int) -> np.ndarray:
    """`side`'s own score with player a minus with player b, over every (opponent, seed) on which
    both played, in (opponent, seed) order."""
    k = g.sides.index(side)
    mine, theirs = g.index(side), g.index(g.sides[1 - k])
    own = g.own_score(side)
    key = theirs * (int(g.seed.max(initial=0)) + 1) + g.seed if len(g.seed) else g.seed
    with_a = dict(zip(key[mine == a].tolist(), own[mine == a].tolist()))
    with_b = dict(zip(key[mine == b].tolist(), own[mine == b].tolist()))
    both = sorted(set(with_a) & set(with_b))
    return np.array([with_a[x] - with_b[x] for x in both], dtype=np.float64)


def compare_players(d: np.ndarray, a: str, b: str) -> dict:
    """The comparison of players a and b from the paired differences d (a minus b)."""
    n = len(d)
    p = stats.wilcoxon_p(d)
    sd = stats.statistics_sd(d.tolist())
    stronger = None
    if p is not None and p < stats.ALPHA and np.any(d):
        stronger = a if float(np.mean(d)) > 0 else b if float(np.mean(d)) < 0 else None
    return {"a": a, "b": b, "pairs": n, "mean_diff": float(d.mean()) if n else None,
            "ci": stats.bootstrap_ci(d), "sd_diff": sd, "p_value": p, "stronger": stronger,
            "a_better": int(np.sum(d > 0)), "b_better": int(np.sum(d < 0)), "ties": int(np.sum(d == 0)),
            "detectable": stats.minimum_detectable_effect(sd, n)}


def pairwise(g: Games) -> dict:
    """{side: [comparison of every two of its players]} (see :func:`compare_players`)."""
    out: dict[str, list] = {}
    for side in g.sides:
        names = g.players[side]
        out[side] = [compare_players(paired_differences(g, side, i, j), names[i], names[j])
                     for i in range(len(names)) for j in range(i + 1, len(names))]
    return out


# ---------------------------------------------------------------------------------------------
# ratings

def bradley_terry(wins: np.ndarray, games: np.ndarray, *, prior: float = PRIOR_DRAWS,
                  tol: float = 1e-10, max_iter: int = 100_000) -> np.ndarray:
    """Log strengths (mean 0) of the Bradley-Terry model by Hunter's MM algorithm: wins[i, j] is
    what i scored against j (a draw is half a win), games[i, j] the games between them (either
    way round). Each pair that met gets `prior` virtual draws. An entity that scored nothing
    against anyone, having met nobody, gets log strength 0. Leading dimensions are independent
    leagues fitted together (the resamples of :func:`ratings`)."""
    swap = np.swapaxes
    met = (games + swap(games, -1, -2)) > 0
    w = wins + prior * 0.5 * met
    n = games + swap(games, -1, -2) + prior * met
    total = w.sum(axis=-1)
    active = total > 0
    count = np.maximum(active.sum(axis=-1, keepdims=True), 1)
    p = np.ones(total.shape)
    logs = np.zeros(total.shape)
    for _ in range(max_iter):
        denom = (n / (p[..., :, None] + p[..., None, :])).sum(axis=-1)
        new = np.where(active & (denom > 0), total / np.where(denom > 0, denom, 1.0), 1.0)
        new_logs = np.log(new)
        new_logs -= np.where(active, new_logs, 0.0).sum(axis=-1, keepdims=True) / count
        new_logs = np.where(active, new_logs, 0.0)
        done = np.max(np.abs(new_logs - logs)) < tol
        logs, p = new_logs, np.exp(new_logs)
        if done:
            break
    return logs


def _result_matrices(g: Games, weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(wins, games) between the league's entities (the first side's players, then the second's),
    each game weighted (a seed resample's counts)."""
    n0, n1 = len(g.players[g.sides[0]]), len(g.players[g.sides[1]])
    size = n0 + n1
    i, j = g.a, n0 + g.b
    wt = np.ones(len(i)) if weight is None else weight
    wins = np.zeros(size * size)
    games = np.zeros(size * size)
    np.add.at(wins, i * size + j, wt * g.result0)
    np.add.at(wins, j * size + i, wt * (1.0 - g.result0))
    np.add.at(games, i * size + j, wt)
    return wins.reshape(size, size), games.reshape(size, size)


def ratings(g: Games, *, resamples: int = RATING_RESAMPLES) -> dict:
    """{side: [{player, rating, ci, games, score}]}, best first: the Bradley-Terry ratings on the
    Elo scale with 95% intervals from resampling the seeds."""
    entities = [(s, name) for s in g.sides for name in g.players[s]]
    wins, games = _result_matrices(g)
    point = bradley_terry(wins, games) * ELO
    seeds, seed_pos = np.unique(g.seed, return_inverse=True)
    draws = np.empty((0, len(entities)))
    if len(seeds) >= 2 and resamples > 0:
        rng = np.random.default_rng(RATING_SEED)
        picks = rng.integers(0, len(seeds), (resamples, len(seeds)))
        counts = np.stack([np.bincount(row, minlength=len(seeds)) for row in picks]).astype(float)
        matrices = [_result_matrices(g, c[seed_pos]) for c in counts]
        draws = bradley_terry(np.stack([m[0] for m in matrices]), np.stack([m[1] for m in matrices])) * ELO
    played = games.sum(axis=1) + games.sum(axis=0)
    scored = wins.sum(axis=1)
    out: dict[str, list] = {s: [] for s in g.sides}
    for e, (side, name) in enumerate(entities):
        ci = ([float(np.percentile(draws[:, e], 2.5)), float(np.percentile(draws[:, e], 97.5))]
              if len(draws) else None)
        share = float(scored[e] / played[e]) if played[e] else None
        out[side].append({"player": name, "rating": float(point[e]), "ci": ci, "games": int(played[e]),
                          "points": float(scored[e]), "points_share": share})
    for side in out:
        out[side].sort(key=lambda r: -r["rating"])
    return out


RATINGS_METHOD = ("Bradley-Terry ratings of every (side, player) from the games' results (a draw is half a win "
                  "to each), fitted by the MM algorithm with one virtual draw between each pair that met, on the "
                  "Elo scale (a difference of 400 is 10:1 odds of winning), the mean of all ratings 0. A rating "
                  "compares players of the same side (they met the same opponents); the two sides' levels also "
                  "carry the scenario's balance. 95% intervals from resampling the seeds.")


def analyse(records: Sequence[dict], sides: Sequence[str], players: dict[str, list[str]], score_side: str) -> dict:
    """Everything the league reports, from its records."""
    g = games_table(records, sides, players, score_side)
    return {"sides": list(sides), "score_side": score_side, "players": {s: list(players[s]) for s in sides},
            "games": len(g.a), "cross_table": cross_table(g), "pairwise": pairwise(g), "ratings": ratings(g),
            "ratings_method": RATINGS_METHOD,
            "stronger_means": (f"on the same seeds against the same opponents, the side's own score (the "
                               f"score of {score_side}, negated for the other side) is higher with A than "
                               f"with B, by a two-sided Wilcoxon signed-rank test at p < {stats.ALPHA:g}")}
