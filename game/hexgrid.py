"""Pure hexagonal-grid mathematics for the game engine.

Everything here follows the conventions of Red Blob Games' "Hexagonal Grids" guide
(https://www.redblobgames.com/grids/hexagons/):

* Hexes are stored in *axial* coordinates ``(q, r)``; the third *cube* coordinate is
  ``s = -q - r``.
* ``DIRECTIONS`` lists the six neighbour offsets in Red Blob order; direction ``d`` and
  ``(d + 3) % 6`` are opposite.
* The map uses *offset* coordinates ``(col, row)`` for storage: "odd-r" for pointy-top hexes
  (odd rows are shoved half a hex to the right) and "odd-q" for flat-top hexes (odd columns
  are shoved half a hex down).
* Pixel space has ``y`` growing downwards, as on screen.

The module has no state and no randomness. Apart from the ``*_arrays`` helpers at the end
(vectorised numpy versions used for whole-map computations) it is plain Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Hex",
    "DIRECTIONS",
    "ORIENTATIONS",
    "add",
    "sub",
    "scale",
    "neighbour",
    "neighbours",
    "length",
    "distance",
    "cube_round",
    "line",
    "hex_range",
    "ring",
    "spiral",
    "rotate_left",
    "rotate_right",
    "rotate",
    "reflect_q",
    "reflect_r",
    "reflect_s",
    "axial_to_offset",
    "offset_to_axial",
    "Orientation",
    "POINTY",
    "FLAT",
    "Layout",
    "cube_round_arrays",
    "distance_arrays",
    "offset_to_axial_arrays",
    "axial_to_offset_arrays",
]

SQRT3 = math.sqrt(3.0)

#: The orientation names accepted wherever an orientation string is expected.
ORIENTATIONS: tuple[str, ...] = ("pointy", "flat")


class Hex(NamedTuple):
    """A hex in axial coordinates. The cube coordinate ``s`` is derived."""

    q: int
    r: int

    @property
    def s(self) -> int:
        return -self.q - self.r


#: The six axial neighbour offsets, in Red Blob order. ``DIRECTIONS[(d + 3) % 6]`` is the
#: opposite of ``DIRECTIONS[d]``.
DIRECTIONS: tuple[Hex, ...] = (
    Hex(1, 0),
    Hex(1, -1),
    Hex(0, -1),
    Hex(-1, 0),
    Hex(-1, 1),
    Hex(0, 1),
)


# --------------------------------------------------------------------------- arithmetic


def add(a: Hex, b: Hex) -> Hex:
    return Hex(a.q + b.q, a.r + b.r)


def sub(a: Hex, b: Hex) -> Hex:
    return Hex(a.q - b.q, a.r - b.r)


def scale(a: Hex, k: int) -> Hex:
    return Hex(a.q * k, a.r * k)


def neighbour(h: Hex, d: int) -> Hex:
    """The neighbour of ``h`` in direction ``d`` (taken modulo 6)."""
    return add(h, DIRECTIONS[d % 6])


def neighbours(h: Hex) -> list[Hex]:
    """The six neighbours of ``h``, in ``DIRECTIONS`` order."""
    return [add(h, step) for step in DIRECTIONS]


def length(h: Hex) -> int:
    """Hex distance from the origin."""
    return (abs(h.q) + abs(h.r) + abs(h.q + h.r)) // 2


def distance(a: Hex, b: Hex) -> int:
    """Number of hex steps between ``a`` and ``b``."""
    return length(sub(a, b))


# --------------------------------------------------------------------------- rounding and lines


def cube_round(fq: float, fr: float) -> Hex:
    """Round fractional axial coordinates to the hex that contains them.

    Each cube coordinate is rounded and the one with the largest rounding error is then
    recomputed from the other two so that ``q + r + s == 0`` holds. Python's ``round`` (half
    to even) is used, which matches ``numpy.rint`` in :func:`cube_round_arrays`.
    """
    fs = -fq - fr
    q = round(fq)
    r = round(fr)
    s = round(fs)
    dq = abs(q - fq)
    dr = abs(r - fr)
    ds = abs(s - fs)
    if dq > dr and dq > ds:
        q = -r - s
    elif dr > ds:
        r = -q - s
    return Hex(int(q), int(r))


def line(a: Hex, b: Hex, *, nudge_sign: int = 1) -> list[Hex]:
    """The hexes on the straight line from ``a`` to ``b``, both included.

    Samples ``distance(a, b) + 1`` evenly spaced points on the segment between the two hex
    centres and rounds each to a hex. Both ends are nudged by ``(+1e-6, +1e-6, -2e-6)`` in
    cube coordinates so that points lying exactly on a hex edge always round the same way;
    the result therefore has ``distance(a, b) + 1`` entries and consecutive entries are
    adjacent. ``nudge_sign=-1`` nudges the other way, which picks the other hex at every such
    tie (useful when one choice falls outside a bounded map).
    """
    if nudge_sign not in (1, -1):
        raise ValueError(f"nudge_sign must be 1 or -1, got {nudge_sign!r}")
    n = distance(a, b)
    eps_q = 1e-6 * nudge_sign
    eps_r = 1e-6 * nudge_sign
    aq, ar = a.q + eps_q, a.r + eps_r
    bq, br = b.q + eps_q, b.r + eps_r
    if n == 0:
        return [a]
    result = []
    for i in range(n + 1):
        t = i / n
        result.append(cube_round(aq + (bq - aq) * t, ar + (br - ar) * t))
    return result


# --------------------------------------------------------------------------- areas


def hex_range(centre: Hex, n: int) -> list[Hex]:
    """All hexes within distance ``n`` of ``centre`` (``1 + 3n(n+1)`` hexes for ``n >= 0``)."""
    result = []
    for dq in range(-n, n + 1):
        for dr in range(max(-n, -dq - n), min(n, -dq + n) + 1):
            result.append(Hex(centre.q + dq, centre.r + dr))
    return result


def ring(centre: Hex, k: int) -> list[Hex]:
    """The hexes at exactly distance ``k`` from ``centre``: ``[centre]`` for ``k == 0``,
    otherwise ``6k`` hexes walked in order around the ring."""
    if k < 0:
        raise ValueError(f"ring radius must be >= 0, got {k}")
    if k == 0:
        return [centre]
    result = []
    h = add(centre, scale(DIRECTIONS[4], k))
    for d in range(6):
        for _ in range(k):
            result.append(h)
            h = neighbour(h, d)
    return result


def spiral(centre: Hex, k: int) -> list[Hex]:
    """``centre`` followed by rings ``1..k``: every hex within ``k``, ordered by distance."""
    result = [centre]
    for radius in range(1, k + 1):
        result.extend(ring(centre, radius))
    return result


# --------------------------------------------------------------------------- rotation, reflection


def rotate_right(h: Hex, centre: Hex = Hex(0, 0)) -> Hex:
    """Rotate ``h`` 60 degrees about ``centre``; cube ``(q, r, s) -> (-r, -s, -q)``."""
    v = sub(h, centre)
    return add(centre, Hex(-v.r, -v.s))


def rotate_left(h: Hex, centre: Hex = Hex(0, 0)) -> Hex:
    """Rotate ``h`` 60 degrees about ``centre``; cube ``(q, r, s) -> (-s, -q, -r)``."""
    v = sub(h, centre)
    return add(centre, Hex(-v.s, -v.q))


def rotate(h: Hex, steps: int, centre: Hex = Hex(0, 0)) -> Hex:
    """Rotate ``h`` by ``steps`` 60-degree steps about ``centre``; positive steps turn the way
    :func:`rotate_right` does, negative steps the way :func:`rotate_left` does."""
    for _ in range(steps % 6):
        h = rotate_right(h, centre)
    return h


def reflect_q(h: Hex, centre: Hex = Hex(0, 0)) -> Hex:
    """Reflect across the q axis through ``centre``: cube ``(q, r, s) -> (q, s, r)``."""
    v = sub(h, centre)
    return add(centre, Hex(v.q, v.s))


def reflect_r(h: Hex, centre: Hex = Hex(0, 0)) -> Hex:
    """Reflect across the r axis through ``centre``: cube ``(q, r, s) -> (s, r, q)``."""
    v = sub(h, centre)
    return add(centre, Hex(v.s, v.r))


def reflect_s(h: Hex, centre: Hex = Hex(0, 0)) -> Hex:
    """Reflect across the s axis through ``centre``: cube ``(q, r, s) -> (r, q, s)``."""
    v = sub(h, centre)
    return add(centre, Hex(v.r, v.q))


# --------------------------------------------------------------------------- offset coordinates


def _check_orientation(orientation: str) -> None:
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be 'pointy' or 'flat', got {orientation!r}")


def axial_to_offset(h: Hex, orientation: str) -> tuple[int, int]:
    """Axial hex -> ``(col, row)``: odd-r for ``"pointy"``, odd-q for ``"flat"``."""
    _check_orientation(orientation)
    if orientation == "pointy":
        return h.q + (h.r - (h.r & 1)) // 2, h.r
    return h.q, h.r + (h.q - (h.q & 1)) // 2


def offset_to_axial(col: int, row: int, orientation: str) -> Hex:
    """``(col, row)`` -> axial hex: odd-r for ``"pointy"``, odd-q for ``"flat"``."""
    _check_orientation(orientation)
    if orientation == "pointy":
        return Hex(col - (row - (row & 1)) // 2, row)
    return Hex(col, row - (col - (col & 1)) // 2)


# --------------------------------------------------------------------------- pixel layout


@dataclass(frozen=True)
class Orientation:
    """Forward (``f*``) and inverse (``b*``) matrices between axial and pixel space, and the
    angle of the first corner in sixths of a turn."""

    f0: float
    f1: float
    f2: float
    f3: float
    b0: float
    b1: float
    b2: float
    b3: float
    start_angle: float


POINTY = Orientation(
    f0=SQRT3, f1=SQRT3 / 2.0, f2=0.0, f3=3.0 / 2.0,
    b0=SQRT3 / 3.0, b1=-1.0 / 3.0, b2=0.0, b3=2.0 / 3.0,
    start_angle=0.5,
)
FLAT = Orientation(
    f0=3.0 / 2.0, f1=0.0, f2=SQRT3 / 2.0, f3=SQRT3,
    b0=2.0 / 3.0, b1=0.0, b2=-1.0 / 3.0, b3=SQRT3 / 3.0,
    start_angle=0.0,
)

_ORIENTATION_MATRICES = {"pointy": POINTY, "flat": FLAT}


@dataclass(frozen=True)
class Layout:
    """Maps hexes to pixel (or any planar) coordinates and back.

    ``size_x``/``size_y`` are the hex "size" (centre-to-corner distance) along each axis and
    ``(origin_x, origin_y)`` is the position of the centre of ``Hex(0, 0)``. With a square size
    ``s``, adjacent hex centres are ``s * sqrt(3)`` apart in both orientations.
    """

    orientation: str
    size_x: float
    size_y: float
    origin_x: float = 0.0
    origin_y: float = 0.0

    def __post_init__(self) -> None:
        _check_orientation(self.orientation)

    @property
    def matrices(self) -> Orientation:
        return _ORIENTATION_MATRICES[self.orientation]

    def hex_to_pixel(self, h: Hex) -> tuple[float, float]:
        """Centre of hex ``h``."""
        m = self.matrices
        x = (m.f0 * h.q + m.f1 * h.r) * self.size_x + self.origin_x
        y = (m.f2 * h.q + m.f3 * h.r) * self.size_y + self.origin_y
        return x, y

    @overload
    def pixel_to_fractional(self, x: float, y: float) -> tuple[float, float]: ...

    @overload
    def pixel_to_fractional(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...

    def pixel_to_fractional(
        self, x: float | NDArray[np.float64], y: float | NDArray[np.float64]
    ) -> tuple[float | NDArray[np.float64], float | NDArray[np.float64]]:
        """Fractional axial coordinates ``(fq, fr)`` of the point ``(x, y)`` (or of arrays of
        points, element by element)."""
        m = self.matrices
        px = (x - self.origin_x) / self.size_x
        py = (y - self.origin_y) / self.size_y
        return m.b0 * px + m.b1 * py, m.b2 * px + m.b3 * py

    def pixel_to_hex(self, x: float, y: float) -> Hex:
        """The hex containing the point ``(x, y)``."""
        return cube_round(*self.pixel_to_fractional(x, y))

    def corner_offset(self, corner: int) -> tuple[float, float]:
        """Offset from a hex centre to its corner number ``corner`` (0..5)."""
        angle = 2.0 * math.pi * (self.matrices.start_angle + corner) / 6.0
        return self.size_x * math.cos(angle), self.size_y * math.sin(angle)

    def corners(self, h: Hex) -> list[tuple[float, float]]:
        """The six corners of hex ``h``."""
        cx, cy = self.hex_to_pixel(h)
        result = []
        for i in range(6):
            ox, oy = self.corner_offset(i)
            result.append((cx + ox, cy + oy))
        return result

    # Vectorised versions, used for whole-map arrays.

    def hex_to_pixel_arrays(
        self, q: ArrayLike, r: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Centres of the hexes ``(q[i], r[i])``."""
        m = self.matrices
        q = np.asarray(q, dtype=np.float64)
        r = np.asarray(r, dtype=np.float64)
        x = (m.f0 * q + m.f1 * r) * self.size_x + self.origin_x
        y = (m.f2 * q + m.f3 * r) * self.size_y + self.origin_y
        return x, y

    def pixel_to_hex_arrays(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Axial ``(q, r)`` arrays of the hexes containing the points ``(x[i], y[i])``."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        fq, fr = self.pixel_to_fractional(x, y)
        return cube_round_arrays(fq, fr)


# --------------------------------------------------------------------------- numpy helpers


def cube_round_arrays(
    fq: ArrayLike, fr: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Vectorised :func:`cube_round`; returns ``(q, r)`` int64 arrays."""
    fq = np.asarray(fq, dtype=np.float64)
    fr = np.asarray(fr, dtype=np.float64)
    fs = -fq - fr
    q = np.rint(fq)
    r = np.rint(fr)
    s = np.rint(fs)
    dq = np.abs(q - fq)
    dr = np.abs(r - fr)
    ds = np.abs(s - fs)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def distance_arrays(
    q1: ArrayLike, r1: ArrayLike, q2: ArrayLike, r2: ArrayLike
) -> NDArray[np.int64]:
    """Element-wise hex distance between ``(q1, r1)`` and ``(q2, r2)`` (broadcasting)."""
    dq = np.asarray(q1, dtype=np.int64) - np.asarray(q2, dtype=np.int64)
    dr = np.asarray(r1, dtype=np.int64) - np.asarray(r2, dtype=np.int64)
    return (np.abs(dq) + np.abs(dr) + np.abs(dq + dr)) // 2


def offset_to_axial_arrays(
    col: ArrayLike, row: ArrayLike, orientation: str
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Vectorised :func:`offset_to_axial`; correct for negative columns and rows too."""
    _check_orientation(orientation)
    col = np.asarray(col, dtype=np.int64)
    row = np.asarray(row, dtype=np.int64)
    # (x - (x & 1)) is always even, so the floor division is exact, negatives included.
    if orientation == "pointy":
        return col - (row - (row & 1)) // 2, row.copy()
    return col.copy(), row - (col - (col & 1)) // 2


def axial_to_offset_arrays(
    q: ArrayLike, r: ArrayLike, orientation: str
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Vectorised :func:`axial_to_offset`; returns ``(col, row)``."""
    _check_orientation(orientation)
    q = np.asarray(q, dtype=np.int64)
    r = np.asarray(r, dtype=np.int64)
    if orientation == "pointy":
        return q + (r - (r & 1)) // 2, r.copy()
    return q.copy(), r + (q - (q & 1)) // 2
