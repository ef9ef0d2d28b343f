"""Which files to colour and where each result goes, and reading one sketch file.

Nothing is read or written while planning: a bad ``-o`` fails before any
output exists, and a folder's files are listed, not loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sketch2color.colorize.errors import ColorizeError
from sketch2color.data.images import IMAGE_SUFFIXES, BadImage, load_rgb
from sketch2color.inference.user_hints import NO_HINTS, UserHints


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path
    hints: UserHints = NO_HINTS


@dataclass(frozen=True)
class Failure:
    source: Path
    reason: str


def _is_candidate(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _walk_images(folder: Path, exclude: Path, failures: list[Failure]) -> Iterator[Path]:
    """Image files under ``folder`` in a stable order, skipping the output folder itself."""

    def on_error(exc: OSError) -> None:
        failures.append(Failure(Path(exc.filename or folder), f"cannot list folder: {exc.strerror or exc}"))

    for root, dirs, files in os.walk(folder, onerror=on_error):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (here / d).resolve() != exclude)
        for name in sorted(files):
            if _is_candidate(here / name):
                yield here / name


def plan_jobs(sources: Sequence[Path], output: Path) -> tuple[list[Job], list[Failure]]:
    """Pair every input sketch with its output file.

    One file with ``-o NAME.png`` writes exactly that file. Otherwise ``-o`` is
    a folder: a folder argument's files keep their relative names (as .png),
    under the folder's own name when several arguments are given; loose files
    go to the top. Two inputs that would land on the same name (a.jpg, a.png)
    both survive: the later one gets its old suffix in its name.
    """
    failures: list[Failure] = []
    single_file = (
        len(sources) == 1
        and not sources[0].is_dir()
        and output.suffix.lower() in IMAGE_SUFFIXES
        and not output.is_dir()
    )
    if single_file:
        return [Job(sources[0], output)], failures
    if output.exists() and not output.is_dir():
        raise ColorizeError(f"-o {output}: is a file; colouring several sketches or a folder needs -o FOLDER")
    if output.suffix.lower() in IMAGE_SUFFIXES:
        raise ColorizeError(
            f"-o {output}: looks like an image file name, but several sketches or a folder were given; "
            "pass -o FOLDER"
        )
    exclude = output.resolve()
    jobs: list[Job] = []
    taken: set[Path] = set()
    for source in sources:
        if source.is_dir():
            prefix = Path(source.resolve().name) if len(sources) > 1 else Path()
            before = len(jobs)
            for path in _walk_images(source, exclude, failures):
                relative = prefix / path.relative_to(source)
                jobs.append(Job(path, _free_name(output / relative.with_suffix(".png"), path, taken)))
            if len(jobs) == before:
                failures.append(
                    Failure(source, f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
                )
        elif source.exists():
            jobs.append(Job(source, _free_name(output / f"{source.stem}.png", source, taken)))
        else:
            failures.append(Failure(source, "no such file or folder"))
    return jobs, failures


def _free_name(target: Path, source: Path, taken: set[Path]) -> Path:
    candidate = target
    if candidate in taken:
        candidate = target.with_name(f"{target.stem}_{source.suffix.lstrip('.').lower() or 'file'}.png")
    number = 2
    while candidate in taken:
        candidate = target.with_name(f"{target.stem}_{number}.png")
        number += 1
    taken.add(candidate)
    return candidate


def read_sketch(path: Path, max_pixels: int) -> np.ndarray:
    """Decode a sketch file to RGB; every way it can be bad becomes a :class:`BadImage`."""
    try:
        if path.stat().st_size == 0:
            raise BadImage("empty file (0 bytes)")
    except OSError as exc:
        raise BadImage(f"cannot read: {exc.strerror or exc}") from None
    return load_rgb(path, max_pixels)
