"""Wall time and peak memory of each pipeline stage, each run as its own process.

The stages run in a temporary project on the default params.yaml with two
changes that keep this section to a couple of minutes without changing what
a stage holds in memory: fewer OpenMoji drawings (``fetch.openmoji.limit``)
and one training epoch (the train stage's memory is reached within its first
epoch, when the in-memory dataset cache fills). ``--quick`` shrinks images
and models too and measures only train, evaluate and export (the others are
run in this process to prepare their data, from a few procedural scenes).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench.processes import run_child
from bench.project import child_env, default_params, override, project_root, write_params

ALL_STAGES = ("fetch", "split", "augment", "train", "evaluate", "export")
MEMORY_STAGES = ("train", "evaluate", "export")
STAGE_TIMEOUT_S = 1200

FULL_OVERRIDES = {
    "fetch.openmoji.limit": 200,
    "train.epochs": 1,
    "train.decay_epochs": 0,
}
QUICK_OVERRIDES = {
    "fetch.source": "synthetic",
    "data.image_size": 32,
    "fetch.synthetic.count": 12,
    "fetch.synthetic.pair_width": 128,
    "fetch.synthetic.pair_height": 64,
    "fetch.synthetic.workers": 1,
    "split.workers": 1,
    "augment.copies": 1,
    "augment.preview_pairs": 2,
    "train.epochs": 1,
    "train.decay_epochs": 0,
    "train.batch_size": 4,
    "train.ngf": 8,
    "train.ndf": 8,
    "train.validation_examples": 2,
    "evaluate.batch_size": 4,
    "export.formats": ["savedmodel"],
    "export.parity_images": 2,
    "export.latency_runs": 2,
}


def _prepare_in_process(folder: Path) -> None:
    """fetch, split and augment without a process each (``--quick``: only their outputs matter)."""
    from sketch2color.config import load_params
    from sketch2color.paths import ProjectPaths
    from sketch2color.pipeline import augment, fetch, split

    paths = ProjectPaths(folder)
    params = load_params(paths.params)
    for stage in (fetch.run, split.run, augment.run):
        stage(params, paths)


def stages_section(quick: bool, report=print) -> dict:
    root = project_root()
    params = override(default_params(root), QUICK_OVERRIDES if quick else FULL_OVERRIDES)
    measured = MEMORY_STAGES if quick else ALL_STAGES
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-stages-") as tmp:
        folder = Path(tmp)
        write_params(folder, params)
        if quick:
            _prepare_in_process(folder)
        env = child_env(folder)
        for stage in measured:
            report(f"  stages: {stage} ...")
            run = run_child(
                [sys.executable, str(root / "stages" / f"{stage}.py")], folder, env, STAGE_TIMEOUT_S
            ).check(f"the {stage} stage")
            results[stage] = {"wall_s": round(run.wall_s, 2), "peak_rss_mib": round(run.peak_rss_mib, 1)}
            report(f"  stages: {stage}: {run.wall_s:.1f} s, peak RSS {run.peak_rss_mib:.0f} MiB")
    return {
        "overrides_of_params_yaml": QUICK_OVERRIDES if quick else FULL_OVERRIDES,
        "stages": results,
    }
