"""Typed, validated view of ``params.yaml``.

params.yaml is parsed exactly once per process into the frozen pydantic models
below. Every stage receives these objects instead of raw dicts, so a typo in a
key or a value of the wrong kind is caught before any work starts (and before
TensorFlow loads), with a message that names the dotted key, the value and
what is allowed.

Each field says what it accepts in one place, its annotation: the type, the
bounds (``Field(ge=.., le=..)``), the choices (``Literal``). pydantic checks
them in strict mode, so ``"64"`` is not an integer and ``1`` is not ``true``.
Only rules that span several fields are code (the ``after`` validators). The
text of an error is derived from the same annotations, through the JSON schema
pydantic builds from them (:func:`_config_error`), so it cannot drift from
the check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self, get_args

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from sketch2color.errors import ConfigError
from sketch2color.paths import ProjectPaths


class _Section(BaseModel):
    """A section of params.yaml: strict types, no unknown keys, immutable once loaded."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_defaults(cls, data: Any) -> Any:
        """A section written as a bare ``train:`` (YAML null) takes every default."""
        return {} if data is None else data


def _cross_field(field: str, value: Any, allowed: str) -> PydanticCustomError:
    """A rule over several fields, blamed on ``field`` (pydantic puts it on the whole section)."""
    return PydanticCustomError(
        "cross_field", "{field}: expected {allowed}", {"field": field, "value": value, "allowed": allowed}
    )


# ---------------------------------------------------------------- field types

Workers = Annotated[int, Field(ge=1, le=256)]
Shards = Annotated[int, Field(ge=1, le=1024)]
Limit = Annotated[int, Field(ge=1, le=2**62)]
Fraction = Annotated[float, Field(ge=0.0, le=0.9)]
Steps = Annotated[int, Field(ge=1, le=10**9)]
Name = Annotated[str, Field(pattern=r"\S", description="a non-empty name")]


def _power_of_two(value: int) -> int:
    if value & (value - 1):
        raise ValueError("not a power of two")
    return value


ImageSize = Annotated[
    int,
    Field(ge=16, le=1024, description="an integer, a power of two from 16 to 1024"),
    AfterValidator(_power_of_two),
]

# ---------------------------------------------------------------- sections


class DataConfig(_Section):
    """Shared by every stage that touches images."""

    image_size: ImageSize = 64


class SyntheticConfig(_Section):
    """The embedded procedural dataset (Kaggle pair format)."""

    count: Annotated[int, Field(ge=1, le=1_000_000)] = 800
    pair_width: int = 1024
    pair_height: Annotated[int, Field(ge=32, le=4096)] = 512
    workers: Workers = 2

    @model_validator(mode="after")
    def _pairs_are_side_by_side(self) -> Self:
        if self.pair_width != 2 * self.pair_height:
            raise _cross_field(
                "pair_width",
                self.pair_width,
                f"twice pair_height ({2 * self.pair_height}): colour | sketch side by side",
            )
        return self


class SafetyConfig(_Section):
    """Limits that keep hostile archives and images from exhausting the machine."""

    max_archive_members: Limit = 100_000
    max_member_bytes: Limit = 64 * 1024 * 1024
    max_total_bytes: Limit = 16 * 1024 * 1024 * 1024
    max_compression_ratio: Limit = 200
    max_image_pixels: Limit = 40_000_000


SkinTones = Literal["exclude", "include"]


class OpenMojiConfig(_Section):
    """OpenMoji's SVG emoji rendered into pairs (extra ``openmoji``).

    ``skin_tones: exclude`` keeps one drawing per emoji (its default yellow
    skin) instead of five recolourings of the same lines; ``limit`` takes that
    many emoji spread evenly over the set (tests, quick looks).
    """

    size: Annotated[int, Field(ge=16, le=4096)] = 512
    skin_tones: SkinTones = "exclude"
    min_line_fraction: Annotated[float, Field(ge=0.0, le=0.5)] = 0.002
    min_color_fraction: Annotated[float, Field(ge=0.0, le=0.5)] = 0.005
    limit: Annotated[int, Field(ge=1, le=1_000_000)] | None = 600
    workers: Workers = 2


# The names of sketch2color.data.fetch.SOURCES (tests/test_fetch.py ties the two together).
FetchSource = Literal["synthetic", "kaggle_local", "url", "color_folder", "kaggle_api", "openmoji"]
PATH_SOURCES: tuple[FetchSource, ...] = ("kaggle_local", "color_folder")
"""The sources that read ``fetch.path``."""
SketchMethod = Literal["xdog", "adaptive"]
_URL = "an http(s) URL of a .zip archive"
_SHA256 = "the archive's sha256 as 64 hex digits"


class FetchConfig(_Section):
    """Where ``data/raw`` comes from.

    ``kaggle_local`` takes a folder or a ``.zip`` in the Kaggle "Anime Sketch
    Colorization Pair" layout; ``color_folder`` takes colour-only images and
    draws their sketches with ``sketch_method``.
    """

    source: FetchSource = "openmoji"
    path: str | None = None
    url: Annotated[str, Field(pattern=r"(?i)^https?://", description=_URL)] | None = None
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description=_SHA256)] | None = None
    kaggle_dataset: str = "ktaebum/anime-sketch-colorization-pair"
    sketch_method: SketchMethod = "xdog"
    synthetic: SyntheticConfig = Field(default_factory=SyntheticConfig)
    openmoji: OpenMojiConfig = Field(default_factory=OpenMojiConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)

    @model_validator(mode="after")
    def _source_has_what_it_reads(self) -> Self:
        if self.source in PATH_SOURCES and not (self.path and self.path.strip()):
            raise _cross_field("path", self.path, f"a folder or .zip path when source is '{self.source}'")
        if self.source == "url" and self.url is None:
            raise _cross_field("url", self.url, f"{_URL} (required for url sources)")
        if self.source == "url" and self.sha256 is None:
            raise _cross_field("sha256", self.sha256, f"{_SHA256} (required for url sources)")
        return self

    def source_path(self, root: Path) -> Path | None:
        """``fetch.path`` resolved against the project root, checked to exist; None for sources without one.

        Only the fetch stage calls this (first thing, before any work): the
        later stages read the same params.yaml but must not fail because an
        archive that fetch already imported has since been moved or deleted.
        """
        if self.source not in PATH_SOURCES or not self.path:
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


class SplitConfig(_Section):
    """Deterministic train/val/test assignment and shard layout."""

    val_fraction: Fraction = 0.1
    test_fraction: Fraction = 0.1
    test_source: TestSource = "fraction"
    shards: Shards = 2
    workers: Workers = 2

    @model_validator(mode="after")
    def _fractions_leave_training_pairs(self) -> Self:
        if self.test_source == "fraction" and self.val_fraction + self.test_fraction >= 1.0:
            raise _cross_field(
                "test_fraction",
                self.test_fraction,
                f"val_fraction + test_fraction below 1 (val_fraction is {self.val_fraction})",
            )
        return self


class AugmentConfig(_Section):
    """The paper's augmentation: one geometric transform per pair, noise on the sketch."""

    copies: Annotated[int, Field(ge=0, le=100)] = 2
    rotation_degrees: Annotated[float, Field(ge=0.0, le=180.0)] = 10.0
    shear_degrees: Annotated[float, Field(ge=0.0, le=45.0)] = 8.0
    zoom: Fraction = 0.1
    shift: Annotated[float, Field(ge=0.0, le=0.5)] = 0.08
    horizontal_flip: bool = True
    noise_std: Annotated[float, Field(ge=0.0, le=128.0)] = 6.0
    shards: Shards = 2
    preview_pairs: Annotated[int, Field(ge=1, le=64)] = 6


Norm = Literal["batch", "instance"]
Strategy = Literal["auto", "one_device", "mirrored", "multi_worker"]
# true, false, or "auto": on where the hardware computes a 16-bit type natively
# (see sketch2color.training.precision).
MixedPrecision = bool | Literal["auto"]


class HintsConfig(_Section):
    """Colour hints as extra generator inputs, simulated from the ground truth in training.

    ``stop_probability``: after each simulated hint, stop with this
    probability (a geometric count, mean (1 - p) / p; some pairs get none),
    at most ``max_hints``. ``colored_weight``: how many times more often a
    hint lands on a fill pixel (coloured, not a line) than on white paper or a line. See
    :mod:`sketch2color.data.hints`.
    """

    enabled: bool = True
    stop_probability: Annotated[float, Field(ge=0.01, le=1.0)] = 0.125
    max_hints: Annotated[int, Field(ge=1, le=256)] = 24
    colored_weight: Annotated[float, Field(ge=1.0, le=1000.0)] = 9.0


class TrainConfig(_Section):
    """The pix2pix model, its losses, optimisers, loop, checkpoints and tracking."""

    epochs: Annotated[int, Field(ge=1, le=100_000)] = 10
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 8
    ngf: Annotated[int, Field(ge=1, le=1024)] = 32
    ndf: Annotated[int, Field(ge=1, le=1024)] = 64
    norm: Norm = "instance"
    lambda_l1: Annotated[float, Field(ge=0.0, le=1e6)] = 10000.0
    learning_rate: Annotated[float, Field(gt=0)] = 5e-4
    beta_1: Annotated[float, Field(ge=0.0, le=0.999999)] = 0.5
    decay_epochs: Annotated[int, Field(ge=0)] = 4
    label_smoothing: Annotated[float, Field(ge=0.0, le=0.5)] = 0.0
    d_loss_factor: Annotated[float, Field(ge=0.0, le=10.0)] = 0.5
    xla: bool = False
    mixed_precision: MixedPrecision = "auto"
    strategy: Strategy = "auto"
    shuffle_buffer: Annotated[int, Field(ge=1, le=10_000_000)] = 2048
    cache_dataset: bool = True
    checkpoint_every_steps: Steps = 100
    log_every_steps: Steps = 20
    keep_checkpoints: Annotated[int, Field(ge=1, le=1000)] = 3
    validation_examples: Annotated[int, Field(ge=1, le=64)] = 4
    experiment_name: Name = "sketch2color"
    hints: HintsConfig = Field(default_factory=HintsConfig)

    @model_validator(mode="after")
    def _decay_fits_in_training(self) -> Self:
        if self.decay_epochs > self.epochs:
            raise _cross_field(
                "decay_epochs", self.decay_epochs, f"an integer from 0 to {self.epochs} (train.epochs)"
            )
        return self


InferenceMode = Literal["eval", "train_dropout"]


GapWidths = Annotated[
    tuple[Annotated[int, Field(ge=1, le=128)], ...],
    # YAML gives a list; strict mode would take only a tuple. The items stay strict.
    Field(strict=False, max_length=8, description="a list of up to 8 gap widths, each 1 to 128 px"),
]


class EvaluateConfig(_Section):
    """Test-split scoring.

    ``inference_mode``: ``eval`` runs the generator with ``training=False``
    (dropout off, norm statistics frozen); ``train_dropout`` keeps pix2pix's
    test-time dropout as the original paper's code did.
    ``full_resolution_images``: how many test pairs (the first, in test order)
    are also scored at the originals' resolution, as ``colorize`` colours them.
    ``gap_widths``: the widths (px at 512 px) of the gaps cut into those
    originals' lines for the gapped hint curves
    (:mod:`sketch2color.evaluation.gaps`); empty: the closed lines only.
    """

    inference_mode: InferenceMode = "eval"
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 16
    sample_rows: Annotated[int, Field(ge=1, le=32)] = 3
    fid: bool = False
    fid_max_images: Annotated[int, Field(ge=2, le=10**7)] = 1000
    full_resolution_images: Annotated[int, Field(ge=0, le=10**7)] = 500
    gap_widths: GapWidths = (16,)


ExportFormat = Literal["savedmodel", "tflite_float32", "tflite_float16"]


def _no_repeats(formats: tuple[ExportFormat, ...]) -> tuple[ExportFormat, ...]:
    if len(set(formats)) != len(formats):
        raise ValueError("a format is repeated")
    return formats


ExportFormats = Annotated[
    tuple[ExportFormat, ...],
    # YAML gives a list; strict mode would take only a tuple. The items stay strict.
    Field(
        strict=False,
        min_length=1,
        description="a list of at least one of "
        + ", ".join(repr(name) for name in get_args(ExportFormat))
        + ", without repeats",
    ),
    AfterValidator(_no_repeats),
]


class ExportConfig(_Section):
    """Serving formats written next to the Keras generator, and the MLflow model export registers."""

    formats: ExportFormats = ("savedmodel", "tflite_float32", "tflite_float16")
    parity_images: Annotated[int, Field(ge=1, le=10_000)] = 8
    latency_runs: Annotated[int, Field(ge=1, le=10_000)] = 20
    registered_model_name: Name = "sketch2color-generator"


class Params(_Section):
    """The whole of params.yaml."""

    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 42
    data: DataConfig = Field(default_factory=DataConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)

    def to_flat_dict(self) -> dict[str, Any]:
        """Dotted keys to plain values, the form MLflow and hashes want."""
        return flatten(self.model_dump())


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
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        raise _config_error(error, raw) from None


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


# ---------------------------------------------------------------- errors
#
# pydantic's own messages name the failed check ("Input should be less than or
# equal to 1024"); a user editing params.yaml wants the dotted key, the value and
# the whole of what is allowed. That text is read off the JSON schema pydantic
# derives from the annotations (bounds, choices, a field's ``description`` where
# a schema cannot say it), so no field is described twice.

_UNKNOWN_KEY = ("extra_forbidden", "invalid_key")


def _config_error(error: ValidationError, raw: Any) -> ConfigError:
    """The first fault as a ConfigError; unknown keys first, as a typo explains the faults after it."""
    faults = error.errors(include_url=False)
    fault = next((f for f in faults if f["type"] in _UNKNOWN_KEY), faults[0])
    schema = Params.model_json_schema()
    key, node, section = _locate(schema, fault["loc"])
    if fault["type"] in _UNKNOWN_KEY:
        allowed = "a known key; allowed here: " + ", ".join(section.get("properties", {}))
        return ConfigError(key, _value_at(raw, fault["loc"]), allowed, unknown=True)
    if fault["type"] == "cross_field":
        context = fault.get("ctx", {})
        key = _join(key, context["field"])
        return ConfigError(key, context["value"], context["allowed"])
    return ConfigError(key or ProjectPaths.PARAMS, fault["input"], _describe(schema, node))


def _locate(schema: dict, loc: tuple) -> tuple[str, dict, dict]:
    """The dotted key of a fault's location, its schema node and the section that holds it.

    The walk stops where the location leaves the params' own keys: after an
    unknown key, or at the tag pydantic appends for a member of a union.
    """
    key, node, section = "", schema, schema
    for part in loc:
        resolved = _resolve(schema, node)
        if "properties" in resolved:
            section, key = resolved, _join(key, str(part))
            node = resolved["properties"].get(part, {})
        elif resolved.get("type") == "array" and isinstance(part, int):
            key, node = f"{key}[{part}]", resolved["items"]
        else:
            break
    return key, node, section


def _describe(schema: dict, node: dict) -> str:
    """What a schema node allows, in words."""
    resolved = _resolve(schema, node)
    if resolved.get("type") == "object":  # a section (its description is the class's docstring)
        return "a mapping of keys to values"
    if "description" in node:
        return node["description"]
    node = resolved
    if "anyOf" in node:
        return ", or ".join(_describe(schema, member) for member in node["anyOf"])
    if "enum" in node or "const" in node:
        return "one of " + ", ".join(repr(choice) for choice in node.get("enum", [node.get("const")]))
    kind: str = node.get("type", "")
    if kind in ("integer", "number"):
        return ("an integer" if kind == "integer" else "a finite number") + _bounds(node)
    words = {"boolean": "true or false", "string": "a string", "null": "null"}
    if kind == "array":
        return "a list of " + _describe(schema, node.get("items", {}))
    return words.get(kind, "a valid value")


def _bounds(node: dict) -> str:
    low, high, above = node.get("minimum"), node.get("maximum"), node.get("exclusiveMinimum")
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" of at least {low}"
    if above is not None:
        return f" above {above}"
    return ""


def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref")
    return schema["$defs"][ref.rsplit("/", 1)[-1]] if ref else node


def _value_at(raw: Any, loc: tuple) -> Any:
    for part in loc:
        raw = raw.get(part) if isinstance(raw, dict) else None
    return raw


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name
