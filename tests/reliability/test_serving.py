"""The served model against hostile and heavy requests, on a real ``mlflow models serve`` (issue 22).

A tiny identity generator is registered as the export stage registers the
colorizer (``log_and_register``, a sqlite store in a temporary folder) and
served twice, once per module, on 127.0.0.1:

* by ``mlflow models serve`` itself, with a 2 s request timeout: what the
  model guarantees on its own (formats, bounds, short refusals, the timeout);
* by ``sketch2color serve``, the same server behind the guard, with a 1 MB
  body limit and ``max_rows`` lowered to 2 through MLflow's own override
  variable: what only the guard can do (body size, JSON MLflow cannot parse,
  MLflow's own refusals kept short).

After every test both still answer ``/ping``.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.project import child_env
from bench.served_model import (
    MODEL_NAME,
    Server,
    free_port,
    guarded_serve_command,
    mlflow_serve_command,
    register_generator,
)
from sketch2color.image_io import decode_rgb, encode_rgb

from .hostile_files import pdf_document, png_claiming, postscript, truncated
from tiny_generators import save_identity

SHORT = 400
"""The most bytes a refusal may take (issue 22: "at most a few hundred bytes")."""
TIMEOUT_S = 2
GUARD_BODY_LIMIT = 1_000_000
GUARD_MAX_ROWS = 2


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    register_generator(folder, save_identity(folder / "generator.keras"))
    uri = f"models:/{MODEL_NAME}/1"
    plain_port, guard_port = free_port(), free_port()
    plain = Server(
        mlflow_serve_command(uri, plain_port, 1),
        plain_port,
        folder,
        child_env(folder, MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT=str(TIMEOUT_S)),
    )
    guard_env = child_env(folder, MLFLOW_PYFUNC_INFERENCE_CONFIG=json.dumps({"max_rows": GUARD_MAX_ROWS}))
    guarded = Server(
        guarded_serve_command(uri, guard_port, 1) + ["--max-body-bytes", str(GUARD_BODY_LIMIT)],
        guard_port,
        folder,
        guard_env,
    )
    try:
        _start_together(plain, guarded)  # both load TensorFlow at once: about 10 s, not 20
        yield plain, guarded
    finally:
        plain.stop()
        guarded.stop()


def _start_together(*servers: Server) -> None:
    import threading

    errors = []

    def start(server: Server) -> None:
        try:
            server.start()
        except RuntimeError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@pytest.fixture
def plain(servers):
    yield servers[0]
    assert servers[0].ping() and servers[1].ping(), "a server stopped answering /ping"


@pytest.fixture
def guarded(servers):
    yield servers[1]
    assert servers[0].ping() and servers[1].ping(), "a server stopped answering /ping"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sketch_png(width: int, height: int, seed: int = 0) -> bytes:
    image = np.full((height, width, 3), 255, np.uint8)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        start = tuple(int(v) for v in rng.integers(0, min(width, height), 2))
        end = tuple(int(v) for v in rng.integers(0, min(width, height), 2))
        cv2.line(image, start, end, (0, 0, 0), 2)
    return encode_rgb(image, ".png")


def refusal(server: Server, body, expected_status: int = 400) -> str:
    """The refusal's message, after checking its status and that it is short."""
    status, answer = server.invoke(body)
    assert status == expected_status, (status, answer[:500])
    assert len(answer) <= SHORT, (len(answer), answer[:500])
    return json.loads(answer)["message"]


# ---------------------------------------------------------------- what the model does on its own


def test_a_sketch_is_coloured_at_its_own_size(plain, guarded):
    sketch = sketch_png(90, 60)
    answers = []
    for server in (plain, guarded):
        status, answer = server.invoke({"inputs": {"image": [b64(sketch)]}})
        assert status == 200, answer[:500]
        answers.append(decode_rgb(base64.b64decode(json.loads(answer)["predictions"][0]["image"])))
    assert answers[0].shape == (60, 90, 3)
    assert np.array_equal(answers[0], answers[1])  # the guard changes nothing of a good answer


def test_a_model_without_hint_channels_takes_dabs_and_the_fill_params(plain):
    """The served identity model has no hint inputs: a dab fills its square in the picture, and the
    request's gap is checked like any param."""
    from sketch2color.image_io import encode_rgba

    drawing = np.full((64, 64, 3), 255, np.uint8)
    cv2.rectangle(drawing, (10, 10), (53, 53), (0, 0, 0), 2)
    dabs = np.zeros((64, 64, 4), np.uint8)
    cv2.circle(dabs, (32, 32), 3, (200, 30, 40, 255), -1)
    rows = {"image": [b64(encode_rgb(drawing))], "hints": [b64(encode_rgba(dabs))]}
    status, answer = plain.invoke({"inputs": rows, "params": {"gap": 4, "fill_rule": "nearest"}})
    assert status == 200, answer[:500]
    picture = decode_rgb(base64.b64decode(json.loads(answer)["predictions"][0]["image"]))
    assert (picture[14:50, 14:50] == (200, 30, 40)).all()  # the whole square in the dab's colour
    assert (picture[:6] == 255).all()  # the paper around it stays paper
    message = refusal(plain, {"inputs": rows, "params": {"gap": -3}})
    assert message.startswith("params.gap: expected pixels from 1 to"), message


@pytest.mark.parametrize("header", ["%!PS-Adobe-3.0 EPSF-3.0", "%!PS"], ids=["eps", "ps"])
def test_postscript_writes_nothing_and_reads_nothing(plain, tmp_path, header):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret 7f3a")
    sentinel = tmp_path / "pwn"
    payload = b64(postscript(sentinel, secret, header))
    for body in (
        {"inputs": {"image": [payload]}},
        {"dataframe_split": {"columns": ["image"], "data": [[b64(sketch_png(32, 32))], [payload]]}},
    ):
        status, answer = plain.invoke(body)
        assert status == 400 and len(answer) <= SHORT, answer[:500]
        message = json.loads(answer)["message"]
        assert (
            "column 'image'" in message
            and "PostScript (EPS or PS) is not an allowed picture format" in message
        )
        assert b"top secret" not in answer and b"7f3a" not in answer
    assert not sentinel.exists() and not Path(f"{sentinel}.leak").exists()


def test_a_pdf_is_refused_by_name(plain):
    message = refusal(plain, {"inputs": {"image": [b64(pdf_document())]}})
    assert message.startswith("row 0, column 'image': PDF is not an allowed picture format")


def test_the_row_bound_is_checked_before_anything_is_read(plain):
    # 17 rows of text that is not even base64: the bound answers, not the first bad row.
    message = refusal(plain, {"inputs": {"image": ["not base64!"] * 17}})
    assert "17 rows, over the limit of max_rows=16" in message
    status, _ = plain.invoke({"inputs": {"image": [b64(sketch_png(16, 16))] * 16}})
    assert status == 200


def test_the_pixel_bound_counts_every_header_before_decoding_any(plain):
    # Each of these PNGs claims a big canvas and holds almost no data: decoding one would fail as
    # truncated, so an answer about the bound shows that nothing was decoded.
    message = refusal(plain, {"inputs": {"image": [b64(png_claiming(5000, 4000))]}})
    assert "row 0, column 'image'" in message and "5000x4000" in message and "max_pixels" in message
    rows = [b64(png_claiming(3000, 3000)), b64(png_claiming(3000, 3000))]
    message = refusal(plain, {"inputs": {"image": rows}})
    assert message.startswith("row 1, column 'image': its 3000x3000 pixels bring the request to 18,000,000")
    assert "max_pixels=16,777,216" in message
    # Under the bound, the same truncated picture is decoded, and refused for what it is.
    message = refusal(plain, {"inputs": {"image": [b64(truncated(sketch_png(64, 64)))]}})
    assert message.startswith("row 0, column 'image': unreadable or truncated image")


def test_a_null_image_says_the_row_has_no_image(plain):
    no_image = "no image (null or empty)"
    for body in (
        {"inputs": {"image": [None]}},
        {"dataframe_split": {"columns": ["image"], "data": [[b64(sketch_png(16, 16))], [None]]}},
        {"dataframe_records": [{"image": ""}]},
    ):
        message = refusal(plain, body)
        assert message.startswith("row ") and f"column 'image': {no_image}" in message, message
    assert refusal(plain, {"dataframe_split": {"columns": ["image"], "data": [["x"], [None]]}}).startswith(
        "row 0"
    )


def test_refusals_are_short_name_row_and_column_and_never_echo_the_request(plain):
    marker = "Zm9v" * 20_000  # 80 KB of valid base64 text that is no picture
    cases = {
        "not base64": ("@@" + marker, "not base64 text"),
        "random bytes": (b64(np.random.default_rng(1).bytes(50_000)), ""),
        "svg": (
            b64(b"<svg xmlns='http://www.w3.org/2000/svg'>" + marker.encode() + b"</svg>"),
            "not a readable",
        ),
        "text as base64": (marker, "not a readable image"),
    }
    for name, (text, reason) in cases.items():
        status, answer = plain.invoke({"inputs": {"image": [b64(sketch_png(20, 20)), text]}})
        assert status == 400 and len(answer) <= SHORT, (name, len(answer))
        assert marker[:40].encode() not in answer, name
        message = json.loads(answer)["message"]
        assert message.startswith("row 1, column 'image': ") and reason in message, (name, message)
    message = refusal(
        plain, {"inputs": {"image": [b64(sketch_png(20, 20))]}, "params": {"output": "x" * 9000}}
    )
    assert message == "params.output: expected one of line_faithful, raw"


def test_work_stops_when_the_server_times_out(plain):
    """MLflow answers 504 after its timeout but cannot stop predict; the model stops itself."""
    body = {"inputs": {"image": [b64(sketch_png(1024, 1024, seed)) for seed in range(16)]}}
    started = time.monotonic()
    status, answer = plain.invoke(body)
    assert status == 504 and time.monotonic() - started < TIMEOUT_S + 2, answer[:300]
    time.sleep(1.5)  # the step under way when the timeout passed (one row: well under a second)
    before = _cpu_seconds(plain)
    time.sleep(3)
    # Without the deadline the remaining rows (several CPU-seconds) would still be decoded and coloured.
    assert _cpu_seconds(plain) - before < 0.5


def _cpu_seconds(server: Server) -> float:
    total = 0.0
    for process in server.processes():
        times = process.cpu_times()
        total += times.user + times.system
    return total


# ---------------------------------------------------------------- what only the guard can do


@pytest.mark.parametrize("where", ["bare", "inside inputs"])
def test_json_nested_100000_levels_is_a_400(plain, guarded, where):
    deep = b"[" * 100_000 + b"]" * 100_000
    body = deep if where == "bare" else b'{"inputs": {"image": ' + deep + b"}}"
    assert refusal(guarded, body) == "the JSON is nested too deeply"
    status, _ = plain.invoke(body)
    assert status == 500  # MLflow's scoring server alone: why the guard exists


def test_a_body_that_is_not_json_gets_a_short_400(guarded, plain):
    garbage = np.random.default_rng(2).bytes(200_000)
    assert refusal(guarded, garbage).startswith("the body is not ")
    status, answer = plain.invoke(garbage)
    assert status == 400 and len(answer) > len(garbage)  # MLflow alone repeats the body


def test_a_body_over_the_limit_is_refused_before_it_is_read(guarded):
    over = json.dumps({"inputs": {"image": ["A" * GUARD_BODY_LIMIT]}}).encode()
    message = refusal(guarded, over, 413)
    assert f"over the limit of max_body_bytes={GUARD_BODY_LIMIT:,}" in message
    # Without a length up front (chunked), the guard stops reading where the limit is passed.
    connection = http.client.HTTPConnection("127.0.0.1", guarded.port, timeout=30)
    try:
        chunks = (over[i : i + 65536] for i in range(0, len(over), 65536))
        connection.request(
            "POST",
            "/invocations",
            body=chunks,
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        answer = connection.getresponse()
        assert answer.status == 413 and "max_body_bytes" in json.loads(answer.read())["message"]
    finally:
        connection.close()


def test_mlflows_own_refusals_are_kept_short(guarded):
    long_name = "column" * 5000
    for body in (
        {"inputs": {long_name: ["x"]}},  # no image column
        {long_name: 1},  # none of MLflow's input keys
        {"inputs": {"image": [b64(sketch_png(8, 8))]}, "params": {"output": ["x" * 5000]}},  # wrong type
        {"inputs": [b64(sketch_png(8, 8)), "y" * 5000]},  # a bare list MLflow's schema check refuses
    ):
        status, answer = guarded.invoke(body)
        assert 400 <= status < 500 and len(answer) <= SHORT, (status, len(answer), answer[:300])
        assert b"columncolumn" not in answer and b"yyyy" not in answer and b"xxxx" not in answer


def test_only_json_is_taken(guarded):
    status, answer = guarded.invoke(b"image\nabc\n", content_type="text/csv")
    assert status == 415 and len(answer) <= SHORT


def test_a_bound_set_by_the_deployment_holds(guarded):
    """``MLFLOW_PYFUNC_INFERENCE_CONFIG`` overrides the registered default (16 rows) when serving."""
    rows = [b64(sketch_png(16, 16))] * (GUARD_MAX_ROWS + 1)
    message = refusal(guarded, {"inputs": {"image": rows}})
    assert f"over the limit of max_rows={GUARD_MAX_ROWS}" in message
