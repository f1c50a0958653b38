"""Whole-map hex storage as numpy arrays, and placement of the map on the globe.

A :class:`HexMap` is a rectangle of ``cols x rows`` hexes stored in offset coordinates
(odd-r for pointy-top maps, odd-q for flat-top maps, see :mod:`game.hexgrid`). Hex ``i`` is at
``col = i % cols``, ``row = i // cols``. Every per-hex quantity is a flat numpy array of length
``n = cols * rows`` and every per-hexside quantity is an ``(n, 6)`` array indexed by
``[hex, direction]`` with directions as in :data:`game.hexgrid.DIRECTIONS`.

A :class:`Projection` ties the map to geography: latitude/longitude are projected
equirectangularly (about the central latitude of the bounding box) to kilometres, with ``x``
growing east and ``y`` growing south from the north-west corner of the box, and the centre of
hex ``(col 0, row 0)`` sits on that corner. This lets scenario data given as coordinates
(towns, rivers, railways, front lines) be snapped onto hexes and hexsides.

Everything is deterministic; nothing here draws or uses randomness.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from game import hexgrid
from game.hexgrid import DIRECTIONS, Hex, Layout

__all__ = ["KM_PER_DEG_LAT", "Projection", "HexMap"]

#: Kilometres per degree of latitude (and per degree of longitude on the equator).
KM_PER_DEG_LAT = 111.2

#: The most hexes a map may have. A game holds a few dozen numbers per hex and per hexside for
#: each side and board, and the AI a cost field per objective: about 2 GB and a minute a game at a
#: million hexes, so 250,000 (500 x 500; Ichi-Go has 5,525) keeps a game under ~0.5 GB.
#: A scenario's projection is checked against it before anything is built.
MAX_HEXES = 250_000

_SQRT3 = math.sqrt(3.0)
# Tolerance used when turning a fractional hex count into a whole one, so that a box that is
# an exact multiple of the hex spacing does not gain a spurious extra row/column.
_COUNT_EPS = 1e-9

#: A Python float for scalar input, a float64 array for array input.
FloatOrArray = float | NDArray[np.float64]


def _as_float(value: float | ArrayLike) -> FloatOrArray:
    """Python scalars stay Python floats; anything else becomes a float64 array."""
    if isinstance(value, (int, float)):
        return float(value)
    return np.asarray(value, dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class Projection:
    """Equirectangular placement of a hex map over a latitude/longitude box.

    ``hex_km`` is the distance between the centres of two adjacent hexes.
    """

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    hex_km: float
    orientation: str = "pointy"

    def __post_init__(self) -> None:
        if self.orientation not in hexgrid.ORIENTATIONS:
            raise ValueError(f"orientation must be 'pointy' or 'flat', got {self.orientation!r}")
        if not self.lat_min < self.lat_max:
            raise ValueError("lat_min must be < lat_max")
        if not self.lon_min < self.lon_max:
            raise ValueError("lon_min must be < lon_max")
        if not (-90.0 <= self.lat_min and self.lat_max <= 90.0):
            raise ValueError("latitudes must lie in [-90, 90]")
        if not self.hex_km > 0:
            raise ValueError("hex_km must be > 0")

    @property
    def lat_mid(self) -> float:
        return 0.5 * (self.lat_min + self.lat_max)

    @property
    def km_per_deg_lon(self) -> float:
        return KM_PER_DEG_LAT * math.cos(math.radians(self.lat_mid))

    @property
    def width_km(self) -> float:
        return (self.lon_max - self.lon_min) * self.km_per_deg_lon

    @property
    def height_km(self) -> float:
        return (self.lat_max - self.lat_min) * KM_PER_DEG_LAT

    def shape(self) -> tuple[int, int]:
        """``(cols, rows)``: the smallest map whose hex centres cover the whole box."""
        # Spacing between adjacent columns/rows of centres: one hex_km along the axis where
        # hexes touch side to side, hex_km * sqrt(3)/2 along the other.
        if self.orientation == "pointy":
            col_step, row_step = self.hex_km, self.hex_km * _SQRT3 / 2.0
        else:
            col_step, row_step = self.hex_km * _SQRT3 / 2.0, self.hex_km
        cols = math.ceil(self.width_km / col_step - _COUNT_EPS) + 1
        rows = math.ceil(self.height_km / row_step - _COUNT_EPS) + 1
        return cols, rows

    def latlon_to_xy(
        self, lat: float | ArrayLike, lon: float | ArrayLike
    ) -> tuple[FloatOrArray, FloatOrArray]:
        """Project to kilometres: ``x`` east of ``lon_min``, ``y`` south of ``lat_max``.

        Accepts scalars (returns floats) or array-likes (returns float64 arrays).
        """
        lat = _as_float(lat)
        lon = _as_float(lon)
        x = (lon - self.lon_min) * self.km_per_deg_lon
        y = (self.lat_max - lat) * KM_PER_DEG_LAT
        return x, y

    def xy_to_latlon(
        self, x: float | ArrayLike, y: float | ArrayLike
    ) -> tuple[FloatOrArray, FloatOrArray]:
        """Inverse of :meth:`latlon_to_xy`; returns ``(lat, lon)``."""
        x = _as_float(x)
        y = _as_float(y)
        lat = self.lat_max - y / KM_PER_DEG_LAT
        lon = self.lon_min + x / self.km_per_deg_lon
        return lat, lon

    def layout(self) -> Layout:
        """Hex layout in km: adjacent centres ``hex_km`` apart, hex (col 0, row 0) at (0, 0)."""
        return _layout_for(self.orientation, self.hex_km)


def _layout_for(orientation: str, hex_km: float) -> Layout:
    # Offset (0, 0) is axial (0, 0) for both odd-r and odd-q, so the origin is simply (0, 0).
    size = hex_km / _SQRT3
    return Layout(orientation, size, size, 0.0, 0.0)


def _segments_intersect(
    ax: NDArray, ay: NDArray, bx: NDArray, by: NDArray,
    cx: float, cy: float, dx: float, dy: float,
) -> NDArray[np.bool_]:
    """Element-wise closed-segment intersection test of ``AB`` (arrays) against ``CD``.

    Touching (an endpoint lying on the other segment) counts as intersecting. Collinear
    segments intersect when they overlap.
    """
    def orient(px, py, qx, qy, rx, ry):
        return (qx - px) * (ry - py) - (qy - py) * (rx - px)

    o1 = orient(ax, ay, bx, by, cx, cy)
    o2 = orient(ax, ay, bx, by, dx, dy)
    o3 = orient(cx, cy, dx, dy, ax, ay)
    o4 = orient(cx, cy, dx, dy, bx, by)
    straddle = (o1 * o2 <= 0.0) & (o3 * o4 <= 0.0)
    # The bounding-box check only matters for the collinear case (all four orientations 0).
    boxes_overlap = (
        (np.minimum(ax, bx) <= max(cx, dx)) & (np.maximum(ax, bx) >= min(cx, dx))
        & (np.minimum(ay, by) <= max(cy, dy)) & (np.maximum(ay, by) >= min(cy, dy))
    )
    return straddle & boxes_overlap


class HexMap:
    """A ``cols x rows`` rectangle of hexes with precomputed per-hex numpy arrays.

    Attributes (``n = cols * rows``; hex index ``i = row * cols + col``):

    * ``col``, ``row``, ``q``, ``r``: int32 arrays of offset and axial coordinates.
    * ``x_km``, ``y_km``: float64 arrays of hex centres (without a projection the layout uses
      ``hex_km = 1``).
    * ``neighbours``: ``(n, 6)`` int32; ``neighbours[i, d]`` is the hex in direction
      ``DIRECTIONS[d]`` from ``i``, or ``-1`` off the map.
    """

    def __init__(
        self,
        cols: int,
        rows: int,
        *,
        orientation: str | None = None,
        projection: Projection | None = None,
    ) -> None:
        if cols < 1 or rows < 1:
            raise ValueError(f"a map needs at least one column and one row, got {cols}x{rows}")
        if projection is not None:
            if orientation is not None and orientation != projection.orientation:
                raise ValueError(
                    f"orientation {orientation!r} conflicts with the projection's "
                    f"{projection.orientation!r}"
                )
            orientation = projection.orientation
        elif orientation is None:
            orientation = "pointy"
        if orientation not in hexgrid.ORIENTATIONS:
            raise ValueError(f"orientation must be 'pointy' or 'flat', got {orientation!r}")

        self.cols = int(cols)
        self.rows = int(rows)
        self.orientation = orientation
        self.projection = projection
        self.hex_km = projection.hex_km if projection is not None else 1.0
        self.layout = _layout_for(orientation, self.hex_km)

        n = self.cols * self.rows
        index = np.arange(n, dtype=np.int64)
        col = index % self.cols
        row = index // self.cols
        q, r = hexgrid.offset_to_axial_arrays(col, row, orientation)
        self.col = col.astype(np.int32)
        self.row = row.astype(np.int32)
        self.q = q.astype(np.int32)
        self.r = r.astype(np.int32)
        self.x_km, self.y_km = self.layout.hex_to_pixel_arrays(q, r)

        self.neighbours = np.empty((n, 6), dtype=np.int32)
        for d, step in enumerate(DIRECTIONS):
            self.neighbours[:, d] = self._indices_of_axial(q + step.q, r + step.r)

    @classmethod
    def from_projection(cls, projection: Projection) -> HexMap:
        """The smallest map covering the projection's box (see :meth:`Projection.shape`)."""
        cols, rows = projection.shape()
        return cls(cols, rows, projection=projection)

    # ------------------------------------------------------------------ indexing

    @property
    def n(self) -> int:
        """Number of hexes."""
        return self.cols * self.rows

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"HexMap(cols={self.cols}, rows={self.rows}, orientation={self.orientation!r})"

    def contains(self, col: int, row: int) -> bool:
        return 0 <= col < self.cols and 0 <= row < self.rows

    def index(self, col: int, row: int) -> int:
        """Index of hex ``(col, row)``; ``ValueError`` if it is off the map."""
        if not self.contains(col, row):
            raise ValueError(f"({col}, {row}) is off the {self.cols}x{self.rows} map")
        return row * self.cols + col

    def index_of_hex(self, h: Hex) -> int:
        """Index of axial hex ``h``, or ``-1`` if it is off the map."""
        col, row = hexgrid.axial_to_offset(h, self.orientation)
        return row * self.cols + col if self.contains(col, row) else -1

    def _check_index(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < self.n:
            raise IndexError(f"hex index {i} out of range for a map of {self.n} hexes")
        return i

    def hex_of(self, i: int) -> Hex:
        i = self._check_index(i)
        return Hex(int(self.q[i]), int(self.r[i]))

    def offset_of(self, i: int) -> tuple[int, int]:
        i = self._check_index(i)
        return int(self.col[i]), int(self.row[i])

    def _indices_of_axial(self, q: ArrayLike, r: ArrayLike) -> NDArray[np.int32]:
        """Vectorised :meth:`index_of_hex`: index per ``(q, r)``, ``-1`` where off the map."""
        col, row = hexgrid.axial_to_offset_arrays(q, r, self.orientation)
        on_map = (col >= 0) & (col < self.cols) & (row >= 0) & (row < self.rows)
        return np.where(on_map, row * self.cols + col, -1).astype(np.int32)

    # ------------------------------------------------------------------ geography

    def _require_projection(self) -> Projection:
        if self.projection is None:
            raise ValueError("this map has no projection; latitude/longitude are undefined")
        return self.projection

    def latlon_to_index(self, lat: float, lon: float) -> int:
        """The hex containing ``(lat, lon)``, or ``-1`` if that hex is off the map."""
        x, y = self._require_projection().latlon_to_xy(float(lat), float(lon))  # floats in, floats out
        return self.index_of_hex(self.layout.pixel_to_hex(float(x), float(y)))

    def latlon_to_indices(self, lats: ArrayLike, lons: ArrayLike) -> NDArray[np.int32]:
        """Vectorised :meth:`latlon_to_index`."""
        x, y = self._require_projection().latlon_to_xy(np.asarray(lats), np.asarray(lons))
        q, r = self.layout.pixel_to_hex_arrays(x, y)
        return self._indices_of_axial(q, r)

    def centre_latlon(self, i: int) -> tuple[float, float]:
        """``(lat, lon)`` of the centre of hex ``i``."""
        i = self._check_index(i)
        lat, lon = self._require_projection().xy_to_latlon(float(self.x_km[i]), float(self.y_km[i]))
        return float(lat), float(lon)  # floats in, floats out

    def _project_points(self, points_latlon: Sequence[tuple[float, float]]) -> NDArray[np.float64]:
        """``(k, 2)`` array of projected ``(x, y)`` km for a sequence of ``(lat, lon)``."""
        projection = self._require_projection()
        pts = np.asarray(points_latlon, dtype=np.float64).reshape(-1, 2)
        x, y = projection.latlon_to_xy(pts[:, 0], pts[:, 1])
        return np.column_stack([x, y])

    # ------------------------------------------------------------------ distances and areas

    def distances_from(self, i: int) -> NDArray[np.int64]:
        """Hex distance from hex ``i`` to every hex."""
        i = self._check_index(i)
        return hexgrid.distance_arrays(self.q, self.r, self.q[i], self.r[i])

    def within(self, i: int, radius: int) -> NDArray[np.bool_]:
        """Mask of the hexes at most ``radius`` steps from hex ``i``."""
        return self.distances_from(i) <= radius

    def polygon_mask(self, points_latlon: Sequence[tuple[float, float]]) -> NDArray[np.bool_]:
        """Mask of the hexes whose centre lies inside the polygon (even-odd rule).

        The polygon is closed implicitly; repeating the first point at the end is harmless.
        """
        return self.polygon_mask_xy(self._project_points(points_latlon))

    def polygon_mask_xy(self, points_km: ArrayLike) -> NDArray[np.bool_]:
        """:meth:`polygon_mask` for a polygon already given in map km ``(x, y)``."""
        pts = np.asarray(points_km, dtype=np.float64).reshape(-1, 2)
        inside = np.zeros(self.n, dtype=bool)
        if len(pts) < 3:
            return inside
        px, py = self.x_km, self.y_km
        for k in range(len(pts)):
            x1, y1 = pts[k - 1]
            x2, y2 = pts[k]
            if y1 == y2:
                continue  # a horizontal edge never crosses a horizontal ray
            # Edges are half-open in y, so a ray through a vertex is counted exactly once.
            spans = (y1 > py) != (y2 > py)
            x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            inside ^= spans & (px < x_cross)
        return inside

    # ------------------------------------------------------------------ paths

    def direction_between(self, a: int, b: int) -> int:
        """Direction ``d`` with ``neighbours[a, d] == b``, or ``-1`` if not adjacent."""
        a = self._check_index(a)
        hits = np.flatnonzero(self.neighbours[a] == b)
        return int(hits[0]) if len(hits) else -1

    def _line_on_map(self, a: int, b: int) -> list[int]:
        """Indices of ``hexgrid.line`` between hexes ``a`` and ``b``, kept on the map.

        A line running exactly along the jagged edge of the map can round, at edge ties, to a
        hex just outside it; the line nudged the other way then picks the inside hex.
        """
        ha, hb = self.hex_of(a), self.hex_of(b)
        for sign in (1, -1):
            indices = [self.index_of_hex(h) for h in hexgrid.line(ha, hb, nudge_sign=sign)]
            if -1 not in indices:
                return indices
        raise RuntimeError(f"no on-map hex line between hexes {a} and {b}")  # pragma: no cover

    def path_hexes(self, indices: Sequence[int]) -> list[int]:
        """Join waypoint hexes by straight hex lines into one contiguous path.

        Consecutive entries of the result are adjacent and never equal.
        """
        path: list[int] = []
        for i in indices:
            i = self._check_index(i)
            if not path:
                path.append(i)
                continue
            for h in self._line_on_map(path[-1], i)[1:]:
                path.append(h)
        return path

    def path_from_latlon(self, points_latlon: Sequence[tuple[float, float]]) -> list[int]:
        """:meth:`path_hexes` through the hexes containing each ``(lat, lon)`` waypoint.

        Raises ``ValueError`` if a waypoint falls off the map.
        """
        indices = []
        for lat, lon in points_latlon:
            i = self.latlon_to_index(lat, lon)
            if i < 0:
                raise ValueError(f"waypoint ({lat}, {lon}) is off the map")
            indices.append(i)
        return self.path_hexes(indices)

    # ------------------------------------------------------------------ hexsides

    def edge_path_mask(self, path: Sequence[int]) -> NDArray[np.bool_]:
        """``(n, 6)`` mask of the hexsides traversed by a contiguous hex path, both ways.

        Repeated consecutive hexes are ignored; non-adjacent consecutive hexes raise
        ``ValueError``.
        """
        mask = np.zeros((self.n, 6), dtype=bool)
        for a, b in zip(path, path[1:]):
            if a == b:
                continue
            d = self.direction_between(a, b)
            if d < 0:
                raise ValueError(f"hexes {a} and {b} are not adjacent")
            mask[a, d] = True
            mask[b, (d + 3) % 6] = True
        return mask

    def hexsides_crossed(self, points_latlon: Sequence[tuple[float, float]]) -> NDArray[np.bool_]:
        """``(n, 6)`` mask of the hexsides that a polyline (e.g. a river) crosses.

        Hexside ``(i, d)`` is crossed when the segment joining the centres of hex ``i`` and
        its neighbour ``d`` intersects any segment of the polyline, touching included (so a
        polyline passing exactly through a hex centre marks all six of that hex's sides). The
        mask is symmetric: ``(i, d)`` and ``(neighbours[i, d], (d + 3) % 6)`` always agree.
        """
        return self.hexsides_crossed_xy(self._project_points(points_latlon))

    def hexsides_crossed_xy(self, points_km: ArrayLike) -> NDArray[np.bool_]:
        """:meth:`hexsides_crossed` for a polyline already given in map km ``(x, y)``."""
        pts = np.asarray(points_km, dtype=np.float64).reshape(-1, 2)
        crossed = np.zeros((self.n, 6), dtype=bool)
        for (x1, y1), (x2, y2) in zip(pts[:-1], pts[1:]):
            if x1 == x2 and y1 == y2:
                continue
            cand = self._hexes_near_segment(x1, y1, x2, y2)
            # Test each undirected hexside once, from its end with direction 0, 1 or 2, and
            # mirror the result; this makes the mask symmetric by construction.
            nbr = self.neighbours[cand, :3]
            has_nbr = nbr >= 0
            ax = np.broadcast_to(self.x_km[cand][:, None], nbr.shape)
            ay = np.broadcast_to(self.y_km[cand][:, None], nbr.shape)
            safe_nbr = np.where(has_nbr, nbr, 0)
            bx = self.x_km[safe_nbr]
            by = self.y_km[safe_nbr]
            hit = has_nbr & _segments_intersect(ax, ay, bx, by, x1, y1, x2, y2)
            rows, dirs = np.nonzero(hit)
            crossed[cand[rows], dirs] = True
            crossed[nbr[rows, dirs], dirs + 3] = True
        return crossed

    def _hexes_near_segment(self, x1: float, y1: float, x2: float, y2: float) -> NDArray[np.int64]:
        """Hexes whose centre lies within ``hex_km`` (plus a little slack) of a segment.

        A centre-to-centre hexside segment is ``hex_km`` long, so if it meets the segment
        both of its ends are such hexes.
        """
        margin = self.hex_km * 1.001
        block = self._hexes_in_box(
            min(x1, x2) - margin, max(x1, x2) + margin,
            min(y1, y2) - margin, max(y1, y2) + margin,
        )
        # Distance from each centre to the segment (the closest point is clamped to its ends).
        ex, ey = x2 - x1, y2 - y1
        px, py = self.x_km[block] - x1, self.y_km[block] - y1
        length2 = ex * ex + ey * ey
        if length2 > 0.0:
            t = np.clip((px * ex + py * ey) / length2, 0.0, 1.0)
        else:  # a segment so short its squared length underflows: treat it as a point
            t = np.zeros_like(px)
        near = (px - t * ex) ** 2 + (py - t * ey) ** 2 <= margin * margin
        return block[near]

    def _hexes_in_box(
        self, x_min: float, x_max: float, y_min: float, y_max: float
    ) -> NDArray[np.int64]:
        """Indices of the hexes whose centres lie in the given box (in km).

        The candidate block of columns and rows comes straight from the regular spacing of
        the centres, so the cost is proportional to the box, not to the map.
        """
        if self.orientation == "pointy":
            # Odd rows are shifted half a column east.
            col_step, row_step = self.hex_km, self.hex_km * _SQRT3 / 2.0
            col_lo, col_hi = math.floor(x_min / col_step - 0.5), math.ceil(x_max / col_step)
            row_lo, row_hi = math.floor(y_min / row_step), math.ceil(y_max / row_step)
        else:
            # Odd columns are shifted half a row south.
            col_step, row_step = self.hex_km * _SQRT3 / 2.0, self.hex_km
            col_lo, col_hi = math.floor(x_min / col_step), math.ceil(x_max / col_step)
            row_lo, row_hi = math.floor(y_min / row_step - 0.5), math.ceil(y_max / row_step)
        col_lo, col_hi = max(col_lo, 0), min(col_hi, self.cols - 1)
        row_lo, row_hi = max(row_lo, 0), min(row_hi, self.rows - 1)
        if col_lo > col_hi or row_lo > row_hi:
            return np.empty(0, dtype=np.int64)
        cols = np.arange(col_lo, col_hi + 1)
        rows = np.arange(row_lo, row_hi + 1)
        block = (rows[:, None] * self.cols + cols[None, :]).ravel()
        x, y = self.x_km[block], self.y_km[block]
        keep = (x >= x_min) & (x <= x_max) & (y >= y_min) & (y <= y_max)
        return block[keep]
