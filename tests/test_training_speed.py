"""The train-step speed work keeps the results: fused Adam, the allocator, the precision policy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketch2color.config import params_from_dict
from sketch2color.training.fused_adam import FusedAdam
from sketch2color.training.precision import (
    FLOAT32_POLICY,
    cpu_flags,
    hardware_computes_16bit,
    have_tensor_cores,
    mixed_policy,
    native_bfloat16,
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


KEEP_FREED_MEMORY = """
import resource, sys
import numpy as np
import pytest
from sketch2color.training.allocator import keep_freed_memory

# 4 KiB pages, as TensorFlow's own allocations get (numpy asks for huge pages for its big arrays).
np._core.multiarray._set_madvise_hugepage(False)

if sys.argv[1] == "kept":
    assert keep_freed_memory()
faults = []
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.ones(64 * 2**20, np.uint8)  # a step's 64 MiB tensor, allocated and freed again
    del block
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(faults[-1])
"""


def _page_faults_of_a_repeated_allocation(mode: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", KEEP_FREED_MEMORY, mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(result.stdout.split()[-1])


def test_keeping_freed_memory_makes_a_repeated_allocation_fault_no_pages():
    """Without the setting every 64 MiB block (above glibc's largest mmap threshold) is mapped afresh,
    16,384 faults of 4 KiB each time; with it the freed pages stay mapped and are reused."""
    default = _page_faults_of_a_repeated_allocation("default")
    kept = _page_faults_of_a_repeated_allocation("kept")
    assert default > 10_000
    assert kept < default / 20


def test_bfloat16_is_native_only_with_avx512_bf16_or_amx_and_float16_needs_tensor_cores():
    assert native_bfloat16({"avx2", "avx512f", "avx512_bf16"}) and native_bfloat16({"amx_bf16"})
    assert not native_bfloat16({"avx2", "fma", "avx512f", "avx512_vnni"})  # Zen 3, Ice Lake
    assert have_tensor_cores([(7, 0), (8, 6)]) and not have_tensor_cores([(8, 0), (6, 1)])


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="reads the kernel's CPU flags")
def test_the_cpu_flags_are_the_kernels_own():
    listed = set(Path("/proc/cpuinfo").read_text().split())
    for flag in ("avx2", "avx512f", "avx512_bf16", "amx_bf16"):
        assert (flag in cpu_flags()) == (flag in listed), flag


def test_auto_precision_builds_16bit_models_exactly_where_the_hardware_computes_16bit():
    assert training_policy(False) == FLOAT32_POLICY
    assert training_policy(True) == mixed_policy()
    native = hardware_computes_16bit()
    assert training_policy("auto") == (mixed_policy() if native else FLOAT32_POLICY)

    config = params_from_dict({"train": {"mixed_precision": "auto", "ngf": 4, "ndf": 4}}).train
    state = build_training_state(config, 32, learning_rate_schedule(2e-4, 1, 0, 10))
    scaled = isinstance(state.generator_optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == native
    assert state.generator.get_layer("skip_1").dtype_policy.name == training_policy("auto")
    assert state.generator.output.dtype == "float32"  # the image and the losses stay float32
