"""The pix2pix networks: U-Net generator, PatchGAN discriminator, and their losses."""

from sketch2color.model.discriminator import build_discriminator
from sketch2color.model.generator import build_generator, encoder_filters

__all__ = ["build_discriminator", "build_generator", "encoder_filters"]
