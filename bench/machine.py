"""What the figures were measured on: CPU, cores, memory, GPU, library versions, load.

Figures from a benchmark are only comparable on the same machine under the
same load, so both travel with them in ``metrics/bench.json``.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from pathlib import Path

# CPU features that decide which kernels oneDNN and XLA can use.
NOTABLE_CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_model() -> str:
    """The CPU's name, with family and model numbers (a VM often shows only "AMD EPYC")."""
    fields = _first_cpu_fields()
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        return f"{name} (family {fields['cpu family']}, model {fields['model']})"
    return name


def _first_cpu_fields() -> dict[str, str]:
    """The key: value lines of the first processor block of /proc/cpuinfo (empty elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return {}
    fields: dict[str, str] = {}
    for line in cpuinfo.read_text(errors="replace").splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def cpu_flags() -> list[str]:
    present = set(_first_cpu_fields().get("flags", "").split())
    return [flag for flag in NOTABLE_CPU_FLAGS if flag in present]


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def gpus() -> list[dict]:
    """Each visible GPU's name and compute capability, as TensorFlow sees it."""
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        found.append(
            {
                "device": device.name,
                "name": details.get("device_name", "unknown"),
                "compute_capability": ".".join(str(v) for v in details.get("compute_capability", ()) or ()),
            }
        )
    return found


def onednn_setting() -> str:
    """TF_ENABLE_ONEDNN_OPTS as set, or TensorFlow's default (on for x86 Linux builds)."""
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")


def machine_info() -> dict:
    import keras
    import numpy as np
    import psutil
    import tensorflow as tf

    return {
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": usable_cores(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "gpus": gpus(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "onednn": onednn_setting(),
        "load_average_at_start": load_average(),
    }
