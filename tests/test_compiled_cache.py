"""The compiled-scenario cache (game.scenario.compiled): a second load of an unchanged scenario
skips validation and gives the same context; any change to its files, its overrides or the entry
itself makes a full load."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from game.diagnostics import InputError
from game.rules.context import load_context
from game.rules.engine import Game
from game.rules.players import RandomPlayer, play_game
from game.scenario import compiled

EXAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "examples" / "henan_1944.yaml"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(compiled.ENV, str(folder))
    return folder


@pytest.fixture
def no_validation(monkeypatch):
    """Make a full load fail, so a load that succeeds came from the cache."""
    import game.scenario.validate as validate

    def refuse(*args, **kwargs):
        raise AssertionError("validated instead of read from the cache")

    def arm():
        monkeypatch.setattr(validate, "validate_file", refuse)
    return arm


def _variant(tmp_path):
    """A variant and its base in their own folder (files the test may edit)."""
    folder = tmp_path / "scen"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "base.yaml")
    (folder / "variant.yaml").write_text("extends: base.yaml\nmeta:\n  id: cache_variant\n")
    return folder / "base.yaml", folder / "variant.yaml"


def _final_hash(ctx, seed=3):
    g = Game.new(ctx, seed)
    play_game(g, {s: RandomPlayer(seed=seed * 7 + k, end_bias=0.2) for k, s in enumerate(ctx.sides)})
    return g.state.state_hash()


def test_second_load_is_read_back_and_plays_the_same(cache, no_validation):
    first = load_context(EXAMPLE)
    assert len(list(cache.glob("*.entry"))) == 1
    no_validation()
    second = load_context(EXAMPLE)
    assert second.content_hash == first.content_hash
    assert second.n == first.n and second.sides == first.sides
    assert _final_hash(second) == _final_hash(first)


def test_same_game_with_the_cache_off(cache, monkeypatch):
    cached = load_context(EXAMPLE)
    cached = load_context(EXAMPLE)  # from the cache
    monkeypatch.setenv(compiled.ENV, "off")
    fresh = load_context(EXAMPLE)
    assert _final_hash(cached) == _final_hash(fresh)
    assert compiled.folder() is None


def test_changed_base_is_a_miss(cache, tmp_path):
    base, variant = _variant(tmp_path)
    before = load_context(variant)
    text = base.read_text()
    assert "stacking: {max_units: 3}" in text
    base.write_text(text.replace("stacking: {max_units: 3}", "stacking: {max_units: 4}", 1))
    after = load_context(variant)
    assert before.rules.stacking.max_units == 3 and after.rules.stacking.max_units == 4


def test_overrides_have_their_own_entries(cache):
    plain = load_context(EXAMPLE)
    changed = load_context(EXAMPLE, {"rules.stacking.max_units": 4})
    assert plain.rules.stacking.max_units == 3 and changed.rules.stacking.max_units == 4
    assert load_context(EXAMPLE).rules.stacking.max_units == plain.rules.stacking.max_units
    assert len(list(cache.glob("*.entry"))) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "writable by others", "not a file"])
def test_damaged_or_foreign_entry_is_a_miss(cache, damage):
    load_context(EXAMPLE)
    (entry,) = cache.glob("*.entry")
    if damage == "garbage":
        entry.write_bytes(b"not a cache entry at all")
    elif damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:1000])
    elif damage == "writable by others":
        os.chmod(entry, 0o666)
    else:
        entry.unlink()
        entry.mkdir()
    assert compiled.load(EXAMPLE) is None
    ctx = load_context(EXAMPLE)  # a full load, as if there were no cache
    assert ctx.n > 0


def test_a_load_that_fails_is_not_kept(cache, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("meta: {id: x}\n")
    with pytest.raises(InputError):
        load_context(bad)
    assert not cache.exists() or not list(cache.glob("*.entry"))


def test_unwritable_folder_still_loads(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv(compiled.ENV, str(blocker / "cache"))  # below a file: cannot be made
    assert load_context(EXAMPLE).n > 0
    assert load_context(EXAMPLE).n > 0


def test_the_folder_keeps_the_last_entries(cache, monkeypatch, tmp_path):
    monkeypatch.setattr(compiled, "MAX_ENTRIES", 2)
    for k in range(4):
        load_context(EXAMPLE, {"rules.stacking.max_units": k + 3})
    assert len(list(cache.glob("*.entry"))) == 2
    assert oct(cache.stat().st_mode & 0o777) == oct(0o700)


def test_an_entry_reads_back_equal_and_holds_only_data(cache):
    """The entry format gives back the same records, map and arrays; anything else in it (an
    unknown tag or class, an object array) is refused, and a pickle is not even read."""
    import numpy as np

    from game.scenario import records

    ctx = load_context(EXAMPLE)
    (entry,) = cache.glob("*.entry")
    payload = compiled.load(EXAMPLE)
    frozen, scenario_map, content_hash, _table = payload
    assert content_hash == ctx.content_hash and frozen == records.freeze(ctx.scenario)
    assert np.array_equal(scenario_map.terrain, ctx.map.terrain) and scenario_map.terrain.flags.writeable
    assert scenario_map.hexmap.n == ctx.n and scenario_map.place_hex == ctx.map.place_hex
    assert compiled.decode(compiled.encode(payload))[0] == frozen
    for forged in ({"o": ["Popen", []]}, {"x": 1}, {"r": ["_Private", [], []]}, {"a": ["|O", [1], 0, 8]}):
        with pytest.raises((ValueError, KeyError, TypeError, AttributeError)):
            compiled.decode(compiled.MAGIC + len(str(forged).replace("'", '"')).to_bytes(8, "big")
                            + str(forged).replace("'", '"').encode() + b"\0" * 8)
    with pytest.raises(ValueError):
        compiled.encode({"f": open})  # not data: such a load is not kept
    marker = cache.parent / "ran"
    evil = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."  # a pickle that runs a command
    entry.write_bytes(evil)
    os.chmod(entry, 0o600)
    assert compiled.load(EXAMPLE) is None and not marker.exists()
