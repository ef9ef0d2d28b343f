"""The one log-level knob, ``SKETCH2COLOR_LOG_LEVEL``; TensorFlow's and LiteRT's lines below it kept quiet.

TensorFlow 2.21 and LiteRT write C++ log lines straight to file descriptor 2
while their libraries load: ``WARNING: All log messages before
absl::InitializeLog() is called are written to STDERR``, ``oneDNN custom
operations are on ...`` (twice: two of TensorFlow's libraries print it), and
``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.``. They come from
static initialisers and from absl logging used before absl is initialised, so
``TF_CPP_MIN_LOG_LEVEL`` does not reach them (measured: 0, 2 and 3 all print
them), and nothing in Python runs early enough to set absl's own level.
``TF_ENABLE_ONEDNN_OPTS=0`` hides one of them only by turning oneDNN off, which
changes speed and numbers. What does work is the file descriptor itself:
:func:`native_logs_below_level_hidden` points fd 2 at a temporary file while a
library loads, then writes back to the real stderr every line that is not one
of those libraries' log records below the chosen level. So an error the
library prints, a Python warning or another thread's message still reaches the
user; and when the load fails, everything captured is written back.

The level is ``SKETCH2COLOR_LOG_LEVEL`` (Python's names; the stages' own log
lines follow it too) or ``-v`` (INFO). Unset, the native libraries' lines below
ERROR are hidden. At INFO or DEBUG nothing is captured.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager

from sketch2color.errors import Sketch2ColorError

LOG_LEVEL_VARIABLE = "SKETCH2COLOR_LOG_LEVEL"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
NATIVE_DEFAULT = "ERROR"
"""The native libraries' threshold when the variable is unset: their start-up chatter is INFO and WARNING."""
# TensorFlow's own C++ threshold for each level (its numbers: 0 INFO, 1 WARNING, 2 ERROR, 3 FATAL).
TF_CPP_LEVELS = {"DEBUG": "0", "INFO": "0", "WARNING": "1", "ERROR": "2", "CRITICAL": "3"}
PYTHON_LOGGERS = ("tensorflow", "absl", "keras")

# One record of absl (TensorFlow) or of TFLite's minimal logger, and its severity.
_ABSL_RECORD = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\] ")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_TFLITE_RECORD = re.compile(r"^(VERBOSE|INFO|WARNING|ERROR): ")
_SEVERITY = {"I": "INFO", "W": "WARNING", "E": "ERROR", "F": "CRITICAL", "VERBOSE": "DEBUG"}

_lock = threading.RLock()
_depth = 0


def log_level(environ: Mapping[str, str] = os.environ, default: str = NATIVE_DEFAULT) -> str:
    """``SKETCH2COLOR_LOG_LEVEL`` in upper case, ``default`` when unset; a bad value names the variable."""
    level = environ.get(LOG_LEVEL_VARIABLE, "").strip().upper() or default
    if level not in LOG_LEVELS:
        raise Sketch2ColorError(
            f"{LOG_LEVEL_VARIABLE}={environ.get(LOG_LEVEL_VARIABLE)!r}: use one of {', '.join(LOG_LEVELS)}"
        )
    return level


def configure(verbose: bool, environ: MutableMapping[str, str] = os.environ) -> str:
    """Set the level for this process and its children: ``-v`` is INFO, else the variable, else ERROR.

    Called before TensorFlow loads, so its own threshold (``TF_CPP_MIN_LOG_LEVEL``,
    unless the user set it) and its Python loggers follow the same level.
    """
    level = "INFO" if verbose and _rank(log_level(environ)) > _rank("INFO") else log_level(environ)
    environ[LOG_LEVEL_VARIABLE] = level
    environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_CPP_LEVELS[level])
    for name in PYTHON_LOGGERS:
        logging.getLogger(name).setLevel(level)
    return level


def _rank(level: str) -> int:
    return LOG_LEVELS.index(level)


def native_record_level(line: str) -> str | None:
    """The level of one line if it is a log record of absl (TensorFlow) or TFLite, else None."""
    if line.startswith(_ABSL_PREAMBLE):
        return "WARNING"
    match = _ABSL_RECORD.match(line) or _TFLITE_RECORD.match(line)
    if match is None:
        return None
    return _SEVERITY.get(match.group(1), match.group(1))


def without_records_below(text: str, level: str) -> str:
    """``text`` less the native log records below ``level``; every other line is kept."""
    kept = []
    for line in text.splitlines(keepends=True):
        record = native_record_level(line)
        if record is None or _rank(record) >= _rank(level):
            kept.append(line)
    return "".join(kept)


@contextmanager
def native_logs_below_level_hidden(environ: Mapping[str, str] = os.environ) -> Iterator[None]:
    """While TensorFlow or LiteRT loads: their log lines below the level do not reach stderr.

    fd 2 is process-wide, so one block at a time redirects it; a block nested
    in another (a backend that loads TensorFlow inside ``open_model``) just runs.
    """
    global _depth
    level = log_level(environ)
    if _rank(level) <= _rank("INFO"):
        yield
        return
    with _lock:
        if _depth:
            _depth += 1
            try:
                yield
            finally:
                _depth -= 1
            return
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no fd 2 to redirect (a closed stderr): nothing to hide
            yield
            return
        _depth = 1
        failed = True
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            try:
                yield
                failed = False
            finally:
                _depth = 0
                sys.stderr.flush()  # Python's own buffered lines belong to the capture too
                os.dup2(saved, 2)
                os.close(saved)
                capture.seek(0)
                text = capture.read().decode("utf-8", errors="replace")
                shown = text if failed else without_records_below(text, level)
                if shown:
                    sys.stderr.write(shown)
                    sys.stderr.flush()
