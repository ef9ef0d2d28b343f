"""params.yaml is parsed into typed config; every fault names its key."""

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from sketch2color.config import Params, SyntheticConfig, load_params, params_from_dict
from sketch2color.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_repo_params_load_and_cover_every_section():
    params = load_params(REPO / "params.yaml")
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    assert set(raw) == {"seed", "data", "fetch", "split", "augment", "train", "evaluate", "export"}
    # The file spells out every knob: nothing silently falls back to a code default.
    flat_file = Params().to_flat_dict().keys()
    assert set(params.to_flat_dict()) == set(flat_file)
    # ... and the code's defaults are that file's values: a params.yaml that leaves a
    # key out gets what the README documents as the default.
    assert params.to_flat_dict() == Params().to_flat_dict()
    for section, keys in raw.items():
        if isinstance(keys, dict):
            assert set(keys) == set(type(getattr(Params(), section)).model_fields), section


@pytest.mark.parametrize(
    "raw, key, fragment",
    [
        ({"train": {"lamda_l1": 50}}, "train.lamda_l1", "unknown key"),
        ({"bogus": 1}, "bogus", "unknown key"),
        ({"fetch": {"synthetic": {"cout": 3}}}, "fetch.synthetic.cout", "unknown key"),
        ({"train": {"learning_rate": -0.1}}, "train.learning_rate", "above 0"),
        ({"train": {"epochs": "ten"}}, "train.epochs", "an integer"),
        ({"train": {"epochs": 2.5}}, "train.epochs", "an integer"),
        ({"train": {"xla": "yes"}}, "train.xla", "true or false"),
        ({"train": {"norm": "layer"}}, "train.norm", "'batch', 'instance'"),
        ({"train": {"mixed_precision": "yes"}}, "train.mixed_precision", "true or false, or one of 'auto'"),
        ({"train": {"mixed_precision": 1}}, "train.mixed_precision", "true or false, or one of 'auto'"),
        ({"data": {"image_size": 100}}, "data.image_size", "power of two"),
        ({"data": {"image_size": 8}}, "data.image_size", "power of two"),
        ({"split": {"val_fraction": 0.6, "test_fraction": 0.5}}, "split.test_fraction", "below 1"),
        ({"split": {"shards": 0}}, "split.shards", "from 1"),
        ({"augment": {"copies": -1}}, "augment.copies", "from 0"),
        ({"augment": {"horizontal_flip": 1}}, "augment.horizontal_flip", "true or false"),
        ({"evaluate": {"inference_mode": "magic"}}, "evaluate.inference_mode", "'eval'"),
        ({"export": {"formats": ["onnx2"]}}, "export.formats[0]", "'savedmodel'"),
        ({"export": {"formats": []}}, "export.formats", "at least one"),
        ({"seed": -3}, "seed", "from 0"),
        ({"fetch": {"source": "ftp"}}, "fetch.source", "'synthetic'"),
        ({"fetch": {"source": "url", "url": "https://example.invalid/a.zip"}}, "fetch.sha256", "64 hex"),
        ({"fetch": {"source": "url", "url": "file:///etc/passwd", "sha256": "a" * 64}}, "fetch.url", "http"),
        ({"fetch": {"source": "kaggle_local"}}, "fetch.path", "folder or .zip"),
        ({"train": {"decay_epochs": 9, "epochs": 3}}, "train.decay_epochs", "from 0 to 3"),
        ({"train": ["not", "a", "mapping"]}, "train", "mapping"),
        ({"data": {"image_size": "64"}}, "data.image_size", "an integer"),
        ({"export": {"formats": ["savedmodel", "savedmodel"]}}, "export.formats", "without repeats"),
        ({"fetch": {"sha256": "c0ffee"}}, "fetch.sha256", "64 hex"),
        ({"fetch": {"url": "ftp://example.invalid/a.zip"}}, "fetch.url", "http(s)"),
        ({"fetch": {"source": "url", "sha256": "a" * 64}}, "fetch.url", "required for url sources"),
        (
            {"fetch": {"synthetic": {"pair_width": 100}}},
            "fetch.synthetic.pair_width",
            "twice pair_height (1024)",
        ),
        ({"fetch": {"openmoji": {"limit": 0}}}, "fetch.openmoji.limit", "from 1 to 1000000, or null"),
        ({"train": {"experiment_name": "  "}}, "train.experiment_name", "a non-empty name"),
        ({"train": {"lambda_l1": float("inf")}}, "train.lambda_l1", "a finite number"),
        ({"train": {"hints": {"max_hints": 0}}}, "train.hints.max_hints", "from 1 to 256"),
        ({"train": {3: 1}}, "train.3", "allowed here: epochs, batch_size"),
        ({"seed": 42, 2: "a stray YAML integer key", "sede": 7}, "2", "allowed here: seed, data, fetch"),
        ({"seed": "forty-two"}, "seed", "an integer from 0"),
        ({"data": {"imagesize": 64}}, "data.imagesize", "allowed here: image_size"),
        ({"fetch": {"sorce": "synthetic"}}, "fetch.sorce", "unknown key"),
        (
            {"fetch": {"safety": {"max_bytes": 10}}},
            "fetch.safety.max_bytes",
            "allowed here: max_archive_members",
        ),
        ({"fetch": {"synthetic": {"count": "ten"}}}, "fetch.synthetic.count", "an integer from 1"),
        ({"fetch": {"synthetic": {"count": -5}}}, "fetch.synthetic.count", "an integer from 1"),
        ({"fetch": {"source": "kaggle_local", "path": 5}}, "fetch.path", "a string, or null"),
        (
            {"fetch": {"safety": {"max_image_pixels": 0}}},
            "fetch.safety.max_image_pixels",
            "an integer from 1",
        ),
        ({"split": {"shard": 2}}, "split.shard", "allowed here: val_fraction"),
        ({"split": {"shards": "two"}}, "split.shards", "an integer from 1"),
        ({"split": {"val_fraction": 1.5}}, "split.val_fraction", "from 0.0 to 0.9"),
        ({"split": {"val_fraction": 0.5, "test_fraction": 0.5}}, "split.test_fraction", "below 1"),
        ({"split": {"test_source": "val"}}, "split.test_source", "'fraction', 'kaggle_val'"),
        ({"augment": {"rotation": 10}}, "augment.rotation", "allowed here: copies, rotation_degrees"),
        ({"augment": {"horizontal_flip": "yes"}}, "augment.horizontal_flip", "true or false"),
        ({"augment": {"noise_std": -3.0}}, "augment.noise_std", "from 0.0 to 128.0"),
        ({"train": {"batch_size": 8.5}}, "train.batch_size", "an integer"),
        ({"train": {"lambda_l1": float("nan")}}, "train.lambda_l1", "a finite number"),
        ({"train": 5}, "train", "a mapping"),
        ({"evaluate": {"metric": "ssim"}}, "evaluate.metric", "allowed here: inference_mode"),
        ({"evaluate": {"fid": "no"}}, "evaluate.fid", "true or false"),
        ({"evaluate": {"batch_size": 0}}, "evaluate.batch_size", "an integer from 1"),
        ({"export": {"format": "tflite"}}, "export.format", "allowed here: formats"),
        ({"export": {"formats": "savedmodel"}}, "export.formats", "a list of at least one"),
        ({"export": {"latency_runs": 0}}, "export.latency_runs", "an integer from 1"),
    ],
)
def test_bad_values_name_the_key_value_and_what_is_allowed(raw, key, fragment):
    with pytest.raises(ConfigError) as info:
        params_from_dict(raw)
    assert info.value.key == key
    message = str(info.value)
    assert f"'{key}'" in message
    assert fragment in message


def test_defaults_and_overrides_are_typed():
    params = params_from_dict({"train": {"learning_rate": 1, "epochs": 3, "decay_epochs": 1}})
    assert isinstance(params.train.learning_rate, float) and params.train.learning_rate == 1.0
    assert params.train.epochs == 3
    assert params.data.image_size == 64
    assert params.export.formats == ("savedmodel", "tflite_float32", "tflite_float16")


def test_a_section_left_empty_takes_every_default():
    assert params_from_dict({"train": None, "fetch": {"synthetic": None}}) == Params()


def test_config_is_immutable_and_checked_when_built_in_code_too():
    params = Params()
    with pytest.raises(ValidationError, match="frozen"):
        params.train.epochs = 3
    with pytest.raises(ValidationError, match="pair_width"):
        SyntheticConfig(pair_width=100)


@pytest.mark.parametrize("value", [True, False, "auto"])
def test_mixed_precision_takes_a_bool_or_auto(value):
    assert params_from_dict({"train": {"mixed_precision": value}}).train.mixed_precision is value


def test_missing_and_malformed_files_are_named(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml"):
        load_params(tmp_path / "nope.yaml")
    broken = tmp_path / "params.yaml"
    broken.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="valid YAML"):
        load_params(broken)
    broken.write_text("- a\n- list\n")
    with pytest.raises(ConfigError, match="'params.yaml'.*a mapping"):
        load_params(broken)


def test_empty_file_means_all_defaults(tmp_path):
    empty = tmp_path / "params.yaml"
    empty.write_text("")
    assert load_params(empty) == Params()


@pytest.mark.parametrize(
    "source, path, fragment",
    [
        ("kaggle_local", "/no/such/archive.zip", "nothing is at /no/such/archive.zip"),
        ("color_folder", "no/such/folder", "nothing is at"),
        ("color_folder", "params.yaml", "a folder of colour images"),
    ],
)
def test_fetch_source_path_must_exist_when_fetch_runs(tmp_path, source, path, fragment):
    (tmp_path / "params.yaml").write_text("")
    params = params_from_dict({"fetch": {"source": source, "path": path}})  # later stages still load
    with pytest.raises(ConfigError) as info:
        params.fetch.source_path(tmp_path)
    assert info.value.key == "fetch.path" and fragment in str(info.value)


def test_fetch_source_path_resolves_relative_to_the_project(tmp_path):
    (tmp_path / "art").mkdir()
    params = params_from_dict({"fetch": {"source": "color_folder", "path": "art"}})
    assert params.fetch.source_path(tmp_path) == tmp_path / "art"
    assert params_from_dict({}).fetch.source_path(tmp_path) is None
