"""A quiet, quick command line: no TensorFlow or LiteRT log lines unless asked, no TensorFlow for TFLite,
and a bad request refused before any model loads.

The command runs as its own process, as a user starts it: the native
libraries' lines are written to file descriptor 2 while they load, which only
a real process's stderr shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketch2color.export.parity import FormatReport, Parity, Timing
from sketch2color.export.tool_format import choose_tool_format
from sketch2color.logs import LOG_LEVEL_VARIABLE, native_logs_below_level_hidden, native_record_level

from tiny_generators import SIZE, identity_generator, save_identity

FORMATS = ("keras", "savedmodel", "tflite")


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> dict[str, Path]:
    from sketch2color.export import formats

    folder = tmp_path_factory.mktemp("models")
    savedmodel = folder / "savedmodel"
    formats.write_savedmodel(identity_generator(), SIZE, "eval", savedmodel)
    tflite = folder / "generator_float32.tflite"
    formats.write_tflite(savedmodel, tflite, "float32")
    return {"keras": save_identity(folder / "identity.keras"), "savedmodel": savedmodel, "tflite": tflite}


@pytest.fixture
def sketch(tmp_path) -> Path:
    image = np.full((48, 40, 3), 255, np.uint8)
    image[10:12, :] = 0
    path = tmp_path / "sketch.png"
    Image.fromarray(image).save(path)
    return path


def user_env(**extra: str) -> dict[str, str]:
    """A user's environment: none of the test suite's own TensorFlow or log settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", LOG_LEVEL_VARIABLE)}
    return {**env, **extra}


def colorize(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``sketch2color colorize ARGS`` in a fresh process, which then prints the heavy runtimes it loaded."""
    code = (
        "import sys; from sketch2color.cli import main; rc = main(sys.argv[1:]); "
        "print(' '.join(m for m in ('tensorflow', 'keras', 'mlflow') if m in sys.modules)); sys.exit(rc)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "colorize", *args],
        cwd=cwd,
        env=env or user_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("kind", FORMATS)
def test_a_plain_colorize_prints_only_its_own_lines_whichever_format(kind, model_files, sketch, tmp_path):
    done = colorize([str(sketch), "-o", "out.png", "--model", str(model_files[kind])], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("model: ") and lines[1].startswith("coloured 1 of 1 sketch files")
    loaded = done.stdout.split()
    assert ("tensorflow" in loaded) == (kind != "tflite"), "TFLite runs on LiteRT, without TensorFlow"


@pytest.mark.parametrize(("kind", "how"), [("savedmodel", "-v"), ("tflite", "INFO")])
def test_verbose_or_the_log_level_shows_the_native_libraries_lines(kind, how, model_files, sketch, tmp_path):
    args = [str(sketch), "-o", "out.png", "--model", str(model_files[kind])]
    if how == "-v":
        done = colorize([*args, "-v"], tmp_path)
    else:
        done = colorize(args, tmp_path, user_env(**{LOG_LEVEL_VARIABLE: how}))
    assert done.returncode == 0, done.stderr
    native = [line for line in done.stderr.splitlines() if native_record_level(line)]
    assert native, done.stderr
    assert done.stderr.splitlines()[-1].startswith("coloured 1 of 1")


def test_a_bad_log_level_is_named(model_files, sketch, tmp_path):
    env = user_env(**{LOG_LEVEL_VARIABLE: "loud"})
    done = colorize([str(sketch), "-o", "out.png", "--model", str(model_files["tflite"])], tmp_path, env)
    assert done.returncode == 1 and f"{LOG_LEVEL_VARIABLE}='loud'" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.png", "-o", "out.png"], "missing.png: skipped: no such file"),
        (["SKETCH", "-o", "SKETCH/out.png"], "is a file, not a folder"),
        (["SKETCH", "-o", "out.png", "--hints", "nohints.png"], "--hints nohints.png: no such file"),
        (["SKETCH", "-o", "out.png", "--layers", "SKETCH"], "is a file; layers go into a folder"),
    ],
)
def test_a_bad_request_is_refused_before_any_model_loads(args, message, model_files, sketch, tmp_path):
    args = [str(sketch) if a == "SKETCH" else a.replace("SKETCH", str(sketch)) for a in args]
    done = colorize([*args, "--model", str(model_files["savedmodel"])], tmp_path)
    assert done.returncode == 1 and message in done.stderr, done.stderr
    assert "model:" not in done.stderr and "tensorflow" not in done.stdout.split()
    assert not (tmp_path / "out.png").exists()


def test_a_registered_model_is_as_quiet(model_files, sketch, tmp_path, new_mlflow_store):
    """``--model models:/...`` reads the colorizer through MLflow, which imported the served model's
    module and printed its "Add type hints" warning."""
    import contextlib

    from sketch2color.export.registration import log_and_register

    from helpers import mlflow_store_with_run

    store = tmp_path / "store"
    store.mkdir()
    with contextlib.chdir(store):  # a new store's Default experiment keeps its files in ./mlruns
        uri, _, run_id = mlflow_store_with_run(new_mlflow_store(store), "registered")
        log_and_register(run_id, model_files["keras"], "eval", "sketch2color-generator", uri)
    args = [str(sketch), "-o", "out.png", "--model", "models:/sketch2color-generator/latest"]
    done = colorize(args, tmp_path, user_env(MLFLOW_TRACKING_URI=uri))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 3, done.stderr
    assert "version 1 of sketch2color-generator" in lines[0] and lines[1].startswith("model: ")


def test_importing_the_served_model_prints_no_mlflow_warning(tmp_path):
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", "import sketch2color.serving"],
        cwd=tmp_path,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


# ---------------------------------------------------------------- the fd-level filter itself


ABSL_INFO = "I0000 00:00:1796214564.551858   12021 port.cc:153] oneDNN custom operations are on.\n"
ABSL_ERROR = "E0000 00:00:1796214564.551858   12021 loader.cc:10] could not read the file\n"
TFLITE_INFO = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"


def test_native_records_below_the_level_are_dropped_and_everything_else_kept(capfd, monkeypatch):
    monkeypatch.delenv(LOG_LEVEL_VARIABLE, raising=False)
    with native_logs_below_level_hidden():
        for line in (PREAMBLE, ABSL_INFO, TFLITE_INFO, ABSL_ERROR, "a line of our own\n"):
            os.write(2, line.encode())
        print("python's own stderr", file=sys.stderr)
    err = capfd.readouterr().err
    assert err.replace("python's own stderr\n", "") == ABSL_ERROR + "a line of our own\n"
    assert "python's own stderr\n" in err

    monkeypatch.setenv(LOG_LEVEL_VARIABLE, "WARNING")
    with native_logs_below_level_hidden():
        os.write(2, (PREAMBLE + ABSL_INFO + TFLITE_INFO).encode())
    assert capfd.readouterr().err == PREAMBLE


def test_when_loading_fails_every_captured_line_is_shown(capfd, monkeypatch):
    monkeypatch.delenv(LOG_LEVEL_VARIABLE, raising=False)
    with pytest.raises(RuntimeError), native_logs_below_level_hidden():
        os.write(2, (ABSL_INFO + TFLITE_INFO).encode())
        raise RuntimeError("the library did not load")
    assert capfd.readouterr().err == ABSL_INFO + TFLITE_INFO


# ---------------------------------------------------------------- which format the tools load


def report(max_diff: int, mean_diff: float, agrees: bool | None = True) -> FormatReport:
    parity = Parity(max_abs_diff=max_diff, mean_abs_diff=mean_diff, ssim_vs_keras=0.999, agrees=agrees)
    return FormatReport("x", 1, parity, Timing(5.0, 6.0, 100.0, 8))


def test_the_tools_load_the_first_picture_soonest_with_kerass_picture():
    reports = {
        "savedmodel": report(1, 0.00001),
        "tflite_float32": report(1, 0.00001),
        "tflite_float16": report(1, 0.003),
    }
    # Start-up decides, not the few milliseconds per image the SavedModel saves.
    times = {"savedmodel": 7.4, "tflite_float32": 0.52, "tflite_float16": 0.47}
    assert choose_tool_format(reports, times) == "tflite_float32"  # as quick, within noise; closer picture
    assert choose_tool_format(reports, {**times, "tflite_float16": 0.2}) == "tflite_float16"
    # A picture off by more than rounding is not offered while an exact one runs.
    reports["tflite_float16"] = report(4, 0.4)
    assert choose_tool_format(reports, {**times, "tflite_float16": 0.1}) == "tflite_float32"
    # A format whose fresh colorize failed, or that disagrees with Keras, is never chosen.
    assert choose_tool_format(reports, {**times, "tflite_float32": None}) == "savedmodel"
    reports["tflite_float32"] = report(200, 90.0, agrees=False)
    assert choose_tool_format(reports, times) == "savedmodel"
    assert choose_tool_format({"tflite_float32": report(200, 90.0, agrees=False)}, times) is None
    # No exact picture at all: the quickest of those that agree.
    inexact = {"savedmodel": report(3, 0.2), "tflite_float16": report(4, 0.4)}
    assert choose_tool_format(inexact, times) == "tflite_float16"
