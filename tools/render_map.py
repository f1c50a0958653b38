"""Render a scenario's compiled map to a PNG: a designer's preview until the game window exists.

    python tools/render_map.py SCENARIO.yaml [-o map.png] [--hex-px 24]

Draws terrain (tinted by the side holding each hex), the front line (red hexsides between the
sides' areas), regions (hatched), rivers on the hexsides they run along, railways (black; broken
sections red) and roads along hex-to-hex edges, places with names and units as small counters.
Runs headless (SDL dummy video driver).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pygame  # noqa: E402

from game.hexgrid import Layout  # noqa: E402
from game.scenario.build import EDGE_BROKEN, EDGE_INTACT  # noqa: E402
from game.scenario.validate import validate_file  # noqa: E402


def hex_colour(text: str) -> tuple[int, int, int]:
    return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("-o", "--output", default="map.png")
    parser.add_argument("--hex-px", type=float, default=24.0, help="distance between hex centres in pixels")
    args = parser.parse_args()
    report = validate_file(args.scenario)
    for d in report.result.diagnostics.sorted():
        print(d.format(), file=sys.stderr)
    if not report.ok:
        return 1
    s, m = report.result.scenario, report.map
    hm = m.hexmap
    size = args.hex_px / math.sqrt(3)
    layout = Layout(hm.orientation, size, size, size * 1.2, size * 1.2)
    pts = [layout.hex_to_pixel(hm.hex_of(i)) for i in range(hm.n)]
    width = int(max(p[0] for p in pts) + size * 2.5)
    height = int(max(p[1] for p in pts) + size * 2.5)
    pygame.init()
    surf = pygame.Surface((width, height))
    surf.fill((40, 40, 48))
    font = pygame.font.Font(None, max(12, int(size * 0.9)))
    terrain_colour = [hex_colour(t.colour) for t in s.rules.terrain]
    side_colour = [hex_colour(x.colour) for x in s.meta.sides]
    water = [t.water for t in s.rules.terrain]
    for i in range(hm.n):
        corners = layout.corners(hm.hex_of(i))
        colour = terrain_colour[m.terrain[i]]
        if m.control[i] >= 0 and not water[m.terrain[i]]:  # a light tint of the holder's colour
            tint = side_colour[m.control[i]]
            colour = tuple(int(0.82 * a + 0.18 * b) for a, b in zip(colour, tint))
        pygame.draw.polygon(surf, colour, corners)
        pygame.draw.polygon(surf, tuple(int(c * 0.85) for c in colour), corners, 1)
    for _rid, mask in m.region_masks.items():
        for i in mask.nonzero()[0]:
            x, y = pts[i]
            pygame.draw.line(surf, (150, 40, 40), (x - size * 0.4, y + size * 0.4), (x + size * 0.4, y - size * 0.4), 1)
    nb = hm.neighbours
    for i in range(hm.n):
        for d in range(6):
            j = nb[i, d]
            if j < i:
                continue
            if m.river[i, d]:
                # the hexside shared by i and j: the two corners nearest the midpoint
                mid = ((pts[i][0] + pts[j][0]) / 2, (pts[i][1] + pts[j][1]) / 2)
                corners = sorted(layout.corners(hm.hex_of(i)),
                                 key=lambda c: (c[0] - mid[0]) ** 2 + (c[1] - mid[1]) ** 2)[:2]
                pygame.draw.line(surf, (40, 90, 200), corners[0], corners[1], 2 + 2 * (m.river[i, d] > 1))
            if (m.control[i] >= 0 and m.control[j] >= 0 and m.control[i] != m.control[j]
                    and not water[m.terrain[i]] and not water[m.terrain[j]]):  # the front line
                mid = ((pts[i][0] + pts[j][0]) / 2, (pts[i][1] + pts[j][1]) / 2)
                corners = sorted(layout.corners(hm.hex_of(i)),
                                 key=lambda c: (c[0] - mid[0]) ** 2 + (c[1] - mid[1]) ** 2)[:2]
                pygame.draw.line(surf, (220, 30, 30), corners[0], corners[1], 3)
            for edges, colour, w in ((m.road, (150, 110, 60), 2), (m.rail, (20, 20, 20), 3)):
                if edges[i, d] == EDGE_INTACT:
                    pygame.draw.line(surf, colour, pts[i], pts[j], w)
                elif edges[i, d] == EDGE_BROKEN:
                    pygame.draw.line(surf, (200, 30, 30), pts[i], pts[j], w)
    for place in s.map.places:
        i = m.place_hex[place.id]
        x, y = pts[i]
        colour = side_colour[s.meta.sides.index(next(x for x in s.meta.sides if x.id == place.owner))] \
            if place.owner else (220, 220, 220)
        pygame.draw.circle(surf, colour, (x, y), size * 0.3)
        pygame.draw.circle(surf, (0, 0, 0), (x, y), size * 0.3, 1)
        label = font.render(place.name, True, (10, 10, 10))
        surf.blit(label, (x + size * 0.35, y - label.get_height() / 2))
    for unit in s.units:
        if isinstance(unit.at, str):
            i = m.place_hex[unit.at]
        elif unit.at is not None:
            i = hm.latlon_to_index(*unit.at)
        else:
            i = hm.index(*unit.hex)
        x, y = pts[i]
        side = next(k for k, x_ in enumerate(s.meta.sides) if x_.id == unit.side)
        rect = pygame.Rect(0, 0, size * 0.9, size * 0.6)
        rect.center = (x - size * 0.2, y + size * 0.45)
        pygame.draw.rect(surf, side_colour[side], rect)
        pygame.draw.rect(surf, (0, 0, 0), rect, 1)
    pygame.image.save(surf, args.output)
    print(f"wrote {args.output} ({width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
