"""A disposable copy of the project in which real `dvc` commands run.

The copy holds the project's own files (what git tracks, plus new files not
yet ignored), a fresh git history and the tiny profile as params.yaml, so an
end-to-end test exercises exactly what a user's clone would, in seconds.

A copy that has run the pipeline can be kept as a :class:`RepoSnapshot`, from
which each test takes a copy of its own.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.project import child_env, copy_project_files
from sketch2color.paths import ProjectPaths

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


@dataclass(frozen=True)
class RepoSnapshot:
    """A project copy that has run (part of) the pipeline, from which each test takes a copy of its own.

    The snapshot itself is never run in again. A copy holds its files, git
    history, DVC cache and MLflow store. MLflow writes absolute paths into its
    sqlite store (each experiment's artifact location, each run's artifact URI,
    each logged model's and registered version's location), and MLflow has no
    API to move a store, so :func:`repoint_sqlite_paths` rewrites them to the copy:
    new runs then write their artifacts into the copy, not into the snapshot.
    A few files name the snapshot's folder too and are left as they are: in
    each MLmodel file, ``artifact_path`` and each artifact's source ``uri``
    (records of where it was logged from; MLflow loads the relative ``path``),
    and ``models/mlflow_run.json``'s ``tracking_uri`` (DVC tracks that file's
    hash; the stages find the store from the environment, and this URI only
    appears in an error's hint). They name a folder that never changes.
    """

    root: Path

    def copy(self, target: Path) -> PipelineRepo:
        shutil.copytree(self.root, target, symlinks=True)
        store = target / ProjectPaths.MLFLOW_DB
        if store.exists():
            repoint_sqlite_paths(store, str(self.root), str(target))
        return PipelineRepo(target)


def repoint_sqlite_paths(database: Path, old: str, new: str) -> None:
    """Replace the folder ``old`` by ``new`` in every text value of every table of a sqlite file.

    Generic on purpose (no list of MLflow's tables and columns to keep up to
    date with its schema): a value that names a path under ``old``, as a path
    or inside a ``file://`` URI, names the same path under ``new``.
    """
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]:
                db.execute(
                    f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                    f'WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0',
                    (old, new, old),
                )
