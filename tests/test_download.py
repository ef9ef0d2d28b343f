"""Verified downloads against a real local http server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sketch2color.data.fetch.download import download, download_name
from sketch2color.errors import DataError

PAYLOAD = bytes(range(256)) * 64
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class LocalServer:
    """Serves PAYLOAD at /archive.zip, a lying length at /truncated.zip, 404 elsewhere."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path == "/archive.zip":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(PAYLOAD)))
                    self.end_headers()
                    self.wfile.write(PAYLOAD)
                elif self.path == "/truncated.zip":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(PAYLOAD)))
                    self.end_headers()
                    self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
                    self.close_connection = True
                else:
                    self.send_error(404, "no such file")

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    local = LocalServer()
    local.thread.start()
    yield local
    local.httpd.shutdown()
    local.httpd.server_close()


def test_right_sha_gives_the_file_and_no_partial(server, tmp_path):
    url = server.url("/archive.zip")
    path = download(url, PAYLOAD_SHA, tmp_path / "downloads")
    assert path.read_bytes() == PAYLOAD
    assert path.name == download_name(url, PAYLOAD_SHA)
    assert [p.name for p in (tmp_path / "downloads").iterdir()] == [path.name]


def test_wrong_sha_is_an_error_naming_url_and_hashes_and_leaves_nothing(server, tmp_path):
    url = server.url("/archive.zip")
    wrong = "0" * 64
    with pytest.raises(DataError) as err:
        download(url, wrong, tmp_path / "downloads")
    message = str(err.value)
    assert url in message and wrong in message and PAYLOAD_SHA in message
    assert list((tmp_path / "downloads").iterdir()) == []


def test_verified_file_is_reused_without_network(server, tmp_path):
    url = server.url("/archive.zip")
    first = download(url, PAYLOAD_SHA, tmp_path)
    server.httpd.shutdown()  # any further request would now fail
    again = download(url, PAYLOAD_SHA, tmp_path)
    assert again == first and again.read_bytes() == PAYLOAD
    assert server.requests == ["/archive.zip"]


def test_stale_partial_is_never_used(server, tmp_path):
    url = server.url("/archive.zip")
    name = download_name(url, PAYLOAD_SHA)
    (tmp_path / f"{name}.part").write_bytes(b"garbage from an earlier, killed download")
    path = download(url, PAYLOAD_SHA, tmp_path)
    assert path.read_bytes() == PAYLOAD
    assert not (tmp_path / f"{name}.part").exists()


def test_existing_file_with_a_wrong_hash_is_downloaded_again(server, tmp_path):
    url = server.url("/archive.zip")
    (tmp_path / download_name(url, PAYLOAD_SHA)).write_bytes(b"tampered")
    assert download(url, PAYLOAD_SHA, tmp_path).read_bytes() == PAYLOAD
    assert server.requests == ["/archive.zip"]


def test_truncated_download_is_an_error_and_leaves_nothing(server, tmp_path):
    url = server.url("/truncated.zip")
    with pytest.raises(DataError, match="truncated.zip"):
        download(url, PAYLOAD_SHA, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_http_error_names_the_url_and_status(server, tmp_path):
    url = server.url("/missing.zip")
    with pytest.raises(DataError, match=r"missing\.zip.*404"):
        download(url, PAYLOAD_SHA, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/archive.zip"
    with pytest.raises(DataError, match="cannot reach"):
        download(url, PAYLOAD_SHA, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_over_the_size_limit_is_refused(server, tmp_path):
    with pytest.raises(DataError, match="limit"):
        download(server.url("/archive.zip"), PAYLOAD_SHA, tmp_path, max_bytes=100)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x.zip"])
def test_only_http_urls_are_accepted(url, tmp_path):
    with pytest.raises(DataError, match="http"):
        download(url, PAYLOAD_SHA, tmp_path)


def test_download_name_is_safe_and_distinct():
    a = download_name("https://example.org/x/../../etc/archive.zip?x=1", "a" * 64)
    b = download_name("https://example.org/y/archive.zip", "b" * 64)
    assert "/" not in a and ".." not in a.replace("..zip", "") and a != b
    assert download_name("https://example.org/", "c" * 64) == "cccccccccccc-archive.zip"
