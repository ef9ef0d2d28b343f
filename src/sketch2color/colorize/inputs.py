"""Which files to colour and where each result goes.

Nothing is read or written while planning: a bad ``-o`` fails before any
output exists, and a folder's files are listed, not loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sketch2color.colorize.errors import ColorizeError
from sketch2color.data.images import IMAGE_SUFFIXES
from sketch2color.inference.user_hints import NO_HINTS, UserHints
from sketch2color.layered import OUTPUT_SUFFIXES, OutputNameError, check_output_name


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path
    hints: UserHints = NO_HINTS
    layers: Path | None = None  # a folder for the layers as PNGs (--layers), or None


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


def plan_jobs(
    sources: Sequence[Path], output: Path, layers: Path | None = None
) -> tuple[list[Job], list[Failure]]:
    """Pair every input sketch with its output file (and its layers' folder, with ``--layers``).

    One file with ``-o NAME.png`` (or any picture or layered extension,
    :data:`sketch2color.layered.OUTPUT_SUFFIXES`) writes exactly that file.
    Otherwise ``-o`` is a folder: a folder argument's files keep their
    relative names (as .png), under the folder's own name when several
    arguments are given; loose files go to the top. Two inputs that would
    land on the same name (a.jpg, a.png) both survive: the later one gets its
    old suffix in its name. A name with an extension that cannot be written is
    refused, naming it, and is never made a folder. ``--layers DIR`` takes
    one sketch's layers, or for several a sub-folder per sketch named as its
    output file.
    """
    failures: list[Failure] = []
    suffix = output.suffix.lower()
    if suffix and suffix not in OUTPUT_SUFFIXES and not output.is_dir():
        try:
            check_output_name(output)
        except OutputNameError as exc:
            raise ColorizeError(f"-o {exc} (or, for a folder, a name without an extension)") from None
    if layers is not None:
        if layers.exists() and not layers.is_dir():
            raise ColorizeError(f"--layers {layers}: is a file; layers go into a folder")
        check_writable_place(layers, layers, "--layers")
    single_file = len(sources) == 1 and not sources[0].is_dir() and suffix in OUTPUT_SUFFIXES
    if single_file and not output.is_dir():
        check_writable_place(output, output.parent, "-o")
        if not sources[0].exists():
            return [], [Failure(sources[0], "no such file or folder")]
        return [Job(sources[0], output, layers=layers)], failures
    if output.exists() and not output.is_dir():
        raise ColorizeError(f"-o {output}: is a file; colouring several sketches or a folder needs -o FOLDER")
    check_writable_place(output, output, "-o")
    if suffix in OUTPUT_SUFFIXES and not output.is_dir():
        raise ColorizeError(
            f"-o {output}: looks like a picture file name, but several sketches or a folder were given; "
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
                target = _free_name(output / relative.with_suffix(".png"), path, taken)
                jobs.append(Job(path, target, layers=_layers_folder(layers, output, target)))
            if len(jobs) == before:
                failures.append(
                    Failure(source, f"no image files ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
                )
        elif source.exists():
            target = _free_name(output / f"{source.stem}.png", source, taken)
            jobs.append(Job(source, target, layers=_layers_folder(layers, output, target)))
        else:
            failures.append(Failure(source, "no such file or folder"))
    return jobs, failures


def check_writable_place(given: Path, folder: Path, option: str) -> None:
    """``folder`` (where ``option``'s value ``given`` is written), or the nearest folder above it that
    exists (the rest is made when writing), must be a folder this user can write into: a bad ``-o``
    fails here, before a model is loaded."""
    for place in (folder, *folder.parents):
        if not place.exists():
            continue
        if not place.is_dir():
            raise ColorizeError(f"{option} {given}: {place} is a file, not a folder")
        if not os.access(place, os.W_OK | os.X_OK):
            raise ColorizeError(f"{option} {given}: cannot write into {place} (permission denied)")
        return


def _layers_folder(layers: Path | None, output: Path, target: Path) -> Path | None:
    """Where one of several sketches puts its layers: ``DIR/<its output's relative name>/``."""
    return None if layers is None else layers / target.relative_to(output).with_suffix("")


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
