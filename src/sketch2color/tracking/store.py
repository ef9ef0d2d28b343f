"""Where MLflow runs are stored, and whether that store can be used right now.

Nothing here imports MLflow: these checks run *before* the first MLflow call,
because MLflow's own HTTP client retries a dead server for minutes before it
gives up, while a training stage should fail within seconds and say why.

The embedded default store is a sqlite file at the project root. Queued DVC
experiments (``dvc queue start -j 2``) run in parallel in temporary copies of
the repo, all writing to that one file, so this module also holds what keeps
concurrent writers from failing with "database is locked":

* MLflow 3.17 already sets ``PRAGMA busy_timeout = 20000`` on every sqlite
  session it opens (``mlflow/store/db/utils.py``), so a writer waits up to
  20 s for the lock; there is no env var or ``connect_args`` hook to change
  that, and none is needed.
* A busy timeout does not cover every case: sqlite returns SQLITE_BUSY at
  once, without waiting, when two transactions would deadlock (one holds a
  read lock it wants to upgrade while the other waits to commit). So every
  store call made by :class:`~sketch2color.tracking.run.TrainingRun` is
  retried with backoff when it fails on a lock (:func:`retry_when_locked`).
* MLflow's tracking store creates its tables on first use without any
  inter-process lock, and two processes creating the same experiment or the
  next model version race each other. Those few one-off steps (store
  creation, experiment, run creation, parameters, model registration) run
  under an exclusive file lock next to the database (:func:`store_lock`).
* WAL journal mode is deliberately left off: it adds ``-wal``/``-shm`` files,
  misbehaves on network file systems, and is not needed at the write rate of
  a training loop (a few small inserts per logged step).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from sketch2color.errors import Sketch2ColorError
from sketch2color.paths import ProjectPaths

log = logging.getLogger(__name__)

T = TypeVar("T")

# MLflow's HTTP client defaults are 7 retries with a backoff factor of 2 and a
# 120 s timeout: one call to a dead server then blocks for minutes. Training
# logs every few seconds, so a lost server must cost seconds, not minutes.
# Applied with setdefault: a user's own setting always wins.
CLIENT_ENV_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}

_DEFAULT_DB_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433}


class TrackingUnavailable(Sketch2ColorError):
    """The MLflow tracking store named by the URI cannot be used."""


# ---------------------------------------------------------------- the URI


def resolve_tracking_uri(paths: ProjectPaths) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the sqlite file at the project root.

    The root is ``DVC_ROOT`` when set: DVC points it at the *parent* repo for
    queued experiments, so experiments running in temporary copies all share
    one store instead of each writing a database that is deleted with its
    copy. For the same reason a relative sqlite path in the env var
    (``sqlite:///mlflow.db``) is anchored at that root, not at the cwd.
    """
    root = Path(os.environ.get("DVC_ROOT") or paths.root)
    configured = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not configured:
        return sqlite_uri((root / ProjectPaths.MLFLOW_DB).resolve())
    db_path = sqlite_db_path(configured)
    if db_path is not None and not db_path.is_absolute():
        anchored = sqlite_uri((root / db_path).resolve())
        log.info("MLflow: relative sqlite URI %s anchored at the project root: %s", configured, anchored)
        return anchored
    return configured


def sqlite_uri(db_file: Path) -> str:
    """An absolute sqlite URI: four slashes (three would be relative to the cwd)."""
    return "sqlite:///" + Path(db_file).as_posix()


def sqlite_db_path(uri: str) -> Path | None:
    """The database file of a sqlite URI (relative if the URI is), else None.

    ``sqlite://`` and ``sqlite:///:memory:`` are in-memory: no file, None.
    """
    if not uri.startswith("sqlite:///"):
        return None
    rest = uri[len("sqlite:///") :].split("?", 1)[0]
    if rest in ("", ":memory:"):
        return None
    return Path(urllib.parse.unquote(rest))


def default_artifact_location(uri: str) -> str | None:
    """Where a new experiment's artifacts go when the store is a local sqlite file.

    MLflow's own default for a client-side sqlite store is ``./mlruns`` under
    the *cwd*, which for a queued DVC experiment is a temporary copy that is
    deleted afterwards. Keep artifacts next to the database instead. For
    servers (http) the server decides, so None.
    """
    db_path = sqlite_db_path(uri)
    if db_path is None:
        return None
    return (db_path.resolve().parent / "mlruns").as_uri()


def apply_client_defaults() -> None:
    """Short MLflow HTTP retries/timeouts for this process, unless the user set them."""
    for name, value in CLIENT_ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)


# ---------------------------------------------------------------- reachability


def check_reachable(uri: str, timeout_s: float = 5.0) -> None:
    """Raise TrackingUnavailable, within about ``timeout_s``, if the store can't be used.

    http(s): the server must answer an HTTP request (any status counts as an
    answer: an auth proxy saying 401 is a live server). sqlite: the folder of
    the database must exist and be writable, and so must the file if it
    exists. Database servers named by host: a TCP connection must open.
    Other schemes (databricks, ...) are left to MLflow.
    """
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if scheme in ("http", "https"):
        _check_http(uri, timeout_s)
    elif scheme == "sqlite":
        _check_sqlite(uri)
    elif scheme in ("file", ""):
        store = Path(urllib.parse.unquote(urllib.parse.urlsplit(uri).path) if scheme else uri)
        _check_folder(uri, store if store.exists() else store.parent)
    else:
        base = scheme.split("+", 1)[0]
        if base in _DEFAULT_DB_PORTS:
            parts = urllib.parse.urlsplit(uri)
            if parts.hostname:
                _check_tcp(uri, parts.hostname, parts.port or _DEFAULT_DB_PORTS[base], timeout_s)


def _check_http(uri: str, timeout_s: float) -> None:
    parts = urllib.parse.urlsplit(uri)
    if not parts.hostname:
        raise TrackingUnavailable(f"MLflow tracking URI {uri!r} has no host name")
    health = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/health", "", ""))
    # A liveness probe only: no credentials are sent, so the certificate is
    # not verified here (MLflow verifies it, with the user's CA settings).
    context = None
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    started = time.monotonic()
    try:
        with urllib.request.urlopen(health, timeout=timeout_s, context=context) as response:
            response.read(64)
    except urllib.error.HTTPError:
        return  # the server answered, with some status: it is there
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrackingUnavailable(
            f"MLflow tracking server {uri} does not answer "
            f"({type(reason).__name__}: {reason}; gave up after "
            f"{time.monotonic() - started:.1f} s). Start the server, or unset "
            "MLFLOW_TRACKING_URI to use the local sqlite store."
        ) from None


def _check_tcp(uri: str, host: str, port: int, timeout_s: float) -> None:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise TrackingUnavailable(
            f"MLflow tracking database {uri} does not answer on {host}:{port} ({exc})"
        ) from None


def _check_sqlite(uri: str) -> None:
    db_path = sqlite_db_path(uri)
    if db_path is None:
        return  # in-memory
    _check_folder(uri, db_path.parent)
    if db_path.exists() and not os.access(db_path, os.R_OK | os.W_OK):
        raise TrackingUnavailable(
            f"MLflow tracking database {db_path} (from {uri}) is not readable and writable"
        )


def _check_folder(uri: str, folder: Path) -> None:
    folder = folder.expanduser()
    if not folder.is_dir():
        raise TrackingUnavailable(f"MLflow tracking store {uri}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise TrackingUnavailable(f"MLflow tracking store {uri}: folder {folder} is not writable")


# ---------------------------------------------------------------- concurrency


@contextlib.contextmanager
def store_lock(uri: str, timeout_s: float = 120.0) -> Iterator[None]:
    """Hold an exclusive inter-process lock on a sqlite store; no-op for others.

    The lock file is ``<db>-lock`` beside the database (sqlite's own naming
    for sidecar files). The OS releases it when a holder dies, so a killed
    training never leaves it stuck. If it cannot be had within ``timeout_s``
    we go on without it (and rely on the retries) rather than hang a stage.
    """
    db_path = sqlite_db_path(uri)
    try:
        import fcntl
    except ImportError:  # Windows: no flock; the retries still apply
        fcntl = None  # type: ignore[assignment]
    if db_path is None or fcntl is None:
        yield
        return
    lock_path = db_path.resolve().with_name(db_path.name + "-lock")
    handle = open(lock_path, "a+b")
    acquired = False
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                acquired = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    log.warning(
                        "MLflow: %s is held by another process for over %.0f s; going on without it",
                        lock_path,
                        timeout_s,
                    )
                    break
                time.sleep(0.05)
        yield
    finally:
        if acquired:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def is_database_locked(exc: BaseException) -> bool:
    """True when an error (or any error it wraps) is sqlite's "database is locked".

    MLflow wraps SQLAlchemy's OperationalError in an MlflowException, so the
    whole cause chain is searched, and the message as a last resort.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).lower()
        if "database is locked" in text or "database table is locked" in text:
            return True
        if type(current).__name__ == "OperationalError" and "busy" in text:
            return True
        current = current.__cause__ or current.__context__
    return False


def retry_when_locked(
    action: Callable[[], T],
    what: str,
    attempts: int = 8,
    first_delay_s: float = 0.1,
    max_delay_s: float = 5.0,
) -> T:
    """Run ``action``; when it fails on a sqlite lock, back off and try again.

    Any other error, or a lock that outlasts ``attempts`` tries (about 15 s
    of backoff on top of MLflow's 20 s busy timeout per try), is raised.
    """
    delay = first_delay_s
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if attempt == attempts or not is_database_locked(exc):
                raise
            log.info(
                "MLflow: store locked while %s (try %d of %d); retrying in %.1f s",
                what,
                attempt,
                attempts,
                delay,
            )
            time.sleep(delay)
            delay = min(delay * 2, max_delay_s)
    raise AssertionError("unreachable")  # pragma: no cover
