"""Download one archive over http(s), verified by its sha256.

The sha256 is required because a URL is a promise, not a guarantee: the file
behind it can change, be truncated by a dropped connection, or be replaced.
The bytes go to ``NAME.part`` (always started afresh, never resumed) and only
a file whose hash matches is renamed to its final name, so a partial or wrong
download is never mistaken for the real one. A file already downloaded with
the right hash is reused without touching the network, which keeps
``dvc repro`` offline after the first run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPException
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from sketch2color.errors import DataError
from sketch2color.hashing import file_digest

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
TIMEOUT_SECONDS = 60.0
"""Seconds without any byte from the server before giving up."""

_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def download(url: str, sha256: str, dest_folder: Path, *, max_bytes: int | None = None) -> Path:
    """Return the path of the verified file for ``url`` in ``dest_folder``.

    Raises :class:`DataError` naming the URL on a network fault, a download
    larger than ``max_bytes``, or a hash mismatch (the partial file is
    deleted first).
    """
    expected = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise DataError(f"{url}: sha256 must be 64 hex digits, got {sha256!r}")
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise DataError(f"{url}: only http and https URLs can be downloaded (got '{scheme}')")
    dest_folder = Path(dest_folder)
    dest_folder.mkdir(parents=True, exist_ok=True)
    destination = dest_folder / download_name(url, expected)

    if destination.is_file():
        if file_digest(destination, "sha256") == expected:
            log.info("reusing %s (sha256 matches, no download needed)", destination)
            return destination
        log.warning("%s exists but its sha256 differs; downloading it again", destination)

    partial = destination.with_name(destination.name + ".part")
    try:
        actual = _fetch_to(url, partial, max_bytes)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if actual != expected:
        partial.unlink(missing_ok=True)
        raise DataError(
            f"{url}: sha256 mismatch, expected {expected} but the download has {actual}; "
            "the file was deleted (check fetch.sha256 or the URL)"
        )
    os.replace(partial, destination)
    log.info("downloaded %s (sha256 verified)", destination)
    return destination


def download_name(url: str, sha256: str) -> str:
    """A file name that differs for different archives even when URLs share a basename."""
    basename = Path(urllib.parse.unquote(urllib.parse.urlsplit(url).path)).name
    basename = _UNSAFE_NAME_CHARS.sub("_", basename).strip("._") or "archive.zip"
    return f"{sha256[:12]}-{basename}"


def _fetch_to(url: str, partial: Path, max_bytes: int | None) -> str:
    request = urllib.request.Request(url, headers={"User-Agent": "sketch2color-fetch"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            length = _content_length(response.headers.get("Content-Length"))
            if max_bytes is not None and length is not None and length > max_bytes:
                raise DataError(
                    f"{url}: the server announces {length} bytes, over the "
                    f"limit of {max_bytes} (fetch.safety.max_total_bytes)"
                )
            with open(partial, "wb") as sink:
                digest, received = _copy_with_progress(response, sink, url, length, max_bytes)
                sink.flush()
                os.fsync(sink.fileno())
    except urllib.error.HTTPError as exc:
        raise DataError(f"{url}: download failed, the server answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise DataError(f"{url}: download failed, cannot reach the server ({exc.reason})") from None
    except TimeoutError as exc:
        raise DataError(f"{url}: download failed, no data for {TIMEOUT_SECONDS:.0f} s ({exc})") from None
    except (HTTPException, ConnectionError) as exc:
        raise DataError(f"{url}: download failed, the connection broke ({exc!r})") from None
    except OSError as exc:
        raise DataError(f"{url}: download failed ({exc})") from None
    if length is not None and received != length:
        raise DataError(f"{url}: download incomplete, got {received} of {length} bytes")
    return digest


def _copy_with_progress(
    response: BinaryIO, sink: BinaryIO, url: str, length: int | None, max_bytes: int | None
) -> tuple[str, int]:
    digest = hashlib.sha256()
    received = 0
    quiet = not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
    with tqdm(
        total=length,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=Path(urllib.parse.urlsplit(url).path).name or "download",
        disable=quiet,
        file=sys.stderr,
    ) as progress:
        while True:
            chunk = response.read(CHUNK_BYTES)
            if not chunk:
                break
            received += len(chunk)
            if max_bytes is not None and received > max_bytes:
                raise DataError(
                    f"{url}: download exceeds the limit of {max_bytes} bytes (fetch.safety.max_total_bytes)"
                )
            digest.update(chunk)
            sink.write(chunk)
            progress.update(len(chunk))
    return digest.hexdigest(), received


def _content_length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
