"""A disposable copy of the project in which real `dvc` commands run.

The copy holds the project's own files (what git tracks, plus new files not
yet ignored), a fresh git history and the tiny profile as params.yaml, so an
end-to-end test exercises exactly what a user's clone would, in seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.project import child_env, copy_project_files

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@dataclass
class PipelineRepo:
    root: Path

    def env(self, **extra: str) -> dict[str, str]:
        return child_env(self.root, **extra)

    def run(self, *args: str, check: bool = True, timeout: float = 900, **env: str):
        result = subprocess.run(
            list(args),
            cwd=self.root,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}\n--- stdout\n{result.stdout}"
                f"\n--- stderr\n{result.stderr}"
            )
        return result

    def dvc(self, *args: str, **kwargs):
        return self.run(str(VENV_BIN / "dvc"), *args, **kwargs)

    def git(self, *args: str):
        return self.run("git", *args)

    def set_params(self, text: str) -> None:
        (self.root / "params.yaml").write_text(text)


def make_pipeline_repo(target: Path, profile: str = "tiny") -> PipelineRepo:
    copy_project_files(REPO, target)
    shutil.copy2(REPO / "profiles" / f"{profile}.yaml", target / "params.yaml")
    repo = PipelineRepo(target)
    repo.git("init", "-q")
    repo.git("config", "user.email", "tests@sketch2color.invalid")
    repo.git("config", "user.name", "sketch2color tests")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "test copy")
    return repo
