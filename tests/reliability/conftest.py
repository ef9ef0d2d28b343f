"""Fixtures shared by the reliability suite."""

from __future__ import annotations

import pytest

from .training_runs import prepare_project


@pytest.fixture(scope="session")
def prepared_project(tmp_path_factory):
    """The tiny-profile project with its data stages done.

    Tests copy it (``training_runs.copy_project``) and never change it.
    """
    return prepare_project(tmp_path_factory.mktemp("prepared") / "project")
