"""The supply trace of a game state: what :mod:`game.rules.supply` needs, read off the state.

What is passable for a side's supply (not water, no enemy unit, and where the rules say so, no
enemy zone of control without an own unit in it), which rail is intact, which hexes it holds,
where enemy air interdiction shortens the reach, and which sources it holds (a port only while
its sea lanes are open).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..names import SideIndex
from .context import Context
from .movement import Board, enemy_mask, make_board
from .state import GameState
from .supply import SupplyInputs, SupplyTrace, trace_supply


def supply_inputs(ctx: Context, state: GameState, side: SideIndex, board: Board | None = None) -> SupplyInputs:
    """The arrays of a side's (index) supply trace now."""
    board = board or make_board(ctx, state)
    enemy = enemy_mask(board, side, "occupied")
    blocked = enemy | ctx.water
    if ctx.rules.zoc_blocks_supply:
        blocked |= enemy_mask(board, side, "zoc") & (board.occupied[side] == 0)
    factor = ctx.rules.supply.interdicted_range_factor
    return SupplyInputs(neighbours=ctx.neighbours, passable=~blocked, owned=state.control == side,
                        rail=state.rail == 1, road=ctx.road, cross_cost=ctx.cross_cost,
                        reach_factor=np.where(board.interdicted[side], factor, 1.0))


def supply_sources(ctx: Context, state: GameState, side: SideIndex) -> np.ndarray:
    """The hexes of the supply sources a side (index) holds now, sorted."""
    out = [h for pid, h, port in ctx.sources
           if state.owner.get(pid) == side and (not port or state.sea_lanes.get(ctx.sides[side], True))]
    return np.array(sorted(set(out)), dtype=np.int64)


def trace(ctx: Context, state: GameState, side: SideIndex, board: Board | None = None) -> SupplyTrace:
    """This side's (index) supply trace now.

    A trace is a pure function of its inputs (what is passable, held, railed, interdicted, the
    sources and the ranges), and a game asks for the same one several times (the turn's supply
    phase, the AI's phase, the corridor check, the window's overlays): it is kept in the
    context's ``supply.trace`` cache, keyed by a digest of every input, so a repeat costs a hash
    instead of a search. Its arrays are read-only."""
    sup = ctx.rules.supply
    k = state.supply_range_factor[ctx.sides[side]]
    inputs = supply_inputs(ctx, state, side, board)
    sources = supply_sources(ctx, state, side)
    digest = hashlib.blake2b(digest_size=16)
    for arr in (inputs.passable, inputs.owned, inputs.rail, inputs.reach_factor, sources):
        digest.update(np.ascontiguousarray(arr).tobytes())
    key = (side, k, digest.digest())

    def make() -> SupplyTrace:
        found = trace_supply(inputs, sources, rail_range=sup.rail_range * k, road_range=sup.road_range * k,
                             cross_range=sup.cross_country_range * k)
        for arr in (found.rail_dist, found.road_dist, found.cross_dist, found.supplied, found.railhead):
            arr.setflags(write=False)
        return found

    return ctx.caches.cache("supply.trace", 64).get(key, make)
