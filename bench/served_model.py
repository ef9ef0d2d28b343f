"""A registered colorizer behind a real model server on 127.0.0.1, for the load benchmark and the tests.

The model is registered exactly as the export stage registers it
(:func:`sketch2color.export.registration.log_and_register`) into a sqlite
store in a folder of the caller's, and served by a real ``mlflow models
serve`` (or the guarded ``sketch2color serve``) as its own process group, so
that stopping it stops every uvicorn worker. ``tests/reliability`` uses the
same helpers, so the benchmark and the tests serve in the same way.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from bench.project import child_env, importable_env

MODEL_NAME = "sketch2color-generator"
START_TIMEOUT_S = 180


def register_generator(folder: Path, generator_file: Path, name: str = MODEL_NAME) -> str:
    """Register ``generator_file`` (a .keras generator) as version 1 of ``name`` in a sqlite store
    inside ``folder``; the store's tracking URI.

    In a child process working in ``folder``: MLflow keeps the tracking URI and
    the active experiment as process-wide state, and puts the default
    experiment's artifacts under the working folder, so neither leaks into the caller.
    """
    folder.mkdir(parents=True, exist_ok=True)
    env = child_env(folder)
    subprocess.run(
        [sys.executable, "-m", "bench.served_model", str(folder), str(generator_file.resolve()), name],
        cwd=folder,
        env=importable_env(env),
        check=True,
        capture_output=True,
    )
    return env["MLFLOW_TRACKING_URI"]


def _register_here(folder: Path, generator_file: Path, name: str) -> None:
    import mlflow

    from sketch2color.export.registration import log_and_register

    tracking_uri = child_env(folder)["MLFLOW_TRACKING_URI"]
    client = mlflow.MlflowClient(tracking_uri)
    experiment = client.create_experiment("serving", artifact_location=(folder / "mlruns").as_uri())
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment_id=experiment)  # the logged model goes to the active experiment
    run = client.create_run(experiment)
    log_and_register(run.info.run_id, generator_file, "eval", name, tracking_uri)
    client.set_terminated(run.info.run_id)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mlflow_serve_command(model_uri: str, port: int, workers: int) -> list[str]:
    """The plain MLflow scoring server, as the README's first command starts it."""
    mlflow = str(Path(sys.executable).parent / "mlflow")
    return [mlflow, "models", "serve", "-m", model_uri, "--env-manager", "local"] + _where(port, workers)


def guarded_serve_command(model_uri: str, port: int, workers: int) -> list[str]:
    """The same scoring server behind the project's request guard (:mod:`sketch2color.serving_guard`)."""
    return [sys.executable, "-m", "sketch2color.cli", "serve", "-m", model_uri] + _where(port, workers)


def _where(port: int, workers: int) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


class Server:
    """A model server process group on a loopback port, started by :meth:`start`, ended by :meth:`stop`."""

    def __init__(self, command: Sequence[str], port: int, folder: Path, env: Mapping[str, str]):
        self.command, self.port, self.folder, self.env = list(command), port, folder, dict(env)
        self.log_path = folder / f"server-{port}.log"
        self.process: subprocess.Popen | None = None
        self.startup_s = 0.0

    def start(self) -> Server:
        started = time.perf_counter()
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.folder,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the model server did not start:\n{self.log()[-3000:]}")
            time.sleep(0.25)
        self.startup_s = time.perf_counter() - started
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_) -> None:
        self.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ping(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=5) as answer:
                return answer.status == 200
        except OSError:
            return False

    def invoke(
        self, body: bytes | dict, content_type: str = "application/json", timeout: float = 300
    ) -> tuple[int, bytes]:
        """POST to /invocations; (HTTP status, body), whatever the status."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/invocations", data=data, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def processes(self) -> list[psutil.Process]:
        """The server's process and all its children (uvicorn's workers)."""
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss_mib(self) -> float:
        """The resident memory of the whole process group now."""
        total = 0
        for process in self.processes():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total / 2**20


if __name__ == "__main__":  # the child of register_generator: FOLDER GENERATOR NAME
    _register_here(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
