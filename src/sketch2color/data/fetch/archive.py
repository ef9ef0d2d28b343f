"""Safe extraction of .zip archives that may come from anywhere.

A downloaded or user-supplied archive is untrusted. ``zipfile.extractall``
alone is not enough, so every member is judged before a byte is written:

* its name must stay inside the target once backslashes are read as
  separators (zip-slip: ``../``, absolute paths, ``C:`` drive letters, UNC
  paths, ``..\\`` written by Windows tools); offenders are skipped and named;
* only regular files and folders are written: symbolic links and device or
  fifo entries (Unix mode bits in ``external_attr``) are skipped, so nothing
  extracted can point outside the target;
* limits from ``fetch.safety`` guard against decompression bombs. The whole
  archive is refused (:class:`UnsafeArchiveError`) when it declares too many
  members or too many bytes in total, since either alone can exhaust the disk
  or inode table. One member that is too large or compresses too well is
  skipped and reported, so one bad file never costs the good ones.

Declared sizes are only claims: the bytes actually produced are counted while
streaming, and a member that yields more than it declared or more than the
limits allow is cut off, deleted and reported. Everything is written to a
temporary sibling folder and renamed onto the target only at the end, so an
interrupted or refused extraction leaves nothing half-written behind.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sketch2color.atomic import atomic_directory
from sketch2color.config import SafetyConfig
from sketch2color.errors import DataError, UnsafeArchiveError

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024

RATIO_CHECK_MIN_BYTES = 1024 * 1024
"""Members smaller than this skip the compression-ratio test.

A blank text file or an all-white bitmap of a few kilobytes can compress a
thousand times over, yet cannot hurt anyone; a bomb only matters when it is
big. Absolute size is still capped by ``max_member_bytes`` for every member.
"""

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class SkippedMember:
    """A member that was not written, and why."""

    name: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason}


@dataclass
class ExtractionReport:
    """What :func:`extract_zip` wrote and what it left out."""

    archive: Path
    target: Path
    extracted: list[str] = field(default_factory=list)
    skipped: list[SkippedMember] = field(default_factory=list)
    bytes_written: int = 0

    def skip(self, name: str, reason: str) -> None:
        log.warning("%s: skipped member %r: %s", self.archive.name, name, reason)
        self.skipped.append(SkippedMember(name, reason))

    def to_dict(self) -> dict[str, object]:
        return {
            "archive": self.archive.name,
            "extracted": len(self.extracted),
            "bytes_written": self.bytes_written,
            "skipped": [s.to_dict() for s in self.skipped],
        }


def extract_zip(archive: Path, target: Path, limits: SafetyConfig) -> ExtractionReport:
    """Extract ``archive`` into ``target`` (created or replaced) within ``limits``.

    Raises :class:`DataError` when the file is not a readable zip, and
    :class:`UnsafeArchiveError` when the archive breaks a whole-archive limit.
    """
    archive = Path(archive)
    target = Path(target)
    try:
        zf = zipfile.ZipFile(archive)
    except FileNotFoundError:
        raise DataError(f"{archive}: archive not found") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise DataError(f"{archive}: not a readable .zip archive ({exc})") from None
    with zf:
        members = zf.infolist()
        _check_whole_archive(archive, members, limits)
        report = ExtractionReport(archive=archive, target=target)
        with atomic_directory(target) as staging:
            _extract_members(zf, members, staging, limits, report)
    report.extracted.sort()
    log.info(
        "%s: extracted %d members (%d bytes), skipped %d",
        archive.name,
        len(report.extracted),
        report.bytes_written,
        len(report.skipped),
    )
    return report


def safe_member_parts(name: str) -> tuple[str, ...] | str:
    """The path parts of a member name, or the reason it may not be written.

    Backslashes count as separators because Windows tools write them and a
    later reader on Windows would follow them.
    """
    if "\x00" in name:
        return "name contains a NUL byte"
    unified = name.replace("\\", "/")
    if unified.startswith("/"):
        return "absolute path"
    if _DRIVE.match(unified):
        return "absolute path with a drive letter"
    parts = tuple(p for p in PurePosixPath(unified).parts if p not in ("", "."))
    if any(p == ".." for p in parts):
        return "path escapes the target folder ('..')"
    if any(":" in p for p in parts):
        return "name contains ':' (drive letter or alternate data stream)"
    if not parts:
        return "empty name"
    return parts


def _check_whole_archive(archive: Path, members: list[zipfile.ZipInfo], limits: SafetyConfig) -> None:
    if len(members) > limits.max_archive_members:
        raise UnsafeArchiveError(
            f"{archive}: refused, it has {len(members)} members, over "
            f"fetch.safety.max_archive_members={limits.max_archive_members}"
        )
    declared = sum(m.file_size for m in members)
    if declared > limits.max_total_bytes:
        raise UnsafeArchiveError(
            f"{archive}: refused, its members declare {declared} bytes in total, over "
            f"fetch.safety.max_total_bytes={limits.max_total_bytes}"
        )


def _extract_members(
    zf: zipfile.ZipFile,
    members: list[zipfile.ZipInfo],
    staging: Path,
    limits: SafetyConfig,
    report: ExtractionReport,
) -> None:
    seen: set[tuple[str, ...]] = set()
    root = os.path.realpath(staging)
    for info in members:
        verdict = _judge_member(info, limits)
        if verdict is not None:
            report.skip(info.filename, verdict)
            continue
        parts = safe_member_parts(info.filename)
        if isinstance(parts, str):
            report.skip(info.filename, parts)
            continue
        destination = staging.joinpath(*parts)
        real = os.path.realpath(destination)
        if not real.startswith(root + os.sep):  # defence in depth; parts are already clean
            report.skip(info.filename, "path escapes the target folder")
            continue
        if info.is_dir():
            try:
                destination.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                report.skip(info.filename, f"cannot create folder ({exc.strerror or exc})")
            continue
        if parts in seen:
            report.skip(info.filename, "duplicate member name (the first one was kept)")
            continue
        seen.add(parts)
        reason = _stream_member(zf, info, destination, limits, report)
        if reason is not None:
            report.skip(info.filename, reason)
        else:
            report.extracted.append("/".join(parts))


def _judge_member(info: zipfile.ZipInfo, limits: SafetyConfig) -> str | None:
    """Reasons known from the header alone, before any byte is decompressed."""
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        return "symbolic link (links are never extracted)"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"not a regular file (mode {oct(mode)})"
    if info.flag_bits & 0x1:
        return "encrypted member"
    if info.is_dir():
        return None
    if info.file_size > limits.max_member_bytes:
        return (
            f"declares {info.file_size} bytes, over fetch.safety.max_member_bytes={limits.max_member_bytes}"
        )
    if info.file_size >= RATIO_CHECK_MIN_BYTES:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            return (
                f"compression ratio {ratio:.0f}:1, over fetch.safety.max_compression_ratio="
                f"{limits.max_compression_ratio} (possible zip bomb)"
            )
    return None


def _stream_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    destination: Path,
    limits: SafetyConfig,
    report: ExtractionReport,
) -> str | None:
    """Copy one member, counting real bytes; return a reason if it was abandoned."""
    allowed = min(info.file_size, limits.max_member_bytes)
    written = 0
    created = False
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as source:
            with open(destination, "xb") as sink:
                created = True
                while True:
                    chunk = source.read(CHUNK_BYTES)
                    if not chunk:
                        break
                    written += len(chunk)
                    if written > allowed:
                        raise _Oversize(
                            f"produced more than the {allowed} bytes allowed (declared {info.file_size})"
                        )
                    if report.bytes_written + written > limits.max_total_bytes:
                        raise UnsafeArchiveError(
                            f"{report.archive}: refused, its members produce more than "
                            f"fetch.safety.max_total_bytes={limits.max_total_bytes} bytes"
                        )
                    sink.write(chunk)
    except UnsafeArchiveError:
        raise
    except _Oversize as exc:
        reason = str(exc)
    except FileExistsError:
        return "clashes with another member's path"
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        reason = f"corrupt or unsupported member ({exc})"
    except OSError as exc:
        reason = f"cannot write ({exc.strerror or exc})"
    else:
        if written == info.file_size:
            report.bytes_written += written
            return None
        reason = f"produced {written} bytes but declared {info.file_size}"
    if created:
        destination.unlink(missing_ok=True)
    return reason


class _Oversize(Exception):
    """A member produced more bytes than it may."""
