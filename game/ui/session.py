"""One game being played in the window: the game, who plays each side, the actions, undo, the AI
worker, saves and the per-turn history the end screen charts.

Pure Python, no pygame: the screens drive it and the tests exercise it headless.

- **One truth.** Every change goes through :meth:`Session.apply`, which applies a legal action to
  the real game and appends it to :attr:`Session.actions` (what a save stores). The AI plays its
  phase in a worker thread on a *clone* of the game and only queues its actions; the main thread
  takes them with :meth:`Session.poll_ai` and applies them itself, so the real game, the action
  list and the animation stay in step, and the window never waits for the AI.
- **Determinism.** The game draws only from its own generator; each AI player has its own seeded
  generator (:func:`game.ai.player_seed`) and is created once per session, so the same seed and
  the same human actions give the same game, turn after turn, as :func:`play_game` would.
- **Undo** keeps a snapshot of the state before each human action of the current phase. An action
  that moved the game's generator revealed a random result (a combat roll), so it cannot be
  taken back: it clears the snapshots, as ending the phase does.
- **Saves** are the engine's save files (:mod:`game.rules.saves`) with the players recorded.
  Loading replays the actions from the seed, which rebuilds the per-turn history and brings the AI
  players' generators to where they were; if the replay does not reproduce the saved state (the
  engine changed since), the saved snapshot is resumed as it is.
"""

from __future__ import annotations

import json
import os
import queue
import threading
import traceback
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import safefile
from ..ai import ProfileError, make_player, player_seed
from ..diagnostics import Diagnostic, InputError, Pos
from ..rules.actions import Action, EndPhase, parse_action
from ..rules.context import Context
from ..rules.engine import Dice, Game, IllegalAction
from ..rules.metrics import TurnRecord, TurnSeries, turn_record
from ..rules.players import Player
from ..rules.saves import MAX_SAVE_BYTES, check_rebuilt, context_for, is_save_format, read_save, write_save
from ..rules.state import GameState, LogEntry

HUMAN = "human"
AUTOSAVE = "autosave.json"
AUTOSAVE_KEEP = 3  # turn autosaves kept besides autosave.json
AI_PHASE_SECONDS = 1.0  # the search player thinks at most this long a phase in the window


class AIError(RuntimeError):
    """The computer player failed during its phase (a bug); the message carries the details."""


# ---------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class ScenarioChoice:
    """A scenario file the menu offers (or shows greyed out with its first problem)."""

    path: Path
    id: str
    title: str
    description: str
    variant: bool  # it extends another scenario (a what-if)
    sides: tuple[tuple[str, str], ...] = ()  # (side id, name) in the scenario's order
    start: str = ""  # ISO start date
    turns: int = 0
    days_per_turn: int = 0
    error: str | None = None  # the first validation error; None when it can be played

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class SaveInfo:
    """A save file as the load list shows it (read without the full checks; :meth:`Session.load`
    makes those)."""

    path: Path
    scenario: str = ""
    turn: int = 0
    date: str = ""
    saved_at: str = ""
    players: dict[str, str] = field(default_factory=dict)
    over: bool = False
    error: str | None = None


def user_profile_dir() -> Path:
    """The folder of the player's own AI profiles (``*.yaml``, see :mod:`game.ai.profile`): the
    environment variable ``env_var("PROFILES")`` (``HEXWAR_PROFILES`` for the app name
    ``hexwar``), else ``$XDG_CONFIG_HOME/APP/profiles`` (by default ``~/.config/APP/profiles``),
    APP being :func:`game.app_name`. Read only: it is not created."""
    from .. import app_name, env_var

    env = os.environ.get(env_var("PROFILES"))
    if env:
        return Path(env).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / app_name() / "profiles"


# ---------------------------------------------------------------------------------------------
# the session


class Session:
    """One game being played in the window: the Game, who plays each side, the action list, undo,
    the AI worker, saves.

    `players` maps side ids to ``"human"`` or an AI profile name (``"default"``, ``"offensive"``,
    ..., ``"random"``, ``"simple"``); a side left out gets ``"default"``, as in
    :func:`game.ai.make_players`. `actions` are replayed from the seed (InputError at the first
    that fails). `game`, when given, is the state reached by `actions` (a loaded snapshot), taken
    as it is instead of replaying. `autosave` turns the autosave at each new turn on or off.
    """

    def __init__(self, ctx: Context, seed: int, players: dict[str, str], *, actions: Sequence[Action] = (),
                 game: Game | None = None, autosave: bool = True, dice: Dice = "keyed"):
        unknown = [s for s in players if s not in ctx.sides]
        if unknown:
            raise ValueError(f"scenario '{ctx.scenario.meta.id}' has no side {unknown[0]!r} "
                             f"(its sides: {', '.join(ctx.sides)})")
        self.ctx = ctx
        self.seed = int(seed)
        self.players: dict[str, str] = {s: str(players.get(s, "default")) for s in ctx.sides}
        self._ai: dict[str, Player] = {}
        for side in ctx.sides:
            if self.players[side] != HUMAN:
                self._ai[side] = self._new_ai(side)
        self.autosave_enabled = autosave
        self.autosave_error: str | None = None  # the last autosave failure (disk full...), for a notice
        self.notice: str | None = None  # something the player should be told once (e.g. a resumed snapshot)
        self.version = 0  # bumped at every change of the game (apply, undo): screens redraw on change
        self.actions: list[Action] = []
        self.history: list[TurnRecord] = []
        self._undo: list[tuple[GameState, int]] = []  # (state before, index in actions) this phase
        # the AI worker
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._queue: queue.Queue[Action] = queue.Queue()
        self._polled: deque[Action] = deque()  # taken by poll_ai, not yet applied
        self._ai_base = 0  # len(actions) when the worker started
        self._ai_made = 0  # actions the worker has queued
        self._ai_done = True
        self._ai_failed: str | None = None
        self.ai_error: str | None = None  # a failed AI phase: the session stops asking the AI
        if game is not None:
            self.game = game
            self.actions = list(actions)
            self._start_series()
        else:
            self.game = Game.new(ctx, self.seed, dice)
            self._start_series()
            self._replay(actions)

    # -- setting up ---------------------------------------------------------------------------

    def _start_series(self) -> None:
        self._series = TurnSeries(self.ctx)
        self._series(self.game)
        state = self.game.state
        self.start = turn_record(self.ctx, self._series, state.turn - 1, state)

    def _replay(self, actions: Sequence[Action]) -> None:
        """Apply recorded actions, asking each AI player for its move on the way (so its generator
        and plan reach the state they had) as long as it agrees with the record."""
        in_sync = True
        for k, action in enumerate(actions):
            side = self.game.side_to_move() if not self.game.over else None
            player = self._ai.get(side) if side else None
            if player is not None and in_sync:
                try:
                    in_sync = player.choose(self.game, self.game.legal_actions()) == action
                except Exception:  # noqa: BLE001 - an AI that fails here only loses the sync
                    in_sync = False
            try:
                self._apply(action, live=False)
            except IllegalAction as exc:
                message = f"action {k + 1} of {len(actions)} ('{action}') cannot be replayed: {exc}"
                raise InputError(Diagnostic(Pos("<actions>", 1, 1), message)) from None
        if not in_sync:
            # the AI no longer plays as it did when the game was recorded: fresh players, still seeded
            for side in self.ctx.sides:
                if side in self._ai:
                    self._ai[side] = self._new_ai(side)

    def _new_ai(self, side: str) -> Player:
        """The computer player of `side`, seeded from the game's seed, with the window's time
        budget; its profile may also be one of the player's own files (:func:`user_profile_dir`)."""
        k = self.ctx.sides.index(side)
        return make_player(self.ctx, side, self.players[side], player_seed(self.seed, k),
                           search_seconds=AI_PHASE_SECONDS, trusted=[user_profile_dir()])

    # -- who moves ----------------------------------------------------------------------------

    @property
    def human_to_move(self) -> bool:
        return not self.game.over and self.players[self.game.side_to_move()] == HUMAN

    @property
    def side_to_move(self) -> str | None:
        return None if self.game.over else self.game.side_to_move()

    @property
    def humans(self) -> list[str]:
        return [s for s in self.ctx.sides if self.players[s] == HUMAN]

    # -- actions and undo ----------------------------------------------------------------------

    def apply(self, action: Action) -> list[LogEntry]:
        """Check and apply an action (IllegalAction with the reason when it is not legal now);
        records it, keeps the undo snapshots, the history and the autosave."""
        if self._ai_running() and not self.human_to_move:
            if not self._polled or self._polled[0] != action:
                raise IllegalAction(f"illegal action '{action}': the computer is playing "
                                    f"{self._side_name(self.game.side_to_move())} now")
            self._polled.popleft()
        return self._apply(action, live=True)

    def _apply(self, action: Action, *, live: bool) -> list[LogEntry]:
        game = self.game
        state = game.state
        human = not game.over and self.players[game.side_to_move()] == HUMAN
        rolls_before = state.rolls
        snapshot = state.clone() if human and live else None
        turn, active = state.turn, state.active
        log = game.apply(action)  # raises IllegalAction before changing anything
        state = game.state
        self.actions.append(action)
        self.version += 1
        phase_changed = state.turn != turn or state.active != active or game.over
        if phase_changed or isinstance(action, EndPhase) or state.rolls != rolls_before:
            self._undo.clear()
        elif snapshot is not None:
            self._undo.append((snapshot, len(self.actions) - 1))
        before = len(self._series.data["date"])
        self._series(game)
        if len(self._series.data["date"]) > before:
            self.history.append(turn_record(self.ctx, self._series, state.turn if game.over else state.turn - 1, state))
            if live and self.autosave_enabled:
                self._autosave_quietly()
        return log

    def can_undo(self) -> bool:
        """True while the human's last actions of this phase revealed no random result."""
        return bool(self._undo) and self.human_to_move and not self._ai_running()

    def undo(self) -> bool:
        """Take back the last human action of this phase; False when it cannot be."""
        if not self.can_undo():
            return False
        state, index = self._undo.pop()
        self.game.state = state
        del self.actions[index:]
        self.version += 1
        return True

    # -- the AI worker -------------------------------------------------------------------------

    def start_ai(self) -> None:
        """When an AI side is to move: a worker thread plays that side's whole phase on a clone of
        the game and queues the actions (take them with :meth:`poll_ai`). Does nothing when a
        human is to move, the game is over, the AI is already playing or has failed."""
        if self.game.over or self.human_to_move or self._ai_running() or self.ai_error is not None:
            return
        side = self.game.side_to_move()
        player = self._ai[side]
        clone = self.game.clone()
        self._stop = threading.Event()
        self._queue = queue.Queue()
        self._polled.clear()
        self._ai_base, self._ai_made, self._ai_done, self._ai_failed = len(self.actions), 0, False, None
        self._worker = threading.Thread(target=self._ai_phase, args=(player, clone, self._stop, self._queue),
                                        name=f"ai-{side}", daemon=True)
        self._worker.start()

    def _ai_phase(self, player: Player, game: Game, stop: threading.Event, out: queue.Queue) -> None:
        """The worker: play the side to move until the side changes or the game ends."""
        side = game.side_to_move()
        try:
            while not game.over and game.side_to_move() == side and not stop.is_set():
                action = player.choose(game, game.legal_actions())
                game.apply(action)
                self._ai_made += 1
                out.put(action)
        except Exception as exc:  # noqa: BLE001 - reported to the player through poll_ai
            self._ai_failed = (f"the computer player for {self._side_name(side)} failed: "
                               f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        finally:
            self._ai_done = True

    def poll_ai(self) -> Action | None:
        """The next action of the AI's phase, or None when none is ready yet (or none is coming).
        The caller applies it with :meth:`apply` (after animating it). Raises AIError once when
        the computer player failed; the session then stops asking it."""
        try:
            action = self._queue.get_nowait()
        except queue.Empty:
            if self._ai_done and self._ai_failed is not None and self.ai_error is None:
                self.ai_error = self._ai_failed
                raise AIError(self._ai_failed) from None
            return None
        self._polled.append(action)
        return action

    def _ai_running(self) -> bool:
        """The worker's phase is not over: it still thinks, or its actions are not all applied."""
        if self._worker is None:
            return False
        if not self._ai_done:
            return True
        return len(self.actions) - self._ai_base < self._ai_made and self._ai_failed is None

    def ai_busy(self) -> bool:
        """The computer is playing: its worker is thinking or has actions not yet applied."""
        return self._ai_running()

    def stop(self) -> None:
        """Stop the worker (the window is closing); waits at most about a second."""
        self._stop.set()
        worker = self._worker
        if worker is not None and worker.is_alive():
            worker.join(timeout=1.0)

    # -- saves -----------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the game atomically (seed, actions, a snapshot, the players); OSError when the
        file cannot be written."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_save(path, self.game, self.actions, players=self.players)

    @classmethod
    def load(cls, path: str | Path, *, scenario: str | Path | None = None, autosave: bool = True) -> Session:
        """Resume a saved game; InputError with a clear message on a broken, edited or foreign save
        (another scenario, or one that changed since)."""
        shown = str(path)
        save = read_save(path)
        ctx = context_for(save, shown, scenario)

        def fail(message: str) -> InputError:
            return InputError(Diagnostic(Pos(shown, 1, 1), message))

        actions: list[Action] = []
        for k, text in enumerate(save.actions):
            try:
                actions.append(parse_action(text))
            except ValueError as exc:
                raise fail(f"action {k + 1} of {len(save.actions)} ('{text[:40]}') is not an action: {exc}") from None
        players = dict(save.players) or {s: HUMAN for s in ctx.sides}
        if any(s not in ctx.sides for s in players) or not all(isinstance(p, str) for p in players.values()):
            raise fail(f"the save's players {players} do not match the scenario's sides ({', '.join(ctx.sides)})")
        try:  # replayed from the start (an illegal action is an InputError with its index), then checked
            session = cls(ctx, save.seed, players, actions=actions, autosave=autosave, dice=save.dice)
        except ProfileError as exc:
            raise fail(f"the save names a computer player that cannot be made: {exc}") from None
        except InputError as exc:
            raise fail(exc.diagnostics[0].message if exc.diagnostics else str(exc)) from None
        check_rebuilt(save, session.game, shown)
        return session

    def autosave(self) -> Path:
        """Write ``autosave.json`` and ``autosave-turnNN.json`` under :func:`saves_dir`, keeping
        the last few turn autosaves; returns the path of ``autosave.json``. OSError on failure."""
        folder = saves_dir()
        main = folder / AUTOSAVE
        self.save(main)
        turn_file = folder / f"autosave-turn{self.game.state.turn:02d}.json"
        self.save(turn_file)
        olds = sorted(folder.glob("autosave-turn*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
        for old in olds[AUTOSAVE_KEEP:]:
            try:
                old.unlink()
            except OSError:
                pass
        return main

    def _autosave_quietly(self) -> None:
        try:
            self.autosave()
            self.autosave_error = None
        except OSError as exc:
            self.autosave_error = f"the autosave could not be written: {exc.strerror or exc}"

    # -- helpers ------------------------------------------------------------------------------

    def _side_name(self, side: str) -> str:
        return self.ctx.scenario.meta.sides[self.ctx.side_index[side]].name

    @property
    def title(self) -> str:
        return self.ctx.scenario.meta.title


# ---------------------------------------------------------------------------------------------
# files


def saves_dir() -> Path:
    """Where saves go: the folder in the environment variable ``env_var("SAVES")`` (``HEXWAR_SAVES``
    for the app name ``hexwar``), else ``$XDG_DATA_HOME/APP/saves`` (by default
    ``~/.local/share/APP/saves``), APP being :func:`game.app_name`; created on demand."""
    from .. import app_name, env_var

    env = os.environ.get(env_var("SAVES"))
    if env:
        folder = Path(env).expanduser()
    else:
        data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        folder = Path(data) / app_name() / "saves"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_infos(folder: Path | None = None) -> list[SaveInfo]:
    """The save files of a folder (default :func:`saves_dir`), newest first, each with what the load
    list shows; a file that is not a readable save is listed with its error."""
    folder = saves_dir() if folder is None else Path(folder)
    files = sorted(folder.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    return [save_info(p) for p in files]


def save_info(path: Path) -> SaveInfo:
    try:
        data = json.loads(safefile.raw_read(path, MAX_SAVE_BYTES, what="save file").decode("utf-8"))
        if not isinstance(data, dict) or not is_save_format(data.get("format")):
            return SaveInfo(path, error="not a save of this game")
        state = data.get("state") or {}
        return SaveInfo(path, scenario=str(data["scenario"]["id"]), turn=int(state.get("turn", 0)),
                        date=str(state.get("date", "")), saved_at=str(data.get("saved_at", "")),
                        players=dict(data.get("players") or {}), over=state.get("phase") == "over")
    except (OSError, safefile.FileProblem, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return SaveInfo(path, error="unreadable or damaged")
    except (KeyError, TypeError, ValueError, AttributeError):
        return SaveInfo(path, error="a save with missing parts")


def scenario_choices(folder: Path) -> list[ScenarioChoice]:
    """Every scenario file of a folder (``*.yaml``) with its title and description: base scenarios
    first, then variants, each by title. A file that does not validate is listed with its first
    error (the menu shows it, greyed out)."""
    from ..ai.profile import check_plan_profiles
    from ..scenario.validate import validate_file

    out: list[ScenarioChoice] = []
    for path in sorted(Path(folder).glob("*.yaml")):
        report = validate_file(path)
        if report.ok:
            check_plan_profiles(report.result)  # a profile outside its folder greys it out too
        if report.ok:
            s = report.result.scenario
            out.append(ScenarioChoice(path=path, id=s.meta.id, title=s.meta.title,
                                      description=" ".join(s.meta.description.split()),
                                      variant=len(report.result.files) > 1,
                                      sides=tuple((x.id, x.name) for x in s.meta.sides),
                                      start=s.meta.start_date.isoformat(), turns=s.meta.turns,
                                      days_per_turn=s.meta.days_per_turn))
        else:
            errors = report.result.diagnostics.errors
            first = errors[0].format() if errors else "it does not validate"
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            out.append(ScenarioChoice(path=path, id=path.stem, title=path.stem, description="", variant=False,
                                      error=first + more))
    out.sort(key=lambda c: (c.error is not None, c.variant, c.title.lower()))
    return out
