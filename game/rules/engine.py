"""The rules engine: legal actions, applying them, and the turn sequence.

This module is the rules' one front door: :func:`legal_actions` (and :class:`LegalActions`) serves
the interface, the AI and the tests; :func:`apply` checks an action (raising
:class:`IllegalAction` with a reason a player can read) and carries it out; :class:`Game` holds a
context and a state together. Everything random draws from the state's one generator, in a fixed
order. The rules themselves live by phase:

* :mod:`.setup`: the state at the start (:func:`new_game`);
* :mod:`.legality`: legal actions, the rule predicates players need, why an action is illegal,
  the combat preview;
* :mod:`.resolution`: carrying out moves, rail moves and attacks;
* :mod:`.turn`: the turn sequence (:mod:`game.rules.turn` says what a turn is), supply,
  attrition and recovery, rail repair;
* :mod:`.events`: events, reinforcements and withdrawals;
* :mod:`.victory`: the corridor, the score and the end;
* :mod:`.ledger` and :mod:`.tracing`: the log and the losses, and the supply trace of a state.
"""

from __future__ import annotations

from .actions import Action, Attack, EndPhase, Entrench, Evacuate, Move, RailMove
from .context import Context
from .doctrine import forbidden, may_attack, stacks_that_may_attack
from .events import check_events
from .ledger import log
from .legality import (
    IllegalAction,
    LegalActions,
    active_side,
    attack_options,
    attackers,
    can_entrench,
    check,
    eligible_attacker,
    evacuable,
    legal_actions,
    preview,
    puppets_only,
)
from .movement import moved_board
from .resolution import do_attack, do_move, do_rail, plan_move
from .setup import new_game
from .state import DICE, Dice, GameState, LogEntry
from .tracing import supply_inputs, supply_sources, trace
from .turn import end_phase
from .victory import CorridorRoute, Score, corridor_held, corridor_open, corridor_route, corridor_steps, score


class Game:
    """A scenario context and a state together, with the engine's functions as methods."""

    def __init__(self, ctx: Context, state: GameState):
        self.ctx = ctx
        self.state = state

    @classmethod
    def new(cls, ctx: Context, seed: int, dice: Dice = "keyed") -> Game:
        return cls(ctx, new_game(ctx, seed, dice))

    def legal_actions(self) -> LegalActions:
        """The legal actions now, as a lazily built sequence (see :class:`LegalActions`)."""
        return LegalActions(self.ctx, self.state)

    def apply(self, action: Action) -> list[LogEntry]:
        return apply(self.ctx, self.state, action)

    def clone(self) -> Game:
        return Game(self.ctx, self.state.clone())

    @property
    def over(self) -> bool:
        return self.state.phase == "over"

    def side_to_move(self) -> str:
        """The id of the side whose phase it is (:func:`active_side` gives its index)."""
        return self.ctx.sides[active_side(self.ctx, self.state)]


def apply(ctx: Context, state: GameState, action: Action) -> list[LogEntry]:
    """Check and carry out an action; returns the log entries it produced."""
    planned = plan_move(ctx, state, action) if isinstance(action, Move) else None
    if planned is None:
        reason = check(ctx, state, action)
        if reason is not None:
            raise IllegalAction(f"illegal action '{action}': {reason}")
    before = len(state.log)
    derive = _board_before(ctx, state, action)
    state.actions_taken += 1
    if isinstance(action, Move):
        assert planned is not None
        do_move(ctx, state, action, *planned)
    elif isinstance(action, RailMove):
        do_rail(ctx, state, action)
    elif isinstance(action, Entrench):
        u = state.units[action.unit]
        u.entrenched += 1
        u.mp, u.moved, u.attacked = 0.0, True, True
    elif isinstance(action, Attack):
        do_attack(ctx, state, action)
    elif isinstance(action, Evacuate):
        state.air_active[action.air_base] = False
        where = ctx.hex_name(ctx.air_bases[action.air_base].hex)
        log(ctx, state, "air", f"the air base at {where} is evacuated, its runways and stocks demolished")
    elif isinstance(action, EndPhase):
        end_phase(ctx, state)
    if state.phase == "operations" and not isinstance(action, EndPhase):
        check_events(ctx, state)
    # the state has changed: the next board is derived from the last one when only a unit's move
    # changed it, else built afresh on first use
    state.board_cache = None
    if derive is not None and state.phase == "operations" and state.fired == derive[4]:
        board = moved_board(ctx, state, *derive[:4])
        if board is not None:
            state.board_cache = (ctx, state.actions_taken, board)
    return state.log[before:]


def _board_before(ctx: Context, state: GameState, action: Action):
    """For a move or a rail move on a state whose board is built: what :func:`moved_board` needs
    to derive the next board (the board, the unit, its hex, the control of the hexes) and the
    events fired so far (an event that fires may change anything, and then the board is rebuilt)."""
    if not isinstance(action, (Move, RailMove)):
        return None
    found = state.board_cache
    unit = state.units.get(action.unit)
    if found is None or found[0] is not ctx or found[1] != state.actions_taken or unit is None:
        return None
    return found[2], unit, unit.hex, state.control.copy(), dict(state.fired)


__all__ = ["DICE", "Dice", "Game",
           "apply", "new_game", "legal_actions", "LegalActions", "check", "preview", "IllegalAction",
           "active_side", "can_entrench", "eligible_attacker", "puppets_only", "attack_options", "attackers",
           "forbidden", "may_attack", "stacks_that_may_attack",
           "evacuable", "supply_inputs", "supply_sources", "trace", "corridor_steps", "corridor_held", "corridor_open",
           "corridor_route", "CorridorRoute", "score", "Score"]
