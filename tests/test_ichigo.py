"""The Ichi-Go 1944 scenario against the fact base (shared/history): what it must contain.

Checks go by geography and dates, not by the ids the designer chose, so renaming a unit or a
place does not break them; changing history does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from game.rules.context import load_context
from game.rules.engine import Game
from game.rules.players import RandomPlayer, play_game
from game.scenario.build import EDGE_BROKEN, EDGE_INTACT

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "ichigo_1944.yaml"
VARIANTS = sorted((ROOT / "scenarios").glob("whatif_*.yaml"))

# facts §3.2: every US air base with its coordinates
AIR_BASES = [("Hengyang", 26.89, 112.62), ("Lingling", 26.34, 111.61), ("Guilin", 25.2, 110.3),
             ("Liuzhou", 24.21, 109.39), ("Tanchuk", 23.47, 110.52), ("Yishan", 24.49, 108.65),
             ("Nanning", 22.79, 108.30), ("Wuzhou", 23.48, 111.28), ("Suichuan", 26.33, 114.5),
             ("Ganzhou", 25.86, 114.78), ("Nanxiong", 25.12, 114.31), ("Changting", 25.84, 116.36),
             ("Laohekou", 32.39, 111.67), ("Ankang", 32.68, 109.03), ("Xi'an", 34.3, 108.9),
             ("Hanzhong", 33.07, 107.0), ("Zhijiang", 27.44, 109.68), ("Liangshan", 30.68, 107.8),
             ("Baishiyi", 29.5, 106.4), ("Enshi", 30.3, 109.5), ("Kunming", 24.99, 102.74),
             ("Dushan", 25.8, 107.5), ("Chengdu", 30.42, 103.85)]
RAIL_STATIONS = [("Beijing", 39.9, 116.4), ("Shijiazhuang", 38.04, 114.51), ("Zhengzhou", 34.75, 113.63),
                 ("Xinyang", 32.13, 114.07), ("Wuhan", 30.59, 114.3), ("Changsha", 28.19, 112.99),
                 ("Hengyang", 26.89, 112.57), ("Guilin", 25.28, 110.28), ("Liuzhou", 24.33, 109.4),
                 ("Xuzhou", 34.26, 117.19), ("Luoyang", 34.62, 112.45), ("Lang Son", 21.85, 106.76)]
CAPTURES = [("Zhengzhou", 34.75, 113.63), ("Xuchang", 34.04, 113.85), ("Luoyang", 34.62, 112.45),
            ("Changsha", 28.19, 112.99), ("Hengyang", 26.89, 112.57), ("Guilin", 25.28, 110.28),
            ("Liuzhou", 24.33, 109.4)]

pytestmark = pytest.mark.skipif(not BASE.exists(), reason="the Ichi-Go scenario is not written yet")


@pytest.fixture(scope="module")
def ctx():
    return load_context(BASE)


def near(ctx, lat: float, lon: float, hexes: int = 1) -> np.ndarray:
    return ctx.hm.within(int(ctx.hm.latlon_to_index(lat, lon)), hexes)


def test_calendar_and_sides(ctx):
    meta = ctx.scenario.meta
    assert [s.id for s in meta.sides] == ["japan", "china"]
    assert dt.date(1944, 4, 17) <= meta.start_date <= dt.date(1944, 4, 19)
    assert meta.end_date() == dt.date(1944, 12, 31)
    assert (ctx.hm.cols, ctx.hm.rows) == (65, 85)


def test_places_air_bases_and_railways(ctx):
    assert len(ctx.scenario.map.places) >= 60
    base_hexes = np.zeros(ctx.n, dtype=bool)
    for info in ctx.air_bases.values():
        base_hexes[info.hex] = True
    missing = [name for name, lat, lon in AIR_BASES if not (base_hexes & near(ctx, lat, lon)).any()]
    assert not missing, f"air bases missing: {missing}"
    assert all(b.role for b in ctx.scenario.air_bases), "every air base says its role"
    rail = (ctx.rail_initial != 0).any(axis=1)
    off = [name for name, lat, lon in RAIL_STATIONS if not (rail & near(ctx, lat, lon)).any()]
    assert not off, f"stations off the railways: {off}"
    assert (ctx.rail_initial == EDGE_BROKEN).any() and (ctx.rail_initial == EDGE_INTACT).any()
    nanning = near(ctx, 22.79, 108.30, 0)
    assert not rail[nanning].any() and ctx.road[nanning].any(), "Liuzhou-Nanning is road only"


def men(units) -> int:
    return sum(u.strength for u in units)


def test_orders_of_battle(ctx):
    s = ctx.scenario
    henan = np.zeros(ctx.n, dtype=bool)
    lat, lon = ctx.hm.projection.xy_to_latlon(ctx.hm.x_km, ctx.hm.y_km)
    henan = (lat > 31.4) & (lat < 36.4) & (lon > 110.3) & (lon < 116.7)
    japan_start = [u for u in s.units if u.side == "japan"]
    in_henan = [u for u in japan_start if henan[_hex(ctx, u)]]
    assert 120_000 <= men(in_henan) <= 185_000, men(in_henan)
    south = lat < 31.6
    later = [u for r in s.reinforcements if r.date <= dt.date(1944, 6, 30) for u in r.units if u.side == "japan"
             and south[_at(ctx, r.at)]]
    hunan = men([u for u in japan_start if south[_hex(ctx, u)]]) + men(later)
    assert 250_000 <= hunan <= 480_000, hunan
    assert any(u.puppet for u in s.units), "puppet units"
    china = [u for u in s.units if u.side == "china"]
    assert len(china) >= 30 and men(china) >= 600_000
    assert any(r.date >= dt.date(1944, 11, 15) and r.units[0].side == "china" for r in s.reinforcements), \
        "ALPHA / Burma reinforcements in December"


def _hex(ctx, u) -> int:
    if u.hex is not None:
        return ctx.hm.index(*u.hex)
    return _at(ctx, u.at)


def _at(ctx, at) -> int:
    return ctx.place_hex[at] if isinstance(at, str) else int(ctx.hm.latlon_to_index(*at))


def test_modifiers(ctx):
    s = ctx.scenario
    assert s.supply.sea_lanes_open.get("japan") is False
    famine = [r for r in s.regions if r.kind == "famine"]
    assert famine and ctx.region_mask[famine[0].id][near(ctx, 34.75, 113.63, 0)].all()
    assert any(r.kind == "communist_base" and "japan" in r.effects for r in s.regions)
    capital = [p for p in s.map.places if p.capital]
    assert capital and abs(capital[0].at[0] - 29.56) < 0.3
    assert any(sd.place == capital[0].id and sd.captured_by == "japan" for sd in s.victory.sudden_death)


def test_events_with_dates_sources_and_effects(ctx):
    by_date = {e.date: e for e in ctx.scenario.events if e.date}
    for day, what in ((dt.date(1944, 7, 22), "Dixie"), (dt.date(1944, 12, 8), "Hurley")):
        assert day in by_date, what
    leyte = [e for e in ctx.scenario.events if e.date and dt.date(1944, 10, 23) <= e.date <= dt.date(1944, 10, 26)]
    assert leyte and any(f.type == "reinforcements_stop" and f.side == "japan" for e in leyte for f in e.effects)
    burma = [e for e in ctx.scenario.events if e.date and dt.date(1944, 8, 3) <= e.date <= dt.date(1944, 8, 31)]
    assert burma and any(f.type == "supply" and f.side == "china" for e in burma for f in e.effects)
    assert all(e.source for e in ctx.scenario.events), "every event names its source"


def test_victory_and_history(ctx):
    v = ctx.scenario.victory
    assert v.corridor is not None and v.corridor.side == "japan"
    assert any(near(ctx, 39.9, 116.4, 1)[ctx.place_hex[p]] for p in v.corridor.from_)
    assert any(near(ctx, 21.85, 106.76, 2)[ctx.place_hex[p]] for p in v.corridor.to)
    assert v.air_base_points > 0 and v.track_points
    marks = ctx.scenario.history
    places = {p.id: p for p in ctx.scenario.map.places}
    for name, lat, lon in CAPTURES:
        hit = [h for h in marks if h.kind == "capture" and near(ctx, lat, lon)[ctx.place_hex[h.place]]]
        assert hit, f"history benchmark for the fall of {name}"
    assert any(h.kind == "corridor" for h in marks)
    assert sum(h.kind == "losses" for h in marks) >= 3
    assert places


def test_variants_ask_a_question_and_extend_the_base():
    assert len(VARIANTS) >= 5
    for v in VARIANTS:
        text = v.read_text()
        assert "extends: ichigo_1944.yaml" in text
        header = "".join(line for line in text.splitlines()[:12] if line.startswith("#"))
        assert "?" in header, f"{v.name}: the header states its question"


@pytest.mark.slow
def test_a_whole_game_runs_to_a_verdict(ctx):
    game = Game.new(ctx, 1)
    play_game(game, {s: RandomPlayer(seed=k, end_bias=0.6) for k, s in enumerate(ctx.sides)})
    assert game.over
    if game.state.result["reason"] == "end":  # played to the last turn
        assert game.state.turn == ctx.turns
    else:  # or stopped early by a sudden-death condition
        assert game.state.result["reason"] == "sudden death" and game.state.turn <= ctx.turns
    assert game.state.result["explanation"]


@pytest.mark.slow
def test_the_sea_lanes_variant_keeps_the_sea_open_through_leyte():
    """The blockade what-if: with the sea open all year, Leyte still stops the new division but
    not the ports, the drafts by sea or the November replacement drafts (the base closes all)."""
    from game.rules.actions import EndPhase
    states = {}
    for path in (BASE, ROOT / "scenarios" / "whatif_sea_lanes_open.yaml"):
        ctx = load_context(path)
        game = Game.new(ctx, 0)
        while not game.over and ctx.turn_date(game.state.turn) < dt.date(1944, 11, 27):
            game.apply(EndPhase())
        assert "leyte_gulf" in game.state.fired
        states[path.stem] = game.state
    base, sea = states["ichigo_1944"], states["whatif_sea_lanes_open"]
    assert base.sea_lanes["japan"] is False and sea.sea_lanes["japan"] is True
    assert base.replacement_factor["japan"] == 0.4 and sea.replacement_factor["japan"] == 1.0
    assert sea.supply_range_factor["japan"] > base.supply_range_factor["japan"]
    for draft in ("jp_draft_11a", "jp_draft_23a"):
        assert draft not in base.units and draft in sea.units
    assert "jp_new_div_1945" not in base.units and "jp_new_div_1945" not in sea.units


@pytest.mark.slow
def test_the_sea_lanes_variant_fuels_the_5th_air_army():
    """Fuel by sea: Hankou and Canton reach further, and the forward field at Hengyang opens the
    phase the Japanese take the airfield (played by the default AIs, which take it by August)."""
    from game.ai import make_players
    base_ctx, ctx = load_context(BASE), load_context(ROOT / "scenarios" / "whatif_sea_lanes_open.yaml")
    for bid in ("jab_hankou", "jab_canton"):
        assert ctx.air_bases[bid].cover.sum() > base_ctx.air_bases[bid].cover.sum()
    assert "jab_hengyang" not in base_ctx.air_bases
    field = ctx.air_bases["jab_hengyang"]
    assert field.hex == ctx.place_hex["hengyang_airfield"] and field.side == ctx.side_index["japan"]
    game = Game.new(ctx, 1000)
    assert game.state.air_active["jab_hengyang"] is False
    players = make_players(ctx, {}, 1000)
    japan = ctx.side_index["japan"]
    while game.state.owner.get("hengyang_airfield") != japan:
        assert ctx.turn_date(game.state.turn) < dt.date(1944, 9, 1), "the AI did not take Hengyang airfield"
        assert not game.state.air_active["jab_hengyang"]
        game.apply(players[game.side_to_move()].choose(game, game.legal_actions()))
    assert game.state.air_active["jab_hengyang"] and "jp_air_forward_hengyang" in game.state.fired
    assert "ab_hengyang" in game.state.air_destroyed  # the Chinese base there is gone
