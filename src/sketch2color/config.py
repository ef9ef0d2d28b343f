"""Typed, validated view of ``params.yaml``.

params.yaml is parsed exactly once per process into the frozen dataclasses
below. Every stage receives these objects instead of raw dicts, so a typo in a
key or a value of the wrong kind is caught before any work starts, with a
message that names the dotted key, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml

from sketch2color.errors import ConfigError
from sketch2color.paths import ProjectPaths

# ---------------------------------------------------------------- sections


@dataclass(frozen=True)
class DataConfig:
    """Shared by every stage that touches images."""

    image_size: int = 64

    def validate(self, where: str) -> None:
        _require_power_of_two(f"{where}.image_size", self.image_size, low=16, high=1024)


@dataclass(frozen=True)
class SyntheticConfig:
    """The embedded procedural dataset (Kaggle pair format)."""

    count: int = 800
    pair_width: int = 1024
    pair_height: int = 512
    workers: int = 2

    def validate(self, where: str) -> None:
        _require_range(f"{where}.count", self.count, 1, 1_000_000)
        _require_range(f"{where}.pair_height", self.pair_height, 32, 4096)
        _require(
            self.pair_width == 2 * self.pair_height,
            f"{where}.pair_width",
            self.pair_width,
            f"twice pair_height ({2 * self.pair_height}): colour | sketch side by side",
        )
        _require_range(f"{where}.workers", self.workers, 1, 256)


@dataclass(frozen=True)
class SafetyConfig:
    """Limits that keep hostile archives and images from exhausting the machine."""

    max_archive_members: int = 100_000
    max_member_bytes: int = 64 * 1024 * 1024
    max_total_bytes: int = 16 * 1024 * 1024 * 1024
    max_compression_ratio: int = 200
    max_image_pixels: int = 40_000_000

    def validate(self, where: str) -> None:
        for name in (
            "max_archive_members",
            "max_member_bytes",
            "max_total_bytes",
            "max_compression_ratio",
            "max_image_pixels",
        ):
            _require_range(f"{where}.{name}", getattr(self, name), 1, 2**62)


SkinTones = Literal["exclude", "include"]


@dataclass(frozen=True)
class OpenMojiConfig:
    """OpenMoji's SVG emoji rendered into pairs (extra ``openmoji``).

    ``skin_tones: exclude`` keeps one drawing per emoji (its default yellow
    skin) instead of five recolourings of the same lines; ``limit`` takes that
    many emoji spread evenly over the set (tests, quick looks).
    """

    size: int = 512
    skin_tones: SkinTones = "exclude"
    min_line_fraction: float = 0.002
    min_color_fraction: float = 0.005
    limit: int | None = None
    workers: int = 2

    def validate(self, where: str) -> None:
        _require_range(f"{where}.size", self.size, 16, 4096)
        _require_range(f"{where}.min_line_fraction", self.min_line_fraction, 0.0, 0.5)
        _require_range(f"{where}.min_color_fraction", self.min_color_fraction, 0.0, 0.5)
        if self.limit is not None:
            _require_range(f"{where}.limit", self.limit, 1, 1_000_000)
        _require_range(f"{where}.workers", self.workers, 1, 256)


FetchSource = Literal["synthetic", "kaggle_local", "url", "color_folder", "kaggle_api", "openmoji"]
SketchMethod = Literal["xdog", "adaptive"]


@dataclass(frozen=True)
class FetchConfig:
    """Where ``data/raw`` comes from.

    ``kaggle_local`` takes a folder or a ``.zip`` in the Kaggle "Anime Sketch
    Colorization Pair" layout; ``color_folder`` takes colour-only images and
    draws their sketches with ``sketch_method``.
    """

    source: FetchSource = "synthetic"
    path: str | None = None
    url: str | None = None
    sha256: str | None = None
    kaggle_dataset: str = "ktaebum/anime-sketch-colorization-pair"
    sketch_method: SketchMethod = "xdog"
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)
    openmoji: OpenMojiConfig = field(default_factory=OpenMojiConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)

    def validate(self, where: str) -> None:
        if self.source in ("kaggle_local", "color_folder"):
            _require(
                bool(self.path and self.path.strip()),
                f"{where}.path",
                self.path,
                f"a folder or .zip path when source is '{self.source}'",
            )
        if self.source == "url":
            _require(
                self.url is not None and self.url.lower().startswith(("http://", "https://")),
                f"{where}.url",
                self.url,
                "an http(s) URL of a .zip archive",
            )
            _require(
                self.sha256 is not None
                and len(self.sha256) == 64
                and all(c in "0123456789abcdefABCDEF" for c in self.sha256),
                f"{where}.sha256",
                self.sha256,
                "the archive's sha256 as 64 hex digits (required for url sources)",
            )
        self.synthetic.validate(f"{where}.synthetic")
        self.openmoji.validate(f"{where}.openmoji")
        self.safety.validate(f"{where}.safety")

    def source_path(self, root: Path) -> Path | None:
        """``fetch.path`` resolved against the project root, checked to exist.

        Only the fetch stage calls this (first thing, before any work): the
        later stages read the same params.yaml but must not fail because an
        archive that fetch already imported has since been moved or deleted.
        """
        if self.source not in ("kaggle_local", "color_folder") or not self.path:
            return None
        path = Path(self.path).expanduser()
        if not path.is_absolute():
            path = root / path
        if not path.exists():
            raise ConfigError("fetch.path", self.path, f"an existing file or folder (nothing is at {path})")
        if self.source == "color_folder" and not path.is_dir():
            raise ConfigError("fetch.path", self.path, "a folder of colour images")
        return path


TestSource = Literal["fraction", "kaggle_val"]


@dataclass(frozen=True)
class SplitConfig:
    """Deterministic train/val/test assignment and shard layout."""

    val_fraction: float = 0.1
    test_fraction: float = 0.1
    test_source: TestSource = "fraction"
    shards: int = 2
    workers: int = 2

    def validate(self, where: str) -> None:
        _require_range(f"{where}.val_fraction", self.val_fraction, 0.0, 0.9)
        _require_range(f"{where}.test_fraction", self.test_fraction, 0.0, 0.9)
        if self.test_source == "fraction":
            _require(
                self.val_fraction + self.test_fraction < 1.0,
                f"{where}.test_fraction",
                self.test_fraction,
                f"val_fraction + test_fraction below 1 (val_fraction is {self.val_fraction})",
            )
        _require_range(f"{where}.shards", self.shards, 1, 1024)
        _require_range(f"{where}.workers", self.workers, 1, 256)


@dataclass(frozen=True)
class AugmentConfig:
    """The paper's augmentation: one geometric transform per pair, noise on the sketch."""

    copies: int = 2
    rotation_degrees: float = 10.0
    shear_degrees: float = 8.0
    zoom: float = 0.1
    shift: float = 0.08
    horizontal_flip: bool = True
    noise_std: float = 6.0
    shards: int = 2
    preview_pairs: int = 6

    def validate(self, where: str) -> None:
        _require_range(f"{where}.copies", self.copies, 0, 100)
        _require_range(f"{where}.rotation_degrees", self.rotation_degrees, 0.0, 180.0)
        _require_range(f"{where}.shear_degrees", self.shear_degrees, 0.0, 45.0)
        _require_range(f"{where}.zoom", self.zoom, 0.0, 0.9)
        _require_range(f"{where}.shift", self.shift, 0.0, 0.5)
        _require_range(f"{where}.noise_std", self.noise_std, 0.0, 128.0)
        _require_range(f"{where}.shards", self.shards, 1, 1024)
        _require_range(f"{where}.preview_pairs", self.preview_pairs, 1, 64)


Norm = Literal["batch", "instance"]
Strategy = Literal["auto", "one_device", "mirrored", "multi_worker"]
# true, false, or "auto": on where the hardware computes a 16-bit type natively
# (see sketch2color.training.precision).
MixedPrecision = bool | Literal["auto"]


@dataclass(frozen=True)
class HintsConfig:
    """Colour hints as extra generator inputs, simulated from the ground truth in training.

    ``stop_probability``: after each simulated hint, stop with this
    probability (a geometric count, mean (1 - p) / p; some pairs get none),
    at most ``max_hints``. ``colored_weight``: how many times more often a
    hint lands on a fill pixel (coloured, not a line) than on white paper or a line. See
    :mod:`sketch2color.data.hints`.
    """

    enabled: bool = False
    stop_probability: float = 0.125
    max_hints: int = 24
    colored_weight: float = 9.0

    def validate(self, where: str) -> None:
        _require_range(f"{where}.stop_probability", self.stop_probability, 0.01, 1.0)
        _require_range(f"{where}.max_hints", self.max_hints, 1, 256)
        _require_range(f"{where}.colored_weight", self.colored_weight, 1.0, 1000.0)


@dataclass(frozen=True)
class TrainConfig:
    """The pix2pix model, its losses, optimisers, loop, checkpoints and tracking."""

    epochs: int = 6
    batch_size: int = 8
    ngf: int = 32
    ndf: int = 64
    norm: Norm = "instance"
    lambda_l1: float = 100.0
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    decay_epochs: int = 2
    label_smoothing: float = 0.0
    d_loss_factor: float = 0.5
    xla: bool = False
    mixed_precision: MixedPrecision = "auto"
    strategy: Strategy = "auto"
    shuffle_buffer: int = 2048
    cache_dataset: bool = True
    checkpoint_every_steps: int = 100
    log_every_steps: int = 20
    keep_checkpoints: int = 3
    validation_examples: int = 4
    experiment_name: str = "sketch2color"
    hints: HintsConfig = field(default_factory=HintsConfig)

    def validate(self, where: str) -> None:
        self.hints.validate(f"{where}.hints")
        _require_range(f"{where}.epochs", self.epochs, 1, 100_000)
        _require_range(f"{where}.batch_size", self.batch_size, 1, 4096)
        _require_range(f"{where}.ngf", self.ngf, 1, 1024)
        _require_range(f"{where}.ndf", self.ndf, 1, 1024)
        _require_range(f"{where}.lambda_l1", self.lambda_l1, 0.0, 1e6)
        _require_positive(f"{where}.learning_rate", self.learning_rate)
        _require_range(f"{where}.beta_1", self.beta_1, 0.0, 0.999999)
        _require_range(f"{where}.decay_epochs", self.decay_epochs, 0, self.epochs)
        _require_range(f"{where}.label_smoothing", self.label_smoothing, 0.0, 0.5)
        _require_range(f"{where}.d_loss_factor", self.d_loss_factor, 0.0, 10.0)
        _require_range(f"{where}.shuffle_buffer", self.shuffle_buffer, 1, 10_000_000)
        _require_range(f"{where}.checkpoint_every_steps", self.checkpoint_every_steps, 1, 10**9)
        _require_range(f"{where}.log_every_steps", self.log_every_steps, 1, 10**9)
        _require_range(f"{where}.keep_checkpoints", self.keep_checkpoints, 1, 1000)
        _require_range(f"{where}.validation_examples", self.validation_examples, 1, 64)
        _require(
            bool(self.experiment_name.strip()),
            f"{where}.experiment_name",
            self.experiment_name,
            "a non-empty name",
        )


InferenceMode = Literal["eval", "train_dropout"]


@dataclass(frozen=True)
class EvaluateConfig:
    """Test-split scoring.

    ``inference_mode``: ``eval`` runs the generator with ``training=False``
    (dropout off, norm statistics frozen); ``train_dropout`` keeps pix2pix's
    test-time dropout as the original paper's code did.
    ``full_resolution_images``: how many test pairs (the first, in test order)
    are also scored at the originals' resolution, as ``colorize`` colours them.
    """

    inference_mode: InferenceMode = "eval"
    batch_size: int = 16
    sample_rows: int = 3
    fid: bool = False
    fid_max_images: int = 1000
    full_resolution_images: int = 500

    def validate(self, where: str) -> None:
        _require_range(f"{where}.batch_size", self.batch_size, 1, 4096)
        _require_range(f"{where}.sample_rows", self.sample_rows, 1, 32)
        _require_range(f"{where}.fid_max_images", self.fid_max_images, 2, 10**7)
        _require_range(f"{where}.full_resolution_images", self.full_resolution_images, 0, 10**7)


ExportFormat = Literal["savedmodel", "tflite_float32", "tflite_float16"]


@dataclass(frozen=True)
class ExportConfig:
    """Serving formats written next to the Keras generator, and the MLflow model export registers."""

    formats: tuple[ExportFormat, ...] = ("savedmodel", "tflite_float32", "tflite_float16")
    parity_images: int = 8
    latency_runs: int = 20
    registered_model_name: str = "sketch2color-generator"

    def validate(self, where: str) -> None:
        _require(
            len(self.formats) > 0,
            f"{where}.formats",
            list(self.formats),
            "at least one of savedmodel, tflite_float32, tflite_float16",
        )
        _require_range(f"{where}.parity_images", self.parity_images, 1, 10_000)
        _require_range(f"{where}.latency_runs", self.latency_runs, 1, 10_000)
        _require(
            bool(self.registered_model_name.strip()),
            f"{where}.registered_model_name",
            self.registered_model_name,
            "a non-empty name",
        )


@dataclass(frozen=True)
class Params:
    """The whole of params.yaml."""

    seed: int = 42
    data: DataConfig = field(default_factory=DataConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    export: ExportConfig = field(default_factory=ExportConfig)

    def validate(self, where: str = "") -> None:
        _require_range("seed", self.seed, 0, 2**32 - 1)
        for section in ("data", "fetch", "split", "augment", "train", "evaluate", "export"):
            getattr(self, section).validate(section)

    def to_flat_dict(self) -> dict[str, Any]:
        """Dotted keys to plain values, the form MLflow and hashes want."""
        return flatten(dataclasses.asdict(self))


# ---------------------------------------------------------------- loading


def load_params(path: str | Path = ProjectPaths.PARAMS) -> Params:
    """Read, type-check and validate params.yaml; raise ConfigError on the first fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "an existing params file") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), None, f"valid YAML ({exc})") from None
    return params_from_dict(raw if raw is not None else {})


def params_from_dict(raw: Any) -> Params:
    """Build and validate Params from a parsed mapping (used by tests too)."""
    params = _build(Params, raw, "")
    params.validate()
    return params


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, dotted + "."))
        elif isinstance(value, (list, tuple)):
            flat[dotted] = ",".join(str(v) for v in value)
        else:
            flat[dotted] = value
    return flat


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(where or ProjectPaths.PARAMS, raw, "a mapping of keys to values")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields), key=str)
    if unknown:
        key = _join(where, str(unknown[0]))
        raise ConfigError(
            key, raw[unknown[0]], f"a known key; allowed here: {', '.join(fields)}", unknown=True
        )
    values = {}
    for name, value in raw.items():
        values[name] = _coerce(hints[name], value, _join(where, name))
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, {} if value is None else value, key)
    if origin is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            raise ConfigError(key, value, "one of " + ", ".join(repr(a) for a in allowed))
        return value
    if origin in (Union, types.UnionType):
        args = get_args(hint)
        if value is None and type(None) in args:
            return None
        return _coerce_first_match([a for a in args if a is not type(None)], value, key)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(key, value, "a list")
        item = get_args(hint)[0]
        items = tuple(_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value))
        if len(set(items)) != len(items):
            raise ConfigError(key, list(value), "a list without repeats")
        return items
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, value, "true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, value, "an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, value, "a number")
        if not math.isfinite(value):
            raise ConfigError(key, value, "a finite number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(key, value, "a string")
        return value
    raise TypeError(f"unsupported config type {hint!r} for {key}")  # a bug in this module


def _coerce_first_match(hints: list[Any], value: Any, key: str) -> Any:
    """The value as the first union member that accepts it; else one error listing every form."""
    failures = []
    for hint in hints:
        try:
            return _coerce(hint, value, key)
        except ConfigError as error:
            failures.append(error.allowed)
    raise ConfigError(key, value, ", or ".join(failures))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _require(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)


def _require_range(key: str, value: float, low: float, high: float) -> None:
    _require(low <= value <= high, key, value, f"a value from {low} to {high}")


def _require_positive(key: str, value: float) -> None:
    _require(value > 0, key, value, "a value above 0")


def _require_power_of_two(key: str, value: int, low: int, high: int) -> None:
    _require(
        low <= value <= high and value & (value - 1) == 0,
        key,
        value,
        f"a power of two from {low} to {high}",
    )
