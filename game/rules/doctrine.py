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


def in_force(ctx: Context, state: GameState, order) -> bool:
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
    return tuple(o for o in ctx.doctrine[side] if in_force(ctx, state, o))


def forbidden(ctx: Context, state: GameState, u: Unit) -> Forbidden:
    """What the orders in force forbid unit `u` now (:data:`FREE` when nothing)."""
    if not ctx.doctrine[u.side]:
        return FREE
    move = attack = None
    mask = None
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
        for rid in o.keep_out:
            if state.regions_active.get(rid):
                region = ctx.region_mask[rid]
                mask = region if mask is None else (mask | region)
                why = why or f"the order '{o.name}' keeps {u.name} out of {ctx.regions[rid].name}"
    if move is None and attack is None and mask is None:
        return FREE
    return Forbidden(move, attack, mask, why)


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


def may_attack(ctx: Context, state: GameState, u: Unit, target: int) -> bool:
    """Whether the orders let `u` join an attack on `target` (the rules' other conditions apart)."""
    f = forbidden(ctx, state, u)
    return f.attack is None and not f.enters(target)


def why_not_attack(ctx: Context, state: GameState, units: Sequence[Unit], target: int) -> str | None:
    """Why the orders keep every one of `units` out of an attack on `target`, or None when one
    of them may attack."""
    reasons = []
    for u in units:
        f = forbidden(ctx, state, u)
        if f.attack is None and not f.enters(target):
            return None
        reasons.append(f.attack or f.keep_out_why)
    return reasons[0] if reasons else None


__all__ = ["FREE", "Forbidden", "binding", "forbidden", "in_force", "may_attack", "why_not_attack"]
