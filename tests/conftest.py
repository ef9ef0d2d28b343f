"""Fixtures every test gets, new MLflow stores without their migrations, and the one `mlflow server`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.served_model import free_port


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


@pytest.fixture(scope="session")
def new_mlflow_store(tmp_path_factory) -> Callable[[Path], str]:
    """Makes an empty sqlite MLflow store (``mlflow.db``) in a folder, in milliseconds; returns its URI.

    MLflow builds a new store's tables through its schema migrations, 5 to 8 s
    on these shared cores, in every test that opens a store of its own. Here
    ``mlflow db upgrade`` (MLflow's own command) runs them once per session and
    each store is a copy of that file: the same tables and no experiment yet
    (MLflow adds "Default" when the copy is first opened, as in a new store).
    The tests whose subject is the making of a store (two processes racing to
    create one, a fresh clone's ``dvc repro``) let MLflow make it instead.
    """
    template = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    subprocess.run(
        [str(Path(sys.executable).with_name("mlflow")), "db", "upgrade", f"sqlite:///{template}"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )

    def make(folder: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, folder / "mlflow.db")
        return f"sqlite:///{folder / 'mlflow.db'}"

    return make


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
def mlflow_server(tmp_path, new_mlflow_store) -> Iterator[MlflowServer]:
    """A real `mlflow server` of its own (one worker, no job runner) in its own process group.

    Function-scoped: the tests that use it kill it part-way through.
    """
    folder = tmp_path / "mlflow-server"
    backend_store_uri = new_mlflow_store(folder)
    database = folder / "mlflow.db"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
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
        backend_store_uri,
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
