"""Train-step throughput: the project's step against the tutorial's, side by side.

Each variant runs in its own Python process (:mod:`.train_worker`): XLA,
thread pools and mixed precision are process-wide settings that must be
chosen before TensorFlow starts, and a fresh process also gives each variant
its own peak-memory figure. The variants are timed one after another in the
same ``make bench`` run, so the speed-up over the reference is measured under
the same load.

What is timed is exactly one call of the training loop's step (forward,
both backward passes, both optimiser updates, and the metrics pulled back to
Python as the loop does), on fixed in-memory batches: the input pipeline is
measured on its own by :mod:`.input_pipeline`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench.processes import run_child
from sketch2color.config import Norm

PAPER_IMAGE_SIZE = 256
PAPER_WIDTH = 64  # ngf and ndf in the paper
PAPER_TRAIN_PAIRS = 14_224  # Kaggle train pairs: one epoch of the paper's run
RESULT_MARKER = "BENCH_RESULT "
WORKER_TIMEOUT_S = 900

Implementation = Literal["project", "reference"]


@dataclass(frozen=True)
class TrainVariant:
    """One way of training the model, timed in its own process."""

    name: str
    implementation: Implementation
    batch: int
    norm: Norm = "batch"
    xla: bool = False
    mixed_precision: bool = False
    image_size: int = PAPER_IMAGE_SIZE
    ngf: int = PAPER_WIDTH
    ndf: int = PAPER_WIDTH
    warmup: int = 3
    steps: int = 10


@dataclass(frozen=True)
class TrainPlan:
    """Sizes and batch sizes for one bench run (the paper's, or --quick's)."""

    image_size: int
    width: int
    batch_sizes: tuple[int, ...]
    warmup: int
    steps: int
    reference_batches: tuple[int, ...]
    with_xla: bool

    @classmethod
    def full(cls, on_gpu: bool) -> TrainPlan:
        # On a GPU a batch of 1 starves the device; on a CPU the gain flattens out by 8.
        batches = (1, 8, 32, 64) if on_gpu else (1, 2, 4, 8)
        return cls(
            PAPER_IMAGE_SIZE,
            PAPER_WIDTH,
            batches,
            warmup=3,
            steps=12,
            reference_batches=(1, 4),
            with_xla=True,
        )

    @classmethod
    def quick(cls) -> TrainPlan:
        return cls(32, 8, (2,), warmup=1, steps=3, reference_batches=(1,), with_xla=False)


def _variant(plan: TrainPlan, name: str, implementation: Implementation, batch: int, **kw) -> TrainVariant:
    return TrainVariant(
        name,
        implementation,
        batch,
        image_size=plan.image_size,
        ngf=plan.width,
        ndf=plan.width,
        warmup=plan.warmup,
        steps=plan.steps,
        **kw,
    )


def run_variants(variants: list[TrainVariant]) -> list[dict]:
    """Time ``variants`` one after another in one fresh Python process; their result dicts."""
    specs = json.dumps([dataclasses.asdict(v) for v in variants])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    run = run_child(
        [sys.executable, "-m", "bench.train_worker", specs],
        Path.cwd(),
        env,
        WORKER_TIMEOUT_S * len(variants),
    )
    results = [
        json.loads(line[len(RESULT_MARKER) :])
        for line in run.stdout.splitlines()
        if line.startswith(RESULT_MARKER)
    ]
    if run.returncode != 0 or len(results) != len(variants):
        names = ", ".join(v.name for v in variants)
        raise RuntimeError(
            f"train variant(s) {names} failed (exit {run.returncode}):\n{(run.stderr or run.stdout)[-2000:]}"
        )
    return [{"variant": dataclasses.asdict(v), **r} for v, r in zip(variants, results, strict=True)]


def _default_profile_variants(plan: TrainPlan, with_mixed: bool, mixed: str) -> list[TrainVariant]:
    """The default params.yaml's model and batch (what ``dvc repro`` trains), float32 and mixed."""
    from sketch2color.config import Params

    train, size = Params().train, Params().data.image_size
    name = f"default profile b{train.batch_size} (ngf {train.ngf}, ndf {train.ndf}, {train.norm} norm)"
    common = dict(
        image_size=size,
        ngf=train.ngf,
        ndf=train.ndf,
        norm=train.norm,
        warmup=plan.warmup,
        steps=2 * plan.steps,
    )
    variants = [TrainVariant(name, "project", train.batch_size, **common)]
    if with_mixed:
        variants.append(
            TrainVariant(f"{name} {mixed}", "project", train.batch_size, mixed_precision=True, **common)
        )
    return variants


def _mixed_name(on_gpu: bool) -> str:
    return "mixed float16" if on_gpu else "mixed bfloat16"


def train_section(quick: bool, on_gpu: bool, report=print) -> dict:
    """Reference and project variants; the best batch size; speed-ups; epoch time.

    The full run gives every variant its own process (a clean peak-memory
    figure, and XLA's compiler state never leaks into the next variant);
    ``--quick`` times its tiny variants in one process. Mixed precision is
    measured where the hardware computes 16-bit natively: float16 on a GPU,
    bfloat16 on a CPU with AVX512_BF16/AMX (see
    :mod:`sketch2color.training.precision`). It changes the arithmetic, so
    the best float32 figure is reported on its own as well.
    """
    from sketch2color.training.precision import cpu_has_native_bfloat16

    plan = TrainPlan.quick() if quick else TrainPlan.full(on_gpu)
    with_mixed = on_gpu or (not quick and cpu_has_native_bfloat16())
    results: list[dict] = []

    def measure(*variants: TrainVariant) -> list[dict]:
        if not variants:
            return []
        groups = [list(variants)] if quick else [[v] for v in variants]
        measured = []
        for group in groups:
            report("  train: " + ", ".join(v.name for v in group) + " ...")
            for result in run_variants(group):
                report(f"  train: {result['variant']['name']}: {result['images_per_s']:.2f} images/s")
                measured.append(result)
        results.extend(measured)
        return measured

    references_planned = [_variant(plan, f"reference b{b}", "reference", b) for b in plan.reference_batches]
    measured = measure(
        *references_planned,
        _variant(plan, "paper (batch norm) b1", "project", 1, norm="batch"),
        *[_variant(plan, f"instance norm b{b}", "project", b, norm="instance") for b in plan.batch_sizes],
    )
    references = measured[: len(references_planned)]
    paper, *instance = measured[len(references_planned) :]
    best_batch = max(instance, key=lambda r: r["images_per_s"])["variant"]["batch"]
    extra: list[TrainVariant] = []
    if plan.with_xla:
        extra += [
            _variant(plan, "paper (batch norm) b1 XLA", "project", 1, norm="batch", xla=True),
            _variant(
                plan, f"instance norm b{best_batch} XLA", "project", best_batch, norm="instance", xla=True
            ),
        ]
    if with_mixed:
        mixed = _mixed_name(on_gpu)
        extra += [
            _variant(
                plan, f"paper (batch norm) b1 {mixed}", "project", 1, norm="batch", mixed_precision=True
            ),
            _variant(
                plan,
                f"instance norm b{best_batch} {mixed}",
                "project",
                best_batch,
                norm="instance",
                mixed_precision=True,
            ),
        ]
        if on_gpu:
            extra.append(
                _variant(
                    plan,
                    f"instance norm b{best_batch} {mixed} XLA",
                    "project",
                    best_batch,
                    norm="instance",
                    xla=True,
                    mixed_precision=True,
                )
            )
    measure(*extra)
    # The paper's model at any batch, precision or compiler: what "best" is chosen from.
    paper_model = [r for r in results if r["variant"]["implementation"] == "project"]
    defaults = measure(*_default_profile_variants(plan, with_mixed, _mixed_name(on_gpu))) if not quick else []
    if not quick:
        # The reference once more, last: a neighbour's burst of work during one of its two runs
        # would otherwise decide every speed-up below. The faster run is the baseline.
        references += measure(_variant(plan, "reference b1 (again, last)", "reference", 1))

    reference_b1 = max(r["images_per_s"] for r in references if r["variant"]["batch"] == 1)

    def summary(result: dict) -> dict:
        return {
            "name": result["variant"]["name"],
            "images_per_s": result["images_per_s"],
            "speedup_vs_reference_b1": round(result["images_per_s"] / reference_b1, 3),
        }

    best = max(paper_model, key=lambda r: r["images_per_s"])
    best_float32 = max(
        (r for r in paper_model if not r["variant"]["mixed_precision"]), key=lambda r: r["images_per_s"]
    )
    return {
        "image_size": plan.image_size,
        "ngf": plan.width,
        "ndf": plan.width,
        "variants": results,
        "reference_b1_images_per_s": reference_b1,
        "paper_b1_images_per_s": paper["images_per_s"],
        "paper_b1_speedup_vs_reference_b1": round(paper["images_per_s"] / reference_b1, 3),
        "best_float32": summary(best_float32),
        "best": summary(best),
        "epoch_s_for_paper_train_pairs": round(PAPER_TRAIN_PAIRS / best["images_per_s"], 1),
        "default_profile": {r["variant"]["name"]: r["images_per_s"] for r in defaults},
    }
