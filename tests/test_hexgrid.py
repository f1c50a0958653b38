"""Tests for game.hexgrid: known values from the Red Blob Games guide plus property tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from game import hexgrid
from game.hexgrid import DIRECTIONS, Hex, Layout

SQRT3 = math.sqrt(3.0)

coord = st.integers(min_value=-1000, max_value=1000)
hexes = st.builds(Hex, coord, coord)
small_hexes = st.builds(Hex, st.integers(-30, 30), st.integers(-30, 30))
orientations = st.sampled_from(["pointy", "flat"])


# --------------------------------------------------------------------------- known values


def test_cube_coordinate_s():
    assert Hex(3, -7).s == 4
    assert Hex(0, 0).s == 0


def test_known_distance():
    # Cube (3, -7, 4) is 7 from the origin.
    assert hexgrid.length(Hex(3, -7)) == 7
    assert hexgrid.distance(Hex(0, 0), Hex(3, -7)) == 7
    assert hexgrid.distance(Hex(1, 2), Hex(4, -5)) == 7


def test_arithmetic():
    assert hexgrid.add(Hex(1, 2), Hex(3, -4)) == Hex(4, -2)
    assert hexgrid.sub(Hex(1, 2), Hex(3, -4)) == Hex(-2, 6)
    assert hexgrid.scale(Hex(1, -2), 3) == Hex(3, -6)


def test_directions_table():
    assert DIRECTIONS == (Hex(1, 0), Hex(1, -1), Hex(0, -1), Hex(-1, 0), Hex(-1, 1), Hex(0, 1))
    for d in range(6):
        assert hexgrid.add(DIRECTIONS[d], DIRECTIONS[(d + 3) % 6]) == Hex(0, 0)
        assert hexgrid.length(DIRECTIONS[d]) == 1


def test_neighbour_table():
    h = Hex(2, 3)
    expected = [Hex(3, 3), Hex(3, 2), Hex(2, 2), Hex(1, 3), Hex(1, 4), Hex(2, 4)]
    assert hexgrid.neighbours(h) == expected
    for d in range(6):
        assert hexgrid.neighbour(h, d) == expected[d]
    assert hexgrid.neighbour(h, 7) == expected[1]


def test_known_line():
    # Worked by hand: the lerp points are (0.2k, -k) for k = 0..5.
    assert hexgrid.line(Hex(0, 0), Hex(1, -5)) == [
        Hex(0, 0), Hex(0, -1), Hex(0, -2), Hex(1, -3), Hex(1, -4), Hex(1, -5)
    ]
    assert hexgrid.line(Hex(3, 3), Hex(3, 3)) == [Hex(3, 3)]
    assert hexgrid.line(Hex(0, 0), Hex(3, 0)) == [Hex(0, 0), Hex(1, 0), Hex(2, 0), Hex(3, 0)]


def test_line_tie_is_broken_by_the_nudge():
    # The midpoint (1, -0.5) lies exactly on the edge between Hex(1, 0) and Hex(1, -1).
    assert hexgrid.line(Hex(0, 0), Hex(2, -1)) == [Hex(0, 0), Hex(1, 0), Hex(2, -1)]
    assert hexgrid.line(Hex(0, 0), Hex(2, -1), nudge_sign=-1) == [Hex(0, 0), Hex(1, -1), Hex(2, -1)]
    with pytest.raises(ValueError):
        hexgrid.line(Hex(0, 0), Hex(2, -1), nudge_sign=0)


def test_cube_round():
    assert hexgrid.cube_round(0.1, 0.1) == Hex(0, 0)
    assert hexgrid.cube_round(0.9, -0.1) == Hex(1, 0)
    assert hexgrid.cube_round(2.4, -1.3) == Hex(2, -1)


def test_ring_one_is_the_neighbours():
    c = Hex(-4, 9)
    assert sorted(hexgrid.ring(c, 1)) == sorted(hexgrid.neighbours(c))
    assert hexgrid.ring(c, 0) == [c]
    with pytest.raises(ValueError):
        hexgrid.ring(c, -1)


def test_known_rotations():
    assert hexgrid.rotate_right(Hex(1, 0)) == Hex(0, 1)
    assert hexgrid.rotate_left(Hex(1, 0)) == Hex(1, -1)
    assert hexgrid.rotate(Hex(1, 0), 1) == Hex(0, 1)
    assert hexgrid.rotate(Hex(1, 0), -1) == Hex(1, -1)
    assert hexgrid.rotate(Hex(1, 0), 3) == Hex(-1, 0)
    # Rotating the direction table right by one step walks it backwards.
    for d in range(6):
        assert hexgrid.rotate_right(DIRECTIONS[d]) == DIRECTIONS[(d - 1) % 6]
    assert hexgrid.rotate_right(Hex(3, 1), centre=Hex(2, 1)) == Hex(2, 2)


def test_known_reflections():
    h = Hex(1, 2)  # cube (1, 2, -3)
    assert hexgrid.reflect_q(h) == Hex(1, -3)
    assert hexgrid.reflect_r(h) == Hex(-3, 2)
    assert hexgrid.reflect_s(h) == Hex(2, 1)


@pytest.mark.parametrize(
    "orientation, offset, axial",
    [
        ("pointy", (0, 0), Hex(0, 0)),
        ("pointy", (1, 1), Hex(1, 1)),
        ("pointy", (0, 2), Hex(-1, 2)),
        ("pointy", (3, -1), Hex(4, -1)),
        ("pointy", (-1, -1), Hex(0, -1)),
        ("pointy", (2, -2), Hex(3, -2)),
        ("flat", (0, 0), Hex(0, 0)),
        ("flat", (1, 1), Hex(1, 1)),
        ("flat", (2, 0), Hex(2, -1)),
        ("flat", (-1, 0), Hex(-1, 1)),
        ("flat", (-2, 3), Hex(-2, 4)),
    ],
)
def test_known_offsets(orientation, offset, axial):
    assert hexgrid.offset_to_axial(*offset, orientation) == axial
    assert hexgrid.axial_to_offset(axial, orientation) == offset


def test_bad_orientation_is_rejected():
    with pytest.raises(ValueError):
        hexgrid.axial_to_offset(Hex(0, 0), "odd-r")
    with pytest.raises(ValueError):
        hexgrid.offset_to_axial(0, 0, "POINTY")
    with pytest.raises(ValueError):
        Layout("square", 1.0, 1.0)
    with pytest.raises(ValueError):
        hexgrid.offset_to_axial_arrays([0], [0], "x")
    with pytest.raises(ValueError):
        hexgrid.axial_to_offset_arrays([0], [0], "x")


def test_known_pixels():
    pointy = Layout("pointy", 1.0, 1.0)
    assert pointy.hex_to_pixel(Hex(1, 0)) == pytest.approx((SQRT3, 0.0))
    assert pointy.hex_to_pixel(Hex(0, 1)) == pytest.approx((SQRT3 / 2, 1.5))
    assert pointy.corners(Hex(0, 0))[0] == pytest.approx((SQRT3 / 2, 0.5))

    flat = Layout("flat", 1.0, 1.0, 10.0, 20.0)
    assert flat.hex_to_pixel(Hex(0, 0)) == (10.0, 20.0)
    assert flat.hex_to_pixel(Hex(1, 0)) == pytest.approx((11.5, 20.0 + SQRT3 / 2))
    assert flat.hex_to_pixel(Hex(0, 1)) == pytest.approx((10.0, 20.0 + SQRT3))
    assert flat.corners(Hex(0, 0))[0] == pytest.approx((11.0, 20.0))


@pytest.mark.parametrize("orientation", ["pointy", "flat"])
def test_corners_lie_on_the_circumcircle(orientation):
    layout = Layout(orientation, 2.0, 2.0, 1.0, -1.0)
    cx, cy = layout.hex_to_pixel(Hex(3, -2))
    corners = layout.corners(Hex(3, -2))
    assert len(corners) == 6
    for x, y in corners:
        assert math.hypot(x - cx, y - cy) == pytest.approx(2.0)
        # Every corner is equidistant from exactly three hex centres (it is shared by them).
        assert layout.pixel_to_hex(cx + 0.9 * (x - cx), cy + 0.9 * (y - cy)) == Hex(3, -2)


# --------------------------------------------------------------------------- properties


@given(hexes, hexes, hexes)
def test_distance_metric(a, b, c):
    assert hexgrid.distance(a, a) == 0
    assert hexgrid.distance(a, b) == hexgrid.distance(b, a)
    assert hexgrid.distance(a, c) <= hexgrid.distance(a, b) + hexgrid.distance(b, c)
    assert hexgrid.distance(a, b) >= 0


@given(hexes, st.integers(0, 5))
def test_neighbours_are_at_distance_one(h, d):
    assert hexgrid.distance(h, hexgrid.neighbour(h, d)) == 1
    assert hexgrid.neighbour(hexgrid.neighbour(h, d), d + 3) == h


@given(small_hexes, small_hexes, st.sampled_from([1, -1]))
def test_line_properties(a, b, sign):
    result = hexgrid.line(a, b, nudge_sign=sign)
    assert len(result) == hexgrid.distance(a, b) + 1
    assert result[0] == a and result[-1] == b
    for h1, h2 in zip(result, result[1:]):
        assert hexgrid.distance(h1, h2) == 1


@given(small_hexes, st.integers(0, 8))
def test_ring_properties(c, k):
    result = hexgrid.ring(c, k)
    assert len(result) == (6 * k if k else 1)
    assert len(set(result)) == len(result)
    assert all(hexgrid.distance(c, h) == k for h in result)
    # Rings are walked in order: consecutive members (and last -> first) are adjacent.
    if k:
        for h1, h2 in zip(result, result[1:] + result[:1]):
            assert hexgrid.distance(h1, h2) == 1


@given(small_hexes, st.integers(0, 8))
def test_spiral_and_range(c, k):
    expected = 1 + 3 * k * (k + 1)
    spiral = hexgrid.spiral(c, k)
    area = hexgrid.hex_range(c, k)
    assert len(spiral) == expected
    assert len(area) == expected
    assert set(spiral) == set(area)
    assert len(set(area)) == expected
    assert spiral[0] == c
    distances = [hexgrid.distance(c, h) for h in spiral]
    assert distances == sorted(distances)
    assert max(distances) == k


@given(hexes, hexes, st.integers(-12, 12))
def test_rotation_properties(h, centre, steps):
    rotated = h
    for _ in range(6):
        rotated = hexgrid.rotate_right(rotated, centre)
    assert rotated == h
    assert hexgrid.rotate_left(hexgrid.rotate_right(h, centre), centre) == h
    r = hexgrid.rotate(h, steps, centre)
    assert hexgrid.distance(r, centre) == hexgrid.distance(h, centre)
    assert hexgrid.rotate(r, -steps, centre) == h


@given(hexes, hexes)
def test_rotation_preserves_distance_between_hexes(a, b):
    rotated = hexgrid.distance(hexgrid.rotate_right(a), hexgrid.rotate_right(b))
    assert rotated == hexgrid.distance(a, b)


@given(hexes, hexes)
def test_reflections_are_involutions(h, centre):
    for reflect in (hexgrid.reflect_q, hexgrid.reflect_r, hexgrid.reflect_s):
        assert reflect(reflect(h, centre), centre) == h
        assert hexgrid.distance(reflect(h, centre), centre) == hexgrid.distance(h, centre)


@given(
    hexes,
    orientations,
    st.floats(0.1, 100.0),
    st.floats(0.1, 100.0),
    st.floats(-1000.0, 1000.0),
    st.floats(-1000.0, 1000.0),
)
def test_pixel_round_trip(h, orientation, size_x, size_y, origin_x, origin_y):
    layout = Layout(orientation, size_x, size_y, origin_x, origin_y)
    x, y = layout.hex_to_pixel(h)
    assert layout.pixel_to_hex(x, y) == h
    fq, fr = layout.pixel_to_fractional(x, y)
    assert fq == pytest.approx(h.q, abs=1e-6) and fr == pytest.approx(h.r, abs=1e-6)


@given(hexes, orientations, st.floats(0.0, 2 * math.pi), st.floats(0.0, 0.99))
def test_points_inside_the_inscribed_circle_belong_to_the_hex(h, orientation, angle, fraction):
    layout = Layout(orientation, 3.0, 3.0)
    x, y = layout.hex_to_pixel(h)
    radius = fraction * 3.0 * SQRT3 / 2  # the inscribed circle has radius size * sqrt(3)/2
    assert layout.pixel_to_hex(x + radius * math.cos(angle), y + radius * math.sin(angle)) == h


@given(hexes, orientations)
def test_offset_round_trip(h, orientation):
    col, row = hexgrid.axial_to_offset(h, orientation)
    assert hexgrid.offset_to_axial(col, row, orientation) == h


@given(coord, coord, orientations)
def test_offset_round_trip_from_offset(col, row, orientation):
    h = hexgrid.offset_to_axial(col, row, orientation)
    assert hexgrid.axial_to_offset(h, orientation) == (col, row)


@given(st.lists(st.tuples(hexes, hexes), min_size=1, max_size=30), orientations)
def test_array_helpers_agree_with_scalars(pairs, orientation):
    q1 = np.array([a.q for a, _ in pairs], dtype=np.int32)
    r1 = np.array([a.r for a, _ in pairs], dtype=np.int32)
    q2 = np.array([b.q for _, b in pairs], dtype=np.int32)
    r2 = np.array([b.r for _, b in pairs], dtype=np.int32)

    dist = hexgrid.distance_arrays(q1, r1, q2, r2)
    assert dist.tolist() == [hexgrid.distance(a, b) for a, b in pairs]

    col, row = hexgrid.axial_to_offset_arrays(q1, r1, orientation)
    expected_offsets = [hexgrid.axial_to_offset(a, orientation) for a, _ in pairs]
    assert list(zip(col.tolist(), row.tolist())) == expected_offsets

    q, r = hexgrid.offset_to_axial_arrays(q2, r2, orientation)  # reuse as (col, row) input
    expected = [hexgrid.offset_to_axial(b.q, b.r, orientation) for _, b in pairs]
    assert list(zip(q.tolist(), r.tolist())) == [tuple(h) for h in expected]


@given(
    st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500)), min_size=1, max_size=30),
    orientations,
)
def test_vectorised_rounding_and_layout_agree_with_scalars(points, orientation):
    fq = np.array([p[0] for p in points])
    fr = np.array([p[1] for p in points])
    q, r = hexgrid.cube_round_arrays(fq, fr)
    assert [Hex(a, b) for a, b in zip(q.tolist(), r.tolist())] == [
        hexgrid.cube_round(a, b) for a, b in points
    ]

    layout = Layout(orientation, 2.5, 2.5, 3.0, -7.0)
    q, r = layout.pixel_to_hex_arrays(fq, fr)
    assert [Hex(a, b) for a, b in zip(q.tolist(), r.tolist())] == [
        layout.pixel_to_hex(x, y) for x, y in points
    ]
    x, y = layout.hex_to_pixel_arrays(q, r)
    for xi, yi, qi, ri in zip(x, y, q.tolist(), r.tolist()):
        assert (xi, yi) == pytest.approx(layout.hex_to_pixel(Hex(qi, ri)))
