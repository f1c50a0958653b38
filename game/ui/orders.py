"""The order state machine of the game screen: what is selected, what the map highlights, and
which action a click makes.

It is pure Python (no pygame), so every rule of the interaction is tested headless. Everything it
offers is read from the legal-action API, never re-derived: a hex is highlighted as reachable only
when the unit has a legal ``Move`` (or ``RailMove``) there, an enemy hex is outlined as a target
only when the ``Attack`` from the selected hexes is in ``game.legal_actions()``, and the combat
preview is ``engine.preview`` itself, so what the player is shown is what the rules will do.
Every action goes through ``session.apply`` (which records it and manages undo).

The interaction, in the spirit of Unity of Command II:

* click an own unit (of the side to move, played by a human): it is selected; the hexes it can
  reach are tinted with their cost, its strategic rail destinations marked, the enemy zones of
  control shown. Clicking the selected unit's hex again cycles through its stack;
* shift-click adds the units of another own hex that could attack alongside (the same hex or one
  within two hexes, so both can border one enemy hex); attacks are made by whole stacks, so the
  attacking hexes are the hexes of the selected units next to the target;
* hover a reachable hex: the path and its cost; hover an enemy hex that can be attacked: the
  attack and its full outcome distribution (the preview);
* click a reachable hex: the selected unit moves there. A hex reachable both by an ordinary move
  and by strategic rail is reached by the ordinary move (it keeps the unit's unspent movement
  points and costs no whole phase); ctrl-click takes the train instead. A hex only rail reaches
  is a rail move;
* click an attackable enemy hex: a confirm step (the preview stays up with Attack/Cancel);
  :meth:`Orders.confirm` (Enter, the button, or a second click on the same hex) attacks,
  :meth:`Orders.cancel` (Esc) does not;
* :meth:`Orders.entrench`, :meth:`Orders.end_phase` and :meth:`Orders.undo` for the keys and
  buttons.

A click that is not an order changes nothing in the game: it inspects the hex (the panel shows
its units) and, when a unit was selected, says why it could not go or attack there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Protocol

import numpy as np

from ..rules import engine
from ..rules.actions import Action, Attack, EndPhase, Entrench, Evacuate, Move, RailMove
from ..rules.combat import Assessment
from ..rules.engine import Game, LegalActions
from ..rules.movement import enemy_mask, path_to, rail_reach, reach
from ..rules.state import LogEntry, Unit

#: How far (in hexes) a shift-clicked hex may be from a selected one to join the attack group:
#: two hexes that both border one enemy hex are at most two apart.
GROUP_RADIUS = 2


class SessionLike(Protocol):
    """What the orders need of :class:`game.ui.session.Session`."""

    game: Game

    @property
    def human_to_move(self) -> bool: ...

    def apply(self, action: Action) -> list[LogEntry]: ...

    def can_undo(self) -> bool: ...

    def undo(self) -> bool: ...


@dataclass(frozen=True)
class Highlights:
    """What the map should show for the orders now: the keyword arguments of
    ``MapView.set_orders`` (see :meth:`as_kwargs`), plus the enemy zones of control."""

    selected: tuple[str, ...] = ()
    reach: dict[int, float] = field(default_factory=dict)
    rail: frozenset[int] = frozenset()
    path: tuple[int, ...] = ()
    path_cost: float | None = None
    targets: frozenset[int] = frozenset()
    attack_target: int | None = None
    enemy_zoc: frozenset[int] = frozenset()

    def as_kwargs(self) -> dict:
        return {"selected": self.selected, "reach": self.reach, "rail": self.rail, "path": self.path,
                "path_cost": self.path_cost, "targets": self.targets, "attack_target": self.attack_target}


class Orders:
    """Selection, highlights and clicks for one session (see the module docstring)."""

    def __init__(self, session: SessionLike):
        self.session = session
        self.selected: list[str] = []  # unit ids; selected[0] is the unit whose moves are shown
        self.inspected: int | None = None  # the hex whose units the panel lists
        self.hovered: int | None = None
        self.message = ""  # feedback for the status line: why a click did nothing, what happened
        self.last_entries: list[LogEntry] = []  # log entries of the last applied action
        self.pending: Attack | None = None  # an attack waiting for confirmation
        self.pending_assessment: Assessment | None = None
        # derived from the state and the selection, rebuilt by _rebuild()
        self._key: tuple | None = None
        self._legal: LegalActions | None = None
        self._evacuable: dict[int, str] | None = None  # base hex -> own base evacuable now (built on first need)
        self.reach: dict[int, float] = {}  # legal Move destinations of the primary unit -> cost
        self._through: dict[int, tuple[float, int]] = {}  # reach(through=True), to rebuild paths
        self.rail: dict[int, int] = {}  # legal RailMove destinations -> previous hex on the rail
        self.targets: dict[int, Attack] = {}  # attackable enemy hex -> the legal attack on it
        self.enemy_zoc: frozenset[int] = frozenset()
        self._previews: dict[Attack, Assessment] = {}
        # what the hover shows
        self.path: tuple[int, ...] = ()
        self.path_cost: float | None = None
        self.path_by_rail = False
        self.hover_attack: Attack | None = None
        self.hover_assessment: Assessment | None = None

    # -- the state -----------------------------------------------------------------------------

    @property
    def game(self) -> Game:
        return self.session.game

    @property
    def can_act(self) -> bool:
        """May the player give orders now (a human side to move, the game not over)?"""
        return self.session.human_to_move and not self.game.over

    @property
    def side(self) -> int:
        return engine.active_side(self.game.ctx, self.game.state)

    @property
    def primary(self) -> Unit | None:
        return self.game.state.units.get(self.selected[0]) if self.selected else None

    @property
    def legal(self) -> LegalActions:
        self.sync()
        assert self._legal is not None
        return self._legal

    def _state_key(self) -> tuple:
        g = self.game
        s = g.state
        return (getattr(self.session, "version", None), id(g), id(s), s.actions_taken, len(s.log), s.turn,
                s.active, s.phase)

    def sync(self) -> bool:
        """Rebuild what depends on the state when it changed (an action, an undo, a load, the AI);
        True when it did. Cheap when nothing changed: the screen calls it every frame."""
        key = self._state_key()
        if key == self._key:
            return False
        self._key = key
        self._legal = self.game.legal_actions()
        self._evacuable = None
        self._previews.clear()
        if self.pending is not None and self.pending not in self._legal:
            self.pending, self.pending_assessment = None, None
        self._rebuild()
        return True

    def refresh(self) -> None:
        """Force a rebuild (the game screen calls it after every applied action)."""
        self._key = None
        self.sync()

    def _rebuild(self) -> None:
        """Selection-dependent highlights from the legal actions of the current state."""
        state, ctx = self.game.state, self.game.ctx
        if self.can_act:
            side = self.side
            self.selected = [uid for uid in self.selected if (u := state.units.get(uid)) is not None
                             and u.on_map and u.side == side]
        else:
            self.selected = []
        self.reach, self._through, self.rail, self.targets = {}, {}, {}, {}
        self.enemy_zoc = frozenset()
        if self.selected:
            legal = self._legal
            assert legal is not None
            board = legal.board
            u = self.primary
            assert u is not None
            moves = {ctx.hm.index(*m.to) for m in legal.moves(u.id)}
            found = reach(ctx, state, u, board)
            self.reach = {j: float(cost) for j, (cost, _) in found.items() if j in moves}
            self._through = reach(ctx, state, u, board, through=True) if self.reach else {}
            off = ctx.offsets
            self.rail = {j: prev for j, prev in rail_reach(ctx, state, u, board).items()
                         if RailMove(u.id, off[j]) in legal}
            self.enemy_zoc = frozenset(np.flatnonzero(enemy_mask(board, u.side, "zoc")).tolist())
            self.targets = self._find_targets()
        self._update_hover()

    def _group_hexes(self) -> set[int]:
        """The hexes of the selected units: the candidate attacking hexes."""
        units = self.game.state.units
        return {units[uid].hex for uid in self.selected}

    def _find_targets(self) -> dict[int, Attack]:
        """Every enemy hex next to the group that the group (or the largest part of it that
        may) can legally attack. Only attacks in the legal actions are offered."""
        ctx = self.game.ctx
        legal = self._legal
        assert legal is not None
        group = self._group_hexes()
        enemy = enemy_mask(legal.board, self.side, "occupied")
        off = ctx.offsets
        out: dict[int, Attack] = {}
        near = sorted({int(j) for h in group for j in ctx.neighbours[h] if j >= 0 and enemy[j]})
        for t in near:
            sources = sorted(h for h in group if ctx.hm.direction_between(h, t) >= 0)
            # the largest legal subset: a hex whose units have all attacked drops out
            for size in range(len(sources), 0, -1):
                found = None
                for combo in combinations(sources, size):
                    attack = Attack(off[t], tuple(off[h] for h in combo))
                    if attack in legal:
                        found = attack
                        break
                if found is not None:
                    out[t] = found
                    break
        return out

    def preview(self, attack: Attack) -> Assessment:
        """``engine.preview`` of a legal attack, cached for this state."""
        self.sync()
        found = self._previews.get(attack)
        if found is None:
            found = self._previews[attack] = engine.preview(self.game.ctx, self.game.state, attack)
        return found

    # -- hovering ------------------------------------------------------------------------------

    def hover(self, hex_index: int | None) -> None:
        """The mouse is over `hex_index` (None: off the map)."""
        self.sync()
        if hex_index != self.hovered:
            self.hovered = hex_index
            self._update_hover()

    def _update_hover(self) -> None:
        self.path, self.path_cost, self.path_by_rail = (), None, False
        self.hover_attack, self.hover_assessment = None, None
        j = self.hovered
        u = self.primary
        if j is None or u is None:
            return
        if j in self.reach:
            self.path = tuple(path_to(self._through, u.hex, j))
            self.path_cost = self.reach[j]
        elif j in self.rail:
            path = [j]
            while path[-1] != u.hex:
                path.append(self.rail[path[-1]])
            self.path, self.path_by_rail = tuple(reversed(path)), True
        if j in self.targets:
            self.hover_attack = self.targets[j]
            self.hover_assessment = self.preview(self.hover_attack)

    def highlights(self) -> Highlights:
        """What the map should draw for the orders now."""
        self.sync()
        attack = self.pending or self.hover_attack
        target = self.game.ctx.hm.index(*attack.target) if attack is not None else None
        return Highlights(selected=tuple(self.selected), reach=dict(self.reach), rail=frozenset(self.rail),
                          path=self.path, path_cost=self.path_cost, targets=frozenset(self.targets),
                          attack_target=target, enemy_zoc=self.enemy_zoc)

    @property
    def shown_attack(self) -> tuple[Attack, Assessment, bool] | None:
        """The attack the preview panel shows: (attack, assessment, waiting for confirmation)."""
        if self.pending is not None and self.pending_assessment is not None:
            return self.pending, self.pending_assessment, True
        if self.hover_attack is not None and self.hover_assessment is not None:
            return self.hover_attack, self.hover_assessment, False
        return None

    # -- clicking ------------------------------------------------------------------------------

    def click(self, hex_index: int | None, *, shift: bool = False, ctrl: bool = False) -> Action | None:
        """A left click on a hex (None: off the map). Returns the action applied, if any."""
        self.sync()
        if hex_index is None:
            return None
        j = hex_index
        if self.pending is not None:
            if self.game.ctx.hm.index(*self.pending.target) == j:
                return self.confirm()  # a second click on the target confirms
            self.cancel()
        self.inspected = j
        if not self.can_act:
            self.message = ""
            return None
        state = self.game.state
        own = [u for u in state.units_at(j) if u.side == self.side]
        if self.selected and j in self.targets:
            self.pending = self.targets[j]
            self.pending_assessment = self.preview(self.pending)
            self.message = "Confirm the attack (Enter) or cancel it (Esc)"
            return None
        if self.selected and (j in self.reach or j in self.rail) and not (own and shift):
            u = self.primary
            assert u is not None
            by_rail = j in self.rail and (ctrl or j not in self.reach)
            action: Action = (RailMove if by_rail else Move)(u.id, self.game.ctx.offsets[j])
            return self._apply(action)
        if own:
            self._select_at(j, own, shift)
            return None
        self._explain(j)
        self.deselect()
        return None

    def _select_at(self, j: int, own: list[Unit], shift: bool) -> None:
        ids = [u.id for u in own]
        group = self._group_hexes() if self.selected else set()
        if shift and self.selected:
            if j in group and all(uid in self.selected for uid in ids) and len(group) > 1:
                self.selected = [uid for uid in self.selected if uid not in ids]  # toggles the hex off
            elif j in group or min(int(self.game.ctx.hm.distances_from(j)[h]) for h in group) <= GROUP_RADIUS:
                self.selected += [uid for uid in ids if uid not in self.selected]
            else:
                self.selected = [self._best_unit(own)]
                self.message = "Too far to attack together: a new selection"
        else:
            p = self.primary
            if p is not None and p.hex == j and len(self.selected) == 1 and len(ids) > 1:
                self.selected = [ids[(ids.index(p.id) + 1) % len(ids)]]  # cycle through the stack
            else:
                self.selected = [self._best_unit(own)]
            self.message = ""
        self._rebuild()

    def _best_unit(self, own: list[Unit]) -> str:
        """The unit of a stack to select first: one that can still move, else the first."""
        legal = self.legal
        for u in own:
            if legal.moves(u.id):
                return u.id
        return own[0].id

    def _explain(self, j: int) -> None:
        """Why the selected unit cannot go to or attack hex j (for the status line)."""
        u = self.primary
        if u is None:
            self.message = ""
            return
        ctx, state = self.game.ctx, self.game.state
        enemy = [x for x in state.units_at(j) if x.side != self.side]
        if enemy:
            group = sorted(h for h in self._group_hexes() if ctx.hm.direction_between(h, j) >= 0)
            if not group:
                self.message = f"{ctx.hex_name(j)} is not next to the selected units"
                return
            attack = Attack(ctx.offsets[j], tuple(ctx.offsets[h] for h in group))
            self.message = engine.check(ctx, state, attack) or ""
            return
        self.message = engine.check(ctx, state, Move(u.id, ctx.offsets[j])) or ""

    def select_unit(self, unit_id: str) -> bool:
        """Select one own unit by id (the 'next unit' key); False when it cannot be selected."""
        self.sync()
        u = self.game.state.units.get(unit_id)
        if not self.can_act or u is None or not u.on_map or u.side != self.side:
            return False
        self.cancel()
        self.selected = [unit_id]
        self.inspected = u.hex
        self._rebuild()
        return True

    def next_unit(self) -> str | None:
        """Select the next own unit (after the selected one, in id order) that can still move;
        returns its id, None when none can."""
        self.sync()
        if not self.can_act:
            return None
        legal = self.legal
        ready = sorted(u.id for u in self.game.state.side_units(self.side) if legal.moves(u.id))
        if not ready:
            self.message = "No unit can move any more this phase"
            return None
        current = self.selected[0] if self.selected else ""
        uid = next((x for x in ready if x > current), ready[0])
        self.select_unit(uid)
        return uid

    def deselect(self) -> None:
        if self.selected or self.pending is not None:
            self.selected = []
            self.pending, self.pending_assessment = None, None
            self._rebuild()

    def escape(self) -> bool:
        """Esc: cancel a pending attack, else clear the selection. False when there was nothing
        to cancel (the screen then opens its pause menu)."""
        if self.pending is not None:
            return self.cancel()
        if self.selected:
            self.deselect()
            self.message = ""
            return True
        return False

    # -- orders --------------------------------------------------------------------------------

    def confirm(self) -> Action | None:
        """Carry out the pending attack."""
        self.sync()
        attack = self.pending
        if attack is None:
            return None
        self.pending, self.pending_assessment = None, None
        return self._apply(attack)

    def cancel(self) -> bool:
        if self.pending is None:
            return False
        self.pending, self.pending_assessment = None, None
        self.message = "Attack cancelled"
        return True

    def entrench(self) -> Action | None:
        """The selected unit digs in, when the rules allow it."""
        self.sync()
        u = self.primary
        if u is None or not self.can_act:
            return None
        action = Entrench(u.id)
        if action not in self.legal:
            self.message = engine.check(self.game.ctx, self.game.state, action) or ""
            return None
        return self._apply(action)

    def evacuation(self) -> Evacuate | None:
        """The evacuation of the own air base in the hex the panel shows, when the rules allow it
        now (an enemy unit near the base); None otherwise."""
        if self.inspected is None or not self.can_act or self.pending is not None:
            return None
        legal = self.legal  # syncs: the cache below is per state (the panel asks every frame)
        if self._evacuable is None:
            ctx = self.game.ctx
            self._evacuable = {ctx.air_bases[b].hex: b
                               for b in engine.evacuable(ctx, self.game.state, legal.board, self.side)}
        base_id = self._evacuable.get(self.inspected)
        return Evacuate(base_id) if base_id is not None else None

    def evacuate(self) -> Action | None:
        """Evacuate (demolish and leave) the own air base in the hex the panel shows."""
        self.sync()
        action = self.evacuation()
        if action is None:
            if self.can_act:
                self.message = "No air base of yours in this hex can be evacuated now (only with the enemy near it)"
            return None
        return self._apply(action)

    def end_phase(self) -> Action | None:
        """End the side's operations phase (not while an attack waits for confirmation)."""
        self.sync()
        if not self.can_act or self.pending is not None:
            return None
        self.selected = []
        return self._apply(EndPhase())

    def undo(self) -> bool:
        """Take back the last action when the session allows it (no random result revealed)."""
        self.sync()
        if not self.can_act:
            return False
        if not self.session.can_undo():
            self.message = "Nothing to undo (a combat result or a new phase cannot be taken back)"
            return False
        self.pending, self.pending_assessment = None, None
        done = self.session.undo()
        self.message = "Undone" if done else "Nothing to undo"
        self.refresh()
        return done

    def _apply(self, action: Action) -> Action | None:
        """Apply through the session; an illegal action (which the highlights should have
        prevented) becomes a message, never an exception."""
        if action not in self.legal:
            self.message = engine.check(self.game.ctx, self.game.state, action) or f"'{action}' is not legal now"
            return None
        try:
            self.last_entries = list(self.session.apply(action))
        except ValueError as exc:  # engine.IllegalAction, or the session refusing it
            self.message = str(exc)
            return None
        self.message = self.last_entries[-1].text if self.last_entries else self.describe(action)
        self.refresh()
        return action

    def describe(self, action: Action) -> str:
        """An action in words, for the status line."""
        ctx = self.game.ctx
        if isinstance(action, (Move, RailMove)):
            u = self.game.state.units.get(action.unit)
            name = u.name if u is not None else action.unit
            how = " by rail" if isinstance(action, RailMove) else ""
            return f"{name} moves{how} to {ctx.hex_name(ctx.hm.index(*action.to))}"
        if isinstance(action, Entrench):
            u = self.game.state.units.get(action.unit)
            return f"{u.name if u is not None else action.unit} digs in"
        if isinstance(action, Evacuate):
            return f"The air base at {ctx.hex_name(ctx.air_bases[action.air_base].hex)} is evacuated"
        if isinstance(action, EndPhase):
            return "Phase ended"
        return str(action)

