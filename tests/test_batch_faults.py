"""Batches that survive faults (issue 17 §3): the journal of finished games (games.jsonl, appended
as each game ends), Ctrl-C and SIGTERM, --resume, a pool worker killed mid-game, the batch's
process killed (no orphaned workers), and output folders that hold a batch already, cannot be
written or fill up.

Fast tests play tiny batches in this process (random players, about 0.1 s a game) or on a pool of
two; the tests that kill real processes of the command line are marked slow."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT
from game import atomic, cli
from game.balance import runner
from game.rules.players import PLAYERS, SimplePlayer

NO_FAMINE = EXAMPLE.parent / "henan_1944_no_famine.yaml"
RANDOM = ["--player", "random"]
TIMING = ("seconds",)  # record fields that depend on timing, not on the game


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def journal(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "games.jsonl").read_text().splitlines()]


def untimed(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in records]


def statistics(report: object) -> object:
    """A report without its run details (meta: start time, resumed or not) and the statistics of
    the games' timing (seconds), which differ from one run to the next."""
    if isinstance(report, dict):
        return {k: statistics(v) for k, v in report.items() if k not in ("meta", "seconds", "seconds_total")}
    if isinstance(report, list):
        return [statistics(v) for v in report]
    return report


def interrupt_at(monkeypatch, n: int, signum: int = signal.SIGINT) -> list:
    """Make the in-process batch send `signum` to this process as its game n+1 starts."""
    played: list = []
    real = runner.run_job

    def job(j):
        if len(played) == n:
            os.kill(os.getpid(), signum)  # the batch's handler stops it here
        played.append(j)
        return real(j)

    monkeypatch.setattr(runner, "run_job", job)
    return played


# -- 1. the journal --------------------------------------------------------------------------

def test_each_game_is_in_games_jsonl_as_soon_as_it_ends(capsys, tmp_path, monkeypatch):
    out = tmp_path / "run"
    seen: list[int] = []
    real = runner.run_job

    def job(j):  # at the start of each game, every game before it is already on disk
        path = out / "games.jsonl"
        seen.append(len(path.read_text().splitlines()))
        return real(j)

    monkeypatch.setattr(runner, "run_job", job)
    code, _, err = run(capsys, "balance", EXAMPLE, NO_FAMINE, "--games", "2", "--workers", "1", "-q",
                       "--out", out, *RANDOM)
    assert code == 0, err
    assert seen == [0, 1, 2, 3]
    # the final file is in (variant, seed) order, as before, where the journal was in play order
    assert [(r["variant"], r["seed"]) for r in journal(out)] == \
        [("base", 0), ("base", 1), ("henan_1944_no_famine", 0), ("henan_1944_no_famine", 1)]
    assert json.loads((out / "batch.json").read_text())["arguments"]["games"] == 2


def test_a_league_journals_each_game_with_its_players(capsys, tmp_path, monkeypatch):
    out = tmp_path / "league"
    lines: list[list[dict]] = []
    real = runner.run_job

    def job(j):
        lines.append([json.loads(x) for x in (out / "games.jsonl").read_text().splitlines()])
        return real(j)

    monkeypatch.setattr(runner, "run_job", job)
    code, _, err = run(capsys, "league", EXAMPLE, "--players", "random,simple", "--games", "1", "--workers", "1",
                       "-q", "--out", out)
    assert code == 0, err
    assert [len(x) for x in lines] == [0, 1, 2, 3]
    assert lines[-1][0]["league"] == {"japan": "random", "china": "random"}  # labelled as it is written


def test_the_journal_never_ends_in_half_a_record(tmp_path, monkeypatch):
    path = tmp_path / "games.jsonl"
    j = runner.GamesJournal(path)
    j.append({"variant": "base", "seed": 0})
    real = runner._write_all

    def half_then_full(fd, data):
        real(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(runner, "_write_all", half_then_full)
    with pytest.raises(runner.OutputError, match="No space left on device"):
        j.append({"variant": "base", "seed": 1})
    j.close()
    assert path.read_text() == '{"variant":"base","seed":0}\n'
    # a line cut short by a kill is left out when the journal is read back
    path.write_text(path.read_text() + '{"variant":"base","se')
    assert runner.read_games(path) == ([{"variant": "base", "seed": 0}], 1)


# -- 2. Ctrl-C and SIGTERM -------------------------------------------------------------------

@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_batch_and_writes_what_finished(capsys, tmp_path, monkeypatch, signum, code):
    interrupt_at(monkeypatch, 3, signum)
    out = tmp_path / "stopped"
    got, stdout, err = run(capsys, "balance", EXAMPLE, "--games", "6", "--workers", "1", "-q", "--out", out, *RANDOM)
    assert got == code, err
    assert "Traceback" not in err
    name = signal.Signals(signum).name
    assert f"stopped by {name}: the batch is incomplete (3 of at most 6 games finished)" in err
    assert f"finish it with: python main.py balance --resume {out}" in err
    assert [r["seed"] for r in journal(out)] == [0, 1, 2]
    report = json.loads((out / "report.json").read_text())
    assert report["meta"]["interrupted"] is True and report["variants"]["base"]["n"] == 3
    assert (out / "games.csv").read_text().count("\n") == 4
    # the handlers are put back once the batch is over
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_signal_while_a_record_is_written_waits_for_the_write(tmp_path, monkeypatch):
    real = runner._write_all
    sent = []

    def write(fd, data):
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)  # arrives in the middle of writing the first record
        real(fd, data)

    monkeypatch.setattr(runner, "_write_all", write)
    with runner.GamesJournal(tmp_path / "games.jsonl") as j:
        collect = runner.Collector(journal=j)
        batch = runner.run_batch([runner.Variant("base", str(EXAMPLE), {"japan": "random", "china": "random"})],
                                 range(4), runner.InProcessBackend(), collect)
    assert batch.interrupted and batch.signal == signal.SIGTERM
    assert [r["seed"] for r in journal(tmp_path)] == [0]  # the record in writing was finished, then it stopped


# -- 3. resuming -----------------------------------------------------------------------------

BALANCE = ["balance", EXAMPLE, NO_FAMINE, "--games", "3", "--workers", "1", "-q", *RANDOM]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> Path:
    """A batch never interrupted: base and no_famine on seeds 0..2."""
    out = tmp_path_factory.mktemp("clean") / "run"
    assert cli.run([str(a) for a in BALANCE] + ["--out", str(out)]) == 0
    return out


def same_batch(a: Path, b: Path) -> None:
    assert untimed(journal(a)) == untimed(journal(b))
    assert statistics(json.loads((a / "report.json").read_text())) == \
        statistics(json.loads((b / "report.json").read_text()))
    assert (a / "games.csv").read_text().count("\n") == (b / "games.csv").read_text().count("\n")


def test_an_interrupted_batch_resumed_matches_one_never_interrupted(capsys, tmp_path, monkeypatch, clean_run):
    out = tmp_path / "run"
    interrupt_at(monkeypatch, 4)
    assert run(capsys, *BALANCE, "--out", out)[0] == 130
    assert len(journal(out)) == 4
    monkeypatch.undo()
    again: list = []
    real = runner.run_job
    monkeypatch.setattr(runner, "run_job", lambda j: again.append((j.variant.name, j.seed)) or real(j))
    code, stdout, err = run(capsys, "balance", "--resume", out, "--workers", "1", "-q")
    assert code == 0, err
    assert "resuming" in err and "4 of 6 games are finished; playing the other 2" in err
    assert again == [("base", 2), ("henan_1944_no_famine", 2)]  # only the missing games, on their seeds
    same_batch(clean_run, out)
    meta = json.loads((out / "report.json").read_text())["meta"]
    assert meta["resumed"]["games_kept"] == 4 and meta["games_played"] == 6 and meta["interrupted"] is False


def test_games_removed_from_the_journal_are_played_again(capsys, tmp_path, clean_run):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(clean_run, out)
    lines = (out / "games.jsonl").read_text().splitlines(keepends=True)
    # keep 1, 3 and 5; the last kept line cut short, as by a kill mid-write
    (out / "games.jsonl").write_text(lines[1] + lines[3] + lines[5][:40])
    code, _, err = run(capsys, "balance", "--resume", out, "--workers", "2", "-q")
    assert code == 0, err
    assert "1 line(s) that are not a whole game record were left out" in err
    same_batch(clean_run, out)


def test_a_league_resumed_matches_one_never_interrupted(capsys, tmp_path, monkeypatch):
    args = ["league", EXAMPLE, "--players", "random,simple", "--games", "2", "--workers", "1", "-q"]
    assert run(capsys, *args, "--out", tmp_path / "clean")[0] == 0
    interrupt_at(monkeypatch, 5, signal.SIGTERM)
    assert run(capsys, *args, "--out", tmp_path / "cut")[0] == 143
    monkeypatch.undo()
    code, _, err = run(capsys, "league", "--resume", tmp_path / "cut")
    assert code == 0, err
    assert untimed(journal(tmp_path / "clean")) == untimed(journal(tmp_path / "cut"))
    a, b = (json.loads((tmp_path / d / "league.json").read_text()) for d in ("clean", "cut"))
    assert statistics(a) == statistics(b)


def test_a_sequential_test_resumed_takes_the_same_pairs():
    class DecidesAtThree:
        def __init__(self):
            self.decision = None
            self.diffs: list[float] = []

        def update(self, diff):
            self.diffs.append(diff)
            if len(self.diffs) == 3:
                self.decision = "up"

    arms = [runner.Variant(n, str(p), {"japan": "random", "china": "random"})
            for n, p in (("base", EXAMPLE), ("nf", NO_FAMINE))]
    whole = runner.run_sprt(arms[0], arms[1], range(6), runner.InProcessBackend(), a := DecidesAtThree())
    # an earlier run that finished seeds 0, 1 and the base's game of seed 2 (and one game past the stop)
    done = [o for o in whole.outcomes if o.job.seed < 2 or (o.job.seed, o.job.variant.name) == (2, "base")]
    resumed = runner.run_sprt(arms[0], arms[1], range(6), runner.InProcessBackend(), b := DecidesAtThree(),
                              done=done)
    assert b.diffs == a.diffs and resumed.pairs_used == whole.pairs_used == 3
    assert untimed(resumed.records) == untimed(whole.records) and resumed.resumed == len(done)


@pytest.mark.parametrize("extra, message", [
    (["--games", "4"], "--games 4 contradicts the batch in {out}, which was started with --games 3"),
    (["--seed", "5"], "--seed 5 contradicts the batch"),
    (["--player", "simple"], "--player simple contradicts the batch in {out}, which was started with --player random"),
    (["--dice", "stream"], "--dice stream contradicts"),
    (["--sprt"], "--sprt contradicts the batch in {out}, which was started with no --sprt"),
    ([str(NO_FAMINE)], "SCENARIO"),
    (["--out", "elsewhere"], "name two folders"),
])
def test_a_resume_that_contradicts_the_stored_run_is_refused(capsys, tmp_path, clean_run, extra, message):
    before = (clean_run / "games.jsonl").read_text()
    code, stdout, err = run(capsys, "balance", "--resume", clean_run, *extra)
    assert code == 1 and message.format(out=clean_run) in err and "Traceback" not in err, err
    assert (clean_run / "games.jsonl").read_text() == before


def test_a_resume_that_agrees_with_the_stored_run_is_taken(capsys, clean_run):
    # everything is finished: nothing is played, the report is written again
    code, _, err = run(capsys, "balance", EXAMPLE, NO_FAMINE, "--games", "3", "--player", "random",
                       "--resume", clean_run, "--workers", "1", "-q")
    assert code == 0, err
    assert "6 of 6 games are finished; playing the other 0" in err


def test_resume_refuses_a_folder_without_a_batch_or_of_the_other_command(capsys, tmp_path, clean_run):
    code, _, err = run(capsys, "balance", "--resume", tmp_path)
    assert code == 1 and "holds no batch to resume (there is no batch.json" in err
    code, _, err = run(capsys, "league", "--resume", clean_run)
    assert code == 1 and "holds a balance batch, not a league: finish it with 'python main.py balance --resume" in err
    code, _, err = run(capsys, "balance")
    assert code == 1 and "give the SCENARIO file (or --resume DIR" in err


def test_resume_refuses_a_scenario_changed_since_the_start(capsys, tmp_path):
    out = tmp_path / "run"
    code, _, err = run(capsys, "balance", EXAMPLE, "--games", "1", "--workers", "1", "-q", "--out", out, *RANDOM)
    assert code == 0, err
    description = json.loads((out / "batch.json").read_text())
    assert description["files"] == {str(EXAMPLE): runner.file_digest(EXAMPLE)}
    description["files"] = {k: "0" * 64 for k in description["files"]}  # as if the file had changed since
    (out / "batch.json").write_text(json.dumps(description))
    code, _, err = run(capsys, "balance", "--resume", out)
    assert code == 1 and "has changed since the batch" in err and "restore the file" in err


# -- 4. a worker killed mid-game -------------------------------------------------------------

IN_WORKER = [False]


class DyingPlayer(SimplePlayer):
    """Plays like 'simple', but in a pool worker, in the game of seed 1, kills its own process
    at its third decision (SIGKILL, or the signal DyingPlayer.signum names)."""

    signum = signal.SIGKILL

    def __init__(self, seed: int = 0):
        super().__init__(seed)
        self.decisions = 0

    def choose(self, game, actions):
        self.decisions += 1
        if IN_WORKER[0] and game.state.seed == 1 and self.decisions == 3:
            os.kill(os.getpid(), self.signum)
            time.sleep(5)
        return super().choose(game, actions)


class TermPlayer(DyingPlayer):
    signum = signal.SIGTERM


def register_dying_players() -> None:
    IN_WORKER[0] = True
    PLAYERS["dying"] = DyingPlayer
    PLAYERS["terming"] = TermPlayer


def pool_batch(tmp_path: Path, profile: str) -> tuple[runner.Batch, runner.PoolBackend]:
    backend = runner.PoolBackend(2, setup=register_dying_players)
    variant = runner.Variant("base", str(EXAMPLE), {"japan": profile, "china": "random"})
    return runner.run_batch([variant], range(5), backend, runner.Collector(tmp_path / "crashes")), backend


def test_a_killed_worker_costs_its_game_only_and_the_pool_is_rebuilt(tmp_path):
    batch, backend = pool_batch(tmp_path, "dying")
    assert sorted(r["seed"] for r in batch.records) == [0, 2, 3, 4]  # the games in flight with it were replayed
    [crash] = batch.crashes
    assert crash["seed"] == 1 and crash["exception"] == "WorkerDied"
    assert "died while playing this game (killed by SIGKILL)" in crash["message"]
    assert backend.rebuilds == 1 and batch.rebuilds == 1
    assert (tmp_path / "crashes" / "base-seed1.json").is_file()


def test_a_worker_that_dies_unpinned_is_found_by_playing_the_suspects_alone(tmp_path):
    # a worker ended by SIGTERM looks like the ones the broken pool ends itself: no game is pinned at once;
    # the games in flight are played again one at a time, and the one that breaks the pool alone is it
    batch, backend = pool_batch(tmp_path, "terming")
    assert sorted(r["seed"] for r in batch.records) == [0, 2, 3, 4]
    [crash] = batch.crashes
    assert crash["seed"] == 1 and "2 times, the last time alone on the pool" in crash["message"]
    assert backend.rebuilds == 2


# -- 5. the batch's process killed: no orphaned workers --------------------------------------

ORPHAN_SCRIPT = """
import multiprocessing, os, signal, sys, time
from game.balance import runner

def child(parent):
    runner.worker_init(None, parent)
    time.sleep(60)

if __name__ == "__main__":
    p = multiprocessing.get_context("fork").Process(target=child, args=(os.getpid(),))
    p.start()
    print(p.pid, flush=True)
    time.sleep(0.3)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def gone(pid: int) -> bool:
    """The process has ended (it may be a zombie nobody has reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_gone(pids, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if all(gone(p) for p in pids):
            return True
        time.sleep(0.1)
    return all(gone(p) for p in pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_exits_when_its_parent_is_killed_even_before_it_is_reaped(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        # the parent killed itself and nobody has reaped it: a zombie, whose pid still answers os.kill
        wait_for(lambda: gone(proc.pid), 10.0)
        assert wait_gone([child], 3.0), f"worker {child} outlived its parent"
    finally:
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


# -- 6 and 7. the output folder --------------------------------------------------------------

def test_a_folder_that_holds_a_batch_is_never_overwritten(capsys, tmp_path):
    for name in ("games.jsonl", "report.json", "league.json", "batch.json"):
        out = tmp_path / name.replace(".", "_")
        out.mkdir()
        (out / name).write_text("earlier results\n")
        for command in ("balance", "league"):
            code, stdout, err = run(capsys, command, EXAMPLE, "--games", "1", "--workers", "1", "--out", out,
                                    *(RANDOM if command == "balance" else ["--players", "random"]))
            assert code == 1 and stdout == ""
            assert err.strip() == (f"main.py {command}: error: {out} already holds a batch: use --resume {out}, "
                                   "or name a new --out")
            kept = [p.name for p in out.iterdir() if p.name != runner.LOCK_FILE]
            assert kept == [name] and (out / name).read_text() == "earlier results\n"


def test_a_folder_another_running_batch_holds_is_refused(capsys, tmp_path):
    """Two batches in one folder would interleave their games in one journal: the second is
    refused while the first runs (here: another process holds the folder's lock), and the folder
    is free again once the holder ends."""
    out = tmp_path / "busy"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from game.balance import runner; runner.lock_folder(Path(sys.argv[1])); "
                               "print('held', flush=True); time.sleep(60)", str(out)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        for args in (["--out", out], ["--resume", out]):
            code, stdout, err = run(capsys, "balance", EXAMPLE, "--games", "1", "--workers", "1", *args, *RANDOM)
            assert code == 1 and stdout == ""
            if args[0] == "--out":
                assert err.strip() == (f"main.py balance: error: {out} is in use by another batch that is still "
                                       f"running (pid {holder.pid}); wait for it to end, or name a new --out")
        assert not (out / "games.jsonl").exists()
    finally:
        holder.kill()
        holder.wait()
    code, _, err = run(capsys, "balance", EXAMPLE, "--games", "1", "--workers", "1", "-q", "--out", out, *RANDOM)
    assert code == 0, err
    code, _, err = run(capsys, "balance", "--resume", out, "-q")  # this process gave the folder back
    assert code == 0, err


def test_an_empty_folder_is_used_and_the_probe_file_removed(capsys, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    code, _, err = run(capsys, "balance", EXAMPLE, "--games", "1", "--workers", "1", "-q", "--out", out, *RANDOM)
    assert code == 0, err
    assert not list(out.glob(".write-probe*")) and not list(out.glob(".*.tmp"))
    assert not (out / runner.LOCK_FILE).exists()  # the lock is given back, its file removed


def test_a_read_only_folder_is_a_one_line_error_before_any_game(capsys, tmp_path, monkeypatch):
    def read_only(fd, data):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(runner, "_write_all", read_only)
    played = interrupt_at(monkeypatch, 99)
    out = tmp_path / "ro"
    code, stdout, err = run(capsys, "balance", EXAMPLE, "--games", "2", "--workers", "1", "--out", out, *RANDOM)
    assert code == 1 and played == []
    assert err.strip() == f"{out}: error: cannot write in the output folder: Read-only file system"
    assert list(out.iterdir()) == []  # the probe is gone and nothing else was written


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_really_read_only_folder(capsys, tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        code, _, err = run(capsys, "balance", EXAMPLE, "--games", "1", "--workers", "1", "--out", out, *RANDOM)
    finally:
        out.chmod(0o755)
    assert code == 1 and f"{out}: error: cannot write in the output folder: Permission denied" in err


def test_a_full_disk_mid_batch_stops_it_keeping_every_finished_game(capsys, tmp_path, monkeypatch, clean_run):
    real = runner._write_all
    records = []

    def fills_up(fd, data):
        if data.startswith(b'{"variant"'):
            records.append(data)
            if len(records) == 3:  # the third record: half of it fits
                real(fd, data[:100])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd, data)

    monkeypatch.setattr(runner, "_write_all", fills_up)
    out = tmp_path / "full"
    code, stdout, err = run(capsys, *BALANCE, "--out", out)
    assert code == 1 and "Traceback" not in err
    assert f"{out}: error: cannot write games.jsonl: No space left on device" in err
    assert f"the 2 finished game(s) are kept in {out / 'games.jsonl'}" in err
    assert f"python main.py balance --resume {out}" in err
    assert [(r["variant"], r["seed"]) for r in journal(out)] == [("base", 0), ("henan_1944_no_famine", 0)]
    assert not (out / "report.json").exists() and not list(out.glob(".*.tmp"))
    monkeypatch.undo()  # room again
    assert run(capsys, "balance", "--resume", out, "-q")[0] == 0
    same_batch(clean_run, out)


class FullDisk:
    """os for game.atomic, whose fsync finds the disk full."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_at_the_end_leaves_the_journal_and_no_half_file(capsys, tmp_path, monkeypatch, clean_run):
    out = tmp_path / "end"
    real = runner.write_games_csv

    def full_from_now_on(*a, **k):  # the games are played, the results do not fit
        monkeypatch.setattr(atomic, "os", FullDisk())
        return real(*a, **k)

    monkeypatch.setattr(runner, "write_games_csv", full_from_now_on)
    code, stdout, err = run(capsys, *BALANCE, "--out", out)
    assert code == 1 and "Traceback" not in err
    assert f"{out}: error: cannot write the results: No space left on device" in err
    assert "python main.py balance --resume" in err
    assert len(journal(out)) == 6  # every game is kept
    assert not (out / "games.csv").exists() and not list(out.glob(".*.tmp"))
    monkeypatch.undo()
    played = interrupt_at(monkeypatch, 99)
    assert run(capsys, "balance", "--resume", out, "-q")[0] == 0
    assert played == []  # nothing left to play: the report is written
    same_batch(clean_run, out)


# -- the real command line, killed (slow) ----------------------------------------------------

SLOW_GAMES = ["--player", "search@40"]  # about 1.5 s a game: time to kill something mid-game


def descendants(pid: int) -> list[int]:
    """Every living process below `pid` (the fork server and the pool's workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return [p for p in out if not gone(p)]


def start_batch(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "main.py", "balance", str(EXAMPLE), "--games", "6", "--workers", "2",
                             "--out", str(out), "-q", *SLOW_GAMES, *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(test, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while not test():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def workers_of(proc: subprocess.Popen) -> list[int]:
    """The pool's workers: the processes below the fork server (or below the batch itself)."""
    def busy() -> list[int]:
        below = descendants(proc.pid)
        return [p for p in below if "resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text(errors="replace")
                and descendants(p) == []]
    wait_for(lambda: len(busy()) >= 2)
    return busy()


def lines(out: Path) -> int:
    path = out / "games.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_to_the_command_stops_it_and_ends_its_workers(tmp_path):
    out = tmp_path / "term"
    proc = start_batch(out)
    below = workers_of(proc)
    wait_for(lambda: lines(out) >= 1)
    proc.send_signal(signal.SIGTERM)
    stdout, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "--resume" in err and "Traceback" not in err
    assert wait_gone(below, 5.0)
    assert json.loads((out / "report.json").read_text())["meta"]["interrupted"] is True


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_worker_costs_one_game_and_exits_3(tmp_path):
    out = tmp_path / "kill"
    proc = start_batch(out)
    workers_of(proc)
    # once a game has ended both workers are playing (the one that finished took the next game at
    # once): a worker killed now dies mid-game, however slowly a loaded machine started them
    wait_for(lambda: lines(out) >= 1, 120.0)
    victim = workers_of(proc)[0]
    os.kill(victim, signal.SIGKILL)
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, err
    assert "The batch is incomplete: 1 game(s) crashed (exit code 3)" in stdout and "Traceback" not in err
    [crash] = [json.loads(p.read_text()) for p in (out / "crashes").iterdir()]
    assert crash["exception"] == "WorkerDied" and f"pid {victim}" in crash["message"]
    assert len(journal(out)) == 5 and crash["seed"] not in {r["seed"] for r in journal(out)}
    # resuming plays the lost game (its seed) and leaves a complete batch
    done = subprocess.run([sys.executable, "main.py", "balance", "--resume", str(out), "--workers", "2", "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(r["seed"] for r in journal(out)) == list(range(6)) and not list((out / "crashes").iterdir())


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_command_leaves_no_workers_and_keeps_the_finished_games(tmp_path):
    out = tmp_path / "parent"
    proc = start_batch(out)
    below = descendants(proc.pid) or workers_of(proc)
    wait_for(lambda: lines(out) >= 1)
    below = sorted(set(below) | set(descendants(proc.pid)))
    proc.kill()
    proc.communicate(timeout=30)
    assert wait_gone(below, 5.0), [p for p in below if not gone(p)]
    kept = journal(out)  # every line a whole record
    assert len(kept) >= 1
    done = subprocess.run([sys.executable, "main.py", "balance", "--resume", str(out), "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(r["seed"] for r in journal(out)) == list(range(6))
