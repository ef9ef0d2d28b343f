"""Untrusted model files are refused before any of their code runs (issue 6, section 5).

Every hostile model here carries a payload that creates a marker file if it
ever runs: a Lambda layer's stored bytecode, a pickle, a layer or activation
whose config names a module of ours lying next to the model (an import would
run it), and a Lambda whose config first tries to switch Keras' safe mode off.
A control test loads the Lambda model *without* safe_mode and sees the marker
appear, so the payloads are real and a missing marker means something.

``colorize`` runs as the real command (``python -m sketch2color.cli``) for
the canonical case and in-process (``cli.main``) for the others; the GUI
loads models in its worker through :func:`sketch2color.model_choice.choose_model`, which
opens a named file with :func:`sketch2color.inference.selection.choose_backend`,
called here directly (tests/test_gui.py drives the window itself
under Xvfb).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketch2color.cli import main
from sketch2color.inference import ModelLoadError
from sketch2color.inference.selection import choose_backend
from sketch2color.paths import ProjectPaths

from tiny_generators import SIZE, save_identity, save_pickle_payload

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PAYLOAD_MODULE = "payload_mod"


# ---------------------------------------------------------------- hostile models


def lambda_payload(path: Path, marker: Path) -> Path:
    """A Lambda layer whose function creates ``marker`` whenever it is called (also on load)."""
    import keras

    function = eval(f"lambda x: x + 0.0 * len(open({str(marker)!r}, 'w').name)")
    inputs = keras.Input((SIZE, SIZE, 3))
    keras.Model(inputs, keras.layers.Lambda(function)(inputs)).save(path)
    marker.unlink()  # building the model ran it once; from now on only a loader could
    return path


def _rewrite_config(source: Path, target: Path, edit) -> Path:
    with zipfile.ZipFile(source) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = edit(copy.deepcopy(json.loads(members["config.json"])))
    with zipfile.ZipFile(target, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, json.dumps(config) if name == "config.json" else data)
    return target


def module_layer(path: Path, marker: Path) -> Path:
    """A valid .keras file whose layer is a class from a module of the attacker's choosing."""
    base = save_identity(path.with_name("base_for_module_layer.keras"))

    def edit(config):
        layer = config["config"]["layers"][1]
        layer["module"], layer["class_name"] = PAYLOAD_MODULE, "Payload"
        return config

    return _rewrite_config(base, path, edit)


def module_activation(path: Path, marker: Path) -> Path:
    """A Conv2D whose activation is a function from a module of the attacker's choosing."""
    base = save_identity(path.with_name("base_for_module_activation.keras"))

    def edit(config):
        config["config"]["layers"][1]["config"]["activation"] = {
            "module": PAYLOAD_MODULE,
            "class_name": "function",
            "config": "payload",
            "registered_name": "function",
        }
        return config

    return _rewrite_config(base, path, edit)


def unsafe_switch_then_lambda(path: Path, marker: Path) -> Path:
    """A Lambda payload whose config first asks Keras to turn safe mode off."""
    base = lambda_payload(path.with_name("base_for_switch.keras"), marker)

    def edit(config):
        config["config"]["layers"][1]["config"]["arguments"] = {
            "switch": {
                "module": "keras.config",
                "class_name": "function",
                "config": "enable_unsafe_deserialization",
                "registered_name": "function",
            }
        }
        return config

    return _rewrite_config(base, path, edit)


def pickle_named_keras(path: Path, marker: Path) -> Path:
    return save_pickle_payload(path, marker)


HOSTILE = {
    "lambda_payload.keras": lambda_payload,
    "pickle_payload.keras": pickle_named_keras,
    "module_layer.keras": module_layer,
    "module_activation.keras": module_activation,
    "unsafe_switch.keras": unsafe_switch_then_lambda,
}


def write_payload_module(folder: Path, marker: Path) -> None:
    """A module beside the model that marks its import and its calls: if Keras imported it, we know."""
    (folder / f"{PAYLOAD_MODULE}.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "class Payload:\n    pass\n"
        f"def payload(x):\n    open({str(marker)!r}, 'w').close()\n    return x\n"
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, dict[str, Path], Path]:
    """(folder, model name -> path, marker); the folder also holds the payload module and a sketch."""
    folder = tmp_path_factory.mktemp("untrusted")
    marker = folder / "PAYLOAD_RAN"
    write_payload_module(folder, marker)
    models = {name: build(folder / name, marker) for name, build in HOSTILE.items()}
    sketch = folder / "sketch.png"
    Image.fromarray(np.full((20, 24, 3), 255, np.uint8)).save(sketch)
    assert not marker.exists()
    return folder, models, marker


@pytest.fixture(autouse=True)
def no_marker_yet(request):
    """Each test starts without the marker, so one test's failure cannot blur the next one's."""
    if "hostile" in request.fixturenames:
        request.getfixturevalue("hostile")[2].unlink(missing_ok=True)


@pytest.fixture
def payload_importable(hostile, monkeypatch):
    """The model's folder is the working folder and on sys.path, as with `python -m` run there."""
    folder, _, _ = hostile
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    yield
    sys.modules.pop(PAYLOAD_MODULE, None)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def assert_refused_naming(message: str, name: str) -> None:
    assert name in message
    assert "refused" in message or "not a loadable Keras generator" in message


# ---------------------------------------------------------------- the command line


def test_colorize_command_refuses_a_lambda_payload_and_never_runs_it(hostile):
    folder, models, marker = hostile
    out = folder / "out_cli.png"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "sketch2color.cli",
            "colorize",
            "sketch.png",
            "-o",
            str(out),
            "--model",
            str(models["lambda_payload.keras"]),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    [line] = error_lines(run.stderr)
    assert_refused_naming(line, "lambda_payload.keras")
    assert "safe_mode" in line
    assert not marker.exists() and not out.exists()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_colorize_refuses_every_hostile_model(hostile, payload_importable, capsys, name):
    folder, models, marker = hostile
    out = folder / f"out_{name}.png"
    code = main(["colorize", "sketch.png", "-o", str(out), "--model", str(models[name])])
    stderr = capsys.readouterr().err
    assert code == 1
    [line] = error_lines(stderr)
    assert_refused_naming(line, name)
    assert not marker.exists() and not out.exists()


def test_a_hostile_default_model_in_the_project_is_refused(
    hostile, payload_importable, capsys, tmp_path, monkeypatch
):
    """No --model: colorize (and the GUI) pick up models/generator.keras; that file is untrusted too."""
    folder, models, marker = hostile
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "models" / "generator.keras").write_bytes(models["lambda_payload.keras"].read_bytes())
    monkeypatch.chdir(project)
    code = main(["colorize", str(folder / "sketch.png"), "-o", str(tmp_path / "out.png")])
    [line] = error_lines(capsys.readouterr().err)
    assert code == 1
    assert_refused_naming(line, "generator.keras")
    assert not marker.exists() and not (tmp_path / "out.png").exists()


# ---------------------------------------------------------------- the GUI's loader


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_the_gui_loader_refuses_every_hostile_model(hostile, payload_importable, tmp_path, name):
    _, models, marker = hostile
    notes: list[str] = []
    with pytest.raises(ModelLoadError) as refused:
        # exactly the call the GUI's worker thread makes when a model is chosen
        choose_backend(models[name], ProjectPaths(tmp_path), None, notes.append)
    assert_refused_naming(str(refused.value), name)
    assert not marker.exists()


# ---------------------------------------------------------------- the payloads are real


def test_control_the_lambda_payload_runs_when_safe_mode_is_off(tmp_path):
    """Without this, a marker that never appears could mean a payload that never worked."""
    import keras

    marker = tmp_path / "control_marker"
    model = lambda_payload(tmp_path / "control.keras", marker)
    assert not marker.exists()
    keras.models.load_model(model, compile=False, safe_mode=False)
    assert marker.exists()
