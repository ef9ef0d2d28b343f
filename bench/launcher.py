"""``python -m bench.launcher RESULT_JSON COMMAND...``: run COMMAND, record its peak memory.

Why a launcher: Linux starts a child's ``ru_maxrss`` at the resident size of
the process it was forked from (the pre-exec memory image counts), so a
stage started directly from a benchmark process that holds a few GB of
models would report those GB as its own peak. This launcher is a fresh
small process; the command it starts is measured from its own first page.

It writes ``{"returncode", "peak_rss_kib"}`` to RESULT_JSON and exits with
the command's status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: python -m bench.launcher RESULT_JSON COMMAND...", file=sys.stderr)
        return 2
    result_path, command = argv[1], argv[2:]
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = returncode = os.waitstatus_to_exitcode(status)
    with open(result_path, "w") as fh:
        json.dump({"returncode": returncode, "peak_rss_kib": usage.ru_maxrss}, fh)
    return returncode if returncode >= 0 else 128 - returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
