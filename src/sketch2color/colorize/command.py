"""The ``sketch2color colorize`` command: plan, pick a model, colour, and report.

One bad file is reported on stderr and skipped; the exit code is 1 if any
file failed, so a script can tell.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from sketch2color.colorize.batching import Summary, colorize_jobs
from sketch2color.colorize.errors import ColorizeError
from sketch2color.colorize.inputs import plan_jobs
from sketch2color.config import InferenceMode
from sketch2color.inference.colorizer import DEFAULT_OUTPUT, OutputMode
from sketch2color.inference.compose import DEFAULT_FILL, FillSettings
from sketch2color.inference.selection import Settings
from sketch2color.inference.user_hints import NO_HINTS, UserHints
from sketch2color.layered import is_layered
from sketch2color.model_choice import choose_model
from sketch2color.paths import ProjectPaths

DEFAULT_BATCH_SIZE = 8


def run_colorize(
    sources: Sequence[Path],
    output: Path,
    *,
    model: str | Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    inference_mode: InferenceMode | None = None,
    output_mode: OutputMode = DEFAULT_OUTPUT,
    hints: UserHints = NO_HINTS,
    layers: Path | None = None,
    fill: FillSettings = DEFAULT_FILL,
    paths: ProjectPaths | None = None,
) -> int:
    """The ``colorize`` command. Exit code: 0 when every sketch was coloured, 1 when any failed.

    Problems with the whole request (no model, an unsafe model, a bad -o)
    raise a :class:`Sketch2ColorError` before any output is written; problems
    with single files are reported one line each on stderr and skipped.
    """
    from tqdm import tqdm

    if batch_size < 1:
        raise ColorizeError(f"--batch-size must be at least 1, got {batch_size}")

    def report(line: str) -> None:
        tqdm.write(line, file=sys.stderr)  # prints above a running progress bar, not through it

    paths = paths or ProjectPaths.discover()
    if output_mode == "raw" and (is_layered(output) or layers is not None):
        raise ColorizeError(
            "--output raw is the model's square stretched, one flat picture; layered files (.ora, .psd, "
            "--layers) hold the line-faithful picture's layers"
        )
    jobs, failures = plan_jobs(sources, output, layers)
    if hints.file is not None and not hints.file.is_file():
        raise ColorizeError(f"--hints {hints.file}: no such file")
    if hints:
        if len(jobs) != 1 or len(sources) != 1 or sources[0].is_dir():
            raise ColorizeError("--hints and --hint colour one sketch file; give one SKETCH, not a folder")
        jobs = [dataclasses.replace(jobs[0], hints=hints)]
    for failure in failures:
        report(f"{failure.source}: skipped: {failure.reason}")
    summary = Summary()
    if jobs:
        settings = Settings.from_project(paths, report)
        backend = choose_model(model, paths, inference_mode, report, settings.inference_mode)
        report(f"model: {backend.path} ({backend.format}, {backend.input_size}x{backend.input_size} px)")
        with tqdm(
            total=len(jobs),
            unit="img",
            desc="colourising",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
            dynamic_ncols=True,
        ) as bar:
            summary = colorize_jobs(
                backend,
                jobs,
                batch_size=batch_size,
                max_pixels=settings.max_image_pixels,
                report=report,
                advance=bar.update,
                output=output_mode,
                fill=fill,
            )
    problems = len(failures) + len(summary.failures)
    where = jobs[0].target if len(jobs) == 1 and len(sources) == 1 and not sources[0].is_dir() else output
    report(
        f"coloured {summary.colored} of {len(jobs)} sketch files into {where}"
        + (f"; {problems} problem(s), named above" if problems else "")
    )
    return 1 if problems or not jobs else 0
