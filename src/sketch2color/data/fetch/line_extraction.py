"""Draw a sketch from a colour image, so that users can train on their own art.

The Kaggle pairs hold dark line art on white next to each colour image. A
folder of colour-only images has no such half, so ``fetch`` draws one with a
classic, parameter-light edge method. Two are offered (``fetch.sketch_method``):

``xdog`` (default)
    The eXtended Difference of Gaussians of Winnemoeller, Kyprianidis and
    Olsen, "XDoG: An eXtended difference-of-Gaussians compendium including
    advanced image stylization", Computers & Graphics 36(6), 2012. On the
    luminance ``I`` in [0, 1]::

        S = G(sigma) * I  -  tau * G(k * sigma) * I          (tau = p / (1 + p))
        T = 1                               where S >= epsilon
        T = 1 + tanh(phi * (S - epsilon))   elsewhere

    This is the paper's sharpened DoG ``(1 + p) G_sigma - p G_k*sigma``
    divided by ``1 + p``, so that flat regions of any tone land near
    ``(1 - tau) * I`` (above ``epsilon``: white) and only the dark side of an
    edge dips below ``epsilon``. The tanh gives soft, anti-aliased strokes
    instead of a hard binary threshold, closer to a pencil line.

``adaptive``
    A pixel is ink when it is darker than the mean of its neighbourhood by
    more than a constant (``cv2.adaptiveThreshold``, mean method), after a
    small median blur that removes speckle. Crisper and harsher than XDoG,
    and faster; it follows dark outlines already present in cel-shaded art.

Both scale their neighbourhoods with the image: the constants below are for a
512-pixel short side (the Kaggle pair height) and shrink or grow in proportion,
so a thumbnail and a poster give the same look.
"""

from __future__ import annotations

import cv2
import numpy as np

from sketch2color.config import SketchMethod

REFERENCE_SIDE = 512
"""The short side the constants below were tuned for."""

XDOG_SIGMA = 0.9
"""Inner Gaussian at 512 px: about the width of a thin pencil line."""
XDOG_K = 1.6
"""Ratio of the outer to the inner Gaussian (Marr-Hildreth's DoG ~ LoG ratio)."""
XDOG_TAU = 0.985
"""Weight of the outer Gaussian; the paper's p = tau / (1 - tau) ~ 65."""
XDOG_EPSILON = -0.004
"""Threshold on S: slightly below 0, so flat areas and faint texture stay white."""
XDOG_PHI = 250.0
"""Slope of the tanh ramp: higher is crisper, lower is softer and greyer."""

ADAPTIVE_BLOCK = 11
"""Neighbourhood side (odd) at 512 px for the local mean."""
ADAPTIVE_C = 6.0
"""How much darker than its neighbourhood (0-255 units) a pixel must be to be ink."""
ADAPTIVE_MEDIAN = 3
"""Median blur applied before thresholding, against JPEG and paper speckle."""


def extract_sketch(rgb: np.ndarray, method: SketchMethod = "xdog") -> np.ndarray:
    """Dark line art on white, as an RGB uint8 image of the same height and width.

    ``rgb`` is an HxWx3 uint8 array. The sketch is grey (R = G = B) so that it
    looks like the Kaggle sketches, which are black-and-white scans.
    """
    is_rgb = isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.shape[2] == 3
    if not is_rgb or rgb.dtype != np.uint8:
        shape, dtype = getattr(rgb, "shape", None), getattr(rgb, "dtype", None)
        raise ValueError(f"extract_sketch needs an HxWx3 uint8 array, got shape {shape} dtype {dtype}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"extract_sketch needs a non-empty image, got shape {rgb.shape}")
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    scale = min(rgb.shape[0], rgb.shape[1]) / REFERENCE_SIDE
    if method == "xdog":
        lines = _xdog(gray, scale)
    elif method == "adaptive":
        lines = _adaptive(gray, scale)
    else:
        raise ValueError(f"unknown sketch method {method!r}; expected 'xdog' or 'adaptive'")
    return np.repeat(lines[:, :, None], 3, axis=2)


def _xdog(gray: np.ndarray, scale: float) -> np.ndarray:
    luminance = gray.astype(np.float32) / 255.0
    sigma = max(XDOG_SIGMA * scale, 0.3)
    inner = cv2.GaussianBlur(luminance, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REPLICATE)
    outer = cv2.GaussianBlur(luminance, (0, 0), sigmaX=sigma * XDOG_K, borderType=cv2.BORDER_REPLICATE)
    response = inner - XDOG_TAU * outer
    tone = np.where(
        response >= XDOG_EPSILON,
        1.0,
        1.0 + np.tanh(XDOG_PHI * (response - XDOG_EPSILON)),
    )
    return np.clip(np.rint(tone * 255.0), 0, 255).astype(np.uint8)


def _adaptive(gray: np.ndarray, scale: float) -> np.ndarray:
    median = ADAPTIVE_MEDIAN if min(gray.shape) >= 2 * ADAPTIVE_MEDIAN else 1
    smoothed = cv2.medianBlur(gray, median) if median > 1 else gray
    block = max(3, int(round(ADAPTIVE_BLOCK * scale)) | 1)
    return cv2.adaptiveThreshold(
        smoothed, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, ADAPTIVE_C
    )
