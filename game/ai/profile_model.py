"""The AI profile format: the one definition of a profile's settings, their defaults and their
bounds, which :func:`game.ai.profile.load_profile` validates a profile file against. Imported
only to validate (it imports pydantic); a game reads its profiles as records."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from .portfolio import scaled_settings


class Profile(BaseModel):
    """The tunable behaviour of the operational AI (both roles read the same profile)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    description: str = ""
    extends: str | None = None
    # attacking
    min_odds: float = Field(1.5, gt=0, description="least odds for a deliberate attack, after the "
                              "combat table's shifts (terrain, fortification, supply, air...)")
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
    strike_within: float = Field(0.0, ge=0, description="both roles: an enemy stack astride the own side's corridor "
                                 "route behind its front (offensive), or out of its own supply (both), is struck "
                                 "by a force massed from the units with nothing else to do this close (movement "
                                 "points; 0: never), and only when they add up to `strike_margin` times the odds "
                                 "the role attacks at")
    relieve_within: float = Field(0.0, ge=0, description="both roles: an enemy stack whose removal would put "
                                  "own units cut off from supply back in supply is struck by a force massed "
                                  "from the units this close that are free to leave (the cut-off units and the "
                                  "columns of an axis included), as a strike group (movement points; 0: never); "
                                  "an attack that clears it is worth the men it relieves")
    relieve_candidates: int = Field(6, ge=0, le=64, description="relief: the enemy stacks nearest the most "
                                    "cut-off own men that are tried (a supply trace each, once a phase)")
    strike_margin: float = Field(1.5, ge=1, description="strike groups: the attack strength massed, as a multiple "
                                 "of the defence times the least odds (terrain and fortification shifts come on "
                                 "top of the raw odds)")
    # defending
    retreat_odds: float = Field(3.0, gt=0, description="defensive: a unit falls back when the enemy could attack it "
                                "at these odds")
    counter_odds: float = Field(2.0, gt=0, description="defensive: counter-attack at these odds or better (after "
                                "the shifts, as min_odds)")
    raid_within: float = Field(0.0, ge=0, description="defensive: units with nothing to hold or reinforce go to "
                               "retake a lost place of the plan, or to stand astride the enemy's corridor route, "
                               "this close (movement points; 0: never)")
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
    # looking ahead (the search player, game/ai/search.py: `--player search`, or `search: true`)
    search: bool = Field(False, description="look ahead: before each phase, play each plan of the portfolio "
                         "out on copies of the game (this phase and the enemy's reply) and follow the best")
    search_rollouts: int = Field(10, ge=1, le=10_000, description="search: simulations per phase at most (a "
                                 "game is then the same on every machine)")
    search_seconds: float = Field(0.0, ge=0, le=3600, description="search: stop simulating after this many "
                                  "seconds in a phase (0: no time limit; a limit makes the play depend on the "
                                  "machine's speed)")
    search_replies: int = Field(1, ge=0, le=8, description="search: enemy phases played after the own phase "
                                "in each simulation")
    search_portfolio: list[dict[str, float]] = Field([], max_length=32, description=(
        "search: the plans compared besides the profile itself; each scales some numeric settings of the "
        "profile by a factor (min_odds: 0.75 attacks at three quarters of the profile's odds)"))
    search_force_weight: float = Field(10.0, ge=0, description="search: points of evaluation per unit of the "
                                       "log ratio of own to enemy strength on the map")
    search_supply_weight: float = Field(5.0, ge=0, description="search: points of evaluation for having every "
                                        "own unit in supply (in proportion to the share supplied)")
    search_result_points: float = Field(100.0, ge=0, description="search: points of evaluation for a game "
                                        "won in the simulation (taken away for one lost)")

    @field_validator("search_portfolio")
    @classmethod
    def _portfolio_in_bounds(cls, plans: list[dict[str, float]], info: ValidationInfo) -> list[dict[str, float]]:
        """Every plan of the portfolio scales numeric settings only, by a positive factor, and
        stays within each setting's bounds (checked on the whole plan, as it will be played)."""
        fields = cls.model_fields
        numeric = sorted(n for n, f in fields.items() if f.annotation in (int, float) and not n.startswith("search"))
        for k, scales in enumerate(plans):
            for key, factor in scales.items():
                if key not in numeric:
                    raise ValueError(f"plan {k + 1}: '{key}' is not a numeric setting a plan can scale "
                                     f"(expected one of: {', '.join(numeric)})")
                if not (0 < factor <= 100):
                    raise ValueError(f"plan {k + 1}: the factor of {key} must be above 0 and at most 100, "
                                     f"got {factor:g}")
                if key not in info.data:
                    raise ValueError(f"plan {k + 1}: {key} is not valid in this profile, so it cannot be scaled")
            try:
                cls.model_validate({**info.data, **scaled_settings(info.data, scales)})
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"])
                raise ValueError(f"plan {k + 1} scales {where} out of its bounds: {first['msg']}") from None
        return plans
