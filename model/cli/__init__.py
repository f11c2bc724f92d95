"""Command-line interface: ``python -m model <command> …``.

Each command lives in its own module under ``model.cli`` and provides
``add_parser(subparsers)`` and ``run(args) -> int``. Errors the user can cause
are ``StudioError``s: printed as one sentence, exit status 1, and a traceback
only with ``--debug``. So are faults of the machine that reach the top (an
``OSError`` such as a full disk or a read-only folder, a ``MemoryError``, torch's
error around a failed write): ``model.core.faults`` words them. Usage errors
exit with status 2 (argparse's convention). When the reader of stdout goes away
(``… --json | head -1``) the command ends quietly, like other Unix tools, with
status 141 (128 + SIGPIPE).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from model.cli.common import make_output_safe, silence_stdout
from model.core.errors import StudioError
from model.core.faults import describe_fault, is_machine_fault

# What a shell reports for a command ended by SIGPIPE.
EXIT_BROKEN_PIPE = 141

# command name -> module under model.cli (one module per command).
COMMANDS: dict[str, str] = {
    "info": "info",
    "predict": "predict",
    "train": "train",
    "lr-find": "lr_find",
    "evaluate": "evaluate",
    "export": "export",
    "attention": "attention",
    "attention-classes": "attention_classes",
    "bench": "bench",
    "doctor": "doctor",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model",
        description="EfficientNet Studio backend: classify, train, evaluate and inspect EfficientNet B0-B7.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS.values():
        module = importlib.import_module(f"model.cli.{module_name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    # Accept --debug anywhere, not only before the command.
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    make_output_safe()
    args = parser.parse_args(argv)
    args.debug = debug
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:
        silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (StudioError, OSError, MemoryError, RuntimeError) as e:
        if debug or (isinstance(e, RuntimeError) and not is_machine_fault(e)):
            raise
        try:
            print(f"error: {describe_fault(e)}", file=sys.stderr, flush=True)
        except OSError:
            pass  # stderr is gone too: the exit status still says it failed
        return 1
