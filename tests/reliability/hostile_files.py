"""Builders for hostile and awkward input files, and the outcome each one must have.

Every builder returns bytes, so the same file can go into a user's folder or
into a zip member. :func:`kaggle_source` lays out one mixed Kaggle-layout
source (good pairs next to every kind of bad file) and returns what the fetch
and split stages must make of it, file by file, so a test can count exactly.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from helpers import pair_image

PAIR_HEIGHT = 32


# ---------------------------------------------------------------- encoders


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def rgb_pair(index: int, height: int = PAIR_HEIGHT) -> Image.Image:
    return Image.fromarray(pair_image(index, height))


def png(index: int) -> bytes:
    return encode(rgb_pair(index), "PNG")


def jpeg(index: int) -> bytes:
    return encode(rgb_pair(index), "JPEG", quality=92)


def grey16(index: int) -> bytes:
    """16-bit greyscale (Pillow mode I;16): the whole 0..65535 range in use."""
    grey = np.asarray(rgb_pair(index).convert("L")).astype(np.uint16) * 257
    return encode(Image.fromarray(grey), "PNG")


def rgb16(index: int) -> bytes:
    """16 bits per channel RGB, which Pillow reads as 8-bit RGB."""
    bgr = cv2.cvtColor(pair_image(index, PAIR_HEIGHT), cv2.COLOR_RGB2BGR).astype(np.uint16) * 257
    ok, data = cv2.imencode(".png", bgr)
    assert ok
    return data.tobytes()


def palette(index: int, transparent: bool = False) -> bytes:
    image = rgb_pair(index).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encode(image, "PNG", **({"transparency": 0} if transparent else {}))


def rgba(index: int) -> bytes:
    array = np.dstack(
        [pair_image(index, PAIR_HEIGHT), np.full((PAIR_HEIGHT, 2 * PAIR_HEIGHT), 200, np.uint8)]
    )
    array[:4, :, 3] = 0  # a fully transparent band: composited on white
    return encode(Image.fromarray(array, "RGBA"), "PNG")


def in_mode(index: int, mode: str, fmt: str = "PNG") -> bytes:
    return encode(rgb_pair(index).convert(mode), fmt)


def sized(width: int, height: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels), "PNG")


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def bad_crc_png(index: int) -> bytes:
    data = bytearray(png(index))
    data[30] ^= 0xFF  # inside IHDR: its CRC no longer matches
    return bytes(data)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_bomb(side: int = 10_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels (100 megapixels) in about 12 KB."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\0" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header claiming a huge canvas, followed by almost nothing."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def png_with_text_bomb(index: int, size: int = 4 * 1024 * 1024) -> bytes:
    """A good pair whose zTXt comment inflates to ``size`` bytes: a bomb in the metadata."""
    data = png(index)
    comment = _png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"\0" * size, 9))
    return data[:33] + comment + data[33:]  # right after the 8-byte signature and 25-byte IHDR


def zeros(size: int) -> bytes:
    return b"\0" * size


def postscript(writes: Path, reads: Path | None = None, header: str = "%!PS-Adobe-3.0 EPSF-3.0") -> bytes:
    """An EPS (or, with ``header="%!PS"``, a PS) file whose PostScript writes ``writes``, and copies
    ``reads`` into ``writes`` + ".leak" when given: what Ghostscript runs if a decoder hands it over."""
    lines = [header, "%%BoundingBox: 0 0 64 32", f"({writes}) (w) file dup (pwned) writestring closefile"]
    if reads is not None:
        lines += [
            f"/secret ({reads}) (r) file def",
            "/buffer 256 string def",
            f"/leak ({writes}.leak) (w) file def",
            "leak secret buffer readstring pop writestring leak closefile",
        ]
    return ("\n".join([*lines, "showpage", ""])).encode("ascii")


def pdf_document() -> bytes:
    """A minimal one-page PDF: a document, not a picture."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 64 32]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


# ---------------------------------------------------------------- one mixed source


GOOD, FETCH, SPLIT = "good", "skipped by fetch", "skipped by split"
MiB = 1024 * 1024
MAX_MEMBER_BYTES = 2 * MiB
"""fetch.safety.max_member_bytes for these tests: bombs stay a few MiB, not gigabytes."""


@dataclass(frozen=True)
class Entry:
    """One file of the source, below the Kaggle ``data/`` folder, and what must become of it."""

    path: str
    data: bytes
    outcome: str
    reason: str = ""  # a fragment of the reported reason (skipped files only)


def common_entries() -> list[Entry]:
    """Files that mean the same in a folder and in a zip."""
    entries = [Entry(f"train/{i:04d}.png", png(i), GOOD) for i in range(6)]
    entries += [
        # every pixel format split must convert, and names that are unusual but fine
        Entry("train/modes/grey16.png", grey16(10), GOOD),
        Entry("train/modes/rgb16.png", rgb16(11), GOOD),
        Entry("train/modes/palette.png", palette(12), GOOD),
        Entry("train/modes/palette_transparent.png", palette(13, transparent=True), GOOD),
        Entry("train/modes/grey.png", in_mode(14, "L"), GOOD),
        Entry("train/modes/rgba.png", rgba(15), GOOD),
        Entry("train/modes/grey_alpha.png", in_mode(16, "LA"), GOOD),
        Entry("train/modes/bilevel.png", in_mode(17, "1"), GOOD),
        Entry("train/modes/cmyk.jpg", in_mode(18, "CMYK", "JPEG"), GOOD),
        Entry("train/modes/photo.jpeg", jpeg(19), GOOD),
        Entry("train/modes/pair.webp", encode(rgb_pair(20), "WEBP", lossless=True), GOOD),
        Entry("train/modes/pair.bmp", encode(rgb_pair(21), "BMP"), GOOD),
        Entry("train/modes/pair.tiff", encode(rgb_pair(22), "TIFF"), GOOD),
        Entry("train/modes/pair.gif", encode(rgb_pair(26).quantize(64), "GIF"), GOOD),
        Entry("train/modes/jpeg_named.png", jpeg(23), GOOD),  # content decides, not the name
        Entry("train/modes/UPPER.PNG", png(24), GOOD),
        Entry("train/ünï cødé name.png", png(25), GOOD),
        # sizes: odd, taller than wide, very wide, the smallest that splits
        Entry("train/sizes/odd_65x33.png", sized(65, 33, 30), GOOD),
        Entry("train/sizes/tall_32x64.png", sized(32, 64, 31), GOOD),
        Entry("train/sizes/wide_2000x8.png", sized(2000, 8, 32), GOOD),
        Entry("train/sizes/smallest_16x8.png", sized(16, 8, 33), GOOD),
        # the same file name in nested folders: all different pairs
        Entry("train/a/0001.png", png(40), GOOD),
        Entry("train/b/0001.png", png(41), GOOD),
        Entry("train/a/b/0001.png", png(42), GOOD),
        # a second train folder in another letter case (zips made on macOS or Windows)
        Entry("Train/0200.png", png(43), GOOD),
        Entry("val/0100.png", png(44), GOOD),
        Entry("val/0101.jpg", jpeg(45), GOOD),
        Entry("val/nested/0001.png", png(46), GOOD),
        # decoded by split and refused there, one file each
        Entry("train/bad/text.png", b"hello, I am not an image\n", SPLIT, "not a readable image"),
        Entry("train/bad/page.png", b"<html><body>404</body></html>", SPLIT, "not a readable image"),
        Entry("train/bad/truncated.png", truncated(png(50)), SPLIT, "truncated"),
        Entry("train/bad/truncated.jpg", truncated(jpeg(51)), SPLIT, "truncated"),
        Entry("train/bad/bad_crc.png", bad_crc_png(52), SPLIT, "not a readable image"),
        Entry("train/bad/bomb_100mpx.png", png_bomb(), SPLIT, "decompression bomb"),
        Entry("train/bad/claims_3600mpx.png", png_claiming(60_000, 60_000), SPLIT, "decompression bomb"),
        Entry("train/bad/text_chunk_bomb.png", png_with_text_bomb(56), SPLIT, "too large"),
        Entry("train/bad/one_pixel.png", sized(1, 1, 53), SPLIT, "too small"),
        Entry("train/bad/document.png", pdf_document(), SPLIT, "PDF is not an allowed picture format"),
        Entry("train/bad/halves_too_small_15x8.png", sized(15, 8, 54), SPLIT, "too small"),
        Entry("val/bad/truncated.png", truncated(png(55)), SPLIT, "truncated"),
        # refused by fetch before anything is decoded
        Entry("train/notes.txt", b"not a pair", FETCH, "not an image by its extension"),
        Entry("train/._0000.png", b"\0\5\26\7AppleDouble", FETCH, "AppleDouble"),
        Entry("train/empty.png", b"", FETCH, "empty file"),
        Entry("train/nested.zip", b"PK\5\6" + b"\0" * 18, FETCH, "not an image by its extension"),
        Entry("train/too_big.png", zeros(MAX_MEMBER_BYTES + MiB), FETCH, "max_member_bytes"),
        Entry("train/.hidden/0300.png", png(60), FETCH, "hidden"),
        Entry("loose.png", png(61), FETCH, "not imported"),
        Entry("test/0400.png", png(62), FETCH, "not imported"),
    ]
    return entries


EMPTY_FOLDERS = ("train/empty", "train/empty/deeper", "val/empty")


@dataclass
class Expected:
    """What fetch and split must report for one source, keyed the way they name things."""

    good: dict[str, str] = field(default_factory=dict)  # record name -> raw file (relative)
    split_skipped: dict[str, str] = field(default_factory=dict)  # record name -> reason fragment
    fetch_skipped: dict[str, str] = field(default_factory=dict)  # report item -> reason fragment
    raw_counts: dict[str, int] = field(default_factory=dict)

    def add(self, entry: Entry, label: Callable[[str], str]) -> None:
        if entry.outcome == FETCH:
            item = label(entry.path)
            # a hidden folder and a folder beside train/ are reported once, as the folder
            if entry.reason == "hidden" or entry.path.startswith("test/"):
                item = label(entry.path.rsplit("/", 1)[0]) + "/"
            self.fetch_skipped[item] = entry.reason
            return
        folder, rest = entry.path.split("/", 1)
        raw = f"{folder.lower()}/{rest}"
        self.raw_counts[folder.lower()] = self.raw_counts.get(folder.lower(), 0) + 1
        if entry.outcome == GOOD:
            self.good[_record_name(raw)] = raw
        else:
            self.split_skipped[_record_name(raw)] = entry.reason


def _record_name(raw: str) -> str:
    """How split names a raw file whose name is not valid UTF-8."""
    return os.fsencode(raw).decode("utf-8", errors="backslashreplace")


def kaggle_folder(root: Path, secrets: Path) -> Expected:
    """``root/anime/data/{train,Train,val}``: the mixed source as a user's folder.

    ``secrets`` is outside the project: links point there, and fetch must not
    follow them.
    """
    data = root / "anime" / "data"
    expected = Expected()

    def label(path: str) -> str:  # fetch names items relative to fetch.path
        return f"anime/data/{path}"

    for entry in common_entries():
        _write(data / entry.path, entry.data)
        expected.add(entry, label)
    for folder in EMPTY_FOLDERS:
        (data / folder).mkdir(parents=True, exist_ok=True)
    # folder-only cases
    secrets.mkdir(parents=True, exist_ok=True)
    _write(secrets / "secret_pair.png", png(70))
    (data / "train" / "link.png").symlink_to(secrets / "secret_pair.png")
    expected.fetch_skipped[label("train/link.png")] = "symbolic link"
    (data / "train" / "linked_folder").symlink_to(secrets, target_is_directory=True)
    expected.fetch_skipped[label("train/linked_folder")] = "symbolic link"
    os.mkfifo(data / "train" / "fifo.png")
    expected.fetch_skipped[label("train/fifo.png")] = "not a regular file"
    not_utf8 = Path(os.fsdecode(os.fsencode(str(data / "train")) + b"/caf\xe9.png"))
    _write(not_utf8, png(71))
    expected.good[_record_name("train/caf\udce9.png")] = "train/caf\udce9.png"
    expected.raw_counts["train"] += 1
    # a file a zip bomb would be, but on disk it is just a small non-image
    bomb = Entry("train/ratio_bomb.png", zeros(MiB + MiB // 2), SPLIT, "not a readable image")
    _write(data / bomb.path, bomb.data)
    expected.add(bomb, label)
    return expected


def kaggle_zip(archive: Path, outside: Path) -> Expected:
    """The same mixed source as a zip, plus members that attack the extraction itself.

    The escaping members aim at ``outside``, a folder beside the project, so a
    test can see that nothing arrived there.
    """
    name = archive.name

    def label(path: str) -> str:
        return f"{name}:anime/data/{path}"

    expected = Expected()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry in common_entries():
            zf.writestr(f"anime/data/{entry.path}", entry.data)
            expected.add(entry, label)
        for folder in EMPTY_FOLDERS:
            zf.writestr(f"anime/data/{folder}/", b"")

        def hostile(member: str, data: bytes, reason: str, mode: int | None = None) -> None:
            info = zipfile.ZipInfo(member)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.create_system = 3
                info.external_attr = mode << 16
            zf.writestr(info, data)
            expected.fetch_skipped[f"{name}:{member}"] = reason

        escape = "../" * 4  # scratch/archive -> scratch -> data -> project -> tmp folder
        hostile(f"{escape}{outside.name}/slip.png", png(80), "escapes")
        hostile(f"anime/data/train/{escape * 2}{outside.name}/slip_deep.png", png(81), "escapes")
        hostile(str(outside / "absolute.png"), png(82), "absolute path")
        hostile("..\\" * 4 + f"{outside.name}\\windows.png", png(83), "escapes")
        hostile(f"C:/{outside.name}/drive.png", png(84), "drive letter")
        hostile(
            "anime/data/train/link.png",
            str(outside / "target.png").encode(),
            "symbolic link",
            stat.S_IFLNK | 0o777,
        )
        hostile("anime/data/train/escape", str(outside).encode(), "symbolic link", stat.S_IFLNK | 0o777)
        hostile("anime/data/train/fifo.png", b"", "not a regular file", stat.S_IFIFO | 0o644)
        hostile("anime/data/train/ratio_bomb.png", zeros(MiB + MiB // 2), "compression ratio")
        hostile("anime/data/train/" + "x" * 300 + ".png", png(85), "cannot write")
        # PostScript named as a picture: split names it and refuses it, and Ghostscript never runs it
        # (it would write into ``outside`` and copy the secret there)
        zf.writestr("anime/data/train/postscript.png", postscript(outside / "pwn", archive))
        expected.split_skipped["train/postscript.png"] = "PostScript (EPS or PS) is not an allowed"
        expected.raw_counts["train"] += 1
        # after the refused link, a member "through" it is an ordinary folder inside the target
        zf.writestr("anime/data/train/escape/through_link.png", png(86))
        expected.good["train/escape/through_link.png"] = "train/escape/through_link.png"
        expected.raw_counts["train"] += 1
        # the same member name twice: the first is kept, the second named
        zf.writestr("anime/data/train/twice.png", png(87))
        expected.good["train/twice.png"] = "train/twice.png"
        expected.raw_counts["train"] += 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # zipfile warns: that is the point
            zf.writestr("anime/data/train/twice.png", png(88))
        expected.fetch_skipped[f"{name}:anime/data/train/twice.png"] = "duplicate member name"
        # macOS metadata beside the data folder: not searched at all
        zf.writestr("__MACOSX/anime/data/train/._0000.png", b"\0\5\26\7")
    return expected


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def zip_of(archive: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return archive
