"""Movement: zones of control, where a unit can go this phase and by which path, strategic rail.

Rules (numbers from the scenario's ``rules``):

* entering a hex costs the terrain's ``move_cost`` for the unit's movement class, plus the
  river class's ``extra_move_cost`` when crossing a river hexside; along an intact road edge the
  road's cost applies instead (bridges included), along an intact rail edge between two hexes
  the side holds the rail's cost. Water and hexes with enemy units cannot be entered;
* inside the range of an active enemy air base every step costs ``rules.air.move_cost_factor``
  times as much (interdiction);
* entering a hex in an enemy zone of control (next to an enemy unit that exerts one) ends the
  move; a unit may leave a zone of control, but not step straight into another;
* a unit that has not moved this phase may always move one hex, whatever it costs;
* the destination must have room under the stacking limit;
* a strategic rail move goes along own-held intact rail up to ``rules.rail.strategic_hexes`` (each
  hex counting ``strategic_hex_cost``, times the interdiction factor under enemy air),
  never into or next to an enemy unit or its zone of control, and uses the whole phase.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from ..names import HexIndex, SideIndex
from .actions import Move
from .context import Context
from .doctrine import forbidden
from .state import ACTIVE, GameState, Unit

INF = np.inf


@dataclass
class Board:
    """Per-side views of the state used by movement, combat and supply (recomputed when needed)."""

    occupied: np.ndarray  # (S, n) int: units of each side in each hex
    zoc: np.ndarray  # (S, n) bool: hexes in each side's zone of control
    interdicted: np.ndarray  # (S, n) bool: hexes where this side suffers enemy air interdiction
    air_cover: np.ndarray  # (S, n) int: best air support shift this side has over each hex
    positions: tuple[bytes, ...] = ()  # per side: its occupied hexes and its units' exerting a zone
    active_air: tuple[str, ...] = ()  # the air bases active on this board
    cache: dict = field(default_factory=dict)  # derived per-side data, filled on first use
    exert: np.ndarray | None = None  # (S, n) int: units of each side exerting a zone of control in each hex


def _active_air(ctx: Context, state: GameState) -> tuple[str, ...]:
    return tuple(b for b in ctx.air_bases if state.air_active.get(b, False))


def _positions(occupied: np.ndarray, exert: np.ndarray) -> bytes:
    """One side's occupied hexes, -1, then its hexes holding a unit that exerts a zone (sorted)."""
    return np.concatenate([np.flatnonzero(occupied), [-1], np.flatnonzero(exert)]).astype(np.int32).tobytes()


def make_board(ctx: Context, state: GameState) -> Board:
    sides = len(ctx.sides)
    where: list[list[int]] = [[] for _ in range(sides)]
    exerting: list[list[int]] = [[] for _ in range(sides)]
    zoc_types = ctx.zoc_types
    for u in state.units.values():
        if u.status == ACTIVE and u.hex >= 0:
            where[u.side].append(u.hex)
            if u.type in zoc_types and not u.disrupted:
                exerting[u.side].append(u.hex)
    occupied = np.zeros((sides, ctx.n), dtype=np.int16)
    exert = np.zeros((sides, ctx.n), dtype=np.int16)
    # a hex is in side s's zone when a neighbour holds an s unit exerting one; adjacency is
    # symmetric, so the zone is the neighbours of those units' hexes (work per unit, not per hex)
    zoc = np.zeros((sides, ctx.n), dtype=bool)
    for s in range(sides):
        if where[s]:
            np.add.at(occupied[s], where[s], 1)
        if exerting[s]:
            np.add.at(exert[s], exerting[s], 1)
            near = ctx.neighbours[exerting[s]].ravel()
            zoc[s, near[near >= 0]] = True
    positions = tuple(_positions(occupied[s], exert[s]) for s in range(sides))
    active = _active_air(ctx, state)
    cover, interdicted = ctx.air_layers(active)
    return Board(occupied, zoc, interdicted, cover, positions, active, exert=exert)


def moved_board(ctx: Context, state: GameState, before: Board, unit: Unit, from_hex: HexIndex,
                control_before: np.ndarray) -> Board | None:
    """The board after `unit` moved from `from_hex` to where it stands now, derived from the board
    `before` the move (work per hex the move touches, not per unit and hex), or None when the move
    changed more than that (the air bases active, or any other unit), so that :func:`make_board`
    is needed. Of the derived per-side data in the board's cache, what the move cannot have
    changed is kept: the moving side's view of its enemies (their masks, and with the rail's
    control unchanged its search inputs and tables) and the rail keys."""
    if before.exert is None or _active_air(ctx, state) != before.active_air:
        return None
    s, to = unit.side, unit.hex
    if to < 0 or unit.status != ACTIVE:
        return None
    occupied = before.occupied.copy()
    exert = before.exert.copy()
    zoc = before.zoc.copy()
    occupied[s, from_hex] -= 1
    occupied[s, to] += 1
    if unit.type in ctx.zoc_types and not unit.disrupted:
        exert[s, from_hex] -= 1
        exert[s, to] += 1
        nb = ctx.neighbours
        zoc[s, nb[to][nb[to] >= 0]] = True
        if exert[s, from_hex] == 0:  # the hexes around the old one stay in the zone only if another unit holds it
            around = nb[from_hex][nb[from_hex] >= 0]
            their = nb[around]
            zoc[s, around] = ((their >= 0) & (exert[s][np.where(their >= 0, their, 0)] > 0)).any(axis=1)
    positions = list(before.positions)
    positions[s] = _positions(occupied[s], exert[s])
    board = Board(occupied, zoc, before.interdicted, before.air_cover, tuple(positions), before.active_air,
                  exert=exert)
    changed = np.flatnonzero(control_before != state.control)
    rail_same = not changed.size or not _rail_hexes_mask(ctx, state)[changed].any()
    for key, value in before.cache.items():
        kind, side = key[0], key[1]
        if (kind == "rail_key" and rail_same) or (side == s and (
                kind in ("enemy", "near_enemy") or (rail_same and kind in ("inputs", "move")))):
            board.cache[key] = value
    return board


def board_without(ctx: Context, board: Board, side: SideIndex, hexes: Sequence[int]) -> Board:
    """A copy of `board` as it would be were the units of every side but `side` at `hexes` gone:
    their occupation and their zones of control lifted (what a side reads to ask "what would
    taking out that stack give me", e.g. a supply trace through it). Air is unchanged."""
    assert board.exert is not None, "boards made by make_board carry the exerting units"
    occupied, exert, zoc = board.occupied.copy(), board.exert.copy(), board.zoc.copy()
    idx = np.asarray(list(hexes), dtype=np.int64)
    for s in range(occupied.shape[0]):
        if s == side:
            continue
        occupied[s, idx] = 0
        exert[s, idx] = 0
        zoc[s] = False
        near = ctx.neighbours[np.flatnonzero(exert[s])].ravel()
        zoc[s, near[near >= 0]] = True
    positions = tuple(_positions(occupied[s], exert[s]) for s in range(occupied.shape[0]))
    return Board(occupied, zoc, board.interdicted, board.air_cover, positions, board.active_air, exert=exert)


def board_for(ctx: Context, state: GameState) -> Board:
    """The board of the state as it stands between two actions, built once and shared by everyone
    who asks (legal actions, check, preview, the AI, the window): cached on the state for its
    ``actions_taken``, and dropped by :func:`game.rules.engine.apply` when it changes the state.
    The rules' resolution, which changes the state as it goes, builds its own with
    :func:`make_board`. Read it, never change it."""
    found = state.board_cache
    if found is not None and found[0] is ctx and found[1] == state.actions_taken:
        return found[2]
    board = make_board(ctx, state)
    state.board_cache = (ctx, state.actions_taken, board)
    return board


def enemy_mask(board: Board, side: SideIndex, what: str) -> np.ndarray:
    """Hexes with enemy units ('occupied') or in an enemy zone of control ('zoc'); computed once
    per board (read-only)."""
    key = ("enemy", side, what)
    found = board.cache.get(key)
    if found is None:
        arr = board.occupied if what == "occupied" else board.zoc
        others = [s for s in range(arr.shape[0]) if s != side]
        if not others:
            found = np.zeros(arr.shape[1], dtype=bool)
        else:
            found = np.asarray((arr[others] > 0).any(axis=0) if what == "occupied" else arr[others].any(axis=0))
        found.setflags(write=False)
        board.cache[key] = found
    return found


def full_hexes(ctx: Context, board: Board, side: SideIndex) -> frozenset[int]:
    """Hexes where the side's stack is at the stacking limit (a unit may pass, not stop)."""
    key = ("full", side)
    found = board.cache.get(key)
    if found is None:
        found = board.cache[key] = frozenset(
            np.flatnonzero(board.occupied[side] >= ctx.rules.stacking.max_units).tolist())
    return found


def movement_allowance(ctx: Context, unit: Unit) -> float:
    """Full movement points for a phase: the type's, cut by the supply ladder and disruption."""
    mp = ctx.unit_types[unit.type].movement_points
    step = ladder_step(ctx, unit)
    if step is not None:
        mp *= step.movement
    if unit.disrupted:
        mp *= ctx.rules.disrupted_movement
    return mp


def ladder_step(ctx: Context, unit: Unit):
    """The supply-ladder step a unit is on (None when supplied)."""
    current = None
    for step in ctx.rules.supply.ladder:
        if unit.out_of_supply >= step.turns_out:
            current = step
    return current


def _inputs_key(ctx: Context, state: GameState, side: SideIndex, board: Board) -> bytes:
    """A digest of everything a side's path searches read from the state on this board: where the
    enemy's units stand and which of them exert a zone of control (which give the hexes blocked
    and the enemy's zones), the active air bases (which give the interdicted hexes), the rail and
    the control of its hexes. Two boards with the same digest give the same searches, so their
    results are shared between boards (a move by one unit leaves the enemy's, and usually its
    own side's, searches as they were). The digest is kept in the board's cache, so it holds only
    for a board of the state as it stands (:func:`board_for`, dropped when an action changes the
    state): searched on a board kept while the state changes, a result would be filed under
    inputs it was not made from. The resolution's own boards are never searched."""
    key = ("inputs", side)
    found = board.cache.get(key)
    if found is None:
        digest = hashlib.blake2b(digest_size=16)
        for s, where in enumerate(board.positions):
            if s != side:
                digest.update(where)
                digest.update(b"|")
        digest.update(repr(board.active_air).encode())
        digest.update(_rail_key(ctx, state, side, board))
        found = board.cache[key] = digest.digest()
    return found


def _rail_key(ctx: Context, state: GameState, side: SideIndex, board: Board | None = None) -> bytes:
    """The rail and the side's control of the rail's hexes: all a rail edge's use depends on (hex
    control matters to movement only through the rail it may use, between two hexes the side
    holds). Kept in the board's cache when one is given."""
    if board is not None:
        found = board.cache.get(("rail_key", side))
        if found is not None:
            return found
    rail_bytes = state.rail.tobytes()
    on_rail = _rail_hexes_mask(ctx, state, rail_bytes)
    found = hashlib.blake2b(rail_bytes + np.packbits((state.control == side) & on_rail).tobytes(),
                            digest_size=16).digest()
    if board is not None:
        board.cache[("rail_key", side)] = found
    return found


def _rail_hexes_mask(ctx: Context, state: GameState, rail_bytes: bytes | None = None) -> np.ndarray:
    """Hexes at either end of an intact rail edge, kept for the last few rails seen (read-only)."""
    rail_bytes = state.rail.tobytes() if rail_bytes is None else rail_bytes
    return ctx.caches.cache("move.rail_hexes", 16).get(rail_bytes, lambda: _rail_hexes(ctx, state))


def _rail_hexes(ctx: Context, state: GameState) -> np.ndarray:
    """Hexes at either end of an intact rail edge."""
    idx, dirs = np.nonzero(state.rail == 1)
    j = ctx.neighbours[idx, dirs]
    mask = np.zeros(ctx.n, dtype=bool)
    mask[idx] = True
    mask[j[j >= 0]] = True
    return mask


def _movement_tables(ctx: Context, state: GameState, unit: Unit, board: Board):
    """What a path search for this unit's side and movement class needs (every unit of a side
    and class shares it): the static step costs of the class, the rail cost and the rail edges
    usable by the side (hex -> directions), enemy-blocked hexes, interdicted hexes (or None) and
    enemy zones of control, all as plain Python data, with the key of these inputs. Kept in the
    board's cache and, under the inputs' digest, in the context's ``move.tables`` cache."""
    c = ctx.class_index[ctx.unit_types[unit.type].movement_class]
    key = ("move", unit.side, c)
    found = board.cache.get(key)
    if found is None:
        inputs = (unit.side, c, _inputs_key(ctx, state, unit.side, board))

        def make():
            rail_c = float(ctx.rail_cost[c])
            rail_adj = _rail_adjacency(ctx, state, unit.side, board) if np.isfinite(rail_c) else {}
            blocked = (enemy_mask(board, unit.side, "occupied") | ctx.water).tolist()
            factor = ctx.rules.air.move_cost_factor
            inter = board.interdicted[unit.side]
            interdicted = inter.tolist() if factor != 1.0 and inter.any() else None
            return (inputs, ctx.static_step[c], rail_c, rail_adj, blocked, interdicted, factor,
                    enemy_mask(board, unit.side, "zoc").tolist(), ctx.nb_list)

        found = board.cache[key] = ctx.caches.cache("move.tables", 64).get(inputs, make)
    return found


def _rail_adjacency(ctx: Context, state: GameState, side: SideIndex,
                    board: Board | None = None) -> dict[int, set[int]]:
    """hex -> directions of intact rail edges between two hexes the side holds. It depends on the
    rail and on the control of the rail's hexes only (:func:`_rail_key`), which change far less
    often than units move, so it is kept in the context's ``rail_adjacency`` cache for the last few
    such states seen (read it, never change it)."""
    key = (side, _rail_key(ctx, state, side, board))
    return ctx.caches.cache("rail_adjacency", 16).get(
        key, lambda: _make_rail_adjacency(ctx, state, state.control == side))


def _make_rail_adjacency(ctx: Context, state: GameState, own: np.ndarray) -> dict[int, set[int]]:
    nb = ctx.neighbours
    idx, dirs = np.nonzero((state.rail == 1) & own[:, None])
    j = nb[idx, dirs]
    ok = (j >= 0) & own[np.where(j >= 0, j, 0)] & ~ctx.water[np.where(j >= 0, j, 0)]
    rail_adj: dict[int, set[int]] = {}
    for i, d in zip(idx[ok].tolist(), dirs[ok].tolist()):
        rail_adj.setdefault(i, set()).add(d)
    return rail_adj


def reach(ctx: Context, state: GameState, unit: Unit, board: Board, *,
          through: bool = False) -> Mapping[int, tuple[float, int]]:
    """Hexes the unit can end its move in: hex -> (cost, previous hex on the cheapest path).

    The unit's own hex is not included. With ``through=True`` hexes it can only pass through
    (full friendly stacks) are included too, which :func:`path_to` needs to rebuild paths. A
    search depends on the unit's side, movement class, hex, movement points left and whether it
    has moved, and on the board's inputs (:func:`_inputs_key`); it is done once for them and kept
    in the context's ``move.reach`` cache, shared by every board with the same inputs (read the
    result, never change it).
    """
    if not _may_move(unit):
        return {}
    orders = forbidden(ctx, state, unit)
    if orders.move is not None:
        return {}
    found = _search(ctx, state, unit, board)[1]
    if through:  # every hex passed (the paths' previous hexes), those it may not stop in too
        return found
    full = full_hexes(ctx, board, unit.side)
    banned = orders.keep_out
    if banned is not None:
        return {j: v for j, v in found.items() if j not in full and not banned[j]}
    if not full or full.isdisjoint(found):
        return found
    return {j: v for j, v in found.items() if j not in full}


def _may_move(unit: Unit) -> bool:
    """Whether an ordinary move is open to the unit at all (on the map, points left, no attack)."""
    return unit.on_map and unit.mp > 0 and not unit.attacked


def _search(ctx: Context, state: GameState, unit: Unit, board: Board) -> tuple[tuple, Mapping[int, tuple[float, int]]]:
    """(the search's key, its result) for :func:`reach`."""
    tables = _movement_tables(ctx, state, unit, board)
    key = (tables[0], unit.hex, unit.mp, unit.moved)
    return key, ctx.caches.cache("move.reach", 4096).get(key, lambda: _reach_through(tables, unit))


def unit_moves(ctx: Context, state: GameState, unit: Unit, board: Board) -> list[Move]:
    """The unit's legal ordinary moves, one to each hex :func:`reach` lets it end its move in,
    in hex order. Kept with the search (in the context's ``move.actions`` cache, the actions
    themselves being immutable values), so listing a unit's moves again on a later board costs a
    filter, not a sort and new actions."""
    if not _may_move(unit):
        return []
    orders = forbidden(ctx, state, unit)
    if orders.move is not None:
        return []
    key, found = _search(ctx, state, unit, board)

    def make():
        moves = _unit_move_actions(ctx, unit.id)
        return tuple((j, moves[j]) for j in sorted(found))

    ordered = ctx.caches.cache("move.actions", 4096).get((key, unit.id), make)
    full = full_hexes(ctx, board, unit.side)
    banned = orders.keep_out
    if banned is not None:
        return [m for j, m in ordered if j not in full and not banned[j]]
    if not full or full.isdisjoint(found):
        return [m for _, m in ordered]
    return [m for j, m in ordered if j not in full]


def _unit_move_actions(ctx: Context, unit_id: str) -> _MoveTable:
    """The unit's ordinary move to each hex, made once per unit and hex as it is first asked for
    (actions are immutable values, so one object serves every list of legal actions)."""
    return ctx.caches.cache("move.objects", 4096).get(unit_id, lambda: _MoveTable(ctx, unit_id))


class _MoveTable(dict):
    """hex -> Move(unit, hex), filled on demand."""

    def __init__(self, ctx: Context, unit_id: str):
        super().__init__()
        self.unit_id, self.offsets = unit_id, ctx.offsets

    def __missing__(self, j: int) -> Move:
        move = self[j] = Move(self.unit_id, self.offsets[j])
        return move


def _reach_through(tables, unit: Unit) -> Mapping[int, tuple[float, int]]:
    """Every hex the unit can move into or through this phase: hex -> (cost, previous hex)."""
    _, static, rail_c, rail_adj, blocked, interdicted, factor, ezoc, nb = tables
    start = unit.hex
    best: dict[int, tuple[float, int]] = {start: (0.0, -1)}
    heap = [(0.0, start)]
    full = not unit.moved
    limit = unit.mp + 1e-9
    start_in_zoc = ezoc[start]
    while heap:
        cost, i = heapq.heappop(heap)
        if cost > best[i][0]:
            continue
        at_start = i == start
        if not at_start and ezoc[i]:
            continue  # entering a zone of control ends the move
        row, nbi, rails = static[i], nb[i], rail_adj.get(i)
        for d in range(6):
            j = nbi[d]
            if j < 0 or blocked[j]:
                continue
            step = row[d]
            if rails is not None and d in rails and rail_c < step:
                step = rail_c
            if step == INF:
                continue
            if interdicted is not None and interdicted[j]:
                step *= factor
            if at_start and start_in_zoc and ezoc[j]:
                continue  # no step straight from one zone of control into another
            total = cost + step
            if total > limit and not (at_start and full):
                continue
            old = best.get(j)
            if old is None or total < old[0] - 1e-12:
                best[j] = (total, i)
                heapq.heappush(heap, (total, j))
    del best[start]
    return MappingProxyType(best)  # shared by every board with the same inputs: read-only


def path_to(reached: Mapping[int, tuple[float, int]], start: int, goal: int) -> list[int]:
    """The hex path start..goal from a :func:`reach` result."""
    path = [goal]
    while path[-1] != start:
        prev = reached[path[-1]][1] if path[-1] in reached else start
        path.append(prev)
    return path[::-1]


def rail_reach(ctx: Context, state: GameState, unit: Unit, board: Board) -> dict[int, int]:
    """Hexes a strategic rail move can reach: hex -> previous hex. Empty when not allowed."""
    if (not unit.on_map or unit.moved or unit.attacked or ctx.strategic_hexes <= 0
            or not np.isfinite(ctx.rail_cost[ctx.class_index[ctx.unit_types[unit.type].movement_class]])
            or not (state.rail[unit.hex] == 1).any()):
        return {}
    orders = forbidden(ctx, state, unit)
    if orders.move is not None:
        return {}
    key = ("rail", _inputs_key(ctx, state, unit.side, board), unit.hex)
    best = ctx.caches.cache("move.rail", 1024).get(key, lambda: _rail_search(ctx, state, unit, board))
    full = full_hexes(ctx, board, unit.side)
    banned = orders.keep_out
    return {j: prev for j, (_, prev) in best.items() if j not in full and (banned is None or not banned[j])}


def _rail_search(ctx: Context, state: GameState, unit: Unit, board: Board) -> Mapping[int, tuple[float, int]]:
    """Every hex a strategic rail move from the unit's hex passes or ends in: hex -> (cost, previous)."""
    key = ("near_enemy", unit.side)
    if key not in board.cache:
        enemy = enemy_mask(board, unit.side, "occupied")
        ezoc = enemy_mask(board, unit.side, "zoc")
        nbs = ctx.neighbours
        board.cache[key] = ezoc | enemy | (enemy[np.where(nbs >= 0, nbs, 0)] & (nbs >= 0)).any(axis=1)
    near_enemy = board.cache[key]
    start = unit.hex
    if near_enemy[start]:
        return MappingProxyType({})
    # rail edges between two hexes the side holds (water excluded: no unit stands there)
    rail_adj = _rail_adjacency(ctx, state, unit.side, board)
    nb = ctx.nb_list
    factor = ctx.rules.air.move_cost_factor
    hex_cost = ctx.rules.rail.strategic_hex_cost if ctx.rules.rail else 1.0
    interdicted = board.interdicted[unit.side]
    limit = ctx.strategic_hexes + 1e-9
    best: dict[int, tuple[float, int]] = {start: (0.0, -1)}
    heap = [(0.0, start)]
    while heap:
        cost, i = heapq.heappop(heap)
        if cost > best[i][0]:
            continue
        for d in rail_adj.get(i, ()):
            j = nb[i][d]
            if near_enemy[j]:
                continue
            total = cost + hex_cost * (factor if interdicted[j] else 1.0)
            if total > limit:
                continue
            if j not in best or total < best[j][0] - 1e-12:
                best[j] = (total, i)
                heapq.heappush(heap, (total, j))
    del best[start]
    return MappingProxyType(best)
