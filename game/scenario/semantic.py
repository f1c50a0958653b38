"""Semantic checks of a scenario: what the types alone cannot say.

Run after structural validation (:mod:`game.scenario.loader`) on whatever sections validated, so
a broken section hides no problem elsewhere. Each check reports at the YAML path of the culprit:
duplicate ids, references to unknown sides, places, unit types, terrain, movement classes,
regions, tracks, air bases, events and units; dates outside the campaign; units off the map, on
impassable hexes or over-stacked; railways through water; combat tables of the wrong shape;
victory bands out of order.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from ..diagnostics import DiagnosticList, did_you_mean, one_of
from ..names import ENGINE_LOSS_CAUSES
from . import model
from .build import ScenarioMap, build_map
from .loader import LoadResult, position_of


class Checker:
    def __init__(self, result: LoadResult):
        self.raw = result.raw
        self.diags: DiagnosticList = result.diagnostics
        self.s: dict[str, Any] = result.sections
        self.map: ScenarioMap | None = None

    # -- reporting -----------------------------------------------------------------------------

    def report(self, path: tuple, message: str, severity: str = "error") -> None:
        pos = position_of(self.raw, path)
        if severity == "error":
            self.diags.error(pos, message, path)
        else:
            self.diags.warning(pos, message, path)

    def ref(self, value: str | None, pool: Iterable[str] | None, what: str, path: tuple) -> bool:
        """Report `value` when it is not in `pool`; True when it is fine, absent or uncheckable."""
        if value is None or pool is None:
            return True
        pool = list(pool)
        if value in pool:
            return True
        self.report(path, f"unknown {what} '{value}'{did_you_mean(value, pool)} (expected one of: {one_of(pool)})")
        return False

    def unique(self, items: Iterable[tuple[str, tuple]], what: str) -> None:
        seen: dict[str, tuple] = {}
        for ident, path in items:
            if ident in seen:
                first = position_of(self.raw, seen[ident])
                here = position_of(self.raw, path)
                at = f"line {first.line}" if first.file == here.file else f"{first.file}:{first.line}"
                self.report(path, f"duplicate {what} id '{ident}' (first defined at {at}); "
                                  "expected each id once")
            else:
                seen[ident] = path

    # -- id pools --------------------------------------------------------------------------------

    def raw_ids(self, *path: str) -> list[str] | None:
        """The ids of the list at `path` in the raw tree, valid items or not; None when there is
        no such list (then references to it are not checked, the structural error says why)."""
        node = self.raw
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        if node is None:
            return []
        if not isinstance(node, list):
            return None
        return _ids(node)

    @property
    def sides(self) -> list[str] | None:
        return self.raw_ids("meta", "sides")

    @property
    def places(self) -> list[str] | None:
        return self.raw_ids("map", "places")

    def each(self, name: str):
        """(index, item) for the structurally valid items of a list section."""
        for k, item in enumerate(self.s.get(name) or []):
            if item is not None:
                yield k, item

    def unit_ids(self) -> list[str] | None:
        """Ids of every unit in the raw tree: at the start, in reinforcements and in events."""
        ids = self.raw_ids("units")
        if ids is None:
            return None
        for item in _dicts(self.raw.get("reinforcements")):
            ids += _ids(item.get("units"))
        for event in _dicts(self.raw.get("events")):
            for effect in _dicts(event.get("effects")):
                if effect.get("type") == "reinforce":
                    ids += _ids(effect.get("units"))
        return ids

    def all_units(self) -> list[tuple[model.Unit, tuple, str]]:
        """Every unit with its path and where it comes from: 'start', 'reinforcement', 'event'."""
        out: list[tuple[model.Unit, tuple, str]] = [(u, ("units", k), "start") for k, u in self.each("units")]
        for k, r in self.each("reinforcements"):
            out += [(u, ("reinforcements", k, "units", j), "reinforcement") for j, u in enumerate(r.units)]
        for k, e in self.each("events"):
            for j, eff in enumerate(e.effects):
                if isinstance(eff, model.EffectReinforce):
                    out += [(u, ("events", k, "effects", j, "units", i), "event") for i, u in enumerate(eff.units)]
        return out

    # -- the checks ------------------------------------------------------------------------------

    def run(self) -> ScenarioMap | None:
        self.check_meta()
        self.check_rules()
        self.check_map_refs()
        self.build()
        self.check_units()
        self.check_schedule()
        self.check_regions_air_tracks()
        self.check_kinds_and_causes()
        self.check_events()
        self.check_victory()
        self.check_history()
        self.check_ai()
        self.check_doctrine()
        return self.map

    def check_meta(self) -> None:
        meta: model.Meta | None = self.s.get("meta")
        if meta is None:
            return
        self.unique(((s.id, ("meta", "sides", k, "id")) for k, s in enumerate(meta.sides)), "side")
        for k, side in enumerate(meta.move_order):
            self.ref(side, self.sides, "side", ("meta", "move_order", k))
        sides = self.sides
        assert sides is not None  # meta is valid, so its 'sides' is a list
        missing = [s for s in sides if s not in meta.move_order]
        counts = Counter(meta.move_order)
        if missing or any(c > 1 for c in counts.values()):
            self.report(("meta", "move_order"), "move_order must name every side exactly once "
                                                f"(sides: {', '.join(sides)})")

    def check_rules(self) -> None:
        rules: model.Rules | None = self.s.get("rules")
        if rules is None:
            return
        classes = rules.movement_classes
        self.unique(((c, ("rules", "movement_classes", k)) for k, c in enumerate(classes)), "movement class")
        self.unique(((t.id, ("rules", "terrain", k, "id")) for k, t in enumerate(rules.terrain)), "terrain")
        self.unique(((t.id, ("rules", "unit_types", k, "id")) for k, t in enumerate(rules.unit_types)), "unit type")
        self.unique(((c.id, ("rules", "river_classes", k, "id")) for k, c in enumerate(rules.river_classes)),
                    "river class")
        for k, t in enumerate(rules.terrain):
            for cls in t.move_cost:
                self.ref(cls, classes, "movement class", ("rules", "terrain", k, "move_cost", cls))
            if t.water and t.move_cost:
                self.report(("rules", "terrain", k, "move_cost"), f"terrain '{t.id}' is water but has move "
                                                                  "costs; water cannot be entered by land units")
        if rules.rail is not None and isinstance(rules.rail.repair_per_turn, dict) and self.sides is not None:
            for side in rules.rail.repair_per_turn:
                self.ref(side, self.sides, "side", ("rules", "rail", "repair_per_turn", side))
        for name in ("rail", "road"):
            line = getattr(rules, name)
            if line is not None:
                for cls in line.move_cost:
                    self.ref(cls, classes, "movement class", ("rules", name, "move_cost", cls))
        for k, u in enumerate(rules.unit_types):
            self.ref(u.movement_class, classes, "movement class", ("rules", "unit_types", k, "movement_class"))
        combat = rules.combat
        if len(combat.table) != combat.die_sides:
            self.report(("rules", "combat", "table"), f"the combat table has {len(combat.table)} rows; expected "
                                                      f"one per die roll ({combat.die_sides})")
        for r, row in enumerate(combat.table):
            if len(row) != len(combat.odds):
                self.report(("rules", "combat", "table", r), f"row {r + 1} has {len(row)} results; expected one "
                                                             f"per odds column ({len(combat.odds)})")
            for c, code in enumerate(row):
                self.ref(code, combat.results, "combat result", ("rules", "combat", "table", r, c))
        q = rules.quality
        if q.min > q.max:
            self.report(("rules", "quality"), f"quality min {q.min} is above max {q.max}")
        for k, step in enumerate(rules.supply.ladder[1:], start=1):
            if step.turns_out <= rules.supply.ladder[k - 1].turns_out:
                self.report(("rules", "supply", "ladder", k, "turns_out"),
                            "supply ladder steps must have increasing turns_out")

    def check_map_refs(self) -> None:
        m: model.MapSpec | None = self.s.get("map")
        if m is None:
            return
        self.unique(((p.id, ("map", "places", k, "id")) for k, p in enumerate(m.places)), "place")
        for kind in ("rivers", "railways", "roads", "lakes"):
            self.unique(((x.id, ("map", kind, k, "id")) for k, x in enumerate(getattr(m, kind))), kind[:-1])
        self.unique(((x.id, ("map", kind, k, "id")) for kind in ("railways", "roads")
                     for k, x in enumerate(getattr(m, kind))), "line")
        if self.s.get("meta"):
            for k, p in enumerate(m.places):
                self.ref(p.owner, self.sides, "side", ("map", "places", k, "owner"))
            for k, c in enumerate(m.control):
                self.ref(c.side, self.sides, "side", ("map", "control", k, "side"))
            self.ref(m.default_control, self.sides, "side", ("map", "default_control"))

    def build(self) -> None:
        m: model.MapSpec | None = self.s.get("map")
        if m is None:
            return
        self.map = build_map(m, self.s.get("rules"), self.sides or [], [x for _, x in self.each("regions")],
                             self.report)
        rules: model.Rules | None = self.s.get("rules")
        if rules is None:
            return
        water = np.array([t.water for t in rules.terrain])
        for k, p in enumerate(m.places):
            i = self.map.place_hex.get(p.id, -1)
            if i >= 0 and water[self.map.terrain[i]]:
                self.report(("map", "places", k),
                            f"place '{p.id}' falls on a {self.map.terrain_ids[self.map.terrain[i]]} "
                            "hex; expected land (move it or correct the terrain)")

    def unit_hex(self, unit: model.Unit, path: tuple) -> int:
        assert self.map is not None
        hm = self.map.hexmap
        if unit.hex is not None:
            col, row = unit.hex
            if not hm.contains(col, row):
                self.report(path + ("hex",), f"unit '{unit.id}' at hex [{col}, {row}] is off the map "
                                             f"(columns 0..{hm.cols - 1}, rows 0..{hm.rows - 1})")
                return -1
            return hm.index(col, row)
        if isinstance(unit.at, str):
            if unit.at in self.map.place_hex:
                return self.map.place_hex[unit.at]
            self.ref(unit.at, self.places, "place", path + ("at",))
            return -1
        assert unit.at is not None  # the caller checked that the unit has one of 'at' or 'hex'
        i = hm.latlon_to_index(*unit.at)
        if i < 0:
            self.report(path + ("at",), f"unit '{unit.id}' at {list(unit.at)} is off the map")
        return int(i)

    def check_units(self) -> None:
        units = self.all_units()
        self.unique(((u.id, p + ("id",)) for u, p, _ in units), "unit")
        rules: model.Rules | None = self.s.get("rules")
        types = {t.id: t for t in rules.unit_types} if rules else {}
        stack: dict[int, list[tuple[model.Unit, tuple]]] = {}
        for u, path, origin in units:
            if self.s.get("meta"):
                self.ref(u.side, self.sides, "side", path + ("side",))
            if rules:
                self.ref(u.type, types, "unit type", path + ("type",))
                q = rules.quality
                if not q.min <= u.quality <= q.max:
                    self.report(path + ("quality",), f"quality {u.quality} is outside rules.quality "
                                                     f"{q.min}..{q.max}")
                if u.strength < rules.min_strength:
                    self.report(path + ("strength",), f"unit '{u.id}' has {u.strength:,} "
                                                      f"{'man' if u.strength == 1 else 'men'}, fewer than "
                                                      f"rules.min_strength ({rules.min_strength:,}), below which "
                                                      "a unit disbands; expected at least that many")
            if origin != "start":
                if u.at is not None or u.hex is not None:
                    key = "at" if u.at is not None else "hex"
                    self.report(path + (key,), f"unit '{u.id}' arrives with its "
                                               f"{'reinforcement' if origin == 'reinforcement' else 'event'}; "
                                               "give the place there, not on the unit")
                continue
            if (u.at is None) == (u.hex is None):
                self.report(path, f"unit '{u.id}' needs exactly one of 'at' (place id or [lat, lon]) or 'hex'")
                continue
            if self.map is None:
                continue
            i = self.unit_hex(u, path)
            if i < 0:
                continue
            stack.setdefault(i, []).append((u, path))
            utype = types.get(u.type)
            if utype is not None:
                assert rules is not None  # without rules there are no unit types
                tid = self.map.terrain_ids[self.map.terrain[i]]
                terrain = next(t for t in rules.terrain if t.id == tid)
                if utype.movement_class not in terrain.move_cost:
                    self.report(path + ("at" if u.at is not None else "hex",),
                                f"unit '{u.id}' starts on a {tid} hex, which {utype.movement_class} units "
                                "cannot enter; expected a passable hex")
        if rules and self.map is not None:
            limit = rules.stacking.max_units
            for i, members in stack.items():
                if len(members) > limit:
                    col, row = self.map.hexmap.offset_of(i)
                    for u, path in members[limit:]:
                        self.report(path, f"unit '{u.id}' over-stacks hex [{col}, {row}]: {len(members)} units "
                                          f"there at the start, the limit is {limit}")

    def in_campaign(self, date: dt.date | None, path: tuple, what: str, severity: str = "error") -> None:
        meta: model.Meta | None = self.s.get("meta")
        if meta is None or date is None:
            return
        end = meta.end_date()
        if not meta.start_date <= date <= end:
            self.report(path, f"{what} date {date.isoformat()} is outside the campaign "
                              f"({meta.start_date.isoformat()} to {end.isoformat()})", severity)

    def check_schedule(self) -> None:
        self.unique(((r.id, ("reinforcements", k, "id")) for k, r in self.each("reinforcements")), "reinforcement")
        self.unique(((w.id, ("withdrawals", k, "id")) for k, w in self.each("withdrawals")), "withdrawal")
        for k, r in self.each("reinforcements"):
            self.in_campaign(r.date, ("reinforcements", k, "date"), "reinforcement")
            self.point_ref(r.at, ("reinforcements", k, "at"))
            for j, p in enumerate(r.fallback):
                self.ref(p, self.places, "place", ("reinforcements", k, "fallback", j))
        unit_ids = self.unit_ids()
        for k, w in self.each("withdrawals"):
            self.in_campaign(w.date, ("withdrawals", k, "date"), "withdrawal")
            for j, uid in enumerate(w.units):
                self.ref(uid, unit_ids, "unit", ("withdrawals", k, "units", j))

    def point_ref(self, point, path: tuple) -> None:
        if isinstance(point, str):
            self.ref(point, self.places, "place", path)
        elif self.map is not None and self.map.hexmap.latlon_to_index(*point) < 0:
            self.report(path, f"{list(point)} is off the map")

    def check_regions_air_tracks(self) -> None:
        self.unique(((r.id, ("regions", k, "id")) for k, r in self.each("regions")), "region")
        for k, r in self.each("regions"):
            for side in r.effects:
                self.ref(side, self.sides, "side", ("regions", k, "effects", side))
        self.unique(((b.id, ("air_bases", k, "id")) for k, b in self.each("air_bases")), "air base")
        m: model.MapSpec | None = self.s.get("map")
        kinds = {p.id: p.kind for p in m.places} if m else {}
        for k, b in self.each("air_bases"):
            if (self.ref(b.place, self.places, "place", ("air_bases", k, "place"))
                    and kinds.get(b.place) not in (None, "air_base", "city", "town")):
                self.report(("air_bases", k, "place"), f"air base '{b.id}' is at '{b.place}', a {kinds[b.place]}",
                            "warning")
            self.ref(b.side, self.sides, "side", ("air_bases", k, "side"))
        supply: model.SupplySetup | None = self.s.get("supply")
        if supply is not None:
            for side in supply.sea_lanes_open:
                self.ref(side, self.sides, "side", ("supply", "sea_lanes_open", side))
        self.unique(((t.id, ("tracks", k, "id")) for k, t in self.each("tracks")), "track")
        for k, t in self.each("tracks"):
            for j, d in enumerate(t.drivers):
                self.ref(d.side, self.sides, "side", ("tracks", k, "drivers", j, "side"))
                if d.on == "losses" and d.per_men is None:
                    self.report(("tracks", k, "drivers", j), "a 'losses' driver needs 'per_men'")

    def check_kinds_and_causes(self) -> None:
        """Region kinds and loss causes are the scenario's own: each used one is declared once."""
        self.unique(((k.id, ("region_kinds", j, "id")) for j, k in self.each("region_kinds")), "region kind")
        self.unique(((c.id, ("loss_causes", j, "id")) for j, c in self.each("loss_causes")), "loss cause")
        kinds = self.raw_ids("region_kinds")
        causes = self.raw_ids("loss_causes")
        causes = None if causes is None else list(ENGINE_LOSS_CAUSES) + causes
        for j, k in self.each("region_kinds"):
            if k.loss_cause is not None:
                self.ref(k.loss_cause, causes, "loss cause", ("region_kinds", j, "loss_cause"))
        for k, r in self.each("regions"):
            self.ref(r.kind, kinds, "region kind", ("regions", k, "kind"))
            if r.loss_cause is not None:
                self.ref(r.loss_cause, causes, "loss cause", ("regions", k, "loss_cause"))
        for k, h in self.each("history"):
            for j, c in enumerate(h.causes):
                self.ref(c, causes, "loss cause", ("history", k, "causes", j))
        rules: model.Rules | None = self.s.get("rules")
        if rules is None:
            return
        terrain = [t.id for t in rules.terrain]
        types = [u.id for u in rules.unit_types]
        for k, sick in enumerate(rules.sickness):
            base = ("rules", "sickness", k)
            self.ref(sick.side, self.sides, "side", base + ("side",))
            for j, t in enumerate(sick.unit_types):
                self.ref(t, types, "unit type", base + ("unit_types", j))
            self.ref(sick.loss_cause, causes, "loss cause", base + ("loss_cause",))
            for t in sick.terrain:
                self.ref(t, terrain, "terrain", base + ("terrain", t))
            for kind in sick.region_kinds:
                self.ref(kind, kinds, "region kind", base + ("region_kinds", kind))

    def check_events(self) -> None:
        self.unique(((e.id, ("events", k, "id")) for k, e in self.each("events")), "event")
        event_ids = self.raw_ids("events")
        tracks = self.raw_ids("tracks")
        regions = self.raw_ids("regions")
        bases = self.raw_ids("air_bases")
        unit_ids = self.unit_ids()
        raw_events = self.raw.get("events")
        for k, e in enumerate(self.s.get("events") or []):
            base = ("events", k)
            if e is None:  # the event is broken; still check whatever parts of it are sound
                raw = raw_events[k] if isinstance(raw_events, list) else None
                trigger = _quiet(_TRIGGER, raw.get("trigger")) if isinstance(raw, dict) else None
                effects = [_quiet(_EFFECT, x) for x in raw.get("effects") or []] \
                    if isinstance(raw, dict) and isinstance(raw.get("effects"), list) else []
                date = None
            else:
                trigger, effects, date = e.trigger, e.effects, e.date
            self.in_campaign(date, base + ("date",), "event")
            t = trigger
            own_id = e.id if e is not None else None
            if isinstance(t, model.TriggerCaptured):
                self.ref(t.captured, self.places, "place", base + ("trigger", "captured"))
                self.ref(t.by, self.sides, "side", base + ("trigger", "by"))
            elif isinstance(t, model.TriggerTrack):
                self.ref(t.track, tracks, "track", base + ("trigger", "track"))
            elif isinstance(t, model.TriggerEvent):
                if t.after_event == own_id:
                    self.report(base + ("trigger", "after_event"), f"event '{own_id}' cannot follow itself")
                else:
                    self.ref(t.after_event, event_ids, "event", base + ("trigger", "after_event"))
            for j, eff in enumerate(effects):
                p = base + ("effects", j)
                if isinstance(eff, model.EffectTrack):
                    self.ref(eff.track, tracks, "track", p + ("track",))
                elif isinstance(eff, model.EffectRegion):
                    self.ref(eff.region, regions, "region", p + ("region",))
                elif isinstance(eff, model.EffectAirBase):
                    self.ref(eff.air_base, bases, "air base", p + ("air_base",))
                elif isinstance(eff, (model.EffectSeaLanes, model.EffectReinforcementsStop, model.EffectSupply)):
                    self.ref(eff.side, self.sides, "side", p + ("side",))
                elif isinstance(eff, model.EffectReinforce):
                    self.point_ref(eff.at, p + ("at",))
                elif isinstance(eff, model.EffectWithdraw):
                    for i, uid in enumerate(eff.units):
                        self.ref(uid, unit_ids, "unit", p + ("units", i))

    def check_victory(self) -> None:
        v: model.Victory | None = self.s.get("victory")
        if v is None:
            return
        sides, places = self.sides, self.places
        have_meta, have_map = self.s.get("meta") is not None, self.s.get("map") is not None
        if have_meta:
            self.ref(v.score_side, sides, "side", ("victory", "score_side"))
        if v.corridor is not None:
            c = v.corridor
            if have_meta:
                self.ref(c.side, sides, "side", ("victory", "corridor", "side"))
            if have_map:
                for key, ids in (("from", c.from_), ("to", c.to)):
                    for j, pid in enumerate(ids):
                        self.ref(pid, places, "place", ("victory", "corridor", key, j))
        for k, o in enumerate(v.objectives):
            if have_map:
                self.ref(o.place, places, "place", ("victory", "objectives", k, "place"))
            if have_meta:
                self.ref(o.side, sides, "side", ("victory", "objectives", k, "side"))
        for k, sd in enumerate(v.sudden_death):
            if have_map:
                self.ref(sd.place, places, "place", ("victory", "sudden_death", k, "place"))
            if have_meta:
                self.ref(sd.captured_by, sides, "side", ("victory", "sudden_death", k, "captured_by"))
                self.ref(sd.winner, sides, "side", ("victory", "sudden_death", k, "winner"))
        tracks = self.raw_ids("tracks")
        for tid in v.track_points:
            self.ref(tid, tracks, "track", ("victory", "track_points", tid))
        last = len(v.bands) - 1
        previous = None
        for k, band in enumerate(v.bands):
            p = ("victory", "bands", k)
            if have_meta and band.winner is not None:
                self.ref(band.winner, sides, "side", p + ("winner",))
            if band.result == "draw" and band.winner is not None:
                self.report(p + ("winner",), "a draw band has no winner")
            if band.result != "draw" and band.winner is None:
                self.report(p, f"a {band.result} band needs a 'winner'")
            if k < last and band.min_score is None:
                self.report(p, "only the last band may leave out min_score")
            if k == last and band.min_score is not None:
                self.report(p + ("min_score",), "the last band catches every lower score: leave out "
                                                "min_score (or set it to null)", "warning")
            if band.min_score is not None:
                if previous is not None and band.min_score >= previous:
                    self.report(p + ("min_score",), f"bands must go from the highest min_score down; "
                                                    f"{band.min_score:g} is not below {previous:g}")
                previous = band.min_score

    def check_history(self) -> None:
        self.unique(((h.id, ("history", k, "id")) for k, h in self.each("history")), "history")
        events = self.raw_ids("events")
        for k, h in self.each("history"):
            p = ("history", k)
            if h.kind == "capture":
                if h.place is None:
                    self.report(p, "a 'capture' benchmark needs a 'place'")
                elif self.s.get("map") is not None:
                    self.ref(h.place, self.places, "place", p + ("place",))
            if h.kind == "event":
                if h.event is None:
                    self.report(p, "an 'event' benchmark needs an 'event'")
                else:
                    self.ref(h.event, events, "event", p + ("event",))
            if h.kind == "held" and h.place is None:
                self.report(p, "a 'held' benchmark needs a 'place'")
            elif h.kind == "held" and self.s.get("map") is not None:
                self.ref(h.place, self.places, "place", p + ("place",))
            if h.kind == "ratio":
                kinds = {m.id: m.kind for _, m in self.each("history")}
                if len(h.of) != 2:
                    self.report(p + ("of",), "a 'ratio' benchmark needs 'of' with two 'losses' benchmark ids")
                for j, other in enumerate(h.of):
                    if kinds.get(other) != "losses":
                        self.report(p + ("of", j), f"'{other}' is not a 'losses' benchmark"
                                    + did_you_mean(other, [m for m, k in kinds.items() if k == "losses"]))
            if self.s.get("meta") is not None:
                self.ref(h.side, self.sides, "side", p + ("side",))
            if h.kind == "held" and h.value is None and h.date is None:
                pass  # 'held' needs no date: it asks that a place is never taken
            elif h.date is None and h.earliest is None and h.latest is None and h.value is None:
                self.report(p, "a benchmark needs a 'date' (or 'earliest'/'latest', or a 'value')")
            if h.earliest and h.latest and h.earliest > h.latest:
                self.report(p + ("earliest",), "earliest is after latest")
            for key in ("date", "earliest", "latest"):
                value = getattr(h, key)
                self.in_campaign(value, p + (key,), f"history benchmark {key}", "warning")


    def check_ai(self) -> None:
        plans = self.s.get("ai") or {}
        formations = {u.formation for u, _, _ in self.all_units() if u.formation}
        unit_ids = [u.id for u, _, _ in self.all_units()]
        for side, plan in plans.items():
            p = ("ai", side)
            if self.s.get("meta") is not None:
                self.ref(side, self.sides, "side", p)
            for k, place in enumerate(plan.hold):
                self.ref(place, self.places, "place", p + ("hold", k))
            rules = self.s.get("rules")
            for k, t in enumerate(plan.static_types):
                if rules is not None:
                    self.ref(t, [x.id for x in rules.unit_types], "unit type", p + ("static_types", k))
            for a, axis in enumerate(plan.axes):
                q = p + ("axes", a)
                for k, place in enumerate(axis.objectives):
                    self.ref(place, self.places, "place", q + ("objectives", k))
                for k, uid in enumerate(axis.units):
                    self.ref(uid, unit_ids, "unit", q + ("units", k))
                for k, f in enumerate(axis.formations):
                    if f not in formations:
                        self.report(q + ("formations", k), f"no unit belongs to formation '{f}'"
                                    f"{did_you_mean(f, formations)}", "warning")
                if axis.start and axis.end and axis.start > axis.end:
                    self.report(q + ("end",), "the axis ends before it starts")


    def check_doctrine(self) -> None:
        formations = {u.formation for u, _, _ in self.all_units() if u.formation}
        unit_ids = [u.id for u, _, _ in self.all_units()]
        rules: model.Rules | None = self.s.get("rules")
        types = [t.id for t in rules.unit_types] if rules is not None else None
        events, regions = self.raw_ids("events"), self.raw_ids("regions")
        self.unique(((o.id, ("doctrine", k, "id")) for k, o in self.each("doctrine")), "order")
        for k, o in self.each("doctrine"):
            p = ("doctrine", k)
            self.ref(o.side, self.sides, "side", p + ("side",))
            for key in ("units", "except_units"):
                for j, uid in enumerate(getattr(o, key)):
                    self.ref(uid, unit_ids, "unit", p + (key, j))
            for j, t in enumerate(o.unit_types):
                self.ref(t, types, "unit type", p + ("unit_types", j))
            for j, f in enumerate(o.formations):
                if f not in formations:
                    self.report(p + ("formations", j), f"no unit belongs to formation '{f}'"
                                f"{did_you_mean(f, formations)}")
            for j, place in enumerate(o.hold):
                self.ref(place, self.places, "place", p + ("hold", j))
            for j, rid in enumerate(o.keep_out):
                self.ref(rid, regions, "region", p + ("keep_out", j))
            for key in ("after_event", "until_event"):
                self.ref(getattr(o, key), events, "event", p + (key,))
            for key in ("start", "end"):
                self.in_campaign(getattr(o, key), p + (key,), f"order {key}", "warning")
            if o.start and o.end and o.start >= o.end:
                self.report(p + ("end",), "the order is lifted before it comes into force (end is not after start)")


_TRIGGER = TypeAdapter(model.Trigger)
_EFFECT = TypeAdapter(model.Effect)


def _quiet(adapter: TypeAdapter, value: Any) -> Any:
    """Validate without reporting (the structural pass already did): the model, or None."""
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _dicts(value: Any) -> list[dict]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _ids(value: Any) -> list[str]:
    return [x["id"] for x in _dicts(value) if isinstance(x.get("id"), str)]


def check_semantics(result: LoadResult) -> ScenarioMap | None:
    """Run every semantic check on a loaded scenario; returns the compiled map when one was built."""
    if result.raw is None or not isinstance(result.sections, dict):
        return None
    return Checker(result).run()
