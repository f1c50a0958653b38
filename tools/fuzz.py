"""A structure-aware fuzzer of scenarios and saves (issue 17, section 2).

    python tools/fuzz.py [--cases N] [--seed S] [--workers W] [--timeout T] [--out DIR]
                         [--seeds henan,ichigo,whatif,save_henan,save_henan_stream,save_ichigo]

Every case starts from a seed (the example scenario, Ichi-Go, one what-if that ``extends``
Ichi-Go, or a save this tool makes by playing a few random actions), applies one to three
mutations chosen by a generator seeded with (S, case number), writes the result into a folder of
its own (with copies of the files the seed needs, so relative ``extends`` and scenario paths
resolve) and runs the program on it as a subprocess, under a timeout and a memory limit:

* a scenario: ``main.py validate FILE``; when that says ok, a short headless game of the same
  file (``tools/fuzz.py _play FILE``: load_context, the AI or random players, a few turns, the
  invariants of tests/test_engine.py checked after every action);
* a save: ``main.py replay --verify FILE``, then ``tools/fuzz.py _resume FILE`` (load_game: the
  snapshot, then a few turns of random play from it, invariants checked) and, for a share of the
  cases (--ui-rate), ``main.py play --load FILE --frames 2`` on a dummy display.

Each run is classified: ``ok`` (exit 0), ``clean_error`` (exit 1 with a ``FILE[:LINE:COL]: error:``
line and no traceback), ``play_refused`` (validate said ok but loading it to play refused it:
reported, not a failure), and the failures: ``unclean_error`` (exit 1 without such a line, or with
a traceback), ``other`` (any other exit), ``internal_error`` (exit 70, with the bug report the
program wrote), ``hang`` (the timeout), and, worst, ``play_violation`` (an invariant broken in
play), ``play_hang`` and ``play_crash``. A case is as bad as its worst run.

--out DIR gets summary.json and failures/NNNN-CLASS/ per failing case: the case's folder (case/),
the command (repro.sh, run from anywhere), the output and the program's bug report. The printed
summary gives the counts per class, the median and longest time per case and the distinct failure
signatures (the exception type and innermost project frame of a bug report, the place a hang was
stopped at, or the first line of the output). The exit code is 1 when any case failed.

Children run with ``-X faulthandler``: at the timeout they get SIGABRT first, so a hang's output
ends with the Python stack it was stuck in (its signature), then SIGKILL.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "main.py"
THIS = Path(__file__).resolve()
SCENARIOS = ROOT / "scenarios"

OK, CLEAN, REFUSED = "ok", "clean_error", "play_refused"
UNCLEAN, OTHER, INTERNAL, HANG = "unclean_error", "other", "internal_error", "hang"
PLAY_VIOLATION, PLAY_HANG, PLAY_CRASH = "play_violation", "play_hang", "play_crash"
#: least to most severe; a case is classed by its worst run
SEVERITY = [OK, CLEAN, REFUSED, UNCLEAN, OTHER, INTERNAL, HANG, PLAY_VIOLATION, PLAY_HANG, PLAY_CRASH]
FAILING = frozenset(SEVERITY[SEVERITY.index(UNCLEAN):])

#: helper exit codes (the _play and _resume modes)
H_LOAD_CRASH, H_VIOLATION, H_PLAY_CRASH = 70, 71, 72

ERROR_LINE = re.compile(r"^\S[^\n]*?: error: ", re.M)
BUG_FILE = re.compile(r"The details are in (\S+?\.txt)")
TRACEBACK = "Traceback (most recent call last)"


# ---------------------------------------------------------------------------------------------
# seeds


@dataclass(frozen=True)
class Seed:
    name: str
    kind: str  # "scenario" or "save"
    src: Path  # folder the files are copied from
    files: tuple[str, ...]  # copied into the case's scen/ folder
    target: str  # the file mutated and given to the program
    base: str | None = None  # a variant's base (mutated instead, sometimes)
    dice: str = "keyed"  # saves: the dice of the game


WHATIF = "whatif_no_famine.yaml"
SEEDS: dict[str, Seed] = {s.name: s for s in (
    Seed("henan", "scenario", SCENARIOS / "examples", ("henan_1944.yaml", "henan_1944_no_famine.yaml"),
         "henan_1944.yaml"),
    Seed("ichigo", "scenario", SCENARIOS, ("ichigo_1944.yaml",), "ichigo_1944.yaml"),
    Seed("whatif", "scenario", SCENARIOS, ("ichigo_1944.yaml", WHATIF), WHATIF, base="ichigo_1944.yaml"),
    Seed("save_henan", "save", SCENARIOS / "examples", ("henan_1944.yaml",), "game.save.json"),
    Seed("save_henan_stream", "save", SCENARIOS / "examples", ("henan_1944.yaml",), "game.save.json",
         dice="stream"),
    Seed("save_ichigo", "save", SCENARIOS, ("ichigo_1944.yaml",), "game.save.json"),
)}
WEIGHTS = {"henan": 34, "ichigo": 12, "whatif": 20, "save_henan": 18, "save_henan_stream": 6, "save_ichigo": 10}


def make_save_seeds(folder: Path, names: list[str], actions: int = 40) -> dict[str, dict]:
    """Play a few random actions of each save seed's scenario and save the game; {name: save dict}."""
    sys.path.insert(0, str(ROOT))
    from game.rules.context import load_context
    from game.rules.engine import Game
    from game.rules.players import RandomPlayer
    from game.rules.saves import write_save

    made: dict[str, dict] = {}
    for name in names:
        seed = SEEDS[name]
        where = folder / name
        where.mkdir(parents=True, exist_ok=True)
        scenario = seed.files[0]
        shutil.copy2(seed.src / scenario, where / scenario)
        ctx = load_context(where / scenario)
        game = Game.new(ctx, 17, seed.dice)
        players = {s: RandomPlayer(seed=5 + k, end_bias=0.2) for k, s in enumerate(ctx.sides)}
        taken = []
        while not game.over and len(taken) < actions:
            action = players[game.side_to_move()].choose(game, game.legal_actions())
            game.apply(action)
            taken.append(action)
        write_save(where / seed.target, game, taken, players={s: "random" for s in ctx.sides})
        made[name] = json.loads((where / seed.target).read_text())
    return made


# ---------------------------------------------------------------------------------------------
# values written verbatim


class Raw:
    """A value written into the file as these exact bytes (YAML or JSON text that a dumper would
    not write: deep nesting, a 100,000-digit integer, invalid UTF-8, a tag)."""

    def __init__(self, text: str | bytes):
        self.data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")

    def __repr__(self) -> str:
        shown = self.data[:60].decode("utf-8", "backslashreplace")
        return f"Raw({shown}{'...' if len(self.data) > 60 else ''} [{len(self.data)} bytes])"

    def __deepcopy__(self, memo):
        return self


def ystr(s: str) -> Raw:
    """A YAML double-quoted string (JSON's escapes are YAML's), surrogates as \\u escapes."""
    return Raw(json.dumps(s, ensure_ascii=True))


_SURROGATE = re.compile("[\ud800-\udfff]")


def _materialize(data: Any, raws: dict[str, bytes]) -> Any:
    if isinstance(data, Raw):
        token = f"FZRAW{len(raws):06d}Q"
        raws[token] = data.data
        return token
    if isinstance(data, str) and _SURROGATE.search(data):  # libyaml's emitter refuses them: escapes
        return _materialize(ystr(data), raws)
    if isinstance(data, dict):  # a key may be a Raw too (a mutated key)
        return {_materialize(k, raws): _materialize(v, raws) for k, v in data.items()}
    if isinstance(data, list):
        return [_materialize(v, raws) for v in data]
    return data


def _substitute(text: bytes, raws: dict[str, bytes], quoted: bool) -> bytes:
    for token, value in raws.items():
        key = f'"{token}"'.encode() if quoted else token.encode()
        text = text.replace(key, value)
    return text


def special_file(kind: str, path: Path, rng: Any, devices: list[str]) -> bool:
    """Make `path` a file that is no regular file, if `kind` names one: a FIFO, a link to one of
    `devices`, a symlink loop (two links beside it with the same suffix), a dangling link, a
    folder. Whether it did."""
    folder, suffix = path.parent, path.suffix
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink_zero":
        os.symlink(rng.choice(devices), path)
    elif kind == "symlink_loop":
        os.symlink(f"fz_loop_b{suffix}", folder / f"fz_loop_a{suffix}")
        os.symlink(f"fz_loop_a{suffix}", folder / f"fz_loop_b{suffix}")
        os.symlink(f"fz_loop_a{suffix}", path)
    elif kind == "dangling_symlink":
        os.symlink(f"fz_nowhere{suffix}", path)
    elif kind == "directory":
        path.mkdir()
    else:
        return False
    return True


def dump_yaml(data: Any) -> bytes:
    import yaml

    raws: dict[str, bytes] = {}
    plain = _materialize(data, raws)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(plain, Dumper=dumper, allow_unicode=True, sort_keys=False, width=4096,
                     default_flow_style=None)
    return _substitute(text.encode("utf-8", "surrogatepass"), raws, quoted=False)


def dump_json(data: Any) -> bytes:
    raws: dict[str, bytes] = {}
    plain = _materialize(data, raws)
    text = json.dumps(plain, separators=(",", ":"), default=_json_text)
    return _substitute(text.encode("utf-8", "surrogatepass"), raws, quoted=True)


def _json_text(value: Any) -> str:
    """What JSON has no type for (a date a mutation put into a save) is written as its text."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_YAML_CACHE: dict[Path, Any] = {}
_LOADER: Any = None


def _loader() -> Any:
    """PyYAML's safe loader reading booleans as YAML 1.2 does (true/false only: the scenario
    format's key ``on`` is a string, not True)."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        resolvers = {first: [(tag, rx) for tag, rx in entries if tag != "tag:yaml.org,2002:bool"]
                     for first, entries in base.yaml_implicit_resolvers.items()}
        _LOADER = type("FuzzLoader", (base,), {"yaml_implicit_resolvers": resolvers})
        _LOADER.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                      list("tTfF"))
    return _LOADER


def load_yaml_file(path: Path) -> Any:
    import yaml

    if path not in _YAML_CACHE:
        _YAML_CACHE[path] = yaml.load(path.read_text(encoding="utf-8"), Loader=_loader())
    return copy.deepcopy(_YAML_CACHE[path])


# ---------------------------------------------------------------------------------------------
# the tree: picking nodes


def nodes(data: Any, path: tuple = ()) -> list[tuple[Any, Any, tuple]]:
    """Every (container, key, path) below `data`."""
    out: list[tuple[Any, Any, tuple]] = []
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))
    else:
        return out
    for k, v in items:
        out.append((data, k, (*path, k)))
        out.extend(nodes(v, (*path, k)))
    return out


def pick(rng: random.Random, data: Any, pred: Callable[[Any, Any, tuple], bool] | None = None):
    """A node, by section first (so a small section is as likely as the map), then uniformly."""
    found = [n for n in nodes(data) if pred is None or pred(*n)]
    if not found:
        return None
    sections: dict[Any, list] = {}
    for n in found:
        sections.setdefault(n[2][0], []).append(n)
    return rng.choice(sections[rng.choice(list(sections))])


def show(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "<top>"


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 70 else text[:60] + f"...[{len(text)}]"


def delete(container: Any, key: Any) -> None:
    if isinstance(container, dict):
        del container[key]
    else:
        container.pop(key)


# ---------------------------------------------------------------------------------------------
# values

HUGE_DIGITS = "9" * 100_000


def weird_numbers() -> list[Any]:
    return [10**400, -10**18, 1e308, -1e308, float("nan"), float("inf"), float("-inf"), 2**63, 2**64, -1, 0, -0.0,
            5e-324, 2**53 + 1, Raw(HUGE_DIGITS), Raw("1.0e+400"), Raw("-1" + "0" * 5000), 0.5, 10**6]


def weird_strings() -> list[Any]:
    return ["\u202eevil\u202c", "e" + "\u0301" * 300, "nul\x00byte", "half\udcffsurrogate", "\ud800", "\ufeffbom",
            "line\u2028sep", "\U0001f4a3" * 50, "zw\u200d\u200b", "\u0645\u0631\u062d\u0628\u0627", "\u6cb3\u5357",
            "tab\there", "new\nline", "", " ", "%s%n{0}", "../../etc/passwd", "\x1b[31mred", "\x7f\x01",
            Raw(b"\xed\xb3\xbf"), Raw(b"\xff\xfe"), Raw(b'"\\ud800"'), Raw(b'"\\x00"'), Raw(b'"\\U00110000"')]


def type_swaps(current: Any) -> list[Any]:
    options = ["text", 7, 2.5, [1, "a"], {"k": "v"}, None, True, False, [], {}, "7", dt.date(1944, 5, 1)]
    return [o for o in options if type(o) is not type(current)]


FAR_DATES = [dt.date(9999, 12, 31), dt.date(1, 1, 1), dt.date(9999, 12, 28), Raw("9999-12-31"),
             Raw("0001-01-01"), Raw("1944-02-30"), Raw("10000-01-01"), Raw("2001-12-14t21:59:43.10-05:00"),
             "1944-13-01", 10**400, Raw(HUGE_DIGITS), -1, dt.date(1900, 1, 1), dt.date(2100, 1, 1)]
DATE_KEYS = {"date", "start", "end", "start_date", "accept_from", "accept_to", "earliest", "latest", "from", "to",
             "until"}


def deep(depth: int, kind: str = "list") -> Raw:
    if kind == "list":
        return Raw("[" * depth + "]" * depth)
    return Raw("{a: " * depth + "1" + "}" * depth)


def deep_json(depth: int, kind: str = "list") -> Raw:
    if kind == "list":
        return Raw("[" * depth + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


YAML_RAW = ["*undefined_alias", "!!python/object/apply:os.system ['true']", "!!binary AAAA", "!!set {a, b}",
            "!!timestamp 2001-12-14t21:59:43.10-05:00", "1.0e+400", "-.inf", ".NaN", "0x" + "f" * 100, "0o777",
            "1_000", "!!int 99999", "!!float nan", "&a [*a]", "!custom tag", "'unterminated", "[1, 2",
            "{a: 1, a: 2}", "? [complex, key]", "~", "!!str", "!!null x", "!!map []", "!!seq {}", "&x 5",
            "[&b x, *b, *b]", "!!bool maybe", "!<tag:yaml.org,2002:str> 5", "|\n  literal", "@reserved",
            "`backtick", "- item", "{" * 10 + "}" * 10, "\t", "!!omap [a: 1]", "!!pairs [a: 1]"]


# ---------------------------------------------------------------------------------------------
# scenario mutations


@dataclass
class Case:
    index: int
    seed: str
    dir: Path
    target: Path  # relative to dir
    mutations: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)  # kinds, for the signature of a hang
    players: str = "ai"
    ui: bool = False


class Builder:
    """Writes one mutated case into its folder."""

    def __init__(self, case: Case, rng: random.Random, seed: Seed):
        self.case, self.rng, self.seed = case, rng, seed
        self.scen = case.dir / "scen"
        self.files: dict[str, Any] = {}  # name in scen/ -> data to write (or bytes)

    def note(self, op: str, text: str) -> None:
        self.case.ops.append(op)
        self.case.mutations.append(f"{op}: {text}")

    # --- helpers making extra files ------------------------------------------------------

    def extra(self, name: str, data: Any) -> str:
        self.files[name] = data
        return name

    def outside_copy(self) -> str:
        """A valid scenario outside the scenario folder (in the case's folder)."""
        src = self.seed.src / (self.seed.base or self.seed.target)
        shutil.copy2(src, self.case.dir / "fz_outside.yaml")
        return "fz_outside.yaml"

    def fifo(self, name: str) -> str:
        os.mkfifo(self.scen / name)
        return name

    def symlink(self, name: str, to: str) -> str:
        os.symlink(to, self.scen / name)
        return name

    def ids(self, data: Any) -> set[str]:
        return {c[k]["id"] for c, k, _ in nodes(data) if isinstance(c[k], dict) and isinstance(c[k].get("id"), str)}

    def sides(self, data: Any) -> list[str]:
        try:
            return [s["id"] for s in data["meta"]["sides"]] or ["japan", "china"]
        except (KeyError, TypeError):
            return ["japan", "china"]

    # --- the operations --------------------------------------------------------------------

    def op_delete(self, data: Any) -> None:
        n = pick(self.rng, data)
        if n:
            delete(n[0], n[1])
            self.note("delete", show(n[2]))

    def op_type_swap(self, data: Any) -> None:
        n = pick(self.rng, data)
        if n:
            value = self.rng.choice(type_swaps(n[0][n[1]]))
            n[0][n[1]] = value
            self.note("type_swap", f"{show(n[2])} = {short(value)}")

    def op_number(self, data: Any) -> None:
        n = pick(self.rng, data, lambda c, k, p: isinstance(c[k], int | float) and not isinstance(c[k], bool))
        n = n or pick(self.rng, data)
        if n:
            value = self.rng.choice(weird_numbers())
            n[0][n[1]] = value
            self.note("number", f"{show(n[2])} = {short(value)}")

    def op_date(self, data: Any) -> None:
        n = pick(self.rng, data, lambda c, k, p: isinstance(c[k], dt.date) or (isinstance(k, str) and k in DATE_KEYS))
        if n is None:
            meta = data.setdefault("meta", {}) if isinstance(data, dict) else {}
            n = (meta, "start_date", ("meta", "start_date"))
        value = self.rng.choice(FAR_DATES)
        n[0][n[1]] = value
        self.note("date", f"{show(n[2])} = {short(value)}")

    def op_unicode(self, data: Any) -> None:
        n = pick(self.rng, data, lambda c, k, p: isinstance(c[k], str))
        if n is None:
            return
        weird = self.rng.choice(weird_strings())
        old = n[0][n[1]]
        if not isinstance(weird, Raw) and self.rng.random() < 0.5:
            weird = old + weird  # keep the value, add to it
        n[0][n[1]] = ystr(weird) if isinstance(weird, str) and self.rng.random() < 0.5 else weird
        self.note("unicode", f"{show(n[2])} = {short(weird)}")

    def op_long_string(self, data: Any) -> None:
        n = pick(self.rng, data, lambda c, k, p: isinstance(c[k], str)) or pick(self.rng, data)
        if n is None:
            return
        size = self.rng.choice([1_000, 100_000, 2_000_000])
        style = self.rng.choice(["id", "spaces", "unicode"])
        if style == "id":
            value = Raw("a" * size)
        elif style == "spaces":
            value = Raw(json.dumps("word " * (size // 5)))
        else:
            value = Raw(json.dumps("\u6cb3\u0301\u202e" * (size // 3), ensure_ascii=False))
        n[0][n[1]] = value
        self.note("long_string", f"{show(n[2])} = {style} x{size}")

    def op_dangling(self, data: Any) -> None:
        ids = self.ids(data)
        n = pick(self.rng, data, lambda c, k, p: isinstance(c[k], str) and c[k] in ids and k != "id")
        if n is None:
            return self.op_unit_place(data)
        others = sorted(ids - {n[0][n[1]]})
        value = self.rng.choice(["ghost_" + str(self.rng.randrange(1000)), n[0][n[1]] + "x",
                                 self.rng.choice(others) if others else "ghost", n[0][n[1]].upper()])
        n[0][n[1]] = value
        self.note("dangling_ref", f"{show(n[2])} = {short(value)}")

    def op_unit_place(self, data: Any) -> None:
        units = data.get("units") if isinstance(data, dict) else None
        if not isinstance(units, list) or not units or not isinstance(units[0], dict):
            data.setdefault("units", []) if isinstance(data, dict) else None
            units = data["units"] = [{"id": "fz_unit", "name": "Fuzz", "side": self.sides(data)[0],
                                      "type": "infantry", "strength": 1000}]
        unit = self.rng.choice([u for u in units if isinstance(u, dict)] or [{}])
        unit.pop("at", None)
        unit.pop("hex", None)
        key, value = self.rng.choice([
            ("at", "nowhere_land"), ("at", [10**400, 113.0]), ("at", [1e308, 1e308]),
            ("at", [float("nan"), float("nan")]), ("at", [float("inf"), 0]), ("hex", [10**400, 0]),
            ("hex", [-1, -1]), ("hex", [2**63, 2**63]), ("hex", [0.5, 1.5]), ("at", [33.0]),
            ("at", [Raw(HUGE_DIGITS), 1]), ("hex", [Raw("1.0e+400"), 0]), ("at", []), ("at", [[], {}]),
            ("at", [34.0, 113.5, 7]), ("hex", [10**18, -10**18])])
        unit[key] = value
        self.note("unit_place", f"units[{unit.get('id')}].{key} = {short(value)}")

    def op_event_unit(self, data: Any) -> None:
        meta = data.get("meta") if isinstance(data, dict) else None
        start = meta.get("start_date") if isinstance(meta, dict) else None
        start = start if isinstance(start, dt.date) else dt.date(1944, 5, 1)
        kind = self.rng.choice(["withdraw_effect", "withdrawal", "axis", "doctrine", "reinforce_effect"])
        if kind == "withdraw_effect":
            effect = {"type": "withdraw", "units": ["ghost_unit"]}
            events = data.setdefault("events", [])
            if isinstance(events, list) and events and isinstance(events[0], dict):
                self.rng.choice(events).setdefault("effects", []).append(effect)
            else:
                data["events"] = [{"id": "fz_event", "name": "Fuzz", "date": start, "effects": [effect]}]
        elif kind == "reinforce_effect":
            effect = {"type": "reinforce", "reinforcement": "ghost_reinforcement"}
            data.setdefault("events", []).append({"id": "fz_event2", "name": "Fuzz", "date": start,
                                                  "effects": [effect]})
        elif kind == "withdrawal":
            data.setdefault("withdrawals", []).append({"id": "fz_gone", "date": start, "units": ["ghost_unit"]})
        elif kind == "axis":
            side = self.sides(data)[0]
            data.setdefault("ai", {}).setdefault(side, {})["axes"] = [
                {"name": "Fuzz axis", "units": ["ghost_unit"], "objectives": ["ghost_place"]}]
        else:
            data.setdefault("doctrine", []).append({"id": "fz_order", "name": "Fuzz", "side": self.sides(data)[0],
                                                    "units": ["ghost_unit"], "stand": True})
        self.note("event_unit", kind)

    def op_extends(self, data: Any) -> None:
        rng = self.rng
        base = self.seed.base or self.seed.target
        real = "fz_real.yaml"
        kind = rng.choice(["missing", "cycle", "self", "cycle3", "chain", "long", "absolute", "outside", "type",
                           "directory", "fifo", "symlink_zero", "symlink_loop", "symlink_outside", "nul",
                           "unicode", "dotdot_long", "inside_abs", "symlink_dir"])
        if kind in ("chain", "inside_abs") or self.seed.base is None:
            shutil.copy2(self.seed.src / base, self.scen / real)
        target = self.seed.target
        if kind == "missing":
            value = self.extra("fz_b.yaml", {"extends": "fz_missing.yaml", "meta": {"title": "B"}})
        elif kind == "cycle":
            value = self.extra("fz_b.yaml", {"extends": target})
        elif kind == "self":
            value = target
        elif kind == "cycle3":
            self.extra("fz_c.yaml", {"extends": "fz_b.yaml"})
            value = self.extra("fz_b.yaml", {"extends": "fz_c.yaml"})
        elif kind == "chain":
            depth = rng.choice([15, 16, 17, 40])
            for k in range(depth):
                self.extra(f"fz_c{k}.yaml", {"extends": f"fz_c{k + 1}.yaml" if k + 1 < depth else real})
            value = "fz_c0.yaml"
            kind = f"chain{depth}"
        elif kind == "long":
            value = rng.choice(["x" * 255 + ".yaml", "x" * 5000 + ".yaml", "x" * 100_000 + ".yaml",
                                "a/" * 3000 + "b.yaml", "./" * 50_000 + real])
        elif kind == "dotdot_long":
            value = rng.choice(["../" * 5000 + "etc/passwd", "../" * 2 + "fz_outside.yaml", "sub/../../x.yaml"])
            self.outside_copy()
        elif kind == "absolute":
            value = rng.choice(["/etc/passwd", "/dev/zero", "/dev/stdin", "/dev/urandom", "/proc/self/mem", "/",
                                "/nonexistent/x.yaml", "//", "/etc/shadow"])
        elif kind == "inside_abs":
            value = str(self.scen / real)
        elif kind == "outside":
            value = "../" + self.outside_copy()
        elif kind == "type":
            value = rng.choice([5, ["a.yaml", "b.yaml"], None, {"k": "v"}, "", ".", True, 10**400, 1.5, [base]])
        elif kind == "directory":
            (self.scen / "fz_dir").mkdir()
            value = rng.choice(["fz_dir", "fz_dir/", "."])
        elif kind == "fifo":
            value = self.fifo("fz_fifo.yaml")
        elif kind == "symlink_zero":
            value = self.symlink("fz_zero.yaml", "/dev/zero")
        elif kind == "symlink_loop":
            self.symlink("fz_lb.yaml", "fz_la.yaml")
            value = self.symlink("fz_la.yaml", "fz_lb.yaml")
        elif kind == "symlink_outside":
            self.outside_copy()
            value = self.symlink("fz_ln.yaml", "../fz_outside.yaml")
        elif kind == "symlink_dir":
            value = self.symlink("fz_sd", ".") + "/" + target
        elif kind == "nul":
            value = "fz\x00b.yaml"
        else:  # unicode
            value = rng.choice(["\u202e.yaml", "fz\udcff.yaml", "\u6cb3\u5357.yaml", "e\u0301.yaml"])
        if self.seed.base is None and kind not in ("cycle", "self", "cycle3", "missing"):
            pass  # a complete file with a base: merged over it
        data["extends"] = value
        self.note(f"extends:{kind}", short(value))

    def op_profile(self, data: Any) -> None:
        rng = self.rng
        kind = rng.choice(["etc_passwd", "dev_zero", "dotdot", "fifo", "loop", "outside_file", "long", "empty",
                           "missing", "type", "nul", "search", "builtin", "dir"])
        if kind == "etc_passwd":
            value: Any = "/etc/passwd"
        elif kind == "dev_zero":
            value = "/dev/zero"
        elif kind == "dotdot":
            value = rng.choice(["../../../../../../etc/passwd", "../fz_profile.yaml"])
            shutil.copy2(ROOT / "game" / "ai" / "profiles" / "default.yaml", self.case.dir / "fz_profile.yaml")
        elif kind == "fifo":
            value = "scen/" + self.fifo("fz_pfifo.yaml")
        elif kind == "loop":
            self.symlink("fz_pb.yaml", "fz_pa.yaml")
            value = "scen/" + self.symlink("fz_pa.yaml", "fz_pb.yaml")
        elif kind == "outside_file":
            shutil.copy2(ROOT / "game" / "ai" / "profiles" / "default.yaml", self.case.dir / "fz_profile.yaml")
            value = str(self.case.dir / "fz_profile.yaml")
        elif kind == "long":
            value = "x" * rng.choice([300, 5000, 100_000])
        elif kind == "empty":
            value = ""
        elif kind == "missing":
            value = "no_such_profile"
        elif kind == "type":
            value = rng.choice([5, ["a"], {"k": "v"}, True, 10**400])
        elif kind == "nul":
            value = "def\x00ault"
        elif kind == "search":
            value = "search"
        elif kind == "dir":
            value = "/tmp"
        else:
            value = rng.choice(["default", "aggressive", "defensive", "offensive"])
        side = rng.choice(self.sides(data) + ["ghost_side"])
        ai = data.setdefault("ai", {})
        if not isinstance(ai, dict):
            ai = data["ai"] = {}
        plan = ai.setdefault(side, {})
        if not isinstance(plan, dict):
            plan = ai[side] = {}
        plan["profile"] = value
        self.note(f"profile:{kind}", f"ai.{side}.profile = {short(value)}")

    def op_huge_map(self, data: Any) -> None:
        rng = self.rng
        options = [
            {"lat_min": -89.0, "lat_max": 89.0, "lon_min": -180.0, "lon_max": 180.0, "hex_km": 1},
            {"lat_min": -89.0, "lat_max": 89.0, "lon_min": -180.0, "lon_max": 180.0, "hex_km": 30},
            {"lat_min": -90.0, "lat_max": 90.0, "lon_min": -180.0, "lon_max": 180.0, "hex_km": 30},
            {"lat_min": 0.0, "lat_max": 60.0, "lon_min": 60.0, "lon_max": 160.0, "hex_km": 1},
            {"lat_min": 20.0, "lat_max": 40.0, "lon_min": 100.0, "lon_max": 125.0, "hex_km": 0.01},
            {"hex_km": 1e-300}, {"hex_km": 10**400}, {"hex_km": 40_000}, {"lat_max": 1e308}, {"lon_max": 1e308},
            {"lat_min": -1e308}, {"hex_km": 0.1},
        ]
        value = rng.choice(options)
        m = data.setdefault("map", {})
        if not isinstance(m, dict):
            m = data["map"] = {}
        proj = m.setdefault("projection", {})
        if not isinstance(proj, dict):
            proj = m["projection"] = {}
        proj.update(value)
        self.note("huge_map", short(value))

    def op_deep(self, data: Any) -> None:
        depth = self.rng.choice([63, 64, 65, 1000, 5000, 100_000])
        value = deep(depth, self.rng.choice(["list", "map"]))
        n = pick(self.rng, data)
        if n is None or self.rng.random() < 0.2:
            data["fz_deep"] = value
            where = "fz_deep"
        else:
            n[0][n[1]] = value
            where = show(n[2])
        self.note(f"deep:{depth}", where)

    def op_plausible(self, data: Any) -> None:
        """A change of the kind a designer makes (a number scaled, a flag flipped, a date moved, a
        list reordered): mostly still valid, so the short game plays the mutant."""
        n = pick(self.rng, data, lambda c, k, p: isinstance(c[k], int | float | bool | dt.date | list))
        if n is None:
            return
        old = n[0][n[1]]
        rng = self.rng
        if isinstance(old, bool):
            value: Any = not old
        elif isinstance(old, int):
            value = rng.choice([old + 1, old - 1, old * 2, old // 2, 0, 1])
        elif isinstance(old, float):
            value = rng.choice([old * rng.uniform(0, 3), old + 0.5, 0.0, 1.0, round(old, 1)])
        elif isinstance(old, dt.date):
            value = old + dt.timedelta(days=rng.randint(-40, 40))
        else:
            value = list(old)
            rng.shuffle(value)
            if value and rng.random() < 0.5:
                value.pop(rng.randrange(len(value)))
        n[0][n[1]] = value
        self.note("plausible", f"{show(n[2])}: {short(old)} -> {short(value)}")

    def op_yaml_raw(self, data: Any) -> None:
        n = pick(self.rng, data)
        if n is None:
            return
        text = self.rng.choice(YAML_RAW)
        value = Raw(text) if "\n" not in text else Raw(json.dumps(text))
        n[0][n[1]] = value
        self.note("yaml_raw", f"{show(n[2])} = {text[:40]!r}")

    TREE_OPS = ("delete", "type_swap", "number", "date", "unicode", "long_string", "dangling", "unit_place",
                "event_unit", "extends", "profile", "huge_map", "deep", "yaml_raw", "plausible")
    TREE_WEIGHTS = (10, 10, 12, 8, 8, 4, 10, 6, 5, 10, 6, 5, 4, 6, 16)
    FILE_OPS = ("fifo", "symlink_zero", "symlink_loop", "dangling_symlink", "directory", "empty", "nul_bytes",
                "truncate", "bom", "crlf", "oversize", "big_comment", "big_list", "not_utf8", "top_scalar")

    def build_scenario(self) -> None:
        rng, seed = self.rng, self.seed
        self.scen.mkdir(parents=True)
        for name in seed.files:
            shutil.copy2(seed.src / name, self.scen / name)
        target_name = seed.target
        if rng.random() < 0.1:
            self.file_op(target_name)
            return
        # a variant: its own file mostly, its base (complete, in the folder) sometimes
        if seed.base and rng.random() < 0.35 and True:
            target_name = seed.base
        data = load_yaml_file(seed.src / target_name)
        for _ in range(rng.choices([1, 2, 3], [60, 25, 15])[0]):
            op = rng.choices(self.TREE_OPS, self.TREE_WEIGHTS)[0]
            if op in ("extends",) and target_name != seed.target:
                op = "number"
            getattr(self, "op_" + op)(data)
        if target_name != seed.target:
            self.case.mutations.append(f"(in the base {target_name})")
        self.files[target_name] = data
        self.write()

    def write(self) -> None:
        for name, data in self.files.items():
            blob = data if isinstance(data, bytes) else dump_yaml(data)
            (self.scen / name).write_bytes(blob)

    def file_op(self, name: str) -> None:
        rng, path = self.rng, self.scen / name
        text = (self.seed.src / name).read_bytes()
        kind = rng.choice(self.FILE_OPS)
        path.unlink()
        if special_file(kind, path, rng, ["/dev/zero", "/dev/urandom", "/dev/stdin", "/proc/self/environ"]):
            pass
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "nul_bytes":
            path.write_bytes(b"\0" * rng.choice([1, 1000]))
        elif kind == "truncate":
            path.write_bytes(text[:rng.randrange(len(text))])
        elif kind == "bom":
            path.write_bytes(rng.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]) + text)
        elif kind == "crlf":
            path.write_bytes(text.replace(b"\n", rng.choice([b"\r\n", b"\r"])))
        elif kind == "oversize":
            with open(path, "wb") as fh:
                fh.write(text)
                fh.truncate(8 * 1024 * 1024 + 1 + len(text))  # sparse: NULs past the text
        elif kind == "big_comment":
            path.write_bytes(text + b"# " + b"x" * (7 * 1024 * 1024) + b"\n")
        elif kind == "big_list":
            path.write_bytes(text + b"fz_big:\n" + b"  - {a: 1, b: [1, 2]}\n" * 300_000)
        elif kind == "not_utf8":
            cut = rng.randrange(len(text))
            path.write_bytes(text[:cut] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80"]) + text[cut:])
        else:
            path.write_bytes(rng.choice([b"5\n", b"null\n", b"- a\n", b"'text'\n", b"~\n", b"---\n...\n"]))
        self.note(f"file:{kind}", name)

    # --- saves -----------------------------------------------------------------------------

    def build_save(self, base: dict) -> None:
        rng, seed = self.rng, self.seed
        self.scen.mkdir(parents=True)
        for name in seed.files:
            shutil.copy2(seed.src / name, self.scen / name)
        path = self.scen / seed.target
        if rng.random() < 0.1:
            self.save_file_op(path, base)
            return
        data = copy.deepcopy(base)
        checksum = rng.random() < 0.85
        for _ in range(rng.choices([1, 2], [75, 25])[0]):
            op = rng.choices(("seed", "deep", "bigint", "tree", "state", "actions", "scenario", "format",
                              "players", "dice", "date"), (10, 6, 4, 14, 18, 12, 14, 5, 4, 4, 4))[0]
            getattr(self, "save_" + op)(data)
        blob = dump_json(data)
        if checksum:
            fixed = recompute_checksum(blob)
            readable = fixed != blob or _readable(blob)
            self.case.mutations.append("checksum recomputed" if readable else "checksum not recomputable")
            blob = fixed
        path.write_bytes(blob)

    def save_seed(self, data: dict) -> None:
        value = self.rng.choice([-1, -10**18, 2**63, 2**64, 2**63 - 1, Raw("1e400"), Raw("1" + "0" * 400),
                                 Raw(HUGE_DIGITS), "7", None, True, 1.5, Raw("NaN"), Raw("-Infinity"), [1], 0])
        state = data.get("state")
        where = self.rng.choice([data, state if isinstance(state, dict) else data])
        where["seed"] = value
        self.note("save:seed", f"{'state.' if where is not data else ''}seed = {short(value)}")

    def save_deep(self, data: dict) -> None:
        depth = self.rng.choice([5000, 100_000])
        value = deep_json(depth, self.rng.choice(["list", "map"]))
        key = self.rng.choice(["state", "actions", "players", "scenario", "fz_extra", "seed"])
        data[key] = value
        self.note(f"save:deep{depth}", key)

    def save_bigint(self, data: dict) -> None:
        n = pick(self.rng, data, lambda c, k, p: k != "checksum")
        if n:
            n[0][n[1]] = Raw(HUGE_DIGITS)
            self.note("save:bigint", show(n[2]))

    def save_tree(self, data: dict, where: Any = None) -> None:
        op = self.rng.choice(["delete", "type_swap", "number", "unicode", "long_string"])
        target = data if where is None else where
        before = len(self.case.mutations)
        getattr(self, "op_" + op)(target)
        if where is not None and len(self.case.mutations) > before:
            self.case.mutations[-1] = self.case.mutations[-1].replace(": ", ": state.", 1)
        self.case.ops[-1:] = [f"save:{self.case.ops[-1]}"] if self.case.ops else []

    def save_state(self, data: dict) -> None:
        state = data.get("state")
        if not isinstance(state, dict):
            return self.save_tree(data)
        rng = self.rng
        kind = rng.choice(["tree", "unit_hex", "unit_strength", "turn", "phase", "control", "active", "units"])
        if kind == "tree":
            return self.save_tree(data, state)
        units = state.get("units") if isinstance(state.get("units"), list) else []
        unit = rng.choice(units) if units and isinstance(units[0], dict) else None
        if kind == "unit_hex" and unit is not None:
            value: Any = rng.choice([-5, 10**9, 2**63, 10**400, len(state.get("control") or []), 1.5, None, "3"])
            unit["hex"] = value
        elif kind == "unit_strength" and unit is not None:
            key = rng.choice(["strength", "max_strength", "mp", "status", "side"])
            value = rng.choice([-1, 0, 1e308, float("nan"), 10**400, 99, "x", None])
            unit[key] = value
            kind = f"unit_{key}"
        elif kind == "turn":
            value = rng.choice([0, -1, 10**6, 10**400, 1.5, None, "2"])
            state["turn"] = value
        elif kind == "phase":
            value = rng.choice([99, -1, "x", None, 2**63])
            state["phase"] = value
        elif kind == "control":
            control = state.get("control")
            value = rng.choice([[], [99] * 3, "x", None, (control or [])[:-1], [[0]], [1e308]])
            state["control"] = value
        elif kind == "active":
            value = rng.choice([5, -1, "japan", None, 10**400])
            state["active"] = value
        else:
            value = rng.choice([[], units + units[:1], [{}], {"a": 1}, None])
            state["units"] = value
        self.note(f"save:state:{kind}", short(value))

    def save_actions(self, data: dict) -> None:
        rng = self.rng
        actions = data.get("actions")
        if not isinstance(actions, list):
            actions = data["actions"] = []
        state = data.get("state")
        listed = state.get("units") if isinstance(state, dict) else None
        units = [u.get("id") for u in listed if isinstance(u, dict)] if isinstance(listed, list) else []
        units = units or ["x"]
        unit = rng.choice(units)
        garbage = rng.choice(["", "move", "move ghost 1,1", f"move {unit} 99999999,1", f"move {unit} {'9' * 5000},1",
                              f"move {unit} -1,-1", f"attack {unit}", "attack 1,1 with " + unit, "end" * 10000,
                              "\u202eend", "end\x00", f"move {unit} 1.5,2", f"move {unit} 0x10,1", "END", " end ",
                              f"move {unit} {10**400},0", 5, None, ["end"], {"a": 1}])
        kind = rng.choice(["replace", "insert", "delete", "append_ends", "truncate", "type"])
        if kind == "replace" and actions:
            actions[rng.randrange(len(actions))] = garbage
        elif kind == "insert":
            actions.insert(rng.randrange(len(actions) + 1), garbage)
        elif kind == "delete" and actions:
            actions.pop(rng.randrange(len(actions)))
        elif kind == "append_ends":
            actions.extend(["end"] * rng.choice([1, 100, 10_000]))
        elif kind == "truncate":
            del actions[rng.randrange(len(actions) + 1):]
        else:
            data["actions"] = rng.choice(["end", 5, {"0": "end"}, None, [[["end"]]]])
        self.note(f"save:actions:{kind}", short(garbage))

    def save_scenario(self, data: dict) -> None:
        rng = self.rng
        sc = data.get("scenario")
        if not isinstance(sc, dict):
            sc = data["scenario"] = {}
        kind = rng.choice(["other", "etc", "zero", "fifo", "loop", "dir", "empty", "long", "dotdot", "missing_abs",
                           "surrogate", "id", "hash", "type", "edited", "nul"])
        if kind == "other":
            other = "ichigo_1944.yaml" if "henan" in self.seed.name else "henan_1944.yaml"
            src = SCENARIOS / other if other.startswith("ichigo") else SCENARIOS / "examples" / other
            shutil.copy2(src, self.scen / other)
            sc["path"] = other
        elif kind == "etc":
            sc["path"] = "/etc/passwd"
        elif kind == "zero":
            sc["path"] = rng.choice(["/dev/zero", self.symlink("fz_zero.yaml", "/dev/zero")])
        elif kind == "fifo":
            sc["path"] = self.fifo("fz_fifo.yaml")
        elif kind == "loop":
            self.symlink("fz_lb.yaml", "fz_la.yaml")
            sc["path"] = self.symlink("fz_la.yaml", "fz_lb.yaml")
        elif kind == "dir":
            sc["path"] = rng.choice([".", "/", ".."])
        elif kind == "empty":
            sc["path"] = ""
        elif kind == "long":
            sc["path"] = rng.choice(["x" * 100_000, "a/" * 5000 + "b.yaml", "x" * 300])
        elif kind == "dotdot":
            sc["path"] = "../" * 5000 + "etc/passwd"
        elif kind == "missing_abs":
            sc["path"] = "/nonexistent/henan_1944.yaml"
        elif kind == "surrogate":
            sc["path"] = rng.choice(["\udcff.yaml", "\u202e.yaml", "a\x00b"])
        elif kind == "id":
            sc["id"] = rng.choice(["ichigo_1944", "", 5, None, "\u202e"])
        elif kind == "hash":
            sc["hash"] = rng.choice(["0" * 64, "", 5, None, "x" * 100_000])
        elif kind == "type":
            data["scenario"] = rng.choice(["henan_1944.yaml", 5, None, [sc], True])
        elif kind == "edited":
            with open(self.scen / self.seed.files[0], "a") as fh:
                fh.write(rng.choice(["\n# an edit\n", "\nfz_extra: 1\n"]))
        else:
            sc["path"] = sc.get("path", "") + "\x00"
        self.note(f"save:scenario:{kind}", short(data.get("scenario")))

    def save_format(self, data: dict) -> None:
        key, value = self.rng.choice([("version", True), ("version", "1"), ("version", 2), ("version", 1.0),
                                      ("version", 10**400), ("version", None), ("format", "x-save"),
                                      ("format", "-save"), ("format", 5), ("format", None), ("format", "hexwar"),
                                      ("checksum", None), ("checksum", 5), ("state_hash", None), ("state_hash", 5),
                                      ("state_hash", "0" * 64), ("saved_at", "9999-99-99")])
        data[key] = value
        self.note(f"save:{key}", short(value))

    def save_players(self, data: dict) -> None:
        value = self.rng.choice([["japan"], "random", {"japan": "/etc/passwd"}, {"japan": 5}, None,
                                 {"ghost": "random"}, {"japan": "search"}, {"\udcff": "x"}])
        data["players"] = value
        self.note("save:players", short(value))

    def save_dice(self, data: dict) -> None:
        value = self.rng.choice(["keyed", "stream", "x", None, 5, ["keyed"]])
        where = self.rng.choice([data, data.get("state") if isinstance(data.get("state"), dict) else data])
        where["dice"] = value
        self.note("save:dice", short(value))

    def save_date(self, data: dict) -> None:
        state = data.get("state") if isinstance(data.get("state"), dict) else data
        value = self.rng.choice(["9999-12-31", "0001-01-01", "9999-99-99", "", 5, None, "1944-02-30",
                                 "2001-12-14T21:59:43"])
        state["date"] = value
        self.note("save:date", short(value))

    def save_file_op(self, path: Path, base: dict) -> None:
        rng = self.rng
        text = dump_json(base)
        kind = rng.choice(["empty", "truncate", "nul", "bom", "not_utf8", "fifo", "symlink_zero", "symlink_loop",
                           "directory", "top_list", "top_number", "oversize", "trailing", "dangling_symlink"])
        if kind == "empty":
            path.write_bytes(b"")
        elif kind == "truncate":
            path.write_bytes(text[:rng.randrange(len(text))])
        elif kind == "nul":
            path.write_bytes(b"\0" * 100)
        elif kind == "bom":
            path.write_bytes(b"\xef\xbb\xbf" + text)
        elif kind == "not_utf8":
            cut = rng.randrange(len(text))
            path.write_bytes(text[:cut] + b"\xff" + text[cut:])
        elif special_file(kind, path, rng, ["/dev/zero", "/dev/urandom", "/dev/stdin"]):
            pass
        elif kind == "top_list":
            path.write_bytes(b"[" + text + b"]")
        elif kind == "top_number":
            path.write_bytes(rng.choice([b"5", b"null", b"1e400", HUGE_DIGITS.encode(), b'"hexwar-save"']))
        elif kind == "oversize":
            with open(path, "wb") as fh:
                fh.write(text)
                fh.truncate(64 * 1024 * 1024 + 1)
        else:
            path.write_bytes(text + b"\n{}")
        self.note(f"save:file:{kind}", path.name)


def _readable(blob: bytes) -> bool:
    try:
        return isinstance(json.loads(blob.decode("utf-8")), dict)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return False


def recompute_checksum(blob: bytes) -> bytes:
    """The save's checksum as the program computes it over what it will read (when it can)."""
    sys.path.insert(0, str(ROOT))
    from game.rules.saves import _checksum

    try:
        data = json.loads(blob.decode("utf-8"))
        if not isinstance(data, dict):
            return blob
        digest = _checksum(data)
    except (ValueError, RecursionError, TypeError, UnicodeDecodeError):
        return blob
    old = data.get("checksum")
    if isinstance(old, str) and old:
        key = json.dumps(old).encode()
        if blob.count(key) == 1:
            return blob.replace(key, json.dumps(digest).encode())
    # no checksum string to replace (deleted or of another type): a new last key
    return blob[:-1] + b',"checksum":' + json.dumps(digest).encode() + b"}" if blob.endswith(b"}") else blob


# ---------------------------------------------------------------------------------------------
# running


@dataclass
class Step:
    name: str
    argv: list[str]
    rc: int | None
    seconds: float
    timed_out: bool
    output: str
    cls: str = OK
    bug: str | None = None  # the bug report's text
    signature: str | None = None  # what failures of the same cause share
    message: str | None = None  # the first line the failure printed


def _limit_prefix(mem_mb: int) -> list[str]:
    tool = shutil.which("prlimit")
    return [tool, f"--as={mem_mb * 1024 * 1024}", "--"] if tool and mem_mb > 0 else []


def run_step(name: str, argv: list[str], cwd: Path, env: dict, timeout: float, mem_mb: int) -> Step:
    full = [*_limit_prefix(mem_mb), *argv]
    start = time.perf_counter()
    proc = subprocess.Popen(full, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:  # faulthandler prints the stack it is stuck in on SIGABRT
            os.killpg(proc.pid, signal.SIGABRT)
            out, _ = proc.communicate(timeout=3)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    text = out.decode("utf-8", "backslashreplace")
    return Step(name, argv, None if timed_out else proc.returncode, seconds, timed_out, text)


def _frame_signature(tb: str) -> str:
    """'ExcType at game/x.py:12 in func' from a traceback or a faulthandler dump."""
    frames = re.findall(r'File "([^"]+)", line (\d+),? in (\S+)', tb)
    exc = ""
    lines = [ln for ln in tb.strip().splitlines() if ln.strip()]
    if TRACEBACK in tb and lines:
        exc = re.split(r"[:\s]", lines[-1].strip(), maxsplit=1)[0]
    ours = [f for f in frames if f[0].startswith(str(ROOT)) and "/.venv/" not in f[0]] or frames
    if "Fatal Python error" in tb or "Current thread" in tb:
        ours = list(reversed(ours))  # faulthandler lists the innermost frame first
    where = ""
    if ours:
        path, line, func = ours[-1]
        rel = os.path.relpath(path, ROOT) if path.startswith(str(ROOT)) else os.path.basename(path)
        where = f"{rel}:{line} in {func}"
    return f"{exc} at {where}".strip() if exc else where


def classify(step: Step, kind: str) -> None:
    """Set step.cls (and the signature of a failure). kind: 'check' (validate, replay), 'play' (the
    short game of a valid scenario), 'resume' (a save's snapshot, then play), 'ui'."""
    out = step.output
    first = next((ln for ln in out.splitlines() if ln.strip()), "")
    bug = BUG_FILE.search(out)
    if bug and Path(bug.group(1)).is_file():
        try:
            step.bug = Path(bug.group(1)).read_text(errors="replace")
        except OSError:
            step.bug = None
    if step.timed_out:
        step.cls = PLAY_HANG if kind == "play" else HANG
        where = _frame_signature(out)
        step.signature = f"{step.cls} in {step.name}" + (f" at {where}" if where else "")
        return
    rc = step.rc
    if rc == 0:
        step.cls = UNCLEAN if TRACEBACK in out else OK
    elif rc == 1:
        if TRACEBACK in out or not ERROR_LINE.search(out):
            step.cls = UNCLEAN
        elif kind == "play":
            step.cls = REFUSED
        else:
            step.cls = CLEAN
    elif rc == 70 or (kind in ("play", "resume") and rc in (H_VIOLATION, H_PLAY_CRASH)):
        if kind == "play":
            step.cls = {H_VIOLATION: PLAY_VIOLATION}.get(rc, PLAY_CRASH)
        elif kind == "resume":
            step.cls = {H_VIOLATION: PLAY_VIOLATION, H_PLAY_CRASH: PLAY_CRASH}.get(rc, INTERNAL)
        else:
            step.cls = INTERNAL
    else:
        step.cls = OTHER
    if step.cls in FAILING:
        step.message = next((ln for ln in out.splitlines() if ln.startswith(("internal error", "play crash",
                                                                               "invariant"))), first)[:300]
        if step.bug:
            step.signature = f"{step.cls} in {step.name}: {_frame_signature(step.bug)}"
        elif step.cls == OTHER:
            where = _frame_signature(out)
            step.signature = f"other (exit {rc}) in {step.name}: {where or _generic(first)}"
        else:
            step.signature = f"{step.cls} in {step.name}: {_generic(first)}"
    if step.cls == REFUSED:
        found = ERROR_LINE.search(out)
        line = out[found.start():].splitlines()[0] if found else first
        step.signature = f"{REFUSED}: {re.sub(r'^.*?: error: ', '', line)[:140]}"


def _generic(line: str) -> str:
    """A line without what differs between cases of one cause: paths, quoted values, numbers."""
    line = re.sub(r"'[^']*'|\"[^\"]*\"", "'...'", line)
    line = re.sub(r"(?<![\w.])(?:/|\.\./|scen/)\S*", "PATH", line)
    return re.sub(r"\d+", "N", line)[:160]


def _python() -> list[str]:
    return [sys.executable, "-X", "faulthandler"]


def case_commands(case: Case, seed: Seed, play_turns: int) -> list[tuple[str, str, list[str]]]:
    """(name, kind, argv) of the runs of a case, in order (the play step only when it validates)."""
    target = str(case.target)
    if seed.kind == "scenario":
        return [("validate", "check", [*_python(), str(MAIN), "validate", target]),
                ("play", "play", [*_python(), str(THIS), "_play", target, "--seed", str(case.index),
                                  "--turns", str(play_turns), "--players", case.players])]
    runs = [("replay", "check", [*_python(), str(MAIN), "replay", "--verify", target]),
            ("resume", "resume", [*_python(), str(THIS), "_resume", target, "--seed", str(case.index),
                                  "--turns", str(play_turns)])]
    if case.ui:
        runs.append(("ui", "check", [*_python(), str(MAIN), "play", "--load", target, "--frames", "2"]))
    return runs


@dataclass
class Options:
    cases: int = 300
    seed: int = 0
    workers: int = 2
    timeout: float = 10.0
    play_timeout: float | None = None  # default: 3 x timeout
    out: Path | None = None
    seeds: tuple[str, ...] = tuple(SEEDS)
    play_turns: int = 3
    ui_rate: float = 0.1
    mem_mb: int = 3072
    keep: bool = False
    quiet: bool = False
    first: int = 0  # the first case number (to rerun one case: --first K --cases 1)


def build_case(opts: Options, index: int, work: Path, save_bases: dict[str, dict]) -> Case:
    rng = random.Random(f"fuzz/{opts.seed}/{index}")
    names = list(opts.seeds)
    name = rng.choices(names, [WEIGHTS.get(n, 1) for n in names])[0]
    seed = SEEDS[name]
    case = Case(index, name, work / f"case_{index:05d}", Path("scen") / seed.target)
    case.players = rng.choice(["ai", "ai", "random"])
    case.ui = seed.kind == "save" and rng.random() < opts.ui_rate
    case.dir.mkdir(parents=True)
    (case.dir / "tmp").mkdir()
    builder = Builder(case, rng, seed)
    if seed.kind == "scenario":
        builder.build_scenario()
    else:
        builder.build_save(save_bases[name])
    return case


def run_case(opts: Options, case: Case, env: dict) -> dict:
    seed = SEEDS[case.seed]
    env = {**env, "TMPDIR": str(case.dir / "tmp")}
    steps: list[Step] = []
    for name, kind, argv in case_commands(case, seed, opts.play_turns):
        if name == "play" and steps and steps[-1].cls != OK:
            break
        timeout = (opts.play_timeout or 3 * opts.timeout) if kind in ("play", "resume") else opts.timeout
        step = run_step(name, argv, case.dir, env, timeout, opts.mem_mb)
        classify(step, kind)
        steps.append(step)
    worst = max(steps, key=lambda s: SEVERITY.index(s.cls))
    return {"case": case.index, "seed": case.seed, "mutations": case.mutations, "ops": case.ops,
            "class": worst.cls, "signature": worst.signature, "message": worst.message,
            "seconds": round(sum(s.seconds for s in steps), 3),
            "steps": [{"name": s.name, "rc": s.rc, "timed_out": s.timed_out, "class": s.cls,
                       "seconds": round(s.seconds, 3), "output": s.output[:3000], "signature": s.signature,
                       "argv": s.argv} for s in steps],
            "_steps": steps, "_case": case}


def keep_failure(record: dict, failures: Path) -> Path:
    case: Case = record["_case"]
    folder = failures / f"{case.index:05d}-{record['class']}"
    folder.mkdir(parents=True, exist_ok=True)
    os.replace(case.dir, folder / "case")
    lines = ["#!/bin/sh", f"# case {case.index} of the fuzz run; seed {case.seed}; class {record['class']}",
             *[f"# {m[:300]}" for m in case.mutations],
             'cd "$(dirname "$0")/case" || exit 1', "export TMPDIR=\"$PWD/tmp\""]
    for s in record["_steps"]:
        argv = [a for a in s.argv if a not in ("-X", "faulthandler")]
        lines.append(f"# {s.name}: {s.cls}" + (" (timed out)" if s.timed_out else f" (exit {s.rc})"))
        lines.append(" ".join(_quote(a) for a in argv))
    (folder / "repro.sh").write_text("\n".join(lines) + "\n")
    os.chmod(folder / "repro.sh", 0o755)
    (folder / "output.txt").write_text("\n".join(f"=== {s.name} (exit {s.rc}, {s.seconds:.2f} s"
                                                 f"{', timed out' if s.timed_out else ''})\n{s.output}"
                                                 for s in record["_steps"]))
    bugs = [s.bug for s in record["_steps"] if s.bug]
    if bugs:
        (folder / "bug-report.txt").write_text("\n\n".join(bugs))
    (folder / "mutations.txt").write_text("\n".join(case.mutations) + "\n")
    return folder


def _quote(arg: str) -> str:
    if re.fullmatch(r"[\w./:=@+-]+", arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def run(opts: Options) -> dict:
    """Run the fuzzer; the summary (also written to OUT/summary.json)."""
    out = Path(opts.out) if opts.out else Path(tempfile.mkdtemp(prefix="fuzz-"))
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    failures = out / "failures"
    if failures.exists():
        shutil.rmtree(failures)
    env = {**os.environ, "HEXWAR_SCENARIO_CACHE": str(out / "cache"), "SDL_VIDEODRIVER": "dummy",
           "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.perf_counter()
    save_names = [n for n in opts.seeds if SEEDS[n].kind == "save"]
    save_bases = make_save_seeds(out / "seeds", save_names) if save_names else {}
    records: list[dict] = []
    indices = range(opts.first, opts.first + opts.cases)

    def one(index: int) -> dict:
        try:
            case = build_case(opts, index, work, save_bases)
        except Exception:  # noqa: BLE001 - a bug of this tool: reported, not hidden
            return {"case": index, "seed": "?", "mutations": [], "ops": [], "class": "fuzzer_error",
                    "signature": "fuzzer error: " + traceback.format_exc().strip().splitlines()[-1],
                    "seconds": 0.0, "steps": [], "_steps": [], "_case": None}
        return run_case(opts, case, env)

    with ThreadPoolExecutor(max_workers=max(1, opts.workers)) as pool:
        for k, record in enumerate(pool.map(one, indices)):
            if record["class"] in FAILING and record["_case"] is not None:
                record["reproducer"] = str(keep_failure(record, failures) / "repro.sh")
            elif record["_case"] is not None and not opts.keep:
                shutil.rmtree(record["_case"].dir, ignore_errors=True)
            records.append(record)
            if not opts.quiet and record["class"] in FAILING | {"fuzzer_error"}:
                print(f"case {record['case']}: {record['class']}: {record['signature']}", file=sys.stderr)
            if not opts.quiet and (k + 1) % 25 == 0:
                print(f"... {k + 1}/{opts.cases} cases, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if not opts.keep:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - start
    counts = {c: 0 for c in SEVERITY}
    for r in records:
        counts[r["class"]] = counts.get(r["class"], 0) + 1
    signatures: dict[str, dict] = {}
    for r in records:
        if r["class"] in FAILING | {REFUSED, "fuzzer_error"}:
            entry = signatures.setdefault(r["signature"] or r["class"], {
                "class": r["class"], "signature": r["signature"], "count": 0, "cases": [],
                "reproducer": r.get("reproducer"), "mutations": r["mutations"], "message": r.get("message")})
            entry["count"] += 1
            entry["cases"].append(r["case"])
    times = [r["seconds"] for r in records] or [0.0]
    summary = {
        "cases": len(records), "seed": opts.seed, "first": opts.first, "workers": opts.workers,
        "timeout": opts.timeout, "seeds": list(opts.seeds), "classes": counts,
        "failures": sum(counts.get(c, 0) for c in FAILING) + counts.get("fuzzer_error", 0),
        "seconds": {"total": round(elapsed, 2), "median_case": round(statistics.median(times), 3),
                    "max_case": round(max(times), 3)},
        "by_seed": {n: sum(r["seed"] == n for r in records) for n in opts.seeds},
        "signatures": sorted(signatures.values(), key=lambda e: (-SEVERITY.index(e["class"])
                                                                 if e["class"] in SEVERITY else -99, -e["count"])),
        "out": str(out),
        "records": [{k: v for k, v in r.items() if not k.startswith("_")} for r in records],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return summary


def print_summary(summary: dict) -> None:
    print(f"fuzz: {summary['cases']} cases (seed {summary['seed']}, {summary['workers']} workers) in "
          f"{summary['seconds']['total']:.1f} s; per case median {summary['seconds']['median_case']:.2f} s, "
          f"max {summary['seconds']['max_case']:.2f} s")
    print("by seed: " + ", ".join(f"{k} {v}" for k, v in summary["by_seed"].items()))
    print("classes: " + ", ".join(f"{k} {v}" for k, v in summary["classes"].items() if v))
    if summary["signatures"]:
        print(f"distinct signatures ({len(summary['signatures'])}):")
        for e in summary["signatures"]:
            cases = ", ".join(str(c) for c in e["cases"][:8]) + (" ..." if len(e["cases"]) > 8 else "")
            print(f"  [{e['class']}] x{e['count']} {e['signature']}")
            if e.get("message"):
                print(f"      {e['message'][:200]}")
            print(f"      cases {cases}; e.g. {'; '.join(e['mutations'])[:200]}")
            if e.get("reproducer"):
                print(f"      {e['reproducer']}")
    print(f"summary: {summary['out']}/summary.json")


# ---------------------------------------------------------------------------------------------
# the helpers run as subprocesses: a short game of a valid scenario, a resumed save


def _helper(argv: list[str], resume: bool) -> int:
    parser = argparse.ArgumentParser(prog=f"fuzz.py {'_resume' if resume else '_play'}")
    parser.add_argument("file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--players", choices=("ai", "random"), default="random")
    parser.add_argument("--max-actions", type=int, default=5000)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))

    def bug(kind: str, code: int) -> int:
        fd, name = tempfile.mkstemp(prefix="fuzz-bug-", suffix=".txt")
        with os.fdopen(fd, "w") as fh:
            traceback.print_exc(file=fh)
        exc = sys.exc_info()[1]
        print(f"{kind}: {type(exc).__name__}: {str(exc)[:300]}\nThe details are in {name}.", file=sys.stderr)
        return code

    try:
        from game.ai import ProfileError, make_players
        from game.diagnostics import InputError
        from game.rules.engine import Game
        from game.rules.players import RandomPlayer
        from test_engine import check_invariants
    except Exception:  # noqa: BLE001
        return bug("internal error", H_LOAD_CRASH)
    try:
        if resume:
            from game.rules.saves import load_game

            game, _ = load_game(args.file)
            ctx = game.ctx
        else:
            from game.rules.context import load_context

            ctx = load_context(args.file)
            game = Game.new(ctx, args.seed)
        if args.players == "ai":
            players = make_players(ctx, {s: "default" for s in ctx.sides}, args.seed)
        else:
            players = {s: RandomPlayer(seed=args.seed * 7 + k, end_bias=0.2) for k, s in enumerate(ctx.sides)}
    except InputError as exc:
        for d in exc.diagnostics:
            print(d.format(), file=sys.stderr)
        return 1
    except ProfileError as exc:
        print(f"{args.file}:1:1: error: {exc}", file=sys.stderr)
        return 1
    except Exception:  # noqa: BLE001
        return bug("internal error", H_LOAD_CRASH)
    try:
        check_invariants(game)
    except AssertionError:
        return bug("invariant violated", H_VIOLATION)
    except Exception:  # noqa: BLE001
        return bug("play crash", H_PLAY_CRASH)
    last = game.state.turn + args.turns
    actions = 0
    try:
        while not game.over and game.state.turn < last and actions < args.max_actions:
            action = players[game.side_to_move()].choose(game, game.legal_actions())
            game.apply(action)
            actions += 1
            check_invariants(game)
    except AssertionError:
        return bug(f"invariant violated after {actions} actions", H_VIOLATION)
    except Exception:  # noqa: BLE001
        return bug(f"play crash after {actions} actions", H_PLAY_CRASH)
    print(f"played {actions} actions to turn {game.state.turn}{' (over)' if game.over else ''}")
    return 0


def parse_args(argv: list[str] | None = None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=300, help="cases to run (default 300)")
    p.add_argument("--seed", type=int, default=0, help="the run's seed (default 0)")
    p.add_argument("--first", type=int, default=0, help="the first case number (default 0)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="subprocesses in parallel")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per validate or replay (default 10)")
    p.add_argument("--play-timeout", type=float, help="seconds per short game (default 3 x --timeout)")
    p.add_argument("--play-turns", type=int, default=3, help="turns of the short game (default 3)")
    p.add_argument("--out", type=Path, help="folder for summary.json and failures/ (default: a new temp folder)")
    p.add_argument("--seeds", default=",".join(SEEDS), help=f"comma-separated seeds (default {','.join(SEEDS)})")
    p.add_argument("--ui-rate", type=float, default=0.1, help="share of save cases also opened in the window")
    p.add_argument("--mem-mb", type=int, default=3072, help="address-space limit of each child (0: none)")
    p.add_argument("--keep", action="store_true", help="keep every case's folder, not only the failures")
    p.add_argument("-q", "--quiet", action="store_true")
    a = p.parse_args(argv)
    seeds = tuple(s.strip() for s in a.seeds.split(",") if s.strip())
    unknown = [s for s in seeds if s not in SEEDS]
    if unknown or not seeds:
        p.error(f"unknown seed(s) {', '.join(unknown)}; expected some of {', '.join(SEEDS)}")
    return Options(cases=a.cases, seed=a.seed, workers=a.workers, timeout=a.timeout, play_timeout=a.play_timeout,
                   out=a.out, seeds=seeds, play_turns=a.play_turns, ui_rate=a.ui_rate, mem_mb=a.mem_mb,
                   keep=a.keep, quiet=a.quiet, first=a.first)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("_play", "_resume"):
        return _helper(argv[1:], resume=argv[0] == "_resume")
    summary = run(parse_args(argv))
    print_summary(summary)
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["FAILING", "SEEDS", "SEVERITY", "Options", "hashlib", "main", "print_summary", "run"]
