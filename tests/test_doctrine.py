"""Doctrine: standing orders (``doctrine:``) are rules, binding every player of a side.

Tiny worlds: an order that holds a reserve back, one that forbids attacking until an event, a
hold-to-the-last place, and the bounds of an operation (a region to keep out of). Then seeded
games with the random and simple players, checking at every step that nothing the orders forbid
is ever offered or done.
"""

from __future__ import annotations

import datetime as dt

import pytest

from game.rules.actions import Attack, Move, RailMove
from game.rules.engine import check, legal_actions
from game.rules.players import RandomPlayer, SimplePlayer
from game.rules.state import ACTIVE
from worlds import act, day, end_phase, end_turn, forced, move_targets, new_game, place, pos, unit, world

CORRIDOR = ["~~~~~~~", ".......", "~~~~~~~"]


def orders_world(tmp_path, orders, *, units=None, regions=(), events=(), places=(), result="nr", name="orders"):
    units = units if units is not None else [unit("jp", "japan", 1, 1), unit("jp_res", "japan", 0, 1,
                                                                              formation="Reserve"),
                                             unit("cn", "china", 4, 1)]
    return world(tmp_path, name=name, cols=7, rows=3, terrain_rows=CORRIDOR, units=units, regions=regions,
                 events=events, places=places, combat=forced(result), doctrine=orders)


def test_a_reserve_held_back_has_no_moves_until_its_order_is_lifted(tmp_path):
    order = {"id": "reserve", "name": "The reserve waits", "side": "japan", "formations": ["Reserve"],
             "except_units": ["jp_res_free"], "stand": True, "end": day(2)}
    units = [unit("jp", "japan", 1, 1), unit("jp_res", "japan", 0, 1, formation="Reserve"),
             unit("jp_res_free", "japan", 0, 1, formation="Reserve"), unit("cn", "china", 4, 1)]
    ctx = orders_world(tmp_path, [order], units=units)
    g = new_game(ctx)
    assert move_targets(ctx, g.state, "jp_res") == set()
    assert move_targets(ctx, g.state, "jp")  # a unit the order does not name moves as ever
    assert move_targets(ctx, g.state, "jp_res_free")  # nor one it excepts
    why = check(ctx, g.state, Move("jp_res", (0, 1)))
    assert why == "JP_RES is held back by the order 'The reserve waits'"
    assert not [a for a in legal_actions(ctx, g.state) if isinstance(a, RailMove) and a.unit == "jp_res"]
    end_turn(g)  # turn 2 starts on the order's end date: lifted
    assert move_targets(ctx, g.state, "jp_res")


def test_no_attack_until_an_event_fires_and_a_stack_attacks_without_the_bound_unit(tmp_path):
    go = {"id": "go", "name": "Go", "date": day(2), "effects": [{"type": "track", "track": "t", "add": 1}]}
    order = {"id": "wait", "name": "Wait for the signal", "side": "japan", "units": ["jp"], "no_attack": True,
             "until_event": "go"}
    units = [unit("jp", "japan", 2, 1), unit("jp_free", "japan", 2, 1, strength=5000), unit("cn", "china", 3, 1)]
    ctx = world(tmp_path, cols=7, rows=3, terrain_rows=CORRIDOR, units=units, combat=forced("nr"),
                tracks=[{"id": "t", "name": "T", "initial": 0}], events=[go], doctrine=[order])
    g = new_game(ctx)
    attacks = [a for a in legal_actions(ctx, g.state) if isinstance(a, Attack)]
    assert attacks == [Attack((3, 1), ((2, 1),))]  # jp_free may attack from the hex
    act(g, "attack 3,1 from 2,1")
    assert g.state.units["jp_free"].attacked and not g.state.units["jp"].attacked  # jp did not join
    # a stack with nobody free to attack cannot attack, and check says why
    g2 = new_game(world(tmp_path, name="alone", cols=7, rows=3, terrain_rows=CORRIDOR, combat=forced("nr"),
                        units=[units[0], units[2]], tracks=[{"id": "t", "name": "T", "initial": 0}], events=[go],
                        doctrine=[order]))
    assert check(g2.ctx, g2.state, Attack((3, 1), ((2, 1),))) == \
        "JP may not attack under the order 'Wait for the signal'"
    end_turn(g2)  # the event fires on turn 2: the order is lifted
    assert "go" in g2.state.fired
    assert check(g2.ctx, g2.state, Attack((3, 1), ((2, 1),))) is None


def test_a_unit_holding_a_place_stays_but_may_attack_and_others_pass_through(tmp_path):
    order = {"id": "hold", "name": "Hold the town", "side": "china", "hold": ["town"]}
    units = [unit("jp", "japan", 1, 1), unit("cn", "china", 3, 1), unit("cn_b", "china", 5, 1)]
    ctx = orders_world(tmp_path, [order], units=units, places=[place("town", 3, 1, owner="china")],
                       name="hold")
    g = new_game(ctx)
    end_phase(g)  # China's phase
    assert move_targets(ctx, g.state, "cn") == set()
    assert check(ctx, g.state, Move("cn", (4, 1))) == "CN holds Town to the last under the order 'Hold the town'"
    assert move_targets(ctx, g.state, "cn_b")  # not on the place: free
    assert g.state.units["cn"].status == ACTIVE


def test_a_held_unit_does_not_advance_after_combat_but_a_free_one_does(tmp_path):
    order = {"id": "hold", "name": "Hold the town", "side": "japan", "hold": ["town"]}
    units = [unit("jp", "japan", 2, 1), unit("cn", "china", 3, 1)]
    ctx = orders_world(tmp_path, [order], units=units, places=[place("town", 2, 1, owner="japan")],
                       result="dr", name="advance")
    g = new_game(ctx)
    act(g, "attack 3,1 from 2,1")
    assert pos(ctx, g.state, "cn") == (4, 1)
    assert pos(ctx, g.state, "jp") == (2, 1)  # the order holds it in the town
    ctx2 = orders_world(tmp_path, [], units=units, places=[place("town", 2, 1, owner="japan")], result="dr",
                        name="advance_free")
    g2 = new_game(ctx2)
    act(g2, "attack 3,1 from 2,1")
    assert pos(ctx2, g2.state, "jp") == (3, 1)


def test_the_bounds_of_an_operation_keep_units_out_until_the_region_is_switched_off(tmp_path):
    bounds = {"id": "beyond", "name": "Beyond the stop line", "kind": "bounds", "hexes": [[4, 1], [5, 1], [6, 1]],
              "effects": {}}
    lifted = {"id": "lifted", "name": "New orders", "date": day(2),
              "effects": [{"type": "region", "region": "beyond", "active": False}]}
    order = {"id": "stop_line", "name": "Halt on the stop line", "side": "japan", "keep_out": ["beyond"]}
    units = [unit("jp", "japan", 2, 1), unit("cn", "china", 4, 1)]
    ctx = orders_world(tmp_path, [order], units=units, regions=[bounds], events=[lifted], result="dr",
                       name="bounds")
    g = new_game(ctx)
    assert move_targets(ctx, g.state, "jp") == {(0, 1), (1, 1), (3, 1)}
    assert check(ctx, g.state, Move("jp", (3, 1))) is None
    act(g, "move jp 3,1")
    assert check(ctx, g.state, Attack((4, 1), ((3, 1),))) == \
        "the order 'Halt on the stop line' keeps JP out of Beyond the stop line"
    assert not [a for a in legal_actions(ctx, g.state) if isinstance(a, Attack)]
    end_turn(g)  # the event switches the region off: the bounds are lifted
    assert check(ctx, g.state, Attack((4, 1), ((3, 1),))) is None


@pytest.mark.parametrize("player", [RandomPlayer, SimplePlayer])
def test_every_player_obeys_the_orders_at_every_step(tmp_path, player):
    bounds = {"id": "beyond", "name": "Beyond", "kind": "bounds", "hexes": [[5, 1], [6, 1]], "effects": {}}
    orders = [{"id": "reserve", "name": "Reserve", "side": "japan", "units": ["jp_res"], "stand": True},
              {"id": "wait", "name": "Wait", "side": "japan", "units": ["jp"], "no_attack": True, "end": day(3)},
              {"id": "line", "name": "Line", "side": "japan", "keep_out": ["beyond"]}]
    units = [unit("jp", "japan", 1, 1), unit("jp_res", "japan", 0, 1), unit("cn", "china", 3, 1, strength=3000)]
    ctx = orders_world(tmp_path, orders, units=units, regions=[bounds], result="dr", name=f"obey_{player.__name__}")
    for seed in range(4):
        g = new_game(ctx, seed)
        players = {s: player(seed=seed * 7 + k) for k, s in enumerate(ctx.sides)}
        start_res = g.state.units["jp_res"].hex
        while not g.over:
            action = players[g.side_to_move()].choose(g, g.legal_actions())
            if isinstance(action, Attack) and g.state.date < dt.date.fromisoformat(day(3)):
                hexes = [ctx.hm.index(*h) for h in action.from_hexes]  # never jp alone while it waits
                assert {u.id for u in g.state.units.values() if u.hex in hexes and u.side == 0} != {"jp"}
            g.apply(action)
            jp = g.state.units["jp"]
            assert g.state.units["jp_res"].hex == start_res or g.state.units["jp_res"].status != ACTIVE
            assert jp.status != ACTIVE or jp.hex < 0 or not ctx.region_mask["beyond"][jp.hex]


def test_the_unit_panel_shows_the_orders_that_bind_a_unit(tmp_path):
    from game.rules.doctrine import binding
    from game.ui.panels import unit_lines

    order = {"id": "reserve", "name": "The reserve waits", "side": "japan", "units": ["jp_res"], "stand": True,
             "no_attack": True, "end": day(2)}
    ctx = orders_world(tmp_path, [order], name="panel")
    g = new_game(ctx)
    text = "The reserve waits: no moves; no attacks (until 1944-04-24)"
    assert binding(ctx, g.state, g.state.units["jp_res"]) == [text]
    assert binding(ctx, g.state, g.state.units["jp"]) == []
    lines = [text for text, _ in unit_lines(ctx, g.state, g.state.units["jp_res"])]
    assert f"orders: {text}" in lines
    end_turn(g)  # lifted: the panel says nothing more
    assert not [t for t, _ in unit_lines(ctx, g.state, g.state.units["jp_res"]) if t.startswith("orders")]
