"""The map view (game/ui/mapview.py), counters and relief, under SDL's dummy video driver.

Camera arithmetic (picking, zoom about the cursor, pan limits, minimap), the layer caches (a pan
draws no static tile again, a capture redraws only the tiles around it), every overlay and the
orders highlights on the Ichi-Go map, tooltips, every unit type's counter, and the relief asset.
"""

from __future__ import annotations

import itertools
import json
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import numpy as np
import pygame
import pytest

from conftest import EXAMPLE, ROOT
from game.hexgrid import distance
from game.rules import engine, movement
from game.rules.actions import Move
from game.rules.context import load_context
from game.rules.engine import Game
from game.rules.state import Unit
from game.ui import counters, palette, relief
from game.ui.mapview import OVERLAYS, TILE, ZOOM_SPACINGS, MapView

SIZE = (800, 600)


@pytest.fixture(scope="module")
def ctx():
    pygame.display.init()
    pygame.font.init()
    return load_context(ROOT / "scenarios" / "ichigo_1944.yaml")


@pytest.fixture
def game(ctx):
    return Game.new(ctx, 3)


@pytest.fixture
def view(ctx):
    return MapView(ctx, SIZE)


def pixels(surface: pygame.Surface) -> np.ndarray:
    return pygame.surfarray.array3d(surface).copy()


def hex_distance(ctx, a: int, b: int) -> int:
    return distance(ctx.hm.hex_of(a), ctx.hm.hex_of(b))


# -- camera ------------------------------------------------------------------------------------


def test_hex_at_inverts_hex_center_at_every_zoom(ctx, view):
    sample = range(0, ctx.n, 13)
    for z in range(len(ZOOM_SPACINGS)):
        view.set_zoom(z)
        size = view.zoom.size
        for i in sample:
            x, y = view.hex_center(i)
            assert view.hex_at((x, y)) == i
            # well inside the hex, towards two of its corners, is still the hex
            assert view.hex_at((x + size * 0.55, y + size * 0.3)) == i
            assert view.hex_at((x - size * 0.3, y - size * 0.55)) == i


def test_hex_at_is_none_off_the_map(ctx, view):
    view.set_zoom(0)  # the whole map is narrower than the view: there is margin around it
    x, y = view.hex_center(0)
    assert view.hex_at((x - 5 * ZOOM_SPACINGS[0], y)) is None
    assert view.hex_at((x, y - 5 * ZOOM_SPACINGS[0])) is None


def test_zoom_at_keeps_the_point_under_the_cursor(ctx, view):
    view.set_zoom(2)
    view.center_on(ctx.place_hex["wuhan"])
    pos = (SIZE[0] // 2 + 90, SIZE[1] // 2 - 60)
    before_hex, before_km = view.hex_at(pos), view.km_at(pos)
    for steps in (1, 1, -1, -2, 3):
        view.zoom_at(steps, pos)
        assert view.hex_at(pos) == before_hex
        km = view.km_at(pos)
        assert abs(km[0] - before_km[0]) < 1e-6 and abs(km[1] - before_km[1]) < 1e-6
    assert view.zoom_index == 4


def test_zoom_stops_at_the_ends(view):
    view.zoom_at(100, (10, 10))
    assert view.zoom_index == len(ZOOM_SPACINGS) - 1
    view.zoom_at(-100, (10, 10))
    assert view.zoom_index == 0


def test_pan_clamps_so_the_map_stays_on_screen(ctx, view):
    view.set_zoom(len(ZOOM_SPACINGS) - 1)
    centre = (SIZE[0] // 2, SIZE[1] // 2)
    for dx, dy in ((1e6, 0), (-1e6, 0), (0, 1e6), (0, -1e6), (1e6, 1e6), (-1e6, -1e6)):
        view.pan(dx, dy)
        assert view.hex_at(centre) is not None, (dx, dy)
    # a small pan moves the view over the map, one pixel for one: the map slides the other way
    view.center_on(ctx.place_hex["changsha"])
    before = view.hex_center(ctx.place_hex["changsha"])
    view.pan(30, -20)
    assert view.hex_center(ctx.place_hex["changsha"]) == (before[0] - 30, before[1] + 20)


def test_a_small_map_is_centred(ctx, view):
    view.set_zoom(0)
    z = view.zoom
    assert z.width < SIZE[0]
    view.pan(500, 0)
    assert view.cam_x == pytest.approx((z.width - SIZE[0]) / 2)


def test_resize_keeps_the_centre(ctx, view):
    view.set_zoom(3)
    h = ctx.place_hex["hengyang"]
    view.center_on(h)
    view.resize((1000, 700))
    assert view.hex_at((500, 350)) == h


def test_center_on_and_minimap_jump(ctx, view, game):
    view.set_zoom(3)
    screen = pygame.Surface(SIZE)
    rect = pygame.Rect(600, 380, 190, 210)
    view.draw_minimap(screen, rect)
    for place in ("wuhan", "guilin", "xian", "nanchang"):
        h = ctx.place_hex[place]
        view.minimap_jump(rect, view.minimap_point(rect, h))
        under = view.hex_at((SIZE[0] // 2, SIZE[1] // 2))
        assert under is not None and hex_distance(ctx, under, h) <= 1, place
    for place in ("beijing", "kunming", "hanoi"):  # near the map's edges: the pan limit holds, the place shows
        h = ctx.place_hex[place]
        view.minimap_jump(rect, view.minimap_point(rect, h))
        assert view.hex_at(view.hex_center(h)) == h
        assert pygame.Rect(0, 0, *SIZE).collidepoint(view.hex_center(h)), place


# -- layers and caches -------------------------------------------------------------------------


def test_pan_over_cached_tiles_draws_no_static_or_map_tile(view, game):
    view.prefetch = False  # count only the tiles the frames need
    screen = pygame.Surface(SIZE)
    view.set_zoom(3)
    view.draw(screen, game)
    static, mapped = view.static_renders, view.map_renders
    assert static > 0 and mapped > 0
    for dx in (7, -7, 7, -7, 7):
        view.pan(dx, 0)
        view.draw(screen, game)
    assert (view.static_renders, view.map_renders) == (static, mapped)
    # a long pan draws only the tiles coming into view, not the whole layer again
    view.pan(TILE, 0)
    view.draw(screen, game)
    assert 0 < view.static_renders - static <= 4


def test_prefetch_draws_the_next_column_before_it_shows(view, game):
    view.set_zoom(4)
    screen = pygame.Surface(SIZE)
    view.pan(-10_000, 0)
    view.draw(screen, game)
    for _ in range(10):  # slow pans east: idle time draws the tiles ahead
        view.pan(1, 0)
        view.draw(screen, game)
    renders = view.map_renders
    view.pan(TILE // 2, 0)  # the next column comes into view: already drawn
    view.draw(screen, game)
    assert view.map_renders - renders <= 1  # at most one more prefetched, none needed by the frame


def test_refresh_after_a_capture_redraws_only_the_tiles_around_it(ctx, view, game):
    view.prefetch = False
    view.set_zoom(3)
    screen = pygame.Surface(SIZE)
    japan = ctx.side_index["japan"]
    actions = game.legal_actions()
    move = None
    for u in game.state.side_units(japan):
        for m in actions.moves(u.id):
            j = ctx.hm.index(*m.to)
            if game.state.control[j] != japan and not ctx.water[j]:
                move = m
                break
        if move:
            break
    assert move is not None
    target = ctx.hm.index(*move.to)
    view.center_on(target)
    view.draw(screen, game)
    z = view.zoom
    tx, ty = int(z.x[target]) // TILE, int(z.y[target]) // TILE
    tile_before = pixels(view._map.get(view.zoom_index, tx, ty))
    static, mapped = view.static_renders, view.map_renders
    game.apply(Move(move.unit, move.to))
    assert game.state.control[target] == japan
    view.refresh(game)
    view.draw(screen, game)
    tile_after = pixels(view._map.get(view.zoom_index, tx, ty))
    x, y = int(z.x[target]) - tx * TILE, int(z.y[target]) - ty * TILE
    patch = (slice(x - 6, x + 6), slice(y - 6, y + 6))
    assert not np.array_equal(tile_before[patch], tile_after[patch])  # the control tint changed
    assert view.static_renders == static
    assert 1 <= view.map_renders - mapped <= 4


def test_every_overlay_draws_and_changes_pixels(ctx, view, game):
    view.set_zoom(1)
    view.center_on(ctx.place_hex["wuhan"])
    screen = pygame.Surface(SIZE)
    view.draw(screen, game)
    plain = pixels(screen)
    for name in OVERLAYS:
        for viewer in (0, 1):
            view.viewer = viewer
            view.overlays = {name}
            view.draw(screen, game)
            assert not np.array_equal(plain, pixels(screen)), (name, viewer)
    view.overlays = set(OVERLAYS)
    view.draw(screen, game)
    view.overlays = set()
    view.draw(screen, game)
    assert np.array_equal(plain, pixels(screen))


def blend(base: np.ndarray, rgba) -> np.ndarray:
    """``rgba`` composited over ``base`` (alpha out of 255)."""
    *rgb, alpha = rgba
    return base + (np.array(rgb, dtype=float) - base) * (alpha / 255)


@pytest.mark.parametrize("name, viewer", [("supply_own", "japan"), ("supply_enemy", "japan")])  # both sides
def test_supply_overlay_tints_exactly_the_hexes_the_rules_supply(ctx, view, game, name, viewer):
    """At every hex centre on screen, the supply overlay shows the railhead green where the rules'
    trace has a railhead, the lighter supply green where it is supplied beyond the railheads, and
    leaves the map as it was where it is not supplied (the hexes the side holds out of supply are
    hatched, and not sampled). Centres under something drawn above the overlays (a counter, an air
    base icon, a name over a counter) are those the control overlay, which tints every land hex,
    leaves unchanged; they are not sampled either."""
    view.set_zoom(1)
    view.center_on(ctx.place_hex["changsha"])
    view.viewer = ctx.side_index[viewer]
    shown = view.viewer if name == "supply_own" else 1 - view.viewer
    screen = pygame.Surface(SIZE)
    drawn = {}
    for overlays in ((), ("control",), (name,)):
        view.overlays = set(overlays)
        view.draw(screen, game)
        drawn[overlays] = pixels(screen).astype(float)
    plain, control, tinted = drawn[()], drawn[("control",)], drawn[(name,)]

    state = game.state
    trace = engine.trace(ctx, state, shown)
    hatched = (state.control == shown) & ~trace.supplied
    counts = {"railhead": 0, "supplied": 0, "none": 0}
    for h in view.visible_hexes().tolist():
        x, y = view.hex_center(h)
        if hatched[h] or not (3 <= x < SIZE[0] - 3 and 3 <= y < SIZE[1] - 3):
            continue
        patch = (slice(x - 2, x + 3), slice(y - 2, y + 3))
        if not ctx.water[h] and (control[patch] == plain[patch]).all(axis=2).any():
            continue  # covered by something drawn over the overlays
        base, got = plain[x, y], tinted[x, y]
        if ctx.water[h] or not trace.supplied[h]:
            kind, want = "none", base
        elif trace.railhead[h]:
            kind, want = "railhead", blend(base, palette.SUPPLY_RAILHEAD)
        else:
            kind, want = "supplied", blend(base, palette.SUPPLY_OK)
        assert np.abs(got - want).max() <= 3, (ctx.hm.offset_of(h), kind, base, got, want)
        counts[kind] += 1
    assert min(counts.values()) >= 10, counts  # the view shows all three kinds, many of each


def test_overlays_follow_the_state(ctx, view, game):
    """After a move the supply overlay is recomputed; only tiles whose hexes changed are redrawn."""
    view.set_zoom(2)
    view.overlays = {"zoc"}
    view.viewer = ctx.side_index["china"]
    screen = pygame.Surface(SIZE)
    japan = ctx.side_index["japan"]
    u = next(u for u in game.state.side_units(japan) if game.legal_actions().moves(u.id))
    view.center_on(u.hex)
    view.draw(screen, game)
    renders = view.overlay_renders
    view.refresh(game)  # nothing changed: nothing redrawn
    view.draw(screen, game)
    assert view.overlay_renders == renders
    m = game.legal_actions().moves(u.id)[-1]
    game.apply(m)
    view.refresh(game)
    view.draw(screen, game)
    assert view.overlay_renders > renders


def test_corridor_route_joins_its_ends(ctx, view, game):
    view.refresh(game)
    route = view.corridor_route()
    assert route[0] in ctx.corridor_from and route[-1] in ctx.corridor_to
    assert all(ctx.hm.direction_between(a, b) >= 0 for a, b in itertools.pairwise(route))
    assert ctx.place_hex["wuhan"] in route or ctx.place_hex["changsha"] in route


def test_orders_highlights(ctx, view, game):
    view.set_zoom(4)
    screen = pygame.Surface(SIZE)
    japan = ctx.side_index["japan"]
    u = next(u for u in game.state.side_units(japan) if game.legal_actions().moves(u.id))
    view.center_on(u.hex)
    view.draw(screen, game)
    plain = pixels(screen)
    board = movement.make_board(ctx, game.state)
    reached = movement.reach(ctx, game.state, u, board)
    reach = {j: cost for j, (cost, _) in reached.items()}
    goal = max(reached, key=lambda j: reached[j][0])
    path = movement.path_to(reached, u.hex, goal)
    view.set_orders(selected=[u.id], reach=reach)
    view.draw(screen, game)
    with_reach = pixels(screen)
    assert not np.array_equal(plain, with_reach)
    gx, gy = view.hex_center(goal)
    view.set_orders(selected=[u.id], reach=reach, path=path, path_cost=reach[goal])
    view.draw(screen, game)
    assert not np.array_equal(with_reach[gx - 20:gx + 20, gy - 40:gy], pixels(screen)[gx - 20:gx + 20, gy - 40:gy])
    enemy = next(int(j) for j in ctx.neighbours[u.hex] if j >= 0)
    view.set_orders(selected=[u.id], targets=[enemy], attack_target=enemy)
    view.draw(screen, game)
    view.set_orders()
    view.draw(screen, game)
    assert np.array_equal(plain, pixels(screen))


def test_animate_move_draws_the_unit_between_hexes(ctx, view, game):
    view.set_zoom(4)
    screen = pygame.Surface(SIZE)
    u = next(iter(game.state.side_units(0)))
    a = u.hex
    b = next(int(j) for j in ctx.neighbours[a] if j >= 0 and not game.state.units_at(int(j)))
    view.center_on(a)
    view.draw(screen, game)
    still = pixels(screen)
    view.animate_move(u.id, [a, b], 0.5)
    view.draw(screen, game)
    moving = pixels(screen)
    (ax, ay), (bx, by) = view.hex_center(a), view.hex_center(b)
    mx, my = (ax + bx) // 2, (ay + by) // 2
    assert not np.array_equal(still[mx, my], moving[mx, my])
    view.animate_move(u.id, [a, b], None)
    view.draw(screen, game)
    assert np.array_equal(still, pixels(screen))


# -- text --------------------------------------------------------------------------------------


def test_tooltip_lists_terrain_place_control_and_units(ctx, view, game):
    stacks = {}
    for u in game.state.units.values():
        if u.on_map:
            stacks.setdefault(u.hex, []).append(u)
    h, units = max(stacks.items(), key=lambda kv: len(kv[1]))
    assert len(units) >= 2
    lines = view.tooltip(game, h)
    text = "\n".join(lines)
    terrain = ctx.rules.terrain[int(ctx.terrain[h])].name
    assert lines[0].startswith(terrain)
    for u in units:
        assert u.name in text
        assert f"{u.strength:,}/{u.max_strength:,} men" in text
    assert "Held by" in text
    wuhan = view.tooltip(game, ctx.place_hex["hengyang"])
    assert any("Hengyang" in line and "objective" in line for line in wuhan)


def test_tooltip_shows_famine_and_supply(ctx, view, game):
    famine = ctx.region_mask["henan_famine"]
    u = next(u for u in game.state.units.values() if u.on_map and famine[u.hex])
    u.supplied, u.out_of_supply = False, 2  # a test fixture's state, not the UI's doing
    text = "\n".join(view.tooltip(game, u.hex))
    assert "OUT OF SUPPLY (2 turns)" in text
    assert ctx.regions["henan_famine"].name in text


# -- counters ----------------------------------------------------------------------------------


def test_draw_counter_for_every_unit_type(ctx):
    images = {}
    for tid, utype in ctx.unit_types.items():
        side = 0 if tid.startswith(("jp_", "puppet")) else 1
        unit = Unit(id=f"t_{tid}", name=tid, side=side, type=tid, strength=12000, max_strength=15000, quality=1.0,
                    hex=0, puppet=tid == "puppet")
        for px in (10, 16, 24, 44):
            surf = pygame.Surface((60, 60))
            surf.fill((0, 0, 0))
            counters.draw_counter(surf, ctx, unit, pygame.Rect(8, 8, px, px))
            img = pixels(surf)
            assert img[8:8 + px, 8:8 + px].any(), (tid, px)
            assert not img[8 + px + 2:, :].any(), (tid, px)  # nothing outside the rectangle
            if px == 44:
                images[(utype.symbol, utype.size, side, unit.puppet)] = img
    symbols = {k[0] for k in images}
    assert {"infantry", "armour", "cavalry", "artillery", "garrison", "militia"} <= symbols
    looks = list(images.values())
    assert all(not np.array_equal(a, b) for k, a in enumerate(looks) for b in looks[k + 1:])


def test_counter_badges_and_cache(ctx):
    unit = Unit(id="u", name="u", side=1, type="cn_army", strength=8000, max_strength=20000, quality=1.0, hex=0)
    surf = pygame.Surface((80, 80))
    rect = pygame.Rect(10, 10, 44, 44)
    counters.draw_counter(surf, ctx, unit, rect)
    plain = pixels(surf)
    renders = counters.renders
    counters.draw_counter(surf, ctx, unit, rect)
    assert counters.renders == renders  # served from the cache
    looks = [plain]
    for change in ({"supplied": False, "out_of_supply": 2}, {"entrenched": 1}, {"disrupted": True}):
        u = Unit(**{**unit.__dict__, **change})
        surf.fill((0, 0, 0))
        counters.draw_counter(surf, ctx, u, rect)
        looks.append(pixels(surf))
    for kwargs in ({"famine": True}, {"stack": 3}, {"selected": True}, {"spent": True}):
        surf.fill((0, 0, 0))
        counters.draw_counter(surf, ctx, unit, rect, **kwargs)
        looks.append(pixels(surf))
    assert all(not np.array_equal(a, b) for k, a in enumerate(looks) for b in looks[k + 1:])
    assert counters.strength_text(20000) == "20" and counters.strength_text(6500) == "6.5"
    assert counters.strength_text(6000) == "6"


# -- relief ------------------------------------------------------------------------------------


def test_relief_asset_matches_the_scenario(ctx):
    r = relief.load_relief("ichigo_1944", ctx)
    assert r is not None
    image, meta = relief.relief_paths("ichigo_1944")
    assert image.stat().st_size < 1_500_000
    assert r.values.shape == (json.loads(meta.read_text())["height"], json.loads(meta.read_text())["width"])
    # mountains are shaded, the North China plain is flat
    hm = ctx.hm

    def spread(place: str) -> float:
        i = ctx.place_hex[place]
        c = int((hm.x_km[i] - r.x0) / r.km_per_px)
        row = int((hm.y_km[i] - r.y0) / r.km_per_px)
        return float(r.values[row - 15:row + 15, c - 15:c + 15].std())

    assert spread("kunming") > 2 * spread("kaifeng")


def test_relief_missing_or_foreign_is_ignored(ctx, tmp_path):
    assert relief.load_relief("no_such_scenario", ctx) is None
    image, meta = relief.relief_paths("ichigo_1944")
    (tmp_path / "ichigo_1944.png").write_bytes(image.read_bytes())
    data = json.loads(meta.read_text())
    data["projection"]["lat_min"] += 1
    (tmp_path / "ichigo_1944.json").write_text(json.dumps(data))
    assert relief.load_relief("ichigo_1944", ctx, tmp_path) is None
    (tmp_path / "ichigo_1944.json").write_text("{broken")
    assert relief.load_relief("ichigo_1944", ctx, tmp_path) is None
    (tmp_path / "ichigo_1944.json").write_text(meta.read_text())
    (tmp_path / "ichigo_1944.png").write_bytes(b"not a png")
    assert relief.load_relief("ichigo_1944", ctx, tmp_path) is None


def test_a_map_without_relief_draws(tmp_path):
    small = load_context(EXAMPLE)
    view = MapView(small, (400, 300))
    assert view._relief is None
    g = Game.new(small, 1)
    screen = pygame.Surface((400, 300))
    view.overlays = set(OVERLAYS)
    for z in range(len(ZOOM_SPACINGS)):
        view.set_zoom(z)
        view.draw(screen, g)
    view.draw_minimap(screen, pygame.Rect(0, 0, 100, 80))
    assert pixels(screen).any()
