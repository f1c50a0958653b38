"""Safe YAML loading that remembers where every key and value came from.

Scenario files are untrusted data. This module composes the YAML node graph with PyYAML's safe
loader and builds plain Python values itself, so that:

* only the standard safe tags (str, int, float, bool, null, timestamp, map, seq) are accepted;
  ``!!python/object`` and any other tag is a diagnostic, and nothing is ever constructed from it;
* aliases are counted before anything is expanded: an alias bomb ("billion laughs") or a
  recursive alias is refused at once;
* files over :data:`MAX_BYTES`, binary files and files that are not UTF-8 are refused;
* duplicate keys (which PyYAML would silently let the last one win) are reported;
* an unquoted colour (``colour: #c8a028``, which YAML reads as an empty value and a comment) is
  reported where it stands, with the fix (quote it); so is the syntax error it causes inside
  ``{...}`` or ``[...]``, where the comment swallows the closing bracket;
* every mapping and list is a :class:`YMap` / :class:`YList` carrying the :class:`Pos` of itself,
  of each key and of each value, so later stages can point at the exact line of a mistake.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import safefile
from .diagnostics import Diagnostic, DiagnosticList, InputError, Pos

MAX_BYTES = 8 * 1024 * 1024
MAX_NODES = 2_000_000  # nodes after alias expansion
MAX_DEPTH = 64  # nesting of lists and mappings; a scenario needs about 8
#: YAML events (each value, and each list and mapping's start and end) a file may hold, counted
#: before anything is composed: Ichi-Go has about 11,000; composing and checking 250,000 takes
#: about two seconds, so a file of millions of tiny values is refused in a fraction of that.
MAX_EVENTS = 250_000
#: The largest integer a scenario may write: every integer converts exactly to a float, so no
#: later conversion or arithmetic can overflow (a scenario's largest figures are in the millions).
MAX_INT = 2**53

_SURROGATE = re.compile("[\ud800-\udfff]")
_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_MAP_TAG = _STD + "map"
_SEQ_TAG = _STD + "seq"
_MERGE_TAG = _STD + "merge"
_NULL_TAG = _STD + "null"

# '#rrggbb' where YAML sees a comment: after whitespace (or a flow indicator), not part of a word
_HEX_COMMENT = re.compile(r"(?:(?<=[\s\[{,])|^)(#[0-9a-fA-F]{6})(?![0-9A-Za-z_])")
# the same right after a key's end or a list item's dash: the value YAML read as empty
_HEX_AFTER = re.compile(r"\s*(?::\s*)?(#[0-9a-fA-F]{6})(?![0-9A-Za-z_])")


class _Rejected:
    """Stands in for a value refused at load time (a forbidden tag), so later stages do not
    report it a second time."""

    def __repr__(self) -> str:
        return "<rejected>"


REJECTED = _Rejected()


class YMap(dict):
    """A dict that knows where it, its keys and its values are in the source."""

    pos: Pos
    key_pos: dict
    val_pos: dict
    #: set by a variant's merge on an item whose id the base lacks (the "did you mean" text)
    new_in_variant: str | None = None

    def __init__(self, *args, pos: Pos | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pos = pos or Pos("<generated>", 1, 1)
        self.key_pos = {}
        self.val_pos = {}

    def set(self, key, value, key_pos: Pos, val_pos: Pos) -> None:
        self[key] = value
        self.key_pos[key] = key_pos
        self.val_pos[key] = val_pos


class YList(list):
    """A list that knows where it and each of its items are in the source."""

    pos: Pos
    item_pos: list

    def __init__(self, *args, pos: Pos | None = None):
        super().__init__(*args)
        self.pos = pos or Pos("<generated>", 1, 1)
        self.item_pos = []

    def push(self, value, pos: Pos) -> None:
        self.append(value)
        self.item_pos.append(pos)


def _abbrev(text: str, keep: int = 24) -> str:
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text):,} characters)"


def node_pos(node: Node, file: str) -> Pos:
    mark = node.start_mark
    return Pos(file, mark.line + 1, mark.column + 1)


def read_text(path: Path, shown: str) -> str:
    """Read a file as UTF-8 text, refusing huge, binary or undecodable files, and anything that
    is not a regular file, with a diagnostic (:mod:`game.safefile` does the reading)."""
    return safefile.read_text(path, shown, MAX_BYTES, what="scenario file", text="YAML text")


def load_yaml(path: Path, shown: str | None = None) -> tuple[Any, DiagnosticList]:
    """Load one YAML document from `path` into YMap/YList/scalars plus the problems found.

    Raises InputError for problems that leave nothing to work with (unreadable file, syntax
    error, alias bomb). Other problems (bad tags, duplicate keys) are returned as diagnostics
    alongside the best-effort data.
    """
    shown = shown if shown is not None else str(path)
    text = read_text(path, shown)
    return load_yaml_text(text, shown)


# libyaml's composer is several times faster than the pure-Python one and gives the same nodes
# and marks; both only compose (build nodes), never construct objects from tags.
_Composer = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TooLarge(InputError):
    """A document past a size limit (nesting, values): no syntax error to word again."""


def load_yaml_text(text: str, shown: str) -> tuple[Any, DiagnosticList]:
    diags = DiagnosticList()
    try:
        node = _compose(_Composer, text, shown)
    except _TooLarge:
        raise
    except InputError as exc:
        if _Composer is yaml.SafeLoader:
            raise _colour_comment_cause(exc, text, shown) from None
        # report syntax errors in the pure-Python parser's words: the same on every machine
        try:
            node = _compose(yaml.SafeLoader, text, shown)
        except InputError as again:
            raise _colour_comment_cause(again, text, shown) from None
    if node is None:
        return None, diags
    _check_expansion(node, shown)
    builder = _Builder(shown, diags, text.splitlines())
    try:
        value = builder.build(node)
    except RecursionError:
        raise InputError(Diagnostic(Pos(shown, 1, 1), "YAML nesting is too deep")) from None
    return value, diags


def _compose(loader_class: type, text: str, shown: str) -> Node | None:
    loader = loader_class(text)
    probe = loader_class(text)
    try:
        _check_depth(probe, shown)
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "syntax error"
        if "expected a single document" in str(exc.context or ""):
            problem = "more than one YAML document in the file, expected exactly one"
        raise InputError(Diagnostic(Pos(shown, line, col), f"YAML syntax error: {problem}")) from None
    except yaml.YAMLError as exc:
        raise InputError(Diagnostic(Pos(shown, 1, 1), f"YAML error: {exc}")) from None
    except (ValueError, OverflowError):  # an escape beyond Unicode, e.g. "\U00110000"
        mark = probe.get_mark()  # the probe reads the whole text first: it is where the scan stopped
        raise InputError(Diagnostic(Pos(shown, mark.line + 1, mark.column + 1),
                                    "YAML syntax error: an escape beyond the last Unicode character; "
                                    "expected at most \\U0010FFFF")) from None
    except RecursionError:
        raise InputError(Diagnostic(Pos(shown, 1, 1), "YAML nesting is too deep")) from None
    finally:
        loader.dispose()
        probe.dispose()


def _colour_comment_cause(exc: InputError, text: str, shown: str) -> InputError:
    """A syntax error whose likely cause is an unquoted colour inside [...] or {...}: the '#'
    starts a comment that hides the rest of the line, closing bracket included. Then the error is
    reported at the colour, saying so; otherwise it is returned unchanged."""
    diag = exc.diagnostics[0]
    if not diag.message.startswith("YAML syntax error"):
        return exc
    lines = text.splitlines()
    for n in range(min(diag.pos.line, len(lines)) - 1, -1, -1):
        line = lines[n]
        for m in _HEX_COMMENT.finditer(line):
            before = line[: m.start()]
            if before.count('"') % 2 or before.count("'") % 2:
                continue  # inside a quoted string: no comment
            if before.count("{") + before.count("[") <= before.count("}") + before.count("]"):
                continue  # not inside an open [...] or {...}: the colour reads as empty, no syntax error
            key = re.search(r"([\w-]+)\s*:\s*$", before)
            fix = f'{key.group(1)}: "{m.group(1)}"' if key else f'"{m.group(1)}"'
            return InputError(Diagnostic(
                Pos(shown, n + 1, m.start() + 1),
                f"'#' starts a YAML comment, so {m.group(1)} and the rest of the line (its closing "
                f"bracket too) are not read, which breaks the file ({diag.message} at line {diag.pos.line}, "
                f"column {diag.pos.col}); quote the colour: {fix}"))
    return exc


def _too_large(event: Any, shown: str, message: str) -> _TooLarge:
    mark = event.start_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return _TooLarge(Diagnostic(Pos(shown, line, col), message))


def _check_depth(loader: Any, shown: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH before composing them: the composers
    recurse once per level (libyaml's on the C stack), the event parser does not."""
    depth = 0
    count = 0
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            count += 1
            if count > MAX_EVENTS:
                raise _too_large(event, shown, f"more than {MAX_EVENTS:,} values, lists and mappings; expected a "
                                               "scenario of reasonable size (a large campaign has about 11,000)")
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_large(event, shown, f"lists and mappings nested more than {MAX_DEPTH} deep; "
                                                   "expected a scenario of reasonable shape")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def _check_expansion(root: Node, shown: str) -> None:
    """Refuse recursive aliases and documents whose alias expansion exceeds MAX_NODES.

    Sizes are memoised per node object, so the check is linear in the size of the document as
    written, however much its aliases would expand.
    """
    size: dict[int, int] = {}
    active: set[int] = set()
    # iterative post-order walk (documents can be deep)
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            total = 1
            for child in _children(node):
                total += size[id(child)]
                if total > MAX_NODES:
                    raise InputError(Diagnostic(
                        node_pos(node, shown),
                        f"aliases expand to more than {MAX_NODES:,} nodes (an alias bomb?); "
                        "expected a document of reasonable size"))
            size[key] = total
            continue
        if key in size:
            continue
        if key in active:
            raise InputError(Diagnostic(node_pos(node, shown),
                                        "recursive alias (a node that contains itself) is not allowed"))
        active.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in active:
                raise InputError(Diagnostic(node_pos(child, shown),
                                            "recursive alias (a node that contains itself) is not allowed"))
            if id(child) not in size:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        out = []
        for k, v in node.value:
            out.append(k)
            out.append(v)
        return out
    return []


class _Builder:
    """Turns composed nodes into YMap/YList/scalars, collecting diagnostics."""

    def __init__(self, shown: str, diags: DiagnosticList, lines: list[str] | None = None):
        self.shown = shown
        self.diags = diags
        self.lines = lines or []
        self._scalar = yaml.SafeLoader("")  # only used for its scalar constructors

    def colour_comment(self, value_node: Node, line: int, col: int, key: str | None) -> bool:
        """Report an empty value that is really an unquoted colour: YAML read ``colour: #c8a028``
        as ``colour:`` and a comment. `line` and `col` (0-based) are where the value would start
        (the end of its key, or a list item's dash); True when reported."""
        if not (isinstance(value_node, ScalarNode) and value_node.tag == _NULL_TAG and value_node.value == ""
                and line < len(self.lines)):
            return False
        m = _HEX_AFTER.match(self.lines[line], col)
        if m is None:
            return False
        colour = m.group(1)
        fix = f'{key}: "{colour}"' if key is not None else f'- "{colour}"'
        what = f"'{key}' has" if key is not None else "this list item has"
        self.diags.error(Pos(self.shown, line + 1, m.start(1) + 1),
                         f"{what} no value: '#' starts a YAML comment, so {colour} is not read; quote the "
                         f"colour: {fix}")
        return True

    def build(self, node: Node) -> Any:
        pos = node_pos(node, self.shown)
        if isinstance(node, ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                self.diags.error(pos, f"YAML tag '{_short(node.tag)}' is not allowed in a scenario; "
                                      "expected plain values (text, numbers, dates, true/false)")
                return REJECTED
            try:
                value = self._scalar.yaml_constructors[node.tag](self._scalar, node)
            except Exception:  # noqa: BLE001 - any failure of a safe scalar constructor: not that type
                # e.g. 1944-02-30 looks like a date but is none, or "!!bool maybe" (KeyError),
                # "!!timestamp spring" (AttributeError): keep the text and let the structural
                # check say what the field expected
                return node.value
            if isinstance(value, str) and _SURROGATE.search(value):
                self.diags.error(pos, "text holds a lone surrogate (an escape such as \\ud800), which is not a "
                                      "character; expected plain Unicode text")
                return REJECTED
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and abs(value) > MAX_INT:
                self.diags.error(pos, f"the number {_abbrev(node.value)} is too large; expected a number "
                                      f"between -{MAX_INT:,} and {MAX_INT:,}")
                return REJECTED
            if isinstance(value, float) and not math.isfinite(value):
                self.diags.error(pos, f"'{_abbrev(node.value)}' is not a finite number; expected an ordinary "
                                      "number (no infinity, no NaN, nothing beyond about 1e308)")
                return REJECTED
            return value
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ_TAG:
                self.diags.error(pos, f"YAML tag '{_short(node.tag)}' is not allowed in a scenario; "
                                      "expected a plain list")
                return REJECTED
            out = YList(pos=pos)
            for item in node.value:
                mark = item.start_mark
                value = REJECTED if self.colour_comment(item, mark.line, mark.column, None) else self.build(item)
                out.push(value, node_pos(item, self.shown))
            return out
        if isinstance(node, MappingNode):
            if node.tag != _MAP_TAG:
                self.diags.error(pos, f"YAML tag '{_short(node.tag)}' is not allowed in a scenario; "
                                      "expected a plain mapping")
                return REJECTED
            return self._mapping(node, pos)
        raise AssertionError(f"unknown YAML node {node!r}")  # pragma: no cover

    def _mapping(self, node: MappingNode, pos: Pos) -> YMap:
        out = YMap(pos=pos)
        merged: list[YMap] = []
        for key_node, value_node in node.value:
            key_pos = node_pos(key_node, self.shown)
            if key_node.tag == _MERGE_TAG:
                value = self.build(value_node)
                sources = value if isinstance(value, list) else [value]
                for src in sources:
                    if isinstance(src, YMap):
                        merged.append(src)
                    else:
                        self.diags.error(key_pos, "'<<' merge key expects a mapping or a list of mappings")
                continue
            if not isinstance(key_node, ScalarNode):
                self.diags.error(key_pos, "a mapping key must be plain text, not a list or mapping")
                continue
            key = self.build(key_node)
            if not isinstance(key, str):
                key = str(key_node.value)
            if key in out:
                first = out.key_pos[key]
                self.diags.error(key_pos, f"duplicate key '{key}' (first given at line {first.line}); "
                                          "expected each key once")
                continue
            end = key_node.end_mark
            value = REJECTED if self.colour_comment(value_node, end.line, end.column, key) else self.build(value_node)
            out.set(key, value, key_pos, node_pos(value_node, self.shown))
        for src in merged:  # explicit keys win over merged ones
            for key, value in src.items():
                if key not in out:
                    out.set(key, value, src.key_pos[key], src.val_pos[key])
        return out


def _short(tag: str) -> str:
    return "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag


def to_plain(value: Any) -> Any:
    """Strip positions: YMap/YList to dict/list, recursively."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value
