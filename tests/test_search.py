"""The search player (game/ai/search.py): its plans, its budget, its evaluation, that it cannot
see the game's dice, and that it finds what its base profile misses."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from game.ai import ProfileError, make_player, make_players, parse_search
from game.ai.operational import OperationalAI
from game.ai.profile import load_profile
from game.ai.search import SearchAI, evaluate, plan_profiles
from game.diagnostics import InputError
from game.rules.actions import Attack, EndPhase
from game.rules.context import load_context
from game.rules.engine import Game, score
from game.rules.players import play_game
from worlds import forced, place, unit, world

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "examples" / "henan_1944.yaml"


def _profile(tmp_path, text: str, name: str = "mine"):
    f = tmp_path / f"{name}.yaml"
    f.write_text(text)
    return f


# -- plans and their validation -------------------------------------------------------------------


def test_the_plans_are_the_profile_then_each_scaled_variation(tmp_path):
    f = _profile(tmp_path, "extends: defensive\nsearch_portfolio:\n  - {counter_odds: 0.5, garrison: 2.6}\n"
                           "  - {retreat_odds: 2}\n")
    p = load_profile(str(f))
    plans = plan_profiles(p)
    assert [x.name for x in plans] == ["mine", "mine#1", "mine#2"]
    assert plans[0] is p
    assert plans[1].counter_odds == pytest.approx(p.counter_odds * 0.5)
    assert plans[1].garrison == 3 and isinstance(plans[1].garrison, int)  # whole numbers stay whole
    assert plans[2].retreat_odds == pytest.approx(p.retreat_odds * 2) and plans[2].counter_odds == p.counter_odds


def test_the_builtin_profiles_carry_a_portfolio_that_stays_in_bounds():
    for name in ("default", "offensive", "defensive", "aggressive", "cautious"):
        plans = plan_profiles(load_profile(name))
        assert len(plans) >= 3, name
        assert len({(x.min_odds, x.counter_odds, x.retreat_odds, x.caution) for x in plans}) == len(plans), name


@pytest.mark.parametrize("line, message", [
    ("  - {agression: 2}", "'agression' is not a numeric setting a plan can scale"),
    ("  - {hold_to_the_last: 2}", "'hold_to_the_last' is not a numeric setting"),
    ("  - {min_odds: 0}", "the factor of min_odds must be above 0"),
    ("  - {aggression: 3}", "plan 1 scales aggression out of its bounds"),
])
def test_a_bad_plan_is_reported_at_the_portfolio(tmp_path, line, message):
    f = _profile(tmp_path, f"extends: default\nsearch_portfolio:\n{line}\n")
    with pytest.raises(InputError) as err:
        load_profile(str(f))
    text = "\n".join(d.format() for d in err.value.diagnostics)
    assert f"{f}:3:" in text and message in text, text


def test_the_player_names_and_their_budgets():
    assert parse_search("default") is None and parse_search("searching") is None
    assert parse_search("search") == ("default", None, None)
    assert parse_search("search:cautious@20") == ("cautious", 20, None)
    assert parse_search("search@1.5s") == ("default", None, 1.5)
    for bad in ("search@0", "search@x", "search@-1s", "search@99999"):
        with pytest.raises(ProfileError, match="bad search budget"):
            parse_search(bad)
    ctx = load_context(EXAMPLE)
    p = make_player(ctx, "japan", "search@3", 0)
    assert isinstance(p, SearchAI) and p.rollouts == 3 and p.profile.name == "offensive"
    assert make_player(ctx, "china", "search", 0).profile.name == "defensive"
    capped = make_player(ctx, "china", "search@5s", 0, search_seconds=1.0)
    assert isinstance(capped, SearchAI) and capped.seconds == 1.0  # the window's budget wins
    quick = make_player(ctx, "china", "search@0.25s", 0, search_seconds=1.0)
    assert isinstance(quick, SearchAI) and quick.seconds == 0.25  # a shorter budget of its own stays
    assert make_player(ctx, "china", "search", 0, search_seconds=1.0).seconds == 1.0


def test_a_profile_that_says_search_plays_as_the_search_player(tmp_path):
    f = _profile(tmp_path, "extends: offensive\nsearch: true\nsearch_rollouts: 7\n")
    scenario = tmp_path / EXAMPLE.name  # a profile file must lie in the scenario's folder tree
    shutil.copy(EXAMPLE, scenario)
    p = make_player(load_context(scenario), "japan", str(f), 0)
    assert isinstance(p, SearchAI) and p.rollouts == 7
    with pytest.raises(ProfileError, match="outside the scenario's folder tree"):
        make_player(load_context(EXAMPLE), "japan", str(f), 0)


# -- the evaluation ---------------------------------------------------------------------------------


def test_the_evaluation_is_the_score_from_each_sides_view_plus_force_and_supply():
    ctx = load_context(EXAMPLE)
    game = Game.new(ctx, 0)
    p = load_profile("default")
    flat = p.model_copy(update={"search_force_weight": 0.0, "search_supply_weight": 0.0})
    total = score(ctx, game.state).total
    me = ctx.side_index[ctx.scenario.victory.score_side]
    assert evaluate(ctx, game.state, me, flat) == pytest.approx(total)
    assert evaluate(ctx, game.state, 1 - me, flat) == pytest.approx(-total)
    supply_only = flat.model_copy(update={"search_supply_weight": 10.0})
    assert evaluate(ctx, game.state, me, supply_only) > evaluate(ctx, game.state, me, flat)


# -- searching ---------------------------------------------------------------------------------------


def _duel(tmp_path, strength_cn: int):
    """Japan's 20,000 men next to a Chinese division; every attack makes the defender retreat."""
    return world(tmp_path, cols=6, rows=3,
                 units=[unit("jp", "japan", 1, 1, strength=20000), unit("cn", "china", 2, 1, strength=strength_cn)],
                 places=[place("town", 4, 1, owner="china")],
                 ai={"japan": {"role": "offensive", "axes": [{"name": "east", "units": ["jp"],
                                                                 "objectives": ["town"]}]}},
                 combat=forced("dr"))


def test_the_search_finds_the_attack_its_cautious_profile_would_not_make(tmp_path):
    ctx = _duel(tmp_path, 10000)  # 2:1, below the profile's 3:1
    f = _profile(tmp_path, "extends: offensive\nmin_odds: 3\nsearch_rollouts: 4\n"
                           "search_portfolio:\n  - {min_odds: 0.5}\n")
    game = Game.new(ctx, 0)
    plain = OperationalAI(load_profile(str(f)), seed=0)
    assert not isinstance(plain.choose(game, game.legal_actions()), Attack)
    searcher = make_player(ctx, "japan", f"search:{f}", 0)
    action = searcher.choose(game, game.legal_actions())
    assert isinstance(action, Attack), searcher.last
    assert searcher.last["chosen"] == 1 and searcher.last["rollouts"] == 4
    assert searcher.last["values"][1] > searcher.last["values"][0]


def test_the_search_keeps_its_profile_where_the_plans_do_not_differ(tmp_path):
    ctx = _duel(tmp_path, 2000)  # 10:1: every plan attacks alike
    f = _profile(tmp_path, "extends: offensive\nsearch_rollouts: 6\nsearch_portfolio:\n  - {min_odds: 0.5}\n")
    searcher = make_player(ctx, "japan", f"search:{f}", 0)
    game = Game.new(ctx, 0)
    assert isinstance(searcher.choose(game, game.legal_actions()), Attack)
    assert searcher.last["chosen"] == 0 and searcher.last["values"][0] == searcher.last["values"][1]


def test_the_search_never_touches_the_game_or_its_dice():
    """The simulations roll their own dice: the game's state, its draws and its hash are as they
    were, and the same game played by the plain profile and by the search rolls the same dice for
    the same attack (the search cannot read the roll it is about to get)."""
    ctx = load_context(EXAMPLE)
    game = Game.new(ctx, 5)
    players = make_players(ctx, {"japan": "search@4", "china": "search@4"}, 5)
    for _ in range(80):
        if game.over:
            break
        before = (game.state.state_hash(), game.state.seed, game.state.rolls, dict(game.state.draws))
        action = players[game.side_to_move()].choose(game, game.legal_actions())
        assert (game.state.state_hash(), game.state.seed, game.state.rolls, game.state.draws) == before
        game.apply(action)


def test_the_time_budget_stops_after_one_simulation_of_each_plan():
    ctx = load_context(EXAMPLE)
    game = Game.new(ctx, 2)
    searcher = make_player(ctx, "japan", "search@0.000001s", 0)
    assert isinstance(searcher, SearchAI)
    searcher.choose(game, game.legal_actions())
    assert searcher.last["rollouts"] == len(searcher.plans)


def test_search_games_replay_from_the_seed_and_actions():
    ctx = load_context(EXAMPLE)
    hashes, actions = [], []
    for _ in range(2):
        game = Game.new(ctx, 9)
        actions.append(play_game(game, make_players(ctx, {"japan": "search@4", "china": "search@4"}, 9)))
        hashes.append(game.state.state_hash())
    assert hashes[0] == hashes[1]
    replay = Game.new(ctx, 9)
    for a in actions[0]:
        replay.apply(a)
    assert replay.state.state_hash() == hashes[0] and replay.over


def test_the_command_line_takes_a_search_budget():
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), "simulate", str(EXAMPLE), "--seed", "1",
                          "--player", "japan=search@3", "--player", "china=search:cautious@2"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    bad = subprocess.run([sys.executable, str(ROOT / "main.py"), "simulate", str(EXAMPLE),
                          "--player", "japan=search@lots"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "bad search budget '@lots'" in bad.stderr and "Traceback" not in bad.stderr


def test_end_phase_is_still_the_last_word():
    """A phase the search plays ends with EndPhase, as every player's does."""
    ctx = load_context(EXAMPLE)
    game = Game.new(ctx, 3)
    searcher = make_player(ctx, "japan", "search@2", 3)
    side = game.side_to_move()
    last = None
    while game.side_to_move() == side and not game.over:
        last = searcher.choose(game, game.legal_actions())
        game.apply(last)
    assert last == EndPhase()
