"""What identifies a training in MLflow: its configuration, its code and its name."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import datetime
from pathlib import Path

from sketch2color.config import Params


def params_hash(params: Params) -> str:
    """sha256 of the sorted, flattened params: equal hashes, equal configuration."""
    text = json.dumps(params.to_flat_dict(), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_commit(folder: Path) -> str:
    """HEAD of the git checkout at ``folder``, or "unknown" (no git, no repo, no commit)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def default_run_name() -> str:
    return f"train-{datetime.now():%Y%m%d-%H%M%S}"
