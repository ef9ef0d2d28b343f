"""The ``sketch2color`` console command.

Sub-commands grow with the project; each one parses its own arguments and
turns user-facing faults (Sketch2ColorError) into a one-line message.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sketch2color import __version__
from sketch2color.errors import Sketch2ColorError


def _check_params(args: argparse.Namespace) -> int:
    from sketch2color.config import load_params

    params = load_params(args.params)
    width = max(len(k) for k in params.to_flat_dict())
    for key, value in params.to_flat_dict().items():
        print(f"{key:<{width}}  {value}")
    print(f"{args.params}: valid", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sketch2color", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"sketch2color {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-params", help="validate params.yaml and print every knob")
    check.add_argument("params", nargs="?", type=Path, default=Path("params.yaml"))
    check.set_defaults(handler=_check_params)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except Sketch2ColorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
