"""Problems found in user input (scenarios, saves, command lines), reported the way compilers do.

Every problem is a :class:`Diagnostic` with a file, a 1-based line and column, a severity and a
message that says what is wrong and what was expected. Loaders collect diagnostics instead of
raising on the first one, so a designer sees every mistake of a file in one run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple


class Pos(NamedTuple):
    """Where a YAML node starts: file path as shown to the user, 1-based line and column."""

    file: str
    line: int
    col: int


@dataclass(frozen=True)
class Diagnostic:
    pos: Pos
    message: str
    severity: str = "error"  # "error" or "warning"
    path: tuple = ()  # the YAML path (keys and list indices) the problem is about

    def format(self) -> str:
        return f"{self.pos.file}:{self.pos.line}:{self.pos.col}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass
class DiagnosticList:
    """An ordered, de-duplicated collection of diagnostics."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diag: Diagnostic) -> None:
        if diag not in self.items:
            self.items.append(diag)

    def error(self, pos: Pos, message: str, path: tuple = ()) -> None:
        self.add(Diagnostic(pos, message, "error", path))

    def warning(self, pos: Pos, message: str, path: tuple = ()) -> None:
        self.add(Diagnostic(pos, message, "warning", path))

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        for d in diags:
            self.add(d)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if not d.is_error]

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (d.pos.file, d.pos.line, d.pos.col, d.message))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)


class InputError(Exception):
    """Bad input that stops processing: carries the diagnostics to print (exit code 1)."""

    def __init__(self, diagnostics: Iterable[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.format() for d in self.diagnostics))


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate a misspelt key or id most likely meant, or None when nothing is close."""
    pool = [c for c in candidates if isinstance(c, str)]
    if not isinstance(word, str) or not pool:
        return None
    match = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in pool}
        match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        match = [lowered[m] for m in match]
    return match[0] if match else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A '; did you mean 'x'?' suffix for a misspelt key or id, or '' when nothing is close."""
    match = closest(word, candidates)
    return f"; did you mean '{match}'?" if match is not None else ""


def one_of(candidates: Iterable[str], limit: int = 12) -> str:
    """'a, b, c' (shortened with '...' past `limit`) for 'expected one of ...' messages."""
    items = sorted(set(candidates))
    text = ", ".join(items[:limit])
    return text + (", ..." if len(items) > limit else "")
