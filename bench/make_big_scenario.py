"""Write a synthetic ~5,000-hex scenario (the size of a theatre map) for benchmarks.

It has what a real theatre scenario has: painted terrain rows for every hex (as the map tool
writes them), terrain polygons, lakes, rivers, railways and roads through many waypoints,
~120 places, ~200 units, reinforcements, regions, air bases, events and history. Deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.hexmap import HexMap, Projection  # noqa: E402

BASE = Path(__file__).resolve().parent.parent / "tests" / "data" / "bad_scenarios" / "_base.yaml"
PROJ = dict(lat_min=21.0, lat_max=31.0, lon_min=106.0, lon_max=116.0, hex_km=16.2, orientation="pointy")


def make(path: Path, seed: int = 1, scale: float = 1.0) -> Path:
    """Write the scenario to `path`; `scale` multiplies the hexes (smaller hexes on the same
    theatre) and the places, units, reinforcements and objectives with them."""
    rng = np.random.default_rng(seed)
    data = yaml.safe_load(BASE.read_text())
    data["meta"].update(id="big", title="Big synthetic theatre", turns=36)
    proj = {**PROJ, "hex_km": round(PROJ["hex_km"] / scale ** 0.5, 3)}
    hm = HexMap.from_projection(Projection(**proj))
    n_places, n_units = round(120 * scale), round(120 * scale)
    legend = {".": "plain", "^": "mountains"}
    rows = ["".join("^" if rng.random() < 0.25 else "." for _ in range(hm.cols)) for _ in range(hm.rows)]

    def latlon() -> list[float]:
        return [round(float(rng.uniform(proj["lat_min"] + 0.2, proj["lat_max"] - 0.2)), 3),
                round(float(rng.uniform(proj["lon_min"] + 0.2, proj["lon_max"] - 0.2)), 3)]

    places = [{"id": f"p{k}", "name": f"Place {k}", "at": latlon(), "kind": "city" if k % 3 else "town",
               "owner": "japan" if k % 2 else "china", "supply_source": k % 10 == 0} for k in range(n_places)]
    taken: set[int] = set()
    for p in places:  # one place a hex (small hexes could put two on one; redrawn only then)
        while int(hm.latlon_to_index(*p["at"])) in taken:
            p["at"] = latlon()
        taken.add(int(hm.latlon_to_index(*p["at"])))
    m = data["map"]
    m.update(projection=proj, terrain_rows={"legend": legend, "rows": rows}, places=places, lakes=[])
    m["terrain_regions"] = [{"terrain": "mountains", "polygon": [latlon() for _ in range(8)]} for _ in range(10)]
    m["rivers"] = [{"id": f"r{k}", "name": f"River {k}", "class": "minor",
                    "path": [latlon() for _ in range(30)]} for k in range(6)]
    m["railways"] = [{"id": f"rail{k}", "name": f"Railway {k}",
                      "path": [f"p{int(j)}" for j in rng.choice(n_places, 10, replace=False)],
                      "broken": []} for k in range(6)]
    m["roads"] = [{"id": f"road{k}", "name": f"Road {k}", "path": [latlon() for _ in range(8)]} for k in range(10)]
    # terrain everywhere passable for the units below: plain under every place
    data["units"] = [{"id": f"u{k}", "name": f"Unit {k}", "side": "japan" if k % 2 else "china",
                      "type": "infantry", "strength": 10000, "at": f"p{k % (n_places // 2)}"} for k in range(n_units)]
    data["reinforcements"] = [{"id": f"re{k}", "date": "1944-06-01", "at": f"p{k}",
                               "units": [{"id": f"ru{k}_{j}", "name": "R", "side": "china", "type": "infantry",
                                          "strength": 5000} for j in range(4)]} for k in range(round(20 * scale))]
    data["events"] = [{"id": f"e{k}", "name": f"Event {k}", "date": "1944-07-01",
                       "effects": [{"type": "track", "track": "prestige", "add": 1}]} for k in range(30)]
    data["air_bases"] = [{"id": f"ab{k}", "place": f"p{k}", "side": "china", "range_km": 600} for k in range(0, 40, 4)]
    data["regions"][0]["polygon"] = [[28.0, 108.0], [28.0, 114.0], [24.0, 114.0], [24.0, 108.0]]
    data["victory"]["objectives"] = [{"place": f"p{k}", "side": "japan", "points": 1} for k in range(round(40 * scale))]
    for p in places:  # keep every place on land
        i = hm.latlon_to_index(*p["at"])
        col, row = hm.offset_of(i)
        rows[row] = rows[row][:col] + "." + rows[row][col + 1:]
    text = yaml.safe_dump(data, sort_keys=False, width=10_000)
    path.write_text(text)
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "big_scenario.yaml")
    make(out)
    print(out)
