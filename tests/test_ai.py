"""The computer players: profiles, the player protocol, and the operational AI's behaviour in tiny
worlds (it attacks at good odds, advances on its objective, falls back from overwhelming odds,
holds the places of its plan), plus whole games on the example scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from game.ai import ProfileError, make_player, make_players
from game.ai.operational import OperationalAI, cost_field
from game.ai.profile import builtin_profiles, distance_scale, load_profile
from game.diagnostics import InputError
from game.rules.actions import Attack, EndPhase, Entrench, Evacuate, Move, RailMove
from game.rules.context import load_context
from game.rules.engine import Game, preview
from game.rules.players import play_game
from game.rules.state import ACTIVE
from game.scenario import records
from worlds import HEX_KM, combat_table, forced, hex_index, place, pos, unit, world

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "scenarios" / "examples" / "henan_1944.yaml"


# -- profiles -------------------------------------------------------------------------------------


def test_builtin_profiles_load_and_extend_the_default():
    assert {"default", "aggressive", "cautious", "offensive", "defensive"} <= set(builtin_profiles())
    default, aggressive = load_profile("default"), load_profile("aggressive")
    assert aggressive.min_odds < default.min_odds and aggressive.caution < default.caution
    assert aggressive.garrison == default.garrison  # inherited
    assert load_profile("cautious").retreat_odds < default.retreat_odds


def test_a_profile_file_may_extend_a_builtin(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("extends: cautious\nmin_odds: 4\n")
    p = load_profile(str(f))
    assert (p.name, p.min_odds, p.caution) == ("mine", 4.0, load_profile("cautious").caution)


def test_a_bad_profile_points_at_each_mistake(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("description: typos\nmin_odds: -1\nagression: 0.3\n")
    with pytest.raises(InputError) as err:
        load_profile(str(f))
    lines = [d.format() for d in err.value.diagnostics]
    assert any(line.startswith(f"{f}:2:11: error: min_odds") for line in lines), lines
    assert any(line.startswith(f"{f}:3:") and "agression" in line and "aggression" in line for line in lines), lines


def test_an_unknown_profile_name_lists_the_choices():
    with pytest.raises(ProfileError, match="unknown AI profile 'bold'.*aggressive"):
        make_player(load_context(EXAMPLE), "japan", "bold", 0)


def test_default_means_the_profile_the_scenario_names_for_the_side():
    ctx = load_context(EXAMPLE)
    players = make_players(ctx, {"china": "cautious"}, 3)
    assert isinstance(players["japan"], OperationalAI) and players["japan"].name == "offensive"
    assert players["china"].name == "cautious"
    assert make_player(ctx, "china", "random", 0).name == "random"


# -- behaviour in tiny worlds ------------------------------------------------------------------------


def _plan(objectives, hold=(), role="offensive"):
    return {"japan": {"role": role, "hold": list(hold),
                      "axes": [{"name": "east", "units": ["jp"], "objectives": list(objectives)}]}}


def _first_action(ctx, side="japan", profile="default", seed=0):
    game = Game.new(ctx, seed)
    if side != game.side_to_move():
        game.apply(EndPhase())
    return game, make_player(ctx, side, profile, seed).choose(game, game.legal_actions())


def test_it_attacks_a_weak_enemy_next_to_it(tmp_path):
    ctx = world(tmp_path, cols=6, rows=3, units=[unit("jp", "japan", 1, 1, strength=30000),
                                                 unit("cn", "china", 2, 1, strength=4000)],
                places=[place("town", 4, 1, owner="china")], ai=_plan(["town"]), combat=forced("dr"))
    _, action = _first_action(ctx)
    assert isinstance(action, Attack) and action.target == (2, 1) and action.from_hexes == ((1, 1),)


def test_it_does_not_attack_at_hopeless_odds(tmp_path):
    ctx = world(tmp_path, cols=6, rows=3, units=[unit("jp", "japan", 1, 1, strength=3000),
                                                 unit("cn", "china", 2, 1, strength=40000)],
                places=[place("town", 4, 1, owner="china")], ai=_plan(["town"]))
    _, action = _first_action(ctx)
    assert not isinstance(action, Attack)


@pytest.mark.parametrize("ground, attacks", [("......", True), ("..m...", False)])
def test_it_weighs_the_odds_after_the_terrain_shift_not_the_raw_odds(tmp_path, ground, attacks):
    """2:1 raw on a table of 1:1, 3:2, 2:1 columns: on the plain the attack goes in at 2:1; in
    the mountains (two columns down) it would be resolved at 1:1, below the profile's 1.5."""
    table = combat_table(("dr", "dr", "dr"), ("dr", "dr", "dr"), odds=("1:1", "3:2", "2:1"))
    ctx = world(tmp_path, cols=6, rows=3, terrain_rows=["......", ground, "......"],
                units=[unit("jp", "japan", 1, 1, strength=20000), unit("cn", "china", 2, 1, strength=10000)],
                places=[place("town", 4, 1, owner="china")], ai=_plan(["town"]), combat=table)
    game, action = _first_action(ctx)
    a = preview(ctx, game.state, Attack((2, 1), ((1, 1),)))
    assert a.raw_odds == pytest.approx(2.0)
    assert a.effective_odds == pytest.approx(2.0 if attacks else 1.0)
    assert isinstance(action, Attack) is attacks


def test_it_advances_on_its_objective(tmp_path):
    ctx = world(tmp_path, cols=12, rows=3, units=[unit("jp", "japan", 0, 1), unit("cn", "china", 11, 0)],
                places=[place("town", 9, 1, owner="china")], ai=_plan(["town"]))
    _, action = _first_action(ctx)
    assert isinstance(action, Move) and action.unit == "jp"
    field = cost_field(ctx, 0, (hex_index(ctx, 9, 1),))
    assert field[hex_index(ctx, *action.to)] < field[hex_index(ctx, 0, 1)]


def test_a_defender_falls_back_from_overwhelming_odds_but_a_garrison_holds(tmp_path):
    units = [unit("jp", "japan", 2, 1, strength=30000), unit("jp2", "japan", 2, 0, strength=30000),
             unit("cn", "china", 4, 1, strength=3000), unit("cn_town", "china", 4, 2, strength=3000)]
    ctx = world(tmp_path, cols=10, rows=4, units=units, places=[place("town", 4, 2, owner="china")],
                ai={"china": {"role": "defensive", "hold": ["town"]}})
    game = Game.new(ctx, 0)
    game.apply(EndPhase())  # China to move
    player = make_player(ctx, "china", "default", 0)
    moved = []
    while not game.over and game.side_to_move() == "china":
        action = player.choose(game, game.legal_actions())
        moved.append(action)
        game.apply(action)
    assert any(isinstance(a, Move) and a.unit == "cn" for a in moved)
    assert pos(ctx, game.state, "cn_town") == (4, 2)  # the garrison of a place to hold stays
    assert not any(isinstance(a, Move) and a.unit == "cn_town" for a in moved)


def test_it_entrenches_units_in_contact_that_did_not_move(tmp_path):
    ctx = world(tmp_path, cols=6, rows=3, units=[unit("jp", "japan", 1, 1, strength=10000),
                                                 unit("cn", "china", 2, 1, strength=9000)],
                ai={"japan": {"role": "defensive"}})
    game = Game.new(ctx, 0)
    player = make_player(ctx, "japan", "default", 0)
    actions = []
    while game.side_to_move() == "japan":
        actions.append(player.choose(game, game.legal_actions()))
        game.apply(actions[-1])
    assert Entrench("jp") in actions and isinstance(actions[-1], EndPhase)


def _china_phase(ctx, profile="default"):
    """China's actions in its first phase, played by the AI of `profile`."""
    game = Game.new(ctx, 0)
    game.apply(EndPhase())
    player = make_player(ctx, "china", profile, 0)
    actions = []
    while not game.over and game.side_to_move() == "china":
        actions.append(player.choose(game, game.legal_actions()))
        game.apply(actions[-1])
    return game, actions


@pytest.mark.parametrize("profile, goes", [("defensive", False), ("raider", True)])
def test_a_raider_goes_back_for_a_lost_place_the_enemy_left_empty(tmp_path, profile, goes):
    ctx = world(tmp_path, cols=12, rows=3,
                units=[unit("jp", "japan", 0, 0), unit("cn", "china", 10, 1)],
                places=[place("town", 5, 1, owner="china")],
                ai={"china": {"role": "defensive", "hold": ["town"]}})
    game = Game.new(ctx, 0)
    game.state.owner["town"] = ctx.side_index["japan"]  # Japan took it and moved on
    game.state.captures["town"] = {"date": game.state.date.isoformat(), "side": "japan"}
    game.apply(EndPhase())
    action = make_player(ctx, "china", profile, 0).choose(game, game.legal_actions())
    assert isinstance(action, Move) is goes
    if goes:
        assert action.to[0] < 10  # towards the town


@pytest.mark.parametrize("held", [False, True])
def test_a_defender_evacuates_an_air_base_about_to_fall_but_not_one_it_holds(tmp_path, held):
    units = [unit("jp", "japan", 2, 1, strength=20000), unit("cn_far", "china", 9, 0, strength=3000)]
    if held:
        units.append(unit("cn_field", "china", 4, 1, strength=30000))
    ctx = world(tmp_path, cols=10, rows=3, units=units, places=[place("field", 4, 1, owner="china", kind="air_base")],
                air_bases=[{"id": "cn_ab", "place": "field", "side": "china", "range_km": 60}],
                rules_overrides={"air": {"evacuate_within": 3}},
                ai={"china": {"role": "defensive", "hold": ["field"] if held else []}})
    game, actions = _china_phase(ctx)
    assert (Evacuate("cn_ab") in actions) is not held
    assert game.state.air_active["cn_ab"] is held
    if not held:  # after its last sorties: the evacuation is the phase's last order
        assert actions[-2:] == [Evacuate("cn_ab"), EndPhase()]


# -- whole games ---------------------------------------------------------------------------------------


def test_the_ai_never_draws_from_the_game_generator():
    ctx = load_context(EXAMPLE)
    game = Game.new(ctx, 5)
    players = make_players(ctx, {}, 5)
    for _ in range(60):
        if game.over:
            break
        before = (game.state.rolls, dict(game.state.draws))
        action = players[game.side_to_move()].choose(game, game.legal_actions())
        assert (game.state.rolls, game.state.draws) == before
        game.apply(action)


def test_ai_games_replay_from_the_seed():
    ctx = load_context(EXAMPLE)
    hashes = []
    for _ in range(2):
        game = Game.new(ctx, 11)
        play_game(game, make_players(ctx, {}, 11))
        hashes.append(game.state.state_hash())
    assert hashes[0] == hashes[1]


@pytest.mark.parametrize("side", ["japan", "china"])
@pytest.mark.slow
def test_the_ai_plays_whole_games_against_random_with_legal_actions_only(side):
    """apply() refuses illegal actions, so a finished game means every action was legal."""
    ctx = load_context(EXAMPLE)
    for seed in range(3):
        game = Game.new(ctx, seed)
        profiles = {s: ("default" if s == side else "random") for s in ctx.sides}
        play_game(game, make_players(ctx, profiles, seed))
        assert game.over and game.state.result["winner"] in (*ctx.sides, None)


@pytest.mark.slow
def test_the_chinese_ai_beats_random_on_the_example():
    ctx = load_context(EXAMPLE)
    wins = 0
    for seed in range(10):
        game = Game.new(ctx, seed)
        play_game(game, make_players(ctx, {"japan": "random", "china": "default"}, seed))
        wins += game.state.result["winner"] == "china"
    assert wins == 10


@pytest.mark.slow
def test_the_japanese_ai_does_better_than_random_on_the_example():
    """The example is won by China unless Japan takes Luoyang; the AI takes the railway towns a
    random player never reaches. A game is chaotic (a random China that happens to mass four armies
    around Xuchang keeps the AI out of it), so this is counted over ten seeds."""
    ctx = load_context(EXAMPLE)
    better = xuchang = 0
    ai_total = rnd_total = 0.0
    for seed in range(10):
        ai, rnd = Game.new(ctx, seed), Game.new(ctx, seed)
        play_game(ai, make_players(ctx, {"japan": "default", "china": "random"}, seed))
        play_game(rnd, make_players(ctx, {"japan": "random", "china": "random"}, seed))
        taken = {p for p, c in ai.state.captures.items() if c["side"] == "japan"}
        assert ai.state.result["score"] >= rnd.state.result["score"] and "zhengzhou" in taken
        better += ai.state.result["score"] > rnd.state.result["score"]
        xuchang += "xuchang" in taken
        ai_total += ai.state.result["score"]
        rnd_total += rnd.state.result["score"]
    assert better >= 9 and xuchang >= 9 and ai_total > 5 * rnd_total


def test_enemy_pressure_counts_each_unit_once_within_two_hexes(tmp_path):
    ctx = world(tmp_path, cols=9, rows=5, units=[unit("jp", "japan", 1, 2), unit("cn", "china", 4, 2, strength=12000)])
    game = Game.new(ctx, 0)
    from game.ai.operational import _PhaseView
    from game.scenario.model import AIPlan
    # the world's units move as far in a turn as at the profile's reference scale (30 km, 7 days)
    at_scale = load_profile("default").model_copy(update={"reference_hex_km": HEX_KM})
    view = _PhaseView(ctx, game.state, 0, AIPlan(), at_scale)
    at = {c: view.pressure[hex_index(ctx, c, 2)] for c in range(9)}
    assert at[4] == at[3] == at[2] == pytest.approx(12.0)  # 12,000 men x attack 1.0 / 1,000
    assert at[1] == at[7] == 0.0


def test_the_pressure_radius_grows_as_hexes_shrink_and_turns_lengthen(tmp_path):
    ctx = world(tmp_path, cols=12, rows=3, units=[unit("jp", "japan", 0, 1), unit("cn", "china", 8, 1)])
    game = Game.new(ctx, 0)
    from game.ai.operational import _PhaseView
    from game.scenario.model import AIPlan
    base = load_profile("default")
    assert distance_scale(base, 30.0, 7) == 1.0 and distance_scale(base, 8.0, 2) == pytest.approx(30 / 8 * 2 / 7)
    radius = {}
    for ref_km in (HEX_KM, HEX_KM * 2, HEX_KM * 3):  # the world's hexes are 1, 1/2, 1/3 of the reference
        view = _PhaseView(ctx, game.state, 0, AIPlan(), base.model_copy(update={"reference_hex_km": ref_km}))
        radius[ref_km] = max(abs(c - 8) for c in range(12) if view.pressure[hex_index(ctx, c, 1)] > 0)
    assert radius == {HEX_KM: 2, HEX_KM * 2: 4, HEX_KM * 3: 6}


def test_a_garrison_escapes_overwhelming_odds_only_when_the_profile_lets_it(tmp_path):
    units = [unit("jp", "japan", 2, 1, strength=30000), unit("jp2", "japan", 2, 2, strength=30000),
             unit("cn_town", "china", 4, 2, strength=3000)]
    ctx = world(tmp_path, cols=10, rows=4, units=units, places=[place("town", 4, 2, owner="china")],
                ai={"china": {"role": "defensive", "hold": ["town"]}})
    loose, firm = tmp_path / "loose.yaml", tmp_path / "firm.yaml"
    loose.write_text(f"extends: default\nhold_to_the_last: false\nreference_hex_km: {HEX_KM}\n")
    firm.write_text(f"extends: default\nreference_hex_km: {HEX_KM}\n")
    for profile, stays in ((str(firm), True), (str(loose), False)):
        game = Game.new(ctx, 0)
        game.apply(EndPhase())  # China to move
        player = make_player(ctx, "china", profile, 0)
        while not game.over and game.side_to_move() == "china":
            game.apply(player.choose(game, game.legal_actions()))
        assert (pos(ctx, game.state, "cn_town") == (4, 2)) is stays, profile


def test_corridor_gaps_are_what_stands_between_the_side_and_its_corridor():
    """Occupying the gaps the AI aims at (with the hexes the enemy holds on the route) opens the
    corridor; every gap is a hex the side does not control and no enemy occupies."""
    from game.ai.operational import corridor_gaps
    from game.rules.engine import corridor_open, new_game
    from game.rules.movement import enemy_mask, make_board

    ctx = load_context(ROOT / "scenarios" / "ichigo_1944.yaml")
    state = new_game(ctx, 3)
    side = ctx.side_index[ctx.corridor.side]
    enemy = enemy_mask(make_board(ctx, state), side, "occupied")
    gaps = corridor_gaps(ctx, state, side, enemy)
    assert len(gaps) > 10  # Guangxi and the Henan gap are Chinese in April 1944
    assert all(state.control[h] != side and not enemy[h] for h in gaps)
    held = state.control == side
    assert not corridor_open(ctx, state, held, ctx.corridor.along)
    held[list(gaps)] = True
    held |= enemy  # the hexes that must be fought for
    assert corridor_open(ctx, state, held, ctx.corridor.along)


# -- the offensive's rear: route security, rail moves, objectives at hand ------------------------------


def _route_world(tmp_path, units, *, name="route", **extra):
    """A railway from 'north' (a Japanese depot) to 'south' along row 2, all Japanese-held: the
    corridor Japan must keep open."""
    return world(tmp_path, name=name, cols=9, rows=5, default_control="japan", **extra,
                 places=[place("north", 0, 2, owner="japan", supply_source=True), place("south", 8, 2, owner="japan")],
                 railways=[["north", (1, 2), (2, 2), (3, 2), (4, 2), (5, 2), (6, 2), (7, 2), "south"]],
                 units=units, ai={"japan": {"role": "offensive", "axes": []}},
                 victory={"corridor": {"side": "japan", "from": ["north"], "to": ["south"], "along": ["rail"],
                                       "points": 5}})


def test_a_unit_with_no_axis_task_guards_the_route_where_an_enemy_zone_of_control_cuts_it(tmp_path):
    """China on 4,3 has the rail hexes 4,2 and 5,2 in its zone of control, which cuts the supply
    and the corridor beyond; the offensive profile sends its idle unit there, the default one
    (secure_within 0) does not."""
    from game.ai.operational import corridor_gaps
    from game.rules.movement import enemy_mask, make_board

    ctx = _route_world(tmp_path, [unit("jp", "japan", 1, 2), unit("cn", "china", 4, 3)])
    state = Game.new(ctx, 0).state
    board = make_board(ctx, state)
    cut = enemy_mask(board, 0, "zoc") & (board.occupied[0] == 0)
    gaps = corridor_gaps(ctx, state, 0, enemy_mask(board, 0, "occupied"), cut)
    assert {ctx.offsets[h] for h in gaps} == {(4, 2), (5, 2)}  # held, but cut
    assert corridor_gaps(ctx, state, 0, enemy_mask(board, 0, "occupied")) == ()  # held is enough without `cut`

    _, action = _first_action(ctx, profile="offensive")
    assert isinstance(action, Move) and action.unit == "jp" and action.to in {(4, 2), (5, 2)}
    _, action = _first_action(ctx, profile="default")
    assert not (isinstance(action, Move) and action.unit == "jp")


def test_a_guard_in_place_stays_and_a_second_unit_takes_the_other_post(tmp_path):
    ctx = _route_world(tmp_path, [unit("jp_a", "japan", 4, 2), unit("jp_b", "japan", 1, 2),
                                  unit("cn", "china", 4, 3, strength=3000)], name="route2")
    game = Game.new(ctx, 0)
    player = make_player(ctx, "japan", "offensive", 0)
    moves = []
    while game.side_to_move() == "japan":
        action = player.choose(game, game.legal_actions())
        moves.append(action)
        game.apply(action)
    assert pos(ctx, game.state, "jp_a") == (4, 2)  # already guarding, or attacking from its post
    assert pos(ctx, game.state, "jp_b") == (5, 2)


def test_the_ai_rides_the_railway_to_a_distant_goal(tmp_path):
    """A slow unit (1 movement point) reaches 4 hexes a phase along the railway on foot, 10 by a
    strategic rail move; the AI takes the train."""
    line = [(c, 1) for c in range(16)]
    ctx = world(tmp_path, cols=16, rows=3, default_control="japan", railways=[line],
                units=[unit("jp", "japan", 0, 1, type="leg")],
                places=[place("town", 15, 1, owner="china")], ai=_plan(["town"]))
    _, action = _first_action(ctx)
    assert isinstance(action, RailMove) and action.unit == "jp"
    assert action.to[0] > 4  # beyond what walking along the line reaches


def test_a_column_out_of_supply_walks_into_an_undefended_objective_instead_of_turning_back(tmp_path):
    ctx = world(tmp_path, cols=8, rows=3, units=[unit("jp", "japan", 2, 1), unit("cn", "china", 7, 0)],
                places=[place("town", 4, 1, owner="china")], ai=_plan(["town"]))
    game = Game.new(ctx, 0)
    game.state.units["jp"].out_of_supply = 3  # no Japanese depot on this map: it is out of supply
    action = make_player(ctx, "japan", "default", 0).choose(game, game.legal_actions())
    assert action == Move("jp", (4, 1))
    held = world(tmp_path, name="held", cols=8, rows=3,
                 units=[unit("jp", "japan", 2, 1), unit("cn", "china", 4, 1, strength=20000)],
                 places=[place("town", 4, 1, owner="china")], ai=_plan(["town"]))
    game = Game.new(held, 0)
    game.state.units["jp"].out_of_supply = 3
    action = make_player(held, "japan", "default", 0).choose(game, game.legal_actions())
    assert not (isinstance(action, Move) and action.to == (4, 1))  # defended: it does not walk in


# -- tricks a human might try ----------------------------------------------------------------------


def _play_against_a_passive_china(ctx, turns: int, profile: str = "offensive",
                                  game: Game | None = None) -> tuple[Game, list]:
    """Japan's offensive AI for `turns` turns against a China that only ends its phases (its trick
    is where it stands), from a new game or `game`; the Japanese actions taken."""
    game = game or Game.new(ctx, 0)
    player = make_player(ctx, "japan", profile, 0)
    taken = []
    while not game.over and game.state.turn <= turns:
        if game.side_to_move() == "japan":
            action = player.choose(game, game.legal_actions())
            taken.append(action)
        else:
            action = EndPhase()
        game.apply(action)
    return game, taken


@pytest.mark.parametrize("where", [(4, 2), (5, 2)])
def test_a_single_unit_parked_astride_the_corridor_is_attacked_and_cleared(tmp_path, where):
    """The trick: one weak unit on the railway behind the front cuts the corridor (and the supply
    beyond it) for free. The offensive AI closes in from its idle units and attacks it."""
    ctx = _route_world(tmp_path, [unit("jp_a", "japan", 1, 2), unit("jp_b", "japan", 7, 2),
                                  unit("cn", "china", *where, strength=2000)], name=f"astride{where[0]}",
                       combat=forced("dr"))
    game, taken = _play_against_a_passive_china(ctx, turns=3)
    attacks = [a for a in taken if isinstance(a, Attack) and a.target == where]
    assert attacks, taken
    cn = game.state.units["cn"]
    assert not cn.on_map or ctx.offsets[cn.hex] != where  # destroyed or driven off the line
    # the answer is the route security's: a profile without it (secure_within 0) lets it sit
    _, idle = _play_against_a_passive_china(ctx, turns=3, profile="default")
    assert not any(isinstance(a, Attack) for a in idle), idle


@pytest.mark.parametrize("hold", [["depot", "front"], ["front"]])
def test_a_raid_that_takes_an_empty_depot_behind_the_front_is_answered(tmp_path, hold):
    """The trick: a raider rides into the rear and takes a depot left empty. The offensive AI's
    idle units go back for it (retake_within) and attack the raider there, whether the depot is
    a place of the plan or not (a lost depot is retaken for its own sake)."""
    ctx = world(tmp_path, name=f"raid{len(hold)}", cols=10, rows=3, default_control="japan",
                places=[place("depot", 2, 1, owner="japan", supply_source=True),
                        place("front", 8, 1, owner="japan")],
                units=[unit("jp", "japan", 6, 1), unit("cn", "china", 2, 1, strength=2000)],
                ai={"japan": {"role": "offensive", "hold": hold, "axes": []}},
                combat=forced("dr"))
    game = Game.new(ctx, 0)
    game.state.owner["depot"] = ctx.side_index["china"]  # the raid took it last turn
    game.state.captures["depot"] = {"date": game.state.date.isoformat(), "side": "china"}
    game.state.control[ctx.place_hex["depot"]] = ctx.side_index["china"]
    game, taken = _play_against_a_passive_china(ctx, turns=3, game=game)
    assert any(isinstance(a, Attack) and a.target == (2, 1) for a in taken), taken
    assert game.state.owner["depot"] == ctx.side_index["japan"] or game.state.units["cn"].hex != ctx.place_hex["depot"]


# -- the scripted tricky human, over whole games --------------------------------------------------


def _against_the_tricks(ctx, japan: str, tricks, seed: int = 0):
    """A whole game: Japan's `japan` AI against the scripted tricky China (the default AI, with
    the given tricks); the tricky player (for its record) and the game."""
    from game.ai.tricky import TrickyPlayer

    tricky = TrickyPlayer(make_player(ctx, "china", "default", seed + 1), tricks)
    players = {"japan": make_player(ctx, "japan", japan, seed), "china": tricky}
    game = Game.new(ctx, seed)
    play_game(game, players)
    return tricky, game


def _longest_stay(record, trick: str) -> int:
    """The most phases in a row a trick unit stood on what it went for."""
    best = run = 0
    for step in (s for s in record if s.trick == trick):
        run = run + 1 if step.on_target else 0
        best = max(best, run)
    return best


def test_the_tricky_player_parks_a_unit_on_the_route_and_raids_a_depot(tmp_path):
    """Against a passive Japan (random, ending at once) the tricks get what they go for and keep
    it: one unit stands on the corridor's route, one on Japan's depot, to the end."""
    ctx = _route_world(tmp_path, [unit("jp", "japan", 8, 4), unit("cn_a", "china", 4, 4, strength=2000),
                                  unit("cn_b", "china", 2, 4, strength=2000)], name="tricks_free",
                       rules_overrides={"combat": forced("nr")})
    from game.ai.tricky import TrickyPlayer
    from game.rules.players import RandomPlayer

    tricky = TrickyPlayer(make_player(ctx, "china", "default", 1))
    game = Game.new(ctx, 0)
    play_game(game, {"japan": RandomPlayer(seed=0, end_bias=1.0), "china": tricky})
    units = {trick: uid for trick, uid in tricky.units.items()}
    assert set(units) == {"park", "raid"} and None not in units.values()
    route = set(range(ctx.n)) & {ctx.hm.index(c, 2) for c in range(9)}
    assert game.state.units[units["park"]].hex in route
    assert game.state.units[units["raid"]].hex == ctx.place_hex["north"]
    assert _longest_stay(tricky.record, "park") >= 2 and _longest_stay(tricky.record, "raid") >= 2
    assert game.state.corridor_opened is None


@pytest.mark.parametrize("trick", ["park", "raid"])
def test_the_offensive_ai_answers_each_trick_within_a_turn_or_two(tmp_path, trick):
    """The same tricks against Japan's offensive AI with idle units behind the front: the trick
    unit, trying every phase of the game, is attacked and driven back, and never stands on the
    route, or on the depot (not a place of the plan: a depot is retaken for its own sake), for
    more than two of its phases in a row."""
    ctx = _route_world(tmp_path, [unit("jp_a", "japan", 1, 1), unit("jp_b", "japan", 7, 1),
                                  unit("cn", "china", 4, 3, strength=2000)], name=f"tricks_{trick}",
                       rules_overrides={"combat": forced("dr")}, meta_overrides={"turns": 6})
    tricky, game = _against_the_tricks(ctx, "offensive", [trick])
    steps = [s for s in tricky.record if s.trick == trick]
    assert steps and all(s.target >= 0 for s in steps)  # there was a target, every phase
    alive = game.state.units["cn"].status == ACTIVE
    assert len(steps) >= 4 or not alive  # it kept trying as long as it lived
    assert any(e.kind == "combat" and "Japan attacks" in e.text for e in game.state.log)  # the answer
    assert _longest_stay(tricky.record, trick) <= 2, tricky.record


@pytest.mark.parametrize("threat, towards", [(1, -1), (19, 1)])
def test_the_reserve_goes_where_the_threat_is_now_not_where_it_was(tmp_path, threat, towards):
    """The feint: a strong stack shows itself before one city, then turns up before the other.
    The defender's reserve moves up behind whichever city the enemy stands before now."""
    ctx = world(tmp_path, name=f"feint{threat}", cols=21, rows=3,
                places=[place("west", 2, 1, owner="china"), place("east", 18, 1, owner="china")],
                units=[unit("cn_w", "china", 2, 1), unit("cn_e", "china", 18, 1), unit("cn_r", "china", 10, 1),
                       *(unit(f"jp{k}", "japan", threat, k) for k in range(3))],
                ai={"china": {"role": "defensive", "hold": ["west", "east"]}})
    _, moves = _china_phase(ctx, "defensive")
    reserve = [a for a in moves if isinstance(a, (Move, RailMove)) and a.unit == "cn_r"]
    assert reserve, moves
    assert (reserve[0].to[0] - 10) * towards > 0  # towards the city under threat


# -- strike groups ----------------------------------------------------------------------------------


def _striking(ctx, side: str, base: str, within: int = 30):
    """The profile `base` with strike groups (strike_within) on, as a file beside the scenario."""
    path = Path(ctx.path).parent / f"strike_{base}.yaml"
    path.write_text(f"extends: {base}\nstrike_within: {within}\n", encoding="utf-8")
    return str(path)


def _view(ctx, game, side: str, profile: str):
    from game.ai.operational import _PhaseView

    plan = ctx.scenario.ai.get(side) or records.make("AIPlan")
    return _PhaseView(ctx, game.state, ctx.side_index[side], plan, load_profile(profile))


@pytest.mark.parametrize("japanese, struck", [(4, True), (3, False)])
def test_a_stack_astride_the_route_is_struck_in_full_or_not_at_all(tmp_path, japanese, struck):
    """A Chinese stack of 24,000 men sits on the railway behind the front. Four idle Japanese
    divisions add up to 1.5 times the odds the offensive attacks at: all four are sent against it
    together. Three do not: none is sent into a blow it cannot strike in full. Without strike
    groups (the built-in offensive profile) none is sent either way."""
    jp = [unit(f"jp_{k}", "japan", 1, k + 1) for k in range(3)][:japanese]
    jp += [unit("jp_3", "japan", 0, 1)] if japanese == 4 else []
    cn = [unit("cn_a", "china", 5, 2, strength=12000), unit("cn_b", "china", 5, 2, strength=12000)]
    ctx = _route_world(tmp_path, jp + cn, name=f"strike{japanese}")
    game = Game.new(ctx, 0)
    view = _view(ctx, game, "japan", _striking(ctx, "japan", "offensive"))
    assert view._strike_targets() == [ctx.hm.index(5, 2)]
    assert _view(ctx, game, "japan", "offensive")._strikes() == {}
    strikes = view._strikes()
    if not struck:
        assert strikes == {}
        return
    assert set(strikes) == {u["id"] for u in jp}
    ring = {ctx.offsets[h] for h in next(iter(strikes.values()))}
    assert ring and all(abs(c - 5) <= 1 and abs(r - 2) <= 1 for c, r in ring)


def test_a_strike_group_closes_in_and_attacks_together(tmp_path):
    """Against a passive China, the four divisions march on the stack astride the route and attack
    it from several hexes at once, and the railway is clear after it."""
    jp = [unit(f"jp_{k}", "japan", 1, k + 1) for k in range(3)] + [unit("jp_3", "japan", 0, 1)]
    cn = [unit("cn_a", "china", 5, 2, strength=12000), unit("cn_b", "china", 5, 2, strength=12000)]
    ctx = _route_world(tmp_path, jp + cn, name="strike_play", combat=forced("dr"))
    game, taken = _play_against_a_passive_china(ctx, turns=4, profile=_striking(ctx, "japan", "offensive"))
    attacks = [a for a in taken if isinstance(a, Attack) and a.target == (5, 2)]
    assert attacks and max(len(a.from_hexes) for a in attacks) >= 2, taken
    assert not any(u.on_map and ctx.offsets[u.hex] == (5, 2) for u in game.state.units.values() if u.side == 1)


@pytest.mark.parametrize("supplied", [False, True])
def test_the_counterpunch_defender_masses_against_a_spearhead_cut_off_from_supply(tmp_path, supplied):
    """A Japanese division out of its supply stands deep in China's ground; three Chinese armies
    with nothing to hold are within two turns' march. The counterpunch profile sends all three
    against it (1.5 times its 3:1 odds); a spearhead still in supply is no strike target."""
    ctx = world(tmp_path, name=f"spearhead{supplied}", cols=9, rows=5, default_control="china",
                units=[unit("jp", "japan", 4, 2, strength=5000),
                       *(unit(f"cn_{k}", "china", 8, k + 1, strength=10000) for k in range(3))],
                places=[place("depot", 0, 2, owner="japan", supply_source=True)],
                ai={"china": {"role": "defensive"}})
    game = Game.new(ctx, 0)
    game.state.units["jp"].supplied = supplied
    view = _view(ctx, game, "china", "counterpunch")
    if supplied:
        assert view._strike_targets() == [] and view._strikes() == {}
        return
    assert view._strike_targets() == [ctx.hm.index(4, 2)]
    assert set(view._strikes()) == {"cn_0", "cn_1", "cn_2"}
    assert _view(ctx, game, "china", "defensive")._strikes() == {}


# -- relief of cut-off units ------------------------------------------------------------------------


def _relief_world(tmp_path, name: str, **extra):
    """A 9x3 strip: China's depot on the east edge, a road along the middle to a Chinese army
    (cn_cut) on the west edge, and
    between them a Japanese stack whose hex and zone of control fill column 4, so cn_cut is out of
    supply; Japan's own depot is next to its stack, which is in supply. Three Chinese armies with
    nothing to hold stand by China's depot."""
    return world(tmp_path, name=name, cols=9, rows=3, default_control="china",
                 units=[unit("jp", "japan", 4, 1, strength=5000), unit("cn_cut", "china", 1, 1),
                        *(unit(f"cn_{k}", "china", 7, k) for k in range(3))],
                 places=[place("depot", 8, 1, owner="china", supply_source=True),
                         place("jp_depot", 4, 2, owner="japan", supply_source=True)],
                 roads=[["depot", *((c, 1) for c in range(7, -1, -1))]],
                 ai={"china": {"role": "defensive"}}, **extra)


def _no_relief(ctx) -> str:
    """The counterpunch profile without relief (relieve_within 0), as a file beside the scenario."""
    path = Path(ctx.path).parent / "no_relief.yaml"
    path.write_text("extends: counterpunch\nrelieve_within: 0\n", encoding="utf-8")
    return str(path)


def test_the_stack_that_cuts_units_off_from_supply_is_found_by_the_rules_trace(tmp_path):
    """Without the Japanese stack (board_without), the rules' own supply trace reaches cn_cut:
    the stack is a relief target worth cn_cut's 10,000 men. The supplied Japanese stack is no
    strike target (not cut off), nor a relief target without relieve_within."""
    from game.rules.engine import trace
    from game.rules.movement import board_without, make_board

    ctx = _relief_world(tmp_path, "relief_find")
    game = Game.new(ctx, 0)
    state = game.state
    state.units["jp"].supplied = True
    board = make_board(ctx, state)
    cut, jp = ctx.hm.index(1, 1), ctx.hm.index(4, 1)
    assert not trace(ctx, state, 1, board).supplied[cut]
    assert trace(ctx, state, 1, board_without(ctx, board, 1, [jp])).supplied[cut]
    assert board.occupied[0, jp] == 1  # the board itself is untouched
    view = _view(ctx, game, "china", "counterpunch")
    assert view._reliefs() == {jp: 10000}
    group = set(view._strikes())
    assert "cn_cut" in group and len(group) >= 2, group  # the cut-off army strikes outwards too
    assert _view(ctx, game, "china", _no_relief(ctx))._reliefs() == {}
    assert _view(ctx, game, "china", _no_relief(ctx))._strikes() == {}


@pytest.mark.parametrize("relief", [True, False])
def test_a_relief_group_attacks_the_stack_that_cuts_its_army_off(tmp_path, relief):
    """Against a passive Japan, the relief group closes in and attacks the stack; once it is
    driven off, cn_cut is back in supply. The counterpunch profile without relief leaves the
    stack (in supply, no strike target) alone, and cn_cut cut off."""
    from game.rules.engine import trace

    ctx = _relief_world(tmp_path, f"relief_play{relief}", combat=forced("dr"))
    game = Game.new(ctx, 0)
    player = make_player(ctx, "china", "counterpunch" if relief else _no_relief(ctx), 0)
    attacks = []
    while not game.over and game.state.turn <= 3:
        if game.side_to_move() == "china":
            action = player.choose(game, game.legal_actions())
            if isinstance(action, Attack):
                attacks.append(action)
        else:
            action = EndPhase()
        game.apply(action)
    supplied = bool(trace(ctx, game.state, 1).supplied[game.state.units["cn_cut"].hex])
    if not relief:
        assert not any(a.target == (4, 1) for a in attacks) and not supplied, attacks
        return
    assert attacks and attacks[0].target == (4, 1), attacks
    assert supplied
