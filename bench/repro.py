"""The default ``dvc repro`` from an empty cache, then a no-op ``dvc repro``, in wall time.

It runs in a temporary copy of the project as a fresh clone would be (its
own git history, no ``dvc.lock``, no DVC cache, the default params.yaml),
so it measures what a new user waits for and touches nothing in the
checkout. While the first run goes, each stage's process tree is sampled a
few times a second for its resident memory, which gives each stage's peak
(stage process plus its worker pool) and its duration at the default size.

This takes as long as the default pipeline does (several minutes on 2
cores), so it only runs with ``--with-repro`` or ``--only repro``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench.project import child_env, copy_project, project_root
from sketch2color.paths import ProjectPaths

SAMPLE_EVERY_S = 0.2
REPRO_TIMEOUT_S = 3 * 3600


class StageSampler(threading.Thread):
    """Samples the process tree under ``pid``: per stage script, peak tree RSS and time seen."""

    def __init__(self, pid: int, stages: tuple[str, ...]) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.stages = stages
        self.peak_mib: dict[str, float] = {}
        self.first_seen: dict[str, float] = {}
        self.last_seen: dict[str, float] = {}
        self.stop = threading.Event()

    def _stage_of(self, process: psutil.Process) -> str | None:
        try:
            command = " ".join(process.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return None
        return next((s for s in self.stages if f"stages/{s}.py" in command), None)

    def _tree_rss(self, process: psutil.Process) -> int:
        total = 0
        for member in [process, *process.children(recursive=True)]:
            try:
                total += member.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        return total

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.perf_counter()
            try:
                descendants = self.root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            for process in descendants:
                stage = self._stage_of(process)
                if stage is None:
                    continue
                try:
                    rss = self._tree_rss(process) / 2**20
                except psutil.NoSuchProcess:
                    continue
                self.peak_mib[stage] = max(self.peak_mib.get(stage, 0.0), rss)
                self.first_seen.setdefault(stage, now)
                self.last_seen[stage] = now
            self.stop.wait(SAMPLE_EVERY_S)

    def summary(self) -> dict:
        return {
            stage: {
                "peak_rss_mib": round(self.peak_mib[stage], 1),
                "seconds_approx": round(self.last_seen[stage] - self.first_seen[stage], 1),
            }
            for stage in self.stages
            if stage in self.peak_mib
        }


def _dvc(folder: Path, sampler_stages: tuple[str, ...] | None = None) -> tuple[float, dict]:
    command = [str(Path(sys.executable).parent / "dvc"), "repro"]
    started = time.perf_counter()
    child = subprocess.Popen(
        command,
        cwd=folder,
        env=child_env(folder),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = StageSampler(child.pid, sampler_stages) if sampler_stages else None
    if sampler:
        sampler.start()
    try:
        _, stderr = child.communicate(timeout=REPRO_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if sampler:
            sampler.stop.set()
            sampler.join()
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"dvc repro in {folder} exited {child.returncode}:\n{stderr[-3000:]}")
    return seconds, (sampler.summary() if sampler else {})


def repro_section(quick: bool, report=print) -> dict:
    from bench.stages import ALL_STAGES

    root = project_root()
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-repro-") as tmp:
        folder = copy_project(root, Path(tmp))
        if quick:
            # --quick --with-repro: the tiny profile the end-to-end test uses, for a smoke run.
            (folder / ProjectPaths.PARAMS).write_text((root / "profiles" / "tiny.yaml").read_text())
        report("  repro: dvc repro from an empty cache ...")
        full_s, per_stage = _dvc(folder, ALL_STAGES)
        report(f"  repro: {full_s:.0f} s; now a no-op dvc repro ...")
        noop_s, _ = _dvc(folder)
    return {
        "params": "profiles/tiny.yaml" if quick else "params.yaml (default)",
        "empty_cache_wall_s": round(full_s, 1),
        "noop_wall_s": round(noop_s, 2),
        "stages": per_stage,
    }
