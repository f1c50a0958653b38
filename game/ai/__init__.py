"""Computer players: the random player, the simple greedy player and the operational AI with
YAML profiles. Every player follows :class:`game.rules.players.Player`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..diagnostics import InputError
from ..rules.context import Context
from ..rules.players import PLAYERS, Player
from .operational import OperationalAI
from .profile import load_profile
from .search import SearchAI
from .tricky import TrickyPlayer

BUILTIN = ("random", "simple")
SEARCH = "search"
TRICKY = "tricky"


class ProfileError(ValueError):
    """An unknown profile name or a bad profile file; the message says what is wrong."""


def player_seed(game_seed: int, side_index: int) -> int:
    """The seed of a side's player generator, derived from the game's seed (never the game's own
    generator), so a game is replayed from its seed alone."""
    return game_seed * 1000 + side_index + 1


def parse_search(spec: str) -> tuple[str, int | None, float | None] | None:
    """``search[:BASE][@BUDGET]`` -> (base profile, rollouts, seconds); None for any other player.
    BASE is a profile (default: 'default', the scenario's profile for the side); BUDGET is a
    number of simulations per phase (``@20``) or seconds per phase (``@1.5s``). ProfileError
    for a bad budget."""
    head, _, budget = spec.partition("@")
    name, colon, base = head.partition(":")
    if name != SEARCH or (colon and not base):
        return None
    rollouts: int | None = None
    seconds: float | None = None
    if budget:
        try:
            if budget.endswith("s"):
                seconds = float(budget[:-1])
                ok = 0 < seconds <= 3600
            else:
                rollouts = int(budget)
                ok = 1 <= rollouts <= 10_000
        except ValueError:
            ok = False
        if not ok:
            raise ProfileError(f"bad search budget '@{budget}' in '{spec}' (expected a number of simulations per "
                               "phase from 1 to 10000, as @20, or seconds per phase up to 3600, as @1.5s)")
    return base or "default", rollouts, seconds


def scenario_folder(ctx: Context) -> Path:
    """The folder tree a scenario's files (and the AI profiles it or the command line names) must
    lie in: the folder of its file (the working folder for a scenario built in memory)."""
    return Path(ctx.path).resolve().parent if ctx.path else Path.cwd()


def make_player(ctx: Context, side: str, profile: str, seed: int, *, search_seconds: float | None = None,
                trusted: Sequence[Path] = ()) -> Player:
    """A player for `side`: 'random', 'simple', an AI profile (a built-in name or a YAML file),
    the search player, ``search[:BASE][@BUDGET]`` (:func:`parse_search`), or the scripted tricky
    human ``tricky[:BASE]`` (:mod:`game.ai.tricky`). 'default' means the
    profile the scenario's ``ai`` plan names for the side (its historical play), else the built-in
    default. A profile with ``search: true`` plays as the search player. `search_seconds` caps a
    search player's time per phase (the window's one-second budget). A profile file must lie in
    the scenario's folder tree, the shipped profile folder or one of the `trusted` folders (the
    window's folder of the player's own profiles)."""
    if profile in PLAYERS:
        return PLAYERS[profile](seed=seed)
    head, colon, base = profile.partition(":")
    if head == TRICKY:
        if colon and not base:
            raise ProfileError(f"'{profile}': name the base player after 'tricky:' (e.g. tricky:default)")
        return TrickyPlayer(make_player(ctx, side, base or "default", seed, search_seconds=search_seconds,
                                        trusted=trusted))
    search = parse_search(profile)
    rollouts: int | None = None
    seconds: float | None = None
    if search is not None:
        profile, rollouts, seconds = search
    folder = scenario_folder(ctx)
    relative_to: Path | None = None  # a profile named on the command line: to the working folder
    if profile == "default":
        plan = ctx.scenario.ai.get(side)
        profile = plan.profile if plan is not None and plan.profile else "default"
        relative_to = folder  # the scenario's own: to the scenario
    try:
        loaded = load_profile(profile, base=relative_to, roots=[folder, *trusted])
    except InputError as exc:
        raise ProfileError(str(exc)) from exc
    if search is None and not loaded.search:
        return OperationalAI(loaded, seed=seed)
    if search_seconds is not None:
        own = seconds if seconds is not None else loaded.search_seconds  # 0: no limit of its own
        seconds = min(own, search_seconds) if own > 0 else search_seconds
    return SearchAI(loaded, seed=seed, seconds=seconds, rollouts=rollouts)


def make_players(ctx: Context, profiles: dict[str, str], game_seed: int) -> dict[str, Player]:
    """One player per side (a side missing from `profiles` gets 'default')."""
    return {side: make_player(ctx, side, profiles.get(side, "default"), player_seed(game_seed, k))
            for k, side in enumerate(ctx.sides)}
