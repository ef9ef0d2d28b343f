"""Does each exported format give the Keras model's images, and how fast is it?

Parity: each format, loaded through the inference layer exactly as
``colorize`` loads it (:mod:`sketch2color.inference.backends`), colours up to
``export.parity_images`` test sketches; its outputs are compared with the
Keras generator's, through the same layer as evaluate scores it, by the
maximum and mean absolute difference in uint8 grey levels and by the mean
SSIM between the two outputs.
Rounding alone can move a pixel by one level, so float32 formats should be
within 1-2 levels; float16 weights move outputs by a few levels.

A format *agrees* when its outputs are visually the Keras model's: mean SSIM
against them at least :data:`MIN_SSIM_VS_KERAS` and mean absolute difference
at most :data:`MAX_MEAN_ABS_DIFF`. These bounds catch a broken conversion
(a model that outputs zeros, NaN or swapped channels scores SSIM near 0)
without failing a float16 model for a few off-by-some pixels. Under
``train_dropout`` the outputs are random draws, so agreement is not judged.

Timing: latency per image is the wall time of a batch of one, measured
``export.latency_runs`` times after one warm-up call (which pays for graph
tracing, allocation and XNNPACK set-up), reported as p50 and p95 in ms.
Throughput is images per second for the whole parity batch (median of
:data:`THROUGHPUT_REPEATS` calls after a warm-up). Speed is reported, never
asserted: it depends on the machine.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from sketch2color.evaluation.metrics import ssim_per_image
from sketch2color.inference.backends import Backend

MIN_SSIM_VS_KERAS = 0.98
MAX_MEAN_ABS_DIFF = 1.5
THROUGHPUT_REPEATS = 3


@dataclass(frozen=True)
class Parity:
    max_abs_diff: int
    mean_abs_diff: float
    ssim_vs_keras: float
    agrees: bool | None


@dataclass(frozen=True)
class Timing:
    latency_ms_p50: float
    latency_ms_p95: float
    throughput_images_per_s: float
    throughput_batch: int


@dataclass(frozen=True)
class FormatReport:
    path: str
    bytes: int
    parity: Parity
    timing: Timing
    parity_with_hints: Parity | None = None
    """For a hint model: the same comparison with simulated hints, through the with_hints signature."""

    @property
    def agrees(self) -> bool | None:
        """False when either comparison found a difference; None when neither was judged."""
        judged = [p.agrees for p in (self.parity, self.parity_with_hints) if p is not None]
        if False in judged:
            return False
        return True if True in judged else None

    def to_dict(self) -> dict:
        entry = {"path": self.path, "bytes": self.bytes, **asdict(self.parity), **asdict(self.timing)}
        if self.parity_with_hints is not None:
            entry["with_hints"] = asdict(self.parity_with_hints)
        entry["agrees"] = self.agrees
        return entry


# ---------------------------------------------------------------- measuring


def compare(outputs: np.ndarray, reference: np.ndarray, judge: bool = True) -> Parity:
    if outputs.shape != reference.shape or outputs.dtype != np.uint8:
        raise ValueError(
            f"format output is {outputs.dtype} {outputs.shape}, expected uint8 {reference.shape}"
        )
    diff = np.abs(outputs.astype(np.int16) - reference.astype(np.int16))
    ssim = float(ssim_per_image(outputs, reference).mean())
    mean_diff = float(diff.mean())
    agrees = (ssim >= MIN_SSIM_VS_KERAS and mean_diff <= MAX_MEAN_ABS_DIFF) if judge else None
    return Parity(max_abs_diff=int(diff.max()), mean_abs_diff=mean_diff, ssim_vs_keras=ssim, agrees=agrees)


def measure_timing(backend: Backend, sketches: np.ndarray, runs: int) -> Timing:
    runner = backend.color_batch
    single = sketches[:1]
    runner(single)  # warm-up
    latencies = []
    for _ in range(runs):
        started = time.perf_counter()
        runner(single)
        latencies.append((time.perf_counter() - started) * 1000.0)
    p50, p95 = np.percentile(latencies, [50, 95])

    runner(sketches)  # warm-up at the batch shape
    rates = []
    for _ in range(THROUGHPUT_REPEATS):
        started = time.perf_counter()
        runner(sketches)
        rates.append(len(sketches) / max(time.perf_counter() - started, 1e-9))
    return Timing(
        latency_ms_p50=float(p50),
        latency_ms_p95=float(p95),
        throughput_images_per_s=float(np.median(rates)),
        throughput_batch=int(len(sketches)),
    )
