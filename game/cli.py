"""The command line: ``python main.py [play|validate|schema|simulate|balance|league|replay] ...``.

Bad input (a scenario, a save, a command-line mistake) prints ``file:line:col: error: ...`` lines
or a one-line message and exits 1; a subcommand that is not built yet says so and exits 2; an
internal error says it is a bug, saves the traceback to a file and exits 70. With no subcommand
(``python main.py``) the game window opens on the main menu.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from .diagnostics import InputError

EXIT_OK, EXIT_INPUT, EXIT_NOT_BUILT, EXIT_BUG = 0, 1, 2, 70

NOT_BUILT: dict[str, str] = {}  # subcommand -> what is still to come (none left)


MAX_SEED = 2**63 - 1  # seeds are non-negative 64-bit integers (numpy's generators and SeedSequence)


def seed_value(text: str) -> int:
    """An argparse type: a seed, a whole number from 0 to 2^63 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_SEED}, got '{text}'") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed is a whole number from 0 to {MAX_SEED}, got {text}")
    return value


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that reports mistakes with exit code 1 instead of 2 (2 means 'not built yet')."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: error: {message} (see '{self.prog} --help')")


def build_parser() -> Parser:
    parser = Parser(prog="main.py", description="An operational hex wargame engine. "
                                                "With no subcommand, starts the game ('play').")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("play", help="open the game window (the default)",
                       description="Open the game window: on the main menu, or straight into a new game of "
                                   "a scenario (SCENARIO or --scenario), or into a saved game (--load). F11 toggles "
                                   "full screen, F1 in the game lists the controls.")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="start a new game of this scenario file at once")
    p.add_argument("--scenario", dest="scenario_option", metavar="FILE",
                   help="the same as SCENARIO; with --load, where the save's scenario is when it has moved")
    p.add_argument("--seed", type=seed_value, metavar="N", help="the game's random seed (default: a random one, shown)")
    p.add_argument("--side", metavar="SIDE",
                   help="who you play: a side id of the scenario (its meta.sides), 'hotseat' (every side, in "
                        "turn) or 'watch' (the computer plays every side); default: the first side. Without a "
                        "scenario it is checked against the one the menu starts with")
    p.add_argument("--opponent", metavar="PROFILE", default="default",
                   help="the computer player's profile (default 'default': the scenario's plan; or 'simple', "
                        "'random', an AI profile name: the files of game/ai/profiles, or an AI profile YAML file)")
    p.add_argument("--load", metavar="SAVE", help="resume a saved game (a save file, e.g. an autosave)")
    p.add_argument("--size", metavar="WxH", default="1280x800", help="window size in pixels (default 1280x800)")
    p.add_argument("--fullscreen", action="store_true", help="start in full screen (F11 toggles)")
    p.add_argument("--scenario-dir", metavar="DIR", help="where the menu lists scenarios (default: scenarios/)")
    p.add_argument("--frames", type=int, metavar="N",
                   help="smoke test: run N frames as fast as possible, then close the window and exit (0, or 70 if "
                        "a screen raised an error); SDL_VIDEODRIVER=dummy runs it without a display")

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
                       description="Play a whole game headless, computer against computer, and print a "
                                   "summary (with --json, one JSON object).")
    p.add_argument("scenario")
    p.add_argument("--seed", type=seed_value, default=0, help="the game's random seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--save", metavar="FILE", help="also write the game as a save file (replayable)")
    _add_player_options(p)
    _add_dice_option(p)

    p = sub.add_parser("balance", help="run many AI-vs-AI games and report statistics",
                       description="Play many seeded AI-vs-AI games of a scenario and its variants in parallel "
                                   "and write games.csv, games.jsonl and a report (report.json, report.html, "
                                   "charts/). Game i of every variant uses seed SEED+i, so the variants are "
                                   "compared game by game. A game that crashes is written to "
                                   "DIR/crashes/VARIANT-seedN.json (with its actions, to replay it) and the "
                                   "batch goes on. " + BATCH_FAULTS_HELP,
                       epilog=BATCH_EXIT_HELP)
    p.add_argument("scenario", nargs="?", help="the base scenario file (variant 'base'; not needed with --resume)")
    p.add_argument("variants", nargs="*", metavar="VARIANT",
                   help="variant scenario files, typically 'extends:' the base; each is named by its file stem")
    p.add_argument("--games", type=int, metavar="N",
                   help="games per variant (with --sprt: the most pairs to play; default 100)")
    _add_batch_options(p, "balance")
    _add_player_options(p)
    p.add_argument("--sprt", action="store_true",
                   help="sequential test: play pairs in seed order and stop as soon as the score difference "
                        "of the variant (exactly one VARIANT, or a --sweep of two values: the second against "
                        "the first) is decided")
    p.add_argument("--power", type=float, metavar="EFFECT",
                   help="estimate, from the pairs played so far, how many pairs a paired test needs to detect a "
                        "score difference of EFFECT points (80%% power, two-sided 5%%), shown with the progress "
                        "bar and at the end; with --sprt, the pairs the test is expected to take")
    p.add_argument("--sweep", metavar="PATH=V1,V2,...",
                   help="play the base scenario with a value set to each of V1, V2, ... (YAML scalars; no "
                        "commas inside a value); each is a variant named PATH=V. PATH is dotted: keys, and "
                        "list items by id or position, e.g. rules.combat.rout_loss, units.UNIT.strength or "
                        "regions.REGION.effects.SIDE.attrition_per_turn")
    _add_dice_option(p)
    p.set_defaults(dice=None)  # 'keyed' unless --resume finds the batch's own
    p.add_argument("--report-side", metavar="SIDE",
                   help="the side the report follows where it shows one side (the win rate of a --sweep "
                        "chart); default: the scenario's first side")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the games on a Dask cluster (e.g. tcp://host:8786; needs pip install "
                        "'.[cluster]'); its workers must read the scenario files at the same paths "
                        "(a shared filesystem, the same checkout)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("league", help="rate players: every player on each side against every player on the other",
                       description="Play a league on a two-sided scenario: every listed player on each side against "
                                   "every player on the other side, N games per pairing on the same seeds (game i "
                                   "of every pairing uses seed SEED+i), and write games.csv, games.jsonl, "
                                   "league.json and report.html (each side's cross-table with 95% intervals, "
                                   "which player is stronger by a paired Wilcoxon test, Bradley-Terry ratings "
                                   "and their chart). " + BATCH_FAULTS_HELP,
                       epilog=BATCH_EXIT_HELP)
    p.add_argument("scenario", nargs="?", help="the scenario file (two sides; not needed with --resume)")
    p.add_argument("--players", metavar="P1,P2,...",
                   help="the players of both sides, comma-separated: random, simple, AI profile names "
                        "(default, offensive, ...), AI profile YAML files (named by their file stem) or the "
                        "search player (search, search:PROFILE, with a budget @N simulations or @Ts seconds "
                        "a phase); default: "
                        "random, simple, every built-in profile and search. 'default' plays the profile the scenario's "
                        "ai plan names for the side")
    p.add_argument("--side-players", action="append", default=[], metavar="SIDE=P1,P2,...",
                   help="the players of one side only (repeatable), instead of --players for that side")
    p.add_argument("--games", type=int, metavar="N", help="games per pairing (default 20)")
    _add_batch_options(p, "league")
    _add_dice_option(p)
    p.set_defaults(dice=None)
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the games on a Dask cluster (e.g. tcp://host:8786; needs pip install '.[cluster]')")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("replay", help="replay a saved game",
                       description="Replay a saved game's actions from its seed and print the result; with "
                                   "--verify, exit 1 unless the final state hash matches the saved one.")
    p.add_argument("file")
    p.add_argument("--verify", action="store_true", help="check the replayed final state against the save")
    p.add_argument("--scenario", help="the scenario file, when it is not where the save says")
    return parser


#: balance and league: some game crashed (or its worker died), so the batch is incomplete
EXIT_INCOMPLETE = 3

BATCH_FAULTS_HELP = ("Each game's record is appended to DIR/games.jsonl as it ends, so a batch that is stopped "
                     "or killed keeps every finished game; DIR/batch.json describes the run. Ctrl-C or SIGTERM "
                     "stops the workers, writes the report of the finished games and prints the command to "
                     "finish the batch: --resume DIR plays only the missing games, on the same seeds, and ends "
                     "with the report an uninterrupted run would have written. A worker process that dies "
                     "mid-game costs that game only (recorded as crashed); the others are played again.")
BATCH_EXIT_HELP = ("exit status: 0 every game played; 1 a usage error, an output folder that already holds a "
                   "batch or cannot be written (read-only, full disk); 3 the batch ran to its end but some "
                   "game crashed (see DIR/crashes/; --resume DIR plays those again); 130 stopped by Ctrl-C, "
                   "143 by SIGTERM (--resume DIR finishes the batch).")


def _add_batch_options(p: argparse.ArgumentParser, command: str) -> None:
    """--workers, --seed, --out and --resume, as balance and league take them."""
    p.add_argument("--workers", type=int, metavar="W",
                   help="worker processes (default: the number of CPUs; 1 plays in this process; "
                        "not used with --scheduler)")
    p.add_argument("--seed", type=seed_value, metavar="S", help="seed of the first game (default 0)")
    p.add_argument("--out", metavar="DIR",
                   help=f"output folder (default: {command}-SCENARIO_ID-YYYYmmdd-HHMMSS); one that already "
                        "holds a batch is refused (use --resume)")
    p.add_argument("--resume", metavar="DIR",
                   help="finish the batch in DIR (stopped, killed or with crashed games): its scenario, "
                        "players, seeds and options are read from DIR/batch.json and only the games missing "
                        f"from DIR/games.jsonl are played; an option given again must agree with it "
                        f"('main.py {command} --resume DIR' is enough)")


def _add_dice_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dice", choices=("keyed", "stream"), default="keyed",
                   help="how the game draws its random numbers: 'keyed' (default), each draw keyed by what it "
                        "decides, so variants on the same seed share every roll they do not change (common "
                        "random numbers); 'stream', one generator feeding every draw in turn, as all games "
                        "before keyed dice were played (to reproduce or compare with them)")


def _add_player_options(p: argparse.ArgumentParser) -> None:
    """The player options of simulate and balance: a profile per side (SIDE=PROFILE), or for
    every side not named (a bare PROFILE after --player)."""
    p.add_argument("--side-profile", action="append", default=[], metavar="SIDE=PROFILE",
                   help="the player of side SIDE, a side id of the scenario (repeat for several sides). A "
                        "PROFILE is 'random', 'simple', an AI profile name (the files of game/ai/profiles: "
                        "default, aggressive, ...) or an AI profile YAML file; a side not named gets 'default'")
    p.add_argument("--player", action="append", default=[], metavar="SIDE=PROFILE",
                   help="the same as --side-profile (repeatable); a bare '--player PROFILE' (no '=') is the "
                        "player of every side not named otherwise")


def cmd_validate(args: argparse.Namespace) -> int:
    from .ai.profile import check_plan_profiles
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
        if report.result.raw is not None and report.result.sections:
            check_plan_profiles(report.result)  # the AI profiles it names, confined to its folder
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
    print(summary["explanation"] or "The game is not over: no verdict yet (play it on with play --load).")
    if summary["captures"]:
        print("Captures: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["captures"].items(), key=lambda x: x[1])))
    print(f"State hash: {summary['state_hash']}")


def _side_profiles(args: argparse.Namespace, ctx, command: str) -> dict[str, str]:
    """The player profile of every side of the scenario: the one named for it (``--side-profile
    SIDE=PROFILE`` or ``--player SIDE=PROFILE``), else a bare ``--player PROFILE``, else the AI
    profile 'default'; checked by building the players once, so an unknown side or profile or a
    bad profile file is a usage error here."""
    from .ai import ProfileError, make_players

    rest: list[str] = []
    named: list[tuple[str, str, str]] = []
    for option, texts in (("--side-profile", args.side_profile), ("--player", args.player)):
        for text in texts:
            side, sep, profile = text.partition("=")
            if option == "--player" and not sep:
                rest.append(text.strip())
                continue
            if not sep or not side.strip() or not profile.strip():
                raise UsageError(f"main.py {command}: error: {option} expects SIDE=PROFILE, e.g. "
                                 f"'{option} {ctx.sides[0]}=simple', got '{text}'")
            named.append((side.strip(), profile.strip(), option))
    if len(set(rest)) > 1:
        raise UsageError(f"main.py {command}: error: --player PROFILE (for every side not named) is given "
                         f"{len(rest)} times: {', '.join(rest)}; give it once, or name the sides (SIDE=PROFILE)")
    if any(not r for r in rest):
        raise UsageError(f"main.py {command}: error: --player expects PROFILE or SIDE=PROFILE, got ''")
    chosen = {side: rest[0] if rest else "default" for side in ctx.sides}
    for side, profile, option in named:
        _check_side(command, option, side, ctx.sides, ctx.scenario.meta.id)
        chosen[side] = profile
    try:
        make_players(ctx, chosen, 0)
    except ProfileError as exc:
        raise _profile_usage_error(command, exc) from None
    return chosen


def _profile_usage_error(command: str, exc: Exception) -> UsageError:
    """A bad player: a bad profile file is reported at its line; an unknown name or a bad budget
    as a one-line usage error."""
    cause = exc.__cause__
    diagnostics = cause.diagnostics if isinstance(cause, InputError) else []
    lines = [d.format() if Path(d.pos.file).is_file() else f"main.py {command}: error: {d.message}"
             for d in diagnostics] or [f"main.py {command}: error: {exc}"]
    return UsageError("\n".join(lines))


def _check_side(command: str, option: str, side: str, sides, scenario_id: str, extra: Sequence[str] = ()) -> None:
    """A usage error, with the scenario's sides and a 'did you mean', when `side` is none of them
    (nor of `extra`, the other words the option takes)."""
    from .diagnostics import did_you_mean

    choices = [*sides, *extra]
    if side not in choices:
        what = "expected one of" if extra else "its sides"
        raise UsageError(f"main.py {command}: error: {option}: scenario '{scenario_id}' has no side '{side}'"
                         f"{did_you_mean(side, choices)} ({what}: {', '.join(choices)})")


def cmd_simulate(args: argparse.Namespace) -> int:
    from .ai import make_players
    from .diagnostics import InputError
    from .rules.context import load_context
    from .rules.engine import Game
    from .rules.players import play_game
    from .rules.saves import write_save

    try:
        ctx = load_context(args.scenario)
    except InputError as exc:
        return _print_diagnostics(exc)
    profiles = _side_profiles(args, ctx, "simulate")
    game = Game.new(ctx, args.seed, args.dice)
    actions = play_game(game, make_players(ctx, profiles, args.seed))
    summary = game_summary(game)
    summary["players"] = profiles
    if args.save:
        try:
            write_save(args.save, game, actions, players=profiles)
        except OSError as exc:
            print(f"{args.save}:1:1: error: cannot write the save: {exc.strerror}", file=sys.stderr)
            return EXIT_INPUT
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary, ctx.scenario.meta.title)
        print("Players: " + ", ".join(f"{side} {profile}" for side, profile in profiles.items()))
        if args.save:
            print(f"Saved to {args.save}")
    return EXIT_OK


def _parse_sweep(text: str) -> tuple[str, list[tuple[str, object]]]:
    """--sweep PATH=V1,V2,...: the path and each value as (its text, the YAML scalar it reads as)."""
    import yaml

    usage = "--sweep expects PATH=V1,V2,... e.g. 'rules.combat.rout_loss=0.05,0.1,0.2'"
    path, sep, rest = text.partition("=")
    path = path.strip()
    texts = [t.strip() for t in rest.split(",")]
    if not sep or not path or any(c.isspace() for c in path) or not rest.strip():
        raise UsageError(f"main.py balance: error: {usage}, got '{text}'")
    if any(not t for t in texts):
        raise UsageError(f"main.py balance: error: {usage}; '{text}' has an empty value")
    if len(set(texts)) < len(texts):
        raise UsageError(f"main.py balance: error: --sweep lists a value twice in '{text}'")
    values: list[tuple[str, object]] = []
    for t in texts:
        try:
            values.append((t, yaml.safe_load(t)))
        except yaml.YAMLError:
            raise UsageError(f"main.py balance: error: --sweep value '{t}' is not a YAML scalar "
                             "(a number, true/false, a date or text)") from None
    return path, values


def _balance_arms(args: argparse.Namespace) -> tuple[list[tuple[str, str, dict]], dict | None]:
    """The variants to play as (name, scenario file, overrides), the base first, and the sweep
    for the report (None without --sweep). Usage errors for impossible combinations."""
    arms: list[tuple[str, str, dict]] = [("base", args.scenario, {})]
    sweep = None
    if args.sweep is not None:
        if args.variants:
            raise UsageError("main.py balance: error: --sweep plays the base scenario with changed values; it "
                             "cannot be combined with VARIANT files")
        path, values = _parse_sweep(args.sweep)
        swept = [(f"{path}={t}", args.scenario, {path: v}) for t, v in values]
        # a sequential test compares two arms: the sweep's second value against its first
        arms = swept if args.sprt else arms + swept
        sweep = {"path": path, "values": [v for _, v in values], "variants": [name for name, _, _ in swept]}
    else:
        arms += [(Path(v).stem, v, {}) for v in args.variants]
    if args.sprt and len(arms) != 2:
        got = f"{len(arms)} sweep values" if sweep else f"{len(arms) - 1} VARIANT files"
        raise UsageError("main.py balance: error: --sprt compares two arms: give exactly one VARIANT file, or a "
                         f"--sweep with two values (got {got})")
    names = [name for name, _, _ in arms]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(f"main.py balance: error: two variants are named '{name}' (a variant is named by "
                             "its file stem, the base scenario 'base'); rename one")
    return arms, sweep


def _games_and_workers(args: argparse.Namespace, command: str) -> int:
    """Checks --games; the number of worker processes (--workers, default every CPU)."""
    if args.games < 1:
        raise UsageError(f"main.py {command}: error: --games expects at least 1, got {args.games}")
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise UsageError(f"main.py {command}: error: --workers expects at least 1, got {workers}")
    return workers


#: the defaults of the options a batch's run description stores (None in the parser, so that
#: --resume can tell an option given again from one left out)
BATCH_DEFAULTS = {"balance": {"games": 100, "seed": 0, "dice": "keyed"},
                  "league": {"games": 20, "seed": 0, "dice": "keyed"}}
#: the arguments a batch's run description stores: what --resume plays again
BATCH_ARGUMENTS = {"balance": ("scenario", "variants", "games", "seed", "side_profile", "player", "sweep", "sprt",
                               "power", "dice", "report_side"),
                   "league": ("scenario", "players", "side_players", "games", "seed", "dice")}
OPTION_NAMES = {"scenario": "SCENARIO", "variants": "VARIANT", "side_profile": "--side-profile",
                "report_side": "--report-side", "side_players": "--side-players"}


def _batch_value(key: str, value):
    """An argument as the run description stores it (scenario files as absolute paths)."""
    if key == "scenario" and value is not None:
        return str(Path(value).resolve())
    if key == "variants":
        return [str(Path(v).resolve()) for v in value]
    return value


def _option_text(key: str, value) -> str:
    name = OPTION_NAMES.get(key, f"--{key}")
    if value in (None, [], False):
        return f"no {name}"
    if value is True:
        return name
    if isinstance(value, list):
        return " ".join(f"{name} {v}" for v in value) if name.startswith("-") else f"{name} {', '.join(value)}"
    return f"{name} {value}"


def _batch_arguments(args: argparse.Namespace, command: str) -> dict:
    return {key: _batch_value(key, getattr(args, key)) for key in BATCH_ARGUMENTS[command]}


def _resume_command(command: str, out: Path) -> str:
    import shlex

    return f"python main.py {command} --resume {shlex.quote(str(out))}"


def _resume_arguments(args: argparse.Namespace, command: str) -> dict | None:
    """With --resume DIR: the batch's run description (DIR/batch.json), its arguments set on
    `args`; an argument given again must agree with it (a usage error otherwise). Without
    --resume: None, the defaults filled in."""
    from .balance import runner

    if args.resume is None:
        if args.scenario is None:
            raise UsageError(f"main.py {command}: error: give the SCENARIO file (or --resume DIR to finish a batch)")
        for key, value in BATCH_DEFAULTS[command].items():
            if getattr(args, key) is None:
                setattr(args, key, value)
        return None
    folder = Path(args.resume)
    if args.out is not None and Path(args.out).resolve() != folder.resolve():
        raise UsageError(f"main.py {command}: error: --out {args.out} and --resume {args.resume} name two folders; "
                         "a batch is finished in its own folder (leave out --out)")
    try:
        stored = runner.read_batch_file(folder)
    except runner.BatchFileError as exc:
        raise UsageError(f"main.py {command}: error: --resume: {exc}") from None
    if stored.get("command") != command:
        raise UsageError(f"main.py {command}: error: {folder} holds a {stored.get('command')} batch, not a "
                         f"{command}: finish it with '{_resume_command(str(stored.get('command')), folder)}'")
    saved = stored["arguments"]
    for key in BATCH_ARGUMENTS[command]:
        value = getattr(args, key)
        if value in (None, [], False):  # not given: the stored value holds
            continue
        if _batch_value(key, value) != saved.get(key):
            raise UsageError(f"main.py {command}: error: {_option_text(key, value)} contradicts the batch in "
                             f"{folder}, which was started with {_option_text(key, saved.get(key))}; leave it out "
                             "to finish that batch, or start a new one with a new --out")
    for key in BATCH_ARGUMENTS[command]:
        setattr(args, key, saved.get(key, BATCH_DEFAULTS[command].get(key)))
    args.out = str(folder)
    return stored


def _check_resumable(stored: dict, variants, command: str, folder: Path) -> None:
    """The batch rebuilt from its stored arguments must be the batch that was started: the same
    variants (names, files, players, overrides, dice) and unchanged scenario files."""
    from .balance import runner

    now = [runner.variant_json(v) for v in variants]
    if now != stored.get("variants"):
        was = {v.get("name"): v for v in stored.get("variants") or []}
        diff = next((v["name"] for v in now if was.get(v["name"]) != v), None) or "the list of variants"
        raise UsageError(f"main.py {command}: error: --resume: the batch in {folder} cannot be rebuilt as it was "
                         f"started ({diff} differs); it was started in {stored.get('cwd')}: resume it from there "
                         "if it names profile files by relative paths")
    for path, digest in (stored.get("files") or {}).items():
        if runner.file_digest(path) != digest:
            raise UsageError(f"main.py {command}: error: --resume: {path} has changed since the batch in {folder} "
                             "started, so its remaining games would not match the finished ones: restore the "
                             "file, or start a new batch with a new --out")


def _batch_place(args: argparse.Namespace, command: str, stored: dict | None, variants, scenario_id: str):
    """A batch's seeds, the scenario as its report names it, and its output folder (None, with
    a message, when it cannot be used); a resumed batch is first checked against how it began."""
    seeds = range(args.seed, args.seed + args.games)
    if stored is not None:
        _check_resumable(stored, variants, command, Path(args.out))
    shown = stored.get("scenario_text", args.scenario) if stored is not None else args.scenario
    return seeds, shown, _output_folder(args.out, command, scenario_id, resume=stored is not None)


def _output_folder(given: str | None, command: str, scenario_id: str, *, resume: bool = False) -> Path | None:
    """The output folder (default COMMAND-SCENARIO-TIMESTAMP), created and checked for writing
    (a probe file written and removed) before any game is played, and taken for this batch
    (:func:`game.balance.runner.lock_folder`: a folder another running batch holds is refused);
    a new batch refuses a folder that already holds one. None (and a message) when it cannot be
    used."""
    from .balance import runner

    out = Path(given or f"{command}-{scenario_id}-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{out}: error: cannot create the output folder: {exc.strerror}", file=sys.stderr)
        return None
    try:
        runner.check_writable(out)
        runner.lock_folder(out)
    except runner.FolderBusy as exc:
        print(f"main.py {command}: error: {out} is in use by another batch that is still running (pid {exc}); "
              "wait for it to end, or name a new --out", file=sys.stderr)
        return None
    except OSError as exc:
        print(f"{out}: error: cannot write in the output folder: {exc.strerror}", file=sys.stderr)
        return None
    if not resume and runner.holds_batch(out):  # checked under the lock: two new batches cannot both pass
        print(f"main.py {command}: error: {out} already holds a batch: use --resume {out}, or name a new --out",
              file=sys.stderr)
        return None
    return out


def _open_batch(out: Path, command: str, description: dict, stored: dict | None, variants, seeds):
    """Start the batch's files: a new batch writes its run description and an empty journal; a
    resumed one reads the finished games back from its journal (rewritten in order, without a
    line cut short by a kill). (the journal, the finished outcomes); None (and a message) when
    the folder cannot be written."""
    from .balance import runner

    journal_path = out / runner.GAMES_FILE
    done: list = []
    try:
        if stored is None:
            runner.write_batch_file(out, description)
            runner.write_games_jsonl(journal_path, [])
        else:
            records, bad = runner.read_games(journal_path)
            done = runner.resumed_outcomes(records, variants, seeds)
            if bad:
                print(f"{journal_path}: warning: {bad} line(s) that are not a whole game record were left out (a "
                      "batch killed while writing); those games are played again", file=sys.stderr)
            runner.write_games_jsonl(journal_path, [o.record for o in done if o.record is not None])
        return runner.GamesJournal(journal_path), done
    except runner.BatchFileError as exc:  # a journal that is not a regular file, or too big
        print(f"{journal_path}: error: {exc}", file=sys.stderr)
        return None
    except (OSError, runner.OutputError) as exc:
        reason = exc.reason if isinstance(exc, runner.OutputError) else exc.strerror
        print(f"{out}: error: cannot write the batch's files: {reason}", file=sys.stderr)
        return None


def _run_guarded(out: Path, command: str, journal, done: list, play, progress):
    """Play the batch (`play()`); a file that cannot be written mid-batch (a full disk) stops it
    with a message and exit 1 (every game finished so far is kept in games.jsonl). The Batch,
    or the exit code; a batch a signal stopped says it is writing what finished. The progress
    line and the journal are closed however it ends."""
    from .balance import runner

    try:
        try:
            batch = play()
        finally:
            progress.close()
        if batch.interrupted:
            print(f"interrupted: writing the {len(batch.outcomes)} finished game(s)", file=sys.stderr)
        return batch
    except runner.OutputError as exc:
        kept = len(done) + journal.written
        print(f"{out}: error: cannot write {exc.path.name}: {exc.reason}. The batch is stopped and incomplete; "
              f"the {kept} finished game(s) are kept in {out / runner.GAMES_FILE}. Make room, then finish it with: "
              f"{_resume_command(command, out)}", file=sys.stderr)
        return EXIT_INPUT
    finally:
        journal.close()


def _final_write_failed(out: Path, command: str, exc: OSError) -> int:
    print(f"{out}: error: cannot write the results: {exc.strerror or exc}. No file was left half written and "
          f"every finished game is kept in {out / 'games.jsonl'}; make room, then write the report with: "
          f"{_resume_command(command, out)}", file=sys.stderr)
    return EXIT_INPUT


def _batch_exit(command: str, out: Path, batch, planned: int) -> int:
    """The closing lines of an incomplete batch, and the exit code: 130 or 143 when a signal
    stopped it, EXIT_INCOMPLETE when a game crashed, else 0."""
    import signal as signals

    if batch.interrupted:
        signum = batch.signal or signals.SIGINT
        try:
            name = signals.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        print(f"{command}: stopped by {name}: the batch is incomplete ({len(batch.outcomes)} of at most {planned} "
              f"games finished); finish it with: {_resume_command(command, out)}", file=sys.stderr)
        return 128 + int(signum)
    if batch.crashes:
        print(f"The batch is incomplete: {len(batch.crashes)} game(s) crashed (exit code {EXIT_INCOMPLETE}); "
              f"'{_resume_command(command, out)}' plays them again")
        return EXIT_INCOMPLETE
    return EXIT_OK


def cmd_balance(args: argparse.Namespace) -> int:
    from .balance import runner
    from .rules.context import load_context
    from .scenario.loader import shown_path

    stored = _resume_arguments(args, "balance")
    workers = _games_and_workers(args, "balance")
    arms, sweep = _balance_arms(args)
    # everything is checked before a single game is played
    contexts = []
    problems: list = []
    for _name, path, overrides in arms:
        try:
            contexts.append(load_context(path, overrides or None))
        except InputError as exc:
            problems += [d for d in exc.diagnostics if d not in problems]
    if problems:
        for d in problems:
            print(d.format(), file=sys.stderr)
        return EXIT_INPUT
    variants = [runner.Variant(name, str(Path(path).resolve()), _side_profiles(args, ctx, "balance"), overrides,
                               dice=args.dice)
                for (name, path, overrides), ctx in zip(arms, contexts)]
    base_ctx = contexts[0]
    scenario_id = base_ctx.scenario.meta.id
    report_side = args.report_side if args.report_side is not None else base_ctx.sides[0]
    _check_side("balance", "--report-side", report_side, base_ctx.sides, scenario_id)
    power = None
    if args.power is not None:
        from .balance.stats import PowerWatch

        if len(variants) < 2:
            raise UsageError("main.py balance: error: --power estimates the pairs a comparison needs: give a VARIANT "
                             "or a --sweep")
        try:
            power = PowerWatch(variants[0].name, args.power, sprt=args.sprt, max_pairs=args.games)
        except ValueError as exc:
            raise UsageError(f"main.py balance: error: --power: {exc}, got {args.power:g}") from None
    seeds, shown, out = _batch_place(args, "balance", stored, variants, scenario_id)
    if out is None:
        return EXIT_INPUT
    description = {**runner.describe_batch("balance", _batch_arguments(args, "balance"), variants, seeds),
                   "scenario_text": shown}
    backend = _balance_backend(args.scheduler, workers)
    if backend is None:
        return EXIT_INPUT
    opened = _open_batch(out, "balance", description, stored, variants, seeds)
    if opened is None:
        backend.close()
        return EXIT_INPUT
    journal, done = opened
    total = len(seeds) * len(variants)
    if stored is not None:
        print(f"resuming {out}: {len(done)} of {total} games are finished; playing the other "
              f"{total - len(done)}" + (" at most (the sequential test may stop sooner)" if args.sprt else ""),
              file=sys.stderr)
    progress = runner.Progress(total - len(done), enabled=not args.quiet)
    collect = runner.Collector(out / "crashes", progress, power, journal)
    started = datetime.datetime.now().astimezone()
    sprt_test = None

    def play():
        nonlocal sprt_test
        if args.sprt:
            from .balance.stats import SPRT

            sprt_test = SPRT()
            return runner.run_sprt(variants[0], variants[1], seeds, backend, sprt_test, collect, done)
        return runner.run_batch(variants, seeds, backend, collect, done)

    batch = _run_guarded(out, "balance", journal, done, play, progress)
    if isinstance(batch, int):
        return batch
    sprt = None
    if sprt_test is not None:
        sprt = {**sprt_test.to_dict(), "pairs": batch.pairs_used, "max_pairs": args.games,
                "base": variants[0].name, "variant": variants[1].name}
    meta = {
        "title": base_ctx.scenario.meta.title, "scenario": shown, "scenario_id": scenario_id,
        "variants": {v.name: (v.overrides or shown_path(Path(v.path))) for v in variants},
        "players": variants[0].profiles, "report_side": report_side, "games_per_variant": args.games,
        "seeds": f"{args.seed}..{args.seed + args.games - 1}",
        "backend": backend.name if backend.name != "process pool" else f"process pool of {workers}",
        "started": started.isoformat(timespec="seconds"), "seconds": round(batch.seconds, 1),
        "games_played": len(batch.outcomes), "crashed": len(batch.crashes), "interrupted": batch.interrupted,
    }
    if stored is not None:
        meta["resumed"] = {"from": stored.get("started"), "games_kept": batch.resumed}
    if batch.rebuilds:
        meta["pools_rebuilt"] = batch.rebuilds
    if power is not None:
        meta["power"] = power.estimate()
    try:
        written, report = _write_balance(out, batch, variants, base_ctx, meta, sweep, sprt)
    except OSError as exc:
        return _final_write_failed(out, "balance", exc)
    runner.remove_stale_crashes(out / "crashes", batch.records)
    print(f"Wrote {len(batch.records)} game record(s) to {out}/: " + ", ".join(written))
    if batch.crashes:
        print(f"{len(batch.crashes)} game(s) crashed: crash reports (with the actions to replay them) in "
              f"{out / 'crashes'}/")
    if sprt is not None:
        verdict = {"up": "the variant raises the score", "down": "the variant lowers the score",
                   "no difference": "no difference in the score", None: "no decision"}[sprt["decision"]]
        print(f"SPRT ({variants[1].name} against {variants[0].name}): {verdict} after {batch.pairs_used} "
              f"pair(s) of at most {args.games}")
    if report is not None:
        print(_balance_summary(report))
    if power is not None:
        print(_power_summary(meta["power"]))
    return _batch_exit("balance", out, batch, total)


def _power_summary(est: dict) -> str:
    """What --power found, in a few lines."""
    lines = []
    for name, v in est["variants"].items():
        n = v["pairs_needed"]
        if n is None:
            why = ("the paired scores have not differed yet" if v["sd_diff"] == 0
                   else "too few pairs")
            lines.append(f"Power: {name}: no estimate yet ({why}, {v['pilot_pairs']} pairs)")
            continue
        need = "never (no spread to go on)" if n == float("inf") else f"{n:.0f} pairs"
        lines.append(f"Power: to detect a score difference of ±{est['effect']:g} ({est['power']:.0%} power, "
                     f"two-sided {est['alpha']:.0%}) {name} needs {need}; sd of the paired differences "
                     f"{v['sd_diff']:.2f} from {v['pilot_pairs']} pairs")
    if est.get("sprt_expected_pairs") is not None:
        lines.append(f"Power: the SPRT is expected to take {est['sprt_expected_pairs']:.0f} pairs")
    return "\n".join(lines)


def _balance_backend(scheduler: str | None, workers: int, command: str = "balance"):
    """Where the games run: a Dask cluster, a process pool, or this process for one worker;
    None (after saying why) when the Dask cluster cannot be used."""
    from .balance import runner

    if scheduler is None:
        return runner.InProcessBackend() if workers == 1 else runner.PoolBackend(workers)
    try:
        return runner.DaskBackend(scheduler)
    except ImportError:  # Dask is optional: the 'cluster' extra
        print(f"main.py {command}: error: --scheduler needs Dask distributed, which is not installed: "
              "pip install '.[cluster]'", file=sys.stderr)
        return None
    except (OSError, TimeoutError, ValueError) as exc:
        print(f"main.py {command}: error: cannot use the Dask scheduler at {scheduler}: {exc}", file=sys.stderr)
        return None


def _write_balance(out: Path, batch, variants, base_ctx, meta: dict, sweep: dict | None,
                   sprt: dict | None) -> tuple[list[str], dict | None]:
    """Write games.csv, games.jsonl and the report of a finished batch; the names written and
    the report (None when the base variant has no finished game to report on)."""
    from .balance import report as balance_report
    from .balance import runner

    records = batch.records
    runner.write_games_csv(out / "games.csv", records)
    runner.write_games_jsonl(out / "games.jsonl", records)
    names = ["games.csv", "games.jsonl"]
    by_variant = {v.name: [r for r in records if r["variant"] == v.name] for v in variants}
    if not by_variant[variants[0].name]:
        print(f"no report: the base variant '{variants[0].name}' has no finished game", file=sys.stderr)
        return names, None
    history = [h.model_dump(mode="json") for h in base_ctx.scenario.history]
    report = balance_report.build_report({k: v for k, v in by_variant.items() if v}, history,
                                         base=variants[0].name, meta=meta, sweep=sweep, sprt=sprt,
                                         side=meta.get("report_side"))
    paths = balance_report.write_report(out, report)
    charts = [p for p in paths if p.parent.name == "charts"]
    names += [p.name for p in paths if p not in charts] + ([f"charts/ ({len(charts)} charts)"] if charts else [])
    return names, report


def _balance_summary(report: dict) -> str:
    """A short text summary of a balance report: per variant the games, win rates (95% Wilson
    intervals) and corridor share; per comparison with the base, the significant metrics."""

    def prop(p: dict | None) -> str:
        if not p or p.get("share") is None:
            return "-"
        lo, hi = p["ci"]
        return f"{p['share']:.0%} ({lo:.0%}-{hi:.0%})"

    lines = []
    for name, v in report["variants"].items():
        wins = ", ".join(f"{side} wins {prop(v['wins'].get(side))}" for side in v["sides"])
        lines.append(f"{name}: {v['n']} games; {wins}, draws {prop(v['draws'])}; "
                     f"corridor opened {prop(v['corridor']['opened'])}")
    for name, c in report["comparisons"].items():
        found = []
        for m in c["metrics"].values():
            if not m.get("significant"):
                continue
            e = m.get("effect") or {}
            if e.get("d_z") is not None:
                size = f"d_z {e['d_z']:+.2f}"
            elif e.get("diff_proportions") is not None:
                size = f"{e['diff_proportions']:+.0%}"
            else:
                size = f"mean difference {m.get('mean_diff')}"
            found.append(f"{m['label']} (p={m['p_value']:.3g}, {size})")
        head = f"{name} vs {report['base']} ({c['n_pairs']} pairs): "
        score = c["metrics"].get("score") or {}
        detectable = score.get("detectable")
        tail = f" (the score: a difference of ±{detectable:.2f} or more would have shown)" if detectable else ""
        lines.append(head + ("; ".join(found) if found else "no significant difference (p < 0.05)" + tail))
    return "\n".join(lines)


def _league_players(args: argparse.Namespace, ctx) -> dict[str, list]:
    """The league's members on each side, each checked by building its player once, so an unknown
    name or a bad profile file is a usage error before a game is played."""
    from .ai import ProfileError, make_player
    from .balance.league import LeagueError, default_members, members_from

    def parse(text: str, option: str) -> list:
        words = [w for w in (x.strip() for x in text.split(",")) if w]
        if not words:
            raise UsageError(f"main.py league: error: {option} expects P1,P2,..., got '{text}'")
        try:
            return members_from(words)
        except LeagueError as exc:
            raise UsageError(f"main.py league: error: {option}: {exc}") from None

    both = parse(args.players, "--players") if args.players is not None else default_members()
    chosen = {side: both for side in ctx.sides}
    for text in args.side_players:
        side, sep, rest = text.partition("=")
        if not sep:
            raise UsageError(f"main.py league: error: --side-players expects SIDE=P1,P2,..., e.g. "
                             f"'--side-players {ctx.sides[0]}=default,simple', got '{text}'")
        _check_side("league", "--side-players", side.strip(), ctx.sides, ctx.scenario.meta.id)
        chosen[side.strip()] = parse(rest, "--side-players")
    for side, members in chosen.items():
        for m in members:
            try:
                make_player(ctx, side, m.profile, 0)
            except ProfileError as exc:
                raise _profile_usage_error("league", exc) from None
    return chosen


def cmd_league(args: argparse.Namespace) -> int:
    from .balance import league, runner
    from .balance.league_report import write_league
    from .rules.context import load_context
    from .scenario.loader import shown_path

    stored = _resume_arguments(args, "league")
    workers = _games_and_workers(args, "league")
    try:
        ctx = load_context(args.scenario)
    except InputError as exc:
        return _print_diagnostics(exc)
    scenario_id = ctx.scenario.meta.id
    if len(ctx.sides) != 2:
        raise UsageError(f"main.py league: error: a league needs a scenario of two sides; '{scenario_id}' has "
                         f"{len(ctx.sides)} ({', '.join(ctx.sides)})")
    members = _league_players(args, ctx)
    names = league.pairings(str(Path(args.scenario).resolve()), ctx.sides, members, args.dice)
    variants = [v for v, _ in names.values()]
    seeds, shown, out = _batch_place(args, "league", stored, variants, scenario_id)
    if out is None:
        return EXIT_INPUT
    backend = _balance_backend(args.scheduler, workers, "league")
    if backend is None:
        return EXIT_INPUT
    description = {**runner.describe_batch("league", _batch_arguments(args, "league"), variants, seeds),
                   "scenario_text": shown}
    opened = _open_batch(out, "league", description, stored, variants, seeds)
    if opened is None:
        backend.close()
        return EXIT_INPUT
    journal, done = opened
    total = len(seeds) * len(variants)
    if stored is not None:
        print(f"resuming {out}: {len(done)} of {total} games are finished; playing the other {total - len(done)}",
              file=sys.stderr)
    progress = runner.Progress(total - len(done), enabled=not args.quiet, label="league")
    collect = runner.Collector(out / "crashes", progress, journal=journal,
                               prepare=lambda record: league.label([record], names))
    started = datetime.datetime.now().astimezone()

    batch = _run_guarded(out, "league", journal, done,
                         lambda: runner.run_batch(variants, seeds, backend, collect, done), progress)
    if isinstance(batch, int):
        return batch
    records = batch.records
    league.label(records, names)
    players = {side: [m.name for m in ms] for side, ms in members.items()}
    result = league.analyse(records, ctx.sides, players, ctx.scenario.victory.score_side)
    plans = {side: (ctx.scenario.ai[side].profile if side in ctx.scenario.ai and ctx.scenario.ai[side].profile
                    else "default") for side in ctx.sides}
    result["meta"] = {
        "title": ctx.scenario.meta.title, "scenario": shown_path(Path(shown)), "scenario_id": scenario_id,
        "players": {side: ", ".join(f"{m.name}" + (f" ({m.profile})" if m.profile != m.name else "") for m in ms)
                    for side, ms in members.items()},
        "'default' plays": plans, "games_per_pairing": args.games, "pairings": len(variants),
        "seeds": f"{args.seed}..{args.seed + args.games - 1}", "dice": args.dice,
        "backend": backend.name if backend.name != "process pool" else f"process pool of {workers}",
        "started": started.isoformat(timespec="seconds"), "seconds": round(batch.seconds, 1),
        "games_played": len(batch.outcomes), "crashed": len(batch.crashes), "interrupted": batch.interrupted,
    }
    if stored is not None:
        result["meta"]["resumed"] = {"from": stored.get("started"), "games_kept": batch.resumed}
    if batch.rebuilds:
        result["meta"]["pools_rebuilt"] = batch.rebuilds
    try:
        runner.write_games_csv(out / "games.csv", records)
        runner.write_games_jsonl(out / runner.GAMES_FILE, records)
        written = write_league(out, result)
    except OSError as exc:
        return _final_write_failed(out, "league", exc)
    runner.remove_stale_crashes(out / "crashes", records)
    print(f"Wrote {len(records)} game record(s) to {out}/: games.csv, games.jsonl, "
          + ", ".join(str(p.relative_to(out)) for p in written))
    if batch.crashes:
        print(f"{len(batch.crashes)} game(s) crashed: crash reports (with the actions to replay them) in "
              f"{out / 'crashes'}/")
    print(_league_summary(result))
    return _batch_exit("league", out, batch, total)


def _league_summary(result: dict) -> str:
    """The ratings of each side, best first, and the significant pairwise verdicts."""
    lines = []
    for side in result["sides"]:
        rated = ", ".join(f"{r['player']} {r['rating']:+.0f}" + (f" [{r['ci'][0]:+.0f}, {r['ci'][1]:+.0f}]"
                                                                  if r["ci"] else "")
                          for r in result["ratings"][side])
        lines.append(f"{side} ratings: {rated}")
        found = [f"{c['stronger']} > {c['b'] if c['stronger'] == c['a'] else c['a']} (p={c['p_value']:.2g})"
                 for c in result["pairwise"][side] if c["stronger"] is not None]
        lines.append(f"{side} stronger (Wilcoxon, p < 0.05): " + ("; ".join(found) if found else "none shown"))
    return "\n".join(lines)


def cmd_replay(args: argparse.Namespace) -> int:
    from .diagnostics import InputError
    from .rules.saves import read_save, rebuild

    try:
        save = read_save(args.file)
        game = rebuild(save, args.file, args.scenario)  # refuses a save its replay does not reproduce
    except InputError as exc:
        return _print_diagnostics(exc)
    _print_summary(game_summary(game), game.ctx.scenario.meta.title)
    if args.verify:
        print(f"Verified: {len(save.actions)} actions replayed; the final state hash and the state snapshot "
              "match the save.")
    return EXIT_OK


def cmd_not_built(command: str, parser: Parser) -> int:
    print(f"main.py {command}: not built yet: {NOT_BUILT[command]} is still to come.", file=sys.stderr)
    return EXIT_NOT_BUILT


SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
SIZE_RE = r"(\d{2,5})[xX](\d{2,5})"


def _play_size(text: str) -> tuple[int, int]:
    import re

    from .ui.app import MIN_SIZE

    m = re.fullmatch(SIZE_RE, text.strip())
    if not m:
        raise UsageError(f"main.py play: error: --size expects WIDTHxHEIGHT in pixels, e.g. 1280x800, got '{text}'")
    w, h = int(m.group(1)), int(m.group(2))
    if w < MIN_SIZE[0] or h < MIN_SIZE[1]:
        raise UsageError(f"main.py play: error: --size {w}x{h} is too small; the window needs at least "
                         f"{MIN_SIZE[0]}x{MIN_SIZE[1]}")
    return w, h


def _play_players(ctx, side: str | None, opponent: str) -> dict[str, str]:
    """The players of a new game from --side and --opponent (checked: a usage error when wrong)."""
    from .ai import ProfileError, make_player
    from .ui.menu import HOTSEAT, WATCH
    from .ui.session import HUMAN

    side = side or ctx.sides[0]
    _check_side("play", "--side", side, ctx.sides, ctx.scenario.meta.id, (HOTSEAT, WATCH))
    try:
        make_player(ctx, ctx.sides[0], opponent, 0)
    except ProfileError as exc:
        raise UsageError(f"main.py play: error: --opponent: {exc}") from None
    if side == HOTSEAT:
        return {s: HUMAN for s in ctx.sides}
    if side == WATCH:
        return {s: opponent for s in ctx.sides}
    return {s: HUMAN if s == side else opponent for s in ctx.sides}


def cmd_play(args: argparse.Namespace) -> int:
    """Open the window. Everything given on the command line is checked before it opens: a bad
    option, scenario or save is reported here (exit 1), never in a traceback."""
    import secrets

    from .diagnostics import InputError
    from .rules.context import load_context

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner on the terminal
    if args.scenario and args.scenario_option and args.scenario != args.scenario_option:
        raise UsageError("main.py play: error: give the scenario once (SCENARIO or --scenario), not two different ones")
    scenario = args.scenario or args.scenario_option
    size = _play_size(args.size)
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"main.py play: error: --seed must be 0 or more, got {args.seed}")
    if args.frames is not None and args.frames < 0:
        raise UsageError("main.py play: error: --frames must be 0 or more")
    scenario_dir = Path(args.scenario_dir) if args.scenario_dir else SCENARIO_DIR
    if args.scenario_dir and not scenario_dir.is_dir():
        raise UsageError(f"main.py play: error: --scenario-dir: {scenario_dir} is not a folder")
    session = None
    new: tuple | None = None
    menu: dict = {}
    choices: list | None = None
    try:
        if args.load:
            if args.side or args.seed is not None:
                raise UsageError("main.py play: error: --load resumes a game with its own seed and sides; "
                                 "--seed and --side go with a new game")
            from .ui.session import Session

            session = Session.load(args.load, scenario=scenario)
        elif scenario:
            ctx = load_context(scenario)
            seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
            new = (Path(scenario), seed, _play_players(ctx, args.side, args.opponent))
        else:
            choices = _menu_checks(scenario_dir, args.side, args.opponent)
            menu = {"seed": args.seed, "side": args.side, "opponent": args.opponent}
    except InputError as exc:
        return _print_diagnostics(exc)
    from .ui.app import launch  # the window (pygame) only from game.ui: the rules core runs without it

    return launch(size=size, scenario_dir=scenario_dir, fullscreen=args.fullscreen, menu=menu,
                  session=session, new=new, frames=args.frames, choices=choices)


def _menu_checks(scenario_dir: Path, side: str | None, opponent: str) -> list:
    """For 'play' on the menu: the menu's scenario choices (listed once, here, and handed to the
    window), with --side checked against the scenario the menu starts with and --opponent against
    the profiles. With no playable scenario yet the menu says so when one is picked."""
    from .ai import BUILTIN
    from .ai.profile import load_profile
    from .ui.menu import HOTSEAT, WATCH, default_index
    from .ui.session import scenario_choices

    choices = scenario_choices(scenario_dir) if scenario_dir.is_dir() else []
    first = choices[default_index(choices)] if choices else None
    if side and first is not None and first.ok:
        _check_side("play", "--side", side, [s for s, _ in first.sides], first.id, (HOTSEAT, WATCH))
    if opponent not in (*BUILTIN, "default"):
        try:
            load_profile(opponent)
        except InputError as exc:
            raise UsageError(f"main.py play: error: --opponent: {exc}") from None
    return choices


def _safe_streams() -> None:
    """Text that cannot be encoded (a lone surrogate read from a file) is printed escaped, never
    an error in the middle of a message."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def run(argv: Sequence[str] | None = None) -> int:
    _safe_streams()
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    if args.command is None:
        # No subcommand means 'play' on the main menu.
        args = parser.parse_args(["play"])
    commands = {"play": cmd_play, "validate": cmd_validate, "schema": cmd_schema, "simulate": cmd_simulate,
                "balance": cmd_balance, "league": cmd_league, "replay": cmd_replay}
    if args.command not in commands:
        return cmd_not_built(args.command, parser)
    try:
        return commands[args.command](args)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INPUT
    finally:
        if "game.balance.runner" in sys.modules:  # a batch's output folder is given back
            sys.modules["game.balance.runner"].release_folders()


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
        from . import bug_report_prefix

        fd, name = tempfile.mkstemp(prefix=bug_report_prefix(), suffix=".txt")
        with os.fdopen(fd, "w") as fh:
            traceback.print_exc(file=fh)
        print(f"internal error: {type(exc).__name__}: {exc}\nThis is a bug in the program, not in your input. "
              f"The details are in {name}; please attach that file to a bug report.", file=sys.stderr)
        return EXIT_BUG
