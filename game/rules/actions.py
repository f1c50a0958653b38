"""Player actions: small frozen values with a text form, the only way anything changes a game.

Hexes are written as ``column,row`` (the map's offset coordinates), so an action's text reads
the same in a log, a save file and a bug report:

    move jp_37_div 12,5        a unit moves (by its cheapest path) to a hex it can reach
    rail jp_37_div 20,30       strategic rail move along own-held intact rail, away from the enemy
    attack 12,6 from 12,5 13,5 every eligible unit in the listed hexes attacks the target hex
    entrench cn_15_army        dig in (the unit does nothing else this phase)
    evacuate ab_guilin         demolish and leave an own air base the enemy is closing on
    end                        end this side's operations phase

:func:`parse_action` reads the text back; the engine (:mod:`game.rules.engine`) says which
actions are legal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..names import Offset


def _hex(h: Offset) -> str:
    return f"{h[0]},{h[1]}"


@dataclass(frozen=True, order=True)
class _UnitTo:
    """A unit going to a hex; subclasses name the verb."""

    unit: str
    to: Offset
    verb = ""

    def __str__(self) -> str:
        return f"{self.verb} {self.unit} {_hex(self.to)}"


@dataclass(frozen=True, order=True)
class Move(_UnitTo):
    verb = "move"


@dataclass(frozen=True, order=True)
class RailMove(_UnitTo):
    verb = "rail"


@dataclass(frozen=True, order=True)
class Attack:
    target: Offset
    from_hexes: tuple[Offset, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "from_hexes", tuple(sorted(self.from_hexes)))

    def __str__(self) -> str:
        return f"attack {_hex(self.target)} from {' '.join(_hex(h) for h in self.from_hexes)}"


@dataclass(frozen=True, order=True)
class Entrench:
    unit: str

    def __str__(self) -> str:
        return f"entrench {self.unit}"


@dataclass(frozen=True, order=True)
class Evacuate:
    air_base: str

    def __str__(self) -> str:
        return f"evacuate {self.air_base}"


@dataclass(frozen=True, order=True)
class EndPhase:
    def __str__(self) -> str:
        return "end"


Action = Move | RailMove | Attack | Entrench | Evacuate | EndPhase

_HEX = r"(-?\d+),(-?\d+)"


def parse_action(text: str) -> Action:
    """Parse an action's text form; ValueError with a readable reason when it is not one."""
    words = text.strip().split()
    if not words:
        raise ValueError("empty action")
    verb = words[0]
    try:
        if verb == "end" and len(words) == 1:
            return EndPhase()
        if verb in ("move", "rail") and len(words) == 3:
            cls = Move if verb == "move" else RailMove
            return cls(words[1], _parse_hex(words[2]))
        if verb == "entrench" and len(words) == 2:
            return Entrench(words[1])
        if verb == "evacuate" and len(words) == 2:
            return Evacuate(words[1])
        if verb == "attack" and len(words) >= 4 and words[2] == "from":
            return Attack(_parse_hex(words[1]), tuple(_parse_hex(w) for w in words[3:]))
    except ValueError as exc:
        raise ValueError(f"'{text}': {exc}") from None
    raise ValueError(f"'{text}' is not an action; expected 'move UNIT C,R', 'rail UNIT C,R', "
                     "'attack C,R from C,R ...', 'entrench UNIT', 'evacuate AIR_BASE' or 'end'")


def _parse_hex(word: str) -> Offset:
    m = re.fullmatch(_HEX, word)
    if not m:
        raise ValueError(f"'{word}' is not a hex; expected column,row such as 12,5")
    return (int(m.group(1)), int(m.group(2)))
