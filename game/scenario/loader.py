"""Loading a scenario file: ``extends`` chains, merging, structural validation with positions.

``load_scenario(path)`` returns a :class:`LoadResult` holding the validated
:class:`~game.scenario.model.Scenario` (or ``None``), the merged raw tree with the position of
every value, and every diagnostic found. Semantic checks and the map build live in
:mod:`game.scenario.semantic`; :func:`game.scenario.validate_file` runs everything.

Merging (``extends: base.yaml``): mappings merge key by key, deeply; lists whose items are
mappings with an ``id`` merge by id (an item with the id of a base item is merged into it, a new
id is appended, and ``{id: x, _remove: true}`` deletes item x); any other value, lists without
ids included, replaces the base's. A key set to ``null`` in a variant is removed.
"""

from __future__ import annotations

import functools
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Tag, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from .. import safefile
from ..diagnostics import Diagnostic, DiagnosticList, InputError, Pos, did_you_mean, one_of
from ..yamlload import REJECTED, YList, YMap, load_yaml
from . import model
from .annotations import child, field_names, unwrap_container
from .overrides import OverrideError, apply_overrides

MAX_EXTENDS_DEPTH = 16
REMOVE_KEY = "_remove"


@dataclass
class LoadResult:
    path: Path
    shown: str
    raw: Any = None  # merged YMap tree
    scenario: model.Scenario | None = None
    sections: dict[str, Any] = field(default_factory=dict)  # validated sections by name
    diagnostics: DiagnosticList = field(default_factory=DiagnosticList)
    files: list[Path] = field(default_factory=list)  # every file read, base files included
    root: Path | None = None  # the scenario's folder tree: every file it names must lie inside

    @property
    def ok(self) -> bool:
        return not self.diagnostics.errors and self.scenario is not None


def shown_path(path: Path) -> str:
    """The path as a user would type it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def load_scenario(path: str | Path, *, root: str | Path | None = None,
                  overrides: typing.Mapping[str, object] | None = None) -> LoadResult:
    """Load, merge and structurally validate a scenario; never raises for bad input.

    `overrides` ({dotted path: value}, see :mod:`game.scenario.overrides`) are applied to the
    merged document before validation; a path that leads nowhere is a diagnostic."""
    path = Path(path)
    result = LoadResult(path=path, shown=str(path))
    try:
        try:
            root_dir = safefile.resolve(Path(root)) if root is not None else safefile.resolve(path).parent
        except safefile.FileProblem as exc:
            raise InputError(Diagnostic(Pos(result.shown, 1, 1), str(exc))) from None
        result.root = root_dir
        result.raw = _load_chain(path, str(path), root_dir, [], result)
    except InputError as exc:
        result.diagnostics.extend(exc.diagnostics)
        return result
    if not isinstance(result.raw, YMap):
        at = getattr(result.raw, "pos", Pos(result.shown, 1, 1))
        result.diagnostics.error(at, "a scenario file must be a mapping of sections "
                                     f"(expected keys such as {one_of(model.SECTIONS, 6)})")
        return result
    if overrides:
        try:
            result.raw = apply_overrides(result.raw, overrides)
        except OverrideError as exc:
            result.diagnostics.error(exc.pos, str(exc))
            return result
    validate_structure(result.raw, result)
    return result


def _load_chain(path: Path, shown: str, root: Path, stack: list[Path], result: LoadResult) -> YMap:
    data, diags = load_yaml(path, shown)
    result.diagnostics.extend(diags)
    result.files.append(path)
    if not isinstance(data, YMap) or "extends" not in data:
        return data
    ext = data["extends"]
    ext_pos = data.val_pos["extends"]
    del data["extends"]
    if ext is REJECTED:  # the reader has said why (a lone surrogate...): stop at that one error
        raise InputError([])
    if not isinstance(ext, str) or not ext.strip():
        raise InputError(Diagnostic(ext_pos, "'extends' expects the file name of a base scenario, "
                                             "e.g. 'extends: base.yaml'"))
    if os.path.isabs(ext):
        raise InputError(Diagnostic(ext_pos, f"'extends: {ext}' is an absolute path; expected a path "
                                             "relative to this file, inside the scenario folder"))
    try:
        safefile.check_path_text(ext)
        base = path.parent / ext
        resolved = safefile.resolve(base)
        chain = stack + [safefile.resolve(path)]
    except safefile.FileProblem as exc:
        raise InputError(Diagnostic(ext_pos, f"'extends': {exc}; expected the file name of a base scenario "
                                             "in this folder")) from None
    if not safefile.inside(resolved, [root]):
        raise InputError(Diagnostic(ext_pos, f"'extends: {ext}' reaches outside the scenario folder "
                                             f"{shown_path(root)}; a base must be inside it"))
    if resolved in chain:
        cycle = " -> ".join(p.name for p in chain + [resolved])
        raise InputError(Diagnostic(ext_pos, f"'extends' makes a cycle: {cycle}"))
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise InputError(Diagnostic(ext_pos, f"'extends' chain deeper than {MAX_EXTENDS_DEPTH} files"))
    if not os.path.exists(resolved):
        siblings = [p.name for p in base.parent.glob("*.yaml")] if base.parent.is_dir() else []
        raise InputError(Diagnostic(ext_pos, f"base scenario '{ext}' not found"
                                             f"{did_you_mean(Path(ext).name, siblings)}"))
    base_data = _load_chain(base, shown_path(base), root, chain, result)
    if not isinstance(base_data, YMap):
        raise InputError(Diagnostic(ext_pos, f"base scenario '{ext}' is not a mapping of sections"))
    return merge(base_data, data, result.diagnostics)


def merge(base: Any, over: Any, diags: DiagnosticList) -> Any:
    """Merge a variant's tree `over` onto `base` (both left unchanged); see the module docstring."""
    if isinstance(base, YMap) and isinstance(over, YMap):
        out = YMap(pos=base.pos)
        for key, value in base.items():
            out.set(key, value, base.key_pos[key], base.val_pos[key])
        for key, value in over.items():
            if value is None:  # `key: null` removes the key
                out.pop(key, None)
                out.key_pos.pop(key, None)
                out.val_pos.pop(key, None)
                continue
            if key in out:
                value = merge(out[key], value, diags)
            out.set(key, value, over.key_pos[key], over.val_pos[key])
        return out
    if isinstance(base, YList) and isinstance(over, YList) and _has_ids(base) and _is_idlist(over):
        return _merge_by_id(base, over, diags)
    return over


def _has_ids(items: YList) -> bool:
    return len(items) > 0 and all(isinstance(x, YMap) and isinstance(x.get("id"), str) for x in items)


def _is_idlist(items: YList) -> bool:
    return all(isinstance(x, YMap) and isinstance(x.get("id"), str) for x in items)


def _merge_by_id(base: YList, over: YList, diags: DiagnosticList) -> YList:
    order: list[str] = [item["id"] for item in base]
    base_ids = list(order)
    items: dict[str, tuple[Any, Pos]] = {item["id"]: (item, p) for item, p in zip(base, base.item_pos)}
    seen: dict[str, Pos] = {}
    for item, pos in zip(over, over.item_pos):
        ident = item["id"]
        if ident in seen:
            diags.error(item.val_pos["id"], f"duplicate id '{ident}' in this list (first given at line "
                                            f"{seen[ident].line}); expected each id once")
            continue
        seen[ident] = item.val_pos["id"]
        if item.get(REMOVE_KEY) is True:
            if ident in items:
                del items[ident]
                order.remove(ident)
            else:
                diags.error(item.val_pos["id"], f"cannot remove '{ident}': the base has no item with "
                                                f"that id{did_you_mean(ident, order)}")
            continue
        if REMOVE_KEY in item:
            diags.error(item.val_pos[REMOVE_KEY], f"'{REMOVE_KEY}' expects true (to delete the base's item "
                                                  f"'{ident}'), got {item[REMOVE_KEY]!r}")
            continue
        if ident in items:
            items[ident] = (merge(items[ident][0], item, diags), pos)
        else:
            items[ident] = (item, pos)
            order.append(ident)
            # a new item: when it lacks a required key, say so (it may be a base item's id mistyped)
            item.new_in_variant = did_you_mean(ident, base_ids)
    out = YList(pos=over.pos)
    for ident in order:
        value, pos = items[ident]
        out.push(value, pos)
    return out


# ---------------------------------------------------------------------------------------------
# structural validation


def position_of(raw: Any, path: tuple, *, key: bool = False) -> Pos:
    """The source position of the value at `path` in the raw tree (or of its key).

    Path elements that are not found (pydantic adds union tags, for instance) are skipped; a
    path that ends early gives the position of the deepest container reached, which is where a
    missing key belongs.
    """
    node = raw
    pos = getattr(raw, "pos", Pos("<unknown>", 1, 1))
    for i, step in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, YMap) and isinstance(step, str) and step in node:
            pos = node.key_pos[step] if (key and last) else node.val_pos[step]
            node = node[step]
        elif isinstance(node, YList) and isinstance(step, int) and 0 <= step < len(node):
            pos = node.item_pos[step]
            node = node[step]
        else:
            continue
    return pos


@functools.cache  # one per section of the format: a fixed, small set; immutable once built
def _section_adapter(name: str) -> TypeAdapter:
    annotation = model.Scenario.model_fields[name].annotation
    assert annotation is not None  # every section of the Scenario model is annotated
    return TypeAdapter(annotation)


def validate_structure(raw: YMap, result: LoadResult) -> None:
    """Validate each top-level section on its own, so one broken section hides no other problem."""
    diags = result.diagnostics
    for key in raw:
        if key not in model.Scenario.model_fields:
            diags.error(raw.key_pos[key], f"unknown section '{key}'{did_you_mean(key, model.SECTIONS)} "
                                          f"(expected one of: {one_of(model.SECTIONS)})")
    values: dict[str, Any] = {}
    for name, info in model.Scenario.model_fields.items():
        if name not in raw:
            if info.is_required():
                diags.error(raw.pos, f"missing required section '{name}'")
            continue
        item_adapter = _item_adapter(name)
        if item_adapter is not None and isinstance(raw[name], YList):
            # validate list sections item by item: a broken item hides nothing about the others
            items: list[Any] = []
            for k, item in enumerate(raw[name]):
                try:
                    items.append(item_adapter.validate_python(item))
                except ValidationError as exc:
                    items.append(None)
                    for err in exc.errors():
                        report_pydantic_error(raw, (name, k) + tuple(err["loc"]), err, diags)
            values[name] = items
            continue
        try:
            values[name] = _section_adapter(name).validate_python(raw[name])
        except ValidationError as exc:
            for err in exc.errors():
                report_pydantic_error(raw, (name,) + tuple(err["loc"]), err, diags)
    result.sections = values
    if not diags.errors:
        result.scenario = model.Scenario.model_construct(**values)
        # model_construct fills defaults for absent optional sections
        for name in model.Scenario.model_fields:
            if name not in values:
                result.sections[name] = getattr(result.scenario, name)


@functools.cache  # as _section_adapter
def _item_adapter(name: str) -> TypeAdapter | None:
    """For a section that is a list of models, an adapter for one item; else None."""
    annotation = model.Scenario.model_fields[name].annotation
    return TypeAdapter(typing.get_args(annotation)[0]) if typing.get_origin(annotation) is list else None


def _union_member(annotation: Any, tag: Any) -> Any:
    """The member of a tagged union that pydantic named `tag` in an error location, or None."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType) or not isinstance(tag, str):
        return None
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            inner, *meta = typing.get_args(arg)
            if any(isinstance(m, Tag) and m.tag == tag for m in meta):
                return inner
            arg = inner
        if isinstance(arg, type) and issubclass(arg, model.Strict):
            if arg.__name__ == tag:
                return arg
            type_field = arg.model_fields.get("type")
            if type_field is not None and tag in typing.get_args(type_field.annotation):
                return arg
    return None


def _walk_loc(loc: tuple) -> tuple[tuple, list]:
    """Split a pydantic error location into the path in the raw tree and the model class of each
    container along it (union tags, which pydantic inserts, are dropped)."""
    path: list = []
    owners: list = []
    annotation: Any = model.Scenario
    for step in loc:
        bare = unwrap_container(annotation)
        member = _union_member(bare, step)
        if member is not None:
            annotation = member
            continue
        owners.append(bare if isinstance(bare, type) and issubclass(bare, model.Strict) else None)
        path.append(step)
        annotation = child(annotation, step)
    return tuple(path), owners


def describe_path(raw: Any, path: tuple) -> str:
    """A YAML path for messages: list items with an id are named by it (units[jp_37_div])."""
    text = ""
    node = raw
    for step in path:
        if isinstance(step, int):
            item = node[step] if isinstance(node, YList) and 0 <= step < len(node) else None
            ident = item.get("id") if isinstance(item, YMap) else None
            text += f"[{ident}]" if isinstance(ident, str) else f"[{step}]"
            node = item
        else:
            text += f".{step}" if text else str(step)
            node = node.get(step) if isinstance(node, YMap) else None
    return text


def _node_at(raw: Any, path: tuple) -> Any:
    """The raw node at a pydantic location (keys and list indices), or None."""
    node = raw
    for step in path:
        if isinstance(node, YMap):
            node = node.get(step)
        elif isinstance(node, YList) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return None
    return node


def _holds_rejected(value: Any, depth: int = 3) -> bool:
    """Whether a value is, or directly holds, one refused when the file was read (a pydantic error
    on a short list such as a coordinate then says nothing new)."""
    if value is REJECTED:
        return True
    if depth and isinstance(value, (list, tuple)) and len(value) <= 16:
        return any(_holds_rejected(v, depth - 1) for v in value)
    return False


def report_pydantic_error(raw: YMap, loc: tuple, err: ErrorDetails, diags: DiagnosticList) -> None:
    """Turn one pydantic error into a line-precise diagnostic with a readable message."""
    kind = err["type"]
    if _holds_rejected(err.get("input")):
        return  # already reported when the file was read
    path, owners = _walk_loc(loc)
    where = describe_path(raw, path)
    if kind == "extra_forbidden":
        key = path[-1]
        cls = owners[-1]
        names = field_names(cls) if cls else []
        hint = did_you_mean(str(key), names)
        expected = f" (expected one of: {one_of(names)})" if names else ""
        diags.error(position_of(raw, path, key=True), f"unknown key '{key}' in {describe_path(raw, path[:-1])}"
                                                       f"{hint}{expected}", path)
        return
    if kind == "missing":
        owner = _node_at(raw, path[:-1])
        new_hint = getattr(owner, "new_in_variant", None)
        if new_hint is not None:
            owner.new_in_variant = None  # said once per item
        added = (f" (the base has no item '{owner.get('id')}', so this one is new and needs every required key"
                 f"{new_hint})") if new_hint is not None else ""
        diags.error(position_of(raw, path[:-1]), f"missing required key '{path[-1]}' in "
                                                  f"{describe_path(raw, path[:-1])}{added}", path)
        return
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        tag = ctx.get("tag", "?")
        diags.error(position_of(raw, path + ("type",)),
                    f"{where}.type: unknown effect type '{tag}'{did_you_mean(str(tag), model.EFFECT_TYPES)} "
                    f"(expected one of: {one_of(model.EFFECT_TYPES)})", path)
        return
    if kind == "union_tag_not_found":
        diags.error(position_of(raw, path), f"{where}: missing key 'type' (expected one of: "
                                            f"{one_of(model.EFFECT_TYPES)})", path)
        return
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if kind == "string_pattern_mismatch" and err.get("ctx", {}).get("pattern") == model.ID_PATTERN:
        message = "expected an id: lower-case letters, digits and '_', starting with a letter"
    elif kind == "literal_error":
        message = message.replace("Input should be", "expected")
    elif message.startswith("Input should be"):
        message = "expected " + message[len("Input should be "):]
    value = err.get("input")
    got = ""
    if kind not in ("value_error", "assertion_error") and not isinstance(value, (dict, list)):
        shown = repr(value) if not isinstance(value, str) else f"'{value}'"
        got = f", got {shown if len(shown) <= 80 else shown[:60] + f'... ({len(shown):,} characters)'}"
    diags.error(position_of(raw, path), f"{where}: {message}{got}", path)
