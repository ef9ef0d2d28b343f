"""Safe zip extraction: hostile names, links, bombs and lying headers."""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path

import pytest

from sketch2color.config import SafetyConfig
from sketch2color.data.fetch.archive import extract_zip, safe_member_parts
from sketch2color.errors import DataError, UnsafeArchiveError

LIMITS = SafetyConfig()


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def make_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return path


def test_good_members_are_extracted_with_their_folders(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"data/train/1.png": b"one", "data/val/2.png": b"two"})
    report = extract_zip(archive, tmp_path / "out", LIMITS)
    assert files_under(tmp_path / "out") == {"data/train/1.png", "data/val/2.png"}
    assert (tmp_path / "out/data/val/2.png").read_bytes() == b"two"
    assert report.extracted == ["data/train/1.png", "data/val/2.png"]
    assert report.skipped == []
    assert report.bytes_written == 6


def test_zip_slip_members_are_skipped_and_nothing_lands_outside(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    outside_abs = tmp_path / "abs-evil.png"
    hostile = {
        "../evil1.png": b"x",
        "../../evil2.png": b"x",
        "good/../../evil3.png": b"x",
        "..\\..\\evil4.png": b"x",
        "good\\..\\..\\evil5.png": b"x",
        outside_abs.as_posix(): b"x",
        "C:/evil6.png": b"x",
        "C:evil7.png": b"x",
        "//server/share/evil8.png": b"x",
    }
    archive = make_zip(work / "slip.zip", {"good/a.png": b"good", **hostile, "good/b.png": b"fine"})
    report = extract_zip(archive, work / "target", LIMITS)

    assert files_under(work / "target") == {"good/a.png", "good/b.png"}
    assert {s.name for s in report.skipped} == set(hostile)
    assert all(s.reason for s in report.skipped)
    every_file = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert every_file == {archive, work / "target/good/a.png", work / "target/good/b.png"}


def test_backslash_separators_inside_the_target_are_kept_as_folders(tmp_path):
    archive = make_zip(tmp_path / "win.zip", {"data\\train\\1.png": b"one"})
    extract_zip(archive, tmp_path / "out", LIMITS)
    assert files_under(tmp_path / "out") == {"data/train/1.png"}


@pytest.mark.parametrize(
    "name, safe",
    [
        ("a/b.png", True),
        ("./a/./b.png", True),
        ("../b.png", False),
        ("/etc/passwd", False),
        ("a/../../b", False),
        ("D:\\x.png", False),
        ("a/b:stream", False),
        ("a\x00b", False),
    ],
)
def test_member_name_judgement(name, safe):
    assert isinstance(safe_member_parts(name), tuple) is safe


def test_symlink_member_is_refused(tmp_path):
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("data/train/link.png")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        fifo = zipfile.ZipInfo("data/train/pipe.png")
        fifo.create_system = 3
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        zf.writestr(fifo, "")
        zf.writestr("data/train/real.png", b"real")
    report = extract_zip(archive, tmp_path / "out", LIMITS)
    assert files_under(tmp_path / "out") == {"data/train/real.png"}
    reasons = {s.name: s.reason for s in report.skipped}
    assert "symbolic link" in reasons["data/train/link.png"]
    assert "not a regular file" in reasons["data/train/pipe.png"]
    assert not any(p.is_symlink() for p in (tmp_path / "out").rglob("*"))


def test_highly_compressed_member_is_skipped_as_a_bomb(tmp_path):
    bomb = b"\0" * (2 * 1024 * 1024)  # ~2 KiB once deflated: ratio ~1000
    archive = make_zip(tmp_path / "bomb.zip", {"bomb.png": bomb, "ok.png": b"ok"})
    report = extract_zip(archive, tmp_path / "out", SafetyConfig(max_compression_ratio=50))
    assert files_under(tmp_path / "out") == {"ok.png"}
    assert "compression ratio" in report.skipped[0].reason
    assert "max_compression_ratio" in report.skipped[0].reason


def test_member_over_the_size_limit_is_skipped(tmp_path):
    archive = make_zip(
        tmp_path / "big.zip", {"big.png": b"b" * 5000, "ok.png": b"ok"}, method=zipfile.ZIP_STORED
    )
    report = extract_zip(archive, tmp_path / "out", SafetyConfig(max_member_bytes=1000))
    assert files_under(tmp_path / "out") == {"ok.png"}
    assert report.skipped[0].name == "big.png"
    assert "max_member_bytes=1000" in report.skipped[0].reason


def test_archive_over_the_total_limit_is_refused_whole(tmp_path):
    archive = make_zip(tmp_path / "total.zip", {f"{i}.png": b"x" * 400 for i in range(5)})
    with pytest.raises(UnsafeArchiveError) as err:
        extract_zip(archive, tmp_path / "out", SafetyConfig(max_total_bytes=1000))
    assert "total.zip" in str(err.value) and "max_total_bytes=1000" in str(err.value)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["total.zip"]  # no temp folder left


def test_archive_with_too_many_members_is_refused_whole(tmp_path):
    archive = make_zip(tmp_path / "many.zip", {f"{i}.png": b"x" for i in range(4)})
    with pytest.raises(UnsafeArchiveError) as err:
        extract_zip(archive, tmp_path / "out", SafetyConfig(max_archive_members=3))
    assert "many.zip" in str(err.value) and "max_archive_members=3" in str(err.value)
    assert not (tmp_path / "out").exists()


def _rewrite_declared_sizes(archive: Path, name: str, compressed: int | None, size: int) -> None:
    """Patch the central directory entry of ``name`` to claim other sizes."""
    data = bytearray(archive.read_bytes())
    start = data.index(b"PK\x01\x02")
    while start != -1:
        name_length = struct.unpack_from("<H", data, start + 28)[0]
        entry_name = bytes(data[start + 46 : start + 46 + name_length]).decode()
        if entry_name == name:
            if compressed is not None:
                struct.pack_into("<I", data, start + 20, compressed)
            struct.pack_into("<I", data, start + 24, size)
            archive.write_bytes(bytes(data))
            return
        start = data.find(b"PK\x01\x02", start + 4)
    raise AssertionError(f"{name} not in {archive}")


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_member_that_produces_more_than_it_declares_is_cut_off(tmp_path, method):
    payload = bytes(range(256)) * 400  # 100 KiB
    archive = make_zip(tmp_path / "liar.zip", {"liar.png": payload, "ok.png": b"ok"}, method)
    _rewrite_declared_sizes(archive, "liar.png", None, 10)
    report = extract_zip(archive, tmp_path / "out", SafetyConfig(max_member_bytes=1000))
    assert files_under(tmp_path / "out") == {"ok.png"}
    assert [s.name for s in report.skipped] == ["liar.png"]
    assert report.bytes_written == 2


def test_member_that_produces_less_than_it_declares_is_skipped(tmp_path):
    archive = make_zip(
        tmp_path / "short.zip", {"short.png": b"s" * 100, "ok.png": b"ok"}, method=zipfile.ZIP_STORED
    )
    _rewrite_declared_sizes(archive, "short.png", 100, 500)
    report = extract_zip(archive, tmp_path / "out", LIMITS)
    assert files_under(tmp_path / "out") == {"ok.png"}
    assert [s.name for s in report.skipped] == ["short.png"]


def test_duplicate_member_names_keep_the_first(tmp_path):
    archive = tmp_path / "dup.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.png", b"first")
        with pytest.warns(UserWarning):
            zf.writestr("a.png", b"second")
    report = extract_zip(archive, tmp_path / "out", LIMITS)
    assert (tmp_path / "out/a.png").read_bytes() == b"first"
    assert "duplicate" in report.skipped[0].reason


def test_not_a_zip_is_a_clear_error_naming_the_file(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"this is not a zip archive at all")
    with pytest.raises(DataError, match="fake.zip.*not a readable .zip"):
        extract_zip(fake, tmp_path / "out", LIMITS)
    assert not (tmp_path / "out").exists()


def test_existing_target_is_replaced_not_merged(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out/stale.png").write_bytes(b"old")
    archive = make_zip(tmp_path / "a.zip", {"new.png": b"new"})
    extract_zip(archive, tmp_path / "out", LIMITS)
    assert files_under(tmp_path / "out") == {"new.png"}
