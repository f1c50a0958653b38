"""The scenario format: typed models of every part of a scenario file.

These pydantic models are the single definition of the format's structure: the loader validates
parsed YAML against them (types, required keys, ranges, unknown keys), and ``main.py schema``
exports them as JSON Schema for editor autocompletion. Cross-references (ids pointing at other
parts) and geography are checked afterwards by :mod:`game.scenario.semantic`.

The format is documented for designers in ``scenarios/FORMAT.md``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .. import hexmap
from .parts import CombatTableMethods, MetaMethods, ScenarioMethods

FORMAT_VERSION: Literal[1] = 1

#: Days a scenario's campaign must end before the calendar does (the rules add at most a turn or
#: two to a date; this keeps every such sum far from an overflow).
LATEST_DATE_MARGIN_DAYS = 366
#: The most units a scenario may have at start, or in one reinforcement (see hexmap.MAX_HEXES).
MAX_UNITS = 5_000

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=64,
                          description="an id: lower-case letters, digits and '_', starting with a letter")]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="a colour as '#rrggbb'")]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]



def _latlon(value: Any) -> tuple[float, float]:
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        lat, lon = float(value[0]), float(value[1])
        if not -90.0 <= lat <= 90.0:
            swapped = " (written [longitude, latitude]? a coordinate is [latitude, longitude])" \
                if -90.0 <= lon <= 90.0 else ""
            raise ValueError(f"latitude {lat} is outside -90..90{swapped}")
        if not -180.0 <= lon <= 180.0:
            raise ValueError(f"longitude {lon} is outside -180..180")
        return (lat, lon)
    raise ValueError(f"expected a coordinate [latitude, longitude], got {value!r}")


def _point(value: Any) -> str | tuple[float, float]:
    if isinstance(value, str):
        if not re.match(ID_PATTERN, value):
            raise ValueError(f"'{value}' is not a valid place id (lower-case letters, digits and '_')")
        return value
    if isinstance(value, (list, tuple)):
        return _latlon(value)
    raise ValueError(f"expected a place id or a coordinate [latitude, longitude], got {value!r}")


def _offset(value: Any) -> tuple[int, int]:
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        return (int(value[0]), int(value[1]))
    raise ValueError(f"expected a hex as [column, row] (two whole numbers), got {value!r}")


_LATLON_SCHEMA = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
                  "description": "[latitude, longitude] in decimal degrees"}
def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


_AS_PLAIN = PlainSerializer(_plain)
LatLon = Annotated[tuple[float, float], PlainValidator(_latlon), _AS_PLAIN, WithJsonSchema(_LATLON_SCHEMA)]
Point = Annotated[str | tuple[float, float], PlainValidator(_point), _AS_PLAIN, WithJsonSchema(
    {"anyOf": [{"type": "string", "pattern": ID_PATTERN, "description": "a place id"}, _LATLON_SCHEMA]})]
OffsetHex = Annotated[tuple[int, int], PlainValidator(_offset), _AS_PLAIN, WithJsonSchema(
    {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2,
     "description": "[column, row] in the map's offset coordinates"})]


class Strict(BaseModel):
    """Base of every part: unknown keys are errors (they are almost always typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False, defer_build=True)

    @classmethod
    def part(cls, name: str) -> Any:
        """The model class of the scenario part called `name`."""
        return globals()[name]


# ---------------------------------------------------------------------------------------------
# meta

class Side(Strict):
    id: Id
    name: str
    colour: Colour
    short: str | None = Field(None, max_length=8, description="abbreviation for counters and tables")


class Meta(Strict, MetaMethods):
    id: Id
    title: str
    description: str = ""
    start_date: dt.date
    days_per_turn: int = Field(7, ge=1, le=92)
    turns: int = Field(ge=1, le=1000)
    sides: list[Side] = Field(min_length=2)
    move_order: list[Id] = Field(min_length=2, description="side ids in the order they move each turn")
    authors: list[str] = []
    sources: list[str] = []

    @model_validator(mode="after")
    def _ends_in_the_calendar(self) -> Meta:
        days = self.days_per_turn * self.turns
        if (dt.date.max - self.start_date).days < days + LATEST_DATE_MARGIN_DAYS:
            raise ValueError(f"a campaign from {self.start_date.isoformat()} of {self.turns} turns of "
                             f"{self.days_per_turn} days would end too close to the calendar's end (year 9999); "
                             "expected a historical start date")
        return self


# ---------------------------------------------------------------------------------------------
# map

class Projection(Strict):
    lat_min: float = Field(ge=-89, le=89)
    lat_max: float = Field(ge=-89, le=89)
    lon_min: float = Field(ge=-180, le=180)
    lon_max: float = Field(ge=-180, le=180)
    hex_km: float = Field(ge=1, le=500, description="distance between the centres of adjacent hexes")
    orientation: Literal["pointy", "flat"] = "pointy"

    @model_validator(mode="after")
    def _ordered(self) -> Projection:
        if self.lat_min >= self.lat_max:
            raise ValueError(f"lat_min ({self.lat_min}) must be less than lat_max ({self.lat_max})")
        if self.lon_min >= self.lon_max:
            raise ValueError(f"lon_min ({self.lon_min}) must be less than lon_max ({self.lon_max})")
        cols, rows = hexmap.Projection(lat_min=self.lat_min, lat_max=self.lat_max, lon_min=self.lon_min,
                                       lon_max=self.lon_max, hex_km=self.hex_km,
                                       orientation=self.orientation).shape()
        if cols * rows > hexmap.MAX_HEXES:
            need = self.hex_km * math.sqrt(cols * rows / hexmap.MAX_HEXES)
            raise ValueError(f"the map would be {cols:,} x {rows:,} = {cols * rows:,} hexes, over the limit of "
                             f"{hexmap.MAX_HEXES:,}; use hexes of at least {math.ceil(need)} km, or a smaller box")
        return self


class TerrainRegion(Strict):
    terrain: Id
    name: str | None = None
    polygon: list[LatLon] | None = Field(None, min_length=3)
    hexes: list[OffsetHex] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> TerrainRegion:
        if (self.polygon is None) == (self.hexes is None):
            raise ValueError("give exactly one of 'polygon' or 'hexes'")
        return self


class TerrainRows(Strict):
    """Painted terrain: one character per hex, one string per row, from `origin` [col, row]."""

    legend: dict[str, Id]
    rows: list[str] = Field(min_length=1)
    origin: OffsetHex = (0, 0)

    @field_validator("legend")
    @classmethod
    def _single_chars(cls, legend: dict[str, str]) -> dict[str, str]:
        for key in legend:
            if len(key) != 1:
                raise ValueError(f"legend keys must be single characters, got '{key}'")
        return legend


class Lake(Strict):
    id: Id
    name: str
    polygon: list[LatLon] = Field(min_length=3)
    terrain: Id = "lake"


class Section(Strict):
    """Part of a line between two of its waypoints (place ids or coordinates on the path)."""

    from_: Point = Field(alias="from")
    to: Point
    note: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class River(Strict):
    id: Id
    name: str
    path: list[Point] = Field(min_length=2)
    river_class: Id = Field("minor", alias="class")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Line(Strict):
    """A railway or road: a path through waypoints, with broken sections."""

    id: Id
    name: str
    path: list[Point] = Field(min_length=2)
    broken: list[Section] = []
    source: str | None = None


PlaceKind = Literal["city", "town", "village", "port", "air_base", "pass", "landmark"]


class Place(Strict):
    id: Id
    name: str
    at: LatLon | None = None
    hex: OffsetHex | None = None
    kind: PlaceKind = "town"
    owner: Id | None = Field(None, description="side holding it at the start")
    vp: int = Field(0, ge=0, le=1000, description="the place's importance to players and AIs (the score counts "
                                                  "victory.objectives)")
    supply_source: bool = False
    capital: bool = False
    fortification: int = Field(0, ge=0, le=5)
    note: str | None = None

    @model_validator(mode="after")
    def _one_location(self) -> Place:
        if (self.at is None) == (self.hex is None):
            raise ValueError("give exactly one of 'at' ([lat, lon]) or 'hex' ([column, row])")
        return self


class ControlArea(Strict):
    side: Id
    polygon: list[LatLon] | None = Field(None, min_length=3)
    hexes: list[OffsetHex] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> ControlArea:
        if (self.polygon is None) == (self.hexes is None):
            raise ValueError("give exactly one of 'polygon' or 'hexes'")
        return self


class MapSpec(Strict):
    projection: Projection
    default_terrain: Id
    terrain_rows: TerrainRows | None = None
    terrain_regions: list[TerrainRegion] = []
    lakes: list[Lake] = []
    rivers: list[River] = []
    railways: list[Line] = []
    roads: list[Line] = []
    places: list[Place] = []
    control: list[ControlArea] = Field([], description="initial hex control; later entries win")
    default_control: Id | None = Field(None, description="side holding hexes no control area covers")


# ---------------------------------------------------------------------------------------------
# rules data

MoveCost = Annotated[float, Field(gt=0, le=100)]


class Terrain(Strict):
    id: Id
    name: str
    colour: Colour
    move_cost: dict[Id, MoveCost] = Field({}, description="movement points to enter, per movement class; "
                                                             "a class not listed cannot enter")
    defence_shift: int = Field(0, ge=-6, le=6, description="odds columns shifted for the defender")
    water: bool = False
    supply_cost: float = Field(1.0, gt=0, le=100, description="cost of tracing supply across country")


class RiverClass(Strict):
    id: Id
    name: str
    extra_move_cost: float = Field(ge=0, le=100)
    defence_shift: int = Field(0, ge=-6, le=6)
    supply_cost: float = Field(0, ge=0, le=100)


class LineRules(Strict):
    move_cost: dict[Id, MoveCost] = Field(description="cost per hex along the line, per movement class")


class RailRules(LineRules):
    strategic_hexes: int = Field(0, ge=0, le=500, description="hexes a unit may travel by strategic rail move")
    strategic_hex_cost: float = Field(1.0, gt=0, le=100, description="what each hex of a strategic rail move "
                                      "counts against strategic_hexes (times rules.air.move_cost_factor inside "
                                      "enemy air interdiction)")
    repair_per_turn: Annotated[int, Field(ge=0, le=100)] | dict[Id, Annotated[int, Field(ge=0, le=100)]] = Field(
        0, description="broken rail hexsides a side repairs per turn: one number for every side, or per side id")


class UnitType(Strict):
    id: Id
    name: str
    symbol: Literal["infantry", "armour", "cavalry", "mechanised", "artillery", "engineer",
                    "garrison", "guerrilla", "headquarters", "air", "militia"]
    size: Literal["regiment", "brigade", "division", "corps", "army"] = "division"
    movement_class: Id
    movement_points: float = Field(gt=0, le=100)
    attack: float = Field(ge=0, le=100, description="combat factor per 1,000 men attacking")
    defence: float = Field(ge=0, le=100, description="combat factor per 1,000 men defending")
    zoc: bool = True


class CombatResult(Strict):
    attacker_loss: Fraction = 0.0
    defender_loss: Fraction = 0.0
    defender_retreat: int = Field(0, ge=0, le=10)
    attacker_retreat: int = Field(0, ge=0, le=10)
    rout: bool = False
    description: str = ""


class CombatShifts(Strict):
    out_of_supply_attacker: int = Field(-1, ge=-6, le=6)
    out_of_supply_defender: int = Field(1, ge=-6, le=6)
    fortification_per_level: int = Field(-1, ge=-6, le=6)
    entrenched: int = Field(-1, ge=-6, le=6)
    city: int = Field(-1, ge=-6, le=6)


class CombatTable(Strict, CombatTableMethods):
    odds: list[str] = Field(min_length=1, description="odds columns, lowest first, as 'a:b'")
    die_sides: int = Field(6, ge=2, le=100)
    hold_loss_per_hex: Fraction = Field(0.05, description="a defender in a city or fortified hex may take this "
                                                          "extra loss per hex of retreat instead of retreating")
    rout_loss: Fraction = Field(0.10, description="extra loss of a routed unit")
    min_odds_to_attack: float = Field(0.0, ge=0, description="attacks below these raw odds are not allowed")
    results: dict[Id, CombatResult]
    table: list[list[Id]] = Field(description="one row per die roll, one result id per odds column")
    shifts: CombatShifts = Field(default_factory=CombatShifts)

    @field_validator("odds")
    @classmethod
    def _odds_form(cls, odds: list[str]) -> list[str]:
        values = []
        for text in odds:
            m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*", str(text))
            if not m or float(m.group(2)) == 0:
                raise ValueError(f"odds column '{text}' should look like '3:2'")
            values.append(float(m.group(1)) / float(m.group(2)))
        if values != sorted(values) or len(set(values)) != len(values):
            raise ValueError("odds columns must be in increasing order, lowest odds first")
        return odds


class SupplyStep(Strict):
    turns_out: int = Field(ge=1, le=100, description="applies from this many turns out of supply")
    combat: Fraction = Field(description="combat strength multiplier")
    movement: Fraction = 1.0
    loss_per_turn: Fraction = 0.0
    replacements: bool = False


class SupplyRules(Strict):
    rail_range: float = Field(ge=0, le=1000, description="supply reach along own intact rail, in hexes")
    road_range: float = Field(ge=0, le=1000, description="reach along roads, in hexes")
    cross_country_range: float = Field(ge=0, le=1000, description="reach across country, in terrain cost")
    interdicted_range_factor: Fraction = 0.5
    forage_factor: Fraction = Field(0.5, description="share of the supply ladder's loss per turn a unit out of "
                                    "supply suffers where it can live off the land (no active region's effects "
                                    "say forage: false)")
    ladder: list[SupplyStep] = Field(min_length=1)


class StackingRules(Strict):
    max_units: int = Field(3, ge=1, le=50)


class AirRules(Strict):
    move_cost_factor: float = Field(1.5, ge=1, le=10, description="movement cost multiplier for enemy units "
                                                                  "inside an active air base's range")
    evacuate_within: int | None = Field(None, ge=0, le=50, description=(
        "a side may evacuate (demolish and leave) an own active air base once an enemy unit is within this "
        "many hexes of it; absent: no evacuation"))


class Quality(Strict):
    min: float = Field(0.2, gt=0, le=5)
    max: float = Field(1.5, gt=0, le=5)


Month = Annotated[int, Field(ge=1, le=12, description="a month, 1 (January) to 12 (December)")]
Factor = Annotated[float, Field(ge=0, le=100)]


class Sickness(Strict):
    """Men of one side falling sick: every turn, in every unit of the side on the map (of the
    listed `unit_types`, if any), a share of its men goes to the ledger's `loss_cause` column.
    The share a day is `rate_per_day` times the factor of the month the turn starts in, of the
    terrain of the unit's hex, of being out of supply, and of each kind of active region the hex
    lies in (a factor left out is 1); over a turn of d days it compounds: 1 - (1 - rate)^d. Sick
    men leave the unit; the scenario's replacements bring men back as they do for any loss."""

    side: Id
    unit_types: list[Id] = Field([], description="the unit types it strikes (default: every type of the side)")
    rate_per_day: float = Field(ge=0, le=0.05, description="share of a unit's men falling sick a day, before "
                                "the factors")
    months: dict[Month, Factor] = Field({}, description="factor by month (1-12): the season")
    terrain: dict[Id, Factor] = Field({}, description="factor by terrain id of the unit's hex")
    out_of_supply: Factor = Field(1.0, description="factor while the unit is out of supply")
    region_kinds: dict[Id, Factor] = Field({}, description="factor while the unit stands in an active region of "
                                           "this kind (e.g. a famine)")
    loss_cause: Id = Field("disease", description="the ledger column the sick are booked in: one of loss_causes "
                           "or the rules' own")
    source: str | None = None


class Rules(Strict):
    movement_classes: list[Id] = Field(min_length=1)
    terrain: list[Terrain] = Field(min_length=1)
    river_classes: list[RiverClass] = []
    rail: RailRules | None = None
    road: LineRules | None = None
    unit_types: list[UnitType] = Field(min_length=1)
    combat: CombatTable
    supply: SupplyRules
    stacking: StackingRules = Field(default_factory=StackingRules)
    quality: Quality = Field(default_factory=Quality)
    air: AirRules = Field(default_factory=AirRules)
    zoc_blocks_supply: bool = True
    replacement_rate: Fraction = Field(0.0, description="share of a supplied unit's missing men replaced per turn")
    min_strength: int = Field(500, ge=1, le=100000, description="a unit reduced below this many men disbands")
    entrench_max: int = Field(2, ge=0, le=5)
    disrupted_movement: Fraction = Field(0.5, description="share of its movement points a disrupted (routed) unit "
                                         "keeps for a phase")
    sickness: list[Sickness] = Field([], description="men falling sick, per side (see Sickness); none by default")


# ---------------------------------------------------------------------------------------------
# orders of battle

class Unit(Strict):
    id: Id
    name: str
    side: Id
    type: Id
    strength: int = Field(gt=0, le=2_000_000, description="men")
    quality: float = Field(1.0, gt=0, le=5, description="combat multiplier (1.0 = average)")
    at: Point | None = Field(None, description="place id or [lat, lon]")
    hex: OffsetHex | None = None
    formation: str | None = Field(None, description="higher command, e.g. '12th Army'")
    puppet: bool = False
    note: str | None = None


class Reinforcement(Strict):
    id: Id
    date: dt.date
    at: Point
    fallback: list[Id] = Field([], description="places tried in order when `at` is enemy-held")
    units: list[Unit] = Field(min_length=1, max_length=MAX_UNITS)
    source: str | None = None


class Withdrawal(Strict):
    id: Id
    date: dt.date
    units: list[Id] = Field(min_length=1)
    source: str | None = None


# ---------------------------------------------------------------------------------------------
# regions, air, supply switches, tracks

class SideEffects(Strict):
    attrition_per_turn: Fraction = 0.0
    disarm_on_retreat: Fraction = Field(0.0, description="chance a retreating unit is disarmed")
    disarm_out_of_supply: Fraction = Field(0.0, description="chance per turn an unsupplied unit is disarmed")
    replacement_factor: Fraction = 1.0
    disarm_fraction: Fraction = Field(0.3, description="share of a disarmed unit's men lost")
    combat_factor: float = Field(1.0, gt=0, le=5)
    forage: bool = True


class RegionKind(Strict):
    """A kind of region: a famine, partisan country, an epidemic, a minefield. Its regions' effects
    (attrition, disarmament, combat and replacement factors) are their own; the kind says how they
    look and what they share."""

    id: Id
    name: str = Field(description="its name on the map's region overlay and in the panels, e.g. 'Famine'")
    colour: Colour | None = Field(None, description="hatching on the map and its overlay (default: the palette's)")
    overlay: bool = Field(True, description="shown on the map's region overlay (key 5) while active")
    badge: bool = Field(False, description="counters standing in an active region of this kind whose effects name "
                        "their side carry a badge (the famine's brown corner)")
    defender_shift: int = Field(0, ge=-6, le=6, description="column shift of an attack into an active region of "
                                "this kind whose effects name the defending side (positive: better odds for the "
                                "attacker, e.g. starving defenders)")
    loss_cause: Id | None = Field(None, description="default ledger column of its regions' attrition")
    disarm_text: str = Field("{men} men of {unit} are disarmed", max_length=200,
                             description="the log line when its regions disarm a unit: {men} and {unit} are "
                                         "replaced by the men lost and the unit's name")


class LossCauseSpec(Strict):
    """A ledger column of the scenario's own (e.g. famine, disease, partisans)."""

    id: Id
    name: str


class Region(Strict):
    id: Id
    name: str
    kind: Id = Field(description="one of the scenario's region_kinds (its colour, overlay, combat shift)")
    polygon: list[LatLon] | None = Field(None, min_length=3)
    hexes: list[OffsetHex] | None = None
    active: bool = True
    loss_cause: Id | None = Field(None, description="the ledger column its attrition is booked in: 'attrition' "
                                  "or one of loss_causes (default: its kind's, else 'attrition')")
    effects: dict[Id, SideEffects] = Field(description="per side id")
    source: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Region:
        if (self.polygon is None) == (self.hexes is None):
            raise ValueError("give exactly one of 'polygon' or 'hexes'")
        return self


class AirBase(Strict):
    id: Id
    place: Id
    side: Id
    range_km: float = Field(gt=0, le=5000)
    role: str = ""
    active: bool = True
    air_support_shift: int = Field(1, ge=0, le=6)
    interdiction: bool = True
    source: str | None = None


class SupplySetup(Strict):
    sea_lanes_open: dict[Id, bool] = Field({}, description="per side: may its ports act as supply sources")


class TrackDriver(Strict):
    on: Literal["losses", "capture", "turn"]
    side: Id | None = Field(None, description="losses: the side losing men; capture: the capturing side")
    per_men: int | None = Field(None, gt=0, description="losses: add `add` per this many men lost")
    add: float


class Track(Strict):
    id: Id
    name: str
    initial: float = 0
    min: float = 0
    max: float = 100
    drivers: list[TrackDriver] = []

    @model_validator(mode="after")
    def _bounds(self) -> Track:
        if not self.min <= self.initial <= self.max:
            raise ValueError(f"initial {self.initial} must lie between min {self.min} and max {self.max}")
        return self


# ---------------------------------------------------------------------------------------------
# events

class TriggerCaptured(Strict):
    captured: Id = Field(description="place id")
    by: Id = Field(description="side id")


class TriggerTrack(Strict):
    track: Id
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one(self) -> TriggerTrack:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give 'at_least' or 'at_most'")
        return self


class TriggerEvent(Strict):
    after_event: Id


TRIGGER_KEYS = ("captured", "track", "after_event")


def _trigger_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in TRIGGER_KEYS:
            if key in value:
                return key
    elif isinstance(value, BaseModel):
        return {TriggerCaptured: "captured", TriggerTrack: "track", TriggerEvent: "after_event"}.get(type(value))
    return None


Trigger = Annotated[
    Annotated[TriggerCaptured, Tag("captured")] | Annotated[TriggerTrack, Tag("track")]
    | Annotated[TriggerEvent, Tag("after_event")],
    Discriminator(_trigger_kind, custom_error_type="trigger_kind",
                  custom_error_message="a trigger needs one of the keys 'captured' (with 'by'), "
                                       "'track' (with 'at_least' or 'at_most') or 'after_event'"),
]


class EffectTrack(Strict):
    type: Literal["track"]
    track: Id
    add: float


class EffectRegion(Strict):
    type: Literal["region"]
    region: Id
    active: bool


class EffectSeaLanes(Strict):
    type: Literal["sea_lanes"]
    side: Id
    open: bool


class EffectAirBase(Strict):
    type: Literal["air_base"]
    air_base: Id
    active: bool


class EffectReinforcementsStop(Strict):
    type: Literal["reinforcements_stop"]
    side: Id


class EffectSupply(Strict):
    type: Literal["supply"]
    side: Id
    range_factor: float = Field(1.0, gt=0, le=5)
    replacement_factor: float = Field(1.0, ge=0, le=5)


class EffectReinforce(Strict):
    type: Literal["reinforce"]
    at: Point
    units: list[Unit] = Field(min_length=1, max_length=MAX_UNITS)


class EffectWithdraw(Strict):
    type: Literal["withdraw"]
    units: list[Id] = Field(min_length=1)


class EffectMessage(Strict):
    type: Literal["message"]
    text: str


Effect = Annotated[EffectTrack | EffectRegion | EffectSeaLanes | EffectAirBase | EffectReinforcementsStop
                   | EffectSupply | EffectReinforce | EffectWithdraw | EffectMessage, Field(discriminator="type")]
EFFECT_TYPES = ("track", "region", "sea_lanes", "air_base", "reinforcements_stop", "supply",
                "reinforce", "withdraw", "message")


class Event(Strict):
    id: Id
    name: str
    date: dt.date | None = None
    trigger: Trigger | None = None
    once: bool = True
    text: str = ""
    source: str | None = None
    effects: list[Effect] = []

    @model_validator(mode="after")
    def _when(self) -> Event:
        if self.date is None and self.trigger is None:
            raise ValueError("give a 'date' or a 'trigger' (or both: the trigger is checked from that date)")
        return self


# ---------------------------------------------------------------------------------------------
# victory and history

class Corridor(Strict):
    side: Id
    from_: list[Id] = Field(alias="from", min_length=1, description="place ids at one end (any of them)")
    to: list[Id] = Field(min_length=1, description="place ids at the other end (any of them)")
    along: list[Literal["rail", "road", "any"]] = ["rail", "road"]
    points: int = Field(0, ge=0, le=10000)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Objective(Strict):
    place: Id
    side: Id = Field(description="the side scoring for holding it at the end")
    points: int = Field(ge=0, le=10000)


class SuddenDeath(Strict):
    place: Id
    captured_by: Id
    winner: Id


class VerdictBand(Strict):
    min_score: float | None = Field(None, description="band applies at or above this score; "
                                                       "null on the last band")
    result: Literal["decisive", "marginal", "draw"]
    winner: Id | None = None


class Victory(Strict):
    score_side: Id = Field(description="the side whose score the bands read")
    corridor: Corridor | None = None
    objectives: list[Objective] = []
    air_base_points: int = Field(0, ge=0, le=1000, description="score_side points per enemy air base destroyed")
    intact_air_base_points: int = Field(0, ge=0, le=1000, description=(
        "score_side points, on top of air_base_points, per enemy air base taken while still active (its aircraft "
        "and stocks lost with it), and the same taken off per own base taken so"))
    enemy_losses_per_point: int | None = Field(None, gt=0)
    own_losses_per_point: int | None = Field(None, gt=0)
    track_points: dict[Id, float] = Field({}, description="points per unit of a track at the end")
    sudden_death: list[SuddenDeath] = []
    bands: list[VerdictBand] = Field(min_length=1)


class HistoryMark(Strict):
    """A historical benchmark the balance report sets beside the games' distribution."""

    id: Id
    name: str
    kind: Literal["capture", "event", "corridor", "losses", "ratio", "held"] = Field(
        description="capture: the date `side` takes `place`; event: the date `event` fires; corridor: the date "
                    "it opens; losses: `side`'s losses (of `causes`, default all); ratio: the first benchmark "
                    "in `of` divided by the second; held: `place` is never taken from `side`")
    place: Id | None = None
    side: Id | None = None
    event: Id | None = None
    causes: list[Id] = Field([], description="losses: the ledger causes to count (default: all)")
    of: list[Id] = Field([], description="ratio: two 'losses' benchmark ids, numerator then denominator")
    accept_from: dt.date | float | None = Field(None, description="calibration: the games' median must not fall "
                                                                  "before this (a date or a number)")
    accept_to: dt.date | float | None = Field(None, description="calibration: the games' median must not fall "
                                                                "after this (a date or a number)")
    accept_share: float | None = Field(None, ge=0, le=1, description="calibration: the least share of games in "
                                                                     "which it happens at all (held: is kept)")
    date: dt.date | None = None
    earliest: dt.date | None = None
    latest: dt.date | None = None
    value: float | None = None
    low: float | None = None
    high: float | None = None
    source: str | None = None


class AIAxis(Strict):
    """One line of advance for an offensive AI: its units take the objectives in order."""

    name: str
    formations: list[str] = Field([], description="units of these formations fight on this axis")
    units: list[Id] = Field([], description="units (by id) that fight on this axis")
    objectives: list[Id] = Field(min_length=1, description="places to take, in order")
    start: dt.date | None = Field(None, description="the axis holds its ground before this date")
    end: dt.date | None = Field(None, description="the axis stops advancing after this date")


class AIPlan(Strict):
    """What the computer player of a side knows about the campaign: its role, its axes of
    advance and the places it must keep garrisoned. Personality (aggression, caution) lives in
    the AI profiles, not here."""

    role: Literal["offensive", "defensive"] = "defensive"
    profile: str | None = Field(None, max_length=4096,
                                description="the AI profile this side plays with by default (a built-in "
                                "profile name, or a profile file relative to the scenario and inside its "
                                "folder tree; tuned to play the campaign historically)")
    axes: list[AIAxis] = []
    hold: list[Id] = Field([], description="places to keep garrisoned, most important first")
    static_types: list[Id] = Field([], description="unit types that hold their ground (garrisons, militia)")


# ---------------------------------------------------------------------------------------------
# doctrine: command constraints, rules for every player

class Order(Strict):
    """A standing order: what the units it names may not do while it is in force. It binds every
    player of the side (the AI, the simple and random players, a human in the window): it is a
    rule, checked with the other rules of legality.

    It names its units by `units`, `formations` and `unit_types` (a unit must match every list
    given; none given: every unit of the side), less its `except_units`. It is in force on the
    turns starting on or after `start` and before `end`, once `after_event` has fired and until
    `until_event` has."""

    id: Id
    name: str = Field(max_length=200, description="what the order is, in the words a player reads")
    side: Id
    units: list[Id] = []
    formations: list[str] = []
    unit_types: list[Id] = []
    except_units: list[Id] = Field([], description="units it does not bind, though the lists above name them")
    start: dt.date | None = Field(None, description="in force from the turn starting on or after this date")
    end: dt.date | None = Field(None, description="lifted from the turn starting on or after this date")
    after_event: Id | None = Field(None, description="in force only once this event has fired")
    until_event: Id | None = Field(None, description="lifted once this event has fired")
    stand: bool = Field(False, description="the units may not move (ordinary or rail moves): a reserve held back")
    no_attack: bool = Field(False, description="the units may not attack (an offensive that has not begun)")
    hold: list[Id] = Field([], description="places: a unit standing on one may not leave it (hold to the last); "
                           "a retreat still may")
    keep_out: list[Id] = Field([], description="regions: while one is active the units may not move, rail, attack "
                               "or advance into its hexes (the bounds of the operation)")
    source: str | None = None

    @model_validator(mode="after")
    def _forbids_something(self) -> Order:
        if not (self.stand or self.no_attack or self.hold or self.keep_out):
            raise ValueError("an order forbids something: give stand, no_attack, hold or keep_out")
        return self


class Scenario(Strict, ScenarioMethods):
    format: Literal[1] = FORMAT_VERSION
    meta: Meta
    map: MapSpec
    rules: Rules
    units: list[Unit] = Field([], max_length=MAX_UNITS)
    reinforcements: list[Reinforcement] = Field([], max_length=MAX_UNITS)
    withdrawals: list[Withdrawal] = []
    regions: list[Region] = []
    air_bases: list[AirBase] = []
    supply: SupplySetup = Field(default_factory=SupplySetup)
    tracks: list[Track] = []
    events: list[Event] = []
    victory: Victory
    history: list[HistoryMark] = []
    ai: dict[Id, AIPlan] = Field({}, description="per side: the computer player's plan")
    doctrine: list[Order] = Field([], description="standing orders: command constraints every player of a side "
                                  "obeys (see Order)")
    region_kinds: list[RegionKind] = Field([], description="the kinds of region the scenario uses")
    loss_causes: list[LossCauseSpec] = Field([], description="the ledger's columns in order: the scenario's own "
                                             "causes, and the rules' own (combat, attrition, surrender, disarmed) "
                                             "where it wants them placed or named")


SECTIONS = tuple(Scenario.model_fields)
