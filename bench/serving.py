"""Generator inference: one image's latency and a batch's throughput in every served format.

The generator is the paper's (256 px, ngf 64, batch norm) with freshly
initialised weights - speed does not depend on what the weights learned.
The formats are written and timed by the export stage's own code
(:mod:`sketch2color.export.formats`, :mod:`sketch2color.export.parity`) and
loaded through the inference layer (:mod:`sketch2color.inference.backends`), so
these are the figures ``metrics/export.json`` would report for that model:
Keras in a ``tf.function``, the SavedModel's serving signature, and TFLite
float32 and float16, all uint8 in and uint8 out.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from bench.timing import Stopwatch
from sketch2color.paths import ProjectPaths

FORMATS = ("savedmodel", "tflite_float32", "tflite_float16")


def serving_section(quick: bool, report=print) -> dict:
    import keras

    from sketch2color.export import formats, parity
    from sketch2color.inference.backends import KerasBackend, open_model
    from sketch2color.model import build_generator

    size, ngf, batch, runs = (32, 8, 4, 3) if quick else (256, 64, 8, 10)
    keras.utils.set_random_seed(0)
    generator = build_generator(size, ngf, "batch")
    sketches = np.random.default_rng(0).integers(0, 256, (batch, size, size, 3), np.uint8)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-serving-") as tmp:
        report("  serving: writing SavedModel and TFLite ...")
        with Stopwatch() as export_watch:
            written, skipped = formats.write_formats(generator, size, "eval", FORMATS, Path(tmp))
        keras_file = Path(tmp) / ProjectPaths.GENERATOR
        generator.save(keras_file)
        # Every format through the inference layer, exactly as colorize and the export check load it.
        backends = {"keras_tf_function": KerasBackend(keras_file, "eval")}
        for name in FORMATS:
            backends[name] = open_model(written[name], "eval", size)
        for name, backend in backends.items():
            report(f"  serving: {name} ...")
            timing = parity.measure_timing(backend, sketches, runs)
            results[name] = {
                "latency_ms_p50": round(timing.latency_ms_p50, 2),
                "latency_ms_p95": round(timing.latency_ms_p95, 2),
                "batch_images_per_s": round(timing.throughput_images_per_s, 2),
                "batch": timing.throughput_batch,
            }
            if name in written:
                results[name]["bytes"] = formats.size_in_bytes(written[name])
    return {
        "image_size": size,
        "ngf": ngf,
        "norm": "batch",
        "latency_runs": runs,
        "export_seconds": round(export_watch.seconds, 1),
        "formats": results,
    }
