"""bench.json <-> the printed table.

The table is derived from the JSON alone, so ``python -m bench
--show`` prints the same table again from a saved file.
"""

from __future__ import annotations

import json
from pathlib import Path

from sketch2color import atomic

Row = tuple[str, str, str]


def load(path: Path) -> dict:
    """A previous bench.json, or {} when there is none or it is not readable JSON."""
    try:
        payload = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def save(path: Path, payload: dict) -> None:
    atomic.write_json(path, payload)


def _f(value, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


def _train_rows(section: dict) -> list[Row]:
    rows = []
    for result in section["variants"]:
        step = result["step"]
        rows.append(
            (
                f"train {result['variant']['image_size']}px: {result['variant']['name']}",
                f"{_f(result['images_per_s'])} img/s",
                f"step median {_f(step['median_s'], 3)} s (p10 {_f(step['p10_s'], 3)}, "
                f"p90 {_f(step['p90_s'], 3)}), peak {_f(result['peak_rss_mib'], 0)} MiB, "
                f"load {_f(result.get('load_average_after'), 1)}",
            )
        )
    best, best_float32 = section["best"], section["best_float32"]
    rows.append(
        ("train: paper model b1 vs reference b1", f"{_f(section['paper_b1_speedup_vs_reference_b1'])}x", "")
    )
    rows.append(
        (
            "train: best float32 vs reference b1",
            f"{_f(best_float32['speedup_vs_reference_b1'])}x",
            best_float32["name"],
        )
    )
    rows.append(("train: best vs reference b1", f"{_f(best['speedup_vs_reference_b1'])}x", best["name"]))
    rows.append(
        ("train: epoch of 14,224 pairs at best", _f(section["epoch_s_for_paper_train_pairs"], 0, " s"), "")
    )
    return rows


def _input_rows(section: dict) -> list[Row]:
    ratios = section.get("ratios", {})
    where = f"{section['image_size']}px, batch {section['batch']}"
    return [
        (
            "input pipeline: first epoch (disk, decode)",
            f"{_f(section['first_epoch_images_per_s'], 0)} img/s",
            f"{where}; {_f(ratios.get('first_epoch_ratio'), 1)}x the train step",
        ),
        (
            "input pipeline: cached epochs",
            f"{_f(section['cached_epochs_images_per_s'], 0)} img/s",
            f"{where}; {_f(ratios.get('cached_ratio'), 1)}x the train step",
        ),
        (
            "input pipeline: cached epochs, simulated hints",
            f"{_f(section.get('hints_cached_epochs_images_per_s'), 0)} img/s",
            f"{where}; {_f(ratios.get('hints_cached_ratio'), 1)}x the train step",
        ),
    ]


def _in_order(mapping: dict, order: tuple[str, ...]) -> list[tuple[str, dict]]:
    """Items in the pipeline's order (bench.json stores keys sorted), unknown names last."""
    rank = {name: index for index, name in enumerate(order)}
    return sorted(mapping.items(), key=lambda item: (rank.get(item[0], len(order)), item[0]))


SERVING_ORDER = ("keras_tf_function", "savedmodel", "tflite_float32", "tflite_float16")
STAGE_ORDER = ("fetch", "split", "augment", "train", "evaluate", "export")


def _serving_rows(section: dict) -> list[Row]:
    return [
        (
            f"inference {section['image_size']}px: {name}",
            f"{_f(r['latency_ms_p50'], 1)} ms",
            f"p95 {_f(r['latency_ms_p95'], 1)} ms; "
            f"batch {r['batch']}: {_f(r['batch_images_per_s'], 1)} img/s",
        )
        for name, r in _in_order(section["formats"], SERVING_ORDER)
    ]


def _served_load_rows(section: dict) -> list[Row]:
    rows = []
    for run in section["runs"]:
        rows.append(
            (
                f"served: {run['server']}",
                f"{_f(run['idle_rss_mib'], 0)} MiB idle",
                f"first answer after {_f(run['startup_s'], 1)} s",
            )
        )
        for case in run["cases"]:
            rows.append(
                (
                    f"served {case['size']}, {case['clients']} client(s)",
                    f"{_f(case['req_per_s'], 2)} req/s",
                    f"p50 {_f(case['p50_s'], 2)} s, p95 {_f(case['p95_s'], 2)} s, "
                    f"peak {_f(case['peak_rss_mib'], 0)} MiB, after {_f(case['rss_after_mib'], 0)} MiB",
                )
            )
        for key, when in (("largest_request", "first"), ("largest_request_after_load", "after the load")):
            if largest := run.get(key):
                rows.append(
                    (
                        f"served largest request ({largest['rows']} x {largest['side']} px), {when}",
                        f"{_f(largest['above_idle_after_mib'], 0)} MiB over idle after",
                        f"{_f(largest['p50_s'], 2)} s, peak {_f(largest['peak_rss_mib'], 0)} MiB",
                    )
                )
    for size, latency in section.get("guard_overhead", {}).items():
        rows.append(
            (
                f"served {size} through the guard, side by side",
                f"{_f(latency['guard_p50_s'], 3)} s p50",
                f"mlflow models serve alone: {_f(latency['mlflow_p50_s'], 3)} s p50",
            )
        )
    return rows


def _data_rows(section: dict) -> list[Row]:
    generation, split = section["generation"], section["split"]
    rows = [
        (
            "synthetic generation",
            f"{_f(generation['pairs_per_s'], 1)} pairs/s",
            f"{generation['pair_size']}, {generation['workers']} worker(s)",
        ),
        (
            "split",
            f"{_f(split['pairs_per_s'], 1)} pairs/s",
            f"{split['pair_size']} -> {split['image_size']}px, {split['workers']} worker(s)",
        ),
    ]
    for key, rate in sorted(section["augment"].items(), key=lambda item: int(item[0].split("px")[0])):
        rows.append((f"augment ({key.split('_')[0]})", f"{_f(rate, 1)} pairs/s", "one copy: warps + noise"))
    return rows


def _stages_rows(section: dict) -> list[Row]:
    return [
        (f"stage {name}", f"{_f(r['peak_rss_mib'], 0)} MiB peak", f"{_f(r['wall_s'], 1)} s (small project)")
        for name, r in _in_order(section["stages"], STAGE_ORDER)
    ]


def _colorize_rows(section: dict) -> list[Row]:
    rows = [
        (
            f"colorize {count} sketches",
            f"{_f(r['peak_rss_mib'], 0)} MiB peak",
            f"{_f(r['wall_s'], 1)} s, {_f(r['images_per_s'], 1)} img/s",
        )
        for count, r in sorted(section["runs"].items(), key=lambda item: int(item[0]))
    ]
    rows.append(("colorize: peak growth with 10x files", _f(section["peak_rss_growth_mib"], 1, " MiB"), ""))
    for run in section.get("one_sketch", []):
        rows.append(
            (
                f"colorize one {run['size']} sketch",
                f"{_f(run['peak_rss_mib'], 0)} MiB peak",
                f"{_f(run['wall_s'], 1)} s, line-faithful",
            )
        )
    return rows


def _first_picture_rows(section: dict) -> list[Row]:
    return [
        (
            f"colorize one {section['sketch']} sketch, {name}",
            f"{_f(r['wall_s_min'], 2)} s",
            f"fresh process, start-up included; slowest of {r['runs']} {_f(r['wall_s_max'], 2)} s, "
            f"{_f(r['peak_rss_mib'], 0)} MiB peak",
        )
        for name, r in section["formats"].items()
    ]


def _recolour_rows(section: dict) -> list[Row]:
    rows = []
    for size, r in section["sizes"].items():
        rows.append(
            (
                f"recolour {size}, {section['dabs']} dabs",
                f"{_f(r['full_s'], 3)} s",
                f"in-process, model and fill; hint model {_f(r['full_hint_model_s'], 3)} s; regions "
                f"{_f(r['regions_s'], 3)} s, spread {_f(r['spread_s'], 3)} s, fill {_f(r['fill_s'], 3)} s",
            )
        )
        rows.append(
            (
                f"GUI: one more dab, {size}",
                f"{_f(r['gui_dab_s'], 3)} s",
                "regions and colour kept; hint model (model and spread redone) "
                f"{_f(r['gui_dab_hint_model_s'], 3)} s, "
                f"its first look {_f(r['gui_first_look_hint_model_s'], 3)} s",
            )
        )
    return rows


def _repro_rows(section: dict) -> list[Row]:
    rows = [
        ("dvc repro, empty cache", _f(section["empty_cache_wall_s"], 0, " s"), section["params"]),
        ("dvc repro, nothing changed", _f(section["noop_wall_s"], 2, " s"), ""),
    ]
    for name, r in _in_order(section["stages"], STAGE_ORDER):
        rows.append(
            (
                f"dvc repro stage {name}",
                f"{_f(r['peak_rss_mib'], 0)} MiB peak",
                f"~{_f(r['seconds_approx'], 0)} s",
            )
        )
    return rows


FORMATTERS = {
    "train": _train_rows,
    "input_pipeline": _input_rows,
    "serving": _serving_rows,
    "serving_load": _served_load_rows,
    "data_stages": _data_rows,
    "stages": _stages_rows,
    "colorize": _colorize_rows,
    "first_picture": _first_picture_rows,
    "recolour": _recolour_rows,
    "repro": _repro_rows,
}


def table(payload: dict) -> str:
    rows: list[Row] = [("measurement", "value", "detail")]
    for name, formatter in FORMATTERS.items():
        section = payload.get(name)
        if section is None:
            continue
        if "error" in section:
            rows.append((name, "FAILED", section["error"].splitlines()[0][:100]))
        else:
            rows.extend(formatter(section))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c}".rstrip() for a, b, c in rows]
    lines.insert(1, "-" * min(120, max(len(line) for line in lines)))
    machine = payload.get("machine", {})
    header = (
        f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores, "
        f"GPU: {', '.join(g['name'] for g in machine.get('gpus', [])) or 'none'}; "
        f"TensorFlow {machine.get('tensorflow', '?')}; {machine.get('date_utc', '')}"
    )
    return header + "\n" + "\n".join(lines)
