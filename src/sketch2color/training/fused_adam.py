"""Keras Adam with TensorFlow's fused update kernel: the same optimiser, one memory pass.

Keras 3's Adam updates each variable with about a dozen separate
element-wise ops (``m += (g - m) * (1 - b1)``, ``v += ...``, ``var -= ...``),
each of which reads and writes a full-size temporary. For the paper's
54-million-parameter generator that is gigabytes of memory traffic per step:
on 2 CPU cores the update alone took 139 ms of a 0.64 s step. TensorFlow's
``ResourceApplyAdam`` kernel does the same update in one pass over
(var, m, v, grad) and took 38 ms. On a GPU it is one kernel launch per
variable instead of a dozen.

It is the same algorithm with the same hyper-parameters:
``lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)``, ``m = b1 m + (1 - b1) g``,
``v = b2 v + (1 - b2) g^2``, ``var -= lr_t m / (sqrt(v) + epsilon)``, with
``t = iterations + 1`` exactly as Keras counts it; only the rounding of the
m and v updates differs (``b1 m + (1 - b1) g`` instead of
``m + (g - m)(1 - b1)``). The slot variables are Keras's own (``momentums``,
``velocities``), so checkpoints written with either class restore into the
other. AMSGrad and sparse gradients take Keras's own path.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="sketch2color")
class FusedAdam(keras.optimizers.Adam):
    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable),
            m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]),
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
            use_locking=False,
            use_nesterov=False,
        )


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (the local copy under tf.distribute)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle
