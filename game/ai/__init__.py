"""Computer players: the random player, the simple greedy player and the operational AI with
YAML profiles. Every player follows :class:`game.rules.players.Player`."""

from __future__ import annotations

from ..diagnostics import InputError
from ..rules.context import Context
from ..rules.players import PLAYERS, Player
from .operational import OperationalAI
from .profile import load_profile

BUILTIN = ("random", "simple")


class ProfileError(ValueError):
    """An unknown profile name or a bad profile file; the message says what is wrong."""


def player_seed(game_seed: int, side_index: int) -> int:
    """The seed of a side's player generator, derived from the game's seed (never the game's own
    generator), so a game is replayed from its seed alone."""
    return game_seed * 1000 + side_index + 1


def make_player(ctx: Context, side: str, profile: str, seed: int) -> Player:
    """A player for `side`: 'random', 'simple', or an AI profile (a built-in name or a YAML file).
    'default' means the profile the scenario's ``ai`` plan names for the side (its historical
    play), else the built-in default."""
    if profile in PLAYERS:
        return PLAYERS[profile](seed=seed)
    if profile == "default":
        plan = ctx.scenario.ai.get(side)
        profile = plan.profile if plan is not None and plan.profile else "default"
    try:
        loaded = load_profile(profile)
    except InputError as exc:
        raise ProfileError(str(exc)) from exc
    return OperationalAI(loaded, seed=seed)


def make_players(ctx: Context, profiles: dict[str, str], game_seed: int) -> dict[str, Player]:
    """One player per side (a side missing from `profiles` gets 'default')."""
    return {side: make_player(ctx, side, profiles.get(side, "default"), player_seed(game_seed, k))
            for k, side in enumerate(ctx.sides)}
