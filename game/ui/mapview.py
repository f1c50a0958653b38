"""The map view: one scenario's map drawn into a rectangle, with its camera (pan and zoom).

Drawing five thousand hexes with their rivers, railways and names every frame would be far too
slow, so the map is drawn in layers of cached 512 x 512 tiles, per zoom level:

* **static** tiles: terrain fills, relief shading, hex outlines, coasts, rivers on hexsides and
  roads. Drawn once per zoom level and tile (kept in a least-recently-used cache, so memory
  stays bounded at any zoom: a whole-map surface at the largest zoom would be 60 MB a layer);
* **map** tiles: a static tile plus what changes during a game but rarely: the control tint,
  region hatching (each kind the scenario declares, in its colour), railways intact and broken, the front line,
  places with their names and air bases. :meth:`MapView.refresh` compares the new state with
  the last one drawn and throws away only the tiles where something changed;
* **overlay** tiles (supply, zones of control, air cover, regions, control, the corridor), kept
  the same way: each overlay is reduced to a code per hex and only tiles whose codes changed are
  redrawn;
* **orders** tiles: the reach of the selected units with movement costs, rail destinations and
  attackable hexes; rebuilt when :meth:`MapView.set_orders` changes them.

A frame blits the visible tiles of each layer (a dozen blits per layer at 1280 x 800), then draws
the units (cached counters), the hovered path and the attack target. Pixel positions on a layer
are *world* pixels of the current zoom; the camera is the world position of the view's top-left
corner.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pygame

from ..cache import BoundedCache
from ..hexgrid import Layout
from ..rules import engine, movement
from ..rules.state import ACTIVE
from ..scenario.build import EDGE_BROKEN, EDGE_INTACT
from . import counters, palette, panels
from .palette import Colour
from .relief import Relief, load_relief

if TYPE_CHECKING:
    from ..rules.context import Context
    from ..rules.engine import Game

OVERLAYS = ("supply_own", "supply_enemy", "zoc", "air", "regions", "control", "corridor")
#: Distance between adjacent hex centres, in screen pixels, at each zoom level.
ZOOM_SPACINGS = (10, 14, 20, 28, 40, 56)
DEFAULT_ZOOM = 3
TILE = 512
SQRT3 = math.sqrt(3.0)

#: Cache sizes in tiles (a tile is 1 MB; at most 112 MB in all). The map and overlay layers keep
#: about two full views at 1920 x 1080; static tiles are only needed again to redraw a map tile
#: after a change, which happens where the player is looking.
STATIC_TILES = 24
MAP_TILES = 40
OVERLAY_TILES = 32
ORDERS_TILES = 16
PREFETCH_BELOW = 0.006  # seconds: a frame drawn faster than this may draw one tile ahead


# ---------------------------------------------------------------------------------------------
# geometry of one zoom level


class Zoom:
    """The map's geometry at one zoom level, in world pixels (hex centres, corners, size).

    The whole map spans ``width x height`` pixels with a margin of one hex spacing around the
    hexes; hex ``i``'s centre is ``(x[i], y[i])``."""

    def __init__(self, ctx: Context, spacing: float):
        hm = ctx.hm
        self.spacing = float(spacing)
        self.scale = spacing / hm.hex_km  # world pixels per map km
        self.size = spacing / SQRT3  # hex circumradius
        self.pad = spacing
        self.x = hm.x_km * self.scale + self.pad
        self.y = hm.y_km * self.scale + self.pad
        self.width = math.ceil(float(self.x.max()) + self.pad + self.size)
        self.height = math.ceil(float(self.y.max()) + self.pad + self.size)
        self.layout = Layout(hm.orientation, self.size, self.size, self.pad, self.pad)
        self.offsets = np.array([self.layout.corner_offset(k) for k in range(6)])  # (6, 2)
        self.tiles_x = -(-self.width // TILE)
        self.tiles_y = -(-self.height // TILE)
        #: place names: (hex, world rect, text key, importance), built on first use
        self.labels: list[tuple[int, pygame.Rect, tuple, int]] | None = None
        self._tile_geometry: OrderedDict[tuple[int, int], tuple[np.ndarray, TilePolygons]] = OrderedDict()

    def hexes_in(self, rect: pygame.Rect, margin: float) -> np.ndarray:
        """Indices of the hexes whose centre lies within ``margin`` of ``rect``."""
        sel = ((self.x >= rect.left - margin) & (self.x <= rect.right + margin)
               & (self.y >= rect.top - margin) & (self.y <= rect.bottom + margin))
        return np.flatnonzero(sel)

    def polygons(self, hexes: np.ndarray, ox: float, oy: float, shrink: float = 1.0) -> list:
        """Corner lists of ``hexes`` relative to ``(ox, oy)`` (``shrink`` < 1 draws them smaller)."""
        cx = self.x[hexes] - ox
        cy = self.y[hexes] - oy
        pts = np.stack([cx[:, None] + self.offsets[None, :, 0] * shrink,
                        cy[:, None] + self.offsets[None, :, 1] * shrink], axis=2)
        return pts.tolist()

    def tile_hexes(self, tx: int, ty: int) -> tuple[np.ndarray, TilePolygons]:
        """The hexes a tile shows and their corner lists in tile pixels, made once for all the
        layers of the tile (the layers draw subsets of them)."""
        key = (tx, ty)
        found = self._tile_geometry.get(key)
        if found is None:
            rect = self.tile_rect(tx, ty)
            hexes = self.hexes_in(rect, self.size + 2)
            found = (hexes, TilePolygons(hexes, self.polygons(hexes, rect.x, rect.y)))
            self._tile_geometry[key] = found
            if len(self._tile_geometry) > 64:
                self._tile_geometry.popitem(last=False)
        else:
            self._tile_geometry.move_to_end(key)
        return found

    def tile_rect(self, tx: int, ty: int) -> pygame.Rect:
        x, y = tx * TILE, ty * TILE
        return pygame.Rect(x, y, min(TILE, self.width - x), min(TILE, self.height - y))

    def tiles_touching(self, rect: pygame.Rect) -> set[tuple[int, int]]:
        x0 = max(0, rect.left // TILE)
        x1 = min(self.tiles_x - 1, (rect.right - 1) // TILE)
        y0 = max(0, rect.top // TILE)
        y1 = min(self.tiles_y - 1, (rect.bottom - 1) // TILE)
        return {(tx, ty) for tx in range(x0, x1 + 1) for ty in range(y0, y1 + 1)}


class TilePolygons:
    """Corner lists of a tile's hexes, looked up by hex index."""

    def __init__(self, hexes: np.ndarray, polys: list):
        self.polys = polys
        self.at = {h: k for k, h in enumerate(hexes.tolist())}

    def of(self, hexes: np.ndarray) -> list:
        at, polys = self.at, self.polys
        return [polys[at[h]] for h in hexes.tolist()]


def _side_corners(ctx: Context) -> list[tuple[int, int]]:
    """For each direction d, the two corners (indices 0..5) of the hexside shared with the
    neighbour in direction d: the corners nearest the midpoint between the two centres."""
    from ..hexgrid import DIRECTIONS

    layout = Layout(ctx.hm.orientation, 1.0, 1.0)
    corners = [layout.corner_offset(k) for k in range(6)]
    out = []
    for step in DIRECTIONS:
        mx, my = layout.hex_to_pixel(step)
        mx, my = mx / 2, my / 2
        order = sorted(range(6), key=lambda k: (corners[k][0] - mx) ** 2 + (corners[k][1] - my) ** 2)
        out.append((order[0], order[1]))
    return out


class TileCache:
    """Tiles of one layer keyed by ``(zoom index, tx, ty)``, least recently used dropped first.

    ``render(zoom, tx, ty)`` makes a missing tile (``None`` for an empty one: nothing to blit).
    ``renders`` counts the tiles made, which tests and the benchmark read."""

    def __init__(self, render: Callable[[int, int, int], pygame.Surface | None], capacity: int):
        self.render = render
        self.capacity = capacity
        self.tiles: OrderedDict[tuple[int, int, int], pygame.Surface | None] = OrderedDict()
        self.renders = 0

    def get(self, z: int, tx: int, ty: int) -> pygame.Surface | None:
        key = (z, tx, ty)
        if key in self.tiles:
            self.tiles.move_to_end(key)
            return self.tiles[key]
        surf = self.render(z, tx, ty)
        self.renders += 1
        self.tiles[key] = surf
        while len(self.tiles) > self.capacity:
            self.tiles.popitem(last=False)
        return surf

    def clear(self) -> None:
        self.tiles.clear()

    def drop(self, keys: Collection[tuple[int, int, int]]) -> None:
        for key in keys:
            self.tiles.pop(key, None)

    def keys_at(self, z: int) -> list[tuple[int, int]]:
        return [(tx, ty) for (zz, tx, ty) in self.tiles if zz == z]

    def bytes(self) -> int:
        return sum(s.get_bytesize() * s.get_width() * s.get_height() for s in self.tiles.values() if s is not None)


# ---------------------------------------------------------------------------------------------
# hatching


#: drawn patterns and icons, shared by every map view (the window's thread draws; bounded)
_HATCH: BoundedCache[pygame.Surface] = BoundedCache("ui.hatch", 256)
_PLANES: BoundedCache[pygame.Surface] = BoundedCache("ui.plane_icons", 256)


def _hatch(colour: Colour, alpha: int, period: int, width: int, rising: bool) -> pygame.Surface:
    """A tile-sized pattern of diagonal lines (``rising``: lower left to upper right), wider than
    a tile by one period so that an offset window of it lines up across tiles."""
    def make() -> pygame.Surface:
        found = pygame.Surface((TILE + period, TILE), pygame.SRCALPHA)
        rgba = (*colour, alpha)
        for c in range(-TILE, 2 * TILE + period, period):
            if rising:  # x + y = c
                pygame.draw.line(found, rgba, (c, 0), (c - TILE, TILE), width)
            else:  # x - y = c
                pygame.draw.line(found, rgba, (c, 0), (c + TILE, TILE), width)
        return found
    return _HATCH.get((colour, alpha, period, width, rising), make)


def _blit_hatched(target: pygame.Surface, polys: list, pattern: pygame.Surface, ox: int, oy: int,
                  period: int, rising: bool) -> None:
    """Hatch the area of ``polys`` on ``target`` (a tile whose world origin is ``(ox, oy)``)."""
    if not polys:
        return
    w, h = target.get_size()
    mask = pygame.Surface((w, h), pygame.SRCALPHA)
    for p in polys:
        pygame.draw.polygon(mask, (255, 255, 255, 255), p)
        pygame.draw.polygon(mask, (255, 255, 255, 255), p, 1)
    shift = ((ox + oy) if rising else (ox - oy)) % period
    mask.blit(pattern, (0, 0), pygame.Rect(shift, 0, w, h), special_flags=pygame.BLEND_RGBA_MULT)
    target.blit(mask, (0, 0))


def _dashed(surf: pygame.Surface, colour, a: tuple[float, float], b: tuple[float, float], width: int,
            dash: float, phase: float = 0.0) -> None:
    """A dashed line from ``a`` to ``b`` (dashes and gaps of ``dash`` pixels)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    if length < 1e-6:
        return
    ux, uy = dx / length, dy / length
    t = -phase % (2 * dash)
    if t > dash:
        t -= 2 * dash
    while t < length:
        s, e = max(0.0, t), min(length, t + dash)
        if e > s:
            pygame.draw.line(surf, colour, (a[0] + ux * s, a[1] + uy * s), (a[0] + ux * e, a[1] + uy * e), width)
        t += 2 * dash


# ---------------------------------------------------------------------------------------------
# the view


class _Snapshot:
    """What the map layer shows of a state, to find what changed at the next refresh."""

    def __init__(self, game: Game):
        s = game.state
        self.control = s.control.copy()
        self.rail = s.rail.copy()
        self.air = {b: (s.air_active.get(b, False), b in s.air_destroyed) for b in game.ctx.air_bases}
        self.regions = dict(s.regions_active)


class MapView:
    """The map of one Context drawn into a rectangle; owns the camera (pan/zoom)."""

    def __init__(self, ctx: Context, size: tuple[int, int]):
        self.ctx = ctx
        self.size = (max(1, int(size[0])), max(1, int(size[1])))
        self.overlays: set[str] = set()
        self.viewer = 0
        self.zoom_index = DEFAULT_ZOOM
        self._zooms: dict[int, Zoom] = {}
        self.cam_x = 0.0
        self.cam_y = 0.0
        hm = ctx.hm
        self._side_corners = _side_corners(ctx)
        self._terrain_colours = palette.terrain_colours(ctx)
        self._hex_colour = [self._terrain_colours[t] for t in ctx.terrain.tolist()]
        self._water = ctx.water
        self._relief: Relief | None = load_relief(ctx.scenario.meta.id, ctx)
        nb = ctx.neighbours
        i_idx, d_idx = np.nonzero(nb >= 0)
        j_idx = nb[i_idx, d_idx]
        once = i_idx < j_idx  # each hexside once
        self._edge_i, self._edge_d, self._edge_j = i_idx[once], d_idx[once], j_idx[once]
        river = ctx.map.river[self._edge_i, self._edge_d]
        self._rivers = np.flatnonzero(river > 0)
        self._river_class = river
        self._roads = np.flatnonzero(ctx.map.road[self._edge_i, self._edge_d] != 0)
        water = self._water
        self._coast = np.flatnonzero(water[self._edge_i] != water[self._edge_j])
        self._places = self._place_table()
        # region kinds as the scenario declares them: colour, hatching direction, overlay, badge
        kinds = [k.id for k in ctx.scenario.region_kinds]
        kinds += sorted({r.kind for r in ctx.regions.values()} - set(kinds))
        self._kind_index = {k: n for n, k in enumerate(kinds)}
        self._kind_colour = {k: region_colour(ctx, k, n) for n, k in enumerate(kinds)}
        self._region_kind = {rid: r.kind for rid, r in ctx.regions.items()}
        self._famine_sides = self._badge_regions()
        self._game: Game | None = None
        self._snapshot: _Snapshot | None = None
        self._dirty = True
        self._static = TileCache(self._render_static, STATIC_TILES)
        self._map = TileCache(self._render_map, MAP_TILES)
        self._overlay = TileCache(self._render_overlay, OVERLAY_TILES)
        self._orders = TileCache(self._render_orders, ORDERS_TILES)
        self._overlay_codes: dict[str, np.ndarray] = {}
        self._tile: TilePolygons | None = None  # the geometry of the overlay tile being drawn
        self._overlay_key: tuple = ()
        self._overlay_stale = True
        self._supply_cache: dict[int, object] = {}
        self._corridor: engine.CorridorRoute | None = None  # the rules' corridor route, for the state shown
        # orders
        self._selected: set[str] = set()
        self._reach: dict[int, float] = {}
        self._rail: set[int] = set()
        self._path: list[int] = []
        self._path_cost: float | None = None
        self._targets: set[int] = set()
        self._attack_target: int | None = None
        self._animation: tuple[str, list[int], float] | None = None
        # minimap
        self._mini: dict = {}
        self._mini_version = 0
        self.frames = 0
        #: after a quick frame, draw one tile of the next column or row in the direction of the
        #: last pan, so that panning does not stall when a new column of tiles comes into view
        self.prefetch = True
        self._heading = (0, 0)
        self.center_on(int(np.argmin((hm.x_km - hm.x_km.mean()) ** 2 + (hm.y_km - hm.y_km.mean()) ** 2)))

    # -- camera --------------------------------------------------------------------------------

    @property
    def zoom(self) -> Zoom:
        return self.zoom_geometry(self.zoom_index)

    def zoom_geometry(self, z: int) -> Zoom:
        found = self._zooms.get(z)
        if found is None:
            found = self._zooms[z] = Zoom(self.ctx, ZOOM_SPACINGS[z])
        return found

    def resize(self, size: tuple[int, int]) -> None:
        """Keep the point at the centre of the view where it is."""
        cx, cy = self.cam_x + self.size[0] / 2, self.cam_y + self.size[1] / 2
        self.size = (max(1, int(size[0])), max(1, int(size[1])))
        self.cam_x, self.cam_y = cx - self.size[0] / 2, cy - self.size[1] / 2
        self._clamp()

    def _clamp(self) -> None:
        """Keep the map on screen: when it is smaller than the view it is centred, else the view
        may go past its edges by at most a fifth of the view."""
        z = self.zoom
        for axis, extent, view in ((0, z.width, self.size[0]), (1, z.height, self.size[1])):
            cam = self.cam_x if axis == 0 else self.cam_y
            if extent <= view:
                cam = (extent - view) / 2
            else:
                margin = view * 0.2
                cam = min(max(cam, -margin), extent - view + margin)
            if axis == 0:
                self.cam_x = cam
            else:
                self.cam_y = cam

    def pan(self, dx: float, dy: float) -> None:
        """Move the view over the map by ``(dx, dy)`` screen pixels: +dx looks further east (the
        map slides left), so a drag pans by minus the mouse's motion."""
        self.cam_x += dx
        self.cam_y += dy
        self._clamp()
        if dx or dy:
            self._heading = (int(np.sign(dx)), int(np.sign(dy)))

    def zoom_at(self, steps: int, pos: tuple[int, int]) -> None:
        """Zoom in (``steps`` > 0) or out around ``pos``: the map point under it stays put."""
        new = min(max(self.zoom_index + int(steps), 0), len(ZOOM_SPACINGS) - 1)
        if new == self.zoom_index:
            return
        old = self.zoom
        wx, wy = self.cam_x + pos[0], self.cam_y + pos[1]
        # the same map point in the new zoom's world pixels
        kx, ky = (wx - old.pad) / old.scale, (wy - old.pad) / old.scale
        self.zoom_index = new
        z = self.zoom
        self.cam_x = kx * z.scale + z.pad - pos[0]
        self.cam_y = ky * z.scale + z.pad - pos[1]
        self._clamp()

    def set_zoom(self, z: int) -> None:
        """Jump to zoom level ``z`` keeping the centre of the view."""
        self.zoom_at(z - self.zoom_index, (self.size[0] // 2, self.size[1] // 2))

    def center_on(self, hex_index: int) -> None:
        z = self.zoom
        self.cam_x = float(z.x[hex_index]) - self.size[0] / 2
        self.cam_y = float(z.y[hex_index]) - self.size[1] / 2
        self._clamp()

    def hex_at(self, pos: tuple[int, int]) -> int | None:
        """The hex under a point of the view, ``None`` off the map."""
        z = self.zoom
        h = z.layout.pixel_to_hex(self.cam_x + pos[0], self.cam_y + pos[1])
        i = self.ctx.hm.index_of_hex(h)
        return i if i >= 0 else None

    def km_at(self, pos: tuple[float, float]) -> tuple[float, float]:
        """The map point (in the map's km, as ``HexMap.x_km``/``y_km``) under a point of the view."""
        z = self.zoom
        return (self.cam_x + pos[0] - z.pad) / z.scale, (self.cam_y + pos[1] - z.pad) / z.scale

    def hex_center(self, hex_index: int) -> tuple[int, int]:
        z = self.zoom
        return round(float(z.x[hex_index]) - self.cam_x), round(float(z.y[hex_index]) - self.cam_y)

    def visible_hexes(self) -> np.ndarray:
        z = self.zoom
        return z.hexes_in(pygame.Rect(int(self.cam_x), int(self.cam_y), self.size[0], self.size[1]), z.size)

    # -- state and orders ----------------------------------------------------------------------

    def refresh(self, game: Game) -> None:
        """The state changed: the dynamic layers are brought up to date at the next draw."""
        self._game = game
        self._dirty = True
        self._overlay_stale = True
        self._supply_cache.clear()
        self._corridor = None

    def set_orders(self, *, selected: Sequence[str] = (), reach: Mapping[int, float] | None = None,
                   rail: Collection[int] = (), path: Sequence[int] = (), path_cost: float | None = None,
                   targets: Collection[int] = (), attack_target: int | None = None) -> None:
        """What the player is about to order: selected units (outlined), the hexes they can reach
        with the cost of getting there, rail destinations, the hovered path and its cost, the
        enemy hexes they can attack and the hovered attack target."""
        reach = dict(reach or {})
        rail = set(rail)
        targets = set(targets)
        if reach != self._reach or rail != self._rail or targets != self._targets:
            self._orders.clear()
        self._selected = set(selected)
        self._reach, self._rail, self._targets = reach, rail, targets
        self._path = list(path)
        self._path_cost = path_cost
        self._attack_target = attack_target

    def animate_move(self, unit_id: str, path: Sequence[int], progress: float | None) -> None:
        """Draw ``unit_id`` at ``progress`` (0..1) along ``path`` in the next draws; ``None`` or a
        progress past 1 ends the animation."""
        if progress is None or progress > 1.0 or not path:
            self._animation = None
        else:
            self._animation = (unit_id, list(path), max(0.0, float(progress)))

    # -- drawing -------------------------------------------------------------------------------

    def draw(self, surface: pygame.Surface, game: Game) -> None:
        """Draw the view into ``surface`` at (0, 0, size)."""
        start = time.perf_counter()
        if game is not self._game:
            self.refresh(game)
        if self._dirty:
            self._sync()
        if self.overlays and (self._overlay_stale or self._overlay_key != (tuple(sorted(self.overlays)), self.viewer)):
            self._sync_overlays()
        z = self.zoom
        zi = self.zoom_index
        view = pygame.Rect(0, 0, *self.size)
        clip = surface.get_clip()
        surface.set_clip(view.clip(clip) if clip else view)
        surface.fill(palette.BACKGROUND, view)
        cx, cy = math.floor(self.cam_x), math.floor(self.cam_y)
        world = pygame.Rect(cx, cy, *self.size)
        tiles = sorted(z.tiles_touching(world))
        layers = [self._map]
        if self.overlays:
            layers.append(self._overlay)
        if self._reach or self._rail or self._targets:
            layers.append(self._orders)
        for layer in layers:
            for tx, ty in tiles:
                surf = layer.get(zi, tx, ty)
                if surf is not None:
                    surface.blit(surf, (tx * TILE - cx, ty * TILE - cy))
        self._draw_path(surface, z, cx, cy)
        self._draw_units(surface, game, z, cx, cy, world)
        self._draw_air_bases(surface, z, cx, cy, world)
        self._draw_attack_target(surface, z, cx, cy)
        surface.set_clip(clip)
        self.frames += 1
        if self.prefetch and time.perf_counter() - start < PREFETCH_BELOW:
            self._prefetch(z, world)

    def _prefetch(self, z: Zoom, world: pygame.Rect) -> None:
        """Draw one missing tile just outside the view, ahead in the direction of the last pan."""
        hx, hy = self._heading
        if not (hx or hy):
            return
        ahead = world.move(hx * TILE // 2, hy * TILE // 2)
        layers = [self._map] + ([self._overlay] if self.overlays else [])
        for tx, ty in sorted(z.tiles_touching(ahead) - z.tiles_touching(world)):
            for layer in layers:
                if (self.zoom_index, tx, ty) not in layer.tiles:
                    layer.get(self.zoom_index, tx, ty)
                    return

    def _sync(self) -> None:
        """Compare the game's state with the last one drawn and drop the map tiles that changed."""
        game = self._game
        assert game is not None
        new = _Snapshot(game)
        old = self._snapshot
        self._snapshot = new
        self._dirty = False
        self._mini_version += 1
        if old is None or old.regions != new.regions:
            self._map.clear()
            return
        dirty = np.zeros(self.ctx.n, dtype=bool)
        changed = old.control != new.control
        if changed.any():
            dirty |= changed
            nb = self.ctx.neighbours[changed]
            dirty[nb[nb >= 0]] = True  # the front line runs on their sides
        dirty |= (old.rail != new.rail).any(axis=1)
        for b, info in self.ctx.air_bases.items():
            if old.air.get(b) != new.air.get(b):
                dirty[info.hex] = True
        if dirty.any():
            self._drop_tiles(self._map, np.flatnonzero(dirty), labels=True)

    def _drop_tiles(self, cache: TileCache, hexes: np.ndarray, labels: bool = False) -> None:
        """Drop the cached tiles (every zoom) that show any of ``hexes`` (and their names)."""
        label_of = {}
        for z_index, z in self._zooms.items():
            cached = set(cache.keys_at(z_index))
            if not cached:
                continue
            m = z.size + z.spacing * 0.3
            hit: set[tuple[int, int]] = set()
            xs, ys = z.x[hexes], z.y[hexes]
            for x, y in zip(xs.tolist(), ys.tolist()):
                hit |= z.tiles_touching(pygame.Rect(int(x - m), int(y - m), int(2 * m) + 1, int(2 * m) + 1))
            if labels:
                if z.labels is None:
                    self._layout_labels(z)
                label_of = {}
                for i, rect, _, _ in z.labels or ():
                    label_of.setdefault(i, []).append(rect)
                for i in hexes.tolist():
                    for rect in label_of.get(i, ()):
                        hit |= z.tiles_touching(rect)
            cache.drop([(z_index, tx, ty) for tx, ty in hit & cached])

    # -- static layer --------------------------------------------------------------------------

    def _render_static(self, zi: int, tx: int, ty: int) -> pygame.Surface:
        """Terrain, relief, outlines, coasts, rivers and roads of one tile."""
        z = self.zoom_geometry(zi)
        rect = z.tile_rect(tx, ty)
        ox, oy = rect.x, rect.y
        surf = pygame.Surface(rect.size)
        surf.fill(palette.MAP_EDGE)
        hexes, tile = z.tile_hexes(tx, ty)
        polys = tile.polys
        colours = self._hex_colour
        for i, p in zip(hexes.tolist(), polys):
            pygame.draw.polygon(surf, colours[i], p)
        if self._relief is not None:
            water = self._water[hexes].tolist()
            self._relief.shade(surf, ox, oy, z.scale, z.pad, [p for p, w in zip(polys, water) if w])
        # hex outlines (they also cover the seams between the fills)
        grid = self._grid_colours(palette.GRID_SHADE if z.spacing >= 20 else 0.93)
        line = pygame.draw.aalines if z.spacing >= 28 else pygame.draw.lines
        for t, p in zip(self.ctx.terrain[hexes].tolist(), polys):
            line(surf, grid[t], True, p)
        inside = np.zeros(self.ctx.n, dtype=bool)
        inside[hexes] = True
        ei, ed, ej = self._edge_i, self._edge_d, self._edge_j
        near = inside[ei] | inside[ej]
        # coasts: a dark line where land meets water
        coast_w = max(1, round(z.spacing * 0.04))
        for k in self._coast[near[self._coast]].tolist():
            a, b = self._hexside(z, int(ei[k]), int(ed[k]), ox, oy)
            pygame.draw.line(surf, (38, 70, 120), a, b, coast_w)
        # roads: hex centre to hex centre
        road_w = max(1, round(z.spacing * 0.05))
        for k in self._roads[near[self._roads]].tolist():
            i, j = int(ei[k]), int(ej[k])
            a = (z.x[i] - ox, z.y[i] - oy)
            b = (z.x[j] - ox, z.y[j] - oy)
            pygame.draw.line(surf, palette.ROAD, a, b, road_w)
            if road_w >= 3:
                pygame.draw.circle(surf, palette.ROAD, a, road_w / 2)
        # rivers: on hexsides, by class
        for k in self._rivers[near[self._rivers]].tolist():
            cls = int(self._river_class[k])
            w = max(1, round(z.spacing * palette.RIVER_WIDTH[min(cls, 3)]))
            a, b = self._hexside(z, int(ei[k]), int(ed[k]), ox, oy)
            pygame.draw.line(surf, palette.RIVER, a, b, w)
            if w >= 3:
                pygame.draw.circle(surf, palette.RIVER, a, w / 2 - 0.5)
                pygame.draw.circle(surf, palette.RIVER, b, w / 2 - 0.5)
        return surf

    def _grid_colours(self, k: float) -> list[Colour]:
        return [palette.shade(c, k) for c in self._terrain_colours]

    def _hexside(self, z: Zoom, i: int, d: int,
                 ox: float, oy: float) -> tuple[tuple[float, float], tuple[float, float]]:
        a, b = self._side_corners[d]
        cx, cy = z.x[i] - ox, z.y[i] - oy
        return ((cx + z.offsets[a, 0], cy + z.offsets[a, 1]), (cx + z.offsets[b, 0], cy + z.offsets[b, 1]))

    # -- map layer (static + control, regions, rails, front, places, air bases) ----------------

    def _render_map(self, zi: int, tx: int, ty: int) -> pygame.Surface:
        z = self.zoom_geometry(zi)
        snap = self._snapshot
        surf = self._static.get(zi, tx, ty).copy()
        if snap is None:
            return surf
        rect = z.tile_rect(tx, ty)
        ox, oy = rect.x, rect.y
        hexes, tile = z.tile_hexes(tx, ty)
        land = hexes[~self._water[hexes]]
        control = snap.control
        # control tint
        tint = pygame.Surface(rect.size, pygame.SRCALPHA)
        held = land[control[land] >= 0]
        colours = [(*palette.side_colour(self.ctx, s), palette.CONTROL_TINT_ALPHA) for s in range(len(self.ctx.sides))]
        for i, p in zip(held.tolist(), tile.of(held)):
            c = colours[control[i]]
            pygame.draw.polygon(tint, c, p)
            pygame.draw.polygon(tint, c, p, 1)
        surf.blit(tint, (0, 0))
        # regions: famine and Communist base areas hatched, with their outline
        inside = np.zeros(self.ctx.n, dtype=bool)
        inside[hexes] = True
        for rid, active in snap.regions.items():
            mask = self.ctx.region_mask[rid]
            if not active or not mask[hexes].any():
                continue
            kind = self._region_kind[rid]
            colour = self._kind_colour[kind]
            period = max(6, round(z.spacing * 0.45))
            rising = self._kind_index[kind] % 2 == 1  # kinds alternate their hatching direction
            pattern = _hatch(colour, 70, period, 1 if z.spacing < 28 else 2, rising)
            members = hexes[mask[hexes] & ~self._water[hexes]]
            _blit_hatched(surf, tile.of(members), pattern, ox, oy, period, rising)
            self._outline(surf, z, mask, inside, ox, oy, (*colour, 150), max(1, round(z.spacing * 0.04)))
        ei, ed, ej = self._edge_i, self._edge_d, self._edge_j
        near = inside[ei] | inside[ej]
        # railways: black with ties when intact, red dashes where torn up
        rail = snap.rail[ei, ed]
        rail_w = max(2, round(z.spacing * 0.075))
        for k in np.flatnonzero(near & (rail != 0)).tolist():
            i, j = int(ei[k]), int(ej[k])
            a = (float(z.x[i] - ox), float(z.y[i] - oy))
            b = (float(z.x[j] - ox), float(z.y[j] - oy))
            if rail[k] == EDGE_INTACT:
                self._rail_line(surf, z, a, b, rail_w)
            elif rail[k] == EDGE_BROKEN:
                pygame.draw.line(surf, (250, 240, 230), a, b, rail_w + 2)
                _dashed(surf, palette.RAIL_BROKEN, a, b, rail_w + 1, max(3.0, z.spacing * 0.16))
        # the front line: hexsides between land held by different sides
        ci, cj = control[ei], control[ej]
        front = near & (ci >= 0) & (cj >= 0) & (ci != cj) & ~self._water[ei] & ~self._water[ej]
        front_w = max(2, round(z.spacing * 0.09))
        for k in np.flatnonzero(front).tolist():
            a, b = self._hexside(z, int(ei[k]), int(ed[k]), ox, oy)
            pygame.draw.line(surf, palette.FRONT, a, b, front_w)
            if front_w >= 3:
                pygame.draw.circle(surf, palette.FRONT, a, front_w / 2 - 0.5)
                pygame.draw.circle(surf, palette.FRONT, b, front_w / 2 - 0.5)
        self._draw_places(surf, z, rect, control)
        return surf

    def _outline(self, surf: pygame.Surface, z: Zoom, mask: np.ndarray, inside: np.ndarray, ox: float, oy: float,
                 colour, width: int) -> None:
        """Draw the hexsides on the border of ``mask`` (hexes in it next to hexes out of it)."""
        ei, ed, ej = self._edge_i, self._edge_d, self._edge_j
        border = (mask[ei] != mask[ej]) & (inside[ei] | inside[ej])
        for k in np.flatnonzero(border).tolist():
            a, b = self._hexside(z, int(ei[k]), int(ed[k]), ox, oy)
            pygame.draw.line(surf, colour, a, b, width)

    def _rail_line(self, surf: pygame.Surface, z: Zoom, a, b, width: int) -> None:
        pygame.draw.line(surf, palette.RAIL, a, b, width)
        if z.spacing < 20:
            return
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = math.hypot(dx, dy)
        px, py = -dy / length, dx / length
        half = z.spacing * 0.09
        step = z.spacing * 0.2
        t = step / 2
        while t < length:
            x, y = a[0] + dx * t / length, a[1] + dy * t / length
            pygame.draw.line(surf, palette.RAIL, (x - px * half, y - py * half), (x + px * half, y + py * half),
                             max(1, width // 2))
            t += step

    # -- places --------------------------------------------------------------------------------

    def _place_table(self) -> list[tuple[int, str, str, int, str]]:
        """(hex, place id, name, importance 0..3, kind) per place, most important first.

        Importance sets the marker and the font, and from which zoom the name shows: 3 for the
        capital and objectives worth 2 points or more, 2 for cities and other objectives, 1 for
        towns, ports and supply sources, 0 for air fields (their icon shows them), passes and
        landmarks."""
        ctx = self.ctx
        objective = {}
        for o in ctx.scenario.victory.objectives:
            objective[o.place] = max(objective.get(o.place, 0), o.points)
        out = []
        for p in ctx.scenario.map.places:
            worth = max(p.vp, objective.get(p.id, 0))
            if p.capital or worth >= 2:
                imp = 3
            elif p.kind == "city" or worth >= 1:
                imp = 2
            elif p.kind in ("town", "port") or p.supply_source:  # air fields: their icon says enough
                imp = 1
            else:
                imp = 0
            out.append((ctx.place_hex[p.id], p.id, p.name, imp, p.kind))
        out.sort(key=lambda t: (-t[3], t[2]))
        return out

    @staticmethod
    def _label_rule(z: Zoom, imp: int) -> tuple[bool, int, bool]:
        """(shown, font size, bold) of a place name of importance ``imp`` at zoom ``z``."""
        minimum = {3: 0, 2: 14, 1: 28, 0: 40}[imp]
        if z.spacing < minimum:
            return False, 0, False
        base = 9 + z.spacing * 0.09
        size = round(base + (imp - 1) * (1.5 + z.spacing * 0.02))
        return True, max(9, min(22, size)), imp >= 2

    def _layout_labels(self, z: Zoom) -> None:
        """Place the names at this zoom once: right of the marker, else left, above or below;
        a name that fits nowhere without covering a more important one is left out (the capital
        and the major objectives always show)."""
        taken: list[pygame.Rect] = []
        out = []
        for i, _pid, name, imp, _kind in self._places:
            shown, size, bold = self._label_rule(z, imp)
            if not shown:
                continue
            label = palette.text(name, size, palette.LABEL, bold=bold, halo=palette.LABEL_HALO)
            w, h = label.get_size()
            x, y = float(z.x[i]), float(z.y[i])
            # clear of the counter standing on the hex (when it is big enough to draw names under)
            off = max(self._marker_radius(z, imp), self._counter_px(z) / 2 if z.spacing >= 20 else 0) + 3
            candidates = [(x + off, y - h / 2), (x - off - w, y - h / 2), (x - w / 2, y - off - h),
                          (x - w / 2, y + off)]
            chosen = None
            for cx, cy in candidates:
                r = pygame.Rect(round(cx), round(cy), w, h)
                if r.collidelist(taken) < 0:
                    chosen = r
                    break
            if chosen is None:
                if imp < 3:
                    continue
                chosen = pygame.Rect(round(candidates[0][0]), round(candidates[0][1]), w, h)
            taken.append(chosen.inflate(4, 0))
            out.append((i, chosen, (name, size, palette.LABEL, bold, palette.LABEL_HALO), imp))
        z.labels = out

    def _marker_radius(self, z: Zoom, imp: int) -> float:
        return max(2.0, z.spacing * (0.06 + 0.035 * imp))

    def _draw_places(self, surf: pygame.Surface, z: Zoom, rect: pygame.Rect, control: np.ndarray) -> None:
        ox, oy = rect.x, rect.y
        reach = pygame.Rect(rect).inflate(2 * z.spacing, 2 * z.spacing)
        for i, _pid, _name, imp, kind in self._places:
            x, y = float(z.x[i]), float(z.y[i])
            if not reach.collidepoint(x, y):
                continue
            if z.spacing < 14 and imp < 2:
                continue
            r = self._marker_radius(z, imp)
            holder = int(control[i])
            fill = palette.mix(palette.side_colour(self.ctx, holder), (255, 255, 255), 0.25) if holder >= 0 \
                else palette.PLACE_FILL
            c = (x - ox, y - oy)
            if kind in ("city", "port") or imp >= 2:
                box = pygame.Rect(0, 0, round(2 * r), round(2 * r))
                box.center = (round(c[0]), round(c[1]))
                pygame.draw.rect(surf, fill, box)
                pygame.draw.rect(surf, palette.PLACE_LINE, box, 2 if imp >= 3 and r >= 4 else 1)
                if imp >= 3 and r >= 4:  # objectives and the capital: a star-like inner dot
                    pygame.draw.circle(surf, palette.PLACE_LINE, box.center, max(1, r * 0.35))
            elif kind == "pass":
                pygame.draw.polygon(surf, palette.PLACE_LINE, [(c[0] - r, c[1] + r * 0.6), (c[0], c[1] - r * 0.8),
                                                               (c[0] + r, c[1] + r * 0.6)], 1)
            else:
                pygame.draw.circle(surf, fill, c, r)
                pygame.draw.circle(surf, palette.PLACE_LINE, c, r, 1)
        if z.labels is None:
            self._layout_labels(z)
        for _, lr, key, _ in z.labels or ():
            if lr.colliderect(rect):
                label = palette.text(key[0], key[1], key[2], bold=key[3], halo=key[4])
                surf.blit(label, (lr.x - ox, lr.y - oy))

    def _draw_air_bases(self, surface: pygame.Surface, z: Zoom, cx: int, cy: int, world: pygame.Rect) -> None:
        """Air bases as small aeroplanes at the upper left of their hex, over the counters (a base's
        state matters as much as the unit on it): the side's colour when active, grey and hollow
        when not yet active, crossed out in red when destroyed."""
        if z.spacing < 14 or self._snapshot is None:
            return
        view = world.inflate(2 * z.spacing, 2 * z.spacing)
        r = max(4, round(z.spacing * 0.15))
        for bid, base in self.ctx.air_bases.items():
            x, y = float(z.x[base.hex]), float(z.y[base.hex])
            if not view.collidepoint(x, y):
                continue
            active, destroyed = self._snapshot.air[bid]
            colour = palette.side_colour(self.ctx, base.side) if active else (150, 150, 150)
            icon = _plane_icon(r, colour, destroyed, not active and not destroyed)
            surface.blit(icon, icon.get_rect(center=(round(x - cx - z.spacing * 0.4),
                                                     round(y - cy - z.spacing * 0.34))))

    # -- units ---------------------------------------------------------------------------------

    def _counter_px(self, z: Zoom) -> int:
        return max(6, round(z.spacing * 0.8))

    def _draw_units(self, surface: pygame.Surface, game: Game, z: Zoom, cx: int, cy: int, world: pygame.Rect) -> None:
        ctx = self.ctx
        state = game.state
        moving = self._animation[0] if self._animation else None
        stacks: dict[int, list] = {}
        for u in state.units.values():
            if u.status == ACTIVE and u.hex >= 0 and u.id != moving:
                stacks.setdefault(u.hex, []).append(u)
        px = self._counter_px(z)
        margin = px
        view = world.inflate(2 * margin, 2 * margin)
        to_move = engine.active_side(ctx, state) if state.phase == "operations" else -1
        drawn: list[pygame.Rect] = []
        for h, units in stacks.items():
            x, y = float(z.x[h]), float(z.y[h])
            if not view.collidepoint(x, y):
                continue
            top = self._top_unit(units)
            rect = pygame.Rect(0, 0, px, px)
            rect.center = (round(x - cx), round(y - cy))
            drawn.append(rect)
            counters.draw_counter(surface, ctx, top, rect, selected=top.id in self._selected or
                                  any(u.id in self._selected for u in units), stack=len(units),
                                  famine=self._in_famine(top, state), spent=self._spent(top, to_move))
        self._names_over_counters(surface, z, cx, cy, drawn)
        if self._animation is not None:
            uid, path, progress = self._animation
            u = state.units.get(uid)
            if u is not None:
                x, y = self._along(z, path, progress)
                rect = pygame.Rect(0, 0, px, px)
                rect.center = (round(x - cx), round(y - cy))
                counters.draw_counter(surface, ctx, u, rect, selected=uid in self._selected,
                                      famine=self._in_famine(u, state))

    def _names_over_counters(self, surface: pygame.Surface, z: Zoom, cx: int, cy: int,
                             drawn: list[pygame.Rect]) -> None:
        """The names of the major places (the capital, the big objectives) again over any counter
        that covers them: a besieged Hengyang must still say Hengyang."""
        if z.labels is None or not drawn:
            return
        for _, lr, key, imp in z.labels:
            if imp < 3:
                continue
            at = lr.move(-cx, -cy)
            if at.collidelist(drawn) >= 0:
                surface.blit(palette.text(key[0], key[1], key[2], bold=key[3], halo=key[4]), at)

    def _top_unit(self, units: list):
        """The unit shown on top of a stack: a selected one, else the strongest."""
        for u in units:
            if u.id in self._selected:
                return u
        return max(units, key=lambda u: (u.strength, u.id))

    def _spent(self, u, to_move: int) -> bool:
        return u.side == to_move and (u.attacked or (u.moved and u.mp <= 0))

    def _badge_regions(self) -> dict[str, set[int]]:
        """Region id -> the sides it hurts, for the regions whose kind marks the counters standing
        in them (``region_kinds[].badge``)."""
        out = {}
        for rid, r in self.ctx.regions.items():
            if self.ctx.region_kinds[r.kind].badge:
                out[rid] = {self.ctx.side_index[s] for s in r.effects if s in self.ctx.side_index}
        return out

    def _in_famine(self, u, state) -> bool:
        for rid, sides in self._famine_sides.items():
            if u.side in sides and state.regions_active.get(rid) and self.ctx.region_mask[rid][u.hex]:
                return True
        return False

    @staticmethod
    def _along(z: Zoom, path: list[int], progress: float) -> tuple[float, float]:
        if len(path) == 1:
            return float(z.x[path[0]]), float(z.y[path[0]])
        t = progress * (len(path) - 1)
        k = min(int(t), len(path) - 2)
        f = t - k
        a, b = path[k], path[k + 1]
        return float(z.x[a] + (z.x[b] - z.x[a]) * f), float(z.y[a] + (z.y[b] - z.y[a]) * f)

    # -- orders --------------------------------------------------------------------------------

    def _render_orders(self, zi: int, tx: int, ty: int) -> pygame.Surface | None:
        z = self.zoom_geometry(zi)
        rect = z.tile_rect(tx, ty)
        hexes, tile = z.tile_hexes(tx, ty)
        inside = np.zeros(self.ctx.n, dtype=bool)
        inside[hexes] = True
        reach = np.zeros(self.ctx.n, dtype=bool)
        reach[list(self._reach)] = True
        rail = np.zeros(self.ctx.n, dtype=bool)
        rail[list(self._rail)] = True
        targets = np.zeros(self.ctx.n, dtype=bool)
        targets[list(self._targets)] = True
        if not (reach[hexes].any() or rail[hexes].any() or targets[hexes].any()):
            return None
        surf = pygame.Surface(rect.size, pygame.SRCALPHA)
        ox, oy = rect.x, rect.y
        for mask, colour in ((rail & ~reach, palette.RAIL_DEST), (reach, palette.REACH)):
            sel = hexes[mask[hexes]]
            for p in tile.of(sel):
                pygame.draw.polygon(surf, colour, p)
                pygame.draw.polygon(surf, colour, p, 1)
        self._outline(surf, z, reach | rail, inside, ox, oy, palette.REACH_EDGE, max(1, round(z.spacing * 0.05)))
        if z.spacing >= 40:
            size = max(10, round(z.spacing * 0.22))
            for i in hexes[reach[hexes]].tolist():
                label = palette.text(cost_text(self._reach[i]), size, (20, 20, 20), bold=True, halo=(255, 255, 255))
                surf.blit(label, label.get_rect(center=(z.x[i] - ox, z.y[i] - oy + z.size * 0.62)))
        sel = hexes[targets[hexes]]
        for p in z.polygons(sel, ox, oy, shrink=0.88):
            pygame.draw.polygon(surf, (*palette.TARGET, 60), p)
            pygame.draw.polygon(surf, palette.TARGET, p, max(2, round(z.spacing * 0.06)))
        return surf

    def _draw_path(self, surface: pygame.Surface, z: Zoom, cx: int, cy: int) -> None:
        """The hovered path: a line from the unit to the destination, an arrow head, the cost."""
        if len(self._path) < 2:
            return
        pts = [(float(z.x[i]) - cx, float(z.y[i]) - cy) for i in self._path]
        w = max(2, round(z.spacing * 0.07))
        (x0, y0), (x1, y1) = pts[-2], pts[-1]
        ang = math.atan2(y1 - y0, x1 - x0)
        head = max(7.0, z.spacing * 0.28)
        tip = (x1 + math.cos(ang) * head * 0.3, y1 + math.sin(ang) * head * 0.3)
        left = (tip[0] - head * math.cos(ang - 0.5), tip[1] - head * math.sin(ang - 0.5))
        right = (tip[0] - head * math.cos(ang + 0.5), tip[1] - head * math.sin(ang + 0.5))
        for colour, extra in ((palette.PATH_CASING, 4), (palette.PATH, 0)):
            pygame.draw.lines(surface, colour, False, pts[:-1] + [(x1, y1)], w + extra)
            for p in pts[:-1]:
                pygame.draw.circle(surface, colour, p, (w + extra) / 2)
        pygame.draw.polygon(surface, palette.PATH_CASING, [tip, left, right])
        pygame.draw.polygon(surface, palette.PATH, [tip, left, right])
        pygame.draw.polygon(surface, palette.PATH_CASING, [tip, left, right], 2)
        if self._path_cost is not None:
            label = palette.text(f"{cost_text(self._path_cost)} MP", max(11, round(z.spacing * 0.3)), (255, 255, 255),
                                 bold=True)
            box = label.get_rect(midbottom=(x1, y1 - z.size * 0.75)).inflate(8, 4)
            pygame.draw.rect(surface, palette.PATH, box, border_radius=4)
            pygame.draw.rect(surface, palette.PATH_CASING, box, 1, border_radius=4)
            surface.blit(label, label.get_rect(center=box.center))

    def _draw_attack_target(self, surface: pygame.Surface, z: Zoom, cx: int, cy: int) -> None:
        t = self._attack_target
        if t is None:
            return
        p = z.polygons(np.array([t]), cx, cy, shrink=0.95)[0]
        pygame.draw.polygon(surface, palette.TARGET, p, max(3, round(z.spacing * 0.1)))
        x, y = float(z.x[t]) - cx, float(z.y[t]) - cy
        r = z.size * 0.8
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):  # crosshair ticks
            pygame.draw.line(surface, palette.TARGET, (x + dx * r, y + dy * r), (x + dx * r * 1.35, y + dy * r * 1.35),
                             max(2, round(z.spacing * 0.06)))

    # -- overlays ------------------------------------------------------------------------------

    def _sync_overlays(self) -> None:
        """Recompute the code per hex of each active overlay; drop the tiles where codes changed
        (all of them when the set of overlays or the viewer changed)."""
        self._overlay_stale = False
        if self._game is None:
            return
        key = (tuple(sorted(self.overlays)), self.viewer)
        codes = {name: self._overlay_code(name) for name in sorted(self.overlays) if name in OVERLAYS}
        if key != self._overlay_key:
            self._overlay.clear()
        else:
            dirty = np.zeros(self.ctx.n, dtype=bool)
            for name, new in codes.items():
                old = self._overlay_codes.get(name)
                dirty |= new != old if old is not None else True
            if dirty.any():
                nb = self.ctx.neighbours[dirty]
                dirty[nb[nb >= 0]] = True
                self._drop_tiles(self._overlay, np.flatnonzero(dirty))
        self._overlay_key = key
        self._overlay_codes = codes

    def _trace(self, side: int):
        found = self._supply_cache.get(side)
        if found is None:
            found = self._supply_cache[side] = engine.trace(self.ctx, self._game.state, side)
        return found

    def _enemies(self) -> list[int]:
        return [s for s in range(len(self.ctx.sides)) if s != self.viewer]

    def _overlay_code(self, name: str) -> np.ndarray:
        """What an overlay shows, as one small integer per hex (0: nothing)."""
        ctx, state = self.ctx, self._game.state
        n = ctx.n
        land = ~self._water
        code = np.zeros(n, dtype=np.int16)
        if name in ("supply_own", "supply_enemy"):
            sides = [self.viewer] if name == "supply_own" else self._enemies()
            for s in sides:
                tr = self._trace(s)
                held = state.control == s
                code[land & tr.supplied] = 1
                code[land & tr.railhead] = 2
                code[land & held & ~tr.supplied] = 3
        elif name == "zoc":
            board = movement.board_for(ctx, state)
            code[movement.enemy_mask(board, self.viewer, "zoc") & land] = 1
        elif name == "air":
            for bid, base in ctx.air_bases.items():
                if state.air_active.get(bid, False) and bid not in state.air_destroyed:
                    code[base.cover] |= 1 << base.side
                    if base.interdiction:
                        code[base.cover] |= 1 << (8 + base.side)
        elif name == "regions":
            # each active region of a kind on the overlay, coded by its kind (1 + its index)
            for rid, r in ctx.regions.items():
                if ctx.region_kinds[r.kind].overlay and state.regions_active.get(rid):
                    code[ctx.region_mask[rid] & land & (code == 0)] = 1 + self._kind_index[r.kind]
        elif name == "control":
            code[land] = state.control[land].astype(np.int16) + 1
        elif name == "corridor":
            corridor = self.corridor()
            route = list(corridor.route)
            code[route] = 1
            code[list(corridor.gaps)] = 2
        return code

    def corridor(self) -> engine.CorridorRoute:
        """The corridor's route and its gaps for the state shown, as the rules decide them
        (:func:`game.rules.engine.corridor_route`: hexes the corridor side controls and supplies,
        along the corridor's own hexsides); recomputed whenever the state changes."""
        if self._game is None:
            return engine.CorridorRoute((), (), False)
        if self._corridor is None:
            state = self._game.state
            self._corridor = engine.corridor_route(self.ctx, state, board=movement.board_for(self.ctx, state))
        return self._corridor

    def corridor_route(self) -> list[int]:
        """The hexes of the corridor's route (see :meth:`corridor`)."""
        return list(self.corridor().route)

    def _render_overlay(self, zi: int, tx: int, ty: int) -> pygame.Surface | None:
        z = self.zoom_geometry(zi)
        rect = z.tile_rect(tx, ty)
        hexes, self._tile = z.tile_hexes(tx, ty)
        surf = pygame.Surface(rect.size, pygame.SRCALPHA)
        ox, oy = rect.x, rect.y
        inside = np.zeros(self.ctx.n, dtype=bool)
        inside[hexes] = True
        drawn = False
        for name in OVERLAYS:  # a fixed order: fills first, lines last
            code = self._overlay_codes.get(name)
            if code is None or not code[hexes].any():
                continue
            drawn = True
            getattr(self, f"_overlay_{name}")(surf, z, hexes, inside, code, ox, oy)
        return surf if drawn else None

    def _polys(self, z: Zoom, hexes: np.ndarray, ox: float, oy: float) -> list:
        """Corner lists of ``hexes`` on the tile being drawn (from its cached geometry)."""
        return self._tile.of(hexes) if self._tile is not None else z.polygons(hexes, ox, oy)

    def _fill(self, surf: pygame.Surface, z: Zoom, hexes: np.ndarray, colour, ox: float, oy: float) -> None:
        for p in self._polys(z, hexes, ox, oy):
            pygame.draw.polygon(surf, colour, p)
            pygame.draw.polygon(surf, colour, p, 1)

    def _hatch_hexes(self, surf, z: Zoom, hexes: np.ndarray, colour: Colour, alpha: int, rising: bool, ox, oy) -> None:
        period = max(5, round(z.spacing * 0.3))
        pattern = _hatch(colour, alpha, period, max(1, round(z.spacing * 0.05)), rising)
        layer = pygame.Surface(surf.get_size(), pygame.SRCALPHA)
        _blit_hatched(layer, self._polys(z, hexes, ox, oy), pattern, ox, oy, period, rising)
        surf.blit(layer, (0, 0))

    def _overlay_supply(self, surf, z, hexes, inside, code, ox, oy) -> None:
        """In supply: a green wash, stronger on railheads; the side's own hexes out of supply:
        red hatching (the pockets that will wither)."""
        self._fill(surf, z, hexes[code[hexes] == 1], palette.SUPPLY_OK, ox, oy)
        self._fill(surf, z, hexes[code[hexes] == 2], palette.SUPPLY_RAILHEAD, ox, oy)
        self._hatch_hexes(surf, z, hexes[code[hexes] == 3], palette.SUPPLY_OUT, 190, False, ox, oy)

    _overlay_supply_own = _overlay_supply
    _overlay_supply_enemy = _overlay_supply

    def _zone(self, surf, z, hexes, inside, code, ox, oy, colour, fill: int, hatch: int, rising: bool,
              edge: int, width: float) -> None:
        """A zone (the hexes where code > 0): washed, hatched and outlined in one colour, with
        those alphas (out of 255) and an outline `width` hex spacings wide."""
        zone = hexes[code[hexes] > 0]
        self._fill(surf, z, zone, (*colour, fill), ox, oy)
        self._hatch_hexes(surf, z, zone, colour, hatch, rising, ox, oy)
        self._outline(surf, z, code > 0, inside, ox, oy, (*colour, edge), max(2, round(z.spacing * width)))

    def _overlay_zoc(self, surf, z, hexes, inside, code, ox, oy) -> None:
        self._zone(surf, z, hexes, inside, code, ox, oy, palette.ZOC, 36, 150, True, 230, 0.06)

    def _overlay_air(self, surf, z, hexes, inside, code, ox, oy) -> None:
        """Each side's air cover washed and outlined in its colour; the enemy's interdiction over
        the viewer (movement and supply cost more there) hatched in orange."""
        sides = range(len(self.ctx.sides))
        for s in sides:
            colour = palette.side_colour(self.ctx, s)
            cover = (code & (1 << s)) > 0
            self._fill(surf, z, hexes[cover[hexes]], (*colour, palette.AIR_COVER_ALPHA), ox, oy)
        for s in sides:
            inter = (code & (1 << (8 + s))) > 0
            if s != self.viewer:
                self._hatch_hexes(surf, z, hexes[inter[hexes]], palette.INTERDICTION, 170, False, ox, oy)
                self._outline(surf, z, inter, inside, ox, oy, (*palette.INTERDICTION, 255),
                              max(2, round(z.spacing * 0.06)))
        for s in sides:
            colour = palette.side_colour(self.ctx, s)
            self._outline(surf, z, (code & (1 << s)) > 0, inside, ox, oy, (*palette.shade(colour, 0.8), 255),
                          max(2, round(z.spacing * 0.05)))

    def _overlay_regions(self, surf, z, hexes, inside, code, ox, oy) -> None:
        for kind, k in self._kind_index.items():
            if (code[hexes] == k + 1).any():
                self._zone(surf, z, hexes, inside, (code == k + 1).astype(np.int16), ox, oy, self._kind_colour[kind],
                           70, 170, k % 2 == 1, 255, 0.07)

    def _overlay_control(self, surf, z, hexes, inside, code, ox, oy) -> None:
        for s in range(len(self.ctx.sides)):
            colour = (*palette.side_colour(self.ctx, s), palette.CONTROL_OVERLAY_ALPHA)
            self._fill(surf, z, hexes[code[hexes] == s + 1], colour, ox, oy)

    def _overlay_corridor(self, surf, z, hexes, inside, code, ox, oy) -> None:
        route = self.corridor_route()
        w = max(3, round(z.spacing * 0.16))
        for a, b in itertools.pairwise(route):
            if not (inside[a] or inside[b]):
                continue
            colour = palette.CORRIDOR_HELD if code[a] == 1 and code[b] == 1 else palette.CORRIDOR_OPEN
            pa = (float(z.x[a]) - ox, float(z.y[a]) - oy)
            pb = (float(z.x[b]) - ox, float(z.y[b]) - oy)
            pygame.draw.line(surf, (20, 20, 20, 200), pa, pb, w + 2)
            pygame.draw.line(surf, (*colour, 235), pa, pb, w)
            pygame.draw.circle(surf, (*colour, 235), pb, w / 2)
        for i in route:
            if inside[i] and i in self.ctx.place_at:
                colour = palette.CORRIDOR_HELD if code[i] == 1 else palette.CORRIDOR_OPEN
                c = (float(z.x[i]) - ox, float(z.y[i]) - oy)
                pygame.draw.circle(surf, (20, 20, 20, 230), c, w * 0.9 + 1)
                pygame.draw.circle(surf, (*colour, 255), c, w * 0.9)

    # -- minimap -------------------------------------------------------------------------------

    def _mini_geometry(self, size: tuple[int, int]) -> dict:
        """Per minimap size: its scale, offset and the hex under every pixel (-1 off the map)."""
        found = self._mini.get(size)
        if found is None:
            z = self.zoom_geometry(0)
            k = min(size[0] / z.width, size[1] / z.height)
            w, h = max(1, int(z.width * k)), max(1, int(z.height * k))
            off = ((size[0] - w) // 2, (size[1] - h) // 2)
            ys, xs = np.mgrid[0:h, 0:w]
            q, r = z.layout.pixel_to_hex_arrays((xs + 0.5) / k, (ys + 0.5) / k)
            idx = self.ctx.hm._indices_of_axial(q, r)
            shade = None
            if self._relief is not None:
                shade = self._relief.sample_factor((xs + 0.5) / k, (ys + 0.5) / k, z.scale, z.pad)
                shade = np.where(idx >= 0, np.where(self._water[np.maximum(idx, 0)], 1.0, shade), 1.0)
            found = self._mini[size] = {"k": k, "off": off, "w": w, "h": h, "idx": idx, "shade": shade,
                                        "version": -1, "surf": None}
        return found

    def draw_minimap(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """The whole map in ``rect`` with the viewport's outline."""
        if self._game is not None and self._dirty:
            self._sync()
        rect = pygame.Rect(rect)
        g = self._mini_geometry(rect.size)
        if g["version"] != self._mini_version or g["surf"] is None:
            g["surf"] = self._render_minimap(g)
            g["version"] = self._mini_version
        surface.fill(palette.BACKGROUND, rect)
        ox, oy = rect.x + g["off"][0], rect.y + g["off"][1]
        surface.blit(g["surf"], (ox, oy))
        z = self.zoom
        k = g["k"] * self.zoom_geometry(0).scale / z.scale  # minimap pixels per world pixel now
        view = pygame.Rect(round(ox + self.cam_x * k), round(oy + self.cam_y * k),
                           max(3, round(self.size[0] * k)), max(3, round(self.size[1] * k)))
        clip = surface.get_clip()
        surface.set_clip(rect)
        pygame.draw.rect(surface, (0, 0, 0), view.inflate(2, 2), 1)
        pygame.draw.rect(surface, (255, 255, 255), view, 1)
        surface.set_clip(clip)

    def _render_minimap(self, g: dict) -> pygame.Surface:
        cols = np.array(self._hex_colour, dtype=np.float64)
        if self._snapshot is not None:
            control = self._snapshot.control
            for s in range(len(self.ctx.sides)):
                mask = (control == s) & ~self._water
                cols[mask] = cols[mask] * 0.6 + np.array(palette.side_colour(self.ctx, s)) * 0.4
        idx = g["idx"]
        img = cols[np.maximum(idx, 0)]
        if g["shade"] is not None:
            img = img * g["shade"][..., None]
        img[idx < 0] = palette.MAP_EDGE
        img = np.clip(img, 0, 255).astype(np.uint8)
        return pygame.surfarray.make_surface(np.ascontiguousarray(img.transpose(1, 0, 2)))

    def minimap_point(self, rect: pygame.Rect, hex_index: int) -> tuple[int, int]:
        """Where hex ``hex_index`` is drawn in a minimap drawn in ``rect``."""
        rect = pygame.Rect(rect)
        g = self._mini_geometry(rect.size)
        z0 = self.zoom_geometry(0)
        return (round(rect.x + g["off"][0] + float(z0.x[hex_index]) * g["k"]),
                round(rect.y + g["off"][1] + float(z0.y[hex_index]) * g["k"]))

    def minimap_jump(self, rect: pygame.Rect, pos: tuple[int, int]) -> None:
        """Centre the view on the map point under ``pos`` in a minimap drawn in ``rect``."""
        rect = pygame.Rect(rect)
        g = self._mini_geometry(rect.size)
        z = self.zoom
        k = g["k"] * self.zoom_geometry(0).scale / z.scale
        wx = (pos[0] - rect.x - g["off"][0]) / k
        wy = (pos[1] - rect.y - g["off"][1]) / k
        self.cam_x, self.cam_y = wx - self.size[0] / 2, wy - self.size[1] / 2
        self._clamp()

    # -- tooltip -------------------------------------------------------------------------------

    def tooltip(self, game: Game, hex_index: int) -> list[str]:
        """Lines describing a hex: terrain, place, control, units, regions, air cover."""
        ctx, state = self.ctx, game.state
        i = int(hex_index)
        t = ctx.rules.terrain[int(ctx.terrain[i])]
        col, row = ctx.offsets[i]
        first = f"{t.name} ({col},{row})"
        if not t.water:
            bits = []
            if t.defence_shift:
                bits.append(f"defence +{t.defence_shift}")
            costs = ", ".join(f"{c} {v:g}" for c, v in t.move_cost.items())
            if costs:
                bits.append(f"move {costs}")
            if bits:
                first += ": " + "; ".join(bits)
        lines = [first]
        pid = ctx.place_at.get(i)
        if pid:
            p = ctx.places[pid]
            extra = [p.kind.replace("_", " ")]
            if p.capital:
                extra.append("capital")
            if p.fortification:
                extra.append(f"fortified {p.fortification}")
            if p.supply_source:
                extra.append("supply source")
            for o in ctx.scenario.victory.objectives:
                if o.place == pid:
                    extra.append(f"objective of {self._side_name(ctx.side_index[o.side])}, {o.points} pt")
            lines.append(f"{p.name} ({', '.join(extra)})")
        lines += panels.air_base_lines(ctx, state, i)
        if not t.water:
            holder = int(state.control[i])
            lines.append(f"Held by {self._side_name(holder)}" if holder >= 0 else "Held by nobody")
        for u in sorted(state.units_at(i), key=lambda u: (-u.strength, u.id)):
            lines.append(self.unit_line(u))
        for rid, r in ctx.regions.items():
            if ctx.region_mask[rid][i]:
                lines.append(f"{r.name}" + ("" if state.regions_active.get(rid) else " (over)"))
        return lines

    def unit_line(self, u) -> str:
        """One unit in a line: name, type, men, supply, entrenched, routed."""
        ctx = self.ctx
        utype = ctx.unit_types[u.type]
        bits = [f"{u.strength:,}/{u.max_strength:,} men"]
        bits.append("in supply" if u.supplied
                    else f"OUT OF SUPPLY ({u.out_of_supply} turn{'s' if u.out_of_supply != 1 else ''})")
        if u.entrenched:
            bits.append("entrenched")
        if u.disrupted:
            bits.append("routed")
        if u.puppet:
            bits.append("collaborationist")
        return f"{u.name} [{self._side_short(u.side)}], {utype.name}: {', '.join(bits)}"

    def _side_name(self, side: int) -> str:
        return self.ctx.scenario.meta.sides[side].name if 0 <= side < len(self.ctx.sides) else "nobody"

    def _side_short(self, side: int) -> str:
        return palette.side_short(self.ctx, side)

    # -- diagnostics ---------------------------------------------------------------------------

    @property
    def static_renders(self) -> int:
        """Static tiles drawn so far (a pan over cached tiles draws none)."""
        return self._static.renders

    @property
    def map_renders(self) -> int:
        return self._map.renders

    @property
    def overlay_renders(self) -> int:
        return self._overlay.renders

    def cache_bytes(self) -> int:
        """Memory held by the tile caches."""
        return sum(c.bytes() for c in (self._static, self._map, self._overlay, self._orders))


def cost_text(cost: float) -> str:
    """A movement cost as shown on the map: whole numbers plain, else one decimal (3.125 -> 3.1)."""
    if abs(cost - round(cost)) < 1e-9:
        return str(round(cost))
    return f"{cost:.1f}"


def _plane_icon(r: int, colour: Colour, destroyed: bool, hollow: bool) -> pygame.Surface:
    def make() -> pygame.Surface:
        side = 2 * math.ceil(r * 1.3) + 2
        found = pygame.Surface((side, side), pygame.SRCALPHA)
        draw_plane(found, (side / 2, side / 2), r, colour, destroyed=destroyed, hollow=hollow)
        return found
    return _PLANES.get((r, colour, destroyed, hollow), make)


def draw_plane(surf: pygame.Surface, c: tuple[float, float], r: float, colour: Colour, *,
               destroyed: bool = False, hollow: bool = False) -> None:
    """A small aeroplane seen from above (an air base), crossed out when destroyed."""
    x, y = c
    body = [(x, y - r), (x + r * 0.18, y - r * 0.6), (x + r * 0.18, y - r * 0.15), (x + r, y + r * 0.15),
            (x + r, y + r * 0.35), (x + r * 0.18, y + r * 0.2), (x + r * 0.14, y + r * 0.7), (x + r * 0.45, y + r),
            (x - r * 0.45, y + r), (x - r * 0.14, y + r * 0.7), (x - r * 0.18, y + r * 0.2), (x - r, y + r * 0.35),
            (x - r, y + r * 0.15), (x - r * 0.18, y - r * 0.15), (x - r * 0.18, y - r * 0.6)]
    pygame.draw.circle(surf, (250, 250, 245), c, r * 1.25)
    pygame.draw.circle(surf, (30, 30, 30), c, r * 1.25, 1)
    if hollow:
        pygame.draw.polygon(surf, colour, body, 1)
    else:
        pygame.draw.polygon(surf, colour, body)
        pygame.draw.polygon(surf, (20, 20, 20), body, 1)
    if destroyed:
        w = max(2, round(r * 0.3))
        pygame.draw.line(surf, (220, 20, 20), (x - r, y - r), (x + r, y + r), w)
        pygame.draw.line(surf, (220, 20, 20), (x - r, y + r), (x + r, y - r), w)


def region_colour(ctx, kind: str, index: int) -> tuple[int, int, int]:
    """A region kind's colour: the scenario's, else the palette's n-th region colour."""
    declared = ctx.scenario.region_kind(kind).colour
    if declared:
        return tuple(int(declared[k:k + 2], 16) for k in (1, 3, 5))  # type: ignore[return-value]
    return palette.REGION_COLOURS[index % len(palette.REGION_COLOURS)]


def overlay_label(ctx, name: str) -> str:
    """An overlay's name for its button and legend: the region overlay takes the name of the one
    region kind it shows, or 'Regions'."""
    if name == "regions":
        shown = [k.name for k in ctx.scenario.region_kinds if k.overlay and any(
            r.kind == k.id for r in ctx.scenario.regions)]
        return shown[0] if len(shown) == 1 else "Regions"
    return OVERLAY_LABELS.get(name, name)


#: Overlay names as the buttons show them, in OVERLAYS order (keys 1..7).
OVERLAY_LABELS = {"supply_own": "Supply", "supply_enemy": "Enemy supply", "zoc": "ZOC", "air": "Air",
                  "regions": "Regions", "control": "Control", "corridor": "Corridor"}


__all__ = ["OVERLAYS", "OVERLAY_LABELS", "overlay_label", "region_colour", "ZOOM_SPACINGS", "MapView", "Zoom",
           "draw_plane"]
