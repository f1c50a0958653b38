"""Atomic file writes: write a temporary file in the same folder, fsync, then rename over.

A crash or a full disk mid-write leaves the old file intact, never a half-written one. The
temporary file is named ``.NAME.PID-XXXX.tmp`` after the process writing it; one left behind by a
writer that was killed (its process is gone) is removed at the next write of the same file.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

#: A temporary file of the older naming (no process id) is removed once it is this old.
STALE_SECONDS = 600.0


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's live process
        return True
    return True


def clean_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files an interrupted write of `path` left (their writer is gone, or,
    for the older naming, they are over :data:`STALE_SECONDS` old); returns those removed."""
    folder = path.parent if str(path.parent) else Path(".")
    named = re.compile(rf"^\.{re.escape(path.name)}\.(?:(\d+)-)?[^/]*\.tmp$")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = named.match(entry.name)
        if not m:
            continue
        try:
            if m.group(1) is not None:
                stale = not _alive(int(m.group(1)))
            else:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except (OSError, ValueError, OverflowError):
            continue
    return removed


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically, keeping an existing file's permission bits."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    clean_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dirfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dirfd)
    except OSError:
        pass
    finally:
        os.close(dirfd)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
