"""The one reader of untrusted files: scenarios, variants, AI profiles, saves, batch records and
the window's settings all come through :func:`read_bytes` (or :func:`read_text`).

Every file the program opens is someone else's data. This reader:

* opens regular files only: a FIFO, a device, a socket or a folder is refused *before* anything is
  read (the open is non-blocking, so a FIFO with no writer cannot hang it, and the type is checked
  on the open descriptor, so a file swapped for a device after the check is caught too);
* follows symlinks (a scenario folder may link to a shared base) but refuses a symlink loop, and
  a link to ``/dev/zero`` is a device like any other;
* checks the size before reading and reads at most ``limit + 1`` bytes, so a file that grows while
  it is read is still bounded;
* refuses path names too long for the system, or with a NUL byte, with a message rather than an
  internal error.

Every refusal is a :class:`FileProblem` whose text says what is wrong and what was expected;
:func:`read_bytes` turns it into the usual ``FILE:1:1: error: ...`` diagnostic.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from .diagnostics import Diagnostic, InputError, Pos

#: The longest path text accepted anywhere (a path is checked before the system sees it).
MAX_PATH_CHARS = 4096


class FileProblem(Exception):
    """A file that cannot be read safely; the text says why."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _oserror(exc: OSError, shown: str) -> FileProblem:
    if exc.errno == errno.ENOENT:
        return FileProblem(f"file not found: {shown}")
    if exc.errno == errno.ELOOP:
        return FileProblem(f"{shown} is a symlink loop (or a chain of links too long to follow)")
    if exc.errno == errno.ENAMETOOLONG:
        return FileProblem("the path is too long for this system")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return FileProblem(f"cannot read {shown}: permission denied")
    if exc.errno == errno.ENOTDIR:
        return FileProblem(f"file not found: {shown} (a part of the path is not a folder)")
    return FileProblem(f"cannot read {shown}: {exc.strerror or exc}")


def check_path_text(text: str) -> None:
    """Refuse a path text no system call should see: empty, with a NUL byte, or absurdly long."""
    if not text:
        raise FileProblem("the path is empty")
    if "\x00" in text:
        raise FileProblem("the path contains a NUL byte")
    if len(text) > MAX_PATH_CHARS:
        raise FileProblem(f"the path is {len(text):,} characters long, over the limit of {MAX_PATH_CHARS:,}")
    try:
        os.fsencode(text)
    except UnicodeError:
        raise FileProblem("the path holds characters no file name can have (a lone surrogate?)") from None


def resolve(path: Path) -> Path:
    """The absolute path with every symlink followed; FileProblem for a loop or an unusable
    name. A path that does not exist resolves as far as it can (like ``Path.resolve()``)."""
    check_path_text(str(path))
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        raise FileProblem(f"{path} is a symlink loop") from None
    except OSError as exc:
        raise _oserror(exc, str(path)) from None


def raw_read(path: Path, limit: int, *, what: str = "file", follow: bool = True,
             check: Callable[[os.stat_result], str | None] | None = None) -> bytes:
    """The bytes of the regular file `path`, of at most `limit` bytes; FileProblem otherwise.
    With ``follow=False`` a symlink itself is refused (for files only this program writes);
    `check`, given the open file's status, may refuse it by returning why."""
    shown = str(path)
    check_path_text(shown)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        st = os.stat(path, follow_symlinks=follow)
    except (OSError, ValueError) as exc:
        raise (_oserror(exc, shown) if isinstance(exc, OSError) else FileProblem(str(exc))) from None
    if not stat.S_ISREG(st.st_mode):
        raise FileProblem(f"{shown} is {_kind(st.st_mode)}, expected a {what}")
    if st.st_size > limit:
        raise FileProblem(f"{shown} is {st.st_size:,} bytes, over the limit of {limit:,} bytes for a {what}")
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _oserror(exc, shown) from None
    try:
        st = os.fstat(fd)  # the file opened, which may not be the one checked above
        if not stat.S_ISREG(st.st_mode):
            raise FileProblem(f"{shown} is {_kind(st.st_mode)}, expected a {what}")
        refused = check(st) if check is not None else None
        if refused:
            raise FileProblem(f"{shown}: {refused}")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _oserror(exc, shown) from None
    finally:
        os.close(fd)
    if size > limit:
        raise FileProblem(f"{shown} is over the limit of {limit:,} bytes for a {what}")
    return b"".join(chunks)


def read_bytes(path: Path, shown: str, limit: int, *, what: str = "file") -> bytes:
    """:func:`raw_read`, with a refusal as an InputError at ``shown:1:1``."""
    try:
        return raw_read(path, limit, what=what)
    except FileProblem as exc:
        raise InputError(Diagnostic(Pos(shown, 1, 1), str(exc).replace(str(path), shown))) from None


def read_text(path: Path, shown: str, limit: int, *, what: str = "file", text: str = "text") -> str:
    """The file as UTF-8 text (a byte-order mark is dropped); InputError for binary or undecodable
    data, with the line and column of the first bad byte, saying it expected `text`."""
    data = read_bytes(path, shown, limit, what=what)
    if b"\x00" in data:
        raise InputError(Diagnostic(Pos(shown, 1, 1), f"binary file (contains NUL bytes), expected {text}"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(Diagnostic(
            Pos(shown, line, col), f"file is not UTF-8 text (binary data?), expected {text}")) from None


def inside(path: Path, roots: list[Path] | tuple[Path, ...]) -> bool:
    """Whether the resolved `path` lies in one of the resolved folders `roots`."""
    return any(path == root or root in path.parents for root in roots)


__all__ = ["MAX_PATH_CHARS", "FileProblem", "check_path_text", "inside", "raw_read", "read_bytes",
           "read_text", "resolve"]
