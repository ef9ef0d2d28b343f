"""Train variants timed in this process: ``python -m bench.train_worker JSON_LIST``.

Prints one line ``BENCH_RESULT {...}`` per variant, in order, for
:func:`bench.train.run_variants`. The full benchmark gives each
variant its own process; ``--quick`` runs its few tiny variants in one.
The first call (tracing, and compiling under XLA) is timed on its own and
reported as ``first_step_s``; the remaining warm-up calls and the timed
calls follow.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.timing import time_calls
from bench.train import RESULT_MARKER, TrainVariant
from sketch2color.training.allocator import keep_freed_memory


def project_step(variant: TrainVariant, sketches, colors) -> Callable[[], dict]:
    """The training loop's own step (make_train_step) for this variant's config."""
    import tensorflow as tf

    from sketch2color.config import params_from_dict
    from sketch2color.training.schedule import learning_rate_schedule
    from sketch2color.training.state import build_training_state
    from sketch2color.training.step import make_train_step

    params = params_from_dict(
        {
            "seed": 0,
            "data": {"image_size": variant.image_size},
            "train": {
                "batch_size": variant.batch,
                "ngf": variant.ngf,
                "ndf": variant.ndf,
                "norm": variant.norm,
                "xla": variant.xla,
                "mixed_precision": variant.mixed_precision,
                # The sketch alone, as the reference takes it: hint channels (the default run's)
                # widen only the first layer's input, 3 -> 7 channels.
                "hints": {"enabled": False},
            },
        }
    )
    strategy = tf.distribute.get_strategy()
    schedule = learning_rate_schedule(params.train.learning_rate, 1, 0, 10_000)
    state = build_training_state(params.train, variant.image_size, schedule)
    step = make_train_step(state, params.train, strategy)
    return lambda: {name: float(value) for name, value in step((sketches, colors)).items()}


def reference_step(variant: TrainVariant, sketches, colors) -> Callable[[], list]:
    from bench.reference import TutorialPix2Pix

    if variant.xla or variant.mixed_precision or variant.norm != "batch":
        raise ValueError("the reference is the tutorial as written: batch norm, no XLA, float32")
    model = TutorialPix2Pix(variant.image_size, variant.ngf, variant.ndf)
    return lambda: [float(value) for value in model.train_step(sketches, colors)]


def measure(variant: TrainVariant) -> dict:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    shape = (variant.batch, variant.image_size, variant.image_size, 3)
    sketches = tf.random.uniform(shape, -1.0, 1.0, seed=1)
    colors = tf.random.uniform(shape, -1.0, 1.0, seed=2)
    build = project_step if variant.implementation == "project" else reference_step
    step = build(variant, sketches, colors)

    started = time.perf_counter()
    step()
    first_step_s = time.perf_counter() - started
    timings = time_calls(step, max(0, variant.warmup - 1), variant.steps)
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "images_per_s": round(timings.rate(variant.batch), 3),
        "step": timings.to_dict(),
        "first_step_s": round(first_step_s, 2),
        "peak_rss_mib": round(peak_rss_kib / 1024, 1),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.train_worker VARIANTS_JSON_LIST", file=sys.stderr)
        return 2
    specs = json.loads(argv[1])
    if all(spec["implementation"] == "project" for spec in specs):
        keep_freed_memory()  # as the train stage does; the reference runs as the tutorial has it
    for spec in specs:
        result = measure(TrainVariant(**spec))
        print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
