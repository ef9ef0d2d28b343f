"""The train-step speed work keeps the results: fused Adam, the allocator, the precision policy."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from sketch2color.config import params_from_dict
from sketch2color.training.allocator import keep_freed_memory
from sketch2color.training.fused_adam import FusedAdam
from sketch2color.training.precision import (
    BFLOAT16_POLICY,
    FLOAT16_POLICY,
    FLOAT32_POLICY,
    hardware_computes_16bit,
    mixed_policy,
    training_policy,
)
from sketch2color.training.schedule import ConstantThenLinearDecay, learning_rate_schedule
from sketch2color.training.state import build_training_state


def _train(optimizer_class, steps: int = 25):
    rng = np.random.default_rng(0)
    initial = [rng.normal(size=(4, 4, 3, 5)).astype("float32"), rng.normal(size=(5,)).astype("float32")]
    grads = [[rng.normal(size=w.shape).astype("float32") for w in initial] for _ in range(steps)]
    variables = [keras.Variable(w) for w in initial]
    optimizer = optimizer_class(learning_rate=ConstantThenLinearDecay(1e-2, steps, steps // 2), beta_1=0.5)
    optimizer.build(variables)

    @tf.function
    def apply(step_grads):
        optimizer.apply_gradients(zip(step_grads, variables, strict=True))

    for step_grads in grads:
        apply([tf.constant(g) for g in step_grads])
    return variables, optimizer


def test_fused_adam_takes_the_same_steps_as_keras_adam():
    keras_vars, keras_opt = _train(keras.optimizers.Adam)
    fused_vars, fused_opt = _train(FusedAdam)
    for expected, got in zip(keras_vars, fused_vars, strict=True):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=2e-6)
    assert int(fused_opt.iterations.numpy()) == int(keras_opt.iterations.numpy()) == 25
    for expected, got in zip(
        keras_opt.variables, fused_opt.variables, strict=True
    ):  # iterations, m and v slots
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=2e-6)


def test_fused_adam_moved_the_weights_and_checkpoints_restore_into_keras_adam(tmp_path):
    fused_vars, fused_opt = _train(FusedAdam)
    path = tf.train.Checkpoint(optimizer=fused_opt, weights=fused_vars).save(str(tmp_path / "ckpt"))
    fresh_vars = [keras.Variable(np.zeros(v.shape, np.float32)) for v in fused_vars]
    fresh_opt = keras.optimizers.Adam(learning_rate=ConstantThenLinearDecay(1e-2, 25, 12), beta_1=0.5)
    fresh_opt.build(fresh_vars)
    tf.train.Checkpoint(optimizer=fresh_opt, weights=fresh_vars).restore(
        path
    ).assert_existing_objects_matched()
    assert int(fresh_opt.iterations.numpy()) == 25
    for expected, got in zip(fused_opt.variables, fresh_opt.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
    assert np.abs(fused_vars[0].numpy()).sum() > 0


def test_keeping_freed_memory_is_harmless_to_call_twice():
    first = keep_freed_memory()
    assert keep_freed_memory() == first
    assert float(tf.reduce_sum(tf.ones((64, 64)))) == 4096.0  # TensorFlow still allocates


def test_mixed_precision_is_float16_on_gpus_and_bfloat16_only_on_cpus_that_compute_it():
    policy = mixed_policy()
    if tf.config.list_physical_devices("GPU"):
        assert policy == FLOAT16_POLICY
    else:
        cpuinfo = Path("/proc/cpuinfo")
        flags = cpuinfo.read_text() if cpuinfo.is_file() else ""
        assert (policy == BFLOAT16_POLICY) == ("avx512_bf16" in flags or "amx_bf16" in flags)


def test_auto_precision_trains_in_16bit_only_where_the_hardware_computes_it():
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text() if cpuinfo.is_file() else ""
    native = bool(tf.config.list_physical_devices("GPU")) or "avx512_bf16" in flags or "amx_bf16" in flags
    assert hardware_computes_16bit() == native
    assert training_policy(False) == FLOAT32_POLICY
    assert training_policy(True) == mixed_policy()

    config = params_from_dict({"train": {"mixed_precision": "auto", "ngf": 4, "ndf": 4}}).train
    state = build_training_state(config, 32, learning_rate_schedule(2e-4, 1, 0, 10))
    scaled = isinstance(state.generator_optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == native
    skip_connection = state.generator.get_layer("skip_1")
    assert skip_connection.dtype_policy.name == (mixed_policy() if native else FLOAT32_POLICY)
