"""sketch2color: a reproducible pix2pix pipeline that colours line-art sketches."""

__version__ = "0.1.0"
