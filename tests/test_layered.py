"""Layered output for paint programs: OpenRaster, PSD and a folder of PNGs, read back as a program would.

The files are written by the real command with a tiny model of known answer
(the identity model colours a sketch as the sketch itself, so the flat colour
is known: the paper stays paper, the red block stays red) and read back with
the standard library's zip and XML readers, Pillow and psd-tools. The
round trip through Krita itself runs when Krita is installed.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PIL import Image

from sketch2color.cli import main
from sketch2color.inference.compose import compose_layers
from sketch2color.layered import composite, paint_stack
from sketch2color.layered.stack import line_art_layer

from tiny_generators import RED, save_hint_identity, save_identity

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BLUE_DAB = (30, 90, 220)
LAYERS_TOP_FIRST = ["Dabs", "Line art", "Flat colour", "Paper"]


@pytest.fixture(scope="module")
def identity(tmp_path_factory) -> Path:
    return save_identity(tmp_path_factory.mktemp("models") / "identity.keras")


def drawing(height: int = 90, width: int = 140) -> np.ndarray:
    """White paper, a closed black box holding a red block, and a grey stroke outside it."""
    image = np.full((height, width, 3), 255, np.uint8)
    image[10:13, 10:100] = image[70:73, 10:100] = 0
    image[10:73, 10:13] = image[10:73, 97:100] = 0
    image[25:55, 30:80] = RED
    image[80:83, 110:135] = 128  # a grey line: half its ink
    return image


def save(path: Path, array: np.ndarray) -> Path:
    Image.fromarray(array).save(path)
    return path


def rgba_png(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.mode == "RGBA", image.mode
    return np.asarray(image)


# ---------------------------------------------------------------- the stack itself


def test_the_line_art_layer_is_the_sketch_over_white_and_its_multiply_over_any_colour():
    rng = np.random.default_rng(3)
    sketch = rng.integers(0, 256, (60, 60, 3), dtype=np.uint8)
    sketch[:30] = sketch[:30, :, :1]  # the top half grey, as most line art is
    layer = line_art_layer(sketch).astype(float)
    alpha, ink = layer[..., 3:] / 255, layer[..., :3]
    color = rng.integers(0, 256, (60, 60, 3)).astype(float)
    over_white = ink * alpha + 255 * (1 - alpha)
    assert np.abs(over_white - sketch).max() <= 0.5 + 1e-9  # the sketch, to rounding
    multiplied = color * (1 - alpha + alpha * ink / 255)  # multiply, with the layer's alpha
    assert np.abs(multiplied - color * sketch / 255).max() <= 0.5 + 1e-9
    plain = ink * alpha + color * (1 - alpha)  # a program that ignores the blend mode
    assert np.abs(plain - color * sketch / 255)[:30].max() < 1e-9  # grey ink: exactly the same
    assert (layer[..., 3][sketch.min(axis=-1) == 255] == 0).all()  # white paper is transparent


def test_the_stack_shows_the_picture_with_the_paper_transparent_in_the_colour_layer():
    sketch = drawing()
    model_colour = np.full((16, 16, 3), 255, np.uint8)
    model_colour[4:10, 3:11] = (200, 120, 40)
    hints = np.zeros((*sketch.shape[:2], 4), np.uint8)
    hints[40:46, 40:46] = (*BLUE_DAB, 255)
    layers = compose_layers(sketch, model_colour, hints)
    stack = paint_stack(layers)

    assert [layer.name for layer in stack] == LAYERS_TOP_FIRST[::-1]
    assert [layer.blend for layer in stack] == ["normal", "normal", "multiply", "normal"]
    assert [layer.visible for layer in stack] == [True, True, True, False]
    flat = stack[1].rgba
    assert (flat[..., 3][layers.paper] == 0).all() and (flat[..., 3][~layers.paper] == 255).all()
    assert layers.paper[:, 120:125].all() and not layers.paper[30:50, 35:85].any()
    merged = composite(stack)
    assert np.array_equal(merged[~layers.paper], layers.picture[~layers.paper])
    assert (merged[layers.paper] == sketch[layers.paper]).all()  # white paper under the line art
    assert np.array_equal(stack[3].rgba, hints)  # the dabs as painted


# ---------------------------------------------------------------- through the command


def colorize(*args: str) -> int:
    return main(["colorize", *map(str, args)])


def test_an_ora_file_holds_the_layers_in_order_and_reads_back(tmp_path, capsys):
    model = save_hint_identity(tmp_path / "hint.keras")  # a hint model that colours as the sketch
    sketch = save(tmp_path / "drawing.png", drawing())
    target = tmp_path / "out" / "drawing.ora"
    assert colorize(sketch, "-o", target, "--model", model, "--hint", "20,62,#1e5adc") == 0, (
        capsys.readouterr()
    )
    flat_png = tmp_path / "drawing.png.png"
    assert colorize(sketch, "-o", flat_png, "--model", model, "--hint", "20,62,#1e5adc") == 0

    with zipfile.ZipFile(target) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"image/openraster"
        image = ElementTree.fromstring(archive.read("stack.xml"))
        assert (image.get("w"), image.get("h")) == ("140", "90")
        layers = image.find("stack").findall("layer")
        assert [layer.get("name") for layer in layers] == LAYERS_TOP_FIRST
        assert [layer.get("visibility") for layer in layers] == ["hidden", "visible", "visible", "visible"]
        assert layers[1].get("composite-op") == "svg:multiply"
        pixels = {layer.get("name"): rgba_png(archive.read(layer.get("src"))) for layer in layers}
        merged = np.asarray(Image.open(io.BytesIO(archive.read("mergedimage.png"))).convert("RGB"))
        thumbnail = Image.open(io.BytesIO(archive.read("Thumbnails/thumbnail.png")))

    assert all(p.shape == (90, 140, 4) for p in pixels.values())
    assert (pixels["Paper"] == 255).all()
    flat = pixels["Flat colour"]
    assert tuple(flat[65, 50]) == (*BLUE_DAB, 255)  # the dab filled its closed shape (the box, red apart)
    assert flat[40, 50, 0] > 220 and flat[40, 50, 1:3].max() < 60  # the identity model: the red stays
    assert flat[5, 120, 3] == 0 and flat[85, 5, 3] == 0  # the paper around the drawing: transparent
    line_art = pixels["Line art"]
    assert tuple(line_art[11, 50]) == (0, 0, 0, 255) and line_art[5, 5, 3] == 0
    assert tuple(line_art[81, 120]) == (0, 0, 0, 127)  # the grey stroke: black ink at half alpha
    dabs = pixels["Dabs"]
    assert tuple(dabs[62, 20]) == (*BLUE_DAB, 255) and dabs[5, 5, 3] == 0
    picture = np.asarray(Image.open(flat_png))
    off_paper = flat[..., 3] == 255
    assert np.array_equal(merged[off_paper], picture[off_paper])  # the picture the command writes as .png
    assert thumbnail.size == (140, 90)  # never enlarged; at most 256 px


def test_a_psd_reads_back_with_psd_tools_layer_for_layer(tmp_path, identity, capsys):
    from psd_tools import PSDImage
    from psd_tools.constants import BlendMode

    sketch = save(tmp_path / "drawing.png", drawing())
    target, ora = tmp_path / "drawing.psd", tmp_path / "drawing.ora"
    assert colorize(sketch, "-o", target, "--model", identity) == 0, capsys.readouterr()
    assert colorize(sketch, "-o", ora, "--model", identity) == 0

    document = PSDImage.open(target)
    assert document.size == (140, 90)
    assert [layer.name for layer in document] == LAYERS_TOP_FIRST[:0:-1]  # bottom first; no dabs given
    assert document[2].blend_mode == BlendMode.MULTIPLY and all(layer.visible for layer in document)
    with zipfile.ZipFile(ora) as archive:
        for layer, source in zip(
            document, ["data/layer0.png", "data/layer1.png", "data/layer2.png"], strict=True
        ):
            expected = rgba_png(archive.read(source))
            got = np.rint(layer.numpy() * 255).astype(np.uint8)
            assert layer.size == (140, 90) and np.array_equal(got, expected), layer.name
        merged = np.asarray(Image.open(io.BytesIO(archive.read("mergedimage.png"))).convert("RGB"))
    flat = document[1].numpy()
    assert flat[40, 50, 3] == 1.0 and flat[40, 50, 0] > 0.85 > 0.25 > flat[40, 50, 1:3].max()  # red
    assert flat[5, 120, 3] == 0.0  # paper: transparent
    shown = np.asarray(document.composite().convert("RGB")).astype(int)
    assert np.abs(shown - merged).max() <= 1  # psd-tools composites the stack as the .ora's merged image


def test_layers_folder_holds_one_png_with_alpha_per_layer(tmp_path, identity):
    sketch = save(tmp_path / "drawing.png", drawing())
    out, layers = tmp_path / "drawing_color.png", tmp_path / "layers"
    assert colorize(sketch, "-o", out, "--model", identity, "--layers", layers) == 0
    names = sorted(p.name for p in layers.iterdir())
    assert names == ["1-paper.png", "2-flat-colour.png", "3-line-art.png"]
    line_art = np.asarray(Image.open(layers / "3-line-art.png"))
    assert line_art.shape == (90, 140, 4) and line_art[5, 5, 3] == 0 and line_art[11, 50, 3] == 255

    folder, out_folder = tmp_path / "sketches", tmp_path / "coloured"
    folder.mkdir()
    save(folder / "a.png", drawing())
    (folder / "inner").mkdir()
    save(folder / "inner" / "b.png", drawing(40, 50))
    assert colorize(folder, "-o", out_folder, "--model", identity, "--layers", tmp_path / "all") == 0
    assert (tmp_path / "all" / "a" / "2-flat-colour.png").is_file()
    assert Image.open(tmp_path / "all" / "inner" / "b" / "1-paper.png").size == (50, 40)


def test_an_extension_that_cannot_be_written_is_named_and_no_folder_is_made(tmp_path, identity, capsys):
    sketch = save(tmp_path / "drawing.png", drawing())
    for name in ("picture.tga", "picture.kra", "picture.PSD2"):
        assert colorize(sketch, "-o", tmp_path / name, "--model", identity) == 1
        error = capsys.readouterr().err
        assert Path(name).suffix.lower() in error and ".ora" in error
        assert not (tmp_path / name).exists()
    folder = tmp_path / "sketches"
    folder.mkdir()
    save(folder / "a.png", drawing())
    assert colorize(folder, "-o", tmp_path / "x.psd", "--model", identity) == 1
    assert "-o FOLDER" in capsys.readouterr().err and not (tmp_path / "x.psd").exists()
    assert colorize(sketch, "-o", tmp_path / "x.ora", "--model", identity, "--output", "raw") == 1
    assert "--output raw" in capsys.readouterr().err and not (tmp_path / "x.ora").exists()
    assert colorize(sketch, "-o", tmp_path / "Picture.PSD", "--model", identity) == 0  # any case


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("krita") is None, reason="Krita is not installed (Debian package: krita)")
def test_krita_opens_the_ora_and_the_psd_with_their_layers(tmp_path):
    """Krita itself reads both files: its render of each is the merged image, its own ORA the stack."""
    from gui_screen import virtual_display

    sketch = drawing()
    hints = np.zeros((*sketch.shape[:2], 4), np.uint8)
    hints[40:46, 40:46] = (*BLUE_DAB, 255)
    stack = paint_stack(compose_layers(sketch, np.full((16, 16, 3), 230, np.uint8), hints))
    from sketch2color.layered.openraster import write_openraster
    from sketch2color.layered.psd import write_psd

    write_openraster(stack, tmp_path / "a.ora")
    write_psd(stack, tmp_path / "a.psd")
    merged = composite(stack)
    env = {**os.environ, "HOME": str(tmp_path / "home")}  # Krita writes its settings there
    with virtual_display() as screen:
        for name in ("a.ora", "a.psd"):
            for out in (f"{name}.png", f"{name}.krita.ora"):
                subprocess.run(
                    ["krita", str(tmp_path / name), "--export", "--export-filename", str(tmp_path / out)],
                    env={**env, "DISPLAY": screen},
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
            shown = np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB"))
            assert np.abs(shown.astype(int) - merged).max() <= 1, name
            with zipfile.ZipFile(tmp_path / f"{name}.krita.ora") as archive:
                layers = ElementTree.fromstring(archive.read("stack.xml")).find("stack").findall("layer")
            assert [layer.get("name") for layer in layers] == LAYERS_TOP_FIRST, name
            assert layers[0].get("visibility") == "hidden" and layers[1].get("composite-op") == "svg:multiply"
