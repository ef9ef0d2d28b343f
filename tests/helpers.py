"""Small builders shared by the tests: raw pair files, an MLflow store, a local file server."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np


def pair_image(index: int, height: int = 32) -> np.ndarray:
    """A Kaggle-format pair (colour left, sketch right) that encodes its index in its pixels."""
    rng = np.random.default_rng(index)
    color = np.full((height, height, 3), rng.integers(40, 220, size=3), np.uint8)
    sketch = np.full((height, height, 3), 255, np.uint8)
    cv2.line(sketch, (2, index % height), (height - 3, height - 1 - index % height), (0, 0, 0), 1)
    return np.concatenate([color, sketch], axis=1)


def write_pair_png(path: Path, index: int, height: int = 32) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", cv2.cvtColor(pair_image(index, height), cv2.COLOR_RGB2BGR))
    assert ok
    path.write_bytes(data.tobytes())
    return path


def write_raw_pairs(raw: Path, count: int, folder: str = "train", height: int = 32) -> list[Path]:
    return [write_pair_png(raw / folder / f"{i:04d}.png", i, height) for i in range(count)]


def mlflow_store_with_run(uri: str, experiment: str):
    """The sqlite MLflow store ``uri`` with one finished run in ``experiment``, whose artifacts go
    beside the store's file: (uri, client, run_id)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    artifacts = Path(uri.removeprefix("sqlite:///")).parent / "mlruns"
    experiment_id = client.create_experiment(experiment, artifact_location=artifacts.as_uri())
    run_id = client.create_run(experiment_id).info.run_id
    client.set_terminated(run_id)
    return uri, client, run_id


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve_folder(folder: Path, monkeypatch) -> Iterator[str]:
    """Serve ``folder`` over http on 127.0.0.1 and yield its base URL; never any real network.

    Every proxy variable is removed for the test, so urllib talks to the local
    server directly whatever proxy the machine sets.
    """
    for name in [k for k in os.environ if "proxy" in k.lower()]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
