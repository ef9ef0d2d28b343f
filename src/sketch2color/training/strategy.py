"""``train.strategy`` -> a tf.distribute strategy, so one stage runs on 1..N devices.

``auto`` mirrors over all GPUs when there are several and otherwise uses
TensorFlow's default strategy (no distribution overhead on a laptop).
``mirrored`` mirrors over all GPUs, or over all logical CPU devices where there
is no GPU (that is how the tests run a real two-replica MirroredStrategy).
``multi_worker`` is TensorFlow's own MultiWorkerMirroredStrategy reading the
cluster from ``TF_CONFIG``: every machine runs the same ``dvc repro``/stage and
only the chief writes outputs and tracks the run.
"""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

from sketch2color.config import Strategy
from sketch2color.errors import ConfigError

log = logging.getLogger(__name__)


def make_strategy(kind: Strategy) -> tf.distribute.Strategy:
    # Physical devices only: listing logical ones would start TensorFlow's
    # runtime, after which MultiWorkerMirroredStrategy can no longer be set up.
    gpus = tf.config.list_physical_devices("GPU")
    if kind == "multi_worker":
        _check_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if kind == "auto":
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.get_strategy()
    if kind == "one_device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if kind == "mirrored":
        if gpus:
            return tf.distribute.MirroredStrategy()
        cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=cpus)
    raise ConfigError("train.strategy", kind, "one of 'auto', 'one_device', 'mirrored', 'multi_worker'")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True where this process owns the outputs (always, except on non-chief workers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type in (None, "chief"):
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def describe(strategy: tf.distribute.Strategy) -> str:
    return f"{type(strategy).__name__} with {strategy.num_replicas_in_sync} replica(s)"


def _check_tf_config() -> None:
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise ConfigError(
            "train.strategy",
            "multi_worker",
            "a TF_CONFIG environment variable describing the cluster (see README), "
            "or strategy 'auto' on one machine",
        )
    try:
        config = json.loads(raw)
        config["cluster"]
        config["task"]["type"]
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            "TF_CONFIG", raw, 'JSON like {"cluster": {"worker": [...]}, "task": {"type": ..., "index": ...}}'
        ) from None
