"""The export stage: each format serves uint8 in / uint8 out and agrees with the Keras model.

The tiny generator has the pieces that make conversion go wrong on the real
one: instance norm (GroupNormalization with one group per channel), a
transposed convolution, dropout (which must be off in ``eval`` mode) and a
tanh output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from sketch2color.atomic import write_json
from sketch2color.config import params_from_dict
from sketch2color.data.shards import Pair, write_shards
from sketch2color.export import formats
from sketch2color.inference.backends import KerasBackend, open_model
from sketch2color.paths import ProjectPaths
from sketch2color.pipeline.export import run as export_stage

from helpers import mlflow_store_with_run

SIZE = 32
MODEL_NAME = "export-test-generator"


def sketches(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = np.full((count, SIZE, SIZE, 3), 255, np.uint8)
    for image in images:
        rows = rng.integers(0, SIZE, 6)
        image[rows, :] = rng.integers(0, 80)
        image[:, rng.integers(0, SIZE, 4)] = 0
    return images


def tiny_generator(hints: bool = False):
    """A two-layer stand-in for the generator, with dropout; ``hints``: the four hint channels
    beside the sketch, as train.hints builds it, and no dropout."""
    import keras

    keras.utils.set_random_seed(4 if hints else 3)
    channels, name = (7, "sketch_and_hints") if hints else (3, "sketch")
    inputs = keras.Input((SIZE, SIZE, channels), name=name)
    x = keras.layers.Conv2D(8, 4, strides=2, padding="same")(inputs)
    x = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    if not hints:
        x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh")(x)
    return keras.Model(inputs, x, name="generator")


def make_params(mode: str = "eval", formats_: tuple = ("savedmodel", "tflite_float32", "tflite_float16")):
    return params_from_dict(
        {
            "data": {"image_size": SIZE},
            "evaluate": {"inference_mode": mode},
            "export": {
                "formats": list(formats_),
                "parity_images": 4,
                "latency_runs": 3,
                "registered_model_name": MODEL_NAME,
            },
        }
    )


def make_project(root) -> ProjectPaths:
    paths = ProjectPaths(root)
    pairs = [Pair(s, 255 - s, f"t{i}.png") for i, s in enumerate(sketches(5, seed=1))]
    write_shards(pairs, paths.split, "test", 1)
    paths.models.mkdir(parents=True, exist_ok=True)
    tiny_generator().save(paths.models / "generator.keras")
    return paths


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory, new_mlflow_store):
    """A real sqlite store with a finished 'training' run and no registered model yet."""
    return mlflow_store_with_run(new_mlflow_store(tmp_path_factory.mktemp("mlflow")), "export-test")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, mlflow_store):
    uri, _, run_id = mlflow_store
    paths = make_project(tmp_path_factory.mktemp("project"))
    write_json(paths.models / "mlflow_run.json", {"run_id": run_id, "tracking_uri": uri})
    stale = paths.models / "export" / "stale.tflite"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"from an earlier export")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.delenv("DVC_ROOT", raising=False)
        export_stage(make_params(), paths)
    summary = json.loads((paths.metrics / "export.json").read_text())
    return paths, summary


def test_every_requested_format_is_written_and_old_files_are_gone(exported):
    paths, _ = exported
    folder = paths.models / "export"
    assert (folder / "savedmodel" / "saved_model.pb").is_file()
    assert (folder / "generator_float32.tflite").stat().st_size > 0
    assert (folder / "generator_float16.tflite").stat().st_size > 0
    assert not (folder / "stale.tflite").exists()  # the folder is replaced as a whole
    manifest = json.loads((folder / "formats.json").read_text())
    assert manifest["formats"] == {
        "savedmodel": "savedmodel",
        "tflite_float32": "generator_float32.tflite",
        "tflite_float16": "generator_float16.tflite",
    }
    assert manifest["image_size"] == SIZE and manifest["inference_mode"] == "eval"
    assert manifest["fastest"] in manifest["usable"]
    # What colorize and the GUI load, chosen by a fresh colorize with each format (start-up included).
    assert manifest["default"] in manifest["usable"]
    assert set(manifest["first_picture_s"]) == set(manifest["formats"])
    assert all(seconds > 0 for seconds in manifest["first_picture_s"].values())


def test_savedmodel_signature_is_uint8_in_and_out(exported):
    import tensorflow as tf

    paths, _ = exported
    loaded = tf.saved_model.load(str(paths.models / "export" / "savedmodel"))
    signature = loaded.signatures["serving_default"]
    (spec,) = signature.structured_input_signature[1].values()
    assert spec.dtype == tf.uint8 and spec.shape.as_list() == [None, SIZE, SIZE, 3]
    (out_spec,) = signature.structured_outputs.values()
    assert out_spec.dtype == tf.uint8 and out_spec.shape.as_list() == [None, SIZE, SIZE, 3]
    batch = sketches(3, seed=9)
    output = signature(sketch=tf.constant(batch))["color"].numpy()
    assert output.dtype == np.uint8 and output.shape == batch.shape


def test_each_format_matches_the_keras_model(exported):
    paths, _ = exported
    folder = paths.models / "export"
    batch = sketches(4, seed=11)  # not the parity images the stage used
    reference = KerasBackend(paths.models / "generator.keras", "eval").color_batch(batch)
    assert reference.std() > 5  # the tiny model does produce a varied image
    outputs = {
        "savedmodel": open_model(folder / "savedmodel").color_batch(batch),
        "tflite_float32": open_model(folder / "generator_float32.tflite").color_batch(batch),
        "tflite_float16": open_model(folder / "generator_float16.tflite").color_batch(batch),
    }
    limits = {"savedmodel": 2, "tflite_float32": 2, "tflite_float16": 8}
    for name, output in outputs.items():
        diff = np.abs(output.astype(int) - reference.astype(int))
        assert output.shape == reference.shape and output.dtype == np.uint8, name
        assert diff.max() <= limits[name], name
    # a batch of one after a batch of four: the TFLite input is resized, not stuck
    single = open_model(folder / "generator_float32.tflite").color_batch(batch[:1])
    assert single.shape == (1, SIZE, SIZE, 3)


def test_export_json_records_parity_speed_and_onnx(exported):
    _, summary = exported
    assert set(summary["formats"]) == {"savedmodel", "tflite_float32", "tflite_float16"}
    for name, entry in summary["formats"].items():
        assert {
            "path",
            "bytes",
            "max_abs_diff",
            "ssim_vs_keras",
            "latency_ms_p50",
            "latency_ms_p95",
            "agrees",
        } <= set(entry), name
        assert entry["agrees"] is True, name
        assert entry["ssim_vs_keras"] > 0.99, name
        assert entry["latency_ms_p95"] >= entry["latency_ms_p50"] > 0, name
    assert summary["formats"]["tflite_float32"]["max_abs_diff"] <= 2
    assert summary["formats"]["tflite_float16"]["max_abs_diff"] <= 8
    assert summary["formats"]["tflite_float16"]["bytes"] < summary["formats"]["tflite_float32"]["bytes"]
    assert summary["fastest"] in summary["formats"]
    assert summary["onnx"]["produced"] is False and "tf2onnx" in summary["onnx"]["why"]
    assert summary["skipped"] == {}


def test_exported_files_and_summary_reach_mlflow(exported, mlflow_store):
    _, client, run_id = mlflow_store
    _, summary = exported
    files = {a.path for a in client.list_artifacts(run_id, "export")}
    assert {
        "export/savedmodel",
        "export/generator_float32.tflite",
        "export/generator_float16.tflite",
        "export/export.json",
    } <= files
    registered = summary["registered_model"]
    assert registered["name"] == MODEL_NAME and registered["version"] == 1
    tags = client.get_model_version(MODEL_NAME, "1").tags
    assert tags["export.fastest"] == summary["fastest"]
    assert tags["export.artifacts"] == f"runs:/{run_id}/export"
    metrics = client.get_run(run_id).data.metrics
    assert (
        metrics["export_tflite_float32_max_abs_diff"] == summary["formats"]["tflite_float32"]["max_abs_diff"]
    )


def test_export_registers_the_colorizer_with_only_the_serving_code(exported, mlflow_store):
    """The registered version colours as colorize does, and ships the modules serving imports, no more."""
    import base64

    import mlflow
    import pandas as pd

    from sketch2color.image_io import decode_rgb
    from sketch2color.inference.colorizer import color_sketches
    from sketch2color.serving import encode_png

    uri, client, run_id = mlflow_store
    paths, _ = exported
    version = client.get_model_version(MODEL_NAME, "1")
    assert version.run_id == run_id
    mlflow.set_tracking_uri(uri)
    local = Path(mlflow.artifacts.download_artifacts(f"models:/{MODEL_NAME}/1"))
    shipped = {p.relative_to(local / "code").as_posix() for p in (local / "code").rglob("*.py")}
    assert "sketch2color/serving.py" in shipped and "sketch2color/inference/compose.py" in shipped
    assert not {f for f in shipped if f.startswith(("sketch2color/training/", "sketch2color/bench/"))}
    assert not {f for f in shipped if f.startswith(("sketch2color/gui/", "sketch2color/layered/"))}
    assert not {"sketch2color/cli.py", "sketch2color/pipeline/export.py"} & shipped

    colorizer = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/1")
    sketch = np.full((24, 40, 3), 255, np.uint8)
    sketch[8:10, 4:36] = 0
    answer = colorizer.predict(pd.DataFrame({"image": [encode_png(sketch)]}))
    served = decode_rgb(base64.b64decode(answer["image"][0]))
    expected = color_sketches(KerasBackend(paths.models / "generator.keras", "eval"), [sketch])[0].picture()
    assert np.array_equal(served, expected)


def test_train_dropout_mode_skips_tflite_and_keeps_dropout_in_the_savedmodel(tmp_path):
    import tensorflow as tf

    paths = make_project(tmp_path)
    export_stage(make_params("train_dropout", ("savedmodel", "tflite_float32")), paths)
    summary = json.loads((paths.metrics / "export.json").read_text())
    assert set(summary["formats"]) == {"savedmodel"}
    assert "train_dropout" in summary["skipped"]["tflite_float32"]
    assert summary["formats"]["savedmodel"]["agrees"] is None  # random outputs are not judged
    assert not (paths.models / "export" / "generator_float32.tflite").exists()
    signature = tf.saved_model.load(str(paths.models / "export" / "savedmodel")).signatures["serving_default"]
    batch = tf.constant(sketches(2, seed=5))
    first, second = (signature(sketch=batch)["color"].numpy() for _ in range(2))
    assert not np.array_equal(first, second)  # dropout draws anew on every call


def test_tflite_is_refused_only_for_train_dropout():
    assert formats.tflite_unavailable_reason("eval") is None
    assert "stateless random" in formats.tflite_unavailable_reason("train_dropout")


# ---------------------------------------------------------------- a hint model


def test_a_hint_model_is_exported_with_hints_in_every_format_and_each_agrees_with_keras(tmp_path):
    paths = ProjectPaths(tmp_path)
    pairs = [Pair(s, 255 - s, f"t{i}.png") for i, s in enumerate(sketches(5, seed=1))]
    write_shards(pairs, paths.split, "test", 1)
    paths.models.mkdir(parents=True)
    tiny_generator(hints=True).save(paths.models / "generator.keras")
    export_stage(make_params(), paths)

    summary = json.loads((paths.metrics / "export.json").read_text())
    for name, entry in summary["formats"].items():
        assert entry["with_hints"]["agrees"] is True, name
        assert entry["agrees"] is True, name
    keras_model = KerasBackend(paths.models / "generator.keras", "eval")
    batch = sketches(2, seed=3)
    hints = np.zeros((2, SIZE, SIZE, 4), np.uint8)
    hints[0, 8:12, 8:12] = (250, 20, 20, 255)
    hints[1, 20:23, 4:7] = (20, 20, 250, 255)
    with_hints, without = keras_model.color_batch(batch, hints), keras_model.color_batch(batch)
    assert np.abs(with_hints.astype(int) - without.astype(int)).max() > 5  # the hints change the picture
    for name in ("savedmodel", "generator_float32.tflite"):
        exported_model = open_model(paths.models / "export" / name)
        assert exported_model.takes_hints, name
        assert np.abs(exported_model.color_batch(batch, hints).astype(int) - with_hints).max() <= 2, name
        assert np.abs(exported_model.color_batch(batch).astype(int) - without).max() <= 2, name
