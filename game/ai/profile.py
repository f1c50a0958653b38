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

from pathlib import Path
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic, DiagnosticList, InputError, Pos
from ..scenario import compiled, records

if TYPE_CHECKING:
    from .profile_model import Profile

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"


def distance_scale(profile: Profile, hex_km: float, days_per_turn: int) -> float:
    """The factor by which a profile's distances (in movement points or hexes) grow in a
    scenario of `hex_km` hexes and `days_per_turn`-day turns: a distance counts as the ground
    a column covers in a turn, so it grows as hexes shrink and as turns lengthen (1 at the
    reference scale: 8 km hexes and 2-day turns against 30 km and 7 days give 3.75 x 2/7)."""
    return (profile.reference_hex_km / hex_km) * (days_per_turn / profile.reference_days_per_turn)


def builtin_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def _resolve(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if not (name_or_path.endswith((".yaml", ".yml")) or path.is_file()):
        path = PROFILE_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise InputError(Diagnostic(Pos(name_or_path, 1, 1), f"unknown AI profile '{name_or_path}' (expected one "
                                        f"of: {', '.join(builtin_profiles())}, random, simple, or a YAML file)"))
    return path


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile YAML file; InputError with file:line:col. The
    profile is a frozen record; one loaded before, whose files are unchanged, comes from the
    compiled cache."""
    path = _resolve(name_or_path)
    cached = compiled.load(path, None, kind="profile")
    if cached is not None:
        return cached
    files: list[Path] = []
    profile = records.freeze(_validate(path, (), files))
    compiled.store(path, None, files, profile, kind="profile")
    return profile


def _validate(path: Path, seen: tuple[str, ...], files: list[Path]) -> Profile:
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
        parent = _resolve(str(data["extends"]))
        base = _validate(parent, seen + (str(path.resolve()),), files).model_dump()
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
