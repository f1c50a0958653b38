"""The operational AI: one player for both roles, driven by the scenario's ``ai`` plan and a profile.

A phase is planned in rounds, re-reading the state after every action it takes:

1. **attacks** by stacks already in contact (sieges go on turn after turn);
2. **moves**, one unit at a time, front units first, each to the hex of its reach that scores
   best: distance to its goal (a cost field over the map, with railways), plus a price for
   ending out of own supply and for standing where the enemy could attack at bad odds;
3. **attacks** by the stacks that have just closed in;
4. **entrenching** for units in contact or holding a place;
5. **evacuating** own air bases about to fall (where the rules allow it: the enemy within two
   hexes could attack what holds the base at ``evacuate_odds``; an offensive, whose bases lie
   behind its front, only with an enemy unit next to one), after their last sorties of the
   phase, so their aircraft and stocks are not taken with them; then the phase ends.

Offensive role (Japan in Ichi-Go): units of each axis take the axis' objectives in order,
riding the railways (the cost field runs along them); a unit out of supply for
``regroup_turns`` falls back to its supply instead of advancing, unless its objective is an enemy
depot within ``forward_supply_within`` (then it presses on: taking the depot is its supply) or
undefended and within this phase's reach (it walks in first); the
places of ``hold`` keep a garrison. Units with no axis task (their offensive over, not one still
to begin) retake lost places of the plan, reinforce the most threatened one, and occupy the
uncontrolled hexes of the corridor's route within ``corridor_within`` (a corridor is open only
where it is held). Route security: a held hex of the route that an enemy zone of control cuts
(it cuts the supply trace, and so the corridor) gets a guard, the nearest unit with no axis task
within ``secure_within``; an enemy astride the route is closed in on; passing columns step into
unheld route hexes within ``detour_within``. Both roles weigh strategic rail moves among a unit's
moves, so units far behind the front ride the railways.

Defensive role (China): the places of ``hold`` keep their garrisons to the last; other units
stand and dig in, fall back when the enemy could attack them at ``retreat_odds`` (trading space
for time and preserving the army), move up as reserves behind threatened places, and
counter-attack units that are out of supply or weak (``counter_odds``).

Strike groups (both roles, ``strike_within`` > 0): an enemy stack wholly out of its own supply,
or, on the offensive, one astride the side's own corridor route behind its front, is struck by
the nearest units with nothing else to do, once they add up to ``strike_margin`` times its
defence times the role's least odds (a blow in full or none); they march on the hexes around it
weighing danger as the whole group would stand, and attack together.

Relief (both roles, ``relieve_within`` > 0): an enemy stack whose removal would put own units
back in supply (the rules' supply trace, run again without it) is struck first, by a group that
may take any unit free to leave, the cut-off units and an axis' columns included.

The AI reads the state through the rules' own functions (reach, assess, trace) and returns only
actions the rules allow; it has its own generator, used only to break ties.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..rules.actions import Action, Attack, EndPhase, Entrench, Evacuate, Move, RailMove
from ..rules.combat import assess, unit_strength
from ..rules.context import Context
from ..rules.engine import (
    Game,
    active_side,
    can_entrench,
    corridor_route,
    eligible_attacker,
    evacuable,
    puppets_only,
    stacks_that_may_attack,
    trace,
)
from ..rules.movement import Board, board_for, board_without, enemy_mask, rail_reach, reach
from ..rules.state import ACTIVE, GameState, Unit
from ..scenario import records
from .profile import distance_scale

if TYPE_CHECKING:
    from ..scenario import model
    from .profile_model import Profile


def _graph(ctx: Context, c: int, rail_discount: float):
    """The reversed movement graph of a class: edge j -> i costs a step from i into j (terrain,
    rivers, roads), so a search from the goals gives cost-to-goal. Railway edges cost
    `rail_discount` times as much: the rail is the axis of advance (and of supply), but a line the
    enemy holds is fought for hex by hex, not ridden. Kept in the context's ``ai.graph`` cache."""
    def make():
        from scipy.sparse import csr_matrix  # scipy on first use: its import is a third of start-up

        step = np.array(ctx.static_step[c], dtype=float)
        step = np.where(ctx.has_rail & np.isfinite(step), step * rail_discount, step)
        nb = ctx.neighbours
        i, d = np.nonzero((nb >= 0) & np.isfinite(step))
        j = nb[i, d]
        return csr_matrix((step[i, d] + 1e-6, (j, i)), shape=(ctx.n, ctx.n))
    return ctx.caches.cache("ai.graph", 16).get((c, rail_discount), make)


def cost_field(ctx: Context, c: int, targets: tuple[int, ...],
               rail_discount: float | None = None) -> np.ndarray:
    """Movement cost from every hex to the nearest of `targets` for movement class `c`, ignoring
    units (kept in the context's ``ai.cost_field`` cache, shared by every game of the scenario; the
    array is read-only). `rail_discount` defaults to the profiles' default."""
    if rail_discount is None:
        from .profile_model import Profile

        rail_discount = float(Profile.model_fields["rail_discount"].default)

    def make() -> np.ndarray:
        from scipy.sparse.csgraph import dijkstra

        return dijkstra(_graph(ctx, c, rail_discount), directed=True, indices=list(targets), min_only=True)
    return ctx.caches.cache("ai.cost_field", 4096).get((c, targets, rail_discount), make)


def corridor_gaps(ctx: Context, state: GameState, side: int, enemy_at: np.ndarray,
                  cut: np.ndarray | None = None, route: tuple[int, ...] | None = None,
                  enemy_cost: float = 50.0) -> tuple[int, ...]:
    """The hexes a side must still occupy to open the scenario's corridor: the gaps of the rules'
    :func:`~game.rules.victory.corridor_route` (the hexes of the route it does not control, or
    controls but cannot supply through, `cut`) that no enemy occupies (those are attacked, not
    walked into). The route prices a hex the enemy occupies at `enemy_cost` against 1 for an
    unheld one, so it goes round the enemy where it can; empty when the side has no corridor."""
    if ctx.corridor is None:
        return ()
    held = state.control == side
    if cut is not None:
        held = held & ~cut
    if route is None:
        route = corridor_route(ctx, state, held, blocked=enemy_at, blocked_cost=enemy_cost).route
    return tuple(h for h in route if not held[h] and not enemy_at[h])


def _rings(ctx: Context, radius: int) -> np.ndarray:
    """(n, k) indices of every hex within `radius` hexes of each hex, sorted; n (a zero slot) pads
    each row to k = 3r(r+1)+1, the most a hex can have (kept in the context's ``ai.rings`` cache)."""
    def make() -> np.ndarray:
        n = ctx.n
        nb_pad = np.vstack([np.where(ctx.neighbours >= 0, ctx.neighbours, n), np.full((1, 6), n)])
        near = np.arange(n)[:, None]
        for _ in range(radius):
            near = np.hstack([near, nb_pad[near].reshape(n, -1)])
            near.sort(axis=1)
            dup = np.zeros_like(near, dtype=bool)
            dup[:, 1:] = near[:, 1:] == near[:, :-1]
            near[dup] = n  # each hex once: the sum must not count a unit twice
            near.sort(axis=1)
            near = near[:, : 3 * radius * (radius + 1) + 1]
        width = 3 * radius * (radius + 1) + 1
        if near.shape[1] < width:
            near = np.hstack([near, np.full((n, width - near.shape[1]), n)])
        return np.ascontiguousarray(near)
    return ctx.caches.cache("ai.rings", 4).get(radius, make)


class OperationalAI:
    """A competent player for either role, following the scenario's plan for its side."""

    def __init__(self, profile: Profile, seed: int = 0):
        self.profile = profile
        self.name = profile.name
        self.rng = np.random.default_rng(seed)
        self._plan_gen: Iterator[Action] | None = None
        self._key: tuple | None = None

    # -- the player protocol -----------------------------------------------------------------------

    def choose(self, game: Game, actions: Sequence[Action]) -> Action:
        state = game.state
        key = (id(state), state.turn, state.active)
        if key != self._key or self._plan_gen is None:
            self._key = key
            self._plan_gen = self._phase(game.ctx, state)
        for action in self._plan_gen:
            return action
        return EndPhase()

    # -- the phase ---------------------------------------------------------------------------------

    def _phase(self, ctx: Context, state: GameState) -> Iterator[Action]:
        side = active_side(ctx, state)
        plan = ctx.scenario.ai.get(ctx.sides[side]) or records.make("AIPlan")
        view = _PhaseView(ctx, state, side, plan, self.profile)
        yield from self._attacks(view)
        yield from self._moves(view)
        yield from self._attacks(view)
        for u in sorted(state.side_units(side), key=lambda x: x.id):
            if can_entrench(ctx, u) and (view.in_contact(u.hex) or u.hex in view.hold_hexes):
                yield Entrench(u.id)
        for base_id in evacuable(ctx, state, view.board(), side):
            if view.base_lost(base_id):
                yield Evacuate(base_id)
        yield EndPhase()

    def _attacks(self, view: _PhaseView) -> Iterator[Attack]:
        tried: set[int] = set()
        while True:
            best = view.best_attack(tried)
            if best is None:
                return
            target, attack = best
            tried.add(target)
            yield attack

    def _moves(self, view: _PhaseView) -> Iterator[Move | RailMove]:
        for unit_id in view.move_order():
            move = view.best_move(unit_id)
            if move is not None:
                yield move


class _PhaseView:
    """What the AI works out once per phase, and the per-action decisions that read it."""

    def __init__(self, ctx: Context, state: GameState, side: int, plan: model.AIPlan, profile: Profile):
        self.ctx, self.state, self.side, self.plan, self.p = ctx, state, side, plan, profile
        self.offensive = plan.role == "offensive"
        # the profile's distances are written for its reference hex and turn; here they count as
        # much ground covered in a turn (see distance_scale)
        self.k = distance_scale(profile, ctx.hm.hex_km, ctx.days_per_turn)
        self.radius = max(1, round(profile.pressure_radius * self.k))
        board = board_for(ctx, state)
        supplied = trace(ctx, state, side, board).supplied
        # a hex next to supply counts: the enemy's zone of control cuts the trace into a hex the
        # unit is about to fill, and the unit's own presence will carry it on
        nb = ctx.neighbours
        near = (supplied[np.where(nb >= 0, nb, 0)] & (nb >= 0)).any(axis=1)
        self.supplied = supplied | near
        self.traced = supplied
        self._supply_targets: tuple[int, ...] | None = None  # built on first need
        self._depot_hexes: frozenset[int] | None = None
        self._gaps: tuple[int, ...] | None = None
        self._route: tuple[int, ...] | None = None
        self._stacks_key = -1
        self._stacks: dict[int, list[Unit]] = {}
        self._defence: dict[int, float] = {}
        self.static = set(plan.static_types)
        self.hold_hexes = [ctx.place_hex[p] for p in plan.hold if state.owner.get(p) == side]
        # what the enemy took from us that we go back for: the plan's places to hold, and the
        # side's own supply depots (a lost depot starves everything it fed)
        depots = [p for p, _, _ in ctx.sources if ctx.places[p].owner == ctx.sides[side]]
        self.lost_hexes = tuple(dict.fromkeys(ctx.place_hex[p] for p in [*plan.hold, *depots]
                                              if state.owner.get(p) != side and p in state.captures))
        self.pressure = self._enemy_pressure(board)
        self.enemy_at = enemy_mask(board, side, "occupied")
        self.enemy_zoc = enemy_mask(board, side, "zoc")
        self.cut = self.enemy_zoc & (board.occupied[side] == 0)  # own hexes the enemy cuts supply through
        self._guard_of: dict[str, int] | None = None
        self._strike_of: dict[str, tuple[int, ...]] | None = None
        self._strike_defence: dict[str, float] = {}  # unit id -> the defence of its whole strike group
        self._relief: dict[int, int] | None = None
        self._relieving: set[str] = set()  # units of a relief group (they go even when out of supply)
        self._raids: tuple[int, ...] | None = None
        self.garrison = self._garrisons()
        self.waiting: set[str] = set()
        self.axis_of = self._axes()

    # -- reading the state --------------------------------------------------------------------------

    def board(self) -> Board:
        """The board now: the state's own, shared with the engine (rebuilt only after an action)."""
        return board_for(self.ctx, self.state)

    def _enemy_pressure(self, board: Board) -> np.ndarray:
        """The attack strength the enemy has within the profile's `pressure_radius` of each hex
        (what could hit it next)."""
        ctx, state = self.ctx, self.state
        strength = np.zeros(ctx.n + 1)
        for u in state.units.values():
            if u.on_map and u.side != self.side and ctx.unit_types[u.type].attack > 0:
                strength[u.hex] += unit_strength(ctx, state, u, True)
        return strength[_rings(ctx, self.radius)].sum(axis=1)

    def in_contact(self, h: int) -> bool:
        enemy = enemy_mask(self.board(), self.side, "occupied")
        return any(j >= 0 and enemy[j] for j in self.ctx.nb_list[h])

    def _garrisons(self) -> set[str]:
        """Units that stay to hold the plan's places: static troops always, and up to the profile's
        `garrison` units in each, static and weakest first (the strong ones are wanted at the
        front); an offensive leaves its weakest division in a city it has taken."""
        keep: set[str] = set()
        ctx = self.ctx
        for h in self.hold_hexes:
            here = [u for u in self.state.units_at(h) if u.side == self.side]
            keep.update(u.id for u in here if u.type in self.static)
            here.sort(key=lambda u: (u.type not in self.static, unit_strength(ctx, self.state, u, False), u.id))
            keep.update(u.id for u in here[: self.p.garrison])
        return keep

    def _axes(self) -> dict[str, tuple[int, ...] | None]:
        """Each unit's goal hexes on its axis (None: no axis or the axis is not active)."""
        ctx, state = self.ctx, self.state
        out: dict[str, tuple[int, ...] | None] = {}
        on = [not ((a.start and state.date < a.start) or (a.end and state.date > a.end)) for a in self.plan.axes]
        current: dict[int, tuple[int, ...]] = {}  # axis -> targets of its next objective, if it is on
        for k, axis in enumerate(self.plan.axes):
            todo = [p for p in axis.objectives if state.owner.get(p) != self.side]
            if on[k] and todo:
                current[k] = self._objective_targets(ctx.place_hex[todo[0]])
        for u in state.side_units(self.side):
            out[u.id] = None
            for k, axis in enumerate(self.plan.axes):
                if u.id not in axis.units and u.formation not in axis.formations:
                    continue
                if axis.start and state.date < axis.start:
                    self.waiting.add(u.id)  # its offensive has not begun: it stays where the plan has it
                if k in current:
                    out[u.id] = current[k]
                elif on[k] and current and u.type not in self.static:
                    # its axis has taken everything: the unit goes on to the nearest axis still fighting
                    out[u.id] = min(current.values(), key=lambda g: float(self._field(u, g)[u.hex]))
                break
        return out

    def _objective_targets(self, h: int) -> tuple[int, ...]:
        """Where units go to take the place at h: the place itself, or when the enemy holds it, the
        hexes around it, so the attackers spread out, attack from several sides and cut it off
        (encirclement) instead of queueing on one road."""
        if not self.enemy_at[h]:
            return (h,)
        ring = tuple(j for j in self.ctx.nb_list[h] if j >= 0 and not self.ctx.water[j])
        return ring + (h,)

    def base_lost(self, base_id: str) -> bool:
        """Whether an own air base is about to fall: the enemy within two hexes could attack what
        holds it at the profile's `evacuate_odds` (an empty base: any enemy there), so it may be
        taken in the enemy's next phase. An offensive's bases lie behind its front, where a
        stray enemy is no threat: it evacuates one only with an enemy unit next to it. The
        aircraft fly their last sorties this phase; then the base is evacuated, so its stocks are
        not taken with it."""
        h = self.ctx.air_bases[base_id].hex
        if self.pressure[h] <= 0 or (self.offensive and not self.in_contact(h)):
            return False
        return self._danger(h, 0.0) >= self.p.evacuate_odds

    def _danger(self, h: int, extra_defence: float) -> float:
        """Enemy odds against hex h if the unit joined the stack there."""
        stacks = self._own_stacks()
        here = self._defence.get(h)
        if here is None:
            here = self._defence[h] = sum(unit_strength(self.ctx, self.state, u, False) for u in stacks.get(h, ()))
        return float(self.pressure[h]) / max(extra_defence + here, 0.1)

    def _own_stacks(self) -> dict[int, list[Unit]]:
        """The own units in each hex, in the state's order as units_at lists them (rebuilt only
        after an action has changed the state: one pass instead of one per hex asked)."""
        key = self.state.actions_taken
        if self._stacks_key != key:
            stacks: dict[int, list[Unit]] = {}
            for u in self.state.units.values():
                if u.side == self.side and u.status == ACTIVE:
                    stacks.setdefault(u.hex, []).append(u)
            self._stacks_key, self._stacks = key, stacks
            self._defence = {}  # hex -> the defence of the own stack there, filled as asked
        return self._stacks

    # -- moves ---------------------------------------------------------------------------------------

    def move_order(self) -> list[str]:
        """Units that may move, the ones nearest their goal first."""
        pinned = self.garrison if self.p.hold_to_the_last else set()
        units = [u for u in self.state.side_units(self.side)
                 if u.on_map and not u.moved and not u.attacked and u.id not in pinned]
        def key(u: Unit):
            goal = self.axis_of.get(u.id)
            return (float(self._field(u, goal)[u.hex]) if goal else 1e9, u.id)
        return [u.id for u in sorted(units, key=key)]

    def _class(self, u: Unit) -> int:
        return self.ctx.class_index[self.ctx.unit_types[u.type].movement_class]

    def _field(self, u: Unit, targets: tuple[int, ...]) -> np.ndarray:
        """The unit's movement cost from every hex to the nearest of `targets` (railways at the
        profile's `rail_discount`)."""
        return cost_field(self.ctx, self._class(u), targets, self.p.rail_discount)

    def _goal(self, u: Unit) -> tuple[tuple[int, ...] | None, bool]:
        """(goal hexes, must it go there) for this unit now; None: stay unless in danger."""
        if u.type in self.static:
            return None, False
        strike = self._strikes().get(u.id)
        if strike is not None and u.id in self._relieving:
            return strike, False  # break the ring that cuts own units off from supply, even out of supply
        if u.out_of_supply >= self.p.regroup_turns and not self.traced[u.hex]:
            depot = self._depot_ahead(u)
            if depot is not None:
                return depot, True  # the supply is ahead: taking the enemy's depot feeds the column
            at_hand = self._open_objective(u)
            if at_hand is not None:
                return at_hand, True  # the objective is undefended and one march away: take it first
            return self._supply_goal(), True  # regroup: back to supply before anything else
        if strike is not None:
            return strike, False  # mass on an enemy stack astride the route or cut off from supply
        if self.offensive:
            post = self._guards().get(u.id)
            if post is not None:
                return (post,), u.hex != post  # guard the corridor's route where the enemy cuts it
            goal = self.axis_of.get(u.id)
            if goal is None and self.lost_hexes:
                field = self._field(u, self.lost_hexes)
                if field[u.hex] <= self.p.retake_within * self.k:
                    return self.lost_hexes, False  # retake what the plan holds and the enemy took back
            if goal is None and u.id not in self.waiting:
                threatened = self._threatened_place()
                if threatened is not None and self._danger(threatened, 0.0) >= 1.0 and \
                        self._field(u, (threatened,))[u.hex] <= self.p.retake_within * self.k:
                    return (threatened,), False  # reinforce a place of the plan the enemy could take
            if goal is None and self.p.corridor_within > 0 and u.id not in self.waiting:
                gaps = self._corridor_gaps()
                if gaps and self._field(u, gaps)[u.hex] <= self.p.corridor_within * self.k:
                    return gaps, False  # occupy the route: a corridor is only open where it is held
            return goal, False
        threatened = self._threatened_place()
        if threatened is not None and not self._near_front(u.hex):
            return (threatened,), False
        if self.p.raid_within > 0 and u.id not in self.waiting:
            raid = self._raid_targets()
            if raid and self._field(u, raid)[u.hex] <= self.p.raid_within * self.k:
                return raid, False  # retake a lost place, or stand astride the enemy's corridor
        return None, False

    def _raid_targets(self) -> tuple[int, ...]:
        """Defensive: where a unit with nothing to hold hurts the enemy most: the places of the
        plan the enemy has taken, and the hexes of the enemy's corridor route it does not occupy
        (a corridor is open only where it is held)."""
        if self._raids is None:
            targets = [h for h in self.lost_hexes if not self.enemy_at[h]]
            c = self.ctx.corridor
            if c is not None and self.ctx.side_index[c.side] != self.side:
                route = corridor_route(self.ctx, self.state).route
                targets += [h for h in route if not self.enemy_at[h] and not self.ctx.water[h]]
            self._raids = tuple(sorted(set(targets)))
        return self._raids

    def _corridor_gaps(self) -> tuple[int, ...]:
        """The hexes of the corridor's cheapest route (railways and roads from its start to its end)
        that this side does not control yet and the enemy does not occupy, nearest the start first;
        empty when the side has no corridor to open."""
        if self._gaps is None:
            self._gaps = corridor_gaps(self.ctx, self.state, self.side, self.enemy_at, self.cut,
                                       self._corridor_route(), self.p.route_enemy_cost)
        return self._gaps

    def _corridor_route(self) -> tuple[int, ...]:
        """The corridor's cheapest route for this side now (once a phase); empty when it has none."""
        if self._route is None:
            self._route = ()
            c = self.ctx.corridor
            if c is not None and self.ctx.side_index[c.side] == self.side:
                held = (self.state.control == self.side) & ~self.cut
                self._route = corridor_route(self.ctx, self.state, held, blocked=self.enemy_at,
                                             blocked_cost=self.p.route_enemy_cost).route
        return self._route

    def _guards(self) -> dict[str, int]:
        """Route security: unit id -> the hex of the corridor's route it guards.

        Every hex of the route that this side controls and an enemy zone of control touches gets one
        unit (an enemy zone of control cuts the supply trace, and with it the corridor, unless an
        own unit stands in the hex; the guard also engages the enemy that cuts it), and an enemy
        standing on the route between two held hexes is closed in on from every side. A hex already
        held by a unit that stays there anyway (a garrison or static troops) needs none; a guard
        already in place stays; otherwise the nearest unit with no axis task within the profile's
        `secure_within` movement points goes (by strategic rail where it can); the offensive's
        columns are not held back to guard, but an unheld route hex clear of the enemy within
        `detour_within` of one is walked into."""
        if self._guard_of is not None:
            return self._guard_of
        self._guard_of = {}
        route = self._corridor_route() if self.p.secure_within > 0 else ()
        if not route:
            return self._guard_of
        ctx, state = self.ctx, self.state
        mine = state.control == self.side
        # held hexes an enemy zone of control cuts, and unheld ones clear of the enemy (walk in)
        wanted = [h for h in route
                  if not self.enemy_at[h] and (self.enemy_zoc[h] if mine[h] else not self.enemy_zoc[h])]
        for k in range(1, len(route) - 1):
            h = route[k]
            if self.enemy_at[h] and mine[route[k - 1]] and mine[route[k + 1]]:
                # an enemy astride the route behind the front: close in around it, so the guards'
                # stacks attack it together
                wanted += [j for j in ctx.nb_list[h] if j >= 0 and mine[j] and not self.enemy_at[j]
                           and not ctx.water[j] and j not in wanted]
        posts = [h for h in wanted if not any(u.side == self.side and (u.id in self.garrison or u.type in self.static)
                                              for u in state.units_at(h))][: self.p.max_guards]
        if not posts:
            return self._guard_of
        striking = self._strikes()
        free = [u for u in self._free_units() if u.id not in striking]
        options = []
        for h in posts:
            walk_in = not mine[h]  # an empty hex clear of the enemy: a column passing by may detour to it
            for u in free:
                busy = self.axis_of.get(u.id) is not None
                limit = (self.p.detour_within if busy else self.p.secure_within) * self.k
                if busy and not walk_in:
                    continue
                d = 0.0 if u.hex == h else float(self._field(u, (h,))[u.hex])
                if d <= limit:
                    options.append((d > 0, busy, d, u.id, h))
        taken: set[int] = set()
        for _moving, _busy, _d, uid, h in sorted(options):
            if h not in taken and uid not in self._guard_of:
                self._guard_of[uid] = h
                taken.add(h)
        return self._guard_of

    def _free_units(self) -> list[Unit]:
        """Units that may leave where they are for a task: on the map, neither static nor a
        garrison, their offensive not still to begin, able to attack."""
        ctx = self.ctx
        return [u for u in self.state.side_units(self.side)
                if u.on_map and u.type not in self.static and u.id not in self.garrison and u.id not in self.waiting
                and ctx.unit_types[u.type].attack > 0]

    def _strike_targets(self) -> list[int]:
        """Enemy stacks worth a massed blow, most urgent first: on the offensive, those astride the
        own corridor's route with held route hexes on both sides of them (a stack behind the front
        cuts everything beyond it), from the route's start on; in both roles, stacks wholly out of
        their own supply (a spearhead cut off, a raid with no line behind it)."""
        ctx, state = self.ctx, self.state
        targets: list[int] = []
        route = self._corridor_route() if self.offensive else ()
        if route:
            held = [state.control[h] == self.side and not self.enemy_at[h] for h in route]
            first = next((k for k, x in enumerate(held) if x), None)
            last = next((k for k in range(len(route) - 1, -1, -1) if held[k]), None)
            if first is not None and last is not None:
                targets += [h for h in route[first + 1:last] if self.enemy_at[h]]
        cut_off: list[int] = []
        for x in np.nonzero(self.enemy_at)[0]:
            h = int(x)
            if h in targets:
                continue
            enemies = [u for u in state.units_at(h) if u.side != self.side]
            if enemies and all(not u.supplied for u in enemies):
                cut_off.append(h)
        defence: dict[int, float] = {h: sum(unit_strength(ctx, state, u, False) for u in state.units_at(h))
                                     for h in cut_off}
        return targets + sorted(cut_off, key=lambda h: (defence[h], h))  # the easiest blows first

    def _strikes(self) -> dict[str, tuple[int, ...]]:
        """Strike groups: unit id -> the hexes around the enemy stack it masses against. A stack is
        struck only when the units that may join, within reach of it, add up to `strike_margin`
        times its defence times the role's least odds: a blow struck in full or not at all, never
        units fed in one by one. The nearest units go; each unit joins one group.

        Reliefs come first (``relieve_within`` > 0, :meth:`_reliefs`): an enemy stack that cuts own
        units off from supply is struck by any unit free to leave where it stands, the cut-off
        units and the columns of an axis included (a raid in the rear is answered). Then the
        targets of :meth:`_strike_targets` (``strike_within`` > 0), by the units with no axis
        task."""
        if self._strike_of is not None:
            return self._strike_of
        self._strike_of = {}
        p = self.p
        if p.strike_within <= 0 and p.relieve_within <= 0:
            return self._strike_of
        free = self._free_units()
        relief = self._reliefs()
        for t in sorted(relief, key=lambda h: (-relief[h], h)):
            for uid in self._mass(t, free, p.relieve_within * self.k):
                self._relieving.add(uid)
        if p.strike_within > 0:
            idle = [u for u in free if self.axis_of.get(u.id) is None]
            for t in self._strike_targets():
                if t not in relief:
                    self._mass(t, idle, p.strike_within * self.k)
        return self._strike_of

    def _mass(self, t: int, pool: list[Unit], limit: float) -> list[str]:
        """Form a strike group against the enemy stack at t from the units of `pool` not in a group
        yet within `limit` movement points of the hexes around it, nearest first, when they add up
        to the force it needs; returns the ids of its units (none: no blow)."""
        ctx, state, p = self.ctx, self.state, self.p
        assert self._strike_of is not None
        ring = tuple(j for j in ctx.nb_list[t] if j >= 0 and not ctx.water[j] and not self.enemy_at[j])
        if not ring:
            return []
        odds = p.min_odds if self.offensive else p.counter_odds
        defence = sum(unit_strength(ctx, state, d, False) for d in state.units_at(t) if d.side != self.side)
        need = p.strike_margin * odds * defence
        near = []
        for u in pool:
            if u.id in self._strike_of:
                continue
            d = float(self._field(u, ring)[u.hex])
            if d <= limit:
                near.append((d, u.id, u))
        group, strength = [], 0.0
        for _d, _uid, u in sorted(near):
            if strength >= need:
                break
            group.append(u)
            strength += unit_strength(ctx, state, u, True)
        if strength < need or puppets_only(group):
            return []
        together = sum(unit_strength(ctx, state, u, False) for u in group)
        for u in group:
            self._strike_of[u.id] = ring
            self._strike_defence[u.id] = together
        return [u.id for u in group]

    def _reliefs(self) -> dict[int, int]:
        """Relief of cut-off units (``relieve_within`` > 0): enemy hex -> the own men now out of
        supply whom the rules' supply trace finds supplied again were the enemy stack there gone
        (at least the rules' least unit strength), for the ``relieve_candidates`` enemy stacks with
        the most cut-off own men within the pressure radius. Read once a phase, at its start."""
        if self._relief is not None:
            return self._relief
        self._relief = {}
        p = self.p
        if p.relieve_within <= 0:
            return self._relief
        ctx, state = self.ctx, self.state
        cut = np.zeros(ctx.n + 1)  # own men out of supply in each hex (the last slot pads the rings)
        for u in state.side_units(self.side):
            if not self.traced[u.hex]:
                cut[u.hex] += u.strength
        least = ctx.rules.min_strength
        if cut.sum() < least:
            return self._relief
        near = cut[_rings(ctx, self.radius)].sum(axis=1)
        candidates = sorted((int(h) for h in np.flatnonzero(self.enemy_at & (near > 0))), key=lambda h: (-near[h], h))
        board = self.board()
        for h in candidates[: p.relieve_candidates]:
            supplied = trace(ctx, state, self.side, board_without(ctx, board, self.side, (h,))).supplied
            men = int(cut[: ctx.n][supplied].sum())
            if men >= least:
                self._relief[h] = men
        return self._relief

    def _depot_ahead(self, u: Unit) -> tuple[int, ...] | None:
        """The unit's axis goal when it is an enemy supply depot within the profile's
        `forward_supply_within` movement points (taking it restores this side's supply)."""
        goal = self.axis_of.get(u.id) if self.offensive and self.p.forward_supply_within > 0 else None
        if goal is None or goal[-1] not in self._depots():
            return None
        if float(self._field(u, goal)[u.hex]) > self.p.forward_supply_within * self.k:
            return None
        return goal

    def _open_objective(self, u: Unit) -> tuple[int, ...] | None:
        """The unit's axis objective when no enemy holds it and the unit can walk in this phase."""
        goal = self.axis_of.get(u.id) if self.offensive else None
        if goal is None or self.enemy_at[goal[-1]]:
            return None
        if goal[-1] not in reach(self.ctx, self.state, u, self.board()):
            return None
        return goal[-1:]

    def _depots(self) -> frozenset[int]:
        """Hexes of supply sources the enemy holds (they would feed this side once taken)."""
        if self._depot_hexes is None:
            owner = self.state.owner
            self._depot_hexes = frozenset(h for pid, h, _port in self.ctx.sources
                                          if owner.get(pid) is not None and owner.get(pid) != self.side)
        return self._depot_hexes

    def _supply_goal(self) -> tuple[int, ...] | None:
        """Traced hexes clear of the enemy, thinned to keep the search cheap (every fourth)."""
        if self._supply_targets is None:
            clear = self.traced & (self.pressure <= 0)
            own = np.nonzero(clear if clear.any() else self.traced)[0]
            self._supply_targets = tuple(int(x) for x in own[::4])
        return self._supply_targets or None

    def _near_front(self, h: int) -> bool:
        return self.pressure[h] > 0

    def _threatened_place(self) -> int | None:
        """The hold place under the heaviest enemy pressure relative to its garrison."""
        best, best_ratio = None, 0.0
        for h in self.hold_hexes:
            if self.pressure[h] <= 0:
                continue
            ratio = self._danger(h, 0.0)
            if ratio > best_ratio:
                best, best_ratio = h, ratio
        return best

    def best_move(self, unit_id: str) -> Move | RailMove | None:
        ctx, state, p = self.ctx, self.state, self.p
        u = state.units[unit_id]
        if not u.on_map or u.moved or u.attacked:
            return None
        goal, must = self._goal(u)
        board = self.board()
        # a unit of a strike group weighs the danger of a hex as the whole group standing there
        my_def = self._strike_defence.get(u.id) or unit_strength(ctx, state, u, False)
        here_danger = self._danger(u.hex, 0.0)
        if u.id in self.garrison:
            goal, must = None, False  # a garrison leaves its place only to escape (hold_to_the_last: false)
        if goal is None and (here_danger < p.retreat_odds or (self.offensive and u.id not in self.garrison)):
            return None  # hold the line
        reached = reach(ctx, state, u, board)
        # a strategic rail move (own line, away from the enemy) carries a unit far behind the front
        by_rail = set(rail_reach(ctx, state, u, board)) - set(reached) - {u.hex} if goal else set()
        if not reached and not by_rail:
            return None
        field = self._field(u, goal) if goal else None
        bonus = self.p.priorities
        # a column marching on the enemy's depot leaves its supply behind on purpose
        supply_cost = 0.0 if must and goal and goal[-1] in self._depots() else p.supply_weight * self.k

        def score(h: int) -> float:
            s = 0.0
            if field is not None:
                s += float(field[h])
            if not self.supplied[h]:
                s += supply_cost
            danger = self._danger(h, my_def if h != u.hex else 0.0)
            if danger > p.retreat_odds:
                s += p.danger_weight * self.k * (danger - p.retreat_odds)
            place = ctx.place_at.get(h)
            if place is not None and bonus.get(place):
                s -= bonus[place]
            return s

        here = score(u.hex)
        best_h, best_s = u.hex, here
        for h in sorted(reached) + sorted(by_rail):
            s = score(h)
            if s < best_s - 1e-9:
                best_h, best_s = h, s
        if best_h == u.hex or (not must and here - best_s < p.min_move_gain * self.k):
            return None
        if best_h in by_rail:
            return RailMove(u.id, ctx.offsets[best_h])
        return Move(u.id, ctx.offsets[best_h])

    # -- attacks -------------------------------------------------------------------------------------

    def best_attack(self, tried: set[int]) -> tuple[int, Attack] | None:
        """The attack worth most now (whole adjacent stacks against one enemy hex), or None."""
        ctx, state, p = self.ctx, self.state, self.p
        board = self.board()
        by_hex: dict[int, list[Unit]] = {}
        for u in state.side_units(self.side):
            if eligible_attacker(ctx, u):
                by_hex.setdefault(u.hex, []).append(u)
        if not by_hex:
            return None
        enemy = enemy_mask(board, self.side, "occupied")
        targets = sorted({j for h in by_hex for j in ctx.nb_list[h] if j >= 0 and enemy[j]} - tried)
        minimum = p.min_odds if self.offensive else p.counter_odds
        floor = ctx.rules.combat.min_odds_to_attack
        best, best_value = None, 0.0
        for t in targets:
            here = stacks_that_may_attack(ctx, state, by_hex, t)  # the standing orders' part (the rules' own)
            sources = [h for h in ctx.nb_list[t] if h in here]
            attackers = [u for h in sources for u in here[h]]
            if not attackers or puppets_only(attackers):
                continue
            a = assess(ctx, state, board, t, attackers)
            defenders = state.units_at(t)
            weak = all(not d.supplied for d in defenders)
            need = minimum * (p.weak_target_odds if weak else 1.0)
            # the odds after every shift the rules apply (terrain, river, fortification,
            # entrenchment, supply, air, region), not the raw strengths
            if a.raw_odds < floor or a.effective_odds < need:
                continue
            value = self._attack_value(t, a, sum(d.strength for d in defenders))
            if value > best_value:
                best, best_value = (t, Attack(ctx.offsets[t], tuple(ctx.offsets[h] for h in sorted(sources)))), value
        return best

    def _attack_value(self, t: int, a, defending_men: int) -> float:
        """Expected gain of an attack in thousands of men: the enemy's losses less ours (weighed by
        caution), plus what the hex is worth times the expected progress towards taking it (the
        chance of clearing it, or for a place that holds instead of retreating, the share of its
        garrison the attack is expected to destroy: a siege)."""
        ctx, p = self.ctx, self.p
        holds = bool(ctx.fort[t] > 0 or ctx.city[t])
        per_hex = ctx.rules.combat.hold_loss_per_hex
        clear = defender_loss = 0.0
        for o in a.outcomes:
            lost = o.defender_loss
            if o.defender_retreat and holds:
                lost += defending_men * per_hex * o.defender_retreat
            elif o.defender_retreat:
                clear += o.probability
            if lost >= defending_men:
                clear += o.probability
            defender_loss += o.probability * min(lost, defending_men)
        progress = min(1.0, clear + defender_loss / max(defending_men, 1))
        worth = 0.0
        place = ctx.place_at.get(t)
        if place is not None:
            goals = {g for gs in self.axis_of.values() if gs for g in gs}
            worth = 1.0 if t in goals or place in self.plan.hold else p.place_value
            worth += p.priorities.get(place, 0.0) / max(p.objective_value, 1.0)
        elif self.offensive:
            worth = p.ground_value
        gain = (defender_loss - p.caution * a.expected_attacker_loss) / 1000.0
        # clearing a stack that cuts own units off from supply gives them back: worth their men
        relief = clear * self._reliefs().get(t, 0) / 1000.0
        return gain + relief + progress * worth * p.objective_value * (0.5 + p.aggression)
