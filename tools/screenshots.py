"""Write screenshots of the game's main screens to a folder, as a player would see them.

    python tools/screenshots.py OUTDIR [--size 1280x800] [--seed 1944] [--scenario FILE]

It opens the real window (the dummy video driver unless SDL_VIDEODRIVER says otherwise, e.g.
under Xvfb), drives it with real pygame events (clicks at hex centres, keys) and saves PNGs of:

    01_menu                 the main menu (the menu lists the scenarios of FILE's folder)
    02_load_dialog          the load dialog over the menu
    03_turn_summary         a new game of the scenario (default: scenarios/ichigo_1944.yaml) as the
                            side that moves first, with the turn summary
    04_game_start           the map at the start
    05_unit_selected        a unit selected: its reach, the enemy zones of control, a hovered path
    06_attack_preview       an attack hovered: the odds and the outcome distribution
    07_attack_confirm       the attack clicked: the confirm step
    08_overlay_supply       the own-supply overlay
    09_ai_turn              the computer's turn in progress, a move being animated
    10_help                 the help overlay (F1)
    11_end_screen           the end of a whole game (computer against computer): verdict and charts

The unit, the path and the attack shown are picked from the game's legal actions, so any scenario
will do. When the first side cannot move or attack at the start, those pictures are skipped (and
said so). Saves made meanwhile go to a temporary folder, never the player's.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from game import env_var  # noqa: E402
from game.rules.actions import Attack, Move  # noqa: E402
from game.ui.app import App  # noqa: E402
from game.ui.session import HUMAN, Session  # noqa: E402


class Shooter:
    """Drives an App with real events and saves numbered PNGs."""

    def __init__(self, app: App, out: Path):
        self.app, self.out = app, out
        self.written: list[Path] = []

    def frames(self, n: int = 3) -> None:
        for _ in range(n):
            self.app.step()

    def post(self, kind: int, **fields) -> None:
        pygame.event.post(pygame.event.Event(kind, **fields))

    def move_mouse(self, pos: tuple[int, int]) -> None:
        self.post(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0))
        self.frames(2)

    def click(self, pos: tuple[int, int], mod: int = 0) -> None:
        pos = (int(pos[0]), int(pos[1]))
        self.move_mouse(pos)
        self.post(pygame.MOUSEBUTTONDOWN, pos=pos, button=1, mod=mod)
        self.post(pygame.MOUSEBUTTONUP, pos=pos, button=1, mod=mod)
        self.frames(3)

    def key(self, key: int, mod: int = 0) -> None:
        self.post(pygame.KEYDOWN, key=key, mod=mod, unicode="", scancode=0)
        self.post(pygame.KEYUP, key=key, mod=mod, unicode="", scancode=0)
        self.frames(2)

    def clear_orders(self, screen) -> None:
        """Esc until nothing is selected or pending (one Esc too many would open the pause menu)."""
        for _ in range(4):
            if screen.orders.pending is None and not screen.orders.selected:
                break
            self.key(pygame.K_ESCAPE)
        if getattr(screen, "paused", False):
            self.key(pygame.K_ESCAPE)

    def shot(self, name: str) -> None:
        self.frames(2)
        path = self.out / f"{name}.png"
        pygame.image.save(self.app.surface, str(path))
        self.written.append(path)
        errors = f" (errors so far: {self.app.errors})" if self.app.errors else ""
        print(f"wrote {path}{errors}")


def pick_unit(game) -> tuple[str, int] | None:
    """A unit of the side to move with many moves, and a hex it can reach a few hexes away (so the
    path shows on screen); None when no unit can move."""
    legal = game.legal_actions()
    moves: dict[str, list[Move]] = {}
    for a in legal:
        if isinstance(a, Move):
            moves.setdefault(a.unit, []).append(a)
    if not moves:
        return None
    unit = max(moves, key=lambda u: (len(moves[u]), u))
    u = game.state.units[unit]
    hm = game.ctx.hm
    d = hm.distances_from(u.hex)
    far = max(moves[unit], key=lambda m: (min(int(d[hm.index(*m.to)]), 5), m.to))
    return unit, hm.index(*far.to)


def pick_attack(game) -> Attack | None:
    """An attack from one hex, the best odds first (a readable preview)."""
    from game.rules.engine import preview

    options = [a for a in game.legal_actions() if isinstance(a, Attack) and len(a.from_hexes) == 1]
    if not options:
        return None
    return max(options, key=lambda a: (preview(game.ctx, game.state, a).raw_odds, str(a)))


def run(out: Path, size: tuple[int, int], seed: int, scenario: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    os.environ[env_var("SAVES")] = tempfile.mkdtemp(prefix="screenshots-")
    app = App(size=size, scenario_dir=scenario.parent, menu_defaults={"seed": seed, "scenario": scenario})
    s = Shooter(app, out)
    try:
        s.frames(3)
        s.shot("01_menu")

        # the load dialog lists an autosave and a quick save of a game in progress
        ctx = app.context(scenario)
        first = ctx.scenario.meta.move_order[0]  # the human moves first: no computer phase before the summary
        demo = Session(ctx, seed, {side: HUMAN if side == first else "default" for side in ctx.sides},
                       autosave=False)
        from game.ui.session import saves_dir

        demo.save(saves_dir() / "quicksave.json")
        s.click(app.screen.load_button.rect.center)
        s.shot("02_load_dialog")
        s.key(pygame.K_ESCAPE)

        # a new game as the side that moves first, started from the menu's button
        s.click(app.screen.side_buttons[first].rect.center)
        s.click(app.screen.new_button.rect.center)
        s.frames(4)
        screen = app.screen
        if type(screen).__name__ != "GameScreen":
            raise SystemExit(f"the new game did not open the game screen: {app.last_error}")
        s.shot("03_turn_summary")
        s.key(pygame.K_RETURN)  # the summary goes
        s.move_mouse((screen.map_rect.centerx, screen.map_rect.bottom - 60))
        s.shot("04_game_start")

        # a unit selected, with its reach and a path hovered
        game = app.session.game
        picked = pick_unit(game)
        if picked is not None:
            unit, far = picked
            here = game.state.units[unit].hex
            screen.mapview.center_on(here)
            s.frames(2)
            s.click(screen.screen_pos_of_hex(here))
            s.move_mouse(screen.screen_pos_of_hex(far))
            s.shot("05_unit_selected")
            s.clear_orders(screen)
        else:
            print("no unit can move at the start: 05 skipped")

        # an attack: select the attacking hex, hover the target, click it for the confirm step
        attack = pick_attack(game)
        if attack is not None:
            hm = game.ctx.hm
            source, target = hm.index(*attack.from_hexes[0]), hm.index(*attack.target)
            screen.mapview.center_on(target)
            s.frames(2)
            s.click(screen.screen_pos_of_hex(source))
            s.move_mouse(screen.screen_pos_of_hex(target))
            s.shot("06_attack_preview")
            s.click(screen.screen_pos_of_hex(target))
            s.shot("07_attack_confirm")
            s.clear_orders(screen)
        else:
            print("no attack is possible at the start: 06 and 07 skipped")

        # the own-supply overlay
        s.key(pygame.K_1)
        s.shot("08_overlay_supply")
        s.key(pygame.K_1)

        # end the phase: the computer plays, its moves animated (slowly, for the picture)
        s.move_mouse(screen.panel_rect.center)  # no tooltip over the map
        for _ in range(3):  # speed: normal -> fast -> instant -> slow
            s.key(pygame.K_f)
        s.key(pygame.K_e)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            anim = getattr(screen, "_anim", None)
            if anim is not None and anim.unit is not None and len(anim.path) > 2:
                screen.mapview.center_on(anim.path[len(anim.path) // 2])
                break
            s.frames(1)
        s.frames(10)
        s.shot("09_ai_turn")
        s.key(pygame.K_f)  # back to normal speed
        while not app.session.human_to_move and time.monotonic() < deadline + 60:
            s.key(pygame.K_SPACE)  # skip the rest of the animation
        s.frames(3)
        s.key(pygame.K_RETURN)  # the turn summary goes

        # the help overlay
        s.key(pygame.K_F1)
        s.shot("10_help")
        s.key(pygame.K_F1)

        # a whole game, computer against computer, to its end screen
        end = Session(ctx, seed, {side: "default" for side in ctx.sides}, autosave=False)
        while not end.game.over:
            end.apply(end._ai[end.game.side_to_move()].choose(end.game, end.game.legal_actions()))
        app.end_game(end)
        s.frames(3)
        s.shot("11_end_screen")
    finally:
        app.close()
    if app.errors:
        print(f"errors caught by the window: {app.errors}", file=sys.stderr)
    return s.written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write screenshots of the game's main screens to OUTDIR.")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--size", default="1280x800", help="window size WxH (default 1280x800)")
    parser.add_argument("--seed", type=int, default=1944)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "ichigo_1944.yaml",
                        help="the scenario to play (default: scenarios/ichigo_1944.yaml); the menu lists its folder")
    args = parser.parse_args(argv)
    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size expects WxH, got {args.size!r}")
    written = run(args.outdir, (w, h), args.seed, args.scenario)
    print(f"{len(written)} screenshots in {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
