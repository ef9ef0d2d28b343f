"""The ``fetch`` stage: fill ``data/raw`` with Kaggle-format pairs from one source.

Every source ends in the same layout, so the later stages never care where the
pairs came from::

    data/raw/train/**.png      colour | sketch side by side (W = 2H)
    data/raw/val/**.png        optional (the Kaggle archive's val/ folder)
    data/raw/fetch_report.json source, counts per folder, every skipped item

Files keep their sub-path below ``train/`` or ``val/``: two ``001.png`` in
different nested folders are two different pairs, and flattening would
silently drop one. Images are not decoded here (``split`` does that and
reports bad ones), except for ``colour_folder``, which must decode to draw a
sketch. The whole of ``data/raw`` is built under a temporary name and swapped
in at the end, so a failed fetch leaves the previous ``data/raw`` intact.

One bad file is skipped and listed with its reason, never fatal; only a source
with nothing usable stops the stage, with a message naming the folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Iterator

import cv2
import numpy as np
from PIL import Image

from sketch2color.atomic import atomic_directory, write_json
from sketch2color.config import Params, SafetyConfig
from sketch2color.data.archive import extract_zip
from sketch2color.data.download import download
from sketch2color.data.images import IMAGE_SUFFIXES, BadImage, load_rgb
from sketch2color.data.line_extraction import extract_sketch
from sketch2color.errors import DataError, Sketch2ColorError
from sketch2color.paths import ProjectPaths

log = logging.getLogger(__name__)

REPORT_NAME = "fetch_report.json"
KAGGLE_FOLDERS = ("train", "val")
LAYOUT_SEARCH_DEPTH = 3
"""How many folder levels below the given path ``train/`` may sit (``x/data/train`` is 2)."""
COLOUR_PAIR_HEIGHT = 512
"""Side of each half drawn from a colour image: the Kaggle pairs' 512."""
MIN_COLOUR_SIDE = 16
"""Smaller images hold no drawable lines; a 1x1 'image' would only teach noise."""
SKIPPED_LOG_LINES = 20


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class SkippedItem:
    """A file, folder or archive member left out, and why."""

    item: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"item": self.item, "reason": self.reason}


@dataclass
class FetchReport:
    """What one fetch produced; written to ``data/raw/fetch_report.json``."""

    source: str
    origin: str | None = None
    sha256: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedItem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def skip(self, item: str, reason: str) -> None:
        self.skipped.append(SkippedItem(item, reason))

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "origin": self.origin,
            "sha256": self.sha256,
            "counts": dict(self.counts),
            "total": self.total,
            "skipped_count": len(self.skipped),
            "skipped": [s.to_dict() for s in self.skipped],
        }


# ---------------------------------------------------------------- the stage


def fetch_stage(params: Params, paths: ProjectPaths) -> None:
    """Entry point for ``stages/fetch.py``."""
    fetch(params, paths)


def fetch(params: Params, paths: ProjectPaths) -> FetchReport:
    """Build ``data/raw`` from ``params.fetch.source`` and return what was done."""
    params.fetch.source_path(paths.root)  # a missing fetch.path fails here, before any work
    source = params.fetch.source
    builder = _SOURCES.get(source)
    if builder is None:  # config validation makes this a bug, not a user fault
        raise Sketch2ColorError(f"fetch.source: unknown source {source!r}")
    with atomic_directory(paths.raw) as staging:
        report = builder(params, paths, staging)
        write_json(staging / REPORT_NAME, report.to_dict())
    _log_summary(report, paths)
    return report


def _from_synthetic(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    from sketch2color.data.synthetic import write_synthetic_dataset

    count = write_synthetic_dataset(staging, params.fetch.synthetic, params.seed)
    return FetchReport(source="synthetic", origin=f"procedural, seed {params.seed}",
                       counts={"train": count})


def _from_kaggle_local(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    origin = _input_path(params.fetch.path, paths)
    report = FetchReport(source="kaggle_local", origin=str(origin))
    if origin.is_dir():
        import_kaggle_tree(origin, staging, params.fetch.safety, report, owned=False)
    else:
        import_kaggle_zip(origin, staging, paths, params.fetch.safety, report)
    return report


def _from_url(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    url, sha256 = params.fetch.url, params.fetch.sha256
    if not url or not sha256:
        raise DataError("fetch.url and fetch.sha256 are both required when fetch.source is 'url'")
    archive = download(url, sha256, paths.downloads, max_bytes=params.fetch.safety.max_total_bytes)
    report = FetchReport(source="url", origin=url, sha256=sha256.lower())
    import_kaggle_zip(archive, staging, paths, params.fetch.safety, report)
    return report


def _from_kaggle_api(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    archive = download_with_kaggle_api(params.fetch.kaggle_dataset, paths.downloads)
    report = FetchReport(source="kaggle_api", origin=params.fetch.kaggle_dataset)
    import_kaggle_zip(archive, staging, paths, params.fetch.safety, report)
    return report


def _from_colour_folder(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    origin = _input_path(params.fetch.path, paths)
    if not origin.is_dir():
        raise DataError(
            f"fetch.path: {origin} is not a folder (colour_folder needs a folder of images)"
        )
    report = FetchReport(source="colour_folder", origin=str(origin))
    written = draw_pairs_from_colour_folder(
        origin, staging / "train", params.fetch.safety, params.fetch.sketch_method, report
    )
    report.counts["train"] = written
    if written == 0:
        raise DataError(f"{origin}: no usable colour images{_skipped_summary(report)}")
    return report


_SOURCES: dict[str, Callable[[Params, ProjectPaths, Path], FetchReport]] = {
    "synthetic": _from_synthetic,
    "kaggle_local": _from_kaggle_local,
    "url": _from_url,
    "kaggle_api": _from_kaggle_api,
    "colour_folder": _from_colour_folder,
}


# ---------------------------------------------------------------- Kaggle layout


def import_kaggle_zip(
    archive: Path, staging: Path, paths: ProjectPaths, limits: SafetyConfig, report: FetchReport
) -> None:
    """Extract a Kaggle-layout zip safely, then import it like a folder."""
    with _scratch_folder(paths) as scratch:
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
    label = _labeller(root, shown_as)
    try:
        layout = find_kaggle_layout(root, shown_as)
    except DataError as exc:
        if not report.skipped:
            raise
        raise DataError(f"{exc}{_skipped_summary(report)}") from None  # e.g. all members refused
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
        where = _describe(train, root, shown_as) if train is not None else shown_as
        raise DataError(
            f"{where}: no usable image files in the train folder{_skipped_summary(report)}"
        )


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
            names = ", ".join(_describe(f, root, shown_as) for f in with_train)
            raise DataError(f"{shown_as}: several folders hold a train/ folder ({names}); "
                            "point fetch.path at the one to use")
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
    return [Path(entry.path) for entry in _sorted_entries(folder)
            if entry.name.lower() == name and entry.is_dir(follow_symlinks=False)]


def _report_unused_entries(
    layout: Path, imported: set[str], label: Callable[[Path], str], report: FetchReport
) -> None:
    """Name what sits beside train/ and val/: nothing in the input is left out silently.

    A pair file dropped next to ``train/`` or a ``test/`` folder is not part
    of the Kaggle layout, so it is not imported; the report says so.
    """
    for entry in _sorted_entries(layout):
        if entry.name in imported or _is_hidden(entry.name):
            continue
        if entry.is_dir(follow_symlinks=False):
            report.skip(label(Path(entry.path)) + "/",
                        "folder beside train/ and val/: not part of the Kaggle layout, not imported")
        else:
            report.skip(label(Path(entry.path)),
                        "beside train/ and val/ (not inside either): not imported")


def _searchable_subfolders(folder: Path) -> list[Path]:
    return [Path(e.path) for e in _sorted_entries(folder)
            if e.is_dir(follow_symlinks=False) and not _is_hidden(e.name)]


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
        return (f"{target.name}/{relative.as_posix()} was already imported from another "
                f"{target.name}/ folder whose name differs only in letter case")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create its folder in data/raw ({exc.strerror or exc})"
    return _link_or_copy(source, destination, owned)


def _not_an_image_name(path: Path) -> str | None:
    if path.name.startswith("._"):
        return "macOS metadata file (AppleDouble), not an image"
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        return f"not an image by its extension ({suffix or 'no extension'})"
    return None


def _not_an_image_file(path: Path, limits: SafetyConfig) -> str | None:
    by_name = _not_an_image_name(path)
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


# ---------------------------------------------------------------- colour folder


def draw_pairs_from_colour_folder(
    folder: Path, target: Path, limits: SafetyConfig, method: str, report: FetchReport
) -> int:
    """Write one Kaggle-format pair per decodable colour image; return how many."""
    written = 0
    used: set[str] = set()
    label = _labeller(folder, folder)
    for path in walk_files(folder, label, report):
        item = label(path)
        reason = _not_an_image_name(path)
        if reason is not None:
            report.skip(item, reason)
            continue
        colour = _decode_colour(path, limits.max_image_pixels)
        if isinstance(colour, str):
            report.skip(item, colour)
            continue
        height, width = colour.shape[:2]
        if min(height, width) < MIN_COLOUR_SIDE:
            report.skip(item, f"too small ({width}x{height}); needs at least "
                              f"{MIN_COLOUR_SIDE} px a side")
            continue
        square, sketch = colour_and_sketch(colour, COLOUR_PAIR_HEIGHT, method)
        destination = target / _unique_png_name(path.relative_to(folder), used)
        destination.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate([square, sketch], axis=1)).save(destination, format="PNG")
        written += 1
    return written


def _decode_colour(path: Path, max_pixels: int) -> np.ndarray | str:
    """The image as RGB (through the same decoder as split), or why it is unusable."""
    try:
        return load_rgb(path, max_pixels)
    except BadImage as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - hostile files make decoders raise anything
        return f"cannot decode ({type(exc).__name__}: {exc})"


def colour_and_sketch(rgb: np.ndarray, side: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The centre square of ``rgb`` at ``side`` pixels, and its sketch at the same size.

    Cropping (not stretching) keeps the art's proportions. An image smaller
    than ``side`` gets its sketch drawn at its own size and then scaled up
    with it: upscaling first would blur every edge, and the lines drawn from
    blurred edges come out faint.
    """
    height, width = rgb.shape[:2]
    short = min(height, width)
    top, left = (height - short) // 2, (width - short) // 2
    crop = np.ascontiguousarray(rgb[top:top + short, left:left + short])
    if short >= side:
        square = crop if short == side else cv2.resize(crop, (side, side),
                                                       interpolation=cv2.INTER_AREA)
        return square, extract_sketch(square, method)  # type: ignore[arg-type]
    small_sketch = extract_sketch(crop, method)  # type: ignore[arg-type]
    square = cv2.resize(crop, (side, side), interpolation=cv2.INTER_CUBIC)
    sketch = cv2.resize(small_sketch, (side, side), interpolation=cv2.INTER_LINEAR)
    return square, sketch


def _unique_png_name(relative: Path, used: set[str]) -> str:
    """``a/b.png`` keeps its name, ``a/b.jpg`` becomes ``a/b_jpg.png``: no two sources meet."""
    suffix = relative.suffix.lower()
    first = relative
    if suffix != ".png":
        first = relative.with_name(f"{relative.stem}_{suffix[1:]}.png")
    candidate, number = first, 1
    while candidate.as_posix().lower() in used:
        number += 1
        candidate = first.with_name(f"{first.stem}_{number}.png")
    used.add(candidate.as_posix().lower())
    return candidate.as_posix()


# ---------------------------------------------------------------- Kaggle API


def kaggle_setup_problems() -> list[str]:
    """What is missing for the Kaggle API source; empty when it can run."""
    problems = []
    if _kaggle_command() is None:
        problems.append("the `kaggle` command is not installed "
                        "(pip install 'sketch2color[kaggle]', or pip install kaggle)")
    if not _kaggle_credentials_present():
        problems.append(
            "no Kaggle credentials: create an API token on your Kaggle account page and save it "
            "as ~/.kaggle/kaggle.json (chmod 600; KAGGLE_CONFIG_DIR moves that folder), or set "
            "both KAGGLE_USERNAME and KAGGLE_KEY"
        )
    return problems


def download_with_kaggle_api(dataset: str, downloads: Path) -> Path:
    """Run ``kaggle datasets download`` and return the zip it wrote."""
    problems = kaggle_setup_problems()
    if problems:
        raise Sketch2ColorError(
            "fetch.source is 'kaggle_api' but " + "; and ".join(problems)
            + ". Alternatively download the archive yourself and set fetch.source: kaggle_local "
            "with fetch.path pointing at it."
        )
    command = _kaggle_command()
    assert command is not None
    downloads.mkdir(parents=True, exist_ok=True)
    log.info("downloading Kaggle dataset %s with the kaggle command", dataset)
    result = subprocess.run([command, "datasets", "download", "-d", dataset, "-p", str(downloads)],
                            check=False)
    if result.returncode != 0:
        raise Sketch2ColorError(
            f"kaggle datasets download -d {dataset} failed with exit code {result.returncode} "
            "(its message is above); check fetch.kaggle_dataset and your Kaggle credentials"
        )
    slug = dataset.rsplit("/", 1)[-1]
    archive = downloads / f"{slug}.zip"
    if not archive.is_file():
        raise DataError(f"{downloads}: the kaggle command finished but {archive.name} is not there")
    return archive


def _kaggle_command() -> str | None:
    found = shutil.which("kaggle")
    if found:
        return found
    beside_python = Path(sys.executable).parent / "kaggle"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return None


def _kaggle_credentials_present() -> bool:
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    folders = [Path.home() / ".kaggle"]
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        folders.insert(0, Path(os.environ["KAGGLE_CONFIG_DIR"]).expanduser())
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    folders.append(Path(xdg) / "kaggle")
    return any((folder / "kaggle.json").is_file() for folder in folders)


# ---------------------------------------------------------------- shared helpers


def walk_files(folder: Path, label: Callable[[Path], str], report: FetchReport) -> Iterator[Path]:
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
            entries = _sorted_entries(current, strict=True)
        except OSError as exc:
            report.skip(label(current) + "/",
                        f"cannot list folder ({exc.strerror or exc})")
            continue
        subfolders = []
        for entry in entries:
            path = Path(entry.path)
            item = label(path)
            if entry.is_symlink():
                report.skip(item, "symbolic link (links are not followed)")
            elif entry.is_dir(follow_symlinks=False):
                if _is_hidden(entry.name):
                    report.skip(item + "/", "hidden or macOS metadata folder (not searched)")
                else:
                    subfolders.append(path)
            elif entry.is_file(follow_symlinks=False):
                yield path
            else:
                report.skip(item, "not a regular file (device, fifo or socket)")
        stack.extend(reversed(subfolders))


def _sorted_entries(folder: Path, strict: bool = False) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError:
        if strict:
            raise
        return []


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _labeller(root: Path, shown_as: Path) -> Callable[[Path], str]:
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


def _describe(path: Path, root: Path, shown_as: Path) -> str:
    """A path for an error message: the real one, or its place inside the user's archive."""
    return str(path) if shown_as == root else f"{shown_as}:{_labeller(root, root)(path)}"


def _input_path(value: str | None, paths: ProjectPaths) -> Path:
    if not value:
        raise DataError("fetch.path is required for this fetch.source")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = paths.root / path
    if not path.exists():
        raise DataError(f"fetch.path: {path} does not exist")
    return path


@contextlib.contextmanager
def _scratch_folder(paths: ProjectPaths) -> Iterator[Path]:
    """A temporary folder beside data/raw: same file system, so hard links work."""
    parent = paths.raw.parent
    parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".fetch-scratch.", dir=parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _skipped_summary(report: FetchReport, shown: int = 5) -> str:
    if not report.skipped:
        return " (the folder is empty)"
    lines = "; ".join(f"{s.item}: {s.reason}" for s in report.skipped[:shown])
    more = f"; and {len(report.skipped) - shown} more" if len(report.skipped) > shown else ""
    return f" ({len(report.skipped)} skipped: {lines}{more})"


def _log_summary(report: FetchReport, paths: ProjectPaths) -> None:
    counts = ", ".join(f"{name} {count}" for name, count in report.counts.items())
    log.info("fetch %s%s: %s files (%s); %d skipped, listed in %s", report.source,
             f" from {report.origin}" if report.origin else "", report.total, counts,
             len(report.skipped), paths.raw / REPORT_NAME)
    for skipped in report.skipped[:SKIPPED_LOG_LINES]:
        log.warning("skipped %s: %s", skipped.item, skipped.reason)
    if len(report.skipped) > SKIPPED_LOG_LINES:
        log.warning("... and %d more skipped items", len(report.skipped) - SKIPPED_LOG_LINES)
