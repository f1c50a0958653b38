"""AI profiles: the personality of a computer player, in YAML.

A profile holds numbers only (how readily it attacks, how much it minds its own losses, when it
falls back); what a side wants to take or keep comes from the scenario's ``ai`` section. Built-in
profiles live in ``game/ai/profiles/NAME.yaml``; a profile file may name a built-in one under
``extends:`` and override some of its values.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..diagnostics import Diagnostic, DiagnosticList, InputError, Pos
from ..yamlload import YMap, load_yaml, to_plain

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"


class Profile(BaseModel):
    """The tunable behaviour of the operational AI (both roles read the same profile)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    description: str = ""
    extends: str | None = None
    # attacking
    min_odds: float = Field(1.5, gt=0, description="least raw odds for a deliberate attack")
    aggression: float = Field(0.5, ge=0, le=1,
                              description="0: attack only sure things; 1: attack whenever it might pay")
    caution: float = Field(1.0, ge=0, description="weight of own expected losses against the enemy's")
    objective_value: float = Field(30.0, ge=0, description="value (in thousands of men) of taking an objective")
    # moving
    regroup_turns: int = Field(2, ge=0, description="offensive: a unit this many turns out of supply stops advancing")
    forward_supply_within: float = Field(0.0, ge=0, description="offensive: a unit out of supply presses on "
                                         "instead of regrouping when its axis objective is an enemy supply depot "
                                         "this close (movement points; 0: always regroup)")
    supply_weight: float = Field(6.0, ge=0, description="cost (in hexes) of ending a move out of own supply")
    danger_weight: float = Field(2.0, ge=0, description="cost (in hexes) per unit of enemy odds against the hex")
    garrison: int = Field(1, ge=0, le=6, description="units kept in each place the side must hold")
    retake_within: float = Field(8.0, ge=0, description="offensive: units with no axis task go back for a "
                                                        "lost place of the plan this close (movement points; "
                                                        "this and every distance below is scaled by hex size "
                                                        "and turn length, see reference_hex_km)")
    corridor_within: float = Field(0.0, ge=0, description="offensive, when the side must open a corridor: units "
                                   "with no axis task go to the nearest unheld hex of the corridor's route this "
                                   "close (movement points; 0: never)")
    secure_within: float = Field(0.0, ge=0, description="offensive, when the side must open a corridor: each "
                                 "held hex of the corridor's route that an enemy zone of control cuts gets the "
                                 "nearest unit this close as a guard (movement points; 0: never)")
    detour_within: float = Field(0.0, ge=0, description="offensive: a unit of an axis detours to an unheld hex of "
                                 "the corridor's route, clear of the enemy, this close (movement points)")
    max_guards: int = Field(12, ge=0, description="offensive: at most this many route hexes guarded at once")
    # defending
    retreat_odds: float = Field(3.0, gt=0, description="defensive: a unit falls back when the enemy could attack it "
                                "at these odds")
    counter_odds: float = Field(2.0, gt=0, description="defensive: counter-attack at these raw odds or better")
    hold_to_the_last: bool = Field(True, description="garrisons of the plan's places to hold never fall back "
                                   "(both roles)")
    evacuate_odds: float = Field(1.5, gt=0, description=(
        "evacuate an own air base (where the rules allow) at the end of the phase when the enemy within two hexes "
        "could attack what stands on it at these odds or better (an empty base: any enemy there; the offensive "
        "role: only with an enemy unit next to the base)"))
    priorities: dict[str, float] = Field({}, description="place id -> extra weight for taking or holding it")
    # how the AI reads the map (the same numbers for both roles)
    pressure_radius: int = Field(2, ge=1, le=6, description="hexes (at the reference scale) within which enemy "
                                 "attack strength counts as pressure on a hex: what could hit it next")
    rail_discount: float = Field(0.75, gt=0, le=1, description="the cost fields price a railway hexside at this "
                                 "share of its terrain cost: the rail is the axis of advance and of supply")
    route_enemy_cost: float = Field(50.0, ge=1, description="corridor route: the price of a hex the enemy "
                                    "occupies, against 1 for a hex not held (the route goes round the enemy "
                                    "where it can)")
    min_move_gain: float = Field(0.25, ge=0, description="hysteresis: a unit with no order to go moves only when "
                                 "the move improves its score by this much (hexes at the reference scale)")
    weak_target_odds: float = Field(0.75, gt=0, le=1, description="the least odds are this share of the usual "
                                    "against defenders who are all out of supply")
    place_value: float = Field(0.4, ge=0, le=1, description="worth of taking a place that is neither a goal of "
                               "the plan nor one to hold, as a share of an objective's")
    ground_value: float = Field(0.1, ge=0, le=1, description="offensive: worth of clearing a hex with no place, "
                                "as a share of an objective's")
    # the scale the distances above are written for
    reference_hex_km: float = Field(30.0, gt=0, description="the hex size the profile's distances are written "
                                    "for (km)")
    reference_days_per_turn: int = Field(7, ge=1, description="the turn length the profile's distances are "
                                         "written for (days)")

    def distance_scale(self, hex_km: float, days_per_turn: int) -> float:
        """The factor by which this profile's distances (in movement points or hexes) grow in a
        scenario of `hex_km` hexes and `days_per_turn`-day turns: a distance counts as the ground
        a column covers in a turn, so it grows as hexes shrink and as turns lengthen (1 at the
        reference scale: 8 km hexes and 2-day turns against 30 km and 7 days give 3.75 x 2/7)."""
        return (self.reference_hex_km / hex_km) * (days_per_turn / self.reference_days_per_turn)


def builtin_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


def load_profile(name_or_path: str, _seen: tuple[str, ...] = ()) -> Profile:
    """A built-in profile by name, or a profile YAML file; InputError with file:line:col."""
    path = Path(name_or_path)
    if not (name_or_path.endswith((".yaml", ".yml")) or path.is_file()):
        path = PROFILE_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise InputError(Diagnostic(Pos(name_or_path, 1, 1), f"unknown AI profile '{name_or_path}' (expected one "
                                        f"of: {', '.join(builtin_profiles())}, random, simple, or a YAML file)"))
    shown = str(path)
    if str(path.resolve()) in _seen:
        raise InputError(Diagnostic(Pos(shown, 1, 1), "profiles extend each other in a cycle"))
    node, diags = load_yaml(path, shown)  # InputError for unreadable files and YAML syntax
    if diags.errors:
        raise InputError(diags.errors)
    if not isinstance(node, YMap):
        raise InputError(Diagnostic(Pos(shown, 1, 1), "a profile is a mapping of settings (name: value)"))
    data = to_plain(node)
    base: dict = {}
    if data.get("extends"):
        base = load_profile(str(data["extends"]), _seen + (str(path.resolve()),)).model_dump()
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
