"""The Kaggle "Anime Sketch Colorization Pair" layout: importing a folder or zip of pairs.

Three sources end here (``kaggle_local``, ``url``, ``kaggle_api``): whatever
brought the files, they hold ``train/`` and usually ``val/`` somewhere below
the given path. Files keep their sub-path below ``train/`` or ``val/``: two
``001.png`` in different nested folders are two different pairs, and
flattening would silently drop one. Images are not decoded here (``split``
does that and reports bad ones).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from sketch2color.config import SafetyConfig
from sketch2color.data.fetch.archive import extract_zip
from sketch2color.data.fetch.files import (
    describe,
    is_hidden,
    labeller,
    not_an_image_name,
    scratch_folder,
    sorted_entries,
    walk_files,
)
from sketch2color.data.fetch.report import FetchReport
from sketch2color.errors import DataError
from sketch2color.paths import ProjectPaths

KAGGLE_FOLDERS = ("train", "val")
LAYOUT_SEARCH_DEPTH = 3
"""How many folder levels below the given path ``train/`` may sit (``x/data/train`` is 2)."""


def import_kaggle_zip(
    archive: Path, staging: Path, paths: ProjectPaths, limits: SafetyConfig, report: FetchReport
) -> None:
    """Extract a Kaggle-layout zip safely, then import it like a folder."""
    with scratch_folder(paths) as scratch:
        extracted = scratch / "archive"
        extraction = extract_zip(archive, extracted, limits)
        for member in extraction.skipped:
            report.skip(f"{archive.name}:{member.name}", member.reason)
        import_kaggle_tree(extracted, staging, limits, report, owned=True, shown_as=archive)


def import_kaggle_tree(
    root: Path,
    staging: Path,
    limits: SafetyConfig,
    report: FetchReport,
    *,
    owned: bool,
    shown_as: Path | None = None,
) -> None:
    """Copy ``train/`` and ``val/`` image files from the layout found under ``root``.

    ``owned`` says the files are our own scratch copies, which may be
    hard-linked. A user's folder is copied instead: DVC makes cached files
    read-only, and through a hard link that would change the user's originals.
    """
    shown_as = shown_as or root
    label = labeller(root, shown_as)
    try:
        layout = find_kaggle_layout(root, shown_as)
    except DataError as exc:
        if not report.skipped:
            raise
        raise DataError(f"{exc}{report.skipped_summary()}") from None  # e.g. all members refused
    imported: set[str] = set()
    for name in KAGGLE_FOLDERS:
        # ``train/`` and ``Train/`` side by side (zips made on case-insensitive file systems,
        # merged downloads) are one split: all are imported, a clashing name is reported.
        for folder in _child_folders(layout, name):
            imported.add(folder.name)
            report.counts[name] = report.counts.get(name, 0) + _copy_image_files(
                folder, staging / name, label, limits, report, owned
            )
    _report_unused_entries(layout, imported, label, report)
    train = _child_folder(layout, "train")
    if report.counts.get("train", 0) == 0:
        where = describe(train, root, shown_as) if train is not None else shown_as
        raise DataError(f"{where}: no usable image files in the train folder{report.skipped_summary()}")


def find_kaggle_layout(root: Path, shown_as: Path | None = None) -> Path:
    """The folder that holds ``train/`` (and usually ``val/``): ``root`` or a few levels down.

    The Kaggle archive unpacks to ``data/train`` and ``data/val``; re-zipped
    copies often add one more folder. The shallowest match wins, and a folder
    with both ``train`` and ``val`` beats one with only ``train``.
    """
    shown_as = shown_as or root
    level = [root]
    for _depth in range(LAYOUT_SEARCH_DEPTH + 1):
        with_both = [f for f in level if _child_folder(f, "train") and _child_folder(f, "val")]
        with_train = with_both or [f for f in level if _child_folder(f, "train")]
        if len(with_train) == 1:
            return with_train[0]
        if len(with_train) > 1:
            names = ", ".join(describe(f, root, shown_as) for f in with_train)
            raise DataError(
                f"{shown_as}: several folders hold a train/ folder ({names}); "
                "point fetch.path at the one to use"
            )
        level = [sub for folder in level for sub in _searchable_subfolders(folder)]
        if not level:
            break
    raise DataError(
        f"{shown_as}: no train/ folder found (looked up to {LAYOUT_SEARCH_DEPTH} levels deep "
        "for the Kaggle layout data/train/*.png and data/val/*.png); point fetch.path at the "
        "folder that holds train/ and val/"
    )


def _child_folder(folder: Path, name: str) -> Path | None:
    """A real (not linked) sub-folder called ``name``, any letter case."""
    found = _child_folders(folder, name)
    return found[0] if found else None


def _child_folders(folder: Path, name: str) -> list[Path]:
    """Every real (not linked) sub-folder called ``name`` in any letter case, in name order."""
    return [
        Path(entry.path)
        for entry in sorted_entries(folder)
        if entry.name.lower() == name and entry.is_dir(follow_symlinks=False)
    ]


def _report_unused_entries(
    layout: Path, imported: set[str], label: Callable[[Path], str], report: FetchReport
) -> None:
    """Name what sits beside train/ and val/: nothing in the input is left out silently.

    A pair file dropped next to ``train/`` or a ``test/`` folder is not part
    of the Kaggle layout, so it is not imported; the report says so.
    """
    for entry in sorted_entries(layout):
        if entry.name in imported or is_hidden(entry.name):
            continue
        if entry.is_dir(follow_symlinks=False):
            report.skip(
                label(Path(entry.path)) + "/",
                "folder beside train/ and val/: not part of the Kaggle layout, not imported",
            )
        else:
            report.skip(label(Path(entry.path)), "beside train/ and val/ (not inside either): not imported")


def _searchable_subfolders(folder: Path) -> list[Path]:
    return [
        Path(e.path)
        for e in sorted_entries(folder)
        if e.is_dir(follow_symlinks=False) and not is_hidden(e.name)
    ]


def _copy_image_files(
    folder: Path,
    target: Path,
    label: Callable[[Path], str],
    limits: SafetyConfig,
    report: FetchReport,
    owned: bool,
) -> int:
    copied = 0
    for path in walk_files(folder, label, report):
        reason = _not_an_image_file(path, limits)
        if reason is None:
            reason = _place(path, target, path.relative_to(folder), owned)
        if reason is not None:
            report.skip(label(path), reason)
            continue
        copied += 1
    return copied


def _place(source: Path, target: Path, relative: Path, owned: bool) -> str | None:
    """Link or copy one file to ``target/relative``; the reason when it cannot go there."""
    destination = target / relative
    if os.path.lexists(destination):
        return (
            f"{target.name}/{relative.as_posix()} was already imported from another "
            f"{target.name}/ folder whose name differs only in letter case"
        )
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create its folder in data/raw ({exc.strerror or exc})"
    return _link_or_copy(source, destination, owned)


def _not_an_image_file(path: Path, limits: SafetyConfig) -> str | None:
    by_name = not_an_image_name(path)
    if by_name is not None:
        return by_name
    try:
        size = path.stat(follow_symlinks=False).st_size
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    if size == 0:
        return "empty file"
    if size > limits.max_member_bytes:
        return f"{size} bytes, over fetch.safety.max_member_bytes={limits.max_member_bytes}"
    return None


def _link_or_copy(source: Path, destination: Path, owned: bool) -> str | None:
    """Hard-link our own scratch files; copy anything else without following links.

    The source is opened with O_NOFOLLOW and checked again after opening, so a
    file swapped for a link or a fifo after the folder was listed is refused
    rather than followed (or waited on).
    """
    if owned:
        try:
            os.link(source, destination, follow_symlinks=False)
            return None
        except OSError:
            pass  # another file system, or links not allowed: copy instead
    created = False
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        with os.fdopen(os.open(source, flags), "rb") as reader:
            if not stat.S_ISREG(os.fstat(reader.fileno()).st_mode):
                return "not a regular file"
            with open(destination, "xb") as writer:
                created = True
                shutil.copyfileobj(reader, writer, 1024 * 1024)
    except OSError as exc:
        if created:
            with contextlib.suppress(OSError):
                destination.unlink()
        return f"cannot copy ({exc.strerror or exc})"
    return None
