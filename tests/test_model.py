"""The pix2pix networks: the paper's Table 1, the U-Net's shape rules, norms, losses, saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketch2color.model import build_discriminator, build_generator, encoder_filters
from sketch2color.model.losses import discriminator_loss, generator_losses, mean_probability


def is_normalization(layer: keras.layers.Layer) -> bool:
    """Either norm :func:`sketch2color.model.layers.normalization` builds."""
    return isinstance(layer, (keras.layers.BatchNormalization, keras.layers.GroupNormalization))


# The paper's Table 1 (its per-layer parameter counts are misprinted; the
# shapes and the total are what a 70x70 PatchGAN at 256 px really has).
PAPER_TABLE_1 = [
    ("input_image", (None, 256, 256, 3)),
    ("target_image", (None, 256, 256, 3)),
    ("concatenate", (None, 256, 256, 6)),
    ("down_1", (None, 128, 128, 64)),
    ("down_2", (None, 64, 64, 128)),
    ("down_3", (None, 32, 32, 256)),
    ("zero_padding2d", (None, 34, 34, 256)),
    ("conv2d", (None, 31, 31, 512)),
    ("norm", (None, 31, 31, 512)),
    ("leaky_re_lu", (None, 31, 31, 512)),
    ("zero_padding2d_1", (None, 33, 33, 512)),
    ("patch_logits", (None, 30, 30, 1)),
]


def test_discriminator_matches_the_papers_table_1_at_256():
    model = build_discriminator(256, ndf=64, norm="batch")
    assert [(layer.name, tuple(layer.output.shape)) for layer in model.layers] == PAPER_TABLE_1
    assert isinstance(model.get_layer("norm"), keras.layers.BatchNormalization)
    assert isinstance(model.get_layer("down_1"), keras.Sequential)
    assert model.count_params() == 2_770_433
    assert [i.name for i in model.inputs] == ["input_image", "target_image"]


def test_discriminator_first_block_has_no_norm_and_the_others_do():
    model = build_discriminator(64, ndf=8, norm="instance")
    assert not any(is_normalization(layer) for layer in model.get_layer("down_1").layers)
    for name in ("down_2", "down_3"):
        assert sum(is_normalization(layer) for layer in model.get_layer(name).layers) == 1


@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_output_has_the_input_size_and_tanh_range(size):
    generator = build_generator(size, ngf=8, norm="instance")
    sketches = tf.random.uniform((2, size, size, 3), -1.0, 1.0, seed=size)
    colors = generator(sketches, training=True).numpy()
    assert colors.shape == (2, size, size, 3)
    assert colors.dtype == np.float32
    assert np.all(colors >= -1.0) and np.all(colors <= 1.0)
    assert np.std(colors) > 0


@pytest.mark.parametrize("size,blocks", [(16, 4), (32, 5), (64, 6), (128, 7), (256, 8)])
def test_generator_halves_down_to_a_1x1_bottleneck(size, blocks):
    generator = build_generator(size, ngf=4, norm="batch")
    downs = [layer for layer in generator.layers if layer.name.startswith("down_")]
    ups = [layer for layer in generator.layers if layer.name.startswith("up_")]
    assert len(downs) == blocks
    assert len(ups) == blocks - 1
    assert tuple(downs[-1].output.shape) == (None, 1, 1, encoder_filters(size, 4)[-1])


def test_generator_filters_follow_the_paper_scaled_by_ngf():
    assert encoder_filters(256, 64) == [64, 128, 256, 512, 512, 512, 512, 512]
    assert encoder_filters(64, 32) == [32, 64, 128, 256, 256, 256]
    generator = build_generator(256, ngf=64, norm="batch")
    assert [generator.get_layer(f"up_{i}").output.shape[-1] for i in range(1, 8)] == [
        512,
        512,
        512,
        512,
        256,
        128,
        64,
    ]


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_generator_has_no_norm_on_the_first_conv_or_the_bottleneck(norm):
    generator = build_generator(64, ngf=8, norm=norm)
    blocks = {layer.name: layer for layer in generator.layers if isinstance(layer, keras.Sequential)}
    norms = {name: sum(is_normalization(layer) for layer in block.layers) for name, block in blocks.items()}
    assert norms.pop("down_1") == 0
    assert norms.pop("down_6") == 0  # 64 px: the sixth halving is the 1x1 bottleneck
    assert set(norms.values()) == {1}


def test_generator_has_dropout_on_the_first_three_up_blocks_only():
    generator = build_generator(64, ngf=8, norm="instance")
    with_dropout = [
        layer.name
        for layer in generator.layers
        if isinstance(layer, keras.Sequential)
        and any(isinstance(inner, keras.layers.Dropout) for inner in layer.layers)
    ]
    assert with_dropout == ["up_1", "up_2", "up_3"]


def test_weights_are_initialised_from_n_0_002():
    generator = build_generator(64, ngf=32, norm="instance")
    kernel = generator.get_layer("down_4").layers[0].kernel.numpy()
    assert abs(kernel.mean()) < 0.002
    assert kernel.std() == pytest.approx(0.02, rel=0.1)


def test_instance_norm_behaves_the_same_in_training_and_inference_at_any_batch():
    discriminator = build_discriminator(32, ndf=8, norm="instance")  # no dropout: only norms differ
    sketch = tf.random.uniform((3, 32, 32, 3), -1.0, 1.0, seed=1)
    color = tf.random.uniform((3, 32, 32, 3), -1.0, 1.0, seed=2)
    train = discriminator([sketch, color], training=True).numpy()
    infer = discriminator([sketch, color], training=False).numpy()
    single = discriminator([sketch[:1], color[:1]], training=True).numpy()
    np.testing.assert_allclose(train, infer, atol=1e-5)
    np.testing.assert_allclose(single, train[:1], atol=1e-5)


def test_batch_norm_differs_between_training_and_inference():
    """The contrast that makes the instance-norm test meaningful."""
    discriminator = build_discriminator(32, ndf=8, norm="batch")
    sketch = tf.random.uniform((3, 32, 32, 3), -1.0, 1.0, seed=1)
    color = tf.random.uniform((3, 32, 32, 3), -1.0, 1.0, seed=2)
    train = discriminator([sketch, color], training=True).numpy()
    infer = discriminator([sketch, color], training=False).numpy()
    assert np.abs(train - infer).max() > 1e-3


@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_models_round_trip_through_keras_files_in_safe_mode(tmp_path, norm):
    generator = build_generator(32, ngf=8, norm=norm)
    discriminator = build_discriminator(32, ndf=8, norm=norm)
    sketch = tf.random.uniform((2, 32, 32, 3), -1.0, 1.0, seed=3)
    for model, inputs in ((generator, sketch), (discriminator, [sketch, sketch])):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=True, compile=False)
        np.testing.assert_allclose(
            loaded(inputs, training=False).numpy(), model(inputs, training=False).numpy(), atol=1e-6
        )


def test_mixed_precision_models_keep_images_and_logits_in_float32():
    generator = build_generator(32, ngf=8, norm="instance", dtype="mixed_float16")
    discriminator = build_discriminator(32, ndf=8, norm="instance", dtype="mixed_float16")
    sketch = tf.random.uniform((2, 32, 32, 3), -1.0, 1.0, seed=4)
    assert generator.get_layer("down_2").layers[0].compute_dtype == "float16"
    fake = generator(sketch, training=True)
    logits = discriminator([sketch, fake], training=True)
    assert fake.dtype == tf.float32 and logits.dtype == tf.float32
    losses = generator_losses(logits, fake, sketch, lambda_l1=100.0)
    assert losses.total.dtype == tf.float32


def test_generator_loss_is_gan_plus_lambda_times_l1():
    logits = tf.zeros((2, 4, 4, 1))  # sigmoid 0.5: CE against ones is ln 2
    fake = tf.zeros((2, 8, 8, 3))
    target = tf.concat([tf.fill((1, 8, 8, 3), 0.5), tf.fill((1, 8, 8, 3), -1.0)], axis=0)
    losses = generator_losses(logits, fake, target, lambda_l1=100.0)
    np.testing.assert_allclose(losses.gan.numpy(), [np.log(2)] * 2, rtol=1e-6)
    np.testing.assert_allclose(losses.l1.numpy(), [0.5, 1.0], rtol=1e-6)
    np.testing.assert_allclose(losses.total.numpy(), [np.log(2) + 50, np.log(2) + 100], rtol=1e-6)


def test_discriminator_loss_is_factor_times_real_plus_fake_with_one_sided_smoothing():
    confident = tf.fill((1, 4, 4, 1), 20.0)  # "real" with near certainty
    doubtful = tf.fill((1, 4, 4, 1), -20.0)
    perfect = discriminator_loss(confident, doubtful, d_loss_factor=0.5).numpy()
    assert perfect[0] == pytest.approx(0.0, abs=1e-6)
    undecided = discriminator_loss(tf.zeros((1, 4, 4, 1)), tf.zeros((1, 4, 4, 1)), 0.5).numpy()
    assert undecided[0] == pytest.approx(np.log(2), rel=1e-6)  # 0.5 * (ln2 + ln2)
    smoothed = discriminator_loss(confident, doubtful, 0.5, label_smoothing=0.1).numpy()
    assert smoothed[0] == pytest.approx(0.5 * 0.1 * 20.0, rel=1e-3)  # only the real label moved
    assert mean_probability(confident).numpy()[0] == pytest.approx(1.0)
