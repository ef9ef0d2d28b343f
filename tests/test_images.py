"""Decoding untrusted files: every mode converts, every bad file gets a reason."""

import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketch2color.data.images import BadImage, load_pair, load_rgb, load_rgba, resize_square, split_halves

LIMIT = 10_000_000


def save(image: Image.Image, path, **kwargs):
    image.save(path, **kwargs)
    return path


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "I;16", "1", "CMYK"])
def test_modes_convert_to_rgb_uint8(tmp_path, mode):
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 40, 3), np.uint8))
    if mode == "I;16":
        image = Image.fromarray(np.full((20, 40), 65535, np.uint16))
    else:
        image = rgb.convert(mode)
    suffix = ".jpg" if mode == "CMYK" else ".png"
    array = load_rgb(save(image, tmp_path / f"x{suffix}"), LIMIT)
    assert array.shape == (20, 40, 3) and array.dtype == np.uint8
    if mode == "I;16":
        assert (array == 255).all()  # full-scale 16-bit white stays white, not clipped noise


def test_transparent_background_becomes_white(tmp_path):
    rgba = np.zeros((10, 20, 4), np.uint8)
    rgba[:, :10] = (255, 0, 0, 255)  # opaque red on the left, fully transparent elsewhere
    array = load_rgb(save(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png"), LIMIT)
    assert (array[:, :10] == (255, 0, 0)).all()
    assert (array[:, 10:] == 255).all()


def test_sixteen_bit_rgb_png(tmp_path):
    import cv2

    data = np.full((12, 24, 3), 32768, np.uint16)
    cv2.imwrite(str(tmp_path / "deep.png"), data)
    array = load_rgb(tmp_path / "deep.png", LIMIT)
    assert array.shape == (12, 24, 3) and array.dtype == np.uint8
    assert 120 <= int(array.mean()) <= 135


def test_not_an_image_truncated_png_and_jpeg(tmp_path):
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"<html>definitely not a png</html>")
    with pytest.raises(BadImage, match="not a readable image"):
        load_rgb(fake, LIMIT)
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), np.uint8))
    for suffix in ("png", "jpeg"):
        buffer = io.BytesIO()
        noise.save(buffer, format=suffix.upper())
        cut = tmp_path / f"cut.{suffix}"
        cut.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        with pytest.raises(BadImage, match="truncated|unreadable"):
            load_rgb(cut, LIMIT)


def test_decompression_bomb_is_refused_from_the_header(tmp_path):
    bomb = save(Image.new("L", (5000, 5000)), tmp_path / "bomb.png", optimize=True)
    assert bomb.stat().st_size < 100_000  # a tiny file claiming 25 megapixels
    with pytest.raises(BadImage, match="decompression bomb"):
        load_rgb(bomb, max_pixels=1_000_000)


def test_split_halves_color_left_sketch_right_any_width():
    pair = np.zeros((16, 33, 3), np.uint8)
    pair[:, :16] = 200
    color, sketch = split_halves(pair)
    assert color.shape == (16, 16, 3) and sketch.shape == (16, 17, 3)
    assert (color == 200).all() and (sketch == 0).all()
    with pytest.raises(BadImage, match="too small"):
        split_halves(np.zeros((1, 1, 3), np.uint8))


def test_area_resize_keeps_thin_lines():
    sketch = np.full((512, 512, 3), 255, np.uint8)
    sketch[:, 255] = 0  # one-pixel line
    small = resize_square(sketch, 64)
    assert small.shape == (64, 64, 3)
    assert small.min() < 255 - 20  # still visible; nearest-neighbour would drop it entirely


def test_load_pair_returns_sketch_then_color(tmp_path):
    pair = np.concatenate([np.full((32, 32, 3), 90, np.uint8), np.full((32, 32, 3), 250, np.uint8)], 1)
    Image.fromarray(pair).save(tmp_path / "p.png")
    sketch, color = load_pair(tmp_path / "p.png", 16, LIMIT)
    assert sketch.shape == color.shape == (16, 16, 3)
    assert (sketch == 250).all() and (color == 90).all()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF"])
def test_every_allowed_picture_format_decodes(tmp_path, fmt):
    picture = Image.fromarray(np.full((12, 24, 3), (200, 40, 40), np.uint8))
    array = load_rgb(save(picture, tmp_path / f"x.{fmt.lower()}", format=fmt), LIMIT)
    assert array.shape == (12, 24, 3)
    assert np.abs(array.astype(int) - (200, 40, 40)).max() <= 8  # JPEG and GIF round a little


def test_a_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), color) for color in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "two.gif", save_all=True, append_images=frames[1:])
    assert (load_rgb(tmp_path / "two.gif", LIMIT) == (255, 0, 0)).all()


@pytest.mark.parametrize(
    "name, header, reason",
    [
        ("payload.eps", "%!PS-Adobe-3.0 EPSF-3.0", "PostScript (EPS or PS) is not an allowed picture format"),
        ("payload.ps", "%!PS", "PostScript (EPS or PS) is not an allowed picture format"),
        ("payload.png", "%!PS-Adobe-3.0 EPSF-3.0", "PostScript (EPS or PS) is not an allowed picture format"),
    ],
)
def test_postscript_is_refused_by_name_and_never_runs(tmp_path, name, header, reason):
    from reliability.hostile_files import postscript

    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    sentinel = tmp_path / "pwn"
    payload = postscript(sentinel, secret, header)
    (tmp_path / name).write_bytes(payload)
    for source in (tmp_path / name, io.BytesIO(payload)):
        with pytest.raises(BadImage, match=re.escape(reason)):
            load_rgb(source, LIMIT)
        with pytest.raises(BadImage, match=re.escape(reason)):
            load_rgba(source, LIMIT)
    assert not sentinel.exists() and not Path(f"{sentinel}.leak").exists()


@pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript is not installed (make system-deps)")
def test_the_postscript_payload_is_live_where_ghostscript_runs(tmp_path):
    """The control for the test above: Ghostscript itself, even in its SAFER mode, runs the payload,
    so a decoder that handed it over would write the sentinel and leak the secret."""
    from reliability.hostile_files import postscript

    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    sentinel = tmp_path / "pwn"
    (tmp_path / "payload.eps").write_bytes(postscript(sentinel, secret))
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=nullpage", str(tmp_path / "payload.eps")],
        check=False,
        capture_output=True,
        timeout=60,
    )
    assert sentinel.read_text() == "pwned"
    assert Path(f"{sentinel}.leak").read_text().startswith("top secret")


def test_other_formats_are_refused_by_name(tmp_path):
    from reliability.hostile_files import pdf_document

    cases = {
        "doc.pdf": (pdf_document(), "PDF is not an allowed picture format"),
        "layers.psd": (b"8BPS\x00\x01" + b"\x00" * 40, "PSD is not an allowed picture format"),
        "vector.svg": (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a readable image"),
    }
    for name, (data, reason) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(BadImage, match=re.escape(reason)) as refused:
            load_rgb(tmp_path / name, LIMIT)
        assert "allowed: PNG, JPEG, WEBP, BMP, TIFF, GIF" in str(refused.value)
