"""The order state machine (game/ui/orders.py), headless: what it highlights is what the legal
actions allow, what it previews is engine.preview, and a click applies exactly one legal action
through the session (or nothing)."""

from __future__ import annotations

import pytest

from conftest import ROOT
from game.rules import engine
from game.rules.actions import Attack, EndPhase, Entrench, Move, RailMove
from game.rules.context import load_context
from game.rules.movement import make_board, reach
from game.ui.orders import Orders
from game.ui.session import HUMAN, Session
from worlds import unit, world

ICHIGO = ROOT / "scenarios" / "ichigo_1944.yaml"


@pytest.fixture(scope="module")
def ctx():
    return load_context(ICHIGO)


@pytest.fixture
def hotseat(ctx):
    """Ichi-Go with both sides human (no AI worker), no autosave."""
    session = Session(ctx, 1, {s: HUMAN for s in ctx.sides}, autosave=False)
    return session, Orders(session)


def idx(ctx, h) -> int:
    return ctx.hm.index(*h)


def test_selecting_a_unit_highlights_exactly_its_legal_moves(hotseat):
    session, orders = hotseat
    game = session.game
    u = game.state.units["jp_37_div"]
    assert orders.click(u.hex) is None
    assert orders.selected == ["jp_37_div"]
    moves = {idx(game.ctx, m.to) for m in game.legal_actions().moves(u.id)}
    assert moves and set(orders.reach) == moves
    found = reach(game.ctx, game.state, u, make_board(game.ctx, game.state))
    assert orders.reach == {j: found[j][0] for j in moves}
    # rail destinations: each is a legal RailMove
    legal = game.legal_actions()
    assert orders.rail and all(RailMove(u.id, game.ctx.offsets[j]) in legal for j in orders.rail)
    # enemy zones of control are shown while a unit is selected
    assert orders.highlights().enemy_zoc
    kwargs = orders.highlights().as_kwargs()
    assert kwargs["selected"] == ("jp_37_div",) and set(kwargs["reach"]) == moves


def test_hover_path_cost_is_the_reach_cost_and_the_click_moves(hotseat):
    session, orders = hotseat
    game, ctx = session.game, session.game.ctx
    u = game.state.units["jp_37_div"]
    start = u.hex
    orders.click(start)
    far = max(orders.reach, key=lambda j: (orders.reach[j], j))
    orders.hover(far)
    assert orders.path[0] == start and orders.path[-1] == far
    assert orders.path_cost == pytest.approx(orders.reach[far])
    assert all(ctx.hm.direction_between(a, b) >= 0 for a, b in zip(orders.path, orders.path[1:]))
    h = orders.highlights()
    assert h.path == orders.path and h.path_cost == orders.path_cost
    applied = orders.click(far)
    assert applied == Move(u.id, ctx.offsets[far])
    assert session.actions[-1] == applied and game.state.units[u.id].hex == far
    assert orders.selected == [u.id]  # still selected, its reach recomputed from the new hex
    assert set(orders.reach) == {idx(ctx, m.to) for m in game.legal_actions().moves(u.id)}


def test_undo_after_a_move_restores_the_state(hotseat):
    session, orders = hotseat
    game = session.game
    before = game.state.state_hash()
    u = game.state.units["jp_37_div"]
    orders.click(u.hex)
    orders.click(min(orders.reach))
    assert game.state.state_hash() != before
    assert orders.undo()
    assert session.game.state.state_hash() == before
    assert session.actions == []
    assert not orders.undo()  # nothing left to undo: a message, no change
    assert session.game.state.state_hash() == before


def test_rail_move_where_only_the_train_reaches_and_ctrl_click(hotseat):
    session, orders = hotseat
    game, ctx = session.game, session.game.ctx
    u = game.state.units["jp_37_div"]
    orders.click(u.hex)
    only_rail = sorted(j for j in orders.rail if j not in orders.reach)
    both = sorted(j for j in orders.rail if j in orders.reach)
    assert only_rail and both
    orders.hover(only_rail[0])
    assert orders.path_by_rail and orders.path[0] == u.hex and orders.path[-1] == only_rail[0]
    before = game.state.state_hash()
    assert orders.click(both[0], ctrl=True) == RailMove(u.id, ctx.offsets[both[0]])
    assert orders.undo() and session.game.state.state_hash() == before
    assert orders.selected == [u.id]  # the selection survives the undo
    assert orders.click(only_rail[0]) == RailMove(u.id, ctx.offsets[only_rail[0]])


def test_attack_preview_is_engine_preview_and_confirm_applies_it(hotseat):
    session, orders = hotseat
    game, ctx = session.game, session.game.ctx
    attack = next(a for a in game.legal_actions() if isinstance(a, Attack))
    source, target = idx(ctx, attack.from_hexes[0]), idx(ctx, attack.target)
    orders.click(source)
    assert target in orders.targets and orders.targets[target] == attack
    orders.hover(target)
    assert orders.hover_assessment == engine.preview(ctx, game.state, attack)
    assert orders.highlights().attack_target == target
    before = game.state.state_hash()
    assert orders.click(target) is None  # a confirm step first
    assert orders.pending == attack and orders.shown_attack[2] is True
    assert orders.cancel() and orders.pending is None
    assert game.state.state_hash() == before
    orders.click(target)
    log_len = len(game.state.log)
    assert orders.confirm() == attack
    assert session.actions[-1] == attack
    assert any(e.kind == "combat" for e in game.state.log[log_len:])
    assert not session.can_undo()  # the die was rolled


def test_illegal_clicks_change_nothing(ctx):
    session = Session(ctx, 1, {"japan": HUMAN, "china": "random"}, autosave=False)
    orders = Orders(session)
    game = session.game
    before = game.state.state_hash()
    u = game.state.units["jp_37_div"]
    orders.click(u.hex)
    far = next(j for j in range(ctx.n) if j not in orders.reach and j not in orders.rail
               and not game.state.units_at(j) and not ctx.water[j])
    assert orders.click(far) is None and orders.selected == []
    assert orders.message  # the reason it could not go there
    # an enemy unit cannot be selected, and clicking it without a selection inspects it
    enemy = next(x for x in game.state.units.values() if x.side == 1 and x.on_map)
    assert orders.click(enemy.hex) is None and orders.selected == [] and orders.inspected == enemy.hex
    # an enemy hex that is not next to the selection is no target
    orders.click(u.hex)
    assert enemy.hex not in orders.targets
    assert orders.click(enemy.hex) is None
    assert game.state.state_hash() == before and session.actions == []
    # with the computer to move the player gives no orders
    orders.end_phase()
    assert not session.human_to_move
    mark = game.state.state_hash()
    chinese = next(x for x in game.state.units.values() if x.side == 1 and x.on_map)
    assert orders.click(chinese.hex) is None and orders.selected == []
    assert orders.end_phase() is None and orders.entrench() is None and not orders.undo()
    assert game.state.state_hash() == mark
    session.stop()


def test_entrench_and_end_phase(hotseat):
    session, orders = hotseat
    game = session.game
    u = game.state.units["jp_37_div"]
    assert orders.entrench() is None  # nothing selected
    orders.click(u.hex)
    assert orders.entrench() == Entrench(u.id)
    assert game.state.units[u.id].entrenched == 1
    assert orders.entrench() is None and orders.message  # it has acted: the rules' reason
    assert orders.end_phase() == EndPhase()
    assert game.side_to_move() == "china" and orders.selected == []


def test_shift_click_builds_an_attack_group_from_two_hexes(tmp_path):
    ctx = world(tmp_path, cols=5, rows=4, units=[
        unit("jp_a", "japan", 1, 1), unit("jp_b", "japan", 2, 2), unit("jp_far", "japan", 4, 3),
        unit("cn", "china", 2, 1, strength=8000)])
    session = Session(ctx, 0, {"japan": HUMAN, "china": HUMAN}, autosave=False)
    orders = Orders(session)
    a, b, far, target = (ctx.hm.index(*h) for h in ((1, 1), (2, 2), (4, 3), (2, 1)))
    assert ctx.hm.direction_between(a, target) >= 0 and ctx.hm.direction_between(b, target) >= 0
    orders.click(a)
    assert orders.targets[target] == Attack((2, 1), ((1, 1),))
    orders.click(b, shift=True)
    assert orders.selected == ["jp_a", "jp_b"]
    group = orders.targets[target]
    assert group == Attack((2, 1), ((1, 1), (2, 2))) and group in session.game.legal_actions()
    orders.hover(target)
    assert orders.hover_assessment.attackers == ["jp_a", "jp_b"]
    orders.click(b, shift=True)  # shift-click again takes the hex out of the group
    assert orders.selected == ["jp_a"]
    orders.click(far, shift=True)  # too far to fight together: a new selection
    assert orders.selected == ["jp_far"]


def test_clicking_a_stack_cycles_through_it(tmp_path):
    ctx = world(tmp_path, cols=4, rows=3, units=[
        unit("jp_a", "japan", 1, 1), unit("jp_b", "japan", 1, 1), unit("cn", "china", 3, 2)])
    session = Session(ctx, 0, {"japan": HUMAN, "china": HUMAN}, autosave=False)
    orders = Orders(session)
    h = ctx.hm.index(1, 1)
    orders.click(h)
    first = orders.selected[0]
    orders.click(h)
    assert orders.selected[0] != first
    orders.click(h, shift=True)
    assert sorted(orders.selected) == ["jp_a", "jp_b"]
    assert orders.escape() and orders.selected == [] and not orders.escape()


def test_next_unit_cycles_through_units_that_can_move(hotseat):
    session, orders = hotseat
    first = orders.next_unit()
    assert first is not None and orders.selected == [first]
    assert session.game.legal_actions().moves(first)
    second = orders.next_unit()
    assert second is not None and second != first and orders.selected == [second]
    assert not orders.select_unit(next(u.id for u in session.game.state.units.values() if u.side == 1))
