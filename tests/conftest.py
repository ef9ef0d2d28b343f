"""Fixtures every test gets."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _sys_path_as_it_was():
    """Each test leaves ``sys.path`` as it found it.

    Loading an MLflow model in the test process (``mlflow.pyfunc.load_model``)
    puts the model's code folder first on ``sys.path`` for the rest of the
    process. The registered colorizer ships only the modules serving imports,
    and a worker that a later test spawns inherits the path, imports this
    package from that partial copy, dies unpickling its task, and leaves a
    process pool waiting (seen: split and the OpenMoji fetch hung).
    """
    saved = list(sys.path)
    yield
    sys.path[:] = saved


@pytest.fixture(autouse=True)
def _no_user_model_settings(tmp_path_factory, monkeypatch):
    """The user's own model settings never reach a test: no $SKETCH2COLOR_MODEL, an empty user
    config file, and MLflow downloads cached in a test folder (a test sets its own to try them)."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.delenv("SKETCH2COLOR_MODEL", raising=False)
    monkeypatch.setenv("SKETCH2COLOR_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
