"""Walking a user's folder safely, and naming its files the way the user knows them.

Shared by the sources that read folders we do not control (``kaggle_local``,
an extracted archive, ``color_folder``): links are never followed, hidden and
metadata folders are not searched, and every item left out is reported.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from sketch2color.data.fetch.report import FetchReport
from sketch2color.data.images import IMAGE_SUFFIXES
from sketch2color.paths import ProjectPaths

Labeller = Callable[[Path], str]


def walk_files(folder: Path, label: Labeller, report: FetchReport) -> Iterator[Path]:
    """Regular files below ``folder`` in name order, never following links.

    Links are skipped and reported: a link in a user's folder can point
    anywhere on the machine, and fetch must not copy what it points at.
    Hidden folders (``.git``, ``.ipynb_checkpoints``) and macOS ``__MACOSX``
    metadata are not searched.
    """
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            entries = sorted_entries(current, strict=True)
        except OSError as exc:
            report.skip(label(current) + "/", f"cannot list folder ({exc.strerror or exc})")
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            item = label(path)
            if entry.is_symlink():
                report.skip(item, "symbolic link (links are not followed)")
            elif entry.is_dir(follow_symlinks=False):
                if is_hidden(entry.name):
                    report.skip(item + "/", "hidden or macOS metadata folder (not searched)")
                else:
                    subfolders.append(path)
            elif entry.is_file(follow_symlinks=False):
                yield path
            else:
                report.skip(item, "not a regular file (device, fifo or socket)")
        stack.extend(reversed(subfolders))


def sorted_entries(folder: Path, strict: bool = False) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError:
        if strict:
            raise
        return []


def is_hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def not_an_image_name(path: Path) -> str | None:
    """Why a file cannot be an image by its name alone, or None."""
    if path.name.startswith("._"):
        return "macOS metadata file (AppleDouble), not an image"
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        return f"not an image by its extension ({suffix or 'no extension'})"
    return None


def labeller(root: Path, shown_as: Path) -> Labeller:
    """Name files as the user knows them: relative to their folder, or inside their archive.

    Scratch paths of an extracted archive mean nothing to the user, so those
    items read ``archive.zip:data/train/x.png``.
    """
    prefix = "" if shown_as == root else f"{Path(shown_as).name}:"

    def label(path: Path) -> str:
        try:
            relative = PurePosixPath(path.relative_to(root).as_posix())
        except ValueError:
            return path.as_posix()
        return f"{prefix}{relative}" if str(relative) != "." else (prefix.rstrip(":") or str(root))

    return label


def describe(path: Path, root: Path, shown_as: Path) -> str:
    """A path for an error message: the real one, or its place inside the user's archive."""
    return str(path) if shown_as == root else f"{shown_as}:{labeller(root, root)(path)}"


@contextlib.contextmanager
def scratch_folder(paths: ProjectPaths) -> Iterator[Path]:
    """A temporary folder beside data/raw: same file system, so hard links work."""
    parent = paths.raw.parent
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".fetch-scratch.", dir=parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
