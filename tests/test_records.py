"""The scenario as records (game.scenario.records): the rules run on plain frozen objects that
mirror the pydantic models field for field, so a start-up from the compiled cache imports neither
pydantic nor YAML; AI profiles are kept the same way."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from game.ai.profile import load_profile
from game.rules.context import load_context
from game.scenario import compiled, model, records
from game.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
ICHIGO = ROOT / "scenarios" / "ichigo_1944.yaml"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(compiled.ENV, str(folder))
    return folder


def _scenario():
    result = load_scenario(ICHIGO)
    assert result.scenario is not None
    return result.scenario


def _walk(obj, path="scenario"):
    """Every (path, object) pair of a model tree."""
    yield path, obj
    fields = obj.__dict__ if isinstance(obj, records.Record) else getattr(type(obj), "model_fields", None)
    if isinstance(fields, dict):
        for k in fields:
            yield from _walk(getattr(obj, k), f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _walk(v, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, f"{path}[{k!r}]")


def test_a_frozen_scenario_has_every_field_and_set_of_the_model():
    scenario = _scenario()
    frozen = records.freeze(scenario)
    assert not isinstance(frozen, model.Strict)
    assert frozen.model_dump(mode="json", by_alias=True) == scenario.model_dump(mode="json", by_alias=True)
    pairs = dict(_walk(frozen))
    count = 0
    for path, obj in _walk(scenario):
        if isinstance(obj, model.Strict):
            rec = pairs[path]
            assert isinstance(rec, records.Record) and type(rec).__name__ == type(obj).__name__, path
            assert rec.model_fields_set == obj.model_fields_set, path
            count += 1
    assert count > 500  # the walk went through the whole scenario
    # the methods the rules call give the same on both
    assert frozen.ledger_causes() == scenario.ledger_causes()
    assert frozen.meta.end_date() == scenario.meta.end_date()
    assert frozen.rules.combat.odds_values() == scenario.rules.combat.odds_values()
    for region in scenario.regions:
        assert frozen.region_loss_cause(records.freeze(region)) == scenario.region_loss_cause(region)
    assert frozen.region_kind("no_such_kind") == records.freeze(scenario.region_kind("no_such_kind"))


def test_records_are_frozen_compared_by_value_and_pickled():
    frozen = records.freeze(_scenario())
    with pytest.raises(AttributeError):
        frozen.meta.turns = 3  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(frozen))
    assert again == frozen and again is not frozen
    assert again.model_dump(mode="json") == frozen.model_dump(mode="json")
    side = frozen.meta.sides[0]
    assert hash(side) == hash(pickle.loads(pickle.dumps(side)))
    assert side.model_copy(update={"name": "x"}).name == "x" and side.name != "x"


def test_a_record_made_with_defaults_is_the_models_default():
    assert records.make("AIPlan") == records.freeze(model.AIPlan())
    assert records.make("RegionKind", id="k", name="K") == records.freeze(model.RegionKind(id="k", name="K"))
    assert records.make("AIPlan").model_fields_set == model.AIPlan().model_fields_set
    with pytest.raises(TypeError):
        records.make("RegionKind")  # id and name are required
    with pytest.raises(TypeError):
        records.make("AIPlan", no_such_field=1)


def test_a_context_runs_on_records_whether_validated_or_read_back(cache):
    first = load_context(ICHIGO)
    second = load_context(ICHIGO)
    for ctx in (first, second):
        assert isinstance(ctx.scenario, records.Record)
        assert all(isinstance(u, records.Record) for u in ctx.unit_specs.values())
    assert first.content_hash == second.content_hash
    assert json.dumps(first.scenario.model_dump(mode="json"), sort_keys=True) == \
        json.dumps(second.scenario.model_dump(mode="json"), sort_keys=True)


CHILD = """
import sys
from game.rules.context import load_context
from game.rules.engine import Game
from game.ai import make_players
ctx = load_context(sys.argv[1])
game = Game.new(ctx, 1)
players = make_players(ctx, {}, 1)
action = players[game.side_to_move()].choose(game, game.legal_actions())
game.apply(action)
print(" ".join(m for m in ("pydantic", "yaml", "game.scenario.model", "game.ai.profile_model") if m in sys.modules))
"""


def test_a_start_from_the_cache_imports_neither_pydantic_nor_yaml(cache):
    import os

    env = {**os.environ, compiled.ENV: str(cache)}

    def run() -> str:
        out = subprocess.run([sys.executable, "-c", CHILD, str(ICHIGO)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert "pydantic" in run()  # the first run validates the scenario and the profiles
    assert run() == ""  # the second reads both back


def test_a_profile_is_read_back_until_its_file_changes(cache, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("extends: default\naggression: 0.9\n")
    first = load_profile(str(path))
    assert isinstance(first, records.Record) and first.aggression == 0.9 and first.name == "mine"
    assert load_profile(str(path)) == first
    assert len(list(cache.glob("*.entry"))) == 1
    path.write_text("extends: default\naggression: 0.2\n")
    assert load_profile(str(path)).aggression == 0.2
    base = load_profile("default").model_dump()
    mine = load_profile(str(path)).model_dump()
    same = [k for k in base if k not in ("name", "description", "extends", "aggression")]
    assert len(same) > 20 and all(mine[k] == base[k] for k in same)
