"""The ``sketch2color`` console command.

Sub-commands grow with the project; each one parses its own arguments and
turns user-facing faults (Sketch2ColorError) into a one-line message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sketch2color import __version__
from sketch2color.errors import Sketch2ColorError
from sketch2color.inference.colorizer import DEFAULT_OUTPUT, OUTPUT_MODES
from sketch2color.inference.compose import FillSettings
from sketch2color.inference.fill import DEFAULT_FILL_RULE, FILL_RULES
from sketch2color.inference.regions import DEFAULT_LINE_DARKNESS, GAP_PER_512_PX
from sketch2color.inference.user_hints import UserHints
from sketch2color.logs import LOG_LEVEL_VARIABLE
from sketch2color.logs import configure as configure_logs
from sketch2color.paths import ProjectPaths
from sketch2color.serving_guard import DEFAULT_MAX_BODY_BYTES


def _check_params(args: argparse.Namespace) -> int:
    from sketch2color.config import load_params

    params = load_params(args.params)
    width = max(len(k) for k in params.to_flat_dict())
    for key, value in params.to_flat_dict().items():
        print(f"{key:<{width}}  {value}")
    print(f"{args.params}: valid", file=sys.stderr)
    return 0


def _colorize(args: argparse.Namespace) -> int:
    from sketch2color.colorize import run_colorize

    return run_colorize(
        args.sketches,
        args.out,
        model=args.model,
        batch_size=args.batch_size,
        inference_mode=args.inference_mode,
        output_mode=args.output,
        hints=UserHints(args.hints, tuple(args.hint), args.hint_radius),
        layers=args.layers,
        fill=FillSettings(args.gap, args.line_darkness, args.fill_rule),
    )


def _gui(args: argparse.Namespace) -> int:
    from sketch2color.gui import run_gui

    return run_gui(args.model)


def _model(args: argparse.Namespace) -> int:
    """``sketch2color model``: which model the tools would use and where it was named; or set the default."""
    from sketch2color.model_choice import (
        UserConfig,
        find_model_source,
        read_user_config,
        user_config_file,
        write_user_config,
    )

    config_file = user_config_file()
    if args.set_default is not None or args.clear_default:
        config = read_user_config(config_file)
        model = None if args.clear_default else _absolute_spec(args.set_default)
        write_user_config(config_file, UserConfig(model=model, tracking_uri=config.tracking_uri))
        print(f"{config_file}: model = {model!r}" if model else f"{config_file}: no default model")
        return 0
    source, looked = find_model_source(args.model)
    if source is None:
        for line in looked:
            print(line)
        print(
            f"the project folder {ProjectPaths.discover().root}: models/export/, else models/generator.keras"
        )
    else:
        print(f"{source.spec}  (from {source.origin})")
    return 0


def _absolute_spec(spec: str) -> str:
    """A path as an absolute one (the default is used from every folder); a model URI as it is."""
    from sketch2color.model_choice.registered import is_model_uri

    if is_model_uri(spec):
        return spec
    path = Path(spec).expanduser().resolve()
    if not path.exists():
        raise Sketch2ColorError(f"--set-default {spec}: no such file or folder ({path})")
    return str(path)


def _serve(args: argparse.Namespace) -> int:
    from sketch2color.serving_guard import serve

    return serve(
        args.model_uri,
        args.host,
        args.port,
        args.workers,
        args.timeout,
        args.max_body_bytes,
        args.env_manager,
    )


def _dab(text: str):
    from sketch2color.inference.user_hints import parse_dab

    try:
        return parse_dab(text)
    except Sketch2ColorError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _darkness(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 255:
        raise argparse.ArgumentTypeError(f"must be from 1 to 255, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


MODEL_HELP = (
    "a .keras or .tflite file, a SavedModel, export, MLflow model or project folder, or a registered "
    "model URI such as models:/sketch2color-generator/latest (default: $SKETCH2COLOR_MODEL, else "
    "the user default set with `sketch2color model --set-default`, else the project folder's "
    "default export (the first picture soonest) or models/generator.keras)"
)


def _verbosity() -> argparse.ArgumentParser:
    """``-v``, for the commands that load a model (colorize, gui)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help=f"also show TensorFlow's and LiteRT's own log lines (or set {LOG_LEVEL_VARIABLE}=INFO; "
        "WARNING shows their warnings only)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sketch2color", description=__doc__.splitlines()[0])
    verbosity = _verbosity()
    parser.add_argument("--version", action="version", version=f"sketch2color {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-params", help="validate params.yaml and print every knob")
    check.add_argument("params", nargs="?", type=Path, default=Path(ProjectPaths.PARAMS))
    check.set_defaults(handler=_check_params)

    colorize = commands.add_parser(
        "colorize",
        parents=[verbosity],
        help="colour sketch files or folders of any size",
        description="Colour sketches with the trained generator. Each output has its sketch's size. "
        "Exit status: 0 when every sketch was coloured, 1 when any file failed (each failure is "
        "named on stderr; the other files are still coloured) or the model could not be used.",
    )
    colorize.add_argument(
        "sketches",
        nargs="+",
        type=Path,
        metavar="SKETCH",
        help="image files or folders (searched recursively)",
    )
    colorize.add_argument(
        "-o",
        "--out",
        type=Path,
        required=True,
        metavar="OUT",
        help="OUT.png (or .jpg, .webp, .bmp, .tif, .gif) for one file, or OUT.ora (OpenRaster: Krita, "
        "GIMP, MyPaint) or OUT.psd for its layers; a folder for several files or a folder "
        "(relative names are kept, as .png)",
    )
    colorize.add_argument(
        "--layers",
        type=Path,
        metavar="DIR",
        help="also write the layers as PNGs with alpha into DIR (paper, flat colour, line art, dabs; "
        "for several sketches one sub-folder each)",
    )
    colorize.add_argument("--model", metavar="PATH_OR_URI", help=MODEL_HELP)
    colorize.add_argument(
        "--batch-size",
        type=_positive_int,
        default=8,
        metavar="N",
        help="sketches per model call (default: 8)",
    )
    colorize.add_argument(
        "--inference-mode",
        choices=("eval", "train_dropout"),
        help="dropout at test time (default: params.yaml's evaluate.inference_mode, "
        "else eval); exported formats keep the mode they were exported with",
    )
    colorize.add_argument(
        "--output",
        choices=OUTPUT_MODES,
        default=DEFAULT_OUTPUT,
        help="line_faithful (default): the colour spread up to the sketch's own lines at its own size, "
        "the lines multiplied over it; raw: the model's square stretched to the sketch's size",
    )
    colorize.add_argument(
        "--hints",
        type=Path,
        metavar="HINTS.png",
        help="colour hints for one sketch: an RGBA image of any size (scaled with the sketch) whose "
        "opaque pixels are dabs: each fills the region it is put in with its colour, with any model",
    )
    colorize.add_argument(
        "--hint",
        type=_dab,
        action="append",
        default=[],
        metavar="X,Y,#RRGGBB",
        help="one dab of colour at pixel X,Y of the sketch (repeat for more), painted over --hints",
    )
    colorize.add_argument(
        "--hint-radius",
        type=_positive_int,
        metavar="PX",
        help="the dabs' radius in the sketch's pixels (default: 1%% of its longer side, at least 2)",
    )
    fill = colorize.add_argument_group(
        "how dabs fill",
        "A dab colours the region it is put in, up to the lines, even where the outline has gaps up to "
        "--gap px, and the paper around the drawing stays paper. This works with any model; a model "
        "trained with hints (train.hints.enabled) also sees the dabs and colours the rest of the "
        "drawing with them in mind.",
    )
    fill.add_argument(
        "--gap",
        type=_positive_int,
        metavar="PX",
        help=f"the widest gap in an outline that still closes its region, in the sketch's pixels "
        f"(default: {GAP_PER_512_PX} px for each 512 px of its longer side)",
    )
    fill.add_argument(
        "--line-darkness",
        type=_darkness,
        default=DEFAULT_LINE_DARKNESS,
        metavar="0-255",
        help=f"how dark a pixel must be (255 minus its darkest channel) to stop a fill; lower it for "
        f"faint pencil (default: {DEFAULT_LINE_DARKNESS})",
    )
    fill.add_argument(
        "--fill-rule",
        choices=FILL_RULES,
        default=DEFAULT_FILL_RULE,
        help="what regions without a dab get: model (default): the model's colour, or the colour of a "
        "dabbed region the model coloured alike; nearest: the nearest dab's colour across the weakest "
        "boundary, as Krita's Colorize Mask",
    )
    colorize.set_defaults(handler=_colorize)

    gui = commands.add_parser(
        "gui", parents=[verbosity], help="the desktop window: open a sketch, colour it, save it"
    )
    gui.add_argument("--model", metavar="PATH_OR_URI", help=MODEL_HELP)
    gui.set_defaults(handler=_gui)

    model = commands.add_parser(
        "model",
        help="show which model colorize and gui use from this folder, or set the user default",
        description="Without options: the model colorize and gui would use here, and where it was named. "
        "--set-default names a model for every folder (in the user config file).",
    )
    model.add_argument("--model", metavar="PATH_OR_URI", help="as colorize's --model")
    defaults = model.add_mutually_exclusive_group()
    defaults.add_argument("--set-default", metavar="PATH_OR_URI", help="the model to use from any folder")
    defaults.add_argument("--clear-default", action="store_true", help="forget the user default")
    model.set_defaults(handler=_model)

    serve = commands.add_parser(
        "serve",
        help="serve a registered colorizer: mlflow models serve behind a guard that bounds the body",
        description="Start `mlflow models serve` for the model on a private loopback port and a guard in "
        "front of it on --host/--port, which refuses bodies over --max-body-bytes and JSON MLflow cannot "
        "parse with short answers, and keeps every error answer short. There is no authentication: "
        "put TLS and authentication in front of it (README: Serving).",
    )
    serve.add_argument("-m", "--model-uri", required=True, help="e.g. models:/sketch2color-generator/latest")
    serve.add_argument("--host", default="127.0.0.1", help="where the guard listens (default: 127.0.0.1)")
    serve.add_argument("-p", "--port", type=_positive_int, default=5000, help="its port (default: 5000)")
    serve.add_argument(
        "-w", "--workers", type=_positive_int, default=1, help="mlflow's server workers (default: 1)"
    )
    serve.add_argument(
        "-t",
        "--timeout",
        type=_positive_int,
        default=60,
        help="seconds a request may take, sending its body included (default: 60)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        help=f"the largest request body (default: {DEFAULT_MAX_BODY_BYTES:,})",
    )
    serve.add_argument(
        "--env-manager", default="local", help="passed to mlflow models serve (default: local)"
    )
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        configure_logs(getattr(args, "verbose", False))
        return args.handler(args)
    except Sketch2ColorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
