"""Tiny test worlds for rule tests: each test builds exactly the map it needs.

Like Unciv's ``TestGame``: a test says how many columns and rows it wants, paints the terrain,
puts units and places on hexes by ``[column, row]`` and gets back a validated, compiled
:class:`~game.rules.context.Context`::

    ctx = world(tmp_path, cols=7, rows=3, terrain_rows=CORRIDOR_7,
                units=[unit("jp", "japan", 1, 1), unit("cn", "china", 2, 1)],
                combat=forced("dr"))
    g = Game.new(ctx, seed=0)
    act(g, "attack 2,1 from 1,1")

The scenario is an ordinary scenario dict (like ``tests/data/bad_scenarios/_base.yaml``): sides
``japan`` and ``china`` (Japan moves first), movement classes ``foot`` and ``motor``, terrain
``plain``/``hills``/``mountains``/``lake``, one river class ``minor`` and a combat table that is
deterministic unless a test asks otherwise. It is written with ``yaml.safe_dump`` and loaded with
:func:`game.rules.context.load_context`; a world that does not validate (or validates with
warnings) fails the test with the diagnostics.

Painted terrain rows use ``.`` plain, ``h`` hills, ``m`` mountains and ``~`` lake. Hexes are
offset ``(column, row)`` on a pointy-top odd-r map (odd rows are shifted half a hex east).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from game.hexmap import KM_PER_DEG_LAT, HexMap, Projection
from game.names import ENGINE_LOSS_CAUSES
from game.rules.actions import EndPhase, Move, parse_action
from game.rules.context import Context, load_context
from game.rules.engine import Dice, Game, legal_actions
from game.rules.state import GameState, Unit
from game.scenario.validate import validate_file

HEX_KM = 10.0
LAT0, LON0 = 30.0, 110.0
START = dt.date(1944, 4, 17)
DAYS = 7

LEGEND = {".": "plain", "h": "hills", "m": "mountains", "~": "lake"}

#: Every combat result a test may force. Losses are fractions of each unit's men.
RESULTS: dict[str, dict[str, Any]] = {
    "nr": {"description": "No effect"},
    "al": {"attacker_loss": 0.1, "description": "Attacker loss"},
    "ar": {"attacker_loss": 0.1, "attacker_retreat": 1, "description": "Attacker repulsed"},
    "ex": {"attacker_loss": 0.1, "defender_loss": 0.1, "description": "Exchange"},
    "dl": {"defender_loss": 0.1, "description": "Defender loss"},
    "dr": {"defender_loss": 0.1, "defender_retreat": 1, "description": "Defender retreats"},
    "dr2": {"defender_loss": 0.1, "defender_retreat": 2, "description": "Defender retreats two hexes"},
    "dx": {"attacker_loss": 0.05, "defender_loss": 0.2, "defender_retreat": 1, "rout": True,
           "description": "Defender routed"},
    "d35": {"defender_loss": 0.35, "description": "Heavy defender loss"},
}

UNIT_TYPES = [
    {"id": "inf", "name": "Infantry", "symbol": "infantry", "movement_class": "foot", "movement_points": 4,
     "attack": 1.0, "defence": 1.0},
    {"id": "slow", "name": "Slow infantry", "symbol": "infantry", "movement_class": "foot", "movement_points": 2,
     "attack": 1.0, "defence": 1.0},
    {"id": "leg", "name": "Leg infantry", "symbol": "infantry", "movement_class": "foot", "movement_points": 1,
     "attack": 1.0, "defence": 1.0},
    {"id": "mot", "name": "Motorised", "symbol": "mechanised", "movement_class": "motor", "movement_points": 6,
     "attack": 1.0, "defence": 1.0},
    {"id": "screen", "name": "Screen (no ZOC)", "symbol": "cavalry", "movement_class": "foot",
     "movement_points": 4, "attack": 1.0, "defence": 1.0, "zoc": False},
]


def combat_table(*rows: str | Sequence[str], odds: Sequence[str] = ("1:1",),
                 **extra: Any) -> dict[str, Any]:
    """A combat table with the given rows (one per die roll; a bare id is a one-column row)."""
    table = [[r] if isinstance(r, str) else list(r) for r in rows]
    return {"odds": list(odds), "die_sides": len(table), "hold_loss_per_hex": 0.05, "rout_loss": 0.1,
            "results": copy.deepcopy(RESULTS), "table": table, **extra}


def forced(result: str, **extra: Any) -> dict[str, Any]:
    """A combat table whose every roll at every column gives `result`: a deterministic combat."""
    return combat_table(result, result, **extra)


def unit(uid: str, side: str, col: int, row: int, *, type: str = "inf", strength: int = 10000,
         **extra: Any) -> dict[str, Any]:
    """A starting unit on hex (col, row)."""
    return {"id": uid, "name": uid.upper(), "side": side, "type": type, "strength": strength,
            "hex": [col, row], **extra}


def reinf_unit(uid: str, side: str, *, type: str = "inf", strength: int = 10000, **extra: Any) -> dict[str, Any]:
    """A unit arriving with a reinforcement or an event (it takes the arrival's place)."""
    return {"id": uid, "name": uid.upper(), "side": side, "type": type, "strength": strength, **extra}


def place(pid: str, col: int, row: int, *, owner: str | None = None, kind: str = "town",
          **extra: Any) -> dict[str, Any]:
    """A place on hex (col, row)."""
    out = {"id": pid, "name": pid.title(), "hex": [col, row], "kind": kind, **extra}
    if owner is not None:
        out["owner"] = owner
    return out


def day(turn: int, offset: int = 0) -> str:
    """ISO date of a day in a turn (turn 1 starts on 1944-04-17, 7 days a turn)."""
    return (START + dt.timedelta(days=DAYS * (turn - 1) + offset)).isoformat()


def all_hexes(cols: int, rows: int) -> list[list[int]]:
    return [[c, r] for r in range(rows) for c in range(cols)]


# ---------------------------------------------------------------------------------------------
# geometry


def projection_for(cols: int, rows: int) -> Projection:
    """A pointy-top projection whose map has exactly cols x rows hexes of HEX_KM."""
    if cols < 2 or rows < 2:
        raise ValueError("a test world needs at least 2 columns and 2 rows")
    row_step = HEX_KM * math.sqrt(3.0) / 2.0
    height = (rows - 1.5) * row_step
    width = (cols - 1.5) * HEX_KM
    lat_max = LAT0 + height / KM_PER_DEG_LAT
    km_per_deg_lon = KM_PER_DEG_LAT * math.cos(math.radians(0.5 * (LAT0 + lat_max)))
    p = Projection(lat_min=LAT0, lat_max=lat_max, lon_min=LON0, lon_max=LON0 + width / km_per_deg_lon,
                   hex_km=HEX_KM, orientation="pointy")
    assert p.shape() == (cols, rows), (p.shape(), cols, rows)
    return p


def _centre(hm: HexMap, col: int, row: int) -> list[float]:
    lat, lon = hm.centre_latlon(hm.index(col, row))
    return [lat, lon]


def _line_path(hm: HexMap, path: Sequence, what: str) -> list:
    """Waypoints of a railway/road given as hexes (col, row) or place ids: hexes become centres."""
    out = []
    prev = None
    for pt in path:
        if isinstance(pt, str):
            out.append(pt)
            prev = None
            continue
        col, row = pt
        i = hm.index(col, row)
        if prev is not None and hm.direction_between(prev, i) < 0:
            raise ValueError(f"{what}: hexes {hm.offset_of(prev)} and {(col, row)} are not adjacent")
        out.append(_centre(hm, col, row))
        prev = i
    return out


def _river_across(hm: HexMap, a: Sequence[int], b: Sequence[int]) -> list[list[float]]:
    """A short river segment crossing only the hexside between adjacent hexes a and b.

    It crosses the centre-to-centre segment 40% of the way from a to b, perpendicular to it and
    0.3 hex long, so it touches neither the other hexsides of a or b nor the segment joining
    their two common neighbours (which passes through the midpoint).
    """
    i, j = hm.index(*a), hm.index(*b)
    if hm.direction_between(i, j) < 0:
        raise ValueError(f"river: hexes {tuple(a)} and {tuple(b)} are not adjacent")
    ax, ay, bx, by = hm.x_km[i], hm.y_km[i], hm.x_km[j], hm.y_km[j]
    mx, my = ax + 0.4 * (bx - ax), ay + 0.4 * (by - ay)
    dx, dy = (bx - ax) / HEX_KM, (by - ay) / HEX_KM
    px, py = -dy * 0.15 * HEX_KM, dx * 0.15 * HEX_KM
    proj = hm.projection
    pts = []
    for x, y in ((mx - px, my - py), (mx + px, my + py)):
        lat, lon = proj.xy_to_latlon(float(x), float(y))
        pts.append([float(lat), float(lon)])
    return pts


# ---------------------------------------------------------------------------------------------
# the scenario


def base_rules() -> dict[str, Any]:
    return {
        "movement_classes": ["foot", "motor"],
        "terrain": [
            {"id": "plain", "name": "Plain", "colour": "#d8d49a", "move_cost": {"foot": 1, "motor": 1}},
            {"id": "hills", "name": "Hills", "colour": "#b0a070", "move_cost": {"foot": 2, "motor": 3},
             "defence_shift": 1, "supply_cost": 2},
            {"id": "mountains", "name": "Mountains", "colour": "#8a7458", "move_cost": {"foot": 3},
             "defence_shift": 2, "supply_cost": 3},
            {"id": "lake", "name": "Lake", "colour": "#6a9cc8", "water": True},
        ],
        "river_classes": [{"id": "minor", "name": "River", "extra_move_cost": 1, "defence_shift": 1,
                           "supply_cost": 1}],
        "rail": {"move_cost": {"foot": 0.25, "motor": 0.25}, "strategic_hexes": 10, "repair_per_turn": 0},
        "road": {"move_cost": {"foot": 0.5, "motor": 0.5}},
        "unit_types": copy.deepcopy(UNIT_TYPES),
        "combat": forced("nr"),
        "supply": {"rail_range": 20, "road_range": 10, "cross_country_range": 4,
                   "interdicted_range_factor": 0.5,
                   "ladder": [{"turns_out": 1, "combat": 1.0, "movement": 1.0}]},
        "stacking": {"max_units": 3},
    }


def scenario_dict(*, cols: int, rows: int, hm: HexMap, projection: Projection,
                  terrain_rows: Sequence[str] | None = None, units: Iterable[dict] = (),
                  places: Iterable[dict] = (), railways: Iterable = (), roads: Iterable = (),
                  rivers: Iterable = (), regions: Iterable[dict] = (), air_bases: Iterable[dict] = (),
                  events: Iterable[dict] = (), reinforcements: Iterable[dict] = (),
                  withdrawals: Iterable[dict] = (), tracks: Iterable[dict] = (),
                  control: Iterable[dict] = (), default_control: str | None = None,
                  combat: dict | None = None, rules_overrides: dict | None = None,
                  meta_overrides: dict | None = None, victory: dict | None = None,
                  supply: dict | None = None, ai: dict | None = None,
                  loss_causes: Iterable[str] = (), doctrine: Iterable[dict] = ()) -> dict[str, Any]:
    meta = {
        "id": "test_world", "title": "Test world", "start_date": START.isoformat(), "days_per_turn": DAYS,
        "turns": 4,
        "sides": [{"id": "japan", "name": "Japan", "colour": "#c8a028"},
                  {"id": "china", "name": "China", "colour": "#3468b0"}],
        "move_order": ["japan", "china"],
    }
    meta.update(meta_overrides or {})
    p = projection
    mp: dict[str, Any] = {
        "projection": {"lat_min": p.lat_min, "lat_max": p.lat_max, "lon_min": p.lon_min, "lon_max": p.lon_max,
                       "hex_km": p.hex_km, "orientation": p.orientation},
        "default_terrain": "plain",
        "places": [dict(x) for x in places],
    }
    if terrain_rows is not None:
        rows_list = list(terrain_rows)
        if len(rows_list) != rows or any(len(r) != cols for r in rows_list):
            raise ValueError(f"terrain_rows must be {rows} strings of {cols} characters")
        mp["terrain_rows"] = {"legend": dict(LEGEND), "rows": rows_list}
    rv = []
    for k, r in enumerate(rivers):
        if isinstance(r, dict):
            rv.append(r)
        else:
            a, b = r
            rv.append({"id": f"river_{k}", "name": f"River {k}", "class": "minor", "path": _river_across(hm, a, b)})
    if rv:
        mp["rivers"] = rv
    for key, lines in (("railways", railways), ("roads", roads)):
        out = []
        for k, line in enumerate(lines):
            if isinstance(line, dict):
                line = dict(line)
                line["path"] = _line_path(hm, line["path"], line["id"])
                line.setdefault("name", line["id"])
                out.append(line)
            else:
                lid = f"{key[:-1]}_{k}"
                out.append({"id": lid, "name": lid, "path": _line_path(hm, line, lid)})
        if out:
            mp[key] = out
    if control:
        mp["control"] = [dict(c) for c in control]
    if default_control is not None:
        mp["default_control"] = default_control
    rules = base_rules()
    if combat is not None:
        rules["combat"] = combat
    for k, v in (rules_overrides or {}).items():
        if isinstance(v, dict) and isinstance(rules.get(k), dict):
            rules[k] = {**rules[k], **v}
        else:
            rules[k] = v
    vic = {"score_side": "japan",
           "bands": [{"min_score": 1, "result": "marginal", "winner": "japan"},
                     {"result": "marginal", "winner": "china"}]}
    vic.update(victory or {})
    doc: dict[str, Any] = {"format": 1, "meta": meta, "map": mp, "rules": rules, "units": [dict(u) for u in units],
                           "victory": vic}
    regions = [dict(x) for x in regions]
    if regions:  # the kinds the regions use, declared as a scenario must
        doc["region_kinds"] = [{"id": k, "name": k.replace("_", " ").capitalize()}
                               for k in dict.fromkeys(r["kind"] for r in regions)]
    # the loss causes the regions use (and any others asked for), declared as a scenario must
    causes = dict.fromkeys([r["loss_cause"] for r in regions if r.get("loss_cause")] + list(loss_causes))
    causes = [c for c in causes if c not in ENGINE_LOSS_CAUSES]
    if causes:
        doc["loss_causes"] = [{"id": c, "name": c.capitalize()} for c in causes]
    for key, value in (("reinforcements", reinforcements), ("withdrawals", withdrawals), ("regions", regions),
                       ("air_bases", air_bases), ("tracks", tracks), ("events", events), ("doctrine", doctrine)):
        value = [dict(x) for x in value]
        if value:
            doc[key] = value
    if supply is not None:
        doc["supply"] = supply
    if ai is not None:
        doc["ai"] = ai
    return doc


def world(tmp_path: Path, *, cols: int, rows: int, name: str = "world", **kwargs: Any) -> Context:
    """Build, write, validate and load a test world of exactly cols x rows hexes.

    Keyword arguments (all optional): ``terrain_rows`` (list of strings, see LEGEND), ``units``,
    ``places``, ``railways`` / ``roads`` (each a list of hexes (col, row) or place ids, or a dict
    with ``id`` and ``path`` and e.g. ``broken``), ``rivers`` (pairs of adjacent hexes whose
    common hexside carries a minor river, or river dicts), ``regions``, ``air_bases``, ``events``,
    ``reinforcements``, ``withdrawals``, ``tracks``, ``control`` (control areas),
    ``default_control``, ``combat`` (a combat table, see :func:`forced` and :func:`combat_table`),
    ``rules_overrides`` (top-level rules keys; dicts are merged one level deep),
    ``meta_overrides``, ``victory`` (merged into a default), ``supply`` (the top-level section),
    ``loss_causes`` (ids of ledger columns to declare beyond those the regions use), ``doctrine``.
    """
    projection = projection_for(cols, rows)
    hm = HexMap.from_projection(projection)
    doc = scenario_dict(cols=cols, rows=rows, hm=hm, projection=projection, **kwargs)
    path = Path(tmp_path) / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    report = validate_file(path)
    problems = list(report.result.diagnostics)
    if problems:
        pytest.fail("test world does not validate cleanly:\n" + "\n".join(d.format() for d in problems),
                    pytrace=False)
    ctx = load_context(path)
    assert (ctx.hm.cols, ctx.hm.rows) == (cols, rows)
    return ctx


# ---------------------------------------------------------------------------------------------
# helpers for tests


def hex_index(ctx: Context, col: int, row: int) -> int:
    return ctx.hm.index(col, row)


def units_at(ctx: Context, state: GameState, col: int, row: int) -> list[Unit]:
    return state.units_at(ctx.hm.index(col, row))


def unit_at(ctx: Context, state: GameState, col: int, row: int) -> Unit | None:
    """The one unit on hex (col, row), or None; fails when several are there."""
    here = units_at(ctx, state, col, row)
    assert len(here) <= 1, f"{len(here)} units at {col},{row}"
    return here[0] if here else None


def pos(ctx: Context, state: GameState, uid: str) -> tuple[int, int] | None:
    """Where a unit is as (col, row), None when it is off the map."""
    u = state.units[uid]
    return ctx.hm.offset_of(u.hex) if u.on_map else None


def move_targets(ctx: Context, state: GameState, uid: str) -> set[tuple[int, int]]:
    """The hexes `legal_actions` offers the unit for an ordinary move."""
    return {a.to for a in legal_actions(ctx, state) if isinstance(a, Move) and a.unit == uid}


def act(game: Game, *texts: str) -> None:
    """Apply actions given in their text form ('move jp 3,1', 'attack 2,1 from 1,1', 'end')."""
    for text in texts:
        game.apply(parse_action(text))


def end_phase(game: Game) -> None:
    game.apply(EndPhase())


def end_turn(game: Game) -> None:
    """End every remaining phase of the current turn."""
    turn = game.state.turn
    while not game.over and game.state.turn == turn:
        game.apply(EndPhase())


def new_game(ctx: Context, seed: int = 0, dice: Dice = "keyed") -> Game:
    return Game.new(ctx, seed, dice)


#: A 7x3 corridor: only row 1 is land, so movement and retreats run along one line.
CORRIDOR_7 = ["~~~~~~~", ".......", "~~~~~~~"]
