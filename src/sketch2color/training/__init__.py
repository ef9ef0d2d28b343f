"""Training the pix2pix GAN: data, schedule, strategy, checkpoints, the loop and the train stage."""
