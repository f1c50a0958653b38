"""The balance runner: many seeded AI-vs-AI games, in parallel, with progress and crash capture.

A batch plays every variant of a scenario (the base file, variant files, or the base with
override values from a sweep) on the same seeds, so the games are paired by seed: game i of
every variant starts from seed S+i and its players' generators derive from that seed alone.

The work is a list of :class:`Job` (variant, seed). :func:`run_job` plays one and never raises
for a game that fails: it returns an :class:`Outcome` holding either the game's record or a
crash report (the exception, its traceback and every action taken, so the crash replays from
its seed). Jobs run on a backend: in this process (:class:`InProcessBackend`, for one worker,
tests and profiling), on a local process pool (:class:`PoolBackend`) or on a Dask cluster
(:class:`DaskBackend`). Every backend runs the same :func:`run_job` on the same jobs, so a seed
gives the same record (the same state hash) whatever runs it; each worker process loads a
scenario once and keeps it (:func:`context_for`).

:func:`run_batch` plays everything; :func:`run_sprt` plays pairs in seed order and stops as soon
as a sequential test decides. Both hand each outcome to a :class:`Collector` as it arrives (it
keeps the records, appends each to the batch's journal, DIR/games.jsonl, writes crash files and
moves the :class:`Progress` bar) and return the outcomes sorted by (variant, seed), never in
completion order. Both take the outcomes of an earlier run of the same batch (``done``, read back
from its journal) and play only the games missing from it, so an interrupted batch resumes.

Faults (issue 17):

- Ctrl-C or SIGTERM to the parent stops the batch cleanly: the workers are terminated and the
  games already finished are kept (:attr:`Batch.signal` says which signal stopped it);
- a pool worker that dies mid-game (kill -9, a segfault, the OOM killer) breaks the process pool;
  the pool is rebuilt and only the game that was running on the dead worker is recorded as
  crashed (:class:`WorkerDied`), every other game in flight is played again (see
  :meth:`PoolBackend.recover` for how the culprit is found);
- a worker whose parent dies (kill -9 of the parent) notices within half a second and exits
  (:func:`watch_parent`), so no worker outlives its batch.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import io
import json
import multiprocessing
import os
import platform
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from .. import safefile
from ..atomic import write_text_atomic
from ..cache import BoundedCache
from ..rules.context import Context, load_context
from ..rules.engine import Dice, Game
from .record import play_recorded

if TYPE_CHECKING:  # the statistics (and scipy) load only where a report is made
    from .stats import PowerWatch


@dataclass(frozen=True)
class Variant:
    """One arm of a batch: a scenario file (absolute path, so any worker can read it), the
    overrides applied to it ({dotted path: value}) and the player profile of every side."""

    name: str
    path: str
    profiles: dict[str, str]
    overrides: dict[str, object] = field(default_factory=dict)
    dice: Dice = "keyed"  # "stream": the dice of games before keyed dice (to compare with old batches)

    @property
    def key(self) -> str:
        """What identifies the scenario a worker has to load (file and overrides)."""
        return json.dumps([self.path, self.overrides], sort_keys=True, default=str)


@dataclass(frozen=True)
class Job:
    """One game to play: a variant and a seed."""

    variant: Variant
    seed: int


@dataclass
class Outcome:
    """What became of a job: the game's record, or a crash report when it raised."""

    job: Job
    record: dict | None = None
    crash: dict | None = None


# ---------------------------------------------------------------------------------------------
# the worker side

#: the compiled scenarios a worker process has loaded (a sweep's variants; the last 16 kept)
_CONTEXTS: BoundedCache[Context] = BoundedCache("balance.contexts", 16)


def context_for(variant: Variant) -> Context:
    """The compiled scenario of a variant, loaded once per worker process and kept."""
    return _CONTEXTS.get(variant.key, lambda: load_context(variant.path, variant.overrides or None))


def run_job(job: Job) -> Outcome:
    """Play one game; a game that raises becomes a crash report instead of an exception."""
    actions: list[str] = []
    games: list[Game] = []  # the game being played, once the first action is taken

    def keep(game: Game, action: object) -> None:
        if not games:
            games.append(game)
        actions.append(str(action))

    ctx = None
    try:
        ctx = context_for(job.variant)
        record, _ = play_recorded(ctx, job.seed, dict(job.variant.profiles), variant=job.variant.name,
                                  on_action=keep, dice=job.variant.dice)
        return Outcome(job, record=record)
    except Exception as exc:  # the point of the runner: keep going and keep the evidence
        game = games[0] if games else None
        return Outcome(job, crash=crash_report(job, exc, traceback.format_exc(), actions, ctx, game))


def crash_report(job: Job, exc: BaseException, trace: str, actions: list[str], ctx: Context | None = None,
                 game: Game | None = None) -> dict:
    """The crash file's content: enough to replay the game up to the crash from its seed.

    `state_hash` and `turn`/`date` describe the state when the game stopped: after the last
    listed action when a player raised (an exception inside an action may have left that
    action half applied)."""
    state = game.state if game is not None else None
    if state is None and ctx is not None:
        try:
            state = Game.new(ctx, job.seed, job.variant.dice).state
        except Exception:  # the game could not even start: there is no state to describe
            state = None
    return {
        "variant": job.variant.name,
        "seed": job.seed,
        "dice": job.variant.dice,
        "players": dict(job.variant.profiles),
        "scenario": job.variant.path,
        "overrides": dict(job.variant.overrides),
        "exception": type(exc).__name__,
        "message": str(exc),
        "traceback": trace,
        "actions": list(actions),
        "turn": state.turn if state is not None else None,
        "date": state.date.isoformat() if state is not None else None,
        "state_hash": state.state_hash() if state is not None else None,
        "host": platform.node(),
        "pid": os.getpid(),
    }


#: how often a pool worker checks that its parent is still there (seconds)
PARENT_POLL = 0.5
#: the exit status of a worker that found its parent gone
EXIT_ORPHANED = 75

#: in a pool worker: where it says which game it starts (see :meth:`PoolBackend.recover`)
_STARTED: Any = None


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first); None where there is
    no such file (no such process, or no /proc)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _alive(pid: int, started: str | None = None) -> bool:
    """Whether process `pid` is running: it exists, is not a zombie (a parent killed but not yet
    reaped, whose workers must still go) and, on Linux, started at `started` (its pid not reused)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but not ours to signal
        pass
    fields = _proc_stat(pid)
    if fields is None:
        return not Path("/proc/self/stat").exists()  # no /proc: os.kill is all there is
    return fields[0] not in ("Z", "X") and (started is None or fields[19] == started)


def watch_parent(parent: int | None, interval: float = PARENT_POLL) -> threading.Thread:
    """A daemon thread that ends this process (``os._exit``) as soon as its parent is gone: its
    parent process id changes (the parent died and the process was adopted), or the batch's
    process `parent` no longer runs (with the forkserver start method the worker's parent is the
    fork server, which outlives the batch's process as long as a worker does; a batch killed
    but not yet reaped is a zombie, which counts as gone). A worker of a batch killed with
    kill -9 so exits within `interval` seconds instead of playing on as an orphan."""
    first = os.getppid()
    fields = _proc_stat(parent) if parent is not None else None
    started = fields[19] if fields is not None and len(fields) > 19 else None

    def loop() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != first or (parent is not None and not _alive(parent, started)):
                os._exit(EXIT_ORPHANED)

    thread = threading.Thread(target=loop, name="watch-parent", daemon=True)
    thread.start()
    return thread


def worker_init(setup: Callable[[], None] | None = None, parent: int | None = None,
                started: Any = None) -> None:
    """Start of a pool worker: Ctrl-C is the parent's business (it stops the batch and keeps
    what is finished); the worker exits when `parent` (the batch's process) is gone; it says on
    `started` (a queue) which game it starts; and `setup` (e.g. registering extra player
    profiles) runs once."""
    global _STARTED
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _STARTED = started
    watch_parent(parent)
    if setup is not None:
        setup()


def run_pooled(job: Job) -> Outcome:
    """:func:`run_job` in a pool worker, first saying which game this worker now plays (so that
    if the worker dies, the parent knows which game it took with it)."""
    if _STARTED is not None:
        try:
            _STARTED.put((os.getpid(), job.variant.name, job.seed))
        except (OSError, ValueError):  # the queue is gone: the pool is being torn down
            pass
    return run_job(job)


# ---------------------------------------------------------------------------------------------
# backends


class Backend(Protocol):
    """Where jobs run. Futures are opaque to the runner except for done() and cancelled().

    A backend whose workers can die under their games (the process pool) also has
    ``broken(future) -> bool`` (this future failed because the workers broke) and
    ``recover(jobs) -> (crash outcomes, jobs to play again)`` (see :meth:`PoolBackend.recover`)."""

    slots: int  # games played at once (sizes the submission window)
    name: str

    def submit(self, job: Job) -> Any: ...

    def wait_any(self, pending: Collection[Any]) -> Collection[Any]: ...

    def outcome(self, future: Any, job: Job) -> Outcome: ...

    def cancel(self, futures: Collection[Any]) -> None: ...

    def close(self, *, abort: bool = False) -> None: ...


def failed_outcome(job: Job, exc: BaseException) -> Outcome:
    """A job whose worker failed outside the game (a worker process died, a lost connection)."""
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return Outcome(job, crash=crash_report(job, exc, trace, []))


class InProcessBackend:
    """Runs the jobs one by one in this process, in the order they were submitted, when the
    runner waits for them (no pool: for one worker, tests and profiling)."""

    name = "in-process"
    slots = 1

    def __init__(self) -> None:
        self._queue: dict[cf.Future, Job] = {}

    def submit(self, job: Job) -> cf.Future:
        future: cf.Future = cf.Future()
        self._queue[future] = job
        return future

    def wait_any(self, pending: Collection[cf.Future]) -> Collection[cf.Future]:
        done = [f for f in pending if f.done()]
        if done:
            return done
        future = next(f for f in self._queue if f in pending)
        job = self._queue.pop(future)
        future.set_result(run_job(job))
        return [future]

    def outcome(self, future: cf.Future, job: Job) -> Outcome:
        return future.result()

    def cancel(self, futures: Collection[cf.Future]) -> None:
        for f in futures:
            self._queue.pop(f, None)
            f.cancel()

    def close(self, *, abort: bool = False) -> None:
        self._queue.clear()


def pool_context() -> multiprocessing.context.BaseContext:
    """The start method of pool workers: 'forkserver' where there is one (forking a process
    that may run threads, as a Dask client does, can deadlock), else the platform's default."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context()


class WorkerDied(RuntimeError):
    """The crash of a game whose pool worker died under it (killed, a segfault, out of memory)."""


def _exit_text(code: int | None) -> str:
    if code is None:
        return "its exit status is unknown"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exit status {code}"


class PoolBackend:
    """A local pool of worker processes (concurrent.futures.ProcessPoolExecutor); `setup` (a
    module-level function, e.g. registering extra player profiles) runs once in each worker.

    A worker that dies breaks the whole executor (every game in flight fails with
    BrokenProcessPool): :meth:`recover` starts a new executor and says which game was at fault."""

    name = "process pool"
    #: a game in flight on this many broken pools, none of them pinned on it, counts as crashed
    STRIKES = 2

    def __init__(self, workers: int, setup: Callable[[], None] | None = None):
        self.slots = workers
        self.setup = setup
        self.rebuilds = 0  # executors started again after a worker died
        self.strikes: dict[tuple[str, int], int] = {}
        self._start()

    def _start(self) -> None:
        ctx = pool_context()
        self._started = ctx.SimpleQueue()
        self._processes: dict[int, Any] = {}
        self.executor = cf.ProcessPoolExecutor(max_workers=self.slots, mp_context=ctx, initializer=worker_init,
                                               initargs=(self.setup, os.getpid(), self._started))

    def _note_processes(self) -> None:
        """Keep the executor's worker processes (it forgets them once broken)."""
        self._processes.update(getattr(self.executor, "_processes", None) or {})

    def submit(self, job: Job) -> cf.Future:
        try:
            future = self.executor.submit(run_pooled, job)
        except BrokenProcessPool as exc:  # a worker died since the last wait: this job fails the same way
            future = cf.Future()
            future.set_exception(exc)
        self._note_processes()
        return future

    def wait_any(self, pending: Collection[cf.Future]) -> Collection[cf.Future]:
        return cf.wait(pending, return_when=cf.FIRST_COMPLETED).done

    def outcome(self, future: cf.Future, job: Job) -> Outcome:
        try:
            return future.result()
        except Exception as exc:  # a worker died (BrokenProcessPool) or the result did not pickle
            return failed_outcome(job, exc)

    def broken(self, future: cf.Future) -> bool:
        """Whether this finished future failed because the pool broke (a worker died)."""
        return future.done() and not future.cancelled() and isinstance(future.exception(), BrokenProcessPool)

    def _running(self) -> dict[int, tuple[str, int]]:
        """{worker pid: (variant, seed) of the last game it started}, from the workers' messages."""
        last: dict[int, tuple[str, int]] = {}
        try:
            while not self._started.empty():
                pid, variant, seed = self._started.get()
                last[pid] = (variant, seed)
        except (OSError, EOFError, ValueError):  # a message cut short by the dying worker
            pass
        return last

    def recover(self, lost: Sequence[Job]) -> tuple[list[Outcome], list[Job], bool]:
        """After a worker died: the games it cost (crash outcomes), the games to play again, and
        whether to play those one at a time (none could be pinned).

        The broken executor is shut down (its manager thread has failed every game in flight and
        terminated the other workers, which so end by SIGTERM) and a new one started. The dead
        worker is the one that did not end by SIGTERM; the game it was playing is the one it
        said it started last. That game is recorded as crashed; every other game in flight was
        not at fault and is played again. When no game can be pinned that way (the worker was
        itself ended by SIGTERM, or died before saying what it played), every game in flight
        gets a strike and they are played again one at a time, alone on the pool, so that a
        game which breaks the pool again is known; a game with :attr:`STRIKES` strikes (it broke
        a pool while alone on it, or was in flight on two broken pools) is the crashed one."""
        self._note_processes()
        self.executor.shutdown(wait=True, cancel_futures=True)
        running = self._running()
        dead = {pid: p.exitcode for pid, p in self._processes.items()
                if p.exitcode is not None and p.exitcode != -signal.SIGTERM}
        try:
            self._started.close()
        except (AttributeError, OSError):
            pass
        self.rebuilds += 1
        self._start()
        culprits = {running[pid]: (pid, code) for pid, code in dead.items() if pid in running}
        pinned = [j for j in lost if (j.variant.name, j.seed) in culprits]
        crashed: list[Outcome] = []
        retry: list[Job] = []
        for job in lost:
            key = (job.variant.name, job.seed)
            if pinned:
                if key not in culprits:
                    retry.append(job)
                    continue
                pid, code = culprits[key]
                why = f"the worker process (pid {pid}) died while playing this game ({_exit_text(code)})"
            else:
                self.strikes[key] = self.strikes.get(key, 0) + 1
                if self.strikes[key] < self.STRIKES:
                    retry.append(job)
                    continue
                why = (f"a worker process died while this game was in flight, {self.strikes[key]} times, the "
                       "last time alone on the pool")
            crashed.append(failed_outcome(job, WorkerDied(why + "; the other games in flight were played again")))
        return crashed, retry, not pinned

    def cancel(self, futures: Collection[cf.Future]) -> None:
        for f in futures:
            f.cancel()

    def close(self, *, abort: bool = False) -> None:
        if not abort:
            self.executor.shutdown(wait=True, cancel_futures=True)
            return
        # Ctrl-C: the games still running are not waited for. The executor has no public way
        # to stop its workers before Python 3.14 (terminate_workers), so end them by their ids.
        self._note_processes()
        processes = list(self._processes.values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
            p.join(timeout=5)
        for p in processes:
            if p.is_alive():  # a worker that ignores SIGTERM (stuck in native code)
                p.kill()
                p.join(timeout=5)


class DaskBackend:
    """A Dask distributed cluster: the same jobs and :func:`run_job` as the process pool, so the
    same seeds give the same records. The workers must read the scenario files at the same
    absolute paths (a shared filesystem and the same checkout)."""

    name = "dask"

    def __init__(self, address: str, *, timeout: float = 10.0):
        from distributed import Client  # optional dependency: pip install '.[cluster]'

        self.client = Client(address, timeout=timeout)
        self.slots = max(1, sum(self.client.nthreads().values()))

    def submit(self, job: Job) -> Any:
        return self.client.submit(run_job, job, pure=False)

    def wait_any(self, pending: Collection[Any]) -> Collection[Any]:
        from distributed import wait

        return wait(list(pending), return_when="FIRST_COMPLETED").done

    def outcome(self, future: Any, job: Job) -> Outcome:
        try:
            return future.result()
        except Exception as exc:  # a worker died or was lost with the game
            return failed_outcome(job, exc)

    def cancel(self, futures: Collection[Any]) -> None:
        if futures:
            self.client.cancel(list(futures))

    def close(self, *, abort: bool = False) -> None:
        self.client.close()


# ---------------------------------------------------------------------------------------------
# progress


def duration_text(seconds: float) -> str:
    """45s, 2m05s, 1h02m."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """A progress line on a stream (stderr):
    ``balance  137/400 games  34%  [#######.............]  2.1 games/s  ETA 2m05s``.

    On a terminal it is redrawn in place; otherwise (a log file, CI) a plain line is written
    each time another tenth of the games is done, or at least 30 s after the last one."""

    WIDTH = 20
    QUIET_SECONDS = 30.0

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool = True,
                 label: str = "balance", clock: Callable[[], float] = time.monotonic,
                 tty: bool | None = None):
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.label = label
        self.clock = clock
        self.tty = tty if tty is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = clock()
        self.done = 0
        self.crashed = 0
        self._last_print = self.start
        self._last_tenth = 0
        self._width = 0
        self.note = ""  # shown after the counts (the power estimate)

    def line(self) -> str:
        """The progress line for the current count."""
        elapsed = self.clock() - self.start
        share = self.done / self.total
        filled = min(self.WIDTH, int(round(share * self.WIDTH)))
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = duration_text((self.total - self.done) / rate) if rate > 0 else "?"
        text = (f"{self.label}  {self.done:>{len(str(self.total))}}/{self.total} games  {share:.0%}  "
                f"[{'#' * filled}{'.' * (self.WIDTH - filled)}]  {rate:.1f} games/s  ETA {eta}")
        return text + (f"  {self.crashed} crashed" if self.crashed else "") + (f"  {self.note}" if self.note else "")

    def update(self, *, crashed: bool = False) -> None:
        """One more game finished."""
        self.done += 1
        self.crashed += crashed
        if not self.enabled:
            return
        if self.tty:
            text = self.line()
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
            self.stream.flush()
            return
        now = self.clock()
        tenth = self.done * 10 // self.total
        if tenth > self._last_tenth or now - self._last_print >= self.QUIET_SECONDS:
            self._last_tenth = tenth
            self._last_print = now
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the line on a terminal (the plain log already ends with one)."""
        if self.enabled and self.tty and self._width:
            self.stream.write("\n")
            self.stream.flush()


# ---------------------------------------------------------------------------------------------
# running a batch


def crash_path(crash_dir: Path, crash: dict) -> Path:
    """DIR/crashes/<variant>-seed<seed>.json, the variant name made safe for a file name."""
    safe = re.sub(r"[^A-Za-z0-9._=+-]", "_", crash["variant"])
    return crash_dir / f"{safe}-seed{crash['seed']}.json"


def write_crash(crash_dir: Path, crash: dict) -> Path:
    """Write one crash report atomically; its path."""
    crash_dir.mkdir(parents=True, exist_ok=True)
    path = crash_path(crash_dir, crash)
    write_text_atomic(path, json.dumps(crash, indent=2, default=str) + "\n")  # dates in overrides
    return path


class OutputError(Exception):
    """A batch's output could not be written (a full disk, a read-only folder)."""

    def __init__(self, path: Path, exc: OSError):
        self.path = Path(path)
        self.errno = exc.errno
        self.reason = exc.strerror or str(exc)
        super().__init__(f"{self.path}: {self.reason}")


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a write may take part of the data)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class GamesJournal:
    """DIR/games.jsonl as the batch runs: each finished game's record appended as one JSON line,
    written through to the disk (fsync) before the next game is taken, so that whatever stops
    the batch (Ctrl-C, kill -9, a power cut) the games finished so far are in the file, each
    line whole. A write that fails (a full disk) is taken back (the file is cut to its length
    before it) and raises :class:`OutputError`: the file never ends in half a record."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(self.path, exc) from exc
        self.written = 0

    def append(self, record: dict) -> None:
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
        size = os.fstat(self._fd).st_size
        try:
            _write_all(self._fd, line)
            os.fsync(self._fd)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, size)
            except OSError:
                pass
            raise OutputError(self.path, exc) from exc
        self.written += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> GamesJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_games(path: Path) -> tuple[list[dict], int]:
    """The records of a journal (games.jsonl) and the number of lines that are not a whole
    record (the last line of a batch killed while writing it); no file: no records."""
    if not os.path.lexists(path):
        return [], 0
    try:
        data = safefile.raw_read(Path(path), MAX_JOURNAL_BYTES, what="games journal (games.jsonl)")
    except safefile.FileProblem as exc:
        raise BatchFileError(str(exc)) from None
    records: list[dict] = []
    bad = 0
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError, RecursionError):
            bad += 1
            continue
        if isinstance(record, dict) and "variant" in record and isinstance(record.get("seed"), int):
            records.append(record)
        else:
            bad += 1
    return records, bad


class Collector:
    """Receives the outcomes as they arrive: labels each record (`prepare`), appends it to the
    journal (DIR/games.jsonl) and writes each crash report at once (so both survive an
    interrupted or killed batch), moves the progress bar, and keeps every outcome. A file that
    cannot be written raises :class:`OutputError` (the batch stops)."""

    def __init__(self, crash_dir: Path | None = None, progress: Progress | None = None,
                 power: PowerWatch | None = None, journal: GamesJournal | None = None,
                 prepare: Callable[[dict], None] | None = None):
        self.crash_dir = crash_dir
        self.progress = progress
        self.power = power
        self.journal = journal
        self.prepare = prepare
        self.outcomes: list[Outcome] = []
        self.crash_files: list[Path] = []

    def known(self, outcome: Outcome) -> None:
        """An outcome of an earlier run of the batch (resumed): it counts for the power estimate."""
        if self.power is not None and outcome.record is not None:
            self.power.add(outcome.record)

    def __call__(self, outcome: Outcome) -> None:
        if outcome.record is not None:
            if self.prepare is not None:
                self.prepare(outcome.record)
            if self.journal is not None:
                self.journal.append(outcome.record)
        self.outcomes.append(outcome)
        if outcome.crash is not None and self.crash_dir is not None:
            try:
                self.crash_files.append(write_crash(self.crash_dir, outcome.crash))
            except OSError as exc:
                raise OutputError(crash_path(self.crash_dir, outcome.crash), exc) from exc
        if self.power is not None and outcome.record is not None:
            self.power.add(outcome.record)
            if self.progress is not None:
                self.progress.note = self.power.text()
        if self.progress is not None:
            self.progress.update(crashed=outcome.crash is not None)


@dataclass
class Batch:
    """The outcomes a batch kept, sorted by (variant order, seed), and how it ended."""

    outcomes: list[Outcome]
    interrupted: bool = False
    seconds: float = 0.0
    pairs_used: int | None = None  # SPRT: the pairs fed to the test
    signal: int | None = None  # what stopped an interrupted batch: SIGINT (Ctrl-C) or SIGTERM
    resumed: int = 0  # outcomes taken over from an earlier run of the batch
    rebuilds: int = 0  # process pools started again after a worker died

    @property
    def records(self) -> list[dict]:
        return [o.record for o in self.outcomes if o.record is not None]

    @property
    def crashes(self) -> list[dict]:
        return [o.crash for o in self.outcomes if o.crash is not None]


def sort_outcomes(outcomes: Iterable[Outcome], variants: Sequence[Variant]) -> list[Outcome]:
    """Outcomes in (variant order, seed) order: what is written never depends on timing."""
    order = {v.name: k for k, v in enumerate(variants)}
    return sorted(outcomes, key=lambda o: (order[o.job.variant.name], o.job.seed))


class Stopped(KeyboardInterrupt):
    """The batch was asked to stop: Ctrl-C (SIGINT) or SIGTERM, whose number it carries."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class StopSignals:
    """While active (in the main thread), SIGINT and SIGTERM raise :class:`Stopped` in the main
    thread, except inside :meth:`critical` (taking an outcome: its record is being written),
    which the stop waits for; once the batch is stopping, further signals are noted only (the
    finished games are being kept and the workers ended). Restores the handlers on exit."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self.stopping = False
        self._depth = 0
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)
        self._old.clear()

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum
        if self._depth == 0 and not self.stopping:
            self.stopping = True
            raise Stopped(signum)

    @contextmanager
    def critical(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self._depth == 0 and self.signum is not None and not self.stopping:
            self.stopping = True
            raise Stopped(self.signum)


def _drive(backend: Backend, jobs: Iterator[Job], window: int, take: Callable[[Outcome], bool]) -> int | None:
    """Keep up to `window` jobs submitted, hand each finished one to `take` (True: stop now),
    until there are none left. Ctrl-C or SIGTERM hands over what has finished and stops; a
    worker that died costs the game it was playing (see :meth:`PoolBackend.recover`) and the
    other games in flight are submitted again. Returns the signal that stopped the run (None:
    it ran to its end); the backend is closed on the way out, its workers ended if the run
    stops early or `take` raises (a file that cannot be written)."""
    pending: dict[Any, Job] = {}
    alone: list[Job] = []  # games under suspicion after a broken pool: played one at a time
    stop = StopSignals()
    is_broken: Callable[[Any], bool] = getattr(backend, "broken", lambda future: False)

    def fill() -> None:
        if alone:
            if not pending:
                suspect = alone.pop(0)
                pending[backend.submit(suspect)] = suspect
            return
        while len(pending) < window:
            job = next(jobs, None)
            if job is None:
                return
            pending[backend.submit(job)] = job

    def hand(outcome: Outcome) -> bool:
        with stop.critical():
            return take(outcome)

    def recover() -> bool:
        """The pool broke: keep what finished before, count the game the dead worker cost, play
        the others again. True: `take` asked to stop."""
        finished = [(f, job) for f, job in pending.items() if f.done() and not f.cancelled() and not is_broken(f)]
        for f, _ in finished:
            del pending[f]
        lost = list(pending.values())
        pending.clear()
        for f, job in finished:
            if hand(backend.outcome(f, job)):
                return True
        with stop.critical():
            crashed, retry, one_at_a_time = backend.recover(lost)  # type: ignore[attr-defined]
        for outcome in crashed:
            if hand(outcome):
                return True
        if one_at_a_time:
            alone[:0] = retry
        else:
            for job in retry:
                pending[backend.submit(job)] = job
        return False

    with stop:
        try:
            fill()
            while pending:
                done = backend.wait_any(list(pending))
                if any(is_broken(f) for f in done):
                    if recover():
                        backend.cancel(list(pending))
                        backend.close(abort=True)
                        return None
                else:
                    for future in done:
                        job = pending.pop(future)
                        if hand(backend.outcome(future, job)):
                            # the games still running are not wanted: do not wait for them
                            backend.cancel(list(pending))
                            backend.close(abort=True)
                            return None
                fill()
            backend.close()
        except KeyboardInterrupt as exc:
            stop.stopping = True
            signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
            finished = [(f, job) for f, job in pending.items()
                        if f.done() and not f.cancelled() and not is_broken(f)]
            backend.cancel([f for f in pending if not f.done()])
            try:
                for future, job in finished:
                    take(backend.outcome(future, job))
            finally:
                backend.close(abort=True)
            return signum
        except BaseException:
            stop.stopping = True
            backend.cancel(list(pending))
            backend.close(abort=True)
            raise
    return None


def _missing(jobs: Iterable[Job], done: Iterable[Outcome]) -> Iterator[Job]:
    have = {(o.job.variant.name, o.job.seed) for o in done}
    return (j for j in jobs if (j.variant.name, j.seed) not in have)


def run_batch(variants: Sequence[Variant], seeds: Sequence[int], backend: Backend,
              collect: Collector | None = None, done: Sequence[Outcome] = ()) -> Batch:
    """Play every variant on every seed (seed by seed, so an interrupted batch keeps pairs);
    the games in `done` (an earlier run's, resumed) are not played again but kept."""
    collect = collect or Collector()
    start = time.perf_counter()
    for outcome in done:
        collect.known(outcome)
    jobs = _missing((Job(v, s) for s in seeds for v in variants), done)

    def take(outcome: Outcome) -> bool:
        collect(outcome)
        return False

    signum = _drive(backend, jobs, max(4 * backend.slots, 16), take)
    return Batch(sort_outcomes([*done, *collect.outcomes], variants), signum is not None,
                 time.perf_counter() - start, signal=signum, resumed=len(done),
                 rebuilds=getattr(backend, "rebuilds", 0))


class SequentialTest(Protocol):
    """What :func:`run_sprt` needs of a test (:class:`game.balance.stats.SPRT`)."""

    @property
    def decision(self) -> str | None: ...

    def update(self, diff: float) -> None: ...


def run_sprt(base: Variant, variant: Variant, seeds: Sequence[int], backend: Backend, test: SequentialTest,
             collect: Collector | None = None, done: Sequence[Outcome] = ()) -> Batch:
    """Play (base, variant) pairs in seed order, about two pairs per worker at a time, and feed
    ``test.update(variant score - base score)`` in seed order (outcomes that arrive early wait
    for the pairs before them); stop as soon as ``test.decision`` is not None or the seeds run
    out. A pair with a crashed game, or without a score, is kept but not fed to the test.

    The batch keeps the pairs that were fed in (the games finished past the stopping pair
    depend on timing and are dropped); an interrupted batch keeps everything finished. The
    games in `done` (an earlier run's, resumed) are fed first, in seed order, and not played
    again: the test takes the same pairs as in a run never interrupted."""
    collect = collect or Collector()
    start = time.perf_counter()
    waiting: dict[int, dict[str, Outcome]] = {}
    used: list[Outcome] = []
    order = list(seeds)
    cursor = [0]

    def feed(outcome: Outcome) -> bool:
        waiting.setdefault(outcome.job.seed, {})[outcome.job.variant.name] = outcome
        while cursor[0] < len(order) and len(waiting.get(order[cursor[0]], {})) == 2:
            pair = waiting.pop(order[cursor[0]])
            cursor[0] += 1
            used.extend(pair.values())
            b, v = pair[base.name].record, pair[variant.name].record
            if b is not None and v is not None and b.get("score") is not None and v.get("score") is not None:
                test.update(v["score"] - b["score"])
            if test.decision is not None:
                return True
        return False

    def take(outcome: Outcome) -> bool:
        collect(outcome)
        return feed(outcome)

    rank = {s: k for k, s in enumerate(order)}
    decided = False
    for outcome in sorted(done, key=lambda o: (rank.get(o.job.seed, len(order)), o.job.variant.name != base.name)):
        collect.known(outcome)
        if not decided and outcome.job.seed in rank:
            decided = feed(outcome)
    signum = None
    if not decided:
        jobs = _missing((Job(v, s) for s in order for v in (base, variant)), done)
        signum = _drive(backend, jobs, 4 * max(backend.slots, 1), take)
    else:
        backend.close()
    interrupted = signum is not None
    kept = used + ([o for pair in waiting.values() for o in pair.values()] if interrupted else [])
    return Batch(sort_outcomes(kept, [base, variant]), interrupted, time.perf_counter() - start,
                 pairs_used=cursor[0], signal=signum, resumed=len(done), rebuilds=getattr(backend, "rebuilds", 0))


# ---------------------------------------------------------------------------------------------
# output files


def _union(records: Iterable[dict], get: Callable[[dict], Iterable[str]]) -> list[str]:
    """The keys `get` finds in the records, in order of first appearance."""
    return list(dict.fromkeys(k for r in records for k in get(r)))


def csv_columns(records: Sequence[dict]) -> list[str]:
    """The columns of games.csv: fixed ones, then per side, cause, track and benchmark in the
    order the (sorted) records name them, so the same records give the same columns."""
    sides = _union(records, lambda r: list(r.get("players") or {}) + list(r.get("loss_totals") or {}))
    causes = {s: _union(records, lambda r: (r.get("losses") or {}).get(s, {})) for s in sides}
    tracks = _union(records, lambda r: r.get("tracks") or {})
    marks = _union(records, lambda r: r.get("benchmarks") or {})
    return ["variant", "seed", *[f"player_{s}" for s in sides],
            "winner", "verdict", "score", "reason", "turns", "final_date", "actions", "seconds",
            "corridor_opened", "corridor_open_at_end",
            *[f"losses_{s}" for s in sides], *[f"losses_{s}_{c}" for s in sides for c in causes[s]],
            "air_bases_destroyed", *[f"track_{t}" for t in tracks], *[f"bench_{h}" for h in marks],
            "state_hash"]


def csv_row(record: dict) -> dict[str, object]:
    """One record flattened to the columns of games.csv (absent values stay empty)."""
    row: dict[str, object] = {k: record.get(k) for k in (
        "variant", "seed", "winner", "verdict", "score", "reason", "turns", "final_date", "actions", "seconds",
        "corridor_opened", "corridor_open_at_end", "air_bases_destroyed", "state_hash")}
    for side, profile in (record.get("players") or {}).items():
        row[f"player_{side}"] = profile
    for side, total in (record.get("loss_totals") or {}).items():
        row[f"losses_{side}"] = total
    for side, ledger in (record.get("losses") or {}).items():
        for cause, men in ledger.items():
            row[f"losses_{side}_{cause}"] = men
    for track, value in (record.get("tracks") or {}).items():
        row[f"track_{track}"] = value
    for mark, value in (record.get("benchmarks") or {}).items():
        row[f"bench_{mark}"] = value
    return row


def write_games_csv(path: Path, records: Sequence[dict]) -> None:
    """games.csv: one row per game, in the given order."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=csv_columns(records), lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow(csv_row(r))
    write_text_atomic(path, out.getvalue())


def write_games_jsonl(path: Path, records: Sequence[dict]) -> None:
    """games.jsonl: every record in full, one JSON object per line (reports rebuild from it)."""
    write_text_atomic(path, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))



# ---------------------------------------------------------------------------------------------
# the output folder and the run description (resuming a batch)

#: the run description a batch writes in its folder before the first game (what --resume reads)
BATCH_FILE = "batch.json"
MAX_BATCH_FILE_BYTES = 16 * 1024 * 1024
#: A journal's limit: a record is a few kilobytes, so this is some hundreds of thousands of games.
MAX_JOURNAL_BYTES = 2 * 1024 * 1024 * 1024
#: the journal of finished games, appended as each ends and rewritten in order at the end
GAMES_FILE = "games.jsonl"
#: files whose presence means a folder already holds a batch's results
RESULT_FILES = (BATCH_FILE, GAMES_FILE, "games.csv", "report.json", "league.json")
BATCH_FORMAT = 1


class BatchFileError(ValueError):
    """A folder's run description is missing or unreadable (the message says why)."""


def holds_batch(folder: Path) -> bool:
    """Whether `folder` already holds a batch's results (a run description, records or a report)."""
    return any((Path(folder) / name).exists() for name in RESULT_FILES)


LOCK_FILE = ".batch.lock"
_LOCKS: dict[str, tuple[int, Path]] = {}  # folder -> (the open lock file this process holds, its path)


class FolderBusy(RuntimeError):
    """Another running batch holds the output folder."""


def lock_folder(folder: Path) -> None:
    """Take `folder` for this process's batch: an exclusive lock on DIR/.batch.lock, held until
    :func:`release_folders` (which removes the file) or the process ends (a killed batch never
    leaves the folder taken; its file stays, and the next batch takes it). :class:`FolderBusy`,
    naming the holder's pid, when another batch runs in it: two batches appending to one
    games.jsonl would interleave their games. Where the system has no file locks (not POSIX)
    there is no lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    key = os.path.realpath(folder)
    if key in _LOCKS:
        return
    path = Path(folder) / LOCK_FILE
    for _ in range(10):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise FolderBusy(holder if holder.isdigit() else "unknown") from None
        try:
            same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed this file as it let go: lock the one there now
    else:
        raise FolderBusy("unknown")
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _LOCKS[key] = (fd, path)


def release_folders() -> None:
    """Give back every output folder this process has taken (:func:`lock_folder`): the lock
    file is removed, then let go."""
    while _LOCKS:
        _, (fd, path) = _LOCKS.popitem()
        try:
            path.unlink()
        except OSError:
            pass
        try:
            os.close(fd)  # closing the file lets the lock go
        except OSError:
            pass


def check_writable(folder: Path) -> None:
    """Create `folder` (and its parents) and write, sync and remove a probe file in it, so that a
    folder that cannot be written is found before the first game; OSError when it cannot."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".write-probe-{os.getpid()}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, b"probe\n")
        os.fsync(fd)
    finally:
        os.close(fd)
        try:
            os.unlink(probe)
        except FileNotFoundError:
            pass


def variant_json(v: Variant) -> dict:
    """A variant as the run description stores it (overrides' dates as ISO text)."""
    return json.loads(json.dumps({"name": v.name, "path": v.path, "profiles": dict(v.profiles),
                                  "overrides": dict(v.overrides), "dice": v.dice}, default=str))


def file_digest(path: str | Path) -> str | None:
    """The SHA-256 of a file's bytes (None: it cannot be read)."""
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def describe_batch(command: str, arguments: dict, variants: Sequence[Variant], seeds: Sequence[int]) -> dict:
    """The run description of a batch: the command and its arguments (what --resume replays), the
    variants they made, the seeds and the digest of every scenario file played."""
    first = seeds[0] if len(seeds) else 0
    return {"format": BATCH_FORMAT, "command": command,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cwd": os.getcwd(),
            "arguments": json.loads(json.dumps(arguments, default=str)),
            "variants": [variant_json(v) for v in variants],
            "seeds": {"first": first, "games": len(seeds)},
            "files": {v.path: file_digest(v.path) for v in variants}}


def write_batch_file(folder: Path, description: dict) -> None:
    write_text_atomic(Path(folder) / BATCH_FILE, json.dumps(description, indent=2) + "\n")


def read_batch_file(folder: Path) -> dict:
    """The run description in `folder`; BatchFileError (saying why) when there is none to use."""
    path = Path(folder) / BATCH_FILE
    if not Path(folder).is_dir():
        raise BatchFileError(f"{folder} is not a folder (--resume names the output folder of a batch)")
    if not os.path.lexists(path):
        raise BatchFileError(f"{folder} holds no batch to resume (there is no {path.name}: it is written when "
                             "a batch starts)")
    try:
        data = json.loads(safefile.raw_read(path, MAX_BATCH_FILE_BYTES, what="batch description").decode("utf-8"))
    except safefile.FileProblem as exc:
        raise BatchFileError(str(exc)) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise BatchFileError(f"{path}: cannot read the batch's description: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != BATCH_FORMAT or not isinstance(data.get("arguments"), dict):
        raise BatchFileError(f"{path}: not a batch description this version can resume "
                             f"(expected format {BATCH_FORMAT})")
    return data


def resumed_outcomes(records: Iterable[dict], variants: Sequence[Variant], seeds: Sequence[int]) -> list[Outcome]:
    """The outcomes of an earlier run from its records: one per (variant, seed) of this batch
    (the first record of each), in (variant, seed) order; other records are left out."""
    by_name = {v.name: v for v in variants}
    wanted = set(seeds)
    seen: dict[tuple[str, int], Outcome] = {}
    for r in records:
        v = by_name.get(r.get("variant"))  # type: ignore[arg-type]
        key = (str(r.get("variant")), r.get("seed"))
        if v is None or r.get("seed") not in wanted or key in seen:
            continue
        seen[key] = Outcome(Job(v, int(r["seed"])), record=r)  # type: ignore[index]
    return sort_outcomes(seen.values(), variants)


def remove_stale_crashes(crash_dir: Path, records: Iterable[dict]) -> list[Path]:
    """Remove the crash reports of games that now have a record (they crashed in an earlier run
    and were played again on resuming); the paths removed."""
    removed = []
    for r in records:
        path = crash_path(crash_dir, {"variant": r["variant"], "seed": r["seed"]})
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed
