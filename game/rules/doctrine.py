"""Doctrine: the scenario's standing orders, command constraints every player of a side obeys.

An order (``doctrine:`` in the scenario, :class:`game.scenario.model.Order`) names some units of a
side and forbids them something while it is in force: to move at all (``stand``), to attack
(``no_attack``), to leave the places of its ``hold`` list, or to enter the active regions of its
``keep_out`` list. The rules of legality ask this module, so the AI, the simple and random
players and a human in the window are bound alike; retreats, which no one orders, are not.

An order is in force on the turns starting on or after its ``start`` and before its ``end``,
once its ``after_event`` has fired and until its ``until_event`` has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .context import Context
from .state import GameState, Unit


@dataclass(frozen=True)
class Forbidden:
    """What the orders in force forbid one unit now."""

    move: str | None  # why it may not move (ordinary or rail), or None
    attack: str | None  # why it may not attack at all, or None
    keep_out: np.ndarray | None  # (n,) bool: hexes it may not enter or attack into (None: none)
    keep_out_why: str = ""

    def enters(self, hexes: Sequence[int] | int) -> bool:
        """Whether the unit may not enter (any of) these hexes."""
        return self.keep_out is not None and bool(self.keep_out[hexes].any())


FREE = Forbidden(None, None, None)


def in_force(state: GameState, order) -> bool:
    """Whether an order binds now (dates compared with the turn's first day, as the AI's axes)."""
    if order.start is not None and state.date < order.start:
        return False
    if order.end is not None and state.date >= order.end:
        return False
    if order.after_event is not None and order.after_event not in state.fired:
        return False
    return order.until_event is None or order.until_event not in state.fired


def _names(order, u: Unit) -> bool:
    return (u.id not in order.except_units and (not order.units or u.id in order.units)
            and (not order.formations or u.formation in order.formations)
            and (not order.unit_types or u.type in order.unit_types))


def _orders_now(ctx: Context, state: GameState, side: int) -> tuple:
    """The side's orders in force now (few: a scenario has a handful)."""
    return tuple(o for o in ctx.doctrine[side] if in_force(state, o))


def forbidden(ctx: Context, state: GameState, u: Unit) -> Forbidden:
    """What the orders in force forbid unit `u` now (:data:`FREE` when nothing)."""
    if not ctx.doctrine[u.side]:
        return FREE
    move = attack = None
    zones: list[str] = []
    why = ""
    for o in _orders_now(ctx, state, u.side):
        if not _names(o, u):
            continue
        if o.stand and move is None:
            move = f"{u.name} is held back by the order '{o.name}'"
        if o.no_attack and attack is None:
            attack = f"{u.name} may not attack under the order '{o.name}'"
        if move is None and o.hold and u.hex in ctx.doctrine_hold[o.id]:
            move = f"{u.name} holds {ctx.hex_name(u.hex)} to the last under the order '{o.name}'"
        active = [rid for rid in o.keep_out if state.regions_active.get(rid)]
        if active and not why:
            why = f"the order '{o.name}' keeps {u.name} out of {ctx.regions[active[0]].name}"
        zones += active
    if move is None and attack is None and not zones:
        return FREE
    return Forbidden(move, attack, _union(ctx, tuple(sorted(set(zones)))) if zones else None, why)


def _union(ctx: Context, regions: tuple[str, ...]) -> np.ndarray:
    """The hexes of these regions (read-only), kept for each set of regions asked for: the
    listing of legal actions asks for it once per unit."""
    def make() -> np.ndarray:
        mask = np.zeros(ctx.n, dtype=bool)
        for rid in regions:
            mask |= ctx.region_mask[rid]
        return mask

    return ctx.caches.cache("doctrine.keep_out", 64).get(regions, make)


def binding(ctx: Context, state: GameState, u: Unit) -> list[str]:
    """The orders in force that bind `u` now, each as 'its name: what it forbids' (for a panel)."""
    out = []
    for o in _orders_now(ctx, state, u.side):
        if not _names(o, u):
            continue
        zones = [ctx.regions[r].name for r in o.keep_out if state.regions_active.get(r)]
        what = [w for w, on in (("no moves", o.stand), ("no attacks", o.no_attack),
                                ("hold " + ", ".join(ctx.places[p].name for p in o.hold), bool(o.hold)),
                                (f"keep out of {zones[0] if len(zones) == 1 else f'{len(zones)} regions'}",
                                 bool(zones))) if on]
        if not what:
            continue
        until = [f"until {o.end.isoformat()}"] if o.end is not None else []
        if o.until_event is not None:
            until.append(f"until '{ctx.events[o.until_event].name}'")
        out.append(f"{o.name}: {'; '.join(what)}" + (f" ({', '.join(until)})" if until else ""))
    return out


def _attack_refused(ctx: Context, state: GameState, u: Unit, target: int) -> str | None:
    """Why the orders keep `u` out of an attack on `target`, or None when they let it join."""
    f = forbidden(ctx, state, u)
    return f.attack or (f.keep_out_why if f.enters(target) else None)


def may_attack(ctx: Context, state: GameState, u: Unit, target: int) -> bool:
    """Whether the orders let `u` join an attack on `target` (the rules' other conditions apart)."""
    return _attack_refused(ctx, state, u, target) is None


def why_not_attack(ctx: Context, state: GameState, units: Sequence[Unit], target: int) -> str | None:
    """Why the orders keep every one of `units` out of an attack on `target`, or None when one
    of them may attack."""
    reasons = [_attack_refused(ctx, state, u, target) for u in units]
    return None if not reasons or None in reasons else reasons[0]


def stacks_that_may_attack(ctx: Context, state: GameState, by_hex: dict[int, list[Unit]],
                           target: int) -> dict[int, list[Unit]]:
    """`by_hex` (hex -> eligible attackers there) cut to the hexes next to `target` and to the
    units there the orders let attack it, hexes left with none dropped; with no orders in the
    scenario, `by_hex` itself (read only its hexes next to `target`)."""
    if not any(ctx.doctrine):
        return by_hex
    out = {}
    for h in ctx.nb_list[target]:
        kept = [u for u in by_hex.get(h, ()) if may_attack(ctx, state, u, target)]
        if kept:
            out[h] = kept
    return out


__all__ = ["FREE", "Forbidden", "binding", "forbidden", "in_force", "may_attack", "stacks_that_may_attack",
           "why_not_attack"]
