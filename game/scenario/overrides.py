"""Scenario value overrides: change one value of a scenario without writing a variant file.

A balance sweep plays the same scenario with one value set to each of several settings
(``--sweep rules.combat.rout_loss=0.05,0.1,0.2``). An override is a dotted PATH and a value,
applied to the merged scenario document (after ``extends``, before validation), so the
overridden scenario is checked like any other and a bad value gets the usual diagnostic.

A PATH segment names a mapping key, or a list item by its ``id`` (``units.jp_37_div.strength``)
or by its position from 0 (``rules.combat.table.0.2``). A key the file leaves out but the format
knows (a field with a default, such as ``rules.combat.rout_loss``) can be set too, and so can a
new key of a mapping keyed by ids (``victory.track_points.communist_prestige``: validation checks
the id). A path that leads nowhere is an :class:`OverrideError` naming the first bad segment,
with a "did you mean".

The loader keeps the source position of every node (:mod:`game.yamlload`); overriding copies
only the containers along the path, so the rest of the document keeps its positions, and the
new value is placed at ``<override PATH>`` so a diagnostic about it says where it came from.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any

from ..diagnostics import Pos, did_you_mean, one_of
from ..yamlload import YList, YMap
from . import model
from .annotations import child, field_names, unwrap_container


class OverrideError(ValueError):
    """An override path that does not lead to a value; `pos` is the container where it fails."""

    def __init__(self, message: str, pos: Pos):
        super().__init__(message)
        self.pos = pos


def override_pos(path: str) -> Pos:
    """The source position given to an overridden value (shown in diagnostics about it)."""
    return Pos(f"<override {path}>", 1, 1)


def apply_overrides(document: YMap, overrides: Mapping[str, object]) -> YMap:
    """A copy of the merged scenario `document` with each dotted PATH set to its value.

    `document` is not changed; only the containers along each path are copied. Values are
    plain Python (as from ``yaml.safe_load``); mappings and lists inside them are given the
    override's position. Raises OverrideError for a path that does not exist."""
    out = document
    for path, value in overrides.items():
        out = _apply_one(out, path, value)
    return out


def _apply_one(document: YMap, path: str, value: object) -> YMap:
    segments = path.split(".")
    if not path or any(not s.strip() for s in segments):
        raise OverrideError(f"override path '{path}' is empty or has an empty segment; expected keys and "
                            "list ids joined by dots, e.g. 'units.jp_37_div.strength'", document.pos)
    at = override_pos(path)
    root = _copy(document)
    node: Any = root
    annotation: Any = model.Scenario
    for k, seg in enumerate(segments):
        last = k == len(segments) - 1
        where = ".".join(segments[:k]) or "the scenario"
        prefix = f"override '{path}': "
        if isinstance(node, YMap):
            fields = _fields(annotation, node)
            if seg not in node and not _free_keys(annotation) and (fields is None or seg not in fields):
                known = list(node) + [f for f in fields or () if f not in node]
                raise OverrideError(f"{prefix}no key '{seg}' in {where}{did_you_mean(seg, known)} "
                                    f"(expected one of: {one_of(known)})", node.pos)
            annotation = child(annotation, seg)
            if last:
                node.set(seg, _positioned(value, at), node.key_pos.get(seg, at), at)
                break
            if seg in node:
                sub = _copy(node[seg])
                node.set(seg, sub, node.key_pos[seg], node.val_pos[seg])
            elif _fields(annotation, YMap()) is not None or _free_keys(annotation):  # absent, but in the format
                sub = YMap(pos=at)
                node.set(seg, sub, at, at)
            else:
                raise OverrideError(f"{prefix}{where}.{seg} is not set in the scenario, so it has no "
                                    f"'{segments[k + 1]}'", node.pos)
            node = sub
        elif isinstance(node, YList):
            index = _list_index(node, seg, where, prefix)
            annotation = child(annotation, index)
            if last:
                node[index] = _positioned(value, at)
                node.item_pos[index] = at
                break
            sub = _copy(node[index])
            node[index] = sub
            node = sub
        else:
            raise OverrideError(f"{prefix}{where} is a single value ({node!r}), not a mapping or a list, so it "
                                f"has no '{seg}'", at)
    return root


def _list_index(items: YList, seg: str, where: str, prefix: str) -> int:
    """The position in `items` of the item named by `seg`: a number, or an item's id."""
    if seg.isdigit():
        index = int(seg)
        if index >= len(items):
            raise OverrideError(f"{prefix}{where} has {len(items)} item(s), so there is no item {index} "
                                f"(items count from 0)", items.pos)
        return index
    ids = [item["id"] for item in items if isinstance(item, YMap) and isinstance(item.get("id"), str)]
    for index, item in enumerate(items):
        if isinstance(item, YMap) and item.get("id") == seg:
            return index
    if not ids:
        raise OverrideError(f"{prefix}the items of {where} have no ids; name one by its position from 0 "
                            f"instead of '{seg}'", items.pos)
    raise OverrideError(f"{prefix}no item with id '{seg}' in {where}{did_you_mean(seg, ids)}", items.pos)


def _fields(annotation: Any, node: YMap) -> list[str] | None:
    """The keys the format allows in a mapping of type `annotation` (None: any key, or unknown).

    For a union of parts (event effects, triggers) the part is the one whose keys include all
    the keys `node` has, when exactly one does."""
    bare = unwrap_container(annotation)
    if isinstance(bare, type) and issubclass(bare, model.Strict):
        return field_names(bare)
    if typing.get_origin(bare) in (typing.Union, types.UnionType):
        candidates = []
        for arg in typing.get_args(bare):
            arg = unwrap_container(arg)
            if isinstance(arg, type) and issubclass(arg, model.Strict):
                names = field_names(arg)
                if set(node) <= set(names) and node.get("type") in (None, *_literal_types(arg)):
                    candidates.append(names)
        if len(candidates) == 1:
            return candidates[0]
    return None


def _free_keys(annotation: Any) -> bool:
    """Whether a mapping of type `annotation` takes keys of the designer's choosing ({side: ...},
    {track: points}): any key may be set there, and validation checks the ids."""
    return typing.get_origin(unwrap_container(annotation)) is dict


def _literal_types(cls: type[model.Strict]) -> tuple:
    """The values a part's `type` field may take (the tag of an event effect), or ()."""
    info = cls.model_fields.get("type")
    return typing.get_args(info.annotation) if info is not None else ()


def _copy(node: Any) -> Any:
    """A shallow copy of a YMap or YList with its positions (anything else as is)."""
    if isinstance(node, YMap):
        out = YMap(pos=node.pos)
        for key, value in node.items():
            out.set(key, value, node.key_pos[key], node.val_pos[key])
        return out
    if isinstance(node, YList):
        seq = YList(pos=node.pos)
        for value, pos in zip(node, node.item_pos):
            seq.push(value, pos)
        return seq
    return node


def _positioned(value: Any, pos: Pos) -> Any:
    """A plain value as the loader's tree: dicts and lists become YMap and YList at `pos`."""
    if isinstance(value, dict):
        out = YMap(pos=pos)
        for key, item in value.items():
            out.set(str(key), _positioned(item, pos), pos, pos)
        return out
    if isinstance(value, list):
        seq = YList(pos=pos)
        for item in value:
            seq.push(_positioned(item, pos), pos)
        return seq
    return value
