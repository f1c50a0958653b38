"""The balance runner (game.balance.runner) and scenario overrides (game.scenario.overrides).

The same seeds must give the same records whatever plays them (this process, a process pool, a
Dask cluster); a game that crashes leaves a crash file whose actions replay from its seed to the
state it crashed in, and the batch goes on; a sequential test stops as soon as it decides."""

from __future__ import annotations

import io
import json

import pytest

from conftest import EXAMPLE
from game.balance import runner
from game.balance.stats import SPRT
from game.cache import BoundedCache
from game.diagnostics import InputError
from game.rules.context import load_context
from game.rules.players import PLAYERS, SimplePlayer
from game.rules.saves import replay
from game.scenario.loader import load_scenario
from game.scenario.overrides import OverrideError, apply_overrides

NO_FAMINE = EXAMPLE.parent / "henan_1944_no_famine.yaml"
PROFILES = {"japan": "simple", "china": "random"}
SEEDS = range(3)


def variants(profiles: dict[str, str] = PROFILES) -> list[runner.Variant]:
    return [runner.Variant("base", str(EXAMPLE), profiles), runner.Variant("no_famine", str(NO_FAMINE), profiles)]


def hashes(batch: runner.Batch) -> dict[tuple[str, int], str]:
    return {(r["variant"], r["seed"]): r["state_hash"] for r in batch.records}


@pytest.fixture(scope="module")
def in_process() -> runner.Batch:
    return runner.run_batch(variants(), SEEDS, runner.InProcessBackend())


@pytest.mark.slow
def test_in_process_batch_plays_every_variant_on_every_seed_in_order(in_process):
    assert not in_process.crashes and not in_process.interrupted
    assert [(o.job.variant.name, o.job.seed) for o in in_process.outcomes] == \
        [(v, s) for v in ("base", "no_famine") for s in SEEDS]
    for r in in_process.records:
        assert r["players"] == PROFILES and r["state_hash"]
    # paired by seed: the variants really differ, the seeds of a variant too
    assert len(set(hashes(in_process).values())) == 2 * len(SEEDS)


@pytest.mark.slow
def test_process_pool_gives_the_same_records(in_process):
    pooled = runner.run_batch(variants(), SEEDS, runner.PoolBackend(2))
    assert [(o.job.variant.name, o.job.seed) for o in pooled.outcomes] == \
        [(o.job.variant.name, o.job.seed) for o in in_process.outcomes]
    assert hashes(pooled) == hashes(in_process)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_records(in_process):
    distributed = pytest.importorskip("distributed", reason="needs Dask distributed: pip install -e '.[cluster]'")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        backend = runner.DaskBackend(cluster.scheduler_address)
        assert backend.slots == 2
        clustered = runner.run_batch(variants(), SEEDS, backend)
    assert hashes(clustered) == hashes(in_process)


# -- crashes ----------------------------------------------------------------------------------

CRASH_AFTER = 7


class CrashingPlayer(SimplePlayer):
    """Plays like 'simple' but raises at its 8th decision in games with an odd seed."""

    name = "crashing"

    def __init__(self, seed: int = 0):
        super().__init__(seed)
        self.decisions = 0

    def choose(self, game, actions):
        self.decisions += 1
        if game.state.seed % 2 and self.decisions > CRASH_AFTER:
            raise RuntimeError("the crashing player gives up")
        return super().choose(game, actions)


def register_crashing_player() -> None:
    """Worker setup: make the 'crashing' profile known (in a pool worker or this process)."""
    PLAYERS["crashing"] = CrashingPlayer


@pytest.fixture
def crashing_profile(monkeypatch):
    monkeypatch.setitem(PLAYERS, "crashing", CrashingPlayer)


def check_crashes(batch: runner.Batch, crash_dir) -> None:
    """Seeds 1 and 3 crashed, 0 and 2 finished; each crash file replays to the crashed state."""
    assert sorted(r["seed"] for r in batch.records) == [0, 2]
    assert sorted(c["seed"] for c in batch.crashes) == [1, 3]
    files = sorted(p.name for p in crash_dir.iterdir())
    assert files == ["base-seed1.json", "base-seed3.json"]
    ctx = load_context(EXAMPLE)
    for name in files:
        crash = json.loads((crash_dir / name).read_text())
        assert crash["variant"] == "base" and crash["players"] == {"japan": "crashing", "china": "simple"}
        assert crash["exception"] == "RuntimeError" and crash["message"] == "the crashing player gives up"
        assert "Traceback" in crash["traceback"]
        assert crash["scenario"] == str(EXAMPLE) and crash["overrides"] == {}
        assert len(crash["actions"]) >= CRASH_AFTER
        game = replay(ctx, crash["seed"], crash["actions"])
        assert game.state.state_hash() == crash["state_hash"]
        assert game.state.turn == crash["turn"]


def test_a_crash_is_written_with_its_actions_and_the_batch_goes_on(crashing_profile, tmp_path):
    crash_dir = tmp_path / "crashes"
    log = io.StringIO()
    collect = runner.Collector(crash_dir, runner.Progress(4, stream=log, tty=False))
    batch = runner.run_batch([runner.Variant("base", str(EXAMPLE), {"japan": "crashing", "china": "simple"})],
                             range(4), runner.InProcessBackend(), collect)
    check_crashes(batch, crash_dir)
    assert log.getvalue().splitlines()[-1].endswith("2 crashed")


@pytest.mark.slow
def test_a_crash_in_a_pool_worker_is_written_the_same_way(tmp_path):
    crash_dir = tmp_path / "crashes"
    batch = runner.run_batch([runner.Variant("base", str(EXAMPLE), {"japan": "crashing", "china": "simple"})],
                             range(4), runner.PoolBackend(2, setup=register_crashing_player),
                             runner.Collector(crash_dir))
    check_crashes(batch, crash_dir)


# -- the sequential test --------------------------------------------------------------------

@pytest.mark.slow
def test_sprt_stops_early_on_a_large_effect():
    # Japan scoring a point per point of Communist prestige (about 28 a game) raises its score in
    # every pair: the test says "up" after a dozen pairs
    path = "victory.track_points.communist_prestige"
    simple = {"japan": "simple", "china": "simple"}
    arms = [runner.Variant(f"{path}={v}", str(EXAMPLE), simple, {path: v}) for v in (0, 1)]
    test = SPRT()
    batch = runner.run_sprt(arms[0], arms[1], range(100, 140), runner.InProcessBackend(), test)
    assert test.decision == "up"
    assert batch.pairs_used is not None and batch.pairs_used < 40
    assert test.n == batch.pairs_used
    # only the pairs fed to the test are kept, in seed order
    assert [(o.job.variant.name, o.job.seed) for o in batch.outcomes] == \
        [(a.name, s) for a in arms for s in range(100, 100 + batch.pairs_used)]


@pytest.mark.slow
def test_sprt_buffers_pairs_that_finish_out_of_order():
    class Recorder:
        decision = None

        def __init__(self):
            self.diffs: list[float] = []

        def update(self, diff: float) -> None:
            self.diffs.append(diff)

    class Reversed(runner.InProcessBackend):
        """Runs the most recently submitted job first."""

        def wait_any(self, pending):
            future = next(f for f in reversed(list(self._queue)) if f in pending)
            future.set_result(runner.run_job(self._queue.pop(future)))
            return [future]

    arms = variants({"japan": "simple", "china": "simple"})
    test = Recorder()
    batch = runner.run_sprt(arms[0], arms[1], range(4), Reversed(), test)
    scores = {(r["variant"], r["seed"]): r["score"] for r in batch.records}
    assert test.diffs == [scores["no_famine", s] - scores["base", s] for s in range(4)]
    assert batch.pairs_used == 4


# -- progress -------------------------------------------------------------------------------

def test_progress_line_format_and_plain_log_every_tenth():
    now = [0.0]
    log = io.StringIO()
    bar = runner.Progress(400, stream=log, tty=False, clock=lambda: now[0])
    for k in range(137):
        now[0] = (k + 1) / 2.1
        bar.update()
    assert bar.line() == "balance  137/400 games  34%  [#######.............]  2.1 games/s  ETA 2m05s"
    assert len(log.getvalue().splitlines()) == 3  # at 10%, 20% and 30%
    now[0] += 31  # a quiet spell: a line after 30 s even without another tenth
    bar.update()
    assert len(log.getvalue().splitlines()) == 4
    tty = io.StringIO()
    bar = runner.Progress(3, stream=tty, tty=True, clock=lambda: now[0])
    bar.update()
    bar.update(crashed=True)
    bar.close()
    assert tty.getvalue().count("\r") == 2 and tty.getvalue().endswith("1 crashed\n")
    quiet = io.StringIO()
    bar = runner.Progress(3, stream=quiet, enabled=False)
    bar.update()
    bar.close()
    assert quiet.getvalue() == ""


def test_duration_text():
    assert [runner.duration_text(s) for s in (5, 125, 3725)] == ["5s", "2m05s", "1h02m"]


def test_games_csv_columns_are_stable(in_process, tmp_path):
    runner.write_games_csv(tmp_path / "games.csv", in_process.records)
    lines = (tmp_path / "games.csv").read_text().splitlines()
    head = lines[0].split(",")
    assert head[:4] == ["variant", "seed", "player_japan", "player_china"] and head[-1] == "state_hash"
    for column in ("losses_japan", "losses_china_famine", "track_communist_prestige", "bench_h_luoyang",
                   "corridor_opened", "air_bases_destroyed"):
        assert column in head
    assert len(lines) == 1 + len(in_process.records)
    assert runner.csv_columns(list(reversed(in_process.records))) == head


# -- overrides --------------------------------------------------------------------------------

def load_raw():
    result = load_scenario(EXAMPLE)
    assert result.ok
    return result.raw


def test_overrides_by_id_by_index_and_a_format_default():
    raw = load_raw()
    out = apply_overrides(raw, {"regions.henan_famine.effects.china.attrition_per_turn": 0.05,
                                "units.0.strength": 17000, "rules.combat.rout_loss": 0.2,
                                "victory.track_points.communist_prestige": 0.5})
    assert out["regions"][0]["effects"]["china"]["attrition_per_turn"] == 0.05
    assert out["units"][0]["strength"] == 17000
    assert out["rules"]["combat"]["rout_loss"] == 0.2
    assert out["victory"]["track_points"] == {"communist_prestige": 0.5}
    # the input is untouched, and the rest of the document keeps its positions
    assert raw["regions"][0]["effects"]["china"]["attrition_per_turn"] == 0.01
    assert "rout_loss" not in raw["rules"]["combat"]
    assert out["units"].item_pos[1] == raw["units"].item_pos[1]
    assert out["units"][0].val_pos["strength"].file == "<override units.0.strength>"
    ctx = load_context(EXAMPLE, {"units.jp_37_div.strength": 20000, "rules.combat.rout_loss": 0.2})
    assert ctx.unit_specs["jp_37_div"].strength == 20000 and ctx.rules.combat.rout_loss == 0.2


@pytest.mark.parametrize("path, message", [
    ("regions.henan_famin.effects.china.attrition_per_turn",
     "no item with id 'henan_famin' in regions; did you mean 'henan_famine'?"),
    ("rules.combat.rout_los", "no key 'rout_los' in rules.combat; did you mean 'rout_loss'?"),
    ("unitz.jp_37_div.strength", "no key 'unitz' in the scenario; did you mean 'units'?"),
    ("units.99.strength", "units has 11 item(s), so there is no item 99"),
    ("meta.turns.max", "meta.turns is a single value (8)"),
    ("units..strength", "empty segment"),
])
def test_a_bad_override_path_names_the_first_bad_segment(path, message):
    with pytest.raises(OverrideError) as info:
        apply_overrides(load_raw(), {path: 1})
    assert message in str(info.value)
    # through the loader it is a diagnostic like any other
    with pytest.raises(InputError) as loaded:
        load_context(EXAMPLE, {path: 1})
    assert message in str(loaded.value)


def test_a_bad_override_value_gives_the_validation_error():
    with pytest.raises(InputError) as info:
        load_context(EXAMPLE, {"units.jp_37_div.strength": -5})
    [d] = info.value.diagnostics
    assert d.pos.file == "<override units.jp_37_div.strength>"
    assert "units[jp_37_div].strength" in d.message and "-5" in d.message
    with pytest.raises(InputError, match="unknown place 'atlantis'"):
        load_context(EXAMPLE, {"units.jp_37_div.at": "atlantis"})


def test_overrides_apply_after_extends():
    ctx = load_context(NO_FAMINE, {"units.cn_new.strength": 9000})  # a unit the variant adds
    assert ctx.unit_specs["cn_new"].strength == 9000
    with pytest.raises(InputError, match="no item with id 'cn_36_group'"):  # one the variant removes
        load_context(NO_FAMINE, {"units.cn_36_group.strength": 9000})


def test_a_variant_loads_once_per_worker(monkeypatch):
    loads = []
    real = runner.load_context
    monkeypatch.setattr(runner, "load_context", lambda path, ov: loads.append(path) or real(path, ov))
    monkeypatch.setattr(runner, "_CONTEXTS", BoundedCache("test", 2))
    v = runner.Variant("x", str(EXAMPLE), {"japan": "random", "china": "random"}, {"rules.combat.rout_loss": 0.3})
    assert runner.context_for(v) is runner.context_for(v)
    assert loads == [str(EXAMPLE)]
    for k in range(3):  # the cache is bounded: the oldest variant goes first
        runner.context_for(runner.Variant(f"v{k}", str(EXAMPLE), {"japan": "random", "china": "random"},
                                          {"rules.combat.rout_loss": 0.1 * k}))
    assert len(runner._CONTEXTS) == 2
