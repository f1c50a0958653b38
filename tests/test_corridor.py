"""One corridor: the rules decide it (corridor_open), corridor_route gives the route and its gaps
behind that decision, and the AI and the map overlay both read corridor_route."""

from __future__ import annotations

import itertools

import numpy as np
import pygame
import pytest

from conftest import ROOT
from game.ai.operational import corridor_gaps
from game.rules.actions import EndPhase, parse_action
from game.rules.context import load_context
from game.rules.engine import Game, corridor_held, corridor_open, corridor_route, corridor_steps
from game.rules.movement import enemy_mask, make_board
from game.rules.players import SimplePlayer
from game.ui.mapview import MapView
from worlds import place, unit, world


def corridor_world(tmp_path, units, along=("rail",)):
    """A 9x5 map held by Japan, a railway north (0,2) .. south (8,2) along row 2, and beside it a
    road that leaves the rail at 2,2 and rejoins it at 6,2 through row 3 (2,3 .. 5,3)."""
    return world(tmp_path, cols=9, rows=5, default_control="japan",
                 places=[place("north", 0, 2, owner="japan", supply_source=True), place("south", 8, 2, owner="japan")],
                 railways=[["north", (1, 2), (2, 2), (3, 2), (4, 2), (5, 2), (6, 2), (7, 2), "south"]],
                 roads=[[(2, 2), (2, 3), (3, 3), (4, 3), (5, 3), (6, 2)]],
                 units=units,
                 victory={"corridor": {"side": "japan", "from": ["north"], "to": ["south"], "along": list(along),
                                       "points": 5}})


def offsets(ctx, hexes):
    return [ctx.offsets[h] for h in hexes]


def check_consistent(ctx, state):
    """What every corridor route must satisfy against the rule."""
    c = ctx.corridor
    held = corridor_held(ctx, state)
    r = corridor_route(ctx, state)
    assert r.open == corridor_open(ctx, state, held, c.along)
    assert r.open == (bool(r.route) and not r.gaps)
    assert r.gaps == tuple(h for h in r.route if not held[h])
    if r.route:
        step = corridor_steps(ctx, state, c.along)
        assert r.route[0] in ctx.corridor_from and r.route[-1] in ctx.corridor_to
        for a, b in itertools.pairwise(r.route):
            d = ctx.hm.direction_between(a, b)
            assert d >= 0 and step[a, d], "the route crosses only the corridor's own hexsides"
    return r


def test_the_route_of_a_held_line_is_open_and_an_enemy_on_it_is_its_gap(tmp_path):
    ctx = corridor_world(tmp_path, [unit("cn", "china", 4, 0)])
    game = Game.new(ctx, 0)
    r = check_consistent(ctx, game.state)
    assert r.open and offsets(ctx, r.route) == [(c, 2) for c in range(9)] and r.gaps == ()
    game.apply(EndPhase())
    game.apply(parse_action("move cn 4,1"))
    game.apply(parse_action("move cn 4,2"))  # China stands on the railway
    r = check_consistent(ctx, game.state)
    assert not r.open
    # rail only: the route must go through the Chinese hex (and the hexes its zone cuts off supply)
    assert ctx.hm.index(4, 2) in r.gaps and all(row == 2 for _, row in offsets(ctx, r.route))


def test_a_road_round_the_enemy_is_taken_when_the_corridor_may_use_roads(tmp_path):
    ctx = corridor_world(tmp_path, [unit("cn", "china", 4, 1)], along=("rail", "road"))
    game = Game.new(ctx, 0)
    r = check_consistent(ctx, game.state)
    # the Chinese unit's zone of control cuts 3,2 .. 5,2 out of supply; the road through row 3
    # stays supplied from the north, so the corridor is open along it
    assert r.open and (4, 3) in offsets(ctx, r.route) and (4, 2) not in offsets(ctx, r.route)


def test_the_ai_gaps_are_the_rules_gaps_it_can_walk_into(tmp_path):
    ctx = corridor_world(tmp_path, [unit("cn", "china", 4, 2)])
    state = Game.new(ctx, 0).state
    enemy = enemy_mask(make_board(ctx, state), 0, "occupied")
    held = state.control == 0
    r = corridor_route(ctx, state, held, blocked=enemy, blocked_cost=50.0)
    assert r.gaps == (ctx.hm.index(4, 2),)
    assert corridor_gaps(ctx, state, 0, enemy) == ()  # the gap is held by the enemy: attacked, not walked into
    state.control[ctx.hm.index(4, 2)] = 1
    state.units["cn"].hex = ctx.hm.index(4, 0)
    enemy = enemy_mask(make_board(ctx, state), 0, "occupied")
    assert corridor_gaps(ctx, state, 0, enemy) == (ctx.hm.index(4, 2),)


def overlay_codes(view: MapView, game: Game) -> np.ndarray:
    view.refresh(game)
    return view._overlay_code("corridor")


@pytest.fixture(scope="module")
def ichigo():
    pygame.display.init()
    return load_context(ROOT / "scenarios" / "ichigo_1944.yaml")


@pytest.mark.slow
def test_the_overlay_shows_exactly_the_rules_route_and_gaps(ichigo):
    ctx = ichigo
    game = Game.new(ctx, 5)
    view = MapView(ctx, (640, 480))
    players = {s: SimplePlayer(seed=k) for k, s in enumerate(ctx.sides)}
    for _ in range(8):  # the first turns, checked at the start of each
        turn = game.state.turn
        while not game.over and game.state.turn == turn:
            game.apply(players[game.side_to_move()].choose(game, game.legal_actions()))
        r = check_consistent(ctx, game.state)
        code = overlay_codes(view, game)
        assert set(np.flatnonzero(code).tolist()) == set(r.route)
        assert set(np.flatnonzero(code == 2).tolist()) == set(r.gaps)
        assert r.gaps and not game.state.corridor_open  # Ichi-Go's corridor is shut in spring


def test_the_overlay_follows_the_state_and_shows_an_open_corridor(tmp_path):
    pygame.display.init()
    ctx = corridor_world(tmp_path, [unit("cn", "china", 4, 0)])
    game = Game.new(ctx, 0)
    view = MapView(ctx, (640, 480))
    code = overlay_codes(view, game)
    assert set(np.flatnonzero(code == 1).tolist()) == {ctx.hm.index(c, 2) for c in range(9)}
    game.apply(EndPhase())
    game.apply(parse_action("move cn 4,1"))
    game.apply(parse_action("move cn 4,2"))
    code = overlay_codes(view, game)  # recomputed for the new state, not kept from the first
    r = corridor_route(ctx, game.state)
    assert not r.open and set(np.flatnonzero(code == 2).tolist()) == set(r.gaps) and ctx.hm.index(4, 2) in r.gaps
