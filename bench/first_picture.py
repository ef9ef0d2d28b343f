"""One ``sketch2color colorize`` call per model format, start-up included: what a user waits for.

colorize and the GUI load one model per run, so the figure that matters to a
user is a fresh process's wall time and peak memory for one 256 px sketch:
Python, the runtime's start-up (TensorFlow for ``.keras`` and the SavedModel,
LiteRT for TFLite), the model and one picture. The export stage chooses the
format the tools load by this (``sketch2color.export.tool_format``); this
section puts the same figure in the benchmark for every format, each run
:data:`RUNS` times (the fastest and the slowest run are both shown: shared
cores make start-up vary).

The model is the default params' generator (size, width, norm and hint
channels from params.yaml), untrained, saved as ``.keras`` and exported by the
export stage's own writers.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench.colorize_memory import _write_one_sketch
from bench.processes import run_child
from bench.project import child_env, default_params, project_root
from sketch2color.paths import ProjectPaths

SKETCH_SIDE = 256
RUNS = 3
TIMEOUT_S = 600
FORMATS = ("keras", "savedmodel", "tflite_float32", "tflite_float16")


def _models(folder: Path, quick: bool) -> dict[str, Path]:
    import keras

    from sketch2color.export import formats
    from sketch2color.model import build_generator

    params = default_params(project_root())
    size = 32 if quick else int(params["data"]["image_size"])
    train = params["train"]
    keras.utils.set_random_seed(0)
    generator = build_generator(
        size, 8 if quick else int(train["ngf"]), train["norm"], hints=bool(train["hints"]["enabled"])
    )
    generator.save(folder / ProjectPaths.GENERATOR)
    written, _ = formats.write_formats(generator, size, "eval", FORMATS[1:], folder)
    return {"keras": folder / ProjectPaths.GENERATOR, **written}


def first_picture_section(quick: bool, report=print) -> dict:
    runs = 1 if quick else RUNS
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-first-picture-") as tmp:
        folder = Path(tmp)
        report("  first picture: the default generator in every format ...")
        models = _models(folder, quick)
        sketch = folder / f"sketch-{SKETCH_SIDE}.png"
        _write_one_sketch(sketch, SKETCH_SIDE, SKETCH_SIDE)
        results = {}
        for name in FORMATS:
            report(f"  first picture: {name}, {runs} fresh colorize run(s) ...")
            measured = [
                run_child(
                    [
                        sys.executable,
                        "-m",
                        "sketch2color.cli",
                        "colorize",
                        str(sketch),
                        "-o",
                        str(folder / f"coloured-{name}.png"),
                        "--model",
                        str(models[name]),
                    ],
                    folder,
                    child_env(folder),
                    TIMEOUT_S,
                ).check(f"colorize with {name}")
                for _ in range(runs)
            ]
            walls = sorted(run.wall_s for run in measured)
            results[name] = {
                "wall_s_min": round(walls[0], 2),
                "wall_s_max": round(walls[-1], 2),
                "peak_rss_mib": round(max(run.peak_rss_mib for run in measured), 1),
                "runs": runs,
            }
    quickest = min(results, key=lambda name: results[name]["wall_s_min"])
    return {"sketch": f"{SKETCH_SIDE}x{SKETCH_SIDE}", "formats": results, "quickest": quickest}
