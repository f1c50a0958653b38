"""Import boundaries between the layers of the game package, read from the source (nothing is
imported): the rules engine never imports pygame, the scenario format sits below the rules, and
no layer imports one above it.

The layers, bottom to top: ``game.scenario`` (the format), ``game.rules`` (the engine),
``game.ai`` (the players), ``game.balance`` (AI-vs-AI batches), ``game.ui`` (the window, the only
one that may draw). Every import counts, including those inside functions and under
``TYPE_CHECKING``; relative imports are resolved against the importing module.
"""

from __future__ import annotations

import ast
import functools
import itertools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GAME = ROOT / "game"
PACKAGES = ("scenario", "rules", "ai", "balance", "ui")
DRAWING = ("pygame", "pygame_gui")

# importer package -> the game packages it must not import
FORBIDDEN = {
    "rules": ("ai", "balance", "ui"),
    "scenario": ("rules", "ai", "balance", "ui"),
    "ai": ("ui", "balance"),
    "balance": ("ui",),
}


def module_name(path: Path) -> str:
    """The dotted name of a module file under the repository root (a package's __init__: the
    package)."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(module: str, source: str, *, is_package: bool = False, filename: str = "<string>"):
    """(line, imported module) for every import in `source`, the module `module` (a package's
    __init__ when `is_package`). ``from X import a`` yields X and X.a (a may be a submodule)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 > len(package):
                    raise ValueError(f"{filename}:{node.lineno}: relative import beyond the top package")
                base = package[:len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module:
                yield node.lineno, target
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{target}.{alias.name}"


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer(name: str) -> str | None:
    """The game package a module belongs to (None: a top-level module such as game.hexgrid)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "game" and parts[1] in PACKAGES else None


def violations(module: str, found) -> list[tuple[int, str, str]]:
    """(line, imported, rule) for each import of `module` that breaks a boundary."""
    out: dict[tuple[int, str], str] = {}  # one per line and rule: `from game.ui import x` is game.ui
    own = layer(module)
    for line, name in found:
        if own != "ui" and any(within(name, d) for d in DRAWING):
            out.setdefault((line, "pygame is imported only in game/ui/"), name)
        for banned in FORBIDDEN.get(own or "", ()):
            if within(name, f"game.{banned}"):
                out.setdefault((line, f"game/{own}/ must not import game.{banned}"), name)
    return sorted((line, name, rule) for (line, rule), name in out.items())


@functools.cache  # read once for all the checks
def all_imports() -> dict[Path, list[tuple[int, str]]]:
    out = {}
    for path in sorted(GAME.rglob("*.py")):
        out[path] = list(imports(module_name(path), path.read_text(encoding="utf-8"),
                                 is_package=path.name == "__init__.py", filename=str(path)))
    return out


def package_edges(found: dict[Path, list[tuple[int, str]]]) -> dict[tuple[str, str], tuple[Path, int, str]]:
    """(importer package, imported package) -> the first import that makes the edge."""
    edges: dict[tuple[str, str], tuple[Path, int, str]] = {}
    for path, items in found.items():
        src = layer(module_name(path))
        for line, name in items:
            dst = layer(name)
            if src and dst and src != dst:
                edges.setdefault((src, dst), (path, line, name))
    return edges


def find_cycle(edges) -> list[str] | None:
    """A cycle in the package graph as [a, b, ..., a], or None."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


# -- the checker itself ---------------------------------------------------------------------


def test_relative_imports_resolve_against_the_importing_module():
    src = "from ..balance.record import x\nfrom . import model\nfrom .. import ui\nimport pygame.draw\n"
    found = sorted(imports("game.ai.operational", src))
    assert found == sorted([(1, "game.balance.record"), (1, "game.balance.record.x"), (2, "game.ai.model"),
                            (3, "game.ui"), (4, "pygame.draw")])
    # in a package's __init__, one dot is the package itself
    assert sorted(imports("game.scenario", "from .loader import child\n", is_package=True)) == [
        (1, "game.scenario.loader"), (1, "game.scenario.loader.child")]


def test_the_checker_finds_imports_inside_functions_and_type_checking_blocks():
    src = ("from typing import TYPE_CHECKING\n"
           "if TYPE_CHECKING:\n    from ..ui.session import Session\n"
           "def f():\n    import pygame\n    from ..balance import stats\n")
    found = violations("game.rules.engine", imports("game.rules.engine", src))
    assert [(line, rule) for line, _, rule in found] == [
        (3, "game/rules/ must not import game.ui"), (5, "pygame is imported only in game/ui/"),
        (6, "game/rules/ must not import game.balance")]
    assert violations("game.ui.app", imports("game.ui.app", src)) == []  # the window may draw
    assert violations("game.scenario.loader", [(1, "game.rules.context")])
    assert not violations("game.scenario.loader", [(1, "game.rulesets")])  # a prefix, not the package


def test_find_cycle():
    assert find_cycle({("rules", "scenario"): 0, ("ai", "rules"): 0}) is None
    assert find_cycle({("rules", "scenario"): 0, ("scenario", "ai"): 0, ("ai", "rules"): 0}) == [
        "ai", "rules", "scenario", "ai"]


# -- the game package -------------------------------------------------------------------------


def test_no_layer_imports_one_it_must_not():
    found = all_imports()
    assert len(found) > 30  # the whole package was read
    broken = [f"{where(path, line)}: imports {name}: {rule}"
              for path, items in found.items()
              for line, name, rule in violations(module_name(path), items)]
    assert not broken, "import boundaries broken:\n" + "\n".join(broken)


@pytest.mark.parametrize("banned", DRAWING)
def test_pygame_stays_in_the_ui(banned):
    broken = [where(path, line) for path, items in all_imports().items()
              if layer(module_name(path)) != "ui"
              for line, name in items if within(name, banned)]
    assert not broken, f"{banned} imported outside game/ui/:\n" + "\n".join(broken)


def test_the_packages_import_each_other_without_cycles():
    edges = package_edges(all_imports())
    assert ("ui", "rules") in edges  # the graph was built from real imports
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle between the game packages: " + " -> ".join(cycle) + "\n" + "\n".join(
        f"  {a} -> {b}: {where(*edges[(a, b)][:2])} imports {edges[(a, b)][2]}" for a, b in itertools.pairwise(cycle))


def module_edges(found: dict[Path, list[tuple[int, str]]]) -> dict[tuple[str, str], tuple[Path, int, str]]:
    """(importing module, imported module) -> the first import that makes the edge; a name imported
    from a module counts as the module (``game.scenario.loader.child`` is ``game.scenario.loader``)."""
    modules = {module_name(path) for path in found}
    edges: dict[tuple[str, str], tuple[Path, int, str]] = {}
    for path, items in found.items():
        src = module_name(path)
        for line, name in items:
            dst = name
            while dst and dst not in modules:
                dst = dst.rpartition(".")[0]
            if dst and dst != src and not src.startswith(dst + "."):  # a package's own __init__ is no edge
                edges.setdefault((src, dst), (path, line, name))
    return edges


def test_the_modules_below_the_window_import_each_other_without_cycles():
    """Not only the packages: below the window no two modules need each other (overrides and the
    loader once did). The window's screens and the App that opens them know each other (a screen
    holds its App; the App builds the screens, lazily): that stays inside game/ui/."""
    edges = {k: v for k, v in module_edges(all_imports()).items() if not any(within(m, "game.ui") for m in k)}
    assert ("game.scenario.loader", "game.scenario.overrides") in edges
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle between modules: " + " -> ".join(cycle) + "\n" + "\n".join(
        f"  {a} -> {b}: {where(*edges[(a, b)][:2])} imports {edges[(a, b)][2]}" for a, b in itertools.pairwise(cycle))
