"""The mutable side of a game: units, control, rail, tracks, ledger, log and the one random generator.

A :class:`GameState` is plain data. It round-trips through :meth:`GameState.to_dict` /
:meth:`GameState.from_dict` (JSON-safe, never pickle) and :meth:`GameState.state_hash` is the
SHA-256 of that canonical form, the random generator's state included, so two games that took
the same actions from the same seed have the same hash on any machine.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import numpy as np

from ..names import PHASES, STATUSES, HexIndex, Phase, SideId, SideIndex, Status
from .context import Context

ACTIVE: Final = "active"
PENDING: Final = "pending"
WITHDRAWN: Final = "withdrawn"
DESTROYED: Final = "destroyed"


@dataclass
class Unit:
    id: str
    name: str
    side: SideIndex
    type: str
    strength: int
    max_strength: int
    quality: float
    hex: HexIndex = -1  # -1: not on the map
    status: Status = ACTIVE
    mp: float = 0.0
    moved: bool = False
    attacked: bool = False
    entrenched: int = 0
    out_of_supply: int = 0  # consecutive turns without supply
    supplied: bool = True
    disrupted: bool = False  # routed: no zone of control, cannot attack, half movement
    puppet: bool = False
    formation: str = ""

    @property
    def on_map(self) -> bool:
        return self.status == ACTIVE and self.hex >= 0


@dataclass
class LogEntry:
    turn: int
    date: str
    kind: str  # a game.names.LogKind (event, capture, combat, ...), or the kind of the region that logged it
    text: str
    source: str = ""


#: How a game draws its random numbers. "keyed": each draw is keyed by what it decides (the
#: turn, the phase, what is rolled for and where, and how many such draws came before it in the
#: phase), so changing one roll leaves every unrelated one as it was (common random numbers for
#: paired balance tests). "stream": one PCG64 generator feeds every draw in turn (games and saves
#: made before keyed dice; replayed exactly as they were played).
Dice = Literal["keyed", "stream"]
DICE: tuple[Dice, ...] = ("keyed", "stream")


@dataclass
class GameState:
    seed: int
    rng: np.random.Generator | None  # the stream of "stream" dice; None with keyed dice
    turn: int
    date: dt.date
    active: int  # index into the context's move_order
    phase: Phase  # "operations" or "over"
    units: dict[str, Unit]
    control: np.ndarray  # (n,) int8 side index, -1 nobody
    rail: np.ndarray  # (n,6) int8 edge state (EDGE_NONE / EDGE_INTACT / EDGE_BROKEN)
    regions_active: dict[str, bool]
    air_active: dict[str, bool]
    air_destroyed: dict[str, str]  # air base id -> ISO date
    sea_lanes: dict[str, bool]
    reinforcements_stopped: list[str]
    supply_range_factor: dict[str, float]
    replacement_factor: dict[str, float]
    tracks: dict[str, float]
    fired: dict[str, str]  # event id -> ISO date it fired (last time)
    arrived: list[str]  # reinforcement ids that arrived (or were cancelled)
    withdrawn: list[str]  # withdrawal ids done
    losses: dict[SideId, dict[str, int]]  # side id -> cause -> men
    captures: dict[str, dict[str, str]]  # place id -> {"date", "side"} of its first capture
    owner: dict[str, int]  # place id -> side index holding it now
    replaced: dict[str, int] = field(default_factory=dict)  # side id -> men returned by replacements
    waiting: list[list[str]] = field(default_factory=list)  # event reinforcements (unit ids) not yet landed
    air_intact: dict[str, str] = field(default_factory=dict)  # air base id -> ISO date taken while active
    corridor_opened: str | None = None
    corridor_open: bool = False
    result: dict[str, Any] | None = None
    log: list[LogEntry] = field(default_factory=list)
    actions_taken: int = 0
    dice: Dice = "keyed"
    draws: dict[str, int] = field(default_factory=dict)  # keyed dice: draws so far per key, this phase
    rolls: int = 0  # random draws so far (either dice), so a player can tell that one happened
    # (context, actions_taken, Board): see game.rules.movement.board_for; never serialised or copied
    board_cache: Any = field(default=None, repr=False, compare=False)

    # -- random draws ----------------------------------------------------------------------------

    def die(self, sides: int, *key: str | int) -> int:
        """A roll of a die with `sides` faces (0 .. sides-1) for what `key` names (e.g. "combat"
        and the target hex)."""
        self.rolls += 1
        if self.rng is not None:
            return int(self.rng.integers(sides))
        return min(sides - 1, int(self._keyed(key) * sides))

    def chance(self, *key: str | int) -> float:
        """A uniform number in [0, 1) for what `key` names (e.g. a disarmament test)."""
        self.rolls += 1
        if self.rng is not None:
            return float(self.rng.random())
        return self._keyed(key)

    def _keyed(self, key: tuple[str | int, ...]) -> float:
        """Keyed dice: the draw is a function of the game's seed, the turn, the phase, the key and
        the number of earlier draws with that key in the phase, through a numpy SeedSequence (its
        hash of the spawn key); nothing else, so no other draw moves it."""
        name = ":".join(str(k) for k in (self.turn, self.active, *key))
        n = self.draws.get(name, 0)
        self.draws[name] = n + 1
        return keyed_uniform(self.seed, self.turn, self.active, *key, n)

    # -- copies and serialisation ----------------------------------------------------------------

    def clone(self) -> GameState:
        """A deep copy with its own generator in the same state."""
        new = copy.copy(self)
        if self.rng is not None:
            new.rng = np.random.Generator(np.random.PCG64())
            new.rng.bit_generator.state = self.rng.bit_generator.state
        new.draws = dict(self.draws)
        new.board_cache = None
        new.units = {k: copy.copy(u) for k, u in self.units.items()}
        new.control = self.control.copy()
        new.rail = self.rail.copy()
        for name in ("regions_active", "air_active", "air_destroyed", "sea_lanes", "supply_range_factor",
                     "replacement_factor", "tracks", "fired", "owner", "replaced", "air_intact"):
            setattr(new, name, dict(getattr(self, name)))
        new.reinforcements_stopped = list(self.reinforcements_stopped)
        new.arrived = list(self.arrived)
        new.withdrawn = list(self.withdrawn)
        new.waiting = [list(w) for w in self.waiting]
        new.losses = {s: dict(c) for s, c in self.losses.items()}
        new.captures = {p: dict(c) for p, c in self.captures.items()}
        new.result = copy.deepcopy(self.result)
        new.log = list(self.log)
        return new

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot of everything (the canonical form the hash is taken of)."""
        if self.rng is not None:  # stream dice: the snapshot (and hash) of games before keyed dice
            rng_state = self.rng.bit_generator.state
            dice: dict[str, Any] = {"rng": {"bit_generator": rng_state["bit_generator"],
                                            "state": {k: str(v) for k, v in rng_state["state"].items()},
                                            "has_uint32": rng_state["has_uint32"],
                                            "uinteger": rng_state["uinteger"]}}
        else:
            dice = {"dice": self.dice, "draws": self.draws, "rolls": self.rolls}
        return {
            "seed": self.seed,
            **dice,
            "turn": self.turn,
            "date": self.date.isoformat(),
            "active": self.active,
            "phase": self.phase,
            "units": [asdict(u) for u in self.units.values()],
            "control": self.control.astype(int).tolist(),
            "rail": _sparse_edges(self.rail),
            "regions_active": self.regions_active,
            "air_active": self.air_active,
            "air_destroyed": self.air_destroyed,
            "sea_lanes": self.sea_lanes,
            "reinforcements_stopped": self.reinforcements_stopped,
            "supply_range_factor": self.supply_range_factor,
            "replacement_factor": self.replacement_factor,
            "tracks": self.tracks,
            "fired": self.fired,
            "arrived": self.arrived,
            "withdrawn": self.withdrawn,
            "losses": self.losses,
            "captures": self.captures,
            "owner": self.owner,
            "replaced": self.replaced,
            "waiting": self.waiting,
            # only when there is one: the snapshots (and hashes) of games without stay as they were
            **({"air_intact": self.air_intact} if self.air_intact else {}),
            "corridor_opened": self.corridor_opened,
            "corridor_open": self.corridor_open,
            "result": self.result,
            "log": [asdict(e) for e in self.log],
            "actions_taken": self.actions_taken,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], ctx: Context) -> GameState:
        """Rebuild a state from :meth:`to_dict` output; KeyError/ValueError/TypeError on bad data."""
        dice = _one_of(data.get("dice", "stream"), DICE, "dice")
        rng = None
        if dice == "stream":
            rng = np.random.Generator(np.random.PCG64())
            r = data["rng"]
            rng.bit_generator.state = {"bit_generator": r["bit_generator"],
                                       "state": {k: int(v) for k, v in r["state"].items()},
                                       "has_uint32": int(r["has_uint32"]), "uinteger": int(r["uinteger"])}
        control = np.array(data["control"], dtype=np.int8)
        if control.shape != (ctx.n,):
            raise ValueError(f"control has {control.size} hexes, the scenario's map has {ctx.n}")
        return cls(
            seed=int(data["seed"]), rng=rng, turn=int(data["turn"]), date=dt.date.fromisoformat(data["date"]),
            active=int(data["active"]), phase=_one_of(data["phase"], PHASES, "phase"),
            units={u["id"]: _unit(u) for u in data["units"]},
            control=control, rail=_dense_edges(data["rail"], ctx),
            regions_active=dict(data["regions_active"]), air_active=dict(data["air_active"]),
            air_destroyed=dict(data["air_destroyed"]), sea_lanes=dict(data["sea_lanes"]),
            reinforcements_stopped=list(data["reinforcements_stopped"]),
            supply_range_factor={k: float(v) for k, v in data["supply_range_factor"].items()},
            replacement_factor={k: float(v) for k, v in data["replacement_factor"].items()},
            tracks={k: float(v) for k, v in data["tracks"].items()}, fired=dict(data["fired"]),
            arrived=list(data["arrived"]), withdrawn=list(data["withdrawn"]),
            losses={s: {c: int(m) for c, m in v.items()} for s, v in data["losses"].items()},
            captures={p: dict(c) for p, c in data["captures"].items()},
            owner={k: int(v) for k, v in data["owner"].items()},
            replaced={k: int(v) for k, v in data["replaced"].items()},
            waiting=[list(w) for w in data["waiting"]],
            air_intact={k: str(v) for k, v in data.get("air_intact", {}).items()},
            corridor_opened=data["corridor_opened"], corridor_open=bool(data["corridor_open"]),
            result=data["result"], log=[LogEntry(**e) for e in data["log"]],
            actions_taken=int(data["actions_taken"]), dice=dice,
            draws={str(k): int(v) for k, v in data.get("draws", {}).items()}, rolls=int(data.get("rolls", 0)),
        )

    def state_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()

    # -- queries -------------------------------------------------------------------------------

    def units_at(self, i: HexIndex) -> list[Unit]:
        return [u for u in self.units.values() if u.hex == i and u.status == ACTIVE]

    def side_units(self, side: SideIndex) -> list[Unit]:
        return [u for u in self.units.values() if u.side == side and u.on_map]

    def total_losses(self, side: SideId) -> int:
        return sum(self.losses[side].values())


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> Any:
    if value not in allowed:
        raise ValueError(f"{what} '{value}' is not one of {', '.join(allowed)}")
    return value


def _unit(data: dict[str, Any]) -> Unit:
    unit = Unit(**data)
    _one_of(unit.status, STATUSES, f"unit {unit.id}'s status")
    return unit


def keyed_uniform(seed: int, *key: str | int) -> float:
    """A uniform number in [0, 1) that depends on `seed` and `key` only (words: non-negative
    integers, or strings taken by their CRC-32): numpy's SeedSequence hashes them into the bits."""
    words = tuple(zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in key)
    bits = np.random.SeedSequence(seed, spawn_key=words).generate_state(1, np.uint64)[0]
    return int(bits >> np.uint64(11)) / 2.0**53


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _sparse_edges(edges: np.ndarray) -> list[list[int]]:
    idx, d = np.nonzero(edges)
    return [[int(i), int(k), int(edges[i, k])] for i, k in zip(idx, d)]


def _dense_edges(items: list[list[int]], ctx: Context) -> np.ndarray:
    out = np.zeros((ctx.n, 6), dtype=np.int8)
    for i, k, v in items:
        out[int(i), int(k)] = int(v)
    return out


def new_losses(ctx: Context) -> dict[str, dict[str, int]]:
    causes = ctx.scenario.ledger_causes()
    return {s: {c: 0 for c in causes} for s in ctx.sides}
