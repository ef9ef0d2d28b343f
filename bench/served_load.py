"""The served model under load: a real ``mlflow models serve`` on 127.0.0.1, and the guard in front of it.

The default profile's generator (64 px, ngf 32, instance norm; fresh
weights, speed does not depend on what they learned) is registered as the
export stage registers it and served four ways: ``mlflow models serve`` with
1 worker, with 1 worker colouring 2 requests at once (the model's
``parallel_requests``), with 2 workers, and ``sketch2color serve`` (the
guard in front) with 1 worker. For each sketch size (256 px, 1024 px,
4000x3000, line drawings as PNG, one per request, line-faithful output) 1, 4
and 8 clients send a bounded number of requests at once; each case reports
requests/s, p50 and p95 latency, the server's peak memory while it ran (all
its processes, sampled every 20 ms) and its memory after. The largest
request the default bounds allow (16 rows of 1024x1024, 16.8 megapixels) is
sent alone on the fresh server and again after the load, and the memory the
server holds afterwards is compared with its idle memory (the target:
within 200 MB).

Last, the guard's own cost: the plain and the guarded server run side by
side and one client alternates between them, so that other work on the
machine weighs on both alike.

The clients run on the same cores as the server (a loopback benchmark), so
the figures are what the machine's cores do for both; the load average is recorded.
"""

from __future__ import annotations

import base64
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bench.project import child_env
from bench.served_model import (
    MODEL_NAME,
    Server,
    free_port,
    guarded_serve_command,
    mlflow_serve_command,
    register_generator,
)
from sketch2color.serving import ServingLimits

SIZES = {"256px": (256, 256), "1024px": (1024, 1024), "4000x3000": (4000, 3000)}
CLIENTS = (1, 4, 8)
LARGEST_ROWS, LARGEST_SIDE = 16, 1024
QUICK_SIZES = {"96x64": (96, 64)}
QUICK_CLIENTS = (1, 2)


@dataclass(frozen=True)
class Setup:
    server: str  # "mlflow" or "guard"
    workers: int
    parallel_requests: int = 1  # the served model's setting, per worker

    @property
    def label(self) -> str:
        command = "mlflow models serve" if self.server == "mlflow" else "sketch2color serve"
        return f"{command}, {self.workers} worker(s), parallel_requests={self.parallel_requests}"


SETUPS = (Setup("mlflow", 1), Setup("mlflow", 1, 2), Setup("mlflow", 2), Setup("guard", 1))
QUICK_SETUPS = (Setup("mlflow", 1),)


def served_load_section(quick: bool, report=print) -> dict:
    sizes, clients, setups = (QUICK_SIZES, QUICK_CLIENTS, QUICK_SETUPS) if quick else (SIZES, CLIENTS, SETUPS)
    limits = ServingLimits()
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-load-") as tmp:
        folder = Path(tmp)
        report("  served load: registering the default generator ...")
        register_generator(folder, _save_generator(folder / "generator.keras"))
        bodies = {name: _body([_sketch_png(w, h, 0)]) for name, (w, h) in sizes.items()}
        largest = _body([_sketch_png(LARGEST_SIDE, LARGEST_SIDE, seed) for seed in range(LARGEST_ROWS)])
        runs = []
        for setup in setups:
            runs.append(_measure_setup(folder, setup, bodies, clients, None if quick else largest, report))
        section = {
            "model": {"image_size": 64, "ngf": 32, "norm": "instance", "output": "line_faithful"},
            "bounds": limits.as_config(),
            "runs": runs,
        }
        if not quick:
            report("  served load: the guard's own cost, both servers side by side ...")
            section["guard_overhead"] = _guard_overhead(folder, bodies)
    return section


def _guard_overhead(folder: Path, bodies: dict, rounds: int = 6) -> dict:
    """Median latency of one client alternating between the plain server and the guarded one, both up at
    once: whatever else the cores are doing weighs on both alike, which separate runs cannot promise."""
    uri = f"models:/{MODEL_NAME}/1"
    plain_port, guard_port = free_port(), free_port()
    plain = Server(mlflow_serve_command(uri, plain_port, 1), plain_port, folder, child_env(folder))
    guarded = Server(guarded_serve_command(uri, guard_port, 1), guard_port, folder, child_env(folder))
    result = {}
    with plain, guarded:
        for server in (plain, guarded):
            _load(server, bodies[next(iter(bodies))], 1, requests=3)
        for name, body in bodies.items():
            latencies: dict[str, list[float]] = {"mlflow_p50_s": [], "guard_p50_s": []}
            for _ in range(rounds):
                for key, server in (("mlflow_p50_s", plain), ("guard_p50_s", guarded)):
                    started = time.perf_counter()
                    status, _answer = server.invoke(body)
                    latencies[key].append(time.perf_counter() - started)
                    if status != 200:
                        raise RuntimeError(f"{name} got {status} from the {key.split('_')[0]} server")
            result[name] = {key: round(statistics.median(values), 3) for key, values in latencies.items()}
    return result


def _measure_setup(folder: Path, setup: Setup, bodies: dict, clients: tuple, largest, report) -> dict:
    port = free_port()
    make = mlflow_serve_command if setup.server == "mlflow" else guarded_serve_command
    config = json.dumps({"parallel_requests": setup.parallel_requests})
    env = child_env(folder, MLFLOW_PYFUNC_INFERENCE_CONFIG=config)
    server = Server(make(f"models:/{MODEL_NAME}/1", port, setup.workers), port, folder, env)
    report(f"  served load: starting {setup.label} ...")
    with server:
        # The first answer of each worker builds TensorFlow's graph: not part of any figure.
        _load(server, bodies[next(iter(bodies))], setup.workers, requests=4 * setup.workers)
        time.sleep(1)
        idle = server.rss_mib()
        result = {
            "server": setup.label,
            "workers": setup.workers,
            "parallel_requests": setup.parallel_requests,
            "startup_s": round(server.startup_s, 1),
            "idle_rss_mib": round(idle, 0),
        }
        if largest is not None:
            report(f"  served load: {setup.label}, the largest allowed request ...")
            result["largest_request"] = _largest(server, largest, idle)
        cases = []
        for name, body in bodies.items():
            for count in clients:
                report(f"  served load: {setup.label}, {name}, {count} client(s) ...")
                cases.append({"size": name, "clients": count, **_load(server, body, count)})
        result["cases"] = cases
        if largest is not None:
            report(f"  served load: {setup.label}, the largest allowed request again ...")
            result["largest_request_after_load"] = _largest(server, largest, idle)
    return result


def _largest(server: Server, body: bytes, idle: float) -> dict:
    """The largest request the default bounds allow, alone; the memory it leaves above ``idle``."""
    measured = _load(server, body, 1, requests=1)
    measured["above_idle_after_mib"] = round(measured["rss_after_mib"] - idle, 0)
    return {"rows": LARGEST_ROWS, "side": LARGEST_SIDE, **measured}


def _load(server: Server, body: bytes, clients: int, requests: int | None = None) -> dict:
    """``requests`` (default: 2 per client, at least 3) sent by ``clients`` threads; figures of the run."""
    requests = requests or max(3, 2 * clients)
    sampler = _PeakSampler(server)
    latencies: list[float] = []
    statuses: list[int] = []

    def one(_) -> None:
        started = time.perf_counter()
        status, _answer = server.invoke(body)
        latencies.append(time.perf_counter() - started)
        statuses.append(status)

    with sampler:
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, range(requests)))
        wall = time.perf_counter() - started
    time.sleep(1)  # what the server holds once the requests are over
    failed = [s for s in statuses if s != 200]
    if failed:
        raise RuntimeError(f"{len(failed)} of {requests} requests failed ({sorted(set(failed))})")
    latencies.sort()
    return {
        "requests": requests,
        "req_per_s": round(requests / wall, 2),
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 3),
        "peak_rss_mib": round(sampler.peak_mib, 0),
        "rss_after_mib": round(server.rss_mib(), 0),
    }


class _PeakSampler:
    """The server's largest resident memory (all its processes) while the block runs, every 20 ms."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak_mib = server, 0.0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.is_set():
            self.peak_mib = max(self.peak_mib, self.server.rss_mib())
            self.done.wait(0.02)

    def __enter__(self) -> _PeakSampler:
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.done.set()
        self.thread.join()


def _save_generator(path: Path) -> Path:
    import keras

    from sketch2color.model import build_generator

    keras.utils.set_random_seed(0)
    build_generator(64, 32, "instance").save(path)
    return path


def _sketch_png(width: int, height: int, seed: int) -> bytes:
    """A line drawing: 40 strokes whose width grows with the picture, on white."""
    image = np.full((height, width), 255, np.uint8)
    rng = np.random.default_rng(seed)
    thickness = max(1, min(width, height) // 256)
    for _ in range(40):
        start = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(image, start, end, 0, thickness)
    return cv2.imencode(".png", image)[1].tobytes()


def _body(pictures: list[bytes]) -> bytes:
    return json.dumps({"inputs": {"image": [base64.b64encode(p).decode("ascii") for p in pictures]}}).encode()
