"""The colorize command: any size and pixel format in, same size out; bad files and unsafe models.

The tiny models have known answers (identity, pure red), so tests that check
pixel formats and geometry through them ask for ``--output raw``: the model's
square stretched back, with nothing laid over it. The line-faithful default
is checked on its own below.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketch2color.cli import main
from sketch2color.colorize import plan_jobs
from sketch2color.inference import InferenceError, ModelLoadError
from sketch2color.inference.backends import open_model
from sketch2color.inference.compose import line_faithful
from sketch2color.inference.geometry import fit_to_square, restore_from_square
from sketch2color.inference.selection import choose_backend
from sketch2color.paths import ProjectPaths

from tiny_generators import (
    RED,
    SIZE,
    identity_generator,
    save_hint_echo,
    save_identity,
    save_lambda_model,
    save_pickle_payload,
    save_red,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {
        "identity": save_identity(folder / "identity.keras"),
        "red": save_red(folder / "red.keras"),
        "lambda": save_lambda_model(folder / "lambda.keras"),
    }


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """The identity generator exported by the export stage's own writers: SavedModel and TFLite."""
    formats = pytest.importorskip("sketch2color.export.formats", reason="the export stage is not there")
    folder = tmp_path_factory.mktemp("export")
    savedmodel = folder / "savedmodel"
    formats.write_savedmodel(identity_generator(), SIZE, "eval", savedmodel)
    tflite = folder / "generator_float32.tflite"
    formats.write_tflite(savedmodel, tflite, "float32")
    return {"savedmodel": savedmodel, "tflite": tflite}


def save_image(path: Path, array: np.ndarray) -> Path:
    """PIL picks the mode from the array: 2-D uint8 is L, 2-D uint16 is I;16, HxWx4 is RGBA."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def read(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def marked_rgb(height: int, width: int) -> np.ndarray:
    """Light grey with a dark top-left block and a pure red bottom-right block."""
    image = np.full((height, width, 3), 200, np.uint8)
    image[: height // 3, : width // 3] = 0
    image[-(height // 3) :, -(width // 3) :] = RED
    return image


# ---------------------------------------------------------------- geometry


@pytest.mark.parametrize("shape", [(37, 53), (53, 37), (1, 1), (5, 200), (32, 32), (300, 90)])
def test_fit_then_restore_keeps_size_and_content_place(shape):
    image = marked_rgb(*shape) if min(shape) >= 3 else np.zeros((*shape, 3), np.uint8)
    square, placement = fit_to_square(image, SIZE)
    assert square.shape == (SIZE, SIZE, 3) and square.dtype == np.uint8
    restored = restore_from_square(square, placement)
    assert restored.shape == image.shape
    if min(shape) >= 24:  # big enough for the blocks to survive two resizes
        assert restored[2, 2].max() < 60  # dark block still top-left: no flip or transpose
        assert tuple(restored[-2, -2]) == pytest.approx(RED, abs=40)


def test_fit_pads_a_wide_image_with_white_above_and_below():
    square, placement = fit_to_square(np.zeros((10, 40, 3), np.uint8), SIZE)
    assert (placement.inner_height, placement.inner_width) == (8, 32)
    assert (square[: placement.top] == 255).all() and (square[placement.top + 8 :] == 255).all()
    assert (square[placement.top : placement.top + 8] == 0).all()


# ---------------------------------------------------------------- files of any kind


def test_odd_sizes_and_pixel_formats_come_back_at_their_own_size(tmp_path, models, capsys):
    rgba = np.zeros((20, 30, 4), np.uint8)  # fully transparent ...
    rgba[8:12, 12:18] = (255, 0, 0, 255)  # ... except an opaque red dot
    inputs = tmp_path / "in"
    save_image(inputs / "rgb.png", marked_rgb(37, 53))
    save_image(inputs / "grey.png", np.full((41, 23), 90, np.uint8))
    save_image(inputs / "transparent.png", rgba)
    save_image(inputs / "deep.png", np.full((17, 29), 40000, np.uint16))
    Image.fromarray(marked_rgb(45, 45)).convert("P").save(inputs / "palette.png")
    save_image(inputs / "photo.jpg", marked_rgb(60, 33))

    assert Image.open(inputs / "deep.png").mode.startswith("I;16")
    assert Image.open(inputs / "palette.png").mode == "P"

    out = tmp_path / "out"
    rc = main(
        ["colorize", str(inputs), "-o", str(out), "--model", str(models["identity"]), "--output", "raw"]
    )

    assert rc == 0, capsys.readouterr().err
    assert read(out / "rgb.png").shape == (37, 53, 3)
    assert read(out / "grey.png").shape == (41, 23, 3)
    assert read(out / "deep.png").shape == (17, 29, 3)
    assert read(out / "palette.png").shape == (45, 45, 3)
    assert read(out / "photo.png").shape == (60, 33, 3)
    transparent = read(out / "transparent.png")
    assert transparent.shape == (20, 30, 3)
    assert (transparent[:3, :3] == 255).all() and (transparent[-3:, -3:] == 255).all()  # white, not black
    dot = transparent[9:11, 14:16].astype(int)
    assert (dot[..., 0] > 150).all() and (dot[..., 2] < 100).all()  # red stays red (RGB, not BGR)
    rgb = read(out / "rgb.png").astype(int)
    assert rgb[2, 2].max() < 60 and tuple(rgb[-2, -2]) == pytest.approx(RED, abs=40)
    assert abs(int(read(out / "grey.png")[20, 11, 0]) - 90) <= 2
    assert abs(int(read(out / "deep.png")[8, 14, 0]) - round(40000 / 257)) <= 2


def test_one_file_to_a_named_output_in_true_colors(tmp_path, models):
    sketch = save_image(tmp_path / "sketch.jpg", marked_rgb(50, 70))
    target = tmp_path / "result" / "coloured.png"

    assert (
        main(["colorize", str(sketch), "-o", str(target), "--model", str(models["red"]), "--output", "raw"])
        == 0
    )

    result = read(target)
    assert result.shape == (50, 70, 3)
    assert (result == RED).all()


def line_drawing(height: int, width: int) -> np.ndarray:
    """White paper, a black frame and a black vertical stroke: line art at a size the model never saw."""
    image = np.full((height, width, 3), 255, np.uint8)
    image[5:8, 5:-5] = image[-8:-5, 5:-5] = 0
    image[5:-5, 5:8] = image[5:-5, -8:-5] = 0
    image[5:-5, width // 2 - 1 : width // 2 + 2] = 0
    return image


def test_by_default_the_output_keeps_the_sketchs_own_lines_at_its_own_size(tmp_path, models):
    drawing = line_drawing(150, 230)  # not square, and far above the model's 32 px
    sketch = save_image(tmp_path / "drawing.png", drawing)
    faithful, stretched = tmp_path / "faithful.png", tmp_path / "stretched.png"
    assert main(["colorize", str(sketch), "-o", str(faithful), "--model", str(models["red"])]) == 0
    assert (
        main(
            ["colorize", str(sketch), "-o", str(stretched), "--model", str(models["red"]), "--output", "raw"]
        )
        == 0
    )

    result = read(faithful)
    assert result.shape == drawing.shape
    lines = drawing.min(axis=-1) == 0
    assert (result[lines] == 0).all()  # every line pixel is the sketch's own black
    assert (result[~lines] == RED).all()  # the model's colour everywhere else, up to the lines
    assert (read(stretched)[lines] == RED).all()  # the raw output has lost the lines entirely


def test_color_stops_at_a_line_instead_of_bleeding_across_it():
    sketch = line_drawing(120, 120)
    # The model's colour at its own small size: red left of the stroke, blue right of it, the two
    # blended over the middle columns, as a small generator's colour blurs across a line.
    small = np.zeros((16, 16, 3), np.uint8)
    ramp = np.clip((np.arange(16) - 5.5) / 5, 0, 1)
    small[..., 0] = np.round(255 * (1 - ramp))
    small[..., 2] = np.round(255 * ramp)
    result = line_faithful(sketch, small).astype(int)
    middle = 60
    left, right = result[20:100, middle - 4], result[20:100, middle + 4]  # 3 px beside the stroke
    assert (left[:, 0] > 200).all() and (left[:, 2] < 60).all()  # red up to the line
    assert (right[:, 2] > 200).all() and (right[:, 0] < 60).all()  # blue from the line on
    bicubic = restore_from_square(*fit_to_square(small, 16))  # the same colour, just upsampled
    plain = np.asarray(Image.fromarray(bicubic).resize((120, 120), Image.BICUBIC)).astype(int)
    assert (plain[20:100, middle - 4, 2] > 60).any()  # which would have bled blue across


def test_the_layers_make_the_picture_and_leave_the_paper_transparent():
    from sketch2color.inference.compose import compose_layers

    sketch = line_drawing(120, 120)
    small = np.full((16, 16, 3), 255, np.uint8)
    small[:, :8] = RED  # the model colours the left half, leaves the right half paper
    hints = np.zeros((60, 60, 4), np.uint8)  # at half the sketch's size: scaled with it
    hints[30:34, 40:44] = (0, 90, 200, 255)
    layers = compose_layers(sketch, small, hints)
    assert np.array_equal(layers.picture, line_faithful(sketch, small, hints))
    assert layers.flat.shape == sketch.shape and layers.hints.shape == (120, 120, 4)
    assert layers.paper[:, 116:].all()  # the paper beside the drawing
    assert not layers.paper[10:110, 10:50].any()  # the model's red
    assert (layers.flat[10:110, 64:110] == (0, 90, 200)).all()  # the dab filled its closed shape
    lines = sketch.min(axis=-1) < 128
    assert (layers.picture[lines] == sketch[lines]).all()  # the line art stays its own over any colour


def test_folder_with_bad_files_colors_the_good_ones_and_names_the_bad(tmp_path, models):
    inputs = tmp_path / "sketches"
    save_image(inputs / "a.png", marked_rgb(31, 47))
    save_image(inputs / "nested" / "b.png", marked_rgb(64, 20))
    save_image(inputs / "nested" / "deeper" / "c.jpg", marked_rgb(33, 33))
    (inputs / "empty.png").write_bytes(b"")
    (inputs / "nested" / "text.png").write_text("this is not an image")
    whole = (inputs / "nested" / "deeper" / "c.jpg").read_bytes()
    (inputs / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    (inputs / "notes.txt").write_text("not a sketch, not an image name: ignored")
    out = tmp_path / "out"

    # The real console entry point, as a user or a script runs it.
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sketch2color.cli",
            "colorize",
            str(inputs),
            "-o",
            str(out),
            "--model",
            str(models["identity"]),
            "--batch-size",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )

    assert completed.returncode == 1, completed.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["a.png", "nested/b.png", "nested/deeper/c.png"]
    assert read(out / "nested" / "b.png").shape == (64, 20, 3)
    errors = [line for line in completed.stderr.splitlines() if "skipped" in line]
    assert len(errors) == 3
    assert any("empty.png" in line and "empty file" in line for line in errors)
    assert any("text.png" in line and "not a readable image" in line for line in errors)
    assert any("truncated.jpg" in line and "truncated" in line for line in errors)
    assert "coloured 3 of 6" in completed.stderr


def test_output_folder_inside_the_input_folder_is_not_read_back(tmp_path, models):
    inputs = tmp_path / "sketches"
    save_image(inputs / "a.png", marked_rgb(20, 20))
    args = ["colorize", str(inputs), "-o", str(inputs / "coloured"), "--model", str(models["identity"])]
    assert main(args) == 0
    assert main(args) == 0  # a second run must not colour its own outputs
    assert sorted(p.name for p in (inputs / "coloured").rglob("*.png")) == ["a.png"]


def test_names_that_collide_in_the_output_are_both_kept(tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("x.png", "x.jpg"):
        (tmp_path / "in" / name).write_bytes(b"-")
    jobs, failures = plan_jobs([tmp_path / "in"], tmp_path / "out")
    assert not failures
    assert sorted(job.target.name for job in jobs) == ["x.png", "x_png.png"]


def test_several_inputs_need_an_output_folder(tmp_path, models, capsys):
    a = save_image(tmp_path / "a.png", marked_rgb(20, 20))
    b = save_image(tmp_path / "b.png", marked_rgb(20, 20))
    assert (
        main(["colorize", str(a), str(b), "-o", str(tmp_path / "out.png"), "--model", str(models["red"])])
        == 1
    )
    assert "-o" in capsys.readouterr().err and not (tmp_path / "out.png").exists()


def test_a_missing_input_and_an_empty_folder_are_reported(tmp_path, models, capsys):
    good = save_image(tmp_path / "good.png", marked_rgb(20, 20))
    (tmp_path / "empty").mkdir()
    rc = main(
        [
            "colorize",
            str(good),
            str(tmp_path / "missing.png"),
            str(tmp_path / "empty"),
            "-o",
            str(tmp_path / "out"),
            "--model",
            str(models["red"]),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 1
    assert "missing.png: skipped: no such file" in err and "empty: skipped: no image files" in err
    assert (tmp_path / "out" / "good.png").is_file()


# ---------------------------------------------------------------- untrusted models


def test_a_lambda_layer_model_is_refused(tmp_path, models, capsys):
    sketch = save_image(tmp_path / "s.png", marked_rgb(20, 20))
    with pytest.raises(ModelLoadError, match="refused"):
        open_model(models["lambda"])
    rc = main(["colorize", str(sketch), "-o", str(tmp_path / "o.png"), "--model", str(models["lambda"])])
    err = capsys.readouterr().err
    assert rc == 1
    assert "lambda.keras" in err and "refused" in err and "safe_mode" in err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("name", ["payload.keras", "payload.pkl", "payload.h5"])
def test_a_pickle_is_never_unpickled(tmp_path, name, capsys):
    marker = tmp_path / "pwned"
    model = save_pickle_payload(tmp_path / name, marker)
    sketch = save_image(tmp_path / "s.png", marked_rgb(20, 20))
    rc = main(["colorize", str(sketch), "-o", str(tmp_path / "o.png"), "--model", str(model)])
    err = capsys.readouterr().err
    assert rc == 1 and name in err
    assert "not a loadable Keras generator" in err or "unsupported model file" in err
    assert not marker.exists()


def test_random_bytes_are_not_a_model(tmp_path):
    junk = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    for name in ("junk.keras", "junk.tflite"):
        (tmp_path / name).write_bytes(junk)
        with pytest.raises(ModelLoadError, match=name):
            open_model(tmp_path / name)
    (tmp_path / "notamodel").mkdir()
    with pytest.raises(ModelLoadError, match="not a SavedModel"):
        open_model(tmp_path / "notamodel")


# ---------------------------------------------------------------- exported formats


@pytest.mark.parametrize("kind", ["savedmodel", "tflite"])
def test_exported_formats_color_like_the_keras_model(tmp_path, exports, kind):
    image = marked_rgb(27, 41)
    sketch = save_image(tmp_path / "s.png", image)
    backend = open_model(exports[kind])
    assert backend.input_size == SIZE
    assert main(["colorize", str(sketch), "-o", str(tmp_path / "o.png"), "--model", str(exports[kind])]) == 0
    via_keras = tmp_path / "k.png"
    keras_model = save_identity(tmp_path / "identity.keras")
    assert main(["colorize", str(sketch), "-o", str(via_keras), "--model", str(keras_model)]) == 0
    difference = np.abs(read(tmp_path / "o.png").astype(int) - read(via_keras).astype(int))
    assert difference.max() <= 2


def test_exported_model_refuses_a_different_inference_mode(tmp_path, exports):
    with pytest.raises(InferenceError, match="fixed at export"):
        choose_backend(exports["tflite"], ProjectPaths(tmp_path), "train_dropout", print)


def _project(tmp_path: Path, models: dict[str, Path], exports: dict[str, Path]) -> ProjectPaths:
    paths = ProjectPaths(tmp_path / "project")
    export = paths.models / "export"
    export.mkdir(parents=True)
    shutil.copy(models["identity"], paths.models / "generator.keras")
    shutil.copytree(exports["savedmodel"], export / "savedmodel")
    shutil.copy(exports["tflite"], export / "generator_float32.tflite")
    shutil.copy(exports["tflite"], export / "generator_float16.tflite")
    paths.metrics.mkdir()
    return paths


def test_the_exports_default_is_chosen_with_keras_as_fallback(tmp_path, models, exports):
    paths = _project(tmp_path, models, exports)
    notes: list[str] = []

    # Nothing says: TFLite first (LiteRT starts in well under a second, TensorFlow in several).
    assert choose_backend(None, paths, None, notes.append).path.name == "generator_float32.tflite"

    # An export made before `default` existed names only the fastest per image.
    (paths.metrics / "export.json").write_text(json.dumps({"fastest": "tflite_float16"}))
    assert choose_backend(None, paths, None, notes.append).path.name == "generator_float16.tflite"
    (paths.metrics / "export.json").write_text(
        json.dumps({"fastest": "tflite_float16", "default": "savedmodel"})
    )
    assert choose_backend(None, paths, None, notes.append).format == "savedmodel"
    (paths.metrics / "export.json").write_text(json.dumps({"default": "tflite_float16"}))

    (paths.models / "export" / "generator_float16.tflite").write_bytes(b"torn file")
    chosen = choose_backend(None, paths, None, notes.append)
    assert chosen.path.name == "generator_float32.tflite" and any(
        "generator_float16.tflite" in n for n in notes
    )

    # The export folder's own manifest wins, and a format that disagreed with Keras is never used.
    (paths.models / "export" / "formats.json").write_text(
        json.dumps(
            {
                "default": "savedmodel",
                "usable": ["tflite_float32"],
                "inference_mode": "eval",
                "image_size": SIZE,
                "formats": {"savedmodel": "savedmodel", "tflite_float32": "generator_float32.tflite"},
            }
        )
    )
    chosen = choose_backend(None, paths, None, notes.append)
    assert chosen.path.name == "generator_float32.tflite"
    assert any("savedmodel" in n and "does not agree" in n for n in notes)

    assert choose_backend(None, paths, "train_dropout", notes.append).format == "keras"

    shutil.rmtree(paths.models / "export")
    assert choose_backend(None, paths, None, notes.append).format == "keras"

    (paths.models / "generator.keras").unlink()
    with pytest.raises(ModelLoadError, match="dvc repro"):
        choose_backend(None, paths, None, notes.append)


# ---------------------------------------------------------------- hints


def test_hints_from_a_file_and_from_points_reach_the_model_where_they_were_put(tmp_path):
    model = save_hint_echo(tmp_path / "echo.keras")
    sketch = save_image(tmp_path / "sketch.png", np.full((120, 200, 3), 255, np.uint8))
    hint_image = np.zeros((60, 100, 4), np.uint8)  # half the sketch's size: scaled with it
    hint_image[10:20, 60:80] = (30, 200, 40, 255)
    hints = save_image(tmp_path / "hints.png", hint_image)
    out = tmp_path / "out.png"
    rc = main(
        [
            "colorize",
            str(sketch),
            "-o",
            str(out),
            "--model",
            str(model),
            "--output",
            "raw",
            "--hints",
            str(hints),
            "--hint",
            "30,90,#d22f27",
            "--hint-radius",
            "8",
        ]
    )
    assert rc == 0
    result = read(out).astype(int)
    assert result.shape == (120, 200, 3)
    green = result[20:40, 120:160].reshape(-1, 3).mean(axis=0)  # the file's dab, scaled 2x
    red = result[85:95, 25:35].reshape(-1, 3).mean(axis=0)  # the point's dab
    assert green[1] > 120 and green[0] < 100, green
    assert red[0] > 120 and red[1] < 100, red
    assert result[100:, 150:].max() < 40  # no hint there: the echo model's black


def test_a_model_without_hint_channels_takes_dabs_in_the_picture(tmp_path, models):
    """The red Keras model has no hint inputs: the dab fills its square after the model."""
    drawing = np.full((80, 80, 3), 255, np.uint8)
    drawing[20:60, 20:23] = drawing[20:60, 57:60] = drawing[20:23, 20:60] = drawing[57:60, 20:60] = 0
    sketch = save_image(tmp_path / "box.png", drawing)
    out = tmp_path / "o.png"
    rc = main(
        ["colorize", str(sketch), "-o", str(out), "--model", str(models["red"]), "--hint", "40,40,#00ff00"]
    )
    assert rc == 0
    result = read(out)
    assert (result[25:55, 25:55] == (0, 255, 0)).all()  # the whole square, in the dab's colour
    outside = result[:15].reshape(-1, 3).mean(axis=0)
    assert outside[0] > 150 and outside[1] < 80, outside  # the model's red around it


def test_hints_are_parsed_strictly(tmp_path, models, capsys):
    sketch = save_image(tmp_path / "s.png", marked_rgb(20, 20))
    out = tmp_path / "o.png"
    with pytest.raises(SystemExit):
        main(["colorize", str(sketch), "-o", str(out), "--hint", "5;5;red"])
    assert "x,y,#rrggbb" in capsys.readouterr().err
    no_alpha = save_image(tmp_path / "flat.png", np.zeros((20, 20, 3), np.uint8))
    echo = save_hint_echo(tmp_path / "echo.keras")
    rc = main(["colorize", str(sketch), "-o", str(out), "--model", str(echo), "--hints", str(no_alpha)])
    assert rc == 1 and "no alpha channel" in capsys.readouterr().err
