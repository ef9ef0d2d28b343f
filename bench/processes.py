"""Running a child process and reading its wall time and peak memory.

Peak memory is the ``ru_maxrss`` that ``wait4`` reports for that one child:
the largest resident set of the child or of any process it waited for (a
stage's worker pool included), in the kernel's own accounting, so no polling
can miss a short peak. It is per child, unlike
``getrusage(RUSAGE_CHILDREN)``, which keeps the maximum over every child this
process ever had. The child is started through :mod:`.launcher`, a small
fresh process, because a child forked straight from this one would count
this process's own memory at the fork as part of its peak.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.project import importable_env

OUTPUT_TAIL_CHARS = 3000


@dataclass(frozen=True)
class ChildRun:
    returncode: int
    wall_s: float
    peak_rss_mib: float
    stdout: str
    stderr: str

    def check(self, what: str) -> ChildRun:
        if self.returncode != 0:
            raise RuntimeError(f"{what} exited {self.returncode}:\n{self.stderr[-OUTPUT_TAIL_CHARS:]}")
        return self


def run_child(command: Sequence[str], cwd: Path, env: Mapping[str, str], timeout_s: float) -> ChildRun:
    """Run ``command`` to completion; output goes to temporary files (no pipe can fill up)."""
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-child-") as tmp:
        result_file = Path(tmp) / "rusage.json"
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        launcher = [sys.executable, "-m", "bench.launcher", str(result_file), *command]
        with open(out_path, "w") as out, open(err_path, "w") as err:
            started = time.perf_counter()
            # Its own session, so that a timeout can stop the launcher and everything under it.
            child = subprocess.Popen(
                launcher,
                cwd=cwd,
                env=importable_env(dict(env)),
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
            try:
                child.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            wall = time.perf_counter() - started
        try:
            usage = json.loads(result_file.read_text())
        except (OSError, ValueError):  # killed before the launcher could write it
            usage = {"returncode": child.returncode, "peak_rss_kib": 0}
        return ChildRun(
            usage["returncode"],
            wall,
            usage["peak_rss_kib"] / 1024,
            out_path.read_text(errors="replace"),
            err_path.read_text(errors="replace"),
        )
