"""Which arithmetic ``train.mixed_precision`` (true, false or auto) means on this machine.

Mixed precision keeps the weights in float32 and computes convolutions in a
16-bit type, which pays only where the hardware multiplies that type natively:

* a GPU: float16 on its tensor cores (``mixed_float16``, compute capability
  7.0 and later), with loss scaling;
* a CPU with AVX512_BF16 or AMX (Intel Cooper Lake / Sapphire Rapids and
  later, AMD Zen 4 and later): bfloat16 through oneDNN (``mixed_bfloat16``).
  Measured on 2 Zen 4 cores: a pix2pix conv's forward and backward pass 1.7
  to 2x faster than float32, the whole 256 px train step 1.6x;
* any other CPU has no fast 16-bit arithmetic; float16 is kept there as it
  always was (correct, but slower than float32: leave mixed precision off).

``auto`` (the default) turns mixed precision on only where it pays, a GPU
with tensor cores or a CPU with native bfloat16, and keeps float32 elsewhere,
so one params.yaml trains at the hardware's best speed on a laptop, a Zen 4
server and a GPU alike. The policy it resolved to is recorded (the train log,
``precision`` in metrics/train.json, the MLflow run's ``precision`` tag) and
hashed into the checkpoint fingerprint: checkpoints of a float32 run and of a
mixed one hold different optimiser state and never resume each other.

bfloat16 has float32's exponent range, so it needs no loss scaling; the
loss-scale optimiser is kept for it anyway (one code path, and its skipping of
non-finite steps), at the cost of one pass over the gradients.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sketch2color.config import MixedPrecision

FLOAT32_POLICY = "float32"
FLOAT16_POLICY = "mixed_float16"
BFLOAT16_POLICY = "mixed_bfloat16"
NATIVE_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags() -> frozenset[str]:
    """The CPU feature flags Linux reports in /proc/cpuinfo (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_bfloat16(flags: Iterable[str]) -> bool:
    """Whether CPU ``flags`` include bfloat16 dot products (AVX512_BF16 or AMX)."""
    return any(flag in NATIVE_BFLOAT16_FLAGS for flag in flags)


def cpu_has_native_bfloat16() -> bool:
    """True on x86 CPUs that advertise bfloat16 dot products."""
    return native_bfloat16(cpu_flags())


def mixed_policy() -> str:
    """The Keras dtype policy for mixed precision on the devices TensorFlow sees."""
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return FLOAT16_POLICY
    return BFLOAT16_POLICY if cpu_has_native_bfloat16() else FLOAT16_POLICY


# Tensor cores, which make float16 pay on NVIDIA GPUs, arrived with Volta (7.0).
TENSOR_CORE_COMPUTE_CAPABILITY = (7, 0)


def hardware_computes_16bit() -> bool:
    """True where mixed precision is faster than float32: GPUs with tensor cores, or a CPU
    with native bfloat16. An older GPU (or one whose capability is unknown) keeps float32."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return have_tensor_cores([_compute_capability(gpu) for gpu in gpus])
    return cpu_has_native_bfloat16()


def have_tensor_cores(capabilities: Iterable[tuple[int, int]]) -> bool:
    """Whether every GPU of these compute capabilities has tensor cores (Volta, 7.0, and later)."""
    return all(tuple(capability) >= TENSOR_CORE_COMPUTE_CAPABILITY for capability in capabilities)


def _compute_capability(gpu) -> tuple[int, int]:
    import tensorflow as tf

    details = tf.config.experimental.get_device_details(gpu)
    return tuple(details.get("compute_capability") or (0, 0))


def training_policy(mixed_precision: MixedPrecision) -> str:
    """The Keras dtype policy the models are built with for ``train.mixed_precision``."""
    if mixed_precision is False:
        return FLOAT32_POLICY
    if mixed_precision == "auto" and not hardware_computes_16bit():
        return FLOAT32_POLICY
    return mixed_policy()
