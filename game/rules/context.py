"""The static side of a game: a validated scenario compiled into arrays, built once per scenario.

Nothing here changes during a game (that is :mod:`game.rules.state`). The :class:`Context` holds
the map, the movement costs per movement class, the hexside river costs, the rail and road
edges, defence modifiers, places, air base footprints, region masks and supply sources, all as
numpy arrays or small lookups, so the per-turn work runs as array operations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..cache import CacheSet
from ..diagnostics import InputError
from ..names import HexIndex, SideIndex
from ..scenario import compiled, records
from ..scenario.build import EDGE_INTACT, ScenarioMap

if TYPE_CHECKING:
    from ..scenario import model

INF = np.inf


@dataclass(frozen=True)
class AirBaseInfo:
    id: str
    side: SideIndex
    hex: int
    cover: np.ndarray  # (n,) bool: hexes within range
    support_shift: int
    interdiction: bool
    approach: np.ndarray | None = None  # (n,) bool: where an enemy unit lets the owner evacuate it


@dataclass(frozen=True)
class SicknessInfo:
    """One of ``rules.sickness``, compiled: the terrain factors as a factor per hex."""

    side: SideIndex
    unit_types: frozenset[str]  # the types it strikes (empty: all)
    rate_per_day: float
    terrain: np.ndarray  # (n,) float: the terrain factor of each hex
    months: dict[int, float]
    out_of_supply: float
    region_kinds: dict[str, float]
    cause: str


class Context:
    """Everything about a scenario the rules need, compiled for speed."""

    def __init__(self, scenario: model.Scenario, smap: ScenarioMap, *, content_hash: str = "",
                 path: str = ""):
        # the scenario as records: the rules never touch a pydantic object (see records)
        scenario = records.freeze(scenario)
        self.scenario = scenario
        self.map = smap
        self.path = path
        self.content_hash = content_hash
        self.hm = smap.hexmap
        self.n = self.hm.n
        self.neighbours = self.hm.neighbours
        self.nb_list = self.neighbours.tolist()  # for the Python loops of path searches
        self.offsets = list(zip(self.hm.col.tolist(), self.hm.row.tolist()))  # hex index -> (col, row)
        rules = scenario.rules
        self.rules = rules
        meta = scenario.meta
        self.sides = [s.id for s in meta.sides]
        self.side_index = {s: k for k, s in enumerate(self.sides)}
        self.move_order = [self.side_index[s] for s in meta.move_order]
        self.start_date = meta.start_date
        self.days_per_turn = meta.days_per_turn
        self.turns = meta.turns
        self.unit_types = {t.id: t for t in rules.unit_types}
        self.zoc_types = frozenset(t.id for t in rules.unit_types if t.zoc)  # types exerting a zone of control
        self.classes = list(rules.movement_classes)
        self.class_index = {c: k for k, c in enumerate(self.classes)}
        nb = self.neighbours
        valid = nb >= 0
        safe_nb = np.where(valid, nb, 0)

        terrains = rules.terrain
        self.terrain = smap.terrain
        self.water = np.array([t.water for t in terrains])[self.terrain]
        # movement: cost to enter each hex, per movement class (inf: cannot enter)
        self.enter_cost = np.full((len(self.classes), self.n), INF)
        for c, cls in enumerate(self.classes):
            per_terrain = np.array([t.move_cost.get(cls, INF) for t in terrains])
            self.enter_cost[c] = per_terrain[self.terrain]
        self.defence_shift = np.array([t.defence_shift for t in terrains])[self.terrain]
        supply_cost = np.array([t.supply_cost if not t.water else INF for t in terrains])[self.terrain]
        # rivers on hexsides
        river_classes = rules.river_classes
        extra = np.array([0.0] + [c.extra_move_cost for c in river_classes])
        shift = np.array([0] + [c.defence_shift for c in river_classes])
        rsupply = np.array([0.0] + [c.supply_cost for c in river_classes])
        self.river_move = extra[smap.river]  # (n,6)
        self.river_shift = shift[smap.river]  # (n,6)
        # lines
        self.road = smap.road == EDGE_INTACT  # (n,6) bool
        self.rail_initial = smap.rail.copy()  # (n,6) int8, state keeps the current copy
        self.has_rail = smap.rail != 0
        self.rail_cost = self._line_cost(rules.rail)
        self.road_cost = self._line_cost(rules.road)
        self.strategic_hexes = rules.rail.strategic_hexes if rules.rail else 0
        repair = rules.rail.repair_per_turn if rules.rail else 0
        self.repair_per_turn = [int(repair.get(side, 0) if isinstance(repair, dict) else repair) for side in self.sides]
        # static part of the step costs per class (terrain + river, or road), as lists for the
        # Python loops of path searches; rail, enemy units and interdiction are added per board
        self.static_step: list[list[list[float]]] = []
        for c in range(len(self.classes)):
            cost = np.where(valid, self.enter_cost[c][safe_nb] + self.river_move, INF)
            if np.isfinite(self.road_cost[c]):
                cost = np.where(self.road & ~self.water[safe_nb], np.minimum(cost, self.road_cost[c]), cost)
            cost = np.where(valid & ~self.water[safe_nb], cost, INF)
            self.static_step.append(cost.tolist())
        # supply: cost of tracing across country from i into neighbour d
        self.cross_cost = np.where(valid, supply_cost[safe_nb] + rsupply[smap.river], INF)
        # places
        self.place_hex = dict(smap.place_hex)
        self.places = {p.id: p for p in scenario.map.places}
        self.fort = np.zeros(self.n, dtype=np.int16)
        self.city = np.zeros(self.n, dtype=bool)
        self.place_at: dict[int, str] = {}  # hex -> its first place (for names)
        self.places_at = smap.hex_places  # hex -> every place on it
        for p in scenario.map.places:
            i = self.place_hex[p.id]
            self.fort[i] = max(self.fort[i], p.fortification)
            self.city[i] |= p.kind == "city"
            self.place_at.setdefault(i, p.id)
        self.sources = [(p.id, self.place_hex[p.id], p.kind == "port")
                        for p in scenario.map.places if p.supply_source or p.capital]
        # air bases
        km = self.hm.hex_km
        self.air_bases: dict[str, AirBaseInfo] = {}
        for b in scenario.air_bases:
            i = self.place_hex[b.place]
            dist = self.hm.distances_from(i)
            evac = rules.air.evacuate_within
            self.air_bases[b.id] = AirBaseInfo(b.id, self.side_index[b.side], i, dist * km <= b.range_km,
                                               b.air_support_shift, b.interdiction,
                                               None if evac is None else dist <= evac)
        self.regions = {r.id: r for r in scenario.regions}
        self.region_kinds = {r.kind: scenario.region_kind(r.kind) for r in scenario.regions}
        self.region_cause = {r.id: scenario.region_loss_cause(r) for r in scenario.regions}
        self.region_mask = dict(smap.region_masks)
        terrain_ids = [t.id for t in terrains]
        self.sickness = [SicknessInfo(self.side_index[k.side], frozenset(k.unit_types), k.rate_per_day,
                                      np.array([k.terrain.get(t, 1.0) for t in terrain_ids])[self.terrain],
                                      dict(k.months), k.out_of_supply, dict(k.region_kinds), k.loss_cause)
                         for k in rules.sickness]
        self.tracks = {t.id: t for t in scenario.tracks}
        # standing orders per side index, and the hexes of each order's hold places
        self.doctrine: list[tuple] = [tuple(o for o in scenario.doctrine if self.side_index[o.side] == s)
                                      for s in range(len(self.sides))]
        self.doctrine_hold = {o.id: frozenset(self.place_hex[p] for p in o.hold) for o in scenario.doctrine}
        self.events = {e.id: e for e in scenario.events}
        self.history = list(scenario.history)
        v = scenario.victory
        self.corridor = v.corridor
        if v.corridor is not None:
            self.corridor_from = [self.place_hex[p] for p in v.corridor.from_]
            self.corridor_to = [self.place_hex[p] for p in v.corridor.to]
        self.unit_specs: dict[str, model.Unit] = {}
        for u in scenario.units:
            self.unit_specs[u.id] = u
        for r in scenario.reinforcements:
            for u in r.units:
                self.unit_specs[u.id] = u
        for e in scenario.events:
            for eff in e.effects:
                if eff.type == "reinforce":
                    for u in eff.units:
                        self.unit_specs[u.id] = u
        self.results = rules.combat.results
        self.odds_values = np.array(rules.combat.odds_values())
        # derived data computed on demand and kept (air layers, rail adjacency, the AI's cost
        # fields): named, bounded, thread-safe caches, the only mutable part of a context
        self.caches = CacheSet()
        self._air_layer_cache = self.caches.cache("air_layers", 256)

    def _line_cost(self, spec: model.LineRules | None) -> np.ndarray:
        """Cost per hex along a rail or road, per movement class (inf: the class cannot use it)."""
        return np.array([spec.move_cost.get(c, INF) if spec else INF for c in self.classes])

    def air_layers(self, active: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(cover, interdicted) for a set of active air bases: cover[s, i] is side s's best air
        support shift over hex i, interdicted[s, i] whether hex i lies in an enemy base's range.
        Cached: the layers change only when a base is activated, evacuated or destroyed."""
        return self._air_layer_cache.get(active, lambda: self._make_air_layers(active))

    def _make_air_layers(self, active: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        sides = len(self.sides)
        cover = np.zeros((sides, self.n), dtype=np.int16)
        interdicted = np.zeros((sides, self.n), dtype=bool)
        for base_id in active:
            base = self.air_bases[base_id]
            cover[base.side] = np.maximum(cover[base.side], np.where(base.cover, base.support_shift, 0))
            if base.interdiction:
                for s in range(sides):
                    if s != base.side:
                        interdicted[s] |= base.cover
        return cover, interdicted

    # -- calendar ------------------------------------------------------------------------------

    def turn_date(self, turn: int) -> dt.date:
        """First day of a turn (turn 1 starts on the scenario's start date)."""
        return self.start_date + dt.timedelta(days=self.days_per_turn * (turn - 1))

    # -- hexes ---------------------------------------------------------------------------------

    def hex_text(self, i: HexIndex) -> str:
        col, row = self.hm.offset_of(i)
        return f"{col},{row}"

    def hex_name(self, i: HexIndex) -> str:
        """A place name when the hex has one, else 'col,row'."""
        pid = self.place_at.get(i)
        return self.places[pid].name if pid else f"hex {self.hex_text(i)}"


def scenario_hash(scenario: model.Scenario) -> str:
    """A content hash of the merged scenario (saves refuse to load against a different one)."""
    text = json.dumps(scenario.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def load_context(path: str | Path, overrides: Mapping[str, object] | None = None) -> Context:
    """Validate and compile a scenario file; InputError with every diagnostic when it is bad.

    `overrides` ({dotted path: value}) change values of the merged scenario before validation
    (balance sweeps; see :mod:`game.scenario.overrides`). A scenario loaded before, whose files
    and the engine's scenario code are unchanged, comes from :mod:`game.scenario.compiled`
    (the same scenario and map, without the quarter second of validation)."""
    path = Path(path)
    cached = compiled.load(path, overrides)
    if cached is not None:
        scenario, smap, content_hash, parts = cached
        records.install(parts)
        return Context(scenario, smap, content_hash=content_hash, path=str(path))
    from ..scenario.validate import validate_file  # only on a miss: the validators take time to import

    report = validate_file(path, overrides=overrides)
    if not report.ok:
        raise InputError(report.result.diagnostics.errors)
    scenario = report.result.scenario
    assert scenario is not None and report.map is not None  # a report without errors has both
    content_hash = scenario_hash(scenario)
    frozen = records.freeze(scenario)
    compiled.store(path, overrides, report.result.files, (frozen, report.map, content_hash, records.table()))
    return Context(frozen, report.map, content_hash=content_hash, path=str(path))


__all__ = ["Context", "AirBaseInfo", "load_context", "scenario_hash"]
