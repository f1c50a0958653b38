"""The command line: ``python main.py [play|validate|schema|simulate|balance|replay] ...``.

Bad input (a scenario, a save, a command-line mistake) prints ``file:line:col: error: ...`` lines
or a one-line message and exits 1; a subcommand that is not built yet says so and exits 2; an
internal error says it is a bug, saves the traceback to a file and exits 70.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Sequence

from .diagnostics import InputError

EXIT_OK, EXIT_INPUT, EXIT_NOT_BUILT, EXIT_BUG = 0, 1, 2, 70

NOT_BUILT = {
    "play": "the game window (issue 'Play it: the pygame interface')",
    "balance": "AI-vs-AI balance testing (issue 'AI players and headless AI-vs-AI balance testing')",
}


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that reports mistakes with exit code 1 instead of 2 (2 means 'not built yet')."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def build_parser() -> Parser:
    parser = Parser(prog="main.py", description="Ichi-Go 1944: an operational hex wargame engine. "
                                                "With no subcommand, starts the game ('play').")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("play", help="open the game window (the default)",
                       description="Open the game window on the main menu.")
    p.add_argument("scenario", nargs="?", help="scenario file to start with")

    p = sub.add_parser("validate", help="check scenario files; every problem with its line",
                       description="Validate scenario files. Exit 0 with a summary line per file when all are "
                                   "valid; otherwise exit 1 with one 'FILE:LINE:COL: error: ...' line per problem.")
    p.add_argument("files", nargs="+", metavar="FILE", help="scenario YAML files (globs are expanded)")
    p.add_argument("--root", help="folder that 'extends' may not leave (default: each file's own folder)")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only, no summary lines")
    p.add_argument("--no-warnings", action="store_true", help="do not print warnings")

    p = sub.add_parser("schema", help="write the JSON Schema of the scenario format",
                       description="Write the JSON Schema of the scenario format, for editor autocompletion "
                                   "(e.g. the YAML language server: '# yaml-language-server: $schema=...').")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")

    p = sub.add_parser("simulate", help="play one headless game and print its result",
                       description="Play a whole game headless with built-in players and print a summary "
                                   "(with --json, one JSON object).")
    p.add_argument("scenario")
    p.add_argument("--seed", type=int, default=0, help="the game's random seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--save", metavar="FILE", help="also write the game as a save file (replayable)")
    p.add_argument("--player", choices=["simple", "random"], default="simple",
                   help="built-in player for every side (default: simple)")

    p = sub.add_parser("balance", help="run many AI-vs-AI games and report statistics",
                       description="Run many seeded AI-vs-AI games in parallel and write statistics.")
    p.add_argument("scenario")
    p.add_argument("variants", nargs="*")
    p.add_argument("--games", type=int, default=100)
    p.add_argument("--workers", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", metavar="DIR")

    p = sub.add_parser("replay", help="replay a saved game",
                       description="Replay a saved game's actions from its seed and print the result; with "
                                   "--verify, exit 1 unless the final state hash matches the saved one.")
    p.add_argument("file")
    p.add_argument("--verify", action="store_true", help="check the replayed final state against the save")
    p.add_argument("--scenario", help="the scenario file, when it is not where the save says")
    return parser


def cmd_validate(args: argparse.Namespace) -> int:
    from .scenario.validate import validate_file

    files: list[str] = []
    for pattern in args.files:
        if any(ch in pattern for ch in "*?["):
            matches = sorted(str(p) for p in Path().glob(pattern)) if not os.path.isabs(pattern) else \
                sorted(str(p) for p in Path("/").glob(pattern.lstrip("/")))
            if not matches:
                print(f"{pattern}:1:1: error: no file matches this pattern", file=sys.stderr)
                return EXIT_INPUT
            files.extend(matches)
        else:
            files.append(pattern)
    failed = False
    for name in files:
        report = validate_file(name, root=args.root)
        for d in report.result.diagnostics.sorted():
            if d.is_error or not args.no_warnings:
                print(d.format(), file=sys.stderr if d.is_error else sys.stdout)
        if report.ok:
            if not args.quiet:
                print(report.summary())
        else:
            failed = True
            n = len(report.result.diagnostics.errors)
            print(f"{name}: {n} error(s)", file=sys.stderr)
    return EXIT_INPUT if failed else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from .scenario.schema import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"
    if args.output:
        from .atomic import write_text_atomic
        try:
            write_text_atomic(Path(args.output), text)
        except OSError as exc:
            print(f"{args.output}:1:1: error: cannot write the schema: {exc.strerror}", file=sys.stderr)
            return EXIT_INPUT
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _print_diagnostics(exc: InputError) -> int:
    for d in exc.diagnostics:
        print(d.format(), file=sys.stderr)
    return EXIT_INPUT


def game_summary(game) -> dict:
    """The JSON summary of a finished (or current) game."""
    ctx, state = game.ctx, game.state
    result = state.result or {}
    names = {p.id: p.name for p in ctx.scenario.map.places}
    final = state.date if result.get("reason") == "sudden death" else \
        state.date + datetime.timedelta(days=ctx.days_per_turn - 1)
    return {
        "scenario": ctx.scenario.meta.id,
        "seed": state.seed,
        "winner": result.get("winner"),
        "verdict": result.get("verdict"),
        "score": result.get("score"),
        "explanation": result.get("explanation"),
        "turns": state.turn,
        "final_date": final.isoformat(),
        "corridor_opened": state.corridor_opened,
        "corridor_open_at_end": state.corridor_open,
        "captures": {names[p]: c["date"] for p, c in state.captures.items()},
        "air_bases_destroyed": len(state.air_destroyed),
        "air_bases_destroyed_on": dict(state.air_destroyed),
        "losses": state.losses,
        "tracks": state.tracks,
        "actions": state.actions_taken,
        "state_hash": state.state_hash(),
    }


def _print_summary(summary: dict, title: str) -> None:
    print(f"{title}: seed {summary['seed']}, {summary['turns']} turns to {summary['final_date']}, "
          f"{summary['actions']} actions")
    print(summary["explanation"])
    if summary["captures"]:
        print("Captures: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["captures"].items(), key=lambda x: x[1])))
    print(f"State hash: {summary['state_hash']}")


def cmd_simulate(args: argparse.Namespace) -> int:
    from .diagnostics import InputError
    from .rules.context import load_context
    from .rules.engine import Game
    from .rules.players import PLAYERS, play_game
    from .rules.saves import write_save

    try:
        ctx = load_context(args.scenario)
    except InputError as exc:
        return _print_diagnostics(exc)
    game = Game.new(ctx, args.seed)
    players = {side: PLAYERS[args.player](seed=args.seed * 1000 + k + 1) for k, side in enumerate(ctx.sides)}
    actions = play_game(game, players)
    summary = game_summary(game)
    if args.save:
        try:
            write_save(args.save, game, actions, players={s: args.player for s in ctx.sides})
        except OSError as exc:
            print(f"{args.save}:1:1: error: cannot write the save: {exc.strerror}", file=sys.stderr)
            return EXIT_INPUT
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary, ctx.scenario.meta.title)
        if args.save:
            print(f"Saved to {args.save}")
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from .diagnostics import InputError
    from .rules.saves import context_for, read_save, replay

    try:
        save = read_save(args.file)
        ctx = context_for(save, args.file, args.scenario)
        game = replay(ctx, save.seed, save.actions, args.file)
    except InputError as exc:
        return _print_diagnostics(exc)
    got = game.state.state_hash()
    _print_summary(game_summary(game), ctx.scenario.meta.title)
    if args.verify:
        if got != save.state_hash:
            print(f"{args.file}:1:1: error: replay does not reproduce the saved game: final state hash "
                  f"{got} differs from the saved {save.state_hash}", file=sys.stderr)
            return EXIT_INPUT
        print(f"Verified: {len(save.actions)} actions replayed, final state hash matches the save.")
    return EXIT_OK


def cmd_not_built(command: str, parser: Parser) -> int:
    print(f"main.py {command}: not built yet: {NOT_BUILT[command]} is still to come.", file=sys.stderr)
    if command == "play":
        print("Available now: validate, schema, simulate, replay. See 'main.py --help'.", file=sys.stderr)
    return EXIT_NOT_BUILT


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    if args.command is None:
        # No subcommand means 'play'. Until the window exists, show what is available.
        parser.print_help()
        print("\nThe game window ('play') is not built yet; 'validate', 'schema', 'simulate' and 'replay' work now.")
        return EXIT_OK
    if args.command == "validate":
        return cmd_validate(args)
    if args.command == "schema":
        return cmd_schema(args)
    if args.command == "simulate":
        return cmd_simulate(args)
    if args.command == "replay":
        return cmd_replay(args)
    return cmd_not_built(args.command, parser)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run a command; turn an unexpected exception into a bug report, never a raw traceback."""
    try:
        return run(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a genuine internal error: say it is a bug
        fd, name = tempfile.mkstemp(prefix="ichigo-bug-", suffix=".txt")
        with os.fdopen(fd, "w") as fh:
            traceback.print_exc(file=fh)
        print(f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in the program, not in your input. "
              f"The details are in {name}; please attach that file to a bug report.", file=sys.stderr)
        return EXIT_BUG
