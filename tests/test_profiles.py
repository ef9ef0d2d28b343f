"""The shipped profiles are complete, valid params files."""

from pathlib import Path

import pytest
import yaml

from sketch2color.config import flatten, load_params, params_from_dict
from sketch2color.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def keys_of(path: Path) -> set[str]:
    return set(flatten(yaml.safe_load(path.read_text())))


@pytest.mark.parametrize("profile", ["tiny", "paper"])
def test_profiles_hold_the_same_keys_as_params_yaml(profile):
    assert keys_of(REPO / "profiles" / f"{profile}.yaml") == keys_of(REPO / "params.yaml")


def test_tiny_profile_is_valid():
    params = load_params(REPO / "profiles" / "tiny.yaml")
    assert params.data.image_size == 32


def test_paper_profile_is_the_papers_run_once_its_archive_exists(tmp_path):
    raw = yaml.safe_load((REPO / "profiles" / "paper.yaml").read_text())
    params = params_from_dict(raw)
    with pytest.raises(ConfigError, match="fetch.path"):
        params.fetch.source_path(tmp_path)  # archive.zip is not in the repo: the error names the key
    (tmp_path / "archive.zip").write_bytes(b"")
    assert params.fetch.source_path(tmp_path) == tmp_path / "archive.zip"
    assert (params.data.image_size, params.train.batch_size, params.train.epochs) == (256, 1, 65)
    assert params.train.norm == "batch" and params.train.ngf == 64 and params.train.lambda_l1 == 100
