"""Saved games and replays.

A game is (scenario + content hash, seed, action list). A save file is JSON holding exactly
that, plus a snapshot of the state (to resume without replaying), the final state hash, and a
SHA-256 checksum over everything else. It is written atomically (temporary file, fsync,
rename), so a crash never leaves a half-written save over a good one.

Loading checks, and reports with the file's name (and line and column for JSON syntax errors):
that the file is JSON, that it is a save of this format, that its checksum matches (it was not
edited or truncated), that the scenario exists and has the same content hash, and that the
snapshot rebuilds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import safefile
from ..atomic import write_text_atomic
from ..diagnostics import Diagnostic, InputError, Pos
from .actions import Action, parse_action
from .context import Context, load_context
from .engine import Game, IllegalAction, new_game
from .state import DICE, Dice, canonical_json

SAVE_FORMAT = "hexwar-save"  # the format id written
SAVE_FORMAT_SUFFIX = "-save"  # read: any '<program>-save' id, so saves of the program under an earlier name load
SAVE_VERSION = 1
MAX_SAVE_BYTES = 64 * 1024 * 1024


@dataclass
class Save:
    scenario_path: Path  # resolved
    scenario_id: str
    scenario_hash: str
    seed: int
    actions: list[str]
    state: dict[str, Any]
    state_hash: str
    players: dict[str, str]
    dice: Dice = "stream"  # saves made before keyed dice have no "dice" and replay on the stream


def save_dict(game: Game, actions: list[Action], *, save_path: Path, players: dict[str, str] | None = None) -> dict:
    ctx, state = game.ctx, game.state
    scenario = Path(ctx.path)
    try:
        shown = os.path.relpath(scenario.resolve(), save_path.resolve().parent)
    except ValueError:
        shown = str(scenario.resolve())
    body = {
        "format": SAVE_FORMAT,
        "version": SAVE_VERSION,
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scenario": {"id": ctx.scenario.meta.id, "path": shown, "hash": ctx.content_hash},
        "seed": state.seed,
        "dice": state.dice,
        "players": players or {},
        "actions": [str(a) for a in actions],
        "state": state.to_dict(),
        "state_hash": state.state_hash(),
    }
    body["checksum"] = _checksum(body)
    return body


def _checksum(body: dict) -> str:
    rest = {k: v for k, v in body.items() if k != "checksum"}
    return hashlib.sha256(canonical_json(rest).encode()).hexdigest()


def write_save(path: str | Path, game: Game, actions: list[Action], players: dict[str, str] | None = None) -> None:
    path = Path(path)
    text = json.dumps(save_dict(game, actions, save_path=path, players=players), separators=(",", ":"))
    write_text_atomic(path, text + "\n")


def is_save_format(value: object) -> bool:
    """Whether a save's ``format`` is one this program reads: :data:`SAVE_FORMAT`, or the id an
    earlier name of the program wrote (any ``NAME-save``; the version and the checksum are checked
    apart)."""
    return isinstance(value, str) and value.endswith(SAVE_FORMAT_SUFFIX) and len(value) > len(SAVE_FORMAT_SUFFIX)


def read_save(path: str | Path) -> Save:
    """Read and check a save file; InputError with a clear message when anything is wrong."""
    path = Path(path)
    shown = str(path)
    at = Pos(shown, 1, 1)

    def fail(message: str, pos: Pos = at) -> InputError:
        return InputError(Diagnostic(pos, message))

    text = safefile.read_text(path, shown, MAX_SAVE_BYTES, what="save file", text="a save file (JSON text)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"not a save file, or a damaged one: JSON error: {exc.msg}",
                   Pos(shown, exc.lineno, exc.colno)) from None
    except ValueError:  # an integer of more digits than Python converts
        raise fail("not a save file, or a damaged one: it holds a number of thousands of digits") from None
    except RecursionError:
        raise fail("not a save file, or a damaged one: its JSON is nested too deeply") from None
    if not isinstance(data, dict) or not is_save_format(data.get("format")):
        raise fail(f"not a save file of this game (expected \"format\": \"{SAVE_FORMAT}\")")
    if data.get("version") != SAVE_VERSION:
        raise fail(f"save version {data.get('version')!r} is not supported (expected {SAVE_VERSION})")
    if data.get("checksum") != _checksum(data):
        raise fail("the save was changed or damaged after it was written (checksum mismatch); "
                   "it cannot be trusted")
    if not isinstance(data.get("scenario"), dict):
        raise fail("the save's \"scenario\" is not a mapping of id, path and hash")
    if not isinstance(data.get("actions"), list) or not all(isinstance(a, str) for a in data["actions"]):
        raise fail("the save's \"actions\" is not a list of actions (text)")
    try:
        sc = data["scenario"]
        try:  # the path as the save writes it (a message that does not depend on where it is read)
            safefile.check_path_text(str(sc["path"]))
        except safefile.FileProblem as exc:
            raise fail(f"the save's scenario path cannot be used: {exc}") from None
        scenario = Path(sc["path"])
        if not scenario.is_absolute():
            scenario = path.resolve().parent / scenario
        return Save(scenario_path=scenario, scenario_id=str(sc["id"]), scenario_hash=str(sc["hash"]),
                    seed=_seed(data["seed"]), actions=[str(a) for a in data["actions"]], state=data["state"],
                    state_hash=str(data["state_hash"]), players=dict(data.get("players") or {}),
                    dice=_dice(data.get("dice", "stream")))
    except (KeyError, TypeError, ValueError) as exc:
        raise fail(f"the save is missing a part or has a wrong value ({exc})") from None


def _seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError(f"the seed {str(value)[:40]!r} is not a whole number from 0 to 2^63 - 1")
    return value


def _dice(value: object) -> Dice:
    if value not in DICE:
        raise ValueError(f"dice '{value}' is not one of {', '.join(DICE)}")
    return value


def context_for(save: Save, shown: str, scenario: str | Path | None = None) -> Context:
    """The scenario context a save was made with, checked against the save's content hash."""
    path = Path(scenario) if scenario is not None else save.scenario_path
    at = Pos(shown, 1, 1)
    try:
        safefile.check_path_text(str(path))
    except safefile.FileProblem as exc:
        raise InputError(Diagnostic(at, f"the save's scenario path cannot be used: {exc}")) from None
    if not os.path.isfile(path):
        raise InputError(Diagnostic(at, f"the save's scenario {path} is not there; give its location with --scenario"))
    ctx = load_context(path)
    if ctx.scenario.meta.id != save.scenario_id:
        raise InputError(Diagnostic(at, f"the save is of scenario '{save.scenario_id}', but {path} is scenario "
                                        f"'{ctx.scenario.meta.id}'; give the save's scenario with --scenario"))
    if ctx.content_hash != save.scenario_hash:
        raise InputError(Diagnostic(at, f"the save was made with a different version of scenario "
                                        f"'{save.scenario_id}' ({path} has changed since)"))
    return ctx


def load_game(path: str | Path, scenario: str | Path | None = None) -> tuple[Game, Save]:
    """Resume a saved game: rebuilt from its scenario, seed and actions (:func:`rebuild`), never
    taken on trust from the snapshot."""
    save = read_save(path)
    return rebuild(save, str(path), scenario), save


def rebuild(save: Save, shown: str, scenario: str | Path | None = None) -> Game:
    """The game a save describes, replayed from the start: the scenario must be the one it names
    (by id and content hash), every action must be legal, and the snapshot and final state hash it
    stores must be those of the replayed game; InputError saying which part differs otherwise. So
    a save is trusted for nothing it can recompute: an edited snapshot with a recomputed checksum
    is refused, and the game resumed is always the replayed one."""
    ctx = context_for(save, shown, scenario)
    game = replay(ctx, save.seed, save.actions, shown, save.dice)
    check_rebuilt(save, game, shown)
    return game


def check_rebuilt(save: Save, game: Game, shown: str) -> None:
    """InputError unless `game`, replayed from the save's actions, has the save's final state hash
    and state snapshot (the message says where the snapshot differs)."""
    at = Pos(shown, 1, 1)
    got = game.state.state_hash()
    if got != save.state_hash:
        raise InputError(Diagnostic(at, f"replay does not reproduce the saved game: final state hash {got} "
                                        f"differs from the saved {save.state_hash}"))
    where = first_difference(save.state, json.loads(json.dumps(game.state.to_dict())))
    if where is not None:
        raise InputError(Diagnostic(at, f"the save's state snapshot is not the game its actions make: it differs "
                                        f"at {where}; the save was edited, and is refused"))


def first_difference(stored: Any, rebuilt: Any, path: str = "state", depth: int = 0) -> str | None:
    """The path of the first value where two JSON trees differ, or None when they are equal."""
    if depth > 64:
        return path
    if isinstance(stored, dict) and isinstance(rebuilt, dict):
        for key in sorted(set(stored) | set(rebuilt), key=str):
            if key not in stored or key not in rebuilt:
                return f"{path}.{key}"
            found = first_difference(stored[key], rebuilt[key], f"{path}.{key}", depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(stored, list) and isinstance(rebuilt, list):
        if len(stored) != len(rebuilt):
            return f"{path} (length {len(stored)}, the replay gives {len(rebuilt)})"
        for k, (a, b) in enumerate(zip(stored, rebuilt)):
            found = first_difference(a, b, f"{path}[{k}]", depth + 1)
            if found is not None:
                return found
        return None
    if type(stored) is not type(rebuilt) and not (isinstance(stored, (int, float)) and isinstance(rebuilt, (int, float))
                                                  and not isinstance(stored, bool) and not isinstance(rebuilt, bool)):
        return path
    return None if stored == rebuilt else path


def replay(ctx: Context, seed: int, actions: list[str], shown: str = "<replay>", dice: Dice = "keyed") -> Game:
    """Play `actions` from the start with `seed` (and its `dice`); InputError at the first one that fails."""
    game = Game(ctx, new_game(ctx, seed, dice))
    for k, text in enumerate(actions):
        try:
            game.apply(parse_action(text))
        except (ValueError, IllegalAction) as exc:
            raise InputError(Diagnostic(Pos(shown, 1, 1), f"action {k + 1} of {len(actions)} ('{text}') "
                                                          f"cannot be replayed: {exc}")) from None
    return game
