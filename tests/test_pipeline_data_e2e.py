"""End to end: real `dvc repro` of the data stages on the tiny profile."""

import json

import pytest

from sketch2color.data.shards import find_shards, iterate_pairs

from pipeline_repo import make_pipeline_repo

pytestmark = pytest.mark.slow


def test_dvc_repro_data_stages_then_nothing_then_only_downstream(tmp_path):
    repo = make_pipeline_repo(tmp_path / "project")
    first = repo.dvc("repro", "augment")
    for stage in ("fetch", "split", "augment"):
        assert f"Running stage '{stage}'" in first.stdout, first.stdout

    raw = sorted((repo.root / "data" / "raw" / "train").glob("*.png"))
    assert len(raw) == 24
    manifest = json.loads((repo.root / "data" / "split" / "manifest.json").read_text())
    assert sum(manifest["counts"].values()) == 24 and manifest["skipped"] == []
    augmented = list(iterate_pairs(find_shards(repo.root / "data" / "augmented", "train")))
    assert len(augmented) == 2 * manifest["counts"]["train"]  # originals + 1 copy each
    assert augmented[0].sketch.shape == (32, 32, 3)
    assert (repo.root / "metrics" / "augment_preview.png").stat().st_size > 0

    again = repo.dvc("repro", "augment")
    assert "Running stage" not in again.stdout, again.stdout

    params = (repo.root / "params.yaml").read_text().replace("val_fraction: 0.1", "val_fraction: 0.2")
    repo.set_params(params)
    status = repo.dvc("status").stdout
    assert "split" in status and "fetch:" not in status
    changed = repo.dvc("repro", "augment")
    assert "Running stage 'fetch'" not in changed.stdout
    assert "Running stage 'split'" in changed.stdout and "Running stage 'augment'" in changed.stdout
    manifest = json.loads((repo.root / "data" / "split" / "manifest.json").read_text())
    assert manifest["counts"]["val"] == 5


def test_a_wrong_param_stops_the_stage_naming_the_key(tmp_path):
    repo = make_pipeline_repo(tmp_path / "project")
    repo.set_params((repo.root / "params.yaml").read_text().replace("zoom: 0.1", "zooom: 0.1"))
    result = repo.dvc("repro", "fetch", check=False)
    assert result.returncode != 0
    assert "augment.zooom" in result.stdout + result.stderr
