"""`python -m bench --quick` measures every section and writes bench.json.

Speed is never asserted (it depends on the machine and its load): these
tests check that each section ran and produced sane, positive figures.
The runs of the benchmark (which starts stage, training and serving
processes) are marked slow; `make test-fast` leaves them out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SECTIONS = (
    "train",
    "input_pipeline",
    "serving",
    "serving_load",
    "data_stages",
    "stages",
    "colorize",
    "first_picture",
    "recolour",
)


def _bench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One `python -m bench --quick` of every default section, read by the slow tests below."""
    folder = tmp_path_factory.mktemp("bench")
    output = folder / "bench.json"
    result = _bench("--quick", "--output", str(output), cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    return result, json.loads(output.read_text())


@pytest.mark.slow
def test_quick_bench_writes_every_default_section(quick_run):
    result, bench = quick_run
    assert set(DEFAULT_SECTIONS) <= set(bench)
    assert "repro" not in bench  # opt-in only
    assert bench["run"]["quick"] is True and bench["run"]["sections"] == list(DEFAULT_SECTIONS)
    for name in DEFAULT_SECTIONS:
        assert bench[name]["measured"]["quick"] is True
    machine = bench["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["tensorflow"] and machine["python"]
    assert isinstance(machine["gpus"], list)
    assert "img/s" in result.stdout and "measurement" in result.stdout  # the printed table


@pytest.mark.slow
def test_train_section_times_the_reference_and_the_project_side_by_side(quick_run):
    train = quick_run[1]["train"]
    implementations = [v["variant"]["implementation"] for v in train["variants"]]
    assert implementations.count("reference") >= 1 and implementations.count("project") >= 2
    for variant in train["variants"]:
        assert variant["images_per_s"] > 0 and variant["peak_rss_mib"] > 0
        step = variant["step"]
        assert 0 < step["p10_s"] <= step["median_s"] <= step["p90_s"]
        assert step["timed_calls"] == variant["variant"]["steps"]
    assert train["reference_b1_images_per_s"] > 0
    best = train["best"]
    assert best["images_per_s"] == max(
        v["images_per_s"] for v in train["variants"] if v["variant"]["implementation"] == "project"
    )
    assert best["speedup_vs_reference_b1"] == pytest.approx(
        best["images_per_s"] / train["reference_b1_images_per_s"], rel=1e-2
    )
    assert train["epoch_s_for_paper_train_pairs"] > 0


@pytest.mark.slow
def test_input_pipeline_is_compared_with_the_train_step(quick_run):
    bench = quick_run[1]
    section = bench["input_pipeline"]
    assert section["first_epoch_images_per_s"] > 0 and section["cached_epochs_images_per_s"] > 0
    assert section["images_per_epoch"] == section["pairs"] // section["batch"] * section["batch"]
    ratios = section["ratios"]
    assert ratios["train_images_per_s"] == bench["train"]["best"]["images_per_s"]
    assert ratios["cached_ratio"] > 0 and ratios["first_epoch_ratio"] > 0
    assert section["hints_cached_epochs_images_per_s"] > 0 and ratios["hints_cached_ratio"] > 0


@pytest.mark.slow
def test_serving_times_every_format(quick_run):
    formats = quick_run[1]["serving"]["formats"]
    assert set(formats) == {"keras_tf_function", "savedmodel", "tflite_float32", "tflite_float16"}
    for name, figures in formats.items():
        assert figures["latency_ms_p50"] > 0 and figures["batch_images_per_s"] > 0, name
    assert formats["tflite_float16"]["bytes"] < formats["tflite_float32"]["bytes"]


@pytest.mark.slow
def test_serving_load_answers_concurrent_clients_of_a_real_model_server(quick_run):
    section = quick_run[1]["serving_load"]
    assert section["bounds"]["max_rows"] >= 1 and section["bounds"]["max_pixels"] >= 1
    (run,) = section["runs"]
    assert run["workers"] == 1 and run["startup_s"] > 0 and run["idle_rss_mib"] > 0
    assert [case["clients"] for case in run["cases"]] == [1, 2]
    for case in run["cases"]:
        assert case["req_per_s"] > 0 and 0 < case["p50_s"] <= case["p95_s"]
        assert case["peak_rss_mib"] >= run["idle_rss_mib"] * 0.9 and case["rss_after_mib"] > 0


@pytest.mark.slow
def test_data_stages_and_stage_memory_are_measured(quick_run):
    bench = quick_run[1]
    data = bench["data_stages"]
    assert data["generation"]["pairs_per_s"] > 0
    assert data["split"]["pairs_per_s"] > 0 and data["split"]["pairs"] == data["generation"]["pairs"]
    assert all(rate > 0 for rate in data["augment"].values())
    stages = bench["stages"]["stages"]
    assert set(stages) == {"train", "evaluate", "export"}
    for name, figures in stages.items():
        assert figures["peak_rss_mib"] > 100 and figures["wall_s"] > 0, name  # TensorFlow alone is more


def test_augment_benchmark_reports_a_rate():
    from bench.data_stages import benchmark_augment

    rate = benchmark_augment(image_size=32, pairs=3)
    assert np.isfinite(rate) and rate > 0


@pytest.mark.slow
def test_colorize_memory_is_measured_for_a_small_and_a_ten_times_larger_folder(quick_run):
    section = quick_run[1]["colorize"]
    runs = section["runs"]
    assert len(runs) == 2
    small, large = sorted(runs.values(), key=lambda r: r["files"])
    assert large["files"] == 10 * small["files"]
    for run in (small, large):
        assert run["written"] == run["files"] and run["peak_rss_mib"] > 0
    assert section["peak_rss_growth_mib"] == pytest.approx(
        large["peak_rss_mib"] - small["peak_rss_mib"], abs=0.2
    )


@pytest.mark.slow
def test_one_fresh_colorize_is_measured_for_every_format(quick_run):
    result, bench = quick_run
    section = bench["first_picture"]
    assert set(section["formats"]) == {"keras", "savedmodel", "tflite_float32", "tflite_float16"}
    for figures in section["formats"].values():
        assert figures["wall_s_max"] >= figures["wall_s_min"] > 0 and figures["peak_rss_mib"] > 0
    assert section["quickest"] in section["formats"]
    assert "colorize one 256x256 sketch, tflite_float32" in result.stdout


@pytest.mark.slow
def test_a_recolour_is_measured_in_full_and_in_its_pieces_and_as_the_gui_does(quick_run):
    result, bench = quick_run
    figures = bench["recolour"]["sizes"]["512x512"]
    keys = ("full_s", "full_hint_model_s", "regions_s", "spread_s", "fill_s", "gui_dab_s")
    assert all(figures[key] > 0 for key in keys), figures
    assert figures["regions_s"] + figures["fill_s"] < figures["full_s"]  # pieces of the whole
    assert "GUI: one more dab, 512x512" in result.stdout


@pytest.mark.slow
def test_only_runs_one_section_and_keeps_the_others(tmp_path):
    output = tmp_path / "bench.json"
    output.write_text(json.dumps({"earlier": {"kept": True}}))
    result = _bench("--quick", "--only", "data_stages", "--output", str(output), cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    bench = json.loads(output.read_text())
    assert bench["earlier"] == {"kept": True}
    assert bench["run"]["sections"] == ["data_stages"]
    assert bench["data_stages"]["generation"]["pairs_per_s"] > 0
    assert "train" not in bench

    shown = _bench("--show", "--output", str(output), cwd=REPO)
    assert shown.returncode == 0 and "synthetic generation" in shown.stdout


def test_an_unknown_section_is_refused_before_anything_runs(tmp_path):
    result = _bench("--only", "everything", "--output", str(tmp_path / "bench.json"), cwd=REPO)
    assert result.returncode == 2 and "invalid choice" in result.stderr
    assert not (tmp_path / "bench.json").exists()
