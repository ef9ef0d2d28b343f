"""``sketch2color serve``: the registered model behind ``mlflow models serve``, with a guard in front.

The served model (:mod:`sketch2color.serving`) bounds what it decodes and
refuses with short reasons, but some requests never reach it, and MLflow's
scoring server answers those itself (MLflow 3.17):

* JSON nested deeper than Python's parser goes is a 500 (a ``RecursionError``
  nobody catches);
* a body that is not JSON is a 400 that repeats the whole body (a 200 MB body
  of garbage got a 200 MB answer), and so are its refusals of a request that
  does not fit the signature (a missing column, a param of the wrong type);
* the body has no size limit, and no setting of the server gives it one.

None of that can be changed from inside the model, so this guard, a small
process of its own, takes the requests first and hands MLflow only those it
can parse: a body over ``--max-body-bytes`` is a 413 before it is read
(or as soon as it passes the limit), a body that is not sent within the
timeout a 408, a body that is not JSON a 415 or a 400 that names the position,
never the content; and an error answer of MLflow's that is longer than
:data:`MAX_ERROR_BYTES` is replaced by a short one with the same status. The
model is served by the real ``mlflow models serve`` on a private loopback
port, so it is exactly the server MLflow supports, with its workers, its
timeout and any ``--env-manager``; the guard adds one loopback hop (a
fraction of a millisecond per MB).
"""

from __future__ import annotations

import asyncio
import ctypes
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sketch2color.errors import Sketch2ColorError

MAX_ERROR_BYTES = 400
"""An error answer longer than this is MLflow repeating the request; it is replaced."""
DEFAULT_MAX_BODY_BYTES = 64 * 2**20
"""A 4000x3000 sketch is about 1-3 MB as PNG or JPEG, and base64 adds a third: room for a full
request of large sketches, not for a memory attack."""
FORWARDED_PATHS = {"/invocations": "POST", "/ping": "GET", "/health": "GET", "/version": "GET"}
START_TIMEOUT_S = 300
PROXY_THREADS = 32
"""Requests forwarded at once; MLflow's own workers decide how many are coloured at once."""

_log = logging.getLogger("uvicorn.error")
"""uvicorn's own logger, so that the guard's lines land in the server's log beside uvicorn's."""


@dataclass(frozen=True)
class GuardSettings:
    upstream_port: int
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout_s: float = 60.0
    """MLflow's request timeout: also the time a client has to send its body."""


def error_body(error_code: str, message: str) -> bytes:
    """An answer in MLflow's own error shape, so that clients read one kind of error."""
    return json.dumps({"error_code": error_code, "message": message}).encode()


def json_problem(body: bytes) -> str | None:
    """Why ``body`` is not JSON MLflow can parse (None when it is), naming the position, not the content."""
    try:
        json.loads(body)
    except RecursionError:
        return "the JSON is nested too deeply"
    except UnicodeDecodeError as exc:
        return f"the body is not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        return f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    return None


class RequestGuard:
    """The guard itself, an ASGI app: it reads, checks and forwards each request to MLflow's server."""

    def __init__(self, settings: GuardSettings) -> None:
        self.settings = settings
        self.pool = ThreadPoolExecutor(PROXY_THREADS, thread_name_prefix="forward")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if FORWARDED_PATHS.get(path) != method:
            await _answer(send, 404, error_body("ENDPOINT_NOT_FOUND", f"no {method} {path} here"))
            return
        if method == "GET":
            status, body, content_type = await asyncio.get_running_loop().run_in_executor(
                None, self._forward, "GET", path, b"", ""
            )
            await _answer(send, status, body, content_type)
            return
        status, body, content_type = await self._invocation(scope, receive)
        await _answer(send, status, body, content_type)

    async def _invocation(self, scope, receive) -> tuple[int, bytes, str]:
        headers = {name.lower(): value for name, value in scope["headers"]}
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return 415, error_body("BAD_REQUEST", "send the request as application/json"), ""
        limit = self.settings.max_body_bytes
        deadline = time.monotonic() + self.settings.timeout_s
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limit:
            if headers.get(b"expect", b"").lower() != b"100-continue":  # curl's way: it sends nothing yet
                await _discard_body(receive, deadline)
            return 413, self._too_large(int(declared)), ""
        body = bytearray()
        while True:
            message = await _next_part(receive, deadline)
            if message is None:
                return 408, error_body("BAD_REQUEST", "the body did not arrive within the timeout"), ""
            if message["type"] == "http.disconnect":
                return 400, b"", ""
            body += message.get("body", b"")
            if len(body) > limit:
                if message.get("more_body"):
                    await _discard_body(receive, deadline)
                return 413, self._too_large(len(body), "at least "), ""
            if not message.get("more_body"):
                break
        loop = asyncio.get_running_loop()
        if problem := await loop.run_in_executor(self.pool, json_problem, bytes(body)):
            return 400, error_body("BAD_REQUEST", problem), ""
        status, answer, answer_type = await loop.run_in_executor(
            self.pool, self._forward, "POST", "/invocations", bytes(body), content_type
        )
        if status >= 400 and len(answer) > MAX_ERROR_BYTES:
            answer = self._shortened(status, answer)
            answer_type = ""
        return status, answer, answer_type

    def _too_large(self, size: int, qualifier: str = "") -> bytes:
        return error_body(
            "BAD_REQUEST",
            f"the body is {qualifier}{size:,} bytes, over the limit of "
            f"max_body_bytes={self.settings.max_body_bytes:,}",
        )

    def _forward(self, method: str, path: str, body: bytes, content_type: str) -> tuple[int, bytes, str]:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.settings.upstream_port, timeout=self.settings.timeout_s + 10
        )
        try:
            headers = {"Content-Type": content_type} if content_type else {}
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read(), response.getheader("Content-Type", "")
        except TimeoutError:
            return 504, error_body("DEADLINE_EXCEEDED", "the model server did not answer in time"), ""
        except OSError as exc:
            _log.warning("the model server cannot be reached: %s", exc)
            return 502, error_body("TEMPORARILY_UNAVAILABLE", "the model server cannot be reached"), ""
        finally:
            connection.close()

    @staticmethod
    def _shortened(status: int, answer: bytes) -> bytes:
        """A short answer in place of MLflow's, which repeats the request; its start goes to the log."""
        try:
            error_code = str(json.loads(answer).get("error_code", "BAD_REQUEST"))[:40]
        except (ValueError, AttributeError):
            error_code = "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR"
        _log.info("MLflow refused a request (%d): %s ...", status, answer[:300])
        return error_body(
            error_code,
            "the request does not fit the model's input; send "
            '{"inputs": {"image": ["<base64 picture>", ...]}} (MLflow\'s own message repeats '
            "the request, so it is left out)",
        )


async def _next_part(receive, deadline: float) -> dict | None:
    """The next ASGI message of the request, or None when the deadline passes first."""
    try:
        return await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        return None


async def _discard_body(receive, deadline: float) -> None:
    """Read the rest of a refused body without keeping it, until it ends or the deadline passes.

    A client that sends its whole body before reading the answer (most do,
    unless they ask ``Expect: 100-continue``) would otherwise see the
    connection closed under it, a broken pipe, instead of the 413; web servers
    linger the same way. It costs reading, never memory.
    """
    while (message := await _next_part(receive, deadline)) is not None:
        if message["type"] == "http.disconnect" or not message.get("more_body"):
            return


async def _answer(send, status: int, body: bytes, content_type: str = "") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", (content_type or "application/json").encode("latin-1")),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


# ---------------------------------------------------------------- the two processes


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_model_server(
    model_uri: str, port: int, workers: int, timeout_s: int, env_manager: str
) -> subprocess.Popen:
    """The real ``mlflow models serve`` on 127.0.0.1:``port``, ended with this process if it dies."""
    mlflow = Path(sys.executable).parent / "mlflow"
    command = [
        str(mlflow) if mlflow.exists() else "mlflow",
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        env_manager,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--timeout",
        str(timeout_s),
    ]
    # Arenas made before the model could limit them (see serving.keep_freed_memory_returnable)
    # kept about 60 MiB more after a heavy load; the variable limits them from the start.
    env = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    return subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    """Linux: SIGTERM the model server when the guard dies, even by SIGKILL (as MLflow does for its own)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def wait_until_up(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5):
                return
        except OSError:
            if server.poll() is not None:
                raise Sketch2ColorError(
                    f"mlflow models serve exited with status {server.returncode}"
                ) from None
            if time.monotonic() > deadline:
                raise Sketch2ColorError(
                    f"mlflow models serve did not answer within {START_TIMEOUT_S} s"
                ) from None
            time.sleep(0.5)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def serve(
    model_uri: str,
    host: str,
    port: int,
    workers: int,
    timeout_s: int,
    max_body_bytes: int,
    env_manager: str = "local",
) -> int:
    """Run ``mlflow models serve`` privately and the guard on ``host:port`` until stopped."""
    import uvicorn

    upstream = free_loopback_port()
    server = start_model_server(model_uri, upstream, workers, timeout_s, env_manager)
    try:
        wait_until_up(server, upstream)
        guard = RequestGuard(GuardSettings(upstream, max_body_bytes, float(timeout_s)))
        uvicorn.run(guard, host=host, port=port, log_level="info")
    finally:
        stop(server)
    return 0
