"""Map view speed on the Ichi-Go map: frames per second while panning, and the time from a click on
a unit to its reach being drawn.

    python bench/bench_ui.py [--frames 300] [--step 7] [--size 1280x800] [--zooms 3,5] [--scenario FILE]

Runs under SDL's dummy video driver (no window), which draws into memory as a real window would,
minus the copy to the screen.

* Panning: the Ichi-Go map at the start with every unit and the ``supply_own`` overlay, panned
  ``--step`` pixels a frame across the map (and back at the edges) for ``--frames`` frames, at
  each zoom level of ``--zooms`` (indices of ``game.ui.mapview.ZOOM_SPACINGS``). A frame is one
  ``MapView.draw`` and a display flip. The first pass draws tiles as they come into view (cold:
  nothing cached, as after a zoom); the second pass goes over the same ground (warm). Reported:
  frames per second (mean), the median, 99th percentile and worst frame, and apart the first
  frame (the whole view drawn at once, as after a zoom step), and the tiles drawn.
* Click to reach: for every unit of the side to move, ``movement.make_board`` +
  ``movement.reach`` for the unit + ``MapView.set_orders`` with the reach + one draw, the work
  between a click on a unit and its reach on screen; median and worst.
* Memory: the tile caches after the runs, against a whole-map surface per layer at each zoom.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pygame

from game.rules import engine, movement
from game.rules.context import load_context
from game.rules.engine import Game
from game.ui.mapview import ZOOM_SPACINGS, MapView

ICHIGO = Path(__file__).resolve().parent.parent / "scenarios" / "ichigo_1944.yaml"


def pan_run(view: MapView, screen: pygame.Surface, game: Game, frames: int, step: int) -> list[float]:
    """Frame times of ``frames`` frames panning ``step`` pixels a frame, right then back at the edge."""
    times = []
    direction = 1
    for _ in range(frames):
        before = view.cam_x
        start = time.perf_counter()
        view.pan(direction * step, 0)
        view.draw(screen, game)
        pygame.display.flip()
        times.append(time.perf_counter() - start)
        if view.cam_x == before:  # reached the edge: come back
            direction = -direction
    return times


def describe(times: list[float]) -> str:
    """fps over the frames after the first (which draws the whole view after a zoom; reported
    apart), median, 99th percentile and worst frame."""
    rest = sorted(times[1:])
    fps = len(rest) / sum(rest)
    p99 = rest[int(0.99 * (len(rest) - 1))]
    return (f"{fps:6.0f} fps  median {statistics.median(rest) * 1000:5.2f} ms  99% {p99 * 1000:5.1f} ms  "
            f"worst {rest[-1] * 1000:5.1f} ms  (first frame {times[0] * 1000:5.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--step", type=int, default=7, help="pixels panned per frame")
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--zooms", default="3,5", help="zoom level indices into ZOOM_SPACINGS")
    parser.add_argument("--scenario", default=str(ICHIGO))
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    zooms = [int(z) for z in args.zooms.split(",")]
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode(size)
    ctx = load_context(args.scenario)
    game = Game.new(ctx, 1)
    on_map = sum(u.on_map for u in game.state.units.values())
    print(f"scenario {ctx.scenario.meta.id}: {ctx.n} hexes, {on_map} units on the map; view {size[0]}x{size[1]}, "
          f"overlay supply_own, SDL driver {os.environ['SDL_VIDEODRIVER']}")
    view = MapView(ctx, size)
    view.overlays = {"supply_own"}
    print(f"{'zoom (hex px)':>14}  {'pass':5}  result")
    for z in zooms:
        view.set_zoom(z)
        view.center_on(ctx.place_hex.get("wuhan", ctx.n // 2))
        view.pan(-10_000, 0)  # start at the western edge
        tiles = (view.static_renders, view.map_renders, view.overlay_renders)
        cold = pan_run(view, screen, game, args.frames, args.step)
        drawn = [a - b for a, b in zip((view.static_renders, view.map_renders, view.overlay_renders), tiles)]
        warm = pan_run(view, screen, game, args.frames, args.step)
        label = f"{z} ({ZOOM_SPACINGS[z]})"
        print(f"{label:>14}  cold   {describe(cold)}  tiles drawn: {drawn[0]} static, {drawn[1]} map, "
              f"{drawn[2]} overlay")
        print(f"{'':>14}  warm   {describe(warm)}")
    # click -> reach highlight
    side = engine.active_side(ctx, game.state)
    view.set_zoom(zooms[-1])
    clicks = []
    for u in game.state.side_units(side):
        view.center_on(u.hex)
        view.set_orders()
        view.draw(screen, game)
        start = time.perf_counter()
        board = movement.make_board(ctx, game.state)
        reached = movement.reach(ctx, game.state, u, board)
        view.set_orders(selected=[u.id], reach={j: c for j, (c, _) in reached.items()})
        view.draw(screen, game)
        pygame.display.flip()
        clicks.append(time.perf_counter() - start)
    print(f"click to reach drawn (zoom {zooms[-1]}, {len(clicks)} units of {ctx.sides[side]}): "
          f"median {statistics.median(clicks) * 1000:.1f} ms, worst {max(clicks) * 1000:.1f} ms")
    full = []
    for z in zooms:
        g = view.zoom_geometry(z)
        full.append(f"zoom {z} {g.width}x{g.height} = {g.width * g.height * 4 / 1e6:.0f} MB")
    print(f"tile caches now: {view.cache_bytes() / 1e6:.0f} MB; a whole-map surface per layer would be: "
          + ", ".join(full))


if __name__ == "__main__":
    main()
