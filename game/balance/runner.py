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
keeps the records, writes crash files and moves the :class:`Progress` bar), stop cleanly on
Ctrl-C and return the outcomes sorted by (variant, seed), never in completion order.
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
import time
import traceback
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

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


def worker_init(setup: Callable[[], None] | None = None) -> None:
    """Start of a pool worker: Ctrl-C is the parent's business (it stops the batch and keeps
    what is finished), and `setup` (e.g. registering extra player profiles) runs once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if setup is not None:
        setup()


# ---------------------------------------------------------------------------------------------
# backends


class Backend(Protocol):
    """Where jobs run. Futures are opaque to the runner except for done() and cancelled()."""

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


class PoolBackend:
    """A local pool of worker processes (concurrent.futures.ProcessPoolExecutor); `setup` (a
    module-level function, e.g. registering extra player profiles) runs once in each worker."""

    name = "process pool"

    def __init__(self, workers: int, setup: Callable[[], None] | None = None):
        self.slots = workers
        self.executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=pool_context(),
                                               initializer=worker_init, initargs=(setup,))

    def submit(self, job: Job) -> cf.Future:
        try:
            return self.executor.submit(run_job, job)
        except BrokenProcessPool as exc:  # a worker died earlier: this job fails the same way
            future: cf.Future = cf.Future()
            future.set_exception(exc)
            return future

    def wait_any(self, pending: Collection[cf.Future]) -> Collection[cf.Future]:
        return cf.wait(pending, return_when=cf.FIRST_COMPLETED).done

    def outcome(self, future: cf.Future, job: Job) -> Outcome:
        try:
            return future.result()
        except Exception as exc:  # a worker died (BrokenProcessPool) or the result did not pickle
            return failed_outcome(job, exc)

    def cancel(self, futures: Collection[cf.Future]) -> None:
        for f in futures:
            f.cancel()

    def close(self, *, abort: bool = False) -> None:
        if not abort:
            self.executor.shutdown(wait=True, cancel_futures=True)
            return
        # Ctrl-C: the games still running are not waited for. The executor has no public way
        # to stop its workers before Python 3.14 (terminate_workers), so end them by their ids.
        processes = list(getattr(self.executor, "_processes", {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            if p.is_alive():
                p.terminate()
        for p in processes:
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


class Collector:
    """Receives the outcomes as they arrive: writes each crash report at once (so it survives
    an interrupted batch), moves the progress bar, and keeps every outcome."""

    def __init__(self, crash_dir: Path | None = None, progress: Progress | None = None,
                 power: PowerWatch | None = None):
        self.crash_dir = crash_dir
        self.progress = progress
        self.power = power
        self.outcomes: list[Outcome] = []
        self.crash_files: list[Path] = []

    def __call__(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if outcome.crash is not None and self.crash_dir is not None:
            self.crash_files.append(write_crash(self.crash_dir, outcome.crash))
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


def _drive(backend: Backend, jobs: Iterator[Job], window: int, take: Callable[[Outcome], bool]) -> bool:
    """Keep up to `window` jobs submitted, hand each finished one to `take` (True: stop now),
    until there are none left. Ctrl-C hands over what has finished and stops. Returns whether
    the run was interrupted; the backend is closed on the way out."""
    pending: dict[Any, Job] = {}

    def fill() -> None:
        while len(pending) < window:
            job = next(jobs, None)
            if job is None:
                return
            pending[backend.submit(job)] = job

    try:
        fill()
        while pending:
            for future in backend.wait_any(list(pending)):
                job = pending.pop(future)
                if take(backend.outcome(future, job)):
                    # the games still running are not wanted: do not wait for them
                    backend.cancel(list(pending))
                    backend.close(abort=True)
                    return False
            fill()
    except KeyboardInterrupt:
        finished = [(f, job) for f, job in pending.items() if f.done() and not f.cancelled()]
        backend.cancel([f for f in pending if not f.done()])
        for future, job in finished:
            take(backend.outcome(future, job))
        backend.close(abort=True)
        return True
    backend.close()
    return False


def run_batch(variants: Sequence[Variant], seeds: Sequence[int], backend: Backend,
              collect: Collector | None = None) -> Batch:
    """Play every variant on every seed (seed by seed, so an interrupted batch keeps pairs)."""
    collect = collect or Collector()
    start = time.perf_counter()
    jobs = (Job(v, s) for s in seeds for v in variants)

    def take(outcome: Outcome) -> bool:
        collect(outcome)
        return False

    interrupted = _drive(backend, jobs, max(4 * backend.slots, 16), take)
    return Batch(sort_outcomes(collect.outcomes, variants), interrupted, time.perf_counter() - start)


class SequentialTest(Protocol):
    """What :func:`run_sprt` needs of a test (:class:`game.balance.stats.SPRT`)."""

    decision: str | None

    def update(self, diff: float) -> None: ...


def run_sprt(base: Variant, variant: Variant, seeds: Sequence[int], backend: Backend, test: SequentialTest,
             collect: Collector | None = None) -> Batch:
    """Play (base, variant) pairs in seed order, about two pairs per worker at a time, and feed
    ``test.update(variant score - base score)`` in seed order (outcomes that arrive early wait
    for the pairs before them); stop as soon as ``test.decision`` is not None or the seeds run
    out. A pair with a crashed game, or without a score, is kept but not fed to the test.

    The batch keeps the pairs that were fed in (the games finished past the stopping pair
    depend on timing and are dropped); an interrupted batch keeps everything finished."""
    collect = collect or Collector()
    start = time.perf_counter()
    waiting: dict[int, dict[str, Outcome]] = {}
    used: list[Outcome] = []
    order = list(seeds)
    cursor = [0]

    def take(outcome: Outcome) -> bool:
        collect(outcome)
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

    jobs = (Job(v, s) for s in order for v in (base, variant))
    interrupted = _drive(backend, jobs, 4 * max(backend.slots, 1), take)
    kept = used + ([o for pair in waiting.values() for o in pair.values()] if interrupted else [])
    return Batch(sort_outcomes(kept, [base, variant]), interrupted, time.perf_counter() - start,
                 pairs_used=cursor[0])


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

