"""Compiled scenarios kept between runs, so a program that plays a scenario it has loaded before
starts without parsing and validating it again.

Loading a scenario (YAML, ``extends``, structure, cross-references, map build) takes a quarter of
a second on Ichi-Go, most of a one-game run's start-up. After a successful load the validated
scenario and its built map are written here (pickled); the next load of the same file, with the
same overrides, by the same engine code, reads them back in a few milliseconds. An entry is used
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

Trust: an entry is a pickle, which runs code when read, so it is read only from a regular file
that belongs to the user running the program and that nobody else can write, in a folder
created private (mode 0700). Anyone who can write there can already change the user's own
files. A damaged, foreign or unreadable entry is a miss, never an error: the cache can only make
a load faster, never change what it gives.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import safefile

ENV = "HEXWAR_SCENARIO_CACHE"
MAX_ENTRIES = 64
MAX_ENTRY_BYTES = 512 * 1024 * 1024
MAX_SOURCE_BYTES = 64 * 1024 * 1024  # a scenario file is refused above 8 MB anyway
FORMAT = 2  # 2: the scenario as records, with the table of their defaults

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
    return where / f"{key.hexdigest()[:40]}.pickle"


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
        record = pickle.loads(data)
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
        data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
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
    entries = sorted(where.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
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
    for f in where.glob("*.pickle"):
        try:
            f.unlink()
        except OSError:
            pass


__all__ = ["ENV", "MAX_ENTRIES", "clear", "folder", "load", "store"]
