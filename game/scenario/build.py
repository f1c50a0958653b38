"""Compiling a validated scenario's map into the arrays the rules engine plays on.

:func:`build_map` rasterises the geography of a :class:`~game.scenario.model.MapSpec`:

* terrain, painted in this order (later wins): ``default_terrain``, ``terrain_rows``,
  ``terrain_regions`` in file order, ``lakes``;
* rivers run along **hexsides**: the side between two hexes carries a river when the straight
  line between their centres crosses the river's polyline, so a river is crossed, never entered;
* railways and roads are chains of **hex-to-hex edges** (so two parallel lines never fuse),
  each edge intact or broken;
* places snap to the hex containing their coordinate (or the hex they name);
* control and region areas become boolean masks.

Problems found while building (a place off the map, a railway through a lake, a polygon that
covers no hex, a control polygon stopping short of the map border, ...) are passed to a
``report(path, message, severity)`` callback with the YAML path of the culprit, so validation
can point at its line. The game builds only validated scenarios and passes no callback.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..diagnostics import closest, did_you_mean, one_of
from ..hexmap import KM_PER_DEG_LAT, HexMap, Projection

if TYPE_CHECKING:
    from . import model

Report = Callable[[tuple, str, str], None]

EDGE_NONE, EDGE_INTACT, EDGE_BROKEN = 0, 1, 2


def _ignore(path: tuple, message: str, severity: str = "error") -> None:
    return None


@dataclass
class ScenarioMap:
    """The compiled map: a HexMap plus per-hex and per-hexside arrays and lookups."""

    hexmap: HexMap
    terrain_ids: list[str]
    terrain: np.ndarray  # (n,) int16 index into terrain_ids
    river_class_ids: list[str]
    river: np.ndarray  # (n, 6) int8: 0 no river, k = river_class_ids[k-1]
    rail: np.ndarray  # (n, 6) int8: EDGE_NONE / EDGE_INTACT / EDGE_BROKEN
    road: np.ndarray  # (n, 6) int8
    place_hex: dict[str, int]
    hex_places: dict[int, list[str]]
    side_ids: list[str]
    control: np.ndarray  # (n,) int8 side index or -1
    region_masks: dict[str, np.ndarray] = field(default_factory=dict)
    line_hexes: dict[str, list[int]] = field(default_factory=dict)  # railway/road id -> hex path
    river_names: dict[str, str] = field(default_factory=dict)
    lake_names: dict[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.hexmap.n


def make_projection(spec: model.Projection) -> Projection:
    return Projection(lat_min=spec.lat_min, lat_max=spec.lat_max, lon_min=spec.lon_min,
                      lon_max=spec.lon_max, hex_km=spec.hex_km, orientation=spec.orientation)


class _Builder:
    def __init__(self, spec: model.MapSpec, rules: model.Rules | None, side_ids: Sequence[str],
                 report: Report):
        self.spec = spec
        self.rules = rules
        self.report = report
        self.projection = make_projection(spec.projection)
        self.hm = HexMap.from_projection(self.projection)
        self.side_ids = list(side_ids)
        self.place_hex: dict[str, int] = {}
        self.place_latlon: dict[str, tuple[float, float]] = {}
        if rules is not None:
            self.terrain_ids = [t.id for t in rules.terrain]
            self.river_class_ids = [c.id for c in rules.river_classes]
            self.water = np.array([t.water for t in rules.terrain], dtype=bool)
        else:  # rules broken: still check geography with whatever terrain ids the map names
            self.terrain_ids = [spec.default_terrain]
            self.river_class_ids = []
            self.water = np.zeros(1, dtype=bool)

    # -- helpers -------------------------------------------------------------------------------

    def terrain_index(self, terrain_id: str, path: tuple) -> int | None:
        if terrain_id in self.terrain_ids:
            return self.terrain_ids.index(terrain_id)
        if self.rules is not None:
            self.report(path, f"unknown terrain '{terrain_id}'{did_you_mean(terrain_id, self.terrain_ids)} "
                              f"(expected one of: {one_of(self.terrain_ids)})", "error")
        return None

    def offset_index(self, hexref: tuple[int, int], path: tuple) -> int:
        col, row = hexref
        if not self.hm.contains(col, row):
            self.report(path, f"hex [{col}, {row}] is off the map (columns 0..{self.hm.cols - 1}, "
                              f"rows 0..{self.hm.rows - 1})", "error")
            return -1
        return self.hm.index(col, row)

    def latlon_index(self, latlon: tuple[float, float], path: tuple, what: str) -> int:
        i = self.hm.latlon_to_index(latlon[0], latlon[1])
        if i < 0:
            p = self.spec.projection
            self.report(path, f"{what} [{latlon[0]}, {latlon[1]}] is off the map (latitude "
                              f"{p.lat_min}..{p.lat_max}, longitude {p.lon_min}..{p.lon_max})", "error")
        return int(i)

    def point_index(self, point, path: tuple, what: str) -> int:
        """Hex of a Point (place id or [lat, lon]); -1 and a report when it cannot be placed."""
        if isinstance(point, str):
            if point in self.place_hex:
                return self.place_hex[point]
            if point not in self.known_places:
                self.report(path, f"unknown place '{point}'{did_you_mean(point, self.known_places)}", "error")
            return -1
        return self.latlon_index(point, path, what)

    def point_latlon(self, point) -> tuple[float, float] | None:
        if isinstance(point, str):
            return self.place_latlon.get(point)
        return point

    def shape_mask(self, polygon, hexes, path: tuple, what: str | None = None) -> np.ndarray:
        """The hexes of a polygon or hex list; with `what`, a polygon covering no hex is warned of."""
        if polygon is not None:
            mask = self.hm.polygon_mask(polygon)
            if what is not None and not mask.any():
                self.empty_polygon(polygon, path + ("polygon",), what)
            return mask
        mask = np.zeros(self.hm.n, dtype=bool)
        for k, h in enumerate(hexes or []):
            i = self.offset_index(h, path + ("hexes", k))
            if i >= 0:
                mask[i] = True
        return mask

    def empty_polygon(self, polygon, path: tuple, what: str) -> None:
        """Warn of a polygon that covers no hex centre, with the likely cause."""
        p = self.spec.projection
        lats, lons = [pt[0] for pt in polygon], [pt[1] for pt in polygon]
        swapped = [(lon, lat) for lat, lon in polygon]
        if all(-90 <= lat <= 90 for lat, _ in swapped) and (n := int(self.hm.polygon_mask(swapped).sum())):
            hint = (f"its points look like [longitude, latitude]: swapped to [latitude, longitude] they would "
                    f"cover {n} hex(es); write every point as [latitude, longitude]")
        elif max(lats) < p.lat_min or min(lats) > p.lat_max or max(lons) < p.lon_min or min(lons) > p.lon_max:
            hint = (f"it lies outside the map (its latitudes {min(lats):g}..{max(lats):g}, longitudes "
                    f"{min(lons):g}..{max(lons):g}; the map's latitude {p.lat_min:g}..{p.lat_max:g}, longitude "
                    f"{p.lon_min:g}..{p.lon_max:g}); points are [latitude, longitude]")
        else:
            hint = ("a hex belongs to a polygon when its centre is inside, and this one is too small or too "
                    "thin to hold one; make it larger or list the hexes instead")
        self.report(path, f"{what} covers no hex of the map; {hint}", "warning")

    # -- stages --------------------------------------------------------------------------------

    def places(self) -> None:
        self.known_places = [p.id for p in self.spec.places]
        for k, place in enumerate(self.spec.places):
            path = ("map", "places", k)
            if place.at is not None:
                i = self.latlon_index(place.at, path + ("at",), f"place '{place.id}' at")
                self.place_latlon[place.id] = place.at
            else:
                assert place.hex is not None  # a place has exactly one of 'at' and 'hex'
                i = self.offset_index(place.hex, path + ("hex",))
                if i >= 0:
                    self.place_latlon[place.id] = self.hm.centre_latlon(i)
            if i >= 0:
                self.place_hex[place.id] = i

    def terrain(self) -> np.ndarray:
        spec = self.spec
        terrain = np.zeros(self.hm.n, dtype=np.int16)
        default = self.terrain_index(spec.default_terrain, ("map", "default_terrain"))
        terrain[:] = default if default is not None else 0
        if spec.terrain_rows is not None:
            self.paint_rows(terrain, spec.terrain_rows)
        for k, region in enumerate(spec.terrain_regions):
            path = ("map", "terrain_regions", k)
            t = self.terrain_index(region.terrain, path + ("terrain",))
            what = f"terrain region '{region.name}'" if region.name else f"a {region.terrain} terrain region"
            mask = self.shape_mask(region.polygon, region.hexes, path, what)
            if t is not None:
                terrain[mask] = t
        for k, lake in enumerate(spec.lakes):
            path = ("map", "lakes", k)
            t = self.terrain_index(lake.terrain, path + ("terrain",))
            if t is not None and self.rules is not None and not self.water[t]:
                self.report(path + ("terrain",), f"lake '{lake.id}' uses terrain '{lake.terrain}', "
                                                 "which is not water (expected a terrain with water: true)",
                            "error")
            mask = self.shape_mask(lake.polygon, None, path, f"lake '{lake.id}'")
            if t is not None:
                terrain[mask] = t
        return terrain

    def paint_rows(self, terrain: np.ndarray, rows: model.TerrainRows) -> None:
        legend = {}
        for ch, tid in rows.legend.items():
            t = self.terrain_index(tid, ("map", "terrain_rows", "legend", ch))
            if t is not None:
                legend[ch] = t
        col0, row0 = rows.origin
        cols, nrows = self.hm.cols, self.hm.rows
        for k, text in enumerate(rows.rows):
            path = ("map", "terrain_rows", "rows", k)
            row = row0 + k
            if not 0 <= row < nrows:
                self.report(path, f"painted row {k} falls on map row {row}, outside rows 0..{nrows - 1}", "error")
                continue
            if col0 + len(text) > cols:
                self.report(path, f"painted row {k} is {len(text)} hexes long from column {col0}; the map has "
                                  f"{cols} columns", "error")
            unknown = sorted({ch for ch in text if ch not in rows.legend})
            if unknown:
                first = min(text.index(ch) for ch in unknown)
                self.report(path, f"painted row {k} uses {', '.join(repr(c) for c in unknown)} (first at "
                                  f"character {first + 1}), not in the legend "
                                  f"(expected one of: {' '.join(repr(c) for c in sorted(rows.legend))})", "error")
            for j, ch in enumerate(text[: max(0, cols - col0)]):
                t = legend.get(ch)
                if t is not None and col0 + j >= 0:
                    terrain[row * cols + col0 + j] = t

    def rivers(self) -> np.ndarray:
        river = np.zeros((self.hm.n, 6), dtype=np.int8)
        for k, spec in enumerate(self.spec.rivers):
            path = ("map", "rivers", k)
            if self.river_class_ids and spec.river_class not in self.river_class_ids:
                self.report(path + ("class",), f"unknown river class '{spec.river_class}'"
                                               f"{did_you_mean(spec.river_class, self.river_class_ids)} "
                                               f"(expected one of: {one_of(self.river_class_ids)})", "error")
                continue
            if not self.river_class_ids and self.rules is not None:
                self.report(path + ("class",), "rivers need rules.river_classes to say what crossing costs",
                            "error")
                continue
            points = []
            for j, pt in enumerate(spec.path):
                ll = self.point_latlon(pt)
                if ll is None:
                    self.point_index(pt, path + ("path", j), "river point")
                    continue
                points.append(ll)
            if len(points) < 2:
                continue
            crossed = self.hm.hexsides_crossed(points)
            if not crossed.any():
                self.report(path, f"river '{spec.id}' crosses no hexside on the map", "warning")
            cls = self.river_class_ids.index(spec.river_class) + 1 if self.river_class_ids else 1
            river[crossed] = np.maximum(river[crossed], cls)
        return river

    def lines(self, specs: list[model.Line], kind: str, terrain: np.ndarray) -> tuple[np.ndarray, dict]:
        edges = np.zeros((self.hm.n, 6), dtype=np.int8)
        paths: dict[str, list[int]] = {}
        for k, line in enumerate(specs):
            base = ("map", kind, k)
            hex_path: list[int] = []
            waypoint_at: list[int] = []  # index into hex_path of each waypoint (-1 if unplaced)
            segments: list[tuple[int, int, int]] = []  # (start in hex_path, end, waypoint number)
            prev = None
            for j, pt in enumerate(line.path):
                i = self.point_index(pt, base + ("path", j), f"{kind[:-1]} point")
                if i < 0:
                    waypoint_at.append(-1)
                    prev = None
                    continue
                if prev is None:  # first waypoint, or the first after one that could not be placed
                    hex_path.append(i)
                else:
                    piece = self.hm.path_hexes([prev, i])
                    start = len(hex_path) - 1
                    hex_path.extend(piece[1:])
                    segments.append((start, len(hex_path) - 1, j - 1))
                waypoint_at.append(len(hex_path) - 1)
                prev = i
            paths[line.id] = hex_path
            if self.rules is not None:
                for start, end, j in segments:
                    bad = [h for h in hex_path[start:end + 1] if self.water[terrain[h]]]
                    if bad:
                        names = sorted({self.terrain_ids[terrain[h]] for h in bad})
                        col, row = self.hm.offset_of(bad[0])
                        self.report(base + ("path", j), f"{kind[:-1]} '{line.id}' runs through "
                                                        f"{'/'.join(names)} at hex [{col}, {row}] between "
                                                        f"waypoints {j + 1} and {j + 2}; expected land "
                                                        "(add a waypoint around the water)", "error")
            mask = self.edges_of(hex_path, segments)
            edges[mask] = EDGE_INTACT
            for s, section in enumerate(line.broken):
                spath = base + ("broken", s)
                a = self.waypoint_position(line, section.from_, waypoint_at, spath + ("from",))
                b = self.waypoint_position(line, section.to, waypoint_at, spath + ("to",))
                if a is None or b is None:
                    continue
                lo, hi = min(a, b), max(a, b)
                if lo == hi:
                    self.report(spath, "a broken section needs two different waypoints", "error")
                    continue
                # the path's own segments within the section (a waypoint that could not be
                # placed leaves a gap in the path, reported where it stands)
                pieces = [(max(s0, lo), min(s1, hi), j) for s0, s1, j in segments if max(s0, lo) < min(s1, hi)]
                edges[self.edges_of(hex_path, pieces)] = EDGE_BROKEN
        return edges, paths

    def edges_of(self, hex_path: list[int], segments) -> np.ndarray:
        mask = np.zeros((self.hm.n, 6), dtype=bool)
        for start, end, _ in segments:
            piece = hex_path[start:end + 1]
            if len(piece) >= 2:
                mask |= self.hm.edge_path_mask(piece)
        return mask

    def waypoint_position(self, line: model.Line, point, waypoint_at: list[int], path: tuple) -> int | None:
        for j, pt in enumerate(line.path):
            if pt == point:
                return waypoint_at[j] if waypoint_at[j] >= 0 else None
        # only the path's real places are candidates: a misspelt waypoint is reported where it
        # stands, with the real name, and must not come back here as a suggestion
        names = [p for p in line.path if isinstance(p, str) and p in self.known_places]
        if isinstance(point, str) and point in self.known_places:
            for p in line.path:
                if isinstance(p, str) and p not in self.known_places and closest(p, self.known_places) == point:
                    return None  # the path misspells this very place: its own message says so
        waypoints = ", ".join(p if isinstance(p, str) else str(list(p)) for p in line.path
                              if not isinstance(p, str) or p in self.known_places)
        rule = f"a broken section runs between two waypoints of the path: {waypoints}"
        if isinstance(point, str) and point not in self.known_places:
            # the places the path names, and those its misspelt waypoints stand for
            meant = names + [m for p in line.path if isinstance(p, str) and p not in self.known_places
                             for m in [closest(p, self.known_places)] if m is not None]
            self.report(path, f"unknown place '{point}'{did_you_mean(point, meant)} ({rule})", "error")
            return None
        shown = point if isinstance(point, str) else list(point)
        hint = did_you_mean(point, names) if isinstance(point, str) else ""
        self.report(path, f"'{shown}' is not a waypoint of '{line.id}'{hint} ({rule})", "error")
        return None

    def control(self, default_control: str | None, terrain: np.ndarray) -> np.ndarray:
        control = np.full(self.hm.n, -1, dtype=np.int8)
        if default_control in self.side_ids:
            control[:] = self.side_ids.index(default_control)
        areas: list[tuple[int, model.ControlArea, np.ndarray]] = []
        for k, area in enumerate(self.spec.control):
            if area.side not in self.side_ids:
                continue  # reported by the semantic checks
            mask = self.shape_mask(area.polygon, area.hexes, ("map", "control", k),
                                   f"a control area of {area.side}")
            control[mask] = self.side_ids.index(area.side)
            areas.append((k, area, mask))
        owned = np.zeros(self.hm.n, dtype=bool)
        for place in self.spec.places:
            if place.owner in self.side_ids and place.id in self.place_hex:
                control[self.place_hex[place.id]] = self.side_ids.index(place.owner)
                owned[self.place_hex[place.id]] = True
        self.control_edges(control, areas, owned, terrain, default_control)
        return control

    def control_edges(self, control: np.ndarray, areas: list, owned: np.ndarray, terrain: np.ndarray,
                      default_control: str | None) -> None:
        """Warn of a control polygon that stops short of the map border and so leaves a strip of
        edge hexes with the default side (see STRIP_MIN)."""
        if self.rules is None:
            return  # without the terrain's rules, sea and land cannot be told apart
        hm, proj = self.hm, self.projection
        width, height, d = proj.width_km, proj.height_km, hm.hex_km / 2
        x, y = hm.x_km, hm.y_km
        # the edge band: hexes whose centre lies within half a hex of the map's box or beyond it
        # (the last column's and row's centres lie on or past its east and south sides)
        band = (x < d) | (x > width - d) | (y < d) | (y > height - d)
        # each such centre pulled half a hex inside the box, perpendicular to the side(s) it is near
        px = np.clip(x, min(d, width / 2), max(width - d, width / 2))
        py = np.clip(y, min(d, height / 2), max(height - d, height / 2))
        covered = np.zeros(hm.n, dtype=bool)
        for _k, _area, mask in areas:
            covered |= mask
        free = band & ~self.water[terrain] & ~covered & ~owned
        if not free.any():
            return
        for s, side in enumerate(self.side_ids):
            if side == default_control:
                continue
            polygons = []
            for k, area, _mask in areas:
                if area.side == side and area.polygon is not None:
                    lat, lon = np.asarray(area.polygon, dtype=float).T
                    xy = np.column_stack(proj.latlon_to_xy(lat, lon))
                    polygons.append((k, free & _inside(xy, px, py)))
            if not polygons:
                continue
            stranded = np.zeros(hm.n, dtype=bool)
            for _k, pulled in polygons:
                stranded |= pulled
            stranded &= control != s
            held = np.zeros(hm.n, dtype=bool)
            for _k, area, mask in areas:
                if area.side == side:
                    held |= mask
            held &= control == s
            for strip in _strips(hm.neighbours, stranded, held):
                if len(strip) >= STRIP_MIN:
                    self.report_strip(strip, polygons, default_control)

    def report_strip(self, strip: list[int], polygons: list[tuple[int, np.ndarray]],
                     default_control: str | None) -> None:
        hm, proj = self.hm, self.projection
        k = max(polygons, key=lambda kp: int(kp[1][strip].sum()))[0]
        near = {"north": hm.y_km[strip], "south": proj.height_km - hm.y_km[strip],
                "west": hm.x_km[strip], "east": proj.width_km - hm.x_km[strip]}
        closest_side = np.argmin(np.vstack(list(near.values())), axis=0)
        edge = list(near)[int(np.bincount(closest_side, minlength=4).argmax())]
        cols = sorted({int(hm.col[h]) for h in strip})
        rows = sorted({int(hm.row[h]) for h in strip})

        def span(name: str, values: list[int]) -> str:
            return f"{name} {values[0]}" if len(values) == 1 else f"{name}s {values[0]}-{values[-1]}"

        lat, lon = zip(*(hm.centre_latlon(h) for h in strip))
        margin_lat = hm.hex_km / 4 / KM_PER_DEG_LAT
        margin_lon = margin_lat / max(float(np.cos(np.radians(proj.lat_mid))), 0.1)
        beyond = {"north": f"latitude {np.ceil((max(lat) + margin_lat) * 10) / 10:g}",
                  "south": f"latitude {np.floor((min(lat) - margin_lat) * 10) / 10:g}",
                  "east": f"longitude {np.ceil((max(lon) + margin_lon) * 10) / 10:g}",
                  "west": f"longitude {np.floor((min(lon) - margin_lon) * 10) / 10:g}"}[edge]
        owner = f"stay with {default_control}" if default_control in self.side_ids else "stay uncontrolled"
        self.report(("map", "control", k, "polygon"),
                    f"{len(strip)} hexes along the {edge} edge between this polygon and the map border "
                    f"({span('column', cols)}, {span('row', rows)}) {owner}; extend the polygon past the map "
                    f"edge (to {beyond} or beyond: a hex is the polygon's when its centre is inside, and the "
                    "edge hexes' centres lie on the border or past it)", "warning")


STRIP_MIN = 3
"""A control polygon is warned of when it strands this many edge hexes in one strip.

An edge hex (its centre within half a hex of the map's box, or beyond it) is *stranded* by a
polygon when it is land, no control area covers it, no place's owner sets it, it stays with
another side, and its centre pulled half a hex inside the box, perpendicular to the border, lies
in the polygon: the polygon reaches the border there but misses the hex. Stranded hexes next to
each other, or next to one hex the polygon's side holds (a polygon edge between two offset
columns strands every other hex), form a strip. A front line that crosses the border and goes on
past it strands at most a hex or two at the crossing, unless it meets the border at a shallow
angle (under about 20 degrees), which leaves a sliver worth a look."""


def _inside(polygon_xy: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon for points (px, py), edges half-open in y (as for hex centres)."""
    inside = np.zeros(len(px), dtype=bool)
    for k in range(len(polygon_xy)):
        x1, y1 = polygon_xy[k - 1]
        x2, y2 = polygon_xy[k]
        if y1 == y2:
            continue
        spans = (y1 > py) != (y2 > py)
        inside ^= spans & (px < x1 + (py - y1) * (x2 - x1) / (y2 - y1))
    return inside


def _strips(neighbours: np.ndarray, stranded: np.ndarray, held: np.ndarray) -> list[list[int]]:
    """Groups of stranded hexes: neighbours, or both next to one `held` hex; in index order."""
    seen = np.zeros(len(stranded), dtype=bool)
    out = []
    for start in np.flatnonzero(stranded):
        if seen[start]:
            continue
        seen[start] = True
        group, todo = [], [int(start)]
        while todo:
            h = todo.pop()
            group.append(h)
            near = [j for j in neighbours[h] if j >= 0]
            near += [i for j in near if held[j] for i in neighbours[j] if i >= 0]
            for j in near:
                if stranded[j] and not seen[j]:
                    seen[j] = True
                    todo.append(int(j))
        out.append(sorted(group))
    return out


def build_map(spec: model.MapSpec, rules: model.Rules | None, side_ids: Sequence[str],
              regions: Sequence[model.Region] = (), report: Report | None = None) -> ScenarioMap:
    """Rasterise a map spec; problems go to `report` (see the module docstring)."""
    b = _Builder(spec, rules, side_ids, report or _ignore)
    b.places()
    terrain = b.terrain()
    river = b.rivers()
    rail, rail_paths = b.lines(spec.railways, "railways", terrain)
    road, road_paths = b.lines(spec.roads, "roads", terrain)
    hex_places: dict[int, list[str]] = {}
    for pid, i in b.place_hex.items():
        hex_places.setdefault(i, []).append(pid)
    masks = {}
    for k, region in enumerate(regions):
        mask = b.shape_mask(region.polygon, region.hexes, ("regions", k), f"region '{region.id}'")
        if region.polygon is None and not mask.any():
            b.report(("regions", k), f"region '{region.id}' covers no hex of the map", "warning")
        masks[region.id] = mask
    return ScenarioMap(
        hexmap=b.hm, terrain_ids=b.terrain_ids, terrain=terrain, river_class_ids=b.river_class_ids,
        river=river, rail=rail, road=road, place_hex=dict(b.place_hex), hex_places=hex_places,
        side_ids=b.side_ids, control=b.control(spec.default_control, terrain), region_masks=masks,
        line_hexes={**rail_paths, **road_paths},
        river_names={r.id: r.name for r in spec.rivers}, lake_names={lake.id: lake.name for lake in spec.lakes},
    )
