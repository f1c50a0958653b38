"""AI profiles: the personality of a computer player, in YAML.

A profile holds numbers only (how readily it attacks, how much it minds its own losses, when it
falls back); what a side wants to take or keep comes from the scenario's ``ai`` section. Built-in
profiles live in ``game/ai/profiles/NAME.yaml``; a profile file may name a built-in one under
``extends:`` and override some of its values. The settings are defined in
:mod:`game.ai.profile_model`; a loaded profile is a frozen record of them
(:mod:`game.scenario.records`), kept in the compiled cache (:mod:`game.scenario.compiled`) so
a program that loads a profile it has loaded before validates nothing and imports neither YAML
nor pydantic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import safefile
from ..diagnostics import Diagnostic, DiagnosticList, InputError, Pos
from ..scenario import compiled, records

if TYPE_CHECKING:
    from ..scenario.loader import LoadResult
    from .profile_model import Profile

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
BUILTIN_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def distance_scale(profile: Profile, hex_km: float, days_per_turn: int) -> float:
    """The factor by which a profile's distances (in movement points or hexes) grow in a
    scenario of `hex_km` hexes and `days_per_turn`-day turns: a distance counts as the ground
    a column covers in a turn, so it grows as hexes shrink and as turns lengthen (1 at the
    reference scale: 8 km hexes and 2-day turns against 30 km and 7 days give 3.75 x 2/7)."""
    return (profile.reference_hex_km / hex_km) * (days_per_turn / profile.reference_days_per_turn)


def builtin_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def is_builtin_name(name: str) -> bool:
    """Whether `name` names a built-in profile (a bare name, not a file)."""
    return not name.endswith((".yaml", ".yml")) and "/" not in name and os.sep not in name


def resolve_profile(name_or_path: str, *, base: Path | None = None, roots: Sequence[Path] | None = None) -> Path:
    """The file of a profile: a built-in one by name, or a YAML file, relative to `base` (default
    the working folder), that must lie inside one of `roots` (the scenario's folder tree) or the
    built-in profiles' folder. InputError (at the name) otherwise: a profile a scenario or the
    command line names is untrusted and never read from elsewhere (``/etc/passwd``, a path out of
    the folder). ``roots=None`` is for a path the program itself chose (a test's own file): any
    regular file then, still through the safe reader."""
    at = Pos(name_or_path[:200] or "<profile>", 1, 1)
    if is_builtin_name(name_or_path):
        path = PROFILE_DIR / f"{name_or_path}.yaml"
        if not (BUILTIN_NAME.fullmatch(name_or_path) and os.path.isfile(path)):
            shown = name_or_path[:80].encode("utf-8", "backslashreplace").decode("utf-8")
            raise InputError(Diagnostic(at, f"unknown AI profile '{shown}' (expected one of: "
                                        f"{', '.join(builtin_profiles())}, random, simple, or a YAML file)"))
        return path
    allowed = [PROFILE_DIR, *(roots or ())]
    try:
        safefile.check_path_text(name_or_path)
        given = Path(name_or_path)
        path = given if given.is_absolute() else (base if base is not None else Path.cwd()) / given
        resolved = safefile.resolve(path)
        allowed = [safefile.resolve(Path(r)) for r in allowed]
    except safefile.FileProblem as exc:
        raise InputError(Diagnostic(at, f"AI profile: {exc}")) from None
    if roots is not None and not safefile.inside(resolved, allowed):
        folders = " or ".join(str(r) for r in allowed[1:]) or "the scenario's folder"
        raise InputError(Diagnostic(at, f"AI profile '{name_or_path}' is outside the scenario's folder tree "
                                        f"({folders}) and the built-in profiles' folder; expected a built-in "
                                        "profile name or a profile file inside the scenario's folder"))
    return path


def check_plan_profiles(result: LoadResult) -> None:
    """Add a diagnostic, at the name, for every AI profile a scenario's ``ai`` plans name that is
    not a built-in one or a loadable profile file inside the scenario's folder tree (relative to
    the scenario). `validate` runs it after the scenario's own checks (the scenario package does
    not know the AI's)."""
    from ..scenario.loader import position_of

    plans = result.sections.get("ai") or {}
    folder = result.path.resolve().parent
    root = result.root or folder
    for side, plan in plans.items():
        if not plan.profile:
            continue
        try:
            load_profile(plan.profile, base=folder, roots=[root])
        except InputError as exc:
            first = exc.diagnostics[0] if exc.diagnostics else None
            inner = "" if first is None or first.pos.file == plan.profile[:200] else \
                f" (in {first.pos.file}:{first.pos.line}:{first.pos.col})"
            message = first.message if first is not None else str(exc)
            result.diagnostics.error(position_of(result.raw, ("ai", side, "profile")), f"{message}{inner}",
                                     ("ai", side, "profile"))


def load_profile(name_or_path: str, *, base: Path | None = None, roots: Sequence[Path] | None = None) -> Profile:
    """A built-in profile by name, or a profile YAML file (confined as :func:`resolve_profile`
    says, and so is every profile it ``extends``); InputError with file:line:col. The profile is a
    frozen record; one loaded before, whose files are unchanged, comes from the compiled cache."""
    path = resolve_profile(name_or_path, base=base, roots=roots)
    cached = compiled.load(path, None, kind="profile")
    if cached is not None:
        return cached
    files: list[Path] = []
    profile = records.freeze(_validate(path, (), files, None if roots is None else tuple(roots)))
    compiled.store(path, None, files, profile, kind="profile")
    return profile


def _validate(path: Path, seen: tuple[str, ...], files: list[Path], roots: tuple[Path, ...] | None = None) -> Profile:
    from pydantic import ValidationError

    from ..yamlload import YMap, load_yaml, to_plain
    from .profile_model import Profile

    shown = str(path)
    if str(path.resolve()) in seen:
        raise InputError(Diagnostic(Pos(shown, 1, 1), "profiles extend each other in a cycle"))
    node, diags = load_yaml(path, shown)  # InputError for unreadable files and YAML syntax
    files.append(path)
    if diags.errors:
        raise InputError(diags.errors)
    if not isinstance(node, YMap):
        raise InputError(Diagnostic(Pos(shown, 1, 1), "a profile is a mapping of settings (name: value)"))
    data = to_plain(node)
    base: dict = {}
    if data.get("extends"):
        try:
            parent = resolve_profile(str(data["extends"]), base=path.parent, roots=roots)
        except InputError as exc:
            raise InputError(Diagnostic(node.val_pos.get("extends", node.pos),
                                        exc.diagnostics[0].message)) from None
        base = _validate(parent, seen + (str(path.resolve()),), files, roots).model_dump()
    merged = {**base, **data, "name": data.get("name", path.stem)}
    try:
        return Profile.model_validate(merged)
    except ValidationError as exc:
        out = DiagnosticList()
        for err in exc.errors():
            key = err["loc"][0] if err["loc"] else None
            pos = node.val_pos.get(key, node.key_pos.get(key, node.pos)) if key in data else node.pos
            hint = f"; expected one of: {', '.join(Profile.model_fields)}" if err["type"] == "extra_forbidden" else ""
            out.error(pos, f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}{hint}")
        raise InputError(out.items) from None
