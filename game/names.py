"""The names the engine gives its basic values, one meaning per name.

* a **side** is either a :data:`SideId` (the scenario's id, ``"red"``; what files, saves, players,
  reports and the ledger use) or a :data:`SideIndex` (its position in ``meta.sides``, 0, 1, ...; what
  the arrays of the rules use). Functions say which one they take or return.
* a **hex** is either a :data:`HexIndex` (the flat index of a map hex, 0..n-1, -1 for none; what
  every array of the rules is indexed by), an :data:`Offset` (``(col, row)``, as scenarios, actions
  and players write a hex) or an axial :class:`game.hexgrid.Hex` (``(q, r)``, for hex math only).
"""

from __future__ import annotations

from typing import Literal, TypeAlias

SideId: TypeAlias = str
SideIndex: TypeAlias = int
HexIndex: TypeAlias = int
Offset: TypeAlias = tuple[int, int]

#: A game is being played ("operations": a side's operations phase) or has ended.
Phase: TypeAlias = Literal["operations", "over"]
PHASES: tuple[Phase, ...] = ("operations", "over")

#: Where a unit is: on the map, not yet arrived, gone from the theatre, or destroyed.
Status: TypeAlias = Literal["active", "pending", "withdrawn", "destroyed"]
STATUSES: tuple[Status, ...] = ("active", "pending", "withdrawn", "destroyed")

#: The kinds of the rules' log entries. A region's effects log under the region's kind (declared
#: by the scenario under ``region_kinds``), so a log kind may also be any region kind id.
LogKind: TypeAlias = Literal["event", "message", "capture", "combat", "reinforcement", "withdrawal", "air",
                             "corridor", "victory", "unit"]
LOG_KINDS: tuple[LogKind, ...] = ("event", "message", "capture", "combat", "reinforcement", "withdrawal", "air",
                                  "corridor", "victory", "unit")

#: Loss causes the rules themselves book; a scenario declares any others (``loss_causes``).
ENGINE_LOSS_CAUSES: tuple[str, ...] = ("combat", "attrition", "surrender", "disarmed")

__all__ = ["SideId", "SideIndex", "HexIndex", "Offset", "Phase", "PHASES", "Status", "STATUSES", "LogKind",
           "LOG_KINDS", "ENGINE_LOSS_CAUSES"]
