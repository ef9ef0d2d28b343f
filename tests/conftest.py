"""Fixtures every test gets, and the one real `mlflow server` the tracking tests share."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import free_port


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


@dataclass(frozen=True)
class MlflowServer:
    """A running `mlflow server`: its URL, the sqlite file behind it, and a way to kill it."""

    url: str
    database: Path
    process: subprocess.Popen

    def stop(self) -> None:
        """Kill the server at once (SIGKILL to its process group), as a crash or a lost host would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture
def mlflow_server(tmp_path) -> Iterator[MlflowServer]:
    """A real `mlflow server` of its own (one worker, no job runner) in its own process group.

    Function-scoped: the tests that use it kill it part-way through.
    """
    folder = tmp_path / "mlflow-server"
    folder.mkdir()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    database = folder / "mlflow.db"
    url = f"http://127.0.0.1:{free_port()}"
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        url.rsplit(":", 1)[1],
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{database}",
        "--artifacts-destination",
        str(folder / "artifacts"),
    ]
    with open(folder / "server.log", "wb") as log:
        server = MlflowServer(
            url,
            database,
            subprocess.Popen(
                command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            ),
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(url + "/health", timeout=1) as response:
                        if response.status == 200:
                            break
                if server.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "mlflow server did not start:\n" + (folder / "server.log").read_text()[-3000:]
                    )
                time.sleep(0.1)
            yield server
        finally:
            server.stop()
