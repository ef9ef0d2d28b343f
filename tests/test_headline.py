"""The headline stage: the few scores DVC compares, taken from the stages' full outputs.

The inputs have the shape the train, evaluate and export stages write (the
end-to-end test runs the stage itself on real ones).
"""

from __future__ import annotations

import json

import pytest

from sketch2color.errors import DataError
from sketch2color.paths import ProjectPaths
from sketch2color.pipeline.headline import headline, run


def stats(mean: float) -> dict:
    return {"mean": mean, "median": mean, "p5": mean - 1, "p95": mean + 1, "std": 0.5}


def evaluation(with_hints: bool = True) -> dict:
    rows = [
        {"hints": 0, "fill_delta_e": 22.2, "picture_fill_delta_e": 24.9, "picture_leak": 0.0},
        {"hints": 1, "fill_delta_e": 22.1, "picture_fill_delta_e": 20.7, "picture_leak": 0.001},
        {"hints": 10, "fill_delta_e": 21.1, "picture_fill_delta_e": 13.6, "picture_leak": 0.004},
    ]
    for row, gapped in zip(rows, (25.0, 21.0, 8.1), strict=True):
        row.update(
            gap4_fill_delta_e=gapped - 1, gap16_fill_delta_e=gapped, gap16_leak=row["picture_leak"] * 2
        )
    return {
        "model": {"fill_delta_e": stats(22.2), "ssim": stats(0.88)},
        "baseline_sketch": {"fill_delta_e": stats(29.0)},
        "baseline_mean_color": {"fill_delta_e": stats(31.0)},
        "full_resolution": {
            "images": 55,
            "line_faithful": {"fill_delta_e": stats(24.9), "ssim": stats(0.949), "psnr": stats(18.9)},
            "stretched": {"fill_delta_e": stats(27.0), "ssim": stats(0.9), "psnr": stats(17.0)},
            "baseline_sketch": {"fill_delta_e": stats(30.1), "ssim": stats(0.93), "psnr": stats(15.9)},
        },
        "hints": {
            "counts": [0, 1, 10] if with_hints else [0],
            "gap_widths_px_at_512": [4, 16] if with_hints else [],
            "table": rows if with_hints else [{"hints": 0, "fill_delta_e": 22.2}],
        },
    }


EXPORT = {
    "default": "tflite_float32",
    "fastest": "savedmodel",
    "formats": {"savedmodel": {"latency_ms_p50": 5.9}, "tflite_float32": {"latency_ms_p50": 6.4}},
}
TRAIN = {"images_per_s": 57.2, "epochs": 10, "gen_l1": 0.08}


def test_the_headline_is_the_picture_the_baseline_the_hint_curve_speed_and_the_tools_latency():
    assert headline(TRAIN, evaluation(), EXPORT) == {
        "dE00": 24.9,
        "ssim": 0.949,
        "psnr": 18.9,
        "base_dE00": 30.1,  # the baseline scored in the picture, not at the model's size
        "dabs": {"1": 20.7, "10": 13.6},
        "square": {"0": 22.2, "10": 21.1},  # the model's own following of dabs
        "gap16": {"10": 8.1},  # the widest gaps only
        "leak": 0.008,  # the worst of every count, closed or gapped
        "img_per_s": 57.2,
        "latency_ms": 6.4,  # the format colorize loads, not the fastest per image
    }


def test_scores_that_were_not_made_are_left_out():
    plain = evaluation(with_hints=False)
    del plain["full_resolution"]
    older_export = {"fastest": "savedmodel", "formats": EXPORT["formats"]}  # made before `default`
    assert headline({}, plain, older_export) == {"square": {"0": 22.2}, "latency_ms": 5.9}


def test_the_stage_writes_the_dvc_metrics_file_and_names_a_missing_input(tmp_path):
    paths = ProjectPaths(tmp_path)
    paths.metrics.mkdir()
    paths.train_metrics.write_text(json.dumps(TRAIN))
    paths.eval_metrics.write_text(json.dumps(evaluation()))
    with pytest.raises(DataError, match="export.json: missing"):
        run(None, paths)  # type: ignore[arg-type]  # the stage reads no params
    paths.export_metrics.write_text("[1, 2]")
    with pytest.raises(DataError, match="export.json: expected a JSON object"):
        run(None, paths)  # type: ignore[arg-type]
    paths.export_metrics.write_text(json.dumps(EXPORT))
    run(None, paths)  # type: ignore[arg-type]
    assert json.loads(paths.headline_metrics.read_text())["latency_ms"] == 6.4


def test_figures_are_rounded_for_narrow_columns():
    train = {"images_per_s": 68.30412}
    assert headline(train, {}, {})["img_per_s"] == 68.3
