"""``python -m bench [--quick] [--only NAME ...] [--with-repro]`` (``make bench``).

Runs the sections in order, prints progress on stderr and the table on
stdout, and writes ``metrics/bench.json`` atomically (after every section, so
an interrupted run keeps what it measured). A section that fails is recorded
with its error and the others still run; the exit status is then 1. With ``--only`` the
other sections of an existing bench.json are kept, each stamped with when
and under which load it was measured, so partial reruns add up.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench import report as bench_report
from bench.machine import load_average, machine_info
from sketch2color.paths import ProjectPaths

DEFAULT_OUTPUT = Path("metrics") / ProjectPaths.BENCH_METRICS
SECTIONS = (
    "train",
    "input_pipeline",
    "serving",
    "serving_load",
    "data_stages",
    "stages",
    "colorize",
    "first_picture",
    "recolour",
    "repro",
)
DEFAULT_SECTIONS = SECTIONS[:-1]  # repro takes as long as the whole default pipeline: opt-in


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# section -> (module, function); each function takes (quick, report=...) and returns a dict.
RUNNERS = {
    "serving": ("serving", "serving_section"),
    "serving_load": ("served_load", "served_load_section"),
    "data_stages": ("data_stages", "data_stages_section"),
    "stages": ("stages", "stages_section"),
    "colorize": ("colorize_memory", "colorize_section"),
    "first_picture": ("first_picture", "first_picture_section"),
    "recolour": ("recolour", "recolour_section"),
    "repro": ("repro", "repro_section"),
}


def _run_section(name: str, quick: bool, on_gpu: bool, previous: dict) -> dict:
    """Run one section; ``previous`` holds the sections measured so far (for the input ratios)."""
    if name == "train":
        from bench.train import train_section

        return train_section(quick, on_gpu, _progress)
    if name == "input_pipeline":
        from bench.input_pipeline import input_pipeline_section, ratios_to_training

        section = input_pipeline_section(quick, batch=_best_train_batch(previous) or 4, report=_progress)
        section["ratios"] = ratios_to_training(section, _best_train_rate(previous))
        return section
    module, function = RUNNERS[name]
    runner = getattr(importlib.import_module(f"bench.{module}"), function)
    return runner(quick, report=_progress)


def _best_train_rate(payload: dict) -> float | None:
    return payload.get("train", {}).get("best", {}).get("images_per_s")


def _best_train_batch(payload: dict) -> int | None:
    train = payload.get("train")
    if not train:
        return None
    best = train["best"]["name"]
    return next((v["variant"]["batch"] for v in train["variants"] if v["variant"]["name"] == best), None)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny images and models, a few steps: a smoke test of every section (< 1 min)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTIONS,
        metavar="NAME",
        help=f"run only this section (repeatable): {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--with-repro",
        action="store_true",
        help="also time the default `dvc repro` from an empty cache (several minutes)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the JSON (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--show", action="store_true", help="print the table of an existing --output and exit"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.show:
        print(bench_report.table(bench_report.load(args.output)))
        return 0
    sections = tuple(args.only) if args.only else DEFAULT_SECTIONS + (("repro",) if args.with_repro else ())
    payload = bench_report.load(args.output) if args.only else {}
    payload["machine"] = machine_info()
    on_gpu = bool(payload["machine"]["gpus"])
    started = time.perf_counter()
    failed: list[str] = []
    for name in SECTIONS:
        if name not in sections:
            continue
        _progress(f"{name} ...")
        section_started = time.perf_counter()
        try:
            section = _run_section(name, args.quick, on_gpu, payload)
        except Exception as exc:  # noqa: BLE001 - one broken section must not cost the others' figures
            _progress(f"{name} failed: {type(exc).__name__}: {exc}")
            section = {"error": f"{type(exc).__name__}: {exc}"}
            failed.append(name)
        section["measured"] = {
            "quick": args.quick,
            "seconds": round(time.perf_counter() - section_started, 1),
            "load_average_after": load_average(),
            "date_utc": _now_utc(),
        }
        payload[name] = section
        bench_report.save(args.output, payload)  # a crash later keeps what was measured
    payload["run"] = {
        "sections": list(sections),
        "quick": args.quick,
        "failed": failed,
        "seconds": round(time.perf_counter() - started, 1),
        "load_average_at_end": load_average(),
    }
    bench_report.save(args.output, payload)
    print(bench_report.table(payload))
    _progress(f"wrote {args.output}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _now_utc() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


if __name__ == "__main__":
    raise SystemExit(main())
