"""Compiled scenarios kept between runs, so a program that plays a scenario it has loaded before
starts without parsing and validating it again.

Loading a scenario (YAML, ``extends``, structure, cross-references, map build) takes a quarter of
a second on Ichi-Go, most of a one-game run's start-up. After a successful load the validated
scenario and its built map are written here (as data: :func:`encode`); the next load of the
same file, with the same overrides, by the same engine code, reads them back in milliseconds. An entry is used
only when every file the load read (the scenario and each base it ``extends``) still has the
content it had, byte for byte (SHA-256), and the engine's scenario code (``game/scenario`` and the
modules it builds on) is the same; anything else is a miss and a full load. Only loads without
errors are kept; ``validate`` never reads the cache, so it always reports every diagnostic.
The scenario is kept as records (:mod:`game.scenario.records`), so a hit imports neither YAML
nor pydantic. AI profiles are kept the same way (``kind="profile"``), keyed by their own code.

Where: ``$XDG_CACHE_HOME/hexwar/scenarios`` (``~/.cache/...``), or the folder named by the
environment variable ``HEXWAR_SCENARIO_CACHE``; ``HEXWAR_SCENARIO_CACHE=off`` turns the cache off.
The folder is named after the engine rather than the installed program: it is read before the
program's name is looked up, which costs a tenth of a second. It keeps the last
:data:`MAX_ENTRIES` scenarios.

Trust: an entry is data, never code. It is JSON for the structure and raw bytes for the numpy
arrays: reading it can make only plain values, dates, records (:mod:`game.scenario.records`),
numeric arrays and the few map classes of :data:`_CLASSES`, so a forged entry cannot run
anything (no pickle). It is also read only from a regular file that belongs to the user running
the program and that nobody else can write, in a folder created private (mode 0700). A damaged,
foreign or unreadable entry is a miss, never an error: the cache can only make a load faster,
never change what it gives.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import hexgrid, hexmap, safefile
from . import build, records

ENV = "HEXWAR_SCENARIO_CACHE"
MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 512 * 1024 * 1024
MAX_SOURCE_BYTES = 64 * 1024 * 1024  # a scenario file is refused above 8 MB anyway
FORMAT = 3  # 2: the scenario as records, with the table of their defaults; 3: data, not pickle
MAGIC = b"hexwar-cache\n"
SUFFIX = ".entry"

_PACKAGE = Path(__file__).resolve().parent.parent
#: per kind of entry, the code it depends on. A scenario: the format, the loader, the map build
#: and what they use. An AI profile: its format and loader, and the records it is kept as.
_CODE = {
    "scenario": ("scenario", "hexmap.py", "hexgrid.py", "yamlload.py", "diagnostics.py", "names.py"),
    "profile": ("ai/profile.py", "ai/profile_model.py", "scenario/records.py", "scenario/parts.py",
                "scenario/compiled.py", "yamlload.py", "diagnostics.py", "names.py"),
}


@functools.cache
def _code_digest(kind: str) -> bytes:
    digest = hashlib.sha256(f"format {FORMAT} {kind}".encode())
    for name in _CODE[kind]:
        where = _PACKAGE / name
        files = sorted(where.glob("*.py")) if where.is_dir() else [where]
        for f in files:
            digest.update(f.name.encode())
            digest.update(f.read_bytes())
    return digest.digest()


def folder() -> Path | None:
    """The cache folder, or None when the cache is off."""
    value = os.environ.get(ENV)
    if value is not None:
        if value.strip().lower() in ("", "off", "0", "no", "false"):
            return None
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hexwar" / "scenarios"


def _entry(where: Path, path: Path, overrides: Mapping[str, object] | None, kind: str) -> Path:
    key = hashlib.sha256(_code_digest(kind))
    key.update(os.fsencode(os.path.realpath(path)))
    key.update(json.dumps(sorted((overrides or {}).items()), default=repr).encode())
    return where / f"{key.hexdigest()[:40]}{SUFFIX}"


def _read_private(path: Path, limit: int, *, own: bool) -> bytes | None:
    """The bytes of a regular file of at most `limit` bytes (and, with `own`, one only this user
    can write, not through a symlink), else None. Never blocks: a FIFO or a device is refused
    before it is read (:func:`game.safefile.raw_read`)."""
    def private(st: os.stat_result) -> str | None:
        if st.st_mode & 0o022 or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            return "not this user's own file"
        return None

    try:
        return safefile.raw_read(path, limit, what="cache entry", follow=not own, check=private if own else None)
    except (safefile.FileProblem, OSError):
        return None


def _digest_of(path: str) -> str | None:
    data = _read_private(Path(path), MAX_SOURCE_BYTES, own=False)
    return None if data is None else hashlib.sha256(data).hexdigest()


def load(path: str | Path, overrides: Mapping[str, object] | None = None, *, kind: str = "scenario") -> Any | None:
    """What :func:`store` kept for this scenario and these overrides, if every file it was built
    from is unchanged; None otherwise (or when the cache is off)."""
    where = folder()
    if where is None:
        return None
    try:
        entry = _entry(where, Path(path), overrides, kind)
        data = _read_private(entry, MAX_ENTRY_BYTES, own=True)
        if data is None:
            return None
        record = decode(data)
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            return None
        files = record["files"]
        if not files or any(_digest_of(p) != digest for p, digest in files):
            return None
        return record["payload"]
    except Exception:  # noqa: BLE001 - a damaged entry is a miss
        return None


def store(path: str | Path, overrides: Mapping[str, object] | None, files: Sequence[Path], payload: Any, *,
          kind: str = "scenario") -> None:
    """Keep a successful load: `files` are every file it read, `payload` what :func:`load` gives
    back. Best effort: a folder that cannot be written leaves the cache as it was."""
    where = folder()
    if where is None:
        return
    from ..atomic import write_bytes_atomic

    try:
        digests = []
        for f in files:
            digest = _digest_of(str(f))
            if digest is None:
                return
            digests.append((os.path.realpath(f), digest))
        record = {"format": FORMAT, "files": digests, "payload": payload}
        data = encode(record)
        if len(data) > MAX_ENTRY_BYTES:
            return
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        entry = _entry(where, Path(path), overrides, kind)
        write_bytes_atomic(entry, data)
        os.chmod(entry, 0o600)
        _prune(where)
    except Exception:  # noqa: BLE001 - the cache is an optimisation; a failed write changes nothing
        return


def _prune(where: Path) -> None:
    entries = sorted(where.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        try:
            old.unlink()
        except OSError:
            pass


def clear() -> None:
    """Remove every entry (the folder stays)."""
    where = folder()
    if where is None or not where.is_dir():
        return
    for f in where.glob(f"*{SUFFIX}"):
        try:
            f.unlink()
        except OSError:
            pass


# --- the entry format ---------------------------------------------------------------------------
#
# MAGIC, the JSON text's length (8 bytes, big-endian), the JSON text, then the arrays' bytes one
# after the other. In the JSON, lists and the plain scalars are themselves; everything else is an
# object of exactly one tag: {"t": [...]} a tuple, {"fs": [...]} a frozenset, {"m": [[key,
# value], ...]} a dict (keys of any kind), {"d": "1944-04-17"} a date, {"r": [NAME, [[field,
# value], ...], [field set, ...]]} a record, {"o": [NAME, [[attribute, value], ...]]} an object of
# one of _CLASSES, {"a": [dtype, shape, offset, bytes]} a numeric array in the bytes after the
# text. Nothing else is read.

#: the only classes besides records an entry may hold: the built map's
_CLASSES: dict[str, type] = {cls.__name__: cls for cls in (build.ScenarioMap, hexmap.HexMap, hexmap.Projection,
                                                          hexgrid.Layout, hexgrid.Orientation)}
_DTYPE_KINDS = "biuf"  # bool, signed, unsigned, float: never object arrays


class _NotData(ValueError):
    """A value the entry format does not hold: such a load is simply not kept."""


def encode(value: Any) -> bytes:
    """`value` in the entry format (:class:`_NotData` for a value it cannot hold)."""
    blobs: list[bytes] = []
    offset = 0

    def enc(v: Any) -> Any:
        nonlocal offset
        if v is None or isinstance(v, (bool, int, float, str)):
            if type(v) not in (type(None), bool, int, float, str):
                raise _NotData(f"a {type(v).__name__}")  # an int or str subclass (an enum...)
            return v
        if isinstance(v, list):
            return [enc(x) for x in v]
        if isinstance(v, tuple) and type(v) is tuple:
            return {"t": [enc(x) for x in v]}
        if isinstance(v, frozenset):
            return {"fs": [enc(x) for x in v]}
        if isinstance(v, dict):
            return {"m": [[enc(k), enc(x)] for k, x in v.items()]}
        if type(v) is dt.date:
            return {"d": v.isoformat()}
        if isinstance(v, records.Record):
            return {"r": [type(v).__name__, [[k, enc(x)] for k, x in v.__dict__.items()],
                          sorted(v.model_fields_set)]}
        if isinstance(v, np.ndarray):
            if v.dtype.kind not in _DTYPE_KINDS:
                raise _NotData(f"an array of {v.dtype}")
            raw = np.ascontiguousarray(v).tobytes()
            blobs.append(raw)
            offset += len(raw)
            return {"a": [v.dtype.str, list(v.shape), offset - len(raw), len(raw)]}
        cls = _CLASSES.get(type(v).__name__)
        if cls is type(v):
            return {"o": [cls.__name__, [[k, enc(x)] for k, x in vars(v).items()]]}
        raise _NotData(f"a {type(v).__name__}")

    text = json.dumps(enc(value), separators=(",", ":"), allow_nan=True).encode()
    return b"".join([MAGIC, struct.pack(">Q", len(text)), text, *blobs])


def decode(data: bytes) -> Any:
    """The value an entry holds; ValueError (or KeyError, TypeError) for anything else."""
    head = len(MAGIC) + 8
    if not data.startswith(MAGIC) or len(data) < head:
        raise _NotData("not a cache entry")
    (length,) = struct.unpack(">Q", data[len(MAGIC):head])
    if head + length > len(data):
        raise _NotData("truncated")
    arrays = memoryview(data)[head + length:]

    def array(dtype: str, shape: list[int], start: int, size: int) -> np.ndarray:
        kind = np.dtype(dtype)
        if kind.kind not in _DTYPE_KINDS or not 0 <= start <= start + size <= len(arrays):
            raise _NotData("a bad array")
        return np.frombuffer(arrays[start:start + size], dtype=kind).reshape(shape).copy()  # aligned, writable

    def obj(d: dict[str, Any]) -> Any:
        if len(d) != 1:
            raise _NotData("not a tagged value")
        (tag, v), = d.items()
        if tag == "t":
            return tuple(v)
        if tag == "fs":
            return frozenset(v)
        if tag == "m":
            return {k: x for k, x in v}
        if tag == "d":
            return dt.date.fromisoformat(v)
        if tag == "a":
            return array(*v)
        if tag == "r":
            name, fields, fields_set = v
            return records._rebuild(name, {str(k): x for k, x in fields}, tuple(fields_set))
        if tag == "o":
            name, attributes = v
            out: Any = object.__new__(_CLASSES[name])
            out.__dict__.update({str(k): x for k, x in attributes})
            return out
        raise _NotData(f"an unknown tag {tag!r}")

    return json.loads(data[head:head + length], object_hook=obj)


__all__ = ["ENV", "MAX_ENTRIES", "clear", "decode", "encode", "folder", "load", "store"]
