"""Tests for game.hexmap: map arrays, projection, snapping, masks, paths and hexsides."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game import hexgrid
from game.hexgrid import Hex
from game.hexmap import KM_PER_DEG_LAT, HexMap, Projection, _segments_intersect

SQRT3 = math.sqrt(3.0)
ORIENTATIONS = ["pointy", "flat"]

# A small box around Changsha, used for projected maps.
BOX = dict(lat_min=27.0, lat_max=29.0, lon_min=111.5, lon_max=114.0, hex_km=20.0)

PLAIN_MAPS = {
    (orientation, cols, rows): HexMap(cols, rows, orientation=orientation)
    for orientation in ORIENTATIONS
    for cols, rows in [(1, 1), (1, 4), (4, 1), (2, 3), (7, 5), (8, 6)]
}
PROJECTED_MAPS = {o: HexMap.from_projection(Projection(**BOX, orientation=o)) for o in ORIENTATIONS}

map_keys = st.sampled_from(sorted(PLAIN_MAPS))
projected_orientations = st.sampled_from(ORIENTATIONS)


def all_maps():
    return list(PLAIN_MAPS.values()) + list(PROJECTED_MAPS.values())


def hexside_pairs(m: HexMap):
    """Every (i, d, j) with j = neighbours[i, d] on the map."""
    i, d = np.nonzero(m.neighbours >= 0)
    return i, d, m.neighbours[i, d]


# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize("m", all_maps(), ids=repr)
def test_neighbours_match_hexgrid(m):
    assert m.neighbours.shape == (m.n, 6)
    assert m.neighbours.dtype == np.int32
    for i in range(m.n):
        h = m.hex_of(i)
        for d in range(6):
            assert m.neighbours[i, d] == m.index_of_hex(hexgrid.neighbour(h, d))


@pytest.mark.parametrize("m", all_maps(), ids=repr)
def test_neighbours_are_symmetric(m):
    i, d, j = hexside_pairs(m)
    assert np.array_equal(m.neighbours[j, (d + 3) % 6], i)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_interior_hexes_have_six_neighbours_and_corners_fewer(orientation):
    m = PLAIN_MAPS[(orientation, 8, 6)]
    counts = (m.neighbours >= 0).sum(axis=1)
    interior = (m.col > 0) & (m.col < m.cols - 1) & (m.row > 0) & (m.row < m.rows - 1)
    assert np.all(counts[interior] == 6)
    for col, row in [(0, 0), (m.cols - 1, 0), (0, m.rows - 1), (m.cols - 1, m.rows - 1)]:
        assert 2 <= counts[m.index(col, row)] <= 3
    assert counts.min() >= 2
    assert PLAIN_MAPS[(orientation, 1, 1)].neighbours.max() == -1


@pytest.mark.parametrize("m", all_maps(), ids=repr)
def test_per_hex_arrays(m):
    assert m.n == len(m) == m.cols * m.rows
    for name in ("col", "row", "q", "r"):
        assert getattr(m, name).dtype == np.int32
    assert np.array_equal(np.arange(m.n), m.row.astype(np.int64) * m.cols + m.col)
    for i in range(m.n):
        col, row = m.offset_of(i)
        assert m.index(col, row) == i
        assert m.hex_of(i) == hexgrid.offset_to_axial(col, row, m.orientation)
        assert m.index_of_hex(m.hex_of(i)) == i
    # Hex (col 0, row 0) is at the origin and adjacent centres are hex_km apart.
    assert (m.x_km[0], m.y_km[0]) == (0.0, 0.0)
    i, d, j = hexside_pairs(m)
    spacing = np.hypot(m.x_km[i] - m.x_km[j], m.y_km[i] - m.y_km[j])
    assert np.allclose(spacing, m.hex_km)


def test_indexing_errors():
    m = PLAIN_MAPS[("pointy", 7, 5)]
    assert m.contains(6, 4) and not m.contains(7, 4) and not m.contains(-1, 0)
    with pytest.raises(ValueError):
        m.index(7, 0)
    with pytest.raises(ValueError):
        m.index(0, -1)
    assert m.index_of_hex(Hex(-1, 0)) == -1
    with pytest.raises(IndexError):
        m.hex_of(m.n)
    with pytest.raises(IndexError):
        m.offset_of(-1)


def test_constructor_validation():
    with pytest.raises(ValueError):
        HexMap(0, 3)
    with pytest.raises(ValueError):
        HexMap(3, 3, orientation="square")
    projection = Projection(**BOX, orientation="flat")
    assert HexMap(3, 3, projection=projection).orientation == "flat"
    assert HexMap(3, 3).orientation == "pointy"
    with pytest.raises(ValueError):
        HexMap(3, 3, orientation="pointy", projection=projection)
    with pytest.raises(ValueError):
        HexMap(3, 3).latlon_to_index(28.0, 112.0)


# --------------------------------------------------------------------------- projection


def test_projection_validation():
    with pytest.raises(ValueError):
        Projection(lat_min=30, lat_max=20, lon_min=0, lon_max=1, hex_km=10)
    with pytest.raises(ValueError):
        Projection(lat_min=0, lat_max=1, lon_min=5, lon_max=5, hex_km=10)
    with pytest.raises(ValueError):
        Projection(lat_min=0, lat_max=1, lon_min=0, lon_max=1, hex_km=0)
    with pytest.raises(ValueError):
        Projection(lat_min=0, lat_max=1, lon_min=0, lon_max=1, hex_km=10, orientation="odd-r")
    with pytest.raises(TypeError):
        Projection(0, 1, 0, 1, 10)  # keyword-only


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_projection_shape_is_plausible(orientation):
    p = Projection(
        lat_min=20.0, lat_max=30.0, lon_min=105.0, lon_max=115.0, hex_km=30.0, orientation=orientation
    )
    width = 10 * KM_PER_DEG_LAT * math.cos(math.radians(25.0))  # ~1008 km
    height = 10 * KM_PER_DEG_LAT  # 1112 km
    assert p.width_km == pytest.approx(width)
    assert p.height_km == pytest.approx(height)
    cols, rows = p.shape()
    if orientation == "pointy":
        assert (cols, rows) == (35, 44)
        col_step, row_step = 30.0, 30.0 * SQRT3 / 2
    else:
        assert (cols, rows) == (40, 39)
        col_step, row_step = 30.0 * SQRT3 / 2, 30.0
    # The centres reach the far edges, and one column/row fewer would not.
    assert (cols - 1) * col_step >= width > (cols - 2) * col_step
    assert (rows - 1) * row_step >= height > (rows - 2) * row_step
    m = HexMap.from_projection(p)
    assert (m.cols, m.rows) == (cols, rows)
    assert m.x_km.max() >= width and m.y_km.max() >= height


def test_projection_exact_multiple_gets_no_spurious_extra_row():
    # 1 degree of latitude at hex_km = 111.2 / 4 is exactly 4 hex rows apart (flat).
    p = Projection(
        lat_min=0.0, lat_max=1.0, lon_min=0.0, lon_max=0.01, hex_km=KM_PER_DEG_LAT / 4, orientation="flat"
    )
    assert p.shape()[1] == 5


def test_latlon_xy_round_trip_scalars_and_arrays():
    p = Projection(**BOX)
    x, y = p.latlon_to_xy(29.0, 111.5)
    assert (x, y) == (0.0, 0.0) and isinstance(x, float)
    x, y = p.latlon_to_xy(27.0, 114.0)
    assert x == pytest.approx(p.width_km) and y == pytest.approx(p.height_km)
    lats = np.linspace(26.0, 30.0, 9)
    lons = np.linspace(110.0, 115.0, 9)
    x, y = p.latlon_to_xy(lats, lons)
    assert isinstance(x, np.ndarray)
    lat2, lon2 = p.xy_to_latlon(x, y)
    assert np.allclose(lat2, lats) and np.allclose(lon2, lons)
    assert p.xy_to_latlon(*p.latlon_to_xy(28.2, 112.9)) == pytest.approx((28.2, 112.9))
    # y grows southwards, x eastwards.
    assert p.latlon_to_xy(28.0, 112.0)[1] > p.latlon_to_xy(28.5, 112.0)[1]
    assert p.latlon_to_xy(28.0, 113.0)[0] > p.latlon_to_xy(28.0, 112.0)[0]


def test_projection_layout_spacing():
    p = Projection(**BOX)
    layout = p.layout()
    assert layout.hex_to_pixel(Hex(0, 0)) == (0.0, 0.0)
    for step in hexgrid.DIRECTIONS:
        x, y = layout.hex_to_pixel(step)
        assert math.hypot(x, y) == pytest.approx(p.hex_km)


# --------------------------------------------------------------------------- snapping


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_every_centre_snaps_to_its_hex(orientation):
    m = PROJECTED_MAPS[orientation]
    lats, lons = [], []
    for i in range(m.n):
        lat, lon = m.centre_latlon(i)
        assert m.latlon_to_index(lat, lon) == i
        lats.append(lat)
        lons.append(lon)
    assert np.array_equal(m.latlon_to_indices(lats, lons), np.arange(m.n))
    assert m.latlon_to_index(BOX["lat_max"], BOX["lon_min"]) == 0


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_points_off_the_map_snap_to_minus_one(orientation):
    m = PROJECTED_MAPS[orientation]
    assert m.latlon_to_index(35.0, 112.0) == -1
    assert m.latlon_to_index(28.0, 100.0) == -1
    assert m.latlon_to_indices([35.0, 28.0], [112.0, 113.0]).tolist()[0] == -1


@settings(max_examples=60, deadline=None)
@given(projected_orientations, st.floats(27.0, 29.0), st.floats(111.5, 114.0))
def test_snapping_picks_the_nearest_centre(orientation, lat, lon):
    m = PROJECTED_MAPS[orientation]
    i = m.latlon_to_index(lat, lon)
    x, y = m.projection.latlon_to_xy(lat, lon)
    d2 = (m.x_km - x) ** 2 + (m.y_km - y) ** 2
    if i >= 0:
        assert d2[i] <= d2.min() + 1e-6
    assert m.latlon_to_indices([lat], [lon])[0] == i


# --------------------------------------------------------------------------- distances and areas


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_distances_and_within(orientation):
    m = PLAIN_MAPS[(orientation, 8, 6)]
    for i in (0, 13, m.n - 1):
        dist = m.distances_from(i)
        expected = [hexgrid.distance(m.hex_of(i), m.hex_of(j)) for j in range(m.n)]
        assert dist.tolist() == expected
        assert np.array_equal(m.within(i, 2), dist <= 2)
        assert m.within(i, 0).sum() == 1


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_polygon_mask_rectangle(orientation):
    m = PROJECTED_MAPS[orientation]
    lat_lo, lat_hi, lon_lo, lon_hi = 27.53, 28.41, 112.07, 113.29
    rectangle = [(lat_lo, lon_lo), (lat_hi, lon_lo), (lat_hi, lon_hi), (lat_lo, lon_hi)]
    mask = m.polygon_mask(rectangle)
    lat, lon = m.projection.xy_to_latlon(m.x_km, m.y_km)
    expected = (lat > lat_lo) & (lat < lat_hi) & (lon > lon_lo) & (lon < lon_hi)
    assert expected.sum() > 10 and (~expected).sum() > 10
    assert np.array_equal(mask, expected)
    # Closing the ring explicitly or reversing it changes nothing.
    assert np.array_equal(m.polygon_mask(rectangle + rectangle[:1]), expected)
    assert np.array_equal(m.polygon_mask(rectangle[::-1]), expected)
    assert not m.polygon_mask(rectangle[:2]).any()


def test_polygon_mask_triangle_and_bow_tie():
    m = PLAIN_MAPS[("pointy", 8, 6)]
    triangle = [(-0.1, -0.1), (20.0, -0.1), (-0.1, 20.0)]
    expected = m.x_km + m.y_km < 19.9
    assert np.array_equal(m.polygon_mask_xy(triangle), expected)
    # A self-intersecting "bow tie": by the even-odd rule the two lobes between the
    # crossing diagonals are inside, everything else outside.
    bowtie = [(0.2, 0.2), (6.2, 3.2), (6.2, 0.2), (0.2, 3.2)]
    down = 0.2 + 0.5 * (m.x_km - 0.2)
    up = 3.2 - 0.5 * (m.x_km - 0.2)
    between = (m.y_km > np.minimum(down, up)) & (m.y_km < np.maximum(down, up))
    expected = (m.x_km > 0.2) & (m.x_km < 6.2) & between
    assert expected[m.index(1, 2)] and expected[m.index(5, 2)] and not expected[m.index(3, 1)]
    assert np.array_equal(m.polygon_mask_xy(bowtie), expected)


# --------------------------------------------------------------------------- paths


def assert_contiguous(m: HexMap, path: list[int]):
    for a, b in zip(path, path[1:]):
        assert a != b
        assert m.direction_between(a, b) >= 0


@settings(max_examples=60, deadline=None)
@given(map_keys, st.data())
def test_path_hexes_is_contiguous(key, data):
    m = PLAIN_MAPS[key]
    waypoints = data.draw(st.lists(st.integers(0, m.n - 1), min_size=1, max_size=6))
    path = m.path_hexes(waypoints)
    assert path[0] == waypoints[0] and path[-1] == waypoints[-1]
    assert all(0 <= i < m.n for i in path)
    assert_contiguous(m, path)
    # Every waypoint is visited, in order.
    position = 0
    for w in waypoints:
        position = path.index(w, position)


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_path_along_the_jagged_edge_stays_on_the_map(orientation):
    # Lines running exactly along the map edge round, at ties, to hexes just off the map
    # with the default nudge (e.g. pointy: (col 7, row 1) -> (col 7, row 3)).
    m = PLAIN_MAPS[(orientation, 8, 6)]
    for a in range(m.n):
        for b in range(m.n):
            path = m.path_hexes([a, b])
            assert len(path) == hexgrid.distance(m.hex_of(a), m.hex_of(b)) + 1
            assert_contiguous(m, path)


def test_path_from_latlon():
    m = PROJECTED_MAPS["pointy"]
    points = [(28.9, 111.6), (27.1, 113.9), (28.5, 113.0)]
    path = m.path_from_latlon(points)
    assert path[0] == m.latlon_to_index(*points[0])
    assert path[-1] == m.latlon_to_index(*points[-1])
    assert_contiguous(m, path)
    with pytest.raises(ValueError):
        m.path_from_latlon([(28.0, 112.0), (40.0, 112.0)])
    assert m.path_from_latlon([(28.0, 112.0)]) == [m.latlon_to_index(28.0, 112.0)]


def test_direction_between():
    m = PLAIN_MAPS[("flat", 7, 5)]
    i = m.index(3, 2)
    for d in range(6):
        assert m.direction_between(i, int(m.neighbours[i, d])) == d
    assert m.direction_between(i, i) == -1
    assert m.direction_between(i, m.index(0, 0)) == -1


# --------------------------------------------------------------------------- hexsides


def assert_symmetric(m: HexMap, mask: np.ndarray):
    assert mask.shape == (m.n, 6) and mask.dtype == bool
    assert not mask[m.neighbours < 0].any()
    i, d = np.nonzero(mask)
    assert mask[m.neighbours[i, d], (d + 3) % 6].all()


def naive_hexsides_crossed(m: HexMap, points_km) -> np.ndarray:
    """Reference: test every hexside of the map against every polyline segment.

    Like the real method, each hexside is tested once, from the end whose direction is 0..2
    (so float rounding at exact touches cannot make the two directions disagree).
    """
    i, d, j = hexside_pairs(m)
    forward = d < 3
    i, d, j = i[forward], d[forward], j[forward]
    crossed = np.zeros((m.n, 6), dtype=bool)
    for (x1, y1), (x2, y2) in zip(points_km[:-1], points_km[1:]):
        if (x1, y1) == (x2, y2):
            continue
        hit = _segments_intersect(m.x_km[i], m.y_km[i], m.x_km[j], m.y_km[j], x1, y1, x2, y2)
        crossed[i[hit], d[hit]] = True
        crossed[j[hit], d[hit] + 3] = True
    return crossed


polyline_point = st.tuples(st.floats(-3.0, 12.0), st.floats(-3.0, 10.0))


@settings(max_examples=60, deadline=None)
@given(map_keys, st.lists(polyline_point, min_size=0, max_size=6))
def test_hexsides_crossed_symmetric_and_matches_naive(key, points):
    m = PLAIN_MAPS[key]
    crossed = m.hexsides_crossed_xy(points)
    assert_symmetric(m, crossed)
    if len(points) >= 2:
        assert np.array_equal(crossed, naive_hexsides_crossed(m, points))
    else:
        assert not crossed.any()


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_meridian_crosses_exactly_the_hexsides_it_separates(orientation):
    m = PROJECTED_MAPS[orientation]
    lon = 112.7371  # chosen not to pass through any hex centre
    x0 = m.projection.latlon_to_xy(28.0, lon)[0]
    assert np.abs(m.x_km - x0).min() > 1e-3
    polyline = [(BOX["lat_max"] + 0.5, lon), (28.0, lon), (BOX["lat_min"] - 0.5, lon)]
    crossed = m.hexsides_crossed(polyline)
    assert_symmetric(m, crossed)
    i, d, j = hexside_pairs(m)
    opposite = (m.x_km[i] < x0) != (m.x_km[j] < x0)
    assert opposite.sum() > 0
    assert np.array_equal(crossed[i, d], opposite)


def test_single_point_or_degenerate_polyline_crosses_nothing():
    m = PROJECTED_MAPS["pointy"]
    assert not m.hexsides_crossed([(28.0, 112.5)]).any()
    assert not m.hexsides_crossed([(28.0, 112.5), (28.0, 112.5)]).any()
    assert not m.hexsides_crossed([]).any()


def test_polyline_through_a_centre_touches_all_its_sides():
    m = PLAIN_MAPS[("pointy", 8, 6)]
    i = m.index(3, 2)
    x, y = m.x_km[i], m.y_km[i]
    crossed = m.hexsides_crossed_xy([(x - 0.3, y - 0.2), (x, y), (x + 0.3, y - 0.2)])
    assert crossed[i].all()


@settings(max_examples=40, deadline=None)
@given(map_keys, st.data())
def test_edge_path_mask(key, data):
    m = PLAIN_MAPS[key]
    a = data.draw(st.integers(0, m.n - 1))
    b = data.draw(st.integers(0, m.n - 1))
    path = m.path_hexes([a, b])  # a straight line never revisits a hex
    mask = m.edge_path_mask(path)
    assert_symmetric(m, mask)
    assert mask.sum() == 2 * (len(path) - 1)
    for p, q in zip(path, path[1:]):
        assert mask[p, m.direction_between(p, q)]


def test_edge_path_mask_errors_and_repeats():
    m = PLAIN_MAPS[("pointy", 7, 5)]
    a, b = m.index(1, 1), m.index(2, 1)
    assert m.edge_path_mask([a, a, b]).sum() == 2
    assert m.edge_path_mask([a]).sum() == 0
    with pytest.raises(ValueError):
        m.edge_path_mask([a, m.index(4, 4)])
